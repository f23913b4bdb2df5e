/* Reports: db.report() runs one and returns a Report, a lazy iterator of
 * typed rows (the same conversion as query rows) with its columns; the
 * whole output (CSV, JSON), EXPLAIN and drill-down run the same report with
 * the same parameters. */
#include "binding.h"

typedef struct Report {
	PyObject_HEAD
	Connection *conn;
	crm_report *rep;  /* NULL once closed or exhausted */
	PyObject *name;   /* str */
	PyObject *params; /* JSON text (str) or None */
	PyObject *names;  /* tuple of column names */
	PyObject *columns; /* list of Column */
	int as_tuple;
} Report;

static void report_release(Report *r)
{
	if (!r->rep || !r->conn)
		return;
	int taken = conn_wait(r->conn);
	crm_report_free(r->rep);
	r->rep = NULL;
	if (taken)
		conn_leave(r->conn);
}

/* Cleared in any order with its connection, as a query cursor (cursor.c). */
static int report_clear(Report *r)
{
	report_release(r);
	Py_CLEAR(r->conn);
	Py_CLEAR(r->name);
	Py_CLEAR(r->params);
	Py_CLEAR(r->names);
	Py_CLEAR(r->columns);
	return 0;
}

static int report_traverse(Report *r, visitproc visit, void *arg)
{
	Py_VISIT(r->conn);
	Py_VISIT(r->columns);
	return 0;
}

static void report_dealloc(Report *r)
{
	PyObject_GC_UnTrack(r);
	report_clear(r);
	Py_TYPE(r)->tp_free((PyObject *)r);
}

/* The connection of a report the collector has not cleared. */
static Connection *report_conn(Report *r)
{
	if (!r->conn)
		PyErr_SetString(PyTuple_GET_ITEM(st.errors, CRM_EMISUSE), "the report is closed");
	return r->conn;
}

/* Column metadata, read once when the report starts. */
static int report_columns(Report *r)
{
	int n = crm_report_column_count(r->rep);
	r->names = PyTuple_New(n);
	r->columns = PyList_New(n);
	if (!r->names || !r->columns)
		return -1;
	for (int i = 0; i < n; i++) {
		PyObject *name = PyUnicode_InternFromString(crm_report_column_name(r->rep, i));
		if (!name)
			return -1;
		PyTuple_SET_ITEM(r->names, i, name);
		int t = crm_report_column_type(r->rep, i);
		PyObject *tn = t > 0 && t < PyTuple_GET_SIZE(st.type_names) ? PyTuple_GET_ITEM(st.type_names, t) : Py_None;
		const char *label = crm_report_column_label(r->rep, i);
		PyObject *col = PyObject_CallFunction(st.column, "OsO", name, label ? label : "", tn);
		if (!col)
			return -1;
		PyList_SET_ITEM(r->columns, i, col);
	}
	return 0;
}

static PyObject *conn_report(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "name", "params", "rows", NULL };
	PyObject *name, *params = Py_None;
	const char *rows = "dict", *json;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "U|O$s", names, &name, &params, &rows))
		return NULL;
	int as_tuple = strcmp(rows, "tuple") == 0;
	if (!as_tuple && strcmp(rows, "dict") != 0)
		return PyErr_Format(PyExc_ValueError, "rows is 'dict' or 'tuple'");
	const char *cname = text_arg(name);
	if (!cname)
		return NULL;
	Buf b = { 0 };
	if (json_arg(&b, params, &json) < 0)
		return NULL;
	Report *r = PyObject_GC_New(Report, &ReportType);
	if (!r) {
		buf_free(&b);
		return NULL;
	}
	r->rep = NULL;
	r->names = r->columns = NULL;
	Py_INCREF(c);
	r->conn = c;
	Py_INCREF(name);
	r->name = name;
	r->params = json ? PyUnicode_FromString(json) : (Py_INCREF(Py_None), Py_None);
	r->as_tuple = as_tuple;
	PyObject_GC_Track(r);
	buf_free(&b);
	if (!r->params)
		goto fail;
	json = r->params == Py_None ? NULL : PyUnicode_AsUTF8(r->params);
	int rc;
	crm_report *rep = NULL;
	CRM_RUN(c, rc, crm_report_run(&rep, c->db, cname, json));
	r->rep = rep;
	if (rc != CRM_OK)
		goto fail;
	if (conn_enter(c) < 0)
		goto fail;
	rc = report_columns(r);
	conn_leave(c);
	if (rc < 0)
		goto fail;
	return (PyObject *)r;
fail:
	Py_DECREF(r);
	return NULL;
}

