/* Records: parsing input objects and the single write path (insert,
 * update, delete with reference rules), plus the public single-record API. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "access/access.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "form_int.h"
#include "store/ddl.h"

void crm__record_init(crm__record *rec) { memset(rec, 0, sizeof *rec); }

/* Free the text actor_defaults copied (the array stays for reuse). */
static void actor_text_reset(crm__record *rec)
{
	for (int i = 0; i < rec->nactor_text; i++) {
		crm__free(rec->actor_text[i]);
		rec->actor_text[i] = NULL;
	}
}

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
	actor_text_reset(rec);
	crm__free(rec->actor_text);
	rec->actor_text = NULL;
	rec->nactor_text = 0;
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
	actor_text_reset(rec);
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
	actor_text_reset(rec);
	crm__free(rec->actor_text);
	crm__record_init(rec);
}

/* A member `key` (`keylen` bytes) = `val` of an input record that names no
 * field: the owner, or a name reported to `errs`. */
static void take_other(const crm__form *form, const char *key, size_t keylen, const crm__jval *val, crm__record *rec,
		       crm__errors *errs)
{
	char name[80];

	snprintf(name, sizeof name, "%.*s", (int)(keylen > 64 ? 64 : keylen), key);
	if (memchr(key, 0, keylen)) /* the name printed ends at it */
		crm__errors_add(errs, name, "nul", "a field name cannot contain U+0000 (\\u0000)");
	else if (strcmp(name, "owner") == 0) {
		if (val->type == CRM__J_STRING && memchr(val->p, 0, val->n))
			crm__errors_add(errs, "owner", "nul", "owner contains U+0000 (\\u0000), which no text may hold");
		else if (val->type == CRM__J_STRING && val->n > 0) {
			rec->owner.kind = CRM__V_TEXT;
			rec->owner.s = val->p;
			rec->owner.n = val->n;
		} else if (val->type != CRM__J_NULL && !(val->type == CRM__J_STRING && val->n == 0))
			crm__errors_add(errs, "owner", "type", "owner must be a string or null");
		rec->owner_given = 1;
	} else if (crm__is_system_column(name))
		crm__errors_add(errs, name, "readonly", "%s is maintained by libcrm and cannot be set", name);
	else
		crm__errors_add(errs, name, "unknown_field", "form %s has no field '%s'", form->name, name);
}

/* Take one member `key` = `val` of an input record into `rec`, reporting
 * problems with it to `errs`. `f` is the field named `key` (NULL: none,
 * and only then are `key`'s `keylen` bytes read);
 * `*next` is the position after the last field taken, the guess for the
 * next lookup: members usually come in field order. */
static void take_member(const crm__form *form, crm__field *f, const char *key, size_t keylen, const crm__jval *val,
			int depth, crm__record *rec, crm__errors *errs, int *next)
{
	crm__verr verr;

	if (!f) {
		take_other(form, key, keylen, val, rec, errs);
		return;
	}
	if (rec->given[f->position]) {
		crm__errors_add(errs, f->name, "duplicate", "%s is given twice", f->name);
		return;
	}
	rec->given[f->position] = CRM__GIVEN;
	*next = f->position + 1;
	if (crm__value_from_json(&rec->values[f->position], f, val, &rec->strings, depth, &verr)) {
		crm__errors_add(errs, f->name, verr.code, "%s", verr.message);
		rec->given[f->position] = CRM__GIVEN_BAD;
	}
}

int crm__record_parse(crm_db *db, const crm__form *form, const char *json, size_t len, crm__record *rec,
		      crm__errors *errs)
{
	int depth = (int)db->limits[CRM_LIMIT_JSON_DEPTH];
	crm__jscan sc;
	crm__jval key, val;
	int r, next = 0;

	crm__record_clear(rec, form);
	/* Room for decoded strings and converted values, so no pointer moves. */
	if (crm__buf_reserve(&rec->strings, 4 * len + 64) || crm__jscan_init(&sc, json, len, depth, &rec->strings))
		return crm__error_oom(db);
	while ((r = crm__jscan_member(&sc, &key, &val)) == 1)
		take_member(form, crm__form_field_near(form, key.p, key.n, next), key.p, key.n, &val, depth, rec, errs,
			    &next);
	if (r < 0) {
		crm__error(db, CRM_EINVAL, "record for %s is not a valid JSON object: %s at byte %zu", form->name,
			   sc.err ? sc.err : "syntax error", sc.err_pos);
		db->erroffset = (int)sc.err_pos;
		return CRM_EINVAL;
	}
	return CRM_OK;
}

