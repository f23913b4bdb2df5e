/* The audit chain: entries kept with their transaction and appended just
 * before it commits, the host's key, and denied writes kept past the
 * rollback of their transaction (docs/audit.md). */
#include <string.h>

#include <openssl/crypto.h>

#include "audit_int.h"
#include "core/alloc.h"
#include "core/kept.h"
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
	crm__kept k; /* first: its place in the transaction, its record */
	int64_t at, version;
	char *actor, *op, *form, *data;
	size_t len;
	int64_t *id_out; /* NULL, or where its id goes once appended (the event showing it) */
	/* Set when it joins the chain. */
	int64_t seq;
	unsigned char prev[HASH_BYTES], hash[HASH_BYTES];
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
	crm__kept_list pends;
	crm__buf enc; /* the encoding of the entry being appended */
	crm__audit_hasher hasher;
};

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
	crm__kept_free_all(&s->pends);
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
		/* A hash that is not 32 bytes (edited) chains on from zeros:
		 * verify reports the edited entry, and the link after it. */
		if (crm__column_blob(st, 2, s->hash, HASH_BYTES) != HASH_BYTES)
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
	crm__audit_entry e = { .at = q->at, .record = q->k.record, .version = q->version, .actor = q->actor, .op = q->op,
		    .form = q->form, .data = q->data, .data_n = q->len };
	int rc;

	if ((!s->cached || s->epoch != db->tx_epoch) && (rc = read_head(db, s)))
		return rc;
	e.seq = s->seq + 1;
	e.actor_n = q->actor ? strlen(q->actor) : 0;
	e.op_n = strlen(q->op);
	e.form_n = q->form ? strlen(q->form) : 0;
	memcpy(e.prev, s->hash, HASH_BYTES);
	if ((rc = crm__audit_hash(&s->hasher, s->key, s->keylen, &s->enc, &e, hash)))
		return crm__audit_hash_error(db, rc);
	q->seq = e.seq;
	memcpy(q->prev, e.prev, HASH_BYTES);
	memcpy(q->hash, hash, HASH_BYTES);
	s->seq = e.seq;
	memcpy(s->hash, hash, HASH_BYTES);
	s->epoch = db->tx_epoch;
	s->cached = 1;
	return CRM_OK;
}

/* Insert `n` chained entries with one statement (many rows per statement:
 * a long transaction's entries take few statements and round trips). */
static int insert_rows(crm_db *db, void *ctx, crm__kept **kept, int n)
{
	pend **rows = (pend **)kept;
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	crm__buf_puts(&sql, db->be->dialect->insert_many);
	crm__buf_puts(&sql, "crm_audit(seq, at, actor, op, form, record, version, data, prev, hash) VALUES");
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
		if (q->k.record)
			crm__bind_int64(st, p + 6, q->k.record);
		if (q->version)
			crm__bind_int64(st, p + 7, q->version);
		crm__bind_text(st, p + 8, q->data, (int)q->len);
		crm__bind_blob(st, p + 9, q->prev, HASH_BYTES);
		crm__bind_blob(st, p + 10, q->hash, HASH_BYTES);
	}
	rc = crm__step_later(db, st);
	/* Ids asked for are known at once only where the step was (the
	 * events showing entries are made only there: hooks.c): one statement's
	 * rows have consecutive ids, the events lock keeping other writers out. */
	if (rc == CRM_DONE && !db->be->pipeline) {
		int64_t first = crm__inserted_id(st) - n + 1;
		for (int i = 0; i < n; i++)
			if (rows[i]->id_out)
				*rows[i]->id_out = first + i;
	}
	crm__clear_bindings(st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

#define PENDS_MAX 512 /* entries kept before a transaction appends them */

static int prepare_entry(crm_db *db, void *ctx, crm__kept *k) { return chain_entry(db, ctx, (pend *)k); }

/* Append the open transaction's entries to the chain (crm__kept_flush),
 * then move crm_state's audit_seq on. */
static int flush(crm_db *db, crm__audit_state *s, int all)
{
	const crm__kept_sink sink = { prepare_entry, insert_rows, s, NULL }; /* its head is read under the lock */
	size_t n;
	int rc = crm__kept_flush(db, &s->pends, all, &sink, &n);

	return rc == CRM_OK && n && s->seq ? write_tail(db, s->seq) : rc;
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

	if (s)
		crm__kept_savepoint_end(&s->pends, depth, undone);
}

/* Keep an entry for the commit of the open transaction (one allocation:
 * an audited write already makes enough of them). */
static int pend_add(crm_db *db, crm__audit_state *s, int64_t at, const char *actor, const char *op, const char *form,
		    int64_t record, int64_t version, const char *data, size_t len, int64_t *id_out, pend **out)
{
	size_t op_n = strlen(op) + 1, form_n = form ? strlen(form) + 1 : 0, actor_n = actor ? strlen(actor) + 1 : 0;
	pend *q;
	char *p;

	if (!(q = crm__malloc(sizeof *q + len + 1 + op_n + form_n + actor_n)))
		return crm__error_oom(db);
	*q = (pend){ .k.record = record, .id_out = id_out };
	p = q->text;
	q->data = crm__kept_put(&p, data, len);
	*p++ = 0;
	q->op = crm__kept_put(&p, op, op_n);
	q->form = form ? crm__kept_put(&p, form, form_n) : NULL;
	q->actor = actor ? crm__kept_put(&p, actor, actor_n) : NULL;
	q->len = len;
	q->at = at;
	q->version = version;
	crm__kept_link(db, &s->pends, &q->k);
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
	return s->pends.n >= PENDS_MAX ? flush(db, s, 0) : CRM_OK;
}

int crm__audit_append(crm_db *db, const char *op, const char *form, int64_t record, int64_t version,
		      const char *data, size_t len, int64_t *id_out)
{
	crm__audit_state *s = crm__audit_state_of(db);

	int rc;

	if (!s)
		return db->errcode;
	rc = pend_add(db, s, crm_now(db), db->actor_user, op, form, record, version, data, len, id_out, NULL);
	return rc ? rc : bounded(db, s);
}

int crm__audit_queue(crm_db *db, const char *form, const char *data, size_t len, int64_t *id_out,
		     crm__queued_fn *done, void **payload)
{
	crm__audit_state *s = crm__audit_state_of(db);
	pend *q;
	int rc;

	if (!s)
		return db->errcode;
	if ((rc = pend_add(db, s, crm_now(db), db->actor_user, "insert", form, 0, 1, data, len, id_out, &q)))
		return rc;
	crm__kept_wrap(&q->k, done, payload);
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
			rc = pend_add(db, s, d->at, d->actor, "denied", d->form, d->record, 0, d->data, strlen(d->data), NULL,
				      NULL);
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

