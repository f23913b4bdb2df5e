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

/* Readers of the outbox (crm_event_list, consumers): the SELECT of every
 * column crm__event_rows reads, up to FROM crm_event (the caller adds
 * WHERE, ORDER BY id and LIMIT). */
#define CRM__EVENT_SELECT "SELECT id, at, type, form, record, instance, actor, payload FROM crm_event"
/* Step `st` (made from CRM__EVENT_SELECT) to its end, appending each row
 * to `json` as one object of crm_event_list's array, a comma before all
 * but the first (`*n` counts them, across calls); *last_seq gets the seq
 * of the last row. Returns the last step's code (CRM_DONE when all went
 * well). */
int crm__event_rows(crm__stmt *st, crm__buf *json, int *n, int64_t *last_seq);

#endif
