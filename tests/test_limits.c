/* Every documented limit (include/crm/db.h, docs/api.md "Limits") on every
 * path where it applies: going past one is a clear error that changes
 * nothing, never a crash, a hang or a silent acceptance. */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "test.h"

static const char forms[] =
	"[{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
	"{\"name\":\"region\",\"type\":\"text\"},{\"name\":\"at\",\"type\":\"datetime\"}]},"
	"{\"report\":\"by_region\",\"source\":\"lead\",\"dimensions\":[{\"field\":\"region\"}],"
	"\"measures\":[{\"name\":\"n\",\"agg\":\"count\"}],"
	"\"filter\":{\"field\":\"at\",\"op\":\">=\",\"param\":\"since\"}},"
	"{\"decision\":\"owner\",\"inputs\":[\"region\"],\"outputs\":[\"owner\"],"
	"\"rules\":[{\"when\":{\"region\":\"north\"},\"then\":{\"owner\":\"alice\"}}]}]";

static crm_db *limits_db(void)
{
	crm_db *db = test_db();

	test_apply(db, forms);
	return db;
}

/* `depth` nested arrays around 1: "[[[1]]]" for 3 (malloc'd). */
static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 2);
	int i;

	for (i = 0; i < depth; i++)
		s[i] = '[';
	s[i] = '1';
	for (int k = 0; k < depth; k++)
		s[depth + 1 + k] = ']';
	s[depth * 2 + 1] = 0;
	return s;
}

static int64_t definitions(crm_db *db) { return test_sql_int(db, "SELECT count(*) FROM crm_meta"); }

/* ---- CRM_LIMIT_JSON_DEPTH: every input parsed into a tree, as for records ---- */

