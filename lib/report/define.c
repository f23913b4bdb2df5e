/* Report definitions: parsing the JSON document and checking every name
 * against the forms it reads, so that compile.c only ever sees valid
 * columns, joins and measures. Errors name the member at fault ("path"). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "form/form_int.h"
#include "report_int.h"
#include "workflow/workflow_int.h"

#define MAX_LIMIT 1000000000

typedef struct dctx {
	crm_db *db;
	crm__report *rep;
	int vcap; /* capacity of rep->vform.fields */
} dctx;

static const struct {
	const char *name;
	crm__fop op;
} op_names[] = {
	{ "eq", CRM__FOP_EQ },   { "ne", CRM__FOP_NE },       { "lt", CRM__FOP_LT },
	{ "le", CRM__FOP_LE },   { "gt", CRM__FOP_GT },       { "ge", CRM__FOP_GE },
	{ "in", CRM__FOP_IN },   { "contains", CRM__FOP_CONTAINS }, { "starts_with", CRM__FOP_STARTS_WITH },
	{ "is_null", CRM__FOP_IS_NULL }, { "between", CRM__FOP_BETWEEN },
};

const char *crm__report_op_name(crm__fop op)
{
	for (size_t i = 0; i < sizeof op_names / sizeof *op_names; i++)
		if (op_names[i].op == op)
			return op_names[i].name;
	return "eq";
}

void crm__report_each_param(const crm__filter *f, void (*fn)(void *payload, const crm__filter *node), void *payload)
{
	if (!f)
		return;
	if (f->param)
		fn(payload, f);
	for (int i = 0; i < f->nkids; i++)
		crm__report_each_param(f->kids[i], fn, payload);
}

/* ---- small JSON helpers ---- */

/* A member, with JSON null standing for an absent one. */
static const cJSON *get(const cJSON *obj, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNull(m) ? NULL : m;
}

/* "base.key" (or "key" at the top), cut to fit: paths only name things in messages. */
static void join_path(char *out, size_t n, const char *base, const char *key)
{
	if (snprintf(out, n, "%s%s%s", base, *base ? "." : "", key) >= (int)n)
		out[n - 1] = 0;
}

static int check_keys(crm_db *db, const cJSON *obj, const char *path, const char *const *allowed)
{
	char p[200];

	for (const cJSON *m = obj->child; m; m = m->next) {
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(m->string, *a) == 0;
		join_path(p, sizeof p, path, m->string);
		if (!ok) {
			char list[300] = "";
			for (const char *const *a = allowed; *a; a++)
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", a == allowed ? "" : ", ", *a);
			return crm__error_path(db, p, "unknown key '%.64s' (expected %s)", m->string, list);
		}
		for (const cJSON *o = obj->child; o != m; o = o->next)
			if (strcmp(o->string, m->string) == 0)
				return crm__error_path(db, p, "key '%s' appears twice", m->string);
	}
	return CRM_OK;
}

static int opt_string(crm_db *db, const cJSON *obj, const char *key, const char *path, const char **out)
{
	const cJSON *m = get(obj, key);
	char p[200];

	*out = NULL;
	if (!m)
		return CRM_OK;
	join_path(p, sizeof p, path, key);
	if (!cJSON_IsString(m))
		return crm__error_path(db, p, "'%s' must be a string", key);
	*out = m->valuestring;
	return CRM_OK;
}

static int dup_opt(crm_db *db, const char *s, char **out)
{
	*out = NULL;
	if (s && !(*out = crm__strdup(s)))
		return crm__error_oom(db);
	return CRM_OK;
}

/* ---- columns and paths ---- */

static const int sys_cols[5] = { CRM__COL_ID, CRM__COL_CREATED_AT, CRM__COL_UPDATED_AT, CRM__COL_OWNER,
				 CRM__COL_VERSION };

static int system_column(const char *name)
{
	for (int i = 0; i < 5; i++)
		if (strcmp(name, crm__system_columns[i]) == 0)
			return sys_cols[i];
	return 0;
}

static crm_type system_type(int column)
{
	switch (column) {
	case CRM__COL_CREATED_AT:
	case CRM__COL_UPDATED_AT: return CRM_TYPE_DATETIME;
	case CRM__COL_OWNER: return CRM_TYPE_TEXT;
	default: return CRM_TYPE_INTEGER;
	}
}

/* Type and scale of a column of the virtual form. */
static crm_type column_type(const crm__report *rep, int column, int *scale)
{
	*scale = 0;
	if (column < 0)
		return system_type(column);
	*scale = rep->vform.fields[column].scale;
	return rep->vform.fields[column].value_type;
}

int crm__report_root_join(const crm__report *rep, int column)
{
	int j;

	if (column < rep->source->nfields)
		return -1;
	j = rep->vcols[column - rep->source->nfields].join;
	while (rep->joins[j].parent >= 0)
		j = rep->joins[j].parent;
	return j;
}

static int add_join(dctx *cx, int parent, int ref_column, crm__form *form)
{
	crm__report *rep = cx->rep;
	crm__rjoin *grown;

	for (int j = 0; j < rep->njoins; j++)
		if (rep->joins[j].parent == parent && rep->joins[j].ref_column == ref_column)
			return j;
	if (!(grown = crm__realloc(rep->joins, (size_t)(rep->njoins + 1) * sizeof *grown)))
		return -1;
	rep->joins = grown;
	grown[rep->njoins].parent = parent;
	grown[rep->njoins].ref_column = ref_column;
	grown[rep->njoins].form = form;
	crm__form_retain(form);
	return rep->njoins++;
}

/* A field of the virtual form standing for column `column` of join `join`. */
static int add_vcol(dctx *cx, const char *text, int join, const crm__form *form, int column)
{
	crm__report *rep = cx->rep;
	crm__field f;
	crm__rvcol *vc;

	if (rep->vform.nfields == cx->vcap) {
		int cap = cx->vcap * 2 + 8;
		crm__field *grown = crm__realloc(rep->vform.fields, (size_t)cap * sizeof *grown);
		if (!grown)
			return -1;
		rep->vform.fields = grown;
		cx->vcap = cap;
	}
	if (!(vc = crm__realloc(rep->vcols, (size_t)(rep->nvcols + 1) * sizeof *vc)))
		return -1;
	rep->vcols = vc;
	if (column >= 0)
		f = form->fields[column];
	else {
		memset(&f, 0, sizeof f);
		f.type = f.value_type = system_type(column);
		f.storage = crm__storage_of(f.type);
		f.min_length = f.max_length = -1;
	}
	/* Only the name is the virtual field's own; the rest is borrowed from
	 * the joined form, which the report retains. */
	if (!(f.name = crm__strdup(text)))
		return -1;
	f.id = NULL;
	f.label = column >= 0 ? form->fields[column].label : NULL;
	f.flags = 0;
	f.required_when = NULL;
	f.position = rep->vform.nfields;
	rep->vform.fields[rep->vform.nfields] = f;
	vc[rep->nvcols].join = join;
	vc[rep->nvcols].column = column;
	rep->nvcols++;
	return rep->vform.nfields++;
}

