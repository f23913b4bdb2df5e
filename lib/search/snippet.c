/* Snippets of search hits: a window of a field's text around the first
 * word of the query it holds, every word in the window between markers.
 * Made in C from the text the search read, so both backends and the scan
 * for short words show the same snippet, and only for fields the actor may
 * read. */
#include <string.h>

#include "core/codec.h"
#include "search_int.h"

#define BEFORE 12 /* code points shown before the first hit */
#define WINDOW 64 /* code points shown in all, hits extend it */

static int fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Length of the term matching at text[i] (ASCII case folded), or 0. UTF-8
 * lead bytes never equal continuation bytes, so a match starts and ends on
 * character boundaries. */
static size_t match_at(const char *text, size_t len, size_t i, const crm__search_term *terms, int nterms)
{
	for (int t = 0; t < nterms; t++) {
		size_t k = 0, n = terms[t].len;
		if (n == 0 || n > len - i)
			continue;
		while (k < n && fold((unsigned char)text[i + k]) == fold((unsigned char)terms[t].s[k]))
			k++;
		if (k == n)
			return n;
	}
	return 0;
}

static size_t char_len(const char *text, size_t len, size_t i)
{
	size_t n = (unsigned char)text[i] < 0x80 ? 1 : crm__utf8_seq((const unsigned char *)text + i, len - i);
	return n ? n : 1;
}

/* The start of the code point before byte i. */
static size_t back_one(const char *text, size_t i)
{
	while (i > 0 && ((unsigned char)text[--i] & 0xC0) == 0x80)
		;
	return i;
}

int crm__search_snippet(crm__buf *out, int members, const char *name, const char *text, size_t len,
			const crm__search_term *terms, int nterms, const char *open, const char *close)
{
	crm__buf s = CRM__BUF_INIT;
	size_t first = 0, start, i;
	int shown = 0;

	while (first < len && !match_at(text, len, first, terms, nterms))
		first += char_len(text, len, first);
	if (first >= len)
		return 0;
	start = first;
	for (int k = 0; k < BEFORE && start > 0; k++)
		start = back_one(text, start);
	if (start > 0)
		crm__buf_puts(&s, "\xe2\x80\xa6");
	for (i = start; i < len && shown < WINDOW; shown++) {
		size_t m = match_at(text, len, i, terms, nterms);
		if (m) {
			crm__buf_puts(&s, open);
			crm__buf_put(&s, text + i, m);
			crm__buf_puts(&s, close);
			i += m;
		} else {
			size_t c = char_len(text, len, i);
			crm__buf_put(&s, text + i, c);
			i += c;
		}
	}
	if (i < len)
		crm__buf_puts(&s, "\xe2\x80\xa6");
	crm__buf_puts(out, members ? ",\"" : "\"");
	crm__buf_puts(out, name);
	crm__buf_puts(out, "\":");
	crm__json_str(out, s.p ? s.p : "", s.len);
	out->oom |= s.oom;
	crm__buf_free(&s);
	return 1;
}
