/* `crm search TEXT [--form F] [--limit N]`: the hits of crm_search as JSON
 * (docs/integration.md, "Search"). */
#include <stdio.h>
#include <stdint.h>

#include "cli.h"

int cli_verb_search(cli *c, int argc, char **argv)
{
	const char *pos[1], *form = NULL, *limit = NULL, *after = NULL;
	const cli_opt opts[] = { { "--form", &form, NULL, NULL },
				 { "--limit", &limit, NULL, NULL },
				 { "--after", &after, NULL, NULL },
				 { NULL, NULL, NULL, NULL } };
	cli_buf o = { 0 };
	char *json = NULL;
	int64_t n = 20;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 1, 1, &npos)) ||
	    (limit && (rc = cli_parse_int(limit, 1, 100, "--limit", &n))) || (rc = cli_open(c, 0)))
		return rc;
	cli_buf_printf(&o, "{\"limit\":%lld", (long long)n);
	if (form) {
		cli_buf_puts(&o, ",\"forms\":[");
		cli_buf_json_str(&o, form);
		cli_buf_puts(&o, "]");
	}
	if (after) {
		cli_buf_puts(&o, ",\"after\":");
		cli_buf_json_str(&o, after);
	}
	cli_buf_puts(&o, "}");
	rc = crm_search(c->db, pos[0], cli_buf_cstr(&o), &json);
	cli_buf_free(&o);
	return cli_print_owned(c->db, rc, json);
}
