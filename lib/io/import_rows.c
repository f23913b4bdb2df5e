/* The write side of import: cells and JSON members become a record of the
 * form (cells converted by the field's type into the JSON value the write
 * path would take), written through the form engine's one write path —
 * validated, permission-checked, audited and evented like any write — as an
 * insert or, with an upsert key, as an update of the record holding the key.
 * Failing rows are counted, listed (the first 100) and streamed to the
 * error report. */
#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "form/form_int.h"
#include "import_int.h"

/* Rows committed together in best-effort mode. */
#define CHUNK_ROWS 1000
/* Failing rows listed in the summary. */
#define LISTED_ERRORS 100

struct crm__rows {
	crm_db *db;
	crm__form *form; /* retained */
	const crm__index *key;
	const cJSON *map;
	int header;
	int best_effort;
	int open;       /* our transaction is open */
	crm__record rec;
	crm__errors errs;
	crm__buf cells; /* converted cell text (multi-enum arrays) */
	int64_t row, rows, inserted, updated, failed, written; /* written: since the last chunk */
	int64_t kept_inserted, kept_updated; /* as of the last chunk committed (best-effort) */
	int64_t listed;
	crm__buf report; /* the listed errors: JSON objects separated by commas */
	FILE *errfile;
	int first_code;
};

int64_t crm__rows_count(const crm__rows *r) { return r->rows; }
const char *crm__rows_form(const crm__rows *r) { return r->form->name; }

static int begin(crm__rows *r)
{
	int rc;

	if ((rc = crm__tx_begin(r->db)))
		return rc;
	r->open = 1;
	/* Another connection may have changed the form between chunks. */
	if (r->form && (rc = crm__form_check_current(r->db, r->form))) {
		crm__tx_end(r->db, rc);
		r->open = 0;
	}
	return rc;
}

int crm__rows_open(crm_db *db, const char *form, const char *upsert, int best_effort, crm__rows **out)
{
	crm__rows *r;
	int rc;

	*out = NULL;
	if (!(r = crm__calloc(1, sizeof *r)))
		return crm__error_oom(db);
	r->db = db;
	r->best_effort = best_effort;
	crm__record_init(&r->rec);
	crm__errors_reset(&r->errs, db);
	/* The transaction first: the form is looked up in the snapshot it writes to. */
	if ((rc = begin(r)) == CRM_OK && (rc = crm__form_lookup(db, form, &r->form)) == CRM_OK) {
		crm__form_retain(r->form);
		if (crm__record_reset(&r->rec, r->form))
			rc = crm__error_oom(db);
		else if (upsert && !(r->key = crm__form_unique_key(db, r->form, upsert)))
			rc = db->errcode;
	}
	if (rc) {
		crm__rows_free(r);
		return rc;
	}
	*out = r;
	return CRM_OK;
}

void crm__rows_map(crm__rows *r, const cJSON *map, int header)
{
	r->map = map;
	r->header = header;
}

static int name_is(const char *a, const char *name, size_t n)
{
	return a && strlen(a) == n && memcmp(a, name, n) == 0;
}

int crm__rows_column(const crm__rows *r, const char *name, size_t n)
{
	const crm__form *form = r->form;
	char sys[16];

	for (const cJSON *m = r->map ? r->map->child : NULL; m; m = m->next)
		if (name_is(m->string, name, n)) {
			if (!cJSON_IsString(m) || !*m->valuestring)
				return CRM__COL_IGNORED;
			name = m->valuestring, n = strlen(name);
			for (int i = 0; i < form->nfields; i++)
				if (name_is(form->fields[i].name, name, n))
					return i;
			return name_is("owner", name, n) ? CRM__COL_OWNER : CRM__COL_UNKNOWN;
		}
	if (r->header != CRM__HEADER_LABELS)
		for (int i = 0; i < form->nfields; i++)
			if (name_is(form->fields[i].name, name, n))
				return i;
	if (r->header != CRM__HEADER_NAMES)
		for (int i = 0; i < form->nfields; i++)
			if (name_is(form->fields[i].label, name, n))
				return i;
	if (name_is("owner", name, n))
		return CRM__COL_OWNER;
	/* What an export writes besides the fields is maintained by libcrm:
	 * read back, it is left alone (docs/integration.md "Import"). */
	snprintf(sys, sizeof sys, "%.*s", (int)(n < 15 ? n : 15), name);
	if (n < 15 && crm__is_system_column(sys))
		return CRM__COL_IGNORED;
	return CRM__COL_UNKNOWN;
}

