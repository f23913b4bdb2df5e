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
#include "row.h"

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

/* ---- consumers: delivery, leases, retention (docs/integration.md) ----
 *
 * A consumer is a named reader of the outbox that the database remembers:
 * its position (the last sequence number it acknowledged), a filter and a
 * lease. crm_consumer_read hands out the next events after the position
 * that match the filter, in commit order, and leases them for the
 * consumer's lease_ms: until the lease ends or they are acknowledged, a
 * read of the same consumer gets an empty array (one reader at a time per
 * consumer; acknowledgements are cumulative). Unacknowledged events are
 * handed out again once the lease has expired (the handle's clock,
 * crm_now): delivery is at least once. crm_consumer_ack moves the
 * position, never backwards. Events no consumer still needs are removed by
 * crm_event_prune.
 *
 * Consumer names are 1 to 64 characters of a-z, 0-9, '_', '.' and '-'.
 * Only the system actor uses consumers (CRM_EPERM otherwise, as for
 * crm_event_list). Bad names, options or sequence numbers are CRM_EINVAL
 * and change nothing. Inputs are borrowed; what comes back through
 * `char **out` is the caller's, freed with crm_free.
 */

/**
 * Create consumer `name`, or change its settings. `options_json` (NULL for
 * none) is an object with any of
 *   "filter": {"forms": ["deal", ...], "types": ["deal_won", "crm.*", ...]}
 *             or null (every event): an event matches when its form is
 *             one of "forms" (an event without a form never does) and its
 *             name is one of "types" (a type ending in '*' is a prefix:
 *             "crm.*", "*"); a list left out does not restrict; at most
 *             100 entries each;
 *   "lease_ms": how long a read leases its events, 1 .. 604800000 (7 days;
 *             default 30000);
 *   "start": "first" (default: the oldest event still in the outbox) or
 *             "last" (only events after the newest one now), for a new
 *             consumer; an existing consumer keeps its position.
 * Members left out keep their current values (defaults for a new one).
 */
CRM_EXTERN(int) crm_consumer_set(crm_db *db, const char *name, const char *options_json);

/**
 * The next at most `limit` (1 .. 100000) events after consumer `name`'s
 * position that match its filter, in commit order, as crm_event_list's
 * JSON array in *out, leased to the caller. An empty array: nothing new,
 * or the consumer's events are leased to a reader that has not yet
 * acknowledged them. A consumer that does not exist is created with the
 * defaults (crm_consumer_set).
 */
CRM_EXTERN(int) crm_consumer_read(crm_db *db, const char *name, int limit, char **out);

/**
 * A batch of events as rows (crm_consumer_read_rows): walked with
 * crm_event_cursor_next, each event read through crm_event_cursor_row.
 */
typedef struct crm_event_cursor crm_event_cursor;

/**
 * crm_consumer_read without JSON: the same events (the next at most
 * `limit` after the position that match the filter), the same lease and
 * the same errors, handed out as a cursor in *out, the caller's to free
 * with crm_event_cursor_free (*out is NULL on failure; an empty cursor
 * means what an empty array means). Acknowledge with crm_consumer_ack as
 * after crm_consumer_read (crm_event_cursor_last_seq acknowledges the
 * whole batch).
 *
 * The batch is read inside the call (its lease depends on it) and held
 * in the cursor's memory: stepping the cursor does no I/O and takes no
 * lock, and the cursor may outlive a host transaction the read was part
 * of (a rollback undoes the lease, not the rows handed out). The cursor
 * borrows its handle: after crm_close its calls fail with CRM_EMISUSE,
 * its accessors return NULL or 0, and crm_event_cursor_free still
 * releases it.
 *
 * The row's columns (include/crm/row.h), by number:
 *   0 seq       integer: crm_row_int64
 *   1 at        datetime: crm_row_int64 in ms since the epoch (UTC),
 *               crm_row_text ISO 8601 "YYYY-MM-DDTHH:MM:SS.mmmZ"
 *   2 type      text: the event's name (crm_consumer_read's "name")
 *   3 form      text, or null
 *   4 record    integer, or null
 *   5 instance  integer, or null
 *   6 actor     text, or null
 *   7 payload   json: the JSON text the event carries, as libcrm wrote
 *               it. It is not checked again on the way out (that check
 *               would cost this read a fifth of its time): a row edited
 *               by hand into something that is not JSON comes as it is
 *               stored, where crm_consumer_read, whose array must stay
 *               parseable, makes a JSON string of it. A consumer that
 *               cannot parse a payload still has its seq to acknowledge.
 */
