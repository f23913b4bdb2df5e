/* The Lua sandbox's walls, tested through every place Lua runs: tables
 * handed to crm.* and returned to libcrm are bounded (depth, cycles), the
 * instruction budget binds code that runs while an error unwinds and C
 * library loops, and no script can change what another script, or the
 * next call, sees. Scripts that would spin forever on a broken sandbox run
 * under alarm(), so a regression fails the test instead of hanging it. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <unistd.h>

#include <cJSON.h>

#include "core/buf.h"
#include "helpers.h"
#include "test.h"

#define BUDGET 100000
#define HANG_SECONDS 60

static const char *running;

static void on_alarm(int sig)
{
	static const char msg[] = "a script escaped the instruction budget: the test hung\n";

	(void)sig;
	if (write(2, msg, sizeof msg - 1) < 0 || write(2, running, strlen(running)) < 0)
		_exit(3);
	_exit(3);
}

/* Fail, rather than hang, when a script outruns the budget. */
static void bounded(const char *test)
{
	running = test;
	signal(SIGALRM, on_alarm);
	alarm(HANG_SECONDS);
}

/* Every place Lua runs, each running the same statements `src`: a lua action,
 * a hook, a plugin function called by an action, a guard (fired, and
 * evaluated by the read-only crm_workflow_events), a computed field, a
 * validator, and plugin source at apply time. Each must end with `code`
 * and a message holding `message`, and leave nothing behind. */
static void check_everywhere(const char *src, int code, const char *message)
{
	crm_db *db = test_db();
	cJSON *docs = cJSON_CreateArray(), *doc;
	crm__buf text = CRM__BUF_INIT;
	char *json, *events = NULL;
	int64_t id = 0;

	test_apply(db, "[{\"form\":\"note\",\"fields\":[{\"name\":\"text\",\"type\":\"text\"}]},"
		       " {\"form\":\"item\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}]");
	crm__buf_printf(&text, "return {f = function(ctx) crm.create('note', {text = 'x'}) %s end}", src);
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "plugin", "atk");
	cJSON_AddStringToObject(doc, "lua", crm__buf_cstr(&text));
	cJSON_AddItemToArray(docs, doc);
	crm__buf_free(&text);
	crm__buf_printf(&text,
			"{\"workflow\":\"w\",\"form\":\"item\",\"start_on\":\"create\",\"initial\":\"a\","
			"\"states\":{\"a\":{},\"b\":{},\"c\":{\"on_enter\":[{\"lua\":\"crm.create('note', {text = 'x'}) %s\"}]}},"
			"\"transitions\":[{\"from\":\"a\",\"event\":\"act\",\"to\":\"b\",\"actions\":[{\"lua\":\"crm.create('note', {text = 'x'}) %s\"}]},"
			" {\"from\":\"a\",\"event\":\"call\",\"to\":\"b\",\"actions\":[{\"call\":\"atk.f\"}]},"
			" {\"from\":\"a\",\"event\":\"hook\",\"to\":\"c\"},"
			" {\"from\":\"a\",\"event\":\"guarded\",\"to\":\"b\",\"guard\":\"(function() crm.create('note', {text = 'x'}) %s end)()\"}]}",
			src, src, src);
	cJSON_AddItemToArray(docs, cJSON_Parse(crm__buf_cstr(&text)));
	crm__buf_free(&text);
	crm__buf_printf(&text,
			"{\"form\":\"comp\",\"fields\":[{\"name\":\"x\",\"type\":\"integer\"},{\"name\":\"v\",\"type\":\"computed\","
			"\"returns\":\"text\",\"lua\":\"(function() crm.create('note', {text = 'x'}) %s end)()\"}]}",
			src);
	cJSON_AddItemToArray(docs, cJSON_Parse(crm__buf_cstr(&text)));
	crm__buf_free(&text);
	cJSON_AddItemToArray(docs, cJSON_Parse("{\"form\":\"val\",\"validators\":[\"atk.f\"],"
					       "\"fields\":[{\"name\":\"x\",\"type\":\"integer\"}]}"));
	json = cJSON_PrintUnformatted(docs);
	cJSON_Delete(docs);
	if (test_apply(db, json) != CRM_OK) {
		cJSON_free(json);
		crm_close(db);
		return;
	}
	cJSON_free(json);
	crm_limit(db, CRM_LIMIT_LUA_INSTRUCTIONS, BUDGET);
	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"x\"}", &id));

	static const char *const events_fired[] = { "act", "call", "hook", "guarded" };
	for (size_t i = 0; i < sizeof events_fired / sizeof *events_fired; i++) {
		CHECK_RC(db, crm_workflow_fire(db, "item", id, events_fired[i], NULL), code);
		CHECK_HAS(crm_errmsg(db), message);
	}
	CHECK_RC(db, crm_workflow_events(db, "item", id, &events), code);
	CHECK_HAS(crm_errmsg(db), message);
	crm_free(events);
	CHECK_RC(db, crm_record_insert(db, "comp", "{\"x\":1}", NULL), code);
	CHECK_HAS(crm_errmsg(db), message);
	CHECK_RC(db, crm_record_insert(db, "val", "{\"x\":1}", NULL), code);
	CHECK_HAS(crm_errmsg(db), message);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM note"), 0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM comp"), 0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE state='a'"), 1);
	/* plugin source runs when applied */
	crm__buf_printf(&text, "{\"plugin\":\"boom\",\"lua\":\"crm.create('note', {text = 'x'}) %s return {}\"}", src);
	CHECK_RC(db, crm_apply(db, crm__buf_cstr(&text)), code);
	CHECK_HAS(crm_errmsg(db), message);
	crm__buf_free(&text);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta WHERE name='boom'"), 0);
	/* and the handle still runs scripts */
	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"after\"}", NULL));
	crm_close(db);
}

