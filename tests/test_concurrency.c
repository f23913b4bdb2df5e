/* Writers of one app in several processes at once (forked hosts, each with
 * its own handle), where each reads then writes: on PostgreSQL they run side
 * by side, ordered only by row locks, so each case is a race the locks must
 * win; on SQLite (a file in a temporary directory) writers take turns and
 * the same outcomes hold trivially. Every process starts on one signal;
 * alarm() bounds each, so a deadlock fails the test instead of hanging it. */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "test.h"

#define WORKERS 4
#define BOUND_S 120 /* a guard against hangs, not a timing */

static char dir[32], path[96], schema[64];
/* The apply case's pipes: the applier says its handle is open, the writer
 * that it holds its transaction open; the parent lets the writer commit. */
static int opened[2], held[2], release[2] = { -1, -1 };

static crm_db *open_db(void) { return test_open_shared(path, schema, BOUND_S * 1000); }

/* A new database with `meta` applied, open. */
static crm_db *fresh_db(const char *meta)
{
	crm_db *db;

	test_new_shared(dir, path, sizeof path, schema, sizeof schema);
	db = open_db();
	test_apply(db, meta);
	return db;
}

static void done_db(crm_db *db)
{
	crm_close(db);
	test_remove_shared(dir, path);
}

/* A failed call in a worker: say what and end the process. */
static void fail(crm_db *db, const char *what, int code)
{
	fprintf(stderr, "process %d: %s failed: %s\n", (int)getpid(), what, crm_errdetail(db));
	_exit(code);
}

/* Fork a process that runs work(db, k) on its own handle once `go`'s write
 * end is closed; it exits 0 when work returns. */
static pid_t spawn(void (*work)(crm_db *db, int k), int k, const int go[2])
{
	pid_t pid = fork();
	crm_db *db;

	if (pid != 0)
		return pid;
	alarm(BOUND_S);
	close(go[1]);
	if (release[1] >= 0)
		close(release[1]); /* the parent's alone: its close is the signal */
	test_closed(go[0], 1);
	db = open_db();
	work(db, k);
	crm_close(db);
	_exit(0);
}

static int exited_well(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	fprintf(stderr, "process %d failed (status %d)\n", (int)pid, status);
	return 0;
}

/* Run WORKERS processes of `work` (k = 0 .. WORKERS-1) all at once; 1 when
 * every one ended well. */
static int run_together(void (*work)(crm_db *db, int k))
{
	pid_t pids[WORKERS];
	int go[2], ok = 1;

	if (pipe(go)) {
		perror("pipe");
		exit(2);
	}
	for (int k = 0; k < WORKERS; k++)
		pids[k] = spawn(work, k, go);
	close(go[1]);
	for (int k = 0; k < WORKERS; k++)
		ok &= exited_well(pids[k]);
	close(go[0]);
	return ok;
}

/* ---- a rollup's parent recomputed by writers of its children ---- */

static const char account_meta[] =
	"[{\"form\":\"account\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
	"  {\"name\":\"total\",\"type\":\"rollup\",\"form\":\"deal\",\"ref\":\"account\",\"agg\":\"sum\",\"field\":\"amount\"},"
	"  {\"name\":\"deals\",\"type\":\"rollup\",\"form\":\"deal\",\"ref\":\"account\",\"agg\":\"count\"}]},"
	" {\"form\":\"deal\",\"fields\":[{\"name\":\"account\",\"type\":\"ref\",\"form\":\"account\"},"
	"  {\"name\":\"amount\",\"type\":\"integer\"}]}]";
#define ACCOUNTS 200

/* A deal of k + 1 on every account in turn: the workers meet on each. A
 * refresh that missed another's deal is only lost when no later refresh
 * of that account follows, so each account's last writers must race. */
static void add_deals(crm_db *db, int k)
{
	char json[64];

	for (int id = 1; id <= ACCOUNTS; id++) {
		snprintf(json, sizeof json, "{\"account\":%d,\"amount\":%d}", id, k + 1);
		if (crm_record_insert(db, "deal", json, NULL) != CRM_OK)
			fail(db, "a deal's insert", 3);
	}
}

TEST(test_concurrency__child_inserts_into_one_rollup_parent_give_the_exact_sum)
{
	crm_db *db = fresh_db(account_meta);

	CHECK_OK(db, crm_begin(db));
	for (int i = 0; i < ACCOUNTS; i++)
		CHECK_OK(db, crm_record_insert(db, "account", "{\"name\":\"acme\"}", NULL));
	CHECK_OK(db, crm_commit(db));
	CHECK(run_together(add_deals));
	/* deals of 1, 2, 3 and 4 on each */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM account WHERE total <> 10 OR deals <> 4"), 0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal"), ACCOUNTS * WORKERS);
	done_db(db);
}

