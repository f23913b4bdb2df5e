/*
 * libcrm — report engine: JSON report definitions compiled to one
 * parameterised SQL statement (cached), run through a row cursor, with
 * column metadata, JSON and CSV output, EXPLAIN, and drill-down to the
 * records behind any row. Metadata reference: docs/report.md.
 */
#ifndef CRM_REPORT_H
#define CRM_REPORT_H

#include "query.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct crm_report crm_report;

/** A JSON array of {"report","version","label"} for every report (latest versions, by name), in *out (crm_free). */
CRM_EXTERN(int) crm_report_list(crm_db *db, char **out);
/** The latest stored definition of report `name`, in *out (crm_free); CRM_ENOTFOUND when there is none. */
CRM_EXTERN(int) crm_report_get(crm_db *db, const char *name, char **out);

/**
 * Run report `name` with `params_json` (an object of named parameter
 * values, or NULL). Lifecycle: crm_report_run -> crm_report_next until
 * CRM_DONE -> crm_report_free. The report borrows its handle; after
 * crm_close its calls fail with CRM_EMISUSE (see crm_close). Validity as
 * for query cursors (query.h): when a form the report reads changes, the
 * next call fails for good with CRM_ECONFLICT; a new version of the report
 * itself does not disturb it (it reads on with the version it started).
 */
CRM_EXTERN(int) crm_report_run(crm_report **out, crm_db *db, const char *name, const char *params_json);
/** Advance: CRM_ROW, CRM_DONE, or an error code. */
CRM_EXTERN(int) crm_report_next(crm_report *rep);
/**
 * Number of columns: dimensions, measures, comparison columns (<m>_prev,
 * <m>_delta, <m>_pct), <m>_running, <m>_rolling_N, then "_total" (null,
 * "subtotal" or "total") when the report has totals. Funnels: dimensions,
 * stage, reached, from_previous, from_first.
 */
CRM_EXTERN(int) crm_report_column_count(crm_report *rep);
/** Column metadata: name, label and crm_type. Borrowed until crm_report_free. */
CRM_EXTERN(const char *) crm_report_column_name(crm_report *rep, int i);
CRM_EXTERN(const char *) crm_report_column_label(crm_report *rep, int i);
CRM_EXTERN(int) crm_report_column_type(crm_report *rep, int i);
/**
 * Typed access to the current row (include/crm/row.h), the same accessors
 * as a query cursor's. Borrowed; lives as long as the report. The
 * crm_report_* value accessors below are the same functions.
 */
CRM_EXTERN(crm_row *) crm_report_row(crm_report *rep);
/** Values of the current row (as crm_cursor_*; text borrowed until the next crm_report_next). */
CRM_EXTERN(int) crm_report_is_null(crm_report *rep, int i);
CRM_EXTERN(int64_t) crm_report_int64(crm_report *rep, int i);
CRM_EXTERN(double) crm_report_double(crm_report *rep, int i);
CRM_EXTERN(const char *) crm_report_text(crm_report *rep, int i);
/** The current row as a JSON object. Borrowed until the next crm_report_next. */
CRM_EXTERN(const char *) crm_report_json(crm_report *rep);
CRM_EXTERN(void) crm_report_free(crm_report *rep);

/**
 * The whole result in one call: format "json" ({"columns":[{"name","label",
 * "type"}...],"rows":[{...}...]}) or "csv" (a header line, then rows), in
 * *out (crm_free).
 */
CRM_EXTERN(int) crm_report_output(crm_db *db, const char *name, const char *params_json, const char *format,
				  char **out);
/** The compiled SQL, its bound parameters and the backend's query plan, as JSON in *out (crm_free). */
CRM_EXTERN(int) crm_report_explain(crm_db *db, const char *name, const char *params_json, char **out);
/**
 * Drill-down: the query (JSON for crm_query on the report's source form)
 * that returns the records behind result row `row_json` (an object of the
 * row's dimension values, as crm_report_json gives them; "_total" and a
 * funnel's "stage" count too, other members are ignored), in *out (crm_free).
 * The report's filter is included with `params_json`'s values substituted.
 */
CRM_EXTERN(int) crm_report_drill(crm_db *db, const char *name, const char *params_json, const char *row_json,
				 char **out);

#ifdef __cplusplus
}
#endif
#endif
