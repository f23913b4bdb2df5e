/* Validation on writes through the public API (docs/metadata.md, "Records
 * and validation"): every constraint, hostile input, every failing field
 * reported at once, updates validated as merged records, and after every
 * failing call nothing changed. */
#include "test.h"

#include <cJSON.h>

#include "helpers.h"

/* ---- fixtures ---- */

static const char lead_forms[] =
	"[{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]},"
	" {\"form\":\"lead\",\"fields\":["
	"  {\"name\":\"name\",\"type\":\"text\",\"required\":true,\"max_length\":20},"
	"  {\"name\":\"nick\",\"type\":\"text\",\"min_length\":2},"
	"  {\"name\":\"phone\",\"type\":\"phone\",\"unique\":true},"
	"  {\"name\":\"region\",\"type\":\"enum\",\"options\":[\"north\",\"south\",\"east\",\"west\"]},"
	"  {\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b\",\"c\"]},"
	"  {\"name\":\"score\",\"type\":\"integer\",\"default\":0,\"min\":0,\"max\":100},"
	"  {\"name\":\"budget\",\"type\":\"decimal\",\"scale\":2,\"min\":\"0.01\",\"max\":\"999.99\"},"
	"  {\"name\":\"ratio\",\"type\":\"number\",\"min\":-1.5,\"max\":1.5},"
	"  {\"name\":\"born\",\"type\":\"date\",\"min\":\"2000-01-01\",\"max\":\"2030-12-31\"},"
	"  {\"name\":\"seen\",\"type\":\"datetime\",\"min\":\"2026-01-01T00:00:00Z\",\"max\":\"2026-12-31T23:59:59.999Z\"},"
	"  {\"name\":\"vip\",\"type\":\"boolean\"},"
	"  {\"name\":\"email\",\"type\":\"email\"},"
	"  {\"name\":\"site\",\"type\":\"url\"},"
	"  {\"name\":\"has_b\",\"type\":\"text\",\"pattern\":\"b\"},"
	"  {\"name\":\"only_b\",\"type\":\"text\",\"pattern\":\"^b$\"},"
	"  {\"name\":\"two\",\"type\":\"text\",\"pattern\":\"^.{2}$\"},"
	"  {\"name\":\"aplus\",\"type\":\"text\",\"pattern\":\"^(a+)+$\"},"
	"  {\"name\":\"data\",\"type\":\"json\"},"
	"  {\"name\":\"notes\",\"type\":\"long_text\"},"
	"  {\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"},"
	"  {\"name\":\"channel\",\"type\":\"enum\",\"options\":[\"web\",\"wechat\"]},"
	"  {\"name\":\"external_id\",\"type\":\"text\","
	"   \"required_when\":{\"field\":\"channel\",\"op\":\"eq\",\"value\":\"wechat\"}},"
	"  {\"name\":\"total\",\"type\":\"computed\",\"lua\":\"1\",\"returns\":\"integer\"}],"
	" \"unique\":[[\"channel\",\"external_id\"]]}]";

/* A database with the lead form and customer 1. */
static crm_db *lead_db(void)
{
	crm_db *db = test_db();

	test_apply(db, lead_forms);
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"ACME\"}", NULL));
	return db;
}

static int64_t lead_count(crm_db *db) { return test_sql_int(db, "SELECT count(*) FROM lead"); }

/* ---- reading the error detail ---- */

static cJSON *detail_errors(crm_db *db, cJSON **root)
{
	*root = cJSON_Parse(crm_errdetail(db));
	return cJSON_GetObjectItemCaseSensitive(*root, "errors");
}

/* Number of entries in the last error's "errors" list (-1 when none). */
static int error_count(crm_db *db)
{
	cJSON *root, *errs = detail_errors(db, &root);
	int n = cJSON_IsArray(errs) ? cJSON_GetArraySize(errs) : -1;

	cJSON_Delete(root);
	return n;
}

/* The message of the entry for (field, code), copied, or NULL when absent. */
static const char *error_message(crm_db *db, const char *field, const char *code)
{
	static char msg[512];
	cJSON *root, *errs = detail_errors(db, &root), *e;
	const char *found = NULL;

	cJSON_ArrayForEach(e, errs)
	{
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "field"));
		const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
		if (f && c && strcmp(f, field) == 0 && strcmp(c, code) == 0) {
			snprintf(msg, sizeof msg, "%s", m ? m : "");
			found = msg;
			break;
		}
	}
	cJSON_Delete(root);
	return found;
}

#define CHECK_ERROR(db, field, code)                                                                  \
	do {                                                                                          \
		if (!error_message(db, field, code)) {                                                \
			fprintf(stderr, "%s:%d: no error {%s, %s} in %s\n", __FILE__, __LINE__, field, code, \
				crm_errdetail(db));                                                   \
			test_failures_++;                                                             \
		}                                                                                     \
	} while (0)

/* The last error's message and byte offset, captured by the helpers below
 * before they run the count query. */
static char last_msg[1024];
static int last_offset;

/* One write that must fail with `rc`; for CRM_ECONSTRAINT with exactly one
 * error {field, code} (field NULL: do not check the list). Afterwards the
 * form's record count must be unchanged. `id` 0 inserts, else updates. */
static void rejected_(crm_db *db, const char *form, int64_t id, const char *json, int rc_want, const char *field,
		      const char *code, int line)
{
	char sql[128];
	int64_t before, after;
	int rc;

	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", form);
	before = test_sql_int(db, sql);
	rc = id ? crm_record_update(db, form, id, json, 0) : crm_record_insert(db, form, json, NULL);
	snprintf(last_msg, sizeof last_msg, "%s", crm_errmsg(db));
	last_offset = crm_erroffset(db);
	if (rc != rc_want) {
		fprintf(stderr, "%s:%d: %s of %s returned %s, expected %s: %s\n", __FILE__, line, id ? "update" : "insert",
			json, crm_errstr(rc), crm_errstr(rc_want), crm_errdetail(db));
		test_failures_++;
	} else if (field) {
		if (error_count(db) != 1 || !error_message(db, field, code)) {
			fprintf(stderr, "%s:%d: %s: expected exactly {%s, %s}, got %s\n", __FILE__, line, json, field, code,
				crm_errdetail(db));
			test_failures_++;
		}
	}
	after = test_sql_int(db, sql);
	if (before != after) {
		fprintf(stderr, "%s:%d: record count changed %lld -> %lld\n", __FILE__, line, (long long)before,
			(long long)after);
		test_failures_++;
	}
}
#define REJECTED(db, form, json, field, code) rejected_(db, form, 0, json, CRM_ECONSTRAINT, field, code, __LINE__)
#define REJECTED_RC(db, form, json, rc) rejected_(db, form, 0, json, rc, NULL, NULL, __LINE__)
#define REJECTED_UPDATE(db, form, id, json, field, code) \
	rejected_(db, form, id, json, CRM_ECONSTRAINT, field, code, __LINE__)

/* A lead with name "n" plus `extra` members ("" for none) must be refused
 * with exactly {field, code}. */
static void lead_rejected_(crm_db *db, const char *extra, const char *field, const char *code, int line)
{
	char json[4096];

	snprintf(json, sizeof json, "{\"name\":\"n\"%s%s}", *extra ? "," : "", extra);
	rejected_(db, "lead", 0, json, CRM_ECONSTRAINT, field, code, line);
}
#define LEAD_REJECTED(db, extra, field, code) lead_rejected_(db, extra, field, code, __LINE__)

/* A lead with name "n" plus `extra` is accepted; its JSON must contain `want` (NULL: no check). */
static int64_t lead_accepted_(crm_db *db, const char *extra, const char *want, int line)
{
	char json[4096];
	int64_t id = 0;
	int rc;

	snprintf(json, sizeof json, "{\"name\":\"n\"%s%s}", *extra ? "," : "", extra);
	rc = crm_record_insert(db, "lead", json, &id);
	if (rc != CRM_OK) {
		fprintf(stderr, "%s:%d: insert of %s failed: %s\n", __FILE__, line, json, crm_errdetail(db));
		test_failures_++;
		return 0;
	}
	if (want) {
		const char *got = test_get(db, "lead", id);
		if (!got || !strstr(got, want)) {
			fprintf(stderr, "%s:%d: record %s does not contain %s\n", __FILE__, line, got ? got : "(null)", want);
			test_failures_++;
		}
	}
	return id;
}
#define LEAD_ACCEPTED(db, extra, want) lead_accepted_(db, extra, want, __LINE__)

/* ---- required ---- */

TEST(test_validate__required_counts_missing_null_and_empty_string_as_missing)
{
	crm_db *db = lead_db();

	REJECTED(db, "lead", "{}", "name", "required");
	CHECK_STR(last_msg, "lead: name is required");
	REJECTED(db, "lead", "{\"name\":null}", "name", "required");
	REJECTED(db, "lead", "{\"name\":\"\"}", "name", "required");
	REJECTED(db, "lead", "{\"nick\":\"xy\"}", "name", "required");
	CHECK_INT(lead_count(db), 0);
	LEAD_ACCEPTED(db, "", "\"name\":\"n\"");
	/* a single space is a value */
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\" \"}", NULL));
	CHECK_INT(lead_count(db), 2);
	crm_close(db);
}

