/* The Lua sandbox (see script.h). The instruction budget is a count hook;
 * once it fires the state is marked killed, the hook fires on every later
 * instruction, the sandbox's pcall/xpcall re-raise and no script's message
 * handler runs again, so no script can catch its way past the budget.
 * Library loops in C charge the same budget (budget_lib.c). Memory is
 * capped in the allocator. */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "form/form_int.h"
#include "lpattern.h"
#include "plugin.h"
#include "script.h"

struct crm__script {
	lua_State *L;
	crm_db *db;
	size_t mem_used;
	size_t mem_limit;
	int depth;       /* nesting of crm__lua_call */
	int killed;      /* a budget ran out: unwind everything */
	char kill_msg[200]; /* where it ran out: the message, whatever the script raises after */
	int64_t budget;  /* instructions for the outermost call */
	int64_t work_left; /* iterations library loops in C may still run (crm__lua_charge) */
	int err_code;    /* code of a failing crm.* call, or 0 */
	int ceiling_hit; /* the last allocation refused was refused by the ceiling, not the host */
	int env_ref;     /* the shared read-only globals */
	int env_meta_ref; /* the metatable of every script's own globals: reads go to env_ref */
	crm__lpattern_budget pattern;
};

static crm__script *script_of(lua_State *L) { return *(crm__script **)lua_getextraspace(L); }

static void *lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	crm__script *s = ud;
	size_t old = ptr ? osize : 0;
	void *p;

	if (nsize == 0) {
		s->mem_used -= old;
		crm__free(ptr);
		return NULL;
	}
	/* The ceiling binds scripts: libcrm's own glue (records pushed for a
	 * script, compiled chunks) may go past it rather than fail. */
	if (nsize > old && s->depth > 0 && s->mem_used + (nsize - old) > s->mem_limit) {
		s->ceiling_hit = 1;
		return NULL;
	}
	if (!(p = crm__realloc(ptr, nsize))) {
		s->ceiling_hit = 0;
		return NULL;
	}
	s->mem_used = s->mem_used - old + nsize;
	return p;
}

/* "script:line:" of the innermost Lua code running from stack `level` up, or "". */
static void position(lua_State *L, int level, char *out, size_t size)
{
	lua_Debug ar;

	*out = 0;
	for (; lua_getstack(L, level, &ar); level++)
		if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
			snprintf(out, size, "%s:%d:", ar.short_src, ar.currentline);
			return;
		}
}

static void budget_hook(lua_State *L, lua_Debug *ar);

/* The budget ran out: stop the whole call. */
static int out_of_budget(lua_State *L)
{
	crm__script *s = script_of(L);
	char where[128];

	if (!s->killed) {
		position(L, 0, where, sizeof where);
		snprintf(s->kill_msg, sizeof s->kill_msg, "%s%sinstruction budget of %lld exceeded", where,
			 *where ? " " : "", (long long)s->budget);
	}
	s->killed = 1;
	/* From now on every instruction raises again, wherever it runs. */
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
	return luaL_error(L, "%s", s->kill_msg);
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	out_of_budget(L);
}

void crm__lua_charge(lua_State *L, lua_Integer steps)
{
	crm__script *s = script_of(L);

	if (steps > s->work_left) {
		s->work_left = 0;
		out_of_budget(L);
	}
	s->work_left -= steps;
}

/* The detail member that tells a script's memory ceiling from the host
 * running out of memory: both are CRM_ENOMEM. */
static const char ceiling_member[] = "\"limit\":\"lua_memory\"";

/* Report LUA_ERRMEM: the ceiling (the script's own failure) or the host's. */
static int memory_error(crm_db *db, crm__script *s, const char *msg)
{
	if (s->ceiling_hit)
		return crm__error_detail(db, CRM_ENOMEM, ceiling_member, "%s", msg ? msg : "not enough memory");
	return crm__error_oom(db);
}

