/*
 * libcrm — data services: import, export, duplicates and merge
 * (docs/integration.md). Each service has its own block below.
 *
 * Ownership: inputs are borrowed; what comes back through `char **out`
 * is the caller's, freed with crm_free (NULL on failure).
 */
#ifndef CRM_IO_H
#define CRM_IO_H

#include <stdint.h>

#include "common.h"
#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- duplicates and merge ---- */

/**
 * The duplicate report of `form` by its "duplicates" rules
 * (docs/metadata.md), over the records the actor may read. options_json
 * (may be NULL): {"rules": ["phone", ...] (default: every rule), "limit":
 * groups listed (default 100, at most 10000)}. *out:
 * {"form": F, "groups": [{"rule": R, "score": 1 | similarity,
 *  "records": [id, ...]}, ...], "truncated": bool, "skipped": [rules on
 *  fields the actor may not read]}. Exact rules group records by their
 * stored key (score 1); fuzzy rules list pairs at or above the threshold.
 * CRM_ENOTFOUND for an unknown form, CRM_EINVAL for bad options or an
 * unknown rule, CRM_ELIMIT when a fuzzy rule would compare more than
 * 5000 records.
 */
CRM_EXTERN(int) crm_duplicates(crm_db *db, const char *form, const char *options_json, char **out);

/**
 * Merge record `other` of `form` into `survivor`, in one transaction
 * through the write path (validated, permission-checked, audited,
 * evented): each field takes the value its survivorship says
 * (options_json {"prefer": {"field": "survivor"|"other"|"newest"|
 * "non_empty"}, "default": one of them}, else the form's
 * "duplicates"."merge", else "non_empty": the survivor's value unless it
 * is empty), every reference to `other` in every form is re-pointed to
 * `survivor`, workflow instances of `other` move to `survivor` when it has
 * no instance of that workflow (else they end with `other`, cancelled),
 * and `other` is deleted. *out (may be NULL): {"merge": ID, "survivor",
 * "other", "fields": [names changed], "references": N, "instances":
 * {"moved": [...], "closed": [...]}}; ID is for crm_merge_undo.
 * CRM_ENOTFOUND when either record is missing or not readable by the actor
 * (one message for both), CRM_EINVAL for bad options or survivor ==
 * other, CRM_EPERM when the actor may not make one of the writes.
 */
CRM_EXTERN(int) crm_merge(crm_db *db, const char *form, int64_t survivor, int64_t other, const char *options_json,
			  char **out);

/**
 * Undo merge `merge_id`: `other` comes back with its id, values, owner and
 * creation time (its version one past the one it was deleted at), the
 * survivor's fields get their values from before the merge, references
 * and moved instances point at `other` again; audited like any write.
 * CRM_ENOTFOUND for an unknown merge (or one whose survivor the actor may
 * not read), CRM_EINVAL when it was undone already, CRM_ECONFLICT when a
 * later change makes undo unsafe (the survivor or a re-pointed record
 * changed, the other id is taken): nothing changes then.
 */
CRM_EXTERN(int) crm_merge_undo(crm_db *db, int64_t merge_id);

#ifdef __cplusplus
}
#endif
#endif
