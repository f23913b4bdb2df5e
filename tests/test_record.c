/* Single records: insert, get, update, delete, references, upsert
 * (docs/metadata.md "Records and validation", "System columns"). */
#include "core/codec.h"
#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

#define NOW "2026-01-02T03:04:05.000Z"

static const char lead_form[] =
	"{\"form\":\"lead\",\"fields\":["
	"{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"phone\",\"type\":\"phone\",\"unique\":true},"
	"{\"name\":\"score\",\"type\":\"integer\"},"
	"{\"name\":\"budget\",\"type\":\"decimal\",\"scale\":2},"
	"{\"name\":\"region\",\"type\":\"enum\",\"options\":[\"north\",\"south\"]},"
	"{\"name\":\"channel\",\"type\":\"enum\",\"options\":[\"web\",\"wechat\"]},"
	"{\"name\":\"external_id\",\"type\":\"text\"}],"
	"\"unique\":[[\"channel\",\"external_id\"]],"
	"\"indexes\":[[\"region\"]]}";

static crm_db *lead_db(void)
{
	crm_db *db = test_db();

	test_apply(db, lead_form);
	return db;
}

static int64_t count_of(crm_db *db, const char *form)
{
	int64_t n = -1;

	if (crm_count(db, form, NULL, &n) != CRM_OK)
		return -1;
	return n;
}

TEST(test_record__insert_returns_increasing_ids)
{
	crm_db *db = lead_db();
	int64_t prev = 0;

	for (int i = 0; i < 10; i++) {
		int64_t id = -1;
		CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"n\"}", &id));
		CHECK(id > prev);
		CHECK_INT(id, i + 1);
		prev = id;
	}
	/* out_id may be NULL */
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"n\"}", NULL));
	CHECK_INT(count_of(db, "lead"), 11);
	crm_close(db);
}

TEST(test_record__get_returns_every_field_and_system_columns_in_order)
{
	crm_db *db = lead_db();
	int64_t id = 0;
	char *json = NULL;

	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"Ann\",\"budget\":\"12.5\"}", &id));
	CHECK_OK(db, crm_record_get(db, "lead", id, &json));
	CHECK_STR(json, "{\"id\":1,\"name\":\"Ann\",\"phone\":null,\"score\":null,\"budget\":12.50,\"region\":null,"
			"\"channel\":null,\"external_id\":null,"
			"\"created_at\":\"" NOW "\",\"updated_at\":\"" NOW "\",\"owner\":null,\"version\":1}");
	crm_free(json);
	json = NULL;
	CHECK_OK(db, crm_record_insert(db, "lead",
				       "{\"region\":\"south\",\"score\":-7,\"phone\":\"+86 138-0000-0000\",\"name\":\"Bo\","
				       "\"channel\":\"web\",\"external_id\":\"x1\",\"budget\":3}",
				       &id));
	CHECK_OK(db, crm_record_get(db, "lead", id, &json));
	CHECK_STR(json, "{\"id\":2,\"name\":\"Bo\",\"phone\":\"+86 138-0000-0000\",\"score\":-7,\"budget\":3.00,"
			"\"region\":\"south\",\"channel\":\"web\",\"external_id\":\"x1\","
			"\"created_at\":\"" NOW "\",\"updated_at\":\"" NOW "\",\"owner\":null,\"version\":1}");
	crm_free(json);
	crm_close(db);
}

TEST(test_record__get_missing_id_is_not_found)
{
	crm_db *db = lead_db();
	char *json = (char *)"sentinel";

	CHECK_RC(db, crm_record_get(db, "lead", 1, &json), CRM_ENOTFOUND);
	CHECK(json == NULL);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"a\"}", NULL));
	CHECK_RC(db, crm_record_get(db, "lead", 2, &json), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_get(db, "lead", 0, &json), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_get(db, "lead", -1, &json), CRM_ENOTFOUND);
	CHECK_HAS(crm_errdetail(db), "CRM_ENOTFOUND");
	CHECK_RC(db, crm_record_get(db, "nosuchform", 1, &json), CRM_ENOTFOUND);
	crm_close(db);
}

TEST(test_record__update_changes_only_given_fields)
{
	crm_db *db = lead_db();
	int64_t id = 0;

	CHECK_OK(db, crm_record_insert(db, "lead",
				       "{\"name\":\"Ann\",\"phone\":\"13800000000\",\"score\":5,\"budget\":1.25,"
				       "\"region\":\"north\"}",
				       &id));
	CHECK_OK(db, crm_clock_set(db, INT64_C(1767323045000) + 60000));
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"score\":6,\"region\":null}", 0));
	CHECK_STR(test_get(db, "lead", id),
		  "{\"id\":1,\"name\":\"Ann\",\"phone\":\"13800000000\",\"score\":6,\"budget\":1.25,\"region\":null,"
		  "\"channel\":null,\"external_id\":null,"
		  "\"created_at\":\"" NOW "\",\"updated_at\":\"2026-01-02T03:05:05.000Z\",\"owner\":null,\"version\":2}");
	/* An empty object still counts as an update: version and updated_at move. */
	CHECK_OK(db, crm_clock_set(db, INT64_C(1767323045000) + 120000));
	CHECK_OK(db, crm_record_update(db, "lead", id, "{}", 0));
	CHECK_HAS(test_get(db, "lead", id), "\"version\":3");
	CHECK_HAS(test_get(db, "lead", id), "\"updated_at\":\"2026-01-02T03:06:05.000Z\"");
	CHECK_HAS(test_get(db, "lead", id), "\"score\":6");
	/* null clears; "" clears a string field too */
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"phone\":\"\",\"budget\":null}", 0));
	CHECK_HAS(test_get(db, "lead", id), "\"phone\":null");
	CHECK_HAS(test_get(db, "lead", id), "\"budget\":null");
	CHECK_HAS(test_get(db, "lead", id), "\"version\":4");
	CHECK_INT(test_sql_int(db, "SELECT phone IS NULL FROM lead WHERE id=1"), 1);
	crm_close(db);
}

TEST(test_record__update_of_missing_record_is_not_found)
{
	crm_db *db = lead_db();

	CHECK_RC(db, crm_record_update(db, "lead", 42, "{\"score\":1}", 0), CRM_ENOTFOUND);
	CHECK_INT(count_of(db, "lead"), 0);
	crm_close(db);
}

TEST(test_record__failing_update_changes_nothing)
{
	crm_db *db = lead_db();
	int64_t id = 0;
	char before[4096];

	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"Ann\",\"score\":5}", &id));
	snprintf(before, sizeof before, "%s", test_get(db, "lead", id));
	CHECK_OK(db, crm_clock_set(db, INT64_C(1767323045000) + 60000));
	/* name cleared (required) and a bad region: both reported, nothing stored */
	CHECK_RC(db, crm_record_update(db, "lead", id, "{\"name\":null,\"score\":9,\"region\":\"up\"}", 0),
		 CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"name\",\"code\":\"required\"");
	CHECK_HAS(crm_errdetail(db), "\"field\":\"region\",\"code\":\"option\"");
	CHECK_STR(test_get(db, "lead", id), before);
	crm_close(db);
}