int crm__lua_memory_ceiling(crm_db *db)
{
	return db->errcode == CRM_ENOMEM && strcmp(crm__buf_cstr(&db->errmembers), ceiling_member) == 0;
}

/* Message handler of the outermost call: once a budget ran out, its message
 * (an error handler of the script may have replaced it); otherwise give an
 * error raised inside C (a library function, a C stack overflow) or an
 * error object the script and line of the innermost Lua code running. */
static int add_position(lua_State *L)
{
	crm__script *s = script_of(L);
	const char *msg = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : NULL;
	char where[128];

	if (s->killed) {
		lua_pushstring(L, s->kill_msg);
		return 1;
	}
	position(L, 1, where, sizeof where);
	if (!msg)
		lua_pushfstring(L, "%s%sscript error (a %s as error object)", where, *where ? " " : "", luaL_typename(L, 1));
	else if (*where && strncmp(msg, where, strlen(where)) != 0)
		lua_pushfstring(L, "%s %s", where, msg);
	else
		lua_pushvalue(L, 1);
	return 1;
}

/* The script caught an error: a crm.* failure it handled must not decide
 * the outcome (code, detail) of a later, unrelated error or of success. */
static void forget_error(lua_State *L)
{
	crm__script *s = script_of(L);

	if (s->err_code) {
		s->err_code = 0;
		s->db->errcode = CRM_OK;
	}
}

static int sandbox_pcall(lua_State *L)
{
	int status;

	luaL_checkany(L, 1);
	status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
	if (script_of(L)->killed)
		return lua_error(L);
	if (status != LUA_OK)
		forget_error(L);
	luaL_checkstack(L, 1, "pcall"); /* results may fill the stack */
	lua_pushboolean(L, status == LUA_OK);
	lua_insert(L, 1);
	return lua_gettop(L);
}

/* A script's message handler, run only while the budget lasts. The stop is
 * raised from the count hook, where Lua runs no hooks: a handler run then
 * (it runs before the stack unwinds) would be beyond the budget's reach. */
static int guarded_handler(lua_State *L)
{
	crm__script *s = script_of(L);

	if (s->killed) {
		lua_pushstring(L, s->kill_msg);
		return 1;
	}
	return crm__lua_call_upvalue(L, 1);
}

int crm__lua_call_upvalue(lua_State *L, int nresults)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, nresults);
	return lua_gettop(L);
}

static int sandbox_xpcall(lua_State *L)
{
	int n = lua_gettop(L), status;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 2);
	lua_pushcclosure(L, guarded_handler, 1);
	lua_replace(L, 2);
	lua_pushvalue(L, 1);
	lua_insert(L, 3); /* f, msgh, f, args... */
	status = lua_pcall(L, n - 2, LUA_MULTRET, 2);
	if (script_of(L)->killed)
		return lua_error(L);
	if (status != LUA_OK)
		forget_error(L);
	luaL_checkstack(L, 1, "xpcall");
	lua_pushboolean(L, status == LUA_OK);
	lua_replace(L, 1);
	lua_remove(L, 2);
	return lua_gettop(L);
}

/* Finalizers would run outside any budget, at garbage-collection time. */
static int sandbox_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
		return luaL_error(L, "__gc metamethods are not allowed in the sandbox");
	lua_settop(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1)); /* the real setmetatable */
	lua_insert(L, 1);
	lua_call(L, 2, 1);
	return 1;
}

/* __index of `plugins`: a read-only view of the plugin's table, at every depth. */
static int plugins_index(lua_State *L)
{
	crm__script *s = script_of(L);
	const char *name = luaL_checkstring(L, 2);
	int rc;

	if ((rc = crm__plugin_table(s->db, name)) != CRM_OK) {
		s->err_code = rc;
		return luaL_error(L, "%s", crm_errmsg(s->db));
	}
	crm__lua_export(L, -1);
	return 1;
}

