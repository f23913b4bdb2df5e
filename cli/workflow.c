/* The workflow verbs (include/crm/workflow.h): start an instance, fire an
 * event on a record or an instance, fire due timers (tick), list a record's
 * instances, allowed events and history, decide an approval as the --as
 * actor, and migrate instances to a workflow's latest version. Every verb
 * prints one JSON document. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The workflow calls answer an unknown form (or record) with an empty list
 * or "awaits no approval"; a mistyped name is a not-found error here (exit
 * 3). id 0 checks the form only: history and instances of a deleted record
 * stay readable. */
static int check_target(cli *c, const char *form, int64_t id)
{
	char *json = NULL;
	int rc = id ? crm_record_get(c->db, form, id, &json) : crm_form_get(c->db, form, &json);

	crm_free(json);
	return rc == CRM_OK ? 0 : cli_lib_error(c->db, rc);
}

/* `crm start WORKFLOW [ID]`: ID for a workflow bound to a form, none for a free-standing one. */
int cli_verb_start(cli *c, int argc, char **argv)
{
	const char *pos[2];
	int64_t record = 0, instance = 0;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 1, 2, &npos)) ||
	    (npos == 2 && (rc = cli_parse_id(pos[1], &record))) || (rc = cli_open(c, 0)))
		return rc;
	rc = crm_workflow_start(c->db, pos[0], record, &instance);
	if (rc != CRM_OK)
		return cli_lib_error(c->db, rc);
	printf("{\"instance\":%" PRId64 "}\n", instance);
	return 0;
}

/*
 * `crm fire FORM ID EVENT [JSON]` prints the record's instances after the
 * transition; `crm fire --instance N EVENT [JSON]` fires on one instance
 * (free-standing workflows have no record) and prints {"instance","fired"}.
 */
int cli_verb_fire(cli *c, int argc, char **argv)
{
	const char *pos[4], *instance_arg = NULL, *form = NULL, *event, *fields_arg;
	const cli_opt opts[] = { { "--instance", &instance_arg, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	char *fields = NULL, *json = NULL;
	int64_t id = 0, instance = 0;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 1, 4, &npos)))
		return rc;
	if (instance_arg) {
		if (npos > 2)
			return cli_usage_error("fire: with --instance, give EVENT [JSON] only");
		if ((rc = cli_parse_int(instance_arg, 1, INT64_MAX, "--instance", &instance)))
			return rc;
		event = pos[0];
		fields_arg = npos == 2 ? pos[1] : NULL;
	} else {
		if (npos < 3)
			return cli_usage_error("fire: missing arguments: FORM ID EVENT [JSON] (or --instance N EVENT [JSON])");
		if ((rc = cli_parse_id(pos[1], &id)))
			return rc;
		form = pos[0];
		event = pos[2];
		fields_arg = npos == 4 ? pos[3] : NULL;
	}
	if (!*event)
		return cli_usage_error("fire: EVENT is empty");
	if ((fields_arg && (rc = cli_read_json_arg(c, fields_arg, "fire", &fields))) || (rc = cli_open(c, 0))) {
		free(fields);
		return rc;
	}
	if (instance_arg) {
		rc = crm_workflow_fire_instance(c->db, instance, event, fields);
		free(fields);
		if (rc != CRM_OK)
			return cli_lib_error(c->db, rc);
		rc = crm_workflow_instance_get(c->db, instance, &json);
		return cli_print_records(c, rc, json);
	}
	if ((rc = check_target(c, form, 0))) {
		free(fields);
		return rc;
	}
	rc = crm_workflow_fire(c->db, form, id, event, fields);
	free(fields);
	if (rc != CRM_OK)
		return cli_lib_error(c->db, rc);
	rc = crm_workflow_instances(c->db, form, id, &json);
	return cli_print_records(c, rc, json);
}

/* `crm tick [--now TIME]`: fire the timers due at TIME (or the global --now, or the system clock). */
int cli_verb_tick(cli *c, int argc, char **argv)
{
	const char *pos[1], *now = NULL;
	const cli_opt opts[] = { { "--now", &now, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	int64_t now_ms = -1, fired = 0;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 0, 0, &npos)))
		return rc;
	if (now && cli_parse_time(now, &now_ms) != 0)
		return cli_usage_error("tick --now: '%s' is not YYYY-MM-DDTHH:MM[:SS[.mmm]]Z|+HH:MM or epoch ms", now);
	if ((rc = cli_open(c, 0)))
		return rc;
	/* Without a time of its own, the tick reads the handle's clock (the global --now, if any). */
	rc = crm_tick(c->db, now_ms, &fired);
	if (rc != CRM_OK)
		return cli_lib_error(c->db, rc);
	printf("{\"fired\":%" PRId64 "}\n", fired);
	return 0;
}

typedef int (*record_list_fn)(crm_db *db, const char *form, int64_t record, char **out);

/* FORM ID -> one JSON document from `fn`; need_record: a missing record exits 3. */
static int record_list(cli *c, int argc, char **argv, record_list_fn fn, int need_record)
{
	const char *pos[2];
	char *json = NULL;
	int64_t id;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 2, 2, &npos)) || (rc = cli_parse_id(pos[1], &id)) ||
	    (rc = cli_open(c, 0)) || (rc = check_target(c, pos[0], need_record ? id : 0)))
		return rc;
	rc = fn(c->db, pos[0], id, &json);
	return cli_print_records(c, rc, json);
}

int cli_verb_history(cli *c, int argc, char **argv) { return record_list(c, argc, argv, crm_workflow_history, 0); }
int cli_verb_events(cli *c, int argc, char **argv) { return record_list(c, argc, argv, crm_workflow_events, 1); }
int cli_verb_instances(cli *c, int argc, char **argv) { return record_list(c, argc, argv, crm_workflow_instances, 0); }

/* approve/reject FORM ID: the decision of the --as actor on the record's pending approval. */
static int decide(cli *c, int argc, char **argv, int approve)
{
	const char *pos[2], *reason = NULL, *verb = argv[0];
	const cli_opt opts[] = { { "--reason", &reason, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	char *json = NULL;
	int64_t id;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, approve ? NULL : opts, pos, 2, 2, &npos)) || (rc = cli_parse_id(pos[1], &id)))
		return rc;
	if (!approve && (!reason || !*reason))
		return cli_usage_error("reject needs --reason TEXT");
	if (!c->actor)
		return cli_usage_error("%s needs --as USER:ROLE (the approver deciding)", verb);
	if ((rc = cli_open(c, 0)) || (rc = check_target(c, pos[0], id)))
		return rc;
	rc = crm_workflow_decide(c->db, pos[0], id, approve ? "approve" : "reject", reason);
	if (rc != CRM_OK)
		return cli_lib_error(c->db, rc);
	rc = crm_workflow_instances(c->db, pos[0], id, &json);
	return cli_print_records(c, rc, json);
}

int cli_verb_approve(cli *c, int argc, char **argv) { return decide(c, argc, argv, 1); }
int cli_verb_reject(cli *c, int argc, char **argv) { return decide(c, argc, argv, 0); }

/* `crm migrate-workflow NAME`: move active instances to the latest version. */
int cli_verb_migrate_workflow(cli *c, int argc, char **argv)
{
	const char *pos[1];
	int64_t moved = 0;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 1, 1, &npos)) || (rc = cli_open(c, 0)))
		return rc;
	rc = crm_workflow_migrate(c->db, pos[0], &moved);
	if (rc != CRM_OK)
		return cli_lib_error(c->db, rc);
	printf("{\"migrated\":%" PRId64 "}\n", moved);
	return 0;
}
