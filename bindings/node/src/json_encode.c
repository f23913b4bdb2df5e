/*
 * JS values to JSON text for libcrm, in C so a record never goes through
 * JSON.stringify and back: Date becomes ISO 8601 UTC, BigInt its digits,
 * an object with toJSON (decimal libraries) what toJSON returns. What JSON
 * cannot carry (NaN, Infinity, functions, symbols, cycles) is a TypeError.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

#define MAX_DEPTH 256

static int fail(napi_env env, const char *msg)
{
	bool pending = false;
	napi_is_exception_pending(env, &pending);
	if (!pending)
		napi_throw_type_error(env, NULL, msg);
	return 0;
}

static void put_str(nbuf *b, const char *s)
{
	nbuf_put(b, s, strlen(s));
}

static void put_escaped(nbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	nbuf_put(b, "\"", 1);
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		nbuf_put(b, s + run, k - run);
		run = k + 1;
		if (c == '"')
			put_str(b, "\\\"");
		else if (c == '\\')
			put_str(b, "\\\\");
		else if (c == '\n')
			put_str(b, "\\n");
		else if (c == '\t')
			put_str(b, "\\t");
		else if (c == '\r')
			put_str(b, "\\r");
		else {
			char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
			put_str(b, e);
		}
	}
	nbuf_put(b, s + run, n - run);
	nbuf_put(b, "\"", 1);
}

static int put_js_string(napi_env env, napi_value v, nbuf *b)
{
	char small[256];
	size_t n = 0;
	if (napi_get_value_string_utf8(env, v, small, sizeof small, &n) != napi_ok)
		return fail(env, "cannot read a string");
	if (n < sizeof small - 1) {
		put_escaped(b, small, n);
		return 1;
	}
	napi_get_value_string_utf8(env, v, NULL, 0, &n);
	char *big = malloc(n + 1);
	if (!big)
		return fail(env, "out of memory");
	napi_get_value_string_utf8(env, v, big, n + 1, &n);
	put_escaped(b, big, n);
	free(big);
	return 1;
}

/* Howard Hinnant's days-to-civil: ms since the epoch to "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static int iso_time(double ms, char out[32])
{
	if (!isfinite(ms))
		return 0;
	int64_t t = (int64_t)ms;
	int64_t days = t / 86400000, rem = t % 86400000;
	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		return 0;
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, (int)m, (int)d, (int)(rem / 3600000),
		 (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
	return 1;
}

static int encode(napi_env env, napi_value v, nbuf *b, int depth);

static int encode_array(napi_env env, napi_value v, nbuf *b, int depth)
{
	uint32_t n = 0;
	napi_get_array_length(env, v, &n);
	nbuf_put(b, "[", 1);
	for (uint32_t k = 0; k < n; k++) {
		napi_value e;
		if (k)
			nbuf_put(b, ",", 1);
		if (napi_get_element(env, v, k, &e) != napi_ok || !encode(env, e, b, depth + 1))
			return 0;
	}
	nbuf_put(b, "]", 1);
	return 1;
}

static int encode_object(napi_env env, napi_value v, nbuf *b, int depth)
{
	napi_value keys, tojson;
	napi_valuetype t;
	uint32_t n = 0;
	int first = 1;
	/* toJSON first, as JSON.stringify does (decimal.js, big.js, Luxon, ...) */
	if (napi_get_named_property(env, v, "toJSON", &tojson) == napi_ok && napi_typeof(env, tojson, &t) == napi_ok &&
	    t == napi_function) {
		napi_value r;
		if (napi_call_function(env, v, tojson, 0, NULL, &r) != napi_ok)
			return 0;
		return encode(env, r, b, depth + 1);
	}
	if (napi_get_all_property_names(env, v, napi_key_own_only, napi_key_enumerable | napi_key_skip_symbols,
					napi_key_numbers_to_strings, &keys) != napi_ok)
		return fail(env, "cannot list an object's keys");
	napi_get_array_length(env, keys, &n);
	nbuf_put(b, "{", 1);
	for (uint32_t k = 0; k < n; k++) {
		napi_value key, val;
		napi_get_element(env, keys, k, &key);
		if (napi_get_property(env, v, key, &val) != napi_ok)
			return 0;
		napi_typeof(env, val, &t);
		if (t == napi_undefined || t == napi_function || t == napi_symbol)
			continue; /* left out, as JSON.stringify does */
		if (!first)
			nbuf_put(b, ",", 1);
		first = 0;
		if (!put_js_string(env, key, b))
			return 0;
		nbuf_put(b, ":", 1);
		if (!encode(env, val, b, depth + 1))
			return 0;
	}
	nbuf_put(b, "}", 1);
	return 1;
}

static int encode_number(napi_env env, napi_value v, nbuf *b)
{
	double d = 0;
	char s[40];
	napi_get_value_double(env, v, &d);
	if (!isfinite(d))
		return fail(env, "a number that is not finite (NaN, Infinity) has no JSON form");
	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		snprintf(s, sizeof s, "%" PRId64, (int64_t)d);
	else /* the shortest text that reads back as d, as JS writes it (0.1, not 0.10000000000000001) */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(s, sizeof s, "%.*g", prec, d);
			if (strtod(s, NULL) == d)
				break;
		}
	put_str(b, s);
	return 1;
}

static int encode(napi_env env, napi_value v, nbuf *b, int depth)
{
	napi_valuetype t;
	bool flag = false;
	if (depth > MAX_DEPTH)
		return fail(env, "a value nested too deeply (or cyclic) has no JSON form");
	if (napi_typeof(env, v, &t) != napi_ok)
		return fail(env, "cannot read a value");
	switch (t) {
	case napi_undefined:
	case napi_null:
		put_str(b, "null");
		return 1;
	case napi_boolean:
		napi_get_value_bool(env, v, &flag);
		put_str(b, flag ? "true" : "false");
		return 1;
	case napi_number:
		return encode_number(env, v, b);
	case napi_string:
		return put_js_string(env, v, b);
	case napi_bigint: {
		int64_t i = 0;
		char s[32];
		napi_get_value_bigint_int64(env, v, &i, &flag);
		if (!flag)
			return fail(env, "a BigInt outside the 64-bit range");
		snprintf(s, sizeof s, "%" PRId64, i);
		put_str(b, s);
		return 1;
	}
	case napi_object:
		if (napi_is_date(env, v, &flag) == napi_ok && flag) {
			double ms = 0;
			char s[32];
			napi_get_date_value(env, v, &ms);
			if (!iso_time(ms, s))
				return fail(env, "an invalid Date (or one outside years 0-9999)");
			put_escaped(b, s, strlen(s));
			return 1;
		}
		if (napi_is_array(env, v, &flag) == napi_ok && flag)
			return encode_array(env, v, b, depth);
		return encode_object(env, v, b, depth);
	default:
		return fail(env, "a function, symbol or external has no JSON form");
	}
}

int json_encode(napi_env env, napi_value v, nbuf *out)
{
	if (!encode(env, v, out, 0))
		return 0;
	if (out->failed)
		return fail(env, "out of memory");
	if (!out->p)
		nbuf_put(out, "", 0);
	return 1;
}