int crm__rows_check_key(crm_db *db, const crm__rows *r, const int *cols, int ncols)
{
	for (int k = 0; r->key && k < r->key->nfields; k++) {
		int found = 0;
		for (int i = 0; i < ncols; i++)
			found |= cols[i] == r->key->fields[k];
		if (!found)
			return crm__error(db, CRM_EINVAL, "the upsert key field %s is not among the columns",
					  r->form->fields[r->key->fields[k]].name);
	}
	return CRM_OK;
}

void crm__rows_begin(crm__rows *r, int64_t row)
{
	r->row = row;
	crm__record_clear(&r->rec, r->form);
	crm__errors_reset(&r->errs, r->db);
	crm__buf_reset(&r->cells);
}

int crm__rows_reserve(crm__rows *r, size_t n)
{
	return crm__buf_reserve(&r->rec.strings, n) ? crm__error_oom(r->db) : CRM_OK;
}

void crm__rows_fail(crm__rows *r, const char *field, const char *code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	crm__errors_add(&r->errs, field, code, "%s", msg);
}

void crm__rows_set_json(crm__rows *r, int pos, const crm__jval *v)
{
	crm__record *rec = &r->rec;
	crm__verr verr;

	if (pos == CRM__COL_OWNER) {
		if (v->type == CRM__J_STRING && memchr(v->p, 0, v->n))
			crm__errors_add(&r->errs, "owner", "nul", "owner contains U+0000 (\\u0000), which no text may hold");
		else if (v->type == CRM__J_STRING && v->n > 0) {
			rec->owner.kind = CRM__V_TEXT;
			rec->owner.s = v->p;
			rec->owner.n = v->n;
		} else if (v->type != CRM__J_NULL && !(v->type == CRM__J_STRING && v->n == 0))
			crm__errors_add(&r->errs, "owner", "type", "owner must be a string or null");
		rec->owner_given = 1;
		return;
	}
	if (pos < 0)
		return;
	if (rec->given[pos]) {
		crm__errors_add(&r->errs, r->form->fields[pos].name, "duplicate", "%s is given twice",
				r->form->fields[pos].name);
		return;
	}
	rec->given[pos] = CRM__GIVEN;
	if (crm__value_from_json(&rec->values[pos], &r->form->fields[pos], v, &rec->strings,
				 (int)r->db->limits[CRM_LIMIT_JSON_DEPTH], &verr)) {
		crm__errors_add(&r->errs, r->form->fields[pos].name, verr.code, "%s", verr.message);
		rec->given[pos] = CRM__GIVEN_BAD;
	}
}

/* A JSON number literal (RFC 8259), the whole of p[0..n): the scanner's own rule. */
static int is_json_number(const char *p, size_t n)
{
	const char *err;
	size_t at;

	return n && (p[0] == '-' || (p[0] >= '0' && p[0] <= '9')) && crm__json_validate(p, n, 1, &err, &at) == 0;
}

static void trim(const char **p, size_t *n)
{
	while (*n && strchr(" \t\r\n", (*p)[0]))
		(*p)++, (*n)--;
	while (*n && strchr(" \t\r\n", (*p)[*n - 1]))
		(*n)--;
}

