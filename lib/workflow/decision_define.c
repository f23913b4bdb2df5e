/* Decision table definitions: JSON metadata checked and compiled into a
 * crm__dtable, and stored versioned in crm_meta (kind 'decision'). Every
 * mistake is refused with the path of the offending member. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json_parse.h"
#include "crm/workflow.h"
#include "decision.h"
#include "form/form_int.h"

typedef struct compile_ctx {
	crm_db *db;
	const char *name; /* the table's name once it is known to be valid */
	char path[256];
} compile_ctx;

/* Point the error path at a member ("rules[3].when.region"). */
static void at(compile_ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void at(compile_ctx *cx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cx->path, sizeof cx->path, fmt, ap);
	va_end(ap);
}

/* A user-written key shortened for paths and messages, never cutting a
 * UTF-8 sequence in half. */
static const char *clip(const char *s, char out[72])
{
	size_t n = strlen(s);

	if (n > 64) {
		n = 64;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = 0;
	return out;
}

/* Fail with CRM_EINVAL and the current path. */
static int fail(compile_ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(compile_ctx *cx, const char *fmt, ...)
{
	char msg[512];
	crm__buf detail = CRM__BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	crm__buf_puts(&detail, "\"path\":");
	crm__json_cstr(&detail, cx->path);
	if (detail.oom)
		return crm__error_oom(cx->db);
	if (cx->name)
		crm__error_detail(cx->db, CRM_EINVAL, crm__buf_cstr(&detail), "decision %s: %s: %s", cx->name, cx->path,
				  msg);
	else if (*cx->path)
		crm__error_detail(cx->db, CRM_EINVAL, crm__buf_cstr(&detail), "decision: %s: %s", cx->path, msg);
	else
		crm__error_detail(cx->db, CRM_EINVAL, crm__buf_cstr(&detail), "decision: %s", msg);
	crm__buf_free(&detail);
	return CRM_EINVAL;
}

/* Every member of `obj` is one of `allowed`, and none appears twice. The
 * path prefix is `where` ("" for the top level). */
static int check_keys(compile_ctx *cx, const cJSON *obj, const char *where, const char *const *allowed)
{
	char key[72];

	for (const cJSON *m = obj->child; m; m = m->next) {
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(m->string, *a) == 0;
		at(cx, "%s%s%s", where, *where ? "." : "", clip(m->string, key));
		if (!ok)
			return fail(cx, "unknown key '%s'", key);
		for (const cJSON *p = obj->child; p != m; p = p->next)
			if (strcmp(p->string, m->string) == 0)
				return fail(cx, "duplicate key '%s'", key);
	}
	return CRM_OK;
}

static int is_scalar(const cJSON *v)
{
	return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsNull(v);
}

static void dval_of(crm__dval *out, const cJSON *v)
{
	memset(out, 0, sizeof *out);
	if (cJSON_IsBool(v)) {
		out->kind = CRM__D_BOOL;
		out->b = cJSON_IsTrue(v);
	} else if (cJSON_IsNumber(v)) {
		out->kind = CRM__D_NUM;
		out->d = v->valuedouble;
	} else if (cJSON_IsString(v)) {
		out->kind = CRM__D_STR;
		out->s = v->valuestring;
		out->n = strlen(v->valuestring);
	} else
		out->kind = CRM__D_MISSING;
}

/* The names of `inputs` or `outputs`: an array of distinct identifiers. */
static int compile_names(compile_ctx *cx, const cJSON *def, const char *key, int min, const char ***out, int *n)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(def, key), *v;
	int i = 0, count;

	at(cx, "%s", key);
	if (!arr)
		return fail(cx, "'%s' is required", key);
	if (!cJSON_IsArray(arr))
		return fail(cx, "'%s' must be an array of names", key);
	count = cJSON_GetArraySize(arr);
	if (count < min || count > CRM__DECISION_MAX_IO)
		return fail(cx, "'%s' must hold %d to %d names", key, min, CRM__DECISION_MAX_IO);
	if (count && !(*out = crm__calloc((size_t)count, sizeof **out)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(v, arr)
	{
		at(cx, "%s[%d]", key, i);
		if (!cJSON_IsString(v) || !crm__valid_name(v->valuestring))
			return fail(cx, "must be a name: a-z, 0-9 and _, starting with a letter, at most 63 characters");
		for (int j = 0; j < i; j++)
			if (strcmp((*out)[j], v->valuestring) == 0)
				return fail(cx, "'%s' is named twice", v->valuestring);
		(*out)[i++] = v->valuestring;
	}
	*n = count;
	return CRM_OK;
}

static int find_name(const char **names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static const struct {
	const char *name;
	crm__dop op;
} ops[] = {
	{ "eq", CRM__DOP_EQ }, { "ne", CRM__DOP_NE }, { "lt", CRM__DOP_LT }, { "le", CRM__DOP_LE },
	{ "gt", CRM__DOP_GT }, { "ge", CRM__DOP_GE }, { "in", CRM__DOP_IN }, { "between", CRM__DOP_BETWEEN },
};

/* Literals of a list (an array condition, or "in"): 1 to MAX_LIST scalars. */
static int compile_list(compile_ctx *cx, const cJSON *arr, crm__dcond *c)
{
	char base[256];
	const cJSON *v;
	int i = 0, n = cJSON_GetArraySize(arr);

	if (n < 1 || n > CRM__DECISION_MAX_LIST)
		return fail(cx, "a list must hold 1 to %d values", CRM__DECISION_MAX_LIST);
	snprintf(base, sizeof base, "%s", cx->path);
	if (!(c->values = crm__calloc((size_t)n, sizeof *c->values)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(v, arr)
	{
		if (!is_scalar(v)) {
			at(cx, "%s[%d]", base, i);
			return fail(cx, "list values must be strings, numbers, booleans or null");
		}
		dval_of(&c->values[i++], v);
	}
	c->nvalues = n;
	c->op = CRM__DOP_IN;
	return CRM_OK;
}

/* {"op": OP, "value": V}; cx->path names the condition. */
static int compile_op(compile_ctx *cx, const cJSON *obj, crm__dcond *c)
{
	static const char *const keys[] = { "op", "value", NULL };
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(obj, "op");
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(obj, "value");
	char base[256];
	size_t k;
	int rc;

	snprintf(base, sizeof base, "%s", cx->path);
	if ((rc = check_keys(cx, obj, base, keys)))
		return rc;
	at(cx, "%s.op", base);
	if (!op)
		return fail(cx, "'op' is required");
	for (k = 0; k < sizeof ops / sizeof *ops; k++)
		if (cJSON_IsString(op) && strcmp(op->valuestring, ops[k].name) == 0)
			break;
	if (k == sizeof ops / sizeof *ops)
		return fail(cx, "unknown operator (expected eq, ne, lt, le, gt, ge, in or between)");
	c->op = ops[k].op;
	at(cx, "%s.value", base);
	if (!value)
		return fail(cx, "'value' is required");
	switch (c->op) {
	case CRM__DOP_EQ:
	case CRM__DOP_NE:
		if (!is_scalar(value))
			return fail(cx, "%s needs a string, number, boolean or null", ops[k].name);
		break;
	case CRM__DOP_LT:
	case CRM__DOP_LE:
	case CRM__DOP_GT:
	case CRM__DOP_GE:
		if (!cJSON_IsNumber(value) && !cJSON_IsString(value))
			return fail(cx, "%s needs a number or a string", ops[k].name);
		break;
	case CRM__DOP_IN:
		if (!cJSON_IsArray(value))
			return fail(cx, "in needs an array of values");
		return compile_list(cx, value, c);
	case CRM__DOP_BETWEEN: {
		const cJSON *lo = cJSON_GetArrayItem(value, 0), *hi = cJSON_GetArrayItem(value, 1);
		if (!cJSON_IsArray(value) || cJSON_GetArraySize(value) != 2 ||
		    !((cJSON_IsNumber(lo) && cJSON_IsNumber(hi)) || (cJSON_IsString(lo) && cJSON_IsString(hi))))
			return fail(cx, "between needs [low, high]: two numbers or two strings");
		if (!(c->values = crm__calloc(2, sizeof *c->values)))
			return crm__error_oom(cx->db);
		dval_of(&c->values[0], lo);
		dval_of(&c->values[1], hi);
		c->nvalues = 2;
		if (cJSON_IsNumber(lo) ? lo->valuedouble > hi->valuedouble : strcmp(lo->valuestring, hi->valuestring) > 0)
			return fail(cx, "between: low is greater than high");
		return CRM_OK;
	}
	}
	if (!(c->values = crm__calloc(1, sizeof *c->values)))
		return crm__error_oom(cx->db);
	dval_of(&c->values[0], value);
	c->nvalues = 1;
	return CRM_OK;
}

/* One member of a rule's `when`. Sets *keep to 0 for "*" (matches anything). */
static int compile_cond(compile_ctx *cx, const cJSON *v, crm__dcond *c, int *keep)
{
	*keep = 1;
	if (cJSON_IsString(v) && strcmp(v->valuestring, "*") == 0) {
		*keep = 0;
		return CRM_OK;
	}
	if (cJSON_IsObject(v))
		return compile_op(cx, v, c);
	if (cJSON_IsArray(v))
		return compile_list(cx, v, c);
	c->op = CRM__DOP_EQ;
	if (!(c->values = crm__calloc(1, sizeof *c->values)))
		return crm__error_oom(cx->db);
	dval_of(&c->values[0], v);
	c->nvalues = 1;
	return CRM_OK;
}

static int compile_rule(compile_ctx *cx, crm__dtable *t, const cJSON *rule, int i)
{
	static const char *const keys[] = { "when", "then", "description", NULL };
	const cJSON *when, *then, *m;
	crm__drule *r = &t->rules[i];
	unsigned char seen[CRM__DECISION_MAX_IO] = { 0 };
	char where[32], key[72];
	int rc;

	snprintf(where, sizeof where, "rules[%d]", i);
	at(cx, "%s", where);
	if (!cJSON_IsObject(rule))
		return fail(cx, "a rule must be an object with \"when\" and \"then\"");
	if ((rc = check_keys(cx, rule, where, keys)))
		return rc;
	at(cx, "%s.description", where);
	m = cJSON_GetObjectItemCaseSensitive(rule, "description");
	if (m && !cJSON_IsString(m))
		return fail(cx, "'description' must be a string");

	at(cx, "%s.when", where);
	when = cJSON_GetObjectItemCaseSensitive(rule, "when");
	if (when && !cJSON_IsObject(when))
		return fail(cx, "'when' must be an object of input conditions");
	/* One spare slot: a condition that fails half-compiled is freed from there. */
	if (when && when->child &&
	    !(r->conds = crm__calloc((size_t)cJSON_GetArraySize(when) + 1, sizeof *r->conds)))
		return crm__error_oom(cx->db);
	for (m = when ? when->child : NULL; m; m = m->next) {
		int input = find_name(t->inputs, t->ninputs, m->string), keep;
		at(cx, "%s.when.%s", where, clip(m->string, key));
		if (input < 0)
			return fail(cx, "'%s' is not a declared input", key);
		if (seen[input]++)
			return fail(cx, "duplicate key '%s'", key);
		r->conds[r->nconds].input = input;
		if ((rc = compile_cond(cx, m, &r->conds[r->nconds], &keep)))
			return rc;
		r->nconds += keep;
	}

	at(cx, "%s.then", where);
	then = cJSON_GetObjectItemCaseSensitive(rule, "then");
	if (!then)
		return fail(cx, "'then' is required");
	if (!cJSON_IsObject(then))
		return fail(cx, "'then' must be an object of output values");
	memset(seen, 0, sizeof seen);
	for (m = then->child; m; m = m->next) {
		int output = find_name(t->outputs, t->noutputs, m->string);
		at(cx, "%s.then.%s", where, clip(m->string, key));
		if (output < 0)
			return fail(cx, "'%s' is not a declared output", key);
		if (seen[output]++)
			return fail(cx, "duplicate key '%s'", key);
		if (!is_scalar(m))
			return fail(cx, "an output value must be a string, number, boolean or null");
	}
	r->then = then;
	if (!(r->then_json = cJSON_PrintUnformatted(then)))
		return crm__error_oom(cx->db);
	return CRM_OK;
}

static int by_name_cmp(const void *a, const void *b)
{
	return strcmp(((const crm__dname *)a)->name, ((const crm__dname *)b)->name);
}

static int compile(compile_ctx *cx, const cJSON *def, crm__dtable *t)
{
	static const char *const keys[] = { "decision", "label", "description", "inputs", "outputs", "hit", "rules", NULL };
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(def, "decision"), *v, *rules;
	int rc, i = 0, n;

	at(cx, "%s", "");
	if (!cJSON_IsObject(def))
		return fail(cx, "a decision table must be a JSON object");
	at(cx, "decision");
	if (!cJSON_IsString(name) || !crm__valid_name(name->valuestring))
		return fail(cx, "'decision' must be a name: a-z, 0-9 and _, starting with a letter, at most 63 characters, "
				"no '__', not starting with crm_ or sqlite_");
	cx->name = t->name = name->valuestring;
	if ((rc = check_keys(cx, def, "", keys)))
		return rc;
	for (i = 0; i < 2; i++) {
		const char *key = i ? "description" : "label";
		at(cx, "%s", key);
		v = cJSON_GetObjectItemCaseSensitive(def, key);
		if (v && !cJSON_IsString(v))
			return fail(cx, "'%s' must be a string", key);
	}
	at(cx, "hit");
	v = cJSON_GetObjectItemCaseSensitive(def, "hit");
	if (v && !(cJSON_IsString(v) && (strcmp(v->valuestring, "first") == 0 || strcmp(v->valuestring, "collect") == 0)))
		return fail(cx, "'hit' must be \"first\" or \"collect\"");
	t->collect = v && strcmp(v->valuestring, "collect") == 0;
	if ((rc = compile_names(cx, def, "inputs", 0, &t->inputs, &t->ninputs)) ||
	    (rc = compile_names(cx, def, "outputs", 1, &t->outputs, &t->noutputs)))
		return rc;
	if (t->ninputs) {
		if (!(t->by_name = crm__calloc((size_t)t->ninputs, sizeof *t->by_name)))
			return crm__error_oom(cx->db);
		for (i = 0; i < t->ninputs; i++)
			t->by_name[i] = (crm__dname){ t->inputs[i], i };
		qsort(t->by_name, (size_t)t->ninputs, sizeof *t->by_name, by_name_cmp);
	}

	at(cx, "rules");
	rules = cJSON_GetObjectItemCaseSensitive(def, "rules");
	if (!rules)
		return fail(cx, "'rules' is required");
	if (!cJSON_IsArray(rules))
		return fail(cx, "'rules' must be an array of rules");
	n = cJSON_GetArraySize(rules);
	if (n < 1 || n > CRM__DECISION_MAX_RULES)
		return fail(cx, "'rules' must hold 1 to %d rules", CRM__DECISION_MAX_RULES);
	if (!(t->rules = crm__calloc((size_t)n, sizeof *t->rules)))
		return crm__error_oom(cx->db);
	t->nrules = n;
	i = 0;
	cJSON_ArrayForEach(v, rules)
	{
		if ((rc = compile_rule(cx, t, v, i++)))
			return rc;
	}
	return CRM_OK;
}

void crm__decision_free(crm__dtable *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->nrules; i++) {
		for (int j = 0; j < t->rules[i].nconds; j++)
			crm__free(t->rules[i].conds[j].values);
		/* A condition that failed to compile may hold values at nconds. */
		if (t->rules[i].conds)
			crm__free(t->rules[i].conds[t->rules[i].nconds].values);
		crm__free(t->rules[i].conds);
		cJSON_free(t->rules[i].then_json);
	}
	crm__free(t->rules);
	crm__free(t->inputs);
	crm__free(t->outputs);
	crm__free(t->by_name);
	cJSON_Delete(t->owned);
	crm__free(t);
}

int crm__decision_compile(crm_db *db, const cJSON *def, crm__dtable **out)
{
	compile_ctx cx = { db, NULL, "" };
	crm__dtable *t = crm__calloc(1, sizeof *t);
	int rc;

	*out = NULL;
	if (!t)
		return crm__error_oom(db);
	if ((rc = compile(&cx, def, t))) {
		crm__decision_free(t);
		return rc;
	}
	*out = t;
	return CRM_OK;
}

/* ---- the catalogue (crm_meta, kind 'decision') ---- */

int crm__decision_apply(crm_db *db, const cJSON *doc)
{
	crm__dtable *t = NULL;
	char *body = NULL;
	int rc;

	if ((rc = crm__decision_compile(db, doc, &t)))
		return rc;
	if (!(body = cJSON_PrintUnformatted(doc)))
		rc = crm__error_oom(db);
	else
		rc = crm__meta_store(db, "decision", t->name, body, NULL, NULL);
	cJSON_free(body);
	crm__decision_free(t);
	return rc;
}

int crm_decision_list(crm_db *db, char **out) { return crm__meta_list(db, "decision", out); }

int crm_decision_get(crm_db *db, const char *name, char **out)
{
	return crm__meta_get(db, "decision", "decision table", name, out);
}

int crm__decision_load(crm_db *db, const char *name, crm__dtable **out)
{
	cJSON *def;
	int64_t version;
	int rc;

	*out = NULL;
	if ((rc = crm__meta_load(db, "decision", "decision table", name, 0, &def, &version)))
		return rc;
	if ((rc = crm__decision_compile(db, def, out))) {
		cJSON_Delete(def);
		return rc;
	}
	(*out)->owned = def;
	(*out)->version = version;
	return CRM_OK;
}