TEST(test_validate__required_accepts_false_and_zero_but_not_empty_multi_enum)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"r\",\"fields\":[{\"name\":\"flag\",\"type\":\"boolean\",\"required\":true},"
		       "{\"name\":\"n\",\"type\":\"integer\",\"required\":true},"
		       "{\"name\":\"m\",\"type\":\"multi_enum\",\"options\":[\"x\"],\"required\":true}]}");
	CHECK_OK(db, crm_record_insert(db, "r", "{\"flag\":false,\"n\":0,\"m\":[\"x\"]}", NULL));
	REJECTED(db, "r", "{\"flag\":false,\"n\":0,\"m\":[]}", "m", "required");
	REJECTED(db, "r", "{\"flag\":null,\"n\":0,\"m\":[\"x\"]}", "flag", "required");
	REJECTED(db, "r", "{\"flag\":true,\"m\":[\"x\"]}", "n", "required");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM r"), 1);
	crm_close(db);
}

TEST(test_validate__required_when_applies_only_while_its_condition_holds)
{
	crm_db *db = lead_db();

	LEAD_REJECTED(db, "\"channel\":\"wechat\"", "external_id", "required");
	LEAD_REJECTED(db, "\"channel\":\"wechat\",\"external_id\":\"\"", "external_id", "required");
	LEAD_REJECTED(db, "\"channel\":\"wechat\",\"external_id\":null", "external_id", "required");
	LEAD_ACCEPTED(db, "\"channel\":\"wechat\",\"external_id\":\"wx1\"", "\"external_id\":\"wx1\"");
	LEAD_ACCEPTED(db, "\"channel\":\"web\"", "\"external_id\":null");
	LEAD_ACCEPTED(db, "", "\"channel\":null,\"external_id\":null");
	CHECK_INT(lead_count(db), 3);
	crm_close(db);
}

TEST(test_validate__required_when_takes_any_filter_condition)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"deal\",\"fields\":[{\"name\":\"amount\",\"type\":\"decimal\"},"
		       "{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"won\",\"lost\"]},"
		       "{\"name\":\"approver\",\"type\":\"text\",\"required_when\":{\"and\":["
		       "{\"field\":\"amount\",\"op\":\"ge\",\"value\":\"10000.00\"},"
		       "{\"field\":\"stage\",\"op\":\"in\",\"value\":[\"won\",\"lost\"]}]}}]}");
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"amount\":9999.99,\"stage\":\"won\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"amount\":10000,\"stage\":\"new\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"stage\":\"lost\"}", NULL));
	REJECTED(db, "deal", "{\"amount\":10000,\"stage\":\"won\"}", "approver", "required");
	REJECTED(db, "deal", "{\"amount\":\"25000.5\",\"stage\":\"lost\"}", "approver", "required");
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"amount\":10000,\"stage\":\"won\",\"approver\":\"boss\"}", NULL));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal"), 4);
	crm_close(db);
}

/* ---- uniqueness ---- */

TEST(test_validate__unique_refuses_duplicate_naming_the_existing_record)
{
	crm_db *db = lead_db();
	const char *msg;

	LEAD_ACCEPTED(db, "\"phone\":\"111\"", NULL);
	LEAD_ACCEPTED(db, "\"phone\":\"222\"", NULL);
	LEAD_ACCEPTED(db, "\"phone\":\"+86 138-0000-0000\"", NULL);
	LEAD_REJECTED(db, "\"phone\":\"222\"", "phone", "unique");
	msg = error_message(db, "phone", "unique");
	CHECK_HAS(msg, "record 2");
	CHECK_HAS(last_msg, "phone must be unique");
	LEAD_REJECTED(db, "\"phone\":\"+86 138-0000-0000\"", "phone", "unique");
	CHECK_HAS(error_message(db, "phone", "unique"), "record 3");
	CHECK_INT(lead_count(db), 3);
	crm_close(db);
}

TEST(test_validate__unique_allows_any_number_of_empty_values)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "", "\"phone\":null");
	LEAD_ACCEPTED(db, "", "\"phone\":null");
	LEAD_ACCEPTED(db, "\"phone\":null", NULL);
	LEAD_ACCEPTED(db, "\"phone\":\"\"", "\"phone\":null");
	CHECK_INT(lead_count(db), 4);
	crm_close(db);
}

TEST(test_validate__unique_with_nulls_not_distinct_allows_one_empty_value)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, "{\"form\":\"ticket\",\"fields\":[{\"name\":\"code\",\"type\":\"text\",\"unique\":true,"
		       "\"nulls_distinct\":false},{\"name\":\"title\",\"type\":\"text\"}]}");
	CHECK_OK(db, crm_record_insert(db, "ticket", "{\"title\":\"first\"}", &id));
	REJECTED(db, "ticket", "{\"title\":\"second\"}", "code", "unique");
	CHECK_HAS(error_message(db, "code", "unique"), "record 1");
	REJECTED(db, "ticket", "{\"code\":\"\"}", "code", "unique");
	REJECTED(db, "ticket", "{\"code\":null}", "code", "unique");
	CHECK_OK(db, crm_record_insert(db, "ticket", "{\"code\":\"A\"}", NULL));
	REJECTED(db, "ticket", "{\"code\":\"A\"}", "code", "unique");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM ticket"), 2);
	/* the one empty record may be updated and stay empty */
	CHECK_OK(db, crm_record_update(db, "ticket", id, "{\"title\":\"renamed\"}", 0));
	crm_close(db);
}

TEST(test_validate__unique_compares_stored_values_not_spellings)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"u\",\"fields\":[{\"name\":\"amount\",\"type\":\"decimal\",\"unique\":true},"
		       "{\"name\":\"at\",\"type\":\"datetime\",\"unique\":true}]}");
	CHECK_OK(db, crm_record_insert(db, "u", "{\"amount\":12.3,\"at\":\"2026-01-31T09:30:00Z\"}", NULL));
	REJECTED(db, "u", "{\"amount\":\"12.30\"}", "amount", "unique");
	REJECTED(db, "u", "{\"amount\":1.23e1}", "amount", "unique");
	REJECTED(db, "u", "{\"at\":\"2026-01-31T17:30:00+08:00\"}", "at", "unique");
	CHECK_OK(db, crm_record_insert(db, "u", "{\"amount\":12.31,\"at\":\"2026-01-31T09:30:00.001Z\"}", NULL));
	crm_close(db);
}

TEST(test_validate__composite_unique_refuses_only_the_same_combination)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"channel\":\"wechat\",\"external_id\":\"X\"", NULL);
	LEAD_REJECTED(db, "\"channel\":\"wechat\",\"external_id\":\"X\"", "channel,external_id", "unique");
	CHECK_HAS(error_message(db, "channel,external_id", "unique"), "record 1 has the same values");
	LEAD_ACCEPTED(db, "\"channel\":\"web\",\"external_id\":\"X\"", NULL);
	LEAD_ACCEPTED(db, "\"channel\":\"wechat\",\"external_id\":\"Y\"", NULL);
	/* an empty member makes the key empty: any number allowed */
	LEAD_ACCEPTED(db, "\"channel\":\"web\"", NULL);
	LEAD_ACCEPTED(db, "\"channel\":\"web\"", NULL);
	LEAD_ACCEPTED(db, "\"external_id\":\"X\"", NULL);
	LEAD_ACCEPTED(db, "\"external_id\":\"X\"", NULL);
	CHECK_INT(lead_count(db), 7);
	crm_close(db);
}

TEST(test_validate__composite_unique_with_nulls_not_distinct)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"slot\",\"fields\":[{\"name\":\"room\",\"type\":\"text\"},{\"name\":\"day\",\"type\":\"date\"}],"
		       "\"unique\":[{\"fields\":[\"room\",\"day\"],\"nulls_distinct\":false}]}");
	CHECK_OK(db, crm_record_insert(db, "slot", "{\"room\":\"A\"}", NULL));
	REJECTED(db, "slot", "{\"room\":\"A\"}", "room,day", "unique");
	CHECK_OK(db, crm_record_insert(db, "slot", "{\"room\":\"A\",\"day\":\"2026-01-01\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "slot", "{\"room\":\"B\"}", NULL));
	REJECTED(db, "slot", "{\"room\":\"A\",\"day\":\"2026-01-01\"}", "room,day", "unique");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM slot"), 3);
	crm_close(db);
}

/* ---- defaults ---- */

TEST(test_validate__default_applies_when_absent_but_not_to_explicit_null)
{
	crm_db *db = lead_db();
	int64_t id;

	id = LEAD_ACCEPTED(db, "", "\"score\":0");
	id = LEAD_ACCEPTED(db, "\"score\":null", "\"score\":null");
	/* an update that leaves the field out does not bring the default back */
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"nick\":\"zz\"}", 0));
	CHECK_HAS(test_get(db, "lead", id), "\"score\":null");
	LEAD_ACCEPTED(db, "\"score\":42", "\"score\":42");
	crm_close(db);
}