/* Bytes of text a value needs written out (a number's literal, a list as a
 * JSON array, bracketed JSON), beside what it points at. */
static size_t value_text_size(const crm_value *v)
{
	size_t n = 0;

	switch (v->kind) {
	case CRM_VALUE_INT:
	case CRM_VALUE_REAL:
	case CRM_VALUE_TIME: return 40;
	case CRM_VALUE_LIST:
		for (size_t k = 0; k < v->nitems && v->items; k++)
			n += (v->items[k] ? 6 * strlen(v->items[k]) : 0) + 3; /* every byte escaped as \u00XX at worst */
		return n + 2;
	case CRM_VALUE_JSON: return v->n + 2;
	default: return 0;
	}
}

/* The JSON value `v` stands for, as crm__jscan would give it, for field
 * `f` (NULL: not a field). Literals and arrays are written to `text`, whose
 * room was reserved; strings a JSON value holds are decoded into
 * rec->strings. 0, or -1 with the db error set (a malformed value). */
static int value_as_jval(crm_db *db, const crm__field *f, const char *name, const crm_value *v, crm__buf *text,
			 crm__record *rec, crm__jval *out)
{
	char *at = text->p + text->len, iso[32];
	crm__jscan sc;
	int r;

	switch (v->kind) {
	case CRM_VALUE_NULL: *out = (crm__jval){ CRM__J_NULL, at, 0 }; return 0;
	case CRM_VALUE_BOOL: *out = (crm__jval){ v->i ? CRM__J_TRUE : CRM__J_FALSE, at, 0 }; return 0;
	case CRM_VALUE_TEXT:
		if (!v->s && v->n)
			goto misuse;
		*out = (crm__jval){ CRM__J_STRING, v->s ? v->s : "", v->n };
		return 0;
	case CRM_VALUE_INT:
		out->type = CRM__J_NUMBER;
		crm__buf_i64(text, v->i);
		break;
	case CRM_VALUE_REAL:
		out->type = CRM__J_NUMBER;
		if (isfinite(v->d))
			crm__json_double(text, v->d);
		else
			crm__buf_puts(text, "1e999"); /* what JSON would say: out of range */
		break;
	case CRM_VALUE_TIME:
		if (!f || (f->type != CRM_TYPE_DATE && f->type != CRM_TYPE_DATETIME)) {
			out->type = CRM__J_NUMBER;
			crm__buf_i64(text, v->i);
			break;
		}
		out->type = CRM__J_STRING;
		if (v->i < CRM__DATETIME_MIN_MS || v->i > CRM__DATETIME_MAX_MS)
			crm__buf_puts(text, "out of range"); /* fails the type's own parse */
		else if (f->type == CRM_TYPE_DATE && v->i % 86400000 == 0)
			crm__buf_put(text, iso, crm__date_format(v->i / 86400000, iso));
		else /* a date field refuses a time of day as it refuses the text */
			crm__buf_put(text, iso, crm__datetime_format(v->i, iso));
		break;
	case CRM_VALUE_LIST:
		out->type = CRM__J_ARRAY;
		crm__buf_putc(text, '[');
		for (size_t k = 0; k < v->nitems; k++) {
			if (!v->items || !v->items[k])
				goto misuse;
			if (k)
				crm__buf_putc(text, ',');
			crm__json_str(text, v->items[k], strlen(v->items[k]));
		}
		crm__buf_putc(text, ']');
		break;
	case CRM_VALUE_JSON:
		if (!v->s)
			goto misuse;
		/* One JSON value is the one element of "[value]". */
		crm__buf_putc(text, '[');
		crm__buf_put(text, v->s, v->n);
		crm__buf_putc(text, ']');
		if (crm__jscan_init(&sc, at, v->n + 2, (int)db->limits[CRM_LIMIT_JSON_DEPTH], &rec->strings))
			return crm__error_oom(db);
		if ((r = crm__jscan_element(&sc, out)) == 1 && (r = crm__jscan_element(&sc, &(crm__jval){ 0 })) == 0)
			return 0;
		crm__error(db, CRM_EINVAL, "the value of %s is not one JSON value: %s at byte %zu", name,
			   r == 1 ? "more than one value" : sc.err ? sc.err : "syntax error", sc.err_pos ? sc.err_pos - 1 : 0);
		return -1;
	default: goto misuse;
	}
	out->p = at;
	out->n = (size_t)(text->p + text->len - at);
	return 0;
misuse:
	crm__error(db, CRM_EINVAL, "the value of %s is not a valid crm_value (kind %d)", name, v->kind);
	return -1;
}

