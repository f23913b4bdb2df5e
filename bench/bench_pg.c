/* PostgreSQL benchmark: libcrm on PostgreSQL against raw libpq doing the same
 * work on the same server in the same run — batch inserts of lead records
 * (JSON in, validated) vs per-row PQexecPrepared inserts of the same C values
 * in one transaction into a table of the same shape and indexes; the filtered
 * sorted lead query vs the same SQL; point gets returning JSON vs point
 * reads; workflow transitions (Lua guard, field action, history) vs the same
 * state changes written by hand; reports vs the SQL libcrm compiles for them
 * (crm_report_explain's "sql" and "binds", run with PQexecPrepared).
 *
 * CRM_BENCH_PG is a libpq URL of a server the bench may create schemas in
 * (bench/run starts a throwaway cluster when PostgreSQL is installed); each
 * libcrm workload opens its own schema of it, the raw side works in schemas
 * of its own, and all are dropped at the end (BENCH_KEEP=1 keeps them).
 * When libcrm cannot yet do a workload on PostgreSQL the bench says
 * "# pg_NAME: not yet (the error)" instead of a ratio. */
#define _GNU_SOURCE /* MAP_ANONYMOUS, sched_setaffinity */
#include "gen.h"

#include <cJSON.h>
#include <crm.h>
#include <libpq-fe.h>

#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *url;
static char tag[24]; /* prefix of this run's schemas: "bench_<pid>" */
static pid_t main_pid;

/* Why libcrm could not do the current workload. */
static char why[1024];

/* Each workload runs in a child process, so a backend that crashes costs
 * that workload's figures, not the run. The figures a child has printed,
 * as a ratio or a note, are marked here (shared with the parent), and the
 * parent says "not yet" for the rest. */
enum { M_INSERT, M_QUERY, M_GET, M_WORKFLOW, M_REPORT0, M_MAX = M_REPORT0 + 16 };
static struct shared {
	int reported[M_MAX];
	char doing[96]; /* the libcrm call a child is in */
} *shared;

/* Say which libcrm call the child is about to make (for a crash's note). */
static void doing(const char *what)
{
	snprintf(shared->doing, sizeof shared->doing, "%s", what);
}

/* 1 (and `why` set) when rc is libcrm's error. */
static int failed(crm_db *db, int rc, const char *what)
{
	if (rc == CRM_OK)
		return 0;
	snprintf(why, sizeof why, "%s: %s: %s", what, crm_errstr(rc), db ? crm_errmsg(db) : "");
	return 1;
}

static void mark(int metric)
{
	shared->reported[metric] = 1;
}

/* The figure's name after "pg_". */
static void metric_name(int metric, char *out, size_t n)
{
	static const char *const names[] = { "insert_batch", "query_filter", "get_by_id", "workflow_transition" };

	if (metric < M_REPORT0)
		snprintf(out, n, "%s", names[metric]);
	else
		snprintf(out, n, "report_%s", bench_reports[metric - M_REPORT0].name);
}

static void not_yet(int metric)
{
	char name[64];

	metric_name(metric, name, sizeof name);
	bench_note("pg_%s: not yet (%s)", name, why);
	mark(metric);
}

/* ---- raw libpq ---- */

static void pq_check(PGconn *c, PGresult *res, const char *what)
{
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		bench_die("postgresql: %s: %s", what, res ? PQresultErrorMessage(res) : PQerrorMessage(c));
}

static void pq_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);

	pq_check(c, res, sql);
	PQclear(res);
}

static void pq_prepare(PGconn *c, const char *name, const char *sql)
{
	PGresult *res = PQprepare(c, name, sql, 0, NULL);

	pq_check(c, res, sql);
	PQclear(res);
}

/* A connection whose search_path is `schema` (created unless it exists). */
static PGconn *pq_connect(const char *schema)
{
	PGconn *c = PQconnectdb(url);
	char sql[256];

	if (PQstatus(c) != CONNECTION_OK)
		bench_die("postgresql: connect: %s", PQerrorMessage(c));
	pq_exec(c, "SET client_min_messages = warning");
	if (schema) {
		snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s; SET search_path TO %s", schema, schema);
		pq_exec(c, sql);
	}
	return c;
}

/* libcrm's portable placeholders (`?N` is parameter N, a bare `?` one past
 * the highest so far) as libpq's `$N`, outside quotes and comments. */
static char *dollar_placeholders(const char *sql)
{
	size_t len = strlen(sql), o = 0;
	char *out = malloc(len * 8 + 1); /* a bare `?` becomes at most `$NNNNNNN` */
	int max = 0;

	if (!out)
		bench_die("out of memory");
	for (size_t i = 0; i < len;) {
		char q = sql[i];

		if (q == '\'' || q == '"') {
			size_t j = i + 1;

			while (j < len && sql[j] != q)
				j++;
			j = j < len ? j + 1 : len;
			memcpy(out + o, sql + i, j - i);
			o += j - i;
			i = j;
		} else if (q == '-' && sql[i + 1] == '-') {
			while (i < len && sql[i] != '\n')
				out[o++] = sql[i++];
		} else if (q == '?') {
			long k = 0;
			size_t j = i + 1;

			while (j < len && sql[j] >= '0' && sql[j] <= '9')
				k = k * 10 + (sql[j++] - '0');
			if (j == i + 1)
				k = max + 1;
			if (k > max)
				max = (int)k;
			o += (size_t)sprintf(out + o, "$%ld", k);
			i = j;
		} else
			out[o++] = sql[i++];
	}
	out[o] = '\0';
	return out;
}

/* Prepare portable SQL (`?N`/`?` placeholders) as statement `name`. */
static void pq_prepare_portable(PGconn *c, const char *name, const char *sql)
{
	char *q = dollar_placeholders(sql);

	pq_prepare(c, name, q);
	free(q);
}

