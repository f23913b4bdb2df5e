/* The PostgreSQL backend's own behaviour (backend-specific: skipped, exit
 * 77, unless CRM_TEST_PG names a database and the backend is built): one
 * schema per app, placeholders, records through the engines, errors,
 * transactions, metadata changes seen by other handles, schemas isolated. */
#include "helpers.h"
#include "test.h"

#ifdef CRM_HAVE_POSTGRESQL
#include <time.h>
#include <unistd.h>

#include "backend/pg_int.h"

static const char lead_form[] = "{\"form\":\"lead\",\"fields\":["
				"{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
				"{\"name\":\"email\",\"type\":\"email\",\"unique\":true},"
				"{\"name\":\"score\",\"type\":\"integer\"},"
				"{\"name\":\"budget\",\"type\":\"decimal\",\"scale\":2}]}";

/* A schema name no other test of this run uses. */
static const char *fresh_schema(const char *prefix)
{
	static char name[64];
	static unsigned int n;

	snprintf(name, sizeof name, "%s_%ld_%u", prefix, (long)getpid(), ++n);
	return name;
}

static int open_schema(crm_db **db, const char *schema, unsigned int flags)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;

	o.schema = schema;
	o.flags = flags;
	return crm_open(db, getenv("CRM_TEST_PG"), &o);
}

/* Run SQL on a connection of its own, outside libcrm. */
static void raw_sql(const char *sql)
{
	PGconn *c = PQconnectdb(getenv("CRM_TEST_PG"));
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "raw SQL failed: %s\n", PQerrorMessage(c));
		test_failures_++;
	}
	PQclear(r);
	PQfinish(c);
}

static const char *placeholders(const char *sql)
{
	static char out[256];
	crm__buf b = CRM__BUF_INIT;
	int n;

	crm__pg_placeholders(&b, sql, strlen(sql), &n, NULL);
	snprintf(out, sizeof out, "%s|%d", crm__buf_cstr(&b), n);
	crm__buf_free(&b);
	return out;
}

TEST(test_pg__open_creates_the_schema_and_reopens_it)
{
	const char *schema = fresh_schema("open");
	crm_db *db = NULL;

	CHECK_RC(db, open_schema(&db, schema, CRM_OPEN_EXISTING), CRM_ENOTFOUND);
	crm_close(db);
	db = NULL;
	CHECK_RC(db, open_schema(&db, schema, CRM_OPEN_READONLY), CRM_ENOTFOUND);
	crm_close(db);
	db = NULL;
	CHECK_OK(db, open_schema(&db, schema, 0));
	CHECK_STR(db->be->name, "postgresql");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_state WHERE key = 'generation'"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = current_schema()"), 1);
	crm_close(db);
	db = NULL;
	CHECK_OK(db, open_schema(&db, schema, CRM_OPEN_EXISTING));
	crm_close(db);
	db = NULL;
	CHECK_OK(db, open_schema(&db, schema, CRM_OPEN_READONLY));
	CHECK_INT(db->be->readonly(db), 1);
	CHECK_RC(db, crm__exec(db, "CREATE TABLE w(a bigint)"), CRM_EPERM);
	crm_close(db);
}

TEST(test_pg__writers_run_side_by_side_and_an_apply_waits_for_them)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	const char *schema = fresh_schema("lock");
	crm_db *a = NULL, *b = NULL;

	CHECK_OK(a, open_schema(&a, schema, 0));
	o.schema = schema;
	o.busy_timeout_ms = 100;
	CHECK_OK(b, crm_open(&b, getenv("CRM_TEST_PG"), &o));
	test_apply(a, lead_form);
	CHECK_OK(a, crm_begin(a));
	CHECK_OK(a, crm_record_insert(a, "lead", "{\"name\":\"a\"}", NULL));
	/* the schema's advisory lock, shared by writers: b writes beside a */
	CHECK_OK(b, crm_record_insert(b, "lead", "{\"name\":\"b\"}", NULL));
	/* a metadata change takes it alone: b waits its busy timeout, then gives up */
	CHECK_RC(b, crm_apply(b, "{\"form\":\"other\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}"),
		 CRM_EBUSY);
	CHECK_OK(a, crm_commit(a));
	test_apply(b, "{\"form\":\"other\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}");
	CHECK_INT(test_sql_int(b, "SELECT count(*) FROM lead"), 2);
	crm_close(a);
	crm_close(b);
}

TEST(test_pg__schema_names_are_validated)
{
	crm_db *db = NULL;

	CHECK_RC(db, open_schema(&db, "Bad-Name", 0), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "invalid schema name");
	crm_close(db);
	db = NULL;
	CHECK_RC(db, open_schema(&db, "x\"; DROP SCHEMA public; --", 0), CRM_EINVAL);
	crm_close(db);
	CHECK_INT(crm__pg_valid_schema("_a1"), 1);
	CHECK_INT(crm__pg_valid_schema("1a"), 0);
	CHECK_INT(crm__pg_valid_schema("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc"), 1);
	CHECK_INT(crm__pg_valid_schema("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"), 0);
}

TEST(test_pg__a_schema_of_another_application_is_refused_unless_init)
{
	char schema[64], sql[256];
	crm_db *db = NULL;

	snprintf(schema, sizeof schema, "%s", fresh_schema("foreign")); /* fresh_schema's buffer is reused */
	snprintf(sql, sizeof sql, "CREATE SCHEMA %s; CREATE TABLE %s.orders(id int)", schema, schema);
	raw_sql(sql);
	CHECK_RC(db, open_schema(&db, schema, 0), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "not a libcrm database");
	crm_close(db);
	db = NULL;
	/* left unchanged */
	CHECK_OK(db, open_schema(&db, fresh_schema("probe"), 0));
	snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = '%s'", schema);
	CHECK_INT(test_sql_int(db, sql), 1);
	crm_close(db);
	db = NULL;
	CHECK_OK(db, open_schema(&db, schema, CRM_OPEN_INIT));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_state"), 2);
	crm_close(db);
}

TEST(test_pg__a_missing_database_is_enotfound)
{
	char url[512];
	crm_db *db = NULL;
	const char *base = getenv("CRM_TEST_PG"), *q = strchr(base, '?');

	/* postgresql://crm@/postgres?host=... -> .../no_such_db?host=... */
	snprintf(url, sizeof url, "postgresql://crm@/no_such_db%s", q ? q : "");
	CHECK_RC(db, crm_open(&db, url, NULL), CRM_ENOTFOUND);
	CHECK_HAS(crm_errmsg(db), "does not exist");
	crm_close(db);
}

