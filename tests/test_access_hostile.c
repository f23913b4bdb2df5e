/* Access control against the bug classes of other CRMs and data platforms
 * (issue 9), each with its expected refusal: IDOR by id on every path
 * (NocoDB CVE-2026-28361, Baserow #4870), search and filters over an
 * unreadable field used as an oracle (Directus #23894), aggregates that
 * ignored field permissions (Directus PR #8575), injection through an
 * aggregation or group name (NocoBase #4813), sort order, counts and report
 * totals as oracles, and error text naming another rep's data. Both backends. */
#include "helpers.h"
#include "test.h"

/* Reps ann (north) and bob (south) see their own deals; margin is hidden
 * from reps, amount read-only; managers see their team's; customers are
 * visible to the team that owns them; contacts follow their customer. */
static const char forms[] =
	"[{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},{\"name\":\"team\",\"type\":\"text\"},"
	"  {\"name\":\"industry\",\"type\":\"text\"},"
	"  {\"name\":\"deals\",\"type\":\"rollup\",\"form\":\"deal\",\"ref\":\"customer\",\"agg\":\"count\"},"
	"  {\"name\":\"total\",\"type\":\"rollup\",\"form\":\"deal\",\"ref\":\"customer\",\"agg\":\"sum\",\"field\":\"amount\"},"
	"  {\"name\":\"big\",\"type\":\"rollup\",\"form\":\"deal\",\"ref\":\"customer\",\"agg\":\"count\","
	"   \"filter\":{\"field\":\"margin\",\"op\":\"gt\",\"value\":50}}],"
	" \"permissions\":[{\"roles\":\"*\",\"allow\":[\"read\"],\"rows\":{\"field\":\"team\",\"op\":\"eq\",\"actor\":\"team\"}},"
	"  {\"roles\":[\"finance\",\"auditor\"],\"allow\":[\"read\"]}]},"
	" {\"form\":\"deal\",\"fields\":[{\"name\":\"title\",\"type\":\"text\"},{\"name\":\"code\",\"type\":\"text\",\"unique\":true},"
	"  {\"name\":\"team\",\"type\":\"text\",\"actor_default\":\"team\"},"
	"  {\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"open\",\"won\",\"lost\"],\"default\":\"open\"},"
	"  {\"name\":\"amount\",\"type\":\"integer\"},{\"name\":\"margin\",\"type\":\"integer\"},"
	"  {\"name\":\"closed\",\"type\":\"date\"},"
	"  {\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"}],"
	" \"permissions\":["
	"  {\"roles\":[\"rep\"],\"allow\":[\"read\",\"create\",\"update\",\"delete\"],"
	"   \"rows\":{\"field\":\"owner\",\"op\":\"eq\",\"actor\":\"user\"},"
	"   \"fields\":{\"margin\":\"hidden\",\"amount\":\"read_only\"},\"events\":[\"win\"]},"
	"  {\"roles\":[\"manager\"],\"allow\":[\"read\",\"update\"],\"rows\":{\"field\":\"team\",\"op\":\"eq\",\"actor\":\"team\"},"
	"   \"events\":[\"*\"]},"
	"  {\"roles\":[\"finance\"],\"allow\":[\"read\"],\"fields\":{\"margin\":\"hidden\"}},"
	"  {\"roles\":[\"auditor\"],\"allow\":[\"read\"]},"
	"  {\"roles\":[\"intern\"],\"allow\":[\"read\"],"
	"   \"fields\":{\"stage\":\"hidden\",\"closed\":\"hidden\",\"customer\":\"hidden\",\"margin\":\"hidden\","
	"    \"code\":\"hidden\"}}]},"
	" {\"workflow\":\"deal_flow\",\"form\":\"deal\",\"start_on\":\"create\",\"initial\":\"open\","
	"  \"states\":{\"open\":{},\"won\":{\"final\":true}},"
	"  \"transitions\":[{\"from\":\"open\",\"event\":\"win\",\"to\":\"won\"}]},"
	" {\"report\":\"by_stage\",\"source\":\"deal\",\"dimensions\":[\"stage\"],"
	"  \"measures\":[{\"name\":\"n\",\"agg\":\"count\"},{\"name\":\"amount\",\"agg\":\"sum\",\"field\":\"amount\"}]},"
	" {\"report\":\"by_industry\",\"source\":\"deal\",\"dimensions\":[\"customer.industry\"],"
	"  \"measures\":[{\"name\":\"n\",\"agg\":\"count\"}]},"
	" {\"report\":\"margin_sum\",\"source\":\"deal\",\"measures\":[{\"name\":\"m\",\"agg\":\"sum\",\"field\":\"margin\"}]},"
	" {\"report\":\"margin_distinct\",\"source\":\"deal\",\"measures\":[{\"name\":\"m\",\"agg\":\"count_distinct\",\"field\":\"margin\"}]},"
	" {\"report\":\"by_margin\",\"source\":\"deal\",\"dimensions\":[\"margin\"],\"measures\":[{\"name\":\"n\",\"agg\":\"count\"}]},"
	" {\"report\":\"big_margin\",\"source\":\"deal\",\"measures\":[{\"name\":\"n\",\"agg\":\"count\","
	"   \"filter\":{\"field\":\"margin\",\"op\":\"gt\",\"value\":50}}]},"
	" {\"report\":\"filter_margin\",\"source\":\"deal\",\"filter\":{\"field\":\"margin\",\"op\":\"ge\",\"param\":\"m\"},"
	"  \"params\":{\"m\":{\"type\":\"integer\",\"default\":0}},\"measures\":[{\"name\":\"n\",\"agg\":\"count\"}]},"
	" {\"report\":\"by_close_month\",\"source\":\"deal\",\"dimensions\":[{\"field\":\"closed\",\"bucket\":\"month\"}],"
	"  \"measures\":[{\"name\":\"n\",\"agg\":\"count\"}]},"
	" {\"report\":\"monthly\",\"source\":\"deal\",\"dimensions\":[\"stage\",{\"field\":\"closed\",\"bucket\":\"month\"}],"
	"  \"measures\":[{\"name\":\"amount\",\"agg\":\"sum\",\"field\":\"amount\"}],\"compare\":\"previous_period\","
	"  \"running\":[\"amount\"],\"totals\":true},"
	" {\"report\":\"stage_funnel\",\"source\":\"deal\",\"funnel\":{\"field\":\"stage\",\"stages\":[\"open\",\"won\"]}}]";

