/* Transactions. A top-level write opens the backend's write transaction
 * (on SQLite, BEGIN IMMEDIATE: the lock up front, so two processes never
 * deadlock upgrading read locks; on PostgreSQL ordinary writers run side by
 * side and metadata changes alone: enum crm__tx_mode); nested writes use
 * savepoints so a failing inner call undoes only itself. */
#include <stdio.h>
#include <string.h>

#include "db_int.h"

int crm__exec(crm_db *db, const char *sql) { return db->be->exec(db, sql); }

/* The recorded error, set aside while an undo (or what waited for the
 * transaction's end) runs statements: they must not replace the failure's
 * own message. */
typedef struct saved_error {
	crm__buf msg, detail, members;
	int code, offset;
} saved_error;

static void error_save(crm_db *db, saved_error *e)
{
	*e = (saved_error){ db->errmsg, db->errdetail, db->errmembers, db->errcode, db->erroffset };
	db->errmsg = db->errdetail = db->errmembers = (crm__buf)CRM__BUF_INIT;
}

static void error_restore(crm_db *db, saved_error *e)
{
	crm__buf_free(&db->errmsg);
	crm__buf_free(&db->errdetail);
	crm__buf_free(&db->errmembers);
	db->errmsg = e->msg;
	db->errdetail = e->detail;
	db->errmembers = e->members;
	db->errcode = e->code;
	db->erroffset = e->offset;
}

static void exec_quietly(crm_db *db, const char *sql)
{
	saved_error e;

	error_save(db, &e);
	crm__exec(db, sql);
	error_restore(db, &e);
}

/* The outermost transaction has ended (`committed` or not): what waited
 * for it runs now. */
static void ended(crm_db *db, int committed)
{
	int (*after)(crm_db *) = db->after_tx;
	void (*after_commit)(crm_db *) = db->after_commit;
	saved_error e;

	db->tx_epoch++;
	db->after_tx = NULL;
	db->after_commit = NULL;
	memset(db->before_commit, 0, sizeof db->before_commit);
	if (after) {
		error_save(db, &e);
		if (after(db) && db->log_fn)
			db->log_fn(db->log_payload, CRM_LOG_ERROR, "libcrm", crm_errmsg(db));
		error_restore(db, &e);
	}
	if (after_commit && committed) {
		error_save(db, &e);
		after_commit(db);
		error_restore(db, &e);
	}
}

static int pre_commit(crm_db *db)
{
	int rc = CRM_OK;

	for (int i = 0; i < CRM__EXT_COUNT_ && rc == CRM_OK; i++) {
		int (*before)(crm_db *) = db->before_commit[i];
		db->before_commit[i] = NULL;
		if (before)
			rc = before(db);
	}
	return rc;
}

static void savepoint_ended(crm_db *db, int depth, int undone)
{
	for (int i = 0; i < CRM__EXT_COUNT_; i++)
		if (db->savepoint_end[i])
			db->savepoint_end[i](db, depth, undone);
}

static int tx_begin(crm_db *db, enum crm__tx_mode mode)
{
	char sql[48];
	int rc;

	if (db->tx_depth == 0 && !db->be->in_transaction(db)) {
		int stale = 0;
		db->tx_epoch++;
		db->tx_serial++;
		/* Now the snapshot is current: drop metadata another connection changed. */
		if ((rc = db->be->begin(db, mode)) == CRM_OK && (rc = crm__fresh(db, &stale)) == CRM_OK && stale)
			crm__meta_flush(db);
		if (rc)
			db->be->rollback(db);
	} else {
		snprintf(sql, sizeof sql, "SAVEPOINT crm_%d", db->tx_depth);
		rc = crm__exec(db, sql);
		/* Inside an ordinary write (a host's transaction): exclusive from
		 * here to its end. */
		if (rc == CRM_OK && mode == CRM__TX_EXCLUSIVE) {
			db->tx_depth++;
			return (rc = crm__tx_exclusive(db)) ? crm__tx_end(db, rc) : CRM_OK;
		}
	}
	if (rc == CRM_OK)
		db->tx_depth++;
	return rc;
}

