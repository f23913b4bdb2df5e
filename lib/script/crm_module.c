/* The `crm` Lua module: what scripts may do to the world. Every call goes
 * through the public API, so scripts get the same validation, transactions
 * and errors as any host; a failing call raises a Lua error carrying the
 * API's code, which (uncaught) fails the operation that ran the script. */
#include <cJSON.h>
#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/codec.h"
#include "core/json_parse.h"
#include "crm/query.h"
#include "event/event.h"
#include "script.h"

#define FIND_DEFAULT_LIMIT 100
#define FIND_MAX_LIMIT 1000


/* Raise the handle's last error as a Lua error, remembering its code. */
static int raise_api_error(lua_State *L, int code)
{
	/* The call's JSON was built from the script's tables: an offset into
	 * it means nothing to the host. */
	crm__lua_db(L)->erroffset = -1;
	crm__lua_fail_code(L, code);
	return luaL_error(L, "%s", crm_errmsg(crm__lua_db(L)));
}

/* A form or event name: U+0000 would end it early in C, so it is refused
 * (docs/decisions.md). */
static const char *name_arg(lua_State *L, int idx)
{
	size_t n;
	const char *s = luaL_checklstring(L, idx, &n);

	if (memchr(s, 0, n)) {
		crm__error(crm__lua_db(L), CRM_EINVAL, "bad argument #%d: a name cannot contain U+0000 (\\0)", idx);
		raise_api_error(L, CRM_EINVAL);
	}
	return s;
}

/* ---- JSON <-> Lua ---- */

void crm__lua_push_json_number(lua_State *L, double d)
{
	/* The range first: converting a double outside it (1e48, NaN) to an
	 * integer is undefined behaviour. */
	if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(lua_Integer)d)
		lua_pushinteger(L, (lua_Integer)d);
	else
		lua_pushnumber(L, d);
}

/* Nesting needs no bound of its own here: cJSON parses no deeper than
 * CJSON_NESTING_LIMIT, and each level makes room on the Lua stack. */
static void push_cjson(lua_State *L, const cJSON *j)
{
	luaL_checkstack(L, 3, "JSON too deep");
	if (cJSON_IsTrue(j) || cJSON_IsFalse(j))
		lua_pushboolean(L, cJSON_IsTrue(j));
	else if (cJSON_IsNumber(j))
		crm__lua_push_json_number(L, j->valuedouble);
	else if (cJSON_IsString(j))
		lua_pushstring(L, j->valuestring);
	else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
		const cJSON *c;
		lua_Integer i = 1;
		lua_newtable(L);
		cJSON_ArrayForEach(c, j)
		{
			push_cjson(L, c);
			if (cJSON_IsArray(j))
				lua_rawseti(L, -2, i++);
			else
				lua_setfield(L, -2, c->string);
		}
	} else
		lua_pushnil(L);
}

static int push_tree(lua_State *L)
{
	push_cjson(L, lua_touserdata(L, 1));
	return 1;
}

/* A stored JSON value as a Lua value (nil for text that is not JSON). Lua
 * running out of memory half-way raises: the tree is pushed in a protected
 * call so it is freed either way, and the error goes on as CRM_ENOMEM. */
static void push_json_text(lua_State *L, const char *s, size_t n)
{
	cJSON *j;
	int status;

	luaL_checkstack(L, 3, "JSON value");
	if (!(j = cJSON_ParseWithLength(s, n))) {
		if (!crm__json_valid(s, n)) {
			lua_pushnil(L);
			return;
		}
		crm__lua_fail_code(L, CRM_ENOMEM);
		luaL_error(L, "out of memory");
	}
	lua_pushcfunction(L, push_tree);
	lua_pushlightuserdata(L, j);
	status = lua_pcall(L, 1, 1, 0);
	cJSON_Delete(j);
	if (status != LUA_OK) {
		if (status == LUA_ERRMEM)
			crm__lua_fail_code(L, CRM_ENOMEM);
		lua_error(L);
	}
}

typedef struct json_walk {
	crm__buf *out;
	int max_depth;
	char *why;
} json_walk;

/* The tables being written, innermost first: a cycle leads back to one. */
typedef struct json_parent {
	const void *table;
	const struct json_parent *up;
} json_parent;

static int refuse(json_walk *w, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(json_walk *w, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->why, CRM__LUA_WHY, fmt, ap);
	va_end(ap);
	return code;
}

static int to_json(lua_State *L, int idx, json_walk *w, const json_parent *up, int depth, int as_object);

