/*
 * The audit trail (docs/audit.md): every change libcrm makes (record
 * writes from every path, workflow transitions, approval decisions,
 * metadata applies, reverts, denied writes) appends one entry to crm_audit
 * in the transaction of the change. Entries are chained: each carries the
 * SHA-256 (HMAC-SHA-256 once the host set a key) of its canonical encoding
 * and of the previous entry's hash, so crm_audit_verify finds rows edited,
 * deleted, inserted or reordered behind libcrm's back.
 *
 * Ownership: inputs are borrowed; what comes back through `char **out` is
 * the caller's, freed with crm_free (NULL on failure).
 */
#ifndef CRM_AUDIT_H
#define CRM_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The entries about record `id` of `form`, oldest first, as a JSON array
 * of {"id","seq","at","actor","op","form","record","version","data"}
 * (at in ISO 8601 UTC; data as docs/audit.md describes per op). An empty
 * array when there are none; CRM_ENOTFOUND when `form` does not exist. */
CRM_EXTERN(int) crm_audit_history(crm_db *db, const char *form, int64_t id, char **out);

/** Record `id` of `form` as it was at `at_ms` (ms since the epoch),
 * rebuilt from its entries, shaped as crm_record_get answers (fields by
 * the names they had then). Works after the record was deleted.
 * CRM_ENOTFOUND, "no <form> record with id N at <time>", when it did not
 * exist then (not yet inserted, already deleted, or never audited). */
CRM_EXTERN(int) crm_record_at(crm_db *db, const char *form, int64_t id, int64_t at_ms, char **out);

/** Bring record `id` back to its values at `version` (an earlier version
 * found in its entries), through the ordinary write path: validation,
 * computed fields, rollups, workflow triggers and the audit entry (op
 * "revert") all apply, and the record's version moves on. Fields that no
 * longer exist are left out; a value that no longer converts to its
 * field's current type fails as an update would (CRM_ECONSTRAINT naming
 * the field), and nothing changes. CRM_ENOTFOUND for a missing record or
 * version, CRM_EINVAL for a version that is not earlier than the current. */
CRM_EXTERN(int) crm_record_revert(crm_db *db, const char *form, int64_t id, int64_t version);

/** Check the whole chain: *out = {"ok":bool,"entries":N,"head":"hex"|null,
 * "problems":[{"id":..,"seq":..,"kind":"hash"|"link"|"order"|"tail"|"head",
 * "message":..}]}. CRM_OK whenever the check ran (look at "ok"). */
CRM_EXTERN(int) crm_audit_verify(crm_db *db, char **out);

/** crm_audit_verify, and also check that `head` (the 64-hex-digit "head"
 * an earlier verify returned, kept by the host outside the database) is
 * still an entry of the chain: a chain cut back behind it is reported
 * ("kind":"head"). NULL: as crm_audit_verify. */
CRM_EXTERN(int) crm_audit_verify_head(crm_db *db, const char *head, char **out);

/** Hash entries with HMAC-SHA-256 under `key` (16 to 1024 bytes, copied)
 * from now on, on this handle; NULL/0 goes back to plain SHA-256. Set it
 * on every handle before it writes or verifies: a keyed chain verifies
 * only with its key (docs/audit.md, "Threat model"). */
CRM_EXTERN(int) crm_audit_key_set(crm_db *db, const void *key, size_t len);

#ifdef __cplusplus
}
#endif

#endif
