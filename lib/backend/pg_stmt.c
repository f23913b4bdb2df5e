/* PostgreSQL prepared statements behind the seam: named server-side
 * statements (PQprepare), parameters kept as text, results in text form.
 * The first step executes and fetches every row, later steps walk them;
 * a statement marked many_rows reads its rows one at a time instead, and
 * queued statements go out in pipeline mode (pg_flight.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "pg_int.h"


static PGconn *conn_of(crm__stmt *st) { return st->db->conn ? PG(st->db)->c : NULL; }

/* ---- prepare, finalize ---- */

static void forget_arrays(pg_stmt *st)
{
	for (int i = 0; i < st->narrays; i++) {
		crm__free(st->arrays[i]);
		st->arrays[i] = NULL;
	}
}

static void free_stmt(pg_stmt *st)
{
	forget_arrays(st);
	crm__free(st->arrays);
	crm__buf_free(&st->copies);
	crm__free(st->params);
	crm__free(st->values);
	crm__free(st->types);
	crm__free(st->declared);
	PQclear(st->desc);
	PQclear(st->res);
	PQclear(st->rest);
	crm__free(st->text);
	crm__free(st->sql);
	crm__free(st);
}

void crm__pg_flush_dead(crm_db *db, int force)
{
	pg_conn *pc = PG(db);
	PGTransactionStatusType ts;
	char sql[PG_DEAD_MAX * 28];
	size_t at = 0;

	if (!pc || !pc->ndead || pc->nqueued || pc->streaming)
		return;
	ts = PQtransactionStatus(pc->c);
	if (ts != PQTRANS_IDLE && !(force && ts == PQTRANS_INTRANS))
		return;
	for (int i = 0; i < pc->ndead; i++)
		at += (size_t)snprintf(sql + at, sizeof sql - at, "DEALLOCATE %s;", pc->dead[i]);
	pc->ndead = 0;
	PQclear(PQexec(pc->c, sql));
	pc->round_trips++, pc->sent++, pc->parsed++;
}

/* Forget a server-side statement: later, in one round trip with others (a
 * DEALLOCATE inside an aborted transaction would be refused). When the list
 * is full inside an aborted transaction the oldest is left to the end of
 * the session, which frees it. */
static void bury(crm_db *db, const char *name)
{
	pg_conn *pc = PG(db);

	if (pc->ndead == PG_DEAD_MAX)
		crm__pg_flush_dead(db, 1);
	if (pc->ndead == PG_DEAD_MAX) {
		memmove(pc->dead, pc->dead + 1, sizeof pc->dead - sizeof *pc->dead);
		pc->ndead--;
	}
	crm__str_copy(pc->dead[pc->ndead++], sizeof *pc->dead, name);
}

/* The parameters' types and the result's columns, as the server sees them. */
static int describe(crm_db *db, pg_stmt *st)
{
	PGresult *d = PQdescribePrepared(PG(db)->c, st->name);
	int n;

	if (PQresultStatus(d) != PGRES_COMMAND_OK) {
		int rc = crm__pg_fail(db, d);
		PQclear(d);
		return rc;
	}
	PQclear(st->desc);
	st->desc = d;
	if ((n = PQnparams(d)) != st->nparams)
		return crm__error(db, CRM_ERROR, "postgresql: the statement has %d parameters, not %d", n, st->nparams);
	for (int i = 0; i < n; i++)
		st->types[i] = PQparamtype(d, i);
	return CRM_OK;
}

/* Prepare st->text under a new name (again when the schema changed). */
static int server_prepare(crm_db *db, pg_stmt *st)
{
	pg_conn *pc = PG(db);
	PGresult *res;
	int rc;

	if ((rc = crm__pg_sync(db)))
		return rc;
	snprintf(st->name, sizeof st->name, "crm_%u", ++pc->next_name);
	st->epoch = pc->ddl_epoch;
	res = PQprepare(pc->c, st->name, st->text, st->nparams, st->declared);
	pc->round_trips += 2; /* with describe's */
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = crm__pg_fail(db, res);
		PQclear(res);
		st->name[0] = 0;
		return rc;
	}
	PQclear(res);
	if ((rc = describe(db, st))) {
		bury(db, st->name);
		st->name[0] = 0;
	}
	return rc;
}

