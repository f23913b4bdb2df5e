/* The event stream, what is appended (docs/integration.md): crm.create,
 * crm.update and crm.delete for every path that writes records, in the
 * writing transaction and in the order things happened; crm.transition
 * and crm.approval from the workflow engine; names starting with "crm."
 * refused to definitions and scripts; the after-commit hook; and ids that
 * grow in commit order when transactions of two processes overlap. */
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/db_int.h"
#include "crm/event.h"
#include "event/event.h"
#include "helpers.h"
#include "test.h"

static int apply(crm_db *db, const char *json)
{
	char *j = test_q(json);
	int rc = test_apply(db, j);

	free(j);
	return rc;
}

static int64_t last_seq(crm_db *db) { return test_sql_int(db, "SELECT coalesce(max(id), 0) FROM crm_event"); }

/* The events after `after`, one line each: "type|form|record|payload". */
static const char *events_after(crm_db *db, int64_t after)
{
	static char out[16384];
	char sql[2048];
	char *rows;

	snprintf(sql, sizeof sql, "SELECT type, form, record, payload FROM (%s) AS e WHERE id > %lld ORDER BY id",
		 CRM__EVENT_SELECT(db, ""), (long long)after);
	rows = test_rows(db, sql);
	snprintf(out, sizeof out, "%s", rows ? rows : "(failed)");
	free(rows);
	return out;
}

/* Record changes whose event names an audit entry that is not the same
 * change's (another record, form or operation), or none at all. */
static int64_t misshown(crm_db *db)
{
	return test_sql_int(db, "SELECT count(*) FROM crm_event e LEFT JOIN crm_audit a ON a.id = e.audit"
				" WHERE e.audit IS NOT NULL AND (a.id IS NULL OR a.form <> e.form OR a.record <> e.record"
				" OR a.op <> CASE e.type WHEN 'crm.create' THEN 'insert' WHEN 'crm.update' THEN 'update'"
				" WHEN 'crm.delete' THEN 'delete' END OR e.payload IS NOT NULL)");
}

/* Record changes whose event holds its own payload. */
static int64_t inline_changes(crm_db *db)
{
	return test_sql_int(db, "SELECT count(*) FROM crm_event WHERE audit IS NULL"
				" AND type IN ('crm.create', 'crm.update', 'crm.delete')");
}

static const char forms[] =
	"[{'form':'customer','fields':[{'name':'name','type':'text'},{'name':'phone','type':'text','unique':true}]},"
	" {'form':'deal','fields':[{'name':'title','type':'text'},{'name':'amount','type':'decimal','scale':2},"
	"  {'name':'customer','type':'ref','form':'customer','on_delete':'cascade'},"
	"  {'name':'label','type':'computed','lua':'return (record.title or \\'\\') .. \\'!\\''}]},"
	" {'form':'contact','fields':[{'name':'name','type':'text'},"
	"  {'name':'customer','type':'ref','form':'customer','on_delete':'set_null'}]},"
	" {'form':'scratch','events':false,'fields':[{'name':'n','type':'integer'}]},"
	" {'form':'note','fields':[{'name':'t','type':'text'},"
	"  {'name':'echo','type':'computed','lua':'if record.t == \\'copy\\' then crm.create(\\'scratch\\', {n = 7}) end return record.t'}]}]";

static crm_db *events_db(void)
{
	crm_db *db = test_db();

	crm_clock_set(db, 1767323045000); /* 2026-01-02T03:04:05Z */
	apply(db, forms);
	return db;
}

/* ---- every write path, table-driven ---- */

typedef struct write_case {
	const char *name;
	int (*run)(crm_db *db);
	const char *expected; /* the lines events_after gives after the case's setup */
	int inline_changes;   /* on SQLite, events of audited record changes that hold their payload */
} write_case;

static int ins_customer(crm_db *db) { return crm_record_insert(db, "customer", "{\"name\":\"ACME\",\"phone\":\"1\"}", NULL); }

static int run_insert(crm_db *db) { return crm_record_insert(db, "customer", "{\"name\":\"ACME\",\"phone\":\"9\"}", NULL); }
static int run_update(crm_db *db) { return crm_record_update(db, "customer", 1, "{\"name\":\"ACME Ltd\"}", 0); }
static int run_update_nothing(crm_db *db) { return crm_record_update(db, "customer", 1, "{\"name\":\"ACME\"}", 0); }
static int run_delete(crm_db *db) { return crm_record_delete(db, "customer", 1, 0); }

static int run_upserts(crm_db *db)
{
	int rc = crm_record_upsert(db, "customer", "phone", "{\"name\":\"B\",\"phone\":\"2\"}", NULL, NULL);
	return rc ? rc : crm_record_upsert(db, "customer", "phone", "{\"name\":\"B2\",\"phone\":\"2\"}", NULL, NULL);
}

