/* Access control (docs/access.md): actors, permissions in metadata, and
 * their enforcement on every path, table-driven over the rule kinds. The
 * fixture is scenario 15: reps see their own deals, managers their team's,
 * finance every amount but may not retitle; contacts are visible with
 * their customer. Runs on SQLite and, with CRM_TEST_PG, on PostgreSQL. */
#include "helpers.h"
#include "test.h"

static const char defs[] =
	"[{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
	"  {\"name\":\"team\",\"type\":\"text\",\"actor_default\":\"team\"}],"
	" \"permissions\":[{\"roles\":[\"rep\",\"manager\"],\"allow\":[\"read\",\"create\"],"
	"   \"rows\":{\"field\":\"team\",\"op\":\"eq\",\"actor\":\"team\"}},"
	"  {\"roles\":[\"finance\"],\"allow\":[\"read\"]}]},"
	" {\"form\":\"deal\",\"fields\":[{\"name\":\"title\",\"type\":\"text\"},"
	"  {\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"},"
	"  {\"name\":\"team\",\"type\":\"text\",\"actor_default\":\"team\"},"
	"  {\"name\":\"region\",\"type\":\"text\"},"
	"  {\"name\":\"amount\",\"type\":\"decimal\"},{\"name\":\"margin\",\"type\":\"decimal\"}],"
	" \"permissions\":["
	"  {\"roles\":[\"rep\"],\"allow\":[\"read\",\"create\",\"update\"],"
	"   \"rows\":{\"field\":\"owner\",\"op\":\"eq\",\"actor\":\"user\"},"
	"   \"fields\":{\"amount\":\"read_only\",\"margin\":\"hidden\"},\"events\":[\"advance\",\"win\"]},"
	"  {\"roles\":[\"manager\"],\"allow\":[\"read\",\"update\",\"delete\"],"
	"   \"rows\":{\"field\":\"team\",\"op\":\"eq\",\"actor\":\"team\"},\"events\":[\"*\"]},"
	"  {\"roles\":[\"finance\"],\"allow\":[\"read\",\"update\"],\"fields\":{\"title\":\"read_only\"}},"
	"  {\"roles\":[\"regional\"],\"allow\":[\"read\"],\"rows\":{\"field\":\"region\",\"op\":\"in\",\"actor\":\"regions\"},"
	"   \"fields\":{\"margin\":\"hidden\",\"owner\":\"hidden\"}}]},"
	" {\"form\":\"contact\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
	"  {\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\",\"on_delete\":\"cascade\"}],"
	" \"permissions\":[{\"roles\":\"*\",\"allow\":[\"read\",\"create\",\"update\",\"delete\"],"
	"   \"rows\":{\"field\":\"customer\",\"op\":\"visible\"}}]},"
	" {\"form\":\"note\",\"fields\":[{\"name\":\"text\",\"type\":\"text\"}]}]";

#define ANN "{\"user\":\"ann\",\"roles\":[\"rep\"],\"attrs\":{\"team\":\"north\"}}"
#define BOB "{\"user\":\"bob\",\"roles\":[\"rep\"],\"attrs\":{\"team\":\"north\"}}"
#define CAT "{\"user\":\"cat\",\"roles\":[\"rep\"],\"attrs\":{\"team\":\"south\"}}"
#define MAX "{\"user\":\"max\",\"roles\":[\"manager\"],\"attrs\":{\"team\":\"north\"}}"
#define FIN "{\"user\":\"fay\",\"roles\":[\"finance\"]}"
#define REG "{\"user\":\"reg\",\"roles\":[\"regional\"],\"attrs\":{\"regions\":[\"east\",\"west\"]}}"

/* Record ids of the fixture: customers 1 north, 2 south; deals 1..4 */
static int64_t c_north, c_south, d_ann, d_ann2, d_bob, d_cat;