TEST(test_pg__placeholders_become_numbered_outside_strings_and_comments)
{
	CHECK_STR(placeholders("SELECT ?, ?"), "SELECT $1, $2|2");
	CHECK_STR(placeholders("SELECT ?2, ?1, ?"), "SELECT $2, $1, $3|3");
	CHECK_STR(placeholders("SELECT '?', \"a?\", ? -- ?\n, ? /* ? */"), "SELECT '?', \"a?\", $1 -- ?\n, $2 /* ? */|2");
	CHECK_STR(placeholders("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1|1");
	CHECK_STR(placeholders("SELECT 1"), "SELECT 1|0");
}

TEST(test_pg__prepared_statements_bind_and_read_every_kind)
{
	crm_db *db = test_db();
	crm__stmt *st = NULL;
	const char *sql = "SELECT '?' || ?1, ?2::bigint + 1, ?3::double precision, ?1 IS NULL, ?4::boolean,"
			  " ?5::numeric(12,2), ?6::timestamptz, (?7::bigint)::numeric * 1000000000000";

	CHECK_OK(db, db->be->prepare(db, sql, strlen(sql), &st));
	if (!st) {
		crm_close(db);
		return;
	}
	CHECK_INT(crm__parameter_count(st), 7);
	CHECK_OK(db, crm__bind_text(st, 1, "x?", -1));
	CHECK_OK(db, crm__bind_int64(st, 2, INT64_C(41)));
	CHECK_OK(db, crm__bind_double(st, 3, 0.1));
	CHECK_OK(db, crm__bind_as(st, 4, CRM__NAT_BOOL, 0, 1));
	CHECK_OK(db, crm__bind_as(st, 5, CRM__NAT_DECIMAL, 2, -1230));
	CHECK_OK(db, crm__bind_as(st, 6, CRM__NAT_DATETIME, 0, INT64_C(1767323045123)));
	CHECK_OK(db, crm__bind_int64(st, 7, INT64_C(9000000000)));
	CHECK_RC(db, crm__step(st), CRM_ROW);
	CHECK_INT(crm__column_count(st), 8);
	CHECK_STR(crm__column_text(st, 0), "?x?");
	CHECK_INT(crm__column_type(st, 1), CRM__SQL_INTEGER);
	CHECK_INT(crm__column_int64(st, 1), 42);
	CHECK_INT(crm__column_type(st, 2), CRM__SQL_FLOAT);
	CHECK(crm__column_double(st, 2) == 0.1);
	CHECK_INT(crm__column_type(st, 3), CRM__SQL_INTEGER);
	CHECK_INT(crm__column_int64(st, 3), 0);
	CHECK_INT(crm__column_as(st, 4, CRM__NAT_BOOL, 0), 1);
	CHECK_STR(crm__column_text(st, 5), "-12.30");
	CHECK_INT(crm__column_type(st, 5), CRM__SQL_FLOAT);
	CHECK_INT(crm__column_as(st, 5, CRM__NAT_DECIMAL, 2), -1230);
	CHECK_STR(crm__column_text(st, 6), "2026-01-02 03:04:05.123+00");
	CHECK_INT(crm__column_as(st, 6, CRM__NAT_DATETIME, 0), INT64_C(1767323045123));
	CHECK_INT(crm__column_int64(st, 6), INT64_C(1767323045123));
	/* numeric past 64 bits: a real number */
	CHECK_INT(crm__column_type(st, 7), CRM__SQL_FLOAT);
	CHECK(crm__column_double(st, 7) == 9e21);
	CHECK_RC(db, crm__step(st), CRM_DONE);
	/* reset keeps the bindings, as SQLite's */
	crm__reset(st);
	CHECK_RC(db, crm__step(st), CRM_ROW);
	CHECK_INT(crm__column_int64(st, 1), 42);
	crm__reset(st);
	crm__clear_bindings(st);
	CHECK_RC(db, crm__step(st), CRM_ROW);
	CHECK_INT(crm__column_type(st, 0), CRM__SQL_NULL);
	CHECK(crm__column_text(st, 0) == NULL);
	CHECK_INT(crm__column_int64(st, 3), 1);
	crm__finalize(st);
	crm_close(db);
}

TEST(test_pg__a_parameter_number_left_unused_is_accepted)
{
	crm_db *db = test_db();
	crm__stmt *st = NULL;

	/* SQLite allows gaps; the server cannot infer a type for $1 */
	CHECK_OK(db, db->be->prepare(db, "SELECT ?2::bigint * 2", 21, &st));
	if (st) {
		CHECK_INT(crm__parameter_count(st), 2);
		CHECK_OK(db, crm__bind_int64(st, 2, 21));
		CHECK_RC(db, crm__step(st), CRM_ROW);
		CHECK_INT(crm__column_int64(st, 0), 42);
		crm__finalize(st);
	}
	crm_close(db);
}

TEST(test_pg__statements_are_prepared_again_after_ddl)
{
	crm_db *db = test_db();
	crm__stmt *st = NULL;

	CHECK_OK(db, crm__exec(db, "CREATE TABLE d(a bigint); INSERT INTO d VALUES (1)"));
	CHECK_OK(db, db->be->prepare(db, "SELECT * FROM d", 15, &st));
	if (!st) {
		crm_close(db);
		return;
	}
	CHECK_RC(db, crm__step(st), CRM_ROW);
	CHECK_INT(crm__column_count(st), 1);
	crm__reset(st);
	/* by this handle: prepared again before it runs, in a transaction too */
	CHECK_OK(db, crm__exec(db, "BEGIN; ALTER TABLE d ADD COLUMN b text DEFAULT 'x'"));
	CHECK_RC(db, crm__step(st), CRM_ROW);
	CHECK_INT(crm__column_count(st), 2);
	CHECK_STR(crm__column_text(st, 1), "x");
	crm__reset(st);
	db->be->rollback(db);
	/* by another connection: run again once, outside a transaction */
	{
		char sql[160];
		snprintf(sql, sizeof sql, "ALTER TABLE %s.d ADD COLUMN c bigint DEFAULT 7", PG(db)->schema);
		raw_sql(sql);
	}
	CHECK_RC(db, crm__step(st), CRM_ROW);
	CHECK_INT(crm__column_count(st), 2);
	CHECK_INT(crm__column_int64(st, 1), 7);
	crm__finalize(st);
	crm_close(db);
}

TEST(test_pg__natural_values_convert_exactly)
{
	char t[64];

	crm__pg_decimal_text(t, 5, 2);
	CHECK_STR(t, "0.05");
	crm__pg_decimal_text(t, INT64_MIN, 4);
	CHECK_STR(t, "-922337203685477.5808");
	crm__pg_decimal_text(t, 7, 0);
	CHECK_STR(t, "7");
	CHECK_INT(crm__pg_decimal_parse("0.05", 2), 5);
	CHECK_INT(crm__pg_decimal_parse("-12.3", 2), -1230);
	CHECK_INT(crm__pg_decimal_parse("12.345", 2), 1235);
	CHECK_INT(crm__pg_decimal_parse("12", 2), 1200);
	CHECK_INT(crm__pg_decimal_parse("-922337203685477.5808", 4), INT64_MIN);
	crm__pg_datetime_text(t, 0);
	CHECK_STR(t, "1970-01-01 00:00:00.000+00");
	crm__pg_datetime_text(t, -1);
	CHECK_STR(t, "1969-12-31 23:59:59.999+00");
	CHECK_INT(crm__pg_datetime_parse("1969-12-31 23:59:59.999+00"), -1);
	CHECK_INT(crm__pg_datetime_parse("2026-01-02 03:04:05+00"), INT64_C(1767323045000));
	CHECK_INT(crm__pg_datetime_parse("2026-01-02 11:04:05.5+08"), INT64_C(1767323045500));
	crm__pg_datetime_text(t, INT64_C(-62135596800000) - 86400000); /* the day before 0001-01-01 */
	CHECK_STR(t, "0001-12-31 00:00:00.000+00 BC");
	CHECK_INT(crm__pg_datetime_parse(t), INT64_C(-62135596800000) - 86400000);
}

/* The first column of the first row of `sql` as text, as any client of the
 * database reads it (static buffer; "(null)" for NULL). */
static const char *seam_text(crm_db *db, const char *sql)
{
	static char out[256];
	crm__stmt *st = NULL;

	snprintf(out, sizeof out, "(none)");
	if (db->be->prepare(db, sql, strlen(sql), &st) != CRM_OK) {
		fprintf(stderr, "bad test SQL %s: %s\n", sql, crm_errmsg(db));
		test_failures_++;
		return out;
	}
	if (crm__step(st) == CRM_ROW)
		snprintf(out, sizeof out, "%s", crm__column_text(st, 0) ? crm__column_text(st, 0) : "(null)");
	crm__finalize(st);
	return out;
}

/* Fields are stored in PostgreSQL's own exact types, so BI tools and plain
 * SQL read and compute on them as they are. */
TEST(test_pg__fields_are_stored_in_natural_types_that_plain_sql_reads)
{
	crm_db *db = test_db();
	static const char *const types[][2] = {
		{ "amount", "numeric(19,2)" }, { "rate", "numeric(19,9)" }, { "closed_at", "timestamp with time zone" },
		{ "due", "date" }, { "won", "boolean" }, { "extra", "json" }, { "tags", "text[]" },
		{ "name", "text COLLATE \"C\"" }, { "n", "bigint" }, { "score", "double precision" },
	};

	test_apply(db, "{\"form\":\"deal\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"amount\",\"type\":\"decimal\",\"scale\":2},{\"name\":\"rate\",\"type\":\"decimal\",\"scale\":9},"
		       "{\"name\":\"closed_at\",\"type\":\"datetime\"},{\"name\":\"due\",\"type\":\"date\"},"
		       "{\"name\":\"won\",\"type\":\"boolean\"},{\"name\":\"extra\",\"type\":\"json\"},"
		       "{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b,c\",\"d\\\"e\"],\"index\":true},"
		       "{\"name\":\"n\",\"type\":\"integer\"},{\"name\":\"score\",\"type\":\"number\"}]}");
	for (size_t k = 0; k < sizeof types / sizeof *types; k++)
		CHECK_STR(test_column_type(db, "deal", types[k][0]), types[k][1]);
	CHECK_INT(test_sql_int(db, "SELECT numeric_scale FROM information_schema.columns WHERE table_schema ="
				   " current_schema() AND table_name = 'deal' AND column_name = 'amount'"), 2);
	CHECK_OK(db, crm_record_insert(db, "deal",
				       "{\"amount\":\"1000.25\",\"closed_at\":\"2026-01-15T10:00:00+02:00\",\"due\":\"2026-02-01\","
				       "\"won\":true,\"extra\":{\"k\": \"v\", \"n\":[1,2]},\"tags\":[\"d\\\"e\",\"b,c\"]}",
				       NULL));
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"amount\":\"-0.05\",\"closed_at\":\"2026-03-01T00:00:00Z\",\"won\":false}",
				       NULL));
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"amount\":\"99\",\"closed_at\":\"2025-12-31T23:59:59.999Z\"}", NULL));
	/* what a BI tool would send */
	CHECK_STR(seam_text(db, "SELECT sum(amount) FROM deal WHERE closed_at >= '2026-01-01'"), "1000.20");
	CHECK_STR(seam_text(db, "SELECT closed_at FROM deal WHERE won"), "2026-01-15 08:00:00+00");
	CHECK_STR(seam_text(db, "SELECT count(*) FROM deal WHERE NOT won AND due IS NULL"), "1");
	CHECK_STR(seam_text(db, "SELECT due + 30 FROM deal WHERE won"), "2026-03-03");
	CHECK_STR(seam_text(db, "SELECT extra->>'k' FROM deal WHERE won"), "v");
	CHECK_STR(seam_text(db, "SELECT extra FROM deal WHERE won"), "{\"k\": \"v\", \"n\":[1,2]}");
	CHECK_STR(seam_text(db, "SELECT tags[2] FROM deal WHERE 'b,c' = ANY(tags)"), "d\"e");
	CHECK_STR(seam_text(db, "SELECT amount FROM crm_view_deal WHERE won"), "1000.25");
	/* the API still gives the engines' JSON */
	CHECK_HAS(test_get(db, "deal", 1), "\"amount\":1000.25,\"rate\":null,\"closed_at\":\"2026-01-15T08:00:00.000Z\","
					  "\"due\":\"2026-02-01\",\"won\":true,\"extra\":{\"k\": \"v\", \"n\":[1,2]},"
					  "\"tags\":[\"b,c\",\"d\\\"e\"]");
	crm_close(db);
}

