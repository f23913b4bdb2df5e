/* Running reports (include/crm/report.h): the row cursor over the compiled
 * statement, typed column access, the whole result as JSON or CSV, and
 * EXPLAIN (the SQL, its bound values and SQLite's query plan). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "form/form_int.h"
#include "report_int.h"
#include "store/row.h"
#include "store/value.h"

enum run_state { ST_READY, ST_ROW, ST_DONE, ST_FAILED };

struct crm_report {
	crm__child child; /* first: the close hook casts back */
	crm_db *db;
	crm__report *rep; /* retained: survives metadata changes while the cursor lives */
	crm__rargs args;
	crm__stmt *st;
	int state, last_rc;
	crm__buf json;
	int json_ready;
	unsigned int epoch; /* db->meta_epoch when the definitions were last known current */
	crm_row row; /* typed access to the current row */
};

/* ---- values ---- */

static void read_value(crm__value *v, const crm__rcolumn *c, crm__stmt *st, int i)
{
	memset(v, 0, sizeof *v);
	if (crm__column_type(st, i) == CRM__SQL_NULL)
		return;
	switch (c->type == CRM_TYPE_NUMBER ? CRM__S_REAL : crm__storage_of(c->type)) {
	case CRM__S_INTEGER:
		v->kind = CRM__V_INT;
		v->i = crm__column_int64(st, i);
		break;
	case CRM__S_REAL:
		v->kind = CRM__V_REAL;
		v->d = crm__column_double(st, i);
		break;
	default:
		v->kind = CRM__V_TEXT;
		v->s = crm__column_text(st, i);
		v->n = (size_t)crm__column_bytes(st, i);
		if (!v->s) {
			v->s = "";
			v->n = 0;
		}
	}
}

void crm__report_value_json(crm__buf *out, const crm__rcolumn *c, crm__stmt *st, int i)
{
	crm__value v;

	read_value(&v, c, st, i);
	crm__value_write_json(out, c->type, c->scale, &v);
}

/* ---- lifetime: crm_close and metadata changes ---- */

static void report_fail(crm_report *r, int rc)
{
	r->state = ST_FAILED;
	r->last_rc = rc;
	crm__reset(r->st); /* let go of the snapshot */
}

/* crm_close with the report cursor open: every later call is CRM_EMISUSE. */
static void report_close(crm__child *child)
{
	crm_report *r = (crm_report *)child;

	crm__finalize(r->st);
	r->st = NULL;
	r->state = ST_FAILED;
	r->last_rc = CRM_EMISUSE;
}

/* CRM_OK when every form the report reads is still the definition it was
 * compiled against; else CRM_ECONFLICT. A new version of the report itself
 * changes no table: the cursor reads on with the one it started with. */
static int forms_current(crm_db *db, const crm__report *rep)
{
	int rc = crm__form_check_current(db, rep->source);

	for (int j = 0; rc == CRM_OK && j < rep->njoins; j++)
		rc = crm__form_check_current(db, rep->joins[j].form);
	return rc;
}

/* 1 when the cursor may read on (see form_current in lib/form/query.c);
 * otherwise it fails for good with CRM_ECONFLICT. */
static int report_current(void *owner)
{
	crm_report *r = owner;
	int rc;

	if (r->epoch == r->db->meta_epoch)
		return 1;
	if ((rc = forms_current(r->db, r->rep))) {
		report_fail(r, rc);
		return 0;
	}
	r->epoch = r->db->meta_epoch;
	return 1;
}

/* The report's typed row (include/crm/row.h) answers every value accessor;
 * row_of, not the exported crm_report_row, so the hot ones inline. */
static crm_row *row_of(crm_report *r) { return r ? &r->row : NULL; }
#define ON_ROW(r, i) CRM__ROW_ON(row_of(r), i)

/* ---- the cursor ---- */

