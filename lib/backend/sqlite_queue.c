/* The SQLite backend's queue (crm__backend.queue). A queued single-row
 * INSERT INTO ... VALUES(...) keeps a copy of its row, and consecutive rows
 * of one statement then run as one multi-row INSERT OR FAIL of up to
 * ROWS_MAX rows: SQLite starts one program and updates AUTOINCREMENT's
 * counter once for them all. OR FAIL needs no statement journal (an ABORT
 * would keep one, spilling to a temporary file) and keeps the rows before
 * one a constraint refuses: those took consecutive ids, that row gets its
 * outcome, and the rows after it run again. Outcomes are told in queue
 * order when the rows have run: before any other statement, at a flush,
 * when a statement's rows fill a block. Other statements run when queued;
 * their outcome waits likewise.
 * Rows are kept only inside a transaction, which the flush before COMMIT
 * completes. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "sqlite_int.h"

#define ROWS_MAX 64
#define SIZES 7 /* many[k] has 2^k rows: k from 1 to log2(ROWS_MAX) */

struct lite_rows {
	int nparams; /* per row */
	int max;     /* rows per statement at most: a power of two */
	size_t row_at; /* where the row's "(...)" begins in the SQL */
	sqlite3_stmt *many[SIZES];
	lite_slot bound[]; /* the statement's bindings, nparams of them */
};

struct lite_entry {
	lite_stmt *st; /* whose row it is; NULL: a statement that ran when queued */
	size_t slot;   /* its row's first parameter in the queue's slots */
	crm__queued_fn done;
	void *payload;
	int rc; /* its outcome once it ran (0: not run yet) */
	int64_t id;
};

/* ---- the shape of a queued statement ---- */

/* Where the row begins in `sql`, a single-row INSERT whose text ends with
 * "VALUES(...)" of anonymous parameters and literals; 0 for any other
 * statement (it runs when queued). The SQL is libcrm's own. */
static size_t row_at(const char *sql)
{
	size_t len = strlen(sql), open, v;

	if (len < 16 || strncmp(sql, "INSERT INTO ", 12) != 0 || sql[len - 1] != ')')
		return 0;
	for (open = len - 1; open > 0 && sql[open - 1] != '('; open--) {
		char c = sql[open - 1];
		if (strchr(")'\"`[:@$", c) || (c == '?' && sql[open] >= '0' && sql[open] <= '9'))
			return 0;
	}
	if (open-- == 0)
		return 0;
	for (v = open; v > 0 && sql[v - 1] == ' '; v--)
		;
	return v >= 6 && strncmp(sql + v - 6, "VALUES", 6) == 0 ? open : 0;
}

/* The rows of `st` from its first queue on in *out, NULL when its shape
 * does not allow them. CRM_OK or CRM_ENOMEM. */
