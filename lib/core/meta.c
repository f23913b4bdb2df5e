/* System tables and metadata freshness. Compiled metadata is cached per
 * handle; a generation counter in the database tells a handle that another
 * connection changed definitions, checked cheaply through SQLite's data
 * version so unchanged databases cost no query. */
#include <string.h>

#include "alloc.h"
#include "db_int.h"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS crm_state(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO crm_state VALUES('generation', 0), ('format', 1);"
	"CREATE TABLE IF NOT EXISTS crm_meta("
	" kind TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,"
	" body TEXT NOT NULL, applied_at INTEGER NOT NULL, applied_by TEXT,"
	" PRIMARY KEY(kind, name, version)) WITHOUT ROWID;"
	/* The event outbox (lib/event): a platform service every engine writes to. */
	"CREATE TABLE IF NOT EXISTS crm_event("
	" id INTEGER PRIMARY KEY, at INTEGER NOT NULL, type TEXT NOT NULL,"
	" form TEXT, record INTEGER, actor TEXT, payload TEXT NOT NULL DEFAULT '{}');";

static int read_generation(crm_db *db, int64_t *out)
{
	sqlite3_stmt *st = crm__stmt_take(db, "SELECT value FROM crm_state WHERE key='generation'", (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? CRM_OK : crm__error_sqlite(db, rc);
	crm__stmt_give(db, st);
	return rc;
}

int crm__meta_init(crm_db *db)
{
	int rc;

	/* Plain BEGIN: crm__tx_begin would read the tables being made. */
	if (sqlite3_db_readonly(db->sql, "main") == 0) {
		if ((rc = crm__exec(db, "BEGIN IMMEDIATE")))
			return rc;
		if ((rc = crm__exec(db, schema_sql)) || (rc = crm__exec(db, "COMMIT"))) {
			sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return read_generation(db, &db->meta_generation);
}

void crm__meta_flush(crm_db *db)
{
	for (int i = 0; i < CRM__EXT_COUNT_; i++)
		if (db->ext[i] && db->ext_flush[i])
			db->ext_flush[i](db->ext[i]);
}

int crm__meta_bump(crm_db *db)
{
	sqlite3_stmt *st;
	int rc;

	st = crm__stmt_take(db, "UPDATE crm_state SET value = value + 1 WHERE key='generation' RETURNING value",
			    (size_t)-1);
	if (!st)
		return db->errcode;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		db->meta_generation = sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW ? CRM_OK : crm__error_sqlite(db, rc);
	crm__stmt_give(db, st);
	db->meta_dirty = 1;
	crm__meta_flush(db);
	return rc;
}

/* With a transaction open the pager's data version is current: compare it
 * and read the generation only when another connection committed. */
static int check_in_transaction(crm_db *db, int *stale)
{
	unsigned int version = 0;
	int64_t generation;
	int rc;

	*stale = 0;
	if (sqlite3_file_control(db->sql, "main", SQLITE_FCNTL_DATA_VERSION, &version) != SQLITE_OK ||
	    version == db->data_version)
		return CRM_OK;
	if ((rc = read_generation(db, &generation)))
		return rc;
	db->data_version = version;
	if (generation != db->meta_generation) {
		db->meta_generation = generation;
		*stale = 1;
	}
	return CRM_OK;
}

int crm__fresh(crm_db *db, int *stale) { return check_in_transaction(db, stale); }

int crm__enter_deferred(crm_db *db)
{
	int stale, rc;

	db->errcode = CRM_OK;
	db->erroffset = -1;
	if (sqlite3_get_autocommit(db->sql))
		return CRM_OK; /* the caller checks once its transaction is open */
	if ((rc = check_in_transaction(db, &stale)) == CRM_OK && stale)
		crm__meta_flush(db);
	return rc;
}

int crm__enter(crm_db *db)
{
	int64_t generation;
	int rc, stale;

	db->errcode = CRM_OK;
	db->erroffset = -1;
	if (!sqlite3_get_autocommit(db->sql)) {
		if ((rc = check_in_transaction(db, &stale)) == CRM_OK && stale)
			crm__meta_flush(db);
		return rc;
	}
	/* Outside a transaction the pager's data version only moves when a
	 * read starts, so it cannot tell whether another connection committed
	 * since this handle's last call: ask the database. */
	if ((rc = read_generation(db, &generation)))
		return rc;
	if (generation != db->meta_generation) {
		db->meta_generation = generation;
		crm__meta_flush(db);
	}
	return CRM_OK;
}

int crm__meta_latest(crm_db *db, const char *kind, const char *name, int64_t version, char **body,
		     int64_t *out_version)
{
	sqlite3_stmt *st = crm__stmt_take(db,
					  "SELECT body, version FROM crm_meta WHERE kind=?1 AND name=?2"
					  " AND (?3 = 0 OR version = ?3) ORDER BY version DESC LIMIT 1",
					  (size_t)-1);
	int rc;

	*body = NULL;
	if (out_version)
		*out_version = 0;
	if (!st)
		return db->errcode;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, version);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (out_version)
			*out_version = sqlite3_column_int64(st, 1);
		rc = (*body = crm__strdup((const char *)sqlite3_column_text(st, 0))) ? CRM_OK : crm__error_oom(db);
	} else
		rc = rc == SQLITE_DONE ? CRM_OK : crm__error_sqlite(db, rc);
	crm__stmt_give(db, st);
	return rc;
}

/* The metadata limits, checked where every definition is written: its size,
 * and for a new name the number of names held. */
static int check_limits(crm_db *db, const char *kind, const char *name, const char *body, int is_new)
{
	int64_t max = db->limits[CRM_LIMIT_METADATA_LENGTH], held;
	size_t n = strlen(body);
	sqlite3_stmt *st;
	int rc;

	if ((int64_t)n > max)
		return crm__error(db, CRM_ELIMIT, "%s '%.64s': the definition is %zu bytes, more than the limit of %lld",
				  kind, name, n, (long long)max);
	if (!is_new)
		return CRM_OK;
	if (!(st = crm__stmt_take(db, "SELECT count(*) FROM (SELECT DISTINCT kind, name FROM crm_meta)", (size_t)-1)))
		return db->errcode;
	held = (rc = sqlite3_step(st)) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	crm__stmt_give(db, st);
	if (rc != SQLITE_ROW)
		return crm__error_sqlite(db, rc);
	if (held >= db->limits[CRM_LIMIT_DEFINITIONS])
		return crm__error(db, CRM_ELIMIT, "%s '%.64s': the database already holds %lld definitions, the limit",
				  kind, name, (long long)held);
	return CRM_OK;
}

int crm__meta_store(crm_db *db, const char *kind, const char *name, const char *body, int64_t *out_version,
		    int *changed)
{
	sqlite3_stmt *st;
	char *latest = NULL;
	int64_t version = 0;
	int rc;

	if (changed)
		*changed = 0;
	if ((rc = crm__meta_latest(db, kind, name, 0, &latest, &version)))
		return rc;
	if (latest && strcmp(latest, body) == 0) {
		crm__free(latest);
		if (out_version)
			*out_version = version;
		return CRM_OK;
	}
	crm__free(latest);
	if ((rc = check_limits(db, kind, name, body, version == 0)))
		return rc;
	st = crm__stmt_take(db,
			    "INSERT INTO crm_meta(kind, name, version, body, applied_at, applied_by) VALUES(?,?,?,?,?,?)",
			    (size_t)-1);
	if (!st)
		return db->errcode;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, version + 1);
	sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, crm_now(db));
	if (db->actor_user)
		sqlite3_bind_text(st, 6, db->actor_user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	crm__stmt_give(db, st);
	if (rc != SQLITE_DONE)
		return crm__error_sqlite(db, rc);
	if (out_version)
		*out_version = version + 1;
	if (changed)
		*changed = 1;
	return crm__meta_bump(db);
}
