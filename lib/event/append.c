/* Appending to the event outbox (docs/integration.md, "The event stream:
 * what is appended"): the events of a transaction are kept with it and
 * appended, in the order they were made, just before it commits (under
 * the events lock, held to the commit, so ids grow in commit order), a few
 * rows per statement; then the host's after-commit hook hears of them. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/kept.h"
#include "core/json_parse.h"
#include "core/json_scan.h"
#include "crm/event.h"
#include "event.h"


/* An event of the open transaction, appended just before it commits. */
typedef struct pend {
	crm__kept k; /* first: its place in the transaction, its record */
	int64_t at, instance;
	/* The audit entry that holds the payload (0: none, the payload is
	 * here; -1: not appended yet, the chain writes its id here). */
	int64_t audit;
	const char *type, *form, *actor, *payload;
	size_t len;
	char text[]; /* payload, type, form and actor, in this one block */
} pend;

typedef struct crm__event_state crm__event_state;

/* What a queued INSERT of `n` rows tells when its outcome comes. */
typedef struct ids_note {
	crm__event_state *s;
	int n;
} ids_note;

struct crm__event_state {
	crm__kept_list pends;
	/* The ids this transaction (serial) appended: first..last (0: none). */
	unsigned int serial;
	int64_t first, last_id;
	ids_note notes[CRM__KEPT_ROWS + 1];
	unsigned int queued_serial; /* the transaction of the INSERTs in flight */
	/* The host's after-commit hook; while it runs, the ranges of the
	 * commits made meanwhile wait in `due` for calls of their own. */
	crm_event_hook_fn hook;
	void *hook_payload;
	int in_hook;
	struct range {
		int64_t first, last;
	} *due;
	size_t ndue, capdue;
	/* The buffers of the last consumer cursor freed, for the next one
	 * (lib/event/cursor.c). */
	crm__buf spare[2];
	/* The INSERT of one event taking the events lock in `locking_where`
	 * (a transaction's single event, as a transition's), once made. */
	char *locking_sql;
	const char *locking_where;
};

static void state_free(void *p)
{
	crm__event_state *s = p;

	if (!s)
		return;
	crm__kept_free_all(&s->pends);
	crm__free(s->due);
	crm__buf_free(&s->spare[0]);
	crm__buf_free(&s->spare[1]);
	crm__free(s->locking_sql);
	crm__free(s);
}

/* The handle's event state, made on first use (NULL: out of memory,
 * nothing recorded on the handle). */
static crm__event_state *state_made(crm_db *db)
{
	crm__event_state *s = db->ext[CRM__EXT_EVENT];

	if (s || !(s = crm__calloc(1, sizeof *s)))
		return s;
	for (int i = 0; i <= CRM__KEPT_ROWS; i++)
		s->notes[i] = (ids_note){ s, i };
	db->ext[CRM__EXT_EVENT] = s;
	db->ext_free[CRM__EXT_EVENT] = state_free;
	return s;
}

static crm__event_state *state_of(crm_db *db)
{
	crm__event_state *s = state_made(db);

	if (!s)
		crm__error_oom(db);
	return s;
}

crm__buf *crm__event_spares(crm_db *db)
{
	/* Spares are a saving, not a need: no error when there is no room for them. */
	crm__event_state *s = db->closed ? NULL : state_made(db);

	return s ? s->spare : NULL;
}

/* ---- the after-commit hook ---- */

/* Ids first..last were appended by transaction `serial` (db->tx_serial). */
static void note_ids(crm__event_state *s, unsigned int serial, int64_t first, int64_t last)
{
	if (s->serial != serial || !s->first) {
		s->serial = serial;
		s->first = first;
		s->last_id = last;
	}
	if (first < s->first)
		s->first = first;
	if (last > s->last_id)
		s->last_id = last;
}

/* The transaction committed: the hook hears of its events, once it is
 * not running already (a commit the hook made itself is heard of in a call
 * of its own after the running one returned). */
static void committed(crm_db *db)
{
	crm__event_state *s = db->ext[CRM__EXT_EVENT];
	struct range r;

	if (!s || s->serial != db->tx_serial || !s->first)
		return;
	r = (struct range){ s->first, s->last_id };
	s->first = s->last_id = 0;
	if (s->in_hook) {
		if (s->ndue == s->capdue) {
			size_t cap = s->capdue ? 2 * s->capdue : 4;
			struct range *grown = crm__realloc(s->due, cap * sizeof *grown);
			/* Out of memory: one call for both, wider (none waiting:
			 * no call; the events wait in the outbox for a poller). */
			if (!grown) {
				if (s->ndue && r.last > s->due[s->ndue - 1].last)
					s->due[s->ndue - 1].last = r.last;
				return;
			}
			s->due = grown;
			s->capdue = cap;
		}
		s->due[s->ndue++] = r;
		return;
	}
	s->in_hook = 1;
	for (size_t i = 0; s->hook; i++) {
		s->hook(s->hook_payload, r.first, r.last);
		if (i >= s->ndue)
			break;
		r = s->due[i];
	}
	s->ndue = 0;
	s->in_hook = 0;
}