static int rows_of(lite_stmt *st, lite_rows **out)
{
	sqlite3 *h = sqlite3_db_handle(st->s);
	lite_rows *r;
	size_t at;
	int n, max = ROWS_MAX, limit;

	*out = NULL;
	at = st->shape == LITE_SHAPE_OTHER ? 0 : row_at(sqlite3_sql(st->s));
	n = sqlite3_bind_parameter_count(st->s);
	limit = sqlite3_limit(h, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
	while (max > 1 && (int64_t)max * n > limit)
		max /= 2;
	st->shape = at && max > 1 ? LITE_SHAPE_ROW : LITE_SHAPE_OTHER;
	if (st->shape == LITE_SHAPE_OTHER)
		return CRM_OK;
	if (!(r = crm__calloc(1, sizeof *r + (size_t)n * sizeof *r->bound)))
		return crm__error_oom(st->base.db);
	r->nparams = n;
	r->max = max;
	r->row_at = at;
	*out = r;
	return CRM_OK;
}

/* The INSERT OR FAIL of 2^k rows of `st`, prepared on first use. */
static sqlite3_stmt *many_of(crm_db *db, lite_stmt *st, int k)
{
	lite_rows *r = st->rows;
	const char *sql = sqlite3_sql(st->s);
	crm__buf text = CRM__BUF_INIT;
	int rc;

	if (r->many[k])
		return r->many[k];
	crm__buf_puts(&text, "INSERT OR FAIL");
	crm__buf_put(&text, sql + 6, r->row_at - 6);
	for (int i = 0; i < 1 << k; i++) {
		if (i)
			crm__buf_putc(&text, ',');
		crm__buf_puts(&text, sql + r->row_at);
	}
	if (text.oom)
		crm__error_oom(db);
	else if ((rc = sqlite3_prepare_v3(LITE_CONN(db)->h, text.p, (int)text.len, SQLITE_PREPARE_PERSISTENT,
					  &r->many[k], NULL)) != SQLITE_OK)
		crm__lite_fail(db, rc);
	crm__buf_free(&text);
	return r->many[k];
}

/* ---- bindings ---- */

/* `queued`: the value is at v->v.at in `text` (the queue's, NULL while it
 * holds no byte), else at v->v.p. Text and blobs are never NULL here: a
 * NULL pointer was kept as SQLITE_NULL, as SQLite binds it. */
static int bind_slot(sqlite3_stmt *s, int i, const lite_slot *v, int queued, const char *text)
{
	const void *p = queued ? (text ? text + v->v.at : "") : v->v.p;

	switch (v->type) {
	case SQLITE_INTEGER: return sqlite3_bind_int64(s, i, v->v.i);
	case SQLITE_FLOAT: return sqlite3_bind_double(s, i, v->v.d);
	case SQLITE_TEXT: return sqlite3_bind_text(s, i, p, v->n, SQLITE_STATIC);
	case SQLITE_BLOB: return sqlite3_bind_blob(s, i, p, v->n, SQLITE_STATIC);
	default: return sqlite3_bind_null(s, i);
	}
}

int crm__lite_keep(lite_stmt *st, int i, const lite_slot *v)
{
	if (i < 1 || i > st->rows->nparams)
		return crm__lite_fail(st->base.db, SQLITE_RANGE);
	st->rows->bound[i - 1] = *v;
	return CRM_OK;
}

void crm__lite_unkeep(lite_stmt *st)
{
	memset(st->rows->bound, 0, (size_t)st->rows->nparams * sizeof *st->rows->bound);
}

/* Bind `n` parameters from `v` from parameter `first` on (as bind_slot). */
static int bind_row(sqlite3_stmt *s, int first, const lite_slot *v, int n, int queued, const char *text)
{
	int rc = SQLITE_OK;

	for (int i = 0; i < n && rc == SQLITE_OK; i++)
		rc = bind_slot(s, first + i, &v[i], queued, text);
	return rc;
}

int crm__lite_apply(lite_stmt *st)
{
	int rc = bind_row(st->s, 1, st->rows->bound, st->rows->nparams, 0, NULL);

	return rc == SQLITE_OK ? CRM_OK : crm__lite_fail(st->base.db, rc);
}

/* ---- running ---- */

static void failed(crm_db *db, lite_queue *q, int rc)
{
	if (!q->failed) {
		q->failed = rc;
		snprintf(q->failure, sizeof q->failure, "%s", crm_errmsg(db));
	}
}

/* Step `s`, a statement queued alone, once: its outcome in *e. */
static void step_once(crm_db *db, sqlite3_stmt *s, lite_entry *e)
{
	sqlite3 *h = sqlite3_db_handle(s);
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		e->rc = CRM_ROW;
		e->id = sqlite3_column_int64(s, 0);
	} else if (rc == SQLITE_DONE && strncmp(sqlite3_sql(s), "INSERT", 6) == 0 && sqlite3_changes(h) == 1) {
		e->rc = CRM_ROW;
		e->id = sqlite3_last_insert_rowid(h);
	} else if (rc == SQLITE_DONE)
		e->rc = CRM_DONE;
	else if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		e->rc = CRM_DONE; /* as PostgreSQL's ON CONFLICT DO NOTHING */
	else
		e->rc = crm__lite_fail(db, rc);
	sqlite3_reset(s);
}

/* Run the row of entry `e` on its own statement. */
static void run_one(crm_db *db, lite_queue *q, lite_entry *e)
{
	lite_rows *r = e->st->rows;
	int rc = bind_row(e->st->s, 1, q->slots + e->slot, r->nparams, 1, q->text.p);

	if (rc != SQLITE_OK)
		e->rc = crm__lite_fail(db, rc);
	else
		step_once(db, e->st->s, e);
	if (e->rc != CRM_ROW && e->rc != CRM_DONE)
		failed(db, q, e->rc);
}