TEST(test_validate__defaults_of_every_kind_are_stored)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, "{\"form\":\"d\",\"fields\":[{\"name\":\"t\",\"type\":\"text\",\"default\":\"hi\"},"
		       "{\"name\":\"dec\",\"type\":\"decimal\",\"default\":\"1.5\"},"
		       "{\"name\":\"b\",\"type\":\"boolean\",\"default\":false},"
		       "{\"name\":\"on\",\"type\":\"date\",\"default\":\"2026-01-31\"},"
		       "{\"name\":\"at\",\"type\":\"datetime\",\"default\":\"2026-01-31T10:00:00+02:00\"},"
		       "{\"name\":\"e\",\"type\":\"enum\",\"options\":[\"x\",\"y\"],\"default\":\"y\"},"
		       "{\"name\":\"m\",\"type\":\"multi_enum\",\"options\":[\"x\",\"y\"],\"default\":[\"y\",\"x\"]},"
		       "{\"name\":\"j\",\"type\":\"json\",\"default\":{\"k\":1}}]}");
	CHECK_OK(db, crm_record_insert(db, "d", "{}", &id));
	CHECK_HAS(test_get(db, "d", id),
		  "\"t\":\"hi\",\"dec\":1.50,\"b\":false,\"on\":\"2026-01-31\",\"at\":\"2026-01-31T08:00:00.000Z\","
		  "\"e\":\"y\",\"m\":[\"x\",\"y\"],\"j\":{\"k\":1}");
	crm_close(db);
}

/* ---- bounds ---- */

TEST(test_validate__integer_bounds_are_inclusive)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"score\":0", "\"score\":0");
	LEAD_ACCEPTED(db, "\"score\":100", "\"score\":100");
	LEAD_REJECTED(db, "\"score\":-1", "score", "min");
	CHECK_STR(error_message(db, "score", "min"), "score must be at least 0");
	LEAD_REJECTED(db, "\"score\":101", "score", "max");
	CHECK_STR(error_message(db, "score", "max"), "score must be at most 100");
	LEAD_REJECTED(db, "\"score\":-9223372036854775807", "score", "min");
	crm_close(db);
}

TEST(test_validate__decimal_bounds_are_inclusive)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"budget\":0.01", "\"budget\":0.01");
	LEAD_ACCEPTED(db, "\"budget\":\"999.99\"", "\"budget\":999.99");
	LEAD_REJECTED(db, "\"budget\":0", "budget", "min");
	CHECK_STR(error_message(db, "budget", "min"), "budget must be at least 0.01");
	LEAD_REJECTED(db, "\"budget\":\"1000\"", "budget", "max");
	CHECK_STR(error_message(db, "budget", "max"), "budget must be at most 999.99");
	/* beyond the scale is a format error, not silently rounded into range */
	LEAD_REJECTED(db, "\"budget\":999.991", "budget", "format");
	crm_close(db);
}

TEST(test_validate__number_bounds_are_inclusive)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"ratio\":-1.5", "\"ratio\":-1.5");
	LEAD_ACCEPTED(db, "\"ratio\":1.5", "\"ratio\":1.5");
	LEAD_ACCEPTED(db, "\"ratio\":0", NULL);
	LEAD_REJECTED(db, "\"ratio\":-1.5000001", "ratio", "min");
	LEAD_REJECTED(db, "\"ratio\":1.6", "ratio", "max");
	LEAD_REJECTED(db, "\"ratio\":1e300", "ratio", "max");
	crm_close(db);
}

TEST(test_validate__date_bounds_are_inclusive)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"born\":\"2000-01-01\"", "\"born\":\"2000-01-01\"");
	LEAD_ACCEPTED(db, "\"born\":\"2030-12-31\"", "\"born\":\"2030-12-31\"");
	LEAD_REJECTED(db, "\"born\":\"1999-12-31\"", "born", "min");
	CHECK_STR(error_message(db, "born", "min"), "born must be at least \"2000-01-01\"");
	LEAD_REJECTED(db, "\"born\":\"2031-01-01\"", "born", "max");
	LEAD_REJECTED(db, "\"born\":\"0001-01-01\"", "born", "min");
	crm_close(db);
}

TEST(test_validate__datetime_bounds_are_inclusive_in_utc)
{
	crm_db *db = lead_db();

	/* the same instant as the minimum, written in another zone */
	LEAD_ACCEPTED(db, "\"seen\":\"2026-01-01T08:00:00+08:00\"", "\"seen\":\"2026-01-01T00:00:00.000Z\"");
	LEAD_ACCEPTED(db, "\"seen\":\"2026-12-31T23:59:59.999Z\"", "\"seen\":\"2026-12-31T23:59:59.999Z\"");
	LEAD_REJECTED(db, "\"seen\":\"2026-01-01T07:59:59.999+08:00\"", "seen", "min");
	CHECK_STR(error_message(db, "seen", "min"), "seen must be at least \"2026-01-01T00:00:00.000Z\"");
	LEAD_REJECTED(db, "\"seen\":\"2027-01-01T00:00:00Z\"", "seen", "max");
	/* 2026-12-31T20:00:00-05:00 is 2027-01-01T01:00Z */
	LEAD_REJECTED(db, "\"seen\":\"2026-12-31T20:00:00-05:00\"", "seen", "max");
	crm_close(db);
}

/* ---- lengths and patterns ---- */

/* `n` copies of the UTF-8 character `ch`, NUL-terminated, in `out`. */
static const char *repeat(char *out, size_t size, const char *ch, int n)
{
	size_t len = strlen(ch), at = 0;

	for (int i = 0; i < n && at + len < size; i++, at += len)
		memcpy(out + at, ch, len);
	out[at] = 0;
	return out;
}

TEST(test_validate__lengths_count_unicode_characters_not_bytes)
{
	crm_db *db = lead_db();
	char s[256], extra[300];

	/* 20 Chinese characters (60 bytes) fit max_length 20 */
	snprintf(extra, sizeof extra, "{\"name\":\"%s\"}", repeat(s, sizeof s, "\xe4\xb8\xad", 20));
	CHECK_OK(db, crm_record_insert(db, "lead", extra, NULL));
	snprintf(extra, sizeof extra, "{\"name\":\"%s\"}", repeat(s, sizeof s, "\xe4\xb8\xad", 21));
	REJECTED(db, "lead", extra, "name", "max_length");
	CHECK_STR(error_message(db, "name", "max_length"), "name must have at most 20 characters");
	/* four-byte characters count once too */
	snprintf(extra, sizeof extra, "{\"name\":\"%s\"}", repeat(s, sizeof s, "\xf0\x9f\x98\x80", 20));
	CHECK_OK(db, crm_record_insert(db, "lead", extra, NULL));
	/* escaped characters are counted after decoding */
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d"
						   "\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d"
						   "\\u4e2d\\u4e2d\\u4e2d\"}",
				       NULL));
	snprintf(extra, sizeof extra, "{\"name\":\"%s\"}", repeat(s, sizeof s, "a", 21));
	REJECTED(db, "lead", extra, "name", "max_length");
	/* min_length 2 */
	LEAD_REJECTED(db, "\"nick\":\"\xe4\xb8\xad\"", "nick", "min_length");
	CHECK_STR(error_message(db, "nick", "min_length"), "nick must have at least 2 characters");
	LEAD_ACCEPTED(db, "\"nick\":\"\xe4\xb8\xad\xe6\x96\x87\"", "\"nick\":\"\xe4\xb8\xad\xe6\x96\x87\"");
	CHECK_INT(lead_count(db), 4);
	crm_close(db);
}

TEST(test_validate__pattern_is_an_unanchored_search)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"has_b\":\"abc\"", "\"has_b\":\"abc\"");
	LEAD_ACCEPTED(db, "\"has_b\":\"b\"", NULL);
	LEAD_REJECTED(db, "\"has_b\":\"xyz\"", "has_b", "pattern");
	CHECK_HAS(error_message(db, "has_b", "pattern"), "has_b does not match the pattern b");
	LEAD_REJECTED(db, "\"only_b\":\"abc\"", "only_b", "pattern");
	LEAD_REJECTED(db, "\"only_b\":\"b\\n\"", "only_b", "pattern"); /* '$' is the very end */
	LEAD_ACCEPTED(db, "\"only_b\":\"b\"", "\"only_b\":\"b\"");
	/* an empty string is no value: the pattern does not apply */
	LEAD_ACCEPTED(db, "\"only_b\":\"\"", "\"only_b\":null");
	crm_close(db);
}

TEST(test_validate__pattern_matches_in_unicode_mode)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"two\":\"\xe4\xb8\xad\xe6\x96\x87\"", "\"two\":\"\xe4\xb8\xad\xe6\x96\x87\"");
	LEAD_ACCEPTED(db, "\"two\":\"ab\"", NULL);
	LEAD_ACCEPTED(db, "\"two\":\"\xf0\x9f\x98\x80!\"", NULL);
	LEAD_REJECTED(db, "\"two\":\"\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\"", "two", "pattern");
	LEAD_REJECTED(db, "\"two\":\"\xe4\xb8\xad\"", "two", "pattern");
	crm_close(db);
}