static int table_to_json(lua_State *L, int t, json_walk *w, const json_parent *up, int depth, int as_object)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, t), count = 0;
	json_parent self = { lua_topointer(L, t), up };
	crm__buf *out = w->out;
	int first = 1, rc;

	for (const json_parent *p = up; p; p = p->up)
		if (p->table == self.table)
			return refuse(w, CRM_ESCRIPT, "a table that contains itself");
	lua_pushnil(L);
	while (lua_next(L, t)) {
		count++;
		lua_pop(L, 1);
	}
	if (!as_object && count == n) { /* a sequence (an empty table is an empty array) */
		crm__buf_putc(out, '[');
		for (lua_Integer i = 1; i <= n; i++) {
			if (i > 1)
				crm__buf_putc(out, ',');
			lua_rawgeti(L, t, i);
			rc = to_json(L, -1, w, &self, depth, 0);
			lua_pop(L, 1);
			if (rc)
				return rc;
		}
		crm__buf_putc(out, ']');
		return CRM_OK;
	}
	crm__buf_putc(out, '{');
	lua_pushnil(L);
	while (lua_next(L, t)) {
		size_t kn;
		const char *k;
		if (lua_type(L, -2) != LUA_TSTRING) {
			const char *type = luaL_typename(L, -2); /* a static name: it outlives the pop */
			lua_pop(L, 2);
			return refuse(w, CRM_ESCRIPT, "a %s key outside a sequence", type);
		}
		k = lua_tolstring(L, -2, &kn);
		if (!first)
			crm__buf_putc(out, ',');
		first = 0;
		crm__json_str(out, k, kn);
		crm__buf_putc(out, ':');
		if ((rc = to_json(L, -1, w, &self, depth, 0)))
			return lua_pop(L, 2), rc;
		lua_pop(L, 1);
	}
	crm__buf_putc(out, '}');
	return CRM_OK;
}

static int to_json(lua_State *L, int idx, json_walk *w, const json_parent *up, int depth, int as_object)
{
	idx = lua_absindex(L, idx);
	switch (lua_type(L, idx)) {
	case LUA_TNIL: crm__buf_puts(w->out, "null"); return CRM_OK;
	case LUA_TLIGHTUSERDATA:
		/* crm.null: a member that must be written as null (nil members vanish). */
		if (lua_touserdata(L, idx) != (void *)&crm__lua_null)
			break;
		crm__buf_puts(w->out, "null");
		return CRM_OK;
	case LUA_TBOOLEAN: crm__buf_puts(w->out, lua_toboolean(L, idx) ? "true" : "false"); return CRM_OK;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			crm__buf_i64(w->out, (int64_t)lua_tointeger(L, idx));
		else {
			double d = lua_tonumber(L, idx);
			if (d != d || d - d != 0)
				return refuse(w, CRM_ESCRIPT, "NaN or an infinity");
			/* 15 significant digits: what a double holds of a decimal,
			 * so 0.1 + 0.2 is written 0.3. */
			crm__buf_printf(w->out, "%.15g", d);
		}
		return CRM_OK;
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		crm__json_str(w->out, s, n);
		return CRM_OK;
	}
	case LUA_TTABLE: {
		int rc;
		if (depth >= w->max_depth)
			return refuse(w, CRM_ELIMIT, "a table nests deeper than %d levels (CRM_LIMIT_JSON_DEPTH)",
				      w->max_depth);
		/* Room for the contents, a key and a value at every level. */
		luaL_checkstack(L, 4, "JSON");
		crm__lua_push_contents(L, idx);
		rc = table_to_json(L, lua_gettop(L), w, up, depth + 1, as_object);
		lua_pop(L, 1);
		return rc;
	}
	default: break;
	}
	return refuse(w, CRM_ESCRIPT, "a %s", luaL_typename(L, idx));
}

static int to_json_top(lua_State *L, int idx, crm__buf *out, char *why, int as_object)
{
	int64_t limit = crm__lua_db(L)->limits[CRM_LIMIT_JSON_DEPTH];
	/* Never deeper than cJSON reads back (push_cjson). */
	json_walk w = { out, limit < CJSON_NESTING_LIMIT ? (int)limit : CJSON_NESTING_LIMIT, why };

	return to_json(L, idx, &w, NULL, 0, as_object);
}

int crm__lua_to_json(lua_State *L, int idx, crm__buf *out, char *why) { return to_json_top(L, idx, out, why, 0); }

/* Inside a crm.* function: the table argument at `idx` as JSON object text
 * in `out`, or raise "what: why" (with CRM_ELIMIT for depth, else a script error). */
