/* Records: parsing input objects and the single write path (insert,
 * update, delete with reference rules), plus the public single-record API. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "form_int.h"
#include "store/ddl.h"

void crm__record_init(crm__record *rec) { memset(rec, 0, sizeof *rec); }

int crm__record_reset(crm__record *rec, const crm__form *form)
{
	size_t n = (size_t)form->nfields;

	crm__free(rec->values);
	crm__free(rec->given);
	rec->values = crm__calloc(n, sizeof *rec->values);
	rec->given = crm__calloc(n, 1);
	memset(&rec->owner, 0, sizeof rec->owner);
	rec->owner_given = 0;
	crm__buf_reset(&rec->strings);
	crm__buf_reset(&rec->computed);
	return rec->values && rec->given ? 0 : -1;
}

/* Clear values for the next record of the same form, keeping the memory. */
void crm__record_clear(crm__record *rec, const crm__form *form)
{
	memset(rec->values, 0, (size_t)form->nfields * sizeof *rec->values);
	memset(rec->given, 0, (size_t)form->nfields);
	memset(&rec->owner, 0, sizeof rec->owner);
	rec->owner_given = 0;
	crm__buf_reset(&rec->strings);
	crm__buf_reset(&rec->computed);
}

int crm__record_assign(crm__record *dst, const crm__form *form, const crm__value *values)
{
	size_t total = 0;

	if (crm__record_reset(dst, form))
		return -1;
	for (int i = 0; i < form->nfields; i++)
		total += values[i].kind == CRM__V_TEXT ? values[i].n : 0;
	if (crm__buf_reserve(&dst->strings, total))
		return -1;
	for (int i = 0; i < form->nfields; i++) {
		dst->values[i] = values[i];
		if (values[i].kind == CRM__V_TEXT) {
			dst->values[i].s = dst->strings.p + dst->strings.len;
			crm__buf_put(&dst->strings, values[i].s, values[i].n);
		}
	}
	return 0;
}

void crm__record_free(crm__record *rec)
{
	crm__free(rec->values);
	crm__free(rec->given);
	crm__buf_free(&rec->strings);
	crm__buf_free(&rec->computed);
	crm__record_init(rec);
}

int crm__record_parse(crm_db *db, const crm__form *form, const char *json, size_t len, crm__record *rec,
		      crm__errors *errs)
{
	int depth = (int)db->limits[CRM_LIMIT_JSON_DEPTH];
	crm__jscan sc;
	crm__jval key, val;
	crm__verr verr;
	int r, next = 0;

	crm__record_clear(rec, form);
	/* Room for decoded strings and converted values, so no pointer moves. */
	if (crm__buf_reserve(&rec->strings, 4 * len + 64) || crm__jscan_init(&sc, json, len, depth, &rec->strings))
		return crm__error_oom(db);
	while ((r = crm__jscan_member(&sc, &key, &val)) == 1) {
		crm__field *f = crm__form_field_near(form, key.p, key.n, next);
		char name[80];

		if (!f) {
			snprintf(name, sizeof name, "%.*s", (int)(key.n > 64 ? 64 : key.n), key.p);
			if (memchr(key.p, 0, key.n)) /* the name printed ends at it */
				crm__errors_add(errs, name, "nul", "a field name cannot contain U+0000 (\\u0000)");
			else if (strcmp(name, "owner") == 0) {
				if (val.type == CRM__J_STRING && memchr(val.p, 0, val.n))
					crm__errors_add(errs, "owner", "nul", "owner contains U+0000 (\\u0000), which no text may hold");
				else if (val.type == CRM__J_STRING && val.n > 0) {
					rec->owner.kind = CRM__V_TEXT;
					rec->owner.s = val.p;
					rec->owner.n = val.n;
				} else if (val.type != CRM__J_NULL && !(val.type == CRM__J_STRING && val.n == 0))
					crm__errors_add(errs, "owner", "type", "owner must be a string or null");
				rec->owner_given = 1;
			} else if (crm__is_system_column(name))
				crm__errors_add(errs, name, "readonly", "%s is maintained by libcrm and cannot be set", name);
			else
				crm__errors_add(errs, name, "unknown_field", "form %s has no field '%s'", form->name, name);
			continue;
		}
		if (rec->given[f->position]) {
			crm__errors_add(errs, f->name, "duplicate", "%s is given twice", f->name);
			continue;
		}
		rec->given[f->position] = CRM__GIVEN;
		next = f->position + 1;
		if (crm__value_from_json(&rec->values[f->position], f, &val, &rec->strings, depth, &verr)) {
			crm__errors_add(errs, f->name, verr.code, "%s", verr.message);
			rec->given[f->position] = CRM__GIVEN_BAD;
		}
	}
	if (r < 0) {
		crm__error(db, CRM_EINVAL, "record for %s is not a valid JSON object: %s at byte %zu", form->name,
			   sc.err ? sc.err : "syntax error", sc.err_pos);
		db->erroffset = (int)sc.err_pos;
		return CRM_EINVAL;
	}
	return CRM_OK;
}

