/* Unit tests for lib/core/codec.c: exact decimals, JSON integers, dates,
 * date-times and UTF-8, with the hostile inputs each must refuse. */
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/codec.h"

/* Parse a C string; returns the parse result and stores the value. */
static int dec(const char *s, int scale, int64_t *v)
{
	*v = 12345; /* sentinel: failures must not matter, successes overwrite */
	return crm__decimal_parse(s, strlen(s), scale, v);
}

static int64_t dec_ok(const char *s, int scale)
{
	int64_t v;

	if (dec(s, scale, &v) != 0) {
		fprintf(stderr, "decimal_parse(\"%s\", %d) failed\n", s, scale);
		test_failures_++;
	}
	return v;
}

static int dec_bad(const char *s, int scale)
{
	int64_t v;

	return dec(s, scale, &v) == -1;
}

TEST(test_decimal_parse__scales_plain_decimals)
{
	CHECK_INT(dec_ok("1.50", 2), 150);
	CHECK_INT(dec_ok("1.5", 2), 150);
	CHECK_INT(dec_ok("1", 2), 100);
	CHECK_INT(dec_ok("0", 2), 0);
	CHECK_INT(dec_ok("-0", 2), 0);
	CHECK_INT(dec_ok("0.00", 2), 0);
	CHECK_INT(dec_ok("-0.5", 1), -5);
	CHECK_INT(dec_ok("-12.34", 2), -1234);
	CHECK_INT(dec_ok("12", 0), 12);
	CHECK_INT(dec_ok("0.000000001", 9), 1);
	CHECK_INT(dec_ok("1.123456789", 9), 1123456789);
}

TEST(test_decimal_parse__accepts_trailing_fraction_zeros_beyond_scale)
{
	CHECK_INT(dec_ok("1.500", 2), 150);
	CHECK_INT(dec_ok("1.50000000000000000000000000", 2), 150);
	CHECK_INT(dec_ok("7.0", 0), 7);
	CHECK_INT(dec_ok("-0.000", 0), 0);
}

TEST(test_decimal_parse__refuses_silent_rounding)
{
	CHECK(dec_bad("1.505", 2));
	CHECK(dec_bad("1.5", 0));
	CHECK(dec_bad("0.001", 2));
	CHECK(dec_bad("-0.05", 1));
	CHECK(dec_bad("1.0000000000000000000000001", 2));
	CHECK(dec_bad("1.55e-1", 2)); /* 0.155 */
	CHECK(dec_bad("1e-3", 2));
}

TEST(test_decimal_parse__applies_exponents_exactly)
{
	CHECK_INT(dec_ok("1e2", 2), 10000);
	CHECK_INT(dec_ok("1E2", 0), 100);
	CHECK_INT(dec_ok("1e+2", 0), 100);
	CHECK_INT(dec_ok("150e-2", 2), 150);
	CHECK_INT(dec_ok("1.5e-1", 2), 15);
	CHECK_INT(dec_ok("-2.5e1", 0), -25);
	CHECK_INT(dec_ok("12.5e-3", 4), 125);
	CHECK_INT(dec_ok("1e007", 0), 10000000);
	CHECK_INT(dec_ok("0.000000000000000000000000001e27", 0), 1);
	CHECK_INT(dec_ok("100000000000000000000000000000e-29", 1), 10);
}

TEST(test_decimal_parse__zero_with_huge_exponent_is_zero)
{
	CHECK_INT(dec_ok("0e999999999999999999999", 2), 0);
	CHECK_INT(dec_ok("0e-999999999999999999999", 2), 0);
	CHECK_INT(dec_ok("0.0e99999", 9), 0);
}

TEST(test_decimal_parse__rejects_overflow_at_int64_edges)
{
	CHECK_INT(dec_ok("9223372036854775807", 0), INT64_MAX);
	CHECK_INT(dec_ok("-9223372036854775808", 0), INT64_MIN);
	CHECK_INT(dec_ok("922337203685477580.7", 1), INT64_MAX);
	CHECK_INT(dec_ok("-9223372036.854775808", 9), INT64_MIN);
	CHECK(dec_bad("9223372036854775808", 0));
	CHECK(dec_bad("-9223372036854775809", 0));
	CHECK(dec_bad("9223372036854775807", 1));
	CHECK(dec_bad("10000000000", 9));
	CHECK(dec_bad("1e19", 0));
	CHECK_INT(dec_ok("1e18", 0), 1000000000000000000LL);
	CHECK(dec_bad("1e999999999999999999999", 0));
	CHECK(dec_bad("1e-999999999999999999999", 9));
	CHECK(dec_bad("99999999999999999999999999999999999999", 0));
	CHECK(dec_bad("18446744073709551616", 0)); /* 2^64: wraps to 0 if unchecked */
	CHECK(dec_bad("18446744073709551617", 0)); /* 2^64 + 1 */
}

