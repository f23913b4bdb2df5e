/*
 * libcrm — the event outbox. Record changes (crm.create, crm.update,
 * crm.delete), workflow transitions (crm.transition), approval decisions
 * (crm.approval), workflow `emit` actions and Lua `crm.emit` append
 * events inside the transaction that caused them, so an event exists
 * exactly when its change was committed. Each event has a sequence
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

/* ---- appending: what the engines add to the stream (docs/integration.md,
 * "The event stream: what is appended") ---- */

/**
 * Called after a transaction of this handle that appended events has
 * committed, outside any transaction: every event it appended has a
 * sequence number first_seq <= seq <= last_seq, and no other
 * transaction's event lies in that range (numbers there without an event
 * belong to writes a savepoint undid). Not called after a rollback.
 */
typedef void (*crm_event_hook_fn)(void *payload, int64_t first_seq, int64_t last_seq);

/**
 * Set (fn NULL: remove) the after-commit hook of this handle; `payload`
 * is borrowed and handed to every call. One hook per handle: setting
 * another replaces it. The hook runs on the thread that committed, after
 * the committing call has done its work but before it returns (its
 * result is already decided: nothing the hook does changes it, and the
 * last error is kept for the caller).
 *
 * Inside the hook the handle may be used for anything but crm_close:
 * reading events (crm_event_list), writing (which appends events), even
 * setting the hook. The hook is never re-entered: the events of a commit
 * made inside it are reported by another call once it has returned.
 * A host that only needs a wake-up (signal a delivery thread, write to a
 * pipe) should do just that: the committing call waits for it.
 * Returns CRM_OK (CRM_ENOMEM when the handle's event state cannot be made).
 */
CRM_EXTERN(int) crm_event_hook_set(crm_db *db, crm_event_hook_fn fn, void *payload);

#ifdef __cplusplus
}
#endif
#endif
