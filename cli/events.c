/* The event stream verbs (docs/cli.md, docs/integration.md "Consumers"):
 * `crm events read|ack|tail|consumers|drop|prune ...`. Any other first
 * argument is the workflow verb `crm events FORM ID` (cli/workflow.c); a
 * form named like a subcommand is reached as `crm events -- FORM ID`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* `read CONSUMER [--limit N] [--filter JSON] [--lease-ms N]`: --filter and
 * --lease-ms are stored as the consumer's settings before it reads. */
static int read_verb(cli *c, int argc, char **argv)
{
	const char *pos[1], *limit = NULL, *filter = NULL, *lease = NULL;
	const cli_opt opts[] = { { "--limit", &limit, NULL, NULL },
				 { "--filter", &filter, NULL, NULL },
				 { "--lease-ms", &lease, NULL, NULL },
				 { NULL, NULL, NULL, NULL } };
	char *filter_json = NULL, *json = NULL;
	int64_t n = 100, lease_ms = 0;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 1, 1, &npos)) ||
	    (limit && (rc = cli_parse_int(limit, 1, 100000, "--limit", &n))) ||
	    (lease && (rc = cli_parse_int(lease, 1, 604800000, "--lease-ms", &lease_ms))) ||
	    (filter && (rc = cli_read_json_arg(c, filter, "--filter", &filter_json))) || (rc = cli_open(c, 0)))
		goto done;
	if (filter || lease) {
		cli_buf o = CLI_BUF_INIT;
		cli_buf_puts(&o, "{");
		if (filter_json)
			cli_buf_printf(&o, "\"filter\":%s", filter_json);
		if (lease)
			cli_buf_printf(&o, "%s\"lease_ms\":%lld", filter_json ? "," : "", (long long)lease_ms);
		cli_buf_puts(&o, "}");
		rc = crm_consumer_set(c->db, pos[0], cli_buf_cstr(&o));
		cli_buf_free(&o);
		if (rc) {
			rc = cli_lib_error(c->db, rc);
			goto done;
		}
	}
	rc = crm_consumer_read(c->db, pos[0], (int)n, &json);
	rc = cli_print_records(c, rc, json);
done:
	free(filter_json);
	return rc;
}

/* `ack CONSUMER SEQ`: prints the consumer's state. */
static int ack_verb(cli *c, int argc, char **argv)
{
	const char *pos[2];
	char *json = NULL;
	int64_t seq;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 2, 2, &npos)) ||
	    (rc = cli_parse_int(pos[1], 0, INT64_MAX, "SEQ", &seq)) || (rc = cli_open(c, 0)))
		return rc;
	if ((rc = crm_consumer_ack(c->db, pos[0], seq)) != CRM_OK)
		return cli_lib_error(c->db, rc);
	rc = crm_consumer_get(c->db, pos[0], &json);
	return cli_print_owned(c->db, rc, json);
}

static int consumers_verb(cli *c, int argc, char **argv)
{
	const char *pos[1];
	char *json = NULL;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 0, 0, &npos)) || (rc = cli_open(c, 0)))
		return rc;
	rc = crm_consumer_list(c->db, &json);
	return cli_print_records(c, rc, json);
}

static int drop_verb(cli *c, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, NULL, pos, 1, 1, &npos)) || (rc = cli_open(c, 0)))
		return rc;
	if ((rc = crm_consumer_drop(c->db, pos[0])) != CRM_OK)
		return cli_lib_error(c->db, rc);
	printf("{\"dropped\":\"%s\"}\n", pos[0]); /* the library checked the name: [a-z0-9_.-] */
	return 0;
}

/* An age: milliseconds, or a number with s, m, h or d. 0 or a usage error. */
static int parse_age(const char *s, int64_t *out)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = { { 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 }, { 'd', 86400000 } };
	size_t n = strlen(s);
	char digits[24];

	for (size_t u = 0; n > 1 && n < sizeof digits && u < sizeof units / sizeof *units; u++)
		if (s[n - 1] == units[u].unit) {
			memcpy(digits, s, n - 1);
			digits[n - 1] = '\0';
			if (cli_parse_int(digits, 0, INT64_MAX / units[u].ms, "--older-than", out))
				return CLI_EXIT_USAGE;
			*out *= units[u].ms;
			return 0;
		}
	return cli_parse_int(s, 0, INT64_MAX, "--older-than (ms, or a number with s, m, h or d)", out);
}

