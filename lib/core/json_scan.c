/* Allocation-free JSON pull scanner (see json_scan.h): strict RFC 8259,
 * iterative so hostile nesting cannot exhaust the C stack, and built around
 * tight byte loops because every inserted record passes through it. */
#include "codec.h"
#include "json_scan.h"

#include <stdint.h>
#include <string.h>

/* Scanner states (crm__jscan.state). */
enum {
	ST_START,
	ST_OBJ_FIRST, /* after '{': a key or '}' */
	ST_OBJ_NEXT,  /* after a member: ',' or '}' */
	ST_ARR_FIRST, /* after '[': a value or ']' */
	ST_ARR_NEXT,  /* after an element: ',' or ']' */
	ST_DONE,
	ST_ERROR
};

/* Open containers are remembered one bit each (object or array), so the
 * depth the scanner can follow is bounded by this, whatever max_depth says. */
#define STACK_WORDS 64
#define STACK_DEPTH (STACK_WORDS * 64)

/* 1 for bytes that end a plain run inside a string: '"', '\\', control
 * characters and every non-ASCII byte (checked as UTF-8). */
static const unsigned char str_special[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

#define IS_DIGIT(c) ((unsigned char)((c) - '0') < 10)
#define IS_WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

static int fail(crm__jscan *sc, const char *msg, size_t pos)
{
	sc->err = msg;
	sc->err_pos = pos;
	sc->state = ST_ERROR;
	return -1;
}

static size_t skip_ws(const crm__jscan *sc, size_t i)
{
	const char *s = sc->s;
	size_t n = sc->n;

	while (i < n && IS_WS(s[i]))
		i++;
	return i;
}

/* Four hex digits at s (bounds checked by the caller), or -1. */
static long hex4(const char *s)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v * 16 + ((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	return v;
}

/* Where the run of plain string bytes (ASCII, no escape, no quote) from
 * s[i] ends: eight bytes at a time, then byte by byte. */
static inline size_t plain_run(const char *s, size_t n, size_t i)
{
	uint64_t w;

	while (n - i >= 8 && (memcpy(&w, s + i, 8), !(crm__word_json_special(w) | crm__word_non_ascii(w))))
		i += 8;
	while (i < n && !str_special[(unsigned char)s[i]])
		i++;
	return i;
}

/* The string whose opening quote is at s[*ppos]. With `out`, its decoded
 * text: a span of the input when it has no escapes, otherwise decoded into
 * sc->strings (reserved by init, so this never reallocates). Without `out`
 * it is only validated. Leaves *ppos after the closing quote. */
static int scan_string(crm__jscan *sc, size_t *ppos, crm__jval *out)
{
	const char *s = sc->s;
	size_t n = sc->n, open = *ppos, start = open + 1, i = start;
	char *d = NULL, *d0 = NULL; /* decode cursor, set at the first escape */

	for (;;) {
		size_t run = i;
		unsigned char c;

		i = plain_run(s, n, i);
		if (d) {
			memcpy(d, s + run, i - run);
			d += i - run;
		}
		if (i >= n)
			return fail(sc, "unterminated string", open);
		c = (unsigned char)s[i];
		if (c == '"')
			break;
		if (c >= 0x80) {
			size_t len = crm__utf8_seq((const unsigned char *)s + i, n - i);

			if (!len)
				return fail(sc, "invalid UTF-8 in string", i);
			if (d) {
				memcpy(d, s + i, len);
				d += len;
			}
			i += len;
			continue;
		}
		if (c < 0x20)
			return fail(sc, "control character in string", i);
		/* a backslash */
		if (out && !d) {
			crm__buf *b = sc->strings;

			/* The text left can only shrink when decoded; this fails
			 * only if the caller grew the buffer after init. */
			if (!b || !b->p || b->cap - b->len <= n - start)
				return fail(sc, "no room to decode an escaped string", i);
			d0 = d = b->p + b->len;
			memcpy(d, s + start, i - start);
			d += i - start;
		}
		if (n - i < 2)
			return fail(sc, "unterminated string", open);
		switch (s[i + 1]) {
		case '"': c = '"'; break;
		case '\\': c = '\\'; break;
		case '/': c = '/'; break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u': {
			long cp, lo;
			size_t at = i;

			if (n - i < 6 || (cp = hex4(s + i + 2)) < 0)
				return fail(sc, "bad \\u escape", at);
			i += 6;
			if (cp == 0 && sc->nuls++ == 0)
				sc->nul_pos = at;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return fail(sc, "lone low surrogate in \\u escape", at);
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u' || (lo = hex4(s + i + 2)) < 0 ||
				    lo < 0xDC00 || lo > 0xDFFF)
					return fail(sc, "lone high surrogate in \\u escape", at);
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			}
			if (d) {
				if (cp < 0x80) {
					*d++ = (char)cp;
				} else if (cp < 0x800) {
					*d++ = (char)(0xC0 | (cp >> 6));
					*d++ = (char)(0x80 | (cp & 0x3F));
				} else if (cp < 0x10000) {
					*d++ = (char)(0xE0 | (cp >> 12));
					*d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
					*d++ = (char)(0x80 | (cp & 0x3F));
				} else {
					*d++ = (char)(0xF0 | (cp >> 18));
					*d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
					*d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
					*d++ = (char)(0x80 | (cp & 0x3F));
				}
			}
			continue;
		}
		default:
			return fail(sc, "bad escape in string", i);
		}
		if (d)
			*d++ = (char)c;
		i += 2;
	}
	*ppos = i + 1;
	if (out) {
		out->type = CRM__J_STRING;
		if (d) {
			out->p = d0;
			out->n = (size_t)(d - d0);
			sc->strings->len += out->n;
		} else {
			out->p = s + start;
			out->n = i - start;
		}
	}
	return 0;
}

