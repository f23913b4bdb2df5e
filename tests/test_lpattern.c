/* Unit tests for lib/script/lpattern.c: the bounded find/match/gmatch/gsub
 * must agree with Lua 5.4's own functions on a large generated set of
 * cases (results, captures, positions, counts and error messages), stop
 * hostile patterns quickly through the budget, and never overflow the C
 * stack however deep a pattern nests. */
#include "test.h"

#include <lauxlib.h>
#include <lualib.h>
#include <time.h>

#include "script/lpattern.h"

static crm__lpattern_budget budget;

/* A state whose `string` functions are the bounded ones; the stock ones
 * stay reachable as the global table `orig`. */
static lua_State *new_state(void)
{
	lua_State *L = luaL_newstate();

	luaL_openlibs(L);
	lua_getglobal(L, "string");
	lua_newtable(L);
	for (const char *const *n = (const char *const[]){ "find", "match", "gmatch", "gsub", NULL }; *n; n++) {
		lua_getfield(L, -2, *n);
		lua_setfield(L, -2, *n);
	}
	lua_setglobal(L, "orig");
	crm__lpattern_install(L, -1, &budget);
	lua_pop(L, 1);
	budget.steps_left = INT64_MAX / 2;
	return L;
}

/* Run `src`; returns NULL on success, or the error message (copied into a
 * static buffer). */
static const char *run(lua_State *L, const char *src)
{
	static char msg[512];

	if (luaL_dostring(L, src) == LUA_OK) {
		lua_settop(L, 0);
		return NULL;
	}
	snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "(non-string error)");
	lua_settop(L, 0);
	return msg;
}

/* CPU seconds, so that a loaded machine does not fail the timing checks. */
static double now(void)
{
	return (double)clock() / CLOCKS_PER_SEC;
}

/* The comparison script, in pieces (ISO C caps a string literal's length).
 * It defines cmp(name, args...) comparing stock vs bounded, hand-written
 * cases, then a seeded generator of many more. It returns the number of
 * cases, the number of mismatches and a report of the first few. */
