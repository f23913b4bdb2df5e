/* The typed row accessors (include/crm/row.h) over any statement whose
 * columns carry a crm_type: query cursors (lib/form/query.c) and report
 * rows (lib/report/run.c) embed a crm_row and read through it, so every
 * value is converted in one place. */
#ifndef CRM_STORE_ROW_H
#define CRM_STORE_ROW_H


#include "core/buf.h"
#include "core/db_int.h"
#include "crm/form.h"
#include "crm/row.h"

/* One column as the accessors see it (read on every access: kept small). */
typedef struct crm__rowcol {
	const char *name; /* borrowed from the owner's metadata */
	crm_type type;    /* the value's type */
	int scale;        /* decimals */
	int nat;          /* enum crm__natural of the type: read with column_as */
	double divisor;   /* decimals: 10^scale */
} crm__rowcol;

/* Where a column's text is formatted or its items decoded. */
typedef struct crm__rowtext {
	size_t len;    /* bytes of the last crm_row_text */
	char text[40]; /* formatted numbers and times */
	/* multi_enum items, decoded on demand from the value in `raw` */
	crm__buf raw, items, offsets;
	int nitems;
} crm__rowtext;

struct crm_row {
	crm_db *db;
	/* Set by the owner. A value is read only while *state == on_row and
	 * the owner is current: *epoch == db->meta_epoch, or else current(owner)
	 * says 1 (having checked the definitions and caught up *epoch) or fails
	 * the owner (its state leaves on_row) and says 0. Every accessor checks
	 * this first, so `st` is only read while the owner is on a row. */
	crm__stmt *st;
	const int *state;
	int on_row;
	const unsigned int *epoch;
	int (*current)(void *owner);
	void *owner;
	int ncols;
	int dates; /* some column is a date (crm_row_int64 converts them) */
	crm__rowcol *cols;
	crm__rowtext *texts;
};

/* Make room for `ncols` columns (named and typed with crm__row_column);
 * the owner then sets st, state, on_row, epoch, current and owner.
 * CRM_OK or CRM_ENOMEM (set on db). */
int crm__row_init(crm_row *row, crm_db *db, int ncols);
void crm__row_column(crm_row *row, int i, const char *name, crm_type type, int scale);
/* Release what the row holds (not the row itself). */
void crm__row_free(crm_row *row);
/* The shortest text of `d` that reads back as the same double. */
void crm__real_text(double d, char *out, size_t size);

/* The hot accessors, inline so that crm_row_*, crm_cursor_* and
 * crm_report_* are each one check away from sqlite3_column_* (they are
 * benchmarked against raw SQLite reads). */
#define CRM__ROW_COL_OK(row, i) ((row) && (unsigned)(i) < (unsigned)(row)->ncols)
#define CRM__ROW_ON(row, i) \
	(CRM__ROW_COL_OK(row, i) && *(row)->state == (row)->on_row && \
	 (*(row)->epoch == (row)->db->meta_epoch || (row)->current((row)->owner)))

/* A date column's value in ms since the epoch (dates are stored as text). */
int64_t crm__row_date_ms(crm_row *row, int i);

static inline int crm__row_is_null(crm_row *row, int i)
{
	return CRM__ROW_ON(row, i) ? crm__column_type(row->st, i) == CRM__SQL_NULL : 1;
}

static inline int64_t crm__row_int64(crm_row *row, int i)
{
	if (!CRM__ROW_ON(row, i))
		return 0;
	if (row->dates && row->cols[i].type == CRM_TYPE_DATE)
		return crm__row_date_ms(row, i);
	return crm__column_as(row->st, i, (enum crm__natural)row->cols[i].nat, row->cols[i].scale);
}

static inline double crm__row_double(crm_row *row, int i)
{
	if (!CRM__ROW_ON(row, i))
		return 0;
	/* A decimal's double is its value, not the scaled integer. */
	if (row->cols[i].divisor != 0)
		return (double)crm__column_as(row->st, i, CRM__NAT_DECIMAL, row->cols[i].scale) / row->cols[i].divisor;
	return crm__column_double(row->st, i);
}

#endif
