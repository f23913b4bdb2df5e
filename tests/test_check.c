/* The database read by ordinary SQL tools: one read-only view per form
 * with human values, kept through migrations; and crm_form_check finding
 * drift from raw SQL writes without changing anything. On SQLite and on
 * PostgreSQL; where the SQL must differ, each says why. */
#include <sqlite3.h>

#include "backend/sqlite_int.h"
#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

static const char forms[] =
	"[{\"form\":\"account\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"deals\",\"type\":\"rollup\",\"form\":\"deal\",\"ref\":\"account\",\"agg\":\"count\"}]},"
	"{\"form\":\"deal\",\"fields\":[{\"name\":\"title\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"amount\",\"type\":\"decimal\",\"scale\":2},"
	"{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"open\",\"won\",\"lost\"]},"
	"{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"vip\",\"new\"]},"
	"{\"name\":\"close_at\",\"type\":\"datetime\"},"
	"{\"name\":\"due\",\"type\":\"date\"},"
	"{\"name\":\"score\",\"type\":\"integer\",\"min\":0,\"max\":100},"
	"{\"name\":\"code\",\"type\":\"text\",\"pattern\":\"^D-[0-9]+$\"},"
	"{\"name\":\"account\",\"type\":\"ref\",\"form\":\"account\"},"
	"{\"name\":\"label\",\"type\":\"computed\",\"lua\":\"return record.title .. '!'\"}]}]";

/* The first column of the first row of `sql` as text (static buffer), or NULL. */
static const char *sql_text(crm_db *db, const char *sql)
{
	static char text[512];
	crm__stmt *st;
	const char *v = NULL;

	if (db->be->prepare(db, sql, strlen(sql), &st) != CRM_OK) {
		fprintf(stderr, "bad test SQL %s: %s\n", sql, crm_errmsg(db));
		test_failures_++;
		return NULL;
	}
	if (crm__step(st) == CRM_ROW && crm__column_type(st, 0) != CRM__SQL_NULL) {
		snprintf(text, sizeof text, "%s", crm__column_text(st, 0));
		v = text;
	}
	crm__finalize(st);
	return v;
}

static crm_db *fixture(int64_t *deal)
{
	crm_db *db = test_db();
	int64_t account = 0;

	test_apply(db, forms);
	CHECK_OK(db, crm_record_insert(db, "account", "{\"name\":\"Acme\"}", &account));
	CHECK_OK(db, crm_record_insert(db, "deal",
				       "{\"title\":\"Big\",\"amount\":\"12000.50\",\"stage\":\"open\",\"tags\":[\"vip\"],"
				       "\"close_at\":\"2026-03-04T05:06:07.089Z\",\"due\":\"2026-03-31\",\"score\":7,"
				       "\"code\":\"D-1\",\"account\":1}",
				       deal));
	return db;
}

TEST(test_view__shows_human_values_for_every_type)
{
	int64_t deal;
	crm_db *db = fixture(&deal);

	/* a number (each backend prints numbers its own way) */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_view_deal WHERE amount = 12000.5"), 1);
	/* The table keeps the exact value in the backend's own representation
	 * (docs/storage.md): SQLite's is the scaled integer, which its view
	 * shows as a real number and its datetimes as ISO text; PostgreSQL's
	 * natural columns are the human values already. */
	if (test_on_sqlite(db)) {
		CHECK_STR(test_storage_class(db, "crm_view_deal", "amount"), "real");
		CHECK_STR(sql_text(db, "SELECT amount FROM deal"), "1200050");
		CHECK_STR(sql_text(db, "SELECT close_at FROM crm_view_deal"), "2026-03-04T05:06:07.089Z");
	} else {
		CHECK_STR(test_column_type(db, "crm_view_deal", "amount"), "numeric(19,2)");
		CHECK_STR(sql_text(db, "SELECT close_at FROM crm_view_deal"), "2026-03-04 05:06:07.089+00");
	}
	/* a text[] reaches the engines as the JSON array SQLite stores */
	CHECK_STR(sql_text(db, "SELECT tags FROM crm_view_deal"), "[\"vip\"]");
	CHECK_STR(sql_text(db, "SELECT created_at FROM crm_view_deal"), "2026-01-02T03:04:05.000Z");
	CHECK_STR(sql_text(db, "SELECT due FROM crm_view_deal"), "2026-03-31");
	CHECK_STR(sql_text(db, "SELECT stage || ' ' || label FROM crm_view_deal"), "open Big!");
	CHECK_STR(sql_text(db, "SELECT deals FROM crm_view_account"), "1");
	CHECK_STR(test_columns_of(db, "crm_view_deal"),
		  "id,title,amount,stage,tags,close_at,due,score,code,account,label,created_at,updated_at,owner,version");
	crm_close(db);
}