TEST(test_record__update_with_expected_version_checks_it)
{
	crm_db *db = lead_db();
	int64_t id = 0;
	char before[4096];

	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"Ann\"}", &id));
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"score\":1}", 1));
	CHECK_HAS(test_get(db, "lead", id), "\"version\":2");
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"score\":2}", 2));
	CHECK_HAS(test_get(db, "lead", id), "\"version\":3");
	snprintf(before, sizeof before, "%s", test_get(db, "lead", id));
	CHECK_OK(db, crm_clock_set(db, INT64_C(1767323045000) + 60000));
	CHECK_RC(db, crm_record_update(db, "lead", id, "{\"score\":99}", 2), CRM_ECONFLICT);
	CHECK_HAS(crm_errdetail(db), "CRM_ECONFLICT");
	CHECK_RC(db, crm_record_update(db, "lead", id, "{\"score\":99}", 4), CRM_ECONFLICT);
	CHECK_STR(test_get(db, "lead", id), before);
	CHECK_HAS(before, "\"score\":2");
	crm_close(db);
}

TEST(test_record__delete_removes_the_record)
{
	crm_db *db = lead_db();
	int64_t a = 0, b = 0;

	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", &a));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"B\"}", &b));
	CHECK_OK(db, crm_record_delete(db, "lead", a, 0));
	CHECK(test_get(db, "lead", a) == NULL);
	CHECK_HAS(test_get(db, "lead", b), "\"name\":\"B\"");
	CHECK_RC(db, crm_record_delete(db, "lead", a, 0), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_delete(db, "lead", 999, 0), CRM_ENOTFOUND);
	CHECK_INT(count_of(db, "lead"), 1);
	crm_close(db);
}

TEST(test_record__delete_with_expected_version_checks_it)
{
	crm_db *db = lead_db();
	int64_t id = 0;

	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", &id));
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"score\":1}", 0));
	CHECK_RC(db, crm_record_delete(db, "lead", id, 1), CRM_ECONFLICT);
	CHECK_HAS(test_get(db, "lead", id), "\"version\":2");
	CHECK_OK(db, crm_record_delete(db, "lead", id, 2));
	CHECK(test_get(db, "lead", id) == NULL);
	crm_close(db);
}

TEST(test_record__unique_value_is_refused_with_the_other_record)
{
	crm_db *db = lead_db();
	int64_t c = 0;

	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\",\"phone\":\"13800000000\"}", NULL));
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"B\",\"phone\":\"13800000000\"}", NULL),
		 CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"phone\",\"code\":\"unique\"");
	CHECK_HAS(crm_errdetail(db), "record 1");
	CHECK_INT(count_of(db, "lead"), 1);
	/* reported together with other failures */
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"phone\":\"13800000000\"}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"required\"");
	CHECK_HAS(crm_errdetail(db), "\"code\":\"unique\"");
	/* updating the record to its own value is fine; another record to it is not */
	CHECK_OK(db, crm_record_update(db, "lead", 1, "{\"phone\":\"13800000000\"}", 0));
	/* (PostgreSQL's ids have gaps where inserts failed: take the one given) */
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"C\",\"phone\":\"13800000001\"}", &c));
	CHECK_RC(db, crm_record_update(db, "lead", c, "{\"phone\":\"13800000000\"}", 0), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"unique\"");
	CHECK_HAS(test_get(db, "lead", c), "\"phone\":\"13800000001\"");
	crm_close(db);
}

static const char ref_forms[] =
	"[{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]},"
	" {\"form\":\"deal\",\"fields\":[{\"name\":\"title\",\"type\":\"text\"},"
	"   {\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"}]},"
	" {\"form\":\"note\",\"fields\":[{\"name\":\"body\",\"type\":\"text\"},"
	"   {\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\",\"on_delete\":\"set_null\"}]},"
	" {\"form\":\"task\",\"fields\":[{\"name\":\"what\",\"type\":\"text\"},"
	"   {\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\",\"on_delete\":\"cascade\"}]},"
	" {\"form\":\"subtask\",\"fields\":[{\"name\":\"what\",\"type\":\"text\"},"
	"   {\"name\":\"task\",\"type\":\"ref\",\"form\":\"task\",\"on_delete\":\"cascade\"}]}]";

TEST(test_record__ref_must_point_at_an_existing_record)
{
	crm_db *db = test_db();

	test_apply(db, ref_forms);
	CHECK_RC(db, crm_record_insert(db, "deal", "{\"title\":\"x\",\"customer\":1}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"customer\",\"code\":\"ref\"");
	CHECK_RC(db, crm_record_insert(db, "deal", "{\"title\":\"x\",\"customer\":0}", NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"c\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"title\":\"x\",\"customer\":1}", NULL));
	CHECK_HAS(test_get(db, "deal", 1), "\"customer\":1");
	crm_close(db);
}

TEST(test_record__delete_restrict_refuses_referenced_record)
{
	crm_db *db = test_db();
	int64_t c = 0, d = 0;

	test_apply(db, ref_forms);
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"c\"}", &c));
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"title\":\"x\",\"customer\":1}", &d));
	CHECK_RC(db, crm_record_delete(db, "customer", c, 0), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"referenced\"");
	CHECK_HAS(crm_errdetail(db), "\"field\":\"customer\"");
	CHECK_HAS(crm_errmsg(db), "deal record 1");
	CHECK(test_get(db, "customer", c) != NULL);
	CHECK(test_get(db, "deal", d) != NULL);
	/* Once the reference is gone, the delete works. */
	CHECK_OK(db, crm_record_update(db, "deal", d, "{\"customer\":null}", 0));
	CHECK_OK(db, crm_record_delete(db, "customer", c, 0));
	CHECK(test_get(db, "customer", c) == NULL);
	crm_close(db);
}

TEST(test_record__delete_set_null_clears_referring_field)
{
	crm_db *db = test_db();
	int64_t c1 = 0, c2 = 0, n1 = 0, n2 = 0, n3 = 0;

	test_apply(db, ref_forms);
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"c1\"}", &c1));
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"c2\"}", &c2));
	CHECK_OK(db, crm_record_insert(db, "note", "{\"body\":\"a\",\"customer\":1}", &n1));
	CHECK_OK(db, crm_record_insert(db, "note", "{\"body\":\"b\",\"customer\":1}", &n2));
	CHECK_OK(db, crm_record_insert(db, "note", "{\"body\":\"c\",\"customer\":2}", &n3));
	CHECK_OK(db, crm_record_delete(db, "customer", c1, 0));
	CHECK(test_get(db, "customer", c1) == NULL);
	CHECK_HAS(test_get(db, "note", n1), "\"body\":\"a\",\"customer\":null");
	CHECK_HAS(test_get(db, "note", n1), "\"version\":2"); /* through the write path */
	CHECK_HAS(test_get(db, "note", n2), "\"body\":\"b\",\"customer\":null");
	CHECK_HAS(test_get(db, "note", n3), "\"body\":\"c\",\"customer\":2");
	CHECK_HAS(test_get(db, "note", n3), "\"version\":1");
	CHECK_INT(count_of(db, "note"), 3);
	crm_close(db);
}