/* ---- a delete with restrict beside new references to the record ---- */

static const char company_meta[] =
	"[{\"form\":\"company\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]},"
	" {\"form\":\"contact\",\"fields\":[{\"name\":\"company\",\"type\":\"ref\",\"form\":\"company\","
	"  \"on_delete\":\"restrict\"}]}]";
#define COMPANIES 500

/* Even workers delete every company in turn (refused while one is
 * referenced), odd ones add a contact to every company in turn (refused
 * once it is gone). */
static void delete_or_refer(crm_db *db, int k)
{
	char json[64];

	for (int id = 1; id <= COMPANIES; id++) {
		int rc;
		snprintf(json, sizeof json, "{\"company\":%d}", id);
		rc = k % 2 ? crm_record_insert(db, "contact", json, NULL) : crm_record_delete(db, "company", id, 0);
		if (rc != CRM_OK && rc != CRM_ECONSTRAINT && rc != CRM_ENOTFOUND)
			fail(db, k % 2 ? "a contact's insert" : "a company's delete", 3);
	}
}

TEST(test_concurrency__delete_with_restrict_beside_new_references_leaves_none_dangling)
{
	crm_db *db = fresh_db(company_meta);

	CHECK_OK(db, crm_begin(db));
	for (int i = 0; i < COMPANIES; i++)
		CHECK_OK(db, crm_record_insert(db, "company", "{\"name\":\"c\"}", NULL));
	CHECK_OK(db, crm_commit(db));
	CHECK(run_together(delete_or_refer));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM contact AS c"
				   " WHERE NOT EXISTS (SELECT 1 FROM company AS p WHERE p.id = c.company)"),
		  0);
	done_db(db);
}

/* ---- events fired on one workflow instance from several servers ---- */

static const char ticket_meta[] =
	"[{\"form\":\"ticket\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]},"
	" {\"workflow\":\"flow\",\"form\":\"ticket\",\"start_on\":\"create\",\"initial\":\"open\","
	"  \"states\":{\"open\":{\"on_enter\":[{\"emit\":\"opened\"},{\"set\":{\"name\":\"seen\"}}]},\"closed\":{}},"
	"  \"transitions\":[{\"from\":\"open\",\"event\":\"close\",\"to\":\"closed\",\"actions\":[{\"emit\":\"closing\"}]}]}]";
#define TICKETS 150

/* Close every ticket, from the first (even k) or the last (odd k): the
 * one that finds it closed already is refused. */
static void close_all(crm_db *db, int k)
{
	for (int i = 0; i < TICKETS; i++) {
		int64_t id = k % 2 ? TICKETS - i : i + 1;
		int rc = crm_workflow_fire(db, "ticket", id, "close", NULL);
		if (rc != CRM_OK && rc != CRM_EINVAL)
			fail(db, "firing close", 3);
	}
}

TEST(test_concurrency__events_on_one_instance_never_both_leave_the_same_state)
{
	crm_db *db = fresh_db(ticket_meta);

	CHECK_OK(db, crm_begin(db));
	for (int i = 0; i < TICKETS; i++)
		CHECK_OK(db, crm_record_insert(db, "ticket", "{\"name\":\"t\"}", NULL));
	CHECK_OK(db, crm_commit(db));
	CHECK(run_together(close_all));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE state = 'closed'"), TICKETS);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance AS i WHERE (SELECT count(*) FROM crm_wf_history h"
				   " WHERE h.instance = i.id AND h.from_state = 'open') <> 1"),
		  0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE type = 'closing'"), TICKETS);
	done_db(db);
}

/* ---- an event consumer polling beside writers ---- */

#define WRITTEN 150 /* tickets per writer: four events each (crm.create, crm.transition, "opened", crm.update) */
#define EVENTS ((WORKERS - 1) * WRITTEN * 4)

static void write_tickets(crm_db *db)
{
	for (int i = 0; i < WRITTEN; i++)
		if (crm_record_insert(db, "ticket", "{\"name\":\"t\"}", NULL) != CRM_OK)
			fail(db, "a ticket's insert", 3);
}

/* The consumer: reads the events after the last one it handled, as a host
 * does, until every event is committed and it has read past the last one;
 * then it must have seen each exactly once, in increasing order. */
