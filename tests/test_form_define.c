/* Form definitions through the public API (docs/metadata.md is the
 * contract): every field type defined and round-tripped, every kind of bad
 * definition refused with CRM_EINVAL, a clear message and the path of the
 * member at fault, without changing anything; idempotent re-application,
 * versioning, name clashes with existing tables and metadata freshness
 * across two handles on one file. */
#include "test.h"

#include <cJSON.h>
#include <unistd.h>

#include "core/db_int.h"
#include "helpers.h"

/* ---- helpers ---- */

/* A string member of the last error's detail (static copy), or NULL. */
static const char *detail_str(crm_db *db, const char *key)
{
	static char out[1024];
	cJSON *d = cJSON_Parse(crm_errdetail(db));
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, key));
	const char *r = NULL;

	if (s) {
		snprintf(out, sizeof out, "%s", s);
		r = out;
	}
	cJSON_Delete(d);
	return r;
}

/* What a failing apply must leave untouched: the catalogue and the schema. */
typedef struct snapshot {
	char *forms;
	int64_t objects;
	int64_t meta_rows;
} snapshot;

static void snap(crm_db *db, snapshot *s)
{
	s->forms = NULL;
	if (crm_form_list(db, &s->forms) != CRM_OK) {
		fprintf(stderr, "crm_form_list failed: %s\n", crm_errdetail(db));
		test_failures_++;
	}
	s->objects = test_object_count(db);
	s->meta_rows = test_sql_int(db, "SELECT count(*) FROM crm_meta");
}

static void check_unchanged(crm_db *db, snapshot *before, int line)
{
	snapshot after;

	snap(db, &after);
	if (!before->forms || !after.forms || strcmp(before->forms, after.forms) != 0) {
		fprintf(stderr, "%s:%d: form list changed: %s -> %s\n", __FILE__, line, before->forms ? before->forms : "?",
			after.forms ? after.forms : "?");
		test_failures_++;
	}
	if (before->objects != after.objects || before->meta_rows != after.meta_rows) {
		fprintf(stderr, "%s:%d: schema changed: %lld objects/%lld meta rows -> %lld/%lld\n", __FILE__, line,
			(long long)before->objects, (long long)before->meta_rows, (long long)after.objects,
			(long long)after.meta_rows);
		test_failures_++;
	}
	crm_free(after.forms);
}

/* What the last REFUSED call saw, before checking the catalogue (which,
 * being a call on the handle, clears its error). */
static int last_offset;
static char last_msg[1024];

/* Apply `json`, expect CRM_EINVAL with detail path `path` (NULL: do not
 * check) and a message containing `needle`, and nothing changed. */
static void refused_(crm_db *db, const char *json, const char *path, const char *needle, int line)
{
	snapshot before;
	int rc;

	snap(db, &before);
	rc = crm_apply(db, json);
	last_offset = crm_erroffset(db);
	snprintf(last_msg, sizeof last_msg, "%s", crm_errmsg(db));
	if (rc != CRM_EINVAL) {
		fprintf(stderr, "%s:%d: apply returned %s, expected CRM_EINVAL (%s) for %s\n", __FILE__, line,
			crm_errstr(rc), crm_errdetail(db), json);
		test_failures_++;
	}
	if (crm_errcode(db) != rc) {
		fprintf(stderr, "%s:%d: crm_errcode %d != returned %d\n", __FILE__, line, crm_errcode(db), rc);
		test_failures_++;
	}
	if (rc != CRM_OK) {
		const char *code = detail_str(db, "code");
		if (!code || strcmp(code, crm_errstr(rc)) != 0) {
			fprintf(stderr, "%s:%d: detail code wrong: %s\n", __FILE__, line, crm_errdetail(db));
			test_failures_++;
		}
	}
	if (path) {
		const char *got = detail_str(db, "path");
		if (!got || strcmp(got, path) != 0) {
			fprintf(stderr, "%s:%d: path \"%s\", expected \"%s\" (%s)\n", __FILE__, line, got ? got : "(none)",
				path, crm_errdetail(db));
			test_failures_++;
		}
	}
	if (needle && !strstr(crm_errmsg(db), needle)) {
		fprintf(stderr, "%s:%d: message \"%s\" does not mention \"%s\"\n", __FILE__, line, crm_errmsg(db), needle);
		test_failures_++;
	}
	check_unchanged(db, &before, line);
	crm_free(before.forms);
}
#define REFUSED(db, json, path, needle) refused_(db, json, path, needle, __LINE__)

/* A one-field form named "f" whose field is `field` (JSON object text). */
static void refused_field_(crm_db *db, const char *field, const char *path, const char *needle, int line)
{
	char json[4096];

	snprintf(json, sizeof json, "{\"form\":\"f\",\"fields\":[%s]}", field);
	refused_(db, json, path, needle, line);
}
#define REFUSED_FIELD(db, field, path, needle) refused_field_(db, field, path, needle, __LINE__)

static void accepted_field_(crm_db *db, const char *form, const char *field, int line)
{
	char json[4096];
	int rc;

	snprintf(json, sizeof json, "{\"form\":\"%s\",\"fields\":[%s]}", form, field);
	rc = crm_apply(db, json);
	if (rc != CRM_OK) {
		fprintf(stderr, "%s:%d: apply of %s failed: %s\n", __FILE__, line, json, crm_errdetail(db));
		test_failures_++;
	}
}
#define ACCEPTED_FIELD(db, form, field) accepted_field_(db, form, field, __LINE__)

/* The version crm_form_list reports for `form`, or -1. */
static int64_t listed_version(crm_db *db, const char *form)
{
	char *list = NULL;
	cJSON *arr, *e;
	int64_t v = -1;

	if (crm_form_list(db, &list) != CRM_OK)
		return -1;
	arr = cJSON_Parse(list);
	cJSON_ArrayForEach(e, arr)
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "form"));
		if (name && strcmp(name, form) == 0)
			v = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "version"));
	}
	cJSON_Delete(arr);
	crm_free(list);
	return v;
}

static int64_t table_count(crm_db *db, const char *name) { return test_relation_exists(db, name); }

/* ---- every type round-trips ---- */

static const char every_type_forms[] =
	"[{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]},"
	" {\"form\":\"every\",\"fields\":["
	"  {\"name\":\"t\",\"type\":\"text\"},"
	"  {\"name\":\"lt\",\"type\":\"long_text\"},"
	"  {\"name\":\"i\",\"type\":\"integer\"},"
	"  {\"name\":\"d2\",\"type\":\"decimal\"},"
	"  {\"name\":\"d0\",\"type\":\"decimal\",\"scale\":0},"
	"  {\"name\":\"d9\",\"type\":\"decimal\",\"scale\":9},"
	"  {\"name\":\"n\",\"type\":\"number\"},"
	"  {\"name\":\"b\",\"type\":\"boolean\"},"
	"  {\"name\":\"da\",\"type\":\"date\"},"
	"  {\"name\":\"dt\",\"type\":\"datetime\"},"
	"  {\"name\":\"e\",\"type\":\"enum\",\"options\":[\"north\",{\"value\":\"south\",\"label\":\"South\"}]},"
	"  {\"name\":\"me\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b\",\"c\"]},"
	"  {\"name\":\"em\",\"type\":\"email\"},"
	"  {\"name\":\"ph\",\"type\":\"phone\"},"
	"  {\"name\":\"u\",\"type\":\"url\"},"
	"  {\"name\":\"r\",\"type\":\"ref\",\"form\":\"customer\"},"
	"  {\"name\":\"j\",\"type\":\"json\"},"
	"  {\"name\":\"c\",\"type\":\"computed\",\"lua\":\"1 + 1\",\"returns\":\"integer\"}]}]";

