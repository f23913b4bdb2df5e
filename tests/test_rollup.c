/* Rollup fields: aggregates of child records (count, sum, avg, min, max,
 * count_distinct, with filters) defined on a parent form and kept correct
 * through every kind of child write, migration and failure. */
#include <cJSON.h>

#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

/* A customer with rollups over tickets and opportunities, defined before
 * its child forms in the same call (forward references). */
static const char *const crm_meta_json =
	"[{\"form\": \"customer\", \"fields\": ["
	"  {\"name\": \"name\", \"type\": \"text\", \"required\": true},"
	"  {\"name\": \"open_tickets\", \"type\": \"rollup\", \"form\": \"ticket\", \"ref\": \"customer\", \"agg\": \"count\","
	"   \"filter\": {\"field\": \"status\", \"op\": \"ne\", \"value\": \"closed\"}},"
	"  {\"name\": \"tickets\", \"type\": \"rollup\", \"form\": \"ticket\", \"ref\": \"customer\", \"agg\": \"count\"},"
	"  {\"name\": \"won_amount\", \"type\": \"rollup\", \"form\": \"opportunity\", \"ref\": \"customer\", \"agg\": \"sum\","
	"   \"field\": \"amount\", \"filter\": {\"field\": \"stage\", \"op\": \"eq\", \"value\": \"won\"}},"
	"  {\"name\": \"avg_priority\", \"type\": \"rollup\", \"form\": \"ticket\", \"ref\": \"customer\", \"agg\": \"avg\","
	"   \"field\": \"priority\"},"
	"  {\"name\": \"max_priority\", \"type\": \"rollup\", \"form\": \"ticket\", \"ref\": \"customer\", \"agg\": \"max\","
	"   \"field\": \"priority\"},"
	"  {\"name\": \"first_due\", \"type\": \"rollup\", \"form\": \"ticket\", \"ref\": \"customer\", \"agg\": \"min\","
	"   \"field\": \"due\", \"index\": true},"
	"  {\"name\": \"statuses\", \"type\": \"rollup\", \"form\": \"ticket\", \"ref\": \"customer\", \"agg\": \"count_distinct\","
	"   \"field\": \"status\"},"
	"  {\"name\": \"avg_amount\", \"type\": \"rollup\", \"form\": \"opportunity\", \"ref\": \"customer\", \"agg\": \"avg\","
	"   \"field\": \"amount\"},"
	"  {\"name\": \"min_amount\", \"type\": \"rollup\", \"form\": \"opportunity\", \"ref\": \"customer\", \"agg\": \"min\","
	"   \"field\": \"amount\", \"index\": true}]},"
	" {\"form\": \"agent\", \"fields\": ["
	"  {\"name\": \"name\", \"type\": \"text\"},"
	"  {\"name\": \"assigned\", \"type\": \"rollup\", \"form\": \"ticket\", \"ref\": \"agent\", \"agg\": \"count\"}]},"
	" {\"form\": \"ticket\", \"fields\": ["
	"  {\"name\": \"title\", \"type\": \"text\", \"required\": true},"
	"  {\"name\": \"status\", \"type\": \"enum\", \"options\": [\"open\", \"pending\", \"closed\"], \"default\": \"open\"},"
	"  {\"name\": \"priority\", \"type\": \"integer\", \"min\": 1, \"max\": 5},"
	"  {\"name\": \"due\", \"type\": \"date\"},"
	"  {\"name\": \"customer\", \"type\": \"ref\", \"form\": \"customer\", \"on_delete\": \"cascade\"},"
	"  {\"name\": \"agent\", \"type\": \"ref\", \"form\": \"agent\", \"on_delete\": \"set_null\"}]},"
	" {\"form\": \"opportunity\", \"fields\": ["
	"  {\"name\": \"name\", \"type\": \"text\"},"
	"  {\"name\": \"amount\", \"type\": \"decimal\", \"scale\": 2},"
	"  {\"name\": \"stage\", \"type\": \"enum\", \"options\": [\"open\", \"won\", \"lost\"]},"
	"  {\"name\": \"customer\", \"type\": \"ref\", \"form\": \"customer\", \"on_delete\": \"cascade\"}]}]";

static crm_db *setup(void)
{
	crm_db *db = test_db();

	test_apply(db, crm_meta_json);
	return db;
}

/* The JSON text of member `field` of a record (static buffer): "3", "0.30", "null". */
static const char *val(crm_db *db, const char *form, int64_t id, const char *field)
{
	static char out[128];
	char key[80];
	const char *json = test_get(db, form, id), *p;
	size_t n;

	if (!json)
		return "(no record)";
	snprintf(key, sizeof key, "\"%s\":", field);
	if (!(p = strstr(json, key)))
		return "(no field)";
	p += strlen(key);
	n = strcspn(p, ",}");
	snprintf(out, sizeof out, "%.*s", (int)n, p);
	return out;
}

