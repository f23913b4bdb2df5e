/* Access control (docs/access.md): actors, permissions in metadata, and
 * their enforcement on every path, table-driven over the rule kinds. The
 * fixture is scenario 15: reps see their own deals, managers their team's,
 * finance every amount but may not retitle; contacts are visible with
 * their customer. Runs on SQLite and, with CRM_TEST_PG, on PostgreSQL. */
#include "helpers.h"
#include "test.h"

static const char defs[] =
	"[{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"unique\":true},"
	"  {\"name\":\"team\",\"type\":\"text\",\"actor_default\":\"team\"}],"
	" \"permissions\":[{\"roles\":[\"rep\",\"manager\"],\"allow\":[\"read\",\"create\"],"
	"   \"rows\":{\"field\":\"team\",\"op\":\"eq\",\"actor\":\"team\"}},"
	"  {\"roles\":[\"manager\"],\"allow\":[\"delete\"],\"rows\":{\"field\":\"team\",\"op\":\"eq\",\"actor\":\"team\"}},"
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
		("{\"user\":\"x' OR 1=1 --\",\"roles\":[\"rep\"],\"attrs\":{\"team\":\"a\\\"; DROP TABLE deal; --\"},"
		 "\"extra\":1}"),
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
		/* a rule that did not fit the actor leaves no error behind */
		CHECK_INT(crm_errcode(db), CRM_OK);
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
		("{\"filter\":{\"or\":[{\"field\":\"title\",\"op\":\"eq\",\"value\":\"x\"},"
		 "{\"and\":[{\"not\":{\"field\":\"margin\",\"op\":\"<\",\"value\":5}}]}]}}"),
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

/* ---- writes ---- */

#define DEALS "SELECT id, title, owner, team, amount, margin, version FROM deal ORDER BY id"

static const struct write_case {
	const char *actor;
	char op; /* i insert, u update, d delete */
	int64_t id, version;
	const char *json;
	int rc;
	const char *msg; /* the error message, or a part of the detail (starting with "{") */
} write_cases[] = {
	/* op grants, rows (user), read-only and hidden fields */
	{ ANN, 'u', 1, 0, "{\"title\":\"a1!\"}", CRM_OK, NULL },
	{ ANN, 'u', 3, 0, "{\"title\":\"b1!\"}", CRM_ENOTFOUND, "no deal record with id 3" },
	{ ANN, 'u', 3, 99, "{\"title\":\"b1!\"}", CRM_ENOTFOUND, "no deal record with id 3" },
	{ ANN, 'u', 99, 0, "{\"title\":\"x\"}", CRM_ENOTFOUND, "no deal record with id 99" },
	{ ANN, 'u', 1, 0, "{\"amount\":5}", CRM_EPERM, "field 'amount' is read-only" },
	{ ANN, 'u', 1, 0, "{\"amount\":5}", CRM_EPERM, "{\"code\":\"CRM_EPERM\",\"message\":\"field 'amount' is read-only\","
						      "\"field\":\"amount\",\"reason\":\"read_only\"}" },
	{ ANN, 'u', 1, 0, "{\"amount\":100,\"title\":\"same amount\"}", CRM_OK, NULL },
	{ ANN, 'u', 1, 0, "{\"margin\":10}", CRM_EPERM, "field 'margin' is hidden" },
	{ ANN, 'u', 1, 0, "{\"margin\":11}", CRM_EPERM, "field 'margin' is hidden" },
	{ ANN, 'u', 1, 0, "{\"owner\":\"bob\"}", CRM_EPERM,
	  "denied: the deal record would be outside the check of every rule that allows it" },
	{ ANN, 'd', 1, 0, NULL, CRM_EPERM, "denied: no rule of the actor's roles grants delete on deal" },
	{ ANN, 'd', 3, 0, NULL, CRM_ENOTFOUND, "no deal record with id 3" },
	{ ANN, 'i', 0, 0, "{\"title\":\"new\",\"amount\":5}", CRM_EPERM, "field 'amount' is read-only" },
	{ ANN, 'i', 0, 0, "{\"title\":\"new\",\"owner\":\"bob\"}", CRM_EPERM,
	  "denied: the deal record would be outside the check of every rule that allows it" },
	{ ANN, 'i', 0, 0, "{\"title\":\"new\",\"customer\":2}", CRM_ECONSTRAINT, "customer: no customer record with id 2" },
	{ ANN, 'i', 0, 0, "{\"title\":\"new\",\"customer\":1}", CRM_OK, NULL },
	/* team rows: an update that moves the row out of the rule's rows */
	{ MAX, 'u', 3, 0, "{\"team\":\"south\"}", CRM_EPERM,
	  "denied: the deal record would be outside the check of every rule that allows it" },
	{ MAX, 'u', 3, 0, "{\"title\":\"b1 by max\",\"margin\":31}", CRM_OK, NULL },
	{ MAX, 'd', 4, 0, NULL, CRM_ENOTFOUND, "no deal record with id 4" },
	{ MAX, 'i', 0, 0, "{\"title\":\"m\"}", CRM_EPERM, "denied: no rule of the actor's roles grants create on deal" },
	/* every row, but one read-only field */
	{ FIN, 'u', 4, 0, "{\"title\":\"c1!\"}", CRM_EPERM, "field 'title' is read-only" },
	{ FIN, 'u', 4, 0, "{\"amount\":401}", CRM_OK, NULL },
	/* read only: readable, not writable */
	{ REG, 'u', 1, 0, "{\"title\":\"r\"}", CRM_EPERM, "denied: no rule of the actor's roles grants update on deal" },
	{ REG, 'u', 2, 0, "{\"title\":\"r\"}", CRM_ENOTFOUND, "no deal record with id 2" },
	/* the version of a record the actor may read is no secret */
	{ MAX, 'u', 2, 99, "{\"title\":\"v\"}", CRM_ECONFLICT, "deal record 2 is at version 1, not 99" },
	{ MAX, 'd', 3, 0, NULL, CRM_OK, NULL },
	/* a rule whose attribute the actor lacks grants nothing */
	{ "{\"user\":\"max\",\"roles\":[\"manager\"]}", 'u', 1, 0, "{\"title\":\"x\"}", CRM_ENOTFOUND,
	  "no deal record with id 1" },
	/* roles "*" on contacts, through the visible customer */
	{ CAT, 'i', 0, 0, "{\"name\":\"c\",\"customer\":1}", CRM_ECONSTRAINT, "no customer record with id 1" },
	{ NULL, 'u', 4, 0, "{\"margin\":1}", CRM_OK, NULL },
};

