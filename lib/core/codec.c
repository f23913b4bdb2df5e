/* Exact value codecs (see codec.h): scaled decimals, JSON integers, dates,
 * UTC date-times and UTF-8 checking. Strict on input so that every value
 * stored has one canonical text; nothing here allocates. */
#include "codec.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define IS_DIGIT(c) ((unsigned char)((c) - '0') < 10)

/* An exponent this large already decides the outcome (overflow, or digits
 * below the scale), so bigger ones are clamped instead of overflowing. */
#define EXP_CLAMP 100000000

/* ---- decimals ---- */

int crm__decimal_parse(const char *s, size_t n, int scale, int64_t *out)
{
	size_t i = 0, ip, ilen, fp = 0, flen = 0, k, ndig;
	int64_t exp = 0, e, w;
	uint64_t acc = 0, limit;
	int neg = 0;

	if (!s || scale < 0 || scale > CRM__DECIMAL_MAX_SCALE)
		return -1;
	/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
	if (i < n && s[i] == '-') {
		neg = 1;
		i++;
	}
	ip = i;
	if (i >= n || !IS_DIGIT(s[i]))
		return -1;
	if (s[i] == '0')
		i++;
	else
		while (i < n && IS_DIGIT(s[i]))
			i++;
	ilen = i - ip;
	if (i < n && s[i] == '.') {
		fp = ++i;
		while (i < n && IS_DIGIT(s[i]))
			i++;
		flen = i - fp;
		if (flen == 0)
			return -1;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0;
		size_t ep;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		ep = i;
		for (; i < n && IS_DIGIT(s[i]); i++)
			if (exp < EXP_CLAMP)
				exp = exp * 10 + (s[i] - '0');
		if (i == ep)
			return -1;
		if (eneg)
			exp = -exp;
	}
	if (i != n)
		return -1;
	/* The usual literal (no exponent, no fraction digit below the scale, at
	 * most 18 digits once scaled) cannot overflow: no checks per digit. */
	if (exp == 0 && flen <= (size_t)scale && ilen + (size_t)scale <= 18) {
		for (k = ip; k < ip + ilen; k++)
			acc = acc * 10 + (unsigned)(s[k] - '0');
		for (k = fp; k < fp + flen; k++)
			acc = acc * 10 + (unsigned)(s[k] - '0');
		for (k = flen; k < (size_t)scale; k++)
			acc *= 10;
		if (out)
			*out = neg ? -(int64_t)acc : (int64_t)acc;
		return 0;
	}

	/* Digit k of the integer-then-fraction digit string is worth
	 * 10^(ilen-1-k+e) in the result. Digits of negative weight must be
	 * zero (no rounding); the rest accumulate, then scale up. */
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	e = exp + scale;
	ndig = ilen + flen;
	w = 0;
	for (k = 0; k < ndig; k++) {
		unsigned d = (unsigned)((k < ilen ? s[ip + k] : s[fp + k - ilen]) - '0');

		w = (int64_t)ilen - 1 - (int64_t)k + e;
		if (w < 0) {
			if (d != 0)
				return -1;
			continue;
		}
		if (acc > (limit - d) / 10)
			return -1;
		acc = acc * 10 + d;
	}
	/* w is now the weight of the last digit; a positive one scales up. */
	if (acc != 0)
		for (; w > 0; w--) {
			if (acc > limit / 10)
				return -1;
			acc *= 10;
		}
	if (out)
		*out = neg ? (acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
	return 0;
}

size_t crm__decimal_format(int64_t scaled, int scale, char *out)
{
	char tmp[32], *e = tmp + sizeof tmp, *p = e;
	/* Negate in unsigned arithmetic: -INT64_MIN does not fit an int64. */
	uint64_t u = scaled < 0 ? (uint64_t)0 - (uint64_t)scaled : (uint64_t)scaled;
	int digits = 0;
	size_t len;

	if (scale < 0)
		scale = 0;
	if (scale > CRM__DECIMAL_MAX_SCALE)
		scale = CRM__DECIMAL_MAX_SCALE;
	/* At least one digit before the point: 5 at scale 2 is "0.05". */
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
		if (++digits == scale)
			*--p = '.';
	} while (u || digits <= scale);
	if (scaled < 0)
		*--p = '-';
	len = (size_t)(e - p);
	memcpy(out, p, len);
	out[len] = 0;
	return len;
}