static int64_t insert(crm_db *db, const char *form, const char *json)
{
	int64_t id = 0;
	int rc = crm_record_insert(db, form, json, &id);

	if (rc != CRM_OK) {
		fprintf(stderr, "insert into %s failed: %s\n", form, crm_errdetail(db));
		test_failures_++;
	}
	return id;
}

static int64_t ticket(crm_db *db, int64_t customer, const char *status, int priority)
{
	char json[256];

	snprintf(json, sizeof json, "{\"title\": \"t\", \"status\": \"%s\", \"priority\": %d, \"customer\": %lld}", status,
		 priority, (long long)customer);
	return insert(db, "ticket", json);
}

/* ---- kept correct through child writes ---- */

TEST(test_rollup__new_parent_starts_at_zero_and_null)
{
	crm_db *db = setup();
	int64_t c = insert(db, "customer", "{\"name\": \"Acme\"}");

	CHECK_STR(val(db, "customer", c, "open_tickets"), "0");
	CHECK_STR(val(db, "customer", c, "tickets"), "0");
	CHECK_STR(val(db, "customer", c, "won_amount"), "0.00");
	CHECK_STR(val(db, "customer", c, "statuses"), "0");
	CHECK_STR(val(db, "customer", c, "avg_priority"), "null");
	CHECK_STR(val(db, "customer", c, "max_priority"), "null");
	CHECK_STR(val(db, "customer", c, "first_due"), "null");
	CHECK_STR(val(db, "customer", c, "min_amount"), "null");
	crm_close(db);
}

TEST(test_rollup__every_aggregate_follows_child_inserts)
{
	crm_db *db = setup();
	int64_t a = insert(db, "customer", "{\"name\": \"A\"}"), b = insert(db, "customer", "{\"name\": \"B\"}");

	ticket(db, a, "open", 2);
	ticket(db, a, "closed", 5);
	ticket(db, a, "pending", 3);
	insert(db, "ticket", "{\"title\": \"late\", \"customer\": 1, \"due\": \"2026-03-01\"}");
	insert(db, "ticket", "{\"title\": \"soon\", \"customer\": 1, \"due\": \"2026-02-01\"}");
	ticket(db, b, "open", 1);
	CHECK_STR(val(db, "customer", a, "tickets"), "5");
	CHECK_STR(val(db, "customer", a, "open_tickets"), "4");
	CHECK_STR(val(db, "customer", a, "avg_priority"), "3.3333333333333335");
	CHECK_STR(val(db, "customer", a, "max_priority"), "5");
	CHECK_STR(val(db, "customer", a, "first_due"), "\"2026-02-01\"");
	CHECK_STR(val(db, "customer", a, "statuses"), "3");
	CHECK_STR(val(db, "customer", b, "tickets"), "1");
	CHECK_STR(val(db, "customer", b, "open_tickets"), "1");
	CHECK_STR(val(db, "customer", b, "max_priority"), "1");
	CHECK_STR(val(db, "customer", b, "first_due"), "null");
	crm_close(db);
}

TEST(test_rollup__decimal_sums_are_exact_and_keep_the_scale)
{
	crm_db *db = setup();
	int64_t c = insert(db, "customer", "{\"name\": \"A\"}");

	for (int i = 0; i < 10; i++)
		insert(db, "opportunity", "{\"amount\": 0.10, \"stage\": \"won\", \"customer\": 1}");
	insert(db, "opportunity", "{\"amount\": \"12345678901234.56\", \"stage\": \"won\", \"customer\": 1}");
	insert(db, "opportunity", "{\"amount\": 999, \"stage\": \"lost\", \"customer\": 1}");
	insert(db, "opportunity", "{\"stage\": \"won\", \"customer\": 1}"); /* no amount: ignored */
	CHECK_STR(val(db, "customer", c, "won_amount"), "12345678901235.56");
	CHECK_STR(val(db, "customer", c, "min_amount"), "0.10");
	CHECK_STR(test_storage_class(db, "customer", "won_amount"), "integer");
	crm_close(db);
}

