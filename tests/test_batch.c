/* Batches: many inserts in one transaction, all or nothing, every failing
 * row reported with its index (docs/metadata.md "Records and validation"). */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

static const char item_form[] =
	"{\"form\":\"item\",\"fields\":["
	"{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"code\",\"type\":\"text\",\"unique\":true},"
	"{\"name\":\"qty\",\"type\":\"integer\",\"min\":0}]}";

static crm_db *item_db(void)
{
	crm_db *db = test_db();

	test_apply(db, item_form);
	return db;
}

static int64_t rows(crm_db *db)
{
	return test_sql_int(db, "SELECT count(*) FROM item");
}

/* The parsed error detail of the handle (cJSON_Delete it). */
static cJSON *detail(crm_db *db)
{
	cJSON *d = cJSON_Parse(crm_errdetail(db));

	CHECK(d != NULL);
	return d;
}

static int64_t detail_int(const cJSON *d, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

/* rows[i] of the detail, or NULL. */
static const cJSON *detail_row(const cJSON *d, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "rows"), i);
}

static int detail_rows(const cJSON *d)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "rows"));
}

/* Does row `r` list an error for `field` with `code`? */
static int row_has_error(const cJSON *r, const char *field, const char *code)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, "errors"))
	{
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "field"));
		const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
		if ((field == NULL || (f && strcmp(f, field) == 0)) && c && strcmp(c, code) == 0)
			return 1;
	}
	return 0;
}

static const char *row_code(const cJSON *r)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "code"));
}

TEST(test_batch__thousand_rows_commit_with_ids_in_order)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	int64_t ids[1000];
	char json[128];

	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	for (int i = 0; i < 1000; i++) {
		snprintf(json, sizeof json, "{\"name\":\"item %d\",\"code\":\"c%d\",\"qty\":%d}", i, i, i);
		ids[i] = 0;
		CHECK_OK(db, crm_batch_add(b, json, -1, &ids[i]));
	}
	CHECK_INT(crm_batch_count(b), 1000);
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	CHECK_INT(rows(db), 1000);
	for (int i = 0; i < 1000; i++) {
		CHECK_INT(ids[i], i + 1);
		if (i > 0)
			CHECK(ids[i] > ids[i - 1]);
	}
	snprintf(json, sizeof json, "\"name\":\"item %d\",\"code\":\"c%d\",\"qty\":%d", 0, 0, 0);
	CHECK_HAS(test_get(db, "item", ids[0]), json);
	snprintf(json, sizeof json, "\"name\":\"item %d\",\"code\":\"c%d\",\"qty\":%d", 999, 999, 999);
	CHECK_HAS(test_get(db, "item", ids[999]), json);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM item WHERE name = 'item ' || (id - 1) AND qty = id - 1"), 1000);
	crm_close(db);
}

TEST(test_batch__len_limits_the_row_text)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	const char *text = "{\"name\":\"a\"}{\"name\":\"b\"}";
	int64_t id = 0;

	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_OK(db, crm_batch_add(b, text, 12, &id));
	CHECK_OK(db, crm_batch_add(b, text + 12, 12, &id));
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	CHECK_HAS(test_get(db, "item", 1), "\"name\":\"a\"");
	CHECK_HAS(test_get(db, "item", 2), "\"name\":\"b\"");
	crm_close(db);
}

TEST(test_batch__one_bad_row_fails_commit_and_inserts_nothing)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	char json[128];
	cJSON *d;

	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"existing\"}", NULL));
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	for (int i = 0; i < 1000; i++) {
		if (i == 500)
			CHECK_RC(db, crm_batch_add(b, "{\"qty\":5}", -1, NULL), CRM_ECONSTRAINT);
		else {
			snprintf(json, sizeof json, "{\"name\":\"item %d\",\"qty\":%d}", i, i);
			CHECK_OK(db, crm_batch_add(b, json, -1, NULL));
		}
	}
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	CHECK_INT(crm_errcode(db), CRM_ECONSTRAINT);
	d = detail(db);
	CHECK_INT(detail_int(d, "failed"), 1);
	CHECK_INT(detail_rows(d), 1);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 500);
	CHECK_STR(row_code(detail_row(d, 0)), "CRM_ECONSTRAINT");
	CHECK(row_has_error(detail_row(d, 0), "name", "required"));
	CHECK_HAS(crm_errdetail(db), "{\"index\":500,");
	cJSON_Delete(d);
	crm_batch_free(b);
	CHECK_INT(rows(db), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM item WHERE name LIKE 'item %'"), 0);
	/* the handle works normally afterwards */
	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"after\"}", NULL));
	CHECK_INT(rows(db), 2);
	crm_close(db);
}

