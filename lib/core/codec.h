/* Value codecs shared by every engine: exact decimals, dates and times,
 * UTF-8. Pure functions, no allocation, no handle. */
#ifndef CRM_CORE_CODEC_H
#define CRM_CORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* ---- decimals: exact, stored as integers scaled by 10^scale ---- */
#define CRM__DECIMAL_MAX_SCALE 9
/* Parse decimal text (optional '-', digits, optional '.' digits, optional
 * exponent e/E[+-]digits as JSON numbers allow) into value * 10^scale.
 * Fails (-1) on bad syntax, on more fractional digits than `scale` that are
 * not zeros (no silent rounding), or on overflow of int64. */
int crm__decimal_parse(const char *s, size_t n, int scale, int64_t *out);
/* Write `scaled` with exactly `scale` fraction digits ("-12.50"); returns
 * the length; `out` must hold 32 bytes. */
size_t crm__decimal_format(int64_t scaled, int scale, char *out);

/* ---- integers ---- */
/* Parse a JSON integer literal (optional '-', digits; also an exponent or
 * fraction that leaves an exact integer such as 1e3 or 2.0). -1 on bad
 * syntax, non-integral value or overflow. */
int crm__int_parse(const char *s, size_t n, int64_t *out);

/* ---- dates and times (proleptic Gregorian, UTC) ---- */
/* The range every date and datetime is held to: 0001-01-01 to 9999-12-31,
 * in days and in milliseconds since 1970-01-01. */
#define CRM__DATE_MIN_DAYS (-719162)
#define CRM__DATE_MAX_DAYS 2932896
#define CRM__DATETIME_MIN_MS ((int64_t)CRM__DATE_MIN_DAYS * 86400000)
#define CRM__DATETIME_MAX_MS ((int64_t)CRM__DATE_MAX_DAYS * 86400000 + 86399999)
/* "YYYY-MM-DD", a real calendar date, years 0001-9999 -> days since
 * 1970-01-01 (may be negative). -1 on failure. */
int crm__date_parse(const char *s, size_t n, int64_t *out_days);
/* days -> "YYYY-MM-DD"; returns 10; `out` must hold 11 bytes. */
size_t crm__date_format(int64_t days, char *out);
/* ISO 8601 date-time "YYYY-MM-DDTHH:MM[:SS[.fraction]]" followed by "Z" or
 * "+HH:MM"/"-HH:MM" (a space may replace 'T'; a zone is required) ->
 * milliseconds since the epoch, UTC (fraction beyond ms truncated).
 * -1 on failure (bad syntax, 25:00, Feb 30, ...). */
int crm__datetime_parse(const char *s, size_t n, int64_t *out_ms);
/* ms -> "YYYY-MM-DDTHH:MM:SS.mmmZ"; returns 24; `out` must hold 25 bytes. */
size_t crm__datetime_format(int64_t ms, char *out);
/* The same for a run of times written into one `out`: *day (INT64_MIN at
 * first) remembers the day whose date `out` already holds. */
size_t crm__datetime_format_run(int64_t ms, char *out, int64_t *day);
/* Days since epoch of a civil date, and back. */
int64_t crm__days_from_civil(int64_t y, unsigned m, unsigned d);
void crm__civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* ---- e-mail addresses and URLs (docs/metadata.md, "Types") ---- */
/* An RFC 5321 Mailbox, with RFC 6531's UTF-8 (JSON Schema's "email", and
 * "idn-email" for non-ASCII): a dot-string or quoted local part, then a
 * domain of at least two letter-digit-hyphen labels or an IPv4/IPv6
 * address literal. 1 when valid. */
int crm__email_valid(const char *s, size_t n);
/* An absolute http or https URL with a host: RFC 3986 (every character
 * allowed in its part, percent-encoding as %XX), with RFC 3987's non-ASCII
 * characters. 1 when valid. */
int crm__url_valid(const char *s, size_t n);

/* ---- UTF-8 ---- */
/* Length of the well-formed multi-byte UTF-8 sequence at p (lead byte
 * >= 0x80; `avail` bytes readable), or 0 when it is not one. */
size_t crm__utf8_seq(const unsigned char *p, size_t avail);
/* Number of code points in valid UTF-8 (no overlongs, no surrogates, at
 * most U+10FFFF), or -1 when `s` is not valid UTF-8. */
int64_t crm__utf8_length(const char *s, size_t n);

/* 1 when no byte of s[0..n) is NUL or above 0x7F: such text needs neither
 * the NUL check nor the UTF-8 one. */
int crm__ascii_text(const char *s, size_t n);

/* Text eight bytes at a time: `w` holds 8 bytes loaded with memcpy. Each
 * test is exact as a yes/no, whatever the byte order. */
#define CRM__BYTES(c) (UINT64_C(0x0101010101010101) * (uint64_t)(c))
/* Nonzero when a byte of `w` is below `n` (at most 0x80). */
static inline uint64_t crm__word_below(uint64_t w, unsigned n) { return (w - CRM__BYTES(n)) & ~w & CRM__BYTES(0x80); }
/* Nonzero when a byte of `w` is `c`. */
static inline uint64_t crm__word_has(uint64_t w, unsigned char c) { return crm__word_below(w ^ CRM__BYTES(c), 1); }
static inline uint64_t crm__word_non_ascii(uint64_t w) { return w & CRM__BYTES(0x80); }
/* Nonzero when a byte of `w` is escaped in a JSON string: a control
 * character, '"' or '\\'. */
static inline uint64_t crm__word_json_special(uint64_t w)
{
	return crm__word_below(w, 0x20) | crm__word_has(w, '"') | crm__word_has(w, '\\');
}

#endif