TEST(test_rollup__updates_change_values_flip_filters_and_reparent)
{
	crm_db *db = setup();
	int64_t a = insert(db, "customer", "{\"name\": \"A\"}"), b = insert(db, "customer", "{\"name\": \"B\"}");
	int64_t t1 = ticket(db, a, "open", 2), t2 = ticket(db, a, "open", 4);
	int64_t o = insert(db, "opportunity", "{\"amount\": 100, \"stage\": \"open\", \"customer\": 1}");
	char json[64];

	/* value change */
	CHECK_OK(db, crm_record_update(db, "ticket", t1, "{\"priority\": 5}", 0));
	CHECK_STR(val(db, "customer", a, "max_priority"), "5");
	CHECK_STR(val(db, "customer", a, "avg_priority"), "4.5");
	/* filter flips, both ways */
	CHECK_STR(val(db, "customer", a, "won_amount"), "0.00");
	CHECK_OK(db, crm_record_update(db, "opportunity", o, "{\"stage\": \"won\"}", 0));
	CHECK_STR(val(db, "customer", a, "won_amount"), "100.00");
	CHECK_OK(db, crm_record_update(db, "opportunity", o, "{\"amount\": \"100.05\"}", 0));
	CHECK_STR(val(db, "customer", a, "won_amount"), "100.05");
	CHECK_STR(val(db, "customer", a, "statuses"), "1");
	CHECK_OK(db, crm_record_update(db, "ticket", t2, "{\"status\": \"closed\"}", 0));
	CHECK_STR(val(db, "customer", a, "open_tickets"), "1");
	CHECK_STR(val(db, "customer", a, "statuses"), "2");
	CHECK_STR(val(db, "customer", a, "tickets"), "2");
	CHECK_OK(db, crm_record_update(db, "opportunity", o, "{\"stage\": \"lost\"}", 0));
	CHECK_STR(val(db, "customer", a, "won_amount"), "0.00");
	/* re-parenting moves the record between both parents' totals */
	snprintf(json, sizeof json, "{\"customer\": %lld}", (long long)b);
	CHECK_OK(db, crm_record_update(db, "ticket", t1, json, 0));
	CHECK_STR(val(db, "customer", a, "tickets"), "1");
	CHECK_STR(val(db, "customer", a, "open_tickets"), "0");
	CHECK_STR(val(db, "customer", a, "max_priority"), "4");
	CHECK_STR(val(db, "customer", b, "tickets"), "1");
	CHECK_STR(val(db, "customer", b, "open_tickets"), "1");
	CHECK_STR(val(db, "customer", b, "max_priority"), "5");
	/* to no parent and back */
	CHECK_OK(db, crm_record_update(db, "ticket", t1, "{\"customer\": null}", 0));
	CHECK_STR(val(db, "customer", b, "tickets"), "0");
	CHECK_STR(val(db, "customer", b, "max_priority"), "null");
	CHECK_OK(db, crm_record_update(db, "ticket", t1, json, 0));
	CHECK_STR(val(db, "customer", b, "tickets"), "1");
	/* moving and flipping the filter in one update */
	snprintf(json, sizeof json, "{\"customer\": %lld, \"status\": \"open\"}", (long long)b);
	CHECK_OK(db, crm_record_update(db, "ticket", t2, json, 0));
	CHECK_STR(val(db, "customer", a, "tickets"), "0");
	CHECK_STR(val(db, "customer", a, "open_tickets"), "0");
	CHECK_STR(val(db, "customer", b, "tickets"), "2");
	CHECK_STR(val(db, "customer", b, "open_tickets"), "2");
	CHECK_STR(val(db, "customer", b, "avg_priority"), "4.5");
	crm_close(db);
}

TEST(test_rollup__deletes_and_cascades)
{
	crm_db *db = setup();
	int64_t a = insert(db, "customer", "{\"name\": \"A\"}"), b = insert(db, "customer", "{\"name\": \"B\"}");
	int64_t ag = insert(db, "agent", "{\"name\": \"Ann\"}");
	int64_t t1 = ticket(db, a, "open", 2);

	ticket(db, a, "open", 3);
	insert(db, "ticket", "{\"title\": \"x\", \"customer\": 1, \"agent\": 1}");
	insert(db, "ticket", "{\"title\": \"y\", \"customer\": 1, \"agent\": 1}");
	insert(db, "ticket", "{\"title\": \"z\", \"customer\": 2, \"agent\": 1}");
	CHECK_STR(val(db, "agent", ag, "assigned"), "3");
	CHECK_OK(db, crm_record_delete(db, "ticket", t1, 0));
	CHECK_STR(val(db, "customer", a, "tickets"), "3");
	CHECK_STR(val(db, "customer", a, "max_priority"), "3");
	/* deleting a customer cascades to its tickets: the agent's count follows */
	CHECK_OK(db, crm_record_delete(db, "customer", a, 0));
	CHECK_STR(val(db, "agent", ag, "assigned"), "1");
	CHECK_STR(val(db, "customer", b, "tickets"), "1");
	/* deleting the agent sets the ticket's agent to null (set_null is an update) */
	CHECK_OK(db, crm_record_delete(db, "agent", ag, 0));
	CHECK_STR(val(db, "customer", b, "tickets"), "1");
	crm_close(db);
}

