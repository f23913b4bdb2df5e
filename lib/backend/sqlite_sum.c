/* crm_sum(x): the SQL sum the compiled reports use for integers and
 * decimals (scaled integers). SQLite's sum() fails the whole statement
 * with "integer overflow" even when only a partial sum leaves the 64-bit
 * range; this one adds exactly in 128 bits, as an aggregate and as a
 * window function, and returns a real number when the total does not fit,
 * which crm_report_next reports as the measure's overflow (run.c);
 * crm_sum_strict fails instead, for rollups (rollup.c). */
#include <stddef.h>
#include <stdint.h>

#include "sqlite_sum.h"

typedef struct wide_sum {
	uint64_t lo;   /* two's complement 128 bits: hi:lo */
	int64_t hi;
	double real;   /* real inputs (an overflow from an inner sum) */
	int64_t count; /* non-null inputs */
	int has_real;
} wide_sum;

/* hi:lo += sign * x */
static void add(wide_sum *s, int64_t x, int sign)
{
	uint64_t ux = (uint64_t)x, before = s->lo;
	int64_t xhi = x < 0 ? -1 : 0;

	if (sign > 0) {
		s->lo += ux;
		s->hi += xhi + (s->lo < before);
	} else {
		s->lo -= ux;
		s->hi -= xhi + (before < ux);
	}
}

static void step(sqlite3_context *ctx, sqlite3_value *v, int sign)
{
	wide_sum *s = sqlite3_aggregate_context(ctx, sizeof *s);

	if (!s) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	switch (sqlite3_value_numeric_type(v)) {
	case SQLITE_NULL: return;
	case SQLITE_INTEGER: add(s, sqlite3_value_int64(v), sign); break;
	default:
		s->real += sign * sqlite3_value_double(v);
		s->has_real = 1;
	}
	s->count += sign;
}

static void sum_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	step(ctx, argv[0], 1);
}

static void sum_inverse(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	step(ctx, argv[0], -1);
}

/* The total as an int64: 1 when it fits (and no real was added). */
static int total(const wide_sum *s, int64_t *out)
{
	/* the low half as signed; fits when the high half is only its sign */
	int64_t lo = s->lo > (uint64_t)INT64_MAX ? -(int64_t)(~s->lo) - 1 : (int64_t)s->lo;

	*out = lo;
	return !s->has_real && s->hi == (lo < 0 ? -1 : 0);
}

static void sum_value(sqlite3_context *ctx)
{
	wide_sum *s = sqlite3_aggregate_context(ctx, 0);
	int64_t v;

	if (!s || s->count == 0)
		sqlite3_result_null(ctx);
	else if (total(s, &v))
		sqlite3_result_int64(ctx, v);
	else
		sqlite3_result_double(ctx, (double)s->hi * 18446744073709551616.0 + (double)s->lo + s->real);
}

/* crm_sum_strict: the same, but a total out of range fails the statement
 * with SQLITE_TOOBIG, for sums that are stored (rollups). */
static void strict_value(sqlite3_context *ctx)
{
	wide_sum *s = sqlite3_aggregate_context(ctx, 0);
	int64_t v;

	if (s && s->count && !total(s, &v)) {
		sqlite3_result_error(ctx, "integer overflow", -1);
		sqlite3_result_error_code(ctx, SQLITE_TOOBIG);
	} else
		sum_value(ctx);
}

int crm__sqlite_register_sum(sqlite3 *sql)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, rc;

	rc = sqlite3_create_window_function(sql, "crm_sum", 1, flags, NULL, sum_step, sum_value, sum_value, sum_inverse,
					    NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(sql, "crm_sum_strict", 1, flags, NULL, NULL, sum_step, strict_value);
	return rc;
}
