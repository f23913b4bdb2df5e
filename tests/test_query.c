/* Queries and the filter language: every operator on every field type it
 * applies to (with records that leave fields empty), nesting, sorting,
 * paging by offset and by keyset token, field selection, counting, the
 * in-memory evaluator agreeing with SQL, and hostile or broken input. */
#include "core/db_int.h"
#include "form/form_int.h"
#include "helpers.h"
#include "store/filter.h"
#include "test.h"

static const char lead_form[] =
	"[{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]},"
	"{\"form\":\"lead\",\"fields\":["
	"{\"name\":\"name\",\"type\":\"text\"},"
	"{\"name\":\"note\",\"type\":\"long_text\"},"
	"{\"name\":\"email\",\"type\":\"email\"},"
	"{\"name\":\"phone\",\"type\":\"phone\"},"
	"{\"name\":\"site\",\"type\":\"url\"},"
	"{\"name\":\"region\",\"type\":\"enum\",\"options\":[\"north\",\"south\",\"east\",\"west\"]},"
	"{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"vip\",\"new\",\"cold\",\"a\\\"b\",\"\\u00e9t\\u00e9\"]},"
	"{\"name\":\"score\",\"type\":\"integer\"},"
	"{\"name\":\"budget\",\"type\":\"decimal\",\"scale\":2},"
	"{\"name\":\"ratio\",\"type\":\"number\"},"
	"{\"name\":\"active\",\"type\":\"boolean\"},"
	"{\"name\":\"born\",\"type\":\"date\"},"
	"{\"name\":\"seen\",\"type\":\"datetime\"},"
	"{\"name\":\"data\",\"type\":\"json\"},"
	"{\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"}]}]";

/* Eight leads; ids 1..8 in this order, created one minute apart. */
static const char *const lead_rows[] = {
	"{\"name\":\"Alice\",\"note\":\"likes tea\",\"email\":\"alice@example.com\",\"phone\":\"+86 138 0000\","
	"\"site\":\"https://alice.example\",\"region\":\"north\",\"tags\":[\"new\",\"vip\"],\"score\":10,"
	"\"budget\":100.5,\"ratio\":0.5,\"active\":true,\"born\":\"1990-01-01\",\"seen\":\"2026-01-01T00:00:00Z\","
	"\"data\":{\"k\":1},\"customer\":1,\"owner\":\"ann\"}",
	"{\"name\":\"bob\",\"note\":\"TEA please\",\"email\":\"bob@example.org\",\"region\":\"south\","
	"\"tags\":[\"cold\"],\"score\":20,\"budget\":\"5\",\"ratio\":1.5,\"active\":false,\"born\":\"1985-05-05\","
	"\"seen\":\"2026-01-01T12:00:00+08:00\",\"owner\":\"ben\"}",
	"{\"name\":\"Carol\",\"region\":\"north\",\"owner\":\"ann\"}",
	"{\"region\":\"east\",\"score\":10,\"budget\":0,\"ratio\":-2.25,\"active\":true,\"tags\":[\"a\\\"b\"]}",
	"{\"name\":\"\\u00c4lva\",\"score\":-5,\"budget\":-1.25,\"born\":\"2000-02-29\",\"tags\":[\"\\u00e9t\\u00e9\",\"vip\"],"
	"\"seen\":\"2025-12-31T23:59:59.999Z\",\"owner\":\"ben\"}",
	"{\"name\":\"alice\",\"email\":\"ALICE@example.com\",\"region\":\"west\",\"score\":15,\"active\":false,"
	"\"data\":[1,2],\"customer\":1}",
	"{\"name\":\"Al\",\"note\":\"\",\"score\":0,\"ratio\":0}",
	"{\"name\":\"C\",\"region\":\"south\",\"score\":20,\"budget\":50.25}",
};

static crm_db *lead_db(void)
{
	crm_db *db = test_db();
	int64_t id;

	test_apply(db, lead_form);
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"Acme\"}", &id));
	for (size_t i = 0; i < sizeof lead_rows / sizeof *lead_rows; i++) {
		crm_clock_set(db, INT64_C(1767323045000) + (int64_t)i * 60000);
		CHECK_OK(db, crm_record_insert(db, "lead", lead_rows[i], &id));
		CHECK_INT(id, (int64_t)i + 1);
	}
	return db;
}

/* The ids a query returns, comma-separated, or "E:<code>" on failure.
 * Static buffer, overwritten by the next call. */
static const char *ids(crm_db *db, const char *form, const char *query)
{
	static char out[8192];
	crm_cursor *cur = NULL;
	size_t len = 0;
	int rc;

	out[0] = 0;
	rc = crm_query(&cur, db, form, query);
	if (rc != CRM_OK) {
		snprintf(out, sizeof out, "E:%s", crm_errstr(rc));
		return out;
	}
	while ((rc = crm_cursor_next(cur)) == CRM_ROW)
		len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", len ? "," : "",
					(long long)crm_cursor_int64(cur, 0));
	if (rc != CRM_DONE)
		snprintf(out, sizeof out, "E:%s", crm_errstr(rc));
	crm_cursor_free(cur);
	return out;
}

/* ids() of a query that holds only a filter. */
static const char *where(crm_db *db, const char *filter)
{
	char q[4096];

	snprintf(q, sizeof q, "{\"filter\":%s}", filter);
	return ids(db, "lead", q);
}

/* ---- operators on each type ---- */

TEST(test_query__text_operators_are_exact_binary_and_case_sensitive)
{
	crm_db *db = lead_db();

	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"eq\",\"value\":\"Alice\"}"), "1");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"=\",\"value\":\"alice\"}"), "6");
	/* ne: a record with no name is "not equal" to Alice as well */
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"ne\",\"value\":\"Alice\"}"), "2,3,4,5,6,7,8");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"!=\",\"value\":\"Alice\"}"), "2,3,4,5,6,7,8");
	/* binary order: upper case before lower case, UTF-8 after ASCII */
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"lt\",\"value\":\"C\"}"), "1,7");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"<=\",\"value\":\"C\"}"), "1,7,8");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"gt\",\"value\":\"C\"}"), "2,3,5,6");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\">=\",\"value\":\"Carol\"}"), "2,3,5,6");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"between\",\"value\":[\"Al\",\"Carol\"]}"), "1,3,7,8");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"in\",\"value\":[\"bob\",\"Carol\",\"nobody\"]}"), "2,3");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"contains\",\"value\":\"li\"}"), "1,6");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"contains\",\"value\":\"LI\"}"), "");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"contains\",\"value\":\"lv\"}"), "5");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"starts_with\",\"value\":\"Al\"}"), "1,7");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"starts_with\",\"value\":\"\\u00c4\"}"), "5");
	/* LIKE wildcards mean nothing here */
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"starts_with\",\"value\":\"A%\"}"), "");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"contains\",\"value\":\"_\"}"), "");
	CHECK_STR(where(db, "{\"field\":\"note\",\"op\":\"contains\",\"value\":\"tea\"}"), "1");
	CHECK_STR(where(db, "{\"field\":\"email\",\"op\":\"contains\",\"value\":\"@example.\"}"), "1,2,6");
	CHECK_STR(where(db, "{\"field\":\"email\",\"op\":\"eq\",\"value\":\"bob@example.org\"}"), "2");
	CHECK_STR(where(db, "{\"field\":\"email\",\"op\":\"lt\",\"value\":\"b\"}"), "1,6");
	CHECK_STR(where(db, "{\"field\":\"phone\",\"op\":\"starts_with\",\"value\":\"+86\"}"), "1");
	CHECK_STR(where(db, "{\"field\":\"site\",\"op\":\"starts_with\",\"value\":\"https://\"}"), "1");
	crm_close(db);
}

