/* Workflow instances: one per record and workflow (or free-standing), with
 * their state and an append-only history of every transition. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "event/event.h"
#include "form/form_int.h"
#include "workflow_int.h"

static void copy_text(char *dst, size_t size, crm__stmt *st, int col)
{
	const char *s = crm__column_text(st, col);

	crm__str_copy(dst, size, s ? s : "");
}

/* An instance's columns, the first five (INSTANCE_OF) where the query
 * names its form and record and asks for status 'active': those come from
 * it, not from the server (a transition reads a record's instances). */
#define INSTANCE_COLUMNS "SELECT id, workflow, version, state, entered_at, form, record, status FROM crm_wf_instance "
#define INSTANCE_OF "SELECT id, workflow, version, state, entered_at FROM crm_wf_instance "

/* `of_form` (NULL for INSTANCE_COLUMNS), `of_record`: those an INSTANCE_OF query names. */
static void read_instance(crm__stmt *st, const char *of_form, int64_t of_record, crm__wf_instance *out)
{
	out->id = crm__column_int64(st, 0);
	copy_text(out->workflow, sizeof out->workflow, st, 1);
	out->version = crm__column_int64(st, 2);
	copy_text(out->state, sizeof out->state, st, 3);
	out->entered_at = crm__column_int64(st, 4);
	if (of_form) {
		crm__str_copy(out->form, sizeof out->form, of_form);
		out->record = of_record;
		crm__str_copy(out->status, sizeof out->status, "active");
		return;
	}
	copy_text(out->form, sizeof out->form, st, 5);
	out->record = crm__column_int64(st, 6);
	copy_text(out->status, sizeof out->status, st, 7);
}

/* Instance `id`, read with the row-lock clause `lock` ("": none). */
static int instance_read(crm_db *db, int64_t id, const char *lock, crm__wf_instance *out)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	if ((rc = crm__wf_schema(db)))
		return rc;
	crm__buf_puts(&sql, INSTANCE_COLUMNS "WHERE id=?");
	crm__buf_puts(&sql, lock);
	if (!(st = crm__stmt_take_buf(db, &sql)))
		return db->errcode;
	crm__bind_int64(st, 1, id);
	rc = crm__step(st);
	if (rc == CRM_ROW) {
		read_instance(st, NULL, 0, out);
		rc = CRM_OK;
	} else if (rc == CRM_DONE)
		rc = crm__error(db, CRM_ENOTFOUND, "no workflow instance %lld", (long long)id);
	crm__stmt_give(db, st);
	return rc;
}

int crm__wf_instance_load(crm_db *db, int64_t id, crm__wf_instance *out) { return instance_read(db, id, "", out); }

int crm__wf_instance_lock(crm_db *db, int64_t id, const crm__wf_instance *known, int held, crm__wf_instance *out)
{
	const char *lock = db->be->dialect->lock_no_key_update;
	crm__wf_instance unlocked;
	int rc;

	if (!*lock || (known && held)) {
		if (!known)
			return crm__wf_instance_load(db, id, out);
		*out = *known;
		return CRM_OK;
	}
	/* An instance's form and record never change: read unlocked (or as the
	 * caller read it), they name the record to hold first. Its lock goes
	 * with the instance's read, in one round trip, in that order. */
	if (!known) {
		if ((rc = crm__wf_instance_load(db, id, &unlocked)))
			return rc;
		known = &unlocked;
	}
	if (*known->form && (rc = crm__record_lock(db, known->form, known->record, lock, NULL)))
		return rc;
	return instance_read(db, id, lock, out);
}

void crm__wf_record_init(crm__wf_record *r)
{
	memset(r, 0, sizeof *r);
	crm__record_init(&r->rec);
}

void crm__wf_record_free(crm__wf_record *r) { crm__record_free(&r->rec); }

