/* The exact SQL sums of the SQLite backend (sqlite_sum.c). */
#ifndef CRM_BACKEND_SQLITE_SUM_H
#define CRM_BACKEND_SQLITE_SUM_H

#include <sqlite3.h>


/* Define crm_sum and crm_sum_strict on the connection (the dialect's
 * sum_exact and sum_strict). Returns an SQLite code. */
int crm__sqlite_register_sum(sqlite3 *sql);

#endif
