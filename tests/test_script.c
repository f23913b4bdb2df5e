/* The Lua sandbox under attack, and computed fields.
 *
 * Every hostile script first writes a record, then misbehaves: it must stop
 * with a clear error (CRM_ELIMIT for budgets, CRM_ESCRIPT for what the
 * sandbox refuses, CRM_ENOMEM for memory) naming the script and line, and
 * the record written before the error must be gone. Each script runs four
 * ways: through the internal API (crm__lua_compile + crm__lua_call inside a
 * transaction, as the engines call it) and through the public paths a plugin
 * author uses: a workflow `lua` action, a plugin function called by a
 * workflow, and a computed field. No timing is asserted: the instruction
 * budget is lowered and the budget error checked instead. */
#include <cJSON.h>
#include <lua.h>

#include "core/db_int.h"
#include "helpers.h"
#include "script/script.h"
#include "test.h"

#define BUDGET 100000

/* ---- the hostile list ---- */

static const struct hostile {
	const char *what;
	const char *src; /* statements; runs after writing a note */
	int code;
	const char *message; /* part of the error message */
	int line;            /* the message names "<script>:<line>:" (0: no position expected) */
} hostile[] = {
	{ "endless loop", "while true do end", CRM_ELIMIT, "instruction budget of 100000 exceeded", 1 },
	{ "pcall around an endless loop", "while true do pcall(function() while true do end end) end", CRM_ELIMIT,
	  "instruction budget", 1 },
	{ "xpcall around an endless loop",
	  "while true do xpcall(function() while true do end end, function(e) return e end) end", CRM_ELIMIT,
	  "instruction budget", 1 },
	{ "catching error objects forever", "while true do pcall(error, {}) end", CRM_ELIMIT, "instruction budget", 1 },
	{ "catching error objects with xpcall",
	  "while true do xpcall(error, function(e) return setmetatable({}, {__index = e}) end, {code = 1}) end", CRM_ELIMIT,
	  "instruction budget", 1 },
	{ "an error object", "error({code = 42})", CRM_ESCRIPT, "script error (a table as error object)", 1 },
	{ "backtracking pattern", "return string.find(('a'):rep(100), '.-.-.-.-.-.-b')", CRM_ELIMIT,
	  "pattern matching budget exceeded", 1 },
	{ "backtracking pattern as a method", "return (('a'):rep(100)):match('.-.-.-.-.-.-b')", CRM_ELIMIT,
	  "pattern matching budget exceeded", 1 },
	{ "gsub backtracking", "return (('a'):rep(60)):gsub('.-.-.-.-.-b', 'x')", CRM_ELIMIT,
	  "pattern matching budget exceeded", 1 },
	{ "1 GB string", "return #string.rep('x', 1e9)", CRM_ENOMEM, "", 0 },
	{ "doubling a string", "local s = 'x' while true do s = s .. s end", CRM_ENOMEM, "", 0 },
	{ "os.execute", "os.execute('touch /tmp/libcrm_pwned')", CRM_ESCRIPT, "attempt to index a nil value (global 'os')", 1 },
	{ "io.open", "return io.open('/etc/passwd'):read('a')", CRM_ESCRIPT, "attempt to index a nil value (global 'io')", 1 },
	{ "require", "local os = require('os') os.exit(1)", CRM_ESCRIPT, "attempt to call a nil value (global 'require')", 1 },
	{ "load", "return load('return 1')()", CRM_ESCRIPT, "attempt to call a nil value (global 'load')", 1 },
	{ "dofile", "dofile('/etc/passwd')", CRM_ESCRIPT, "global 'dofile'", 1 },
	{ "string.dump", "return string.dump(function() end)", CRM_ESCRIPT, "attempt to call a nil value (field 'dump')", 1 },
	{ "debug.getregistry", "return debug.getregistry()", CRM_ESCRIPT, "attempt to index a nil value (global 'debug')",
	  1 },
	{ "the string metatable", "getmetatable('').__index.upper = nil", CRM_ESCRIPT, "attempt to index a nil value", 1 },
	{ "the string library", "string.upper = nil", CRM_ESCRIPT, "the sandbox libraries are read-only", 1 },
	{ "a string's fields", "local s = 'abc' s.upper = nil", CRM_ESCRIPT, "attempt to index a string value", 1 },
	{ "the string library's metatable", "setmetatable(string, nil)", CRM_ESCRIPT, "cannot change a protected metatable",
	  1 },
	{ "math", "math.floor = function() return 0 end", CRM_ESCRIPT, "read-only", 1 },
	{ "the crm module", "crm.create = nil", CRM_ESCRIPT, "read-only", 1 },
	{ "rawset around read-only", "rawset(string, 'upper', nil)", CRM_ESCRIPT, "global 'rawset'", 1 },
	{ "__gc finalizer", "setmetatable({}, {__gc = function() while true do end end})", CRM_ESCRIPT,
	  "__gc metamethods are not allowed", 1 },
	{ "__gc through __index", "setmetatable({}, setmetatable({}, {__index = function() return print end}))",
	  CRM_ESCRIPT, "__gc metamethods are not allowed", 1 },
	{ "deep recursion", "local function f(n) return 1 + f(n + 1) end return f(1)", CRM_ELIMIT, "instruction budget", 1 },
	{ "C stack recursion", "local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x",
	  CRM_ESCRIPT, "stack overflow", 1 },
	{ "gsub recursion", "local function f(s) return (s:gsub('.', f)) end return f('a')", CRM_ESCRIPT,
	  "stack overflow", 1 },
	{ "coroutines", "return coroutine.wrap(function() end)", CRM_ESCRIPT, "global 'coroutine'", 1 },
	{ "collectgarbage", "collectgarbage('stop')", CRM_ESCRIPT, "global 'collectgarbage'", 1 },
	{ "error midway", "error('midway')", CRM_ESCRIPT, "midway", 1 },
	{ "a failing crm call", "crm.create('note', {nosuch = 1})", CRM_ECONSTRAINT, "note: form note has no field 'nosuch'", 1 },
};
#define NHOSTILE (sizeof hostile / sizeof *hostile)