TEST(test_rollup__batches_and_upserts)
{
	crm_db *db = setup();
	int64_t a = insert(db, "customer", "{\"name\": \"A\"}");
	crm_batch *batch = NULL;
	size_t n = 0;

	CHECK_OK(db, crm_record_insert_many(db, "ticket",
					    "[{\"title\": \"1\", \"customer\": 1, \"priority\": 1},"
					    " {\"title\": \"2\", \"customer\": 1, \"priority\": 2, \"status\": \"closed\"},"
					    " {\"title\": \"3\", \"customer\": 1, \"priority\": 3}]",
					    NULL, &n));
	CHECK_INT(n, 3);
	CHECK_STR(val(db, "customer", a, "tickets"), "3");
	CHECK_STR(val(db, "customer", a, "open_tickets"), "2");
	/* a failing row rolls back the whole batch, rollups included */
	CHECK_OK(db, crm_batch_begin(&batch, db, "ticket"));
	CHECK_OK(db, crm_batch_add(batch, "{\"title\": \"4\", \"customer\": 1}", -1, NULL));
	CHECK_RC(db, crm_batch_add(batch, "{\"customer\": 1}", -1, NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_batch_commit(batch), CRM_ECONSTRAINT);
	crm_batch_free(batch);
	CHECK_STR(val(db, "customer", a, "tickets"), "3");
	/* upsert: insert then update through a unique key */
	test_apply(db, "{\"form\": \"opportunity\", \"fields\": ["
		       "  {\"name\": \"name\", \"type\": \"text\", \"unique\": true},"
		       "  {\"name\": \"amount\", \"type\": \"decimal\", \"scale\": 2},"
		       "  {\"name\": \"stage\", \"type\": \"enum\", \"options\": [\"open\", \"won\", \"lost\"]},"
		       "  {\"name\": \"customer\", \"type\": \"ref\", \"form\": \"customer\", \"on_delete\": \"cascade\"}]}");
	CHECK_OK(db, crm_record_upsert(db, "opportunity", "name",
				       "{\"name\": \"deal\", \"amount\": 5, \"stage\": \"won\", \"customer\": 1}", NULL, NULL));
	CHECK_STR(val(db, "customer", a, "won_amount"), "5.00");
	CHECK_OK(db, crm_record_upsert(db, "opportunity", "name", "{\"name\": \"deal\", \"amount\": 7.5}", NULL, NULL));
	CHECK_STR(val(db, "customer", a, "won_amount"), "7.50");
	crm_close(db);
}

TEST(test_rollup__failed_child_write_leaves_parent_unchanged)
{
	crm_db *db = setup();
	int64_t a = insert(db, "customer", "{\"name\": \"A\"}");
	int64_t t = ticket(db, a, "open", 2);

	/* insert failing validation (no title; priority out of range) */
	CHECK_RC(db, crm_record_insert(db, "ticket", "{\"customer\": 1, \"priority\": 9}", NULL), CRM_ECONSTRAINT);
	CHECK_STR(val(db, "customer", a, "tickets"), "1");
	CHECK_STR(val(db, "customer", a, "max_priority"), "2");
	/* update failing validation */
	CHECK_RC(db, crm_record_update(db, "ticket", t, "{\"priority\": 7, \"status\": \"closed\"}", 0), CRM_ECONSTRAINT);
	CHECK_STR(val(db, "customer", a, "open_tickets"), "1");
	CHECK_STR(val(db, "customer", a, "max_priority"), "2");
	/* a host transaction rolled back takes the rollups back too */
	CHECK_OK(db, crm_begin(db));
	ticket(db, a, "open", 5);
	CHECK_STR(val(db, "customer", a, "tickets"), "2");
	CHECK_OK(db, crm_rollback(db));
	CHECK_STR(val(db, "customer", a, "tickets"), "1");
	CHECK_STR(val(db, "customer", a, "max_priority"), "2");
	crm_close(db);
}

TEST(test_rollup__refresh_is_not_an_edit_of_the_parent)
{
	crm_db *db = setup();
	int64_t a = insert(db, "customer", "{\"name\": \"A\"}");

	crm_clock_set(db, INT64_C(1767323045000) + 60000);
	ticket(db, a, "open", 2);
	CHECK_STR(val(db, "customer", a, "tickets"), "1");
	CHECK_STR(val(db, "customer", a, "version"), "1");
	CHECK_STR(val(db, "customer", a, "updated_at"), "\"2026-01-02T03:04:05.000Z\"");
	crm_close(db);
}

/* ---- read back, read only ---- */

TEST(test_rollup__values_filter_and_sort_in_queries)
{
	crm_db *db = setup();
	crm_cursor *cur = NULL;
	char got[128] = "";
	int rc;

	for (int c = 1; c <= 3; c++) {
		char json[64];
		snprintf(json, sizeof json, "{\"name\": \"c%d\"}", c);
		insert(db, "customer", json);
	}
	ticket(db, 2, "open", 1);
	ticket(db, 2, "open", 1);
	ticket(db, 3, "open", 1);
	insert(db, "opportunity", "{\"amount\": 10, \"stage\": \"won\", \"customer\": 1}");
	insert(db, "opportunity", "{\"amount\": 30, \"stage\": \"won\", \"customer\": 3}");
	CHECK_OK(db, crm_query(&cur, db, "customer",
			       "{\"filter\": {\"field\": \"open_tickets\", \"op\": \"ge\", \"value\": 1},"
			       " \"sort\": [\"-won_amount\"], \"fields\": [\"name\", \"won_amount\", \"open_tickets\"]}"));
	while ((rc = crm_cursor_next(cur)) == CRM_ROW) {
		size_t len = strlen(got);
		snprintf(got + len, sizeof got - len, "%s=%s/%lld ", crm_cursor_text(cur, 1), crm_cursor_text(cur, 2),
			 (long long)crm_cursor_int64(cur, 3));
		CHECK_INT(crm_cursor_column_type(cur, 2), CRM_TYPE_DECIMAL);
	}
	CHECK_INT(rc, CRM_DONE);
	crm_cursor_free(cur);
	CHECK_STR(got, "c3=30.00/1 c2=0.00/2 ");
	CHECK_HAS(test_get(db, "customer", 3), "\"won_amount\":30.00");
	crm_close(db);
}

TEST(test_rollup__writing_a_rollup_is_refused)
{
	crm_db *db = setup();
	int64_t a = insert(db, "customer", "{\"name\": \"A\"}");

	CHECK_RC(db, crm_record_insert(db, "customer", "{\"name\": \"B\", \"tickets\": 3}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"tickets\",\"code\":\"readonly\"");
	CHECK_RC(db, crm_record_update(db, "customer", a, "{\"won_amount\": null}", 0), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"readonly\"");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM customer"), 1);
	crm_close(db);
}

/* ---- definitions and migrations ---- */

TEST(test_rollup__adding_a_rollup_backfills_existing_records)
{
	crm_db *db = test_db();

	test_apply(db, "[{\"form\": \"account\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"}]},"
		       " {\"form\": \"invoice\", \"fields\": [{\"name\": \"total\", \"type\": \"decimal\", \"scale\": 3},"
		       "  {\"name\": \"paid\", \"type\": \"boolean\"},"
		       "  {\"name\": \"account\", \"type\": \"ref\", \"form\": \"account\"}]}]");
	insert(db, "account", "{\"name\": \"a\"}");
	insert(db, "account", "{\"name\": \"b\"}");
	insert(db, "invoice", "{\"total\": 1.5, \"paid\": false, \"account\": 1}");
	insert(db, "invoice", "{\"total\": 2.25, \"paid\": true, \"account\": 1}");
	insert(db, "invoice", "{\"total\": 4, \"paid\": false, \"account\": 2}");
	test_apply(db, "{\"form\": \"account\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"},"
		       " {\"name\": \"due\", \"type\": \"rollup\", \"form\": \"invoice\", \"ref\": \"account\", \"agg\": \"sum\","
		       "  \"field\": \"total\", \"filter\": {\"field\": \"paid\", \"op\": \"eq\", \"value\": false}}]}");
	CHECK_STR(val(db, "account", 1, "due"), "1.500");
	CHECK_STR(val(db, "account", 2, "due"), "4.000");
	/* a new filter refills every record */
	test_apply(db, "{\"form\": \"account\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"},"
		       " {\"name\": \"due\", \"type\": \"rollup\", \"form\": \"invoice\", \"ref\": \"account\", \"agg\": \"sum\","
		       "  \"field\": \"total\"}]}");
	CHECK_STR(val(db, "account", 1, "due"), "3.750");
	/* another aggregate changes the type: integer count */
	test_apply(db, "{\"form\": \"account\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"},"
		       " {\"name\": \"due\", \"type\": \"rollup\", \"form\": \"invoice\", \"ref\": \"account\", \"agg\": \"count\"}]}");
	CHECK_STR(val(db, "account", 1, "due"), "2");
	/* the child's field changes scale: the rollup follows */
	test_apply(db, "{\"form\": \"account\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"},"
		       " {\"name\": \"due\", \"type\": \"rollup\", \"form\": \"invoice\", \"ref\": \"account\", \"agg\": \"max\","
		       "  \"field\": \"total\"}]}");
	CHECK_STR(val(db, "account", 1, "due"), "2.250");
	test_apply(db, "{\"form\": \"invoice\", \"fields\": [{\"name\": \"total\", \"type\": \"decimal\", \"scale\": 4},"
		       "  {\"name\": \"paid\", \"type\": \"boolean\"},"
		       "  {\"name\": \"account\", \"type\": \"ref\", \"form\": \"account\"}]}");
	CHECK_STR(val(db, "account", 1, "due"), "2.2500");
	/* ... and type: a number column */
	test_apply(db, "{\"form\": \"invoice\", \"fields\": [{\"name\": \"total\", \"type\": \"number\"},"
		       "  {\"name\": \"paid\", \"type\": \"boolean\"},"
		       "  {\"name\": \"account\", \"type\": \"ref\", \"form\": \"account\"}]}");
	CHECK_STR(val(db, "account", 1, "due"), "2.25");
	CHECK_STR(test_column_type(db, "account", "due"), db->be->dialect->type_real);
	/* removing the rollup drops its column */
	test_apply(db, "{\"form\": \"account\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"}]}");
	CHECK_STR(val(db, "account", 1, "due"), "(no field)");
	insert(db, "invoice", "{\"total\": 1, \"account\": 1}");
	crm_close(db);
}