static int64_t cust_north, cust_south, ann_deal, bob_deal, missing_deal;

static void as(crm_db *db, const char *actor_json) { CHECK_OK(db, crm_actor_set_json(db, actor_json)); }
#define ANN "{\"user\":\"ann\",\"roles\":[\"rep\"],\"attrs\":{\"team\":\"north\"}}"
#define BOB "{\"user\":\"bob\",\"roles\":[\"rep\"],\"attrs\":{\"team\":\"south\"}}"
#define MEG "{\"user\":\"meg\",\"roles\":[\"manager\"],\"attrs\":{\"team\":\"north\"}}"

static crm_db *setup(void)
{
	crm_db *db = test_db();

	test_apply(db, forms);
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"Acme\",\"team\":\"north\",\"industry\":\"retail\"}", &cust_north));
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"Zeta\",\"team\":\"south\",\"industry\":\"secret-defense\"}",
				       &cust_south));
	as(db, ANN);
	{
		char doc[200];
		snprintf(doc, sizeof doc, "{\"title\":\"ann deal\",\"code\":\"A-1\",\"customer\":%lld}",
			 (long long)cust_north);
		CHECK_OK(db, crm_record_insert(db, "deal", doc, &ann_deal));
		as(db, BOB);
		snprintf(doc, sizeof doc, "{\"title\":\"bob secret\",\"code\":\"B-7\",\"customer\":%lld}",
			 (long long)cust_south);
		CHECK_OK(db, crm_record_insert(db, "deal", doc, &bob_deal));
	}
	/* amounts (read-only to reps), margins, closing dates and a deleted deal, by the system */
	CHECK_OK(db, crm_actor_set_json(db, NULL));
	CHECK_OK(db, crm_record_update(db, "deal", ann_deal, "{\"amount\":100,\"margin\":10,\"closed\":\"2026-01-05\"}", 0));
	CHECK_OK(db, crm_record_update(db, "deal", bob_deal, "{\"amount\":900,\"margin\":77,\"closed\":\"2026-02-05\"}", 0));
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"title\":\"gone\",\"code\":\"G\"}", &missing_deal));
	CHECK_OK(db, crm_record_delete(db, "deal", missing_deal, 0));
	return db;
}

