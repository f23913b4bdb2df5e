/* Internals of import (lib/io/import*.c, csv_read.c, encoding.c): the text
 * decoder that turns the input into UTF-8, the CSV reader over libcsv, and
 * the row writer that converts cells by field type and writes records
 * through the form engine's write path. */
#ifndef CRM_IO_IMPORT_INT_H
#define CRM_IO_IMPORT_INT_H

#include <cJSON.h>
#include <iconv.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json_scan.h"
#include "crm/db.h"

/* ---- encoding.c ---- */

enum crm__enc { CRM__ENC_AUTO, CRM__ENC_UTF8, CRM__ENC_GBK, CRM__ENC_GB18030 };

/* Bytes read at the start of an input to decide its encoding. */
#define CRM__ENC_SNIFF (64 * 1024)

/* Which encoding the first bytes `p` (n of them, the whole input when
 * `all`) are in: UTF-8 (a BOM, or valid UTF-8 throughout, which plain ASCII
 * is), else GB18030 when they decode as it; -1 when neither (binary, UTF-16). */
int crm__enc_sniff(const char *p, size_t n, int all);

/* Streaming conversion to UTF-8. A UTF-8 BOM is dropped; GBK and GB18030
 * go through glibc's iconv. */
typedef struct crm__decoder {
	int enc;     /* enum crm__enc, never AUTO */
	iconv_t cd;  /* (iconv_t)-1 for UTF-8 */
	int started; /* the BOM check is done */
	char carry[8]; /* an incomplete sequence at the end of the last chunk */
	size_t ncarry;
	int64_t offset; /* input bytes consumed, for error positions */
} crm__decoder;

/* CRM_OK, or CRM_EINVAL on db when iconv has no such encoding. */
int crm__decoder_open(crm_db *db, crm__decoder *d, int enc);
/* Append the UTF-8 of `in` (n bytes; `last` when it ends the input) to
 * `out`. CRM_EINVAL on db for bytes that are not text in the encoding or a
 * NUL byte (no text holds U+0000), with the byte offset; CRM_ENOMEM. */
int crm__decoder_feed(crm_db *db, crm__decoder *d, const char *in, size_t n, int last, crm__buf *out);
void crm__decoder_close(crm__decoder *d);

/* ---- csv_read.c ---- */

/* One parsed CSV record: cell i is p[i] (n[i] bytes, NUL-terminated), valid during the callback. */
typedef struct crm__cells {
	const char **p;
	size_t *n;
	int count;
} crm__cells;
/* Called for every record; nonzero stops the reader (the code is kept). */
typedef int (*crm__csv_row_fn)(void *payload, const crm__cells *cells);

typedef struct crm__csv crm__csv;
/* A reader splitting `delim`-separated text (strict quoting: a stray or
 * unbalanced quote is an error) into records for `fn`. NULL when out of memory. */
crm__csv *crm__csv_open(unsigned char delim, crm__csv_row_fn fn, void *payload);
/* Feed n more bytes of UTF-8 text; `last` ends the input. CRM_OK, the
 * callback's nonzero code, or CRM_EINVAL/CRM_ELIMIT/CRM_ENOMEM set on db
 * (a syntax error names the record where it happened). */
int crm__csv_feed(crm_db *db, crm__csv *c, const char *p, size_t n, int last);
void crm__csv_free(crm__csv *c);

/* ---- import_rows.c: the write side ---- */

typedef struct crm__rows crm__rows;
/* How the columns of the input name fields. */
enum crm__header { CRM__HEADER_AUTO, CRM__HEADER_NAMES, CRM__HEADER_LABELS };

/* Open the writer on `form` inside a transaction it begins (atomic: one
 * for the whole import; best-effort: one per chunk and a savepoint per
 * row). `upsert` (may be NULL) names a unique key. */
int crm__rows_open(crm_db *db, const char *form, const char *upsert, int best_effort, crm__rows **out);
/* How columns and keys name fields: `map` (a JSON object "column":"field",
 * "" to ignore; borrowed, may be NULL) first, then names and/or labels. */
void crm__rows_map(crm__rows *r, const cJSON *map, int header);
enum { CRM__COL_UNKNOWN = -1, CRM__COL_OWNER = -2, CRM__COL_IGNORED = -3 };
/* The field position of column `name` (n bytes), or a CRM__COL_* code
 * (system columns an export writes, such as id, are ignored). */
int crm__rows_column(const crm__rows *r, const char *name, size_t n);
/* Check that every field of the upsert key is among `cols` (positions). */
int crm__rows_check_key(crm_db *db, const crm__rows *r, const int *cols, int ncols);
/* Start a record (data row `row`, 1-based). */
void crm__rows_begin(crm__rows *r, int64_t row);
/* Set column `pos` (crm__rows_column) from CSV cell text (converted by the field's type). */
void crm__rows_set_text(crm__rows *r, int pos, const char *p, size_t n);
/* Set column `pos` from a JSON value (as crm_record_insert takes it). */
void crm__rows_set_json(crm__rows *r, int pos, const crm__jval *v);
/* Set the columns from the members of the JSON object json[0..len)
 * (NDJSON, JSON arrays); an unknown key or broken JSON fails the row. */
int crm__rows_object(crm__rows *r, const char *json, size_t len);
/* A row-wide problem found while reading it (field may be NULL). */
void crm__rows_fail(crm__rows *r, const char *field, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Converted text cell `n` bytes long for column `pos` may need (sum it over
 * the row and reserve it before setting any value). */
size_t crm__rows_room(const crm__rows *r, int pos, size_t n);
/* Room for `n` bytes of converted text in the current record (before setting values). */
int crm__rows_reserve(crm__rows *r, size_t n);
/* Write the record. CRM_OK also when the row failed and the import goes on
 * (it is counted and reported); otherwise the code that stops the import. */
int crm__rows_end(crm__rows *r);
/* Chunk boundary (best-effort: commit, begin again). */
int crm__rows_chunk(crm__rows *r);
/* Finish: commit (or roll back: atomic with failures, `cancel`). Returns
 * the import's outcome code; *out gets the summary (`stopped`: a message
 * when the input ended the import early, else NULL). */
int crm__rows_finish(crm__rows *r, int rc, int cancelled, const char *stopped, char **out);
/* Stream every failing row to `path` as CSV (row,field,code,message). */
int crm__rows_errors_to(crm_db *db, crm__rows *r, const char *path);
int64_t crm__rows_count(const crm__rows *r);
/* The form's name, for messages. */
const char *crm__rows_form(const crm__rows *r);
void crm__rows_free(crm__rows *r);

#endif
