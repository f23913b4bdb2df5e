/* crm_import_file / crm_import_buffer: read CSV, NDJSON or a JSON array in
 * chunks (never the whole file, except a JSON array: see JSON_MAX), decode
 * it to UTF-8, map columns to fields and hand each row to the row writer
 * (lib/io/import_rows.c). Options, formats and modes: docs/integration.md
 * "Import". */
#include <cJSON.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/db_int.h"
#include "crm/io.h"
#include "import_int.h"

/* Input read at a time. */
#define CHUNK (64 * 1024)
/* A JSON array is parsed whole: larger inputs should come as NDJSON. */
#define JSON_MAX ((size_t)64 << 20)

enum format { FMT_NONE, FMT_CSV, FMT_NDJSON, FMT_JSON };

typedef struct import {
	crm_db *db;
	const crm_import_options *opts;
	cJSON *options;
	const char *path; /* NULL for a buffer */
	int format, enc, header, best_effort;
	unsigned char delim;
	crm__rows *rows;
	crm__csv *csv;
	crm__decoder dec;
	crm__buf text;  /* the decoded chunk */
	crm__buf line;  /* NDJSON: a line cut by the chunk's end; JSON: the whole text */
	int *cols;      /* CSV: field position per column */
	int ncols;
	int64_t row, bytes_done, bytes_total;
	int started;    /* the header is read (CSV) or the first row seen */
	int cancelled;
	int64_t progress_rows;
} import;

/* ---- options ---- */

static int one_of(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* A string option `key` among `names` (index into them; `def` when absent). */
static int choice(crm_db *db, const cJSON *o, const char *key, const char *const *names, int n, int def, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = def;
	if (!v)
		return CRM_OK;
	if (!cJSON_IsString(v) || (*out = one_of(v->valuestring, names, n)) < 0)
		return crm__error_path(db, key, "must be one of the documented values");
	return CRM_OK;
}

static int parse_options(import *im)
{
	static const char *const keys[] = { "format", "encoding", "delimiter", "header", "map", "upsert", "mode", "errors" };
	static const char *const formats[] = { "", "csv", "ndjson", "json" };
	static const char *const encs[] = { "auto", "utf-8", "gbk", "gb18030" };
	static const char *const headers[] = { "auto", "names", "labels" };
	static const char *const modes[] = { "atomic", "best-effort" };
	crm_db *db = im->db;
	const char *json = im->opts ? im->opts->json : NULL;
	const cJSON *v;
	int rc;

	if (im->opts && im->opts->version != CRM_IMPORT_OPTIONS_VERSION)
		return crm__error(db, CRM_EMISUSE, "crm_import_options.version must be CRM_IMPORT_OPTIONS_VERSION");
	if (!json)
		json = "{}";
	if (!(im->options = cJSON_ParseWithLength(json, strlen(json))) || !cJSON_IsObject(im->options))
		return crm__error(db, CRM_EINVAL, "import options must be a JSON object");
	for (const cJSON *m = im->options->child; m; m = m->next)
		if (one_of(m->string, keys, (int)(sizeof keys / sizeof *keys)) < 0)
			return crm__error_path(db, m->string, "unknown import option");
	if ((rc = choice(db, im->options, "format", formats, 4, FMT_NONE, &im->format)) ||
	    (rc = choice(db, im->options, "encoding", encs, 4, CRM__ENC_AUTO, &im->enc)) ||
	    (rc = choice(db, im->options, "header", headers, 3, CRM__HEADER_AUTO, &im->header)) ||
	    (rc = choice(db, im->options, "mode", modes, 2, 0, &im->best_effort)))
		return rc;
	if (im->format == FMT_NONE && cJSON_GetObjectItemCaseSensitive(im->options, "format"))
		return crm__error_path(db, "format", "must be csv, ndjson or json");
	im->delim = ',';
	if ((v = cJSON_GetObjectItemCaseSensitive(im->options, "delimiter"))) {
		if (!cJSON_IsString(v) || strlen(v->valuestring) != 1 || strchr("\"\r\n", v->valuestring[0]) ||
		    (unsigned char)v->valuestring[0] >= 0x80)
			return crm__error_path(db, "delimiter", "must be one ASCII character other than a quote or newline");
		im->delim = (unsigned char)v->valuestring[0];
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(im->options, "map"))) {
		if (!cJSON_IsObject(v))
			return crm__error_path(db, "map", "must be an object of \"column\": \"field\"");
		for (const cJSON *m = v->child; m; m = m->next)
			if (!cJSON_IsString(m))
				return crm__error_path(db, "map", "the field for column '%.60s' must be a string", m->string);
	}
	v = cJSON_GetObjectItemCaseSensitive(im->options, "upsert");
	if (v && (!cJSON_IsString(v) || !*v->valuestring))
		return crm__error_path(db, "upsert", "must name the fields of a unique key");
	v = cJSON_GetObjectItemCaseSensitive(im->options, "errors");
	if (v && (!cJSON_IsString(v) || !*v->valuestring))
		return crm__error_path(db, "errors", "must be a file path");
	return CRM_OK;
}

