/* Report-engine benchmark: five representative reports over generated deals
 * (BENCH_ROWS, default 1,000,000, each referring to one of 10,000
 * customers) run through crm_report_run/crm_report_next, every column of
 * every row read, against the same questions asked in hand-written SQL,
 * prepared once and stepped through sqlite3 on the same database file in
 * the same process. The two sides run interleaved; each keeps its best of
 * BENCH_REPS runs (steady state: libcrm's report compilation and statement
 * preparation happen once, on its first run, reported as a note). */
#include "bench.h"

#include <crm.h>
#include <sqlite3.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED 0x7265706f7274ULL /* "report" */
#define NCUSTOMERS 10000
#define T0_MS 1672531200000LL     /* 2023-01-01T00:00:00Z: created_at spans three years from here */
#define SPAN_MS (1096LL * 86400000LL)
#define SINCE_MS 1719792000000LL /* 2024-07-01T00:00:00Z */
#define SINCE_ISO "2024-07-01T00:00:00Z"
#define MAX_COLS 32
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const REGIONS[] = { "north", "south", "east", "west", "central" };
static const char *const CHANNELS[] = { "web", "wechat", "referral", "event", "partner", "cold_call" };
static const char *const INDUSTRIES[] = { "software", "retail",  "manufacturing", "finance",
					  "healthcare", "education", "logistics", "energy",
					  "media",    "telecom", "real_estate", "hospitality" };
/* stage: weights in percent (the funnel lists all but "lost") */
static const char *const STAGES[] = { "new", "qualified", "proposal", "negotiation", "won", "lost" };
static const int STAGE_WEIGHT[] = { 30, 20, 15, 10, 15, 10 };
#define NOWNERS 200

static const char METADATA[] =
	"[{\"form\":\"customer\",\"fields\":["
	"{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"industry\",\"type\":\"enum\",\"options\":[\"software\",\"retail\",\"manufacturing\",\"finance\","
	"\"healthcare\",\"education\",\"logistics\",\"energy\",\"media\",\"telecom\",\"real_estate\",\"hospitality\"]},"
	"{\"name\":\"city\",\"type\":\"text\"}]},"
	"{\"form\":\"deal\",\"fields\":["
	"{\"name\":\"title\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"},"
	"{\"name\":\"region\",\"type\":\"enum\",\"options\":[\"north\",\"south\",\"east\",\"west\",\"central\"]},"
	"{\"name\":\"channel\",\"type\":\"enum\",\"options\":[\"web\",\"wechat\",\"referral\",\"event\",\"partner\","
	"\"cold_call\"]},"
	"{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"qualified\",\"proposal\",\"negotiation\",\"won\","
	"\"lost\"]},"
	"{\"name\":\"amount\",\"type\":\"decimal\",\"scale\":2,\"min\":0},"
	"{\"name\":\"probability\",\"type\":\"integer\",\"min\":0,\"max\":100}]}]";

/* ---- the reports: the definition, and the same question by hand ---- */

typedef struct report_spec {
	const char *name;
	const char *doc;    /* applied with crm_apply */
	const char *params; /* crm_report_run's params_json */
	const char *sql;    /* the hand-written equivalent; ?1 = since (ms) where used */
	int binds_since;
} report_spec;