/* Every script writes this first; its survival would be a partial change. */
static const char prologue[] = "crm.create('note', {text = 'written before the error'}) ";

/* The forms the public paths need: notes (the witness), items (with
 * workflow 'h'), and one form per hostile script with a computed field. */
static crm_db *hostile_db(void)
{
	crm_db *db = test_db();
	cJSON *docs = cJSON_CreateArray(), *wf, *states, *transitions, *plugin;
	char *json;
	crm__buf src = CRM__BUF_INIT;

	test_apply(db, "[{\"form\":\"note\",\"fields\":[{\"name\":\"text\",\"type\":\"text\"}]},"
		       " {\"form\":\"item\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}]");
	/* the plugin: one function per script, one per line */
	crm__buf_puts(&src, "local P = {}\n");
	for (size_t i = 0; i < NHOSTILE; i++)
		crm__buf_printf(&src, "P.h%zu = function(ctx) %s%s end\n", i, prologue, hostile[i].src);
	crm__buf_puts(&src, "return P\n");
	plugin = cJSON_CreateObject();
	cJSON_AddStringToObject(plugin, "plugin", "hostile");
	cJSON_AddStringToObject(plugin, "lua", crm__buf_cstr(&src));
	cJSON_AddItemToArray(docs, plugin);
	crm__buf_free(&src);
	/* the workflow: event l<i> runs the script as a lua action, p<i> calls the plugin */
	wf = cJSON_CreateObject();
	cJSON_AddStringToObject(wf, "workflow", "h");
	cJSON_AddStringToObject(wf, "form", "item");
	cJSON_AddStringToObject(wf, "start_on", "create");
	cJSON_AddStringToObject(wf, "initial", "a");
	states = cJSON_AddObjectToObject(wf, "states");
	cJSON_AddObjectToObject(states, "a");
	cJSON_AddObjectToObject(states, "b");
	transitions = cJSON_AddArrayToObject(wf, "transitions");
	for (size_t i = 0; i < NHOSTILE; i++) {
		for (int plugin_call = 0; plugin_call < 2; plugin_call++) {
			cJSON *t = cJSON_CreateObject(), *actions, *a = cJSON_CreateObject();
			char name[32];
			snprintf(name, sizeof name, "%c%zu", plugin_call ? 'p' : 'l', i);
			cJSON_AddStringToObject(t, "from", "a");
			cJSON_AddStringToObject(t, "event", name);
			cJSON_AddStringToObject(t, "to", "b");
			actions = cJSON_AddArrayToObject(t, "actions");
			if (plugin_call) {
				snprintf(name, sizeof name, "hostile.h%zu", i);
				cJSON_AddStringToObject(a, "call", name);
			} else {
				crm__buf_puts(&src, prologue);
				crm__buf_puts(&src, hostile[i].src);
				cJSON_AddStringToObject(a, "lua", crm__buf_cstr(&src));
				crm__buf_free(&src);
			}
			cJSON_AddItemToArray(actions, a);
			cJSON_AddItemToArray(transitions, t);
		}
	}
	cJSON_AddItemToArray(docs, wf);
	/* a form per script whose computed field runs it */
	for (size_t i = 0; i < NHOSTILE; i++) {
		cJSON *form = cJSON_CreateObject(), *fields = cJSON_CreateArray(), *f = cJSON_CreateObject();
		char name[32];
		snprintf(name, sizeof name, "c%zu", i);
		cJSON_AddStringToObject(form, "form", name);
		cJSON_AddStringToObject(f, "name", "v");
		cJSON_AddStringToObject(f, "type", "computed");
		cJSON_AddStringToObject(f, "returns", "text");
		crm__buf_printf(&src, "(function() %s%s end)()", prologue, hostile[i].src);
		cJSON_AddStringToObject(f, "lua", crm__buf_cstr(&src));
		crm__buf_free(&src);
		cJSON_AddItemToArray(fields, f);
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "name", "x");
		cJSON_AddStringToObject(f, "type", "integer");
		cJSON_AddItemToArray(fields, f);
		cJSON_AddItemToObject(form, "fields", fields);
		cJSON_AddItemToArray(docs, form);
	}
	json = cJSON_PrintUnformatted(docs);
	test_apply(db, json);
	cJSON_free(json);
	cJSON_Delete(docs);
	crm_limit(db, CRM_LIMIT_LUA_INSTRUCTIONS, BUDGET);
	return db;
}

/* Run `src` through the internal API, inside a transaction as the engines
 * do; leaves the result's text (or type name) in `out`. */