int crm__pg_reprepare(crm_db *db, pg_stmt *st)
{
	if (st->name[0])
		bury(db, st->name);
	return server_prepare(db, st);
}

/* The text for the server and the parameters' slots. A number the SQL
 * never uses (SQLite allows gaps: "WHERE id=?2") is declared text, since
 * the server cannot infer a type for it. */
static int parse(crm_db *db, pg_stmt *st, const char *sql, size_t len)
{
	crm__buf q = CRM__BUF_INIT, used = CRM__BUF_INIT;
	int n;

	crm__pg_placeholders(&q, sql, len, &n, &used);
	if (q.oom || used.oom || !(st->text = crm__buf_detach(&q))) {
		crm__buf_free(&q);
		crm__buf_free(&used);
		return crm__error_oom(db);
	}
	st->nparams = n;
	if (n > 0) {
		st->declared = crm__calloc((size_t)n, sizeof *st->declared);
		st->types = crm__calloc((size_t)n, sizeof *st->types);
		st->params = crm__calloc((size_t)n, sizeof *st->params);
		st->values = crm__calloc((size_t)n, sizeof *st->values);
		if (!st->declared || !st->types || !st->params || !st->values) {
			crm__buf_free(&used);
			st->nparams = st->params ? n : 0;
			return crm__error_oom(db);
		}
		for (int i = 0; i < n; i++)
			st->declared[i] = (size_t)i < used.len && used.p[i] ? 0 : PG_TEXT;
	}
	crm__buf_free(&used);
	return CRM_OK;
}

int crm__pg_prepare(crm_db *db, const char *sql, size_t len, crm__stmt **out)
{
	pg_stmt *st;
	int rc;

	*out = NULL;
	crm__pg_flush_dead(db, 0);
	if (!(st = crm__calloc(1, sizeof *st)) || !(st->sql = crm__strndup(sql, len))) {
		crm__free(st);
		return crm__error_oom(db);
	}
	st->base.be = db->be;
	st->base.db = db;
	st->row = -1;
	if ((rc = parse(db, st, sql, len)) || (rc = server_prepare(db, st))) {
		free_stmt(st);
		return rc;
	}
	*out = &st->base;
	return CRM_OK;
}

const char *crm__pg_sql(crm__stmt *st) { return P(st)->sql; }

void crm__pg_reset(crm__stmt *base)
{
	pg_stmt *st = P(base);

	forget_arrays(st);
	if (st->active && conn_of(base))
		crm__pg_discard(st);
	if (st->ahead && conn_of(base))
		crm__pg_unqueue(st);
	st->active = st->ahead = st->ahead_rc = 0;
	PQclear(st->res);
	PQclear(st->rest);
	st->res = st->rest = NULL;
	st->row = -1;
	st->failed = 0;
}

void crm__pg_clear_bindings(crm__stmt *st)
{
	for (int i = 0; i < P(st)->nparams; i++)
		P(st)->params[i].kind = PARAM_NULL;
}

/* A statement whose connection is gone (crm_close ran) only frees memory. */
void crm__pg_finalize(crm__stmt *st)
{
	crm__pg_reset(st);
	if (conn_of(st) && P(st)->name[0])
		bury(st->db, P(st)->name);
	free_stmt(P(st));
}

/* ---- binding: every value as text ---- */

static pg_param *param(crm__stmt *base, int i)
{
	pg_stmt *st = P(base);

	if (i < 1 || i > st->nparams) {
		crm__error(base->db, CRM_ERROR, "postgresql: parameter %d out of range (the statement has %d)", i,
			   st->nparams);
		return NULL;
	}
	return &st->params[i - 1];
}

static int set_own(crm__stmt *st, int i, const char *text)
{
	pg_param *p = param(st, i);
	size_t n;

	if (!p)
		return st->db->errcode;
	p->kind = PARAM_OWN;
	n = strlen(text); /* the texts below fit; bounded all the same */
	n = n < sizeof p->own ? n : sizeof p->own - 1;
	memcpy(p->own, text, n);
	p->own[n] = 0;
	return CRM_OK;
}

int crm__pg_bind_null(crm__stmt *st, int i)
{
	pg_param *p = param(st, i);

	if (!p)
		return st->db->errcode;
	p->kind = PARAM_NULL;
	return CRM_OK;
}

