/* crm_merge and crm_merge_undo: two records of one customer become one.
 * Every change goes through the public write calls (so through the one
 * write path: validation, permissions, audit, events), inside one
 * transaction; a crm_merge row keeps what undo needs. */
#include <stdio.h>
#include <string.h>

#include "access/access.h"
#include "audit/audit.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/json_parse.h"
#include "dedup_int.h"
#include "store/ddl.h"
#include "workflow/rebind.h"

/* The whole stored record `id` (every field, system columns), as JSON,
 * whatever the actor may read: for the merge log only. */
static int load_full(crm_db *db, crm__form *form, int64_t id, cJSON **out)
{
	crm__stmt *st = crm__form_get_stmt(db, form);
	crm__buf json = CRM__BUF_INIT;
	int rc;

	*out = NULL;
	if (!st)
		return db->errcode;
	crm__bind_int64(st, 1, id);
	rc = crm__step(st);
	if (rc == CRM_ROW)
		crm__row_write_json(&json, form, st, NULL);
	crm__reset(st);
	if (rc == CRM_DONE)
		return crm__record_missing(db, form, id);
	if (rc != CRM_ROW)
		return rc;
	rc = json.oom ? crm__error_oom(db) : crm__json_parse(db, crm__buf_cstr(&json), "stored record", out);
	crm__buf_free(&json);
	return rc;
}

/* Record `id` as the actor reads it; a missing and a hidden one fail alike. */
static int load_visible(crm_db *db, const char *form, int64_t id, cJSON **out)
{
	char *text = NULL;
	int rc = crm_record_get(db, form, id, &text);

	*out = NULL;
	if (rc == CRM_OK)
		rc = crm__json_parse(db, text, "record", out);
	crm_free(text);
	return rc;
}

static int is_empty(const cJSON *v)
{
	return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && !*v->valuestring) ||
	       (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0);
}

/* Survivorship per field position into `keep`: the options' "prefer",
 * else the form's "merge", else the options' "default", else non_empty. */
static int survivorship(crm_db *db, const crm__form *form, const char *json, unsigned char *keep)
{
	cJSON *o = NULL;
	const cJSON *m, *p;
	int rc = CRM_OK, def = CRM__KEEP_NON_EMPTY;

	if (json && *json && (rc = crm__json_parse(db, json, "merge options", &o)))
		return rc;
	if (o && !cJSON_IsObject(o))
		rc = crm__error(db, CRM_EINVAL, "merge options are a JSON object");
	cJSON_ArrayForEach(m, (rc ? NULL : o))
	{
		if (strcmp(m->string, "default") == 0) {
			if ((def = crm__dedup_keep_from_name(cJSON_GetStringValue(m))) < 0)
				rc = crm__error_path(db, "default", "default is non_empty, survivor, other or newest");
		} else if (strcmp(m->string, "prefer") != 0 || !cJSON_IsObject(m))
			rc = crm__error_path(db, m->string, "merge options are {\"prefer\": {\"field\": policy}, \"default\": policy}");
		if (rc)
			break;
	}
	for (int i = 0; rc == CRM_OK && i < form->nfields; i++)
		keep[i] = form->dedup && form->dedup->keep[i] != CRM__KEEP_UNSAID ? form->dedup->keep[i] : (unsigned char)def;
	cJSON_ArrayForEach(p, (rc ? NULL : cJSON_GetObjectItemCaseSensitive(o, "prefer")))
	{
		const crm__field *f = crm__form_field(form, p->string, strlen(p->string));
		int k = crm__dedup_keep_from_name(cJSON_GetStringValue(p));
		char path[96];
		snprintf(path, sizeof path, "prefer.%.64s", p->string);
		if (!f)
			rc = crm__error_path(db, path, "form %s has no field '%.64s'", form->name, p->string);
		else if (k < 0)
			rc = crm__error_path(db, path, "a field keeps non_empty, survivor, other or newest");
		else
			keep[f->position] = (unsigned char)k;
		if (rc)
			break;
	}
	cJSON_Delete(o);
	return rc;
}