static int run(crm_db *db, const char *name, const char *src, int expression, char *out, size_t size)
{
	lua_State *L = crm__lua(db);
	int rc, top = lua_gettop(L);

	if (out)
		*out = 0;
	if ((rc = crm__tx_begin(db)))
		return rc;
	rc = crm__lua_compile(db, name, src, expression);
	if (rc == CRM_OK && (rc = crm__lua_call(db, 0, 1)) == CRM_OK) {
		if (out)
			snprintf(out, size, "%s", lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER
							  ? lua_tostring(L, -1)
							  : lua_typename(L, lua_type(L, -1)));
		lua_pop(L, 1);
	}
	rc = crm__tx_end(db, rc);
	if (lua_gettop(L) != top) {
		fprintf(stderr, "Lua stack unbalanced after %s: %d, was %d\n", name, lua_gettop(L), top);
		test_failures_++;
	}
	return rc;
}

static int64_t notes(crm_db *db) { return test_sql_int(db, "SELECT count(*) FROM note"); }

/* The outcome of one hostile script on one path. */
static void check_outcome(crm_db *db, const struct hostile *h, const char *path, int rc, const char *script)
{
	char where[128];

	if (rc != h->code) {
		fprintf(stderr, "%s via %s: %s, expected %s: %s\n", h->what, path, crm_errstr(rc), crm_errstr(h->code),
			crm_errmsg(db));
		test_failures_++;
		return;
	}
	if (!strstr(crm_errmsg(db), h->message)) {
		fprintf(stderr, "%s via %s: message \"%s\" lacks \"%s\"\n", h->what, path, crm_errmsg(db), h->message);
		test_failures_++;
	}
	if (h->line) {
		snprintf(where, sizeof where, "%s:%d:", script, h->line);
		if (!strstr(crm_errmsg(db), where)) {
			fprintf(stderr, "%s via %s: message \"%s\" does not name %s\n", h->what, path, crm_errmsg(db), where);
			test_failures_++;
		}
	}
	if (notes(db) != 0) {
		fprintf(stderr, "%s via %s: the note written before the error survived\n", h->what, path);
		test_failures_++;
	}
}

/* After each attack, a harmless script still runs and sees intact libraries. */
static void check_sandbox_intact(crm_db *db, const char *after)
{
	char out[256];
	int rc = run(db, "after", "return ('abc'):upper() .. string.upper('d') .. string.format('%d', 5) .. math.floor(2.5) .. "
				  "type(crm.create) .. tostring(pcall(error, 'x'))",
		     0, out, sizeof out);

	if (rc != CRM_OK || strcmp(out, "ABCD52functionfalse") != 0) {
		fprintf(stderr, "sandbox damaged after %s: %s %s %s\n", after, crm_errstr(rc), out, crm_errmsg(db));
		test_failures_++;
	}
}

TEST(test_hostile__internal_api)
{
	crm_db *db = hostile_db();
	char src[1024];

	for (size_t i = 0; i < NHOSTILE; i++) {
		snprintf(src, sizeof src, "%s%s", prologue, hostile[i].src);
		check_outcome(db, &hostile[i], "the internal API", run(db, "hostile", src, 0, NULL, 0), "hostile");
		check_sandbox_intact(db, hostile[i].what);
	}
	crm_close(db);
}

TEST(test_hostile__workflow_lua_action)
{
	crm_db *db = hostile_db();
	char event[32], script[64];
	int64_t id = 0;

	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"x\"}", &id));
	for (size_t i = 0; i < NHOSTILE; i++) {
		snprintf(event, sizeof event, "l%zu", i);
		snprintf(script, sizeof script, "h:transitions[%zu].actions[0]", 2 * i);
		check_outcome(db, &hostile[i], "a workflow lua action", crm_workflow_fire(db, "item", id, event, NULL), script);
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE state='a'"), 1);
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_history"), 1);
		check_sandbox_intact(db, hostile[i].what);
	}
	crm_close(db);
}

TEST(test_hostile__plugin_function)
{
	crm_db *db = hostile_db();
	char event[32], script[64];
	int64_t id = 0;

	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"x\"}", &id));
	for (size_t i = 0; i < NHOSTILE; i++) {
		struct hostile h = hostile[i];
		snprintf(event, sizeof event, "p%zu", i);
		h.line = h.line ? (int)i + 2 : 0; /* the plugin's line of function h<i> */
		snprintf(script, sizeof script, "hostile");
		check_outcome(db, &h, "a plugin function", crm_workflow_fire(db, "item", id, event, NULL), script);
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE state='a'"), 1);
		check_sandbox_intact(db, hostile[i].what);
	}
	crm_close(db);
}

TEST(test_hostile__computed_field)
{
	crm_db *db = hostile_db();
	char form[32], script[64], sql[64];

	for (size_t i = 0; i < NHOSTILE; i++) {
		snprintf(form, sizeof form, "c%zu", i);
		snprintf(script, sizeof script, "c%zu.v", i);
		check_outcome(db, &hostile[i], "a computed field", crm_record_insert(db, form, "{\"x\":1}", NULL), script);
		snprintf(sql, sizeof sql, "SELECT count(*) FROM c%zu", i);
		CHECK_INT(test_sql_int(db, sql), 0);
		check_sandbox_intact(db, hostile[i].what);
	}
	crm_close(db);
}

/* ---- the sandbox's surface ---- */