static crm_db *fixture(void)
{
	crm_db *db = test_db();

	test_apply(db, defs);
	/* as the system: records of several owners */
	crm_record_insert(db, "customer", "{\"name\":\"Acme\",\"team\":\"north\"}", &c_north);
	crm_record_insert(db, "customer", "{\"name\":\"Zeta\",\"team\":\"south\"}", &c_south);
	crm_record_insert(db, "deal",
			  "{\"title\":\"a1\",\"owner\":\"ann\",\"team\":\"north\",\"region\":\"east\",\"amount\":100,"
			  "\"margin\":10,\"customer\":1}",
			  &d_ann);
	crm_record_insert(db, "deal",
			  "{\"title\":\"a2\",\"owner\":\"ann\",\"team\":\"north\",\"region\":\"north\",\"amount\":200,"
			  "\"margin\":20,\"customer\":1}",
			  &d_ann2);
	crm_record_insert(db, "deal",
			  "{\"title\":\"b1\",\"owner\":\"bob\",\"team\":\"north\",\"region\":\"west\",\"amount\":300,"
			  "\"margin\":30,\"customer\":1}",
			  &d_bob);
	crm_record_insert(db, "deal",
			  "{\"title\":\"c1\",\"owner\":\"cat\",\"team\":\"south\",\"region\":\"south\",\"amount\":400,"
			  "\"margin\":40,\"customer\":2}",
			  &d_cat);
	crm_record_insert(db, "contact", "{\"name\":\"Ada\",\"customer\":1}", NULL);
	crm_record_insert(db, "contact", "{\"name\":\"Zed\",\"customer\":2}", NULL);
	return db;
}

static void as(crm_db *db, const char *actor)
{
	int rc = crm_actor_set_json(db, actor);
	if (rc != CRM_OK)
		fprintf(stderr, "actor %s: %s\n", actor ? actor : "NULL", crm_errmsg(db));
	CHECK_INT(rc, CRM_OK);
}

/* ---- actors ---- */

TEST(test_access__actor_json_round_trips_and_starts_as_system)
{
	crm_db *db = test_db();
	char *out = NULL;

	CHECK_OK(db, crm_actor_json(db, &out));
	CHECK_STR(out, "{\"user\":null,\"roles\":[],\"attrs\":{},\"system\":true}");
	crm_free(out);
	as(db, "{\"user\":\"ann\",\"roles\":[\"rep\",\"east-1\"],\"attrs\":{\"team\":\"north\",\"n\":3,\"ok\":true,"
	       "\"regions\":[\"north\",\"east\"]}}");
	CHECK_OK(db, crm_actor_json(db, &out));
	CHECK_STR(out, "{\"user\":\"ann\",\"roles\":[\"rep\",\"east-1\"],\"attrs\":{\"team\":\"north\",\"n\":3,"
		       "\"ok\":true,\"regions\":[\"north\",\"east\"]},\"system\":false}");
	crm_free(out);
	CHECK_STR(crm_actor_get(db), "ann");
	as(db, "{\"system\":true,\"user\":\"sync\"}");
	CHECK_OK(db, crm_actor_json(db, &out));
	CHECK_STR(out, "{\"user\":\"sync\",\"roles\":[],\"attrs\":{},\"system\":true}");
	crm_free(out);
	CHECK_OK(db, crm_actor_set(db, "bob", "rep,manager"));
	CHECK_OK(db, crm_actor_json(db, &out));
	CHECK_STR(out, "{\"user\":\"bob\",\"roles\":[\"rep\",\"manager\"],\"attrs\":{},\"system\":false}");
	crm_free(out);
	CHECK_OK(db, crm_actor_set(db, NULL, NULL));
	CHECK_OK(db, crm_actor_json(db, &out));
	CHECK_HAS(out, "\"system\":true");
	crm_free(out);
	crm_close(db);
}

