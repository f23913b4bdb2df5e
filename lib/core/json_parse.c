/* Parsing JSON into cJSON trees (metadata, queries, parameters), with the
 * failures told apart: cJSON returns NULL both for bad text and when memory
 * runs out, so the text is checked again to know which it was. */
#include <string.h>

#include "alloc.h"
#include "db_int.h"
#include "json_parse.h"
#include "json_scan.h"

int crm__json_parse(crm_db *db, const char *text, const char *what, cJSON **out)
{
	const char *err;
	size_t at;
	int rc;

	if ((*out = cJSON_ParseWithOpts(text, NULL, 1))) {
		/* cJSON decodes \u0000 into C strings that then end early ("a\u0000b"
		 * would filter on "a"): refuse it (docs/decisions.md). */
		if (!crm__json_has_nul(text, strlen(text), &at))
			return CRM_OK;
		cJSON_Delete(*out);
		*out = NULL;
		return crm__error_nul(db, what, at);
	}
	if (crm__json_validate(text, strlen(text), (int)db->limits[CRM_LIMIT_JSON_DEPTH], &err, &at) == 0)
		return crm__error_oom(db);
	if (err == crm__jscan_err_nul)
		return crm__error_nul(db, what, at);
	rc = crm__error(db, CRM_EINVAL, "%s is not valid JSON (at byte %zu: %s)", what, at, err ? err : "syntax error");
	db->erroffset = (int)at;
	return rc;
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
	if ((rc = crm__json_parse(db, body, "stored metadata", out)) == CRM_EINVAL)
		rc = crm__error(db, CRM_EIO, "the stored definition of %s '%.64s' is corrupt", label, name);
	crm__free(body);
	return rc;
}