TEST(test_record__delete_cascade_deletes_referring_records_two_levels)
{
	crm_db *db = test_db();

	test_apply(db, ref_forms);
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"c1\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"c2\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "task", "{\"what\":\"t1\",\"customer\":1}", NULL));
	CHECK_OK(db, crm_record_insert(db, "task", "{\"what\":\"t2\",\"customer\":1}", NULL));
	CHECK_OK(db, crm_record_insert(db, "task", "{\"what\":\"t3\",\"customer\":2}", NULL));
	CHECK_OK(db, crm_record_insert(db, "subtask", "{\"what\":\"s1\",\"task\":1}", NULL));
	CHECK_OK(db, crm_record_insert(db, "subtask", "{\"what\":\"s2\",\"task\":2}", NULL));
	CHECK_OK(db, crm_record_insert(db, "subtask", "{\"what\":\"s3\",\"task\":3}", NULL));
	CHECK_OK(db, crm_record_delete(db, "customer", 1, 0));
	CHECK(test_get(db, "customer", 1) == NULL);
	CHECK(test_get(db, "task", 1) == NULL);
	CHECK(test_get(db, "task", 2) == NULL);
	CHECK(test_get(db, "subtask", 1) == NULL);
	CHECK(test_get(db, "subtask", 2) == NULL);
	CHECK(test_get(db, "customer", 2) != NULL);
	CHECK(test_get(db, "task", 3) != NULL);
	CHECK_HAS(test_get(db, "subtask", 3), "\"what\":\"s3\"");
	CHECK_INT(count_of(db, "task"), 1);
	CHECK_INT(count_of(db, "subtask"), 1);
	crm_close(db);
}

TEST(test_record__cascade_blocked_by_restrict_further_down_changes_nothing)
{
	crm_db *db = test_db();

	test_apply(db, ref_forms);
	test_apply(db, "{\"form\":\"invoice\",\"fields\":[{\"name\":\"task\",\"type\":\"ref\",\"form\":\"task\"}]}");
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"c1\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "note", "{\"body\":\"n\",\"customer\":1}", NULL));
	CHECK_OK(db, crm_record_insert(db, "task", "{\"what\":\"t1\",\"customer\":1}", NULL));
	CHECK_OK(db, crm_record_insert(db, "task", "{\"what\":\"t2\",\"customer\":1}", NULL));
	CHECK_OK(db, crm_record_insert(db, "subtask", "{\"what\":\"s1\",\"task\":1}", NULL));
	CHECK_OK(db, crm_record_insert(db, "invoice", "{\"task\":2}", NULL)); /* restrict on task 2 */
	CHECK_RC(db, crm_record_delete(db, "customer", 1, 0), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"referenced\"");
	/* nothing changed: not the customer, not the cascades, not the set_null */
	CHECK(test_get(db, "customer", 1) != NULL);
	CHECK_INT(count_of(db, "task"), 2);
	CHECK_INT(count_of(db, "subtask"), 1);
	CHECK_HAS(test_get(db, "note", 1), "\"customer\":1");
	CHECK_HAS(test_get(db, "note", 1), "\"version\":1");
	crm_close(db);
}

TEST(test_record__self_reference_cascade_deletes_the_subtree)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"node\",\"fields\":[{\"name\":\"label\",\"type\":\"text\"},"
		       "{\"name\":\"parent\",\"type\":\"ref\",\"form\":\"node\",\"on_delete\":\"cascade\"}]}");
	CHECK_OK(db, crm_record_insert(db, "node", "{\"label\":\"root\"}", NULL));      /* 1 */
	CHECK_OK(db, crm_record_insert(db, "node", "{\"label\":\"a\",\"parent\":1}", NULL)); /* 2 */
	CHECK_OK(db, crm_record_insert(db, "node", "{\"label\":\"b\",\"parent\":1}", NULL)); /* 3 */
	CHECK_OK(db, crm_record_insert(db, "node", "{\"label\":\"a1\",\"parent\":2}", NULL)); /* 4 */
	CHECK_OK(db, crm_record_insert(db, "node", "{\"label\":\"other\"}", NULL));     /* 5 */
	CHECK_OK(db, crm_record_delete(db, "node", 1, 0));
	CHECK_INT(count_of(db, "node"), 1);
	CHECK_HAS(test_get(db, "node", 5), "\"label\":\"other\"");
	crm_close(db);
}

/* A chain of `n` nodes, each the child of the one before (cascade), each
 * assigned to agent 1 so a rollup counts them. */
static crm_db *node_chain(int n)
{
	crm_db *db = test_db();
	char json[96];

	test_apply(db, "[{\"form\":\"agent\",\"fields\":[{\"name\":\"nodes\",\"type\":\"rollup\",\"form\":\"node\","
		       "\"ref\":\"agent\",\"agg\":\"count\"}]},"
		       "{\"form\":\"node\",\"fields\":[{\"name\":\"label\",\"type\":\"text\"},"
		       "{\"name\":\"agent\",\"type\":\"ref\",\"form\":\"agent\"},"
		       "{\"name\":\"parent\",\"type\":\"ref\",\"form\":\"node\",\"on_delete\":\"cascade\"}]}]");
	CHECK_OK(db, crm_record_insert(db, "agent", "{}", NULL));
	CHECK_OK(db, crm_record_insert(db, "node", "{\"label\":\"n1\",\"agent\":1}", NULL));
	for (int i = 2; i <= n; i++) {
		snprintf(json, sizeof json, "{\"label\":\"n%d\",\"agent\":1,\"parent\":%d}", i, i - 1);
		CHECK_OK(db, crm_record_insert(db, "node", json, NULL));
	}
	return db;
}

TEST(test_record__cascade_1000_deep_deletes_the_whole_chain_and_runs_every_hook)
{
	crm_db *db = node_chain(1000);

	CHECK_HAS(test_get(db, "agent", 1), "\"nodes\":1000");
	CHECK_OK(db, crm_record_delete(db, "node", 1, 0));
	CHECK_INT(count_of(db, "node"), 0);
	/* the rollup hook ran for every deleted record */
	CHECK_HAS(test_get(db, "agent", 1), "\"nodes\":0");
	crm_close(db);
}

TEST(test_record__cascade_from_the_middle_of_a_chain_keeps_the_part_above)
{
	crm_db *db = node_chain(40);

	CHECK_OK(db, crm_record_delete(db, "node", 25, 0));
	CHECK_INT(count_of(db, "node"), 24);
	CHECK_HAS(test_get(db, "node", 24), "\"parent\":23");
	CHECK_HAS(test_get(db, "agent", 1), "\"nodes\":24");
	crm_close(db);
}

