/* Queries: db.query() returns a lazy Cursor over crm_query, each row
 * converted from the typed row accessors (no JSON); count and get. */
#include "binding.h"

typedef struct Cursor {
	PyObject_HEAD
	Connection *conn; /* strong: the handle outlives the cursor */
	crm_cursor *cur;  /* NULL once closed or exhausted */
	PyObject *names;  /* column names (tuple), after the first row */
	PyObject *factory; /* None: dict; "tuple"; or a callable(columns, tuple) */
	int as_tuple;
} Cursor;

static void cursor_release(Cursor *k)
{
	if (!k->cur || !k->conn)
		return;
	int taken = conn_wait(k->conn);
	crm_cursor_free(k->cur);
	k->cur = NULL;
	if (taken)
		conn_leave(k->conn);
}

/* The garbage collector may clear a cursor and its connection in either
 * order (a cycle through an attribute of the connection): the libcrm cursor
 * goes first, and crm_close tolerates cursors freed after it. */
static int cursor_clear(Cursor *k)
{
	cursor_release(k);
	Py_CLEAR(k->conn);
	Py_CLEAR(k->names);
	Py_CLEAR(k->factory);
	return 0;
}

static int cursor_traverse(Cursor *k, visitproc visit, void *arg)
{
	Py_VISIT(k->conn);
	Py_VISIT(k->factory);
	return 0;
}

static void cursor_dealloc(Cursor *k)
{
	PyObject_GC_UnTrack(k);
	cursor_clear(k);
	Py_TYPE(k)->tp_free((PyObject *)k);
}

/* Build the query object from the keyword arguments (None members left out). */
static PyObject *query_object(PyObject *filter, PyObject *sort, PyObject *limit, PyObject *offset, PyObject *after,
			      PyObject *fields)
{
	PyObject *q = PyDict_New();
	const char *keys[] = { "filter", "sort", "limit", "offset", "after", "fields" };
	PyObject *vals[] = { filter, sort, limit, offset, after, fields };
	for (int i = 0; q && i < 6; i++) {
		PyObject *v = vals[i];
		if (!v || v == Py_None)
			continue;
		if (i == 1 && PyUnicode_Check(v)) {
			/* sort="-created_at": one key */
			PyObject *l = PyList_New(1);
			if (!l)
				goto fail;
			Py_INCREF(v);
			PyList_SET_ITEM(l, 0, v);
			int rc = PyDict_SetItemString(q, keys[i], l);
			Py_DECREF(l);
			if (rc < 0)
				goto fail;
		} else if (PyDict_SetItemString(q, keys[i], v) < 0) {
			goto fail;
		}
	}
	return q;
fail:
	Py_DECREF(q);
	return NULL;
}

static PyObject *conn_query(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "form", "filter", "sort", "limit", "offset", "after", "fields", "rows", NULL };
	const char *form;
	PyObject *filter = NULL, *sort = NULL, *limit = NULL, *offset = NULL, *after = NULL, *fields = NULL,
		 *rows = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|O$OOOOOO", names, &form, &filter, &sort, &limit, &offset, &after,
					 &fields, &rows))
		return NULL;
	int as_tuple = 0;
	if (PyUnicode_Check(rows)) {
		if (PyUnicode_CompareWithASCIIString(rows, "tuple") == 0)
			as_tuple = 1;
		else if (PyUnicode_CompareWithASCIIString(rows, "dict") != 0)
			return PyErr_Format(PyExc_ValueError, "rows is 'dict', 'tuple' or a callable");
		rows = Py_None;
	} else if (rows != Py_None && !PyCallable_Check(rows)) {
		return PyErr_Format(PyExc_TypeError, "rows is 'dict', 'tuple' or a callable");
	} else if (rows != Py_None) {
		as_tuple = 1;
	}
	Buf b = { 0 };
	const char *json = NULL;
	if (filter && PyUnicode_Check(filter) && !sort && !limit && !offset && !after && !fields) {
		/* a whole query as JSON text */
		json = text_arg(filter);
		if (!json)
			return NULL;
	} else {
		PyObject *q = query_object(filter, sort, limit, offset, after, fields);
		if (!q)
			return NULL;
		int rc = json_encode(&b, q);
		Py_DECREF(q);
		if (rc < 0) {
			buf_free(&b);
			return NULL;
		}
		json = b.p;
	}
	crm_cursor *cur = NULL;
	int rc = CRM_EMISUSE;
	if (conn_enter(c) == 0) {
		Py_BEGIN_ALLOW_THREADS rc = crm_query(&cur, c->db, form, json);
		Py_END_ALLOW_THREADS if (rc != CRM_OK) conn_error(c, rc);
		conn_leave(c);
	}
	buf_free(&b);
	if (rc != CRM_OK) {
		crm_cursor_free(cur);
		return NULL;
	}
	Cursor *k = PyObject_GC_New(Cursor, &CursorType);
	if (!k) {
		crm_cursor_free(cur);
		return NULL;
	}
	Py_INCREF(c);
	k->conn = c;
	k->cur = cur;
	k->names = NULL;
	Py_INCREF(rows);
	k->factory = rows;
	k->as_tuple = as_tuple;
	PyObject_GC_Track(k);
	return (PyObject *)k;
}

