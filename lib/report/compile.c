/* Report SQL: the one place where a checked definition becomes SQL text.
 * Identifiers come only from metadata (quoted), every value is a "?"
 * recorded in the report's binds, and the numbers written into the text
 * (scale factors, window sizes, time-zone offsets) come from checked
 * definitions, never from a caller. A second backend changes this file. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "report_int.h"
#include "workflow/workflow_int.h"

/* ---- binds ---- */

void crm__rbinds_free(crm__rbinds *b)
{
	crm__free(b->v);
	memset(b, 0, sizeof *b);
}

void crm__rbinds_add(crm__rbinds *b, const crm__value *v, const char *param, const crm__filter *node,
		     const crm__form *form)
{
	if (b->oom)
		return;
	if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		crm__rbind *grown = crm__realloc(b->v, (size_t)cap * sizeof *grown);
		if (!grown) {
			b->oom = 1;
			return;
		}
		b->v = grown;
		b->cap = cap;
	}
	b->v[b->n].v = v;
	b->v[b->n].param = param;
	b->v[b->n].node = node;
	b->v[b->n].form = form;
	b->n++;
}

/* The condition of `f` that owns parameter name `param` (by address: the
 * filter compiler records the node's own string). */
static const crm__filter *param_node(const crm__filter *f, const char *param)
{
	if (f->param == param)
		return f;
	for (int i = 0; i < f->nkids; i++) {
		const crm__filter *n = param_node(f->kids[i], param);
		if (n)
			return n;
	}
	return NULL;
}

void crm__report_filter_sql(const crm__dialect *d, crm__buf *sql, crm__rbinds *binds, const crm__filter *f, const crm__form *form,
			    const char *alias)
{
	crm__binds tmp = { 0 };

	crm__filter_sql(d, sql, &tmp, f, form, alias);
	if (tmp.oom)
		binds->oom = 1;
	for (int i = 0; i < tmp.n; i++) {
		if (tmp.param[i])
			crm__rbinds_add(binds, NULL, tmp.param[i], param_node(f, tmp.param[i]), form);
		else
			crm__rbinds_add(binds, tmp.v[i], NULL, NULL, form);
	}
	crm__binds_free(&tmp);
}

/* ---- FROM: the source table and its joins ---- */

static void join_alias(crm__buf *sql, int j) { crm__buf_printf(sql, "\"j%d\"", j + 1); }

/*
 * The table of view `view` (0: the source, 1 + j: join j) as `alias` ("t",
 * "j1", ...): the form's table itself, or, on a report compiled for an
 * actor the form's rules restrict, only the rows the actor may read. A
 * reference to a record the actor may not read then reads as an empty one,
 * as the record reads as missing everywhere else.
 */
static void table_sql(crm__buf *sql, crm__rbinds *binds, const crm__report *rep, int view, const char *alias)
{
	const crm__form *form = view ? rep->joins[view - 1].form : rep->source; /* as in access.c */
	crm__binds tmp = { 0 };

	if (!rep->views || !rep->views[view]) {
		crm__sql_ident(sql, form->name);
		crm__buf_puts(sql, " AS ");
		crm__sql_ident(sql, alias);
		return;
	}
	crm__buf_puts(sql, "(SELECT * FROM ");
	crm__sql_ident(sql, form->name);
	crm__buf_puts(sql, " AS ");
	crm__sql_ident(sql, alias);
	crm__buf_puts(sql, " WHERE ");
	/* the literals point into the view, which the report owns */
	crm__access_where_sql(rep->views[view], CRM__ACCESS_READ, rep->dialect, sql, &tmp, alias);
	crm__buf_puts(sql, ") AS ");
	crm__sql_ident(sql, alias);
	if (tmp.oom)
		binds->oom = 1;
	for (int i = 0; i < tmp.n; i++)
		crm__rbinds_add(binds, tmp.v[i], NULL, NULL, NULL);
	crm__binds_free(&tmp);
}

static void join_table_sql(crm__buf *sql, crm__rbinds *binds, const crm__report *rep, int j)
{
	char alias[16];

	snprintf(alias, sizeof alias, "j%d", j + 1);
	table_sql(sql, binds, rep, 1 + j, alias);
}

static void parent_alias(crm__buf *sql, int parent)
{
	if (parent < 0)
		crm__buf_puts(sql, "\"t\"");
	else
		join_alias(sql, parent);
}

static void joins_sql(crm__buf *sql, crm__rbinds *binds, const crm__report *rep, int root)
{
	for (int j = 0; j < rep->njoins; j++) {
		const crm__rjoin *jn = &rep->joins[j];
		int r = j;
		const crm__form *parent;

		while (rep->joins[r].parent >= 0)
			r = rep->joins[r].parent;
		if (j == root || (root >= 0 && r != root))
			continue;
		parent = jn->parent < 0 ? rep->source : rep->joins[jn->parent].form;
		crm__buf_puts(sql, " LEFT JOIN ");
		join_table_sql(sql, binds, rep, j);
		crm__buf_puts(sql, " ON ");
		join_alias(sql, j);
		crm__buf_puts(sql, ".\"id\" = ");
		parent_alias(sql, jn->parent);
		crm__buf_putc(sql, '.');
		crm__sql_ident(sql, parent->fields[jn->ref_column].name);
	}
}