TEST(test_query__null_tests_and_empty_values)
{
	crm_db *db = lead_db();

	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"is_null\"}"), "4");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"is_null\",\"value\":true}"), "4");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"is_null\",\"value\":false}"), "1,2,3,5,6,7,8");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"eq\",\"value\":null}"), "4");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"ne\",\"value\":null}"), "1,2,3,5,6,7,8");
	/* an empty string is no value, as when writing: note "" was stored as null */
	CHECK_STR(where(db, "{\"field\":\"note\",\"op\":\"eq\",\"value\":\"\"}"), "3,4,5,6,7,8");
	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"is_null\"}"), "3");
	CHECK_STR(where(db, "{\"field\":\"tags\",\"op\":\"is_null\"}"), "3,6,7,8");
	CHECK_STR(where(db, "{\"field\":\"tags\",\"op\":\"eq\",\"value\":[]}"), "3,6,7,8");
	CHECK_STR(where(db, "{\"field\":\"data\",\"op\":\"is_null\",\"value\":false}"), "1,6");
	CHECK_STR(where(db, "{\"field\":\"owner\",\"op\":\"is_null\"}"), "4,6,7,8");
	/* a condition on a field a record leaves empty is false for that record... */
	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"lt\",\"value\":100}"), "1,2,4,5,6,7,8");
	/* ...and "not" matches exactly the records the condition does not */
	CHECK_STR(where(db, "{\"not\":{\"field\":\"score\",\"op\":\"lt\",\"value\":100}}"), "3");
	CHECK_STR(where(db, "{\"not\":{\"field\":\"score\",\"op\":\"in\",\"value\":[10,20]}}"), "3,5,6,7");
	CHECK_STR(where(db, "{\"not\":{\"field\":\"score\",\"op\":\"ne\",\"value\":10}}"), "1,4");
	CHECK_STR(where(db, "{\"not\":{\"not\":{\"field\":\"score\",\"op\":\"lt\",\"value\":100}}}"),
		  "1,2,4,5,6,7,8");
	crm_close(db);
}

TEST(test_query__numeric_date_and_time_operators)
{
	crm_db *db = lead_db();

	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"eq\",\"value\":10}"), "1,4");
	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"eq\",\"value\":1e1}"), "1,4");
	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"ne\",\"value\":10}"), "2,3,5,6,7,8");
	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"lt\",\"value\":10}"), "5,7");
	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"le\",\"value\":10}"), "1,4,5,7");
	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"gt\",\"value\":10}"), "2,6,8");
	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"ge\",\"value\":15}"), "2,6,8");
	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"between\",\"value\":[0,15]}"), "1,4,6,7");
	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"between\",\"value\":[15,0]}"), "");
	CHECK_STR(where(db, "{\"field\":\"score\",\"op\":\"in\",\"value\":[-5,20]}"), "2,5,8");
	/* decimals compare exactly, whether given as numbers or strings */
	CHECK_STR(where(db, "{\"field\":\"budget\",\"op\":\"eq\",\"value\":100.5}"), "1");
	CHECK_STR(where(db, "{\"field\":\"budget\",\"op\":\"eq\",\"value\":\"100.50\"}"), "1");
	CHECK_STR(where(db, "{\"field\":\"budget\",\"op\":\"gt\",\"value\":50.24}"), "1,8");
	CHECK_STR(where(db, "{\"field\":\"budget\",\"op\":\"lt\",\"value\":0}"), "5");
	CHECK_STR(where(db, "{\"field\":\"budget\",\"op\":\"between\",\"value\":[0,5]}"), "2,4");
	CHECK_STR(where(db, "{\"field\":\"ratio\",\"op\":\"between\",\"value\":[0,1]}"), "1,7");
	CHECK_STR(where(db, "{\"field\":\"ratio\",\"op\":\"gt\",\"value\":-2.25}"), "1,2,7");
	CHECK_STR(where(db, "{\"field\":\"ratio\",\"op\":\"eq\",\"value\":-2.25}"), "4");
	CHECK_STR(where(db, "{\"field\":\"ratio\",\"op\":\"in\",\"value\":[0,1.5]}"), "2,7");
	CHECK_STR(where(db, "{\"field\":\"active\",\"op\":\"eq\",\"value\":true}"), "1,4");
	CHECK_STR(where(db, "{\"field\":\"active\",\"op\":\"ne\",\"value\":true}"), "2,3,5,6,7,8");
	CHECK_STR(where(db, "{\"field\":\"active\",\"op\":\"in\",\"value\":[false]}"), "2,6");
	CHECK_STR(where(db, "{\"field\":\"born\",\"op\":\"lt\",\"value\":\"1990-01-01\"}"), "2");
	CHECK_STR(where(db, "{\"field\":\"born\",\"op\":\"between\",\"value\":[\"1990-01-01\",\"2000-02-29\"]}"),
		  "1,5");
	/* date-times compare as instants, whatever zone they were written in */
	CHECK_STR(where(db, "{\"field\":\"seen\",\"op\":\"eq\",\"value\":\"2026-01-01T04:00:00Z\"}"), "2");
	CHECK_STR(where(db, "{\"field\":\"seen\",\"op\":\"ge\",\"value\":\"2026-01-01T08:00:00+08:00\"}"), "1,2");
	CHECK_STR(where(db, "{\"field\":\"seen\",\"op\":\"lt\",\"value\":\"2026-01-01T00:00:00Z\"}"), "5");
	CHECK_STR(where(db, "{\"field\":\"customer\",\"op\":\"eq\",\"value\":1}"), "1,6");
	CHECK_STR(where(db, "{\"field\":\"customer\",\"op\":\"in\",\"value\":[1,2]}"), "1,6");
	crm_close(db);
}

TEST(test_query__enum_multi_enum_and_system_columns)
{
	crm_db *db = lead_db();

	CHECK_STR(where(db, "{\"field\":\"region\",\"op\":\"eq\",\"value\":\"north\"}"), "1,3");
	CHECK_STR(where(db, "{\"field\":\"region\",\"op\":\"ne\",\"value\":\"north\"}"), "2,4,5,6,7,8");
	CHECK_STR(where(db, "{\"field\":\"region\",\"op\":\"in\",\"value\":[\"north\",\"east\"]}"), "1,3,4");
	/* multi_enum: contains = has that option; eq = exactly that set, in any order */
	CHECK_STR(where(db, "{\"field\":\"tags\",\"op\":\"contains\",\"value\":\"vip\"}"), "1,5");
	CHECK_STR(where(db, "{\"field\":\"tags\",\"op\":\"contains\",\"value\":\"a\\\"b\"}"), "4");
	CHECK_STR(where(db, "{\"field\":\"tags\",\"op\":\"contains\",\"value\":\"\\u00e9t\\u00e9\"}"), "5");
	CHECK_STR(where(db, "{\"field\":\"tags\",\"op\":\"eq\",\"value\":[\"vip\",\"new\"]}"), "1");
	CHECK_STR(where(db, "{\"field\":\"tags\",\"op\":\"ne\",\"value\":[\"cold\"]}"), "1,3,4,5,6,7,8");
	CHECK_STR(where(db, "{\"not\":{\"field\":\"tags\",\"op\":\"contains\",\"value\":\"vip\"}}"), "2,3,4,6,7,8");
	CHECK_STR(where(db, "{\"field\":\"id\",\"op\":\"in\",\"value\":[2,4,99]}"), "2,4");
	CHECK_STR(where(db, "{\"field\":\"id\",\"op\":\"between\",\"value\":[3,5]}"), "3,4,5");
	CHECK_STR(where(db, "{\"field\":\"version\",\"op\":\"eq\",\"value\":1}"), "1,2,3,4,5,6,7,8");
	CHECK_STR(where(db, "{\"field\":\"owner\",\"op\":\"eq\",\"value\":\"ann\"}"), "1,3");
	CHECK_STR(where(db, "{\"field\":\"owner\",\"op\":\"ne\",\"value\":\"ann\"}"), "2,4,5,6,7,8");
	CHECK_STR(where(db, "{\"field\":\"owner\",\"op\":\"starts_with\",\"value\":\"b\"}"), "2,5");
	/* created one minute apart from 2026-01-02T03:04:05Z */
	CHECK_STR(where(db, "{\"field\":\"created_at\",\"op\":\"ge\",\"value\":\"2026-01-02T03:10:05Z\"}"), "7,8");
	CHECK_STR(where(db, "{\"field\":\"updated_at\",\"op\":\"lt\",\"value\":\"2026-01-02T03:05:05.000Z\"}"), "1");
	crm_close(db);
}

