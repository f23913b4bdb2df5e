/* Workflow benchmark: instances taken through 5 transitions, each with a Lua
 * guard and a field-setting action, through crm_workflow_fire — against the
 * same state changes written by hand: per transition one transaction that
 * reads the instance and the record, calls the same Lua guard directly,
 * updates the record and the instance and appends a history row. */
#include "gen.h"

#include <crm.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ids never reused, as in libcrm's tables (lib/store/ddl.c, lib/workflow/catalog.c). */
static const char RAW_SCHEMA[] =
	"CREATE TABLE deal(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, score INTEGER, step INTEGER,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, owner TEXT, version INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE inst(id INTEGER PRIMARY KEY AUTOINCREMENT, record INTEGER, state TEXT, entered_at INTEGER);"
	"CREATE UNIQUE INDEX inst_record ON inst(record);"
	"CREATE TABLE history(id INTEGER PRIMARY KEY AUTOINCREMENT, instance INTEGER, at INTEGER, event TEXT, from_state TEXT,"
	" to_state TEXT);"
	"CREATE INDEX history_instance ON history(instance, id);";

static void exec_or_die(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		bench_die("sqlite: %s: %s", sql, err);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		bench_die("prepare %s: %s", sql, sqlite3_errmsg(db));
	return st;
}

static double run_libcrm(const char *path, long n)
{
	crm_db *db = NULL;
	double t0, t1;

	if (crm_open(&db, path, NULL) || crm_apply(db, bench_wf_metadata) || bench_wf_load(db, n))
		bench_die("libcrm setup: %s", crm_errmsg(db));
	t0 = bench_now();
	for (int step = 0; step < BENCH_WF_STEPS; step++)
		for (long id = 1; id <= n; id++)
			if (crm_workflow_fire(db, "deal", id, "advance", NULL))
				bench_die("fire %ld: %s", id, crm_errmsg(db));
	t1 = bench_now();
	crm_close(db);
	return t1 - t0;
}

static double run_raw(const char *path, long n)
{
	const char *const *states = bench_wf_states;
	sqlite3 *db;
	sqlite3_stmt *ins, *read_inst, *read_rec, *up_rec, *up_inst, *hist, *begin, *commit;
	bench_guard guard;
	double t0, t1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		bench_die("open %s", path);
	exec_or_die(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
	exec_or_die(db, RAW_SCHEMA);
	bench_guard_open(&guard);
	exec_or_die(db, "BEGIN");
	ins = prepare(db, "INSERT INTO deal(name, score, step, created_at, updated_at) VALUES(?, ?, 0, 1, 1)");
	{
		sqlite3_stmt *inst = prepare(db, "INSERT INTO inst(record, state, entered_at) VALUES(?, 's0', 1)");
		char name[32];
		for (long i = 0; i < n; i++) {
			snprintf(name, sizeof name, "deal %ld", i);
			sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(ins, 2, 10 + i % 90);
			sqlite3_step(ins);
			sqlite3_reset(ins);
			sqlite3_bind_int64(inst, 1, i + 1);
			sqlite3_step(inst);
			sqlite3_reset(inst);
		}
		sqlite3_finalize(inst);
	}
	exec_or_die(db, "COMMIT");
	begin = prepare(db, "BEGIN IMMEDIATE");
	commit = prepare(db, "COMMIT");
	read_inst = prepare(db, bench_wf_sql_read_inst);
	read_rec = prepare(db, bench_wf_sql_read_rec);
	up_rec = prepare(db, bench_wf_sql_up_rec);
	up_inst = prepare(db, bench_wf_sql_up_inst);
	hist = prepare(db, bench_wf_sql_hist);
	t0 = bench_now();
	for (int step = 0; step < BENCH_WF_STEPS; step++)
		for (long id = 1; id <= n; id++) {
			int64_t instance;
			int ok;

			sqlite3_step(begin);
			sqlite3_reset(begin);
			sqlite3_bind_int64(read_inst, 1, id);
			if (sqlite3_step(read_inst) != SQLITE_ROW)
				bench_die("raw: no instance");
			instance = sqlite3_column_int64(read_inst, 0);
			if (strcmp((const char *)sqlite3_column_text(read_inst, 1), states[step]) != 0)
				bench_die("raw: wrong state");
			sqlite3_reset(read_inst);
			sqlite3_bind_int64(read_rec, 1, id);
			if (sqlite3_step(read_rec) != SQLITE_ROW)
				bench_die("raw: no record");
			ok = bench_guard_call(&guard, (const char *)sqlite3_column_text(read_rec, 0),
					      sqlite3_column_int64(read_rec, 1), sqlite3_column_int64(read_rec, 2));
			sqlite3_reset(read_rec);
			if (!ok)
				bench_die("raw: guard refused");
			sqlite3_bind_int(up_rec, 1, step + 1);
			sqlite3_bind_int64(up_rec, 2, 2);
			sqlite3_bind_int64(up_rec, 3, id);
			sqlite3_step(up_rec);
			sqlite3_reset(up_rec);
			sqlite3_bind_text(up_inst, 1, states[step + 1], -1, SQLITE_STATIC);
			sqlite3_bind_int64(up_inst, 2, 2);
			sqlite3_bind_int64(up_inst, 3, instance);
			sqlite3_step(up_inst);
			sqlite3_reset(up_inst);
			sqlite3_bind_int64(hist, 1, instance);
			sqlite3_bind_int64(hist, 2, 2);
			sqlite3_bind_text(hist, 3, "advance", -1, SQLITE_STATIC);
			sqlite3_bind_text(hist, 4, states[step], -1, SQLITE_STATIC);
			sqlite3_bind_text(hist, 5, states[step + 1], -1, SQLITE_STATIC);
			sqlite3_step(hist);
			sqlite3_reset(hist);
			if (sqlite3_step(commit) != SQLITE_DONE)
				bench_die("raw: commit");
			sqlite3_reset(commit);
		}
	t1 = bench_now();
	sqlite3_finalize(ins);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_finalize(read_inst);
	sqlite3_finalize(read_rec);
	sqlite3_finalize(up_rec);
	sqlite3_finalize(up_inst);
	sqlite3_finalize(hist);
	sqlite3_close(db);
	bench_guard_close(&guard);
	return t1 - t0;
}

int main(void)
{
	long n = bench_env_long("BENCH_INSTANCES", 100000);
	char *dir = bench_tmpdir("crm-bench-workflow");
	char *a = bench_path(dir, "libcrm.db"), *b = bench_path(dir, "raw.db");
	double lib, raw;

	bench_note("bench_workflow: %ld instances x %d transitions, libcrm %s, SQLite %s", n, BENCH_WF_STEPS, crm_libversion(),
		   sqlite3_libversion());
	raw = run_raw(b, n);
	lib = run_libcrm(a, n);
	bench_note("workflow_transition: libcrm %.3f s, raw %.3f s", lib, raw);
	bench_rate("workflow_transition_libcrm", (double)n * BENCH_WF_STEPS, lib);
	bench_rate("workflow_transition_raw", (double)n * BENCH_WF_STEPS, raw);
	bench_ratio("workflow_transition", lib, raw);
	if (!getenv("BENCH_KEEP"))
		bench_rmdir(dir);
	free(a);
	free(b);
	free(dir);
	return 0;
}
