/* The event outbox: every event the engines append (record changes,
 * workflow transitions and approvals, workflow actions, Lua hooks) goes to
 * crm_event inside the transaction that caused it, so an event exists
 * exactly when the change that caused it was committed. The host reads
 * events in order and acknowledges them (integration issue). Appending:
 * lib/event/append.c; reading: lib/event/outbox.c. */
#ifndef CRM_LIB_EVENT_H
#define CRM_LIB_EVENT_H

#include "audit/audit.h"
#include "core/db_int.h"
#include "crm/event.h"

/* Emit an event named by a definition or a script: `type` (e.g.
 * "escalate_to_manager"; names starting with "crm." are libcrm's own and
 * refused with CRM_EINVAL), the record it is about (form may be NULL), the
 * workflow instance that emitted it (0: none) and `payload` JSON text (may
 * be NULL for {}). With out_id it is appended at once (after the events
 * the transaction made before it) and *out_id gets its id; without, it
 * waits with them for the commit. */
int crm__event_emit(crm_db *db, const char *type, const char *form, int64_t record, int64_t instance,
		    const char *payload, int64_t *out_id);

/* Readers of the outbox (crm_event_list, consumers): the SELECT of every
 * column crm__event_rows reads, FROM crm_event and then `tail` (a literal:
 * WHERE, ORDER BY id and LIMIT). Where the backend steps at once (SQLite),
 * an event showing an audit entry (payload NULL, audit set) reads its
 * payload from the entry: the entry's data, wrapped as {"changed": data,
 * "version": N} for an update (what crm__event_change writes), a compact
 * entry's values zipped with their names (crm_json_zip, which that
 * backend defines; docs/audit.md); '{}' when the entry is gone (deleted
 * behind libcrm's back, which crm_audit_verify reports). An event with its
 * own payload costs the read one test of it. Pipelined (PostgreSQL), every
 * event holds its own payload (lib/hooks.c). */
#define CRM__EVENT_COLUMNS "SELECT id, at, type, form, record, instance, actor, "
#define CRM__EVENT_SELECT_SHOWN                                                                                    \
	CRM__EVENT_COLUMNS "coalesce(payload, (SELECT CASE WHEN crm_event.type = 'crm.update' THEN '{\"changed\":' ||"  \
			   " crm_audit.data || ',\"version\":' || crm_audit.version || '}' WHEN substr(crm_audit.data, 1, 1) =" \
			   " '[' THEN crm_json_zip(" CRM__AUDIT_FIELDS_OF("crm_audit") ", crm_audit.data)"                    \
			   " ELSE crm_audit.data END FROM crm_audit WHERE crm_audit.id = crm_event.audit), '{}') AS payload"   \
			   " FROM crm_event"
#define CRM__EVENT_SELECT_OWN CRM__EVENT_COLUMNS "payload FROM crm_event"
#define CRM__EVENT_SELECT(db, tail) ((db)->be->pipeline ? CRM__EVENT_SELECT_OWN tail : CRM__EVENT_SELECT_SHOWN tail)
/* Step `st` (made from CRM__EVENT_SELECT) to its end, appending each row
 * to `json` as one object of crm_event_list's array, a comma before all
 * but the first (`*n` counts them, across calls); *last_seq gets the seq
 * of the last row. Returns the last step's code (CRM_DONE when all went
 * well). */
int crm__event_rows(crm__stmt *st, crm__buf *json, int *n, int64_t *last_seq);

/* Consumer batches (lib/event/cursor.c): a new, empty crm_event_cursor of
 * `db` (CRM_OK or CRM_ENOMEM, set on db); crm__event_hold steps `st` (made
 * from CRM__EVENT_SELECT) to its end, copying every row into the cursor
 * (CRM_OK, or the failing step's code or CRM_ENOMEM, set on db); and
 * crm__event_cursor_stmt is the statement the held rows make, for
 * crm__event_rows (stepping it moves the cursor: use it instead of
 * crm_event_cursor_next, never beside it). */
int crm__event_cursor_new(crm_db *db, crm_event_cursor **out);
/* The handle's two spare buffers (lib/event/append.c): a freed cursor
 * leaves its own there for the next one, so a consumer reading batch
 * after batch does not allocate (and fault in) new memory for each. NULL
 * on a closed handle, or when its event state cannot be made. */
crm__buf *crm__event_spares(crm_db *db);
int crm__event_hold(crm_event_cursor *cur, crm__stmt *st);
crm__stmt *crm__event_cursor_stmt(crm_event_cursor *cur);

/* Append one of libcrm's own events (`type` "crm.transition" ...) with
 * `payload` JSON text, as crm__event_emit without out_id. */
int crm__event_append(crm_db *db, const char *type, const char *form, int64_t record, int64_t instance,
		      const char *payload);

/* A record change: crm.create, crm.update or crm.delete of record `record`
 * of `form`, at `version` after the change; `data` (len bytes) is its
 * encoding from the audit trail's one encoder (crm__audit_encode: the
 * values, or the changed fields as {"f": [before, after]}). An update
 * whose `data` is {} (nothing changed) appends nothing.
 * With `audit_slot` (inside a write's transaction; *audit_slot NULL
 * before), the event shows the audit entry that holds `data` instead of a
 * copy: *audit_slot gets where that entry's id goes (crm__audit_append's
 * id_out; left NULL when no event is made), and the caller calls
 * crm__event_bounded once the entry is made. */
enum crm__change { CRM__CHANGE_CREATE, CRM__CHANGE_UPDATE, CRM__CHANGE_DELETE };
int crm__event_change(crm_db *db, enum crm__change op, const char *form, int64_t record, int64_t version,
		      const char *data, size_t len, int64_t **audit_slot);
/* The crm.create of an insert queued without its id (crm__backend.queue):
 * `data` is copied (or shown from the audit entry: `audit_slot` as
 * crm__event_change's), *done and *payload are replaced by a callback that
 * notes the id and calls them. Dropped when the insert failed. */
int crm__event_create_queued(crm_db *db, const char *form, const char *data, size_t len, int64_t **audit_slot,
			     crm__queued_fn *done, void **payload);
/* Append the open transaction's events when it keeps many (after events
 * made with an audit_slot, whose entries are made by then). */
int crm__event_bounded(crm_db *db);

/* Append the open transaction's events now (before reading crm_event
 * inside it); CRM_OK at once outside a transaction. */
int crm__event_flush(crm_db *db);

/* The sequence numbers of the events emitted about record `record` of `form` (not libcrm's own crm.* ones),
 * oldest first, appended to `seqs` as int64_t values; *n counts them. */
int crm__event_about(crm_db *db, const char *form, int64_t record, crm__buf *seqs, int *n);

#endif