/* Read record `id` with `st` (the form's get statement, or one with a row
 * lock) into `cur` and `sys`; `st` is reset. */
static int load_row(crm_db *db, crm__form *form, crm__stmt *st, int64_t id, crm__record *cur, crm__value *sys)
{
	int rc;

	if (crm__record_reset(cur, form)) {
		crm__reset(st);
		return crm__error_oom(db);
	}
	crm__bind_int64(st, 1, id);
	rc = crm__step(st);
	if (rc == CRM_ROW) {
		size_t total = 0;
		for (int i = 0; i < form->nfields; i++)
			total += (size_t)crm__column_bytes(st, CRM__SEL_FIELD(i)) + 1;
		if (crm__buf_reserve(&cur->strings, total)) {
			crm__reset(st);
			return crm__error_oom(db);
		}
		for (int i = 0; i < form->nfields; i++) {
			crm__value *v = &cur->values[i];
			crm__value_column(v, &form->fields[i], st, CRM__SEL_FIELD(i));
			if (v->kind == CRM__V_TEXT) {
				size_t at = cur->strings.len;
				crm__buf_put(&cur->strings, v->s, v->n);
				v->s = cur->strings.p + at;
			}
		}
		if (sys) {
			size_t at;
			sys[0].kind = CRM__V_INT;
			sys[0].i = id;
			for (int k = 0; k < 4; k++) {
				int col = CRM__SEL_SYS(form, k);
				crm__value *v = &sys[k + 1];
				if (crm__column_type(st, col) == CRM__SQL_NULL)
					v->kind = CRM__V_NULL;
				else if (k == 2) { /* owner: text kept with the record */
					v->kind = CRM__V_TEXT;
					v->n = (size_t)crm__column_bytes(st, col);
					at = cur->computed.len;
					crm__buf_put(&cur->computed, crm__column_text(st, col), v->n);
					v->s = NULL;
					v->i = (int64_t)at;
				} else {
					v->kind = CRM__V_INT;
					v->i = crm__column_int64(st, col);
				}
			}
			if (sys[3].kind == CRM__V_TEXT)
				sys[3].s = cur->computed.oom ? "" : cur->computed.p + sys[3].i;
		}
		rc = CRM_OK;
	} else if (rc == CRM_DONE)
		rc = crm__error(db, CRM_ENOTFOUND, "no %s record with id %lld", form->name, (long long)id);
	crm__reset(st);
	return rc;
}

int crm__record_load(crm_db *db, crm__form *form, int64_t id, crm__record *cur, crm__value *sys)
{
	crm__stmt *st = crm__form_get_stmt(db, form);

	return st ? load_row(db, form, st, id, cur, sys) : db->errcode;
}

int crm__record_load_locked(crm_db *db, crm__form *form, int64_t id, crm__record *cur, crm__value *sys,
			    const char *lock)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	if (!*lock)
		return crm__record_load(db, form, id, cur, sys);
	crm__sql_get(&sql, form);
	crm__buf_puts(&sql, lock);
	if (!(st = crm__stmt_take_buf(db, &sql)))
		return db->errcode;
	rc = load_row(db, form, st, id, cur, sys);
	crm__stmt_give(db, st);
	return rc;
}

int crm__record_lock(crm_db *db, const char *table, int64_t id, const char *lock, int *found)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	if (found)
		*found = 1;
	if (!*lock)
		return CRM_OK;
	crm__sql_exists(&sql, table);
	crm__buf_puts(&sql, lock);
	if (!(st = crm__stmt_take_buf(db, &sql)))
		return db->errcode;
	crm__bind_int64(st, 1, id);
	/* Nobody waits for the answer: the lock goes with the next statement,
	 * which runs after it. */
	rc = found ? crm__step(st) : crm__step_later(db, st);
	crm__stmt_give(db, st);
	if (found)
		*found = rc == CRM_ROW;
	return rc == CRM_ROW || rc == CRM_DONE ? CRM_OK : rc;
}

