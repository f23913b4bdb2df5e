/* The audit entries of record writes, for the write-path hooks
 * (lib/hooks.c); lib/audit/entries.c. */
#ifndef CRM_LIB_AUDIT_ENTRIES_H
#define CRM_LIB_AUDIT_ENTRIES_H

#include "form/form_int.h"

/* After a record write, in its transaction: the entry (insert: the values;
 * update: {"field": [before, after]} for the fields that changed, computed
 * ones included; delete: the values before; revert: {"to_version",
 * "changes"}). Nothing for a form that says "audit": false. */
int crm__audit_after_write(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now);
/* A queued insert (write-path hook insert_queued): its entry is made now
 * and appended once the backend tells the new id. */
int crm__audit_insert_queued(crm_db *db, const crm__write *w, crm__queued_fn *done, void **payload);

#endif
