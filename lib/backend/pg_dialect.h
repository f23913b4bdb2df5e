/* The PostgreSQL backend's SQL dialect (pg_dialect.c). */
#ifndef CRM_BACKEND_PG_DIALECT_H
#define CRM_BACKEND_PG_DIALECT_H

#include "backend.h"

extern const crm__dialect crm__pg_dialect;

/* Functions the dialect names that PostgreSQL lacks, created in each app's
 * schema by the backend's `upgrade` (idempotent). */
extern const char crm__pg_functions_sql[];

#endif
