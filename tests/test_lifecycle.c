/* Timers and the lifecycle of records and instances: a timer whose script
 * fails is that timer's failure (recorded, the tick goes on) while a host
 * failure stops the tick; timers set during a tick wait for the next one;
 * ids are never reused (records, instances, timers, events, history), also
 * in databases made before AUTOINCREMENT; a deleted record's instances,
 * timers and pending approvals end with it. */
#include <sqlite3.h>
#include <string.h>

#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

#define T0 INT64_C(1767323045000)
#define HOUR INT64_C(3600000)

/* `s` with ' turned into " and ` into ' (static buffer). */
static const char *q(const char *s)
{
	static char out[4096];
	size_t i;

	for (i = 0; s[i] && i + 1 < sizeof out; i++)
		out[i] = s[i] == '\'' ? '"' : s[i] == '`' ? '\'' : s[i];
	out[i] = 0;
	return out;
}

static int64_t insert(crm_db *db, const char *form, const char *json)
{
	int64_t id = 0;

	if (crm_record_insert(db, form, q(json), &id) != CRM_OK) {
		fprintf(stderr, "insert into %s failed: %s\n", form, crm_errdetail(db));
		test_failures_++;
	}
	return id;
}

static int64_t tick(crm_db *db, int64_t t)
{
	int64_t fired = -1;

	if (crm_tick(db, t, &fired) != CRM_OK) {
		fprintf(stderr, "crm_tick failed: %s\n", crm_errdetail(db));
		test_failures_++;
	}
	return fired;
}

static int64_t sql_int(crm_db *db, const char *fmt, long long arg)
{
	char sql[512];

	snprintf(sql, sizeof sql, fmt, arg);
	return test_sql_int(db, sql);
}

static const char *history(crm_db *db, const char *form, int64_t id)
{
	static char last[8192];
	char *json = NULL;

	if (crm_workflow_history(db, form, id, &json) != CRM_OK) {
		fprintf(stderr, "history failed: %s\n", crm_errdetail(db));
		test_failures_++;
		return "";
	}
	snprintf(last, sizeof last, "%s", json);
	crm_free(json);
	return last;
}

static int integrity_ok(crm_db *db)
{
	crm__stmt *st;
	int ok;

	if (!(st = crm__stmt_take(db, "PRAGMA integrity_check", (size_t)-1)))
		return 0;
	ok = crm__step(st) == CRM_ROW && strcmp(crm__column_text(st, 0), "ok") == 0;
	crm__stmt_give(db, st);
	return ok;
}

static const char lead_form[] = "{'form':'lead','fields':[{'name':'name','type':'text'}]}";

/* ---- point: a script's failure is its timer's, the host's stops the tick ---- */

TEST(test_timer__script_failures_are_recorded_and_the_tick_goes_on)
{
	crm_db *db = test_db();
	int64_t a, b;

	test_apply(db, q(lead_form));
	crm_limit(db, CRM_LIMIT_LUA_MEMORY, 4 << 20);
	crm_limit(db, CRM_LIMIT_LUA_INSTRUCTIONS, 100000);
	/* the memory ceiling, the instruction budget and a runtime error, each
	 * the first timer due; the instance's later timer still fires */
	test_apply(db, q("{'workflow':'w','form':'lead','start_on':'create','initial':'a',"
			 " 'states':{'a':{'timers':[{'after':'1h','event':'hog'},{'after':'2h','event':'spin'},"
			 "                          {'after':'3h','event':'boom'},{'after':'4h','event':'fine'}]},'b':{}},"
			 " 'transitions':["
			 "  {'from':'a','event':'hog','to':'b','actions':[{'lua':'local s = string.rep(`x`, 64 << 20)'}]},"
			 "  {'from':'a','event':'spin','to':'b','actions':[{'lua':'while true do end'}]},"
			 "  {'from':'a','event':'boom','to':'b','actions':[{'lua':'error(`boom`)'}]},"
			 "  {'from':'a','event':'fine','to':'b','actions':[{'emit':'fine'}]}]}"));
	a = insert(db, "lead", "{'name':'A'}");
	b = insert(db, "lead", "{'name':'B'}");
	CHECK_INT(tick(db, T0 + 4 * HOUR), 2);
	for (int64_t id = a; id <= b; id++) {
		const char *h = history(db, "lead", id);
		CHECK_HAS(h, "\"event\":\"hog\",\"from\":null,\"to\":null,\"actor\":null,\"data\":{\"timer_error\":\"not enough memory");
		CHECK_HAS(h, "\"event\":\"spin\",\"from\":null,\"to\":null,\"actor\":null,\"data\":{\"timer_error\":");
		CHECK_HAS(h, "instruction budget");
		CHECK_HAS(h, "\"event\":\"boom\",\"from\":null,\"to\":null,\"actor\":null,\"data\":{\"timer_error\":");
		CHECK_HAS(h, "\"event\":\"fine\",\"from\":\"a\",\"to\":\"b\"");
	}
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE type='fine'"), 2);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 0);
	CHECK_INT(tick(db, T0 + 5 * HOUR), 0);
	crm_close(db);
}