TEST(test_access__writes_answer_per_rule_kind_and_denials_change_nothing)
{
	crm_db *db = fixture();

	for (size_t i = 0; i < sizeof write_cases / sizeof *write_cases; i++) {
		const struct write_case *c = &write_cases[i];
		const char *form = c->op != 'i' || !strstr(c->json, "\"name\"") ? "deal" : "contact";
		char *before, *after;
		int rc;

		as(db, c->actor);
		before = test_rows(db, DEALS);
		if (c->op == 'i')
			rc = crm_record_insert(db, form, c->json, NULL);
		else if (c->op == 'u')
			rc = crm_record_update(db, form, c->id, c->json, c->version);
		else
			rc = crm_record_delete(db, form, c->id, c->version);
		after = test_rows(db, DEALS);
		if (rc != c->rc)
			fprintf(stderr, "write case %zu: %s\n", i, crm_errmsg(db));
		CHECK_INT(rc, c->rc);
		if (c->msg && c->msg[0] == '{')
			CHECK_STR(crm_errdetail(db), c->msg);
		else if (c->msg)
			CHECK_HAS(crm_errmsg(db), c->msg);
		if (rc != CRM_OK)
			CHECK_STR(after, before);
		free(before);
		free(after);
	}
	/* what the rep inserted: owned by the rep, the team from the actor */
	as(db, NULL);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal WHERE title = 'new' AND owner = 'ann' AND team = 'north'"), 1);
	crm_close(db);
}

