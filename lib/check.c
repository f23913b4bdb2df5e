/* crm_form_check: a read-only audit of stored records against their
 * definitions, for drift from writes that bypassed libcrm (raw SQL, other
 * tools): values stored with the wrong type, values the rules refuse (enum
 * options, patterns, required, ranges), references to missing records,
 * stale computed and rollup fields. It sits above the engines, beside
 * crm_apply, because computed and rollup fields belong to the engines above
 * the form engine. It runs in a transaction that is always rolled back. */
#include <string.h>

#include "core/alloc.h"
#include "core/db_int.h"
#include "core/json_scan.h"
#include "form/form_int.h"
#include "report/rollup.h"
#include "store/ddl.h"
#include "store/filter.h"

/* Records listed in the output at most; the counts stay exact. */
#define CHECK_MAX_LISTED 1000

typedef struct checker {
	crm_db *db;
	const char *form;
	crm__buf found; /* the "found" array's members */
	int64_t listed, problems, records, forms;
	int has_computed;      /* the form being checked has computed fields */
	crm__buf text, scratch; /* check_conversion's, reused for every value */
} checker;

/* One record's problems: `errors` as crm__errors holds them. */
static void report(checker *c, int64_t id, const crm__errors *errors)
{
	c->problems += errors->count;
	if (c->listed++ >= CHECK_MAX_LISTED)
		return;
	crm__buf_puts(&c->found, c->found.len ? ",{\"form\":" : "{\"form\":");
	crm__json_cstr(&c->found, c->form);
	crm__buf_puts(&c->found, ",\"record\":");
	crm__buf_i64(&c->found, id);
	crm__buf_putc(&c->found, ',');
	crm__errors_write(&c->found, errors);
	crm__buf_putc(&c->found, '}');
}

static const char *storage_name(crm__storage s)
{
	return s == CRM__S_INTEGER ? "integer" : s == CRM__S_REAL ? "real" : "text";
}

/* The storage class (the dialect's storage_class) of a stored value that
 * fits the field's column. */
static int type_fits(const crm__field *f, const char *type)
{
	if (strcmp(type, "null") == 0 || strcmp(type, storage_name(f->storage)) == 0)
		return 1;
	return f->storage == CRM__S_REAL && strcmp(type, "integer") == 0;
}

/* SELECT id, storage class of each field... of every record, in id order. */
static char *types_sql(const crm__dialect *d, const crm__form *form)
{
	crm__buf sql = CRM__BUF_INIT, col = CRM__BUF_INIT;

	crm__buf_puts(&sql, "SELECT id");
	for (int i = 0; i < form->nfields; i++) {
		crm__buf_puts(&sql, ", ");
		crm__buf_reset(&col);
		crm__sql_ident(&col, form->fields[i].name);
		d->storage_class(&sql, crm__buf_cstr(&col));
	}
	sql.oom |= col.oom;
	crm__buf_free(&col);
	crm__buf_puts(&sql, " FROM ");
	crm__sql_ident(&sql, form->name);
	crm__buf_puts(&sql, " ORDER BY id");
	return sql.oom ? (crm__buf_free(&sql), NULL) : crm__buf_detach(&sql);
}

/* A stored value the write path would refuse as it is (an enum value that
 * is no option, a malformed email or date ...): written as JSON and read
 * back through the write path's own conversion, so both judge alike. */
static int check_conversion(checker *c, const crm__field *f, const crm__value *v, crm__errors *errs)
{
	crm_db *db = c->db;
	crm__buf *text = &c->text, *scratch = &c->scratch;
	crm__jscan sc;
	crm__jval el;
	crm__value back;
	crm__verr err = { 0 };
	int rc = CRM_OK;

	crm__buf_reset(text);
	crm__buf_reset(scratch);
	crm__buf_putc(text, '[');
	crm__value_write_json(text, f->type, f->scale, v);
	crm__buf_putc(text, ']');
	if (text->oom || crm__jscan_init(&sc, text->p, text->len, (int)db->limits[CRM_LIMIT_JSON_DEPTH], scratch) ||
	    crm__jscan_element(&sc, &el) != 1 || crm__buf_reserve(scratch, 3 * el.n + 8))
		rc = crm__error_oom(db);
	else if (crm__value_from_json(&back, f, &el, scratch, (int)db->limits[CRM_LIMIT_JSON_DEPTH], &err)) {
		if (strcmp(err.code, "memory") == 0)
			rc = crm__error_oom(db);
		else
			crm__errors_add(errs, f->name, err.code, "%s", err.message);
	}
	return rc;
}