/* A string without escapes or non-ASCII bytes whose opening quote is at
 * s[*ppos], only validated: 1 and *ppos after its closing quote, 0 (and
 * *ppos unchanged) when it needs scan_string. Inline, as most strings of
 * a document are such short names and values. */
static inline int plain_string(const char *s, size_t n, size_t *ppos)
{
	size_t i = plain_run(s, n, *ppos + 1);

	if (i >= n || s[i] != '"')
		return 0;
	*ppos = i + 1;
	return 1;
}

/* A number per the JSON grammar at s[*ppos]. */
static int scan_number(crm__jscan *sc, size_t *ppos)
{
	const char *s = sc->s;
	size_t n = sc->n, i = *ppos, at = i;

	if (s[i] == '-')
		i++;
	if (i >= n || !IS_DIGIT(s[i]))
		return fail(sc, "bad number", at);
	if (s[i] == '0') {
		i++;
		if (i < n && IS_DIGIT(s[i]))
			return fail(sc, "leading zero in number", at);
	} else {
		while (i < n && IS_DIGIT(s[i]))
			i++;
	}
	if (i < n && s[i] == '.') {
		size_t f = ++i;

		while (i < n && IS_DIGIT(s[i]))
			i++;
		if (i == f)
			return fail(sc, "bad number", at);
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t e;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		e = i;
		while (i < n && IS_DIGIT(s[i]))
			i++;
		if (i == e)
			return fail(sc, "bad number", at);
	}
	*ppos = i;
	return 0;
}

/* One complete value at s[*ppos] (no leading white space), validated
 * without recursion. `depth` is how many containers already enclose it.
 * Scalars are described in `out` when given; containers only as spans. */