TEST(test_batch__several_bad_rows_are_all_listed_with_field_errors)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	cJSON *d;

	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"ok0\"}", -1, NULL));
	CHECK_RC(db, crm_batch_add(b, "{\"qty\":-1}", -1, NULL), CRM_ECONSTRAINT); /* 1: required + min */
	/* the failing row's own error is on the handle right away */
	CHECK_HAS(crm_errdetail(db), "\"code\":\"min\"");
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"ok2\"}", -1, NULL));
	CHECK_RC(db, crm_batch_add(b, "{\"name\":\"x\",\"qty\":\"many\"}", -1, NULL), CRM_ECONSTRAINT); /* 3: type */
	CHECK_RC(db, crm_batch_add(b, "{\"name\":\"x\",\"nope\":1}", -1, NULL), CRM_ECONSTRAINT);      /* 4: unknown */
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"ok5\"}", -1, NULL));
	CHECK_INT(crm_batch_count(b), 6);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	d = detail(db);
	CHECK_INT(detail_int(d, "failed"), 3);
	CHECK_INT(detail_rows(d), 3);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 1);
	CHECK(row_has_error(detail_row(d, 0), "name", "required"));
	CHECK(row_has_error(detail_row(d, 0), "qty", "min"));
	CHECK_INT(detail_int(detail_row(d, 1), "index"), 3);
	CHECK(row_has_error(detail_row(d, 1), "qty", "type"));
	CHECK_INT(detail_int(detail_row(d, 2), "index"), 4);
	CHECK(row_has_error(detail_row(d, 2), "nope", "unknown_field"));
	cJSON_Delete(d);
	CHECK_HAS(crm_errmsg(db), "3 of 6");
	crm_batch_free(b);
	CHECK_INT(rows(db), 0);
	crm_close(db);
}

TEST(test_batch__duplicate_unique_values_within_the_batch_are_caught)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	cJSON *d;

	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"a\",\"code\":\"X\"}", -1, NULL));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"b\",\"code\":\"Y\"}", -1, NULL));
	CHECK_RC(db, crm_batch_add(b, "{\"name\":\"c\",\"code\":\"X\"}", -1, NULL), CRM_OK);
	/* a duplicate along with another failure is reported too */
	CHECK_RC(db, crm_batch_add(b, "{\"code\":\"Y\"}", -1, NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	d = detail(db);
	CHECK_INT(detail_int(d, "failed"), 2);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 2);
	CHECK(row_has_error(detail_row(d, 0), "code", "unique"));
	CHECK_INT(detail_int(detail_row(d, 1), "index"), 3);
	CHECK(row_has_error(detail_row(d, 1), "code", "unique"));
	CHECK(row_has_error(detail_row(d, 1), "name", "required"));
	cJSON_Delete(d);
	crm_batch_free(b);
	CHECK_INT(rows(db), 0);
	crm_close(db);
}

TEST(test_batch__two_empty_keys_collide_when_nulls_are_not_distinct)
{
	crm_db *db = test_db();
	crm_batch *b = NULL;
	cJSON *d;

	test_apply(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"n\",\"type\":\"text\"},"
		       "{\"name\":\"k\",\"type\":\"text\",\"unique\":true,\"nulls_distinct\":false}]}");
	CHECK_OK(db, crm_batch_begin(&b, db, "t"));
	CHECK_OK(db, crm_batch_add(b, "{\"n\":\"a\"}", -1, NULL));
	CHECK_OK(db, crm_batch_add(b, "{\"n\":\"b\",\"k\":\"x\"}", -1, NULL));
	CHECK_RC(db, crm_batch_add(b, "{\"n\":\"c\",\"k\":\"\"}", -1, NULL), CRM_OK);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	d = detail(db);
	CHECK_INT(detail_int(d, "failed"), 1);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 2);
	CHECK(row_has_error(detail_row(d, 0), "k", "unique"));
	cJSON_Delete(d);
	crm_batch_free(b);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM t"), 0);
	crm_close(db);
}

TEST(test_batch__duplicate_of_an_existing_record_is_caught)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	cJSON *d;

	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"a\",\"code\":\"X\"}", NULL));
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"b\"}", -1, NULL));
	CHECK_RC(db, crm_batch_add(b, "{\"name\":\"c\",\"code\":\"X\"}", -1, NULL), CRM_OK);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	d = detail(db);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 1);
	CHECK(row_has_error(detail_row(d, 0), "code", "unique"));
	cJSON_Delete(d);
	crm_batch_free(b);
	CHECK_INT(rows(db), 1);
	crm_close(db);
}