/* Each script stops at the instruction budget everywhere Lua runs. */
static void stopped_by_budget(const char *test, const char *const *scripts, size_t n)
{
	bounded(test);
	for (size_t i = 0; i < n; i++)
		check_everywhere(scripts[i], CRM_ELIMIT, "instruction budget of 100000 exceeded");
	alarm(0);
}

/* ---- 1. tables crossing into C ---- */

/* Lua that builds a table nested `depth` levels: {a = {a = ... {}}}. */
#define DEEP(depth) "(function() local t = {} for i = 2, " #depth " do t = {a = t} end return t end)()"

TEST(test_sandbox__deep_or_cyclic_tables_are_refused_by_every_crm_function)
{
	static const struct {
		const char *call;
	} calls[] = {
		{ "crm.create('doc', {j = T})" },
		{ "crm.update('doc', 1, {j = T})" },
		{ "crm.emit('ev', {j = T})" },
		{ "crm.find('doc', {filter = {field = 'j', op = 'eq', value = T}})" },
	};
	crm_db *db = test_db();
	char src[512];

	bounded(__func__);
	test_apply(db, "{\"form\":\"doc\",\"fields\":[{\"name\":\"j\",\"type\":\"json\"}]}");
	CHECK_OK(db, crm_record_insert(db, "doc", "{\"j\":1}", NULL));
	for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
		/* too deep for the handle's CRM_LIMIT_JSON_DEPTH (64): a limit */
		snprintf(src, sizeof src,
			 "{\"form\":\"probe%zu\",\"fields\":[{\"name\":\"x\",\"type\":\"integer\"},{\"name\":\"c\","
			 "\"type\":\"computed\",\"returns\":\"integer\",\"lua\":\"(function() local T = %s\\n%s return 1 end)()\"}]}",
			 i, DEEP(100), calls[i].call);
		test_apply(db, src);
		snprintf(src, sizeof src, "probe%zu", i);
		CHECK_RC(db, crm_record_insert(db, src, "{\"x\":1}", NULL), CRM_ELIMIT);
		CHECK_HAS(crm_errmsg(db), ".c:2: ");
		CHECK_HAS(crm_errmsg(db), "nests deeper than 64 levels (CRM_LIMIT_JSON_DEPTH)");
		/* a cycle: a script error naming script and line */
		snprintf(src, sizeof src,
			 "{\"form\":\"cycle%zu\",\"fields\":[{\"name\":\"x\",\"type\":\"integer\"},{\"name\":\"c\","
			 "\"type\":\"computed\",\"returns\":\"integer\",\"lua\":\"(function() local T = {} T.self = {T}\\n%s return 1 end)()\"}]}",
			 i, calls[i].call);
		test_apply(db, src);
		snprintf(src, sizeof src, "cycle%zu", i);
		CHECK_RC(db, crm_record_insert(db, src, "{\"x\":1}", NULL), CRM_ESCRIPT);
		CHECK_HAS(crm_errmsg(db), ".c:2: ");
		CHECK_HAS(crm_errmsg(db), "a table that contains itself");
	}
	/* 30 levels (more than the Lua stack a C function starts with) is fine */
	snprintf(src, sizeof src,
		 "{\"form\":\"ok\",\"fields\":[{\"name\":\"x\",\"type\":\"integer\"},{\"name\":\"c\",\"type\":\"computed\","
		 "\"returns\":\"integer\",\"lua\":\"(function() local T = %s crm.emit('ev', {j = T}) return crm.create('doc', {j = T}) end)()\"}]}",
		 DEEP(30));
	test_apply(db, src);
	CHECK_OK(db, crm_record_insert(db, "ok", "{\"x\":1}", NULL));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM doc"), 2);
	/* the limit is the handle's */
	crm_limit(db, CRM_LIMIT_JSON_DEPTH, 10);
	CHECK_RC(db, crm_record_insert(db, "ok", "{\"x\":1}", NULL), CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), "nests deeper than 10 levels");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM doc"), 2);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE type NOT LIKE 'crm.%'"), 1);
	crm_close(db);
	alarm(0);
}

