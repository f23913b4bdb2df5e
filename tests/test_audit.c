/* The audit trail (docs/audit.md): an entry for every kind of change, in the
 * change's transaction; history, record_at and revert; and crm_audit_verify
 * catching each kind of tampering done with raw SQL behind libcrm's back (a
 * second sqlite3 connection; on PostgreSQL, the seam's exec on a second
 * handle). Runs on both backends. */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

#define T0 1767323045000LL /* 2026-01-02T03:04:05Z */

static int apply(crm_db *db, const char *json)
{
	char *j = test_q(json);
	int rc = test_apply(db, j);

	free(j);
	return rc;
}

#define insert test_insert_q

#define update test_update_q

/* A record's history as JSON (static buffer), "" on failure. */
static const char *history(crm_db *db, const char *form, int64_t id)
{
	static char last[8192];
	char *json = NULL;

	last[0] = 0;
	if (crm_audit_history(db, form, id, &json) == CRM_OK)
		snprintf(last, sizeof last, "%s", json);
	crm_free(json);
	return last;
}

static const char *verify(crm_db *db, const char *head)
{
	static char last[8192];
	char *json = NULL;

	last[0] = 0;
	if (crm_audit_verify_head(db, head, &json) == CRM_OK)
		snprintf(last, sizeof last, "%s", json);
	else
		fprintf(stderr, "verify failed: %s\n", crm_errdetail(db));
	crm_free(json);
	return last;
}

static const char *record_at(crm_db *db, const char *form, int64_t id, int64_t at)
{
	static char last[4096];
	char *json = NULL;

	last[0] = 0;
	if (crm_record_at(db, form, id, at, &json) == CRM_OK)
		snprintf(last, sizeof last, "%s", json);
	crm_free(json);
	return last;
}

static const char forms[] =
	"[{'form':'account','fields':[{'name':'name','type':'text','required':true},"
	"  {'name':'total','type':'rollup','form':'deal','ref':'account','agg':'sum','field':'amount'}]},"
	" {'form':'deal','fields':[{'name':'title','type':'text','required':true},"
	"  {'name':'amount','type':'decimal','scale':2},"
	"  {'name':'stage','type':'enum','options':['new','won','lost']},"
	"  {'name':'label','type':'computed','lua':'return record.title .. \\\"!\\\"'},"
	"  {'name':'account','type':'ref','form':'account','on_delete':'cascade'}]},"
	" {'form':'note','fields':[{'name':'text','type':'text'},"
	"  {'name':'deal','type':'ref','form':'deal','on_delete':'set_null'}]},"
	" {'form':'scratch','audit':false,'fields':[{'name':'x','type':'integer'}]}]";

/* ---- a database several handles share, and raw SQL behind libcrm ---- */

typedef struct shared {
	char dir[32], path[256], schema[64];
	crm_db *db;
} shared;

static crm_db *open_shared(shared *s)
{
	test_new_shared(s->dir, s->path, sizeof s->path, s->schema, sizeof s->schema);
	s->db = test_open_shared(s->path, s->schema, 2000);
	crm_clock_set(s->db, T0);
	apply(s->db, forms);
	return s->db;
}

static void close_shared(shared *s)
{
	crm_close(s->db);
	test_remove_shared(s->dir, s->path);
}

/* Run `sql` as someone with the database in hand and no libcrm would:
 * the sqlite3 library on the file, or a raw exec on PostgreSQL. */
static void raw_sql(shared *s, const char *sql)
{
	if (test_pg_url()) {
		crm_db *other = test_open_shared(s->path, s->schema, 2000);
		if (other->be->exec(other, sql) != CRM_OK) {
			fprintf(stderr, "raw SQL failed: %s: %s\n", sql, crm_errmsg(other));
			test_failures_++;
		}
		crm_close(other);
		return;
	}
	sqlite3 *raw;
	char *err = NULL;
	if (sqlite3_open(s->path, &raw) != SQLITE_OK || sqlite3_exec(raw, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "raw SQL failed: %s: %s\n", sql, err ? err : sqlite3_errmsg(raw));
		test_failures_++;
	}
	sqlite3_free(err);
	sqlite3_close(raw);
}

/* ---- every entry kind ---- */

TEST(test_audit__insert_update_delete_carry_field_level_values)
{
	crm_db *db = test_db();
	int64_t acc, id;

	apply(db, forms);
	crm_actor_set(db, "ann", "rep");
	acc = insert(db, "account", "{'name':'ACME'}");
	id = insert(db, "deal", "{'title':'Big','amount':'12.50','stage':'new','account':1}");
	CHECK_INT(acc, 1);
	CHECK_HAS(history(db, "deal", id), "\"op\":\"insert\",\"form\":\"deal\",\"record\":1,\"version\":1,"
					    "\"data\":{\"title\":\"Big\",\"amount\":12.50,\"stage\":\"new\",\"label\":\"Big!\","
					    "\"account\":1,\"owner\":\"ann\"}}");
	CHECK_HAS(history(db, "deal", id), "\"actor\":\"ann\"");
	/* rollup values are derived, not audited: the account has only its insert */
	CHECK_OK(db, update(db, "deal", id, "{'title':'Bigger','stage':'new'}"));
	CHECK_HAS(history(db, "deal", id), "\"op\":\"update\",\"form\":\"deal\",\"record\":1,\"version\":2,"
					    "\"data\":{\"title\":[\"Big\",\"Bigger\"],\"label\":[\"Big!\",\"Bigger!\"]}}");
	CHECK(!strstr(history(db, "account", acc), "total"));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE form = 'account' AND op <> 'fields'"), 1);
	CHECK_OK(db, update(db, "deal", id, "{'owner':'bob'}"));
	CHECK_HAS(history(db, "deal", id), "\"version\":3,\"data\":{\"owner\":[\"ann\",\"bob\"]}}");
	CHECK_OK(db, crm_record_delete(db, "deal", id, 0));
	CHECK_HAS(history(db, "deal", id), "\"op\":\"delete\",\"form\":\"deal\",\"record\":1,\"version\":3,"
					    "\"data\":{\"title\":\"Bigger\",\"amount\":12.50,\"stage\":\"new\",\"label\":\"Bigger!\","
					    "\"account\":1}}");
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	crm_close(db);
}