TEST(test_batch__malformed_json_row_is_einval_and_later_rows_still_checked)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	cJSON *d;

	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"a\"}", -1, NULL));
	CHECK_RC(db, crm_batch_add(b, "{\"name\":", -1, NULL), CRM_EINVAL);
	CHECK(crm_erroffset(db) >= 0);
	CHECK_RC(db, crm_batch_add(b, "[1,2]", -1, NULL), CRM_EINVAL);
	CHECK_RC(db, crm_batch_add(b, "{\"qty\":1}", -1, NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"e\"}", -1, NULL));
	/* the commit fails with the first failing row's code */
	CHECK_RC(db, crm_batch_commit(b), CRM_EINVAL);
	d = detail(db);
	CHECK_INT(detail_int(d, "failed"), 3);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 1);
	CHECK_STR(row_code(detail_row(d, 0)), "CRM_EINVAL");
	CHECK_INT(detail_int(detail_row(d, 1), "index"), 2);
	CHECK_STR(row_code(detail_row(d, 1)), "CRM_EINVAL");
	CHECK_INT(detail_int(detail_row(d, 2), "index"), 3);
	CHECK_STR(row_code(detail_row(d, 2)), "CRM_ECONSTRAINT");
	CHECK(row_has_error(detail_row(d, 2), "name", "required"));
	cJSON_Delete(d);
	crm_batch_free(b);
	CHECK_INT(rows(db), 0);
	crm_close(db);
}

TEST(test_batch__syntax_error_after_bad_members_is_what_the_row_reports)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	cJSON *d;
	const cJSON *e;
	int syntax = 0;

	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	/* an unknown member comes before the text breaks off */
	CHECK_RC(db, crm_batch_add(b, "{\"bogus\":1,\"name\":", -1, NULL), CRM_EINVAL);
	CHECK_RC(db, crm_batch_commit(b), CRM_EINVAL);
	d = detail(db);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 0);
	CHECK_STR(row_code(detail_row(d, 0)), "CRM_EINVAL");
	/* the row says why it is CRM_EINVAL: the JSON is malformed */
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(detail_row(d, 0), "errors"))
	{
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
		syntax |= m && strstr(m, "JSON") != NULL;
	}
	CHECK(syntax);
	if (!syntax)
		fprintf(stderr, "row 0 does not explain its CRM_EINVAL: %s\n", crm_errdetail(db));
	cJSON_Delete(d);
	crm_batch_free(b);
	CHECK_INT(rows(db), 0);
	crm_close(db);
}

TEST(test_batch__error_limit_caps_listed_rows_but_failed_counts_all)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	cJSON *d;

	CHECK_INT(crm_limit(db, CRM_LIMIT_BATCH_ERRORS, 3), 100);
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	for (int i = 0; i < 10; i++) {
		CHECK_OK(db, crm_batch_add(b, "{\"name\":\"ok\"}", -1, NULL));
		CHECK_RC(db, crm_batch_add(b, "{\"qty\":1}", -1, NULL), CRM_ECONSTRAINT);
	}
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	d = detail(db);
	CHECK_INT(detail_int(d, "failed"), 10);
	CHECK_INT(detail_rows(d), 3);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 1);
	CHECK_INT(detail_int(detail_row(d, 1), "index"), 3);
	CHECK_INT(detail_int(detail_row(d, 2), "index"), 5);
	cJSON_Delete(d);
	crm_batch_free(b);
	CHECK_INT(rows(db), 0);

	/* a limit of 0 lists no rows at all, still counting them */
	crm_limit(db, CRM_LIMIT_BATCH_ERRORS, 0);
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_RC(db, crm_batch_add(b, "{}", -1, NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_batch_add(b, "{}", -1, NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	d = detail(db);
	CHECK_INT(detail_int(d, "failed"), 2);
	CHECK_INT(detail_rows(d), 0);
	cJSON_Delete(d);
	crm_batch_free(b);
	crm_close(db);
}

TEST(test_batch__free_without_commit_rolls_back)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	int64_t id = 0;

	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"a\",\"code\":\"X\"}", -1, &id));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"b\"}", -1, NULL));
	crm_batch_free(b);
	CHECK_INT(rows(db), 0);
	CHECK(test_get(db, "item", id) == NULL);
	CHECK(!db->be->in_transaction(db));
	/* the unique value is free again */
	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"c\",\"code\":\"X\"}", NULL));
	crm_batch_free(NULL);
	crm_close(db);
}

