/* `crm forms` and `crm form NAME`: the definitions stored in the database,
 * as the library returns them (crm_form_list, crm_form_get). */
#include <stdio.h>

#include "cli.h"

int cli_verb_forms(cli *c, int argc, char **argv)
{
	const char *pos[1];
	char *json = NULL;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 0, 0, &npos)) || (rc = cli_open(c, 0)))
		return rc;
	rc = crm_form_list(c->db, &json);
	return cli_print_records(c, rc, json);
}

int cli_verb_form(cli *c, int argc, char **argv)
{
	const char *pos[1];
	char *json = NULL;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 1, 1, &npos)) || (rc = cli_open(c, 0)))
		return rc;
	rc = crm_form_get(c->db, pos[0], &json);
	return cli_print_owned(c->db, rc, json);
}
