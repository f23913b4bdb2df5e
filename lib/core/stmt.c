/* A small cache of prepared statements keyed by their SQL text, so the SQL
 * a compiler produces again is not prepared again. A statement is taken out
 * while in use (a cursor may hold it for long) and given back afterwards. */
#include <string.h>

#include "alloc.h"
#include "db_int.h"

#define STMT_CACHE_SIZE 64

struct crm__stmt_cache {
	crm__stmt *slot[STMT_CACHE_SIZE]; /* most recently given back last */
	int n;
};

crm__stmt *crm__stmt_take_buf(crm_db *db, crm__buf *sql)
{
	crm__stmt *st = NULL;

	if (sql->oom)
		crm__error_oom(db);
	else
		st = crm__stmt_take(db, sql->p, sql->len);
	crm__buf_free(sql);
	return st;
}

crm__stmt *crm__stmt_take(crm_db *db, const char *sql, size_t len)
{
	crm__stmt_cache *c = db->stmts;
	crm__stmt *st = NULL;
	int rc;

	if (len == (size_t)-1)
		len = strlen(sql);
	for (int i = c->n - 1; i >= 0; i--) {
		const char *s = db->be->sql(c->slot[i]);
		if (strncmp(s, sql, len) == 0 && s[len] == 0) {
			st = c->slot[i];
			memmove(c->slot + i, c->slot + i + 1, (size_t)(c->n - i - 1) * sizeof *c->slot);
			c->n--;
			return st;
		}
	}
	rc = db->be->prepare(db, sql, len, &st);
	return rc == CRM_OK ? st : NULL;
}

crm__stmt *crm__stmt_take_insert(crm_db *db, const char *insert_sql)
{
	crm__buf sql = CRM__BUF_INIT;

	/* Nothing to append (SQLite): no text to build on this hot path. */
	if (!*db->be->dialect->returning_id)
		return crm__stmt_take(db, insert_sql, (size_t)-1);
	crm__buf_puts(&sql, insert_sql);
	crm__buf_puts(&sql, db->be->dialect->returning_id);
	return crm__stmt_take_buf(db, &sql);
}

static void outcome_ignored(void *payload, int rc, int64_t id)
{
	(void)payload, (void)rc, (void)id; /* a failure reaches the next statement */
}

int crm__step_later(crm_db *db, crm__stmt *st)
{
	int rc;

	if (!db->be->pipeline)
		return crm__step(st);
	rc = db->be->queue(st, outcome_ignored, NULL);
	return rc ? rc : CRM_DONE;
}

int crm__stmt_texts(crm_db *db, const char *sql, const char *a, const char *b, crm__buf *out, int *rows)
{
	crm__stmt *st = crm__stmt_take(db, sql, (size_t)-1);
	int rc, n = 0;

	if (!st)
		return db->errcode;
	if (a)
		crm__bind_text(st, 1, a, -1);
	if (b)
		crm__bind_text(st, 2, b, -1);
	while ((rc = crm__step(st)) == CRM_ROW) {
		n++;
		if (out)
			crm__buf_put(out, crm__column_text(st, 0), (size_t)crm__column_bytes(st, 0) + 1);
	}
	crm__stmt_give(db, st);
	if (rows)
		*rows = n;
	if (rc == CRM_DONE && out && out->oom)
		return crm__error_oom(db);
	return rc == CRM_DONE ? CRM_OK : rc;
}

int crm__prepare_prefixed(crm_db *db, const char *prefix, const char *sql, crm__stmt **out)
{
	crm__buf q = CRM__BUF_INIT;
	int rc;

	*out = NULL;
	crm__buf_puts(&q, prefix);
	crm__buf_puts(&q, sql);
	rc = q.oom ? crm__error_oom(db) : db->be->prepare(db, q.p, q.len, out);
	crm__buf_free(&q);
	return rc;
}

void crm__stmt_give(crm_db *db, crm__stmt *st)
{
	crm__stmt_cache *c = db->stmts;

	if (!st)
		return;
	crm__reset(st);
	crm__clear_bindings(st);
	if (c->n == STMT_CACHE_SIZE) {
		crm__finalize(c->slot[0]);
		memmove(c->slot, c->slot + 1, (size_t)(c->n - 1) * sizeof *c->slot);
		c->n--;
	}
	c->slot[c->n++] = st;
}

int crm__stmt_give_listing(crm_db *db, crm__stmt *st, int step_rc, crm__buf *json, char **out)
{
	crm__stmt_give(db, st);
	if (step_rc != CRM_DONE) {
		crm__buf_free(json);
		return step_rc;
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
		crm__finalize(c->slot[i]);
	c->n = 0;
}

void crm__stmt_cache_free(crm__stmt_cache *c)
{
	crm__stmt_cache_clear(c);
	crm__free(c);
}

crm__stmt_cache *crm__stmt_cache_new(void) { return crm__calloc(1, sizeof(crm__stmt_cache)); }
