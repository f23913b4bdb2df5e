/*
 * The storage seam: everything a storage backend must provide, in one
 * header. Engines reach the database only through it (no engine includes a
 * driver's header); a backend is one `crm__backend` table of functions
 * (versioned, like sqlite3_module) plus the `crm__dialect` of the SQL
 * fragments that differ between databases.
 *
 * Engines write portable SQL where every backend accepts the same text
 * (`?` placeholders, `?N` numbered ones, TRUE/FALSE and IS NOT TRUE,
 * INSERT ... ON CONFLICT DO NOTHING, CAST, substr, ||, coalesce, window
 * functions, savepoints) and take the rest from the dialect; libcrm's own
 * tables are written with the dialect's pieces (crm__exec_schema). Values cross
 * the seam in the engines' storage representation (see lib/store/schema.h:
 * decimals as scaled integers, datetimes as ms since the epoch, booleans
 * 0/1, dates as "YYYY-MM-DD", multi-values as JSON array text); a backend
 * that stores natural types (dialect field_type: numeric, timestamptz,
 * boolean, date, json, text[]) converts at bind_as/column_as, or after
 * the server's parameter and column types for text.
 *
 * Failures: every function that can fail records the error on the handle
 * (crm__error...) and returns its crm code; step returns CRM_ROW or CRM_DONE
 * on success. A constraint violation is CRM_ECONSTRAINT; a lock not granted
 * in time CRM_EBUSY; a deadlock or a serialization failure the backend
 * could not retry CRM_EBUSY too (the transaction is rolled back).
 *
 * After a statement failed inside a transaction, an engine does nothing on
 * the connection but end its crm__tx (PostgreSQL refuses every statement of
 * a failed transaction until it is rolled back to a savepoint); a write
 * whose failure the engine goes on from (a unique key, then the check that
 * names the field) steps through crm__step_write.
 */
#ifndef CRM_BACKEND_BACKEND_H
#define CRM_BACKEND_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "crm/db.h"
#include "crm/form.h"

typedef struct crm__backend crm__backend;
typedef struct crm__dialect crm__dialect;
typedef struct crm__stmt crm__stmt;

/* A column value's storage class (the numbers are SQLite's). */
enum crm__sqltype { CRM__SQL_INTEGER = 1, CRM__SQL_FLOAT = 2, CRM__SQL_TEXT = 3, CRM__SQL_NULL = 5 };

/* Values the engines keep as integers that a backend may store in a type
 * of its own (bind_as, column_as). NONE: a plain integer. */
enum crm__natural {
	CRM__NAT_NONE,
	CRM__NAT_BOOL,     /* 0/1 */
	CRM__NAT_DECIMAL,  /* scaled by 10^scale */
	CRM__NAT_DATETIME, /* ms since 1970-01-01T00:00:00Z */
};

/* What a write transaction may do beside other writers of the same app
 * (docs/storage.md, "Concurrency"). */
enum crm__tx_mode {
	/* Records, workflows, events: runs beside other ordinary writers,
	 * taking row locks (the dialect's lock_* clauses) where it reads
	 * then writes; never beside an exclusive one. */
	CRM__TX_WRITE,
	/* Metadata and DDL (crm_apply), and whatever needs the whole app:
	 * no other writer of the app runs beside it. */
	CRM__TX_EXCLUSIVE,
};

/* App-wide locks a write transaction takes on the way (lock). */
enum crm__tx_lock {
	/* Make an ordinary write transaction exclusive (a metadata change
	 * inside a host's transaction). */
	CRM__LOCK_EXCLUSIVE,
	/* Before appending to the event outbox: appends commit in the order
	 * of their ids, so a reader of "the events after id N" never finds a
	 * lower id committed later. */
	CRM__LOCK_EVENTS,
};

/* The outcome of a queued statement (crm__backend.queue): rc is CRM_ROW
 * when it returned a row (id: that row's first column, the inserted id),
 * CRM_DONE when it returned none, or its failure (recorded on the handle).
 * SQLite's INSERTs return no row: one that inserted reports CRM_ROW with
 * its first row's id, one a unique key refused CRM_DONE, as PostgreSQL's
 * INSERT ... ON CONFLICT DO NOTHING RETURNING id would. Called from inside the backend: it must not run statements. */
