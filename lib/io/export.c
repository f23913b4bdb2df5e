/* Export (include/crm/io.h): what to export and how, read from JSON; the
 * source (a query cursor or a report, so the actor's view applies); the
 * text writers (CSV, NDJSON, a JSON array) streaming in chunks through the
 * caller's callback; and the file variant that writes whole or not at all.
 * XLSX is built by export_xlsx.c. Spellings: docs/integration.md "Export". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/db_int.h"
#include "core/json_parse.h"
#include "crm/io.h"
#include "store/schema.h"
#include "export_int.h"

enum { FMT_CSV, FMT_NDJSON, FMT_JSON, FMT_XLSX };
static const char *const format_names[] = { "csv", "ndjson", "json", "xlsx" };
static const char *const header_names[] = { "names", "labels" };

/* Bytes gathered before they go to the callback: big enough that the
 * callback is not called per row, small enough to be constant memory. */
#define CHUNK ((size_t)64 << 10)

typedef struct options {
	int format, labels, bom, system;
} options;

/* ---- options ---- */

static int pick(crm_db *db, const cJSON *m, const char *path, const char *const *names, int n, int *out)
{
	if (cJSON_IsString(m))
		for (int i = 0; i < n; i++)
			if (strcmp(m->valuestring, names[i]) == 0) {
				*out = i;
				return CRM_OK;
			}
	if (n == 2)
		return crm__error_path(db, path, "must be \"%s\" or \"%s\"", names[0], names[1]);
	return crm__error_path(db, path, "must be one of \"%s\", \"%s\", \"%s\", \"%s\"", names[0], names[1], names[2],
			       names[3]);
}

static int flag(crm_db *db, const cJSON *m, const char *path, int *out)
{
	if (!cJSON_IsBool(m))
		return crm__error_path(db, path, "must be true or false");
	*out = cJSON_IsTrue(m);
	return CRM_OK;
}

static int parse_options(crm_db *db, const char *json, options *o)
{
	cJSON *root, *m;
	int rc = CRM_OK;

	memset(o, 0, sizeof *o);
	if (!json || !*json)
		return CRM_OK;
	if ((rc = crm__json_parse(db, json, "the export options", &root)))
		return rc;
	if (!cJSON_IsObject(root))
		rc = crm__error(db, CRM_EINVAL, "the export options must be a JSON object");
	for (m = rc ? NULL : root->child; m && !rc; m = m->next) {
		if (strcmp(m->string, "format") == 0)
			rc = pick(db, m, "options.format", format_names, 4, &o->format);
		else if (strcmp(m->string, "headers") == 0)
			rc = pick(db, m, "options.headers", header_names, 2, &o->labels);
		else if (strcmp(m->string, "bom") == 0)
			rc = flag(db, m, "options.bom", &o->bom);
		else if (strcmp(m->string, "system") == 0)
			rc = flag(db, m, "options.system", &o->system);
		else
			rc = crm__error_path(db, "options", "unknown member \"%.64s\" (format, headers, bom, system)",
					     m->string);
	}
	if (!rc && o->bom && o->format != FMT_CSV)
		rc = crm__error_path(db, "options.bom", "applies to CSV only");
	cJSON_Delete(root);
	return rc;
}

/* ---- the source and its columns ---- */

int crm__export_next(crm__export *e) { return e->cur ? crm_cursor_next(e->cur) : crm_report_next(e->rep); }

static void export_close(crm__export *e)
{
	crm_cursor_free(e->cur);
	crm_report_free(e->rep);
	for (int k = 0; k < e->ncols; k++)
		crm__free(e->header[k]);
	crm__free(e->header);
	crm__free(e->col);
	crm__free(e->name);
}

/* The label of field `name` in the form definition `def`, or NULL. */
static const char *field_label(const cJSON *def, const char *name)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(def, "fields"))
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(f, "name");
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(f, "label");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return cJSON_IsString(l) && *l->valuestring ? l->valuestring : NULL;
	}
	return NULL;
}

/* Labels head the columns only when the importer can map each back to its
 * own field: no two alike, and none the name of another field of the form
 * (names are tried first). `def` is the form's definition (NULL: a report). */
static int labels_unambiguous(crm__export *e, const cJSON *def)
{
	const cJSON *f;

	for (int k = 0; k < e->ncols; k++) {
		const char *name = crm_row_column_name(e->row, e->col[k]);
		for (int j = 0; j < k; j++)
			if (strcmp(e->header[j], e->header[k]) == 0)
				return crm__error(e->db, CRM_EINVAL,
						  "columns %s and %s share the label \"%s\", which the file could not be read back "
						  "by: export with \"headers\": \"names\" or give them distinct labels",
						  crm_row_column_name(e->row, e->col[j]), name, e->header[k]);
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(def, "fields"))
		{
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(f, "name");
			if (cJSON_IsString(n) && strcmp(n->valuestring, e->header[k]) == 0 && strcmp(n->valuestring, name) != 0)
				return crm__error(e->db, CRM_EINVAL,
						  "column %s is labelled \"%s\", the name of another field, which the file could not "
						  "be read back by: export with \"headers\": \"names\" or change the label",
						  name, e->header[k]);
		}
	}
	return CRM_OK;
}

