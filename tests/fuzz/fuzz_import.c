/* libFuzzer target: the input is a file to import (CSV, NDJSON, a JSON
 * array; any encoding) into a form of every convertible type, with the
 * mode, format and encoding picked by the first byte. Every input gets a
 * fresh in-memory database. Invariants: every error is well formed; the
 * summary is a JSON object whose counts add up; atomic mode writes all or
 * nothing; best-effort keeps exactly the rows it says it inserted. */
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char FORM_DEF[] =
	"{\"form\":\"f\",\"fields\":["
	"{\"name\":\"name\",\"type\":\"text\",\"required\":true,\"max_length\":20,\"label\":\"Name\"},"
	"{\"name\":\"n\",\"type\":\"integer\",\"min\":0},{\"name\":\"d\",\"type\":\"decimal\",\"scale\":2},"
	"{\"name\":\"x\",\"type\":\"number\"},{\"name\":\"b\",\"type\":\"boolean\"},{\"name\":\"day\",\"type\":\"date\"},"
	"{\"name\":\"at\",\"type\":\"datetime\"},{\"name\":\"e\",\"type\":\"enum\",\"options\":[\"a\",\"b\"]},"
	"{\"name\":\"m\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b\",\"c\"]},"
	"{\"name\":\"phone\",\"type\":\"phone\",\"unique\":true},{\"name\":\"j\",\"type\":\"json\"}]}";

static const char *const OPTIONS[] = {
	"{\"mode\":\"atomic\"}",
	"{\"mode\":\"best-effort\"}",
	"{\"mode\":\"best-effort\",\"upsert\":\"phone\"}",
	"{\"format\":\"ndjson\",\"mode\":\"best-effort\"}",
	"{\"format\":\"json\"}",
	"{\"encoding\":\"gbk\",\"mode\":\"best-effort\"}",
	"{\"delimiter\":\";\",\"header\":\"labels\",\"map\":{\"N\":\"n\",\"skip\":\"\"}}",
	"{\"format\":\"csv\",\"encoding\":\"gb18030\"}",
};

static int64_t json_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	FUZZ_ASSERT(cJSON_IsNumber(v), "summary lacks %s", key);
	return (int64_t)v->valuedouble;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	crm_db *db = NULL;
	crm_import_options o = CRM_IMPORT_OPTIONS_INIT;
	char *out = NULL;
	int64_t count = -1;
	int rc, pick;

	if (size < 1 || size > 1 << 16)
		return 0;
	pick = data[0] % (int)(sizeof OPTIONS / sizeof *OPTIONS);
	o.json = OPTIONS[pick];
	FUZZ_ASSERT(crm_open(&db, ":memory:", NULL) == CRM_OK, "crm_open failed");
	FUZZ_ASSERT(crm_apply(db, FORM_DEF) == CRM_OK, "crm_apply: %s", crm_errmsg(db));
	rc = crm_import_buffer(db, "f", (const char *)data + 1, size - 1, &o, &out);
	fuzz_check_result(db, rc, "crm_import_buffer", size);
	FUZZ_ASSERT(crm_count(db, "f", NULL, &count) == CRM_OK, "crm_count: %s", crm_errmsg(db));
	if (out) {
		cJSON *sum = cJSON_Parse(out);
		int64_t rows, ins, upd, failed;
		FUZZ_ASSERT(cJSON_IsObject(sum), "summary is not an object: %s", out);
		rows = json_int(sum, "rows"), ins = json_int(sum, "inserted"), upd = json_int(sum, "updated");
		failed = json_int(sum, "failed");
		FUZZ_ASSERT(ins + upd + failed <= rows, "counts do not add up: %s", out);
		FUZZ_ASSERT(count == ins, "%lld records, the summary says %lld inserted: %s", (long long)count,
			    (long long)ins, out);
		FUZZ_ASSERT(rc != CRM_OK || ins + upd + failed == rows, "a complete import lost rows: %s", out);
		cJSON_Delete(sum);
	} else
		FUZZ_ASSERT(rc != CRM_OK && count == 0, "no summary, yet %s and %lld records", crm_errstr(rc),
			    (long long)count);
	crm_free(out);
	crm_close(db);
	return 0;
}
