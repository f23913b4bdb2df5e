/* Schema evolution: re-applying a changed definition migrates the table in
 * one transaction; data survives, and a change existing records cannot take
 * is refused with nothing changed (docs/metadata.md "Schema evolution"). */
#include <cJSON.h>

#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

#define NRECORDS 20

/* ---- helpers ---- */

/* The current metadata version of `form` per crm_form_list, or -1. */
static int64_t form_version(crm_db *db, const char *form)
{
	char *list = NULL;
	cJSON *root, *e;
	int64_t v = -1;

	if (crm_form_list(db, &list) != CRM_OK)
		return -1;
	root = cJSON_Parse(list);
	cJSON_ArrayForEach(e, root)
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "form"));
		if (name && strcmp(name, form) == 0)
			v = (int64_t)cJSON_GetObjectItemCaseSensitive(e, "version")->valuedouble;
	}
	cJSON_Delete(root);
	crm_free(list);
	return v;
}

/* The stored definition of `form` (static buffer). */
static const char *form_def(crm_db *db, const char *form)
{
	static char out[8192];
	char *def = NULL;

	out[0] = 0;
	if (crm_form_get(db, form, &def) == CRM_OK)
		snprintf(out, sizeof out, "%s", def);
	crm_free(def);
	return out;
}

static int64_t column_exists(crm_db *db, const char *table, const char *column)
{
	return test_column_exists(db, table, column);
}

/* libcrm names an index "<table>__...". */
static int64_t index_exists(crm_db *db, const char *name)
{
	crm__buf names = CRM__BUF_INIT;
	char table[64];
	const char *cut = strstr(name, "__");
	int found = 0;

	snprintf(table, sizeof table, "%.*s", cut ? (int)(cut - name) : 0, name);
	if (db->be->index_names(db, table, &names) != CRM_OK)
		test_failures_++;
	for (size_t at = 0; at < names.len; at += strlen(names.p + at) + 1)
		found |= strcmp(names.p + at, name) == 0;
	crm__buf_free(&names);
	return found;
}

static int64_t index_count(crm_db *db, const char *table) { return test_index_count(db, table); }

/* Records of `table` whose `column` is stored with storage class `class`. */
static int64_t count_class(crm_db *db, const char *table, const char *column, const char *class)
{
	crm__buf sql = CRM__BUF_INIT;
	int64_t n;

	crm__buf_printf(&sql, "SELECT count(*) FROM %s WHERE ", table);
	db->be->dialect->storage_class(&sql, column);
	crm__buf_printf(&sql, " = '%s'", class);
	n = test_sql_int(db, crm__buf_cstr(&sql));
	crm__buf_free(&sql);
	return n;
}

/* SELECT `head` <decimal `column` as its scaled integer> `tail`: the
 * exact stored value, whatever type the backend stores decimals in. */
static int64_t sql_scaled(crm_db *db, const char *head, const char *column, int scale, const char *tail)
{
	crm__buf sql = CRM__BUF_INIT;
	int64_t n;

	crm__buf_puts(&sql, head);
	db->be->dialect->as_storage(&sql, CRM_TYPE_DECIMAL, scale, column);
	crm__buf_puts(&sql, tail);
	n = test_sql_int(db, crm__buf_cstr(&sql));
	crm__buf_free(&sql);
	return n;
}

/* Every record of `form` as JSON, in id order, into one string (for
 * comparing a whole table before and after a refused migration). */
static char *snapshot(crm_db *db, const char *form)
{
	crm__buf all = CRM__BUF_INIT;
	char sql[128];
	crm__stmt *st;

	snprintf(sql, sizeof sql, "SELECT id FROM \"%s\" ORDER BY id", form);
	if (db->be->prepare(db, sql, strlen(sql), &st) != CRM_OK)
		return NULL;
	while (crm__step(st) == CRM_ROW) {
		char *json = NULL;
		if (crm_record_get(db, form, crm__column_int64(st, 0), &json) == CRM_OK)
			crm__buf_puts(&all, json);
		else
			crm__buf_puts(&all, "(unreadable)");
		crm__buf_putc(&all, '\n');
		crm_free(json);
	}
	crm__finalize(st);
	crm__buf_putc(&all, 0);
	return crm__buf_detach(&all);
}

/* Does the detail's "records" list record `id` (with `field` when not NULL)? */
static int lists_record(const cJSON *d, int64_t id, const char *field)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(d, "records"))
	{
		const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "id");
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "field"));
		if (cJSON_IsNumber(rid) && (int64_t)rid->valuedouble == id && (!field || (f && strcmp(f, field) == 0)))
			return 1;
	}
	return 0;
}

static int records_listed(const cJSON *d)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "records"));
}

static int64_t failed_count(const cJSON *d)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, "failed");

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

/* The error detail of the last refused migration (check_refused keeps it:
 * the calls that check nothing changed replace the handle's error). */
static char refused_[65536];

static cJSON *refused_detail(void)
{
	cJSON *d = cJSON_Parse(refused_);

	CHECK(d != NULL);
	return d;
}

/* A refused migration: `apply` fails with `code`, the version, the stored
 * definition and every record stay exactly as they were. */
static void check_refused(crm_db *db, const char *form, const char *def, int code)
{
	char *before = snapshot(db, form);
	char *def_before = NULL;
	int64_t version = form_version(db, form);
	char *after;

	CHECK_OK(db, crm_form_get(db, form, &def_before));
	CHECK_RC(db, crm_apply(db, def), code);
	snprintf(refused_, sizeof refused_, "%s", crm_errdetail(db));
	CHECK_INT(form_version(db, form), version);
	CHECK_STR(form_def(db, form), def_before ? def_before : "");
	after = snapshot(db, form);
	CHECK_STR(after, before);
	CHECK(!db->be->in_transaction(db));
	crm_free(before);
	crm_free(after);
	crm_free(def_before);
}

/* Insert records from a printf format with up to three %d, each the record
 * number 0..n-1. */
static void insert_n(crm_db *db, const char *form, const char *fmt, int n)
{
	char json[512];

	for (int i = 0; i < n; i++) {
		snprintf(json, sizeof json, fmt, i, i, i);
		CHECK_OK(db, crm_record_insert(db, form, json, NULL));
	}
}

static const char base_v1[] = "{\"form\":\"lead\",\"fields\":["
			      "{\"name\":\"name\",\"type\":\"text\"},"
			      "{\"name\":\"score\",\"type\":\"integer\"}]}";

/* A lead form with NRECORDS records: name "lead i", score i. */
static crm_db *base_db(void)
{
	crm_db *db = test_db();

	test_apply(db, base_v1);
	insert_n(db, "lead", "{\"name\":\"lead %d\",\"score\":%d}", NRECORDS);
	return db;
}

/* Record i+1 of the base form still has its data (plus `extra` text). */
static void check_base_records(crm_db *db, const char *extra)
{
	char want[256];

	for (int i = 0; i < NRECORDS; i++) {
		const char *got = test_get(db, "lead", i + 1);
		snprintf(want, sizeof want, "{\"id\":%d,\"name\":\"lead %d\",\"score\":%d%s", i + 1, i, i, extra);
		CHECK_HAS(got, want);
	}
}

/* ---- adding fields ---- */