static int run_batch(crm_db *db)
{
	crm_batch *b = NULL;
	int rc = crm_batch_begin(&b, db, "customer");

	for (int i = 0; i < 3 && rc == CRM_OK; i++) {
		char json[64];
		snprintf(json, sizeof json, "{\"name\":\"c%d\",\"phone\":\"p%d\"}", i, i);
		rc = crm_batch_add(b, json, -1, NULL);
	}
	if (rc == CRM_OK)
		rc = crm_batch_commit(b);
	crm_batch_free(b);
	return rc;
}

static int run_cascade_and_set_null(crm_db *db)
{
	int rc = crm_record_insert(db, "deal", "{\"title\":\"d\",\"amount\":\"5.10\",\"customer\":1}", NULL);

	if (rc == CRM_OK)
		rc = crm_record_insert(db, "contact", "{\"name\":\"k\",\"customer\":1}", NULL);
	return rc ? rc : crm_record_delete(db, "customer", 1, 0);
}

static int run_computed(crm_db *db)
{
	int rc = crm_record_insert(db, "deal", "{\"title\":\"x\"}", NULL);

	return rc ? rc : crm_record_update(db, "deal", 1, "{\"title\":\"y\"}", 0);
}

/* A computed field's script writes another record (Lua crm.create), into
 * a form whose record events are off: only the note's own event. */
static int run_lua_write(crm_db *db) { return crm_record_insert(db, "note", "{\"t\":\"copy\"}", NULL); }

static int run_revert(crm_db *db)
{
	int rc = crm_record_update(db, "customer", 1, "{\"name\":\"Z\"}", 0);

	return rc ? rc : crm_record_revert(db, "customer", 1, 1);
}

static int run_events_off(crm_db *db) { return crm_record_insert(db, "scratch", "{\"n\":1}", NULL); }

/* In a host transaction: a failing write (a unique key) takes only its own
 * events with it; a rollback takes all. */
static int run_host_transactions(crm_db *db)
{
	int rc = crm_begin(db);

	if (rc == CRM_OK)
		rc = crm_record_insert(db, "customer", "{\"name\":\"kept\",\"phone\":\"3\"}", NULL);
	if (rc == CRM_OK && crm_record_insert(db, "customer", "{\"name\":\"dup\",\"phone\":\"1\"}", NULL) != CRM_ECONSTRAINT)
		rc = CRM_ERROR;
	if (rc == CRM_OK)
		rc = crm_record_update(db, "customer", 1, "{\"name\":\"in tx\"}", 0);
	if (rc == CRM_OK)
		rc = crm_commit(db);
	if (rc == CRM_OK && (rc = crm_begin(db)) == CRM_OK) {
		rc = crm_record_insert(db, "customer", "{\"name\":\"gone\",\"phone\":\"4\"}", NULL);
		crm_rollback(db);
	}
	return rc;
}

static const write_case write_cases[] = {
	{ "insert", run_insert, "crm.create|customer|2|{\"name\":\"ACME\",\"phone\":\"9\"}\n", 0 },
	{ "update", run_update, "crm.update|customer|1|{\"changed\":{\"name\":[\"ACME\",\"ACME Ltd\"]},\"version\":2}\n", 0 },
	{ "update changing nothing", run_update_nothing, "", 0 },
	{ "delete", run_delete, "crm.delete|customer|1|{\"name\":\"ACME\",\"phone\":\"1\"}\n", 0 },
	{ "upsert", run_upserts,
	  ("crm.create|customer|2|{\"name\":\"B\",\"phone\":\"2\"}\n"
	  "crm.update|customer|2|{\"changed\":{\"name\":[\"B\",\"B2\"]},\"version\":2}\n"), 0 },
	{ "batch", run_batch,
	  ("crm.create|customer|2|{\"name\":\"c0\",\"phone\":\"p0\"}\n"
	  "crm.create|customer|3|{\"name\":\"c1\",\"phone\":\"p1\"}\n"
	  "crm.create|customer|4|{\"name\":\"c2\",\"phone\":\"p2\"}\n"), 0 },
	{ "cascade and set_null", run_cascade_and_set_null,
	  ("crm.create|deal|1|{\"title\":\"d\",\"amount\":5.10,\"customer\":1,\"label\":\"d!\"}\n"
	  "crm.create|contact|1|{\"name\":\"k\",\"customer\":1}\n"
	  "crm.update|contact|1|{\"changed\":{\"customer\":[1,null]},\"version\":2}\n"
	  "crm.delete|deal|1|{\"title\":\"d\",\"amount\":5.10,\"customer\":1,\"label\":\"d!\"}\n"
	  "crm.delete|customer|1|{\"name\":\"ACME\",\"phone\":\"1\"}\n"), 0 },
	{ "computed fields", run_computed,
	  ("crm.create|deal|1|{\"title\":\"x\",\"amount\":null,\"customer\":null,\"label\":\"x!\"}\n"
	  "crm.update|deal|1|{\"changed\":{\"title\":[\"x\",\"y\"],\"label\":[\"x!\",\"y!\"]},\"version\":2}\n"), 0 },
	{ "Lua crm.create", run_lua_write, "crm.create|note|1|{\"t\":\"copy\",\"echo\":\"copy\"}\n", 0 },
	{ "revert", run_revert,
	  ("crm.update|customer|1|{\"changed\":{\"name\":[\"ACME\",\"Z\"]},\"version\":2}\n"
	  "crm.update|customer|1|{\"changed\":{\"name\":[\"Z\",\"ACME\"]},\"version\":3}\n"),
	  1 /* a revert's entry wraps the change */ },
	{ "events off", run_events_off, "", 0 },
	{ "host transactions", run_host_transactions,
	  ("crm.create|customer|2|{\"name\":\"kept\",\"phone\":\"3\"}\n"
	  "crm.update|customer|1|{\"changed\":{\"name\":[\"ACME\",\"in tx\"]},\"version\":2}\n"), 0 },
};