TEST(test_validate__pattern_applies_to_phone_email_and_url)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"p\",\"fields\":[{\"name\":\"mobile\",\"type\":\"phone\",\"pattern\":\"^1[3-9]\\\\d{9}$\"},"
		       "{\"name\":\"mail\",\"type\":\"email\",\"pattern\":\"@example\\\\.com$\"}]}");
	CHECK_OK(db, crm_record_insert(db, "p", "{\"mobile\":\"13800000000\",\"mail\":\"a@example.com\"}", NULL));
	REJECTED(db, "p", "{\"mobile\":\"12800000000\"}", "mobile", "pattern");
	REJECTED(db, "p", "{\"mail\":\"a@example.org\"}", "mail", "pattern");
	/* the type's own format is checked first: one error, not two */
	REJECTED(db, "p", "{\"mobile\":\"abc\"}", "mobile", "format");
	crm_close(db);
}

/* ---- options ---- */

/* JSON Schema's patterns are ECMA-262 regular expressions in Unicode mode:
 * long property names and "name=value" forms mean what they mean there. */
TEST(test_validate__pattern_unicode_properties_take_ecma_262_names)
{
	static const struct {
		const char *pattern, *good, *bad;
	} cases[] = {
		{ "^\\\\p{Letter}+$", "Hello\xcf\x80", "123" },
		{ "^\\\\p{General_Category=Letter}+$", "abc", "a1" },
		{ "^\\\\p{gc=L}+$", "abc", "a_" },
		{ "^\\\\p{gc=Uppercase_Letter}$", "A", "a" },
		{ "^\\\\p{Lowercase_Letter}\\\\p{Cased_Letter}$", "aB", "1B" },
		{ "^\\\\p{Script=Greek}+$", "\xcf\x80\xce\xb1", "pa" },
		{ "^\\\\p{sc=Han}+$", "\xe4\xb8\xad\xe6\x96\x87", "a" },
		{ "^\\\\P{Letter}+$", "123", "1a" },
		{ "^[\\\\p{Decimal_Number}_]+$", "4_2\xe0\xa7\xaa", "4a" },
		{ "^\\\\p{digit}+$", "\xe0\xa7\xaa\xe0\xa7\xa8", "x" },
		{ "^\\\\p{Punctuation}$", "!", "a" },
		{ "^\\\\p{Assigned}$", "a", "\xcd\xb8" }, /* U+0378 is unassigned */
		{ "^\\\\p{L}\\\\p{Lu}$", "aB", "ab" },
		/* an escaped backslash is not an escape: \\p{Letter} is literal text */
		{ "^\\\\\\\\p\\\\{Letter\\\\}$", "\\\\p{Letter}", "a" },
		/* ECMA-262's \\s is Unicode white space; \\d and \\w stay ASCII */
		{ "^\\\\s+$", " \\u00a0\\ufeff\\u2003\\u2029", "\\u0001" },
		{ "^\\\\S$", "\\u2013", "\\u00a0" },
		{ "^[\\\\s,]+$", ", \\u3000", "x" },
		{ "^\\\\d\\\\w$", "1a", "\xe0\xa7\xaa\xc3\xa9" },
	};
	char def[256], json[256];

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		crm_db *db = test_db();

		snprintf(def, sizeof def, "{\"form\":\"f\",\"fields\":[{\"name\":\"t\",\"type\":\"text\",\"pattern\":\"%s\"}]}",
			 cases[i].pattern);
		if (crm_apply(db, def) != CRM_OK) {
			fprintf(stderr, "pattern %s refused: %s\n", cases[i].pattern, crm_errdetail(db));
			test_failures_++;
			crm_close(db);
			continue;
		}
		snprintf(json, sizeof json, "{\"t\":\"%s\"}", cases[i].good);
		CHECK_OK(db, crm_record_insert(db, "f", json, NULL));
		snprintf(json, sizeof json, "{\"t\":\"%s\"}", cases[i].bad);
		REJECTED(db, "f", json, "t", "pattern");
		crm_close(db);
	}
}

TEST(test_validate__pattern_unknown_property_name_is_refused_at_its_offset)
{
	static const struct {
		const char *pattern, *message;
		int offset;
	} cases[] = {
		{ "ab\\\\p{Lettre}", "Lettre", 2 },
		{ "x\\\\p{gc=Greek}", "Greek", 1 },
		{ "\\\\p{Letter}\\\\p{General_Category=Nope}", "Nope", 10 },
		{ "\\\\p{Script=Klingon}", "bad pattern", 0 },
		{ "\\\\p{Letter", "bad pattern", 0 },
	};
	char def[256];

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		crm_db *db = test_db();

		snprintf(def, sizeof def,
			 "{\"form\":\"f\",\"fields\":[{\"name\":\"t\",\"type\":\"text\",\"pattern\":\"%s\"}]}",
			 cases[i].pattern);
		CHECK_RC(db, crm_apply(db, def), CRM_EINVAL);
		CHECK_HAS(crm_errdetail(db), "\"path\":\"fields[0].pattern\"");
		CHECK_HAS(crm_errmsg(db), cases[i].message);
		if (cases[i].offset)
			CHECK_HAS(crm_errmsg(db), cases[i].offset == 2 ? "offset 2" : cases[i].offset == 1 ? "offset 1" : "offset 10");
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta WHERE kind='form'"), 0);
		crm_close(db);
	}
}

/* exclusive_min / exclusive_max: JSON Schema's exclusiveMinimum and
 * exclusiveMaximum, for every type that takes min and max. */
TEST(test_validate__exclusive_bounds_refuse_the_bound_itself)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"x\",\"fields\":["
		       "{\"name\":\"i\",\"type\":\"integer\",\"exclusive_min\":0,\"exclusive_max\":10},"
		       "{\"name\":\"d\",\"type\":\"decimal\",\"scale\":2,\"exclusive_min\":\"0.00\",\"max\":\"5.00\"},"
		       "{\"name\":\"n\",\"type\":\"number\",\"min\":-1,\"exclusive_max\":1.5},"
		       "{\"name\":\"day\",\"type\":\"date\",\"exclusive_min\":\"2026-01-01\"},"
		       "{\"name\":\"at\",\"type\":\"datetime\",\"exclusive_max\":\"2027-01-01T00:00:00Z\"}]}");
	CHECK_OK(db, crm_record_insert(db, "x", "{\"i\":1,\"d\":\"0.01\",\"n\":1.4999,\"day\":\"2026-01-02\","
					       "\"at\":\"2026-12-31T23:59:59.999Z\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "x", "{\"i\":9,\"d\":\"5.00\",\"n\":-1}", NULL));
	REJECTED(db, "x", "{\"i\":0}", "i", "exclusive_min");
	CHECK_STR(error_message(db, "i", "exclusive_min"), "i must be greater than 0");
	REJECTED(db, "x", "{\"i\":10}", "i", "exclusive_max");
	CHECK_STR(error_message(db, "i", "exclusive_max"), "i must be less than 10");
	REJECTED(db, "x", "{\"d\":\"0\"}", "d", "exclusive_min");
	CHECK_STR(error_message(db, "d", "exclusive_min"), "d must be greater than 0.00");
	REJECTED(db, "x", "{\"n\":1.5}", "n", "exclusive_max");
	REJECTED(db, "x", "{\"day\":\"2026-01-01\"}", "day", "exclusive_min");
	REJECTED(db, "x", "{\"at\":\"2027-01-01T08:00:00+08:00\"}", "at", "exclusive_max");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM x"), 2);
	crm_close(db);
}

TEST(test_validate__exclusive_bounds_are_checked_when_applied)
{
	static const struct {
		const char *field, *path;
	} bad[] = {
		{ "{\"name\":\"t\",\"type\":\"text\",\"exclusive_min\":1}", "fields[0].exclusive_min" },
		{ "{\"name\":\"i\",\"type\":\"integer\",\"min\":1,\"exclusive_min\":1}", "fields[0].exclusive_min" },
		{ "{\"name\":\"i\",\"type\":\"integer\",\"max\":1,\"exclusive_max\":2}", "fields[0].exclusive_max" },
		{ "{\"name\":\"i\",\"type\":\"integer\",\"exclusive_min\":5,\"exclusive_max\":5}", "fields[0].exclusive_min" },
		{ "{\"name\":\"i\",\"type\":\"integer\",\"exclusive_min\":5,\"max\":4}", "fields[0].exclusive_min" },
		{ "{\"name\":\"i\",\"type\":\"integer\",\"exclusive_max\":null}", "fields[0].exclusive_max" },
		{ "{\"name\":\"i\",\"type\":\"integer\",\"exclusive_max\":\"x\"}", "fields[0].exclusive_max" },
	};
	char def[256], path[96];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		crm_db *db = test_db();

		snprintf(def, sizeof def, "{\"form\":\"x\",\"fields\":[%s]}", bad[i].field);
		snprintf(path, sizeof path, "\"path\":\"%s\"", bad[i].path);
		CHECK_RC(db, crm_apply(db, def), CRM_EINVAL);
		CHECK_HAS(crm_errdetail(db), path);
		crm_close(db);
	}
}

TEST(test_validate__enum_value_must_be_one_of_the_options)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"region\":\"north\"", "\"region\":\"north\"");
	LEAD_REJECTED(db, "\"region\":\"up\"", "region", "option");
	CHECK_STR(error_message(db, "region", "option"), "'up' is not an option of region");
	LEAD_REJECTED(db, "\"region\":\"North\"", "region", "option");
	LEAD_REJECTED(db, "\"region\":\"north \"", "region", "option");
	LEAD_REJECTED(db, "\"region\":1", "region", "type");
	LEAD_REJECTED(db, "\"region\":[\"north\"]", "region", "type");
	LEAD_ACCEPTED(db, "\"region\":\"\"", "\"region\":null");
	crm_close(db);
}

