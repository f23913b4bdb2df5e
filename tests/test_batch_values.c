/* crm_batch_add_values: a row's values without JSON text, read exactly as
 * the JSON values they stand for (include/crm/form.h). Each test compares
 * with the JSON path, so the two cannot drift apart. */
#include <cJSON.h>
#include <math.h>

#include "helpers.h"
#include "test.h"

static const char thing_forms[] =
	"[{\"form\":\"org\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]},"
	"{\"form\":\"thing\",\"fields\":["
	"{\"name\":\"name\",\"type\":\"text\"},"
	"{\"name\":\"notes\",\"type\":\"long_text\"},"
	"{\"name\":\"qty\",\"type\":\"integer\"},"
	"{\"name\":\"amount\",\"type\":\"decimal\",\"scale\":2},"
	"{\"name\":\"ratio\",\"type\":\"number\"},"
	"{\"name\":\"active\",\"type\":\"boolean\"},"
	"{\"name\":\"due\",\"type\":\"date\"},"
	"{\"name\":\"seen\",\"type\":\"datetime\"},"
	"{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"won\"]},"
	"{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b\\\"q\",\"c\"]},"
	"{\"name\":\"email\",\"type\":\"email\"},"
	"{\"name\":\"phone\",\"type\":\"phone\"},"
	"{\"name\":\"site\",\"type\":\"url\"},"
	"{\"name\":\"org\",\"type\":\"ref\",\"form\":\"org\"},"
	"{\"name\":\"extra\",\"type\":\"json\"},"
	"{\"name\":\"code\",\"type\":\"text\",\"unique\":true}]}]";

static crm_db *thing_db(void)
{
	crm_db *db = test_db();

	test_apply(db, thing_forms);
	test_insert_q(db, "org", "{'name':'Acme'}");
	return db;
}

static crm_value v_int(int64_t i) { return (crm_value){ .kind = CRM_VALUE_INT, .i = i }; }
static crm_value v_real(double d) { return (crm_value){ .kind = CRM_VALUE_REAL, .d = d }; }
static crm_value v_bool(int b) { return (crm_value){ .kind = CRM_VALUE_BOOL, .i = b }; }
static crm_value v_text(const char *s) { return (crm_value){ .kind = CRM_VALUE_TEXT, .s = s, .n = strlen(s) }; }
static crm_value v_time(int64_t ms) { return (crm_value){ .kind = CRM_VALUE_TIME, .i = ms }; }
static crm_value v_json(const char *s) { return (crm_value){ .kind = CRM_VALUE_JSON, .s = s, .n = strlen(s) }; }

/* The record without the columns two inserts cannot share (cJSON_Delete it). */
/* Insert one row of values as a batch of its own: its id. */
static int64_t batch_one(crm_db *db, const crm_field_value *row, size_t n)
{
	crm_batch *b = NULL;
	int64_t id = 0;

	CHECK_OK(db, crm_batch_begin(&b, db, "thing"));
	CHECK_OK(db, crm_batch_add_values(b, row, n, &id));
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	return id;
}

static cJSON *stored(crm_db *db, int64_t id)
{
	cJSON *r = cJSON_Parse(test_get(db, "thing", id));

	CHECK(r != NULL);
	cJSON_DeleteItemFromObject(r, "id");
	cJSON_DeleteItemFromObject(r, "code");
	return r;
}

/* Insert `json` and `fields` as two rows of one batch each; both must
 * succeed and store the same record. */
static void check_same_record(crm_db *db, const char *json, const crm_field_value *fields, size_t n)
{
	crm_batch *b = NULL;
	int64_t from_json = 0, from_values = 0;
	cJSON *x, *y;

	CHECK_OK(db, crm_batch_begin(&b, db, "thing"));
	CHECK_OK(db, crm_batch_add(b, json, -1, &from_json));
	CHECK_OK(db, crm_batch_add_values(b, fields, n, &from_values));
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	x = stored(db, from_json);
	y = stored(db, from_values);
	if (!cJSON_Compare(x, y, 1)) {
		char *a = cJSON_PrintUnformatted(x), *c = cJSON_PrintUnformatted(y);
		fprintf(stderr, "json:   %s\nvalues: %s\n", a, c);
		cJSON_free(a);
		cJSON_free(c);
		CHECK(0);
	}
	cJSON_Delete(x);
	cJSON_Delete(y);
}