TEST(test_sandbox__what_is_there)
{
	crm_db *db = test_db();
	char out[512];

	CHECK_OK(db, run(db, "probe",
			 "local names = {}\n"
			 "for _, n in ipairs({'io', 'os', 'debug', 'package', 'require', 'load', 'loadstring', 'loadfile', 'dofile',\n"
			 "  'collectgarbage', 'coroutine', 'rawset', 'setfenv', 'getfenv', '_G', 'newproxy', 'module'}) do\n"
			 "  if _ENV[n] ~= nil then names[#names + 1] = n end\n"
			 "end\n"
			 "return 'present:' .. table.concat(names, ',')",
			 0, out, sizeof out));
	CHECK_STR(out, "present:");
	CHECK_OK(db, run(db, "probe",
			 "return table.concat({type(assert), type(error), type(ipairs), type(next), type(pairs), type(pcall),\n"
			 "  type(rawequal), type(rawget), type(rawlen), type(select), type(setmetatable), type(getmetatable),\n"
			 "  type(tonumber), type(tostring), type(type), type(xpcall), type(print), _VERSION,\n"
			 "  type(string.format), type(table.sort), type(math.max), type(utf8.char), type(string.dump),\n"
			 "  getmetatable(''), tostring(getmetatable(string))}, ' ')",
			 0, out, sizeof out));
	CHECK_STR(out, "function function function function function function function function function function function "
		       "function function function function function function Lua 5.4 function function function function nil "
		       "read-only read-only");
	/* the crm module's functions */
	CHECK_OK(db, run(db, "probe",
			 "local names = {}\n"
			 "for _, n in ipairs({'get', 'find', 'create', 'update', 'delete', 'emit', 'now', 'iso', 'time', 'log', 'actor',\n"
			 "                    'decide'}) do\n"
			 "  names[#names + 1] = type(crm[n])\n"
			 "end\n"
			 "return table.concat(names, ',')",
			 0, out, sizeof out));
	CHECK_STR(out, "function,function,function,function,function,function,function,function,function,function,function,function");
	crm_close(db);
}

/* Globals a script sets are its own: other scripts (and later runs of
 * other chunks) never see them, and none can change the shared libraries. */
TEST(test_sandbox__isolation)
{
	crm_db *db = test_db();
	char out[256];

	CHECK_OK(db, run(db, "a", "leaked = 42; tostring = nil; string = nil; crm = nil; return 1", 0, out, sizeof out));
	CHECK_OK(db, run(db, "b", "return tostring(leaked) .. string.upper('x') .. type(crm)", 0, out, sizeof out));
	CHECK_STR(out, "nilXtable");
	/* _ENV is the script's own table */
	CHECK_OK(db, run(db, "c", "_ENV.print = 5; return type(print)", 0, out, sizeof out));
	CHECK_STR(out, "number");
	CHECK_OK(db, run(db, "d", "return type(print)", 0, out, sizeof out));
	CHECK_STR(out, "function");
	/* the same holds between computed fields, and between workflow actions */
	test_apply(db, "[{\"form\":\"k\",\"fields\":["
		       " {\"name\":\"first\",\"type\":\"computed\",\"returns\":\"integer\",\"lua\":\"(function() leaked = 42 return 1 end)()\"},"
		       " {\"name\":\"second\",\"type\":\"computed\",\"returns\":\"integer\",\"lua\":\"leaked\"},"
		       " {\"name\":\"x\",\"type\":\"integer\"}]},"
		       " {\"workflow\":\"iso\",\"form\":\"k\",\"start_on\":\"create\",\"initial\":\"a\",\"states\":{\"a\":{\"on_enter\":["
		       "   {\"lua\":\"shared = 1\"}, {\"lua\":\"assert(shared == nil, 'shared leaked')\"}]}},\"transitions\":[]}]");
	CHECK_OK(db, crm_record_insert(db, "k", "{\"x\":1}", NULL));
	CHECK_STR(test_get(db, "k", 1) ? strstr(test_get(db, "k", 1), "\"first\"") : NULL, "\"first\":1,\"second\":null,\"x\":1,"
		  "\"created_at\":\"2026-01-02T03:04:05.000Z\",\"updated_at\":\"2026-01-02T03:04:05.000Z\",\"owner\":null,\"version\":1}");
	crm_close(db);
}

/* The budget is per outermost call: it resets for the next call, and a
 * budget error leaves the handle usable. A raised budget allows more. */
TEST(test_sandbox__budget_per_call)
{
	crm_db *db = test_db();
	char out[64];

	crm_limit(db, CRM_LIMIT_LUA_INSTRUCTIONS, BUDGET);
	CHECK_OK(db, run(db, "loop", "local n = 0 for i = 1, 10000 do n = n + i end return n", 0, out, sizeof out));
	CHECK_STR(out, "50005000");
	CHECK_RC(db, run(db, "loop", "local n = 0 for i = 1, 1000000 do n = n + i end return n", 0, out, sizeof out), CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), "loop:1: instruction budget of 100000 exceeded");
	for (int i = 0; i < 20; i++) /* many calls, each under the budget: it does not accumulate */
		CHECK_OK(db, run(db, "loop", "local n = 0 for i = 1, 10000 do n = n + i end return n", 0, out, sizeof out));
	crm_limit(db, CRM_LIMIT_LUA_INSTRUCTIONS, 100000000);
	CHECK_OK(db, run(db, "loop", "local n = 0 for i = 1, 1000000 do n = n + i end return n", 0, out, sizeof out));
	CHECK_STR(out, "500000500000");
	/* deep Lua recursion with budget to spare: a stack overflow, not a crash */
	CHECK_RC(db, run(db, "deep", "local function f(n) return 1 + f(n + 1) end\nreturn f(1)", 0, out, sizeof out), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "stack overflow");
	CHECK_OK(db, run(db, "after", "return 1", 0, out, sizeof out));
	crm_close(db);
}