TEST(test_access__check_holds_on_create_and_actor_defaults_fill_in)
{
	crm_db *db = fixture();
	int64_t id = 0;

	as(db, ANN);
	CHECK_RC(db, crm_record_insert(db, "customer", "{\"name\":\"Far\",\"team\":\"south\"}", NULL), CRM_EPERM);
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"Near\"}", &id));
	CHECK_HAS(test_get(db, "customer", id), "\"team\":\"north\"");
	/* a value that does not fit the rule: the rule grants nothing */
	as(db, "{\"user\":\"ann\",\"roles\":[\"rep\"],\"attrs\":{\"team\":[\"a\",\"b\"]}}");
	CHECK_RC(db, crm_record_insert(db, "customer", "{\"name\":\"Odd\"}", NULL), CRM_EPERM);
	/* an attribute that does not fit the field is the field's error */
	as(db, NULL);
	test_apply(db, "{\"form\":\"memo\",\"fields\":[{\"name\":\"n\",\"type\":\"integer\",\"actor_default\":\"team\"}]}");
	as(db, ANN);
	CHECK_RC(db, crm_record_insert(db, "memo", "{}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"n\"");
	CHECK_HAS(crm_errdetail(db), "from the actor's team");
	/* the system actor named "sync": actor_default "user" works, attributes are absent */
	as(db, "{\"system\":true,\"user\":\"sync\"}");
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"Sys\"}", &id));
	CHECK_HAS(test_get(db, "customer", id), "\"team\":null");
	CHECK_HAS(test_get(db, "customer", id), "\"owner\":\"sync\"");
	crm_close(db);
}

TEST(test_access__upsert_and_unique_keys_do_not_name_records_the_actor_cannot_read)
{
	crm_db *db = fixture();
	int64_t id = 0;
	int inserted = -1;

	as(db, CAT);
	/* Acme (north) exists but is not CAT's: the upsert inserts and meets the key */
	CHECK_RC(db, crm_record_upsert(db, "customer", "name", "{\"name\":\"Acme\",\"team\":\"south\"}", &id, &inserted),
		 CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "name must be unique: another record has the same value");
	CHECK(strstr(crm_errdetail(db), "record 1") == NULL);
	/* Zeta is CAT's to read, not to update */
	CHECK_RC(db, crm_record_upsert(db, "customer", "name", "{\"name\":\"Zeta\",\"team\":\"south\"}", &id, &inserted),
		 CRM_EPERM);
	CHECK_STR(crm_errmsg(db), "denied: no rule of the actor's roles grants update on customer");
	as(db, FIN);
	CHECK_RC(db, crm_record_upsert(db, "customer", "name", "{\"name\":\"Acme\"}", &id, &inserted), CRM_EPERM);
	crm_close(db);
}

TEST(test_access__batches_stop_at_a_denial_and_insert_nothing)
{
	crm_db *db = fixture();
	int64_t before = test_sql_int(db, "SELECT count(*) FROM deal");

	as(db, ANN);
	CHECK_RC(db, crm_record_insert_many(db, "deal", "[{\"title\":\"ok\"},{\"title\":\"no\",\"owner\":\"bob\"}]", NULL, NULL),
		 CRM_EPERM);
	CHECK_RC(db, crm_record_insert_many(db, "deal", "[{\"title\":\"ok\"},{\"title\":\"no\",\"margin\":1}]", NULL, NULL),
		 CRM_EPERM);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal"), before);
	CHECK_OK(db, crm_record_insert_many(db, "deal", "[{\"title\":\"ok\"},{\"title\":\"ok2\"}]", NULL, NULL));
	/* each row of a batch takes the team from the actor */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal WHERE owner = 'ann' AND team = 'north'"), 4);
	crm_close(db);
}

/* Decision: cascades and set_null keep the data whole whoever deletes (as
 * foreign keys bypass row security in PostgreSQL); a restrict refuses
 * without naming a referrer the actor cannot read. */
TEST(test_access__deletes_cascade_as_defined_and_restricts_do_not_name_hidden_referrers)
{
	crm_db *db = fixture();
	int64_t c3 = 0, c4 = 0;

	crm_record_insert(db, "customer", "{\"name\":\"Three\",\"team\":\"north\"}", &c3);
	crm_record_insert(db, "customer", "{\"name\":\"Four\",\"team\":\"north\"}", &c4);
	crm_record_insert(db, "deal", "{\"title\":\"s\",\"team\":\"south\",\"customer\":3}", NULL);
	crm_record_insert(db, "contact", "{\"name\":\"c4\",\"customer\":4}", NULL);
	as(db, MAX);
	CHECK_RC(db, crm_record_delete(db, "customer", c3, 0), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "customer record 3 is referenced by a deal record");
	CHECK(strstr(crm_errdetail(db), "deal record 5") == NULL);
	CHECK_OK(db, crm_record_delete(db, "customer", c4, 0));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM contact WHERE customer = 4"), 0);
	/* the rep may not delete customers at all */
	as(db, ANN);
	CHECK_RC(db, crm_record_delete(db, "customer", c3, 0), CRM_EPERM);
	crm_close(db);
}

