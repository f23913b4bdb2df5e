/* Bounded Lua 5.4 pattern matching (see lpattern.h): a backtracking matcher
 * that tries alternatives in the order the manual's semantics imply (so it
 * finds the same match as the stock library), charges every step to the
 * caller's budget and stops recursing at MAX_DEPTH nested continuations. */
#include "lpattern.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include <lauxlib.h>

#define ESC '%'
#define SPECIALS "^$*+?.([%-"
#define MAX_CAPTURES 32 /* LUA_MAXCAPTURES */
#define MAX_DEPTH 200   /* MAXCCALLS: the stock library's limit, so the same patterns fail */
#define CAP_OPEN (-1)   /* capture length while its ')' has not been reached */
#define CAP_POS (-2)    /* a position capture "()" */

/* Bulk byte work (memchr, memcmp, copying) is much cheaper than a matching
 * step, so it costs one step per BULK bytes: still linear, so still bounded. */
#define BULK 16

typedef struct mstate {
	const char *src;     /* the subject */
	const char *src_end;
	const char *p_end;   /* the pattern (may hold NULs) */
	lua_State *L;
	crm__lpattern_budget *budget;
	int depth_left;
	int level;           /* captures opened so far */
	struct {
		const char *init;
		ptrdiff_t len;
	} cap[MAX_CAPTURES];
} mstate;

static int uc(char c)
{
	return (unsigned char)c;
}

static void charge(mstate *ms, int64_t steps)
{
	if (ms->budget->steps_left < steps) {
		ms->budget->steps_left = 0;
		luaL_error(ms->L, "pattern matching budget exceeded");
	}
	ms->budget->steps_left -= steps;
}

static void ms_init(mstate *ms, lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
	ms->L = L;
	ms->budget = lua_touserdata(L, lua_upvalueindex(1));
	ms->src = s;
	ms->src_end = s + ls;
	ms->p_end = p + lp;
	ms->depth_left = MAX_DEPTH;
	ms->level = 0;
}

/* Before each attempt at a new subject position. */
static void ms_reset(mstate *ms)
{
	ms->level = 0;
	ms->depth_left = MAX_DEPTH;
}

/* The end of the single-character class starting at p ("x", "%x", "[...]"). */
static const char *class_end(mstate *ms, const char *p)
{
	char c = *p++;

	if (c == ESC) {
		if (p >= ms->p_end)
			luaL_error(ms->L, "malformed pattern (ends with '%%')");
		return p + 1;
	}
	if (c == '[') {
		const char *start = p;

		if (p < ms->p_end && *p == '^')
			p++;
		/* The first member is taken literally, so "[]]" is a set holding ']'. */
		do {
			if (p >= ms->p_end)
				luaL_error(ms->L, "malformed pattern (missing ']')");
			c = *p++;
			if (c == ESC && p < ms->p_end)
				p++;
		} while (p >= ms->p_end || *p != ']');
		charge(ms, (p - start) / BULK);
		return p + 1;
	}
	return p;
}

static int class_match(int c, int cl)
{
	int r;

	switch (tolower(cl)) {
	case 'a': r = isalpha(c); break;
	case 'c': r = iscntrl(c); break;
	case 'd': r = isdigit(c); break;
	case 'g': r = isgraph(c); break;
	case 'l': r = islower(c); break;
	case 'p': r = ispunct(c); break;
	case 's': r = isspace(c); break;
	case 'u': r = isupper(c); break;
	case 'w': r = isalnum(c); break;
	case 'x': r = isxdigit(c); break;
	case 'z': r = c == 0; break; /* deprecated, but Lua 5.4 still has it */
	default: return cl == c;
	}
	if (isupper(cl))
		r = !r;
	return r != 0;
}

/* Does c belong to the set "[...]" from p (the '[') to ec (the ']')? */
static int set_match(int c, const char *p, const char *ec)
{
	int in = 1;

	if (p[1] == '^') {
		in = 0;
		p++;
	}
	while (++p < ec) {
		if (*p == ESC) {
			p++;
			if (class_match(c, uc(*p)))
				return in;
		} else if (p[1] == '-' && p + 2 < ec) {
			if (uc(p[0]) <= c && c <= uc(p[2]))
				return in;
			p += 2;
		} else if (uc(*p) == c) {
			return in;
		}
	}
	return !in;
}

