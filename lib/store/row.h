/* The typed row accessors (include/crm/row.h) over any statement whose
 * columns carry a crm_type: query cursors (lib/form/query.c) and report
 * rows (lib/report/run.c) embed a crm_row and read through it, so every
 * value is converted in one place. */
#ifndef CRM_STORE_ROW_H
#define CRM_STORE_ROW_H

#include <sqlite3.h>

#include "core/buf.h"
#include "crm/form.h"
#include "crm/row.h"

/* One column as the accessors see it. */
typedef struct crm__rowcol {
	const char *name; /* borrowed from the owner's metadata */
	crm_type type;    /* the value's type */
	int scale;        /* decimals */
	double divisor;   /* decimals: 10^scale */
	size_t len;       /* bytes of the last crm_row_text */
	char text[40];    /* formatted numbers and times */
	/* multi_enum items, decoded on demand from the value in `raw` */
	crm__buf raw, items, offsets;
	int nitems;
} crm__rowcol;

struct crm_row {
	crm_db *db;
	/* The owner's statement and state: a row is current while
	 * *state == on_row, whatever else the owner does with them. */
	sqlite3_stmt *const *st;
	const int *state;
	int on_row;
	crm__rowcol *cols;
	int ncols;
};

/* Make room for `ncols` columns (named and typed with crm__row_column)
 * reading `*st` while `*state == on_row`. CRM_OK or CRM_ENOMEM (set on db). */
int crm__row_init(crm_row *row, crm_db *db, sqlite3_stmt *const *st, const int *state, int on_row, int ncols);
void crm__row_column(crm_row *row, int i, const char *name, crm_type type, int scale);
/* Release what the row holds (not the row itself). */
void crm__row_free(crm_row *row);
/* The shortest text of `d` that reads back as the same double. */
void crm__real_text(double d, char *out, size_t size);

#endif
