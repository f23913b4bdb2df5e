/* The audit chain: entries kept with their transaction and appended just
 * before it commits, the host's key, and denied writes kept past the
 * rollback of their transaction (docs/audit.md). */
#include <string.h>

#include <openssl/crypto.h>

#include "audit_int.h"
#include "core/alloc.h"
#include "crm/audit.h"

#define HASH_BYTES CRM__AUDIT_HASH_BYTES
#define KEY_MIN 16
#define KEY_MAX 1024

/* A denied write waiting for the end of the transaction that undid it. */
typedef struct denied {
	struct denied *next;
	int64_t at;
	char *actor; /* NULL: none */
	char *form;  /* NULL: none */
	int64_t record;
	char *data;
} denied;

/* An entry of the open transaction, appended to the chain just before it
 * commits (so the chain's lock is held only from there to the commit). */
typedef struct pend {
	struct pend *next, *prev;
	int depth;           /* db->tx_depth when made: a savepoint rolled back below it drops it */
	unsigned int serial; /* the transaction it belongs to (db->tx_serial) */
	int64_t at, record, version;
	char *actor, *op, *form, *data;
	size_t len;
	/* A queued insert's entry: the outcome callback it stands in for, and
	 * the outcome (rc -1 until it came; the entry is kept on CRM_ROW). */
	crm__queued_fn done;
	void *payload;
	int rc;
	/* Set when it joins the chain. */
	int64_t seq;
	char prev_hex[65], hash_hex[65];
	char text[]; /* data, op, form and actor, in this one block */
} pend;

struct crm__audit_state {
	unsigned char *key; /* NULL: plain SHA-256 */
	size_t keylen;
	/* The chain's head as this transaction left it, while db->tx_epoch
	 * is `epoch` (nobody else appends while the events lock is held). */
	int cached;
	unsigned int epoch;
	int64_t seq;
	unsigned char hash[HASH_BYTES];
	denied *pending, **pending_tail;
	/* In the order made; their depths never decrease along the list, so
	 * what a savepoint's end touches is a tail, walked from `last`. */
	pend *pends, *last;
	size_t npends;
	crm__buf enc; /* the encoding of the entry being appended */
	crm__audit_hasher hasher;
};

/* Unlink and free entry `q`. */
static void pend_drop(crm__audit_state *s, pend *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		s->pends = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		s->last = q->prev;
	s->npends--;
	crm__free(q);
}

/* Drop the denials waiting for their transaction to end. */
static void denied_free_all(crm__audit_state *s)
{
	while (s->pending) {
		denied *d = s->pending;
		s->pending = d->next;
		crm__free(d->actor);
		crm__free(d->form);
		crm__free(d->data);
		crm__free(d);
	}
	s->pending_tail = &s->pending;
}

static void state_free(void *p)
{
	crm__audit_state *s = p;

	if (!s)
		return;
	if (s->key) {
		OPENSSL_cleanse(s->key, s->keylen);
		crm__free(s->key);
	}
	denied_free_all(s);
	while (s->pends)
		pend_drop(s, s->pends);
	crm__buf_free(&s->enc);
	crm__audit_hasher_free(&s->hasher);
	crm__free(s);
}

crm__audit_state *crm__audit_state_of(crm_db *db)
{
	crm__audit_state *s = db->ext[CRM__EXT_AUDIT];

	if (s)
		return s;
	if (!(s = crm__calloc(1, sizeof *s))) {
		crm__error_oom(db);
		return NULL;
	}
	s->pending_tail = &s->pending;
	db->ext[CRM__EXT_AUDIT] = s;
	db->ext_free[CRM__EXT_AUDIT] = state_free;
	return s;
}

/* ---- appending ---- */

/* The head: the hash of the last entry by id, and the seq after which the
 * next entry goes: the larger of crm_state's audit_seq (the last seq
 * libcrm committed) and the last entry's seq (entries this transaction
 * appended before). Read under the events lock, once per transaction
 * (again after a rollback to a savepoint). A tail cut behind libcrm's back
 * thus leaves a gap in seq that later appends do not paper over. */
