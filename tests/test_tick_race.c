/* Several processes at once on one database (forked hosts, each with its
 * own handle): crm_tick fires every timer exactly once, none is lost,
 * whatever the interleaving, also with records inserted beside the tick
 * loops; updates with expected versions lose no update. On the SQLite file
 * of a temporary directory, or with CRM_TEST_PG on a fresh PostgreSQL
 * schema that every process opens. alarm() bounds every process, so a
 * deadlock fails the test instead of hanging it. */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

#define T0 INT64_C(1767323045000)
#define HOUR INT64_C(3600000)
#define LEADS 2000
#define TICKERS 4
#define INSERTED 600
#define WRITERS 2
#define UPDATERS 4
#define INCREMENTS 50 /* successful updates per updater */
#define BOUND_S 120 /* a guard against hangs, not a timing */

/* A one-shot timer whose event is an internal transition: a second firing
 * would be allowed, so double fires show as two history rows and events. */
static const char form_def[] = "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}";
static const char sla_def[] =
	"{\"workflow\":\"sla\",\"form\":\"lead\",\"start_on\":\"create\",\"initial\":\"new\","
	" \"states\":{\"new\":{\"timers\":[{\"after\":\"1h\",\"event\":\"breach\"}]}},"
	" \"transitions\":[{\"from\":\"new\",\"event\":\"breach\",\"to\":\"new\",\"actions\":[{\"emit\":\"breached\"}]},"
	"  {\"from\":\"new\",\"event\":\"touch\",\"to\":\"new\"}]}";

static char dir[32], path[96], schema[64];
/* Pipes whose write end the parent closes: "go" starts every child at
 * once, "stop" ends the tick loops; on "counts" each TICK_ONCE child writes
 * how many timers it fired. */
static int go[2], stop[2] = { -1, -1 }, counts[2] = { -1, -1 };

static crm_db *open_db(void)
{
	crm_db *db = test_open_shared(path, schema, BOUND_S * 1000);

	crm_clock_set(db, T0);
	return db;
}

static void fresh_db(void)
{
	crm_db *db;

	test_new_shared(dir, path, sizeof path, schema, sizeof schema);
	db = open_db();
	test_apply(db, form_def);
	test_apply(db, sla_def);
	crm_close(db);
}

static void remove_db(void) { test_remove_shared(dir, path); }

static void insert_leads(crm_db *db, int n)
{
	for (int i = 0; i < n; i++)
		if (crm_record_insert(db, "lead", "{\"name\":\"x\"}", NULL) != CRM_OK) {
			fprintf(stderr, "insert failed: %s\n", crm_errdetail(db));
			_exit(3);
		}
}

/* One tick at T0 + 2h (every timer due); exits the child on failure.
 * Returns how many timers it fired. */
static int64_t tick_once(crm_db *db)
{
	int64_t fired;

	if (crm_tick(db, T0 + 2 * HOUR, &fired) != CRM_OK) {
		fprintf(stderr, "crm_tick failed in %d: %s\n", (int)getpid(), crm_errdetail(db));
		_exit(4);
	}
	return fired;
}

enum role { TICK_ONCE, TICK_UNTIL_STOP, INSERT, INCREMENT, HOLD };

static int inserts = INSERTED; /* records an INSERT process writes */

static const char counter_def[] = "{\"form\":\"counter\",\"fields\":[{\"name\":\"n\",\"type\":\"integer\"}]}";

/* A member of the record's JSON: the integer after "\"name\":". */
static int64_t member(const char *json, const char *name)
{
	char key[32];
	const char *at;

	snprintf(key, sizeof key, "\"%s\":", name);
	at = strstr(json, key);
	return at ? strtoll(at + strlen(key), NULL, 10) : -1;
}

/* Read counter 1 and write n + 1 with the version read, until INCREMENTS
 * writes succeeded: a conflict (another process wrote in between) reads
 * again; any other failure ends the process. */
static void increment(crm_db *db)
{
	for (int done = 0; done < INCREMENTS;) {
		char *json = NULL, update[64];
		int64_t n, version;
		int rc;

		if (crm_record_get(db, "counter", 1, &json) != CRM_OK) {
			fprintf(stderr, "get failed: %s\n", crm_errdetail(db));
			_exit(5);
		}
		n = member(json, "n");
		version = member(json, "version");
		crm_free(json);
		snprintf(update, sizeof update, "{\"n\":%lld}", (long long)(n + 1));
		rc = crm_record_update(db, "counter", 1, update, version);
		if (rc == CRM_OK)
			done++;
		else if (rc != CRM_ECONFLICT) {
			fprintf(stderr, "update failed: %s\n", crm_errdetail(db));
			_exit(6);
		}
	}
}

