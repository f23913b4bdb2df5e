/* The write-path hooks of the engines above the form engine, linked here at
 * the top so lower layers call up without depending on upper headers. */
#include "form/form_int.h"
#include "script/script.h"
#include "workflow/decision.h"
#include "workflow/workflow_int.h"

const crm__write_hooks crm__hooks = {
	.compute = crm__script_compute,
	.after_write = crm__workflow_after_write,
	.sandbox_ready = crm__decision_lua_register,
};
