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
	char *fields;    /* a compact entry's names (a JSON array), else NULL */
	size_t fields_n;
	/* Set when it joins the chain; with_fields: a "fields" entry of its
	 * names goes just before it (fields_seq, fields_hash). The hashes
	 * chain through each entry's prev, which is not stored again. */
	int64_t seq, fields_seq;
	int with_fields;
	unsigned char hash[HASH_BYTES], fields_hash[HASH_BYTES];
	char text[]; /* data, op, form, actor and fields, in this one block */
} pend;

/* The names the chain last gave a form's compact entries (its last
 * "fields" entry; NULL: none), as this transaction left them. */
typedef struct known_fields {
	char *form, *fields;
} known_fields;

struct crm__audit_state {
	unsigned char *key; /* NULL: plain SHA-256 */
	size_t keylen;
	/* The chain's head as this transaction left it, while db->tx_epoch
	 * is `epoch` (nobody else appends while the events lock is held). */
	int cached;
	unsigned int epoch;
	int64_t seq;
	unsigned char hash[HASH_BYTES];
	known_fields *known; /* valid with the head */
	int nknown;
	denied *pending, **pending_tail;
	crm__kept_list pends;
	crm__buf enc; /* the encoding of the entry being appended */
	crm__buf data, names; /* crm__audit_encode's, kept from write to write */
	crm__audit_hasher hasher;
};