TEST(test_batch__add_after_commit_is_misuse)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;

	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"a\"}", -1, NULL));
	CHECK_OK(db, crm_batch_commit(b));
	CHECK_RC(db, crm_batch_add(b, "{\"name\":\"b\"}", -1, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_batch_commit(b), CRM_EMISUSE);
	crm_batch_free(b);
	CHECK_INT(rows(db), 1);
	crm_close(db);
}

TEST(test_batch__add_after_failed_commit_is_misuse)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;

	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_RC(db, crm_batch_add(b, "{}", -1, NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_batch_add(b, "{\"name\":\"b\"}", -1, NULL), CRM_EMISUSE);
	crm_batch_free(b);
	CHECK_INT(rows(db), 0);
	CHECK(!db->be->in_transaction(db));
	crm_close(db);
}

TEST(test_batch__begin_checks_its_arguments)
{
	crm_db *db = item_db();
	crm_batch *b = (crm_batch *)&b;

	CHECK_RC(db, crm_batch_begin(&b, db, "nosuch"), CRM_ENOTFOUND);
	CHECK(b == NULL);
	CHECK(!db->be->in_transaction(db));
	CHECK_RC(db, crm_batch_begin(&b, db, "item; DROP TABLE item"), CRM_ENOTFOUND);
	CHECK_RC(db, crm_batch_begin(&b, db, NULL), CRM_EMISUSE);
	CHECK_INT(crm_batch_begin(NULL, db, "item"), CRM_EMISUSE);
	CHECK_INT(crm_batch_begin(&b, NULL, "item"), CRM_EMISUSE);
	CHECK_INT(crm_batch_add(NULL, "{}", -1, NULL), CRM_EMISUSE);
	CHECK_INT(crm_batch_commit(NULL), CRM_EMISUSE);
	CHECK_INT(crm_batch_count(NULL), 0);
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_INT(crm_batch_add(b, NULL, -1, NULL), CRM_EMISUSE);
	crm_batch_free(b);
	CHECK_INT(test_relation_exists(db, "item"), 1);
	crm_close(db);
}

TEST(test_batch__insert_many_json_array)
{
	crm_db *db = item_db();
	int64_t *ids = NULL;
	size_t n = 0;
	char *json = NULL;

	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"first\"}", NULL));
	CHECK_OK(db, crm_record_insert_many(db, "item",
					    " [ {\"name\":\"a\",\"qty\":1}, {\"name\":\"b\",\"code\":\"B\"},\n"
					    "   {\"name\":\"c\",\"qty\":3} ] ",
					    &ids, &n));
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(ids[0], 2);
		CHECK_INT(ids[1], 3);
		CHECK_INT(ids[2], 4);
		CHECK_OK(db, crm_record_get(db, "item", ids[0], &json));
		CHECK_HAS(json, "\"name\":\"a\",\"code\":null,\"qty\":1");
		crm_free(json);
		CHECK_OK(db, crm_record_get(db, "item", ids[1], &json));
		CHECK_HAS(json, "\"name\":\"b\",\"code\":\"B\",\"qty\":null");
		crm_free(json);
		CHECK_OK(db, crm_record_get(db, "item", ids[2], &json));
		CHECK_HAS(json, "\"name\":\"c\",\"code\":null,\"qty\":3");
		crm_free(json);
	}
	crm_free(ids);
	CHECK_INT(rows(db), 4);
	/* an empty array inserts nothing and succeeds */
	ids = NULL;
	n = 99;
	CHECK_OK(db, crm_record_insert_many(db, "item", "[]", &ids, &n));
	CHECK_INT(n, 0);
	crm_free(ids);
	/* NULL out parameters are fine */
	CHECK_OK(db, crm_record_insert_many(db, "item", "[{\"name\":\"d\"}]", NULL, NULL));
	CHECK_INT(rows(db), 5);
	crm_close(db);
}

