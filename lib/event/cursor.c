/* A consumer's batch of events as rows (crm_consumer_read_rows,
 * include/crm/event.h). The read's lease depends on what its scan found
 * (how many events, the last seq), so the scan ends inside the read's
 * transaction: its rows are copied there into two buffers, and served
 * afterwards as a statement of their own (the seam's column functions over
 * memory), which crm_row reads as it reads any statement and
 * crm__event_rows writes as JSON for crm_consumer_read. */
#include <string.h>

#include "core/alloc.h"
#include "crm/event.h"
#include "event.h"
#include "store/row.h"

#define NCOLS 8 /* CRM__EVENT_SELECT's */
#define KEEP_BYTES (1 << 20) /* the most a handle keeps of each spare buffer */

/* The columns of CRM__EVENT_SELECT: integers (seq, at, record, instance)
 * and texts (type, form, actor, payload). */
static const char *const names[NCOLS] = { "seq", "at", "type", "form", "record", "instance", "actor", "payload" };
static const crm_type types[NCOLS] = { CRM_TYPE_INTEGER, CRM_TYPE_DATETIME, CRM_TYPE_TEXT, CRM_TYPE_TEXT,
				       CRM_TYPE_INTEGER, CRM_TYPE_INTEGER, CRM_TYPE_TEXT, CRM_TYPE_JSON };
static const unsigned char is_int[NCOLS] = { 1, 1, 0, 0, 1, 1, 0, 0 };

/* A held value: an integer v, or text of n bytes at offset v of the
 * texts (NUL-terminated there); n < 0 for null. */
typedef struct cell {
	int64_t v;
	int64_t n;
} cell;

/* The held rows as a statement: `st` first, so the functions cast back. */
typedef struct held {
	crm__stmt st;
	crm__buf cells; /* NCOLS cells per row */
	crm__buf texts;
	int n;           /* rows */
	int at;          /* the current row, -1 before the first step */
	const cell *row; /* its cells; NULL when there is no current row */
} held;

enum cursor_state { ST_READY, ST_ROW, ST_DONE, ST_CLOSED };

struct crm_event_cursor {
	crm__child child; /* first: the close hook casts back */
	crm_db *db;
	held h;
	int state;
	unsigned int epoch; /* the row's freshness check: events have no definition to go stale */
	crm_row row;
};

/* ---- the held rows as a statement (what crm_row and crm__event_rows call) ---- */

/* Column i of the current row. Its callers read only on a row and within
 * NCOLS (crm_row checks both before each access; crm__event_rows reads its
 * fixed columns after a step gave a row), so this runs unchecked: it is
 * called several times per value read. */
static inline const cell *cell_of(crm__stmt *st, int i) { return ((held *)st)->row + i; }

static int held_step(crm__stmt *st)
{
	held *h = (held *)st;

	if (h->at < h->n)
		h->at++;
	h->row = h->at < h->n ? (const cell *)h->cells.p + (size_t)h->at * NCOLS : NULL;
	return h->row ? CRM_ROW : CRM_DONE;
}

static int held_column_count(crm__stmt *st)
{
	(void)st;
	return NCOLS;
}

static int held_column_type(crm__stmt *st, int i)
{
	const cell *c = cell_of(st, i);

	return c->n < 0 ? CRM__SQL_NULL : is_int[i] ? CRM__SQL_INTEGER : CRM__SQL_TEXT;
}

/* Integers as stored; a text column reads as 0 (nothing asks for one). */
static int64_t held_column_int64(crm__stmt *st, int i)
{
	const cell *c = cell_of(st, i);

	return c->n >= 0 && is_int[i] ? c->v : 0;
}

static double held_column_double(crm__stmt *st, int i) { return (double)held_column_int64(st, i); }

static int64_t held_column_as(crm__stmt *st, int i, enum crm__natural kind, int scale)
{
	(void)kind; /* the one natural column, `at`, was copied in ms */
	(void)scale;
	return held_column_int64(st, i);
}

/* Texts as stored; an integer column reads as NULL (its text is crm_row's to make). */
static const char *held_column_text(crm__stmt *st, int i)
{
	const cell *c = cell_of(st, i);

	return c->n >= 0 && !is_int[i] ? ((held *)st)->texts.p + c->v : NULL;
}

static int held_column_bytes(crm__stmt *st, int i)
{
	const cell *c = cell_of(st, i);

	return c->n >= 0 && !is_int[i] ? (int)c->n : 0;
}

/* Only what crm_row and crm__event_rows call: nothing here touches a database. */
static const crm__backend held_rows = {
	.version = CRM__BACKEND_VERSION,
	.name = "held rows",
	.step = held_step,
	.column_count = held_column_count,
	.column_type = held_column_type,
	.column_int64 = held_column_int64,
	.column_double = held_column_double,
	.column_text = held_column_text,
	.column_bytes = held_column_bytes,
	.column_as = held_column_as,
};

/* Room for `n` more bytes in `b`: the call only when it must grow. */
static inline int room(crm__buf *b, size_t n) { return b->cap - b->len > n ? 0 : crm__buf_reserve(b, n); }

static void hold_int(cell *c, crm__stmt *st, int i, int nullable)
{
	c->n = nullable && crm__column_type(st, i) == CRM__SQL_NULL ? -1 : 0;
	c->v = c->n ? 0 : crm__column_int64(st, i);
}

/* The text of column i of `st`, NULL for null (backend.h: no need to ask
 * the type first); c->n its bytes. */
