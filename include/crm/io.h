/*
 * libcrm — data services: import, export, duplicates and merge
 * (docs/integration.md). Every write goes through the one write path
 * (validation, permissions, audit, events); every read through the actor's
 * view.
 */
#ifndef CRM_IO_H
#define CRM_IO_H

#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- import ---- */

/**
 * Progress of a long import: rows read so far, input bytes consumed and the
 * input's size (-1 when unknown, e.g. a pipe). Called after every chunk of
 * rows and once at the end. A nonzero return cancels the import: in atomic
 * mode everything is rolled back; in best-effort mode the chunks committed
 * so far stay. The import then fails with CRM_ERROR and its summary says
 * "cancelled":true.
 */
typedef int (*crm_progress_fn)(void *payload, int64_t rows_done, int64_t bytes_done, int64_t bytes_total);

typedef struct crm_import_options {
	unsigned int version; /**< CRM_IMPORT_OPTIONS_VERSION */
	/**
	 * Options as a JSON object, or NULL for the defaults (docs/integration.md "Import"):
	 * {"format":"csv|ndjson|json" (default: by the file's extension, else sniffed),
	 *  "encoding":"auto|utf-8|gbk|gb18030", "delimiter":",", "header":"auto|names|labels",
	 *  "map":{"Column header":"field" or "" (ignored), ...}, "upsert":"phone" (the fields of
	 *  a unique key, comma-separated), "mode":"atomic|best-effort" (default atomic),
	 *  "errors":"path.csv" (every failing row written there as CSV: row,field,code,message)}.
	 * Borrowed for the call.
	 */
	const char *json;
	crm_progress_fn progress; /**< may be NULL */
	void *progress_payload;
} crm_import_options;
#define CRM_IMPORT_OPTIONS_VERSION 1
/** Usage: crm_import_options o = CRM_IMPORT_OPTIONS_INIT; o.json = "{...}"; */
#define CRM_IMPORT_OPTIONS_INIT { CRM_IMPORT_OPTIONS_VERSION, NULL, NULL, NULL }

/**
 * Import the records of file `path` (CSV, NDJSON or a JSON array) into
 * `form` as the handle's actor, each record through the write path.
 * `opts` may be NULL (defaults). *out (crm_free) gets the summary
 * {"rows":N,"inserted":n,"updated":n,"failed":n,"errors":[{"row":r,"field":f,
 *  "code":"...","message":"..."}, ... the first 100]} (row: the 1-based data
 * row, the header not counted; field null for a row-wide failure), plus
 * "cancelled":true or "stopped":"why" when the input ended the import early.
 * *out is set whenever rows were read, also when the call fails because of
 * them (atomic mode with failing rows: CRM_ECONSTRAINT, or the first failing
 * row's code, and nothing written); it stays NULL when the call fails before
 * reading any row (bad options, unknown form or column, unreadable file).
 */
CRM_EXTERN(int) crm_import_file(crm_db *db, const char *form, const char *path, const crm_import_options *opts,
				char **out);
/** crm_import_file over `len` bytes at `data` (borrowed); the format defaults to sniffing. */
CRM_EXTERN(int) crm_import_buffer(crm_db *db, const char *form, const char *data, size_t len,
				  const crm_import_options *opts, char **out);

#ifdef __cplusplus
}
#endif
#endif
