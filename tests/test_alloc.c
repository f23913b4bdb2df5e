/* Fault injection: every allocation libcrm makes (its own, Lua's and
 * PCRE2's) fails in turn, the Nth for every N, through crm_allocator_set;
 * this test, as the host, also points cJSON's hooks at the same failing
 * allocator (libcrm leaves cJSON's hooks to the host). Each failing call must
 * return CRM_ENOMEM (no crash, no leak under ASan), change nothing, and leave
 * the handle usable. */
#include <cJSON.h>
#include <stdlib.h>

#include "helpers.h"
#include "test.h"

static long countdown = -1; /* allocations left before one fails; -1: never */
static int sticky;          /* after the first failure, fail every later allocation too */
static long failures;
/* A failed request the caller asked again at once, unchanged, and got:
 * Lua does that (a failed allocation runs an emergency full collection and
 * retries, lmem.c), so its memory was obtained and nothing failed. */
static long retried;
static const void *failed_ptr;
static size_t failed_size;
static int awaiting_retry;

/* Whether this allocation (of `n` bytes, resizing `p`; only reallocations
 * count as retries, as Lua allocates through crm__realloc) fails. A single
 * failure (sticky off) is the sharper test: code that absorbs it and
 * carries on would return CRM_OK. */
static int fail_now(int resize, const void *p, size_t n)
{
	if (awaiting_retry && resize && countdown != 0 && p == failed_ptr && n == failed_size)
		retried++;
	awaiting_retry = 0;
	if (countdown == 0) {
		failures++;
		countdown = sticky ? 0 : -1;
		failed_ptr = p;
		failed_size = n;
		awaiting_retry = 1;
		return 1;
	}
	if (countdown > 0)
		countdown--;
	return 0;
}

static void *fail_malloc(size_t n, void *payload)
{
	(void)payload;
	return fail_now(0, NULL, n) ? NULL : malloc(n);
}

static void *fail_realloc(void *p, size_t n, void *payload)
{
	(void)payload;
	return fail_now(1, p, n) ? NULL : realloc(p, n);
}

static void plain_free(void *p, void *payload)
{
	(void)payload;
	free(p);
}

static const crm_allocator failing = { CRM_ALLOCATOR_VERSION, fail_malloc, fail_realloc, plain_free, NULL };

/* The host's cJSON hooks: the same failing allocator, counted. */
static long cjson_allocations;
static void *cjson_malloc(size_t n)
{
	cjson_allocations++;
	return fail_malloc(n, NULL);
}
static void cjson_free(void *p) { free(p); }
static cJSON_Hooks cjson_hooks = { cjson_malloc, cjson_free };

/* Install the failing allocator for libcrm and cJSON (before any handle is
 * open, as crm_allocator_set requires), or remove both. */
static void failing_allocators(int on)
{
	CHECK_INT(crm_allocator_set(on ? &failing : NULL), CRM_OK);
	cJSON_InitHooks(on ? &cjson_hooks : NULL);
}

