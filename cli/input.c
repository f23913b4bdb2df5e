/* JSON arguments: literal text, "-" for stdin or "@file", and a structural
 * scanner that finds where one JSON value ends (to tell one object from
 * NDJSON, and to gather metadata files into one array). The library parses
 * and validates everything; the scanner only checks brackets and strings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* What one command may read in all (files, stdin and JSON arguments together). */
static size_t input_limit = CLI_INPUT_MAX_DEFAULT;
static size_t input_total;

void cli_input_limit_set(size_t max_bytes) { input_limit = max_bytes; }

/* Count n more bytes of input against the limit; an exit code past it. */
static int take_input(const char *name, size_t n)
{
	if (n > input_limit - input_total)
		return cli_error(CRM_ELIMIT, "%s: the input is larger than %zu bytes (raise it with --max-input BYTES or CRM_MAX_INPUT)",
				 name, input_limit);
	input_total += n;
	return 0;
}

int cli_read_file(const char *path, char **out, size_t *out_len)
{
	int is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	const char *name = is_stdin ? "stdin" : path;
	size_t len = 0, cap = 4096, n;
	char *p, *nul = NULL;
	int rc = 0;

	*out = NULL;
	if (!f)
		return cli_error(CRM_EIO, "cannot open %s: %s", name, strerror(errno));
	p = cli_xmalloc(cap);
	/* Chunk by chunk, so neither an endless source (/dev/zero, a pipe) nor a
	 * huge file is read further than the first NUL or the limit. */
	while (rc == 0 && (n = fread(p + len, 1, cap - len - 1, f)) > 0) {
		if ((nul = memchr(p + len, '\0', n)))
			break;
		if ((rc = take_input(name, n)) != 0)
			break;
		len += n;
		if (cap - len - 1 == 0)
			p = cli_xrealloc(p, cap *= 2);
	}
	if (rc == 0 && nul)
		rc = cli_error(CRM_EINVAL, "%s contains a NUL byte at offset %zu (input must be text)", name,
			       (size_t)(nul - p));
	else if (rc == 0 && ferror(f))
		rc = cli_error(CRM_EIO, "cannot read %s: %s", name, strerror(errno));
	if (!is_stdin)
		fclose(f);
	if (rc) {
		free(p);
		return rc;
	}
	p[len] = '\0';
	*out = p;
	if (out_len)
		*out_len = len;
	return 0;
}

int cli_read_json_arg(cli *c, const char *arg, const char *what, char **out)
{
	const char *path = NULL;

	if (strcmp(arg, "-") == 0)
		path = "-";
	else if (arg[0] == '@')
		path = arg + 1;
	if (!path) {
		int rc = take_input(what, strlen(arg));

		*out = rc ? NULL : cli_xstrdup(arg);
		return rc;
	}
	if (!*path)
		return cli_usage_error("%s: '@' needs a file name", what);
	if (strcmp(path, "-") == 0) {
		if (c->stdin_used)
			return cli_usage_error("%s: stdin ('-') can be read only once", what);
		c->stdin_used = 1;
	}
	return cli_read_file(path, out, NULL);
}

size_t cli_json_ws(const char *s, size_t len, size_t pos)
{
	while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
		pos++;
	return pos;
}

int cli_json_skip(const char *s, size_t len, size_t *pos)
{
	size_t i = cli_json_ws(s, len, *pos);
	long depth = 0;

	if (i >= len || s[i] == ']' || s[i] == '}' || s[i] == ',' || s[i] == ':')
		return -1;
	do {
		char ch = s[i];

		if (ch == '"') {
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			if (i >= len)
				return -1;
			i++;
		} else if (ch == '{' || ch == '[') {
			depth++;
			i++;
		} else if (ch == '}' || ch == ']') {
			if (--depth < 0)
				return -1;
			i++;
		} else if (depth == 0) {
			/* a scalar at the top: runs to the next delimiter */
			while (i < len && !strchr(" \t\r\n,:[]{}\"", s[i]))
				i++;
		} else {
			i++;
		}
	} while (depth > 0 && i < len);
	if (depth > 0)
		return -1;
	*pos = i;
	return 0;
}

/* ---- a strict JSON validator (RFC 8259), for values the CLI must classify
 * before the library sees them (--param k=v: JSON if it parses, else text) ---- */
typedef struct jv {
	const char *s;
	size_t len, pos;
	int depth;
} jv;

#define JV_MAX_DEPTH 64

static int jv_value(jv *j);

static int jv_lit(jv *j, const char *word)
{
	size_t n = strlen(word);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, word, n) != 0)
		return 0;
	j->pos += n;
	return 1;
}

static int jv_digits(jv *j)
{
	size_t start = j->pos;

	while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
		j->pos++;
	return j->pos > start;
}

static int jv_number(jv *j)
{
	if (j->pos < j->len && j->s[j->pos] == '-')
		j->pos++;
	if (j->pos < j->len && j->s[j->pos] == '0')
		j->pos++;
	else if (!jv_digits(j))
		return 0;
	if (j->pos < j->len && j->s[j->pos] == '.') {
		j->pos++;
		if (!jv_digits(j))
			return 0;
	}
	if (j->pos < j->len && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
		j->pos++;
		if (j->pos < j->len && (j->s[j->pos] == '+' || j->s[j->pos] == '-'))
			j->pos++;
		if (!jv_digits(j))
			return 0;
	}
	return 1;
}