static const char *const compare_lua[] = {
	/* Serialising results exactly: numbers keep their subtype. */
	"local O, N = orig, string\n"
	"local concat, pack, unpack = table.concat, table.pack, table.unpack\n"
	"local function ser(v)\n"
	"  local t = type(v)\n"
	"  if t == 'string' then return string.format('%q', v)\n"
	"  elseif t == 'number' then return math.type(v) .. ':' .. tostring(v)\n"
	"  else return tostring(t == 'table' and 'table' or t == 'function' and 'function' or v) end\n"
	"end\n"
	"local function serpack(p)\n"
	"  local t = {}\n"
	"  for i = 1, p.n do t[i] = ser(p[i]) end\n"
	"  return p.n .. '[' .. concat(t, ',') .. ']'\n"
	"end\n"
	/* Replacement functions log their arguments and answer by them. */
	"local log\n"
	"local function repl_fn(...)\n"
	"  local a = pack(...)\n"
	"  log[#log + 1] = serpack(a)\n"
	"  local k = a[1]\n"
	"  if k == 'c' then return {} end\n"
	"  local h = #tostring(k) % 6\n"
	"  if h == 0 then return nil elseif h == 1 then return false\n"
	"  elseif h == 2 then return tostring(k) .. '!' elseif h == 3 then return #tostring(k) + 0.5\n"
	"  elseif h == 4 then return 7 else return k end\n"
	"end\n"
	"local repl_tab = { a = 'A', b = false, ab = 1, ba = 2.5, ['('] = {}, [1] = 'one', [2] = 2,\n"
	"  [3] = false, aa = '%1', x = 'X', [''] = 'E' }\n"
	"local function call(F, name, args)\n"
	"  log = {}\n"
	"  local ok, r = pcall(function()\n"
	"    local fn = F[name]\n"
	"    if name == 'gmatch' then\n"
	"      local it = fn(unpack(args, 1, args.n))\n"
	"      local out = {}\n"
	"      for i = 1, 40 do\n"
	"        local v = pack(it())\n"
	"        out[#out + 1] = serpack(v)\n"
	"        if v[1] == nil then break end\n"
	"      end\n"
	"      return concat(out, ';')\n"
	"    end\n"
	"    local res = pack(fn(unpack(args, 1, args.n)))\n"
	"    return serpack(res)\n"
	"  end)\n"
	"  return (ok and 'ok ' or 'error ') .. tostring(r) .. ' log ' .. concat(log, ';')\n"
	"end\n"
	"local cases, bad, report, kinds = 0, 0, {}, { error = 0, nomatch = 0, match = 0 }\n"
	"local function cmp(name, ...)\n"
	"  local args = pack(...)\n"
	"  local want, got = call(O, name, args), call(N, name, args)\n"
	"  cases = cases + 1\n"
	"  local kind = want:match('^error') and 'error' or (want:match('^ok 1%[nil%]') or want:match('^ok 0%[%]'))\n"
	"    and 'nomatch' or 'match'\n"
	"  kinds[kind] = kinds[kind] + 1\n"
	"  if want ~= got then\n"
	"    bad = bad + 1\n"
	"    if #report < 25 then\n"
	"      local a = {}\n"
	"      for i = 1, args.n do a[i] = ser(args[i]) end\n"
	"      report[#report + 1] = name .. '(' .. concat(a, ', ') .. ')\\n  want ' .. want .. '\\n  got  ' .. got\n"
	"    end\n"
	"  end\n"
	"end\n",

	/* Hand-written cases: one or more per feature of the manual's §6.4.1. */
	"local all = function(s, p, ...) cmp('find', s, p, ...) cmp('match', s, p, ...)\n"
	"  cmp('gmatch', s, p, ...) end\n"
	"local subjects = { '', 'a', 'hello world from Lua', '  key = value  ', 'THE (quick) [brown] fox',\n"
	"  'f(a(b)c)d', 'x = 10, y = 20.5, z = -3', 'aaa', 'abcabcabc', 'a.b.c', 'one\\0two', '\\200\\255\\1\\127',\n"
	"  'THE (quick) fox', '[[x]]', '%d%%', '$^', 'a\\nb\\tc d', 'hello hello' }\n"
	"local patterns = { '', 'a', '.', '%a+', '%A+', '%d+', '%D+', '%l+', '%u+', '%s+', '%S+', '%w+',\n"
	"  '%W+', '%x+', '%X+', '%p+', '%P+', '%c+', '%C+', '%g+', '%G+', '%.', '%%', '%%d', '[%a_][%w_]*',\n"
	"  '[^%s=]+', '[a-f]+', '[^a-f]+', '[]]', '[^]]+', '[a-]+', '[-a]+', '[%]%[]+', '(%w+) (%w+)',\n"
	"  '(%w+)=(%w+)', '(%w+)%s*=%s*(%w+)', '()', '()a()', '(a)(b)(c)', '(a*(.)%w(%s*))', '%b()', '%b[]',\n"
	"  '%bxy', '%b((', '%f[%w]%w+', '%f[%W]', '%f[%a]%a+%f[%A]', '%f[^%z]', '%f[%z]', '^a', '^', '$',\n"
	"  'a$', '^$', '^a*$', '.-', '.-b', 'a-b', 'a?b', 'a?a?a', '(h)(e)(l)(l)(o)', '(l)%1', '(.)%1',\n"
	"  '(hello) %1', '%0', '%1', '(a%1)', '(()a)%2', '(a)%2', 'a*', 'a+', 'a-', 'a?', '[%a%d]+',\n"
	"  '[%A%D]+', '[%z]', '%z', '%Z+', '\\0', '[\\0-\\1]', '[\\128-\\255]+', '%', '[a', '[^', '[a%',\n"
	"  '(', ')', '(()', '%b', '%ba', '%f', '%fa', '%f[a', '((a)', 'a)', '%g%', '$a', 'a$b', '^^',\n"
	"  '[^^]', '%^', '%$', '[$^]+', '(.-)%s*$', '^%s*(.-)%s*$', '%[(.-)%]', '(%b())', 'x*$', '.-$',\n"
	"  '(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)', '[a-%%]', '[%a-z]', '[a-]', '[]-a]', '[!--]+', '[a-c-e]+' }\n"
	"local inits = { nil, 1, 2, 0, -1, -3, -100, 5, 100, math.mininteger, math.maxinteger }\n"
	"for _, s in ipairs(subjects) do\n"
	"  for _, p in ipairs(patterns) do\n"
	"    all(s, p)\n"
	"    for i = 1, 11 do all(s, p, inits[i]) end\n"
	"    cmp('find', s, p, 1, true) cmp('find', s, p, -4, true) cmp('find', s, p, nil, false)\n"
	"    for _, r in ipairs({ '<%0>', '%1', '%2-%1', '%%', '%', '%x', '', 'x', 7, 1.5 }) do\n"
	"      cmp('gsub', s, p, r)\n"
	"    end\n"
	"    cmp('gsub', s, p, repl_fn) cmp('gsub', s, p, repl_tab)\n"
	"    for _, n in ipairs({ 0, 1, 2, -1, 2.0 }) do cmp('gsub', s, p, '[%0]', n) end\n"
	"  end\n"
	"end\n",

	/* Argument handling: conversions and errors. */
	"cmp('find', 12345, 34) cmp('find', 'abc', 'b', '2') cmp('find', 'abc', 'b', 1.5)\n"
	"cmp('find', 'abc', 'b', 'x') cmp('find', nil, 'b') cmp('find', 'abc') cmp('find', 'abc', {})\n"
	"cmp('match', 3.5, '%d') cmp('match', 'abc', 'b', 2.0) cmp('gmatch', 'abc', nil)\n"
	"cmp('gmatch', 'abc', '.', 'x') cmp('gsub', 'abc', 'b') cmp('gsub', 'abc', 'b', true)\n"
	"cmp('gsub', 'abc', 'b', nil, 1) cmp('gsub', 'abc', 'b', 'x', 'y') cmp('gsub', 'abc', 'b', 'x', 1.5)\n"
	"cmp('gsub', 'abc', '%w', 'x', math.mininteger) cmp('gsub', 'abc', '', '-')\n"
	"cmp('gsub', 'abc', '%w*', '-') cmp('gsub', 'abc', 'x*', '-') cmp('gsub', 'hello world', '%w+', '%0 %0')\n"
	"cmp('gsub', 'abc', '(a)', '%2') cmp('gsub', 'abc', 'a', '%1') cmp('gsub', 'abc', '(a', 'x')\n"
	"cmp('gsub', 'abc', '(a', '%1') cmp('gsub', 'abc', '(a', repl_fn) cmp('gsub', 'abc', '()', '%1')\n"
	"cmp('gsub', 'abc', '()', repl_tab) cmp('gsub', 'abc', '^', '>') cmp('gsub', 'abc', '$', '<')\n"
	"cmp('gsub', 'abc', '^a*', 'x') cmp('gmatch', 'abc', '^a') cmp('gmatch', 'a^b', '^b')\n"
	"cmp('gsub', 'abc', '.', { a = 1, b = true })\n"
	"cmp('gsub', 'abc', '%w', setmetatable({}, { __index = function(_, k) return k:upper() end }))\n"
	/* Nesting limits: depth, captures. */
	"cmp('find', ('a'):rep(300), ('a?'):rep(300)) cmp('find', ('a'):rep(199), ('a?'):rep(199))\n"
	"cmp('find', ('a'):rep(198), ('a?'):rep(198)) cmp('find', ('a'):rep(250), ('a*'):rep(250))\n"
	"cmp('match', ('a'):rep(40), ('(a)'):rep(32)) cmp('match', ('a'):rep(40), ('(a)'):rep(33))\n"
	"cmp('match', ('a'):rep(40), ('()'):rep(33)) cmp('match', 'x', ('('):rep(100))\n"
	"cmp('match', ('a'):rep(40), ('(a'):rep(20) .. (')'):rep(20)) cmp('match', ('a'):rep(300), ('(a'):rep(150))\n"
	"cmp('gsub', ('a'):rep(40), ('(a)'):rep(10), '%9%8%1') cmp('find', ('x'):rep(300), ('%f[x]x'):rep(300))\n"
	"cmp('find', ('(x)'):rep(100), ('%b()'):rep(100)) cmp('find', ('()'):rep(150), ('%b()?'):rep(150))\n"
	"for d = 196, 202 do cmp('match', ('a'):rep(d), ('(a)?'):rep(d)) cmp('match', ('a'):rep(d), ('a-'):rep(d) .. '$') end\n",

	/* Generated cases. */
	"math.randomseed(20240611)\n"
	"local R = math.random\n"
	"local chars = { 'a', 'b', 'c', 'A', 'B', '1', '2', ' ', '(', ')', '[', ']', '%', '.', '-', '^', '$',\n"
	"  'x', '\\0', '\\n', '\\200', '\\255', '_', ',', '=' }\n"
	"local function rsubject()\n"
	"  local t = {}\n"
	"  for i = 1, R(0, 10) do t[i] = R() < 0.6 and ({ 'a', 'b', 'a', 'b', 'c' })[R(5)] or chars[R(#chars)] end\n"
	"  return concat(t)\n"
	"end\n"
	/* Atoms that take a quantifier, and items that do not. */
	"local atoms = { 'a', 'b', 'c', 'a', 'b', '.', '.', '%a', '%A', '%d', '%D', '%l', '%u', '%s', '%S', '%w',\n"
	"  '%W', '%x', '%p', '%P', '%c', '%g', '%%', '%.', '%(', '%]', '%z', '[ab]', '[^ab]', '[a-c]', '[%a_]',\n"
	"  '[%d%s]', '[]]', '[^]]', '[a-]', '[-a]', '[%]]', '[^%a]', '[]a]', '[a%-z]', '\\0', '[\\0-a]', '$', '^',\n"
	"  '[^^]', '[(%)]', '[A-Z]', '[%w%p]', '\\200', '[\\128-\\255]', '=', ',' }\n"
	"local items = { '%1', '%2', '%3', '%0', '%b()', '%bab', '%bba', '%b[]', '%f[%w]', '%f[%W]', '%f[a]',\n"
	"  '%f[^a]', '%f[%z]', '()', '%', '[', '[a', '[^', '%b', '%ba', '%f', '%fa', '%9', '[%', '[a%', '%f[a',\n"
	"  '(()', '%x', '%Q', '%1%1', '$' }\n"
	"local quants = { '', '', '', '*', '+', '-', '?' }\n"
	"local function rpattern()\n"
	"  local t, open, nq = {}, 0, 0\n"
	"  if R() < 0.2 then t[#t + 1] = '^' end\n"
	"  for _ = 1, R(0, 6) do\n"
	"    local r = R()\n"
	"    if r < 0.14 then t[#t + 1] = '(' open = open + 1\n"
	"    elseif r < 0.25 then t[#t + 1] = ')' open = open - 1\n"
	"    elseif r < 0.37 then t[#t + 1] = items[R(#items)]\n"
	"    else\n"
	"      t[#t + 1] = atoms[R(#atoms)]\n"
	"      if nq < 4 then\n"
	"        local q = quants[R(#quants)]\n"
	"        if q ~= '' then nq = nq + 1 end\n"
	"        t[#t + 1] = q\n"
	"      end\n"
	"    end\n"
	"  end\n"
	"  if open > 0 and R() < 0.7 then t[#t + 1] = (')'):rep(open) end\n"
	"  if R() < 0.15 then t[#t + 1] = '$' end\n"
	"  return concat(t)\n"
	"end\n"
	"local ginits = { 1, 2, 0, -1, -2, -5, 3, 11, 12, 100, -100 }\n"
	"local reps = { 'x', '', '%0', '%1', '%2', '<%1|%2>', '%%', '%', '%x', 'a%', '%9', '[%0]', '%3%1', 7, 1.5,\n"
	"  '%1%1%1', '%%%0%%' }\n"
	"local ns = { 0, 1, 2, -1, 3 }\n"
	"for _ = 1, CASES do\n"
	"  local s, p = rsubject(), rpattern()\n"
	"  local init = R() < 0.5 and ginits[R(#ginits)] or nil\n"
	"  cmp('find', s, p, init, R() < 0.15 or nil)\n"
	"  cmp('match', s, p, init)\n"
	"  cmp('gmatch', s, p, init)\n"
	"  local r = R()\n"
	"  local rep = r < 0.15 and repl_fn or r < 0.3 and repl_tab or reps[R(#reps)]\n"
	"  if R() < 0.3 then cmp('gsub', s, p, rep, ns[R(#ns)]) else cmp('gsub', s, p, rep) end\n"
	"end\n"
	"return cases, bad, concat(report, '\\n'),\n"
	"  string.format('%d matched, %d did not, %d raised errors', kinds.match, kinds.nomatch, kinds.error)\n",
	NULL,
};