/* Multi-values cross as text[] literals and come back as the engines'
 * JSON, with every character that means something in either. */
TEST(test_pg__text_arrays_convert_both_ways)
{
	crm__buf b = CRM__BUF_INIT;

	CHECK_INT(crm__pg_array_from_json(&b, "[\"a\",\"b,c\",\"d\\\"e\",\"f\\\\g\",\"{h}\",\"NULL\"]", 38), 0);
	CHECK_STR(b.p, "{\"a\",\"b,c\",\"d\\\"e\",\"f\\\\g\",\"{h}\",\"NULL\"}");
	crm__buf_reset(&b);
	CHECK_INT(crm__pg_array_to_json(&b, "{a,\"b,c\",\"d\\\"e\",\"f\\\\g\",\"{h}\",\"NULL\",\"x y\"}"), 0);
	CHECK_STR(b.p, "[\"a\",\"b,c\",\"d\\\"e\",\"f\\\\g\",\"{h}\",\"NULL\",\"x y\"]");
	crm__buf_reset(&b);
	CHECK_INT(crm__pg_array_to_json(&b, "{}"), 0);
	CHECK_STR(b.p, "[]");
	crm__buf_reset(&b);
	CHECK_INT(crm__pg_array_from_json(&b, "not json", 8), -1);
	CHECK_STR(b.p, "not json");
	crm__buf_free(&b);
}