int crm__record_from_values(crm_db *db, const crm__form *form, const crm_field_value *fields, size_t n,
			    crm__record *rec, crm__errors *errs, crm__buf *text)
{
	int depth = (int)db->limits[CRM_LIMIT_JSON_DEPTH], next = 0;
	size_t total = 64, size;

	crm__record_clear(rec, form);
	crm__buf_reset(text);
	for (size_t k = 0; k < n; k++) {
		if (!fields[k].name) {
			crm__error(db, CRM_EINVAL, "value %zu of a record for %s has no field name", k, form->name);
			return CRM_EINVAL;
		}
		size = value_text_size(&fields[k].value) + (fields[k].value.kind == CRM_VALUE_TEXT ? fields[k].value.n : 0);
		if (size > (SIZE_MAX / 8 - total) / 8)
			return crm__error_oom(db);
		total += size + 8;
	}
	/* Room for everything written and decoded, as crm__record_parse, so no
	 * pointer into either buffer moves while the record is read. */
	if (crm__buf_reserve(text, total) || crm__buf_reserve(&rec->strings, 8 * total))
		return crm__error_oom(db);
	for (size_t k = 0; k < n; k++) {
		const char *name = fields[k].name;
		crm__field *f = crm__form_field_cstr(form, name, next);
		crm__jval val;

		if (value_as_jval(db, f, name, &fields[k].value, text, rec, &val))
			return CRM_EINVAL;
		/* The name's length matters only to a name that is no field. */
		take_member(form, f, name, f ? 0 : strlen(name), &val, depth, rec, errs, &next);
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
		rc = crm__record_missing(db, form, id);
	crm__reset(st);
	return rc;
}

int crm__record_missing(crm_db *db, const crm__form *form, int64_t id)
{
	return crm__error(db, CRM_ENOTFOUND, "no %s record with id %lld", form->name, (long long)id);
}

int crm__record_load(crm_db *db, crm__form *form, int64_t id, crm__record *cur, crm__value *sys)
{
	crm__stmt *st = crm__form_get_stmt(db, form);

	return st ? load_row(db, form, st, id, cur, sys) : db->errcode;
}

static crm__stmt *locked_read(crm_db *db, crm__form *form, const char *lock)
{
	crm__buf sql = CRM__BUF_INIT;

	crm__sql_get(&sql, form);
	crm__buf_puts(&sql, lock);
	return crm__stmt_take_buf(db, &sql);
}

int crm__record_load_locked(crm_db *db, crm__form *form, int64_t id, crm__record *cur, crm__value *sys,
			    const char *lock)
{
	crm__stmt *st;

	if (!*lock)
		return crm__record_load(db, form, id, cur, sys);
	if (!(st = locked_read(db, form, lock)))
		return db->errcode;
	return crm__record_load_rows(db, form, st, id, cur, sys);
}

crm__stmt *crm__record_load_ahead(crm_db *db, crm__form *form, int64_t id, const char *lock)
{
	crm__stmt *st = locked_read(db, form, lock);

	if (!st)
		return NULL;
	crm__bind_int64(st, 1, id);
	if (crm__send_ahead(st)) {
		crm__stmt_give(db, st);
		return NULL;
	}
	return st;
}

int crm__record_load_rows(crm_db *db, crm__form *form, crm__stmt *st, int64_t id, crm__record *cur, crm__value *sys)
{
	int rc = load_row(db, form, st, id, cur, sys);

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

/* A denial by the access rules: w->denied tells crm__record_write to report it. */
static int denied(crm__write *w, int rc)
{
	w->denied = rc == CRM_EPERM || rc == CRM_ENOTFOUND;
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

/* Field `i`, which has "actor_default" and which the insert leaves out,
 * takes the actor's value, converted as if given (a value that does not
 * fit is the field's error); an actor without it leaves it empty. `*user`
 * holds the actor's name as JSON once made. */
static int actor_default(crm_db *db, crm__write *w, int i, cJSON **user)
{
	const crm__field *f = &w->form->fields[i];
	crm__record *rec = w->rec;
	const cJSON *v = crm__actor_value(db, f->actor_default);
	crm__jval jv;
	crm__verr verr;
	crm__buf scratch = CRM__BUF_INIT;
	int rc = CRM_OK;

	/* the system actor has no attributes, but may have a name */
	if (!v && strcmp(f->actor_default, "user") == 0 && db->actor_user) {
		if (!*user && !(*user = cJSON_CreateString(db->actor_user)))
			return crm__error_oom(db);
		v = *user;
	}
	if (!v)
		return CRM_OK;
	if (crm__jval_from_cjson(&jv, v, &scratch) || crm__buf_reserve(&scratch, 3 * jv.n + 8)) {
		rc = crm__error_oom(db);
	} else if (crm__value_from_json(&rec->values[i], f, &jv, &scratch, (int)db->limits[CRM_LIMIT_JSON_DEPTH], &verr)) {
		crm__errors_add(w->errs, f->name, verr.code, "%s (from the actor's %s)", verr.message, f->actor_default);
		rec->given[i] = CRM__GIVEN_BAD;
	} else if (rec->values[i].kind == CRM__V_TEXT) {
		/* kept with the record: earlier values' text stays where it is */
		crm__value *val = &rec->values[i];
		if (!rec->actor_text && (rec->actor_text = crm__calloc((size_t)w->form->nfields, sizeof(char *))))
			rec->nactor_text = w->form->nfields;
		if (!rec->actor_text || !(rec->actor_text[i] = crm__malloc(val->n + 1)))
			rc = crm__error_oom(db);
		else {
			memcpy(rec->actor_text[i], val->s, val->n);
			rec->actor_text[i][val->n] = 0;
			val->s = rec->actor_text[i];
		}
	}
	crm__buf_free(&scratch);
	return rc;
}

/* Every field with "actor_default" the insert leaves out (actor_default). */
static int actor_defaults(crm_db *db, crm__write *w)
{
	cJSON *user = NULL;
	int rc = CRM_OK;

	for (int i = 0; i < w->form->nfields && rc == CRM_OK; i++)
		if (w->form->fields[i].actor_default && !w->rec->given[i])
			rc = actor_default(db, w, i, &user);
	cJSON_Delete(user);
	return rc;
}

/* The system columns of a record as it would be stored (for checks). */
static void sys_of(crm_db *db, crm__value *sys, const crm__record *rec, int64_t id, int64_t version)
{
	memset(sys, 0, 5 * sizeof *sys);
	sys[0].kind = sys[1].kind = sys[2].kind = sys[4].kind = CRM__V_INT;
	sys[0].i = id;
	sys[1].i = sys[2].i = crm_now(db);
	sys[4].i = version;
	if (rec->owner_given)
		sys[3] = rec->owner;
	else if (db->actor_user) {
		sys[3].kind = CRM__V_TEXT;
		sys[3].s = db->actor_user;
		sys[3].n = strlen(db->actor_user);
	}
}

/* Queue the bound INSERT when the caller asked and nothing after it needs
 * its id; 1 when queued (or failing to), with *rc its outcome. */
static int queue_insert(crm_db *db, crm__write *w, crm__stmt *st, int *rc)
{
	crm__queued_fn done = w->done;
	void *payload = w->done_payload;
	int watched;

	if (!w->done || !db->be->queue)
		return 0;
	if ((watched = crm__hooks.watches_inserts ? crm__hooks.watches_inserts(db, w->form) : 0) < 0) {
		*rc = db->errcode;
		crm__reset(st);
		return 1;
	}
	if (watched)
		return 0;
	if (crm__hooks.insert_queued && (*rc = crm__hooks.insert_queued(db, w, &done, &payload))) {
		crm__reset(st);
		return 1;
	}
	*rc = db->be->queue(st, done, payload);
	w->queued = *rc == CRM_OK;
	crm__reset(st);
	return 1;
}

/* The INSERT of a record brought back under its id (w->restore_id),
 * after the checks of any insert. */
static int restore_insert(crm_db *db, crm__write *w)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc, n = w->form->nfields;

	crm__sql_insert(db, &sql, w->form, 1);
	if (!(st = crm__stmt_take_buf(db, &sql)))
		return db->errcode;
	for (int i = 0; i < n; i++)
		crm__value_bind(st, i + 1, &w->rec->values[i]);
	crm__bind_int64(st, n + 1, w->restore_created_at);
	crm__bind_int64(st, n + 2, crm_now(db));
	bind_owner(db, st, n + 3, w->rec);
	crm__bind_int64(st, n + 4, w->restore_version);
	crm__bind_int64(st, n + 5, w->restore_id);
	rc = *db->be->dialect->insert_skip_conflict ? crm__step(st) : crm__step_write(db, st);
	/* A conflict the dialect skipped returns no row. */
	if (rc == CRM_DONE && *db->be->dialect->insert_skip_conflict)
		rc = crm__error(db, CRM_ECONSTRAINT, "UNIQUE constraint failed: %s", w->form->name);
	crm__stmt_give(db, st);
	w->id = w->restore_id;
	w->version = w->restore_version;
	if (rc == CRM_DONE || rc == CRM_ROW)
		return after_write(db, w, NULL, w->rec->values);
	if (rc == CRM_ECONSTRAINT)
		return unique_failure(db, w, w->rec->values, rc);
	return rc;
}

static int do_insert(crm_db *db, crm__write *w)
{
	crm__form *form = w->form;
	crm__record *rec = w->rec;
	const char *skip = db->be->dialect->insert_skip_conflict;
	crm__stmt *st;
	int64_t now = crm_now(db);
	int rc, n = form->nfields;
	unsigned char cand[CRM__ACCESS_MAX_RULES];

	if ((rc = actor_defaults(db, w)))
		return rc;
	if (w->access) {
		crm__access_change c = { .given = rec->given, .values = rec->values, .owner_given = rec->owner_given,
					 .owner = &rec->owner };
		if ((rc = crm__access_write_begin(db, w->access, CRM__ACCESS_CREATE, &c, cand)))
			return denied(w, rc);
	}
	if ((rc = fill(db, w)) || (rc = validate(db, w, NULL, rec->values, 0)))
		return rc;
	if (w->access) {
		crm__row row = { .fields = rec->values };
		sys_of(db, row.sys, rec, 0, 1);
		if ((rc = crm__access_write_check(db, w->access, &row, cand)))
			return denied(w, rc);
	}
	if (w->restore_id > 0)
		return restore_insert(db, w);
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
	w->version = 1;
	crm__reset(st);
	if (rc == CRM_DONE || rc == CRM_ROW)
		return after_write(db, w, NULL, rec->values);
	if (rc == CRM_ECONSTRAINT)
		return unique_failure(db, w, rec->values, rc);
	return rc;
}

/* `keep` holds the stored owner's text for the check: the loaded record's
 * buffer it points into grows when computed fields are recomputed. */
static int do_update(crm_db *db, crm__write *w, crm__record *cur, crm__value **old, crm__buf *keep)
{
	crm__form *form = w->form;
	crm__record *rec = w->rec;
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	crm__value sys[5];
	int64_t version, now = crm_now(db);
	int rc, p = 1, computed = has_computed(form);
	unsigned char cand[CRM__ACCESS_MAX_RULES];

	/* Held to the end: the version compared here is the one the UPDATE
	 * moves on, and the fields not given are written back unchanged. A
	 * caller that holds the record already (a transition, which locked it)
	 * gives it as it is; the access rules need its system columns too, and
	 * the audit entry of an update that sets the owner the owner it replaces. */
	if (w->known && w->known->values && w->known->form == form && !w->access && !rec->owner_given) {
		if (crm__record_assign(cur, form, w->known->values))
			return crm__error_oom(db);
		version = w->known->version;
	} else if ((rc = crm__record_load_locked(db, form, w->id, cur, sys, db->be->dialect->lock_no_key_update)))
		return rc;
	else {
		version = sys[4].i;
		if ((w->access || rec->owner_given) && sys[3].kind == CRM__V_TEXT) {
			crm__buf_put(keep, sys[3].s, sys[3].n);
			if (keep->oom)
				return crm__error_oom(db);
			sys[3].s = keep->p;
			if (rec->owner_given && !(w->owner_before = crm__strndup(sys[3].s, sys[3].n)))
				return crm__error_oom(db);
		}
	}
	w->version = version + 1;
	/* The record as it was, for hooks that compare before and after. */
	if (!(*old = crm__calloc((size_t)form->nfields, sizeof **old)))
		return crm__error_oom(db);
	memcpy(*old, cur->values, (size_t)form->nfields * sizeof **old);
	/* Before the version: a record the actor may not read has none. */
	if (w->access) {
		crm__row row = { .fields = *old };
		crm__access_change c = { .id = w->id, .old = &row, .given = rec->given, .values = rec->values,
					 .owner_given = rec->owner_given, .owner = &rec->owner };
		memcpy(row.sys, sys, sizeof sys);
		if ((rc = crm__access_write_begin(db, w->access, CRM__ACCESS_UPDATE, &c, cand)))
			return denied(w, rc);
	}
	if (w->expected_version > 0 && version != w->expected_version)
		return crm__error(db, CRM_ECONFLICT, "%s record %lld is at version %lld, not %lld", form->name,
				  (long long)w->id, (long long)version, (long long)w->expected_version);
	for (int i = 0; i < form->nfields; i++)
		if (rec->given[i] == CRM__GIVEN)
			cur->values[i] = rec->values[i];
	if ((rc = compute(db, form, cur)) || (rc = validate(db, w, *old, cur->values, w->id)))
		return rc;
	if (w->access) {
		crm__row row = { .fields = cur->values };
		memcpy(row.sys, sys, sizeof sys);
		row.sys[2].i = crm_now(db);
		row.sys[4].i = version + 1;
		if (rec->owner_given)
			row.sys[3] = rec->owner;
		if ((rc = crm__access_write_check(db, w->access, &row, cand)))
			return denied(w, rc);
	}
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
	crm__error(db, CRM_ECONSTRAINT, "UNIQUE constraint failed: %s", w->form->name);
	return unique_failure(db, w, w->rec->values, CRM_ECONSTRAINT);
}

/* An update, with what it holds until it is done: the record as loaded,
 * its values before, the owner's text (inserts, a batch's every row, set
 * up none of it). */
static int update(crm_db *db, crm__write *w)
{
	crm__record cur;
	crm__value *old = NULL;
	crm__buf keep = CRM__BUF_INIT;
	int rc;

	crm__record_init(&cur);
	rc = do_update(db, w, &cur, &old, &keep);
	crm__buf_free(&keep);
	crm__free(old);
	crm__record_free(&cur);
	return rc;
}

int crm__record_write(crm_db *db, crm__write *w)
{
	int rc;

	db->record_writes++;
	w->denied = 0;
	if ((rc = crm__access_open(db, w->form, &w->access)))
		return rc;
	switch (w->op) {
	case CRM__WRITE_INSERT: rc = do_insert(db, w); break;
	case CRM__WRITE_UPDATE: rc = update(db, w); break;
	default: rc = crm__record_delete(db, w); break;
	}
	/* The one place a write the access rules refused is reported. */
	if (w->denied)
		crm__access_denied(db, w->form, w->id,
				   w->op == CRM__WRITE_INSERT ? "create" : w->op == CRM__WRITE_UPDATE ? "update" : "delete", rc);
	crm__access_free(w->access);
	w->access = NULL;
	crm__free(w->owner_before);
	w->owner_before = NULL;
	return rc;
}

/* ---- public API ---- */

/* Look up the form and parse `json` into `rec`; input problems are raised. */
/* A record as the caller gave it: JSON text, or values (then `text`
 * holds what is written out for them until the write is done). */
typedef struct input {
	const char *json;
	const crm_field_value *fields;
	size_t n;
	int as_values;
	crm__buf text;
} input;

static int prepare_input(crm_db *db, const char *form_name, input *in, crm__form **form, crm__record *rec,
			 crm__errors *errs)
{
	int rc;

	if (in->as_values ? !in->fields && in->n : !in->json)
		return crm__error(db, CRM_EMISUSE, "no record given");
	if ((rc = crm__form_lookup(db, form_name, form)))
		return rc;
	if (crm__record_reset(rec, *form))
		return crm__error_oom(db);
	/* Conversion errors stay in errs: the write path adds the rest. */
	if (in->as_values)
		return crm__record_from_values(db, *form, in->fields, in->n, rec, errs, &in->text);
	return crm__record_parse(db, *form, in->json, strlen(in->json), rec, errs);
}

static int single(crm_db *db, crm__write_op op, const char *form_name, int64_t id, input *in, int64_t expected,
		  const crm__known *known, int64_t *out_id)
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
		rc = prepare_input(db, form_name, in, &w.form, &rec, &errs);
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
	if (in)
		crm__buf_free(&in->text);
	return rc;
}

int crm_record_insert(crm_db *db, const char *form, const char *json, int64_t *out_id)
{
	return single(db, CRM__WRITE_INSERT, form, 0, &(input){ .json = json }, 0, NULL, out_id);
}

int crm_record_insert_values(crm_db *db, const char *form, const crm_field_value *fields, size_t n, int64_t *out_id)
{
	return single(db, CRM__WRITE_INSERT, form, 0, &(input){ .fields = fields, .n = n, .as_values = 1 }, 0, NULL,
		      out_id);
}

int crm_record_update(crm_db *db, const char *form, int64_t id, const char *json, int64_t expected_version)
{
	return single(db, CRM__WRITE_UPDATE, form, id, &(input){ .json = json }, expected_version, NULL, NULL);
}

int crm_record_update_values(crm_db *db, const char *form, int64_t id, const crm_field_value *fields, size_t n,
			     int64_t expected_version)
{
	return single(db, CRM__WRITE_UPDATE, form, id, &(input){ .fields = fields, .n = n, .as_values = 1 },
		      expected_version, NULL, NULL);
}

int crm__record_update_known(crm_db *db, const char *form, int64_t id, const char *json, const crm__known *known)
{
	return single(db, CRM__WRITE_UPDATE, form, id, &(input){ .json = json }, 0, known, NULL);
}

int crm_record_delete(crm_db *db, const char *form, int64_t id, int64_t expected_version)
{
	return single(db, CRM__WRITE_DELETE, form, id, NULL, expected_version, NULL, NULL);
}

/* The statement reading record `id` for the actor: the form's own, or with
 * the rows the actor may read added (binds point into `a`). */
static crm__stmt *get_stmt(crm_db *db, crm__form *form, const crm__access *a, crm__binds *binds)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;

	if (!a)
		return crm__form_get_stmt(db, form);
	crm__sql_get(&sql, form);
	crm__buf_puts(&sql, " AND ");
	crm__access_where_sql(a, CRM__ACCESS_READ, db->be->dialect, &sql, binds, NULL);
	if (binds->oom) {
		crm__buf_free(&sql);
		crm__error_oom(db);
		return NULL;
	}
	if ((st = crm__stmt_take_buf(db, &sql)) && crm__binds_apply(binds, st, 2, NULL, NULL) != CRM_OK) {
		crm__stmt_give(db, st);
		crm__error_oom(db);
		return NULL;
	}
	return st;
}

