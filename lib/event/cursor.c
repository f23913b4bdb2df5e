/* A consumer's batch of events as rows (crm_consumer_read_rows,
 * include/crm/event.h). The read's lease depends on what its scan found
 * (how many events, the last seq), so the scan ends inside the read's
 * transaction: its rows are copied there into two buffers, and served
 * afterwards as a statement of their own (the seam's column functions over
 * memory), which crm_row reads as it reads any statement and
 * crm__event_rows writes as JSON for crm_consumer_read. */
#include <string.h>

#include "core/alloc.h"
#include "core/json_parse.h"
#include "crm/event.h"
#include "event.h"
#include "store/row.h"

#define NCOLS 8 /* CRM__EVENT_SELECT's */

/* How each column of CRM__EVENT_SELECT is copied. */
enum kind { K_INT, K_INT_NULL, K_TEXT, K_TEXT_NULL, K_PAYLOAD };
static const unsigned char kinds[NCOLS] = { K_INT, K_INT, K_TEXT, K_TEXT_NULL, K_INT_NULL, K_INT_NULL, K_TEXT_NULL, K_PAYLOAD };
static const char *const names[NCOLS] = { "seq", "at", "type", "form", "record", "instance", "actor", "payload" };
static const crm_type types[NCOLS] = { CRM_TYPE_INTEGER, CRM_TYPE_DATETIME, CRM_TYPE_TEXT, CRM_TYPE_TEXT,
				       CRM_TYPE_INTEGER, CRM_TYPE_INTEGER, CRM_TYPE_TEXT, CRM_TYPE_JSON };

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
	int n;  /* rows */
	int at; /* the current row, -1 before the first step */
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

/* ---- the held rows as a statement ---- */

static const cell *cell_of(crm__stmt *st, int i)
{
	held *h = (held *)st;

	if (h->at < 0 || h->at >= h->n || (unsigned)i >= NCOLS)
		return NULL;
	return (const cell *)h->cells.p + (size_t)h->at * NCOLS + i;
}

static int held_step(crm__stmt *st)
{
	held *h = (held *)st;

	if (h->at < h->n)
		h->at++;
	return h->at < h->n ? CRM_ROW : CRM_DONE;
}

static int held_column_count(crm__stmt *st)
{
	(void)st;
	return NCOLS;
}

static int is_int(int i) { return kinds[i] == K_INT || kinds[i] == K_INT_NULL; }

static int held_column_type(crm__stmt *st, int i)
{
	const cell *c = cell_of(st, i);

	return !c || c->n < 0 ? CRM__SQL_NULL : is_int(i) ? CRM__SQL_INTEGER : CRM__SQL_TEXT;
}

/* Integers as stored; a text column reads as 0 (nothing asks for one). */
static int64_t held_column_int64(crm__stmt *st, int i)
{
	const cell *c = cell_of(st, i);

	return c && c->n >= 0 && is_int(i) ? c->v : 0;
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

	return c && c->n >= 0 && !is_int(i) ? ((held *)st)->texts.p + c->v : NULL;
}

static int held_column_bytes(crm__stmt *st, int i)
{
	const cell *c = cell_of(st, i);

	return c && c->n >= 0 && !is_int(i) ? (int)c->n : 0;
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

/* Copy the current row of `st` (CRM__EVENT_SELECT) to the end of `h`.
 * A payload that is not JSON (a row edited by hand) is held as a JSON
 * string of its text, so the column is JSON text whatever the row holds
 * (a consumer that could not parse it could never acknowledge it).
 * 0, or -1 out of memory. */
static int hold_row(held *h, crm__stmt *st)
{
	const char *p[NCOLS] = { NULL };
	size_t room = 0;
	int raw = 1;
	cell *c;
	char *d;

	if (crm__buf_reserve(&h->cells, NCOLS * sizeof *c))
		return -1;
	c = (cell *)(h->cells.p + h->cells.len);
	for (int i = 0; i < NCOLS; i++) {
		c[i].v = 0;
		c[i].n = 0;
		if ((kinds[i] == K_INT_NULL || kinds[i] == K_TEXT_NULL) && crm__column_type(st, i) == CRM__SQL_NULL) {
			c[i].n = -1;
			continue;
		}
		if (is_int(i)) {
			c[i].v = crm__column_int64(st, i);
			continue;
		}
		/* NOT NULL texts are read without asking the type (a null reads as NULL anyway) */
		if (!(p[i] = crm__column_text(st, i))) {
			c[i].n = -1;
			continue;
		}
		c[i].n = crm__column_bytes(st, i);
		if (kinds[i] == K_PAYLOAD && !(raw = crm__json_valid(p[i], (size_t)c[i].n)))
			room += CRM__JSON_STR_ROOM((size_t)c[i].n) + 1;
		else
			room += (size_t)c[i].n + 1;
	}
	if (crm__buf_reserve(&h->texts, room))
		return -1;
	d = h->texts.p + h->texts.len;
	for (int i = 0; i < NCOLS; i++) {
		if (!p[i])
			continue;
		c[i].v = (int64_t)(d - h->texts.p);
		if (kinds[i] == K_PAYLOAD && !raw) {
			char *e = crm__json_str_to(d, p[i], (size_t)c[i].n);
			c[i].n = e - d;
			d = e;
		} else {
			memcpy(d, p[i], (size_t)c[i].n);
			d += c[i].n;
		}
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

	*out = NULL;
	if (!cur)
		return crm__error_oom(db);
	cur->db = db;
	cur->h.st.be = &held_rows;
	cur->h.st.db = db;
	cur->h.at = -1;
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
	return ((const cell *)cur->h.cells.p)[(size_t)(cur->h.n - 1) * NCOLS].v;
}

void crm_event_cursor_free(crm_event_cursor *cur)
{
	if (!cur)
		return;
	crm__row_free(&cur->row);
	crm__buf_free(&cur->h.cells);
	crm__buf_free(&cur->h.texts);
	crm__child_remove(cur->db, &cur->child);
	crm__free(cur);
}