TEST(test_view__is_read_only)
{
	int64_t deal;
	crm_db *db = fixture(&deal);

	char *before = test_rows(db, "SELECT * FROM deal ORDER BY id"), *after;

	CHECK(crm__exec(db, "INSERT INTO crm_view_deal(title) VALUES('x')") != CRM_OK);
	CHECK_HAS(crm_errmsg(db), "crm_view_deal");
	CHECK(crm__exec(db, "UPDATE crm_view_deal SET title = 'x'") != CRM_OK);
	CHECK(crm__exec(db, "DELETE FROM crm_view_deal") != CRM_OK);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal WHERE title = 'x'"), 0);
	after = test_rows(db, "SELECT * FROM deal ORDER BY id");
	CHECK_STR(after, before);
	free(before);
	free(after);
	crm_close(db);
}

TEST(test_view__follows_every_migration)
{
	int64_t deal;
	crm_db *db = fixture(&deal);
	char *def = NULL;

	/* Rename amount (by its stable id), drop code (and its value), retype score, add a field. */
	CHECK_OK(db, crm_form_get(db, "deal", &def));
	crm_free(def);
	test_apply_lossy(db, "{\"form\":\"deal\",\"fields\":[{\"name\":\"title\",\"type\":\"text\",\"required\":true},"
		       "{\"name\":\"value\",\"id\":\"amount\",\"type\":\"decimal\",\"scale\":3},"
		       "{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"open\",\"won\",\"lost\"]},"
		       "{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"vip\",\"new\"]},"
		       "{\"name\":\"close_at\",\"type\":\"datetime\"},{\"name\":\"due\",\"type\":\"date\"},"
		       "{\"name\":\"score\",\"type\":\"number\"},"
		       "{\"name\":\"account\",\"type\":\"ref\",\"form\":\"account\"},"
		       "{\"name\":\"label\",\"type\":\"computed\",\"lua\":\"return record.title .. '!'\"},"
		       "{\"name\":\"region\",\"type\":\"text\",\"default\":\"east\"}]}");
	CHECK_STR(test_columns_of(db, "crm_view_deal"),
		  "id,title,value,stage,tags,close_at,due,score,account,label,region,created_at,updated_at,owner,version");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_view_deal WHERE value = 12000.5 AND score = 7 AND region = 'east'"),
		  1);
	CHECK_STR(test_storage_class(db, "crm_view_deal", "score"), "real"); /* a number now */
	CHECK_INT(test_view_count(db), 2);
	crm_close(db);
}

TEST(test_view__made_for_a_database_from_before_views_on_next_apply)
{
	int64_t deal;
	crm_db *db = fixture(&deal);

	CHECK_INT(crm__exec(db, "DROP VIEW crm_view_deal"), CRM_OK);
	test_apply(db, forms); /* unchanged definitions */
	CHECK_STR(sql_text(db, "SELECT title FROM crm_view_deal"), "Big");
	crm_close(db);
}

TEST(test_check__clean_database_has_no_problems)
{
	int64_t deal;
	crm_db *db = fixture(&deal);
	char *out = NULL;

	CHECK_OK(db, crm_form_check(db, NULL, &out));
	CHECK_STR(out, "{\"forms\":2,\"records\":2,\"problems\":0,\"truncated\":false,\"found\":[]}");
	crm_free(out);
	crm_close(db);
}