TEST(test_events__every_write_path_appends_its_record_changes)
{
	for (size_t i = 0; i < sizeof write_cases / sizeof *write_cases; i++) {
		const write_case *c = &write_cases[i];
		crm_db *db = events_db();
		int64_t before;
		int rc;

		CHECK_OK(db, ins_customer(db));
		before = last_seq(db);
		rc = c->run(db);
		if (rc != CRM_OK)
			fprintf(stderr, "case %s: %s\n", c->name, crm_errmsg(db));
		CHECK_INT(rc, CRM_OK);
		if (strcmp(events_after(db, before), c->expected) != 0) {
			fprintf(stderr, "case %s: events\n%s\nexpected\n%s\n", c->name, events_after(db, before), c->expected);
			test_failures_++;
		}
		/* On SQLite an audited change's event shows its entry; pipelined
		 * (PostgreSQL) the entry's id comes too late, so it holds a copy. */
		CHECK_INT(misshown(db), 0);
		CHECK_INT(inline_changes(db), test_on_sqlite(db) ? c->inline_changes : test_count_of(c->expected, "\n") + 1);
		crm_close(db);
	}
}

/* The record's id and the actor are columns; the payload is the audit
 * trail's encoding of the same change, entry for entry: on SQLite the
 * event names the entry and holds no copy. */
TEST(test_events__columns_and_payload_match_the_audit_entry)
{
	crm_db *db = events_db();

	crm_actor_set(db, "alice", "sales");
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"O'Brien; DROP TABLE crm_event;--\",\"phone\":\"x\"}", NULL));
	CHECK_OK(db, crm_record_update(db, "customer", 1, "{\"name\":\"\\u0022q\\u0022\"}", 0));
	CHECK_STR(events_after(db, 0),
		  "crm.create|customer|1|{\"name\":\"O'Brien; DROP TABLE crm_event;--\",\"phone\":\"x\",\"owner\":\"alice\"}\n"
		  "crm.update|customer|1|{\"changed\":{\"name\":[\"O'Brien; DROP TABLE crm_event;--\",\"\\\"q\\\"\"]},\"version\":2}\n");
	if (test_on_sqlite(db))
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event e JOIN crm_audit a ON a.id = e.audit"
					   " AND a.record = e.record AND a.form = e.form AND e.payload IS NULL"),
			  2);
	else
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event e JOIN crm_audit a ON a.record = e.record"
					   " AND a.form = e.form AND e.payload = a.data WHERE e.type = 'crm.create'"
					   " AND e.audit IS NULL"),
			  1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE actor = 'alice' AND instance IS NULL"), 2);
	crm_close(db);
}

/* ---- workflow: transitions, actions, timers, approvals ---- */

static const char flow[] =
	"{'workflow':'deal_flow','form':'deal','start_on':'create','initial':'open',"
	" 'states':{'open':{'timers':[{'after':'1h','event':'expire'}]},"
	"  'review':{'approval':{'steps':[{'role':'manager'}],'approved':'ok','rejected':'no'}},"
	"  'won':{'final':true},'lost':{'final':true}},"
	" 'transitions':[{'from':'open','event':'submit','to':'review',"
	"   'actions':[{'set':{'amount':'9.99'}},{'create':{'form':'contact','values':{'name':'from flow'}}},{'emit':'submitted'}]},"
	"  {'from':'open','event':'expire','to':'lost'},"
	"  {'from':'review','event':'ok','to':'won'},{'from':'review','event':'no','to':'open'}]}";

