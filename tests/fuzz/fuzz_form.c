/* libFuzzer target: the input is a metadata document (a form definition or
 * an array of them). crm_apply must accept or reject it cleanly; when it is
 * accepted, applying it again changes nothing, the normalised definition
 * applies back unchanged, and records (fixed ones and one built from the
 * definition) insert, read back and count consistently. */
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Records every form gets: each must either insert or fail cleanly. */
static const char *const FIXED_RECORDS[] = {
	"{}",
	"{\"name\":\"x\"}",
	"{\"name\":null,\"title\":\"t\",\"region\":\"north\",\"score\":1}",
	"{\"a\":1,\"b\":\"x\",\"c\":null,\"d\":true,\"e\":[1,2],\"f\":{\"g\":1}}",
	"[]",
	"null",
	"{\"id\":5,\"version\":7,\"owner\":\"me\"}",
};

/* A plausible value for a field of type `type` (cJSON item to add). */
static cJSON *sample_value(const cJSON *field)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(field, "type");
	const cJSON *opts = cJSON_GetObjectItemCaseSensitive(field, "options");
	const char *t = cJSON_IsString(type) ? type->valuestring : "text";
	const cJSON *first = cJSON_IsArray(opts) ? cJSON_GetArrayItem(opts, 0) : NULL;

	if (!strcmp(t, "integer") || !strcmp(t, "ref"))
		return cJSON_CreateNumber(1);
	if (!strcmp(t, "decimal"))
		return cJSON_CreateRaw("1.5");
	if (!strcmp(t, "number"))
		return cJSON_CreateNumber(2.25);
	if (!strcmp(t, "boolean"))
		return cJSON_CreateTrue();
	if (!strcmp(t, "date"))
		return cJSON_CreateString("2024-02-29");
	if (!strcmp(t, "datetime"))
		return cJSON_CreateString("2024-02-29T12:34:56.789Z");
	if (!strcmp(t, "enum"))
		return cJSON_IsString(first) ? cJSON_CreateString(first->valuestring) : cJSON_CreateString("a");
	if (!strcmp(t, "multi_enum")) {
		cJSON *a = cJSON_CreateArray();
		if (cJSON_IsString(first))
			cJSON_AddItemToArray(a, cJSON_CreateString(first->valuestring));
		return a;
	}
	if (!strcmp(t, "email"))
		return cJSON_CreateString("a.b@example.com");
	if (!strcmp(t, "phone"))
		return cJSON_CreateString("13800138000");
	if (!strcmp(t, "url"))
		return cJSON_CreateString("https://example.com/x?y=1");
	if (!strcmp(t, "json"))
		return cJSON_CreateRaw("{\"k\":[1,\"v\",null]}");
	return cJSON_CreateString("abc \xe4\xb8\xad\xe6\x96\x87");
}

/* A record with a sample value for every field of `def` (crm_form_get output). */
static char *sample_record(const char *def)
{
	cJSON *j = cJSON_Parse(def), *rec = cJSON_CreateObject();
	const cJSON *fields = j ? cJSON_GetObjectItemCaseSensitive(j, "fields") : NULL, *f;
	char *out;

	cJSON_ArrayForEach(f, fields)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "name");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(f, "type");
		if (!cJSON_IsString(name) || (cJSON_IsString(type) && !strcmp(type->valuestring, "computed")))
			continue;
		cJSON_AddItemToObject(rec, name->valuestring, sample_value(f));
	}
	out = cJSON_PrintUnformatted(rec);
	cJSON_Delete(rec);
	cJSON_Delete(j);
	return out;
}

static int64_t form_version(crm_db *db, const char *form)
{
	char *list = NULL;
	cJSON *j, *e;
	int64_t v = -1;
	int rc = crm_form_list(db, &list);

	FUZZ_ASSERT(rc == CRM_OK, "crm_form_list failed: %s", crm_errmsg(db));
	j = cJSON_Parse(list);
	FUZZ_ASSERT(cJSON_IsArray(j), "crm_form_list is not an array: %s", list);
	cJSON_ArrayForEach(e, j)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "form");
		const cJSON *ver = cJSON_GetObjectItemCaseSensitive(e, "version");
		if (cJSON_IsString(name) && !strcmp(name->valuestring, form) && cJSON_IsNumber(ver))
			v = (int64_t)ver->valuedouble;
	}
	cJSON_Delete(j);
	crm_free(list);
	return v;
}

/* Insert `json` into `form`: success adds exactly one readable record,
 * failure adds none. */
static void try_insert(crm_db *db, const char *form, const char *json)
{
	int64_t before = fuzz_count(db, form), id = 0;
	int rc = crm_record_insert(db, form, json, &id);
	char *got = NULL;

	fuzz_check_result(db, rc, "crm_record_insert", strlen(json));
	if (rc != CRM_OK) {
		FUZZ_ASSERT(fuzz_count(db, form) == before, "failed insert (%s) changed the count of %s: %s",
			    crm_errstr(rc), form, json);
		return;
	}
	FUZZ_ASSERT(fuzz_count(db, form) == before + 1, "insert into %s did not add one record: %s", form, json);
	rc = crm_record_get(db, form, id, &got);
	FUZZ_ASSERT(rc == CRM_OK, "inserted record %lld of %s cannot be read: %s", (long long)id, form,
		    crm_errmsg(db));
	fuzz_check_json(got, cJSON_Object, "crm_record_get");
	crm_free(got);
}

