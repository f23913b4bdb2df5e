/* crm_audit_verify: the whole chain read back in id order, each entry's
 * hash recomputed and its link to the one before checked (docs/audit.md,
 * "Verify"). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit_int.h"
#include "crm/audit.h"

#define HASH_BYTES CRM__AUDIT_HASH_BYTES
#define PROBLEMS_MAX 1000

typedef struct verify {
	crm__buf problems, enc;
	int failed; /* hashing an entry failed (crm__audit_hash's code): so did the check */
	int nproblems;
	int64_t entries;
	crm__audit_hasher hasher;
} verify;

static void problem(verify *v, int64_t id, int64_t seq, const char *kind, const char *message)
{
	if (v->nproblems++ >= PROBLEMS_MAX)
		return;
	crm__buf_puts(&v->problems, v->nproblems > 1 ? ",{\"id\":" : "{\"id\":");
	if (id)
		crm__buf_i64(&v->problems, id);
	else
		crm__buf_puts(&v->problems, "null");
	crm__buf_puts(&v->problems, ",\"seq\":");
	crm__buf_i64(&v->problems, seq);
	crm__buf_printf(&v->problems, ",\"kind\":\"%s\",\"message\":", kind);
	crm__json_cstr(&v->problems, message);
	crm__buf_putc(&v->problems, '}');
}

static const char *col_text(crm__stmt *st, int c, size_t *n)
{
	if (crm__column_type(st, c) == CRM__SQL_NULL) {
		*n = 0;
		return NULL;
	}
	*n = (size_t)crm__column_bytes(st, c);
	return crm__column_text(st, c);
}

/* The entry before the one being checked: its hash as stored (`stored`),
 * and as its contents make it (`made`), its seq. */
typedef struct before {
	unsigned char stored[HASH_BYTES], made[HASH_BYTES];
	int64_t seq;
} before;

/* Check one row against the entry before it (`b`); then it becomes the
 * one before the next. *matched when its hash is `head`. An entry whose
 * prev is stored (before format 6) chains to it; one without chains to
 * the hash stored before it: when its own hash fits only the hash that
 * entry's contents make, that entry's hash was changed (a link problem,
 * as a stored prev would tell). */
static void check_row(verify *v, const unsigned char *key, size_t keylen, crm__buf *enc, crm__stmt *st, before *b,
		      const unsigned char *head, int *matched)
{
	unsigned char want[HASH_BYTES], stored[HASH_BYTES];
	int64_t id = crm__column_int64(st, 0);
	crm__audit_entry e = { 0 };
	char msg[160];
	int stored_ok, prev_stored, relinked = 0;

	e.seq = crm__column_int64(st, 1);
	e.at = crm__column_int64(st, 2);
	e.actor = col_text(st, 3, &e.actor_n);
	e.op = col_text(st, 4, &e.op_n);
	e.form = col_text(st, 5, &e.form_n);
	e.record = crm__column_int64(st, 6);
	e.version = crm__column_int64(st, 7);
	e.data = col_text(st, 8, &e.data_n);
	switch (crm__column_blob(st, 9, e.prev, HASH_BYTES)) {
	case HASH_BYTES: prev_stored = 1; break;
	case 0: prev_stored = 0; memcpy(e.prev, b->stored, HASH_BYTES); break;
	default: prev_stored = 1; memset(e.prev, 0xff, HASH_BYTES); /* matches neither zeros nor a hash */
	}
	stored_ok = crm__column_blob(st, 10, stored, HASH_BYTES) == HASH_BYTES;
	if ((v->failed = crm__audit_hash(&v->hasher, key, keylen, enc, &e, want)))
		return; /* the whole check fails */
	if (!prev_stored && (!stored_ok || CRYPTO_memcmp(want, stored, HASH_BYTES) != 0) &&
	    CRYPTO_memcmp(b->stored, b->made, HASH_BYTES) != 0) {
		unsigned char relink[HASH_BYTES];
		memcpy(e.prev, b->made, HASH_BYTES);
		if ((v->failed = crm__audit_hash(&v->hasher, key, keylen, enc, &e, relink)))
			return;
		relinked = stored_ok && CRYPTO_memcmp(relink, stored, HASH_BYTES) == 0;
		if (relinked)
			memcpy(want, relink, HASH_BYTES);
	}
	v->entries++;
	if (!stored_ok || CRYPTO_memcmp(want, stored, HASH_BYTES) != 0)
		problem(v, id, e.seq, "hash",
			prev_stored ? "the entry's hash does not match its contents (edited, or written with another key)"
				    : "the entry's hash does not match its contents and the hash before it (this entry edited,"
				      " the one before replaced, or written with another key)");
	if (e.seq <= b->seq) {
		snprintf(msg, sizeof msg, "entry %lld comes after entry %lld: entries were reordered or copied",
			 (long long)e.seq, (long long)b->seq);
		problem(v, id, e.seq, "order", msg);
	} else if (e.seq != b->seq + 1) {
		snprintf(msg, sizeof msg, "entries %lld to %lld are missing", (long long)b->seq + 1, (long long)e.seq - 1);
		problem(v, id, e.seq, "link", msg);
	} else if (relinked || (prev_stored && CRYPTO_memcmp(e.prev, b->stored, HASH_BYTES) != 0))
		problem(v, id, e.seq, "link", "the entry does not chain to the one before it (an entry was replaced or inserted)");
	if (head && stored_ok && CRYPTO_memcmp(stored, head, HASH_BYTES) == 0)
		*matched = 1;
	/* The next entry is judged against this one as stored, so one
	 * tampered entry is one or two problems, not a cascade. */
	if (stored_ok)
		memcpy(b->stored, stored, HASH_BYTES);
	else
		memset(b->stored, 0xee, HASH_BYTES);
	memcpy(b->made, want, HASH_BYTES);
	b->seq = e.seq;
}