TEST(test_rollup__forward_child_gets_its_column_type)
{
	crm_db *db = setup();
	const char *date = db->be->dialect->field_type(CRM_TYPE_DATE, 0);

	/* first_due is a min of a date, declared before ticket existed */
	CHECK_STR(test_column_type(db, "customer", "first_due"), date ? date : db->be->dialect->type_text);
	CHECK_STR(test_column_type(db, "customer", "avg_priority"), db->be->dialect->type_real);
	/* its index survived the retyping */
	CHECK_INT(test_index_mentions(db, "customer", "first_due"), 1);
	CHECK_INT(test_index_mentions(db, "customer", "min_amount"), 1);
	crm_close(db);
}

TEST(test_rollup__self_reference)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\": \"employee\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"},"
		       " {\"name\": \"salary\", \"type\": \"integer\"},"
		       " {\"name\": \"manager\", \"type\": \"ref\", \"form\": \"employee\", \"on_delete\": \"set_null\"},"
		       " {\"name\": \"reports\", \"type\": \"rollup\", \"form\": \"employee\", \"ref\": \"manager\", \"agg\": \"count\"},"
		       " {\"name\": \"team_pay\", \"type\": \"rollup\", \"form\": \"employee\", \"ref\": \"manager\", \"agg\": \"sum\","
		       "  \"field\": \"salary\"}]}");
	insert(db, "employee", "{\"name\": \"boss\", \"salary\": 10}");
	insert(db, "employee", "{\"name\": \"a\", \"salary\": 5, \"manager\": 1}");
	insert(db, "employee", "{\"name\": \"b\", \"salary\": 6, \"manager\": 1}");
	CHECK_STR(val(db, "employee", 1, "reports"), "2");
	CHECK_STR(val(db, "employee", 1, "team_pay"), "11");
	CHECK_OK(db, crm_record_update(db, "employee", 3, "{\"manager\": 2}", 0));
	CHECK_STR(val(db, "employee", 1, "team_pay"), "5");
	CHECK_STR(val(db, "employee", 2, "team_pay"), "6");
	CHECK_OK(db, crm_record_delete(db, "employee", 2, 0));
	CHECK_STR(val(db, "employee", 1, "reports"), "0");
	crm_close(db);
}