static const char metadata[] =
	"[{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"deals\",\"type\":\"rollup\",\"form\":\"deal\",\"ref\":\"customer\",\"agg\":\"count\"}],"
	"\"permissions\":[{\"roles\":[\"rep\"],\"allow\":[\"read\"]}]},"
	"{\"form\":\"deal\",\"fields\":[{\"name\":\"title\",\"type\":\"text\",\"pattern\":\"^[A-Z]\"},"
	"{\"name\":\"amount\",\"type\":\"decimal\",\"min\":0},{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"won\"]},"
	"{\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"},"
	"{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"hot\",\"cold\"]},{\"name\":\"score\",\"type\":\"integer\"},"
	"{\"name\":\"label\",\"type\":\"computed\",\"lua\":\"record.title .. '!'\"}],\"indexes\":[[\"stage\"]],"
	"\"permissions\":[{\"roles\":[\"rep\"],\"allow\":[\"read\"],\"rows\":{\"field\":\"stage\",\"op\":\"eq\",\"actor\":\"stage\"}}]},"
	"{\"workflow\":\"flow\",\"form\":\"deal\",\"start_on\":\"create\",\"initial\":\"open\","
	"\"states\":{\"open\":{\"timers\":[{\"after\":\"1h\",\"event\":\"nudge\"}]},\"done\":{\"final\":true}},"
	"\"transitions\":[{\"from\":\"open\",\"event\":\"win\",\"to\":\"done\",\"guard\":\"record.amount >= 0\","
	"\"actions\":[{\"set\":{\"stage\":\"won\"}},{\"tag\":\"hot\"},{\"score\":5},{\"emit\":\"won\"}]},"
	"{\"from\":\"open\",\"event\":\"nudge\",\"to\":\"open\",\"actions\":[{\"emit\":\"nudged\"}]}]},"
	"{\"decision\":\"tier\",\"inputs\":[\"stage\"],\"outputs\":[\"tier\"],"
	"\"rules\":[{\"when\":{\"stage\":\"new\"},\"then\":{\"tier\":\"a\"}},{\"then\":{\"tier\":\"b\"}}]},"
	"{\"report\":\"by_stage\",\"source\":\"deal\",\"dimensions\":[{\"field\":\"stage\"}],"
	"\"measures\":[{\"name\":\"n\",\"agg\":\"count\"},{\"name\":\"total\",\"agg\":\"sum\",\"field\":\"amount\"}]},"
	"{\"report\":\"by_customer\",\"source\":\"deal\",\"dimensions\":[\"customer.name\"],"
	"\"measures\":[{\"name\":\"n\",\"agg\":\"count\"}]}]";

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

/* A report and a drill-down as an actor the deal's rules restrict: a private
 * copy of the report compiled with the actor's rows (lib/report/access.c);
 * and a customer, whose rollup over deals the actor may not read. */
static int op_report_as_rep(crm_db *db)
{
	crm_report *rep = NULL;
	char *out = NULL;
	int rc = crm_actor_set_json(db, "{\"user\":\"ann\",\"roles\":[\"rep\"],\"attrs\":{\"stage\":\"new\"}}");

	if (rc == CRM_OK && (rc = crm_record_get(db, "customer", 1, &out)) == CRM_OK && strstr(out, "\"deals\""))
		rc = CRM_ERROR; /* the rollup is hidden from a rep who reads some deals only */
	crm_free(out), out = NULL;
	if (rc == CRM_OK && (rc = crm_report_run(&rep, db, "by_customer", NULL)) == CRM_OK)
		while ((rc = crm_report_next(rep)) == CRM_ROW)
			;
	crm_report_free(rep);
	if (rc == CRM_DONE)
		rc = crm_report_drill(db, "by_customer", NULL, "{\"customer_name\":\"ACME\"}", &out);
	crm_free(out);
	crm_actor_set_json(db, NULL);
	return rc;
}