TEST(test_migrate__unchanged_definition_does_nothing)
{
	crm_db *db = base_db();

	CHECK_INT(form_version(db, "lead"), 1);
	test_apply(db, base_v1);
	CHECK_INT(form_version(db, "lead"), 1);
	check_base_records(db, ",\"created_at\"");
	crm_close(db);
}

TEST(test_migrate__add_field_gives_existing_records_null)
{
	crm_db *db = base_db();

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\"},{\"name\":\"city\",\"type\":\"text\"}]}");
	CHECK_INT(form_version(db, "lead"), 2);
	CHECK_INT(column_exists(db, "lead", "city"), 1);
	check_base_records(db, ",\"city\":null,\"created_at\"");
	/* version of the records did not move: a migration is not an update */
	CHECK_HAS(test_get(db, "lead", 1), "\"version\":1");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"new\",\"city\":\"Paris\"}", NULL));
	CHECK_HAS(test_get(db, "lead", NRECORDS + 1), "\"city\":\"Paris\"");
	crm_close(db);
}

TEST(test_migrate__add_field_with_default_fills_existing_records)
{
	crm_db *db = base_db();

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\"},"
		       "{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"won\"],\"default\":\"new\"},"
		       "{\"name\":\"budget\",\"type\":\"decimal\",\"scale\":2,\"default\":\"9.5\"}]}");
	check_base_records(db, ",\"stage\":\"new\",\"budget\":9.50,\"created_at\"");
	CHECK_INT(sql_scaled(db, "SELECT count(*) FROM lead WHERE ", "budget", 2, " = 950"), NRECORDS);
	crm_close(db);
}

TEST(test_migrate__add_required_field_with_default_to_non_empty_form_works)
{
	crm_db *db = base_db();

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\"},"
		       "{\"name\":\"stage\",\"type\":\"text\",\"required\":true,\"default\":\"open\"}]}");
	check_base_records(db, ",\"stage\":\"open\",\"created_at\"");
	crm_close(db);
}

TEST(test_migrate__add_required_field_without_default_to_non_empty_form_is_refused)
{
	crm_db *db = base_db();
	const char *v2 = "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
			 "{\"name\":\"score\",\"type\":\"integer\"},"
			 "{\"name\":\"stage\",\"type\":\"text\",\"required\":true}]}";
	cJSON *d;

	check_refused(db, "lead", v2, CRM_ECONSTRAINT);
	d = refused_detail();
	CHECK(lists_record(d, 1, NULL));
	CHECK_INT(failed_count(d), NRECORDS);
	CHECK_INT(records_listed(d), NRECORDS); /* the first 20 */
	cJSON_Delete(d);
	CHECK_INT(column_exists(db, "lead", "stage"), 0);
	check_base_records(db, ",\"created_at\"");
	/* the old definition is still the one inserts follow */
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"after\",\"score\":1}", NULL));
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"after\",\"stage\":\"x\"}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "unknown_field");
	crm_close(db);
}

TEST(test_migrate__add_required_field_to_empty_form_works)
{
	crm_db *db = test_db();

	test_apply(db, base_v1);
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\"},"
		       "{\"name\":\"stage\",\"type\":\"text\",\"required\":true}]}");
	CHECK_INT(form_version(db, "lead"), 2);
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"x\"}", NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"x\",\"stage\":\"s\"}", NULL));
	crm_close(db);
}

TEST(test_migrate__failed_record_list_is_capped_at_twenty)
{
	crm_db *db = test_db();
	cJSON *d;

	test_apply(db, base_v1);
	insert_n(db, "lead", "{\"name\":\"lead %d\"}", 30);
	check_refused(db, "lead",
		      "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		      "{\"name\":\"score\",\"type\":\"integer\",\"required\":true}]}",
		      CRM_ECONSTRAINT);
	d = refused_detail();
	CHECK_INT(failed_count(d), 30);
	CHECK_INT(records_listed(d), 20);
	CHECK(lists_record(d, 1, NULL));
	CHECK(lists_record(d, 20, NULL));
	CHECK(!lists_record(d, 21, NULL));
	cJSON_Delete(d);
	crm_close(db);
}

/* ---- renames and removals ---- */

TEST(test_migrate__rename_via_stable_id_keeps_data_and_old_name_is_unknown)
{
	crm_db *db = base_db();

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"id\":\"name\",\"name\":\"full_name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\"}]}");
	CHECK_INT(form_version(db, "lead"), 2);
	CHECK_INT(column_exists(db, "lead", "name"), 0);
	CHECK_INT(column_exists(db, "lead", "full_name"), 1);
	for (int i = 0; i < NRECORDS; i++) {
		char want[128];
		snprintf(want, sizeof want, "{\"id\":%d,\"full_name\":\"lead %d\",\"score\":%d,", i + 1, i, i);
		CHECK_HAS(test_get(db, "lead", i + 1), want);
	}
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"x\"}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"name\",\"code\":\"unknown_field\"");
	CHECK_RC(db, crm_record_update(db, "lead", 1, "{\"name\":\"x\"}", 0), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_record_update(db, "lead", 1, "{\"full_name\":\"renamed\"}", 0));
	CHECK_HAS(test_get(db, "lead", 1), "\"full_name\":\"renamed\"");
	/* the stored definition keeps the id */
	CHECK_HAS(form_def(db, "lead"), "\"name\":\"full_name\"");
	CHECK_HAS(form_def(db, "lead"), "\"id\":\"name\"");
	/* re-applying the renamed definition without the id keeps the field */
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"full_name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\"}]}");
	CHECK_HAS(test_get(db, "lead", 2), "\"full_name\":\"lead 1\"");
	crm_close(db);
}

TEST(test_migrate__swap_two_field_names_via_ids)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"p\",\"fields\":[{\"name\":\"first\",\"type\":\"text\"},"
		       "{\"name\":\"last\",\"type\":\"text\"},{\"name\":\"age\",\"type\":\"integer\"}]}");
	for (int i = 0; i < NRECORDS; i++) {
		char json[128];
		snprintf(json, sizeof json, "{\"first\":\"F%d\",\"last\":\"L%d\",\"age\":%d}", i, i, 30 + i);
		CHECK_OK(db, crm_record_insert(db, "p", json, NULL));
	}
	test_apply(db, "{\"form\":\"p\",\"fields\":[{\"id\":\"first\",\"name\":\"last\",\"type\":\"text\"},"
		       "{\"id\":\"last\",\"name\":\"first\",\"type\":\"text\"},{\"name\":\"age\",\"type\":\"integer\"}]}");
	CHECK_INT(form_version(db, "p"), 2);
	for (int i = 0; i < NRECORDS; i++) {
		char want[128];
		snprintf(want, sizeof want, "{\"id\":%d,\"last\":\"F%d\",\"first\":\"L%d\",\"age\":%d,", i + 1, i, i, 30 + i);
		CHECK_HAS(test_get(db, "p", i + 1), want);
	}
	CHECK_INT(column_exists(db, "p", "first"), 1);
	CHECK_INT(column_exists(db, "p", "last"), 1);
	CHECK_INT(column_exists(db, "p", "crm_renaming_0") + column_exists(db, "p", "crm_renaming_1"), 0);
	crm_close(db);
}