TEST(test_rollup__filter_on_system_columns)
{
	crm_db *db = test_db();

	test_apply(db, "[{\"form\": \"team\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"},"
		       " {\"name\": \"mine\", \"type\": \"rollup\", \"form\": \"task\", \"ref\": \"team\", \"agg\": \"count\","
		       "  \"filter\": {\"field\": \"owner\", \"op\": \"eq\", \"value\": \"ann\"}}]},"
		       " {\"form\": \"task\", \"fields\": [{\"name\": \"team\", \"type\": \"ref\", \"form\": \"team\"}]}]");
	insert(db, "team", "{\"name\": \"x\"}");
	insert(db, "task", "{\"team\": 1, \"owner\": \"bob\"}");
	CHECK_STR(val(db, "team", 1, "mine"), "0");
	CHECK_OK(db, crm_record_update(db, "task", 1, "{\"owner\": \"ann\"}", 0));
	CHECK_STR(val(db, "team", 1, "mine"), "1");
	crm_close(db);
}

/* A definition that must be refused, with a message containing `message`
 * and nothing changed. */
static void refused(const char *rollup, const char *message, const char *path)
{
	crm_db *db = setup();
	char json[2048];
	int rc;

	snprintf(json, sizeof json,
		 "[{\"form\": \"shop\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"}, %s]},"
		 " {\"form\": \"sale\", \"fields\": [{\"name\": \"note\", \"type\": \"text\"},"
		 "  {\"name\": \"qty\", \"type\": \"integer\"}, {\"name\": \"cust\", \"type\": \"ref\", \"form\": \"customer\"},"
		 "  {\"name\": \"shop\", \"type\": \"ref\", \"form\": \"shop\"}]}]",
		 rollup);
	rc = crm_apply(db, json);
	CHECK_INT(rc, CRM_EINVAL);
	if (rc != CRM_EINVAL || !strstr(crm_errmsg(db), message) || (path && !strstr(crm_errdetail(db), path)))
		fprintf(stderr, "  for %s\n  got %s\n", rollup, crm_errdetail(db));
	CHECK_HAS(crm_errmsg(db), message);
	if (path)
		CHECK_HAS(crm_errdetail(db), path);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta WHERE name IN ('shop', 'sale')"), 0);
	crm_close(db);
}

