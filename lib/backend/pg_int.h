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
#define PG_BYTEA 17
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

struct pg_stmt;
typedef struct pg_queued {
	crm__queued_fn done;
	void *payload;
	struct pg_stmt *ahead; /* sent ahead: its result goes to it (send_ahead) */
} pg_queued;

typedef struct pg_conn {
	PGconn *c;
	char schema[64];
	char channel[64];   /* LISTEN/NOTIFY channel of the schema's metadata */
	int64_t lock_key;   /* pg_advisory_xact_lock key of the schema (writers) */
	char events_call[64];  /* the events lock's call (CRM__LOCK_EVENTS: pg_lock) */
	char events_where[80]; /* the same as a condition (pg_lock_where) */
	unsigned int notes; /* notifications seen: the data version */
	unsigned int next_name;
	/* Moves when the schema may have changed (DDL run here, another
	 * handle's metadata change): statements prepared before it are
	 * prepared again before they run (PostgreSQL refuses a cached plan
	 * whose result columns changed). */
	unsigned int ddl_epoch;
	int readonly;
	int has_state;      /* crm_state exists: begin reads the generation */
	int begin_prepared; /* the schema is made (pg_upgrade ran): begin runs prepared statements */
	/* The open transaction is pg_begin's, whose read of the generation,
	 * after the lock, counted every metadata change before it. */
	int counted;
	/* The app-wide locks the open transaction holds: bit 1 << enum
	 * crm__tx_lock (pg_conn.c). */
	unsigned int locks;
	/* Names of finalized statements whose DEALLOCATE waits for a
	 * transaction that can run it (fixed: forgetting must not allocate). */
	char dead[PG_DEAD_MAX][16];
	int ndead;
	/* What is in flight on the connection, one kind at a time: statements
	 * sent in pipeline mode whose results are unread, or the statement whose
	 * rows arrive one at a time. Anything else that talks to the server
	 * first completes them (crm__pg_sync). */
	pg_queued *queue;
	int nqueued, capqueued;
	struct pg_stmt *streaming;
	unsigned long round_trips; /* waits for the server (tests count them) */
	/* Statements run, and those of them sent as text the server parses
	 * again (tests count them). */
	unsigned long sent, parsed;
	/* BEGIN, its lock in each crm__tx_mode and its read of the
	 * generation, and COMMIT, prepared once (pg_conn.c). */
	struct pg_stmt *begin, *begin_lock[2], *generation, *commit;
	struct pg_stmt *events_lock; /* the events lock, prepared once (pg_lock) */
} pg_conn;

#define PG(db) ((pg_conn *)(db)->conn)

/* A parameter's value: text the caller keeps alive until reset (the seam's
 * rule, as SQLITE_STATIC), or a number written here. Binding never
 * allocates, so it cannot fail unnoticed (engines do not check binds). */
typedef struct pg_param {
	enum { PARAM_NULL, PARAM_REF, PARAM_OWN, PARAM_BYTES } kind; /* BYTES: ref[0..len), sent as bytea's hex */
	const char *ref;
	int len;      /* of ref; < 0: NUL-terminated */
	char own[48]; /* numbers, booleans, decimals, datetimes */
} pg_param;

typedef struct pg_stmt {
	crm__stmt base;
	char *sql;   /* as the engine gave it: the statement cache's key */
	char *text;  /* with $N placeholders, as the server gets it */
	Oid *declared; /* types given at prepare: text for numbers never used */
	char name[24];
	unsigned int epoch; /* the connection's ddl_epoch when prepared */
	int nparams;
	Oid *types;          /* the parameters' types as the server inferred them */
	pg_param *params;
	const char **values; /* for PQexecPrepared */
	crm__buf copies;     /* NUL-terminated copies of text bound with a length */
	PGresult *desc;      /* the result columns, before the first step */
	PGresult *res;       /* the rows of the current run, NULL before it */
	int row;             /* the current row of res */
	int stream;          /* many_rows: read rows one at a time */
	int active;          /* streaming, and rows are still to come */
	PGresult *rest;      /* the rows still to come, read early (spill) */
	int failed;          /* the stream's failure, found while spilling */
	int ahead;           /* sent ahead, its result still in flight */
	int ahead_rc;        /* sent ahead and failed: the step's answer */
	/* text[] columns of the current row as the engines' JSON text, made
	 * when the row is reached (valid until the next step) */
	char **arrays;
	int narrays;
} pg_stmt;