TEST(test_pg__records_insert_get_update_delete)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, lead_form);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"Ann\",\"email\":\"ann@x.io\",\"score\":7,\"budget\":\"12.50\"}",
				       &id));
	CHECK_INT(id, 1);
	CHECK_HAS(test_get(db, "lead", id), "\"name\":\"Ann\"");
	CHECK_HAS(test_get(db, "lead", id), "\"budget\":12.50");
	CHECK_HAS(test_get(db, "lead", id), "\"created_at\":\"2026-01-02T03:04:05.000Z\"");
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"score\":8}", 1));
	CHECK_HAS(test_get(db, "lead", id), "\"score\":8");
	CHECK_HAS(test_get(db, "lead", id), "\"version\":2");
	CHECK_RC(db, crm_record_update(db, "lead", id, "{\"score\":9}", 1), CRM_ECONFLICT);
	CHECK_OK(db, crm_record_delete(db, "lead", id, 2));
	CHECK(test_get(db, "lead", id) == NULL);
	/* ids are never given twice */
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"Bob\"}", &id));
	CHECK_INT(id, 2);
	crm_close(db);
}

static const char *query_ids(crm_db *db, const char *query)
{
	static char out[256];
	crm_cursor *cur = NULL;
	size_t len = 0;
	int rc;

	out[0] = 0;
	if ((rc = crm_query(&cur, db, "lead", query)) != CRM_OK) {
		snprintf(out, sizeof out, "E:%s %s", crm_errstr(rc), crm_errmsg(db));
		return out;
	}
	while ((rc = crm_cursor_next(cur)) == CRM_ROW)
		len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", len ? "," : "",
					(long long)crm_cursor_int64(cur, 0));
	if (rc != CRM_DONE)
		snprintf(out, sizeof out, "E:%s %s", crm_errstr(rc), crm_errmsg(db));
	crm_cursor_free(cur);
	return out;
}

TEST(test_pg__a_query_filters_and_sorts)
{
	crm_db *db = test_db();
	static const char *const rows[] = {
		"{\"name\":\"a\",\"score\":5}", "{\"name\":\"b\",\"score\":9}", "{\"name\":\"c\",\"score\":1}",
		"{\"name\":\"d\"}",             "{\"name\":\"e\",\"score\":7}",
	};

	test_apply(db, lead_form);
	for (int i = 0; i < 5; i++)
		CHECK_OK(db, crm_record_insert(db, "lead", rows[i], NULL));
	CHECK_STR(query_ids(db, "{\"filter\":{\"field\":\"score\",\"op\":\"ge\",\"value\":5},\"sort\":[\"-score\"]}"),
		  "2,5,1");
	CHECK_STR(query_ids(db, "{\"filter\":{\"or\":[{\"field\":\"score\",\"op\":\"lt\",\"value\":5},"
				"{\"field\":\"name\",\"op\":\"in\",\"value\":[\"d\",\"e\"]}]},\"sort\":[\"name\"],\"limit\":2}"),
		  "3,4");
	crm_close(db);
}

TEST(test_pg__a_unique_violation_is_econstraint_naming_the_field)
{
	crm_db *db = test_db();
	int64_t n = -1;

	test_apply(db, lead_form);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\",\"email\":\"a@x.io\"}", NULL));
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"B\",\"email\":\"a@x.io\"}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"email\",\"code\":\"unique\"");
	CHECK_OK(db, crm_count(db, "lead", NULL, &n));
	CHECK_INT(n, 1);
	crm_close(db);
}

TEST(test_pg__sqlstates_map_to_crm_codes)
{
	crm_db *db = test_db();

	CHECK_INT(crm__pg_code("23505"), CRM_ECONSTRAINT);
	CHECK_INT(crm__pg_code("40001"), CRM_EBUSY);
	CHECK_INT(crm__pg_code("40P01"), CRM_EBUSY);
	CHECK_INT(crm__pg_code("55P03"), CRM_EBUSY);
	CHECK_INT(crm__pg_code("22003"), CRM_ELIMIT);
	CHECK_INT(crm__pg_code("53200"), CRM_ENOMEM);
	CHECK_INT(crm__pg_code("53100"), CRM_EIO);
	CHECK_INT(crm__pg_code("08006"), CRM_EIO);
	CHECK_INT(crm__pg_code("42501"), CRM_EPERM);
	CHECK_INT(crm__pg_code("42601"), CRM_ERROR);
	CHECK_RC(db, crm__exec(db, "CREATE TABLE u(x bigint UNIQUE); INSERT INTO u VALUES (1)"), CRM_OK);
	CHECK_RC(db, crm__exec(db, "INSERT INTO u VALUES (1)"), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errmsg(db), "postgresql: UNIQUE constraint failed: u.x (duplicate key value violates unique constraint");
	CHECK_RC(db, crm__exec(db, "CREATE TABLE v(a bigint, b text NOT NULL, UNIQUE (a, b)); INSERT INTO v VALUES (1, 'x')"),
		 CRM_OK);
	CHECK_RC(db, crm__exec(db, "INSERT INTO v VALUES (1, 'x')"), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errmsg(db), "postgresql: UNIQUE constraint failed: v.a, v.b (");
	CHECK_RC(db, crm__exec(db, "INSERT INTO v VALUES (2, NULL)"), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errmsg(db), "postgresql: NOT NULL constraint failed: v.b (");
	CHECK_RC(db, crm__exec(db, "SELECT 9223372036854775807::bigint + 1"), CRM_ELIMIT);
	CHECK_RC(db, crm__exec(db, "SELEC 1"), CRM_ERROR);
	CHECK_HAS(crm_errmsg(db), "postgresql: syntax error");
	crm_close(db);
}

