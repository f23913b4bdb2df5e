/*
 * libcrm — typed access to the current row of a query cursor
 * (crm_cursor_row) or a report (crm_report_row), without JSON. One set of
 * accessors serves both, so a binding converts values in one place.
 *
 * A crm_row is borrowed from its cursor or report and lives as long as it
 * (until crm_cursor_free / crm_report_free); its values are those of the
 * current row, so they change with every crm_cursor_next / crm_report_next.
 * Pointers it returns are borrowed until the next step of its owner.
 * Columns are numbered from 0; an index out of range, or a call with no
 * current row, reads as null (is_null 1, text NULL, numbers 0).
 *
 * What each type gives (crm_row_text is always the value as JSON writes
 * it, without the quotes of strings):
 *   text, long_text, email, phone, url, enum: crm_row_text + crm_row_bytes
 *   integer, ref (and the id, version columns): crm_row_int64
 *   decimal: crm_row_int64 is the scaled integer (12000.50 at scale 2 is
 *     1200050, exact); crm_row_column_scale the scale; crm_row_text the
 *     exact decimal "12000.50"; crm_row_double an approximation
 *   number: crm_row_double
 *   boolean: crm_row_bool (0 or 1; crm_row_int64 the same)
 *   date: crm_row_int64 is 00:00 UTC of the day in ms since the epoch;
 *     crm_row_text "YYYY-MM-DD"
 *   datetime: crm_row_int64 in ms since the epoch (UTC); crm_row_text
 *     ISO 8601 "YYYY-MM-DDTHH:MM:SS.mmmZ"
 *   multi_enum: crm_row_item_count and crm_row_item (the options chosen,
 *     in canonical order); crm_row_text the JSON array
 *   json: crm_row_text, the JSON text
 *   null (any type): crm_row_is_null
 */
#ifndef CRM_ROW_H
#define CRM_ROW_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct crm_row crm_row;

/** Number of columns (0 for NULL). */
CRM_EXTERN(int) crm_row_column_count(crm_row *row);
/** Name of column i, NULL when out of range. Borrowed for the row's life. */
CRM_EXTERN(const char *) crm_row_column_name(crm_row *row, int i);
/** crm_type of column i (a computed or rollup field reports the type of its value), 0 when out of range. */
CRM_EXTERN(int) crm_row_column_type(crm_row *row, int i);
/** Digits after the decimal point of a decimal column, 0 for other types, -1 when out of range. */
CRM_EXTERN(int) crm_row_column_scale(crm_row *row, int i);

/** 1 when column i of the current row is null (or there is no such value). */
CRM_EXTERN(int) crm_row_is_null(crm_row *row, int i);
/** Integer value: integers, refs, scaled decimals, booleans (0/1), dates and datetimes (ms since the epoch). */
CRM_EXTERN(int64_t) crm_row_int64(crm_row *row, int i);
/** Floating value: numbers; a decimal's value (not the scaled integer); other numeric types converted. */
CRM_EXTERN(double) crm_row_double(crm_row *row, int i);
/** Boolean value, 0 or 1 (other types: 1 when their integer value is not 0). */
CRM_EXTERN(int) crm_row_bool(crm_row *row, int i);
/** The value as text (see above), NUL-terminated; NULL when null. Borrowed until the owner's next step. */
CRM_EXTERN(const char *) crm_row_text(crm_row *row, int i);
/** Bytes of crm_row_text(row, i), not counting the terminating NUL (0 when null), as sqlite3_column_bytes. */
CRM_EXTERN(size_t) crm_row_bytes(crm_row *row, int i);
/** Number of options in a multi_enum value (0 when null); -1 when column i is not a multi_enum column. */
CRM_EXTERN(int) crm_row_item_count(crm_row *row, int i);
/** Option k (0-based) of a multi_enum value, NUL-terminated; NULL when out of range. Borrowed until the owner's next step. */
CRM_EXTERN(const char *) crm_row_item(crm_row *row, int i, int k);

#ifdef __cplusplus
}
#endif
#endif
