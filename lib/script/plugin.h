/* Plugins: Lua modules stored as metadata ({"plugin": "routing", "lua":
 * "return {assign = function(ctx) ... end}"}) whose functions guards,
 * actions, hooks and validators name as "routing.assign". */
#ifndef CRM_SCRIPT_PLUGIN_H
#define CRM_SCRIPT_PLUGIN_H

#include <cJSON.h>

#include "core/db_int.h"

/* Check (compile and load under the budget) and store a plugin document. */
int crm__plugin_apply(crm_db *db, const cJSON *doc);
/* Inside crm__lua_protect (or a Lua call): push the function
 * "plugin.function" (a "plugins." prefix is allowed);
 * CRM_ENOTFOUND when the plugin or the function does not exist. */
int crm__plugin_push(crm_db *db, const char *ref);

/* Inside crm__lua_protect: push plugin `name`'s table of functions (loaded on first use). */
int crm__plugin_table(crm_db *db, const char *name);
/* Forget loaded plugins (metadata changed). */
#include <lua.h>
void crm__plugin_flush(lua_State *L);

#endif
