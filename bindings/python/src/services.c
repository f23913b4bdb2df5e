#include "binding.h"
PyMethodDef services_methods[] = { { NULL } };