TEST(test_audit__cascades_and_set_null_are_audited_on_each_record)
{
	crm_db *db = test_db();
	int64_t acc, deal, note;

	apply(db, forms);
	acc = insert(db, "account", "{'name':'ACME'}");
	deal = insert(db, "deal", "{'title':'D','account':1}");
	note = insert(db, "note", "{'text':'n','deal':1}");
	CHECK_INT(deal, 1);
	CHECK_OK(db, crm_record_delete(db, "account", acc, 0));
	CHECK_HAS(history(db, "deal", deal), "\"op\":\"delete\"");
	CHECK_HAS(history(db, "note", note), "\"op\":\"update\",\"form\":\"note\",\"record\":1,\"version\":2,"
					     "\"data\":{\"deal\":[1,null]}}");
	CHECK_HAS(history(db, "account", acc), "\"op\":\"delete\"");
	crm_close(db);
}

static const char workflow[] =
	"{'workflow':'deal_flow','form':'deal','start_on':'create','initial':'open',"
	" 'states':{'open':{'timers':[{'after':'1h','event':'expire'}]},"
	"  'review':{'approval':{'mode':'sequential','steps':[{'role':'boss'}],'approved':'done','rejected':'open'}},"
	"  'done':{'final':true},'expired':{'final':true}},"
	" 'transitions':[{'from':'open','event':'submit','to':'review'},{'from':'open','event':'expire','to':'expired'},"
	"  {'from':'review','event':'done','to':'done'},{'from':'review','event':'open','to':'open'}]}";

TEST(test_audit__transitions_timers_approvals_and_applies)
{
	crm_db *db = test_db();
	int64_t a, b, fired = 0;

	apply(db, forms);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op = 'apply'"), 4);
	CHECK_HAS(history(db, "deal", 0), "[]");
	apply(db, workflow);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op = 'apply'"
				   " AND data LIKE '%\"kind\":\"workflow\",\"name\":\"deal_flow\",\"version\":1%'"),
		  1);
	a = insert(db, "deal", "{'title':'A'}");
	b = insert(db, "deal", "{'title':'B'}");
	CHECK_HAS(history(db, "deal", a), "\"op\":\"transition\"");
	CHECK_HAS(history(db, "deal", a), "\"event\":\"(start)\"");
	crm_actor_set(db, "sam", "rep");
	CHECK_OK(db, crm_workflow_fire(db, "deal", a, "submit", NULL));
	CHECK_HAS(history(db, "deal", a), "\"actor\":\"sam\",\"op\":\"transition\"");
	CHECK_HAS(history(db, "deal", a), "\"event\":\"submit\",\"from\":\"open\",\"to\":\"review\"");
	crm_actor_set(db, "bea", "boss");
	CHECK_OK(db, crm_workflow_decide(db, "deal", a, "approve", NULL));
	CHECK_HAS(history(db, "deal", a), "\"op\":\"approval\"");
	CHECK_HAS(history(db, "deal", a), "\"event\":\"approve\",\"state\":\"review\",\"decision\":{\"step\":");
	/* a timer's transition, run by crm_tick */
	crm_actor_set(db, NULL, NULL);
	CHECK_OK(db, crm_tick(db, T0 + 2 * 3600000LL, &fired));
	CHECK_HAS(history(db, "deal", b), "\"event\":\"expire\",\"from\":\"open\",\"to\":\"expired\"");
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	crm_close(db);
}

/* Batch inserts are queued without waiting for their ids (PostgreSQL's
 * pipeline, SQLite's multi-row INSERTs): their entries are appended once
 * the ids are known, before the commit. */
TEST(test_audit__batch_inserts_are_audited_with_their_ids)
{
	crm_db *db = test_db();
	crm_batch *b = NULL;
	char json[64], *names;
	int64_t n;

	apply(db, "{'form':'u','fields':[{'name':'k','type':'text','unique':true}]}");
	n = test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op <> 'fields'");
	CHECK_OK(db, crm_batch_begin(&b, db, "u"));
	for (int i = 0; i < 2100; i++) { /* past the entries kept before appending */
		snprintf(json, sizeof json, "{\"k\":\"k%d\"}", i);
		CHECK_OK(db, crm_batch_add(b, json, -1, NULL));
	}
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op <> 'fields'"), n + 2100);
	/* each entry names its record's id and holds its values: compact on
	 * SQLite (the event shows the entry), under the one "fields" entry of
	 * their names; PostgreSQL's events copy the encoding, which keeps them */
	CHECK_INT(test_sql_int(db, test_on_sqlite(db) ? "SELECT count(*) FROM crm_audit a JOIN u ON u.id = a.record"
							" WHERE a.op = 'insert' AND a.form = 'u' AND a.version = 1"
							" AND a.data = '[\"' || u.k || '\"]'"
						      : "SELECT count(*) FROM crm_audit a JOIN u ON u.id = a.record"
							" WHERE a.op = 'insert' AND a.form = 'u' AND a.version = 1"
							" AND a.data = '{\"k\":\"' || u.k || '\"}'"),
		  2100);
	names = test_rows(db, "SELECT data FROM crm_audit WHERE op = 'fields' AND form = 'u'");
	CHECK_STR(names, test_on_sqlite(db) ? "[\"k\",\"owner\"]\n" : "");
	free(names);
	/* a batch that fails on a duplicate found late leaves no entry */
	CHECK_OK(db, crm_batch_begin(&b, db, "u"));
	for (int i = 0; i < 50; i++) {
		snprintf(json, sizeof json, "{\"k\":\"new%d\"}", i);
		crm_batch_add(b, json, -1, NULL);
	}
	crm_batch_add(b, "{\"k\":\"k7\"}", -1, NULL);
	CHECK(crm_batch_commit(b) != CRM_OK);
	crm_batch_free(b);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op <> 'fields'"), n + 2100);
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	crm_close(db);
}

TEST(test_audit__an_entry_goes_with_its_transaction)
{
	crm_db *db = test_db();
	int64_t n;

	apply(db, forms);
	apply(db, "{'workflow':'w','form':'deal','start_on':'create','initial':'a','states':{'a':{},'b':{}},"
		  " 'transitions':[{'from':'a','event':'go','to':'b','actions':[{'lua':'error(\\\"boom\\\")'}]}]}");
	insert(db, "deal", "{'title':'A'}");
	n = test_sql_int(db, "SELECT count(*) FROM crm_audit");
	/* a failing hook rolls the transition's entry back with it */
	CHECK_RC(db, crm_workflow_fire(db, "deal", 1, "go", NULL), CRM_ESCRIPT);
	/* a failing validation writes nothing at all */
	CHECK_RC(db, crm_record_insert(db, "deal", "{\"title\":\"x\",\"stage\":\"zzz\"}", NULL), CRM_ECONSTRAINT);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit"), n);
	/* the host's own transaction, rolled back: its entries go too (they
	 * join the chain at the commit; reading the trail inside shows them) */
	CHECK_OK(db, crm_begin(db));
	insert(db, "deal", "{'title':'B'}");
	CHECK_HAS(history(db, "deal", 2), "\"op\":\"insert\"");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit") > n, 1);
	insert(db, "deal", "{'title':'B2'}");
	CHECK_OK(db, crm_rollback(db));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit"), n);
	/* and the chain goes on without a gap verify would misread (on
	 * PostgreSQL the rolled-back ids are skipped) */
	insert(db, "deal", "{'title':'C'}");
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	crm_close(db);
}