static PyObject *cursor_next(Cursor *k)
{
	if (!k->cur)
		return NULL;
	Connection *c = k->conn;
	if (conn_enter(c) < 0)
		return NULL;
	int rc;
	crm_cursor *cur = k->cur;
	Py_BEGIN_ALLOW_THREADS rc = crm_cursor_next(cur);
	Py_END_ALLOW_THREADS if (rc == CRM_DONE)
	{
		crm_cursor_free(k->cur);
		k->cur = NULL;
		conn_leave(c);
		return NULL;
	}
	if (rc != CRM_ROW) {
		conn_error(c, rc);
		crm_cursor_free(k->cur);
		k->cur = NULL;
		conn_leave(c);
		return NULL;
	}
	crm_row *row = crm_cursor_row(k->cur);
	if (!k->names && !(k->names = row_names(row))) {
		conn_leave(c);
		return NULL;
	}
	PyObject *r = row_to_python(row, k->names, k->as_tuple);
	conn_leave(c);
	if (r && k->factory != Py_None) {
		PyObject *f = PyObject_CallFunctionObjArgs(k->factory, k->names, r, NULL);
		Py_DECREF(r);
		r = f;
	}
	return r;
}

static PyObject *cursor_close(Cursor *k, PyObject *unused)
{
	cursor_release(k);
	Py_RETURN_NONE;
}

static PyObject *cursor_columns(Cursor *k, void *unused)
{
	if (k->names) {
		Py_INCREF(k->names);
		return k->names;
	}
	if (!k->cur)
		return PyTuple_New(0);
	if (conn_enter(k->conn) < 0)
		return NULL;
	PyObject *t = row_names(crm_cursor_row(k->cur));
	conn_leave(k->conn);
	return t;
}

static PyObject *cursor_token(Cursor *k, void *unused)
{
	if (!k->cur)
		Py_RETURN_NONE;
	if (conn_enter(k->conn) < 0)
		return NULL;
	const char *t = crm_cursor_token(k->cur);
	PyObject *r = t ? PyUnicode_FromString(t) : (Py_INCREF(Py_None), Py_None);
	conn_leave(k->conn);
	return r;
}

static PyObject *cursor_enter(PyObject *self, PyObject *unused)
{
	Py_INCREF(self);
	return self;
}

static PyObject *cursor_exit(Cursor *k, PyObject *args)
{
	cursor_release(k);
	Py_RETURN_FALSE;
}

static PyMethodDef cursor_methods[] = {
	{ "close", (PyCFunction)cursor_close, METH_NOARGS, "close($self)\n--\n\nRelease the cursor before its end." },
	{ "__enter__", cursor_enter, METH_NOARGS, NULL },
	{ "__exit__", (PyCFunction)cursor_exit, METH_VARARGS, NULL },
	{ NULL },
};