TEST(test_form_define__every_type_round_trips_a_value)
{
	crm_db *db = test_db();
	int64_t cid = 0, id = 0;

	test_apply(db, every_type_forms);
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"ACME\"}", &cid));
	CHECK_INT(cid, 1);
	CHECK_OK(db, crm_record_insert(db, "every",
				       "{\"t\":\"hello \\u4e2d\",\"lt\":\"line1\\nline2\",\"i\":-42,\"d2\":\"12.5\",\"d0\":7,"
				       "\"d9\":0.000000001,\"n\":1.5,\"b\":true,\"da\":\"2024-02-29\","
				       "\"dt\":\"2026-01-31T17:30:00+08:00\",\"e\":\"south\",\"me\":[\"c\",\"a\"],"
				       "\"em\":\"a@b.example\",\"ph\":\"+86 138-0000-0000\",\"u\":\"https://example.com/x\","
				       "\"r\":1,\"j\":{\"k\":[1,2.5,\"s\",null,true]}}",
				       &id));
	CHECK_INT(id, 1);
	CHECK_STR(test_get(db, "every", id),
		  "{\"id\":1,\"t\":\"hello \xe4\xb8\xad\",\"lt\":\"line1\\nline2\",\"i\":-42,\"d2\":12.50,\"d0\":7,"
		  "\"d9\":0.000000001,\"n\":1.5,\"b\":true,\"da\":\"2024-02-29\",\"dt\":\"2026-01-31T09:30:00.000Z\","
		  "\"e\":\"south\",\"me\":[\"a\",\"c\"],\"em\":\"a@b.example\",\"ph\":\"+86 138-0000-0000\","
		  "\"u\":\"https://example.com/x\",\"r\":1,\"j\":{\"k\":[1,2.5,\"s\",null,true]},\"c\":2,"
		  "\"created_at\":\"2026-01-02T03:04:05.000Z\",\"updated_at\":\"2026-01-02T03:04:05.000Z\","
		  "\"owner\":null,\"version\":1}");
	crm_close(db);
}

TEST(test_form_define__absent_values_of_every_type_read_back_as_null)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, every_type_forms);
	CHECK_OK(db, crm_record_insert(db, "every", "{}", &id));
	CHECK_STR(test_get(db, "every", id),
		  "{\"id\":1,\"t\":null,\"lt\":null,\"i\":null,\"d2\":null,\"d0\":null,\"d9\":null,\"n\":null,\"b\":null,"
		  "\"da\":null,\"dt\":null,\"e\":null,\"me\":null,\"em\":null,\"ph\":null,\"u\":null,\"r\":null,"
		  "\"j\":null,\"c\":2,\"created_at\":\"2026-01-02T03:04:05.000Z\","
		  "\"updated_at\":\"2026-01-02T03:04:05.000Z\",\"owner\":null,\"version\":1}");
	crm_close(db);
}

TEST(test_form_define__decimals_read_back_with_exactly_scale_digits)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, "{\"form\":\"money\",\"fields\":[{\"name\":\"a\",\"type\":\"decimal\"},"
		       "{\"name\":\"b\",\"type\":\"decimal\",\"scale\":0},"
		       "{\"name\":\"c\",\"type\":\"decimal\",\"scale\":4},"
		       "{\"name\":\"d\",\"type\":\"decimal\",\"scale\":9}]}");
	CHECK_OK(db, crm_record_insert(db, "money", "{\"a\":12,\"b\":\"12\",\"c\":1.5,\"d\":\"-3\"}", &id));
	CHECK_HAS(test_get(db, "money", id), "\"a\":12.00,\"b\":12,\"c\":1.5000,\"d\":-3.000000000,");
	CHECK_OK(db, crm_record_insert(db, "money", "{\"a\":\"-0.5\",\"b\":1e3,\"c\":\"0.0001\",\"d\":1.123456789}", &id));
	CHECK_HAS(test_get(db, "money", id), "\"a\":-0.50,\"b\":1000,\"c\":0.0001,\"d\":1.123456789,");
	CHECK_OK(db, crm_record_insert(db, "money", "{\"a\":0,\"b\":-0,\"c\":\"12.30\",\"d\":0.1}", &id));
	CHECK_HAS(test_get(db, "money", id), "\"a\":0.00,\"b\":0,\"c\":12.3000,\"d\":0.100000000,");
	crm_close(db);
}

TEST(test_form_define__datetimes_are_normalised_to_utc_milliseconds)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "2026-01-31T09:30:00Z", "2026-01-31T09:30:00.000Z" },
		{ "2026-01-31T17:30:00+08:00", "2026-01-31T09:30:00.000Z" },
		{ "2026-01-01T01:00:00+02:00", "2025-12-31T23:00:00.000Z" },
		{ "2026-01-31T09:30:00.5-05:30", "2026-01-31T15:00:00.500Z" },
		{ "2026-01-31T09:30:00.123456Z", "2026-01-31T09:30:00.123Z" },
		{ "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z" },
	};
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"ev\",\"fields\":[{\"name\":\"at\",\"type\":\"datetime\"}]}");
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char rec[128], want[128];
		int64_t id = 0;

		snprintf(rec, sizeof rec, "{\"at\":\"%s\"}", cases[i].in);
		snprintf(want, sizeof want, "\"at\":\"%s\"", cases[i].out);
		CHECK_OK(db, crm_record_insert(db, "ev", rec, &id));
		CHECK_HAS(test_get(db, "ev", id), want);
	}
	crm_close(db);
}

TEST(test_form_define__multi_enum_reads_back_in_option_order)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, "{\"form\":\"m\",\"fields\":[{\"name\":\"tags\",\"type\":\"multi_enum\","
		       "\"options\":[\"zeta\",\"alpha\",{\"value\":\"mid\",\"label\":\"Middle\"}]}]}");
	CHECK_OK(db, crm_record_insert(db, "m", "{\"tags\":[\"mid\",\"alpha\",\"zeta\"]}", &id));
	CHECK_HAS(test_get(db, "m", id), "\"tags\":[\"zeta\",\"alpha\",\"mid\"]");
	CHECK_OK(db, crm_record_insert(db, "m", "{\"tags\":[\"alpha\"]}", &id));
	CHECK_HAS(test_get(db, "m", id), "\"tags\":[\"alpha\"]");
	/* [] means no value */
	CHECK_OK(db, crm_record_insert(db, "m", "{\"tags\":[]}", &id));
	CHECK_HAS(test_get(db, "m", id), "\"tags\":null");
	crm_close(db);
}