TEST(test_migrate__swap_names_of_unique_and_plain_fields_moves_the_constraints)
{
	crm_db *db = test_db();
	char json[128];

	/* code is unique, alias is not; after the swap the field now called
	 * "code" (formerly alias) is declared unique, the other is not */
	test_apply(db, "{\"form\":\"p\",\"fields\":[{\"name\":\"code\",\"type\":\"text\",\"unique\":true},"
		       "{\"name\":\"alias\",\"type\":\"text\"}]}");
	for (int i = 0; i < NRECORDS; i++) {
		snprintf(json, sizeof json, "{\"code\":\"C%d\",\"alias\":\"A%d\"}", i, i);
		CHECK_OK(db, crm_record_insert(db, "p", json, NULL));
	}
	test_apply(db, "{\"form\":\"p\",\"fields\":[{\"id\":\"code\",\"name\":\"alias\",\"type\":\"text\"},"
		       "{\"id\":\"alias\",\"name\":\"code\",\"type\":\"text\",\"unique\":true}]}");
	CHECK_HAS(test_get(db, "p", 1), "{\"id\":1,\"alias\":\"C0\",\"code\":\"A0\",");
	/* the new "code" (values A0..) is unique */
	CHECK_RC(db, crm_record_insert(db, "p", "{\"code\":\"A0\"}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"code\",\"code\":\"unique\"");
	/* the new "alias" (values C0..) is not */
	CHECK_OK(db, crm_record_insert(db, "p", "{\"alias\":\"C0\",\"code\":\"fresh\"}", NULL));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM p WHERE alias='C0'"), 2);
	crm_close(db);
}

TEST(test_migrate__remove_field_drops_its_data_and_keeps_the_rest)
{
	crm_db *db = base_db();

	test_apply_lossy(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}");
	CHECK_INT(form_version(db, "lead"), 2);
	CHECK_INT(column_exists(db, "lead", "score"), 0);
	for (int i = 0; i < NRECORDS; i++) {
		char want[128];
		snprintf(want, sizeof want, "{\"id\":%d,\"name\":\"lead %d\",\"created_at\":", i + 1, i);
		CHECK_HAS(test_get(db, "lead", i + 1), want);
	}
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"x\",\"score\":1}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"score\",\"code\":\"unknown_field\"");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"x\"}", NULL));
	crm_close(db);
}

TEST(test_migrate__re_adding_a_removed_field_starts_empty)
{
	crm_db *db = base_db();

	test_apply_lossy(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}");
	test_apply(db, base_v1);
	for (int i = 0; i < NRECORDS; i++) {
		char want[128];
		snprintf(want, sizeof want, "{\"id\":%d,\"name\":\"lead %d\",\"score\":null,", i + 1, i);
		CHECK_HAS(test_get(db, "lead", i + 1), want);
	}
	crm_close(db);
}

TEST(test_migrate__remove_indexed_field_drops_its_index)
{
	crm_db *db = test_db();

	test_apply(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"unique\":true},"
		       "{\"name\":\"b\",\"type\":\"text\",\"index\":true},{\"name\":\"c\",\"type\":\"text\"}],"
		       "\"indexes\":[[\"b\",\"c\"]]}");
	insert_n(db, "t", "{\"a\":\"a%d\",\"b\":\"b%d\",\"c\":\"c\"}", NRECORDS);
	CHECK_INT(index_exists(db, "t__u__a"), 1);
	CHECK_INT(index_exists(db, "t__i__b"), 1);
	CHECK_INT(index_exists(db, "t__i__b__c"), 1);
	test_apply_lossy(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"unique\":true},"
		       "{\"name\":\"c\",\"type\":\"text\"}]}");
	CHECK_INT(column_exists(db, "t", "b"), 0);
	CHECK_INT(index_exists(db, "t__i__b"), 0);
	CHECK_INT(index_exists(db, "t__i__b__c"), 0);
	CHECK_INT(index_exists(db, "t__u__a"), 1);
	CHECK_HAS(test_get(db, "t", 3), "{\"id\":3,\"a\":\"a2\",\"c\":\"c\",");
	crm_close(db);
}

/* ---- type changes ---- */

static const char typed_v1[] = "{\"form\":\"t\",\"fields\":[{\"name\":\"label\",\"type\":\"text\"},"
			       "{\"name\":\"v\",\"type\":\"%s\"%s}]}";

/* A form t(label text, v TYPE EXTRA) with NRECORDS records whose v comes
 * from values[i % nvalues] (JSON text; "null" allowed). */
static crm_db *typed_db(const char *type, const char *extra, const char *const *values, int nvalues)
{
	crm_db *db = test_db();
	char def[512], json[256];

	snprintf(def, sizeof def, typed_v1, type, extra);
	test_apply(db, def);
	for (int i = 0; i < NRECORDS; i++) {
		snprintf(json, sizeof json, "{\"label\":\"r%d\",\"v\":%s}", i, values[i % nvalues]);
		CHECK_OK(db, crm_record_insert(db, "t", json, NULL));
	}
	return db;
}

static void retype(crm_db *db, const char *type, const char *extra, int code)
{
	char def[512];

	snprintf(def, sizeof def, typed_v1, type, extra);
	if (code == CRM_OK)
		test_apply(db, def);
	else
		check_refused(db, "t", def, code);
}

/* Every record r has label "r<i>" and v == want[i % n] (JSON text). */
static void check_typed(crm_db *db, const char *const *want, int n)
{
	char exp[256];

	for (int i = 0; i < NRECORDS; i++) {
		snprintf(exp, sizeof exp, "{\"id\":%d,\"label\":\"r%d\",\"v\":%s,", i + 1, i, want[i % n]);
		CHECK_HAS(test_get(db, "t", i + 1), exp);
	}
}

TEST(test_migrate__text_to_integer_converts_every_value)
{
	static const char *const before[] = { "\"12\"", "\"-3\"", "null", "\"0\"", "\"1e3\"" };
	static const char *const after[] = { "12", "-3", "null", "0", "1000" };
	crm_db *db = typed_db("text", "", before, 5);

	retype(db, "integer", "", CRM_OK);
	CHECK_INT(form_version(db, "t"), 2);
	CHECK_STR(test_column_type(db, "t", "v"), db->be->dialect->type_integer);
	check_typed(db, after, 5);
	CHECK_INT(count_class(db, "t", "v", "integer"), 16);
	CHECK_INT(column_exists(db, "t", "crm_converting"), 0);
	CHECK_OK(db, crm_record_insert(db, "t", "{\"v\":5}", NULL));
	CHECK_RC(db, crm_record_insert(db, "t", "{\"v\":\"5\"}", NULL), CRM_ECONSTRAINT);
	crm_close(db);
}

TEST(test_migrate__text_to_integer_with_one_bad_value_is_refused_listing_it)
{
	static const char *const before[] = { "\"12\"", "\"7\"", "\"8\"", "\"9\"" };
	crm_db *db = typed_db("text", "", before, 4);
	cJSON *d;

	CHECK_OK(db, crm_record_update(db, "t", 7, "{\"v\":\"abc\"}", 0));
	retype(db, "integer", "", CRM_ECONSTRAINT);
	d = refused_detail();
	CHECK(lists_record(d, 7, "v"));
	CHECK_INT(failed_count(d), 1);
	CHECK_INT(records_listed(d), 1);
	cJSON_Delete(d);
	CHECK_HAS(refused_, "record 7");
	CHECK_STR(test_column_type(db, "t", "v"), db->be->dialect->type_text);
	CHECK_HAS(test_get(db, "t", 7), "\"v\":\"abc\"");
	CHECK_HAS(test_get(db, "t", 1), "\"v\":\"12\"");
	CHECK_HAS(form_def(db, "t"), "\"type\":\"text\"");
	CHECK_INT(column_exists(db, "t", "crm_converting"), 0);
	/* the old definition still takes inserts */
	CHECK_OK(db, crm_record_insert(db, "t", "{\"v\":\"still text\"}", NULL));
	crm_close(db);
}

