/* The handle's insides, shared by every engine. Engines keep their own
 * state in `ext` slots so core never needs to know their types. */
#ifndef CRM_CORE_DB_INT_H
#define CRM_CORE_DB_INT_H

#include "backend/backend.h"
#include "buf.h"
#include "crm/db.h"

enum crm__ext_slot {
	CRM__EXT_FORMS = 0, /* compiled form cache (lib/form) */
	CRM__EXT_SCRIPT,    /* Lua state (lib/script) */
	CRM__EXT_WORKFLOW,  /* compiled workflows (lib/workflow) */
	CRM__EXT_REPORT,    /* compiled reports (lib/report) */
	CRM__EXT_DECISION,  /* compiled decision tables (lib/workflow/decision_eval.c) */
	CRM__EXT_ROLLUP,    /* rollups by child form (lib/report/rollup.c) */
	CRM__EXT_ACCESS,    /* the actor, NULL for the system actor (lib/access/actor.c) */
	CRM__EXT_AUDIT,     /* the audit key and chain head (lib/audit/chain.c) */
	CRM__EXT_EVENT,     /* events waiting for the commit, the after-commit hook (lib/event/append.c) */
	CRM__EXT_SEARCH,    /* search declarations by form (lib/search/index.c) */
	CRM__EXT_DEDUP,     /* OpenCC converter, duplicate tables made (lib/io/dedup.c) */
	CRM__EXT_COUNT_
};

typedef struct crm__stmt_cache crm__stmt_cache;

/* An object that lives on a handle (cursor, batch, report cursor): linked
 * into the handle so crm_close can make it let go of the connection, and
 * so a closed handle lives on, as a zombie, until its last child is freed
 * (SQLite's close_v2). Embedded in the child; see crm__child_add. */
typedef struct crm__child crm__child;
struct crm__child {
	crm__child *prev, *next;
	/* Called by crm_close: release what needs the open connection
	 * (statements, the transaction) and fail every later call with
	 * CRM_EMISUSE. The child's own memory stays until its free. */
	void (*close)(crm__child *child);
};

struct crm_db {
	const crm__backend *be;
	void *conn; /* the backend's connection */
	/* last error */
	int errcode;
	int erroffset;
	crm__buf errmsg;
	crm__buf errdetail;
	crm__buf errmembers; /* the detail's extra members, to rebuild it */
	/* warnings of the last call that succeeded (crm_warnings): JSON objects
	 * separated by commas, cleared when a call enters */
	crm__buf warnings;
	int nwarnings;
	/* clock */
	int64_t fixed_now; /* < 0: use clock_fn or the system clock */
	crm_clock_fn clock_fn;
	void *clock_payload;
	/* actor: the user named in history and audit, and the comma-joined
	 * roles; the whole actor is in ext[CRM__EXT_ACCESS] (lib/access) */
	char *actor_user;
	char *actor_roles;
	int64_t limits[CRM_LIMIT_COUNT_];
	crm_log_fn log_fn;
	void *log_payload;
	/* transactions: depth of nested crm__tx_begin, and whether the host opened one */
	int tx_depth;
	int host_tx;
	/* Moves on whenever a top-level transaction begins or ends and on every
	 * rollback (to a savepoint too): what was read in a transaction and
	 * cached (the audit chain's head) holds while it stays the same. */
	unsigned int tx_epoch;
	/* Moves on whenever a top-level transaction (libcrm's or the host's)
	 * begins: what was kept for one transaction is stale in the next. */
	unsigned int tx_serial;
	/* Run once, then cleared, when the outermost transaction has ended
	 * (committed or rolled back): work that must outlive a rollback (the
	 * audit entries of denied writes). Its failure is logged, not returned. */
	int (*after_tx)(crm_db *db);
	/* Per ext slot (the service that set it), in slot order: run once,
	 * then cleared, just before the outermost transaction commits
	 * (libcrm's or the host's): its failure rolls it back. Work done once
	 * per transaction rather than per write (the audit chain's counter,
	 * the events kept for the commit). Cleared too when the transaction
	 * rolls back. */
	int (*before_commit[CRM__EXT_COUNT_])(crm_db *db);
	/* Per ext slot: called when savepoint level `depth` (db->tx_depth once
	 * it ended) was released (undone 0) or rolled back (undone 1): what
	 * was kept per change (audit entries, events waiting for the commit)
	 * follows it. */
	void (*savepoint_end[CRM__EXT_COUNT_])(crm_db *db, int depth, int undone);
	/* Run once, then cleared, after the outermost transaction committed
	 * (not after a rollback), outside any transaction: the host's
	 * after-commit hook (lib/event/append.c). Nothing it does is
	 * returned to the call that committed. */
	void (*after_commit)(crm_db *db);
	/* Counts record writes (crm__record_write, whatever they lead to): a
	 * reader holding a record can tell when nothing can have changed it. */
	uint64_t record_writes;
	/* metadata freshness across processes */
	unsigned int data_version;
	int64_t meta_generation;
	int meta_dirty; /* metadata changed in the open transaction */
	/* Counts crm__meta_flush calls: a cursor that saw another value
	 * checks that its definitions are still current before reading. */
	unsigned int meta_epoch;
	crm__child *children;
	int closed; /* crm_close ran; the struct waits for its last child */
	crm__stmt_cache *stmts;
	void *ext[CRM__EXT_COUNT_];
	void (*ext_free[CRM__EXT_COUNT_])(void *);
	void (*ext_flush[CRM__EXT_COUNT_])(void *); /* drop caches after metadata changed */
};