TEST(test_form_define__booleans_and_json_values_round_trip)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, "{\"form\":\"k\",\"fields\":[{\"name\":\"b\",\"type\":\"boolean\"},{\"name\":\"j\",\"type\":\"json\"}]}");
	CHECK_OK(db, crm_record_insert(db, "k", "{\"b\":false,\"j\":[1,{\"a\":\"x\\\"y\"},[]]}", &id));
	CHECK_HAS(test_get(db, "k", id), "\"b\":false,\"j\":[1,{\"a\":\"x\\\"y\"},[]]");
	CHECK_OK(db, crm_record_insert(db, "k", "{\"b\":true,\"j\":\"just a string\"}", &id));
	CHECK_HAS(test_get(db, "k", id), "\"b\":true,\"j\":\"just a string\"");
	CHECK_OK(db, crm_record_insert(db, "k", "{\"j\":12.50}", &id));
	CHECK_HAS(test_get(db, "k", id), "\"b\":null,\"j\":12.50");
	CHECK_OK(db, crm_record_insert(db, "k", "{\"j\":false}", &id));
	CHECK_HAS(test_get(db, "k", id), "\"j\":false");
	/* kept as given: white space inside the value stays */
	CHECK_OK(db, crm_record_insert(db, "k", "{\"j\":{\"a\": [1, 2]}}", &id));
	CHECK_HAS(test_get(db, "k", id), "\"j\":{\"a\": [1, 2]}");
	crm_close(db);
}

TEST(test_form_define__dates_round_trip_across_the_calendar_range)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, "{\"form\":\"d\",\"fields\":[{\"name\":\"on\",\"type\":\"date\"}]}");
	CHECK_OK(db, crm_record_insert(db, "d", "{\"on\":\"0001-01-01\"}", &id));
	CHECK_HAS(test_get(db, "d", id), "\"on\":\"0001-01-01\"");
	CHECK_OK(db, crm_record_insert(db, "d", "{\"on\":\"9999-12-31\"}", &id));
	CHECK_HAS(test_get(db, "d", id), "\"on\":\"9999-12-31\"");
	CHECK_OK(db, crm_record_insert(db, "d", "{\"on\":\"2024-02-29\"}", &id));
	CHECK_HAS(test_get(db, "d", id), "\"on\":\"2024-02-29\"");
	crm_close(db);
}

TEST(test_form_define__defined_form_is_listed_with_version_1_and_label)
{
	crm_db *db = test_db();
	char *list = NULL;

	CHECK_OK(db, crm_form_list(db, &list));
	CHECK_STR(list, "[]");
	crm_free(list);
	test_apply(db, "{\"form\":\"lead\",\"label\":\"Lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}");
	test_apply(db, "{\"form\":\"account\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}");
	CHECK_OK(db, crm_form_list(db, &list));
	CHECK_STR(list, "[{\"form\":\"account\",\"version\":1,\"label\":\"account\"},"
			"{\"form\":\"lead\",\"version\":1,\"label\":\"Lead\"}]");
	crm_free(list);
	CHECK_INT(table_count(db, "lead"), 1);
	CHECK_INT(table_count(db, "account"), 1);
	crm_close(db);
}

TEST(test_form_define__crm_form_define_is_the_same_as_apply)
{
	crm_db *db = test_db();

	CHECK_OK(db, crm_form_define(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}"));
	CHECK_INT(listed_version(db, "lead"), 1);
	CHECK_RC(db, crm_form_define(db, "{\"form\":\"Lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}"),
		 CRM_EINVAL);
	crm_close(db);
}

TEST(test_form_define__documented_example_is_accepted)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}");
	test_apply(db,
		   "{\"form\": \"lead\", \"label\": \"Lead\",\n"
		   " \"fields\": [\n"
		   "   {\"name\": \"name\",     \"type\": \"text\", \"required\": true, \"max_length\": 100},\n"
		   "   {\"name\": \"phone\",    \"type\": \"phone\", \"unique\": true, \"pattern\": \"^1[3-9]\\\\d{9}$\"},\n"
		   "   {\"name\": \"region\",   \"type\": \"enum\", \"options\": [\"north\", \"south\", \"east\", \"west\"]},\n"
		   "   {\"name\": \"score\",    \"type\": \"integer\", \"default\": 0, \"min\": 0},\n"
		   "   {\"name\": \"budget\",   \"type\": \"decimal\", \"scale\": 2},\n"
		   "   {\"name\": \"customer\", \"type\": \"ref\", \"form\": \"customer\", \"on_delete\": \"restrict\"},\n"
		   "   {\"name\": \"channel\",  \"type\": \"enum\", \"options\": [\"web\", \"wechat\"]},\n"
		   "   {\"name\": \"external_id\", \"type\": \"text\", \"required_when\": {\"field\": \"channel\", \"op\": "
		   "\"eq\", \"value\": \"wechat\"}}],\n"
		   " \"unique\":  [[\"channel\", \"external_id\"]],\n"
		   " \"indexes\": [[\"region\", \"created_at\"]]}");
	CHECK_INT(listed_version(db, "lead"), 1);
	CHECK_INT(table_count(db, "lead"), 1);
	crm_close(db);
}

/* ---- malformed input ---- */

TEST(test_form_define__malformed_json_reports_the_byte_offset)
{
	crm_db *db = test_db();
	/*                  0123456789012345 */
	const char *bad = "{\"form\": \"lead\" \"fields\": []}"; /* missing ',' before byte 16 */

	REFUSED(db, bad, NULL, "not valid JSON");
	CHECK_INT(last_offset, 16);
	CHECK_HAS(last_msg, "16");
	/* the offset belongs to the failing call itself, read before anything else */
	CHECK_RC(db, crm_apply(db, bad), CRM_EINVAL);
	CHECK_INT(crm_erroffset(db), 16);

	/* trailing garbage after a complete document */
	REFUSED(db, "{\"form\":\"a\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]} x", NULL, "not valid JSON");
	CHECK_INT(last_offset, 51);
	/* truncated */
	REFUSED(db, "[{\"form\":\"a\"", NULL, "not valid JSON");
	CHECK_INT(last_offset, 12);
	REFUSED(db, "", NULL, "not valid JSON");
	CHECK_INT(last_offset, 0);

	/* a later success clears the offset */
	test_apply(db, "{\"form\":\"a\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}");
	CHECK_INT(crm_erroffset(db), -1);
	crm_close(db);
}

TEST(test_form_define__non_object_documents_are_refused)
{
	crm_db *db = test_db();

	REFUSED(db, "42", "", "not a JSON object");
	REFUSED(db, "\"lead\"", "", "not a JSON object");
	REFUSED(db, "null", "", "not a JSON object");
	REFUSED(db, "[{\"form\":\"a\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}, 7]", "", "document 1");
	/* an object that is no known kind of document */
	REFUSED(db, "{\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}", NULL, "unknown kind");
	crm_close(db);
}

TEST(test_form_define__unknown_form_key_is_refused_with_its_path)
{
	crm_db *db = test_db();

	REFUSED(db, "{\"form\":\"lead\",\"colour\":\"red\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}", "colour",
		"unknown key 'colour'");
	REFUSED(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}],\"Fields\":[]}", "Fields",
		"unknown key");
	crm_close(db);
}

