/* The canonical encoding of an audit entry and its hash (docs/audit.md,
 * "The chain and its canonical encoding"): what libcrm writes and what
 * crm_audit_verify recomputes. */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include "audit_int.h"

#define HASH_BYTES CRM__AUDIT_HASH_BYTES

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

void crm__audit_hasher_free(crm__audit_hasher *h)
{
	EVP_MAC_CTX_free(h->mac_ctx); /* cleanses the key it holds */
	EVP_MAC_free(h->mac);
	EVP_MD_CTX_free(h->md_ctx);
	EVP_MD_free(h->md);
	*h = (crm__audit_hasher){ 0 };
}

/* The entry's encoding hashed in one call (one update of the whole is much
 * faster than one per field). */
static int digest(crm__audit_hasher *h, const unsigned char *key, size_t keylen, const crm__buf *enc,
		  unsigned char out[HASH_BYTES])
{
	size_t n = 0;
	unsigned int un = 0;

	if (key) {
		if (!h->mac_ctx) {
			char digest_name[] = "SHA256";
			OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
						OSSL_PARAM_construct_end() };
			if (!h->mac && !(h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)))
				return -2;
			if (!(h->mac_ctx = EVP_MAC_CTX_new(h->mac)) || !EVP_MAC_CTX_set_params(h->mac_ctx, params)) {
				EVP_MAC_CTX_free(h->mac_ctx);
				h->mac_ctx = NULL;
				return -2;
			}
		}
		return EVP_MAC_init(h->mac_ctx, key, keylen, NULL) &&
				       EVP_MAC_update(h->mac_ctx, (const unsigned char *)enc->p, enc->len) &&
				       EVP_MAC_final(h->mac_ctx, out, &n, HASH_BYTES) && n == HASH_BYTES
			       ? 0
			       : -2;
	}
	if (!h->md && !(h->md = EVP_MD_fetch(NULL, "SHA256", NULL)))
		return -2;
	if (!h->md_ctx && !(h->md_ctx = EVP_MD_CTX_new()))
		return -2;
	return EVP_DigestInit_ex2(h->md_ctx, h->md, NULL) && EVP_DigestUpdate(h->md_ctx, enc->p, enc->len) &&
			       EVP_DigestFinal_ex(h->md_ctx, out, &un) && un == HASH_BYTES
		       ? 0
		       : -2;
}

int crm__audit_hash(crm__audit_hasher *h, const unsigned char *key, size_t keylen, crm__buf *enc,
		    const crm__audit_entry *e, unsigned char out[CRM__AUDIT_HASH_BYTES])
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
	return enc->oom ? -1 : digest(h, key, keylen, enc, out);
}

int crm__audit_hash_error(crm_db *db, int failed)
{
	unsigned long err = ERR_get_error();
	const char *why = err ? ERR_reason_error_string(err) : NULL;

	if (failed == -1)
		return crm__error_oom(db);
	ERR_clear_error(); /* the queue is per thread: leave none to the host */
	return crm__error(db, CRM_ERROR, "libcrypto could not compute the audit trail's SHA-256: %s",
			  why ? why : "no reason given");
}

void crm__audit_to_hex(const unsigned char bin[CRM__AUDIT_HASH_BYTES], char hex[2 * CRM__AUDIT_HASH_BYTES + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < HASH_BYTES; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 15];
	}
	hex[2 * HASH_BYTES] = 0;
}

int crm__audit_from_hex(const char *hex, size_t n, unsigned char bin[CRM__AUDIT_HASH_BYTES])
{
	int v[2];

	if (n != 2 * HASH_BYTES)
		return -1;
	for (int i = 0; i < HASH_BYTES; i++) {
		for (int k = 0; k < 2; k++) {
			char c = hex[2 * i + k];
			if (c >= '0' && c <= '9')
				v[k] = c - '0';
			else if (c >= 'a' && c <= 'f')
				v[k] = c - 'a' + 10;
			else
				return -1;
		}
		bin[i] = (unsigned char)(v[0] << 4 | v[1]);
	}
	return 0;
}

