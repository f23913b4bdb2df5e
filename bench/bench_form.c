/* Form-engine benchmark: libcrm against hand-written SQLite doing the same
 * work in the same process — batch inserts of lead records (JSON in, with
 * validation) vs prepared inserts of the same C values, a filtered sorted
 * query through the cursor vs the same SQL, point gets returning JSON vs
 * point reads, the filtered query as a rep whose row rule picks the region
 * vs the same SQL — plus the peak RSS of streaming every row of the form,
 * and the batch inserts again with the audit trail on (insert_batch_audited;
 * and against SQLite writing the same rows, insert_batch_audited_same_rows),
 * and a CSV file of the same rows through crm_import_file vs raw SQLite
 * inserting the same rows, already parsed (import_csv). */
#include "gen.h"

#include <crm.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The reference table: the same shape libcrm gives a form (lib/store/ddl.c:
 * id never reused, one typed column per field — decimals as scaled
 * integers, dates as "YYYY-MM-DD" text — then the system columns) and the
 * same indexes. */
static const char RAW_SCHEMA[] =
	"CREATE TABLE lead(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, phone TEXT, email TEXT, region TEXT,"
	" score INTEGER, budget INTEGER, source TEXT, city TEXT, created_on TEXT, notes TEXT,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, owner TEXT,"
	" version INTEGER NOT NULL DEFAULT 1);"
	"CREATE UNIQUE INDEX lead_phone ON lead(phone);"
	"CREATE INDEX lead_region ON lead(region);";

/* ---- error helpers ---- */

static void sql_check(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		bench_die("%s: %s", what, sqlite3_errmsg(db));
}

static void sql_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		bench_die("%s: %s", sql, err ? err : "?");
}

static sqlite3_stmt *sql_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	sql_check(db, sqlite3_prepare_v2(db, sql, -1, &st, NULL), sql);
	return st;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- insert_batch ---- */

static void raw_bind_row(sqlite3_stmt *st, int64_t now, const bench_lead *r)
{
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, r->name, r->name_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->phone, 11, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->email, r->email_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, bench_lead_regions[r->region], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, r->score);
	sqlite3_bind_int64(st, 7, r->budget_cents);
	sqlite3_bind_text(st, 8, bench_lead_sources[r->source], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->city, r->city_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, r->date, 10, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, r->notes, r->notes_len, SQLITE_STATIC);
}

/* What the audit trail and the outbox add to each record, as SQLite alone
 * would write them: the entry (libcrm's columns and index, the row's values
 * as its compact data under one "fields" entry, no prev, a fixed 32-byte
 * hash: no encoding, no hashing) and the event naming it. */
static const char RAW_SAME_ROWS_SCHEMA[] =
	"CREATE TABLE crm_audit(id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, at INTEGER NOT NULL,"
	" actor TEXT, op TEXT NOT NULL, form TEXT, record INTEGER, version INTEGER, data TEXT NOT NULL,"
	" prev BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE INDEX crm_audit_record ON crm_audit(form, record, id);"
	"CREATE TABLE crm_event(id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL,"
	" form TEXT, record INTEGER, actor TEXT, payload TEXT DEFAULT '{}', instance INTEGER, audit INTEGER);";

/* A reference side: its database and statements (entry and event NULL:
 * the records alone), and its time; with an entry, the chunk's rows as
 * the values of compact entries (made outside the clock). */
typedef struct raw_side {
	sqlite3 *db;
	sqlite3_stmt *ins, *entry, *event;
	int64_t seq;
	double t;
	char (*values)[512];
	int *values_len;
} raw_side;

/* Row `r` as an audit entry's compact data: its values in field order. */
static int lead_values(const bench_lead *r, char *out, size_t n)
{
	return snprintf(out, n, "[\"%s\",\"%s\",\"%s\",\"%s\",%lld,%lld.%02lld,\"%s\",\"%s\",\"%s\",\"%s\"]", r->name, r->phone,
			r->email, bench_lead_regions[r->region], (long long)r->score, (long long)(r->budget_cents / 100),
			(long long)(r->budget_cents % 100), bench_lead_sources[r->source], r->city, r->date, r->notes);
}

