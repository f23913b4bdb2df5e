/* Transactions. A top-level write takes the write lock up front (BEGIN
 * IMMEDIATE) so two processes never deadlock upgrading read locks; nested
 * writes use savepoints so a failing inner call undoes only itself. */
#include <stdio.h>

#include "db_int.h"

int crm__exec(crm_db *db, const char *sql)
{
	int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? CRM_OK : crm__error_sqlite(db, rc);
}

int crm__tx_begin(crm_db *db)
{
	char sql[48];
	int rc;

	if (db->tx_depth == 0 && sqlite3_get_autocommit(db->sql)) {
		int stale = 0;
		/* Now the snapshot is current: drop metadata another connection changed. */
		if ((rc = crm__exec(db, "BEGIN IMMEDIATE")) == CRM_OK && (rc = crm__fresh(db, &stale)) == CRM_OK && stale)
			crm__meta_flush(db);
		if (rc && !sqlite3_get_autocommit(db->sql))
			sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	} else {
		snprintf(sql, sizeof sql, "SAVEPOINT crm_%d", db->tx_depth);
		rc = crm__exec(db, sql);
	}
	if (rc == CRM_OK)
		db->tx_depth++;
	return rc;
}

int crm__tx_end(crm_db *db, int rc)
{
	char sql[80];
	int top;

	if (db->tx_depth == 0)
		return rc;
	db->tx_depth--;
	top = db->tx_depth == 0 && !db->host_tx;
	if (rc == CRM_OK) {
		if (top) {
			int src = sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
			if (src == SQLITE_OK) {
				db->meta_dirty = 0;
				return CRM_OK;
			}
			rc = crm__error_sqlite(db, src);
			sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
		snprintf(sql, sizeof sql, "RELEASE crm_%d", db->tx_depth);
		return crm__exec(db, sql);
	}
	/* Undo without touching the recorded error; metadata caches may hold
	 * what was just undone. */
	if (db->meta_dirty) {
		db->data_version = 0;
		crm__meta_flush(db);
	}
	if (top) {
		sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
		db->meta_dirty = 0;
	} else {
		snprintf(sql, sizeof sql, "ROLLBACK TO crm_%d; RELEASE crm_%d", db->tx_depth, db->tx_depth);
		sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
	}
	return rc;
}

int crm_begin(crm_db *db)
{
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (db->host_tx)
		return crm__error(db, CRM_EMISUSE, "a transaction is already open");
	if ((rc = crm__exec(db, "BEGIN IMMEDIATE")))
		return rc;
	db->host_tx = 1;
	return CRM_OK;
}

static int host_end(crm_db *db, const char *sql)
{
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (!db->host_tx)
		return crm__error(db, CRM_EMISUSE, "no transaction is open");
	rc = crm__exec(db, sql);
	if (rc == CRM_OK || sqlite3_get_autocommit(db->sql))
		db->host_tx = 0;
	/* A rollback may undo metadata changes: reload what was cached. */
	if (sql[0] == 'R' && db->meta_dirty) {
		db->data_version = 0;
		crm__meta_flush(db);
	}
	if (!db->host_tx)
		db->meta_dirty = 0;
	return rc;
}

int crm_commit(crm_db *db) { return host_end(db, "COMMIT"); }
int crm_rollback(crm_db *db) { return host_end(db, "ROLLBACK"); }