static int start(crm_db *db, const char *name, const char *params_json, crm_report **out)
{
	crm_report *r;
	crm__report *rep;
	int rc;

	*out = NULL;
	if ((rc = crm__enter(db)) || (rc = crm__report_for_actor(db, name, &rep)))
		return rc;
	if (!(r = crm__calloc(1, sizeof *r))) {
		crm__report_release(rep);
		return crm__error_oom(db);
	}
	r->db = db;
	crm__child_add(db, &r->child, report_close);
	r->epoch = db->meta_epoch;
	r->rep = rep;
	if ((rc = crm__rargs_init(db, rep, params_json, &r->args)) ||
	    (rc = crm__row_init(&r->row, db, rep->ncols))) {
		crm_report_free(r);
		return rc;
	}
	r->row.state = &r->state;
	r->row.on_row = ST_ROW;
	r->row.epoch = &r->epoch;
	r->row.current = report_current;
	r->row.owner = r;
	for (int i = 0; i < rep->ncols; i++)
		crm__row_column(&r->row, i, rep->cols[i].name, rep->cols[i].type, rep->cols[i].scale);
	if (!(r->row.st = r->st = crm__stmt_take(db, rep->sql, (size_t)-1)))
		rc = db->errcode ? db->errcode : CRM_ERROR;
	else {
		crm__many_rows(r->st, 1); /* a listing report has a row per record */
		rc = crm__rargs_bind(db, rep, &r->args, &rep->binds, r->st);
	}
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

/* A value past its column's range: an integer or decimal sum beyond 64
 * bits (crm_sum and SQLite's arithmetic give a real then), or a number
 * beyond a double (infinity). Refused, so no output path prints it. */
static int check_row(crm_report *r)
{
	/* measures and what derives from them follow the dimensions */
	for (int i = r->rep->ndims; i < r->rep->ncols; i++) {
		const crm__rcolumn *c = &r->rep->cols[i];
		crm__buf detail = CRM__BUF_INIT;
		int rc;

		if (crm__column_type(r->st, i) != CRM__SQL_FLOAT ||
		    (crm__storage_of(c->type) != CRM__S_INTEGER && isfinite(crm__column_double(r->st, i))))
			continue;
		char range[40] = "1.7976931348623157e308";

		if (crm__storage_of(c->type) == CRM__S_INTEGER)
			crm__decimal_format(INT64_MAX, c->type == CRM_TYPE_DECIMAL ? c->scale : 0, range);
		crm__buf_puts(&detail, "\"column\":");
		crm__json_cstr(&detail, c->name);
		if (detail.oom)
			return crm__error_oom(r->db);
		rc = crm__error_detail(r->db, CRM_ELIMIT, crm__buf_cstr(&detail),
				       "report '%s': measure '%s' overflows: its value is beyond +-%s", r->rep->name, c->name,
				       range);
		crm__buf_free(&detail);
		return rc;
	}
	return CRM_OK;
}

int crm_report_next(crm_report *r)
{
	int rc, first;

	if (!r)
		return CRM_EMISUSE;
	if (r->state == ST_DONE)
		return CRM_DONE;
	if (r->state == ST_FAILED || !report_current(r))
		return r->last_rc;
	first = r->state == ST_READY;
	r->json_ready = 0;
	rc = crm__step(r->st);
	if (first) {
		/* The first step starts the snapshot the report reads, and another
		 * connection may have changed its definitions since it started. */
		int frc = crm__refresh(r->db);
		if (frc)
			report_fail(r, frc);
		if (frc || !report_current(r))
			return r->last_rc;
	}
	if (rc == CRM_ROW) {
		if ((r->last_rc = check_row(r)) != CRM_OK) {
			r->state = ST_FAILED;
			return r->last_rc;
		}
		r->state = ST_ROW;
		return CRM_ROW;
	}
	if (rc == CRM_DONE) {
		r->state = ST_DONE;
		return CRM_DONE;
	}
	report_fail(r, rc);
	return r->last_rc;
}

/* The typed accessors are the row's, under the report's names. */
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

	if (!ON_ROW(r, 0))
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
	crm__child_remove(r->db, &r->child); /* may free a closed handle */
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

static int bind_args(crm__stmt *st, void *payload)
{
	crm_report *r = payload;

	return crm__rargs_bind(st->db, r->rep, &r->args, &r->rep->binds, st);
}

int crm_report_explain(crm_db *db, const char *name, const char *params_json, char **out)
{
	crm__buf b = CRM__BUF_INIT;
	crm_report *r;
	int rc;

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
	if ((rc = db->be->explain(db, r->rep->sql, bind_args, r, &b)))
		goto done;
	crm__buf_puts(&b, "]}");
done:
	crm_report_free(r);
	if (rc == CRM_OK && b.oom)
		rc = crm__error_oom(db);
	if (rc == CRM_OK) {
		crm__buf_cstr(&b);
		*out = crm__buf_detach(&b);
	}
	crm__buf_free(&b);
	return rc;
}