/* Tables a script hands back to libcrm (a computed value, a lua value, a
 * hook's fields) are held to the same rules. */
TEST(test_sandbox__deep_or_cyclic_results_are_refused)
{
	crm_db *db = test_db();

	test_apply(db, "[{\"form\":\"doc\",\"fields\":[{\"name\":\"j\",\"type\":\"json\"},"
		       " {\"name\":\"deep\",\"type\":\"computed\",\"returns\":\"json\",\"lua\":\"(record.j == 1) and " DEEP(100) " or nil\"},"
		       " {\"name\":\"loop\",\"type\":\"computed\",\"returns\":\"json\","
		       "  \"lua\":\"(function() if record.j ~= 2 then return nil end local t = {} t[1] = t return t end)()\"}]},"
		       " {\"workflow\":\"w\",\"form\":\"doc\",\"start_on\":\"create\",\"initial\":\"a\",\"states\":{\"a\":{},\"b\":{}},"
		       "  \"transitions\":[{\"from\":\"a\",\"event\":\"hook\",\"to\":\"b\",\"actions\":[{\"lua\":\"return {j = " DEEP(100) "}\"}]},"
		       "   {\"from\":\"a\",\"event\":\"value\",\"to\":\"b\",\"actions\":[{\"set\":{\"j\":{\"lua\":\"" DEEP(100) "\"}}}]}]}]");
	CHECK_RC(db, crm_record_insert(db, "doc", "{\"j\":1}", NULL), CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), "computed field deep");
	CHECK_HAS(crm_errmsg(db), "nests deeper than 64 levels");
	CHECK_RC(db, crm_record_insert(db, "doc", "{\"j\":2}", NULL), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "computed field loop");
	CHECK_HAS(crm_errmsg(db), "a table that contains itself");
	CHECK_OK(db, crm_record_insert(db, "doc", "{\"j\":3}", NULL));
	CHECK_RC(db, crm_workflow_fire(db, "doc", 1, "hook", NULL), CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), "nests deeper than 64 levels");
	CHECK_RC(db, crm_workflow_fire(db, "doc", 1, "value", NULL), CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), "nests deeper than 64 levels");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM doc"), 1);
	crm_close(db);
}

/* A json value as deep as the handle accepts reaches Lua whole, through
 * every path that decodes one (record, ctx.old, crm.get, crm.find). */