/* ---- children (lib/core/db.c) ---- */
/* Link `child` into the handle; `close` is its crm_close hook. */
void crm__child_add(crm_db *db, crm__child *child, void (*close)(crm__child *child));
/* Unlink `child` when it is freed; on a closed handle the last child
 * frees the handle. */
void crm__child_remove(crm_db *db, crm__child *child);

/* ---- errors (lib/core/error.c) and freshness (lib/core/meta.c) ---- */
/* Clear the last error at the start of an API call and make sure compiled
 * metadata is current (another connection may have changed it). Both
 * refuse a closed handle with CRM_EMISUSE. */
int crm__enter(crm_db *db);
/* The same, for calls that check freshness themselves once their own
 * transaction or statement has the database open (cheaper): writes (see
 * crm__tx_begin) and point reads (crm__fresh after the first step). */
int crm__enter_deferred(crm_db *db);
/* crm__enter for a call that answers through `char **out`: CRM_EMISUSE
 * without a handle, or (on the handle) without `out`; *out starts NULL. */
int crm__enter_out(crm_db *db, char **out);
/* With a transaction or a stepped statement open: *stale = 1 when another
 * connection changed metadata since this handle last looked. The caller
 * drops what it holds and then calls crm__meta_flush. */
int crm__fresh(crm_db *db, int *stale);
/* crm__fresh, then crm__meta_flush when stale: for a read that has just
 * begun its snapshot (a cursor's first step). */
