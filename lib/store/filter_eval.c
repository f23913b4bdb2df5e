/* Evaluating a parsed filter on one record in memory (required_when,
 * workflow guards), with exactly the semantics of the SQL filter_sql.c
 * produces: two-valued logic, a missing value fails every condition except
 * is_null and ne. crm__value_compare orders like SQLite: numbers (integer
 * or real, numerically) before text, text bytewise as the BINARY collation. */
#include <string.h>

#include "filter.h"
#include "value.h"

static const crm__value *column_value(const crm__row *row, int column)
{
	return column >= 0 ? &row->fields[column] : &row->sys[-column - 1];
}

static int bytes_contain(const char *hay, size_t hn, const char *needle, size_t nn)
{
	if (nn == 0)
		return 1;
	for (size_t i = 0; i + nn <= hn; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nn) == 0)
			return 1;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex4(const char *s, size_t n, size_t i, unsigned *out)
{
	unsigned v = 0;

	if (i + 4 > n)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = hexval(s[i + (size_t)k]);
		if (h < 0)
			return -1;
		v = v * 16 + (unsigned)h;
	}
	*out = v;
	return 0;
}

/* Decode one code point of a JSON escape into UTF-8. */
static size_t put_utf8(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Compare the JSON string starting after the quote at s[*i] with `want`,
 * decoding escapes on the fly; leaves *i after the closing quote. Returns
 * 1 when equal, 0 when not, -1 on malformed text. */
static int json_string_equals(const char *s, size_t n, size_t *i, const char *want, size_t wn)
{
	size_t w = 0;
	int same = 1;

	while (*i < n && s[*i] != '"') {
		char tmp[4];
		size_t tn = 1;

		if (s[*i] != '\\')
			tmp[0] = s[(*i)++];
		else {
			char e = *i + 1 < n ? s[*i + 1] : 0;
			unsigned cp, lo;

			*i += 2;
			switch (e) {
			case '"': tmp[0] = '"'; break;
			case '\\': tmp[0] = '\\'; break;
			case '/': tmp[0] = '/'; break;
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			case 'u':
				if (hex4(s, n, *i, &cp))
					return -1;
				*i += 4;
				if (cp >= 0xD800 && cp < 0xDC00 && *i + 1 < n && s[*i] == '\\' && s[*i + 1] == 'u' &&
				    hex4(s, n, *i + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					*i += 6;
				}
				tn = put_utf8(cp, tmp);
				break;
			default: return -1;
			}
		}
		if (same && (w + tn > wn || memcmp(want + w, tmp, tn) != 0))
			same = 0;
		w += tn;
	}
	if (*i >= n)
		return -1;
	(*i)++;
	return same && w == wn;
}

/* Does the stored multi-enum array text hold the option `want`? The same
 * question json_each answers in SQL, without allocating. */
static int array_has(const char *s, size_t n, const char *want, size_t wn)
{
	size_t i = 0;

	while (i < n && s[i] != '[')
		i++;
	for (i++; i < n; i++) {
		if (s[i] == '"') {
			i++;
			int r = json_string_equals(s, n, &i, want, wn);
			if (r != 0)
				return r > 0;
			i--; /* the loop steps past the closing quote's successor */
		} else if (s[i] == ']')
			return 0;
	}
	return 0;
}

static int condition(const crm__filter *f, const crm__form *form, const crm__row *row)
{
	const crm__value *v = column_value(row, f->column);
	int null = v->kind == CRM__V_NULL;

	if (f->param)
		return 0;
	switch (f->op) {
	case CRM__FOP_IS_NULL: return null == (f->values[0].i != 0);
	case CRM__FOP_EQ: return !null && crm__value_compare(v, &f->values[0]) == 0;
	case CRM__FOP_NE: return null || crm__value_compare(v, &f->values[0]) != 0;
	case CRM__FOP_LT: return !null && crm__value_compare(v, &f->values[0]) < 0;
	case CRM__FOP_LE: return !null && crm__value_compare(v, &f->values[0]) <= 0;
	case CRM__FOP_GT: return !null && crm__value_compare(v, &f->values[0]) > 0;
	case CRM__FOP_GE: return !null && crm__value_compare(v, &f->values[0]) >= 0;
	case CRM__FOP_BETWEEN:
		return !null && crm__value_compare(v, &f->values[0]) >= 0 && crm__value_compare(v, &f->values[1]) <= 0;
	case CRM__FOP_IN:
		if (null)
			return 0;
		for (int i = 0; i < f->nvalues; i++)
			if (crm__value_compare(v, &f->values[i]) == 0)
				return 1;
		return 0;
	case CRM__FOP_CONTAINS:
		if (v->kind != CRM__V_TEXT)
			return 0;
		if (f->column >= 0 && form->fields[f->column].value_type == CRM_TYPE_MULTI_ENUM)
			return array_has(v->s, v->n, f->values[0].s, f->values[0].n);
		return bytes_contain(v->s, v->n, f->values[0].s, f->values[0].n);
	case CRM__FOP_STARTS_WITH:
		return v->kind == CRM__V_TEXT && v->n >= f->values[0].n &&
		       (f->values[0].n == 0 || memcmp(v->s, f->values[0].s, f->values[0].n) == 0);
	default: return 0;
	}
}

int crm__filter_eval(const crm__filter *f, const crm__form *form, const crm__row *row)
{
	switch (f->op) {
	case CRM__FOP_AND:
		for (int i = 0; i < f->nkids; i++)
			if (!crm__filter_eval(f->kids[i], form, row))
				return 0;
		return 1;
	case CRM__FOP_OR:
		for (int i = 0; i < f->nkids; i++)
			if (crm__filter_eval(f->kids[i], form, row))
				return 1;
		return 0;
	case CRM__FOP_NOT: return !crm__filter_eval(f->kids[0], form, row);
	default: return condition(f, form, row);
	}
}