/* Does the character at s match the class from p to ep? */
static int single_match(mstate *ms, const char *s, const char *p, const char *ep)
{
	int c;

	charge(ms, *p == '[' ? 1 + (ep - p) / BULK : 1);
	if (s >= ms->src_end)
		return 0;
	c = uc(*s);
	switch (*p) {
	case '.': return 1;
	case ESC: return class_match(c, uc(p[1]));
	case '[': return set_match(c, p, ep - 1);
	default: return uc(*p) == c;
	}
}

static const char *match(mstate *ms, const char *s, const char *p);

/* %bxy at s, with p at x. */
static const char *match_balance(mstate *ms, const char *s, const char *p)
{
	int open, close, depth = 1;

	if (p + 1 >= ms->p_end)
		luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
	charge(ms, 1);
	if (s >= ms->src_end || uc(*s) != uc(p[0]))
		return NULL;
	open = uc(p[0]);
	close = uc(p[1]);
	while (++s < ms->src_end) {
		int c = uc(*s);

		charge(ms, 1);
		if (c == close) {
			if (--depth == 0)
				return s + 1;
		} else if (c == open) {
			depth++;
		}
	}
	return NULL;
}

/* A back-reference %1-%9 (c is the digit) at s. */
static const char *match_backref(mstate *ms, const char *s, int c)
{
	int l = c - '1';
	ptrdiff_t len;

	if (l < 0 || l >= ms->level || ms->cap[l].len == CAP_OPEN)
		luaL_error(ms->L, "invalid capture index %%%d", l + 1);
	len = ms->cap[l].len;
	charge(ms, 1 + (len > 0 ? len / BULK : 0));
	if (len < 0) /* a position capture never matches text */
		return NULL;
	if (ms->src_end - s >= len && memcmp(ms->cap[l].init, s, (size_t)len) == 0)
		return s + len;
	return NULL;
}

/* Longest run first: take as many as possible, give back one at a time. */
static const char *max_expand(mstate *ms, const char *s, const char *p, const char *ep)
{
	ptrdiff_t i = 0;

	while (single_match(ms, s + i, p, ep))
		i++;
	for (; i >= 0; i--) {
		const char *r = match(ms, s + i, ep + 1);

		if (r)
			return r;
	}
	return NULL;
}

/* Shortest run first: try the rest, then take one more. */
static const char *min_expand(mstate *ms, const char *s, const char *p, const char *ep)
{
	for (;;) {
		const char *r = match(ms, s, ep + 1);

		if (r)
			return r;
		if (!single_match(ms, s, p, ep))
			return NULL;
		s++;
	}
}

static const char *open_capture(mstate *ms, const char *s, const char *p, ptrdiff_t what)
{
	const char *r;

	if (ms->level >= MAX_CAPTURES)
		luaL_error(ms->L, "too many captures");
	ms->cap[ms->level].init = s;
	ms->cap[ms->level].len = what;
	ms->level++;
	r = match(ms, s, p);
	if (!r)
		ms->level--;
	return r;
}

static const char *close_capture(mstate *ms, const char *s, const char *p)
{
	const char *r;
	int l;

	for (l = ms->level - 1; l >= 0; l--)
		if (ms->cap[l].len == CAP_OPEN)
			break;
	if (l < 0)
		luaL_error(ms->L, "invalid pattern capture");
	ms->cap[l].len = s - ms->cap[l].init;
	r = match(ms, s, p);
	if (!r)
		ms->cap[l].len = CAP_OPEN;
	return r;
}

/* Match the pattern from p against the subject from s; returns the end of
 * the match or NULL. Items that need no backtracking loop here; each item
 * that may have to try alternatives recurses once for the rest. */