TEST(test_batch_values__every_kind_stores_what_its_json_stores)
{
	crm_db *db = thing_db();
	const char *tags[] = { "c", "b\"q" };
	const crm_field_value all[] = {
		{ "name", v_text("Zoë 北京") },
		{ "notes", v_text("two\nlines") },
		{ "qty", v_int(-42) },
		{ "amount", v_text("12000.50") },
		{ "ratio", v_real(0.1) },
		{ "active", v_bool(1) },
		{ "due", v_time(INT64_C(1769817600000)) },  /* 2026-01-31 */
		{ "seen", v_time(INT64_C(1769851800123)) }, /* 2026-01-31T09:30:00.123Z */
		{ "stage", v_text("won") },
		{ "tags", { .kind = CRM_VALUE_LIST, .items = tags, .nitems = 2 } },
		{ "email", v_text("a@example.com") },
		{ "phone", v_text("+86 138 0000 0000") },
		{ "site", v_text("https://example.com/x") },
		{ "org", v_int(1) },
		{ "extra", v_json(" {\"k\": [1, \"\\u00e9\", null]} ") },
		{ "owner", v_text("alice") },
	};
	const crm_field_value others[] = {
		{ "amount", v_int(7) },
		{ "ratio", v_int(3) },
		{ "active", v_bool(0) },
		{ "due", v_text("2026-02-28") },
		{ "seen", v_text("2026-01-31T10:30:00+01:00") },
		{ "tags", { .kind = CRM_VALUE_LIST } },
		{ "extra", v_text("just text") },
		{ "qty", { .kind = CRM_VALUE_NULL } },
		{ "name", v_json("\"escaped \\\" \\u4e2d\"") },
	};

	check_same_record(db,
			  "{\"name\":\"Zoë 北京\",\"notes\":\"two\\nlines\",\"qty\":-42,\"amount\":\"12000.50\","
			  "\"ratio\":0.1,\"active\":true,\"due\":\"2026-01-31\",\"seen\":\"2026-01-31T09:30:00.123Z\","
			  "\"stage\":\"won\",\"tags\":[\"c\",\"b\\\"q\"],\"email\":\"a@example.com\","
			  "\"phone\":\"+86 138 0000 0000\",\"site\":\"https://example.com/x\",\"org\":1,"
			  "\"extra\":{\"k\":[1,\"é\",null]},\"owner\":\"alice\"}",
			  all, sizeof all / sizeof *all);
	check_same_record(db,
			  "{\"amount\":7,\"ratio\":3,\"active\":false,\"due\":\"2026-02-28\","
			  "\"seen\":\"2026-01-31T10:30:00+01:00\",\"tags\":[],\"extra\":\"just text\",\"qty\":null,"
			  "\"name\":\"escaped \\\" 中\"}",
			  others, sizeof others / sizeof *others);
	check_same_record(db, "{}", NULL, 0);
	crm_close(db);
}

/* The "errors" of the first failing row of the handle's detail, printed. */
static char *row_errors(crm_db *db)
{
	cJSON *d = cJSON_Parse(crm_errdetail(db));
	cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "rows"), 0);
	char *out;

	CHECK(row != NULL);
	out = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(row, "errors"));
	cJSON_Delete(d);
	return out;
}

