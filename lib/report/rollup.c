/* Rollup fields (rollup.h): each rollup checked against its child form and
 * compiled into two UPDATE statements (one parent, every parent), cached per
 * handle, and run by the write-path and after-apply hooks. All rollup SQL. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "rollup.h"
#include "store/ddl.h"
#include "store/filter.h"

/* The child table's alias in the aggregate: "crm_" names no form. */
#define CHILD_ALIAS "crm_c"
#define RETYPE_COLUMN "crm_rollup_retyping"

typedef struct rollup {
	crm__form *parent, *child; /* retained */
	int column;                /* the rollup field's position in parent */
	int ref;                   /* the child's ref field pointing at parent */
	int src;                   /* the aggregated child field; -1 for count */
	crm__filter *filter;       /* condition on the child, or NULL */
	int filter_sys;            /* the filter reads a system column: not evaluated in memory */
	char *sql_one;             /* refresh one parent: ?1 its id, then the filter's literals */
	char *sql_all;             /* refresh every parent: the filter's literals from ?1 */
	char *sql_stale;           /* the parents whose value is stale: the filter's literals from ?1 */
	crm__binds binds;          /* the filter's literals, in placeholder order */
} rollup;

typedef struct rollup_cache {
	rollup *r;
	int n, cap;
	int built;
	/* Forms changed by the crm_apply under way; kept across the flushes
	 * that apply causes, cleared when it ends. */
	char **changed;
	int nchanged, capchanged;
} rollup_cache;

static void rollup_clear(rollup *r)
{
	crm__form_release(r->parent);
	crm__form_release(r->child);
	crm__filter_free(r->filter);
	crm__free(r->sql_one);
	crm__free(r->sql_all);
	crm__free(r->sql_stale);
	crm__binds_free(&r->binds);
	memset(r, 0, sizeof *r);
}

static void cache_flush(void *p)
{
	rollup_cache *c = p;

	for (int i = 0; i < c->n; i++)
		rollup_clear(&c->r[i]);
	c->n = 0;
	c->built = 0;
}

static void changed_clear(rollup_cache *c)
{
	for (int i = 0; i < c->nchanged; i++)
		crm__free(c->changed[i]);
	c->nchanged = 0;
}

static void cache_free(void *p)
{
	rollup_cache *c = p;

	cache_flush(c);
	changed_clear(c);
	crm__free(c->changed);
	crm__free(c->r);
	crm__free(c);
}

static rollup_cache *cache_of(crm_db *db)
{
	if (!db->ext[CRM__EXT_ROLLUP]) {
		db->ext[CRM__EXT_ROLLUP] = crm__calloc(1, sizeof(rollup_cache));
		db->ext_free[CRM__EXT_ROLLUP] = cache_free;
		db->ext_flush[CRM__EXT_ROLLUP] = cache_flush;
	}
	return db->ext[CRM__EXT_ROLLUP];
}

/* ---- checking and compiling one rollup ---- */