TEST(test_events__transitions_actions_timers_and_approvals)
{
	crm_db *db = events_db();
	int64_t before;

	CHECK_OK(db, apply(db, flow));
	crm_actor_set(db, "rep", "sales");
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"title\":\"t\"}", NULL));
	CHECK_STR(events_after(db, 0),
		  "crm.create|deal|1|{\"title\":\"t\",\"amount\":null,\"customer\":null,\"label\":\"t!\",\"owner\":\"rep\"}\n"
		  "crm.transition|deal|1|{\"workflow\":\"deal_flow\",\"from\":null,\"to\":\"open\",\"event\":\"(start)\"}\n");
	before = last_seq(db);
	CHECK_OK(db, crm_workflow_fire(db, "deal", 1, "submit", NULL));
	CHECK_STR(events_after(db, before),
		  "crm.update|deal|1|{\"changed\":{\"amount\":[null,9.99]},\"version\":2}\n"
		  "crm.create|contact|1|{\"name\":\"from flow\",\"customer\":null,\"owner\":\"rep\"}\n"
		  "submitted|deal|1|{\"workflow\":\"deal_flow\",\"state\":\"open\"}\n"
		  "crm.transition|deal|1|{\"workflow\":\"deal_flow\",\"from\":\"open\",\"to\":\"review\",\"event\":\"submit\"}\n");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE id > 2 AND type = 'crm.transition' AND instance = 1"), 1);
	/* a rejection, then an approval that completes the round */
	before = last_seq(db);
	crm_actor_set(db, "max", "manager");
	CHECK_OK(db, crm_workflow_decide(db, "deal", 1, "reject", "too cheap"));
	CHECK_STR(events_after(db, before),
		  "crm.approval|deal|1|{\"workflow\":\"deal_flow\",\"state\":\"review\",\"decision\":\"rejected\",\"user\":\"max\","
		  "\"step\":0,\"approver\":\"role manager\",\"reason\":\"too cheap\"}\n"
		  "crm.transition|deal|1|{\"workflow\":\"deal_flow\",\"from\":\"review\",\"to\":\"open\",\"event\":\"no\","
		  "\"data\":{\"note\":\"too cheap\"}}\n");
	CHECK_OK(db, crm_workflow_fire(db, "deal", 1, "submit", NULL));
	before = last_seq(db);
	CHECK_OK(db, crm_workflow_decide(db, "deal", 1, "approve", NULL));
	CHECK_HAS(events_after(db, before), "crm.approval|deal|1|{\"workflow\":\"deal_flow\",\"state\":\"review\","
					    "\"decision\":\"approved\",\"user\":\"max\",\"step\":0,\"approver\":\"role manager\"}\n");
	CHECK_HAS(events_after(db, before), "crm.transition|deal|1|{\"workflow\":\"deal_flow\",\"from\":\"review\","
					    "\"to\":\"won\",\"event\":\"ok\"}\n");
	/* a timer fired by crm_tick */
	crm_actor_set(db, NULL, NULL);
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"title\":\"late\"}", NULL));
	before = last_seq(db);
	CHECK_OK(db, crm_tick(db, 1767323045000 + 2 * 3600 * 1000, NULL));
	CHECK_STR(events_after(db, before),
		  "crm.transition|deal|2|{\"workflow\":\"deal_flow\",\"from\":\"open\",\"to\":\"lost\",\"event\":\"expire\"}\n");
	crm_close(db);
}

/* A form with "events": false keeps its record changes out of the stream,
 * not its transitions (those are the workflow's). */
TEST(test_events__events_false_leaves_transitions_in)
{
	crm_db *db = events_db();

	CHECK_OK(db, apply(db, "{'workflow':'tally','form':'scratch','start_on':'create','initial':'a',"
			       " 'states':{'a':{},'b':{}},'transitions':[{'from':'a','event':'go','to':'b'}]}"));
	CHECK_OK(db, crm_record_insert(db, "scratch", "{\"n\":1}", NULL));
	CHECK_OK(db, crm_record_update(db, "scratch", 1, "{\"n\":2}", 0));
	CHECK_OK(db, crm_workflow_fire(db, "scratch", 1, "go", NULL));
	CHECK_STR(events_after(db, 0),
		  "crm.transition|scratch|1|{\"workflow\":\"tally\",\"from\":null,\"to\":\"a\",\"event\":\"(start)\"}\n"
		  "crm.transition|scratch|1|{\"workflow\":\"tally\",\"from\":\"a\",\"to\":\"b\",\"event\":\"go\"}\n");
	crm_close(db);
}

