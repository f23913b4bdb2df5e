/* The audit entries of record writes (called on the one write path through
 * lib/hooks.c), and what is read back from them: a record's history, its
 * state at a past time, and revert to an earlier version. */
#include <stdio.h>
#include <string.h>

#include "access/access.h"
#include "audit.h"
#include "audit_int.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/json_scan.h"
#include "crm/audit.h"
#include "entries.h"

/* THE question history, record_at and revert ask, once per call: may the
 * handle's actor read the record (a record it may not read answers like a
 * missing one), and then which of its fields (others are left out). */
typedef struct reader {
	crm__form *form;    /* retained while `view` is open */
	crm__access *view;  /* NULL: everything is readable */
} reader;

/* 1 when the actor may read record `id` of `form`; `r` then answers for
 * its fields. reader_close `r` either way. A failure to decide is a no. */
static int reader_open(crm_db *db, const char *form, int64_t id, reader *r)
{
	crm__form *f;
	int ok = 0;

	r->form = NULL;
	r->view = NULL;
	/* The system reads everything, the trail of a form since dropped too. */
	if (crm__actor_is_system(db))
		return 1;
	if (crm__form_lookup(db, form, &f) || crm__access_open(db, f, &r->view))
		return 0;
	if (!r->view)
		return 1; /* unrestricted, deleted records included */
	crm__form_retain(f);
	r->form = f;
	if (crm__access_row(db, r->view, CRM__ACCESS_READ, f, id, &ok))
		ok = 0;
	return ok;
}

static int reader_field(const reader *r, const char *name)
{
	const crm__field *fd;

	if (!r->view)
		return 1;
	fd = crm__form_field(r->form, name, strlen(name));
	return crm__access_readable(r->view, fd ? (int)(fd - r->form->fields)
						: strcmp(name, "owner") == 0 ? CRM__COL_OWNER : CRM__COL_ID);
}

static void reader_close(reader *r)
{
	crm__access_free(r->view);
	if (r->form)
		crm__form_release(r->form);
	r->view = NULL;
	r->form = NULL;
}

/* Stored rollup values are not audited: they follow from the child
 * records' own entries (docs/audit.md). */
static int audited_field(const crm__field *f) { return f->rollup == NULL; }

static void put_value(crm__buf *b, const crm__field *f, const crm__value *v)
{
	crm__value_write_json(b, f->value_type, f->scale, v);
}

/* `,"name":` in one append: the encoding runs for every audited or
 * evented write (names are identifiers: nothing to escape). */
static void put_key(crm__buf *b, int *n, const char *name)
{
	size_t len = strlen(name), at;

	if (crm__buf_reserve(b, len + 4))
		return;
	at = b->len;
	if ((*n)++)
		b->p[at++] = ',';
	b->p[at++] = '"';
	memcpy(b->p + at, name, len);
	at += len;
	b->p[at++] = '"';
	b->p[at++] = ':';
	b->len = at;
}

/* Before the value of field `name`: its key, or in a compact encoding
 * (`fields` not NULL) a comma and the name added to `fields`. */
static void put_name(crm__buf *b, crm__buf *fields, int *n, const char *name)
{
	size_t len, at;

	if (!fields) {
		put_key(b, n, name);
		return;
	}
	len = strlen(name);
	if (crm__buf_reserve(fields, len + 3) || crm__buf_reserve(b, 1))
		return;
	at = fields->len;
	if ((*n)++) {
		fields->p[at++] = ',';
		b->p[b->len++] = ',';
	}
	fields->p[at++] = '"';
	memcpy(fields->p + at, name, len);
	at += len;
	fields->p[at++] = '"';
	fields->len = at;
}

/* insert {"f": value, ..., "owner": ...}; delete: the same, before. In a
 * compact encoding, [value, ..., owner] with their names in `fields`,
 * owner's last even where the values stop before it: one list serves a
 * form's inserts with and without an owner, and its deletes. */