int crm__pg_bind_int64(crm__stmt *st, int i, int64_t v)
{
	pg_param *p = param(st, i);

	if (!p)
		return st->db->errcode;
	p->kind = PARAM_OWN;
	crm__i64_text(p->own, v);
	return CRM_OK;
}

int crm__pg_bind_double(crm__stmt *st, int i, double v)
{
	char t[32];

	if (isnan(v))
		return set_own(st, i, "NaN");
	if (isinf(v))
		return set_own(st, i, v > 0 ? "Infinity" : "-Infinity");
	snprintf(t, sizeof t, "%.17g", v);
	return set_own(st, i, t);
}

/* Text or bytes kept by reference until the statement runs. */
static int set_ref(crm__stmt *st, int i, int kind, const char *ref, int len)
{
	pg_param *p = param(st, i);

	if (!p)
		return st->db->errcode;
	p->kind = ref ? kind : PARAM_NULL;
	p->ref = ref;
	p->len = len;
	return CRM_OK;
}

int crm__pg_bind_text(crm__stmt *st, int i, const char *s, int len) { return set_ref(st, i, PARAM_REF, s, len); }

int crm__pg_bind_blob(crm__stmt *st, int i, const void *bytes, int len)
{
	return set_ref(st, i, PARAM_BYTES, bytes, len);
}

/* The natural text form when the server gave the parameter a type that
 * takes it (boolean, numeric, timestamptz, text, ...); the integer the
 * engines keep for integer and float parameters (a column still bigint). */
int crm__pg_bind_as(crm__stmt *st, int i, enum crm__natural kind, int scale, int64_t v)
{
	char t[64];
	Oid type = i >= 1 && i <= P(st)->nparams ? P(st)->types[i - 1] : 0;

	if (type == PG_INT8 || type == PG_INT4 || type == PG_INT2 || type == PG_FLOAT8 || type == PG_FLOAT4)
		return crm__pg_bind_int64(st, i, v);
	switch (kind) {
	case CRM__NAT_NONE: return crm__pg_bind_int64(st, i, v);
	case CRM__NAT_BOOL: return set_own(st, i, v ? "t" : "f");
	case CRM__NAT_DECIMAL: crm__pg_decimal_text(t, v, scale); break;
	case CRM__NAT_DATETIME: crm__pg_datetime_text(t, v); break;
	}
	return set_own(st, i, t);
}

/* A text[] parameter takes the engines' JSON array text, converted. */
static int is_array(const pg_stmt *st, int i) { return st->types[i] == PG_TEXTARRAY; }

/* The parameters as libpq takes them: NUL-terminated text. Text bound with
 * a length may have no NUL after it, and a multi-value's is converted, so
 * they are copied (into one buffer kept for the next run). */
int crm__pg_values(pg_stmt *st)
{
	size_t at;

	crm__buf_reset(&st->copies);
	for (int i = 0; i < st->nparams; i++) {
		pg_param *p = &st->params[i];
		if (p->kind == PARAM_REF && is_array(st, i)) {
			/* -1 (not an array of strings) copies the text for the server to judge */
			if (crm__pg_array_from_json(&st->copies, p->ref, p->len >= 0 ? (size_t)p->len : strlen(p->ref)) == -2)
				st->copies.oom = 1;
		} else if (p->kind == PARAM_REF && p->len >= 0) {
			crm__buf_put(&st->copies, p->ref, (size_t)p->len);
			crm__buf_putc(&st->copies, 0);
		} else if (p->kind == PARAM_BYTES) {
			/* bytea's text input: \x and two hex digits a byte */
			static const char digits[] = "0123456789abcdef";
			crm__buf_puts(&st->copies, "\\x");
			for (int k = 0; k < p->len; k++) {
				unsigned char b = (unsigned char)p->ref[k];
				crm__buf_putc(&st->copies, digits[b >> 4]);
				crm__buf_putc(&st->copies, digits[b & 15]);
			}
			crm__buf_putc(&st->copies, 0);
		}
	}
	if (st->copies.oom) {
		st->copies.oom = 0;
		return crm__error_oom(st->base.db);
	}
	at = 0;
	for (int i = 0; i < st->nparams; i++) {
		pg_param *p = &st->params[i];
		switch (p->kind) {
		case PARAM_NULL: st->values[i] = NULL; break;
		case PARAM_OWN: st->values[i] = p->own; break;
		case PARAM_REF:
			if (p->len < 0 && !is_array(st, i))
				st->values[i] = p->ref;
			else {
				st->values[i] = st->copies.p + at;
				at += (is_array(st, i) ? strlen(st->values[i]) : (size_t)p->len) + 1;
			}
			break;
		case PARAM_BYTES:
			st->values[i] = st->copies.p + at;
			at += 2 + 2 * (size_t)p->len + 1;
			break;
		}
	}
	return CRM_OK;
}

