/* Read-only tables (see script.h): an empty table whose metatable reads
 * from the real one and refuses writes, with a protected metatable and a
 * mark (a key in the metatable) naming the real table. Two kinds:
 * - library views: their real tables (string, math, crm, ...) hold only
 *   functions, numbers and strings, so a plain __index table suffices;
 * - plugin views: made lazily, one per real table (cached, so identity
 *   holds), for everything a script reads through `plugins`: a table read
 *   through a view comes back as a view, a plugin function as a wrapper
 *   whose table results are views. The plugin's own code works on the real
 *   tables, so its metatables and upvalues behave as written.
 * C code that walks tables raw (JSON, verdicts, decision inputs) reads
 * the real table through the mark. */
#include <lauxlib.h>
#include <string.h>

#include "script.h"

static const char mark;

static int library_newindex(lua_State *L) { return luaL_error(L, "the sandbox libraries are read-only"); }

static int plugin_newindex(lua_State *L) { return luaL_error(L, "plugin tables are read-only"); }

void crm__lua_push_contents(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	if (lua_getmetatable(L, idx)) {
		if (lua_rawgetp(L, -1, &mark) == LUA_TTABLE) {
			lua_remove(L, -2);
			return;
		}
		lua_pop(L, 2);
	}
	lua_pushvalue(L, idx);
}

static int readonly_len(lua_State *L)
{
	crm__lua_push_contents(L, 1);
	lua_len(L, -1);
	return 1;
}

/* Push the key at `key` as the real table at `t` knows it: a table key went
 * out read-only, and comes back as its view. */
static void real_key(lua_State *L, int t, int key)
{
	if (lua_type(L, key) == LUA_TTABLE) {
		lua_pushvalue(L, key);
		if (lua_rawget(L, t) == LUA_TNIL) {
			lua_pop(L, 1);
			crm__lua_push_contents(L, key);
			return;
		}
		lua_pop(L, 1);
	}
	lua_pushvalue(L, key);
}

/* The iterator __pairs gives: next over the contents, which it never hands out. */
static int readonly_next(lua_State *L)
{
	lua_settop(L, 2);
	crm__lua_push_contents(L, 1);
	real_key(L, 3, 2);
	if (!lua_next(L, 3)) {
		lua_pushnil(L);
		return 1;
	}
	crm__lua_export(L, -2);
	crm__lua_export(L, -1);
	return 2;
}

static int readonly_pairs(lua_State *L)
{
	lua_pushcfunction(L, readonly_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

/* Make the table at `t` read-only over the contents on top (popped); reads
 * go to `index`: the contents themselves, or a function. */
static void seal(lua_State *L, int t, lua_CFunction index, lua_CFunction refuse)
{
	luaL_checkstack(L, 3, "read-only table");
	lua_createtable(L, 0, 6);
	if (index)
		lua_pushcfunction(L, index);
	else
		lua_pushvalue(L, -2);
	lua_setfield(L, -2, "__index");
	lua_insert(L, -2);
	lua_rawsetp(L, -2, &mark);
	lua_pushcfunction(L, refuse);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, readonly_len);
	lua_setfield(L, -2, "__len");
	lua_pushcfunction(L, readonly_pairs);
	lua_setfield(L, -2, "__pairs");
	lua_pushliteral(L, "read-only");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, t);
}

void crm__lua_readonly_view(lua_State *L)
{
	luaL_checkstack(L, 1, "read-only view");
	lua_newtable(L);
	lua_insert(L, -2);
	seal(L, lua_absindex(L, -2), NULL, library_newindex);
}

void crm__lua_readonly_proxy(lua_State *L, lua_CFunction index)
{
	luaL_checkstack(L, 2, "read-only table");
	lua_newtable(L);
	lua_newtable(L); /* no contents of its own: every read goes to `index` */
	seal(L, lua_absindex(L, -2), index, library_newindex);
}

static int is_readonly(lua_State *L, int t)
{
	int sealed = 0;

	if (lua_getmetatable(L, t)) {
		sealed = lua_rawgetp(L, -1, &mark) != LUA_TNIL;
		lua_pop(L, 2);
	}
	return sealed;
}

/* Push cache[key] from the registry's weak-keyed table `name`, making it. */
static int cached(lua_State *L, const char *name, int key)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, name) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_createtable(L, 0, 1);
		lua_pushliteral(L, "k"); /* an entry lives as long as its real table or function */
		lua_setfield(L, -2, "__mode");
		lua_setmetatable(L, -2);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, name);
	}
	lua_pushvalue(L, key);
	return lua_rawget(L, -2);
}

static int view_index(lua_State *L)
{
	crm__lua_push_contents(L, 1);
	real_key(L, 3, 2);
	lua_gettable(L, 3); /* the real table's own metatable (a class's __index) applies */
	crm__lua_export(L, -1);
	return 1;
}

/* A plugin function called from outside: what it returns is read-only too. */
static int call_exported(lua_State *L)
{
	int n = crm__lua_call_upvalue(L, LUA_MULTRET);

	for (int i = 1; i <= n; i++)
		crm__lua_export(L, i);
	return n;
}

void crm__lua_export(lua_State *L, int idx)
{
	int type = lua_type(L, idx);

	idx = lua_absindex(L, idx);
	if (!(type == LUA_TTABLE && !is_readonly(L, idx)) && !(type == LUA_TFUNCTION && !lua_iscfunction(L, idx)))
		return;
	luaL_checkstack(L, 4, "read-only view");
	if (cached(L, type == LUA_TTABLE ? "crm.views" : "crm.wrapped", idx) == LUA_TNIL) {
		lua_pop(L, 1);
		if (type == LUA_TTABLE) {
			lua_newtable(L);
			lua_pushvalue(L, idx);
			seal(L, lua_gettop(L) - 1, view_index, plugin_newindex);
		} else {
			lua_pushvalue(L, idx);
			lua_pushcclosure(L, call_exported, 1);
		}
		lua_pushvalue(L, idx);
		lua_pushvalue(L, -2);
		lua_rawset(L, -4);
	}
	lua_replace(L, idx);
	lua_pop(L, 1);
}