/* The error of `rc` on the handle, with record id `id` written as "#". */
static void error_of(crm_db *db, int rc, int64_t id, char *out, size_t size)
{
	char num[24], buf[1024];
	const char *s;
	size_t n = 0, k;

	snprintf(num, sizeof num, "%lld", (long long)id);
	k = strlen(num);
	snprintf(buf, sizeof buf, "%s|%s|%s", crm_errstr(rc), crm_errmsg(db), crm_errdetail(db));
	for (s = buf; *s && n + 2 < size;)
		if (strncmp(s, num, k) == 0 && !(s[k] >= '0' && s[k] <= '9')) {
			out[n++] = '#';
			s += k;
		} else
			out[n++] = *s++;
	out[n] = '\0';
}

/* Call `op` on bob's deal and on a deleted one: the same code, message and detail. */
#define SAME_AS_MISSING(db, call_bob, call_missing)                                                        \
	do {                                                                                               \
		char seen_[1024], missing_[1024];                                                          \
		int bob_rc_ = (call_bob);                                                                       \
		error_of(db, bob_rc_, bob_deal, seen_, sizeof seen_);                                           \
		int missing_rc_ = (call_missing);                                                                   \
		error_of(db, missing_rc_, missing_deal, missing_, sizeof missing_);                                 \
		CHECK_STR(seen_, missing_);                                                                \
		CHECK(bob_rc_ != CRM_OK);                                                                       \
	} while (0)

TEST(test_access_hostile__idor_by_id_answers_like_a_missing_record)
{
	crm_db *db = setup();
	char *out = NULL, *out2 = NULL;

	as(db, ANN);
	SAME_AS_MISSING(db, crm_record_get(db, "deal", bob_deal, &out), crm_record_get(db, "deal", missing_deal, &out));
	SAME_AS_MISSING(db, crm_record_update(db, "deal", bob_deal, "{\"title\":\"x\"}", 0),
			crm_record_update(db, "deal", missing_deal, "{\"title\":\"x\"}", 0));
	/* an old version of an unreadable record is still "not found", never a conflict */
	SAME_AS_MISSING(db, crm_record_update(db, "deal", bob_deal, "{\"title\":\"x\"}", 1),
			crm_record_update(db, "deal", missing_deal, "{\"title\":\"x\"}", 1));
	SAME_AS_MISSING(db, crm_record_delete(db, "deal", bob_deal, 0), crm_record_delete(db, "deal", missing_deal, 0));
	SAME_AS_MISSING(db, crm_workflow_fire(db, "deal", bob_deal, "win", NULL),
			crm_workflow_fire(db, "deal", missing_deal, "win", NULL));
	/* history and instances: whatever a missing record answers */
	{
		int a = crm_workflow_history(db, "deal", bob_deal, &out), b = crm_workflow_history(db, "deal", missing_deal, &out2);
		CHECK_INT(a, b);
		if (a == CRM_OK)
			CHECK_STR(out, out2);
		crm_free(out), crm_free(out2), out = out2 = NULL;
		a = crm_workflow_instances(db, "deal", bob_deal, &out), b = crm_workflow_instances(db, "deal", missing_deal, &out2);
		CHECK_INT(a, b);
		if (a == CRM_OK)
			CHECK_STR(out, out2);
		crm_free(out), crm_free(out2), out = out2 = NULL;
		a = crm_workflow_events(db, "deal", bob_deal, &out), b = crm_workflow_events(db, "deal", missing_deal, &out2);
		CHECK_INT(a, b);
		crm_free(out), crm_free(out2), out = out2 = NULL;
	}
	/* a drill-down names no record of bob's: its query, run, returns ann's only */
	{
		crm_cursor *cur = NULL;
		int n = 0;
		CHECK_OK(db, crm_report_drill(db, "by_stage", NULL, "{\"stage\":\"open\"}", &out));
		CHECK_OK(db, crm_query(&cur, db, "deal", out));
		while (crm_cursor_next(cur) == CRM_ROW) {
			CHECK_INT(crm_cursor_int64(cur, 0), ann_deal);
			n++;
		}
		CHECK_INT(n, 1);
		crm_cursor_free(cur);
		crm_free(out), out = NULL;
	}
	/* nothing of bob's changed */
	CHECK_OK(db, crm_actor_set_json(db, NULL));
	CHECK_OK(db, crm_record_get(db, "deal", bob_deal, &out));
	CHECK_HAS(out, "\"title\":\"bob secret\"");
	CHECK_HAS(out, "\"version\":2");
	crm_free(out);
	crm_close(db);
}

