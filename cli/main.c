/* `crm`, the command-line client of libcrm: global options, the verb table
 * and its help, opening the database (only apply creates one) and reporting
 * errors. stdout carries only JSON (or
 * CSV) results; every error goes to stderr as "crm: message" plus the JSON
 * detail, with an exit code a script can branch on (docs/cli.md). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* By section: one string literal may not pass 4095 characters (C11). */
static const char *const usage_text[] = {
	("usage: crm [GLOBAL OPTIONS] VERB [ARGS] [GLOBAL OPTIONS]\n"
	"\n"),
	("records:\n"
	"  apply [--plan] [--allow-data-loss] [PATH...]\n"
	"                                     define or migrate metadata from *.json/*.lua files (stdin: -)\n"
	"  forms                              list the forms\n"
	"  form NAME                          show a form's definition\n"
	"  insert FORM [JSON]                 insert objects (one, an array, NDJSON or concatenated); prints the ids\n"
	"  upsert FORM KEY [JSON]             insert, or update the record with the same unique KEY fields\n"
	"  import FORM FILE                   import CSV, NDJSON or a JSON array (--map F --upsert KEY --mode M\n"
	"                                     --errors F --encoding E --format F); prints a summary\n"
	"  get FORM ID                        print one record\n"
	"  update FORM ID [JSON] [--if-version N]\n"
	"  delete FORM ID [--if-version N]\n"
	"  query FORM [--filter JSON] [--sort a,-b] [--fields a,b] [--limit N] [--offset N]\n"
	"             [--after TOKEN] [--with-token] [--no-system] [--query JSON]\n"
	"  count FORM [--filter JSON]\n"
	"  check [FORM]                       find records that raw SQL writes left invalid or stale\n"
	"\n"),
	("audit trail:\n"
	"  audit FORM ID                      the record's audit entries, oldest first\n"
	"  audit verify [--head HEX]          check the hash chain (exit 1 when something was tampered with)\n"
	"  record-at FORM ID TIME             the record as it was at TIME (also after its delete)\n"
	"  revert FORM ID VERSION             bring the record back to an earlier version (audited)\n"
	"\n"),
	("search and timeline:\n"
	"  search TEXT [--form F] [--limit N] [--after TOKEN]\n"
	"                                     the records whose declared fields hold every word of TEXT\n"
	"  timeline FORM ID [--kind K ...] [--limit N] [--before TOKEN]\n"
	"                                     everything about the record, newest first\n"
	"\n"),
	("duplicates and merge:\n"
	"  duplicates FORM [--rule R ...] [--limit N]\n"
	"                                     groups of records the form's duplicate rules match\n"
	"  merge FORM SURVIVOR OTHER [--prefer FIELD=survivor|other|newest|non_empty ...] [--default P]\n"
	"                                     merge OTHER into SURVIVOR (references, workflows follow)\n"
	"  merge undo ID                      undo merge ID (both records as they were)\n"
	"\n"),
	("workflows:\n"
	"  start WORKFLOW [ID]                start a workflow for record ID (none: free-standing)\n"
	"  fire FORM ID EVENT [JSON]          fire EVENT on the record's workflows (JSON: fields to write)\n"
	"  fire --instance N EVENT [JSON]     fire EVENT on one instance\n"
	"  events FORM ID                     the events the record's workflows allow now\n"
	"  instances FORM ID                  the record's workflow instances\n"
	"  history FORM ID                    the record's workflow history\n"
	"  approve FORM ID                    approve the record's pending approval (needs --as)\n"
	"  reject FORM ID --reason TEXT       reject it (needs --as)\n"
	"  tick [--now TIME]                  fire the timers due now (or at TIME)\n"
	"  migrate-workflow NAME              move instances to the workflow's latest version\n"
	"  decide TABLE [JSON]                evaluate a decision table on an object of inputs\n"
	"\n"),
	("event stream (system actor; docs/integration.md \"Consumers\"):\n"
	"  events read CONSUMER [--limit N] [--filter JSON] [--lease-ms N] | ack CONSUMER SEQ\n"
	"  events tail [--after SEQ] [--count N] [--interval MS]  (until Ctrl-C)\n"
	"  events consumers | drop CONSUMER | prune [--older-than AGE]\n"
	"\n"),
	("reports:\n"
	"  report NAME [--param K=V ...] [--explain] [--drill ROW-JSON]\n"
	"\n"),
	("data:\n"
	"  export (FORM [--query JSON] | --report NAME [--params JSON]) [--headers names|labels]\n"
	"         [--out FILE] [--bom] [--system]\n"
	"                                     a query or report as --format csv (default), ndjson, json or\n"
	"                                     xlsx (needs --out); --out writes the file whole or not at all\n"
	"\n"),
	("access:\n"
	"  whoami                             print the actor --as names (no --db needed)\n"
	"  can ACTOR VERB FORM [ID]           explain whether ACTOR (as --as takes it) may VERB (read, create,\n"
	"                                     update, delete, fire:EVENT) FORM or record ID; exit 0 yes, 1 no\n"
	"\n"),
	("global options (before or after the verb):\n"
	"  --db FILE         the database (default: $CRM_DB)\n"
	"  --as ACTOR        act as USER[:ROLE,ROLE][;NAME=VALUE;NAME=V1|V2...] ('\\' escapes ;=|,:\\),\n"
	"                    or as the actor JSON in @FILE\n"
	"  --now TIME        freeze the clock: 2024-05-01T09:30:00Z, +08:00 offsets, or epoch ms\n"
	"  --format F        json, ndjson, csv or table, for verbs that print records\n"
	"  --log-level L     Lua print and crm.log on stderr from level L: debug, info (default), warn, error, off\n"
	"  --max-input BYTES the most a command reads (default 64 MiB; also $CRM_MAX_INPUT)\n"
	"  --init            let apply add libcrm's tables to an SQLite file of another application\n"
	"  --help, --version; 'crm help VERB' or 'crm VERB --help' for one verb\n"
	"\n"),
	("A JSON argument may be '-' (stdin) or '@FILE'; left out, it is read from stdin.\n"
	"exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 constraint, 5 version conflict,\n"
	"            6 not permitted\n"),
	NULL,
};