/* `prune [--older-than AGE]`: prints {"removed": N}. */
static int prune_verb(cli *c, int argc, char **argv)
{
	const char *pos[1], *older = NULL;
	const cli_opt opts[] = { { "--older-than", &older, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	int64_t age = 0, removed = 0;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 0, 0, &npos)) || (older && (rc = parse_age(older, &age))) ||
	    (rc = cli_open(c, 0)))
		return rc;
	if ((rc = crm_event_prune(c->db, age, &removed)) != CRM_OK)
		return cli_lib_error(c->db, rc);
	printf("{\"removed\":%lld}\n", (long long)removed);
	return 0;
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Each event of a crm_event_list array on a line of its own. */
typedef struct tail_state {
	int64_t after;   /* the last seq printed */
	int64_t left;    /* events still to print, -1 for no end */
	int64_t printed; /* in this batch */
} tail_state;

static void print_event(void *payload, const char *key, size_t key_len, const char *value, size_t value_len)
{
	tail_state *t = payload;
	const char *seq = strstr(value, "\"seq\":");

	(void)key, (void)key_len;
	if (t->left == 0 || !seq)
		return;
	fwrite(value, 1, value_len, stdout);
	fputc('\n', stdout);
	t->after = strtoll(seq + 6, NULL, 10);
	t->printed++;
	if (t->left > 0)
		t->left--;
}

/* `tail [--after SEQ] [--count N] [--interval MS]`: the events after SEQ
 * (default: the newest now), one JSON object a line, following new ones by
 * polling every MS (default 1000) until SIGINT or N events. Reads with
 * crm_event_list: it leases nothing and acknowledges nothing. */
static int tail_verb(cli *c, int argc, char **argv)
{
	const char *pos[1], *after = NULL, *count = NULL, *interval = NULL;
	const cli_opt opts[] = { { "--after", &after, NULL, NULL },
				 { "--count", &count, NULL, NULL },
				 { "--interval", &interval, NULL, NULL },
				 { NULL, NULL, NULL, NULL } };
	struct sigaction sa;
	tail_state t = { 0, -1, 0 };
	int64_t every = 1000;
	int npos, rc;

	if ((rc = cli_parse_args(argc, argv, opts, pos, 0, 0, &npos)) ||
	    (after && (rc = cli_parse_int(after, 0, INT64_MAX, "--after", &t.after))) ||
	    (count && (rc = cli_parse_int(count, 1, INT64_MAX, "--count", &t.left))) ||
	    (interval && (rc = cli_parse_int(interval, 1, 3600000, "--interval", &every))) || (rc = cli_open(c, 0)))
		return rc;
	if (!after && (rc = crm_event_head(c->db, &t.after)) != CRM_OK)
		return cli_lib_error(c->db, rc);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!interrupted && t.left != 0) {
		int64_t batch = t.left > 0 && t.left < 1000 ? t.left : 1000;
		struct timespec ts = { (time_t)(every / 1000), (long)(every % 1000) * 1000000L };
		char *json = NULL;

		if ((rc = crm_event_list(c->db, t.after, (int)batch, &json)) != CRM_OK)
			return cli_lib_error(c->db, rc);
		t.printed = 0;
		cli_json_each(json, strlen(json), 0, print_event, &t);
		crm_free(json);
		if (fflush(stdout) != 0)
			return cli_finish_output();
		/* Less than a full batch: caught up, wait (a signal ends the wait early). */
		if (t.printed < batch && t.left != 0)
			nanosleep(&ts, NULL);
	}
	return 0;
}

int cli_verb_event_stream(cli *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(cli *c, int argc, char **argv);
	} subs[] = { { "read", read_verb },		{ "ack", ack_verb },   { "tail", tail_verb },
		     { "consumers", consumers_verb }, { "drop", drop_verb }, { "prune", prune_verb } };

	if (argc > 1 && strcmp(argv[1], "--") == 0) {
		argv[1] = argv[0];
		return cli_verb_events(c, argc - 1, argv + 1);
	}
	/* The subcommand leaves argv; "events" stays the verb (help, --format). */
	for (size_t i = 0; argc > 1 && i < sizeof subs / sizeof *subs; i++)
		if (strcmp(argv[1], subs[i].name) == 0) {
			argv[1] = argv[0];
			return subs[i].run(c, argc - 1, argv + 1);
		}
	return cli_verb_events(c, argc, argv);
}