static int load_version(crm_db *db, crm__form *form, int64_t id, crm__record *cur, int64_t *version)
{
	crm__value sys[5];
	int rc = crm__record_load_locked(db, form, id, cur, sys, db->be->dialect->lock_no_key_update);

	*version = rc == CRM_OK ? sys[4].i : 0;
	return rc;
}

/* After a unique index refused a write: say which constraint, with which record. */
static int unique_failure(crm_db *db, crm__write *w, const crm__value *values, int src)
{
	char msg[256];
	int n;

	/* crm__check_uniques runs statements of its own: keep the database's message. */
	snprintf(msg, sizeof msg, "%s", crm_errmsg(db));
	n = crm__check_uniques(db, w->form, values, w->op == CRM__WRITE_INSERT ? 0 : w->id, w->errs);
	if (n < 0)
		return db->errcode;
	if (n == 0)
		return crm__error(db, src, "%s", msg);
	return CRM_ECONSTRAINT;
}

/* Step an update that a unique key may refuse, the engine then naming the
 * key (crm__step_write's savepoint). A form without unique keys gives it
 * nothing to go on from: no savepoint, and nobody waits for its outcome,
 * so it goes to the server with the next statement (crm__step_later; its
 * failure fails that one, or the call's end at the latest). */
static int step_keyed(crm_db *db, const crm__form *form, crm__stmt *st)
{
	for (int i = 0; i < form->nindexes; i++)
		if (form->indexes[i].unique)
			return crm__step_write(db, st);
	return crm__step_later(db, st);
}

static int validate(crm_db *db, crm__write *w, const crm__value *old, const crm__value *values, int64_t self_id)
{
	int n = crm__validate_record(db, w->form, values, w->rec ? w->rec->given : NULL, w->errs);

	if (n < 0)
		return db->errcode;
	/* The form's own validators judge a record whose fields are sound. */
	if (w->errs->count == 0 && w->form->nvalidators && crm__hooks.validate &&
	    crm__hooks.validate(db, w->form, old, values, w->errs) < 0)
		return db->errcode;
	if (w->errs->count == 0)
		return CRM_OK;
	/* Report broken uniques along with the other failures. */
	if (crm__check_uniques(db, w->form, values, self_id, w->errs) < 0)
		return db->errcode;
	return CRM_ECONSTRAINT;
}

static int has_computed(const crm__form *form)
{
	for (int i = 0; i < form->nfields; i++)
		if (form->fields[i].type == CRM_TYPE_COMPUTED)
			return 1;
	return 0;
}

static int compute(crm_db *db, const crm__form *form, crm__record *rec)
{
	if (!crm__hooks.compute || !has_computed(form))
		return CRM_OK;
	return crm__hooks.compute(db, form, rec->values, &rec->computed);
}

static int after_write(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now)
{
	return crm__hooks.after_write ? crm__hooks.after_write(db, w, old, now) : CRM_OK;
}

static void bind_owner(crm_db *db, crm__stmt *st, int idx, const crm__record *rec)
{
	if (rec->owner_given)
		crm__value_bind(st, idx, &rec->owner);
	else if (db->actor_user)
		crm__bind_text(st, idx, db->actor_user, -1);
	else
		crm__bind_null(st, idx);
}

/* An insert's values as stored: defaults for what was not given, then the
 * computed fields. */
static int fill(crm_db *db, crm__write *w)
{
	crm__form *form = w->form;
	crm__record *rec = w->rec;

	for (int i = 0; i < form->nfields; i++)
		if (!rec->given[i] && (form->fields[i].flags & CRM__F_HAS_DEFAULT))
			rec->values[i] = form->fields[i].def;
	return compute(db, form, rec);
}

/* Queue the bound INSERT when the caller asked and nothing after it needs
 * its id; 1 when queued (or failing to), with *rc its outcome. */
static int queue_insert(crm_db *db, crm__write *w, crm__stmt *st, int *rc)
{
	if (!w->done || !db->be->queue || (crm__hooks.watches_inserts && crm__hooks.watches_inserts(db, w->form)))
		return 0;
	*rc = db->be->queue(st, w->done, w->done_payload);
	w->queued = *rc == CRM_OK;
	crm__reset(st);
	return 1;
}