TEST(test_record__cascade_diamond_deletes_the_shared_child_once)
{
	crm_db *db = test_db();

	/* top <- left, right (cascade); bottom -> left (cascade), right (set_null) */
	test_apply(db, "[{\"form\":\"top\",\"fields\":[{\"name\":\"n\",\"type\":\"text\"}]},"
		       "{\"form\":\"side\",\"fields\":[{\"name\":\"top\",\"type\":\"ref\",\"form\":\"top\","
		       "\"on_delete\":\"cascade\"}]},"
		       "{\"form\":\"bottom\",\"fields\":["
		       "{\"name\":\"left\",\"type\":\"ref\",\"form\":\"side\",\"on_delete\":\"cascade\"},"
		       "{\"name\":\"right\",\"type\":\"ref\",\"form\":\"side\",\"on_delete\":\"set_null\"},"
		       "{\"name\":\"both\",\"type\":\"ref\",\"form\":\"side\",\"on_delete\":\"cascade\"}]}]");
	CHECK_OK(db, crm_record_insert(db, "top", "{\"n\":\"t\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "top", "{\"n\":\"keep\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "side", "{\"top\":1}", NULL));
	CHECK_OK(db, crm_record_insert(db, "side", "{\"top\":1}", NULL));
	CHECK_OK(db, crm_record_insert(db, "side", "{\"top\":2}", NULL));
	CHECK_OK(db, crm_record_insert(db, "bottom", "{\"left\":1,\"right\":2,\"both\":2}", NULL)); /* goes */
	CHECK_OK(db, crm_record_insert(db, "bottom", "{\"left\":3,\"right\":1}", NULL)); /* right cleared */
	CHECK_OK(db, crm_record_delete(db, "top", 1, 0));
	CHECK_INT(count_of(db, "top"), 1);
	CHECK_INT(count_of(db, "side"), 1);
	CHECK_INT(count_of(db, "bottom"), 1);
	CHECK(test_get(db, "bottom", 1) == NULL);
	CHECK_HAS(test_get(db, "bottom", 2), "\"left\":3,\"right\":null");
	CHECK_HAS(test_get(db, "bottom", 2), "\"version\":2");
	crm_close(db);
}

TEST(test_record__restrict_from_a_record_the_same_delete_removes_does_not_block)
{
	crm_db *db = test_db();

	/* deleting the customer removes its task, which restricts the customer */
	test_apply(db, "[{\"form\":\"customer\",\"fields\":[{\"name\":\"n\",\"type\":\"text\"}]},"
		       "{\"form\":\"task\",\"fields\":["
		       "{\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\",\"on_delete\":\"cascade\"},"
		       "{\"name\":\"billed_to\",\"type\":\"ref\",\"form\":\"customer\",\"on_delete\":\"restrict\"}]}]");
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"n\":\"a\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"n\":\"b\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "task", "{\"customer\":1,\"billed_to\":1}", NULL));
	CHECK_OK(db, crm_record_insert(db, "task", "{\"customer\":2,\"billed_to\":1}", NULL));
	/* task 2 survives and still bills customer 1 */
	CHECK_RC(db, crm_record_delete(db, "customer", 1, 0), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errmsg(db), "task record 2");
	CHECK_INT(count_of(db, "task"), 2);
	CHECK_OK(db, crm_record_update(db, "task", 2, "{\"billed_to\":2}", 0));
	CHECK_OK(db, crm_record_delete(db, "customer", 1, 0));
	CHECK_INT(count_of(db, "task"), 1);
	CHECK_INT(count_of(db, "customer"), 1);
	crm_close(db);
}

TEST(test_record__record_referring_to_itself_can_be_deleted)
{
	static const char *const rules[] = { "cascade", "set_null", "restrict" };

	for (int r = 0; r < 3; r++) {
		crm_db *db = test_db();
		char def[256];

		snprintf(def, sizeof def,
			 "{\"form\":\"person\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
			 "{\"name\":\"manager\",\"type\":\"ref\",\"form\":\"person\",\"on_delete\":\"%s\"}]}",
			 rules[r]);
		test_apply(db, def);
		CHECK_OK(db, crm_record_insert(db, "person", "{\"name\":\"boss\"}", NULL));
		CHECK_OK(db, crm_record_update(db, "person", 1, "{\"manager\":1}", 0)); /* own manager */
		CHECK_OK(db, crm_record_insert(db, "person", "{\"name\":\"other\"}", NULL));
		CHECK_RC(db, crm_record_delete(db, "person", 1, 0), CRM_OK);
		if (test_get(db, "person", 1) != NULL)
			fprintf(stderr, "on_delete %s: a record that refers to itself could not be deleted\n", rules[r]);
		CHECK(test_get(db, "person", 1) == NULL);
		CHECK(test_get(db, "person", 2) != NULL);
		crm_close(db);
	}
}

TEST(test_record__cascade_cycle_between_two_records_deletes_both)
{
	crm_db *db = test_db();

	test_apply(db, "[{\"form\":\"a\",\"fields\":[{\"name\":\"b\",\"type\":\"ref\",\"form\":\"b\","
		       "\"on_delete\":\"cascade\"}]},"
		       "{\"form\":\"b\",\"fields\":[{\"name\":\"a\",\"type\":\"ref\",\"form\":\"a\","
		       "\"on_delete\":\"cascade\"}]}]");
	CHECK_OK(db, crm_record_insert(db, "a", "{}", NULL));
	CHECK_OK(db, crm_record_insert(db, "b", "{\"a\":1}", NULL));
	CHECK_OK(db, crm_record_update(db, "a", 1, "{\"b\":1}", 0));
	CHECK_OK(db, crm_record_insert(db, "a", "{}", NULL)); /* not in the cycle */
	CHECK_OK(db, crm_record_delete(db, "a", 1, 0));
	CHECK_INT(count_of(db, "a"), 1);
	CHECK_INT(count_of(db, "b"), 0);
	CHECK(test_get(db, "a", 2) != NULL);
	crm_close(db);
}

TEST(test_record__cascade_cycle_through_one_form_deletes_the_ring)
{
	crm_db *db = test_db();
	char json[64];

	test_apply(db, "{\"form\":\"node\",\"fields\":["
		       "{\"name\":\"next\",\"type\":\"ref\",\"form\":\"node\",\"on_delete\":\"cascade\"}]}");
	for (int i = 1; i <= 50; i++)
		CHECK_OK(db, crm_record_insert(db, "node", "{}", NULL));
	for (int i = 1; i <= 50; i++) {
		snprintf(json, sizeof json, "{\"next\":%d}", i % 50 + 1);
		CHECK_OK(db, crm_record_update(db, "node", i, json, 0));
	}
	CHECK_OK(db, crm_record_delete(db, "node", 17, 0));
	CHECK_INT(count_of(db, "node"), 0);
	crm_close(db);
}

TEST(test_record__upsert_single_key_inserts_then_updates_given_fields)
{
	crm_db *db = lead_db();
	int64_t id1 = 0, id2 = 0;
	int inserted = -1;

	CHECK_OK(db, crm_record_upsert(db, "lead", "phone", "{\"phone\":\"13800000000\",\"name\":\"Ann\",\"score\":1}",
				       &id1, &inserted));
	CHECK_INT(inserted, 1);
	CHECK_INT(id1, 1);
	CHECK_HAS(test_get(db, "lead", id1), "\"version\":1");
	CHECK_OK(db, crm_clock_set(db, INT64_C(1767323045000) + 1000));
	inserted = -1;
	CHECK_OK(db, crm_record_upsert(db, "lead", "phone", "{\"phone\":\"13800000000\",\"region\":\"north\"}", &id2,
				       &inserted));
	CHECK_INT(inserted, 0);
	CHECK_INT(id2, id1);
	CHECK_STR(test_get(db, "lead", id1),
		  "{\"id\":1,\"name\":\"Ann\",\"phone\":\"13800000000\",\"score\":1,\"budget\":null,\"region\":\"north\","
		  "\"channel\":null,\"external_id\":null,"
		  "\"created_at\":\"" NOW "\",\"updated_at\":\"2026-01-02T03:04:06.000Z\",\"owner\":null,\"version\":2}");
	CHECK_INT(count_of(db, "lead"), 1);
	/* a different key value inserts; NULL out parameters are fine */
	CHECK_OK(db, crm_record_upsert(db, "lead", "phone", "{\"phone\":\"13800000001\",\"name\":\"Bo\"}", NULL, NULL));
	CHECK_INT(count_of(db, "lead"), 2);
	crm_close(db);
}

TEST(test_record__upsert_update_still_validates)
{
	crm_db *db = lead_db();
	int64_t id = 0;

	CHECK_OK(db, crm_record_upsert(db, "lead", "phone", "{\"phone\":\"13800000000\",\"name\":\"Ann\"}", &id, NULL));
	CHECK_RC(db, crm_record_upsert(db, "lead", "phone", "{\"phone\":\"13800000000\",\"name\":null}", NULL, NULL),
		 CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"required\"");
	CHECK_HAS(test_get(db, "lead", id), "\"name\":\"Ann\"");
	/* an insert by upsert is validated too */
	CHECK_RC(db, crm_record_upsert(db, "lead", "phone", "{\"phone\":\"13800000001\"}", NULL, NULL), CRM_ECONSTRAINT);
	CHECK_INT(count_of(db, "lead"), 1);
	crm_close(db);
}

TEST(test_record__upsert_composite_key)
{
	crm_db *db = lead_db();
	int64_t a = 0, b = 0, c = 0;
	int ins = -1;

	CHECK_OK(db, crm_record_upsert(db, "lead", "channel,external_id",
				       "{\"channel\":\"web\",\"external_id\":\"e1\",\"name\":\"A\"}", &a, &ins));
	CHECK_INT(ins, 1);
	/* same external id on another channel: a new record */
	CHECK_OK(db, crm_record_upsert(db, "lead", "channel,external_id",
				       "{\"channel\":\"wechat\",\"external_id\":\"e1\",\"name\":\"B\"}", &b, &ins));
	CHECK_INT(ins, 1);
	CHECK(b != a);
	/* key order in `key` does not matter */
	CHECK_OK(db, crm_record_upsert(db, "lead", "external_id,channel",
				       "{\"external_id\":\"e1\",\"channel\":\"web\",\"score\":3}", &c, &ins));
	CHECK_INT(ins, 0);
	CHECK_INT(c, a);
	CHECK_HAS(test_get(db, "lead", a), "\"name\":\"A\",\"phone\":null,\"score\":3");
	CHECK_HAS(test_get(db, "lead", b), "\"name\":\"B\",\"phone\":null,\"score\":null");
	CHECK_INT(count_of(db, "lead"), 2);
	crm_close(db);
}

TEST(test_record__upsert_key_that_is_not_a_unique_constraint_is_einval)
{
	crm_db *db = lead_db();

	CHECK_RC(db, crm_record_upsert(db, "lead", "name", "{\"name\":\"A\"}", NULL, NULL), CRM_EINVAL);
	/* a plain index is not a unique constraint */
	CHECK_RC(db, crm_record_upsert(db, "lead", "region", "{\"name\":\"A\",\"region\":\"north\"}", NULL, NULL),
		 CRM_EINVAL);
	/* part of a composite constraint is not enough */
	CHECK_RC(db, crm_record_upsert(db, "lead", "channel", "{\"name\":\"A\",\"channel\":\"web\"}", NULL, NULL),
		 CRM_EINVAL);
	/* more than the constraint is not it either */
	CHECK_RC(db, crm_record_upsert(db, "lead", "phone,name", "{\"name\":\"A\",\"phone\":\"13800000000\"}", NULL,
				       NULL),
		 CRM_EINVAL);
	CHECK_RC(db, crm_record_upsert(db, "lead", "nosuch", "{\"name\":\"A\"}", NULL, NULL), CRM_EINVAL);
	CHECK_RC(db, crm_record_upsert(db, "lead", "", "{\"name\":\"A\"}", NULL, NULL), CRM_EINVAL);
	CHECK_INT(count_of(db, "lead"), 0);
	crm_close(db);
}

TEST(test_record__upsert_missing_key_value_is_einval)
{
	crm_db *db = lead_db();

	CHECK_RC(db, crm_record_upsert(db, "lead", "phone", "{\"name\":\"A\"}", NULL, NULL), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "phone");
	CHECK_RC(db, crm_record_upsert(db, "lead", "phone", "{\"name\":\"A\",\"phone\":null}", NULL, NULL), CRM_EINVAL);
	CHECK_RC(db, crm_record_upsert(db, "lead", "channel,external_id", "{\"name\":\"A\",\"channel\":\"web\"}", NULL,
				       NULL),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "external_id");
	CHECK_INT(count_of(db, "lead"), 0);
	crm_close(db);
}

TEST(test_record__upsert_with_invalid_key_value_reports_it_as_a_field_error)
{
	crm_db *db = lead_db();

	CHECK_RC(db, crm_record_upsert(db, "lead", "phone", "{\"phone\":\"not a phone\",\"name\":\"A\"}", NULL, NULL),
		 CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"phone\",\"code\":\"format\"");
	/* with the other failures of the record */
	CHECK_RC(db, crm_record_upsert(db, "lead", "phone", "{\"phone\":5,\"region\":\"up\"}", NULL, NULL),
		 CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"phone\",\"code\":\"type\"");
	CHECK_HAS(crm_errdetail(db), "\"field\":\"region\",\"code\":\"option\"");
	CHECK_HAS(crm_errdetail(db), "\"field\":\"name\",\"code\":\"required\"");
	CHECK_INT(count_of(db, "lead"), 0);
	crm_close(db);
}

TEST(test_record__owner_given_on_insert_and_update)
{
	crm_db *db = lead_db();
	int64_t id = 0;

	CHECK_OK(db, crm_actor_set(db, "alice", NULL));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\",\"owner\":\"carol\"}", &id));
	CHECK_HAS(test_get(db, "lead", id), "\"owner\":\"carol\",\"version\":1");
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"owner\":\"dave\"}", 0));
	CHECK_HAS(test_get(db, "lead", id), "\"owner\":\"dave\",\"version\":2");
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"owner\":null}", 0));
	CHECK_HAS(test_get(db, "lead", id), "\"owner\":null,\"version\":3");
	/* an explicit null owner on insert stays null even with an actor */
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"B\",\"owner\":null}", &id));
	CHECK_HAS(test_get(db, "lead", id), "\"owner\":null");
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"C\",\"owner\":5}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"owner\",\"code\":\"type\"");
	crm_close(db);
}

