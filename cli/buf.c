/* A growable string for building JSON (query documents, the gathered
 * metadata of `apply`) and the escaping of JSON strings. Allocation failure
 * ends the process: a command-line tool has nothing to roll back. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void out_of_memory(void)
{
	fputs("crm: out of memory\n{\"code\":\"CRM_ENOMEM\",\"message\":\"out of memory\"}\n", stderr);
	exit(CLI_EXIT_ERROR);
}

void *cli_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *cli_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		out_of_memory();
	return q;
}

char *cli_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(cli_xmalloc(n), s, n);
}

static void reserve(cli_buf *b, size_t extra)
{
	size_t cap;

	if (b->len + extra + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->p = cli_xrealloc(b->p, cap);
	b->cap = cap;
}

void cli_buf_put(cli_buf *b, const char *s, size_t n)
{
	reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void cli_buf_puts(cli_buf *b, const char *s) { cli_buf_put(b, s, strlen(s)); }

void cli_buf_printf(cli_buf *b, const char *fmt, ...)
{
	char small[128];
	va_list ap;
	int n;

	/* Measure into a real buffer, not vsnprintf(NULL, 0): gcc 12 at -O2 with
	 * sanitizers reports the NULL destination as format truncation. */
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		cli_buf_put(b, small, (size_t)n);
		return;
	}
	reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void cli_buf_json_str(cli_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	cli_buf_put(b, "\"", 1);
	for (; *p; p++) {
		switch (*p) {
		case '"': cli_buf_put(b, "\\\"", 2); break;
		case '\\': cli_buf_put(b, "\\\\", 2); break;
		case '\n': cli_buf_put(b, "\\n", 2); break;
		case '\r': cli_buf_put(b, "\\r", 2); break;
		case '\t': cli_buf_put(b, "\\t", 2); break;
		default:
			if (*p < 0x20)
				cli_buf_printf(b, "\\u%04x", *p);
			else
				cli_buf_put(b, (const char *)p, 1);
		}
	}
	cli_buf_put(b, "\"", 1);
}

const char *cli_buf_cstr(cli_buf *b) { return b->p ? b->p : ""; }

void cli_buf_free(cli_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