/* ---- hostile input ---- */

/* Nobody forges the engines' own events: a definition whose action emits
 * a crm.* name is refused (and nothing is stored), a script's crm.emit of
 * one fails its write (and nothing is appended); other names still work. */
TEST(test_events__crm_names_are_refused_to_definitions_and_scripts)
{
	static const char *const forged[] = { "crm.create", "crm.update", "crm.delete", "crm.transition", "crm.approval",
					      "crm.anything" };
	crm_db *db = events_db();
	char def[512];
	int64_t before;

	for (size_t i = 0; i < sizeof forged / sizeof *forged; i++) {
		snprintf(def, sizeof def,
			 "{'workflow':'forge','form':'customer','initial':'a','states':{'a':{'on_enter':[{'emit':'%s'}]}}}",
			 forged[i]);
		char *j = test_q(def);
		CHECK_RC(db, crm_apply(db, j), CRM_EINVAL);
		CHECK_HAS(crm_errmsg(db), "libcrm's own");
		free(j);
		CHECK_RC(db, crm_workflow_get(db, "forge", &j), CRM_ENOTFOUND);
	}
	CHECK_OK(db, apply(db, "{'form':'forger','fields':[{'name':'kind','type':'text'},"
			       "{'name':'c','type':'computed','lua':'crm.emit(record.kind, {id = 1}, \\'customer\\', 1) return \\'ok\\''}]}"));
	before = last_seq(db);
	for (size_t i = 0; i < sizeof forged / sizeof *forged; i++) {
		char json[64];
		snprintf(json, sizeof json, "{\"kind\":\"%s\"}", forged[i]);
		CHECK_RC(db, crm_record_insert(db, "forger", json, NULL), CRM_ESCRIPT);
		CHECK_HAS(crm_errmsg(db), "libcrm's own");
	}
	CHECK_STR(events_after(db, before), "");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM forger"), 0);
	/* near misses are ordinary names */
	CHECK_OK(db, crm_record_insert(db, "forger", "{\"kind\":\"crm_create\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "forger", "{\"kind\":\"xcrm.create\"}", NULL));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE type IN ('crm_create', 'xcrm.create')"), 2);
	/* "events" takes a boolean */
	CHECK_RC(db, crm_apply(db, "{\"form\":\"x\",\"events\":\"no\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "events");
	crm_close(db);
}

/* A write the actor may not make (another rep's record), an invalid one,
 * and SQL-looking values append nothing but what was committed, escaped. */
TEST(test_events__refused_writes_append_nothing)
{
	crm_db *db = events_db();
	int64_t before, id = 0;

	CHECK_OK(db, apply(db, "{'form':'lead','fields':[{'name':'name','type':'text','max_length':5}],"
			       " 'permissions':[{'roles':['rep'],'allow':['read','create','update'],"
			       "  'rows':{'field':'owner','op':'eq','actor':'user'}}]}"));
	crm_actor_set(db, "ann", "rep");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"mine\"}", &id));
	crm_actor_set(db, "bob", "rep");
	before = last_seq(db);
	CHECK_RC(db, crm_record_update(db, "lead", id, "{\"name\":\"his\"}", 0), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_delete(db, "lead", id, 0), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"far too long\"}", NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"nope\":1}", NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":", NULL), CRM_EINVAL);
	CHECK_STR(events_after(db, before), "");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"'--\\\"\"}", NULL));
	CHECK_STR(events_after(db, before), "crm.create|lead|2|{\"name\":\"'--\\\"\",\"owner\":\"bob\"}\n");
	crm_close(db);
}

/* A transaction with more events than are kept for its commit appends
 * as it goes; a savepoint rolled back after that takes its own back, and
 * the ids still follow the order things happened. */
TEST(test_events__a_long_transaction_appends_as_it_goes_in_order)
{
	crm_db *db = events_db();
	char json[64];

	CHECK_OK(db, crm_begin(db));
	for (int i = 0; i < 1500; i++) {
		snprintf(json, sizeof json, "{\"name\":\"c%d\",\"phone\":\"%d\"}", i, i);
		CHECK_OK(db, crm_record_insert(db, "customer", json, NULL));
	}
	/* a unique conflict: the failed call's savepoint is rolled back */
	CHECK_RC(db, crm_record_insert(db, "customer", "{\"name\":\"dup\",\"phone\":\"7\"}", NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_record_update(db, "customer", 1, "{\"name\":\"last\"}", 0));
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event"), 1501);
	/* one event per record, in record order, the update last */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event e WHERE type = 'crm.create' AND"
				   " (SELECT count(*) FROM crm_event f WHERE f.type = 'crm.create' AND f.id < e.id) <> e.record - 1"),
		  0);
	CHECK_STR(events_after(db, last_seq(db) - 1), "crm.update|customer|1|{\"changed\":{\"name\":[\"c0\",\"last\"]},\"version\":2}\n");
	CHECK_INT(misshown(db), 0);
	CHECK_INT(inline_changes(db), test_on_sqlite(db) ? 0 : 1501);
	crm_close(db);
}