static void put_values(crm__buf *b, crm__buf *fields, const crm__form *form, const crm__value *values,
		       const char *owner)
{
	int n = 0;

	crm__buf_putc(b, fields ? '[' : '{');
	if (fields)
		crm__buf_putc(fields, '[');
	for (int i = 0; i < form->nfields; i++)
		if (audited_field(&form->fields[i])) {
			put_name(b, fields, &n, form->fields[i].name);
			put_value(b, &form->fields[i], &values[i]);
		}
	if (fields) {
		crm__buf_puts(fields, n ? ",\"owner\"]" : "\"owner\"]");
		if (owner && n)
			crm__buf_putc(b, ',');
	} else if (owner)
		put_key(b, &n, "owner");
	if (owner)
		crm__json_cstr(b, owner);
	crm__buf_putc(b, fields ? ']' : '}');
}

static void put_owner_text(crm__buf *b, const crm__value *v)
{
	if (v->kind == CRM__V_TEXT)
		crm__json_str(b, v->s, v->n);
	else
		crm__buf_puts(b, "null");
}

/* update: {"f": [before, after], ...} for the fields that changed. */
static void put_changes(crm__buf *b, const crm__write *w, const crm__value *old, const crm__value *now)
{
	const crm__form *form = w->form;
	int n = 0;

	crm__buf_putc(b, '{');
	for (int i = 0; i < form->nfields; i++) {
		const crm__field *f = &form->fields[i];
		if (!audited_field(f) || crm__value_same(&old[i], &now[i]))
			continue;
		put_key(b, &n, f->name);
		crm__buf_putc(b, '[');
		put_value(b, f, &old[i]);
		crm__buf_putc(b, ',');
		put_value(b, f, &now[i]);
		crm__buf_putc(b, ']');
	}
	if (w->rec && w->rec->owner_given) {
		const crm__value *o = &w->rec->owner;
		size_t len = o->kind == CRM__V_TEXT ? o->n : 0;
		int same = w->owner_before ? o->kind == CRM__V_TEXT && strlen(w->owner_before) == len &&
						     memcmp(w->owner_before, o->s, len) == 0
					   : o->kind != CRM__V_TEXT;
		if (!same) {
			put_key(b, &n, "owner");
			crm__buf_putc(b, '[');
			if (w->owner_before)
				crm__json_cstr(b, w->owner_before);
			else
				crm__buf_puts(b, "null");
			crm__buf_putc(b, ',');
			put_owner_text(b, o);
			crm__buf_putc(b, ']');
		}
	}
	crm__buf_putc(b, '}');
}

/* An insert's data: its values, and the owner it was given (or the actor). */
static void put_inserted(crm_db *db, crm__buf *data, crm__buf *fields, const crm__write *w, const crm__value *now)
{
	crm__buf owner = CRM__BUF_INIT;

	if (!w->rec || !w->rec->owner_given) {
		put_values(data, fields, w->form, now, db->actor_user);
		return;
	}
	if (w->rec->owner.kind == CRM__V_TEXT)
		crm__buf_put(&owner, w->rec->owner.s, w->rec->owner.n);
	put_values(data, fields, w->form, now, w->rec->owner.kind == CRM__V_TEXT ? crm__buf_cstr(&owner) : NULL);
	data->oom |= owner.oom;
	crm__buf_free(&owner);
}

int crm__audit_compacts(const crm__write *w) { return w->op != CRM__WRITE_UPDATE; }

int crm__audit_encode(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now, int compact,
		      const crm__buf **data, const crm__buf **fields)
{
	crm__buf *out, *names;

	if (crm__audit_buffers(db, &out, &names))
		return db->errcode;
	names = compact ? names : NULL;
	if (w->op == CRM__WRITE_INSERT)
		put_inserted(db, out, names, w, now);
	else if (w->op == CRM__WRITE_DELETE)
		put_values(out, names, w->form, old, NULL);
	else
		put_changes(out, w, old, now);
	if (out->oom || (names && names->oom))
		return crm__error_oom(db);
	*data = out;
	*fields = names;
	return CRM_OK;
}

int crm__audit_holds_encoding(const crm__write *w) { return w->op != CRM__WRITE_UPDATE || w->revert_to <= 0; }