int crm__pg_parameter_count(crm__stmt *st) { return P(st)->nparams; }

int crm__pg_stale_plan(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state && strcmp(state, "0A000") == 0 &&
	       strstr(PQresultErrorMessage(res), "cached plan must not change result type");
}

/* ---- running ---- */

static int execute(pg_stmt *st)
{
	crm_db *db = st->base.db;
	PGconn *c = PG(db)->c;
	PGresult *res;
	int rc;

	if (PG(db)->streaming)
		crm__pg_spill(PG(db)->streaming);
	/* The schema may have changed since: prepare again first. */
	if ((st->epoch != PG(db)->ddl_epoch || !st->name[0]) && (rc = crm__pg_reprepare(db, st)))
		return rc;
	if ((rc = crm__pg_values(st)))
		return rc;
	if (st->stream)
		return (rc = crm__pg_sync(db)) ? rc : crm__pg_execute_stream(st);
	if (PG(db)->nqueued) {
		/* In the round trip that reads what is queued before it. */
		if (!PQsendQueryPrepared(c, st->name, st->nparams, st->values, NULL, NULL, 0))
			return crm__pg_fail(db, NULL);
		PG(db)->sent++;
		res = NULL;
		if ((rc = crm__pg_drain(db, &res))) {
			PQclear(res);
			return rc;
		}
	} else {
		res = PQexecPrepared(c, st->name, st->nparams, st->values, NULL, NULL, 0);
		PG(db)->round_trips++;
		PG(db)->sent++;
	}
	/* DDL this handle could not know of: outside a transaction nothing is
	 * lost by preparing again and running once more. */
	if (PQresultStatus(res) == PGRES_FATAL_ERROR && crm__pg_stale_plan(res) && PQtransactionStatus(c) == PQTRANS_IDLE &&
	    crm__pg_reprepare(db, st) == CRM_OK) {
		PQclear(res);
		res = PQexecPrepared(c, st->name, st->nparams, st->values, NULL, NULL, 0);
		PG(db)->round_trips++;
		PG(db)->sent++;
	}
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		st->res = res;
		st->row = 0;
		return PQntuples(res) > 0 ? CRM_ROW : CRM_DONE;
	default:
		if (crm__pg_stale_plan(res))
			st->epoch = PG(db)->ddl_epoch - 1; /* prepare again next time */
		rc = crm__pg_fail(db, res);
		PQclear(res);
		return rc;
	}
}

/* The end of a run's rows: CRM_DONE, or the failure a spill found. */
static int finished(pg_stmt *st)
{
	int rc = st->failed;

	if (!rc)
		return CRM_DONE;
	crm__pg_reset(&st->base);
	return crm__error(st->base.db, rc, "postgresql: the statement failed before its last row");
}

/* Make the text[] columns of the row just reached into the engines' JSON
 * text. Column readers cannot fail, so their memory is taken here, where
 * running out fails the step instead of reading as an empty value. */
static int row_arrays(pg_stmt *st, int rc)
{
	int n;

	forget_arrays(st);
	if (rc != CRM_ROW)
		return rc;
	n = PQnfields(st->res);
	for (int i = 0; i < n; i++) {
		crm__buf json = CRM__BUF_INIT;

		if (PQftype(st->res, i) != PG_TEXTARRAY || PQgetisnull(st->res, st->row, i))
			continue;
		if (st->narrays < n) {
			char **grown = crm__realloc(st->arrays, (size_t)n * sizeof *grown);
			if (!grown)
				return crm__error_oom(st->base.db);
			memset(grown + st->narrays, 0, (size_t)(n - st->narrays) * sizeof *grown);
			st->arrays = grown;
			st->narrays = n;
		}
		if (crm__pg_array_to_json(&json, PQgetvalue(st->res, st->row, i)) == -2 ||
		    !(st->arrays[i] = crm__buf_detach(&json))) {
			crm__buf_free(&json);
			return crm__error_oom(st->base.db);
		}
	}
	return rc;
}

