/*
 * libcrm — data services: import, export, duplicates and merge
 * (docs/integration.md). Every write goes through the one write path
 * (validation, permissions, audit, events); every read through the actor's
 * view. Each service has its own block below.
 *
 * Ownership: inputs are borrowed; what comes back through `char **out`
 * is the caller's, freed with crm_free (NULL on failure).
 */
#ifndef CRM_IO_H
#define CRM_IO_H

#include <stdint.h>

#include "common.h"
#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- export ---- */
/**
 * Receives the exported bytes in order, `len` > 0 at a time (`data` is
 * borrowed for the call). A nonzero return stops the export, which then
 * fails with CRM_EIO.
 */
typedef int (*crm_write_fn)(void *payload, const void *data, size_t len);
/**
 * Export a query or a report, streaming it through `write` in chunks of
 * about 64 KiB (constant memory however many rows; XLSX is built in a
 * temporary file by libxlsxwriter's constant_memory mode, then streamed).
 *
 * `what_json`: {"form": F, "query": {crm_query JSON}} (query optional) or
 *   {"report": R, "params": {...}} (params optional).
 * `options_json` (NULL or "" for the defaults):
 *   {"format": "csv" (default) | "ndjson" | "json" | "xlsx",
 *    "headers": "names" (default) | "labels",
 *    "bom": false (CSV only: a UTF-8 byte order mark, for Excel),
 *    "system": false (a query's id, created_at, updated_at, owner, version)}
 * Unknown members, formats or values are CRM_EINVAL. Everything is read as
 * the handle's actor, through crm_query / crm_report_run: their errors come
 * back unchanged, and fields hidden from the actor are not exported. The
 * value spellings (re-importable by crm_import_*) are in
 * docs/integration.md "Export". When the export fails midway, `write` has
 * received a partial document. `write` must not call libcrm on `db`
 * (its cursor is open); it may be slow (it is the export's back pressure).
 */
CRM_EXTERN(int) crm_export(crm_db *db, const char *what_json, const char *options_json, crm_write_fn write,
			   void *payload);
/**
 * crm_export into the file at `path` (borrowed), written whole or not at
 * all: the export goes to a temporary file beside it, renamed over `path`
 * on success and removed on failure (CRM_EIO when it cannot be written).
 */
CRM_EXTERN(int) crm_export_file(crm_db *db, const char *what_json, const char *options_json, const char *path);

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

/* ---- duplicates and merge ---- */

/**
 * The duplicate report of `form` by its "duplicates" rules
 * (docs/metadata.md), over the records the actor may read. options_json
 * (may be NULL): {"rules": ["phone", ...] (default: every rule), "limit":
 * groups listed (default 100, at most 10000)}. *out:
 * {"form": F, "groups": [{"rule": R, "score": 1 | similarity,
 *  "records": [id, ...]}, ...], "truncated": bool, "skipped": [rules on
 *  fields the actor may not read]}. Exact rules group records by their
 * stored key (score 1); fuzzy rules list pairs at or above the threshold.
 * CRM_ENOTFOUND for an unknown form, CRM_EINVAL for bad options or an
 * unknown rule, CRM_ELIMIT when a fuzzy rule would compare more than
 * 5000 records.
 */
CRM_EXTERN(int) crm_duplicates(crm_db *db, const char *form, const char *options_json, char **out);

/**
 * Merge record `other` of `form` into `survivor`, in one transaction
 * through the write path (validated, permission-checked, audited,
 * evented): each field takes the value its survivorship says
 * (options_json {"prefer": {"field": "survivor"|"other"|"newest"|
 * "non_empty"}, "default": one of them}, else the form's
 * "duplicates"."merge", else "non_empty": the survivor's value unless it
 * is empty), every reference to `other` in every form is re-pointed to
 * `survivor`, workflow instances of `other` move to `survivor` when it has
 * no instance of that workflow (else they end with `other`, cancelled),
 * and `other` is deleted. *out (may be NULL): {"merge": ID, "survivor",
 * "other", "fields": [names changed], "references": N, "instances":
 * {"moved": [...], "closed": [...]}}; ID is for crm_merge_undo.
 * CRM_ENOTFOUND when either record is missing or not readable by the actor
 * (one message for both), CRM_EINVAL for bad options or survivor ==
 * other, CRM_EPERM when the actor may not make one of the writes.
 */
CRM_EXTERN(int) crm_merge(crm_db *db, const char *form, int64_t survivor, int64_t other, const char *options_json,
			  char **out);

/**
 * Undo merge `merge_id`: `other` comes back with its id, values, owner and
 * creation time (its version one past the one it was deleted at), the
 * survivor's fields get their values from before the merge, references
 * and moved instances point at `other` again; audited like any write.
 * CRM_ENOTFOUND for an unknown merge (or one whose survivor the actor may
 * not read), CRM_EINVAL when it was undone already, CRM_ECONFLICT when a
 * later change makes undo unsafe (the survivor or a re-pointed record
 * changed, the other id is taken): nothing changes then.
 */
CRM_EXTERN(int) crm_merge_undo(crm_db *db, int64_t merge_id);

#ifdef __cplusplus
}
#endif
#endif