/* The survivor's update: each field the actor reads whose kept value is
 * the other's (and differs). Names of the changed fields go to `names`. */
static int merged_values(crm_db *db, const crm__form *form, const unsigned char *keep, const cJSON *sv, const cJSON *ov,
			 cJSON *upd, cJSON *names)
{
	const char *su = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sv, "updated_at"));
	const char *ou = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ov, "updated_at"));
	/* ISO 8601 UTC of one format: text order is time order. */
	int other_newer = su && ou && strcmp(ou, su) > 0;

	for (int i = 0; i < form->nfields; i++) {
		const crm__field *f = &form->fields[i];
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(sv, f->name), *o = cJSON_GetObjectItemCaseSensitive(ov, f->name);
		int take;

		if (f->type == CRM_TYPE_COMPUTED || f->type == CRM_TYPE_ROLLUP || !s || !o)
			continue; /* computed, or hidden from the actor */
		switch (keep[i]) {
		case CRM__KEEP_SURVIVOR: take = 0; break;
		case CRM__KEEP_OTHER: take = 1; break;
		case CRM__KEEP_NEWEST: take = other_newer; break;
		default: take = is_empty(s) && !is_empty(o); break;
		}
		if (!take || cJSON_Compare(s, o, 1))
			continue;
		if (!cJSON_AddItemToObject(upd, f->name, cJSON_Duplicate(o, 1)) ||
		    !cJSON_AddItemToArray(names, cJSON_CreateString(f->name)))
			return crm__error_oom(db);
	}
	return CRM_OK;
}

/* Ids of the records of `rform` whose `field` is `id`, whatever the actor reads. */
static int referrers(crm_db *db, crm__form *rform, const crm__field *f, int64_t id, cJSON *into)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	crm__sql_find(db, &sql, rform, &f->position, 1, 0, " ORDER BY id");
	if (!(st = crm__stmt_take_buf(db, &sql)))
		return db->errcode;
	crm__bind_null(st, 1);
	crm__bind_int64(st, 2, id);
	while ((rc = crm__step(st)) == CRM_ROW) {
		cJSON *ref = cJSON_CreateArray();
		if (!cJSON_AddItemToArray(into, ref) || !cJSON_AddItemToArray(ref, cJSON_CreateString(rform->name)) ||
		    !cJSON_AddItemToArray(ref, cJSON_CreateString(f->name)) ||
		    !cJSON_AddItemToArray(ref, cJSON_CreateNumber((double)crm__column_int64(st, 0)))) {
			rc = crm__error_oom(db);
			break;
		}
	}
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

/* Every [form, field, id] whose reference points at record `id` of `target`. */
static int find_references(crm_db *db, const char *target, int64_t id, cJSON *into)
{
	char *list = NULL;
	cJSON *forms = NULL;
	const cJSON *e;
	int rc = crm_form_list(db, &list);

	if (rc == CRM_OK)
		rc = crm__json_parse(db, list, "form list", &forms);
	crm_free(list);
	cJSON_ArrayForEach(e, (rc ? NULL : forms))
	{
		crm__form *rform;
		if ((rc = crm__form_lookup(db, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "form")), &rform)))
			break;
		for (int i = 0; i < rform->nfields && rc == CRM_OK; i++)
			if (rform->fields[i].type == CRM_TYPE_REF && strcmp(rform->fields[i].ref_form, target) == 0)
				rc = referrers(db, rform, &rform->fields[i], id, into);
		if (rc)
			break;
	}
	cJSON_Delete(forms);
	return rc;
}

/* Point reference `ref` ([form, field, id]) at `to`. A record the actor may
 * not change is not named: the merge (or undo) is refused as a whole. */