/* HOLD: fire lead 1's "touch" (no event emitted: an append would hold the
 * outbox's order for everyone) in a transaction left open until "stop",
 * holding its record and instance; the parent ticks meanwhile. */
static void hold_lead_1(crm_db *db)
{
	if (crm_begin(db) != CRM_OK || crm_workflow_fire(db, "lead", 1, "touch", NULL) != CRM_OK) {
		fprintf(stderr, "hold failed: %s\n", crm_errdetail(db));
		_exit(8);
	}
	close(counts[1]); /* "held" */
	test_closed(stop[0], 1);
	if (crm_commit(db) != CRM_OK)
		_exit(9);
}

static pid_t spawn(enum role role)
{
	pid_t pid = fork();
	crm_db *db;

	if (pid != 0)
		return pid;
	alarm(BOUND_S);
	close(go[1]);
	if (stop[1] >= 0)
		close(stop[1]);
	test_closed(go[0], 1); /* every process starts together */
	db = open_db();
	if (role == TICK_ONCE) {
		int64_t fired = tick_once(db);
		if (write(counts[1], &fired, sizeof fired) != sizeof fired)
			_exit(7);
	}
	else if (role == INSERT)
		insert_leads(db, inserts);
	else if (role == INCREMENT)
		increment(db);
	else if (role == HOLD)
		hold_lead_1(db);
	else {
		while (!test_closed(stop[0], 0))
			tick_once(db);
		tick_once(db); /* after the last insert */
	}
	crm_close(db);
	_exit(0);
}

static int wait_all(const pid_t *pids, int n)
{
	int ok = 1, status;

	for (int i = 0; i < n; i++) {
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "process %d failed (status %d)\n", (int)pids[i], status);
			ok = 0;
		}
	}
	return ok;
}

/* Every record's instance fired its timer exactly once: one history row
 * for the breach, one event, no refused (timer_error) rows, no timer left. */
static void check_each_fired_once(int leads)
{
	crm_db *db = open_db();

	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead"), leads);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance"), leads);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance i WHERE (SELECT count(*) FROM crm_wf_history h"
				   " WHERE h.instance = i.id AND h.event = 'breach' AND h.to_state = 'new') <> 1"),
		  0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead l WHERE (SELECT count(*) FROM crm_event e"
				   " WHERE e.type = 'breached' AND e.record = l.id) <> 1"),
		  0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE type = 'breached'"), leads);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_history WHERE data LIKE '%timer_error%'"), 0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 0);
	crm_close(db);
}

/* Each ticker fired some of the timers, and together all of them once. On
 * PostgreSQL tickers run side by side, each claiming the next timer no
 * other holds (SKIP LOCKED), so every one of them gets a share; SQLite's
 * take turns, and one may find nothing left. */
TEST(test_tick_race__concurrent_ticks_fire_each_timer_exactly_once)
{
	pid_t pids[TICKERS];
	int64_t fired, total = 0;
	int busy = 0;
	crm_db *db;

	alarm(2 * BOUND_S);
	fresh_db();
	db = open_db();
	CHECK_OK(db, crm_begin(db));
	insert_leads(db, LEADS);
	CHECK_OK(db, crm_commit(db));
	crm_close(db);
	if (pipe(go) || pipe(counts)) {
		perror("pipe");
		exit(2);
	}
	for (int i = 0; i < TICKERS; i++)
		pids[i] = spawn(TICK_ONCE);
	close(go[1]);
	close(counts[1]);
	for (int i = 0; i < TICKERS; i++) {
		CHECK(read(counts[0], &fired, sizeof fired) == sizeof fired);
		total += fired;
		busy += fired > 0;
	}
	CHECK(wait_all(pids, TICKERS));
	close(go[0]);
	close(counts[0]);
	counts[0] = counts[1] = -1;
	CHECK_INT(total, LEADS);
	if (test_pg_url())
		CHECK_INT(busy, TICKERS);
	check_each_fired_once(LEADS);
	remove_db();
}

