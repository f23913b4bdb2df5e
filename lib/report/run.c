/* Running reports (include/crm/report.h): the row cursor over the compiled
 * statement, typed column access, the whole result as JSON or CSV, and
 * EXPLAIN (the SQL, its bound values and SQLite's query plan). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "report_int.h"
#include "store/row.h"
#include "store/value.h"

enum run_state { ST_READY, ST_ROW, ST_DONE, ST_FAILED };

struct crm_report {
	crm_db *db;
	crm__report *rep; /* retained: survives metadata changes while the cursor lives */
	crm__rargs args;
	sqlite3_stmt *st;
	int state, last_rc;
	crm__buf json;
	int json_ready;
	crm_row row; /* typed access to the current row */
};

/* ---- values ---- */

static void read_value(crm__value *v, const crm__rcolumn *c, sqlite3_stmt *st, int i)
{
	memset(v, 0, sizeof *v);
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return;
	switch (c->type == CRM_TYPE_NUMBER ? CRM__S_REAL : crm__storage_of(c->type)) {
	case CRM__S_INTEGER:
		v->kind = CRM__V_INT;
		v->i = sqlite3_column_int64(st, i);
		break;
	case CRM__S_REAL:
		v->kind = CRM__V_REAL;
		v->d = sqlite3_column_double(st, i);
		break;
	default:
		v->kind = CRM__V_TEXT;
		v->s = (const char *)sqlite3_column_text(st, i);
		v->n = (size_t)sqlite3_column_bytes(st, i);
		if (!v->s) {
			v->s = "";
			v->n = 0;
		}
	}
}

void crm__report_value_json(crm__buf *out, const crm__rcolumn *c, sqlite3_stmt *st, int i)
{
	crm__value v;

	read_value(&v, c, st, i);
	crm__value_write_json(out, c->type, c->scale, &v);
}

/* ---- the cursor ---- */

static int start(crm_db *db, const char *name, const char *params_json, crm_report **out)
{
	crm_report *r;
	crm__report *rep;
	int rc;

	*out = NULL;
	if ((rc = crm__enter(db)) || (rc = crm__report_lookup(db, name, &rep)))
		return rc;
	if (!(r = crm__calloc(1, sizeof *r)))
		return crm__error_oom(db);
	r->db = db;
	r->rep = rep;
	crm__report_retain(rep);
	if ((rc = crm__rargs_init(db, rep, params_json, &r->args)) ||
	    (rc = crm__row_init(&r->row, db, NULL, &r->state, ST_ROW, rep->ncols))) {
		crm_report_free(r);
		return rc;
	}
	for (int i = 0; i < rep->ncols; i++)
		crm__row_column(&r->row, i, rep->cols[i].name, rep->cols[i].type, rep->cols[i].scale);
	if (!(r->row.st = r->st = crm__stmt_take(db, rep->sql, (size_t)-1)))
		rc = db->errcode ? db->errcode : CRM_ERROR;
	else
		rc = crm__rargs_bind(db, rep, &r->args, &rep->binds, r->st);
	if (rc) {
		crm_report_free(r);
		return rc;
	}
	*out = r;
	return CRM_OK;
}

int crm_report_run(crm_report **out, crm_db *db, const char *name, const char *params_json)
{
	if (out)
		*out = NULL;
	if (!db)
		return CRM_EMISUSE;
	if (!out)
		return crm__error(db, CRM_EMISUSE, "no place for the report cursor");
	return start(db, name, params_json, out);
}

int crm_report_next(crm_report *r)
{
	int rc;

	if (!r)
		return CRM_EMISUSE;
	if (r->state == ST_DONE)
		return CRM_DONE;
	if (r->state == ST_FAILED)
		return r->last_rc;
	r->json_ready = 0;
	rc = sqlite3_step(r->st);
	if (rc == SQLITE_ROW) {
		r->state = ST_ROW;
		return CRM_ROW;
	}
	if (rc == SQLITE_DONE) {
		r->state = ST_DONE;
		return CRM_DONE;
	}
	r->state = ST_FAILED;
	r->last_rc = crm__error_sqlite(r->db, rc);
	return r->last_rc;
}

/* The typed accessors are the row's (include/crm/row.h), under the report's
 * names. row_of, not the exported crm_report_row (which may be interposed),
 * lets the compiler inline the hot ones down to sqlite3_column_*. */