int crm__audit_record(crm_db *db, const crm__write *w, const char *data, size_t len, const crm__buf *fields,
		      int64_t *id_out)
{
	crm__buf wrapped = CRM__BUF_INIT;
	const char *op = w->op == CRM__WRITE_INSERT ? "insert" : w->op == CRM__WRITE_DELETE ? "delete" : "update";
	int rc;

	if (crm__audit_holds_encoding(w))
		return crm__audit_append_values(db, op, w->form->name, w->id, w->version, data, len,
						fields ? fields->p : NULL, fields ? fields->len : 0, id_out);
	crm__buf_puts(&wrapped, "{\"to_version\":");
	crm__buf_i64(&wrapped, w->revert_to);
	crm__buf_puts(&wrapped, ",\"changes\":");
	crm__buf_put(&wrapped, data, len);
	crm__buf_putc(&wrapped, '}');
	rc = wrapped.oom ? crm__error_oom(db)
			 : crm__audit_append(db, "revert", w->form->name, w->id, w->version, wrapped.p, wrapped.len, NULL);
	crm__buf_free(&wrapped);
	return rc;
}

int crm__audit_record_queued(crm_db *db, const crm__write *w, const char *data, size_t len, const crm__buf *fields,
			     int64_t *id_out, crm__queued_fn *done, void **payload)
{
	return crm__audit_queue(db, w->form->name, data, len, fields ? fields->p : NULL, fields ? fields->len : 0, id_out,
				done, payload);
}

/* ---- reading entries back ---- */

static int check_name(crm_db *db, const char *form)
{
	if (!form)
		return crm__error(db, CRM_EMISUSE, "no form name given");
	if (!crm__valid_name(form))
		return crm__error(db, CRM_EINVAL, "'%.64s' is not a form name", form);
	return CRM_OK;
}

/* What a record the actor may not read answers: exactly a missing one
 * (at_ms >= 0: at that time, as crm_record_at says it). */
static int not_found(crm_db *db, const char *form, int64_t id, int64_t at_ms)
{
	char iso[32];

	if (at_ms < 0)
		return crm__error(db, CRM_ENOTFOUND, "no %s record with id %lld", form, (long long)id);
	iso[crm__datetime_format(at_ms, iso)] = 0;
	return crm__error(db, CRM_ENOTFOUND, "no %s record with id %lld at %s", form, (long long)id, iso);
}

/* Append `v` (a scanned JSON value) as JSON text. */
static void put_jval(crm__buf *b, const crm__jval *v)
{
	switch (v->type) {
	case CRM__J_NULL: crm__buf_puts(b, "null"); break;
	case CRM__J_TRUE: crm__buf_puts(b, "true"); break;
	case CRM__J_FALSE: crm__buf_puts(b, "false"); break;
	case CRM__J_STRING: crm__json_str(b, v->p, v->n); break;
	default: crm__buf_put(b, v->p, v->n); break;
	}
}

/* The object a stored entry's data stands for: a compact entry's values
 * (a JSON array) zipped with their names, column `fields` of `st`, into
 * `obj`; other data as it is. 0, or -1 when the names are missing or do
 * not fit (edited behind libcrm's back: verify reports it). */
static int entry_object(crm__stmt *st, int fields, crm__buf *obj, const char **data, size_t *n)
{
	const char *names = crm__column_text(st, fields);

	if (!*data || **data != '[')
		return 0;
	obj->len = 0; /* its oom stays for the caller */
	if (!names)
		return -1;
	if (crm__json_zip(obj, names, (size_t)crm__column_bytes(st, fields), *data, *n))
		return obj->oom ? 0 : -1; /* out of memory: obj->oom fails the read */
	*data = obj->p;
	*n = obj->len;
	return 0;
}

/* Copy the members of the JSON object data[0..n) the actor may read into
 * `out`; 0, or -1 when it is not an object (edited behind libcrm's back). */