/* Computed fields whose stored value is not what the expression gives now. */
static int check_computed(crm_db *db, const crm__form *form, const crm__record *rec, const unsigned char *skip,
			  crm__errors *errs)
{
	crm__record fresh;
	crm__buf scratch = CRM__BUF_INIT;
	int rc;

	crm__record_init(&fresh);
	if (crm__record_assign(&fresh, form, rec->values)) {
		crm__record_free(&fresh);
		return crm__error_oom(db);
	}
	rc = crm__hooks.compute ? crm__hooks.compute(db, form, fresh.values, &scratch) : CRM_OK;
	if (rc == CRM_ESCRIPT || rc == CRM_ELIMIT) {
		/* The expression fails on this record: a problem of the record, not
		 * of the check; the message names the field (form.field:line). */
		crm__errors_add(errs, "", "script", "%s", crm_errmsg(db));
		db->errcode = CRM_OK;
		crm__buf_free(&scratch);
		crm__record_free(&fresh);
		return CRM_OK;
	}
	for (int i = 0; rc == CRM_OK && i < form->nfields; i++) {
		const crm__field *f = &form->fields[i];
		if (f->type == CRM_TYPE_COMPUTED && !skip[i] && !crm__value_same(&rec->values[i], &fresh.values[i]))
			crm__errors_add(errs, f->name, "stale", "stored value differs from what the expression gives");
	}
	crm__buf_free(&scratch);
	crm__record_free(&fresh);
	return rc;
}

static int has_computed(const crm__form *form)
{
	for (int i = 0; i < form->nfields; i++)
		if (form->fields[i].type == CRM_TYPE_COMPUTED)
			return 1;
	return 0;
}

/* One record: storage types, the definition's rules and references, computed fields. */
static int check_record(checker *c, crm__form *form, crm__stmt *types, crm__record *rec, unsigned char *skip)
{
	crm_db *db = c->db;
	int64_t id = crm__column_int64(types, 0);
	crm__errors errs = { 0 };
	int rc;

	crm__errors_reset(&errs, db);
	memset(skip, 0, (size_t)form->nfields);
	for (int i = 0; i < form->nfields; i++) {
		const crm__field *f = &form->fields[i];
		const char *type = crm__column_text(types, 1 + i);
		if (type && !type_fits(f, type)) {
			crm__errors_add(&errs, f->name, "type", "stored as %s, not %s", type, storage_name(f->storage));
			skip[i] = CRM__GIVEN_BAD;
		}
	}
	rc = crm__record_load(db, form, id, rec, NULL);
	for (int i = 0; rc == CRM_OK && i < form->nfields; i++) {
		const crm__field *f = &form->fields[i];
		if (!skip[i] && rec->values[i].kind != CRM__V_NULL && f->type != CRM_TYPE_COMPUTED &&
		    f->type != CRM_TYPE_ROLLUP)
			rc = check_conversion(c, f, &rec->values[i], &errs);
	}
	if (rc == CRM_OK && crm__validate_record(db, form, rec->values, skip, &errs) < 0)
		rc = db->errcode;
	if (rc == CRM_OK && c->has_computed)
		rc = check_computed(db, form, rec, skip, &errs);
	if (rc == CRM_OK && errs.json.oom)
		rc = crm__error_oom(db);
	if (rc == CRM_OK && errs.count)
		report(c, id, &errs);
	crm__errors_free(&errs);
	return rc;
}

static int stale_rollup(void *payload, int64_t id, const char *field)
{
	checker *c = payload;
	crm__errors errs = { 0 };

	crm__errors_reset(&errs, c->db);
	crm__errors_add(&errs, field, "stale", "stored value differs from the aggregate of its child records");
	if (errs.json.oom) {
		crm__errors_free(&errs);
		return crm__error_oom(c->db);
	}
	report(c, id, &errs);
	crm__errors_free(&errs);
	return CRM_OK;
}