static crm_row *row_of(crm_report *r) { return r ? &r->row : NULL; }
crm_row *crm_report_row(crm_report *r) { return row_of(r); }
int crm_report_column_count(crm_report *r) { return crm_row_column_count(row_of(r)); }
const char *crm_report_column_name(crm_report *r, int i) { return crm_row_column_name(row_of(r), i); }
int crm_report_column_type(crm_report *r, int i) { return crm_row_column_type(row_of(r), i); }
int crm_report_is_null(crm_report *r, int i) { return crm__row_is_null(row_of(r), i); }
int64_t crm_report_int64(crm_report *r, int i) { return crm__row_int64(row_of(r), i); }
double crm_report_double(crm_report *r, int i) { return crm__row_double(row_of(r), i); }
const char *crm_report_text(crm_report *r, int i) { return crm_row_text(row_of(r), i); }

const char *crm_report_column_label(crm_report *r, int i)
{
	return r && (unsigned)i < (unsigned)r->rep->ncols ? r->rep->cols[i].label : NULL;
}

const char *crm_report_json(crm_report *r)
{
	crm__buf *b;

	if (!r || r->state != ST_ROW)
		return NULL;
	if (r->json_ready)
		return r->json.p;
	b = &r->json;
	crm__buf_reset(b);
	crm__buf_putc(b, '{');
	for (int i = 0; i < r->rep->ncols; i++) {
		if (i)
			crm__buf_putc(b, ',');
		crm__json_cstr(b, r->rep->cols[i].name);
		crm__buf_putc(b, ':');
		crm__report_value_json(b, &r->rep->cols[i], r->st, i);
	}
	crm__buf_putc(b, '}');
	crm__buf_cstr(b);
	if (b->oom) {
		crm__error_oom(r->db);
		return NULL;
	}
	r->json_ready = 1;
	return b->p;
}

void crm_report_free(crm_report *r)
{
	if (!r)
		return;
	/* Give the statement back (reset) before freeing the values bound to it. */
	crm__stmt_give(r->db, r->st);
	crm__rargs_free(&r->args);
	crm__report_release(r->rep);
	crm__buf_free(&r->json);
	crm__row_free(&r->row);
	crm__free(r);
}

/* ---- the whole result ---- */

static void csv_field(crm__buf *b, const char *s)
{
	if (!s)
		return;
	/* quoted when it holds a separator, a quote or a line break, or is empty (to tell it from null) */
	if (*s && !strpbrk(s, ",\"\r\n")) {
		crm__buf_puts(b, s);
		return;
	}
	crm__buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			crm__buf_putc(b, '"');
		crm__buf_putc(b, *s);
	}
	crm__buf_putc(b, '"');
}

int crm_report_output(crm_db *db, const char *name, const char *params_json, const char *format, char **out)
{
	crm__buf b = CRM__BUF_INIT;
	crm_report *r;
	int csv, rc, nrows = 0;

	if (out)
		*out = NULL;
	if (!db)
		return CRM_EMISUSE;
	if (!out)
		return crm__error(db, CRM_EMISUSE, "no place for the output");
	if (!format || (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)) {
		crm__enter(db);
		return crm__error(db, CRM_EINVAL, "report output format is \"json\" or \"csv\"");
	}
	csv = format[0] == 'c';
	if ((rc = start(db, name, params_json, &r)))
		return rc;
	if (csv) {
		for (int i = 0; i < r->rep->ncols; i++) {
			if (i)
				crm__buf_putc(&b, ',');
			csv_field(&b, r->rep->cols[i].name);
		}
		crm__buf_putc(&b, '\n');
	} else {
		crm__buf_puts(&b, "{\"columns\":[");
		for (int i = 0; i < r->rep->ncols; i++) {
			const crm__rcolumn *c = &r->rep->cols[i];
			crm__buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
			crm__json_cstr(&b, c->name);
			crm__buf_puts(&b, ",\"label\":");
			crm__json_cstr(&b, c->label);
			crm__buf_puts(&b, ",\"type\":");
			crm__json_cstr(&b, crm__type_name(c->type));
			if (c->type == CRM_TYPE_DECIMAL)
				crm__buf_printf(&b, ",\"scale\":%d", c->scale);
			crm__buf_putc(&b, '}');
		}
		crm__buf_puts(&b, "],\"rows\":[");
	}
	while ((rc = crm_report_next(r)) == CRM_ROW) {
		if (csv) {
			for (int i = 0; i < r->rep->ncols; i++) {
				if (i)
					crm__buf_putc(&b, ',');
				csv_field(&b, crm_report_text(r, i));
			}
			crm__buf_putc(&b, '\n');
		} else {
			const char *row = crm_report_json(r);
			if (!row) {
				rc = CRM_ENOMEM;
				break;
			}
			if (nrows++)
				crm__buf_putc(&b, ',');
			crm__buf_puts(&b, row);
		}
		if (b.oom)
			break;
	}
	crm_report_free(r);
	if (rc != CRM_DONE && !b.oom) {
		crm__buf_free(&b);
		return rc;
	}
	if (!csv)
		crm__buf_puts(&b, "]}");
	if (b.oom) {
		crm__buf_free(&b);
		return crm__error_oom(db);
	}
	crm__buf_cstr(&b);
	*out = crm__buf_detach(&b);
	return CRM_OK;
}