/* Memory: the ceiling is per state; a script that hits it fails with
 * CRM_ENOMEM and the memory comes back. */
TEST(test_sandbox__memory_limit)
{
	crm_db *db = test_db();
	char out[64];

	crm_limit(db, CRM_LIMIT_LUA_MEMORY, 8 << 20);
	CHECK_RC(db, run(db, "mem", "local t = {} for i = 1, 1e7 do t[i] = i end return #t", 0, out, sizeof out), CRM_ENOMEM);
	for (int i = 0; i < 5; i++) /* again and again: nothing is left behind */
		CHECK_RC(db, run(db, "mem", "return #string.rep('x', 16 << 20)", 0, out, sizeof out), CRM_ENOMEM);
	CHECK_OK(db, run(db, "mem", "return #string.rep('x', 1 << 20)", 0, out, sizeof out));
	CHECK_STR(out, "1048576");
	crm_close(db);
}

/* Binary chunks are refused at compile time; errors name script and line. */
TEST(test_sandbox__compile_errors)
{
	crm_db *db = test_db();
	static const char binary[] = "\x1bLuaT\x00\x19\x93\r\n\x1a\n";
	lua_State *L = crm__lua(db);
	int top = lua_gettop(L);

	CHECK_RC(db, crm__lua_compile(db, "bin", binary, 0), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "attempt to load a binary chunk");
	CHECK_RC(db, crm__lua_compile(db, "syntax", "local x = \n\n  = 1", 0), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "syntax:3:");
	CHECK_RC(db, crm__lua_compile(db, "expr", "1 +", 1), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "expr:1:");
	/* an expression is one expression: no statements after it */
	CHECK_RC(db, crm__lua_compile(db, "expr", "1) os.exit(", 1), CRM_ESCRIPT);
	CHECK_RC(db, crm__lua_compile(db, "expr", "1, 2", 1), CRM_ESCRIPT);
	/* a trailing comment in an expression is fine */
	CHECK_OK(db, crm__lua_compile(db, "expr", "1 + 1 -- two", 1));
	lua_pop(L, 1);
	CHECK_INT(lua_gettop(L), top);
	crm_close(db);
}

/* Runtime errors name the script and the line, also for expressions. */
TEST(test_sandbox__error_positions)
{
	crm_db *db = test_db();

	CHECK_RC(db, run(db, "guard", "record.nothing.deeper", 1, NULL, 0), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "guard:1: attempt to index a nil value (global 'record')");
	CHECK_RC(db, run(db, "hook", "local a = 1\nlocal b = nil\nreturn a + b", 0, NULL, 0), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "hook:3: attempt to perform arithmetic on a nil value (local 'b')");
	/* also for errors raised without a position, in C or as objects */
	CHECK_RC(db, run(db, "hook", "\nerror('custom', 0)", 0, NULL, 0), CRM_ESCRIPT);
	CHECK_STR(crm_errmsg(db), "hook:2: custom");
	CHECK_RC(db, run(db, "hook", "\n\nerror(setmetatable({}, {__tostring = function() return 'x' end}))", 0, NULL, 0),
		 CRM_ESCRIPT);
	CHECK_STR(crm_errmsg(db), "hook:3: script error (a table as error object)");
	CHECK_RC(db, run(db, "hook", "\nsetmetatable(string, {})", 0, NULL, 0), CRM_ESCRIPT);
	CHECK_STR(crm_errmsg(db), "hook:2: cannot change a protected metatable");
	/* an error handler that replaces the budget error cannot hide it */
	crm_limit(db, CRM_LIMIT_LUA_INSTRUCTIONS, BUDGET);
	CHECK_RC(db, run(db, "hook", "\nxpcall(function() while true do end end, function() return {} end)", 0, NULL, 0),
		 CRM_ELIMIT);
	CHECK_STR(crm_errmsg(db), "hook:2: instruction budget of 100000 exceeded");
	crm_close(db);
}

/* ---- the crm module ---- */

static void logger(void *payload, int level, const char *source, const char *message)
{
	char *buf = payload;
	size_t n = strlen(buf);

	snprintf(buf + n, 1024 - n, "[%d %s] %s\n", level, source, message);
}