static int put_readable(crm_db *db, crm__buf *out, const reader *rd, const char *data, size_t n)
{
	crm__buf scratch = CRM__BUF_INIT;
	crm__jscan sc;
	crm__jval k, v;
	int r, count = 0;
	char name[80];

	if (crm__jscan_init(&sc, data, n, (int)db->limits[CRM_LIMIT_JSON_DEPTH], &scratch)) {
		out->oom = 1;
		return 0;
	}
	crm__buf_putc(out, '{');
	while ((r = crm__jscan_member(&sc, &k, &v)) == 1) {
		snprintf(name, sizeof name, "%.*s", (int)(k.n < 64 ? k.n : 64), k.p);
		if (!reader_field(rd, name))
			continue;
		crm__buf_puts(out, count++ ? "," : "");
		crm__json_str(out, k.p, k.n);
		crm__buf_putc(out, ':');
		put_jval(out, &v);
	}
	crm__buf_putc(out, '}');
	crm__buf_free(&scratch);
	return r < 0 ? -1 : 0;
}

static int put_iso(crm__buf *b, int64_t ms)
{
	char iso[32];

	crm__buf_putc(b, '"');
	crm__buf_put(b, iso, crm__datetime_format(ms, iso));
	crm__buf_putc(b, '"');
	return 0;
}

static void put_col_text(crm__buf *b, crm__stmt *st, int c)
{
	if (crm__column_type(st, c) == CRM__SQL_NULL)
		crm__buf_puts(b, "null");
	else
		crm__json_str(b, crm__column_text(st, c), (size_t)crm__column_bytes(st, c));
}

/* Column `fields` of a read of entries: a compact entry's names. */
#define FIELDS_COLUMN "CASE WHEN substr(data, 1, 1) = '[' THEN " CRM__AUDIT_FIELDS_OF("crm_audit") " END"

static const char HISTORY_SQL[] = "SELECT id, seq, at, actor, op, version, data, " FIELDS_COLUMN " FROM crm_audit"
				  " WHERE form = ? AND record = ? ORDER BY id";

int crm_audit_history(crm_db *db, const char *form, int64_t id, char **out)
{
	crm__buf json = CRM__BUF_INIT, obj = CRM__BUF_INIT;
	crm__stmt *st;
	reader rd;
	int rc, n = 0;

	if ((rc = crm__enter_out(db, out)) || (rc = check_name(db, form)) || (rc = crm__audit_flush(db)))
		return rc;
	if (!reader_open(db, form, id, &rd)) {
		reader_close(&rd);
		return not_found(db, form, id, -1);
	}
	if (!(st = crm__stmt_take(db, HISTORY_SQL, sizeof HISTORY_SQL - 1))) {
		reader_close(&rd);
		return db->errcode;
	}
	crm__bind_text(st, 1, form, -1);
	crm__bind_int64(st, 2, id);
	crm__buf_putc(&json, '[');
	while ((rc = crm__step(st)) == CRM_ROW) {
		const char *data = crm__column_text(st, 6);
		size_t len = (size_t)crm__column_bytes(st, 6), mark;
		int compact_ok = entry_object(st, 7, &obj, &data, &len) == 0;

		crm__buf_puts(&json, n++ ? ",{\"id\":" : "{\"id\":");
		crm__buf_i64(&json, crm__column_int64(st, 0));
		crm__buf_puts(&json, ",\"seq\":");
		crm__buf_i64(&json, crm__column_int64(st, 1));
		crm__buf_puts(&json, ",\"at\":");
		put_iso(&json, crm__column_int64(st, 2));
		crm__buf_puts(&json, ",\"actor\":");
		put_col_text(&json, st, 3);
		crm__buf_puts(&json, ",\"op\":");
		put_col_text(&json, st, 4);
		crm__buf_puts(&json, ",\"form\":");
		crm__json_cstr(&json, form);
		crm__buf_puts(&json, ",\"record\":");
		crm__buf_i64(&json, id);
		crm__buf_puts(&json, ",\"version\":");
		if (crm__column_type(st, 5) == CRM__SQL_NULL)
			crm__buf_puts(&json, "null");
		else
			crm__buf_i64(&json, crm__column_int64(st, 5));
		crm__buf_puts(&json, ",\"data\":");
		mark = json.len;
		/* Only field-level data is filtered; an entry edited into
		 * something else shows as a string (verify reports it). */
		if (!compact_ok || put_readable(db, &json, &rd, data, len)) {
			json.len = mark;
			crm__json_str(&json, data, len);
		}
		crm__buf_putc(&json, '}');
	}
	crm__buf_putc(&json, ']');
	reader_close(&rd);
	json.oom |= obj.oom;
	crm__buf_free(&obj);
	return crm__stmt_give_listing(db, st, rc, &json, out);
}