TEST(test_pg__a_rolled_back_transaction_leaves_nothing)
{
	crm_db *db = test_db();
	int64_t n = -1;

	test_apply(db, lead_form);
	CHECK_OK(db, crm_begin(db));
	CHECK_INT(db->be->in_transaction(db), 1);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"B\"}", NULL));
	/* a failing call inside undoes only itself (a savepoint) */
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"score\":1}", NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_count(db, "lead", NULL, &n));
	CHECK_INT(n, 2);
	CHECK_OK(db, crm_rollback(db));
	CHECK_INT(db->be->in_transaction(db), 0);
	CHECK_OK(db, crm_count(db, "lead", NULL, &n));
	CHECK_INT(n, 0);
	crm_close(db);
}

/* Wait (up to 5 s) for the handle's data version to move from `from`. */
static int version_moves(crm_db *db, unsigned int from)
{
	for (int i = 0; i < 500; i++) {
		if (db->be->data_version(db) != from)
			return 1;
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	return 0;
}

TEST(test_pg__a_metadata_change_is_noticed_by_another_handle)
{
	const char *schema = fresh_schema("notify");
	crm_db *a = NULL, *b = NULL;
	unsigned int v;
	char *json = NULL;

	CHECK_OK(a, open_schema(&a, schema, 0));
	CHECK_OK(b, open_schema(&b, schema, 0));
	test_apply(a, lead_form);
	CHECK_OK(b, crm_record_insert(b, "lead", "{\"name\":\"x\"}", NULL));
	v = b->be->data_version(b);
	test_apply(a, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
		      "{\"name\":\"email\",\"type\":\"email\",\"unique\":true},{\"name\":\"score\",\"type\":\"integer\"},"
		      "{\"name\":\"budget\",\"type\":\"decimal\",\"scale\":2},{\"name\":\"city\",\"type\":\"text\"}]}");
	/* LISTEN/NOTIFY: the trigger on crm_state told b */
	CHECK(version_moves(b, v));
	CHECK_OK(b, crm_record_insert(b, "lead", "{\"name\":\"y\",\"city\":\"Oslo\"}", NULL));
	CHECK_HAS(test_get(b, "lead", 2), "\"city\":\"Oslo\"");
	CHECK_OK(b, crm_form_get(b, "lead", &json));
	CHECK_HAS(json, "city");
	crm_free(json);
	/* inside a transaction b sees the change at its BEGIN, notification or
	 * not (inside its own transaction b reads no notification: BEGIN's
	 * read of the generation is what tells it) */
	CHECK_OK(b, crm_begin(b));
	CHECK_OK(b, crm_rollback(b));
	test_apply(a, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
		      "{\"name\":\"email\",\"type\":\"email\",\"unique\":true},{\"name\":\"score\",\"type\":\"integer\"},"
		      "{\"name\":\"budget\",\"type\":\"decimal\",\"scale\":2},{\"name\":\"city\",\"type\":\"text\"},"
		      "{\"name\":\"zip\",\"type\":\"text\"}]}");
	CHECK_OK(b, crm_begin(b));
	CHECK_OK(b, crm_record_insert(b, "lead", "{\"name\":\"z\",\"zip\":\"0150\"}", NULL));
	CHECK_OK(b, crm_commit(b));
	CHECK_HAS(test_get(b, "lead", 3), "\"zip\":\"0150\"");
	crm_close(a);
	crm_close(b);
}

TEST(test_pg__two_schemas_do_not_see_each_other)
{
	crm_db *a = test_db(), *b = test_db();
	char *json = NULL;
	int64_t n = -1;

	test_apply(a, lead_form);
	CHECK_OK(a, crm_record_insert(a, "lead", "{\"name\":\"only in a\"}", NULL));
	CHECK_RC(b, crm_form_get(b, "lead", &json), CRM_ENOTFOUND);
	CHECK_RC(b, crm_count(b, "lead", NULL, &n), CRM_ENOTFOUND);
	test_apply(b, lead_form);
	CHECK_OK(b, crm_count(b, "lead", NULL, &n));
	CHECK_INT(n, 0);
	CHECK_OK(a, crm_count(a, "lead", NULL, &n));
	CHECK_INT(n, 1);
	crm_close(a);
	crm_close(b);
}

TEST(test_pg__a_statement_finalized_in_a_failed_transaction_is_deallocated_after_it)
{
	crm_db *db = test_db();
	crm__stmt *st = NULL;
	char sql[160];

	CHECK_OK(db, db->be->prepare(db, "SELECT 1", 8, &st));
	snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_catalog.pg_prepared_statements WHERE name = 'crm_%u'",
		 PG(db)->next_name);
	CHECK_INT(test_sql_int(db, sql), 1);
	CHECK_RC(db, crm__exec(db, "BEGIN; SELECT 1 / 0"), CRM_ERROR); /* the transaction is aborted */
	crm__finalize(st);                                        /* DEALLOCATE would be refused now */
	CHECK(PG(db)->ndead >= 1);
	db->be->rollback(db);
	CHECK_INT(PG(db)->ndead, 0);
	CHECK_INT(test_sql_int(db, sql), 0);
	crm_close(db);
}

/* Bytes the process holds on the heap, libpq's included. */
#if defined(__SANITIZE_ADDRESS__)
/* The sanitizer runtime's (its header is not always installed). */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_bytes(void) { return __sanitizer_get_current_allocated_bytes(); }
#else
#include <malloc.h>
static size_t heap_bytes(void) { return mallinfo2().uordblks; }
#endif

