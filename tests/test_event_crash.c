/* SIGKILL harness for event consumers: a writer process appends events in
 * transactions of 1 to 4 while reader processes, one after another, read
 * and acknowledge them through one consumer and are killed at random
 * points (CRM_EVENT_CRASH_ITERATIONS kills; default 200 on SQLite, 100 on
 * PostgreSQL, where each reader's connection costs more). Each reader
 * writes "D seq" for every event it was handed, with O_APPEND and fsync,
 * before it acknowledges, then "A seq"; after each kill the parent adds
 * "K it position" with the position the database kept. Readers' clocks
 * move on by two leases every second reader, so a lease left by a killed
 * reader has expired for the next pair and holds the other one back. At the
 * end a last reader drains the outbox, and the log shows that no event was
 * lost, none came out of order, and none came again once acknowledged.
 * Then three readers of one consumer at once beside two writers: each event
 * exactly once, in commit order. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "event/event.h"
#include "helpers.h"
#include "test.h"

#define CONSUMER "erp"
#define LEASE_MS 1000
#define BASE_MS INT64_C(1767323045000)

static unsigned next_random(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16) & 0x7fff;
}

static void pause_us(long us)
{
	struct timespec ts = { us / 1000000L, (us % 1000000L) * 1000L };

	nanosleep(&ts, NULL);
}

/* One line in one write(): a kill never leaves half a line. */
static void log_line(int fd, char kind, int64_t a, int64_t b, int sync)
{
	char line[64];
	int n = b >= 0 ? snprintf(line, sizeof line, "%c %lld %lld\n", kind, (long long)a, (long long)b)
		       : snprintf(line, sizeof line, "%c %lld\n", kind, (long long)a);

	if (write(fd, line, (size_t)n) != n || (sync && fsync(fd) != 0))
		_exit(5);
}

/* A writer: transactions of 1 to 4 events until `stop` is closed (or, with
 * stop < 0, until it wrote `most` events); each committed id goes to its
 * log. Never killed. */
static void writer(const char *path, const char *schema, const char *log_path, int stop, int most, unsigned seed)
{
	crm_db *db = test_open_shared(path, schema, 10000);
	int log = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0600), written = 0;

	if (log < 0)
		_exit(3);
	while (stop >= 0 ? !test_closed(stop, 0) : written < most) {
		int64_t ids[4];
		int k = 1 + (int)(next_random(&seed) % 4), rc;

		if ((rc = crm_begin(db)) == CRM_OK) {
			for (int i = 0; rc == CRM_OK && i < k; i++)
				rc = crm__event_emit(db, "tick", NULL, 0, 0, "{\"w\":1}", &ids[i]);
			rc = rc == CRM_OK ? crm_commit(db) : (crm_rollback(db), rc);
		}
		if (rc == CRM_OK)
			for (int i = 0; i < k; i++, written++)
				log_line(log, 'W', ids[i], -1, 0);
		else if (rc != CRM_EBUSY) {
			fprintf(stderr, "writer: %s\n", crm_errdetail(db));
			_exit(4);
		}
		pause_us((long)(next_random(&seed) % 1000));
	}
	crm_close(db);
	close(log);
	_exit(0);
}

/* A reader: read, log each event (fsync), acknowledge the last, log the
 * ack; now and then prune before the ack. `drain`: stop at the first empty read. */
