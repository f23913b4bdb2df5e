/* Form definitions: JSON metadata checked and compiled into a crm__form.
 * Every mistake is reported with the path of the offending member; nothing
 * user-written reaches SQL unless it matched the identifier rules here. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "io/dedup.h"
#include "form_int.h"
#include "access/access.h"
#include "store/filter.h"

#define MAX_FIELDS 500
#define MAX_OPTIONS 256
#define MAX_PATTERN 1000

typedef struct compile_ctx {
	crm_db *db;
	crm__form *form;
	const crm__form *previous;
	char path[128];
	crm__buf scratch;
} compile_ctx;

/* Fail with CRM_EINVAL and the path of the member in error. */
static int fail(compile_ctx *cx, const char *member, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(compile_ctx *cx, const char *member, const char *fmt, ...)
{
	char msg[512], path[200];
	crm__buf detail = CRM__BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(path, sizeof path, "%s%s%s", cx->path, *cx->path && member && *member ? "." : "",
		 member ? member : "");
	crm__buf_puts(&detail, "\"path\":");
	crm__json_cstr(&detail, path);
	if (*path)
		crm__error_detail(cx->db, CRM_EINVAL, crm__buf_cstr(&detail), "form %s: %s: %s",
				  cx->form->name ? cx->form->name : "?", path, msg);
	else
		crm__error_detail(cx->db, CRM_EINVAL, crm__buf_cstr(&detail), "form: %s", msg);
	crm__buf_free(&detail);
	return CRM_EINVAL;
}

/* Names of forms, fields and ids: lower-case identifiers that are safe as
 * SQL identifiers, cannot collide with SQLite's or libcrm's own tables and
 * keep "__" free for derived index names. */
int crm__valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !(s[0] >= 'a' && s[0] <= 'z') || strstr(s, "__") || s[n - 1] == '_')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return strncmp(s, "crm_", 4) != 0 && strncmp(s, "sqlite_", 7) != 0;
}

static int check_keys(compile_ctx *cx, const cJSON *obj, const char *const *allowed)
{
	for (const cJSON *m = obj->child; m; m = m->next) {
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(m->string, *a) == 0;
		if (!ok)
			return fail(cx, m->string, "unknown key '%s'", m->string);
	}
	return CRM_OK;
}

static int get_string(compile_ctx *cx, const cJSON *obj, const char *key, int required, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v) {
		if (required)
			return fail(cx, key, "'%s' is required", key);
		return CRM_OK;
	}
	if (!cJSON_IsString(v))
		return fail(cx, key, "'%s' must be a string", key);
	*out = v->valuestring;
	return CRM_OK;
}

static int get_bool(compile_ctx *cx, const cJSON *obj, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v)
		return CRM_OK;
	if (!cJSON_IsBool(v))
		return fail(cx, key, "'%s' must be true or false", key);
	*out = cJSON_IsTrue(v);
	return CRM_OK;
}

static int get_count(compile_ctx *cx, const cJSON *obj, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v)
		return CRM_OK;
	/* Range first: converting an out-of-range double to int64 is undefined. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi) ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return fail(cx, key, "'%s' must be an integer from %lld to %lld", key, (long long)lo, (long long)hi);
	*out = (int64_t)v->valuedouble;
	return CRM_OK;
}

static int is_texty(crm_type t)
{
	return t == CRM_TYPE_TEXT || t == CRM_TYPE_LONG_TEXT || t == CRM_TYPE_EMAIL || t == CRM_TYPE_PHONE ||
	       t == CRM_TYPE_URL;
}

static int is_ordered(crm_type t)
{
	return t == CRM_TYPE_INTEGER || t == CRM_TYPE_DECIMAL || t == CRM_TYPE_NUMBER || t == CRM_TYPE_DATE ||
	       t == CRM_TYPE_DATETIME;
}

/* Convert a metadata literal (default, min, max) to storage, owning its text. */
static int literal(compile_ctx *cx, crm__field *f, const cJSON *node, const char *key, crm__value *out)
{
	crm__jval jv;
	crm__verr verr;
	crm_type saved = f->type;

	crm__buf_reset(&cx->scratch);
	if (crm__buf_reserve(&cx->scratch, 4096) || crm__jval_from_cjson(&jv, node, &cx->scratch))
		return crm__error_oom(cx->db);
	if (crm__buf_reserve(&cx->scratch, 3 * jv.n + 8))
		return crm__error_oom(cx->db);
	f->type = f->value_type;
	if (crm__value_from_json(out, f, &jv, &cx->scratch, 64, &verr)) {
		f->type = saved;
		return fail(cx, key, "%s", verr.message);
	}
	f->type = saved;
	if (out->kind == CRM__V_TEXT && !(out->s = crm__strndup(out->s, out->n)))
		return crm__error_oom(cx->db);
	return CRM_OK;
}

