/* Decision tables at run time: the handle's cache of compiled tables, rule
 * matching, and the three ways in: crm__decide (cJSON, for the workflow
 * engine), crm_decision_eval (JSON text) and crm.decide (Lua). */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json_parse.h"
#include "core/json_scan.h"
#include "crm/workflow.h"
#include "decision.h"
#include "form/form_int.h"
#include "script/script.h"

/* Scratch buffers bigger than this are not kept between calls. */
#define KEEP_SCRATCH (64 * 1024)

typedef struct decision_cache {
	crm__dtable **tables;
	int n, cap;
	crm__buf scratch; /* decoded input strings of crm_decision_eval */
} decision_cache;

static void cache_flush(void *p)
{
	decision_cache *c = p;

	for (int i = 0; i < c->n; i++)
		crm__decision_free(c->tables[i]);
	c->n = 0;
}

static void cache_free(void *p)
{
	decision_cache *c = p;

	cache_flush(c);
	crm__free(c->tables);
	crm__buf_free(&c->scratch);
	crm__free(c);
}

static decision_cache *cache_of(crm_db *db)
{
	if (!db->ext[CRM__EXT_DECISION] && (db->ext[CRM__EXT_DECISION] = crm__calloc(1, sizeof(decision_cache)))) {
		db->ext_free[CRM__EXT_DECISION] = cache_free;
		db->ext_flush[CRM__EXT_DECISION] = cache_flush;
	}
	return db->ext[CRM__EXT_DECISION];
}

/* The compiled table `name`, borrowed until the next metadata change. */
static int lookup(crm_db *db, const char *name, const crm__dtable **out)
{
	decision_cache *c = cache_of(db);
	crm__dtable *t;
	int rc;

	*out = NULL;
	if (!c)
		return crm__error_oom(db);
	if (!name)
		return crm__error(db, CRM_EMISUSE, "no decision table name given");
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->tables[i]->name, name) == 0) {
			*out = c->tables[i];
			return CRM_OK;
		}
	/* Not echoed: it may be anything, even invalid UTF-8. */
	if (!crm__valid_name(name))
		return crm__error(db, CRM_ENOTFOUND, "no decision table by that name (not a valid name)");
	if ((rc = crm__decision_load(db, name, &t)))
		return rc;
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 8;
		crm__dtable **tables = crm__realloc(c->tables, (size_t)cap * sizeof *tables);
		if (!tables) {
			crm__decision_free(t);
			return crm__error_oom(db);
		}
		c->tables = tables;
		c->cap = cap;
	}
	c->tables[c->n++] = t;
	*out = t;
	return CRM_OK;
}

/* ---- matching ---- */

static int same(const crm__dval *a, const crm__dval *b)
{
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case CRM__D_MISSING: return 1;
	case CRM__D_BOOL: return a->b == b->b;
	case CRM__D_NUM: return a->d == b->d;
	case CRM__D_STR: return a->n == b->n && (a->n == 0 || memcmp(a->s, b->s, a->n) == 0);
	default: return 0;
	}
}

/* Order `a` against `b` in *cmp: 1 when both are numbers or both strings
 * (bytewise), 0 when they cannot be ordered. */
static int order(const crm__dval *a, const crm__dval *b, int *cmp)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == CRM__D_NUM) {
		if (a->d != a->d) /* NaN (from Lua) orders against nothing */
			return 0;
		*cmp = (a->d > b->d) - (a->d < b->d);
		return 1;
	}
	if (a->kind == CRM__D_STR) {
		size_t n = a->n < b->n ? a->n : b->n;
		int c = n ? memcmp(a->s, b->s, n) : 0;
		*cmp = c ? (c > 0) - (c < 0) : (a->n > b->n) - (a->n < b->n);
		return 1;
	}
	return 0;
}

