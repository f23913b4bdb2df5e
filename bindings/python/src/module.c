/* The module libcrm._libcrm: types, the Connection's methods gathered from
 * the area files, and the Python-layer objects the C code uses. */
#include "binding.h"

State st;

static PyObject *mod_version(PyObject *m, PyObject *unused)
{
	return PyUnicode_FromString(crm_libversion());
}

static PyMethodDef module_methods[] = {
	{ "libversion", mod_version, METH_NOARGS, "libversion($self)\n--\n\nThe linked libcrm's version string." },
	{ NULL },
};

static struct PyModuleDef moduledef = {
	PyModuleDef_HEAD_INIT, .m_name = "libcrm._libcrm", .m_doc = "libcrm's C extension (use the libcrm package).",
	.m_size = -1, .m_methods = module_methods,
};

/* Connection's method table: the area files' tables end to end. */
static PyMethodDef *join_methods(void)
{
	PyMethodDef *parts[] = { records_methods, query_methods, batch_methods, workflow_methods,
				 report_methods, events_methods, services_methods };
	size_t n = 0;
	for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++)
		for (PyMethodDef *d = parts[p]; d->ml_name; d++)
			n++;
	PyMethodDef *all = PyMem_Calloc(n + 1, sizeof *all);
	if (!all)
		return NULL;
	n = 0;
	for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++)
		for (PyMethodDef *d = parts[p]; d->ml_name; d++)
			all[n++] = *d;
	return all;
}

static int load_state(void)
{
	PyObject *util = PyImport_ImportModule("libcrm._util");
	if (!util)
		return -1;
	st.errors = PyObject_GetAttrString(util, "ERRORS");
	st.error_base = PyObject_GetAttrString(util, "Error");
	st.make_error = PyObject_GetAttrString(util, "make_error");
	st.loads = PyObject_GetAttrString(util, "loads");
	st.column = PyObject_GetAttrString(util, "Column");
	st.type_names = PyObject_GetAttrString(util, "TYPE_NAMES");
	Py_DECREF(util);
	PyObject *dec = PyImport_ImportModule("decimal");
	if (!dec)
		return -1;
	st.decimal = PyObject_GetAttrString(dec, "Decimal");
	Py_DECREF(dec);
	if (!st.errors || !st.error_base || !st.make_error || !st.loads || !st.column || !st.type_names ||
	    !st.decimal)
		return -1;
	if (!PyTuple_Check(st.errors) || PyTuple_GET_SIZE(st.errors) <= CRM_EEXISTS) {
		PyErr_SetString(PyExc_ImportError, "libcrm._util.ERRORS does not match the extension");
		return -1;
	}
	return 0;
}

PyMODINIT_FUNC PyInit__libcrm(void);
PyMODINIT_FUNC PyInit__libcrm(void)
{
	if (load_state() < 0 || convert_init() < 0)
		return NULL;
	ConnectionType.tp_methods = join_methods();
	if (!ConnectionType.tp_methods)
		return PyErr_NoMemory();
	if (PyType_Ready(&ConnectionType) < 0 || PyType_Ready(&CursorType) < 0 || PyType_Ready(&ReportType) < 0)
		return NULL;
	PyObject *m = PyModule_Create(&moduledef);
	if (!m)
		return NULL;
	Py_INCREF(&ConnectionType);
	if (PyModule_AddObject(m, "Connection", (PyObject *)&ConnectionType) < 0 ||
	    PyModule_AddObject(m, "Cursor", (PyObject *)&CursorType) < 0 ||
	    PyModule_AddObject(m, "Report", (PyObject *)&ReportType) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	Py_INCREF(&CursorType);
	Py_INCREF(&ReportType);
	return m;
}
