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

static int configure(crm_db *db, const crm_open_options *o)
{
	int rc;

	sqlite3_busy_timeout(db->sql, o->busy_timeout_ms);
	sqlite3_extended_result_codes(db->sql, 1);
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
		crm__free(db);
		crm__handle_closed();
		return CRM_ENOMEM;
	}
	flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
		((o.flags & CRM_OPEN_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	rc = sqlite3_open_v2(path, &db->sql, flags, NULL);
	if (rc != SQLITE_OK) {
		if (!db->sql) {
			crm__stmt_cache_free(db->stmts);
			crm__free(db);
			crm__handle_closed();
			return CRM_ENOMEM;
		}
		rc = crm__error(db, crm__code_from_sqlite(rc) == CRM_ERROR ? CRM_EIO : crm__code_from_sqlite(rc),
				"cannot open %s: %s", path, sqlite3_errmsg(db->sql));
	} else
		rc = configure(db, &o);
	*out = db;
	return rc;
}

int crm_close(crm_db *db)
{
	if (!db)
		return CRM_OK;
	for (int i = 0; i < CRM__EXT_COUNT_; i++)
		if (db->ext[i] && db->ext_free[i])
			db->ext_free[i](db->ext[i]);
	crm__stmt_cache_free(db->stmts);
	if (db->sql && !sqlite3_get_autocommit(db->sql))
		sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close_v2(db->sql);
	crm__buf_free(&db->errmsg);
	crm__buf_free(&db->errdetail);
	crm__buf_free(&db->errmembers);
	crm__free(db->actor_user);
	crm__free(db->actor_roles);
	crm__free(db);
	crm__handle_closed();
	return CRM_OK;
}

int crm_clock_set(crm_db *db, int64_t now_ms)
{
	if (!db || now_ms < 0)
		return CRM_EMISUSE;
	db->fixed_now = now_ms;
	return CRM_OK;
}

int crm_clock_set_fn(crm_db *db, crm_clock_fn fn, void *payload)
{
	if (!db)
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

	if (!db)
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

const char *crm_actor_user(crm_db *db) { return db ? db->actor_user : NULL; }

int64_t crm_limit(crm_db *db, crm_limit_id id, int64_t value)
{
	int64_t old;

	if (!db || id < 0 || id >= CRM_LIMIT_COUNT_)
		return -1;
	old = db->limits[id];
	if (value >= 0)
		db->limits[id] = value;
	return old;
}

int crm_logger_set(crm_db *db, crm_log_fn fn, void *payload)
{
	if (!db)
		return CRM_EMISUSE;
	db->log_fn = fn;
	db->log_payload = payload;
	return CRM_OK;
}