TEST(test_sandbox__deep_json_values_reach_lua_whole)
{
	crm_db *db = test_db();
	crm__buf value = CRM__BUF_INIT;
	const char *depth_of = "local function depth(t) local d = 0 while type(t) == 'table' do d = d + 1 t = t.a end return d end ";
	char src[2048];

	snprintf(src, sizeof src,
		 "[{\"form\":\"doc\",\"fields\":[{\"name\":\"j\",\"type\":\"json\"},{\"name\":\"n\",\"type\":\"integer\"},"
		 " {\"name\":\"d\",\"type\":\"computed\",\"returns\":\"integer\",\"lua\":\"(function() %s return depth(record.j) end)()\"}]},"
		 " {\"form\":\"out\",\"fields\":[{\"name\":\"v\",\"type\":\"text\"}]},"
		 " {\"workflow\":\"w\",\"form\":\"doc\",\"start_on\":\"create\",\"initial\":\"a\",\"states\":{\"a\":{},\"b\":{}},"
		 "  \"transitions\":[{\"from\":\"a\",\"event\":\"go\",\"to\":\"b\",\"actions\":[{\"lua\":\"%s"
		 "crm.create('out', {v = table.concat({depth(record.j), depth(ctx.old.j), depth(crm.get('doc', 1).j),"
		 " depth(crm.find('doc')[1].j)}, ',')})\"}]}]}]",
		 depth_of, depth_of);
	test_apply(db, src);
	/* {"j": {"a": {"a": ... 1}}}: 60 levels under j, 61 in all */
	crm__buf_puts(&value, "{\"j\":");
	for (int i = 0; i < 60; i++)
		crm__buf_puts(&value, "{\"a\":");
	crm__buf_puts(&value, "1");
	for (int i = 0; i < 61; i++)
		crm__buf_putc(&value, '}');
	CHECK_OK(db, crm_record_insert(db, "doc", crm__buf_cstr(&value), NULL));
	crm__buf_free(&value);
	CHECK_HAS(test_get(db, "doc", 1), "\"d\":60");
	CHECK_OK(db, crm_workflow_fire(db, "doc", 1, "go", "{\"n\":1}"));
	CHECK_HAS(test_get(db, "out", 1), "\"v\":\"60,60,60,60\"");
	crm_close(db);
}

/* ---- 2. the budget binds everything ---- */

TEST(test_sandbox__xpcall_handler_is_bounded_by_budget)
{
	bounded(__func__);
	/* the handler itself loops */
	check_everywhere("xpcall(error, function(e) while true do end end)", CRM_ELIMIT, "instruction budget of 100000 exceeded");
	/* the budget runs out in the body; the handler loops while the stop unwinds */
	check_everywhere("xpcall(function() while true do end end, function(e) while true do end end)", CRM_ELIMIT,
			 "instruction budget of 100000 exceeded");
	/* a handler whose metamethod loops, inside a caught error */
	check_everywhere("pcall(xpcall, error, function(e) return setmetatable({}, {__index = function() while true do end end}).x end)",
			 CRM_ELIMIT, "instruction budget of 100000 exceeded");
	alarm(0);
}

TEST(test_sandbox__metamethods_and_closers_are_bounded_by_budget)
{
	static const char *const scripts[] = {
		"do local x <close> = setmetatable({}, {__close = function() while true do end end}) end",
		"local x <close> = setmetatable({}, {__close = function() while true do end end}) while true do end",
		"pcall(function() local x <close> = setmetatable({}, {__close = function() while true do end end}) error('x') end)",
		"local t = setmetatable({}, {__index = function() while true do end end}) local _ = t.x",
		"local t = setmetatable({}, {__newindex = function() while true do end end}) t.x = 1",
		"local _ = tostring(setmetatable({}, {__tostring = function() while true do end end}))",
		"pcall(error, setmetatable({}, {__tostring = function() while true do end end})) while true do end",
		"table.sort({3, 2, 1}, function() while true do end end)",
		"local _ = ('x'):gsub('x', function() while true do end end)",
	};

	stopped_by_budget(__func__, scripts, sizeof scripts / sizeof *scripts);
}

/* Library functions whose loop runs in C, where the count hook never
 * fires, with a count the script chooses rather than data it had to build. */
TEST(test_sandbox__library_loops_in_c_are_bounded_by_budget)
{
	static const char *const scripts[] = {
		"while true do string.rep('', math.maxinteger) end",
		"while true do (''):rep(1 << 62, '') end",
		"table.move({}, 1, 1 << 62, 1, {})",
		"table.insert(setmetatable({}, {__len = function() return 1 << 62 end}), 1, 'x')",
		"table.remove(setmetatable({}, {__len = function() return 1 << 62 end}), 1)",
		"for i = 1, 1e6 do table.unpack({}, 1, 900000) end",
	};

	stopped_by_budget(__func__, scripts, sizeof scripts / sizeof *scripts);
}

