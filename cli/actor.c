/* The actor a command acts as: `--as USER[:ROLE,ROLE][;attr=value;attr=v1|v2]`
 * or `--as @actor.json`, turned into the actor JSON of crm_actor_set_json
 * (docs/cli.md), and the verbs that show it: `crm whoami`, `crm can`. The
 * text form only splits and unescapes; the rules on names and values are the
 * library's, so the CLI and a host accept exactly the same actors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct actor_parser {
	const char *s; /* the --as text, read left to right */
	size_t at;
	cli_buf part;  /* the part read last, unescaped */
	cli_buf json;  /* the actor JSON being built */
	cli_buf seen;  /* role names, then attribute names, NUL-separated: a repeat is refused */
} actor_parser;

#define SYNTAX "--as USER[:ROLE,ROLE][;NAME=VALUE;NAME=V1|V2...] or --as @FILE"

/*
 * Read one part up to an unescaped character of `stops` (or the end) into
 * p->part, unescaped: a backslash makes the next character literal, so `\;`,
 * `\=`, `\|`, `\,`, `\:`, `\@` and `\\` put those characters in a name or
 * value. Returns the stop met ('\0' at the end), or -(exit code) for an empty
 * part (`empty` names it in the message) or a backslash that ends the text.
 */
static int read_part(actor_parser *p, const char *stops, const char *empty)
{
	p->part.len = 0;
	cli_buf_put(&p->part, "", 0);
	for (;;) {
		char ch = p->s[p->at];

		if (ch && !(ch != '\\' && strchr(stops, ch))) {
			p->at++;
			if (ch == '\\' && !(ch = p->s[p->at++]))
				return -cli_usage_error("--as: a '\\' ends the text (write '\\\\' for a backslash)");
			cli_buf_put(&p->part, &ch, 1);
			continue;
		}
		if (ch)
			p->at++;
		if (!p->part.len)
			return -cli_usage_error("--as: %s (%s)", empty, SYNTAX);
		return ch;
	}
}

/* Remember p->part as a name of its kind; -(exit code) when it came before. */
static int first_time(actor_parser *p, const char *kind)
{
	for (size_t at = 0; at < p->seen.len; at += strlen(p->seen.p + at) + 1)
		if (strcmp(p->seen.p + at, p->part.p) == 0)
			return -cli_usage_error("--as: %s '%s' is given twice", kind, p->part.p);
	cli_buf_put(&p->seen, p->part.p, p->part.len + 1);
	return 0;
}

/* The roles after ':' up to ';' or the end, as "roles":[...]. Returns the stop or -(exit code). */
static int parse_roles(actor_parser *p)
{
	int stop, rc, n = 0;

	cli_buf_puts(&p->json, ",\"roles\":[");
	do {
		if ((stop = read_part(p, ",;", "an empty role")) < 0)
			return stop;
		if ((rc = first_time(p, "role")))
			return rc;
		cli_buf_puts(&p->json, n++ ? "," : "");
		cli_buf_json_str(&p->json, p->part.p);
	} while (stop == ',');
	cli_buf_puts(&p->json, "]");
	p->seen.len = 0;
	return stop;
}

/* One NAME=VALUE, NAME=V1|V2 or NAME[]=V attribute. Returns the stop or -(exit code). */
static int parse_attr(actor_parser *p)
{
	cli_buf values = CLI_BUF_INIT, empty = CLI_BUF_INIT;
	int stop, rc, n = 0, array;

	if ((stop = read_part(p, "=;", "an empty attribute or one without a name")) < 0)
		return stop;
	if (stop != '=')
		return -cli_usage_error("--as: attribute '%s' needs '=VALUE' (%s)", p->part.p, SYNTAX);
	/* NAME[]=V: an array even of one value, for a rule's "in" */
	array = p->part.len > 2 && strcmp(p->part.p + p->part.len - 2, "[]") == 0;
	if (array)
		p->part.p[p->part.len -= 2] = '\0';
	if ((rc = first_time(p, "attribute")))
		return rc;
	cli_buf_puts(&p->json, p->json.p[p->json.len - 1] == '{' ? "" : ",");
	cli_buf_json_str(&p->json, p->part.p);
	cli_buf_puts(&p->json, ":");
	cli_buf_printf(&empty, "attribute '%s' has an empty value (an empty string or a typed value needs --as @FILE)",
		       p->part.p);
	do {
		if ((stop = read_part(p, "|;", cli_buf_cstr(&empty))) < 0)
			break;
		cli_buf_puts(&values, n++ ? "," : "");
		cli_buf_json_str(&values, p->part.p);
	} while (stop == '|');
	if (stop >= 0)
		cli_buf_printf(&p->json, n > 1 || array ? "[%s]" : "%s", cli_buf_cstr(&values));
	cli_buf_free(&values);
	cli_buf_free(&empty);
	return stop;
}

