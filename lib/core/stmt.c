/* A small cache of prepared statements keyed by their SQL text, so the SQL
 * a compiler produces again is not prepared again. A statement is taken out
 * while in use (a cursor may hold it for long) and given back afterwards. */
#include <string.h>

#include "alloc.h"
#include "db_int.h"

#define STMT_CACHE_SIZE 64

struct crm__stmt_cache {
	sqlite3_stmt *slot[STMT_CACHE_SIZE]; /* most recently given back last */
	int n;
};

sqlite3_stmt *crm__stmt_take_buf(crm_db *db, crm__buf *sql)
{
	sqlite3_stmt *st = NULL;

	if (sql->oom)
		crm__error_oom(db);
	else
		st = crm__stmt_take(db, sql->p, sql->len);
	crm__buf_free(sql);
	return st;
}

sqlite3_stmt *crm__stmt_take(crm_db *db, const char *sql, size_t len)
{
	crm__stmt_cache *c = db->stmts;
	sqlite3_stmt *st = NULL;
	int rc;

	if (len == (size_t)-1)
		len = strlen(sql);
	for (int i = c->n - 1; i >= 0; i--) {
		const char *s = sqlite3_sql(c->slot[i]);
		if (strncmp(s, sql, len) == 0 && s[len] == 0) {
			st = c->slot[i];
			memmove(c->slot + i, c->slot + i + 1, (size_t)(c->n - i - 1) * sizeof *c->slot);
			c->n--;
			return st;
		}
	}
	rc = sqlite3_prepare_v3(db->sql, sql, (int)len, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		crm__error_sqlite(db, rc);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

void crm__stmt_give(crm_db *db, sqlite3_stmt *st)
{
	crm__stmt_cache *c = db->stmts;

	if (!st)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (c->n == STMT_CACHE_SIZE) {
		sqlite3_finalize(c->slot[0]);
		memmove(c->slot, c->slot + 1, (size_t)(c->n - 1) * sizeof *c->slot);
		c->n--;
	}
	c->slot[c->n++] = st;
}

int crm__stmt_give_listing(crm_db *db, sqlite3_stmt *st, int step_rc, crm__buf *json, char **out)
{
	crm__stmt_give(db, st);
	if (step_rc != SQLITE_DONE) {
		crm__buf_free(json);
		return crm__error_sqlite(db, step_rc);
	}
	if (json->oom) {
		crm__buf_free(json);
		return crm__error_oom(db);
	}
	*out = crm__buf_detach(json);
	return CRM_OK;
}

void crm__stmt_cache_clear(crm__stmt_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++)
		sqlite3_finalize(c->slot[i]);
	c->n = 0;
}

void crm__stmt_cache_free(crm__stmt_cache *c)
{
	crm__stmt_cache_clear(c);
	crm__free(c);
}

crm__stmt_cache *crm__stmt_cache_new(void) { return crm__calloc(1, sizeof(crm__stmt_cache)); }