int crm_audit_verify_head(crm_db *db, const char *head_hex, char **out)
{
	crm__audit_state *s;
	const unsigned char *key;
	size_t keylen;
	verify v = { CRM__BUF_INIT, CRM__BUF_INIT, 0, 0, 0, { 0 } };
	crm__buf json = CRM__BUF_INIT;
	unsigned char head[HASH_BYTES];
	char hex[2 * HASH_BYTES + 1], msg[160];
	before last = { { 0 }, { 0 }, 0 }; /* the first entry chains to zeros */
	int64_t state_seq;
	crm__stmt *st;
	int rc, matched = 0;

	if ((rc = crm__enter_out(db, out)))
		return rc;
	if (head_hex && crm__audit_from_hex(head_hex, strlen(head_hex), head))
		return crm__error(db, CRM_EINVAL, "a head is the 64 lowercase hex digits verify printed");
	if (!(s = crm__audit_state_of(db)))
		return db->errcode;
	key = crm__audit_key(s, &keylen);
	if ((rc = crm__audit_flush(db)))
		return rc;
	/* The counter first: entries appended meanwhile only raise the last seq. */
	if ((rc = crm__state_read(db, "audit_seq", &state_seq)))
		return rc;
	if (!(st = crm__stmt_take(db,
				  "SELECT id, seq, at, actor, op, form, record, version, data, prev, hash FROM crm_audit ORDER BY id",
				  (size_t)-1)))
		return db->errcode;
	crm__many_rows(st, 1);
	while ((rc = crm__step(st)) == CRM_ROW)
		check_row(&v, key, keylen, &v.enc, st, &last, head_hex ? head : NULL, &matched);
	crm__many_rows(st, 0);
	crm__stmt_give(db, st);
	if (rc == CRM_DONE && v.failed)
		rc = crm__audit_hash_error(db, v.failed);
	crm__buf_free(&v.enc);
	crm__audit_hasher_free(&v.hasher);
	if (rc != CRM_DONE) {
		crm__buf_free(&v.problems);
		return rc;
	}
	if (last.seq < state_seq) {
		snprintf(msg, sizeof msg, "the chain ends at entry %lld but libcrm wrote %lld: the tail was cut off",
			 (long long)last.seq, (long long)state_seq);
		problem(&v, 0, last.seq, "tail", msg);
	}
	if (head_hex && !matched)
		problem(&v, 0, last.seq, "head", "the head you kept is not in the chain: entries up to it were removed or rewritten");
	crm__buf_printf(&json, "{\"ok\":%s,\"entries\":", v.nproblems ? "false" : "true");
	crm__buf_i64(&json, v.entries);
	crm__audit_to_hex(last.stored, hex);
	crm__buf_puts(&json, ",\"head\":");
	if (v.entries)
		crm__json_cstr(&json, hex);
	else
		crm__buf_puts(&json, "null");
	crm__buf_puts(&json, ",\"problems\":[");
	if (v.problems.len)
		crm__buf_put(&json, v.problems.p, v.problems.len);
	crm__buf_putc(&json, ']');
	if (v.nproblems > PROBLEMS_MAX)
		crm__buf_printf(&json, ",\"truncated\":true,\"total\":%d", v.nproblems);
	crm__buf_putc(&json, '}');
	rc = json.oom || v.problems.oom ? crm__error_oom(db) : CRM_OK;
	crm__buf_free(&v.problems);
	if (rc == CRM_OK)
		*out = crm__buf_detach(&json);
	crm__buf_free(&json);
	return rc;
}

int crm_audit_verify(crm_db *db, char **out) { return crm_audit_verify_head(db, NULL, out); }
