/* The calls of the workflow engine, decision tables and plugins. */
#include "addon.h"

static int wf_list(crm_db *db, ncall *a) { return crm_workflow_list(db, &a->out); }
static int wf_get(crm_db *db, ncall *a) { return crm_workflow_get(db, a->s[0], &a->out); }
static int wf_start(crm_db *db, ncall *a) { return crm_workflow_start(db, a->s[0], a->i[0], &a->out_i); }
static int fire(crm_db *db, ncall *a) { return crm_workflow_fire(db, a->s[0], a->i[0], a->s[1], a->s[2]); }
static int fire_instance(crm_db *db, ncall *a) { return crm_workflow_fire_instance(db, a->i[0], a->s[0], a->s[1]); }
static int events(crm_db *db, ncall *a) { return crm_workflow_events(db, a->s[0], a->i[0], &a->out); }
static int instances(crm_db *db, ncall *a) { return crm_workflow_instances(db, a->s[0], a->i[0], &a->out); }
static int history(crm_db *db, ncall *a) { return crm_workflow_history(db, a->s[0], a->i[0], &a->out); }
static int instance_get(crm_db *db, ncall *a) { return crm_workflow_instance_get(db, a->i[0], &a->out); }
static int instance_history(crm_db *db, ncall *a) { return crm_workflow_instance_history(db, a->i[0], &a->out); }
static int instance_events(crm_db *db, ncall *a) { return crm_workflow_instance_events(db, a->i[0], &a->out); }
static int decide(crm_db *db, ncall *a) { return crm_workflow_decide(db, a->s[0], a->i[0], a->s[1], a->s[2]); }
static int migrate(crm_db *db, ncall *a) { return crm_workflow_migrate(db, a->s[0], &a->out_i); }
static int tick(crm_db *db, ncall *a) { return crm_tick(db, a->i[0], &a->out_i); }
static int decision_eval(crm_db *db, ncall *a) { return crm_decision_eval(db, a->s[0], a->s[1], &a->out); }
static int decision_list(crm_db *db, ncall *a) { return crm_decision_list(db, &a->out); }
static int decision_get(crm_db *db, ncall *a) { return crm_decision_get(db, a->s[0], &a->out); }
static int plugin_list(crm_db *db, ncall *a) { return crm_plugin_list(db, &a->out); }
static int plugin_get(crm_db *db, ncall *a) { return crm_plugin_get(db, a->s[0], &a->out); }

const ncall_def ncalls_workflow[] = {
	{"workflowList", "", 'j', wf_list},
	{"workflowGet", "s", 'j', wf_get},
	{"workflowStart", "si", 'i', wf_start},
	{"fire", "sisj", 'v', fire},
	{"fireInstance", "isj", 'v', fire_instance},
	{"events", "si", 'j', events},
	{"instances", "Si", 'j', instances},
	{"history", "Si", 'j', history},
	{"instanceGet", "i", 'j', instance_get},
	{"instanceHistory", "i", 'j', instance_history},
	{"instanceEvents", "i", 'j', instance_events},
	{"decide", "sisS", 'v', decide},
	{"workflowMigrate", "s", 'i', migrate},
	{"tick", "i", 'i', tick},
	{"decisionEval", "sj", 'j', decision_eval},
	{"decisionList", "", 'j', decision_list},
	{"decisionGet", "s", 'j', decision_get},
	{"pluginList", "", 'j', plugin_list},
	{"pluginGet", "s", 'j', plugin_get},
	{NULL, NULL, 0, NULL},
};