typedef void (*crm__queued_fn)(void *payload, int rc, int64_t id);

/* The head of every backend's statement. */
struct crm__stmt {
	const crm__backend *be;
	crm_db *db; /* where failures are recorded */
};

#define CRM__BACKEND_VERSION 1

struct crm__backend {
	int version;      /* CRM__BACKEND_VERSION */
	const char *name; /* "sqlite", "postgresql" */
	const crm__dialect *dialect;
	/* 1 when a failed statement leaves its transaction unusable until a
	 * rollback (PostgreSQL): writes that may fail on a unique key then run
	 * in a savepoint of their own (crm__step_write). */
	int failure_aborts_transaction;
	/* 1 when statements travel to a server (PostgreSQL): one whose outcome
	 * nobody waits for is queued to go with the next round trip
	 * (crm__step_later, the outbox, the audit chain). 0 when a statement
	 * runs in the process (SQLite), where waiting for it costs nothing. */
	int pipeline;

	/* ---- the connection (db->conn belongs to the backend) ---- */
	/* 1 when `target` is this backend's (a URI scheme, a file name). */
	int (*accepts)(const char *target);
	/* Connect db->conn to `target` as crm_open documents `o->flags`:
	 * refuse a database that is neither libcrm's nor empty (unless
	 * CRM_OPEN_INIT), never create with CRM_OPEN_EXISTING. Does not create
	 * libcrm's tables (crm__meta_init does, through exec). */
	int (*open)(crm_db *db, const char *target, const crm_open_options *o);
	/* Roll back what is open and disconnect. Statements still held by
	 * children are finalized by them later (they must stay valid). */
	void (*close)(crm_db *db);
	/* Run `sql`: one or more statements without parameters or rows. */
	int (*exec)(crm_db *db, const char *sql);
	/* Inside crm__meta_init's transaction, after the system tables exist:
	 * bring a database made by an earlier libcrm to the current format. */
	int (*upgrade)(crm_db *db);

	/* ---- transactions: savepoints are portable SQL (lib/core/tx.c) ---- */
	/* Begin a top-level transaction that will write, in `mode` (see enum
	 * crm__tx_mode). A backend whose writers always take turns (SQLite's
	 * BEGIN IMMEDIATE) may treat both modes alike. */
	int (*begin)(crm_db *db, enum crm__tx_mode mode);
	/* Inside a write transaction: take the app-wide lock `what` until the
	 * transaction ends (taking it twice is harmless). CRM_OK at once where
	 * writers already take turns. */
	int (*lock)(crm_db *db, enum crm__tx_lock what);
	/* Optional (NULL: lock takes every lock with a statement of its own).
	 * Lock `what` as a condition, for an INSERT ... SELECT ... WHERE it
	 * (no FROM) that takes the lock as it runs, before the row's defaults
	 * (its id) are made: no statement of its own. NULL when the transaction holds it
	 * already; otherwise, once the statement is sent, lock_taken records
	 * it held. */
	const char *(*lock_where)(crm_db *db, enum crm__tx_lock what);
	void (*lock_taken)(crm_db *db, enum crm__tx_lock what);
	int (*commit)(crm_db *db);
	/* Never fails as far as the engines are concerned. */
	void (*rollback)(crm_db *db);
	/* 1 inside a transaction (BEGIN ran and has not ended). */
	int (*in_transaction)(crm_db *db);
	/* A token that changes when another connection may have committed;
	 * compared by lib/core/meta.c to skip reading the generation. A
	 * backend without one returns a new value every time. */
	unsigned int (*data_version)(crm_db *db);
	/* 1 when the connection cannot write. */
	int (*readonly)(crm_db *db);

