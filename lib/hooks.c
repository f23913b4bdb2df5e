/* The write-path hooks of the engines above the form engine, linked here at
 * the top so lower layers call up without depending on upper headers. */
#include "audit/entries.h"
#include "event/event.h"
#include "form/form_int.h"
#include "io/dedup.h"
#include "report/rollup.h"
#include "script/script.h"
#include "search/search_int.h"
#include "workflow/decision.h"
#include "workflow/workflow_int.h"

static const enum crm__change change_of[] = {
	[CRM__WRITE_INSERT] = CRM__CHANGE_CREATE,
	[CRM__WRITE_UPDATE] = CRM__CHANGE_UPDATE,
	[CRM__WRITE_DELETE] = CRM__CHANGE_DELETE,
};

static int audit_entry(crm_db *db, const crm__write *w, const crm__buf *data, const crm__buf *fields, int64_t *shown,
		       crm__queued_fn *done, void **payload)
{
	return done ? crm__audit_record_queued(db, w, data->p, data->len, fields, shown, done, payload)
		    : crm__audit_record(db, w, data->p, data->len, fields, shown);
}

static int change_event(crm_db *db, const crm__write *w, const crm__buf *data, int64_t **show, crm__queued_fn *done,
			void **payload)
{
	return done ? crm__event_create_queued(db, w->form->name, data->p, data->len, show, done, payload)
		    : crm__event_change(db, change_of[w->op], w->form->name, w->id, w->version, data->p, data->len, show);
}

/* The audit entry and the event of a record write, from one encoding;
 * with `done` (a queued insert, its id not known yet) both wait for it.
 * Where the backend steps at once (SQLite), the event of an audited form
 * shows its entry rather than a copy of the encoding (half the bytes; the
 * event read joins the entry), so the event is made first and the entry
 * told where its id goes. Pipelined (PostgreSQL), the entry's id comes too
 * late; the entry goes first there, as its chain's head, read when the
 * entries are appended, brings the queued inserts' outcomes back before
 * the events are (fewer round trips for a batch). An insert's or a delete's
 * entry is compact (its values without their names, which the chain keeps
 * once) when no event copies the encoding. */
static int record_change(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now,
			 crm__queued_fn *done, void **payload)
{
	const crm__form *form = w->form;
	const crm__buf *data, *fields;
	int64_t *shown = NULL, **show = form->audit && form->events && !db->be->pipeline && crm__audit_holds_encoding(w)
						? &shown
						: NULL;
	int rc;

	if (!form->audit && !form->events)
		return CRM_OK;
	rc = crm__audit_encode(db, w, old, now, form->audit && (show || !form->events) && crm__audit_compacts(w), &data,
			       &fields);
	if (rc == CRM_OK && form->audit && !show)
		rc = audit_entry(db, w, data, fields, NULL, done, payload);
	if (rc == CRM_OK && form->events)
		rc = change_event(db, w, data, show, done, payload);
	if (rc == CRM_OK && show && (rc = audit_entry(db, w, data, fields, shown, done, payload)) == CRM_OK)
		rc = crm__event_bounded(db);
	return rc;
}

/* The audit entry and event first, so the chain and the stream list a
 * write before what it set off; duplicate keys next (a blocked insert
 * fails before anything else runs); the search index; rollups next, so
 * workflow hooks that read a parent see its new totals. */
static int after_write(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now)
{
	int rc = record_change(db, w, old, now, NULL, NULL);

	if (rc == CRM_OK)
		rc = crm__dedup_after_write(db, w, old, now);
	if (rc == CRM_OK)
		rc = crm__search_after_write(db, w, old, now);
	if (rc == CRM_OK)
		rc = crm__rollup_after_write(db, w, old, now);
	return rc ? rc : crm__workflow_after_write(db, w, old, now);
}

static int insert_queued(crm_db *db, const crm__write *w, crm__queued_fn *done, void **payload)
{
	return record_change(db, w, NULL, w->rec->values, done, payload);
}

static int watches_inserts(crm_db *db, crm__form *form)
{
	int search = crm__search_watches(db, form);

	return search ? search : crm__dedup_watches(form) || crm__rollup_watches(db, form) || crm__workflow_watches(db, form);
}

const crm__write_hooks crm__hooks = {
	.compute = crm__script_compute,
	.after_write = after_write,
	.watches_inserts = watches_inserts,
	.validate = crm__script_validate,
	.sandbox_ready = crm__decision_lua_register,
	.insert_queued = insert_queued,
};
