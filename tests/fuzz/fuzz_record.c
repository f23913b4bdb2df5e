/* libFuzzer target: the input is record JSON (and, the same bytes, query
 * JSON) against one fixed rich form. Every input gets a fresh in-memory
 * database with that form and two seed records (the definition is chosen
 * once), and runs inside a host transaction rolled back at the end. A fresh
 * handle per input keeps crashes reproducible from the input alone and
 * lets every allocation be freed by crm_close, so libFuzzer's leak check
 * (run whenever an input mallocs more than it frees) stays rare: a shared
 * handle's caches grew a few KB per input and made it ~10x slower. Invariants:
 * a failing write changes nothing (count, record 1), a successful one does
 * exactly what it says, every error is well formed, query rows never
 * outnumber crm_count. */
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FORM "rich"

/* Richest first: the script engine (computed fields) may not be built in. */
static const char *const DEFINITIONS[] = {
	"[{\"form\":\"account\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"required\":true}]},"
	"{\"form\":\"rich\",\"label\":\"Rich\",\"fields\":["
	"{\"name\":\"title\",\"type\":\"text\",\"required\":true,\"min_length\":1,\"max_length\":20,"
	"\"pattern\":\"^\\\\p{L}[\\\\p{L} ]*$\"},"
	"{\"name\":\"body\",\"type\":\"long_text\"},"
	"{\"name\":\"qty\",\"type\":\"integer\",\"min\":0,\"max\":1000,\"default\":0},"
	"{\"name\":\"price\",\"type\":\"decimal\",\"scale\":2,\"min\":0},"
	"{\"name\":\"ratio\",\"type\":\"number\",\"min\":-1,\"max\":1},"
	"{\"name\":\"active\",\"type\":\"boolean\"},"
	"{\"name\":\"due\",\"type\":\"date\",\"min\":\"2000-01-01\"},"
	"{\"name\":\"at\",\"type\":\"datetime\"},"
	"{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"won\",\"lost\"],\"default\":\"new\"},"
	"{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b\",\"c\"]},"
	"{\"name\":\"email\",\"type\":\"email\",\"unique\":true},"
	"{\"name\":\"phone\",\"type\":\"phone\",\"unique\":true,\"pattern\":\"^1[3-9]\\\\d{9}$\"},"
	"{\"name\":\"site\",\"type\":\"url\"},"
	"{\"name\":\"account\",\"type\":\"ref\",\"form\":\"account\"},"
	"{\"name\":\"extra\",\"type\":\"json\"},"
	"{\"name\":\"label\",\"type\":\"computed\",\"returns\":\"text\","
	"\"lua\":\"(record.title or '') .. '/' .. (record.stage or '')\"}],"
	"\"unique\":[[\"title\",\"due\"]],"
	"\"indexes\":[[\"stage\"],[\"qty\",\"due\"]]}]",
	/* the same without the computed field */
	"[{\"form\":\"account\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"required\":true}]},"
	"{\"form\":\"rich\",\"label\":\"Rich\",\"fields\":["
	"{\"name\":\"title\",\"type\":\"text\",\"required\":true,\"min_length\":1,\"max_length\":20,"
	"\"pattern\":\"^\\\\p{L}[\\\\p{L} ]*$\"},"
	"{\"name\":\"body\",\"type\":\"long_text\"},"
	"{\"name\":\"qty\",\"type\":\"integer\",\"min\":0,\"max\":1000,\"default\":0},"
	"{\"name\":\"price\",\"type\":\"decimal\",\"scale\":2,\"min\":0},"
	"{\"name\":\"ratio\",\"type\":\"number\",\"min\":-1,\"max\":1},"
	"{\"name\":\"active\",\"type\":\"boolean\"},"
	"{\"name\":\"due\",\"type\":\"date\",\"min\":\"2000-01-01\"},"
	"{\"name\":\"at\",\"type\":\"datetime\"},"
	"{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"won\",\"lost\"],\"default\":\"new\"},"
	"{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b\",\"c\"]},"
	"{\"name\":\"email\",\"type\":\"email\",\"unique\":true},"
	"{\"name\":\"phone\",\"type\":\"phone\",\"unique\":true,\"pattern\":\"^1[3-9]\\\\d{9}$\"},"
	"{\"name\":\"site\",\"type\":\"url\"},"
	"{\"name\":\"account\",\"type\":\"ref\",\"form\":\"account\"},"
	"{\"name\":\"extra\",\"type\":\"json\"}],"
	"\"unique\":[[\"title\",\"due\"]],"
	"\"indexes\":[[\"stage\"],[\"qty\",\"due\"]]}]",
};