#define P(st) ((pg_stmt *)(st))

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
int crm__pg_bind_blob(crm__stmt *st, int i, const void *p, int len);
int crm__pg_bind_as(crm__stmt *st, int i, enum crm__natural kind, int scale, int64_t v);
int crm__pg_parameter_count(crm__stmt *st);
int crm__pg_step(crm__stmt *st);
int crm__pg_column_count(crm__stmt *st);
int crm__pg_column_type(crm__stmt *st, int i);
int64_t crm__pg_column_int64(crm__stmt *st, int i);
double crm__pg_column_double(crm__stmt *st, int i);
const char *crm__pg_column_text(crm__stmt *st, int i);
int crm__pg_column_bytes(crm__stmt *st, int i);
int crm__pg_column_blob(crm__stmt *st, int i, void *out, int cap);
int64_t crm__pg_column_as(crm__stmt *st, int i, enum crm__natural kind, int scale);
int64_t crm__pg_inserted_id(crm__stmt *st);
/* Prepare st->text again under a new name (the schema changed). */
int crm__pg_reprepare(crm_db *db, pg_stmt *st);
/* st's parameters as libpq takes them, into st->values. */
int crm__pg_values(pg_stmt *st);
/* 1 when the server refused a plan prepared before the schema changed. */
int crm__pg_stale_plan(const PGresult *res);
/* Run the DEALLOCATEs of finalized statements, in one round trip, when
 * the session is idle (`force`: also inside a transaction that has not
 * failed). */
void crm__pg_flush_dead(crm_db *db, int force);

/* ---- pg_flight.c: what is in flight on the connection ---- */
int crm__pg_queue(crm__stmt *st, crm__queued_fn done, void *payload);
int crm__pg_send_ahead(crm__stmt *st);
/* A reset of st, sent ahead, before its result came: the result is dropped. */
void crm__pg_unqueue(pg_stmt *st);
int crm__pg_flush(crm_db *db);
void crm__pg_many_rows(crm__stmt *st, int on);
/* Rows one at a time: send st and read its first row; the next row; read
 * and drop the rest (a reset part way); read the rest now, into st->rest
 * (another statement needs the connection). */
int crm__pg_execute_stream(pg_stmt *st);
int crm__pg_stream_next(pg_stmt *st);
void crm__pg_discard(pg_stmt *st);
void crm__pg_spill(pg_stmt *st);
/* Complete what is in flight (queued statements, rows still to come)
 * before the connection is used for anything else; CRM_OK or the first
 * queued failure. */
int crm__pg_sync(crm_db *db);
/* Queue `sql`, one statement without parameters or rows that cannot fail
 * in a sound transaction (SAVEPOINT, RELEASE): it goes to the server with
 * the next statement; a failure fails that one. */
int crm__pg_defer(crm_db *db, const char *sql);
/* Before `sql` (no parameters) runs: when statements are queued, a single
 * statement is sent after them and *res gets its result, read in the same
 * round trip; otherwise *res is NULL and the caller runs it (the queue is
 * then empty). CRM_OK, or the first queued failure. */
int crm__pg_after_queue(crm_db *db, const char *sql, PGresult **res);
/* Read every queued outcome up to a sync point; `last` (may be NULL) gets
 * the result of one statement the caller sent after them. */
int crm__pg_drain(crm_db *db, PGresult **last);

/* ---- pg_conn.c ---- */
extern const crm__backend crm__pg_backend;
/* PQexec `sql`; CRM_OK or the recorded failure. */
int crm__pg_exec(crm_db *db, const char *sql);

#endif