int crm__tx_begin(crm_db *db) { return tx_begin(db, CRM__TX_WRITE); }

int crm__tx_begin_exclusive(crm_db *db) { return tx_begin(db, CRM__TX_EXCLUSIVE); }

int crm__tx_exclusive(crm_db *db) { return db->be->lock(db, CRM__LOCK_EXCLUSIVE); }

int crm__tx_end(crm_db *db, int rc)
{
	char sql[80];
	int top;

	if (db->tx_depth == 0)
		return rc;
	top = db->tx_depth == 1 && !db->host_tx;
	/* Writes queued in this unit fail it, not a later one (the commit
	 * reads them in its own round trip). */
	if (rc == CRM_OK && !top)
		rc = crm__flush(db);
	db->tx_depth--;
	if (rc == CRM_OK) {
		if (top) {
			if ((rc = pre_commit(db)) == CRM_OK && (rc = db->be->commit(db)) == CRM_OK)
				db->meta_dirty = 0;
			else
				db->be->rollback(db);
			ended(db, rc == CRM_OK);
			return rc;
		}
		snprintf(sql, sizeof sql, "RELEASE crm_%d", db->tx_depth);
		if ((rc = crm__exec(db, sql)) == CRM_OK)
			savepoint_ended(db, db->tx_depth, 0);
		return rc;
	}
	/* Undo without touching the recorded error; metadata caches may hold
	 * what was just undone. */
	if (db->meta_dirty) {
		db->data_version = 0;
		crm__meta_flush(db);
	}
	db->tx_epoch++;
	if (top) {
		db->be->rollback(db);
		db->meta_dirty = 0;
		ended(db, 0);
	} else {
		snprintf(sql, sizeof sql, "ROLLBACK TO crm_%d; RELEASE crm_%d", db->tx_depth, db->tx_depth);
		exec_quietly(db, sql);
		savepoint_ended(db, db->tx_depth, 1);
	}
	return rc;
}

int crm__step_write(crm_db *db, crm__stmt *st)
{
	int rc;

	if (!db->be->failure_aborts_transaction)
		return crm__step(st);
	if ((rc = crm__tx_begin(db)))
		return rc;
	rc = crm__step(st);
	if (rc == CRM_ROW || rc == CRM_DONE) {
		int end = crm__tx_end(db, CRM_OK);
		return end == CRM_OK ? rc : end;
	}
	return crm__tx_end(db, rc);
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
	/* An ordinary write: a metadata change inside it makes it exclusive. */
	if ((rc = db->be->begin(db, CRM__TX_WRITE)))
		return rc;
	db->tx_epoch++;
	db->tx_serial++;
	db->host_tx = 1;
	return CRM_OK;
}

static int host_end(crm_db *db, int commit)
{
	int rc = CRM_OK;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (!db->host_tx)
		return crm__error(db, CRM_EMISUSE, "no transaction is open");
	if (commit && (rc = pre_commit(db)) == CRM_OK)
		rc = db->be->commit(db);
	else
		db->be->rollback(db);
	if (rc == CRM_OK || !db->be->in_transaction(db))
		db->host_tx = 0;
	/* A rollback may undo metadata changes: reload what was cached. */
	if ((!commit || rc != CRM_OK) && db->meta_dirty) {
		db->data_version = 0;
		crm__meta_flush(db);
	}
	if (!db->host_tx) {
		db->meta_dirty = 0;
		ended(db, commit && rc == CRM_OK);
	} else
		db->tx_epoch++;
	return rc;
}

int crm_commit(crm_db *db) { return host_end(db, 1); }
int crm_rollback(crm_db *db) { return host_end(db, 0); }
