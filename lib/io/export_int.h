/* Export internals shared by the text writers (export.c) and the XLSX
 * writer (export_xlsx.c): the open source and the columns it exports. */
#ifndef CRM_IO_EXPORT_INT_H
#define CRM_IO_EXPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "crm.h"

typedef struct crm__export {
	crm_db *db;
	crm_cursor *cur;   /* a query's cursor, or */
	crm_report *rep;   /* a report's */
	crm_row *row;      /* the source's current row */
	char *name;        /* the form or report (also the XLSX sheet's name) */
	int ncols;         /* exported columns */
	int *col;          /* the row column of exported column k */
	char **header;     /* the header of exported column k */
} crm__export;

/* Step the source: CRM_ROW, CRM_DONE or its error. */
int crm__export_next(crm__export *e);
/* Build the whole XLSX workbook at `path` (libxlsxwriter's constant_memory
 * mode): CRM_OK, or the error set on the handle (the file is then garbage). */
int crm__export_xlsx(crm__export *e, const char *path);

#endif