TEST(test_query__and_or_not_nest)
{
	crm_db *db = lead_db();

	CHECK_STR(where(db, "{\"and\":[{\"field\":\"region\",\"op\":\"eq\",\"value\":\"north\"},"
			    "{\"field\":\"score\",\"op\":\"eq\",\"value\":10}]}"),
		  "1");
	CHECK_STR(where(db, "{\"or\":[{\"field\":\"region\",\"op\":\"eq\",\"value\":\"east\"},"
			    "{\"field\":\"score\",\"op\":\"gt\",\"value\":15}]}"),
		  "2,4,8");
	CHECK_STR(where(db, "{\"and\":[{\"or\":[{\"field\":\"region\",\"op\":\"eq\",\"value\":\"north\"},"
			    "{\"field\":\"region\",\"op\":\"eq\",\"value\":\"south\"}]},"
			    "{\"not\":{\"field\":\"name\",\"op\":\"starts_with\",\"value\":\"C\"}}]}"),
		  "1,2");
	/* not over or with a missing value inside: still the exact complement */
	CHECK_STR(where(db, "{\"not\":{\"or\":[{\"field\":\"score\",\"op\":\"gt\",\"value\":15},"
			    "{\"field\":\"budget\",\"op\":\"gt\",\"value\":50}]}}"),
		  "3,4,5,6,7");
	CHECK_STR(where(db, "{\"and\":[]}"), "1,2,3,4,5,6,7,8");
	CHECK_STR(where(db, "{\"or\":[]}"), "");
	CHECK_STR(where(db, "{\"not\":{\"or\":[]}}"), "1,2,3,4,5,6,7,8");
	crm_close(db);
}

/* ---- sorting and paging ---- */

TEST(test_query__sort_on_several_keys_with_ties_and_nulls)
{
	crm_db *db = lead_db();

	/* NULLs first ascending, last descending; id breaks every tie */
	CHECK_STR(ids(db, "lead", "{\"sort\":[\"score\"]}"), "3,5,7,1,4,6,2,8");
	CHECK_STR(ids(db, "lead", "{\"sort\":[\"-score\"]}"), "2,8,6,1,4,7,5,3");
	CHECK_STR(ids(db, "lead", "{\"sort\":[\"region\",\"-score\"]}"), "7,5,4,1,3,2,8,6");
	CHECK_STR(ids(db, "lead", "{\"sort\":\"-region, score\"}"), "6,2,8,3,1,4,5,7");
	CHECK_STR(ids(db, "lead", "{\"sort\":[\"-id\"]}"), "8,7,6,5,4,3,2,1");
	CHECK_STR(ids(db, "lead", "{\"sort\":[\"budget\",\"-name\"]}"), "6,3,7,5,4,2,8,1");
	CHECK_STR(ids(db, "lead", "{\"sort\":[\"-created_at\"],\"limit\":3}"), "8,7,6");
	CHECK_STR(ids(db, "lead", "{\"sort\":[\"owner\",\"-id\"]}"), "8,7,6,4,3,1,5,2");
	crm_close(db);
}

TEST(test_query__limit_and_offset)
{
	crm_db *db = lead_db();

	CHECK_STR(ids(db, "lead", "{\"limit\":3}"), "1,2,3");
	CHECK_STR(ids(db, "lead", "{\"limit\":3,\"offset\":2}"), "3,4,5");
	CHECK_STR(ids(db, "lead", "{\"offset\":6}"), "7,8");
	CHECK_STR(ids(db, "lead", "{\"limit\":0}"), "");
	CHECK_STR(ids(db, "lead", "{\"offset\":100}"), "");
	CHECK_STR(ids(db, "lead", "{\"sort\":[\"-score\"],\"limit\":2,\"offset\":1}"), "8,6");
	CHECK_STR(ids(db, "lead", NULL), "1,2,3,4,5,6,7,8");
	CHECK_STR(ids(db, "lead", ""), "1,2,3,4,5,6,7,8");
	CHECK_STR(ids(db, "lead", "{\"filter\":null,\"sort\":null,\"limit\":null}"), "1,2,3,4,5,6,7,8");
	crm_close(db);
}

/* Page through `query` (a JSON object's members, may be empty) `page` rows
 * at a time by token; returns the ids in order like ids(). */
static const char *paged(crm_db *db, const char *form, const char *members, int page)
{
	static char out[16384];
	char query[8192], token[2048] = "";
	size_t len = 0;
	int pages = 0;

	out[0] = 0;
	for (;;) {
		crm_cursor *cur = NULL;
		int rc, rows = 0;

		snprintf(query, sizeof query, "{%s%s\"limit\":%d%s%s%s}", members, *members ? "," : "", page,
			 *token ? ",\"after\":\"" : "", token, *token ? "\"" : "");
		if ((rc = crm_query(&cur, db, form, query)) != CRM_OK) {
			fprintf(stderr, "paged query failed: %s\n", crm_errdetail(db));
			return "E";
		}
		while ((rc = crm_cursor_next(cur)) == CRM_ROW) {
			rows++;
			if (len + 32 > sizeof out) {
				crm_cursor_free(cur);
				return "E:overflow";
			}
			len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", len ? "," : "",
						(long long)crm_cursor_int64(cur, 0));
			snprintf(token, sizeof token, "%s", crm_cursor_token(cur));
		}
		crm_cursor_free(cur);
		if (rc != CRM_DONE)
			return "E";
		if (rows < page || ++pages > 10000)
			return out;
	}
}

TEST(test_query__keyset_paging_matches_unpaged_order_with_nulls)
{
	static const char *const sorts[] = {
		"", "\"sort\":[\"score\"]", "\"sort\":[\"-score\"]", "\"sort\":[\"region\",\"-score\"]",
		"\"sort\":[\"-region\",\"score\"]", "\"sort\":[\"-region\",\"-name\"]", "\"sort\":[\"budget\",\"-ratio\"]",
		"\"sort\":[\"-tags\",\"born\",\"-seen\"]", "\"sort\":[\"owner\",\"-id\"]", "\"sort\":[\"-active\",\"note\"]",
		"\"sort\":[\"-score\"],\"filter\":{\"field\":\"region\",\"op\":\"ne\",\"value\":\"west\"}",
		"\"sort\":[\"name\"],\"fields\":[\"email\"]",
	};
	crm_db *db = lead_db();
	char query[512];
	int64_t id;

	/* more rows with many ties and empty keys */
	for (int i = 0; i < 40; i++) {
		char rec[256];
		static const char *const regions[] = { "\"north\"", "\"south\"", "null" };
		snprintf(rec, sizeof rec, "{\"name\":%s,\"region\":%s,\"score\":%s,\"budget\":%s,\"active\":%s}",
			 i % 4 == 0 ? "null" : i % 2 ? "\"x\"" : "\"y\"", regions[i % 3], i % 5 == 0 ? "null" : i % 3 ? "7" : "3",
			 i % 7 == 0 ? "null" : "1.5", i % 2 ? "true" : "null");
		CHECK_OK(db, crm_record_insert(db, "lead", rec, &id));
	}
	for (size_t s = 0; s < sizeof sorts / sizeof *sorts; s++) {
		char whole[16384];
		snprintf(query, sizeof query, "{%s}", sorts[s]);
		snprintf(whole, sizeof whole, "%s", ids(db, "lead", query));
		CHECK(strlen(whole) > 10);
		for (int page = 1; page <= 7; page += 3) {
			const char *got = paged(db, "lead", sorts[s], page);
			if (strcmp(got, whole) != 0) {
				fprintf(stderr, "sort {%s} page %d:\n  paged   %s\n  unpaged %s\n", sorts[s], page, got, whole);
				test_failures_++;
			}
		}
	}
	crm_close(db);
}

