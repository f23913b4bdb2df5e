/* crm_apply: the one entry point for metadata documents of every engine.
 * It sits above the engines and hands each document to the one it names,
 * all in one transaction, so a set of documents lands whole or not at all.
 * Documents go in kind by kind (plugins, forms, decision tables, workflows,
 * reports), so their order within one call does not matter; then what they
 * name is checked, for them and for the stored definitions that name them,
 * and the summary says what changed. A plan is the same run rolled back. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/db_int.h"
#include "core/json_parse.h"
#include "io/dedup.h"
#include "form/form_int.h"
#include "report/report_int.h"
#include "report/rollup.h"
#include "script/plugin.h"
#include "script/script.h"
#include "search/search_int.h"
#include "workflow/workflow_int.h"
#include "workflow/decision.h"

/* One document of the call. */
typedef struct apply_doc {
	const cJSON *doc;
	int kind;       /* index into kinds */
	const char *name;
	int64_t before; /* its version before this call; 0 when new */
	crm__form_changes changes;
} apply_doc;

/* The kinds in the order they go in: what a kind names at compile time
 * (a workflow's form, a report's forms) is in place before it. The other
 * references are checked once everything is in. */
static const struct {
	const char *key; /* the member naming the kind, and its kind in crm_meta */
	int (*apply)(crm_db *db, const cJSON *doc);
} kinds[] = {
	{ "plugin", crm__plugin_apply }, { "form", NULL }, { "decision", crm__decision_apply },
	{ "workflow", crm__workflow_apply }, { "report", crm__report_apply },
};
enum { KIND_PLUGIN, KIND_FORM, KIND_DECISION, KIND_WORKFLOW, KIND_REPORT, KIND_COUNT = sizeof kinds / sizeof *kinds };

/* A document's kind is the member naming it: {"form": "lead", ...}. Other
 * kinds may carry a "form" member too (the form a workflow runs on), so
 * "form" is tried last. -1 when none. */
static int kind_of(const cJSON *doc)
{
	static const int tried[] = { KIND_WORKFLOW, KIND_PLUGIN, KIND_DECISION, KIND_REPORT, KIND_FORM };

	for (size_t t = 0; t < sizeof tried / sizeof *tried; t++)
		if (cJSON_GetObjectItemCaseSensitive(doc, kinds[tried[t]].key))
			return tried[t];
	return -1;
}

/* Mark the error just set as coming from document `index`. */
static int in_document(crm_db *db, int rc, int index)
{
	char member[32];

	snprintf(member, sizeof member, "\"document\":%d", index);
	return rc == CRM_ENOMEM ? rc : crm__error_context(db, NULL, member);
}

static int apply_doc_in(crm_db *db, apply_doc *d)
{
	char *body = NULL;
	int rc, changed = 0;

	if (d->name && (rc = crm__meta_latest(db, kinds[d->kind].key, d->name, 0, &body, &d->before)))
		return rc;
	crm__free(body);
	if (d->kind != KIND_FORM)
		return kinds[d->kind].apply(db, d->doc);
	rc = crm__form_apply(db, d->doc, &d->changes, &changed);
	/* Its search index follows its declared columns (lib/search). */
	if (rc == CRM_OK && changed)
		rc = crm__search_form_applied(db, d->name);
	/* Rollups that involve a changed form are refilled once all documents are in. */
	if (rc == CRM_OK && changed)
		rc = crm__rollup_form_changed(db, d->name);
	/* Duplicate keys follow the new rules and the migrated values. */
	if (rc == CRM_OK && changed)
		rc = crm__dedup_form_changed(db, d->name);
	return rc;
}

/* What a form asks of the Lua engine must be there: computed expressions
 * compile, validators name plugin functions (the plugin may be applied in
 * the same call, before or after the form). */
static int check_form_scripts(lua_State *L, void *ud)
{
	const crm__form *form = ud;
	crm_db *db = crm__lua_db(L);
	char what[160], member[64];
	int rc = CRM_OK, i;

	for (i = 0; i < form->nfields && rc == CRM_OK; i++) {
		if (form->fields[i].type != CRM_TYPE_COMPUTED)
			continue;
		snprintf(what, sizeof what, "%s.%s", form->name, form->fields[i].name);
		if ((rc = crm__lua_compile(db, what, form->fields[i].lua, 1)) == CRM_OK)
			lua_pop(L, 1);
		else
			snprintf(member, sizeof member, "\"path\":\"fields[%d].lua\"", i);
	}
	for (i = 0; i < form->nvalidators && rc == CRM_OK; i++) {
		if ((rc = crm__plugin_push(db, form->validators[i])) == CRM_OK)
			lua_pop(L, 1);
		else
			snprintf(member, sizeof member, "\"path\":\"validators[%d]\"", i);
	}
	if (rc) {
		snprintf(what, sizeof what, "form %s", form->name);
		crm__error_context(db, what, member);
	}
	return rc;
}

