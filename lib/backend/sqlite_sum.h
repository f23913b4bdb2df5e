/* The SQL functions the SQLite backend defines: exact sums (sqlite_sum.c)
 * and crm_json_zip (sqlite_zip.c). */
#ifndef CRM_BACKEND_SQLITE_SUM_H
#define CRM_BACKEND_SQLITE_SUM_H

#include <sqlite3.h>


/* Define crm_sum and crm_sum_strict on the connection (the dialect's
 * sum_exact and sum_strict). Returns an SQLite code. */
int crm__sqlite_register_sum(sqlite3 *sql);
/* Define crm_json_zip(names, values) on the connection (crm__json_zip, for
 * the audit trail's compact entries). Returns an SQLite code. */
int crm__sqlite_register_zip(sqlite3 *sql);

#endif
