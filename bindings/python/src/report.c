#include "binding.h"
PyMethodDef report_methods[] = { { NULL } };
PyTypeObject ReportType = { PyVarObject_HEAD_INIT(NULL, 0).tp_name = "libcrm._libcrm.Report", .tp_basicsize = sizeof(PyObject) };