static void vcol_sql(crm__buf *sql, const crm__report *rep, int i)
{
	const crm__rvcol *vc = &rep->vcols[i];

	join_alias(sql, vc->join);
	crm__buf_putc(sql, '.');
	crm__column_sql(sql, rep->joins[vc->join].form, vc->column, NULL);
	crm__buf_puts(sql, " AS ");
	crm__sql_ident(sql, rep->vform.fields[rep->source->nfields + i].name);
}

void crm__report_from_sql(crm__buf *sql, crm__rbinds *binds, const crm__report *rep)
{
	crm__buf_puts(sql, " FROM ");
	if (!rep->nvcols) {
		table_sql(sql, binds, rep, 0, "t");
		return;
	}
	/* A subquery SQLite flattens: the outer query sees one table whose
	 * columns include "customer.industry", and still uses the source
	 * table's indexes. */
	crm__buf_puts(sql, "(SELECT \"t\".*");
	for (int i = 0; i < rep->nvcols; i++) {
		crm__buf_puts(sql, ", ");
		vcol_sql(sql, rep, i);
	}
	crm__buf_puts(sql, " FROM ");
	table_sql(sql, binds, rep, 0, "t");
	joins_sql(sql, binds, rep, -1);
	crm__buf_puts(sql, ") AS \"t\"");
}

void crm__report_path_sql(crm__buf *sql, crm__rbinds *binds, const crm__report *rep, int root)
{
	int n = 0;

	crm__buf_puts(sql, "(SELECT ");
	join_alias(sql, root);
	crm__buf_puts(sql, ".\"id\" AS \"id\"");
	for (int i = 0; i < rep->nvcols; i++)
		if (crm__report_root_join(rep, rep->source->nfields + i) == root) {
			crm__buf_puts(sql, ", ");
			vcol_sql(sql, rep, i);
			n++;
		}
	crm__buf_puts(sql, " FROM ");
	join_table_sql(sql, binds, rep, root);
	joins_sql(sql, binds, rep, root);
	/* One row of NULLs: does the condition hold for a record whose reference is empty? */
	crm__buf_puts(sql, " UNION ALL SELECT NULL");
	for (int i = 0; i < n; i++)
		crm__buf_puts(sql, ", NULL");
	crm__buf_puts(sql, ") AS \"t\"");
}

/* Column `column` of `alias` in the engines' representation (decimals
 * scaled, datetimes in ms, ...: the dialect's as_storage), for SQL that
 * computes on values. Filters compare the column itself. */
static void value_sql(crm__buf *sql, const crm__report *rep, int column, const char *alias)
{
	const crm__field *f = column >= 0 ? &rep->vform.fields[column] : NULL;
	crm__buf col = CRM__BUF_INIT;

	if (!f) {
		crm__column_sql(sql, &rep->vform, column, alias);
		return;
	}
	crm__column_sql(&col, &rep->vform, column, alias);
	rep->dialect->as_storage(sql, f->value_type, f->scale, crm__buf_cstr(&col));
	sql->oom |= col.oom;
	crm__buf_free(&col);
}

/* ---- time buckets ---- */

/* The first day of the bucket holding column `column` of `alias`, as
 * 'YYYY-MM-DD' text in the report's time zone (NULL stays NULL). */
static void bucket_key_sql(crm__buf *sql, const crm__report *rep, int column, int bucket, const char *alias)
{
	int datetime = column < 0 || rep->vform.fields[column].value_type == CRM_TYPE_DATETIME;
	const crm__dialect *d = rep->dialect;
	crm__buf arg = CRM__BUF_INIT;

	/* datetimes are ms UTC: shift by the offset. A local time outside
	 * 0001-01-01..9999-12-31 is held to that range, so it lands in the
	 * first or the last bucket (drill.c leaves those open). */
	crm__buf_putc(&arg, '(');
	if (datetime && rep->tz_minutes) {
		crm__buf shifted = CRM__BUF_INIT;
		value_sql(&shifted, rep, column, alias);
		crm__buf_printf(&shifted, " + %lld", (long long)rep->tz_minutes * 60000);
		d->clamp(&arg, crm__buf_cstr(&shifted), CRM__DATETIME_MIN_MS, CRM__DATETIME_MAX_MS);
		arg.oom |= shifted.oom;
		crm__buf_free(&shifted);
	} else
		value_sql(&arg, rep, column, alias);
	crm__buf_putc(&arg, ')');
	crm__buf_cstr(&arg);
	if (arg.oom) {
		crm__buf_free(&arg);
		sql->oom = 1;
		crm__buf_free(&arg);
		return;
	}
	d->bucket_start(sql, bucket, datetime, arg.p);
	crm__buf_free(&arg);
}

/* The bucket's label from its key: "2026-01-31", "2026-W05", "2026-01", "2026-Q1", "2026". */
static void bucket_label_sql(crm__buf *sql, const crm__report *rep, int bucket, const char *key)
{
	switch (bucket) {
	case CRM__B_DAY: crm__buf_puts(sql, key); break;
	case CRM__B_WEEK: rep->dialect->iso_week(sql, key); break;
	case CRM__B_MONTH: crm__buf_printf(sql, "substr(%s, 1, 7)", key); break;
	case CRM__B_QUARTER:
		crm__buf_printf(sql, "substr(%s, 1, 4) || '-Q' || ((CAST(substr(%s, 6, 2) AS INTEGER) + 2) / 3)", key, key);
		break;
	default: crm__buf_printf(sql, "substr(%s, 1, 4)", key);
	}
}