static int check_form(checker *c, const char *name)
{
	crm_db *db = c->db;
	crm__form *form;
	crm__record rec;
	unsigned char *skip = NULL;
	crm__stmt *types = NULL;
	char *sql = NULL;
	int rc, src = CRM_DONE;

	if ((rc = crm__form_lookup(db, name, &form)))
		return rc;
	crm__form_retain(form);
	crm__record_init(&rec);
	c->form = form->name;
	c->has_computed = has_computed(form);
	c->forms++;
	if (!(sql = types_sql(db->be->dialect, form)) || !(skip = crm__malloc((size_t)form->nfields + 1)))
		rc = crm__error_oom(db);
	else if (!(types = crm__stmt_take(db, sql, strlen(sql))))
		rc = db->errcode;
	while (rc == CRM_OK && (src = crm__step(types)) == CRM_ROW) {
		c->records++;
		rc = check_record(c, form, types, &rec, skip);
	}
	if (rc == CRM_OK && src != CRM_DONE)
		rc = src;
	crm__stmt_give(db, types);
	if (rc == CRM_OK)
		rc = crm__rollup_stale(db, form, stale_rollup, c);
	crm__free(sql);
	crm__free(skip);
	crm__record_free(&rec);
	crm__form_release(form);
	return rc;
}

static int check_all(checker *c)
{
	crm__stmt *st = crm__stmt_take(c->db, "SELECT DISTINCT name FROM crm_meta WHERE kind='form' ORDER BY name",
					  (size_t)-1);
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = CRM_OK, src;

	if (!st)
		return c->db->errcode;
	/* Names first: checking runs statements of its own. */
	while (rc == CRM_OK && (src = crm__step(st)) == CRM_ROW) {
		char **grown = n < cap ? names : crm__realloc(names, (cap = cap ? 2 * cap : 8) * sizeof *names);
		if (!grown || !(grown[n] = crm__strdup(crm__column_text(st, 0)))) {
			names = grown ? grown : names;
			rc = crm__error_oom(c->db);
			break;
		}
		names = grown;
		n++;
	}
	if (rc == CRM_OK && src != CRM_DONE)
		rc = src;
	crm__stmt_give(c->db, st);
	for (size_t i = 0; i < n; i++) {
		if (rc == CRM_OK)
			rc = check_form(c, names[i]);
		crm__free(names[i]);
	}
	crm__free(names);
	return rc;
}

int crm_form_check(crm_db *db, const char *form, char **out)
{
	checker c = { db, NULL, CRM__BUF_INIT, 0, 0, 0, 0, 0, CRM__BUF_INIT, CRM__BUF_INIT };
	crm__buf json = CRM__BUF_INIT;
	int rc;

	if (!db || !out)
		return CRM_EMISUSE;
	*out = NULL;
	if ((rc = crm__enter(db)) || (rc = crm__tx_begin(db)))
		return rc;
	rc = form ? check_form(&c, form) : check_all(&c);
	/* Always undone: the check changes nothing, whatever a script did. */
	crm__tx_end(db, rc ? rc : CRM_ERROR);
	if (rc == CRM_OK) {
		crm__buf_puts(&json, "{\"forms\":");
		crm__buf_i64(&json, c.forms);
		crm__buf_puts(&json, ",\"records\":");
		crm__buf_i64(&json, c.records);
		crm__buf_puts(&json, ",\"problems\":");
		crm__buf_i64(&json, c.problems);
		crm__buf_puts(&json, ",\"truncated\":");
		crm__buf_puts(&json, c.listed > CHECK_MAX_LISTED ? "true" : "false");
		crm__buf_puts(&json, ",\"found\":[");
		crm__buf_put(&json, c.found.p, c.found.len);
		crm__buf_puts(&json, "]}");
		if (c.found.oom || json.oom)
			rc = crm__error_oom(db);
		else
			*out = crm__buf_detach(&json);
	}
	crm__buf_free(&c.found);
	crm__buf_free(&c.text);
	crm__buf_free(&c.scratch);
	crm__buf_free(&json);
	return rc;
}
