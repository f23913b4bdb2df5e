/* The PostgreSQL backend's insides, shared by its files: pg_conn.c (the
 * connection, transactions, introspection), pg_stmt.c (prepared statements)
 * and pg_types.c (text forms of values, placeholders, errors). */
#ifndef CRM_BACKEND_PG_INT_H
#define CRM_BACKEND_PG_INT_H

#include <libpq-fe.h>

#include "backend.h"
#include "core/db_int.h"

/* Type OIDs of pg_catalog's built-in types (stable across versions). */
#define PG_BOOL 16
#define PG_INT8 20
#define PG_INT2 21
#define PG_INT4 23
#define PG_TEXT 25
#define PG_OID 26
#define PG_FLOAT4 700
#define PG_FLOAT8 701
#define PG_TIMESTAMP 1114
#define PG_TIMESTAMPTZ 1184
#define PG_NUMERIC 1700
#define PG_TEXTARRAY 1009

#define PG_DEAD_MAX 32

typedef struct pg_conn {
	PGconn *c;
	char schema[64];
	char channel[64];   /* LISTEN/NOTIFY channel of the schema's metadata */
	int64_t lock_key;   /* pg_advisory_xact_lock key of the schema (writers) */
	unsigned int notes; /* notifications seen: the data version */
	unsigned int next_name;
	/* Moves when the schema may have changed (DDL run here, another
	 * handle's metadata change): statements prepared before it are
	 * prepared again before they run (PostgreSQL refuses a cached plan
	 * whose result columns changed). */
	unsigned int ddl_epoch;
	int readonly;
	int has_state;      /* crm_state exists: begin reads the generation */
	/* The app-wide locks the open transaction holds: bit 1 << enum
	 * crm__tx_lock (pg_conn.c). */
	unsigned int locks;
	/* Names of finalized statements whose DEALLOCATE waits for a
	 * transaction that can run it (fixed: forgetting must not allocate). */
	char dead[PG_DEAD_MAX][16];
	int ndead;
} pg_conn;

#define PG(db) ((pg_conn *)(db)->conn)

/* ---- pg_types.c ---- */
/* Record the failure of `res` (NULL: the connection's) on db; returns its code. */
int crm__pg_fail(crm_db *db, const PGresult *res);
/* The crm code of a SQLSTATE. */
int crm__pg_code(const char *sqlstate);
/* `len` bytes of portable SQL with `?`/`?N` rewritten to `$N` into `out`;
 * *nparams gets the highest number used; `used` (may be NULL) one byte per
 * number up to it, 1 for those that appear. */
void crm__pg_placeholders(crm__buf *out, const char *sql, size_t len, int *nparams, crm__buf *used);
/* Text forms of natural values (bind_as) and back (column_as). `out` holds
 * at least 32 bytes. */
void crm__pg_decimal_text(char *out, int64_t scaled, int scale);
int64_t crm__pg_decimal_parse(const char *s, int scale);
void crm__pg_datetime_text(char *out, int64_t ms);
int64_t crm__pg_datetime_parse(const char *s);
/* Multi-values: the engines' JSON array of strings as a text[] literal
 * ({"a","b"}) and a text[] as PostgreSQL prints it back as that JSON text,
 * appended NUL-terminated to `out`. -1 when the input is neither (the text
 * is then copied as it is, for the server to judge), -2 out of memory. */
int crm__pg_array_from_json(crm__buf *out, const char *json, size_t n);
int crm__pg_array_to_json(crm__buf *out, const char *text);
/* FNV-1a 64 of "libcrm:" + schema: the advisory lock key of the schema. */
int64_t crm__pg_lock_key(const char *schema);
/* 1 when `name` is a schema name libcrm accepts: [a-z_][a-z0-9_]{0,62}. */
int crm__pg_valid_schema(const char *name);

/* ---- pg_stmt.c: the statement functions of the backend table ---- */
int crm__pg_prepare(crm_db *db, const char *sql, size_t len, crm__stmt **out);
const char *crm__pg_sql(crm__stmt *st);
void crm__pg_reset(crm__stmt *st);
void crm__pg_clear_bindings(crm__stmt *st);
void crm__pg_finalize(crm__stmt *st);
int crm__pg_bind_null(crm__stmt *st, int i);
int crm__pg_bind_int64(crm__stmt *st, int i, int64_t v);
int crm__pg_bind_double(crm__stmt *st, int i, double v);
int crm__pg_bind_text(crm__stmt *st, int i, const char *s, int len);
int crm__pg_bind_as(crm__stmt *st, int i, enum crm__natural kind, int scale, int64_t v);
int crm__pg_parameter_count(crm__stmt *st);
int crm__pg_step(crm__stmt *st);
int crm__pg_column_count(crm__stmt *st);
int crm__pg_column_type(crm__stmt *st, int i);
int64_t crm__pg_column_int64(crm__stmt *st, int i);
double crm__pg_column_double(crm__stmt *st, int i);
const char *crm__pg_column_text(crm__stmt *st, int i);
int crm__pg_column_bytes(crm__stmt *st, int i);
int64_t crm__pg_column_as(crm__stmt *st, int i, enum crm__natural kind, int scale);
int64_t crm__pg_inserted_id(crm__stmt *st);
/* Run the DEALLOCATEs of finalized statements, in one round trip, when
 * the session is idle (`force`: also inside a transaction that has not
 * failed). */
void crm__pg_flush_dead(crm_db *db, int force);

/* ---- pg_conn.c ---- */
extern const crm__backend crm__pg_backend;
/* PQexec `sql`; CRM_OK or the recorded failure. */
int crm__pg_exec(crm_db *db, const char *sql);

#endif