static void table_arg(lua_State *L, int idx, crm__buf *out, const char *what)
{
	char why[CRM__LUA_WHY];
	int rc;

	luaL_checktype(L, idx, LUA_TTABLE);
	rc = to_json_top(L, idx, out, why, 1);
	if (rc == CRM_OK && !out->oom)
		return;
	crm__buf_free(out);
	if (rc == CRM_OK) {
		crm__lua_fail_code(L, crm__error_oom(crm__lua_db(L)));
		luaL_error(L, "%s: out of memory", what);
	}
	if (rc == CRM_ELIMIT)
		crm__lua_fail_code(L, rc);
	luaL_error(L, "%s: %s", what, why);
}

/* ---- records ---- */

void crm__lua_push_value(lua_State *L, crm_type type, int scale, const crm__value *v)
{
	char tmp[32];

	switch (type) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_REF: lua_pushinteger(L, (lua_Integer)v->i); return;
	case CRM_TYPE_BOOLEAN: lua_pushboolean(L, v->i != 0); return;
	case CRM_TYPE_DECIMAL: {
		double d = (double)v->i;
		for (int i = 0; i < scale; i++)
			d /= 10;
		if (scale == 0)
			lua_pushinteger(L, (lua_Integer)v->i);
		else
			lua_pushnumber(L, d);
		return;
	}
	case CRM_TYPE_NUMBER: lua_pushnumber(L, v->kind == CRM__V_REAL ? v->d : (double)v->i); return;
	case CRM_TYPE_DATETIME: lua_pushlstring(L, tmp, crm__datetime_format(v->i, tmp)); return;
	case CRM_TYPE_MULTI_ENUM:
	case CRM_TYPE_JSON: push_json_text(L, v->s, v->n); return;
	default: lua_pushlstring(L, v->s, v->n);
	}
}

void crm__lua_push_record(lua_State *L, const crm__form *form, const crm__value *values, const crm__value *sys)
{
	luaL_checkstack(L, 4, "record");
	lua_createtable(L, 0, form->nfields + 5);
	for (int i = 0; i < form->nfields; i++) {
		const crm__field *f = &form->fields[i];
		if (values[i].kind == CRM__V_NULL)
			continue;
		crm__lua_push_value(L, f->value_type, f->scale, &values[i]);
		lua_setfield(L, -2, f->name);
	}
	if (!sys)
		return;
	for (int k = 0; k < 5; k++) {
		crm_type t = k == 0 || k == 4 ? CRM_TYPE_INTEGER : k == 3 ? CRM_TYPE_TEXT : CRM_TYPE_DATETIME;
		if (sys[k].kind == CRM__V_NULL)
			continue;
		crm__lua_push_value(L, t, 0, &sys[k]);
		lua_setfield(L, -2, crm__system_columns[k]);
	}
}

void crm__lua_push_changed(lua_State *L, const crm__form *form, const crm__value *old, const crm__value *now)
{
	luaL_checkstack(L, 3, "record");
	lua_newtable(L);
	for (int i = 0; i < form->nfields; i++) {
		const crm__value *a = &old[i], *b = &now[i];
		if (a->kind != b->kind || (a->kind != CRM__V_NULL && crm__value_compare(a, b) != 0)) {
			lua_pushboolean(L, 1);
			lua_setfield(L, -2, form->fields[i].name);
		}
	}
}

/* Push the current row of a cursor as a table (columns by their types). */
static void push_cursor_row(lua_State *L, crm_cursor *cur)
{
	int n = crm_cursor_column_count(cur);

	lua_createtable(L, 0, n);
	for (int i = 0; i < n; i++) {
		int type = crm_cursor_column_type(cur, i);
		const char *name = crm_cursor_column_name(cur, i);
		const char *text;

		if (crm_cursor_is_null(cur, i))
			continue;
		switch (type) {
		case CRM_TYPE_INTEGER:
		case CRM_TYPE_REF: lua_pushinteger(L, (lua_Integer)crm_cursor_int64(cur, i)); break;
		case CRM_TYPE_BOOLEAN: lua_pushboolean(L, crm_cursor_int64(cur, i) != 0); break;
		case CRM_TYPE_NUMBER:
		case CRM_TYPE_DECIMAL: lua_pushnumber(L, crm_cursor_double(cur, i)); break;
		case CRM_TYPE_MULTI_ENUM:
		case CRM_TYPE_JSON:
			text = crm_cursor_text(cur, i);
			push_json_text(L, text, strlen(text));
			break;
		default: lua_pushstring(L, crm_cursor_text(cur, i));
		}
		lua_setfield(L, -2, name);
	}
}