static int repoint(crm_db *db, const cJSON *ref, int64_t to)
{
	const char *rform = cJSON_GetArrayItem(ref, 0)->valuestring, *field = cJSON_GetArrayItem(ref, 1)->valuestring;
	int64_t id = (int64_t)cJSON_GetArrayItem(ref, 2)->valuedouble;
	char json[160];
	int rc;

	snprintf(json, sizeof json, "{\"%s\":%lld}", field, (long long)to);
	rc = crm_record_update(db, rform, id, json, 0);
	if (rc == CRM_ENOTFOUND || rc == CRM_EPERM)
		return crm__error(db, CRM_EPERM, "a %s record that refers to this record may not be changed by you", rform);
	return rc;
}

static int log_merge(crm_db *db, const char *form, int64_t survivor, int64_t other, int64_t version, const cJSON *data,
		     int64_t *id)
{
	crm__stmt *st = crm__stmt_take_insert(db, "INSERT INTO crm_merge(at, actor, form, survivor, other, version, data)"
						  " VALUES(?, ?, ?, ?, ?, ?, ?)");
	char *text = cJSON_PrintUnformatted(data);
	int rc;

	if (!st || !text) {
		cJSON_free(text);
		crm__stmt_give(db, st);
		return st ? crm__error_oom(db) : db->errcode;
	}
	crm__bind_int64(st, 1, crm_now(db));
	if (db->actor_user)
		crm__bind_text(st, 2, db->actor_user, -1);
	else
		crm__bind_null(st, 2);
	crm__bind_text(st, 3, form, -1);
	crm__bind_int64(st, 4, survivor);
	crm__bind_int64(st, 5, other);
	crm__bind_int64(st, 6, version);
	crm__bind_text(st, 7, text, -1);
	rc = crm__step(st);
	if (rc == CRM_DONE || rc == CRM_ROW) {
		*id = crm__inserted_id(st);
		rc = CRM_OK;
	}
	crm__stmt_give(db, st);
	cJSON_free(text);
	return rc;
}

/* The audit entry of a merge or its undo, on the survivor. */
static int audit(crm_db *db, const char *op, const char *form, int64_t survivor, int64_t version, int64_t merge,
		 int64_t other)
{
	char data[96];
	int n = snprintf(data, sizeof data, "{\"merge\":%lld,\"other\":%lld}", (long long)merge, (long long)other);

	return crm__audit_append(db, op, form, survivor, version, data, (size_t)n, NULL);
}

static int64_t version_of(const cJSON *rec)
{
	return (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "version"));
}

/* Everything a merge does, inside the caller's transaction. */
typedef struct merge_run {
	crm__form *form;
	int64_t survivor, other, id;
	cJSON *sv, *ov;      /* as the actor reads them */
	cJSON *log;          /* the crm_merge row's data */
	cJSON *upd, *names;  /* the survivor's update */
	cJSON *refs;
	crm__buf moved, closed;
} merge_run;

