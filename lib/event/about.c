/* The events about one record, for the timeline (lib/search/timeline.c):
 * their sequence numbers, read here so no engine above reads crm_event. */
#include "event.h"

int crm__event_about(crm_db *db, const char *form, int64_t record, crm__buf *seqs, int *n)
{
	crm__stmt *st;
	int rc;

	*n = 0;
	/* inside a transaction, its own events are about the record too */
	if ((rc = crm__event_flush(db)))
		return rc;
	/* libcrm's own crm.* events repeat what audit entries, workflow history
	 * and approvals show (docs/integration.md "Timeline") */
	if (!(st = crm__stmt_take(db,
				  "SELECT id FROM crm_event WHERE form = ? AND record = ? AND type NOT LIKE 'crm.%'"
				  " ORDER BY id",
				  (size_t)-1)))
		return db->errcode;
	crm__bind_text(st, 1, form, -1);
	crm__bind_int64(st, 2, record);
	while ((rc = crm__step(st)) == CRM_ROW) {
		crm__buf_put(seqs, &(int64_t){ crm__column_int64(st, 0) }, sizeof(int64_t));
		(*n)++;
	}
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? (seqs->oom ? crm__error_oom(db) : CRM_OK) : rc;
}