TEST(test_access__bad_actor_is_refused_and_the_previous_one_stays)
{
	static const char *const bad[] = {
		"{\"system\":\"yes\"}",
		"{\"user\":\"ann\",\"role\":[\"rep\"]}",
		"{\"user\":5}",
		"{\"roles\":\"rep\"}",
		"{\"roles\":[\"re p\"]}",
		"{\"roles\":[\"*\"]}",
		"{\"attrs\":{\"team\":{\"a\":1}}}",
		"{\"attrs\":{\"team\":[[1]]}}",
		"{\"attrs\":{\"team\":1.5}}",
		"{\"attrs\":{\"user\":\"x\"}}",
		"{\"attrs\":{\"bad-name\":\"x\"}}",
		"{\"system\":true,\"roles\":[\"rep\"]}",
		"[\"ann\"]",
		"{\"user\":\"ann\"",
		"{\"user\":\"x' OR 1=1 --\",\"roles\":[\"rep\"],\"attrs\":{\"team\":\"a\\\"; DROP TABLE deal; --\"},"
		"\"extra\":1}",
	};
	crm_db *db = test_db();
	char *out = NULL;

	as(db, ANN);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = crm_actor_set_json(db, bad[i]);
		if (rc != CRM_EINVAL)
			fprintf(stderr, "actor %s was not refused\n", bad[i]);
		CHECK_INT(rc, CRM_EINVAL);
	}
	CHECK_OK(db, crm_actor_json(db, &out));
	CHECK_STR(out, "{\"user\":\"ann\",\"roles\":[\"rep\"],\"attrs\":{\"team\":\"north\"},\"system\":false}");
	crm_free(out);
	crm_close(db);
}

TEST(test_access__actor_limits_refuse_ten_megabytes_of_roles)
{
	crm_db *db = test_db();
	size_t n = 10u << 20;
	char *big = malloc(n + 64), *p;

	p = big + sprintf(big, "{\"user\":\"ann\",\"roles\":[");
	while ((size_t)(p - big) < n)
		p += sprintf(p, "\"r\",");
	strcpy(p, "\"r\"]}");
	CHECK_RC(db, crm_actor_set_json(db, big), CRM_EINVAL);
	/* 257 roles in little text: over the count */
	p = big + sprintf(big, "{\"roles\":[");
	for (int i = 0; i < 257; i++)
		p += sprintf(p, "%s\"r%d\"", i ? "," : "", i);
	strcpy(p, "]}");
	CHECK_RC(db, crm_actor_set_json(db, big), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "256");
	free(big);
	crm_close(db);
}

/* ---- metadata ---- */

