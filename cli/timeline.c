/* `crm timeline FORM ID [--kind K ...] [--limit N] [--before TOKEN]`: the
 * items of crm_timeline as JSON (docs/integration.md, "Timeline"). */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#include "cli.h"

int cli_verb_timeline(cli *c, int argc, char **argv)
{
	const char *pos[2], *limit = NULL, *before = NULL;
	cli_list kinds = { NULL, 0 };
	const cli_opt opts[] = { { "--kind", NULL, NULL, &kinds },
				 { "--limit", &limit, NULL, NULL },
				 { "--before", &before, NULL, NULL },
				 { NULL, NULL, NULL, NULL } };
	cli_buf o = { 0 };
	char *json = NULL;
	int64_t id, n = 50;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 2, 2, &npos)) || (rc = cli_parse_id(pos[1], &id)) ||
	    (limit && (rc = cli_parse_int(limit, 1, 200, "--limit", &n))) || (rc = cli_open(c, 0))) {
		free(kinds.v);
		return rc;
	}
	cli_buf_printf(&o, "{\"limit\":%lld", (long long)n);
	for (int i = 0; i < kinds.n; i++) {
		cli_buf_puts(&o, i ? "," : ",\"kinds\":[");
		cli_buf_json_str(&o, kinds.v[i]);
	}
	cli_buf_puts(&o, kinds.n ? "]" : "");
	if (before) {
		cli_buf_puts(&o, ",\"before\":");
		cli_buf_json_str(&o, before);
	}
	cli_buf_puts(&o, "}");
	free(kinds.v);
	rc = crm_timeline(c->db, pos[0], id, cli_buf_cstr(&o), &json);
	cli_buf_free(&o);
	return cli_print_owned(c->db, rc, json);
}
