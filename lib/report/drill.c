/* Drill-down: the crm_query document that returns the records behind one
 * report row. The row's dimension values (bucket labels as date ranges)
 * and the report's filter (parameters substituted) become one filter on
 * the source form; conditions reached through references become "ref in
 * [ids of the referenced records that match]". */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "report_int.h"
#include "store/value.h"

#define IN_CHUNK 1000 /* values one "in" may list (docs/query.md) */

typedef struct drill {
	crm_db *db;
	crm__report *rep;
	crm__rargs args;
	crm__filter **conds; /* the row's conditions, parsed against the virtual form */
	int nconds;
	int stage;           /* funnels: the row's stage index, -1 otherwise */
} drill;

/* ---- bucket labels back to date ranges ---- */

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* [start, end) in days since the epoch of the bucket labelled `s`. */
static int label_range(int bucket, const char *s, int64_t *start, int64_t *end)
{
	size_t n = strlen(s);
	int y, m, w;

	if (n < 4 || digits(s, 4, &y) || y < 1)
		return -1;
	switch (bucket) {
	case CRM__B_DAY:
		if (n != 10 || crm__date_parse(s, n, start))
			return -1;
		*end = *start + 1;
		return 0;
	case CRM__B_WEEK: {
		int64_t jan4, wd, ty;
		unsigned tm, td;
		if (n != 8 || s[4] != '-' || s[5] != 'W' || digits(s + 6, 2, &w) || w < 1 || w > 53)
			return -1;
		/* week 1 is the week holding January 4th; weeks start on Monday */
		jan4 = crm__days_from_civil(y, 1, 4);
		wd = ((jan4 + 3) % 7 + 7) % 7; /* 1970-01-01 was a Thursday: Monday = 0 */
		*start = jan4 - wd + 7 * (int64_t)(w - 1);
		*end = *start + 7;
		crm__civil_from_days(*start + 3, &ty, &tm, &td);
		return ty == y ? 0 : -1; /* week 53 exists only in some years */
	}
	case CRM__B_MONTH:
		if (n != 7 || s[4] != '-' || digits(s + 5, 2, &m) || m < 1 || m > 12)
			return -1;
		*start = crm__days_from_civil(y, (unsigned)m, 1);
		*end = m == 12 ? crm__days_from_civil(y + 1, 1, 1) : crm__days_from_civil(y, (unsigned)m + 1, 1);
		return 0;
	case CRM__B_QUARTER:
		if (n != 7 || s[4] != '-' || s[5] != 'Q' || digits(s + 6, 1, &m) || m < 1 || m > 4)
			return -1;
		*start = crm__days_from_civil(y, (unsigned)(3 * m - 2), 1);
		*end = m == 4 ? crm__days_from_civil(y + 1, 1, 1) : crm__days_from_civil(y, (unsigned)(3 * m + 1), 1);
		return 0;
	default:
		if (n != 4)
			return -1;
		*start = crm__days_from_civil(y, 1, 1);
		*end = crm__days_from_civil(y + 1, 1, 1);
		return 0;
	}
}

static const char *const bucket_examples[] = { "", "2026-01-31", "2026-W05", "2026-01", "2026-Q1", "2026" };

/* ---- the row's conditions ---- */

static const char *column_name(const crm__report *rep, int column)
{
	return column >= 0 ? rep->vform.fields[column].name : crm__system_columns[-column - 1];
}

static int is_datetime(const crm__report *rep, int column)
{
	return column < 0 || rep->vform.fields[column].value_type == CRM_TYPE_DATETIME;
}

/* Parse one condition (JSON) against the virtual form and keep it. */
static int add_cond(drill *dx, cJSON *json, const char *path)
{
	crm__filter *f = crm__filter_parse(dx->db, &dx->rep->vform, json, path, 0);
	crm__filter **grown;

	cJSON_Delete(json);
	if (!f)
		return dx->db->errcode ? dx->db->errcode : CRM_EINVAL;
	if (!(grown = crm__realloc(dx->conds, (size_t)(dx->nconds + 1) * sizeof *grown))) {
		crm__filter_free(f);
		return crm__error_oom(dx->db);
	}
	dx->conds = grown;
	dx->conds[dx->nconds++] = f;
	return CRM_OK;
}

