/* The PostgreSQL backend's conversions: SQLSTATEs to crm codes, portable
 * placeholders to libpq's, and the text forms of the values the engines keep
 * as integers (decimals, datetimes) in PostgreSQL's natural types. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_scan.h"
#include "pg_int.h"

/* ---- errors ---- */

int crm__pg_code(const char *sqlstate)
{
	static const struct {
		const char *state; /* a full SQLSTATE, or a class of two characters */
		int code;
	} map[] = {
		{"23", CRM_ECONSTRAINT},
		{"40001", CRM_EBUSY},     /* serialization failure */
		{"40P01", CRM_EBUSY},     /* deadlock */
		{"55P03", CRM_EBUSY},     /* lock not available (lock_timeout) */
		{"22003", CRM_ELIMIT},    /* numeric value out of range */
		{"53200", CRM_ENOMEM},    /* out of memory */
		{"53", CRM_EIO},          /* disk full, too many connections */
		{"08", CRM_EIO},          /* connection */
		{"42501", CRM_EPERM},     /* insufficient privilege */
		{"25006", CRM_EPERM},     /* read-only transaction (SQLite: SQLITE_READONLY) */
		{"3D000", CRM_ENOTFOUND}, /* no such database */
	};

	if (!sqlstate)
		return CRM_ERROR;
	for (size_t k = 0; k < sizeof map / sizeof *map; k++)
		if (strncmp(sqlstate, map[k].state, strlen(map[k].state)) == 0)
			return map[k].code;
	return CRM_ERROR;
}

/* SQLite's words for a broken constraint ("UNIQUE constraint failed:
 * t.a, t.b"), which engines and hosts already know, with PostgreSQL's own
 * message after them. 0 when the server did not say enough. */
static int constraint_message(crm_db *db, const PGresult *res, const char *state, const char *msg)
{
	const char *table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
	const char *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	crm__buf m = CRM__BUF_INIT;
	const char *p, *end;
	int rc;

	if (!table)
		return 0;
	if (strcmp(state, "23502") == 0 && column)
		crm__buf_printf(&m, "NOT NULL constraint failed: %s.%s", table, column);
	else if (strcmp(state, "23505") == 0 && detail && strncmp(detail, "Key (", 5) == 0 &&
		 (end = strstr(detail, ")=("))) {
		/* "Key (a, b)=(1, 2) already exists." */
		crm__buf_puts(&m, "UNIQUE constraint failed: ");
		for (p = detail + 5; p < end;) {
			const char *comma = strstr(p, ", ");
			const char *stop = comma && comma < end ? comma : end;
			crm__buf_printf(&m, "%s%s.%.*s", p == detail + 5 ? "" : ", ", table, (int)(stop - p), p);
			p = stop == end ? end : stop + 2;
		}
	} else
		return 0;
	rc = crm__error(db, CRM_ECONSTRAINT, "postgresql: %s (%s)", crm__buf_cstr(&m), msg);
	crm__buf_free(&m);
	return rc;
}

int crm__pg_fail(crm_db *db, const PGresult *res)
{
	PGconn *c = db->conn ? PG(db)->c : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int code = crm__pg_code(state);
	size_t n;

	if (!res && c && PQstatus(c) != CONNECTION_BAD)
		return crm__error_oom(db); /* libpq could not allocate the result */
	if (!state && (!c || PQstatus(c) == CONNECTION_BAD))
		code = CRM_EIO;
	if (!msg)
		msg = res ? PQresultErrorMessage(res) : c ? PQerrorMessage(c) : "no connection";
	if (code == CRM_ECONSTRAINT && constraint_message(db, res, state, msg))
		return CRM_ECONSTRAINT;
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	return crm__error(db, code, "postgresql: %.*s", (int)n, msg);
}

/* ---- placeholders ---- */

/* The length of the quoted text or comment at sql[i], 0 when none starts there. */
static size_t skip_literal(const char *sql, size_t i, size_t len)
{
	size_t j = i + 1;

	if (sql[i] == '\'' || sql[i] == '"') {
		/* A doubled quote inside is an end and a new start: same result. */
		while (j < len && sql[j] != sql[i])
			j++;
		return (j < len ? j + 1 : len) - i;
	}
	if (sql[i] == '-' && j < len && sql[j] == '-') {
		while (j < len && sql[j] != '\n')
			j++;
		return j - i;
	}
	if (sql[i] == '/' && j < len && sql[j] == '*') {
		for (j++; j + 1 < len && !(sql[j] == '*' && sql[j + 1] == '/'); j++)
			;
		return (j + 1 < len ? j + 2 : len) - i;
	}
	return 0;
}