TEST(test_query__token_is_bound_to_form_and_sort_and_checked)
{
	crm_db *db = lead_db();
	crm_cursor *cur = NULL;
	char token[512], q[1024];

	CHECK_OK(db, crm_query(&cur, db, "lead", "{\"sort\":[\"name\"],\"limit\":1}"));
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	snprintf(token, sizeof token, "%s", crm_cursor_token(cur));
	crm_cursor_free(cur);
	/* plain base64url: pastes into JSON and URLs unescaped */
	CHECK(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(token));
	snprintf(q, sizeof q, "{\"sort\":[\"name\"],\"after\":\"%s\"}", token);
	CHECK_STR(ids(db, "lead", q), "7,1,8,3,6,2,5"); /* after the null name of 4, in byte order */
	/* another sort order or form */
	snprintf(q, sizeof q, "{\"sort\":[\"-name\"],\"after\":\"%s\"}", token);
	CHECK_STR(ids(db, "lead", q), "E:CRM_EINVAL");
	CHECK_HAS(crm_errmsg(db), "another sort order");
	snprintf(q, sizeof q, "{\"sort\":[\"name\"],\"after\":\"%s\"}", token);
	CHECK_STR(ids(db, "customer", q), "E:CRM_EINVAL");
	/* damaged tokens */
	CHECK_STR(ids(db, "lead", "{\"after\":\"not a token!\"}"), "E:CRM_EINVAL");
	CHECK_HAS(crm_errdetail(db), "\"path\":\"after\"");
	CHECK_STR(ids(db, "lead", "{\"after\":\"\"}"), "E:CRM_EINVAL");
	CHECK_STR(ids(db, "lead", "{\"after\":42}"), "E:CRM_EINVAL");
	CHECK_STR(ids(db, "lead", "{\"after\":[\"x\"]}"), "E:CRM_EINVAL");
	token[strlen(token) - 2] = 0;
	snprintf(q, sizeof q, "{\"sort\":[\"name\"],\"after\":\"%s\"}", token);
	CHECK_STR(ids(db, "lead", q), "E:CRM_EINVAL");
	/* a well-formed payload of the wrong shape: text where id needs an integer */
	{
		crm_cursor *c2 = NULL;
		char tok2[512];
		CHECK_OK(db, crm_query(&c2, db, "lead", "{\"limit\":1}"));
		CHECK_INT(crm_cursor_next(c2), CRM_ROW);
		snprintf(tok2, sizeof tok2, "%s", crm_cursor_token(c2));
		crm_cursor_free(c2);
		snprintf(q, sizeof q, "{\"after\":\"%s\"}", tok2);
		CHECK_STR(ids(db, "lead", q), "2,3,4,5,6,7,8");
		snprintf(q, sizeof q, "{\"after\":\"%s\",\"offset\":0}", tok2);
		CHECK_STR(ids(db, "lead", q), "E:CRM_EINVAL");
		CHECK_HAS(crm_errmsg(db), "offset");
		snprintf(q, sizeof q, "{\"after\":\"%sAA\"}", tok2);
		CHECK_STR(ids(db, "lead", q), "E:CRM_EINVAL");
	}
	crm_close(db);
}

/* ---- cursors ---- */

TEST(test_query__field_selection_and_column_accessors)
{
	crm_db *db = lead_db();
	crm_cursor *cur = NULL;

	CHECK_OK(db, crm_query(&cur, db, "lead",
			       "{\"fields\":[\"budget\",\"name\",\"id\",\"seen\",\"active\",\"ratio\",\"budget\"],"
			       "\"filter\":{\"field\":\"id\",\"op\":\"eq\",\"value\":1}}"));
	CHECK_INT(crm_cursor_column_count(cur), 1 + 5 + 4);
	CHECK_STR(crm_cursor_column_name(cur, 0), "id");
	CHECK_STR(crm_cursor_column_name(cur, 1), "budget");
	CHECK_STR(crm_cursor_column_name(cur, 2), "name");
	CHECK_STR(crm_cursor_column_name(cur, 6), "created_at");
	CHECK_STR(crm_cursor_column_name(cur, 9), "version");
	CHECK(crm_cursor_column_name(cur, 10) == NULL);
	CHECK_INT(crm_cursor_column_type(cur, 0), CRM_TYPE_INTEGER);
	CHECK_INT(crm_cursor_column_type(cur, 1), CRM_TYPE_DECIMAL);
	CHECK_INT(crm_cursor_column_type(cur, 3), CRM_TYPE_DATETIME);
	CHECK_INT(crm_cursor_column_type(cur, 7), CRM_TYPE_DATETIME);
	CHECK_INT(crm_cursor_column_type(cur, 8), CRM_TYPE_TEXT);
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	CHECK_INT(crm_cursor_int64(cur, 1), 10050);
	CHECK(crm_cursor_double(cur, 1) == 100.5);
	CHECK_STR(crm_cursor_text(cur, 1), "100.50");
	CHECK_STR(crm_cursor_text(cur, 2), "Alice");
	CHECK_STR(crm_cursor_text(cur, 3), "2026-01-01T00:00:00.000Z");
	CHECK_INT(crm_cursor_int64(cur, 3), INT64_C(1767225600000));
	CHECK_STR(crm_cursor_text(cur, 4), "true");
	CHECK_STR(crm_cursor_text(cur, 5), "0.5");
	CHECK(crm_cursor_double(cur, 5) == 0.5);
	CHECK_STR(crm_cursor_text(cur, 0), "1");
	CHECK_STR(crm_cursor_text(cur, 6), "2026-01-02T03:04:05.000Z");
	CHECK_STR(crm_cursor_text(cur, 8), "ann");
	CHECK_INT(crm_cursor_is_null(cur, 2), 0);
	CHECK_STR(crm_cursor_json(cur),
		  "{\"id\":1,\"budget\":100.50,\"name\":\"Alice\",\"seen\":\"2026-01-01T00:00:00.000Z\",\"active\":true,"
		  "\"ratio\":0.5,\"created_at\":\"2026-01-02T03:04:05.000Z\",\"updated_at\":\"2026-01-02T03:04:05.000Z\","
		  "\"owner\":\"ann\",\"version\":1}");
	CHECK(crm_cursor_text(cur, 99) == NULL);
	CHECK_INT(crm_cursor_int64(cur, -1), 0);
	CHECK_INT(crm_cursor_next(cur), CRM_DONE);
	CHECK_INT(crm_cursor_next(cur), CRM_DONE);
	CHECK(crm_cursor_json(cur) == NULL);
	crm_cursor_free(cur);

	/* every field, in definition order, nulls included */
	CHECK_OK(db, crm_query(&cur, db, "lead", "{\"filter\":{\"field\":\"id\",\"op\":\"=\",\"value\":3}}"));
	CHECK_INT(crm_cursor_column_count(cur), 1 + 15 + 4);
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	CHECK_INT(crm_cursor_is_null(cur, 8), 1);
	CHECK(crm_cursor_text(cur, 8) == NULL);
	CHECK_STR(crm_cursor_json(cur),
		  "{\"id\":3,\"name\":\"Carol\",\"note\":null,\"email\":null,\"phone\":null,\"site\":null,"
		  "\"region\":\"north\",\"tags\":null,\"score\":null,\"budget\":null,\"ratio\":null,\"active\":null,"
		  "\"born\":null,\"seen\":null,\"data\":null,\"customer\":null,"
		  "\"created_at\":\"2026-01-02T03:06:05.000Z\",\"updated_at\":\"2026-01-02T03:06:05.000Z\","
		  "\"owner\":\"ann\",\"version\":1}");
	crm_cursor_free(cur);

	/* a field list that leaves the sort key out still pages by token */
	CHECK_OK(db, crm_query(&cur, db, "lead", "{\"fields\":[],\"sort\":[\"-score\"],\"limit\":1}"));
	CHECK_INT(crm_cursor_column_count(cur), 5);
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	CHECK_STR(crm_cursor_json(cur),
		  "{\"id\":2,\"created_at\":\"2026-01-02T03:05:05.000Z\",\"updated_at\":\"2026-01-02T03:05:05.000Z\","
		  "\"owner\":\"ben\",\"version\":1}");
	CHECK(crm_cursor_token(cur) != NULL);
	crm_cursor_free(cur);
	CHECK_STR(paged(db, "lead", "\"fields\":[\"name\"],\"sort\":[\"-score\"]", 2), "2,8,6,1,4,7,5,3");
	crm_cursor_free(NULL);
	crm_close(db);
}