TEST(test_form_define__typo_in_field_key_is_refused_not_ignored)
{
	crm_db *db = test_db();

	REFUSED(db,
		"{\"form\":\"lead\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"b\",\"type\":\"text\","
		"\"requird\":true}]}",
		"fields[1].requird", "unknown key 'requird'");
	REFUSED(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"maxLength\":3}]}",
		"fields[0].maxLength", "maxLength");
	crm_close(db);
}

TEST(test_form_define__labels_and_descriptions_must_be_strings)
{
	crm_db *db = test_db();

	REFUSED(db, "{\"form\":\"f\",\"label\":5,\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}", "label",
		"must be a string");
	REFUSED(db, "{\"form\":\"f\",\"description\":[\"x\"],\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}",
		"description", "must be a string");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"label\":true}", "fields[0].label", "must be a string");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"description\":{}}", "fields[0].description",
		      "must be a string");
	test_apply(db, "{\"form\":\"f\",\"label\":\"F\",\"description\":\"what f is\",\"fields\":[{\"name\":\"a\","
		       "\"type\":\"text\",\"label\":\"A\",\"description\":\"what a is\"}]}");
	CHECK_INT(listed_version(db, "f"), 1);
	crm_close(db);
}

TEST(test_form_define__unknown_type_is_refused)
{
	crm_db *db = test_db();

	REFUSED(db,
		"{\"form\":\"lead\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"b\",\"type\":\"string\"}]}",
		"fields[1].type", "unknown type 'string'");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"Text\"}", "fields[0].type", "unknown type");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"\"}", "fields[0].type", "unknown type");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":3}", "fields[0].type", "must be a string");
	REFUSED_FIELD(db, "{\"name\":\"a\"}", "fields[0].type", "'type' is required");
	crm_close(db);
}

static const char *const bad_names[] = {
	"Lead", "my lead", "name; DROP TABLE x", "crm_x", "sqlite_x",
	"a234567890123456789012345678901234567890123456789012345678901234", /* 64 characters */
	"a__b", "a_", "_a", "1a", "", "l\xc3\xa9", "a-b", "a.b", "lead\\\"", NULL
};

TEST(test_form_define__bad_form_names_are_refused)
{
	crm_db *db = test_db();

	for (int i = 0; bad_names[i]; i++) {
		char json[512];
		snprintf(json, sizeof json, "{\"form\":\"%s\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}",
			 bad_names[i]);
		REFUSED(db, json, "form", "not a valid form name");
	}
	REFUSED(db, "{\"form\":5,\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}", "form", "must be a string");
	REFUSED(db, "{\"fields\":[{\"name\":\"x\",\"type\":\"text\"}],\"form\":null}", NULL, NULL);
	/* the form names of system tables are out of reach */
	REFUSED(db, "{\"form\":\"crm_meta\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}", "form", NULL);
	REFUSED(db, "{\"form\":\"sqlite_schema\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}", "form", NULL);
	/* the boundary: 63 characters is fine */
	test_apply(db, "{\"form\":\"a23456789012345678901234567890123456789012345678901234567890123\","
		       "\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}");
	CHECK_INT(table_count(db, "a23456789012345678901234567890123456789012345678901234567890123"), 1);
	test_apply(db, "{\"form\":\"a_b_1\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}");
	CHECK_INT(table_count(db, "a_b_1"), 1);
	crm_close(db);
}

TEST(test_form_define__bad_field_names_are_refused)
{
	crm_db *db = test_db();

	for (int i = 0; bad_names[i]; i++) {
		char field[256];
		snprintf(field, sizeof field, "{\"name\":\"%s\",\"type\":\"text\"}", bad_names[i]);
		REFUSED_FIELD(db, field, "fields[0].name", "not a valid field name");
	}
	REFUSED_FIELD(db, "{\"type\":\"text\"}", "fields[0].name", "'name' is required");
	REFUSED_FIELD(db, "{\"name\":7,\"type\":\"text\"}", "fields[0].name", "must be a string");
	REFUSED_FIELD(db, "\"x\"", "fields[0]", "must be an object");
	/* ids follow the same rule */
	REFUSED_FIELD(db, "{\"name\":\"a\",\"id\":\"Bad Id\",\"type\":\"text\"}", "fields[0].id", "not a valid field id");
	ACCEPTED_FIELD(db, "ok63", "{\"name\":\"a23456789012345678901234567890123456789012345678901234567890123\","
				   "\"type\":\"text\"}");
	crm_close(db);
}

TEST(test_form_define__system_column_names_are_refused_as_field_names)
{
	static const char *const sys[] = { "id", "created_at", "updated_at", "owner", "version" };
	crm_db *db = test_db();

	for (size_t i = 0; i < sizeof sys / sizeof *sys; i++) {
		char field[256];
		snprintf(field, sizeof field, "{\"name\":\"%s\",\"type\":\"integer\"}", sys[i]);
		REFUSED_FIELD(db, field, "fields[0].name", "system column");
	}
	crm_close(db);
}

TEST(test_form_define__duplicate_field_names_and_ids_are_refused)
{
	crm_db *db = test_db();

	REFUSED(db,
		"{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"b\",\"type\":\"text\"},"
		"{\"name\":\"a\",\"type\":\"integer\"}]}",
		"fields[2].name", "defined twice");
	REFUSED(db,
		"{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"id\":\"x\",\"type\":\"text\"},"
		"{\"name\":\"b\",\"id\":\"x\",\"type\":\"text\"}]}",
		"fields[1].id", "same id 'x'");
	/* an explicit id that equals another field's default id (its name) */
	REFUSED(db,
		"{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"b\",\"id\":\"a\",\"type\":\"text\"}]}",
		"fields[1].id", "same id");
	crm_close(db);
}

TEST(test_form_define__fields_member_must_hold_1_to_500_fields)
{
	crm_db *db = test_db();
	crm__buf big = CRM__BUF_INIT;

	REFUSED(db, "{\"form\":\"f\"}", "fields", "'fields' must be an array");
	REFUSED(db, "{\"form\":\"f\",\"fields\":[]}", "fields", "1 to 500");
	REFUSED(db, "{\"form\":\"f\",\"fields\":{\"name\":\"a\",\"type\":\"text\"}}", "fields", NULL);
	crm__buf_puts(&big, "{\"form\":\"f\",\"fields\":[");
	for (int i = 0; i < 501; i++)
		crm__buf_printf(&big, "%s{\"name\":\"f%d\",\"type\":\"integer\"}", i ? "," : "", i);
	crm__buf_puts(&big, "]}");
	REFUSED(db, crm__buf_cstr(&big), "fields", "1 to 500");
	crm__buf_free(&big);
	crm_close(db);
}

