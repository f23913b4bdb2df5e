/* The backends crm_open chooses from, by the target's form. */
#include "backend.h"

#ifdef CRM_HAVE_POSTGRESQL
extern const crm__backend crm__pg_backend;
#endif

const crm__backend *const crm__backends[] = {
#ifdef CRM_HAVE_POSTGRESQL
	&crm__pg_backend, /* postgresql:// and postgres:// URIs */
#endif
	&crm__sqlite_backend, /* last: takes any file name */
	NULL,
};
