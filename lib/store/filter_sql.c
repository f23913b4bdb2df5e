/* Compiling a parsed filter to one parameterised SQL expression. Column
 * names come only from the compiled form; every literal is a "?" whose
 * value is recorded in the binds, so no user text ever reaches the SQL.
 *
 * Logic is two-valued, as in crm__filter_eval: a condition on a column with
 * no value is simply false (except is_null and ne), and "not F" matches
 * exactly the records F does not match. SQL's third value (NULL) is
 * harmless under AND and OR (it only ever stands for false there), so only
 * NOT needs care: it compiles to "(F) IS NOT TRUE", true when F is false
 * or NULL. SQL that differs between databases comes from the dialect. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "filter.h"
#include "value.h"

void crm__binds_free(crm__binds *b)
{
	crm__free(b->v);
	crm__free((void *)b->param);
	memset(b, 0, sizeof *b);
}

static void bind_add(crm__binds *b, const crm__value *v, const char *param)
{
	if (b->oom)
		return;
	if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		const crm__value **nv = crm__realloc(b->v, (size_t)cap * sizeof *nv);
		const char **np;

		if (!nv) {
			b->oom = 1;
			return;
		}
		b->v = nv;
		np = crm__realloc((void *)b->param, (size_t)cap * sizeof *np);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->param = np;
		b->cap = cap;
	}
	b->v[b->n] = v;
	b->param[b->n] = param;
	b->n++;
}

int crm__binds_apply(const crm__binds *b, crm__stmt *st, int first_index,
		     const crm__value *(*lookup)(void *payload, const char *name), void *payload)
{
	for (int i = 0; i < b->n; i++) {
		const crm__value *v = b->v[i];
		int rc;

		if (b->param[i])
			v = lookup ? lookup(payload, b->param[i]) : NULL;
		rc = v ? crm__value_bind(st, first_index + i, v) : crm__bind_null(st, first_index + i);
		if (rc != CRM_OK)
			return rc;
	}
	return CRM_OK;
}

void crm__column_sql(crm__buf *sql, const crm__form *form, int column, const char *alias)
{
	if (alias) {
		crm__sql_ident(sql, alias);
		crm__buf_putc(sql, '.');
	}
	crm__sql_ident(sql, column >= 0 ? form->fields[column].name : crm__system_columns[-column - 1]);
}

/* One "?" for operand i of a condition (its literal or its parameter). */
static void placeholder(crm__buf *sql, crm__binds *binds, const crm__filter *f, int i)
{
	crm__buf_putc(sql, '?');
	bind_add(binds, f->param ? NULL : &f->values[i], f->param);
}

static int is_multi_enum(const crm__form *form, int column)
{
	return column >= 0 && form->fields[column].value_type == CRM_TYPE_MULTI_ENUM;
}