/* {"field": field, "op": op[, "value": value]} (value owned; NULL for
 * is_null), or NULL when memory ran out. */
static cJSON *condition(const char *field, const char *op, cJSON *value)
{
	int is_null = strcmp(op, "is_null") == 0;
	cJSON *c = cJSON_CreateObject();

	if (!c || (!is_null && !value) || !cJSON_AddStringToObject(c, "field", field) ||
	    !cJSON_AddStringToObject(c, "op", op) || (value && !cJSON_AddItemToObject(c, "value", value))) {
		cJSON_Delete(c);
		cJSON_Delete(value);
		return NULL;
	}
	return c;
}

static void bound_text(const crm__report *rep, int column, int64_t days, char *out)
{
	crm__date_format(days, out);
	if (is_datetime(rep, column))
		snprintf(out + 10, 24, "T00:00:00%s", rep->tz_text);
}

static int dim_cond(drill *dx, int d, const cJSON *v)
{
	const crm__report *rep = dx->rep;
	const crm__rdim *dim = &rep->dims[d];
	const char *field = column_name(rep, dim->column);
	char path[96], lo[40], hi[40];
	int64_t start, end;
	cJSON *c;

	snprintf(path, sizeof path, "row.%s", dim->name);
	if (!v)
		return crm__error_path(dx->db, path, "the row has no value for dimension '%s'", dim->name);
	if (cJSON_IsNull(v))
		c = condition(field, "is_null", NULL);
	else if (!dim->bucket)
		c = condition(field, "eq", cJSON_Duplicate(v, 1));
	else {
		if (!cJSON_IsString(v) || label_range(dim->bucket, v->valuestring, &start, &end))
			return crm__error_path(dx->db, path, "'%.40s' is not a label of this bucket (such as \"%s\")",
						cJSON_IsString(v) ? v->valuestring : "", bucket_examples[dim->bucket]);
		bound_text(rep, dim->column, start, lo);
		bound_text(rep, dim->column, end, hi);
		/* The first and the last bucket are open-ended: they also hold the
		 * instants whose local time falls before 0001 or after 9999
		 * (compile.c), and those bounds could not be written anyway. */
		int from = start > CRM__DATE_MIN_DAYS, to = end <= CRM__DATE_MAX_DAYS;
		cJSON *and = cJSON_CreateArray(), *ge = NULL, *lt = NULL;
		if (from)
			ge = condition(field, "ge", cJSON_CreateString(lo));
		if (to)
			lt = condition(field, "lt", cJSON_CreateString(hi));
		c = cJSON_CreateObject();
		if (!c || !and || (from && !ge) || (to && !lt)) {
			cJSON_Delete(c);
			cJSON_Delete(and);
			cJSON_Delete(ge);
			cJSON_Delete(lt);
			return crm__error_oom(dx->db);
		}
		if (ge)
			cJSON_AddItemToArray(and, ge);
		if (lt)
			cJSON_AddItemToArray(and, lt);
		if (!cJSON_AddItemToObject(c, "and", and)) {
			cJSON_Delete(and);
			cJSON_Delete(c);
			return crm__error_oom(dx->db);
		}
	}
	if (!c)
		return crm__error_oom(dx->db);
	return add_cond(dx, c, path);
}