static int check_form(crm_db *db, const char *name)
{
	crm__form *form;
	int rc;

	if ((rc = crm__form_lookup(db, name, &form)))
		return rc;
	for (int i = 0; i < form->nfields; i++)
		if (form->fields[i].type == CRM_TYPE_COMPUTED || form->nvalidators)
			return crm__lua_protect(db, check_form_scripts, form);
	return CRM_OK;
}

static int check_workflow(crm_db *db, const char *name)
{
	crm__workflow *wf;
	int rc;

	if ((rc = crm__workflow_lookup(db, name, 0, &wf)))
		return rc;
	return crm__workflow_check(db, wf);
}

/* Every stored form and workflow, as this call leaves them, still finds
 * what it names: a plugin function a workflow calls may have gone with a
 * new version of the plugin, a field it sets with a new version of its form.
 * A failure is pinned on the document of the call that defines it, or said
 * to break a stored definition. */
static int check_stored(crm_db *db, const apply_doc *docs, int n)
{
	static const struct {
		int kind;
		const char *sql;
		int (*check)(crm_db *db, const char *name);
	} stored[] = {
		{ KIND_FORM, "SELECT DISTINCT name FROM crm_meta WHERE kind='form' ORDER BY name", check_form },
		{ KIND_WORKFLOW, "SELECT DISTINCT name FROM crm_meta WHERE kind='workflow' ORDER BY name", check_workflow },
	};
	int rc = CRM_OK;

	for (size_t s = 0; s < sizeof stored / sizeof *stored && rc == CRM_OK; s++) {
		crm__stmt *st;
		int src = db->be->prepare(db, stored[s].sql, strlen(stored[s].sql), &st);

		if (src != CRM_OK)
			return src;
		while (rc == CRM_OK && (src = crm__step(st)) == CRM_ROW) {
			const char *name = crm__column_text(st, 0);
			int d = 0;

			if ((rc = stored[s].check(db, name)) == CRM_OK)
				continue;
			while (d < n && !(docs[d].kind == stored[s].kind && docs[d].name && strcmp(docs[d].name, name) == 0))
				d++;
			rc = d < n ? in_document(db, rc, d)
				   : crm__error_context(db, "this change breaks a stored definition", NULL);
		}
		if (rc == CRM_OK && src != CRM_DONE)
			rc = src;
		crm__finalize(st);
	}
	return rc;
}

/* After every document is in: references between them, then every stored
 * definition they may affect, then rollups. */
static int check_all(crm_db *db, apply_doc *docs, int n)
{
	int rc = CRM_OK, changed = 0;

	for (int i = 0; i < n && rc == CRM_OK; i++) {
		if (docs[i].kind == KIND_FORM && (rc = crm__form_check_refs(db, docs[i].name)))
			rc = in_document(db, rc, i);
	}
	for (int i = 0; i < n && rc == CRM_OK; i++) {
		char *body = NULL;
		int64_t now = 0;

		if ((rc = crm__meta_latest(db, kinds[docs[i].kind].key, docs[i].name, 0, &body, &now)))
			break;
		crm__free(body);
		changed |= now != docs[i].before;
	}
	/* Nothing changed: nothing can have broken. */
	if (rc == CRM_OK && changed)
		rc = check_stored(db, docs, n);
	/* Rollups name child forms the same way, and need them all in place. */
	return crm__rollup_after_apply(db, rc);
}

/* {"changed":N,"data_loss":B,"documents":[...]} (crm_apply_v2). */
static int summarise(crm_db *db, const apply_doc *docs, int n, char **out)
{
	crm__buf list = CRM__BUF_INIT, all = CRM__BUF_INIT;
	int changed = 0, loss = 0, rc = CRM_OK;

	for (int i = 0; i < n && rc == CRM_OK; i++) {
		const apply_doc *d = &docs[i];
		char *body = NULL;
		int64_t now = 0;

		if ((rc = crm__meta_latest(db, kinds[d->kind].key, d->name, 0, &body, &now)))
			break;
		crm__free(body);
		crm__buf_puts(&list, i ? ",{\"kind\":" : "{\"kind\":");
		crm__json_cstr(&list, kinds[d->kind].key);
		crm__buf_puts(&list, ",\"name\":");
		crm__json_cstr(&list, d->name);
		crm__buf_puts(&list, ",\"action\":");
		if (now == d->before) {
			crm__buf_puts(&list, "\"unchanged\"}");
			continue;
		}
		changed++;
		loss |= d->changes.data_loss;
		crm__buf_printf(&list, "\"%s\",\"version\":%lld", d->before ? "changed" : "created", (long long)now);
		if (d->changes.json.len) {
			crm__buf_puts(&list, ",\"changes\":[");
			crm__buf_put(&list, d->changes.json.p, d->changes.json.len);
			crm__buf_putc(&list, ']');
		}
		crm__buf_putc(&list, '}');
	}
	crm__buf_printf(&all, "{\"changed\":%d,\"data_loss\":%s,\"documents\":[", changed, loss ? "true" : "false");
	crm__buf_put(&all, list.p, list.len);
	crm__buf_puts(&all, "]}");
	if (list.oom)
		all.oom = 1;
	crm__buf_free(&list);
	if (rc == CRM_OK && (all.oom || !(*out = crm__buf_detach(&all))))
		rc = crm__error_oom(db);
	crm__buf_free(&all);
	return rc;
}

