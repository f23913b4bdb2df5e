/* `crm`, the command-line client of libcrm: global options, the verb table,
 * opening the database and reporting errors. stdout carries only JSON (or
 * CSV) results; every error goes to stderr as "crm: message" plus the JSON
 * detail, with an exit code a script can branch on (docs/cli.md). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
	"usage: crm [--db FILE] [--as USER[:ROLE,...]] [--now TIME] VERB [ARGS]\n"
	"\n"
	"verbs:\n"
	"  apply [--plan] [--allow-data-loss] PATH...\n"
	"                                     define or migrate metadata from *.json/*.lua files\n"
	"  forms                              list the forms\n"
	"  form NAME                          show a form's definition\n"
	"  insert FORM JSON                   insert an object, an array or NDJSON; prints the ids\n"
	"  get FORM ID                        print one record\n"
	"  update FORM ID JSON [--if-version N]\n"
	"  delete FORM ID [--if-version N]\n"
	"  query FORM [--filter JSON] [--sort a,-b] [--fields a,b] [--limit N] [--offset N]\n"
	"             [--after TOKEN] [--with-token] [--format json|ndjson|csv]\n"
	"  count FORM [--filter JSON]\n"
	"\n"
	"workflows:\n"
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
	"  decide TABLE JSON                  evaluate a decision table on an object of inputs\n"
	"\n"
	"reports:\n"
	"  report NAME [--param K=V ...] [--format json|csv] [--explain] [--drill ROW-JSON]\n"
	"\n"
	"global options:\n"
	"  --db FILE       the database (default: $CRM_DB)\n"
	"  --as USER[:R,R] act as USER with roles R\n"
	"  --now TIME      freeze the clock: 2024-05-01T09:30:00Z, +08:00 offsets, or epoch ms\n"
	"  --help, --version\n"
	"\n"
	"A JSON argument may be '-' (stdin) or '@FILE'.\n"
	"exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 constraint, 5 version conflict,\n"
	"            6 not permitted\n";

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

int cli_lib_error(crm_db *db, int rc)
{
	const char *msg = db ? crm_errmsg(db) : "";
	int code = db && crm_errcode(db) ? crm_errcode(db) : rc;

	if (code == CRM_OK || code == CRM_ROW || code == CRM_DONE)
		code = CRM_ERROR; /* a failing call must never exit 0 */
	if (!db || !*msg) {
		print_error(crm_errstr(code), crm_errstr(code));
		return cli_exit_code(code);
	}
	fprintf(stderr, "crm: %s\n%s\n", msg, crm_errdetail(db));
	return cli_exit_code(code);
}

int cli_open(cli *c, int create)
{
	const char *user = NULL, *roles = NULL;
	char *actor = NULL;
	int rc;

	if (!c->db_path || !*c->db_path)
		return cli_usage_error("no database: pass --db FILE or set CRM_DB");
	if (!create && strcmp(c->db_path, ":memory:") != 0 && access(c->db_path, F_OK) != 0)
		return cli_error(CRM_EIO, "no database at %s (create one with 'crm apply')", c->db_path);
	rc = crm_open(&c->db, c->db_path, NULL);
	if (rc != CRM_OK)
		return cli_lib_error(c->db, rc);
	if (c->now_ms >= 0 && (rc = crm_clock_set(c->db, c->now_ms)) != CRM_OK)
		return cli_lib_error(c->db, rc);
	if (c->actor) {
		char *colon;

		actor = cli_xstrdup(c->actor);
		user = actor;
		if ((colon = strchr(actor, ':'))) {
			*colon = '\0';
			roles = colon[1] ? colon + 1 : NULL;
		}
		rc = crm_actor_set(c->db, user, roles);
		free(actor);
		if (rc != CRM_OK)
			return cli_lib_error(c->db, rc);
	}
	return 0;
}

static const struct verb {
	const char *name;
	int (*run)(cli *c, int argc, char **argv);
} verbs[] = {
	{ "apply", cli_verb_apply },   { "forms", cli_verb_forms },   { "form", cli_verb_form },
	{ "insert", cli_verb_insert }, { "get", cli_verb_get },       { "update", cli_verb_update },
	{ "delete", cli_verb_delete }, { "query", cli_verb_query },   { "count", cli_verb_count },
	{ "start", cli_verb_start },   { "fire", cli_verb_fire },     { "tick", cli_verb_tick },
	{ "history", cli_verb_history }, { "events", cli_verb_events }, { "instances", cli_verb_instances },
	{ "approve", cli_verb_approve }, { "reject", cli_verb_reject },
	{ "migrate-workflow", cli_verb_migrate_workflow }, { "decide", cli_verb_decide },
	{ "report", cli_verb_report },
};

/* "--name VALUE" or "--name=VALUE" at argv[*i]; 1 when it matched. */
static int global_opt(int argc, char **argv, int *i, const char *name, const char **value, int *rc)
{
	size_t n = strlen(name);
	const char *arg = argv[*i];

	if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
		return 0;
	if (arg[n] == '=')
		*value = arg + n + 1;
	else if (*i + 1 < argc)
		*value = argv[++*i];
	else
		*rc = cli_usage_error("option '%s' needs a value", name);
	return 1;
}

static int check_actor(const char *actor)
{
	const char *colon = strchr(actor, ':');

	if (!*actor || colon == actor)
		return cli_usage_error("--as needs a user name: --as USER[:ROLE,ROLE]");
	return 0;
}

static int run(int argc, char **argv, cli *c)
{
	const char *now = NULL;
	int i, rc = 0;

	for (i = 1; i < argc && strncmp(argv[i], "-", 1) == 0 && rc == 0; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			fputs(usage_text, stdout);
			return cli_finish_output();
		}
		if (strcmp(arg, "--version") == 0) {
			printf("crm %s (libcrm %s)\n", CRM_VERSION, crm_libversion());
			return cli_finish_output();
		}
		if (global_opt(argc, argv, &i, "--db", &c->db_path, &rc) ||
		    global_opt(argc, argv, &i, "--as", &c->actor, &rc) ||
		    global_opt(argc, argv, &i, "--now", &now, &rc))
			continue;
		return cli_usage_error("unknown option '%s' (global options come before the verb)", arg);
	}
	if (rc)
		return rc;
	if (now && cli_parse_time(now, &c->now_ms) != 0)
		return cli_usage_error("--now: '%s' is not YYYY-MM-DDTHH:MM[:SS[.mmm]]Z|+HH:MM or epoch ms", now);
	if (c->actor && (rc = check_actor(c->actor)))
		return rc;
	if (i >= argc) {
		fputs(usage_text, stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		fputs(usage_text, stdout);
		return cli_finish_output();
	}
	for (size_t v = 0; v < sizeof verbs / sizeof *verbs; v++)
		if (strcmp(argv[i], verbs[v].name) == 0) {
			rc = verbs[v].run(c, argc - i, argv + i);
			return rc ? rc : cli_finish_output();
		}
	return cli_usage_error("unknown verb '%s' (see 'crm --help')", argv[i]);
}

int main(int argc, char **argv)
{
	cli c = { 0 };
	int rc;

	c.db_path = getenv("CRM_DB");
	c.now_ms = -1;
	rc = run(argc, argv, &c);
	crm_close(c.db);
	return rc;
}