TEST(test_form_define__options_are_checked)
{
	crm_db *db = test_db();
	crm__buf big = CRM__BUF_INIT;

	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"options\":[\"x\"]}", "fields[0].options",
		      "belong to enum");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\"}", "fields[0].options", "needs 'options'");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[]}", "fields[0].options", "non-empty");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"multi_enum\",\"options\":[]}", "fields[0].options", "non-empty");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\",\"options\":\"x\"}", "fields[0].options", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[\"x\",\"y\",\"x\"]}", "fields[0].options",
		      "listed twice");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[\"x\",{\"value\":\"x\",\"label\":\"X\"}]}",
		      "fields[0].options", "listed twice");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[\"\"]}", "fields[0].options", "non-empty");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[1]}", "fields[0].options", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[{\"label\":\"X\"}]}", "fields[0].options", NULL);
	/* option objects are as strict as fields: no unknown keys, string labels */
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[\"y\",{\"value\":\"x\",\"colour\":\"red\"}]}",
		      "fields[0].options", "option 1: unknown key 'colour'");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[{\"value\":\"x\",\"label\":5}]}",
		      "fields[0].options", "'label' must be a string");
	crm__buf_puts(&big, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[");
	for (int i = 0; i < 257; i++)
		crm__buf_printf(&big, "%s\"o%d\"", i ? "," : "", i);
	crm__buf_puts(&big, "]}");
	REFUSED_FIELD(db, crm__buf_cstr(&big), "fields[0].options", "at most 256");
	crm__buf_free(&big);
	/* 256 is the limit, inclusive */
	crm__buf_puts(&big, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[");
	for (int i = 0; i < 256; i++)
		crm__buf_printf(&big, "%s\"o%d\"", i ? "," : "", i);
	crm__buf_puts(&big, "]}");
	ACCEPTED_FIELD(db, "opts", crm__buf_cstr(&big));
	crm__buf_free(&big);
	crm_close(db);
}

TEST(test_form_define__scale_is_0_to_9_and_only_for_decimals)
{
	crm_db *db = test_db();

	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"decimal\",\"scale\":10}", "fields[0].scale", "0 to 9");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"decimal\",\"scale\":-1}", "fields[0].scale", "0 to 9");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"decimal\",\"scale\":2.5}", "fields[0].scale", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"decimal\",\"scale\":\"2\"}", "fields[0].scale", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"integer\",\"scale\":2}", "fields[0].scale", "decimal");
	ACCEPTED_FIELD(db, "s0", "{\"name\":\"a\",\"type\":\"decimal\",\"scale\":0}");
	ACCEPTED_FIELD(db, "s9", "{\"name\":\"a\",\"type\":\"decimal\",\"scale\":9}");
	crm_close(db);
}

TEST(test_form_define__pattern_is_checked_when_applied)
{
	crm_db *db = test_db();
	char field[1200];
	char pat[1002];

	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"integer\",\"pattern\":\"^1\"}", "fields[0].pattern",
		      "text-like");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[\"x\"],\"pattern\":\"x\"}", "fields[0].pattern",
		      NULL);
	/* an invalid regex names the offset of the mistake */
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"pattern\":\"ab(c\"}", "fields[0].pattern", "offset 4");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"pattern\":\"[a-\"}", "fields[0].pattern", "offset");
	/* \C could split a character */
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"pattern\":\"a\\\\Cb\"}", "fields[0].pattern", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"pattern\":5}", "fields[0].pattern", NULL);
	/* at most 1000 bytes */
	memset(pat, 'a', 1001);
	pat[1001] = 0;
	snprintf(field, sizeof field, "{\"name\":\"a\",\"type\":\"text\",\"pattern\":\"%s\"}", pat);
	REFUSED_FIELD(db, field, "fields[0].pattern", "1000");
	pat[1000] = 0;
	snprintf(field, sizeof field, "{\"name\":\"a\",\"type\":\"text\",\"pattern\":\"%s\"}", pat);
	ACCEPTED_FIELD(db, "p1000", field);
	crm_close(db);
}

TEST(test_form_define__min_and_max_are_checked)
{
	crm_db *db = test_db();

	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"integer\",\"min\":10,\"max\":5}", "fields[0].min", "above 'max'");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"date\",\"min\":\"2026-02-01\",\"max\":\"2026-01-31\"}",
		      "fields[0].min", "above");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"decimal\",\"min\":\"1.01\",\"max\":1}", "fields[0].min", "above");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"min\":1}", "fields[0].min", "belongs to");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"boolean\",\"max\":true}", "fields[0].max", "belongs to");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"integer\",\"min\":1.5}", "fields[0].min", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"integer\",\"min\":\"1\"}", "fields[0].min", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"integer\",\"max\":null}", "fields[0].max", "cannot be null");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"date\",\"min\":\"2025-02-29\"}", "fields[0].min", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"decimal\",\"scale\":1,\"min\":0.05}", "fields[0].min", NULL);
	/* min == max is a legal (if narrow) range */
	ACCEPTED_FIELD(db, "eq", "{\"name\":\"a\",\"type\":\"integer\",\"min\":5,\"max\":5}");
	crm_close(db);
}

TEST(test_form_define__length_bounds_are_checked)
{
	crm_db *db = test_db();

	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"integer\",\"max_length\":3}", "fields[0].min_length", "text-like");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"min_length\":5,\"max_length\":4}", "fields[0].min_length",
		      "above");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"max_length\":-1}", "fields[0].max_length", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"max_length\":2.5}", "fields[0].max_length", NULL);
	ACCEPTED_FIELD(db, "len", "{\"name\":\"a\",\"type\":\"text\",\"min_length\":4,\"max_length\":4}");
	crm_close(db);
}

TEST(test_form_define__default_must_satisfy_its_own_field_rules)
{
	crm_db *db = test_db();

	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"integer\",\"min\":0,\"default\":-1}", "fields[0].default",
		      "default");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"integer\",\"max\":10,\"default\":11}", "fields[0].default", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"enum\",\"options\":[\"x\",\"y\"],\"default\":\"z\"}",
		      "fields[0].default", "not an option");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"multi_enum\",\"options\":[\"x\"],\"default\":[\"x\",\"q\"]}",
		      "fields[0].default", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"integer\",\"default\":\"seven\"}", "fields[0].default", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"max_length\":2,\"default\":\"abc\"}", "fields[0].default",
		      NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"pattern\":\"^[0-9]+$\",\"default\":\"abc\"}",
		      "fields[0].default", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"email\",\"default\":\"nobody\"}", "fields[0].default", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"decimal\",\"default\":1.234}", "fields[0].default", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"date\",\"default\":\"2025-02-29\"}", "fields[0].default", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"boolean\",\"default\":1}", "fields[0].default", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"computed\",\"lua\":\"1\",\"default\":1}", "fields[0].default", NULL);
	/* the path points at the field in error, not at the first one */
	REFUSED(db,
		"{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"},"
		"{\"name\":\"b\",\"type\":\"integer\",\"min\":0,\"default\":-1}]}",
		"fields[1].default", NULL);
	ACCEPTED_FIELD(db, "ok", "{\"name\":\"a\",\"type\":\"integer\",\"min\":0,\"default\":0}");
	crm_close(db);
}

