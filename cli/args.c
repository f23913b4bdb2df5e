/* Verb arguments: positionals mixed with "--name value" options (the
 * verb's own and the global ones, which may follow the verb), the integers
 * they carry, and "did you mean" for a mistyped name. Everything here fails
 * before the database is opened, so a mistyped command never touches a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static cli *globals; /* the state the global options fill, wherever they appear */

const cli_opt *cli_global_opts(cli *c)
{
	static cli_opt opts[9];
	const cli_opt table[] = {
		{ "--db", &c->db_path, NULL, NULL },	   { "--as", &c->actor, NULL, NULL },
		{ "--now", &c->now_arg, NULL, NULL },	   { "--format", &c->format, NULL, NULL },
		{ "--log-level", &c->log_level, NULL, NULL }, { "--max-input", &c->max_input, NULL, NULL },
		{ "--init", NULL, &c->init, NULL },	   { "--help", NULL, &c->help, NULL },
		{ NULL, NULL, NULL, NULL },
	};

	_Static_assert(sizeof opts == sizeof table, "opts holds the whole table");
	globals = c;
	memcpy(opts, table, sizeof opts);
	return opts;
}

static const cli_opt *find_opt(const cli_opt *opts, const char *arg, size_t name_len)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == name_len && strncmp(opts->name, arg, name_len) == 0)
			return opts;
	return NULL;
}

/* The verb's own option, else a global one (accepted after the verb too). */
static const cli_opt *find_any_opt(const cli_opt *opts, const char *arg, size_t name_len)
{
	const cli_opt *o = find_opt(opts, arg, name_len);

	return o ? o : globals ? find_opt(cli_global_opts(globals), arg, name_len) : NULL;
}

/* Names for "did you mean": the verb's options and the global ones. */
static const char *closest_opt(const cli_opt *opts, const char *arg, size_t name_len)
{
	const char *names[64], *best;
	char *word = cli_xmalloc(name_len + 1);
	size_t n = 0;

	for (; opts && opts->name && n < 32; opts++)
		names[n++] = opts->name;
	for (opts = globals ? cli_global_opts(globals) : NULL; opts && opts->name && n < 64; opts++)
		names[n++] = opts->name;
	memcpy(word, arg, name_len);
	word[name_len] = '\0';
	best = cli_closest(word, names, n);
	free(word);
	return best;
}

/* Levenshtein distance, capped: only small ones matter. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *cli_closest(const char *word, const char *const *names, size_t n)
{
	size_t best_d = strlen(word + strspn(word, "-")) / 3 + 1; /* a third of the name, at least one edit */
	const char *best = NULL;

	if (best_d > 3)
		best_d = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, names[i]);

		if (d <= best_d && (!best || d < best_d)) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}

/* " (did you mean 'x'?)", or "" when nothing is close. Static storage. */
const char *cli_did_you_mean(const char *word, const char *const *names, size_t n)
{
	static char hint[160];
	const char *best = cli_closest(word, names, n);

	if (!best || strlen(best) > 100)
		return "";
	snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
	return hint;
}

/* Check the global options' values (they may come after the verb). */
static int check_globals(cli *c, const char *verb)
{
	int64_t n;
	int rc, format;

	if (c->now_arg && cli_parse_time(c->now_arg, &c->now_ms) != 0)
		return cli_usage_error("--now: '%s' is not YYYY-MM-DDTHH:MM[:SS[.mmm]]Z|+HH:MM or epoch ms", c->now_arg);
	if (c->actor && !c->actor_json && (rc = cli_actor_parse(c, c->actor, &c->actor_json)))
		return rc;
	if (c->log_level && cli_log_level(c->log_level) == -2)
		return cli_usage_error("--log-level must be debug, info, warn, error or off, not '%s'", c->log_level);
	if (cli_verb_formats(verb) && (rc = cli_parse_format(c, cli_verb_formats(verb), &format)))
		return rc;
	if (c->max_input) {
		if ((rc = cli_parse_int(c->max_input, 1, INT64_MAX / 4, "--max-input", &n)))
			return rc;
		cli_input_limit_set((size_t)n);
	}
	return 0;
}

/* The option at argv[*i] ("--name", "--name=V" or "--name V"), from `opts`
 * or the global ones; `verb` (or NULL) prefixes messages. Returns 0 or an exit code. */
static int take_option(const char *verb, const cli_opt *opts, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *eq = strchr(arg, '='), *value, *who = verb ? verb : "", *sep = verb ? ": " : "";
	size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
	const cli_opt *o = find_any_opt(opts, arg, name_len);

	if (!o) {
		const char *best = closest_opt(opts, arg, name_len);

		return cli_usage_error("%s%sunknown option '%.*s'%s%s%s (see 'crm --help')", who, sep, (int)name_len, arg,
				       best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
	}
	if (!o->value && !o->list) {
		if (eq)
			return cli_usage_error("%s%soption '%s' takes no value", who, sep, o->name);
		*o->flag = 1;
		return 0;
	}
	if (eq)
		value = eq + 1;
	else if (*i + 1 < argc)
		value = argv[++*i];
	else
		return cli_usage_error("%s%soption '%s' needs a value", who, sep, o->name);
	if (o->list) {
		o->list->v = cli_xrealloc(o->list->v, (size_t)(o->list->n + 1) * sizeof *o->list->v);
		o->list->v[o->list->n++] = value;
	} else
		*o->value = value;
	return 0;
}

int cli_parse_globals(cli *c, int argc, char **argv, int *i)
{
	int rc = 0;

	cli_global_opts(c);
	for (*i = 1; rc == 0 && *i < argc && argv[*i][0] == '-' && argv[*i][1]; ++*i) {
		if (strcmp(argv[*i], "-h") == 0)
			c->help = 1;
		else
			rc = take_option(NULL, NULL, argc, argv, i);
	}
	return rc;
}

int cli_parse_args(int argc, char **argv, const cli_opt *opts, const char **pos, int min_pos, int max_pos,
		   int *npos)
{
	const char *verb = argv[0];
	int n = 0, options_done = 0, rc;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = 1;
		} else if (!options_done && globals && strcmp(arg, "-h") == 0) {
			globals->help = 1;
		} else if (!options_done && strncmp(arg, "--", 2) == 0) {
			if ((rc = take_option(verb, opts, argc, argv, &i)))
				return rc;
		} else if (n >= max_pos) {
			return cli_usage_error("%s: unexpected argument '%s' (see 'crm help %s')", verb, arg, verb);
		} else {
			pos[n++] = arg;
		}
	}
	if (globals && globals->help) {
		cli_verb_help(verb, stdout);
		return CLI_HELP_SHOWN;
	}
	if (n < min_pos)
		return cli_usage_error("%s: missing arguments (see 'crm help %s')", verb, verb);
	*npos = n;
	return globals ? check_globals(globals, verb) : 0;
}

int cli_parse_int(const char *s, int64_t min, int64_t max, const char *what, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return cli_usage_error("%s must be an integer, not '%s'", what, s ? s : "");
	v = strtoll(s, &end, 10);
	if (*end)
		return cli_usage_error("%s must be an integer, not '%s'", what, s);
	if (errno || v < min || v > max)
		return cli_usage_error("%s must be between %lld and %lld, not '%s'", what, (long long)min,
				       (long long)max, s);
	*out = v;
	return 0;
}

int cli_parse_id(const char *s, int64_t *out) { return cli_parse_int(s, 1, INT64_MAX, "ID", out); }