/* As SQLite: a step after CRM_DONE runs the statement again. */
static int next_row(crm__stmt *base)
{
	pg_stmt *st = P(base);
	int rc;

	if (!conn_of(base))
		return crm__error(base->db, CRM_EMISUSE, "the handle is closed");
	if (st->ahead && (rc = crm__pg_sync(base->db))) /* its rows come with the others' */
		return rc;
	if (st->ahead_rc) {
		rc = st->ahead_rc;
		crm__pg_reset(base);
		return rc;
	}
	if (st->res && st->row + 1 < PQntuples(st->res)) {
		st->row++;
		return CRM_ROW;
	}
	if (st->rest) { /* rows a spill read early */
		PQclear(st->res);
		st->res = st->rest;
		st->rest = NULL;
		st->row = 0;
		return PQntuples(st->res) > 0 ? CRM_ROW : finished(st);
	}
	if (st->active)
		return crm__pg_stream_next(st);
	if (st->res && st->row < PQntuples(st->res)) {
		st->row = PQntuples(st->res);
		return finished(st);
	}
	crm__pg_reset(base);
	return execute(st);
}

int crm__pg_step(crm__stmt *base) { return row_arrays(P(base), next_row(base)); }

/* ---- columns of the current row ---- */

/* The result holding the current row, NULL when there is none. */
static const PGresult *row_of(crm__stmt *base, int i)
{
	pg_stmt *st = P(base);

	if (!st->res || st->row < 0 || st->row >= PQntuples(st->res) || i < 0 || i >= PQnfields(st->res) ||
	    PQgetisnull(st->res, st->row, i))
		return NULL;
	return st->res;
}

static const char *value(crm__stmt *base, int i) { return PQgetvalue(P(base)->res, P(base)->row, i); }

int crm__pg_column_count(crm__stmt *st)
{
	const PGresult *r = P(st)->res ? P(st)->res : P(st)->desc;

	return r ? PQnfields(r) : 0;
}

/* A numeric without a fraction that fits 64 bits is an integer (sums of
 * bigint columns are numeric); any other is a real number. */
static int numeric_type(const char *s)
{
	if (strchr(s, '.') || strchr(s, 'N') || strchr(s, 'I'))
		return CRM__SQL_FLOAT;
	errno = 0;
	strtoll(s, NULL, 10);
	return errno == ERANGE ? CRM__SQL_FLOAT : CRM__SQL_INTEGER;
}

int crm__pg_column_type(crm__stmt *st, int i)
{
	const PGresult *r = row_of(st, i);

	if (!r)
		return CRM__SQL_NULL;
	switch (PQftype(r, i)) {
	case PG_INT2:
	case PG_INT4:
	case PG_INT8:
	case PG_OID:
	case PG_BOOL: return CRM__SQL_INTEGER;
	case PG_FLOAT4:
	case PG_FLOAT8: return CRM__SQL_FLOAT;
	case PG_NUMERIC: return numeric_type(value(st, i));
	default: return CRM__SQL_TEXT;
	}
}

