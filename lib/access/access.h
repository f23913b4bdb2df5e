/* Access control for the engines: the current actor, the permission rules
 * compiled from form metadata, and what they mean for one form and one call
 * (docs/access.md). Engines ask here, never read the rules themselves, so
 * every path answers alike: a record the actor may not read is a missing
 * one, a hidden field is refused where it would be used, and every row
 * restriction is plain WHERE terms compiled by the filter compiler. */
#ifndef CRM_ACCESS_ACCESS_H
#define CRM_ACCESS_ACCESS_H

#include <cJSON.h>

#include "store/filter.h"

/* What a rule may grant. */
typedef enum crm__access_op {
	CRM__ACCESS_READ = 0,
	CRM__ACCESS_CREATE,
	CRM__ACCESS_UPDATE,
	CRM__ACCESS_DELETE,
	CRM__ACCESS_OPS_
} crm__access_op;
/* "read", "create", "update", "delete". */
const char *crm__access_op_name(crm__access_op op);

/* ---- the actor (lib/access/actor.c) ---- */

/* 1 when no rule applies to the current actor: the system actor, or code
 * running as the system (run_as system, timers). */
int crm__actor_is_system(const crm_db *db);
/* Run as the system actor until crm__actor_system_end(db, saved) (nests):
 * workflows with "run_as": "system", timers. The user stays named (audit,
 * history). Returns what to give crm__actor_system_end. */
int crm__actor_system_begin(crm_db *db);
void crm__actor_system_end(crm_db *db, int saved);
/* The actor's value called `name` in a rule ("user", "roles" or an
 * attribute), borrowed; NULL when the actor has none. */
const cJSON *crm__actor_value(crm_db *db, const char *name);
/* Whether the actor holds `role`; `role` NULL or "*": any non-system actor. */
int crm__actor_has_role(const crm_db *db, const char *role);

/* ---- rules in metadata (lib/access/rules.c) ---- */

/* Compile the "permissions" member of a form definition (`perms`, may be
 * NULL: the form is open) onto `form` (its fields compiled already).
 * Unknown names, ops and bad shapes: CRM_EINVAL with the "path"
 * ("permissions[1].rows.field"), prefixed by "form NAME: ". */
int crm__access_compile(crm_db *db, crm__form *form, const cJSON *perms);
/* After a batch of definitions: the "visible" chains that start at form
 * `name` end within 4 steps and have no cycle; their refs name forms. */
int crm__access_check_chains(crm_db *db, const char *name);
/* Whether `s` may name an actor attribute (letters, digits, '_'). */
int crm__access_valid_attr(const char *s);

/* ---- the actor's view of one form, for one call (lib/access/view.c) ---- */

typedef struct crm__access crm__access;
/* The current actor's access to `form` in *out (crm__access_free), or
 * NULL when nothing is restricted: the system actor, or a form without
 * permissions. Rules the actor's roles do not take, or that name an
 * attribute the actor lacks, are left out here once. */
int crm__access_open(crm_db *db, const crm__form *form, crm__access **out);
void crm__access_free(crm__access *a);
/* Whether some rule grants `op` (NULL `a`: yes). */
int crm__access_grants(const crm__access *a, crm__access_op op);
/* Whether column `column` (field position or enum crm__syscol) is readable
 * (NULL `a`: yes). A field is readable when some rule granting read does
 * not hide it; only fields and `owner` can be hidden. */
int crm__access_readable(const crm__access *a, int column);
/* The readable flags per field position, then owner; NULL for NULL `a`. */
const unsigned char *crm__access_readable_mask(const crm__access *a);
/* CRM_EPERM "field 'x' is hidden", detail {"field": x, "reason": "hidden"}. */
int crm__access_hidden_error(crm_db *db, const crm__form *form, int column);
/* CRM_OK when every column `f` (may be NULL) names is readable, else the
 * hidden error for the first one: filters inside not/or included. */
int crm__access_filter_readable(crm_db *db, const crm__access *a, const crm__form *form, const crm__filter *f);
/* Append the boolean SQL expression of the rows `op` reaches: the union of
 * the granting rules' rows ("FALSE" when none grants; update and delete
 * also need read). Columns qualified with `alias` (may be NULL), literals
 * bound through `binds` (they point into `a`: keep it until the statement
 * is reset). NULL `a` appends "TRUE". */
void crm__access_where_sql(const crm__access *a, crm__access_op op, const crm__dialect *d, crm__buf *sql,
			   crm__binds *binds, const char *alias);
/* The one call most readers need: open the view of `form`, and when it
 * restricts, append `conj` (" AND ", " WHERE ") and the rows `op` reaches
 * to `sql`. *hold gets the view (crm__access_free it after the statement is
 * done with its binds), NULL when nothing was appended. */
int crm__access_restrict(crm_db *db, const crm__form *form, crm__access_op op, const char *alias, const char *conj,
			 crm__buf *sql, crm__binds *binds, crm__access **hold);
/* Whether record `id` is among the rows `op` reaches: *out 1 or 0 (NULL
 * `a`: 1 when it exists). */
int crm__access_row(crm_db *db, const crm__access *a, crm__access_op op, const crm__form *form, int64_t id, int *out);

/* ---- writes (lib/access/write.c), for the one write path ---- */

#define CRM__ACCESS_MAX_RULES 100 /* rules one form may have */
/* A write as the checks see it. */
typedef struct crm__access_change {
	int64_t id;                 /* update, delete: the record */
	const crm__row *old;        /* update, delete: the record as stored; NULL for an insert */
	const unsigned char *given; /* per field position: written (insert, update) */
	const crm__value *values;   /* per field position: the values given */
	int owner_given;
	const crm__value *owner;
} crm__access_change;
/* Before anything is computed: the record must be readable (else the
 * missing-record answer, CRM_ENOTFOUND), `op` granted, and some rule must
 * reach the stored row and leave every written field writable (else
 * CRM_EPERM: "denied ...", or "field 'x' is read-only" with detail
 * {"field","reason"}). `cand` (CRM__ACCESS_MAX_RULES) gets those rules. */
int crm__access_write_begin(crm_db *db, const crm__access *a, crm__access_op op, const crm__access_change *c,
			    unsigned char *cand);
/* With the row as it would be stored: some rule of `cand` has its check
 * hold on it (WITH CHECK), else CRM_EPERM. */
int crm__access_write_check(crm_db *db, const crm__access *a, const crm__row *now, const unsigned char *cand);
/* Whether the record in `row` is readable for the actor (NULL `a`: yes). */
int crm__access_row_readable(crm_db *db, const crm__access *a, const crm__row *row, int *out);

/* Whether the actor may fire `event` on record `id` of `form`
 * (lib/access/explain.c): the record readable (else the missing-record
 * answer) and a rule granting the event reaching it (else CRM_EPERM). */
int crm__access_may_fire(crm_db *db, crm__form *form, int64_t id, const char *event);

/* ---- denials (lib/access/view.c) ---- */

/* The one place a denied write is reported (the audit trail records it):
 * `op` is "create", "update", "delete" or "fire:EVENT", `reason` what the
 * caller's error says. Returns `code` with the db error left as set. */
int crm__access_denied(crm_db *db, const crm__form *form, int64_t id, const char *op, int code);

#endif
