/* crm_apply: the one entry point for metadata documents of every engine.
 * It sits above the engines and hands each document to the one it names,
 * all in one transaction, so a set of documents lands whole or not at all. */
#include <stdio.h>
#include <string.h>

#include "core/db_int.h"
#include "core/json_parse.h"
#include "form/form_int.h"
#include "report/report_int.h"
#include "report/rollup.h"
#include "script/plugin.h"
#include "script/script.h"
#include "workflow/workflow_int.h"
#include "workflow/decision.h"

static int apply_form(crm_db *db, const cJSON *doc)
{
	int changed = 0, rc = crm__form_apply(db, doc, &changed);

	/* Rollups that involve a changed form are refilled once all documents are in. */
	if (rc == CRM_OK && changed)
		rc = crm__rollup_form_changed(db, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "form")));
	return rc;
}

/* A document's kind is the member naming it: {"form": "lead", ...}. Other
 * kinds may carry a "form" member too (the form a workflow runs on), so
 * "form" is tried last. */
static const struct {
	const char *key;
	int (*apply)(crm_db *db, const cJSON *doc);
} kinds[] = {
	{ "workflow", crm__workflow_apply },
	{ "plugin", crm__plugin_apply },
	{ "decision", crm__decision_apply },
	{ "report", crm__report_apply },
	{ "form", apply_form },
};

/* What a form asks of the Lua engine must be there: computed expressions
 * compile, validators name plugin functions (the plugin may be applied in
 * the same call, before or after the form). */
static int check_form_scripts(lua_State *L, void *ud)
{
	const crm__form *form = ud;
	crm_db *db = crm__lua_db(L);
	char what[160];
	int rc;

	for (int i = 0; i < form->nfields; i++) {
		if (form->fields[i].type != CRM_TYPE_COMPUTED)
			continue;
		snprintf(what, sizeof what, "%s.%s", form->name, form->fields[i].name);
		if ((rc = crm__lua_compile(db, what, form->fields[i].lua, 1)))
			return rc;
	}
	for (int i = 0; i < form->nvalidators; i++)
		if ((rc = crm__plugin_push(db, form->validators[i])))
			return rc;
	return CRM_OK;
}

static int check_scripts(crm_db *db, const char *name)
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

static int apply_one(crm_db *db, const cJSON *doc, int index)
{
	if (!cJSON_IsObject(doc))
		return crm__error_detail(db, CRM_EINVAL, "\"path\":\"\"", "metadata document %d is not a JSON object", index);
	for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
		if (cJSON_GetObjectItemCaseSensitive(doc, kinds[k].key))
			return kinds[k].apply(db, doc);
	return crm__error(db, CRM_EINVAL, "metadata document %d: unknown kind (expected a member naming it, such as \"form\")",
			  index);
}

int crm_apply(crm_db *db, const char *json)
{
	cJSON *root, *doc;
	int rc, i = 0, many;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (!json)
		return crm__error(db, CRM_EMISUSE, "no metadata given");
	if ((rc = crm__json_parse(db, json, "metadata", &root)))
		return rc;
	/* One document, or an array of them: walk both the same way. */
#define EACH_DOC(doc) for (doc = many ? root->child : root; doc; doc = many ? doc->next : NULL)
	many = cJSON_IsArray(root);
	if ((rc = crm__tx_begin(db)) == CRM_OK) {
		EACH_DOC(doc)
		{
			if ((rc = apply_one(db, doc, i++)))
				break;
		}
		/* References may point forward within one call: check them last. */
		EACH_DOC(doc)
		{
			const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "form"));
			if (rc || (name && ((rc = crm__form_check_refs(db, name)) || (rc = check_scripts(db, name)))))
				break;
		}
		/* Rollups name child forms the same way, and need them all in place. */
		rc = crm__rollup_after_apply(db, rc);
		rc = crm__tx_end(db, rc);
	}
#undef EACH_DOC
	cJSON_Delete(root);
	return rc;
}