/* A busy database is the host's failure: the tick stops with CRM_EBUSY and
 * the timer stays, to fire on the next tick. */
TEST(test_timer__host_failure_stops_the_tick_and_keeps_the_timer)
{
	char dir[32], path[64];
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	crm_db *db = NULL, *other = NULL;
	int64_t fired = -1;

	test_temp_db(dir, path, sizeof path);
	o.busy_timeout_ms = 0;
	CHECK_OK(db, crm_open(&db, path, &o));
	crm_clock_set(db, T0);
	test_apply(db, q(lead_form));
	test_apply(db, q("{'workflow':'w','form':'lead','start_on':'create','initial':'a',"
			 " 'states':{'a':{'timers':[{'after':'1h','event':'go'}]},'b':{}},"
			 " 'transitions':[{'from':'a','event':'go','to':'b'}]}"));
	insert(db, "lead", "{'name':'A'}");
	CHECK_OK(other, crm_open(&other, path, &o));
	CHECK_OK(other, crm_begin(other)); /* another process holds the write lock */
	CHECK_RC(db, crm_tick(db, T0 + 2 * HOUR, &fired), CRM_EBUSY);
	CHECK_INT(fired, 0);
	CHECK_OK(other, crm_rollback(other));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 1);
	CHECK_INT(tick(db, T0 + 2 * HOUR), 1);
	crm_close(other);
	crm_close(db);
	test_remove_db(dir, path);
}

/* A reentering transition on a past deadline sets the same past timer
 * again: it fires once per tick, not again and again within one. */
TEST(test_timer__timers_set_during_a_tick_wait_for_the_next)
{
	crm_db *db = test_db();

	test_apply(db, q(lead_form));
	test_apply(db, q("{'workflow':'w','form':'lead','start_on':'create','initial':'a',"
			 " 'states':{'a':{'timers':[{'at':'2020-01-01T00:00:00Z','event':'late'}]}},"
			 " 'transitions':[{'from':'a','event':'late','to':'a','reenter':true,'actions':[{'emit':'late'}]}]}"));
	insert(db, "lead", "{'name':'A'}");
	CHECK_INT(tick(db, T0), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE type='late'"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 1); /* set again, for the next tick */
	CHECK_INT(tick(db, T0), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE type='late'"), 2);
	crm_close(db);
}

/* ---- point: ids are never reused; a delete ends the record's workflows ---- */

static const char ticket_flow[] =
	"[{'form':'ticket','fields':[{'name':'title','type':'text'}]},"
	" {'workflow':'ticket_flow','form':'ticket','start_on':'create','initial':'open',"
	"  'states':{'open':{'timers':[{'after':'1h','event':'remind'}],"
	"                    'approval':{'steps':[{'user':'lena'}],'approved':'ok','rejected':'no'}},"
	"            'closed':{'final':true}},"
	"  'transitions':[{'from':'open','event':'remind','to':'open','actions':[{'emit':'reminded'}]},"
	"                 {'from':'open','event':'ok','to':'closed'},{'from':'open','event':'no','to':'closed'}]}]";

/* Every table with an integer id key never hands an id out twice: on
 * SQLite AUTOINCREMENT, on PostgreSQL an identity (a sequence). */
static void check_all_autoincrement(crm_db *db)
{
	if (strcmp(db->be->name, "sqlite") == 0)
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type='table' AND sql LIKE '%id INTEGER PRIMARY KEY%'"
					   " AND sql NOT LIKE '%id INTEGER PRIMARY KEY AUTOINCREMENT%'"),
			  0);
	else
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM information_schema.columns c JOIN information_schema.tables t"
					   " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
					   " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
					   " AND c.column_name = 'id' AND c.is_identity = 'NO'"),
			  0);
}

TEST(test_lifecycle__deleting_the_newest_record_never_reuses_its_id)
{
	crm_db *db = test_db();
	int64_t first, second, third;
	char expect[64];

	test_apply(db, q(ticket_flow));
	first = insert(db, "ticket", "{'title':'one'}");
	CHECK_OK(db, crm_record_delete(db, "ticket", first, 0));
	/* the insert that used to fail: "record 1 already has a ticket_flow workflow" */
	second = insert(db, "ticket", "{'title':'two'}");
	CHECK(second > first);
	CHECK_OK(db, crm_record_delete(db, "ticket", second, 0));
	third = insert(db, "ticket", "{'title':'three'}");
	CHECK(third > second);
	/* the new record's history is its own */
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_history h JOIN crm_wf_instance i ON i.id = h.instance"
			      " WHERE i.record = %lld",
			  (long long)third),
		  1);
	snprintf(expect, sizeof expect, "[{\"instance\":3,");
	CHECK_HAS(history(db, "ticket", third), expect);
	/* instances, timers, history and events: new ids only */
	CHECK_INT(test_sql_int(db, "SELECT count(DISTINCT id) = count(*) AND max(id) = 3 FROM crm_wf_instance"), 1);
	CHECK_INT(test_sql_int(db, "SELECT min(id) FROM crm_wf_timer"), 3);
	check_all_autoincrement(db);
	crm_close(db);
}