TEST(test_rollup__bad_definitions_are_refused)
{
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"nowhere\", \"ref\": \"shop\", \"agg\": \"count\"}",
		"aggregates form 'nowhere', which is not defined", "\"path\":\"fields[1].form\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"cust\", \"agg\": \"count\"}",
		"not a ref to form 'shop'", "\"path\":\"fields[1].ref\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"note\", \"agg\": \"count\"}",
		"not a ref to form 'shop'", "\"path\":\"fields[1].ref\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shopx\", \"agg\": \"count\"}",
		"'shopx', which is not a field of form 'sale'", "\"path\":\"fields[1].ref\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"sum\", \"field\": \"note\"}",
		"cannot sum 'note' of form 'sale' (text)", "\"path\":\"fields[1].field\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"max\", \"field\": \"cust\"}",
		"cannot take the maximum of 'cust'", "\"path\":\"fields[1].field\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"avg\", \"field\": \"nope\"}",
		"'nope', which is not a field of form 'sale'", "\"path\":\"fields[1].field\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"count\","
		" \"filter\": {\"field\": \"colour\", \"op\": \"eq\", \"value\": 1}}",
		"unknown field 'colour' in form 'sale'", "\"path\":\"fields[1].filter.field\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"count\","
		" \"filter\": {\"field\": \"qty\", \"op\": \"eq\", \"value\": \"many\"}}",
		"qty must be an integer", "fields[1].filter");
	/* define-time checks */
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"median\"}",
		"'agg' is count, count_distinct, sum, avg, min or max", "\"path\":\"fields[1].agg\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"count\", \"field\": \"qty\"}",
		"takes no 'field'", "\"path\":\"fields[1].field\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"sum\"}",
		"a sum rollup needs 'field'", "\"path\":\"fields[1].field\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"ref\": \"shop\", \"agg\": \"count\"}", "needs 'form'",
		"\"path\":\"fields[1].form\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"agg\": \"count\"}", "'ref' is required",
		"\"path\":\"fields[1].ref\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"count\", \"required\": true}",
		"a rollup field cannot be required", NULL);
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"count\", \"default\": 1}",
		"a rollup field has no default", NULL);
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"count\", \"unique\": true}",
		"a rollup field cannot be unique", NULL);
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"sum\", \"field\": \"qty\","
		" \"scale\": 2}",
		"takes the scale of the field", NULL);
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"count\", \"filter\": 3}",
		"'filter' must be a filter object", NULL);
	refused("{\"name\": \"n\", \"type\": \"integer\", \"agg\": \"count\"}", "'agg' belongs to rollup fields", NULL);
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"sale\", \"ref\": \"shop\", \"agg\": \"count\"}],"
		" \"unique\": [[\"name\", \"n\"]], \"indexes\": [[\"name\"]",
		"a rollup field cannot be indexed", "\"path\":\"unique[0]\"");
	refused("{\"name\": \"n\", \"type\": \"rollup\", \"form\": \"customer\", \"ref\": \"name\", \"agg\": \"sum\","
		" \"field\": \"tickets\"}",
		"not a ref to form 'shop'", NULL);
}

TEST(test_rollup__rollups_of_rollups_are_refused)
{
	crm_db *db = setup();

	CHECK_RC(db,
		 crm_apply(db, "[{\"form\": \"region\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"},"
			       " {\"name\": \"tickets\", \"type\": \"rollup\", \"form\": \"store\", \"ref\": \"region\", \"agg\": \"sum\","
			       "  \"field\": \"n\"}]},"
			       " {\"form\": \"store\", \"fields\": [{\"name\": \"region\", \"type\": \"ref\", \"form\": \"region\"},"
			       "  {\"name\": \"n\", \"type\": \"rollup\", \"form\": \"item\", \"ref\": \"store\", \"agg\": \"count\"}]},"
			       " {\"form\": \"item\", \"fields\": [{\"name\": \"store\", \"type\": \"ref\", \"form\": \"store\"}]}]"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "itself a rollup");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta WHERE name IN ('region', 'store', 'item')"), 0);
	crm_close(db);
}