static const char *const base_names[] = { "assert", "error",  "ipairs", "next",     "pairs",  "rawequal",
					  "rawget", "rawlen", "select", "tonumber", "tostring", "type",
					  "getmetatable", "_VERSION", NULL };

static int build_env(lua_State *L, crm__script *s)
{
	static const struct {
		const char *name;
		lua_CFunction open;
	} libs[] = { { "string", luaopen_string }, { "table", luaopen_table }, { "math", luaopen_math },
		     { "utf8", luaopen_utf8 } };

	luaL_requiref(L, "_G", luaopen_base, 1);
	lua_pop(L, 1);
	lua_newtable(L); /* env */
	for (const char *const *n = base_names; *n; n++) {
		lua_getglobal(L, *n);
		lua_setfield(L, -2, *n);
	}
	lua_pushcfunction(L, sandbox_pcall);
	lua_setfield(L, -2, "pcall");
	lua_pushcfunction(L, sandbox_xpcall);
	lua_setfield(L, -2, "xpcall");
	lua_getglobal(L, "setmetatable");
	lua_pushcclosure(L, sandbox_setmetatable, 1);
	lua_setfield(L, -2, "setmetatable");
	for (size_t i = 0; i < sizeof libs / sizeof *libs; i++) {
		luaL_requiref(L, libs[i].name, libs[i].open, 0);
		if (strcmp(libs[i].name, "string") == 0) {
			lua_pushnil(L);
			lua_setfield(L, -2, "dump"); /* binary chunks can crash the interpreter */
			crm__lpattern_install(L, lua_gettop(L), &s->pattern);
			crm__lua_budget_string(L, -1);
		} else if (strcmp(libs[i].name, "table") == 0)
			crm__lua_budget_table(L, -1);
		/* Libraries hold functions, numbers and strings only: a view of the top level is read-only throughout. */
		crm__lua_readonly_view(L);
		lua_setfield(L, -2, libs[i].name);
	}
	/* plugins.NAME: a plugin's function table, loaded on first use. */
	crm__lua_readonly_proxy(L, plugins_index);
	lua_setfield(L, -2, "plugins");
	crm__lua_open_crm(L);
	lua_getfield(L, -1, "log");
	lua_setfield(L, -3, "print");
	crm__lua_readonly_view(L);
	lua_setfield(L, -2, "crm");
	/* Strings' metatable gives methods (s:upper()) but cannot be fetched. */
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_pushliteral(L, "read-only");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 2);
	crm__lua_readonly_view(L);
	/* Every script's own globals read through to these; the metatable is
	 * shared, so it is protected. */
	lua_createtable(L, 0, 2);
	lua_pushvalue(L, -2);
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "read-only");
	lua_setfield(L, -2, "__metatable");
	s->env_meta_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	s->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	/* Nothing but the sandbox env is reachable from scripts: empty the real globals. */
	lua_pushglobaltable(L);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		lua_pushvalue(L, -1);
		lua_pushnil(L);
		lua_rawset(L, -4);
	}
	lua_pop(L, 1);
	return 0;
}

static int protected_build(lua_State *L)
{
	build_env(L, lua_touserdata(L, 1));
	return 0;
}

static void script_free(void *p)
{
	crm__script *s = p;

	if (s->L)
		lua_close(s->L);
	crm__free(s);
}

static int flush_plugins(lua_State *L, void *ud)
{
	(void)ud;
	crm__plugin_flush(L);
	return CRM_OK;
}

static void script_flush(void *p)
{
	crm__script *s = p;

	crm__lua_protect(s->db, flush_plugins, NULL);
}