int crm_event_hook_set(crm_db *db, crm_event_hook_fn fn, void *payload)
{
	crm__event_state *s;
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (!(s = state_of(db)))
		return db->errcode;
	s->hook = fn;
	s->hook_payload = fn ? payload : NULL;
	return CRM_OK;
}

/* ---- appending ---- */

static void ids_done(void *payload, int rc, int64_t id)
{
	ids_note *note = payload;

	/* The RETURNING row of the first event: the others follow it (the
	 * events lock keeps every other appender out meanwhile). Outcomes
	 * come before the COMMIT's: still the transaction that queued it. */
	if (rc == CRM_ROW)
		note_ids(note->s, note->s->queued_serial, id, id + note->n - 1);
}

/* Insert `n` events with one statement: VALUES, or (one event, whose
 * INSERT takes the events lock) a SELECT with the condition `lock_where`. */
static int insert_events(crm_db *db, crm__event_state *s, pend **rows, int n, const char *lock_where)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	if (lock_where && s->locking_sql && s->locking_where == lock_where)
		st = crm__stmt_take(db, s->locking_sql, (size_t)-1);
	else {
		crm__buf_puts(&sql, db->be->dialect->insert_many);
		crm__buf_puts(&sql, "crm_event(at, type, form, record, actor, payload, instance, audit) ");
		if (lock_where) {
			crm__buf_puts(&sql, "SELECT ?,?,?,?,?,?,?,? WHERE ");
			crm__buf_puts(&sql, lock_where);
		} else {
			crm__buf_puts(&sql, "VALUES");
			for (int i = 0; i < n; i++)
				crm__buf_puts(&sql, i ? ",(?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?)");
		}
		if (*db->be->dialect->returning_id)
			crm__buf_puts(&sql, db->be->dialect->returning_id);
		/* Kept: every transaction with events sends it (no room to keep
		 * it fails the call: a failed allocation is never absorbed). */
		if (lock_where && !sql.oom) {
			crm__free(s->locking_sql);
			if ((s->locking_sql = crm__strndup(sql.p, sql.len)))
				s->locking_where = lock_where;
			else
				crm__buf_fail(&sql);
		}
		st = crm__stmt_take_buf(db, &sql);
	}
	if (!st)
		return db->errcode;
	for (int i = 0; i < n; i++) {
		const pend *q = rows[i];
		int p = 8 * i;
		crm__bind_int64(st, p + 1, q->at);
		crm__bind_text(st, p + 2, q->type, -1);
		if (q->form) {
			crm__bind_text(st, p + 3, q->form, -1);
			crm__bind_int64(st, p + 4, q->k.record);
		}
		if (q->actor)
			crm__bind_text(st, p + 5, q->actor, -1);
		if (q->audit)
			crm__bind_int64(st, p + 8, q->audit); /* and no payload */
		else
			crm__bind_text(st, p + 6, q->payload, (int)q->len);
		if (q->instance > 0)
			crm__bind_int64(st, p + 7, q->instance);
	}
	if (db->be->pipeline) {
		s->queued_serial = db->tx_serial;
		rc = db->be->queue(st, ids_done, &s->notes[n]);
		rc = rc ? rc : CRM_DONE;
	} else if ((rc = crm__step(st)) == CRM_DONE || rc == CRM_ROW) {
		int64_t last = crm__inserted_id(st);
		note_ids(s, db->tx_serial, last - n + 1, last);
		rc = CRM_DONE;
	}
	crm__clear_bindings(st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

static int insert_rows(crm_db *db, void *ctx, crm__kept **kept, int n)
{
	return insert_events(db, ctx, (pend **)kept, n, NULL);
}

static int insert_locking(crm_db *db, void *ctx, crm__kept *k, const char *lock_where)
{
	pend *row = (pend *)k;

	return insert_events(db, ctx, &row, 1, lock_where);
}

/* Whether an event waits for its audit entry's id. */
static int awaits_audit(const crm__event_state *s)
{
	for (const crm__kept *k = s->pends.first; k; k = k->next)
		if (((const pend *)k)->audit < 0)
			return 1;
	return 0;
}

/* Append the open transaction's events (crm__kept_flush), after the audit
 * entries some of them show; the hook hears of them after the commit. */
static int flush(crm_db *db, crm__event_state *s, int all)
{
	const crm__kept_sink sink = { NULL, insert_rows, s, insert_locking };
	size_t n = 0;
	int rc = awaits_audit(s) ? crm__audit_flush(db) : CRM_OK;

	if (rc == CRM_OK)
		rc = crm__kept_flush(db, &s->pends, all, &sink, &n);
	if (n && s->hook)
		db->after_commit = committed;
	return rc;
}

static int before_commit(crm_db *db)
{
	crm__event_state *s = db->ext[CRM__EXT_EVENT];

	return s ? flush(db, s, 1) : CRM_OK;
}

int crm__event_flush(crm_db *db)
{
	crm__event_state *s = db->ext[CRM__EXT_EVENT];

	return s && (db->tx_depth > 0 || db->host_tx) ? flush(db, s, 1) : CRM_OK;
}

/* A savepoint ended (lib/core/tx.c): the events made inside it go with it
 * when it was rolled back, else they now belong to the level below. */
static void savepoint_end(crm_db *db, int depth, int undone)
{
	crm__event_state *s = db->ext[CRM__EXT_EVENT];

	if (s)
		crm__kept_savepoint_end(&s->pends, depth, undone);
}

/* Keep an event for the commit of the open transaction, its payload
 * made of `pre`, data[0..len) and `post` (pre, post may be NULL), in one
 * allocation; with `audit_slot`, an event showing an audit entry instead
 * (no payload here; *audit_slot gets where the entry's id goes). */
static int pend_add(crm_db *db, crm__event_state *s, const char *type, const char *form, int64_t record,
		    int64_t instance, const char *pre, const char *data, size_t len, const char *post,
		    int64_t **audit_slot, pend **out)
{
	size_t pre_n = pre ? strlen(pre) : 0, post_n = post ? strlen(post) : 0, type_n = strlen(type) + 1,
	       form_n = form ? strlen(form) + 1 : 0, actor_n = db->actor_user ? strlen(db->actor_user) + 1 : 0;
	pend *q;
	char *p;

	if (audit_slot)
		pre_n = len = post_n = 0;
	if (!(q = crm__malloc(sizeof *q + pre_n + len + post_n + 1 + type_n + form_n + actor_n)))
		return crm__error_oom(db);
	*q = (pend){ .k.record = record, .at = crm_now(db), .instance = instance, .audit = audit_slot ? -1 : 0 };
	if (audit_slot)
		*audit_slot = &q->audit;
	p = q->text;
	q->payload = p;
	crm__kept_put(&p, pre, pre_n);
	crm__kept_put(&p, data, len);
	crm__kept_put(&p, post, post_n);
	*p++ = 0;
	q->len = pre_n + len + post_n;
	q->type = crm__kept_put(&p, type, type_n);
	q->form = form ? crm__kept_put(&p, form, form_n) : NULL;
	q->actor = db->actor_user ? crm__kept_put(&p, db->actor_user, actor_n) : NULL;
	crm__kept_link(db, &s->pends, &q->k);
	db->before_commit[CRM__EXT_EVENT] = before_commit;
	db->savepoint_end[CRM__EXT_EVENT] = savepoint_end;
	if (out)
		*out = q;
	return CRM_OK;
}

/* A long transaction appends as it goes, keeping memory bounded (the
 * events lock is then held from there to its commit). */
static int bounded(crm_db *db, crm__event_state *s)
{
	return s->pends.n >= CRM__KEPT_MAX ? flush(db, s, 0) : CRM_OK;
}

int crm__event_bounded(crm_db *db)
{
	crm__event_state *s = db->ext[CRM__EXT_EVENT];

	return s ? bounded(db, s) : CRM_OK;
}

/* Keep an event in the open transaction, or (outside one) append it in a
 * transaction of its own. One showing an audit entry (`audit_slot`) is
 * made inside a write's transaction and waits for crm__event_bounded. */
static int append(crm_db *db, const char *type, const char *form, int64_t record, int64_t instance,
		  const char *pre, const char *data, size_t len, const char *post, int64_t **audit_slot)
{
	crm__event_state *s = state_of(db);
	int rc;

	if (!s)
		return db->errcode;
	if (db->tx_depth > 0 || db->host_tx) {
		rc = pend_add(db, s, type, form, record, instance, pre, data, len, post, audit_slot, NULL);
		return rc || audit_slot ? rc : bounded(db, s);
	}
	if ((rc = crm__tx_begin(db)))
		return rc;
	return crm__tx_end(db, pend_add(db, s, type, form, record, instance, pre, data, len, post, NULL, NULL));
}

int crm__event_append(crm_db *db, const char *type, const char *form, int64_t record, int64_t instance,
		      const char *payload)
{
	return append(db, type, form, record, instance, NULL, payload, strlen(payload), NULL, NULL);
}

static const char *const change_types[] = { "crm.create", "crm.update", "crm.delete" };

int crm__event_change(crm_db *db, enum crm__change op, const char *form, int64_t record, int64_t version,
		      const char *data, size_t len, int64_t **audit_slot)
{
	char post[40];

	if (op != CRM__CHANGE_UPDATE)
		return append(db, change_types[op], form, record, 0, NULL, data, len, NULL, audit_slot);
	/* An update that changed nothing is no event. */
	if (len == 2 && data[0] == '{' && data[1] == '}') {
		if (audit_slot)
			*audit_slot = NULL;
		return CRM_OK;
	}
	snprintf(post, sizeof post, ",\"version\":%lld}", (long long)version);
	return append(db, change_types[op], form, record, 0, "{\"changed\":", data, len, post, audit_slot);
}

int crm__event_create_queued(crm_db *db, const char *form, const char *data, size_t len, int64_t **audit_slot,
			     crm__queued_fn *done, void **payload)
{
	crm__event_state *s = state_of(db);
	pend *q;
	int rc;

	if (!s)
		return db->errcode;
	if ((rc = pend_add(db, s, change_types[CRM__CHANGE_CREATE], form, 0, 0, NULL, data, len, NULL, audit_slot, &q)))
		return rc;
	crm__kept_wrap(&q->k, done, payload);
	return audit_slot ? CRM_OK : bounded(db, s);
}

/* ---- emitted events ---- */

/* Insert an emitted event at once: *out_id gets its id. */
static int emit_now(crm_db *db, crm__event_state *s, const char *type, const char *form, int64_t record,
		    int64_t instance, const char *payload, int64_t *out_id)
{
	static const char sql[] =
		"INSERT INTO crm_event(at, type, form, record, actor, payload, instance) VALUES(?,?,?,?,?,?,?)";
	crm__stmt *st;
	int rc;

	/* The events made before it go first. */
	if ((rc = crm__event_flush(db)) || (rc = db->be->lock(db, CRM__LOCK_EVENTS)))
		return rc;
	if (!(st = crm__stmt_take_insert(db, sql)))
		return db->errcode;
	crm__bind_int64(st, 1, crm_now(db));
	crm__bind_text(st, 2, type, -1);
	if (form) {
		crm__bind_text(st, 3, form, -1);
		crm__bind_int64(st, 4, record);
	}
	if (db->actor_user)
		crm__bind_text(st, 5, db->actor_user, -1);
	crm__bind_text(st, 6, payload, -1);
	if (instance > 0)
		crm__bind_int64(st, 7, instance);
	rc = crm__step(st);
	if (rc == CRM_DONE || rc == CRM_ROW) {
		*out_id = crm__inserted_id(st);
		note_ids(s, db->tx_serial, *out_id, *out_id);
		if (s->hook)
			db->after_commit = committed;
		rc = CRM_OK;
	}
	crm__stmt_give(db, st);
	return rc;
}

int crm__event_emit(crm_db *db, const char *type, const char *form, int64_t record, int64_t instance,
		    const char *payload, int64_t *out_id)
{
	crm__event_state *s;
	size_t at;
	int rc;

	if (strncmp(type, "crm.", 4) == 0)
		return crm__error(db, CRM_EINVAL,
				  "event names starting with 'crm.' are libcrm's own: '%.64s' cannot be emitted", type);
	/* A script's payload: no text may hold U+0000 (docs/decisions.md). */
	if (payload && crm__json_has_nul(payload, strlen(payload), &at))
		return crm__error_nul(db, "the event payload", at);
	if (!payload)
		payload = "{}";
	if (!out_id)
		return crm__event_append(db, type, form, record, instance, payload);
	if (!(s = state_of(db)))
		return db->errcode;
	if (db->tx_depth > 0 || db->host_tx)
		return emit_now(db, s, type, form, record, instance, payload, out_id);
	if ((rc = crm__tx_begin(db)))
		return rc;
	return crm__tx_end(db, emit_now(db, s, type, form, record, instance, payload, out_id));
}
