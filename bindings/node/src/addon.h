/*
 * The Node binding's shared internals: the database handle the JS layer
 * holds, argument helpers, errors, and the JSON encoder and row converter
 * every area uses. Every rule stays in libcrm: this code translates types.
 */
#ifndef NODECRM_ADDON_H
#define NODECRM_ADDON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#include "crm.h"

/* How values read from libcrm become JS values (open() options). */
enum { DEC_STRING = 0, DEC_NUMBER, DEC_FUNCTION };
enum { DATES_DATE = 0, DATES_STRING };

/*
 * A database as the JS layer holds it (an external). Cursors and batches
 * take a reference so that finalisers may run in any order: the last one
 * to go frees the struct, and crm_close/crm_*_free follow libcrm's
 * close_v2 rule.
 */
typedef struct ndefer {
	void (*fn)(napi_env env, void *p);
	void *p;
	struct ndefer *next;
} ndefer;
typedef struct ndb {
	crm_db *db;        /* NULL once closed */
	int refs;          /* the external itself + open cursors/batches */
	const char *busy;  /* the async operation holding the handle, or NULL */
	/* finalisers that ran while a worker used the handle wait for it here */
	ndefer *deferred;
	int close_pending;
	int decimals;
	int dates;
	napi_ref decimal_fn;
} ndb;

/* Per-addon state (napi instance data). */
typedef struct nstate {
	napi_ref make_error; /* JS: (code, message, detailJson, offset, summaryJson) -> Error */
	napi_ref json_parse;
} nstate;

/* A growable byte buffer; `failed` remembers a failed allocation. */
typedef struct nbuf {
	char *p;
	size_t len, cap;
	int failed;
} nbuf;
void nbuf_put(nbuf *b, const char *s, size_t n);
/* Room for n more bytes (then NUL-terminated), or NULL when out of memory. */
char *nbuf_add(nbuf *b, size_t n);
void nbuf_free(nbuf *b);

/* The result of one libcrm call, captured on the thread that made it. */
typedef struct nerr {
	int code;
	char *message, *detail, *summary;
	int offset;
} nerr;
void nerr_capture(nerr *e, crm_db *db, int rc);
void nerr_clear(nerr *e);
/* Throw the Error subclass for `e` (the JS table in lib/errors.js). */
void nerr_throw(napi_env env, const nerr *e);
/* Throw a libcrm-style error with a message of the binding's own. */
void throw_code(napi_env env, int code, const char *message);
/* Throw the error of the call on `db` that just answered `rc` (on this thread). */
void throw_db(napi_env env, crm_db *db, int rc);

#define NAPI_OK(env, call)                                                                                   \
	do {                                                                                                 \
		if ((call) != napi_ok) {                                                                     \
			throw_pending(env);                                                                  \
			return NULL;                                                                         \
		}                                                                                            \
	} while (0)
void throw_pending(napi_env env);

/* Arguments: each returns 0 after throwing a TypeError. */
int arg_ndb(napi_env env, napi_value v, ndb **out, int allow_busy);
/* 1 when the database is open and not busy (or busy is allowed), else throws */
int ndb_usable(napi_env env, ndb *d, int allow_busy);
int arg_string(napi_env env, napi_value v, const char *what, char **out); /* malloc'd */
int arg_opt_string(napi_env env, napi_value v, const char *what, char **out); /* null/undefined: NULL */
int arg_int64(napi_env env, napi_value v, const char *what, int64_t *out);   /* number or BigInt */
napi_value make_int64(napi_env env, int64_t v); /* number when safe, else BigInt */
napi_value make_string(napi_env env, const char *s, size_t n);
napi_value undefined(napi_env env);

/* Encode a JS value as JSON text (Date as ISO 8601, BigInt as digits,
 * objects with toJSON through it). Returns 0 after throwing. */
int json_encode(napi_env env, napi_value v, nbuf *out);
/* Parse JSON text with JS's JSON.parse. */
napi_value json_parse(napi_env env, const char *text);