/* Consecutive integers for consecutive buckets, so "the previous period"
 * and "the last N periods" count periods, not rows: an empty month is a
 * gap in the numbering, never skipped over. */
static void bucket_ordinal_sql(crm__buf *sql, const crm__report *rep, int bucket, const char *key)
{
	switch (bucket) {
	case CRM__B_DAY: rep->dialect->day_number(sql, key); break;
	case CRM__B_WEEK: /* Mondays: day 4 + 7k */
		crm__buf_putc(sql, '(');
		rep->dialect->day_number(sql, key);
		crm__buf_puts(sql, " - 4) / 7");
		break;
	case CRM__B_MONTH:
		crm__buf_printf(sql, "CAST(substr(%s, 1, 4) AS INTEGER) * 12 + CAST(substr(%s, 6, 2) AS INTEGER) - 1", key, key);
		break;
	case CRM__B_QUARTER:
		crm__buf_printf(sql, "CAST(substr(%s, 1, 4) AS INTEGER) * 4 + (CAST(substr(%s, 6, 2) AS INTEGER) - 1) / 3", key,
				key);
		break;
	default: crm__buf_printf(sql, "CAST(substr(%s, 1, 4) AS INTEGER)", key);
	}
}

/* ---- pieces of the statement ---- */

static void dim_expr(crm__buf *sql, const crm__report *rep, int d)
{
	const crm__rdim *dim = &rep->dims[d];

	if (dim->bucket)
		bucket_key_sql(sql, rep, dim->column, dim->bucket, "t");
	else
		value_sql(sql, rep, dim->column, "t");
}

/* The name of dimension d's column in the grouped rows: buckets keep
 * their key there ("k__0"); "__" never occurs in a metadata name. */
static void dim_key_name(crm__buf *sql, const crm__report *rep, int d)
{
	if (rep->dims[d].bucket)
		crm__buf_printf(sql, "\"k__%d\"", d);
	else
		crm__sql_ident(sql, rep->dims[d].name);
}

static void pow10_sql(crm__buf *sql, int scale)
{
	crm__buf_puts(sql, "1");
	for (int i = 0; i < scale; i++)
		crm__buf_putc(sql, '0');
	crm__buf_puts(sql, ".0");
}

/* Sums of integers and decimals are the dialect's exact sum: exact past a
 * partial overflow, and a total out of range is reported, not raised; sums
 * of numbers reach an infinity, reported the same way. */
static const char *sum_fn(const crm__report *rep, const crm__rmeasure *ms, const char *fn)
{
	if (strcmp(fn, "sum") != 0)
		return fn;
	return ms->type == CRM_TYPE_NUMBER ? rep->dialect->sum_real : rep->dialect->sum_exact;
}

/* The value a measure aggregates: the column, or 1 / * for a count, under
 * the measure's filter. */
static void measure_arg(crm__buf *sql, crm__rbinds *binds, const crm__report *rep, const crm__rmeasure *ms)
{
	if (ms->filter) {
		crm__buf_puts(sql, "CASE WHEN ");
		crm__report_filter_sql(rep->dialect, sql, binds, ms->filter, &rep->vform, "t");
		crm__buf_puts(sql, " THEN ");
	}
	if (ms->column == INT32_MIN)
		crm__buf_puts(sql, ms->filter ? "1" : "*");
	else
		value_sql(sql, rep, ms->column, "t");
	if (ms->filter)
		crm__buf_puts(sql, " END");
}

/* The average of integers or decimals (scaled integers): the exact sum
 * divided once by the count (times 10^scale), in doubles. One rounding, so
 * the result is the exact average's nearest double on every backend,
 * where avg() would round twice (SQLite: the mean, then the unscaling) or
 * give an exact numeric cut to some digits (PostgreSQL). */
static void exact_avg_expr(crm__buf *sql, crm__rbinds *binds, const crm__report *rep, const crm__rmeasure *ms)
{
	const crm__field *f = &rep->vform.fields[ms->column];
	const char *real = rep->dialect->type_real;

	crm__buf_printf(sql, "CAST(%s(", rep->dialect->sum_exact);
	measure_arg(sql, binds, rep, ms);
	crm__buf_printf(sql, ") AS %s) / (CAST(count(", real);
	measure_arg(sql, binds, rep, ms);
	crm__buf_printf(sql, ") AS %s)", real);
	if (f->value_type == CRM_TYPE_DECIMAL) {
		crm__buf_puts(sql, " * ");
		pow10_sql(sql, f->scale);
	}
	/* no value: the sum is NULL, so is the quotient (never 0 / 0) */
	crm__buf_putc(sql, ')');
}

static void measure_expr(crm__buf *sql, crm__rbinds *binds, const crm__report *rep, const crm__rmeasure *ms)
{
	static const char *const fn[] = { "count", "count", "sum", "avg", "min", "max" };

	if (ms->agg == CRM__A_AVG && ms->column >= 0 && crm__storage_of(rep->vform.fields[ms->column].value_type) ==
								  CRM__S_INTEGER) {
		exact_avg_expr(sql, binds, rep, ms);
		return;
	}
	crm__buf_printf(sql, "%s(%s", sum_fn(rep, ms, fn[ms->agg]), ms->agg == CRM__A_COUNT_DISTINCT ? "DISTINCT " : "");
	measure_arg(sql, binds, rep, ms);
	crm__buf_putc(sql, ')');
}