TEST(test_validate__multi_enum_members_must_be_distinct_options)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"tags\":[\"c\",\"a\"]", "\"tags\":[\"a\",\"c\"]");
	LEAD_REJECTED(db, "\"tags\":[\"a\",\"x\"]", "tags", "option");
	LEAD_REJECTED(db, "\"tags\":[\"a\",\"b\",\"a\"]", "tags", "duplicate");
	LEAD_REJECTED(db, "\"tags\":\"a\"", "tags", "type");
	LEAD_REJECTED(db, "\"tags\":[1]", "tags", "type");
	LEAD_REJECTED(db, "\"tags\":[[\"a\"]]", "tags", "type");
	LEAD_REJECTED(db, "\"tags\":[\"\"]", "tags", "option");
	LEAD_ACCEPTED(db, "\"tags\":[]", "\"tags\":null");
	crm_close(db);
}

/* ---- formats ---- */

TEST(test_validate__email_format)
{
	static const char *const good[] = { "a@b.example", "first.last+tag@sub.example.com", "x@\xe4\xbe\x8b.cn",
					    "te~st@example.com", "te.s.t@example.com", "\\\"joe..bloggs\\\"@example.com",
					    "\\\"a b@c\\\"@example.com", "joe@[127.0.0.1]", "joe@[IPv6:::1]", "t@c--n.com",
					    "\xe5\xbc\xa0@\xe4\xbe\x8b.cn" };
	static const char *const bad[] = { "not-an-email", "a@b", "a b@c.de", "a@@b.cd", "@b.cd", "a@.cd",
					   "a@b.cd.", "a@b..cd", "<a@b.cd>", "a@b,c.de",
					   /* RFC 5321: dots only between atoms, letters, digits and hyphens in a domain */
					   ".test@example.com", "test.@example.com", "te..st@example.com",
					   "joe.bloggs@invalid=domain.com", "a@-b.cd", "a@b-.cd", "a(b)@c.de",
					   "\\\"a@b.cd", "\\\"a\\\"b@c.de", "a@[1.2.3.256]", "a@[1.2.3]" };
	crm_db *db = lead_db();
	char extra[256];

	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		snprintf(extra, sizeof extra, "\"email\":\"%s\"", good[i]);
		LEAD_ACCEPTED(db, extra, extra);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(extra, sizeof extra, "\"email\":\"%s\"", bad[i]);
		LEAD_REJECTED(db, extra, "email", "format");
	}
	LEAD_REJECTED(db, "\"email\":5", "email", "type");
	crm_close(db);
}

TEST(test_validate__phone_format)
{
	static const char *const good[] = { "+86 138-0000-0000", "(010) 1234.5678", "123", "12345678901234567890" };
	static const char *const bad[] = { "12", "abc", "1+23", "123456789012345678901", "138 0000 0000 x1", "++123",
					   "+" };
	crm_db *db = lead_db();
	char extra[256];

	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		snprintf(extra, sizeof extra, "\"phone\":\"%s\"", good[i]);
		LEAD_ACCEPTED(db, extra, extra);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(extra, sizeof extra, "\"phone\":\"%s\"", bad[i]);
		LEAD_REJECTED(db, extra, "phone", "format");
	}
	LEAD_REJECTED(db, "\"phone\":13800000000", "phone", "type");
	crm_close(db);
}

TEST(test_validate__url_format)
{
	static const char *const good[] = { "https://example.com/x", "http://a.b?q=1", "HTTPS://EXAMPLE.COM",
					    "https://example.com:8443/p#f", "https://a.b/%6F%6f?x=%20#%41",
					    "http://user:pw@[2001:db8::7]:80/c=GB?o?x", "https://\xe4\xbe\x8b.cn/\xe8\xb7\xaf",
					    "http://-.~_!$&'()*+,;=:%40:80%2f::::::@example.com" };
	static const char *const bad[] = { "ftp://x.com", "http://", "https://", "https:///x", "example.com",
					   "https://exa mple.com", "javascript:alert(1)", "https://a.b/\\\\x",
					   /* RFC 3986: characters never allowed, percent-encoding with two hex digits */
					   "https://a.b/{x}", "https://a.b/x|y", "https://a.b/x^y", "https://a.b/x`y",
					   "https://a.b/%6G", "https://a.b/%A", "https://a.b/%", "https://a.b/?q=%",
					   "https://a.b:8x/", "https://[::1/", "https://[@a.b/", "https://a.b/#x#y" };
	crm_db *db = lead_db();
	char extra[256];

	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		snprintf(extra, sizeof extra, "\"site\":\"%s\"", good[i]);
		LEAD_ACCEPTED(db, extra, extra);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(extra, sizeof extra, "\"site\":\"%s\"", bad[i]);
		LEAD_REJECTED(db, extra, "site", "format");
	}
	crm_close(db);
}

TEST(test_validate__dates_must_be_real_calendar_dates)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"born\":\"2024-02-29\"", "\"born\":\"2024-02-29\"");
	LEAD_REJECTED(db, "\"born\":\"2025-02-29\"", "born", "format");
	CHECK_STR(error_message(db, "born", "format"), "born must be a date YYYY-MM-DD");
	LEAD_REJECTED(db, "\"born\":\"2024-02-30\"", "born", "format");
	LEAD_REJECTED(db, "\"born\":\"2024-13-01\"", "born", "format");
	LEAD_REJECTED(db, "\"born\":\"2024-04-31\"", "born", "format");
	LEAD_REJECTED(db, "\"born\":\"2024-1-1\"", "born", "format");
	LEAD_REJECTED(db, "\"born\":\"2024-01-01T00:00:00Z\"", "born", "format");
	LEAD_REJECTED(db, "\"born\":\"2100-02-29\"", "born", "format");
	LEAD_REJECTED(db, "\"born\":20240101", "born", "type");
	crm_close(db);
}

TEST(test_validate__datetimes_need_a_zone)
{
	crm_db *db = lead_db();

	LEAD_REJECTED(db, "\"seen\":\"2026-03-01T09:30:00\"", "seen", "format");
	CHECK_HAS(error_message(db, "seen", "format"), "zone");
	LEAD_REJECTED(db, "\"seen\":\"2026-03-01\"", "seen", "format");
	LEAD_REJECTED(db, "\"seen\":\"2026-03-01T25:00:00Z\"", "seen", "format");
	LEAD_REJECTED(db, "\"seen\":\"2026-02-30T09:30:00Z\"", "seen", "format");
	LEAD_REJECTED(db, "\"seen\":1767323045000", "seen", "type");
	LEAD_ACCEPTED(db, "\"seen\":\"2026-03-01T09:30:00Z\"", "\"seen\":\"2026-03-01T09:30:00.000Z\"");
	LEAD_ACCEPTED(db, "\"seen\":\"2026-03-01T09:30:00+08:00\"", "\"seen\":\"2026-03-01T01:30:00.000Z\"");
	crm_close(db);
}

TEST(test_validate__decimals_are_exact)
{
	crm_db *db = lead_db();

	LEAD_REJECTED(db, "\"budget\":12.345", "budget", "format");
	CHECK_HAS(error_message(db, "budget", "format"), "at most 2 fraction digits");
	LEAD_REJECTED(db, "\"budget\":\"12.345\"", "budget", "format");
	LEAD_ACCEPTED(db, "\"budget\":\"12.30\"", "\"budget\":12.30,");
	LEAD_ACCEPTED(db, "\"budget\":12.3", "\"budget\":12.30,");
	LEAD_ACCEPTED(db, "\"budget\":\"12.300\"", "\"budget\":12.30,");
	LEAD_REJECTED(db, "\"budget\":\"abc\"", "budget", "format");
	LEAD_REJECTED(db, "\"budget\":\"12,30\"", "budget", "format");
	LEAD_REJECTED(db, "\"budget\":true", "budget", "type");
	LEAD_REJECTED(db, "\"budget\":[1]", "budget", "type");
	crm_close(db);
}

TEST(test_validate__integers_refuse_fractions_and_strings)
{
	crm_db *db = lead_db();

	LEAD_REJECTED(db, "\"score\":1.5", "score", "type");
	LEAD_REJECTED(db, "\"score\":\"12\"", "score", "type");
	LEAD_REJECTED(db, "\"score\":true", "score", "type");
	LEAD_REJECTED(db, "\"score\":9223372036854775808", "score", "type");
	LEAD_ACCEPTED(db, "\"score\":1e1", "\"score\":10,");
	crm_close(db);
}

TEST(test_validate__booleans_refuse_numbers_and_strings)
{
	crm_db *db = lead_db();

	LEAD_REJECTED(db, "\"vip\":1", "vip", "type");
	LEAD_REJECTED(db, "\"vip\":0", "vip", "type");
	LEAD_REJECTED(db, "\"vip\":\"true\"", "vip", "type");
	LEAD_ACCEPTED(db, "\"vip\":false", "\"vip\":false");
	LEAD_ACCEPTED(db, "\"vip\":true", "\"vip\":true");
	crm_close(db);
}

