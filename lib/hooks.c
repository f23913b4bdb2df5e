/* The write-path hooks of the engines above the form engine, linked here at
 * the top so lower layers call up without depending on upper headers. */
#include "audit/entries.h"
#include "form/form_int.h"
#include "io/dedup.h"
#include "report/rollup.h"
#include "script/script.h"
#include "workflow/decision.h"
#include "workflow/workflow_int.h"

/* The audit entry first, so the chain lists a write before what it set
 * off; duplicate keys next (a blocked insert fails before anything else
 * runs); rollups next, so workflow hooks that read a parent see its new totals. */
static int after_write(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now)
{
	int rc = crm__audit_after_write(db, w, old, now);

	if (rc == CRM_OK)
		rc = crm__dedup_after_write(db, w, old, now);
	if (rc == CRM_OK)
		rc = crm__rollup_after_write(db, w, old, now);
	return rc ? rc : crm__workflow_after_write(db, w, old, now);
}

static int watches_inserts(crm_db *db, const crm__form *form)
{
	return crm__dedup_watches(form) || crm__rollup_watches(db, form) || crm__workflow_watches(db, form);
}

const crm__write_hooks crm__hooks = {
	.compute = crm__script_compute,
	.after_write = after_write,
	.watches_inserts = watches_inserts,
	.validate = crm__script_validate,
	.sandbox_ready = crm__decision_lua_register,
	.insert_queued = crm__audit_insert_queued,
};