static int compile_pattern(compile_ctx *cx, crm__field *f, const char *pattern)
{
	pcre2_compile_context *cctx;
	char msg[320];
	int oom;

	if (strlen(pattern) > MAX_PATTERN)
		return fail(cx, "pattern", "pattern is longer than %d bytes", MAX_PATTERN);
	if (crm__utf8_length(pattern, strlen(pattern)) < 0)
		return fail(cx, "pattern", "pattern is not valid UTF-8");
	if (!(cctx = crm__regex_compile_context(cx->db)))
		return crm__error_oom(cx->db);
	if (!(f->re = crm__pattern_compile(pattern, cctx, &oom, msg, sizeof msg)))
		return oom ? crm__error_oom(cx->db) : fail(cx, "pattern", "%s", msg);
	/* Without JIT support (JIT_BADOPTION) the interpreter runs the pattern;
	 * running out of memory is not absorbed by that fallback. */
	if (pcre2_jit_compile(f->re, PCRE2_JIT_COMPLETE) == PCRE2_ERROR_NOMEMORY)
		return crm__error_oom(cx->db);
	if (!(f->pattern = crm__strdup(pattern)))
		return crm__error_oom(cx->db);
	return CRM_OK;
}

/* min, max and their exclusive forms (JSON Schema's minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum): one bound per side. */
static int compile_bounds(compile_ctx *cx, const cJSON *def, crm__field *f)
{
	static const char *const keys[] = { "min", "max", "exclusive_min", "exclusive_max" };
	int rc;

	for (int i = 0; i < 4; i++) {
		const char *key = keys[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(def, key);
		int upper = i % 2;
		crm__value *bound = upper ? &f->max : &f->min;

		if (!v)
			continue;
		if (!is_ordered(f->value_type) || f->type == CRM_TYPE_COMPUTED || f->type == CRM_TYPE_ROLLUP)
			return fail(cx, key, "'%s' belongs to integer, decimal, number, date and datetime fields", key);
		if (f->flags & (upper ? CRM__F_HAS_MAX : CRM__F_HAS_MIN))
			return fail(cx, key, "'%s' and '%s' are the same bound: give one", keys[i - 2], key);
		if ((rc = literal(cx, f, v, key, bound)))
			return rc;
		if (bound->kind == CRM__V_NULL)
			return fail(cx, key, "'%s' cannot be null", key);
		f->flags |= upper ? CRM__F_HAS_MAX : CRM__F_HAS_MIN;
		if (i >= 2)
			f->flags |= upper ? CRM__F_MAX_EXCLUSIVE : CRM__F_MIN_EXCLUSIVE;
	}
	if ((f->flags & CRM__F_HAS_MIN) && (f->flags & CRM__F_HAS_MAX)) {
		int cmp = crm__value_compare(&f->min, &f->max);
		int exclusive = (f->flags & (CRM__F_MIN_EXCLUSIVE | CRM__F_MAX_EXCLUSIVE)) != 0;
		const char *lo = f->flags & CRM__F_MIN_EXCLUSIVE ? "exclusive_min" : "min";
		const char *hi = f->flags & CRM__F_MAX_EXCLUSIVE ? "exclusive_max" : "max";

		if (cmp > 0 || (cmp == 0 && exclusive))
			return fail(cx, lo, "'%s' is %s '%s': no value is left", lo, cmp > 0 ? "above" : "equal to", hi);
	}
	return CRM_OK;
}

static int compile_options(compile_ctx *cx, crm__field *f, const cJSON *opts)
{
	int n = cJSON_GetArraySize(opts), i = 0;
	const cJSON *o;

	if (!cJSON_IsArray(opts) || n == 0 || n > MAX_OPTIONS)
		return fail(cx, "options", "'options' must be a non-empty array of at most %d strings", MAX_OPTIONS);
	if (!(f->options = crm__calloc((size_t)n, sizeof *f->options)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(o, opts)
	{
		const char *s = cJSON_IsString(o) ? o->valuestring : NULL;

		if (cJSON_IsObject(o)) { /* {"value": "north", "label": "North"} */
			const cJSON *label = cJSON_GetObjectItemCaseSensitive(o, "label");
			s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "value"));
			for (const cJSON *m = o->child; m; m = m->next)
				if (strcmp(m->string, "value") != 0 && strcmp(m->string, "label") != 0)
					return fail(cx, "options", "option %d: unknown key '%s'", i, m->string);
			if (label && !cJSON_IsString(label))
				return fail(cx, "options", "option %d: 'label' must be a string", i);
		}
		if (!s || !*s || strlen(s) > 200 || crm__utf8_length(s, strlen(s)) < 0)
			return fail(cx, "options", "option %d must be a non-empty string of at most 200 bytes", i);
		for (int j = 0; j < i; j++)
			if (strcmp(f->options[j], s) == 0)
				return fail(cx, "options", "option '%s' is listed twice", s);
		if (!(f->options[i++] = crm__strdup(s)))
			return crm__error_oom(cx->db);
		f->noptions = (size_t)i;
	}
	return CRM_OK;
}

static const char *const field_keys[] = {
	"name", "id", "type", "label", "description", "required", "unique", "nulls_distinct", "default", "min",
	"max", "exclusive_min", "exclusive_max", "min_length", "max_length", "pattern", "options", "scale", "form", "on_delete", "required_when",
	"lua", "returns", "index", "ref", "agg", "field", "filter", "actor_default", NULL
};

static const char *const rollup_aggs[] = {
	[CRM__ROLLUP_COUNT] = "count", [CRM__ROLLUP_COUNT_DISTINCT] = "count_distinct", [CRM__ROLLUP_SUM] = "sum",
	[CRM__ROLLUP_AVG] = "avg",     [CRM__ROLLUP_MIN] = "min",                       [CRM__ROLLUP_MAX] = "max",
};

/* A rollup's own members; the child side (form, ref, field, filter) is
 * checked once every document of a crm_apply is in (lib/report/rollup.c). */
static int compile_rollup(compile_ctx *cx, const cJSON *def, crm__field *f, const char *child)
{
	const cJSON *filter = cJSON_GetObjectItemCaseSensitive(def, "filter");
	const char *ref, *agg, *field;
	crm__rollup_def *r;
	int rc;

	if ((rc = get_string(cx, def, "ref", 1, &ref)) || (rc = get_string(cx, def, "agg", 1, &agg)) ||
	    (rc = get_string(cx, def, "field", 0, &field)))
		return rc;
	if (!child || !crm__valid_name(child))
		return fail(cx, "form", "a rollup field needs 'form': the name of the form whose records it aggregates");
	if (!crm__valid_name(ref))
		return fail(cx, "ref", "'ref' must name a ref field of form '%s'", child);
	if (!(f->rollup = r = crm__calloc(1, sizeof *r)))
		return crm__error_oom(cx->db);
	r->agg = -1;
	for (int a = 0; a < (int)(sizeof rollup_aggs / sizeof *rollup_aggs); a++)
		if (strcmp(agg, rollup_aggs[a]) == 0)
			r->agg = a;
	if (r->agg < 0)
		return fail(cx, "agg", "'agg' is count, count_distinct, sum, avg, min or max");
	if (r->agg == CRM__ROLLUP_COUNT && field)
		return fail(cx, "field", "a count rollup counts records and takes no 'field'");
	if (r->agg != CRM__ROLLUP_COUNT && (!field || !crm__valid_name(field)))
		return fail(cx, "field", "a %s rollup needs 'field': a field of form '%s'", agg, child);
	if (filter && !cJSON_IsObject(filter))
		return fail(cx, "filter", "'filter' must be a filter object");
	if (!(r->form = crm__strdup(child)) || !(r->ref = crm__strdup(ref)) || (field && !(r->field = crm__strdup(field))) ||
	    (filter && !(r->filter = cJSON_PrintUnformatted(filter))))
		return crm__error_oom(cx->db);
	return CRM_OK;
}

/* The type and scale of a field of a stored form definition (for a
 * computed field, its result's); 0 when the type is unknown. */
static crm_type stored_field_type(const cJSON *fdef, int *scale)
{
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fdef, "type"));
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(fdef, "scale");
	crm_type t = type ? crm__type_from_name(type) : (crm_type)0;

	if (t == CRM_TYPE_COMPUTED) {
		type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fdef, "returns"));
		t = type ? crm__type_from_name(type) : CRM_TYPE_TEXT;
	}
	*scale = t == CRM_TYPE_DECIMAL ? (cJSON_IsNumber(sc) ? (int)sc->valuedouble : 2) : 0;
	return t;
}