static int merge_in(crm_db *db, merge_run *m, const char *options)
{
	unsigned char *keep = crm__calloc((size_t)m->form->nfields, 1);
	cJSON *full = NULL, *sfull = NULL;
	char *text = NULL;
	int rc;

	if (!keep)
		return crm__error_oom(db);
	rc = survivorship(db, m->form, options, keep);
	if (rc == CRM_OK && (rc = load_visible(db, m->form->name, m->survivor, &m->sv)) == CRM_OK)
		rc = load_visible(db, m->form->name, m->other, &m->ov);
	if (rc == CRM_OK && (rc = load_full(db, m->form, m->other, &full)) == CRM_OK)
		rc = load_full(db, m->form, m->survivor, &sfull);
	if (rc == CRM_OK) {
		m->log = cJSON_CreateObject();
		m->upd = cJSON_CreateObject();
		m->names = cJSON_CreateArray();
		m->refs = cJSON_CreateArray();
		if (!m->log || !m->upd || !m->names || !m->refs)
			rc = crm__error_oom(db);
	}
	if (rc == CRM_OK)
		rc = merged_values(db, m->form, keep, m->sv, m->ov, m->upd, m->names);
	crm__free(keep);
	if (rc == CRM_OK)
		rc = find_references(db, m->form->name, m->other, m->refs);
	for (int i = cJSON_GetArraySize(m->refs) - 1; rc == CRM_OK && i >= 0; i--) {
		const cJSON *ref = cJSON_GetArrayItem(m->refs, i);
		/* The other record's own reference goes with it. */
		if (strcmp(cJSON_GetArrayItem(ref, 0)->valuestring, m->form->name) == 0 &&
		    (int64_t)cJSON_GetArrayItem(ref, 2)->valuedouble == m->other)
			cJSON_DeleteItemFromArray(m->refs, i);
	}
	for (int i = 0; rc == CRM_OK && i < cJSON_GetArraySize(m->refs); i++)
		rc = repoint(db, cJSON_GetArrayItem(m->refs, i), m->survivor);
	if (rc == CRM_OK)
		rc = crm__wf_merge_instances(db, m->form->name, m->other, m->survivor, &m->moved, &m->closed);
	/* The other first: a unique value it holds may be the survivor's next. */
	if (rc == CRM_OK)
		rc = crm_record_delete(db, m->form->name, m->other, 0);
	if (rc == CRM_OK && cJSON_GetArraySize(m->names) > 0) {
		if (!(text = cJSON_PrintUnformatted(m->upd)))
			rc = crm__error_oom(db);
		else
			rc = crm_record_update(db, m->form->name, m->survivor, text, 0);
		cJSON_free(text);
	}
	cJSON_Delete(m->sv);
	m->sv = NULL;
	if (rc == CRM_OK && (rc = load_full(db, m->form, m->survivor, &m->sv)) == CRM_OK) {
		cJSON *moved = NULL;
		crm__buf list = CRM__BUF_INIT;
		crm__buf_putc(&list, '[');
		crm__buf_put(&list, m->moved.p, m->moved.len);
		crm__buf_putc(&list, ']');
		/* each item the log takes is no longer ours to free */
		if (list.oom || !(moved = cJSON_Parse(crm__buf_cstr(&list))) || !cJSON_AddItemToObject(m->log, "moved", moved))
			cJSON_Delete(moved), rc = crm__error_oom(db);
		else if (!cJSON_AddItemToObject(m->log, "other", full) || (full = NULL, !cJSON_AddItemToObject(m->log, "survivor", sfull)) ||
			 (sfull = NULL, !cJSON_AddItemReferenceToObject(m->log, "fields", m->names)) ||
			 !cJSON_AddItemReferenceToObject(m->log, "references", m->refs))
			rc = crm__error_oom(db);
		crm__buf_free(&list);
	}
	if (rc == CRM_OK &&
	    (rc = log_merge(db, m->form->name, m->survivor, m->other, version_of(m->sv), m->log, &m->id)) == CRM_OK)
		rc = audit(db, "merge", m->form->name, m->survivor, version_of(m->sv), m->id, m->other);
	cJSON_Delete(full);
	cJSON_Delete(sfull);
	return rc;
}

static int merge_result(crm_db *db, const merge_run *m, char **out)
{
	crm__buf res = CRM__BUF_INIT;
	char *names = cJSON_PrintUnformatted(m->names);

	crm__buf_printf(&res, "{\"merge\":%lld,\"survivor\":%lld,\"other\":%lld,\"fields\":", (long long)m->id,
			(long long)m->survivor, (long long)m->other);
	crm__buf_puts(&res, names ? names : "");
	crm__buf_printf(&res, ",\"references\":%d,\"instances\":{\"moved\":[", cJSON_GetArraySize(m->refs));
	crm__buf_put(&res, m->moved.p, m->moved.len);
	crm__buf_puts(&res, "],\"closed\":[");
	crm__buf_put(&res, m->closed.p, m->closed.len);
	crm__buf_puts(&res, "]}}");
	cJSON_free(names);
	if (res.oom || !names) {
		crm__buf_free(&res);
		return crm__error_oom(db);
	}
	*out = crm__buf_detach(&res);
	return CRM_OK;
}