/* The replacements behave like Lua's own. */
TEST(test_sandbox__budgeted_library_functions_keep_their_meaning)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"p\",\"fields\":[{\"name\":\"x\",\"type\":\"integer\"},{\"name\":\"v\",\"type\":\"computed\","
		       "\"lua\":\"(function() local t = {1, 2, 3} table.insert(t, 4) table.insert(t, 1, 0)"
		       " local r = table.remove(t, 2) local last = table.remove(t) table.move(t, 1, 3, 2)"
		       " local u = table.move({7, 8}, 1, 2, 1, {}) local a, b, c = table.unpack(t)"
		       " return table.concat(t, ',') .. '|' .. r .. last .. '|' .. table.concat(u, ',') .. '|' .. a .. b .. c"
		       " .. '|' .. ('ab'):rep(3, '-') .. '|' .. #string.rep('', 5) .. select('#', table.unpack({}, 1, 3))"
		       " .. tostring(pcall(table.insert, {}, 5, 1)) end)()\"}]}");
	CHECK_OK(db, crm_record_insert(db, "p", "{\"x\":1}", NULL));
	CHECK_HAS(test_get(db, "p", 1), "\"v\":\"0,0,2,3|14|7,8|002|ab-ab-ab|03false\"");
	crm_close(db);
}

/* ---- 3. nothing a script can reach changes for the next one ---- */

static const char routing[] =
	"[{\"form\":\"lead\",\"fields\":[{\"name\":\"region\",\"type\":\"text\"},{\"name\":\"owner_name\",\"type\":\"text\"}]},"
	" {\"plugin\":\"routing\",\"lua\":\"local cfg = {north = 'alice', south = 'bob', nested = {deep = {who = 'carol'}},"
	"  list = {'a', 'b', 'c'}, query = {filter = {field = 'region', op = 'eq', value = 'north'}}}\\n"
	"  return {cfg = cfg, config = function() return cfg end,"
	"   assign = function(ctx) return {owner_name = cfg[ctx.record.region] or cfg.nested.deep.who} end}\"},"
	" {\"workflow\":\"route\",\"form\":\"lead\",\"start_on\":\"create\",\"initial\":\"new\",\"states\":{\"new\":"
	"  {\"on_enter\":[{\"call\":\"routing.assign\"}]}},\"transitions\":[]}]";

/* An unrelated form whose computed field runs `attack`. */
static int attack(crm_db *db, const char *attack_src)
{
	char def[1024];

	snprintf(def, sizeof def,
		 "{\"form\":\"other\",\"fields\":[{\"name\":\"x\",\"type\":\"integer\"},{\"name\":\"c\",\"type\":\"computed\","
		 "\"returns\":\"text\",\"lua\":\"(function() %s end)()\"}]}",
		 attack_src);
	if (test_apply(db, def) != CRM_OK)
		return CRM_ERROR;
	return crm_record_insert(db, "other", "{\"x\":1}", NULL);
}

/* Each attack fails with a script error (and so changes nothing). */
static void all_refused(crm_db *db, const char *const *attacks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = attack(db, attacks[i]);
		if (rc != CRM_ESCRIPT) {
			fprintf(stderr, "attack %zu (%s): %s, expected CRM_ESCRIPT\n", i, attacks[i], crm_errstr(rc));
			test_failures_++;
		}
	}
}

