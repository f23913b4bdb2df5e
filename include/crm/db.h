/*
 * libcrm — the database handle: open/close, errors, clock, actor, limits,
 * transactions, and applying metadata documents.
 *
 * Lifecycle: crm_open -> any number of calls -> crm_close. One handle per
 * thread; many processes may share one database file (WAL, busy timeout).
 * After a failing call the handle keeps the error: crm_errcode, crm_errmsg,
 * crm_errdetail and crm_erroffset describe it until the next call.
 */
#ifndef CRM_DB_H
#define CRM_DB_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct crm_db crm_db;

#define CRM_OPEN_READONLY 0x01 /**< open an existing file read-only */
/** Open only a libcrm database that exists: a missing file, or one that holds
 * no database yet (empty), fails with CRM_ENOTFOUND and nothing is created. */
#define CRM_OPEN_EXISTING 0x02
/** Also initialise an SQLite database that has tables of another application
 * (libcrm adds its own beside them); without it such a file is refused. */
#define CRM_OPEN_INIT 0x04

typedef struct crm_open_options {
	unsigned int version;    /**< CRM_OPEN_OPTIONS_VERSION */
	unsigned int flags;      /**< CRM_OPEN_* bits */
	int busy_timeout_ms;     /**< how long to wait on a lock held by another process */
	/** Version 2. On PostgreSQL, the schema libcrm's tables live in (one
	 *  per app; NULL: "crm"), named [a-z_][a-z0-9_]{0,62}; created when
	 *  missing unless CRM_OPEN_READONLY or CRM_OPEN_EXISTING. SQLite
	 *  ignores it. Version-1 structs (without it) are still accepted. */
	const char *schema;
} crm_open_options;
#define CRM_OPEN_OPTIONS_VERSION 2
#define CRM_OPEN_OPTIONS_INIT { CRM_OPEN_OPTIONS_VERSION, 0, 5000, NULL }

/**
 * Open the database at `path`, or ":memory:"; a `postgresql://` or
 * `postgres://` URI (libpq's) opens a PostgreSQL database instead, when
 * libcrm was built with it (see crm_open_options.schema). By default a missing file is
 * created and a new or empty database gets libcrm's tables (and WAL); a
 * non-empty SQLite file that is not a libcrm database is refused with
 * CRM_EINVAL and left exactly as it was (no table added, journal mode
 * unchanged) unless CRM_OPEN_INIT is given. CRM_OPEN_EXISTING never creates
 * or initialises: it opens an existing libcrm database or fails with
 * CRM_ENOTFOUND. `opts` may be NULL for defaults. On success *out is a
 * handle to release with crm_close. On failure *out is still set when a
 * handle could be made (so crm_errmsg explains), and must be closed;
 * otherwise it is NULL.
 */
CRM_EXTERN(int) crm_open(crm_db **out, const char *path, const crm_open_options *opts);
/**
 * Close the handle, rolling back an open transaction. NULL does nothing.
 *
 * Objects made on the handle (cursors, batches, report cursors) should be
 * freed first, but need not be (the semantics of sqlite3_close_v2, for
 * bindings whose garbage collector frees in any order): crm_close with some
 * still open rolls back (an uncommitted batch inserts nothing), closes the
 * database and returns CRM_OK; from then on every call on the handle
 * (crm_close included) and on those objects fails with CRM_EMISUSE, their
 * accessors return NULL or 0, and their free functions work as usual. The
 * handle's memory is released by the last of them to be freed, so the
 * handle pointer stays valid (for crm_errmsg, "the handle is closed") only
 * until then.
 */
CRM_EXTERN(int) crm_close(crm_db *db);