TEST(test_query__text_of_each_type_is_what_json_shows)
{
	crm_db *db = lead_db();
	crm_cursor *cur = NULL;

	CHECK_OK(db, crm_query(&cur, db, "lead",
			       "{\"fields\":\"budget,born,active,score,tags,data,region\",\"sort\":[\"-id\"],"
			       "\"filter\":{\"field\":\"id\",\"op\":\"in\",\"value\":[5,6]}}"));
	CHECK_INT(crm_cursor_next(cur), CRM_ROW); /* 6 */
	CHECK(crm_cursor_text(cur, 1) == NULL);
	CHECK_STR(crm_cursor_text(cur, 3), "false");
	CHECK_INT(crm_cursor_int64(cur, 3), 0);
	CHECK_STR(crm_cursor_text(cur, 4), "15");
	CHECK_STR(crm_cursor_text(cur, 6), "[1,2]");
	CHECK_STR(crm_cursor_text(cur, 7), "west");
	CHECK(crm_cursor_text(cur, 10) == NULL); /* owner */
	CHECK_INT(crm_cursor_is_null(cur, 10), 1);
	CHECK_INT(crm_cursor_column_type(cur, 5), CRM_TYPE_MULTI_ENUM);
	CHECK_INT(crm_cursor_next(cur), CRM_ROW); /* 5 */
	CHECK_STR(crm_cursor_text(cur, 1), "-1.25");
	CHECK(crm_cursor_double(cur, 1) == -1.25);
	CHECK_INT(crm_cursor_int64(cur, 1), -125);
	CHECK_STR(crm_cursor_text(cur, 2), "2000-02-29");
	CHECK(crm_cursor_text(cur, 3) == NULL);
	CHECK_STR(crm_cursor_text(cur, 4), "-5");
	CHECK_STR(crm_cursor_text(cur, 5), "[\"vip\",\"\u00e9t\u00e9\"]");
	CHECK_STR(crm_cursor_json(cur),
		  "{\"id\":5,\"budget\":-1.25,\"born\":\"2000-02-29\",\"active\":null,\"score\":-5,"
		  "\"tags\":[\"vip\",\"\u00e9t\u00e9\"],\"data\":null,\"region\":null,"
		  "\"created_at\":\"2026-01-02T03:08:05.000Z\",\"updated_at\":\"2026-01-02T03:08:05.000Z\","
		  "\"owner\":\"ben\",\"version\":1}");
	CHECK_INT(crm_cursor_next(cur), CRM_DONE);
	crm_cursor_free(cur);
	crm_close(db);
}

TEST(test_query__count_matches_the_filter)
{
	crm_db *db = lead_db();
	int64_t n = -1;

	CHECK_OK(db, crm_count(db, "lead", NULL, &n));
	CHECK_INT(n, 8);
	CHECK_OK(db, crm_count(db, "lead", "{\"filter\":{\"field\":\"region\",\"op\":\"eq\",\"value\":\"north\"}}", &n));
	CHECK_INT(n, 2);
	/* order and paging do not change how many records match */
	CHECK_OK(db, crm_count(db, "lead", "{\"filter\":{\"field\":\"score\",\"op\":\"ge\",\"value\":10},"
					   "\"sort\":[\"-score\"],\"limit\":1,\"offset\":2}",
			       &n));
	CHECK_INT(n, 5);
	CHECK_RC(db, crm_count(db, "lead", "{\"filter\":{\"field\":\"nope\",\"op\":\"eq\",\"value\":1}}", &n),
		 CRM_EINVAL);
	CHECK_RC(db, crm_count(db, "nosuchform", NULL, &n), CRM_ENOTFOUND);
	CHECK_RC(db, crm_count(db, "lead", NULL, NULL), CRM_EMISUSE);
	crm_close(db);
}

/* ---- bad input ---- */

static void check_einval(crm_db *db, const char *query, const char *msg_part, const char *path)
{
	crm_cursor *cur = (crm_cursor *)&cur;
	int rc = crm_query(&cur, db, "lead", query);

	if (rc != CRM_EINVAL) {
		fprintf(stderr, "query %s: expected CRM_EINVAL, got %s\n", query, crm_errstr(rc));
		test_failures_++;
	}
	CHECK(cur == NULL);
	crm_cursor_free(rc == CRM_OK ? cur : NULL);
	if (msg_part && !strstr(crm_errmsg(db), msg_part)) {
		fprintf(stderr, "query %s: message \"%s\" lacks \"%s\"\n", query, crm_errmsg(db), msg_part);
		test_failures_++;
	}
	if (path) {
		char want[256];
		snprintf(want, sizeof want, "\"path\":\"%s\"", path);
		if (!strstr(crm_errdetail(db), want)) {
			fprintf(stderr, "query %s: detail %s lacks %s\n", query, crm_errdetail(db), want);
			test_failures_++;
		}
	}
}