lua_State *crm__lua(crm_db *db)
{
	crm__script *s = db->ext[CRM__EXT_SCRIPT];

	if (s)
		return s->L;
	if (!(s = crm__calloc(1, sizeof *s))) {
		crm__error_oom(db);
		return NULL;
	}
	s->db = db;
	s->mem_limit = (size_t)db->limits[CRM_LIMIT_LUA_MEMORY];
	if (!(s->L = lua_newstate(lua_alloc, s))) {
		crm__free(s);
		crm__error_oom(db);
		return NULL;
	}
	*(crm__script **)lua_getextraspace(s->L) = s;
	lua_pushcfunction(s->L, protected_build);
	lua_pushlightuserdata(s->L, s);
	if (lua_pcall(s->L, 1, 0, 0) != LUA_OK) {
		crm__error(db, CRM_ENOMEM, "cannot set up the Lua sandbox: %s", lua_tostring(s->L, -1));
		script_free(s);
		return NULL;
	}
	db->ext[CRM__EXT_SCRIPT] = s;
	db->ext_free[CRM__EXT_SCRIPT] = script_free;
	db->ext_flush[CRM__EXT_SCRIPT] = script_flush;
	if (crm__hooks.sandbox_ready && crm__hooks.sandbox_ready(db) != CRM_OK)
		return NULL;
	return s->L;
}

crm_db *crm__lua_db(lua_State *L) { return script_of(L)->db; }

void crm__lua_fail_code(lua_State *L, int code) { script_of(L)->err_code = code; }

int crm__lua_compile(crm_db *db, const char *name, const char *src, int expression)
{
	lua_State *L = crm__lua(db);
	crm__buf text = CRM__BUF_INIT;
	char chunkname[80];
	int status;

	if (!L)
		return db->errcode;
	if (expression) {
		/* The newline lets a trailing "-- comment" end the expression,
		 * but Lua then places errors of the last line's tail on the
		 * line of ")": add it only when there may be a comment. */
		crm__buf_puts(&text, "return (");
		crm__buf_puts(&text, src);
		crm__buf_puts(&text, strstr(src, "--") ? "\n)" : ")");
	} else
		crm__buf_puts(&text, src);
	if (text.oom)
		return crm__error_oom(db);
	snprintf(chunkname, sizeof chunkname, "=%s", name);
	status = luaL_loadbufferx(L, text.p, text.len, chunkname, "t");
	crm__buf_free(&text);
	/* An "expression" may also be written as statements with a return
	 * ("return record.a .. record.b"): accept that form too, and when
	 * neither compiles report the expression's error. */
	if (status == LUA_ERRSYNTAX && expression) {
		if (luaL_loadbufferx(L, src, strlen(src), chunkname, "t") == LUA_OK) {
			lua_remove(L, -2);
			status = LUA_OK;
		} else
			lua_pop(L, 1);
	}
	if (status != LUA_OK) {
		int rc = crm__error(db, status == LUA_ERRMEM ? CRM_ENOMEM : CRM_ESCRIPT, "%s", lua_tostring(L, -1));
		lua_pop(L, 1);
		return rc;
	}
	crm__lua_push_globals(L);
	lua_setupvalue(L, -2, 1);
	return CRM_OK;
}

void crm__lua_push_globals(lua_State *L)
{
	lua_newtable(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, script_of(L)->env_meta_ref);
	lua_setmetatable(L, -2);
}

int crm__lua_call_chunk(crm_db *db, int nresults)
{
	lua_State *L = crm__lua(db);
	int chunk, rc;

	if (!L)
		return db->errcode;
	chunk = lua_gettop(L) - 1;
	/* old chunk globals -> old chunk (with the new globals) chunk */
	lua_getupvalue(L, chunk, 1);
	lua_insert(L, chunk);
	lua_setupvalue(L, chunk + 1, 1);
	lua_pushvalue(L, chunk + 1);
	rc = crm__lua_call(db, 0, nresults);
	/* A run of the same chunk nested in this one (a computed field whose
	 * crm.create writes its own form) put in its globals: the outer run's
	 * come back for whatever of the outer run is still to come. */
	lua_pushvalue(L, chunk);
	lua_setupvalue(L, chunk + 1, 1);
	lua_remove(L, chunk);
	lua_remove(L, chunk);
	return rc;
}