/* A change undone by a savepoint (a failing nested write inside the
 * host's transaction) takes its entry with it; the others stay. */
TEST(test_audit__a_savepoint_rolled_back_drops_its_entries)
{
	crm_db *db = test_db();
	int64_t n;

	apply(db, forms);
	n = test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op <> 'fields'");
	CHECK_OK(db, crm_begin(db));
	insert(db, "deal", "{'title':'A'}");
	CHECK_OK(db, crm__tx_begin(db));
	insert(db, "deal", "{'title':'B'}");
	CHECK_INT(crm__tx_end(db, CRM_ERROR), CRM_ERROR);
	CHECK_OK(db, crm__tx_begin(db));
	insert(db, "deal", "{'title':'C'}");
	CHECK_OK(db, crm__tx_end(db, CRM_OK));
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op <> 'fields'"), n + 2);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE data LIKE '%\"B\"%'"), 0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE data LIKE '%\"C\"%'"), 1);
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	crm_close(db);
}

TEST(test_audit__a_denied_write_is_audited_after_its_rollback)
{
	crm_db *db = test_db();
	int64_t n;

	apply(db, forms);
	n = test_sql_int(db, "SELECT count(*) FROM crm_audit");
	crm_actor_set(db, "eve", "rep");
	/* as the access check does it: inside the write's transaction, which is then undone */
	CHECK_OK(db, crm__tx_begin(db));
	CHECK_OK(db, crm__audit_denied(db, "deal", 7, "delete", "denied: no rule grants delete on deal"));
	crm__error(db, CRM_EPERM, "denied");
	CHECK_INT(crm__tx_end(db, CRM_EPERM), CRM_EPERM);
	CHECK_STR(crm_errmsg(db), "denied");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op = 'denied' AND actor = 'eve' AND record = 7"), 1);
	/* inside the host's own transaction: kept until it ends, whichever way */
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm__audit_denied(db, "deal", 8, "update", "denied"));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op = 'denied'"), 1);
	CHECK_OK(db, crm_rollback(db));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op = 'denied'"), 2);
	CHECK_HAS(history(db, "deal", 8), "\"data\":{\"op\":\"update\",\"reason\":\"denied\"}");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit"), n + 2);
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	crm_close(db);
}

TEST(test_audit__audit_false_switches_record_entries_off)
{
	crm_db *db = test_db();
	int64_t id, n;

	apply(db, forms);
	n = test_sql_int(db, "SELECT count(*) FROM crm_audit");
	id = insert(db, "scratch", "{'x':1}");
	CHECK_OK(db, update(db, "scratch", id, "{'x':2}"));
	CHECK_OK(db, crm_record_delete(db, "scratch", id, 0));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit"), n);
	CHECK_STR(history(db, "scratch", id), "[]");
	/* only a boolean */
	CHECK_RC(db, crm_apply(db, "{\"form\":\"s2\",\"audit\":0,\"fields\":[{\"name\":\"x\",\"type\":\"integer\"}]}"),
		 CRM_EINVAL);
	crm_close(db);
}

TEST(test_audit__a_script_cannot_switch_audit_off_or_touch_the_trail)
{
	crm_db *db = test_db();
	int64_t n;

	apply(db, forms);
	apply(db, "{'workflow':'w','form':'deal','start_on':'create','initial':'a','states':{'a':{},'b':{},'c':{},'d':{}},"
		  " 'transitions':["
		  "  {'from':'a','event':'x','to':'b','actions':[{'lua':'crm.delete(\\\"crm_audit\\\", 1)'}]},"
		  "  {'from':'a','event':'y','to':'c','actions':[{'lua':'crm.update(\\\"crm_state\\\", 1, {value = 0})'}]},"
		  "  {'from':'a','event':'z','to':'d','actions':[{'lua':'crm.create(\\\"crm_meta\\\", {kind = \\\"form\\\"})'}]}]}");
	insert(db, "deal", "{'title':'A'}");
	n = test_sql_int(db, "SELECT count(*) FROM crm_audit");
	CHECK_RC(db, crm_workflow_fire(db, "deal", 1, "x", NULL), CRM_ENOTFOUND);
	CHECK_RC(db, crm_workflow_fire(db, "deal", 1, "y", NULL), CRM_ENOTFOUND);
	CHECK_RC(db, crm_workflow_fire(db, "deal", 1, "z", NULL), CRM_ENOTFOUND);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit"), n);
	CHECK_HAS(crm_errmsg(db), "no form named 'crm_meta'");
	insert(db, "deal", "{'title':'B'}");
	CHECK(test_sql_int(db, "SELECT count(*) FROM crm_audit") > n);
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	crm_close(db);
}

/* Two handles (two servers on PostgreSQL) writing side by side: their
 * entries form one chain, in commit order. */
TEST(test_audit__writers_side_by_side_make_one_chain)
{
	shared s;
	crm_db *a = open_shared(&s), *b = test_open_shared(s.path, s.schema, 2000);

	CHECK_OK(a, crm_begin(a));
	insert(a, "deal", "{'title':'from a'}");
	/* b writes and commits while a's transaction is open (on SQLite
	 * writers take turns: after it) */
	if (!test_on_sqlite(a))
		insert(b, "deal", "{'title':'from b'}");
	insert(a, "deal", "{'title':'from a again'}");
	CHECK_OK(a, crm_commit(a));
	if (test_on_sqlite(a))
		insert(b, "deal", "{'title':'from b'}");
	insert(b, "deal", "{'title':'b again'}");
	CHECK_HAS(verify(a, NULL), "\"ok\":true");
	/* SQLite: one "fields" entry for deal's compact inserts, made by a;
	 * b finds it rather than making its own */
	CHECK_HAS(verify(b, NULL), test_on_sqlite(a) ? "\"entries\":9" : "\"entries\":8");
	CHECK_INT(test_sql_int(a, "SELECT count(DISTINCT seq) FROM crm_audit"), test_on_sqlite(a) ? 9 : 8);
	CHECK_INT(test_sql_int(a, "SELECT max(seq) FROM crm_audit"), test_on_sqlite(a) ? 9 : 8);
	crm_close(b);
	close_shared(&s);
}