TEST(test_batch__insert_many_ndjson_skips_blank_lines)
{
	crm_db *db = item_db();
	int64_t *ids = NULL;
	size_t n = 0;

	CHECK_OK(db, crm_record_insert_many(db, "item",
					    "{\"name\":\"a\"}\n"
					    "\n"
					    "   \t \n"
					    "{\"name\":\"b\",\"qty\":2}\r\n"
					    "{\"name\":\"c\"}",
					    &ids, &n));
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_HAS(test_get(db, "item", ids[0]), "\"name\":\"a\"");
		CHECK_HAS(test_get(db, "item", ids[1]), "\"name\":\"b\",\"code\":null,\"qty\":2");
		CHECK_HAS(test_get(db, "item", ids[2]), "\"name\":\"c\"");
	}
	crm_free(ids);
	CHECK_INT(rows(db), 3);
	crm_close(db);
}

TEST(test_batch__insert_many_ndjson_bad_line_reports_its_index)
{
	crm_db *db = item_db();
	int64_t *ids = (int64_t *)&ids;
	size_t n = 7;
	cJSON *d;

	CHECK_RC(db, crm_record_insert_many(db, "item", "{\"name\":\"a\"}\n{\"qty\":1}\n{\"name\":\"c\"}\n", &ids, &n),
		 CRM_ECONSTRAINT);
	CHECK(ids == NULL);
	CHECK_INT(n, 0);
	d = detail(db);
	CHECK_INT(detail_int(d, "failed"), 1);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 1);
	cJSON_Delete(d);
	CHECK_INT(rows(db), 0);
	crm_close(db);
}

TEST(test_batch__insert_many_array_with_non_object_fails_and_inserts_nothing)
{
	crm_db *db = item_db();
	int64_t *ids = NULL;
	size_t n = 0;
	cJSON *d;

	CHECK_RC(db, crm_record_insert_many(db, "item", "[{\"name\":\"a\"}, 5, {\"name\":\"c\"}, \"x\", {}]", &ids, &n),
		 CRM_EINVAL);
	CHECK(ids == NULL);
	d = detail(db);
	CHECK_INT(detail_int(d, "failed"), 3);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 1);
	CHECK_STR(row_code(detail_row(d, 0)), "CRM_EINVAL");
	CHECK_INT(detail_int(detail_row(d, 1), "index"), 3);
	CHECK_STR(row_code(detail_row(d, 1)), "CRM_EINVAL");
	CHECK_INT(detail_int(detail_row(d, 2), "index"), 4);
	CHECK_STR(row_code(detail_row(d, 2)), "CRM_ECONSTRAINT");
	cJSON_Delete(d);
	CHECK_INT(rows(db), 0);
	crm_close(db);
}

TEST(test_batch__insert_many_malformed_array_is_einval_and_inserts_nothing)
{
	crm_db *db = item_db();
	int64_t *ids = NULL;
	size_t n = 5;

	CHECK_RC(db, crm_record_insert_many(db, "item", "[{\"name\":\"a\"}, {\"name\":\"b\"", &ids, &n), CRM_EINVAL);
	CHECK(ids == NULL);
	CHECK_INT(n, 0);
	CHECK(crm_erroffset(db) >= 0);
	CHECK_INT(rows(db), 0);
	CHECK_RC(db, crm_record_insert_many(db, "item", "[{\"name\":\"a\"} {\"name\":\"b\"}]", &ids, &n), CRM_EINVAL);
	CHECK_INT(rows(db), 0);
	CHECK_RC(db, crm_record_insert_many(db, "item", "[{\"name\":\"a\"},]", &ids, &n), CRM_EINVAL);
	CHECK_INT(rows(db), 0);
	CHECK_RC(db, crm_record_insert_many(db, "item", "[{\"name\":\"a\"}] trailing", &ids, &n), CRM_EINVAL);
	CHECK_INT(rows(db), 0);
	CHECK(!db->be->in_transaction(db));
	crm_close(db);
}

TEST(test_batch__insert_many_checks_its_arguments)
{
	crm_db *db = item_db();
	int64_t *ids = NULL;
	size_t n = 0;

	CHECK_INT(crm_record_insert_many(NULL, "item", "[]", &ids, &n), CRM_EMISUSE);
	CHECK_RC(db, crm_record_insert_many(db, "item", NULL, &ids, &n), CRM_EMISUSE);
	CHECK_RC(db, crm_record_insert_many(db, "nosuch", "[{\"name\":\"a\"}]", &ids, &n), CRM_ENOTFOUND);
	CHECK_RC(db, crm_record_insert_many(db, NULL, "[{\"name\":\"a\"}]", &ids, &n), CRM_EMISUSE);
	CHECK(ids == NULL);
	crm_close(db);
}

