/* The apply-time check of a compiled workflow against everything it names
 * outside itself: plugin functions, decision tables, forms and fields of
 * `create` actions, and every Lua chunk (guards, lua actions, {"lua": ...}
 * values) compiled, not run. Compiling the definition already resolved its
 * own states, events and the fields of its form; what is checked here may
 * arrive later in the same crm_apply, or go away in a later one. */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "decision.h"
#include "script/plugin.h"
#include "script/script.h"
#include "workflow_int.h"

typedef struct check_ctx {
	crm_db *db;
	const crm__workflow *wf;
	char path[200];
} check_ctx;

/* Give the error just set the workflow's name and the path in it. */
static int at_path(check_ctx *cx, int rc)
{
	char prefix[300];
	crm__buf member = CRM__BUF_INIT;

	if (rc == CRM_ENOMEM)
		return rc;
	crm__buf_puts(&member, "\"path\":");
	crm__json_cstr(&member, cx->path);
	/* A Lua error already says where: "flow:transitions[0].guard:1: ..." */
	if (rc == CRM_ESCRIPT)
		snprintf(prefix, sizeof prefix, "workflow %s", cx->wf->name);
	else
		snprintf(prefix, sizeof prefix, "workflow %s: %s", cx->wf->name, cx->path);
	rc = member.oom ? crm__error_oom(cx->db) : crm__error_context(cx->db, prefix, crm__buf_cstr(&member));
	crm__buf_free(&member);
	return rc;
}

static int compile_chunk(check_ctx *cx, const char *src, int expression)
{
	lua_State *L = crm__lua(cx->db);
	char name[260];
	int rc;

	snprintf(name, sizeof name, "%s:%s", cx->wf->name, cx->path);
	if ((rc = crm__lua_compile(cx->db, name, src, expression)) == CRM_OK)
		lua_pop(L, 1);
	return rc;
}

/* A VALUE of an action (lib/workflow/actions.c resolves it): {"lua": EXPR}
 * compiles, {"field": NAME} names a field of the form or a system column,
 * objects are walked member by member. */
static int check_value(check_ctx *cx, const cJSON *v)
{
	const cJSON *only = cJSON_IsObject(v) && v->child && !v->child->next ? v->child : NULL;
	size_t len = strlen(cx->path);
	int rc = CRM_OK;

	if (only && cJSON_IsString(only) && strcmp(only->string, "lua") == 0)
		return compile_chunk(cx, only->valuestring, 1);
	if (only && cJSON_IsString(only) && strcmp(only->string, "field") == 0) {
		const char *name = only->valuestring;
		if (cx->wf->form && !crm__form_field(cx->wf->form, name, strlen(name)) && !crm__is_system_column(name))
			return crm__error(cx->db, CRM_EINVAL, "form %s has no field '%s'", cx->wf->form->name, name);
		return CRM_OK;
	}
	for (const cJSON *m = cJSON_IsObject(v) ? v->child : NULL; m && rc == CRM_OK; m = m->next) {
		snprintf(cx->path + len, sizeof cx->path - len, ".%s", m->string);
		rc = check_value(cx, m);
		if (rc == CRM_OK)
			cx->path[len] = 0;
	}
	return rc;
}

/* `create`: the form exists and every value names one of its fields. */
static int check_create(check_ctx *cx, const crm__wf_action *a)
{
	crm__form *form;
	int rc;

	if ((rc = crm__form_lookup(cx->db, a->name, &form)))
		return rc;
	for (const cJSON *m = a->spec ? a->spec->child : NULL; m; m = m->next)
		if (strcmp(m->string, "owner") != 0 && !crm__form_field(form, m->string, strlen(m->string)))
			return crm__error(cx->db, CRM_EINVAL, "'create': form %s has no field '%s'", a->name, m->string);
	return CRM_OK;
}

static int check_action(check_ctx *cx, const crm__wf_action *a)
{
	static const char *const spec_key[] = {
		[CRM__ACT_SET] = "set",     [CRM__ACT_CREATE] = "create.values", [CRM__ACT_ASSIGN] = "assign",
		[CRM__ACT_SCORE] = "score", [CRM__ACT_EMIT] = "payload",
	};
	size_t len = strlen(cx->path);
	crm__dtable *table;
	int rc = CRM_OK;

	switch (a->kind) {
	case CRM__ACT_CALL:
		if ((rc = crm__plugin_push(cx->db, a->name)) == CRM_OK)
			lua_pop(crm__lua(cx->db), 1);
		return rc;
	case CRM__ACT_DECIDE:
		if ((rc = crm__decision_load(cx->db, a->name, &table)) == CRM_OK)
			crm__decision_free(table);
		return rc;
	case CRM__ACT_LUA: return compile_chunk(cx, a->name, 0);
	case CRM__ACT_CREATE:
		if ((rc = check_create(cx, a)))
			return rc;
		break;
	default: break;
	}
	if (a->spec && (size_t)a->kind < sizeof spec_key / sizeof *spec_key && spec_key[a->kind]) {
		snprintf(cx->path + len, sizeof cx->path - len, ".%s", spec_key[a->kind]);
		if ((rc = check_value(cx, a->spec)) == CRM_OK)
			cx->path[len] = 0;
	}
	return rc;
}

static int check_actions(check_ctx *cx, const crm__wf_actions *list)
{
	int rc;

	for (int i = 0; i < list->n; i++) {
		if (list->shorthand)
			snprintf(cx->path, sizeof cx->path, "%s", list->path);
		else
			snprintf(cx->path, sizeof cx->path, "%s[%d]", list->path, i);
		if ((rc = check_action(cx, &list->v[i])))
			return at_path(cx, rc);
	}
	return CRM_OK;
}

static int check_unit(lua_State *L, void *ud)
{
	check_ctx *cx = ud;
	const crm__workflow *wf = cx->wf;
	int rc;

	(void)L;
	for (int i = 0; i < wf->nstates; i++)
		if ((rc = check_actions(cx, &wf->states[i].on_enter)) || (rc = check_actions(cx, &wf->states[i].on_exit)))
			return rc;
	for (int i = 0; i < wf->ntransitions; i++) {
		const crm__wf_transition *t = &wf->transitions[i];

		snprintf(cx->path, sizeof cx->path, "transitions[%d].guard", i);
		if (t->guard_lua && (rc = compile_chunk(cx, t->guard_lua, 1)))
			return at_path(cx, rc);
		if ((rc = check_actions(cx, &t->actions)))
			return rc;
	}
	return CRM_OK;
}

int crm__workflow_check(crm_db *db, const crm__workflow *wf)
{
	check_ctx cx = { db, wf, "" };

	return crm__lua_protect(db, check_unit, &cx);
}