/* Fail with CRM_EINVAL naming the member of the rollup field at fault. */
static int fail_at(crm_db *db, const crm__form *parent, int field, const char *member, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fail_at(crm_db *db, const crm__form *parent, int field, const char *member, const char *fmt, ...)
{
	char msg[400], path[64];
	crm__buf detail = CRM__BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(path, sizeof path, "fields[%d].%s", field, member);
	crm__buf_puts(&detail, "\"path\":");
	crm__json_cstr(&detail, path);
	crm__buf_puts(&detail, ",\"form\":");
	crm__json_cstr(&detail, parent->name);
	rc = detail.oom ? crm__error_oom(db)
			: crm__error_detail(db, CRM_EINVAL, crm__buf_cstr(&detail), "form %s: %s: rollup %s %s", parent->name,
					    path, parent->fields[field].name, msg);
	crm__buf_free(&detail);
	return rc;
}

/* Which columns a filter reads: any system column (*sys), and the first
 * rollup field of the child (*rollup_col, left as is when none). */
static void filter_reads(const crm__filter *f, const crm__form *child, int *sys, int *rollup_col)
{
	if (f->op == CRM__FOP_AND || f->op == CRM__FOP_OR || f->op == CRM__FOP_NOT) {
		for (int i = 0; i < f->nkids; i++)
			filter_reads(f->kids[i], child, sys, rollup_col);
		return;
	}
	if (f->column < 0)
		*sys = 1;
	else if (child->fields[f->column].type == CRM_TYPE_ROLLUP && *rollup_col < 0)
		*rollup_col = f->column;
}

static int is_numeric(crm_type t) { return t == CRM_TYPE_INTEGER || t == CRM_TYPE_DECIMAL || t == CRM_TYPE_NUMBER; }

static int is_ordered(crm_type t)
{
	return is_numeric(t) || t == CRM_TYPE_DATE || t == CRM_TYPE_DATETIME;
}

/* The aggregate over the child rows, in the type the rollup field stores:
 * sums of no rows are 0 (SQL's SUM gives NULL; a REAL column stores it as
 * 0.0), sums of integers are the dialect's exact ones, decimals stay scaled
 * integers (exact) except in averages, which are plain numbers. */
static void agg_sql(crm__buf *sql, const crm__dialect *d, const rollup *r, int agg)
{
	const crm__field *src = r->src >= 0 ? &r->child->fields[r->src] : NULL;
	static const char *const open[] = {
		[CRM__ROLLUP_COUNT] = "count(*)", [CRM__ROLLUP_COUNT_DISTINCT] = "count(DISTINCT ",
		[CRM__ROLLUP_SUM] = "coalesce(", [CRM__ROLLUP_AVG] = "avg(", [CRM__ROLLUP_MIN] = "min(",
		[CRM__ROLLUP_MAX] = "max(",
	};

	if (!src) {
		crm__buf_puts(sql, open[CRM__ROLLUP_COUNT]);
		return;
	}
	crm__buf_puts(sql, open[agg]);
	if (agg == CRM__ROLLUP_SUM) {
		crm__buf_puts(sql, src->storage == CRM__S_REAL ? "sum" : d->sum_strict);
		crm__buf_putc(sql, '(');
	}
	if (agg == CRM__ROLLUP_AVG) {
		/* the average of scaled integers (as on every backend), scaled back below */
		crm__buf col = CRM__BUF_INIT;
		crm__column_sql(&col, r->child, r->src, CHILD_ALIAS);
		d->as_storage(sql, src->value_type, src->scale, crm__buf_cstr(&col));
		sql->oom |= col.oom;
		crm__buf_free(&col);
	} else /* a sum, minimum or maximum has the column's own type */
		crm__column_sql(sql, r->child, r->src, CHILD_ALIAS);
	crm__buf_putc(sql, ')');
	if (agg == CRM__ROLLUP_SUM)
		crm__buf_puts(sql, ", 0)");
	if (agg == CRM__ROLLUP_AVG && src->value_type == CRM_TYPE_DECIMAL && src->scale > 0) {
		crm__buf_puts(sql, "/1"); /* the scale is a checked small integer, not user text */
		for (int i = 0; i < src->scale; i++)
			crm__buf_putc(sql, '0');
		crm__buf_puts(sql, ".0");
	}
}

/* What a rollup's SQL does: refresh one parent (?1 its id, then the
 * filter's literals), refresh every parent, or list the parents whose
 * stored value differs from the aggregate (both: the literals from ?1). */
enum rollup_sql_kind { ROLLUP_REFRESH_ONE, ROLLUP_REFRESH_ALL, ROLLUP_STALE };

/* UPDATE parent SET col = (SELECT agg FROM child WHERE child.ref = parent AND filter) [WHERE id = ?1],
 * or SELECT id FROM parent WHERE col IS NOT (the same aggregate). */
static char *rollup_sql(const crm__dialect *d, const rollup *r, const crm__buf *filter, enum rollup_sql_kind kind)
{
	const crm__form *p = r->parent;
	crm__buf sql = CRM__BUF_INIT;

	if (kind == ROLLUP_STALE) {
		crm__buf_puts(&sql, "SELECT id FROM ");
		crm__sql_ident(&sql, p->name);
		crm__buf_puts(&sql, " WHERE ");
		crm__sql_ident(&sql, p->fields[r->column].name);
		crm__buf_putc(&sql, ' ');
		crm__buf_puts(&sql, d->distinct);
		crm__buf_puts(&sql, " (SELECT ");
	} else {
		crm__buf_puts(&sql, "UPDATE ");
		crm__sql_ident(&sql, p->name);
		crm__buf_puts(&sql, " SET ");
		crm__sql_ident(&sql, p->fields[r->column].name);
		crm__buf_puts(&sql, "=(SELECT ");
	}
	agg_sql(&sql, d, r, p->fields[r->column].rollup->agg);
	crm__buf_puts(&sql, " FROM ");
	crm__sql_ident(&sql, r->child->name);
	crm__buf_puts(&sql, " AS " CHILD_ALIAS " WHERE ");
	crm__column_sql(&sql, r->child, r->ref, CHILD_ALIAS);
	if (kind == ROLLUP_REFRESH_ONE)
		crm__buf_puts(&sql, "=?1");
	else {
		crm__buf_putc(&sql, '=');
		crm__column_sql(&sql, p, CRM__COL_ID, p->name);
	}
	if (filter->len) {
		/* After ?1, SQLite numbers the filter's "?" from 2. */
		crm__buf_puts(&sql, " AND ");
		crm__buf_put(&sql, filter->p, filter->len);
	}
	crm__buf_putc(&sql, ')');
	if (kind == ROLLUP_REFRESH_ONE)
		crm__buf_puts(&sql, " WHERE id=?1");
	else if (kind == ROLLUP_STALE)
		crm__buf_puts(&sql, " ORDER BY id");
	return sql.oom ? (crm__buf_free(&sql), NULL) : crm__buf_detach(&sql);
}

/* Check rollup field `i` of `parent` against its child form and compile it into *r. */
static int compile_one(crm_db *db, crm__form *parent, int i, rollup *r)
{
	const crm__field *f = &parent->fields[i];
	const crm__rollup_def *d = f->rollup;
	const crm__field *ref, *src = NULL;
	crm__buf filter = CRM__BUF_INIT;
	crm__form *child;
	int rc, bad = -1;

	memset(r, 0, sizeof *r);
	r->column = i;
	r->src = -1;
	rc = crm__form_lookup(db, d->form, &child);
	if (rc == CRM_ENOTFOUND)
		return fail_at(db, parent, i, "form", "aggregates form '%s', which is not defined", d->form);
	if (rc)
		return rc;
	ref = crm__form_field(child, d->ref, strlen(d->ref));
	if (!ref)
		return fail_at(db, parent, i, "ref", "names '%s', which is not a field of form '%s'", d->ref, child->name);
	if (ref->type != CRM_TYPE_REF || strcmp(ref->ref_form, parent->name) != 0)
		return fail_at(db, parent, i, "ref", "names '%s' of form '%s', which is not a ref to form '%s'", d->ref,
			       child->name, parent->name);
	r->ref = ref->position;
	if (d->field) {
		static const char *const what[] = {
			[CRM__ROLLUP_COUNT_DISTINCT] = "", [CRM__ROLLUP_SUM] = "an integer, decimal or number",
			[CRM__ROLLUP_AVG] = "an integer, decimal or number",
			[CRM__ROLLUP_MIN] = "an integer, decimal, number, date or datetime",
			[CRM__ROLLUP_MAX] = "an integer, decimal, number, date or datetime",
		};
		int ok;

		if (!(src = crm__form_field(child, d->field, strlen(d->field))))
			return fail_at(db, parent, i, "field", "names '%s', which is not a field of form '%s'", d->field,
				       child->name);
		if (src->type == CRM_TYPE_ROLLUP)
			return fail_at(db, parent, i, "field",
				       "aggregates '%s' of form '%s', itself a rollup (rollups of rollups are not kept current)",
				       d->field, child->name);
		switch (d->agg) {
		case CRM__ROLLUP_SUM:
		case CRM__ROLLUP_AVG: ok = is_numeric(src->value_type); break;
		case CRM__ROLLUP_MIN:
		case CRM__ROLLUP_MAX: ok = is_ordered(src->value_type); break;
		default: ok = 1;
		}
		if (!ok)
			return fail_at(db, parent, i, "field", "cannot %s '%s' of form '%s' (%s): it needs %s field",
				       d->agg == CRM__ROLLUP_SUM	 ? "sum"
				       : d->agg == CRM__ROLLUP_AVG ? "average"
				       : d->agg == CRM__ROLLUP_MIN ? "take the minimum of"
								   : "take the maximum of",
				       d->field, child->name, crm__type_name(src->value_type), what[d->agg]);
		r->src = src->position;
	}
	if (d->filter) {
		cJSON *json = cJSON_Parse(d->filter);
		char path[48];

		if (!json)
			return crm__error_oom(db);
		snprintf(path, sizeof path, "fields[%d].filter", i);
		r->filter = crm__filter_parse(db, child, json, path, 0);
		cJSON_Delete(json);
		if (!r->filter) {
			char msg[700];
			snprintf(msg, sizeof msg, "form %s: rollup %s on form %s: %s", parent->name, f->name, child->name,
				 crm_errmsg(db));
			return crm__error_remessage(db, msg);
		}
		filter_reads(r->filter, child, &r->filter_sys, &bad);
		if (bad >= 0)
			return fail_at(db, parent, i, "filter",
				       "filters on '%s' of form '%s', a rollup (rollups of rollups are not kept current)",
				       child->fields[bad].name, child->name);
	}
	crm__form_retain(parent);
	crm__form_retain(child);
	r->parent = parent;
	r->child = child;
	if (r->filter)
		crm__filter_sql(db->be->dialect, &filter, &r->binds, r->filter, child, CHILD_ALIAS);
	if (filter.oom || r->binds.oom || !(r->sql_one = rollup_sql(db->be->dialect, r, &filter, ROLLUP_REFRESH_ONE)) ||
	    !(r->sql_all = rollup_sql(db->be->dialect, r, &filter, ROLLUP_REFRESH_ALL)) ||
	    !(r->sql_stale = rollup_sql(db->be->dialect, r, &filter, ROLLUP_STALE)))
		rc = crm__error_oom(db);
	crm__buf_free(&filter);
	return rc;
}

/* Compile every rollup of every form (the cache is empty). */
static int build(crm_db *db, rollup_cache *c)
{
	crm__stmt *names = crm__stmt_take(db, "SELECT DISTINCT name FROM crm_meta WHERE kind='form' ORDER BY name",
					     (size_t)-1);
	int rc = CRM_OK, src = CRM_DONE;

	if (!names)
		return db->errcode;
	while (rc == CRM_OK && (src = crm__step(names)) == CRM_ROW) {
		crm__form *form;

		if ((rc = crm__form_lookup(db, crm__column_text(names, 0), &form)))
			break;
		for (int i = 0; i < form->nfields && rc == CRM_OK; i++) {
			if (form->fields[i].type != CRM_TYPE_ROLLUP)
				continue;
			if (c->n == c->cap) {
				int cap = c->cap ? c->cap * 2 : 8;
				rollup *grown = crm__realloc(c->r, (size_t)cap * sizeof *grown);
				if (!grown) {
					rc = crm__error_oom(db);
					break;
				}
				c->r = grown;
				c->cap = cap;
			}
			rc = compile_one(db, form, i, &c->r[c->n]);
			c->n++; /* a partly compiled entry is released by the flush below */
		}
	}
	if (rc == CRM_OK && src != CRM_DONE)
		rc = src;
	crm__stmt_give(db, names);
	if (rc)
		cache_flush(c);
	else
		c->built = 1;
	return rc;
}

/* ---- refreshing ---- */

static int run_refresh(crm_db *db, const rollup *r, const char *sql, int64_t parent_id)
{
	crm__stmt *st;
	int src;

	/* The parent held first, so the UPDATE's aggregate is read after every
	 * other writer's refresh of it committed (its children with it); read
	 * in the UPDATE alone, a child another server added meanwhile would be
	 * missing from the sum. */
	if (parent_id &&
	    (src = crm__record_lock(db, r->parent->name, parent_id, db->be->dialect->lock_no_key_update, NULL)))
		return src;
	if (!(st = crm__stmt_take(db, sql, strlen(sql))))
		return db->errcode;
	if (parent_id)
		crm__bind_int64(st, 1, parent_id);
	src = crm__binds_apply(&r->binds, st, parent_id ? 2 : 1, NULL, NULL);
	if (src == CRM_OK)
		src = crm__step(st);
	crm__stmt_give(db, st);
	db->record_writes++; /* a record changed: who holds one reads it again */
	if (src == CRM_ELIMIT) { /* the dialect's sum_strict: the total does not fit */
		const crm__field *f = &r->parent->fields[r->column];
		char range[40];
		crm__decimal_format(INT64_MAX, f->value_type == CRM_TYPE_DECIMAL ? f->scale : 0, range);
		return crm__error(db, CRM_ELIMIT, "rollup %s.%s overflows: its sum is beyond +-%s", r->parent->name, f->name,
				  range);
	}
	return src == CRM_DONE ? CRM_OK : src;
}

/* Does the child record `values` count towards its parent? 1 when the
 * filter cannot be evaluated in memory (the caller then refreshes). */
static int counts(const rollup *r, int evaluable, const crm__value *values, int64_t id)
{
	crm__row row = { .fields = values };

	if (!r->filter || !evaluable)
		return 1;
	row.sys[0].kind = CRM__V_INT;
	row.sys[0].i = id;
	return crm__filter_eval(r->filter, r->child, &row);
}

/* One child write: refresh the parent it left and the one it joined, when
 * its membership or its aggregated value changed. */
static int touch(crm_db *db, const rollup *r, const crm__write *w, const crm__value *old, const crm__value *now)
{
	int ref = r->ref, src = r->src, evaluable = !r->filter_sys, rc;
	int has_old, has_now, in_old, in_now;

	/* A form compiled before a metadata change (a long batch): find the
	 * fields by name and refresh without evaluating the filter. */
	if (w->form != r->child) {
		const crm__field *f = crm__form_field(w->form, r->child->fields[ref].name,
						      strlen(r->child->fields[ref].name));
		if (!f || f->type != CRM_TYPE_REF)
			return CRM_OK;
		ref = f->position;
		src = -2; /* unknown: treat as changed */
		evaluable = 0;
	}
	has_old = old && old[ref].kind == CRM__V_INT;
	has_now = now && now[ref].kind == CRM__V_INT;
	in_old = has_old && counts(r, evaluable, old, w->id);
	in_now = has_now && counts(r, evaluable, now, w->id);
	if (has_old && has_now && old[ref].i == now[ref].i) {
		if (!in_old && !in_now)
			return CRM_OK;
		/* Still counted, same value: nothing to do (when that is known). */
		if (in_old && in_now && evaluable && (src == -1 || (src >= 0 && crm__value_same(&old[src], &now[src]))))
			return CRM_OK;
		return run_refresh(db, r, r->sql_one, now[ref].i);
	}
	if (in_old && (rc = run_refresh(db, r, r->sql_one, old[ref].i)))
		return rc;
	return in_now ? run_refresh(db, r, r->sql_one, now[ref].i) : CRM_OK;
}

/* The handle's compiled rollups, built on first use; NULL on error. */
static rollup_cache *built_cache(crm_db *db)
{
	rollup_cache *c = db->ext[CRM__EXT_ROLLUP];

	if (!c && !(c = cache_of(db))) {
		crm__error_oom(db);
		return NULL;
	}
	return c->built || build(db, c) == CRM_OK ? c : NULL;
}

int crm__rollup_after_write(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now)
{
	rollup_cache *c = db->ext[CRM__EXT_ROLLUP];
	int rc;

	if (c && c->built && c->n == 0)
		return CRM_OK; /* the common case: no rollups at all */
	if (!(c = built_cache(db)))
		return db->errcode;
	for (int k = 0; k < c->n; k++) {
		const rollup *r = &c->r[k];
		if (r->child != w->form && strcmp(r->child->name, w->form->name) != 0)
			continue;
		if ((rc = touch(db, r, w, old, now)))
			return rc;
	}
	return CRM_OK;
}

int crm__rollup_watches(crm_db *db, const crm__form *form)
{
	rollup_cache *c = built_cache(db);

	if (!c)
		return 1; /* after_write meets the failure again and reports it */
	for (int k = 0; k < c->n; k++)
		if (c->r[k].child == form || strcmp(c->r[k].child->name, form->name) == 0)
			return 1;
	return 0;
}

int crm__rollup_stale(crm_db *db, const crm__form *form, crm__rollup_stale_fn found, void *payload)
{
	rollup_cache *c = built_cache(db);
	int rc = CRM_OK;

	if (!c)
		return db->errcode;
	for (int k = 0; rc == CRM_OK && k < c->n; k++) {
		const rollup *r = &c->r[k];
		crm__stmt *st;
		int src;

		if (strcmp(r->parent->name, form->name) != 0)
			continue;
		if (!(st = crm__stmt_take(db, r->sql_stale, strlen(r->sql_stale))))
			return db->errcode;
		src = crm__binds_apply(&r->binds, st, 1, NULL, NULL);
		while (src == CRM_OK && (src = crm__step(st)) == CRM_ROW && rc == CRM_OK)
			rc = found(payload, crm__column_int64(st, 0), r->parent->fields[r->column].name);
		crm__stmt_give(db, st);
		if (rc == CRM_OK && src != CRM_DONE && src != CRM_ROW)
			rc = src;
	}
	return rc;
}

/* ---- after crm_apply ---- */

int crm__rollup_form_changed(crm_db *db, const char *form)
{
	rollup_cache *c = cache_of(db);

	if (!c)
		return crm__error_oom(db);
	if (!form)
		return CRM_OK;
	for (int i = 0; i < c->nchanged; i++)
		if (strcmp(c->changed[i], form) == 0)
			return CRM_OK;
	if (c->nchanged == c->capchanged) {
		int cap = c->capchanged ? c->capchanged * 2 : 8;
		char **grown = crm__realloc(c->changed, (size_t)cap * sizeof *grown);
		if (!grown)
			return crm__error_oom(db);
		c->changed = grown;
		c->capchanged = cap;
	}
	if (!(c->changed[c->nchanged] = crm__strdup(form)))
		return crm__error_oom(db);
	c->nchanged++;
	return CRM_OK;
}

static int was_changed(const rollup_cache *c, const char *form)
{
	for (int i = 0; i < c->nchanged; i++)
		if (strcmp(c->changed[i], form) == 0)
			return 1;
	return 0;
}

static int exec_buf(crm_db *db, crm__buf *sql)
{
	int rc = sql->oom ? crm__error_oom(db) : crm__exec(db, crm__buf_cstr(sql));

	crm__buf_reset(sql);
	return rc;
}

/* The column was made before the rollup's type was known (its child form
 * came later in the same crm_apply) or the child field changed type since:
 * give it the column type of the rollup's value. Its values are about to
 * be recomputed, so nothing is copied. */
static int retype_column(crm_db *db, const rollup *r)
{
	const crm__form *p = r->parent;
	const crm__field *f = &p->fields[r->column];
	crm__buf sql = CRM__BUF_INIT, type = CRM__BUF_INIT;
	int rc, same;

	if ((rc = db->be->column_decl_type(db, p->name, f->name, &type)))
		return rc;
	if (type.oom)
		return crm__error_oom(db);
	same = type.len == 0 || strcasecmp(crm__buf_cstr(&type), crm__field_sql_type(db, f)) == 0;
	crm__buf_free(&type);
	if (same)
		return CRM_OK;
	/* No database drops a column an index uses, and PostgreSQL none a view
	 * uses: the form's indexes and view come back below. */
	rc = crm__ddl_view(db, p, CRM__VIEW_DROP);
	for (int k = 0; k < p->nindexes && rc == CRM_OK; k++)
		for (int j = 0; j < p->indexes[k].nfields; j++)
			if (p->indexes[k].fields[j] == r->column) {
				crm__buf_puts(&sql, "DROP INDEX IF EXISTS ");
				crm__sql_ident(&sql, p->indexes[k].name);
				rc = exec_buf(db, &sql);
				break;
			}
	if (rc == CRM_OK) {
		crm__buf_puts(&sql, "ALTER TABLE ");
		crm__sql_ident(&sql, p->name);
		crm__buf_printf(&sql, " ADD COLUMN " RETYPE_COLUMN " %s", crm__field_sql_type(db, f));
		rc = exec_buf(db, &sql);
	}
	if (rc == CRM_OK) {
		crm__buf_puts(&sql, "ALTER TABLE ");
		crm__sql_ident(&sql, p->name);
		crm__buf_puts(&sql, " DROP COLUMN ");
		crm__sql_ident(&sql, f->name);
		rc = exec_buf(db, &sql);
	}
	if (rc == CRM_OK) {
		crm__buf_puts(&sql, "ALTER TABLE ");
		crm__sql_ident(&sql, p->name);
		crm__buf_puts(&sql, " RENAME COLUMN " RETYPE_COLUMN " TO ");
		crm__sql_ident(&sql, f->name);
		rc = exec_buf(db, &sql);
	}
	crm__buf_free(&sql);
	if (rc == CRM_OK)
		rc = crm__ddl_sync_indexes(db, p, CRM__IX_CREATE);
	return rc ? rc : crm__ddl_view(db, p, CRM__VIEW_CREATE);
}

int crm__rollup_after_apply(crm_db *db, int rc)
{
	rollup_cache *c = db->ext[CRM__EXT_ROLLUP];

	if (!c || c->nchanged == 0)
		return rc;
	if (rc == CRM_OK) {
		/* Every rollup is checked, not only the changed forms': a child's
		 * change can break a rollup defined elsewhere. */
		cache_flush(c);
		rc = build(db, c);
		for (int k = 0; rc == CRM_OK && k < c->n; k++) {
			const rollup *r = &c->r[k];
			if (!was_changed(c, r->parent->name) && !was_changed(c, r->child->name))
				continue;
			if ((rc = retype_column(db, r)) == CRM_OK)
				rc = run_refresh(db, r, r->sql_all, 0);
		}
	}
	changed_clear(c);
	return rc;
}
