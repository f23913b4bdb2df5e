/* The event outbox table (see event.h). */
#include <string.h>

#include "core/json_parse.h"
#include "core/json_scan.h"
#include "event.h"

int crm__event_emit(crm_db *db, const char *type, const char *form, int64_t record, const char *payload,
		    int64_t *out_id)
{
	static const char sql[] = "INSERT INTO crm_event(at, type, form, record, actor, payload) VALUES(?,?,?,?,?,?)";
	sqlite3_stmt *st;
	size_t at;
	int rc;

	/* A script's payload: no text may hold U+0000 (docs/decisions.md). */
	if (payload && crm__json_has_nul(payload, strlen(payload), &at))
		return crm__error_nul(db, "the event payload", at);
	if (!(st = crm__stmt_take(db, sql, sizeof sql - 1)))
		return db->errcode;
	sqlite3_bind_int64(st, 1, crm_now(db));
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	if (form) {
		sqlite3_bind_text(st, 3, form, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, record);
	}
	if (db->actor_user)
		sqlite3_bind_text(st, 5, db->actor_user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, payload ? payload : "{}", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	crm__stmt_give(db, st);
	if (rc != SQLITE_DONE)
		return crm__error_sqlite(db, rc);
	if (out_id)
		*out_id = sqlite3_last_insert_rowid(db->sql);
	return CRM_OK;
}
