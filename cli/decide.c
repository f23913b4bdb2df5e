/* `crm decide TABLE [JSON]` (JSON left out: stdin): evaluate a decision table on an object of
 * inputs (crm_decision_eval) and print its outputs: an object or null for hit
 * policy "first", an array for "collect". */
#include <stdlib.h>

#include "cli.h"

int cli_verb_decide(cli *c, int argc, char **argv)
{
	const char *pos[2];
	char *inputs = NULL, *out = NULL;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 1, 2, &npos)) ||
	    (rc = cli_read_json_arg(c, npos == 2 ? pos[1] : "-", "decide", &inputs)) || (rc = cli_open(c, 0))) {
		free(inputs);
		return rc;
	}
	rc = crm_decision_eval(c->db, pos[0], inputs, &out);
	free(inputs);
	return cli_print_records(c, rc, out);
}
