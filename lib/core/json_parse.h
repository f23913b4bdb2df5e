/* JSON text into cJSON trees, with clear errors (see json_parse.c). */
#ifndef CRM_CORE_JSON_PARSE_H
#define CRM_CORE_JSON_PARSE_H

#include <cJSON.h>

#include "crm/db.h"

/* Parse `text` (input from a caller, named `what` in messages) into *out
 * (cJSON_Delete it): CRM_EINVAL with the byte offset for bad text (invalid
 * UTF-8, nested deeper than CRM_LIMIT_JSON_DEPTH or than cJSON's
 * CJSON_NESTING_LIMIT, 1000), CRM_ENOMEM when memory ran out. */
int crm__json_parse(crm_db *db, const char *text, const char *what, cJSON **out);
/* CRM_EINVAL for a \u0000 escape at byte `at` of input `what` (no text may
 * hold U+0000, docs/decisions.md), with crm_erroffset set. */
int crm__error_nul(crm_db *db, const char *what, size_t at);
/* Whether s[0..n) is JSON cJSON parses: when it is, a NULL from cJSON
 * meant memory ran out (CRM_ENOMEM), not bad text. */
int crm__json_valid(const char *s, size_t n);
/* The stored definition of (kind, name) at `version` (0: the latest),
 * parsed: CRM_ENOTFOUND ("no <label> named ...") when there is none,
 * CRM_EIO when the stored text is corrupt. */
int crm__meta_load(crm_db *db, const char *kind, const char *label, const char *name, int64_t version, cJSON **out,
		   int64_t *out_version);

#endif