TEST(test_form_define__ref_needs_an_existing_or_co_applied_form)
{
	crm_db *db = test_db();
	char *body = NULL;

	REFUSED_FIELD(db, "{\"name\":\"c\",\"type\":\"ref\"}", "fields[0].form", "needs 'form'");
	REFUSED_FIELD(db, "{\"name\":\"c\",\"type\":\"ref\",\"form\":\"Bad Name\"}", "fields[0].form", NULL);
	REFUSED_FIELD(db, "{\"name\":\"c\",\"type\":\"text\",\"form\":\"customer\"}", "fields[0].form", "ref fields");
	REFUSED_FIELD(db, "{\"name\":\"c\",\"type\":\"ref\",\"form\":\"customer\",\"on_delete\":\"explode\"}",
		      "fields[0].on_delete", NULL);
	REFUSED_FIELD(db,
		      "{\"name\":\"c\",\"type\":\"ref\",\"form\":\"f\",\"required\":true,\"on_delete\":\"set_null\"}",
		      "fields[0].on_delete", NULL);
	/* a form that does not exist: refused, naming the field and the form */
	REFUSED(db,
		"{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		"{\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"}]}",
		"fields[1].form", "customer");
	CHECK_INT(table_count(db, "lead"), 0);
	/* defined later in the same call: accepted */
	test_apply(db,
		   "[{\"form\":\"lead\",\"fields\":[{\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"}]},"
		   " {\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}]");
	CHECK_INT(listed_version(db, "lead"), 1);
	CHECK_INT(listed_version(db, "customer"), 1);
	/* pointing at itself (a hierarchy) is fine */
	test_apply(db, "{\"form\":\"node\",\"fields\":[{\"name\":\"parent\",\"type\":\"ref\",\"form\":\"node\","
		       "\"on_delete\":\"cascade\"}]}");
	CHECK_OK(db, crm_form_get(db, "node", &body));
	CHECK_HAS(body, "\"form\":\"node\"");
	crm_free(body);
	crm_close(db);
}

TEST(test_form_define__unique_is_refused_on_unsuitable_types)
{
	static const char *const types[] = { "boolean", "json", "long_text" };
	crm_db *db = test_db();

	for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
		char field[256];
		snprintf(field, sizeof field, "{\"name\":\"a\",\"type\":\"%s\",\"unique\":true}", types[i]);
		REFUSED_FIELD(db, field, "fields[0].unique", "cannot be unique");
	}
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"multi_enum\",\"options\":[\"x\"],\"unique\":true}",
		      "fields[0].unique", "cannot be unique");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"computed\",\"lua\":\"1\",\"unique\":true}", "fields[0].unique",
		      NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"unique\":\"yes\"}", "fields[0].unique", "true or false");
	/* composite uniques and indexes follow the same rule */
	REFUSED(db,
		"{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"n\",\"type\":\"long_text\"}],"
		"\"unique\":[[\"a\",\"n\"]]}",
		"unique[0]", "cannot be indexed");
	REFUSED(db,
		"{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"j\",\"type\":\"json\"}],"
		"\"indexes\":[[\"a\"],[\"j\"]]}",
		"indexes[1]", "cannot be indexed");
	crm_close(db);
}

TEST(test_form_define__index_flag_is_refused_on_unindexable_types)
{
	crm_db *db = test_db();

	/* "long_text: cannot be unique or indexed" — also through the field's own "index" flag */
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"long_text\",\"index\":true}", "fields[0].index", "indexed");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"json\",\"index\":true}", "fields[0].index", "indexed");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"computed\",\"lua\":\"1\",\"index\":true}", "fields[0].index",
		      "indexed");
	ACCEPTED_FIELD(db, "ix", "{\"name\":\"a\",\"type\":\"text\",\"index\":true}");
	CHECK_INT(test_index_count(db, "ix"), 1);
	crm_close(db);
}

TEST(test_form_define__indexes_and_composite_uniques_are_checked)
{
	crm_db *db = test_db();

	REFUSED(db, "{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],\"indexes\":[[\"nope\"]]}",
		"indexes[0]", "unknown field 'nope'");
	REFUSED(db,
		"{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],\"indexes\":[[\"a\"],[\"a\",\"zz\"]]}",
		"indexes[1]", "unknown field 'zz'");
	REFUSED(db, "{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],\"unique\":[[\"a\",\"b\"]]}",
		"unique[0]", "unknown field 'b'");
	REFUSED(db, "{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],\"indexes\":[[]]}", "indexes[0]",
		"1 to 8");
	REFUSED(db,
		"{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],"
		"\"indexes\":[[\"a\",\"id\",\"created_at\",\"updated_at\",\"owner\",\"version\",\"a\",\"a\",\"a\"]]}",
		"indexes[0]", "1 to 8");
	REFUSED(db, "{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],\"indexes\":[[\"a\",\"a\"]]}",
		"indexes[0]", "listed twice");
	REFUSED(db, "{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],\"indexes\":[\"a\"]}", "indexes[0]",
		NULL);
	REFUSED(db, "{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],\"indexes\":{\"a\":1}}", "indexes",
		NULL);
	REFUSED(db, "{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],\"unique\":\"a\"}", "unique", NULL);
	REFUSED(db,
		"{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],"
		"\"unique\":[{\"fields\":[\"a\"],\"nulls_distinct\":false,\"extra\":1}]}",
		"unique[0].extra", "unknown key");
	/* system columns may be indexed */
	test_apply(db, "{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],"
		       "\"indexes\":[[\"a\",\"created_at\"],[\"owner\"]],"
		       "\"unique\":[{\"fields\":[\"a\"],\"nulls_distinct\":false}]}");
	CHECK_INT(test_index_count(db, "f"), 3);
	crm_close(db);
}

TEST(test_form_define__computed_fields_are_checked)
{
	crm_db *db = test_db();

	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"computed\"}", "fields[0].lua", "'lua' is required");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"computed\",\"lua\":\"1\",\"returns\":\"ref\"}",
		      "fields[0].returns", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"computed\",\"lua\":\"1\",\"returns\":\"nope\"}",
		      "fields[0].returns", NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"computed\",\"lua\":\"1\",\"required\":true}", "fields[0].required",
		      NULL);
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"lua\":\"1\"}", "fields[0].lua", "computed");
	crm_close(db);
}

TEST(test_form_define__required_when_condition_is_checked)
{
	crm_db *db = test_db();

	REFUSED(db,
		"{\"form\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"required_when\":"
		"{\"field\":\"nope\",\"op\":\"eq\",\"value\":\"x\"}}]}",
		"fields[0].required_when.field", "unknown field 'nope'");
	REFUSED(db,
		"{\"form\":\"f\",\"fields\":[{\"name\":\"k\",\"type\":\"integer\"},{\"name\":\"a\",\"type\":\"text\","
		"\"required_when\":{\"field\":\"k\",\"op\":\"frobnicate\",\"value\":1}}]}",
		"fields[1].required_when.op", "unknown operator");
	REFUSED_FIELD(db, "{\"name\":\"a\",\"type\":\"text\",\"required\":\"yes\"}", "fields[0].required", NULL);
	/* a condition on a field defined after it is fine */
	test_apply(db, "{\"form\":\"g\",\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"required_when\":"
		       "{\"field\":\"k\",\"op\":\"gt\",\"value\":3}},{\"name\":\"k\",\"type\":\"integer\"}]}");
	crm_close(db);
}