TEST(test_batch__out_ids_match_record_get)
{
	crm_db *db = item_db();
	int64_t *ids = NULL;
	size_t n = 0;
	char want[64];

	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"x\"}", NULL));
	CHECK_OK(db, crm_record_delete(db, "item", 1, 0));
	CHECK_OK(db, crm_record_insert_many(db, "item", "[{\"name\":\"r0\"},{\"name\":\"r1\"},{\"name\":\"r2\"},"
						    "{\"name\":\"r3\"},{\"name\":\"r4\"}]",
					    &ids, &n));
	CHECK_INT(n, 5);
	for (size_t i = 0; i < n; i++) {
		char *json = NULL;
		snprintf(want, sizeof want, "{\"id\":%lld,\"name\":\"r%zu\"", (long long)ids[i], i);
		CHECK_OK(db, crm_record_get(db, "item", ids[i], &json));
		CHECK_HAS(json, want);
		crm_free(json);
	}
	crm_free(ids);
	crm_close(db);
}

TEST(test_batch__inside_host_transaction_commits_with_it)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;

	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"before\"}", NULL));
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"b1\"}", -1, NULL));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"b2\"}", -1, NULL));
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	CHECK(db->be->in_transaction(db)); /* the host transaction is still open */
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(rows(db), 3);
	crm_close(db);
}

TEST(test_batch__inside_host_transaction_rolls_back_with_it)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;

	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"b1\"}", -1, NULL));
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	CHECK_OK(db, crm_rollback(db));
	CHECK_INT(rows(db), 0);
	crm_close(db);
}

TEST(test_batch__failing_batch_inside_host_transaction_keeps_earlier_writes)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;

	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"before\"}", NULL));
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"b1\"}", -1, NULL));
	CHECK_RC(db, crm_batch_add(b, "{}", -1, NULL), CRM_ECONSTRAINT);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	crm_batch_free(b);
	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"after\"}", NULL));
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(rows(db), 2);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM item WHERE name='b1'"), 0);
	crm_close(db);
}

TEST(test_batch__insert_many_inside_host_transaction)
{
	crm_db *db = item_db();

	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert_many(db, "item", "[{\"name\":\"a\"},{\"name\":\"b\"}]", NULL, NULL));
	CHECK_RC(db, crm_record_insert_many(db, "item", "[{\"name\":\"c\"},{}]", NULL, NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(rows(db), 2);
	crm_close(db);
}

TEST(test_batch__defaults_and_owner_apply_to_batch_rows)
{
	crm_db *db = test_db();
	int64_t *ids = NULL;
	size_t n = 0;

	test_apply(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"n\",\"type\":\"integer\",\"default\":7},"
		       "{\"name\":\"s\",\"type\":\"text\"}]}");
	CHECK_OK(db, crm_actor_set(db, "alice", NULL));
	CHECK_OK(db, crm_record_insert_many(db, "t", "[{\"s\":\"a\"},{\"n\":1,\"owner\":\"bob\"},{\"n\":null}]", &ids, &n));
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_HAS(test_get(db, "t", ids[0]), "\"n\":7,\"s\":\"a\"");
		CHECK_HAS(test_get(db, "t", ids[0]), "\"owner\":\"alice\"");
		CHECK_HAS(test_get(db, "t", ids[1]), "\"n\":1,\"s\":null");
		CHECK_HAS(test_get(db, "t", ids[1]), "\"owner\":\"bob\"");
		CHECK_HAS(test_get(db, "t", ids[2]), "\"n\":null");
	}
	crm_free(ids);
	crm_close(db);
}

/* Thousands of rows, more than are ever in flight at once: conflicts with
 * an earlier row and with a stored record are listed for their own rows,
 * in order, and nothing is inserted. Row 1501 (right after a refused row,
 * in the same SQLite block) is still inserted: row 1600 repeats its code. */
