/* Rows kept with the open transaction and appended just before it commits
 * (lib/core/kept.c): the audit trail's entries and the event stream's
 * events. Appending late holds the events lock only from there to the
 * commit, and a transaction's rows go in a few multi-row statements. */
#ifndef CRM_CORE_KEPT_H
#define CRM_CORE_KEPT_H

#include "db_int.h"

/* Embedded first in the service's own row (one crm__malloc'ed block,
 * freed with crm__free). */
typedef struct crm__kept crm__kept;
struct crm__kept {
	crm__kept *next, *prev;
	int depth;           /* db->tx_depth when made: a savepoint rolled back below it drops it */
	unsigned int serial; /* the transaction it belongs to (db->tx_serial) */
	int64_t record;      /* the record it is about (0: none); a queued insert's id once known */
	/* A queued insert's row (crm__kept_wrap): the outcome callback it
	 * stands in for, and the outcome (-1 until it came; the row is kept
	 * on CRM_ROW and dropped on anything else); -2: not a queued insert. */
	int rc;
	crm__queued_fn done;
	void *done_payload;
};

/* In the order made; depths never decrease along the list. */
typedef struct crm__kept_list {
	crm__kept *first, *last;
	size_t n;
} crm__kept_list;

/* Link `k` (its own fields set) at the end of `l` for the open transaction. */
void crm__kept_link(crm_db *db, crm__kept_list *l, crm__kept *k);
/* Copy `n` bytes of `src` (may be NULL when n is 0) to *at, advancing it,
 * and return where they went: a row's strings packed into its one block. */
char *crm__kept_put(char **at, const char *src, size_t n);
/* Free every row. */
void crm__kept_free_all(crm__kept_list *l);
/* Savepoint level `depth` ended (db->savepoint_end): the rows made inside
 * it go with it when it was rolled back (`undone`), else they now belong
 * to the level below. */
void crm__kept_savepoint_end(crm__kept_list *l, int depth, int undone);
/* `k` is a queued insert's row: *done and *payload are replaced by a
 * callback that notes the outcome and the id, then calls them. */
void crm__kept_wrap(crm__kept *k, crm__queued_fn *done, void **payload);

/* How a service appends its rows. */
typedef struct crm__kept_sink {
	/* Before its statement, each row in order (may be NULL): the audit
	 * trail chains them here. */
	int (*prepare)(crm_db *db, void *ctx, crm__kept *k);
	/* Insert rows[0..n) with one statement; n is the most rows per
	 * statement or, for the rest, half as many and so on down to 1: few
	 * statement shapes to prepare. */
	int (*insert)(crm_db *db, void *ctx, crm__kept **rows, int n);
	void *ctx;
	/* Optional, for a sink without prepare: insert row `k` alone with a
	 * statement whose condition `lock_where` (the backend's lock_where)
	 * takes the events lock, which then needs no statement of its own. */
	int (*insert_locking)(crm_db *db, void *ctx, crm__kept *k, const char *lock_where);
} crm__kept_sink;
/* The most rows per statement: fewer statements cost less (SQLite); on a
 * pipelined backend (PostgreSQL) larger ones cost round trips, so 4 there. */
#define CRM__KEPT_ROWS 32
#define CRM__KEPT_ROWS_QUEUED 4
/* The most rows a service keeps before its transaction appends them
 * (crm__kept_flush without `all`): memory stays bounded (about 1 MB of
 * audit entries), and each append re-reads and writes again the last pages
 * of the b-trees it appends to, which the transaction's other writes push
 * out of SQLite's cache meanwhile (docs/audit.md, "Speed": 512 and 8192
 * were slower). */
#define CRM__KEPT_MAX 2048

/* Append the open transaction's rows to their table in the order they
 * were made, under the events lock (held to the commit; taken by the first
 * row's INSERT where the sink and the backend can), and free them.
 * With `all`, every one (after waiting for the outcome of queued inserts);
 * else those up to the first whose insert has no outcome yet. The rows of
 * transactions that ended without a commit, and of queued inserts that
 * failed, are dropped. *appended (may be NULL) counts the rows appended. */
int crm__kept_flush(crm_db *db, crm__kept_list *l, int all, const crm__kept_sink *sink, size_t *appended);

#endif
