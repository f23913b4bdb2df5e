/* Growable buffer and streaming JSON writer (see buf.h). */
#include "buf.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"

void crm__buf_free(crm__buf *b)
{
	crm__free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

void crm__buf_reset(crm__buf *b)
{
	b->len = 0;
	b->oom = 0;
}

void crm__buf_fail(crm__buf *b)
{
	/* Give the memory back now: callers that see `oom` just return. */
	crm__free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 1;
}

int crm__buf_reserve(crm__buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = crm__realloc(b->p, cap);
	if (!p) {
		crm__buf_fail(b);
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void crm__buf_put(crm__buf *b, const void *p, size_t n)
{
	if (crm__buf_reserve(b, n) || n == 0) /* p may be NULL when n is 0 */
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void crm__buf_puts(crm__buf *b, const char *s) { crm__buf_put(b, s, strlen(s)); }

void crm__buf_putc(crm__buf *b, char c)
{
	if (crm__buf_reserve(b, 1))
		return;
	b->p[b->len++] = c;
}

void crm__buf_printf(crm__buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || crm__buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *crm__i64_to(char *d, int64_t v)
{
	char tmp[20], *e = tmp + sizeof tmp, *s = e;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--s = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*d++ = '-';
	memcpy(d, s, (size_t)(e - s));
	return d + (e - s);
}

size_t crm__str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
	return n;
}

size_t crm__i64_text(char *out, int64_t v)
{
	char *end = crm__i64_to(out, v);

	*end = 0;
	return (size_t)(end - out);
}

void crm__buf_i64(crm__buf *b, int64_t v)
{
	if (crm__buf_reserve(b, CRM__I64_ROOM))
		return;
	b->len = (size_t)(crm__i64_to(b->p + b->len, v) - b->p);
}

const char *crm__buf_cstr(crm__buf *b)
{
	if (crm__buf_reserve(b, 0))
		return "";
	b->p[b->len] = 0;
	return b->p;
}

char *crm__buf_detach(crm__buf *b)
{
	char *p;

	if (crm__buf_reserve(b, 0)) {
		crm__buf_free(b);
		return NULL;
	}
	b->p[b->len] = 0;
	p = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

#define NEEDS_ESCAPE(c) ((unsigned char)(c) < 0x20 || (c) == '"' || (c) == '\\')

char *crm__json_str_to(char *d, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;

	*d++ = '"';
	while (i < n) {
		uint64_t w;

		/* Eight bytes at a time while none needs an escape, then byte by
		 * byte to the end of the word that holds one. */
		if (n - i >= 8 && (memcpy(&w, s + i, 8), !crm__word_json_special(w))) {
			memcpy(d, &w, 8);
			d += 8;
			i += 8;
			continue;
		}
		for (size_t end = n - i > 8 ? i + 8 : n; i < end; i++) {
			unsigned char c = (unsigned char)s[i];

			if (!NEEDS_ESCAPE(c)) {
				*d++ = (char)c;
				continue;
			}
			*d++ = '\\';
			switch (c) {
			case '"': *d++ = '"'; break;
			case '\\': *d++ = '\\'; break;
			case '\n': *d++ = 'n'; break;
			case '\r': *d++ = 'r'; break;
			case '\t': *d++ = 't'; break;
			case '\b': *d++ = 'b'; break;
			case '\f': *d++ = 'f'; break;
			default:
				memcpy(d, "u00", 3);
				d[3] = hex[c >> 4];
				d[4] = hex[c & 15];
				d += 5;
			}
		}
	}
	*d++ = '"';
	return d;
}

void crm__json_str(crm__buf *b, const char *s, size_t n)
{
	size_t room = n + 2;

	/* Room for what it takes (an escape is at most 6 bytes), not six times
	 * a long text's length. */
	for (size_t i = 0; i < n;) {
		uint64_t w;

		if (n - i >= 8 && (memcpy(&w, s + i, 8), !crm__word_json_special(w))) {
			i += 8;
			continue;
		}
		if (NEEDS_ESCAPE(s[i]))
			room += 5;
		i++;
	}
	if (crm__buf_reserve(b, room))
		return;
	b->len = (size_t)(crm__json_str_to(b->p + b->len, s, n) - b->p);
}

void crm__json_cstr(crm__buf *b, const char *s)
{
	if (s)
		crm__json_str(b, s, strlen(s));
	else
		crm__buf_puts(b, "null");
}

void crm__json_double(crm__buf *b, double v)
{
	char tmp[32];

	if (!isfinite(v)) {
		crm__buf_puts(b, "null");
		return;
	}
	/* Shortest text that reads back as the same double. */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	crm__buf_puts(b, tmp);
}

void crm__sql_ident(crm__buf *b, const char *name)
{
	crm__buf_putc(b, '"');
	crm__buf_puts(b, name);
	crm__buf_putc(b, '"');
}