static const char SEED_ACCOUNT[] = "{\"name\":\"Acme\"}";
static const char *const SEED_RECORDS[] = {
	"{\"title\":\"First\",\"body\":\"x\",\"qty\":3,\"price\":12.5,\"ratio\":0.5,\"active\":true,"
	"\"due\":\"2024-02-29\",\"at\":\"2024-02-29T10:00:00Z\",\"stage\":\"won\",\"tags\":[\"a\",\"c\"],"
	"\"email\":\"first@example.com\",\"phone\":\"13800000001\",\"site\":\"https://example.com\","
	"\"account\":1,\"extra\":{\"k\":1}}",
	"{\"title\":\"Second\",\"qty\":0,\"stage\":\"new\",\"phone\":\"13900000002\"}",
};

static crm_db *db;
static int64_t base_count;
static const char *definition; /* the richest of DEFINITIONS this build accepts */

/* A fresh database with the form and its seed records in `db`. */
static void open_db(void)
{
	size_t k;
	int rc;

	rc = crm_open(&db, ":memory:", NULL);
	FUZZ_ASSERT(rc == CRM_OK, "crm_open(:memory:) failed");
	crm_clock_set(db, 1767323045000LL);
	crm_limit(db, CRM_LIMIT_LUA_INSTRUCTIONS, 100000);
	crm_limit(db, CRM_LIMIT_REGEX_MATCH, 10000);
	rc = crm_apply(db, definition);
	FUZZ_ASSERT(rc == CRM_OK, "definition no longer applies: %s", crm_errmsg(db));
	rc = crm_record_insert(db, "account", SEED_ACCOUNT, NULL);
	FUZZ_ASSERT(rc == CRM_OK, "seed account: %s", crm_errdetail(db));
	for (k = 0; k < sizeof SEED_RECORDS / sizeof SEED_RECORDS[0]; k++) {
		rc = crm_record_insert(db, FORM, SEED_RECORDS[k], NULL);
		FUZZ_ASSERT(rc == CRM_OK, "seed record %zu: %s", k, crm_errdetail(db));
	}
	base_count = fuzz_count(db, FORM);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t k;

	(void)argc;
	(void)argv;
	for (k = 0; k < sizeof DEFINITIONS / sizeof DEFINITIONS[0] && !definition; k++) {
		crm_db *probe = NULL;
		int rc = crm_open(&probe, ":memory:", NULL);

		FUZZ_ASSERT(rc == CRM_OK, "crm_open(:memory:) failed");
		rc = crm_apply(probe, DEFINITIONS[k]);
		if (rc == CRM_OK)
			rc = crm_record_insert(probe, "account", SEED_ACCOUNT, NULL);
		if (rc == CRM_OK)
			rc = crm_record_insert(probe, FORM, SEED_RECORDS[0], NULL);
		if (rc == CRM_OK)
			definition = DEFINITIONS[k];
		else
			fprintf(stderr, "fuzz_record: definition %zu rejected (%s), trying a simpler one\n", k,
				crm_errmsg(probe));
		crm_close(probe);
	}
	FUZZ_ASSERT(definition != NULL, "no definition applies");
	return 0;
}

/* Record `id` as JSON (caller frees), asserting it exists. */
static char *get_record(int64_t id)
{
	char *out = NULL;
	int rc = crm_record_get(db, FORM, id, &out);

	FUZZ_ASSERT(rc == CRM_OK, "record %lld cannot be read: %s", (long long)id, crm_errmsg(db));
	fuzz_check_json(out, cJSON_Object, "crm_record_get");
	return out;
}

static int64_t json_int(const char *json, const char *key)
{
	cJSON *j = cJSON_Parse(json);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	int64_t n;

	FUZZ_ASSERT(cJSON_IsNumber(v), "record has no numeric \"%s\": %s", key, json);
	n = (int64_t)v->valuedouble;
	cJSON_Delete(j);
	return n;
}

static void check_insert(const char *input, size_t len)
{
	int64_t before = fuzz_count(db, FORM), id = 0;
	int rc = crm_record_insert(db, FORM, input, &id);
	char *got;

	fuzz_check_result(db, rc, "crm_record_insert", len);
	if (rc != CRM_OK) {
		FUZZ_ASSERT(fuzz_count(db, FORM) == before, "failed insert (%s) changed the count", crm_errstr(rc));
		return;
	}
	FUZZ_ASSERT(fuzz_count(db, FORM) == before + 1, "insert did not add exactly one record");
	got = get_record(id);
	FUZZ_ASSERT(json_int(got, "id") == id, "record %lld reads back as %s", (long long)id, got);
	FUZZ_ASSERT(json_int(got, "version") == 1, "new record has version != 1: %s", got);
	crm_free(got);
}

static void check_update(const char *input, size_t len)
{
	char *before = get_record(1), *after;
	int64_t v = json_int(before, "version");
	int rc;

	/* A stale expected version never succeeds and changes nothing. */
	rc = crm_record_update(db, FORM, 1, input, v + 100);
	fuzz_check_result(db, rc, "crm_record_update (stale)", len);
	FUZZ_ASSERT(rc != CRM_OK, "update with a stale version succeeded");
	after = get_record(1);
	FUZZ_ASSERT(strcmp(before, after) == 0, "failed update changed record 1:\n  %s\n  %s", before, after);
	crm_free(after);

	rc = crm_record_update(db, FORM, 1, input, v);
	fuzz_check_result(db, rc, "crm_record_update", len);
	after = get_record(1);
	if (rc != CRM_OK)
		FUZZ_ASSERT(strcmp(before, after) == 0, "failed update (%s) changed record 1:\n  %s\n  %s",
			    crm_errstr(rc), before, after);
	else
		FUZZ_ASSERT(json_int(after, "version") == v + 1 && json_int(after, "id") == 1,
			    "update did not move version %lld by one: %s", (long long)v, after);
	crm_free(before);
	crm_free(after);
}

