/* Decision tables ("region x product line -> owner and priority"): JSON
 * metadata of kind "decision", stored versioned in crm_meta, compiled once
 * per handle and evaluated from workflow guards and actions, C and Lua. */
#ifndef CRM_WORKFLOW_DECISION_H
#define CRM_WORKFLOW_DECISION_H

#include <cJSON.h>

#include "core/db_int.h"

/* Apply one {"decision": ...} document (crm_apply, in its transaction):
 * check it, and store it as a new version unless it is identical to the
 * latest one. Errors are CRM_EINVAL with a "path" in the detail. */
int crm__decision_apply(crm_db *db, const cJSON *doc);

/* Evaluate table `table` on `inputs` (a JSON object: extra members are
 * ignored; NULL means no inputs). On success *out (cJSON_Delete it) is,
 * for hit policy "first", a copy of the first matching rule's outputs
 * object or a JSON null; for "collect", an array of the outputs of every
 * matching rule, in rule order. CRM_ENOTFOUND for an unknown table,
 * CRM_EINVAL when `inputs` is not an object. */
int crm__decide(crm_db *db, const char *table, const cJSON *inputs, cJSON **out);

/* Add crm.decide(table, inputs) to the handle's Lua `crm` module (creates
 * the sandbox when there is none yet). */
int crm__decision_lua_register(crm_db *db);

/* ---- internals shared by decision_define.c and decision_eval.c ---- */

#define CRM__DECISION_MAX_RULES 1000
#define CRM__DECISION_MAX_IO 100    /* inputs, and outputs */
#define CRM__DECISION_MAX_LIST 1000 /* values of one array / "in" list */

/* One input value, or one literal of a condition. Text is borrowed. */
typedef enum crm__dkind {
	CRM__D_MISSING, /* absent or null */
	CRM__D_BOOL,
	CRM__D_NUM,
	CRM__D_STR,
	CRM__D_OTHER /* an array or object: only "*", ne and absent conditions match it */
} crm__dkind;

typedef struct crm__dval {
	crm__dkind kind;
	int b;
	double d;
	const char *s;
	size_t n;
} crm__dval;

typedef enum crm__dop {
	CRM__DOP_EQ,
	CRM__DOP_NE,
	CRM__DOP_LT,
	CRM__DOP_LE,
	CRM__DOP_GT,
	CRM__DOP_GE,
	CRM__DOP_IN,
	CRM__DOP_BETWEEN
} crm__dop;

/* One condition of a rule on one input ("*" conditions are not kept). */
typedef struct crm__dcond {
	int input; /* index into the table's inputs */
	crm__dop op;
	crm__dval *values; /* 1, or the list (in), or low and high (between) */
	int nvalues;
} crm__dcond;

typedef struct crm__drule {
	crm__dcond *conds;
	int nconds;
	const cJSON *then; /* the outputs object, inside the definition */
	char *then_json;   /* its text (cJSON_free) */
} crm__drule;

typedef struct crm__dname {
	const char *name;
	int index;
} crm__dname;

/* A compiled table. Names and text literals point into the definition. */
typedef struct crm__dtable {
	const char *name;
	int64_t version;
	int collect; /* hit policy: 0 "first", 1 "collect" */
	const char **inputs;
	int ninputs;
	crm__dname *by_name; /* inputs sorted by name, for lookups */
	const char **outputs;
	int noutputs;
	crm__drule *rules;
	int nrules;
	cJSON *owned; /* the definition, when the table owns it */
} crm__dtable;

/* Check and compile a definition. The table borrows from `def` (which must
 * outlive it unless stored in ->owned). Errors CRM_EINVAL with a path. */
int crm__decision_compile(crm_db *db, const cJSON *def, crm__dtable **out);
void crm__decision_free(crm__dtable *t);
/* Compile the latest stored version of `name` (owned definition).
 * CRM_ENOTFOUND when there is none. */
int crm__decision_load(crm_db *db, const char *name, crm__dtable **out);

#endif