static const char *match_rest(mstate *ms, const char *s, const char *p)
{
	for (;;) {
		const char *ep;
		char q;

		if (p == ms->p_end)
			return s;
		switch (*p) {
		case '(':
			if (p + 1 < ms->p_end && p[1] == ')')
				return open_capture(ms, s, p + 2, CAP_POS);
			return open_capture(ms, s, p + 1, CAP_OPEN);
		case ')':
			return close_capture(ms, s, p + 1);
		case '$':
			if (p + 1 == ms->p_end)
				return s == ms->src_end ? s : NULL;
			break; /* a literal '$' */
		case ESC:
			if (p + 1 >= ms->p_end)
				break; /* class_end reports it */
			if (p[1] == 'b') {
				s = match_balance(ms, s, p + 2);
				if (!s)
					return NULL;
				p += 4;
				continue;
			}
			if (p[1] == 'f') {
				int prev, cur;

				p += 2;
				if (p >= ms->p_end || *p != '[')
					luaL_error(ms->L, "missing '[' after '%%f' in pattern");
				ep = class_end(ms, p);
				charge(ms, 1);
				prev = s == ms->src ? 0 : uc(s[-1]);
				cur = s < ms->src_end ? uc(*s) : 0;
				if (!set_match(prev, p, ep - 1) && set_match(cur, p, ep - 1)) {
					p = ep;
					continue;
				}
				return NULL;
			}
			if (isdigit(uc(p[1]))) {
				s = match_backref(ms, s, uc(p[1]));
				if (!s)
					return NULL;
				p += 2;
				continue;
			}
			break;
		default:
			break;
		}
		/* A single-character class, perhaps with a quantifier. */
		ep = class_end(ms, p);
		q = ep < ms->p_end ? *ep : '\0';
		if (!single_match(ms, s, p, ep)) {
			if (q == '*' || q == '?' || q == '-') {
				p = ep + 1; /* zero occurrences */
				continue;
			}
			return NULL;
		}
		switch (q) {
		case '?': {
			const char *r = match(ms, s + 1, ep + 1);

			if (r)
				return r;
			p = ep + 1;
			continue;
		}
		case '+': return max_expand(ms, s + 1, p, ep);
		case '*': return max_expand(ms, s, p, ep);
		case '-': return min_expand(ms, s, p, ep);
		default:
			s++;
			p = ep;
			continue;
		}
	}
}

static const char *match(mstate *ms, const char *s, const char *p)
{
	const char *r;

	if (ms->depth_left-- == 0)
		luaL_error(ms->L, "pattern too complex");
	charge(ms, 1); /* each start position, each backtracking retry */
	r = match_rest(ms, s, p);
	ms->depth_left++;
	return r;
}

/* Capture i as text (*out, returned length) or, for a position capture,
 * pushed as an integer (returns CAP_POS). With no captures at all, capture
 * 0 is the whole match s..e. */
static ptrdiff_t get_capture(mstate *ms, int i, const char *s, const char *e, const char **out)
{
	ptrdiff_t len;

	if (i >= ms->level) {
		if (i != 0)
			luaL_error(ms->L, "invalid capture index %%%d", i + 1);
		*out = s;
		return e - s;
	}
	len = ms->cap[i].len;
	*out = ms->cap[i].init;
	if (len == CAP_OPEN)
		luaL_error(ms->L, "unfinished capture");
	if (len == CAP_POS)
		lua_pushinteger(ms->L, (lua_Integer)(ms->cap[i].init - ms->src) + 1);
	return len;
}

static void push_capture(mstate *ms, int i, const char *s, const char *e)
{
	const char *c;
	ptrdiff_t len = get_capture(ms, i, s, e, &c);

	if (len != CAP_POS)
		lua_pushlstring(ms->L, c, (size_t)len);
}

/* Push every capture (the whole match s..e when there are none and s is
 * given); returns how many. */
static int push_captures(mstate *ms, const char *s, const char *e)
{
	int n = ms->level == 0 && s ? 1 : ms->level;

	luaL_checkstack(ms->L, n, "too many captures");
	for (int i = 0; i < n; i++)
		push_capture(ms, i, s, e);
	return n;
}

/* Lua 5.4's rule for a start position: negative counts from the end, and
 * anything before the start means the start. */
