/* Verb arguments: positionals mixed with "--name value" options, and the
 * integers they carry. Everything here fails before the database is opened,
 * so a mistyped command never creates or touches a file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_opt *find_opt(const cli_opt *opts, const char *arg, size_t name_len)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == name_len && strncmp(opts->name, arg, name_len) == 0)
			return opts;
	return NULL;
}

int cli_parse_args(int argc, char **argv, const cli_opt *opts, const char **pos, int min_pos, int max_pos,
		   int *npos)
{
	const char *verb = argv[0];
	int n = 0, options_done = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = 1;
			continue;
		}
		if (!options_done && strncmp(arg, "--", 2) == 0) {
			const char *eq = strchr(arg, '=');
			size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
			const cli_opt *o = find_opt(opts, arg, name_len);

			if (!o)
				return cli_usage_error("%s: unknown option '%.*s'", verb, (int)name_len, arg);
			if (!o->value && !o->list) {
				if (eq)
					return cli_usage_error("%s: option '%s' takes no value", verb, o->name);
				*o->flag = 1;
			} else {
				const char *value;

				if (eq)
					value = eq + 1;
				else if (i + 1 < argc)
					value = argv[++i];
				else
					return cli_usage_error("%s: option '%s' needs a value", verb, o->name);
				if (o->list) {
					o->list->v = cli_xrealloc(o->list->v, (size_t)(o->list->n + 1) * sizeof *o->list->v);
					o->list->v[o->list->n++] = value;
				} else
					*o->value = value;
			}
			continue;
		}
		if (n >= max_pos)
			return cli_usage_error("%s: unexpected argument '%s'", verb, arg);
		pos[n++] = arg;
	}
	if (n < min_pos)
		return cli_usage_error("%s: missing arguments (see 'crm --help')", verb);
	*npos = n;
	return 0;
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
