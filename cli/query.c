/* `crm query` and `crm count`: the command line's options become one query
 * document ({"filter":..,"sort":[..],"limit":N,...}) for crm_query or
 * crm_count; rows stream out through output.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The separator before the next member of the query object. */
static void put_key(cli_buf *q, const char *key)
{
	if (q->len > 1)
		cli_buf_puts(q, ",");
	cli_buf_json_str(q, key);
	cli_buf_puts(q, ":");
}

/* "a,-b" as a JSON array of strings; empty items are a usage error. */
static int put_name_list(cli_buf *q, const char *key, const char *list)
{
	const char *p = list;

	put_key(q, key);
	cli_buf_puts(q, "[");
	for (int first = 1;; first = 0) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char *name;

		if (n == 0)
			return cli_usage_error("--%s: empty name in '%s'", key, list);
		name = cli_xmalloc(n + 1);
		memcpy(name, p, n);
		name[n] = '\0';
		if (!first)
			cli_buf_puts(q, ",");
		cli_buf_json_str(q, name);
		free(name);
		if (!comma)
			break;
		p = comma + 1;
	}
	cli_buf_puts(q, "]");
	return 0;
}

/* Append "filter": the argument must hold exactly one JSON value (the library checks the rest). */
static int put_filter(cli *c, cli_buf *q, const char *arg)
{
	char *json = NULL;
	size_t len, pos = 0;
	int rc = cli_read_json_arg(c, arg, "--filter", &json);

	if (rc)
		return rc;
	len = strlen(json);
	if (cli_json_ws(json, len, 0) == len)
		rc = cli_error(CRM_EINVAL, "--filter is empty");
	else if (cli_json_skip(json, len, &pos) != 0 || cli_json_ws(json, len, pos) != len)
		rc = cli_error(CRM_EINVAL, "--filter is not one JSON value: %.200s", json);
	else {
		put_key(q, "filter");
		cli_buf_puts(q, json);
	}
	free(json);
	return rc;
}

typedef struct query_args {
	const char *filter, *sort, *fields, *limit, *offset, *after, *query;
	int with_token, no_system;
} query_args;

/* Build the query document. Returns 0 or an exit code. */
static int build_query(cli *c, const query_args *a, cli_buf *q)
{
	int64_t n;
	int rc = 0;

	cli_buf_puts(q, "{");
	if (a->filter && (rc = put_filter(c, q, a->filter)))
		return rc;
	if (a->sort && (rc = put_name_list(q, "sort", a->sort)))
		return rc;
	if (a->fields && (rc = put_name_list(q, "fields", a->fields)))
		return rc;
	if (a->limit) {
		if ((rc = cli_parse_int(a->limit, 0, INT64_MAX, "--limit", &n)))
			return rc;
		put_key(q, "limit");
		cli_buf_printf(q, "%" PRId64, n);
	}
	if (a->offset) {
		if ((rc = cli_parse_int(a->offset, 0, INT64_MAX, "--offset", &n)))
			return rc;
		put_key(q, "offset");
		cli_buf_printf(q, "%" PRId64, n);
	}
	if (a->after) {
		put_key(q, "after");
		cli_buf_json_str(q, a->after);
	}
	cli_buf_puts(q, "}");
	return 0;
}

/* --query: a whole query document (what `report --drill` prints), instead of the options that build one. */
static int read_query(cli *c, const query_args *a, cli_buf *q)
{
	char *json = NULL;
	int rc;

	if (a->filter || a->sort || a->fields || a->limit || a->offset || a->after)
		return cli_usage_error("query: --query is the whole query; it cannot be combined with --filter, --sort, "
				       "--fields, --limit, --offset or --after");
	if ((rc = cli_read_json_arg(c, a->query, "--query", &json)))
		return rc;
	cli_buf_puts(q, json);
	free(json);
	return 0;
}

/* The fields an insert may write (not computed, not rollup): what
 * --no-system exports, so the export inserts back as it is. */