int crm__refresh(crm_db *db);
/* Set the error: code, printf message; detail becomes {"code","message"}. Returns code. */
int crm__error(crm_db *db, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Set the error with extra detail members: `members` is JSON text of object
 * members without braces ("\"errors\":[...]"), appended after code and message. */
int crm__error_detail(crm_db *db, int code, const char *members, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* CRM_EINVAL for bad input at `path` ("filter.and[1].op"): the message is
 * "path: message" and the detail carries "path". Returns CRM_EINVAL. */
int crm__error_path(crm_db *db, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Put the last error in context, keeping its code: the message becomes
 * "prefix: message" (prefix may be NULL) and `members` (JSON object members
 * without braces, may be NULL) join its detail. Returns the code. */
int crm__error_context(crm_db *db, const char *prefix, const char *members);
/* Replace the last error's message, keeping its code and extra detail. */
int crm__error_remessage(crm_db *db, const char *message);
int crm__error_oom(crm_db *db);
/* Add a warning (a JSON object, `len` bytes) to the call's crm_warnings;
 * at most 100 are kept. CRM_OK or CRM_ENOMEM. */
int crm__warn(crm_db *db, const char *json, size_t len);

/* ---- transactions (lib/core/tx.c): every write runs inside one ---- */
/* An ordinary write (records, workflows, events): beside other writers on
 * a backend that allows it, so what it reads then writes it reads with the
 * dialect's lock_* clauses. */
int crm__tx_begin(crm_db *db);
/* A write no other writer runs beside: metadata, DDL, whatever needs the
 * whole app. Nested in an ordinary write, it makes that one exclusive. */
int crm__tx_begin_exclusive(crm_db *db);
/* Make the open write transaction exclusive (see crm__tx_begin_exclusive). */
int crm__tx_exclusive(crm_db *db);
/* Commit (rc == CRM_OK) or roll back; returns rc, or the commit's failure. */
int crm__tx_end(crm_db *db, int rc);

/* Step a write the caller may go on from when it fails (a unique key):
 * on a backend whose failed statements abort the transaction, inside a
 * savepoint that is rolled back on failure. Returns as crm__step. */
int crm__step_write(crm_db *db, crm__stmt *st);
/* Step a write whose outcome nothing waits for (no rows, no count): on a
 * pipelined backend (PostgreSQL) it goes with the next round trip, and its
 * failure fails the next statement, or else the end of its unit
 * (crm__tx_end). As crm__step. */
int crm__step_later(crm_db *db, crm__stmt *st);
/* Wait for the statements queued on the handle (crm__backend.queue). */
static inline int crm__flush(crm_db *db) { return db->be->flush ? db->be->flush(db) : CRM_OK; }
/* Send the bound `st` ahead of the next statements, its rows read by its
 * first step (crm__backend.send_ahead); else it runs at that step. */
static inline int crm__send_ahead(crm__stmt *st) { return st->be->send_ahead ? st->be->send_ahead(st) : CRM_OK; }

/* ---- metadata generation (lib/core/meta.c) ---- */
/* Note that this handle changed metadata: other handles reload their caches,
 * and this one drops its own (crm__meta_flush). */
int crm__meta_bump(crm_db *db);
/* Drop every compiled-metadata cache of this handle (they reload lazily). */
void crm__meta_flush(crm_db *db);
/* The value of crm_state's row `key` (0 when there is none). */
int crm__state_read(crm_db *db, const char *key, int64_t *out);
/* Create the system tables of a new database, check an existing one. */
int crm__meta_init(crm_db *db);
/* The stored definition of (kind, name) at `version` (0: the latest):
 * *body (crm__free; NULL when there is none) and its version. */
int crm__meta_latest(crm_db *db, const char *kind, const char *name, int64_t version, char **body,
		     int64_t *out_version);
/* Store `body` as the next version of (kind, name) unless it equals the
 * latest one; *changed (may be NULL) says whether a version was added, and
 * then the generation is bumped. *out_version (may be NULL) gets the
 * version now current. The one place definitions are written. */
int crm__meta_store(crm_db *db, const char *kind, const char *name, const char *body, int64_t *out_version,
		    int *changed);
/* The public readers of stored definitions, one for every kind: the latest
 * version of each (kind, name) as [{"<kind>":name,"version":N,"label":L}]
 * sorted by name (the label defaults to the name), and the stored body of
 * (kind, name) (CRM_ENOTFOUND "no <label> named ..." when absent). Both
 * enter the API (crm__enter) and check their arguments. */
int crm__meta_list(crm_db *db, const char *kind, char **out);
int crm__meta_get(crm_db *db, const char *kind, const char *label, const char *name, char **out);
/* Run `sql` (no parameters, no rows) on the handle's connection (the backend's exec). */
/* crm__exec for DDL of libcrm's own tables, written with the dialect's
 * pieces: "{id}" (dialect identity_id), "{int}" (type_integer), "{text}"
 * (type_text), "{blob}" (type_blob) and "{without_rowid}" (without_rowid). */
int crm__exec_schema(crm_db *db, const char *sql);
/* The tables of an engine made by `sql` (crm__exec_schema), once: unless
 * *ready, or the table `last` (made last) exists, they are made in an
 * exclusive write; *ready is then set. The owner clears *ready when its
 * cache is flushed (a rollback may have undone them). */
int crm__exec_schema_once(crm_db *db, int *ready, const char *last, const char *sql);
int crm__exec(crm_db *db, const char *sql);

/* ---- statement cache (lib/core/stmt.c) ---- */
/* A prepared statement for `sql`, reset and unbound, owned by the caller
 * until crm__stmt_give. NULL on error (the error is set on db). */
crm__stmt *crm__stmt_take(crm_db *db, const char *sql, size_t len);
/* The same for SQL built in `sql`, which it frees: NULL with the error set
 * also when building it ran out of memory. */
crm__stmt *crm__stmt_take_buf(crm_db *db, crm__buf *sql);
/* crm__stmt_take for an INSERT whose new id is read with crm__inserted_id
 * after its step (CRM_DONE or CRM_ROW): the dialect's returning_id is
 * appended to `insert_sql`. */
crm__stmt *crm__stmt_take_insert(crm_db *db, const char *insert_sql);
/* Schema questions for backends: run `sql` with text parameters `a` and
 * `b` (NULL: not bound) and append the first column of every row to `out`
 * (may be NULL), each followed by a NUL; *rows (may be NULL) counts them. */
int crm__stmt_texts(crm_db *db, const char *sql, const char *a, const char *b, crm__buf *out, int *rows);
/* Prepare `prefix` followed by `sql` (EXPLAIN ...), uncached. */
int crm__prepare_prefixed(crm_db *db, const char *prefix, const char *sql, crm__stmt **out);
/* Return a statement to the cache (NULL does nothing). */
void crm__stmt_give(crm_db *db, crm__stmt *stmt);
/* End a JSON listing written into `json` from the rows of `st`: give `st`
 * back, then hand `json` to *out, or free it and set the error when the
 * last step (`step_rc`, CRM_DONE when all went well) or an append failed. */
int crm__stmt_give_listing(crm_db *db, crm__stmt *st, int step_rc, crm__buf *json, char **out);
crm__stmt_cache *crm__stmt_cache_new(void);
void crm__stmt_cache_free(crm__stmt_cache *cache);
void crm__stmt_cache_clear(crm__stmt_cache *cache);

#endif
