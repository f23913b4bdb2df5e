/* insert_many: one batch (one transaction, all or nothing) fed from any
 * iterable, one row at a time, so a generator of a million rows never
 * becomes a list. A dict row goes over as typed values
 * (crm_batch_add_values), without JSON text; a str row is JSON. */
#include "binding.h"

static PyObject *conn_insert_many(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "form", "rows", "ids", NULL };
	const char *form;
	PyObject *rows;
	int want_ids = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "sO|$p", names, &form, &rows, &want_ids))
		return NULL;
	PyObject *it = PyObject_GetIter(rows);
	if (!it)
		return NULL;
	PyObject *ids = want_ids ? PyList_New(0) : NULL;
	if (want_ids && !ids) {
		Py_DECREF(it);
		return NULL;
	}
	Values vals;
	if (values_init(&vals) < 0) {
		Py_DECREF(it);
		Py_XDECREF(ids);
		return NULL;
	}
	crm_batch *batch = NULL;
	int rc;
	size_t count = 0;
	if (conn_enter(c) < 0)
		goto fail;
	Py_BEGIN_ALLOW_THREADS rc = crm_batch_begin(&batch, c->db, form);
	Py_END_ALLOW_THREADS if (rc != CRM_OK)
	{
		conn_error(c, rc);
		goto fail_locked;
	}
	PyObject *row;
	while ((row = PyIter_Next(it))) {
		const char *json = NULL;
		Py_ssize_t len = 0;
		int ok = PyUnicode_Check(row) ? (json = PyUnicode_AsUTF8AndSize(row, &len)) != NULL
					      : values_of(&vals, row) == 0;
		if (!ok) {
			Py_DECREF(row);
			goto fail_locked;
		}
		int64_t id = 0;
		/* a failing row is remembered by the batch; the commit lists every one */
		Py_BEGIN_ALLOW_THREADS if (json) crm_batch_add(batch, json, len, want_ids ? &id : NULL);
		else crm_batch_add_values(batch, vals.f, vals.n, want_ids ? &id : NULL);
		Py_END_ALLOW_THREADS Py_DECREF(row);
		count++;
		if (ids) {
			PyObject *v = PyLong_FromLongLong(id);
			if (!v || PyList_Append(ids, v) < 0) {
				Py_XDECREF(v);
				goto fail_locked;
			}
			Py_DECREF(v);
		}
	}
	if (PyErr_Occurred())
		goto fail_locked;
	Py_BEGIN_ALLOW_THREADS rc = crm_batch_commit(batch);
	Py_END_ALLOW_THREADS if (rc != CRM_OK)
	{
		conn_error(c, rc);
		goto fail_locked;
	}
	crm_batch_free(batch);
	conn_leave(c);
	Py_DECREF(it);
	values_free(&vals);
	return ids ? ids : PyLong_FromSize_t(count);
fail_locked:
	crm_batch_free(batch); /* rolls back: nothing was inserted */
	conn_leave(c);
fail:
	Py_DECREF(it);
	Py_XDECREF(ids);
	values_free(&vals);
	return NULL;
}

PyMethodDef batch_methods[] = {
	{ "insert_many", (PyCFunction)(void (*)(void))conn_insert_many, METH_VARARGS | METH_KEYWORDS,
	  "insert_many($self, form, rows, *, ids=False)\n--\n\nInsert every record of the iterable `rows` (read one "
	  "at a time) in one transaction, all or nothing: ValidationError lists every failing row "
	  "(.rows). Returns the number inserted, or the list of ids with ids=True." },
	{ NULL },
};