/* Events that show their audit entry read as the entry's change, whatever
 * appends first: a transaction whose events outnumber its entries (a form
 * without the trail between audited writes) appends events before their
 * entries would go on their own, a read inside it appends both, a
 * savepoint rolled back takes its pair back, and a batch's queued rows
 * get theirs once their ids are known. */
TEST(test_events__events_showing_audit_entries_read_as_their_change)
{
	crm_db *db = events_db();
	char json[64], same[2048], *list = NULL;

	/* crm.create events whose payload is their customer as inserted */
	snprintf(same, sizeof same,
		 "SELECT count(*) FROM (%s) AS e JOIN customer c ON c.id = e.record WHERE e.type = 'crm.create'"
		 " AND e.payload = '{\"name\":\"' || c.name || '\",\"phone\":\"' || c.phone || '\"}'",
		 CRM__EVENT_SELECT(db, ""));
	CHECK_OK(db, apply(db, "{'form':'unaudited','audit':false,'fields':[{'name':'n','type':'integer'}]}"));
	CHECK_OK(db, crm_begin(db));
	for (int i = 0; i < 700; i++) {
		snprintf(json, sizeof json, "{\"name\":\"c%d\",\"phone\":\"%d\"}", i, i);
		CHECK_OK(db, crm_record_insert(db, "customer", json, NULL));
		for (int j = 0; j < 2; j++) {
			snprintf(json, sizeof json, "{\"n\":%d}", i);
			CHECK_OK(db, crm_record_insert(db, "unaudited", json, NULL));
		}
		if (i == 300) /* a refused write: its savepoint takes its event and entry back */
			CHECK_RC(db, crm_record_insert(db, "customer", "{\"name\":\"dup\",\"phone\":\"7\"}", NULL),
				 CRM_ECONSTRAINT);
	}
	CHECK_OK(db, crm_event_list(db, 2097, 10, &list)); /* c699 and its two */
	CHECK_HAS(list, "\"payload\":{\"name\":\"c699\",\"phone\":\"699\"}");
	crm_free(list);
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(test_sql_int(db, same), 700);
	CHECK_INT(misshown(db), 0);
	CHECK_INT(inline_changes(db), test_on_sqlite(db) ? 1400 : 2100);
	/* a batch: its rows are queued on SQLite, their ids known late */
	CHECK_OK(db, test_batch_numbered(db, "customer", 2500, "{\"name\":\"b%d\",\"phone\":\"b%d\"}"));
	CHECK_INT(test_sql_int(db, same), 3200);
	CHECK_INT(misshown(db), 0);
	CHECK_INT(inline_changes(db), test_on_sqlite(db) ? 1400 : 4600);
	crm_close(db);
}

/* An entry deleted behind libcrm's back (which crm_audit_verify reports)
 * leaves the event that showed it an empty payload, not a broken read. */
TEST(test_events__an_event_whose_audit_entry_is_gone_reads_empty)
{
	crm_db *db = events_db();

	if (!test_on_sqlite(db)) { /* PostgreSQL's events keep their copy */
		crm_close(db);
		return;
	}
	CHECK_OK(db, ins_customer(db));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE audit IS NOT NULL"), 1);
	/* the names of its compact entry gone: the same */
	CHECK_INT(test_sql_int(db, "DELETE FROM crm_audit WHERE op = 'fields' RETURNING 1"), 1);
	CHECK_STR(events_after(db, 0), "crm.create|customer|1|{}\n");
	CHECK_INT(test_sql_int(db, "DELETE FROM crm_audit RETURNING 1"), 1);
	CHECK_STR(events_after(db, 0), "crm.create|customer|1|{}\n");
	crm_close(db);
}

/* ---- the after-commit hook ---- */

typedef struct hook_log {
	crm_db *db;
	int calls, depth, max_depth;
	int64_t first[8], last[8];
	int write_inside; /* the hook writes two records, each its own commit (once) */
	char listed[4096];
} hook_log;

