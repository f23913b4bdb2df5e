/* System tables and metadata freshness. Compiled metadata is cached per
 * handle; a generation counter in the database tells a handle that another
 * connection changed definitions, checked cheaply through SQLite's data
 * version so unchanged databases cost no query. */
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "audit/audit.h"
#include "db_int.h"

/* System tables in portable SQL with the dialect's pieces (see
 * crm__exec_schema): {id} the id that is never given twice, {int} 64-bit
 * integers, {text} text that sorts by its bytes (definitions are listed
 * by name). */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS crm_state(key TEXT PRIMARY KEY, value {int} NOT NULL){without_rowid};"
	"INSERT INTO crm_state VALUES('generation', 0), ('format', 1) ON CONFLICT DO NOTHING;"
	"CREATE TABLE IF NOT EXISTS crm_meta("
	" kind {text} NOT NULL, name {text} NOT NULL, version {int} NOT NULL,"
	" body TEXT NOT NULL, applied_at {int} NOT NULL, applied_by TEXT,"
	" PRIMARY KEY(kind, name, version)){without_rowid};"
	/* The event outbox (lib/event): a platform service every engine writes to.
	 * audit: the audit entry whose data is the payload (a record change of
	 * an audited form on SQLite; payload is then NULL: event.h). */
	"CREATE TABLE IF NOT EXISTS crm_event("
	" {id}, at {int} NOT NULL, type TEXT NOT NULL,"
	" form TEXT, record {int}, actor TEXT, payload TEXT DEFAULT '{}', instance {int}, audit {int});"
	/* Named consumers of the outbox (lib/event/consumer.c): acked is the
	 * position, delivered the highest seq handed out or passed over; a
	 * lease (lease_to > 0) covers (acked, lease_to] until lease_until, and
	 * nothing in (lease_to, scanned] matched the filter. */
	"CREATE TABLE IF NOT EXISTS crm_consumer("
	" name {text} PRIMARY KEY, acked {int} NOT NULL, delivered {int} NOT NULL,"
	" lease_to {int} NOT NULL DEFAULT 0, lease_until {int} NOT NULL DEFAULT 0, scanned {int} NOT NULL DEFAULT 0,"
	" lease_ms {int} NOT NULL, filter TEXT, created_at {int} NOT NULL){without_rowid};"
	/* The audit trail (lib/audit, docs/audit.md): seq is the entry's place
	 * in the chain (ids may skip where a transaction rolled back), prev and
	 * hash are 32 bytes (hex text before format 4: lib/backend upgrades
	 * them); crm_state's audit_seq (made by the first entry) is the seq of
	 * the last entry. Compact entries (an insert's or delete's values
	 * without their names) take their names from their form's last
	 * "fields" entry before them: CRM__AUDIT_FIELDS_INDEX finds it. */
	"CREATE TABLE IF NOT EXISTS crm_audit("
	" {id}, seq {int} NOT NULL, at {int} NOT NULL, actor TEXT, op TEXT NOT NULL, form TEXT, record {int},"
	" version {int}, data TEXT NOT NULL, prev {blob} NOT NULL, hash {blob} NOT NULL);"
	"CREATE INDEX IF NOT EXISTS crm_audit_record ON crm_audit(form, record, id);" CRM__AUDIT_FIELDS_INDEX;

int crm__exec_schema(crm_db *db, const char *sql)
{
	static const struct {
		const char *token;
		size_t offset; /* of the dialect's text */
	} pieces[] = {
		{ "{id}", offsetof(crm__dialect, identity_id) },
		{ "{int}", offsetof(crm__dialect, type_integer) },
		{ "{text}", offsetof(crm__dialect, type_text) },
		{ "{blob}", offsetof(crm__dialect, type_blob) },
		{ "{without_rowid}", offsetof(crm__dialect, without_rowid) },
	};
	crm__buf out = CRM__BUF_INIT;
	int rc;

	while (*sql) {
		size_t i = 0, n = sizeof pieces / sizeof *pieces;
		if (*sql == '{')
			while (i < n && strncmp(sql, pieces[i].token, strlen(pieces[i].token)) != 0)
				i++;
		if (*sql != '{' || i == n) {
			crm__buf_putc(&out, *sql++);
			continue;
		}
		crm__buf_puts(&out, *(const char *const *)((const char *)db->be->dialect + pieces[i].offset));
		sql += strlen(pieces[i].token);
	}
	rc = out.oom ? crm__error_oom(db) : crm__exec(db, crm__buf_cstr(&out));
	crm__buf_free(&out);
	return rc;
}

