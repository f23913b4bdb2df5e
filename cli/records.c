/* The record verbs: insert (one object, an array or NDJSON), get, update
 * and delete, the last two with --if-version for optimistic concurrency. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* 1 when `json` holds exactly one object (then crm_record_insert), 0 for an array or NDJSON. */
static int is_single_object(const char *json)
{
	size_t len = strlen(json), pos = cli_json_ws(json, len, 0);

	if (pos >= len || json[pos] != '{')
		return json[pos] != '['; /* not an object or array: let the library explain */
	if (cli_json_skip(json, len, &pos) != 0)
		return 1; /* malformed: the single-record call reports where */
	return cli_json_ws(json, len, pos) == len;
}

int cli_verb_insert(cli *c, int argc, char **argv)
{
	const char *pos[2];
	char *json = NULL;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 2, 2, &npos)) ||
	    (rc = cli_read_json_arg(c, pos[1], "insert", &json)) || (rc = cli_open(c, 0))) {
		free(json);
		return rc;
	}
	if (is_single_object(json)) {
		int64_t id = 0;

		rc = crm_record_insert(c->db, pos[0], json, &id);
		if (rc == CRM_OK)
			printf("{\"id\":%" PRId64 "}\n", id);
	} else {
		int64_t *ids = NULL;
		size_t n = 0;

		rc = crm_record_insert_many(c->db, pos[0], json, &ids, &n);
		if (rc == CRM_OK) {
			fputs("{\"ids\":[", stdout);
			for (size_t i = 0; i < n; i++)
				printf("%s%" PRId64, i ? "," : "", ids[i]);
			fputs("]}\n", stdout);
		}
		crm_free(ids);
	}
	free(json);
	return rc == CRM_OK ? 0 : cli_lib_error(c->db, rc);
}

int cli_verb_get(cli *c, int argc, char **argv)
{
	const char *pos[2];
	char *json = NULL;
	int64_t id;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 2, 2, &npos)) || (rc = cli_parse_id(pos[1], &id)) ||
	    (rc = cli_open(c, 0)))
		return rc;
	rc = crm_record_get(c->db, pos[0], id, &json);
	if (rc == CRM_OK)
		puts(json);
	crm_free(json);
	return rc == CRM_OK ? 0 : cli_lib_error(c->db, rc);
}

static int parse_version(const char *s, int64_t *out)
{
	*out = 0;
	return s ? cli_parse_int(s, 1, INT64_MAX, "--if-version", out) : 0;
}

int cli_verb_update(cli *c, int argc, char **argv)
{
	const char *pos[3], *if_version = NULL;
	const cli_opt opts[] = { { "--if-version", &if_version, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	char *json = NULL;
	int64_t id, version;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 3, 3, &npos)) || (rc = cli_parse_id(pos[1], &id)) ||
	    (rc = parse_version(if_version, &version)) || (rc = cli_read_json_arg(c, pos[2], "update", &json)) ||
	    (rc = cli_open(c, 0))) {
		free(json);
		return rc;
	}
	rc = crm_record_update(c->db, pos[0], id, json, version);
	free(json);
	if (rc != CRM_OK)
		return cli_lib_error(c->db, rc);
	printf("{\"id\":%" PRId64 ",\"updated\":true}\n", id);
	return 0;
}

int cli_verb_delete(cli *c, int argc, char **argv)
{
	const char *pos[2], *if_version = NULL;
	const cli_opt opts[] = { { "--if-version", &if_version, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	int64_t id, version;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 2, 2, &npos)) || (rc = cli_parse_id(pos[1], &id)) ||
	    (rc = parse_version(if_version, &version)) || (rc = cli_open(c, 0)))
		return rc;
	rc = crm_record_delete(c->db, pos[0], id, version);
	if (rc != CRM_OK)
		return cli_lib_error(c->db, rc);
	printf("{\"id\":%" PRId64 ",\"deleted\":true}\n", id);
	return 0;
}