int crm_merge(crm_db *db, const char *form, int64_t survivor, int64_t other, const char *options_json, char **out)
{
	merge_run m = { .survivor = survivor, .other = other };
	int rc;

	if (out)
		*out = NULL;
	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter_deferred(db)))
		return rc;
	if (!form)
		return crm__error(db, CRM_EMISUSE, "no form given");
	if (survivor <= 0 || other <= 0 || survivor == other)
		return crm__error(db, CRM_EINVAL, "a merge takes two different record ids (got %lld and %lld)",
				  (long long)survivor, (long long)other);
	if ((rc = crm__tx_begin(db)))
		return rc;
	if ((rc = crm__form_lookup(db, form, &m.form)) == CRM_OK) {
		crm__form_retain(m.form);
		if ((rc = crm__dedup_schema(db)) == CRM_OK)
			rc = merge_in(db, &m, options_json);
	}
	if (rc == CRM_OK && out)
		rc = merge_result(db, &m, out);
	rc = crm__tx_end(db, rc);
	if (rc && out && *out) {
		crm_free(*out);
		*out = NULL;
	}
	cJSON_Delete(m.sv);
	cJSON_Delete(m.ov);
	cJSON_Delete(m.log);
	cJSON_Delete(m.upd);
	cJSON_Delete(m.names);
	cJSON_Delete(m.refs);
	crm__buf_free(&m.moved);
	crm__buf_free(&m.closed);
	crm__form_release(m.form);
	return rc;
}

/* ---- undo ---- */

/* The logged merge `id`: form, survivor, other, the survivor's version
 * after it, its data; CRM_ENOTFOUND when there is none. */
typedef struct logged {
	char *form;
	int64_t survivor, other, version, undone;
	cJSON *data;
} logged;