/* Stream every record of `form` through the cursor accessors. */
static void read_all(crm_db *db, const char *form)
{
	crm_cursor *cur = NULL;
	int rc = crm_query(&cur, db, form, NULL), n, i;
	int64_t rows = 0;

	FUZZ_ASSERT(rc == CRM_OK, "crm_query(%s, NULL) failed: %s", form, crm_errmsg(db));
	n = crm_cursor_column_count(cur);
	FUZZ_ASSERT(n >= 1, "cursor of %s has %d columns", form, n);
	while ((rc = crm_cursor_next(cur)) == CRM_ROW) {
		for (i = 0; i < n; i++) {
			FUZZ_ASSERT(crm_cursor_column_name(cur, i) != NULL, "column %d of %s has no name", i, form);
			(void)crm_cursor_column_type(cur, i);
			(void)crm_cursor_is_null(cur, i);
			(void)crm_cursor_int64(cur, i);
			(void)crm_cursor_double(cur, i);
			(void)crm_cursor_text(cur, i);
		}
		fuzz_check_json(crm_cursor_json(cur), cJSON_Object, "crm_cursor_json");
		rows++;
	}
	FUZZ_ASSERT(rc == CRM_DONE, "cursor over %s ended with %s: %s", form, crm_errstr(rc), crm_errmsg(db));
	crm_cursor_free(cur);
	FUZZ_ASSERT(rows == fuzz_count(db, form), "cursor over %s saw %lld rows", form, (long long)rows);
}

static void exercise_form(crm_db *db, const char *form)
{
	char *def = NULL, *rec;
	int64_t v0, v1;
	size_t k;
	int rc;

	rc = crm_form_get(db, form, &def);
	FUZZ_ASSERT(rc == CRM_OK, "listed form %s cannot be read: %s", form, crm_errmsg(db));
	fuzz_check_json(def, cJSON_Object, "crm_form_get");

	/* The normalised definition is the same definition: no new version. */
	v0 = form_version(db, form);
	rc = crm_apply(db, def);
	FUZZ_ASSERT(rc == CRM_OK, "re-applying normalised %s failed: %s\n  %s", form, crm_errmsg(db), def);
	v1 = form_version(db, form);
	FUZZ_ASSERT(v0 == v1, "re-applying normalised %s moved its version %lld -> %lld", form, (long long)v0,
		    (long long)v1);

	for (k = 0; k < sizeof FIXED_RECORDS / sizeof FIXED_RECORDS[0]; k++)
		try_insert(db, form, FIXED_RECORDS[k]);
	rec = sample_record(def);
	if (rec) {
		try_insert(db, form, rec);
		try_insert(db, form, rec); /* a second copy may break a unique: fine, but cleanly */
		cJSON_free(rec);
	}
	crm_free(def);
	read_all(db, form);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *input = fuzz_cstr(data, size), *list = NULL;
	crm_db *db = NULL;
	cJSON *forms, *e;
	int rc;

	rc = crm_open(&db, ":memory:", NULL);
	FUZZ_ASSERT(rc == CRM_OK, "crm_open(:memory:) failed: %s", db ? crm_errmsg(db) : "");
	crm_clock_set(db, 1767323045000LL);
	crm_limit(db, CRM_LIMIT_LUA_INSTRUCTIONS, 100000);
	crm_limit(db, CRM_LIMIT_REGEX_MATCH, 10000);

	rc = crm_apply(db, input);
	fuzz_check_result(db, rc, "crm_apply", size);
	if (rc != CRM_OK) {
		/* A failing apply changes nothing: no form exists afterwards. */
		FUZZ_ASSERT(crm_form_list(db, &list) == CRM_OK, "crm_form_list failed: %s", crm_errmsg(db));
		forms = cJSON_Parse(list);
		FUZZ_ASSERT(cJSON_IsArray(forms) && cJSON_GetArraySize(forms) == 0,
			    "failed apply left forms behind: %s", list);
		cJSON_Delete(forms);
		goto done;
	}
	/* Applying the same single document again is a no-op. (Arrays may
	 * define one form twice, migrating within the call, so skip those.) */
	if (input[strspn(input, " \t\r\n")] == '{') {
		rc = crm_apply(db, input);
		FUZZ_ASSERT(rc == CRM_OK, "re-applying an accepted definition failed: %s", crm_errmsg(db));
	}

	rc = crm_form_list(db, &list);
	FUZZ_ASSERT(rc == CRM_OK, "crm_form_list failed: %s", crm_errmsg(db));
	forms = cJSON_Parse(list);
	FUZZ_ASSERT(cJSON_IsArray(forms), "crm_form_list is not an array: %s", list);
	cJSON_ArrayForEach(e, forms)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "form");
		FUZZ_ASSERT(cJSON_IsString(name), "crm_form_list entry without a name: %s", list);
		exercise_form(db, name->valuestring);
	}
	cJSON_Delete(forms);
done:
	crm_free(list);
	FUZZ_ASSERT(crm_close(db) == CRM_OK, "crm_close failed");
	free(input);
	return 0;
}