static int row_conds(drill *dx, const cJSON *row)
{
	const crm__report *rep = dx->rep;
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(row, "_total");
	int ndims = rep->ndims, rc;

	/* total rows stand for every value of the dimensions they leave out */
	if (rep->totals && total && !cJSON_IsNull(total)) {
		if (cJSON_IsString(total) && strcmp(total->valuestring, "total") == 0)
			ndims = 0;
		else if (cJSON_IsString(total) && strcmp(total->valuestring, "subtotal") == 0 && rep->ndims >= 2)
			ndims = 1;
		else
			return crm__error_path(dx->db, "row._total", "'_total' is null, \"subtotal\" or \"total\"");
	}
	for (int d = 0; d < ndims; d++)
		if ((rc = dim_cond(dx, d, cJSON_GetObjectItemCaseSensitive(row, rep->dims[d].name))))
			return rc;
	dx->stage = -1;
	if (rep->funnel) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(row, "stage");
		for (int s = 0; cJSON_IsString(st) && s < rep->nstages && dx->stage < 0; s++)
			if (strcmp(rep->stages[s], st->valuestring) == 0)
				dx->stage = s;
		if (dx->stage < 0)
			return crm__error_path(dx->db, "row.stage", "the row's 'stage' is not one of the funnel's stages");
		if (rep->funnel == CRM__FUNNEL_FIELD) {
			cJSON *list = cJSON_CreateArray(), *c;
			for (int s = dx->stage; list && s < rep->nstages; s++) {
				cJSON *name = cJSON_CreateString(rep->stages[s]);
				if (!name) {
					cJSON_Delete(list);
					list = NULL;
				} else
					cJSON_AddItemToArray(list, name);
			}
			if (!list || !(c = condition(column_name(rep, rep->funnel_column), "in", list)))
				return crm__error_oom(dx->db);
			return add_cond(dx, c, "row.stage");
		}
	}
	return CRM_OK;
}

/* ---- writing the filter ---- */

/* -1: only source columns; >= 0: only columns under that first join; -2: both. */
static int scope(const crm__report *rep, const crm__filter *f)
{
	int s = -3;

	if (f->op > CRM__FOP_NOT)
		return crm__report_root_join(rep, f->column < 0 ? -1 : f->column);
	for (int i = 0; i < f->nkids; i++) {
		int k = scope(rep, f->kids[i]);
		if (s == -3)
			s = k;
		else if (s != k)
			return -2;
	}
	return s == -3 ? -1 : s;
}

static void value_json(crm__buf *out, const crm__report *rep, const crm__filter *f, const crm__value *v)
{
	crm_type t;
	int scale = 0;

	if (f->op == CRM__FOP_CONTAINS || f->op == CRM__FOP_STARTS_WITH || v->kind == CRM__V_TEXT) {
		/* multi_enum "eq" holds its canonical array text */
		if (f->column >= 0 && rep->vform.fields[f->column].value_type == CRM_TYPE_MULTI_ENUM && f->op == CRM__FOP_EQ)
			crm__buf_put(out, v->s, v->n);
		else
			crm__json_str(out, v->s, v->n);
		return;
	}
	if (f->column >= 0) {
		t = rep->vform.fields[f->column].value_type;
		scale = rep->vform.fields[f->column].scale;
	} else
		t = f->column == CRM__COL_CREATED_AT || f->column == CRM__COL_UPDATED_AT ? CRM_TYPE_DATETIME : CRM_TYPE_INTEGER;
	crm__value_write_json(out, t, scale, v);
}

static int emit_leaf(drill *dx, crm__buf *out, const crm__filter *f)
{
	const crm__report *rep = dx->rep;
	int rc;

	if (f->param) {
		const crm__filter *lit = NULL;
		if ((rc = crm__rargs_literal(dx->db, rep, &dx->args, f, &rep->vform, &lit)))
			return rc;
		f = lit;
	}
	crm__buf_puts(out, "{\"field\":");
	crm__json_cstr(out, column_name(rep, f->column));
	crm__buf_puts(out, ",\"op\":");
	crm__json_cstr(out, crm__report_op_name(f->op));
	crm__buf_puts(out, ",\"value\":");
	if (f->op == CRM__FOP_IS_NULL)
		crm__buf_puts(out, f->values[0].i ? "true" : "false");
	else if (f->op == CRM__FOP_IN || f->op == CRM__FOP_BETWEEN) {
		crm__buf_putc(out, '[');
		for (int i = 0; i < f->nvalues; i++) {
			if (i)
				crm__buf_putc(out, ',');
			value_json(out, rep, f, &f->values[i]);
		}
		crm__buf_putc(out, ']');
	} else
		value_json(out, rep, f, &f->values[0]);
	crm__buf_putc(out, '}');
	return CRM_OK;
}

