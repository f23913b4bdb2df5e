/* Triggers: what record writes do to workflows. A create starts the
 * workflows that start on create; an update starts those waiting for a
 * condition to become true and lets running instances take automatic
 * transitions; a delete ends the record's instances. */
#include <string.h>

#include "core/alloc.h"
#include "workflow_int.h"

static int matches(const crm__filter *f, const crm__form *form, const crm__value *values, int64_t id)
{
	crm__row row = { .fields = values };

	if (!f)
		return 1;
	row.sys[0].kind = CRM__V_INT;
	row.sys[0].i = id;
	return crm__filter_eval(f, form, &row);
}

/* A deleted record's active instances end with it, in the delete's
 * transaction: a "(delete)" history row each, their timers removed, their
 * pending approvals cancelled, their status "cancelled". Parameters:
 * ?1 form, ?2 record, ?3 now, ?4 the actor. */
static int end_instances(crm_db *db, const char *form, int64_t record)
{
#define ACTIVE "(SELECT id FROM crm_wf_instance WHERE form = ?1 AND record = ?2 AND status = 'active')"
	static const char *const sql[] = {
		"INSERT INTO crm_wf_history(instance, at, event, from_state, to_state, actor)"
		" SELECT id, ?3, '(delete)', state, NULL, ?4 FROM crm_wf_instance"
		" WHERE form = ?1 AND record = ?2 AND status = 'active' ORDER BY id",
		"DELETE FROM crm_wf_timer WHERE instance IN " ACTIVE,
		"UPDATE crm_wf_approval SET decision = 'cancelled', actor = ?4, at = ?3, reason = 'the record was deleted'"
		" WHERE decision IS NULL AND instance IN " ACTIVE,
		"UPDATE crm_wf_instance SET status = 'cancelled', updated_at = ?3 WHERE id IN " ACTIVE,
	};
#undef ACTIVE
	int rc;

	if ((rc = crm__wf_schema(db)))
		return rc;
	rc = CRM_DONE;
	for (size_t i = 0; i < sizeof sql / sizeof *sql && rc == CRM_DONE; i++) {
		crm__stmt *st = crm__stmt_take(db, sql[i], (size_t)-1);
		if (!st)
			return db->errcode;
		crm__bind_text(st, 1, form, -1);
		crm__bind_int64(st, 2, record);
		if (crm__parameter_count(st) >= 3)
			crm__bind_int64(st, 3, crm_now(db));
		if (crm__parameter_count(st) >= 4 && db->actor_user)
			crm__bind_text(st, 4, db->actor_user, -1);
		rc = crm__step(st);
		crm__stmt_give(db, st);
	}
	return rc == CRM_DONE ? CRM_OK : rc;
}

int crm__workflow_watches(crm_db *db, const crm__form *form)
{
	crm__workflow **wfs;
	int n;

	if (crm__workflows_for_form(db, form->name, &wfs, &n))
		return 1; /* after_write meets the failure again and reports it */
	for (int i = 0; i < n; i++)
		if (wfs[i]->form_name && strcmp(wfs[i]->form_name, form->name) == 0)
			return 1;
	return 0;
}

int crm__workflow_after_write(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now)
{
	crm__workflow **wfs;
	int64_t *ids = NULL;
	int n, nids = 0, rc, bound = 0, settles = 0;

	if ((rc = crm__workflows_for_form(db, w->form->name, &wfs, &n)))
		return rc;
	for (int i = 0; i < n; i++)
		if (wfs[i]->form_name && strcmp(wfs[i]->form_name, w->form->name) == 0) {
			bound = 1;
			settles |= wfs[i]->has_when;
		}
	if (!bound)
		return CRM_OK; /* the common case: nothing to do, no query made */
	if (!now)
		return end_instances(db, w->form->name, w->id);
	/* Only automatic transitions care about a running instance's record. */
	if (old && settles && (rc = crm__wf_instances_of(db, w->form->name, w->id, &ids, &nids)))
		return rc;
	/* Running instances take the automatic transitions the change allows. */
	for (int i = 0; i < nids && rc == CRM_OK; i++)
		if (!crm__wf_is_firing(db, ids[i]))
			rc = crm__wf_settle(db, ids[i], old);
	crm__free(ids);
	for (int i = 0; i < n && rc == CRM_OK; i++) {
		crm__workflow *wf = wfs[i];
		int nrunning = 0, start;

		if (!wf->form_name || strcmp(wf->form_name, w->form->name) != 0)
			continue;
		/* A record brought back (crm_merge_undo) finds its instances as it left them. */
		if (!old)
			start = wf->start_on == CRM__START_CREATE && !w->restore_id &&
				matches(wf->start_when, w->form, now, w->id);
		else
			start = wf->start_on == CRM__START_UPDATE && matches(wf->start_when, w->form, now, w->id) &&
				!matches(wf->start_when, w->form, old, w->id);
		if (!start)
			continue;
		if (old) { /* at most one instance of a workflow per record */
			crm__stmt *st = crm__stmt_take(
				db, "SELECT 1 FROM crm_wf_instance WHERE form=? AND record=? AND workflow=?", (size_t)-1);
			if (!st)
				return db->errcode;
			crm__bind_text(st, 1, w->form->name, -1);
			crm__bind_int64(st, 2, w->id);
			crm__bind_text(st, 3, wf->name, -1);
			nrunning = crm__step(st) == CRM_ROW;
			crm__stmt_give(db, st);
		}
		if (!nrunning)
			rc = crm__wf_start(db, wf, w->id, NULL);
	}
	return rc;
}