/* A rollup's result type: counts are integers, averages numbers; sum, min
 * and max keep the type (and decimal scale) of the child field, read from
 * this form (a self-reference) or the child's stored definition. A child
 * not defined yet (it may come later in the same crm_apply) gives a
 * provisional integer: the check after the apply refuses a rollup whose
 * child is still missing, and lib/report/rollup.c retypes the column. */
static int rollup_type(compile_ctx *cx, crm__field *f)
{
	const crm__rollup_def *r = f->rollup;
	crm_type t = CRM_TYPE_INTEGER;
	int scale = 0, rc;

	if (r->agg == CRM__ROLLUP_AVG)
		t = CRM_TYPE_NUMBER;
	else if (r->agg != CRM__ROLLUP_COUNT && r->agg != CRM__ROLLUP_COUNT_DISTINCT) {
		if (strcmp(r->form, cx->form->name) == 0) {
			const crm__field *src = crm__form_field(cx->form, r->field, strlen(r->field));
			if (src && src->type != CRM_TYPE_ROLLUP) {
				t = src->value_type;
				scale = src->scale;
			}
		} else {
			cJSON *def = NULL, *fd;
			int64_t version;

			rc = crm__form_load_def(cx->db, r->form, &def, &version);
			if (rc == CRM_ENOTFOUND)
				cx->db->errcode = CRM_OK; /* checked after the apply */
			else if (rc)
				return rc;
			cJSON_ArrayForEach(fd, cJSON_GetObjectItemCaseSensitive(def, "fields"))
			{
				const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fd, "name"));
				crm_type st;
				int ss;

				if (!name || strcmp(name, r->field) != 0)
					continue;
				st = stored_field_type(fd, &ss);
				if (st && st != CRM_TYPE_ROLLUP) {
					t = st;
					scale = ss;
				}
			}
			cJSON_Delete(def);
		}
	}
	f->value_type = t;
	f->scale = scale;
	f->storage = crm__storage_of(t);
	/* A new record has no children yet: counts and sums start at 0. */
	if (r->agg == CRM__ROLLUP_COUNT || r->agg == CRM__ROLLUP_COUNT_DISTINCT || r->agg == CRM__ROLLUP_SUM) {
		f->def.kind = f->storage == CRM__S_REAL ? CRM__V_REAL : CRM__V_INT;
		f->flags |= CRM__F_HAS_DEFAULT;
	}
	return CRM_OK;
}