TEST(test_sandbox__plugin_tables_are_read_only_at_every_depth)
{
	static const char *const attacks[] = {
		"plugins.routing.cfg.north = 'mallory'",
		"plugins.routing.cfg.nested.deep.who = 'mallory'",
		"plugins.routing.config().north = 'mallory'",
		"plugins.routing.config().nested.deep.who = 'mallory'",
		"table.insert(plugins.routing.cfg.list, 'mallory')",
		"table.remove(plugins.routing.cfg.list, 1)",
		"table.sort(plugins.routing.cfg.list, function(a, b) return a > b end)",
		"table.move({'x'}, 1, 1, 1, plugins.routing.cfg.list)",
		"setmetatable(plugins.routing.cfg, {__index = function() return 'mallory' end})",
		"getmetatable(plugins.routing.cfg).__index = {north = 'mallory'}",
		"plugins.routing.assign = function() return {owner_name = 'mallory'} end",
		"local cfg = plugins.routing.cfg for k in pairs(cfg) do cfg[k] = 'mallory' end",
	};
	char *events = NULL;
	crm_db *db = test_db();

	test_apply(db, routing);
	all_refused(db, attacks, sizeof attacks / sizeof *attacks);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"region\":\"north\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"region\":\"west\"}", NULL));
	CHECK_HAS(test_get(db, "lead", 1), "\"owner_name\":\"alice\"");
	CHECK_HAS(test_get(db, "lead", 2), "\"owner_name\":\"carol\"");
	/* reading works as before: fields, length, pairs, ipairs, JSON */
	CHECK_OK(db, attack(db, "local c = plugins.routing.cfg local n = 0 for _ in pairs(c) do n = n + 1 end"
				" local s = '' for _, v in ipairs(c.list) do s = s .. v end"
				" crm.emit('cfg', {cfg = c}) return c.north .. #c.list .. n .. s .. table.concat(c.list) .. c.nested.deep.who"
				" .. #crm.find('lead', c.query) .. #crm.find('lead', c.query)"));
	CHECK_HAS(test_get(db, "other", 1), "\"c\":\"alice35abcabccarol11\"");
	CHECK_OK(db, crm_event_list(db, 0, 100, &events));
	CHECK_HAS(events, "\"deep\":{\"who\":\"carol\"}");
	CHECK_HAS(events, "\"list\":[\"a\",\"b\",\"c\"]");
	crm_free(events);
	crm_close(db);
}

/* A plugin's own code works on its real tables (classes, metatables, its
 * private state: its own business); what scripts get of them, including
 * what its functions return, stays read-only. */
TEST(test_sandbox__plugin_code_keeps_its_own_tables)
{
	static const char *const attacks[] = {
		"plugins.shapes.Base.kind = 'mallory'",
		"plugins.shapes.Base.new('y').name = 'mallory'",
		"plugins.shapes.obj.name = 'mallory'",
		"getmetatable(plugins.shapes.obj).__index = {}",
		"local k = next(plugins.shapes.keyed) k.x = 1",
		"for k in pairs(plugins.shapes.keyed) do k.x = 1 end",
	};
	crm_db *db = test_db();

	test_apply(db, "{\"plugin\":\"shapes\",\"lua\":\"local Base = {kind = 'base'} Base.__index = Base\\n"
		       "function Base.new(name) return setmetatable({name = name}, Base) end\\n"
		       "function Base:describe() return self.kind .. ':' .. self.name end\\n"
		       "local calls, key = 0, {}\\n"
		       "local M = {Base = Base, obj = Base.new('x'), calls = 0, keyed = {[key] = 'v'}}\\n"
		       "function M.bump() M.calls = M.calls + 1 calls = calls + 1 return calls end\\n"
		       "return M\"}");
	all_refused(db, attacks, sizeof attacks / sizeof *attacks);
	CHECK_OK(db, attack(db, "local s = plugins.shapes local o = s.Base.new('y') local k, v = next({}) "
				"for key, val in pairs(s.keyed) do v = s.keyed[key] end "
				"return o:describe() .. s.obj:describe() .. s.bump() .. s.bump() .. s.calls .. v .. tostring(s.obj == s.obj)"));
	CHECK_HAS(test_get(db, "other", 1), "\"c\":\"base:ybase:x122vtrue\"");
	crm_close(db);
}

/* C that reads tables raw (verdicts, decision inputs) reads a read-only
 * table's contents, not its empty face. */