/* ---- EXPLAIN ---- */

int crm_report_explain(crm_db *db, const char *name, const char *params_json, char **out)
{
	crm__buf b = CRM__BUF_INIT, q = CRM__BUF_INIT;
	crm_report *r;
	sqlite3_stmt *st = NULL;
	int rc, n = 0;

	if (out)
		*out = NULL;
	if (!db)
		return CRM_EMISUSE;
	if (!out)
		return crm__error(db, CRM_EMISUSE, "no place for the output");
	/* Check the parameters and bind them exactly as a run would. */
	if ((rc = start(db, name, params_json, &r)))
		return rc;
	crm__buf_puts(&b, "{\"report\":");
	crm__json_cstr(&b, r->rep->name);
	crm__buf_printf(&b, ",\"version\":%lld,\"sql\":", (long long)r->rep->version);
	crm__json_cstr(&b, r->rep->sql);
	crm__buf_puts(&b, ",\"binds\":[");
	for (int i = 0; i < r->rep->binds.n; i++) {
		const crm__rbind *bd = &r->rep->binds.v[i];
		const crm__value *v = bd->v;
		if (bd->param) {
			const crm__filter *lit = NULL;
			if ((rc = crm__rargs_literal(db, r->rep, &r->args, bd->node, bd->form, &lit)))
				goto done;
			v = &lit->values[0];
		}
		crm__buf_printf(&b, "%s{\"index\":%d,\"value\":", i ? "," : "", i + 1);
		switch (v->kind) {
		case CRM__V_INT: crm__buf_i64(&b, v->i); break;
		case CRM__V_REAL: crm__json_double(&b, v->d); break;
		case CRM__V_TEXT: crm__json_str(&b, v->s, v->n); break;
		default: crm__buf_puts(&b, "null");
		}
		if (bd->param) {
			crm__buf_puts(&b, ",\"param\":");
			crm__json_cstr(&b, bd->param);
		}
		crm__buf_putc(&b, '}');
	}
	crm__buf_puts(&b, "],\"plan\":[");
	crm__buf_puts(&q, "EXPLAIN QUERY PLAN ");
	crm__buf_puts(&q, r->rep->sql);
	if (q.oom) {
		rc = crm__error_oom(db);
		goto done;
	}
	if ((rc = sqlite3_prepare_v2(db->sql, q.p, (int)q.len, &st, NULL)) != SQLITE_OK) {
		rc = crm__error_sqlite(db, rc);
		goto done;
	}
	if ((rc = crm__rargs_bind(db, r->rep, &r->args, &r->rep->binds, st)))
		goto done;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		crm__buf_printf(&b, "%s{\"id\":%d,\"parent\":%d,\"detail\":", n++ ? "," : "", sqlite3_column_int(st, 0),
				sqlite3_column_int(st, 1));
		crm__json_cstr(&b, (const char *)sqlite3_column_text(st, 3));
		crm__buf_putc(&b, '}');
	}
	rc = rc == SQLITE_DONE ? CRM_OK : crm__error_sqlite(db, rc);
	crm__buf_puts(&b, "]}");
done:
	sqlite3_finalize(st);
	crm_report_free(r);
	crm__buf_free(&q);
	if (rc == CRM_OK && b.oom)
		rc = crm__error_oom(db);
	if (rc == CRM_OK) {
		crm__buf_cstr(&b);
		*out = crm__buf_detach(&b);
	}
	crm__buf_free(&b);
	return rc;
}
