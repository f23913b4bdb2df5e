/* The event stream: listing, head, prune, and named consumers (the Python
 * layer's Consumer iterates them). */
#include "binding.h"

static PyObject *conn_event_list(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "after", "limit", NULL };
	long long after = 0;
	int limit = 100;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|Li", names, &after, &limit))
		return NULL;
	char *out = NULL;
	int rc;
	CRM_CALL(c, rc, crm_event_list(c->db, after, limit, &out));
	return json_result(out);
}

static PyObject *conn_event_head(Connection *c, PyObject *unused)
{
	int64_t seq = 0;
	int rc;
	CRM_CALL(c, rc, crm_event_head(c->db, &seq));
	return PyLong_FromLongLong(seq);
}

static PyObject *conn_event_prune(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "older_than", NULL };
	long long older = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|L", names, &older))
		return NULL;
	int64_t n = 0;
	int rc;
	CRM_CALL(c, rc, crm_event_prune(c->db, older, &n));
	return PyLong_FromLongLong(n);
}

static PyObject *conn_consumer_set(Connection *c, PyObject *args)
{
	const char *name, *json;
	PyObject *opts = Py_None;
	if (!PyArg_ParseTuple(args, "s|O", &name, &opts))
		return NULL;
	Buf b = { 0 };
	if (json_arg(&b, opts, &json) < 0)
		return NULL;
	int rc;
	CRM_RUN(c, rc, crm_consumer_set(c->db, name, json ? json : "{}"));
	buf_free(&b);
	if (rc != CRM_OK)
		return NULL;
	Py_RETURN_NONE;
}

/* Column i of an event of a row read as crm_consumer_read's JSON gave it
 * (libcrm._util.loads): the payload parsed the same way (its documented
 * time members as datetimes), or its text when it is not JSON (edited by
 * hand); the rest as any row's values (`at` an aware datetime). */
static PyObject *event_value(crm_row *row, int i)
{
	if (i != 7)
		return row_value(row, i);
	PyObject *s = PyUnicode_DecodeUTF8(crm_row_text(row, i), (Py_ssize_t)crm_row_bytes(row, i), "strict");
	PyObject *r = s ? PyObject_CallOneArg(st.loads, s) : NULL;
	if (!r && s && PyErr_ExceptionMatches(PyExc_ValueError)) {
		PyErr_Clear();
		return s;
	}
	Py_XDECREF(s);
	return r;
}

/* The events of a row read (crm_consumer_read_rows) as a list of dicts
 * with crm_consumer_read's keys, built from the columns (no JSON text is
 * made or parsed but the payloads). */
static PyObject *event_dicts(crm_event_cursor *cur)
{
	static const char *const keys[8] = { "seq", "at", "name", "form", "record", "instance", "actor", "payload" };
	crm_row *row = crm_event_cursor_row(cur);
	PyObject *names[8] = { NULL }, *list = PyList_New(0);

	for (int i = 0; list && i < 8; i++)
		if (!(names[i] = PyUnicode_InternFromString(keys[i])))
			Py_CLEAR(list);
	while (list && crm_event_cursor_next(cur) == CRM_ROW) {
		PyObject *d = PyDict_New();
		for (int i = 0; d && i < 8; i++) {
			PyObject *v = event_value(row, i);
			if (!v || PyDict_SetItem(d, names[i], v) < 0)
				Py_CLEAR(d);
			Py_XDECREF(v);
		}
		if (!d || PyList_Append(list, d) < 0)
			Py_CLEAR(list);
		Py_XDECREF(d);
	}
	for (int i = 0; i < 8; i++)
		Py_XDECREF(names[i]);
	return list;
}

static PyObject *conn_consumer_read(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "name", "limit", NULL };
	const char *name;
	int limit = 100;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|i", names, &name, &limit))
		return NULL;
	crm_event_cursor *cur = NULL;
	int rc;
	CRM_CALL(c, rc, crm_consumer_read_rows(&cur, c->db, name, limit));
	PyObject *events = event_dicts(cur);
	crm_event_cursor_free(cur);
	return events;
}

static PyObject *conn_consumer_ack(Connection *c, PyObject *args)
{
	const char *name;
	long long seq;
	if (!PyArg_ParseTuple(args, "sL", &name, &seq))
		return NULL;
	int rc;
	CRM_CALL(c, rc, crm_consumer_ack(c->db, name, seq));
	Py_RETURN_NONE;
}

static PyObject *conn_consumer_get(Connection *c, PyObject *args)
{
	const char *name;
	if (!PyArg_ParseTuple(args, "s", &name))
		return NULL;
	char *out = NULL;
	int rc;
	CRM_CALL(c, rc, crm_consumer_get(c->db, name, &out));
	return json_result(out);
}

static PyObject *conn_consumer_list(Connection *c, PyObject *unused)
{
	char *out = NULL;
	int rc;
	CRM_CALL(c, rc, crm_consumer_list(c->db, &out));
	return json_result(out);
}

static PyObject *conn_consumer_drop(Connection *c, PyObject *args)
{
	const char *name;
	if (!PyArg_ParseTuple(args, "s", &name))
		return NULL;
	int rc;
	CRM_CALL(c, rc, crm_consumer_drop(c->db, name));
	Py_RETURN_NONE;
}

PyMethodDef events_methods[] = {
	{ "event_list", (PyCFunction)(void (*)(void))conn_event_list, METH_VARARGS | METH_KEYWORDS,
	  "event_list($self, after=0, limit=100)\n--\n\nThe events after sequence number `after`, in commit order." },
	{ "event_head", (PyCFunction)conn_event_head, METH_NOARGS,
	  "event_head($self)\n--\n\nThe newest sequence number in the outbox (0 when empty)." },
	{ "event_prune", (PyCFunction)(void (*)(void))conn_event_prune, METH_VARARGS | METH_KEYWORDS,
	  "event_prune($self, older_than=0)\n--\n\nRemove events every consumer acknowledged (and older than "
	  "`older_than` ms when > 0); returns how many." },
	{ "consumer_set", (PyCFunction)conn_consumer_set, METH_VARARGS,
	  "consumer_set($self, name, options=None, /)\n--\n\nCreate or change consumer `name` (filter, lease_ms, start)." },
	{ "consumer_read", (PyCFunction)(void (*)(void))conn_consumer_read, METH_VARARGS | METH_KEYWORDS,
	  "consumer_read($self, name, limit=100)\n--\n\nThe next events of consumer `name`, leased to the caller." },
	{ "consumer_ack", (PyCFunction)conn_consumer_ack, METH_VARARGS,
	  "consumer_ack($self, name, seq, /)\n--\n\nAcknowledge the consumer's events up to `seq`." },
	{ "consumer_get", (PyCFunction)conn_consumer_get, METH_VARARGS,
	  "consumer_get($self, name, /)\n--\n\nThe consumer's state." },
	{ "consumer_list", (PyCFunction)conn_consumer_list, METH_NOARGS,
	  "consumer_list($self)\n--\n\nEvery consumer's state." },
	{ "consumer_drop", (PyCFunction)conn_consumer_drop, METH_VARARGS,
	  "consumer_drop($self, name, /)\n--\n\nRemove consumer `name`." },
	{ NULL },
};