static const report_spec REPORTS[] = {
	{ "by_region_month",
	  "{\"report\":\"by_region_month\",\"source\":\"deal\","
	  "\"dimensions\":[\"region\",{\"field\":\"created_at\",\"bucket\":\"month\",\"name\":\"month\"}],"
	  "\"measures\":[{\"name\":\"deals\",\"agg\":\"count\"},{\"name\":\"total\",\"agg\":\"sum\",\"field\":\"amount\"}],"
	  "\"filter\":{\"field\":\"created_at\",\"op\":\"ge\",\"param\":\"since\"},"
	  "\"params\":{\"since\":{\"type\":\"datetime\",\"default\":\"2024-01-01T00:00:00Z\"}}}",
	  "{\"since\":\"" SINCE_ISO "\"}",
	  /* grouped by the month's first day (cheaper than strftime('%Y-%m', ...) per record) */
	  "SELECT region, substr(month, 1, 7), count(*), sum(amount)"
	  " FROM (SELECT region, date(created_at / 1000, 'unixepoch', 'start of month') AS month, amount"
	  " FROM deal WHERE created_at >= ?1)"
	  " GROUP BY region, month ORDER BY region, month",
	  1 },
	{ "leaderboard",
	  "{\"report\":\"leaderboard\",\"source\":\"deal\","
	  "\"dimensions\":[{\"field\":\"owner\",\"name\":\"rep\"}],"
	  "\"measures\":[{\"name\":\"revenue\",\"agg\":\"sum\",\"field\":\"amount\"},{\"name\":\"deals\",\"agg\":\"count\"},"
	  "{\"name\":\"avg_deal\",\"ratio\":[\"revenue\",\"deals\"]}],"
	  "\"filter\":{\"field\":\"stage\",\"op\":\"eq\",\"value\":\"won\"},"
	  "\"order\":[\"-revenue\"],\"limit\":20}",
	  NULL,
	  "SELECT owner, sum(amount) AS revenue, count(*), sum(amount) / 100.0 / count(*)"
	  " FROM deal WHERE stage = 'won' GROUP BY owner ORDER BY revenue DESC, owner LIMIT 20",
	  0 },
	{ "by_industry",
	  "{\"report\":\"by_industry\",\"source\":\"deal\","
	  "\"dimensions\":[{\"field\":\"customer.industry\",\"name\":\"industry\"}],"
	  "\"measures\":[{\"name\":\"deals\",\"agg\":\"count\"},{\"name\":\"total\",\"agg\":\"sum\",\"field\":\"amount\"}]}",
	  NULL,
	  "SELECT c.industry, count(*), sum(d.amount) FROM deal AS d LEFT JOIN customer AS c ON c.id = d.customer"
	  " GROUP BY c.industry ORDER BY c.industry",
	  0 },
	{ "compare_month",
	  "{\"report\":\"compare_month\",\"source\":\"deal\","
	  "\"dimensions\":[\"region\",{\"field\":\"created_at\",\"bucket\":\"month\",\"name\":\"month\"}],"
	  "\"measures\":[{\"name\":\"revenue\",\"agg\":\"sum\",\"field\":\"amount\"}],"
	  "\"compare\":\"previous_period\"}",
	  NULL,
	  "WITH m AS (SELECT region, month, sum(amount) AS revenue"
	  " FROM (SELECT region, date(created_at / 1000, 'unixepoch', 'start of month') AS month, amount FROM deal)"
	  " GROUP BY region, month)"
	  " SELECT m.region, substr(m.month, 1, 7), m.revenue, p.revenue, m.revenue - p.revenue,"
	  " (m.revenue - p.revenue) * 100.0 / nullif(abs(p.revenue), 0)"
	  " FROM m LEFT JOIN m AS p ON p.region IS m.region AND p.month = date(m.month, '-1 month')"
	  " ORDER BY m.region, m.month",
	  0 },
	{ "funnel",
	  "{\"report\":\"funnel\",\"source\":\"deal\","
	  "\"funnel\":{\"field\":\"stage\",\"stages\":[\"new\",\"qualified\",\"proposal\",\"negotiation\",\"won\"]},"
	  "\"dimensions\":[\"channel\"]}",
	  NULL,
	  /* count once per (channel, stage), then add up the later stages */
	  "WITH s(i, name) AS (VALUES (0, 'new'), (1, 'qualified'), (2, 'proposal'), (3, 'negotiation'), (4, 'won')),"
	  " n AS (SELECT channel, stage, count(*) AS n FROM deal"
	  "  WHERE stage IN ('new', 'qualified', 'proposal', 'negotiation', 'won') GROUP BY channel, stage),"
	  " g AS (SELECT c.channel, s.i, s.name, coalesce(n.n, 0) AS n"
	  "  FROM (SELECT DISTINCT channel FROM n) AS c CROSS JOIN s"
	  "  LEFT JOIN n ON n.channel IS c.channel AND n.stage = s.name),"
	  " r AS (SELECT channel, i, name, sum(n) OVER (PARTITION BY channel ORDER BY i DESC) AS reached FROM g)"
	  " SELECT channel, name, reached,"
	  " CASE WHEN i = 0 THEN NULL ELSE reached * 1.0 / nullif(lag(reached) OVER w, 0) END,"
	  " reached * 1.0 / nullif(first_value(reached) OVER w, 0)"
	  " FROM r WINDOW w AS (PARTITION BY channel ORDER BY i) ORDER BY channel, i",
	  0 },
};

