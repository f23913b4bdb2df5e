/* Library functions whose loops run in C, where the count hook never fires,
 * for a count the script picks (an argument, a __len) rather than data it
 * had to build under the budget: `table.move({}, 1, 1 << 62, 1, {})` would
 * otherwise spin for centuries in one instruction. These versions charge
 * their iterations to the budget before looping (crm__lua_charge); the
 * other library loops walk data that memory bounds. */
#include <lauxlib.h>
#include <limits.h>

#include "script.h"

/* Repeating an empty string loops n times writing nothing. */
static int b_rep(lua_State *L)
{
	size_t len, seplen;

	luaL_checklstring(L, 1, &len);
	luaL_checkinteger(L, 2);
	luaL_optlstring(L, 3, "", &seplen);
	if (len + seplen == 0) {
		lua_pushliteral(L, "");
		return 1;
	}
	return crm__lua_call_upvalue(L, 1);
}

/* table.move's element count comes from its arguments alone. */
static int b_move(lua_State *L)
{
	lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);

	if (e >= f && (f > 0 || e < LUA_MAXINTEGER + f))
		crm__lua_charge(L, e - f + 1);
	return crm__lua_call_upvalue(L, 1);
}

/* insert, remove and unpack read the count from __len once, so they are
 * Lua 5.4's own (ltablib.c) with the charge added. */
static int b_insert(lua_State *L)
{
	lua_Integer e, pos;

	luaL_checktype(L, 1, LUA_TTABLE);
	e = luaL_len(L, 1);
	e = (lua_Integer)((lua_Unsigned)e + 1u);
	switch (lua_gettop(L)) {
	case 2: pos = e; break;
	case 3:
		pos = luaL_checkinteger(L, 2);
		luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
		crm__lua_charge(L, e - pos);
		for (lua_Integer i = e; i > pos; i--) {
			lua_geti(L, 1, i - 1);
			lua_seti(L, 1, i);
		}
		break;
	default: return luaL_error(L, "wrong number of arguments to 'insert'");
	}
	lua_seti(L, 1, pos);
	return 0;
}

static int b_remove(lua_State *L)
{
	lua_Integer size, pos;

	luaL_checktype(L, 1, LUA_TTABLE);
	size = luaL_len(L, 1);
	pos = luaL_optinteger(L, 2, size);
	if (pos != size)
		luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 2, "position out of bounds");
	lua_geti(L, 1, pos);
	if (pos < size)
		crm__lua_charge(L, size - pos);
	for (; pos < size; pos++) {
		lua_geti(L, 1, pos + 1);
		lua_seti(L, 1, pos);
	}
	lua_pushnil(L);
	lua_seti(L, 1, pos);
	return 1;
}

static int b_unpack(lua_State *L)
{
	lua_Unsigned n;
	lua_Integer i = luaL_optinteger(L, 2, 1);
	lua_Integer e = luaL_opt(L, luaL_checkinteger, 3, luaL_len(L, 1));

	if (i > e)
		return 0;
	n = (lua_Unsigned)e - (lua_Unsigned)i;
	if (n >= (unsigned int)INT_MAX || !lua_checkstack(L, (int)(++n)))
		return luaL_error(L, "too many results to unpack");
	crm__lua_charge(L, (lua_Integer)n);
	for (; i < e; i++)
		lua_geti(L, 1, i);
	lua_geti(L, 1, e);
	return (int)n;
}

/* Replace lib[name] by `fn`, which gets the original as its upvalue. */
static void wrap(lua_State *L, int lib, const char *name, lua_CFunction fn)
{
	lua_getfield(L, lib, name);
	lua_pushcclosure(L, fn, 1);
	lua_setfield(L, lib, name);
}

void crm__lua_budget_string(lua_State *L, int idx)
{
	wrap(L, lua_absindex(L, idx), "rep", b_rep);
}

void crm__lua_budget_table(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	wrap(L, idx, "move", b_move);
	lua_pushcfunction(L, b_insert);
	lua_setfield(L, idx, "insert");
	lua_pushcfunction(L, b_remove);
	lua_setfield(L, idx, "remove");
	lua_pushcfunction(L, b_unpack);
	lua_setfield(L, idx, "unpack");
}