/* ---- explain ---- */

static const struct explain_case {
	const char *actor, *verb;
	int64_t id;
	const char *want;
} explain_cases[] = {
	{ ANN, "read", 0, "{\"allowed\":true,\"reason\":\"allowed by rule 1 of role rep\"" },
	{ ANN, "delete", 0, "{\"allowed\":false,\"reason\":\"denied: no rule of roles [rep] grants delete on deal\"" },
	{ ANN, "update", 1, "{\"allowed\":true,\"reason\":\"allowed by rule 1 of role rep\"" },
	{ ANN, "update", 3, "{\"allowed\":false,\"reason\":\"denied: no deal record with id 3\",\"rules\":[]}" },
	{ ANN, "update", 99, "{\"allowed\":false,\"reason\":\"denied: no deal record with id 99\",\"rules\":[]}" },
	{ ANN, "fire:win", 1, "{\"allowed\":true,\"reason\":\"allowed by rule 1 of role rep\"" },
	{ ANN, "fire:lose", 1, "{\"allowed\":false,\"reason\":\"denied: no rule of roles [rep] grants event lose on deal\"" },
	{ "{\"user\":\"ann\",\"roles\":[\"rep\",\"regional\"],\"attrs\":{\"team\":\"north\",\"regions\":[\"west\"]}}",
	  "update", 3, "{\"allowed\":false,\"reason\":\"denied by the rows of rule 1 of role rep\"" },
	{ MAX, "delete", 3, "{\"allowed\":true,\"reason\":\"allowed by rule 2 of role manager\"" },
	{ FIN, "read", 4,
	  "{\"allowed\":true,\"reason\":\"allowed by rule 3 of role finance\",\"rules\":[{\"rule\":3,\"roles\":[\"finance\"],"
	  "\"allow\":[\"read\",\"update\"],\"events\":[]}]}" },
	{ NULL, "delete", 4, "{\"allowed\":true,\"reason\":\"allowed: the system actor\",\"rules\":[]}" },
};

TEST(test_access__explain_names_the_rule_and_never_an_unreadable_record)
{
	crm_db *db = fixture();
	char *out = NULL;

	for (size_t i = 0; i < sizeof explain_cases / sizeof *explain_cases; i++) {
		const struct explain_case *c = &explain_cases[i];
		as(db, c->actor);
		CHECK_OK(db, crm_access_explain(db, c->verb, "deal", c->id, &out));
		if (!out || strncmp(out, c->want, strlen(c->want)) != 0)
			fprintf(stderr, "explain case %zu: %s\n", i, out ? out : "(null)");
		CHECK(out && strncmp(out, c->want, strlen(c->want)) == 0);
		crm_free(out);
		out = NULL;
	}
	as(db, ANN);
	CHECK_OK(db, crm_access_explain(db, "read", "note", 0, &out));
	CHECK_STR(out, "{\"allowed\":true,\"reason\":\"allowed: form note has no permissions\",\"rules\":[]}");
	crm_free(out);
	CHECK_RC(db, crm_access_explain(db, "steal", "deal", 0, &out), CRM_EINVAL);
	CHECK_RC(db, crm_access_explain(db, "read", "nope", 0, &out), CRM_ENOTFOUND);
	crm_close(db);
}

/* ---- workflows ---- */

static const char flows[] =
	"[{\"workflow\":\"flow\",\"form\":\"deal\",\"initial\":\"open\","
	"  \"states\":{\"open\":{},\"won\":{},\"lost\":{}},"
	"  \"transitions\":[{\"from\":\"open\",\"event\":\"win\",\"to\":\"won\"},{\"from\":\"open\",\"event\":\"lose\",\"to\":\"lost\"}]},"
	" {\"workflow\":\"peek\",\"form\":\"deal\",\"initial\":\"a\",%s"
	"  \"states\":{\"a\":{},\"b\":{\"on_enter\":[{\"lua\":\"local d = crm.get('deal', 4)"
	" return {title = d and ('saw ' .. d.title) or 'saw nothing'}\"}]}},"
	"  \"transitions\":[{\"from\":\"a\",\"event\":\"advance\",\"to\":\"b\"}]}]";