/* ---- record_at and revert ---- */

TEST(test_audit__record_at_before_and_after_a_delete)
{
	crm_db *db = test_db();
	int64_t id;

	apply(db, forms);
	crm_clock_set(db, T0 + 1000);
	id = insert(db, "deal", "{'title':'A','amount':'1.00'}");
	crm_clock_set(db, T0 + 2000);
	CHECK_OK(db, update(db, "deal", id, "{'amount':'2.00'}"));
	crm_clock_set(db, T0 + 3000);
	CHECK_OK(db, crm_record_delete(db, "deal", id, 0));
	CHECK_RC(db, crm_record_at(db, "deal", id, T0 + 999, &(char *){ NULL }), CRM_ENOTFOUND);
	CHECK_STR(crm_errmsg(db), "no deal record with id 1 at 2026-01-02T03:04:05.999Z");
	CHECK_STR(record_at(db, "deal", id, T0 + 1500),
		  "{\"id\":1,\"title\":\"A\",\"amount\":1.00,\"stage\":null,\"label\":\"A!\",\"account\":null,"
		  "\"created_at\":\"2026-01-02T03:04:06.000Z\",\"updated_at\":\"2026-01-02T03:04:06.000Z\",\"owner\":null,"
		  "\"version\":1}");
	CHECK_HAS(record_at(db, "deal", id, T0 + 2999), "\"amount\":2.00,");
	CHECK_HAS(record_at(db, "deal", id, T0 + 2999), "\"version\":2}");
	CHECK_RC(db, crm_record_at(db, "deal", id, T0 + 3000, &(char *){ NULL }), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_at(db, "deal", 99, T0 + 3000, &(char *){ NULL }), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_at(db, "no such", 1, T0, &(char *){ NULL }), CRM_EINVAL);
	crm_close(db);
}

TEST(test_audit__revert_goes_through_the_write_path)
{
	crm_db *db = test_db();
	int64_t id;

	apply(db, forms);
	id = insert(db, "deal", "{'title':'A','amount':'1.00','stage':'new'}");
	CHECK_OK(db, update(db, "deal", id, "{'title':'B','amount':'2.00'}"));
	CHECK_OK(db, update(db, "deal", id, "{'stage':'won'}"));
	CHECK_OK(db, crm_record_revert(db, "deal", id, 1));
	CHECK_HAS(test_get(db, "deal", id), "\"title\":\"A\",\"amount\":1.00,\"stage\":\"new\",\"label\":\"A!\"");
	CHECK_HAS(test_get(db, "deal", id), "\"version\":4}");
	CHECK_HAS(history(db, "deal", id), "\"op\":\"revert\",\"form\":\"deal\",\"record\":1,\"version\":4,"
					    "\"data\":{\"to_version\":1,\"changes\":{\"title\":[\"B\",\"A\"],\"amount\":[2.00,1.00],"
					    "\"stage\":[\"won\",\"new\"],\"label\":[\"B!\",\"A!\"]}}}");
	/* the state after a revert is read back from it too */
	CHECK_HAS(record_at(db, "deal", id, T0), "\"title\":\"A\"");
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	crm_close(db);
}

TEST(test_audit__a_refused_revert_changes_nothing)
{
	crm_db *db = test_db();
	char *before;
	int64_t id, n;

	apply(db, forms);
	id = insert(db, "deal", "{'title':'A','stage':'lost'}");
	CHECK_OK(db, update(db, "deal", id, "{'stage':'won'}"));
	/* the option the old value used is gone from the form */
	apply(db, "{'form':'deal','fields':[{'name':'title','type':'text','required':true},"
		  " {'name':'amount','type':'decimal','scale':2},{'name':'stage','type':'enum','options':['new','won']},"
		  " {'name':'label','type':'computed','lua':'return record.title .. \\\"!\\\"'},"
		  " {'name':'account','type':'ref','form':'account','on_delete':'cascade'}]}");
	n = test_sql_int(db, "SELECT count(*) FROM crm_audit");
	before = strdup(test_get(db, "deal", id));
	CHECK_RC(db, crm_record_revert(db, "deal", id, 1), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"stage\"");
	CHECK_RC(db, crm_record_revert(db, "deal", id, 2), CRM_EINVAL);
	CHECK_RC(db, crm_record_revert(db, "deal", id, 9), CRM_EINVAL);
	CHECK_RC(db, crm_record_revert(db, "deal", id, 0), CRM_EINVAL);
	CHECK_RC(db, crm_record_revert(db, "deal", 42, 1), CRM_ENOTFOUND);
	CHECK_STR(test_get(db, "deal", id), before);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit"), n);
	free(before);
	crm_close(db);
}

/* ---- verify ---- */

/* Ten entries of three kinds, then the tampering `sql` (with ?ID? for the
 * id of entry 5); verify must report `kind`. */
static void tamper_case(const char *sql, const char *kind)
{
	shared s;
	crm_db *db = open_shared(&s);
	char buf[512], id5[24];
	const char *v;

	for (int i = 0; i < 4; i++)
		insert(db, "deal", "{'title':'T'}");
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	snprintf(id5, sizeof id5, "%lld", (long long)test_sql_int(db, "SELECT id FROM crm_audit WHERE seq = 5"));
	snprintf(buf, sizeof buf, "%s", sql);
	for (char *p; (p = strstr(buf, "?ID?"));) {
		char rest[512];
		snprintf(rest, sizeof rest, "%s", p + 4);
		snprintf(p, sizeof buf - (size_t)(p - buf), "%s%s", id5, rest);
	}
	raw_sql(&s, buf);
	v = verify(db, NULL);
	CHECK_HAS(v, "\"ok\":false");
	snprintf(buf, sizeof buf, "\"kind\":\"%s\"", kind);
	CHECK_HAS(v, buf);
	close_shared(&s);
}

TEST(test_audit__verify_catches_an_edited_value)
{
	tamper_case("UPDATE crm_audit SET data = replace(data, 'T', 'X') WHERE seq = 6", "hash");
	tamper_case("UPDATE crm_audit SET actor = 'mallory' WHERE seq = 6", "hash");
	tamper_case("UPDATE crm_audit SET at = at + 1 WHERE seq = 6", "hash");
	tamper_case("UPDATE crm_audit SET hash = (SELECT hash FROM crm_audit WHERE seq = 5) WHERE seq = 6", "hash");
}

/* An entry's hash changed: a hash problem there, and the entry after it,
 * whose prev is not stored (format 6), is found to chain to the hash the
 * changed entry's contents make: a link problem, not a second hash one. */