TEST(test_rollup__child_change_that_breaks_a_rollup_is_refused)
{
	crm_db *db = setup();

	/* opportunity loses its amount: customer.won_amount would aggregate nothing */
	CHECK_RC(db,
		 crm_apply(db, "{\"form\": \"opportunity\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"},"
			       "  {\"name\": \"stage\", \"type\": \"enum\", \"options\": [\"open\", \"won\", \"lost\"]},"
			       "  {\"name\": \"customer\", \"type\": \"ref\", \"form\": \"customer\"}]}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "form customer: fields[3].field: rollup won_amount names 'amount'");
	CHECK_HAS(crm_errdetail(db), "\"form\":\"customer\"");
	CHECK_INT(test_sql_int(db, "SELECT max(version) FROM crm_meta WHERE name='opportunity'"), 1);
	crm_close(db);
}

TEST(test_rollup__sum_past_64_bits_refuses_the_write_naming_the_rollup)
{
	crm_db *db = test_db();
	int64_t p;

	test_apply(db, "[{\"form\": \"acct\", \"fields\": ["
		       "  {\"name\": \"total\", \"type\": \"rollup\", \"form\": \"line\", \"ref\": \"acct\", \"agg\": \"sum\","
		       "   \"field\": \"n\"},"
		       "  {\"name\": \"money\", \"type\": \"rollup\", \"form\": \"line\", \"ref\": \"acct\", \"agg\": \"sum\","
		       "   \"field\": \"d\"}]},"
		       " {\"form\": \"line\", \"fields\": [{\"name\": \"n\", \"type\": \"integer\"},"
		       "  {\"name\": \"d\", \"type\": \"decimal\", \"scale\": 2},"
		       "  {\"name\": \"acct\", \"type\": \"ref\", \"form\": \"acct\"}]}]");
	p = insert(db, "acct", "{}");
	insert(db, "line", "{\"n\": 9223372036854775807, \"acct\": 1}");
	CHECK_RC(db, crm_record_insert(db, "line", "{\"n\": 1, \"acct\": 1}", NULL), CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), "rollup acct.total overflows");
	CHECK_RC(db, crm_record_insert(db, "line", "{\"d\": \"92233720368547758.07\", \"acct\": 1}", NULL), CRM_OK);
	CHECK_RC(db, crm_record_insert(db, "line", "{\"d\": \"0.01\", \"acct\": 1}", NULL), CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), "rollup acct.money overflows: its sum is beyond +-92233720368547758.07");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM line"), 2);
	CHECK_STR(val(db, "acct", p, "total"), "9223372036854775807");
	crm_close(db);
}

TEST(test_rollup__forms_without_rollups_work_as_before)
{
	crm_db *db = test_db();
	int64_t n = 0;

	test_apply(db, "{\"form\": \"lead\", \"fields\": [{\"name\": \"name\", \"type\": \"text\"}]}");
	for (int i = 0; i < 100; i++)
		insert(db, "lead", "{\"name\": \"x\"}");
	CHECK_OK(db, crm_count(db, "lead", NULL, &n));
	CHECK_INT(n, 100);
	crm_close(db);
}

TEST_LIST(T(test_rollup__new_parent_starts_at_zero_and_null), T(test_rollup__every_aggregate_follows_child_inserts),
	  T(test_rollup__decimal_sums_are_exact_and_keep_the_scale),
	  T(test_rollup__updates_change_values_flip_filters_and_reparent), T(test_rollup__deletes_and_cascades),
	  T(test_rollup__batches_and_upserts), T(test_rollup__failed_child_write_leaves_parent_unchanged),
	  T(test_rollup__refresh_is_not_an_edit_of_the_parent), T(test_rollup__values_filter_and_sort_in_queries),
	  T(test_rollup__writing_a_rollup_is_refused), T(test_rollup__adding_a_rollup_backfills_existing_records),
	  T(test_rollup__forward_child_gets_its_column_type), T(test_rollup__self_reference),
	  T(test_rollup__filter_on_system_columns), T(test_rollup__bad_definitions_are_refused),
	  T(test_rollup__rollups_of_rollups_are_refused), T(test_rollup__child_change_that_breaks_a_rollup_is_refused),
	  T(test_rollup__sum_past_64_bits_refuses_the_write_naming_the_rollup),
	  T(test_rollup__forms_without_rollups_work_as_before))
