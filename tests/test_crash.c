/* SIGKILL harness: a forked writer runs batches, workflow fires, timer ticks
 * and migrations on one database file and reports each acknowledged commit
 * through a pipe; the parent kills it at a random moment, then checks that
 * the file is intact, every acknowledged commit is there and nothing is
 * half-applied, and lets the next writer carry on from what survived.
 * CRM_CRASH_ITERATIONS sets the number of kills (default 200). With
 * CRM_TEST_PG the database is one schema there: the server rolls back what
 * the killed client left open, and the same checks hold (the file's own
 * integrity checks are SQLite's). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

#define BATCH_ROWS 20
#define BASE_MS INT64_C(1767323045000)
#define HOUR_MS INT64_C(3600000)

static const char metadata[] =
	"[{\"form\":\"account\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"tag\",\"type\":\"integer\"}]},"
	"{\"form\":\"ticket\",\"fields\":[{\"name\":\"title\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"account\",\"type\":\"ref\",\"form\":\"account\"},"
	"{\"name\":\"priority\",\"type\":\"enum\",\"options\":[\"low\",\"high\"]}]},"
	"{\"workflow\":\"ticket_flow\",\"form\":\"ticket\",\"start_on\":\"create\",\"initial\":\"open\","
	"\"states\":{\"open\":{\"timers\":[{\"after\":\"1h\",\"event\":\"breach\"}]},"
	"\"working\":{},\"escalated\":{},\"closed\":{\"final\":true}},"
	"\"transitions\":[{\"from\":\"open\",\"event\":\"take\",\"to\":\"working\","
	"\"actions\":[{\"set\":{\"priority\":\"high\"}}]},"
	"{\"from\":\"open\",\"event\":\"breach\",\"to\":\"escalated\",\"actions\":[{\"emit\":\"escalated\"}]},"
	"{\"from\":\"working\",\"event\":\"close\",\"to\":\"closed\"}]}]";

/* What the writer acknowledged, as the parent reads it from the pipe. */
struct acks {
	int64_t batch_tags[4096];
	size_t n_batches;
	int64_t tickets[4096];
	size_t n_tickets;
	int64_t taken[4096];
	size_t n_taken;
	int64_t migration; /* highest acknowledged migration number, 0 for none */
	size_t n_ticks;
};

static unsigned next_random(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16) & 0x7fff;
}

static void ack(FILE *out, const char *kind, int64_t value)
{
	fprintf(out, "%s %" PRId64 "\n", kind, value);
	fflush(out);
}

/* Migration k gives account the fields x<k-4>..x<k>: each one adds a field
 * and, from the sixth on, drops an (empty) one, in its own transaction. */
#define MIGRATION_WINDOW 5

static int apply_migration(crm_db *db, int64_t k)
{
	char doc[1024];
	size_t len = (size_t)snprintf(doc, sizeof doc, "{\"form\":\"account\",\"fields\":["
					"{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
					"{\"name\":\"tag\",\"type\":\"integer\"}");

	for (int64_t i = k - MIGRATION_WINDOW + 1; i <= k; i++)
		if (i >= 1)
			len += (size_t)snprintf(doc + len, sizeof doc - len,
						",{\"name\":\"x%" PRId64 "\",\"type\":\"text\"}", i);
	snprintf(doc + len, sizeof doc - len, "]}");
	return crm_apply(db, doc);
}

/* The database: the file `path`, or on PostgreSQL the schema `path`. */
static int open_db(crm_db **db, const char *path)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;

	if (!test_pg_url())
		return crm_open(db, path, NULL);
	o.schema = path;
	return crm_open(db, test_pg_url(), &o);
}

/* How many columns of `table` are named x<n> (migrated fields). */
static int64_t x_columns(crm_db *db, const char *table)
{
	const char *cols = test_columns_of(db, table);
	int64_t n = 0;

	for (const char *c = cols; *c; c = strchr(c, ',') ? strchr(c, ',') + 1 : c + strlen(c))
		n += *c == 'x';
	return n;
}