static void get_done(crm_db *db, crm__stmt *st, crm__access *a, crm__binds *binds)
{
	if (a)
		crm__stmt_give(db, st);
	else
		crm__reset(st);
	crm__binds_free(binds);
	crm__access_free(a);
}

int crm_record_get(crm_db *db, const char *form_name, int64_t id, char **out)
{
	crm__buf json = CRM__BUF_INIT;
	crm__binds binds = { 0 };
	crm__access *a = NULL;
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
		if ((rc = crm__form_lookup(db, form_name, &form)) || (rc = crm__access_open(db, form, &a)))
			return rc;
		/* A record the actor may not read is a missing one: the same
		 * statement finds neither. */
		st = get_stmt(db, form, a, &binds);
		if (st) {
			crm__bind_int64(st, 1, id);
			src = crm__step(st);
		}
		if (attempt == 0 && (rc = crm__fresh(db, &stale)) == CRM_OK && stale) {
			get_done(db, st, a, &binds);
			a = NULL;
			crm__meta_flush(db);
			continue;
		}
		if (!st) {
			crm__binds_free(&binds);
			crm__access_free(a);
			return db->errcode;
		}
		break;
	}
	if (rc == CRM_OK && src == CRM_ROW) {
		crm__row_write_json(&json, form, st, crm__access_readable_mask(a));
		rc = json.oom ? crm__error_oom(db) : CRM_OK;
	} else if (rc == CRM_OK && src == CRM_DONE)
		rc = crm__record_missing(db, form, id);
	else if (rc == CRM_OK)
		rc = src;
	get_done(db, st, a, &binds);
	if (rc == CRM_OK)
		*out = crm__buf_detach(&json);
	crm__buf_free(&json);
	return rc;
}