/* Every filter shape that reads margin (hidden from reps) is refused naming it,
 * wherever the condition sits; on a readable field the answer covers ann's rows only. */
TEST(test_access_hostile__a_filter_on_a_hidden_field_is_refused_wherever_it_sits)
{
	static const char *const oracles[] = {
		"{\"filter\":{\"field\":\"margin\",\"op\":\"gt\",\"value\":50}}",
		"{\"filter\":{\"or\":[{\"field\":\"title\",\"op\":\"eq\",\"value\":\"zz\"},{\"field\":\"margin\",\"op\":\"gt\",\"value\":50}]}}",
		"{\"filter\":{\"not\":{\"field\":\"margin\",\"op\":\"le\",\"value\":50}}}",
		"{\"filter\":{\"and\":[{\"not\":{\"or\":[{\"field\":\"margin\",\"op\":\"is_null\"}]}}]}}",
		"{\"filter\":{\"field\":\"margin\",\"op\":\"in\",\"value\":[77]}}",
		"{\"filter\":{\"field\":\"margin\",\"op\":\"between\",\"value\":[70,80]}}",
		"{\"sort\":[\"margin\"]}",
		"{\"sort\":[\"title\",\"-margin\"]}",
		"{\"fields\":[\"title\",\"margin\"]}",
	};
	crm_db *db = setup();
	crm_cursor *cur = NULL;
	int64_t n = -1;

	as(db, ANN);
	for (size_t i = 0; i < sizeof oracles / sizeof *oracles; i++) {
		CHECK_RC(db, crm_query(&cur, db, "deal", oracles[i]), CRM_EPERM);
		CHECK_HAS(crm_errmsg(db), "margin");
		crm_cursor_free(cur), cur = NULL;
		if (strstr(oracles[i], "filter")) {
			CHECK_RC(db, crm_count(db, "deal", oracles[i], &n), CRM_EPERM);
			CHECK_HAS(crm_errmsg(db), "margin");
		}
	}
	/* contains / starts_with over a readable field: no oracle on bob's rows */
	CHECK_OK(db, crm_count(db, "deal", "{\"filter\":{\"field\":\"title\",\"op\":\"starts_with\",\"value\":\"bob\"}}", &n));
	CHECK_INT(n, 0);
	CHECK_OK(db, crm_count(db, "deal", "{\"filter\":{\"field\":\"title\",\"op\":\"contains\",\"value\":\"secret\"}}", &n));
	CHECK_INT(n, 0);
	CHECK_OK(db, crm_count(db, "deal", "{\"filter\":{\"field\":\"code\",\"op\":\"eq\",\"value\":\"B-7\"}}", &n));
	CHECK_INT(n, 0);
	/* contains / starts_with over a hidden field: refused, not answered */
	as(db, "{\"user\":\"ivy\",\"roles\":[\"intern\"]}");
	CHECK_RC(db, crm_count(db, "deal", "{\"filter\":{\"field\":\"code\",\"op\":\"starts_with\",\"value\":\"B\"}}", &n), CRM_EPERM);
	CHECK_HAS(crm_errmsg(db), "'code'");
	CHECK_RC(db, crm_count(db, "deal", "{\"filter\":{\"not\":{\"field\":\"code\",\"op\":\"contains\",\"value\":\"7\"}}}", &n),
		 CRM_EPERM);
	CHECK_HAS(crm_errmsg(db), "'code'");
	as(db, ANN);
	/* the customer bob's deal points at: not readable by ann, so not a search oracle either */
	CHECK_OK(db, crm_count(db, "customer", "{\"filter\":{\"field\":\"industry\",\"op\":\"contains\",\"value\":\"defense\"}}", &n));
	CHECK_INT(n, 0);
	crm_close(db);
}

/* Reports: sum, count_distinct, a dimension, a measure's filter, the report's
 * filter (with a parameter) over a hidden field are refused naming it. */