/** The code of the last failing call on this handle (CRM_OK after success). */
CRM_EXTERN(int) crm_errcode(crm_db *db);
/** Human-readable message of the last error; "" after success. Borrowed. */
CRM_EXTERN(const char *) crm_errmsg(crm_db *db);
/**
 * Machine-readable JSON detail of the last error, always an object:
 * {"code":"CRM_ECONSTRAINT","message":...} plus, for validation,
 * "errors":[{"field":..,"code":..,"message":..}, ...] (every failing field),
 * for batches "rows":[{"index":N,"errors":[...]}], for metadata "path".
 * Borrowed.
 */
CRM_EXTERN(const char *) crm_errdetail(crm_db *db);
/** Byte offset into the last JSON input where parsing failed, or -1. */
CRM_EXTERN(int) crm_erroffset(crm_db *db);
/**
 * Warnings of the last call, when it succeeded: a JSON array (borrowed,
 * valid until the next call on the handle; "[]" when there are none or the
 * call failed) of objects {"code": ..., "message": ..., ...}. An insert
 * that meets a duplicate rule with "on_insert": "warn" adds
 * {"code":"duplicate","form","field","rule","record"?,"message"}
 * (docs/integration.md, "Duplicates and merge"). At most 100 are kept.
 */
CRM_EXTERN(const char *) crm_warnings(crm_db *db);

/* ---- clock: every timestamp libcrm writes comes from here ---- */

/** Host clock callback: milliseconds since 1970-01-01T00:00:00Z. */
typedef int64_t (*crm_clock_fn)(void *payload);
/** Freeze the clock at `now_ms` (tests, replays, `crm --now`). */
CRM_EXTERN(int) crm_clock_set(crm_db *db, int64_t now_ms);
/** Use `fn` as the clock; NULL returns to the system clock. */
CRM_EXTERN(int) crm_clock_set_fn(crm_db *db, crm_clock_fn fn, void *payload);
/** The handle's current time in milliseconds since the epoch (UTC). */
CRM_EXTERN(int64_t) crm_now(crm_db *db);

/* ---- actor: who the following calls act as ---- */

/**
 * Act as `user` with the comma-separated `roles` (either may be NULL) for
 * the following calls: new records are owned by the user, and later
 * permissions, approvals and audit rows name them. Strings are copied.
 */
CRM_EXTERN(int) crm_actor_set(crm_db *db, const char *user, const char *roles);
/** The current actor's user, or NULL. Borrowed. */
CRM_EXTERN(const char *) crm_actor_get(crm_db *db);

/* ---- log: messages from Lua scripts (crm.log, print) ---- */

typedef enum crm_log_level { CRM_LOG_DEBUG = 0, CRM_LOG_INFO, CRM_LOG_WARN, CRM_LOG_ERROR } crm_log_level;
/** Receives log lines; `source` names the script ("plugin routing"). Strings are borrowed for the call. */
typedef void (*crm_log_fn)(void *payload, int level, const char *source, const char *message);
/** Send log lines to `fn` (NULL: drop them, the default). */
CRM_EXTERN(int) crm_logger_set(crm_db *db, crm_log_fn fn, void *payload);

/* ---- limits (like sqlite3_limit): the host may lower or raise them ----
 * Each binds every path where it applies (docs/api.md, "Limits"); going past
 * one is refused with a clear error and changes nothing. */