/* ---- integers ---- */

int crm__int_parse(const char *s, size_t n, int64_t *out)
{
	return crm__decimal_parse(s, n, 0, out);
}

/* ---- dates and times ---- */

/* Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms". Exact for
 * |y| below about 2^40, far beyond the 0001-9999 this library stores. */
int64_t crm__days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                            /* [0, 399] */
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1; /* [0, 365] */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

void crm__civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t q, r, era, doe, yoe, doy, mp, yy;

	/* Hinnant shifts the epoch to 0000-03-01 with z = days + 719468; split
	 * days into whole eras first so that no int64 input can overflow. */
	q = days / 146097;
	r = days % 146097;
	if (r < 0) {
		r += 146097;
		q--;
	}
	r += 719468;
	era = q + r / 146097;
	doe = r % 146097;                                                /* [0, 146096] */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;      /* [0, 399] */
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                   /* [0, 365] */
	mp = (5 * doy + 2) / 153;                                        /* [0, 11] */
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	yy = yoe + era * 400;
	*y = yy + (*m <= 2);
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Exactly `w` ASCII digits at s; -1 otherwise. */
static int fixed_digits(const char *s, int w)
{
	int v = 0;

	for (int i = 0; i < w; i++) {
		if (!IS_DIGIT(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

#define MIN_DAYS CRM__DATE_MIN_DAYS
#define MAX_DAYS CRM__DATE_MAX_DAYS
#define MS_PER_DAY 86400000
#define MIN_MS CRM__DATETIME_MIN_MS
#define MAX_MS CRM__DATETIME_MAX_MS

/* The "YYYY-MM-DD" at s (10 bytes available). */
static int date10(const char *s, int64_t *out_days)
{
	int y, m, d;

	if (s[4] != '-' || s[7] != '-')
		return -1;
	y = fixed_digits(s, 4);
	m = fixed_digits(s + 5, 2);
	d = fixed_digits(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)m))
		return -1;
	*out_days = crm__days_from_civil(y, (unsigned)m, (unsigned)d);
	return 0;
}

int crm__date_parse(const char *s, size_t n, int64_t *out_days)
{
	int64_t days;

	if (!s || n != 10 || date10(s, &days))
		return -1;
	if (out_days)
		*out_days = days;
	return 0;
}

/* Writes 10 bytes; days outside 0001-01-01..9999-12-31 are clamped to that
 * range so the output always has the promised shape. */
static void put_date(int64_t days, char *out)
{
	int64_t y;
	unsigned m, d, yy;

	if (days < MIN_DAYS)
		days = MIN_DAYS;
	if (days > MAX_DAYS)
		days = MAX_DAYS;
	crm__civil_from_days(days, &y, &m, &d);
	yy = (unsigned)y;
	out[0] = (char)('0' + yy / 1000);
	out[1] = (char)('0' + yy / 100 % 10);
	out[2] = (char)('0' + yy / 10 % 10);
	out[3] = (char)('0' + yy % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
}

size_t crm__date_format(int64_t days, char *out)
{
	put_date(days, out);
	out[10] = 0;
	return 10;
}

int crm__datetime_parse(const char *s, size_t n, int64_t *out_ms)
{
	int64_t days, ms;
	int hh, mi, ss = 0, frac = 0, off = 0;
	size_t i;

	if (!s || n < 17 || date10(s, &days) || (s[10] != 'T' && s[10] != ' ') || s[13] != ':')
		return -1;
	hh = fixed_digits(s + 11, 2);
	mi = fixed_digits(s + 14, 2);
	if (hh < 0 || hh > 23 || mi < 0 || mi > 59)
		return -1;
	i = 16;
	if (s[i] == ':') {
		if (n - i < 3 || (ss = fixed_digits(s + i + 1, 2)) < 0 || ss > 59)
			return -1;
		i += 3;
		if (i < n && s[i] == '.') {
			size_t fp = ++i;

			for (; i < n && IS_DIGIT(s[i]); i++)
				if (i - fp < 3)
					frac = frac * 10 + (s[i] - '0');
			if (i == fp)
				return -1;
			for (size_t k = i - fp; k < 3; k++)
				frac *= 10;
		}
	}
	if (i >= n)
		return -1; /* the zone is required */
	if (s[i] == 'Z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		int oh, om;

		if (n - i < 6 || s[i + 3] != ':')
			return -1;
		oh = fixed_digits(s + i + 1, 2);
		om = fixed_digits(s + i + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		off = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
		i += 6;
	} else {
		return -1;
	}
	if (i != n)
		return -1;
	ms = days * MS_PER_DAY + ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + frac - (int64_t)off * 60000;
	/* Keep the instant formattable: crm__datetime_format writes 4-digit
	 * years, so an offset may not push it outside 0001..9999 UTC. */
	if (ms < MIN_MS || ms > MAX_MS)
		return -1;
	if (out_ms)
		*out_ms = ms;
	return 0;
}

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

size_t crm__datetime_format(int64_t ms, char *out)
{
	int64_t day = INT64_MIN;

	return crm__datetime_format_run(ms, out, &day);
}

size_t crm__datetime_format_run(int64_t ms, char *out, int64_t *day)
{
	int64_t days, rem;
	int t;

	if (ms < MIN_MS)
		ms = MIN_MS;
	if (ms > MAX_MS)
		ms = MAX_MS;
	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	/* The civil date is the costly part: a run of times on one day keeps it. */
	if (days != *day) {
		put_date(days, out);
		*day = days;
	}
	t = (int)(rem / 1000);
	out[10] = 'T';
	put2(out + 11, t / 3600);
	out[13] = ':';
	put2(out + 14, t / 60 % 60);
	out[16] = ':';
	put2(out + 17, t % 60);
	out[19] = '.';
	t = (int)(rem % 1000);
	out[20] = (char)('0' + t / 100);
	put2(out + 21, t % 100);
	out[23] = 'Z';
	out[24] = 0;
	return 24;
}

/* ---- UTF-8 ---- */

size_t crm__utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned c = p[0], lo = 0x80, hi = 0xBF;
	size_t len;

	/* Well-formed sequences, Unicode Table 3-7: the second byte's range
	 * excludes overlongs, surrogates and values past U+10FFFF. */
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (avail < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if ((p[k] & 0xC0) != 0x80)
			return 0;
	return len;
}

int64_t crm__utf8_length(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;
	int64_t count = 0;

	if (!s)
		return n ? -1 : 0;
	while (i < n) {
		uint64_t w;

		/* Eight ASCII bytes at a time: most text of most records is ASCII. */
		if (n - i >= 8 && (memcpy(&w, s + i, 8), !crm__word_non_ascii(w))) {
			i += 8;
			count += 8;
			continue;
		}
		if (s[i] < 0x80)
			i++;
		else if ((len = crm__utf8_seq(s + i, n - i)))
			i += len;
		else
			return -1;
		count++;
	}
	return count;
}

int crm__ascii_text(const char *s, size_t n)
{
	size_t i = 0;
	uint64_t w;

	if (n < 8) {
		for (; i < n; i++)
			if ((unsigned char)(s[i] - 1) >= 0x7F) /* NUL wraps to 0xFF */
				return 0;
		return 1;
	}
	for (; i + 8 < n; i += 8) {
		memcpy(&w, s + i, 8);
		if (crm__word_below(w, 1) | crm__word_non_ascii(w))
			return 0;
	}
	memcpy(&w, s + n - 8, 8); /* the last eight bytes, some seen already */
	return !(crm__word_below(w, 1) | crm__word_non_ascii(w));
}

/* ---- e-mail addresses and URLs ---- */

#define IS_ALPHA(c) ((unsigned char)(((c) | 0x20) - 'a') < 26)
#define IS_ALNUM(c) (IS_ALPHA(c) || IS_DIGIT(c))
#define IS_HEX(c) (IS_DIGIT(c) || (unsigned char)(((c) | 0x20) - 'a') < 6)
/* c is one of `set` (never NUL, which strchr would find) */
#define IN_SET(c, set) ((c) && strchr(set, c))

/* The code point of the well-formed sequence at p (crm__utf8_seq said `len`). */
static unsigned utf8_code(const unsigned char *p, size_t len)
{
	unsigned c = p[0] & (0xFF >> (len + 1));

	for (size_t k = 1; k < len; k++)
		c = (c << 6) | (p[k] & 0x3F);
	return c;
}

/* The non-ASCII character at s[*i] (skipped): its code point, or 0 when
 * it is not well-formed UTF-8. */
static unsigned non_ascii(const char *s, size_t n, size_t *i)
{
	size_t len = crm__utf8_seq((const unsigned char *)s + *i, n - *i);
	unsigned c = len ? utf8_code((const unsigned char *)s + *i, len) : 0;

	*i += len;
	return c;
}

/* "0".."255" written with 1 to 3 digits (RFC 5321 Snum). */
static int snum(const char *s, size_t n, size_t *i)
{
	size_t start = *i;
	int v = 0;

	while (*i < n && *i - start < 3 && IS_DIGIT(s[*i]))
		v = v * 10 + (s[(*i)++] - '0');
	return *i > start && v <= 255;
}

static int is_ipv4(const char *s, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++)
		if ((part && (i >= n || s[i++] != '.')) || !snum(s, n, &i))
			return 0;
	return i == n;
}

/* An IPv6 address (RFC 4291 text, an IPv4 tail allowed), by inet_pton. */
static int is_ipv6(const char *s, size_t n)
{
	unsigned char bin[16];
	char text[64];

	if (n == 0 || n >= sizeof text)
		return 0;
	memcpy(text, s, n);
	text[n] = 0;
	return inet_pton(AF_INET6, text, bin) == 1;
}

/* RFC 5321 atext, and any non-ASCII character (RFC 6531). */
static int atext(const char *s, size_t n, size_t *i)
{
	char c = s[*i];

	if ((unsigned char)c >= 0x80)
		return non_ascii(s, n, i) != 0;
	if (!IS_ALNUM(c) && !IN_SET(c, "!#$%&'*+-/=?^_`{|}~"))
		return 0;
	(*i)++;
	return 1;
}

/* Local-part = Dot-string / Quoted-string; *i moves past it. */
static int local_part(const char *s, size_t n, size_t *i)
{
	if (*i < n && s[*i] == '"') {
		for ((*i)++; *i < n && s[*i] != '"';) {
			unsigned char c = (unsigned char)s[*i];
			if (c == '\\' && *i + 1 < n && s[*i + 1] >= 32 && s[*i + 1] <= 126)
				*i += 2;
			else if (c >= 0x80) {
				if (!non_ascii(s, n, i))
					return 0;
			} else if (c >= 32 && c <= 126 && c != '\\')
				(*i)++;
			else
				return 0;
		}
		return *i < n && s[(*i)++] == '"';
	}
	for (;;) { /* Atom *("." Atom) */
		size_t start = *i;
		while (*i < n && s[*i] != '.' && s[*i] != '@')
			if (!atext(s, n, i))
				return 0;
		if (*i == start)
			return 0;
		if (*i >= n || s[*i] != '.')
			return 1;
		(*i)++;
	}
}

/* Domain: letter-digit-hyphen labels (non-ASCII allowed, RFC 6531), no
 * hyphen at either end, at least two labels. */
static int domain(const char *s, size_t n)
{
	size_t i = 0, labels = 0;

	if (n > 253)
		return 0;
	while (i < n) {
		size_t start = i;
		while (i < n && s[i] != '.') {
			if ((unsigned char)s[i] >= 0x80) {
				if (!non_ascii(s, n, &i))
					return 0;
			} else if (IS_ALNUM(s[i]) || s[i] == '-')
				i++;
			else
				return 0;
		}
		if (i == start || i - start > 63 || s[start] == '-' || s[i - 1] == '-')
			return 0;
		labels++;
		if (i < n && ++i == n)
			return 0; /* a trailing dot */
	}
	return labels >= 2;
}

int crm__email_valid(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || n > 254 || !local_part(s, n, &i) || i > 64 || i >= n || s[i] != '@')
		return 0;
	s += i + 1;
	n -= i + 1;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') { /* address literal */
		if (n > 7 && strncasecmp(s + 1, "IPv6:", 5) == 0)
			return is_ipv6(s + 6, n - 7);
		return is_ipv4(s + 1, n - 2);
	}
	return domain(s, n);
}

/* RFC 3987 ucschar (and iprivate, allowed in a query). */
static int iri_char(unsigned c, int query)
{
	if (c >= 0xA0 && c <= 0xD7FF)
		return 1;
	if ((c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFEF))
		return 1;
	if (c >= 0x10000 && c <= 0xEFFFD && (c & 0xFFFE) != 0xFFFE && (c < 0xE0000 || c >= 0xE1000))
		return 1;
	return query && ((c >= 0xE000 && c <= 0xF8FF) || (c >= 0xF0000 && (c & 0xFFFE) != 0xFFFE));
}

/* One character of a URL part at s[*i]: unreserved, a sub-delim, a valid
 * %XX, one of `extra`, or an IRI character. */
static int url_char(const char *s, size_t n, size_t *i, const char *extra, int query)
{
	char c = s[*i];

	if ((unsigned char)c >= 0x80)
		return iri_char(non_ascii(s, n, i), query);
	if (c == '%') {
		if (*i + 2 >= n || !IS_HEX(s[*i + 1]) || !IS_HEX(s[*i + 2]))
			return 0;
		*i += 3;
		return 1;
	}
	if (!IS_ALNUM(c) && !IN_SET(c, "-._~!$&'()*+,;=") && !IN_SET(c, extra))
		return 0;
	(*i)++;
	return 1;
}

/* Characters of one kind from s[*i] up to the first of `stop` (or the end). */
static int url_run(const char *s, size_t n, size_t *i, const char *stop, const char *extra, int query)
{
	while (*i < n && !IN_SET(s[*i], stop))
		if (!url_char(s, n, i, extra, query))
			return 0;
	return 1;
}

/* host [":" port]: an IP literal or a non-empty reg-name. */
static int host_port(const char *s, size_t n)
{
	size_t i = 0;

	if (n && s[0] == '[') {
		const char *end = memchr(s, ']', n);
		size_t len = end ? (size_t)(end - s) - 1 : 0;
		/* IPvFuture: "v" HEXDIG+ "." (unreserved / sub-delims / ":")+ */
		if (len > 1 && (s[1] | 0x20) == 'v') {
			size_t k = 2;
			while (k <= len && IS_HEX(s[k]))
				k++;
			if (k == 2 || k > len || s[k] != '.' || k == len)
				return 0;
			for (k++; k <= len; k++)
				if (!IS_ALNUM(s[k]) && !IN_SET(s[k], "-._~!$&'()*+,;=:"))
					return 0;
		} else if (!end || !is_ipv6(s + 1, len))
			return 0;
		i = len + 2;
	} else {
		if (!url_run(s, n, &i, ":", "", 0) || i == 0)
			return 0;
	}
	if (i < n && s[i++] != ':')
		return 0;
	while (i < n)
		if (!IS_DIGIT(s[i++]))
			return 0;
	return 1;
}

int crm__url_valid(const char *s, size_t n)
{
	size_t i, end, at;

	if (n > 7 && strncasecmp(s, "http://", 7) == 0)
		i = 7;
	else if (n > 8 && strncasecmp(s, "https://", 8) == 0)
		i = 8;
	else
		return 0;
	/* authority: [userinfo "@"] host [":" port] */
	for (end = i; end < n && !IN_SET(s[end], "/?#"); end++)
		;
	at = i;
	if (memchr(s + i, '@', end - i)) {
		if (!url_run(s, end, &at, "@", ":", 0))
			return 0;
		at++;
	}
	if (!host_port(s + at, end - at))
		return 0;
	i = end;
	/* path-abempty, then ["?" query], then ["#" fragment] */
	if (!url_run(s, n, &i, "?#", ":@/", 0))
		return 0;
	if (i < n && s[i] == '?' && (++i, !url_run(s, n, &i, "#", ":@/?", 1)))
		return 0;
	if (i < n && s[i] == '#' && (++i, !url_run(s, n, &i, "", ":@/?", 0)))
		return 0;
	return i == n;
}