/* Run the rows of the 2^k entries from `e` (one statement's) as one
 * INSERT OR FAIL: the rows it inserted and the one it refused get their
 * outcome; those after that one are left for the next run. */
static void run_block(crm_db *db, lite_queue *q, lite_entry *e, int k)
{
	lite_rows *r = e->st->rows;
	sqlite3_stmt *s = many_of(db, e->st, k);
	sqlite3 *h = LITE_CONN(db)->h;
	int n = 1 << k, rc = SQLITE_OK, done;
	int64_t last;

	if (!s) {
		e->rc = db->errcode;
		failed(db, q, e->rc);
		return;
	}
	for (int i = 0; i < n && rc == SQLITE_OK; i++)
		rc = bind_row(s, 1 + i * r->nparams, q->slots + e[i].slot, r->nparams, 1, q->text.p);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	done = rc == SQLITE_DONE || (rc & 0xff) == SQLITE_CONSTRAINT ? sqlite3_changes(h) : 0;
	last = sqlite3_last_insert_rowid(h);
	/* Rows of one INSERT take consecutive ids (AUTOINCREMENT, one writer). */
	for (int i = 0; i < done && i < n; i++) {
		e[i].rc = CRM_ROW;
		e[i].id = last - done + 1 + i;
	}
	if (rc == SQLITE_DONE && done != n)
		rc = SQLITE_INTERNAL;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		e[done].rc = CRM_DONE; /* as PostgreSQL's ON CONFLICT DO NOTHING */
	else if (rc != SQLITE_DONE) {
		e[done < n ? done : 0].rc = crm__lite_fail(db, rc);
		failed(db, q, db->errcode);
	}
	sqlite3_reset(s);
}

/* Run every queued row not run yet, in order, each statement's in blocks
 * of as many rows as it allows. */
static void run_pending(crm_db *db, lite_queue *q)
{
	size_t i = 0;

	while (i < q->n && !q->failed) {
		lite_entry *e = &q->e[i];
		size_t same = 1;
		int k = 0;

		if (!e->st || e->rc) {
			i++;
			continue;
		}
		while (i + same < q->n && q->e[i + same].st == e->st && (int)same < e->st->rows->max)
			same++;
		while ((size_t)2 << k <= same)
			k++;
		/* Rows it leaves (after one refused) are run next time round. */
		if (k == 0)
			run_one(db, q, e);
		else
			run_block(db, q, e, k);
	}
}

/* Tell the outcomes known, in order, and empty the queue. */
static void deliver(lite_queue *q)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->e[i].rc && q->e[i].done)
			q->e[i].done(q->e[i].payload, q->e[i].rc, q->e[i].id);
	q->n = 0;
	q->nslots = 0;
	crm__buf_reset(&q->text);
}

int crm__lite_flush(crm_db *db)
{
	lite_queue *q = &LITE_CONN(db)->q;
	int rc;

	run_pending(db, q);
	deliver(q);
	if (!(rc = q->failed))
		return CRM_OK;
	q->failed = 0;
	return crm__error(db, rc, "%s", q->failure);
}

void crm__lite_discard(crm_db *db)
{
	lite_queue *q = &LITE_CONN(db)->q;

	/* Whoever waited for them is undone with the transaction (or gone,
	 * on close): nobody is told. */
	q->n = 0;
	q->nslots = 0;
	crm__buf_reset(&q->text);
	q->failed = 0;
}

/* ---- queueing ---- */

static lite_entry *entry_add(crm_db *db, lite_queue *q, lite_stmt *st, crm__queued_fn done, void *payload)
{
	size_t need = st ? (size_t)st->rows->nparams : 0;

	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 64;
		lite_entry *grown = crm__realloc(q->e, cap * sizeof *grown);
		if (!grown)
			return crm__error_oom(db), NULL;
		q->e = grown;
		q->cap = cap;
	}
	if (q->nslots + need > q->capslots) {
		size_t cap = 2 * (q->nslots + need) + 64;
		lite_slot *grown = crm__realloc(q->slots, cap * sizeof *grown);
		if (!grown)
			return crm__error_oom(db), NULL;
		q->slots = grown;
		q->capslots = cap;
	}
	q->e[q->n] = (lite_entry){ .st = st, .slot = q->nslots, .done = done, .payload = payload };
	return &q->e[q->n++];
}