static int scan_value(crm__jscan *sc, size_t *ppos, int depth, crm__jval *out)
{
	uint64_t stack[STACK_WORDS]; /* bit set: that level is an object */
	const char *s = sc->s;
	size_t n = sc->n, i = *ppos, start = i;
	int top = 0; /* containers opened here */
	int limit = sc->max_depth < STACK_DEPTH ? sc->max_depth : STACK_DEPTH;
	int is_obj;
	unsigned char c;

	for (;;) {
		/* A value is expected at i. */
		if (i >= n)
			return fail(sc, "unexpected end of input", i);
		c = (unsigned char)s[i];
		if (c == '{' || c == '[') {
			if (depth + top + 1 > limit)
				return fail(sc, "JSON nested too deeply", i);
			if (c == '{')
				stack[top / 64] |= (uint64_t)1 << (top % 64);
			else
				stack[top / 64] &= ~((uint64_t)1 << (top % 64));
			top++;
			i = skip_ws(sc, i + 1);
			if (i < n && s[i] == (c == '{' ? '}' : ']')) {
				is_obj = c == '{';
				goto closed;
			}
			if (c == '[')
				continue;
			goto member_key;
		}
		if (c == '"') {
			if (((out && !top) || !plain_string(s, n, &i)) && scan_string(sc, &i, top ? NULL : out))
				return -1;
		} else if (c == '-' || IS_DIGIT(c)) {
			if (scan_number(sc, &i))
				return -1;
			if (out && !top) {
				out->type = CRM__J_NUMBER;
				out->p = s + start;
				out->n = i - start;
			}
		} else {
			crm__jtype t;
			size_t len;

			if (c == 't') {
				t = CRM__J_TRUE;
				len = 4;
			} else if (c == 'f') {
				t = CRM__J_FALSE;
				len = 5;
			} else if (c == 'n') {
				t = CRM__J_NULL;
				len = 4;
			} else
				return fail(sc, "expected a value", i);
			if (n - i < len ||
			    memcmp(s + i, t == CRM__J_TRUE ? "true" : t == CRM__J_FALSE ? "false" : "null", len))
				return fail(sc, "bad literal", i);
			i += len;
			if (out && !top) {
				out->type = t;
				out->p = s + start;
				out->n = len;
			}
		}
	after_value:
		if (!top)
			break;
		i = skip_ws(sc, i);
		if (i >= n)
			return fail(sc, "unexpected end of input", i);
		is_obj = (int)(stack[(top - 1) / 64] >> ((top - 1) % 64)) & 1;
		if (s[i] == ',') {
			i = skip_ws(sc, i + 1);
			if (!is_obj)
				continue;
			goto member_key;
		}
		if (s[i] != (is_obj ? '}' : ']'))
			return fail(sc, is_obj ? "expected ',' or '}'" : "expected ',' or ']'", i);
	closed:
		top--;
		i++;
		if (!top && out) {
			out->type = is_obj ? CRM__J_OBJECT : CRM__J_ARRAY;
			out->p = s + start;
			out->n = i - start;
		}
		goto after_value;
	member_key:
		if (i >= n || s[i] != '"')
			return fail(sc, i >= n ? "unexpected end of input" : "expected a string key", i);
		if (!plain_string(s, n, &i) && scan_string(sc, &i, NULL))
			return -1;
		i = skip_ws(sc, i);
		if (i >= n || s[i] != ':')
			return fail(sc, "expected ':'", i);
		i = skip_ws(sc, i + 1);
	}
	*ppos = i;
	return 0;
}

int crm__jscan_init(crm__jscan *sc, const char *s, size_t n, int max_depth, crm__buf *strings)
{
	sc->s = s;
	sc->n = s ? n : 0;
	sc->pos = 0;
	sc->max_depth = max_depth;
	sc->strings = strings;
	sc->err = NULL;
	sc->err_pos = 0;
	sc->nuls = 0;
	sc->nul_pos = 0;
	sc->state = ST_START;
	if (strings && (sc->n > ((size_t)-1 - 1) / 2 || crm__buf_reserve(strings, 2 * sc->n)))
		return -1;
	return 0;
}

/* The top-level container's opening bracket. */
static int open_top(crm__jscan *sc, char want)
{
	size_t i = skip_ws(sc, 0);

	if (i >= sc->n)
		return fail(sc, "unexpected end of input", i);
	if (sc->s[i] != want)
		return fail(sc, want == '{' ? "expected an object" : "expected an array", i);
	if (sc->max_depth < 1)
		return fail(sc, "JSON nested too deeply", i);
	sc->pos = i + 1;
	sc->state = want == '{' ? ST_OBJ_FIRST : ST_ARR_FIRST;
	return 0;
}

/* The closing bracket at sc->pos: only white space may follow. */
static int close_top(crm__jscan *sc)
{
	size_t i = skip_ws(sc, sc->pos + 1);

	if (i != sc->n)
		return fail(sc, "unexpected text after the JSON value", i);
	sc->pos = i;
	sc->state = ST_DONE;
	return 0;
}

