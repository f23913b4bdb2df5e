/* The event outbox: every event the engines emit (workflow actions, Lua
 * hooks) is appended to crm_event inside the emitting transaction, so an
 * event exists exactly when the change that caused it was committed. The
 * host reads events in order and acknowledges them (integration issue). */
#ifndef CRM_LIB_EVENT_H
#define CRM_LIB_EVENT_H

#include "core/db_int.h"

/* Append an event: `type` (e.g. "escalate_to_manager"), the record it is
 * about (form may be NULL), the workflow instance that emitted it (0: none)
 * and `payload` JSON text (may be NULL for {}). */
int crm__event_emit(crm_db *db, const char *type, const char *form, int64_t record, int64_t instance,
		    const char *payload, int64_t *out_id);

/* The sequence numbers of the events about record `record` of `form`,
 * oldest first, appended to `seqs` as int64_t values; *n counts them. */
int crm__event_about(crm_db *db, const char *form, int64_t record, crm__buf *seqs, int *n);

#endif