/* SQLite's numbering: `?N` is parameter N, a bare `?` one past the highest
 * number so far. */
void crm__pg_placeholders(crm__buf *out, const char *sql, size_t len, int *nparams, crm__buf *used)
{
	int max = 0;
	size_t i = 0, n;

	while (i < len) {
		if ((n = skip_literal(sql, i, len))) {
			crm__buf_put(out, sql + i, n);
			i += n;
		} else if (sql[i] == '?') {
			long k = 0;
			size_t j = i + 1;
			while (j < len && isdigit((unsigned char)sql[j]) && k < 100000)
				k = k * 10 + (sql[j++] - '0');
			if (j == i + 1)
				k = max + 1;
			if (k > max)
				max = (int)k;
			if (used && crm__buf_reserve(used, (size_t)k > used->len ? (size_t)k - used->len : 0) == 0) {
				if ((size_t)k > used->len) {
					memset(used->p + used->len, 0, (size_t)k - used->len);
					used->len = (size_t)k;
				}
				used->p[k - 1] = 1;
			}
			crm__buf_printf(out, "$%ld", k);
			i = j;
		} else
			crm__buf_putc(out, sql[i++]);
	}
	*nparams = max;
}

/* ---- decimals: scaled integers <-> numeric text ---- */

void crm__pg_decimal_text(char *out, int64_t scaled, int scale)
{
	uint64_t m = scaled < 0 ? 0 - (uint64_t)scaled : (uint64_t)scaled;
	char digits[24];
	int n = snprintf(digits, sizeof digits, "%" PRIu64, m), lead;

	if (scale < 0 || scale > 30)
		scale = 0;
	if (scaled < 0)
		*out++ = '-';
	if (scale == 0) {
		memcpy(out, digits, (size_t)n + 1);
		return;
	}
	lead = n - scale;
	if (lead <= 0) {
		*out++ = '0';
		*out++ = '.';
		memset(out, '0', (size_t)-lead);
		out += -lead;
		memcpy(out, digits, (size_t)n + 1);
		return;
	}
	memcpy(out, digits, (size_t)lead);
	out += lead;
	*out++ = '.';
	memcpy(out, digits + lead, (size_t)scale + 1);
}

/* Accumulate one digit, saturating: a numeric past 64 bits reads as the
 * nearest end (as SQLite reads an integer text too large). */
static uint64_t push_digit(uint64_t v, int d, int *over)
{
	if (v > (UINT64_MAX - (uint64_t)d) / 10) {
		*over = 1;
		return UINT64_MAX;
	}
	return v * 10 + (uint64_t)d;
}

int64_t crm__pg_decimal_parse(const char *s, int scale)
{
	uint64_t v = 0;
	int neg = 0, over = 0, frac = -1;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	for (; *s && !over; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			break;
		if (frac >= 0 && frac == scale) {
			v += *s >= '5' && !over; /* round half away from zero */
			break;
		}
		v = push_digit(v, *s - '0', &over);
		frac += frac >= 0;
	}
	for (int k = frac < 0 ? 0 : frac; k < scale && !over; k++)
		v = push_digit(v, 0, &over);
	if (v > (uint64_t)INT64_MAX)
		return neg ? INT64_MIN : INT64_MAX;
	return neg ? -(int64_t)v : (int64_t)v;
}

/* ---- datetimes: ms since the epoch <-> timestamptz text (UTC, ISO) ---- */

/* Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void crm__pg_datetime_text(char *out, int64_t ms)
{
	int64_t days = ms / 86400000, rem = ms % 86400000, y;
	int m, d;

	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	/* PostgreSQL has no year 0: 1 BC is year 0 of the proleptic calendar. */
	snprintf(out, 48, "%04" PRId64 "-%02d-%02d %02d:%02d:%02d.%03d+00%s", y > 0 ? y : 1 - y, m, d,
		 (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000),
		 y > 0 ? "" : " BC");
}

static long number(const char **s, int *digits)
{
	char *end;
	long v = strtol(*s, &end, 10);

	*digits = (int)(end - *s);
	*s = end;
	return v;
}