int crm__exec_schema_once(crm_db *db, int *ready, const char *last, const char *sql)
{
	int rc, exists = 0;

	if (*ready)
		return CRM_OK;
	/* Made once per database, whole, in a write transaction: DDL outside
	 * one would race other writers (on PostgreSQL, it deadlocks with
	 * them). The last table stands for all. */
	if ((rc = db->be->relation_exists(db, last, &exists)))
		return rc;
	if (!exists && (rc = crm__tx_begin_exclusive(db)) == CRM_OK)
		rc = crm__tx_end(db, crm__exec_schema(db, sql));
	if (rc == CRM_OK) {
		*ready = 1;
		/* Made inside the caller's transaction, the tables vanish if it
		 * rolls back: have the rollback flush the owner's cache (which
		 * clears *ready). */
		if (db->be->in_transaction(db))
			db->meta_dirty = 1;
	}
	return rc;
}

int crm__state_read(crm_db *db, const char *key, int64_t *out)
{
	crm__stmt *st = crm__stmt_take(db, "SELECT value FROM crm_state WHERE key = ?", (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	crm__bind_text(st, 1, key, -1);
	rc = crm__step(st);
	*out = rc == CRM_ROW ? crm__column_int64(st, 0) : 0;
	rc = rc == CRM_ROW || rc == CRM_DONE ? CRM_OK : rc;
	crm__stmt_give(db, st);
	return rc;
}

static int read_generation(crm_db *db, int64_t *out) { return crm__state_read(db, "generation", out); }

int crm__meta_init(crm_db *db)
{
	int rc;

	/* Plain BEGIN: crm__tx_begin would read the tables being made. */
	if (!db->be->readonly(db)) {
		if ((rc = db->be->begin(db, CRM__TX_EXCLUSIVE)))
			return rc;
		if ((rc = crm__exec_schema(db, schema_sql)) || (rc = db->be->upgrade(db)) || (rc = db->be->commit(db))) {
			db->be->rollback(db);
			return rc;
		}
	}
	return read_generation(db, &db->meta_generation);
}

void crm__meta_flush(crm_db *db)
{
	db->meta_epoch++;
	for (int i = 0; i < CRM__EXT_COUNT_; i++)
		if (db->ext[i] && db->ext_flush[i])
			db->ext_flush[i](db->ext[i]);
}

int crm__meta_bump(crm_db *db)
{
	crm__stmt *st;
	int rc;

	st = crm__stmt_take(db, "UPDATE crm_state SET value = value + 1 WHERE key='generation' RETURNING value",
			    (size_t)-1);
	if (!st)
		return db->errcode;
	rc = crm__step(st);
	if (rc == CRM_ROW)
		db->meta_generation = crm__column_int64(st, 0);
	rc = rc == CRM_ROW ? CRM_OK : rc;
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
	if ((version = db->be->data_version(db)) == db->data_version)
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

int crm__refresh(crm_db *db)
{
	int stale, rc = check_in_transaction(db, &stale);

	if (rc == CRM_OK && stale)
		crm__meta_flush(db);
	return rc;
}

static int closed(crm_db *db) { return crm__error(db, CRM_EMISUSE, "the handle is closed"); }

int crm__enter_deferred(crm_db *db)
{
	if (db->closed)
		return closed(db);
	db->errcode = CRM_OK;
	db->erroffset = -1;
	crm__buf_reset(&db->warnings);
	db->nwarnings = 0;
	if (!db->be->in_transaction(db))
		return CRM_OK; /* the caller checks once its transaction is open */
	return crm__refresh(db);
}

int crm__enter(crm_db *db)
{
	int64_t generation;
	int rc;

	if (db->closed)
		return closed(db);
	db->errcode = CRM_OK;
	db->erroffset = -1;
	crm__buf_reset(&db->warnings);
	db->nwarnings = 0;
	if (db->be->in_transaction(db))
		return crm__refresh(db);
	/* Outside a transaction the pager's data version only moves when a
	 * read starts, so it cannot tell whether another connection committed
	 * since this handle's last call: ask the database. */
	if ((rc = read_generation(db, &generation)))
		return rc;
	/* The generation is known as of this data version: a later snapshot
	 * (a cursor's first step) with the same version needs no new read. */
	db->data_version = db->be->data_version(db);
	if (generation != db->meta_generation) {
		db->meta_generation = generation;
		crm__meta_flush(db);
	}
	return CRM_OK;
}

int crm__meta_latest(crm_db *db, const char *kind, const char *name, int64_t version, char **body,
		     int64_t *out_version)
{
	crm__stmt *st = crm__stmt_take(db,
					  "SELECT body, version FROM crm_meta WHERE kind=?1 AND name=?2"
					  " AND (?3 = 0 OR version = ?3) ORDER BY version DESC LIMIT 1",
					  (size_t)-1);
	int rc;

	*body = NULL;
	if (out_version)
		*out_version = 0;
	if (!st)
		return db->errcode;
	crm__bind_text(st, 1, kind, -1);
	crm__bind_text(st, 2, name, -1);
	crm__bind_int64(st, 3, version);
	rc = crm__step(st);
	if (rc == CRM_ROW) {
		if (out_version)
			*out_version = crm__column_int64(st, 1);
		rc = (*body = crm__strdup(crm__column_text(st, 0))) ? CRM_OK : crm__error_oom(db);
	} else
		rc = rc == CRM_DONE ? CRM_OK : rc;
	crm__stmt_give(db, st);
	return rc;
}

/* The metadata limits, checked where every definition is written: its size,
 * and for a new name the number of names held. */
static int check_limits(crm_db *db, const char *kind, const char *name, const char *body, int is_new)
{
	int64_t max = db->limits[CRM_LIMIT_METADATA_LENGTH], held;
	size_t n = strlen(body);
	crm__stmt *st;
	int rc;

	if ((int64_t)n > max)
		return crm__error(db, CRM_ELIMIT, "%s '%.64s': the definition is %zu bytes, more than the limit of %lld",
				  kind, name, n, (long long)max);
	if (!is_new)
		return CRM_OK;
	if (!(st = crm__stmt_take(db, "SELECT count(*) FROM (SELECT DISTINCT kind, name FROM crm_meta) AS d", (size_t)-1)))
		return db->errcode;
	held = (rc = crm__step(st)) == CRM_ROW ? crm__column_int64(st, 0) : 0;
	crm__stmt_give(db, st);
	if (rc != CRM_ROW)
		return rc;
	if (held >= db->limits[CRM_LIMIT_DEFINITIONS])
		return crm__error(db, CRM_ELIMIT, "%s '%.64s': the database already holds %lld definitions, the limit",
				  kind, name, (long long)held);
	return CRM_OK;
}

/* Every stored definition is a metadata apply in the audit trail. */
static int audit_apply(crm_db *db, const char *kind, const char *name, int64_t version)
{
	crm__buf data = CRM__BUF_INIT;
	int rc;

	crm__buf_puts(&data, "{\"kind\":");
	crm__json_cstr(&data, kind);
	crm__buf_puts(&data, ",\"name\":");
	crm__json_cstr(&data, name);
	crm__buf_puts(&data, ",\"version\":");
	crm__buf_i64(&data, version);
	crm__buf_putc(&data, '}');
	rc = data.oom ? crm__error_oom(db) : crm__audit_append(db, "apply", NULL, 0, 0, data.p, data.len, NULL);
	crm__buf_free(&data);
	return rc;
}

int crm__meta_store(crm_db *db, const char *kind, const char *name, const char *body, int64_t *out_version,
		    int *changed)
{
	crm__stmt *st;
	char *latest = NULL;
	int64_t version = 0;
	int rc;

	if (changed)
		*changed = 0;
	/* Writers that compiled the definition being replaced must not run
	 * beside its change (crm_apply is exclusive already; a host's own
	 * transaction becomes so here). */
	if ((rc = crm__tx_exclusive(db)) || (rc = crm__meta_latest(db, kind, name, 0, &latest, &version)))
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
	crm__bind_text(st, 1, kind, -1);
	crm__bind_text(st, 2, name, -1);
	crm__bind_int64(st, 3, version + 1);
	crm__bind_text(st, 4, body, -1);
	crm__bind_int64(st, 5, crm_now(db));
	if (db->actor_user)
		crm__bind_text(st, 6, db->actor_user, -1);
	rc = crm__step(st);
	crm__stmt_give(db, st);
	if (rc != CRM_DONE || (rc = audit_apply(db, kind, name, version + 1)))
		return rc;
	if (out_version)
		*out_version = version + 1;
	if (changed)
		*changed = 1;
	return crm__meta_bump(db);
}

/* ---- reading definitions back (crm_<kind>_list / crm_<kind>_get) ---- */

int crm__enter_out(crm_db *db, char **out)
{
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if (out)
		*out = NULL;
	if ((rc = crm__enter(db)))
		return rc;
	return out ? CRM_OK : crm__error(db, CRM_EMISUSE, "no place for the answer (out is NULL)");
}

int crm__meta_list(crm_db *db, const char *kind, char **out)
{
	crm__buf json = CRM__BUF_INIT, sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc, n = 0;

	if ((rc = crm__enter_out(db, out)))
		return rc;
	crm__buf_puts(&sql, "SELECT name, version, ");
	db->be->dialect->json_member(&sql, "body", "label");
	crm__buf_puts(&sql, " FROM crm_meta AS m WHERE kind=?1 AND version ="
			    " (SELECT max(version) FROM crm_meta WHERE kind=?1 AND name=m.name) ORDER BY name");
	st = crm__stmt_take_buf(db, &sql);
	if (!st)
		return db->errcode;
	crm__bind_text(st, 1, kind, -1);
	crm__buf_putc(&json, '[');
	while ((rc = crm__step(st)) == CRM_ROW) {
		const char *name = crm__column_text(st, 0);
		const char *label = crm__column_type(st, 2) == CRM__SQL_TEXT ? crm__column_text(st, 2)
									     : NULL;
		crm__buf_puts(&json, n++ ? ",{" : "{");
		crm__json_cstr(&json, kind);
		crm__buf_putc(&json, ':');
		crm__json_cstr(&json, name);
		crm__buf_puts(&json, ",\"version\":");
		crm__buf_i64(&json, crm__column_int64(st, 1));
		crm__buf_puts(&json, ",\"label\":");
		crm__json_cstr(&json, label ? label : name);
		crm__buf_putc(&json, '}');
	}
	crm__buf_putc(&json, ']');
	return crm__stmt_give_listing(db, st, rc, &json, out);
}

int crm__meta_get(crm_db *db, const char *kind, const char *label, const char *name, char **out)
{
	int rc;

	if ((rc = crm__enter_out(db, out)))
		return rc;
	if (!name)
		return crm__error(db, CRM_EMISUSE, "no %s name given", label);
	if ((rc = crm__meta_latest(db, kind, name, 0, out, NULL)))
		return rc;
	return *out ? CRM_OK : crm__error(db, CRM_ENOTFOUND, "no %s named '%.64s'", label, name);
}