static int compile_field(compile_ctx *cx, const cJSON *def, crm__field *f)
{
	static const char *const rollup_keys[] = { "ref", "agg", "field", "filter", NULL };
	const char *name, *id, *type, *label, *description, *pattern, *ref, *on_delete, *lua, *returns;
	int flag, rc;
	int64_t n;

	if (!cJSON_IsObject(def))
		return fail(cx, NULL, "a field must be an object");
	if ((rc = check_keys(cx, def, field_keys)) || (rc = get_string(cx, def, "name", 1, &name)) ||
	    (rc = get_string(cx, def, "id", 0, &id)) || (rc = get_string(cx, def, "type", 1, &type)) ||
	    (rc = get_string(cx, def, "label", 0, &label)) ||
	    (rc = get_string(cx, def, "description", 0, &description)))
		return rc;
	if (!crm__valid_name(name))
		return fail(cx, "name", "'%s' is not a valid field name (a-z, 0-9, _; starting with a letter; at most 63)",
			    name);
	if (crm__is_system_column(name))
		return fail(cx, "name", "'%s' is a system column name", name);
	if (id && !crm__valid_name(id))
		return fail(cx, "id", "'%s' is not a valid field id", id);
	f->type = crm__type_from_name(type);
	if (!f->type)
		return fail(cx, "type", "unknown type '%s'", type);
	f->value_type = f->type;
	f->min_length = f->max_length = -1;
	f->name = crm__strdup(name);
	f->label = crm__strdup(label ? label : name);
	if (!f->name || !f->label)
		return crm__error_oom(cx->db);
	/* The id defaults to the name, or to the id of the previous version's
	 * field of that name, so a re-applied definition keeps its fields. */
	if (!id && cx->previous) {
		const crm__field *old = crm__form_field(cx->previous, name, strlen(name));
		if (old)
			id = old->id;
	}
	if (!(f->id = crm__strdup(id ? id : name)))
		return crm__error_oom(cx->db);

	if (f->type == CRM_TYPE_COMPUTED) {
		if ((rc = get_string(cx, def, "lua", 1, &lua)) || (rc = get_string(cx, def, "returns", 0, &returns)))
			return rc;
		f->value_type = returns ? crm__type_from_name(returns) : CRM_TYPE_TEXT;
		if (!f->value_type || f->value_type == CRM_TYPE_COMPUTED || f->value_type == CRM_TYPE_REF ||
		    f->value_type == CRM_TYPE_ENUM || f->value_type == CRM_TYPE_MULTI_ENUM)
			return fail(cx, "returns", "a computed field returns text, integer, decimal, number, boolean, date, "
						   "datetime or json");
		if (!(f->lua = crm__strdup(lua)))
			return crm__error_oom(cx->db);
	} else if (cJSON_GetObjectItemCaseSensitive(def, "lua") || cJSON_GetObjectItemCaseSensitive(def, "returns"))
		return fail(cx, "lua", "'lua' and 'returns' belong to computed fields");
	f->storage = crm__storage_of(f->value_type);
	if (f->type != CRM_TYPE_ROLLUP)
		for (const char *const *k = rollup_keys; *k; k++)
			if (cJSON_GetObjectItemCaseSensitive(def, *k))
				return fail(cx, *k, "'%s' belongs to rollup fields", *k);

	flag = 0;
	if ((rc = get_bool(cx, def, "required", &flag)))
		return rc;
	if (flag && (f->type == CRM_TYPE_COMPUTED || f->type == CRM_TYPE_ROLLUP))
		return fail(cx, "required", "a %s field cannot be required", crm__type_name(f->type));
	f->flags |= flag ? CRM__F_REQUIRED : 0;
	flag = 0;
	if ((rc = get_bool(cx, def, "unique", &flag)))
		return rc;
	if (flag && (f->type == CRM_TYPE_BOOLEAN || f->type == CRM_TYPE_JSON || f->type == CRM_TYPE_MULTI_ENUM ||
		     f->type == CRM_TYPE_LONG_TEXT || f->type == CRM_TYPE_COMPUTED || f->type == CRM_TYPE_ROLLUP))
		return fail(cx, "unique", "a %s field cannot be unique", crm__type_name(f->type));
	f->flags |= flag ? CRM__F_UNIQUE : 0;
	flag = 0;
	if ((rc = get_bool(cx, def, "index", &flag)))
		return rc;
	if (flag && (f->type == CRM_TYPE_JSON || f->type == CRM_TYPE_LONG_TEXT || f->type == CRM_TYPE_COMPUTED))
		return fail(cx, "index", "a %s field cannot be indexed", crm__type_name(f->type));
	f->flags |= flag ? CRM__F_INDEXED : 0;

	if (f->value_type == CRM_TYPE_DECIMAL && f->type != CRM_TYPE_ROLLUP) {
		n = 2;
		if ((rc = get_count(cx, def, "scale", 0, CRM__DECIMAL_MAX_SCALE, &n)))
			return rc;
		f->scale = (int)n;
	} else if (cJSON_GetObjectItemCaseSensitive(def, "scale"))
		return fail(cx, "scale", f->type == CRM_TYPE_ROLLUP ? "a rollup takes the scale of the field it aggregates"
								    : "'scale' belongs to decimal fields");

	if (f->type == CRM_TYPE_ENUM || f->type == CRM_TYPE_MULTI_ENUM) {
		const cJSON *opts = cJSON_GetObjectItemCaseSensitive(def, "options");
		if (!opts)
			return fail(cx, "options", "an %s field needs 'options'", crm__type_name(f->type));
		if ((rc = compile_options(cx, f, opts)))
			return rc;
	} else if (cJSON_GetObjectItemCaseSensitive(def, "options"))
		return fail(cx, "options", "'options' belong to enum and multi_enum fields");

	if ((rc = get_string(cx, def, "form", 0, &ref)) || (rc = get_string(cx, def, "on_delete", 0, &on_delete)))
		return rc;
	if (f->type == CRM_TYPE_REF) {
		if (!ref || !crm__valid_name(ref))
			return fail(cx, "form", "a ref field needs 'form': the name of the form it points to");
		if (!(f->ref_form = crm__strdup(ref)))
			return crm__error_oom(cx->db);
		if (!on_delete || strcmp(on_delete, "restrict") == 0)
			f->on_delete = CRM__ON_DELETE_RESTRICT;
		else if (strcmp(on_delete, "set_null") == 0)
			f->on_delete = CRM__ON_DELETE_SET_NULL;
		else if (strcmp(on_delete, "cascade") == 0)
			f->on_delete = CRM__ON_DELETE_CASCADE;
		else
			return fail(cx, "on_delete", "'on_delete' is restrict, set_null or cascade");
		if (f->on_delete == CRM__ON_DELETE_SET_NULL && (f->flags & CRM__F_REQUIRED))
			return fail(cx, "on_delete", "a required ref cannot be set_null on delete");
	} else if (f->type == CRM_TYPE_ROLLUP) {
		if (on_delete)
			return fail(cx, "on_delete", "'on_delete' belongs to ref fields");
		if ((rc = compile_rollup(cx, def, f, ref)))
			return rc;
	} else if (ref || on_delete)
		return fail(cx, ref ? "form" : "on_delete", "'form' and 'on_delete' belong to ref fields");

	if ((rc = get_string(cx, def, "pattern", 0, &pattern)))
		return rc;
	if (pattern) {
		if (!is_texty(f->type))
			return fail(cx, "pattern", "'pattern' belongs to text-like fields");
		if ((rc = compile_pattern(cx, f, pattern)))
			return rc;
	}
	if (cJSON_GetObjectItemCaseSensitive(def, "min_length") || cJSON_GetObjectItemCaseSensitive(def, "max_length")) {
		if (!is_texty(f->type))
			return fail(cx, "min_length", "'min_length' and 'max_length' belong to text-like fields");
		if ((rc = get_count(cx, def, "min_length", 0, INT32_MAX, &f->min_length)) ||
		    (rc = get_count(cx, def, "max_length", 0, INT32_MAX, &f->max_length)))
			return rc;
		if (f->max_length >= 0 && f->min_length > f->max_length)
			return fail(cx, "min_length", "'min_length' is above 'max_length'");
	}
	return compile_bounds(cx, def, f);
}