/* A measure's value as a real number (decimals unscaled). */
static void real_of(crm__buf *sql, const crm__report *rep, int m, const char *alias)
{
	const crm__rmeasure *ms = &rep->measures[m];

	crm__buf_printf(sql, "(\"%s\".", alias);
	crm__sql_ident(sql, ms->name);
	crm__buf_puts(sql, " * 1.0");
	if (ms->type == CRM_TYPE_DECIMAL && ms->scale) {
		crm__buf_puts(sql, " / ");
		pow10_sql(sql, ms->scale);
	}
	crm__buf_putc(sql, ')');
}

static void ratio_expr(crm__buf *sql, const crm__report *rep, const crm__rmeasure *ms)
{
	const char *den = rep->measures[ms->den].name;

	crm__buf_printf(sql, "CASE WHEN \"g\".\"%s\" IS NULL OR \"g\".\"%s\" = 0 THEN NULL ELSE ", den, den);
	real_of(sql, rep, ms->num, "g");
	crm__buf_puts(sql, " / ");
	real_of(sql, rep, ms->den, "g");
	crm__buf_puts(sql, " END");
}

/* One level of the grouped rows: 0 every dimension, 1 the first only
 * (subtotals), 2 none (the grand total). */
static void group_select(crm__buf *sql, crm__rbinds *binds, const crm__report *rep, int level)
{
	int ngroup = level == 0 ? rep->ndims : level == 1 ? 1 : 0;

	crm__buf_printf(sql, "SELECT %d AS \"lvl__\"", level);
	for (int d = 0; d < rep->ndims; d++) {
		crm__buf_puts(sql, ", ");
		if (d < ngroup)
			dim_expr(sql, rep, d);
		else
			crm__buf_puts(sql, "NULL");
		crm__buf_puts(sql, " AS ");
		dim_key_name(sql, rep, d);
	}
	for (int m = 0; m < rep->nmeasures; m++) {
		const crm__rmeasure *ms = &rep->measures[m];
		if (ms->agg == CRM__A_RATIO)
			continue;
		crm__buf_puts(sql, ", ");
		measure_expr(sql, binds, rep, ms);
		crm__buf_puts(sql, " AS ");
		crm__sql_ident(sql, ms->name);
	}
	crm__report_from_sql(sql, binds, rep);
	if (rep->filter) {
		crm__buf_puts(sql, " WHERE ");
		crm__report_filter_sql(rep->dialect, sql, binds, rep->filter, &rep->vform, "t");
	}
	/* by position, so no expression (nor its binds) is written twice */
	for (int d = 0; d < ngroup; d++)
		crm__buf_printf(sql, "%s%d", d ? ", " : " GROUP BY ", d + 2);
}

static const crm__value *add_const(crm__report *rep, crm__value v)
{
	rep->consts[rep->nconsts] = v;
	return &rep->consts[rep->nconsts++];
}

static void limit_sql(crm__buf *sql, crm__report *rep)
{
	crm__value v = { .kind = CRM__V_INT, .i = rep->limit };

	if (rep->limit < 0)
		return;
	crm__buf_puts(sql, " LIMIT ?");
	crm__rbinds_add(&rep->binds, add_const(rep, v), NULL, NULL, NULL);
}

static void dim_order_key(crm__buf *sql, const crm__report *rep, int d, const char *alias)
{
	crm__buf_printf(sql, "\"%s\".", alias);
	dim_key_name(sql, rep, d);
}

/* ORDER BY: the keys asked for, then every other dimension, so the order
 * is total and two runs return rows in the same order. */
static void order_sql(crm__buf *sql, const crm__report *rep, const char *alias, int skip_dim, int first)
{
	int used[CRM__REPORT_MAX_DIMS] = { 0 };

	if (skip_dim >= 0)
		used[skip_dim] = 1;
	for (int k = 0; k < rep->norder; k++) {
		const crm__rorder *o = &rep->order[k];
		if (o->key >= 0) {
			if (used[o->key])
				continue;
			used[o->key] = 1;
		}
		crm__buf_puts(sql, first ? " ORDER BY " : ", ");
		first = 0;
		if (o->key >= 0)
			dim_order_key(sql, rep, o->key, alias);
		else {
			crm__buf_printf(sql, "\"%s\".", alias);
			crm__sql_ident(sql, rep->measures[~o->key].name);
		}
		crm__buf_puts(sql, o->desc ? rep->dialect->order_desc : rep->dialect->order_asc);
	}
	for (int d = 0; d < rep->ndims; d++)
		if (!used[d]) {
			crm__buf_puts(sql, first ? " ORDER BY " : ", ");
			first = 0;
			dim_order_key(sql, rep, d, alias);
			crm__buf_puts(sql, rep->dialect->order_asc);
		}
}

static int dim_order_desc(const crm__report *rep, int d)
{
	for (int k = 0; k < rep->norder; k++)
		if (rep->order[k].key == d)
			return rep->order[k].desc;
	return 0;
}

/* PARTITION BY the total level and every dimension but `except` (the
 * time dimension that windows run along, or -1). */
static void partition_sql(crm__buf *sql, const crm__report *rep, const char *alias, int except)
{
	crm__buf_printf(sql, "PARTITION BY \"%s\".\"lvl__\"", alias);
	for (int d = 0; d < rep->ndims; d++)
		if (d != except) {
			crm__buf_puts(sql, ", ");
			dim_order_key(sql, rep, d, alias);
		}
}