static void print_error(const char *code, const char *msg)
{
	cli_buf b = CLI_BUF_INIT;

	cli_buf_puts(&b, "{\"code\":");
	cli_buf_json_str(&b, code);
	cli_buf_puts(&b, ",\"message\":");
	cli_buf_json_str(&b, msg);
	cli_buf_puts(&b, "}");
	fprintf(stderr, "crm: %s\n%s\n", msg, cli_buf_cstr(&b));
	cli_buf_free(&b);
}

int cli_usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	print_error("usage", msg);
	return CLI_EXIT_USAGE;
}

int cli_error(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	print_error(crm_errstr(code), msg);
	return cli_exit_code(code);
}

int cli_exit_code(int rc)
{
	switch (rc) {
	case CRM_OK: return CLI_EXIT_OK;
	case CRM_ENOTFOUND: return CLI_EXIT_NOTFOUND;
	case CRM_ECONSTRAINT: return CLI_EXIT_CONSTRAINT;
	case CRM_ECONFLICT: return CLI_EXIT_CONFLICT;
	case CRM_EPERM: return CLI_EXIT_PERM;
	default: return CLI_EXIT_ERROR;
	}
}

/* The text between `prefix` and the next `stop` in msg ("no form named 'leed'"
 * with prefix "named '" and stop '\''), malloc'd, or NULL. */
static char *text_after(const char *msg, const char *prefix, char stop)
{
	const char *p = strstr(msg, prefix), *end;
	char *name;

	if (!p || !(end = strchr(p += strlen(prefix), stop)))
		return NULL;
	name = cli_xmalloc((size_t)(end - p) + 1);
	memcpy(name, p, (size_t)(end - p));
	name[end - p] = '\0';
	return name;
}

