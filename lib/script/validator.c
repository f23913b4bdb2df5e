/* Record validators: plugin functions a form names in "validators", run on
 * every write after the field rules pass. A validator gets ctx {record, old,
 * changed, op, form} and answers nil/true (fine), false or a message (the
 * record is refused), or a table {field = message, ...} (those fields). */
#include <lauxlib.h>
#include <string.h>

#include "form/form_int.h"
#include "plugin.h"
#include "script.h"

static int judge(lua_State *L, const char *validator, crm__errors *errs)
{
	int failed = 0;

	if (lua_isnil(L, -1) || (lua_isboolean(L, -1) && lua_toboolean(L, -1)))
		return 0;
	if (lua_isboolean(L, -1)) {
		crm__errors_add(errs, NULL, "validator", "%s refused the record", validator);
		return 1;
	}
	if (lua_type(L, -1) == LUA_TSTRING) {
		crm__errors_add(errs, NULL, "validator", "%s", lua_tostring(L, -1));
		return 1;
	}
	if (!lua_istable(L, -1)) {
		crm__errors_add(errs, NULL, "validator", "%s returned a %s, not a verdict", validator, luaL_typename(L, -1));
		return 1;
	}
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -2) == LUA_TSTRING)
			crm__errors_add(errs, lua_tostring(L, -2), "validator", "%s",
					lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "is not valid");
		failed++;
		lua_pop(L, 1);
	}
	return failed;
}

int crm__script_validate(crm_db *db, const crm__form *form, const crm__value *old, const crm__value *now,
			 crm__errors *errs)
{
	lua_State *L = crm__lua(db);
	int failed = 0;

	if (!L)
		return -1;
	for (int i = 0; i < form->nvalidators; i++) {
		if (crm__plugin_push(db, form->validators[i]))
			return -1;
		lua_createtable(L, 0, 5);
		crm__lua_push_record(L, form, now, NULL);
		lua_setfield(L, -2, "record");
		if (old) {
			crm__lua_push_record(L, form, old, NULL);
			lua_setfield(L, -2, "old");
			crm__lua_push_changed(L, form, old, now);
			lua_setfield(L, -2, "changed");
		}
		lua_pushstring(L, old ? "update" : "insert");
		lua_setfield(L, -2, "op");
		lua_pushstring(L, form->name);
		lua_setfield(L, -2, "form");
		if (crm__lua_call(db, 1, 1))
			return -1;
		failed += judge(L, form->validators[i], errs);
		lua_pop(L, 1);
	}
	return failed;
}
