/* Upgrades of databases made by earlier libcrm versions to the current
 * format, run when a handle opens one for writing, inside the transaction
 * that checks the system tables: an upgrade happens whole or not at all.
 *
 * Format 2: ids are never reused. A table with a plain INTEGER PRIMARY KEY
 * hands the id of a deleted newest row out again (a new record inherited
 * the deleted one's workflow instance and history). Every table libcrm
 * made that way (form tables, events, workflow instances, history, timers,
 * approvals) is rebuilt with AUTOINCREMENT, rows and indexes kept, and its
 * sequence starts past every id something else still names.
 *
 * Format 3: an event names the workflow instance that emitted it
 * (crm_event.instance, for crm_event_list).
 *
 * Format 4: the audit chain's prev and hash are 32 bytes, not 64 hex
 * digits (half the bytes to write per entry; docs/audit.md).
 *
 * Format 5: a record change's event may name the audit entry that holds
 * its payload (crm_event.audit) instead of a copy of it (payload NULL).
 *
 * Format 6: compact audit entries take their names from their form's
 * "fields" entries, which an index finds (crm_audit_fields). */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "core/alloc.h"
#include "core/db_int.h"
#include "sqlite_int.h"
#include "sqlite_upgrade.h"

#define FORMAT 6 /* databases made by this version start at 1 too: nothing to rebuild or add */

/* The next table of ours still without AUTOINCREMENT: *name and *sql
 * (crm__free both), NULL when none is left. */
static int next_table(crm_db *db, char **name, char **sql)
{
	crm__stmt *st = crm__stmt_take(
		db,
		"SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND instr(sql, 'id INTEGER PRIMARY KEY,') > 0"
		" AND (name IN ('crm_event', 'crm_audit', 'crm_wf_instance', 'crm_wf_history', 'crm_wf_timer', 'crm_wf_approval')"
		"      OR name IN (SELECT name FROM crm_meta WHERE kind = 'form')) LIMIT 1",
		(size_t)-1);
	int rc;

	*name = *sql = NULL;
	if (!st)
		return db->errcode;
	if ((rc = crm__step(st)) == CRM_ROW) {
		*name = crm__strdup(crm__column_text(st, 0));
		*sql = crm__strdup(crm__column_text(st, 1));
		rc = *name && *sql ? CRM_OK : crm__error_oom(db);
	} else
		rc = rc == CRM_DONE ? CRM_OK : rc;
	crm__stmt_give(db, st);
	return rc;
}

/* The first column of a query with at most one parameter, `param`: as an
 * integer (left alone when there is no row) or as text (crm__free; left
 * alone for NULL or no row). */
