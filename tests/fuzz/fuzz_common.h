/* Checks shared by the libFuzzer targets: an invariant that fails aborts
 * (libFuzzer saves the input), and every failing call must leave a
 * well-formed error on the handle. Header-only so each target stays one
 * translation unit. */
#ifndef CRM_FUZZ_COMMON_H
#define CRM_FUZZ_COMMON_H

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm.h"

#define FUZZ_ASSERT(cond, ...)                                                              \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n  ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                       \
			fputc('\n', stderr);                                                \
			abort();                                                            \
		}                                                                           \
	} while (0)

/* A known result code (crm_errstr names it). */
static inline int fuzz_known_code(int rc)
{
	return (rc >= CRM_OK && rc <= CRM_EEXISTS) || rc == CRM_ROW || rc == CRM_DONE;
}

/* After call `what` returned `rc` on `db`: a known code, and when it failed
 * a message, a JSON-object detail naming the same code, and an offset that
 * is -1 or inside the input of `input_len` bytes. */
static inline void fuzz_check_result(crm_db *db, int rc, const char *what, size_t input_len)
{
	const char *msg, *detail;
	cJSON *j, *code;
	int off;

	FUZZ_ASSERT(fuzz_known_code(rc), "%s returned unknown code %d", what, rc);
	if (rc == CRM_OK || rc == CRM_ROW || rc == CRM_DONE)
		return;
	FUZZ_ASSERT(crm_errcode(db) == rc, "%s returned %d but crm_errcode says %d", what, rc, crm_errcode(db));
	msg = crm_errmsg(db);
	detail = crm_errdetail(db);
	FUZZ_ASSERT(msg && *msg, "%s failed with %s but no message", what, crm_errstr(rc));
	FUZZ_ASSERT(detail, "%s failed with no detail", what);
	j = cJSON_Parse(detail);
	FUZZ_ASSERT(j && cJSON_IsObject(j), "%s: detail is not a JSON object: %s", what, detail);
	code = cJSON_GetObjectItemCaseSensitive(j, "code");
	FUZZ_ASSERT(cJSON_IsString(code) && strcmp(code->valuestring, crm_errstr(rc)) == 0,
		    "%s: detail code does not match %s: %s", what, crm_errstr(rc), detail);
	if (rc == CRM_ECONSTRAINT) {
		const cJSON *errors = cJSON_GetObjectItemCaseSensitive(j, "errors");
		const cJSON *rows = cJSON_GetObjectItemCaseSensitive(j, "rows");
		const cJSON *records = cJSON_GetObjectItemCaseSensitive(j, "records"); /* refused migrations */
		FUZZ_ASSERT((cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0) ||
				    (cJSON_IsArray(rows) && cJSON_GetArraySize(rows) > 0) ||
				    (cJSON_IsArray(records) && cJSON_GetArraySize(records) > 0),
			    "%s: CRM_ECONSTRAINT without errors/rows/records: %s", what, detail);
	}
	cJSON_Delete(j);
	off = crm_erroffset(db);
	FUZZ_ASSERT(off >= -1 && (off < 0 || (size_t)off <= input_len), "%s: error offset %d outside input of %zu bytes",
		    what, off, input_len);
}

/* `json` parses as a JSON value of cJSON type `type` (cJSON_Object, ...). */
static inline void fuzz_check_json(const char *json, int type, const char *what)
{
	cJSON *j;

	FUZZ_ASSERT(json != NULL, "%s returned NULL JSON", what);
	j = cJSON_Parse(json);
	FUZZ_ASSERT(j && (j->type & 0xff) == type, "%s returned bad JSON: %s", what, json);
	cJSON_Delete(j);
}

/* A NUL-terminated copy of the input (libFuzzer's data is not). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static inline int64_t fuzz_count(crm_db *db, const char *form)
{
	int64_t n = -1;
	int rc = crm_count(db, form, NULL, &n);

	FUZZ_ASSERT(rc == CRM_OK, "crm_count(%s) failed: %s", form, crm_errmsg(db));
	return n;
}

#endif