static void raw_step(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		sql_check(db, rc, what);
	sqlite3_reset(st);
}

/* The side's inserts of rows[0..n): the seconds they took. */
static double raw_insert_rows(raw_side *r, int64_t now, const bench_lead *rows, long n)
{
	static const unsigned char hash[32] = { 1 };
	double t0 = bench_now();

	for (long k = 0; k < n; k++) {
		raw_bind_row(r->ins, now, &rows[k]);
		raw_step(r->db, r->ins, "raw insert");
		if (!r->entry)
			continue;
		sqlite3_bind_int64(r->entry, 1, ++r->seq);
		sqlite3_bind_int64(r->entry, 2, now);
		sqlite3_bind_int64(r->entry, 3, sqlite3_last_insert_rowid(r->db));
		sqlite3_bind_text(r->entry, 4, r->values[k], r->values_len[k], SQLITE_STATIC);
		sqlite3_bind_blob(r->entry, 5, hash, 32, SQLITE_STATIC);
		raw_step(r->db, r->entry, "raw entry");
		sqlite3_bind_int64(r->event, 1, now);
		sqlite3_bind_int64(r->event, 2, r->seq);
		sqlite3_bind_int64(r->event, 3, sqlite3_last_insert_rowid(r->db));
		raw_step(r->db, r->event, "raw event");
	}
	return bench_now() - t0;
}

/* libcrm and the reference sides (sides[0]: the records alone; sides[1],
 * when nsides is 2: the same rows as the audit trail and the outbox) insert
 * `nrows` rows in one transaction each. Rows are made in chunks outside the
 * clock; each chunk goes to libcrm, then to each side, so all see the same
 * machine conditions. `name` is the ratio printed (against sides[0]). */
static void bench_insert(crm_db *cdb, raw_side *sides, int nsides, long nrows, const char *name)
{
	char rate[64];
	bench_lead *rows = malloc(sizeof *rows * BENCH_LEAD_CHUNK);
	bench_rng rng;
	crm_batch *batch = NULL;
	double t_crm = 0, t0;
	int64_t now = wall_ms();
	long done = 0;
	int rc;

	if (!rows)
		bench_die("out of memory");
	/* Both sides stamp created_at/updated_at with the same instant, so the
	 * two tables hold identical rows and query results can be compared. */
	bench_crm_check(cdb, crm_clock_set(cdb, now), "crm_clock_set");
	bench_rng_seed(&rng, BENCH_LEAD_SEED);

	t0 = bench_now();
	bench_crm_check(cdb, crm_batch_begin(&batch, cdb, "lead"), "crm_batch_begin");
	t_crm += bench_now() - t0;
	for (int i = 0; i < nsides; i++) {
		sides[i].ins = sql_prepare(sides[i].db, bench_lead_sql_insert);
		t0 = bench_now();
		sql_exec(sides[i].db, "BEGIN");
		sides[i].t = bench_now() - t0;
	}

	while (done < nrows) {
		long n = nrows - done < BENCH_LEAD_CHUNK ? nrows - done : BENCH_LEAD_CHUNK, k;

		for (k = 0; k < n; k++)
			bench_lead_gen(&rng, (uint64_t)(done + k), &rows[k]);
		for (int i = 0; i < nsides; i++)
			for (k = 0; sides[i].values && k < n; k++)
				sides[i].values_len[k] = lead_values(&rows[k], sides[i].values[k], sizeof sides[i].values[k]);

		t0 = bench_now();
		for (k = 0; k < n; k++) {
			rc = crm_batch_add(batch, rows[k].json, rows[k].json_len, NULL);
			if (rc != CRM_OK)
				bench_die("crm_batch_add row %ld: %s %s\n  %s", done + k, crm_errstr(rc),
					  crm_errmsg(cdb), rows[k].json);
		}
		t_crm += bench_now() - t0;

		for (int i = 0; i < nsides; i++)
			sides[i].t += raw_insert_rows(&sides[i], now, rows, n);
		done += n;
	}

	t0 = bench_now();
	bench_crm_check(cdb, crm_batch_commit(batch), "crm_batch_commit");
	crm_batch_free(batch);
	t_crm += bench_now() - t0;
	for (int i = 0; i < nsides; i++) {
		t0 = bench_now();
		sql_exec(sides[i].db, "COMMIT");
		sides[i].t += bench_now() - t0;
		sqlite3_finalize(sides[i].ins);
	}
	free(rows);
	bench_note("%s: %ld rows, libcrm %.3f s, sqlite %.3f s", name, nrows, t_crm, sides[0].t);
	snprintf(rate, sizeof rate, "%s_libcrm", name);
	bench_rate(rate, (double)nrows, t_crm);
	snprintf(rate, sizeof rate, "%s_sqlite", name);
	bench_rate(rate, (double)nrows, sides[0].t);
	bench_ratio(name, t_crm, sides[0].t);
	if (nsides < 2)
		return;
	/* What SQLite alone takes for the rows the trail and the outbox add:
	 * the floor under `name`, and libcrm against it. */
	bench_note("%s: sqlite writing the record, its entry and its event %.3f s (%.3f the records alone)", name,
		   sides[1].t, sides[1].t / sides[0].t);
	snprintf(rate, sizeof rate, "%s_same_rows", name);
	bench_ratio(rate, t_crm, sides[1].t);
}

