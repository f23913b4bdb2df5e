/* Event-delivery benchmark: BENCH_EVENTS (default 1,000,000) events in the
 * outbox, read and acknowledged by a consumer in batches of BENCH_BATCH
 * (default 1000) through crm_consumer_read_rows/crm_consumer_ack (the JSON
 * read, crm_consumer_read, is timed too and printed as a note) — against a raw
 * keyset scan of the same table with sqlite3 (SELECT ... WHERE id > ? ORDER
 * BY id LIMIT ?, every column of every row read), on the same database file
 * in the same process. The events are written with sqlite3 beforehand (the
 * outbox's own columns; what appended them does not matter here). */
#include "bench.h"

#include <crm.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void exec_or_die(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		bench_die("sqlite: %s: %s", sql, err);
}

/* libcrm makes the tables; the events go in with sqlite3. */
static void fill(const char *path, long n)
{
	static const char *const types[] = { "deal_won", "lead_assigned", "sla_breach", "invoice_issued" };
	crm_db *cdb = NULL;
	sqlite3 *db;
	sqlite3_stmt *ins;
	char payload[128];

	if (crm_open(&cdb, path, NULL) != CRM_OK)
		bench_die("crm_open: %s", crm_errmsg(cdb));
	crm_close(cdb);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		bench_die("open %s", path);
	exec_or_die(db, "BEGIN");
	if (sqlite3_prepare_v2(db, "INSERT INTO crm_event(at, type, form, record, actor, payload, instance)"
				   " VALUES(?, ?, 'deal', ?, 'alice', ?, ?)", -1, &ins, NULL) != SQLITE_OK)
		bench_die("prepare: %s", sqlite3_errmsg(db));
	for (long i = 0; i < n; i++) {
		snprintf(payload, sizeof payload, "{\"workflow\":\"deal_flow\",\"state\":\"open\",\"data\":{\"amount\":%ld}}",
			 1000 + i % 9000);
		sqlite3_bind_int64(ins, 1, INT64_C(1767323045000) + i * 1000);
		sqlite3_bind_text(ins, 2, types[i % 4], -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, 1 + i % 50000);
		sqlite3_bind_text(ins, 4, payload, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 5, 1 + i % 50000);
		if (sqlite3_step(ins) != SQLITE_DONE)
			bench_die("insert: %s", sqlite3_errmsg(db));
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	exec_or_die(db, "COMMIT");
	sqlite3_close(db);
}

/* The seq of the last event of a JSON read (0: none). */
static int64_t last_seq(const char *json)
{
	size_t n = strlen(json);

	while (n >= 7 && memcmp(json + n - 7, "{\"seq\":", 7) != 0)
		n--;
	return n >= 7 ? strtoll(json + n, NULL, 10) : 0;
}

static crm_db *open_consumer(const char *path, const char *consumer)
{
	crm_db *db = NULL;

	if (crm_open(&db, path, NULL) != CRM_OK || crm_consumer_set(db, consumer, NULL) != CRM_OK)
		bench_die("libcrm setup: %s", crm_errmsg(db));
	return db;
}

/* Acknowledge a read up to `last`: 0 when it read nothing (the outbox is done). */
static int acked(crm_db *db, const char *consumer, int64_t last)
{
	if (last && crm_consumer_ack(db, consumer, last) != CRM_OK)
		bench_die("ack: %s", crm_errmsg(db));
	return last != 0;
}

/* The seconds since t0; the handle closed. */
static double finish(crm_db *db, double t0)
{
	t0 = bench_now() - t0;
	crm_close(db);
	return t0;
}

/* The measured read: crm_consumer_read_rows, every column of every event
 * read as the raw scan reads it (integers and the time as integers, texts
 * with their lengths). noinline (both sides): callgrind then counts each
 * side's instructions apart. */
__attribute__((noinline)) static double run_libcrm(const char *path, const char *consumer, int batch, long *events)
{
	crm_db *db = open_consumer(path, consumer);
	uint64_t touch = 0;
	double t0 = bench_now();

	*events = 0;
	for (;;) {
		crm_event_cursor *cur = NULL;
		crm_row *row;
		int64_t last = 0;

		if (crm_consumer_read_rows(&cur, db, consumer, batch) != CRM_OK)
			bench_die("read: %s", crm_errmsg(db));
		row = crm_event_cursor_row(cur);
		while (crm_event_cursor_next(cur) == CRM_ROW) {
			last = crm_row_int64(row, 0);
			touch += (uint64_t)crm_row_int64(row, 1) + (uint64_t)crm_row_int64(row, 4) +
				 (uint64_t)crm_row_int64(row, 5);
			for (int c = 2; c < 8; c++)
				if (c != 4 && c != 5 && crm_row_text(row, c))
					touch += crm_row_bytes(row, c);
			++*events;
		}
		crm_event_cursor_free(cur);
		if (!acked(db, consumer, last))
			break;
	}
	t0 = finish(db, t0);
	if (touch == 0)
		bench_die("libcrm: read nothing");
	return t0;
}

/* The JSON read (crm_consumer_read), for information: events counted in its text. */
__attribute__((noinline)) static double run_json(const char *path, const char *consumer, int batch, long *events)
{
	crm_db *db = open_consumer(path, consumer);
	double t0 = bench_now();
	int64_t last;

	*events = 0;
	for (;;) {
		char *json = NULL;

		if (crm_consumer_read(db, consumer, batch, &json) != CRM_OK)
			bench_die("read: %s", crm_errmsg(db));
		last = last_seq(json);
		for (const char *p = json; (p = strstr(p, "{\"seq\":")); p += 7)
			++*events;
		crm_free(json);
		if (!acked(db, consumer, last))
			break;
	}
	return finish(db, t0);
}

__attribute__((noinline)) static double run_raw(const char *path, int batch, long *events)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t after = 0;
	uint64_t touch = 0;
	double t0;
	int rows;

	*events = 0;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		bench_die("open %s", path);
	if (sqlite3_prepare_v3(db, "SELECT id, at, type, form, record, instance, actor, payload FROM crm_event"
				   " WHERE id > ? ORDER BY id LIMIT ?", -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		bench_die("prepare: %s", sqlite3_errmsg(db));
	t0 = bench_now();
	do {
		rows = 0;
		sqlite3_bind_int64(st, 1, after);
		sqlite3_bind_int(st, 2, batch);
		while (sqlite3_step(st) == SQLITE_ROW) {
			after = sqlite3_column_int64(st, 0);
			touch += (uint64_t)sqlite3_column_int64(st, 1) + (uint64_t)sqlite3_column_int64(st, 4) +
				 (uint64_t)sqlite3_column_int64(st, 5);
			for (int c = 2; c < 8; c++)
				if (c != 4 && c != 5 && sqlite3_column_text(st, c))
					touch += (uint64_t)sqlite3_column_bytes(st, c);
			rows++;
		}
		sqlite3_reset(st);
		*events += rows;
	} while (rows > 0);
	t0 = bench_now() - t0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (touch == 0)
		bench_die("raw: read nothing");
	return t0;
}

int main(void)
{
	long n = bench_env_long("BENCH_EVENTS", 1000000), reps = bench_env_long("BENCH_REPS", 3), got_lib, got_raw,
	     got_json;
	int batch = (int)bench_env_long("BENCH_BATCH", 1000);
	char *dir = bench_tmpdir("crm-bench-event");
	char *path = bench_path(dir, "events.db");
	double lib = 0, raw = 0, json = 0;

	bench_note("bench_event: %ld events read and acknowledged in batches of %d, libcrm %s, SQLite %s", n, batch,
		   crm_libversion(), sqlite3_libversion());
	fill(path, n);
	/* Interleaved, best of `reps` each; every libcrm run is a new consumer,
	 * so each one reads the whole outbox. */
	for (long r = 0; r < reps; r++) {
		char name[32];
		double t;

		t = run_raw(path, batch, &got_raw);
		raw = r == 0 || t < raw ? t : raw;
		snprintf(name, sizeof name, "bench_%ld", r);
		t = run_libcrm(path, name, batch, &got_lib);
		lib = r == 0 || t < lib ? t : lib;
		snprintf(name, sizeof name, "bench_json_%ld", r);
		t = run_json(path, name, batch, &got_json);
		json = r == 0 || t < json ? t : json;
		if (got_lib != n || got_raw != n || got_json != n)
			bench_die("read %ld events as rows, %ld as JSON and %ld raw, not %ld", got_lib, got_json, got_raw, n);
	}
	bench_note("event_read: libcrm rows %.3f s, raw %.3f s (best of %ld)", lib, raw, reps);
	bench_rate("event_read_libcrm", (double)n, lib);
	bench_rate("event_read_raw", (double)n, raw);
	bench_ratio("event_read", lib, raw);
	/* The JSON read, for information only (not a ratio bench/run gathers). */
	bench_note("event_read_json %.3f (crm_consumer_read %.3f s over the same raw scan)", json / raw, json);
	if (!getenv("BENCH_KEEP"))
		bench_rmdir(dir);
	free(path);
	free(dir);
	return 0;
}
