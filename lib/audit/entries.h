/* The audit entries of record writes, for the write-path hooks
 * (lib/hooks.c); lib/audit/entries.c. */
#ifndef CRM_LIB_AUDIT_ENTRIES_H
#define CRM_LIB_AUDIT_ENTRIES_H

#include "form/form_int.h"

/* The one encoding of record write `w` (lib/hooks.c makes it once for
 * the audit entry and the event), in *data: insert: {"field": value, ...,
 * "owner": ...}, the values as stored; delete: the same, before; update (a
 * revert too): {"field": [before, after]} for the fields that changed
 * (computed ones included, rollups not: they follow from the child
 * records' own changes) and the owner when it did. `compact` (only where
 * crm__audit_compacts): the insert's or delete's values as a JSON array,
 * their names in *fields as another (owner's last; docs/audit.md, "How
 * entries are stored"); else *fields is NULL. Both are the handle's
 * buffers, valid until its next encoding. CRM_OK or CRM_ENOMEM (set on db). */
int crm__audit_encode(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now, int compact,
		      const crm__buf **data, const crm__buf **fields);
/* Whether write `w`'s entry may be compact (an insert or a delete). */
int crm__audit_compacts(const crm__write *w);
/* Whether the entry of write `w` holds its encoding as it is (every
 * entry but a revert's, which wraps it): the event of the write may then
 * show the entry instead of a copy (lib/hooks.c). */
int crm__audit_holds_encoding(const crm__write *w);
/* After a record write, in its transaction: its audit entry from its
 * encoding (revert: {"to_version", "changes"}). The caller checks that
 * the form is audited. `fields`: NULL, or the names of a compact
 * encoding's values. `id_out` (may be NULL; only for an entry that holds
 * the encoding) as crm__audit_append's. */
int crm__audit_record(crm_db *db, const crm__write *w, const char *data, size_t len, const crm__buf *fields,
		      int64_t *id_out);
/* A queued insert (write-path hook insert_queued): its entry is made now
 * and appended once the backend tells the new id. `fields` (may be NULL)
 * as crm__audit_record's. */
int crm__audit_record_queued(crm_db *db, const crm__write *w, const char *data, size_t len, const crm__buf *fields,
			     int64_t *id_out, crm__queued_fn *done, void **payload);

#endif
