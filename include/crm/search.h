/*
 * libcrm — full-text search over the fields forms declare, and the 360°
 * timeline of one record (docs/integration.md, "Search" and "Timeline").
 * Both read through the actor's view: a record the actor may not read is
 * never a hit, never an item, and changes no count, score or token; a
 * field hidden from the actor is neither searched nor shown.
 *
 * Ownership: inputs are borrowed; what comes back through `char **out` is
 * the caller's, freed with crm_free (NULL on failure).
 */
#ifndef CRM_SEARCH_H
#define CRM_SEARCH_H

#include <stdint.h>

#include "common.h"
#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Search the forms that declare "search": {"fields": [...]} for `text`
 * (UTF-8, 1 to 256 bytes after trimming; up to 8 words separated by white
 * space, each of which must occur in one of the declared fields, case
 * folded). Words of 3 characters or more use the index (SQLite FTS5
 * trigram, PostgreSQL pg_trgm); a shorter word (张三) is matched by a scan.
 * `options_json` (NULL: defaults):
 *   {"forms": ["customer", ...]  (default: every form with a search index),
 *    "limit": 1..100 (20), "after": the "next" token of the previous page,
 *    "highlight": ["«", "»"] (the markers around a hit in snippets, each at
 *    most 16 bytes)}.
 * *out: {"hits": [{"form", "id", "score", "snippet": {"field": "…«hit»…"},
 *        "record": {as crm_record_get answers}}...], "next": token|null},
 * best first (higher score). Pages reach at most 1,000 hits deep.
 * CRM_EINVAL for bad text or options (unknown key, a form that declares no
 * search, a token of another query), CRM_ENOTFOUND for an unknown form.
 */
CRM_EXTERN(int) crm_search(crm_db *db, const char *text, const char *options_json, char **out);

/**
 * The timeline of record `id` of `form`, newest first: the records of any
 * form that reference it directly or through one more reference ("record"),
 * its workflow transitions ("workflow") and approval decisions
 * ("approval"), its audit entries ("audit": hidden fields left out) and,
 * for the system actor, the events about it ("event").
 * `options_json` (NULL: defaults):
 *   {"kinds": [...] (default: all five), "limit": 1..200 (50),
 *    "before": the "next" token of the previous page}.
 * *out: {"items": [{"at": ISO 8601, "kind", "form", "id", "summary",
 *        "data": {...}}...], "next": token|null}.
 * CRM_ENOTFOUND when the form does not exist or the record is missing or
 * not the actor's to read; CRM_EINVAL for bad options.
 */
CRM_EXTERN(int) crm_timeline(crm_db *db, const char *form, int64_t id, const char *options_json, char **out);

#ifdef __cplusplus
}
#endif
#endif
