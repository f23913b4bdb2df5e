/* `crm import FORM FILE` ("-": stdin): CSV, NDJSON or a JSON array into a form through
 * crm_import_file, with a progress line on stderr when it is a terminal.
 * The summary goes to stdout, also when rows failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The progress line, rewritten in place. */
static int progress(void *payload, int64_t rows, int64_t bytes, int64_t total)
{
	int *shown = payload;

	if (total > 0)
		fprintf(stderr, "\rcrm import: %lld rows, %d%%", (long long)rows, (int)(100.0 * (double)bytes / (double)total));
	else
		fprintf(stderr, "\rcrm import: %lld rows", (long long)rows);
	*shown = 1;
	return 0;
}

/* "key":"value" into the options object being built. */
static void option(cli_buf *o, const char *key, const char *value)
{
	if (!value)
		return;
	cli_buf_puts(o, o->len > 1 ? "," : "");
	cli_buf_json_str(o, key);
	cli_buf_puts(o, ":");
	cli_buf_json_str(o, value);
}

int cli_verb_import(cli *c, int argc, char **argv)
{
	const char *pos[2], *map = NULL, *upsert = NULL, *mode = NULL, *errors = NULL, *encoding = NULL, *format = NULL,
			    *delimiter = NULL, *header = NULL;
	const cli_opt opts[] = { { "--map", &map, NULL, NULL },
				 { "--upsert", &upsert, NULL, NULL },
				 { "--mode", &mode, NULL, NULL },
				 { "--errors", &errors, NULL, NULL },
				 { "--encoding", &encoding, NULL, NULL },
				 { "--format", &format, NULL, NULL },
				 { "--delimiter", &delimiter, NULL, NULL },
				 { "--header", &header, NULL, NULL },
				 { NULL, NULL, NULL, NULL } };
	crm_import_options io = CRM_IMPORT_OPTIONS_INIT;
	cli_buf o = { 0 };
	char *map_text = NULL, *out = NULL;
	size_t map_len = 0;
	int npos, rc, shown = 0;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 2, 2, &npos)))
		return rc;
	if (map) {
		if ((rc = cli_read_file(map, &map_text, &map_len)))
			return rc;
		if (!cli_json_valid(map_text, map_len)) {
			free(map_text);
			return cli_usage_error("--map %s: not a JSON object of \"column\": \"field\"", map);
		}
	}
	cli_buf_puts(&o, "{");
	option(&o, "upsert", upsert);
	option(&o, "mode", mode);
	option(&o, "errors", errors);
	option(&o, "encoding", encoding);
	option(&o, "format", format);
	option(&o, "delimiter", delimiter);
	option(&o, "header", header);
	if (map_text) {
		cli_buf_puts(&o, o.len > 1 ? ",\"map\":" : "\"map\":");
		cli_buf_put(&o, map_text, map_len);
	}
	cli_buf_puts(&o, "}");
	free(map_text);
	if ((rc = cli_open(c, 0))) {
		cli_buf_free(&o);
		return rc;
	}
	io.json = cli_buf_cstr(&o);
	if (isatty(STDERR_FILENO)) {
		io.progress = progress;
		io.progress_payload = &shown;
	}
	/* "-" is stdin, read as a stream like any file */
	rc = crm_import_file(c->db, pos[0], strcmp(pos[1], "-") == 0 ? "/dev/stdin" : pos[1], &io, &out);
	if (shown)
		fputc('\n', stderr);
	if (out)
		puts(out);
	crm_free(out);
	cli_buf_free(&o);
	return rc == CRM_OK ? 0 : cli_lib_error(c->db, rc);
}