static int cond_holds(const crm__dcond *c, const crm__dval *v)
{
	int cmp, lo;

	switch (c->op) {
	case CRM__DOP_EQ: return same(v, &c->values[0]);
	case CRM__DOP_NE: return !same(v, &c->values[0]);
	case CRM__DOP_LT: return order(v, &c->values[0], &cmp) && cmp < 0;
	case CRM__DOP_LE: return order(v, &c->values[0], &cmp) && cmp <= 0;
	case CRM__DOP_GT: return order(v, &c->values[0], &cmp) && cmp > 0;
	case CRM__DOP_GE: return order(v, &c->values[0], &cmp) && cmp >= 0;
	case CRM__DOP_IN:
		for (int i = 0; i < c->nvalues; i++)
			if (same(v, &c->values[i]))
				return 1;
		return 0;
	case CRM__DOP_BETWEEN:
		if (!order(v, &c->values[0], &lo) || lo < 0)
			return 0;
		return order(v, &c->values[1], &cmp) && cmp <= 0;
	}
	return 0;
}

/* The first rule at or after `from` whose conditions all hold, or -1. */
static int next_match(const crm__dtable *t, const crm__dval *in, int from)
{
	for (int r = from; r < t->nrules; r++) {
		const crm__drule *rule = &t->rules[r];
		int ok = 1;
		for (int k = 0; k < rule->nconds && ok; k++)
			ok = cond_holds(&rule->conds[k], &in[rule->conds[k].input]);
		if (ok)
			return r;
	}
	return -1;
}

/* ---- inputs ---- */