/* Run `sql` (ids in the first column, NULL for "the reference is empty")
 * and write `field` is_null / in [...] accordingly; `negate`: write that
 * `field` is none of the ids (the SQL gives no NULL then). */
static int emit_ids(drill *dx, crm__buf *out, const char *sql, const crm__rbinds *binds, const char *field,
		    const char *what, int negate, int *has_null_out)
{
	crm__stmt *st;
	crm__buf items = CRM__BUF_INIT;
	int rc, nitems = 0, nids = 0, has_null = 0;

	if (!(st = crm__stmt_take(dx->db, sql, (size_t)-1)))
		return dx->db->errcode;
	if ((rc = crm__rargs_bind(dx->db, dx->rep, &dx->args, binds, st))) {
		crm__stmt_give(dx->db, st);
		return rc;
	}
	while ((rc = crm__step(st)) == CRM_ROW) {
		if (crm__column_type(st, 0) == CRM__SQL_NULL) {
			has_null = 1;
			continue;
		}
		if (++nids > CRM__REPORT_MAX_IDS) {
			rc = CRM_ELIMIT;
			break;
		}
		if (nids % IN_CHUNK == 1) {
			crm__buf_puts(&items, nitems++ ? "]},{\"field\":" : "{\"field\":");
			crm__json_cstr(&items, field);
			crm__buf_puts(&items, ",\"op\":\"in\",\"value\":[");
		} else
			crm__buf_putc(&items, ',');
		crm__buf_i64(&items, crm__column_int64(st, 0));
	}
	crm__stmt_give(dx->db, st);
	if (rc == CRM_ELIMIT) {
		crm__buf_free(&items);
		return crm__error(dx->db, CRM_ELIMIT,
				  "the records behind this row are more than %d %s records: a drill-down query cannot list "
				  "them all (narrow the report's filter)",
				  CRM__REPORT_MAX_IDS, what);
	}
	if (rc != CRM_DONE) {
		crm__buf_free(&items);
		return rc;
	}
	if (nitems)
		crm__buf_puts(&items, "]}");
	if (has_null_out)
		*has_null_out = has_null;
	if (negate) {
		/* none of no ids: a condition every record meets */
		if (!nitems)
			crm__buf_puts(out, "{\"field\":\"id\",\"op\":\"is_null\",\"value\":false}");
		else {
			crm__buf_puts(out, "{\"not\":{\"or\":[");
			crm__buf_put(out, items.p, items.len);
			crm__buf_puts(out, "]}}");
		}
	} else if (has_null) {
		crm__buf_puts(out, nitems ? "{\"or\":[{\"field\":" : "{\"field\":");
		crm__json_cstr(out, field);
		crm__buf_puts(out, ",\"op\":\"is_null\",\"value\":true}");
		if (nitems) {
			crm__buf_putc(out, ',');
			crm__buf_put(out, items.p, items.len);
			crm__buf_puts(out, "]}");
		}
	} else if (nitems == 1)
		crm__buf_put(out, items.p, items.len);
	else {
		crm__buf_puts(out, "{\"or\":[");
		crm__buf_put(out, items.p, items.len);
		crm__buf_puts(out, "]}");
	}
	rc = items.oom ? crm__error_oom(dx->db) : CRM_OK;
	crm__buf_free(&items);
	return rc;
}

/* Conditions (all of `fs`) on columns reached through the first join
 * `root`: the ids of the referenced records (and the empty reference) for
 * which they hold. */