/* The row's errors when given as `json` and as `fields`: they must match. */
static void check_same_errors(crm_db *db, const char *json, const crm_field_value *fields, size_t n,
			      const char *expect)
{
	crm_batch *b = NULL;
	char *from_json, *from_values;

	CHECK_OK(db, crm_batch_begin(&b, db, "thing"));
	CHECK_RC(db, crm_batch_add(b, json, -1, NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	crm_batch_free(b);
	from_json = row_errors(db);
	CHECK_OK(db, crm_batch_begin(&b, db, "thing"));
	CHECK_RC(db, crm_batch_add_values(b, fields, n, NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	crm_batch_free(b);
	from_values = row_errors(db);
	CHECK_STR(from_values, from_json);
	CHECK_HAS(from_values, expect);
	cJSON_free(from_json);
	cJSON_free(from_values);
}

TEST(test_batch_values__a_refused_value_gets_the_error_of_its_json)
{
	crm_db *db = thing_db();
	const char *bad_tags[] = { "a", "zz" };
	char nul_text[] = { 'a', 0, 'b' };
	const crm_field_value wrong[] = {
		{ "name", v_int(5) },
		{ "qty", v_text("5") },
		{ "amount", v_real(1.234) },
		{ "active", v_int(1) },
		{ "stage", v_text("lost") },
		{ "tags", { .kind = CRM_VALUE_LIST, .items = bad_tags, .nitems = 2 } },
		{ "email", v_text("not an email") },
		{ "org", v_int(-3) },
		{ "nope", v_int(1) },
		{ "id", v_int(9) },
		{ "qty", v_int(1) },
		{ "owner", v_int(1) },
		{ "notes", { .kind = CRM_VALUE_TEXT, .s = nul_text, .n = 3 } },
	};

	check_same_errors(db,
			  "{\"name\":5,\"qty\":\"5\",\"amount\":1.234,\"active\":1,\"stage\":\"lost\","
			  "\"tags\":[\"a\",\"zz\"],\"email\":\"not an email\",\"org\":-3,\"nope\":1,\"id\":9,"
			  "\"qty\":1,\"owner\":1,\"notes\":\"a\\u0000b\"}",
			  wrong, sizeof wrong / sizeof *wrong, "\"unknown_field\"");
	/* What has no JSON spelling of its own: a time of day for a date, a
	 * time out of range, a number that is not finite. */
	const crm_field_value times[] = {
		{ "due", v_time(INT64_C(1769851800123)) },
		{ "seen", v_time(INT64_C(400000000000000)) },
		{ "ratio", v_real(NAN) },
		{ "amount", v_real(INFINITY) },
	};
	check_same_errors(db, "{\"due\":\"2026-01-31T09:30:00.123Z\",\"seen\":\"out of range\",\"ratio\":1e999,"
			      "\"amount\":1e999}",
			  times, sizeof times / sizeof *times, "\"format\"");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM thing"), 0);
	crm_close(db);
}

TEST(test_batch_values__a_time_is_an_integer_for_other_fields)
{
	crm_db *db = thing_db();
	crm_field_value row[] = { { "qty", v_time(86400000) } };

	CHECK_HAS(test_get(db, "thing", batch_one(db, row, 1)), "\"qty\":86400000");
	crm_close(db);
}

TEST(test_batch_values__a_malformed_value_fails_its_row_like_malformed_json)
{
	crm_db *db = thing_db();
	const char *holes[] = { "a", NULL };
	const crm_field_value good[] = { { "name", v_text("fine") } };
	const crm_field_value bad[][1] = {
		{ { "name", { .kind = 99 } } },
		{ { "name", { .kind = -1 } } },
		{ { NULL, v_text("x") } },
		{ { "tags", { .kind = CRM_VALUE_LIST, .items = holes, .nitems = 2 } } },
		{ { "tags", { .kind = CRM_VALUE_LIST, .items = NULL, .nitems = 1 } } },
		{ { "extra", v_json("{\"a\":") } },
		{ { "extra", v_json("1 2") } },
		{ { "extra", v_json("") } },
		{ { "extra", { .kind = CRM_VALUE_JSON, .s = NULL, .n = 0 } } },
		{ { "name", { .kind = CRM_VALUE_TEXT, .s = NULL, .n = 4 } } },
	};
	size_t nbad = sizeof bad / sizeof *bad;
	crm_batch *b = NULL;
	cJSON *d;

	CHECK_OK(db, crm_batch_begin(&b, db, "thing"));
	for (size_t k = 0; k < nbad; k++) {
		CHECK_RC(db, crm_batch_add_values(b, bad[k], 1, NULL), CRM_EINVAL);
		CHECK(strlen(crm_errmsg(db)) > 0);
	}
	CHECK_OK(db, crm_batch_add_values(b, good, 1, NULL)); /* later rows are still checked */
	CHECK_RC(db, crm_batch_commit(b), CRM_EINVAL);
	d = cJSON_Parse(crm_errdetail(db));
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "rows")), (int)nbad);
	cJSON_Delete(d);
	crm_batch_free(b);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM thing"), 0);
	/* Wrong arguments are misuse, and change nothing. */
	CHECK_OK(db, crm_batch_begin(&b, db, "thing"));
	CHECK_INT(crm_batch_add_values(NULL, good, 1, NULL), CRM_EMISUSE);
	CHECK_INT(crm_batch_add_values(b, NULL, 1, NULL), CRM_EMISUSE);
	CHECK_INT((int)crm_batch_count(b), 0);
	crm_batch_free(b);
	crm_close(db);
}

TEST(test_batch_values__a_conflict_found_late_names_its_row)
{
	crm_db *db = thing_db();
	const char *tags[] = { "a" };
	crm_batch *b = NULL;
	cJSON *d, *row;
	char *errs;

	test_insert_q(db, "thing", "{'code':'K1'}");
	CHECK_OK(db, crm_batch_begin(&b, db, "thing"));
	for (int i = 0; i < 3000; i++) {
		char code[16];
		crm_field_value row_values[] = {
			{ "code", v_text(code) },
			{ "amount", v_text("1.50") },
			{ "seen", v_time(INT64_C(1769851800123) + i) },
			{ "tags", { .kind = CRM_VALUE_LIST, .items = tags, .nitems = 1 } },
			{ "extra", v_json("{\"i\":1}") },
			{ "owner", v_text("bob") },
		};

		snprintf(code, sizeof code, "K%d", i == 2500 ? 1 : i + 2);
		row_values[0].value = v_text(code);
		/* Queued on PostgreSQL: the conflict is found at a sync point. */
		int rc = crm_batch_add_values(b, row_values, sizeof row_values / sizeof *row_values, NULL);
		CHECK(rc == CRM_OK || (i == 2500 && rc == CRM_ECONSTRAINT));
	}
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	crm_batch_free(b);
	d = cJSON_Parse(crm_errdetail(db));
	row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "rows"), 0);
	CHECK_INT((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(row, "index")), 2500);
	errs = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(row, "errors"));
	CHECK_HAS(errs, "\"field\":\"code\"");
	CHECK_HAS(errs, "\"unique\"");
	cJSON_free(errs);
	cJSON_Delete(d);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM thing"), 1);
	crm_close(db);
}

