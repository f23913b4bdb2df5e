/* The handle: open and close, the clock and the limits (the actor: lib/access/actor.c). */
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

static void db_free(crm_db *db)
{
	crm__buf_free(&db->errmsg);
	crm__buf_free(&db->errdetail);
	crm__buf_free(&db->errmembers);
	crm__buf_free(&db->warnings);
	crm__free(db);
	crm__handle_closed(); /* its memory is gone: the allocator may change now */
}

int crm_open(crm_db **out, const char *path, const crm_open_options *opts)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	crm_db *db;
	int rc;

	if (!out)
		return CRM_EMISUSE;
	*out = NULL;
	if (!path)
		return CRM_EMISUSE;
	if (opts) {
		if (opts->version < 1 || opts->version > CRM_OPEN_OPTIONS_VERSION)
			return CRM_EMISUSE;
		/* A version-1 struct ends before `schema`: read only its fields. */
		if (opts->version == 1) {
			o.flags = opts->flags;
			o.busy_timeout_ms = opts->busy_timeout_ms;
		} else
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
	for (int i = 0; crm__backends[i]; i++)
		if (crm__backends[i]->accepts(path)) {
			db->be = crm__backends[i];
			break;
		}
	rc = db->be->open(db, path, &o);
	if (rc == CRM_OK)
		rc = crm__meta_init(db);
	if (rc == CRM_ENOMEM && !db->conn) {
		crm__stmt_cache_free(db->stmts);
		db_free(db);
		return CRM_ENOMEM;
	}
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
	db->be->close(db);
	crm__free(db->actor_user);
	crm__free(db->actor_roles);
	if (!db->children) {
		db_free(db);
		return CRM_OK;
	}
	memset(db->ext, 0, sizeof db->ext);
	db->stmts = NULL;
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
