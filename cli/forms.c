/* `crm forms` and `crm form NAME`: the definitions stored in the database,
 * as the library returns them (crm_form_list, crm_form_get). */
#include <stdio.h>

#include "cli.h"

static int print_owned(crm_db *db, int rc, char *json)
{
	if (rc != CRM_OK) {
		crm_free(json);
		return cli_lib_error(db, rc);
	}
	puts(json ? json : "null");
	crm_free(json);
	return 0;
}

int cli_verb_forms(cli *c, int argc, char **argv)
{
	const char *pos[1];
	char *json = NULL;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 0, 0, &npos)) || (rc = cli_open(c, 0)))
		return rc;
	rc = crm_form_list(c->db, &json);
	return print_owned(c->db, rc, json);
}

int cli_verb_form(cli *c, int argc, char **argv)
{
	const char *pos[1];
	char *json = NULL;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 1, 1, &npos)) || (rc = cli_open(c, 0)))
		return rc;
	rc = crm_form_get(c->db, pos[0], &json);
	return print_owned(c->db, rc, json);
}
