/* Report definitions in the catalogue: applying them (checked against the
 * forms, versioned in crm_meta like forms) and the handle's cache of
 * compiled reports, dropped whenever metadata changes anywhere. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "report_int.h"

typedef struct rp_cache {
	crm__report **v;
	int n, cap;
} rp_cache;

static void cache_flush(void *p)
{
	rp_cache *c = p;

	for (int i = 0; i < c->n; i++)
		crm__report_release(c->v[i]);
	c->n = 0;
}

static void cache_free(void *p)
{
	cache_flush(p);
	crm__free(((rp_cache *)p)->v);
	crm__free(p);
}

static rp_cache *cache_of(crm_db *db)
{
	if (!db->ext[CRM__EXT_REPORT]) {
		db->ext[CRM__EXT_REPORT] = crm__calloc(1, sizeof(rp_cache));
		db->ext_free[CRM__EXT_REPORT] = cache_free;
		db->ext_flush[CRM__EXT_REPORT] = cache_flush;
	}
	return db->ext[CRM__EXT_REPORT];
}

/* The latest stored body and version of report `name` (body NULL when none). */
static int latest(crm_db *db, const char *name, char **body, int64_t *version)
{
	sqlite3_stmt *st = crm__stmt_take(
		db, "SELECT body, version FROM crm_meta WHERE kind='report' AND name=? ORDER BY version DESC LIMIT 1",
		(size_t)-1);
	int rc;

	*body = NULL;
	*version = 0;
	if (!st)
		return db->errcode;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int64(st, 1);
		if (!(*body = crm__strdup((const char *)sqlite3_column_text(st, 0))))
			rc = crm__error_oom(db);
		else
			rc = CRM_OK;
	} else
		rc = rc == SQLITE_DONE ? CRM_OK : crm__error_sqlite(db, rc);
	crm__stmt_give(db, st);
	return rc;
}

int crm__report_lookup(crm_db *db, const char *name, crm__report **out)
{
	rp_cache *c = cache_of(db);
	crm__report *rep;
	cJSON *def;
	char *body;
	int64_t version;
	int rc;

	*out = NULL;
	if (!c)
		return crm__error_oom(db);
	if (!name)
		return crm__error(db, CRM_EMISUSE, "no report name given");
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->v[i]->name, name) == 0)
			return *out = c->v[i], CRM_OK;
	if ((rc = latest(db, name, &body, &version)))
		return rc;
	if (!body)
		return crm__error(db, CRM_ENOTFOUND, "no report named '%.64s'", name);
	def = cJSON_Parse(body);
	crm__free(body);
	if (!def)
		return crm__error(db, CRM_EIO, "stored definition of report '%s' is corrupt", name);
	rc = crm__report_define(db, def, &rep);
	cJSON_Delete(def);
	if (rc) {
		/* A form it reads changed since the report was applied. */
		char msg[1100];
		snprintf(msg, sizeof msg, "report '%s' no longer matches the forms it reads: %s", name, crm_errmsg(db));
		crm__error_remessage(db, msg);
		return rc;
	}
	rep->version = version;
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 8;
		crm__report **grown = crm__realloc(c->v, (size_t)cap * sizeof *grown);
		if (!grown) {
			crm__report_release(rep);
			return crm__error_oom(db);
		}
		c->v = grown;
		c->cap = cap;
	}
	c->v[c->n++] = rep;
	*out = rep;
	return CRM_OK;
}

int crm__report_apply(crm_db *db, const cJSON *doc)
{
	crm__report *rep = NULL;
	sqlite3_stmt *st;
	char *body;
	int64_t version;
	int rc;

	if ((rc = crm__report_define(db, doc, &rep)))
		return rc;
	if ((rc = latest(db, rep->name, &body, &version))) {
		crm__report_release(rep);
		return rc;
	}
	/* Applying the same document again changes nothing. */
	if (body && strcmp(body, rep->body) == 0) {
		crm__free(body);
		crm__report_release(rep);
		return CRM_OK;
	}
	crm__free(body);
	st = crm__stmt_take(db,
			    "INSERT INTO crm_meta(kind, name, version, body, applied_at, applied_by)"
			    " VALUES('report', ?1, ?2, ?3, ?4, ?5)",
			    (size_t)-1);
	if (!st) {
		crm__report_release(rep);
		return db->errcode;
	}
	sqlite3_bind_text(st, 1, rep->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version + 1);
	sqlite3_bind_text(st, 3, rep->body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, crm_now(db));
	if (db->actor_user)
		sqlite3_bind_text(st, 5, db->actor_user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	crm__stmt_give(db, st);
	crm__report_release(rep);
	if (rc != SQLITE_DONE)
		return crm__error_sqlite(db, rc);
	return crm__meta_bump(db);
}