/* "actor_default": "user" or an attribute name: an insert that leaves the
 * field out takes the actor's value (lib/form/record.c). */
static int compile_actor_default(compile_ctx *cx, const cJSON *def, crm__field *f)
{
	const char *name;
	int rc;

	if ((rc = get_string(cx, def, "actor_default", 0, &name)) || !name)
		return rc;
	if (f->type == CRM_TYPE_COMPUTED || f->type == CRM_TYPE_ROLLUP)
		return fail(cx, "actor_default", "a %s field has no default", crm__type_name(f->type));
	if (f->flags & CRM__F_HAS_DEFAULT)
		return fail(cx, "actor_default", "give either 'default' or 'actor_default'");
	if (strcmp(name, "roles") == 0 || !crm__access_valid_attr(name))
		return fail(cx, "actor_default", "'actor_default' is \"user\" or an attribute name (letters, digits, '_')");
	return (f->actor_default = crm__strdup(name)) ? CRM_OK : crm__error_oom(cx->db);
}

/* The parts of a field that need the whole form: defaults (checked like
 * any value) and required_when conditions (which may name other fields). */
static int compile_field_late(compile_ctx *cx, const cJSON *def, crm__field *f)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(def, "default");
	const cJSON *when = cJSON_GetObjectItemCaseSensitive(def, "required_when");
	int rc;

	if (f->type == CRM_TYPE_ROLLUP) {
		if (v)
			return fail(cx, "default", "a rollup field has no default");
		if (when)
			return fail(cx, "required_when", "a rollup field cannot be required");
		return rollup_type(cx, f);
	}
	if (v && !cJSON_IsNull(v)) {
		if (f->type == CRM_TYPE_COMPUTED)
			return fail(cx, "default", "a computed field has no default");
		if ((rc = literal(cx, f, v, "default", &f->def)))
			return rc;
		if ((rc = crm__check_value(cx->db, f, &f->def, NULL)) < 0)
			return cx->db->errcode;
		if (rc)
			return fail(cx, "default", "the default does not satisfy the field's own rules");
		f->flags |= CRM__F_HAS_DEFAULT;
	}
	if ((rc = compile_actor_default(cx, def, f)))
		return rc;
	if (when) {
		char path[160];
		snprintf(path, sizeof path, "%s.required_when", cx->path);
		if (!(f->required_when = crm__filter_parse(cx->db, cx->form, when, path, 0)))
			return cx->db->errcode;
	}
	return CRM_OK;
}

