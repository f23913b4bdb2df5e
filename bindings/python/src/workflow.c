/* Workflows, approvals, timers and decision tables: arguments as Python
 * values (fields and inputs encoded as JSON), results parsed from libcrm's
 * JSON. */
#include "binding.h"

static PyObject *conn_start(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "workflow", "record", NULL };
	const char *wf;
	long long record = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|L", names, &wf, &record))
		return NULL;
	int64_t id = 0;
	int rc;
	CRM_CALL(c, rc, crm_workflow_start(c->db, wf, record, &id));
	return PyLong_FromLongLong(id);
}

static PyObject *conn_fire(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "form", "record", "event", "fields", NULL };
	const char *form, *event, *json;
	long long record;
	PyObject *fields = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "sLs|O", names, &form, &record, &event, &fields))
		return NULL;
	Buf b = { 0 };
	if (json_arg(&b, fields, &json) < 0)
		return NULL;
	int rc;
	CRM_RUN(c, rc, crm_workflow_fire(c->db, form, record, event, json));
	buf_free(&b);
	if (rc != CRM_OK)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *conn_fire_instance(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "instance", "event", "fields", NULL };
	const char *event, *json;
	long long instance;
	PyObject *fields = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "Ls|O", names, &instance, &event, &fields))
		return NULL;
	Buf b = { 0 };
	if (json_arg(&b, fields, &json) < 0)
		return NULL;
	int rc;
	CRM_RUN(c, rc, crm_workflow_fire_instance(c->db, instance, event, json));
	buf_free(&b);
	if (rc != CRM_OK)
		return NULL;
	Py_RETURN_NONE;
}

/* The (form, record) listings: events, instances, history. */
static PyObject *record_listing(Connection *c, PyObject *args, int (*fn)(crm_db *, const char *, int64_t, char **))
{
	const char *form = NULL;
	long long record = 0;
	if (!PyArg_ParseTuple(args, "|zL", &form, &record))
		return NULL;
	char *out = NULL;
	int rc;
	CRM_CALL(c, rc, fn(c->db, form, record, &out));
	return json_result(out);
}

static PyObject *conn_events(Connection *c, PyObject *args)
{
	return record_listing(c, args, crm_workflow_events);
}

static PyObject *conn_instances(Connection *c, PyObject *args)
{
	return record_listing(c, args, crm_workflow_instances);
}

static PyObject *conn_history(Connection *c, PyObject *args)
{
	return record_listing(c, args, crm_workflow_history);
}

/* The one-instance lookups: instance, instance_history, instance_events. */
static PyObject *instance_call(Connection *c, PyObject *arg, int (*fn)(crm_db *, int64_t, char **))
{
	long long id = PyLong_AsLongLong(arg);
	if (id == -1 && PyErr_Occurred())
		return NULL;
	char *out = NULL;
	int rc;
	CRM_CALL(c, rc, fn(c->db, id, &out));
	return json_result(out);
}

static PyObject *conn_instance(Connection *c, PyObject *arg)
{
	return instance_call(c, arg, crm_workflow_instance_get);
}

static PyObject *conn_instance_history(Connection *c, PyObject *arg)
{
	return instance_call(c, arg, crm_workflow_instance_history);
}

static PyObject *conn_instance_events(Connection *c, PyObject *arg)
{
	return instance_call(c, arg, crm_workflow_instance_events);
}

static PyObject *decide_call(Connection *c, const char *form, long long record, const char *decision,
			     const char *reason)
{
	int rc;
	CRM_CALL(c, rc, crm_workflow_decide(c->db, form, record, decision, reason));
	Py_RETURN_NONE;
}

static PyObject *conn_approve(Connection *c, PyObject *args)
{
	const char *form;
	long long record;
	if (!PyArg_ParseTuple(args, "sL", &form, &record))
		return NULL;
	return decide_call(c, form, record, "approve", NULL);
}

static PyObject *conn_reject(Connection *c, PyObject *args)
{
	const char *form, *reason;
	long long record;
	if (!PyArg_ParseTuple(args, "sLs", &form, &record, &reason))
		return NULL;
	return decide_call(c, form, record, "reject", reason);
}

static PyObject *conn_tick(Connection *c, PyObject *args)
{
	PyObject *when = Py_None;
	if (!PyArg_ParseTuple(args, "|O", &when))
		return NULL;
	int64_t ms = -1, fired = 0;
	if (when != Py_None && to_ms(when, &ms) < 0)
		return NULL;
	int rc;
	CRM_CALL(c, rc, crm_tick(c->db, ms, &fired));
	return PyLong_FromLongLong(fired);
}

static PyObject *conn_migrate(Connection *c, PyObject *args)
{
	const char *wf;
	if (!PyArg_ParseTuple(args, "s", &wf))
		return NULL;
	int64_t n = 0;
	int rc;
	CRM_CALL(c, rc, crm_workflow_migrate(c->db, wf, &n));
	return PyLong_FromLongLong(n);
}

static PyObject *conn_decide(Connection *c, PyObject *args)
{
	const char *table, *json;
	PyObject *inputs;
	if (!PyArg_ParseTuple(args, "sO", &table, &inputs))
		return NULL;
	Buf b = { 0 };
	if (json_arg(&b, inputs, &json) < 0)
		return NULL;
	char *out = NULL;
	int rc;
	CRM_RUN(c, rc, crm_decision_eval(c->db, table, json ? json : "{}", &out));
	buf_free(&b);
	return rc == CRM_OK ? json_result(out) : NULL;
}

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