TEST(test_access_hostile__aggregates_respect_field_permissions)
{
	static const char *const reports[] = { "margin_sum", "margin_distinct", "by_margin", "big_margin", "filter_margin" };
	crm_db *db = setup();
	crm_report *rep = NULL;
	char *out = NULL;

	as(db, ANN);
	for (size_t i = 0; i < sizeof reports / sizeof *reports; i++) {
		CHECK_RC(db, crm_report_run(&rep, db, reports[i], NULL), CRM_EPERM);
		CHECK_HAS(crm_errmsg(db), "margin");
		crm_report_free(rep), rep = NULL;
		CHECK_RC(db, crm_report_output(db, reports[i], NULL, "json", &out), CRM_EPERM);
		crm_free(out), out = NULL;
		CHECK_RC(db, crm_report_explain(db, reports[i], NULL, &out), CRM_EPERM);
		crm_free(out), out = NULL;
		CHECK_RC(db, crm_report_drill(db, reports[i], NULL, "{}", &out), CRM_EPERM);
		crm_free(out), out = NULL;
	}
	/* a funnel's field, a bucketed date, a reference a path follows: each refused, named */
	as(db, "{\"user\":\"ivy\",\"roles\":[\"intern\"]}");
	{
		static const char *const cases[][2] = {
			{ "stage_funnel", "'stage'" }, { "by_close_month", "'closed'" }, { "by_industry", "'customer'" },
			{ "by_stage", "'stage'" }, { "monthly", "'stage'" },
		};
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			CHECK_RC(db, crm_report_output(db, cases[i][0], NULL, "json", &out), CRM_EPERM);
			CHECK_HAS(crm_errmsg(db), cases[i][1]);
			CHECK_HAS(crm_errdetail(db), "\"reason\":\"hidden\"");
			crm_free(out), out = NULL;
		}
	}
	/* the manager sees margin: the same reports run, over the team's rows */
	as(db, MEG);
	CHECK_OK(db, crm_report_output(db, "margin_sum", NULL, "json", &out));
	CHECK_HAS(out, "\"m\":10");
	crm_free(out);
	crm_close(db);
}

/* A rollup aggregates deals the actor may not see: it shows only to an actor
 * who reads every deal and every deal field it reads; to others it is hidden
 * (left out, refused in filters and reports), whatever the record's children. */
TEST(test_access_hostile__rollups_show_only_what_every_child_row_allows)
{
	crm_db *db = setup();
	crm_cursor *cur = NULL;
	char *out = NULL;
	int64_t n = -1;

	/* a rep and a manager read some deals: no rollup at all */
	as(db, ANN);
	CHECK_OK(db, crm_record_get(db, "customer", cust_north, &out));
	CHECK_HAS(out, "\"industry\":\"retail\"");
	CHECK(!strstr(out, "\"deals\"") && !strstr(out, "\"total\"") && !strstr(out, "\"big\""));
	crm_free(out), out = NULL;
	CHECK_RC(db, crm_count(db, "customer", "{\"filter\":{\"field\":\"deals\",\"op\":\"gt\",\"value\":1}}", &n), CRM_EPERM);
	CHECK_HAS(crm_errmsg(db), "deals");
	CHECK_RC(db, crm_query(&cur, db, "customer", "{\"sort\":[\"-total\"]}"), CRM_EPERM);
	crm_cursor_free(cur), cur = NULL;
	as(db, MEG);
	CHECK_OK(db, crm_record_get(db, "customer", cust_north, &out));
	CHECK(!strstr(out, "\"deals\"") && !strstr(out, "\"total\""));
	crm_free(out), out = NULL;
	/* finance reads every deal but not margin: counts and sums, not the count filtered on margin */
	as(db, "{\"user\":\"fay\",\"roles\":[\"finance\"]}");
	CHECK_OK(db, crm_record_get(db, "customer", cust_south, &out));
	CHECK_HAS(out, "\"deals\":1");
	CHECK_HAS(out, "\"total\":900");
	CHECK(!strstr(out, "\"big\""));
	crm_free(out), out = NULL;
	/* an auditor reads everything */
	as(db, "{\"user\":\"abe\",\"roles\":[\"auditor\"]}");
	CHECK_OK(db, crm_record_get(db, "customer", cust_south, &out));
	CHECK_HAS(out, "\"big\":1");
	crm_free(out);
	crm_close(db);
}

/* Names in reports and queries are identifiers checked against the metadata:
 * SQL in a group or measure name, a field path, a parameter or an attribute
 * value is refused or bound as a value, never run. */