/* The exported columns: every column of the source but a query's system
 * columns (unless asked for), headed by name or label. */
static int columns(crm__export *e, const options *o)
{
	int n = crm_row_column_count(e->row), rc = CRM_OK;
	char *text = NULL;
	cJSON *def = NULL;

	if (o->labels && e->cur) {
		if ((rc = crm_form_get(e->db, e->name, &text)))
			return rc;
		def = cJSON_Parse(text);
		crm_free(text);
		if (!def)
			return crm__error_oom(e->db);
	}
	e->col = crm__calloc((size_t)n + 1, sizeof *e->col);
	e->header = crm__calloc((size_t)n + 1, sizeof *e->header);
	for (int i = 0; i < n && !rc; i++) {
		const char *name = crm_row_column_name(e->row, i), *h = name;
		if (!e->col || !e->header) {
			rc = crm__error_oom(e->db);
			break;
		}
		if (e->cur && !o->system && crm__is_system_column(name))
			continue;
		if (o->labels) {
			const char *l = e->cur ? field_label(def, name) : crm_report_column_label(e->rep, i);
			h = l && *l ? l : name;
		}
		e->col[e->ncols] = i;
		if (!(e->header[e->ncols++] = crm__strdup(h)))
			rc = crm__error_oom(e->db);
	}
	if (!rc && o->labels)
		rc = labels_unambiguous(e, def);
	cJSON_Delete(def);
	return rc;
}

/* A member of the `what` object of the right JSON type, or an error. */
static int member(crm_db *db, const cJSON *m, int want_string)
{
	char path[16];

	if (want_string ? cJSON_IsString(m) && *m->valuestring : cJSON_IsObject(m) || cJSON_IsNull(m))
		return CRM_OK;
	snprintf(path, sizeof path, "what.%s", m->string);
	return crm__error_path(db, path, want_string ? "must be a non-empty string" : "must be an object");
}

/* Read `what_json` and open its source: crm_query or crm_report_run, whose
 * errors (a form the actor may not read ...) come back unchanged. */
static int start(crm__export *e, const char *what_json)
{
	static const char *const keys[] = { "form", "report", "query", "params" };
	const cJSON *got[4] = { NULL, NULL, NULL, NULL }, *args;
	cJSON *root, *m;
	char *text = NULL;
	int rc;

	if (!what_json)
		return crm__error(e->db, CRM_EINVAL, "nothing to export: give {\"form\": ...} or {\"report\": ...}");
	if ((rc = crm__json_parse(e->db, what_json, "what to export", &root)))
		return rc;
	if (!cJSON_IsObject(root))
		rc = crm__error(e->db, CRM_EINVAL, "what to export must be a JSON object");
	for (m = rc ? NULL : root->child; m && !rc; m = m->next) {
		int k = 0;
		while (k < 4 && strcmp(m->string, keys[k]) != 0)
			k++;
		if (k == 4 || got[k])
			rc = crm__error_path(e->db, "what", "%s member \"%.64s\" (form and query, or report and params)",
					     k == 4 ? "unknown" : "repeated", m->string);
		else if (!(rc = member(e->db, m, k < 2)))
			got[k] = m;
	}
	if (!rc && (!got[0] == !got[1] || (got[0] && got[3]) || (got[1] && got[2])))
		rc = crm__error(e->db, CRM_EINVAL,
				"what to export is {\"form\": F, \"query\": {...}} or {\"report\": R, \"params\": {...}}");
	args = got[0] ? got[2] : got[3];
	if (!rc && cJSON_IsObject(args) && !(text = cJSON_PrintUnformatted(args)))
		rc = crm__error_oom(e->db);
	if (!rc && !(e->name = crm__strdup((got[0] ? got[0] : got[1])->valuestring)))
		rc = crm__error_oom(e->db);
	if (!rc && got[1] && !(rc = crm_report_run(&e->rep, e->db, e->name, text)))
		e->row = crm_report_row(e->rep);
	else if (!rc && got[0] && !(rc = crm_query(&e->cur, e->db, e->name, text)))
		e->row = crm_cursor_row(e->cur);
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}

/* ---- the text writers ---- */

/* RFC 4180: quoted when it holds a separator, a quote or a line break, and
 * when it starts or ends with a space or tab (libcsv, the importer's
 * parser, trims those from unquoted fields). Null and "" are both empty. */