TEST(test_check__finds_drift_from_raw_sql_and_changes_nothing)
{
	int64_t deal;
	crm_db *db = fixture(&deal);
	char *out = NULL, *before, *after;
	int64_t changes = 0;

	/* A text in an integer column: SQLite keeps what it is given; a
	 * PostgreSQL column refuses it until someone changes its type (and
	 * drops the view that reads it), that backend's way to the same drift. */
	if (!test_on_sqlite(db))
		CHECK_OK(db, crm__exec(db, "DROP VIEW crm_view_deal; ALTER TABLE deal ALTER COLUMN score TYPE text"));
	/* What a BI tool or a hand-written script might do behind libcrm's back. */
	CHECK_INT(crm__exec(db, test_on_sqlite(db) ? "UPDATE deal SET tags = '[\"vip\",\"gold\"]'"
						      : "UPDATE deal SET tags = '{vip,gold}'"),
		  CRM_OK);
	CHECK_INT(crm__exec(db,
			       "UPDATE deal SET stage = 'maybe', score = 'high', code = 'X-9', account = 42, label = 'old';"
			       "INSERT INTO deal(title, amount, created_at, updated_at) VALUES(NULL, 5, 0, 0);"),
		  CRM_OK);
	if (test_on_sqlite(db))
		changes = sqlite3_total_changes(LITE_CONN(db)->h);
	before = test_rows(db, "SELECT * FROM deal ORDER BY id");
	CHECK_OK(db, crm_form_check(db, "deal", &out));
	CHECK_HAS(out, "\"forms\":1,\"records\":2,");
	CHECK_HAS(out, "{\"field\":\"score\",\"code\":\"type\",\"message\":\"stored as text, not integer\"}");
	CHECK_HAS(out, "{\"field\":\"stage\",\"code\":\"option\",\"message\":\"'maybe' is not an option of stage\"}");
	CHECK_HAS(out, "{\"field\":\"tags\",\"code\":\"option\",\"message\":\"'gold' is not an option of tags\"}");
	CHECK_HAS(out, "{\"field\":\"code\",\"code\":\"pattern\"");
	CHECK_HAS(out, "{\"field\":\"account\",\"code\":\"ref\"");
	CHECK_HAS(out, "{\"field\":\"label\",\"code\":\"stale\"");
	/* The raw insert has no title, so its label's expression fails on it. */
	CHECK_HAS(out, "{\"form\":\"deal\",\"record\":2,\"errors\":[{\"field\":\"title\",\"code\":\"required\","
		       "\"message\":\"title is required\"},{\"field\":\"\",\"code\":\"script\",\"message\":\"deal.label:1:");
	CHECK_HAS(out, "\"problems\":8,");
	crm_free(out);
	/* The deal left account 1: its rollup is stale now. */
	CHECK_OK(db, crm_form_check(db, "account", &out));
	CHECK_HAS(out, "\"problems\":1,");
	CHECK_HAS(out, "{\"form\":\"account\",\"record\":1,\"errors\":[{\"field\":\"deals\",\"code\":\"stale\"");
	crm_free(out);
	if (test_on_sqlite(db))
		CHECK_INT(sqlite3_total_changes(LITE_CONN(db)->h), changes);
	after = test_rows(db, "SELECT * FROM deal ORDER BY id");
	CHECK_STR(after, before);
	free(before);
	free(after);
	CHECK_STR(sql_text(db, "SELECT label FROM deal WHERE id = 1"), "old");
	crm_close(db);
}

TEST(test_check__refuses_unknown_form_and_misuse)
{
	crm_db *db = test_db();
	char *out = NULL;

	CHECK_RC(db, crm_form_check(db, "nope", &out), CRM_ENOTFOUND);
	CHECK(out == NULL);
	CHECK_RC(db, crm_form_check(db, "x'; DROP TABLE crm_meta; --", &out), CRM_ENOTFOUND);
	CHECK_INT(crm_form_check(NULL, NULL, &out), CRM_EMISUSE);
	CHECK_INT(crm_form_check(db, NULL, NULL), CRM_EMISUSE);
	CHECK_OK(db, crm_form_check(db, NULL, &out));
	CHECK_STR(out, "{\"forms\":0,\"records\":0,\"problems\":0,\"truncated\":false,\"found\":[]}");
	crm_free(out);
	crm_close(db);
}

TEST_LIST(T(test_view__shows_human_values_for_every_type), T(test_view__is_read_only),
	  T(test_view__follows_every_migration), T(test_view__made_for_a_database_from_before_views_on_next_apply),
	  T(test_check__clean_database_has_no_problems),
	  T(test_check__finds_drift_from_raw_sql_and_changes_nothing),
	  T(test_check__refuses_unknown_form_and_misuse))
