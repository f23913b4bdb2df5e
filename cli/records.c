/* The record verbs: insert (one object, an array, NDJSON or concatenated
 * objects), upsert, get, update and delete, the last two with --if-version
 * for optimistic concurrency. A left-out JSON argument is read from stdin. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The top-level JSON values of the input, as spans: one object, an array,
 * NDJSON, or objects one after another (pretty-printed or concatenated, as
 * jq writes them). 0, or -1 when the structure is broken (then the library,
 * given the text as it is, says where). */
typedef struct values {
	size_t *at, *len, n;
} values;

static int split_values(const char *json, values *v)
{
	size_t len = strlen(json), pos = cli_json_ws(json, len, 0);

	while (pos < len) {
		size_t start = pos;

		if (cli_json_skip(json, len, &pos) != 0)
			return -1;
		v->at = cli_xrealloc(v->at, (v->n + 1) * sizeof *v->at);
		v->len = cli_xrealloc(v->len, (v->n + 1) * sizeof *v->len);
		v->at[v->n] = start;
		v->len[v->n++] = pos - start;
		pos = cli_json_ws(json, len, pos);
	}
	return 0;
}

static void values_free(values *v)
{
	free(v->at);
	free(v->len);
}

/* Several values (NDJSON, pretty-printed, concatenated): one batch, each
 * value added where it lies in the input, so a failing row is reported by
 * its index with byte offsets inside it, as for NDJSON. */
static int insert_values(crm_db *db, const char *form, const char *json, const values *v, int64_t **ids)
{
	crm_batch *batch = NULL;
	int rc = crm_batch_begin(&batch, db, form);

	*ids = cli_xmalloc(v->n * sizeof **ids);
	for (size_t i = 0; rc == CRM_OK && i < v->n; i++)
		crm_batch_add(batch, json + v->at[i], (ptrdiff_t)v->len[i], &(*ids)[i]); /* commit reports every row */
	if (rc == CRM_OK)
		rc = crm_batch_commit(batch);
	crm_batch_free(batch);
	return rc;
}

/* Read the JSON positional, or stdin when it was left out. */
static int read_input(cli *c, int npos, const char **pos, int at, const char *verb, char **out)
{
	return cli_read_json_arg(c, npos > at ? pos[at] : "-", verb, out);
}

int cli_verb_insert(cli *c, int argc, char **argv)
{
	const char *pos[2];
	int count_only = 0, quiet = 0, npos, rc;
	const cli_opt opts[] = { { "--count", NULL, &count_only, NULL }, { "--quiet", NULL, &quiet, NULL },
				 { NULL, NULL, NULL, NULL } };
	char *json = NULL;
	values v = { 0 };
	int64_t *ids = NULL, *library_ids = NULL;
	size_t n = 0, first;
	enum { ONE, VALUES, AS_WRITTEN } kind = ONE;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 1, 2, &npos)) || (rc = read_input(c, npos, pos, 1, "insert", &json)) ||
	    (rc = cli_open(c, 0))) {
		free(json);
		return rc;
	}
	/* Several values: a batch. An array, or NDJSON broken after its first
	 * line: as written, so offsets and row numbers are the input's. Anything
	 * else (an object, nothing, a broken first value) is one record, and the
	 * single insert says what is wrong. */
	first = cli_json_ws(json, strlen(json), 0);
	if (split_values(json, &v) == 0 && v.n > 1)
		kind = VALUES;
	else if (json[first] == '[' || v.n > 0)
		kind = v.n == 1 && json[first] == '{' ? ONE : AS_WRITTEN;
	if (kind == VALUES) {
		rc = insert_values(c->db, pos[0], json, &v, &ids);
		n = v.n;
	} else if (kind == ONE) {
		ids = cli_xmalloc(sizeof *ids);
		rc = crm_record_insert(c->db, pos[0], json, ids);
		n = 1;
	} else
		rc = crm_record_insert_many(c->db, pos[0], json, &library_ids, &n);
	/* duplicate rules that warn (docs/integration.md) */
	if (rc == CRM_OK && strcmp(crm_warnings(c->db), "[]") != 0)
		fprintf(stderr, "crm: warnings: %s\n", crm_warnings(c->db));
	if (rc == CRM_OK && count_only)
		printf("{\"inserted\":%zu}\n", n);
	else if (rc == CRM_OK && !quiet && kind == ONE)
		printf("{\"id\":%" PRId64 "}\n", ids[0]);
	else if (rc == CRM_OK && !quiet) {
		fputs("{\"ids\":[", stdout);
		for (size_t i = 0; i < n; i++)
			printf("%s%" PRId64, i ? "," : "", library_ids ? library_ids[i] : ids[i]);
		fputs("]}\n", stdout);
	}
	crm_free(library_ids);
	free(ids);
	values_free(&v);
	free(json);
	return rc == CRM_OK ? 0 : cli_lib_error(c->db, rc);
}

/* Upsert each value in one transaction; the error (exit code) is taken
 * before the rollback clears it. */
static int upsert_all(cli *c, const char *form, const char *key, const char *json, const values *v, int64_t *id,
		      int *was_inserted, int64_t *inserted)
{
	int rc = crm_begin(c->db);

	for (size_t i = 0; rc == CRM_OK && i < v->n; i++) {
		char *one = cli_xmalloc(v->len[i] + 1);

		memcpy(one, json + v->at[i], v->len[i]);
		one[v->len[i]] = '\0';
		rc = crm_record_upsert(c->db, form, key, one, id, was_inserted);
		*inserted += rc == CRM_OK && *was_inserted;
		free(one);
	}
	if (rc == CRM_OK)
		rc = crm_commit(c->db);
	if (rc != CRM_OK) {
		rc = cli_lib_error(c->db, rc);
		crm_rollback(c->db);
	}
	return rc;
}

/* `crm upsert FORM KEY [JSON]`: each object inserted, or the record with the
 * same KEY fields updated (crm_record_upsert), all in one transaction. */
int cli_verb_upsert(cli *c, int argc, char **argv)
{
	const char *pos[3];
	char *json = NULL;
	values v = { 0 };
	int64_t id = 0, inserted = 0;
	int npos, rc, was_inserted = 0;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 2, 3, &npos)) || (rc = read_input(c, npos, pos, 2, "upsert", &json)) ||
	    (rc = cli_open(c, 0))) {
		free(json);
		return rc;
	}
	if (split_values(json, &v) != 0 || v.n == 0) {
		/* broken or empty: the library says what is wrong */
		rc = crm_record_upsert(c->db, pos[0], pos[1], json, &id, &was_inserted);
		rc = rc == CRM_OK ? 0 : cli_lib_error(c->db, rc);
	} else
		rc = upsert_all(c, pos[0], pos[1], json, &v, &id, &was_inserted, &inserted);
	if (rc == 0 && v.n == 1)
		printf("{\"id\":%" PRId64 ",\"inserted\":%s}\n", id, was_inserted ? "true" : "false");
	else if (rc == 0)
		printf("{\"inserted\":%" PRId64 ",\"updated\":%" PRId64 "}\n", inserted, (int64_t)v.n - inserted);
	values_free(&v);
	free(json);
	return rc;
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
	return cli_print_records(c, rc, json);
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

	if ((rc = cli_parse_args(argc, argv, opts, pos, 2, 3, &npos)) || (rc = cli_parse_id(pos[1], &id)) ||
	    (rc = parse_version(if_version, &version)) || (rc = read_input(c, npos, pos, 2, "update", &json)) ||
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
