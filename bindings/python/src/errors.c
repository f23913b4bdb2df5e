/* Errors: a failing libcrm call becomes the exception class of its code
 * (libcrm._util builds it: .code, .message, .detail, and per class the
 * members of the detail it carries). */
#include "binding.h"

PyObject *raise_crm(int code, const char *message, const char *detail, int offset)
{
	PyObject *exc = PyObject_CallFunction(st.make_error, "issi", code, message ? message : "",
					      detail ? detail : "{}", offset);
	if (exc) {
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
		Py_DECREF(exc);
	}
	return NULL;
}
