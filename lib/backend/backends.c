/* The backends crm_open chooses from, by the target's form. */
#include "backend.h"

const crm__backend *const crm__backends[] = {
	&crm__sqlite_backend, /* last: takes any file name */
	NULL,
};