/* Bytes of `v` the queue keeps a copy of: text's and blobs'. */
static size_t kept_bytes(const lite_slot *v)
{
	return (v->type == SQLITE_TEXT || v->type == SQLITE_BLOB) && v->n > 0 ? (size_t)v->n : 0;
}

/* Copy the kept bindings of `st` into the queue, the row of entry `e`. */
static int keep_row(crm_db *db, lite_queue *q, lite_stmt *st)
{
	lite_slot *out = q->slots + q->nslots;
	size_t size = 0;

	for (int i = 0; i < st->rows->nparams; i++)
		size += kept_bytes(&st->rows->bound[i]);
	/* Room for the row's bytes once, then copies: every row passes here. */
	if (crm__buf_reserve(&q->text, size))
		return crm__error_oom(db);
	for (int i = 0; i < st->rows->nparams; i++) {
		lite_slot v = st->rows->bound[i];
		size_t n = kept_bytes(&v);
		if (v.type == SQLITE_TEXT || v.type == SQLITE_BLOB) {
			if (n)
				memcpy(q->text.p + q->text.len, v.v.p, n);
			v.v.at = q->text.len;
			q->text.len += n;
		}
		out[i] = v;
	}
	q->nslots += (size_t)st->rows->nparams;
	return CRM_OK;
}

int crm__lite_queue(crm__stmt *base, crm__queued_fn done, void *payload)
{
	lite_stmt *st = LITE(base);
	crm_db *db = base->db;
	lite_queue *q = &LITE_CONN(db)->q;
	lite_rows *fresh = NULL;
	lite_entry *e;
	int in_tx = !sqlite3_get_autocommit(LITE_CONN(db)->h);

	if (q->failed) { /* not run: the transaction has failed */
		sqlite3_reset(st->s);
		return CRM_OK;
	}
	/* Kept only inside a transaction: its COMMIT runs them. */
	if (st->rows && in_tx) {
		if (q->n >= (size_t)st->rows->max) {
			run_pending(db, q);
			deliver(q);
		}
		if (!(e = entry_add(db, q, st, done, payload)))
			return db->errcode;
		if (keep_row(db, q, st)) {
			q->n--;
			return db->errcode;
		}
		return CRM_OK;
	}
	/* Its bindings are SQLite's (or kept ones given to it): it runs now,
	 * after the rows queued before it, its outcome told later. */
	run_pending(db, q);
	if (q->failed) {
		sqlite3_reset(st->s);
		return CRM_OK;
	}
	if ((!st->rows && in_tx && st->shape != LITE_SHAPE_OTHER && rows_of(st, &fresh)) ||
	    !(e = entry_add(db, q, NULL, done, payload)) || (st->rows && crm__lite_apply(st))) {
		crm__free(fresh);
		sqlite3_reset(st->s);
		return db->errcode;
	}
	step_once(db, st->s, e);
	if (e->rc != CRM_ROW && e->rc != CRM_DONE)
		failed(db, q, e->rc);
	/* The next rows are kept: SQLite's bindings are forgotten. */
	if (fresh) {
		st->rows = fresh;
		sqlite3_clear_bindings(st->s);
	}
	return CRM_OK;
}

void crm__lite_rows_free(lite_stmt *st)
{
	crm_db *db = st->base.db;
	lite_rows *r = st->rows;

	if (!r)
		return;
	/* Its rows still queued run before it goes. */
	if (db->conn)
		for (size_t i = 0; i < LITE_CONN(db)->q.n; i++)
			if (LITE_CONN(db)->q.e[i].st == st && !LITE_CONN(db)->q.e[i].rc) {
				run_pending(db, &LITE_CONN(db)->q);
				break;
			}
	for (int k = 1; k < SIZES; k++)
		sqlite3_finalize(r->many[k]);
	crm__free(r);
	st->rows = NULL;
}