	/* ---- statements ---- */
	/* Prepare `len` bytes of `sql` (portable SQL with `?` or `?N`). */
	int (*prepare)(crm_db *db, const char *sql, size_t len, crm__stmt **out);
	/* The SQL the statement was prepared from (the statement cache's key). */
	const char *(*sql)(crm__stmt *st);
	/* End the statement's run; its bindings stay (as SQLite's reset). */
	void (*reset)(crm__stmt *st);
	/* Unbind every parameter (an unbound parameter is NULL). */
	void (*clear_bindings)(crm__stmt *st);
	void (*finalize)(crm__stmt *st);
	/* Parameters are 1-based. Text is kept by reference until reset: the
	 * caller keeps it alive; len < 0 means NUL-terminated. */
	int (*bind_null)(crm__stmt *st, int i);
	int (*bind_int64)(crm__stmt *st, int i, int64_t v);
	int (*bind_double)(crm__stmt *st, int i, double v);
	int (*bind_text)(crm__stmt *st, int i, const char *s, int len);
	/* Bytes (a BLOB, bytea), kept by reference like text. */
	int (*bind_blob)(crm__stmt *st, int i, const void *p, int len);
	int (*bind_as)(crm__stmt *st, int i, enum crm__natural kind, int scale, int64_t v);
	int (*parameter_count)(crm__stmt *st);
	/* CRM_ROW, CRM_DONE, or a failure recorded on st->db. */
	int (*step)(crm__stmt *st);
	/* Columns of the current row, 0-based. Text is NUL-terminated and
	 * valid until the next step or reset; a null's text is NULL (a reader
	 * of a text column need not ask its type first). */
	int (*column_count)(crm__stmt *st);
	int (*column_type)(crm__stmt *st, int i);
	int64_t (*column_int64)(crm__stmt *st, int i);
	double (*column_double)(crm__stmt *st, int i);
	const char *(*column_text)(crm__stmt *st, int i);
	int (*column_bytes)(crm__stmt *st, int i);
	/* A bytes column: copies at most `cap` of its bytes to `out` and
	 * returns how many it holds; -1 for NULL, or when they cannot be
	 * read (out of memory). Text reads as its bytes. */
	int (*column_blob)(crm__stmt *st, int i, void *out, int cap);
	int64_t (*column_as)(crm__stmt *st, int i, enum crm__natural kind, int scale);
	/* The id of the row an INSERT made, after its step: the dialect's
	 * `returning_id` is appended to every INSERT whose id is read. */
	int64_t (*inserted_id)(crm__stmt *st);
	/* Optional (NULL: every statement runs at once). Take the bound write
	 * `st` without waiting for its outcome and reset it, so it may be
	 * bound and queued again at once: PostgreSQL sends it in pipeline mode;
	 * SQLite keeps a copy of its row and runs consecutive single-row
	 * INSERTs of one statement as one multi-row INSERT (sqlite_queue.c).
	 * `done` gets the outcome in queue order at the latest at the next
	 * flush, never inside the queue call of its own statement; any other
	 * statement, exec or transaction call first waits for every queued
	 * outcome, and fails with the first queued failure, if any. A
	 * statement queued after a failed one is not run (its done is not
	 * called): the transaction has failed. After a queue the statement's
	 * bindings are unspecified: bind every parameter before it runs again. */
	int (*queue)(crm__stmt *st, crm__queued_fn done, void *payload);
	/* Wait for the outcome of every queued statement; CRM_OK or the first
	 * queued failure. NULL when queue is. */
	int (*flush)(crm_db *db);
	/* Optional (NULL: the statement runs at its first step). Send the
	 * bound `st` now, ahead of the statements sent after it, in the round
	 * trip of the next one that waits; its first step then reads its rows
	 * (waiting for them only if nothing else did) and fails with it. A
	 * reset before that step drops its rows. NULL when queue is. */
	int (*send_ahead)(crm__stmt *st);
	/* Optional (NULL: rows are read however the backend reads them). `on`:
	 * the next runs of `st` may return many rows: read them a few at a
	 * time, in bounded memory, rather than all on the first step (which is
	 * faster for a few rows). Another statement run on the connection while
	 * rows are still unread makes the backend read the rest of them first. */
	void (*many_rows)(crm__stmt *st, int on);