/* ---- query_filter ---- */

static double raw_query_once(sqlite3 *db, sqlite3_stmt *st, bench_qsum *s)
{
	int i, rc;
	double t0 = bench_now();

	memset(s, 0, sizeof *s);
	sqlite3_bind_text(st, 1, "north", 5, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, BENCH_LEAD_QUERY_MIN_SCORE);
	sqlite3_bind_int64(st, 3, BENCH_LEAD_QUERY_LIMIT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < BENCH_LEAD_NCOLS; i++) {
			if (bench_lead_text_column[i]) {
				const unsigned char *t = sqlite3_column_text(st, i);

				if (t)
					s->touch += t[0];
			} else {
				s->touch += (uint64_t)sqlite3_column_int64(st, i);
			}
		}
		s->score_sum += sqlite3_column_int64(st, 5);
		s->rows++;
	}
	sql_check(db, rc, "raw query");
	sqlite3_reset(st);
	return bench_now() - t0;
}

/* `query_json` through libcrm against the hand-written query_filter SQL:
 * `name` is the ratio's name. */
static void bench_query(crm_db *cdb, sqlite3 *rdb, int reps, const char *name, const char *query_json)
{
	sqlite3_stmt *st = sql_prepare(rdb, bench_lead_sql_query);
	double best_crm = 1e30, best_raw = 1e30, t;
	bench_qsum sc, sr;
	char rate[64];
	int r;

	for (r = 0; r < reps; r++) {
		bench_crm_check(cdb, bench_lead_crm_query_json(cdb, query_json, &sc, &t), "crm_query");
		if (t < best_crm)
			best_crm = t;
		t = raw_query_once(rdb, st, &sr);
		if (t < best_raw)
			best_raw = t;
	}
	sqlite3_finalize(st);
	if (sc.rows != sr.rows || sc.score_sum != sr.score_sum || sc.touch != sr.touch)
		bench_note("WARNING %s results differ: libcrm %ld rows (score sum %lld, checksum %llu),"
			   " sqlite %ld rows (score sum %lld, checksum %llu)",
			   name, sc.rows, (long long)sc.score_sum, (unsigned long long)sc.touch, sr.rows,
			   (long long)sr.score_sum, (unsigned long long)sr.touch);
	else
		bench_note("%s: both sides read identical values (checksum %llu)", name, (unsigned long long)sr.touch);
	bench_note("%s: %ld rows, best of %d: libcrm %.2f ms, sqlite %.2f ms", name, sr.rows, reps, best_crm * 1e3,
		   best_raw * 1e3);
	snprintf(rate, sizeof rate, "%s_libcrm", name);
	bench_rate(rate, (double)sc.rows, best_crm);
	snprintf(rate, sizeof rate, "%s_sqlite", name);
	bench_rate(rate, (double)sr.rows, best_raw);
	bench_ratio(name, best_crm, best_raw);
}