/* Resolve "field" or "ref.ref.field" to a column of the virtual form. */
static int resolve(dctx *cx, const char *text, const char *path, int *out)
{
	crm__report *rep = cx->rep;
	const crm__form *visited[CRM__REPORT_MAX_REFS + 1];
	const crm__form *form = rep->source;
	char seg[72];
	const char *s = text;
	int join = -1, nvisited = 0, nrefs = 0, rc;

	for (const char *p = text; *p; p++)
		nrefs += *p == '.';
	if (!nrefs) {
		const crm__field *f = *text ? crm__form_field(rep->source, text, strlen(text)) : NULL;
		if ((*out = system_column(text)) != 0)
			return CRM_OK;
		if (!f)
			return crm__error_path(cx->db, path, "unknown field '%.100s' in form '%s'", text, rep->source->name);
		*out = f->position;
		return CRM_OK;
	}
	if (nrefs > CRM__REPORT_MAX_REFS)
		return crm__error_path(cx->db, path, "'%.100s' follows %d references; at most %d are allowed", text, nrefs,
					CRM__REPORT_MAX_REFS);
	for (int i = rep->source->nfields; i < rep->vform.nfields; i++)
		if (strcmp(rep->vform.fields[i].name, text) == 0)
			return *out = i, CRM_OK;
	visited[nvisited++] = form;
	for (;;) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		const crm__field *f;
		crm__form *target;

		if (n == 0 || n >= sizeof seg)
			return crm__error_path(cx->db, path, "'%.100s' is not a field path (\"customer.industry\")", text);
		memcpy(seg, s, n);
		seg[n] = 0;
		if (!dot) {
			int column = system_column(seg);
			if (!column) {
				f = crm__form_field(form, seg, n);
				if (!f)
					return crm__error_path(cx->db, path, "unknown field '%s' in form '%s' (in '%.100s')", seg,
								form->name, text);
				column = f->position;
			}
			if ((*out = add_vcol(cx, text, join, form, column)) < 0)
				return crm__error_oom(cx->db);
			return CRM_OK;
		}
		f = crm__form_field(form, seg, n);
		if (!f)
			return crm__error_path(cx->db, path, "unknown field '%s' in form '%s' (in '%.100s')", seg, form->name,
						text);
		if (f->value_type != CRM_TYPE_REF || f->type != CRM_TYPE_REF)
			return crm__error_path(cx->db, path, "'%s' in '%.100s' is not a reference field (it is %s)", seg, text,
						crm__type_name(f->value_type));
		rc = crm__form_lookup(cx->db, f->ref_form, &target);
		if (rc == CRM_ENOTFOUND)
			return crm__error_path(cx->db, path, "'%s' refers to form '%s', which is not defined", seg, f->ref_form);
		if (rc)
			return rc;
		for (int i = 0; i < nvisited; i++)
			if (strcmp(visited[i]->name, target->name) == 0)
				return crm__error_path(cx->db, path,
							"'%.100s' comes back to form '%s': reference paths may not form a cycle",
							text, target->name);
		visited[nvisited++] = target;
		if ((join = add_join(cx, join, f->position, target)) < 0)
			return crm__error_oom(cx->db);
		form = rep->joins[join].form;
		s = dot + 1;
	}
}

/* Resolve every dotted "field" of a filter document before it is parsed
 * against the virtual form, with the path of the condition that names it. */
static int resolve_filter_paths(dctx *cx, const cJSON *json, const char *path, int depth)
{
	const cJSON *m;
	char p[200];
	int i = 0, rc, col;

	if (!cJSON_IsObject(json) || depth > 32)
		return CRM_OK; /* the filter parser reports it */
	for (m = json->child; m; m = m->next) {
		if (strcmp(m->string, "and") == 0 || strcmp(m->string, "or") == 0) {
			const cJSON *el;
			i = 0;
			if (!cJSON_IsArray(m))
				continue;
			cJSON_ArrayForEach(el, m)
			{
				snprintf(p, sizeof p, "%s.%s[%d]", path, m->string, i++);
				if ((rc = resolve_filter_paths(cx, el, p, depth + 1)))
					return rc;
			}
		} else if (strcmp(m->string, "not") == 0) {
			snprintf(p, sizeof p, "%s.not", path);
			if ((rc = resolve_filter_paths(cx, m, p, depth + 1)))
				return rc;
		} else if (strcmp(m->string, "field") == 0 && cJSON_IsString(m) && strchr(m->valuestring, '.')) {
			snprintf(p, sizeof p, "%s.field", path);
			if ((rc = resolve(cx, m->valuestring, p, &col)))
				return rc;
		}
	}
	return CRM_OK;
}

static int parse_filter(dctx *cx, const cJSON *json, const char *path, crm__filter **out)
{
	int rc;

	if ((rc = resolve_filter_paths(cx, json, path, 1)))
		return rc;
	if (!(*out = crm__filter_parse(cx->db, &cx->rep->vform, json, path, 1)))
		return cx->db->errcode ? cx->db->errcode : CRM_EINVAL;
	return CRM_OK;
}

/* ---- names ---- */

static int check_name(crm_db *db, const char *name, const char *path, const char *what)
{
	if (!crm__valid_name(name))
		return crm__error_path(db, path,
					"'%.100s' is not a valid %s name (a-z, 0-9 and _, starting with a letter, at most 63 "
					"characters, no '__')",
					name, what);
	return CRM_OK;
}

static int find_measure(const crm__report *rep, const char *name)
{
	for (int i = 0; i < rep->nmeasures; i++)
		if (strcmp(rep->measures[i].name, name) == 0)
			return i;
	return -1;
}

static int find_dim(const crm__report *rep, const char *name)
{
	for (int i = 0; i < rep->ndims; i++)
		if (strcmp(rep->dims[i].name, name) == 0)
			return i;
	return -1;
}

/* ---- dimensions ---- */

static const char *const bucket_names[] = { "", "day", "week", "month", "quarter", "year" };

