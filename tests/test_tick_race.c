/* crm_tick run by several processes at once on one database file (forked
 * hosts, each with its own handle): every timer fires exactly once, none is
 * lost, whatever the interleaving; also with records inserted beside two
 * tick loops. alarm() bounds every process, so a deadlock fails the test
 * instead of hanging it. */
#include <poll.h>
#include <signal.h>
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
#define BOUND_S 120 /* a guard against hangs, not a timing */

/* A one-shot timer whose event is an internal transition: a second firing
 * would be allowed, so double fires show as two history rows and events. */
static const char form_def[] = "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}";
static const char sla_def[] =
	"{\"workflow\":\"sla\",\"form\":\"lead\",\"start_on\":\"create\",\"initial\":\"new\","
	" \"states\":{\"new\":{\"timers\":[{\"after\":\"1h\",\"event\":\"breach\"}]}},"
	" \"transitions\":[{\"from\":\"new\",\"event\":\"breach\",\"to\":\"new\",\"actions\":[{\"emit\":\"breached\"}]}]}";

static char dir[32], path[96];
/* Pipes whose write end the parent closes: "go" starts every child at
 * once, "stop" ends the tick loops. */
static int go[2], stop[2] = { -1, -1 };

static crm_db *open_db(void)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	crm_db *db = NULL;

	o.busy_timeout_ms = BOUND_S * 1000;
	if (crm_open(&db, path, &o) != CRM_OK) {
		fprintf(stderr, "cannot open %s: %s\n", path, crm_errmsg(db));
		exit(2);
	}
	crm_clock_set(db, T0);
	return db;
}

static void fresh_db(void)
{
	crm_db *db;

	test_temp_db(dir, path, sizeof path);
	db = open_db();
	test_apply(db, form_def);
	test_apply(db, sla_def);
	crm_close(db);
}

static void insert_leads(crm_db *db, int n)
{
	for (int i = 0; i < n; i++)
		if (crm_record_insert(db, "lead", "{\"name\":\"x\"}", NULL) != CRM_OK) {
			fprintf(stderr, "insert failed: %s\n", crm_errdetail(db));
			_exit(3);
		}
}

/* One tick at T0 + 2h (every timer due); exits the child on failure. */
static void tick_once(crm_db *db)
{
	int64_t fired;

	if (crm_tick(db, T0 + 2 * HOUR, &fired) != CRM_OK) {
		fprintf(stderr, "crm_tick failed in %d: %s\n", (int)getpid(), crm_errdetail(db));
		_exit(4);
	}
}

/* Has the write end of `fd` been closed (the parent's "go" or "stop")? */
static int closed(int fd, int wait)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, wait ? -1 : 0) > 0 && read(fd, &c, 1) == 0;
}

enum role { TICK_ONCE, TICK_UNTIL_STOP, INSERT };

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
	closed(go[0], 1); /* every process starts together */
	db = open_db();
	if (role == TICK_ONCE)
		tick_once(db);
	else if (role == INSERT)
		insert_leads(db, INSERTED);
	else {
		while (!closed(stop[0], 0))
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

TEST(test_tick_race__concurrent_ticks_fire_each_timer_exactly_once)
{
	pid_t pids[TICKERS];
	crm_db *db;

	alarm(2 * BOUND_S);
	fresh_db();
	db = open_db();
	CHECK_OK(db, crm_begin(db));
	insert_leads(db, LEADS);
	CHECK_OK(db, crm_commit(db));
	crm_close(db);
	if (pipe(go)) {
		perror("pipe");
		exit(2);
	}
	for (int i = 0; i < TICKERS; i++)
		pids[i] = spawn(TICK_ONCE);
	close(go[1]);
	CHECK(wait_all(pids, TICKERS));
	close(go[0]);
	check_each_fired_once(LEADS);
	test_remove_db(dir, path);
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
	test_remove_db(dir, path);
}

TEST_LIST(T(test_tick_race__concurrent_ticks_fire_each_timer_exactly_once),
	  T(test_tick_race__inserts_beside_two_tick_loops_lose_no_timer))