TEST(test_batch_values__single_writes_take_values_as_their_json)
{
	crm_db *db = thing_db();
	const crm_field_value first[] = { { "name", v_text("Ann") }, { "code", v_text("C1") }, { "qty", v_int(3) },
					  { "due", v_time(INT64_C(1769817600000)) } };
	const crm_field_value change[] = { { "qty", v_int(4) }, { "name", { .kind = CRM_VALUE_NULL } } };
	const crm_field_value again[] = { { "code", v_text("C1") }, { "amount", v_text("9.90") } };
	const crm_field_value fresh[] = { { "code", v_text("C2") }, { "active", v_bool(1) } };
	const crm_field_value wrong[] = { { "qty", v_text("many") }, { "nope", v_int(1) } };
	const crm_field_value broken[] = { { "qty", { .kind = 42 } } };
	int64_t id = 0, other = 0, same = 0;
	int inserted = -1;
	cJSON *d;

	CHECK_OK(db, crm_record_insert_values(db, "thing", first, 4, &id));
	CHECK_HAS(test_get(db, "thing", id), "\"due\":\"2026-01-31\"");
	CHECK_OK(db, crm_record_update_values(db, "thing", id, change, 2, 1));
	CHECK_HAS(test_get(db, "thing", id), "\"qty\":4");
	CHECK_HAS(test_get(db, "thing", id), "\"name\":null");
	CHECK_RC(db, crm_record_update_values(db, "thing", id, change, 2, 1), CRM_ECONFLICT); /* version is 2 now */
	CHECK_OK(db, crm_record_upsert_values(db, "thing", "code", again, 2, &same, &inserted));
	CHECK_INT(inserted, 0);
	CHECK(same == id);
	CHECK_HAS(test_get(db, "thing", id), "\"amount\":9.90");
	CHECK_OK(db, crm_record_upsert_values(db, "thing", "code", fresh, 2, &other, &inserted));
	CHECK_INT(inserted, 1);
	CHECK(other != id);
	/* Refusals: every failing field at once, and nothing changes. */
	CHECK_RC(db, crm_record_insert_values(db, "thing", wrong, 2, NULL), CRM_ECONSTRAINT);
	d = cJSON_Parse(crm_errdetail(db));
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "errors")), 2);
	cJSON_Delete(d);
	CHECK_RC(db, crm_record_update_values(db, "thing", id, wrong, 2, 0), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_record_update_values(db, "thing", id, broken, 1, 0), CRM_EINVAL);
	CHECK_RC(db, crm_record_upsert_values(db, "thing", "code", broken, 1, NULL, NULL), CRM_EINVAL);
	CHECK_RC(db, crm_record_insert_values(db, "thing", NULL, 1, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_record_insert_values(db, "nope", first, 4, NULL), CRM_ENOTFOUND);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM thing"), 2);
	CHECK_HAS(test_get(db, "thing", id), "\"qty\":4");
	CHECK_OK(db, crm_record_insert_values(db, "thing", NULL, 0, &other)); /* an empty record */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM thing"), 3);
	crm_close(db);
}