	/* ---- schema introspection ---- */
	/* *exists = 1 when a table or view `name` exists. */
	int (*relation_exists)(crm_db *db, const char *name, int *exists);
	/* The names of the indexes on `table`, each followed by a NUL,
	 * appended to `names`. */
	int (*index_names)(crm_db *db, const char *table, crm__buf *names);
	/* The declared type of `table`.`column` appended to `type`, spelt as
	 * the dialect's type names (nothing when there is no such column). */
	int (*column_decl_type)(crm_db *db, const char *table, const char *column, crm__buf *type);
	/* The query plan of the statement `st` (prepared and bound) as JSON
	 * array items appended to `out`. */
	int (*explain)(crm_db *db, const char *sql, int (*bind)(crm__stmt *st, void *payload), void *payload,
		       crm__buf *out);
};

/* SQL fragments that differ between backends. Strings are static text;
 * functions append to `sql`. Every identifier passed in comes from
 * validated metadata. */
struct crm__dialect {
	/* Column types of the storage classes. Text compares and sorts by its
	 * bytes (SQLite's BINARY) whatever the database's default collation,
	 * so filters, paging and report order agree between backends. */
	const char *type_integer, *type_real, *type_text;
	/* Bytes (the audit chain's hashes). */
	const char *type_blob;
	/* The column type of a field whose values are of `type` (decimals:
	 * with `scale` fraction digits), spelt as column_decl_type reads it
	 * back; NULL: the type of its storage class (above). A backend with
	 * natural types (PostgreSQL: numeric, timestamptz, boolean, date,
	 * json, text[]) returns them here, and converts at bind_as/column_as. */
	const char *(*field_type)(crm_type type, int scale);
	/* The stored value `expr` of a field of `type` in the engines' own
	 * representation (decimals scaled by 10^scale, datetimes ms since the
	 * epoch, booleans 0/1, dates 'YYYY-MM-DD', JSON and multi-values as
	 * text), for SQL that computes on values (report buckets, sums,
	 * groups). Comparisons with bound values use the column itself. */
	void (*as_storage)(crm__buf *sql, crm_type type, int scale, const char *expr);
	/* The stored value `expr` of a field of `type` to sort and page by, in
	 * the order of the engines' representation: the column itself where
	 * its own order is that one (so indexes serve), else as_storage. */
	void (*sort_value)(crm__buf *sql, crm_type type, const char *expr);
	/* The stored value `expr` of a field of `type` as people and BI tools
	 * read it in the views: ISO datetimes, decimals as numbers. */
	void (*human_value)(crm__buf *sql, crm_type type, int scale, const char *expr);
	/* The primary key column of libcrm's tables: a 64-bit id that is never
	 * given twice, even after the row is deleted. */
	const char *identity_id;
	/* Appended to an INSERT whose id is read with inserted_id. */
	const char *returning_id;
	/* Begins a many-row INSERT of rows that cannot break a constraint
	 * (the audit chain's entries, the event stream's events): one whose
	 * failure leaves the rows before it (the transaction is rolled back
	 * whole anyway), so the backend keeps no undo of the statement alone. */
	const char *insert_many;
	/* Before returning_id in a record INSERT, on a backend whose failed
	 * statements end the transaction: a unique key's conflict skips the
	 * row (no id comes back) instead of failing. "" elsewhere. */
	const char *insert_skip_conflict;
	/* Row locks, appended to a SELECT that reads rows the transaction
	 * then writes or relies on ("" where writers take turns): lock_update
	 * before a delete; lock_no_key_update before an update that changes
	 * no key (a record read then written, a workflow instance before its
	 * transition, a rollup's parent before it is recomputed); lock_key_share
	 * on a referenced record while a reference to it is written (a delete
	 * waits for it); lock_claim on rows a worker takes for itself, skipping
	 * those another worker holds (timers). */
	const char *lock_update, *lock_no_key_update, *lock_key_share, *lock_claim;
	/* A statement taking a lock on the value bound to its one parameter
	 * (a 64-bit hash) until the transaction ends, so that writers checking
	 * the same thing take turns (a duplicate key on insert: each then sees
	 * what the one before committed). NULL where writers take turns anyway. */
	const char *lock_value;
	/* Null-safe comparisons: "a <not_distinct> b" is true when both are
	 * null, "a <distinct> b" is its negation. */
	const char *not_distinct, *distinct;
	/* A unique index where empty values count as equal: each key column
	 * (unique_key), then after the column list (unique_key_end). */
	void (*unique_key)(crm__buf *sql, const char *column_sql);
	const char *unique_key_end;
	/* Aggregate functions that sum integers (decimals are scaled
	 * integers) exactly, without overflow on the way: sum_exact gives a
	 * real number when the total does not fit 64 bits (a report shows it
	 * as overflow); sum_strict fails with CRM_ELIMIT instead (rollups). */
	const char *sum_exact, *sum_strict;
	/* Aggregate function that sums doubles in order as IEEE 754 does and
	 * gives an infinity, not a failure, when the total is out of range
	 * (a report shows it as overflow). */
	const char *sum_real;
	/* `expr` (an integer) held to [lo, hi]; NULL stays NULL. */
	void (*clamp)(crm__buf *sql, const char *expr, int64_t lo, int64_t hi);
	/* Sort directions that put nulls first in ascending order and last
	 * in descending order (keyset paging relies on it). */
	const char *order_asc, *order_desc;
	/* Condition: the multi-value column `column_sql` (a JSON array of
	 * strings, or the backend's field_type) holds the value of the
	 * placeholder that follows; written as
	 * contains_list[0] column contains_list[1] "?" contains_list[2]. */
	const char *contains_list[3];
	/* Function of (haystack, needle): the 1-based position of needle in
	 * haystack, 0 when absent. */
	const char *position;
	/* The member `key` (a validated name) of the JSON object text `expr`,
	 * as text. */
	void (*json_member)(crm__buf *sql, const char *expr, const char *key);
	/* The storage class of the stored value `expr` as text: 'null',
	 * 'integer', 'real', 'text' or 'blob' (SQLite's typeof; crm check
	 * finds values written behind libcrm's back that fit no field). */
	void (*storage_class)(crm__buf *sql, const char *expr);
	/* ms since the epoch `expr` as ISO 8601 text in UTC ("...T...Z"). */
	void (*iso_datetime)(crm__buf *sql, const char *expr);
	/* The statement start that creates a view unless it exists. */
	const char *create_view;
	/* Statements appended after CREATE VIEW of `view` (a validated name)
	 * so that writes through it fail, as SQLite's views refuse them;
	 * each begins with ";". */
	void (*view_read_only)(crm__buf *sql, const char *view);
	/* Appended to CREATE TABLE of a table keyed by its primary key alone
	 * (no hidden row id needed). */
	const char *without_rowid;
	/* Time buckets (enum crm__time_bucket). bucket_start: the first day of
	 * the bucket holding `expr` as 'YYYY-MM-DD' text; `expr` is ms since
	 * the epoch (already shifted to local time) when `datetime`, else a
	 * 'YYYY-MM-DD' date. NULL stays NULL. */
	void (*bucket_start)(crm__buf *sql, int bucket, int datetime, const char *expr);
	/* "YYYY-Www", the ISO week of the Monday `day` ('YYYY-MM-DD' text). */
	void (*iso_week)(crm__buf *sql, const char *day);
	/* Days from 1970-01-01 to the date `day` ('YYYY-MM-DD' text). */
	void (*day_number)(crm__buf *sql, const char *day);