/* crm.find(form, query) -> array of records; query as a table or JSON text. */
static int l_find(lua_State *L)
{
	crm_db *db = crm__lua_db(L);
	const char *form = name_arg(L, 1);
	crm__buf query = CRM__BUF_INIT;
	crm_cursor *cur = NULL;
	lua_Integer limit = FIND_DEFAULT_LIMIT, n = 0;
	int rc;

	if (lua_istable(L, 2)) {
		lua_getfield(L, 2, "limit");
		if (lua_isinteger(L, -1))
			limit = lua_tointeger(L, -1);
		lua_pop(L, 1);
		if (limit < 0 || limit > FIND_MAX_LIMIT)
			return luaL_error(L, "crm.find: limit must be 0 to %d", FIND_MAX_LIMIT);
		/* The query with that limit, in a copy: the script's table (maybe read-only) stays as it was. */
		crm__lua_push_contents(L, 2);
		lua_newtable(L);
		lua_pushnil(L);
		while (lua_next(L, -3)) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, -4);
		}
		lua_pushinteger(L, limit);
		lua_setfield(L, -2, "limit");
		table_arg(L, lua_gettop(L), &query, "crm.find: the query cannot be written as JSON");
		lua_pop(L, 2);
	} else if (!lua_isnoneornil(L, 2))
		return luaL_error(L, "crm.find: the query must be a table");
	else
		crm__buf_printf(&query, "{\"limit\":%d}", FIND_DEFAULT_LIMIT);
	rc = crm_query(&cur, db, form, crm__buf_cstr(&query));
	crm__buf_free(&query);
	if (rc)
		return raise_api_error(L, rc);
	lua_newtable(L);
	while ((rc = crm_cursor_next(cur)) == CRM_ROW) {
		push_cursor_row(L, cur);
		lua_rawseti(L, -2, ++n);
	}
	crm_cursor_free(cur);
	if (rc != CRM_DONE)
		return raise_api_error(L, rc);
	return 1;
}

/* crm.get(form, id) -> record or nil */
static int l_get(lua_State *L)
{
	crm_db *db = crm__lua_db(L);
	const char *form = name_arg(L, 1);
	char filter[96];
	crm_cursor *cur = NULL;
	int rc;

	snprintf(filter, sizeof filter, "{\"filter\":{\"field\":\"id\",\"op\":\"eq\",\"value\":%lld}}",
		 (long long)luaL_checkinteger(L, 2));
	if ((rc = crm_query(&cur, db, form, filter)))
		return raise_api_error(L, rc);
	rc = crm_cursor_next(cur);
	if (rc == CRM_ROW)
		push_cursor_row(L, cur);
	else
		lua_pushnil(L);
	crm_cursor_free(cur);
	if (rc != CRM_ROW && rc != CRM_DONE)
		return raise_api_error(L, rc);
	return 1;
}

/* crm.create(form, fields) -> id */
static int l_create(lua_State *L)
{
	crm_db *db = crm__lua_db(L);
	const char *form = name_arg(L, 1);
	crm__buf json = CRM__BUF_INIT;
	int64_t id = 0;
	int rc;

	table_arg(L, 2, &json, "crm.create: the record cannot be written as JSON");
	rc = crm_record_insert(db, form, crm__buf_cstr(&json), &id);
	crm__buf_free(&json);
	if (rc)
		return raise_api_error(L, rc);
	lua_pushinteger(L, (lua_Integer)id);
	return 1;
}

/* crm.update(form, id, fields [, expected_version]) -> true */
static int l_update(lua_State *L)
{
	crm_db *db = crm__lua_db(L);
	const char *form = name_arg(L, 1);
	lua_Integer id = luaL_checkinteger(L, 2), version = luaL_optinteger(L, 4, 0);
	crm__buf json = CRM__BUF_INIT;
	int rc;

	table_arg(L, 3, &json, "crm.update: the record cannot be written as JSON");
	rc = crm_record_update(db, form, (int64_t)id, crm__buf_cstr(&json), (int64_t)version);
	crm__buf_free(&json);
	if (rc)
		return raise_api_error(L, rc);
	lua_pushboolean(L, 1);
	return 1;
}

/* crm.delete(form, id) -> true */
static int l_delete(lua_State *L)
{
	int rc = crm_record_delete(crm__lua_db(L), name_arg(L, 1), (int64_t)luaL_checkinteger(L, 2), 0);

	if (rc)
		return raise_api_error(L, rc);
	lua_pushboolean(L, 1);
	return 1;
}

