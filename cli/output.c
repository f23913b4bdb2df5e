/* Records to stdout in the --format asked for: a JSON array, NDJSON (one
 * object per line), CSV (RFC 4180 quoting, a header of column names, null
 * as an empty field, "" for an empty string) or an aligned table for people.
 * Query rows stream (nothing held in memory) except for the table, which
 * must see every row to align it; other verbs' JSON documents are converted.
 * The first row is fetched before anything is written, so a query that
 * fails on its first step leaves stdout empty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void put_json_str(const char *s)
{
	cli_buf b = CLI_BUF_INIT;

	cli_buf_json_str(&b, s);
	fputs(cli_buf_cstr(&b), stdout);
	cli_buf_free(&b);
}

/* The row object, with "_token" added before its closing brace when asked. */
static void put_row_json(crm_cursor *cur, int with_token)
{
	const char *row = crm_cursor_json(cur);
	const char *close = with_token && row ? strrchr(row, '}') : NULL;

	if (!row) {
		fputs("null", stdout);
		return;
	}
	if (!close) {
		fputs(row, stdout);
		return;
	}
	fwrite(row, 1, (size_t)(close - row), stdout);
	/* an empty object gets no comma */
	if (cli_json_ws(row, (size_t)(close - row), 1) < (size_t)(close - row))
		fputc(',', stdout);
	fputs("\"_token\":", stdout);
	put_json_str(crm_cursor_token(cur) ? crm_cursor_token(cur) : "");
	fputs(close, stdout);
}

/* One CSV field: quoted when it holds a comma, quote, CR or LF, or is empty (to tell it from null). */
static void put_csv_field(const char *s)
{
	if (!s)
		return;
	if (*s && !strpbrk(s, ",\"\r\n")) {
		fputs(s, stdout);
		return;
	}
	fputc('"', stdout);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', stdout);
		fputc(*s, stdout);
	}
	fputc('"', stdout);
}

static int is_system(const char *name, size_t len);

/* The header (header = 1) or the current row of the cursor as one CSV line. */
static void put_csv_line(crm_cursor *cur, int header, int with_token, int no_system)
{
	int n = crm_cursor_column_count(cur), put = 0;

	for (int i = 0; i < n; i++) {
		const char *name = crm_cursor_column_name(cur, i);

		if (no_system && is_system(name, strlen(name)))
			continue;
		if (put++)
			fputc(',', stdout);
		put_csv_field(header ? name : crm_cursor_is_null(cur, i) ? NULL : crm_cursor_text(cur, i));
	}
	if (with_token) {
		if (put)
			fputc(',', stdout);
		put_csv_field(header ? "_token" : crm_cursor_token(cur));
	}
	fputc('\n', stdout);
}

/* ---- the table: cells gathered, then printed with aligned columns ---- */
typedef struct cell {
	size_t row, col;
	char *text;
	int number;
} cell;
typedef struct table {
	char **names;
	size_t ncols, nrows, ncells, cap;
	cell *cells;
} table;

static size_t table_col(table *t, const char *name, size_t len)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strlen(t->names[i]) == len && memcmp(t->names[i], name, len) == 0)
			return i;
	t->names = cli_xrealloc(t->names, (t->ncols + 1) * sizeof *t->names);
	t->names[t->ncols] = cli_xmalloc(len + 1);
	memcpy(t->names[t->ncols], name, len);
	t->names[t->ncols][len] = '\0';
	return t->ncols++;
}

/* A cell of the current row (t->nrows); text NULL for null. */
static void table_put(table *t, size_t col, const char *text, int number)
{
	char *p = text ? cli_xstrdup(text) : NULL;

	if (t->ncells == t->cap)
		t->cells = cli_xrealloc(t->cells, (t->cap = t->cap ? t->cap * 2 : 64) * sizeof *t->cells);
	t->cells[t->ncells++] = (cell){ t->nrows, col, p, number };
}