TEST(test_audit__verify_tells_a_changed_hash_from_the_entry_after_it)
{
	shared s;
	crm_db *db = open_shared(&s);
	const char *v;

	for (int i = 0; i < 4; i++)
		insert(db, "deal", "{'title':'T'}");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE seq = 7 AND length(prev) = 0"), 1);
	raw_sql(&s, "UPDATE crm_audit SET hash = (SELECT hash FROM crm_audit WHERE seq = 5) WHERE seq = 6");
	v = verify(db, NULL);
	CHECK_HAS(v, "\"seq\":6,\"kind\":\"hash\"");
	CHECK_HAS(v, "\"seq\":7,\"kind\":\"link\"");
	CHECK(!strstr(v, "\"seq\":7,\"kind\":\"hash\""));
	close_shared(&s);
}

TEST(test_audit__verify_catches_a_deleted_entry)
{
	tamper_case("DELETE FROM crm_audit WHERE seq = 6", "link");
}

TEST(test_audit__verify_catches_an_inserted_entry)
{
	/* a copy of an entry appended, and a made-up one chained to the last */
	tamper_case("INSERT INTO crm_audit(seq, at, actor, op, form, record, version, data, prev, hash)"
		    " SELECT seq, at, actor, op, form, record, version, data, prev, hash FROM crm_audit WHERE seq = 6",
		    "order");
	tamper_case("INSERT INTO crm_audit(seq, at, actor, op, form, record, version, data, prev, hash)"
		    " SELECT seq + 1, at, 'mallory', op, form, record, version, data, hash, hash FROM crm_audit"
		    " WHERE seq = (SELECT max(seq) FROM crm_audit)",
		    "hash");
}

TEST(test_audit__verify_catches_a_reordered_entry)
{
	tamper_case("UPDATE crm_audit SET id = -1 WHERE id = ?ID?;"
		    "UPDATE crm_audit SET id = ?ID? WHERE id = ?ID? + 1;"
		    "UPDATE crm_audit SET id = ?ID? + 1 WHERE id = -1",
		    "order");
}

/* Turn the database back into the format that held prev (the hash of the
 * entry before, zeros for the first) and hash as 64 hex digits, run `edit`
 * on it, and open it again (in one go: on PostgreSQL raw_sql's own handle
 * would upgrade it). */
static crm_db *as_hex_and_reopen(shared *s, const char *edit)
{
	char sql[1024];

	crm_close(s->db);
	snprintf(sql, sizeof sql, "%s;%s",
		 test_pg_url() ? "UPDATE crm_audit c SET prev = coalesce((SELECT p.hash FROM crm_audit p WHERE p.id < c.id"
				 " ORDER BY p.id DESC LIMIT 1), decode(repeat('00', 32), 'hex')) WHERE length(prev) = 0;"
				 "ALTER TABLE crm_audit ALTER COLUMN prev TYPE text USING encode(prev, 'hex'),"
				 " ALTER COLUMN hash TYPE text USING encode(hash, 'hex')"
			       : "UPDATE crm_audit SET prev = coalesce((SELECT p.hash FROM crm_audit p WHERE p.id < crm_audit.id"
				 " ORDER BY p.id DESC LIMIT 1), zeroblob(32)) WHERE length(prev) = 0;"
				 "UPDATE crm_audit SET prev = lower(hex(prev)), hash = lower(hex(hash));"
				 "UPDATE crm_state SET value = 3 WHERE key = 'format'",
		 edit);
	raw_sql(s, sql);
	s->db = test_open_shared(s->path, s->schema, 2000);
	return s->db;
}

/* Opening a database of that format turns them into 32 bytes, and verify
 * answers as before: an entry edited behind libcrm's back is still caught.
 * (Entries of format 6 on store no prev: the hash before them.) */