static void reader(const char *path, const char *schema, const char *log_path, int ready, int64_t clock_ms,
		   unsigned seed, int drain)
{
	crm_db *db = test_open_shared(path, schema, 10000);
	int log = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	if (log < 0)
		_exit(3);
	crm_clock_set(db, clock_ms);
	close(ready);
	for (unsigned batch = 0;; batch++) {
		char *json = NULL;
		int64_t last = 0;
		int rc = crm_consumer_read(db, CONSUMER, 1 + (int)(next_random(&seed) % 20), &json);

		if (rc == CRM_EBUSY)
			continue;
		if (rc != CRM_OK) {
			fprintf(stderr, "reader: %s\n", crm_errdetail(db));
			_exit(4);
		}
		for (const char *p = json; (p = strstr(p, "{\"seq\":")); p += 7)
			log_line(log, 'D', last = strtoll(p + 7, NULL, 10), -1, 0);
		crm_free(json);
		if (!last) {
			if (drain)
				break;
			pause_us(1000);
			continue;
		}
		if (fsync(log) != 0)
			_exit(5);
		/* With events leased and not yet acknowledged: they must stay. */
		if (batch % 3 == 2 && crm_event_prune(db, 0, NULL) != CRM_OK && crm_errcode(db) != CRM_EBUSY)
			_exit(4);
		while ((rc = crm_consumer_ack(db, CONSUMER, last)) == CRM_EBUSY)
			;
		if (rc != CRM_OK) {
			fprintf(stderr, "reader: ack: %s\n", crm_errdetail(db));
			_exit(4);
		}
		log_line(log, 'A', last, -1, 1);
	}
	crm_close(db);
	_exit(0);
}

static int64_t position(const char *path, const char *schema)
{
	crm_db *db = test_open_shared(path, schema, 10000);
	char *json = NULL;
	const char *p;
	int64_t pos = -1;

	if (crm_consumer_get(db, CONSUMER, &json) == CRM_OK && (p = strstr(json, "\"position\":")))
		pos = strtoll(p + 11, NULL, 10);
	crm_free(json);
	crm_close(db);
	return pos;
}

/* Fork a reader and wait until it has opened the database. */
static pid_t start_reader(const char *path, const char *schema, const char *log_path, int64_t clock_ms, unsigned seed,
			  int drain)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		close(fds[0]);
		reader(path, schema, log_path, fds[1], clock_ms, seed, drain);
	}
	close(fds[1]);
	test_closed(fds[0], 1);
	close(fds[0]);
	return pid;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The committed ids, ascending (the writers' log). */
static int64_t *committed_ids(const char *log_path, size_t *n)
{
	FILE *f = fopen(log_path, "r");
	int64_t *v = NULL, id;
	size_t cap = 0;
	char kind;

	*n = 0;
	while (f && fscanf(f, " %c %" SCNd64, &kind, &id) == 2) {
		if (*n == cap && !(v = realloc(v, (cap = cap ? 2 * cap : 1024) * sizeof *v)))
			break;
		v[(*n)++] = id;
	}
	if (f)
		fclose(f);
	if (v)
		qsort(v, *n, sizeof *v, cmp_id);
	return v;
}

/* The first committed id above `seq` (INT64_MAX: none). */
static int64_t next_after(const int64_t *ids, size_t n, int64_t seq)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ids[mid] <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? ids[lo] : INT64_MAX;
}

/* Walk the readers' log against the committed ids. */
static void verify(const char *log_path, const int64_t *ids, size_t n, int64_t final_position)
{
	FILE *f = fopen(log_path, "r");
	unsigned char *seen = calloc(n ? (size_t)ids[n - 1] + 1 : 1, 1);
	int64_t pos = 0, expect = next_after(ids, n, 0), last_d = 0, a, b = 0;
	long deliveries = 0, again = 0, lines = 0;
	char line[96], kind;

	CHECK(f != NULL && seen != NULL);
	while (f && seen && fgets(line, sizeof line, f)) {
		int fields = sscanf(line, "%c %" SCNd64 " %" SCNd64, &kind, &a, &b);
		lines++;
		if (kind == 'D' && fields == 2) {
			/* never again once acknowledged; in order; nothing skipped */
			if (a <= pos || a != expect) {
				fprintf(stderr, "log line %ld: delivered %lld, position %lld, expected %lld\n", lines,
					(long long)a, (long long)pos, (long long)expect);
				test_failures_++;
				break;
			}
			expect = next_after(ids, n, a);
			last_d = a;
			deliveries++;
			again += seen[a] != 0;
			seen[a] = 1;
		} else if (kind == 'A' && fields == 2) {
			CHECK_INT(a, last_d);
			pos = a;
		} else if (kind == 'K' && fields == 3) {
			/* the position the database kept: never backwards, never beyond what was handed out */
			CHECK(b >= pos && b <= last_d);
			pos = b;
			expect = next_after(ids, n, b);
		} else {
			fprintf(stderr, "log line %ld is malformed: %s", lines, line);
			test_failures_++;
		}
	}
	CHECK_INT(final_position, n ? ids[n - 1] : 0);
	for (size_t i = 0; seen && i < n; i++)
		if (!seen[ids[i]]) {
			fprintf(stderr, "event %lld was never delivered\n", (long long)ids[i]);
			test_failures_++;
			break;
		}
	printf("# %zu events committed, %ld deliveries (%ld again after a kill)\n", n, deliveries, again);
	CHECK(n > 0 && again > 0);
	if (f)
		fclose(f);
	free(seen);
}

