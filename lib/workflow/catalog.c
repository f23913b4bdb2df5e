/* Workflow definitions in the catalogue: applying (versioned, in crm_meta),
 * and the handle's cache of compiled versions. Running instances stay on
 * the version they started with, so old versions stay loadable. */
#include <string.h>

#include "core/alloc.h"
#include "core/json_parse.h"
#include "workflow_int.h"

typedef struct wf_cache {
	crm__workflow **all; /* every compiled (name, version) */
	int n, cap;
	crm__workflow **latest; /* the latest version of each workflow, once listed */
	int nlatest;
	int listed;
	int schema_ready;
	int64_t firing[16]; /* instances mid-transition (not dropped by flushes) */
	int nfiring;
} wf_cache;

static void cache_flush(void *p)
{
	wf_cache *c = p;

	for (int i = 0; i < c->n; i++)
		crm__workflow_release(c->all[i]);
	c->n = 0;
	crm__free(c->latest);
	c->latest = NULL;
	c->nlatest = 0;
	c->listed = 0;
	c->schema_ready = 0; /* a rollback may have undone the tables */
}

static void cache_free(void *p)
{
	cache_flush(p);
	crm__free(((wf_cache *)p)->all);
	crm__free(p);
}

static wf_cache *cache_of(crm_db *db)
{
	if (!db->ext[CRM__EXT_WORKFLOW]) {
		db->ext[CRM__EXT_WORKFLOW] = crm__calloc(1, sizeof(wf_cache));
		db->ext_free[CRM__EXT_WORKFLOW] = cache_free;
		db->ext_flush[CRM__EXT_WORKFLOW] = cache_flush;
	}
	return db->ext[CRM__EXT_WORKFLOW];
}

/* {id}: an id is never handed out twice (a timer claimed by a tick, an
 * instance a deleted record named). "user" is quoted: a reserved word in
 * standard SQL. */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS crm_wf_instance({id}, workflow TEXT NOT NULL,"
	" version {int} NOT NULL, form TEXT, record {int}, state TEXT NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'active', started_at {int} NOT NULL, entered_at {int} NOT NULL,"
	" updated_at {int} NOT NULL);"
	"CREATE UNIQUE INDEX IF NOT EXISTS crm_wf_instance_record ON crm_wf_instance(form, record, workflow)"
	" WHERE record IS NOT NULL;"
	"CREATE TABLE IF NOT EXISTS crm_wf_history({id}, instance {int} NOT NULL,"
	" at {int} NOT NULL, event TEXT, from_state TEXT, to_state TEXT, actor TEXT, data TEXT);"
	"CREATE INDEX IF NOT EXISTS crm_wf_history_instance ON crm_wf_history(instance, id);"
	"CREATE TABLE IF NOT EXISTS crm_wf_timer({id}, instance {int} NOT NULL,"
	" state TEXT NOT NULL, timer {int} NOT NULL, event TEXT NOT NULL, due_at {int} NOT NULL,"
	" every {int} NOT NULL DEFAULT 0, catch_up {int} NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS crm_wf_timer_due ON crm_wf_timer(due_at);"
	"CREATE INDEX IF NOT EXISTS crm_wf_timer_instance ON crm_wf_timer(instance);"
	"CREATE TABLE IF NOT EXISTS crm_wf_approval({id}, instance {int} NOT NULL,"
	" state TEXT NOT NULL, round {int} NOT NULL, step {int} NOT NULL, role TEXT, \"user\" TEXT,"
	" decision TEXT, actor TEXT, at {int}, reason TEXT);"
	"CREATE INDEX IF NOT EXISTS crm_wf_approval_instance ON crm_wf_approval(instance, round, step);";

int crm__wf_schema(crm_db *db)
{
	wf_cache *c = cache_of(db);

	/* cache_flush clears the flag after a rollback */
	return c ? crm__exec_schema_once(db, &c->schema_ready, "crm_wf_approval", schema_sql) : crm__error_oom(db);
}

static int load(crm_db *db, const char *name, int64_t version, crm__workflow **out)
{
	cJSON *def;
	int rc;

	if ((rc = crm__meta_load(db, "workflow", "workflow", name, version, &def, &version)))
		return rc;
	if ((rc = crm__workflow_compile(db, def, out)) == CRM_OK)
		(*out)->version = version;
	cJSON_Delete(def);
	return rc;
}

int crm__workflow_lookup(crm_db *db, const char *name, int64_t version, crm__workflow **out)
{
	wf_cache *c = cache_of(db);
	crm__workflow *wf;
	int rc;

	*out = NULL;
	if (!c)
		return crm__error_oom(db);
	if (version == 0 && c->listed) {
		for (int i = 0; i < c->nlatest; i++)
			if (strcmp(c->latest[i]->name, name) == 0)
				return *out = c->latest[i], CRM_OK;
		return crm__error(db, CRM_ENOTFOUND, "no workflow named '%s'", name);
	}
	for (int i = 0; version && i < c->n; i++)
		if (c->all[i]->version == version && strcmp(c->all[i]->name, name) == 0)
			return *out = c->all[i], CRM_OK;
	if ((rc = load(db, name, version, &wf)))
		return rc;
	for (int i = 0; i < c->n; i++) /* asked for the latest, which was compiled already */
		if (c->all[i]->version == wf->version && strcmp(c->all[i]->name, name) == 0) {
			crm__workflow_release(wf);
			return *out = c->all[i], CRM_OK;
		}
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 8;
		crm__workflow **all = crm__realloc(c->all, (size_t)cap * sizeof *all);
		if (!all) {
			crm__workflow_release(wf);
			return crm__error_oom(db);
		}
		c->all = all;
		c->cap = cap;
	}
	c->all[c->n++] = wf;
	*out = wf;
	return CRM_OK;
}