static int query_one(crm_db *db, const char *sql, const char *param, int64_t *out_int, char **out_text)
{
	crm__stmt *st = crm__stmt_take(db, sql, (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	if (param)
		crm__bind_text(st, 1, param, -1);
	rc = crm__step(st);
	if (rc == CRM_ROW && out_int)
		*out_int = crm__column_int64(st, 0);
	if (rc == CRM_ROW && out_text && crm__column_type(st, 0) != CRM__SQL_NULL &&
	    !(*out_text = crm__strdup(crm__column_text(st, 0))))
		rc = crm__error_oom(db);
	crm__stmt_give(db, st);
	return rc == CRM_ROW || rc == CRM_DONE ? CRM_OK : rc;
}

/* The highest id of `table` that other tables still name: a deleted
 * record's instances and events, an instance's history, timers and
 * approvals. */
static int named_elsewhere(crm_db *db, const char *table, int64_t *out)
{
	int64_t has_wf = 0;
	int rc;

	*out = 0;
	if (strcmp(table, "crm_wf_instance") == 0)
		return query_one(db,
				 "SELECT max(coalesce((SELECT max(instance) FROM crm_wf_history), 0),"
				 " coalesce((SELECT max(instance) FROM crm_wf_timer), 0),"
				 " coalesce((SELECT max(instance) FROM crm_wf_approval), 0))",
				 NULL, out, NULL);
	if (strncmp(table, "crm_", 4) == 0)
		return CRM_OK;
	if ((rc = query_one(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'crm_wf_instance'", NULL, &has_wf, NULL)))
		return rc;
	return query_one(db,
			 has_wf ? "SELECT max(coalesce((SELECT max(record) FROM crm_event WHERE form = ?1), 0),"
				  " coalesce((SELECT max(record) FROM crm_wf_instance WHERE form = ?1), 0))"
				: "SELECT coalesce((SELECT max(record) FROM crm_event WHERE form = ?1), 0)",
			 table, out, NULL);
}

static int start_sequence_past(crm_db *db, const char *table, int64_t id)
{
	static const char *const sql[2] = {
		"INSERT INTO sqlite_sequence(name, seq) SELECT ?1, ?2 WHERE NOT EXISTS"
		" (SELECT 1 FROM sqlite_sequence WHERE name = ?1)",
		"UPDATE sqlite_sequence SET seq = ?2 WHERE name = ?1 AND seq < ?2",
	};
	int rc = CRM_DONE;

	for (int i = 0; i < 2 && rc == CRM_DONE; i++) {
		crm__stmt *st = crm__stmt_take(db, sql[i], (size_t)-1);
		if (!st)
			return db->errcode;
		crm__bind_text(st, 1, table, -1);
		crm__bind_int64(st, 2, id);
		rc = crm__step(st);
		crm__stmt_give(db, st);
	}
	return rc == CRM_DONE ? CRM_OK : rc;
}

/* Rebuild `table` from its CREATE statement `create` with AUTOINCREMENT.
 * Renamed aside in legacy mode, so views naming the table (which are not
 * libcrm's to rewrite) keep naming it; its indexes are made again. */
static int rebuild(crm_db *db, const char *table, const char *create)
{
	static const char key[] = "id INTEGER PRIMARY KEY";
	const char *at = strstr(create, key) + sizeof key - 1;
	crm__buf sql = CRM__BUF_INIT;
	char *indexes = NULL;
	int64_t named = 0;
	int rc;

	if ((rc = query_one(db, "SELECT group_concat(sql, ';') FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1"
				" AND sql IS NOT NULL",
			    table, NULL, &indexes)) ||
	    (rc = named_elsewhere(db, table, &named)))
		return rc;
	crm__buf_puts(&sql, "PRAGMA legacy_alter_table = ON; ALTER TABLE ");
	crm__sql_ident(&sql, table);
	crm__buf_puts(&sql, " RENAME TO crm__upgrade_old; ");
	crm__buf_put(&sql, create, (size_t)(at - create));
	crm__buf_puts(&sql, " AUTOINCREMENT");
	crm__buf_puts(&sql, at);
	crm__buf_puts(&sql, "; INSERT INTO ");
	crm__sql_ident(&sql, table);
	crm__buf_puts(&sql, " SELECT * FROM crm__upgrade_old; DROP TABLE crm__upgrade_old; PRAGMA legacy_alter_table = OFF; ");
	if (indexes)
		crm__buf_puts(&sql, indexes);
	rc = sql.oom ? crm__error_oom(db) : crm__exec(db, crm__buf_cstr(&sql));
	if (rc)
		sqlite3_exec(LITE_CONN(db)->h, "PRAGMA legacy_alter_table = OFF", NULL, NULL, NULL);
	crm__buf_free(&sql);
	crm__free(indexes);
	return rc ? rc : start_sequence_past(db, table, named);
}

/* Formats 3 and 5: an integer column of crm_event (instance, audit),
 * unless the table was made with it. */
static int add_event_column(crm_db *db, const char *column)
{
	char sql[64];
	int64_t has = 0;
	int rc = query_one(db, "SELECT count(*) FROM pragma_table_info('crm_event') WHERE name = ?", column, &has,
			   NULL);

	snprintf(sql, sizeof sql, "ALTER TABLE crm_event ADD COLUMN %s INTEGER", column);
	return rc || has ? rc : crm__exec(db, sql);
}

/* Format 5: an event showing its audit entry has no payload (NULL).
 * Dropping a NOT NULL constraint changes nothing stored, so the table's
 * definition is edited in place, as SQLite documents for such a change:
 * writable_schema, then the schema version moved on (every connection
 * reads the schema again). */
static int event_payload_nullable(crm_db *db)
{
	static const char is_notnull[] = "SELECT \"notnull\" FROM pragma_table_info('crm_event') WHERE name = 'payload'";
	int64_t notnull = 0, version = 0;
	char sql[512];
	int rc = query_one(db, is_notnull, NULL, &notnull, NULL);

	if (rc || !notnull)
		return rc;
	if ((rc = query_one(db, "PRAGMA schema_version", NULL, &version, NULL)))
		return rc;
	snprintf(sql, sizeof sql,
		 "PRAGMA writable_schema = ON;"
		 "UPDATE sqlite_schema SET sql = replace(sql, 'payload TEXT NOT NULL DEFAULT', 'payload TEXT DEFAULT')"
		 " WHERE type = 'table' AND name = 'crm_event';"
		 "PRAGMA schema_version = %lld; PRAGMA writable_schema = OFF",
		 (long long)version + 1);
	if ((rc = crm__exec(db, sql))) {
		sqlite3_exec(LITE_CONN(db)->h, "PRAGMA writable_schema = OFF", NULL, NULL, NULL);
		return rc;
	}
	if ((rc = query_one(db, is_notnull, NULL, &notnull, NULL)) == CRM_OK && notnull)
		rc = crm__error(db, CRM_ERROR, "crm_event's payload column was changed behind libcrm's back: it stays NOT NULL");
	return rc;
}

/* Format 4: each entry's prev and hash as bytes. Text that is not 64
 * lowercase hex digits (edited behind libcrm's back) stays as it is, so
 * verify reports the same problems after the upgrade as before. One
 * entry at a time: the table is not changed under a running scan. */
static int audit_hashes_to_bytes(crm_db *db)
{
	crm__stmt *next = NULL, *put = NULL;
	int64_t id = 0;
	int rc = CRM_OK;

	if (!(next = crm__stmt_take(db,
				    "SELECT id, prev, hash FROM crm_audit WHERE id > ? AND"
				    " (typeof(prev) = 'text' OR typeof(hash) = 'text') ORDER BY id LIMIT 1",
				    (size_t)-1)) ||
	    !(put = crm__stmt_take(db, "UPDATE crm_audit SET prev = coalesce(?, prev), hash = coalesce(?, hash) WHERE id = ?",
				   (size_t)-1))) {
		rc = db->errcode;
		goto done;
	}
	for (;;) {
		unsigned char bytes[2][CRM__AUDIT_HASH_BYTES];
		crm__bind_int64(next, 1, id);
		if ((rc = crm__step(next)) != CRM_ROW)
			break;
		id = crm__column_int64(next, 0);
		crm__clear_bindings(put); /* unbound (NULL): the value stays */
		for (int c = 0; c < 2; c++)
			if (crm__column_type(next, 1 + c) == CRM__SQL_TEXT &&
			    crm__audit_from_hex(crm__column_text(next, 1 + c), (size_t)crm__column_bytes(next, 1 + c),
						bytes[c]) == 0)
				crm__bind_blob(put, 1 + c, bytes[c], CRM__AUDIT_HASH_BYTES);
		crm__bind_int64(put, 3, id);
		rc = crm__step(put);
		crm__reset(put);
		crm__reset(next);
		if (rc != CRM_DONE)
			break;
	}
	rc = rc == CRM_DONE ? CRM_OK : rc;
done:
	crm__stmt_give(db, next);
	crm__stmt_give(db, put);
	return rc;
}

int crm__sqlite_upgrade(crm_db *db)
{
	int64_t format = FORMAT;
	char *name, *create;
	int rc;

	if ((rc = query_one(db, "SELECT value FROM crm_state WHERE key = 'format'", NULL, &format, NULL)))
		return rc;
	if (format >= FORMAT)
		return CRM_OK;
	while (format < 2 && (rc = next_table(db, &name, &create)) == CRM_OK && name) {
		rc = rebuild(db, name, create);
		crm__free(name);
		crm__free(create);
		if (rc)
			return rc;
	}
	if (rc == CRM_OK)
		rc = add_event_column(db, "instance");
	if (rc == CRM_OK)
		rc = audit_hashes_to_bytes(db);
	if (rc == CRM_OK && (rc = add_event_column(db, "audit")) == CRM_OK)
		rc = event_payload_nullable(db);
	if (rc == CRM_OK)
		rc = crm__exec(db, CRM__AUDIT_FIELDS_INDEX);
	return rc ? rc : crm__exec(db, "UPDATE crm_state SET value = 6 WHERE key = 'format'"); /* FORMAT */
}