	/* Full-text search over the text columns a form declares (lib/search,
	 * docs/integration.md "Search"). `form` and `columns` are validated
	 * names; `alias` is the form table's alias in the search statement.
	 * search_index: the statements (for crm__exec) that create the index of
	 * `form` over `columns` and fill it from the rows already stored
	 * (`create` 1), or drop it (0; nothing when there is none). */
	void (*search_index)(crm__buf *sql, const char *form, const char *const *columns, int n, int create);
	/* The FROM clause of a search of `form` that search_match may filter. */
	void (*search_from)(crm__buf *sql, const char *form, const char *alias);
	/* Condition: one term of 3 characters or more occurs in one of
	 * `columns` (case-insensitive); returns how many "?" it wrote, each
	 * bound to the text search_value made of the term. */
	int (*search_match)(crm__buf *sql, const char *form, const char *alias, const char *const *columns, int n);
	void (*search_value)(crm__buf *out, const char *term, size_t len, const char *const *columns, int n);
	/* The backend's own score of a search_match row (higher is better),
	 * returning how many "?" it wrote, each bound to the whole query text. */
	int (*search_rank)(crm__buf *sql, const char *form, const char *alias, const char *const *columns, int n);
	/* NULL when the index follows the form's table by itself. Otherwise
	 * the statement a write runs to keep it current: add (`remove` 0) or
	 * remove (1) the row whose id and column values are bound 1, 2...
	 * (a removal binds the values it was added with). */
	void (*search_sync)(crm__buf *sql, const char *form, const char *const *columns, int n, int remove);
	/* The operator of a pattern match that folds ASCII case, written
	 * "column <search_like> ? ESCAPE '\\'" (a scan for words too short
	 * for a trigram index). */
	const char *search_like;
};

