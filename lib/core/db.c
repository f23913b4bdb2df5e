/* The handle: open and close, the clock, the actor and the limits. */
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "db_int.h"

static const int64_t default_limits[CRM_LIMIT_COUNT_] = {
	[CRM_LIMIT_REGEX_MATCH] = 100000,
	[CRM_LIMIT_REGEX_DEPTH] = 1000,
	[CRM_LIMIT_VALUE_LENGTH] = 1 << 20,
	[CRM_LIMIT_JSON_DEPTH] = 64,
	[CRM_LIMIT_BATCH_ERRORS] = 100,
	[CRM_LIMIT_LUA_INSTRUCTIONS] = 1000000,
	[CRM_LIMIT_LUA_MEMORY] = 64 << 20,
	[CRM_LIMIT_METADATA_LENGTH] = 1 << 20,
	[CRM_LIMIT_DEFINITIONS] = 10000,
	[CRM_LIMIT_DETAIL_ERRORS] = 100,
};

int crm_libversion_number(void) { return CRM_VERSION_NUMBER; }
const char *crm_libversion(void) { return CRM_VERSION; }

/*
 * Decide, before anything is written, whether this file may become (or
 * already is) a libcrm database: libcrm's tables present, or an empty
 * database when creating is allowed, or any SQLite file with
 * CRM_OPEN_INIT. Anything else is refused and the file left as it was.
 */