TEST(test_access_hostile__no_injection_through_group_names_parameters_or_attributes)
{
	static const char *const bad[] = {
		("{\"report\":\"r1\",\"source\":\"deal\",\"dimensions\":[{\"field\":\"stage\",\"name\":\"x\\\"; DROP TABLE deal; --\"}],"
		 "\"measures\":[{\"name\":\"n\",\"agg\":\"count\"}]}"),
		"{\"report\":\"r2\",\"source\":\"deal\",\"measures\":[{\"name\":\"n) FROM deal; --\",\"agg\":\"count\"}]}",
		"{\"report\":\"r3\",\"source\":\"deal\",\"dimensions\":[\"stage) FROM deal --\"],\"measures\":[{\"name\":\"n\",\"agg\":\"count\"}]}",
		"{\"report\":\"r4\",\"source\":\"deal\",\"measures\":[{\"name\":\"n\",\"agg\":\"sum(margin)) --\",\"field\":\"amount\"}]}",
	};
	crm_db *db = setup();
	crm_cursor *cur = NULL;
	char *out = NULL;
	int64_t n = -1;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK_RC(db, crm_apply(db, bad[i]), CRM_EINVAL);
	CHECK_OK(db, crm_apply(db, "{\"report\":\"by_code\",\"source\":\"deal\",\"filter\":{\"field\":\"code\",\"op\":\"eq\",\"param\":\"c\"},"
				   "\"params\":{\"c\":{\"type\":\"text\"}},\"measures\":[{\"name\":\"n\",\"agg\":\"count\"}]}"));
	as(db, ANN);
	CHECK_OK(db, crm_report_output(db, "by_code", "{\"c\":\"x' OR '1'='1\"}", "json", &out));
	CHECK_HAS(out, "\"n\":0");
	crm_free(out), out = NULL;
	CHECK_RC(db, crm_query(&cur, db, "deal", "{\"fields\":[\"title\\\" FROM deal --\"]}"), CRM_EINVAL);
	crm_cursor_free(cur), cur = NULL;
	/* an attribute value that looks like SQL is a value */
	as(db, "{\"user\":\"x' OR '1'='1\",\"roles\":[\"rep\",\"manager\"],\"attrs\":{\"team\":\"north' OR '1'='1\"}}");
	CHECK_OK(db, crm_count(db, "deal", NULL, &n));
	CHECK_INT(n, 0);
	/* the tables are all there */
	CHECK_OK(db, crm_actor_set_json(db, NULL));
	CHECK_OK(db, crm_count(db, "deal", NULL, &n));
	CHECK_INT(n, 2);
	crm_close(db);
}

/* Sort order, counts and report totals cover ann's rows only; the report
 * through a reference shows bob's customer's industry to nobody but its team. */
TEST(test_access_hostile__sort_counts_and_totals_are_no_oracle)
{
	crm_db *db = setup();
	crm_cursor *cur = NULL;
	char *out = NULL;
	int64_t n = -1;
	int rows = 0;

	as(db, ANN);
	CHECK_OK(db, crm_query(&cur, db, "deal", "{\"sort\":[\"-amount\"]}"));
	while (crm_cursor_next(cur) == CRM_ROW) {
		CHECK_INT(crm_cursor_int64(cur, 0), ann_deal);
		rows++;
	}
	CHECK_INT(rows, 1);
	crm_cursor_free(cur);
	CHECK_OK(db, crm_count(db, "deal", NULL, &n));
	CHECK_INT(n, 1);
	CHECK_OK(db, crm_count(db, "deal", "{\"filter\":{\"field\":\"amount\",\"op\":\"gt\",\"value\":500}}", &n));
	CHECK_INT(n, 0);
	CHECK_OK(db, crm_report_output(db, "by_stage", NULL, "json", &out));
	CHECK_HAS(out, "\"n\":1,\"amount\":100");
	CHECK(!strstr(out, "900") && !strstr(out, "1000"));
	crm_free(out);
	CHECK_OK(db, crm_report_output(db, "by_industry", NULL, "json", &out));
	CHECK_HAS(out, "\"retail\"");
	CHECK(!strstr(out, "defense"));
	crm_free(out);
	CHECK_OK(db, crm_report_output(db, "stage_funnel", NULL, "json", &out));
	CHECK_HAS(out, "\"reached\":1");
	CHECK(!strstr(out, "\"reached\":2"));
	crm_free(out);
	/* period comparison, running sums and totals: over ann's deal only (bob's
	 * February deal would be February's row and the total's 1000) */
	CHECK_OK(db, crm_report_output(db, "monthly", NULL, "json", &out));
	CHECK_HAS(out, "\"closed_month\":\"2026-01\",\"amount\":100,\"amount_prev\":null");
	CHECK_HAS(out, "\"amount_running\":100");
	CHECK_HAS(out, "{\"stage\":null,\"closed_month\":null,\"amount\":100,");
	CHECK(!strstr(out, "2026-02") && !strstr(out, "900") && !strstr(out, "1000"));
	crm_free(out);
	/* buckets over a readable date: ann's month only */
	CHECK_OK(db, crm_report_output(db, "by_close_month", NULL, "json", &out));
	CHECK_HAS(out, "2026-01");
	CHECK(!strstr(out, "2026-02"));
	crm_free(out);
	/* bob, a rep of the south, sees his deal and the industry of his customer */
	as(db, BOB);
	CHECK_OK(db, crm_report_output(db, "by_industry", NULL, "json", &out));
	CHECK_HAS(out, "secret-defense");
	CHECK(!strstr(out, "retail"));
	crm_free(out);
	crm_close(db);
}

