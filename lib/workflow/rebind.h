/* Workflow instances changing records, for merge and its undo (lib/io/merge.c):
 * the narrow part of the workflow engine they need (lib/workflow/rebind.c). */
#ifndef CRM_LIB_WORKFLOW_REBIND_H
#define CRM_LIB_WORKFLOW_REBIND_H

#include "core/db_int.h"

/* Record `from` of `form` merges into `to`: each of its instances whose
 * workflow `to` has no instance of moves to `to` (its id appended to
 * `moved`, as JSON numbers separated by commas); the active others are
 * appended to `closed` (the delete of `from` ends them). Each move is a
 * "(merge)" history row. */
int crm__wf_merge_instances(crm_db *db, const char *form, int64_t from, int64_t to, crm__buf *moved, crm__buf *closed);
/* Move instances `ids` of `form` from record `from` back to `to` (a
 * "(merge undone)" history row each); CRM_ECONFLICT, changing nothing,
 * when one is no longer an instance of `from`. */
int crm__wf_move_back(crm_db *db, const char *form, const int64_t *ids, int n, int64_t from, int64_t to);

#endif