TEST(test_audit__hex_hashes_of_an_earlier_format_become_bytes)
{
	static const char bytes[] = "SELECT count(*) FROM crm_audit WHERE length(prev) IN (0, 32) AND length(hash) = 32";
	shared s;
	crm_db *db = open_shared(&s);
	int64_t entries;
	const char *v;

	for (int i = 0; i < 3; i++)
		insert(db, "deal", "{'title':'T'}");
	entries = test_sql_int(db, "SELECT count(*) FROM crm_audit");
	CHECK_INT(test_sql_int(db, bytes), entries);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE length(prev) = 0"), entries);
	db = as_hex_and_reopen(&s, "SELECT 1");
	CHECK_INT(test_sql_int(db, bytes), entries);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE length(prev) = 32"), entries);
	CHECK_HAS(verify(db, NULL), "{\"ok\":true,");
	/* an entry edited in the old format: its hash no longer hex */
	db = as_hex_and_reopen(&s, "UPDATE crm_audit SET hash = upper(hash) WHERE seq = 2");
	CHECK_INT(test_sql_int(db, bytes), entries - 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE seq = 2 AND length(hash) = 64"), 1);
	v = verify(db, NULL);
	CHECK_HAS(v, "{\"ok\":false,");
	CHECK_HAS(v, "\"seq\":2,\"kind\":\"hash\"");
	CHECK_HAS(v, "\"seq\":3,\"kind\":\"link\""); /* and nothing after it: */
	CHECK(strstr(v, "\"seq\":3,\"kind\":\"link\"") && !strstr(strstr(v, "\"seq\":3,\"kind\":\"link\""), "},{"));
	/* later appends chain on (without a stored prev) */
	insert(db, "deal", "{'title':'U'}");
	CHECK_INT(test_sql_int(db, bytes), entries);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE length(prev) = 0"), 1);
	close_shared(&s);
}

/* A database of the format before events could show their audit entry
 * (every event holds its payload, NOT NULL; crm_event has no audit column)
 * gains the column and a payload that may be NULL when opened: its events
 * read as before, and the next audited change's event shows its entry
 * (SQLite; PostgreSQL's events keep their copy). */
TEST(test_audit__events_of_an_earlier_format_read_as_before)
{
	static const char shown[] = "SELECT count(*) FROM crm_event WHERE audit IS NOT NULL AND payload IS NULL";
	static const char nullable[] = "SELECT count(*) FROM information_schema.columns WHERE table_schema ="
				       " current_schema() AND table_name = 'crm_event' AND column_name = 'payload'"
				       " AND is_nullable = 'YES'";
	shared s;
	crm_db *db = open_shared(&s);
	char *before = NULL, *after = NULL;

	insert(db, "deal", "{'title':'T'}");
	update(db, "deal", 1, "{'title':'U'}");
	CHECK_INT(test_sql_int(db, shown), test_on_sqlite(db) ? 2 : 0);
	CHECK_OK(db, crm_event_list(db, 0, 100, &before));
	crm_close(s.db);
	raw_sql(&s, test_pg_url() ? "ALTER TABLE crm_event DROP COLUMN audit, ALTER COLUMN payload SET NOT NULL"
				  : "UPDATE crm_event SET payload = CASE type WHEN 'crm.update' THEN"
				    " (SELECT '{\"changed\":' || data || ',\"version\":' || version || '}' FROM crm_audit"
				    "  WHERE crm_audit.id = crm_event.audit)"
				    " ELSE '{\"title\":\"T\",\"amount\":null,\"stage\":null,\"label\":\"T!\",\"account\":null}' END"
				    " WHERE audit IS NOT NULL;"
				    "ALTER TABLE crm_event DROP COLUMN audit;"
				    "PRAGMA writable_schema = ON;"
				    "UPDATE sqlite_schema SET sql = replace(sql, 'payload TEXT DEFAULT', 'payload TEXT NOT NULL DEFAULT')"
				    " WHERE name = 'crm_event';"
				    "PRAGMA writable_schema = OFF;"
				    "UPDATE crm_state SET value = 4 WHERE key = 'format'");
	s.db = db = test_open_shared(s.path, s.schema, 2000);
	CHECK(test_column_exists(db, "crm_event", "audit"));
	if (test_on_sqlite(db)) {
		CHECK_INT(test_sql_int(db, "SELECT \"notnull\" FROM pragma_table_info('crm_event') WHERE name = 'payload'"), 0);
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
		CHECK_INT(test_sql_int(db, "SELECT value FROM crm_state WHERE key = 'format'"), 6);
	} else
		CHECK_INT(test_sql_int(db, nullable), 1);
	CHECK_INT(test_sql_int(db, shown), 0);
	CHECK_OK(db, crm_event_list(db, 0, 100, &after));
	CHECK_STR(after, before);
	update(db, "deal", 1, "{'title':'V'}");
	CHECK_INT(test_sql_int(db, shown), test_on_sqlite(db) ? 1 : 0);
	crm_free(after);
	CHECK_OK(db, crm_event_list(db, 2, 100, &after));
	CHECK_HAS(after, "\"name\":\"crm.update\",\"form\":\"deal\",\"record\":1,");
	CHECK_HAS(after, "\"payload\":{\"changed\":{\"title\":[\"U\",\"V\"],\"label\":[\"U!\",\"V!\"]},\"version\":3}}");
	crm_free(before);
	crm_free(after);
	close_shared(&s);
}

TEST(test_audit__verify_catches_a_truncated_tail_and_a_lost_head)
{
	shared s;
	crm_db *db = open_shared(&s);
	char head[80] = "", *p;
	const char *v;

	insert(db, "deal", "{'title':'A'}");
	v = verify(db, NULL);
	CHECK_HAS(v, "\"ok\":true");
	if ((p = strstr(v, "\"head\":\"")))
		snprintf(head, 65, "%s", p + 8);
	CHECK_INT((int)strlen(head), 64);
	insert(db, "deal", "{'title':'B'}");
	CHECK_HAS(verify(db, head), "\"ok\":true");
	/* the last entries cut off with the sqlite3 CLI */
	raw_sql(&s, "DELETE FROM crm_audit WHERE seq >= (SELECT max(seq) - 2 FROM crm_audit)");
	v = verify(db, NULL);
	CHECK_HAS(v, "\"ok\":false");
	CHECK_HAS(v, "\"kind\":\"tail\"");
	CHECK_HAS(verify(db, head), "\"kind\":\"head\"");
	/* later appends do not paper over the cut */
	insert(db, "deal", "{'title':'C'}");
	CHECK_HAS(verify(db, NULL), "\"kind\":\"link\"");
	CHECK_RC(db, crm_audit_verify_head(db, "xyz", &(char *){ NULL }), CRM_EINVAL);
	close_shared(&s);
}

/* The documented canonical encoding, written again from docs/audit.md. */
static void put_u64(crypto_hash_sha256_state *h, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	crypto_hash_sha256_update(h, b, 8);
}

static void put_s(crypto_hash_sha256_state *h, const char *s)
{
	crypto_hash_sha256_update(h, (const unsigned char *)(s ? "S" : "N"), 1);
	if (s) {
		put_u64(h, strlen(s));
		crypto_hash_sha256_update(h, (const unsigned char *)s, strlen(s));
	}
}

static void put_i(crypto_hash_sha256_state *h, int has, int64_t v)
{
	crypto_hash_sha256_update(h, (const unsigned char *)(has ? "I" : "N"), 1);
	if (has)
		put_u64(h, (uint64_t)v);
}

/* The first entry's fields and its hash (32 bytes) in hex. */
#define HASH_ROW_SQL                                                                                                   \
	(test_pg_url() ? "SELECT seq, at, op, data, encode(hash, 'hex') FROM crm_audit WHERE seq = 1"                     \
		       : "SELECT seq, at, op, data, lower(hex(hash)) FROM crm_audit WHERE seq = 1")

TEST(test_audit__the_documented_encoding_gives_the_stored_hash)
{
	crm_db *db = test_db();
	crypto_hash_sha256_state h;
	unsigned char prev[32] = { 0 }, out[32];
	char hex[65], *rows, data[512], op[32];
	long long seq, at;

	CHECK(sodium_init() >= 0);
	apply(db, "{'form':'t','fields':[{'name':'x','type':'integer'}]}");
	rows = test_rows(db, HASH_ROW_SQL);
	CHECK(rows != NULL);
	if (!rows)
		return;
	CHECK_INT(sscanf(rows, "%lld|%lld|%31[^|]|%511[^|]|%64s", &seq, &at, op, data, hex), 5);
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)"crm-audit-1", 12); /* with its NUL */
	put_i(&h, 1, seq);
	put_i(&h, 1, at);
	put_s(&h, NULL); /* actor */
	put_s(&h, op);
	put_s(&h, NULL); /* form */
	put_i(&h, 0, 0); /* record */
	put_i(&h, 0, 0); /* version */
	put_s(&h, data);
	crypto_hash_sha256_update(&h, prev, 32);
	crypto_hash_sha256_final(&h, out);
	sodium_bin2hex(data, sizeof data, out, 32);
	CHECK_STR(data, hex);
	CHECK_STR(op, "apply");
	free(rows);
	crm_close(db);
}

/* Keyed entries are HMAC-SHA-256 of the same encoding: hashes written
 * before the switch of hashing library still verify. */