TEST(test_query__rejects_bad_queries_with_a_path)
{
	crm_db *db = lead_db();
	char deep[2048], big[40000];
	size_t len = 0;

	check_einval(db, "{\"filter\":", "not valid JSON", NULL);
	CHECK_INT(crm_erroffset(db), 10);
	check_einval(db, "[1]", "object", NULL);
	check_einval(db, "{\"where\":{}}", "unknown key 'where'", "where");
	check_einval(db, "{\"limit\":-1}", "limit", "limit");
	check_einval(db, "{\"limit\":1.5}", "limit", "limit");
	check_einval(db, "{\"limit\":2000000000}", "limit", "limit");
	check_einval(db, "{\"offset\":\"3\"}", "offset", "offset");
	check_einval(db, "{\"limit\":1,\"limit\":2}", "twice", "limit");
	check_einval(db, "{\"sort\":[\"nope\"]}", "unknown field 'nope' in form 'lead'", "sort[0]");
	check_einval(db, "{\"sort\":[\"name\",\"-name\"]}", "twice", "sort[1]");
	check_einval(db, "{\"sort\":[1]}", "string", "sort[0]");
	check_einval(db, "{\"sort\":\"name,,score\"}", "unknown field", "sort");
	check_einval(db, "{\"fields\":[\"name\",\"nope\"]}", "unknown field 'nope' in form 'lead'", "fields[1]");
	check_einval(db, "{\"fields\":{}}", NULL, "fields");
	check_einval(db, "{\"filter\":[]}", "a filter is an object", "filter");
	check_einval(db, "{\"filter\":{}}", "empty", "filter");
	check_einval(db, "{\"filter\":{\"field\":\"x\",\"op\":\"eq\",\"value\":1}}",
		     "unknown field 'x' in form 'lead'", "filter.field");
	check_einval(db, "{\"filter\":{\"and\":[{\"field\":\"name\",\"op\":\"eq\",\"value\":\"a\"},"
			 "{\"field\":\"score\",\"op\":\"like\",\"value\":1}]}}",
		     "unknown operator 'like'", "filter.and[1].op");
	check_einval(db, "{\"filter\":{\"or\":[{\"not\":{\"field\":\"score\",\"op\":\"eq\",\"value\":\"ten\"}}]}}",
		     "score", "filter.or[0].not.value");
	check_einval(db, "{\"filter\":{\"field\":\"score\",\"op\":\"eq\",\"value\":1.5}}", "integer", "filter.value");
	check_einval(db, "{\"filter\":{\"field\":\"region\",\"op\":\"eq\",\"value\":\"middle\"}}", "not an option",
		     "filter.value");
	check_einval(db, "{\"filter\":{\"field\":\"region\",\"op\":\"in\",\"value\":[\"north\",\"up\"]}}",
		     "not an option", "filter.value[1]");
	check_einval(db, "{\"filter\":{\"field\":\"region\",\"op\":\"lt\",\"value\":\"north\"}}", "does not apply",
		     "filter.op");
	check_einval(db, "{\"filter\":{\"field\":\"tags\",\"op\":\"contains\",\"value\":\"gold\"}}", "options",
		     "filter.value");
	check_einval(db, "{\"filter\":{\"field\":\"tags\",\"op\":\"in\",\"value\":[\"vip\"]}}", "does not apply", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"data\",\"op\":\"contains\",\"value\":\"k\"}}", "does not apply", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"data\",\"op\":\"eq\",\"value\":{\"k\":1}}}", "does not apply", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"active\",\"op\":\"gt\",\"value\":false}}", "does not apply", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"score\",\"op\":\"starts_with\",\"value\":\"1\"}}", "does not apply",
		     NULL);
	check_einval(db, "{\"filter\":{\"field\":\"budget\",\"op\":\"eq\",\"value\":1.234}}", "fraction digits", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"born\",\"op\":\"eq\",\"value\":\"1990-02-30\"}}", "date", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"seen\",\"op\":\"lt\",\"value\":\"yesterday\"}}", NULL,
		     "filter.value");
	check_einval(db, "{\"filter\":{\"field\":\"created_at\",\"op\":\"lt\",\"value\":5}}", "ISO 8601", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"id\",\"op\":\"eq\",\"value\":\"1\"}}", "integer", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"name\",\"op\":\"lt\",\"value\":null}}", "is_null", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"name\",\"op\":\"in\",\"value\":[]}}", "non-empty", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"name\",\"op\":\"in\",\"value\":\"a\"}}", "array", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"name\",\"op\":\"in\",\"value\":[\"a\",null]}}", "is_null",
		     "filter.value[1]");
	check_einval(db, "{\"filter\":{\"field\":\"name\",\"op\":\"between\",\"value\":[\"a\"]}}", "two", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"name\",\"op\":\"is_null\",\"value\":1}}", "true or false", NULL);
	check_einval(db, "{\"filter\":{\"field\":\"name\",\"op\":\"eq\"}}", "needs a 'value'", "filter.value");
	check_einval(db, "{\"filter\":{\"field\":\"name\",\"value\":\"a\"}}", "needs an 'op'", "filter.op");
	check_einval(db, "{\"filter\":{\"op\":\"eq\",\"value\":\"a\"}}", "needs a 'field'", "filter.field");
	check_einval(db, "{\"filter\":{\"field\":\"name\",\"op\":\"eq\",\"value\":\"a\",\"extra\":1}}",
		     "unknown key 'extra'", "filter");
	check_einval(db, "{\"filter\":{\"field\":\"name\",\"op\":\"eq\",\"param\":\"p\"}}", "parameters",
		     "filter.param");
	check_einval(db, "{\"filter\":{\"and\":[],\"or\":[]}}", "only key", "filter");
	check_einval(db, "{\"filter\":{\"and\":{}}}", "array", "filter.and");
	check_einval(db, "{\"filter\":{\"not\":[]}}", "object", "filter.not");

	/* nesting deeper than 32 levels (31 nots around a condition are 32) */
	for (int nots = 31; nots <= 32; nots++) {
		len = (size_t)snprintf(deep, sizeof deep, "{\"filter\":");
		for (int i = 0; i < nots; i++)
			len += (size_t)snprintf(deep + len, sizeof deep - len, "{\"not\":");
		len += (size_t)snprintf(deep + len, sizeof deep - len, "{\"field\":\"name\",\"op\":\"is_null\"}");
		for (int i = 0; i <= nots; i++)
			deep[len++] = '}';
		deep[len] = 0;
		if (nots == 31)
			CHECK_STR(ids(db, "lead", deep), "1,2,3,5,6,7,8");
		else
			check_einval(db, deep, "deeper than 32", NULL);
	}
	/* more than 1000 conditions, and an in list over 1000 values */
	len = (size_t)snprintf(big, sizeof big, "{\"filter\":{\"or\":[");
	for (int i = 0; i < 1001; i++)
		len += (size_t)snprintf(big + len, sizeof big - len, "%s{\"field\":\"score\",\"op\":\"eq\",\"value\":%d}",
					i ? "," : "", i);
	snprintf(big + len, sizeof big - len, "]}}");
	check_einval(db, big, "more than 1000", NULL);
	len = (size_t)snprintf(big, sizeof big, "{\"filter\":{\"field\":\"score\",\"op\":\"in\",\"value\":[");
	for (int i = 0; i < 1001; i++)
		len += (size_t)snprintf(big + len, sizeof big - len, "%s%d", i ? "," : "", i);
	snprintf(big + len, sizeof big - len, "]}}");
	check_einval(db, big, "at most 1000", "filter.value");
	CHECK_STR(ids(db, "nosuchform", NULL), "E:CRM_ENOTFOUND");
	{
		crm_cursor *cur = (crm_cursor *)&len;
		CHECK_RC(db, crm_query(&cur, NULL, "lead", NULL), CRM_EMISUSE);
		CHECK(cur == NULL);
		CHECK_RC(db, crm_query(&cur, db, NULL, NULL), CRM_EMISUSE);
		CHECK_RC(db, crm_query(NULL, db, "lead", NULL), CRM_EMISUSE);
	}
	crm_close(db);
}

TEST(test_query__in_list_of_1000_values_is_accepted)
{
	crm_db *db = lead_db();
	char big[12000];
	size_t len = (size_t)snprintf(big, sizeof big, "{\"filter\":{\"field\":\"score\",\"op\":\"in\",\"value\":[");

	for (int i = 0; i < 1000; i++)
		len += (size_t)snprintf(big + len, sizeof big - len, "%s%d", i ? "," : "", i - 10);
	snprintf(big + len, sizeof big - len, "]}}");
	CHECK_STR(ids(db, "lead", big), "1,2,4,5,6,7,8");
	crm_close(db);
}