static void on_commit(void *payload, int64_t first, int64_t last)
{
	hook_log *h = payload;
	char *json = NULL;

	if (++h->depth > h->max_depth)
		h->max_depth = h->depth;
	if (h->calls < 8) {
		h->first[h->calls] = first;
		h->last[h->calls] = last;
	}
	h->calls++;
	/* reading the stream from inside the hook */
	if (crm_event_list(h->db, first - 1, 100, &json) == CRM_OK)
		snprintf(h->listed, sizeof h->listed, "%s", json);
	crm_free(json);
	if (h->write_inside) {
		h->write_inside = 0;
		if (crm_record_insert(h->db, "customer", "{\"name\":\"from the hook\",\"phone\":\"hook\"}", NULL) != CRM_OK ||
		    crm_record_insert(h->db, "customer", "{\"name\":\"again\",\"phone\":\"hook2\"}", NULL) != CRM_OK)
			fprintf(stderr, "insert in the hook: %s\n", crm_errmsg(h->db));
	}
	h->depth--;
}

TEST(test_events__hook_hears_of_each_commit_that_appended_events)
{
	crm_db *db = events_db();
	hook_log h = { .db = db };

	CHECK_OK(db, crm_event_hook_set(db, on_commit, &h));
	/* a single write: one call with its one event */
	CHECK_OK(db, ins_customer(db));
	CHECK_INT(h.calls, 1);
	CHECK_INT(h.first[0], 1);
	CHECK_INT(h.last[0], 1);
	CHECK_HAS(h.listed, "\"name\":\"crm.create\"");
	/* a host transaction: one call after its commit, none before */
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_update(db, "customer", 1, "{\"name\":\"a\"}", 0));
	CHECK_OK(db, crm_record_update(db, "customer", 1, "{\"name\":\"b\"}", 0));
	CHECK_INT(h.calls, 1);
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(h.calls, 2);
	CHECK_INT(h.first[1], 2);
	CHECK_INT(h.last[1], 3);
	/* no call after a rollback, a failed write, or a write without events */
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_update(db, "customer", 1, "{\"name\":\"c\"}", 0));
	CHECK_OK(db, crm_rollback(db));
	CHECK_RC(db, crm_record_insert(db, "customer", "{\"phone\":\"1\"}", NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_record_insert(db, "scratch", "{\"n\":1}", NULL));
	CHECK_OK(db, crm_record_update(db, "customer", 1, "{\"name\":\"b\"}", 0)); /* changes nothing */
	CHECK_INT(h.calls, 2);
	/* writes inside the hook: each commit reported by a call of its own
	 * once the first returned, never nested; the caller's result and
	 * error stay its own */
	h.write_inside = 1;
	CHECK_RC(db, crm_record_insert(db, "customer", "{\"name\":\"x\",\"phone\":\"2\"}", NULL), CRM_OK);
	CHECK_STR(crm_errmsg(db), "");
	CHECK_INT(h.calls, 5);
	CHECK_INT(h.max_depth, 1);
	CHECK_INT(h.last[3], h.first[3]);
	CHECK_INT(h.first[3], h.last[2] + 1);
	CHECK_INT(h.first[4], h.last[3] + 1);
	CHECK_INT(h.last[4], h.first[4]);
	CHECK_HAS(h.listed, "again");
	/* removed: no more calls */
	CHECK_OK(db, crm_event_hook_set(db, NULL, NULL));
	CHECK_OK(db, crm_record_update(db, "customer", 1, "{\"name\":\"d\"}", 0));
	CHECK_INT(h.calls, 5);
	CHECK_RC(NULL, crm_event_hook_set(NULL, on_commit, &h), CRM_EMISUSE);
	crm_close(db);
}

/* ---- commit order across processes ---- */

#define BOUND_S 60 /* a guard against hangs, not a timing */

static char dir[32], path[96], schema[64];

static void child_fail(crm_db *db, const char *what)
{
	fprintf(stderr, "process %d: %s failed: %s\n", (int)getpid(), what, crm_errdetail(db));
	_exit(3);
}

/* The writers' pipes: each says its handle is open (opening a database
 * takes the whole app for a moment); the parent lets the first begin and
 * the second write; the first says it holds its event; the parent lets it
 * commit. A pipe signals by its write end's close. */
enum { OPENED1, OPENED2, START1, START2, HELD, COMMIT1, NPIPES };
static int pipes[NPIPES][2];

static crm_db *child_open(int opened)
{
	crm_db *db = test_open_shared(path, schema, BOUND_S * 1000);

	for (int i = 0; i < NPIPES; i++)
		if (i != opened && i != HELD)
			close(pipes[i][1]);
	close(pipes[opened][1]);
	return db;
}