typedef struct name_list {
	const char *key; /* the member naming each element: "form" or "name" */
	cli_buf text;    /* the names, NUL-separated */
	const char *v[256];
	size_t n;
} name_list;

static void name_of(void *payload, const char *key, size_t key_len, const char *value, size_t value_len)
{
	name_list *ns = payload;

	if (key_len == strlen(ns->key) && memcmp(key, ns->key, key_len) == 0 && value[0] == '"') {
		cli_json_text(&ns->text, value, value_len);
		cli_buf_put(&ns->text, "", 1); /* the separator (cli_buf keeps its own NUL after it) */
	}
}

static void element_names(void *payload, const char *key, size_t key_len, const char *value, size_t value_len)
{
	(void)key, (void)key_len;
	cli_json_each(value, value_len, 0, name_of, payload);
}

static void fields_of(void *payload, const char *key, size_t key_len, const char *value, size_t value_len)
{
	if (key_len == 6 && memcmp(key, "fields", 6) == 0)
		cli_json_each(value, value_len, 0, element_names, payload);
}

/*
 * "did you mean" for a mistyped form or field: the library's message names
 * what it did not find; the closest existing name is looked up (this call
 * replaces the handle's error, so the caller keeps its own copy).
 */
static char *suggest(crm_db *db, const char *msg)
{
	char *word, *form = NULL, *json = NULL, *hint = NULL;
	name_list ns = { "form", CLI_BUF_INIT, { 0 }, 0 };

	if ((word = text_after(msg, "no form named '", '\''))) {
		if (crm_form_list(db, &json) == CRM_OK)
			cli_json_each(json, strlen(json), 0, element_names, &ns);
	} else if ((word = text_after(msg, "unknown field '", '\'')) || (word = text_after(msg, "has no field '", '\''))) {
		/* "... unknown field 'x' in form 'lead'" or "form lead has no field 'x'" */
		ns.key = "name";
		if (!(form = text_after(msg, "in form '", '\'')))
			form = text_after(msg, "form ", ' ');
		if (form && crm_form_get(db, form, &json) == CRM_OK)
			cli_json_each(json, strlen(json), 0, fields_of, &ns);
	}
	for (size_t at = 0; at < ns.text.len && ns.n < 256; at += strlen(ns.text.p + at) + 1)
		ns.v[ns.n++] = ns.text.p + at;
	if (word && ns.n && *cli_did_you_mean(word, ns.v, ns.n))
		hint = cli_xstrdup(cli_did_you_mean(word, ns.v, ns.n));
	crm_free(json);
	cli_buf_free(&ns.text);
	free(word);
	free(form);
	return hint;
}

int cli_lib_error(crm_db *db, int rc)
{
	const char *msg = db ? crm_errmsg(db) : "";
	int code = db && crm_errcode(db) ? crm_errcode(db) : rc;
	char *m, *detail, *hint;

	if (code == CRM_OK || code == CRM_ROW || code == CRM_DONE)
		code = CRM_ERROR; /* a failing call must never exit 0 */
	if (!db || !*msg) {
		print_error(crm_errstr(code), crm_errstr(code));
		return cli_exit_code(code);
	}
	m = cli_xstrdup(msg);
	detail = cli_xstrdup(crm_errdetail(db));
	hint = suggest(db, m);
	fprintf(stderr, "crm: %s%s\n%s\n", m, hint ? hint : "", detail);
	free(hint);
	free(detail);
	free(m);
	return cli_exit_code(code);
}

int cli_log_level(const char *name)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };

	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return strcmp(name, "off") == 0 ? -1 : -2;
}

/* Lua print and crm.log, on stderr so stdout stays the command's result. */
static void log_line(void *payload, int level, const char *source, const char *message)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	const cli *c = payload;
	int min = c->log_level ? cli_log_level(c->log_level) : CRM_LOG_INFO;

	if (min < 0 || level < min) /* min -1: off */
		return;
	fprintf(stderr, "crm: %s: %s: %s\n", level >= 0 && level < 4 ? names[level] : "log", source ? source : "lua",
		message ? message : "");
}

