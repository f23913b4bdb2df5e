/* Parsing JSON into cJSON trees (metadata, queries, parameters). The text
 * goes through the strict scanner first: cJSON has no depth setting (only
 * its compiled CJSON_NESTING_LIMIT) and accepts invalid UTF-8, so the scanner
 * is what applies CRM_LIMIT_JSON_DEPTH and the UTF-8 rule, exactly as for
 * record input; and once the text is known good, a NULL from cJSON can only
 * mean memory ran out. */
#include <string.h>

#include "alloc.h"
#include "db_int.h"
#include "json_parse.h"
#include "json_scan.h"

static int parse(crm_db *db, const char *text, const char *what, int64_t max_depth, cJSON **out)
{
	int depth = max_depth > CJSON_NESTING_LIMIT ? CJSON_NESTING_LIMIT : (int)max_depth;
	const char *err;
	size_t at;
	int rc;

	*out = NULL;
	if (crm__json_validate(text, strlen(text), depth, &err, &at)) {
		/* cJSON would decode \u0000 into C strings that end early ("a\u0000b"
		 * would filter on "a"): refused (docs/decisions.md). */
		if (err == crm__jscan_err_nul)
			return crm__error_nul(db, what, at);
		rc = crm__error(db, CRM_EINVAL, "%s is not valid JSON (at byte %zu: %s)", what, at,
				err ? err : "syntax error");
		db->erroffset = (int)at;
		return rc;
	}
	if (!(*out = cJSON_ParseWithOpts(text, NULL, 1)))
		return crm__error_oom(db);
	return CRM_OK;
}

int crm__json_valid(const char *s, size_t n) { return crm__json_validate(s, n, CJSON_NESTING_LIMIT, NULL, NULL) == 0; }

int crm__json_parse(crm_db *db, const char *text, const char *what, cJSON **out)
{
	return parse(db, text, what, db->limits[CRM_LIMIT_JSON_DEPTH], out);
}

int crm__error_nul(crm_db *db, const char *what, size_t at)
{
	int rc = crm__error(db, CRM_EINVAL, "%s holds U+0000 (\\u0000) at byte %zu: no text may contain it", what, at);

	db->erroffset = (int)at;
	return rc;
}

int crm__meta_load(crm_db *db, const char *kind, const char *label, const char *name, int64_t version, cJSON **out,
		   int64_t *out_version)
{
	char *body = NULL;
	int rc;

	*out = NULL;
	if ((rc = crm__meta_latest(db, kind, name, version, &body, out_version)))
		return rc;
	if (!body)
		return crm__error(db, CRM_ENOTFOUND, "no %s named '%.64s'%s", label, name, version ? " at that version" : "");
	/* Stored text passed the limits of the day it was applied: a limit
	 * lowered since must not make it unreadable. */
	if ((rc = parse(db, body, "stored metadata", CJSON_NESTING_LIMIT, out)) == CRM_EINVAL)
		rc = crm__error(db, CRM_EIO, "the stored definition of %s '%.64s' is corrupt", label, name);
	crm__free(body);
	return rc;
}