static void window_sum(crm__buf *sql, const crm__report *rep, const crm__rmeasure *ms, int window)
{
	char ord[32];

	snprintf(ord, sizeof ord, "\"c\".\"o__%d\"", rep->time_dim);
	crm__buf_printf(sql, "CASE WHEN \"c\".\"lvl__\" = 0 AND %s IS NOT NULL THEN %s(CASE WHEN %s IS NOT NULL THEN \"c\".",
			ord, sum_fn(rep, ms, "sum"), ord);
	crm__sql_ident(sql, ms->name);
	crm__buf_puts(sql, " END) OVER (");
	partition_sql(sql, rep, "c", rep->time_dim);
	crm__buf_printf(sql, " ORDER BY %s", ord);
	if (window > 0)
		crm__buf_printf(sql, " RANGE BETWEEN %d PRECEDING AND CURRENT ROW", window - 1);
	crm__buf_puts(sql, ") END");
}

static int count_like(const crm__rmeasure *ms) { return ms->agg == CRM__A_COUNT || ms->agg == CRM__A_COUNT_DISTINCT; }

/* ---- columns ---- */

static int add_col(crm_db *db, crm__report *rep, const char *name, const char *suffix, const char *label,
		   const char *label_suffix, crm_type type, int scale)
{
	crm__rcolumn *c = &rep->cols[rep->ncols];
	char buf[200];

	snprintf(buf, sizeof buf, "%s%s", name, suffix);
	for (int i = 0; i < rep->ncols; i++)
		if (strcmp(rep->cols[i].name, buf) == 0)
			return crm__error_path(db, "measures", "two result columns would be named '%s'; rename a measure", buf);
	/* counted at once, so the report frees whatever part was made */
	rep->ncols++;
	if (!(c->name = crm__strdup(buf)))
		return crm__error_oom(db);
	snprintf(buf, sizeof buf, "%s%s", label, label_suffix);
	if (!(c->label = crm__strdup(buf)))
		return crm__error_oom(db);
	c->type = type;
	c->scale = scale;
	return CRM_OK;
}

static int build_columns(crm_db *db, crm__report *rep)
{
	int cap = rep->ndims + 8 * rep->nmeasures + rep->nrolling + 8, rc = CRM_OK;

	if (!(rep->cols = crm__calloc((size_t)cap, sizeof *rep->cols)))
		return crm__error_oom(db);
	for (int d = 0; d < rep->ndims && !rc; d++) {
		const crm__rdim *dim = &rep->dims[d];
		crm_type t = dim->bucket ? CRM_TYPE_TEXT
			     : dim->column >= 0 ? rep->vform.fields[dim->column].value_type
			     : dim->column == CRM__COL_OWNER ? CRM_TYPE_TEXT
			     : dim->column == CRM__COL_CREATED_AT || dim->column == CRM__COL_UPDATED_AT ? CRM_TYPE_DATETIME
													 : CRM_TYPE_INTEGER;
		rc = add_col(db, rep, dim->name, "", dim->label, "", t,
			     !dim->bucket && dim->column >= 0 ? rep->vform.fields[dim->column].scale : 0);
	}
	if (rep->funnel) {
		if (!rc)
			rc = add_col(db, rep, "stage", "", "Stage", "", CRM_TYPE_TEXT, 0);
		if (!rc)
			rc = add_col(db, rep, "reached", "", "Reached", "", CRM_TYPE_INTEGER, 0);
		if (!rc)
			rc = add_col(db, rep, "from_previous", "", "Conversion from the previous stage", "", CRM_TYPE_NUMBER, 0);
		if (!rc)
			rc = add_col(db, rep, "from_first", "", "Conversion from the first stage", "", CRM_TYPE_NUMBER, 0);
		return rc;
	}
	for (int m = 0; m < rep->nmeasures && !rc; m++)
		rc = add_col(db, rep, rep->measures[m].name, "", rep->measures[m].label, "", rep->measures[m].type,
			     rep->measures[m].scale);
	for (int m = 0; m < rep->nmeasures && !rc; m++) {
		const crm__rmeasure *ms = &rep->measures[m];
		if (!ms->compare)
			continue;
		rc = add_col(db, rep, ms->name, "_prev", ms->label,
			     rep->compare == CRM__CMP_PREVIOUS ? " (previous period)" : " (same period last year)", ms->type,
			     ms->scale);
		if (!rc)
			rc = add_col(db, rep, ms->name, "_delta", ms->label, " (change)", ms->type, ms->scale);
		if (!rc)
			rc = add_col(db, rep, ms->name, "_pct", ms->label, " (% change)", CRM_TYPE_NUMBER, 0);
	}
	for (int m = 0; m < rep->nmeasures && !rc; m++)
		if (rep->measures[m].running)
			rc = add_col(db, rep, rep->measures[m].name, "_running", rep->measures[m].label, " (running total)",
				     rep->measures[m].type, rep->measures[m].scale);
	for (int k = 0; k < rep->nrolling && !rc; k++) {
		const crm__rmeasure *ms = &rep->measures[rep->rolling[k].measure];
		char suffix[32], lsuffix[48];
		snprintf(suffix, sizeof suffix, "_rolling_%d", rep->rolling[k].window);
		snprintf(lsuffix, sizeof lsuffix, " (last %d periods)", rep->rolling[k].window);
		rc = add_col(db, rep, ms->name, suffix, ms->label, lsuffix, ms->type, ms->scale);
	}
	if (!rc && rep->totals)
		rc = add_col(db, rep, "_total", "", "Total", "", CRM_TYPE_TEXT, 0);
	return rc;
}