/* crm.emit(type [, payload [, form, id]]) -> event id */
static int l_emit(lua_State *L)
{
	crm_db *db = crm__lua_db(L);
	const char *type = name_arg(L, 1);
	const char *form = lua_isnoneornil(L, 3) ? NULL : name_arg(L, 3);
	lua_Integer record = luaL_optinteger(L, 4, 0);
	crm__buf payload = CRM__BUF_INIT;
	int64_t id = 0;
	int rc;

	/* libcrm's own names: a script cannot forge a record change. */
	if (strncmp(type, "crm.", 4) == 0)
		return luaL_error(L, "crm.emit: event names starting with 'crm.' are libcrm's own, not '%s'", type);
	if (!lua_isnoneornil(L, 2))
		table_arg(L, 2, &payload, "crm.emit: the payload cannot be written as JSON");
	rc = crm__event_emit(db, type, form, (int64_t)record, 0, payload.len ? crm__buf_cstr(&payload) : NULL, &id);
	crm__buf_free(&payload);
	if (rc)
		return raise_api_error(L, rc);
	lua_pushinteger(L, (lua_Integer)id);
	return 1;
}

static int l_now(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)crm_now(crm__lua_db(L)));
	return 1;
}

/* crm.iso(ms) -> "YYYY-MM-DDTHH:MM:SS.mmmZ"; crm.time(iso) -> ms */
static int l_iso(lua_State *L)
{
	char tmp[32];

	lua_pushlstring(L, tmp, crm__datetime_format((int64_t)luaL_checkinteger(L, 1), tmp));
	return 1;
}

static int l_time(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	int64_t ms;

	if (crm__datetime_parse(s, n, &ms))
		return luaL_error(L, "crm.time: '%s' is not an ISO 8601 date-time with a zone", s);
	lua_pushinteger(L, (lua_Integer)ms);
	return 1;
}

/* crm.log(...) and print(...): joined with tabs, to the host's logger. */
static int l_log(lua_State *L)
{
	crm_db *db = crm__lua_db(L);
	luaL_Buffer b;
	lua_Debug ar;
	char source[96] = "lua";
	int n = lua_gettop(L);

	if (!db->log_fn)
		return 0;
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar))
		snprintf(source, sizeof source, "%s:%d", ar.short_src, ar.currentline);
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	db->log_fn(db->log_payload, CRM_LOG_INFO, source, lua_tostring(L, -1));
	return 0;
}

/* crm.actor() -> {user = ..., roles = {...}} */
static int l_actor(lua_State *L)
{
	crm_db *db = crm__lua_db(L);
	lua_Integer i = 0;

	lua_newtable(L);
	if (db->actor_user) {
		lua_pushstring(L, db->actor_user);
		lua_setfield(L, -2, "user");
	}
	lua_newtable(L);
	for (const char *p = db->actor_roles; p && *p;) {
		size_t len = strcspn(p, ",");
		if (len) {
			lua_pushlstring(L, p, len);
			lua_rawseti(L, -2, ++i);
		}
		p += len + (p[len] == ',');
	}
	lua_setfield(L, -2, "roles");
	return 1;
}

static const luaL_Reg crm_functions[] = {
	{ "find", l_find },   { "get", l_get }, { "create", l_create }, { "update", l_update },
	{ "delete", l_delete }, { "emit", l_emit }, { "now", l_now }, { "iso", l_iso },
	{ "time", l_time },   { "log", l_log }, { "actor", l_actor },   { NULL, NULL },
};

const char crm__lua_null = 0;

void crm__lua_open_crm(lua_State *L)
{
	luaL_newlib(L, crm_functions);
	lua_pushlightuserdata(L, (void *)&crm__lua_null);
	lua_setfield(L, -2, "null");
	/* Engines above add their functions later (crm__lua_register). */
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, "crm.module");
}

typedef struct registration {
	const char *name;
	lua_CFunction fn;
} registration;

static int do_register(lua_State *L, void *ud)
{
	const registration *r = ud;

	lua_getfield(L, LUA_REGISTRYINDEX, "crm.module");
	lua_pushcfunction(L, r->fn);
	lua_setfield(L, -2, r->name);
	return CRM_OK;
}

int crm__lua_register(crm_db *db, const char *name, lua_CFunction fn)
{
	registration r = { name, fn };

	return crm__lua_protect(db, do_register, &r);
}