TEST(test_crm_module)
{
	crm_db *db = test_db();
	char out[512], log[1024] = "";

	test_apply(db, "{\"form\":\"note\",\"fields\":[{\"name\":\"text\",\"type\":\"text\",\"required\":true},"
		       "{\"name\":\"n\",\"type\":\"integer\"},{\"name\":\"amount\",\"type\":\"decimal\",\"scale\":2},"
		       "{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b\"]},{\"name\":\"at\",\"type\":\"datetime\"}]}");
	crm_actor_set(db, "alice", "sales,manager");
	crm_logger_set(db, logger, log);
	CHECK_OK(db, run(db, "m",
			 "local id = crm.create('note', {text = 'hello', n = 2, amount = 12.5, tags = {'b', 'a'}, at = crm.iso(crm.now())})\n"
			 "local r = crm.get('note', id)\n"
			 "assert(crm.update('note', id, {n = 3}, 1))\n"
			 "local found = crm.find('note', {filter = {field = 'n', op = 'ge', value = 3}})\n"
			 "crm.log('found', #found, found[1].text)\n"
			 "print('printed', 1)\n"
			 "local a = crm.actor()\n"
			 "local ev = crm.emit('note_made', {id = id}, 'note', id)\n"
			 "return table.concat({r.text, r.n, r.amount, table.concat(r.tags, '+'), r.at, r.owner, r.version,\n"
			 "  crm.get('note', id).n, tostring(crm.get('note', 999)), a.user, table.concat(a.roles, '+'), ev,\n"
			 "  crm.iso(0), crm.time('2026-01-02T11:04:05+08:00'), crm.now()}, '|')",
			 0, out, sizeof out));
	/* the event's id: 3, after the crm.create and crm.update of the note */
	CHECK_STR(out, "hello|2|12.5|a+b|2026-01-02T03:04:05.000Z|alice|1|3|nil|alice|sales+manager|3|1970-01-01T00:00:00.000Z|"
		       "1767323045000|1767323045000");
	CHECK_STR(log, "[1 m:5] found\t1\thello\n[1 m:6] printed\t1\n");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE type='note_made' AND form='note' AND record=1 AND actor='alice'"), 1);
	/* a failing call raises an error carrying the API's code and detail */
	CHECK_RC(db, run(db, "m", "crm.update('note', 1, {n = 4}, 1)", 0, NULL, 0), CRM_ECONFLICT);
	CHECK_HAS(crm_errmsg(db), "m:1:");
	CHECK_RC(db, run(db, "m", "crm.create('note', {n = 'x'})", 0, NULL, 0), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "{\"field\":\"text\",\"code\":\"required\"");
	CHECK_HAS(crm_errdetail(db), "{\"field\":\"n\",\"code\":\"type\"");
	CHECK_RC(db, run(db, "m", "crm.get('nosuch', 1)", 0, NULL, 0), CRM_ENOTFOUND);
	CHECK_RC(db, run(db, "m", "crm.find('note', {limit = 5000})", 0, NULL, 0), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "crm.find: limit must be 0 to 1000");
	CHECK_RC(db, run(db, "m", "crm.time('yesterday')", 0, NULL, 0), CRM_ESCRIPT);
	CHECK_RC(db, run(db, "m", "local t = {} t.self = t crm.create('note', {text = t})", 0, NULL, 0), CRM_ESCRIPT);
	CHECK_OK(db, run(db, "m", "return crm.delete('note', 1)", 0, out, sizeof out));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM note"), 0);
	crm_close(db);
}

/* ---- computed fields ---- */

static const char products[] =
	"{\"form\":\"product\",\"fields\":["
	" {\"name\":\"name\",\"type\":\"text\"},"
	" {\"name\":\"price\",\"type\":\"decimal\",\"scale\":2},"
	" {\"name\":\"qty\",\"type\":\"integer\"},"
	" {\"name\":\"label\",\"type\":\"computed\",\"returns\":\"text\",\"lua\":\"(record.name or '?') .. ' x' .. (record.qty or 0)\"},"
	" {\"name\":\"total\",\"type\":\"computed\",\"returns\":\"decimal\",\"scale\":2,"
	"  \"lua\":\"record.price and record.qty and record.price * record.qty * 1.13\"},"
	" {\"name\":\"double\",\"type\":\"computed\",\"returns\":\"integer\",\"lua\":\"(record.qty or 0) * 2\"},"
	" {\"name\":\"bulk\",\"type\":\"computed\",\"returns\":\"boolean\",\"lua\":\"(record.qty or 0) > 10\"}]}";

TEST(test_computed__insert_and_update)
{
	crm_db *db = test_db();
	int64_t id = 0;
	crm_cursor *cur = NULL;

	test_apply(db, products);
	CHECK_OK(db, crm_record_insert(db, "product", "{\"name\":\"Router\",\"price\":\"19.99\",\"qty\":3}", &id));
	/* 19.99 * 3 * 1.13 = 67.7661: rounded to the field's scale */
	CHECK_HAS(test_get(db, "product", id),
		  "\"label\":\"Router x3\",\"total\":67.77,\"double\":6,\"bulk\":false");
	CHECK_OK(db, crm_record_update(db, "product", id, "{\"qty\":20}", 0));
	CHECK_HAS(test_get(db, "product", id),
		  "\"label\":\"Router x20\",\"total\":451.77,\"double\":40,\"bulk\":true");
	/* a nil result is no value */
	CHECK_OK(db, crm_record_update(db, "product", id, "{\"price\":null}", 0));
	CHECK_HAS(test_get(db, "product", id), "\"total\":null");
	/* computed values are stored: queries filter and sort on them */
	CHECK_OK(db, crm_record_insert(db, "product", "{\"name\":\"Cable\",\"price\":1,\"qty\":2}", NULL));
	CHECK_OK(db, crm_query(&cur, db, "product",
			       "{\"filter\":{\"field\":\"bulk\",\"op\":\"eq\",\"value\":true},\"fields\":[\"label\"]}"));
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	CHECK_STR(crm_cursor_text(cur, 1), "Router x20");
	CHECK_INT(crm_cursor_next(cur), CRM_DONE);
	crm_cursor_free(cur);
	/* writing one is an error */
	CHECK_RC(db, crm_record_update(db, "product", id, "{\"label\":\"x\"}", 0), CRM_ECONSTRAINT);
	crm_close(db);
}