static int emit_path_ids(drill *dx, crm__buf *out, const crm__filter *const *fs, int n, int root, int negate,
			 int *has_null)
{
	const crm__report *rep = dx->rep;
	crm__buf sql = CRM__BUF_INIT;
	crm__rbinds binds = { 0 };
	int rc;

	crm__buf_puts(&sql, "SELECT \"t\".\"id\" FROM ");
	crm__report_path_sql(&sql, &binds, rep, root);
	crm__buf_puts(&sql, negate ? " WHERE \"t\".\"id\" IS NOT NULL AND ((" : " WHERE ((");
	for (int i = 0; i < n; i++) {
		crm__buf_puts(&sql, i ? ") AND (" : "");
		crm__report_filter_sql(rep->dialect, &sql, &binds, fs[i], &rep->vform, "t");
	}
	crm__buf_puts(&sql, negate ? ")) IS NOT TRUE ORDER BY 1" : ")) ORDER BY 1");
	if (sql.oom || binds.oom)
		rc = crm__error_oom(dx->db);
	else
		rc = emit_ids(dx, out, crm__buf_cstr(&sql), &binds, rep->source->fields[rep->joins[root].ref_column].name,
			      rep->joins[root].form->name, negate, has_null);
	crm__buf_free(&sql);
	crm__rbinds_free(&binds);
	return rc;
}

/* A record whose reference the actor may not read reads as an empty one in
 * the report (compile.c): when the conditions hold for an empty reference,
 * such records are behind the row too, so the query says instead that the
 * reference is none of the readable records for which they do not hold. */
static int emit_path(drill *dx, crm__buf *out, const crm__filter *const *fs, int n, int root)
{
	size_t mark = out->len;
	int has_null = 0, rc = emit_path_ids(dx, out, fs, n, root, 0, &has_null);

	if (rc || !has_null || !dx->rep->views || !dx->rep->views[1 + root])
		return rc;
	out->len = mark;
	return emit_path_ids(dx, out, fs, n, root, 1, NULL);
}

static int emit(drill *dx, crm__buf *out, const crm__filter *f)
{
	int s = scope(dx->rep, f), rc;

	if (s >= 0)
		return emit_path(dx, out, &f, 1, s);
	if (f->op > CRM__FOP_NOT)
		return emit_leaf(dx, out, f);
	if (f->op == CRM__FOP_NOT) {
		crm__buf_puts(out, "{\"not\":");
		if ((rc = emit(dx, out, f->kids[0])))
			return rc;
		crm__buf_putc(out, '}');
		return CRM_OK;
	}
	crm__buf_puts(out, f->op == CRM__FOP_AND ? "{\"and\":[" : "{\"or\":[");
	for (int i = 0; i < f->nkids; i++) {
		if (i)
			crm__buf_putc(out, ',');
		if ((rc = emit(dx, out, f->kids[i])))
			return rc;
	}
	crm__buf_puts(out, "]}");
	return CRM_OK;
}

/* Workflow funnels: the records of this row that reached the stage. */
static int emit_workflow_stage(drill *dx, crm__buf *out)
{
	const crm__report *rep = dx->rep;
	crm__buf sql = CRM__BUF_INIT;
	crm__rbinds binds = { 0 };
	crm__value k = { .kind = CRM__V_INT, .i = dx->stage };
	int rc;

	crm__buf_puts(&sql, "WITH ");
	crm__report_funnel_ctes(&sql, &binds, rep);
	sql.len -= 2; /* the CTE list's trailing ", " */
	crm__buf_puts(&sql, " SELECT \"t\".\"id\"");
	crm__report_from_sql(&sql, &binds, rep);
	crm__buf_puts(&sql, " JOIN \"x__\" AS \"x\" ON \"x\".\"rec\" = \"t\".\"id\" WHERE \"x\".\"pos\" >= ?");
	crm__rbinds_add(&binds, &k, NULL, NULL, NULL);
	if (rep->filter) {
		crm__buf_puts(&sql, " AND ");
		crm__report_filter_sql(rep->dialect, &sql, &binds, rep->filter, &rep->vform, "t");
	}
	for (int i = 0; i < dx->nconds; i++) {
		crm__buf_puts(&sql, " AND ");
		crm__report_filter_sql(rep->dialect, &sql, &binds, dx->conds[i], &rep->vform, "t");
	}
	crm__buf_puts(&sql, " ORDER BY 1");
	if (sql.oom || binds.oom)
		rc = crm__error_oom(dx->db);
	else
		rc = emit_ids(dx, out, crm__buf_cstr(&sql), &binds, "id", rep->source->name, 0, NULL);
	crm__buf_free(&sql);
	crm__rbinds_free(&binds);
	return rc;
}