static int load_log(crm_db *db, int64_t id, logged *l)
{
	crm__stmt *st = crm__stmt_take(db, "SELECT form, survivor, other, version, data, undone_at FROM crm_merge WHERE id = ?",
				       (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	crm__bind_int64(st, 1, id);
	rc = crm__step(st);
	if (rc == CRM_ROW) {
		l->survivor = crm__column_int64(st, 1);
		l->other = crm__column_int64(st, 2);
		l->version = crm__column_int64(st, 3);
		l->undone = crm__column_type(st, 5) != CRM__SQL_NULL;
		if (!(l->form = crm__strdup(crm__column_text(st, 0))))
			rc = crm__error_oom(db);
		else
			rc = crm__json_parse(db, crm__column_text(st, 4), "merge log", &l->data);
	} else if (rc == CRM_DONE)
		rc = crm__error(db, CRM_ENOTFOUND, "no merge with id %lld", (long long)id);
	crm__stmt_give(db, st);
	return rc;
}

/* The restoring insert: the values are the record's own (hidden fields
 * included), not the actor's, so field rules do not judge them; the actor
 * must still be allowed to create records of the form and to read the
 * one restored. */
static int restore_write(crm_db *db, crm__write *w)
{
	crm__access *a = NULL;
	int rc = crm__access_open(db, w->form, &a), saved, seen = 1;

	if (rc == CRM_OK && a && !crm__access_grants(a, CRM__ACCESS_CREATE))
		rc = crm__error(db, CRM_EPERM, "you may not create %s records, which undoing this merge does", w->form->name);
	if (rc == CRM_OK) {
		saved = crm__actor_system_begin(db);
		rc = crm__record_write(db, w);
		crm__actor_system_end(db, saved);
	}
	if (rc == CRM_OK && a && (rc = crm__access_row(db, a, CRM__ACCESS_READ, w->form, w->id, &seen)) == CRM_OK && !seen)
		rc = crm__error(db, CRM_EPERM, "undoing this merge would bring back a %s record you may not read", w->form->name);
	crm__access_free(a);
	return rc;
}

/* Bring the other record back under its id, through the write path. */
static int restore_other(crm_db *db, crm__form *form, const cJSON *full)
{
	crm__errors errs = { 0 };
	crm__record rec;
	crm__write w = { .op = CRM__WRITE_INSERT, .errs = &errs, .form = form };
	cJSON *input = cJSON_CreateObject();
	const cJSON *created = cJSON_GetObjectItemCaseSensitive(full, "created_at");
	char *text = NULL;
	int64_t created_at = 0;
	int rc = input ? CRM_OK : crm__error_oom(db);

	crm__record_init(&rec);
	crm__errors_reset(&errs, db);
	/* Stored fields that still exist, and the owner; computed ones are computed again. */
	for (int i = 0; rc == CRM_OK && i < form->nfields; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(full, form->fields[i].name);
		if (v && form->fields[i].type != CRM_TYPE_COMPUTED && form->fields[i].type != CRM_TYPE_ROLLUP &&
		    !cJSON_AddItemToObject(input, form->fields[i].name, cJSON_Duplicate(v, 1)))
			rc = crm__error_oom(db);
	}
	if (rc == CRM_OK && cJSON_GetObjectItemCaseSensitive(full, "owner") &&
	    !cJSON_AddItemToObject(input, "owner", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(full, "owner"), 1)))
		rc = crm__error_oom(db);
	if (rc == CRM_OK && !(text = cJSON_PrintUnformatted(input)))
		rc = crm__error_oom(db);
	if (rc == CRM_OK && crm__record_reset(&rec, form))
		rc = crm__error_oom(db);
	if (rc == CRM_OK)
		rc = crm__record_parse(db, form, text, strlen(text), &rec, &errs);
	/* created_at as written in the log, back to milliseconds */
	if (rc == CRM_OK && (!cJSON_IsString(created) ||
			     crm__datetime_parse(created->valuestring, strlen(created->valuestring), &created_at)))
		rc = crm__error(db, CRM_EIO, "the merge log's created_at is not a time");
	if (rc == CRM_OK) {
		w.rec = &rec;
		w.restore_id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(full, "id"));
		w.restore_created_at = created_at;
		w.restore_version = version_of(full) + 1;
		rc = restore_write(db, &w);
		if (rc == CRM_ECONSTRAINT && errs.count)
			crm__errors_raise(db, &errs, form->name);
	}
	cJSON_free(text);
	cJSON_Delete(input);
	crm__errors_free(&errs);
	crm__record_free(&rec);
	return rc;
}

/* A reference the merge re-pointed still points at the survivor. */
static int still_points(crm_db *db, const cJSON *ref, int64_t survivor)
{
	crm__form *rform;
	const crm__field *f;
	cJSON *rec = NULL;
	int rc, same;

	if ((rc = crm__form_lookup(db, cJSON_GetArrayItem(ref, 0)->valuestring, &rform)))
		return rc == CRM_ENOTFOUND ? crm__error(db, CRM_ECONFLICT, "a form the merge changed is gone") : rc;
	f = crm__form_field(rform, cJSON_GetArrayItem(ref, 1)->valuestring, strlen(cJSON_GetArrayItem(ref, 1)->valuestring));
	rc = f ? load_full(db, rform, (int64_t)cJSON_GetArrayItem(ref, 2)->valuedouble, &rec) : CRM_ENOTFOUND;
	same = rc == CRM_OK && cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, f->name)) == (double)survivor;
	cJSON_Delete(rec);
	if (rc == CRM_OK || rc == CRM_ENOTFOUND)
		rc = same ? CRM_OK
			  : crm__error(db, CRM_ECONFLICT, "a %s record the merge re-pointed changed since: undo is not safe",
				       rform->name);
	return rc;
}