int cli_actor_parse(cli *c, const char *spec, char **out)
{
	actor_parser p = { spec, 0, CLI_BUF_INIT, CLI_BUF_INIT, CLI_BUF_INIT };
	int stop;

	*out = NULL;
	if (spec[0] == '@')
		return cli_read_json_arg(c, spec, "--as", out);
	if ((stop = read_part(&p, ":;", "no user name")) >= 0) {
		cli_buf_puts(&p.json, "{\"user\":");
		cli_buf_json_str(&p.json, p.part.p);
		if (stop == ':')
			stop = parse_roles(&p);
		else
			cli_buf_puts(&p.json, ",\"roles\":[]");
	}
	if (stop >= 0) {
		cli_buf_puts(&p.json, ",\"attrs\":{");
		while (stop == ';')
			stop = parse_attr(&p);
		cli_buf_puts(&p.json, "}}");
	}
	if (stop >= 0)
		*out = cli_xstrdup(cli_buf_cstr(&p.json));
	cli_buf_free(&p.part);
	cli_buf_free(&p.json);
	cli_buf_free(&p.seen);
	return stop < 0 ? -stop : 0;
}

/* crm whoami: the actor --as names, as the library holds it (crm_actor_json);
 * without --db it needs no database. */
int cli_verb_whoami(cli *c, int argc, char **argv)
{
	const char *pos[1];
	char *json = NULL;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 0, 0, &npos)))
		return rc;
	if (!c->db_path || !*c->db_path)
		c->db_path = ":memory:";
	if ((rc = cli_open(c, strcmp(c->db_path, ":memory:") == 0)))
		return rc;
	rc = crm_actor_json(c->db, &json);
	return cli_print_owned(c->db, rc, json);
}

static void find_allowed(void *payload, const char *key, size_t key_len, const char *value, size_t value_len)
{
	if (key_len == 7 && memcmp(key, "allowed", 7) == 0)
		*(int *)payload = value_len == 4 && memcmp(value, "true", 4) == 0;
}

/* The verbs crm_access_explain takes: a mistyped one is a usage error here, with a hint. */
static int check_access_verb(const char *verb)
{
	static const char *const verbs[] = { "read", "create", "update", "delete", "fire:" };

	if (strncmp(verb, "fire:", 5) == 0 && verb[5])
		return 0;
	for (size_t i = 0; i < 4; i++)
		if (strcmp(verb, verbs[i]) == 0)
			return 0;
	return cli_usage_error("can: VERB must be read, create, update, delete or fire:EVENT, not '%s'%s", verb,
			       cli_did_you_mean(verb, verbs, 5));
}

/* crm can ACTOR VERB FORM [ID]: explain the decision (crm_access_explain);
 * exit 0 when allowed, 1 when denied. */
int cli_verb_can(cli *c, int argc, char **argv)
{
	const char *pos[4];
	char *json = NULL;
	int64_t id = 0;
	int npos, rc, allowed = 0;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 3, 4, &npos)))
		return rc;
	if (c->actor)
		return cli_usage_error("can: the actor is the first argument; leave out --as");
	if ((rc = check_access_verb(pos[1])) || (npos == 4 && (rc = cli_parse_id(pos[3], &id))) ||
	    (rc = cli_actor_parse(c, pos[0], &c->actor_json)) || (rc = cli_open(c, 0)))
		return rc;
	if ((rc = crm_access_explain(c->db, pos[1], pos[2], id, &json)) == CRM_OK)
		cli_json_each(json, strlen(json), 0, find_allowed, &allowed);
	if ((rc = cli_print_owned(c->db, rc, json)))
		return rc;
	return allowed ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}