TEST(test_computed__errors_name_the_field)
{
	static const struct {
		const char *returns, *lua, *message;
	} cases[] = {
		{ "integer", "record.qty +", "product.bad:1:" },
		{ "integer", "record.nothing.deeper", "product.bad:1: attempt to index a nil value (field 'nothing')" },
		{ "integer", "error('no way')", "product.bad:1: no way" },
		{ "integer", "'abc'", "computed field bad" },
		{ "integer", "1.5", "computed field bad" },
		{ "boolean", "'yes'", "computed field bad" },
		{ "text", "function() end", "computed field bad" },
		{ "date", "'2026-02-30'", "computed field bad" },
	};
	char def[1024];

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		crm_db *db = test_db();
		snprintf(def, sizeof def,
			 "{\"form\":\"product\",\"fields\":[{\"name\":\"qty\",\"type\":\"integer\"},"
			 "{\"name\":\"bad\",\"type\":\"computed\",\"returns\":\"%s\",\"lua\":\"%s\"}]}",
			 cases[i].returns, cases[i].lua);
		if (crm_apply(db, def) == CRM_OK) {
			CHECK_RC(db, crm_record_insert(db, "product", "{\"qty\":1}", NULL), CRM_ESCRIPT);
			CHECK_HAS(crm_errmsg(db), cases[i].message);
			CHECK_INT(test_sql_int(db, "SELECT count(*) FROM product"), 0);
		} else { /* a syntax error is refused when applied, naming the field */
			CHECK_INT(crm_errcode(db), CRM_ESCRIPT);
			CHECK_HAS(crm_errmsg(db), cases[i].message);
		}
		crm_close(db);
	}
}

/* A computed field that writes records (through crm) and then fails takes
 * its writes with it; one that succeeds keeps them in the same transaction. */
TEST(test_computed__writes_roll_back_with_the_record)
{
	crm_db *db = test_db();

	test_apply(db, "[{\"form\":\"note\",\"fields\":[{\"name\":\"text\",\"type\":\"text\"}]},"
		       " {\"form\":\"p\",\"fields\":[{\"name\":\"x\",\"type\":\"integer\"},"
		       "  {\"name\":\"c\",\"type\":\"computed\",\"returns\":\"integer\","
		       "   \"lua\":\"(function() crm.create('note', {text = 'side'}) assert(record.x > 0, 'x must be positive') return record.x end)()\"}]}]");
	CHECK_RC(db, crm_record_insert(db, "p", "{\"x\":-1}", NULL), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "p.c:1: x must be positive");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM note"), 0);
	CHECK_OK(db, crm_record_insert(db, "p", "{\"x\":5}", NULL));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM note"), 1);
	crm_close(db);
}

TEST(test_plugins__guards_call_plugins_and_crm_null_clears_fields)
{
	crm_db *db = test_db();
	char *json = NULL;
	int64_t id;

	test_apply(db, "[{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\"}]},"
		       "{\"plugin\":\"rules\",\"lua\":\"return { hot = function(ctx) return ctx.record.score > 5 end,"
		       " clear = function(ctx) return {name = crm.null} end }\"},"
		       "{\"workflow\":\"w\",\"form\":\"lead\",\"start_on\":\"create\",\"initial\":\"a\","
		       "\"states\":{\"a\":{},\"b\":{}},\"transitions\":[{\"from\":\"a\",\"event\":\"go\",\"to\":\"b\","
		       "\"guard\":\"plugins.rules.hot(ctx)\",\"actions\":[{\"call\":\"rules.clear\"}]}]}]");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"x\",\"score\":3}", &id));
	CHECK_RC(db, crm_workflow_fire(db, "lead", id, "go", NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_workflow_fire(db, "lead", id, "go", "{\"score\":9}"));
	CHECK_OK(db, crm_record_get(db, "lead", id, &json));
	CHECK_HAS(json, "\"name\":null");
	crm_free(json);
	/* The plugins table is read-only and names only existing plugins. */
	CHECK_RC(db, crm_apply(db, "{\"plugin\":\"evil\",\"lua\":\"plugins.rules.hot = nil return {}\"}"), CRM_ESCRIPT);
	CHECK_RC(db, crm_apply(db, "{\"plugin\":\"missing\",\"lua\":\"local x = plugins.nope return {}\"}"),
		 CRM_ENOTFOUND);
	crm_close(db);
}

/* JSON numbers reach Lua as integers when they are exactly ones, floats
 * otherwise, however large (UBSan: no conversion out of range). */
TEST(test_computed__json_numbers_of_any_size)
{
	crm_db *db = test_db();
	char *json = NULL;
	int64_t id;

	test_apply(db, "{\"form\":\"doc\",\"fields\":[{\"name\":\"extra\",\"type\":\"json\"},"
		       "{\"name\":\"kinds\",\"type\":\"computed\",\"lua\":\"local t = {} for i, v in"
		       " ipairs(record.extra or {}) do t[i] = math.type(v) end return table.concat(t, ',')\"}]}");
	CHECK_OK(db, crm_record_insert(db, "doc", "{\"extra\":[1e48,5,2.5,-1e48,1e308,-9007199254740992,"
					 "99999999999999999999999999999999999999991]}", &id));
	CHECK_OK(db, crm_record_get(db, "doc", id, &json));
	CHECK_HAS(json, "\"kinds\":\"float,integer,float,float,float,integer,float\"");
	crm_free(json);
	crm_close(db);
}