static int64_t start(crm_db *db, const char *wf, int64_t record)
{
	int64_t id = 0;

	as(db, NULL);
	CHECK_OK(db, crm_workflow_start(db, wf, record, &id));
	return id;
}

TEST(test_access__firing_needs_read_and_an_event_rule_and_history_hides_unreadable_records)
{
	crm_db *db = fixture();
	char def[2048], *out = NULL;
	int64_t bob_flow;

	snprintf(def, sizeof def, flows, "");
	test_apply(db, def);
	for (int64_t id = 1; id <= 4; id++)
		start(db, "flow", id);
	bob_flow = 3;
	as(db, ANN);
	CHECK_OK(db, crm_workflow_fire(db, "deal", d_ann, "win", NULL));
	CHECK_RC(db, crm_workflow_fire(db, "deal", d_ann2, "lose", NULL), CRM_EPERM);
	CHECK_RC(db, crm_workflow_fire(db, "deal", d_bob, "win", NULL), CRM_ENOTFOUND);
	CHECK_STR(crm_errmsg(db), "no deal record with id 3");
	CHECK_RC(db, crm_workflow_fire(db, "deal", 99, "win", NULL), CRM_ENOTFOUND);
	CHECK_STR(crm_errmsg(db), "no deal record with id 99");
	CHECK_RC(db, crm_workflow_fire_instance(db, bob_flow, "win", NULL), CRM_ENOTFOUND);
	CHECK_STR(crm_errmsg(db), "no workflow instance 3");
	/* fields given with the event are the actor's write */
	CHECK_RC(db, crm_workflow_fire(db, "deal", d_ann2, "win", "{\"margin\":1}"), CRM_EPERM);
	CHECK_STR(crm_errmsg(db), "field 'margin' is hidden");
	/* listings: an unreadable record has none, as a missing one */
	CHECK_OK(db, crm_workflow_history(db, "deal", d_bob, &out));
	CHECK_STR(out, "[]");
	crm_free(out);
	CHECK_OK(db, crm_workflow_instances(db, "deal", d_bob, &out));
	CHECK_STR(out, "[]");
	crm_free(out);
	CHECK_OK(db, crm_workflow_events(db, "deal", d_bob, &out));
	CHECK_STR(out, "[]");
	crm_free(out);
	CHECK_RC(db, crm_workflow_instance_history(db, bob_flow, &out), CRM_ENOTFOUND);
	CHECK_STR(crm_errmsg(db), "no workflow instance 3");
	CHECK_RC(db, crm_workflow_instance_get(db, bob_flow, &out), CRM_ENOTFOUND);
	CHECK_OK(db, crm_workflow_history(db, "deal", d_ann, &out));
	CHECK_HAS(out, "\"event\":\"win\"");
	CHECK_HAS(out, "\"actor\":\"ann\"");
	crm_free(out);
	/* the events a rep may not fire are not enabled for them */
	CHECK_OK(db, crm_workflow_events(db, "deal", d_ann2, &out));
	CHECK_HAS(out, "\"event\":\"lose\",\"to\":\"lost\",\"enabled\":false,\"reason\":\"the actor may not fire it\"");
	CHECK_HAS(out, "\"event\":\"win\",\"to\":\"won\",\"enabled\":true");
	crm_free(out);
	CHECK_RC(db, crm_workflow_start(db, "flow", d_bob, NULL), CRM_ENOTFOUND);
	/* the manager fires any event on the team's deals */
	as(db, MAX);
	CHECK_OK(db, crm_workflow_fire(db, "deal", d_ann2, "lose", NULL));
	as(db, FIN);
	CHECK_RC(db, crm_workflow_fire(db, "deal", d_cat, "win", NULL), CRM_EPERM);
	crm_close(db);
}

/* A hook acts as the actor who fired (crm.get of another rep's deal finds
 * nothing), unless its workflow says "run_as": "system". */
