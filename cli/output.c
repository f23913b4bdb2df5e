/* Query results to stdout, streamed row by row (nothing is held in memory):
 * a JSON array, NDJSON (one object per line) or CSV (RFC 4180 quoting, a
 * header of column names, null as an empty field, "" for an empty string).
 * The first row is fetched before anything is written, so a query that
 * fails on its first step leaves stdout empty. */
#include <stdio.h>
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

static void put_csv_header(crm_cursor *cur, int with_token)
{
	int n = crm_cursor_column_count(cur);

	for (int i = 0; i < n; i++) {
		if (i)
			fputc(',', stdout);
		put_csv_field(crm_cursor_column_name(cur, i));
	}
	if (with_token)
		fputs(n ? ",_token" : "_token", stdout);
	fputc('\n', stdout);
}

static void put_csv_row(crm_cursor *cur, int with_token)
{
	int n = crm_cursor_column_count(cur);

	for (int i = 0; i < n; i++) {
		if (i)
			fputc(',', stdout);
		put_csv_field(crm_cursor_is_null(cur, i) ? NULL : crm_cursor_text(cur, i));
	}
	if (with_token) {
		if (n)
			fputc(',', stdout);
		put_csv_field(crm_cursor_token(cur));
	}
	fputc('\n', stdout);
}

int cli_write_rows(crm_db *db, crm_cursor *cur, int format, int with_token)
{
	int rc = crm_cursor_next(cur);
	long rows = 0;

	if (rc != CRM_ROW && rc != CRM_DONE)
		return cli_lib_error(db, rc);
	if (format == CLI_FORMAT_JSON)
		fputc('[', stdout);
	else if (format == CLI_FORMAT_CSV)
		put_csv_header(cur, with_token);
	for (; rc == CRM_ROW; rc = crm_cursor_next(cur), rows++) {
		switch (format) {
		case CLI_FORMAT_JSON:
			fputs(rows ? ",\n" : "\n", stdout);
			put_row_json(cur, with_token);
			break;
		case CLI_FORMAT_NDJSON:
			put_row_json(cur, with_token);
			fputc('\n', stdout);
			break;
		default:
			put_csv_row(cur, with_token);
		}
		if (ferror(stdout))
			return cli_finish_output();
	}
	if (format == CLI_FORMAT_JSON)
		fputs(rows ? "\n]\n" : "]\n", stdout);
	if (rc != CRM_DONE) {
		/* Rows already written stay written; the exit code tells the caller the output is partial. */
		fflush(stdout);
		return cli_lib_error(db, rc);
	}
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
