/* The exact SQL sums of lib/report/sum.c. */
#ifndef CRM_REPORT_SUM_H
#define CRM_REPORT_SUM_H

#include <sqlite3.h>

/* Define crm_sum and crm_sum_strict on the connection: compiled reports
 * and rollups call them. Returns an SQLite code. */
int crm__report_register_sum(sqlite3 *sql);

#endif