TEST(test_query__sql_looking_names_and_values_match_nothing_and_change_nothing)
{
	crm_db *db = lead_db();
	int64_t before = test_sql_int(db, "SELECT count(*) FROM lead");

	check_einval(db, "{\"filter\":{\"field\":\"name; DROP TABLE lead\",\"op\":\"eq\",\"value\":1}}",
		     "unknown field 'name; DROP TABLE lead' in form 'lead'", "filter.field");
	check_einval(db, "{\"filter\":{\"field\":\"name\\\" OR 1=1 --\",\"op\":\"eq\",\"value\":1}}", "unknown field",
		     NULL);
	check_einval(db, "{\"sort\":[\"name; DROP TABLE lead\"]}", "unknown field", "sort[0]");
	check_einval(db, "{\"fields\":[\"name\\\"), (SELECT 1\"]}", "unknown field", "fields[0]");
	check_einval(db, "{\"filter\":{\"field\":\"name\",\"op\":\"= 1 OR 1=1 --\",\"value\":1}}", "unknown operator",
		     NULL);
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"eq\",\"value\":\"x' OR 1=1 --\"}"), "");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"contains\",\"value\":\"'); DROP TABLE lead; --\"}"), "");
	CHECK_STR(where(db, "{\"field\":\"name\",\"op\":\"in\",\"value\":[\"x\\\" OR \\\"1\\\"=\\\"1\"]}"), "");
	CHECK_STR(where(db, "{\"field\":\"region\",\"op\":\"ne\",\"value\":\"north\"}"), "2,4,5,6,7,8");
	CHECK_STR(ids(db, "x\" OR 1=1 --", NULL), "E:CRM_ENOTFOUND");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead"), before);
	CHECK_INT(test_relation_exists(db, "lead"), 1);
	crm_close(db);
}

/* ---- the evaluator agrees with SQL ---- */

static uint32_t rng_state = 12345;
static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 16) % n;
}

/* One random condition (possibly invalid for its field: those are skipped). */
static void gen_condition(crm__buf *b)
{
	static const char *const fields[] = { "name", "note", "region", "tags", "score", "budget", "ratio", "active",
					      "born", "seen", "owner", "id", "created_at", "email", "customer" };
	static const char *const ops[] = { "eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "starts_with",
					   "is_null", "between" };
	static const char *const text_vals[] = { "\"Alice\"", "\"alice\"", "\"bob\"", "\"C\"", "\"\\u00c4lva\"", "\"\"",
						 "\"li\"", "\"Al\"", "\"x\"", "\"tea\"", "\"ann\"" };
	static const char *const num_vals[] = { "-5", "0", "10", "15", "20", "7", "3", "1.5", "100.5", "-2.25", "1" };
	static const char *const region_vals[] = { "\"north\"", "\"south\"", "\"east\"", "\"west\"" };
	static const char *const tag_vals[] = { "\"vip\"", "\"new\"", "\"cold\"", "\"a\\\"b\"", "\"\\u00e9t\\u00e9\"" };
	static const char *const date_vals[] = { "\"1985-05-05\"", "\"1990-01-01\"", "\"2000-02-29\"" };
	static const char *const bool_vals[] = { "true", "false" };
	static const char *const time_vals[] = { "\"2026-01-01T00:00:00Z\"", "\"2026-01-01T04:00:00Z\"",
						  "\"2025-12-31T23:59:59.999Z\"", "\"2026-01-02T03:07:05Z\"" };
	const char *field = fields[rnd(sizeof fields / sizeof *fields)];
	const char *op = ops[rnd(sizeof ops / sizeof *ops)];
	const char *const *pool;
	size_t npool;
	int many = !strcmp(op, "in") ? 1 + (int)rnd(3) : !strcmp(op, "between") ? 2 : 0;

	if (!strcmp(field, "region"))
		pool = region_vals, npool = 4;
	else if (!strcmp(field, "tags"))
		pool = tag_vals, npool = 5;
	else if (!strcmp(field, "born"))
		pool = date_vals, npool = 3;
	else if (!strcmp(field, "seen") || !strcmp(field, "created_at"))
		pool = time_vals, npool = 4;
	else if (!strcmp(field, "active"))
		pool = bool_vals, npool = 2;
	else if (!strcmp(field, "name") || !strcmp(field, "note") || !strcmp(field, "owner") || !strcmp(field, "email"))
		pool = text_vals, npool = sizeof text_vals / sizeof *text_vals;
	else
		pool = num_vals, npool = sizeof num_vals / sizeof *num_vals;
	crm__buf_printf(b, "{\"field\":\"%s\",\"op\":\"%s\"", field, op);
	if (!strcmp(op, "is_null")) {
		if (rnd(2))
			crm__buf_puts(b, rnd(2) ? ",\"value\":true" : ",\"value\":false");
	} else if (many) {
		crm__buf_puts(b, ",\"value\":[");
		for (int i = 0; i < many; i++)
			crm__buf_printf(b, "%s%s", i ? "," : "", pool[rnd((uint32_t)npool)]);
		crm__buf_putc(b, ']');
	} else if (!strcmp(field, "tags") && !strcmp(op, "eq"))
		crm__buf_printf(b, ",\"value\":[%s]", pool[rnd((uint32_t)npool)]);
	else if (rnd(12) == 0)
		crm__buf_puts(b, ",\"value\":null");
	else
		crm__buf_printf(b, ",\"value\":%s", pool[rnd((uint32_t)npool)]);
	crm__buf_putc(b, '}');
}

static void gen_filter(crm__buf *b, int depth)
{
	uint32_t r = depth >= 3 ? 9 : rnd(10);

	if (r < 2 || r == 3) {
		int n = (int)rnd(4);
		crm__buf_puts(b, r == 3 ? "{\"or\":[" : "{\"and\":[");
		for (int i = 0; i < n; i++) {
			if (i)
				crm__buf_putc(b, ',');
			gen_filter(b, depth + 1);
		}
		crm__buf_puts(b, "]}");
	} else if (r == 2) {
		crm__buf_puts(b, "{\"not\":");
		gen_filter(b, depth + 1);
		crm__buf_putc(b, '}');
	} else
		gen_condition(b);
}