/* The documents of `root` (one, or an array), each with its kind and name. */
static int collect(crm_db *db, const cJSON *root, int allow_data_loss, apply_doc **out, int *n)
{
	int many = cJSON_IsArray(root), count = many ? cJSON_GetArraySize(root) : 1, i = 0;
	apply_doc *docs = crm__calloc(count ? (size_t)count : 1, sizeof *docs);

	*out = docs;
	*n = 0;
	if (!docs)
		return crm__error_oom(db);
	for (const cJSON *doc = many ? root->child : root; doc; doc = many ? doc->next : NULL, i++) {
		apply_doc *d = &docs[i];

		*n = i + 1;
		d->doc = doc;
		d->changes.allow_data_loss = allow_data_loss;
		crm__errors_reset(&d->changes.losses, db);
		if (!cJSON_IsObject(doc))
			return in_document(db, crm__error_path(db, "", "metadata document %d is not a JSON object", i), i);
		if ((d->kind = kind_of(doc)) < 0)
			return in_document(
				db,
				crm__error(db, CRM_EINVAL,
					   "metadata document %d: unknown kind (expected a member naming it, such as \"form\")", i),
				i);
		d->name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, kinds[d->kind].key));
	}
	return CRM_OK;
}

static int run(crm_db *db, char **out, const char *json, const crm_apply_options *opts, int plan)
{
	apply_doc *docs = NULL;
	cJSON *root;
	int rc, n = 0;

	if (!db)
		return CRM_EMISUSE;
	if (out)
		*out = NULL;
	if ((rc = crm__enter(db)))
		return rc;
	if (!json)
		return crm__error(db, CRM_EMISUSE, "no metadata given");
	if (opts && opts->version != CRM_APPLY_OPTIONS_VERSION)
		return crm__error(db, CRM_EMISUSE, "crm_apply_options version %u is not %d (use CRM_APPLY_OPTIONS_INIT)",
				  opts->version, CRM_APPLY_OPTIONS_VERSION);
	if ((rc = crm__json_parse(db, json, "metadata", &root)))
		return rc;
	/* A plan applies everything, data loss included, to report it. */
	rc = collect(db, root, plan || (opts && (opts->flags & CRM_APPLY_ALLOW_DATA_LOSS)), &docs, &n);
	/* Exclusive: no writer runs beside a metadata change (it would write
	 * by the definitions being replaced). */
	if (rc == CRM_OK && (rc = crm__tx_begin_exclusive(db)) == CRM_OK) {
		for (int k = 0; k < KIND_COUNT && rc == CRM_OK; k++)
			for (int i = 0; i < n && rc == CRM_OK; i++)
				if (docs[i].kind == k && (rc = apply_doc_in(db, &docs[i])))
					rc = in_document(db, rc, i);
		if (rc == CRM_OK)
			rc = check_all(db, docs, n);
		if (rc == CRM_OK && (out || plan))
			rc = summarise(db, docs, n, out);
		if (plan && rc == CRM_OK) {
			/* Undo it all; the plan is the answer. */
			crm__tx_end(db, CRM_ERROR);
			db->errcode = CRM_OK;
		} else
			rc = crm__tx_end(db, rc);
	}
	if (rc && out && *out) {
		crm__free(*out);
		*out = NULL;
	}
	for (int i = 0; i < n; i++) {
		crm__buf_free(&docs[i].changes.json);
		crm__errors_free(&docs[i].changes.losses);
	}
	crm__free(docs);
	cJSON_Delete(root);
	return rc;
}

int crm_apply_v2(crm_db *db, const char *json, const crm_apply_options *opts, char **out)
{
	return run(db, out, json, opts, 0);
}

int crm_apply_plan(crm_db *db, const char *json, const crm_apply_options *opts, char **out)
{
	if (!out)
		return db ? crm__error(db, CRM_EMISUSE, "crm_apply_plan needs somewhere to put the plan") : CRM_EMISUSE;
	return run(db, out, json, opts, 1);
}

int crm_apply(crm_db *db, const char *json) { return run(db, NULL, json, NULL, 0); }
