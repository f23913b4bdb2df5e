#include "binding.h"
PyMethodDef events_methods[] = { { NULL } };