static int jv_string(jv *j)
{
	if (j->pos >= j->len || j->s[j->pos] != '"')
		return 0;
	for (j->pos++; j->pos < j->len; j->pos++) {
		unsigned char ch = (unsigned char)j->s[j->pos];

		if (ch == '"') {
			j->pos++;
			return 1;
		}
		if (ch < 0x20)
			return 0;
		if (ch != '\\')
			continue;
		if (++j->pos >= j->len)
			return 0;
		ch = (unsigned char)j->s[j->pos];
		if (ch == 'u') {
			for (int k = 0; k < 4; k++)
				if (++j->pos >= j->len || !strchr("0123456789abcdefABCDEF", j->s[j->pos]) || !j->s[j->pos])
					return 0;
		} else if (!strchr("\"\\/bfnrt", ch) || !ch)
			return 0;
	}
	return 0;
}

/* '[' or '{' at j->pos: the members up to the closing bracket. */
static int jv_container(jv *j, char close)
{
	int first = 1;

	if (++j->depth > JV_MAX_DEPTH)
		return 0;
	j->pos++;
	for (;;) {
		j->pos = cli_json_ws(j->s, j->len, j->pos);
		if (j->pos < j->len && j->s[j->pos] == close && first) {
			j->pos++;
			break;
		}
		if (close == '}') {
			if (!jv_string(j))
				return 0;
			j->pos = cli_json_ws(j->s, j->len, j->pos);
			if (j->pos >= j->len || j->s[j->pos++] != ':')
				return 0;
		}
		if (!jv_value(j))
			return 0;
		j->pos = cli_json_ws(j->s, j->len, j->pos);
		if (j->pos >= j->len)
			return 0;
		if (j->s[j->pos] == close) {
			j->pos++;
			break;
		}
		if (j->s[j->pos++] != ',')
			return 0;
		first = 0;
	}
	j->depth--;
	return 1;
}

static int jv_value(jv *j)
{
	j->pos = cli_json_ws(j->s, j->len, j->pos);
	if (j->pos >= j->len)
		return 0;
	switch (j->s[j->pos]) {
	case '{': return jv_container(j, '}');
	case '[': return jv_container(j, ']');
	case '"': return jv_string(j);
	case 't': return jv_lit(j, "true");
	case 'f': return jv_lit(j, "false");
	case 'n': return jv_lit(j, "null");
	default: return jv_number(j);
	}
}

int cli_json_valid(const char *s, size_t len)
{
	jv j = { s, len, 0, 0 };

	return jv_value(&j) && cli_json_ws(s, len, j.pos) == len;
}

/* ---- walking a document the library returned: members and elements as
 * raw text spans, strings decoded for CSV and table cells ---- */

int cli_json_each(const char *s, size_t len, size_t pos, cli_json_fn fn, void *payload)
{
	char open;

	pos = cli_json_ws(s, len, pos);
	if (pos >= len || (s[pos] != '{' && s[pos] != '['))
		return -1;
	open = s[pos++];
	for (;;) {
		size_t key = 0, key_end = 0, value;

		pos = cli_json_ws(s, len, pos);
		if (pos < len && s[pos] == (open == '{' ? '}' : ']'))
			return 0;
		if (open == '{') {
			key = pos;
			if (cli_json_skip(s, len, &pos) != 0 || s[key] != '"')
				return -1;
			key_end = pos;
			pos = cli_json_ws(s, len, pos);
			if (pos >= len || s[pos++] != ':')
				return -1;
			key++, key_end--; /* without the quotes */
		}
		value = pos = cli_json_ws(s, len, pos);
		if (cli_json_skip(s, len, &pos) != 0)
			return -1;
		fn(payload, s + key, key_end - key, s + value, pos - value);
		pos = cli_json_ws(s, len, pos);
		if (pos < len && s[pos] == ',')
			pos++;
	}
}

static unsigned hex4(const char *s)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++)
		v = v * 16 + (unsigned)(s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
	return v;
}

static void put_utf8(cli_buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80)
		u[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
	else if (cp < 0x10000)
		u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)), u[2] = (char)(0x80 | (cp & 0x3F)),
		n = 3;
	else
		u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
		u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
	cli_buf_put(b, u, n);
}

void cli_json_text(cli_buf *b, const char *v, size_t len)
{
	if (len < 2 || v[0] != '"') {
		cli_buf_put(b, v, len); /* a number, true, false, an object or an array: as written */
		return;
	}
	for (size_t i = 1; i + 1 < len; i++) {
		char ch = v[i];
		unsigned cp;

		if (ch != '\\') {
			cli_buf_put(b, &v[i], 1);
			continue;
		}
		switch (ch = v[++i]) {
		case 'n': cli_buf_put(b, "\n", 1); break;
		case 't': cli_buf_put(b, "\t", 1); break;
		case 'r': cli_buf_put(b, "\r", 1); break;
		case 'b': cli_buf_put(b, "\b", 1); break;
		case 'f': cli_buf_put(b, "\f", 1); break;
		case 'u':
			if (i + 4 >= len)
				return;
			cp = hex4(v + i + 1);
			i += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < len && v[i + 1] == '\\' && v[i + 2] == 'u') {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(v + i + 3) - 0xDC00);
				i += 6;
			}
			put_utf8(b, cp);
			break;
		default: cli_buf_put(b, &ch, 1);
		}
	}
}