int crm__lua_call(crm_db *db, int nargs, int nresults)
{
	lua_State *L = crm__lua(db);
	crm__script *s;
	int status, base, rc = CRM_OK;

	if (!L)
		return db->errcode;
	s = script_of(L);
	if (s->depth++ == 0) {
		s->killed = 0;
		s->err_code = 0;
		s->budget = db->limits[CRM_LIMIT_LUA_INSTRUCTIONS];
		s->work_left = s->budget;
		s->mem_limit = (size_t)db->limits[CRM_LIMIT_LUA_MEMORY];
		s->pattern.steps_left = s->budget * 10;
		lua_sethook(L, budget_hook, LUA_MASKCOUNT, (int)(s->budget > INT32_MAX ? INT32_MAX : s->budget));
	}
	base = lua_gettop(L) - nargs; /* the function's slot: the handler goes there */
	lua_pushcfunction(L, add_position);
	lua_insert(L, base);
	status = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	if (status != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		if (s->killed || s->pattern.steps_left <= 0)
			rc = CRM_ELIMIT;
		else if (status == LUA_ERRMEM)
			rc = CRM_ENOMEM;
		else
			rc = s->err_code ? s->err_code : CRM_ESCRIPT;
		/* A crm.* failure already set the handle's error and detail: keep
		 * the detail, take Lua's message (it names the script and line). */
		if (s->err_code && rc == s->err_code && db->errcode == rc)
			crm__error_remessage(db, msg ? msg : crm_errmsg(db));
		else if (rc == CRM_ENOMEM)
			memory_error(db, s, msg);
		else
			crm__error(db, rc, "%s", msg ? msg : "script error (an error object that is not a string)");
		lua_pop(L, 1);
	}
	if (--s->depth == 0) {
		lua_sethook(L, NULL, 0, 0);
		if (s->killed || s->mem_used > s->mem_limit / 2)
			lua_gc(L, LUA_GCCOLLECT);
	}
	return rc;
}

typedef struct protected_call {
	int (*fn)(lua_State *L, void *ud);
	void *ud;
	int rc;
} protected_call;

static int trampoline(lua_State *L)
{
	protected_call *p = lua_touserdata(L, 1);

	lua_pop(L, 1);
	p->rc = p->fn(L, p->ud);
	return 0;
}

int crm__lua_protect(crm_db *db, int (*fn)(lua_State *L, void *ud), void *ud)
{
	lua_State *L = crm__lua(db);
	protected_call p = { fn, ud, CRM_OK };
	int top, status, rc, saved;

	if (!L)
		return db->errcode;
	top = lua_gettop(L);
	saved = script_of(L)->err_code; /* an enclosing script's, restored below */
	script_of(L)->err_code = 0;
	/* Neither push allocates: a light C function and a light userdata. */
	lua_pushcfunction(L, trampoline);
	lua_pushlightuserdata(L, &p);
	status = lua_pcall(L, 1, 0, 0);
	if (status == LUA_OK)
		rc = p.rc;
	else if (status == LUA_ERRMEM || script_of(L)->err_code == CRM_ENOMEM) /* re-raised as a plain error */
		rc = memory_error(db, script_of(L), NULL);
	else /* scripts run under crm__lua_call: only the glue can fail here */
		rc = crm__error(db, CRM_ESCRIPT, "%s",
				lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "Lua error in libcrm's glue");
	script_of(L)->err_code = saved;
	lua_settop(L, top);
	return rc;
}

int crm__lua_ref(lua_State *L) { return luaL_ref(L, LUA_REGISTRYINDEX); }
void crm__lua_unref(lua_State *L, int ref) { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
void crm__lua_push_ref(lua_State *L, int ref) { lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }
