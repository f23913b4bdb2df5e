/* Deciding a write for the actor, on the one write path (lib/form/record.c,
 * delete.c): the op granted, a rule that reaches the stored row and leaves
 * every written field writable, and that rule's check holding on the row
 * as it would be stored. Evaluated in memory on the record the write path
 * already holds (with the filter evaluator SQL agrees with), before
 * anything is written, so a denial changes nothing; only a "visible"
 * condition asks the database about the record it refers to. */
#include <stdio.h>
#include <string.h>

#include "access_int.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "form/form_int.h"

/* Whether target record `id` is among the rows `tree` (over `form`) allows;
 * NULL tree: whether it exists. */
static int record_matches(crm_db *db, const crm__form *form, const crm__filter *tree, int64_t id, int *out)
{
	crm__buf cond = CRM__BUF_INIT;
	crm__binds binds = { 0 };
	int rc;

	if (tree)
		crm__filter_sql(db->be->dialect, &cond, &binds, tree, form, NULL);
	else
		crm__buf_puts(&cond, "TRUE");
	rc = crm__access_id_matches(db, form, id, &cond, &binds, out);
	crm__buf_free(&cond);
	crm__binds_free(&binds);
	return rc;
}

/* `f` on one record in memory; a visible condition looks its target up. */
static int eval(crm_db *db, const crm__filter *f, const crm__form *form, const crm__row *row, int *out)
{
	const crm__value *v;
	int rc;

	switch (f->op) {
	case CRM__FOP_AND:
	case CRM__FOP_OR:
		*out = f->op == CRM__FOP_AND;
		for (int i = 0; i < f->nkids && *out == (f->op == CRM__FOP_AND); i++)
			if ((rc = eval(db, f->kids[i], form, row, out)))
				return rc;
		return CRM_OK;
	case CRM__FOP_NOT:
		if ((rc = eval(db, f->kids[0], form, row, out)))
			return rc;
		*out = !*out;
		return CRM_OK;
	case CRM__FOP_VISIBLE:
		v = &row->fields[f->column];
		*out = 0;
		if (!f->sub_form || v->kind != CRM__V_INT)
			return CRM_OK;
		return record_matches(db, f->sub_form, f->nkids ? f->kids[0] : NULL, v->i, out);
	default: *out = crm__filter_eval(f, form, row); return CRM_OK;
	}
}

/* NULL filter: every row. */
static int holds(crm_db *db, const crm__filter *f, const crm__form *form, const crm__row *row, int *out)
{
	*out = 1;
	return f ? eval(db, f, form, row, out) : CRM_OK;
}

int crm__access_rule_holds(crm_db *db, const crm__access *a, int i, const crm__row *row, int *out)
{
	return holds(db, a->rows[i], a->form, row, out);
}

static int grants(const crm__access *a, int i, crm__access_op op)
{
	return a->applies[i] && (a->rules->rule[i].ops & (1u << op));
}

int crm__access_row_readable(crm_db *db, const crm__access *a, const crm__row *row, int *out)
{
	int rc;

	*out = 1;
	if (!a)
		return CRM_OK;
	*out = 0;
	for (int i = 0; i < a->rules->n && !*out; i++)
		if (grants(a, i, CRM__ACCESS_READ) && (rc = holds(db, a->rows[i], a->form, row, out)))
			return rc;
	return CRM_OK;
}

static int field_error(crm_db *db, const crm__form *form, int at, int mode)
{
	const char *name = at < form->nfields ? form->fields[at].name : "owner";
	const char *reason = mode == CRM__MODE_HIDDEN ? "hidden" : "read_only";
	crm__buf detail = CRM__BUF_INIT;

	crm__buf_puts(&detail, "\"field\":");
	crm__json_cstr(&detail, name);
	crm__buf_printf(&detail, ",\"reason\":\"%s\"", reason);
	if (detail.oom)
		return crm__error_oom(db);
	crm__error_detail(db, CRM_EPERM, crm__buf_cstr(&detail), "field '%s' is %s", name,
			  mode == CRM__MODE_HIDDEN ? "hidden" : "read-only");
	crm__buf_free(&detail);
	return CRM_EPERM;
}

/* The first written field rule `i` does not let the actor write: its mode
 * index, or -1. A read-only field given the value it has is not written;
 * a hidden one always is (or its value could be guessed by trying). */
static int blocked_field(const crm__access *a, int i, const crm__access_change *c)
{
	const unsigned char *modes = a->rules->rule[i].modes;
	const crm__form *form = a->form;

	for (int j = 0; j <= form->nfields; j++) {
		int given = j < form->nfields ? c->given[j] != 0 : c->owner_given;
		const crm__value *now = j < form->nfields ? &c->values[j] : c->owner;
		const crm__value *old = !c->old ? NULL : j < form->nfields ? &c->old->fields[j] : &c->old->sys[3];

		if (!given || modes[j] == CRM__MODE_WRITABLE)
			continue;
		if (modes[j] == CRM__MODE_READ_ONLY && old && crm__value_same(old, now))
			continue;
		return j;
	}
	return -1;
}

int crm__access_write_begin(crm_db *db, const crm__access *a, crm__access_op op, const crm__access_change *c,
			    unsigned char *cand)
{
	const crm__form *form = a->form;
	int rc, ok, any = 0, blocked = -1, mode = 0;
	char what[64];

	if (op != CRM__ACCESS_CREATE) {
		/* update and delete reach only rows the actor can read */
		if ((rc = crm__access_row_readable(db, a, c->old, &ok)))
			return rc;
		if (!ok)
			return crm__record_missing(db, form, c->id);
	}
	snprintf(what, sizeof what, "%s", crm__access_op_name(op));
	if (!crm__access_grants(a, op))
		return crm__error(db, CRM_EPERM, "denied: no rule of the actor's roles grants %s on %s", what, form->name);
	for (int i = 0; i < a->rules->n; i++) {
		cand[i] = 0;
		if (!grants(a, i, op))
			continue;
		if (op != CRM__ACCESS_CREATE) {
			if ((rc = holds(db, a->rows[i], form, c->old, &ok)))
				return rc;
			if (!ok)
				continue;
		}
		any = 1;
		if (op != CRM__ACCESS_DELETE) {
			int j = blocked_field(a, i, c);
			if (j >= 0) {
				if (blocked < 0 || a->rules->rule[i].modes[j] > mode) {
					blocked = j;
					mode = a->rules->rule[i].modes[j];
				}
				continue;
			}
		}
		cand[i] = 1;
	}
	for (int i = 0; i < a->rules->n; i++)
		if (cand[i])
			return CRM_OK;
	if (!any)
		return crm__error(db, CRM_EPERM, "denied by the rows of every rule granting %s on %s", what, form->name);
	return field_error(db, form, blocked, mode);
}

int crm__access_write_check(crm_db *db, const crm__access *a, const crm__row *now, const unsigned char *cand)
{
	int rc, ok;

	for (int i = 0; i < a->rules->n; i++) {
		const crm__filter *check;
		if (!cand[i])
			continue;
		check = a->rules->rule[i].check ? a->check[i] : a->rows[i];
		if ((rc = holds(db, check, a->form, now, &ok)))
			return rc;
		if (ok)
			return CRM_OK;
	}
	return crm__error(db, CRM_EPERM, "denied: the %s record would be outside the check of every rule that allows it",
			  a->form->name);
}