static int do_insert(crm_db *db, crm__write *w)
{
	crm__form *form = w->form;
	crm__record *rec = w->rec;
	const char *skip = db->be->dialect->insert_skip_conflict;
	crm__stmt *st;
	int64_t now = crm_now(db);
	int rc, n = form->nfields;

	if ((rc = fill(db, w)) || (rc = validate(db, w, NULL, rec->values, 0)))
		return rc;
	if (!(st = crm__form_insert_stmt(db, form)))
		return db->errcode;
	for (int i = 0; i < n; i++)
		crm__value_bind(st, i + 1, &rec->values[i]);
	crm__bind_int64(st, n + 1, now);
	crm__bind_int64(st, n + 2, now);
	bind_owner(db, st, n + 3, rec);
	if (queue_insert(db, w, st, &rc))
		return rc;
	if (*skip) {
		/* The conflict skipped the row: no id came back. */
		if ((rc = crm__step(st)) == CRM_DONE)
			rc = crm__error(db, CRM_ECONSTRAINT, "UNIQUE constraint failed: %s", form->name);
	} else
		rc = crm__step_write(db, st);
	if (rc == CRM_DONE || rc == CRM_ROW)
		w->id = crm__inserted_id(st);
	crm__reset(st);
	if (rc == CRM_DONE || rc == CRM_ROW)
		return after_write(db, w, NULL, rec->values);
	if (rc == CRM_ECONSTRAINT)
		return unique_failure(db, w, rec->values, rc);
	return rc;
}

static int do_update(crm_db *db, crm__write *w, crm__record *cur, crm__value **old)
{
	crm__form *form = w->form;
	crm__record *rec = w->rec;
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int64_t version, now = crm_now(db);
	int rc, p = 1, computed = has_computed(form);

	/* Held to the end: the version compared here is the one the UPDATE
	 * moves on, and the fields not given are written back unchanged. A
	 * caller that holds the record already (a transition, which locked it)
	 * gives it as it is. */
	if (w->known && w->known->values && w->known->form == form) {
		if (crm__record_assign(cur, form, w->known->values))
			return crm__error_oom(db);
		version = w->known->version;
	} else if ((rc = load_version(db, form, w->id, cur, &version)))
		return rc;
	/* The record as it was, for hooks that compare before and after. */
	if (!(*old = crm__calloc((size_t)form->nfields, sizeof **old)))
		return crm__error_oom(db);
	memcpy(*old, cur->values, (size_t)form->nfields * sizeof **old);
	if (w->expected_version > 0 && version != w->expected_version)
		return crm__error(db, CRM_ECONFLICT, "%s record %lld is at version %lld, not %lld", form->name,
				  (long long)w->id, (long long)version, (long long)w->expected_version);
	for (int i = 0; i < form->nfields; i++)
		if (rec->given[i] == CRM__GIVEN)
			cur->values[i] = rec->values[i];
	if ((rc = compute(db, form, cur)) || (rc = validate(db, w, *old, cur->values, w->id)))
		return rc;
	/* Write the given fields and the recomputed ones. */
	for (int i = 0; i < form->nfields; i++)
		rec->given[i] |= computed && form->fields[i].type == CRM_TYPE_COMPUTED;
	crm__sql_update(&sql, form, rec->given, rec->owner_given);
	st = crm__stmt_take_buf(db, &sql);
	if (!st)
		return db->errcode;
	for (int i = 0; i < form->nfields; i++)
		if (rec->given[i])
			crm__value_bind(st, p++, &cur->values[i]);
	if (rec->owner_given)
		crm__value_bind(st, p++, &rec->owner);
	crm__bind_int64(st, p++, now);
	crm__bind_int64(st, p, w->id);
	rc = step_keyed(db, form, st);
	crm__stmt_give(db, st);
	/* The owner's text would need a place of its own: left to a read. */
	if (rc == CRM_DONE && w->known && w->known->written && !rec->owner_given) {
		if (crm__record_assign(&w->known->written->rec, form, cur->values))
			return crm__error_oom(db);
		w->known->written->updated_at = now;
		w->known->written->ok = 1;
	}
	if (rc == CRM_DONE)
		return after_write(db, w, *old, cur->values);
	if (rc == CRM_ECONSTRAINT)
		return unique_failure(db, w, cur->values, rc);
	return rc;
}