TEST(test_hooks__see_the_record_before_and_what_changed)
{
	crm_db *db = test_db();
	char *json = NULL;
	int64_t id;

	test_apply(db, "[{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\"},{\"name\":\"note\",\"type\":\"text\"}]},"
		       "{\"workflow\":\"w\",\"form\":\"lead\",\"start_on\":\"create\",\"initial\":\"a\","
		       "\"states\":{\"a\":{},\"b\":{}},\"transitions\":[{\"from\":\"a\",\"event\":\"go\",\"to\":\"b\","
		       "\"actions\":[{\"lua\":\"return {note = string.format('%s %s->%s %s', tostring(ctx.changed.score),"
		       " ctx.old.score, record.score, tostring(ctx.changed.name))}\"}]}]}]");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"x\",\"score\":3}", &id));
	CHECK_OK(db, crm_workflow_fire(db, "lead", id, "go", "{\"score\":9}"));
	CHECK_OK(db, crm_record_get(db, "lead", id, &json));
	CHECK_HAS(json, "\"note\":\"true 3->9 nil\"");
	crm_free(json);
	crm_close(db);
}

TEST(test_validators__plugin_functions_judge_whole_records)
{
	crm_db *db = test_db();
	int64_t id;

	test_apply(db, "[{\"form\":\"deal\",\"validators\":[\"checks.discount\"],\"fields\":["
		       "{\"name\":\"amount\",\"type\":\"decimal\"},{\"name\":\"discount\",\"type\":\"decimal\"},"
		       "{\"name\":\"stage\",\"type\":\"text\"}]},"
		       "{\"plugin\":\"checks\",\"lua\":\"return { discount = function(ctx)"
		       " if (ctx.record.discount or 0) > (ctx.record.amount or 0) * 0.2 then"
		       "   return {discount = 'at most 20% of the amount'} end"
		       " if ctx.op == 'update' and ctx.changed.amount and ctx.old.stage == 'signed' then"
		       "   return 'a signed deal keeps its amount' end end }\"}]");
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"amount\":100,\"discount\":10,\"stage\":\"signed\"}", &id));
	CHECK_RC(db, crm_record_insert(db, "deal", "{\"amount\":100,\"discount\":30}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "{\"field\":\"discount\",\"code\":\"validator\",\"message\":\"at most 20% of the amount\"}");
	CHECK_RC(db, crm_record_update(db, "deal", id, "{\"amount\":200}", 0), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errmsg(db), "a signed deal keeps its amount");
	CHECK_OK(db, crm_record_update(db, "deal", id, "{\"discount\":15}", 0));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal"), 1);
	/* A validator that names no plugin function is refused when applied. */
	CHECK_RC(db, crm_apply(db, "{\"form\":\"x\",\"validators\":[\"checks.nope\"],\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}"),
		 CRM_ENOTFOUND);
	CHECK_RC(db, crm_apply(db, "{\"form\":\"x\",\"validators\":[\"nodot\"],\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}"),
		 CRM_EINVAL);
	crm_close(db);
}

TEST(test_computed__statements_with_return_as_in_the_design)
{
	crm_db *db = test_db();
	char *json = NULL;
	int64_t id;

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"region\",\"type\":\"text\"},{\"name\":\"label\",\"type\":\"computed\","
		       "\"lua\":\"return record.name .. ' / ' .. record.region\"},"
		       "{\"name\":\"size\",\"type\":\"computed\",\"returns\":\"integer\","
		       "\"lua\":\"local n = #record.name\\nif n > 3 then return n end\\nreturn 0\"}]}");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"Wang Lei\",\"region\":\"east\"}", &id));
	CHECK_OK(db, crm_record_get(db, "lead", id, &json));
	CHECK_HAS(json, "\"label\":\"Wang Lei / east\",\"size\":8");
	crm_free(json);
	/* Neither an expression nor statements: refused when applied, with the
	 * expression's error. */
	CHECK_RC(db, crm_apply(db, "{\"form\":\"bad\",\"fields\":[{\"name\":\"c\",\"type\":\"computed\",\"lua\":\"1 +\"}]}"),
		 CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "bad.c:1:");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta WHERE name='bad'"), 0);
	crm_close(db);
}

TEST_LIST(T(test_computed__statements_with_return_as_in_the_design), T(test_computed__json_numbers_of_any_size), T(test_validators__plugin_functions_judge_whole_records), T(test_hooks__see_the_record_before_and_what_changed),
	  T(test_plugins__guards_call_plugins_and_crm_null_clears_fields), T(test_hostile__internal_api), T(test_hostile__workflow_lua_action), T(test_hostile__plugin_function),
	  T(test_hostile__computed_field), T(test_sandbox__what_is_there), T(test_sandbox__isolation),
	  T(test_sandbox__budget_per_call), T(test_sandbox__memory_limit), T(test_sandbox__compile_errors),
	  T(test_sandbox__error_positions), T(test_crm_module), T(test_computed__insert_and_update),
	  T(test_computed__errors_name_the_field), T(test_computed__writes_roll_back_with_the_record))
