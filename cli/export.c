/* `crm export`: a query over a form, or a report, written as CSV, NDJSON,
 * JSON or XLSX by crm_export (include/crm/io.h) to stdout, or whole or not
 * at all to --out FILE. The format is --format, else --out's extension,
 * else CSV; the library checks the options' values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The format a file name's extension asks for (CSV when it says nothing). */
static const char *format_of(const char *path)
{
	static const char *const ext[][2] = { { ".xlsx", "xlsx" }, { ".ndjson", "ndjson" }, { ".jsonl", "ndjson" },
					      { ".json", "json" } };
	size_t n = path ? strlen(path) : 0;

	for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
		size_t e = strlen(ext[i][0]);
		if (n > e && strcmp(path + n - e, ext[i][0]) == 0)
			return ext[i][1];
	}
	return "csv";
}

/* Append `"key":` and the JSON argument `arg` (literal, '-' or @FILE), which must be one JSON value. */
static int put_json_arg(cli *c, cli_buf *b, const char *key, const char *arg)
{
	char *json = NULL;
	int rc = cli_read_json_arg(c, arg, key, &json);

	if (rc == 0 && !cli_json_valid(json, strlen(json)))
		rc = cli_error(CRM_EINVAL, "--%s is not one JSON value: %.200s", key, json);
	if (rc == 0) {
		cli_buf_puts(b, ",");
		cli_buf_json_str(b, key);
		cli_buf_puts(b, ":");
		cli_buf_puts(b, json);
	}
	free(json);
	return rc;
}

static int stdout_write(void *payload, const void *data, size_t len)
{
	return fwrite(data, 1, len, payload) == len ? 0 : -1;
}

int cli_verb_export(cli *c, int argc, char **argv)
{
	const char *pos[1], *query = NULL, *report = NULL, *params = NULL, *headers = NULL, *out = NULL, *format;
	int bom = 0, sys = 0, npos = 0, rc;
	const cli_opt opts[] = {
		{ "--query", &query, NULL, NULL },     { "--report", &report, NULL, NULL },
		{ "--params", &params, NULL, NULL },   { "--headers", &headers, NULL, NULL },
		{ "--out", &out, NULL, NULL },         { "--bom", NULL, &bom, NULL },
		{ "--system", NULL, &sys, NULL },      { NULL, NULL, NULL, NULL },
	};
	cli_buf what = CLI_BUF_INIT, o = CLI_BUF_INIT;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 0, 1, &npos)))
		return rc;
	if ((npos == 1) == (report != NULL))
		return cli_usage_error("export: give a FORM or --report NAME");
	if ((query && report) || (params && !report))
		return cli_usage_error("export: --query goes with a FORM, --params with --report");
	format = c->format ? c->format : format_of(out);
	if (strcmp(format, "xlsx") == 0 && !out)
		return cli_usage_error("export: XLSX is a binary file: write it with --out FILE");
	cli_buf_puts(&what, report ? "{\"report\":" : "{\"form\":");
	cli_buf_json_str(&what, report ? report : pos[0]);
	if (query || params)
		rc = put_json_arg(c, &what, query ? "query" : "params", query ? query : params);
	cli_buf_puts(&what, "}");
	cli_buf_puts(&o, "{\"format\":");
	cli_buf_json_str(&o, format);
	if (headers) {
		cli_buf_puts(&o, ",\"headers\":");
		cli_buf_json_str(&o, headers);
	}
	cli_buf_printf(&o, "%s%s}", bom ? ",\"bom\":true" : "", sys ? ",\"system\":true" : "");
	if (rc == 0)
		rc = cli_open(c, 0);
	if (rc == 0) {
		rc = out ? crm_export_file(c->db, what.p, o.p, out) : crm_export(c->db, what.p, o.p, stdout_write, stdout);
		rc = rc ? cli_lib_error(c->db, rc) : 0;
	}
	cli_buf_free(&what);
	cli_buf_free(&o);
	return rc;
}