TEST(test_migrate__text_with_fraction_to_integer_is_refused)
{
	static const char *const before[] = { "\"1\"", "\"2.5\"" };
	crm_db *db = typed_db("text", "", before, 2);
	cJSON *d;

	retype(db, "integer", "", CRM_ECONSTRAINT);
	d = refused_detail();
	CHECK_INT(failed_count(d), NRECORDS / 2);
	CHECK(lists_record(d, 2, "v"));
	CHECK(!lists_record(d, 1, "v"));
	cJSON_Delete(d);
	crm_close(db);
}

TEST(test_migrate__integer_to_text)
{
	static const char *const before[] = { "12", "-4", "null", "0" };
	static const char *const after[] = { "\"12\"", "\"-4\"", "null", "\"0\"" };
	crm_db *db = typed_db("integer", "", before, 4);

	retype(db, "text", "", CRM_OK);
	CHECK_STR(test_column_type(db, "t", "v"), db->be->dialect->type_text);
	check_typed(db, after, 4);
	CHECK_INT(count_class(db, "t", "v", "text"), 15);
	crm_close(db);
}

TEST(test_migrate__integer_to_decimal)
{
	static const char *const before[] = { "12", "-4", "null", "0" };
	static const char *const after[] = { "12.00", "-4.00", "null", "0.00" };
	crm_db *db = typed_db("integer", "", before, 4);

	retype(db, "decimal", ",\"scale\":2", CRM_OK);
	check_typed(db, after, 4);
	CHECK_INT(sql_scaled(db, "SELECT ", "v", 2, " FROM t WHERE id=1"), 1200);
	crm_close(db);
}

TEST(test_migrate__decimal_to_text_and_number)
{
	static const char *const before[] = { "12.5", "\"0.01\"" };
	static const char *const as_text[] = { "\"12.50\"", "\"0.01\"" };
	crm_db *db = typed_db("decimal", "", before, 2);

	retype(db, "text", "", CRM_OK);
	check_typed(db, as_text, 2);
	crm_close(db);

	db = typed_db("decimal", "", before, 2);
	retype(db, "number", "", CRM_OK);
	CHECK_HAS(test_get(db, "t", 1), "\"v\":12.5");
	CHECK_HAS(test_get(db, "t", 2), "\"v\":0.01");
	crm_close(db);
}

TEST(test_migrate__decimal_scale_up_is_exact)
{
	static const char *const before[] = { "12.34", "-0.05", "null", "999999.99" };
	static const char *const after[] = { "12.340", "-0.050", "null", "999999.990" };
	crm_db *db = typed_db("decimal", ",\"scale\":2", before, 4);

	retype(db, "decimal", ",\"scale\":3", CRM_OK);
	check_typed(db, after, 4);
	CHECK_INT(sql_scaled(db, "SELECT ", "v", 3, " FROM t WHERE id=1"), 12340);
	CHECK_INT(sql_scaled(db, "SELECT ", "v", 3, " FROM t WHERE id=2"), -50);
	crm_close(db);
}

TEST(test_migrate__decimal_scale_down_that_needs_rounding_is_refused)
{
	static const char *const before[] = { "1.230", "4.5", "7" };
	crm_db *db = typed_db("decimal", ",\"scale\":3", before, 3);
	cJSON *d;

	CHECK_OK(db, crm_record_update(db, "t", 11, "{\"v\":\"12.345\"}", 0));
	retype(db, "decimal", ",\"scale\":2", CRM_ECONSTRAINT);
	d = refused_detail();
	CHECK(lists_record(d, 11, "v"));
	CHECK_INT(failed_count(d), 1);
	cJSON_Delete(d);
	CHECK_HAS(test_get(db, "t", 11), "\"v\":12.345");
	CHECK_HAS(test_get(db, "t", 1), "\"v\":1.230");
	CHECK_INT(sql_scaled(db, "SELECT ", "v", 3, " FROM t WHERE id=11"), 12345);
	crm_close(db);
}

TEST(test_migrate__decimal_scale_down_without_lost_digits_works)
{
	static const char *const before[] = { "1.230", "4.5", "7" };
	static const char *const after[] = { "1.23", "4.50", "7.00" };
	crm_db *db = typed_db("decimal", ",\"scale\":3", before, 3);

	retype(db, "decimal", ",\"scale\":2", CRM_OK);
	check_typed(db, after, 3);
	crm_close(db);
}

TEST(test_migrate__number_with_fraction_to_integer_is_refused)
{
	static const char *const before[] = { "2", "2.5" };
	crm_db *db = typed_db("number", "", before, 2);

	retype(db, "integer", "", CRM_ECONSTRAINT);
	CHECK_HAS(test_get(db, "t", 2), "\"v\":2.5");
	crm_close(db);
}

TEST(test_migrate__enum_options_added_keeps_values)
{
	static const char *const before[] = { "\"a\"", "\"b\"", "null" };
	crm_db *db = typed_db("enum", ",\"options\":[\"a\",\"b\"]", before, 3);

	retype(db, "enum", ",\"options\":[\"a\",\"b\",\"c\"]", CRM_OK);
	check_typed(db, before, 3);
	CHECK_OK(db, crm_record_insert(db, "t", "{\"v\":\"c\"}", NULL));
	crm_close(db);
}

TEST(test_migrate__enum_option_removed_while_in_use_is_refused)
{
	static const char *const before[] = { "\"a\"", "\"b\"", "\"c\"", "null" };
	crm_db *db = typed_db("enum", ",\"options\":[\"a\",\"b\",\"c\"]", before, 4);
	cJSON *d;

	retype(db, "enum", ",\"options\":[\"a\",\"c\"]", CRM_ECONSTRAINT);
	d = refused_detail();
	CHECK_INT(failed_count(d), NRECORDS / 4);
	CHECK(lists_record(d, 2, "v"));
	CHECK(lists_record(d, 6, "v"));
	CHECK(!lists_record(d, 1, "v"));
	cJSON_Delete(d);
	check_typed(db, before, 4);
	CHECK_OK(db, crm_record_insert(db, "t", "{\"v\":\"b\"}", NULL));
	crm_close(db);
}

TEST(test_migrate__enum_option_removed_when_unused_works)
{
	static const char *const before[] = { "\"a\"", "\"c\"", "null" };
	crm_db *db = typed_db("enum", ",\"options\":[\"a\",\"b\",\"c\"]", before, 3);

	retype(db, "enum", ",\"options\":[\"a\",\"c\"]", CRM_OK);
	check_typed(db, before, 3);
	CHECK_RC(db, crm_record_insert(db, "t", "{\"v\":\"b\"}", NULL), CRM_ECONSTRAINT);
	crm_close(db);
}