TEST(test_query__filter_eval_agrees_with_sql_on_generated_filters)
{
	crm_db *db = lead_db();
	crm__form *form = NULL;
	crm__value rows[64][15];
	crm__row row[64];
	crm__buf strings[64];
	int64_t idv[64];
	int nrows = 0, valid = 0, matched_some = 0;
	crm__stmt *st;
	int64_t id;

	for (int i = 0; i < 24; i++) {
		char rec[512];
		snprintf(rec, sizeof rec,
			 "{\"name\":%s,\"score\":%s,\"region\":%s,\"tags\":%s,\"budget\":%s,\"ratio\":%s,\"active\":%s,"
			 "\"owner\":%s}",
			 (const char *[]){ "null", "\"Alice\"", "\"x\"", "\"Al\"", "\"bob\"" }[i % 5],
			 (const char *[]){ "null", "10", "-5", "7", "20", "3" }[i % 6],
			 (const char *[]){ "null", "\"north\"", "\"west\"" }[i % 3],
			 (const char *[]){ "null", "[\"vip\"]", "[\"a\\\"b\",\"cold\"]", "[\"\\u00e9t\\u00e9\"]" }[i % 4],
			 (const char *[]){ "null", "100.5", "0", "-1.25", "1.5" }[i % 5],
			 (const char *[]){ "null", "1.5", "-2.25", "0" }[i % 4],
			 (const char *[]){ "null", "true", "false" }[(i / 2) % 3],
			 (const char *[]){ "null", "\"ann\"", "\"tea\"" }[(i / 3) % 3]);
		CHECK_OK(db, crm_record_insert(db, "lead", rec, &id));
	}
	CHECK_OK(db, crm__form_lookup(db, "lead", &form));
	crm__form_retain(form);
	/* every record's storage values, read straight from the table */
	CHECK((st = crm__stmt_take(db, "SELECT * FROM lead ORDER BY id", (size_t)-1)) != NULL);
	while (crm__step(st) == CRM_ROW && nrows < 64) {
		crm__buf *s = &strings[nrows];
		memset(s, 0, sizeof *s);
		crm__buf_reserve(s, 65536);
		for (int f = 0; f < form->nfields; f++) {
			crm__value v;
			crm__value_column(&v, &form->fields[f], st, 1 + f);
			if (v.kind == CRM__V_TEXT) {
				size_t off = s->len;
				crm__buf_put(s, v.s, v.n);
				v.s = s->p + off;
			}
			rows[nrows][f] = v;
		}
		row[nrows].fields = rows[nrows];
		for (int k = 0; k < 5; k++) {
			crm__value *v = &row[nrows].sys[k];
			int col = k == 0 ? 0 : form->nfields + k;
			memset(v, 0, sizeof *v);
			if (crm__column_type(st, col) == CRM__SQL_NULL)
				v->kind = CRM__V_NULL;
			else if (k == 3) {
				size_t off = s->len;
				crm__buf_put(s, crm__column_text(st, col), (size_t)crm__column_bytes(st, col));
				v->kind = CRM__V_TEXT;
				v->s = s->p + off;
				v->n = (size_t)crm__column_bytes(st, col);
			} else {
				v->kind = CRM__V_INT;
				v->i = crm__column_int64(st, col);
			}
		}
		idv[nrows] = row[nrows].sys[0].i;
		nrows++;
	}
	crm__stmt_give(db, st);
	CHECK_INT(nrows, 32);

	for (int t = 0; t < 1500; t++) {
		crm__buf fj = CRM__BUF_INIT, want = CRM__BUF_INIT;
		crm__filter *f;
		cJSON *json;
		char q[8192];
		const char *got;

		gen_filter(&fj, 0);
		json = cJSON_Parse(crm__buf_cstr(&fj));
		CHECK(json != NULL);
		f = crm__filter_parse(db, form, json, "filter", 0);
		cJSON_Delete(json);
		snprintf(q, sizeof q, "{\"filter\":%s}", crm__buf_cstr(&fj));
		got = ids(db, "lead", q);
		if (!f) {
			/* the parser and the query agree that it is bad */
			CHECK_STR(got, "E:CRM_EINVAL");
			crm__buf_free(&fj);
			continue;
		}
		valid++;
		for (int r = 0; r < nrows; r++)
			if (crm__filter_eval(f, form, &row[r]))
				crm__buf_printf(&want, "%s%lld", want.len ? "," : "", (long long)idv[r]);
		if (want.len && want.len < 40)
			matched_some++;
		if (strcmp(got, crm__buf_cstr(&want)) != 0) {
			fprintf(stderr, "filter %s\n  sql  %s\n  eval %s\n", crm__buf_cstr(&fj), got, crm__buf_cstr(&want));
			test_failures_++;
		}
		crm__filter_free(f);
		crm__buf_free(&fj);
		crm__buf_free(&want);
	}
	/* the generator must exercise real filters, not just errors and trivia */
	CHECK(valid > 700);
	CHECK(matched_some > 200);
	for (int r = 0; r < nrows; r++)
		crm__buf_free(&strings[r]);
	crm__form_release(form);
	crm_close(db);
}

struct params {
	crm__value min, prefix;
};

static const crm__value *param_lookup(void *payload, const char *name)
{
	struct params *p = payload;

	if (strcmp(name, "min") == 0)
		return &p->min;
	return strcmp(name, "p") == 0 ? &p->prefix : NULL;
}

TEST(test_query__parameters_bind_through_lookup)
{
	crm_db *db = lead_db();
	crm__form *form = NULL;
	crm__filter *f;
	crm__buf sql = CRM__BUF_INIT;
	crm__binds binds = { 0 };
	crm__stmt *st = NULL;
	struct params vals;
	cJSON *json = cJSON_Parse("{\"and\":[{\"field\":\"score\",\"op\":\">=\",\"param\":\"min\"},"
				  "{\"field\":\"name\",\"op\":\"starts_with\",\"param\":\"p\"}]}");
	crm__row row;
	crm__value fields[15];

	memset(&vals, 0, sizeof vals);
	vals.min.kind = CRM__V_INT;
	vals.min.i = 10;
	vals.prefix.kind = CRM__V_TEXT;
	vals.prefix.s = "Al";
	vals.prefix.n = 2;
	CHECK_OK(db, crm__form_lookup(db, "lead", &form));
	f = crm__filter_parse(db, form, json, "report.filter", 1);
	CHECK(f != NULL);
	crm__buf_puts(&sql, "SELECT min(id) FROM lead WHERE ");
	crm__filter_sql(db->be->dialect, &sql, &binds, f, form, NULL);
	CHECK_INT(binds.n, 3);
	CHECK_STR(binds.param[0], "min");
	CHECK(binds.v[0] == NULL);
	CHECK(db->be->prepare(db, crm__buf_cstr(&sql), sql.len, &st) == CRM_OK);
	/* unresolved parameters are null and match nothing */
	CHECK(crm__binds_apply(&binds, st, 1, NULL, NULL) == CRM_OK);
	CHECK(crm__step(st) == CRM_ROW);
	CHECK_INT(crm__column_type(st, 0), CRM__SQL_NULL);
	crm__reset(st);
	CHECK(crm__binds_apply(&binds, st, 1, param_lookup, &vals) == CRM_OK);
	CHECK(crm__step(st) == CRM_ROW);
	CHECK_STR(crm__column_text(st, 0), "1"); /* Alice 10; Al has 0 */
	crm__finalize(st);
	/* in memory a parameter cannot be known: its condition is false */
	memset(fields, 0, sizeof fields);
	memset(&row, 0, sizeof row);
	row.fields = fields;
	CHECK_INT(crm__filter_eval(f, form, &row), 0);
	cJSON_Delete(json);
	/* bad parameter names */
	json = cJSON_Parse("{\"field\":\"score\",\"op\":\"eq\",\"param\":\"a b\"}");
	CHECK(crm__filter_parse(db, form, json, "report.filter", 1) == NULL);
	CHECK_HAS(crm_errdetail(db), "\"path\":\"report.filter.param\"");
	cJSON_Delete(json);
	crm__filter_free(f);
	crm__binds_free(&binds);
	crm__buf_free(&sql);
	crm_close(db);
}

TEST_LIST(T(test_query__text_operators_are_exact_binary_and_case_sensitive),
	  T(test_query__null_tests_and_empty_values), T(test_query__numeric_date_and_time_operators),
	  T(test_query__enum_multi_enum_and_system_columns), T(test_query__and_or_not_nest),
	  T(test_query__sort_on_several_keys_with_ties_and_nulls), T(test_query__limit_and_offset),
	  T(test_query__keyset_paging_matches_unpaged_order_with_nulls),
	  T(test_query__token_is_bound_to_form_and_sort_and_checked),
	  T(test_query__field_selection_and_column_accessors), T(test_query__text_of_each_type_is_what_json_shows),
	  T(test_query__count_matches_the_filter),
	  T(test_query__rejects_bad_queries_with_a_path), T(test_query__in_list_of_1000_values_is_accepted),
	  T(test_query__sql_looking_names_and_values_match_nothing_and_change_nothing),
	  T(test_query__filter_eval_agrees_with_sql_on_generated_filters),
	  T(test_query__parameters_bind_through_lookup))
