/* The call table's dispatcher (pycall_run in binding.h): parse the Python
 * arguments by the row's kinds, convert them, run the row's thunk with the
 * GIL released, raise on error, and make the Python result. */
#include "binding.h"

#include <string.h>

/* The PyArg unit of each argument kind (see pycall_def). */
static const char *unit(char kind)
{
	switch (kind) {
	case 's': return "s";
	case 'z': return "z";
	case 'L': return "L";
	case 'j':
	case 't':
	case 'T': return "O";
	case 'y': return "z*";
	case '|': return "|";
	case '$': return "$";
	default: return NULL;
	}
}

/* The arguments' second step: JSON text and times from the objects. */
static int convert(pycall *a, const char *kinds, PyObject **obj, size_t ni)
{
	size_t no = 0, nj = 0;
	for (const char *k = kinds; *k; k++) {
		if (*k == 'j') {
			if (json_arg(&a->json[nj], obj[no++], &a->j[nj]) < 0)
				return -1;
			nj++;
		} else if (*k == 't' || *k == 'T') {
			/* after the 'L' arguments; 'T' left out or None: -1 */
			PyObject *o = obj[no++];
			int64_t ms = -1;
			if (!(*k == 'T' && (!o || o == Py_None)) && to_ms(o, &ms) < 0)
				return -1;
			a->i[ni++] = ms;
		}
	}
	return 0;
}

static PyObject *result(pycall *a, char ret)
{
	if (ret == 'j')
		return json_result(a->out);
	if (ret == 'i')
		return PyLong_FromLongLong(a->out_i);
	Py_RETURN_NONE;
}

_Static_assert(PYCALL_ARGS == 5, "pycall_run passes PyArg five targets");

PyObject *pycall_run(Connection *c, PyObject *args, PyObject *kw, const pycall_def *def)
{
	pycall a = { 0 };
	/* every unit's target, in the order of the format: PyArg reads each
	 * through va_arg as the unit's pointer type (data pointers share one
	 * representation on every platform CPython supports) */
	void *target[PYCALL_ARGS] = { 0 };
	PyObject *obj[PYCALL_ARGS] = { 0 };
	char format[2 * PYCALL_ARGS + 3] = "";
	size_t ns = 0, ni = 0, no = 0, nt = 0;
	for (const char *k = def->kinds; *k; k++) {
		const char *u = unit(*k);
		if (!u || nt == PYCALL_ARGS || strlen(format) + strlen(u) >= sizeof format)
			return PyErr_Format(PyExc_SystemError, "bad call table kinds '%s'", def->kinds);
		strcat(format, u);
		if (*k == 's' || *k == 'z')
			target[nt++] = &a.s[ns++];
		else if (*k == 'L')
			target[nt++] = &a.i[ni++];
		else if (*k == 'y')
			target[nt++] = &a.y;
		else if (*k != '|' && *k != '$')
			target[nt++] = &obj[no++];
	}
	int ok;
	if (def->flags == METH_O) {
		/* one int argument: the object itself */
		a.i[0] = PyLong_AsLongLong(args);
		ok = !(a.i[0] == -1 && PyErr_Occurred());
	} else if (def->names) {
		ok = PyArg_ParseTupleAndKeywords(args, kw, format, def->names, target[0], target[1], target[2],
						 target[3], target[4]);
	} else {
		ok = PyArg_ParseTuple(args, format, target[0], target[1], target[2], target[3], target[4]);
	}
	if (!ok)
		return NULL;
	PyObject *r = NULL;
	int rc;
	if (convert(&a, def->kinds, obj, ni) == 0) {
		CRM_RUN(c, rc, def->fn(c->db, &a));
		r = rc == CRM_OK ? result(&a, def->ret) : NULL;
	}
	for (size_t i = 0; i < PYCALL_ARGS; i++)
		buf_free(&a.json[i]);
	PyBuffer_Release(&a.y);
	return r;
}