static int word_is(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

/* "a;b" as the JSON array ["a","b"] in r->cells (reserved by the caller). */
static void options_array(crm__rows *r, const char *p, size_t n, crm__jval *v)
{
	size_t start = r->cells.len, i = 0;
	int first = 1;

	crm__buf_putc(&r->cells, '[');
	while (i <= n) {
		size_t end = i;
		const char *item;
		size_t len;
		while (end < n && p[end] != ';')
			end++;
		item = p + i, len = end - i;
		trim(&item, &len);
		if (len) {
			if (!first)
				crm__buf_putc(&r->cells, ',');
			crm__json_str(&r->cells, item, len);
			first = 0;
		}
		i = end + 1;
	}
	crm__buf_putc(&r->cells, ']');
	*v = (crm__jval){ CRM__J_ARRAY, r->cells.p + start, r->cells.len - start };
}

/* What the cell p[0..n) is as JSON input to a field of type `t`: numbers
 * for numeric fields when the cell is one (else the text, which the field
 * refuses with its usual message), true/false for booleans, an array of
 * options for multi-enums, a JSON document for json fields. */
static void cell_value(crm__rows *r, crm_type t, const char *p, size_t n, crm__jval *v)
{
	*v = (crm__jval){ CRM__J_STRING, p, n };
	switch (t) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_REF:
	case CRM_TYPE_NUMBER:
		trim(&v->p, &v->n);
		if (is_json_number(v->p, v->n))
			v->type = CRM__J_NUMBER;
		break;
	case CRM_TYPE_DECIMAL:
	case CRM_TYPE_DATE:
	case CRM_TYPE_DATETIME: trim(&v->p, &v->n); break;
	case CRM_TYPE_BOOLEAN:
		trim(&v->p, &v->n);
		if (word_is(v->p, v->n, "true") || word_is(v->p, v->n, "yes") || word_is(v->p, v->n, "1"))
			v->type = CRM__J_TRUE;
		else if (word_is(v->p, v->n, "false") || word_is(v->p, v->n, "no") || word_is(v->p, v->n, "0"))
			v->type = CRM__J_FALSE;
		break;
	case CRM_TYPE_MULTI_ENUM:
		trim(&v->p, &v->n);
		if (v->n && v->p[0] == '[')
			v->type = CRM__J_ARRAY; /* checked as the field reads it */
		else
			options_array(r, v->p, v->n, v);
		break;
	case CRM_TYPE_JSON: {
		const char *err;
		size_t at;
		if (n && (p[0] == '{' || p[0] == '[') &&
		    crm__json_validate(p, n, (int)r->db->limits[CRM_LIMIT_JSON_DEPTH], &err, &at) == 0)
			v->type = p[0] == '{' ? CRM__J_OBJECT : CRM__J_ARRAY;
		break;
	}
	default: break;
	}
}

/* Scratch a cell of this type may need while converted (see crm__value_from_json). */
static size_t cell_room(crm_type t, size_t n)
{
	return t == CRM_TYPE_MULTI_ENUM ? 24 * n + 64 : t == CRM_TYPE_JSON ? 8 * n + 16 : 0;
}

size_t crm__rows_room(const crm__rows *r, int pos, size_t n)
{
	return pos >= 0 && n ? cell_room(r->form->fields[pos].type, n) : 0;
}

void crm__rows_set_text(crm__rows *r, int pos, const char *p, size_t n)
{
	crm__jval v;
	crm_type t;

	if (pos == CRM__COL_OWNER || pos < 0) {
		v = (crm__jval){ CRM__J_STRING, p, n };
		crm__rows_set_json(r, pos, &v);
		return;
	}
	/* An empty cell is no value (null). */
	if (n == 0) {
		v = (crm__jval){ CRM__J_NULL, p, 0 };
		crm__rows_set_json(r, pos, &v);
		return;
	}
	t = r->form->fields[pos].type;
	/* rec.strings was reserved for the whole row (crm__rows_room): converted
	 * values point into it. The array text in r->cells is only read. */
	if (cell_room(t, n) && crm__buf_reserve(&r->cells, 6 * n + 16)) {
		crm__errors_add(&r->errs, r->form->fields[pos].name, "memory", "out of memory");
		return;
	}
	cell_value(r, t, p, n, &v);
	crm__rows_set_json(r, pos, &v);
}

/* ---- failures ---- */