/* The text of one value of a one-row, one-column query. */
static char *pq_value(PGconn *c, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	char *v;

	pq_check(c, res, sql);
	v = strdup(PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	if (!v)
		bench_die("out of memory");
	return v;
}

static int64_t cell_int(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A numeric(19,2) cell ("12.30", never negative here) in cents, as
 * crm_cursor_int64 reads a decimal. */
static int64_t cell_cents(const PGresult *res, int row, int col)
{
	char *end;
	int64_t whole = strtoll(PQgetvalue(res, row, col), &end, 10);

	return whole * 100 + (*end == '.' ? strtoll(end + 1, NULL, 10) : 0);
}

/* ---- libcrm ---- */

static void schema_name(char *out, size_t n, const char *what)
{
	snprintf(out, n, "%s_%s", tag, what);
}

/* libcrm on PostgreSQL in schema `<tag>_<what>`; NULL (and `why`) when it
 * cannot open. */
static crm_db *crm_open_pg(const char *what)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	char schema[64];
	crm_db *db = NULL;
	int rc;

	schema_name(schema, sizeof schema, what);
	o.schema = schema;
	doing("crm_open");
	rc = crm_open(&db, url, &o);
	if (failed(db, rc, "crm_open")) {
		crm_close(db);
		return NULL;
	}
	return db;
}

/* Drop this run's schemas (atexit, so a dying run cleans up too). */
static void drop_schemas(void)
{
	PGconn *c;
	PGresult *res;
	char like[64];
	const char *p[1] = { like };

	if (getpid() != main_pid)
		return; /* a workload's child dying: the parent cleans up */
	if (getenv("BENCH_KEEP")) {
		bench_note("kept schemas %s_*", tag);
		return;
	}
	c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	snprintf(like, sizeof like, "%s\\_%%", tag);
	res = PQexecParams(c, "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		for (int i = 0; i < PQntuples(res); i++) {
			char sql[160];

			snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", PQgetvalue(res, i, 0));
			PQclear(PQexec(c, sql));
		}
	PQclear(res);
	PQfinish(c);
}

/* ---- the lead table: insert_batch, query_filter, get_by_id ---- */

/* The table libcrm makes for the lead form on PostgreSQL (lib/store/ddl.c
 * with lib/backend/pg_dialect.c: an identity id never given twice, bigint
 * for integers, numeric for decimals, date for dates, text for text and
 * enums, then the system columns) and the same indexes. check_same_table
 * compares it with libcrm's own in the catalog. */
static const char RAW_LEAD_SCHEMA[] =
	"CREATE TABLE lead(id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text, phone text, email text,"
	" region text, score bigint, budget numeric(19,2), source text, city text, created_on date, notes text,"
	" created_at bigint NOT NULL, updated_at bigint NOT NULL, owner text, version bigint NOT NULL DEFAULT 1);"
	"CREATE UNIQUE INDEX lead_phone ON lead(phone);"
	"CREATE INDEX lead_region ON lead(region);";

/* The columns (name, type, nullability, default) and the indexes (their
 * definitions without names or schema) of `table` in `schema`, one string. */
static char *table_shape(PGconn *c, const char *schema, const char *table)
{
	const char *p[2] = { schema, table };

	return pq_value(c,
			"SELECT (SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable || ' '"
			"  || coalesce(column_default, '') || ' ' || is_identity, ', ' ORDER BY ordinal_position)"
			"  FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2)"
			" || ' | ' || (SELECT string_agg(regexp_replace(indexdef, ' INDEX \\S+ ON \\S+\\.', ' INDEX ON '),"
			"  '; ' ORDER BY 1)"
			"  FROM pg_indexes WHERE schemaname = $1 AND tablename = $2)",
			2, p);
}

static void check_same_table(PGconn *c, const char *crm_schema, const char *raw_schema, const char *table)
{
	char *a = table_shape(c, crm_schema, table), *b = table_shape(c, raw_schema, table);

	if (strcmp(a, b) != 0)
		bench_note("WARNING %s: the raw table differs from libcrm's:\n#   libcrm: %s\n#   raw:    %s", table, a, b);
	else
		bench_note("%s: the raw table has libcrm's columns, types, defaults and indexes (%s)", table,
			   strstr(a, "| ") ? strstr(a, "| ") + 2 : a);
	free(a);
	free(b);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One raw insert: the row's values as text, PQexecPrepared. */
static void raw_insert_row(PGconn *c, const char *now, const bench_lead *r)
{
	char score[24], budget[24];
	const char *v[11];
	PGresult *res;

	snprintf(score, sizeof score, "%" PRId64, r->score);
	snprintf(budget, sizeof budget, "%" PRId64 ".%02d", r->budget_cents / 100, (int)(r->budget_cents % 100));
	v[0] = now;
	v[1] = r->name;
	v[2] = r->phone;
	v[3] = r->email;
	v[4] = bench_lead_regions[r->region];
	v[5] = score;
	v[6] = budget;
	v[7] = bench_lead_sources[r->source];
	v[8] = r->city;
	v[9] = r->date;
	v[10] = r->notes;
	res = PQexecPrepared(c, "ins", 11, v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		bench_die("raw insert: %s", PQresultErrorMessage(res));
	PQclear(res);
}

/* Both sides insert `nrows` rows in one transaction each, chunk by chunk
 * (rows made outside the clock), as bench_form does. 1 when libcrm could not. */
static int pg_insert(crm_db *cdb, PGconn *raw, long nrows)
{
	bench_lead *rows = malloc(sizeof *rows * BENCH_LEAD_CHUNK);
	bench_rng rng;
	crm_batch *batch = NULL;
	double t_crm = 0, t_raw = 0, t0;
	int64_t now = wall_ms();
	char now_text[24];
	long done = 0;
	int rc;

	if (!rows)
		bench_die("out of memory");
	snprintf(now_text, sizeof now_text, "%" PRId64, now);
	doing("crm_batch (leads)");
	if (failed(cdb, crm_clock_set(cdb, now), "crm_clock_set"))
		goto fail;
	bench_rng_seed(&rng, BENCH_LEAD_SEED);
	pq_prepare_portable(raw, "ins", bench_lead_sql_insert);

	t0 = bench_now();
	rc = crm_batch_begin(&batch, cdb, "lead");
	t_crm += bench_now() - t0;
	if (failed(cdb, rc, "crm_batch_begin"))
		goto fail;
	t0 = bench_now();
	pq_exec(raw, "BEGIN");
	t_raw += bench_now() - t0;

	while (done < nrows) {
		long n = nrows - done < BENCH_LEAD_CHUNK ? nrows - done : BENCH_LEAD_CHUNK, k;

		for (k = 0; k < n; k++)
			bench_lead_gen(&rng, (uint64_t)(done + k), &rows[k]);

		t0 = bench_now();
		for (k = 0; k < n; k++)
			if ((rc = crm_batch_add(batch, rows[k].json, rows[k].json_len, NULL)) != CRM_OK)
				break;
		t_crm += bench_now() - t0;
		if (failed(cdb, rc, "crm_batch_add"))
			goto fail;

		t0 = bench_now();
		for (k = 0; k < n; k++)
			raw_insert_row(raw, now_text, &rows[k]);
		t_raw += bench_now() - t0;
		done += n;
	}

	t0 = bench_now();
	rc = crm_batch_commit(batch);
	t_crm += bench_now() - t0;
	crm_batch_free(batch);
	batch = NULL;
	if (failed(cdb, rc, "crm_batch_commit"))
		goto fail;
	t0 = bench_now();
	pq_exec(raw, "COMMIT");
	t_raw += bench_now() - t0;

	free(rows);
	bench_note("pg_insert_batch: %ld rows, libcrm %.3f s, libpq %.3f s", nrows, t_crm, t_raw);
	bench_rate("pg_insert_batch_libcrm", (double)nrows, t_crm);
	bench_rate("pg_insert_batch_libpq", (double)nrows, t_raw);
	bench_ratio("pg_insert_batch", t_crm, t_raw);
	mark(M_INSERT);
	return 0;
fail:
	crm_batch_free(batch);
	free(rows);
	return 1;
}

static double raw_query_once(PGconn *c, bench_qsum *s)
{
	char min[16], limit[16];
	const char *v[3] = { "north", min, limit };
	double t0 = bench_now();
	PGresult *res;
	int n;

	memset(s, 0, sizeof *s);
	snprintf(min, sizeof min, "%d", BENCH_LEAD_QUERY_MIN_SCORE);
	snprintf(limit, sizeof limit, "%d", BENCH_LEAD_QUERY_LIMIT);
	res = PQexecPrepared(c, "query", 3, v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		bench_die("raw query: %s", PQresultErrorMessage(res));
	n = PQntuples(res);
	for (int r = 0; r < n; r++) {
		for (int i = 0; i < BENCH_LEAD_NCOLS; i++) {
			if (PQgetisnull(res, r, i))
				continue;
			if (bench_lead_text_column[i])
				s->touch += (unsigned char)PQgetvalue(res, r, i)[0];
			else
				s->touch += (uint64_t)(i == 6 ? cell_cents(res, r, i) : cell_int(res, r, i)); /* 6: budget */
		}
		s->score_sum += cell_int(res, r, 5);
		s->rows++;
	}
	PQclear(res);
	return bench_now() - t0;
}

static int pg_query(crm_db *cdb, PGconn *raw, int reps)
{
	double best_crm = 1e30, best_raw = 1e30, t;
	bench_qsum sc = { 0 }, sr = { 0 };

	pq_prepare_portable(raw, "query", bench_lead_sql_query);
	doing("crm_query");
	for (int r = 0; r < reps; r++) {
		if (failed(cdb, bench_lead_crm_query(cdb, &sc, &t), "crm_query"))
			return 1;
		if (t < best_crm)
			best_crm = t;
		t = raw_query_once(raw, &sr);
		if (t < best_raw)
			best_raw = t;
	}
	if (sc.rows != sr.rows || sc.score_sum != sr.score_sum || sc.touch != sr.touch) {
		bench_note("pg_query_filter: not compared (results differ: libcrm %ld rows, score sum %lld, checksum %llu;"
			   " libpq %ld rows, score sum %lld, checksum %llu)",
			   sc.rows, (long long)sc.score_sum, (unsigned long long)sc.touch, sr.rows,
			   (long long)sr.score_sum, (unsigned long long)sr.touch);
		mark(M_QUERY);
		return 0;
	}
	bench_note("pg_query_filter: both sides read identical values (checksum %llu)", (unsigned long long)sr.touch);
	bench_note("pg_query_filter: %ld rows, best of %d: libcrm %.2f ms, libpq %.2f ms", sr.rows, reps, best_crm * 1e3,
		   best_raw * 1e3);
	bench_rate("pg_query_filter_libcrm", (double)sc.rows, best_crm);
	bench_rate("pg_query_filter_libpq", (double)sr.rows, best_raw);
	bench_ratio("pg_query_filter", best_crm, best_raw);
	mark(M_QUERY);
	return 0;
}

static double raw_gets_once(PGconn *c, const int64_t *ids, long n, uint64_t *touch)
{
	double t0 = bench_now();
	char id[24];
	const char *v[1] = { id };

	for (long k = 0; k < n; k++) {
		PGresult *res;

		snprintf(id, sizeof id, "%" PRId64, ids[k]);
		res = PQexecPrepared(c, "get", 1, v, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
			bench_die("raw get %lld: %s", (long long)ids[k], PQresultErrorMessage(res));
		for (int i = 0; i < BENCH_LEAD_NCOLS; i++) {
			if (PQgetisnull(res, 0, i))
				continue;
			if (bench_lead_text_column[i])
				*touch += (unsigned char)PQgetvalue(res, 0, i)[0];
			else
				*touch += (uint64_t)cell_int(res, 0, i);
		}
		PQclear(res);
	}
	return bench_now() - t0;
}

static int pg_get(crm_db *cdb, PGconn *raw, long nrows, long ngets, int reps)
{
	int64_t *ids = malloc(sizeof *ids * (size_t)ngets);
	double best_crm = 1e30, best_raw = 1e30, t;
	uint64_t touch = 0;
	bench_rng rng;

	if (!ids)
		bench_die("out of memory");
	pq_prepare_portable(raw, "get", bench_lead_sql_get);
	bench_rng_seed(&rng, BENCH_LEAD_SEED ^ 0x676574ULL);
	for (long k = 0; k < ngets; k++)
		ids[k] = 1 + (int64_t)bench_rng_below(&rng, (uint64_t)nrows);
	doing("crm_record_get");
	for (int r = 0; r < reps; r++) {
		if (failed(cdb, bench_lead_crm_gets(cdb, ids, ngets, &touch, &t), "crm_record_get")) {
			free(ids);
			return 1;
		}
		if (t < best_crm)
			best_crm = t;
		t = raw_gets_once(raw, ids, ngets, &touch);
		if (t < best_raw)
			best_raw = t;
	}
	free(ids);
	bench_note("pg_get_by_id: %ld gets, best of %d: libcrm %.3f s, libpq %.3f s (touch %llu)", ngets, reps, best_crm,
		   best_raw, (unsigned long long)(touch & 0xff));
	bench_rate("pg_get_by_id_libcrm", (double)ngets, best_crm);
	bench_rate("pg_get_by_id_libpq", (double)ngets, best_raw);
	bench_ratio("pg_get_by_id", best_crm, best_raw);
	mark(M_GET);
	return 0;
}

static void bench_leads(long nrows, long ngets, int reps)
{
	char crm_schema[64], raw_schema[64];
	crm_db *cdb = crm_open_pg("form");
	PGconn *raw;
	int64_t count = 0;
	int stage = M_INSERT;

	schema_name(crm_schema, sizeof crm_schema, "form");
	schema_name(raw_schema, sizeof raw_schema, "raw_form");
	raw = pq_connect(raw_schema);
	pq_exec(raw, RAW_LEAD_SCHEMA);
	doing("crm_apply (lead form)");
	if (!cdb || failed(cdb, crm_apply(cdb, bench_lead_form), "crm_apply lead"))
		goto fail;
	check_same_table(raw, crm_schema, raw_schema, "lead");

	if (pg_insert(cdb, raw, nrows))
		goto fail;
	stage = M_QUERY;
	doing("crm_count");
	if (failed(cdb, crm_count(cdb, "lead", NULL, &count), "crm_count"))
		goto fail;
	if (count != nrows) {
		snprintf(why, sizeof why, "libcrm holds %lld rows, expected %ld", (long long)count, nrows);
		goto fail;
	}
	{
		/* Fresh statistics on both tables, so autovacuum's timing cannot
		 * give one side a better plan in the middle of the runs. */
		char sql[160];

		snprintf(sql, sizeof sql, "ANALYZE lead; ANALYZE %s.lead", crm_schema);
		pq_exec(raw, sql);
	}
	if (pg_query(cdb, raw, reps))
		not_yet(M_QUERY);
	stage = M_GET;
	if (pg_get(cdb, raw, nrows, ngets, reps))
		not_yet(M_GET);
	crm_close(cdb);
	PQfinish(raw);
	return;
fail:
	for (int k = stage; k <= M_GET; k++)
		not_yet(k);
	crm_close(cdb);
	PQfinish(raw);
}

/* ---- workflow_transition ---- */

/* bench_workflow.c's hand-written tables, in PostgreSQL's types. */
static const char RAW_WF_SCHEMA[] =
	"CREATE TABLE deal(id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text, score bigint, step bigint,"
	" created_at bigint NOT NULL, updated_at bigint NOT NULL, owner text, version bigint NOT NULL DEFAULT 1);"
	"CREATE TABLE inst(id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, record bigint, state text,"
	" entered_at bigint);"
	"CREATE UNIQUE INDEX inst_record ON inst(record);"
	"CREATE TABLE history(id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, instance bigint, at bigint,"
	" event text, from_state text, to_state text);"
	"CREATE INDEX history_instance ON history(instance, id);";

static PGresult *run_prepared(PGconn *c, const char *name, int n, const char *const *v, ExecStatusType want)
{
	PGresult *res = PQexecPrepared(c, name, n, v, NULL, NULL, 0);

	if (PQresultStatus(res) != want)
		bench_die("raw %s: %s", name, PQresultErrorMessage(res));
	return res;
}

/* The raw side: its connection (tables filled) and the Lua guard. */
typedef struct wf_raw_side {
	PGconn *c;
	bench_guard guard;
} wf_raw_side;

static void wf_raw_open(wf_raw_side *r, long n)
{
	char schema[64], sql[256];

	schema_name(schema, sizeof schema, "raw_wf");
	r->c = pq_connect(schema);
	pq_exec(r->c, RAW_WF_SCHEMA);
	bench_guard_open(&r->guard);
	pq_exec(r->c, "BEGIN");
	snprintf(sql, sizeof sql,
		 "INSERT INTO deal(name, score, step, created_at, updated_at)"
		 " SELECT 'deal ' || i, 10 + i %% 90, 0, 1, 1 FROM generate_series(0, %ld) AS i ORDER BY i;"
		 "INSERT INTO inst(record, state, entered_at) SELECT id, 's0', 1 FROM deal ORDER BY id",
		 n - 1);
	pq_exec(r->c, sql);
	pq_exec(r->c, "COMMIT");
	/* Held, as a transition written by hand for several servers must
	 * hold them (libcrm holds both): without the instance's lock two
	 * servers advance it twice; without the record's, the guard judges a
	 * record another server is changing. */
	snprintf(sql, sizeof sql, "%s FOR NO KEY UPDATE", bench_wf_sql_read_inst);
	pq_prepare_portable(r->c, "read_inst", sql);
	snprintf(sql, sizeof sql, "%s FOR NO KEY UPDATE", bench_wf_sql_read_rec);
	pq_prepare_portable(r->c, "read_rec", sql);
	pq_prepare_portable(r->c, "up_rec", bench_wf_sql_up_rec);
	pq_prepare_portable(r->c, "up_inst", bench_wf_sql_up_inst);
	pq_prepare_portable(r->c, "hist", bench_wf_sql_hist);
}

/* Transition `s` of records first..last, each in its own transaction; the
 * time it took. */
static double wf_raw_block(wf_raw_side *r, int s, long first, long last)
{
	char ids[24], instance[24], step[8];
	double t0 = bench_now();

	for (long id = first; id <= last; id++) {
		const char *v[5];
		PGresult *res;
		int ok;

		pq_exec(r->c, "BEGIN");
		snprintf(ids, sizeof ids, "%ld", id);
		v[0] = ids;
		res = run_prepared(r->c, "read_inst", 1, v, PGRES_TUPLES_OK);
		if (PQntuples(res) != 1)
			bench_die("raw: no instance");
		snprintf(instance, sizeof instance, "%s", PQgetvalue(res, 0, 0));
		if (strcmp(PQgetvalue(res, 0, 1), bench_wf_states[s]) != 0)
			bench_die("raw: wrong state");
		PQclear(res);
		res = run_prepared(r->c, "read_rec", 1, v, PGRES_TUPLES_OK);
		if (PQntuples(res) != 1)
			bench_die("raw: no record");
		ok = bench_guard_call(&r->guard, PQgetvalue(res, 0, 0), cell_int(res, 0, 1), cell_int(res, 0, 2));
		PQclear(res);
		if (!ok)
			bench_die("raw: guard refused");
		snprintf(step, sizeof step, "%d", s + 1);
		v[0] = step;
		v[1] = "2";
		v[2] = ids;
		PQclear(run_prepared(r->c, "up_rec", 3, v, PGRES_COMMAND_OK));
		v[0] = bench_wf_states[s + 1];
		v[1] = "2";
		v[2] = instance;
		PQclear(run_prepared(r->c, "up_inst", 3, v, PGRES_COMMAND_OK));
		v[0] = instance;
		v[1] = "2";
		v[2] = "advance";
		v[3] = bench_wf_states[s];
		v[4] = bench_wf_states[s + 1];
		PQclear(run_prepared(r->c, "hist", 5, v, PGRES_COMMAND_OK));
		pq_exec(r->c, "COMMIT");
	}
	return bench_now() - t0;
}

/* libcrm's side, the same transitions; < 0 (and `why`) when it could not. */
static double wf_libcrm_block(crm_db *db, long first, long last)
{
	double t0 = bench_now();

	for (long id = first; id <= last; id++)
		if (failed(db, crm_workflow_fire(db, "deal", id, "advance", NULL), "crm_workflow_fire"))
			return -1;
	return bench_now() - t0;
}

/* libcrm's schema with the workflow and its deals; NULL (and `why`) when it
 * could not. */
static crm_db *wf_libcrm_open(long n)
{
	crm_db *db = crm_open_pg("wf");

	doing("crm_apply (workflow)");
	if (!db || failed(db, crm_apply(db, bench_wf_metadata), "crm_apply workflow"))
		goto fail;
	doing("crm_batch (deals starting workflows)");
	if (failed(db, bench_wf_load(db, n), "crm_batch deal"))
		goto fail;
	return db;
fail:
	crm_close(db);
	return NULL;
}

/* Both sides take turns block by block (which goes first alternates), and
 * the ratio is the median of the blocks' ratios: a machine whose load
 * changes during the run slows both sides of a block alike, and a burst
 * that hits one block does not move the median. */
#define WF_BLOCK 50

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Where a block runs: as the scheduler places it, or the bench and every
 * client backend of the cluster pinned to one CPU (each wake-up a switch
 * on that CPU), or the bench on one and the backends on the other (each
 * wake-up crosses CPUs). On a 2-vCPU VM whose idle CPUs halt, the
 * scheduler's placement decides a transition's cost (a wake-up across CPUs
 * costs tens of microseconds, and which pair it splits differs from block
 * to block), so the ratio compares the two sides under each placement the
 * bench sets, taking turns block by block. */
enum { PLACE_FREE, PLACE_SAME, PLACE_CROSS, NPLACES };

typedef struct placement {
	pid_t backends[16];
	cpu_set_t free[17]; /* the CPUs each had (the bench's last): PLACE_FREE gives them back */
	int nbackends;
	int ok; /* the bench may set the backends' CPUs (and there are 2) */
} placement;

static void placement_find(placement *pl, PGconn *c)
{
	PGresult *res = PQexec(c, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'");
	cpu_set_t *mine;

	pl->nbackends = 0;
	for (int i = 0; PQresultStatus(res) == PGRES_TUPLES_OK && i < PQntuples(res) && i < 16; i++)
		pl->backends[pl->nbackends++] = (pid_t)atol(PQgetvalue(res, i, 0));
	PQclear(res);
	mine = &pl->free[pl->nbackends];
	pl->ok = sched_getaffinity(0, sizeof *mine, mine) == 0 && CPU_ISSET(0, mine) && CPU_ISSET(1, mine);
	for (int i = 0; pl->ok && i < pl->nbackends; i++)
		pl->ok = sched_getaffinity(pl->backends[i], sizeof pl->free[i], &pl->free[i]) == 0 &&
			 sched_setaffinity(pl->backends[i], sizeof pl->free[i], &pl->free[i]) == 0;
}

static void place(const placement *pl, int where)
{
	cpu_set_t bench, backends;

	if (where == PLACE_FREE) {
		sched_setaffinity(0, sizeof pl->free[0], &pl->free[pl->nbackends]);
		for (int i = 0; i < pl->nbackends; i++)
			sched_setaffinity(pl->backends[i], sizeof pl->free[i], &pl->free[i]);
		return;
	}
	CPU_ZERO(&bench);
	CPU_ZERO(&backends);
	CPU_SET(0, &bench);
	CPU_SET(where == PLACE_CROSS ? 1 : 0, &backends);
	sched_setaffinity(0, sizeof bench, &bench);
	for (int i = 0; i < pl->nbackends; i++)
		sched_setaffinity(pl->backends[i], sizeof backends, &backends);
}

static void bench_wf(long n)
{
	static const char *const place_names[NPLACES] = { "free", "one CPU", "across CPUs" };
	wf_raw_side raw;
	crm_db *db;
	placement pl;
	double t_raw = 0, t_lib = 0, tr = 0, tl, *ratios[NPLACES] = { NULL }, median[NPLACES] = { 0 }, worst = 0;
	int k = 0, counts[NPLACES] = { 0 }, nplaces, nblocks = BENCH_WF_STEPS * (int)((n + WF_BLOCK - 1) / WF_BLOCK);

	for (int p = 0; p < NPLACES; p++)
		if (!(ratios[p] = malloc(sizeof **ratios * (size_t)nblocks)))
			bench_die("out of memory");
	wf_raw_open(&raw, n);
	if (!(db = wf_libcrm_open(n))) {
		not_yet(M_WORKFLOW);
		goto done;
	}
	placement_find(&pl, raw.c);
	nplaces = pl.ok ? NPLACES : 1;
	doing("crm_workflow_fire");
	for (int s = 0; s < BENCH_WF_STEPS; s++)
		for (long first = 1; first <= n; first += WF_BLOCK, k++) {
			long last = first + WF_BLOCK - 1 < n ? first + WF_BLOCK - 1 : n;
			int where = k % nplaces;

			if (pl.ok)
				place(&pl, where);
			if (k / nplaces % 2)
				tr = wf_raw_block(&raw, s, first, last);
			if ((tl = wf_libcrm_block(db, first, last)) < 0) {
				not_yet(M_WORKFLOW);
				goto done;
			}
			if (k / nplaces % 2 == 0)
				tr = wf_raw_block(&raw, s, first, last);
			t_raw += tr;
			t_lib += tl;
			ratios[where][counts[where]++] = tl / tr;
		}
	if (pl.ok)
		place(&pl, PLACE_FREE);
	for (int p = 0; p < nplaces; p++) {
		double *r = ratios[p];
		int c = counts[p];
		qsort(r, (size_t)c, sizeof *r, cmp_double);
		median[p] = r[c / 2];
		bench_note("pg_workflow_transition, blocks placed %s: the blocks' ratios in quartiles %.3f %.3f %.3f",
			   place_names[p], r[c / 4], r[c / 2], r[3 * c / 4]);
	}
	/* The ratio: the worse of the placements the bench sets (where it
	 * cannot set them, as the scheduler places the blocks). */
	for (int p = nplaces > 1 ? PLACE_SAME : PLACE_FREE; p < nplaces; p++)
		worst = median[p] > worst ? median[p] : worst;
	bench_note("pg_workflow_transition: %ld instances x %d transitions, in blocks of %d taking turns: libcrm %.3f s,"
		   " libpq %.3f s in all (%.3f)%s",
		   n, BENCH_WF_STEPS, WF_BLOCK, t_lib, t_raw, t_lib / t_raw,
		   pl.ok ? "" : "; the backends' CPUs could not be set: blocks as the scheduler placed them");
	bench_rate("pg_workflow_transition_libcrm", (double)n * BENCH_WF_STEPS, t_lib);
	bench_rate("pg_workflow_transition_libpq", (double)n * BENCH_WF_STEPS, t_raw);
	bench_ratio("pg_workflow_transition", worst, 1);
	mark(M_WORKFLOW);
done:
	for (int p = 0; p < NPLACES; p++)
		free(ratios[p]);
	crm_close(db);
	bench_guard_close(&raw.guard);
	PQfinish(raw.c);
}

/* ---- reports ---- */

typedef struct compiled {
	char *sql;          /* with $N placeholders */
	int nbinds;
	char **values;      /* text of each bind, NULL for null */
	const char **vptrs; /* for PQexecPrepared */
} compiled;

/* The SQL and binds crm_report_explain gives for `s`: 1 (and `why`) when
 * libcrm could not explain it. */
static int explain(crm_db *db, const bench_report_spec *s, compiled *out)
{
	char *json = NULL;
	cJSON *doc, *sql, *binds, *b;
	int i = 0;

	memset(out, 0, sizeof *out);
	if (failed(db, crm_report_explain(db, s->name, s->params, &json), "crm_report_explain"))
		return 1;
	doc = cJSON_Parse(json);
	sql = cJSON_GetObjectItemCaseSensitive(doc, "sql");
	binds = cJSON_GetObjectItemCaseSensitive(doc, "binds");
	if (!cJSON_IsString(sql) || !cJSON_IsArray(binds))
		bench_die("%s: crm_report_explain gave no sql/binds: %s", s->name, json);
	out->sql = dollar_placeholders(sql->valuestring);
	out->nbinds = cJSON_GetArraySize(binds);
	out->values = calloc((size_t)out->nbinds + 1, sizeof *out->values);
	out->vptrs = calloc((size_t)out->nbinds + 1, sizeof *out->vptrs);
	if (!out->values || !out->vptrs)
		bench_die("out of memory");
	cJSON_ArrayForEach(b, binds)
	{
		cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "value"), *ix = cJSON_GetObjectItemCaseSensitive(b, "index");
		int k = cJSON_IsNumber(ix) ? ix->valueint - 1 : i;
		char text[64];

		if (k < 0 || k >= out->nbinds)
			bench_die("%s: bind index %d", s->name, k + 1);
		if (cJSON_IsString(v))
			out->values[k] = strdup(v->valuestring);
		else if (cJSON_IsNumber(v)) {
			if (v->valuedouble < 9e15 && v->valuedouble > -9e15 &&
			    v->valuedouble == (double)(int64_t)v->valuedouble)
				snprintf(text, sizeof text, "%" PRId64, (int64_t)v->valuedouble);
			else
				snprintf(text, sizeof text, "%.17g", v->valuedouble);
			out->values[k] = strdup(text);
		} else if (cJSON_IsBool(v))
			out->values[k] = strdup(cJSON_IsTrue(v) ? "1" : "0");
		out->vptrs[k] = out->values[k];
		i++;
	}
	cJSON_Delete(doc);
	crm_free(json);
	return 0;
}

static void compiled_free(compiled *c)
{
	for (int i = 0; i < c->nbinds; i++)
		free(c->values[i]);
	free(c->values);
	free(c->vptrs);
	free(c->sql);
}

/* The SQL libcrm compiled, run raw: PQexecPrepared, every column read with
 * the accessor of libcrm's column in the same place. */
static double raw_report_once(PGconn *c, const char *stmt, const compiled *q, const int *kinds, int ncol,
			      bench_report_out *o, bench_result *keep)
{
	double t0 = bench_now();
	PGresult *res;
	int n;

	memset(o, 0, sizeof *o);
	res = PQexecPrepared(c, stmt, q->nbinds, q->vptrs, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		bench_die("%s (libpq): %s", stmt, PQresultErrorMessage(res));
	if (PQnfields(res) != ncol)
		bench_die("%s: libcrm has %d columns, the SQL %d", stmt, ncol, PQnfields(res));
	if (keep)
		keep->ncols = ncol;
	n = PQntuples(res);
	for (int r = 0; r < n; r++) {
		if (keep)
			bench_result_grow(keep);
		for (int i = 0; i < ncol; i++) {
			int null = PQgetisnull(res, r, i);
			const char *t = null ? NULL : PQgetvalue(res, r, i);
			int64_t iv = 0;
			double dv = 0;

			if (kinds[i] == BENCH_READ_INT) {
				iv = t ? strtoll(t, NULL, 10) : 0;
				o->touch += (uint64_t)iv;
			} else if (kinds[i] == BENCH_READ_DOUBLE) {
				dv = t ? strtod(t, NULL) : 0;
				o->touch += (uint64_t)(int64_t)dv;
			} else if (t)
				o->touch += (unsigned char)t[0];
			if (keep)
				bench_cell_set(bench_result_cell(keep, keep->nrows, i), null, iv, dv,
					       kinds[i] == BENCH_READ_TEXT ? t : NULL);
		}
		if (keep)
			keep->nrows++;
		o->rows++;
	}
	PQclear(res);
	return bench_now() - t0;
}

static void pg_report_one(crm_db *cdb, PGconn *raw, int k, long nrows, int reps)
{
	const bench_report_spec *s = &bench_reports[k];
	bench_result lib = { 0 }, ref = { 0 };
	bench_report_out oc, orw;
	int kinds[BENCH_REPORT_MAX_COLS], ncol, differs;
	double t_first, t_first_run, t_first_raw, best_run = 1e30, med_crm, med_raw, med_ratio, *t_crm, *t_raw, *ratios;
	char name[64], stmt[64], diff[512];
	compiled q;

	snprintf(name, sizeof name, "report_%s", s->name);
	snprintf(stmt, sizeof stmt, "r_%s", s->name);
	/* First run: libcrm compiles the report and prepares its statement. */
	doing("crm_report_run");
	if (failed(cdb, bench_report_crm_once(cdb, s, &oc, &lib), "crm_report_run") ||
	    failed(cdb, bench_report_kinds(cdb, s, kinds, &ncol), "crm_report_run") || explain(cdb, s, &q)) {
		bench_result_free(&lib);
		not_yet(M_REPORT0 + k);
		return;
	}
	t_first = oc.t_all;
	t_first_run = oc.t_run;
	pq_prepare(raw, stmt, q.sql);
	t_first_raw = raw_report_once(raw, stmt, &q, kinds, ncol, &orw, &ref);
	differs = bench_result_differs(&lib, &ref, kinds, "libpq", diff, sizeof diff);
	bench_result_free(&lib);
	bench_result_free(&ref);
	if (differs) {
		bench_note("pg_%s: not compared (results differ: %s)", name, diff);
		mark(M_REPORT0 + k);
		compiled_free(&q);
		return;
	}
	/* Both sides run in turns, which goes first alternating, and the
	 * ratio is the median of the turns' ratios: the two runs of a turn
	 * meet the same load of the machine, and one turn's hiccup does not
	 * move the median (a best of a few runs followed such hiccups). */
	if (!(t_crm = malloc(sizeof *t_crm * (size_t)reps)) || !(t_raw = malloc(sizeof *t_raw * (size_t)reps)) ||
	    !(ratios = malloc(sizeof *ratios * (size_t)reps)))
		bench_die("out of memory");
	for (int r = 0; r < reps; r++) {
		if (r % 2)
			t_raw[r] = raw_report_once(raw, stmt, &q, kinds, ncol, &orw, NULL);
		if (failed(cdb, bench_report_crm_once(cdb, s, &oc, NULL), "crm_report_run")) {
			not_yet(M_REPORT0 + k);
			compiled_free(&q);
			free(t_crm);
			free(t_raw);
			free(ratios);
			return;
		}
		t_crm[r] = oc.t_all;
		if (oc.t_run < best_run)
			best_run = oc.t_run;
		if (r % 2 == 0)
			t_raw[r] = raw_report_once(raw, stmt, &q, kinds, ncol, &orw, NULL);
		ratios[r] = t_crm[r] / t_raw[r];
		if (oc.rows != orw.rows)
			bench_die("%s: libcrm returned %ld rows, libpq %ld", s->name, oc.rows, orw.rows);
	}
	compiled_free(&q);
	qsort(t_crm, (size_t)reps, sizeof *t_crm, cmp_double);
	qsort(t_raw, (size_t)reps, sizeof *t_raw, cmp_double);
	qsort(ratios, (size_t)reps, sizeof *ratios, cmp_double);
	med_crm = t_crm[reps / 2];
	med_raw = t_raw[reps / 2];
	bench_note("pg_%s: %ld result rows x %d columns, identical on both sides; first run: libcrm %.1f ms"
		   " (crm_report_run %.2f ms), libpq %.1f ms",
		   name, oc.rows, ncol, t_first * 1e3, t_first_run * 1e3, t_first_raw * 1e3);
	bench_note("pg_%s: %d runs in turns: libcrm median %.1f ms (best %.1f, crm_report_run best %.3f ms),"
		   " libpq median %.1f ms (best %.1f); the turns' ratios: quartiles %.3f %.3f %.3f",
		   name, reps, med_crm * 1e3, t_crm[0] * 1e3, best_run * 1e3, med_raw * 1e3, t_raw[0] * 1e3,
		   ratios[reps / 4], ratios[reps / 2], ratios[3 * reps / 4]);
	med_ratio = ratios[reps / 2];
	free(t_crm);
	free(t_raw);
	free(ratios);
	{
		char label[96];

		snprintf(label, sizeof label, "pg_%s_libcrm", name);
		bench_rate(label, (double)nrows, med_crm);
		snprintf(label, sizeof label, "pg_%s_libpq", name);
		bench_rate(label, (double)nrows, med_raw);
		snprintf(label, sizeof label, "pg_%s", name);
		bench_ratio(label, med_ratio, 1);
	}
	mark(M_REPORT0 + k);
}

static void bench_reports_pg(long nrows, int reps)
{
	char schema[64];
	crm_db *cdb = crm_open_pg("report");
	PGconn *raw;
	int64_t count = 0;
	double t0;
	int k;

	schema_name(schema, sizeof schema, "report");
	doing("crm_apply (deal forms, reports)");
	if (!cdb || failed(cdb, crm_apply(cdb, bench_deal_metadata), "crm_apply forms"))
		goto fail;
	for (k = 0; k < bench_nreports; k++)
		if (failed(cdb, crm_apply(cdb, bench_reports[k].doc), "crm_apply report"))
			goto fail;
	doing("crm_batch (customers, deals)");
	t0 = bench_now();
	if (failed(cdb, bench_deals_generate(cdb, nrows), "crm_batch"))
		goto fail;
	if (failed(cdb, crm_count(cdb, "deal", NULL, &count), "crm_count"))
		goto fail;
	if (count != nrows)
		bench_die("libcrm holds %lld deals, expected %ld", (long long)count, nrows);
	bench_note("pg reports: generated %ld deals and %d customers through crm_batch in %.1f s (untimed)", nrows,
		   BENCH_NCUSTOMERS, bench_now() - t0);
	/* The raw side reads libcrm's own tables, with fresh statistics for both. */
	raw = pq_connect(schema);
	pq_exec(raw, "ANALYZE customer; ANALYZE deal");
	for (k = 0; k < bench_nreports; k++)
		pg_report_one(cdb, raw, k, nrows, reps);
	PQfinish(raw);
	crm_close(cdb);
	return;
fail:
	for (k = 0; k < bench_nreports; k++)
		not_yet(M_REPORT0 + k);
	crm_close(cdb);
}

/* ---- main ---- */

typedef struct params {
	long nrows, ngets, ninst;
	int reps, report_reps;
} params;

static void run_leads(const params *p) { bench_leads(p->nrows, p->ngets, p->reps); }
static void run_wf(const params *p) { bench_wf(p->ninst); }
static void run_reports(const params *p) { bench_reports_pg(p->nrows, p->report_reps); }

/* 1 when BENCH_PG_ONLY (a comma-separated list of leads, workflow and
 * reports) is unset or names workload `name`. */
static int wanted(const char *name)
{
	const char *only = getenv("BENCH_PG_ONLY"), *p;
	size_t n = strlen(name);

	if (!only || !*only)
		return 1;
	for (p = only; (p = strstr(p, name)) != NULL; p += n)
		if ((p == only || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}

/* Run `fn` in a child; the figures first..last it did not report are "not
 * yet" with how it ended. 1 when the child exited with an error (a
 * bench_die: the message is on stderr). */
static int isolated(void (*fn)(const params *), const params *p, int first, int last)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bench_die("fork failed");
	if (pid == 0) {
		fn(p);
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0)
		bench_die("waitpid failed");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		snprintf(why, sizeof why, "crashed in %s: signal %d, %s", shared->doing, WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(why, sizeof why, "the workload exited with status %d, see stderr", WEXITSTATUS(status));
	for (int m = first; m <= last; m++)
		if (!shared->reported[m])
			not_yet(m);
	return WIFEXITED(status);
}

int main(void)
{
	params p = {
		.nrows = bench_env_long("BENCH_ROWS", 100000),
		.ngets = bench_env_long("BENCH_GETS", 10000),
		.ninst = bench_env_long("BENCH_INSTANCES", 2000),
		.reps = (int)bench_env_long("BENCH_REPS", 3),
		.report_reps = (int)bench_env_long("BENCH_REPS", 15),
	};
	PGconn *c;
	char *version;
	int failures = 0;

	url = getenv("CRM_BENCH_PG");
	if (!url || !*url) {
		bench_note("pg: skipped (CRM_BENCH_PG unset)");
		return 0;
	}
	if (bench_nreports > M_MAX - M_REPORT0)
		bench_die("too many reports");
	shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		bench_die("mmap failed");
	main_pid = getpid();
	snprintf(tag, sizeof tag, "bench_%ld", (long)main_pid);
	c = pq_connect(NULL);
	version = pq_value(c, "SELECT version()", 0, NULL);
	PQfinish(c);
	atexit(drop_schemas);
	bench_note("bench_pg: %ld rows, %ld gets, %ld workflow instances, %d reps (reports %d), libcrm %s, libpq %d,"
		   " schemas %s_*",
		   p.nrows, p.ngets, p.ninst, p.reps, p.report_reps, crm_libversion(), PQlibVersion(), tag);
	bench_note("server: %s", version);
	free(version);

	if (wanted("leads"))
		failures += isolated(run_leads, &p, M_INSERT, M_GET);
	if (wanted("workflow"))
		failures += isolated(run_wf, &p, M_WORKFLOW, M_WORKFLOW);
	if (wanted("reports"))
		failures += isolated(run_reports, &p, M_REPORT0, M_REPORT0 + bench_nreports - 1);
	return failures ? 1 : 0;
}