TEST(test_audit__a_keyed_hash_is_the_hmac_of_the_documented_encoding)
{
	static const char key[] = "0123456789abcdef0123456789abcdef";
	crm_db *db = test_db();
	crypto_auth_hmacsha256_state h;
	unsigned char prev[32] = { 0 }, out[32];
	char hex[65], *rows, data[512], op[32];
	long long seq, at;

	CHECK(sodium_init() >= 0);
	CHECK_OK(db, crm_audit_key_set(db, key, 32));
	apply(db, "{'form':'t','fields':[{'name':'x','type':'integer'}]}");
	rows = test_rows(db, HASH_ROW_SQL);
	CHECK(rows != NULL);
	if (!rows)
		return;
	CHECK_INT(sscanf(rows, "%lld|%lld|%31[^|]|%511[^|]|%64s", &seq, &at, op, data, hex), 5);
	crypto_auth_hmacsha256_init(&h, (const unsigned char *)key, 32);
	/* crypto_auth_hmacsha256_update feeds the inner hash, as these do */
	crypto_hash_sha256_update(&h.ictx, (const unsigned char *)"crm-audit-1", 12);
	put_i(&h.ictx, 1, seq);
	put_i(&h.ictx, 1, at);
	put_s(&h.ictx, NULL); /* actor */
	put_s(&h.ictx, op);
	put_s(&h.ictx, NULL); /* form */
	put_i(&h.ictx, 0, 0); /* record */
	put_i(&h.ictx, 0, 0); /* version */
	put_s(&h.ictx, data);
	crypto_hash_sha256_update(&h.ictx, prev, 32);
	crypto_auth_hmacsha256_final(&h, out);
	sodium_bin2hex(data, sizeof data, out, 32);
	CHECK_STR(data, hex);
	free(rows);
	crm_close(db);
}

TEST(test_audit__a_key_makes_entries_hmacs_only_its_holder_verifies)
{
	static const char key[] = "0123456789abcdef0123456789abcdef";
	shared s;
	crm_db *db, *other;

	test_new_shared(s.dir, s.path, sizeof s.path, s.schema, sizeof s.schema);
	s.db = db = test_open_shared(s.path, s.schema, 2000);
	CHECK_RC(db, crm_audit_key_set(db, "short", 5), CRM_EINVAL);
	CHECK_OK(db, crm_audit_key_set(db, key, 32));
	apply(db, forms);
	insert(db, "deal", "{'title':'A'}");
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	/* without the key (or with another) every entry fails: a chain
	 * recomputed with plain SHA-256 by someone without the key would too */
	other = test_open_shared(s.path, s.schema, 2000);
	CHECK_HAS(verify(other, NULL), "\"ok\":false");
	CHECK_OK(other, crm_audit_key_set(other, "another key of 32 bytes, wrong!!", 32));
	CHECK_HAS(verify(other, NULL), "\"kind\":\"hash\"");
	CHECK_OK(other, crm_audit_key_set(other, key, 32));
	CHECK_HAS(verify(other, NULL), "\"ok\":true");
	crm_close(other);
	/* back to plain SHA-256 on this handle: the keyed entries no longer verify */
	CHECK_OK(db, crm_audit_key_set(db, NULL, 0));
	CHECK_HAS(verify(db, NULL), "\"ok\":false");
	close_shared(&s);
}

TEST(test_audit__history_lists_entries_oldest_first)
{
	crm_db *db = test_db();
	char *json = NULL;

	apply(db, forms);
	insert(db, "deal", "{'title':'A'}");
	CHECK_OK(db, update(db, "deal", 1, "{'title':'B'}"));
	CHECK_OK(db, crm_audit_history(db, "deal", 1, &json));
	CHECK(json && strstr(json, "\"op\":\"insert\"") < strstr(json, "\"op\":\"update\""));
	CHECK_HAS(json, "\"at\":\"2026-01-02T03:04:05.000Z\"");
	crm_free(json);
	CHECK_STR(history(db, "deal", 99), "[]");
	CHECK_RC(db, crm_audit_history(db, "deal; DROP TABLE crm_audit", 1, &json), CRM_EINVAL);
	CHECK_RC(db, crm_audit_history(db, "deal", 1, NULL), CRM_EMISUSE);
	crm_close(db);
}

/* As a rep, another rep's record has no trail: history, record_at and
 * revert answer as for an id that never existed, and change nothing; her
 * own record's trail leaves out the field she may not read. */
TEST(test_audit__the_trail_answers_as_the_access_rules_allow)
{
	crm_db *db = test_db();
	char *json = NULL, missing[256];
	int64_t ann_deal, bob_deal;

	apply(db, "{'form':'deal','fields':[{'name':'title','type':'text'},{'name':'margin','type':'integer'}],"
		  " 'permissions':[{'roles':['rep'],'allow':['read','create','update'],"
		  "  'rows':{'field':'owner','op':'eq','actor':'user'},'fields':{'margin':'hidden'}}]}");
	bob_deal = insert(db, "deal", "{'title':'Bob','margin':7,'owner':'bob'}");
	ann_deal = insert(db, "deal", "{'title':'Ann','margin':9,'owner':'ann'}");
	CHECK_OK(db, crm_actor_set(db, "ann", "rep"));
	CHECK_OK(db, update(db, "deal", ann_deal, "{'title':'Ann 2'}"));
	CHECK_RC(db, crm_audit_history(db, "deal", 99, &json), CRM_ENOTFOUND);
	snprintf(missing, sizeof missing, "%s", crm_errmsg(db));
	CHECK_RC(db, crm_audit_history(db, "deal", bob_deal, &json), CRM_ENOTFOUND);
	CHECK(strcmp(crm_errmsg(db), missing) != 0 && strstr(crm_errmsg(db), "no deal record with id"));
	CHECK_RC(db, crm_record_at(db, "deal", bob_deal, T0 + 1000, &json), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_revert(db, "deal", bob_deal, 1), CRM_ENOTFOUND);
	CHECK_HAS(history(db, "deal", ann_deal), "\"title\":[\"Ann\",\"Ann 2\"]");
	CHECK(strstr(history(db, "deal", ann_deal), "margin") == NULL);
	CHECK(strstr(record_at(db, "deal", ann_deal, T0 + 1000), "\"title\":\"Ann 2\"") != NULL);
	CHECK(strstr(record_at(db, "deal", ann_deal, T0 + 1000), "margin") == NULL);
	CHECK_OK(db, crm_actor_set(db, NULL, NULL));
	CHECK_HAS(history(db, "deal", ann_deal), "\"margin\":9");
	CHECK_HAS(test_get(db, "deal", bob_deal), "\"title\":\"Bob\"");
	crm_free(json);
	crm_close(db);
}