TEST(test_batch__conflicts_found_late_name_their_rows_in_order)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	char json[96];
	cJSON *d;

	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\"stored\",\"code\":\"S\"}", NULL));
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	for (int i = 0; i < 3000; i++) {
		int dup = i == 1500 || i == 1600 || i == 2900;
		if (i == 1500 || i == 1600) /* row 10's code, row 1501's */
			snprintf(json, sizeof json, "{\"name\":\"n%d\",\"code\":\"c%d\"}", i, i == 1500 ? 10 : 1501);
		else if (i == 2900) /* the stored record's */
			snprintf(json, sizeof json, "{\"name\":\"n%d\",\"code\":\"S\"}", i);
		else
			snprintf(json, sizeof json, "{\"name\":\"n%d\",\"code\":\"c%d\"%s}", i, i,
				 i == 2990 ? ",\"qty\":-1" : "");
		CHECK_RC(db, crm_batch_add(b, json, -1, NULL), dup ? CRM_OK : i == 2990 ? CRM_ECONSTRAINT : CRM_OK);
	}
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	d = detail(db);
	CHECK_INT(detail_int(d, "failed"), 4);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 1500);
	CHECK(row_has_error(detail_row(d, 0), "code", "unique"));
	CHECK_INT(detail_int(detail_row(d, 1), "index"), 1600);
	CHECK(row_has_error(detail_row(d, 1), "code", "unique"));
	CHECK_INT(detail_int(detail_row(d, 2), "index"), 2900);
	CHECK(row_has_error(detail_row(d, 2), "code", "unique"));
	CHECK_INT(detail_int(detail_row(d, 3), "index"), 2990);
	CHECK(row_has_error(detail_row(d, 3), "qty", "min"));
	cJSON_Delete(d);
	crm_batch_free(b);
	CHECK_INT(rows(db), 1);
	crm_close(db);
}

/* A row that asks for its id is inserted at once, after the rows queued
 * before it: its conflict is its own return on every backend. */
TEST(test_batch__row_asking_for_its_id_reports_its_conflict_at_once)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	int64_t id = 0;
	cJSON *d;

	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"a\",\"code\":\"X\"}", -1, NULL));
	CHECK_RC(db, crm_batch_add(b, "{\"name\":\"b\",\"code\":\"X\"}", -1, &id), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"c\",\"code\":\"Y\"}", -1, &id));
	CHECK(id > 0);
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	d = detail(db);
	CHECK_INT(detail_int(d, "failed"), 1);
	CHECK_INT(detail_int(detail_row(d, 0), "index"), 1);
	CHECK(row_has_error(detail_row(d, 0), "code", "unique"));
	cJSON_Delete(d);
	crm_batch_free(b);
	CHECK_INT(rows(db), 0);
	crm_close(db);
}

/* insert_many's ids arrive with the rows' outcomes: each is its row's. */
TEST(test_batch__insert_many_ids_of_thousands_of_rows_are_their_rows)
{
	crm_db *db = item_db();
	crm__buf json = CRM__BUF_INIT;
	int64_t *ids = NULL;
	size_t n = 0;
	char want[32];

	for (int i = 0; i < 2500; i++)
		crm__buf_printf(&json, "{\"name\":\"r%d\",\"qty\":%d}\n", i, i);
	CHECK_OK(db, crm_record_insert_many(db, "item", crm__buf_cstr(&json), &ids, &n));
	CHECK_INT(n, 2500);
	for (size_t i = 0; i < n; i++) { /* SQLite ran them in blocks of 64 rows and less */
		snprintf(want, sizeof want, "\"name\":\"r%zu\"", i);
		CHECK_HAS(test_get(db, "item", ids[i]), want);
	}
	crm_free(ids);
	crm__buf_free(&json);
	crm_close(db);
}

/* Rows of a form a workflow starts on are not queued: each starts its
 * instance with its own id. */
TEST(test_batch__rows_starting_workflows_get_their_instances)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;

	test_apply(db, "{\"workflow\":\"w\",\"form\":\"item\",\"start_on\":\"create\",\"initial\":\"new\","
		       "\"states\":{\"new\":{},\"done\":{\"final\":true}},"
		       "\"transitions\":[{\"from\":\"new\",\"event\":\"close\",\"to\":\"done\"}]}");
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	for (int i = 0; i < 50; i++)
		CHECK_OK(db, crm_batch_add(b, "{\"name\":\"w\"}", -1, NULL));
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance i JOIN item r ON r.id = i.record"), 50);
	crm_close(db);
}

/* Queued rows run before anything else does: a read inside the batch's
 * transaction sees them, and a conflict with one is still found. */
TEST(test_batch__reads_inside_a_batch_see_its_queued_rows)
{
	crm_db *db = item_db();
	crm_batch *b = NULL;
	crm_cursor *cur = NULL;
	char json[64];
	int n = 0;

	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	for (int i = 0; i < 100; i++) {
		snprintf(json, sizeof json, "{\"name\":\"q%d\",\"code\":\"c%d\"}", i, i);
		CHECK_OK(db, crm_batch_add(b, json, -1, NULL));
	}
	CHECK_OK(db, crm_query(&cur, db, "item", "{\"filter\":{\"field\":\"name\",\"op\":\"starts_with\",\"value\":\"q\"}}"));
	while (crm_cursor_next(cur) == CRM_ROW)
		n++;
	crm_cursor_free(cur);
	CHECK_INT(n, 100);
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"late\",\"code\":\"c5\"}", -1, NULL));
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"index\":100");
	crm_batch_free(b);
	CHECK_OK(db, crm_rollback(db));
	CHECK_INT(rows(db), 0);
	crm_close(db);
}