TEST(test_migrate__enum_to_multi_enum)
{
	static const char *const before[] = { "\"a\"", "\"b\"", "null" };
	static const char *const after[] = { "[\"a\"]", "[\"b\"]", "null" };
	crm_db *db = typed_db("enum", ",\"options\":[\"a\",\"b\"]", before, 3);

	retype(db, "multi_enum", ",\"options\":[\"a\",\"b\"]", CRM_OK);
	check_typed(db, after, 3);
	CHECK_OK(db, crm_record_update(db, "t", 1, "{\"v\":[\"b\",\"a\"]}", 0));
	CHECK_HAS(test_get(db, "t", 1), "\"v\":[\"a\",\"b\"]");
	crm_close(db);
}

TEST(test_migrate__multi_enum_options_reordered_recanonicalises_values)
{
	static const char *const before[] = { "[\"a\",\"b\"]", "[\"b\"]", "[]" };
	static const char *const after[] = { "[\"b\",\"a\"]", "[\"b\"]", "null" };
	crm_db *db = typed_db("multi_enum", ",\"options\":[\"a\",\"b\"]", before, 3);

	retype(db, "multi_enum", ",\"options\":[\"b\",\"a\"]", CRM_OK);
	check_typed(db, after, 3);
	crm_close(db);
}

TEST(test_migrate__text_to_date_refuses_non_dates)
{
	static const char *const good[] = { "\"2026-01-31\"", "null" };
	crm_db *db = typed_db("text", "", good, 2);

	retype(db, "date", "", CRM_OK);
	check_typed(db, good, 2);
	crm_close(db);

	db = typed_db("text", "", good, 2);
	CHECK_OK(db, crm_record_update(db, "t", 3, "{\"v\":\"2026-02-30\"}", 0));
	retype(db, "date", "", CRM_ECONSTRAINT);
	CHECK_HAS(test_get(db, "t", 3), "\"v\":\"2026-02-30\"");
	crm_close(db);
}

TEST(test_migrate__type_change_of_unique_field_keeps_the_constraint)
{
	crm_db *db = test_db();
	char json[128];

	test_apply(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"label\",\"type\":\"text\"},"
		       "{\"name\":\"code\",\"type\":\"text\",\"unique\":true}]}");
	for (int i = 0; i < NRECORDS; i++) {
		snprintf(json, sizeof json, "{\"label\":\"r%d\",\"code\":\"%d\"}", i, 100 + i);
		CHECK_OK(db, crm_record_insert(db, "t", json, NULL));
	}
	CHECK_RC(db, crm_apply(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"label\",\"type\":\"text\"},"
				   "{\"name\":\"code\",\"type\":\"integer\",\"unique\":true}]}"),
		 CRM_OK);
	CHECK_INT(form_version(db, "t"), 2);
	for (int i = 0; i < NRECORDS; i++) {
		snprintf(json, sizeof json, "{\"id\":%d,\"label\":\"r%d\",\"code\":%d,", i + 1, i, 100 + i);
		CHECK_HAS(test_get(db, "t", i + 1), json);
	}
	CHECK_INT(index_exists(db, "t__u__code"), 1);
	CHECK_RC(db, crm_record_insert(db, "t", "{\"code\":100}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"unique\"");
	crm_close(db);
}

TEST(test_migrate__option_added_to_indexed_enum_keeps_the_index)
{
	static const char *const before[] = { "\"a\"", "\"b\"" };
	crm_db *db = typed_db("enum", ",\"options\":[\"a\",\"b\"],\"index\":true", before, 2);

	CHECK_INT(index_exists(db, "t__i__v"), 1);
	retype(db, "enum", ",\"options\":[\"a\",\"b\",\"c\"],\"index\":true", CRM_OK);
	CHECK_INT(form_version(db, "t"), 2);
	check_typed(db, before, 2);
	CHECK_INT(index_exists(db, "t__i__v"), 1);
	crm_close(db);
}

TEST(test_migrate__scale_change_of_field_in_composite_unique_keeps_it)
{
	crm_db *db = test_db();
	char json[128];

	test_apply(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"label\",\"type\":\"text\"},"
		       "{\"name\":\"price\",\"type\":\"decimal\",\"scale\":2}],\"unique\":[[\"label\",\"price\"]]}");
	for (int i = 0; i < NRECORDS; i++) {
		snprintf(json, sizeof json, "{\"label\":\"r%d\",\"price\":\"%d.25\"}", i, i);
		CHECK_OK(db, crm_record_insert(db, "t", json, NULL));
	}
	test_apply(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"label\",\"type\":\"text\"},"
		       "{\"name\":\"price\",\"type\":\"decimal\",\"scale\":4}],\"unique\":[[\"label\",\"price\"]]}");
	CHECK_INT(form_version(db, "t"), 2);
	for (int i = 0; i < NRECORDS; i++) {
		snprintf(json, sizeof json, "{\"id\":%d,\"label\":\"r%d\",\"price\":%d.2500,", i + 1, i, i);
		CHECK_HAS(test_get(db, "t", i + 1), json);
	}
	CHECK_INT(index_exists(db, "t__u__label__price"), 1);
	CHECK_RC(db, crm_record_insert(db, "t", "{\"label\":\"r3\",\"price\":3.25}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"label,price\",\"code\":\"unique\"");
	CHECK_OK(db, crm_record_insert(db, "t", "{\"label\":\"r3\",\"price\":3.2501}", NULL));
	crm_close(db);
}

TEST(test_migrate__new_field_reusing_a_removed_unique_fields_name_starts_empty)
{
	crm_db *db = test_db();
	char json[128];

	test_apply(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"label\",\"type\":\"text\"},"
		       "{\"name\":\"code\",\"type\":\"text\",\"unique\":true}]}");
	for (int i = 0; i < NRECORDS; i++) {
		snprintf(json, sizeof json, "{\"label\":\"r%d\",\"code\":\"c%d\"}", i, i);
		CHECK_OK(db, crm_record_insert(db, "t", json, NULL));
	}
	/* a different id: the old field goes, a new one named code comes */
	test_apply_lossy(db, "{\"form\":\"t\",\"fields\":[{\"name\":\"label\",\"type\":\"text\"},"
		       "{\"id\":\"code2\",\"name\":\"code\",\"type\":\"integer\",\"unique\":true}]}");
	CHECK_INT(form_version(db, "t"), 2);
	for (int i = 0; i < NRECORDS; i++) {
		snprintf(json, sizeof json, "{\"id\":%d,\"label\":\"r%d\",\"code\":null,", i + 1, i);
		CHECK_HAS(test_get(db, "t", i + 1), json);
	}
	CHECK_STR(test_column_type(db, "t", "code"), db->be->dialect->type_integer);
	CHECK_INT(index_exists(db, "t__u__code"), 1);
	CHECK_OK(db, crm_record_insert(db, "t", "{\"code\":1}", NULL));
	CHECK_RC(db, crm_record_insert(db, "t", "{\"code\":1}", NULL), CRM_ECONSTRAINT);
	crm_close(db);
}

TEST(test_migrate__text_to_boolean_converts_true_and_false)
{
	static const char *const before[] = { "\"true\"", "\"false\"", "null" };
	static const char *const after[] = { "true", "false", "null" };
	crm_db *db = typed_db("text", "", before, 3);

	retype(db, "boolean", "", CRM_OK);
	check_typed(db, after, 3);
	crm_close(db);

	db = typed_db("text", "", before, 3);
	CHECK_OK(db, crm_record_update(db, "t", 2, "{\"v\":\"yes\"}", 0));
	retype(db, "boolean", "", CRM_ECONSTRAINT);
	CHECK_HAS(test_get(db, "t", 2), "\"v\":\"yes\"");
	crm_close(db);
}

TEST(test_migrate__rename_and_retype_an_indexed_field_at_once)
{
	crm_db *db = base_db();

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\",\"index\":true}]}");
	CHECK_INT(index_exists(db, "lead__i__score"), 1);
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"id\":\"score\",\"name\":\"rating\",\"type\":\"text\",\"unique\":true}]}");
	CHECK_INT(form_version(db, "lead"), 3);
	for (int i = 0; i < NRECORDS; i++) {
		char want[128];
		snprintf(want, sizeof want, "{\"id\":%d,\"name\":\"lead %d\",\"rating\":\"%d\",", i + 1, i, i);
		CHECK_HAS(test_get(db, "lead", i + 1), want);
	}
	CHECK_INT(index_exists(db, "lead__i__score"), 0);
	CHECK_INT(index_exists(db, "lead__u__rating"), 1);
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"rating\":\"7\"}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"rating\",\"code\":\"unique\"");
	crm_close(db);
}

