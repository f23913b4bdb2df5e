/* Instances that follow a merge of their record (lib/workflow/rebind.h):
 * a customer merged into another keeps its running processes unless the
 * survivor runs the same workflow (one instance per workflow and record). */
#include <stdlib.h>

#include "rebind.h"
#include "workflow_int.h"

/* Bind instance `id` to record `to` with a history row for `event`. */
static int move(crm_db *db, int64_t id, int64_t to, const char *event)
{
	static const char *const sql[] = {
		"UPDATE crm_wf_instance SET record = ?2, updated_at = ?3 WHERE id = ?1",
		"INSERT INTO crm_wf_history(instance, at, event, from_state, to_state, actor)"
		" SELECT id, ?3, ?4, state, state, ?5 FROM crm_wf_instance WHERE id = ?1",
	};
	int rc = CRM_DONE;

	for (size_t i = 0; i < 2 && rc == CRM_DONE; i++) {
		crm__stmt *st = crm__stmt_take(db, sql[i], (size_t)-1);
		if (!st)
			return db->errcode;
		crm__bind_int64(st, 1, id);
		crm__bind_int64(st, 2, to);
		crm__bind_int64(st, 3, crm_now(db));
		if (i == 1) {
			crm__bind_text(st, 4, event, -1);
			if (db->actor_user)
				crm__bind_text(st, 5, db->actor_user, -1);
			else
				crm__bind_null(st, 5);
		}
		rc = crm__step(st);
		crm__stmt_give(db, st);
	}
	return rc == CRM_DONE ? CRM_OK : rc;
}

int crm__wf_merge_instances(crm_db *db, const char *form, int64_t from, int64_t to, crm__buf *moved, crm__buf *closed)
{
	crm__stmt *st;
	int rc, src;

	if ((rc = crm__wf_schema(db)))
		return rc;
	/* One statement tells each instance of `from` whether `to` runs its workflow. */
	st = crm__stmt_take(db,
			    "SELECT i.id, i.status, EXISTS(SELECT 1 FROM crm_wf_instance s WHERE s.form = i.form"
			    " AND s.record = ?3 AND s.workflow = i.workflow) FROM crm_wf_instance i"
			    " WHERE i.form = ?1 AND i.record = ?2 ORDER BY i.id",
			    (size_t)-1);
	if (!st)
		return db->errcode;
	crm__bind_text(st, 1, form, -1);
	crm__bind_int64(st, 2, from);
	crm__bind_int64(st, 3, to);
	while ((src = crm__step(st)) == CRM_ROW) {
		int64_t id = crm__column_int64(st, 0);
		int active = crm__column_bytes(st, 1) == 6 && crm__column_text(st, 1)[0] == 'a';
		crm__buf *into = !crm__column_int64(st, 2) ? moved : active ? closed : NULL;

		if (into) {
			if (into->len)
				crm__buf_putc(into, ',');
			crm__buf_i64(into, id);
		}
	}
	crm__stmt_give(db, st);
	if (src != CRM_DONE)
		return src;
	if (moved->oom || closed->oom)
		return crm__error_oom(db);
	/* Moved after the listing: the statement no longer reads the table. */
	for (const char *p = crm__buf_cstr(moved); *p && rc == CRM_OK;) {
		char *end;
		int64_t id = strtoll(p, &end, 10);
		rc = move(db, id, to, "(merge)");
		p = *end ? end + 1 : end;
	}
	return rc;
}

int crm__wf_move_back(crm_db *db, const char *form, const int64_t *ids, int n, int64_t from, int64_t to)
{
	int rc = n ? crm__wf_schema(db) : CRM_OK;

	for (int i = 0; i < n && rc == CRM_OK; i++) {
		crm__stmt *st = crm__stmt_take(db, "SELECT 1 FROM crm_wf_instance WHERE id = ?1 AND form = ?2 AND record = ?3",
					       (size_t)-1);
		if (!st)
			return db->errcode;
		crm__bind_int64(st, 1, ids[i]);
		crm__bind_text(st, 2, form, -1);
		crm__bind_int64(st, 3, from);
		rc = crm__step(st);
		crm__stmt_give(db, st);
		if (rc == CRM_DONE)
			return crm__error(db, CRM_ECONFLICT, "workflow instance %lld no longer runs on %s record %lld",
					  (long long)ids[i], form, (long long)from);
		if (rc == CRM_ROW)
			rc = move(db, ids[i], to, "(merge undone)");
	}
	return rc;
}