/* The format from a file's extension, else from the first text. */
static int sniff_format(const char *path, const char *p, size_t n)
{
	const char *dot = path ? strrchr(path, '.') : NULL;
	size_t i = 0;

	if (dot && (strcmp(dot, ".csv") == 0 || strcmp(dot, ".tsv") == 0 || strcmp(dot, ".txt") == 0))
		return FMT_CSV;
	if (dot && (strcmp(dot, ".ndjson") == 0 || strcmp(dot, ".jsonl") == 0))
		return FMT_NDJSON;
	if (dot && strcmp(dot, ".json") == 0)
		return FMT_JSON;
	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < n && strchr(" \t\r\n", p[i]))
		i++;
	return i < n && p[i] == '[' ? FMT_JSON : i < n && p[i] == '{' ? FMT_NDJSON : FMT_CSV;
}

/* ---- rows ---- */

/* After each row: best-effort chunks commit, and the host hears how far we are. */
static int after_row(import *im)
{
	int rc = crm__rows_chunk(im->rows);

	if (rc == CRM_OK && im->opts && im->opts->progress && ++im->progress_rows >= 1000) {
		im->progress_rows = 0;
		if (im->opts->progress(im->opts->progress_payload, crm__rows_count(im->rows), im->bytes_done,
				       im->bytes_total))
			im->cancelled = 1;
	}
	return rc;
}

static int csv_header(import *im, const crm__cells *c)
{
	crm_db *db = im->db;
	crm__buf unknown = CRM__BUF_INIT;
	int rc = CRM_OK;

	if (!(im->cols = crm__calloc((size_t)c->count + 1, sizeof *im->cols)))
		return crm__error_oom(db);
	im->ncols = c->count;
	for (int i = 0; i < c->count; i++) {
		const char *name = c->p[i];
		size_t n = c->n[i];
		/* Excel pads headers now and then. */
		while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
			n--;
		while (n && (*name == ' ' || *name == '\t'))
			name++, n--;
		im->cols[i] = crm__rows_column(im->rows, name, n);
		if (im->cols[i] == CRM__COL_UNKNOWN && n == 0 && c->count > 1)
			im->cols[i] = CRM__COL_IGNORED; /* a blank header: an empty trailing column */
		if (im->cols[i] == CRM__COL_UNKNOWN)
			crm__buf_printf(&unknown, "%s'%.*s'", unknown.len ? ", " : "", (int)(n > 60 ? 60 : n), name);
		for (int k = 0; k < i && rc == CRM_OK; k++)
			if (im->cols[i] >= 0 || im->cols[i] == CRM__COL_OWNER)
				if (im->cols[k] == im->cols[i])
					rc = crm__error(db, CRM_EINVAL, "columns %d and %d both go to the same field", k + 1,
							i + 1);
	}
	if (unknown.oom)
		rc = crm__error_oom(db);
	else if (rc == CRM_OK && unknown.len)
		rc = crm__error(db, CRM_EINVAL,
				"form %s has no field for column %s (map it to a field, or to \"\" to ignore it)",
				crm__rows_form(im->rows), crm__buf_cstr(&unknown));
	crm__buf_free(&unknown);
	if (rc == CRM_OK)
		rc = crm__rows_check_key(db, im->rows, im->cols, im->ncols);
	return rc;
}

static int csv_row(void *payload, const crm__cells *c)
{
	import *im = payload;
	int rc, extra = 0;

	if (!im->started) {
		im->started = 1;
		return csv_header(im, c);
	}
	size_t room = 64;

	crm__rows_begin(im->rows, ++im->row);
	for (int i = 0; i < c->count && i < im->ncols; i++)
		room += crm__rows_room(im->rows, im->cols[i], c->n[i]);
	if ((rc = crm__rows_reserve(im->rows, room)))
		return rc;
	for (int i = 0; i < c->count; i++) {
		if (i >= im->ncols) {
			extra |= c->n[i] > 0;
			continue;
		}
		crm__rows_set_text(im->rows, im->cols[i], c->p[i], c->n[i]);
	}
	if (extra)
		crm__rows_fail(im->rows, NULL, "columns", "the row has %d cells; the header names %d columns", c->count,
			       im->ncols);
	if ((rc = crm__rows_end(im->rows)) == CRM_OK)
		rc = after_row(im);
	return rc ? rc : im->cancelled ? CRM_DONE : 0; /* CRM_DONE: stop reading */
}