/* The largest block asked of the allocator (counted while set). */
static size_t largest_block;

static void *counting_malloc(size_t n, void *payload)
{
	(void)payload;
	largest_block = n > largest_block ? n : largest_block;
	return malloc(n);
}

static void *counting_realloc(void *p, size_t n, void *payload)
{
	(void)payload;
	largest_block = n > largest_block ? n : largest_block;
	return realloc(p, n);
}

static void counting_free(void *p, void *payload)
{
	(void)payload;
	free(p);
}

/* What a batch keeps of rows in flight goes once they are answered: a
 * batch of 30,000 rows holds no block near the size of all of them (on
 * SQLite, whose queue always keeps a block's last rows, the kept values
 * once grew by every row: several MB here, half a GB for a million). */
TEST(test_batch__rows_in_flight_are_forgotten_once_answered)
{
	crm_allocator a = { CRM_ALLOCATOR_VERSION, counting_malloc, counting_realloc, counting_free, NULL };
	crm_db *db;
	crm_batch *b = NULL;
	char json[96];

	CHECK_OK(NULL, crm_allocator_set(&a));
	db = item_db();
	largest_block = 0;
	CHECK_OK(db, crm_batch_begin(&b, db, "item"));
	for (int i = 0; i < 30000; i++) {
		snprintf(json, sizeof json, "{\"name\":\"item number %d\",\"code\":\"code-%d\",\"qty\":%d}", i, i, i);
		CHECK_OK(db, crm_batch_add(b, json, -1, NULL));
	}
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	CHECK_INT(rows(db), 30000);
	CHECK(largest_block < 512 * 1024);
	crm_close(db);
	CHECK_OK(NULL, crm_allocator_set(NULL));
}

TEST_LIST(T(test_batch__thousand_rows_commit_with_ids_in_order), T(test_batch__len_limits_the_row_text),
	  T(test_batch__one_bad_row_fails_commit_and_inserts_nothing),
	  T(test_batch__several_bad_rows_are_all_listed_with_field_errors),
	  T(test_batch__duplicate_unique_values_within_the_batch_are_caught),
	  T(test_batch__two_empty_keys_collide_when_nulls_are_not_distinct),
	  T(test_batch__duplicate_of_an_existing_record_is_caught),
	  T(test_batch__malformed_json_row_is_einval_and_later_rows_still_checked),
	  T(test_batch__syntax_error_after_bad_members_is_what_the_row_reports),
	  T(test_batch__error_limit_caps_listed_rows_but_failed_counts_all),
	  T(test_batch__free_without_commit_rolls_back), T(test_batch__add_after_commit_is_misuse),
	  T(test_batch__add_after_failed_commit_is_misuse), T(test_batch__begin_checks_its_arguments),
	  T(test_batch__insert_many_json_array), T(test_batch__insert_many_ndjson_skips_blank_lines),
	  T(test_batch__insert_many_ndjson_bad_line_reports_its_index),
	  T(test_batch__insert_many_array_with_non_object_fails_and_inserts_nothing),
	  T(test_batch__insert_many_malformed_array_is_einval_and_inserts_nothing),
	  T(test_batch__insert_many_checks_its_arguments), T(test_batch__out_ids_match_record_get),
	  T(test_batch__reads_inside_a_batch_see_its_queued_rows),
	  T(test_batch__rows_in_flight_are_forgotten_once_answered),
	  T(test_batch__inside_host_transaction_commits_with_it),
	  T(test_batch__inside_host_transaction_rolls_back_with_it),
	  T(test_batch__failing_batch_inside_host_transaction_keeps_earlier_writes),
	  T(test_batch__insert_many_inside_host_transaction), T(test_batch__defaults_and_owner_apply_to_batch_rows),
	  T(test_batch__conflicts_found_late_name_their_rows_in_order),
	  T(test_batch__row_asking_for_its_id_reports_its_conflict_at_once),
	  T(test_batch__insert_many_ids_of_thousands_of_rows_are_their_rows),
	  T(test_batch__rows_starting_workflows_get_their_instances))