/* ---- compact entries (format 6) ---- */

static const char item_v1[] = "{'form':'item','events':false,'fields':[{'name':'a','type':'text'},{'name':'b','type':'integer'}]}";

/* An insert's and a delete's entry hold their values, their names once in
 * a "fields" entry of the form, made again when the form's fields change:
 * every entry reads back with the names it was written with. (The form
 * has no events, so its entries are compact on both backends.) */
TEST(test_audit__compact_entries_keep_their_names_through_form_changes)
{
	static const char names[] = "SELECT data FROM crm_audit WHERE op = 'fields' AND form = 'item' ORDER BY id";
	shared s;
	crm_db *db = open_shared(&s);
	char *rows;

	CHECK_OK(db, apply(db, item_v1));
	CHECK_OK(db, crm_actor_set(db, "ann", "rep"));
	CHECK_INT(insert(db, "item", "{'a':'x','b':1}"), 1);
	CHECK_INT(insert(db, "item", "{'a':'say \\\"hi\\\"'}"), 2);
	rows = test_rows(db, "SELECT data FROM crm_audit WHERE op = 'insert' AND form = 'item' ORDER BY id");
	CHECK_STR(rows, "[\"x\",1,\"ann\"]\n[\"say \\\"hi\\\"\",null,\"ann\"]\n");
	free(rows);
	/* b goes, c comes: the next write's names differ, and are kept */
	rows = test_q("{'form':'item','events':false,'fields':[{'name':'a','type':'text'},{'name':'c','type':'text'}]}");
	CHECK_OK(db, test_apply_lossy(db, rows));
	free(rows);
	CHECK_INT(insert(db, "item", "{'a':'y','c':'z'}"), 3);
	CHECK_OK(db, crm_record_delete(db, "item", 1, 0));
	rows = test_rows(db, names);
	CHECK_STR(rows, "[\"a\",\"b\",\"owner\"]\n[\"a\",\"c\",\"owner\"]\n");
	free(rows);
	CHECK_HAS(history(db, "item", 1), "\"op\":\"insert\",\"form\":\"item\",\"record\":1,\"version\":1,"
					  "\"data\":{\"a\":\"x\",\"b\":1,\"owner\":\"ann\"}}");
	CHECK_HAS(history(db, "item", 1), "\"op\":\"delete\",\"form\":\"item\",\"record\":1,\"version\":1,"
					  "\"data\":{\"a\":\"x\",\"c\":null}}");
	CHECK_HAS(history(db, "item", 2), "\"data\":{\"a\":\"say \\\"hi\\\"\",\"b\":null,\"owner\":\"ann\"}}");
	CHECK_HAS(history(db, "item", 3), "\"data\":{\"a\":\"y\",\"c\":\"z\",\"owner\":\"ann\"}}");
	CHECK_HAS(record_at(db, "item", 2, T0), "\"a\":\"say \\\"hi\\\"\"");
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	/* the names are part of the chain: changed behind libcrm's back,
	 * verify reports it */
	raw_sql(&s, "UPDATE crm_audit SET data = '[\"b\",\"a\",\"owner\"]' WHERE op = 'fields' AND form = 'item'"
		    " AND data LIKE '%\"b\"%'");
	CHECK_HAS(verify(s.db, NULL), "\"kind\":\"hash\"");
	close_shared(&s);
}

/* A "fields" entry made inside a savepoint that rolled back goes with it;
 * the next entry that needs the names makes them again. */
TEST(test_audit__names_rolled_back_are_made_again)
{
	crm_db *db = test_db();
	char *rows;

	CHECK_OK(db, apply(db, item_v1));
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm__tx_begin(db));
	CHECK_INT(insert(db, "item", "{'a':'gone'}"), 1);
	CHECK_HAS(history(db, "item", 1), "\"a\":\"gone\""); /* appended inside the savepoint */
	CHECK_INT(crm__tx_end(db, CRM_ERROR), CRM_ERROR);
	CHECK_INT(insert(db, "item", "{'a':'kept'}"), test_on_sqlite(db) ? 1 : 2); /* PostgreSQL's sequences move on */
	CHECK_OK(db, crm_commit(db));
	rows = test_rows(db, "SELECT op || ' ' || data FROM crm_audit WHERE form = 'item' ORDER BY id");
	CHECK_STR(rows, "fields [\"a\",\"b\",\"owner\"]\ninsert [\"kept\",null]\n");
	free(rows);
	CHECK_HAS(history(db, "item", test_on_sqlite(db) ? 1 : 2), "\"data\":{\"a\":\"kept\",\"b\":null}}");
	CHECK_HAS(verify(db, NULL), "\"ok\":true");
	crm_close(db);
}

TEST_LIST(T(test_audit__insert_update_delete_carry_field_level_values),
	  T(test_audit__cascades_and_set_null_are_audited_on_each_record),
	  T(test_audit__transitions_timers_approvals_and_applies), T(test_audit__batch_inserts_are_audited_with_their_ids),
	  T(test_audit__an_entry_goes_with_its_transaction),
	  T(test_audit__a_savepoint_rolled_back_drops_its_entries),
	  T(test_audit__a_denied_write_is_audited_after_its_rollback),
	  T(test_audit__audit_false_switches_record_entries_off),
	  T(test_audit__a_script_cannot_switch_audit_off_or_touch_the_trail),
	  T(test_audit__writers_side_by_side_make_one_chain), T(test_audit__record_at_before_and_after_a_delete), T(test_audit__revert_goes_through_the_write_path),
	  T(test_audit__a_refused_revert_changes_nothing), T(test_audit__verify_catches_an_edited_value),
	  T(test_audit__verify_tells_a_changed_hash_from_the_entry_after_it),
	  T(test_audit__verify_catches_a_deleted_entry), T(test_audit__verify_catches_an_inserted_entry),
	  T(test_audit__verify_catches_a_reordered_entry),
	  T(test_audit__verify_catches_a_truncated_tail_and_a_lost_head),
	  T(test_audit__hex_hashes_of_an_earlier_format_become_bytes),
	  T(test_audit__events_of_an_earlier_format_read_as_before),
	  T(test_audit__the_documented_encoding_gives_the_stored_hash),
	  T(test_audit__a_keyed_hash_is_the_hmac_of_the_documented_encoding),
	  T(test_audit__a_key_makes_entries_hmacs_only_its_holder_verifies),
	  T(test_audit__history_lists_entries_oldest_first), T(test_audit__the_trail_answers_as_the_access_rules_allow),
	  T(test_audit__compact_entries_keep_their_names_through_form_changes),
	  T(test_audit__names_rolled_back_are_made_again))