static int check_kind(crm_db *db, const char *path, unsigned int flags)
{
	sqlite3_stmt *st = NULL;
	int rc, empty = 0, ours = 0, may_init;

	rc = sqlite3_prepare_v2(db->sql,
				"SELECT NOT EXISTS(SELECT 1 FROM sqlite_schema),"
				" EXISTS(SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'crm_state')",
				-1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		empty = sqlite3_column_int(st, 0);
		ours = sqlite3_column_int(st, 1);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return crm__error(db, crm__code_from_sqlite(rc) == CRM_ERROR ? CRM_EIO : crm__code_from_sqlite(rc),
				  "cannot open %s: %s", path, sqlite3_errmsg(db->sql));
	may_init = !(flags & CRM_OPEN_READONLY) &&
		   ((flags & CRM_OPEN_INIT) || (empty && !(flags & CRM_OPEN_EXISTING)));
	if (ours || may_init)
		return CRM_OK;
	if (empty)
		return crm__error(db, CRM_ENOTFOUND, "no libcrm database at %s (the file is empty)", path);
	return crm__error(db, CRM_EINVAL,
			  "%s is not a libcrm database (an SQLite file with other tables): left unchanged; "
			  "CRM_OPEN_INIT adds libcrm's tables to it", path);
}

static int configure(crm_db *db, const char *path, const crm_open_options *o)
{
	int rc;

	sqlite3_busy_timeout(db->sql, o->busy_timeout_ms);
	sqlite3_extended_result_codes(db->sql, 1);
	if ((rc = crm__connection_ready(db->sql)) != SQLITE_OK)
		return crm__error_sqlite(db, rc);
	if ((rc = check_kind(db, path, o->flags)))
		return rc;
	if (!(o->flags & CRM_OPEN_READONLY)) {
		/* WAL lets readers in other processes run beside the writer;
		 * NORMAL sync is durable across application crashes in WAL mode. */
		rc = crm__exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
		if (rc)
			return rc;
	}
	if ((rc = crm__exec(db, "PRAGMA foreign_keys=OFF; PRAGMA trusted_schema=OFF")))
		return rc;
	return crm__meta_init(db);
}

/* Through SQLite's VFS, so the check means what SQLite's open meant. */
static int file_exists(const char *path)
{
	sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
	int exists = 1;

	if (vfs && vfs->xAccess(vfs, path, SQLITE_ACCESS_EXISTS, &exists) != SQLITE_OK)
		exists = 1;
	return exists;
}

static void db_free(crm_db *db)
{
	crm__buf_free(&db->errmsg);
	crm__buf_free(&db->errdetail);
	crm__buf_free(&db->errmembers);
	crm__free(db);
	crm__handle_closed(); /* its memory is gone: the allocator may change now */
}

int crm_open(crm_db **out, const char *path, const crm_open_options *opts)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	crm_db *db;
	int flags, rc;

	if (!out)
		return CRM_EMISUSE;
	*out = NULL;
	if (!path)
		return CRM_EMISUSE;
	if (opts) {
		if (opts->version != CRM_OPEN_OPTIONS_VERSION)
			return CRM_EMISUSE;
		o = *opts;
	}
	db = crm__calloc(1, sizeof *db);
	if (!db)
		return CRM_ENOMEM;
	crm__handle_opened();
	db->fixed_now = -1;
	db->erroffset = -1;
	memcpy(db->limits, default_limits, sizeof db->limits);
	db->stmts = crm__stmt_cache_new();
	if (!db->stmts) {
		db_free(db);
		return CRM_ENOMEM;
	}
	flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
		((o.flags & CRM_OPEN_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
		((o.flags & (CRM_OPEN_READONLY | CRM_OPEN_EXISTING)) ? 0 : SQLITE_OPEN_CREATE);
	rc = sqlite3_open_v2(path, &db->sql, flags, NULL);
	if (rc != SQLITE_OK) {
		if (!db->sql) {
			crm__stmt_cache_free(db->stmts);
			db_free(db);
			return CRM_ENOMEM;
		}
		if (!(flags & SQLITE_OPEN_CREATE) && !file_exists(path))
			rc = crm__error(db, CRM_ENOTFOUND, "no database at %s: %s", path, sqlite3_errmsg(db->sql));
		else
			rc = crm__error(db, crm__code_from_sqlite(rc) == CRM_ERROR ? CRM_EIO : crm__code_from_sqlite(rc),
					"cannot open %s: %s", path, sqlite3_errmsg(db->sql));
	} else
		rc = configure(db, path, &o);
	*out = db;
	return rc;
}

/* What is left of a handle once its connection is closed. */

void crm__child_add(crm_db *db, crm__child *child, void (*close)(crm__child *child))
{
	child->close = close;
	child->prev = NULL;
	child->next = db->children;
	if (db->children)
		db->children->prev = child;
	db->children = child;
}

void crm__child_remove(crm_db *db, crm__child *child)
{
	if (child->prev)
		child->prev->next = child->next;
	else if (db->children == child)
		db->children = child->next;
	if (child->next)
		child->next->prev = child->prev;
	child->prev = child->next = NULL;
	if (db->closed && !db->children)
		db_free(db);
}

/* SQLite's close_v2 semantics, because garbage-collected bindings free
 * objects in any order: children still open let go of the connection now
 * and fail from here on; the handle's memory goes with the last of them. */
int crm_close(crm_db *db)
{
	if (!db)
		return CRM_OK;
	if (db->closed)
		return CRM_EMISUSE;
	for (crm__child *c = db->children; c; c = c->next)
		c->close(c);
	for (int i = 0; i < CRM__EXT_COUNT_; i++)
		if (db->ext[i] && db->ext_free[i])
			db->ext_free[i](db->ext[i]);
	crm__stmt_cache_free(db->stmts);
	if (db->sql && !sqlite3_get_autocommit(db->sql))
		sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	/* v2: statements of definitions children still hold are finalized
	 * when those children are freed. */
	sqlite3_close_v2(db->sql);
	crm__free(db->actor_user);
	crm__free(db->actor_roles);
	if (!db->children) {
		db_free(db);
		return CRM_OK;
	}
	memset(db->ext, 0, sizeof db->ext);
	db->stmts = NULL;
	db->sql = NULL;
	db->actor_user = db->actor_roles = NULL;
	db->closed = 1;
	crm__error(db, CRM_EMISUSE, "the handle is closed");
	return CRM_OK;
}

int crm_clock_set(crm_db *db, int64_t now_ms)
{
	if (!db || db->closed || now_ms < 0)
		return CRM_EMISUSE;
	db->fixed_now = now_ms;
	return CRM_OK;
}

int crm_clock_set_fn(crm_db *db, crm_clock_fn fn, void *payload)
{
	if (!db || db->closed)
		return CRM_EMISUSE;
	db->fixed_now = -1;
	db->clock_fn = fn;
	db->clock_payload = payload;
	return CRM_OK;
}

int64_t crm_now(crm_db *db)
{
	struct timespec ts;

	if (db && db->fixed_now >= 0)
		return db->fixed_now;
	if (db && db->clock_fn)
		return db->clock_fn(db->clock_payload);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int crm_actor_set(crm_db *db, const char *user, const char *roles)
{
	char *u = NULL, *r = NULL;

	if (!db || db->closed)
		return CRM_EMISUSE;
	if ((user && !(u = crm__strdup(user))) || (roles && !(r = crm__strdup(roles)))) {
		crm__free(u);
		return crm__error_oom(db);
	}
	crm__free(db->actor_user);
	crm__free(db->actor_roles);
	db->actor_user = u;
	db->actor_roles = r;
	return CRM_OK;
}

const char *crm_actor_get(crm_db *db) { return db ? db->actor_user : NULL; }

int64_t crm_limit(crm_db *db, crm_limit_id id, int64_t value)
{
	int64_t old;

	if (!db || db->closed || id < 0 || id >= CRM_LIMIT_COUNT_)
		return -1;
	old = db->limits[id];
	if (value >= 0)
		db->limits[id] = value;
	return old;
}

int crm_logger_set(crm_db *db, crm_log_fn fn, void *payload)
{
	if (!db || db->closed)
		return CRM_EMISUSE;
	db->log_fn = fn;
	db->log_payload = payload;
	return CRM_OK;
}