static PyObject *report_next(Report *r)
{
	if (!r->rep)
		return NULL;
	Connection *c = r->conn;
	if (conn_enter(c) < 0)
		return NULL;
	int rc;
	crm_report *rep = r->rep;
	Py_BEGIN_ALLOW_THREADS rc = crm_report_next(rep);
	Py_END_ALLOW_THREADS PyObject *row = NULL;
	if (rc == CRM_ROW) {
		row = row_to_python(crm_report_row(rep), r->names, r->as_tuple);
	} else {
		if (rc != CRM_DONE)
			conn_error(c, rc);
		crm_report_free(r->rep);
		r->rep = NULL;
	}
	conn_leave(c);
	return row;
}

static const char *params_text(Report *r)
{
	return r->params == Py_None ? NULL : PyUnicode_AsUTF8(r->params);
}

/* The whole output in `format`, or EXPLAIN, of the same report. */
static PyObject *report_whole(Report *r, const char *format)
{
	if (!report_conn(r))
		return NULL;
	const char *name = PyUnicode_AsUTF8(r->name);
	if (!name)
		return NULL;
	const char *params = params_text(r);
	char *out = NULL;
	int rc;
	CRM_CALL(r->conn, rc,
		 format ? crm_report_output(r->conn->db, name, params, format, &out)
			: crm_report_explain(r->conn->db, name, params, &out));
	if (format && strcmp(format, "csv") == 0) {
		PyObject *s = PyUnicode_FromString(out);
		crm_free(out);
		return s;
	}
	return json_result(out);
}

static PyObject *report_to_csv(Report *r, PyObject *unused)
{
	return report_whole(r, "csv");
}

static PyObject *report_to_dict(Report *r, PyObject *unused)
{
	return report_whole(r, "json");
}

static PyObject *report_explain(Report *r, PyObject *unused)
{
	return report_whole(r, NULL);
}

static PyObject *report_drill(Report *r, PyObject *row)
{
	if (!report_conn(r))
		return NULL;
	const char *name = PyUnicode_AsUTF8(r->name), *json;
	if (!name)
		return NULL;
	Buf b = { 0 };
	if (json_arg(&b, row, &json) < 0)
		return NULL;
	char *out = NULL;
	int rc;
	CRM_RUN(r->conn, rc, crm_report_drill(r->conn->db, name, params_text(r), json ? json : "{}", &out));
	buf_free(&b);
	return rc == CRM_OK ? json_result(out) : NULL;
}

static PyObject *report_close(Report *r, PyObject *unused)
{
	report_release(r);
	Py_RETURN_NONE;
}

static PyObject *report_enter(PyObject *self, PyObject *unused)
{
	Py_INCREF(self);
	return self;
}

static PyObject *report_exit(Report *r, PyObject *args)
{
	report_release(r);
	Py_RETURN_FALSE;
}

static PyObject *report_get_columns(Report *r, void *unused)
{
	if (!r->columns)
		return PyList_New(0);
	return PyList_GetSlice(r->columns, 0, PyList_GET_SIZE(r->columns));
}

static PyMethodDef report_obj_methods[] = {
	{ "to_csv", (PyCFunction)report_to_csv, METH_NOARGS,
	  "to_csv($self)\n--\n\nThe whole result as CSV text (a header line, then rows)." },
	{ "to_dict", (PyCFunction)report_to_dict, METH_NOARGS,
	  "to_dict($self)\n--\n\nThe whole result as {'columns': [...], 'rows': [...]}." },
	{ "explain", (PyCFunction)report_explain, METH_NOARGS,
	  "explain($self)\n--\n\nThe compiled SQL, its parameters and the query plan." },
	{ "drill", (PyCFunction)report_drill, METH_O,
	  "drill($self, row, /)\n--\n\nThe query (a dict for db.query's filter/sort) returning the records behind "
	  "result row `row`." },
	{ "close", (PyCFunction)report_close, METH_NOARGS, "close($self)\n--\n\nRelease the report before its end." },
	{ "__enter__", report_enter, METH_NOARGS, NULL },
	{ "__exit__", (PyCFunction)report_exit, METH_VARARGS, NULL },
	{ NULL },
};

static PyGetSetDef report_getset[] = {
	{ "columns", (getter)report_get_columns, NULL, "The columns: Column(name, label, type).", NULL },
	{ NULL },
};

PyTypeObject ReportType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "libcrm._libcrm.Report",
	.tp_basicsize = sizeof(Report),
	.tp_dealloc = (destructor)report_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)report_traverse,
	.tp_clear = (inquiry)report_clear,
	.tp_doc = "A running report (db.report()): iterate its rows; columns, to_csv(), drill().",
	.tp_iter = PyObject_SelfIter,
	.tp_iternext = (iternextfunc)report_next,
	.tp_methods = report_obj_methods,
	.tp_getset = report_getset,
};

PyMethodDef report_methods[] = {
	{ "report", (PyCFunction)(void (*)(void))conn_report, METH_VARARGS | METH_KEYWORDS,
	  "report($self, name, params=None, *, rows='dict')\n--\n\nRun report `name` with the dict `params`; "
	  "returns a Report (an iterator of rows)." },
	{ NULL },
};