static int op_decide(crm_db *db)
{
	char *out = NULL;
	int rc = crm_decision_eval(db, "tier", "{\"stage\":\"new\",\"other\":[1,{\"x\":2}]}", &out);

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
				"{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"hot\",\"cold\"]},"
				"{\"name\":\"score\",\"type\":\"integer\"},"
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

static int discard(void *payload, const void *data, size_t len)
{
	(void)payload, (void)data, (void)len;
	return 0;
}

/* An export of a query under labels and of a report (include/crm/io.h). */
static int op_export(crm_db *db)
{
	int rc = crm_export(db, "{\"form\":\"deal\",\"query\":{\"sort\":[\"-amount\"]}}",
			    "{\"format\":\"ndjson\",\"headers\":\"labels\"}", discard, NULL);

	return rc ? rc : crm_export(db, "{\"report\":\"by_stage\"}", "{\"bom\":true}", discard, NULL);
}

/* A consumer: made with a filter, read, acknowledged, listed, pruned;
 * another read as rows. */
static int op_consumer(crm_db *db)
{
	crm_event_cursor *cur = NULL;
	char *out = NULL;
	int rc = crm_consumer_set(db, "erp", "{\"filter\":{\"types\":[\"deal_*\",\"x\"]},\"lease_ms\":5000}");

	if (rc == CRM_OK && (rc = crm_consumer_read(db, "erp", 10, &out)) == CRM_OK) {
		crm_free(out);
		out = NULL;
		rc = crm_consumer_ack(db, "erp", 0);
	}
	if (rc == CRM_OK && (rc = crm_consumer_read_rows(&cur, db, "rows", 10)) == CRM_OK) {
		while (crm_event_cursor_next(cur) == CRM_ROW)
			crm_row_text(crm_event_cursor_row(cur), 1);
		crm_event_cursor_free(cur);
	}
	if (rc == CRM_OK)
		rc = crm_consumer_list(db, &out);
	crm_free(out);
	return rc == CRM_OK ? crm_event_prune(db, 0, NULL) : rc;
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
 * succeeds without a failed allocation: alone (the sharper test: code that
 * absorbs a failure and carries on would return CRM_OK), then with every
 * later allocation failing too. A call that met a failed allocation must
 * return exactly CRM_ENOMEM, change nothing, and leave the handle working.
 * CRM_TEST_ALLOC_STRIDE=K tries every Kth N only (PostgreSQL: each N costs
 * a new schema). */
static void every_failure_mode(const char *name, operation op, int with_deal)
{
	static const char count_sql[] = "SELECT (SELECT count(*) FROM deal) * 1000 + (SELECT count(*) FROM crm_event)";
	const char *stride_env = getenv("CRM_TEST_ALLOC_STRIDE");
	long n, stride = stride_env ? atol(stride_env) : 1;

	if (stride < 1)
		stride = 1;
	failing_allocators(1);
	for (n = 0; n < 100000; n += stride) {
		crm_db *db = setup(with_deal);
		int64_t before = test_sql_int(db, count_sql);
		int rc;

		failures = retried = 0;
		awaiting_retry = 0;
		countdown = n;
		rc = op(db);
		countdown = -1;
		if (rc == CRM_OK && failures == retried) {
			crm_close(db);
			if (failures)
				continue; /* the failed allocation was retried and obtained */
			break; /* N is past the operation's last allocation */
		}
		if (rc != CRM_ENOMEM) {
			fprintf(stderr, "%s: allocation %ld failed%s but the call returned %s: %s\n", name, n,
				sticky ? " (and every later one)" : " (alone)", crm_errstr(rc), crm_errmsg(db));
			test_failures_++;
		}
		if (test_sql_int(db, count_sql) != before) {
			fprintf(stderr, "%s: allocation %ld failed (%s) but the database changed\n", name, n, crm_errstr(rc));
			test_failures_++;
		}
		/* The handle still works, and the operation now succeeds. */
		if (op(db) != CRM_OK) {
			fprintf(stderr, "%s: after allocation %ld failed, the operation fails: %s\n", name, n, crm_errdetail(db));
			test_failures_++;
		}
		crm_close(db);
	}
	failing_allocators(0);
	CHECK(n > 0);
}

static void every_failure(const char *name, operation op, int with_deal)
{
	for (sticky = 0; sticky < 2; sticky++)
		every_failure_mode(name, op, with_deal);
}

TEST(test_alloc__apply_fails_cleanly_at_every_allocation) { every_failure("apply", op_apply, 0); }
TEST(test_alloc__insert_fails_cleanly_at_every_allocation) { every_failure("insert", op_insert, 0); }
TEST(test_alloc__batch_fails_cleanly_at_every_allocation) { every_failure("batch", op_batch, 0); }
TEST(test_alloc__get_fails_cleanly_at_every_allocation) { every_failure("get", op_get, 1); }
TEST(test_alloc__query_fails_cleanly_at_every_allocation) { every_failure("query", op_query, 1); }
TEST(test_alloc__fire_fails_cleanly_at_every_allocation) { every_failure("fire", op_fire, 1); }
TEST(test_alloc__tick_fails_cleanly_at_every_allocation) { every_failure("tick", op_tick, 1); }
TEST(test_alloc__report_fails_cleanly_at_every_allocation) { every_failure("report", op_report, 1); }
TEST(test_alloc__report_as_an_actor_fails_cleanly_at_every_allocation)
{
	every_failure("report as an actor", op_report_as_rep, 1);
}
TEST(test_alloc__decide_fails_cleanly_at_every_allocation) { every_failure("decide", op_decide, 0); }
TEST(test_alloc__migration_fails_cleanly_at_every_allocation) { every_failure("migrate", op_migrate, 1); }
TEST(test_alloc__apply_plan_fails_cleanly_at_every_allocation) { every_failure("plan", op_plan, 1); }
TEST(test_alloc__export_fails_cleanly_at_every_allocation) { every_failure("export", op_export, 1); }
TEST(test_alloc__binding_reads_fail_cleanly_at_every_allocation) { every_failure("binding reads", op_binding_reads, 1); }
TEST(test_alloc__consumer_fails_cleanly_at_every_allocation) { every_failure("consumer", op_consumer, 1); }

/* libcrm never touches cJSON's hooks: a host's own cJSON use keeps the
 * hooks it chose through crm_allocator_set, crm_open and crm_apply, and
 * libcrm's cJSON trees are made with them too. */
TEST(test_alloc__host_cjson_hooks_untouched_by_allocator_open_apply)
{
	crm_db *db;
	cJSON *j;
	long during_apply;

	cJSON_InitHooks(&cjson_hooks);
	CHECK_INT(crm_allocator_set(&failing), CRM_OK);
	db = test_db();
	cjson_allocations = 0;
	test_apply(db, metadata);
	during_apply = cjson_allocations;
	CHECK(during_apply > 0);
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"ACME\"}", NULL));
	CHECK_INT(crm_allocator_set(NULL), CRM_EMISUSE); /* a handle is open */
	crm_close(db);
	CHECK_INT(crm_allocator_set(NULL), CRM_OK);
	cjson_allocations = 0;
	j = cJSON_Parse("{\"host\":[1,2]}");
	CHECK(j != NULL);
	CHECK(cjson_allocations > 0);
	cJSON_Delete(j);
	cJSON_InitHooks(NULL);
}