/* Columns a terminal shows: UTF-8 code points, East Asian wide ones as two. */
static size_t display_width(const char *s)
{
	size_t w = 0;

	if (!s)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned cp;

		if ((*p & 0xC0) == 0x80)
			continue;
		w++;
		if (*p < 0xE0)
			continue;
		cp = *p < 0xF0 ? (unsigned)(*p & 0x0F) << 12 | (unsigned)(p[1] & 0x3F) << 6 | (p[2] & 0x3F) : 0x20000;
		if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
		    (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
		    (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000)
			w++;
	}
	return w;
}

static void pad(size_t n)
{
	while (n--)
		fputc(' ', stdout);
}

/* A table cell on one line: line breaks, tabs and other controls as spaces. */
static void put_cell(const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, stdout);
}

/* The cells of row r by column (NULL where the row has none), from *k on. */
static void row_cells_at(const table *t, size_t r, size_t *k, const cell **row)
{
	memset(row, 0, t->ncols * sizeof *row);
	for (; *k < t->ncells && t->cells[*k].row == r; ++*k)
		row[t->cells[*k].col] = &t->cells[*k];
}

/* The gathered records as CSV: a header of every column, then the rows. */
static void table_print_csv(const table *t)
{
	const cell **row = cli_xmalloc((t->ncols + 1) * sizeof *row);
	size_t k = 0;

	for (size_t i = 0; i < t->ncols; i++) {
		fputs(i ? "," : "", stdout);
		put_csv_field(t->names[i]);
	}
	fputc('\n', stdout);
	for (size_t r = 0; r < t->nrows; r++) {
		row_cells_at(t, r, &k, row);
		for (size_t i = 0; i < t->ncols; i++) {
			fputs(i ? "," : "", stdout);
			put_csv_field(row[i] ? row[i]->text : NULL);
		}
		fputc('\n', stdout);
	}
	free(row);
}

static void table_print(table *t)
{
	size_t *width = cli_xmalloc((t->ncols + 1) * sizeof *width);
	const cell **row = cli_xmalloc((t->ncols + 1) * sizeof *row);
	size_t k = 0;

	if (t->ncols == 0) {
		fputs("(no rows)\n", stdout);
		free(width);
		free(row);
		return;
	}
	for (size_t i = 0; i < t->ncols; i++)
		width[i] = display_width(t->names[i]);
	for (size_t i = 0; i < t->ncells; i++) {
		size_t w = display_width(t->cells[i].text);

		if (w > width[t->cells[i].col])
			width[t->cells[i].col] = w;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		fputs(i ? "  " : "", stdout);
		put_cell(t->names[i]);
		if (i + 1 < t->ncols)
			pad(width[i] - display_width(t->names[i]));
	}
	fputc('\n', stdout);
	for (size_t i = 0; i < t->ncols; i++) {
		fputs(i ? "  " : "", stdout);
		for (size_t d = 0; d < width[i]; d++)
			fputc('-', stdout);
	}
	fputc('\n', stdout);
	for (size_t r = 0; r < t->nrows; r++) {
		row_cells_at(t, r, &k, row);
		for (size_t i = 0; i < t->ncols; i++) {
			const char *text = row[i] ? row[i]->text : NULL;
			size_t gap = width[i] - display_width(text);

			fputs(i ? "  " : "", stdout);
			if (row[i] && row[i]->number)
				pad(gap); /* numbers right-aligned */
			put_cell(text);
			if (!(row[i] && row[i]->number) && i + 1 < t->ncols)
				pad(gap);
		}
		fputc('\n', stdout);
	}
	if (t->nrows == 0)
		fputs("(no rows)\n", stdout);
	free(width);
	free(row);
}

static void table_free(table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->names[i]);
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i].text);
	free(t->names);
	free(t->cells);
}

int cli_parse_format(cli *c, int allowed, int *out)
{
	static const char *const names[] = { "json", "ndjson", "csv", "table" };
	cli_buf list = CLI_BUF_INIT;
	int rc;

	*out = CLI_FORMAT_JSON;
	if (!c->format)
		return 0;
	for (int i = 0; i < 4; i++)
		if (strcmp(c->format, names[i]) == 0 && (allowed & 1 << i)) {
			*out = i;
			return 0;
		}
	for (int i = 0; i < 4; i++)
		if (allowed & 1 << i)
			cli_buf_printf(&list, "%s%s", list.len ? ", " : "", names[i]);
	rc = cli_usage_error("--format must be %s here, not '%s'", cli_buf_cstr(&list), c->format);
	cli_buf_free(&list);
	return rc;
}

