/* Shared declarations of the `crm` command-line tool. The CLI is a client of
 * the public API only (include/crm.h): nothing here may reach into lib/. One
 * job per file: main.c dispatches, args.c parses, input.c reads JSON
 * arguments, output.c writes rows, the verb files run one verb each. */
#ifndef CRM_CLI_H
#define CRM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
	const char *db_path;   /* --db or $CRM_DB */
	const char *actor;     /* --as USER[:ROLE,ROLE][;NAME=VALUE...] or @FILE */
	char *actor_json;      /* --as as actor JSON (malloc'd), or NULL for the system actor */
	const char *now_arg;   /* --now as given */
	int64_t now_ms;        /* --now, or -1 */
	const char *format;    /* --format, or NULL for the verb's default */
	const char *log_level; /* --log-level, or NULL for info */
	const char *max_input; /* --max-input or $CRM_MAX_INPUT */
	int init;              /* --init: CRM_OPEN_INIT */
	int help;              /* --help or -h: print the verb's help */
	int created;           /* cli_open made a new file (removed if the command fails) */
	int stdin_used;        /* "-" may be read once */
	crm_db *db;
} cli;

/* A verb's return value after it printed its --help (exit 0). */
#define CLI_HELP_SHOWN (-1)

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
/* Open the database named by --db and apply --now, --as and --log-level. `create`
 * (apply only) allows a new file; other verbs need an existing libcrm database. */
/* 1 when `target` (--db) is a file name and no such file exists (not for
 * ":memory:" or a server's URI). */
int cli_db_is_missing_file(const char *target);
int cli_open(cli *c, int create);
/* The crm_log_level named (debug, info, warn, error), -1 for "off", -2 if unknown. */
int cli_log_level(const char *name);
/* Print one verb's usage; a usage error (exit 2) for an unknown verb. */
int cli_verb_help(const char *verb, FILE *out);

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
/* The global options (--db, --as, ...) writing into `c`; accepted after the verb too. */
const cli_opt *cli_global_opts(cli *c);
/* The global options before the verb; *i gets the verb's index. 0 or a usage error. */
int cli_parse_globals(cli *c, int argc, char **argv, int *i);
/* The name in names[0..n) closest to `word` (a few edits at most), or NULL. */
const char *cli_closest(const char *word, const char *const *names, size_t n);
/* " (did you mean 'x'?)" for the closest name, or "". Static storage. */
const char *cli_did_you_mean(const char *word, const char *const *names, size_t n);
/* A decimal integer in [min, max]; 0 or a usage error naming `what`. */
int cli_parse_int(const char *s, int64_t min, int64_t max, const char *what, int64_t *out);
/* A record id (a positive integer); 0 or a usage error. */
int cli_parse_id(const char *s, int64_t *out);
/* "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM|-HH:MM)" or epoch milliseconds; 0 on success, -1 if malformed. */
int cli_parse_time(const char *s, int64_t *out_ms);

/* ---- actor.c: --as ---- */
/* The actor JSON (crm_actor_set_json) of `spec` in the --as syntax; *out is
 * malloc'd. Returns 0 or an exit code (a usage error naming what is wrong). */
int cli_actor_parse(cli *c, const char *spec, char **out);

/* ---- input.c: JSON arguments ---- */
/* What one command reads at most, all inputs together (docs/cli.md). */
#define CLI_INPUT_MAX_DEFAULT ((size_t)64 << 20)
void cli_input_limit_set(size_t max_bytes);
/* Read a JSON argument: literal text, "-" (stdin) or "@file". *out is malloc'd. Returns 0 or an exit code. */
int cli_read_json_arg(cli *c, const char *arg, const char *what, char **out);
/* Read a whole file ("-" for stdin) into *out (malloc'd, NUL-terminated), in
 * chunks: refused at the first NUL byte or past the input limit, which every
 * input of the command shares. Returns 0 or an exit code. */
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

/* Calls fn once per member of the object (key without quotes, raw value)
 * or element of the array (key empty) at s[pos]. -1 if it is neither. */
typedef void (*cli_json_fn)(void *payload, const char *key, size_t key_len, const char *value, size_t value_len);
int cli_json_each(const char *s, size_t len, size_t pos, cli_json_fn fn, void *payload);
/* Append a raw JSON value as text: a string decoded, anything else as written. */
void cli_json_text(cli_buf *b, const char *value, size_t len);

/* ---- output.c: query results ---- */
enum { CLI_FORMAT_JSON, CLI_FORMAT_NDJSON, CLI_FORMAT_CSV, CLI_FORMAT_TABLE };
#define CLI_FORMATS_ALL 0xF /* a bit per format, 1 << CLI_FORMAT_x */
/* --format as a CLI_FORMAT_x among `allowed` (json when absent); 0 or a usage error. */
int cli_parse_format(cli *c, int allowed, int *out);
/* Stream the cursor's rows to stdout in `format` (the table is gathered, then
 * aligned); no_system leaves out id, created_at, updated_at, owner and version.
 * Returns 0 or an exit code. */
int cli_write_rows(crm_db *db, crm_cursor *cur, int format, int with_token, int no_system);
/* Print a document of records the library returned (an array of objects, a
 * report result or one object) in --format, and free it; like cli_print_owned. */
int cli_print_records(cli *c, int rc, char *json);
/* The formats verb `name` accepts (CLI_FORMATS_ALL for those that print
 * records, json alone for the others). */
int cli_verb_formats(const char *name);
/* Flush stdout; a write error becomes exit 1. */
int cli_finish_output(void);
/* Print a JSON document the library returned (NULL as null), free it, and
 * turn a failed call (rc) into the handle's error. Returns 0 or an exit code. */
int cli_print_owned(crm_db *db, int rc, char *json);

/* ---- verbs: one per file ---- */
int cli_verb_apply(cli *c, int argc, char **argv);
int cli_verb_forms(cli *c, int argc, char **argv);
int cli_verb_check(cli *c, int argc, char **argv);
/* search.c, timeline.c */
int cli_verb_search(cli *c, int argc, char **argv);
int cli_verb_timeline(cli *c, int argc, char **argv);
/* audit.c */
int cli_verb_audit(cli *c, int argc, char **argv);
int cli_verb_record_at(cli *c, int argc, char **argv);
int cli_verb_revert(cli *c, int argc, char **argv);
/* merge.c */
int cli_verb_duplicates(cli *c, int argc, char **argv);
int cli_verb_merge(cli *c, int argc, char **argv);
int cli_verb_form(cli *c, int argc, char **argv);
int cli_verb_insert(cli *c, int argc, char **argv);
int cli_verb_upsert(cli *c, int argc, char **argv);
int cli_verb_import(cli *c, int argc, char **argv);
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
/* events.c: `events read|ack|tail|consumers|drop|prune ...`, else cli_verb_events */
int cli_verb_event_stream(cli *c, int argc, char **argv);
int cli_verb_instances(cli *c, int argc, char **argv);
int cli_verb_approve(cli *c, int argc, char **argv);
int cli_verb_reject(cli *c, int argc, char **argv);
int cli_verb_migrate_workflow(cli *c, int argc, char **argv);
int cli_verb_decide(cli *c, int argc, char **argv);
int cli_verb_report(cli *c, int argc, char **argv);
int cli_verb_export(cli *c, int argc, char **argv);
int cli_verb_whoami(cli *c, int argc, char **argv);
int cli_verb_can(cli *c, int argc, char **argv);

#endif