static PyGetSetDef cursor_getset[] = {
	{ "columns", (getter)cursor_columns, NULL, "Column names: id, the fields, then the system columns.", NULL },
	{ "token", (getter)cursor_token, NULL,
	  "Keyset token of the current row: pass it as after= to continue past it.", NULL },
	{ NULL },
};

PyTypeObject CursorType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "libcrm._libcrm.Cursor",
	.tp_basicsize = sizeof(Cursor),
	.tp_dealloc = (destructor)cursor_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "A lazy iterator over the rows of a query (db.query()).",
	.tp_traverse = (traverseproc)cursor_traverse,
	.tp_clear = (inquiry)cursor_clear,
	.tp_iter = PyObject_SelfIter,
	.tp_iternext = (iternextfunc)cursor_next,
	.tp_methods = cursor_methods,
	.tp_getset = cursor_getset,
};

static PyObject *conn_count(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "form", "filter", NULL };
	const char *form;
	PyObject *filter = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|O", names, &form, &filter))
		return NULL;
	Buf b = { 0 };
	const char *json = NULL;
	if (filter && filter != Py_None) {
		PyObject *q = query_object(filter, NULL, NULL, NULL, NULL, NULL);
		int rc = q ? json_encode(&b, q) : -1;
		Py_XDECREF(q);
		if (rc < 0) {
			buf_free(&b);
			return NULL;
		}
		json = b.p;
	}
	int64_t n = 0;
	int rc = CRM_EMISUSE;
	if (conn_enter(c) == 0) {
		Py_BEGIN_ALLOW_THREADS rc = crm_count(c->db, form, json, &n);
		Py_END_ALLOW_THREADS if (rc != CRM_OK) conn_error(c, rc);
		conn_leave(c);
	}
	buf_free(&b);
	return rc == CRM_OK ? PyLong_FromLongLong(n) : NULL;
}

/* get: the record through a query on its id, so its values come typed as
 * query rows do; when there is none, crm_record_get gives libcrm's error. */
static PyObject *conn_get(Connection *c, PyObject *args)
{
	const char *form;
	long long id;
	if (!PyArg_ParseTuple(args, "sL", &form, &id))
		return NULL;
	char q[96];
	snprintf(q, sizeof q, "{\"filter\":{\"field\":\"id\",\"op\":\"eq\",\"value\":%lld}}", id);
	if (conn_enter(c) < 0)
		return NULL;
	crm_cursor *cur = NULL;
	PyObject *r = NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS rc = crm_query(&cur, c->db, form, q);
	if (rc == CRM_OK)
		rc = crm_cursor_next(cur);
	Py_END_ALLOW_THREADS if (rc == CRM_ROW)
	{
		crm_row *row = crm_cursor_row(cur);
		PyObject *names = row_names(row);
		if (names)
			r = row_to_python(row, names, 0);
		Py_XDECREF(names);
	}
	else if (rc == CRM_DONE)
	{
		char *out = NULL;
		rc = crm_record_get(c->db, form, id, &out);
		crm_free(out);
		if (rc == CRM_OK)
			raise_crm(CRM_ENOTFOUND, "no such record", NULL, -1);
		else
			conn_error(c, rc);
	}
	else
	{
		conn_error(c, rc);
	}
	crm_cursor_free(cur);
	conn_leave(c);
	return r;
}

PyMethodDef query_methods[] = {
	{ "query", (PyCFunction)(void (*)(void))conn_query, METH_VARARGS | METH_KEYWORDS,
	  "query($self, form, filter=None, *, sort=None, limit=None, offset=None, after=None, fields=None, rows='dict')\n--\n\n"
	  "A lazy iterator over the matching records (docs/query.md), as dicts, tuples (rows='tuple') or "
	  "rows(columns, values) of a callable." },
	{ "count", (PyCFunction)(void (*)(void))conn_count, METH_VARARGS | METH_KEYWORDS,
	  "count($self, form, filter=None)\n--\n\nThe number of records matching `filter`." },
	{ "get", (PyCFunction)conn_get, METH_VARARGS,
	  "get($self, form, id, /)\n--\n\nRecord `id` as a dict (NotFoundError when absent)." },
	{ NULL },
};