static int build(drill *dx, const char *row_json, crm__buf *out)
{
	const crm__report *rep = dx->rep;
	cJSON *row;
	int rc, n = 0;

	if (!row_json)
		return crm__error(dx->db, CRM_EMISUSE, "no row given");
	if ((rc = crm__report_parse_json(dx->db, row_json, "the row", &row)))
		return rc;
	if (!cJSON_IsObject(row))
		rc = crm__error_path(dx->db, "row", "the row is a JSON object of the row's dimension values");
	else
		rc = row_conds(dx, row);
	cJSON_Delete(row);
	if (rc)
		return rc;
	crm__buf_puts(out, "{\"filter\":{\"and\":[");
	if (rep->filter) {
		if ((rc = emit(dx, out, rep->filter)))
			return rc;
		n++;
	}
	/* The row's conditions through one reference become one "in": the
	 * referenced records matching all of them. */
	for (int i = 0; i < dx->nconds; i++) {
		const crm__filter *same[CRM__REPORT_MAX_DIMS + 1];
		int s = scope(rep, dx->conds[i]), k = 0, first = 1;

		for (int j = 0; s >= 0 && j < i; j++)
			first &= scope(rep, dx->conds[j]) != s;
		if (!first)
			continue; /* written with an earlier one */
		if (n++)
			crm__buf_putc(out, ',');
		if (s < 0)
			rc = emit(dx, out, dx->conds[i]);
		else {
			for (int j = i; j < dx->nconds && k < (int)(sizeof same / sizeof *same); j++)
				if (scope(rep, dx->conds[j]) == s)
					same[k++] = dx->conds[j];
			rc = emit_path(dx, out, same, k, s);
		}
		if (rc)
			return rc;
	}
	if (rep->funnel == CRM__FUNNEL_WORKFLOW) {
		if (n++)
			crm__buf_putc(out, ',');
		if ((rc = emit_workflow_stage(dx, out)))
			return rc;
	}
	crm__buf_puts(out, "]}}");
	return out->oom ? crm__error_oom(dx->db) : CRM_OK;
}

/* The result must be a query crm_query accepts: check it the same way. */
static int check(drill *dx, crm__buf *out)
{
	cJSON *doc;
	crm__filter *f;
	int rc;

	if ((rc = crm__report_parse_json(dx->db, crm__buf_cstr(out), "the drill-down query", &doc)))
		return rc;
	f = crm__filter_parse(dx->db, dx->rep->source, cJSON_GetObjectItemCaseSensitive(doc, "filter"), "filter", 0);
	cJSON_Delete(doc);
	if (!f)
		return dx->db->errcode == CRM_EINVAL ? crm__error(dx->db, CRM_ELIMIT, "the drill-down query is too large: %s",
								   crm_errmsg(dx->db))
						     : dx->db->errcode;
	crm__filter_free(f);
	return CRM_OK;
}

int crm_report_drill(crm_db *db, const char *name, const char *params_json, const char *row_json, char **out)
{
	crm__buf b = CRM__BUF_INIT;
	drill dx;
	int rc;

	if (out)
		*out = NULL;
	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (!out)
		return crm__error(db, CRM_EMISUSE, "no place for the query");
	memset(&dx, 0, sizeof dx);
	dx.db = db;
	if ((rc = crm__report_for_actor(db, name, &dx.rep)))
		return rc;
	if ((rc = crm__rargs_init(db, dx.rep, params_json, &dx.args)) == CRM_OK && (rc = build(&dx, row_json, &b)) == CRM_OK &&
	    (rc = check(&dx, &b)) == CRM_OK) {
		*out = crm__buf_detach(&b);
		if (!*out)
			rc = crm__error_oom(db);
	}
	crm__buf_free(&b);
	for (int i = 0; i < dx.nconds; i++)
		crm__filter_free(dx.conds[i]);
	crm__free(dx.conds);
	crm__rargs_free(&dx.args);
	crm__report_release(dx.rep);
	return rc;
}