const crm__index *crm__form_unique_key(crm_db *db, const crm__form *form, const char *key)
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

/* Keep w->id when the actor may read it, else set it to 0. */
static int upsert_visible(crm_db *db, crm__write *w)
{
	crm__access *a = NULL;
	int rc = crm__access_open(db, w->form, &a), seen = 1;

	if (rc == CRM_OK && a)
		rc = crm__access_row(db, a, CRM__ACCESS_READ, w->form, w->id, &seen);
	crm__access_free(a);
	if (rc == CRM_OK && !seen)
		w->id = 0;
	return rc;
}

int crm__record_upsert_write(crm_db *db, crm__write *w, const crm__index *ix)
{
	crm__record *rec = w->rec;
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st = NULL;
	int rc = CRM_OK, src;

	w->op = CRM__WRITE_INSERT;
	w->id = 0;
	/* A key value that did not convert is no missing value: the write
	 * below reports it with the record's other errors. */
	for (int k = 0; k < ix->nfields; k++)
		if (rec->values[ix->fields[k]].kind == CRM__V_NULL && rec->given[ix->fields[k]] != CRM__GIVEN_BAD) {
			crm__buf names = CRM__BUF_INIT;
			for (int j = 0; j < ix->nfields; j++)
				crm__buf_printf(&names, "%s%s", j ? "," : "", w->form->fields[ix->fields[j]].name);
			rc = names.oom ? crm__error_oom(db)
				       : crm__error(db, CRM_EINVAL, "upsert on (%s) needs a value for %s",
						    crm__buf_cstr(&names), w->form->fields[ix->fields[k]].name);
			crm__buf_free(&names);
			return rc;
		}
	crm__sql_find(db, &sql, w->form, ix->fields, ix->nfields, 0, "");
	if (sql.oom) {
		crm__buf_free(&sql);
		return crm__error_oom(db);
	}
	if (!(st = crm__stmt_take(db, sql.p, sql.len)))
		rc = db->errcode;
	if (st)
		crm__bind_int64(st, 1, 0); /* no record excluded */
	for (int k = 0; st && k < ix->nfields; k++)
		crm__value_bind(st, k + 2, &rec->values[ix->fields[k]]);
	if (st && (src = crm__step(st)) == CRM_ROW) {
		w->op = CRM__WRITE_UPDATE;
		w->id = crm__column_int64(st, 0);
	} else if (st && src != CRM_DONE)
		rc = src;
	crm__stmt_give(db, st);
	crm__buf_free(&sql);
	/* A record the actor may not read holds no key for them: the insert
	 * meets the unique key, and says so without naming the record. */
	if (rc == CRM_OK && w->op == CRM__WRITE_UPDATE && (rc = upsert_visible(db, w)) == CRM_OK && !w->id)
		w->op = CRM__WRITE_INSERT;
	if (rc == CRM_OK)
		rc = crm__record_write(db, w);
	return rc;
}