TEST(test_form_define__array_with_one_bad_document_applies_nothing)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"old\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}");
	REFUSED(db,
		"[{\"form\":\"one\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]},"
		" {\"form\":\"two\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]},"
		" {\"form\":\"old\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"b\",\"type\":\"text\"}]},"
		" {\"form\":\"three\",\"fields\":[{\"name\":\"a\",\"type\":\"txet\"}]}]",
		"fields[0].type", "three");
	CHECK_INT(table_count(db, "one"), 0);
	CHECK_INT(table_count(db, "two"), 0);
	CHECK_INT(listed_version(db, "old"), 1);
	CHECK_INT(test_column_exists(db, "old", "b"), 0);
	/* a dangling ref in the last document rolls back the earlier ones too */
	REFUSED(db,
		"[{\"form\":\"one\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]},"
		" {\"form\":\"two\",\"fields\":[{\"name\":\"r\",\"type\":\"ref\",\"form\":\"nowhere\"}]}]",
		NULL, "nowhere");
	CHECK_INT(table_count(db, "one"), 0);
	/* the handle still works afterwards, and a good array lands whole */
	test_apply(db, "[{\"form\":\"one\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]},"
		       " {\"form\":\"two\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}]");
	CHECK_INT(table_count(db, "one"), 1);
	CHECK_INT(table_count(db, "two"), 1);
	CHECK_OK(db, crm_record_insert(db, "one", "{\"a\":\"x\"}", NULL));
	crm_close(db);
}

TEST(test_form_define__failed_apply_inside_host_transaction_keeps_earlier_work)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, "{\"form\":\"a\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}");
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "a", "{\"x\":\"kept\"}", &id));
	CHECK_RC(db, crm_apply(db, "[{\"form\":\"b\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]},{\"form\":\"Bad\"}]"),
		 CRM_EINVAL);
	CHECK_INT(table_count(db, "b"), 0);
	CHECK_OK(db, crm_commit(db));
	CHECK_HAS(test_get(db, "a", id), "\"x\":\"kept\"");
	CHECK_INT(table_count(db, "b"), 0);
	crm_close(db);
}

/* ---- versions and normalised definitions ---- */

TEST(test_form_define__reapplying_identical_definition_is_a_no_op)
{
	crm_db *db = test_db();
	const char *def = "{\"form\":\"lead\",\"label\":\"Lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\","
			  "\"required\":true},{\"name\":\"score\",\"type\":\"integer\",\"default\":0}],"
			  "\"indexes\":[[\"score\"]]}";
	int64_t meta;

	test_apply(db, def);
	meta = test_sql_int(db, "SELECT count(*) FROM crm_meta");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"a\"}", NULL));
	test_apply(db, def);
	test_apply(db, def);
	CHECK_INT(listed_version(db, "lead"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta"), meta);
	/* different white space is the same definition */
	test_apply(db, "{ \"form\" : \"lead\", \"label\" : \"Lead\", \"fields\" : [ { \"name\" : \"name\", \"type\" : "
		       "\"text\", \"required\" : true }, { \"name\" : \"score\", \"type\" : \"integer\", \"default\" : 0 } "
		       "],\n\"indexes\":[[\"score\"]]\n}");
	CHECK_INT(listed_version(db, "lead"), 1);
	/* and so is the normalised definition crm_form_get hands back */
	{
		char *body = NULL;
		CHECK_OK(db, crm_form_get(db, "lead", &body));
		if (body)
			test_apply(db, body);
		crm_free(body);
	}
	CHECK_INT(listed_version(db, "lead"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead"), 1);
	crm_close(db);
}

TEST(test_form_define__changed_definition_bumps_the_version)
{
	crm_db *db = test_db();
	char *body = NULL;

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"kept\"}", NULL));
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\",\"default\":5}]}");
	CHECK_INT(listed_version(db, "lead"), 2);
	CHECK_HAS(test_get(db, "lead", 1), "\"name\":\"kept\",\"score\":5");
	/* a label-only change is a change too */
	test_apply(db, "{\"form\":\"lead\",\"label\":\"Leads\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\",\"default\":5}]}");
	CHECK_INT(listed_version(db, "lead"), 3);
	CHECK_OK(db, crm_form_get(db, "lead", &body));
	CHECK_HAS(body, "\"label\":\"Leads\"");
	crm_free(body);
	/* every version is kept */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta WHERE kind='form' AND name='lead'"), 3);
	crm_close(db);
}

TEST(test_form_define__form_get_returns_normalised_definition_with_ids)
{
	crm_db *db = test_db();
	char *body = NULL;
	cJSON *def, *fields;

	test_apply(db, "{\"form\":\"lead\",\"label\":\"Lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"id\":\"tel\",\"name\":\"phone\",\"type\":\"phone\"}]}");
	CHECK_OK(db, crm_form_get(db, "lead", &body));
	def = cJSON_Parse(body);
	CHECK(def != NULL);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(def, "form")), "lead");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(def, "label")), "Lead");
	fields = cJSON_GetObjectItemCaseSensitive(def, "fields");
	CHECK_INT(cJSON_GetArraySize(fields), 2);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(fields, 0), "id")), "name");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(fields, 1), "id")), "tel");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(fields, 1), "name")),
		  "phone");
	cJSON_Delete(def);
	crm_free(body);
	/* unknown form */
	body = (char *)"sentinel";
	CHECK_RC(db, crm_form_get(db, "nope", &body), CRM_ENOTFOUND);
	CHECK(body == NULL);
	crm_close(db);
}

TEST(test_form_define__rename_keeps_the_id_and_the_data)
{
	crm_db *db = test_db();
	char *body = NULL;

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"phone\",\"type\":\"text\"}]}");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"phone\":\"123\"}", NULL));
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"id\":\"phone\",\"name\":\"mobile\",\"type\":\"text\"}]}");
	CHECK_INT(listed_version(db, "lead"), 2);
	CHECK_HAS(test_get(db, "lead", 1), "\"mobile\":\"123\"");
	/* re-applying the renamed field without its id keeps the id: no change */
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"mobile\",\"type\":\"text\"}]}");
	CHECK_INT(listed_version(db, "lead"), 2);
	CHECK_OK(db, crm_form_get(db, "lead", &body));
	CHECK_HAS(body, "\"name\":\"mobile\"");
	CHECK_HAS(body, "\"id\":\"phone\"");
	crm_free(body);
	crm_close(db);
}

/* ---- clashes with tables that are not forms ---- */

TEST(test_form_define__existing_table_with_the_form_name_is_eexists)
{
	crm_db *db = test_db();
	snapshot before;

	CHECK_INT(crm__exec(db, "CREATE TABLE lead(x INTEGER); INSERT INTO lead VALUES(42);"
					"CREATE VIEW lead_view AS SELECT 1"),
		  CRM_OK);
	snap(db, &before);
	CHECK_RC(db, crm_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}"), CRM_EEXISTS);
	CHECK_HAS(crm_errmsg(db), "lead");
	CHECK_HAS(crm_errdetail(db), "\"code\":\"CRM_EEXISTS\"");
	check_unchanged(db, &before, __LINE__);
	CHECK_RC(db, crm_apply(db, "{\"form\":\"lead_view\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}"),
		 CRM_EEXISTS);
	/* inside an array the good documents are rolled back too */
	CHECK_RC(db, crm_apply(db, "[{\"form\":\"fine\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]},"
				   "{\"form\":\"lead\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}]"),
		 CRM_EEXISTS);
	check_unchanged(db, &before, __LINE__);
	CHECK_INT(table_count(db, "fine"), 0);
	/* the foreign table is untouched */
	CHECK_INT(test_sql_int(db, "SELECT x FROM lead"), 42);
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"a\"}", NULL), CRM_ENOTFOUND);
	crm_free(before.forms);
	crm_close(db);
}