/* The buckets of bucket_start (lib/report uses the same numbers). */
enum crm__time_bucket { CRM__BUCKET_DAY = 1, CRM__BUCKET_WEEK, CRM__BUCKET_MONTH, CRM__BUCKET_QUARTER, CRM__BUCKET_YEAR };

/* The backends built in, in the order crm_open asks them (the last one
 * takes anything: a file name). NULL-terminated. */
extern const crm__backend *const crm__backends[];
extern const crm__backend crm__sqlite_backend;

/* ---- what engines call: thin wrappers over the handle's backend ---- */
static inline int crm__step(crm__stmt *st) { return st->be->step(st); }
static inline int crm__bind_null(crm__stmt *st, int i) { return st->be->bind_null(st, i); }
static inline int crm__bind_int64(crm__stmt *st, int i, int64_t v) { return st->be->bind_int64(st, i, v); }
static inline int crm__bind_double(crm__stmt *st, int i, double v) { return st->be->bind_double(st, i, v); }
static inline int crm__bind_text(crm__stmt *st, int i, const char *s, int len)
{
	return st->be->bind_text(st, i, s, len);
}
static inline int crm__bind_blob(crm__stmt *st, int i, const void *p, int len)
{
	return st->be->bind_blob(st, i, p, len);
}
static inline int crm__bind_as(crm__stmt *st, int i, enum crm__natural kind, int scale, int64_t v)
{
	return st->be->bind_as(st, i, kind, scale, v);
}
static inline int crm__parameter_count(crm__stmt *st) { return st->be->parameter_count(st); }
static inline int crm__column_count(crm__stmt *st) { return st->be->column_count(st); }
static inline int crm__column_type(crm__stmt *st, int i) { return st->be->column_type(st, i); }
static inline int64_t crm__column_int64(crm__stmt *st, int i) { return st->be->column_int64(st, i); }
static inline int crm__column_int(crm__stmt *st, int i) { return (int)st->be->column_int64(st, i); }
static inline double crm__column_double(crm__stmt *st, int i) { return st->be->column_double(st, i); }
static inline const char *crm__column_text(crm__stmt *st, int i) { return st->be->column_text(st, i); }
static inline int crm__column_bytes(crm__stmt *st, int i) { return st->be->column_bytes(st, i); }
static inline int crm__column_blob(crm__stmt *st, int i, void *out, int cap)
{
	return st->be->column_blob(st, i, out, cap);
}
static inline int64_t crm__column_as(crm__stmt *st, int i, enum crm__natural kind, int scale)
{
	return st->be->column_as(st, i, kind, scale);
}
static inline int64_t crm__inserted_id(crm__stmt *st) { return st->be->inserted_id(st); }
static inline void crm__reset(crm__stmt *st) { st->be->reset(st); }
static inline void crm__many_rows(crm__stmt *st, int on)
{
	if (st->be->many_rows)
		st->be->many_rows(st, on);
}
static inline void crm__clear_bindings(crm__stmt *st) { st->be->clear_bindings(st); }
static inline void crm__finalize(crm__stmt *st)
{
	if (st)
		st->be->finalize(st);
}

#endif