/* System columns, left out with --no-system so an export re-imports. */
static int is_system(const char *name, size_t len)
{
	static const char *const sys[] = { "id", "created_at", "updated_at", "owner", "version" };

	for (size_t i = 0; i < sizeof sys / sizeof *sys; i++)
		if (strlen(sys[i]) == len && memcmp(sys[i], name, len) == 0)
			return 1;
	return 0;
}

typedef struct row_out {
	cli_buf *b;
	int no_system, first;
} row_out;

static void copy_member(void *payload, const char *key, size_t key_len, const char *value, size_t value_len)
{
	row_out *o = payload;

	if (o->no_system && is_system(key, key_len))
		return;
	cli_buf_puts(o->b, o->first ? "\"" : ",\"");
	cli_buf_put(o->b, key, key_len);
	cli_buf_puts(o->b, "\":");
	cli_buf_put(o->b, value, value_len);
	o->first = 0;
}

/* The cursor's row as JSON without the system columns. */
static void put_row_no_system(crm_cursor *cur, int with_token)
{
	const char *row = crm_cursor_json(cur);
	cli_buf b = CLI_BUF_INIT;
	row_out o = { &b, 1, 1 };

	cli_buf_puts(&b, "{");
	cli_json_each(row, strlen(row), 0, copy_member, &o);
	cli_buf_puts(&b, "}");
	if (!with_token) {
		fputs(b.p, stdout);
	} else {
		/* put_row_json adds the token to crm_cursor_json's text: do it here by hand */
		b.p[--b.len] = '\0';
		fputs(b.p, stdout);
		fputs(o.first ? "\"_token\":" : ",\"_token\":", stdout);
		put_json_str(crm_cursor_token(cur) ? crm_cursor_token(cur) : "");
		fputc('}', stdout);
	}
	cli_buf_free(&b);
}

static void table_cursor_row(table *t, crm_cursor *cur, int with_token, int no_system)
{
	int n = crm_cursor_column_count(cur);

	for (int i = 0; i < n; i++) {
		const char *name = crm_cursor_column_name(cur, i);
		int type = crm_cursor_column_type(cur, i);

		if (no_system && is_system(name, strlen(name)))
			continue;
		table_put(t, table_col(t, name, strlen(name)), crm_cursor_is_null(cur, i) ? NULL : crm_cursor_text(cur, i),
			  type == CRM_TYPE_INTEGER || type == CRM_TYPE_DECIMAL || type == CRM_TYPE_NUMBER);
	}
	if (with_token)
		table_put(t, table_col(t, "_token", 6), crm_cursor_token(cur), 0);
	t->nrows++;
}

int cli_write_rows(crm_db *db, crm_cursor *cur, int format, int with_token, int no_system)
{
	int rc = crm_cursor_next(cur);
	table t = { 0 };
	long rows = 0;

	if (rc != CRM_ROW && rc != CRM_DONE)
		return cli_lib_error(db, rc);
	if (format == CLI_FORMAT_JSON)
		fputc('[', stdout);
	else if (format == CLI_FORMAT_CSV)
		put_csv_line(cur, 1, with_token, no_system);
	for (int i = 0; format == CLI_FORMAT_TABLE && i < crm_cursor_column_count(cur); i++) {
		const char *name = crm_cursor_column_name(cur, i);

		if (!(no_system && is_system(name, strlen(name))))
			table_col(&t, name, strlen(name)); /* the header, even with no rows */
	}
	for (; rc == CRM_ROW; rc = crm_cursor_next(cur), rows++) {
		switch (format) {
		case CLI_FORMAT_JSON:
		case CLI_FORMAT_NDJSON:
			if (format == CLI_FORMAT_JSON)
				fputs(rows ? ",\n" : "\n", stdout);
			if (no_system)
				put_row_no_system(cur, with_token);
			else
				put_row_json(cur, with_token);
			if (format == CLI_FORMAT_NDJSON)
				fputc('\n', stdout);
			break;
		case CLI_FORMAT_CSV: put_csv_line(cur, 0, with_token, no_system); break;
		default: table_cursor_row(&t, cur, with_token, no_system);
		}
		if (ferror(stdout)) {
			table_free(&t);
			return cli_finish_output();
		}
	}
	if (format == CLI_FORMAT_JSON)
		fputs(rows ? "\n]\n" : "]\n", stdout);
	if (format == CLI_FORMAT_TABLE && rc == CRM_DONE)
		table_print(&t);
	table_free(&t);
	if (rc != CRM_DONE) {
		/* Rows already written stay written; the exit code tells the caller the output is partial. */
		fflush(stdout);
		return cli_lib_error(db, rc);
	}
	return 0;
}