/* ---- two handles on one file ---- */

static void remove_db_files(const char *path)
{
	char p[300];

	remove(path);
	snprintf(p, sizeof p, "%s-wal", path);
	remove(p);
	snprintf(p, sizeof p, "%s-shm", path);
	remove(p);
	snprintf(p, sizeof p, "%s-journal", path);
	remove(p);
}

TEST(test_form_define__second_handle_sees_metadata_changes_on_its_next_call)
{
	char path[256];
	crm_db *a = NULL, *b = NULL;
	char *body = NULL;
	int64_t id = 0;

	snprintf(path, sizeof path, "/tmp/libcrm_test_form_define_%ld.db", (long)getpid());
	remove_db_files(path);
	CHECK_INT(crm_open(&a, path, NULL), CRM_OK);
	CHECK_INT(crm_open(&b, path, NULL), CRM_OK);
	if (!a || !b)
		goto done;
	crm_clock_set(a, INT64_C(1767323045000));
	crm_clock_set(b, INT64_C(1767323045000));

	/* B looks first: no such form, and whatever it cached must not stick */
	CHECK_RC(b, crm_form_get(b, "lead", &body), CRM_ENOTFOUND);
	CHECK_RC(b, crm_record_insert(b, "lead", "{\"name\":\"x\"}", NULL), CRM_ENOTFOUND);

	test_apply(a, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}");
	CHECK_OK(b, crm_form_get(b, "lead", &body));
	CHECK_HAS(body, "\"name\":\"name\"");
	crm_free(body);
	body = NULL;
	CHECK_OK(b, crm_record_insert(b, "lead", "{\"name\":\"from b\"}", &id));
	CHECK_HAS(test_get(a, "lead", id), "\"name\":\"from b\"");
	CHECK_INT(listed_version(b, "lead"), 1);

	/* A changes the form: B, which has version 1 compiled, sees the new field */
	test_apply(a, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		      "{\"name\":\"score\",\"type\":\"integer\",\"default\":7}]}");
	CHECK_OK(b, crm_record_insert(b, "lead", "{\"name\":\"again\",\"score\":3}", &id));
	CHECK_HAS(test_get(b, "lead", id), "\"name\":\"again\",\"score\":3");
	CHECK_HAS(test_get(b, "lead", 1), "\"score\":7");
	CHECK_INT(listed_version(b, "lead"), 2);

	/* A removes it again: B refuses the field instead of writing a dropped column */
	test_apply_lossy(a, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}");
	CHECK_RC(b, crm_record_insert(b, "lead", "{\"name\":\"late\",\"score\":1}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(b), "\"code\":\"unknown_field\"");
	CHECK_RC(b, crm_record_update(b, "lead", 1, "{\"score\":1}", 0), CRM_ECONSTRAINT);

	/* and B's own change builds on A's latest version */
	test_apply(b, "{\"form\":\"lead\",\"label\":\"Lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}");
	CHECK_INT(listed_version(a, "lead"), 4);
	CHECK_OK(a, crm_form_get(a, "lead", &body));
	CHECK_HAS(body, "\"label\":\"Lead\"");
	crm_free(body);
done:
	crm_close(a);
	crm_close(b);
	remove_db_files(path);
}

/* Counts far outside their range are refused, not converted (found by fuzzing). */
TEST(test_form_define__refuses_huge_counts)
{
	crm_db *db = test_db();

	CHECK_RC(db, crm_apply(db, "{\"form\":\"x\",\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"max_length\":1e30}]}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "fields[0].max_length");
	CHECK_RC(db, crm_apply(db, "{\"form\":\"x\",\"fields\":[{\"name\":\"a\",\"type\":\"text\","
				   "\"max_length\":9223372036854775808}]}"),
		 CRM_EINVAL);
	CHECK_RC(db, crm_apply(db, "{\"form\":\"x\",\"fields\":[{\"name\":\"a\",\"type\":\"decimal\",\"scale\":-1e300}]}"),
		 CRM_EINVAL);
	crm_close(db);
}

TEST_LIST(T(test_form_define__refuses_huge_counts), T(test_form_define__every_type_round_trips_a_value),
	  T(test_form_define__absent_values_of_every_type_read_back_as_null),
	  T(test_form_define__decimals_read_back_with_exactly_scale_digits),
	  T(test_form_define__datetimes_are_normalised_to_utc_milliseconds),
	  T(test_form_define__multi_enum_reads_back_in_option_order),
	  T(test_form_define__booleans_and_json_values_round_trip),
	  T(test_form_define__dates_round_trip_across_the_calendar_range),
	  T(test_form_define__defined_form_is_listed_with_version_1_and_label),
	  T(test_form_define__crm_form_define_is_the_same_as_apply),
	  T(test_form_define__documented_example_is_accepted),
	  T(test_form_define__malformed_json_reports_the_byte_offset),
	  T(test_form_define__non_object_documents_are_refused),
	  T(test_form_define__unknown_form_key_is_refused_with_its_path),
	  T(test_form_define__typo_in_field_key_is_refused_not_ignored),
	  T(test_form_define__labels_and_descriptions_must_be_strings),
	  T(test_form_define__unknown_type_is_refused),
	  T(test_form_define__bad_form_names_are_refused),
	  T(test_form_define__bad_field_names_are_refused),
	  T(test_form_define__system_column_names_are_refused_as_field_names),
	  T(test_form_define__duplicate_field_names_and_ids_are_refused),
	  T(test_form_define__fields_member_must_hold_1_to_500_fields),
	  T(test_form_define__options_are_checked),
	  T(test_form_define__scale_is_0_to_9_and_only_for_decimals),
	  T(test_form_define__pattern_is_checked_when_applied),
	  T(test_form_define__min_and_max_are_checked),
	  T(test_form_define__length_bounds_are_checked),
	  T(test_form_define__default_must_satisfy_its_own_field_rules),
	  T(test_form_define__ref_needs_an_existing_or_co_applied_form),
	  T(test_form_define__unique_is_refused_on_unsuitable_types),
	  T(test_form_define__index_flag_is_refused_on_unindexable_types),
	  T(test_form_define__indexes_and_composite_uniques_are_checked),
	  T(test_form_define__computed_fields_are_checked),
	  T(test_form_define__required_when_condition_is_checked),
	  T(test_form_define__array_with_one_bad_document_applies_nothing),
	  T(test_form_define__failed_apply_inside_host_transaction_keeps_earlier_work),
	  T(test_form_define__reapplying_identical_definition_is_a_no_op),
	  T(test_form_define__changed_definition_bumps_the_version),
	  T(test_form_define__form_get_returns_normalised_definition_with_ids),
	  T(test_form_define__rename_keeps_the_id_and_the_data),
	  T(test_form_define__existing_table_with_the_form_name_is_eexists),
	  T(test_form_define__second_handle_sees_metadata_changes_on_its_next_call))
