/* Internals shared by the audit trail's files: the handle's audit state,
 * an entry's fields and its canonical encoding (lib/audit/encoding.c). */
#ifndef CRM_LIB_AUDIT_INT_H
#define CRM_LIB_AUDIT_INT_H

#include <openssl/evp.h>

#include "audit.h"

#define CRM__AUDIT_HASH_BYTES 32 /* SHA-256 */

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
/* The handle's buffers for a record's encoding and its names (lib/audit/
 * entries.c), empty: 0, or -1 with CRM_ENOMEM set on db. */
int crm__audit_buffers(crm_db *db, crm__buf **data, crm__buf **names);

/* OpenSSL's SHA-256 and HMAC-SHA-256, fetched on first use and kept with
 * their contexts (fetching per entry costs more than hashing one). Zero
 * it to start; crm__audit_hasher_free releases it (and zeroes the key
 * material its contexts hold). */
typedef struct crm__audit_hasher {
	EVP_MD *md;
	EVP_MD_CTX *md_ctx;
	EVP_MAC *mac;
	EVP_MAC_CTX *mac_ctx;
} crm__audit_hasher;
void crm__audit_hasher_free(crm__audit_hasher *h);

/* The entry's hash over its canonical encoding (docs/audit.md), built in
 * `enc` (which keeps its memory for the next one): SHA-256, or
 * HMAC-SHA-256 under `key`. -1 when `enc` ran out of memory, -2 when
 * libcrypto failed (no SHA-256 or HMAC in its providers, or its own
 * memory ran out): crm__audit_hash_error turns either into the handle's
 * error. */
int crm__audit_hash(crm__audit_hasher *h, const unsigned char *key, size_t keylen, crm__buf *enc,
		    const crm__audit_entry *e, unsigned char out[CRM__AUDIT_HASH_BYTES]);
int crm__audit_hash_error(crm_db *db, int failed);
/* Hashes as verify prints them (and as stored before format 4): 64
 * lowercase hex digits. from_hex: 0, or -1 for anything else. */
void crm__audit_to_hex(const unsigned char bin[CRM__AUDIT_HASH_BYTES], char hex[2 * CRM__AUDIT_HASH_BYTES + 1]);
int crm__audit_from_hex(const char *hex, size_t n, unsigned char bin[CRM__AUDIT_HASH_BYTES]);

#endif