/* The allocator is process-wide: it changes only while no handle is open,
 * and only from a struct of the version this library knows. */
TEST(test_alloc__allocator_set_refused_while_open_or_wrong_version)
{
	crm_allocator a = CRM_ALLOCATOR_INIT, bad = failing;
	crm_db *db = test_db();

	a.malloc_fn = fail_malloc;
	a.realloc_fn = fail_realloc;
	a.free_fn = plain_free;
	CHECK_INT(crm_allocator_set(&a), CRM_EMISUSE);
	crm_close(db);
	bad.version = CRM_ALLOCATOR_VERSION + 1;
	CHECK_INT(crm_allocator_set(&bad), CRM_EMISUSE);
	a.free_fn = NULL;
	CHECK_INT(crm_allocator_set(&a), CRM_EMISUSE);
	a.free_fn = plain_free;
	CHECK_INT(crm_allocator_set(&a), CRM_OK);
	db = test_db();
	CHECK_OK(db, crm_apply(db, metadata));
	crm_close(db);
	CHECK_INT(crm_allocator_set(NULL), CRM_OK);
}

TEST_LIST(T(test_alloc__host_cjson_hooks_untouched_by_allocator_open_apply),
	  T(test_alloc__allocator_set_refused_while_open_or_wrong_version),
	  T(test_alloc__apply_fails_cleanly_at_every_allocation), T(test_alloc__insert_fails_cleanly_at_every_allocation),
	  T(test_alloc__batch_fails_cleanly_at_every_allocation), T(test_alloc__get_fails_cleanly_at_every_allocation),
	  T(test_alloc__query_fails_cleanly_at_every_allocation), T(test_alloc__fire_fails_cleanly_at_every_allocation),
	  T(test_alloc__tick_fails_cleanly_at_every_allocation), T(test_alloc__report_fails_cleanly_at_every_allocation),
	  T(test_alloc__report_as_an_actor_fails_cleanly_at_every_allocation),
	  T(test_alloc__decide_fails_cleanly_at_every_allocation), T(test_alloc__migration_fails_cleanly_at_every_allocation),
	  T(test_alloc__apply_plan_fails_cleanly_at_every_allocation),
	  T(test_alloc__binding_reads_fail_cleanly_at_every_allocation),
	  T(test_alloc__export_fails_cleanly_at_every_allocation),
	  T(test_alloc__consumer_fails_cleanly_at_every_allocation))