/* ---- the statement ---- */

static void report_sql(crm__buf *sql, crm__report *rep)
{
	crm__rbinds *binds = &rep->binds;
	int T = rep->time_dim, col = 0;
	char key[32];

	/* g__: the grouped rows (and the total levels) */
	crm__buf_puts(sql, "WITH \"g__\" AS (");
	group_select(sql, binds, rep, 0);
	if (rep->totals && rep->ndims >= 2) {
		crm__buf_puts(sql, " UNION ALL ");
		group_select(sql, binds, rep, 1);
	}
	if (rep->totals && rep->ndims >= 1) {
		crm__buf_puts(sql, " UNION ALL ");
		group_select(sql, binds, rep, 2);
	}
	/* r__: bucket labels and ordinals, ratios */
	crm__buf_puts(sql, "), \"r__\" AS (SELECT \"g\".\"lvl__\" AS \"lvl__\"");
	for (int d = 0; d < rep->ndims; d++) {
		crm__buf_puts(sql, ", ");
		if (!rep->dims[d].bucket) {
			crm__buf_puts(sql, "\"g\".");
			crm__sql_ident(sql, rep->dims[d].name);
			crm__buf_puts(sql, " AS ");
			crm__sql_ident(sql, rep->dims[d].name);
			continue;
		}
		snprintf(key, sizeof key, "\"g\".\"k__%d\"", d);
		bucket_label_sql(sql, rep, rep->dims[d].bucket, key);
		crm__buf_puts(sql, " AS ");
		crm__sql_ident(sql, rep->dims[d].name);
		crm__buf_printf(sql, ", %s AS \"k__%d\", ", key, d);
		bucket_ordinal_sql(sql, rep, rep->dims[d].bucket, key);
		crm__buf_printf(sql, " AS \"o__%d\"", d);
	}
	for (int m = 0; m < rep->nmeasures; m++) {
		const crm__rmeasure *ms = &rep->measures[m];
		crm__buf_puts(sql, ", ");
		if (ms->agg == CRM__A_RATIO)
			ratio_expr(sql, rep, ms);
		else {
			crm__buf_puts(sql, "\"g\".");
			crm__sql_ident(sql, ms->name);
		}
		crm__buf_puts(sql, " AS ");
		crm__sql_ident(sql, ms->name);
	}
	crm__buf_puts(sql, " FROM \"g__\" AS \"g\")");

	/* c__: each row with its comparison period's values, from the row
	 * before it in a window: for the previous period, in period order when
	 * its ordinal is one less; for the same period last year, among rows
	 * with the same label but for the year (2026-W05 and 2025-W05), when
	 * its year is one less. Windows keep this linear in the number of
	 * rows. A period without rows gives no match: the previous value is
	 * then 0 for counts, NULL otherwise. */
	if (rep->compare) {
		char step[160], order[96];
		const char *tn = rep->dims[T].name;

		if (rep->compare == CRM__CMP_PREVIOUS) {
			snprintf(step, sizeof step, "\"r\".\"o__%d\"", T);
			snprintf(order, sizeof order, "\"r\".\"o__%d\"", T);
		} else {
			snprintf(step, sizeof step, "CAST(substr(\"r\".\"%s\", 1, 4) AS INTEGER)", tn);
			snprintf(order, sizeof order, "substr(\"r\".\"%s\", 1, 4)", tn);
		}
		crm__buf_puts(sql, ", \"c__\" AS (SELECT \"r\".*");
		for (int m = 0; m < rep->nmeasures; m++) {
			const crm__rmeasure *ms = &rep->measures[m];
			if (!ms->compare)
				continue;
			if (count_like(ms))
				crm__buf_printf(sql, ", CASE WHEN \"r\".\"k__%d\" IS NULL THEN NULL ELSE coalesce(", T);
			else
				crm__buf_puts(sql, ", ");
			crm__buf_printf(sql, "CASE WHEN lag(%s) OVER \"p__\" = %s - 1 THEN lag(\"r\".", step, step);
			crm__sql_ident(sql, ms->name);
			crm__buf_puts(sql, ") OVER \"p__\" END");
			if (count_like(ms))
				crm__buf_puts(sql, ", 0) END");
			crm__buf_printf(sql, " AS \"%s_prev\"", ms->name);
		}
		crm__buf_puts(sql, " FROM \"r__\" AS \"r\" WINDOW \"p__\" AS (PARTITION BY \"r\".\"lvl__\"");
		for (int d = 0; d < rep->ndims; d++)
			if (d != T) {
				crm__buf_puts(sql, ", \"r\".");
				crm__sql_ident(sql, rep->dims[d].name);
			}
		if (rep->compare != CRM__CMP_PREVIOUS)
			crm__buf_printf(sql, ", substr(\"r\".\"%s\", 5)", tn);
		crm__buf_printf(sql, " ORDER BY %s))", order);
	}

	/* the result columns */
	crm__buf_puts(sql, " SELECT ");
	for (int d = 0; d < rep->ndims; d++, col++) {
		crm__buf_puts(sql, col ? ", \"c\"." : "\"c\".");
		crm__sql_ident(sql, rep->dims[d].name);
	}
	for (int m = 0; m < rep->nmeasures; m++, col++) {
		crm__buf_puts(sql, col ? ", \"c\"." : "\"c\".");
		crm__sql_ident(sql, rep->measures[m].name);
	}
	for (int m = 0; m < rep->nmeasures; m++) {
		const char *n = rep->measures[m].name;
		if (!rep->measures[m].compare)
			continue;
		crm__buf_printf(sql, ", \"c\".\"%s_prev\", \"c\".\"%s\" - \"c\".\"%s_prev\"", n, n, n);
		crm__buf_printf(sql,
				", CASE WHEN \"c\".\"%s_prev\" IS NULL OR \"c\".\"%s_prev\" = 0 OR \"c\".\"%s\" IS NULL THEN NULL"
				" ELSE (\"c\".\"%s\" - \"c\".\"%s_prev\") * 100.0 / abs(\"c\".\"%s_prev\") END",
				n, n, n, n, n, n);
	}
	for (int m = 0; m < rep->nmeasures; m++)
		if (rep->measures[m].running) {
			crm__buf_puts(sql, ", ");
			window_sum(sql, rep, &rep->measures[m], 0);
		}
	for (int k = 0; k < rep->nrolling; k++) {
		crm__buf_puts(sql, ", ");
		window_sum(sql, rep, &rep->measures[rep->rolling[k].measure], rep->rolling[k].window);
	}
	if (rep->totals)
		crm__buf_puts(sql, ", CASE \"c\".\"lvl__\" WHEN 1 THEN 'subtotal' WHEN 2 THEN 'total' END");
	crm__buf_puts(sql, rep->compare ? " FROM \"c__\" AS \"c\"" : " FROM \"r__\" AS \"c\"");
	/* having filters the detail rows; totals count every record */
	if (rep->having) {
		crm__buf_puts(sql, " WHERE (\"c\".\"lvl__\" <> 0 OR ");
		crm__report_filter_sql(rep->dialect, sql, binds, rep->having, &rep->mform, "c");
		crm__buf_putc(sql, ')');
	}
	/* Totals: detail rows of each first-dimension value, then its
	 * subtotal; the grand total last. */
	if (rep->totals && rep->ndims >= 2) {
		crm__buf_puts(sql, " ORDER BY \"c\".\"lvl__\" = 2, ");
		dim_order_key(sql, rep, 0, "c");
		crm__buf_puts(sql, dim_order_desc(rep, 0) ? rep->dialect->order_desc : rep->dialect->order_asc);
		crm__buf_puts(sql, ", \"c\".\"lvl__\"");
		order_sql(sql, rep, "c", 0, 0);
	} else if (rep->totals && rep->ndims == 1) {
		crm__buf_puts(sql, " ORDER BY \"c\".\"lvl__\"");
		order_sql(sql, rep, "c", -1, 0);
	} else
		order_sql(sql, rep, "c", -1, 1);
	limit_sql(sql, rep);
}

