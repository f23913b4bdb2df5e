/* `crm check [FORM]`: drift from writes that bypassed libcrm, found by
 * crm_form_check without changing anything; exit 4 when there is any. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_verb_check(cli *c, int argc, char **argv)
{
	const char *pos[1] = { NULL };
	char *json = NULL;
	int npos, rc, clean;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 0, 1, &npos)) || (rc = cli_open(c, 0)))
		return rc;
	rc = crm_form_check(c->db, npos ? pos[0] : NULL, &json);
	clean = rc == CRM_OK && strstr(json, ",\"problems\":0,") != NULL;
	rc = cli_print_owned(c->db, rc, json);
	return rc ? rc : clean ? CLI_EXIT_OK : CLI_EXIT_CONSTRAINT;
}
