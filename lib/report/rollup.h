/* Rollup fields: a form's column holding an aggregate (count, sum, ...) of
 * the records of a child form that refer to it, checked after each
 * crm_apply and kept current on every write to the child. */
#ifndef CRM_REPORT_ROLLUP_H
#define CRM_REPORT_ROLLUP_H

#include "form/form_int.h"

/* The write-path hook (lib/hooks.c): after an insert, update or delete of
 * a record of a form that rollups aggregate, recompute the rollups of the
 * parents it left and joined. One pointer check when nothing targets it. */
int crm__rollup_after_write(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now);
/* 1 when a rollup aggregates records of `form` (or that cannot be told). */
int crm__rollup_watches(crm_db *db, const crm__form *form);

/* crm_form_check (lib/check.c): call `found` for each record of `form`
 * whose rollup field `field` differs from the aggregate of its child
 * records (drift from writes that bypassed libcrm). Stops at the first
 * non-zero return of `found`, and returns it. */
typedef int (*crm__rollup_stale_fn)(void *payload, int64_t id, const char *field);
int crm__rollup_stale(crm_db *db, const crm__form *form, crm__rollup_stale_fn found, void *payload);

/* crm_apply (lib/apply.c) notes each form a document changed ... */
int crm__rollup_form_changed(crm_db *db, const char *form);
/* ... and, once every document is in and `rc` is still CRM_OK, checks every
 * rollup against its child form and refills, in the same transaction, the
 * rollups whose form or child form changed. Returns rc, or the failure. */
int crm__rollup_after_apply(crm_db *db, int rc);

#endif
