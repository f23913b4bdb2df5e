/*
 * libcrm — the event outbox. Workflow `emit` actions and Lua `crm.emit`
 * append events inside the transaction that caused them, so an event
 * exists exactly when its change was committed. Each event has a sequence
 * number (`seq`) that grows in commit order; a reader
 * remembers the last one it handled and asks for the events after it.
 */
#ifndef CRM_EVENT_H
#define CRM_EVENT_H

#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * At most `limit` (>= 1) events with a sequence number above `after_seq`
 * (>= 0; 0 for the first one), in commit order, as a JSON array in *out
 * (crm_free) of
 *   {"seq": N, "at": ISO 8601 UTC time, "name": the event's name,
 *    "form": F or null, "record": id or null (the record it is about),
 *    "instance": id or null (the workflow instance whose action emitted it),
 *    "actor": user or null, "payload": the JSON the event carries}.
 * An empty array means there is nothing after `after_seq` yet. Bad
 * arguments are CRM_EINVAL and change nothing. Only the system actor
 * reads the outbox (a payload may carry anything an action wrote):
 * another actor gets CRM_EPERM (docs/access.md).
 */
CRM_EXTERN(int) crm_event_list(crm_db *db, int64_t after_seq, int limit, char **out);

#ifdef __cplusplus
}
#endif
#endif