int64_t crm__pg_datetime_parse(const char *s)
{
	long y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, os = 0;
	int64_t ms = 0;
	int n, sign = 1;

	if (strcmp(s, "infinity") == 0)
		return INT64_MAX;
	if (strcmp(s, "-infinity") == 0)
		return INT64_MIN;
	y = number(&s, &n);
	if (*s++ != '-')
		return 0;
	mo = number(&s, &n);
	if (*s++ != '-')
		return 0;
	d = number(&s, &n);
	if (*s == ' ' || *s == 'T') {
		s++;
		h = number(&s, &n);
		mi = *s == ':' ? (s++, number(&s, &n)) : 0;
		sec = *s == ':' ? (s++, number(&s, &n)) : 0;
		if (*s == '.') {
			int k = 0;
			for (s++; isdigit((unsigned char)*s); s++, k++)
				if (k < 3)
					ms = ms * 10 + (*s - '0');
			for (; k < 3; k++)
				ms *= 10;
		}
		if (*s == '+' || *s == '-') {
			sign = *s++ == '-' ? -1 : 1;
			oh = number(&s, &n);
			om = *s == ':' ? (s++, number(&s, &n)) : 0;
			os = *s == ':' ? (s++, number(&s, &n)) : 0;
		}
	}
	if (strstr(s, " BC"))
		y = 1 - y;
	return (days_from_civil(y, (int)mo, (int)d) * 86400 + h * 3600 + mi * 60 + sec -
		sign * (oh * 3600 + om * 60 + os)) * 1000 + ms;
}

/* ---- multi-values: JSON arrays of strings <-> text[] ---- */

int crm__pg_array_from_json(crm__buf *out, const char *json, size_t n)
{
	crm__buf strings = CRM__BUF_INIT;
	size_t start = out->len;
	crm__jscan sc;
	crm__jval el;
	int r, k = 0;

	if (crm__jscan_init(&sc, json, n, 2, &strings)) {
		crm__buf_free(&strings);
		out->oom = 1;
		return -2;
	}
	crm__buf_putc(out, '{');
	while ((r = crm__jscan_element(&sc, &el)) == 1 && el.type == CRM__J_STRING) {
		/* Every element quoted: no word needs recognising (NULL, blanks). */
		crm__buf_puts(out, k++ ? ",\"" : "\"");
		for (size_t i = 0; i < el.n; i++) {
			if (el.p[i] == '"' || el.p[i] == '\\')
				crm__buf_putc(out, '\\');
			crm__buf_putc(out, el.p[i]);
		}
		crm__buf_putc(out, '"');
	}
	out->oom |= strings.oom; /* an element could not be decoded: no judgement on the text */
	crm__buf_free(&strings);
	if (r != 0) {
		out->len = start;
		crm__buf_put(out, json, n);
	} else
		crm__buf_putc(out, '}');
	crm__buf_putc(out, 0);
	return out->oom ? -2 : r != 0 ? -1 : 0;
}

int crm__pg_array_to_json(crm__buf *out, const char *text)
{
	crm__buf el = CRM__BUF_INIT;
	const char *p = text;
	size_t start = out->len;
	int k = 0;

	if (*p++ != '{')
		goto other;
	crm__buf_putc(out, '[');
	while (*p != '}') {
		crm__buf_reset(&el);
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				crm__buf_putc(&el, *p);
			}
			out->oom |= el.oom; /* an element cut short is no value */
			if (*p++ != '"')
				goto other;
		} else {
			/* Unquoted: no quote, backslash, comma or brace inside; NULL
			 * would be a null element, which no multi-value holds. */
			for (; *p && *p != ',' && *p != '}'; p++)
				crm__buf_putc(&el, *p);
			out->oom |= el.oom;
			if (!el.len)
				goto other;
		}
		if (k++)
			crm__buf_putc(out, ',');
		crm__json_str(out, el.p ? el.p : "", el.len);
		if (*p == ',')
			p++;
		else if (*p != '}')
			goto other;
	}
	crm__buf_free(&el);
	crm__buf_putc(out, ']');
	crm__buf_putc(out, 0);
	return out->oom ? -2 : 0;
other:
	crm__buf_free(&el);
	out->len = start;
	crm__buf_puts(out, text);
	crm__buf_putc(out, 0);
	return out->oom ? -2 : -1;
}

/* ---- the schema ---- */

int64_t crm__pg_lock_key(const char *schema)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a 64 offset basis */
	const char *parts[] = {"libcrm:", schema};

	for (int k = 0; k < 2; k++)
		for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++)
			h = (h ^ *p) * UINT64_C(0x100000001b3);
	return (int64_t)h; /* the bits as bigint: pg_advisory_xact_lock takes any */
}

int crm__pg_valid_schema(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 63 || (name[0] >= '0' && name[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(name[i] >= 'a' && name[i] <= 'z') && !(name[i] >= '0' && name[i] <= '9') && name[i] != '_')
			return 0;
	return 1;
}