TEST(test_access__bad_permissions_are_refused_with_their_path)
{
	static const struct {
		const char *perms, *path;
	} cases[] = {
		{ "{}", "permissions" },
		{ "[{\"allow\":[\"read\"]}]", "permissions[0].roles" },
		{ "[{\"roles\":[],\"allow\":[\"read\"]}]", "permissions[0].roles" },
		{ "[{\"roles\":[\"rep\"]}]", "permissions[0].allow" },
		{ "[{\"roles\":[\"rep\"],\"allow\":[\"write\"]}]", "permissions[0].allow" },
		{ "[{\"roles\":[\"rep\"],\"allow\":[\"read\"],\"who\":1}]", "permissions[0].who" },
		{ "[{\"roles\":[\"rep\"],\"allow\":[\"read\"],\"rows\":{\"field\":\"nope\",\"op\":\"eq\",\"actor\":\"user\"}}]",
		  "permissions[0].rows.field" },
		{ "[{\"roles\":[\"rep\"],\"allow\":[\"read\"],\"rows\":{\"field\":\"a\",\"op\":\"near\",\"value\":1}}]",
		  "permissions[0].rows.op" },
		{ "[{\"roles\":[\"rep\"],\"allow\":[\"read\"],\"rows\":{\"field\":\"a\",\"op\":\"eq\",\"actor\":\"x y\"}}]",
		  "permissions[0].rows.actor" },
		{ "[{\"roles\":[\"rep\"],\"allow\":[\"read\"],\"rows\":{\"field\":\"a\",\"op\":\"eq\",\"actor\":\"u\","
		  "\"value\":\"x\"}}]",
		  "permissions[0].rows.actor" },
		{ "[{\"roles\":[\"rep\"],\"allow\":[\"read\"],\"rows\":{\"field\":\"a\",\"op\":\"visible\"}}]",
		  "permissions[0].rows.op" },
		{ "[{\"roles\":[\"rep\"],\"allow\":[\"read\"],\"check\":{\"field\":\"n\",\"op\":\"eq\",\"value\":\"x\"}}]",
		  "permissions[0].check.value" },
		{ "[{\"roles\":[\"rep\"],\"allow\":[\"read\"],\"fields\":{\"nope\":\"hidden\"}}]",
		  "permissions[0].fields.nope" },
		{ "[{\"roles\":[\"rep\"],\"allow\":[\"read\"],\"fields\":{\"a\":\"secret\"}}]", "permissions[0].fields.a" },
		{ "[{\"roles\":[\"rep\"],\"allow\":[\"read\"]},{\"roles\":[\"rep\"],\"allow\":[\"read\"],\"events\":\"x\"}]",
		  "permissions[1].events" },
	};
	crm_db *db = test_db();

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char def[1024];
		snprintf(def, sizeof def,
			 "{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"n\",\"type\":\"integer\"}],"
			 "\"permissions\":%s}",
			 cases[i].perms);
		CHECK_RC(db, crm_apply(db, def), CRM_EINVAL);
		CHECK_HAS(crm_errdetail(db), cases[i].path);
	}
	CHECK_INT(test_relation_exists(db, "f"), 0);
	crm_close(db);
}