/* The wording for a database that cannot be opened the way the verb needs. */
static int open_error(cli *c, int rc)
{
	if (rc == CRM_ENOTFOUND)
		return cli_error(rc, "no database at %s (create one with 'crm apply')", c->db_path);
	if (rc == CRM_EINVAL)
		return cli_error(rc, "%s is not a libcrm database (an SQLite file with other tables): left unchanged; "
				     "'crm --init apply ...' adds libcrm's tables to it", c->db_path);
	return cli_lib_error(c->db, rc);
}

int cli_db_is_missing_file(const char *target)
{
	/* A URI (postgresql://...) names a server's database, not a file. */
	return strcmp(target, ":memory:") != 0 && !strstr(target, "://") && access(target, F_OK) != 0;
}

int cli_open(cli *c, int create)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	int rc;

	if (!c->db_path || !*c->db_path)
		return cli_usage_error("no database: pass --db FILE or set CRM_DB");
	/* Only apply creates a database; every other verb opens an existing one. */
	o.flags = (create ? 0 : CRM_OPEN_EXISTING) | (c->init ? CRM_OPEN_INIT : 0);
	c->created = create && cli_db_is_missing_file(c->db_path);
	rc = crm_open(&c->db, c->db_path, &o);
	if (rc != CRM_OK)
		return open_error(c, rc);
	if (c->now_ms >= 0 && (rc = crm_clock_set(c->db, c->now_ms)) != CRM_OK)
		return cli_lib_error(c->db, rc);
	if ((rc = crm_logger_set(c->db, log_line, c)) != CRM_OK)
		return cli_lib_error(c->db, rc);
	if (c->actor_json && (rc = crm_actor_set_json(c->db, c->actor_json)) != CRM_OK)
		return cli_lib_error(c->db, rc);
	return 0;
}

#define JSON_ONLY (1 << CLI_FORMAT_JSON)
#define RECORDS CLI_FORMATS_ALL
static const struct verb {
	const char *name;
	int (*run)(cli *c, int argc, char **argv);
	int formats; /* what --format may be */
} verbs[] = {
	{ "apply", cli_verb_apply, JSON_ONLY },
	{ "forms", cli_verb_forms, RECORDS },
	{ "form", cli_verb_form, JSON_ONLY },
	{ "insert", cli_verb_insert, JSON_ONLY },
	{ "upsert", cli_verb_upsert, JSON_ONLY },
	{ "import", cli_verb_import, JSON_ONLY },
	{ "get", cli_verb_get, RECORDS },
	{ "update", cli_verb_update, JSON_ONLY },
	{ "delete", cli_verb_delete, JSON_ONLY },
	{ "query", cli_verb_query, RECORDS },
	{ "count", cli_verb_count, JSON_ONLY },
	{ "start", cli_verb_start, JSON_ONLY },
	{ "fire", cli_verb_fire, RECORDS },
	{ "tick", cli_verb_tick, JSON_ONLY },
	{ "history", cli_verb_history, RECORDS },
	{ "events", cli_verb_event_stream, RECORDS },
	{ "instances", cli_verb_instances, RECORDS },
	{ "approve", cli_verb_approve, RECORDS },
	{ "reject", cli_verb_reject, RECORDS },
	{ "migrate-workflow", cli_verb_migrate_workflow, JSON_ONLY },
	{ "decide", cli_verb_decide, RECORDS },
	/* report --explain and --drill print one document: checked in report.c */
	{ "report", cli_verb_report, RECORDS },
	{ "check", cli_verb_check, JSON_ONLY },
	{ "audit", cli_verb_audit, JSON_ONLY },
	{ "record-at", cli_verb_record_at, RECORDS },
	{ "revert", cli_verb_revert, RECORDS },
	/* export checks its own --format (csv, ndjson, json, xlsx): the library refuses others */
	{ "export", cli_verb_export, 0 },
	{ "search", cli_verb_search, JSON_ONLY },
	{ "timeline", cli_verb_timeline, JSON_ONLY },
	{ "duplicates", cli_verb_duplicates, JSON_ONLY },
	{ "merge", cli_verb_merge, JSON_ONLY },
	{ "whoami", cli_verb_whoami, JSON_ONLY },
	{ "can", cli_verb_can, JSON_ONLY },
};
#define NVERBS (sizeof verbs / sizeof *verbs)

