/* Report definitions in the catalogue: applying them (checked against the
 * forms, versioned in crm_meta like forms) and the handle's cache of
 * compiled reports, dropped whenever metadata changes anywhere. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json_parse.h"
#include "core/json_scan.h"
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
int crm__report_lookup(crm_db *db, const char *name, crm__report **out)
{
	rp_cache *c = cache_of(db);
	crm__report *rep;
	cJSON *def;
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
	if ((rc = crm__meta_load(db, "report", "report", name, 0, &def, &version)))
		return rc;
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
	int rc;

	if ((rc = crm__report_define(db, doc, &rep)))
		return rc;
	/* Applying the same document again changes nothing. */
	rc = crm__meta_store(db, "report", rep->name, rep->body, NULL, NULL);
	crm__report_release(rep);
	return rc;
}

int crm_report_list(crm_db *db, char **out) { return crm__meta_list(db, "report", out); }

int crm_report_get(crm_db *db, const char *name, char **out) { return crm__meta_get(db, "report", "report", name, out); }