void crm__report_funnel_ctes(crm__buf *sql, crm__rbinds *binds, const crm__report *rep)
{
	crm__buf_puts(sql, "\"st__\"(\"i\", \"name\") AS (VALUES ");
	for (int s = 0; s < rep->nstages; s++) {
		crm__buf_printf(sql, "%s(%d, ?)", s ? ", " : "", s);
		crm__rbinds_add(binds, &rep->consts[s], NULL, NULL, NULL);
	}
	crm__buf_puts(sql, "), ");
	if (rep->funnel != CRM__FUNNEL_WORKFLOW)
		return;
	/* The furthest listed stage each record's instance is in or has been in;
	 * which states those are is the workflow engine's to say. */
	crm__buf_puts(sql, "\"x__\"(\"rec\", \"pos\") AS (SELECT \"r\".\"rec\", max(\"s\".\"i\") FROM (");
	crm__wf_states_reached_sql(sql);
	for (int k = 0; k < 2; k++) { /* workflow, form; twice */
		crm__rbinds_add(binds, &rep->consts[rep->nstages], NULL, NULL, NULL);
		crm__rbinds_add(binds, &rep->consts[rep->nstages + 1], NULL, NULL, NULL);
	}
	crm__buf_puts(sql, ") AS \"r\" JOIN \"st__\" AS \"s\" ON \"s\".\"name\" = \"r\".\"state\"");
	crm__buf_puts(sql, " GROUP BY \"r\".\"rec\"), ");
}

