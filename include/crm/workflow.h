/*
 * libcrm — workflow engine: JSON state machines bound to form records, with
 * Lua hooks and plugins, timers fired by crm_tick, approvals and decision
 * tables. Metadata reference: docs/workflow.md.
 *
 * Every transition is atomic: guard, record changes, actions, hooks, the
 * state change, timers, the history row and emitted events commit together
 * or not at all.
 */
#ifndef CRM_WORKFLOW_H
#define CRM_WORKFLOW_H

#include "form.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- definitions (same shapes as crm_form_list/crm_form_get) ---- */

/** A JSON array of {"workflow","version","label"} for every workflow (latest versions, by name), in *out (crm_free). */
CRM_EXTERN(int) crm_workflow_list(crm_db *db, char **out);
/** The latest stored definition of workflow `name`, in *out (crm_free); CRM_ENOTFOUND when there is none. */
CRM_EXTERN(int) crm_workflow_get(crm_db *db, const char *name, char **out);

/* ---- instances and transitions ---- */

/**
 * Start workflow `workflow` (its latest version) for record `record` of its
 * form, or free-standing (record 0, for a workflow without a form).
 * *out_instance (may be NULL) gets the instance id. CRM_EEXISTS when the
 * record already has an instance of this workflow.
 */
CRM_EXTERN(int) crm_workflow_start(crm_db *db, const char *workflow, int64_t record, int64_t *out_instance);
/**
 * Fire `event` on the record's active workflow instances whose current
 * state allows it. `fields` (a JSON object, may be NULL) is written to the
 * record first, in the same transaction (e.g. the budget a stage requires).
 * CRM_EINVAL when no instance allows the event (the message lists the
 * allowed ones), CRM_ECONSTRAINT when a guard or a state's required fields
 * refuse it; nothing changes then.
 */
CRM_EXTERN(int) crm_workflow_fire(crm_db *db, const char *form, int64_t record, const char *event,
				  const char *fields);
/** Fire `event` on one instance (free-standing workflows have no record). */
CRM_EXTERN(int) crm_workflow_fire_instance(crm_db *db, int64_t instance, const char *event, const char *fields);
/**
 * What a UI shows as buttons: for each active instance of the record, the
 * events its current state allows, as a JSON array of
 * {"instance","workflow","state","event","to","enabled","reason"} in *out
 * (crm_free); "enabled" is false when the guard or the target state's
 * required fields would refuse it now, "reason" says why.
 */
CRM_EXTERN(int) crm_workflow_events(crm_db *db, const char *form, int64_t record, char **out);
/**
 * The workflow instances (any status) of record `record` of `form`, as a
 * JSON array of {"id","workflow","version","state","status","started_at",
 * "entered_at"} in *out (crm_free). Free-standing instances have no
 * record: `form` NULL with `record` 0 lists them; `form` NULL with another
 * record is CRM_EINVAL (one instance: crm_workflow_instance_get).
 */
CRM_EXTERN(int) crm_workflow_instances(crm_db *db, const char *form, int64_t record, char **out);
/**
 * The history of the instances crm_workflow_instances lists for the same
 * arguments, oldest first, as a JSON array of
 * {"instance","workflow","at","event","from","to","actor","data"} in *out (crm_free).
 */
CRM_EXTERN(int) crm_workflow_history(crm_db *db, const char *form, int64_t record, char **out);
/**
 * Instance `instance` (bound to a record or free-standing) as a JSON object
 * shaped like an element of crm_workflow_instances plus "form" and "record"
 * (null when free-standing), in *out (crm_free). CRM_ENOTFOUND when there
 * is no such instance.
 */
CRM_EXTERN(int) crm_workflow_instance_get(crm_db *db, int64_t instance, char **out);
/** The history of instance `instance`, shaped like crm_workflow_history, in *out (crm_free); CRM_ENOTFOUND when there is no such instance. */
CRM_EXTERN(int) crm_workflow_instance_history(crm_db *db, int64_t instance, char **out);
/** The events instance `instance` allows now, shaped like crm_workflow_events ([] when it is finished), in *out (crm_free); CRM_ENOTFOUND when there is no such instance. */
CRM_EXTERN(int) crm_workflow_instance_events(crm_db *db, int64_t instance, char **out);
/**
 * Record the acting user's decision ("approve" or "reject"; a rejection
 * needs a `reason`) on the record's pending approval. CRM_EPERM when the
 * actor is not the approver the approval waits for.
 */
CRM_EXTERN(int) crm_workflow_decide(crm_db *db, const char *form, int64_t record, const char *decision,
				    const char *reason);
/**
 * Move the active instances of `workflow` that run an older version to the
 * latest one, mapping their states through the latest definition's
 * "migrate" member (a state that keeps its name maps to itself).
 * *out_count (may be NULL) gets how many moved. All or nothing.
 */
CRM_EXTERN(int) crm_workflow_migrate(crm_db *db, const char *workflow, int64_t *out_count);

/* ---- timers ---- */

/**
 * Fire every timer due at `now_ms` (milliseconds since the epoch; -1 for
 * the handle's clock), oldest first, each in its own transaction; timers
 * set during the tick wait for the next one. While it runs, the handle's
 * clock reads `now_ms`. A timer whose event is refused or whose script
 * fails (error, budget, Lua memory ceiling) is recorded in the instance's
 * history and dropped; a failure of the host (CRM_ENOMEM, CRM_EIO,
 * CRM_EBUSY) stops the tick and keeps the timer. Several processes may
 * tick one database at once: each timer fires exactly once. *out_fired
 * (may be NULL) gets the number of events fired. The host calls this;
 * libcrm runs no threads.
 */
CRM_EXTERN(int) crm_tick(crm_db *db, int64_t now_ms, int64_t *out_fired);

/* ---- decision tables ---- */

/**
 * Evaluate decision table `table` on `inputs_json` (an object of input
 * values). *out (crm_free) gets, for hit policy "first", the outputs object
 * of the first matching rule or null; for "collect", an array of the
 * outputs of every matching rule.
 */
CRM_EXTERN(int) crm_decision_eval(crm_db *db, const char *table, const char *inputs_json, char **out);
/** A JSON array of {"decision","version","label"} for every decision table, in *out (crm_free). */
CRM_EXTERN(int) crm_decision_list(crm_db *db, char **out);
/** The latest stored definition of decision table `name`, in *out (crm_free); CRM_ENOTFOUND when there is none. */
CRM_EXTERN(int) crm_decision_get(crm_db *db, const char *name, char **out);

#ifdef __cplusplus
}
#endif
#endif
