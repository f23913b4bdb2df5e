/* Shared test fixtures: a fresh in-memory database with a frozen clock and
 * small helpers to apply metadata and read back records. */
#ifndef CRM_TEST_HELPERS_H
#define CRM_TEST_HELPERS_H

#include <stddef.h>
#include <sys/types.h>

#include "crm.h"

/* An in-memory database, clock frozen at 2026-01-02T03:04:05.000Z; with
 * CRM_TEST_PG set (a postgresql:// URL), a new schema of that database. */
crm_db *test_db(void);
/* `s` with ' turned into " and ` into ' (JSON written without escapes),
 * malloc'ed: free it. */
char *test_q(const char *s);
/* crm_apply of test_q(json), returning its code (a refusal is no failure). */
int test_apply_q(crm_db *db, const char *json);
/* crm_record_insert of test_q(json): the new id, or 0 and a failure. */
int64_t test_insert_q(crm_db *db, const char *form, const char *json);
/* A batch of `n` rows into `form`, row i being `format` (JSON with two
 * %d, both given i), committed: the first failing call's code. */
int test_batch_numbered(crm_db *db, const char *form, int n, const char *format);
/* crm_record_update of test_q(json), any version: its code. */
int test_update_q(crm_db *db, const char *form, int64_t id, const char *json);
/* How many times `needle` occurs in `s`, not overlapping. */
int test_count_of(const char *s, const char *needle);
/* Apply metadata or fail the test (prints the error). Returns the code. */
int test_apply(crm_db *db, const char *json);
/* The same, allowing changes that discard data (a removed field's values). */
int test_apply_lossy(crm_db *db, const char *json);
/* Number of rows of an SQL query's first column (raw SQLite), for checking
 * that a failing call changed nothing. */
int64_t test_sql_int(crm_db *db, const char *sql);
/* The record as JSON (static buffer, overwritten by the next call), or NULL. */
const char *test_get(crm_db *db, const char *form, int64_t id);

/* The PostgreSQL database the tests run on (CRM_TEST_PG, a libpq URL), or
 * NULL for SQLite. */
const char *test_pg_url(void);
/* A schema name no other test handle uses, in `out` (64 bytes suffice). */
void test_pg_schema(char *out, size_t size);

/* Schema questions asked through the handle's backend, so a test means
 * the same on SQLite and PostgreSQL: does table or view `name` exist; does
 * `table` have `column`; how many indexes does `table` have. */
int test_relation_exists(crm_db *db, const char *name);
int test_column_exists(crm_db *db, const char *table, const char *column);
int test_index_count(crm_db *db, const char *table);
/* The declared type of table.column spelt as the backend's dialect spells
 * its types (db->be->dialect->type_integer...), "" when there is none;
 * the storage class of the first row's value (the dialect's
 * storage_class: "integer", "real", "text", "null"); how many of the
 * table's indexes libcrm named after `column`. Static buffers. */
const char *test_column_type(crm_db *db, const char *table, const char *column);
const char *test_storage_class(crm_db *db, const char *table, const char *column);
int test_index_mentions(crm_db *db, const char *table, const char *column);
/* How many schema objects (tables, indexes, views, sequences) the
 * database holds: a failed call must leave it unchanged. */
int64_t test_object_count(crm_db *db);
/* The names of a table's or view's columns in order, comma-separated
 * (static buffer); how many views the database holds. */
const char *test_columns_of(crm_db *db, const char *relation);
int64_t test_view_count(crm_db *db);
/* Every row of `sql` (a query of the test's own, portable), every column
 * as text ("\N" for NULL), one line per row: malloc'ed, NULL on failure.
 * Comparing two snapshots shows whether anything changed. */
char *test_rows(crm_db *db, const char *sql);
/* 1 when the tests run on SQLite (CRM_TEST_PG unset). */
int test_on_sqlite(crm_db *db);

/* A path for a database file in a new directory under /tmp (for tests that
 * reopen it or open it from several handles or processes): `dir` holds the
 * directory (at least 32 bytes), `path` the file. Exits when it cannot. */
void test_temp_db(char *dir, char *path, size_t size);
/* A new database for several handles or processes: a temporary file
 * (test_temp_db's `dir` and `path`), or with CRM_TEST_PG a new schema in
 * `schema`; test_remove_shared removes the file. */
void test_new_shared(char *dir, char *path, size_t size, char *schema, size_t schema_size);
void test_remove_shared(const char *dir, const char *path);
/* Has the write end of pipe `fd` been closed (wait: block until it is)?
 * Forked tests signal by closing. */
int test_closed(int fd, int wait);
/* Open the database several handles or processes share: the file `path`,
 * or with CRM_TEST_PG the schema `schema`, with that busy timeout. Exits
 * when it cannot. */
crm_db *test_open_shared(const char *path, const char *schema, int busy_timeout_ms);
/* Until child *pid waits for a lock another handle holds (PostgreSQL: an
 * advisory lock not granted, seen in pg_locks through `db`; 1) or has
 * ended (then *pid is 0 and *status its status; 0). On SQLite it cannot be
 * seen: 0 after half a second. `bound_s` guards against hangs. */
int test_await_wait(crm_db *db, pid_t *pid, int *status, int bound_s);
/* Remove that file, its -wal and -shm, and the directory. */
void test_remove_db(const char *dir, const char *path);

#endif