/* The log as crm_merge writes it: anything else was changed behind libcrm's back. */
static int log_sound(crm_db *db, int64_t id, const logged *l)
{
	const cJSON *refs = cJSON_GetObjectItemCaseSensitive(l->data, "references"), *e;
	const cJSON *other = cJSON_GetObjectItemCaseSensitive(l->data, "other");
	int ok = cJSON_IsObject(other) && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(other, "id")) &&
		 (int64_t)cJSON_GetObjectItemCaseSensitive(other, "id")->valuedouble == l->other &&
		 cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(l->data, "survivor")) &&
		 cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(l->data, "fields")) && cJSON_IsArray(refs) &&
		 cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(l->data, "moved"));

	cJSON_ArrayForEach(e, (ok ? refs : NULL))
	{
		ok &= cJSON_GetArraySize(e) == 3 && cJSON_IsString(cJSON_GetArrayItem(e, 0)) &&
		      crm__valid_name(cJSON_GetArrayItem(e, 0)->valuestring) && cJSON_IsString(cJSON_GetArrayItem(e, 1)) &&
		      crm__valid_name(cJSON_GetArrayItem(e, 1)->valuestring) && cJSON_IsNumber(cJSON_GetArrayItem(e, 2));
	}
	cJSON_ArrayForEach(e, (ok ? cJSON_GetObjectItemCaseSensitive(l->data, "fields") : NULL))
	{
		ok &= cJSON_IsString(e);
	}
	cJSON_ArrayForEach(e, (ok ? cJSON_GetObjectItemCaseSensitive(l->data, "moved") : NULL))
	{
		ok &= cJSON_IsNumber(e);
	}
	return ok ? CRM_OK : crm__error(db, CRM_EIO, "merge %lld: its log is damaged", (long long)id);
}

/* The checks that make undo safe, then its writes, with `form` held. */
/* Whether record `id` of `form` exists (whoever may read it) into *found. */
static int exists(crm_db *db, const crm__form *form, int64_t id, int *found)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	crm__sql_exists(&sql, form->name);
	if (!(st = crm__stmt_take_buf(db, &sql)))
		return db->errcode;
	crm__bind_int64(st, 1, id);
	rc = crm__step(st);
	*found = rc == CRM_ROW;
	crm__stmt_give(db, st);
	return rc == CRM_ROW || rc == CRM_DONE ? CRM_OK : rc;
}

/* What makes undo refuse: the merge hidden from the actor or undone, its
 * log damaged, later changes it would lose. */
static int undo_safe(crm_db *db, int64_t id, const logged *l, crm__form *form)
{
	const cJSON *e;
	cJSON *now = NULL;
	int rc, taken = 0;

	/* Only someone who may read the survivor learns of the merge. */
	if ((rc = load_visible(db, form->name, l->survivor, &now)))
		return rc == CRM_ENOTFOUND ? crm__error(db, CRM_ENOTFOUND, "no merge with id %lld", (long long)id) : rc;
	cJSON_Delete(now);
	if (l->undone)
		return crm__error(db, CRM_EINVAL, "merge %lld was undone already", (long long)id);
	if ((rc = log_sound(db, id, l)) || (rc = load_full(db, form, l->survivor, &now)))
		return rc;
	if (version_of(now) != l->version)
		rc = crm__error(db, CRM_ECONFLICT,
				"%s record %lld changed since merge %lld (version %lld, the merge left %lld): undo would lose "
				"those changes",
				form->name, (long long)l->survivor, (long long)id, (long long)version_of(now), (long long)l->version);
	cJSON_Delete(now);
	if (rc == CRM_OK && (rc = exists(db, form, l->other, &taken)) == CRM_OK && taken)
		rc = crm__error(db, CRM_ECONFLICT, "%s id %lld is in use again: undo is not safe", form->name, (long long)l->other);
	cJSON_ArrayForEach(e, (rc ? NULL : cJSON_GetObjectItemCaseSensitive(l->data, "references")))
	{
		if ((rc = still_points(db, e, l->survivor)))
			break;
	}
	return rc;
}