TEST(test_access__visible_chains_past_four_or_in_a_cycle_are_refused)
{
	crm_db *db = test_db();

	CHECK_RC(db,
		 crm_apply(db, "{\"form\":\"emp\",\"fields\":[{\"name\":\"boss\",\"type\":\"ref\",\"form\":\"emp\"}],"
			       "\"permissions\":[{\"roles\":\"*\",\"allow\":[\"read\"],"
			       "\"rows\":{\"field\":\"boss\",\"op\":\"visible\"}}]}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "cycle");
	/* f1 -> f2 -> ... -> f6: five steps */
	CHECK_RC(db,
		 crm_apply(db, "[{\"form\":\"f6\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],"
			       "\"permissions\":[{\"roles\":\"*\",\"allow\":[\"read\"]}]},"
			       "{\"form\":\"f5\",\"fields\":[{\"name\":\"r\",\"type\":\"ref\",\"form\":\"f6\"}],"
			       "\"permissions\":[{\"roles\":\"*\",\"allow\":[\"read\"],\"rows\":{\"field\":\"r\",\"op\":\"visible\"}}]},"
			       "{\"form\":\"f4\",\"fields\":[{\"name\":\"r\",\"type\":\"ref\",\"form\":\"f5\"}],"
			       "\"permissions\":[{\"roles\":\"*\",\"allow\":[\"read\"],\"rows\":{\"field\":\"r\",\"op\":\"visible\"}}]},"
			       "{\"form\":\"f3\",\"fields\":[{\"name\":\"r\",\"type\":\"ref\",\"form\":\"f4\"}],"
			       "\"permissions\":[{\"roles\":\"*\",\"allow\":[\"read\"],\"rows\":{\"field\":\"r\",\"op\":\"visible\"}}]},"
			       "{\"form\":\"f2\",\"fields\":[{\"name\":\"r\",\"type\":\"ref\",\"form\":\"f3\"}],"
			       "\"permissions\":[{\"roles\":\"*\",\"allow\":[\"read\"],\"rows\":{\"field\":\"r\",\"op\":\"visible\"}}]},"
			       "{\"form\":\"f1\",\"fields\":[{\"name\":\"r\",\"type\":\"ref\",\"form\":\"f2\"}],"
			       "\"permissions\":[{\"roles\":\"*\",\"allow\":[\"read\"],\"rows\":{\"field\":\"r\",\"op\":\"visible\"}}]}]"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "more than 4");
	crm_close(db);
}

TEST(test_access__the_fixture_applies)
{
	crm_db *db = fixture();

	CHECK(d_cat > 0);
	crm_close(db);
}

/* ---- reads ---- */

/* The ids a query returns, comma-separated (static buffer), or the error code as "!N". */
static const char *ids(crm_db *db, const char *form, const char *query)
{
	static char out[512];
	crm_cursor *cur = NULL;
	int rc = crm_query(&cur, db, form, query);
	size_t n = 0;

	out[0] = 0;
	if (rc != CRM_OK) {
		snprintf(out, sizeof out, "!%d", rc);
		return out;
	}
	while ((rc = crm_cursor_next(cur)) == CRM_ROW)
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%lld", n ? "," : "", (long long)crm_cursor_int64(cur, 0));
	if (rc != CRM_DONE)
		snprintf(out, sizeof out, "!%d", rc);
	crm_cursor_free(cur);
	return out;
}

static int64_t count(crm_db *db, const char *form, const char *query)
{
	int64_t n = -1;
	int rc = crm_count(db, form, query, &n);

	return rc == CRM_OK ? n : -100 - rc;
}

/* Record `id` is answered exactly as a record that does not exist. */
static void check_missing(crm_db *db, const char *form, int64_t id)
{
	char *out = NULL, msg[128], detail[256];

	CHECK_RC(db, crm_record_get(db, form, id, &out), CRM_ENOTFOUND);
	CHECK(out == NULL);
	snprintf(msg, sizeof msg, "no %s record with id %lld", form, (long long)id);
	snprintf(detail, sizeof detail, "{\"code\":\"CRM_ENOTFOUND\",\"message\":\"%s\"}", msg);
	CHECK_STR(crm_errmsg(db), msg);
	CHECK_STR(crm_errdetail(db), detail);
}

static const struct read_case {
	const char *actor, *deals, *contacts;
	int margin, owner; /* readable? */
	int reads;         /* some rule granting read applies (amount readable) */
} read_cases[] = {
	{ ANN, "1,2", "1", 0, 1, 1 },
	{ BOB, "3", "1", 0, 1, 1 },
	{ CAT, "4", "2", 0, 1, 1 },
	{ MAX, "1,2,3", "1", 1, 1, 1 },
	{ FIN, "1,2,3,4", "1,2", 1, 1, 1 },
	{ REG, "1,3", "", 0, 0, 1 },
	/* several roles add up; a field stays hidden when every rule hides it */
	{ "{\"user\":\"ann\",\"roles\":[\"rep\",\"regional\"],\"attrs\":{\"team\":\"north\",\"regions\":[\"south\"]}}",
	  "1,2,4", "1", 0, 1, 1 },
	{ "{\"user\":\"ann\",\"roles\":[\"rep\",\"manager\"],\"attrs\":{\"team\":\"south\"}}", "1,2,4", "2", 1, 1, 1 },
	/* a rule naming an attribute the actor lacks grants nothing */
	{ "{\"user\":\"max\",\"roles\":[\"manager\"]}", "", "", 0, 0, 0 },
	{ "{\"roles\":[\"rep\"],\"attrs\":{\"team\":\"north\"}}", "", "1", 0, 0, 0 },
	/* an empty array attribute: in nothing */
	{ "{\"user\":\"reg\",\"roles\":[\"regional\"],\"attrs\":{\"regions\":[]}}", "", "", 0, 0, 1 },
	/* a scalar for in; a number where the field is text: nothing */
	{ "{\"user\":\"reg\",\"roles\":[\"regional\"],\"attrs\":{\"regions\":\"west\"}}", "3", "", 0, 0, 1 },
	{ "{\"user\":\"max\",\"roles\":[\"manager\"],\"attrs\":{\"team\":7}}", "", "", 0, 0, 0 },
	/* SQL in attribute values is a value like any other */
	{ "{\"user\":\"x' OR '1'='1\",\"roles\":[\"rep\",\"manager\"],\"attrs\":{\"team\":\"north' OR '1'='1\"}}", "", "",
	  0, 0, 1 },
	{ "{\"user\":\"guest\",\"roles\":[\"guest\"]}", "", "", 0, 0, 0 },
	{ NULL, "1,2,3,4", "1,2", 1, 1, 1 },
};

TEST(test_access__reads_answer_per_rule_kind_on_get_query_and_count)
{
	crm_db *db = fixture();
	char *out = NULL;

	for (size_t i = 0; i < sizeof read_cases / sizeof *read_cases; i++) {
		const struct read_case *c = &read_cases[i];
		int64_t n = 0;

		as(db, c->actor);
		if (strcmp(ids(db, "deal", NULL), c->deals) != 0)
			fprintf(stderr, "case %zu (%s)\n", i, c->actor ? c->actor : "system");
		CHECK_STR(ids(db, "deal", NULL), c->deals);
		CHECK_STR(ids(db, "contact", "{\"sort\":\"name\"}"), c->contacts);
		for (const char *p = c->deals; *p; p++)
			n += *p == ',' || p == c->deals;
		CHECK_INT(count(db, "deal", NULL), n);
		/* no rule granting read: no field is readable either */
		CHECK_INT(count(db, "deal", "{\"filter\":{\"field\":\"amount\",\"op\":\">\",\"value\":0}}"),
			  c->reads ? n : -100 - CRM_EPERM);
		/* every deal: readable ones found, the rest missing */
		for (int64_t id = 1; id <= 4; id++) {
			char want[4];
			snprintf(want, sizeof want, "%lld", (long long)id);
			if (strstr(c->deals, want)) {
				CHECK_OK(db, crm_record_get(db, "deal", id, &out));
				CHECK(out && (strstr(out, "\"margin\":") != NULL) == c->margin);
				CHECK(out && (strstr(out, "\"owner\":") != NULL) == c->owner);
				crm_free(out);
				out = NULL;
			} else
				check_missing(db, "deal", id);
		}
		check_missing(db, "deal", 99);
		/* the notes form has no permissions: open to everyone */
		CHECK_OK(db, crm_record_insert(db, "note", "{\"text\":\"hi\"}", NULL));
		CHECK_INT(count(db, "note", NULL), (int64_t)i + 1);
	}
	crm_close(db);
}

TEST(test_access__hidden_fields_are_left_out_and_refused_wherever_used)
{
	static const char *const refused[] = {
		"{\"filter\":{\"field\":\"margin\",\"op\":\">\",\"value\":15}}",
		"{\"filter\":{\"not\":{\"field\":\"margin\",\"op\":\"is_null\"}}}",
		"{\"filter\":{\"or\":[{\"field\":\"title\",\"op\":\"eq\",\"value\":\"x\"},"
		"{\"and\":[{\"not\":{\"field\":\"margin\",\"op\":\"<\",\"value\":5}}]}]}}",
		"{\"sort\":\"-margin\"}",
		"{\"sort\":[\"title\",\"margin\"]}",
		"{\"fields\":[\"title\",\"margin\"]}",
		"{\"fields\":\"margin\"}",
	};
	crm_db *db = fixture();
	crm_cursor *cur = NULL;
	int64_t n;

	as(db, ANN);
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		CHECK_RC(db, crm_query(&cur, db, "deal", refused[i]), CRM_EPERM);
		CHECK(cur == NULL);
		CHECK_STR(crm_errmsg(db), "field 'margin' is hidden");
		CHECK_HAS(crm_errdetail(db), "\"field\":\"margin\",\"reason\":\"hidden\"");
		CHECK_RC(db, crm_count(db, "deal", refused[i], &n), CRM_EPERM);
	}
	CHECK_OK(db, crm_query(&cur, db, "deal", "{\"sort\":\"-amount\"}"));
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	CHECK_STR(crm_cursor_json(cur), "{\"id\":2,\"title\":\"a2\",\"customer\":1,\"team\":\"north\",\"region\":\"north\","
					"\"amount\":200.00,\"created_at\":\"2026-01-02T03:04:05.000Z\","
					"\"updated_at\":\"2026-01-02T03:04:05.000Z\",\"owner\":\"ann\",\"version\":1}");
	CHECK_INT(crm_cursor_column_count(cur), 10);
	crm_cursor_free(cur);
	/* the owner column hidden from the regional role */
	as(db, REG);
	CHECK_RC(db, crm_query(&cur, db, "deal", "{\"filter\":{\"field\":\"owner\",\"op\":\"eq\",\"value\":\"ann\"}}"),
		 CRM_EPERM);
	CHECK_STR(crm_errmsg(db), "field 'owner' is hidden");
	CHECK_OK(db, crm_query(&cur, db, "deal", "{\"fields\":[\"title\"]}"));
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	CHECK_STR(crm_cursor_json(cur), "{\"id\":1,\"title\":\"a1\",\"created_at\":\"2026-01-02T03:04:05.000Z\","
					"\"updated_at\":\"2026-01-02T03:04:05.000Z\",\"version\":1}");
	crm_cursor_free(cur);
	crm_close(db);
}

/* Tokens only say where to go on: whoever made them, the rows after them
 * are the reader's own. */
TEST(test_access__paging_tokens_from_other_actors_reach_only_own_rows)
{
	crm_db *db = fixture();
	crm_cursor *cur = NULL;
	char token[256], q[400];

	as(db, FIN);
	CHECK_OK(db, crm_query(&cur, db, "deal", "{\"sort\":\"title\",\"limit\":1}"));
	CHECK_INT(crm_cursor_next(cur), CRM_ROW); /* a1 */
	snprintf(token, sizeof token, "%s", crm_cursor_token(cur));
	crm_cursor_free(cur);
	snprintf(q, sizeof q, "{\"sort\":\"title\",\"after\":\"%s\"}", token);
	as(db, ANN);
	CHECK_STR(ids(db, "deal", q), "2");
	as(db, BOB);
	CHECK_STR(ids(db, "deal", q), "3");
	as(db, CAT);
	CHECK_STR(ids(db, "deal", q), "4");
	/* a rep's own paging, page by page */
	as(db, ANN);
	CHECK_OK(db, crm_query(&cur, db, "deal", "{\"sort\":\"-amount\",\"limit\":1}"));
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	snprintf(token, sizeof token, "%s", crm_cursor_token(cur));
	crm_cursor_free(cur);
	snprintf(q, sizeof q, "{\"sort\":\"-amount\",\"after\":\"%s\"}", token);
	CHECK_STR(ids(db, "deal", q), "1");
	/* offsets count the reader's rows only */
	CHECK_STR(ids(db, "deal", "{\"offset\":1}"), "2");
	crm_close(db);
}

TEST_LIST(T(test_access__actor_json_round_trips_and_starts_as_system),
	  T(test_access__bad_actor_is_refused_and_the_previous_one_stays),
	  T(test_access__actor_limits_refuse_ten_megabytes_of_roles),
	  T(test_access__bad_permissions_are_refused_with_their_path),
	  T(test_access__visible_chains_past_four_or_in_a_cycle_are_refused), T(test_access__the_fixture_applies),
	  T(test_access__reads_answer_per_rule_kind_on_get_query_and_count),
	  T(test_access__hidden_fields_are_left_out_and_refused_wherever_used),
	  T(test_access__paging_tokens_from_other_actors_reach_only_own_rows))