static int read_head(crm_db *db, crm__audit_state *s)
{
	crm__stmt *st = crm__stmt_take(db,
					  "SELECT (SELECT value FROM crm_state WHERE key = 'audit_seq'),"
					  " (SELECT seq FROM crm_audit ORDER BY id DESC LIMIT 1),"
					  " (SELECT hash FROM crm_audit ORDER BY id DESC LIMIT 1)",
					  (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	memset(s->hash, 0, sizeof s->hash);
	s->seq = 0;
	if ((rc = crm__step(st)) == CRM_ROW) {
		int64_t last = crm__column_int64(st, 1);
		s->seq = crm__column_int64(st, 0);
		if (last > s->seq)
			s->seq = last;
		/* A hash that is not hex (edited) chains on from zeros: verify
		 * reports the edited entry, and the link after it. */
		if (crm__column_type(st, 2) != CRM__SQL_NULL &&
		    crm__audit_from_hex(crm__column_text(st, 2), (size_t)crm__column_bytes(st, 2), s->hash))
			memset(s->hash, 0, sizeof s->hash);
		rc = CRM_OK;
	} else if (rc == CRM_DONE)
		rc = CRM_OK;
	crm__stmt_give(db, st);
	return rc;
}

/* After appending: crm_state's audit_seq moves up to the last seq (never
 * down: a tail cut behind libcrm's back stays visible to verify). The row
 * is made by the first append (a new database has none). */
static int write_tail(crm_db *db, int64_t seq)
{
	static const char sql[] =
		"INSERT INTO crm_state(key, value) VALUES('audit_seq', ?) ON CONFLICT(key) DO UPDATE"
		" SET value = CASE WHEN excluded.value > crm_state.value THEN excluded.value ELSE crm_state.value END";
	crm__stmt *st = crm__stmt_take(db, sql, sizeof sql - 1);
	int rc;

	if (!st)
		return db->errcode;
	crm__bind_int64(st, 1, seq);
	rc = crm__step_later(db, st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

/* Give entry `q` its place in the chain: seq, prev and hash. */
static int chain_entry(crm_db *db, crm__audit_state *s, pend *q)
{
	unsigned char hash[HASH_BYTES];
	crm__audit_entry e = { .at = q->at, .record = q->record, .version = q->version, .actor = q->actor, .op = q->op,
		    .form = q->form, .data = q->data, .data_n = q->len };
	int rc;

	if ((!s->cached || s->epoch != db->tx_epoch) && (rc = read_head(db, s)))
		return rc;
	e.seq = s->seq + 1;
	e.actor_n = q->actor ? strlen(q->actor) : 0;
	e.op_n = strlen(q->op);
	e.form_n = q->form ? strlen(q->form) : 0;
	memcpy(e.prev, s->hash, HASH_BYTES);
	if (crm__audit_hash(&s->hasher, s->key, s->keylen, &s->enc, &e, hash))
		return crm__error_oom(db);
	q->seq = e.seq;
	crm__audit_to_hex(e.prev, q->prev_hex);
	crm__audit_to_hex(hash, q->hash_hex);
	s->seq = e.seq;
	memcpy(s->hash, hash, HASH_BYTES);
	s->epoch = db->tx_epoch;
	s->cached = 1;
	return CRM_OK;
}

/* Insert `n` chained entries with one statement (many rows per statement:
 * a long transaction's entries take few statements and round trips). */
static int insert_rows(crm_db *db, pend **rows, int n)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	crm__buf_puts(&sql, "INSERT INTO crm_audit(seq, at, actor, op, form, record, version, data, prev, hash) VALUES");
	for (int i = 0; i < n; i++)
		crm__buf_puts(&sql, i ? ",(?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?)");
	if (!(st = crm__stmt_take_buf(db, &sql)))
		return db->errcode;
	for (int i = 0; i < n; i++) {
		const pend *q = rows[i];
		int p = 10 * i;
		crm__bind_int64(st, p + 1, q->seq);
		crm__bind_int64(st, p + 2, q->at);
		if (q->actor)
			crm__bind_text(st, p + 3, q->actor, -1);
		crm__bind_text(st, p + 4, q->op, -1);
		if (q->form)
			crm__bind_text(st, p + 5, q->form, -1);
		if (q->record)
			crm__bind_int64(st, p + 6, q->record);
		if (q->version)
			crm__bind_int64(st, p + 7, q->version);
		crm__bind_text(st, p + 8, q->data, (int)q->len);
		crm__bind_text(st, p + 9, q->prev_hex, -1);
		crm__bind_text(st, p + 10, q->hash_hex, -1);
	}
	rc = crm__step_later(db, st);
	crm__clear_bindings(st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

/* Drop the entries of transactions that ended without a commit (they
 * come first: entries are kept in the order they were made). */
static void drop_stale(crm_db *db, crm__audit_state *s)
{
	while (s->pends && s->pends->serial != db->tx_serial)
		pend_drop(s, s->pends);
}

#define ROWS_MAX 4 /* entries per INSERT: statements of 4, 2 or 1 rows (more rows per
		    * statement cost PostgreSQL round trips in pipeline mode) */
#define PENDS_MAX 512 /* entries kept before a transaction appends them */

/* Append the open transaction's entries to the chain, in the order they
 * were made, under the events lock (held to the commit). With `all`, every
 * one (after waiting for the outcome of queued inserts); else those up to
 * the first whose insert has no outcome yet. A queued insert that failed
 * leaves no entry. */
static int flush(crm_db *db, crm__audit_state *s, int all)
{
	pend *rows[ROWS_MAX], *end;
	int rc = CRM_OK, n = 0;

	drop_stale(db, s);
	/* Wait for queued inserts only when an entry still lacks its id. */
	for (pend *q = s->pends; all && q && rc == CRM_OK; q = q->next)
		if (q->done && q->rc == -1)
			rc = crm__flush(db);
	for (end = s->pends; end && !(end->done && end->rc == -1); end = end->next)
		;
	if (rc || s->pends == end || (rc = db->be->lock(db, CRM__LOCK_EVENTS)))
		return rc;
	for (pend *q = s->pends; q != end && rc == CRM_OK; q = q->next)
		if (q->rc == CRM_ROW || !q->done)
			rc = chain_entry(db, s, q);
	for (pend *q = s->pends; q != end && rc == CRM_OK; q = q->next) {
		if (q->done && q->rc != CRM_ROW)
			continue;
		rows[n++] = q;
		if (n == ROWS_MAX) {
			rc = insert_rows(db, rows, n);
			n = 0;
		}
	}
	/* The rest in statements of half as many rows, and so on: few shapes. */
	for (int size = ROWS_MAX / 2, at = 0; size > 0 && rc == CRM_OK; size /= 2)
		while (n - at >= size && rc == CRM_OK) {
			rc = insert_rows(db, rows + at, size);
			at += size;
		}
	if (rc == CRM_OK && s->seq)
		rc = write_tail(db, s->seq);
	while (s->pends != end)
		pend_drop(s, s->pends);
	return rc;
}

static int before_commit(crm_db *db)
{
	crm__audit_state *s = db->ext[CRM__EXT_AUDIT];

	return s ? flush(db, s, 1) : CRM_OK;
}

int crm__audit_flush(crm_db *db)
{
	crm__audit_state *s = db->ext[CRM__EXT_AUDIT];

	return s && (db->tx_depth > 0 || db->host_tx) ? flush(db, s, 1) : CRM_OK;
}

/* A savepoint ended (lib/core/tx.c): the entries made inside it go with
 * it when it was rolled back, else they now belong to the level below. */
static void savepoint_end(crm_db *db, int depth, int undone)
{
	crm__audit_state *s = db->ext[CRM__EXT_AUDIT];
	pend *q = s ? s->last : NULL;

	while (q && q->depth > depth) {
		pend *before = q->prev;
		if (undone)
			pend_drop(s, q);
		else
			q->depth = depth;
		q = before;
	}
}

/* Copy `n` bytes of `src` to *at, advancing it; the copy. */
static char *put_text(char **at, const char *src, size_t n)
{
	char *p = *at;

	memcpy(p, src, n);
	*at += n;
	return p;
}

/* Keep an entry for the commit of the open transaction (one allocation:
 * an audited write already makes enough of them). */
static int pend_add(crm_db *db, crm__audit_state *s, int64_t at, const char *actor, const char *op, const char *form,
		    int64_t record, int64_t version, const char *data, size_t len, pend **out)
{
	size_t op_n = strlen(op) + 1, form_n = form ? strlen(form) + 1 : 0, actor_n = actor ? strlen(actor) + 1 : 0;
	pend *q;
	char *p;

	drop_stale(db, s);
	if (!(q = crm__malloc(sizeof *q + len + 1 + op_n + form_n + actor_n)))
		return crm__error_oom(db);
	*q = (pend){ 0 };
	p = q->text;
	q->data = put_text(&p, data, len);
	*p++ = 0;
	q->op = put_text(&p, op, op_n);
	q->form = form ? put_text(&p, form, form_n) : NULL;
	q->actor = actor ? put_text(&p, actor, actor_n) : NULL;
	q->len = len;
	q->at = at;
	q->record = record;
	q->version = version;
	q->depth = db->tx_depth;
	q->serial = db->tx_serial;
	q->prev = s->last;
	q->rc = -2; /* not a queued insert */
	if (s->last)
		s->last->next = q;
	else
		s->pends = q;
	s->last = q;
	s->npends++;
	db->before_commit[CRM__EXT_AUDIT] = before_commit;
	db->savepoint_end[CRM__EXT_AUDIT] = savepoint_end;
	if (out)
		*out = q;
	return CRM_OK;
}

/* A long transaction appends as it goes, keeping memory bounded (the
 * chain's lock is then held from there to its commit). */
static int bounded(crm_db *db, crm__audit_state *s)
{
	return s->npends >= PENDS_MAX ? flush(db, s, 0) : CRM_OK;
}

int crm__audit_append(crm_db *db, const char *op, const char *form, int64_t record, int64_t version,
		      const char *data, size_t len)
{
	crm__audit_state *s = crm__audit_state_of(db);

	int rc;

	if (!s)
		return db->errcode;
	rc = pend_add(db, s, crm_now(db), db->actor_user, op, form, record, version, data, len, NULL);
	return rc ? rc : bounded(db, s);
}

static void queued_done(void *payload, int rc, int64_t id)
{
	pend *q = payload;

	q->rc = rc;
	q->record = id;
	q->done(q->payload, rc, id);
}

int crm__audit_queue(crm_db *db, const char *form, const char *data, size_t len, crm__queued_fn *done,
		     void **payload)
{
	crm__audit_state *s = crm__audit_state_of(db);
	pend *q;
	int rc;

	if (!s)
		return db->errcode;
	if ((rc = pend_add(db, s, crm_now(db), db->actor_user, "insert", form, 0, 1, data, len, &q)))
		return rc;
	q->rc = -1;
	q->done = *done;
	q->payload = *payload;
	*done = queued_done;
	*payload = q;
	return bounded(db, s);
}

/* ---- denied writes ---- */

static int flush_denied(crm_db *db)
{
	crm__audit_state *s = db->ext[CRM__EXT_AUDIT];
	int rc;

	if (!s || !s->pending)
		return CRM_OK;
	if ((rc = crm__tx_begin(db)) == CRM_OK) {
		for (denied *d = s->pending; d && rc == CRM_OK; d = d->next)
			rc = pend_add(db, s, d->at, d->actor, "denied", d->form, d->record, 0, d->data, strlen(d->data), NULL);
		rc = crm__tx_end(db, rc);
	}
	/* Appended or not (the failure is logged), they are done with. */
	denied_free_all(s);
	return rc;
}

int crm__audit_denied(crm_db *db, const char *form, int64_t id, const char *op, const char *reason)
{
	crm__audit_state *s = crm__audit_state_of(db);
	crm__buf data = CRM__BUF_INIT;
	denied *d;

	if (!s)
		return db->errcode;
	crm__buf_puts(&data, "{\"op\":");
	crm__json_cstr(&data, op);
	crm__buf_puts(&data, ",\"reason\":");
	crm__json_cstr(&data, reason);
	crm__buf_putc(&data, '}');
	if (!(d = crm__calloc(1, sizeof *d)) || data.oom || (db->actor_user && !(d->actor = crm__strdup(db->actor_user))) ||
	    (form && !(d->form = crm__strdup(form)))) {
		if (d) {
			crm__free(d->actor);
			crm__free(d);
		}
		crm__buf_free(&data);
		return crm__error_oom(db);
	}
	d->record = id;
	d->at = crm_now(db);
	d->data = crm__buf_detach(&data);
	*s->pending_tail = d;
	s->pending_tail = &d->next;
	/* Inside a transaction (ours or the host's) the entry waits for its
	 * end, which undoes the denied write; otherwise it goes now. */
	if (db->tx_depth > 0 || db->host_tx) {
		db->after_tx = flush_denied;
		return CRM_OK;
	}
	return flush_denied(db);
}

const unsigned char *crm__audit_key(const crm__audit_state *s, size_t *len)
{
	*len = s->keylen;
	return s->key;
}

int crm_audit_key_set(crm_db *db, const void *key, size_t len)
{
	crm__audit_state *s;
	unsigned char *copy = NULL;
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (key && (len < KEY_MIN || len > KEY_MAX))
		return crm__error(db, CRM_EINVAL, "an audit key is %d to %d bytes, not %zu", KEY_MIN, KEY_MAX, len);
	if (!(s = crm__audit_state_of(db)))
		return db->errcode;
	if (key && !(copy = crm__malloc(len)))
		return crm__error_oom(db);
	if (key)
		memcpy(copy, key, len);
	if (s->key) {
		OPENSSL_cleanse(s->key, s->keylen);
		crm__free(s->key);
	}
	s->key = copy;
	s->keylen = key ? len : 0;
	s->cached = 0; /* the head is the same; read it again anyway */
	return CRM_OK;
}