/* ---- other verbs' documents as records ---- */
typedef struct rows_of {
	const char **v;
	size_t *len, n;
} rows_of;

static void add_row(void *payload, const char *key, size_t key_len, const char *value, size_t value_len)
{
	rows_of *r = payload;

	(void)key, (void)key_len;
	r->v = cli_xrealloc(r->v, (r->n + 1) * sizeof *r->v);
	r->len = cli_xrealloc(r->len, (r->n + 1) * sizeof *r->len);
	r->v[r->n] = value;
	r->len[r->n++] = value_len;
}

/* A report's result {"columns":..,"rows":[..]}: point at its rows. */
static void find_rows(void *payload, const char *key, size_t key_len, const char *value, size_t value_len)
{
	const char **rows = payload;

	if (key_len == 4 && memcmp(key, "rows", 4) == 0 && value[0] == '[')
		*rows = value, (void)value_len;
}

/* One member of a record: a string as its text, null as null, anything else as written. */
static void cell_of(void *payload, const char *key, size_t key_len, const char *value, size_t value_len)
{
	table *t = payload;
	cli_buf text = CLI_BUF_INIT;
	int null = value_len == 4 && memcmp(value, "null", 4) == 0;

	cli_json_text(&text, value, value_len);
	table_put(t, table_col(t, key, key_len), null ? NULL : cli_buf_cstr(&text),
		  value[0] == '-' || (value[0] >= '0' && value[0] <= '9'));
	cli_buf_free(&text);
}

int cli_print_records(cli *c, int rc, char *json)
{
	rows_of rows = { 0 };
	const char *inner = NULL;
	table t = { 0 };
	size_t len, start;
	int format;

	/* the verb's formats were checked with the arguments, before anything ran */
	if (rc != CRM_OK || cli_parse_format(c, CLI_FORMATS_ALL, &format) != 0 || !json || format == CLI_FORMAT_JSON)
		return cli_print_owned(c->db, rc, json);
	len = strlen(json);
	start = cli_json_ws(json, len, 0);
	/* A report's rows, an array's elements, or the one object itself. */
	if (json[start] == '{')
		cli_json_each(json, len, start, find_rows, &inner);
	if (inner)
		cli_json_each(inner, len - (size_t)(inner - json), 0, add_row, &rows);
	else if (json[start] == '[')
		cli_json_each(json, len, start, add_row, &rows);
	else
		add_row(&rows, "", 0, json + start, len - start);
	for (size_t i = 0; i < rows.n; i++, t.nrows++) {
		if (format == CLI_FORMAT_NDJSON) {
			fwrite(rows.v[i], 1, rows.len[i], stdout);
			fputc('\n', stdout);
		} else if (rows.v[i][0] == '{')
			cli_json_each(rows.v[i], rows.len[i], 0, cell_of, &t);
		else
			cell_of(&t, "value", 5, rows.v[i], rows.len[i]); /* decide's outputs may be a scalar */
	}
	if (format == CLI_FORMAT_TABLE)
		table_print(&t);
	else if (format == CLI_FORMAT_CSV)
		table_print_csv(&t);
	table_free(&t);
	free(rows.v);
	free(rows.len);
	crm_free(json);
	return 0;
}

int cli_print_owned(crm_db *db, int rc, char *json)
{
	if (rc != CRM_OK) {
		crm_free(json);
		return cli_lib_error(db, rc);
	}
	puts(json ? json : "null");
	crm_free(json);
	return 0;
}

int cli_finish_output(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_error(CRM_EIO, "cannot write the output");
	return 0;
}