/* One NDJSON line or JSON array element: an object is a row. */
static int json_row(import *im, const char *p, size_t n, int is_object)
{
	int rc;

	crm__rows_begin(im->rows, ++im->row);
	if (!is_object)
		crm__rows_fail(im->rows, NULL, "json", "row %lld is not a JSON object", (long long)im->row);
	else if ((rc = crm__rows_object(im->rows, p, n)))
		return rc;
	if ((rc = crm__rows_end(im->rows)) == CRM_OK)
		rc = after_row(im);
	return rc;
}

static int ndjson_lines(import *im, const char *p, size_t n, int last)
{
	size_t i = 0;
	int rc = CRM_OK;

	while (rc == CRM_OK && !im->cancelled && i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - p) : n;
		const char *s;
		size_t len;
		if (!nl && !last) {
			crm__buf_put(&im->line, p + i, n - i);
			break;
		}
		if (im->line.len) {
			crm__buf_put(&im->line, p + i, end - i);
			s = im->line.p, len = im->line.len;
		} else
			s = p + i, len = end - i;
		if (im->line.oom)
			return crm__error_oom(im->db);
		while (len && strchr(" \t\r", s[0]))
			s++, len--;
		while (len && strchr(" \t\r", s[len - 1]))
			len--;
		if (len)
			rc = json_row(im, s, len, s[0] == '{');
		crm__buf_reset(&im->line);
		i = end + 1;
	}
	if (rc == CRM_OK && im->line.len > JSON_MAX)
		return crm__error(im->db, CRM_ELIMIT, "NDJSON line %lld is longer than %zu MiB", (long long)im->row + 1,
				  JSON_MAX >> 20);
	return rc;
}

static int json_array(import *im)
{
	crm__jscan sc;
	crm__jval el;
	int r, rc = CRM_OK;

	if (!im->line.len)
		return crm__error(im->db, CRM_EINVAL, "the input is empty: a JSON array was expected");
	crm__jscan_init(&sc, im->line.p, im->line.len, (int)im->db->limits[CRM_LIMIT_JSON_DEPTH] + 1, NULL);
	while (rc == CRM_OK && !im->cancelled && (r = crm__jscan_element(&sc, &el)) == 1)
		rc = json_row(im, el.p, el.n, el.type == CRM__J_OBJECT);
	if (rc == CRM_OK && !im->cancelled && r < 0)
		rc = crm__error(im->db, CRM_EINVAL, "the input is not a valid JSON array: %s at byte %zu", sc.err,
				sc.err_pos);
	return rc;
}

/* Decode one chunk of input and hand its text on. */
static int feed(import *im, const char *p, size_t n, int last)
{
	int rc;

	crm__buf_reset(&im->text);
	if ((rc = crm__decoder_feed(im->db, &im->dec, p, n, last, &im->text)))
		return rc;
	im->bytes_done += (int64_t)n;
	switch (im->format) {
	case FMT_CSV: rc = crm__csv_feed(im->db, im->csv, im->text.p, im->text.len, last); break;
	case FMT_NDJSON: rc = ndjson_lines(im, im->text.p, im->text.len, last); break;
	default:
		if (im->text.len)
			crm__buf_put(&im->line, im->text.p, im->text.len);
		if (im->line.oom)
			return crm__error_oom(im->db);
		if (im->line.len > JSON_MAX)
			return crm__error(im->db, CRM_ELIMIT, "a JSON array import is limited to %zu MiB: use NDJSON",
					  JSON_MAX >> 20);
		if (last)
			rc = json_array(im);
	}
	if (rc == CRM_DONE && im->cancelled)
		rc = CRM_OK;
	if (rc == CRM_OK && last && im->format == FMT_CSV && !im->started)
		rc = crm__error(im->db, CRM_EINVAL, "the CSV input has no header row");
	return rc;
}

/* ---- the source: a file read in chunks, or a buffer ---- */

typedef struct source {
	FILE *f;
	const char *data;
	size_t len, at;
	char *buf;
} source;

/* The next up-to-`want` bytes; *last when the input ends with them. */
static int next_chunk(crm_db *db, source *s, size_t want, const char **p, size_t *n, int *last)
{
	if (!s->f) {
		*p = s->data + s->at;
		*n = s->len - s->at < want ? s->len - s->at : want;
		s->at += *n;
		*last = s->at == s->len;
		return CRM_OK;
	}
	*n = 0;
	while (*n < want) {
		size_t got = fread(s->buf + *n, 1, want - *n, s->f);
		if (got == 0)
			break;
		*n += got;
	}
	if (ferror(s->f))
		return crm__error(db, CRM_EIO, "cannot read the import file");
	*p = s->buf;
	*last = *n < want || (ungetc(getc(s->f), s->f) == EOF && feof(s->f));
	return CRM_OK;
}