/* Resolve a list of column names (fields or system columns) for an index. */
static int index_columns(compile_ctx *cx, const cJSON *names, const char *member, crm__index *ix)
{
	int n = cJSON_GetArraySize(names), i = 0;
	const cJSON *c;

	if (!cJSON_IsArray(names) || n == 0 || n > 8)
		return fail(cx, member, "an index lists 1 to 8 field names");
	if (!(ix->fields = crm__calloc((size_t)n, sizeof *ix->fields)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(c, names)
	{
		const crm__field *f;
		int col = 0;

		if (!cJSON_IsString(c))
			return fail(cx, member, "index entries are field names");
		f = crm__form_field(cx->form, c->valuestring, strlen(c->valuestring));
		if (f)
			col = f->position;
		else {
			for (int s = 0; s < 5 && !col; s++)
				if (strcmp(c->valuestring, crm__system_columns[s]) == 0)
					col = -1 - s;
			if (!col)
				return fail(cx, member, "unknown field '%s'", c->valuestring);
		}
		if (f && (f->type == CRM_TYPE_COMPUTED || f->type == CRM_TYPE_JSON || f->type == CRM_TYPE_LONG_TEXT ||
			  (ix->unique && (f->type == CRM_TYPE_MULTI_ENUM || f->type == CRM_TYPE_ROLLUP))))
			return fail(cx, member, "a %s field cannot be indexed", crm__type_name(f->type));
		for (int j = 0; j < i; j++)
			if (ix->fields[j] == col)
				return fail(cx, member, "'%s' is listed twice", c->valuestring);
		ix->fields[i++] = col;
		ix->nfields = i;
	}
	return CRM_OK;
}

static int index_name(compile_ctx *cx, crm__index *ix)
{
	crm__buf b = CRM__BUF_INIT;

	crm__buf_puts(&b, cx->form->name);
	crm__buf_puts(&b, ix->unique ? (ix->nulls_distinct ? "__u" : "__un") : "__i");
	for (int i = 0; i < ix->nfields; i++) {
		int col = ix->fields[i];
		crm__buf_puts(&b, "__");
		crm__buf_puts(&b, col >= 0 ? cx->form->fields[col].name : crm__system_columns[-1 - col]);
	}
	if (!(ix->name = crm__buf_detach(&b)))
		return crm__error_oom(cx->db);
	return CRM_OK;
}

static crm__index *add_index(compile_ctx *cx)
{
	crm__form *form = cx->form;
	crm__index *ix = crm__realloc(form->indexes, (size_t)(form->nindexes + 1) * sizeof *ix);

	if (!ix)
		return NULL;
	form->indexes = ix;
	ix = &form->indexes[form->nindexes++];
	memset(ix, 0, sizeof *ix);
	ix->nulls_distinct = 1;
	return ix;
}

/* Single-field uniques and ref/index flags first, then the form's composite
 * uniques, then its plain indexes; duplicates of one key collapse. */
static int compile_indexes(compile_ctx *cx, const cJSON *def, const cJSON *fields)
{
	const cJSON *uniques = cJSON_GetObjectItemCaseSensitive(def, "unique");
	const cJSON *indexes = cJSON_GetObjectItemCaseSensitive(def, "indexes");
	const cJSON *e;
	int rc, i;

	for (i = 0; i < cx->form->nfields; i++) {
		crm__field *f = &cx->form->fields[i];
		const cJSON *fd = cJSON_GetArrayItem(fields, i);
		int distinct = 1;
		crm__index *ix;

		snprintf(cx->path, sizeof cx->path, "fields[%d]", i);
		if ((rc = get_bool(cx, fd, "nulls_distinct", &distinct)))
			return rc;
		if (!(f->flags & (CRM__F_UNIQUE | CRM__F_INDEXED)) && f->type != CRM_TYPE_REF)
			continue;
		if (!(ix = add_index(cx)) || !(ix->fields = crm__malloc(sizeof(int))))
			return crm__error_oom(cx->db);
		ix->fields[0] = i;
		ix->nfields = 1;
		ix->unique = (f->flags & CRM__F_UNIQUE) != 0;
		ix->nulls_distinct = distinct;
		if ((rc = index_name(cx, ix)))
			return rc;
	}
	*cx->path = 0;
	if (uniques && !cJSON_IsArray(uniques))
		return fail(cx, "unique", "'unique' is an array of field-name arrays");
	i = 0;
	cJSON_ArrayForEach(e, uniques)
	{
		const cJSON *names = e;
		int distinct = 1;
		crm__index *ix;

		snprintf(cx->path, sizeof cx->path, "unique[%d]", i++);
		if (cJSON_IsObject(e)) {
			static const char *const keys[] = { "fields", "nulls_distinct", NULL };
			if ((rc = check_keys(cx, e, keys)) || (rc = get_bool(cx, e, "nulls_distinct", &distinct)))
				return rc;
			names = cJSON_GetObjectItemCaseSensitive(e, "fields");
		}
		if (!(ix = add_index(cx)))
			return crm__error_oom(cx->db);
		ix->unique = 1;
		ix->nulls_distinct = distinct;
		if ((rc = index_columns(cx, names, NULL, ix)) || (rc = index_name(cx, ix)))
			return rc;
	}
	*cx->path = 0;
	if (indexes && !cJSON_IsArray(indexes))
		return fail(cx, "indexes", "'indexes' is an array of field-name arrays");
	i = 0;
	cJSON_ArrayForEach(e, indexes)
	{
		crm__index *ix;

		snprintf(cx->path, sizeof cx->path, "indexes[%d]", i++);
		if (!(ix = add_index(cx)))
			return crm__error_oom(cx->db);
		if ((rc = index_columns(cx, e, NULL, ix)) || (rc = index_name(cx, ix)))
			return rc;
	}
	*cx->path = 0;
	/* Drop repeats (a field both unique and indexed, an index listed twice). */
	for (i = 0; i < cx->form->nindexes; i++)
		for (int j = cx->form->nindexes - 1; j > i; j--)
			if (strcmp(cx->form->indexes[i].name, cx->form->indexes[j].name) == 0) {
				crm__free(cx->form->indexes[j].fields);
				crm__free(cx->form->indexes[j].name);
				cx->form->indexes[j] = cx->form->indexes[--cx->form->nindexes];
			}
	return CRM_OK;
}

/* The definition as stored: the input with every field's id filled in. */
static int normalise(compile_ctx *cx, const cJSON *def)
{
	cJSON *copy = cJSON_Duplicate(def, 1), *fields, *fd;
	int i = 0;

	if (!copy)
		return crm__error_oom(cx->db);
	fields = cJSON_GetObjectItemCaseSensitive(copy, "fields");
	cJSON_ArrayForEach(fd, fields)
	{
		cJSON_DeleteItemFromObjectCaseSensitive(fd, "id");
		if (!cJSON_AddStringToObject(fd, "id", cx->form->fields[i++].id)) {
			cJSON_Delete(copy);
			return crm__error_oom(cx->db);
		}
	}
	cx->form->body = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	return cx->form->body ? CRM_OK : crm__error_oom(cx->db);
}

static const char *const form_keys[] = { "form", "label", "description", "fields", "unique", "indexes", "validators",
					 "permissions", "audit", "events", "search", "duplicates", NULL };

/* "validators": ["plugin.function", ...], run on every write of a record. */
static int compile_validators(compile_ctx *cx, const cJSON *list)
{
	const cJSON *v;
	int i = 0;

	if (!list)
		return CRM_OK;
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > 20)
		return fail(cx, "validators", "'validators' is a list of at most 20 plugin functions");
	if (!(cx->form->validators = crm__calloc((size_t)cJSON_GetArraySize(list), sizeof(char *))))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(v, list)
	{
		const char *dot = cJSON_IsString(v) ? strchr(v->valuestring, '.') : NULL;
		char plugin[64];

		snprintf(cx->path, sizeof cx->path, "validators[%d]", i++);
		if (!dot || (size_t)(dot - v->valuestring) >= sizeof plugin)
			return fail(cx, NULL, "a validator is a plugin function \"plugin.function\"");
		snprintf(plugin, sizeof plugin, "%.*s", (int)(dot - v->valuestring), v->valuestring);
		if (!crm__valid_name(plugin) || !crm__valid_name(dot + 1))
			return fail(cx, NULL, "'%s' is not a plugin function name", v->valuestring);
		if (!(cx->form->validators[cx->form->nvalidators++] = crm__strdup(v->valuestring)))
			return crm__error_oom(cx->db);
	}
	*cx->path = 0;
	return CRM_OK;
}

static int compile(compile_ctx *cx, const cJSON *def)
{
	const cJSON *fields, *fd;
	const char *name, *label, *description;
	int rc, i, n;

	if (!cJSON_IsObject(def))
		return fail(cx, NULL, "a form definition must be a JSON object");
	if ((rc = get_string(cx, def, "form", 1, &name)))
		return rc;
	if (!crm__valid_name(name))
		return fail(cx, "form", "'%s' is not a valid form name (a-z, 0-9, _; starting with a letter; at most 63; "
					"not crm_ or sqlite_)",
			    name);
	if (!(cx->form->name = crm__strdup(name)))
		return crm__error_oom(cx->db);
	/* Audited and evented unless the definition says "audit": false
	 * (docs/audit.md) or "events": false (docs/integration.md). */
	cx->form->audit = cx->form->events = 1;
	if ((rc = check_keys(cx, def, form_keys)) || (rc = get_string(cx, def, "label", 0, &label)) ||
	    (rc = get_string(cx, def, "description", 0, &description)) || (rc = get_bool(cx, def, "audit", &cx->form->audit)) ||
	    (rc = get_bool(cx, def, "events", &cx->form->events)))
		return rc;
	if (!(cx->form->label = crm__strdup(label ? label : name)))
		return crm__error_oom(cx->db);
	fields = cJSON_GetObjectItemCaseSensitive(def, "fields");
	n = cJSON_GetArraySize(fields);
	if (!cJSON_IsArray(fields) || n == 0 || n > MAX_FIELDS)
		return fail(cx, "fields", "'fields' must be an array of 1 to %d fields", MAX_FIELDS);
	if (!(cx->form->fields = crm__calloc((size_t)n, sizeof *cx->form->fields)))
		return crm__error_oom(cx->db);
	i = 0;
	cJSON_ArrayForEach(fd, fields)
	{
		crm__field *f = &cx->form->fields[i];

		snprintf(cx->path, sizeof cx->path, "fields[%d]", i);
		f->position = i;
		cx->form->nfields = ++i;
		if ((rc = compile_field(cx, fd, f)))
			return rc;
		for (int j = 0; j < f->position; j++) {
			if (strcmp(cx->form->fields[j].name, f->name) == 0)
				return fail(cx, "name", "field '%s' is defined twice", f->name);
			if (strcmp(cx->form->fields[j].id, f->id) == 0)
				return fail(cx, "id", "fields '%s' and '%s' have the same id '%s'", cx->form->fields[j].name,
					    f->name, f->id);
		}
	}
	i = 0;
	cJSON_ArrayForEach(fd, fields)
	{
		snprintf(cx->path, sizeof cx->path, "fields[%d]", i);
		if ((rc = compile_field_late(cx, fd, &cx->form->fields[i++])))
			return rc;
	}
	*cx->path = 0;
	if ((rc = compile_indexes(cx, def, fields)))
		return rc;
	if ((rc = compile_validators(cx, cJSON_GetObjectItemCaseSensitive(def, "validators"))))
		return rc;
	if ((rc = crm__access_compile(cx->db, cx->form, cJSON_GetObjectItemCaseSensitive(def, "permissions"))))
		return rc;
	if ((rc = crm__dedup_compile(cx->db, cx->form, cJSON_GetObjectItemCaseSensitive(def, "duplicates"))))
		return rc;
	return normalise(cx, def);
}

int crm__form_compile(crm_db *db, const cJSON *def, const crm__form *previous, crm__form **out)
{
	compile_ctx cx = { .db = db, .previous = previous };
	int rc;

	*out = NULL;
	if (!(cx.form = crm__calloc(1, sizeof *cx.form)))
		return crm__error_oom(db);
	cx.form->refs = 1;
	rc = compile(&cx, def);
	crm__buf_free(&cx.scratch);
	if (rc) {
		crm__form_release(cx.form);
		return rc;
	}
	*out = cx.form;
	return CRM_OK;
}