TEST(test_migrate__reordering_fields_keeps_data_and_follows_the_new_order)
{
	crm_db *db = base_db();

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"score\",\"type\":\"integer\"},"
		       "{\"name\":\"name\",\"type\":\"text\"}]}");
	CHECK_INT(form_version(db, "lead"), 2);
	for (int i = 0; i < NRECORDS; i++) {
		char want[128];
		snprintf(want, sizeof want, "{\"id\":%d,\"score\":%d,\"name\":\"lead %d\",", i + 1, i, i);
		CHECK_HAS(test_get(db, "lead", i + 1), want);
	}
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"n\",\"score\":5}", NULL));
	CHECK_HAS(test_get(db, "lead", NRECORDS + 1), "\"score\":5,\"name\":\"n\"");
	crm_close(db);
}

/* ---- tightening rules ---- */

TEST(test_migrate__adding_required_when_some_records_are_null_is_refused)
{
	crm_db *db = base_db();
	cJSON *d;

	CHECK_OK(db, crm_record_update(db, "lead", 4, "{\"score\":null}", 0));
	CHECK_OK(db, crm_record_update(db, "lead", 9, "{\"score\":null}", 0));
	check_refused(db, "lead",
		      "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		      "{\"name\":\"score\",\"type\":\"integer\",\"required\":true}]}",
		      CRM_ECONSTRAINT);
	d = refused_detail();
	CHECK_INT(failed_count(d), 2);
	CHECK(lists_record(d, 4, NULL));
	CHECK(lists_record(d, 9, NULL));
	CHECK(!lists_record(d, 1, NULL));
	cJSON_Delete(d);
	CHECK_HAS(refused_, "score is required");
	/* the old definition still allows a null score */
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"x\"}", NULL));
	crm_close(db);
}

TEST(test_migrate__adding_required_when_all_records_have_values_works)
{
	crm_db *db = base_db();

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
		       "{\"name\":\"score\",\"type\":\"integer\"}]}");
	CHECK_INT(form_version(db, "lead"), 2);
	check_base_records(db, ",\"created_at\"");
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"score\":1}", NULL), CRM_ECONSTRAINT);
	crm_close(db);
}

TEST(test_migrate__adding_a_pattern_some_values_break_is_refused)
{
	crm_db *db = base_db();
	cJSON *d;

	CHECK_OK(db, crm_record_update(db, "lead", 5, "{\"name\":\"LEAD 4\"}", 0));
	check_refused(db, "lead",
		      "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"pattern\":\"^lead \\\\d+$\"},"
		      "{\"name\":\"score\",\"type\":\"integer\"}]}",
		      CRM_ECONSTRAINT);
	d = refused_detail();
	CHECK_INT(failed_count(d), 1);
	CHECK(lists_record(d, 5, NULL));
	cJSON_Delete(d);
	CHECK_HAS(test_get(db, "lead", 5), "\"name\":\"LEAD 4\"");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"anything\"}", NULL));
	crm_close(db);
}

TEST(test_migrate__adding_a_pattern_all_values_match_works)
{
	crm_db *db = base_db();

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"pattern\":\"^lead \\\\d+$\"},"
		       "{\"name\":\"score\",\"type\":\"integer\"}]}");
	CHECK_INT(form_version(db, "lead"), 2);
	check_base_records(db, ",\"created_at\"");
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"anything\"}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"pattern\"");
	crm_close(db);
}

TEST(test_migrate__lowering_max_below_existing_values_is_refused)
{
	crm_db *db = base_db(); /* scores 0..19 */
	cJSON *d;

	check_refused(db, "lead",
		      "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		      "{\"name\":\"score\",\"type\":\"integer\",\"max\":15}]}",
		      CRM_ECONSTRAINT);
	d = refused_detail();
	CHECK_INT(failed_count(d), 4); /* 16, 17, 18, 19 */
	CHECK(lists_record(d, 17, NULL));
	CHECK(lists_record(d, 20, NULL));
	CHECK(!lists_record(d, 16, NULL));
	cJSON_Delete(d);
	CHECK_HAS(refused_, "score must be at most 15");
	check_base_records(db, ",\"created_at\"");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"score\":100}", NULL));
	/* a max that every record meets is accepted */
	CHECK_OK(db, crm_record_delete(db, "lead", NRECORDS + 1, 0));
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\",\"max\":19}]}");
	CHECK_INT(form_version(db, "lead"), 2);
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"score\":20}", NULL), CRM_ECONSTRAINT);
	crm_close(db);
}

TEST(test_migrate__raising_min_and_max_length_are_checked_too)
{
	crm_db *db = base_db(); /* names "lead 0".."lead 19": 6 or 7 characters */
	cJSON *d;

	check_refused(db, "lead",
		      "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"max_length\":6},"
		      "{\"name\":\"score\",\"type\":\"integer\"}]}",
		      CRM_ECONSTRAINT);
	d = refused_detail();
	CHECK_INT(failed_count(d), 10);
	CHECK(lists_record(d, 11, NULL));
	cJSON_Delete(d);
	check_refused(db, "lead",
		      "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"min_length\":7},"
		      "{\"name\":\"score\",\"type\":\"integer\"}]}",
		      CRM_ECONSTRAINT);
	check_refused(db, "lead",
		      "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		      "{\"name\":\"score\",\"type\":\"integer\",\"min\":1}]}",
		      CRM_ECONSTRAINT);
	check_base_records(db, ",\"created_at\"");
	crm_close(db);
}

TEST(test_migrate__adding_required_when_rule_is_checked)
{
	crm_db *db = base_db();
	cJSON *d;

	CHECK_OK(db, crm_record_update(db, "lead", 3, "{\"name\":null}", 0));
	/* name required when score >= 2: record 3 (score 2) has no name */
	check_refused(db, "lead",
		      "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\","
		      "\"required_when\":{\"field\":\"score\",\"op\":\"ge\",\"value\":2}},"
		      "{\"name\":\"score\",\"type\":\"integer\"}]}",
		      CRM_ECONSTRAINT);
	d = refused_detail();
	CHECK_INT(failed_count(d), 1);
	CHECK(lists_record(d, 3, NULL));
	cJSON_Delete(d);
	crm_close(db);
}

/* ---- unique constraints and indexes ---- */

TEST(test_migrate__adding_unique_when_duplicates_exist_is_refused)
{
	crm_db *db = base_db();

	CHECK_OK(db, crm_record_update(db, "lead", 8, "{\"score\":3}", 0));
	check_refused(db, "lead",
		      "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		      "{\"name\":\"score\",\"type\":\"integer\",\"unique\":true}]}",
		      CRM_ECONSTRAINT);
	CHECK_HAS(refused_, "\"field\":\"score\",\"code\":\"unique\"");
	CHECK_INT(index_exists(db, "lead__u__score"), 0);
	/* duplicates are still allowed under the old definition */
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"score\":3}", NULL));
	crm_close(db);
}