static const char *text_of(cell *c, crm__stmt *st, int i)
{
	const char *p = crm__column_text(st, i);

	c->n = p ? crm__column_bytes(st, i) : -1;
	return p;
}

/* Copy the current row of `st` (CRM__EVENT_SELECT) to the end of `h`, as
 * stored (the payload is the JSON text libcrm wrote: not checked again
 * here, see crm_consumer_read_rows). 0, or -1 out of memory. */
static int hold_row(held *h, crm__stmt *st)
{
	static const int text_cols[4] = { 2, 3, 6, 7 };
	const char *p[4];
	size_t need = 0;
	cell *c;
	char *d;

	if (room(&h->cells, NCOLS * sizeof *c))
		return -1;
	c = (cell *)(h->cells.p + h->cells.len);
	hold_int(&c[0], st, 0, 0);
	hold_int(&c[1], st, 1, 0);
	hold_int(&c[4], st, 4, 1);
	hold_int(&c[5], st, 5, 1);
	for (int k = 0; k < 4; k++) {
		int i = text_cols[k];
		p[k] = text_of(&c[i], st, i);
		need += p[k] ? (size_t)c[i].n + 1 : 0;
	}
	if (room(&h->texts, need))
		return -1;
	d = h->texts.p + h->texts.len;
	for (int k = 0; k < 4; k++) {
		cell *t = &c[text_cols[k]];
		if (!p[k])
			continue;
		t->v = (int64_t)(d - h->texts.p);
		memcpy(d, p[k], (size_t)t->n);
		d += t->n;
		*d++ = '\0';
	}
	h->texts.len = (size_t)(d - h->texts.p);
	h->cells.len += NCOLS * sizeof *c;
	h->n++;
	return 0;
}

/* ---- the cursor ---- */

/* crm_close with the cursor open: every later call is CRM_EMISUSE. */
static void cursor_close(crm__child *child)
{
	((crm_event_cursor *)child)->state = ST_CLOSED;
}

/* Events have no definition that could change under the cursor. */
static int always_current(void *owner)
{
	crm_event_cursor *cur = owner;

	cur->epoch = cur->db->meta_epoch;
	return 1;
}

int crm__event_cursor_new(crm_db *db, crm_event_cursor **out)
{
	crm_event_cursor *cur = crm__calloc(1, sizeof *cur);
	crm__buf *spares;

	*out = NULL;
	if (!cur)
		return crm__error_oom(db);
	cur->db = db;
	if ((spares = crm__event_spares(db))) {
		cur->h.cells = spares[0];
		cur->h.texts = spares[1];
		spares[0] = spares[1] = (crm__buf)CRM__BUF_INIT;
	}
	cur->h.st.be = &held_rows;
	cur->h.st.db = db;
	cur->h.at = -1;
	cur->h.row = NULL;
	crm__child_add(db, &cur->child, cursor_close);
	if (crm__row_init(&cur->row, db, NCOLS)) {
		crm_event_cursor_free(cur);
		return CRM_ENOMEM;
	}
	for (int i = 0; i < NCOLS; i++)
		crm__row_column(&cur->row, i, names[i], types[i], 0);
	cur->row.st = &cur->h.st;
	cur->row.state = &cur->state;
	cur->row.on_row = ST_ROW;
	cur->row.epoch = &cur->epoch;
	cur->row.current = always_current;
	cur->row.owner = cur;
	cur->epoch = db->meta_epoch;
	*out = cur;
	return CRM_OK;
}

int crm__event_hold(crm_event_cursor *cur, crm__stmt *st)
{
	int rc;

	while ((rc = crm__step(st)) == CRM_ROW)
		if (hold_row(&cur->h, st))
			return crm__error_oom(cur->db);
	return rc == CRM_DONE ? CRM_OK : rc;
}

crm__stmt *crm__event_cursor_stmt(crm_event_cursor *cur) { return &cur->h.st; }

int crm_event_cursor_next(crm_event_cursor *cur)
{
	if (!cur || cur->state == ST_CLOSED)
		return CRM_EMISUSE;
	cur->state = held_step(&cur->h.st) == CRM_ROW ? ST_ROW : ST_DONE;
	return cur->state == ST_ROW ? CRM_ROW : CRM_DONE;
}

crm_row *crm_event_cursor_row(crm_event_cursor *cur) { return cur ? &cur->row : NULL; }

int crm_event_cursor_count(crm_event_cursor *cur) { return cur && cur->state != ST_CLOSED ? cur->h.n : 0; }

int64_t crm_event_cursor_last_seq(crm_event_cursor *cur)
{
	if (!cur || cur->state == ST_CLOSED || cur->h.n == 0)
		return 0;
	return ((const cell *)cur->h.cells.p)[(size_t)(cur->h.n - 1) * NCOLS].v; /* its seq */
}

/* Leave `b` as the handle's spare `which` unless one is there already or
 * it is too big to keep (a rare large batch gives its memory back). */
static void keep(crm_db *db, crm__buf *b, int which)
{
	crm__buf *spares = b->cap && b->cap <= KEEP_BYTES ? crm__event_spares(db) : NULL;

	if (spares && !spares[which].p) {
		spares[which] = *b;
		crm__buf_reset(&spares[which]);
	} else
		crm__buf_free(b);
}

void crm_event_cursor_free(crm_event_cursor *cur)
{
	if (!cur)
		return;
	crm__row_free(&cur->row);
	keep(cur->db, &cur->h.cells, 0);
	keep(cur->db, &cur->h.texts, 1);
	crm__child_remove(cur->db, &cur->child);
	crm__free(cur);
}