/* The child: carry on from the state the database is in, forever. */
static void writer(const char *path, int fd, unsigned seed)
{
	FILE *out = fdopen(fd, "w");
	crm_db *db = NULL;
	int64_t tag, migration, clock_ms;

	char *existing = NULL;

	if (!out || open_db(&db, path) != CRM_OK)
		_exit(3);
	/* Define once: re-applying the first definition would undo migrations. */
	if (crm_form_get(db, "account", &existing) != CRM_OK && crm_apply(db, metadata) != CRM_OK)
		_exit(3);
	crm_free(existing);
	tag = test_sql_int(db, "SELECT coalesce(max(tag), 0) FROM account") + 1;
	migration = test_sql_int(db, "SELECT max(version) - 1 FROM crm_meta WHERE kind = 'form' AND name = 'account'");
	clock_ms = BASE_MS + test_sql_int(db, "SELECT count(*) FROM crm_wf_history") * 60000;
	for (;;) {
		unsigned op = next_random(&seed) % 16;
		int rc = CRM_OK;

		clock_ms += 60000;
		crm_clock_set(db, clock_ms);
		if (op < 5) { /* a batch of accounts sharing one tag */
			crm_batch *b = NULL;
			char row[128];

			rc = crm_batch_begin(&b, db, "account");
			for (int i = 0; rc == CRM_OK && i < BATCH_ROWS; i++) {
				snprintf(row, sizeof row, "{\"name\":\"a%d\",\"tag\":%" PRId64 "}", i, tag);
				rc = crm_batch_add(b, row, -1, NULL);
			}
			if (rc == CRM_OK)
				rc = crm_batch_commit(b);
			crm_batch_free(b);
			if (rc == CRM_OK)
				ack(out, "batch", tag++);
		} else if (op < 10) { /* a ticket, which starts its workflow and timer */
			int64_t id = 0;
			char rec[128];

			snprintf(rec, sizeof rec, "{\"title\":\"t\",\"priority\":\"low\",\"account\":%" PRId64 "}",
				 test_sql_int(db, "SELECT coalesce(max(id), 0) FROM account"));
			if (strstr(rec, "\"account\":0}"))
				snprintf(rec, sizeof rec, "{\"title\":\"t\",\"priority\":\"low\"}");
			rc = crm_record_insert(db, "ticket", rec, &id);
			if (rc == CRM_OK)
				ack(out, "ticket", id);
		} else if (op < 13) { /* take the oldest open ticket */
			int64_t id = test_sql_int(db, "SELECT coalesce(min(record), 0) FROM crm_wf_instance"
						      " WHERE state = 'open' AND status = 'active'");

			if (id > 0 && (rc = crm_workflow_fire(db, "ticket", id, "take", NULL)) == CRM_OK)
				ack(out, "take", id);
		} else if (op < 15) { /* a tick two hours on: breaches fire */
			int64_t fired = 0;

			clock_ms += 2 * HOUR_MS;
			rc = crm_tick(db, clock_ms, &fired);
			if (rc == CRM_OK)
				ack(out, "tick", fired);
		} else {
			if ((rc = apply_migration(db, migration + 1)) == CRM_OK)
				ack(out, "migration", ++migration);
		}
		if (rc != CRM_OK && rc != CRM_EBUSY) {
			fprintf(stderr, "writer: op %u failed: %s\n", op, crm_errdetail(db));
			_exit(4);
		}
	}
}

static void read_acks(FILE *in, struct acks *a)
{
	char kind[32];
	int64_t v;

	while (fscanf(in, "%31s %" SCNd64, kind, &v) == 2) {
		if (!strcmp(kind, "batch") && a->n_batches < 4096)
			a->batch_tags[a->n_batches++] = v;
		else if (!strcmp(kind, "ticket") && a->n_tickets < 4096)
			a->tickets[a->n_tickets++] = v;
		else if (!strcmp(kind, "take") && a->n_taken < 4096)
			a->taken[a->n_taken++] = v;
		else if (!strcmp(kind, "migration"))
			a->migration = v;
		else if (!strcmp(kind, "tick"))
			a->n_ticks++;
	}
}

static int64_t sqlf(crm_db *db, const char *fmt, int64_t v)
{
	char sql[512];

	snprintf(sql, sizeof sql, fmt, v);
	return test_sql_int(db, sql);
}

static int64_t escalations; /* in the last verified database */