TEST(test_sandbox__read_only_tables_read_whole_by_libcrm)
{
	crm_db *db = test_db();

	test_apply(db, "[{\"plugin\":\"msgs\",\"lua\":\"return {bad = {x = 'not this one'}, inputs = {x = 'north'}}\"},"
		       " {\"plugin\":\"checks\",\"lua\":\"return {v = function(ctx) if ctx.record.x == 1 then return plugins.msgs.bad end end}\"},"
		       " {\"form\":\"val\",\"validators\":[\"checks.v\"],\"fields\":[{\"name\":\"x\",\"type\":\"integer\"}]},"
		       " {\"decision\":\"t\",\"inputs\":[\"x\"],\"outputs\":[\"hit\"],"
		       "  \"rules\":[{\"when\":{\"x\":\"north\"},\"then\":{\"hit\":true}}]}]");
	CHECK_RC(db, crm_record_insert(db, "val", "{\"x\":1}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "{\"field\":\"x\",\"code\":\"validator\",\"message\":\"not this one\"}");
	CHECK_OK(db, attack(db, "return tostring(crm.decide('t', plugins.msgs.inputs).hit)"));
	CHECK_HAS(test_get(db, "other", 1), "\"c\":\"true\"");
	crm_close(db);
}

/* Each run of a guard, action, value or computed field starts with fresh
 * globals; a nested run of the same script does not disturb the outer one. */
TEST(test_sandbox__globals_do_not_outlive_a_call)
{
	crm_db *db = test_db();

	test_apply(db, "[{\"form\":\"k\",\"fields\":[{\"name\":\"x\",\"type\":\"integer\"},"
		       " {\"name\":\"runs\",\"type\":\"computed\",\"returns\":\"integer\",\"lua\":\"(function() n = (n or 0) + 1 return n end)()\"},"
		       " {\"name\":\"note\",\"type\":\"text\"}]},"
		       " {\"workflow\":\"w\",\"form\":\"k\",\"start_on\":\"create\",\"initial\":\"a\",\"states\":{\"a\":{}},"
		       "  \"transitions\":[{\"from\":\"a\",\"event\":\"go\",\"to\":\"a\",\"guard\":\"(function() g = (g or 0) + 1 return g == 1 end)()\","
		       "   \"actions\":[{\"lua\":\"m = (m or 0) + 1 return {note = tostring(m)}\"}]}]}]");
	for (int i = 0; i < 3; i++)
		CHECK_OK(db, crm_record_insert(db, "k", "{\"x\":1}", NULL));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM k WHERE runs = 1"), 3);
	for (int i = 0; i < 3; i++)
		CHECK_OK(db, crm_workflow_fire(db, "k", 1, "go", NULL));
	CHECK_HAS(test_get(db, "k", 1), "\"note\":\"1\"");
	/* a computed field that writes a record of its own form sees its own record after */
	test_apply(db, "{\"form\":\"r\",\"fields\":[{\"name\":\"x\",\"type\":\"integer\"},{\"name\":\"c\",\"type\":\"computed\","
		       "\"returns\":\"integer\",\"lua\":\"(function() if record.x > 0 then crm.create('r', {x = record.x - 1}) end"
		       " return record.x end)()\"}]}");
	CHECK_OK(db, crm_record_insert(db, "r", "{\"x\":3}", NULL));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM r WHERE c = x"), 4);
	crm_close(db);
}

/* Library tables, the string metatable and the globals' metatable hold. */
TEST(test_sandbox__shared_tables_cannot_be_changed)
{
	static const char *const attacks[] = {
		"string.upper = function() return 'mallory' end",
		"getmetatable('').__index = {}",
		"setmetatable(_ENV, {__index = function() return 'mallory' end})",
		"getmetatable(_ENV).__index = {tostring = function() return 'mallory' end}",
		"crm.create = nil",
		"table.insert(crm, 1)",
		"plugins.routing = {}",
	};
	crm_db *db = test_db();

	test_apply(db, routing);
	all_refused(db, attacks, sizeof attacks / sizeof *attacks);
	CHECK_OK(db, attack(db, "return ('x'):upper() .. tostring(1) .. type(crm.create)"));
	CHECK_HAS(test_get(db, "other", 1), "\"c\":\"X1function\"");
	crm_close(db);
}

TEST_LIST(T(test_sandbox__deep_or_cyclic_tables_are_refused_by_every_crm_function),
	  T(test_sandbox__deep_or_cyclic_results_are_refused), T(test_sandbox__deep_json_values_reach_lua_whole),
	  T(test_sandbox__xpcall_handler_is_bounded_by_budget), T(test_sandbox__metamethods_and_closers_are_bounded_by_budget),
	  T(test_sandbox__library_loops_in_c_are_bounded_by_budget),
	  T(test_sandbox__budgeted_library_functions_keep_their_meaning),
	  T(test_sandbox__plugin_tables_are_read_only_at_every_depth),
	  T(test_sandbox__plugin_code_keeps_its_own_tables),
	  T(test_sandbox__read_only_tables_read_whole_by_libcrm), T(test_sandbox__globals_do_not_outlive_a_call),
	  T(test_sandbox__shared_tables_cannot_be_changed))