static void csv_cell(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* One failing (row, field): listed in the summary while there is room, and
 * written to the error report. */
static void report(crm__rows *r, const char *field, const char *code, const char *message)
{
	if (r->listed < LISTED_ERRORS) {
		if (r->listed++)
			crm__buf_putc(&r->report, ',');
		crm__buf_puts(&r->report, "{\"row\":");
		crm__buf_i64(&r->report, r->row);
		crm__buf_puts(&r->report, ",\"field\":");
		if (field)
			crm__json_cstr(&r->report, field);
		else
			crm__buf_puts(&r->report, "null");
		crm__buf_puts(&r->report, ",\"code\":");
		crm__json_cstr(&r->report, code);
		crm__buf_puts(&r->report, ",\"message\":");
		crm__json_cstr(&r->report, message);
		crm__buf_putc(&r->report, '}');
	}
	if (r->errfile) {
		fprintf(r->errfile, "%lld,", (long long)r->row);
		if (field)
			csv_cell(r->errfile, field);
		fputc(',', r->errfile);
		csv_cell(r->errfile, code);
		fputc(',', r->errfile);
		csv_cell(r->errfile, message);
		fputs("\r\n", r->errfile);
	}
}

/* Report row r->row's failure `rc`: each failing field, else the handle's error. */
static void row_failed(crm__rows *r, int rc)
{
	crm_db *db = r->db;
	cJSON *detail = NULL;
	const cJSON *field;

	if (r->failed++ == 0)
		r->first_code = rc;
	if (r->errs.count) {
		crm__buf list = CRM__BUF_INIT;
		cJSON *arr;
		crm__buf_put(&list, r->errs.json.p, r->errs.json.len);
		crm__buf_putc(&list, ']');
		arr = list.oom ? NULL : cJSON_Parse(crm__buf_cstr(&list));
		crm__buf_free(&list);
		for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next) {
			const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "field");
			report(r, cJSON_IsString(f) ? f->valuestring : NULL,
			       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")),
			       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message")));
		}
		if (r->errs.count > cJSON_GetArraySize(arr))
			report(r, NULL, "truncated", "more fields failed than are listed");
		cJSON_Delete(arr);
		return;
	}
	/* A row-wide failure: a denial names the field it is about, if any. */
	detail = cJSON_Parse(crm_errdetail(db));
	field = cJSON_GetObjectItemCaseSensitive(detail, "field");
	report(r, cJSON_IsString(field) ? field->valuestring : NULL, crm_errstr(rc), crm_errmsg(db));
	cJSON_Delete(detail);
}

/* Codes after which the import cannot go on: the transaction, the
 * connection or memory is in doubt. Row problems are the others. */
static int fatal(int rc)
{
	return rc != CRM_ECONSTRAINT && rc != CRM_EINVAL && rc != CRM_EPERM && rc != CRM_ENOTFOUND &&
	       rc != CRM_ESCRIPT && rc != CRM_ECONFLICT;
}

int crm__rows_end(crm__rows *r)
{
	crm_db *db = r->db;
	crm__write w = { .op = CRM__WRITE_INSERT, .form = r->form, .rec = &r->rec, .errs = &r->errs };
	int rc;

	r->rows++;
	if (r->rec.strings.oom || r->cells.oom)
		return crm__error_oom(db);
	/* Best-effort: each row is a unit of its own, so a failing one leaves
	 * nothing (audit entries, events, hook writes) behind. */
	if (r->best_effort && (rc = crm__tx_begin(db)))
		return rc;
	db->errcode = CRM_OK;
	if (r->key)
		rc = crm__record_upsert_write(db, &w, r->key);
	else
		rc = crm__record_write(db, &w);
	if (rc == CRM_ECONSTRAINT && r->errs.count)
		crm__errors_raise(db, &r->errs, r->form->name);
	if (r->best_effort)
		rc = crm__tx_end(db, rc);
	if (rc == CRM_OK) {
		if (w.op == CRM__WRITE_INSERT)
			r->inserted++;
		else
			r->updated++;
		r->written++;
		return CRM_OK;
	}
	/* In atomic mode a failure outside the row's values leaves the
	 * transaction in doubt (a hook's partial writes): stop. */
	if (fatal(rc) || (!r->best_effort && rc == CRM_ESCRIPT))
		return rc;
	row_failed(r, rc);
	return r->report.oom ? crm__error_oom(db) : CRM_OK;
}

int crm__rows_chunk(crm__rows *r)
{
	int rc;

	if (!r->best_effort || r->written < CHUNK_ROWS)
		return CRM_OK;
	r->written = 0;
	r->open = 0;
	if ((rc = crm__tx_end(r->db, CRM_OK)))
		return rc;
	r->kept_inserted = r->inserted;
	r->kept_updated = r->updated;
	return begin(r);
}

int crm__rows_errors_to(crm_db *db, crm__rows *r, const char *path)
{
	if (!(r->errfile = fopen(path, "wb")))
		return crm__error(db, CRM_EIO, "cannot write the error report %s", path);
	fputs("row,field,code,message\r\n", r->errfile);
	return CRM_OK;
}