static void check_upsert(const char *input, size_t len)
{
	int64_t before = fuzz_count(db, FORM), id = 0;
	int inserted = -1;
	int rc = crm_record_upsert(db, FORM, "phone", input, &id, &inserted);

	fuzz_check_result(db, rc, "crm_record_upsert", len);
	if (rc != CRM_OK) {
		FUZZ_ASSERT(fuzz_count(db, FORM) == before, "failed upsert changed the count");
		return;
	}
	FUZZ_ASSERT(inserted == 0 || inserted == 1, "upsert inserted = %d", inserted);
	FUZZ_ASSERT(fuzz_count(db, FORM) == before + inserted, "upsert (inserted=%d) changed the count by %lld",
		    inserted, (long long)(fuzz_count(db, FORM) - before));
	crm_free(get_record(id));
}

static void check_insert_many(const char *input, size_t len)
{
	int64_t before = fuzz_count(db, FORM), *ids = NULL;
	size_t n = 0, k;
	int rc = crm_record_insert_many(db, FORM, input, &ids, &n);

	fuzz_check_result(db, rc, "crm_record_insert_many", len);
	if (rc != CRM_OK) {
		FUZZ_ASSERT(fuzz_count(db, FORM) == before, "failed batch (%s) changed the count", crm_errstr(rc));
		crm_free(ids);
		return;
	}
	FUZZ_ASSERT(fuzz_count(db, FORM) == before + (int64_t)n, "batch of %zu changed the count by %lld", n,
		    (long long)(fuzz_count(db, FORM) - before));
	for (k = 0; k < n && k < 8; k++)
		crm_free(get_record(ids[k]));
	crm_free(ids);
}

static void check_query(const char *input, size_t len)
{
	crm_cursor *cur = NULL;
	int64_t rows = 0, count = -1;
	int rc = crm_query(&cur, db, FORM, input), n, i;

	fuzz_check_result(db, rc, "crm_query", len);
	if (rc != CRM_OK) {
		FUZZ_ASSERT(cur == NULL, "failed crm_query left a cursor");
		return;
	}
	n = crm_cursor_column_count(cur);
	FUZZ_ASSERT(n >= 1, "cursor has %d columns", n);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(crm_cursor_column_name(cur, i) != NULL, "column %d has no name", i);
	while ((rc = crm_cursor_next(cur)) == CRM_ROW && rows < 10000) {
		for (i = 0; i < n; i++) {
			(void)crm_cursor_column_type(cur, i);
			(void)crm_cursor_is_null(cur, i);
			(void)crm_cursor_int64(cur, i);
			(void)crm_cursor_double(cur, i);
			(void)crm_cursor_text(cur, i);
		}
		(void)crm_cursor_is_null(cur, n); /* out of range: must not crash */
		(void)crm_cursor_text(cur, -1);
		fuzz_check_json(crm_cursor_json(cur), cJSON_Object, "crm_cursor_json");
		FUZZ_ASSERT(crm_cursor_token(cur) != NULL, "row without a token");
		rows++;
	}
	FUZZ_ASSERT(rc == CRM_DONE || rc == CRM_ROW, "cursor ended with %s: %s", crm_errstr(rc), crm_errmsg(db));
	crm_cursor_free(cur);

	rc = crm_count(db, FORM, input, &count);
	fuzz_check_result(db, rc, "crm_count", len);
	FUZZ_ASSERT(rc == CRM_OK, "crm_query accepted what crm_count rejects: %s", crm_errmsg(db));
	FUZZ_ASSERT(rows <= count, "query returned %lld rows, count says %lld", (long long)rows, (long long)count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *input = fuzz_cstr(data, size);
	size_t len = strlen(input);
	int rc;

	open_db();
	rc = crm_begin(db);
	FUZZ_ASSERT(rc == CRM_OK, "crm_begin failed: %s", crm_errmsg(db));
	check_insert(input, len);
	check_update(input, len);
	check_upsert(input, len);
	check_insert_many(input, len);
	check_query(input, len);
	rc = crm_rollback(db);
	FUZZ_ASSERT(rc == CRM_OK, "crm_rollback failed: %s", crm_errmsg(db));
	FUZZ_ASSERT(fuzz_count(db, FORM) == base_count, "rollback did not restore the seed records");
	FUZZ_ASSERT(crm_close(db) == CRM_OK, "crm_close failed");
	db = NULL;
	free(input);
	return 0;
}