int cli_verb_formats(const char *name)
{
	for (size_t v = 0; v < NVERBS; v++)
		if (strcmp(name, verbs[v].name) == 0)
			return verbs[v].formats;
	return JSON_ONLY;
}

/* "unknown verb" with the closest known one. */
static int unknown_verb(const char *name)
{
	const char *names[NVERBS];

	for (size_t v = 0; v < NVERBS; v++)
		names[v] = verbs[v].name;
	return cli_usage_error("unknown verb '%s'%s (see 'crm --help')", name, cli_did_you_mean(name, names, NVERBS));
}

/* One verb's lines of the usage text (its line and the indented ones after it). */
int cli_verb_help(const char *verb, FILE *out)
{
	size_t n = strlen(verb);
	int in = 0, found = 0;

	for (const char *const *section = usage_text; *section; section++)
		for (const char *line = *section; *line;) {
			const char *nl = strchr(line, '\n');
			size_t len = (size_t)(nl - line);

			if (len > n + 2 && strncmp(line, "  ", 2) == 0 && strncmp(line + 2, verb, n) == 0 &&
			    line[2 + n] == ' ')
				in = found = 1;
			else if (!(len > 4 && strncmp(line, "     ", 5) == 0))
				in = 0;
			if (in)
				fprintf(out, "%s%.*s\n", found++ == 1 ? "usage: crm " : "       ", (int)(len - 2), line + 2);
			line = nl + 1;
		}
	if (!found)
		return unknown_verb(verb);
	fputs("\nglobal options (--db, --as, --now, --format, --log-level, ...) may come before or after the verb:\n"
	      "see 'crm --help'; every verb and exit code is described in docs/cli.md.\n", out);
	return 0;
}

static int run(int argc, char **argv, cli *c)
{
	int i, rc;

	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("crm %s (libcrm %s)\n", CRM_VERSION, crm_libversion());
		return cli_finish_output();
	}
	/* Global options before the verb; the verb's own parser takes those after it. */
	if ((rc = cli_parse_globals(c, argc, argv, &i)))
		return rc;
	if (i < argc && strcmp(argv[i], "help") == 0) {
		if (i + 1 < argc)
			return cli_verb_help(argv[i + 1], stdout) ? CLI_EXIT_USAGE : cli_finish_output();
		c->help = 1, i++;
	}
	if (i >= argc) {
		for (const char *const *section = usage_text; *section; section++)
			fputs(*section, c->help ? stdout : stderr);
		return c->help ? cli_finish_output() : CLI_EXIT_USAGE;
	}
	for (size_t v = 0; v < NVERBS; v++)
		if (strcmp(argv[i], verbs[v].name) == 0) {
			rc = verbs[v].run(c, argc - i, argv + i);
			return rc == CLI_HELP_SHOWN || rc == 0 ? cli_finish_output() : rc;
		}
	return unknown_verb(argv[i]);
}

/* A database this command created is removed when the command fails, so a
 * mistyped --db leaves nothing behind. */
static void remove_created(cli *c)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

	crm_close(c->db);
	c->db = NULL;
	for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
		cli_buf p = CLI_BUF_INIT;

		cli_buf_printf(&p, "%s%s", c->db_path, suffixes[i]);
		unlink(p.p);
		cli_buf_free(&p);
	}
}

int main(int argc, char **argv)
{
	cli c = { 0 };
	const char *max_input = getenv("CRM_MAX_INPUT");
	int rc;

	c.db_path = getenv("CRM_DB");
	c.now_ms = -1;
	if (max_input && *max_input)
		c.max_input = max_input;
	rc = run(argc, argv, &c);
	if (rc != 0 && c.created)
		remove_created(&c);
	crm_close(c.db);
	free(c.actor_json);
	return rc;
}
