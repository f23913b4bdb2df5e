/* Approvals: a state whose exit needs decisions from roles or users, in
 * sequence (technical, then legal, then finance), from all of them, or from
 * any one. Every decision is recorded with its actor, time and reason; a
 * rejection fires the state's "rejected" event, completion its "approved". */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "workflow_int.h"

int crm__wf_approval_enter(crm_db *db, crm__workflow *wf, const crm__wf_instance *inst, int state)
{
	const crm__wf_approval *ap = wf->states[state].approval;
	crm__stmt *st;
	int64_t round = 1;
	int rc = CRM_DONE;

	if (!ap)
		return CRM_OK;
	st = crm__stmt_take(db, "SELECT coalesce(max(round), 0) + 1 FROM crm_wf_approval WHERE instance=? AND state=?",
			    (size_t)-1);
	if (!st)
		return db->errcode;
	crm__bind_int64(st, 1, inst->id);
	crm__bind_text(st, 2, wf->states[state].name, -1);
	if (crm__step(st) == CRM_ROW)
		round = crm__column_int64(st, 0);
	crm__stmt_give(db, st);
	st = crm__stmt_take(db, "INSERT INTO crm_wf_approval(instance, state, round, step, role, \"user\") VALUES(?,?,?,?,?,?)",
			    (size_t)-1);
	if (!st)
		return db->errcode;
	for (int i = 0; i < ap->nsteps && rc == CRM_DONE; i++) {
		crm__bind_int64(st, 1, inst->id);
		crm__bind_text(st, 2, wf->states[state].name, -1);
		crm__bind_int64(st, 3, round);
		crm__bind_int64(st, 4, i);
		crm__bind_text(st, 5, ap->steps[i].role, -1);
		crm__bind_text(st, 6, ap->steps[i].user, -1);
		rc = crm__step(st);
		crm__reset(st);
	}
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

static int has_role(const char *roles, const char *role)
{
	size_t n = strlen(role);

	for (const char *p = roles; p && *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, role, n) == 0)
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

typedef struct pending {
	int64_t id;
	int step;
	char who[80];
	int mine;
} pending;

/* The pending steps of the current round, in order. */
static int pending_steps(crm_db *db, const crm__wf_instance *inst, pending *out, int max, int *n)
{
	crm__stmt *st = crm__stmt_take(db,
					  "SELECT id, step, role, \"user\" FROM crm_wf_approval WHERE instance=?1 AND state=?2"
					  " AND decision IS NULL AND round=(SELECT max(round) FROM crm_wf_approval"
					  " WHERE instance=?1 AND state=?2) ORDER BY step",
					  (size_t)-1);
	int rc;

	*n = 0;
	if (!st)
		return db->errcode;
	crm__bind_int64(st, 1, inst->id);
	crm__bind_text(st, 2, inst->state, -1);
	while ((rc = crm__step(st)) == CRM_ROW && *n < max) {
		const char *role = crm__column_text(st, 2);
		const char *user = crm__column_text(st, 3);
		pending *p = &out[(*n)++];
		p->id = crm__column_int64(st, 0);
		p->step = crm__column_int(st, 1);
		snprintf(p->who, sizeof p->who, "%s %s", role ? "role" : "user", role ? role : user);
		p->mine = role ? has_role(db->actor_roles, role) : (db->actor_user && strcmp(user, db->actor_user) == 0);
	}
	crm__stmt_give(db, st);
	return rc == CRM_ROW || rc == CRM_DONE ? CRM_OK : rc;
}

static int record_decision(crm_db *db, int64_t id, const char *decision, const char *reason)
{
	crm__stmt *st = crm__stmt_take(db, "UPDATE crm_wf_approval SET decision=?, actor=?, at=?, reason=? WHERE id=?",
					  (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	crm__bind_text(st, 1, decision, -1);
	crm__bind_text(st, 2, db->actor_user, -1);
	crm__bind_int64(st, 3, crm_now(db));
	crm__bind_text(st, 4, reason, -1);
	crm__bind_int64(st, 5, id);
	rc = crm__step(st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

/* Decide on one instance whose current state awaits approval. */
static int decide_instance(crm_db *db, const crm__wf_instance *inst, const crm__wf_approval *ap, int approve,
			   const char *reason)
{
	pending steps[20];
	crm__buf data = CRM__BUF_INIT;
	int n, rc, chosen = -1;

	if ((rc = pending_steps(db, inst, steps, 20, &n)))
		return rc;
	if (n == 0)
		return crm__error(db, CRM_EINVAL, "nothing awaits a decision in state %s", inst->state);
	for (int i = 0; i < n && chosen < 0; i++) {
		if (ap->mode == CRM__APPROVAL_SEQUENTIAL && i > 0)
			break; /* only the first pending step may decide */
		if (steps[i].mine)
			chosen = i;
	}
	if (chosen < 0)
		return crm__error(db, CRM_EPERM, "%s cannot decide now: waiting for %s", db->actor_user ? db->actor_user : "nobody",
				  steps[0].who);
	if ((rc = record_decision(db, steps[chosen].id, approve ? "approved" : "rejected", reason)))
		return rc;
	crm__buf_puts(&data, "{\"step\":");
	crm__buf_i64(&data, steps[chosen].step);
	crm__buf_puts(&data, ",\"approver\":");
	crm__json_cstr(&data, steps[chosen].who);
	if (reason) {
		crm__buf_puts(&data, ",\"reason\":");
		crm__json_cstr(&data, reason);
	}
	crm__buf_putc(&data, '}');
	rc = data.oom ? crm__error_oom(db)
		      : crm__wf_history_add(db, inst->workflow, inst->id, inst->form, inst->record, approve ? "approve" : "reject", inst->state, inst->state,
					    crm__buf_cstr(&data));
	crm__buf_free(&data);
	if (rc)
		return rc;
	if (!approve)
		return crm__wf_fire(db, inst->id, ap->rejected, NULL, reason);
	if (ap->mode == CRM__APPROVAL_ANY || n == 1)
		return crm__wf_fire(db, inst->id, ap->approved, NULL, NULL);
	return CRM_OK;
}

static int approver_reads(crm_db *db, const char *form_name, int64_t id)
{
	crm__form *form;
	int rc, hidden;

	if ((rc = crm__wf_record_hidden(db, form_name, id, &hidden)) || !hidden)
		return rc;
	return (rc = crm__form_lookup(db, form_name, &form)) ? rc : crm__record_missing(db, form, id);
}

int crm_workflow_decide(crm_db *db, const char *form, int64_t id, const char *decision, const char *reason)
{
	int64_t *ids = NULL;
	int n = 0, rc, approve, done = 0;
	char denied[256] = "";

	if (!db || !form || !decision)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	approve = strcmp(decision, "approve") == 0;
	if (!approve && strcmp(decision, "reject") != 0)
		return crm__error(db, CRM_EINVAL, "a decision is \"approve\" or \"reject\", not '%s'", decision);
	if (!approve && (!reason || !*reason))
		return crm__error(db, CRM_EINVAL, "a rejection needs a reason");
	if (!db->actor_user)
		return crm__error(db, CRM_EPERM, "a decision needs an actor (crm_actor_set)");
	/* Approvers keep their own role rules, and read the record too. */
	if ((rc = approver_reads(db, form, id)))
		return rc;
	if ((rc = crm__tx_begin(db)))
		return rc;
	rc = crm__wf_instances_of(db, form, id, &ids, &n);
	for (int i = 0; i < n && rc == CRM_OK && !done; i++) {
		crm__wf_instance inst;
		crm__workflow *wf;
		int s;

		/* Held: two approvers of one round must not both count the
		 * other's step as pending (and neither fire). */
		if ((rc = crm__wf_instance_lock(db, ids[i], NULL, 0, &inst)) ||
		    (rc = crm__workflow_lookup(db, inst.workflow, inst.version, &wf)))
			break;
		s = crm__wf_state_index(wf, inst.state);
		if (s >= 0 && wf->states[s].approval) {
			rc = decide_instance(db, &inst, wf->states[s].approval, approve, reason);
			/* Not this actor's turn here (nothing was written): another
			 * pending approval of the record may be waiting for them. */
			if (rc == CRM_EPERM) {
				if (!*denied)
					snprintf(denied, sizeof denied, "%s", crm_errmsg(db));
				rc = CRM_OK;
				continue;
			}
			done = 1;
		}
	}
	if (rc == CRM_OK && !done)
		rc = *denied ? crm__error(db, CRM_EPERM, "%s", denied)
			     : crm__error(db, CRM_EINVAL, "%s record %lld awaits no approval", form, (long long)id);
	crm__free(ids);
	return crm__tx_end(db, rc);
}
