/* Internals shared by the audit trail's files: the handle's audit state,
 * an entry's fields and its canonical encoding (lib/audit/encoding.c). */
#ifndef CRM_LIB_AUDIT_INT_H
#define CRM_LIB_AUDIT_INT_H

#include <sodium.h>

#include "audit.h"

#define CRM__AUDIT_HASH_BYTES crypto_hash_sha256_BYTES

/* One entry's fields, as stored (text not NUL-terminated). */
typedef struct crm__audit_entry {
	int64_t seq, at, record, version; /* record, version: 0 is null */
	const char *actor, *op, *form, *data;
	size_t actor_n, op_n, form_n, data_n;
	unsigned char prev[CRM__AUDIT_HASH_BYTES];
} crm__audit_entry;

/* The handle's audit state (made on first use; NULL with the error set
 * when memory ran out) and its key (NULL: plain SHA-256). */
crm__audit_state *crm__audit_state_of(crm_db *db);
const unsigned char *crm__audit_key(const crm__audit_state *s, size_t *len);

/* The entry's hash over its canonical encoding (docs/audit.md), built in
 * `enc` (which keeps its memory for the next one): SHA-256, or
 * HMAC-SHA-256 under `key`. -1 when memory ran out. */
int crm__audit_hash(const unsigned char *key, size_t keylen, crm__buf *enc, const crm__audit_entry *e,
		    unsigned char out[CRM__AUDIT_HASH_BYTES]);
/* Hashes as stored: 64 lowercase hex digits. from_hex: 0, or -1 for
 * anything else. */
void crm__audit_to_hex(const unsigned char bin[CRM__AUDIT_HASH_BYTES], char hex[2 * CRM__AUDIT_HASH_BYTES + 1]);
int crm__audit_from_hex(const char *hex, size_t n, unsigned char bin[CRM__AUDIT_HASH_BYTES]);

#endif