TEST(test_lifecycle__delete_ends_instances_timers_and_pending_approvals)
{
	crm_db *db = test_db();
	int64_t id, keep;
	const char *h;

	test_apply(db, q(ticket_flow));
	id = insert(db, "ticket", "{'title':'one'}");
	keep = insert(db, "ticket", "{'title':'two'}");
	crm_actor_set(db, "olga", NULL);
	CHECK_OK(db, crm_record_delete(db, "ticket", id, 0));
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE record=%lld AND status='cancelled'", (long long)id), 1);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer t JOIN crm_wf_instance i ON i.id = t.instance"
			      " WHERE i.record=%lld",
			  (long long)id),
		  0);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_approval a JOIN crm_wf_instance i ON i.id = a.instance"
			      " WHERE i.record=%lld AND a.decision IS NULL",
			  (long long)id),
		  0);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_approval a JOIN crm_wf_instance i ON i.id = a.instance"
			      " WHERE i.record=%lld AND a.decision = 'cancelled' AND a.actor = 'olga'",
			  (long long)id),
		  1);
	h = history(db, "ticket", id);
	CHECK_HAS(h, "\"event\":\"(delete)\",\"from\":\"open\",\"to\":null,\"actor\":\"olga\"");
	/* the other record keeps everything */
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE record=%lld AND status='active'", (long long)keep), 1);
	CHECK_INT(tick(db, T0 + 2 * HOUR), 1);
	/* a delete that is rolled back ends nothing */
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_delete(db, "ticket", keep, 0));
	CHECK_OK(db, crm_rollback(db));
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_approval a JOIN crm_wf_instance i ON i.id = a.instance"
			      " WHERE i.record=%lld AND a.decision IS NULL",
			  (long long)keep),
		  1);
	crm_close(db);
}

/* A database made before ids were AUTOINCREMENT: its tables are rebuilt
 * when it is opened, rows and indexes kept, and no id that a workflow or
 * an event still names is handed out again. */
TEST(test_lifecycle__old_database_is_upgraded_to_ids_never_reused)
{
	char dir[32], path[64];
	crm_db *db = NULL;
	sqlite3 *raw;
	int64_t id;

	test_temp_db(dir, path, sizeof path);
	CHECK_OK(db, crm_open(&db, path, NULL));
	crm_clock_set(db, T0);
	test_apply(db, q(ticket_flow));
	test_apply(db, q("{'form':'note','fields':[{'name':'text','type':'text','unique':true}]}"));
	insert(db, "ticket", "{'title':'one'}");
	id = insert(db, "ticket", "{'title':'two'}");
	insert(db, "note", "{'text':'kept'}");
	CHECK_OK(db, crm_record_delete(db, "ticket", id, 0));
	crm_close(db);
	/* Make it look like the old format: no AUTOINCREMENT anywhere. */
	CHECK_INT(sqlite3_open(path, &raw), SQLITE_OK);
	CHECK_INT(sqlite3_exec(raw,
			       "PRAGMA writable_schema=ON;"
			       "UPDATE sqlite_schema SET sql = replace(sql, 'PRIMARY KEY AUTOINCREMENT', 'PRIMARY KEY')"
			       " WHERE type = 'table';"
			       "PRAGMA writable_schema=OFF;"
			       "DELETE FROM sqlite_sequence;"
			       "UPDATE crm_state SET value = 1 WHERE key = 'format';",
			       NULL, NULL, NULL),
		  SQLITE_OK);
	sqlite3_close(raw);
	CHECK_OK(db, crm_open(&db, path, NULL));
	crm_clock_set(db, T0);
	check_all_autoincrement(db);
	CHECK_INT(test_sql_int(db, "SELECT value FROM crm_state WHERE key='format'"), 6); /* the current format */
	CHECK(integrity_ok(db));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM ticket"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type='index' AND tbl_name='note'"), 1);
	CHECK_RC(db, crm_record_insert(db, "note", "{\"text\":\"kept\"}", NULL), CRM_ECONSTRAINT);
	/* record 2 was deleted but its instance still names it */
	CHECK(insert(db, "ticket", "{'title':'three'}") > id);
	crm_close(db);
	test_remove_db(dir, path);
}

TEST_LIST(T(test_timer__script_failures_are_recorded_and_the_tick_goes_on),
	  T(test_timer__host_failure_stops_the_tick_and_keeps_the_timer),
	  T(test_timer__timers_set_during_a_tick_wait_for_the_next),
	  T(test_lifecycle__deleting_the_newest_record_never_reuses_its_id),
	  T(test_lifecycle__delete_ends_instances_timers_and_pending_approvals),
	  T(test_lifecycle__old_database_is_upgraded_to_ids_never_reused))