static void known_clear(crm__audit_state *s)
{
	for (int i = 0; i < s->nknown; i++) {
		crm__free(s->known[i].form);
		crm__free(s->known[i].fields);
	}
	crm__free(s->known);
	s->known = NULL;
	s->nknown = 0;
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
	known_clear(s);
	crm__kept_free_all(&s->pends);
	crm__buf_free(&s->enc);
	crm__buf_free(&s->data);
	crm__buf_free(&s->names);
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

/* A record's encoding is kept only until its entry and event copied it:
 * the buffers serve the next write (one too large for most is let go). */
#define BUFFER_KEPT (64 * 1024)

int crm__audit_buffers(crm_db *db, crm__buf **data, crm__buf **names)
{
	crm__audit_state *s = crm__audit_state_of(db);

	if (!s)
		return -1;
	for (crm__buf *b = &s->data; b <= &s->names; b++) {
		if (b->cap > BUFFER_KEPT)
			crm__buf_free(b);
		crm__buf_reset(b);
	}
	*data = &s->data;
	*names = &s->names;
	return 0;
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
	known_clear(s);
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

/* The names of `form`'s compact entries as the chain holds them now: from
 * what this transaction appended, else its last "fields" entry. */
static int known_of(crm_db *db, crm__audit_state *s, const char *form, known_fields **out)
{
	known_fields *k, add = { NULL, NULL };
	crm__stmt *st;
	int rc;

	for (int i = 0; i < s->nknown; i++)
		if (strcmp(s->known[i].form, form) == 0) {
			*out = &s->known[i];
			return CRM_OK;
		}
	if (!(st = crm__stmt_take(db, "SELECT data FROM crm_audit WHERE op = 'fields' AND form = ? ORDER BY id DESC LIMIT 1",
				  (size_t)-1)))
		return db->errcode;
	crm__bind_text(st, 1, form, -1);
	if ((rc = crm__step(st)) == CRM_ROW)
		add.fields = crm__strdup(crm__column_text(st, 0) ? crm__column_text(st, 0) : "");
	crm__stmt_give(db, st);
	if (rc != CRM_ROW && rc != CRM_DONE)
		return rc;
	add.form = crm__strdup(form);
	k = add.form && (rc == CRM_DONE || add.fields) ? crm__realloc(s->known, (size_t)(s->nknown + 1) * sizeof *k) : NULL;
	if (!k) {
		crm__free(add.form);
		crm__free(add.fields);
		return crm__error_oom(db);
	}
	s->known = k;
	k[s->nknown] = add;
	*out = &k[s->nknown++];
	return CRM_OK;
}

/* The next place in the chain for entry `e`: its seq and prev set, its
 * hash written to `hash`, the head moved on to it. */
static int chain_next(crm_db *db, crm__audit_state *s, crm__audit_entry *e, unsigned char hash[HASH_BYTES])
{
	int rc;

	e->seq = s->seq + 1;
	e->actor_n = e->actor ? strlen(e->actor) : 0;
	e->op_n = strlen(e->op);
	e->form_n = e->form ? strlen(e->form) : 0;
	memcpy(e->prev, s->hash, HASH_BYTES);
	if ((rc = crm__audit_hash(&s->hasher, s->key, s->keylen, &s->enc, e, hash)))
		return crm__audit_hash_error(db, rc);
	s->seq = e->seq;
	memcpy(s->hash, hash, HASH_BYTES);
	return CRM_OK;
}

/* Give entry `q` its place in the chain: seq and hash; a compact
 * one whose names the chain does not hold last for its form gets a
 * "fields" entry of them just before. */
static int chain_entry(crm_db *db, crm__audit_state *s, pend *q)
{
	crm__audit_entry e = { .at = q->at, .record = q->k.record, .version = q->version, .actor = q->actor, .op = q->op,
			       .form = q->form, .data = q->data, .data_n = q->len };
	known_fields *k = NULL;
	int rc;

	if ((!s->cached || s->epoch != db->tx_epoch) && (rc = read_head(db, s)))
		return rc;
	s->epoch = db->tx_epoch;
	s->cached = 1;
	if (q->fields) {
		if ((rc = known_of(db, s, q->form, &k)))
			return rc;
		q->with_fields = !k->fields || strcmp(k->fields, q->fields) != 0;
		if (q->with_fields) {
			crm__audit_entry f = { .at = q->at, .actor = q->actor, .op = "fields", .form = q->form,
					       .data = q->fields, .data_n = q->fields_n };
			char *copy = crm__strdup(q->fields);
			if (!copy)
				return crm__error_oom(db);
			crm__free(k->fields);
			k->fields = copy;
			if ((rc = chain_next(db, s, &f, q->fields_hash)))
				return rc;
			q->fields_seq = f.seq;
		}
	}
	if ((rc = chain_next(db, s, &e, q->hash)))
		return rc;
	q->seq = e.seq;
	return CRM_OK;
}

/* Bind the row of an entry of `q`'s (itself, or the "fields" entry before
 * it) from parameter p + 1 on; its prev is left empty: the hash before it,
 * which its hash covers, is not stored again. */
static void bind_row(crm__stmt *st, int p, const pend *q, int64_t seq, const char *op, int64_t record,
		     int64_t version, const char *data, size_t len, const unsigned char *hash)
{
	crm__bind_int64(st, p + 1, seq);
	crm__bind_int64(st, p + 2, q->at);
	if (q->actor)
		crm__bind_text(st, p + 3, q->actor, -1);
	crm__bind_text(st, p + 4, op, -1);
	if (q->form)
		crm__bind_text(st, p + 5, q->form, -1);
	if (record)
		crm__bind_int64(st, p + 6, record);
	if (version)
		crm__bind_int64(st, p + 7, version);
	crm__bind_text(st, p + 8, data, (int)len);
	crm__bind_blob(st, p + 9, "", 0);
	crm__bind_blob(st, p + 10, hash, HASH_BYTES);
}

/* Insert `n` chained entries with one statement (many rows per statement:
 * a long transaction's entries take few statements and round trips). */
static int insert_rows(crm_db *db, void *ctx, crm__kept **kept, int n)
{
	pend **rows = (pend **)kept;
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc, m = n, p = 0;

	for (int i = 0; i < n; i++)
		m += rows[i]->with_fields;
	crm__buf_puts(&sql, db->be->dialect->insert_many);
	crm__buf_puts(&sql, "crm_audit(seq, at, actor, op, form, record, version, data, prev, hash) VALUES");
	for (int i = 0; i < m; i++)
		crm__buf_puts(&sql, i ? ",(?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?)");
	if (!(st = crm__stmt_take_buf(db, &sql)))
		return db->errcode;
	for (int i = 0; i < n; i++, p += 10) {
		const pend *q = rows[i];
		if (q->with_fields) {
			bind_row(st, p, q, q->fields_seq, "fields", 0, 0, q->fields, q->fields_n, q->fields_hash);
			p += 10;
		}
		bind_row(st, p, q, q->seq, q->op, q->k.record, q->version, q->data, q->len, q->hash);
	}
	rc = crm__step_later(db, st);
	/* Ids asked for are known at once only where the step was (the
	 * events showing entries are made only there: hooks.c): one statement's
	 * rows have consecutive ids, the events lock keeping other writers out. */
	if (rc == CRM_DONE && !db->be->pipeline) {
		int64_t id = crm__inserted_id(st) - m;
		for (int i = 0; i < n; i++) {
			id += 1 + rows[i]->with_fields;
			if (rows[i]->id_out)
				*rows[i]->id_out = id;
		}
	}
	crm__clear_bindings(st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}


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
		    int64_t record, int64_t version, const char *data, size_t len, const char *fields, size_t fields_n,
		    int64_t *id_out, pend **out)
{
	size_t op_n = strlen(op) + 1, form_n = form ? strlen(form) + 1 : 0, actor_n = actor ? strlen(actor) + 1 : 0,
	       room = fields ? fields_n + 1 : 0;
	pend *q;
	char *p;

	if (!(q = crm__malloc(sizeof *q + len + 1 + op_n + form_n + actor_n + room)))
		return crm__error_oom(db);
	*q = (pend){ .k.record = record, .id_out = id_out, .fields_n = fields_n };
	p = q->text;
	q->data = crm__kept_put(&p, data, len);
	*p++ = 0;
	q->op = crm__kept_put(&p, op, op_n);
	q->form = form ? crm__kept_put(&p, form, form_n) : NULL;
	q->actor = actor ? crm__kept_put(&p, actor, actor_n) : NULL;
	if (fields) { /* compact entries have a form: chain_entry looks its names up by it */
		q->fields = crm__kept_put(&p, fields, fields_n);
		*p++ = 0;
	}
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
	return s->pends.n >= CRM__KEPT_MAX ? flush(db, s, 0) : CRM_OK;
}

int crm__audit_append_values(crm_db *db, const char *op, const char *form, int64_t record, int64_t version,
			     const char *data, size_t len, const char *fields, size_t fields_n, int64_t *id_out)
{
	crm__audit_state *s = crm__audit_state_of(db);
	int rc;

	if (!s)
		return db->errcode;
	rc = pend_add(db, s, crm_now(db), db->actor_user, op, form, record, version, data, len, fields, fields_n, id_out,
		      NULL);
	return rc ? rc : bounded(db, s);
}

int crm__audit_append(crm_db *db, const char *op, const char *form, int64_t record, int64_t version,
		      const char *data, size_t len, int64_t *id_out)
{
	return crm__audit_append_values(db, op, form, record, version, data, len, NULL, 0, id_out);
}

int crm__audit_queue(crm_db *db, const char *form, const char *data, size_t len, const char *fields,
		     size_t fields_n, int64_t *id_out, crm__queued_fn *done, void **payload)
{
	crm__audit_state *s = crm__audit_state_of(db);
	pend *q;
	int rc;

	if (!s)
		return db->errcode;
	if ((rc = pend_add(db, s, crm_now(db), db->actor_user, "insert", form, 0, 1, data, len, fields, fields_n, id_out,
			   &q)))
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
				      0, NULL, NULL);
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

