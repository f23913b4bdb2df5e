/* The audit trail inside libcrm (include/crm/audit.h is the API). The
 * chain (lib/audit/chain.c) needs only core, so every engine and core's
 * metadata store append to it; the record entries (lib/audit/entries.c)
 * hook into the form engine's one write path through lib/hooks.c. */
#ifndef CRM_LIB_AUDIT_H
#define CRM_LIB_AUDIT_H

#include "core/db_int.h"

/* Add one entry to the open write transaction: `op` (insert, update,
 * delete, transition, approval, apply, denied, revert), the record it is
 * about (form NULL: none; record 0: none), its version after the change
 * (0: none) and `data`, JSON text (`len` bytes). The actor is the handle's.
 * The entries of a transaction join the chain just before it commits
 * (under the events lock, held to the commit, so appends from several
 * servers form one chain); a savepoint rolled back drops those made in it.
 * With `id_out` (only where the backend steps at once, not pipeline), the
 * entry's id is written there when it is appended: the place must live
 * until then (the event kept in the same transaction that shows the entry,
 * lib/event/append.c, which appends the entries before its events). */
int crm__audit_append(crm_db *db, const char *op, const char *form, int64_t record, int64_t version,
		      const char *data, size_t len, int64_t *id_out);
/* As crm__audit_append for a compact entry (docs/audit.md, "How entries
 * are stored"): `data` is a JSON array of values and `fields` (fields_n
 * bytes) the JSON array of their names. The chain holds the names once, in
 * an entry of op "fields" for `form` appended before the first entry whose
 * names differ from the last such entry's. */
int crm__audit_append_values(crm_db *db, const char *op, const char *form, int64_t record, int64_t version,
			     const char *data, size_t len, const char *fields, size_t fields_n, int64_t *id_out);
/* The index that finds a form's "fields" entries (format 6). */
#define CRM__AUDIT_FIELDS_INDEX "CREATE INDEX IF NOT EXISTS crm_audit_fields ON crm_audit(form, id) WHERE op = 'fields';"
/* SQL: the names of the values of compact entry `t` (crm_audit or an
 * alias of it, a literal): the data of the last "fields" entry of its form
 * before it (crm_audit_fields, a partial index, finds it); NULL for none. */
#define CRM__AUDIT_FIELDS_OF(t)                                                                                     \
	"(SELECT crm_fields.data FROM crm_audit AS crm_fields WHERE crm_fields.op = 'fields' AND crm_fields.form = " t \
	".form AND crm_fields.id < " t ".id ORDER BY crm_fields.id DESC LIMIT 1)"

/* Append the open transaction's entries now (before reading crm_audit
 * inside it); CRM_OK at once outside a transaction. */
int crm__audit_flush(crm_db *db);

/* The entry of an insert queued without its id (crm__backend.queue),
 * compact when `fields` is not NULL (as crm__audit_append_values): `data` is copied, *done and *payload are replaced by a callback that
 * notes the id and calls them. The entry is appended once the id is known,
 * at the latest before the transaction commits; dropped when the insert
 * failed or its transaction rolled back. `id_out` as crm__audit_append. */
int crm__audit_queue(crm_db *db, const char *form, const char *data, size_t len, const char *fields,
		     size_t fields_n, int64_t *id_out, crm__queued_fn *done, void **payload);

/* A write of `op` ("insert", "update", "delete", "fire:EVENT"...) on
 * record `id` (0: none) of `form` was denied for `reason`: audited as op
 * "denied", data {"op","reason"}. The denied write's transaction is rolled
 * back, so the entry is kept on the handle and appended in a transaction
 * of its own once the outermost transaction has ended (the host's own,
 * when it opened one: after its crm_commit or crm_rollback). Returns
 * CRM_OK, or CRM_ENOMEM (the caller still returns its denial). */
int crm__audit_denied(crm_db *db, const char *form, int64_t id, const char *op, const char *reason);

/* The hash scheme and the chain's head cache live in the handle's
 * CRM__EXT_AUDIT slot (made on first use). */
typedef struct crm__audit_state crm__audit_state;

#endif