static void consume(crm_db *db)
{
	int64_t last = 0, seen = 0;

	for (int all = 0;;) {
		char *json = NULL;
		const char *p;
		int n = 0;

		/* Committed before the read: the read must then find them all. */
		all = all || test_sql_int(db, "SELECT count(*) FROM crm_event") == EVENTS;
		if (crm_event_list(db, last, 50, &json) != CRM_OK)
			fail(db, "crm_event_list", 3);
		for (p = json; (p = strstr(p, "{\"seq\":")); n++) {
			int64_t seq = strtoll(p += 7, NULL, 10);
			if (seq <= last) {
				fprintf(stderr, "event %lld after %lld\n", (long long)seq, (long long)last);
				_exit(4);
			}
			last = seq;
			seen++;
		}
		crm_free(json);
		if (all && n == 0)
			break;
	}
	if (seen != EVENTS) {
		fprintf(stderr, "the consumer saw %lld events of %d: a lower id committed after a higher one\n",
			(long long)seen, EVENTS);
		_exit(5);
	}
}

static void write_or_consume(crm_db *db, int k)
{
	if (k == 0)
		consume(db);
	else
		write_tickets(db);
}

TEST(test_concurrency__a_consumer_polling_beside_writers_misses_no_event)
{
	crm_db *db = fresh_db(ticket_meta);

	CHECK(run_together(write_or_consume));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event"), EVENTS);
	done_db(db);
}

/* ---- crm_apply beside an open writer ---- */

static const char lead_meta[] = "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}";
static const char lead_short[] =
	"{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"max_length\":3}]}";

/* k 0: the writer, a host transaction left open until released; k 1: once
 * the writer holds, an apply that the writer's record breaks: it must wait
 * for the writer and then refuse, not check the records without it. The
 * writer begins once the applier's handle is open (opening takes the
 * exclusive lock too: the wait must be the apply's). */
static void write_or_apply(crm_db *db, int k)
{
	close(opened[1]);
	if (k == 1) {
		int rc;
		close(held[1]);
		test_closed(held[0], 1);
		if ((rc = crm_apply(db, lead_short)) != CRM_ECONSTRAINT) {
			fprintf(stderr, "the apply beside the writer returned %d: %s\n", rc, crm_errmsg(db));
			_exit(6);
		}
		return;
	}
	test_closed(opened[0], 1);
	if (crm_begin(db) != CRM_OK || crm_record_insert(db, "lead", "{\"name\":\"too long\"}", NULL) != CRM_OK)
		fail(db, "the writer", 3);
	close(held[1]);
	test_closed(release[0], 1);
	if (crm_commit(db) != CRM_OK)
		fail(db, "the writer's commit", 3);
}

/* The number of advisory locks someone waits for: the apply, once it waits. */
static int64_t waiting(crm_db *db)
{
	return test_sql_int(db, "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND NOT granted");
}

TEST(test_concurrency__apply_waits_for_an_open_writer_and_sees_its_record)
{
	crm_db *db;
	pid_t writer, applier;
	int go[2], status, ended = 0;

	if (!test_pg_url())
		return; /* SQLite's writers take turns at BEGIN: nothing to wait for here */
	alarm(BOUND_S);
	db = fresh_db(lead_meta);
	if (pipe(go) || pipe(opened) || pipe(held) || pipe(release)) {
		perror("pipe");
		exit(2);
	}
	writer = spawn(write_or_apply, 0, go);
	applier = spawn(write_or_apply, 1, go);
	close(go[1]);
	close(opened[1]);
	close(held[1]);
	/* Until the apply waits for the writer; an apply that does not wait
	 * ends first, and that is the failure. */
	while (waiting(db) == 0 && !(ended = waitpid(applier, &status, WNOHANG) == applier))
		poll(NULL, 0, 1);
	CHECK(!ended);
	CHECK_INT(waiting(db), 1);
	close(release[1]);
	CHECK(exited_well(writer));
	if (!ended)
		CHECK(exited_well(applier));
	close(go[0]);
	close(opened[0]);
	close(held[0]);
	close(release[0]);
	release[0] = release[1] = -1;
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead"), 1);
	CHECK_INT(test_sql_int(db, "SELECT max(version) FROM crm_meta WHERE name = 'lead'"), 1);
	done_db(db);
}

TEST_LIST(T(test_concurrency__child_inserts_into_one_rollup_parent_give_the_exact_sum),
	  T(test_concurrency__delete_with_restrict_beside_new_references_leaves_none_dangling),
	  T(test_concurrency__events_on_one_instance_never_both_leave_the_same_state),
	  T(test_concurrency__a_consumer_polling_beside_writers_misses_no_event),
	  T(test_concurrency__apply_waits_for_an_open_writer_and_sees_its_record))
