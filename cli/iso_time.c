/* The --now argument: an ISO 8601 instant with an explicit zone, or epoch
 * milliseconds. The library's own codec is internal, so the CLI carries
 * this small strict parser (no locale, no time zone database). */
#include <string.h>

#include "cli.h"

/* Read exactly `n` digits; -1 if any is missing. */
static int digits(const char **s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		v = v * 10 + (**s - '0');
	}
	return v;
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int parse_epoch_ms(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (!*s || strlen(s) > 15) /* up to year ~33658: plenty, and no overflow */
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

int cli_parse_time(const char *s, int64_t *out_ms)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec = 0, ms = 0, off = 0;
	int64_t t;

	if (!strchr(s, '-') || s[0] == '-')
		return parse_epoch_ms(s, out_ms);
	if ((y = digits(&s, 4)) < 0 || *s++ != '-' || (mo = digits(&s, 2)) < 0 || *s++ != '-' ||
	    (d = digits(&s, 2)) < 0 || *s++ != 'T' || (h = digits(&s, 2)) < 0 || *s++ != ':' ||
	    (mi = digits(&s, 2)) < 0)
		return -1;
	if (*s == ':') {
		s++;
		if ((sec = digits(&s, 2)) < 0)
			return -1;
		if (*s == '.') {
			int n = 0;

			for (s++; *s >= '0' && *s <= '9'; s++, n++)
				if (n < 3)
					ms = ms * 10 + (*s - '0');
			if (n == 0)
				return -1;
			for (; n < 3; n++)
				ms *= 10;
		}
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1, oh, om;

		if ((oh = digits(&s, 2)) < 0 || *s++ != ':' || (om = digits(&s, 2)) < 0 || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 60 + om);
	} else {
		return -1;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h > 23 ||
	    mi > 59 || sec > 59)
		return -1;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off * 60;
	if (t < 0)
		return -1; /* the library's clock starts at the epoch */
	*out_ms = t * 1000 + ms;
	return 0;
}