static int run(import *im, source *src, const char *form, char **out)
{
	crm_db *db = im->db;
	const cJSON *upsert = cJSON_GetObjectItemCaseSensitive(im->options, "upsert");
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(im->options, "errors");
	const char *p;
	size_t n;
	int last, rc, enc;

	if ((rc = next_chunk(db, src, CRM__ENC_SNIFF, &p, &n, &last)))
		return rc;
	if (im->format == FMT_NONE)
		im->format = sniff_format(im->path, p, n);
	if (im->format == FMT_CSV && !cJSON_GetObjectItemCaseSensitive(im->options, "delimiter") && im->path &&
	    strlen(im->path) > 4 && strcmp(im->path + strlen(im->path) - 4, ".tsv") == 0)
		im->delim = '\t';
	enc = im->enc;
	if (enc == CRM__ENC_AUTO && (enc = crm__enc_sniff(p, n, last)) < 0)
		return crm__error(db, CRM_EINVAL,
				  "the input is neither UTF-8 nor GB18030 text (binary data, or UTF-16: save it as UTF-8 CSV)");
	if ((rc = crm__decoder_open(db, &im->dec, enc)))
		return rc;
	if (im->format == FMT_CSV && !(im->csv = crm__csv_open(im->delim, csv_row, im)))
		return crm__error_oom(db);
	if ((rc = crm__rows_open(db, form, upsert ? upsert->valuestring : NULL, im->best_effort, &im->rows)))
		return rc;
	crm__rows_map(im->rows, cJSON_GetObjectItemCaseSensitive(im->options, "map"), im->header);
	if (errors && (rc = crm__rows_errors_to(db, im->rows, errors->valuestring)))
		return rc;
	for (;;) {
		if ((rc = feed(im, p, n, last)) || last || im->cancelled)
			break;
		if (im->opts && im->opts->progress &&
		    im->opts->progress(im->opts->progress_payload, crm__rows_count(im->rows), im->bytes_done, im->bytes_total)) {
			im->cancelled = 1;
			break;
		}
		if ((rc = next_chunk(db, src, CHUNK, &p, &n, &last)))
			break;
	}
	/* Nothing was read: a bad header or an unreadable input is the call's
	 * failure, with no summary. */
	if (rc && crm__rows_count(im->rows) == 0)
		return rc;
	if (rc == CRM_OK && !im->cancelled && im->opts && im->opts->progress)
		im->opts->progress(im->opts->progress_payload, crm__rows_count(im->rows), im->bytes_done, im->bytes_total);
	{
		char stopped[256];
		snprintf(stopped, sizeof stopped, "%s", rc ? crm_errmsg(db) : "");
		return crm__rows_finish(im->rows, rc, im->cancelled, rc ? stopped : NULL, out);
	}
}

static int import_run(crm_db *db, const char *form, const char *path, const char *data, size_t len,
		      const crm_import_options *opts, char **out)
{
	import im = { .db = db, .opts = opts, .path = path, .bytes_total = -1 };
	source src = { .data = data, .len = len };
	int rc;

	if ((rc = crm__enter_out(db, out)))
		return rc;
	if (!form || (!path && !data && len))
		return crm__error(db, CRM_EMISUSE, "no form or no input given");
	im.dec.cd = (iconv_t)-1;
	if ((rc = parse_options(&im)) == CRM_OK && path) {
		struct stat st;
		if (!(src.f = fopen(path, "rb")))
			rc = crm__error(db, CRM_EIO, "cannot open %s", path);
		else if (!(src.buf = crm__malloc(CRM__ENC_SNIFF > CHUNK ? CRM__ENC_SNIFF : CHUNK)))
			rc = crm__error_oom(db);
		else if (fstat(fileno(src.f), &st) == 0 && S_ISREG(st.st_mode))
			im.bytes_total = (int64_t)st.st_size;
	} else
		im.bytes_total = (int64_t)len;
	if (rc == CRM_OK && !path && !data)
		src.data = "";
	if (rc == CRM_OK)
		rc = run(&im, &src, form, out);
	crm__rows_free(im.rows);
	crm__csv_free(im.csv);
	crm__decoder_close(&im.dec);
	crm__buf_free(&im.text);
	crm__buf_free(&im.line);
	crm__free(im.cols);
	cJSON_Delete(im.options);
	if (src.f)
		fclose(src.f);
	crm__free(src.buf);
	return rc;
}

int crm_import_file(crm_db *db, const char *form, const char *path, const crm_import_options *opts, char **out)
{
	if (!path)
		return db && out ? crm__error(db, CRM_EMISUSE, "no file given") : CRM_EMISUSE;
	return import_run(db, form, path, NULL, 0, opts, out);
}

int crm_import_buffer(crm_db *db, const char *form, const char *data, size_t len, const crm_import_options *opts,
		      char **out)
{
	return import_run(db, form, NULL, data, len, opts, out);
}