static void csv_field(crm__buf *b, const char *s, size_t n)
{
	const char *q;
	int quote = n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');

	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (!quote) {
		crm__buf_put(b, s, n);
		return;
	}
	crm__buf_putc(b, '"');
	while ((q = memchr(s, '"', n))) {
		size_t upto = (size_t)(q - s) + 1;
		crm__buf_put(b, s, upto);
		crm__buf_putc(b, '"');
		s += upto, n -= upto;
	}
	crm__buf_put(b, s, n);
	crm__buf_putc(b, '"');
}

/* A json field's text as stored keeps its author's white space: drop what
 * lies outside strings, so an NDJSON line stays one line. */
static void json_compact(crm__buf *b, const char *s, size_t n)
{
	size_t from = 0;
	int in_string = 0;

	for (size_t i = 0; i < n; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = 0;
		} else if (s[i] == '"') {
			in_string = 1;
		} else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			crm__buf_put(b, s + from, i - from);
			from = i + 1;
		}
	}
	crm__buf_put(b, s + from, n - from);
}

/* Column i's value as a record read writes it: numbers (decimals exact),
 * booleans, multi_enum arrays and json as JSON, the rest as strings. */
static void json_value(crm__buf *b, crm_row *row, int i)
{
	const char *s = crm_row_text(row, i);
	size_t n = crm_row_bytes(row, i);

	if (!s) {
		crm__buf_puts(b, "null");
		return;
	}
	switch (crm_row_column_type(row, i)) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_REF:
	case CRM_TYPE_DECIMAL:
	case CRM_TYPE_NUMBER:
	case CRM_TYPE_BOOLEAN:
	case CRM_TYPE_MULTI_ENUM: crm__buf_put(b, s, n); break;
	case CRM_TYPE_JSON: json_compact(b, s, n); break;
	default: crm__json_str(b, s, n); break;
	}
}

static void put_row(crm__buf *b, const crm__export *e, int format)
{
	if (format == FMT_CSV) {
		for (int k = 0; k < e->ncols; k++) {
			const char *s = crm_row_text(e->row, e->col[k]);
			if (k)
				crm__buf_putc(b, ',');
			if (s && *s)
				csv_field(b, s, crm_row_bytes(e->row, e->col[k]));
			else if (e->ncols == 1)
				crm__buf_puts(b, "\"\""); /* a blank line would be no row at all to a CSV reader */
		}
		crm__buf_puts(b, "\r\n");
		return;
	}
	crm__buf_putc(b, '{');
	for (int k = 0; k < e->ncols; k++) {
		if (k)
			crm__buf_putc(b, ',');
		crm__json_cstr(b, e->header[k]);
		crm__buf_putc(b, ':');
		json_value(b, e->row, e->col[k]);
	}
	crm__buf_puts(b, format == FMT_NDJSON ? "}\n" : "}");
}

/* Hand the gathered bytes to the callback once there are `min` of them. */
static int drain(crm_db *db, crm__buf *b, size_t min, crm_write_fn write, void *payload)
{
	if (b->oom)
		return crm__error_oom(db);
	if (b->len == 0 || b->len < min)
		return CRM_OK;
	if (write(payload, b->p, b->len) != 0)
		return crm__error(db, CRM_EIO, "export: the write callback failed");
	crm__buf_reset(b);
	return CRM_OK;
}

static int text_export(crm__export *e, const options *o, crm_write_fn write, void *payload)
{
	crm__buf b = CRM__BUF_INIT;
	int64_t rows = 0;
	int rc;

	if (o->bom)
		crm__buf_puts(&b, "\xEF\xBB\xBF");
	if (o->format == FMT_CSV) {
		for (int k = 0; k < e->ncols; k++) {
			if (k)
				crm__buf_putc(&b, ',');
			csv_field(&b, e->header[k], strlen(e->header[k]));
		}
		crm__buf_puts(&b, "\r\n");
	} else if (o->format == FMT_JSON) {
		crm__buf_putc(&b, '[');
	}
	while ((rc = crm__export_next(e)) == CRM_ROW) {
		if (o->format == FMT_JSON)
			crm__buf_puts(&b, rows ? ",\n" : "\n");
		put_row(&b, e, o->format);
		rows++;
		if ((rc = drain(e->db, &b, CHUNK, write, payload)))
			break;
	}
	if (rc == CRM_DONE) {
		if (o->format == FMT_JSON)
			crm__buf_puts(&b, rows ? "\n]\n" : "]\n");
		rc = drain(e->db, &b, 1, write, payload);
	}
	crm__buf_free(&b);
	return rc;
}

/* ---- XLSX through the callback: built in a temporary file, then streamed ---- */