TEST(test_validate__numbers_refuse_strings)
{
	crm_db *db = lead_db();

	LEAD_REJECTED(db, "\"ratio\":\"1\"", "ratio", "type");
	LEAD_REJECTED(db, "\"ratio\":false", "ratio", "type");
	crm_close(db);
}

TEST(test_validate__ref_must_point_at_an_existing_record)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"customer\":1", "\"customer\":1,");
	LEAD_REJECTED(db, "\"customer\":999", "customer", "ref");
	CHECK_STR(error_message(db, "customer", "ref"), "customer: no customer record with id 999");
	LEAD_REJECTED(db, "\"customer\":0", "customer", "ref");
	LEAD_REJECTED(db, "\"customer\":-1", "customer", "ref");
	LEAD_REJECTED(db, "\"customer\":\"1\"", "customer", "type");
	LEAD_REJECTED(db, "\"customer\":1.5", "customer", "type");
	CHECK_INT(lead_count(db), 1);
	crm_close(db);
}

/* ---- members that are not fields ---- */

TEST(test_validate__unknown_field_is_refused)
{
	crm_db *db = lead_db();

	LEAD_REJECTED(db, "\"nmae\":\"typo\"", "nmae", "unknown_field");
	CHECK_STR(error_message(db, "nmae", "unknown_field"), "form lead has no field 'nmae'");
	LEAD_REJECTED(db, "\"Name\":\"x\"", "Name", "unknown_field");
	CHECK_INT(lead_count(db), 0);
	crm_close(db);
}

TEST(test_validate__system_columns_are_read_only_but_owner_is_settable)
{
	crm_db *db = lead_db();
	int64_t id = 0;

	LEAD_REJECTED(db, "\"id\":5", "id", "readonly");
	LEAD_REJECTED(db, "\"version\":3", "version", "readonly");
	LEAD_REJECTED(db, "\"created_at\":\"2026-01-01T00:00:00Z\"", "created_at", "readonly");
	LEAD_REJECTED(db, "\"updated_at\":null", "updated_at", "readonly");
	LEAD_REJECTED(db, "\"total\":2", "total", "readonly");
	LEAD_REJECTED(db, "\"owner\":5", "owner", "type");
	CHECK_INT(lead_count(db), 0);

	/* owner: the actor by default, or as given */
	crm_actor_set(db, "alice", NULL);
	id = LEAD_ACCEPTED(db, "", "\"owner\":\"alice\"");
	LEAD_ACCEPTED(db, "\"owner\":\"bob\"", "\"owner\":\"bob\"");
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"owner\":\"carol\"}", 0));
	CHECK_HAS(test_get(db, "lead", id), "\"owner\":\"carol\"");
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"owner\":null}", 0));
	CHECK_HAS(test_get(db, "lead", id), "\"owner\":null");

	/* updates cannot set them either */
	REJECTED_UPDATE(db, "lead", id, "{\"id\":7}", "id", "readonly");
	REJECTED_UPDATE(db, "lead", id, "{\"version\":9}", "version", "readonly");
	CHECK_HAS(test_get(db, "lead", id), "\"version\":3");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead WHERE id=7"), 0);
	crm_close(db);
}

TEST(test_validate__member_given_twice_is_refused)
{
	crm_db *db = lead_db();

	REJECTED(db, "lead", "{\"name\":\"a\",\"name\":\"b\"}", "name", "duplicate");
	crm_close(db);
}

/* ---- hostile input ---- */

TEST(test_validate__catastrophic_pattern_stops_at_the_match_limit)
{
	crm_db *db = lead_db();
	char s[64], extra[128];

	LEAD_ACCEPTED(db, "\"aplus\":\"aaaa\"", NULL);
	LEAD_REJECTED(db, "\"aplus\":\"aab\"", "aplus", "pattern");
	snprintf(extra, sizeof extra, "\"aplus\":\"%s!\"", repeat(s, sizeof s, "a", 28));
	LEAD_REJECTED(db, extra, "aplus", "pattern_limit");
	CHECK_HAS(error_message(db, "aplus", "pattern_limit"), "aplus");
	/* the handle is fine afterwards */
	LEAD_ACCEPTED(db, "\"aplus\":\"aaaaaaa\"", NULL);
	CHECK_INT(lead_count(db), 2);
	crm_close(db);
}

TEST(test_validate__lowered_regex_match_limit_takes_effect)
{
	crm_db *db = lead_db();
	char s[64], extra[128];

	snprintf(extra, sizeof extra, "\"aplus\":\"%s!\"", repeat(s, sizeof s, "a", 10));
	/* with the default limit, 10 a's fail the pattern honestly */
	LEAD_REJECTED(db, extra, "aplus", "pattern");
	CHECK_INT(crm_limit(db, CRM_LIMIT_REGEX_MATCH, 20), 100000);
	CHECK_INT(crm_limit(db, CRM_LIMIT_REGEX_MATCH, -1), 20);
	LEAD_REJECTED(db, extra, "aplus", "pattern_limit");
	/* plain values still check normally */
	LEAD_ACCEPTED(db, "\"has_b\":\"abc\"", NULL);
	LEAD_REJECTED(db, "\"has_b\":\"xyz\"", "has_b", "pattern");
	/* and raising it back restores the honest answer */
	CHECK_INT(crm_limit(db, CRM_LIMIT_REGEX_MATCH, 100000), 20);
	LEAD_REJECTED(db, extra, "aplus", "pattern");
	crm_close(db);
}

TEST(test_validate__sql_looking_values_are_stored_verbatim)
{
	crm_db *db = lead_db();
	int64_t id = 0;

	CHECK_OK(db, crm_record_insert(db, "lead",
				       "{\"name\":\"n'); --\",\"nick\":\"x'); DROP TABLE lead; --\","
				       "\"notes\":\"\\\"; DELETE FROM lead; --\","
				       "\"data\":{\"q\":\"' OR 1=1 --\"}}",
				       &id));
	CHECK_HAS(test_get(db, "lead", id), "\"name\":\"n'); --\",\"nick\":\"x'); DROP TABLE lead; --\"");
	CHECK_HAS(test_get(db, "lead", id), "\"notes\":\"\\\"; DELETE FROM lead; --\"");
	CHECK_HAS(test_get(db, "lead", id), "\"data\":{\"q\":\"' OR 1=1 --\"}");
	CHECK_INT(test_relation_exists(db, "lead"), 1);
	CHECK_INT(lead_count(db), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead WHERE nick = 'x''); DROP TABLE lead; --'"), 1);
	/* a hostile unknown member name is reported, not executed */
	REJECTED(db, "lead", "{\"name\":\"n\",\"x\\\" TEXT); DROP TABLE lead; --\":1}",
		 "x\" TEXT); DROP TABLE lead; --", "unknown_field");
	/* and so is a hostile form name */
	CHECK_RC(db, crm_record_insert(db, "lead; DROP TABLE lead", "{\"name\":\"n\"}", NULL), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_insert(db, "lead\" --", "{\"name\":\"n\"}", NULL), CRM_ENOTFOUND);
	CHECK_INT(test_relation_exists(db, "lead"), 1);
	crm_close(db);
}

/* '[' * n then ']' * n as a json member value. */
static char *nested(int n)
{
	char *s = malloc((size_t)n * 2 + 64);
	int at;

	at = sprintf(s, "{\"name\":\"n\",\"data\":");
	for (int i = 0; i < n; i++)
		s[at++] = '[';
	for (int i = 0; i < n; i++)
		s[at++] = ']';
	strcpy(s + at, "}");
	return s;
}

TEST(test_validate__json_nested_beyond_the_depth_limit_is_refused)
{
	crm_db *db = lead_db();
	char *ok = nested(20), *deep = nested(100), *hostile = nested(100000);

	CHECK_OK(db, crm_record_insert(db, "lead", ok, NULL));
	REJECTED_RC(db, "lead", deep, CRM_EINVAL);
	CHECK(last_offset > 0);
	CHECK_HAS(last_msg, "deep");
	REJECTED_RC(db, "lead", hostile, CRM_EINVAL);
	/* a lowered limit applies */
	CHECK_INT(crm_limit(db, CRM_LIMIT_JSON_DEPTH, 8), 64);
	REJECTED_RC(db, "lead", ok, CRM_EINVAL);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"n\",\"data\":[[1,{\"a\":[2]}]]}", NULL));
	CHECK_INT(lead_count(db), 2);
	free(ok);
	free(deep);
	free(hostile);
	crm_close(db);
}