TEST(test_access__hooks_act_as_the_actor_unless_the_workflow_runs_as_system)
{
	static const char *const run_as[] = { "", "\"run_as\":\"system\"," };
	static const char *const want[] = { "saw nothing", "saw c1" };

	for (int k = 0; k < 2; k++) {
		crm_db *db = fixture();
		char def[2048], *out = NULL;

		snprintf(def, sizeof def, flows, run_as[k]);
		test_apply(db, def);
		start(db, "peek", d_ann);
		as(db, ANN);
		CHECK_OK(db, crm_workflow_fire(db, "deal", d_ann, "advance", NULL));
		CHECK_OK(db, crm_record_get(db, "deal", d_ann, &out));
		CHECK_HAS(out, want[k]);
		crm_free(out);
		/* the history still names who fired */
		CHECK_OK(db, crm_workflow_history(db, "deal", d_ann, &out));
		CHECK_HAS(out, "\"event\":\"advance\",\"from\":\"a\",\"to\":\"b\",\"actor\":\"ann\"");
		crm_free(out);
		crm_close(db);
	}
}

TEST(test_access__run_as_takes_system_or_actor_only)
{
	crm_db *db = fixture();

	CHECK_RC(db,
		 crm_apply(db, "{\"workflow\":\"w\",\"form\":\"deal\",\"run_as\":\"root\",\"initial\":\"a\","
			       "\"states\":{\"a\":{}},\"transitions\":[]}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "run_as");
	crm_close(db);
}

/* The check reads the stored owner after computed fields were recomputed
 * (their text grows the record's buffers): run under ASan. */
TEST(test_access__updates_with_computed_fields_check_the_stored_owner)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, "{\"form\":\"task\",\"fields\":[{\"name\":\"title\",\"type\":\"text\"},"
		       "{\"name\":\"long\",\"type\":\"computed\",\"lua\":\"string.rep(record.title or 'x', 3000)\"}],"
		       "\"permissions\":[{\"roles\":[\"rep\"],\"allow\":[\"read\",\"create\",\"update\"],"
		       "\"rows\":{\"field\":\"owner\",\"op\":\"eq\",\"actor\":\"user\"}}]}");
	as(db, ANN);
	CHECK_OK(db, crm_record_insert(db, "task", "{\"title\":\"ab\"}", &id));
	for (int i = 0; i < 5; i++)
		CHECK_OK(db, crm_record_update(db, "task", id, "{\"title\":\"abcdefgh\"}", 0));
	CHECK_RC(db, crm_record_update(db, "task", id, "{\"owner\":\"bob\"}", 0), CRM_EPERM);
	as(db, BOB);
	CHECK_RC(db, crm_record_update(db, "task", id, "{\"title\":\"x\"}", 0), CRM_ENOTFOUND);
	crm_close(db);
}

TEST_LIST(T(test_access__actor_json_round_trips_and_starts_as_system),
	  T(test_access__bad_actor_is_refused_and_the_previous_one_stays),
	  T(test_access__actor_limits_refuse_ten_megabytes_of_roles),
	  T(test_access__bad_permissions_are_refused_with_their_path),
	  T(test_access__visible_chains_past_four_or_in_a_cycle_are_refused), T(test_access__the_fixture_applies),
	  T(test_access__reads_answer_per_rule_kind_on_get_query_and_count),
	  T(test_access__hidden_fields_are_left_out_and_refused_wherever_used),
	  T(test_access__paging_tokens_from_other_actors_reach_only_own_rows),
	  T(test_access__writes_answer_per_rule_kind_and_denials_change_nothing),
	  T(test_access__check_holds_on_create_and_actor_defaults_fill_in),
	  T(test_access__upsert_and_unique_keys_do_not_name_records_the_actor_cannot_read),
	  T(test_access__batches_stop_at_a_denial_and_insert_nothing),
	  T(test_access__deletes_cascade_as_defined_and_restricts_do_not_name_hidden_referrers),
	  T(test_access__explain_names_the_rule_and_never_an_unreadable_record),
	  T(test_access__firing_needs_read_and_an_event_rule_and_history_hides_unreadable_records),
	  T(test_access__hooks_act_as_the_actor_unless_the_workflow_runs_as_system),
	  T(test_access__run_as_takes_system_or_actor_only),
	  T(test_access__updates_with_computed_fields_check_the_stored_owner))