/* The declared input named p[0..n), or -1. */
static int input_index(const crm__dtable *t, const char *p, size_t n)
{
	int lo = 0, hi = t->ninputs - 1;

	if (n == 0)
		return -1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2, c;
		const char *name = t->by_name[mid].name;
		size_t m = strlen(name);
		c = memcmp(p, name, n < m ? n : m);
		if (c == 0)
			c = (n > m) - (n < m);
		if (c == 0)
			return t->by_name[mid].index;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

static void clear_inputs(crm__dval *in, int n)
{
	if (n)
		memset(in, 0, (size_t)n * sizeof *in); /* every input CRM__D_MISSING */
}

/* Input values from a cJSON object (the first of duplicate members wins). */
static int inputs_from_cjson(crm_db *db, const crm__dtable *t, const cJSON *inputs, crm__dval *in)
{
	unsigned char seen[CRM__DECISION_MAX_IO] = { 0 };

	clear_inputs(in, t->ninputs);
	if (!inputs)
		return CRM_OK;
	if (!cJSON_IsObject(inputs))
		return crm__error(db, CRM_EINVAL, "decision %s: the inputs must be a JSON object", t->name);
	for (const cJSON *m = inputs->child; m; m = m->next) {
		int i = m->string ? input_index(t, m->string, strlen(m->string)) : -1;
		crm__dval *v;
		if (i < 0 || seen[i])
			continue;
		seen[i] = 1;
		v = &in[i];
		if (cJSON_IsBool(m)) {
			v->kind = CRM__D_BOOL;
			v->b = cJSON_IsTrue(m);
		} else if (cJSON_IsNumber(m)) {
			v->kind = CRM__D_NUM;
			v->d = m->valuedouble;
		} else if (cJSON_IsString(m)) {
			v->kind = CRM__D_STR;
			v->s = m->valuestring;
			v->n = strlen(m->valuestring);
		} else if (!cJSON_IsNull(m))
			v->kind = CRM__D_OTHER;
	}
	return CRM_OK;
}

/* A JSON number literal as a double (copied: strtod needs a terminator). */
static int number_of(const char *p, size_t n, double *out)
{
	char tmp[64], *heap = NULL, *s = tmp;

	if (n >= sizeof tmp && !(s = heap = crm__strndup(p, n)))
		return -1;
	if (!heap) {
		memcpy(tmp, p, n);
		tmp[n] = 0;
	}
	*out = strtod(s, NULL);
	crm__free(heap);
	return 0;
}

/* Input values from JSON text, scanned in place (no tree is built, so a
 * huge object costs one pass); strings are decoded into `scratch`. */
static int inputs_from_text(crm_db *db, const crm__dtable *t, const char *json, crm__buf *scratch, crm__dval *in)
{
	unsigned char seen[CRM__DECISION_MAX_IO] = { 0 };
	size_t len = strlen(json);
	crm__jscan sc;
	crm__jval key, val;
	int r;

	clear_inputs(in, t->ninputs);
	if (len == 0)
		return CRM_OK;
	crm__buf_reset(scratch);
	if (crm__jscan_init(&sc, json, len, (int)db->limits[CRM_LIMIT_JSON_DEPTH], scratch))
		return crm__error_oom(db);
	while ((r = crm__jscan_member(&sc, &key, &val)) == 1) {
		int i = input_index(t, key.p, key.n);
		crm__dval *v;
		if (i < 0 || seen[i])
			continue;
		seen[i] = 1;
		v = &in[i];
		switch (val.type) {
		case CRM__J_NULL: break;
		case CRM__J_FALSE:
		case CRM__J_TRUE:
			v->kind = CRM__D_BOOL;
			v->b = val.type == CRM__J_TRUE;
			break;
		case CRM__J_NUMBER:
			v->kind = CRM__D_NUM;
			if (number_of(val.p, val.n, &v->d))
				return crm__error_oom(db);
			break;
		case CRM__J_STRING:
			v->kind = CRM__D_STR;
			v->s = val.p;
			v->n = val.n;
			break;
		default: v->kind = CRM__D_OTHER;
		}
	}
	if (r < 0) {
		crm__error(db, CRM_EINVAL, "decision %s: the inputs are not a valid JSON object: %s (at byte %zu)", t->name,
			   sc.err ? sc.err : "malformed", sc.err_pos);
		db->erroffset = (int)sc.err_pos;
		return CRM_EINVAL;
	}
	return sc.nuls ? crm__error_nul(db, "the decision inputs", sc.nul_pos) : CRM_OK;
}

/* ---- the three ways in ---- */

int crm__decide(crm_db *db, const char *table, const cJSON *inputs, cJSON **out)
{
	const crm__dtable *t;
	crm__dval in[CRM__DECISION_MAX_IO];
	cJSON *res;
	int rc, r;

	*out = NULL;
	if ((rc = lookup(db, table, &t)) || (rc = inputs_from_cjson(db, t, inputs, in)))
		return rc;
	if (t->collect) {
		res = cJSON_CreateArray();
		for (r = next_match(t, in, 0); res && r >= 0; r = next_match(t, in, r + 1)) {
			cJSON *o = cJSON_Duplicate(t->rules[r].then, 1);
			if (!o || !cJSON_AddItemToArray(res, o)) {
				cJSON_Delete(o);
				cJSON_Delete(res);
				res = NULL;
			}
		}
	} else {
		r = next_match(t, in, 0);
		res = r < 0 ? cJSON_CreateNull() : cJSON_Duplicate(t->rules[r].then, 1);
	}
	if (!res)
		return crm__error_oom(db);
	*out = res;
	return CRM_OK;
}

int crm_decision_eval(crm_db *db, const char *table, const char *inputs_json, char **out)
{
	crm__buf res = CRM__BUF_INIT;
	const crm__dtable *t;
	decision_cache *c;
	crm__dval in[CRM__DECISION_MAX_IO];
	int rc, r;

	if (out)
		*out = NULL;
	if (!db || !out)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)) || (rc = lookup(db, table, &t)))
		return rc;
	c = cache_of(db);
	rc = inputs_json ? inputs_from_text(db, t, inputs_json, &c->scratch, in) : (clear_inputs(in, t->ninputs), CRM_OK);
	if (rc == CRM_OK) {
		if (t->collect) {
			crm__buf_putc(&res, '[');
			for (r = next_match(t, in, 0); r >= 0; r = next_match(t, in, r + 1)) {
				if (res.len > 1)
					crm__buf_putc(&res, ',');
				crm__buf_puts(&res, t->rules[r].then_json);
			}
			crm__buf_putc(&res, ']');
		} else {
			r = next_match(t, in, 0);
			crm__buf_puts(&res, r < 0 ? "null" : t->rules[r].then_json);
		}
		if (res.oom)
			rc = crm__error_oom(db);
		else
			*out = crm__buf_detach(&res);
	}
	crm__buf_free(&res);
	if (c->scratch.cap > KEEP_SCRATCH)
		crm__buf_free(&c->scratch);
	return rc;
}