TEST(test_migrate__adding_composite_unique_when_duplicates_exist_is_refused)
{
	crm_db *db = base_db();

	CHECK_OK(db, crm_record_update(db, "lead", 8, "{\"name\":\"lead 2\",\"score\":2}", 0));
	check_refused(db, "lead",
		      "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		      "{\"name\":\"score\",\"type\":\"integer\"}],\"unique\":[[\"name\",\"score\"]]}",
		      CRM_ECONSTRAINT);
	CHECK_INT(index_exists(db, "lead__u__name__score"), 0);
	crm_close(db);
}

TEST(test_migrate__nulls_not_distinct_unique_with_two_nulls_is_refused)
{
	crm_db *db = base_db();

	CHECK_OK(db, crm_record_update(db, "lead", 2, "{\"score\":null}", 0));
	CHECK_OK(db, crm_record_update(db, "lead", 5, "{\"score\":null}", 0));
	/* nulls distinct (default): fine */
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\",\"unique\":true}]}");
	CHECK_INT(index_exists(db, "lead__u__score"), 1);
	/* nulls not distinct: the two nulls collide */
	check_refused(db, "lead",
		      "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		      "{\"name\":\"score\",\"type\":\"integer\",\"unique\":true,\"nulls_distinct\":false}]}",
		      CRM_ECONSTRAINT);
	CHECK_INT(index_exists(db, "lead__u__score"), 1);
	CHECK_INT(index_exists(db, "lead__un__score"), 0);
	crm_close(db);
}

TEST(test_migrate__add_and_remove_unique_constraint_and_index)
{
	crm_db *db = base_db();

	CHECK_INT(index_count(db, "lead"), 0);
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\",\"unique\":true}],"
		       "\"unique\":[[\"name\",\"score\"]],\"indexes\":[[\"score\",\"created_at\"],[\"name\"]]}");
	CHECK_INT(form_version(db, "lead"), 2);
	CHECK_INT(index_exists(db, "lead__u__score"), 1);
	CHECK_INT(index_exists(db, "lead__u__name__score"), 1);
	CHECK_INT(index_exists(db, "lead__i__score__created_at"), 1);
	CHECK_INT(index_exists(db, "lead__i__name"), 1);
	CHECK_INT(index_count(db, "lead"), 4);
	check_base_records(db, ",\"created_at\"");
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"x\",\"score\":3}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"score\",\"code\":\"unique\"");
	/* SQLite's query planner can use the new index (INDEXED BY is SQLite's) */
	if (strcmp(db->be->name, "sqlite") == 0)
		CHECK_INT(test_sql_int(db, "SELECT count(*) FROM lead INDEXED BY lead__i__name WHERE name = 'lead 3'"), 1);

	/* remove them all again */
	test_apply(db, base_v1);
	CHECK_INT(form_version(db, "lead"), 3);
	CHECK_INT(index_count(db, "lead"), 0);
	check_base_records(db, ",\"created_at\"");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"x\",\"score\":3}", NULL));
	crm_close(db);
}

TEST(test_migrate__unique_constraint_in_form_list_replaces_single_field_one)
{
	crm_db *db = base_db();

	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\",\"unique\":true}]}");
	CHECK_INT(index_exists(db, "lead__u__score"), 1);
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"integer\"}],\"unique\":[[\"score\",\"name\"]]}");
	CHECK_INT(index_exists(db, "lead__u__score"), 0);
	CHECK_INT(index_exists(db, "lead__u__score__name"), 1);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"other\",\"score\":3}", NULL));
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"lead 3\",\"score\":3}", NULL), CRM_ECONSTRAINT);
	crm_close(db);
}

TEST(test_migrate__rename_field_in_unique_index_keeps_uniqueness)
{
	crm_db *db = test_db();
	char json[128];
	int64_t id = 0;
	int ins = -1;

	test_apply(db, "{\"form\":\"c\",\"fields\":[{\"name\":\"phone\",\"type\":\"phone\",\"unique\":true},"
		       "{\"name\":\"region\",\"type\":\"text\"}],\"indexes\":[[\"region\",\"phone\"]]}");
	for (int i = 0; i < NRECORDS; i++) {
		snprintf(json, sizeof json, "{\"phone\":\"138000000%02d\",\"region\":\"r%d\"}", i, i % 3);
		CHECK_OK(db, crm_record_insert(db, "c", json, NULL));
	}
	test_apply(db, "{\"form\":\"c\",\"fields\":[{\"id\":\"phone\",\"name\":\"mobile\",\"type\":\"phone\",\"unique\":true},"
		       "{\"name\":\"region\",\"type\":\"text\"}],\"indexes\":[[\"region\",\"mobile\"]]}");
	CHECK_INT(form_version(db, "c"), 2);
	CHECK_INT(index_exists(db, "c__u__phone"), 0);
	CHECK_INT(index_exists(db, "c__u__mobile"), 1);
	CHECK_INT(index_exists(db, "c__i__region__phone"), 0);
	CHECK_INT(index_exists(db, "c__i__region__mobile"), 1);
	for (int i = 0; i < NRECORDS; i++) {
		snprintf(json, sizeof json, "{\"id\":%d,\"mobile\":\"138000000%02d\",\"region\":\"r%d\",", i + 1, i, i % 3);
		CHECK_HAS(test_get(db, "c", i + 1), json);
	}
	/* uniqueness still enforced under the new name */
	CHECK_RC(db, crm_record_insert(db, "c", "{\"mobile\":\"13800000005\"}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"mobile\",\"code\":\"unique\"");
	CHECK_HAS(crm_errdetail(db), "record 6");
	/* and usable as an upsert key and in queries */
	CHECK_OK(db, crm_record_upsert(db, "c", "mobile", "{\"mobile\":\"13800000005\",\"region\":\"moved\"}", &id, &ins));
	CHECK_INT(ins, 0);
	CHECK_INT(id, 6);
	{
		int64_t n = -1;
		CHECK_OK(db, crm_count(db, "c", "{\"filter\":{\"field\":\"mobile\",\"op\":\"eq\",\"value\":\"13800000007\"}}",
				       &n));
		CHECK_INT(n, 1);
	}
	crm_close(db);
}

TEST(test_migrate__rename_of_ref_field_keeps_its_index_and_rule)
{
	crm_db *db = test_db();

	test_apply(db, "[{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]},"
		       "{\"form\":\"deal\",\"fields\":[{\"name\":\"cust\",\"type\":\"ref\",\"form\":\"customer\"}]}]");
	insert_n(db, "customer", "{\"name\":\"c%d\"}", NRECORDS);
	for (int i = 0; i < NRECORDS; i++) {
		char json[64];
		snprintf(json, sizeof json, "{\"cust\":%d}", i + 1);
		CHECK_OK(db, crm_record_insert(db, "deal", json, NULL));
	}
	test_apply(db, "{\"form\":\"deal\",\"fields\":[{\"id\":\"cust\",\"name\":\"customer\",\"type\":\"ref\","
		       "\"form\":\"customer\"}]}");
	CHECK_HAS(test_get(db, "deal", 4), "{\"id\":4,\"customer\":4,");
	CHECK_INT(index_exists(db, "deal__i__customer"), 1);
	CHECK_INT(index_exists(db, "deal__i__cust"), 0);
	CHECK_RC(db, crm_record_delete(db, "customer", 4, 0), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "referenced");
	crm_close(db);
}

/* ---- atomicity across several documents and transactions ---- */

TEST(test_migrate__refused_document_in_a_batch_of_documents_undoes_the_others)
{
	crm_db *db = base_db();

	test_apply(db, "{\"form\":\"other\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}");
	CHECK_RC(db, crm_apply(db, "[{\"form\":\"other\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"},"
				   "{\"name\":\"y\",\"type\":\"text\"}]},"
				   "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"integer\"},"
				   "{\"name\":\"score\",\"type\":\"integer\"}]}]"),
		 CRM_ECONSTRAINT);
	CHECK_INT(form_version(db, "other"), 1);
	CHECK_INT(column_exists(db, "other", "y"), 0);
	CHECK_INT(form_version(db, "lead"), 1);
	/* caches were reloaded: "other" takes records under version 1 */
	CHECK_RC(db, crm_record_insert(db, "other", "{\"x\":\"a\",\"y\":\"b\"}", NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_record_insert(db, "other", "{\"x\":\"a\"}", NULL));
	check_base_records(db, ",\"created_at\"");
	crm_close(db);
}

TEST(test_migrate__migration_inside_host_transaction_rolls_back_with_it)
{
	crm_db *db = base_db();

	CHECK_OK(db, crm_begin(db));
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"score\",\"type\":\"text\"}]}");
	CHECK_HAS(test_get(db, "lead", 1), "\"score\":\"0\"");
	CHECK_OK(db, crm_rollback(db));
	CHECK_INT(form_version(db, "lead"), 1);
	CHECK_STR(test_column_type(db, "lead", "score"), db->be->dialect->type_integer);
	check_base_records(db, ",\"created_at\"");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"score\":5}", NULL));
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"score\":\"5\"}", NULL), CRM_ECONSTRAINT);
	crm_close(db);
}