/* ---- error helpers ---- */

static void crm_check(crm_db *db, int rc, const char *what)
{
	if (rc != CRM_OK)
		bench_die("%s: %s (%s) %s", what, crm_errstr(rc), db ? crm_errmsg(db) : "",
			  db ? crm_errdetail(db) : "");
}

static sqlite3_stmt *sql_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		bench_die("prepare %s: %s", sql, sqlite3_errmsg(db));
	return st;
}

/* ---- data (untimed) ---- */

static int64_t clock_now; /* created_at of the record being inserted */

static int64_t bench_clock(void *payload)
{
	(void)payload;
	return clock_now;
}

static void gen_customers(crm_db *db)
{
	bench_rng rng;
	crm_batch *b = NULL;
	char json[256];
	int n;

	bench_rng_seed(&rng, SEED ^ 0x63757374ULL);
	crm_check(db, crm_batch_begin(&b, db, "customer"), "crm_batch_begin customer");
	for (long i = 0; i < NCUSTOMERS; i++) {
		clock_now = T0_MS - 86400000LL * 365 + (int64_t)bench_rng_below(&rng, 86400000ULL * 365);
		if (bench_rng_below(&rng, 50) == 0) /* 2% without an industry */
			n = snprintf(json, sizeof json, "{\"name\":\"Customer %ld\",\"city\":\"City %u\"}", i,
				     (unsigned)bench_rng_below(&rng, 300));
		else
			n = snprintf(json, sizeof json, "{\"name\":\"Customer %ld\",\"industry\":\"%s\",\"city\":\"City %u\"}",
				     i, INDUSTRIES[bench_rng_below(&rng, COUNT(INDUSTRIES))],
				     (unsigned)bench_rng_below(&rng, 300));
		if (crm_batch_add(b, json, n, NULL) != CRM_OK)
			bench_die("customer %ld: %s %s", i, crm_errmsg(db), json);
	}
	crm_check(db, crm_batch_commit(b), "crm_batch_commit customer");
	crm_batch_free(b);
}

static void gen_deals(crm_db *db, long nrows)
{
	bench_rng rng;
	crm_batch *b = NULL;
	char json[512], customer[48];
	int n;

	bench_rng_seed(&rng, SEED);
	crm_check(db, crm_batch_begin(&b, db, "deal"), "crm_batch_begin deal");
	for (long i = 0; i < nrows; i++) {
		int w = (int)bench_rng_below(&rng, 100), s = 0;

		while (w >= STAGE_WEIGHT[s]) {
			w -= STAGE_WEIGHT[s];
			s++;
		}
		clock_now = T0_MS + (int64_t)bench_rng_below(&rng, (uint64_t)SPAN_MS);
		if (bench_rng_below(&rng, 100) < 3) /* 3% without a customer */
			customer[0] = '\0';
		else
			snprintf(customer, sizeof customer, "\"customer\":%llu,",
				 (unsigned long long)(1 + bench_rng_below(&rng, NCUSTOMERS)));
		{
			uint64_t cents = 10000 + bench_rng_below(&rng, 50000000); /* 100.00 .. 500099.99 */

			n = snprintf(json, sizeof json,
				     "{\"title\":\"Deal %ld for account %u\",%s\"region\":\"%s\",\"channel\":\"%s\","
				     "\"stage\":\"%s\",\"amount\":\"%llu.%02llu\",\"probability\":%u,\"owner\":\"rep%03u\"}",
				     i, (unsigned)bench_rng_below(&rng, 100000), customer,
				     REGIONS[bench_rng_below(&rng, COUNT(REGIONS))],
				     CHANNELS[bench_rng_below(&rng, COUNT(CHANNELS))], STAGES[s],
				     (unsigned long long)(cents / 100), (unsigned long long)(cents % 100),
				     (unsigned)bench_rng_below(&rng, 101), (unsigned)bench_rng_below(&rng, NOWNERS));
		}
		if (crm_batch_add(b, json, n, NULL) != CRM_OK)
			bench_die("deal %ld: %s %s\n  %s", i, crm_errmsg(db), crm_errdetail(db), json);
	}
	crm_check(db, crm_batch_commit(b), "crm_batch_commit deal");
	crm_batch_free(b);
}