static void push_outputs(lua_State *L, const cJSON *then)
{
	lua_createtable(L, 0, cJSON_GetArraySize(then));
	for (const cJSON *m = then->child; m; m = m->next) {
		if (cJSON_IsBool(m))
			lua_pushboolean(L, cJSON_IsTrue(m));
		else if (cJSON_IsString(m))
			lua_pushstring(L, m->valuestring);
		else if (cJSON_IsNumber(m))
			crm__lua_push_json_number(L, m->valuedouble);
		else
			continue; /* null: the key is absent, as Lua sees it */
		lua_setfield(L, -2, m->string);
	}
}

/* crm.decide(table, inputs) -> outputs table or nil ("first"), or an array
 * of outputs tables ("collect"). Inputs are the table's own fields (no
 * metamethods run). The sandbox allows no __gc, so no script runs while
 * this borrows the compiled table. */
static int l_decide(lua_State *L)
{
	crm_db *db = crm__lua_db(L);
	const char *name = luaL_checkstring(L, 1);
	const crm__dtable *t;
	crm__dval in[CRM__DECISION_MAX_IO];
	lua_Integer n = 0;
	int rc, r;

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	if (lua_istable(L, 2)) { /* inputs may be a plugin's read-only table */
		crm__lua_push_contents(L, 2);
		lua_replace(L, 2);
	}
	if ((rc = lookup(db, name, &t))) {
		crm__lua_fail_code(L, rc);
		return luaL_error(L, "crm.decide: %s", crm_errmsg(db));
	}
	luaL_checkstack(L, t->ninputs + 4, "crm.decide: too many inputs");
	/* The values stay on the stack, so the strings they point to stay alive. */
	for (int i = 0; i < t->ninputs; i++) {
		crm__dval *v = &in[i];
		memset(v, 0, sizeof *v);
		if (lua_istable(L, 2)) {
			lua_pushstring(L, t->inputs[i]);
			lua_rawget(L, 2);
		} else
			lua_pushnil(L);
		switch (lua_type(L, -1)) {
		case LUA_TNIL: break;
		case LUA_TBOOLEAN:
			v->kind = CRM__D_BOOL;
			v->b = lua_toboolean(L, -1);
			break;
		case LUA_TNUMBER:
			v->kind = CRM__D_NUM;
			v->d = (double)lua_tonumber(L, -1);
			break;
		case LUA_TSTRING:
			v->kind = CRM__D_STR;
			v->s = lua_tolstring(L, -1, &v->n);
			break;
		default: v->kind = CRM__D_OTHER;
		}
	}
	if (t->collect) {
		lua_newtable(L);
		for (r = next_match(t, in, 0); r >= 0; r = next_match(t, in, r + 1)) {
			push_outputs(L, t->rules[r].then);
			lua_rawseti(L, -2, ++n);
		}
	} else if ((r = next_match(t, in, 0)) >= 0)
		push_outputs(L, t->rules[r].then);
	else
		lua_pushnil(L);
	return 1;
}

int crm__decision_lua_register(crm_db *db) { return crm__lua_register(db, "decide", l_decide); }