/* One typed cell of a row, borrowed from libcrm or copied for another thread. */
typedef struct ncell {
	int null;
	int64_t i;
	double d;
	const char *s;
	size_t n;
	int nitems;
	const char **items;
} ncell;
/* Column metadata of a cursor or report. */
typedef struct ncols {
	int count;
	int *types, *scales;
	napi_ref names; /* an array of the column names */
} ncols;
int ncols_init(napi_env env, ncols *c, crm_row *row);
void ncols_free(napi_env env, ncols *c);

/* Fill `cell` from column i of `row` with what ncell_to_js needs for its
 * type under d's options; the items array comes from `scratch` (which must
 * hold at least crm_row_item_count items). */
void ncell_read(const ndb *d, crm_row *row, int i, int type, ncell *cell, const char **scratch);
napi_value ncell_to_js(napi_env env, ndb *d, int type, int scale, const ncell *cell);
/* make(...values of the current row) -> the row object; NULL after throwing. */
napi_value row_make(napi_env env, ndb *d, ncols *c, crm_row *row, napi_value make);
napi_value cells_to_row(napi_env env, ndb *d, ncols *c, const ncell *cells, napi_value make);

void ndb_release(napi_env env, ndb *d);
/* Run `fn(env, p)` now, or once the worker using the handle is done. */
void ndb_defer(napi_env env, ndb *d, void (*fn)(napi_env env, void *p), void *p);
/* The async operation is over: clear busy and run what waited for it. */
void ndb_idle(napi_env env, ndb *d);

/*
 * One async operation: its Promise, its napi_async_work, and a reference
 * that keeps the handle it works on (database, cursor, batch) alive.
 * nwork_start queues execute/complete and answers the Promise (NULL after
 * throwing); complete ends with nwork_finish, which resolves with `r` or,
 * when r is NULL, rejects with the pending exception.
 */
typedef struct nwork {
	napi_ref keep;
	napi_deferred deferred;
	napi_async_work work;
} nwork;
napi_value nwork_start(napi_env env, nwork *w, napi_value keep, const char *name, napi_async_execute_callback execute,
		       napi_async_complete_callback complete, void *data);
void nwork_finish(napi_env env, nwork *w, napi_value r);

/* A chunk of insertMany rows as typed values (pack.c): row r is
 * fields[sum of counts before r ..][counts[r]]; every pointer into `bytes`. */
typedef struct npack {
	crm_field_value *fields;
	uint32_t *counts;
	size_t nrows;
	const char **items;
	char *bytes;
} npack;
/* Read lib/pack.js's (names, counts, idx, kinds, nums, lens, text) at argv[0..6]; 0 after throwing. */
int npack_read(napi_env env, napi_value *argv, npack *p);
void npack_free(npack *p);

/* Areas: each adds its functions to the module's exports. */
napi_status database_init(napi_env env, napi_value exports);
napi_status calls_init(napi_env env, napi_value exports);
napi_status cursor_init(napi_env env, napi_value exports);
napi_status batch_init(napi_env env, napi_value exports);
napi_status events_init(napi_env env, napi_value exports);

#endif

/*
 * The table-driven calls (calls.c): one libcrm function per entry, run on
 * the main thread or as a Promise on a worker (napi_async_work). Argument
 * spec letters: s string, S string or null, j JS value as JSON (null:
 * NULL), i int64, b bytes (Buffer or string; null: NULL). Result letters: v nothing,
 * j JSON parsed, t text, i int64, p [id, inserted], B a Buffer.
 */
#define NCALL_MAX 4
typedef struct ncall {
	char *s[NCALL_MAX];
	size_t slen[NCALL_MAX];
	int64_t i[NCALL_MAX];
	char *out;
	size_t out_len;
	int64_t out_i;
	int out_flag;
	nerr err;
} ncall;
typedef int (*ncall_fn)(crm_db *db, ncall *a);
typedef struct ncall_def {
	const char *name;
	const char *args;
	char ret;
	ncall_fn fn;
} ncall_def;
extern const ncall_def ncalls_record[], ncalls_workflow[], ncalls_report[], ncalls_services[];
