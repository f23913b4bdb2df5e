/* Fault injection: every allocation libcrm makes (its own, cJSON's and
 * Lua's) fails in turn, the Nth for every N, through crm_allocator_set. Each
 * failing call must return an error (no crash, no leak under ASan), change
 * nothing, and leave the handle usable. */
#include <stdlib.h>

#include "helpers.h"
#include "test.h"

static long countdown = -1; /* allocations left before one fails; -1: never */
static long failures;

static void *fail_malloc(size_t n, void *payload)
{
	(void)payload;
	if (countdown == 0) {
		failures++;
		return NULL;
	}
	if (countdown > 0)
		countdown--;
	return malloc(n);
}

static void *fail_realloc(void *p, size_t n, void *payload)
{
	(void)payload;
	if (countdown == 0) {
		failures++;
		return NULL;
	}
	if (countdown > 0)
		countdown--;
	return realloc(p, n);
}

static void plain_free(void *p, void *payload)
{
	(void)payload;
	free(p);
}

static const crm_allocator failing = { fail_malloc, fail_realloc, plain_free, NULL };

static const char metadata[] =
	"[{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"deals\",\"type\":\"rollup\",\"form\":\"deal\",\"ref\":\"customer\",\"agg\":\"count\"}]},"
	"{\"form\":\"deal\",\"fields\":[{\"name\":\"title\",\"type\":\"text\",\"pattern\":\"^[A-Z]\"},"
	"{\"name\":\"amount\",\"type\":\"decimal\",\"min\":0},{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"won\"]},"
	"{\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"},"
	"{\"name\":\"label\",\"type\":\"computed\",\"lua\":\"record.title .. '!'\"}],\"indexes\":[[\"stage\"]]},"
	"{\"workflow\":\"flow\",\"form\":\"deal\",\"start_on\":\"create\",\"initial\":\"open\","
	"\"states\":{\"open\":{\"timers\":[{\"after\":\"1h\",\"event\":\"nudge\"}]},\"done\":{\"final\":true}},"
	"\"transitions\":[{\"from\":\"open\",\"event\":\"win\",\"to\":\"done\",\"guard\":\"record.amount >= 0\","
	"\"actions\":[{\"set\":{\"stage\":\"won\"}},{\"emit\":\"won\"}]},"
	"{\"from\":\"open\",\"event\":\"nudge\",\"to\":\"open\",\"actions\":[{\"emit\":\"nudged\"}]}]},"
	"{\"report\":\"by_stage\",\"source\":\"deal\",\"dimensions\":[{\"field\":\"stage\"}],"
	"\"measures\":[{\"name\":\"n\",\"agg\":\"count\"},{\"name\":\"total\",\"agg\":\"sum\",\"field\":\"amount\"}]}]";

/* One operation on a database holding the metadata and a customer. */
typedef int (*operation)(crm_db *db);

static int op_apply(crm_db *db) { return crm_apply(db, metadata); }

static int op_insert(crm_db *db)
{
	return crm_record_insert(db, "deal", "{\"title\":\"Big\",\"amount\":\"12.50\",\"stage\":\"new\",\"customer\":1}", NULL);
}

static int op_batch(crm_db *db)
{
	return crm_record_insert_many(db, "deal",
				      "[{\"title\":\"A\",\"amount\":1,\"customer\":1},{\"title\":\"B\",\"amount\":2}]", NULL, NULL);
}

static int op_get(crm_db *db)
{
	char *json = NULL;
	int rc = crm_record_get(db, "customer", 1, &json);

	crm_free(json);
	return rc;
}

static int op_query(crm_db *db)
{
	crm_cursor *cur = NULL;
	int rc = crm_query(&cur, db, "deal", "{\"filter\":{\"field\":\"stage\",\"op\":\"in\",\"value\":[\"new\",\"won\"]},\"sort\":[\"-amount\"]}");

	if (rc == CRM_OK)
		while ((rc = crm_cursor_next(cur)) == CRM_ROW)
			if (!crm_cursor_json(cur)) {
				rc = crm_errcode(db);
				break;
			}
	crm_cursor_free(cur);
	return rc == CRM_DONE ? CRM_OK : rc;
}

static int op_fire(crm_db *db) { return crm_workflow_fire(db, "deal", 1, "win", NULL); }
static int op_tick(crm_db *db) { return crm_tick(db, INT64_C(1767323045000) + 7200000, NULL); }

static int op_report(crm_db *db)
{
	char *out = NULL;
	int rc = crm_report_output(db, "by_stage", NULL, "csv", &out);

	crm_free(out);
	return rc;
}

static int op_migrate(crm_db *db)
{
	return crm_apply(db, "{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
			     "{\"name\":\"deals\",\"type\":\"rollup\",\"form\":\"deal\",\"ref\":\"customer\",\"agg\":\"count\"},"
			     "{\"name\":\"tier\",\"type\":\"text\",\"default\":\"gold\"}]}");
}

/* A plan of a migration that renames, drops, retypes and recomputes. */
static int op_plan(crm_db *db)
{
	char *plan = NULL;
	int rc = crm_apply_plan(db,
				"{\"form\":\"deal\",\"fields\":[{\"name\":\"name\",\"id\":\"title\",\"type\":\"text\"},"
				"{\"name\":\"amount\",\"type\":\"text\"},{\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"},"
				"{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"won\"]},"
				"{\"name\":\"label\",\"type\":\"computed\",\"lua\":\"record.name .. '?'\"}]}",
				NULL, &plan);

	crm_free(plan);
	return rc;
}