static size_t start_index(lua_Integer pos, size_t len)
{
	if (pos > 0)
		return (size_t)pos;
	if (pos == 0)
		return 1;
	if (pos < -(lua_Integer)len)
		return 1;
	return len + (size_t)pos + 1;
}

static int no_specials(const char *p, size_t lp)
{
	for (size_t i = 0; i < lp; i++)
		if (p[i] && strchr(SPECIALS, p[i]))
			return 0;
	return 1;
}

/* Plain substring search, charging the bytes it looks at. */
static const char *plain_find(mstate *ms, const char *s, size_t ls, const char *p, size_t lp)
{
	const char *end, *from = s;

	if (lp == 0)
		return s;
	if (lp > ls)
		return NULL;
	end = s + (ls - lp) + 1; /* candidates start before this */
	while (from < end) {
		const char *c = memchr(from, p[0], (size_t)(end - from));

		if (!c) {
			charge(ms, 1 + (end - from) / BULK);
			return NULL;
		}
		charge(ms, 1 + (c - from + (ptrdiff_t)lp) / BULK);
		if (memcmp(c + 1, p + 1, lp - 1) == 0)
			return c;
		from = c + 1;
	}
	return NULL;
}

static int find_aux(lua_State *L, int find)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
	mstate ms;

	if (init > ls) {
		lua_pushnil(L);
		return 1;
	}
	if (find && (lua_toboolean(L, 4) || no_specials(p, lp))) {
		const char *hit;

		ms_init(&ms, L, s, ls, p, lp);
		hit = plain_find(&ms, s + init, ls - init, p, lp);
		if (hit) {
			lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
			lua_pushinteger(L, (lua_Integer)(hit - s + (ptrdiff_t)lp));
			return 2;
		}
	} else {
		const char *s1 = s + init;
		int anchor = lp > 0 && *p == '^';

		if (anchor) {
			p++;
			lp--;
		}
		ms_init(&ms, L, s, ls, p, lp);
		for (;;) { /* every start from init to the very end, or only init */
			const char *e;

			ms_reset(&ms);
			e = match(&ms, s1, p);
			if (e) {
				if (find) {
					lua_pushinteger(L, (lua_Integer)(s1 - s) + 1);
					lua_pushinteger(L, (lua_Integer)(e - s));
					return push_captures(&ms, NULL, NULL) + 2;
				}
				return push_captures(&ms, s1, e);
			}
			if (anchor || s1 == ms.src_end)
				break;
			s1++;
		}
	}
	lua_pushnil(L);
	return 1;
}

static int lp_find(lua_State *L)
{
	return find_aux(L, 1);
}

static int lp_match(lua_State *L)
{
	return find_aux(L, 0);
}

/* gmatch's iterator state: offsets into the subject kept as an upvalue. */
typedef struct gstate {
	size_t pos;       /* where the next search starts */
	ptrdiff_t last;   /* end of the previous match, or -1 */
} gstate;

static int gmatch_step(lua_State *L)
{
	size_t ls, lp;
	const char *s = lua_tolstring(L, lua_upvalueindex(2), &ls);
	const char *p = lua_tolstring(L, lua_upvalueindex(3), &lp);
	gstate *g = lua_touserdata(L, lua_upvalueindex(4));
	mstate ms;

	if (g->pos > ls)
		return 0;
	ms_init(&ms, L, s, ls, p, lp);
	for (const char *src = s + g->pos;; src++) {
		const char *e;

		ms_reset(&ms);
		e = match(&ms, src, p);
		/* An empty match right where the previous one ended is skipped. */
		if (e && (g->last < 0 || e != s + g->last)) {
			g->pos = (size_t)(e - s);
			g->last = e - s;
			return push_captures(&ms, src, e);
		}
		if (src == ms.src_end)
			break;
	}
	g->pos = ls + 1; /* exhausted: later calls find nothing at once */
	return 0;
}

static int lp_gmatch(lua_State *L)
{
	size_t ls, init;
	gstate *g;

	luaL_checklstring(L, 1, &ls); /* converts numbers in place: the upvalues are strings */
	luaL_checkstring(L, 2);
	init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
	lua_settop(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1); /* budget, subject, pattern */
	g = lua_newuserdatauv(L, sizeof *g, 0);
	g->pos = init > ls ? ls + 1 : init;
	g->last = -1;
	lua_pushcclosure(L, gmatch_step, 4);
	return 1;
}