TEST(test_validate__invalid_utf8_is_refused)
{
	static const char *const bad[] = {
		"{\"name\":\"\xff\"}",                 /* never valid */
		"{\"name\":\"a\xc0\xaf\"}",            /* overlong '/' */
		"{\"name\":\"\xed\xa0\x80\"}",         /* encoded surrogate */
		"{\"name\":\"\xe4\xb8\"}",             /* truncated sequence */
		"{\"name\":\"\xf4\x90\x80\x80\"}",     /* beyond U+10FFFF */
		"{\"name\":\"\\ud800\"}",              /* lone surrogate escape */
		"{\"name\":\"\\udc00x\"}",             /* lone low surrogate escape */
		"{\"name\":\"n\",\"data\":[\"\xff\"]}", /* inside json */
		"{\"name\":\"n\",\"tags\":[\"\xff\"]}", /* inside a multi_enum */
		"{\"na\xffme\":\"n\"}",                /* in a key */
	};
	crm_db *db = lead_db();

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char sql[64];
		int64_t before = lead_count(db);
		int rc = crm_record_insert(db, "lead", bad[i], NULL);
		if (rc != CRM_EINVAL && rc != CRM_ECONSTRAINT) {
			fprintf(stderr, "%s:%d: case %zu returned %s\n", __FILE__, __LINE__, i, crm_errstr(rc));
			test_failures_++;
		}
		snprintf(sql, sizeof sql, "SELECT count(*) FROM lead");
		CHECK_INT(test_sql_int(db, sql), before);
	}
	/* a valid escaped pair is fine */
	LEAD_ACCEPTED(db, "\"nick\":\"\\ud83d\\ude00\\ud83d\\ude00\"", "\"nick\":\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"");
	crm_close(db);
}

TEST(test_validate__nul_escapes_in_keys_and_options_never_match)
{
	crm_db *db = lead_db();

	/* "name\u0000..." is not the field "name" (and must not be read past its
	 * end): no text may hold U+0000, names included */
	REJECTED(db, "lead", "{\"name\":\"n\",\"name\\u0000xyzzy\":\"v\"}", NULL, NULL);
	CHECK_INT(error_count(db), 1);
	CHECK(strstr(crm_errdetail(db), "\"code\":\"nul\"") != NULL);
	/* nor is "north\u0000..." the option "north" */
	LEAD_REJECTED(db, "\"region\":\"north\\u0000zzzzzzzz\"", "region", "nul");
	LEAD_REJECTED(db, "\"tags\":[\"a\\u0000bcdefgh\"]", "tags", "nul");
	/* an escaped key that decodes to a field name is that field */
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"n\\u0061me\":\"escaped\"}", NULL));
	CHECK_HAS(test_get(db, "lead", 1), "\"name\":\"escaped\"");
	crm_close(db);
}

TEST(test_validate__value_longer_than_the_length_limit_is_too_long)
{
	crm_db *db = lead_db();
	char s[400], extra[500];

	CHECK_INT(crm_limit(db, CRM_LIMIT_VALUE_LENGTH, 100), 1 << 20);
	snprintf(extra, sizeof extra, "\"notes\":\"%s\"", repeat(s, sizeof s, "x", 100));
	LEAD_ACCEPTED(db, extra, NULL);
	snprintf(extra, sizeof extra, "\"notes\":\"%s\"", repeat(s, sizeof s, "x", 101));
	LEAD_REJECTED(db, extra, "notes", "too_long");
	CHECK_HAS(error_message(db, "notes", "too_long"), "100 bytes");
	/* bytes, not characters: 34 three-byte characters are 102 bytes */
	snprintf(extra, sizeof extra, "\"notes\":\"%s\"", repeat(s, sizeof s, "\xe4\xb8\xad", 34));
	LEAD_REJECTED(db, extra, "notes", "too_long");
	/* json values too */
	snprintf(extra, sizeof extra, "\"data\":[\"%s\"]", repeat(s, sizeof s, "x", 120));
	LEAD_REJECTED(db, extra, "data", "too_long");
	/* other text-like types too */
	snprintf(extra, sizeof extra, "\"has_b\":\"%s\"", repeat(s, sizeof s, "b", 101));
	LEAD_REJECTED(db, extra, "has_b", "too_long");
	CHECK_INT(lead_count(db), 1);
	crm_close(db);
}

TEST(test_validate__malformed_record_json_is_einval_with_offset)
{
	static const struct {
		const char *json;
		int offset;
	} cases[] = {
		{ "{\"name\": \"x\",}", 13 },
		{ "{\"name\" \"x\"}", 8 },
		{ "{\"name\":\"x\"} trailing", 13 },
		{ "{\"name\":\"x\"", 11 },
		{ "{\"name\":tru}", 8 },
		{ "{\"name\":\"x\", \"score\": 01}", 22 },
	};
	crm_db *db = lead_db();

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		REJECTED_RC(db, "lead", cases[i].json, CRM_EINVAL);
		if (last_offset != cases[i].offset) {
			fprintf(stderr, "%s:%d: %s: offset %d, expected %d (%s)\n", __FILE__, __LINE__, cases[i].json,
				last_offset, cases[i].offset, last_msg);
			test_failures_++;
		}
	}
	/* the offset is on the handle right after the call */
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\": \"x\",}", NULL), CRM_EINVAL);
	CHECK_INT(crm_erroffset(db), 13);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"CRM_EINVAL\"");
	/* and cleared by the next successful call */
	LEAD_ACCEPTED(db, "", NULL);
	CHECK_INT(crm_erroffset(db), -1);
	crm_close(db);
}

TEST(test_validate__record_that_is_not_an_object_is_einval)
{
	static const char *const bad[] = { "[1]", "[{\"name\":\"n\"}]", "42", "\"name\"", "null", "true", "", "   " };
	crm_db *db = lead_db();

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		REJECTED_RC(db, "lead", bad[i], CRM_EINVAL);
	CHECK_RC(db, crm_record_update(db, "lead", 1, "[1]", 0), CRM_EINVAL);
	crm_close(db);
}

/* ---- every failure at once ---- */

TEST(test_validate__reports_every_failing_field_at_once)
{
	crm_db *db = lead_db();

	REJECTED(db, "lead",
		 "{\"region\":\"up\",\"score\":-5,\"email\":\"nope\",\"vip\":1}", NULL, NULL);
	CHECK_INT(error_count(db), 5);
	CHECK_ERROR(db, "name", "required");
	CHECK_ERROR(db, "region", "option");
	CHECK_ERROR(db, "score", "min");
	CHECK_ERROR(db, "email", "format");
	CHECK_ERROR(db, "vip", "type");
	CHECK_HAS(last_msg, "(and 4 more)");
	CHECK_HAS(crm_errdetail(db), "\"code\":\"CRM_ECONSTRAINT\"");
	CHECK_INT(lead_count(db), 0);
	crm_close(db);
}

TEST(test_validate__every_failure_includes_unique_and_unknown_fields)
{
	crm_db *db = lead_db();

	LEAD_ACCEPTED(db, "\"phone\":\"555\"", NULL);
	REJECTED(db, "lead",
		 "{\"phone\":\"555\",\"nmae\":\"x\",\"id\":3,\"customer\":42,\"channel\":\"wechat\",\"budget\":1.001,"
		 "\"born\":\"2025-02-29\",\"tags\":[\"a\",\"a\"]}",
		 NULL, NULL);
	CHECK_INT(error_count(db), 9);
	CHECK_ERROR(db, "name", "required");
	CHECK_ERROR(db, "phone", "unique");
	CHECK_ERROR(db, "nmae", "unknown_field");
	CHECK_ERROR(db, "id", "readonly");
	CHECK_ERROR(db, "customer", "ref");
	CHECK_ERROR(db, "external_id", "required");
	CHECK_ERROR(db, "budget", "format");
	CHECK_ERROR(db, "born", "format");
	CHECK_ERROR(db, "tags", "duplicate");
	CHECK_INT(lead_count(db), 1);
	crm_close(db);
}

TEST(test_validate__one_field_can_fail_several_rules)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"w\",\"fields\":[{\"name\":\"code\",\"type\":\"text\",\"max_length\":3,"
		       "\"pattern\":\"^[0-9]+$\"}]}");
	REJECTED(db, "w", "{\"code\":\"abcd\"}", NULL, NULL);
	CHECK_INT(error_count(db), 2);
	CHECK_ERROR(db, "code", "max_length");
	CHECK_ERROR(db, "code", "pattern");
	crm_close(db);
}

/* ---- updates ---- */

TEST(test_validate__update_validates_the_merged_record)
{
	crm_db *db = lead_db();
	int64_t id = LEAD_ACCEPTED(db, "\"channel\":\"web\",\"score\":5", NULL);
	char before[4096];

	snprintf(before, sizeof before, "%s", test_get(db, "lead", id));
	/* making the condition true without the field it requires */
	REJECTED_UPDATE(db, "lead", id, "{\"channel\":\"wechat\"}", "external_id", "required");
	REJECTED_UPDATE(db, "lead", id, "{\"name\":null}", "name", "required");
	REJECTED_UPDATE(db, "lead", id, "{\"name\":\"\"}", "name", "required");
	REJECTED_UPDATE(db, "lead", id, "{\"score\":101}", "score", "max");
	REJECTED_UPDATE(db, "lead", id, "{\"customer\":9}", "customer", "ref");
	REJECTED_UPDATE(db, "lead", id, "{\"nmae\":\"x\"}", "nmae", "unknown_field");
	/* several at once, on update too */
	REJECTED_UPDATE(db, "lead", id, "{\"channel\":\"wechat\",\"score\":-1,\"region\":\"up\"}", NULL, NULL);
	CHECK_INT(error_count(db), 3);
	CHECK_ERROR(db, "external_id", "required");
	CHECK_ERROR(db, "score", "min");
	CHECK_ERROR(db, "region", "option");
	/* nothing changed, not even the version */
	CHECK_STR(test_get(db, "lead", id), before);
	/* with the field it passes; a partial update keeps the rest */
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"channel\":\"wechat\",\"external_id\":\"w1\"}", 0));
	CHECK_HAS(test_get(db, "lead", id), "\"score\":5");
	CHECK_HAS(test_get(db, "lead", id), "\"external_id\":\"w1\"");
	CHECK_HAS(test_get(db, "lead", id), "\"version\":2");
	/* clearing the required field once the condition holds fails */
	REJECTED_UPDATE(db, "lead", id, "{\"external_id\":null}", "external_id", "required");
	/* turning the condition off allows clearing it */
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"channel\":\"web\",\"external_id\":null}", 0));
	crm_close(db);
}

