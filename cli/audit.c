/* The audit verbs: a record's entries (`crm audit FORM ID`), the chain's
 * check (`crm audit verify`), `crm record-at FORM ID TIME` and
 * `crm revert FORM ID VERSION` (docs/audit.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* `audit verify [--head HEX]`: the report on stdout; exit 1 when it found a problem. */
static int verify(cli *c, int argc, char **argv)
{
	const char *pos[1], *head = NULL;
	const cli_opt opts[] = { { "--head", &head, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	char *json = NULL;
	int npos, rc, ok;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 0, 0, &npos)) || (rc = cli_open(c, 0)))
		return rc;
	rc = crm_audit_verify_head(c->db, head, &json);
	ok = rc == CRM_OK && json && strncmp(json, "{\"ok\":true", 10) == 0;
	if ((rc = cli_print_owned(c->db, rc, json)))
		return rc;
	return ok ? 0 : CLI_EXIT_ERROR;
}

int cli_verb_audit(cli *c, int argc, char **argv)
{
	const char *pos[2];
	char *json = NULL;
	int64_t id;
	int npos, rc;

	if (argc > 1 && strcmp(argv[1], "verify") == 0)
		return verify(c, argc - 1, argv + 1);
	if ((rc = cli_parse_args(argc, argv, NULL, pos, 2, 2, &npos)) || (rc = cli_parse_id(pos[1], &id)) ||
	    (rc = cli_open(c, 0)))
		return rc;
	rc = crm_audit_history(c->db, pos[0], id, &json);
	return cli_print_owned(c->db, rc, json);
}

int cli_verb_record_at(cli *c, int argc, char **argv)
{
	const char *pos[3];
	char *json = NULL;
	int64_t id, at;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 3, 3, &npos)) || (rc = cli_parse_id(pos[1], &id)) ||
	    (rc = cli_parse_time(pos[2], &at)) || (rc = cli_open(c, 0)))
		return rc;
	rc = crm_record_at(c->db, pos[0], id, at, &json);
	return cli_print_records(c, rc, json);
}

/* `revert FORM ID VERSION`: prints the record as it now is. */
int cli_verb_revert(cli *c, int argc, char **argv)
{
	const char *pos[3];
	char *json = NULL;
	int64_t id, version;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 3, 3, &npos)) || (rc = cli_parse_id(pos[1], &id)) ||
	    (rc = cli_parse_int(pos[2], 1, INT64_MAX, "VERSION", &version)) || (rc = cli_open(c, 0)))
		return rc;
	if ((rc = crm_record_revert(c->db, pos[0], id, version)) != CRM_OK)
		return cli_lib_error(c->db, rc);
	rc = crm_record_get(c->db, pos[0], id, &json);
	return cli_print_records(c, rc, json);
}