int crm__record_insert_conflict(crm_db *db, crm__write *w)
{
	int rc = fill(db, w);

	if (rc)
		return rc;
	crm__error(db, CRM_ECONSTRAINT, "UNIQUE constraint failed: %s", w->form->name);
	return unique_failure(db, w, w->rec->values, CRM_ECONSTRAINT);
}

int crm__record_write(crm_db *db, crm__write *w)
{
	crm__record cur;
	crm__value *old = NULL;
	int rc;

	db->record_writes++;
	crm__record_init(&cur);
	switch (w->op) {
	case CRM__WRITE_INSERT: rc = do_insert(db, w); break;
	case CRM__WRITE_UPDATE: rc = do_update(db, w, &cur, &old); break;
	default: rc = crm__record_delete(db, w); break;
	}
	crm__free(old);
	crm__record_free(&cur);
	return rc;
}

/* ---- public API ---- */

/* Look up the form and parse `json` into `rec`; input problems are raised. */
static int prepare_input(crm_db *db, const char *form_name, const char *json, crm__form **form, crm__record *rec,
			 crm__errors *errs)
{
	int rc;

	if (!json)
		return crm__error(db, CRM_EMISUSE, "no record JSON given");
	if ((rc = crm__form_lookup(db, form_name, form)))
		return rc;
	if (crm__record_reset(rec, *form))
		return crm__error_oom(db);
	/* Conversion errors stay in errs: the write path adds the rest. */
	return crm__record_parse(db, *form, json, strlen(json), rec, errs);
}

static int single(crm_db *db, crm__write_op op, const char *form_name, int64_t id, const char *json,
		  int64_t expected, const crm__known *known, int64_t *out_id)
{
	crm__errors errs = { 0 };
	crm__record rec;
	crm__write w = { .op = op, .id = id, .expected_version = expected, .errs = &errs, .known = known };
	int rc, unit;

	crm__record_init(&rec);
	if (!db)
		return CRM_EMISUSE;
	crm__errors_reset(&errs, db);
	/* A caller that ends its own transaction on failure needs no savepoint. */
	unit = !(known && known->caller_undoes && db->tx_depth > 0);
	/* The transaction first: the form is looked up in the snapshot it writes to. */
	if ((rc = crm__enter_deferred(db)) || (unit && (rc = crm__tx_begin(db))))
		return rc;
	if (op == CRM__WRITE_DELETE)
		rc = crm__form_lookup(db, form_name, &w.form);
	else
		rc = prepare_input(db, form_name, json, &w.form, &rec, &errs);
	if (rc == CRM_OK) {
		w.rec = &rec;
		rc = crm__record_write(db, &w);
		if (rc == CRM_ECONSTRAINT && errs.count)
			crm__errors_raise(db, &errs, w.form->name);
	}
	if (unit)
		rc = crm__tx_end(db, rc);
	if (rc == CRM_OK && out_id)
		*out_id = w.id;
	crm__errors_free(&errs);
	crm__record_free(&rec);
	return rc;
}

int crm_record_insert(crm_db *db, const char *form, const char *json, int64_t *out_id)
{
	return single(db, CRM__WRITE_INSERT, form, 0, json, 0, NULL, out_id);
}

int crm_record_update(crm_db *db, const char *form, int64_t id, const char *json, int64_t expected_version)
{
	return single(db, CRM__WRITE_UPDATE, form, id, json, expected_version, NULL, NULL);
}

int crm__record_update_known(crm_db *db, const char *form, int64_t id, const char *json, const crm__known *known)
{
	return single(db, CRM__WRITE_UPDATE, form, id, json, 0, known, NULL);
}

int crm_record_delete(crm_db *db, const char *form, int64_t id, int64_t expected_version)
{
	return single(db, CRM__WRITE_DELETE, form, id, NULL, expected_version, NULL, NULL);
}

