/* What the rules mean for the current actor on one form: which rules the
 * actor takes, their filters with the actor's values in place, the fields
 * it may read, and the SQL of the rows an operation reaches. Built per
 * call (a few small filters parsed) so nothing cached can outlive an actor
 * or a definition. */
#include <string.h>

#include "access_int.h"
#include "audit/audit.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "form/form_int.h"

#define MAX_DEPTH 4 /* visible steps, as checked at apply time */

void crm__access_free(crm__access *a)
{
	if (!a)
		return;
	/* a view whose arrays could not be allocated is freed too */
	for (int i = 0; i < a->rules->n; i++) {
		if (a->rows)
			crm__filter_free(a->rows[i]);
		if (a->check)
			crm__filter_free(a->check[i]);
	}
	crm__free(a->rows);
	crm__free(a->check);
	crm__free(a->applies);
	crm__free(a->readable);
	crm__free(a);
}

/* ---- rule filters with the actor's values in place ---- */

/* Replace every condition's "actor" by the actor's value, in place. *applies
 * drops to 0 when the actor lacks a value a condition names. */
static int substitute(crm_db *db, cJSON *node, int *applies)
{
	cJSON *kid, *actor, *op, *v;
	const cJSON *val;

	if (!cJSON_IsObject(node) || !node->child)
		return CRM_OK;
	if (strcmp(node->child->string, "and") == 0 || strcmp(node->child->string, "or") == 0) {
		cJSON_ArrayForEach(kid, node->child)
		if (substitute(db, kid, applies))
			return CRM_ENOMEM;
		return CRM_OK;
	}
	if (strcmp(node->child->string, "not") == 0)
		return substitute(db, node->child, applies);
	if (!(actor = cJSON_GetObjectItemCaseSensitive(node, "actor")))
		return CRM_OK;
	if (!(val = crm__actor_value(db, actor->valuestring))) {
		*applies = 0;
		return CRM_OK;
	}
	op = cJSON_GetObjectItemCaseSensitive(node, "op");
	if (strcmp(op->valuestring, "in") == 0 && cJSON_IsArray(val) && cJSON_GetArraySize(val) == 0) {
		/* in nothing: the condition holds for no record */
		while (node->child)
			cJSON_Delete(cJSON_DetachItemViaPointer(node, node->child));
		return cJSON_AddArrayToObject(node, "or") ? CRM_OK : CRM_ENOMEM;
	}
	if (!(v = cJSON_Duplicate(val, 1)))
		return CRM_ENOMEM;
	if (strcmp(op->valuestring, "in") == 0 && !cJSON_IsArray(v)) {
		cJSON *list = cJSON_CreateArray();
		if (!list || !cJSON_AddItemToArray(list, v)) {
			cJSON_Delete(list);
			cJSON_Delete(v);
			return CRM_ENOMEM;
		}
		v = list;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(node, "actor");
	if (!cJSON_AddItemToObject(node, "value", v)) {
		cJSON_Delete(v);
		return CRM_ENOMEM;
	}
	return CRM_OK;
}

/* The union of the rules of `a` that grant read, as one filter node over
 * a->form, taken out of `a`: NULL *out with *every 1 when some rule reaches
 * every row. */
static int read_union(crm_db *db, crm__access *a, crm__filter **out, int *every)
{
	crm__filter *u;

	*out = NULL;
	*every = 0;
	if (!(u = crm__calloc(1, sizeof *u)) || !(u->kids = crm__calloc((size_t)a->rules->n + 1, sizeof *u->kids))) {
		crm__free(u);
		return crm__error_oom(db);
	}
	u->op = CRM__FOP_OR;
	for (int i = 0; i < a->rules->n; i++) {
		if (!a->applies[i] || !(a->rules->rule[i].ops & (1u << CRM__ACCESS_READ)))
			continue;
		if (!a->rows[i]) {
			*every = 1;
			break;
		}
		u->kids[u->nkids++] = a->rows[i];
		a->rows[i] = NULL;
	}
	if (*every) {
		crm__filter_free(u);
		return CRM_OK;
	}
	*out = u;
	return CRM_OK;
}

/* Give each visible condition of `f` its target form and the target's read
 * restriction for the actor. */
static int resolve_visible(crm_db *db, const crm__form *form, crm__filter *f, int depth)
{
	crm__form *target;
	crm__access *ta;
	crm__filter *u;
	int rc, every;

	if (f->op == CRM__FOP_AND || f->op == CRM__FOP_OR || f->op == CRM__FOP_NOT) {
		for (int i = 0; i < f->nkids; i++)
			if ((rc = resolve_visible(db, form, f->kids[i], depth)))
				return rc;
		return CRM_OK;
	}
	if (f->op != CRM__FOP_VISIBLE || depth >= MAX_DEPTH)
		return CRM_OK; /* too deep: stays unresolved, which matches nothing */
	if ((rc = crm__form_lookup(db, form->fields[f->column].ref_form, &target)))
		return rc == CRM_ENOTFOUND ? CRM_OK : rc;
	if ((rc = crm__access_open_at(db, target, depth + 1, &ta)))
		return rc;
	crm__form_retain(target);
	f->sub_form = target;
	if (!ta)
		return CRM_OK; /* open target: every record of it */
	rc = read_union(db, ta, &u, &every);
	crm__access_free(ta);
	if (rc || every)
		return rc;
	if (!(f->kids = crm__calloc(1, sizeof *f->kids))) {
		crm__filter_free(u);
		return crm__error_oom(db);
	}
	f->kids[0] = u;
	f->nkids = 1;
	return CRM_OK;
}

int crm__access_rule_filter(crm_db *db, const crm__form *form, const cJSON *json, int depth, crm__filter **out,
			    int *applies)
{
	cJSON *copy = cJSON_Duplicate(json, 1);
	int rc;

	*out = NULL;
	*applies = 1;
	if (!copy)
		return crm__error_oom(db);
	if (substitute(db, copy, applies)) {
		cJSON_Delete(copy);
		return crm__error_oom(db);
	}
	if (*applies && !(*out = crm__filter_parse(db, form, copy, "rule", CRM__FILTER_VISIBLE))) {
		/* A value that does not fit the field (a number for a text field,
		 * an array for eq) matches nothing: the rule grants nothing. */
		if (db->errcode == CRM_ENOMEM) {
			cJSON_Delete(copy);
			return CRM_ENOMEM;
		}
		db->errcode = CRM_OK; /* not the caller's error: the call goes on */
		db->erroffset = -1;
		*applies = 0;
	}
	cJSON_Delete(copy);
	if (*out && (rc = resolve_visible(db, form, *out, depth))) {
		crm__filter_free(*out);
		*out = NULL;
		return rc;
	}
	return CRM_OK;
}

/* ---- the view ---- */

static int takes_roles(crm_db *db, const crm__access_rule *r)
{
	if (r->nroles == 0)
		return 1;
	for (int i = 0; i < r->nroles; i++)
		if (crm__actor_has_role(db, r->roles[i]))
			return 1;
	return 0;
}

int crm__access_open_at(crm_db *db, const crm__form *form, int depth, crm__access **out)
{
	const crm__access_rules *rules = form->access;
	crm__access *a;
	size_t n;
	int rc;

	*out = NULL;
	if (!rules || crm__actor_is_system(db))
		return CRM_OK;
	n = (size_t)rules->n;
	if (!(a = crm__calloc(1, sizeof *a)))
		return crm__error_oom(db);
	a->db = db;
	a->form = form;
	a->rules = rules;
	a->applies = crm__calloc(n + 1, 1);
	a->rows = crm__calloc(n + 1, sizeof *a->rows);
	a->check = crm__calloc(n + 1, sizeof *a->check);
	a->readable = crm__calloc((size_t)form->nfields + 1, 1);
	if (!a->applies || !a->rows || !a->check || !a->readable) {
		crm__access_free(a);
		return crm__error_oom(db);
	}
	for (int i = 0; i < rules->n; i++) {
		const crm__access_rule *r = &rules->rule[i];
		int ok = takes_roles(db, r);

		if (ok && r->rows && (rc = crm__access_rule_filter(db, form, r->rows, depth, &a->rows[i], &ok))) {
			crm__access_free(a);
			return rc;
		}
		if (ok && r->check && (rc = crm__access_rule_filter(db, form, r->check, depth, &a->check[i], &ok))) {
			crm__access_free(a);
			return rc;
		}
		if (!ok)
			continue;
		a->applies[i] = 1;
		a->ops |= r->ops;
		if (r->ops & (1u << CRM__ACCESS_READ))
			for (int j = 0; j <= form->nfields; j++)
				a->readable[j] |= r->modes[j] != CRM__MODE_HIDDEN;
	}
	/* the fields an actor reads are the top view's; deeper ones serve rows only */
	if (depth == 0 && (rc = crm__access_rollups(db, a))) {
		crm__access_free(a);
		return rc;
	}
	*out = a;
	return CRM_OK;
}

int crm__access_open(crm_db *db, const crm__form *form, crm__access **out)
{
	return crm__access_open_at(db, form, 0, out);
}

int crm__access_grants(const crm__access *a, crm__access_op op) { return !a || (a->ops & (1u << op)) != 0; }

int crm__access_readable(const crm__access *a, int column)
{
	int at;

	if (!a || (at = crm__access_mode_index(a->form, column)) < 0)
		return 1;
	return a->readable[at];
}

const unsigned char *crm__access_readable_mask(const crm__access *a) { return a ? a->readable : NULL; }

int crm__access_hidden_error(crm_db *db, const crm__form *form, int column)
{
	const char *name = column >= 0 ? form->fields[column].name : crm__system_columns[-column - 1];
	crm__buf detail = CRM__BUF_INIT;

	crm__buf_puts(&detail, "\"field\":");
	crm__json_cstr(&detail, name);
	crm__buf_puts(&detail, ",\"reason\":\"hidden\"");
	if (detail.oom)
		return crm__error_oom(db);
	crm__error_detail(db, CRM_EPERM, crm__buf_cstr(&detail), "field '%s' is hidden", name);
	crm__buf_free(&detail);
	return CRM_EPERM;
}

int crm__access_filter_readable(crm_db *db, const crm__access *a, const crm__form *form, const crm__filter *f)
{
	int rc;

	if (!a || !f)
		return CRM_OK;
	if (f->op == CRM__FOP_AND || f->op == CRM__FOP_OR || f->op == CRM__FOP_NOT) {
		for (int i = 0; i < f->nkids; i++)
			if ((rc = crm__access_filter_readable(db, a, form, f->kids[i])))
				return rc;
		return CRM_OK;
	}
	return crm__access_readable(a, f->column) ? CRM_OK : crm__access_hidden_error(db, form, f->column);
}

/* The union of the rows the granting rules of `op` reach. */
static void union_sql(const crm__access *a, crm__access_op op, const crm__dialect *d, crm__buf *sql, crm__binds *binds,
		      const char *alias)
{
	int n = 0;

	for (int i = 0; i < a->rules->n; i++)
		if (a->applies[i] && (a->rules->rule[i].ops & (1u << op))) {
			if (!a->rows[i]) {
				crm__buf_puts(sql, "TRUE");
				return;
			}
			n++;
		}
	if (n == 0) {
		crm__buf_puts(sql, "FALSE");
		return;
	}
	crm__buf_putc(sql, '(');
	n = 0;
	for (int i = 0; i < a->rules->n; i++)
		if (a->applies[i] && (a->rules->rule[i].ops & (1u << op))) {
			if (n++)
				crm__buf_puts(sql, " OR ");
			crm__filter_sql(d, sql, binds, a->rows[i], a->form, alias);
		}
	crm__buf_putc(sql, ')');
}

void crm__access_where_sql(const crm__access *a, crm__access_op op, const crm__dialect *d, crm__buf *sql,
			   crm__binds *binds, const char *alias)
{
	if (!a) {
		crm__buf_puts(sql, "TRUE");
		return;
	}
	if (op == CRM__ACCESS_UPDATE || op == CRM__ACCESS_DELETE) {
		/* they reach only rows the actor can read */
		crm__buf_putc(sql, '(');
		union_sql(a, CRM__ACCESS_READ, d, sql, binds, alias);
		crm__buf_puts(sql, " AND ");
		union_sql(a, op, d, sql, binds, alias);
		crm__buf_putc(sql, ')');
		return;
	}
	union_sql(a, op, d, sql, binds, alias);
}

int crm__access_restrict(crm_db *db, const crm__form *form, crm__access_op op, const char *alias, const char *conj,
			 crm__buf *sql, crm__binds *binds, crm__access **hold)
{
	int rc = crm__access_open(db, form, hold);

	if (rc || !*hold)
		return rc;
	crm__buf_puts(sql, conj);
	crm__access_where_sql(*hold, op, db->be->dialect, sql, binds, alias);
	return CRM_OK;
}

int crm__access_id_matches(crm_db *db, const crm__form *form, int64_t id, const crm__buf *cond, crm__binds *binds,
			   int *out)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	*out = 0;
	crm__buf_puts(&sql, "SELECT 1 FROM ");
	crm__sql_ident(&sql, form->name);
	crm__buf_puts(&sql, " WHERE \"id\" = ? AND ");
	crm__buf_put(&sql, cond->p, cond->len);
	if (binds->oom || cond->oom) {
		crm__buf_free(&sql);
		return crm__error_oom(db);
	}
	if (!(st = crm__stmt_take_buf(db, &sql)))
		return db->errcode;
	crm__bind_int64(st, 1, id);
	rc = crm__binds_apply(binds, st, 2, NULL, NULL);
	if (rc == CRM_OK) {
		rc = crm__step(st);
		*out = rc == CRM_ROW;
		rc = rc == CRM_ROW || rc == CRM_DONE ? CRM_OK : rc;
	}
	crm__stmt_give(db, st);
	return rc;
}

int crm__access_row(crm_db *db, const crm__access *a, crm__access_op op, const crm__form *form, int64_t id, int *out)
{
	crm__buf cond = CRM__BUF_INIT;
	crm__binds binds = { 0 };
	int rc;

	crm__access_where_sql(a, op, db->be->dialect, &cond, &binds, NULL);
	rc = crm__access_id_matches(db, form, id, &cond, &binds, out);
	crm__buf_free(&cond);
	crm__binds_free(&binds);
	return rc;
}

int crm__access_denied(crm_db *db, const crm__form *form, int64_t id, const char *op, int code)
{
	/* Audited once the denied write's transaction has ended (its failure
	 * to be recorded is the audit trail's to report: the denial stands). */
	crm__audit_denied(db, form->name, id, op, crm_errmsg(db));
	return code;
}