TEST(test_lpattern__agrees_with_stock_lua_on_generated_cases)
{
	lua_State *L = new_state();
	luaL_Buffer b;
	long long cases, bad;

	luaL_buffinit(L, &b);
	for (const char *const *piece = compare_lua; *piece; piece++)
		luaL_addstring(&b, *piece);
	luaL_pushresult(&b);
	lua_pushinteger(L, 60000);
	lua_setglobal(L, "CASES");
	if (luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=compare") != LUA_OK ||
	    lua_pcall(L, 0, 4, 0) != LUA_OK) {
		fprintf(stderr, "comparison script failed: %s\n", lua_tostring(L, -1));
		test_failures_++;
		lua_close(L);
		return;
	}
	cases = lua_tointeger(L, -4);
	bad = lua_tointeger(L, -3);
	printf("lpattern: %lld comparison cases (stock Lua: %s), %lld mismatches\n", cases, lua_tostring(L, -1), bad);
	if (bad)
		fprintf(stderr, "%s\n", lua_tostring(L, -2));
	CHECK(cases > 100000);
	CHECK_INT(bad, 0);
	lua_close(L);
}

TEST(test_lpattern__hostile_pattern_stops_quickly_on_budget)
{
	/* Stock Lua needs about 8e10 steps (minutes) for each of these. The
	 * bound is loose for unoptimised sanitizer builds; -O2 takes ~30 ms. */
	static const char *const hostile[] = {
		"return string.find(('a'):rep(100), '.-.-.-.-.-.-b')",
		"return (('a'):rep(100)):match('.-.-.-.-.-.-b')", /* methods are bounded too */
		"for _ in ('a'):rep(100):gmatch('.-.-.-.-.-.-b') do end",
		"return (('a'):rep(100)):gsub('.-.-.-.-.-.-b', '')",
	};
	lua_State *L = new_state();

	for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
		double t0 = now(), dt;

		budget.steps_left = 10000000;
		CHECK_HAS(run(L, hostile[i]), "pattern matching budget exceeded");
		dt = now() - t0;
		printf("hostile pattern %zu stopped after %.3f s of CPU\n", i, dt);
		CHECK(dt < 2.0);
	}
	/* pcall catches it, but the budget stays spent. */
	budget.steps_left = 10000000;
	CHECK_HAS(run(L, "local ok, e = pcall(string.find, ('a'):rep(100), '.-.-.-.-.-.-b')\n"
			 "assert(not ok)\n"
			 "return string.find('abc', 'b')"),
		  "pattern matching budget exceeded");
	CHECK_INT(budget.steps_left, 0);
	lua_close(L);
}