TEST(test_event_crash__sigkilled_readers_lose_nothing_reorder_nothing_repeat_only_unacknowledged)
{
	char dir[64], path[256] = "", schema[64] = "", log_path[300], wlog_path[300];
	const char *env = getenv("CRM_EVENT_CRASH_ITERATIONS");
	int iterations = env ? atoi(env) : test_pg_url() ? 100 : 200;
	unsigned seed = 20261203u;
	int stop[2], status = 0, log;
	pid_t wpid, pid;
	size_t n = 0;
	int64_t *ids;
	crm_db *db;

	test_temp_db(dir, path, sizeof path);
	if (test_pg_url())
		test_pg_schema(schema, sizeof schema);
	snprintf(log_path, sizeof log_path, "%s/readers.log", dir);
	snprintf(wlog_path, sizeof wlog_path, "%s/writer.log", dir);
	db = test_open_shared(path, schema, 10000);
	CHECK_OK(db, crm_consumer_set(db, CONSUMER, "{\"lease_ms\": 1000}"));
	crm_close(db);
	if ((log = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0600)) < 0 || pipe(stop) != 0) {
		CHECK(!"log or pipe");
		return;
	}
	if ((wpid = fork()) == 0) {
		close(stop[1]);
		writer(path, schema, wlog_path, stop[0], 0, seed);
	}
	close(stop[0]);
	for (int it = 0; it < iterations; it++) {
		/* two readers a clock: the second may find the first one's lease */
		int64_t clock_ms = BASE_MS + (int64_t)(it / 2) * 2 * LEASE_MS;

		pid = start_reader(path, schema, log_path, clock_ms, seed + (unsigned)it * 7919u, 0);
		CHECK(pid > 0);
		pause_us((long)(next_random(&seed) % 15000) * (test_pg_url() ? 4 : 1));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status)); /* killed, not failed */
		log_line(log, 'K', it, position(path, schema), 1);
	}
	close(stop[1]);
	waitpid(wpid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the last reader, past every lease, runs to the end */
	pid = start_reader(path, schema, log_path, BASE_MS + (int64_t)(iterations + 2) * 2 * LEASE_MS, seed, 1);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	log_line(log, 'K', iterations, position(path, schema), 1);
	close(log);
	ids = committed_ids(wlog_path, &n);
	verify(log_path, ids, n, position(path, schema));
	free(ids);
	unlink(log_path);
	unlink(wlog_path);
	test_remove_db(dir, path);
}

/* Has the consumer read everything (its position is the newest event)? */
static int caught_up(crm_db *db)
{
	char *state = NULL;
	const char *pos, *head;
	int yes;

	yes = crm_consumer_get(db, CONSUMER, &state) == CRM_OK && (pos = strstr(state, "\"position\":")) &&
	      (head = strstr(state, "\"head\":")) && strtoll(pos + 11, NULL, 10) == strtoll(head + 7, NULL, 10);
	crm_free(state);
	return yes;
}

/* One of several readers reading at once, until the writers have stopped
 * (`writers_done` closed) and everything is read. */
