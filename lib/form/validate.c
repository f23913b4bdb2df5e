/* Record validation: the field rules every write path applies, collecting
 * every failure instead of stopping at the first. Patterns run under the
 * handle's PCRE2 limits so a hostile expression cannot hang a write. */
#include <stdio.h>
#include <string.h>

#include "access/access.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "form_int.h"
#include "store/ddl.h"
#include "store/filter.h"

/* A bound as JSON text for a message: 0, or -1 when memory ran out. */
static int describe(crm_db *db, char *out, size_t size, const crm__field *f, const crm__value *v)
{
	crm__buf b = CRM__BUF_INIT;
	int rc = 0;

	crm__value_write_json(&b, f->value_type, f->scale, v);
	if (b.oom)
		rc = crm__error_oom(db);
	else
		snprintf(out, size, "%s", crm__buf_cstr(&b));
	crm__buf_free(&b);
	return rc ? -1 : 0;
}

/* 0 (matches), 1 (a failure added to errs) or -1 (out of memory, set on db:
 * a failed allocation is never a validation failure). */
static int check_pattern(crm_db *db, const crm__field *f, const crm__value *v, crm__errors *errs)
{
	pcre2_match_context *mctx = crm__regex_context(db);
	pcre2_match_data *md = crm__regex_match_data(db);
	int rc;

	if (!md || !mctx)
		return crm__error_oom(db), -1;
	/* Only "does it match" matters: rc 0 (ovector too small) is a match. */
	rc = pcre2_match(f->re, (PCRE2_SPTR)v->s, v->n, 0, PCRE2_NO_UTF_CHECK, md, mctx);
	if (rc >= 0)
		return 0;
	if (rc == PCRE2_ERROR_NOMEMORY)
		return crm__error_oom(db), -1;
	if (rc == PCRE2_ERROR_NOMATCH)
		crm__errors_add(errs, f->name, "pattern", "%s does not match the pattern %s", f->name, f->pattern);
	else
		crm__errors_add(errs, f->name, "pattern_limit",
				"%s could not be checked against its pattern within the match limits", f->name);
	return 1;
}

/* min/max (inclusive) or exclusive_min/exclusive_max: 1 when `v` is out
 * (a failure added to errs), 0, or -1 (out of memory, set on db). */
static int check_bound(crm_db *db, const crm__field *f, const crm__value *v, int upper, crm__errors *errs)
{
	static const char *const codes[2][2] = { { "min", "exclusive_min" }, { "max", "exclusive_max" } };
	static const char *const words[2][2] = { { "at least", "greater than" }, { "at most", "less than" } };
	int exclusive = (f->flags & (upper ? CRM__F_MAX_EXCLUSIVE : CRM__F_MIN_EXCLUSIVE)) != 0, cmp;
	char text[64];

	if (!(f->flags & (upper ? CRM__F_HAS_MAX : CRM__F_HAS_MIN)))
		return 0;
	cmp = crm__value_compare(v, upper ? &f->max : &f->min);
	if (upper ? cmp < 0 : cmp > 0)
		return 0;
	if (cmp == 0 && !exclusive)
		return 0;
	if (describe(db, text, sizeof text, f, upper ? &f->max : &f->min))
		return -1;
	crm__errors_add(errs, f->name, codes[upper][exclusive], "%s must be %s %s", f->name, words[upper][exclusive], text);
	return 1;
}

int crm__check_value(crm_db *db, const crm__field *f, const crm__value *v, crm__errors *errs)
{
	int failed = 0, p, low, high;

	if (v->kind == CRM__V_NULL)
		return 0;
	if (v->kind == CRM__V_TEXT && (int64_t)v->n > db->limits[CRM_LIMIT_VALUE_LENGTH]) {
		crm__errors_add(errs, f->name, "too_long", "%s is longer than %lld bytes", f->name,
				(long long)db->limits[CRM_LIMIT_VALUE_LENGTH]);
		return 1;
	}
	if ((low = check_bound(db, f, v, 0, errs)) < 0 || (high = check_bound(db, f, v, 1, errs)) < 0)
		return -1;
	failed += low + high;
	if (f->min_length >= 0 || f->max_length >= 0) {
		int64_t len = crm__utf8_length(v->s, v->n);
		if (f->min_length >= 0 && len < f->min_length) {
			crm__errors_add(errs, f->name, "min_length", "%s must have at least %lld characters", f->name,
					(long long)f->min_length);
			failed++;
		}
		if (f->max_length >= 0 && len > f->max_length) {
			crm__errors_add(errs, f->name, "max_length", "%s must have at most %lld characters", f->name,
					(long long)f->max_length);
			failed++;
		}
	}
	if (f->re && (p = check_pattern(db, f, v, errs)) < 0)
		return -1;
	return f->re ? failed + p : failed;
}

/* Does record `id` exist in form `target`? 1, 0, or -1 on error. */
static int ref_exists(crm_db *db, const char *target, int64_t id)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	/* Held until commit: a delete of the target waits, then sees the
	 * reference (restrict, cascade) instead of leaving it dangling. A
	 * read-only handle (crm_form_check) writes none and may lock nothing. */
	crm__sql_exists(&sql, target);
	if (!db->be->readonly(db))
		crm__buf_puts(&sql, db->be->dialect->lock_key_share);
	if (!(st = crm__stmt_take_buf(db, &sql))) {
		crm__form *tf;
		/* Existing records rechecked while a ref is pointed at a form
		 * that is not defined (yet: later in the same crm_apply, or
		 * never): there is no table, so there is no such record. */
		if (db->errcode == CRM_ERROR && crm__form_lookup(db, target, &tf) == CRM_ENOTFOUND) {
			db->errcode = CRM_OK;
			return 0;
		}
		return -1;
	}
	crm__bind_int64(st, 1, id);
	rc = crm__step(st);
	crm__stmt_give(db, st);
	if (rc == CRM_ROW || rc == CRM_DONE)
		return rc == CRM_ROW;
	return -1;
}