static void condition_sql(const crm__dialect *d, crm__buf *sql, crm__binds *binds, const crm__filter *f,
			  const crm__form *form, const char *alias)
{
	static const char *const cmp[] = {
		[CRM__FOP_EQ] = " = ", [CRM__FOP_NE] = NULL,   [CRM__FOP_LT] = " < ",
		[CRM__FOP_LE] = " <= ", [CRM__FOP_GT] = " > ", [CRM__FOP_GE] = " >= ",
	};

	switch (f->op) {
	case CRM__FOP_EQ:
	case CRM__FOP_NE: /* null-safe: a record with no value is not equal to 'x' */
	case CRM__FOP_LT:
	case CRM__FOP_LE:
	case CRM__FOP_GT:
	case CRM__FOP_GE:
		crm__column_sql(sql, form, f->column, alias);
		if (f->op == CRM__FOP_NE) {
			crm__buf_putc(sql, ' ');
			crm__buf_puts(sql, d->distinct);
			crm__buf_putc(sql, ' ');
		} else
			crm__buf_puts(sql, cmp[f->op]);
		placeholder(sql, binds, f, 0);
		break;
	case CRM__FOP_IN:
		crm__column_sql(sql, form, f->column, alias);
		crm__buf_puts(sql, " IN (");
		for (int i = 0; i < f->nvalues; i++) {
			if (i)
				crm__buf_putc(sql, ',');
			placeholder(sql, binds, f, i);
		}
		crm__buf_putc(sql, ')');
		break;
	case CRM__FOP_BETWEEN:
		crm__buf_putc(sql, '(');
		crm__column_sql(sql, form, f->column, alias);
		crm__buf_puts(sql, " BETWEEN ");
		placeholder(sql, binds, f, 0);
		crm__buf_puts(sql, " AND ");
		placeholder(sql, binds, f, 1);
		crm__buf_putc(sql, ')');
		break;
	case CRM__FOP_CONTAINS:
		if (is_multi_enum(form, f->column)) {
			crm__buf_puts(sql, d->contains_list[0]);
			crm__column_sql(sql, form, f->column, alias);
			crm__buf_puts(sql, d->contains_list[1]);
			placeholder(sql, binds, f, 0);
			crm__buf_puts(sql, d->contains_list[2]);
		} else {
			/* a position, not LIKE: exact and case-sensitive, no wildcards to escape */
			crm__buf_puts(sql, d->position);
			crm__buf_putc(sql, '(');
			crm__column_sql(sql, form, f->column, alias);
			crm__buf_puts(sql, ", ");
			placeholder(sql, binds, f, 0);
			crm__buf_puts(sql, ") > 0");
		}
		break;
	case CRM__FOP_STARTS_WITH:
		/* Characters of valid UTF-8 on both sides, so this is a byte prefix
		 * test. The CAST tells a typed database what length() measures. */
		crm__buf_puts(sql, "substr(");
		crm__column_sql(sql, form, f->column, alias);
		crm__buf_puts(sql, ", 1, length(CAST(");
		placeholder(sql, binds, f, 0);
		crm__buf_puts(sql, " AS TEXT))) = ");
		placeholder(sql, binds, f, 0);
		break;
	case CRM__FOP_IS_NULL:
		crm__column_sql(sql, form, f->column, alias);
		crm__buf_puts(sql, f->values[0].i ? " IS NULL" : " IS NOT NULL");
		break;
	default:
		crm__buf_puts(sql, "FALSE");
		break;
	}
}

/* A ref whose target the actor may read: an uncorrelated IN over the
 * target's own restriction (one semi-join, not a query per row), with an
 * alias of its own so the target's columns never resolve outwards. */
static void visible_sql(const crm__dialect *d, crm__buf *sql, crm__binds *binds, const crm__filter *f,
			const crm__form *form, const char *alias)
{
	char sub[72];

	if (!f->sub_form) {
		crm__buf_puts(sql, "FALSE"); /* never resolved: grants nothing */
		return;
	}
	crm__buf_putc(sql, '(');
	crm__column_sql(sql, form, f->column, alias);
	if (f->nkids == 0) {
		crm__buf_puts(sql, " IS NOT NULL)");
		return;
	}
	snprintf(sub, sizeof sub, "%.60sv", alias ? alias : "");
	crm__buf_puts(sql, " IN (SELECT ");
	crm__sql_ident(sql, sub);
	crm__buf_puts(sql, ".\"id\" FROM ");
	crm__sql_ident(sql, f->sub_form->name);
	crm__buf_puts(sql, " AS ");
	crm__sql_ident(sql, sub);
	crm__buf_puts(sql, " WHERE ");
	crm__filter_sql(d, sql, binds, f->kids[0], f->sub_form, sub);
	crm__buf_puts(sql, "))");
}

void crm__filter_sql(const crm__dialect *d, crm__buf *sql, crm__binds *binds, const crm__filter *f,
		     const crm__form *form, const char *alias)
{
	switch (f->op) {
	case CRM__FOP_AND:
	case CRM__FOP_OR:
		if (f->nkids == 0) {
			/* and of nothing holds; or of nothing fails */
			crm__buf_puts(sql, f->op == CRM__FOP_AND ? "TRUE" : "FALSE");
			return;
		}
		crm__buf_putc(sql, '(');
		for (int i = 0; i < f->nkids; i++) {
			if (i)
				crm__buf_puts(sql, f->op == CRM__FOP_AND ? " AND " : " OR ");
			crm__filter_sql(d, sql, binds, f->kids[i], form, alias);
		}
		crm__buf_putc(sql, ')');
		return;
	case CRM__FOP_NOT:
		crm__buf_puts(sql, "((");
		crm__filter_sql(d, sql, binds, f->kids[0], form, alias);
		crm__buf_puts(sql, ") IS NOT TRUE)");
		return;
	case CRM__FOP_VISIBLE:
		visible_sql(d, sql, binds, f, form, alias);
		return;
	default:
		condition_sql(d, sql, binds, f, form, alias);
		return;
	}
}