/* `n` records of form doc, each with a body of 1000 bytes, written behind
 * libcrm's back (fast). */
static crm_db *doc_db(int n)
{
	crm_db *db = test_db();
	char sql[256];

	test_apply(db, "{\"form\":\"doc\",\"fields\":[{\"name\":\"body\",\"type\":\"long_text\"}]}");
	snprintf(sql, sizeof sql,
		 "INSERT INTO %s.doc(body, created_at, updated_at) SELECT repeat('x', 1000) || i, 0, 0"
		 " FROM generate_series(1, %d) AS i",
		 PG(db)->schema, n);
	raw_sql(sql);
	return db;
}

/* 20 MB of rows through a cursor: the heap never holds more than a few of
 * them (they arrive one at a time), and every row comes, in order. */
TEST(test_pg__a_cursor_over_many_rows_holds_few_of_them)
{
	crm_db *db = doc_db(20000);
	crm_cursor *cur = NULL;
	size_t base, peak = 0;
	int64_t n = 0, last = 0;
	int rc, ordered = 1;

	base = heap_bytes();
	CHECK_OK(db, crm_query(&cur, db, "doc", "{\"sort\":[\"id\"]}"));
	while ((rc = crm_cursor_next(cur)) == CRM_ROW) {
		size_t now = heap_bytes();
		peak = now > peak ? now : peak;
		ordered &= crm_cursor_int64(cur, 0) > last;
		last = crm_cursor_int64(cur, 0);
		n++;
	}
	CHECK_INT(rc, CRM_DONE);
	CHECK_INT(n, 20000);
	CHECK(ordered);
	if (peak > base + 4 * 1024 * 1024) {
		fprintf(stderr, "a cursor over 20 MB grew the heap by %zu bytes\n", peak - base);
		test_failures_++;
	}
	crm_cursor_free(cur);
	crm_close(db);
}

/* Statements run while a cursor is part way (a read, a write, a report of
 * the same form) do not lose or repeat its rows. */
TEST(test_pg__statements_run_inside_a_cursor_leave_its_rows_whole)
{
	crm_db *db = doc_db(3000);
	crm_cursor *cur = NULL, *inner = NULL;
	int64_t n = 0, last = 0, id = 0, count = 0;
	int rc, ordered = 1;

	CHECK_OK(db, crm_query(&cur, db, "doc", "{\"sort\":[\"id\"]}"));
	while ((rc = crm_cursor_next(cur)) == CRM_ROW) {
		const char *body = crm_cursor_text(cur, 1);
		ordered &= crm_cursor_int64(cur, 0) > last;
		last = crm_cursor_int64(cur, 0);
		if (++n == 10) {
			CHECK(test_get(db, "doc", 5) != NULL);
			CHECK_OK(db, crm_record_insert(db, "doc", "{\"body\":\"new\"}", &id));
			CHECK_OK(db, crm_count(db, "doc", NULL, &count));
			CHECK_INT(count, 3001);
			CHECK_OK(db, crm_query(&inner, db, "doc", NULL));
			CHECK_INT(crm_cursor_next(inner), CRM_ROW);
			crm_cursor_free(inner);
		}
		/* The current row's text stays as it was across them. */
		CHECK(body && strncmp(body, "xxxx", 4) == 0 && crm_cursor_text(cur, 1) == body);
	}
	CHECK_INT(rc, CRM_DONE);
	CHECK(n == 3000 || n == 3001); /* the new record may come last, or not */
	CHECK(ordered);
	crm_cursor_free(cur);
	crm_close(db);
}

/* A cursor freed part way leaves the connection clean for what follows. */
TEST(test_pg__a_cursor_freed_part_way_leaves_the_connection_usable)
{
	crm_db *db = doc_db(3000);
	crm_cursor *cur = NULL;
	int64_t count = 0;

	CHECK_OK(db, crm_query(&cur, db, "doc", NULL));
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	crm_cursor_free(cur);
	CHECK_OK(db, crm_record_insert(db, "doc", "{\"body\":\"after\"}", NULL));
	CHECK_OK(db, crm_count(db, "doc", NULL, &count));
	CHECK_INT(count, 3001);
	crm_close(db);
}

/* A transition whose action sets a field (bench_pg's workflow) waits for
 * three round trips: BEGIN with its advisory lock and generation read; its
 * record's read, holding it, with the read of the record's instances,
 * holding them; the record's update, the instance's, the history row, the
 * crm.transition event (whose INSERT takes the events lock) and COMMIT:
 * ten statements, each prepared once per session, none parsed again. The
 * record as the update wrote it is kept, not read again. bench_pg's raw
 * libpq transition takes 7 round trips. The audit trail adds one: the
 * chain's head, read under its lock before the COMMIT (docs/audit.md); its
 * entries go with the COMMIT. */
static const char transition_flow[] =
	"{\"workflow\":\"p\",\"form\":\"deal\",\"start_on\":\"create\",\"initial\":\"s0\","
	"\"states\":{\"s0\":{},\"s1\":{},\"s2\":{\"final\":true}},\"transitions\":["
	"{\"from\":\"s0\",\"event\":\"go\",\"to\":\"s1\",\"guard\":\"record.score >= 10\","
	"\"actions\":[{\"set\":{\"step\":1}}]},"
	"{\"from\":\"s1\",\"event\":\"go\",\"to\":\"s2\",\"guard\":\"record.score >= 10\","
	"\"actions\":[{\"set\":{\"step\":2}}]}]}";

/* What the second of two transitions cost, on a deal form whose options
 * are `options` (JSON members, may be empty): round trips waited for,
 * statements run, and those of them the server parsed. */
typedef struct transition_cost {
	unsigned long round_trips, sent, parsed;
} transition_cost;