static int stream_file(crm_db *db, const char *path, crm_write_fn write, void *payload)
{
	FILE *f = fopen(path, "rb");
	char *chunk = crm__malloc(CHUNK);
	size_t n;
	int rc = CRM_OK;

	if (!f || !chunk)
		rc = f ? crm__error_oom(db) : crm__error(db, CRM_EIO, "export: cannot read back the XLSX file: %s",
							 strerror(errno));
	while (!rc && (n = fread(chunk, 1, CHUNK, f)) > 0)
		if (write(payload, chunk, n) != 0)
			rc = crm__error(db, CRM_EIO, "export: the write callback failed");
	if (!rc && ferror(f))
		rc = crm__error(db, CRM_EIO, "export: cannot read back the XLSX file");
	if (f)
		fclose(f);
	crm__free(chunk);
	return rc;
}

/* A new empty file named `prefix` + 6 random characters, its name in `b`:
 * the descriptor, or -1 with the error set. */
static int temp_file(crm_db *db, crm__buf *b, const char *prefix)
{
	int fd;

	crm__buf_puts(b, prefix);
	crm__buf_puts(b, ".XXXXXX");
	crm__buf_cstr(b); /* NUL-terminated from here on: b->p is the name */
	if (b->oom)
		return crm__error_oom(db), -1;
	if ((fd = mkstemp(b->p)) < 0)
		crm__error(db, CRM_EIO, "export: cannot create %s: %s", b->p, strerror(errno));
	return fd;
}

static int xlsx_stream(crm__export *e, crm_write_fn write, void *payload)
{
	const char *dir = getenv("TMPDIR");
	crm__buf path = CRM__BUF_INIT;
	int rc, fd;

	crm__buf_puts(&path, dir && *dir ? dir : "/tmp");
	if ((fd = temp_file(e->db, &path, "/crm-export")) < 0) {
		crm__buf_free(&path);
		return e->db->errcode;
	}
	close(fd);
	if (!(rc = crm__export_xlsx(e, path.p)))
		rc = stream_file(e->db, path.p, write, payload);
	unlink(path.p);
	crm__buf_free(&path);
	return rc;
}

/* ---- the API ---- */

static int begin(crm_db *db, const char *what_json, const char *options_json, crm__export *e, options *o)
{
	int rc;

	memset(e, 0, sizeof *e);
	e->db = db;
	if ((rc = parse_options(db, options_json, o)) || (rc = start(e, what_json)))
		return rc;
	return columns(e, o);
}

int crm_export(crm_db *db, const char *what_json, const char *options_json, crm_write_fn write, void *payload)
{
	crm__export e;
	options o;
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (!write)
		return crm__error(db, CRM_EMISUSE, "export: no write callback");
	if (!(rc = begin(db, what_json, options_json, &e, &o)))
		rc = o.format == FMT_XLSX ? xlsx_stream(&e, write, payload) : text_export(&e, &o, write, payload);
	export_close(&e);
	return rc;
}

typedef struct file_sink {
	FILE *f;
	int err; /* errno of the failed write */
} file_sink;

static int file_write(void *payload, const void *data, size_t len)
{
	file_sink *s = payload;

	if (fwrite(data, 1, len, s->f) == len)
		return 0;
	s->err = errno;
	return -1;
}

int crm_export_file(crm_db *db, const char *what_json, const char *options_json, const char *path)
{
	crm__buf tmp = CRM__BUF_INIT;
	file_sink sink = { NULL, 0 };
	crm__export e;
	options o;
	int rc, fd;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (!path || !*path)
		return crm__error(db, CRM_EINVAL, "export: no file name");
	/* The source opens first: a refused export leaves no file behind. */
	if ((rc = begin(db, what_json, options_json, &e, &o)) || (fd = temp_file(db, &tmp, path)) < 0) {
		export_close(&e);
		crm__buf_free(&tmp);
		return rc ? rc : db->errcode;
	}
	if (o.format == FMT_XLSX) {
		close(fd);
		rc = crm__export_xlsx(&e, tmp.p);
	} else if (!(sink.f = fdopen(fd, "wb"))) {
		close(fd);
		rc = crm__error_oom(db);
	} else {
		rc = text_export(&e, &o, file_write, &sink);
		if (fclose(sink.f) != 0 && !rc)
			sink.err = errno, rc = CRM_EIO;
		if (rc == CRM_EIO)
			crm__error(db, CRM_EIO, "export: cannot write %s: %s", path, strerror(sink.err));
	}
	if (!rc && rename(tmp.p, path) != 0)
		rc = crm__error(db, CRM_EIO, "export: cannot write %s: %s", path, strerror(errno));
	if (rc)
		unlink(tmp.p);
	export_close(&e);
	crm__buf_free(&tmp);
	return rc;
}