/* The first writer: its transaction appends an event (made visible to
 * itself, so it has its id) and stays open until the parent says. */
static void hold_an_event(void)
{
	crm_db *db = child_open(OPENED1);
	char *json = NULL;

	test_closed(pipes[START1][0], 1);
	if (crm_begin(db) || crm_record_insert(db, "customer", "{\"name\":\"early\",\"phone\":\"e\"}", NULL))
		child_fail(db, "the first writer's insert");
	if (crm_event_list(db, 0, 10, &json) || !strstr(json, "crm.create"))
		child_fail(db, "reading its own event");
	crm_free(json);
	close(pipes[HELD][1]);
	test_closed(pipes[COMMIT1][0], 1);
	if (crm_commit(db))
		child_fail(db, "the first writer's commit");
	crm_close(db);
}

static void write_one(void)
{
	crm_db *db = child_open(OPENED2);

	close(pipes[HELD][1]);
	test_closed(pipes[START2][0], 1);
	if (crm_record_insert(db, "customer", "{\"name\":\"late\",\"phone\":\"l\"}", NULL))
		child_fail(db, "the second writer's insert");
	crm_close(db);
}

static pid_t fork_child(void (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		alarm(BOUND_S);
		fn();
		_exit(0);
	}
	return pid;
}

/* Count the events after `after` as a host's poller reads them (system
 * actor, crm_event_list), moving *last on. */
static int poll_events(crm_db *db, int64_t *last)
{
	char *json = NULL;
	const char *p;
	int n = 0;

	if (crm_event_list(db, *last, 100, &json) != CRM_OK)
		return -1;
	for (p = json; (p = strstr(p, "{\"seq\":")); n++)
		*last = strtoll(p += 7, NULL, 10);
	crm_free(json);
	return n;
}

/* Two processes' transactions overlap: the first appends an event and
 * stays open; the second writes and commits meanwhile; a poller reads the
 * events after the last id it saw, then the first commits. The poller
 * must see both: ids grow in commit order (the events lock, held from
 * the first append to the commit, makes the second wait; on PostgreSQL
 * the test sees it wait in pg_locks, on SQLite writers take turns anyway). */
TEST(test_events__a_poller_never_skips_an_event_committed_later_with_a_lower_id)
{
	int seen = 0, n, status;
	int64_t last = 0;
	pid_t first, second;
	crm_db *db;

	test_new_shared(dir, path, sizeof path, schema, sizeof schema);
	db = test_open_shared(path, schema, BOUND_S * 1000);
	CHECK_OK(db, apply(db, forms));
	for (int i = 0; i < NPIPES; i++)
		if (pipe(pipes[i])) {
			perror("pipe");
			exit(2);
		}
	first = fork_child(hold_an_event);
	second = fork_child(write_one);
	close(pipes[OPENED1][1]);
	close(pipes[OPENED2][1]);
	close(pipes[HELD][1]);
	test_closed(pipes[OPENED1][0], 1);
	test_closed(pipes[OPENED2][0], 1);
	close(pipes[START1][1]);
	test_closed(pipes[HELD][0], 1);
	close(pipes[START2][1]);
	/* until the second has committed, or waits for the first */
	if (!test_await_wait(db, &second, &status, BOUND_S) && !second)
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK((n = poll_events(db, &last)) >= 0);
	seen += n;
	close(pipes[COMMIT1][1]);
	CHECK(waitpid(first, &status, 0) == first && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (second)
		CHECK(waitpid(second, &status, 0) == second && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK((n = poll_events(db, &last)) >= 0);
	seen += n;
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event"), 2);
	if (seen != 2)
		fprintf(stderr, "the poller saw %d of 2 events: a lower id committed after a higher one\n", seen);
	CHECK_INT(seen, 2);
	for (int i = 0; i < NPIPES; i++)
		close(pipes[i][0]);
	crm_close(db);
	test_remove_shared(dir, path);
}

TEST_LIST(T(test_events__every_write_path_appends_its_record_changes),
	  T(test_events__columns_and_payload_match_the_audit_entry),
	  T(test_events__transitions_actions_timers_and_approvals), T(test_events__events_false_leaves_transitions_in),
	  T(test_events__crm_names_are_refused_to_definitions_and_scripts), T(test_events__refused_writes_append_nothing),
	  T(test_events__a_long_transaction_appends_as_it_goes_in_order),
	  T(test_events__events_showing_audit_entries_read_as_their_change),
	  T(test_events__an_event_whose_audit_entry_is_gone_reads_empty),
	  T(test_events__hook_hears_of_each_commit_that_appended_events),
	  T(test_events__a_poller_never_skips_an_event_committed_later_with_a_lower_id))