TEST(test_record__system_columns_other_than_owner_are_readonly)
{
	crm_db *db = lead_db();
	int64_t id = 0;

	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", &id));
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"B\",\"id\":7,\"version\":3}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"id\",\"code\":\"readonly\"");
	CHECK_HAS(crm_errdetail(db), "\"field\":\"version\",\"code\":\"readonly\"");
	CHECK_RC(db, crm_record_update(db, "lead", id, "{\"created_at\":\"2020-01-01T00:00:00Z\"}", 0),
		 CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"readonly\"");
	CHECK_RC(db, crm_record_update(db, "lead", id, "{\"updated_at\":null}", 0), CRM_ECONSTRAINT);
	CHECK_HAS(test_get(db, "lead", id), "\"version\":1");
	CHECK_INT(count_of(db, "lead"), 1);
	crm_close(db);
}

TEST(test_record__sql_looking_form_names_are_not_found_and_table_survives)
{
	crm_db *db = lead_db();
	static const char *const names[] = {
		"lead; DROP TABLE lead",   "lead\"; DROP TABLE lead; --", "lead' OR '1'='1", "LEAD",
		"crm_meta",                "sqlite_schema",               "lead--",          "",
		"lead WHERE 1=1",          "main.lead",
	};
	char *out = NULL;
	int64_t n = 0;

	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", NULL));
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		CHECK_RC(db, crm_record_insert(db, names[i], "{\"name\":\"x\"}", NULL), CRM_ENOTFOUND);
		CHECK_RC(db, crm_record_get(db, names[i], 1, &out), CRM_ENOTFOUND);
		CHECK_RC(db, crm_record_update(db, names[i], 1, "{\"name\":\"x\"}", 0), CRM_ENOTFOUND);
		CHECK_RC(db, crm_record_delete(db, names[i], 1, 0), CRM_ENOTFOUND);
		CHECK_RC(db, crm_record_upsert(db, names[i], "phone", "{\"phone\":\"13800000000\"}", NULL, NULL),
			 CRM_ENOTFOUND);
		CHECK_RC(db, crm_count(db, names[i], NULL, &n), CRM_ENOTFOUND);
	}
	CHECK_INT(test_relation_exists(db, "lead"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead"), 1);
	CHECK_HAS(test_get(db, "lead", 1), "\"name\":\"A\"");
	crm_close(db);
}

TEST(test_record__null_arguments_are_misuse)
{
	crm_db *db = lead_db();
	char *out = NULL;
	int64_t id = 0;

	CHECK_INT(crm_record_insert(NULL, "lead", "{}", &id), CRM_EMISUSE);
	CHECK_RC(db, crm_record_insert(db, NULL, "{\"name\":\"x\"}", &id), CRM_EMISUSE);
	CHECK_RC(db, crm_record_insert(db, "lead", NULL, &id), CRM_EMISUSE);
	CHECK_INT(crm_record_get(NULL, "lead", 1, &out), CRM_EMISUSE);
	CHECK_RC(db, crm_record_get(db, NULL, 1, &out), CRM_EMISUSE);
	CHECK_RC(db, crm_record_get(db, "lead", 1, NULL), CRM_EMISUSE);
	CHECK_INT(crm_record_update(NULL, "lead", 1, "{}", 0), CRM_EMISUSE);
	CHECK_RC(db, crm_record_update(db, NULL, 1, "{}", 0), CRM_EMISUSE);
	CHECK_RC(db, crm_record_update(db, "lead", 1, NULL, 0), CRM_EMISUSE);
	CHECK_INT(crm_record_delete(NULL, "lead", 1, 0), CRM_EMISUSE);
	CHECK_RC(db, crm_record_delete(db, NULL, 1, 0), CRM_EMISUSE);
	CHECK_INT(crm_record_upsert(NULL, "lead", "phone", "{}", NULL, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_record_upsert(db, NULL, "phone", "{\"phone\":\"13800000000\"}", NULL, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_record_upsert(db, "lead", NULL, "{\"phone\":\"13800000000\"}", NULL, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_record_upsert(db, "lead", "phone", NULL, NULL, NULL), CRM_EMISUSE);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead"), 0);
	crm_close(db);
}

TEST(test_record__malformed_json_is_einval_with_offset_and_changes_nothing)
{
	crm_db *db = lead_db();
	int64_t id = 0;

	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", &id));
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"B\",}", NULL), CRM_EINVAL);
	CHECK(crm_erroffset(db) >= 0);
	CHECK_RC(db, crm_record_insert(db, "lead", "[1,2]", NULL), CRM_EINVAL);
	CHECK_RC(db, crm_record_insert(db, "lead", "", NULL), CRM_EINVAL);
	CHECK_RC(db, crm_record_update(db, "lead", id, "{\"name\":\"C\"", 0), CRM_EINVAL);
	CHECK_INT(count_of(db, "lead"), 1);
	CHECK_HAS(test_get(db, "lead", id), "\"name\":\"A\",");
	CHECK_HAS(test_get(db, "lead", id), "\"version\":1");
	crm_close(db);
}

TEST(test_record__every_failing_field_is_reported_at_once)
{
	crm_db *db = lead_db();

	CHECK_RC(db, crm_record_insert(db, "lead",
				       "{\"score\":\"x\",\"region\":\"up\",\"phone\":\"abc\",\"bogus\":1,\"budget\":1.234}",
				       NULL),
		 CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"score\",\"code\":\"type\"");
	CHECK_HAS(crm_errdetail(db), "\"field\":\"region\",\"code\":\"option\"");
	CHECK_HAS(crm_errdetail(db), "\"field\":\"phone\",\"code\":\"format\"");
	CHECK_HAS(crm_errdetail(db), "\"field\":\"bogus\",\"code\":\"unknown_field\"");
	CHECK_HAS(crm_errdetail(db), "\"field\":\"budget\",\"code\":\"format\"");
	CHECK_HAS(crm_errdetail(db), "\"field\":\"name\",\"code\":\"required\"");
	CHECK_HAS(crm_errmsg(db), "and 5 more");
	CHECK_INT(count_of(db, "lead"), 0);
	crm_close(db);
}

TEST(test_record__default_applies_when_absent_not_when_null)
{
	crm_db *db = test_db();
	int64_t a = 0, b = 0;

	test_apply(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"n\",\"type\":\"integer\",\"default\":7},"
		       "{\"name\":\"s\",\"type\":\"text\",\"default\":\"hi\"}]}");
	CHECK_OK(db, crm_record_insert(db, "t", "{}", &a));
	CHECK_HAS(test_get(db, "t", a), "\"n\":7,\"s\":\"hi\"");
	CHECK_OK(db, crm_record_insert(db, "t", "{\"n\":null,\"s\":null}", &b));
	CHECK_HAS(test_get(db, "t", b), "\"n\":null,\"s\":null");
	/* an update does not apply defaults to absent fields */
	CHECK_OK(db, crm_record_update(db, "t", b, "{}", 0));
	CHECK_HAS(test_get(db, "t", b), "\"n\":null,\"s\":null");
	crm_close(db);
}

TEST(test_record__composite_unique_with_system_column_and_nulls_not_distinct)
{
	crm_db *db = test_db();

	/* a unique key may name system columns; reporting a failure must not
	 * read past the fields */
	test_apply(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"code\",\"type\":\"text\"},"
		       "{\"name\":\"n\",\"type\":\"integer\",\"min\":0}],"
		       "\"unique\":[{\"fields\":[\"code\",\"owner\"],\"nulls_distinct\":false}]}");
	CHECK_OK(db, crm_record_insert(db, "t", "{\"code\":\"a\",\"owner\":\"u\"}", NULL));
	CHECK_RC(db, crm_record_insert(db, "t", "{\"code\":\"a\",\"owner\":\"u\",\"n\":-1}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"min\"");
	CHECK_RC(db, crm_record_insert(db, "t", "{\"code\":\"a\",\"owner\":\"u\"}", NULL), CRM_ECONSTRAINT);
	/* the message is SQLite's, not one left over from a later statement */
	CHECK_HAS(crm_errmsg(db), "UNIQUE constraint failed");
	CHECK_OK(db, crm_record_insert(db, "t", "{\"code\":\"a\",\"owner\":\"v\"}", NULL));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM t"), 2);
	crm_close(db);
}

/* Ids of the records `query` finds, paged one at a time through tokens, as
 * "1,3,2" (static buffer). */
static const char *paged_ids(crm_db *db, const char *form, const char *sort)
{
	static char out[256];
	char query[512], token[256] = "";
	size_t at = 0;

	out[0] = 0;
	for (int page = 0; page < 20; page++) {
		crm_cursor *cur = NULL;
		int rc;

		if (token[0])
			snprintf(query, sizeof query, "{\"sort\":\"%s\",\"limit\":1,\"after\":\"%s\"}", sort, token);
		else
			snprintf(query, sizeof query, "{\"sort\":\"%s\",\"limit\":1}", sort);
		CHECK_OK(db, crm_query(&cur, db, form, query));
		rc = cur ? crm_cursor_next(cur) : CRM_DONE;
		if (rc == CRM_ROW) {
			at += (size_t)snprintf(out + at, sizeof out - at, "%s%lld", at ? "," : "",
					       (long long)crm_cursor_int64(cur, 0));
			snprintf(token, sizeof token, "%s", crm_cursor_token(cur));
		}
		crm_cursor_free(cur);
		if (rc != CRM_ROW)
			break;
	}
	return out;
}

static int64_t found(crm_db *db, const char *form, const char *filter)
{
	crm_cursor *cur = NULL;
	char query[512];
	int64_t n = 0;

	snprintf(query, sizeof query, "{\"filter\":%s}", filter);
	CHECK_OK(db, crm_query(&cur, db, form, query));
	while (cur && crm_cursor_next(cur) == CRM_ROW)
		n++;
	crm_cursor_free(cur);
	return n;
}

/* Every backend stores these in its own types (PostgreSQL: numeric,
 * timestamptz, date, boolean, json, text[]); the API gives the same JSON,
 * filters and pages alike on each: the expectations are one text. */
TEST(test_record__extreme_values_of_every_natural_type_round_trip_exactly)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, "{\"form\":\"v\",\"fields\":[{\"name\":\"d0\",\"type\":\"decimal\",\"scale\":0},"
		       "{\"name\":\"d2\",\"type\":\"decimal\",\"scale\":2},{\"name\":\"d9\",\"type\":\"decimal\",\"scale\":9},"
		       "{\"name\":\"at\",\"type\":\"datetime\"},{\"name\":\"day\",\"type\":\"date\"},"
		       "{\"name\":\"ok\",\"type\":\"boolean\"},{\"name\":\"doc\",\"type\":\"json\"},"
		       "{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"plain\",\"a,b\",\"q\\\"uote\","
		       "\"{brace}\",\"back\\\\slash\",\"NULL\",\" space \",\"\\u00e9t\\u00e9\",\"tab\\tx\"]}]}");
	CHECK_OK(db, crm_record_insert(db, "v",
				       "{\"d0\":9223372036854775807,\"d2\":\"-92233720368547758.08\","
				       "\"d9\":\"9223372036.854775807\",\"at\":\"0001-01-01T00:00:00.000Z\","
				       "\"day\":\"0001-01-01\",\"ok\":true,"
				       "\"doc\":{ \"b\" : 1,  \"a\":[1, 2.50 ], \"\\u00e9\":\"\u00e9\", \"a\":2 },"
				       "\"tags\":[\"\\u00e9t\\u00e9\",\"back\\\\slash\",\"{brace}\",\"q\\\"uote\",\"a,b\",\"NULL\"]}",
				       &id));
	CHECK_OK(db, crm_record_insert(db, "v",
				       "{\"d0\":-9223372036854775808,\"d2\":0.01,\"d9\":\"-0.000000001\","
				       "\"at\":\"9999-12-31T23:59:59.999Z\",\"day\":\"9999-12-31\",\"ok\":false,"
				       "\"doc\":[ ],\"tags\":[\"NULL\"]}",
				       &id));
	CHECK_OK(db, crm_record_insert(db, "v",
				       "{\"d0\":0,\"d2\":-0.5,\"d9\":0,\"at\":\"1970-01-01T05:29:59.999+05:30\","
				       "\"day\":\"1969-12-31\",\"doc\":\"text\",\"tags\":[\" space \",\"plain\",\"tab\\tx\"]}",
				       &id));
	CHECK_HAS(test_get(db, "v", 1),
		  "{\"id\":1,\"d0\":9223372036854775807,\"d2\":-92233720368547758.08,\"d9\":9223372036.854775807,"
		  "\"at\":\"0001-01-01T00:00:00.000Z\",\"day\":\"0001-01-01\",\"ok\":true,"
		  "\"doc\":{ \"b\" : 1,  \"a\":[1, 2.50 ], \"\\u00e9\":\"\u00e9\", \"a\":2 },"
		  "\"tags\":[\"a,b\",\"q\\\"uote\",\"{brace}\",\"back\\\\slash\",\"NULL\",\"\u00e9t\u00e9\"],");
	CHECK_HAS(test_get(db, "v", 2),
		  "{\"id\":2,\"d0\":-9223372036854775808,\"d2\":0.01,\"d9\":-0.000000001,"
		  "\"at\":\"9999-12-31T23:59:59.999Z\",\"day\":\"9999-12-31\",\"ok\":false,\"doc\":[ ],\"tags\":[\"NULL\"],");
	CHECK_HAS(test_get(db, "v", 3),
		  "{\"id\":3,\"d0\":0,\"d2\":-0.50,\"d9\":0.000000000,\"at\":\"1969-12-31T23:59:59.999Z\","
		  "\"day\":\"1969-12-31\",\"ok\":null,\"doc\":\"text\",\"tags\":[\"plain\",\" space \",\"tab\\tx\"],");
	/* filters bind natural values; sorts and tokens page the same order */
	CHECK_INT(found(db, "v", "{\"field\":\"d2\",\"op\":\"lt\",\"value\":\"-0.49\"}"), 2);
	CHECK_INT(found(db, "v", "{\"field\":\"d9\",\"op\":\"eq\",\"value\":\"9223372036.854775807\"}"), 1);
	CHECK_INT(found(db, "v", "{\"field\":\"at\",\"op\":\"lt\",\"value\":\"1970-01-01T00:00:00Z\"}"), 2);
	CHECK_INT(found(db, "v", "{\"field\":\"day\",\"op\":\"ge\",\"value\":\"1969-12-31\"}"), 2);
	CHECK_INT(found(db, "v", "{\"field\":\"ok\",\"op\":\"eq\",\"value\":false}"), 1);
	CHECK_INT(found(db, "v", "{\"field\":\"tags\",\"op\":\"contains\",\"value\":\"a,b\"}"), 1);
	CHECK_INT(found(db, "v", "{\"field\":\"tags\",\"op\":\"eq\",\"value\":[\"tab\\tx\",\"plain\",\" space \"]}"), 1);
	CHECK_STR(paged_ids(db, "v", "d2"), "1,3,2");
	CHECK_STR(paged_ids(db, "v", "-at"), "2,3,1");
	CHECK_STR(paged_ids(db, "v", "doc"), "3,2,1");
	CHECK_STR(paged_ids(db, "v", "tags"), "2,1,3");
	CHECK_STR(paged_ids(db, "v", "-day,ok"), "2,3,1");
	crm_close(db);
}

/* The largest, the smallest and the least non-zero decimal of every scale
 * come back digit for digit (PostgreSQL: numeric(19, scale)). */
TEST(test_record__decimals_at_every_scale_keep_their_extremes)
{
	static const int64_t values[] = { INT64_MAX, INT64_MIN, -1, 1 };
	crm_db *db = test_db();
	char def[1024], rec[1024], text[40], want[64];
	size_t n = 0;
	int64_t id = 0;

	n += (size_t)snprintf(def + n, sizeof def - n, "{\"form\":\"d\",\"fields\":[");
	for (int s = 0; s <= CRM__DECIMAL_MAX_SCALE; s++)
		n += (size_t)snprintf(def + n, sizeof def - n, "%s{\"name\":\"x%d\",\"type\":\"decimal\",\"scale\":%d}",
				      s ? "," : "", s, s);
	snprintf(def + n, sizeof def - n, "]}");
	test_apply(db, def);
	for (size_t k = 0; k < sizeof values / sizeof *values; k++) {
		n = (size_t)snprintf(rec, sizeof rec, "{");
		for (int s = 0; s <= CRM__DECIMAL_MAX_SCALE; s++) {
			crm__decimal_format(values[k], s, text);
			n += (size_t)snprintf(rec + n, sizeof rec - n, "%s\"x%d\":\"%s\"", s ? "," : "", s, text);
		}
		snprintf(rec + n, sizeof rec - n, "}");
		CHECK_OK(db, crm_record_insert(db, "d", rec, &id));
		for (int s = 0; s <= CRM__DECIMAL_MAX_SCALE; s++) {
			crm__decimal_format(values[k], s, text);
			snprintf(want, sizeof want, "\"x%d\":%s,", s, text);
			CHECK_HAS(test_get(db, "d", id), want);
		}
	}
	crm_close(db);
}

TEST_LIST(T(test_record__insert_returns_increasing_ids),
	  T(test_record__get_returns_every_field_and_system_columns_in_order),
	  T(test_record__get_missing_id_is_not_found), T(test_record__update_changes_only_given_fields),
	  T(test_record__update_of_missing_record_is_not_found), T(test_record__failing_update_changes_nothing),
	  T(test_record__update_with_expected_version_checks_it), T(test_record__delete_removes_the_record),
	  T(test_record__delete_with_expected_version_checks_it),
	  T(test_record__unique_value_is_refused_with_the_other_record),
	  T(test_record__ref_must_point_at_an_existing_record),
	  T(test_record__delete_restrict_refuses_referenced_record),
	  T(test_record__delete_set_null_clears_referring_field),
	  T(test_record__delete_cascade_deletes_referring_records_two_levels),
	  T(test_record__cascade_blocked_by_restrict_further_down_changes_nothing),
	  T(test_record__self_reference_cascade_deletes_the_subtree),
	  T(test_record__cascade_1000_deep_deletes_the_whole_chain_and_runs_every_hook),
	  T(test_record__cascade_from_the_middle_of_a_chain_keeps_the_part_above),
	  T(test_record__cascade_diamond_deletes_the_shared_child_once),
	  T(test_record__restrict_from_a_record_the_same_delete_removes_does_not_block),
	  T(test_record__record_referring_to_itself_can_be_deleted),
	  T(test_record__cascade_cycle_between_two_records_deletes_both),
	  T(test_record__cascade_cycle_through_one_form_deletes_the_ring),
	  T(test_record__upsert_single_key_inserts_then_updates_given_fields),
	  T(test_record__upsert_update_still_validates), T(test_record__upsert_composite_key),
	  T(test_record__upsert_key_that_is_not_a_unique_constraint_is_einval),
	  T(test_record__upsert_missing_key_value_is_einval),
	  T(test_record__upsert_with_invalid_key_value_reports_it_as_a_field_error), T(test_record__owner_given_on_insert_and_update),
	  T(test_record__system_columns_other_than_owner_are_readonly),
	  T(test_record__sql_looking_form_names_are_not_found_and_table_survives),
	  T(test_record__null_arguments_are_misuse),
	  T(test_record__malformed_json_is_einval_with_offset_and_changes_nothing),
	  T(test_record__every_failing_field_is_reported_at_once),
	  T(test_record__default_applies_when_absent_not_when_null),
	  T(test_record__composite_unique_with_system_column_and_nulls_not_distinct),
	  T(test_record__extreme_values_of_every_natural_type_round_trip_exactly),
	  T(test_record__decimals_at_every_scale_keep_their_extremes))
