/* `crm report NAME`: run a report (include/crm/report.h) and print its
 * result as JSON ({"columns":[...],"rows":[...]}) or CSV, its compiled SQL
 * and query plan (--explain), or the query behind one result row (--drill).
 * Parameters come from repeated --param NAME=VALUE options: a VALUE that is
 * JSON (a number, true, false, null, a "quoted string", an array...) is
 * passed as that value, anything else as a string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Build the params object from "k=v" items; a usage error for a malformed or repeated name. */
static int build_params(const cli_list *items, cli_buf *out)
{
	cli_buf_puts(out, "{");
	for (int i = 0; i < items->n; i++) {
		const char *item = items->v[i], *eq = strchr(item, '='), *value;
		size_t name_len;
		char *name;

		if (!eq || eq == item)
			return cli_usage_error("--param takes NAME=VALUE, not '%s'", item);
		name_len = (size_t)(eq - item);
		for (int k = 0; k < i; k++)
			if (strncmp(items->v[k], item, name_len + 1) == 0)
				return cli_usage_error("--param %.*s is given twice", (int)name_len, item);
		name = cli_xmalloc(name_len + 1);
		memcpy(name, item, name_len);
		name[name_len] = '\0';
		if (i)
			cli_buf_puts(out, ",");
		cli_buf_json_str(out, name);
		cli_buf_puts(out, ":");
		free(name);
		value = eq + 1;
		if (*value && cli_json_valid(value, strlen(value)))
			cli_buf_puts(out, value);
		else
			cli_buf_json_str(out, value);
	}
	cli_buf_puts(out, "}");
	return 0;
}

int cli_verb_report(cli *c, int argc, char **argv)
{
	const char *pos[1], *drill_arg = NULL;
	cli_list params = { NULL, 0 };
	int explain = 0, npos, rc, format = CLI_FORMAT_JSON;
	const cli_opt opts[] = {
		{ "--param", NULL, NULL, &params }, { "--explain", NULL, &explain, NULL },
		{ "--drill", &drill_arg, NULL, NULL },
		{ NULL, NULL, NULL, NULL },
	};
	cli_buf p = CLI_BUF_INIT;
	char *row = NULL, *out = NULL;

	rc = cli_parse_args(argc, argv, opts, pos, 1, 1, &npos);
	if (rc == 0)
		rc = cli_parse_format(c, CLI_FORMATS_ALL, &format);
	if (rc == 0 && explain && drill_arg)
		rc = cli_usage_error("report: --explain and --drill cannot be combined");
	if (rc == 0 && c->format && (explain || drill_arg))
		rc = cli_usage_error("report: --format applies to results, not to --%s", explain ? "explain" : "drill");
	if (rc == 0)
		rc = build_params(&params, &p);
	if (rc == 0 && drill_arg)
		rc = cli_read_json_arg(c, drill_arg, "--drill", &row);
	if (rc == 0)
		rc = cli_open(c, 0);
	if (rc == 0) {
		if (explain)
			rc = crm_report_explain(c->db, pos[0], p.p, &out);
		else if (row)
			rc = crm_report_drill(c->db, pos[0], p.p, row, &out);
		else
			rc = crm_report_output(c->db, pos[0], p.p, format == CLI_FORMAT_CSV ? "csv" : "json", &out);
		if (rc == CRM_OK && out && format == CLI_FORMAT_CSV) {
			/* the library's CSV is printed as is (it ends with its own line break) */
			fputs(out, stdout);
			crm_free(out);
		} else if (explain || row)
			rc = cli_print_owned(c->db, rc, out);
		else
			rc = cli_print_records(c, rc, out);
	}
	free(params.v);
	free(row);
	cli_buf_free(&p);
	return rc;
}