TEST(test_tick_race__inserts_beside_two_tick_loops_lose_no_timer)
{
	pid_t pids[3];

	alarm(2 * BOUND_S);
	fresh_db();
	if (pipe(go) || pipe(stop)) {
		perror("pipe");
		exit(2);
	}
	pids[0] = spawn(INSERT);
	pids[1] = spawn(TICK_UNTIL_STOP);
	pids[2] = spawn(TICK_UNTIL_STOP);
	close(go[1]);
	CHECK(wait_all(pids, 1));
	close(stop[1]); /* the inserter is done: each loop ticks once more and ends */
	CHECK(wait_all(pids + 1, 2));
	close(go[0]);
	close(stop[0]);
	stop[0] = stop[1] = -1;
	check_each_fired_once(INSERTED);
	remove_db();
}

TEST(test_tick_race__four_tickers_beside_two_writers_fire_every_timer_once)
{
	pid_t pids[WRITERS + TICKERS];

	alarm(2 * BOUND_S);
	fresh_db();
	if (pipe(go) || pipe(stop)) {
		perror("pipe");
		exit(2);
	}
	inserts = LEADS / WRITERS;
	for (int i = 0; i < WRITERS; i++)
		pids[i] = spawn(INSERT);
	for (int i = 0; i < TICKERS; i++)
		pids[WRITERS + i] = spawn(TICK_UNTIL_STOP);
	close(go[1]);
	CHECK(wait_all(pids, WRITERS));
	close(stop[1]); /* the writers are done: each loop ticks once more and ends */
	CHECK(wait_all(pids + WRITERS, TICKERS));
	close(go[0]);
	close(stop[0]);
	stop[0] = stop[1] = -1;
	inserts = INSERTED;
	check_each_fired_once(LEADS);
	remove_db();
}

TEST(test_tick_race__updates_with_expected_versions_lose_no_update)
{
	pid_t pids[UPDATERS];
	crm_db *db;
	char *json = NULL;

	alarm(2 * BOUND_S);
	fresh_db();
	db = open_db();
	test_apply(db, counter_def);
	CHECK_OK(db, crm_record_insert(db, "counter", "{\"n\":0}", NULL));
	crm_close(db);
	if (pipe(go)) {
		perror("pipe");
		exit(2);
	}
	for (int i = 0; i < UPDATERS; i++)
		pids[i] = spawn(INCREMENT);
	close(go[1]);
	CHECK(wait_all(pids, UPDATERS));
	close(go[0]);
	db = open_db();
	CHECK_OK(db, crm_record_get(db, "counter", 1, &json));
	CHECK_INT(member(json, "n"), UPDATERS * INCREMENTS);
	CHECK_INT(member(json, "version"), UPDATERS * INCREMENTS + 1);
	crm_free(json);
	crm_close(db);
	remove_db();
}

/* A tick beside another server's open transaction on one instance: it
 * fires every other timer at once, without waiting, and leaves that one's
 * for a later tick (on SQLite, writers take turns: nothing to show). */
TEST(test_tick_race__a_tick_beside_an_open_transaction_skips_only_what_it_holds)
{
	pid_t holder;
	int64_t fired = -1;
	crm_db *db;

	if (!test_pg_url())
		return;
	alarm(2 * BOUND_S);
	fresh_db();
	db = open_db();
	insert_leads(db, 10);
	if (pipe(go) || pipe(stop) || pipe(counts)) {
		perror("pipe");
		exit(2);
	}
	holder = spawn(HOLD);
	close(go[1]);
	close(counts[1]);
	test_closed(counts[0], 1); /* lead 1 is held */
	CHECK_OK(db, crm_tick(db, T0 + 2 * HOUR, &fired));
	CHECK_INT(fired, 9);
	close(stop[1]);
	CHECK(wait_all(&holder, 1));
	CHECK_OK(db, crm_tick(db, T0 + 2 * HOUR, &fired));
	CHECK_INT(fired, 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 0);
	check_each_fired_once(10);
	close(go[0]);
	close(stop[0]);
	close(counts[0]);
	stop[0] = stop[1] = counts[0] = counts[1] = -1;
	crm_close(db);
	remove_db();
}

TEST_LIST(T(test_tick_race__concurrent_ticks_fire_each_timer_exactly_once),
	  T(test_tick_race__inserts_beside_two_tick_loops_lose_no_timer),
	  T(test_tick_race__four_tickers_beside_two_writers_fire_every_timer_once),
	  T(test_tick_race__updates_with_expected_versions_lose_no_update),
	  T(test_tick_race__a_tick_beside_an_open_transaction_skips_only_what_it_holds))
