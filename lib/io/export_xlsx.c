/* Export as XLSX with libxlsxwriter in its constant_memory mode (rows go to
 * a temporary file as they are written). Cells keep their types where Excel
 * can hold them exactly: numbers, booleans, dates and datetimes as Excel
 * dates with an ISO format (so Excel's own "save as CSV" writes spellings
 * the importer reads); the rest, and what Excel cannot hold, as text. */
#include <string.h>
#include <xlsxwriter.h>

#include "core/db_int.h"
#include "export_int.h"

#define DAY_MS 86400000.0
/* Excel's day 0 is 1899-12-30 in its 1900 system, correct from day 61
 * (1900-03-01) on: Unix day 0 is Excel day 25569. */
#define EXCEL_EPOCH_DAYS 25569.0
#define EXCEL_FIRST_MS (-2203891200000LL) /* 1900-03-01T00:00:00Z */
/* Excel holds 15 significant digits; integers to 2^53 are exact in a double. */
#define EXACT_INT (INT64_C(1) << 53)
#define EXACT_DIGITS INT64_C(1000000000000000)

typedef struct xlsx {
	crm__export *e;
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *date, *datetime, *decimal[10];
} xlsx;

static int lxw_failed(crm_db *db, lxw_error err, lxw_row_t r, int k, const crm__export *e)
{
	if (err == LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED)
		return crm__error(db, CRM_ELIMIT,
				  "export: row %lu, column %s holds more than 32767 characters, the most an Excel cell holds",
				  (unsigned long)r, e->header[k]);
	return crm__error(db, err == LXW_ERROR_MEMORY_MALLOC_FAILED ? CRM_ENOMEM : CRM_EIO, "export: XLSX: %s",
			  lxw_strerror(err));
}

/* The format showing a decimal with exactly its scale's digits ("0.00"). */
static lxw_format *decimal_format(xlsx *x, int scale)
{
	char spec[16] = "0.";

	if (scale < 0 || scale > 9)
		return NULL;
	if (!x->decimal[scale] && (x->decimal[scale] = workbook_add_format(x->wb))) {
		memset(spec + 2, '0', (size_t)scale);
		spec[scale ? 2 + scale : 1] = '\0';
		format_set_num_format(x->decimal[scale], spec);
	}
	return x->decimal[scale];
}

/* A date or datetime in ms as an Excel serial date, or text before 1900-03-01. */
static lxw_error write_time(xlsx *x, lxw_row_t r, lxw_col_t c, int i, lxw_format *f)
{
	crm_row *row = x->e->row;
	int64_t ms = crm_row_int64(row, i);

	if (ms < EXCEL_FIRST_MS)
		return worksheet_write_string(x->ws, r, c, crm_row_text(row, i), NULL);
	return worksheet_write_number(x->ws, r, c, (double)ms / DAY_MS + EXCEL_EPOCH_DAYS, f);
}

static lxw_error write_cell(xlsx *x, lxw_row_t r, lxw_col_t c, int i)
{
	crm_row *row = x->e->row;
	int64_t v;
	int scale;

	if (crm_row_is_null(row, i))
		return LXW_NO_ERROR; /* an empty cell */
	switch (crm_row_column_type(row, i)) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_REF:
		v = crm_row_int64(row, i);
		if (v >= -EXACT_INT && v <= EXACT_INT)
			return worksheet_write_number(x->ws, r, c, (double)v, NULL);
		break;
	case CRM_TYPE_DECIMAL:
		v = crm_row_int64(row, i);
		scale = crm_row_column_scale(row, i);
		if (v > -EXACT_DIGITS && v < EXACT_DIGITS && decimal_format(x, scale)) {
			double p = 1;
			for (int k = 0; k < scale; k++)
				p *= 10;
			/* both exact in a double, so the quotient is the nearest double to the value */
			return worksheet_write_number(x->ws, r, c, (double)v / p, x->decimal[scale]);
		}
		break;
	case CRM_TYPE_NUMBER: return worksheet_write_number(x->ws, r, c, crm_row_double(row, i), NULL);
	case CRM_TYPE_BOOLEAN: return worksheet_write_boolean(x->ws, r, c, crm_row_bool(row, i), NULL);
	case CRM_TYPE_DATE: return write_time(x, r, c, i, x->date);
	case CRM_TYPE_DATETIME: return write_time(x, r, c, i, x->datetime);
	default: break;
	}
	return worksheet_write_string(x->ws, r, c, crm_row_text(row, i), NULL);
}

static int write_rows(xlsx *x)
{
	crm__export *e = x->e;
	lxw_format *bold = workbook_add_format(x->wb);
	lxw_error err = LXW_NO_ERROR;
	lxw_row_t r = 0;
	int rc, k = 0;

	x->date = workbook_add_format(x->wb);
	x->datetime = workbook_add_format(x->wb);
	if (!bold || !x->date || !x->datetime)
		return crm__error_oom(e->db);
	format_set_bold(bold);
	format_set_num_format(x->date, "yyyy-mm-dd");
	format_set_num_format(x->datetime, "yyyy-mm-dd\"T\"hh:mm:ss.000\"Z\"");
	for (k = 0; k < e->ncols && !err; k++)
		err = worksheet_write_string(x->ws, 0, (lxw_col_t)k, e->header[k], bold);
	if (err)
		return lxw_failed(e->db, err, 0, k - 1, e);
	while ((rc = crm__export_next(e)) == CRM_ROW) {
		if (++r >= LXW_ROW_MAX)
			return crm__error(e->db, CRM_ELIMIT, "export: an XLSX sheet holds at most %d rows after its header",
					  LXW_ROW_MAX - 1);
		for (k = 0; k < e->ncols; k++)
			if ((err = write_cell(x, r, (lxw_col_t)k, e->col[k])))
				return lxw_failed(e->db, err, r, k, e);
	}
	return rc == CRM_DONE ? CRM_OK : rc;
}

int crm__export_xlsx(crm__export *e, const char *path)
{
	lxw_workbook_options opts = { .constant_memory = LXW_TRUE, .tmpdir = NULL, .use_zip64 = LXW_TRUE };
	xlsx x = { .e = e };
	char sheet[32];
	lxw_error err;
	int rc;

	/* form and report names are [a-z0-9_], valid sheet names once cut to Excel's 31 characters */
	snprintf(sheet, sizeof sheet, "%s", e->name);
	if (!(x.wb = workbook_new_opt(path, &opts)))
		return crm__error(e->db, CRM_EIO, "export: XLSX: cannot create the workbook");
	if (!(x.ws = workbook_add_worksheet(x.wb, sheet)))
		rc = crm__error_oom(e->db);
	else
		rc = write_rows(&x);
	if (rc) {
		lxw_workbook_free(x.wb); /* nothing written: the caller removes the file */
		return rc;
	}
	if ((err = workbook_close(x.wb)))
		return crm__error(e->db, CRM_EIO, "export: XLSX: %s", lxw_strerror(err));
	return CRM_OK;
}