static int upsert(crm_db *db, const char *form_name, const char *key, input *in, int64_t *out_id, int *out_inserted)
{
	crm__errors errs = { 0 };
	crm__record rec;
	crm__write w = { .op = CRM__WRITE_INSERT, .errs = &errs, .rec = &rec };
	const crm__index *ix;
	int rc;

	crm__record_init(&rec);
	if (!db || !key)
		return CRM_EMISUSE;
	crm__errors_reset(&errs, db);
	/* The transaction first: the form is looked up in the snapshot it writes to. */
	if ((rc = crm__enter_deferred(db)) || (rc = crm__tx_begin(db)))
		return rc;
	if ((rc = prepare_input(db, form_name, in, &w.form, &rec, &errs)))
		goto done;
	if (!(ix = crm__form_unique_key(db, w.form, key))) {
		rc = db->errcode;
		goto done;
	}
	rc = crm__record_upsert_write(db, &w, ix);
	if (rc == CRM_ECONSTRAINT && errs.count)
		crm__errors_raise(db, &errs, w.form->name);
done:
	rc = crm__tx_end(db, rc);
	if (rc == CRM_OK) {
		if (out_id)
			*out_id = w.id;
		if (out_inserted)
			*out_inserted = w.op == CRM__WRITE_INSERT;
	}
	crm__errors_free(&errs);
	crm__record_free(&rec);
	crm__buf_free(&in->text);
	return rc;
}

int crm_record_upsert(crm_db *db, const char *form, const char *key, const char *json, int64_t *out_id,
		      int *out_inserted)
{
	return upsert(db, form, key, &(input){ .json = json }, out_id, out_inserted);
}

int crm_record_upsert_values(crm_db *db, const char *form, const char *key, const crm_field_value *fields, size_t n,
			     int64_t *out_id, int *out_inserted)
{
	return upsert(db, form, key, &(input){ .fields = fields, .n = n, .as_values = 1 }, out_id, out_inserted);
}