static void writable_field(void *payload, const char *key, size_t key_len, const char *value, size_t value_len)
{
	cli_buf *out = payload;
	const char *name = strstr(value, "\"name\":\""), *type = strstr(value, "\"type\":\"");

	(void)key, (void)key_len;
	if (!name || !type || (size_t)(name - value) > value_len || (size_t)(type - value) > value_len ||
	    strncmp(type + 8, "computed\"", 9) == 0 || strncmp(type + 8, "rollup\"", 7) == 0)
		return;
	name += 8;
	if (out->len)
		cli_buf_puts(out, ",");
	cli_buf_put(out, name, strcspn(name, "\""));
}

static void form_fields(void *payload, const char *key, size_t key_len, const char *value, size_t value_len)
{
	if (key_len == 6 && memcmp(key, "fields", 6) == 0)
		cli_json_each(value, value_len, 0, writable_field, payload);
}

static int writable_fields(cli *c, const char *form, cli_buf *out)
{
	char *json = NULL;
	int rc = crm_form_get(c->db, form, &json);

	if (rc != CRM_OK)
		return cli_print_owned(c->db, rc, json);
	cli_json_each(json, strlen(json), 0, form_fields, out);
	crm_free(json);
	return 0;
}

int cli_verb_query(cli *c, int argc, char **argv)
{
	query_args a = { 0 };
	const char *pos[1];
	const cli_opt opts[] = {
		{ "--filter", &a.filter, NULL, NULL }, { "--sort", &a.sort, NULL, NULL },
		{ "--fields", &a.fields, NULL, NULL }, { "--limit", &a.limit, NULL, NULL },
		{ "--offset", &a.offset, NULL, NULL }, { "--after", &a.after, NULL, NULL },
		{ "--query", &a.query, NULL, NULL },   { "--with-token", NULL, &a.with_token, NULL },
		{ "--no-system", NULL, &a.no_system, NULL }, { NULL, NULL, NULL, NULL },
	};
	cli_buf q = CLI_BUF_INIT, fields = CLI_BUF_INIT;
	crm_cursor *cur = NULL;
	int npos, rc, format = CLI_FORMAT_JSON;

	rc = cli_parse_args(argc, argv, opts, pos, 1, 1, &npos);
	if (rc == 0)
		rc = cli_parse_format(c, CLI_FORMATS_ALL, &format);
	if (rc == 0)
		rc = cli_open(c, 0);
	if (rc == 0 && a.no_system && !a.fields && !a.query)
		rc = writable_fields(c, pos[0], &fields);
	a.fields = a.fields ? a.fields : fields.p;
	if (rc == 0)
		rc = a.query ? read_query(c, &a, &q) : build_query(c, &a, &q);
	if (rc == 0) {
		rc = crm_query(&cur, c->db, pos[0], q.p);
		rc = rc == CRM_OK ? cli_write_rows(c->db, cur, format, a.with_token, a.no_system) : cli_lib_error(c->db, rc);
	}
	crm_cursor_free(cur);
	cli_buf_free(&q);
	cli_buf_free(&fields);
	return rc;
}

int cli_verb_count(cli *c, int argc, char **argv)
{
	query_args a = { 0 };
	const char *pos[1];
	const cli_opt opts[] = { { "--filter", &a.filter, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	cli_buf q = CLI_BUF_INIT;
	int64_t n = 0;
	int npos, rc;

	rc = cli_parse_args(argc, argv, opts, pos, 1, 1, &npos);
	if (rc == 0)
		rc = build_query(c, &a, &q);
	if (rc == 0)
		rc = cli_open(c, 0);
	if (rc == 0) {
		rc = crm_count(c->db, pos[0], q.p, &n);
		if (rc == CRM_OK)
			printf("{\"count\":%" PRId64 "}\n", n);
		else
			rc = cli_lib_error(c->db, rc);
	}
	cli_buf_free(&q);
	return rc;
}