TEST(test_validate__update_checks_unique_against_other_records_only)
{
	crm_db *db = lead_db();
	int64_t a = LEAD_ACCEPTED(db, "\"phone\":\"111\"", NULL);
	int64_t b = LEAD_ACCEPTED(db, "\"phone\":\"222\"", NULL);

	/* keeping its own value is fine */
	CHECK_OK(db, crm_record_update(db, "lead", a, "{\"phone\":\"111\",\"nick\":\"aa\"}", 0));
	REJECTED_UPDATE(db, "lead", b, "{\"phone\":\"111\"}", "phone", "unique");
	CHECK_HAS(error_message(db, "phone", "unique"), "record 1");
	CHECK_HAS(test_get(db, "lead", b), "\"phone\":\"222\"");
	/* together with another failure, unique is still reported */
	REJECTED_UPDATE(db, "lead", b, "{\"phone\":\"111\",\"score\":-1}", NULL, NULL);
	CHECK_INT(error_count(db), 2);
	CHECK_ERROR(db, "phone", "unique");
	CHECK_ERROR(db, "score", "min");
	crm_close(db);
}

TEST(test_validate__update_with_stale_expected_version_is_conflict)
{
	crm_db *db = lead_db();
	int64_t id = LEAD_ACCEPTED(db, "", NULL);

	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"nick\":\"v2\"}", 1));
	CHECK_HAS(test_get(db, "lead", id), "\"version\":2");
	CHECK_RC(db, crm_record_update(db, "lead", id, "{\"nick\":\"lost\"}", 1), CRM_ECONFLICT);
	CHECK_HAS(crm_errmsg(db), "version 2");
	CHECK_RC(db, crm_record_update(db, "lead", id, "{\"nick\":\"lost\"}", 3), CRM_ECONFLICT);
	CHECK_HAS(test_get(db, "lead", id), "\"nick\":\"v2\"");
	CHECK_HAS(test_get(db, "lead", id), "\"version\":2");
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"nick\":\"v3\"}", 2));
	/* 0 means: whatever the version */
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"nick\":\"v4\"}", 0));
	CHECK_HAS(test_get(db, "lead", id), "\"nick\":\"v4\"");
	CHECK_HAS(test_get(db, "lead", id), "\"version\":4");
	crm_close(db);
}

TEST(test_validate__missing_record_and_unknown_form_are_enotfound)
{
	crm_db *db = lead_db();
	char *out = NULL;

	CHECK_RC(db, crm_record_update(db, "lead", 42, "{\"nick\":\"x\"}", 0), CRM_ENOTFOUND);
	CHECK_HAS(crm_errmsg(db), "42");
	CHECK_RC(db, crm_record_update(db, "lead", 42, "{\"nick\":\"x\"}", 1), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_get(db, "lead", 42, &out), CRM_ENOTFOUND);
	CHECK(out == NULL);
	CHECK_RC(db, crm_record_insert(db, "nope", "{\"name\":\"x\"}", NULL), CRM_ENOTFOUND);
	CHECK_HAS(crm_errmsg(db), "nope");
	CHECK_RC(db, crm_record_update(db, "nope", 1, "{\"name\":\"x\"}", 0), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_get(db, "nope", 1, &out), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_delete(db, "nope", 1, 0), CRM_ENOTFOUND);
	/* an unknown form is reported before the record text is even looked at */
	CHECK_RC(db, crm_record_insert(db, "nope", "not json", NULL), CRM_ENOTFOUND);
	CHECK_INT(lead_count(db), 0);
	crm_close(db);
}

TEST(test_validate__failing_write_inside_host_transaction_undoes_only_itself)
{
	crm_db *db = lead_db();
	int64_t id = 0;

	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"kept\",\"phone\":\"123\"}", &id));
	REJECTED(db, "lead", "{\"name\":\"dup\",\"phone\":\"123\"}", "phone", "unique");
	REJECTED(db, "lead", "{}", "name", "required");
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(lead_count(db), 1);
	CHECK_HAS(test_get(db, "lead", id), "\"name\":\"kept\"");
	crm_close(db);
}

/* Format checks read only the value's bytes, never past them (found by
 * fuzzing: an email check searched a span as if it were a C string). */
TEST(test_validate__email_check_reads_only_the_value)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"c\",\"fields\":[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"t\",\"type\":\"text\"}]}");
	CHECK_RC(db, crm_record_insert(db, "c", "{\"email\":\"first@\\u1615e.co0000001\",\"t\":\"a..b\"}", NULL), CRM_OK);
	CHECK_RC(db, crm_record_insert(db, "c", "{\"email\":\"a@b..co\"}", NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_record_insert(db, "c", "{\"email\":\"a.b@c.co\"}", NULL), CRM_OK);
	crm_close(db);
}

TEST_LIST(T(test_validate__email_check_reads_only_the_value), T(test_validate__required_counts_missing_null_and_empty_string_as_missing),
	  T(test_validate__required_accepts_false_and_zero_but_not_empty_multi_enum),
	  T(test_validate__required_when_applies_only_while_its_condition_holds),
	  T(test_validate__required_when_takes_any_filter_condition),
	  T(test_validate__unique_refuses_duplicate_naming_the_existing_record),
	  T(test_validate__unique_allows_any_number_of_empty_values),
	  T(test_validate__unique_with_nulls_not_distinct_allows_one_empty_value),
	  T(test_validate__unique_compares_stored_values_not_spellings),
	  T(test_validate__composite_unique_refuses_only_the_same_combination),
	  T(test_validate__composite_unique_with_nulls_not_distinct),
	  T(test_validate__default_applies_when_absent_but_not_to_explicit_null),
	  T(test_validate__defaults_of_every_kind_are_stored),
	  T(test_validate__integer_bounds_are_inclusive),
	  T(test_validate__decimal_bounds_are_inclusive),
	  T(test_validate__number_bounds_are_inclusive),
	  T(test_validate__date_bounds_are_inclusive),
	  T(test_validate__datetime_bounds_are_inclusive_in_utc),
	  T(test_validate__lengths_count_unicode_characters_not_bytes),
	  T(test_validate__pattern_is_an_unanchored_search),
	  T(test_validate__pattern_matches_in_unicode_mode),
	  T(test_validate__pattern_applies_to_phone_email_and_url),
	  T(test_validate__enum_value_must_be_one_of_the_options),
	  T(test_validate__multi_enum_members_must_be_distinct_options),
	  T(test_validate__pattern_unicode_properties_take_ecma_262_names),
	  T(test_validate__pattern_unknown_property_name_is_refused_at_its_offset),
	  T(test_validate__exclusive_bounds_refuse_the_bound_itself),
	  T(test_validate__exclusive_bounds_are_checked_when_applied),
	  T(test_validate__email_format),
	  T(test_validate__phone_format),
	  T(test_validate__url_format),
	  T(test_validate__dates_must_be_real_calendar_dates),
	  T(test_validate__datetimes_need_a_zone),
	  T(test_validate__decimals_are_exact),
	  T(test_validate__integers_refuse_fractions_and_strings),
	  T(test_validate__booleans_refuse_numbers_and_strings),
	  T(test_validate__numbers_refuse_strings),
	  T(test_validate__ref_must_point_at_an_existing_record),
	  T(test_validate__unknown_field_is_refused),
	  T(test_validate__system_columns_are_read_only_but_owner_is_settable),
	  T(test_validate__member_given_twice_is_refused),
	  T(test_validate__catastrophic_pattern_stops_at_the_match_limit),
	  T(test_validate__lowered_regex_match_limit_takes_effect),
	  T(test_validate__sql_looking_values_are_stored_verbatim),
	  T(test_validate__json_nested_beyond_the_depth_limit_is_refused),
	  T(test_validate__invalid_utf8_is_refused),
	  T(test_validate__nul_escapes_in_keys_and_options_never_match),
	  T(test_validate__value_longer_than_the_length_limit_is_too_long),
	  T(test_validate__malformed_record_json_is_einval_with_offset),
	  T(test_validate__record_that_is_not_an_object_is_einval),
	  T(test_validate__reports_every_failing_field_at_once),
	  T(test_validate__every_failure_includes_unique_and_unknown_fields),
	  T(test_validate__one_field_can_fail_several_rules),
	  T(test_validate__update_validates_the_merged_record),
	  T(test_validate__update_checks_unique_against_other_records_only),
	  T(test_validate__update_with_stale_expected_version_is_conflict),
	  T(test_validate__missing_record_and_unknown_form_are_enotfound),
	  T(test_validate__failing_write_inside_host_transaction_undoes_only_itself))