TEST(test_lpattern__budget_just_large_enough_succeeds)
{
	static const char *const scripts[] = {
		"assert(string.find(('a'):rep(40), '.-.-b') == nil)",
		"assert(select(2, string.gsub(('hello world '):rep(20), '(%w+)', '<%1>')) == 40)",
		"local n = 0 for w in ('a,b,,c'):rep(30):gmatch('([^,]*)') do n = n + 1 end assert(n > 60)",
		"assert(string.find(('ab'):rep(500), ('ab'):rep(20) .. 'x', 1, true) == nil)",
		"assert(string.match(('(x)'):rep(50), '%b()$') == '(x)')",
	};

	for (size_t i = 0; i < sizeof scripts / sizeof *scripts; i++) {
		lua_State *L = new_state();
		int64_t start = 1000000000, used;

		budget.steps_left = start;
		CHECK(run(L, scripts[i]) == NULL);
		used = start - budget.steps_left;
		CHECK(used > 0);
		budget.steps_left = used;
		CHECK(run(L, scripts[i]) == NULL);
		CHECK_INT(budget.steps_left, 0);
		budget.steps_left = used - 1;
		CHECK_HAS(run(L, scripts[i]), "pattern matching budget exceeded");
		lua_close(L);
	}
}

TEST(test_lpattern__deep_patterns_fail_cleanly)
{
	lua_State *L = new_state();

	budget.steps_left = 10000000;
	CHECK_HAS(run(L, "return string.find(('a'):rep(1000), ('a?'):rep(1000))"), "pattern too complex");
	CHECK_HAS(run(L, "return string.match(('a'):rep(1000), ('(a'):rep(1000))"), "too many captures");
	CHECK_HAS(run(L, "return string.match(('ab'):rep(1000), ('a*b'):rep(1000))"), "pattern too complex");
	CHECK_HAS(run(L, "return string.gsub(('a'):rep(1000), ('a-'):rep(150) .. 'b', '')"),
		  "pattern matching budget exceeded");
	budget.steps_left = 10000000;
	/* Long patterns that need no recursion are fine. */
	CHECK(run(L, "assert(string.find(('a'):rep(100000), ('a'):rep(100000)) == 1)") == NULL);
	CHECK(run(L, "assert(string.find(('()'):rep(10000), ('%b()'):rep(10000)) == 1)") == NULL);
	/* Replacement functions nesting gsub inside gsub stop at Lua's C-call limit. */
	CHECK(run(L, "local function f(s) return (s:gsub('.', f)) end return f(('a'):rep(1000))") != NULL);
	/* A huge set costs in proportion to its size. */
	budget.steps_left = 10000000;
	CHECK_HAS(run(L, "return string.find(('b'):rep(100000), '[' .. ('a'):rep(100000) .. ']')"),
		  "pattern matching budget exceeded");
	lua_close(L);
}

TEST(test_lpattern__gmatch_iterator_outlives_its_call)
{
	lua_State *L = new_state();

	budget.steps_left = 1000000;
	CHECK(run(L, "local it = string.gmatch('k1=v1, k2=v2', '(%w+)=(%w+)')\n"
		     "collectgarbage() collectgarbage()\n"
		     "local k, v = it() assert(k == 'k1' and v == 'v1')\n"
		     "local co = coroutine.wrap(function() return it() end)\n"
		     "k, v = co() assert(k == 'k2' and v == 'v2')\n"
		     "assert(it() == nil) assert(it() == nil)") == NULL);
	lua_close(L);
}

TEST_LIST(T(test_lpattern__agrees_with_stock_lua_on_generated_cases),
	  T(test_lpattern__hostile_pattern_stops_quickly_on_budget),
	  T(test_lpattern__budget_just_large_enough_succeeds),
	  T(test_lpattern__deep_patterns_fail_cleanly),
	  T(test_lpattern__gmatch_iterator_outlives_its_call))