int crm__rows_finish(crm__rows *r, int rc, int cancelled, const char *stopped, char **out)
{
	crm_db *db = r->db;
	crm__buf sum = CRM__BUF_INIT;
	/* Best-effort keeps every row it wrote when the input ended early (a
	 * cancel, a syntax error); a failure that leaves the transaction in
	 * doubt undoes the chunk in progress. Atomic keeps all or nothing. */
	int keep = r->best_effort ? rc == CRM_OK || rc == CRM_EINVAL || rc == CRM_ELIMIT
				  : rc == CRM_OK && !cancelled && !r->failed;
	char msg[512];

	/* The outcome's message, kept across the commit. */
	if (rc == CRM_OK && cancelled)
		rc = crm__error(db, CRM_ERROR, "import into %s cancelled after %lld rows%s", r->form->name,
				(long long)r->rows, r->best_effort ? " (the rows written stay)" : "; nothing was written");
	else if (rc == CRM_OK && !keep) {
		/* The detail lists the failures as the summary does (the first 100). */
		crm__buf members = CRM__BUF_INIT;
		crm__buf_puts(&members, "\"errors\":[");
		crm__buf_put(&members, r->report.p, r->report.len);
		crm__buf_putc(&members, ']');
		rc = members.oom ? crm__error_oom(db)
				 : crm__error_detail(db, r->first_code, crm__buf_cstr(&members),
						     "import into %s: %lld of %lld rows failed; nothing was written",
						     r->form->name, (long long)r->failed, (long long)r->rows);
		crm__buf_free(&members);
	}
	snprintf(msg, sizeof msg, "%s", rc ? crm_errmsg(db) : "");
	if (r->open) {
		int end = crm__tx_end(db, keep ? CRM_OK : rc ? rc : CRM_ERROR);
		r->open = 0;
		if (keep && end)
			keep = 0, rc = end, snprintf(msg, sizeof msg, "%s", crm_errmsg(db));
	}
	if (r->errfile) {
		if (fclose(r->errfile) != 0 && rc == CRM_OK)
			rc = crm__error(db, CRM_EIO, "cannot write the error report");
		r->errfile = NULL;
	}
	if (!keep) {
		r->inserted = r->best_effort ? r->kept_inserted : 0;
		r->updated = r->best_effort ? r->kept_updated : 0;
	}
	crm__buf_printf(&sum, "{\"rows\":%lld,\"inserted\":%lld,\"updated\":%lld,\"failed\":%lld,\"errors\":[",
			(long long)r->rows, (long long)r->inserted, (long long)r->updated, (long long)r->failed);
	crm__buf_put(&sum, r->report.p, r->report.len);
	crm__buf_putc(&sum, ']');
	if (cancelled)
		crm__buf_puts(&sum, ",\"cancelled\":true");
	if (stopped) {
		crm__buf_puts(&sum, ",\"stopped\":");
		crm__json_cstr(&sum, stopped);
	}
	crm__buf_putc(&sum, '}');
	if (sum.oom)
		return crm__error_oom(db);
	*out = crm__buf_detach(&sum);
	/* The handle's error says why, after the transaction's end. */
	if (rc && db->errcode != rc)
		crm__error(db, rc, "%s", msg);
	return rc;
}

void crm__rows_free(crm__rows *r)
{
	if (!r)
		return;
	if (r->open)
		crm__tx_end(r->db, CRM_ERROR);
	if (r->errfile)
		fclose(r->errfile);
	crm__form_release(r->form);
	crm__record_free(&r->rec);
	crm__errors_free(&r->errs);
	crm__buf_free(&r->cells);
	crm__buf_free(&r->report);
	crm__free(r);
}

int crm__rows_object(crm__rows *r, const char *json, size_t len)
{
	crm__jscan sc;
	crm__jval key, val;
	int rc;

	/* Room for decoded strings and converted values, so no pointer moves (as crm__record_parse). */
	if ((rc = crm__rows_reserve(r, 4 * len + 64)))
		return rc;
	if (crm__jscan_init(&sc, json, len, (int)r->db->limits[CRM_LIMIT_JSON_DEPTH], &r->rec.strings))
		return crm__error_oom(r->db);
	while ((rc = crm__jscan_member(&sc, &key, &val)) == 1) {
		int pos = crm__rows_column(r, key.p, key.n);
		if (pos == CRM__COL_UNKNOWN) {
			char name[80];
			snprintf(name, sizeof name, "%.*s", (int)(key.n > 64 ? 64 : key.n), key.p);
			crm__errors_add(&r->errs, name, "unknown_field", "form %s has no field '%s'", r->form->name, name);
		} else
			crm__rows_set_json(r, pos, &val);
	}
	if (rc < 0)
		crm__errors_add(&r->errs, NULL, "json", "not a valid JSON object: %s at byte %zu",
				sc.err ? sc.err : "syntax error", sc.err_pos);
	return CRM_OK;
}