static int undo_checked(crm_db *db, int64_t id, logged *l, crm__form *form)
{
	const cJSON *full = cJSON_GetObjectItemCaseSensitive(l->data, "other");
	const cJSON *before = cJSON_GetObjectItemCaseSensitive(l->data, "survivor");
	const cJSON *refs = cJSON_GetObjectItemCaseSensitive(l->data, "references");
	const cJSON *moved = cJSON_GetObjectItemCaseSensitive(l->data, "moved"), *e;
	cJSON *upd = NULL;
	int64_t *ids = NULL;
	char *text = NULL;
	int rc, n = 0;

	if ((rc = undo_safe(db, id, l, form)) == CRM_OK && !(upd = cJSON_CreateObject()))
		rc = crm__error_oom(db);
	cJSON_ArrayForEach(e, (rc ? NULL : cJSON_GetObjectItemCaseSensitive(l->data, "fields")))
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(before, e->valuestring);
		if (v && crm__form_field(form, e->valuestring, strlen(e->valuestring)) &&
		    !cJSON_AddItemToObject(upd, e->valuestring, cJSON_Duplicate(v, 1)))
			rc = crm__error_oom(db);
	}
	if (rc == CRM_OK)
		rc = restore_other(db, form, full);
	if (rc == CRM_OK && cJSON_GetArraySize(upd) > 0) {
		if (!(text = cJSON_PrintUnformatted(upd)))
			rc = crm__error_oom(db);
		else
			rc = crm_record_update(db, form->name, l->survivor, text, l->version);
	}
	cJSON_ArrayForEach(e, (rc ? NULL : refs))
	{
		if ((rc = repoint(db, e, l->other)))
			break;
	}
	if (rc == CRM_OK && (n = cJSON_GetArraySize(moved)) > 0 && !(ids = crm__calloc((size_t)n, sizeof *ids)))
		rc = crm__error_oom(db);
	for (int i = 0; rc == CRM_OK && i < n; i++)
		ids[i] = (int64_t)cJSON_GetArrayItem(moved, i)->valuedouble;
	if (rc == CRM_OK)
		rc = crm__wf_move_back(db, form->name, ids, n, l->survivor, l->other);
	if (rc == CRM_OK) {
		crm__stmt *st = crm__stmt_take(db, "UPDATE crm_merge SET undone_at = ? WHERE id = ?", (size_t)-1);
		if (!st)
			rc = db->errcode;
		else {
			crm__bind_int64(st, 1, crm_now(db));
			crm__bind_int64(st, 2, id);
			rc = crm__step(st) == CRM_DONE ? CRM_OK : db->errcode;
			crm__stmt_give(db, st);
		}
	}
	if (rc == CRM_OK)
		rc = audit(db, "merge_undo", form->name, l->survivor, l->version + (cJSON_GetArraySize(upd) > 0), id, l->other);
	crm__free(ids);
	cJSON_free(text);
	cJSON_Delete(upd);
	return rc;
}

/* Undo merge `id`, its form held across the public calls (they may reload definitions). */
static int undo_in(crm_db *db, int64_t id, logged *l)
{
	crm__form *form;
	int rc;

	if ((rc = crm__form_lookup(db, l->form, &form)))
		return rc == CRM_ENOTFOUND ? crm__error(db, CRM_ENOTFOUND, "no merge with id %lld", (long long)id) : rc;
	crm__form_retain(form);
	rc = undo_checked(db, id, l, form);
	crm__form_release(form);
	return rc;
}

int crm_merge_undo(crm_db *db, int64_t merge_id)
{
	logged l = { 0 };
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter_deferred(db)))
		return rc;
	if (merge_id <= 0)
		return crm__error(db, CRM_ENOTFOUND, "no merge with id %lld", (long long)merge_id);
	if ((rc = crm__tx_begin(db)))
		return rc;
	if ((rc = crm__dedup_schema(db)) == CRM_OK && (rc = load_log(db, merge_id, &l)) == CRM_OK)
		rc = undo_in(db, merge_id, &l);
	rc = crm__tx_end(db, rc);
	crm__free(l.form);
	cJSON_Delete(l.data);
	return rc;
}