/* Compile the latest version of every workflow once per cache generation. */
static int list_latest(crm_db *db, wf_cache *c)
{
	crm__stmt *st;
	int rc = CRM_OK, src, n = 0;

	if (c->listed)
		return CRM_OK;
	st = crm__stmt_take(db, "SELECT name, max(version) FROM crm_meta WHERE kind='workflow' GROUP BY name ORDER BY name",
			    (size_t)-1);
	if (!st)
		return db->errcode;
	while ((src = crm__step(st)) == CRM_ROW) {
		crm__workflow *wf, **grown;
		if ((rc = crm__workflow_lookup(db, crm__column_text(st, 0), crm__column_int64(st, 1), &wf)))
			break;
		if (!(grown = crm__realloc(c->latest, (size_t)(n + 1) * sizeof *grown))) {
			rc = crm__error_oom(db);
			break;
		}
		c->latest = grown;
		c->latest[n++] = wf;
	}
	if (rc == CRM_OK && src != CRM_DONE)
		rc = src;
	crm__stmt_give(db, st);
	if (rc == CRM_OK) {
		c->nlatest = n;
		c->listed = 1;
	}
	return rc;
}

int crm__workflows_for_form(crm_db *db, const char *form, crm__workflow ***out, int *n)
{
	wf_cache *c = cache_of(db);
	static crm__workflow *none[1];
	int rc;

	*out = none;
	*n = 0;
	if (!c)
		return crm__error_oom(db);
	if ((rc = list_latest(db, c)))
		return rc;
	/* Few workflows per database: the caller filters by form. */
	*out = c->latest;
	*n = c->nlatest;
	(void)form;
	return CRM_OK;
}

int crm__workflow_apply(crm_db *db, const cJSON *doc)
{
	crm__workflow *wf = NULL;
	int rc;

	/* Compiling checks every name against the forms it uses. */
	if ((rc = crm__workflow_compile(db, doc, &wf)))
		return rc;
	if ((rc = crm__wf_schema(db)) == CRM_OK)
		rc = crm__meta_store(db, "workflow", wf->name, wf->body, NULL, NULL);
	crm__workflow_release(wf);
	return rc;
}

int crm_workflow_list(crm_db *db, char **out) { return crm__meta_list(db, "workflow", out); }

int crm_workflow_get(crm_db *db, const char *name, char **out)
{
	return crm__meta_get(db, "workflow", "workflow", name, out);
}

int crm__wf_firing_push(crm_db *db, int64_t instance)
{
	wf_cache *c = cache_of(db);

	if (!c)
		return crm__error_oom(db);
	if (c->nfiring == (int)(sizeof c->firing / sizeof *c->firing))
		return crm__error(db, CRM_ELIMIT, "workflow transitions nest deeper than %d", c->nfiring);
	c->firing[c->nfiring++] = instance;
	return CRM_OK;
}

void crm__wf_firing_pop(crm_db *db)
{
	wf_cache *c = cache_of(db);

	if (c && c->nfiring)
		c->nfiring--;
}

int crm__wf_is_firing(crm_db *db, int64_t instance)
{
	wf_cache *c = cache_of(db);

	for (int i = 0; c && i < c->nfiring; i++)
		if (c->firing[i] == instance)
			return 1;
	return 0;
}