int crm_record_get(crm_db *db, const char *form_name, int64_t id, char **out)
{
	crm__buf json = CRM__BUF_INIT;
	crm__form *form;
	crm__stmt *st;
	int rc, src, stale = 0;

	if (!db || !out)
		return CRM_EMISUSE;
	*out = NULL;
	/* Freshness is checked after the read started (one file-control call),
	 * and the read redone once if another connection changed the form. */
	if ((rc = crm__enter_deferred(db)))
		return rc;
	for (int attempt = 0;; attempt++) {
		if ((rc = crm__form_lookup(db, form_name, &form)))
			return rc;
		st = crm__form_get_stmt(db, form);
		if (st) {
			crm__bind_int64(st, 1, id);
			src = crm__step(st);
		}
		if (attempt == 0 && (rc = crm__fresh(db, &stale)) == CRM_OK && stale) {
			crm__reset(st);
			crm__meta_flush(db);
			continue;
		}
		if (!st)
			return db->errcode;
		break;
	}
	if (rc == CRM_OK && src == CRM_ROW) {
		crm__row_write_json(&json, form, st);
		rc = json.oom ? crm__error_oom(db) : CRM_OK;
	} else if (rc == CRM_OK && src == CRM_DONE)
		rc = crm__error(db, CRM_ENOTFOUND, "no %s record with id %lld", form->name, (long long)id);
	else if (rc == CRM_OK)
		rc = src;
	crm__reset(st);
	if (rc == CRM_OK)
		*out = crm__buf_detach(&json);
	crm__buf_free(&json);
	return rc;
}

/* The unique constraint whose fields are exactly those named in `key`. */
static const crm__index *find_key(crm_db *db, const crm__form *form, const char *key)
{
	for (int i = 0; i < form->nindexes; i++) {
		const crm__index *ix = &form->indexes[i];
		const char *p = key;
		int matched = 0, ok = ix->unique;

		while (ok && *p) {
			size_t len = strcspn(p, ",");
			const crm__field *f = crm__form_field(form, p, len);
			int in = 0;
			for (int k = 0; f && k < ix->nfields; k++)
				in |= ix->fields[k] == f->position;
			ok = in;
			matched++;
			p += len + (p[len] == ',');
		}
		if (ok && matched == ix->nfields)
			return ix;
	}
	crm__error(db, CRM_EINVAL, "form %s has no unique constraint on exactly (%s)", form->name, key);
	return NULL;
}

int crm_record_upsert(crm_db *db, const char *form_name, const char *key, const char *json, int64_t *out_id,
		      int *out_inserted)
{
	crm__errors errs = { 0 };
	crm__record rec;
	crm__write w = { .op = CRM__WRITE_INSERT, .errs = &errs };
	const crm__index *ix;
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st = NULL;
	int rc, src;

	crm__record_init(&rec);
	if (!db || !key)
		return CRM_EMISUSE;
	crm__errors_reset(&errs, db);
	/* The transaction first: the form is looked up in the snapshot it writes to. */
	if ((rc = crm__enter_deferred(db)) || (rc = crm__tx_begin(db)))
		return rc;
	if ((rc = prepare_input(db, form_name, json, &w.form, &rec, &errs)))
		goto done;
	if (!(ix = find_key(db, w.form, key))) {
		rc = db->errcode;
		goto done;
	}
	/* A key value that did not convert is no missing value: the write
	 * below reports it with the record's other errors. */
	for (int k = 0; k < ix->nfields; k++)
		if (rec.values[ix->fields[k]].kind == CRM__V_NULL && rec.given[ix->fields[k]] != CRM__GIVEN_BAD) {
			rc = crm__error(db, CRM_EINVAL, "upsert on (%s) needs a value for %s", key,
					w.form->fields[ix->fields[k]].name);
			goto done;
		}
	crm__sql_find(db, &sql, w.form, ix->fields, ix->nfields, 0, "");
	if (sql.oom) {
		rc = crm__error_oom(db);
		goto done;
	}
	if (!(st = crm__stmt_take(db, sql.p, sql.len)))
		rc = db->errcode;
	if (st)
		crm__bind_int64(st, 1, 0); /* no record excluded */
	for (int k = 0; st && k < ix->nfields; k++)
		crm__value_bind(st, k + 2, &rec.values[ix->fields[k]]);
	if (st && (src = crm__step(st)) == CRM_ROW) {
		w.op = CRM__WRITE_UPDATE;
		w.id = crm__column_int64(st, 0);
	} else if (st && src != CRM_DONE)
		rc = src;
	crm__stmt_give(db, st);
	if (rc == CRM_OK) {
		w.rec = &rec;
		rc = crm__record_write(db, &w);
		if (rc == CRM_ECONSTRAINT && errs.count)
			crm__errors_raise(db, &errs, w.form->name);
	}
done:
	rc = crm__tx_end(db, rc);
	if (rc == CRM_OK) {
		if (out_id)
			*out_id = w.id;
		if (out_inserted)
			*out_inserted = w.op == CRM__WRITE_INSERT;
	}
	crm__buf_free(&sql);
	crm__errors_free(&errs);
	crm__record_free(&rec);
	return rc;
}