/* A unique clash, a read-only field and a hidden one: the errors name the
 * field, never bob's record, its id or its values. */
TEST(test_access_hostile__errors_name_no_data_of_another_rep)
{
	crm_db *db = setup();
	char id[24];
	const char *msg, *detail;

	snprintf(id, sizeof id, "%lld", (long long)bob_deal);
	as(db, ANN);
	CHECK_RC(db, crm_record_insert(db, "deal", "{\"title\":\"copy\",\"code\":\"B-7\"}", NULL), CRM_ECONSTRAINT);
	msg = crm_errmsg(db), detail = crm_errdetail(db);
	CHECK(!strstr(msg, "bob") && !strstr(detail, "bob") && !strstr(detail, "900"));
	CHECK(!strstr(detail, "\"id\"") && !strstr(detail, "\"record\""));
	CHECK_RC(db, crm_record_update(db, "deal", ann_deal, "{\"amount\":5}", 0), CRM_EPERM);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"amount\"");
	CHECK_HAS(crm_errdetail(db), "\"reason\":\"read_only\"");
	CHECK_RC(db, crm_record_update(db, "deal", ann_deal, "{\"margin\":5}", 0), CRM_EPERM);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"margin\"");
	CHECK_HAS(crm_errdetail(db), "\"reason\":\"hidden\"");
	/* moving a deal out of the manager's team (WITH CHECK) is refused and changes nothing */
	as(db, MEG);
	CHECK_RC(db, crm_record_update(db, "deal", ann_deal, "{\"team\":\"south\"}", 0), CRM_EPERM);
	CHECK_OK(db, crm_actor_set_json(db, NULL));
	{
		char *out = NULL;
		CHECK_OK(db, crm_record_get(db, "deal", ann_deal, &out));
		CHECK_HAS(out, "\"team\":\"north\"");
		CHECK_HAS(out, "\"amount\":100");
		crm_free(out);
	}
	crm_close(db);
}

/* The event outbox carries whatever actions wrote: only the system actor reads it. */
TEST(test_access_hostile__the_event_outbox_is_for_the_system_actor)
{
	crm_db *db = setup();
	char *out = NULL;

	as(db, ANN);
	CHECK_RC(db, crm_event_list(db, 0, 10, &out), CRM_EPERM);
	CHECK(out == NULL);
	CHECK_OK(db, crm_actor_set_json(db, NULL));
	CHECK_OK(db, crm_event_list(db, 0, 10, &out));
	crm_free(out);
	crm_close(db);
}

TEST_LIST(T(test_access_hostile__idor_by_id_answers_like_a_missing_record),
	  T(test_access_hostile__a_filter_on_a_hidden_field_is_refused_wherever_it_sits),
	  T(test_access_hostile__aggregates_respect_field_permissions),
	  T(test_access_hostile__rollups_show_only_what_every_child_row_allows),
	  T(test_access_hostile__no_injection_through_group_names_parameters_or_attributes),
	  T(test_access_hostile__sort_counts_and_totals_are_no_oracle),
	  T(test_access_hostile__errors_name_no_data_of_another_rep),
	  T(test_access_hostile__the_event_outbox_is_for_the_system_actor))