TEST(test_migrate__several_changes_at_once)
{
	crm_db *db = base_db();

	/* rename name->title, score text, add stage with default, remove nothing */
	test_apply(db, "{\"form\":\"lead\",\"fields\":["
		       "{\"id\":\"name\",\"name\":\"title\",\"type\":\"text\",\"required\":true},"
		       "{\"name\":\"score\",\"type\":\"decimal\",\"scale\":1,\"max\":100},"
		       "{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"old\"],\"default\":\"old\"}],"
		       "\"indexes\":[[\"stage\",\"score\"]]}");
	CHECK_INT(form_version(db, "lead"), 2);
	for (int i = 0; i < NRECORDS; i++) {
		char want[160];
		snprintf(want, sizeof want, "{\"id\":%d,\"title\":\"lead %d\",\"score\":%d.0,\"stage\":\"old\",", i + 1, i, i);
		CHECK_HAS(test_get(db, "lead", i + 1), want);
	}
	CHECK_INT(index_exists(db, "lead__i__stage__score"), 1);
	crm_close(db);
}

TEST_LIST(T(test_migrate__unchanged_definition_does_nothing), T(test_migrate__add_field_gives_existing_records_null),
	  T(test_migrate__add_field_with_default_fills_existing_records),
	  T(test_migrate__add_required_field_with_default_to_non_empty_form_works),
	  T(test_migrate__add_required_field_without_default_to_non_empty_form_is_refused),
	  T(test_migrate__add_required_field_to_empty_form_works), T(test_migrate__failed_record_list_is_capped_at_twenty),
	  T(test_migrate__rename_via_stable_id_keeps_data_and_old_name_is_unknown),
	  T(test_migrate__swap_two_field_names_via_ids),
	  T(test_migrate__swap_names_of_unique_and_plain_fields_moves_the_constraints),
	  T(test_migrate__remove_field_drops_its_data_and_keeps_the_rest),
	  T(test_migrate__re_adding_a_removed_field_starts_empty), T(test_migrate__remove_indexed_field_drops_its_index),
	  T(test_migrate__text_to_integer_converts_every_value),
	  T(test_migrate__text_to_integer_with_one_bad_value_is_refused_listing_it),
	  T(test_migrate__text_with_fraction_to_integer_is_refused), T(test_migrate__integer_to_text),
	  T(test_migrate__integer_to_decimal), T(test_migrate__decimal_to_text_and_number),
	  T(test_migrate__decimal_scale_up_is_exact), T(test_migrate__decimal_scale_down_that_needs_rounding_is_refused),
	  T(test_migrate__decimal_scale_down_without_lost_digits_works),
	  T(test_migrate__number_with_fraction_to_integer_is_refused), T(test_migrate__enum_options_added_keeps_values),
	  T(test_migrate__enum_option_removed_while_in_use_is_refused),
	  T(test_migrate__enum_option_removed_when_unused_works), T(test_migrate__enum_to_multi_enum),
	  T(test_migrate__multi_enum_options_reordered_recanonicalises_values),
	  T(test_migrate__text_to_date_refuses_non_dates), T(test_migrate__type_change_of_unique_field_keeps_the_constraint),
	  T(test_migrate__option_added_to_indexed_enum_keeps_the_index),
	  T(test_migrate__scale_change_of_field_in_composite_unique_keeps_it),
	  T(test_migrate__new_field_reusing_a_removed_unique_fields_name_starts_empty),
	  T(test_migrate__text_to_boolean_converts_true_and_false),
	  T(test_migrate__rename_and_retype_an_indexed_field_at_once),
	  T(test_migrate__reordering_fields_keeps_data_and_follows_the_new_order),
	  T(test_migrate__adding_required_when_some_records_are_null_is_refused),
	  T(test_migrate__adding_required_when_all_records_have_values_works),
	  T(test_migrate__adding_a_pattern_some_values_break_is_refused),
	  T(test_migrate__adding_a_pattern_all_values_match_works),
	  T(test_migrate__lowering_max_below_existing_values_is_refused),
	  T(test_migrate__raising_min_and_max_length_are_checked_too), T(test_migrate__adding_required_when_rule_is_checked),
	  T(test_migrate__adding_unique_when_duplicates_exist_is_refused),
	  T(test_migrate__adding_composite_unique_when_duplicates_exist_is_refused),
	  T(test_migrate__nulls_not_distinct_unique_with_two_nulls_is_refused),
	  T(test_migrate__add_and_remove_unique_constraint_and_index),
	  T(test_migrate__unique_constraint_in_form_list_replaces_single_field_one),
	  T(test_migrate__rename_field_in_unique_index_keeps_uniqueness),
	  T(test_migrate__rename_of_ref_field_keeps_its_index_and_rule),
	  T(test_migrate__refused_document_in_a_batch_of_documents_undoes_the_others),
	  T(test_migrate__migration_inside_host_transaction_rolls_back_with_it), T(test_migrate__several_changes_at_once))