/* As SQLite converts: a real number truncated toward zero, saturating. */
static int64_t real_to_int(double d)
{
	if (isnan(d))
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

/* An integer column's text ("-?[0-9]+", in range): what strtoll gives, at
 * a fraction of its cost (several columns a row). */
static int64_t integer_text(const char *s)
{
	uint64_t u = 0;
	int neg = *s == '-';

	for (s += neg; *s >= '0' && *s <= '9'; s++)
		u = u * 10 + (uint64_t)(*s - '0');
	return neg ? (int64_t)(0 - u) : (int64_t)u;
}

int64_t crm__pg_column_int64(crm__stmt *st, int i)
{
	const PGresult *r = row_of(st, i);
	const char *s;

	if (!r)
		return 0;
	s = value(st, i);
	switch (PQftype(r, i)) {
	case PG_INT2:
	case PG_INT4:
	case PG_INT8:
	case PG_OID: return integer_text(s);
	case PG_BOOL: return *s == 't';
	case PG_TIMESTAMPTZ:
	case PG_TIMESTAMP: return crm__pg_datetime_parse(s);
	case PG_FLOAT4:
	case PG_FLOAT8: return real_to_int(strtod(s, NULL));
	case PG_NUMERIC:
		if (numeric_type(s) == CRM__SQL_FLOAT)
			return real_to_int(strtod(s, NULL));
		return strtoll(s, NULL, 10);
	default: return strtoll(s, NULL, 10);
	}
}

double crm__pg_column_double(crm__stmt *st, int i)
{
	const PGresult *r = row_of(st, i);
	const char *s;

	if (!r)
		return 0;
	s = value(st, i);
	switch (PQftype(r, i)) {
	case PG_INT2:
	case PG_INT4:
	case PG_INT8:
	case PG_OID: return integer_text(s);
	case PG_BOOL: return *s == 't';
	case PG_TIMESTAMPTZ:
	case PG_TIMESTAMP: return (double)crm__pg_datetime_parse(s);
	default: return strtod(s, NULL);
	}
}

/* Column i (a text[]) of the current row as the engines' JSON array
 * text, made by row_arrays when the row was reached. */
static const char *array_text(pg_stmt *st, int i) { return i < st->narrays ? st->arrays[i] : NULL; }

/* Booleans read as SQLite's 1 and 0, whatever the column's type;
 * multi-values as the engines' JSON text. */
const char *crm__pg_column_text(crm__stmt *st, int i)
{
	const PGresult *r = row_of(st, i);

	if (!r)
		return NULL;
	if (PQftype(r, i) == PG_BOOL)
		return *value(st, i) == 't' ? "1" : "0";
	if (PQftype(r, i) == PG_TEXTARRAY)
		return array_text(P(st), i);
	return value(st, i);
}

int crm__pg_column_bytes(crm__stmt *st, int i)
{
	const PGresult *r = row_of(st, i);
	const char *s;

	if (!r)
		return 0;
	if (PQftype(r, i) == PG_TEXTARRAY)
		return (s = array_text(P(st), i)) ? (int)strlen(s) : 0;
	return PQftype(r, i) == PG_BOOL ? 1 : PQgetlength(r, P(st)->row, i);
}

/* bytea comes as text (hex or, when the server says so, escape format):
 * libpq decodes either. */
int crm__pg_column_blob(crm__stmt *st, int i, void *out, int cap)
{
	const PGresult *r = row_of(st, i);
	unsigned char *bytes;
	size_t n;

	if (!r)
		return -1;
	if (PQftype(r, i) != PG_BYTEA) {
		n = (size_t)PQgetlength(r, P(st)->row, i);
		memcpy(out, value(st, i), n < (size_t)cap ? n : (size_t)cap);
		return (int)n;
	}
	if (!(bytes = PQunescapeBytea((const unsigned char *)value(st, i), &n)))
		return -1;
	memcpy(out, bytes, n < (size_t)cap ? n : (size_t)cap);
	PQfreemem(bytes);
	return (int)n;
}

/* The inverse of bind_as, led by the column's type. A numeric without a
 * fraction is taken as already scaled: a bigint column's sum (numeric in
 * PostgreSQL) holds the engines' scaled integers, while a numeric(p,s)
 * column with s > 0 always prints its fraction. */
int64_t crm__pg_column_as(crm__stmt *st, int i, enum crm__natural kind, int scale)
{
	const PGresult *r = row_of(st, i);
	const char *s;

	if (!r)
		return 0;
	s = value(st, i);
	if (PQftype(r, i) == PG_NUMERIC && kind == CRM__NAT_DECIMAL && strchr(s, '.'))
		return crm__pg_decimal_parse(s, scale);
	return crm__pg_column_int64(st, i);
}

/* The RETURNING row's first column (dialect.returning_id). */
int64_t crm__pg_inserted_id(crm__stmt *st)
{
	pg_stmt *p = P(st);

	if (!p->res || PQntuples(p->res) < 1 || PQnfields(p->res) < 1 || PQgetisnull(p->res, 0, 0))
		return 0;
	return strtoll(PQgetvalue(p->res, 0, 0), NULL, 10);
}