/* query_filter_rls: a rep whose row rule is "region = the rep's region"
 * asks for the rest of query_filter; the reference is the same hand-written
 * SQL (region north bound), as a host enforcing the rule itself would write. */
static void bench_query_rls(crm_db *cdb, sqlite3 *rdb, int reps)
{
	char form[2048];
	size_t n = strlen(bench_lead_form);

	/* the lead form with the rep's rule: a metadata-only change */
	snprintf(form, sizeof form, "%.*s,%s}", (int)(n - 1), bench_lead_form, bench_lead_rls_permissions);
	bench_crm_check(cdb, crm_apply(cdb, form), "crm_apply lead with permissions");
	bench_crm_check(cdb, crm_actor_set_json(cdb, bench_lead_rls_actor), "crm_actor_set_json");
	bench_query(cdb, rdb, reps, "query_filter_rls", bench_lead_rls_query);
	bench_crm_check(cdb, crm_actor_set_json(cdb, NULL), "crm_actor_set_json");
}

/* ---- get_by_id ---- */

static double raw_gets_once(sqlite3 *db, sqlite3_stmt *st, const int64_t *ids, long n, uint64_t *touch)
{
	double t0 = bench_now();
	long k;
	int i, rc;

	for (k = 0; k < n; k++) {
		sqlite3_bind_int64(st, 1, ids[k]);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			bench_die("raw get %lld: %s", (long long)ids[k], sqlite3_errmsg(db));
		for (i = 0; i < BENCH_LEAD_NCOLS; i++) {
			if (bench_lead_text_column[i]) {
				const unsigned char *t = sqlite3_column_text(st, i);

				if (t)
					*touch += t[0];
			} else {
				*touch += (uint64_t)sqlite3_column_int64(st, i);
			}
		}
		sqlite3_reset(st);
	}
	return bench_now() - t0;
}

static void bench_get(crm_db *cdb, sqlite3 *rdb, long nrows, long ngets, int reps)
{
	int64_t *ids = malloc(sizeof *ids * (size_t)ngets);
	sqlite3_stmt *st = sql_prepare(rdb, bench_lead_sql_get);
	double best_crm = 1e30, best_raw = 1e30, t;
	uint64_t touch = 0;
	bench_rng rng;
	long k;
	int r;

	if (!ids)
		bench_die("out of memory");
	bench_rng_seed(&rng, BENCH_LEAD_SEED ^ 0x676574ULL);
	for (k = 0; k < ngets; k++)
		ids[k] = 1 + (int64_t)bench_rng_below(&rng, (uint64_t)nrows);
	for (r = 0; r < reps; r++) {
		bench_crm_check(cdb, bench_lead_crm_gets(cdb, ids, ngets, &touch, &t), "crm_record_get");
		if (t < best_crm)
			best_crm = t;
		t = raw_gets_once(rdb, st, ids, ngets, &touch);
		if (t < best_raw)
			best_raw = t;
	}
	sqlite3_finalize(st);
	free(ids);
	bench_note("get_by_id: %ld gets, best of %d: libcrm %.3f s, sqlite %.3f s (touch %llu)", ngets, reps,
		   best_crm, best_raw, (unsigned long long)(touch & 0xff));
	bench_rate("get_by_id_libcrm", (double)ngets, best_crm);
	bench_rate("get_by_id_sqlite", (double)ngets, best_raw);
	bench_ratio("get_by_id", best_crm, best_raw);
}

/* ---- streaming RSS: a fresh process (exec), so its peak is its own ---- */

