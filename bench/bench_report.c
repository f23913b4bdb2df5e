/* Report-engine benchmark: five representative reports over generated deals
 * (BENCH_ROWS, default 1,000,000, each referring to one of 10,000
 * customers) run through crm_report_run/crm_report_next, every column of
 * every row read, against the same questions asked in hand-written SQL,
 * prepared once and stepped through sqlite3 on the same database file in
 * the same process. The two sides run interleaved; each keeps its best of
 * BENCH_REPS runs (steady state: libcrm's report compilation and statement
 * preparation happen once, on its first run, reported as a note). */
#include "gen.h"

#include <crm.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3_stmt *sql_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		bench_die("prepare %s: %s", sql, sqlite3_errmsg(db));
	return st;
}

/* ---- the reference side ---- */

/* Hand-written SQL: bind, step to SQLITE_DONE reading every column with
 * the accessor of the libcrm column in the same place, reset. */
static double raw_once(sqlite3 *db, sqlite3_stmt *st, const bench_report_spec *s, const int *kinds, int ncol,
		       bench_report_out *o, bench_result *keep)
{
	int rc;
	double t0 = bench_now();

	memset(o, 0, sizeof *o);
	if (s->binds_since)
		sqlite3_bind_int64(st, 1, BENCH_SINCE_MS);
	if (keep)
		keep->ncols = ncol;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (keep)
			bench_result_grow(keep);
		for (int i = 0; i < ncol; i++) {
			int64_t iv = 0;
			double dv = 0;
			const char *t = NULL;

			if (kinds[i] == BENCH_READ_INT) {
				iv = sqlite3_column_int64(st, i);
				o->touch += (uint64_t)iv;
			} else if (kinds[i] == BENCH_READ_DOUBLE) {
				dv = sqlite3_column_double(st, i);
				o->touch += (uint64_t)(int64_t)dv;
			} else if ((t = (const char *)sqlite3_column_text(st, i)) != NULL)
				o->touch += (unsigned char)t[0];
			if (keep)
				bench_cell_set(bench_result_cell(keep, keep->nrows, i),
					       sqlite3_column_type(st, i) == SQLITE_NULL, iv, dv, t);
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

static void bench_one(crm_db *cdb, sqlite3 *rdb, const bench_report_spec *s, long nrows, int reps)
{
	bench_result lib = { 0 }, raw = { 0 };
	bench_report_out oc, orw;
	int kinds[BENCH_REPORT_MAX_COLS], ncol;
	double t_first, t_first_open, t_prep, t_first_raw, best_crm = 1e30, best_raw = 1e30, best_open = 1e30, t;
	sqlite3_stmt *st;

	/* First run: libcrm compiles the report and prepares its statement. */
	bench_crm_check(cdb, bench_report_crm_once(cdb, s, &oc, &lib), s->name);
	t_first = oc.t_all;
	t_first_open = oc.t_run;
	t_prep = bench_now();
	st = sql_prepare(rdb, s->sql);
	t_prep = bench_now() - t_prep;
	bench_crm_check(cdb, bench_report_kinds(cdb, s, kinds, &ncol), s->name);
	if (sqlite3_column_count(st) != ncol)
		bench_die("%s: libcrm has %d columns, the SQL %d", s->name, ncol, sqlite3_column_count(st));
	t_first_raw = raw_once(rdb, st, s, kinds, ncol, &orw, &raw);
	{
		char why[512];

		if (bench_result_differs(&lib, &raw, kinds, "sqlite", why, sizeof why))
			bench_die("%s: %s", s->name, why);
	}
	bench_result_free(&lib);
	bench_result_free(&raw);

	for (int r = 0; r < reps; r++) {
		bench_crm_check(cdb, bench_report_crm_once(cdb, s, &oc, NULL), s->name);
		if (oc.t_all < best_crm)
			best_crm = oc.t_all;
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
	bench_note("bench_report: %ld deals, %d customers, %d reps, libcrm %s, SQLite %s, in %s", nrows, BENCH_NCUSTOMERS,
		   reps, crm_libversion(), sqlite3_libversion(), dir);
	bench_crm_check(cdb, crm_open(&cdb, path, NULL), "crm_open");
	bench_crm_check(cdb, crm_apply(cdb, bench_deal_metadata), "crm_apply forms");
	for (int k = 0; k < bench_nreports; k++)
		bench_crm_check(cdb, crm_apply(cdb, bench_reports[k].doc), bench_reports[k].name);

	t0 = bench_now();
	bench_crm_check(cdb, bench_deals_generate(cdb, nrows), "generating deals");
	bench_crm_check(cdb, crm_count(cdb, "deal", NULL, &count), "crm_count");
	if (count != nrows)
		bench_die("libcrm holds %lld deals, expected %ld", (long long)count, nrows);
	bench_note("generated %ld deals and %d customers through crm_batch in %.1f s (untimed)", nrows, BENCH_NCUSTOMERS,
		   bench_now() - t0);

	if (sqlite3_open_v2(path, &rdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		bench_die("sqlite3_open %s: %s", path, rdb ? sqlite3_errmsg(rdb) : "?");

	for (int k = 0; k < bench_nreports; k++)
		bench_one(cdb, rdb, &bench_reports[k], nrows, reps);

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