/* Literals of up to 18 digits once scaled are read without a check per
 * digit: the same values on both sides of that edge. */
TEST(test_decimal_parse__reads_alike_up_to_and_past_18_scaled_digits)
{
	CHECK_INT(dec_ok("999999999999999999", 0), 999999999999999999LL);
	CHECK_INT(dec_ok("-999999999999999999", 0), -999999999999999999LL);
	CHECK_INT(dec_ok("9999999999999999.99", 2), 999999999999999999LL);
	CHECK_INT(dec_ok("9999999999999999.9", 2), 999999999999999990LL);
	CHECK(dec_bad("99999999999999999.99", 2));
	CHECK_INT(dec_ok("1000000000000000000", 0), 1000000000000000000LL);
	CHECK_INT(dec_ok("92233720368547758.07", 2), INT64_MAX);
	CHECK(dec_bad("92233720368547758.08", 2));
	CHECK_INT(dec_ok("999999999.999999999", 9), 999999999999999999LL);
	CHECK_INT(dec_ok("9223372036.854775807", 9), INT64_MAX);
	CHECK(dec_bad("9999999999.999999999", 9));
	CHECK_INT(dec_ok("-0.00", 2), 0);
	CHECK_INT(dec_ok("123", 0), 123);
	CHECK_INT(dec_ok("12345.67", 2), 1234567);
	CHECK_INT(dec_ok("1.5e0", 1), 15);
	CHECK(dec_bad("1.25", 1));
}

TEST(test_decimal_parse__follows_json_number_grammar)
{
	static const char *bad[] = {
		"", "-", "+1", "01", "-01", "00", "1.", ".5", "-.5", "1e", "1e+", "1e-", "1.e2", "1.5x",
		" 1", "1 ", "0x10", "1,5", "NaN", "Infinity", "-Infinity", "--1", "1..2", "1e2.5",
		"1e2e3", "١", "1_000", "e2",
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (!dec_bad(bad[i], 2)) {
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
			test_failures_++;
		}
}

TEST(test_decimal_parse__reads_only_n_bytes)
{
	int64_t v = 0;

	CHECK_INT(crm__decimal_parse("123abc", 3, 0, &v), 0);
	CHECK_INT(v, 123);
	CHECK_INT(crm__decimal_parse("1.25", 3, 1, &v), 0);
	CHECK_INT(v, 12);
	CHECK_INT(crm__decimal_parse("1.25", 0, 1, &v), -1);
}

TEST(test_decimal_parse__rejects_scale_out_of_range)
{
	CHECK(dec_bad("1", -1));
	CHECK(dec_bad("1", CRM__DECIMAL_MAX_SCALE + 1));
	CHECK_INT(dec_ok("1", CRM__DECIMAL_MAX_SCALE), 1000000000);
}

static const char *fmt_dec(int64_t v, int scale)
{
	static char out[32];
	size_t n = crm__decimal_format(v, scale, out);

	if (n != strlen(out)) {
		fprintf(stderr, "decimal_format length %zu != %zu\n", n, strlen(out));
		test_failures_++;
	}
	return out;
}

TEST(test_decimal_format__writes_exactly_scale_fraction_digits)
{
	CHECK_STR(fmt_dec(150, 2), "1.50");
	CHECK_STR(fmt_dec(-5, 1), "-0.5");
	CHECK_STR(fmt_dec(5, 2), "0.05");
	CHECK_STR(fmt_dec(-5, 3), "-0.005");
	CHECK_STR(fmt_dec(0, 2), "0.00");
	CHECK_STR(fmt_dec(-1250, 2), "-12.50");
	CHECK_STR(fmt_dec(1, 9), "0.000000001");
	CHECK_STR(fmt_dec(1000000000, 9), "1.000000000");
}

TEST(test_decimal_format__scale_zero_has_no_point)
{
	CHECK_STR(fmt_dec(0, 0), "0");
	CHECK_STR(fmt_dec(7, 0), "7");
	CHECK_STR(fmt_dec(-1, 0), "-1");
	CHECK_STR(fmt_dec(1234567890, 0), "1234567890");
}

TEST(test_decimal_format__handles_int64_extremes)
{
	CHECK_STR(fmt_dec(INT64_MIN, 0), "-9223372036854775808");
	CHECK_STR(fmt_dec(INT64_MAX, 0), "9223372036854775807");
	CHECK_STR(fmt_dec(INT64_MIN, 9), "-9223372036.854775808");
	CHECK_STR(fmt_dec(INT64_MAX, 9), "9223372036.854775807");
	CHECK_STR(fmt_dec(INT64_MIN, 1), "-922337203685477580.8");
}

TEST(test_decimal_format__round_trips_through_parse)
{
	static const int64_t vals[] = { 0, 1, -1, 9, 10, -10, 99, 100, 12345, -12345, 1000000007,
					INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1 };

	for (int scale = 0; scale <= CRM__DECIMAL_MAX_SCALE; scale++)
		for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
			char out[32];
			size_t n = crm__decimal_format(vals[i], scale, out);
			int64_t back = 0;

			CHECK_INT(crm__decimal_parse(out, n, scale, &back), 0);
			CHECK_INT(back, vals[i]);
		}
}