/* A text value: `s`, `n` bytes (NULs and bad bytes included). */
static crm_value v_bytes(const char *s, size_t n) { return (crm_value){ .kind = CRM_VALUE_TEXT, .s = s, .n = n }; }

/* Texts are read eight ASCII bytes at a time: a NUL or a byte that is not
 * UTF-8 after such words (or in the bytes after the last one) is refused
 * as at the start, and non-ASCII text after them is kept as given. */
TEST(test_batch_values__a_nul_or_bad_byte_after_ascii_words_is_refused)
{
	crm_db *db = thing_db();
	static const char nul_name[] = "abcdefghij\0k", bad_notes[] = "abcdefghijklmnop\xff",
			  bad_stage[] = "wonwonwon\xc3", nul_phone[] = "138 0000 0000\0", nul_due[] = "2026-01-31\0",
			  nul_email[] = "abcdefgh@example.com\0";
	const crm_field_value bad[] = {
		{ "name", v_bytes(nul_name, sizeof nul_name - 1) },
		{ "notes", v_bytes(bad_notes, sizeof bad_notes - 1) },
		{ "stage", v_bytes(bad_stage, sizeof bad_stage - 1) },
		{ "phone", v_bytes(nul_phone, sizeof nul_phone - 1) },
		{ "due", v_bytes(nul_due, sizeof nul_due - 1) },
		{ "email", v_bytes(nul_email, sizeof nul_email - 1) },
	};
	const crm_field_value good[] = { { "name", v_text("abcdefghijk 北京") }, { "notes", v_text("abcdefgh\x7f") } };
	crm_batch *b = NULL;
	char *errs;

	CHECK_OK(db, crm_batch_begin(&b, db, "thing"));
	CHECK_RC(db, crm_batch_add_values(b, bad, sizeof bad / sizeof *bad, NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	crm_batch_free(b);
	errs = row_errors(db);
	CHECK_HAS(errs, "{\"field\":\"name\",\"code\":\"nul\"");
	CHECK_HAS(errs, "{\"field\":\"notes\",\"code\":\"format\"");
	CHECK_HAS(errs, "{\"field\":\"stage\",\"code\":\"format\"");
	CHECK_HAS(errs, "{\"field\":\"phone\",\"code\":\"nul\"");
	CHECK_HAS(errs, "{\"field\":\"due\",\"code\":\"nul\"");
	CHECK_HAS(errs, "{\"field\":\"email\",\"code\":\"nul\"");
	cJSON_free(errs);
	CHECK_HAS(test_get(db, "thing", batch_one(db, good, 2)), "\"name\":\"abcdefghijk 北京\",\"notes\":\"abcdefgh\x7f\"");
	crm_close(db);
}

/* Each name of each row finds its field, whatever the order of the row
 * before: fields in any order, names that are no field (a misspelling, a
 * prefix, a longer name, none at all) in the middle of a row, a row after
 * a refused one. */
TEST(test_batch_values__names_find_their_fields_in_any_order_row_after_row)
{
	crm_db *db = thing_db();
	const crm_field_value in_order[] = { { "name", v_text("a") }, { "notes", v_text("n") }, { "qty", v_int(1) },
					     { "stage", v_text("new") } };
	const crm_field_value reversed[] = { { "stage", v_text("won") }, { "qty", v_int(2) }, { "notes", v_text("m") },
					     { "name", v_text("b") } };
	const crm_field_value misspelled[] = { { "name", v_text("c") }, { "nmae", v_text("x") }, { "qty", v_int(3) } };
	const crm_field_value near_names[] = { { "qty", v_int(4) }, { "nam", v_int(1) }, { "names", v_int(1) },
					       { "", v_int(1) }, { "notes", v_text("o") } };
	const crm_field_value after[] = { { "notes", v_text("p") }, { "name", v_text("d") }, { "qty", v_int(5) } };
	const crm_field_value twice[] = { { "qty", v_int(6) }, { "name", v_text("e") }, { "qty", v_int(7) } };
	const crm_field_value *rows[] = { in_order, reversed, misspelled, near_names, after, twice };
	const size_t counts[] = { 4, 4, 3, 5, 3, 3 };
	const char *const want[] = { "\"name\":\"a\",\"notes\":\"n\",\"qty\":1,",
				     "\"name\":\"b\",\"notes\":\"m\",\"qty\":2,", NULL, NULL,
				     "\"name\":\"d\",\"notes\":\"p\",\"qty\":5,", NULL };
	int64_t ids[6] = { 0 };
	crm_batch *b = NULL;
	cJSON *d, *failed;
	char *errs;

	CHECK_OK(db, crm_batch_begin(&b, db, "thing"));
	for (int k = 0; k < 6; k++)
		CHECK_RC(db, crm_batch_add_values(b, rows[k], counts[k], NULL), want[k] ? CRM_OK : CRM_ECONSTRAINT);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	crm_batch_free(b);
	d = cJSON_Parse(crm_errdetail(db));
	failed = cJSON_GetObjectItemCaseSensitive(d, "rows");
	CHECK_INT(cJSON_GetArraySize(failed), 3);
	CHECK_INT((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(failed, 0), "index")), 2);
	CHECK_INT((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(failed, 1), "index")), 3);
	CHECK_INT((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(failed, 2), "index")), 5);
	errs = cJSON_PrintUnformatted(failed);
	CHECK_HAS(errs, "{\"field\":\"nmae\",\"code\":\"unknown_field\"");
	CHECK_HAS(errs, "{\"field\":\"nam\",\"code\":\"unknown_field\"");
	CHECK_HAS(errs, "{\"field\":\"names\",\"code\":\"unknown_field\"");
	CHECK_HAS(errs, "{\"field\":\"\",\"code\":\"unknown_field\"");
	CHECK_HAS(errs, "{\"field\":\"qty\",\"code\":\"duplicate\"");
	cJSON_free(errs);
	cJSON_Delete(d);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM thing"), 0);
	/* The good rows alone: stored as given. */
	CHECK_OK(db, crm_batch_begin(&b, db, "thing"));
	for (int k = 0; k < 6; k++)
		if (want[k])
			CHECK_OK(db, crm_batch_add_values(b, rows[k], counts[k], &ids[k]));
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	for (int k = 0; k < 6; k++)
		if (want[k])
			CHECK_HAS(test_get(db, "thing", ids[k]), want[k]);
	crm_close(db);
}

TEST_LIST(T(test_batch_values__every_kind_stores_what_its_json_stores),
	  T(test_batch_values__a_refused_value_gets_the_error_of_its_json),
	  T(test_batch_values__a_time_is_an_integer_for_other_fields),
	  T(test_batch_values__a_malformed_value_fails_its_row_like_malformed_json),
	  T(test_batch_values__a_conflict_found_late_names_its_row),
	  T(test_batch_values__single_writes_take_values_as_their_json),
	  T(test_batch_values__a_nul_or_bad_byte_after_ascii_words_is_refused),
	  T(test_batch_values__names_find_their_fields_in_any_order_row_after_row))