/* ---- reading a result ---- */

enum { READ_TEXT, READ_INT, READ_DOUBLE };

/* The accessor a column is read with: the same on both sides (decimals are
 * scaled integers, datetimes ms, booleans 0/1). */
static int read_kind(int type)
{
	switch (type) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_DECIMAL:
	case CRM_TYPE_BOOLEAN:
	case CRM_TYPE_DATETIME:
	case CRM_TYPE_REF:
		return READ_INT;
	case CRM_TYPE_NUMBER:
		return READ_DOUBLE;
	default:
		return READ_TEXT;
	}
}

/* One cell, kept for the equivalence check (outside the clock). */
typedef struct cell {
	int null;
	int64_t i;
	double d;
	char *s;
} cell;

typedef struct result {
	int ncols;
	long nrows, cap;
	cell *cells;
} result;

/* Room for row r->nrows. */
static void result_grow(result *r)
{
	if (r->nrows < r->cap)
		return;
	r->cap = r->cap ? r->cap * 2 : 64;
	r->cells = realloc(r->cells, sizeof *r->cells * (size_t)(r->cap * r->ncols));
	if (!r->cells)
		bench_die("out of memory");
}

static cell *result_cell(result *r, long row, int col) { return &r->cells[row * r->ncols + col]; }

static void result_free(result *r)
{
	for (long k = 0; k < r->nrows * r->ncols; k++)
		free(r->cells[k].s);
	free(r->cells);
	memset(r, 0, sizeof *r);
}

static void set_cell(cell *c, int null, int64_t i, double d, const char *s)
{
	c->null = null;
	c->i = i;
	c->d = d;
	c->s = s && !null ? strdup(s) : NULL;
}

/* ---- the two sides ---- */

typedef struct run_out {
	double t_run; /* until crm_report_run returned (compile, prepare, bind) */
	long rows;
	uint64_t touch; /* every value read, folded in */
} run_out;

/* libcrm: run, step to CRM_DONE reading every column with its accessor.
 * With `keep`, the values are kept for the equivalence check. */
static double crm_once(crm_db *db, const report_spec *s, run_out *o, result *keep)
{
	crm_report *rep = NULL;
	int kinds[MAX_COLS], ncol, rc;
	double t0 = bench_now();

	memset(o, 0, sizeof *o);
	crm_check(db, crm_report_run(&rep, db, s->name, s->params), s->name);
	o->t_run = bench_now() - t0;
	ncol = crm_report_column_count(rep);
	if (ncol <= 0 || ncol > MAX_COLS)
		bench_die("%s: %d columns", s->name, ncol);
	for (int i = 0; i < ncol; i++)
		kinds[i] = read_kind(crm_report_column_type(rep, i));
	if (keep)
		keep->ncols = ncol;
	while ((rc = crm_report_next(rep)) == CRM_ROW) {
		if (keep)
			result_grow(keep);
		for (int i = 0; i < ncol; i++) {
			int64_t iv = 0;
			double dv = 0;
			const char *t = NULL;

			if (kinds[i] == READ_INT) {
				iv = crm_report_int64(rep, i);
				o->touch += (uint64_t)iv;
			} else if (kinds[i] == READ_DOUBLE) {
				dv = crm_report_double(rep, i);
				o->touch += (uint64_t)(int64_t)dv;
			} else if ((t = crm_report_text(rep, i)) != NULL)
				o->touch += (unsigned char)t[0];
			if (keep)
				set_cell(result_cell(keep, keep->nrows, i), crm_report_is_null(rep, i), iv, dv, t);
		}
		if (keep)
			keep->nrows++;
		o->rows++;
	}
	if (rc != CRM_DONE)
		crm_check(db, rc, "crm_report_next");
	crm_report_free(rep);
	return bench_now() - t0;
}