int crm__wf_instance_rows(crm_db *db, const char *form, int64_t record, crm__wf_instance **out, int *n,
			  crm__wf_record *rec)
{
	const char *lock = db->be->dialect->lock_no_key_update;
	crm__buf sql = CRM__BUF_INIT;
	crm__form *f = NULL;
	crm__stmt *st, *ahead = NULL;
	int rc, cap = 0;

	*out = NULL;
	*n = 0;
	if ((rc = crm__wf_schema(db)))
		return rc;
	if (rec) {
		/* The record first, with its lock in its read: whoever changes
		 * an instance holds its record first. It goes ahead of the
		 * instances' read, in its round trip. An unknown form has no
		 * record to read (the caller says so). */
		if ((rc = crm__form_lookup(db, form, &f)) == CRM_OK) {
			if (!(ahead = crm__record_load_ahead(db, f, record, lock)))
				return db->errcode;
			rec->held = *lock != 0;
		} else if (rc != CRM_ENOTFOUND)
			return rc;
	}
	crm__buf_puts(&sql, INSTANCE_OF "WHERE form=? AND record=? AND status='active' ORDER BY id");
	if (rec && rec->held)
		crm__buf_puts(&sql, lock);
	if (!(st = crm__stmt_take_buf(db, &sql))) {
		crm__stmt_give(db, ahead);
		return db->errcode;
	}
	crm__bind_text(st, 1, form, -1);
	crm__bind_int64(st, 2, record);
	while ((rc = crm__step(st)) == CRM_ROW) {
		if (*n == cap) {
			crm__wf_instance *grown = crm__realloc(*out, (size_t)(cap = cap ? cap * 2 : 2) * sizeof **out);
			if (!grown) {
				rc = crm__error_oom(db);
				break;
			}
			*out = grown;
		}
		read_instance(st, form, record, &(*out)[(*n)++]);
	}
	crm__stmt_give(db, st);
	if (rc != CRM_DONE) {
		crm__stmt_give(db, ahead);
		return rc;
	}
	if (ahead) {
		if ((rc = crm__record_load_rows(db, f, ahead, record, &rec->rec, rec->sys)))
			return rc;
		rec->loaded = 1;
		rec->writes = db->record_writes;
	}
	return CRM_OK;
}

int crm__wf_instances_of(crm_db *db, const char *form, int64_t record, int64_t **ids, int *n)
{
	crm__wf_instance *rows;
	int rc = crm__wf_instance_rows(db, form, record, &rows, n, NULL);

	*ids = NULL;
	if (rc == CRM_OK && *n && !(*ids = crm__malloc((size_t)*n * sizeof **ids)))
		rc = crm__error_oom(db);
	for (int i = 0; rc == CRM_OK && i < *n; i++)
		(*ids)[i] = rows[i].id;
	crm__free(rows);
	if (rc)
		*n = 0;
	return rc;
}

/* The audit entry of a history row: a transition (from timers and
 * migrations too) or an approval decision, about the instance's record
 * (`form` NULL or "": a free-standing instance). A timer's failure changed
 * nothing (no state on either side): none. */
static int audit_history(crm_db *db, int64_t instance, const char *form, int64_t record, const char *event,
			 const char *from, const char *to, const char *data)
{
	int approval = strcmp(event, "approve") == 0 || strcmp(event, "reject") == 0;
	crm__buf json = CRM__BUF_INIT;
	crm__form *f;
	int rc;

	if (!from && !to)
		return CRM_OK;
	if (form && !*form)
		form = NULL;
	/* A form that says "audit": false keeps its transitions out too. */
	if (form && crm__form_lookup(db, form, &f) == CRM_OK && !f->audit)
		return CRM_OK;
	db->errcode = CRM_OK;
	crm__buf_puts(&json, "{\"instance\":");
	crm__buf_i64(&json, instance);
	crm__buf_puts(&json, ",\"event\":");
	crm__json_cstr(&json, event);
	crm__buf_puts(&json, approval ? ",\"state\":" : ",\"from\":");
	if (from)
		crm__json_cstr(&json, from);
	else
		crm__buf_puts(&json, "null");
	if (!approval) {
		crm__buf_puts(&json, ",\"to\":");
		if (to)
			crm__json_cstr(&json, to);
		else
			crm__buf_puts(&json, "null");
	}
	if (data) {
		crm__buf_puts(&json, approval ? ",\"decision\":" : ",\"data\":");
		crm__buf_puts(&json, data);
	}
	crm__buf_putc(&json, '}');
	rc = json.oom ? crm__error_oom(db)
		      : crm__audit_append(db, approval ? "approval" : "transition", form, record, 0, json.p, json.len, NULL);
	crm__buf_free(&json);
	return rc;
}