/* Everything the writer acknowledged is there; nothing is half there. */
static int verify(const char *path, const struct acks *a, int64_t migration_floor)
{
	crm_db *db = NULL;
	int before = test_failures_;
	char *form = NULL;
	char want[32];
	int64_t id = 0, version;

	if (open_db(&db, path) != CRM_OK) {
		fprintf(stderr, "verify: cannot open: %s\n", crm_errmsg(db));
		crm_close(db);
		test_failures_++;
		return 0;
	}
	if (test_on_sqlite(db))
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'"), 0);
	if (crm_form_get(db, "account", &form) == CRM_ENOTFOUND) {
		/* Killed before its first apply committed: nothing may be acknowledged. */
		CHECK_INT(a->n_batches + a->n_tickets + a->n_taken + a->n_ticks + (size_t)a->migration, 0);
		crm_close(db);
		return test_failures_ == before;
	}
	crm_free(form);
	form = NULL;
	if (test_on_sqlite(db))
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	for (size_t i = 0; i < a->n_batches; i++)
		CHECK_INT(sqlf(db, "SELECT count(*) FROM account WHERE tag = %" PRId64, a->batch_tags[i]), BATCH_ROWS);
	/* A batch is all or nothing, acknowledged or not. */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM (SELECT tag FROM account GROUP BY tag"
				   " HAVING count(*) != " "20" ") AS t"), 0);
	for (size_t i = 0; i < a->n_tickets; i++)
		CHECK_INT(sqlf(db, "SELECT count(*) FROM ticket WHERE id = %" PRId64, a->tickets[i]), 1);
	/* Every ticket got its instance in the insert's transaction. */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM ticket t WHERE NOT EXISTS (SELECT 1 FROM crm_wf_instance i"
				   " WHERE i.form = 'ticket' AND i.record = t.id)"), 0);
	for (size_t i = 0; i < a->n_taken; i++) {
		CHECK_INT(sqlf(db, "SELECT count(*) FROM crm_wf_instance WHERE record = %" PRId64
				   " AND state = 'working'", a->taken[i]), 1);
		CHECK_INT(sqlf(db, "SELECT count(*) FROM ticket WHERE id = %" PRId64 " AND priority = 'high'",
			       a->taken[i]), 1);
	}
	/* A transition is whole: the state is the last history row's target,
	 * a taken ticket has its action's change, open instances keep a timer
	 * and others have none, and each breach emitted its event. */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance i WHERE state IS DISTINCT FROM (SELECT to_state FROM"
				   " crm_wf_history h WHERE h.instance = i.id ORDER BY h.id DESC LIMIT 1)"), 0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance i JOIN ticket t ON t.id = i.record"
				   " WHERE (i.state = 'working') != (t.priority = 'high')"), 0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance i WHERE CASE WHEN i.state = 'open' THEN 1 ELSE 0 END !="
				   " (SELECT count(*) FROM crm_wf_timer m WHERE m.instance = i.id)"), 0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE state = 'escalated'"),
		  test_sql_int(db, "SELECT count(*) FROM crm_event WHERE type = 'escalated'"));
	/* Migrations: none acknowledged is lost, and the table has exactly the
	 * latest definition's columns. */
	version = test_sql_int(db, "SELECT max(version) - 1 FROM crm_meta WHERE kind = 'form' AND name = 'account'");
	CHECK(version >= migration_floor);
	if (version > 0) {
		snprintf(want, sizeof want, "\"x%" PRId64 "\"", version);
		CHECK_OK(db, crm_form_get(db, "account", &form));
		CHECK_HAS(form, want);
		crm_free(form);
		snprintf(want, sizeof want, "x%" PRId64, version);
		CHECK_INT(test_column_exists(db, "account", want), 1);
	}
	CHECK_INT(x_columns(db, "account"), version < MIGRATION_WINDOW ? version : MIGRATION_WINDOW);
	escalations = test_sql_int(db, "SELECT count(*) FROM crm_event WHERE type = 'escalated'");
	/* And the database takes writes. */
	CHECK_OK(db, crm_record_insert(db, "account", "{\"name\":\"after-kill\"}", &id));
	CHECK_OK(db, crm_record_delete(db, "account", id, 0));
	crm_close(db);
	return test_failures_ == before;
}

TEST(test_crash__sigkill_loses_no_acknowledged_commit_and_leaves_nothing_half_applied)
{
	char dir[] = "/tmp/crm-crash-XXXXXX";
	char path[256];
	const char *env = getenv("CRM_CRASH_ITERATIONS");
	int iterations = env ? atoi(env) : 200;
	unsigned seed = 20261203u;
	int64_t migration_floor = 0;
	size_t batches = 0, tickets = 0, taken = 0, ticks = 0, intact = 0, killed = 0;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	if (test_pg_url())
		test_pg_schema(path, sizeof path);
	else
		snprintf(path, sizeof path, "%s/crash.db", dir);
	for (int it = 0; it < iterations; it++) {
		struct acks *a = calloc(1, sizeof *a);
		int fds[2];
		pid_t pid;
		int status = 0;
		FILE *in;
		struct timespec pause;

		if (!a || pipe(fds) != 0) {
			CHECK(!"pipe");
			free(a);
			break;
		}
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			writer(path, fds[1], seed + (unsigned)it * 7919u);
		}
		close(fds[1]);
		/* 5 to 80 ms: from inside the open and first apply to deep in the
		 * loop; eight times that on PostgreSQL, where each commit is a
		 * round trip to the server. */
		pause.tv_nsec = (long)(5 + next_random(&seed) % 76) * 1000000L * (test_pg_url() ? 8 : 1);
		pause.tv_sec = pause.tv_nsec / 1000000000L;
		pause.tv_nsec %= 1000000000L;
		nanosleep(&pause, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			killed++;
		else
			fprintf(stderr, "iteration %d: writer ended by itself (status %d)\n", it, status);
		in = fdopen(fds[0], "r");
		read_acks(in, a);
		fclose(in);
		if (a->migration > migration_floor)
			migration_floor = a->migration;
		if (verify(path, a, migration_floor))
			intact++;
		batches += a->n_batches;
		tickets += a->n_tickets;
		taken += a->n_taken;
		ticks += a->n_ticks;
		free(a);
	}
	CHECK_INT(killed, iterations);
	CHECK_INT(intact, iterations);
	printf("crash: %d kills, %zu intact; acknowledged %zu batches, %zu tickets, %zu takes, %zu ticks,"
	       " %" PRId64 " migrations; %" PRId64 " escalations in the end\n",
	       iterations, intact, batches, tickets, taken, ticks, migration_floor, escalations);
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	CHECK_INT(system(path), 0);
}

TEST_LIST(T(test_crash__sigkill_loses_no_acknowledged_commit_and_leaves_nothing_half_applied))
