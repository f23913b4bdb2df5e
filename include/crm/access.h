/*
 * libcrm — access control: who the following calls act as, and why an
 * operation is allowed or not. Permissions live in form metadata
 * ("permissions", docs/access.md); every engine enforces them for the
 * current actor. A handle starts as the system actor, to whom no rule
 * applies, so hosts that never set an actor see no change.
 */
#ifndef CRM_ACCESS_H
#define CRM_ACCESS_H

#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Act as the actor described by `actor_json` for the following calls:
 *   {"user": "ann", "roles": ["rep"], "attrs": {"team": "north", "regions": ["north", "east"]}}
 * attrs values: string, integer, boolean, or an array of strings/integers
 * (at most 256 items). {"system": true, "user": "sync"} (user optional) or
 * NULL: the system actor, the trusted host, to whom no permission rule
 * applies (a named system actor is still named in audit rows). Bad JSON,
 * unknown keys, wrong types or sizes past the limits (docs/access.md):
 * CRM_EINVAL, and the previous actor stays. Strings are copied.
 */
CRM_EXTERN(int) crm_actor_set_json(crm_db *db, const char *actor_json);
/**
 * The current actor as JSON in *out (crm_free):
 * {"user": U or null, "roles": [...], "attrs": {...}, "system": bool}.
 */
CRM_EXTERN(int) crm_actor_json(crm_db *db, char **out);
/**
 * Explain whether the current actor may do `verb` to `form` (and record
 * `id`, or 0 for the form as a whole). verb: "read", "create", "update",
 * "delete", or "fire:EVENT". *out (crm_free):
 * {"allowed": bool, "reason": "allowed by rule 1 of role rep" | "denied: no rule of roles [rep] grants
 *  delete on deal" | "denied by the rows of rule 2 of role sales" | ..., "rules": [...matching rules]}.
 * A record the actor may not read is explained as "no such record", as if
 * it did not exist.
 */
CRM_EXTERN(int) crm_access_explain(crm_db *db, const char *verb, const char *form, int64_t id, char **out);

#ifdef __cplusplus
}
#endif
#endif
