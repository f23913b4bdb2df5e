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
	crm__lua_push_contents(L, -1); /* a verdict may be a plugin's read-only table */
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -2) == LUA_TSTRING)
			crm__errors_add(errs, lua_tostring(L, -2), "validator", "%s",
					lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "is not valid");
		failed++;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return failed;
}

typedef struct validate_job {
	crm_db *db;
	const crm__form *form;
	const crm__value *old, *now;
	crm__errors *errs;
	int failed;
} validate_job;

static int validate_all(lua_State *L, void *ud)
{
	validate_job *j = ud;
	int rc;

	for (int i = 0; i < j->form->nvalidators; i++) {
		if ((rc = crm__plugin_push(j->db, j->form->validators[i])))
			return rc;
		lua_createtable(L, 0, 5);
		crm__lua_push_record(L, j->form, j->now, NULL);
		lua_setfield(L, -2, "record");
		if (j->old) {
			crm__lua_push_record(L, j->form, j->old, NULL);
			lua_setfield(L, -2, "old");
			crm__lua_push_changed(L, j->form, j->old, j->now);
			lua_setfield(L, -2, "changed");
		}
		lua_pushstring(L, j->old ? "update" : "insert");
		lua_setfield(L, -2, "op");
		lua_pushstring(L, j->form->name);
		lua_setfield(L, -2, "form");
		if ((rc = crm__lua_call(j->db, 1, 1)))
			return rc;
		j->failed += judge(L, j->form->validators[i], j->errs);
		lua_pop(L, 1);
	}
	return CRM_OK;
}

int crm__script_validate(crm_db *db, const crm__form *form, const crm__value *old, const crm__value *now,
			 crm__errors *errs)
{
	validate_job job = { db, form, old, now, errs, 0 };

	return crm__lua_protect(db, validate_all, &job) ? -1 : job.failed;
}
