/* Shared declarations of the `crm` command-line tool. The CLI is a client of
 * the public API only (include/crm.h): nothing here may reach into lib/. One
 * job per file: main.c dispatches, args.c parses, input.c reads JSON
 * arguments, output.c writes rows, the verb files run one verb each. */
#ifndef CRM_CLI_H
#define CRM_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "crm.h"

/* Exit codes (docs/cli.md). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,      /* library or input error */
	CLI_EXIT_USAGE = 2,      /* bad command line */
	CLI_EXIT_NOTFOUND = 3,   /* CRM_ENOTFOUND */
	CLI_EXIT_CONSTRAINT = 4, /* CRM_ECONSTRAINT */
	CLI_EXIT_CONFLICT = 5,   /* CRM_ECONFLICT */
	CLI_EXIT_PERM = 6        /* CRM_EPERM */
};

/* State shared by every verb: the global options and, once opened, the handle. */
typedef struct cli {
	const char *db_path;  /* --db or $CRM_DB */
	const char *actor;    /* --as USER[:ROLE,ROLE] */
	int64_t now_ms;       /* --now, or -1 */
	int stdin_used;       /* "-" may be read once */
	crm_db *db;
} cli;

/* ---- buf.c: a growable string and JSON string escaping ---- */
typedef struct cli_buf {
	char *p;
	size_t len, cap;
} cli_buf;
#define CLI_BUF_INIT { NULL, 0, 0 }
void cli_buf_put(cli_buf *b, const char *s, size_t n);
void cli_buf_puts(cli_buf *b, const char *s);
void cli_buf_printf(cli_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_buf_json_str(cli_buf *b, const char *s);
/* Contents as a C string ("" when empty); stays owned by the buffer. */
const char *cli_buf_cstr(cli_buf *b);
void cli_buf_free(cli_buf *b);
/* Allocation that exits the process on failure (the CLI has nothing to undo). */
void *cli_xmalloc(size_t n);
void *cli_xrealloc(void *p, size_t n);
char *cli_xstrdup(const char *s);

/* ---- errors (main.c): print "crm: message" and the JSON detail, return the exit code ---- */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The handle's last error (rc when the handle is NULL). */
int cli_lib_error(crm_db *db, int rc);
int cli_exit_code(int rc);
/* Open the database named by --db and apply --now and --as. `create` allows a new file. */
int cli_open(cli *c, int create);

/* ---- args.c: verb arguments ---- */
/* The values of a repeatable option, in command-line order (v is malloc'd: free it). */
typedef struct cli_list {
	const char **v;
	int n;
} cli_list;
typedef struct cli_opt {
	const char *name;      /* "--filter" */
	const char **value;    /* receives the option's argument, or NULL for a flag */
	int *flag;             /* set to 1 when the flag is given */
	cli_list *list;        /* or: a repeatable option; every value is appended */
} cli_opt;
/*
 * Split argv (argv[0] is the verb) into positionals and the options in
 * `opts` (an option with a value is "--opt V" or "--opt=V"; "--" ends
 * options). Fails with a usage error unless min_pos <= count <= max_pos.
 * Returns 0 or an exit code.
 */
int cli_parse_args(int argc, char **argv, const cli_opt *opts, const char **pos, int min_pos, int max_pos,
		   int *npos);
/* A decimal integer in [min, max]; 0 or a usage error naming `what`. */
int cli_parse_int(const char *s, int64_t min, int64_t max, const char *what, int64_t *out);
/* A record id (a positive integer); 0 or a usage error. */
int cli_parse_id(const char *s, int64_t *out);
/* "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM|-HH:MM)" or epoch milliseconds; 0 on success, -1 if malformed. */
int cli_parse_time(const char *s, int64_t *out_ms);

/* ---- input.c: JSON arguments ---- */
/* Read a JSON argument: literal text, "-" (stdin) or "@file". *out is malloc'd. Returns 0 or an exit code. */
int cli_read_json_arg(cli *c, const char *arg, const char *what, char **out);
/* Read a whole file ("-" for stdin) into *out (malloc'd, NUL-terminated). Returns 0 or an exit code. */
int cli_read_file(const char *path, char **out, size_t *out_len);
/*
 * Skip one JSON value's structure starting at s[*pos] (after whitespace):
 * brackets balanced, strings closed. Does not validate the grammar (the
 * library does); it finds where a value ends. Returns 0, or -1 when the
 * input ends first or starts with a closing bracket.
 */
int cli_json_skip(const char *s, size_t len, size_t *pos);
/* Skip spaces, tabs, CR and LF. */
size_t cli_json_ws(const char *s, size_t len, size_t pos);
/* 1 when s[0..len) is exactly one valid JSON value (RFC 8259, surrounding white space allowed). */
int cli_json_valid(const char *s, size_t len);

/* ---- output.c: query results ---- */
enum { CLI_FORMAT_JSON, CLI_FORMAT_NDJSON, CLI_FORMAT_CSV };
/* Stream the cursor's rows to stdout in `format`. Returns 0 or an exit code. */
int cli_write_rows(crm_db *db, crm_cursor *cur, int format, int with_token);
/* Flush stdout; a write error becomes exit 1. */
int cli_finish_output(void);
/* Print a JSON document the library returned (NULL as null), free it, and
 * turn a failed call (rc) into the handle's error. Returns 0 or an exit code. */
int cli_print_owned(crm_db *db, int rc, char *json);

/* ---- verbs: one per file ---- */
int cli_verb_apply(cli *c, int argc, char **argv);
int cli_verb_forms(cli *c, int argc, char **argv);
int cli_verb_check(cli *c, int argc, char **argv);
int cli_verb_form(cli *c, int argc, char **argv);
int cli_verb_insert(cli *c, int argc, char **argv);
int cli_verb_get(cli *c, int argc, char **argv);
int cli_verb_update(cli *c, int argc, char **argv);
int cli_verb_delete(cli *c, int argc, char **argv);
int cli_verb_query(cli *c, int argc, char **argv);
int cli_verb_count(cli *c, int argc, char **argv);
int cli_verb_start(cli *c, int argc, char **argv);
int cli_verb_fire(cli *c, int argc, char **argv);
int cli_verb_tick(cli *c, int argc, char **argv);
int cli_verb_history(cli *c, int argc, char **argv);
int cli_verb_events(cli *c, int argc, char **argv);
int cli_verb_instances(cli *c, int argc, char **argv);
int cli_verb_approve(cli *c, int argc, char **argv);
int cli_verb_reject(cli *c, int argc, char **argv);
int cli_verb_migrate_workflow(cli *c, int argc, char **argv);
int cli_verb_decide(cli *c, int argc, char **argv);
int cli_verb_report(cli *c, int argc, char **argv);

#endif
