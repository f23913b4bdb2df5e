/* Plugins (see plugin.h). A plugin's chunk runs once per handle and
 * definition version, in its own environment, and must return a table of
 * functions; the table is kept in the Lua registry until metadata changes. */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json_parse.h"
#include "crm/plugin.h"
#include "form/form_int.h"
#include "plugin.h"
#include "script.h"

#define LOADED "crm.plugins"

/* Run the plugin's source and leave its table on the stack. */
static int load(crm_db *db, const char *name, const char *src)
{
	lua_State *L = crm__lua(db);
	char chunk[96];
	int rc;

	if (!L)
		return db->errcode;
	snprintf(chunk, sizeof chunk, "%s", name);
	if ((rc = crm__lua_compile(db, chunk, src, 0)) || (rc = crm__lua_call(db, 0, 1)))
		return rc;
	if (!lua_istable(L, -1)) {
		lua_pop(L, 1);
		return crm__error(db, CRM_ESCRIPT, "plugin %s must return a table of functions", name);
	}
	return CRM_OK;
}

static int try_load(lua_State *L, void *ud)
{
	const cJSON *doc = ud;

	return load(crm__lua_db(L), cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "plugin")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "lua")));
}

int crm__plugin_apply(crm_db *db, const cJSON *doc)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "plugin"));
	const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "lua"));
	char *body;
	int rc;

	for (const cJSON *m = doc->child; m; m = m->next)
		if (strcmp(m->string, "plugin") && strcmp(m->string, "lua") && strcmp(m->string, "label") &&
		    strcmp(m->string, "description"))
			return crm__error_detail(db, CRM_EINVAL, "\"path\":\"\"", "plugin: unknown key '%s'", m->string);
	if (!name || !crm__valid_name(name))
		return crm__error_detail(db, CRM_EINVAL, "\"path\":\"plugin\"", "plugin: 'plugin' is a name (a-z, 0-9, _)");
	if (!src)
		return crm__error_detail(db, CRM_EINVAL, "\"path\":\"lua\"", "plugin %s: 'lua' holds its source", name);
	/* Refuse a plugin that does not load, before storing it. */
	if ((rc = crm__lua_protect(db, try_load, (void *)doc)))
		return rc;
	if (!(body = cJSON_PrintUnformatted(doc)))
		return crm__error_oom(db);
	rc = crm__meta_store(db, "plugin", name, body, NULL, NULL);
	cJSON_free(body);
	return rc;
}

int crm_plugin_list(crm_db *db, char **out) { return crm__meta_list(db, "plugin", out); }

int crm_plugin_get(crm_db *db, const char *name, char **out) { return crm__meta_get(db, "plugin", "plugin", name, out); }

/* Push the loaded table of plugin `name`, loading it on first use. */
static int push_table(crm_db *db, lua_State *L, const char *name)
{
	cJSON *doc;
	int rc;

	if (lua_getfield(L, LUA_REGISTRYINDEX, LOADED) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, LOADED);
	}
	if (lua_getfield(L, -1, name) == LUA_TTABLE) {
		lua_remove(L, -2);
		return CRM_OK;
	}
	lua_pop(L, 1);
	if ((rc = crm__meta_load(db, "plugin", "plugin", name, 0, &doc, NULL))) {
		lua_pop(L, 1);
		return rc;
	}
	rc = load(db, name, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "lua")));
	cJSON_Delete(doc);
	if (rc)
		return lua_pop(L, 1), rc;
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, name);
	lua_remove(L, -2);
	return CRM_OK;
}

int crm__plugin_push(crm_db *db, const char *ref)
{
	lua_State *L = crm__lua(db);
	const char *dot;
	char name[64];
	int rc;

	if (!L)
		return db->errcode;
	if (strncmp(ref, "plugins.", 8) == 0)
		ref += 8;
	if (!(dot = strchr(ref, '.')) || (size_t)(dot - ref) >= sizeof name)
		return crm__error(db, CRM_EINVAL, "'%s' is not a plugin function (plugin.function)", ref);
	snprintf(name, sizeof name, "%.*s", (int)(dot - ref), ref);
	if ((rc = push_table(db, L, name)))
		return rc;
	if (lua_getfield(L, -1, dot + 1) != LUA_TFUNCTION) {
		lua_pop(L, 2);
		return crm__error(db, CRM_ENOTFOUND, "plugin %s has no function '%s'", name, dot + 1);
	}
	lua_remove(L, -2);
	return CRM_OK;
}

/* Metadata changed: plugins reload on next use. */
void crm__plugin_flush(lua_State *L)
{
	lua_pushnil(L);
	lua_setfield(L, LUA_REGISTRYINDEX, LOADED);
}

int crm__plugin_table(crm_db *db, const char *name)
{
	lua_State *L = crm__lua(db);

	return L ? push_table(db, L, name) : db->errcode;
}
