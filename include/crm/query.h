/*
 * libcrm — queries: a JSON filter language compiled to one parameterised
 * SQL statement, results streamed through a cursor.
 *
 * Query JSON (every key optional):
 *   {"filter": FILTER, "sort": ["region", "-created_at"], "limit": 50,
 *    "offset": 0, "after": TOKEN, "fields": ["name", "phone"]}
 * FILTER is {"and":[...]}, {"or":[...]}, {"not":FILTER} or
 *   {"field": NAME, "op": OP, "value": V}, OP one of eq ne lt le gt ge in
 *   contains starts_with is_null between (docs/query.md).
 * Lifecycle: crm_query -> crm_cursor_next until CRM_DONE -> crm_cursor_free.
 * A cursor borrows its handle; after crm_close its calls fail with
 * CRM_EMISUSE and crm_cursor_free releases it (see crm_close).
 *
 * Validity: a cursor reads the form's definition it was compiled against.
 * If that form's definition changes while the cursor is open (crm_apply on
 * this handle at any time, or on another connection before the first row),
 * the next call fails for good with CRM_ECONFLICT ("form 'x' changed ...";
 * detail {"form","version","current"}): crm_cursor_next returns it and the
 * row accessors return NULL or 0 (crm_cursor_is_null 1). Rows are never
 * shown under another field's name. Another connection's change after the
 * first row is not seen: the cursor reads its snapshot to the end.
 */
#ifndef CRM_QUERY_H
#define CRM_QUERY_H

#include "form.h"
#include "row.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct crm_cursor crm_cursor;

/** Compile and start `query_json` (NULL or "" for all records) over `form`. */
CRM_EXTERN(int) crm_query(crm_cursor **out, crm_db *db, const char *form, const char *query_json);
/** Advance: CRM_ROW when a row is ready, CRM_DONE at the end, else an error code. */
CRM_EXTERN(int) crm_cursor_next(crm_cursor *cur);
/**
 * Typed access to the cursor's current row (include/crm/row.h): every field
 * type without JSON. Borrowed; lives as long as the cursor. The
 * crm_cursor_* accessors below are the same functions under the cursor's
 * names.
 */
CRM_EXTERN(crm_row *) crm_cursor_row(crm_cursor *cur);
/** Number of columns: "id" first, then the selected fields, then system columns. */
CRM_EXTERN(int) crm_cursor_column_count(crm_cursor *cur);
/** Name of column i. Borrowed until crm_cursor_free. */
CRM_EXTERN(const char *) crm_cursor_column_name(crm_cursor *cur, int i);
/** crm_type of column i (system columns: id/version CRM_TYPE_INTEGER, times CRM_TYPE_DATETIME, owner CRM_TYPE_TEXT). */
CRM_EXTERN(int) crm_cursor_column_type(crm_cursor *cur, int i);
/** 1 when column i of the current row is null. */
CRM_EXTERN(int) crm_cursor_is_null(crm_cursor *cur, int i);
/** Integer value (integer, boolean, ref, id, version; decimals as scaled integers; dates and datetimes in ms). */
CRM_EXTERN(int64_t) crm_cursor_int64(crm_cursor *cur, int i);
/** Floating value of a number column (others converted). */
CRM_EXTERN(double) crm_cursor_double(crm_cursor *cur, int i);
/**
 * Text form of column i as it appears in JSON (decimals "12.30", datetimes
 * ISO 8601), NULL when null. Borrowed until the next crm_cursor_next. The
 * whole value: text never contains U+0000 (see common.h).
 */
CRM_EXTERN(const char *) crm_cursor_text(crm_cursor *cur, int i);
/** The current row as a JSON object. Borrowed until the next crm_cursor_next. */
CRM_EXTERN(const char *) crm_cursor_json(crm_cursor *cur);
/** Keyset token of the current row: pass it as "after" to continue past it. Borrowed like crm_cursor_json. */
CRM_EXTERN(const char *) crm_cursor_token(crm_cursor *cur);
/** Release the cursor. NULL does nothing. */
CRM_EXTERN(void) crm_cursor_free(crm_cursor *cur);

/** Count the records matching `query_json`'s filter into *out. */
CRM_EXTERN(int) crm_count(crm_db *db, const char *form, const char *query_json, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