/* Whether the actor may read record `id` of form `name`: 1, 0, or -1 with
 * the error set. */
static int ref_visible(crm_db *db, const char *name, int64_t id)
{
	crm__form *target;
	crm__access *a = NULL;
	int rc, seen = 1;

	if (crm__actor_is_system(db))
		return 1;
	if ((rc = crm__form_lookup(db, name, &target)) || (rc = crm__access_open(db, target, &a)))
		return -1;
	rc = a ? crm__access_row(db, a, CRM__ACCESS_READ, target, id, &seen) : CRM_OK;
	crm__access_free(a);
	return rc ? -1 : seen;
}

/* Whether the actor may read record `id` of `form` (unique conflicts name
 * only records the actor may read): 1, 0, or -1 with the error set. */
static int record_visible(crm_db *db, const crm__form *form, int64_t id)
{
	return crm__actor_is_system(db) || !form->access ? 1 : ref_visible(db, form->name, id);
}

int crm__validate_record(crm_db *db, const crm__form *form, const crm__value *values, const unsigned char *skip,
			 crm__errors *errs)
{
	crm__row row = { .fields = values };
	int failed = 0, n;

	for (int i = 0; i < form->nfields; i++) {
		const crm__field *f = &form->fields[i];
		const crm__value *v = &values[i];

		if (skip && skip[i] == CRM__GIVEN_BAD)
			continue;
		if (v->kind == CRM__V_NULL) {
			if ((f->flags & CRM__F_REQUIRED) ||
			    (f->required_when && crm__filter_eval(f->required_when, form, &row))) {
				crm__errors_add(errs, f->name, "required", "%s is required", f->name);
				failed++;
			}
			continue;
		}
		if ((n = crm__check_value(db, f, v, errs)) < 0)
			return -1;
		failed += n;
		if (f->type == CRM_TYPE_REF) {
			int found = ref_exists(db, f->ref_form, v->i);
			/* A ref the actor writes names a record they may read: one
			 * they may not is missing, so ids cannot be probed by refs. */
			if (found > 0 && skip && skip[i] == CRM__GIVEN)
				found = ref_visible(db, f->ref_form, v->i);
			if (found < 0)
				return -1;
			if (!found) {
				crm__errors_add(errs, f->name, "ref", "%s: no %s record with id %lld", f->name, f->ref_form,
						(long long)v->i);
				failed++;
			}
		}
	}
	return failed;
}

int crm__check_uniques(crm_db *db, const crm__form *form, const crm__value *values, int64_t self_id,
		       crm__errors *errs)
{
	int failed = 0;

	for (int i = 0; i < form->nindexes; i++) {
		const crm__index *ix = &form->indexes[i];
		crm__buf sql = CRM__BUF_INIT, names = CRM__BUF_INIT;
		crm__stmt *st;
		int empty = 0, system = 0, rc, p = 1, seen = 1;
		int64_t holder;

		if (!ix->unique)
			continue;
		/* A key naming a system column (owner, id...) has no entry in
		 * `values`: its unique index still enforces it. */
		for (int k = 0; k < ix->nfields; k++)
			system |= ix->fields[k] < 0;
		if (system)
			continue;
		for (int k = 0; k < ix->nfields; k++)
			empty |= values[ix->fields[k]].kind == CRM__V_NULL;
		if (empty && ix->nulls_distinct)
			continue;
		crm__sql_find(db, &sql, form, ix->fields, ix->nfields, 1, " LIMIT 1");
		for (int k = 0; k < ix->nfields; k++) {
			if (k)
				crm__buf_putc(&names, ',');
			crm__buf_puts(&names, form->fields[ix->fields[k]].name);
		}
		if (sql.oom || names.oom || !(st = crm__stmt_take(db, sql.p, sql.len))) {
			if (sql.oom || names.oom)
				crm__error_oom(db);
			crm__buf_free(&sql);
			crm__buf_free(&names);
			return -1;
		}
		crm__bind_int64(st, p++, self_id);
		for (int k = 0; k < ix->nfields; k++)
			crm__value_bind(st, p++, &values[ix->fields[k]]);
		rc = crm__step(st);
		holder = rc == CRM_ROW ? crm__column_int64(st, 0) : 0;
		crm__stmt_give(db, st);
		if (rc == CRM_ROW && (seen = record_visible(db, form, holder)) < 0)
			rc = CRM_EIO;
		if (rc == CRM_ROW) {
			if (seen)
				crm__errors_add(errs, crm__buf_cstr(&names), "unique",
						"%s must be unique: record %lld has the same %s", crm__buf_cstr(&names),
						(long long)holder, ix->nfields > 1 ? "values" : "value");
			else
				crm__errors_add(errs, crm__buf_cstr(&names), "unique",
						"%s must be unique: another record has the same %s", crm__buf_cstr(&names),
						ix->nfields > 1 ? "values" : "value");
			failed++;
		}
		crm__buf_free(&sql);
		crm__buf_free(&names);
		if (rc != CRM_ROW && rc != CRM_DONE)
			return -1;
	}
	return failed;
}