/* What a binding reads: definitions, an instance, the outbox, typed rows. */
static int op_binding_reads(crm_db *db)
{
	char *out = NULL;
	crm_report *rep = NULL;
	int rc;

	if ((rc = crm_workflow_list(db, &out)) == CRM_OK) {
		crm_free(out);
		rc = crm_report_get(db, "by_stage", &out);
	}
	if (rc == CRM_OK) {
		crm_free(out);
		rc = crm_workflow_instance_get(db, 1, &out);
	}
	if (rc == CRM_OK) {
		crm_free(out);
		rc = crm_event_list(db, 0, 10, &out);
	}
	crm_free(out);
	if (rc == CRM_OK && (rc = crm_report_run(&rep, db, "by_stage", NULL)) == CRM_OK)
		while ((rc = crm_report_next(rep)) == CRM_ROW)
			if (!crm_row_text(crm_report_row(rep), 2)) {
				rc = CRM_ERROR;
				break;
			}
	crm_report_free(rep);
	return rc == CRM_DONE ? CRM_OK : rc;
}

static crm_db *setup(int with_deal)
{
	crm_db *db = test_db();

	test_apply(db, metadata);
	if (crm_record_insert(db, "customer", "{\"name\":\"ACME\"}", NULL) != CRM_OK ||
	    (with_deal && op_insert(db) != CRM_OK)) {
		fprintf(stderr, "setup: %s\n", crm_errdetail(db));
		test_failures_++;
	}
	return db;
}

/* Run `op` with the Nth allocation failing, for N = 0, 1, 2, ... until it
 * succeeds; every failure must be clean and leave the handle working. */
static void every_failure(const char *name, operation op, int with_deal)
{
	long n;

	for (n = 0; n < 100000; n++) {
		crm_db *db = setup(with_deal);
		int64_t before = test_sql_int(db, "SELECT (SELECT count(*) FROM deal) * 1000 + (SELECT count(*) FROM crm_event)");
		int rc;

		failures = 0;
		countdown = n;
		crm_allocator_set(&failing);
		rc = op(db);
		countdown = -1;
		crm_allocator_set(NULL);
		if (rc == CRM_OK && failures == 0) {
			crm_close(db);
			break; /* N is past the operation's last allocation */
		}
		if (rc != CRM_OK) {
			if (test_sql_int(db, "SELECT (SELECT count(*) FROM deal) * 1000 + (SELECT count(*) FROM crm_event)") !=
			    before) {
				fprintf(stderr, "%s: allocation %ld failed (%s) but the database changed\n", name, n,
					crm_errstr(rc));
				test_failures_++;
			}
			/* The handle still works, and the operation now succeeds. */
			if (op(db) != CRM_OK) {
				fprintf(stderr, "%s: after allocation %ld failed, the operation fails: %s\n", name, n,
					crm_errdetail(db));
				test_failures_++;
			}
		}
		crm_close(db);
	}
	CHECK(n > 0);
}

TEST(test_alloc__apply_fails_cleanly_at_every_allocation) { every_failure("apply", op_apply, 0); }
TEST(test_alloc__insert_fails_cleanly_at_every_allocation) { every_failure("insert", op_insert, 0); }
TEST(test_alloc__batch_fails_cleanly_at_every_allocation) { every_failure("batch", op_batch, 0); }
TEST(test_alloc__get_fails_cleanly_at_every_allocation) { every_failure("get", op_get, 1); }
TEST(test_alloc__query_fails_cleanly_at_every_allocation) { every_failure("query", op_query, 1); }
TEST(test_alloc__fire_fails_cleanly_at_every_allocation) { every_failure("fire", op_fire, 1); }
TEST(test_alloc__tick_fails_cleanly_at_every_allocation) { every_failure("tick", op_tick, 1); }
TEST(test_alloc__report_fails_cleanly_at_every_allocation) { every_failure("report", op_report, 1); }
TEST(test_alloc__migration_fails_cleanly_at_every_allocation) { every_failure("migrate", op_migrate, 1); }
TEST(test_alloc__apply_plan_fails_cleanly_at_every_allocation) { every_failure("plan", op_plan, 1); }
TEST(test_alloc__binding_reads_fail_cleanly_at_every_allocation) { every_failure("binding reads", op_binding_reads, 1); }

TEST_LIST(T(test_alloc__apply_fails_cleanly_at_every_allocation), T(test_alloc__insert_fails_cleanly_at_every_allocation),
	  T(test_alloc__batch_fails_cleanly_at_every_allocation), T(test_alloc__get_fails_cleanly_at_every_allocation),
	  T(test_alloc__query_fails_cleanly_at_every_allocation), T(test_alloc__fire_fails_cleanly_at_every_allocation),
	  T(test_alloc__tick_fails_cleanly_at_every_allocation), T(test_alloc__report_fails_cleanly_at_every_allocation),
	  T(test_alloc__migration_fails_cleanly_at_every_allocation),
	  T(test_alloc__apply_plan_fails_cleanly_at_every_allocation),
	  T(test_alloc__binding_reads_fail_cleanly_at_every_allocation))