static void busy_reader(const char *path, const char *schema, const char *log_path, int writers_done, unsigned seed)
{
	crm_db *db = test_open_shared(path, schema, 10000);
	int log = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0600), finished = 0;

	if (log < 0)
		_exit(3);
	crm_clock_set(db, BASE_MS); /* one clock for all: a lease never expires */
	for (;;) {
		char *json = NULL;
		int64_t last = 0;
		int rc = crm_consumer_read(db, CONSUMER, 1 + (int)(next_random(&seed) % 20), &json);

		if (rc == CRM_EBUSY)
			continue;
		if (rc != CRM_OK)
			_exit(4);
		for (const char *p = json; (p = strstr(p, "{\"seq\":")); p += 7)
			log_line(log, 'D', last = strtoll(p + 7, NULL, 10), -1, 0);
		crm_free(json);
		if (last) {
			while ((rc = crm_consumer_ack(db, CONSUMER, last)) == CRM_EBUSY)
				;
			if (rc != CRM_OK)
				_exit(4);
			continue;
		}
		/* Nothing: another reader holds the lease, or all is read. */
		if (!finished)
			finished = test_closed(writers_done, 0);
		if (finished && caught_up(db))
			break;
		pause_us(500);
	}
	crm_close(db);
	_exit(0);
}

/* Three readers of one consumer at once beside two writers whose
 * transactions overlap: every event is handed out exactly once (a lease
 * holds the others back), in commit order, none skipped. */
TEST(test_event_crash__readers_of_one_consumer_at_once_get_each_event_once_in_order)
{
	char dir[64], path[256] = "", schema[64] = "", log_path[300], wlog_path[300];
	unsigned seed = 777u;
	pid_t writers[2], readers[3];
	int done[2], status = 0;
	size_t n = 0;
	int64_t *ids;
	crm_db *db;

	test_temp_db(dir, path, sizeof path);
	if (test_pg_url())
		test_pg_schema(schema, sizeof schema);
	snprintf(log_path, sizeof log_path, "%s/readers.log", dir);
	snprintf(wlog_path, sizeof wlog_path, "%s/writer.log", dir);
	db = test_open_shared(path, schema, 10000);
	CHECK_OK(db, crm_consumer_set(db, CONSUMER, "{\"lease_ms\": 3600000}"));
	crm_close(db);
	if (pipe(done) != 0) {
		CHECK(!"pipe");
		return;
	}
	for (int i = 0; i < 3; i++)
		if ((readers[i] = fork()) == 0) {
			close(done[1]);
			busy_reader(path, schema, log_path, done[0], seed + (unsigned)i);
		}
	close(done[0]);
	for (int i = 0; i < 2; i++)
		if ((writers[i] = fork()) == 0)
			writer(path, schema, wlog_path, -1, 600, seed * 3 + (unsigned)i);
	for (int i = 0; i < 2; i++) {
		waitpid(writers[i], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(done[1]);
	alarm(120);
	for (int i = 0; i < 3; i++) {
		waitpid(readers[i], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	alarm(0);
	ids = committed_ids(wlog_path, &n);
	{
		FILE *f = fopen(log_path, "r");
		int64_t seq, expect = next_after(ids, n, 0);
		char kind;
		size_t got = 0;

		while (f && fscanf(f, " %c %" SCNd64, &kind, &seq) == 2) {
			if (seq != expect) {
				fprintf(stderr, "delivered %lld, expected %lld\n", (long long)seq, (long long)expect);
				test_failures_++;
				break;
			}
			expect = next_after(ids, n, seq);
			got++;
		}
		if (f)
			fclose(f);
		CHECK_INT(got, n);
		CHECK(n >= 1200);
	}
	free(ids);
	unlink(log_path);
	unlink(wlog_path);
	test_remove_db(dir, path);
}

TEST_LIST(T(test_event_crash__sigkilled_readers_lose_nothing_reorder_nothing_repeat_only_unacknowledged),
	  T(test_event_crash__readers_of_one_consumer_at_once_get_each_event_once_in_order))