static void funnel_sql(crm__buf *sql, crm__report *rep)
{
	crm__rbinds *binds = &rep->binds;
	char key[32];

	crm__buf_puts(sql, "WITH ");
	crm__report_funnel_ctes(sql, binds, rep);
	/* b__: each record's dimensions and the furthest stage it reached */
	crm__buf_puts(sql, "\"b__\" AS (SELECT 0 AS \"lvl__\"");
	for (int d = 0; d < rep->ndims; d++) {
		crm__buf_puts(sql, ", ");
		dim_expr(sql, rep, d);
		crm__buf_puts(sql, " AS ");
		dim_key_name(sql, rep, d);
	}
	if (rep->funnel == CRM__FUNNEL_FIELD) {
		/* The stage's position, as a CASE: a lookup per record would be
		 * a correlated subquery, run for every record and stage. */
		crm__buf_puts(sql, ", CASE ");
		crm__column_sql(sql, &rep->vform, rep->funnel_column, "t");
		for (int st = 0; st < rep->nstages; st++) {
			crm__buf_printf(sql, " WHEN ? THEN %d", st);
			crm__rbinds_add(binds, &rep->consts[st], NULL, NULL, NULL);
		}
		crm__buf_puts(sql, " END AS \"pos__\"");
		crm__report_from_sql(sql, binds, rep);
	} else {
		crm__buf_puts(sql, ", \"x\".\"pos\" AS \"pos__\"");
		crm__report_from_sql(sql, binds, rep);
		crm__buf_puts(sql, " JOIN \"x__\" AS \"x\" ON \"x\".\"rec\" = \"t\".\"id\"");
	}
	if (rep->filter) {
		crm__buf_puts(sql, " WHERE ");
		crm__report_filter_sql(rep->dialect, sql, binds, rep->filter, &rep->vform, "t");
	}
	/* n__: how many records per group stopped at each stage (one pass);
	 * records at a value not listed as a stage take no part. */
	crm__buf_puts(sql, "), \"n__\" AS (SELECT \"b\".\"lvl__\" AS \"lvl__\"");
	for (int d = 0; d < rep->ndims; d++) {
		crm__buf_puts(sql, ", \"b\".");
		dim_key_name(sql, rep, d);
		crm__buf_puts(sql, " AS ");
		dim_key_name(sql, rep, d);
	}
	crm__buf_puts(sql, ", \"b\".\"pos__\" AS \"pos__\", count(*) AS \"n\" FROM \"b__\" AS \"b\""
			   " WHERE \"b\".\"pos__\" IS NOT NULL GROUP BY 1, ");
	for (int d = 0; d < rep->ndims; d++)
		crm__buf_printf(sql, "%d, ", d + 2);
	crm__buf_printf(sql, "%d)", rep->ndims + 2);
	/* g__: per group and stage, how many got at least that far. */
	crm__buf_puts(sql, ", \"g__\" AS (SELECT \"b\".\"lvl__\" AS \"lvl__\"");
	for (int d = 0; d < rep->ndims; d++) {
		crm__buf_puts(sql, ", \"b\".");
		dim_key_name(sql, rep, d);
		crm__buf_puts(sql, " AS ");
		dim_key_name(sql, rep, d);
	}
	crm__buf_puts(sql, ", \"s\".\"i\" AS \"i__\", \"s\".\"name\" AS \"stage\","
			   " sum(CASE WHEN \"b\".\"pos__\" >= \"s\".\"i\" THEN \"b\".\"n\" ELSE 0 END) AS \"reached\""
			   " FROM \"n__\" AS \"b\" CROSS JOIN \"st__\" AS \"s\" GROUP BY 1, ");
	for (int d = 0; d < rep->ndims; d++)
		crm__buf_printf(sql, "%d, ", d + 2);
	crm__buf_printf(sql, "%d, %d)", rep->ndims + 2, rep->ndims + 3); /* a stage's index and its name */
	crm__buf_puts(sql, " SELECT ");
	for (int d = 0; d < rep->ndims; d++) {
		if (rep->dims[d].bucket) {
			snprintf(key, sizeof key, "\"c\".\"k__%d\"", d);
			bucket_label_sql(sql, rep, rep->dims[d].bucket, key);
		} else {
			crm__buf_puts(sql, "\"c\".");
			crm__sql_ident(sql, rep->dims[d].name);
		}
		crm__buf_puts(sql, ", ");
	}
	crm__buf_puts(sql, "\"c\".\"stage\", \"c\".\"reached\","
			   " CASE WHEN \"c\".\"i__\" = 0 THEN NULL ELSE \"c\".\"reached\" * 1.0 / nullif(lag(\"c\".\"reached\") OVER \"w__\", 0) END,"
			   " \"c\".\"reached\" * 1.0 / nullif(first_value(\"c\".\"reached\") OVER \"w__\", 0)"
			   " FROM \"g__\" AS \"c\" WINDOW \"w__\" AS (");
	partition_sql(sql, rep, "c", -1);
	crm__buf_puts(sql, " ORDER BY \"c\".\"i__\")");
	order_sql(sql, rep, "c", -1, 1);
	crm__buf_puts(sql, rep->ndims ? ", \"c\".\"i__\"" : " ORDER BY \"c\".\"i__\"");
	limit_sql(sql, rep);
}

int crm__report_compile(crm_db *db, crm__report *rep)
{
	crm__buf sql = CRM__BUF_INIT;
	int rc;

	rep->dialect = db->be->dialect;
	/* Constants are bound by address: allocate them once, never grow. */
	if (!(rep->consts = crm__calloc((size_t)rep->nstages + 4, sizeof *rep->consts)))
		return crm__error_oom(db);
	for (int s = 0; s < rep->nstages; s++) {
		crm__value v = { .kind = CRM__V_TEXT, .s = rep->stages[s], .n = strlen(rep->stages[s]) };
		add_const(rep, v);
	}
	if (rep->funnel == CRM__FUNNEL_WORKFLOW) {
		crm__value w = { .kind = CRM__V_TEXT, .s = rep->workflow, .n = strlen(rep->workflow) };
		crm__value f = { .kind = CRM__V_TEXT, .s = rep->source->name, .n = strlen(rep->source->name) };
		add_const(rep, w);
		add_const(rep, f);
	}
	if ((rc = build_columns(db, rep)))
		return rc;
	if (rep->funnel)
		funnel_sql(&sql, rep);
	else
		report_sql(&sql, rep);
	if (sql.oom || rep->binds.oom) {
		crm__buf_free(&sql);
		return crm__error_oom(db);
	}
	crm__buf_cstr(&sql);
	rep->sql = crm__buf_detach(&sql);
	return rep->sql ? CRM_OK : crm__error_oom(db);
}