static int stream_child(const char *path)
{
	crm_db *db = NULL;
	crm_cursor *cur = NULL;
	long hwm0, hwm1, rows = 0;
	uint64_t bytes = 0;
	double t0;
	int rc;

	hwm0 = bench_peak_rss_kb();
	bench_crm_check(db, crm_open(&db, path, NULL), "crm_open (stream)");
	t0 = bench_now();
	bench_crm_check(db, crm_query(&cur, db, "lead", NULL), "crm_query (stream)");
	while ((rc = crm_cursor_next(cur)) == CRM_ROW) {
		const char *json = crm_cursor_json(cur);

		if (!json)
			bench_die("crm_cursor_json returned NULL at row %ld", rows);
		bytes += strlen(json);
		rows++;
	}
	if (rc != CRM_DONE)
		bench_crm_check(db, rc, "crm_cursor_next (stream)");
	t0 = bench_now() - t0;
	crm_cursor_free(cur);
	hwm1 = bench_peak_rss_kb();
	crm_close(db);
	bench_note("query_stream: %ld rows, %.1f MB of JSON in %.3f s; VmHWM %ld KB before, %ld KB after",
		   rows, (double)bytes / 1e6, t0, hwm0, hwm1);
	bench_rate("query_stream_libcrm", (double)rows, t0);
	bench_rss("query_stream_1m", hwm1);
	return 0;
}

