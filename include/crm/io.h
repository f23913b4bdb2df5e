/*
 * libcrm — data services: import, export, duplicates and merge
 * (docs/integration.md). Each service has its own block below.
 */
#ifndef CRM_IO_H
#define CRM_IO_H

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

#ifdef __cplusplus
}
#endif
#endif