/* Append the replacement string (argument 3) with its %0-%9 and %%. */
static void add_template(mstate *ms, luaL_Buffer *b, const char *s, const char *e)
{
	lua_State *L = ms->L;
	size_t l;
	const char *t = lua_tolstring(L, 3, &l);
	const char *end = t + l, *pct;

	charge(ms, 1 + (ptrdiff_t)l / BULK);
	while ((pct = memchr(t, ESC, (size_t)(end - t))) != NULL) {
		char c;

		luaL_addlstring(b, t, (size_t)(pct - t));
		pct++;
		c = pct < end ? *pct : '\0';
		if (c == ESC) {
			luaL_addchar(b, ESC);
		} else if (c == '0') {
			charge(ms, (e - s) / BULK);
			luaL_addlstring(b, s, (size_t)(e - s));
		} else if (isdigit(uc(c))) {
			const char *cap;
			ptrdiff_t len = get_capture(ms, c - '1', s, e, &cap);

			if (len == CAP_POS) {
				luaL_addvalue(b);
			} else {
				charge(ms, len / BULK);
				luaL_addlstring(b, cap, (size_t)len);
			}
		} else {
			luaL_error(L, "invalid use of '%c' in replacement string", ESC);
		}
		t = pct + 1;
	}
	luaL_addlstring(b, t, (size_t)(end - t));
}

/* Append the replacement for the match s..e; returns whether it differs
 * from the matched text (a false/nil from a table or function keeps it). */
static int add_value(mstate *ms, luaL_Buffer *b, const char *s, const char *e, int tr)
{
	lua_State *L = ms->L;

	switch (tr) {
	case LUA_TFUNCTION: {
		int n;

		lua_pushvalue(L, 3);
		n = push_captures(ms, s, e);
		lua_call(L, n, 1);
		break;
	}
	case LUA_TTABLE:
		push_capture(ms, 0, s, e);
		lua_gettable(L, 3);
		break;
	default:
		add_template(ms, b, s, e);
		return 1;
	}
	if (!lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		luaL_addlstring(b, s, (size_t)(e - s));
		return 0;
	}
	if (!lua_isstring(L, -1))
		return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
	luaL_addvalue(b);
	return 1;
}

static int lp_gsub(lua_State *L)
{
	size_t ls, lp;
	const char *src = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	const char *lastmatch = NULL;
	int tr = lua_type(L, 3);
	lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
	int anchor = lp > 0 && *p == '^';
	lua_Integer n = 0;
	int changed = 0;
	luaL_Buffer b;
	mstate ms;

	luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
			 "string/function/table");
	luaL_buffinit(L, &b);
	if (anchor) {
		p++;
		lp--;
	}
	ms_init(&ms, L, src, ls, p, lp);
	while (n < max_n) {
		const char *e;

		ms_reset(&ms);
		e = match(&ms, src, p);
		if (e && e != lastmatch) {
			n++;
			changed = add_value(&ms, &b, src, e, tr) | changed;
			src = lastmatch = e;
		} else if (src < ms.src_end) {
			luaL_addchar(&b, *src++);
		} else {
			break;
		}
		if (anchor)
			break;
	}
	if (!changed) {
		lua_pushvalue(L, 1);
	} else {
		charge(&ms, (ms.src_end - src) / BULK);
		luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
		luaL_pushresult(&b);
	}
	lua_pushinteger(L, n);
	return 2;
}

void crm__lpattern_install(lua_State *L, int idx, crm__lpattern_budget *budget)
{
	static const luaL_Reg fns[] = {
		{ "find", lp_find }, { "match", lp_match }, { "gmatch", lp_gmatch }, { "gsub", lp_gsub }, { NULL, NULL }
	};

	lua_pushvalue(L, idx);
	lua_pushlightuserdata(L, budget);
	luaL_setfuncs(L, fns, 1);
	lua_pop(L, 1);
}