static void bench_stream(const char *argv0, const char *path)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bench_die("fork failed");
	if (pid == 0) {
		execl("/proc/self/exe", argv0, "--stream", path, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("streaming child failed (status %d)", status);
}

/* ---- main ---- */

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		bench_die("sqlite3_open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
	sql_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
	sql_exec(db, RAW_SCHEMA);
	return db;
}

/* insert_batch again with the audit trail on (an entry, hashed and
 * chained, per record), on new databases, against raw SQLite inserting the
 * records alone. */
static void bench_insert_audited(const char *dir, long nrows)
{
	char *crm_path = bench_path(dir, "libcrm-audited.db"), *raw_path = bench_path(dir, "sqlite-audited.db"),
	     *same_path = bench_path(dir, "sqlite-same-rows.db");
	crm_db *cdb = NULL;
	raw_side sides[2] = { { .db = raw_open(raw_path) }, { .db = raw_open(same_path) } };
	char *verify = NULL;

	bench_crm_check(cdb, crm_open(&cdb, crm_path, NULL), "crm_open");
	bench_crm_check(cdb, crm_apply(cdb, bench_lead_form_audited), "crm_apply lead (audited)");
	sql_exec(sides[1].db, RAW_SAME_ROWS_SCHEMA);
	/* libcrm's rows: the names once, then compact entries without prev */
	sql_exec(sides[1].db, "INSERT INTO crm_audit(seq, at, op, form, data, prev, hash) VALUES(1, 0, 'fields', 'lead',"
			      " '[\"name\",\"phone\",\"email\",\"region\",\"score\",\"budget\",\"source\",\"city\",\"created_on\","
			      "\"notes\",\"owner\"]', X'', zeroblob(32))");
	sides[1].seq = 1;
	sides[1].values = malloc(sizeof *sides[1].values * BENCH_LEAD_CHUNK);
	sides[1].values_len = malloc(sizeof *sides[1].values_len * BENCH_LEAD_CHUNK);
	if (!sides[1].values || !sides[1].values_len)
		bench_die("out of memory");
	sides[1].entry = sql_prepare(sides[1].db, "INSERT INTO crm_audit(seq, at, op, form, record, version, data, prev, hash)"
						   " VALUES(?, ?, 'insert', 'lead', ?, 1, ?, X'', ?)");
	sides[1].event = sql_prepare(sides[1].db, "INSERT INTO crm_event(at, type, form, record, payload, audit)"
						   " VALUES(?, 'crm.create', 'lead', ?, NULL, ?)");
	bench_insert(cdb, sides, 2, nrows, "insert_batch_audited");
	/* the chain it wrote is whole (outside the clock) */
	bench_crm_check(cdb, crm_audit_verify(cdb, &verify), "crm_audit_verify");
	if (strncmp(verify, "{\"ok\":true", 10) != 0)
		bench_die("the audit chain does not verify: %.200s", verify);
	crm_free(verify);
	for (int i = 0; i < 2; i++) {
		sqlite3_finalize(sides[i].entry);
		sqlite3_finalize(sides[i].event);
		sqlite3_close(sides[i].db);
		free(sides[i].values);
		free(sides[i].values_len);
	}
	crm_close(cdb);
	free(crm_path);
	free(raw_path);
	free(same_path);
}

/* ---- import_csv ---- */

/* A CSV cell, quoted (notes and names may hold anything a CSV must quote). */
static void csv_cell(FILE *f, const char *s, int len, char sep)
{
	fputc('"', f);
	for (int i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
	fputc(sep, f);
}

/* Rows first..first+n-1 of the lead rows as the CSV file a spreadsheet
 * would write, with its header (untimed). */
static void write_lead_csv(const char *path, bench_rng *rng, long first, long n)
{
	FILE *f = fopen(path, "wb");
	bench_lead r;

	if (!f)
		bench_die("cannot write %s", path);
	fputs("name,phone,email,region,score,budget,source,city,created_on,notes\r\n", f);
	for (long i = first; i < first + n; i++) {
		bench_lead_gen(rng, (uint64_t)i, &r);
		csv_cell(f, r.name, r.name_len, ',');
		fprintf(f, "%s,", r.phone);
		csv_cell(f, r.email, r.email_len, ',');
		fprintf(f, "%s,%lld,%lld.%02lld,%s,", bench_lead_regions[r.region], (long long)r.score,
			(long long)(r.budget_cents / 100), (long long)(r.budget_cents % 100), bench_lead_sources[r.source]);
		csv_cell(f, r.city, r.city_len, ',');
		fprintf(f, "%s,", r.date);
		csv_cell(f, r.notes, r.notes_len, '\r');
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		bench_die("cannot write %s", path);
}

/* Pieces the CSV is cut into, each imported in turn with the same rows'
 * raw inserts right after it, so both sides see the same machine
 * conditions (as insert_batch interleaves its chunks). */
#define IMPORT_PIECES 10

/* import_csv: CSV files through crm_import_file (read, decoded, parsed by
 * libcsv, converted, validated, inserted), all inside one transaction
 * (crm_begin .. crm_commit), against raw SQLite inserting the same rows
 * from C values with a prepared statement in one transaction, with the
 * same indexes; both on new databases. */
static void bench_import_csv(const char *dir, long nrows)
{
	char *csv = bench_path(dir, "leads.csv"), *crm_path = bench_path(dir, "libcrm-import.db"),
	     *raw_path = bench_path(dir, "sqlite-import.db"), *out = NULL;
	long piece = (nrows + IMPORT_PIECES - 1) / IMPORT_PIECES, done = 0;
	bench_lead *rows = malloc(sizeof *rows * BENCH_LEAD_CHUNK);
	crm_db *cdb = NULL;
	raw_side raw = { 0 };
	bench_rng csv_rng, raw_rng;
	double t_crm = 0, t0;
	int64_t now = wall_ms(), count = 0;

	if (!rows)
		bench_die("out of memory");
	bench_crm_check(cdb, crm_open(&cdb, crm_path, NULL), "crm_open");
	bench_crm_check(cdb, crm_apply(cdb, bench_lead_form), "crm_apply lead");
	raw.db = raw_open(raw_path);
	raw.ins = sql_prepare(raw.db, bench_lead_sql_insert);
	bench_rng_seed(&csv_rng, BENCH_LEAD_SEED);
	bench_rng_seed(&raw_rng, BENCH_LEAD_SEED);
	t0 = bench_now();
	bench_crm_check(cdb, crm_begin(cdb), "crm_begin");
	t_crm += bench_now() - t0;
	t0 = bench_now();
	sql_exec(raw.db, "BEGIN");
	raw.t += bench_now() - t0;
	while (done < nrows) {
		long n = nrows - done < piece ? nrows - done : piece;

		write_lead_csv(csv, &csv_rng, done, n);
		t0 = bench_now();
		bench_crm_check(cdb, crm_import_file(cdb, "lead", csv, NULL, &out), "crm_import_file");
		t_crm += bench_now() - t0;
		crm_free(out);
		out = NULL;
		for (long at = 0; at < n;) {
			long k, m = n - at < BENCH_LEAD_CHUNK ? n - at : BENCH_LEAD_CHUNK;
			for (k = 0; k < m; k++)
				bench_lead_gen(&raw_rng, (uint64_t)(done + at + k), &rows[k]);
			raw.t += raw_insert_rows(&raw, now, rows, m);
			at += m;
		}
		done += n;
	}
	t0 = bench_now();
	bench_crm_check(cdb, crm_commit(cdb), "crm_commit");
	t_crm += bench_now() - t0;
	t0 = bench_now();
	sql_exec(raw.db, "COMMIT");
	raw.t += bench_now() - t0;
	bench_crm_check(cdb, crm_count(cdb, "lead", NULL, &count), "crm_count");
	if (count != nrows)
		bench_die("the import left %lld rows, expected %ld", (long long)count, nrows);
	crm_close(cdb);
	sqlite3_finalize(raw.ins);
	sqlite3_close(raw.db);

	bench_note("import_csv: %ld rows, libcrm %.3f s (files to committed rows), sqlite %.3f s (inserts of parsed rows)",
		   nrows, t_crm, raw.t);
	bench_rate("import_csv_libcrm", (double)nrows, t_crm);
	bench_ratio("import_csv", t_crm, raw.t);
	free(rows);
	free(csv);
	free(crm_path);
	free(raw_path);
}

int main(int argc, char **argv)
{
	long nrows = bench_env_long("BENCH_ROWS", 1000000);
	long ngets = bench_env_long("BENCH_GETS", 100000);
	int reps = (int)bench_env_long("BENCH_REPS", 3);
	char *dir, *crm_path, *raw_path;
	crm_db *cdb = NULL;
	sqlite3 *rdb;
	int64_t count = 0;

	if (argc == 3 && strcmp(argv[1], "--stream") == 0)
		return stream_child(argv[2]);
	/* `bench_form import_csv` or `bench_form insert_batch_audited`: that
	 * ratio alone (for profiling one part) */
	if (argc == 2 && (strcmp(argv[1], "import_csv") == 0 || strcmp(argv[1], "insert_batch_audited") == 0)) {
		dir = bench_tmpdir("bench-alone");
		if (strcmp(argv[1], "import_csv") == 0)
			bench_import_csv(dir, nrows);
		else
			bench_insert_audited(dir, nrows);
		if (!getenv("BENCH_KEEP"))
			bench_rmdir(dir);
		else
			bench_note("kept %s", dir);
		free(dir);
		return 0;
	}

	dir = bench_tmpdir("bench-form");
	crm_path = bench_path(dir, "libcrm.db");
	raw_path = bench_path(dir, "sqlite.db");
	bench_note("bench_form: %ld rows, %ld gets, %d reps, libcrm %s, SQLite %s, in %s", nrows, ngets, reps,
		   crm_libversion(), sqlite3_libversion(), dir);

	bench_crm_check(cdb, crm_open(&cdb, crm_path, NULL), "crm_open");
	bench_crm_check(cdb, crm_apply(cdb, bench_lead_form), "crm_apply lead");
	rdb = raw_open(raw_path);

	bench_insert(cdb, &(raw_side){ .db = rdb }, 1, nrows, "insert_batch");
	bench_crm_check(cdb, crm_count(cdb, "lead", NULL, &count), "crm_count");
	if (count != nrows)
		bench_die("libcrm holds %lld rows, expected %ld", (long long)count, nrows);

	bench_query(cdb, rdb, reps, "query_filter", bench_lead_query);
	bench_get(cdb, rdb, nrows, ngets, reps);
	bench_query_rls(cdb, rdb, reps);

	sqlite3_close(rdb);
	crm_close(cdb);
	bench_stream(argv[0], crm_path);
	bench_insert_audited(dir, nrows);
	bench_import_csv(dir, nrows);

	if (!getenv("BENCH_KEEP"))
		bench_rmdir(dir);
	else
		bench_note("kept %s", dir);
	free(crm_path);
	free(raw_path);
	free(dir);
	return 0;
}