CRM_EXTERN(int) crm_consumer_read_rows(crm_event_cursor **out, crm_db *db, const char *name, int limit);
/** Advance: CRM_ROW when the next event is ready, CRM_DONE after the last, CRM_EMISUSE for NULL or after crm_close. */
CRM_EXTERN(int) crm_event_cursor_next(crm_event_cursor *cur);
/**
 * Typed access to the current event (the columns above). Borrowed: lives
 * as long as the cursor; the texts it returns until the next
 * crm_event_cursor_next. NULL for a NULL cursor.
 */
CRM_EXTERN(crm_row *) crm_event_cursor_row(crm_event_cursor *cur);
/** How many events the cursor holds (0 after crm_close). */
CRM_EXTERN(int) crm_event_cursor_count(crm_event_cursor *cur);
/** The seq of its last event, to acknowledge the whole batch with (0 when it is empty, and after crm_close). */
CRM_EXTERN(int64_t) crm_event_cursor_last_seq(crm_event_cursor *cur);
/** Release the cursor and the events it holds. NULL does nothing. */
CRM_EXTERN(void) crm_event_cursor_free(crm_event_cursor *cur);

/**
 * Acknowledge every event of consumer `name` up to and including `seq`:
 * its position becomes `seq` (a `seq` at or below the position changes
 * nothing and succeeds, so an acknowledgement may be repeated). A `seq`
 * beyond what the consumer was handed is CRM_EINVAL; an unknown consumer
 * CRM_ENOTFOUND. Acknowledging the last event of a lease ends the lease.
 */
CRM_EXTERN(int) crm_consumer_ack(crm_db *db, const char *name, int64_t seq);

/**
 * Consumer `name`'s state as a JSON object in *out:
 *   {"name", "position": last acknowledged seq, "delivered": the highest
 *    seq it was handed (or passed over, not matching its filter),
 *    "lease": null or {"to": seq, "until": ISO time} while a lease holds,
 *    "lease_ms", "filter": object or null, "created_at": ISO time,
 *    "head": the newest seq in the outbox (0 when empty)}.
 * CRM_ENOTFOUND when there is no such consumer.
 */
CRM_EXTERN(int) crm_consumer_get(crm_db *db, const char *name, char **out);

/** Every consumer's state (as crm_consumer_get), by name, as a JSON array in *out. */
CRM_EXTERN(int) crm_consumer_list(crm_db *db, char **out);

/** Remove consumer `name` (CRM_ENOTFOUND when there is none): it no longer holds back crm_event_prune. */
CRM_EXTERN(int) crm_consumer_drop(crm_db *db, const char *name);

/** The newest sequence number in the outbox (0 when it is empty) in *out_seq: where a reader that wants only new events starts. */
CRM_EXTERN(int) crm_event_head(crm_db *db, int64_t *out_seq);

/**
 * Remove the events every consumer has acknowledged (at or below the
 * lowest position), and when `older_than_ms` > 0 only those whose time is
 * more than that long before crm_now. Without any consumer nothing has
 * been acknowledged and nothing is removed. *out_removed (may be NULL)
 * gets the number of events removed. `older_than_ms` < 0 is CRM_EINVAL.
 */
CRM_EXTERN(int) crm_event_prune(crm_db *db, int64_t older_than_ms, int64_t *out_removed);

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