/* Where the next item starts, after '{' / '[' or a ','; 0 at the closing
 * bracket (then trailing text is checked), -1 on error. */
static int next_item(crm__jscan *sc, int first, char close)
{
	size_t i = skip_ws(sc, sc->pos);

	if (i >= sc->n)
		return fail(sc, "unexpected end of input", i);
	if (sc->s[i] == close) {
		sc->pos = i;
		return close_top(sc);
	}
	if (!first) {
		if (sc->s[i] != ',')
			return fail(sc, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'", i);
		i = skip_ws(sc, i + 1);
		if (i < sc->n && sc->s[i] == close)
			return fail(sc, "trailing comma", i);
	}
	sc->pos = i;
	return 1;
}

int crm__jscan_member(crm__jscan *sc, crm__jval *key, crm__jval *val)
{
	size_t i;
	int r;

	switch (sc->state) {
	case ST_START:
		if (open_top(sc, '{'))
			return -1;
		break;
	case ST_OBJ_FIRST:
	case ST_OBJ_NEXT:
		break;
	case ST_DONE:
		return 0;
	case ST_ERROR:
		return -1;
	default:
		return fail(sc, "scanning an array, not an object", sc->pos);
	}
	r = next_item(sc, sc->state == ST_OBJ_FIRST, '}');
	if (r <= 0)
		return r;
	i = sc->pos;
	if (i >= sc->n || sc->s[i] != '"')
		return fail(sc, i >= sc->n ? "unexpected end of input" : "expected a string key", i);
	if (scan_string(sc, &i, key))
		return -1;
	i = skip_ws(sc, i);
	if (i >= sc->n || sc->s[i] != ':')
		return fail(sc, "expected ':'", i);
	i = skip_ws(sc, i + 1);
	if (scan_value(sc, &i, 1, val))
		return -1;
	sc->pos = i;
	sc->state = ST_OBJ_NEXT;
	return 1;
}

int crm__jscan_element(crm__jscan *sc, crm__jval *val)
{
	size_t i;
	int r;

	switch (sc->state) {
	case ST_START:
		if (open_top(sc, '['))
			return -1;
		break;
	case ST_ARR_FIRST:
	case ST_ARR_NEXT:
		break;
	case ST_DONE:
		return 0;
	case ST_ERROR:
		return -1;
	default:
		return fail(sc, "scanning an object, not an array", sc->pos);
	}
	r = next_item(sc, sc->state == ST_ARR_FIRST, ']');
	if (r <= 0)
		return r;
	i = sc->pos;
	if (scan_value(sc, &i, 1, val))
		return -1;
	sc->pos = i;
	sc->state = ST_ARR_NEXT;
	return 1;
}

const char crm__jscan_err_nul[] = "U+0000 (\\u0000) is not allowed in text";

int crm__json_has_nul(const char *s, size_t n, size_t *at)
{
	const char *p = s;
	crm__jscan sc;
	size_t i;

	for (; (p = memchr(p, '\\', n - (size_t)(p - s))); p++)
		if (n - (size_t)(p - s) >= 6 && memcmp(p + 1, "u0000", 5) == 0)
			break;
	if (!p)
		return 0;
	/* maybe an escaped backslash before "u0000": the scanner knows */
	crm__jscan_init(&sc, s, n, STACK_DEPTH, NULL);
	i = skip_ws(&sc, 0);
	scan_value(&sc, &i, 0, NULL);
	if (sc.nuls && at)
		*at = sc.nul_pos;
	return sc.nuls != 0;
}

int crm__json_validate(const char *s, size_t n, int max_depth, const char **err, size_t *err_pos)
{
	crm__jscan sc;
	size_t i;

	crm__jscan_init(&sc, s, n, max_depth, NULL);
	i = skip_ws(&sc, 0);
	if (scan_value(&sc, &i, 0, NULL) == 0) {
		i = skip_ws(&sc, i);
		if (i == sc.n && !sc.nuls)
			return 0;
		if (i == sc.n)
			fail(&sc, crm__jscan_err_nul, sc.nul_pos);
		else
			fail(&sc, "unexpected text after the JSON value", i);
	}
	if (err)
		*err = sc.err;
	if (err_pos)
		*err_pos = sc.err_pos;
	return -1;
}
