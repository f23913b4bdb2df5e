/* What the SQLite backend's files share: its connection and statement
 * (sqlite.c) and the queue of rows it runs as multi-row INSERTs
 * (sqlite_queue.c). */
#ifndef CRM_BACKEND_SQLITE_INT_H
#define CRM_BACKEND_SQLITE_INT_H

#include <sqlite3.h>

#include "backend.h"
#include "core/db_int.h"

/* A parameter's value as bound: by reference (`p`, the caller keeps it
 * until the statement runs) or, once its row is queued, at `at` in the
 * queue's text. */
typedef struct lite_slot {
	int type; /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB */
	int n;    /* bytes of text or blob */
	union {
		int64_t i;
		double d;
		const void *p;
		size_t at;
	} v;
} lite_slot;

typedef struct lite_rows lite_rows;
typedef struct lite_entry lite_entry;

enum lite_shape { LITE_SHAPE_UNKNOWN, LITE_SHAPE_OTHER, LITE_SHAPE_ROW };

typedef struct lite_stmt {
	crm__stmt base;
	sqlite3_stmt *s;
	enum lite_shape shape; /* ROW: a single-row INSERT ... VALUES(...) */
	/* Set once its rows are queued: its bindings are kept there, and
	 * given to SQLite when it runs. */
	lite_rows *rows;
} lite_stmt;

/* Statements queued on the connection, in queue order. */
typedef struct lite_queue {
	lite_entry *e;
	size_t n, cap;
	lite_slot *slots; /* the queued rows' parameters */
	size_t nslots, capslots;
	crm__buf text;    /* their text and blobs */
	int failed;       /* the first failure, until reported */
	char failure[256];
} lite_queue;

typedef struct lite_conn {
	sqlite3 *h;
	lite_queue q;
} lite_conn;

#define LITE(st) ((lite_stmt *)(st))
#define LITE_CONN(db) ((lite_conn *)(db)->conn)

/* Record SQLite's failure `rc` on the handle; returns its CRM code. */
int crm__lite_fail(crm_db *db, int rc);

/* The backend's queue and flush (crm__backend). */
int crm__lite_queue(crm__stmt *st, crm__queued_fn done, void *payload);
int crm__lite_flush(crm_db *db);
/* Before another statement, exec or transaction call: the queued rows
 * run, then CRM_OK or their first failure. */
static inline int crm__lite_sync(crm_db *db)
{
	lite_queue *q = &LITE_CONN(db)->q;

	return q->n || q->failed ? crm__lite_flush(db) : CRM_OK;
}
/* A rollback or close: the queue is dropped, no done called. */
void crm__lite_discard(crm_db *db);
/* Keep parameter i's value for a statement whose rows are queued. */
int crm__lite_keep(lite_stmt *st, int i, const lite_slot *v);
/* Unbind every kept parameter. */
void crm__lite_unkeep(lite_stmt *st);
/* Give the kept bindings to SQLite before the statement runs on its own. */
int crm__lite_apply(lite_stmt *st);
/* Run the statement's queued rows, then free what its queueing made. */
void crm__lite_rows_free(lite_stmt *st);

#endif
