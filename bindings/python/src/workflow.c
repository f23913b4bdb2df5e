/* Workflows, approvals, timers and decision tables: arguments as Python
 * values (fields and inputs encoded as JSON), results parsed from libcrm's
 * JSON. */
#include "binding.h"

static int start(crm_db *db, pycall *a) { return crm_workflow_start(db, a->s[0], a->i[0], &a->out_i); }
static int fire(crm_db *db, pycall *a) { return crm_workflow_fire(db, a->s[0], a->i[0], a->s[1], a->j[0]); }
static int fire_instance(crm_db *db, pycall *a) { return crm_workflow_fire_instance(db, a->i[0], a->s[0], a->j[0]); }
/* The (form, record) listings: events, instances, history. */
static int events(crm_db *db, pycall *a) { return crm_workflow_events(db, a->s[0], a->i[0], &a->out); }
static int instances(crm_db *db, pycall *a) { return crm_workflow_instances(db, a->s[0], a->i[0], &a->out); }
static int history(crm_db *db, pycall *a) { return crm_workflow_history(db, a->s[0], a->i[0], &a->out); }
/* The one-instance lookups. */
static int instance(crm_db *db, pycall *a) { return crm_workflow_instance_get(db, a->i[0], &a->out); }
static int instance_history(crm_db *db, pycall *a) { return crm_workflow_instance_history(db, a->i[0], &a->out); }
static int instance_events(crm_db *db, pycall *a) { return crm_workflow_instance_events(db, a->i[0], &a->out); }
static int approve(crm_db *db, pycall *a) { return crm_workflow_decide(db, a->s[0], a->i[0], "approve", NULL); }
static int reject(crm_db *db, pycall *a) { return crm_workflow_decide(db, a->s[0], a->i[0], "reject", a->s[1]); }
static int tick(crm_db *db, pycall *a) { return crm_tick(db, a->i[0], &a->out_i); }
static int migrate(crm_db *db, pycall *a) { return crm_workflow_migrate(db, a->s[0], &a->out_i); }
static int decide(crm_db *db, pycall *a)
{
	return crm_decision_eval(db, a->s[0], a->j[0] ? a->j[0] : "{}", &a->out);
}

static char *start_names[] = { "workflow", "record", NULL };
static char *fire_names[] = { "form", "record", "event", "fields", NULL };
static char *fire_instance_names[] = { "instance", "event", "fields", NULL };

PYCALL_KEYWORDS(conn_start, "s|L", start_names, 'i', start)
PYCALL_KEYWORDS(conn_fire, "sLs|j", fire_names, 'v', fire)
PYCALL_KEYWORDS(conn_fire_instance, "Ls|j", fire_instance_names, 'v', fire_instance)
PYCALL_VARARGS(conn_events, "|zL", 'j', events)
PYCALL_VARARGS(conn_instances, "|zL", 'j', instances)
PYCALL_VARARGS(conn_history, "|zL", 'j', history)
PYCALL_O(conn_instance, 'j', instance)
PYCALL_O(conn_instance_history, 'j', instance_history)
PYCALL_O(conn_instance_events, 'j', instance_events)
PYCALL_VARARGS(conn_approve, "sL", 'v', approve)
PYCALL_VARARGS(conn_reject, "sLs", 'v', reject)
PYCALL_VARARGS(conn_tick, "|T", 'i', tick)
PYCALL_VARARGS(conn_migrate, "s", 'i', migrate)
PYCALL_VARARGS(conn_decide, "sj", 'j', decide)

PyMethodDef workflow_methods[] = {
	{ "start", (PyCFunction)(void (*)(void))conn_start, METH_VARARGS | METH_KEYWORDS,
	  "start($self, workflow, record=0)\n--\n\nStart `workflow` for `record` (0: free-standing); returns the "
	  "instance id (ExistsError when the record has one)." },
	{ "fire", (PyCFunction)(void (*)(void))conn_fire, METH_VARARGS | METH_KEYWORDS,
	  "fire($self, form, record, event, fields=None)\n--\n\nFire `event` on the record's workflows, writing "
	  "`fields` first in the same transaction." },
	{ "fire_instance", (PyCFunction)(void (*)(void))conn_fire_instance, METH_VARARGS | METH_KEYWORDS,
	  "fire_instance($self, instance, event, fields=None)\n--\n\nFire `event` on one instance." },
	{ "events", (PyCFunction)conn_events, METH_VARARGS,
	  "events($self, form=None, record=0, /)\n--\n\nThe events the record's workflows allow now (buttons of a UI)." },
	{ "instances", (PyCFunction)conn_instances, METH_VARARGS,
	  "instances($self, form=None, record=0, /)\n--\n\nThe workflow instances of a record (form None: "
	  "free-standing ones)." },
	{ "history", (PyCFunction)conn_history, METH_VARARGS,
	  "history($self, form=None, record=0, /)\n--\n\nThe transitions of those instances, oldest first." },
	{ "instance", (PyCFunction)conn_instance, METH_O, "instance($self, id, /)\n--\n\nOne workflow instance." },
	{ "instance_history", (PyCFunction)conn_instance_history, METH_O,
	  "instance_history($self, id, /)\n--\n\nThe history of one instance." },
	{ "instance_events", (PyCFunction)conn_instance_events, METH_O,
	  "instance_events($self, id, /)\n--\n\nThe events one instance allows now." },
	{ "approve", (PyCFunction)conn_approve, METH_VARARGS,
	  "approve($self, form, record, /)\n--\n\nApprove the record's pending approval as the current actor." },
	{ "reject", (PyCFunction)conn_reject, METH_VARARGS,
	  "reject($self, form, record, reason, /)\n--\n\nReject the record's pending approval, with a reason." },
	{ "tick", (PyCFunction)conn_tick, METH_VARARGS,
	  "tick($self, now=None, /)\n--\n\nFire the timers due at `now` (ms or aware datetime; None: the "
	  "connection's clock); returns how many events fired." },
	{ "migrate_workflow", (PyCFunction)conn_migrate, METH_VARARGS,
	  "migrate_workflow($self, workflow, /)\n--\n\nMove active instances to the latest version; returns how many." },
	{ "decide", (PyCFunction)conn_decide, METH_VARARGS,
	  "decide($self, table, inputs, /)\n--\n\nEvaluate decision table `table` on the dict `inputs`." },
	{ NULL },
};
