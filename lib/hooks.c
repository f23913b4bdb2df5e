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

/* Room made for a change's encoding at once: most fit, in one allocation
 * rather than a series of doublings (an oom shows in the buffer). */
#define DATA_GUESS 1023

static const enum crm__change change_of[] = {
	[CRM__WRITE_INSERT] = CRM__CHANGE_CREATE,
	[CRM__WRITE_UPDATE] = CRM__CHANGE_UPDATE,
	[CRM__WRITE_DELETE] = CRM__CHANGE_DELETE,
};

/* The audit entry and the event of a record write, from one encoding;
 * with `done` (a queued insert, its id not known yet) both wait for it. */
static int record_change(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now,
			 crm__queued_fn *done, void **payload)
{
	const crm__form *form = w->form;
	crm__buf data = CRM__BUF_INIT;
	int rc = CRM_OK;

	if (!form->audit && !form->events)
		return CRM_OK;
	(void)crm__buf_reserve(&data, DATA_GUESS);
	crm__audit_encode(db, &data, w, old, now);
	if (data.oom)
		rc = crm__error_oom(db);
	else if (done) {
		if (form->audit)
			rc = crm__audit_record_queued(db, w, data.p, data.len, done, payload);
		if (rc == CRM_OK && form->events)
			rc = crm__event_create_queued(db, form->name, data.p, data.len, done, payload);
	} else {
		if (form->audit)
			rc = crm__audit_record(db, w, data.p, data.len);
		if (rc == CRM_OK && form->events)
			rc = crm__event_change(db, change_of[w->op], form->name, w->id, w->version, data.p, data.len);
	}
	crm__buf_free(&data);
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