static transition_cost transition_costs(const char *options)
{
	crm_db *db = test_db();
	transition_cost before, n;
	int64_t id = 0;
	char meta[1024];

	snprintf(meta, sizeof meta,
		 "[{\"form\":\"deal\",%s\"fields\":[{\"name\":\"score\",\"type\":\"integer\"},"
		 "{\"name\":\"step\",\"type\":\"integer\"}]},%s]",
		 options, transition_flow);
	test_apply(db, meta);
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"score\":50}", &id));
	CHECK_OK(db, crm_workflow_fire(db, "deal", id, "go", NULL)); /* prepares the statements */
	before = (transition_cost){ PG(db)->round_trips, PG(db)->sent, PG(db)->parsed };
	CHECK_OK(db, crm_workflow_fire(db, "deal", id, "go", NULL));
	n = (transition_cost){ PG(db)->round_trips - before.round_trips, PG(db)->sent - before.sent,
			       PG(db)->parsed - before.parsed };
	CHECK_HAS(test_get(db, "deal", id), "\"step\":2");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_history"), 3);
	crm_close(db);
	return n;
}

TEST(test_pg__a_transition_waits_for_three_round_trips_four_with_the_audit_trail)
{
	transition_cost audited = transition_costs(""), plain = transition_costs("\"audit\":false,\"events\":false,");

	if (audited.round_trips > 4 || plain.round_trips > 3) {
		fprintf(stderr, "a transition waited for %lu round trips (%lu with the audit trail)\n", plain.round_trips,
			audited.round_trips);
		test_failures_++;
	}
	if (plain.sent > 10 || plain.parsed || audited.parsed) {
		fprintf(stderr, "a transition ran %lu statements, %lu of them parsed (%lu with the audit trail)\n",
			plain.sent, plain.parsed, audited.parsed);
		test_failures_++;
	}
}

/* An append's first INSERT takes the events lock itself (no statement of
 * its own) and holds it to the commit: another handle's append waits for
 * it (here past its busy timeout), so ids commit in their order. */
TEST(test_pg__an_append_holds_the_events_lock_that_its_insert_took_until_its_commit)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	const char *schema = fresh_schema("evlock");
	crm_db *a = NULL, *b = NULL;
	int64_t first = 0, second = 0;
	char *json = NULL, sql[256];

	CHECK_OK(a, open_schema(&a, schema, 0));
	o.schema = schema;
	o.busy_timeout_ms = 100;
	CHECK_OK(b, crm_open(&b, getenv("CRM_TEST_PG"), &o));
	test_apply(a, "{\"form\":\"note\",\"audit\":false,\"fields\":[{\"name\":\"text\",\"type\":\"text\"}]}");
	CHECK_OK(a, crm_begin(a));
	CHECK_OK(a, crm_record_insert(a, "note", "{\"text\":\"a\"}", &first));
	CHECK_OK(a, crm_event_list(a, 0, 10, &json)); /* appends a's event, inside its transaction */
	CHECK_HAS(json, "crm.create");
	crm_free(json);
	CHECK_RC(b, crm_record_insert(b, "note", "{\"text\":\"b\"}", NULL), CRM_EBUSY);
	CHECK_OK(a, crm_commit(a));
	CHECK_OK(b, crm_record_insert(b, "note", "{\"text\":\"b\"}", &second));
	CHECK_INT(test_sql_int(b, "SELECT count(*) FROM note"), 2);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM crm_event WHERE type = 'crm.create' AND record = %lld AND id <"
		 " (SELECT id FROM crm_event WHERE record = %lld)", (long long)first, (long long)second);
	CHECK_INT(test_sql_int(b, sql), 1);
	crm_close(a);
	crm_close(b);
}

/* The record's read goes ahead of the instances' read, in its round trip:
 * when it cannot have the record (another writer holds it past the busy
 * timeout), the transition fails with it and changes nothing; once the
 * record is free it goes through. */
TEST(test_pg__a_transition_that_cannot_hold_its_record_fails_whole)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	const char *schema = fresh_schema("held");
	crm_db *a = NULL, *b = NULL;
	char meta[1024];
	int64_t id = 0;

	CHECK_OK(a, open_schema(&a, schema, 0));
	o.schema = schema;
	o.busy_timeout_ms = 100;
	CHECK_OK(b, crm_open(&b, getenv("CRM_TEST_PG"), &o));
	snprintf(meta, sizeof meta,
		 "[{\"form\":\"deal\",\"fields\":[{\"name\":\"score\",\"type\":\"integer\"},"
		 "{\"name\":\"step\",\"type\":\"integer\"}]},%s]",
		 transition_flow);
	test_apply(a, meta);
	CHECK_OK(a, crm_record_insert(a, "deal", "{\"score\":50}", &id));
	CHECK_OK(a, crm_begin(a));
	CHECK_OK(a, crm_record_update(a, "deal", id, "{\"score\":60}", 0));
	CHECK_RC(b, crm_workflow_fire(b, "deal", id, "go", NULL), CRM_EBUSY);
	CHECK_OK(b, crm_record_insert(b, "deal", "{\"score\":1}", NULL)); /* b goes on */
	CHECK_OK(a, crm_commit(a));
	CHECK_INT(test_sql_int(b, "SELECT count(*) FROM crm_wf_history"), 2); /* the two starts */
	CHECK_OK(b, crm_workflow_fire(b, "deal", id, "go", NULL));
	CHECK_HAS(test_get(b, "deal", id), "\"score\":60");
	CHECK_HAS(test_get(b, "deal", id), "\"step\":1");
	crm_close(a);
	crm_close(b);
}

/* An update of a form without unique keys waits for no outcome: it goes
 * with the COMMIT (BEGIN, the locked read of the record, the audit chain's
 * head, COMMIT); one that
 * fails (here a trigger refuses it) fails its own call, inside a host
 * transaction too, and undoes that call alone. */