static int parse_dims(dctx *cx, const cJSON *arr)
{
	static const char *const keys[] = { "field", "bucket", "name", "label", NULL };
	crm__report *rep = cx->rep;
	const cJSON *d;
	char path[200], p[220];
	int i = 0, rc;

	if (!arr)
		return CRM_OK;
	if (!cJSON_IsArray(arr))
		return crm__error_path(cx->db, "dimensions", "'dimensions' must be an array");
	if (cJSON_GetArraySize(arr) > CRM__REPORT_MAX_DIMS)
		return crm__error_path(cx->db, "dimensions", "at most %d dimensions", CRM__REPORT_MAX_DIMS);
	if (!(rep->dims = crm__calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *rep->dims)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(d, arr)
	{
		crm__rdim *dim = &rep->dims[i];
		const char *field, *bucket, *name, *label;
		char defname[200], deflabel[200];
		crm_type t;
		int scale;

		snprintf(path, sizeof path, "dimensions[%d]", i);
		if (cJSON_IsString(d)) {
			field = d->valuestring;
			bucket = name = label = NULL;
		} else if (!cJSON_IsObject(d))
			return crm__error_path(cx->db, path, "a dimension is an object {\"field\": ...} or a field name");
		else if ((rc = check_keys(cx->db, d, path, keys)) || (rc = opt_string(cx->db, d, "field", path, &field)) ||
			 (rc = opt_string(cx->db, d, "bucket", path, &bucket)) ||
			 (rc = opt_string(cx->db, d, "name", path, &name)) || (rc = opt_string(cx->db, d, "label", path, &label)))
			return rc;
		if (!field)
			return crm__error_path(cx->db, path, "a dimension needs a 'field'");
		snprintf(p, sizeof p, "%s%s", path, cJSON_IsString(d) ? "" : ".field");
		if ((rc = resolve(cx, field, p, &dim->column)))
			return rc;
		t = column_type(rep, dim->column, &scale);
		if (t == CRM_TYPE_JSON)
			return crm__error_path(cx->db, p, "cannot group by '%s': it is a json field", field);
		if (bucket) {
			snprintf(p, sizeof p, "%s.bucket", path);
			for (int b = CRM__B_DAY; b <= CRM__B_YEAR; b++)
				if (strcmp(bucket, bucket_names[b]) == 0)
					dim->bucket = b;
			if (!dim->bucket)
				return crm__error_path(cx->db, p, "unknown bucket '%.32s' (expected day, week, month, quarter or year)",
							bucket);
			if (t != CRM_TYPE_DATE && t != CRM_TYPE_DATETIME)
				return crm__error_path(cx->db, p, "a time bucket needs a date or datetime field; '%s' is %s", field,
							crm__type_name(t));
		}
		if (!name) {
			size_t k;
			snprintf(defname, sizeof defname, "%s%s%s", field, bucket ? "_" : "", bucket ? bucket : "");
			for (k = 0; defname[k]; k++)
				if (defname[k] == '.')
					defname[k] = '_';
			name = defname;
			snprintf(p, sizeof p, "%s%s", path, cJSON_IsString(d) ? "" : ".field");
		} else
			snprintf(p, sizeof p, "%s.name", path);
		if ((rc = check_name(cx->db, name, p, "column")))
			return rc;
		if (!label) {
			/* a path's own text says more than the last field's label */
			const char *flabel = dim->column >= 0 && dim->column < rep->source->nfields &&
							     rep->vform.fields[dim->column].label
						     ? rep->vform.fields[dim->column].label
						     : field;
			snprintf(deflabel, sizeof deflabel, "%s%s%s%s", flabel, bucket ? " (" : "", bucket ? bucket : "",
				 bucket ? ")" : "");
			label = deflabel;
		}
		rep->ndims = ++i; /* counted first, so a failure frees what it holds */
		if ((rc = dup_opt(cx->db, name, &dim->name)) || (rc = dup_opt(cx->db, label, &dim->label)))
			return rc;
	}
	return CRM_OK;
}

/* ---- measures ---- */

static const char *const agg_names[] = { "count", "count_distinct", "sum", "avg", "min", "max" };

static int numeric(crm_type t) { return t == CRM_TYPE_INTEGER || t == CRM_TYPE_DECIMAL || t == CRM_TYPE_NUMBER; }

static int parse_measure(dctx *cx, const cJSON *m, int i, crm__rmeasure *ms)
{
	static const char *const keys[] = { "name", "label", "agg", "field", "filter", "ratio", NULL };
	crm__report *rep = cx->rep;
	const char *name, *label, *agg, *field;
	const cJSON *ratio, *filter;
	char path[64], p[96];
	crm_type t = 0;
	int rc, scale = 0;

	snprintf(path, sizeof path, "measures[%d]", i);
	if (!cJSON_IsObject(m))
		return crm__error_path(cx->db, path, "a measure is an object {\"name\": ..., \"agg\": ...}");
	if ((rc = check_keys(cx->db, m, path, keys)) || (rc = opt_string(cx->db, m, "name", path, &name)) ||
	    (rc = opt_string(cx->db, m, "label", path, &label)) || (rc = opt_string(cx->db, m, "agg", path, &agg)) ||
	    (rc = opt_string(cx->db, m, "field", path, &field)))
		return rc;
	ratio = get(m, "ratio");
	filter = get(m, "filter");
	snprintf(p, sizeof p, "%s.name", path);
	if (!name)
		return crm__error_path(cx->db, path, "a measure needs a 'name'");
	if ((rc = check_name(cx->db, name, p, "measure")))
		return rc;
	if (system_column(name))
		return crm__error_path(cx->db, p, "'%s' is a system column name; name the measure otherwise", name);
	if (find_measure(rep, name) >= 0 || find_dim(rep, name) >= 0)
		return crm__error_path(cx->db, p, "the name '%s' is used twice", name);
	if ((rc = dup_opt(cx->db, name, &ms->name)) || (rc = dup_opt(cx->db, label ? label : name, &ms->label)))
		return rc;
	ms->column = INT32_MIN;
	if (ratio) {
		snprintf(p, sizeof p, "%s.ratio", path);
		if (agg || field || filter)
			return crm__error_path(cx->db, p, "a ratio takes no 'agg', 'field' or 'filter' of its own");
		if (!cJSON_IsArray(ratio) || cJSON_GetArraySize(ratio) != 2 || !cJSON_IsString(ratio->child) ||
		    !cJSON_IsString(ratio->child->next))
			return crm__error_path(cx->db, p, "'ratio' takes two measure names [numerator, denominator]");
		ms->agg = CRM__A_RATIO;
		ms->type = CRM_TYPE_NUMBER;
		return CRM_OK; /* operands resolved once every measure is known */
	}
	snprintf(p, sizeof p, "%s.agg", path);
	if (!agg)
		return crm__error_path(cx->db, path, "a measure needs an 'agg' (count, count_distinct, sum, avg, min, max) or a 'ratio'");
	ms->agg = -1;
	for (int a = 0; a < (int)(sizeof agg_names / sizeof *agg_names); a++)
		if (strcmp(agg, agg_names[a]) == 0)
			ms->agg = a;
	if (ms->agg < 0)
		return crm__error_path(cx->db, p, "unknown aggregate '%.32s' (expected count, count_distinct, sum, avg, min or max)",
					agg);
	snprintf(p, sizeof p, "%s.field", path);
	if (!field && ms->agg != CRM__A_COUNT)
		return crm__error_path(cx->db, path, "'%s' needs a 'field'", agg);
	if (field) {
		if ((rc = resolve(cx, field, p, &ms->column)))
			return rc;
		t = column_type(rep, ms->column, &scale);
	}
	switch (ms->agg) {
	case CRM__A_COUNT:
	case CRM__A_COUNT_DISTINCT:
		if (field && (t == CRM_TYPE_JSON || t == CRM_TYPE_LONG_TEXT) && ms->agg == CRM__A_COUNT_DISTINCT)
			return crm__error_path(cx->db, p, "cannot count distinct values of '%s' (%s)", field, crm__type_name(t));
		ms->type = CRM_TYPE_INTEGER;
		break;
	case CRM__A_SUM:
	case CRM__A_AVG:
		if (!numeric(t))
			return crm__error_path(cx->db, p, "'%s' needs a numeric field (integer, decimal or number); '%s' is %s", agg,
						field, crm__type_name(t));
		/* Sums of integers and decimals stay exact integers (decimals are
		 * stored scaled); averages are binary floats. */
		ms->type = ms->agg == CRM__A_AVG ? CRM_TYPE_NUMBER : t;
		ms->scale = ms->agg == CRM__A_AVG ? 0 : scale;
		break;
	default: /* min, max */
		if (t == CRM_TYPE_JSON || t == CRM_TYPE_MULTI_ENUM || t == CRM_TYPE_LONG_TEXT || t == CRM_TYPE_BOOLEAN)
			return crm__error_path(cx->db, p, "'%s' does not apply to '%s' (%s)", agg, field, crm__type_name(t));
		ms->type = t == CRM_TYPE_REF ? CRM_TYPE_INTEGER : t;
		ms->scale = scale;
	}
	if (filter) {
		snprintf(p, sizeof p, "%s.filter", path);
		if ((rc = parse_filter(cx, filter, p, &ms->filter)))
			return rc;
	}
	return CRM_OK;
}

static int parse_measures(dctx *cx, const cJSON *arr)
{
	crm__report *rep = cx->rep;
	const cJSON *m;
	char p[96];
	int i = 0, rc;

	if (!arr)
		return CRM_OK;
	if (!cJSON_IsArray(arr))
		return crm__error_path(cx->db, "measures", "'measures' must be an array");
	if (cJSON_GetArraySize(arr) > CRM__REPORT_MAX_MEASURES)
		return crm__error_path(cx->db, "measures", "at most %d measures", CRM__REPORT_MAX_MEASURES);
	if (!(rep->measures = crm__calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *rep->measures)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(m, arr)
	{
		rc = parse_measure(cx, m, i, &rep->measures[i]);
		rep->nmeasures = ++i; /* so that a failure frees what it holds */
		if (rc)
			return rc;
	}
	i = 0;
	cJSON_ArrayForEach(m, arr)
	{
		crm__rmeasure *ms = &rep->measures[i];
		if (ms->agg == CRM__A_RATIO) {
			const cJSON *ratio = get(m, "ratio");
			int *slot[2] = { &ms->num, &ms->den };
			for (int k = 0; k < 2; k++) {
				const char *name = cJSON_GetArrayItem(ratio, k)->valuestring;
				snprintf(p, sizeof p, "measures[%d].ratio[%d]", i, k);
				*slot[k] = find_measure(rep, name);
				if (*slot[k] < 0)
					return crm__error_path(cx->db, p, "unknown measure '%.64s'", name);
				if (rep->measures[*slot[k]].agg == CRM__A_RATIO || !numeric(rep->measures[*slot[k]].type))
					return crm__error_path(cx->db, p, "a ratio divides numeric aggregates; '%s' is not one", name);
			}
		}
		i++;
	}
	return CRM_OK;
}

/* ---- having: a filter over the measures ---- */

/* The measures as fields of a form, so the filter language (operators,
 * value conversion, parameters) applies to them unchanged. */
static int build_mform(dctx *cx)
{
	crm__report *rep = cx->rep;

	rep->mform.name = rep->name;
	rep->mform.nfields = rep->nmeasures;
	if (!(rep->mform.fields = crm__calloc((size_t)rep->nmeasures + 1, sizeof *rep->mform.fields)))
		return crm__error_oom(cx->db);
	for (int i = 0; i < rep->nmeasures; i++) {
		const crm__rmeasure *ms = &rep->measures[i];
		crm__field *f = &rep->mform.fields[i];
		/* min/max of an enum compares with its options */
		if (ms->column >= 0 && (ms->agg == CRM__A_MIN || ms->agg == CRM__A_MAX)) {
			const crm__field *src = &rep->vform.fields[ms->column];
			f->options = src->options;
			f->noptions = src->noptions;
		}
		f->name = ms->name;
		f->type = f->value_type = ms->type;
		f->storage = crm__storage_of(ms->type);
		f->scale = ms->scale;
		f->position = i;
		f->min_length = f->max_length = -1;
	}
	return CRM_OK;
}

/* Conditions name a "measure"; the filter parser expects "field". */
static int rename_measures(dctx *cx, cJSON *json, const char *path, int depth)
{
	cJSON *m;
	char p[200];
	int rc;

	if (!cJSON_IsObject(json) || depth > 32)
		return CRM_OK;
	if (cJSON_GetObjectItemCaseSensitive(json, "field")) {
		snprintf(p, sizeof p, "%s.field", path);
		return crm__error_path(cx->db, p, "conditions of 'having' name a 'measure', not a field");
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(json, "measure"))) {
		snprintf(p, sizeof p, "%s.measure", path);
		if (!cJSON_IsString(m) || find_measure(cx->rep, m->valuestring) < 0)
			return crm__error_path(cx->db, p, "unknown measure '%.64s'", cJSON_IsString(m) ? m->valuestring : "");
		m = cJSON_DetachItemFromObjectCaseSensitive(json, "measure");
		if (!cJSON_AddItemToObject(json, "field", m)) {
			cJSON_Delete(m);
			return crm__error_oom(cx->db);
		}
		return CRM_OK;
	}
	for (m = json->child; m; m = m->next) {
		if ((strcmp(m->string, "and") == 0 || strcmp(m->string, "or") == 0) && cJSON_IsArray(m)) {
			int i = 0;
			for (cJSON *el = m->child; el; el = el->next) {
				snprintf(p, sizeof p, "%s.%s[%d]", path, m->string, i++);
				if ((rc = rename_measures(cx, el, p, depth + 1)))
					return rc;
			}
		} else if (strcmp(m->string, "not") == 0) {
			snprintf(p, sizeof p, "%s.not", path);
			if ((rc = rename_measures(cx, m, p, depth + 1)))
				return rc;
		}
	}
	return CRM_OK;
}

static int parse_having(dctx *cx, const cJSON *json)
{
	cJSON *copy;
	int rc;

	if (!json)
		return CRM_OK;
	if (!cJSON_IsObject(json))
		return crm__error_path(cx->db, "having", "'having' is a filter object over measures");
	if (!(copy = cJSON_Duplicate(json, 1)))
		return crm__error_oom(cx->db);
	if ((rc = rename_measures(cx, copy, "having", 1)) == CRM_OK &&
	    !(cx->rep->having = crm__filter_parse(cx->db, &cx->rep->mform, copy, "having", 1)))
		rc = cx->db->errcode ? cx->db->errcode : CRM_EINVAL;
	cJSON_Delete(copy);
	return rc;
}

/* ---- order, limit, comparisons ---- */

static int parse_order(dctx *cx, const cJSON *arr)
{
	static const char *const keys[] = { "measure", "dimension", "dir", NULL };
	crm__report *rep = cx->rep;
	const cJSON *o;
	char path[64];
	int i = 0, rc;

	if (!arr)
		return CRM_OK;
	if (!cJSON_IsArray(arr))
		return crm__error_path(cx->db, "order", "'order' must be an array");
	if (!(rep->order = crm__calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *rep->order)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(o, arr)
	{
		const char *name = NULL, *dir = NULL, *measure = NULL, *dim = NULL;
		crm__rorder *key = &rep->order[i];
		int k;

		snprintf(path, sizeof path, "order[%d]", i);
		if (cJSON_IsString(o)) {
			name = o->valuestring;
			key->desc = name[0] == '-';
			name += key->desc;
		} else if (!cJSON_IsObject(o))
			return crm__error_path(cx->db, path, "an order key is a name (\"-revenue\") or {\"measure\": ..., \"dir\": \"desc\"}");
		else {
			if ((rc = check_keys(cx->db, o, path, keys)) || (rc = opt_string(cx->db, o, "measure", path, &measure)) ||
			    (rc = opt_string(cx->db, o, "dimension", path, &dim)) || (rc = opt_string(cx->db, o, "dir", path, &dir)))
				return rc;
			if (!measure == !dim)
				return crm__error_path(cx->db, path, "an order key names one 'measure' or one 'dimension'");
			name = measure ? measure : dim;
			if (dir && strcmp(dir, "asc") && strcmp(dir, "desc"))
				return crm__error_path(cx->db, path, "'dir' is \"asc\" or \"desc\"");
			key->desc = dir && strcmp(dir, "desc") == 0;
		}
		if (!dim && (k = find_measure(rep, name)) >= 0)
			key->key = ~k;
		else if (!measure && (k = find_dim(rep, name)) >= 0)
			key->key = k;
		else
			return crm__error_path(cx->db, path, "unknown %s '%.64s'", measure ? "measure" : dim ? "dimension" : "measure or dimension", name);
		for (int j = 0; j < i; j++)
			if (rep->order[j].key == key->key)
				return crm__error_path(cx->db, path, "'%s' is ordered on twice", name);
		rep->norder = ++i;
	}
	return CRM_OK;
}

static int compare_ok(const crm__rmeasure *ms)
{
	return numeric(ms->type);
}

static int parse_compare(dctx *cx, const cJSON *v)
{
	static const char *const keys[] = { "period", "measures", NULL };
	crm__report *rep = cx->rep;
	const char *period;
	const cJSON *list = NULL, *el;
	char p[64];
	int rc, i = 0;

	if (!v)
		return CRM_OK;
	if (cJSON_IsString(v))
		period = v->valuestring;
	else if (cJSON_IsObject(v)) {
		if ((rc = check_keys(cx->db, v, "compare", keys)) || (rc = opt_string(cx->db, v, "period", "compare", &period)))
			return rc;
		list = get(v, "measures");
		if (!period)
			return crm__error_path(cx->db, "compare", "'compare' needs a 'period'");
	} else
		return crm__error_path(cx->db, "compare", "'compare' is \"previous_period\", \"same_period_last_year\" or {\"period\": ..., \"measures\": [...]}");
	if (strcmp(period, "previous_period") == 0)
		rep->compare = CRM__CMP_PREVIOUS;
	else if (strcmp(period, "same_period_last_year") == 0)
		rep->compare = CRM__CMP_LAST_YEAR;
	else
		return crm__error_path(cx->db, cJSON_IsString(v) ? "compare" : "compare.period",
					"unknown period '%.32s' (expected previous_period or same_period_last_year)", period);
	if (rep->time_dim < 0)
		return crm__error_path(cx->db, "compare", "comparing periods needs a dimension with a time bucket");
	if (!list) {
		for (int k = 0; k < rep->nmeasures; k++)
			rep->measures[k].compare = compare_ok(&rep->measures[k]);
		return CRM_OK;
	}
	if (!cJSON_IsArray(list))
		return crm__error_path(cx->db, "compare.measures", "'measures' is an array of measure names");
	cJSON_ArrayForEach(el, list)
	{
		int k = cJSON_IsString(el) ? find_measure(rep, el->valuestring) : -1;
		snprintf(p, sizeof p, "compare.measures[%d]", i++);
		if (k < 0)
			return crm__error_path(cx->db, p, "unknown measure '%.64s'", cJSON_IsString(el) ? el->valuestring : "");
		if (!compare_ok(&rep->measures[k]))
			return crm__error_path(cx->db, p, "'%s' is not numeric and cannot be compared", rep->measures[k].name);
		rep->measures[k].compare = 1;
	}
	return CRM_OK;
}

/* Running totals and rolling windows add up per period: counts and sums. */
static int additive(const crm__rmeasure *ms) { return ms->agg == CRM__A_COUNT || ms->agg == CRM__A_SUM; }

static int parse_windows(dctx *cx, const cJSON *running, const cJSON *rolling)
{
	static const char *const keys[] = { "measure", "window", NULL };
	crm__report *rep = cx->rep;
	const cJSON *el;
	char p[64];
	int i = 0, rc;

	if ((running || rolling) && rep->time_dim < 0)
		return crm__error_path(cx->db, running ? "running" : "rolling",
					"running totals and rolling windows need a dimension with a time bucket");
	if (running) {
		if (!cJSON_IsArray(running))
			return crm__error_path(cx->db, "running", "'running' is an array of measure names");
		cJSON_ArrayForEach(el, running)
		{
			int k = cJSON_IsString(el) ? find_measure(rep, el->valuestring) : -1;
			snprintf(p, sizeof p, "running[%d]", i++);
			if (k < 0)
				return crm__error_path(cx->db, p, "unknown measure '%.64s'", cJSON_IsString(el) ? el->valuestring : "");
			if (!additive(&rep->measures[k]))
				return crm__error_path(cx->db, p, "running totals add up counts and sums; '%s' is neither",
							rep->measures[k].name);
			if (rep->measures[k].running)
				return crm__error_path(cx->db, p, "'%s' is listed twice", rep->measures[k].name);
			rep->measures[k].running = 1;
		}
	}
	if (!rolling)
		return CRM_OK;
	if (!cJSON_IsArray(rolling))
		return crm__error_path(cx->db, "rolling", "'rolling' is an array of {\"measure\": ..., \"window\": N}");
	if (!(rep->rolling = crm__calloc((size_t)cJSON_GetArraySize(rolling) + 1, sizeof *rep->rolling)))
		return crm__error_oom(cx->db);
	i = 0;
	cJSON_ArrayForEach(el, rolling)
	{
		const cJSON *w;
		const char *name;
		int k;

		snprintf(p, sizeof p, "rolling[%d]", i);
		if (!cJSON_IsObject(el))
			return crm__error_path(cx->db, p, "a rolling window is {\"measure\": ..., \"window\": N}");
		if ((rc = check_keys(cx->db, el, p, keys)) || (rc = opt_string(cx->db, el, "measure", p, &name)))
			return rc;
		k = name ? find_measure(rep, name) : -1;
		if (k < 0)
			return crm__error_path(cx->db, p, "unknown measure '%.64s'", name ? name : "");
		if (!additive(&rep->measures[k]))
			return crm__error_path(cx->db, p, "rolling windows add up counts and sums; '%s' is neither", name);
		w = get(el, "window");
		if (!cJSON_IsNumber(w) || w->valuedouble != floor(w->valuedouble) || w->valuedouble < 1 ||
		    w->valuedouble > CRM__REPORT_MAX_WINDOW)
			return crm__error_path(cx->db, p, "'window' is a number of periods from 1 to %d", CRM__REPORT_MAX_WINDOW);
		rep->rolling[i].measure = k;
		rep->rolling[i].window = (int)w->valuedouble;
		for (int j = 0; j < i; j++)
			if (rep->rolling[j].measure == k && rep->rolling[j].window == rep->rolling[i].window)
				return crm__error_path(cx->db, p, "this window is listed twice");
		rep->nrolling = ++i;
	}
	return CRM_OK;
}

/* ---- time zone ---- */

static int parse_timezone(dctx *cx, const cJSON *v)
{
	crm__report *rep = cx->rep;
	const char *s;
	int h, m;

	strcpy(rep->tz_text, "Z");
	if (!v)
		return CRM_OK;
	if (!cJSON_IsString(v))
		return crm__error_path(cx->db, "timezone", "'timezone' is a fixed offset such as \"+08:00\"");
	s = v->valuestring;
	if (strcmp(s, "Z") == 0 || strcmp(s, "UTC") == 0)
		return CRM_OK;
	if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || s[1] < '0' || s[1] > '9' || s[2] < '0' ||
	    s[2] > '9' || s[4] < '0' || s[4] > '5' || s[5] < '0' || s[5] > '9')
		return crm__error_path(cx->db, "timezone",
					"'%.40s' is not a fixed offset: write \"+08:00\", \"-05:00\" or \"Z\" (named zones such as "
					"\"Asia/Shanghai\" are not supported)",
					s);
	h = (s[1] - '0') * 10 + (s[2] - '0');
	m = (s[4] - '0') * 10 + (s[5] - '0');
	if (h * 60 + m > 14 * 60)
		return crm__error_path(cx->db, "timezone", "offsets range from -14:00 to +14:00");
	rep->tz_minutes = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
	if (rep->tz_minutes)
		memcpy(rep->tz_text, s, 7);
	return CRM_OK;
}

/* ---- funnels ---- */

static int parse_funnel(dctx *cx, const cJSON *v)
{
	static const char *const keys[] = { "field", "workflow", "stages", NULL };
	crm__report *rep = cx->rep;
	const char *field, *workflow;
	const cJSON *stages, *el;
	crm__workflow *wf = NULL;
	char p[64];
	int rc, i = 0;

	if (!v)
		return CRM_OK;
	if (!cJSON_IsObject(v))
		return crm__error_path(cx->db, "funnel", "'funnel' is {\"field\": ..., \"stages\": [...]} or {\"workflow\": ..., \"stages\": [...]}");
	if ((rc = check_keys(cx->db, v, "funnel", keys)) || (rc = opt_string(cx->db, v, "field", "funnel", &field)) ||
	    (rc = opt_string(cx->db, v, "workflow", "funnel", &workflow)))
		return rc;
	if (!field == !workflow)
		return crm__error_path(cx->db, "funnel", "a funnel names either an enum 'field' or a 'workflow'");
	if (field) {
		crm_type t;
		int scale;
		rep->funnel = CRM__FUNNEL_FIELD;
		if ((rc = resolve(cx, field, "funnel.field", &rep->funnel_column)))
			return rc;
		t = column_type(rep, rep->funnel_column, &scale);
		if (t != CRM_TYPE_ENUM)
			return crm__error_path(cx->db, "funnel.field", "a funnel runs over an enum field; '%s' is %s", field,
						crm__type_name(t));
	} else {
		rep->funnel = CRM__FUNNEL_WORKFLOW;
		rc = crm__workflow_lookup(cx->db, workflow, 0, &wf);
		if (rc == CRM_ENOTFOUND)
			return crm__error_path(cx->db, "funnel.workflow", "no workflow named '%.64s'", workflow);
		if (rc)
			return rc;
		if (!wf->form_name || strcmp(wf->form_name, rep->source->name) != 0)
			return crm__error_path(cx->db, "funnel.workflow", "workflow '%s' does not run on form '%s'", workflow,
						rep->source->name);
		if ((rc = dup_opt(cx->db, workflow, &rep->workflow)))
			return rc;
	}
	stages = get(v, "stages");
	if (!cJSON_IsArray(stages) || cJSON_GetArraySize(stages) < 1 || cJSON_GetArraySize(stages) > CRM__REPORT_MAX_STAGES)
		return crm__error_path(cx->db, "funnel.stages", "'stages' is an array of 1 to %d stage names, first to last",
					CRM__REPORT_MAX_STAGES);
	if (!(rep->stages = crm__calloc((size_t)cJSON_GetArraySize(stages), sizeof *rep->stages)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(el, stages)
	{
		const char *s = cJSON_IsString(el) ? el->valuestring : NULL;
		int found = 0;

		snprintf(p, sizeof p, "funnel.stages[%d]", i);
		if (!s)
			return crm__error_path(cx->db, p, "a stage is a string");
		if (field) {
			const crm__field *f = &rep->vform.fields[rep->funnel_column];
			for (size_t o = 0; o < f->noptions && !found; o++)
				found = strcmp(f->options[o], s) == 0;
			if (!found)
				return crm__error_path(cx->db, p, "'%.64s' is not an option of '%s'", s, field);
		} else if (crm__wf_state_index(wf, s) < 0)
			return crm__error_path(cx->db, p, "'%.64s' is not a state of workflow '%s'", s, workflow);
		for (int j = 0; j < i; j++)
			if (strcmp(rep->stages[j], s) == 0)
				return crm__error_path(cx->db, p, "stage '%s' is listed twice", s);
		if (!(rep->stages[i] = crm__strdup(s)))
			return crm__error_oom(cx->db);
		rep->nstages = ++i;
	}
	return CRM_OK;
}

/* ---- parameters ---- */

typedef struct param_walk {
	dctx *cx;
	const crm__form *form;
	int rc;
} param_walk;

/* The filter language's rule for parameter names. */
static int valid_param_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static crm__rparam *find_param(crm__report *rep, const char *name)
{
	for (int i = 0; i < rep->nparams; i++)
		if (strcmp(rep->params[i].name, name) == 0)
			return &rep->params[i];
	return NULL;
}

static crm_type node_type(const crm__form *form, const crm__filter *node)
{
	return node->column >= 0 ? form->fields[node->column].value_type : system_type(node->column);
}

static int type_fits(crm_type declared, crm_type column)
{
	if (declared == column)
		return 1;
	if (declared == CRM_TYPE_TEXT)
		return column == CRM_TYPE_LONG_TEXT || column == CRM_TYPE_EMAIL || column == CRM_TYPE_PHONE ||
		       column == CRM_TYPE_URL || column == CRM_TYPE_ENUM;
	return declared == CRM_TYPE_INTEGER && column == CRM_TYPE_REF;
}

static void note_param(void *payload, const crm__filter *node)
{
	param_walk *w = payload;
	crm__report *rep = w->cx->rep;
	crm__rparam *p;
	char path[96];

	if (w->rc)
		return;
	snprintf(path, sizeof path, "params.%s", node->param);
	if (!(p = find_param(rep, node->param))) {
		crm__rparam *grown = crm__realloc(rep->params, (size_t)(rep->nparams + 1) * sizeof *grown);
		if (!grown) {
			w->rc = crm__error_oom(w->cx->db);
			return;
		}
		rep->params = grown;
		p = &grown[rep->nparams];
		memset(p, 0, sizeof *p);
		if (!(p->name = crm__strdup(node->param))) {
			w->rc = crm__error_oom(w->cx->db);
			return;
		}
		rep->nparams++;
	}
	p->used = 1;
	if (p->type && !type_fits(p->type, node_type(w->form, node))) {
		w->rc = crm__error_path(w->cx->db, path, "parameter '%s' is declared %s but compared with '%s' (%s)", p->name,
					 crm__type_name(p->type), node->column >= 0 ? w->form->fields[node->column].name
										   : crm__system_columns[-node->column - 1],
					 crm__type_name(node_type(w->form, node)));
		return;
	}
}

static int parse_params(dctx *cx, const cJSON *obj)
{
	static const char *const keys[] = { "type", "default", "label", "description", NULL };
	crm__report *rep = cx->rep;
	const cJSON *m;
	char path[96];
	int rc;

	if (!obj)
		return CRM_OK;
	if (!cJSON_IsObject(obj))
		return crm__error_path(cx->db, "params", "'params' is an object: {\"since\": {\"type\": \"datetime\"}}");
	if (!(rep->params = crm__calloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof *rep->params)))
		return crm__error_oom(cx->db);
	for (m = obj->child; m; m = m->next) {
		crm__rparam *p = &rep->params[rep->nparams];
		const char *type = NULL;

		snprintf(path, sizeof path, "params.%.64s", m->string);
		if (find_param(rep, m->string))
			return crm__error_path(cx->db, path, "parameter '%.64s' is declared twice", m->string);
		if (!valid_param_name(m->string))
			return crm__error_path(cx->db, path, "a parameter name is 1 to 64 letters, digits or '_', not starting with a digit");
		if (!cJSON_IsObject(m))
			return crm__error_path(cx->db, path, "a parameter is declared as {\"type\": ..., \"default\": ...}");
		if ((rc = check_keys(cx->db, m, path, keys)) || (rc = opt_string(cx->db, m, "type", path, &type)))
			return rc;
		if (!(p->name = crm__strdup(m->string)))
			return crm__error_oom(cx->db);
		rep->nparams++;
		if (type) {
			char tp[120];
			snprintf(tp, sizeof tp, "%s.type", path);
			p->type = crm__type_from_name(type);
			if (!p->type || p->type == CRM_TYPE_COMPUTED || p->type == CRM_TYPE_ROLLUP || p->type == CRM_TYPE_JSON ||
			    p->type == CRM_TYPE_MULTI_ENUM)
				return crm__error_path(cx->db, tp, "'%.32s' is not a parameter type (text, integer, decimal, number, "
								    "boolean, date, datetime, enum, email, phone, url, ref)",
							type);
		}
		if (get(m, "default") && !(p->def = cJSON_Duplicate(get(m, "default"), 1)))
			return crm__error_oom(cx->db);
	}
	return CRM_OK;
}

/* Every parameter a filter uses is noted (typed by what it compares with);
 * declared defaults must convert for every use. */
static int check_params(dctx *cx)
{
	crm__report *rep = cx->rep;
	param_walk w = { cx, &rep->vform, CRM_OK };
	int ndeclared = rep->nparams, rc;
	char path[96];

	crm__report_each_param(rep->filter, note_param, &w);
	for (int i = 0; i < rep->nmeasures && !w.rc; i++)
		crm__report_each_param(rep->measures[i].filter, note_param, &w);
	w.form = &rep->mform;
	if (!w.rc)
		crm__report_each_param(rep->having, note_param, &w);
	if (w.rc)
		return w.rc;
	for (int i = 0; i < ndeclared; i++) {
		crm__rparam *p = &rep->params[i];
		snprintf(path, sizeof path, "params.%s", p->name);
		if (!p->used)
			return crm__error_path(cx->db, path, "parameter '%s' is declared but no condition uses it", p->name);
		if (p->def) {
			snprintf(path, sizeof path, "params.%s.default", p->name);
			if ((rc = crm__report_check_param(cx->db, rep, p, p->def, path)))
				return rc;
		}
	}
	return CRM_OK;
}

/* ---- the whole document ---- */

static int check_shape(dctx *cx, const cJSON *def)
{
	crm__report *rep = cx->rep;
	int nbuckets = 0;

	rep->time_dim = -1;
	for (int i = 0; i < rep->ndims; i++)
		if (rep->dims[i].bucket) {
			nbuckets++;
			rep->time_dim = i;
		}
	if (nbuckets > 1 && (get(def, "compare") || get(def, "running") || get(def, "rolling")))
		return crm__error_path(cx->db, "dimensions",
					"comparisons, running totals and rolling windows need exactly one time-bucket dimension");
	if (rep->funnel) {
		static const char *const refused[] = { "measures", "having", "compare", "running", "rolling", "totals", NULL };
		for (const char *const *k = refused; *k; k++)
			if (get(def, *k) && !cJSON_IsFalse(get(def, *k)))
				return crm__error_path(cx->db, *k, "a funnel report has no '%s' (its columns are stage, reached, "
								    "from_previous and from_first)",
							*k);
		for (int i = 0; i < rep->ndims; i++)
			if (!strcmp(rep->dims[i].name, "stage") || !strcmp(rep->dims[i].name, "reached") ||
			    !strcmp(rep->dims[i].name, "from_previous") || !strcmp(rep->dims[i].name, "from_first")) {
				char p[64];
				snprintf(p, sizeof p, "dimensions[%d]", i);
				return crm__error_path(cx->db, p, "'%s' is a column of every funnel; name the dimension otherwise",
							rep->dims[i].name);
			}
	} else if (rep->nmeasures == 0)
		return crm__error_path(cx->db, "measures", "a report needs at least one measure (or a funnel)");
	if (rep->totals && rep->limit >= 0)
		return crm__error_path(cx->db, "limit", "'limit' cannot be combined with 'totals' (the totals would not add "
							 "up the rows shown)");
	for (int i = 0; i < rep->ndims; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(rep->dims[i].name, rep->dims[j].name) == 0) {
				char p[64];
				snprintf(p, sizeof p, "dimensions[%d]", i);
				return crm__error_path(cx->db, p, "two dimensions are named '%s'; give one a 'name'", rep->dims[i].name);
			}
	return CRM_OK;
}

static const char *const report_keys[] = { "report",  "label",   "description", "source",  "params", "timezone",
					    "dimensions", "measures", "filter", "having", "order",  "limit",
					    "totals",  "compare", "running",    "rolling", "funnel", NULL };

static int define(dctx *cx, const cJSON *def)
{
	crm__report *rep = cx->rep;
	const char *name, *source, *label;
	const cJSON *v;
	int rc;

	if (!cJSON_IsObject(def))
		return crm__error_path(cx->db, "", "a report definition is a JSON object");
	if ((rc = check_keys(cx->db, def, "", report_keys)) || (rc = opt_string(cx->db, def, "report", "", &name)) ||
	    (rc = opt_string(cx->db, def, "source", "", &source)) || (rc = opt_string(cx->db, def, "label", "", &label)))
		return rc;
	if ((v = get(def, "description")) && !cJSON_IsString(v))
		return crm__error_path(cx->db, "description", "'description' must be a string");
	if (!name)
		return crm__error_path(cx->db, "report", "'report' names the report");
	if ((rc = check_name(cx->db, name, "report", "report")))
		return rc;
	if ((rc = dup_opt(cx->db, name, &rep->name)) || (rc = dup_opt(cx->db, label ? label : name, &rep->label)))
		return rc;
	if (!source)
		return crm__error_path(cx->db, "source", "a report needs a 'source' form");
	rc = crm__form_lookup(cx->db, source, &rep->source);
	if (rc == CRM_ENOTFOUND)
		return crm__error_path(cx->db, "source", "no form named '%.64s' (apply the form before its reports)", source);
	if (rc)
		return rc;
	crm__form_retain(rep->source);
	/* The virtual form starts as a copy of the source form's fields. */
	cx->vcap = rep->source->nfields + 8;
	if (!(rep->vform.fields = crm__calloc((size_t)cx->vcap, sizeof *rep->vform.fields)))
		return crm__error_oom(cx->db);
	memcpy(rep->vform.fields, rep->source->fields, (size_t)rep->source->nfields * sizeof *rep->vform.fields);
	rep->vform.nfields = rep->source->nfields;
	rep->vform.name = rep->source->name;
	rep->limit = -1;

	if ((rc = parse_timezone(cx, get(def, "timezone"))) || (rc = parse_params(cx, get(def, "params"))) ||
	    (rc = parse_dims(cx, get(def, "dimensions"))) || (rc = parse_measures(cx, get(def, "measures"))) ||
	    (rc = parse_funnel(cx, get(def, "funnel"))))
		return rc;
	if ((v = get(def, "filter")) && (rc = parse_filter(cx, v, "filter", &rep->filter)))
		return rc;
	if ((rc = build_mform(cx)) || (rc = parse_having(cx, get(def, "having"))) || (rc = parse_order(cx, get(def, "order"))))
		return rc;
	if ((v = get(def, "limit"))) {
		if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
		    v->valuedouble > MAX_LIMIT)
			return crm__error_path(cx->db, "limit", "'limit' is an integer from 0 to %d", MAX_LIMIT);
		rep->limit = (int64_t)v->valuedouble;
	}
	if ((v = get(def, "totals"))) {
		if (!cJSON_IsBool(v))
			return crm__error_path(cx->db, "totals", "'totals' is true or false");
		rep->totals = cJSON_IsTrue(v);
	}
	if ((rc = check_shape(cx, def)) || (rc = parse_compare(cx, get(def, "compare"))) ||
	    (rc = parse_windows(cx, get(def, "running"), get(def, "rolling"))) || (rc = check_params(cx)))
		return rc;
	if (!(rep->body = cJSON_PrintUnformatted(def)))
		return crm__error_oom(cx->db);
	return CRM_OK;
}

int crm__report_define(crm_db *db, const cJSON *def, crm__report **out)
{
	return crm__report_define_as(db, def, NULL, 0, out);
}

int crm__report_define_as(crm_db *db, const cJSON *def, crm__access **views, int nviews, crm__report **out)
{
	dctx cx;
	int rc;

	*out = NULL;
	memset(&cx, 0, sizeof cx);
	cx.db = db;
	if (!(cx.rep = crm__calloc(1, sizeof *cx.rep))) {
		crm__report_views_free(views, nviews);
		return crm__error_oom(db);
	}
	cx.rep->refs = 1;
	cx.rep->views = views;
	cx.rep->nviews = nviews;
	if ((rc = define(&cx, def)) == CRM_OK)
		rc = crm__report_compile(db, cx.rep);
	if (rc) {
		crm__report_release(cx.rep);
		return rc;
	}
	*out = cx.rep;
	return CRM_OK;
}

void crm__report_retain(crm__report *rep)
{
	if (rep)
		rep->refs++;
}

void crm__report_release(crm__report *rep)
{
	if (!rep || --rep->refs > 0)
		return;
	crm__free(rep->name);
	crm__free(rep->label);
	if (rep->body)
		cJSON_free(rep->body);
	for (int i = rep->source ? rep->source->nfields : 0; i < rep->vform.nfields; i++)
		crm__free(rep->vform.fields[i].name);
	crm__free(rep->vform.fields);
	crm__free(rep->vcols);
	for (int j = 0; j < rep->njoins; j++)
		crm__form_release(rep->joins[j].form);
	crm__free(rep->joins);
	crm__free(rep->mform.fields);
	for (int i = 0; i < rep->ndims; i++) {
		crm__free(rep->dims[i].name);
		crm__free(rep->dims[i].label);
	}
	crm__free(rep->dims);
	for (int i = 0; i < rep->nmeasures; i++) {
		crm__free(rep->measures[i].name);
		crm__free(rep->measures[i].label);
		crm__filter_free(rep->measures[i].filter);
	}
	crm__free(rep->measures);
	crm__filter_free(rep->filter);
	crm__filter_free(rep->having);
	crm__free(rep->order);
	crm__free(rep->rolling);
	crm__free(rep->workflow);
	for (int i = 0; i < rep->nstages; i++)
		crm__free(rep->stages[i]);
	crm__free(rep->stages);
	for (int i = 0; i < rep->nparams; i++) {
		crm__free(rep->params[i].name);
		cJSON_Delete(rep->params[i].def);
	}
	crm__free(rep->params);
	crm__free(rep->consts);
	crm__free(rep->sql);
	crm__rbinds_free(&rep->binds);
	for (int i = 0; i < rep->ncols; i++) {
		crm__free(rep->cols[i].name);
		crm__free(rep->cols[i].label);
	}
	crm__free(rep->cols);
	crm__report_views_free(rep->views, rep->nviews);
	crm__form_release(rep->source);
	crm__free(rep);
}