TEST(test_limits__json_depth_binds_metadata_queries_report_params_and_decision_inputs)
{
	crm_db *db = limits_db();
	int64_t defs = definitions(db);
	crm_cursor *cur = NULL;
	char *out = NULL;

	CHECK_INT(crm_limit(db, CRM_LIMIT_JSON_DEPTH, 3), 64);
	/* metadata: 4 levels (object, fields array, field object, options array) */
	CHECK_RC(db, crm_apply(db, "{\"form\":\"deep\",\"fields\":[{\"name\":\"e\",\"type\":\"enum\",\"options\":[\"a\"]}]}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "nested too deeply");
	CHECK(crm_erroffset(db) > 0);
	CHECK_INT(definitions(db), defs);
	/* a query: object, filter object, "and" array, condition object */
	CHECK_RC(db, crm_query(&cur, db, "lead", "{\"filter\":{\"and\":[{\"field\":\"name\",\"op\":\"eq\",\"value\":\"a\"}]}}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "nested too deeply");
	crm_cursor_free(cur);
	cur = NULL;
	/* report parameters and decision inputs */
	CHECK_RC(db, crm_report_output(db, "by_region", "{\"since\":[[[\"2025-01-01T00:00:00Z\"]]]}", "json", &out),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "nested too deeply");
	CHECK(out == NULL);
	CHECK_RC(db, crm_decision_eval(db, "owner", "{\"region\":[[[\"north\"]]]}", &out), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "nested too deeply");
	CHECK(out == NULL);
	/* within the limit, all of them work */
	CHECK_INT(crm_limit(db, CRM_LIMIT_JSON_DEPTH, 64), 3);
	CHECK_OK(db, crm_query(&cur, db, "lead", "{\"filter\":{\"and\":[{\"field\":\"name\",\"op\":\"eq\",\"value\":\"a\"}]}}"));
	crm_cursor_free(cur);
	CHECK_OK(db, crm_decision_eval(db, "owner", "{\"region\":\"north\"}", &out));
	crm_free(out);
	crm_close(db);
}

/* cJSON stops at CJSON_NESTING_LIMIT (1000) whatever the limit says: past
 * it, input is refused as too deep, not reported as running out of memory. */
TEST(test_limits__json_depth_past_cjsons_own_limit_is_einval_not_enomem)
{
	crm_db *db = limits_db();
	char *deep = nested(1500), *doc = malloc(4000);

	crm_limit(db, CRM_LIMIT_JSON_DEPTH, 5000);
	snprintf(doc, 4000, "{\"form\":\"x\",\"label\":%s}", deep);
	CHECK_RC(db, crm_apply(db, doc), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "nested too deeply");
	snprintf(doc, 4000, "{\"since\":%s}", deep);
	free(deep);
	CHECK_RC(db, crm_report_output(db, "by_region", doc, "json", &deep), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "nested too deeply");
	free(doc);
	crm_close(db);
}

/* A stored definition passed the limits of the day it was applied: a host
 * that lowers the depth limit later can still use it. */
TEST(test_limits__lowered_json_depth_keeps_stored_definitions_readable)
{
	char dir[] = "/tmp/crm_test_limits_XXXXXX", path[64];
	crm_db *db;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/db", dir);
	CHECK_OK(NULL, crm_open(&db, path, NULL));
	test_apply(db, "{\"form\":\"tagged\",\"fields\":[{\"name\":\"e\",\"type\":\"enum\",\"options\":[\"a\"]}]}");
	crm_close(db);
	CHECK_OK(NULL, crm_open(&db, path, NULL));
	crm_limit(db, CRM_LIMIT_JSON_DEPTH, 1);
	CHECK_OK(db, crm_record_insert(db, "tagged", "{\"e\":\"a\"}", NULL));
	crm_close(db);
	unlink(path);
	snprintf(path, sizeof path, "%s/db-wal", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/db-shm", dir);
	unlink(path);
	rmdir(dir);
}

/* ---- UTF-8: metadata and queries are held to the record scanner's rule ---- */

TEST(test_limits__invalid_utf8_in_metadata_and_queries_is_refused)
{
	crm_db *db = limits_db();
	int64_t defs = definitions(db);
	crm_cursor *cur = NULL;

	CHECK_RC(db, crm_apply(db, "{\"form\":\"u\",\"label\":\"bad \xff\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "UTF-8");
	CHECK_RC(db, crm_apply(db, "{\"form\":\"u\",\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"label\":\"\xed\xa0\x80\"}]}"),
		 CRM_EINVAL);
	CHECK_INT(definitions(db), defs);
	CHECK_RC(db, crm_query(&cur, db, "lead", "{\"filter\":{\"field\":\"name\",\"op\":\"eq\",\"value\":\"\xc0\xaf\"}}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "UTF-8");
	crm_cursor_free(cur);
	crm_close(db);
}

/* ---- CRM_LIMIT_REGEX_DEPTH binds JIT matching too (a JIT stack sized from it) ---- */

TEST(test_limits__regex_depth_binds_jit_matching)
{
	crm_db *db = test_db();
	char rec[25000];

	test_apply(db, "{\"form\":\"p\",\"fields\":[{\"name\":\"s\",\"type\":\"text\",\"pattern\":\"^(a|b)*$\"}]}");
	memset(rec, 0, sizeof rec);
	strcpy(rec, "{\"s\":\"");
	for (int i = 0; i < 400; i++)
		rec[6 + i] = i % 2 ? 'a' : 'b';
	strcat(rec, "\"}");
	/* Within the default depth (1000) with or without JIT. */
	CHECK_OK(db, crm_record_insert(db, "p", rec, NULL));
	CHECK_INT(crm_limit(db, CRM_LIMIT_REGEX_DEPTH, 10), 1000);
	CHECK_RC(db, crm_record_insert(db, "p", rec, NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"pattern_limit\"");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM p"), 1);
	/* Raised, it lets a deep match through (20000 characters: past the
	 * default JIT stack and the default depth). */
	memset(rec, 0, sizeof rec);
	strcpy(rec, "{\"s\":\"");
	for (int i = 0; i < 20000; i++)
		rec[6 + i] = i % 2 ? 'a' : 'b';
	strcat(rec, "\"}");
	crm_limit(db, CRM_LIMIT_REGEX_DEPTH, 1000);
	CHECK_RC(db, crm_record_insert(db, "p", rec, NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"pattern_limit\"");
	crm_limit(db, CRM_LIMIT_REGEX_DEPTH, 100000);
	crm_limit(db, CRM_LIMIT_REGEX_MATCH, 10000000);
	CHECK_OK(db, crm_record_insert(db, "p", rec, NULL));
	/* "No limit" still matches (the JIT stack is capped, not reserved whole). */
	crm_limit(db, CRM_LIMIT_REGEX_DEPTH, INT64_MAX);
	CHECK_OK(db, crm_record_insert(db, "p", rec, NULL));
	crm_close(db);
}

/* ---- metadata size and count ---- */

TEST(test_limits__metadata_document_over_1mib_is_refused)
{
	crm_db *db = limits_db();
	size_t big = (1 << 20) + 100;
	char *doc = malloc(big + 200);
	int64_t defs = definitions(db);

	size_t head;

	strcpy(doc, "{\"form\":\"huge\",\"label\":\"");
	head = strlen(doc);
	memset(doc + head, 'x', big);
	strcpy(doc + head + big, "\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}");
	CHECK_RC(db, crm_apply(db, doc), CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), "huge");
	CHECK_INT(definitions(db), defs);
	CHECK_INT(test_relation_exists(db, "huge"), 0);
	free(doc);
	crm_close(db);
}

TEST(test_limits__metadata_length_and_definitions_limits_apply_to_every_kind)
{
	crm_db *db = limits_db();
	int64_t defs = definitions(db);

	CHECK_INT(crm_limit(db, CRM_LIMIT_METADATA_LENGTH, -1), 1 << 20);
	CHECK_INT(crm_limit(db, CRM_LIMIT_DEFINITIONS, -1), 10000);
	/* size: a plugin and a workflow past a lowered limit */
	crm_limit(db, CRM_LIMIT_METADATA_LENGTH, 60);
	CHECK_RC(db, crm_apply(db, "{\"plugin\":\"p\",\"lua\":\"return {f = function() return 1234567890 end}\"}"),
		 CRM_ELIMIT);
	CHECK_RC(db, crm_apply(db, "{\"workflow\":\"w\",\"form\":\"lead\",\"initial\":\"a\",\"states\":{\"a\":{}},"
				   "\"transitions\":[]}"),
		 CRM_ELIMIT);
	CHECK_INT(definitions(db), defs);
	crm_limit(db, CRM_LIMIT_METADATA_LENGTH, 1 << 20);
	/* count: three definitions held; a fourth name is refused, a new
	 * version of a held one is not */
	crm_limit(db, CRM_LIMIT_DEFINITIONS, 3);
	CHECK_RC(db, crm_apply(db, "{\"form\":\"extra\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}"), CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), "3 definitions");
	CHECK_INT(definitions(db), defs);
	CHECK_OK(db, crm_apply(db, "{\"form\":\"lead\",\"label\":\"Leads\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
				   "{\"name\":\"region\",\"type\":\"text\"},{\"name\":\"at\",\"type\":\"datetime\"}]}"));
	CHECK_INT(definitions(db), defs + 1);
	crm_close(db);
}

/* ---- CRM_LIMIT_DETAIL_ERRORS: error details stay small ---- */

static char *unknown_keys(int n)
{
	char *s = malloc((size_t)n * 16 + 4), *p = s;

	*p++ = '{';
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s\"k%d\":1", i ? "," : "", i);
	strcpy(p, "}");
	return s;
}

TEST(test_limits__error_detail_lists_at_most_the_limit_and_says_truncated)
{
	crm_db *db = limits_db();
	char *rec = unknown_keys(200000), *rows;
	cJSON *d;
	size_t n;

	CHECK_RC(db, crm_record_insert(db, "lead", rec, NULL), CRM_ECONSTRAINT);
	CHECK(strlen(crm_errdetail(db)) < 64 * 1024);
	d = cJSON_Parse(crm_errdetail(db));
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(d, "errors")), 100);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(d, "truncated")));
	CHECK_INT((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(d, "total")), 200000);
	cJSON_Delete(d);
	/* the same in a batch row, under a lowered limit */
	CHECK_INT(crm_limit(db, CRM_LIMIT_DETAIL_ERRORS, 2), 100);
	free(rec);
	rec = unknown_keys(5);
	n = strlen(rec);
	rows = malloc(n + 4);
	snprintf(rows, n + 4, "[%s]", rec);
	CHECK_RC(db, crm_record_insert_many(db, "lead", rows, NULL, NULL), CRM_ECONSTRAINT);
	d = cJSON_Parse(crm_errdetail(db));
	{
		cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "rows"), 0);
		CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(row, "errors")), 2);
		CHECK(cJSON_IsTrue(cJSON_GetObjectItem(row, "truncated")));
		CHECK_INT((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "total")), 5);
	}
	cJSON_Delete(d);
	/* within the limit: no truncation members */
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"k\":1,\"j\":2}", NULL), CRM_ECONSTRAINT);
	CHECK(strstr(crm_errdetail(db), "truncated") == NULL);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead"), 0);
	free(rec);
	free(rows);
	crm_close(db);
}

TEST_LIST(T(test_limits__json_depth_binds_metadata_queries_report_params_and_decision_inputs),
	  T(test_limits__json_depth_past_cjsons_own_limit_is_einval_not_enomem),
	  T(test_limits__lowered_json_depth_keeps_stored_definitions_readable),
	  T(test_limits__invalid_utf8_in_metadata_and_queries_is_refused), T(test_limits__regex_depth_binds_jit_matching),
	  T(test_limits__metadata_document_over_1mib_is_refused),
	  T(test_limits__metadata_length_and_definitions_limits_apply_to_every_kind),
	  T(test_limits__error_detail_lists_at_most_the_limit_and_says_truncated))