typedef enum crm_limit_id {
	/** PCRE2 match limit per pattern check (default 100000), interpreter and JIT */
	CRM_LIMIT_REGEX_MATCH = 0,
	/** PCRE2 backtracking depth (default 1000): the interpreter's depth limit,
	 *  and under JIT a JIT stack of 32 bytes per unit, at most 64 MiB (the
	 *  default is PCRE2's own 32 KiB); a value past it fails validation with
	 *  "pattern_limit" */
	CRM_LIMIT_REGEX_DEPTH,
	CRM_LIMIT_VALUE_LENGTH,       /**< bytes in one text/json value (default 1 MiB) */
	/** nesting depth of JSON input (default 64): records, filters, queries,
	 *  metadata, report parameters, decision inputs. Input parsed into a tree
	 *  (all but records) is also held to cJSON's CJSON_NESTING_LIMIT (1000). */
	CRM_LIMIT_JSON_DEPTH,
	CRM_LIMIT_BATCH_ERRORS,       /**< failing rows listed by a batch (default 100) */
	CRM_LIMIT_LUA_INSTRUCTIONS,   /**< per Lua call (default 1000000) */
	CRM_LIMIT_LUA_MEMORY,         /**< bytes per Lua state (default 64 MiB) */
	/** bytes of one stored metadata definition, as normalised JSON (default
	 *  1 MiB): a longer document is refused at crm_apply with CRM_ELIMIT */
	CRM_LIMIT_METADATA_LENGTH,
	/** named definitions (forms, workflows, reports, decision tables,
	 *  plugins together) a database may hold (default 10000): a new one past
	 *  it is refused at crm_apply with CRM_ELIMIT */
	CRM_LIMIT_DEFINITIONS,
	/** entries listed in an error detail's "errors" array (default 100); the
	 *  detail then says "truncated":true and "total": the full count */
	CRM_LIMIT_DETAIL_ERRORS,
	CRM_LIMIT_COUNT_
} crm_limit_id;
/** Set limit `id` to `value` when value >= 0; returns the previous value (-1 for a bad id). */
CRM_EXTERN(int64_t) crm_limit(crm_db *db, crm_limit_id id, int64_t value);

/* ---- transactions: every write call is atomic on its own; these group calls ---- */
CRM_EXTERN(int) crm_begin(crm_db *db);
CRM_EXTERN(int) crm_commit(crm_db *db);
CRM_EXTERN(int) crm_rollback(crm_db *db);

/**
 * Apply metadata: one JSON document ({"form": ...}) or an array of them,
 * in one transaction. A document that changes an existing definition
 * migrates it (see docs/metadata.md); an unchanged one does nothing.
 * References between the documents of one call may point either way, and
 * every reference and Lua chunk (of these documents and of the stored
 * definitions they affect) is checked before anything is kept: a failing
 * document's index is "document" in the error detail, the place in it
 * "path". A change that would discard data (a removed field holding
 * values, a type change that loses information) is refused with
 * CRM_ECONSTRAINT: crm_apply_v2 with CRM_APPLY_ALLOW_DATA_LOSS allows it.
 */
CRM_EXTERN(int) crm_apply(crm_db *db, const char *json);

#define CRM_APPLY_ALLOW_DATA_LOSS 0x01 /**< apply changes that discard data */

typedef struct crm_apply_options {
	unsigned int version; /**< CRM_APPLY_OPTIONS_VERSION */
	unsigned int flags;   /**< CRM_APPLY_* bits */
} crm_apply_options;
#define CRM_APPLY_OPTIONS_VERSION 1
#define CRM_APPLY_OPTIONS_INIT { CRM_APPLY_OPTIONS_VERSION, 0 }

/**
 * crm_apply with options (`opts` may be NULL: the defaults, as crm_apply)
 * and a summary of what changed. On success *out (when `out` is not NULL)
 * is JSON to release with crm_free:
 * {"changed": N, "data_loss": false, "documents": [{"kind": "form", "name":
 * "lead", "action": "created"|"changed"|"unchanged", "version": V,
 * "changes": [{"change": "add"|"rename"|"drop"|"retype"|"constraint"|
 * "recompute"|"form", "field": ..., "rows": R, ...}]}, ...]}
 * (documents in the order given; docs/metadata.md lists every member).
 */
CRM_EXTERN(int) crm_apply_v2(crm_db *db, const char *json, const crm_apply_options *opts, char **out);

/**
 * What crm_apply_v2 would do, changing nothing: the same checks and the same
 * summary in *out (crm_free it), where changes that discard data are listed
 * with "data_loss": true instead of refused. Definitions that would be
 * refused fail as crm_apply would.
 */
CRM_EXTERN(int) crm_apply_plan(crm_db *db, const char *json, const crm_apply_options *opts, char **out);

#ifdef __cplusplus
}
#endif
#endif