/* Hand-written SQL: bind, step to SQLITE_DONE reading every column with
 * the accessor of the libcrm column in the same place, reset. */
static double raw_once(sqlite3 *db, sqlite3_stmt *st, const report_spec *s, const int *kinds, int ncol,
		       run_out *o, result *keep)
{
	int rc;
	double t0 = bench_now();

	memset(o, 0, sizeof *o);
	if (s->binds_since)
		sqlite3_bind_int64(st, 1, SINCE_MS);
	if (keep)
		keep->ncols = ncol;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (keep)
			result_grow(keep);
		for (int i = 0; i < ncol; i++) {
			int64_t iv = 0;
			double dv = 0;
			const char *t = NULL;

			if (kinds[i] == READ_INT) {
				iv = sqlite3_column_int64(st, i);
				o->touch += (uint64_t)iv;
			} else if (kinds[i] == READ_DOUBLE) {
				dv = sqlite3_column_double(st, i);
				o->touch += (uint64_t)(int64_t)dv;
			} else if ((t = (const char *)sqlite3_column_text(st, i)) != NULL)
				o->touch += (unsigned char)t[0];
			if (keep)
				set_cell(result_cell(keep, keep->nrows, i), sqlite3_column_type(st, i) == SQLITE_NULL, iv,
					 dv, t);
		}
		if (keep)
			keep->nrows++;
		o->rows++;
	}
	if (rc != SQLITE_DONE)
		bench_die("%s (sqlite): %s", s->name, sqlite3_errmsg(db));
	sqlite3_reset(st);
	return bench_now() - t0;
}

/* Both results must be the same table: same rows, same order, same values
 * (numbers computed in floating point within 1e-9 relative). */
static void check_same(const report_spec *s, const result *a, const result *b, const int *kinds)
{
	if (a->nrows != b->nrows || a->ncols != b->ncols)
		bench_die("%s: libcrm %ld rows x %d columns, sqlite %ld rows x %d columns", s->name, a->nrows, a->ncols,
			  b->nrows, b->ncols);
	for (long r = 0; r < a->nrows; r++)
		for (int i = 0; i < a->ncols; i++) {
			const cell *x = &a->cells[r * a->ncols + i], *y = &b->cells[r * b->ncols + i];
			int same = x->null == y->null;

			if (same && !x->null) {
				if (kinds[i] == READ_INT)
					same = x->i == y->i;
				else if (kinds[i] == READ_DOUBLE)
					same = fabs(x->d - y->d) <= 1e-9 * fmax(1.0, fabs(y->d));
				else
					same = strcmp(x->s, y->s) == 0;
			}
			if (!same)
				bench_die("%s: row %ld column %d differs: libcrm %s/%lld/%.17g, sqlite %s/%lld/%.17g", s->name,
					  r, i, x->null ? "null" : x->s ? x->s : "", (long long)x->i, x->d,
					  y->null ? "null" : y->s ? y->s : "", (long long)y->i, y->d);
		}
}