static void put_str_or_null(crm__buf *b, const char *s)
{
	if (s)
		crm__json_cstr(b, s);
	else
		crm__buf_puts(b, "null");
}

/* The event of a history row (docs/integration.md): crm.approval
 * {"workflow","state","decision","user", and the decision's "step",
 * "approver", "reason"}, or crm.transition {"workflow","from","to",
 * "event"[,"data"]}. A timer's failure changed nothing: none. Whatever
 * the form says of events (those are its record changes). */
static int history_event(crm_db *db, const char *workflow, int64_t instance, const char *form, int64_t record,
			 const char *event, const char *from, const char *to, const char *data)
{
	int approval = strcmp(event, "approve") == 0 || strcmp(event, "reject") == 0;
	crm__buf json = CRM__BUF_INIT;
	int rc;

	if (!from && !to)
		return CRM_OK;
	crm__buf_puts(&json, "{\"workflow\":");
	put_str_or_null(&json, workflow);
	if (approval) {
		crm__buf_puts(&json, ",\"state\":");
		put_str_or_null(&json, from);
		crm__buf_puts(&json, *event == 'a' ? ",\"decision\":\"approved\"" : ",\"decision\":\"rejected\"");
		crm__buf_puts(&json, ",\"user\":");
		put_str_or_null(&json, db->actor_user);
		/* the decision's own members: {"step":N,"approver":...,"reason":...} */
		if (data && data[0] == '{' && data[1] != '}') {
			crm__buf_putc(&json, ',');
			crm__buf_puts(&json, data + 1);
		} else
			crm__buf_putc(&json, '}');
	} else {
		crm__buf_puts(&json, ",\"from\":");
		put_str_or_null(&json, from);
		crm__buf_puts(&json, ",\"to\":");
		put_str_or_null(&json, to);
		crm__buf_puts(&json, ",\"event\":");
		crm__json_cstr(&json, event);
		if (data) {
			crm__buf_puts(&json, ",\"data\":");
			crm__buf_puts(&json, data);
		}
		crm__buf_putc(&json, '}');
	}
	rc = json.oom ? crm__error_oom(db)
		      : crm__event_append(db, approval ? "crm.approval" : "crm.transition", form && *form ? form : NULL,
					  record, instance, crm__buf_cstr(&json));
	crm__buf_free(&json);
	return rc;
}

int crm__wf_history_add(crm_db *db, const char *workflow, int64_t instance, const char *form, int64_t record,
			const char *event, const char *from, const char *to, const char *data)
{
	crm__stmt *st = crm__stmt_take(db,
					  "INSERT INTO crm_wf_history(instance, at, event, from_state, to_state, actor, data)"
					  " VALUES(?,?,?,?,?,?,?)",
					  (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	crm__bind_int64(st, 1, instance);
	crm__bind_int64(st, 2, crm_now(db));
	crm__bind_text(st, 3, event, -1);
	crm__bind_text(st, 4, from, -1);
	crm__bind_text(st, 5, to, -1);
	if (db->actor_user)
		crm__bind_text(st, 6, db->actor_user, -1);
	if (data)
		crm__bind_text(st, 7, data, -1);
	rc = crm__step_later(db, st);
	crm__stmt_give(db, st);
	if (rc != CRM_DONE || (rc = audit_history(db, instance, form, record, event, from, to, data)))
		return rc;
	return history_event(db, workflow, instance, form, record, event, from, to, data);
}

void crm__wf_states_reached_sql(crm__buf *sql)
{
	crm__buf_puts(sql, "SELECT record AS rec, state FROM crm_wf_instance WHERE workflow = ? AND form = ?"
			   " UNION ALL SELECT w.record, h.to_state FROM crm_wf_instance AS w"
			   " JOIN crm_wf_history AS h ON h.instance = w.id WHERE w.workflow = ? AND w.form = ?");
}
