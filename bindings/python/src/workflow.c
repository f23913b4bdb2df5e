#include "binding.h"
PyMethodDef workflow_methods[] = { { NULL } };