/* ---- a record's state rebuilt from its entries ---- */

/* Members in the order they first appeared; values as JSON text. */
typedef struct state {
	int exists;
	int64_t version, created, updated;
	char **names, **values;
	int n, cap;
	int oom;
} state;

static void state_clear(state *s)
{
	for (int i = 0; i < s->n; i++) {
		crm__free(s->names[i]);
		crm__free(s->values[i]);
	}
	s->n = 0;
	s->exists = 0;
}

static void state_free(state *s)
{
	state_clear(s);
	crm__free(s->names);
	crm__free(s->values);
}

static char *dup_span(const char *p, size_t n)
{
	char *s = crm__malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

static void state_set(state *s, const char *name, size_t name_n, const crm__jval *v)
{
	crm__buf text = CRM__BUF_INIT;
	char *value;
	int i;

	put_jval(&text, v);
	if (text.oom || !(value = crm__buf_detach(&text))) {
		crm__buf_free(&text);
		s->oom = 1;
		return;
	}
	for (i = 0; i < s->n; i++)
		if (strlen(s->names[i]) == name_n && memcmp(s->names[i], name, name_n) == 0)
			break;
	if (i == s->n) {
		if (s->n == s->cap) {
			int cap = s->cap ? 2 * s->cap : 16;
			char **names = crm__realloc(s->names, (size_t)cap * sizeof *names);
			if (names)
				s->names = names;
			char **values = names ? crm__realloc(s->values, (size_t)cap * sizeof *values) : NULL;
			if (!values) {
				crm__free(value);
				s->oom = 1;
				return;
			}
			s->values = values;
			s->cap = cap;
		}
		if (!(s->names[i] = dup_span(name, name_n))) {
			crm__free(value);
			s->oom = 1;
			return;
		}
		s->values[i] = NULL;
		s->n++;
	}
	crm__free(s->values[i]);
	s->values[i] = value;
}

/* The second element of a [before, after] pair. */
static int after_of(crm_db *db, const crm__jval *pair, crm__buf *scratch, crm__jval *out)
{
	crm__jscan sc;

	if (pair->type != CRM__J_ARRAY ||
	    crm__jscan_init(&sc, pair->p, pair->n, (int)db->limits[CRM_LIMIT_JSON_DEPTH], scratch) ||
	    crm__jscan_element(&sc, out) != 1 || crm__jscan_element(&sc, out) != 1)
		return -1;
	return 0;
}

/* Apply one entry (op, data) to the state. */
static void state_apply(crm_db *db, state *s, const char *op, const char *data, size_t n, int64_t version, int64_t at)
{
	crm__buf scratch = CRM__BUF_INIT, scratch2 = CRM__BUF_INIT, pair = CRM__BUF_INIT;
	crm__jscan sc;
	crm__jval k, v = { CRM__J_NULL, NULL, 0 }, a;
	int insert, revert;

	if (!op || !data) /* a row edited behind libcrm's back: verify reports it */
		return;
	insert = strcmp(op, "insert") == 0;
	revert = strcmp(op, "revert") == 0;
	if (strcmp(op, "delete") == 0) {
		state_clear(s);
		return;
	}
	if (!insert && !revert && strcmp(op, "update") != 0)
		return;
	if (insert) {
		state_clear(s);
		s->exists = 1;
		s->created = at;
	}
	if (!s->exists) /* changes to a record whose insert was not audited */
		return;
	s->version = version;
	s->updated = at;
	if (crm__jscan_init(&sc, data, n, (int)db->limits[CRM_LIMIT_JSON_DEPTH], &scratch)) {
		s->oom = 1;
		return;
	}
	if (revert) { /* {"to_version": N, "changes": {...}} */
		while (crm__jscan_member(&sc, &k, &v) == 1)
			if (k.n == 7 && memcmp(k.p, "changes", 7) == 0 && v.type == CRM__J_OBJECT)
				break;
		if (v.type != CRM__J_OBJECT || crm__jscan_init(&sc, v.p, v.n, (int)db->limits[CRM_LIMIT_JSON_DEPTH], &scratch2)) {
			crm__buf_free(&scratch);
			return;
		}
	}
	while (crm__jscan_member(&sc, &k, &v) == 1) {
		if (insert)
			state_set(s, k.p, k.n, &v);
		else {
			crm__buf_reset(&pair);
			if (after_of(db, &v, &pair, &a) == 0)
				state_set(s, k.p, k.n, &a);
		}
	}
	crm__buf_free(&scratch);
	crm__buf_free(&scratch2);
	crm__buf_free(&pair);
}

/* Rebuild record `id` of `form` from its entries: up to time `at_ms`
 * (version 0), or up to the entry that made `version`. *found (version
 * mode) says whether that version was seen. */
static int rebuild(crm_db *db, const char *form, int64_t id, int64_t at_ms, int64_t version, state *s, int *found)
{
	static const char sql[] = "SELECT op, version, at, data, " FIELDS_COLUMN " FROM crm_audit WHERE form = ? AND"
				  " record = ? AND op IN ('insert', 'update', 'delete', 'revert') ORDER BY id";
	crm__buf obj = CRM__BUF_INIT;
	crm__stmt *st = crm__stmt_take(db, sql, sizeof sql - 1);
	int rc;

	if (found)
		*found = 0;
	if (!st)
		return db->errcode;
	crm__bind_text(st, 1, form, -1);
	crm__bind_int64(st, 2, id);
	while ((rc = crm__step(st)) == CRM_ROW) {
		int64_t v = crm__column_int64(st, 1), at = crm__column_int64(st, 2);
		if (version == 0 && at > at_ms)
			break;
		const char *data = crm__column_text(st, 3);
		size_t n = (size_t)crm__column_bytes(st, 3);
		if (entry_object(st, 4, &obj, &data, &n))
			data = NULL; /* as an entry edited into something else */
		state_apply(db, s, crm__column_text(st, 0), data, n, v, at);
		if (version > 0 && v == version && s->exists) {
			*found = 1;
			break;
		}
	}
	crm__reset(st);
	crm__stmt_give(db, st);
	s->oom |= obj.oom;
	crm__buf_free(&obj);
	if (rc != CRM_ROW && rc != CRM_DONE)
		return rc;
	return s->oom ? crm__error_oom(db) : CRM_OK;
}

int crm_record_at(crm_db *db, const char *form, int64_t id, int64_t at_ms, char **out)
{
	state s = { 0 };
	crm__buf json = CRM__BUF_INIT;
	const char *owner = NULL;
	reader rd;
	int rc;

	if ((rc = crm__enter_out(db, out)) || (rc = check_name(db, form)) || (rc = crm__audit_flush(db)))
		return rc;
	if (!reader_open(db, form, id, &rd))
		rc = not_found(db, form, id, at_ms);
	else if ((rc = rebuild(db, form, id, at_ms, 0, &s, NULL)) == CRM_OK && !s.exists)
		rc = not_found(db, form, id, at_ms);
	if (rc) {
		reader_close(&rd);
		state_free(&s);
		return rc;
	}
	crm__buf_puts(&json, "{\"id\":");
	crm__buf_i64(&json, id);
	for (int i = 0; i < s.n; i++) {
		if (strcmp(s.names[i], "owner") == 0) {
			owner = s.values[i];
			continue;
		}
		if (!reader_field(&rd, s.names[i]))
			continue;
		crm__buf_putc(&json, ',');
		crm__json_cstr(&json, s.names[i]);
		crm__buf_putc(&json, ':');
		crm__buf_puts(&json, s.values[i]);
	}
	crm__buf_puts(&json, ",\"created_at\":");
	put_iso(&json, s.created);
	crm__buf_puts(&json, ",\"updated_at\":");
	put_iso(&json, s.updated);
	crm__buf_puts(&json, ",\"owner\":");
	crm__buf_puts(&json, owner && reader_field(&rd, "owner") ? owner : "null");
	crm__buf_puts(&json, ",\"version\":");
	crm__buf_i64(&json, s.version);
	crm__buf_putc(&json, '}');
	reader_close(&rd);
	state_free(&s);
	if (json.oom)
		return crm__error_oom(db);
	*out = crm__buf_detach(&json);
	return CRM_OK;
}

/* ---- revert ---- */

/* The update that brings the record back: the fields of the target state
 * that the form still has and that are set by writes (not computed, not
 * rollups), and the owner. */
static void revert_json(crm__buf *b, const crm__form *form, const reader *rd, const state *s)
{
	int n = 0;

	crm__buf_putc(b, '{');
	for (int i = 0; i < s->n; i++) {
		const crm__field *f = crm__form_field(form, s->names[i], strlen(s->names[i]));
		int owner = strcmp(s->names[i], "owner") == 0;
		if (!owner && (!f || f->type == CRM_TYPE_COMPUTED || f->rollup))
			continue;
		if (!reader_field(rd, s->names[i]))
			continue;
		put_key(b, &n, s->names[i]);
		crm__buf_puts(b, s->values[i]);
	}
	crm__buf_putc(b, '}');
}

static int revert_in(crm_db *db, const char *form_name, int64_t id, int64_t version, const reader *rd,
		     crm__record *rec, crm__errors *errs)
{
	crm__write w = { .op = CRM__WRITE_UPDATE, .id = id, .errs = errs, .rec = rec, .revert_to = version };
	crm__buf json = CRM__BUF_INIT;
	crm__record cur;
	crm__value sys[5];
	state s = { 0 };
	int rc, found;

	if ((rc = crm__audit_flush(db)) || (rc = crm__form_lookup(db, form_name, &w.form)))
		return rc;
	crm__record_init(&cur);
	rc = crm__record_load(db, w.form, id, &cur, sys);
	crm__record_free(&cur);
	if (rc)
		return rc;
	if (version >= sys[4].i)
		return crm__error(db, CRM_EINVAL, "%s record %lld is at version %lld: revert goes back to an earlier one, not %lld",
				  form_name, (long long)id, (long long)sys[4].i, (long long)version);
	if ((rc = rebuild(db, form_name, id, 0, version, &s, &found)) == CRM_OK && !found)
		rc = crm__error(db, CRM_ENOTFOUND, "%s record %lld has no audited version %lld", form_name, (long long)id,
				(long long)version);
	if (rc == CRM_OK) {
		revert_json(&json, w.form, rd, &s);
		w.expected_version = sys[4].i;
		if (json.oom || crm__record_reset(rec, w.form))
			rc = crm__error_oom(db);
		else if ((rc = crm__record_parse(db, w.form, json.p, json.len, rec, errs)) == CRM_OK)
			rc = crm__record_write(db, &w);
		if (rc == CRM_ECONSTRAINT && errs->count)
			crm__errors_raise(db, errs, w.form->name);
	}
	crm__buf_free(&json);
	state_free(&s);
	return rc;
}

int crm_record_revert(crm_db *db, const char *form, int64_t id, int64_t version)
{
	crm__errors errs = { 0 };
	crm__record rec;
	reader rd;
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter_deferred(db)) || (rc = check_name(db, form)))
		return rc;
	if (!reader_open(db, form, id, &rd))
		rc = not_found(db, form, id, -1);
	else if (version <= 0)
		rc = crm__error(db, CRM_EINVAL, "a version is 1 or more, not %lld", (long long)version);
	if (rc) {
		reader_close(&rd);
		return rc;
	}
	crm__errors_reset(&errs, db);
	crm__record_init(&rec);
	if ((rc = crm__tx_begin(db)) == CRM_OK)
		rc = crm__tx_end(db, revert_in(db, form, id, version, &rd, &rec, &errs));
	reader_close(&rd);
	crm__errors_free(&errs);
	crm__record_free(&rec);
	return rc;
}
