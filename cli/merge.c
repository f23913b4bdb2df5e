/* Duplicates and merge (docs/integration.md): `crm duplicates FORM` prints
 * the duplicate report, `crm merge FORM SURVIVOR OTHER [--prefer F=P ...]`
 * merges two records, `crm merge undo ID` undoes a merge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* `duplicates FORM [--rule R ...] [--limit N]` */
int cli_verb_duplicates(cli *c, int argc, char **argv)
{
	const char *pos[1], *limit = NULL;
	cli_list rules = { NULL, 0 };
	const cli_opt opts[] = { { "--rule", NULL, NULL, &rules }, { "--limit", &limit, NULL, NULL },
				 { NULL, NULL, NULL, NULL } };
	cli_buf o = CLI_BUF_INIT;
	char *out = NULL;
	int64_t n = 0;
	int npos, rc;

	rc = cli_parse_args(argc, argv, opts, pos, 1, 1, &npos);
	if (rc == 0 && limit)
		rc = cli_parse_int(limit, 1, 10000, "--limit", &n);
	if (rc == 0) {
		/* no --rule: every rule */
		cli_buf_puts(&o, rules.n ? "{\"rules\":[" : "{");
		for (int i = 0; i < rules.n; i++) {
			cli_buf_puts(&o, i ? "," : "");
			cli_buf_json_str(&o, rules.v[i]);
		}
		cli_buf_puts(&o, rules.n ? "]" : "");
		if (limit)
			cli_buf_printf(&o, "%s\"limit\":%lld", rules.n ? "," : "", (long long)n);
		cli_buf_puts(&o, "}");
		rc = cli_open(c, 0);
	}
	if (rc == 0) {
		rc = crm_duplicates(c->db, pos[0], o.p, &out);
		rc = cli_print_owned(c->db, rc, out);
	}
	free(rules.v);
	cli_buf_free(&o);
	return rc;
}

/* `merge undo ID` */
static int undo(cli *c, int argc, char **argv)
{
	const char *pos[1];
	int64_t id;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 1, 1, &npos)) || (rc = cli_parse_id(pos[0], &id)) ||
	    (rc = cli_open(c, 0)))
		return rc;
	if ((rc = crm_merge_undo(c->db, id)) != CRM_OK)
		return cli_lib_error(c->db, rc);
	printf("{\"undone\":%lld}\n", (long long)id);
	return 0;
}

/* `merge FORM SURVIVOR OTHER [--prefer FIELD=POLICY ...] [--default POLICY]` */
int cli_verb_merge(cli *c, int argc, char **argv)
{
	const char *pos[3], *def = NULL;
	cli_list prefer = { NULL, 0 };
	const cli_opt opts[] = { { "--prefer", NULL, NULL, &prefer }, { "--default", &def, NULL, NULL },
				 { NULL, NULL, NULL, NULL } };
	cli_buf o = CLI_BUF_INIT;
	char *out = NULL;
	int64_t survivor, other;
	int npos, rc;

	if (argc > 1 && strcmp(argv[1], "undo") == 0)
		return undo(c, argc - 1, argv + 1);
	rc = cli_parse_args(argc, argv, opts, pos, 3, 3, &npos);
	if (rc == 0 && !(rc = cli_parse_id(pos[1], &survivor)))
		rc = cli_parse_id(pos[2], &other);
	cli_buf_puts(&o, "{\"prefer\":{");
	for (int i = 0; rc == 0 && i < prefer.n; i++) {
		const char *eq = strchr(prefer.v[i], '=');
		char *field;
		if (!eq || eq == prefer.v[i]) {
			rc = cli_usage_error("--prefer takes FIELD=survivor|other|newest|non_empty, not '%s'", prefer.v[i]);
			break;
		}
		field = cli_xmalloc((size_t)(eq - prefer.v[i]) + 1);
		memcpy(field, prefer.v[i], (size_t)(eq - prefer.v[i]));
		field[eq - prefer.v[i]] = '\0';
		cli_buf_puts(&o, i ? "," : "");
		cli_buf_json_str(&o, field);
		cli_buf_puts(&o, ":");
		cli_buf_json_str(&o, eq + 1);
		free(field);
	}
	cli_buf_puts(&o, "}");
	if (def) {
		cli_buf_puts(&o, ",\"default\":");
		cli_buf_json_str(&o, def);
	}
	cli_buf_puts(&o, "}");
	if (rc == 0)
		rc = cli_open(c, 0);
	if (rc == 0) {
		rc = crm_merge(c->db, pos[0], survivor, other, o.p, &out);
		rc = cli_print_owned(c->db, rc, out);
	}
	free(prefer.v);
	cli_buf_free(&o);
	return rc;
}