TEST(test_pg__an_update_without_unique_keys_rides_with_the_commit)
{
	crm_db *db = test_db();
	unsigned long before;
	int64_t id = 0;
	char sql[512];

	test_apply(db, "{\"form\":\"deal\",\"fields\":[{\"name\":\"score\",\"type\":\"integer\"}]}");
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"score\":1}", &id));
	CHECK_OK(db, crm_record_update(db, "deal", id, "{\"score\":2}", 0)); /* prepares the statements */
	before = PG(db)->round_trips;
	CHECK_OK(db, crm_record_update(db, "deal", id, "{\"score\":3}", 0));
	if (PG(db)->round_trips - before > 4) {
		fprintf(stderr, "an update waited for %lu round trips\n", PG(db)->round_trips - before);
		test_failures_++;
	}
	CHECK_HAS(test_get(db, "deal", id), "\"score\":3");
	snprintf(sql, sizeof sql,
		 "CREATE FUNCTION %s.no13() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE 'thirteen'; END$$;"
		 "CREATE TRIGGER no13 BEFORE UPDATE ON %s.deal FOR EACH ROW WHEN (NEW.score = 13)"
		 " EXECUTE FUNCTION %s.no13()",
		 PG(db)->schema, PG(db)->schema, PG(db)->schema);
	raw_sql(sql);
	CHECK(crm_record_update(db, "deal", id, "{\"score\":13}", 0) != CRM_OK);
	CHECK_HAS(crm_errmsg(db), "thirteen");
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"score\":4}", NULL));
	CHECK(crm_record_update(db, "deal", id, "{\"score\":13}", 0) != CRM_OK);
	CHECK_HAS(crm_errmsg(db), "thirteen");
	CHECK_OK(db, crm_record_update(db, "deal", id, "{\"score\":5}", 0));
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal"), 2);
	CHECK_HAS(test_get(db, "deal", id), "\"score\":5");
	crm_close(db);
}

/* 3000 rows of a batch go in pipeline mode, with their audit entries and
 * events: a few round trips in all (16 without the audit trail, 25 with
 * it, 28 with its events too). */
TEST(test_pg__a_batch_of_thousands_of_rows_waits_for_a_few_round_trips)
{
	crm_db *db = test_db();
	unsigned long before;

	test_apply(db, lead_form);
	before = PG(db)->round_trips;
	CHECK_OK(db, test_batch_numbered(db, "lead", 3000, "{\"name\":\"n%d\",\"email\":\"e%d@x.io\"}"));
	if (PG(db)->round_trips - before > 30) {
		fprintf(stderr, "3000 batch rows waited for %lu round trips\n", PG(db)->round_trips - before);
		test_failures_++;
	}
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead"), 3000);
	crm_close(db);
}

/* A queued write that fails (here the history row of event "boom", which a
 * trigger refuses) fails the call that queued it, inside a host transaction
 * too, and undoes that call alone. */
TEST(test_pg__a_queued_write_that_fails_fails_its_own_call)
{
	crm_db *db = test_db();
	int64_t id = 0;
	char sql[512];

	test_apply(db, "[{\"form\":\"deal\",\"fields\":[{\"name\":\"score\",\"type\":\"integer\"}]},"
		       "{\"workflow\":\"p\",\"form\":\"deal\",\"start_on\":\"create\",\"initial\":\"s0\","
		       "\"states\":{\"s0\":{},\"s1\":{}},\"transitions\":["
		       "{\"from\":\"s0\",\"event\":\"boom\",\"to\":\"s1\"},{\"from\":\"s0\",\"event\":\"go\",\"to\":\"s1\"}]}]");
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"score\":1}", &id));
	snprintf(sql, sizeof sql,
		 "CREATE FUNCTION %s.boom() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE 'boom'; END$$;"
		 "CREATE TRIGGER boom BEFORE INSERT ON %s.crm_wf_history FOR EACH ROW WHEN (NEW.event = 'boom')"
		 " EXECUTE FUNCTION %s.boom()",
		 PG(db)->schema, PG(db)->schema, PG(db)->schema);
	raw_sql(sql);
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"score\":2}", NULL));
	CHECK(crm_workflow_fire(db, "deal", id, "boom", NULL) != CRM_OK);
	CHECK_HAS(crm_errmsg(db), "boom");
	/* The host's transaction goes on: the earlier insert stays, the transition does not. */
	CHECK_OK(db, crm_workflow_fire(db, "deal", id, "go", NULL));
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal"), 2);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_history WHERE event = 'go'"), 1);
	CHECK(crm_workflow_fire(db, "deal", id, "boom", NULL) != CRM_OK); /* in s1 now: not allowed */
	crm_close(db);
}

int test_failures_;
static const struct test_case cases[] = {T(test_pg__open_creates_the_schema_and_reopens_it), T(test_pg__schema_names_are_validated),
	  T(test_pg__writers_run_side_by_side_and_an_apply_waits_for_them),
	  T(test_pg__a_schema_of_another_application_is_refused_unless_init), T(test_pg__a_missing_database_is_enotfound),
	  T(test_pg__placeholders_become_numbered_outside_strings_and_comments),
	  T(test_pg__prepared_statements_bind_and_read_every_kind), T(test_pg__a_parameter_number_left_unused_is_accepted),
	  T(test_pg__statements_are_prepared_again_after_ddl), T(test_pg__natural_values_convert_exactly),
	  T(test_pg__fields_are_stored_in_natural_types_that_plain_sql_reads), T(test_pg__text_arrays_convert_both_ways),
	  T(test_pg__records_insert_get_update_delete), T(test_pg__a_query_filters_and_sorts),
	  T(test_pg__a_unique_violation_is_econstraint_naming_the_field), T(test_pg__sqlstates_map_to_crm_codes),
	  T(test_pg__a_rolled_back_transaction_leaves_nothing), T(test_pg__a_metadata_change_is_noticed_by_another_handle),
	  T(test_pg__two_schemas_do_not_see_each_other), T(test_pg__a_statement_finalized_in_a_failed_transaction_is_deallocated_after_it),
	  T(test_pg__a_cursor_over_many_rows_holds_few_of_them),
	  T(test_pg__statements_run_inside_a_cursor_leave_its_rows_whole),
	  T(test_pg__a_cursor_freed_part_way_leaves_the_connection_usable),
	  T(test_pg__a_transition_waits_for_three_round_trips_four_with_the_audit_trail),
	  T(test_pg__an_append_holds_the_events_lock_that_its_insert_took_until_its_commit),
	  T(test_pg__a_transition_that_cannot_hold_its_record_fails_whole),
	  T(test_pg__an_update_without_unique_keys_rides_with_the_commit),
	  T(test_pg__a_batch_of_thousands_of_rows_waits_for_a_few_round_trips),
	  T(test_pg__a_queued_write_that_fails_fails_its_own_call)};

int main(int argc, char **argv)
{
	const char *url = getenv("CRM_TEST_PG");

	if (!url || !*url) {
		printf("skipped: CRM_TEST_PG is not set\n");
		return 77;
	}
	return test_main_(cases, sizeof cases / sizeof *cases, argc, argv);
}
#else
int test_failures_;
int main(void)
{
	printf("skipped: built without PostgreSQL\n");
	return 77;
}
#endif