static int int_parse(const char *s, int64_t *v) { return crm__int_parse(s, strlen(s), v); }

TEST(test_int_parse__accepts_exact_integers_in_any_json_form)
{
	int64_t v = 0;

	CHECK_INT(int_parse("0", &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(int_parse("-0", &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(int_parse("42", &v), 0);
	CHECK_INT(v, 42);
	CHECK_INT(int_parse("-42", &v), 0);
	CHECK_INT(v, -42);
	CHECK_INT(int_parse("1e3", &v), 0);
	CHECK_INT(v, 1000);
	CHECK_INT(int_parse("2.0", &v), 0);
	CHECK_INT(v, 2);
	CHECK_INT(int_parse("1.0e1", &v), 0);
	CHECK_INT(v, 10);
	CHECK_INT(int_parse("100e-2", &v), 0);
	CHECK_INT(v, 1);
	CHECK_INT(int_parse("-9223372036854775808", &v), 0);
	CHECK_INT(v, INT64_MIN);
	CHECK_INT(int_parse("9223372036854775807", &v), 0);
	CHECK_INT(v, INT64_MAX);
}

TEST(test_int_parse__rejects_fractions_bad_syntax_and_overflow)
{
	static const char *bad[] = {
		"2.5", "1e-1", "0.1", "01", "+1", "", "-", " 1", "1 ", "1x", "9223372036854775808",
		"-9223372036854775809", "1e19", "true", "\"1\"", "0x1",
	};
	int64_t v;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (int_parse(bad[i], &v) != -1) {
			fprintf(stderr, "int_parse accepted \"%s\"\n", bad[i]);
			test_failures_++;
		}
}

static int date(const char *s, int64_t *d) { return crm__date_parse(s, strlen(s), d); }

TEST(test_date_parse__counts_days_from_the_epoch)
{
	int64_t d = 1;

	CHECK_INT(date("1970-01-01", &d), 0);
	CHECK_INT(d, 0);
	CHECK_INT(date("1970-01-02", &d), 0);
	CHECK_INT(d, 1);
	CHECK_INT(date("1969-12-31", &d), 0);
	CHECK_INT(d, -1);
	CHECK_INT(date("2000-03-01", &d), 0);
	CHECK_INT(d, 11017);
	CHECK_INT(date("2024-02-29", &d), 0);
	CHECK_INT(d, 19782);
	CHECK_INT(date("0001-01-01", &d), 0);
	CHECK_INT(d, -719162);
	CHECK_INT(date("9999-12-31", &d), 0);
	CHECK_INT(d, 2932896);
}

TEST(test_date_parse__rejects_impossible_dates)
{
	static const char *bad[] = {
		"2023-02-29", "1900-02-29", "2100-02-29", "2024-02-30", "2024-04-31", "2024-06-31",
		"2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32", "0000-12-31", "0000-01-01",
	};
	int64_t d;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (date(bad[i], &d) != -1) {
			fprintf(stderr, "date_parse accepted \"%s\"\n", bad[i]);
			test_failures_++;
		}
	CHECK_INT(date("2000-02-29", &d), 0); /* divisible by 400: leap */
}

TEST(test_date_parse__rejects_anything_but_yyyy_mm_dd)
{
	static const char *bad[] = {
		"", "2024-4-01", "2024-04-1", "24-04-01", "2024/04/01", "20240401", " 2024-04-01",
		"2024-04-01 ", "2024-04-01T00:00Z", "+024-04-01", "-024-04-01", "2024-04-0a", "12024-04-01",
		"2024-+4-01", "2024- 4-01", "2024-04--1",
	};
	int64_t d;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (date(bad[i], &d) != -1) {
			fprintf(stderr, "date_parse accepted \"%s\"\n", bad[i]);
			test_failures_++;
		}
	/* Only n bytes are read. */
	CHECK_INT(crm__date_parse("2024-04-01junk", 10, &d), 0);
	CHECK_INT(crm__date_parse("2024-04-01", 9, &d), -1);
}

TEST(test_date_format__round_trips_every_day_of_years_1_to_9999)
{
	char out[11];
	int64_t back, bad = 0;

	for (int64_t d = -719162; d <= 2932896; d++) {
		if (crm__date_format(d, out) != 10 || crm__date_parse(out, 10, &back) != 0 || back != d)
			bad++;
	}
	CHECK_INT(bad, 0);
	crm__date_format(0, out);
	CHECK_STR(out, "1970-01-01");
	crm__date_format(-1, out);
	CHECK_STR(out, "1969-12-31");
	crm__date_format(19782, out);
	CHECK_STR(out, "2024-02-29");
}

TEST(test_date_format__clamps_days_outside_four_digit_years)
{
	char out[11];

	CHECK_INT(crm__date_format(-719163, out), 10);
	CHECK_STR(out, "0001-01-01");
	CHECK_INT(crm__date_format(INT64_MIN, out), 10);
	CHECK_STR(out, "0001-01-01");
	CHECK_INT(crm__date_format(2932897, out), 10);
	CHECK_STR(out, "9999-12-31");
	CHECK_INT(crm__date_format(INT64_MAX, out), 10);
	CHECK_STR(out, "9999-12-31");
}

TEST(test_civil__matches_known_dates_and_round_trips_across_eras)
{
	int64_t y;
	unsigned m, d;
	int64_t bad = 0;

	CHECK_INT(crm__days_from_civil(1970, 1, 1), 0);
	CHECK_INT(crm__days_from_civil(2000, 1, 1), 10957);
	CHECK_INT(crm__days_from_civil(1, 1, 1), -719162);
	CHECK_INT(crm__days_from_civil(0, 3, 1), -719468);
	CHECK_INT(crm__days_from_civil(-1, 12, 31), -719529);
	crm__civil_from_days(-719469, &y, &m, &d);
	CHECK(y == 0 && m == 2 && d == 29); /* year 0 is a leap year */
	/* Every 1000th day over +-10 million years, plus every day near era edges. */
	for (int64_t day = -3652425000LL; day <= 3652425000LL; day += 997) {
		crm__civil_from_days(day, &y, &m, &d);
		if (m < 1 || m > 12 || d < 1 || d > 31 || crm__days_from_civil(y, m, d) != day)
			bad++;
	}
	for (int64_t day = -719468 - 146097 * 2 - 400; day <= -719468 + 146097 * 2 + 400; day++) {
		crm__civil_from_days(day, &y, &m, &d);
		if (crm__days_from_civil(y, m, d) != day)
			bad++;
	}
	CHECK_INT(bad, 0);
}

TEST(test_civil_from_days__has_no_overflow_at_int64_extremes)
{
	int64_t y;
	unsigned m, d;

	/* Run under UBSan: the classic days + 719468 would overflow here. */
	crm__civil_from_days(INT64_MAX, &y, &m, &d);
	CHECK(m >= 1 && m <= 12 && d >= 1 && d <= 31 && y > 0);
	crm__civil_from_days(INT64_MIN, &y, &m, &d);
	CHECK(m >= 1 && m <= 12 && d >= 1 && d <= 31 && y < 0);
}

static int dt(const char *s, int64_t *ms) { return crm__datetime_parse(s, strlen(s), ms); }

static int64_t dt_ok(const char *s)
{
	int64_t ms = 0;

	if (dt(s, &ms) != 0) {
		fprintf(stderr, "datetime_parse(\"%s\") failed\n", s);
		test_failures_++;
	}
	return ms;
}

TEST(test_datetime_parse__reads_every_allowed_shape)
{
	CHECK_INT(dt_ok("1970-01-01T00:00:00Z"), 0);
	CHECK_INT(dt_ok("1970-01-01T00:00Z"), 0);
	CHECK_INT(dt_ok("1970-01-01 00:00:00Z"), 0);
	CHECK_INT(dt_ok("1970-01-01T00:00:00.123Z"), 123);
	CHECK_INT(dt_ok("1970-01-01T00:00:00.1Z"), 100);
	CHECK_INT(dt_ok("1970-01-01T00:00:00.12Z"), 120);
	CHECK_INT(dt_ok("1970-01-01T00:00:01Z"), 1000);
	CHECK_INT(dt_ok("1970-01-02T10:20:30.456Z"), 86400000LL + 37230456LL);
	CHECK_INT(dt_ok("2024-02-29T23:59:59.999Z"), 19782LL * 86400000 + 86399999);
	CHECK_INT(dt_ok("1969-12-31T23:59:59.999Z"), -1);
}

TEST(test_datetime_parse__truncates_fraction_beyond_milliseconds)
{
	CHECK_INT(dt_ok("1970-01-01T00:00:00.1239Z"), 123);
	CHECK_INT(dt_ok("1970-01-01T00:00:00.999999999999999999999Z"), 999);
	CHECK_INT(dt_ok("1969-12-31T23:59:59.9999Z"), -1); /* truncated, not rounded up */
}

TEST(test_datetime_parse__applies_zone_offsets_to_utc)
{
	CHECK_INT(dt_ok("1970-01-01T01:00:00+01:00"), 0);
	CHECK_INT(dt_ok("1970-01-01T00:00:00-05:30"), (5 * 60 + 30) * 60000LL);
	CHECK_INT(dt_ok("1970-01-01T00:00+23:59"), -(23 * 60 + 59) * 60000LL);
	CHECK_INT(dt_ok("1970-01-01T00:00-00:00"), 0);
	CHECK_INT(dt_ok("1970-01-01T00:00:00.5+00:00"), 500);
}

TEST(test_datetime_parse__rejects_out_of_range_fields)
{
	static const char *bad[] = {
		"1970-01-01T24:00:00Z", "1970-01-01T25:00Z", "1970-01-01T23:60Z", "1970-01-01T23:59:60Z",
		"1970-01-01T23:59:61Z", "2023-02-29T00:00Z", "2024-02-30T00:00Z", "2024-13-01T00:00Z",
		"1970-01-01T00:00+24:00", "1970-01-01T00:00+23:60", "1970-01-01T00:00-99:00",
		"0000-01-01T00:00Z",
	};
	int64_t ms;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (dt(bad[i], &ms) != -1) {
			fprintf(stderr, "datetime_parse accepted \"%s\"\n", bad[i]);
			test_failures_++;
		}
}

TEST(test_datetime_parse__requires_a_zone_and_exact_syntax)
{
	static const char *bad[] = {
		"", "1970-01-01", "1970-01-01T00:00", "1970-01-01T00:00:00", "1970-01-01T00:00:00.123",
		"1970-01-01T00Z", "1970-01-01T0:00Z", "1970-01-01T00:0Z", "1970-01-01T00:00:0Z",
		"1970-01-01T00:00.5Z", "1970-01-01T00:00:00.Z", "1970-01-01T00:00:00,5Z",
		"1970-01-01t00:00Z", "1970-01-01_00:00Z", "1970-01-01T00:00z", "1970-01-01T00:00 Z",
		"1970-01-01T00:00Z ", "1970-01-01T00:00ZZ", "1970-01-01T00:00+0100", "1970-01-01T00:00+01",
		"1970-01-01T00:00+1:00", "1970-01-01T00:00+01:00:00", "1970-01-01T00:00UTC",
		"1970-01-01T+0:00Z", "1970-01-01T00:-1Z", " 1970-01-01T00:00Z", "1970-01-01T00:00:00.-1Z",
	};
	int64_t ms;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (dt(bad[i], &ms) != -1) {
			fprintf(stderr, "datetime_parse accepted \"%s\"\n", bad[i]);
			test_failures_++;
		}
}

TEST(test_datetime_parse__keeps_instants_within_formattable_years)
{
	int64_t ms;

	CHECK_INT(dt("0001-01-01T00:00Z", &ms), 0);
	CHECK_INT(dt("0001-01-01T00:00-01:00", &ms), 0);
	CHECK_INT(dt("0001-01-01T00:00+01:00", &ms), -1); /* year 0 in UTC */
	CHECK_INT(dt("9999-12-31T23:59:59.999Z", &ms), 0);
	CHECK_INT(dt("9999-12-31T23:00-01:00", &ms), -1); /* year 10000 in UTC */
}

TEST(test_datetime_format__writes_utc_with_milliseconds)
{
	char out[25];

	CHECK_INT(crm__datetime_format(0, out), 24);
	CHECK_STR(out, "1970-01-01T00:00:00.000Z");
	crm__datetime_format(-1, out);
	CHECK_STR(out, "1969-12-31T23:59:59.999Z");
	crm__datetime_format(86400000LL + 37230456LL, out);
	CHECK_STR(out, "1970-01-02T10:20:30.456Z");
	crm__datetime_format(dt_ok("2024-06-15T12:00:00.5+02:00"), out);
	CHECK_STR(out, "2024-06-15T10:00:00.500Z");
	CHECK_INT(crm__datetime_format(INT64_MIN, out), 24);
	CHECK_STR(out, "0001-01-01T00:00:00.000Z");
	CHECK_INT(crm__datetime_format(INT64_MAX, out), 24);
	CHECK_STR(out, "9999-12-31T23:59:59.999Z");
}

TEST(test_datetime_format__round_trips_through_parse)
{
	int64_t bad = 0, back;
	char out[25];
	const int64_t lo = dt_ok("0001-01-01T00:00Z"), hi = dt_ok("9999-12-31T23:59:59.999Z");

	/* A stride co-prime to days, hours and seconds visits varied times. */
	for (int64_t ms = lo; ms <= hi; ms += 3155695200007LL / 1000) {
		crm__datetime_format(ms, out);
		if (crm__datetime_parse(out, 24, &back) != 0 || back != ms)
			bad++;
	}
	crm__datetime_format(hi, out);
	if (crm__datetime_parse(out, 24, &back) != 0 || back != hi)
		bad++;
	CHECK_INT(bad, 0);
}

static int64_t u8(const char *s) { return crm__utf8_length(s, strlen(s)); }

TEST(test_utf8_length__counts_code_points)
{
	CHECK_INT(u8(""), 0);
	CHECK_INT(u8("abc"), 3);
	CHECK_INT(u8("\xc3\xa9"), 1);         /* é */
	CHECK_INT(u8("\xe2\x82\xac"), 1);     /* € */
	CHECK_INT(u8("\xf0\x9f\x98\x80"), 1); /* U+1F600 */
	CHECK_INT(u8("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"), 5);
	CHECK_INT(u8("\xc2\x80"), 1);         /* U+0080, smallest 2-byte */
	CHECK_INT(u8("\xe0\xa0\x80"), 1);     /* U+0800, smallest 3-byte */
	CHECK_INT(u8("\xed\x9f\xbf"), 1);     /* U+D7FF, just below surrogates */
	CHECK_INT(u8("\xee\x80\x80"), 1);     /* U+E000, just above */
	CHECK_INT(u8("\xef\xbf\xbf"), 1);     /* U+FFFF */
	CHECK_INT(u8("\xf0\x90\x80\x80"), 1); /* U+10000 */
	CHECK_INT(u8("\xf4\x8f\xbf\xbf"), 1); /* U+10FFFF */
	CHECK_INT(crm__utf8_length("a\0b", 3), 3);
}

TEST(test_utf8_length__rejects_overlongs_surrogates_and_out_of_range)
{
	static const char *bad[] = {
		"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xf0\x80\x80\x80",
		"\xf0\x8f\xbf\xbf",                          /* overlongs */
		"\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xa0\xbd\xed\xb8\x80", /* surrogates, CESU-8 */
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf7\xbf\xbf\xbf", /* > U+10FFFF */
		"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", "\xfe", "\xff",
		"\x80", "\xbf", "a\x80", "\xc3\xa9\xa9",     /* stray continuations */
		"\xc3\x28", "\xe2\x28\xa1", "\xe2\x82\x28", "\xf0\x28\x8c\xbc", "\xf0\x90\x28\xbc",
		"\xf0\x90\x8c\x28",                          /* bad continuations */
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (u8(bad[i]) != -1) {
			fprintf(stderr, "utf8_length accepted bad[%zu]\n", i);
			test_failures_++;
		}
}

TEST(test_utf8_length__rejects_every_truncated_sequence)
{
	static const char *full[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };

	for (size_t i = 0; i < sizeof full / sizeof *full; i++)
		for (size_t cut = 1; cut < strlen(full[i]); cut++) {
			char tmp[8];

			memcpy(tmp, full[i], cut);
			CHECK_INT(crm__utf8_length(tmp, cut), -1);
			tmp[cut] = 'x'; /* a following ASCII byte does not complete it */
			CHECK_INT(crm__utf8_length(tmp, cut + 1), -1);
		}
}

/* Reference: decode by arithmetic, then apply the Unicode rules. */
static int ref_valid(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return n == 1;
	if ((p[0] & 0xE0) == 0xC0)
		len = 2, cp = p[0] & 0x1F;
	else if ((p[0] & 0xF0) == 0xE0)
		len = 3, cp = p[0] & 0x0F;
	else if ((p[0] & 0xF8) == 0xF0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n != len)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3F);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
		return 0;
	return !(cp >= 0xD800 && cp <= 0xDFFF) && cp <= 0x10FFFF;
}

TEST(test_utf8_length__agrees_with_reference_on_all_short_sequences)
{
	unsigned char b[4];
	int64_t mismatches = 0;

	/* Every 1-, 2- and 3-byte string, and 4-byte strings over all lead and
	 * second bytes with two fixed tails. */
	for (unsigned a = 0; a < 256; a++) {
		b[0] = (unsigned char)a;
		mismatches += (crm__utf8_length((char *)b, 1) == 1) != ref_valid(b, 1);
		for (unsigned c = 0; c < 256; c++) {
			b[1] = (unsigned char)c;
			mismatches += (crm__utf8_length((char *)b, 2) == 1) != ref_valid(b, 2);
			for (unsigned e = 0; e < 256; e++) {
				b[2] = (unsigned char)e;
				mismatches += (crm__utf8_length((char *)b, 3) == 1) != ref_valid(b, 3);
			}
			b[2] = 0x80;
			b[3] = 0xBF;
			mismatches += (crm__utf8_length((char *)b, 4) == 1) != ref_valid(b, 4);
			b[2] = 0xBF;
			b[3] = 0x41;
			mismatches += (crm__utf8_length((char *)b, 4) == 1) != ref_valid(b, 4);
		}
	}
	CHECK_INT(mismatches, 0);
}

TEST(test_utf8_length__long_ascii_runs_keep_every_check)
{
	/* Text long enough for the eight-byte ASCII steps, with one non-ASCII
	 * sequence (good, bad, or cut short at the end) at every offset. */
	for (size_t at = 0; at < 24; at++) {
		char buf[32];

		memset(buf, 'a', sizeof buf);
		buf[5] = 0; /* a NUL is a code point like any other */
		memcpy(buf + at, "\xc3\xa9", 2); /* e acute: 2 bytes, 1 code point */
		CHECK_INT(crm__utf8_length(buf, 26), 25);
		buf[at] = (char)0xff;
		CHECK_INT(crm__utf8_length(buf, 26), -1);
		memset(buf, 'a', sizeof buf);
		buf[at] = (char)0xe4; /* a 3-byte lead with its tail cut off */
		CHECK_INT(crm__utf8_length(buf, at + 1), -1);
		CHECK_INT(crm__utf8_length(buf, at), (int64_t)at);
	}
}

/* ASCII without NUL, eight bytes at a time and then one: every byte value
 * at every offset of texts that end inside and after a word. */
TEST(test_ascii_text__every_byte_at_every_offset_of_words_and_tails)
{
	for (int c = 0; c < 256; c++)
		for (size_t n = 1; n <= 19; n++)
			for (size_t at = 0; at < n; at++) {
				char text[24];

				memset(text, 'a', sizeof text);
				text[at] = (char)c;
				if (crm__ascii_text(text, n) != (c >= 1 && c <= 0x7F)) {
					fprintf(stderr, "ascii_text: byte %#x at %zu of %zu\n", (unsigned)c, at, n);
					CHECK(0);
				}
				CHECK_INT(crm__ascii_text(text, at), 1); /* the bytes before it */
			}
	CHECK_INT(crm__ascii_text(NULL, 0), 1);
}

/* The JSON string writer against the escapes written one byte at a time,
 * for each byte value at every offset of a text long enough for the
 * eight-byte steps (and the room it reserves: ASan sees an overrun). */
TEST(test_json_str__every_byte_at_every_offset_escapes_as_one_at_a_time)
{
	for (int c = 1; c < 256; c++)
		for (size_t at = 0; at < 20; at += (c < 0x20 || c == '"' || c == '\\' || c == 0x80) ? 1 : 7) {
			char text[24], want[256], *w = want;
			crm__buf out = CRM__BUF_INIT;

			memset(text, 'x', sizeof text);
			text[at] = (char)c;
			*w++ = '"';
			for (size_t i = 0; i < sizeof text; i++) {
				unsigned char b = (unsigned char)text[i];
				if (b == '"' || b == '\\')
					w += sprintf(w, "\\%c", b);
				else if (b == '\n')
					w += sprintf(w, "\\n");
				else if (b == '\r')
					w += sprintf(w, "\\r");
				else if (b == '\t')
					w += sprintf(w, "\\t");
				else if (b == '\b')
					w += sprintf(w, "\\b");
				else if (b == '\f')
					w += sprintf(w, "\\f");
				else if (b < 0x20)
					w += sprintf(w, "\\u%04x", b);
				else
					*w++ = (char)b;
			}
			*w++ = '"';
			crm__json_str(&out, text, sizeof text);
			CHECK(out.len == (size_t)(w - want) && memcmp(out.p, want, out.len) == 0);
			crm__buf_free(&out);
		}
}

TEST_LIST(
	T(test_ascii_text__every_byte_at_every_offset_of_words_and_tails),
	T(test_json_str__every_byte_at_every_offset_escapes_as_one_at_a_time),
	T(test_utf8_length__long_ascii_runs_keep_every_check),
	T(test_decimal_parse__scales_plain_decimals),
	T(test_decimal_parse__accepts_trailing_fraction_zeros_beyond_scale),
	T(test_decimal_parse__refuses_silent_rounding),
	T(test_decimal_parse__applies_exponents_exactly),
	T(test_decimal_parse__zero_with_huge_exponent_is_zero),
	T(test_decimal_parse__rejects_overflow_at_int64_edges),
	T(test_decimal_parse__reads_alike_up_to_and_past_18_scaled_digits),
	T(test_decimal_parse__follows_json_number_grammar),
	T(test_decimal_parse__reads_only_n_bytes),
	T(test_decimal_parse__rejects_scale_out_of_range),
	T(test_decimal_format__writes_exactly_scale_fraction_digits),
	T(test_decimal_format__scale_zero_has_no_point),
	T(test_decimal_format__handles_int64_extremes),
	T(test_decimal_format__round_trips_through_parse),
	T(test_int_parse__accepts_exact_integers_in_any_json_form),
	T(test_int_parse__rejects_fractions_bad_syntax_and_overflow),
	T(test_date_parse__counts_days_from_the_epoch),
	T(test_date_parse__rejects_impossible_dates),
	T(test_date_parse__rejects_anything_but_yyyy_mm_dd),
	T(test_date_format__round_trips_every_day_of_years_1_to_9999),
	T(test_date_format__clamps_days_outside_four_digit_years),
	T(test_civil__matches_known_dates_and_round_trips_across_eras),
	T(test_civil_from_days__has_no_overflow_at_int64_extremes),
	T(test_datetime_parse__reads_every_allowed_shape),
	T(test_datetime_parse__truncates_fraction_beyond_milliseconds),
	T(test_datetime_parse__applies_zone_offsets_to_utc),
	T(test_datetime_parse__rejects_out_of_range_fields),
	T(test_datetime_parse__requires_a_zone_and_exact_syntax),
	T(test_datetime_parse__keeps_instants_within_formattable_years),
	T(test_datetime_format__writes_utc_with_milliseconds),
	T(test_datetime_format__round_trips_through_parse),
	T(test_utf8_length__counts_code_points),
	T(test_utf8_length__rejects_overlongs_surrogates_and_out_of_range),
	T(test_utf8_length__rejects_every_truncated_sequence),
	T(test_utf8_length__agrees_with_reference_on_all_short_sequences))