static void bench_one(crm_db *cdb, sqlite3 *rdb, const report_spec *s, long nrows, int reps)
{
	result lib = { 0 }, raw = { 0 };
	run_out oc, orw;
	int kinds[MAX_COLS], ncol;
	double t_first, t_first_open, t_prep, t_first_raw, best_crm = 1e30, best_raw = 1e30, best_open = 1e30, t;
	sqlite3_stmt *st;
	crm_report *rep = NULL;

	/* First run: libcrm compiles the report and prepares its statement. */
	t_first = crm_once(cdb, s, &oc, &lib);
	t_first_open = oc.t_run;
	t_prep = bench_now();
	st = sql_prepare(rdb, s->sql);
	t_prep = bench_now() - t_prep;
	crm_check(cdb, crm_report_run(&rep, cdb, s->name, s->params), s->name);
	ncol = crm_report_column_count(rep);
	for (int i = 0; i < ncol; i++)
		kinds[i] = read_kind(crm_report_column_type(rep, i));
	crm_report_free(rep);
	if (sqlite3_column_count(st) != ncol)
		bench_die("%s: libcrm has %d columns, the SQL %d", s->name, ncol, sqlite3_column_count(st));
	t_first_raw = raw_once(rdb, st, s, kinds, ncol, &orw, &raw);
	check_same(s, &lib, &raw, kinds);
	result_free(&lib);
	result_free(&raw);

	for (int r = 0; r < reps; r++) {
		t = crm_once(cdb, s, &oc, NULL);
		if (t < best_crm)
			best_crm = t;
		if (oc.t_run < best_open)
			best_open = oc.t_run;
		t = raw_once(rdb, st, s, kinds, ncol, &orw, NULL);
		if (t < best_raw)
			best_raw = t;
		if (oc.rows != orw.rows)
			bench_die("%s: libcrm returned %ld rows, sqlite %ld", s->name, oc.rows, orw.rows);
	}
	sqlite3_finalize(st);
	bench_note("report_%s: %ld result rows x %d columns; first run: libcrm %.1f ms (crm_report_run %.2f ms:"
		   " compile + prepare + bind), sqlite %.1f ms (+ %.2f ms prepare)",
		   s->name, oc.rows, ncol, t_first * 1e3, t_first_open * 1e3, t_first_raw * 1e3, t_prep * 1e3);
	bench_note("report_%s: best of %d: libcrm %.1f ms (crm_report_run %.3f ms), sqlite %.1f ms", s->name, reps,
		   best_crm * 1e3, best_open * 1e3, best_raw * 1e3);
	{
		char name[64];

		snprintf(name, sizeof name, "report_%s_libcrm", s->name);
		bench_rate(name, (double)nrows, best_crm);
		snprintf(name, sizeof name, "report_%s_sqlite", s->name);
		bench_rate(name, (double)nrows, best_raw);
		snprintf(name, sizeof name, "report_%s", s->name);
		bench_ratio(name, best_crm, best_raw);
	}
}

int main(int argc, char **argv)
{
	long nrows = bench_env_long("BENCH_ROWS", 1000000);
	int reps = (int)bench_env_long("BENCH_REPS", 5);
	char *dir = bench_tmpdir("bench-report"), *path = bench_path(dir, "crm.db");
	crm_db *cdb = NULL;
	sqlite3 *rdb = NULL;
	int64_t count = 0;
	double t0;

	(void)argc;
	(void)argv;
	bench_note("bench_report: %ld deals, %d customers, %d reps, libcrm %s, SQLite %s, in %s", nrows, NCUSTOMERS,
		   reps, crm_libversion(), sqlite3_libversion(), dir);
	crm_check(cdb, crm_open(&cdb, path, NULL), "crm_open");
	crm_check(cdb, crm_clock_set_fn(cdb, bench_clock, NULL), "crm_clock_set_fn");
	crm_check(cdb, crm_apply(cdb, METADATA), "crm_apply forms");
	for (size_t k = 0; k < COUNT(REPORTS); k++)
		crm_check(cdb, crm_apply(cdb, REPORTS[k].doc), REPORTS[k].name);

	t0 = bench_now();
	gen_customers(cdb);
	gen_deals(cdb, nrows);
	crm_check(cdb, crm_clock_set_fn(cdb, NULL, NULL), "crm_clock_set_fn");
	crm_check(cdb, crm_count(cdb, "deal", NULL, &count), "crm_count");
	if (count != nrows)
		bench_die("libcrm holds %lld deals, expected %ld", (long long)count, nrows);
	bench_note("generated %ld deals and %d customers through crm_batch in %.1f s (untimed)", nrows, NCUSTOMERS,
		   bench_now() - t0);

	if (sqlite3_open_v2(path, &rdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		bench_die("sqlite3_open %s: %s", path, rdb ? sqlite3_errmsg(rdb) : "?");

	for (size_t k = 0; k < COUNT(REPORTS); k++)
		bench_one(cdb, rdb, &REPORTS[k], nrows, reps);

	sqlite3_close(rdb);
	crm_close(cdb);
	if (!getenv("BENCH_KEEP"))
		bench_rmdir(dir);
	else
		bench_note("kept %s", dir);
	free(path);
	free(dir);
	return 0;
}
