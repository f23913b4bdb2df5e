/* The canonical encoding of an audit entry and its hash (docs/audit.md,
 * "The chain and its canonical encoding"): what libcrm writes and what
 * crm_audit_verify recomputes. */
#include "audit_int.h"

#define HASH_BYTES CRM__AUDIT_HASH_BYTES

/* The encoding is written into a buffer and hashed in one call: one
 * update of the whole is much faster than one per field. */
static void put_u64(crm__buf *b, uint64_t v)
{
	unsigned char x[8];

	for (int i = 0; i < 8; i++)
		x[i] = (unsigned char)(v >> (56 - 8 * i));
	crm__buf_put(b, x, 8);
}

/* 'N' for null; 'I' and 8 bytes big-endian (two's complement). */
static void put_int(crm__buf *b, int has, int64_t v)
{
	crm__buf_putc(b, has ? 'I' : 'N');
	if (has)
		put_u64(b, (uint64_t)v);
}

/* 'N' for null; 'S', the length in 8 bytes big-endian, the bytes. */
static void put_text(crm__buf *b, const char *s, size_t n)
{
	crm__buf_putc(b, s ? 'S' : 'N');
	if (s) {
		put_u64(b, (uint64_t)n);
		if (n)
			crm__buf_put(b, s, n);
	}
}

static const char MAGIC[] = "crm-audit-1"; /* with its NUL */

int crm__audit_hash(const unsigned char *key, size_t keylen, crm__buf *enc, const crm__audit_entry *e,
		    unsigned char out[CRM__AUDIT_HASH_BYTES])
{
	crm__buf_reset(enc);
	crm__buf_put(enc, MAGIC, sizeof MAGIC);
	put_int(enc, 1, e->seq);
	put_int(enc, 1, e->at);
	put_text(enc, e->actor, e->actor_n);
	put_text(enc, e->op, e->op_n);
	put_text(enc, e->form, e->form_n);
	put_int(enc, e->record != 0, e->record);
	put_int(enc, e->version != 0, e->version);
	put_text(enc, e->data, e->data_n);
	crm__buf_put(enc, e->prev, HASH_BYTES);
	if (enc->oom)
		return -1;
	if (key) {
		crypto_auth_hmacsha256_state h;
		crypto_auth_hmacsha256_init(&h, key, keylen);
		crypto_auth_hmacsha256_update(&h, (const unsigned char *)enc->p, enc->len);
		crypto_auth_hmacsha256_final(&h, out);
		sodium_memzero(&h, sizeof h);
	} else
		crypto_hash_sha256(out, (const unsigned char *)enc->p, enc->len);
	return 0;
}

void crm__audit_to_hex(const unsigned char bin[CRM__AUDIT_HASH_BYTES], char hex[2 * CRM__AUDIT_HASH_BYTES + 1])
{
	sodium_bin2hex(hex, 2 * HASH_BYTES + 1, bin, HASH_BYTES);
}

int crm__audit_from_hex(const char *hex, size_t n, unsigned char bin[CRM__AUDIT_HASH_BYTES])
{
	size_t got = 0;

	for (size_t i = 0; i < n; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return -1;
	if (n != 2 * HASH_BYTES || sodium_hex2bin(bin, HASH_BYTES, hex, n, NULL, &got, NULL) != 0 || got != HASH_BYTES)
		return -1;
	return 0;
}

