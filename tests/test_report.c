/* The report engine against hand-written SQL: every feature (dimensions
 * through references, time buckets in a time zone, measures, ratios,
 * having, order and limit, totals, period comparison, running and rolling
 * windows, funnels from an enum and from workflow history) is run on a few
 * thousand generated records and compared row by row with the same
 * question asked in SQL of a plain copy of the generated data (or computed
 * in C), on SQLite and on PostgreSQL alike; then drill-down
 * (the query returns exactly the records counted), explain and the index
 * it shows, parameters, output formats, versions, and bad definitions
 * refused with a path. Metadata is written with ' for " (see q()). */
#include <math.h>
#include <unistd.h>

#include "core/db_int.h"
#include "report/report_int.h"
#include "helpers.h"
#include "test.h"

#define NLEADS 3000

/* ---- helpers ---- */

/* `s` with every ' turned into " (rotating static buffers). */
static const char *q(const char *s)
{
	static char bufs[4][16384];
	static int k;
	char *out = bufs[k++ % 4];
	size_t i = 0;

	for (; s[i] && i < sizeof bufs[0] - 1; i++)
		out[i] = s[i] == '\'' ? '"' : s[i];
	out[i] = 0;
	return out;
}

static int apply(crm_db *db, const char *json) { return test_apply(db, q(json)); }

/* Apply q(json) expecting CRM_EINVAL with "path": path in the detail. */
#define CHECK_REFUSED(db, json, path)                                                                      \
	do {                                                                                               \
		CHECK_RC(db, crm_apply(db, q(json)), CRM_EINVAL);                                          \
		CHECK_HAS(crm_errdetail(db), "\"path\":\"" path "\"");                                     \
	} while (0)

static uint32_t rnd_state;
static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) & 0xFFFFFF;
}

/* Calendar arithmetic of the tests' own (Howard Hinnant's algorithms),
 * independent of libcrm's codecs. */
static int64_t days_of(int y, int m, int d)
{
	int yy = y - (m <= 2);
	int era = (yy >= 0 ? yy : yy - 399) / 400;
	unsigned yoe = (unsigned)(yy - era * 400);
	unsigned doy = (153u * (unsigned)(m + (m > 2 ? -3 : 9)) + 2) / 5 + (unsigned)d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + (int64_t)doe - 719468;
}

static void civil_of(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + (unsigned)era * 400) + (*m <= 2);
}

static int64_t utc_ms(int y, int m, int d, int hh, int mi, int ss)
{
	return (days_of(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss) * 1000;
}

static void iso(int64_t ms, char *out)
{
	int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	int64_t rest = ms - days * 86400000;
	int y, m, d;

	civil_of(days, &y, &m, &d);
	sprintf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, (int)(rest / 3600000), (int)(rest / 60000 % 60),
		(int)(rest / 1000 % 60), (int)(rest % 1000));
}

/* ISO 8601 week label of a civil date, by the ordinal-date rule. */
static int weeks_in(int y)
{
	int jan1 = (int)(((days_of(y, 1, 1) + 3) % 7 + 7) % 7) + 1; /* Mon=1..Sun=7 */
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return jan1 == 4 || (leap && jan1 == 3) ? 53 : 52;
}

static void iso_week(int64_t days, char *out)
{
	int y, m, d, wd = (int)(((days + 3) % 7 + 7) % 7) + 1;
	int doy, w;

	civil_of(days, &y, &m, &d);
	doy = (int)(days - days_of(y, 1, 1)) + 1;
	w = (doy - wd + 10) / 7;
	if (w < 1)
		w = weeks_in(--y);
	else if (w > weeks_in(y)) {
		w = 1;
		y++;
	}
	sprintf(out, "%04d-W%02d", y, w);
}

static void append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

static int64_t sql_int(crm_db *db, const char *sql) { return test_sql_int(db, sql); }

/* 'YYYY-MM-DD' of the instant `ms` seen at UTC + `minutes`. */
static void local_day(int64_t ms, int minutes, char *out)
{
	int64_t t = ms + (int64_t)minutes * 60000;
	int y, m, d;

	civil_of(t >= 0 ? t / 86400000 : -((-t + 86399999) / 86400000), &y, &m, &d);
	sprintf(out, "%04d-%02d-%02d", y, m, d);
}

/* Month and quarter numbers of a 'YYYY-MM' or 'YYYY-Qn' key in SQL both
 * backends accept: the previous month is the number minus one. */
#define MONTH_NO(k) "(CAST(substr(" k ", 1, 4) AS INTEGER) * 12 + CAST(substr(" k ", 6, 2) AS INTEGER))"
#define QUARTER_NO(k) "(CAST(substr(" k ", 1, 4) AS INTEGER) * 4 + CAST(substr(" k ", 7) AS INTEGER))"

/* ---- the data ---- */

static const char forms[] =
	"[{'form':'planet','fields':[{'name':'name','type':'text'}]},"
	"{'form':'zone','fields':[{'name':'name','type':'text'},{'name':'planet','type':'ref','form':'planet'}]},"
	"{'form':'grp','fields':[{'name':'name','type':'text'},{'name':'zone','type':'ref','form':'zone'}]},"
	"{'form':'account','fields':[{'name':'name','type':'text'},"
	"  {'name':'tier','type':'enum','options':['gold','silver']},{'name':'grp','type':'ref','form':'grp'}]},"
	"{'form':'customer','fields':[{'name':'name','type':'text'},"
	"  {'name':'industry','type':'enum','options':['tech','retail','finance']},"
	"  {'name':'account','type':'ref','form':'account'},{'name':'since','type':'date'},"
	"  {'name':'primary_lead','type':'ref','form':'lead','on_delete':'set_null'}]},"
	"{'form':'lead','fields':["
	"  {'name':'name','type':'text'},"
	"  {'name':'region','type':'enum','options':['north','south','east','west'],'index':true},"
	"  {'name':'channel','type':'enum','options':['web','wechat','douyin','show']},"
	"  {'name':'stage','type':'enum','options':['new','qualified','opportunity','won','lost']},"
	"  {'name':'score','type':'integer'},"
	"  {'name':'budget','type':'decimal','scale':2},"
	"  {'name':'weight','type':'number'},"
	"  {'name':'hot','type':'boolean'},"
	"  {'name':'customer','type':'ref','form':'customer'},"
	"  {'name':'at','type':'datetime'},"
	"  {'name':'day','type':'date'}]}]";

static const char *const regions[] = { "north", "south", "east", "west" };
static const char *const channels[] = { "web", "wechat", "douyin", "show" };
/* Enum values sort as text in reports (as in crm_query): the channels' row order. */
static const int channel_rows[] = { 2, 3, 0, 1 }; /* douyin, show, web, wechat */
static const char *const stages[] = { "new", "qualified", "opportunity", "won", "lost" };
static const char *const industries[] = { "tech", "retail", "finance" };

/* The leads as generated (0, NULL or "" where a value was left empty):
 * the oracles read this copy, not libcrm's tables, so they hold whatever
 * the backend stores. */
static struct lead_row {
	const char *region, *channel, *stage;
	int score, has_score, hot, customer;
	int64_t budget, at; /* budget scaled by 100; at in ms */
	int has_budget, has_at, has_weight;
	double weight;
	char day[11];
} leads[NLEADS];

static void sql_int_or_null(crm__buf *b, int has, int64_t v)
{
	if (has)
		crm__buf_printf(b, ",%lld", (long long)v);
	else
		crm__buf_puts(b, ",NULL");
}

static void sql_text_or_null(crm__buf *b, const char *s)
{
	if (s && *s)
		crm__buf_printf(b, ",'%s'", s); /* the test's own words: no quotes in them */
	else
		crm__buf_puts(b, ",NULL");
}

/* Run `sql` (the test's own, without parameters) or fail the test. */
static void exec_sql(crm_db *db, crm__buf *sql)
{
	if (sql->oom || crm__exec(db, crm__buf_cstr(sql)) != CRM_OK) {
		fprintf(stderr, "oracle SQL failed: %s\n", crm_errmsg(db));
		test_failures_++;
	}
	crm__buf_reset(sql);
}

/* o_lead, o_customer, o_account, o_grp, o_zone: plain tables (64-bit
 * integers, doubles, text) holding exactly what sales_db inserted, with the
 * local day of `at` in UTC (d_utc), +08:00 (d_cn) and -05:30 (d_w)
 * computed here in C. */
static void oracle_tables(crm_db *db, const uint32_t *customers)
{
	crm__buf sql = CRM__BUF_INIT;

	crm__buf_puts(&sql, "CREATE TABLE o_zone(id bigint, name text, planet bigint);"
			    "INSERT INTO o_zone VALUES (1, 'asia', 1);"
			    "CREATE TABLE o_grp(id bigint, name text, zone bigint);"
			    "INSERT INTO o_grp VALUES (1, 'g1', 1), (2, 'g2', NULL);"
			    "CREATE TABLE o_account(id bigint, name text, tier text, grp bigint);"
			    "INSERT INTO o_account VALUES (1, 'a1', 'gold', 1), (2, 'a2', 'silver', 2), (3, 'a3', 'gold', NULL),"
			    " (4, 'a4', NULL, NULL), (5, 'a5', 'silver', 1);"
			    "CREATE TABLE o_customer(id bigint, name text, industry text, account bigint, since text);"
			    "CREATE TABLE o_lead(id bigint, name text, region text, channel text, stage text, score bigint,"
			    " budget bigint, weight double precision, hot bigint, customer bigint, at bigint, day text,"
			    " d_utc text, d_cn text, d_w text)");
	exec_sql(db, &sql);
	crm__buf_puts(&sql, "INSERT INTO o_customer VALUES ");
	for (int i = 0; i < 40; i++) {
		uint32_t r = customers[i];
		crm__buf_printf(&sql, "%s(%d,'c%d'", i ? "," : "", i + 1, i);
		sql_text_or_null(&sql, r % 7 ? industries[r % 3] : NULL);
		sql_int_or_null(&sql, (r >> 4) % 5 != 0, 1 + (int)((r >> 8) % 5));
		crm__buf_printf(&sql, ",'2025-%02d-%02d')", 1 + (int)((r >> 12) % 12), 1 + (int)((r >> 16) % 28));
	}
	exec_sql(db, &sql);
	for (int i = 0; i < NLEADS; i++) {
		const struct lead_row *l = &leads[i];
		char utc[16] = "", cn[16] = "", w[16] = "";

		if (i % 500 == 0)
			crm__buf_puts(&sql, "INSERT INTO o_lead VALUES ");
		if (l->has_at) {
			local_day(l->at, 0, utc);
			local_day(l->at, 8 * 60, cn);
			local_day(l->at, -(5 * 60 + 30), w);
		}
		crm__buf_printf(&sql, "%s(%d,'l%d'", i % 500 ? "," : "", i + 1, i);
		sql_text_or_null(&sql, l->region);
		sql_text_or_null(&sql, l->channel);
		sql_text_or_null(&sql, l->stage);
		sql_int_or_null(&sql, l->has_score, l->score);
		sql_int_or_null(&sql, l->has_budget, l->budget);
		if (l->has_weight)
			crm__buf_printf(&sql, ",%.2f", l->weight);
		else
			crm__buf_puts(&sql, ",NULL");
		crm__buf_printf(&sql, ",%d", l->hot);
		sql_int_or_null(&sql, l->customer > 0, l->customer);
		sql_int_or_null(&sql, l->has_at, l->at);
		sql_text_or_null(&sql, l->day);
		sql_text_or_null(&sql, utc);
		sql_text_or_null(&sql, cn);
		sql_text_or_null(&sql, w);
		crm__buf_putc(&sql, ')');
		if (i % 500 == 499 || i == NLEADS - 1)
			exec_sql(db, &sql);
	}
	crm__buf_free(&sql);
}

/* Forms; 5 accounts, 40 customers and NLEADS leads from 2024-11 to
 * 2026-03 with no lead at all in June 2025 (UTC or +08:00); some values
 * left empty in every field. The oracle tables hold the same. */
static crm_db *sales_db(void)
{
	crm_db *db = test_db();
	char *buf = NULL, row[700];
	size_t len = 0, cap = 0;
	uint32_t customers[40];

	apply(db, forms);
	CHECK_OK(db, crm_record_insert_many(db, "planet", q("[{'name':'earth'}]"), NULL, NULL));
	CHECK_OK(db, crm_record_insert_many(db, "zone", q("[{'name':'asia','planet':1}]"), NULL, NULL));
	CHECK_OK(db, crm_record_insert_many(db, "grp", q("[{'name':'g1','zone':1},{'name':'g2'}]"), NULL, NULL));
	CHECK_OK(db, crm_record_insert_many(db, "account",
					    q("[{'name':'a1','tier':'gold','grp':1},{'name':'a2','tier':'silver','grp':2},"
					      "{'name':'a3','tier':'gold'},{'name':'a4'},{'name':'a5','tier':'silver','grp':1}]"),
					    NULL, NULL));
	rnd_state = 7;
	append(&buf, &len, &cap, "[");
	for (int i = 0; i < 40; i++) {
		uint32_t r = customers[i] = rnd();
		char ind[40] = "", acc[40] = "";
		if (r % 7)
			snprintf(ind, sizeof ind, ",\"industry\":\"%s\"", industries[r % 3]);
		if ((r >> 4) % 5)
			snprintf(acc, sizeof acc, ",\"account\":%d", 1 + (int)((r >> 8) % 5));
		snprintf(row, sizeof row, "%s{\"name\":\"c%d\"%s%s,\"since\":\"2025-%02d-%02d\"}", i ? "," : "", i, ind, acc,
			 1 + (int)((r >> 12) % 12), 1 + (int)((r >> 16) % 28));
		append(&buf, &len, &cap, row);
	}
	append(&buf, &len, &cap, "]");
	CHECK_OK(db, crm_record_insert_many(db, "customer", buf, NULL, NULL));
	len = 0;
	append(&buf, &len, &cap, "[");
	for (int i = 0; i < NLEADS; i++) {
		uint32_t r1 = rnd(), r2 = rnd(), r3 = rnd();
		int64_t at = utc_ms(2024, 11, 1, 0, 0, 0) + (int64_t)(r1 % 516) * 86400000 + (int64_t)(r2 % 86400) * 1000;
		char extra[400] = "", ts[32];
		size_t n = 0;
		struct lead_row *l = &leads[i];

		memset(l, 0, sizeof *l);
		/* nothing in June 2025, in UTC or in +08:00 */
		if (at >= utc_ms(2025, 5, 31, 15, 0, 0) && at < utc_ms(2025, 7, 1, 0, 0, 0))
			at = utc_ms(2025, 7, 2, 3, 0, 0) + (int64_t)(r3 % 1000) * 1000;
		iso(at, ts);
		if ((l->has_at = r1 % 23 != 0)) {
			l->at = at;
			n += (size_t)snprintf(extra + n, sizeof extra - n, ",\"at\":\"%s\"", ts);
		}
		if (r1 % 11) {
			l->region = regions[(r1 >> 10) % 4];
			n += (size_t)snprintf(extra + n, sizeof extra - n, ",\"region\":\"%s\"", l->region);
		}
		if ((l->has_score = r2 % 13 != 0)) {
			l->score = (int)(r2 >> 9) % 100;
			n += (size_t)snprintf(extra + n, sizeof extra - n, ",\"score\":%d", l->score);
		}
		if ((l->has_budget = r3 % 9 != 0)) {
			l->budget = (int64_t)((r3 >> 8) % 5000) * 100 + (r3 >> 3) % 100;
			n += (size_t)snprintf(extra + n, sizeof extra - n, ",\"budget\":\"%d.%02d\"", (int)(r3 >> 8) % 5000,
					      (int)(r3 >> 3) % 100);
		}
		if ((l->has_weight = r1 % 17 != 0)) {
			l->weight = (int)(r1 >> 13) % 10 + 0.25;
			n += (size_t)snprintf(extra + n, sizeof extra - n, ",\"weight\":%d.25", (int)(r1 >> 13) % 10);
		}
		if (r2 % 5) {
			l->customer = 1 + (int)(r2 >> 5) % 40;
			n += (size_t)snprintf(extra + n, sizeof extra - n, ",\"customer\":%d", l->customer);
		}
		if (r3 % 19) {
			snprintf(l->day, sizeof l->day, "2025-%02d-%02d", 1 + (int)(r3 >> 14) % 12, 1 + (int)(r3 >> 6) % 28);
			n += (size_t)snprintf(extra + n, sizeof extra - n, ",\"day\":\"%s\"", l->day);
		}
		l->channel = channels[(r2 >> 3) % 4];
		l->stage = stages[(r3 >> 5) % 5];
		l->hot = r1 % 3 == 0;
		snprintf(row, sizeof row, "%s{\"name\":\"l%d\",\"channel\":\"%s\",\"stage\":\"%s\",\"hot\":%s%s}", i ? "," : "", i,
			 l->channel, l->stage, l->hot ? "true" : "false", extra);
		append(&buf, &len, &cap, row);
	}
	append(&buf, &len, &cap, "]");
	CHECK_OK(db, crm_record_insert_many(db, "lead", buf, NULL, NULL));
	free(buf);
	oracle_tables(db, customers);
	return db;
}

/* ---- comparing a report with SQL ---- */

static int values_differ(crm_report *r, crm__stmt *st, int i)
{
	int rn = crm_report_is_null(r, i), sn = crm__column_type(st, i) == CRM__SQL_NULL;

	if (rn || sn)
		return rn != sn;
	switch (crm_report_column_type(r, i)) {
	case CRM_TYPE_NUMBER: {
		double a = crm_report_double(r, i), b = crm__column_double(st, i);
		return fabs(a - b) > 1e-9 * fmax(1, fmax(fabs(a), fabs(b)));
	}
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_DECIMAL:
	case CRM_TYPE_BOOLEAN:
	case CRM_TYPE_DATETIME:
	case CRM_TYPE_REF: return crm_report_int64(r, i) != crm__column_int64(st, i);
	default: return strcmp(crm_report_text(r, i), crm__column_text(st, i)) != 0;
	}
}

/* Run report `name` and the SQL; every row and column must agree (by the
 * report column's type: decimals as scaled integers, numbers within 1e-9).
 * Returns the number of rows, -1 on failure. */
static int same_as_sql_(crm_db *db, const char *name, const char *params, const char *sql, int line)
{
	crm_report *r = NULL;
	crm__stmt *st = NULL;
	int rows = 0, bad = 0;

	if (crm_report_run(&r, db, name, params ? q(params) : NULL) != CRM_OK) {
		fprintf(stderr, "line %d: report %s failed: %s\n", line, name, crm_errdetail(db));
		test_failures_++;
		return -1;
	}
	if (db->be->prepare(db, sql, strlen(sql), &st) != CRM_OK) {
		fprintf(stderr, "line %d: bad test SQL: %s\n", line, crm_errmsg(db));
		test_failures_++;
		crm_report_free(r);
		return -1;
	}
	if (crm__column_count(st) != crm_report_column_count(r)) {
		fprintf(stderr, "line %d: %d columns, the SQL has %d\n", line, crm_report_column_count(r),
			crm__column_count(st));
		bad++;
	}
	while (!bad) {
		int a = crm_report_next(r), b = crm__step(st);
		if (a == CRM_DONE && b == CRM_DONE)
			break;
		if (a != CRM_ROW || b != CRM_ROW) {
			fprintf(stderr, "line %d: row %d: report %s, SQL %s\n", line, rows, crm_errstr(a),
				b == CRM_ROW ? "has a row" : "done");
			bad++;
			break;
		}
		for (int i = 0; i < crm_report_column_count(r); i++)
			if (values_differ(r, st, i) && bad++ < 5)
				fprintf(stderr, "line %d: row %d column %s: report %s, SQL %s\n  row %s\n", line, rows,
					crm_report_column_name(r, i), crm_report_text(r, i) ? crm_report_text(r, i) : "NULL",
					crm__column_text(st, i) ? crm__column_text(st, i) : "NULL",
					crm_report_json(r));
		rows++;
	}
	crm__finalize(st);
	crm_report_free(r);
	if (bad) {
		test_failures_++;
		return -1;
	}
	return rows;
}
#define same_as_sql(db, name, params, sql) same_as_sql_(db, name, params, sql, __LINE__)

/* Every row of a report as JSON lines (malloc'ed), or NULL on failure. */
static char *report_rows(crm_db *db, const char *name, const char *params)
{
	crm_report *r = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if ((rc = crm_report_run(&r, db, name, params ? q(params) : NULL)) != CRM_OK) {
		fprintf(stderr, "report %s failed: %s\n", name, crm_errdetail(db));
		test_failures_++;
		return NULL;
	}
	append(&buf, &len, &cap, "");
	while ((rc = crm_report_next(r)) == CRM_ROW) {
		append(&buf, &len, &cap, crm_report_json(r));
		append(&buf, &len, &cap, "\n");
	}
	CHECK_INT(rc, CRM_DONE);
	crm_report_free(r);
	return buf;
}

/* How many records crm_count finds for a drill-down of `row` (-1 on failure). */
static int64_t drill_count_in(crm_db *db, const char *form, const char *name, const char *params, const char *row)
{
	char *query = NULL;
	int64_t n = -1;

	if (crm_report_drill(db, name, params, row, &query) != CRM_OK) {
		fprintf(stderr, "drill %s %s failed: %s\n", name, row, crm_errdetail(db));
		test_failures_++;
		return -1;
	}
	if (crm_count(db, form, query, &n) != CRM_OK) {
		fprintf(stderr, "drill query %s failed: %s\n", query, crm_errdetail(db));
		test_failures_++;
	}
	crm_free(query);
	return n;
}

/* For every row of the report: drilling down finds exactly `count_col`'s records. */
/* Every row of report `name` on form `form`: its drill-down finds exactly
 * the records counted in column `count_col`. */
static void check_drills_in(crm_db *db, const char *form, const char *name, const char *params, int count_col)
{
	crm_report *r = NULL;
	int rows = 0;

	if (crm_report_run(&r, db, name, params) != CRM_OK) {
		fprintf(stderr, "report %s failed: %s\n", name, crm_errdetail(db));
		test_failures_++;
		return;
	}
	while (crm_report_next(r) == CRM_ROW) {
		int64_t n = drill_count_in(db, form, name, params, crm_report_json(r));
		if (n != crm_report_int64(r, count_col)) {
			fprintf(stderr, "drill of %s row %s: %lld records\n", name, crm_report_json(r), (long long)n);
			test_failures_++;
		}
		rows++;
	}
	crm_report_free(r);
	CHECK(rows > 0);
}

static void check_drills(crm_db *db, const char *name, const char *params, int count_col)
{
	check_drills_in(db, "lead", name, params, count_col);
}

/* ---- dimensions and measures ---- */

TEST(test_report_measures__every_aggregate_matches_sql_with_nulls)
{
	crm_db *db = sales_db();

	apply(db, "{'report':'by_region_channel','source':'lead',"
		  " 'dimensions':['region',{'field':'channel'}],"
		  " 'measures':[{'name':'leads','agg':'count'},"
		  "  {'name':'customers','agg':'count_distinct','field':'customer'},"
		  "  {'name':'scored','agg':'count','field':'score'},"
		  "  {'name':'budget','agg':'sum','field':'budget'},"
		  "  {'name':'avg_budget','agg':'avg','field':'budget'},"
		  "  {'name':'min_score','agg':'min','field':'score'},"
		  "  {'name':'max_budget','agg':'max','field':'budget'},"
		  "  {'name':'weight','agg':'sum','field':'weight'},"
		  "  {'name':'avg_score','agg':'avg','field':'score'},"
		  "  {'name':'first_at','agg':'min','field':'at'},"
		  "  {'name':'hot_leads','agg':'count','filter':{'field':'hot','op':'eq','value':true}},"
		  "  {'name':'avg_hot_budget','agg':'avg','field':'budget','filter':{'field':'hot','op':'eq','value':true}}]}");
	CHECK_INT(same_as_sql(db, "by_region_channel", NULL,
			      "SELECT region, channel, count(*), count(DISTINCT customer), count(score), sum(budget),"
			      " avg(budget) / 100.0, min(score), max(budget), sum(weight), avg(score), min(at),"
			      " sum(hot), avg(CASE WHEN hot = 1 THEN budget END) / 100.0"
			      " FROM o_lead GROUP BY region, channel ORDER BY region NULLS FIRST, channel NULLS FIRST"),
		  5 * 4);
	/* the empty region is a group of its own, first */
	CHECK(sql_int(db, "SELECT count(*) FROM lead WHERE region IS NULL") > 0);
	crm_close(db);
}

TEST(test_report_measures__no_dimensions_is_one_row_even_without_records)
{
	crm_db *db = sales_db();

	apply(db, "{'report':'all','source':'lead','measures':[{'name':'n','agg':'count'},{'name':'b','agg':'sum','field':'budget'}],"
		  " 'filter':{'field':'score','op':'gt','param':'min'}}");
	CHECK_INT(same_as_sql(db, "all", "{'min':50}", "SELECT count(*), sum(budget) FROM o_lead WHERE score > 50"), 1);
	CHECK_INT(same_as_sql(db, "all", "{'min':1000}", "SELECT 0, NULL"), 1);
	/* grouped: no records, no rows; with totals, one total row of nothing */
	apply(db, "[{'report':'none','source':'lead','dimensions':['region'],'measures':[{'name':'n','agg':'count'}],"
		  " 'filter':{'field':'score','op':'gt','param':'min'}},"
		  "{'report':'none_tot','source':'lead','dimensions':['region','channel'],'totals':true,"
		  " 'measures':[{'name':'n','agg':'count'},{'name':'b','agg':'sum','field':'budget'}],"
		  " 'filter':{'field':'score','op':'gt','param':'min'}}]");
	CHECK_INT(same_as_sql(db, "none", "{'min':1000}", "SELECT 1, 2 WHERE 1 = 0"), 0);
	CHECK_INT(same_as_sql(db, "none_tot", "{'min':1000}", "SELECT NULL, NULL, 0, NULL, 'total'"), 1);
	crm_close(db);
}

TEST(test_report_measures__decimal_sums_are_exact)
{
	crm_db *db = test_db();
	char *buf = NULL, *out = NULL;
	size_t len = 0, cap = 0;

	apply(db, "{'form':'pay','fields':[{'name':'amount','type':'decimal','scale':2},{'name':'kind','type':'text'}]}");
	append(&buf, &len, &cap, "[");
	for (int i = 0; i < 1000; i++)
		append(&buf, &len, &cap, i ? ",{\"amount\":0.10,\"kind\":\"a\"}" : "{\"amount\":0.10,\"kind\":\"a\"}");
	append(&buf, &len, &cap, ",{\"amount\":\"0.01\",\"kind\":\"b\"},{\"amount\":\"0.02\",\"kind\":\"b\"}]");
	CHECK_OK(db, crm_record_insert_many(db, "pay", buf, NULL, NULL));
	free(buf);
	apply(db, "{'report':'pay_sum','source':'pay','dimensions':['kind'],"
		  " 'measures':[{'name':'total','agg':'sum','field':'amount'},{'name':'mean','agg':'avg','field':'amount'},"
		  "  {'name':'top','agg':'max','field':'amount'}],'totals':true}");
	CHECK_OK(db, crm_report_output(db, "pay_sum", NULL, "json", &out));
	CHECK_HAS(out, "{\"kind\":\"a\",\"total\":100.00,\"mean\":0.1,\"top\":0.10,\"_total\":null}");
	CHECK_HAS(out, "{\"kind\":\"b\",\"total\":0.03,\"mean\":0.015,\"top\":0.02,\"_total\":null}");
	CHECK_HAS(out, "{\"kind\":null,\"total\":100.03,");
	CHECK_HAS(out, "{\"name\":\"total\",\"label\":\"total\",\"type\":\"decimal\",\"scale\":2}");
	crm_free(out);
	CHECK_OK(db, crm_report_output(db, "pay_sum", NULL, "csv", &out));
	CHECK_STR(out, "kind,total,mean,top,_total\na,100.00,0.1,0.10,\nb,0.03,0.015,0.02,\n,100.03,0.09983033932135729,0.10,total\n");
	crm_free(out);
	crm_close(db);
}

/* ---- references ---- */

/* Report `name` fails with CRM_ELIMIT naming `column` on the cursor, in
 * JSON and in CSV, and gives no output. */
static void check_overflow(crm_db *db, const char *name, const char *column)
{
	static const char *const formats[] = { "json", "csv" };
	char want[96];
	crm_report *r = NULL;
	int rc;

	snprintf(want, sizeof want, "measure '%s' overflows", column);
	CHECK_OK(db, crm_report_run(&r, db, name, NULL));
	while ((rc = crm_report_next(r)) == CRM_ROW)
		;
	CHECK_INT(rc, CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), want);
	CHECK_INT(crm_report_next(r), CRM_ELIMIT);
	crm_report_free(r);
	for (int f = 0; f < 2; f++) {
		char *out = NULL;
		CHECK_RC(db, crm_report_output(db, name, NULL, formats[f], &out), CRM_ELIMIT);
		CHECK_HAS(crm_errmsg(db), want);
		CHECK(out == NULL);
	}
	snprintf(want, sizeof want, "\"column\":\"%s\"", column);
	CHECK_HAS(crm_errdetail(db), want);
}

TEST(test_report_measures__sums_past_64_bits_are_a_clear_error_in_every_output)
{
	crm_db *db = test_db();
	char *out = NULL;

	apply(db, "{'form':'p','fields':[{'name':'i','type':'integer'},{'name':'d','type':'decimal','scale':2},"
		  "{'name':'x','type':'number'},{'name':'at','type':'datetime'}]}");
	CHECK_OK(db, crm_record_insert_many(db, "p",
					    q("[{'i':9223372036854775807,'d':'92233720368547758.07','x':1e308,'at':'2026-01-05T00:00:00Z'},"
					      "{'i':9223372036854775807,'d':'92233720368547758.07','x':1e308,'at':'2026-02-05T00:00:00Z'}]"),
					    NULL, NULL));
	apply(db, "[{'report':'si','source':'p','measures':[{'name':'total_i','agg':'sum','field':'i'}]},"
		  "{'report':'sd','source':'p','measures':[{'name':'total_d','agg':'sum','field':'d'}]},"
		  "{'report':'sx','source':'p','measures':[{'name':'total_x','agg':'sum','field':'x'}]},"
		  "{'report':'run','source':'p','dimensions':[{'field':'at','bucket':'month'}],"
		  " 'measures':[{'name':'m','agg':'sum','field':'i'}],'running':['m']},"
		  "{'report':'avgs','source':'p','measures':[{'name':'ai','agg':'avg','field':'i'},"
		  " {'name':'ad','agg':'avg','field':'d'}]}]");
	check_overflow(db, "si", "total_i");
	check_overflow(db, "sd", "total_d");
	check_overflow(db, "sx", "total_x");
	/* each month's sum fits; the running total does not */
	check_overflow(db, "run", "m_running");
	/* an average of values whose sum passes 64 bits is still their average */
	CHECK_OK(db, crm_report_output(db, "avgs", NULL, "json", &out));
	CHECK_HAS(out, "\"rows\":[{\"ai\":9.223372036854776e+18,\"ad\":9.223372036854776e+16}]");
	crm_free(out);
	/* a partial sum past the range that comes back is exact, as integers are */
	CHECK_OK(db, crm_record_insert(db, "p", q("{'i':-9223372036854775807,'d':'-92233720368547758.07'}"), NULL));
	CHECK_OK(db, crm_record_insert(db, "p", q("{'i':-9223372036854775807,'d':'-1'}"), NULL));
	CHECK_OK(db, crm_report_output(db, "si", NULL, "json", &out));
	CHECK_HAS(out, "\"rows\":[{\"total_i\":0}]");
	crm_free(out);
	CHECK_OK(db, crm_report_output(db, "sd", NULL, "csv", &out));
	CHECK_STR(out, "total_d\n92233720368547757.07\n");
	crm_free(out);
	crm_close(db);
}

TEST(test_report_paths__dimensions_filters_and_measures_through_references)
{
	crm_db *db = sales_db();

	apply(db, "{'report':'by_industry','source':'lead',"
		  " 'dimensions':[{'field':'customer.industry'},{'field':'customer.account.tier','name':'tier'}],"
		  " 'measures':[{'name':'leads','agg':'count'},{'name':'budget','agg':'sum','field':'budget'},"
		  "  {'name':'accounts','agg':'count_distinct','field':'customer.account'}],"
		  " 'filter':{'or':[{'field':'customer.industry','op':'ne','value':'retail'},{'field':'region','op':'eq','value':'north'}]}}");
	CHECK(same_as_sql(db, "by_industry", NULL,
			  "SELECT c.industry, a.tier, count(*), sum(l.budget), count(DISTINCT c.account)"
			  " FROM o_lead l LEFT JOIN o_customer c ON c.id = l.customer LEFT JOIN o_account a ON a.id = c.account"
			  " WHERE c.industry IS DISTINCT FROM 'retail' OR l.region = 'north' GROUP BY 1, 2"
			  " ORDER BY 1 NULLS FIRST, 2 NULLS FIRST") > 5);
	/* four references deep */
	apply(db, "{'report':'by_zone','source':'lead','dimensions':[{'field':'customer.account.grp.zone.name','name':'zone'}],"
		  " 'measures':[{'name':'leads','agg':'count'}],'order':['-leads']}");
	CHECK_INT(same_as_sql(db, "by_zone", NULL,
			      "SELECT z.name, count(*) FROM o_lead l LEFT JOIN o_customer c ON c.id = l.customer"
			      " LEFT JOIN o_account a ON a.id = c.account LEFT JOIN o_grp g ON g.id = a.grp"
			      " LEFT JOIN o_zone z ON z.id = g.zone GROUP BY 1 ORDER BY 2 DESC, 1 NULLS FIRST"),
		  2);
	crm_close(db);
}

/* ---- time buckets ---- */

TEST(test_report_buckets__month_quarter_year_day_in_a_time_zone_match_sql)
{
	crm_db *db = sales_db();

	apply(db, "[{'report':'monthly','source':'lead','timezone':'+08:00',"
		  " 'dimensions':[{'field':'at','bucket':'month'}],'measures':[{'name':'n','agg':'count'}]},"
		  "{'report':'quarterly','source':'lead','timezone':'-05:30',"
		  " 'dimensions':[{'field':'at','bucket':'quarter'},'channel'],'measures':[{'name':'n','agg':'count'}]},"
		  "{'report':'yearly','source':'lead','dimensions':[{'field':'at','bucket':'year'}],'measures':[{'name':'n','agg':'count'}]},"
		  "{'report':'daily','source':'lead','timezone':'+08:00','dimensions':[{'field':'day','bucket':'day'}],"
		  " 'measures':[{'name':'n','agg':'count'}]},"
		  "{'report':'day_months','source':'lead','dimensions':[{'field':'day','bucket':'month','name':'m'},"
		  "  {'field':'customer.since','bucket':'quarter','name':'since_q'}],'measures':[{'name':'n','agg':'count'}]}]");
	CHECK(same_as_sql(db, "monthly", NULL,
			  "SELECT substr(d_cn, 1, 7), count(*) FROM o_lead GROUP BY 1 ORDER BY 1 NULLS FIRST") > 15);
	CHECK(same_as_sql(db, "quarterly", NULL,
			  "SELECT substr(d_w, 1, 4) || '-Q' || ((CAST(substr(d_w, 6, 2) AS INTEGER) + 2) / 3), channel, count(*)"
			  " FROM o_lead GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST") > 20);
	CHECK_INT(same_as_sql(db, "yearly", NULL,
			      "SELECT substr(d_utc, 1, 4), count(*) FROM o_lead GROUP BY 1 ORDER BY 1 NULLS FIRST"),
		  4);
	CHECK(same_as_sql(db, "daily", NULL, "SELECT day, count(*) FROM o_lead GROUP BY 1 ORDER BY 1 NULLS FIRST") > 300);
	CHECK(same_as_sql(db, "day_months", NULL,
			  "SELECT substr(l.day, 1, 7), substr(c.since, 1, 4) || '-Q' || ((CAST(substr(c.since, 6, 2) AS INTEGER) + 2) / 3),"
			  " count(*) FROM o_lead l LEFT JOIN o_customer c ON c.id = l.customer GROUP BY 1, 2"
			  " ORDER BY 1 NULLS FIRST, 2 NULLS FIRST") > 40);
	/* June 2025 had no lead: no row for it */
	CHECK_INT(sql_int(db, "SELECT count(*) FROM o_lead WHERE substr(d_cn, 1, 7) = '2025-06'"), 0);
	crm_close(db);
}

TEST(test_report_buckets__year_boundary_depends_on_the_time_zone)
{
	crm_db *db = test_db();
	char *rows;

	apply(db, "{'form':'ev','fields':[{'name':'at','type':'datetime'}]}");
	CHECK_OK(db, crm_record_insert_many(db, "ev",
					    q("[{'at':'2025-12-31T23:30:00Z'},{'at':'2025-12-31T15:59:59Z'},"
					      "{'at':'2026-01-01T00:00:00+08:00'},{'at':'2026-01-01T00:00:00Z'}]"),
					    NULL, NULL));
	apply(db, "[{'report':'y_cn','source':'ev','timezone':'+08:00','dimensions':[{'field':'at','bucket':'year'}],"
		  " 'measures':[{'name':'n','agg':'count'}]},"
		  "{'report':'y_utc','source':'ev','dimensions':[{'field':'at','bucket':'year'}],'measures':[{'name':'n','agg':'count'}]},"
		  "{'report':'d_cn','source':'ev','timezone':'+08:00','dimensions':[{'field':'at','bucket':'day'}],"
		  " 'measures':[{'name':'n','agg':'count'}]},"
		  "{'report':'m_ny','source':'ev','timezone':'-05:00','dimensions':[{'field':'at','bucket':'month'}],"
		  " 'measures':[{'name':'n','agg':'count'}]}]");
	rows = report_rows(db, "y_cn", NULL);
	CHECK_STR(rows, "{\"at_year\":\"2025\",\"n\":1}\n{\"at_year\":\"2026\",\"n\":3}\n");
	free(rows);
	rows = report_rows(db, "y_utc", NULL);
	CHECK_STR(rows, "{\"at_year\":\"2025\",\"n\":3}\n{\"at_year\":\"2026\",\"n\":1}\n");
	free(rows);
	rows = report_rows(db, "d_cn", NULL);
	CHECK_STR(rows, "{\"at_day\":\"2025-12-31\",\"n\":1}\n{\"at_day\":\"2026-01-01\",\"n\":3}\n");
	free(rows);
	rows = report_rows(db, "m_ny", NULL);
	CHECK_STR(rows, "{\"at_month\":\"2025-12\",\"n\":4}\n");
	free(rows);
	/* the drill-down range is in the report's zone */
	{
		char *query = NULL;
		CHECK_OK(db, crm_report_drill(db, "y_cn", NULL, "{\"at_year\":\"2026\",\"n\":3}", &query));
		CHECK_STR(query, "{\"filter\":{\"and\":[{\"and\":[{\"field\":\"at\",\"op\":\"ge\",\"value\":\"2025-12-31T16:00:00.000Z\"},"
				 "{\"field\":\"at\",\"op\":\"lt\",\"value\":\"2026-12-31T16:00:00.000Z\"}]}]}}");
		crm_free(query);
	}
	crm_close(db);
}

/* Report "r" on form ev grouped by `at` in bucket `kind` in `zone` gives
 * exactly the rows `want`, and each row's drill-down finds its records. */
static void check_ev_buckets(crm_db *db, const char *zone, const char *kind, const char *want)
{
	char def[256], *rows;

	snprintf(def, sizeof def,
		 "{'report':'r','source':'ev','timezone':'%s','dimensions':[{'field':'at','bucket':'%s'}],"
		 "'measures':[{'name':'n','agg':'count'}]}",
		 zone, kind);
	apply(db, def);
	rows = report_rows(db, "r", NULL);
	if (!rows || strcmp(rows, want) != 0)
		fprintf(stderr, "timezone %s, bucket %s:\n", zone, kind);
	CHECK_STR(rows, want);
	free(rows);
	check_drills_in(db, "ev", "r", NULL, 1);
}

/* The first and the last instant a datetime holds, a few hours either side
 * of the local day's edge in +14:00 and -14:00: local times before
 * 0001-01-01 or after 9999-12-31 go to the first or the last bucket, and
 * each row's drill-down finds exactly its records. */
TEST(test_report_buckets__extreme_instants_land_in_the_first_and_last_bucket_in_every_zone)
{
	static const char *const kinds[] = { "day", "week", "month", "quarter", "year" };
	static const char *const first[] = { "0001-01-01", "0001-W01", "0001-01", "0001-Q1", "0001" };
	static const char *const last[] = { "9999-12-31", "9999-W52", "9999-12", "9999-Q4", "9999" };
	static const char *const zones[] = { "+14:00", "-14:00" };
	crm_db *db = test_db();
	char want[256];

	apply(db, "{'form':'ev','fields':[{'name':'at','type':'datetime'}]}");
	CHECK_OK(db, crm_record_insert_many(db, "ev",
					    q("[{'at':'0001-01-01T00:00:00.000Z'},{'at':'0001-01-01T14:00:00.000Z'},"
					      "{'at':'9999-12-31T09:59:59.999Z'},{'at':'9999-12-31T23:59:59.999Z'}]"),
					    NULL, NULL));
	for (int z = 0; z < 2; z++)
		for (int k = 0; k < 5; k++) {
			if (k > 0)
				snprintf(want, sizeof want, "{\"at_%s\":\"%s\",\"n\":2}\n{\"at_%s\":\"%s\",\"n\":2}\n", kinds[k],
					 first[k], kinds[k], last[k]);
			else if (z == 0) /* +14:00: the second instant is already the 2nd locally */
				snprintf(want, sizeof want, "%s",
					 "{\"at_day\":\"0001-01-01\",\"n\":1}\n{\"at_day\":\"0001-01-02\",\"n\":1}\n"
					 "{\"at_day\":\"9999-12-31\",\"n\":2}\n");
			else /* -14:00: the third instant is still the 30th locally */
				snprintf(want, sizeof want, "%s",
					 "{\"at_day\":\"0001-01-01\",\"n\":2}\n{\"at_day\":\"9999-12-30\",\"n\":1}\n"
					 "{\"at_day\":\"9999-12-31\",\"n\":1}\n");
			check_ev_buckets(db, zones[z], kinds[k], want);
		}
	crm_close(db);
}

/* A record without the datetime is the empty bucket in every zone and
 * every bucket size, never the first bucket (0001-...) where holding local
 * times to the datetime range could put it. */
TEST(test_report_buckets__an_empty_datetime_stays_empty_in_a_time_zone)
{
	static const char *const kinds[] = { "day", "week", "month", "quarter", "year" };
	static const char *const zones[] = { "+08:00", "-14:00" };
	static const char *const labels[2][5] = { { "2026-01-01", "2026-W01", "2026-01", "2026-Q1", "2026" },
						   { "2025-12-31", "2026-W01", "2025-12", "2025-Q4", "2025" } };
	crm_db *db = test_db();

	apply(db, "{'form':'ev','fields':[{'name':'at','type':'datetime'},{'name':'k','type':'integer'}]}");
	CHECK_OK(db, crm_record_insert_many(db, "ev", q("[{'at':'2026-01-01T00:00:00Z','k':1},{'k':2},{'k':3}]"), NULL, NULL));
	for (int z = 0; z < 2; z++)
		for (int k = 0; k < 5; k++) {
			char want[160];
			snprintf(want, sizeof want, "{\"at_%s\":null,\"n\":2}\n{\"at_%s\":\"%s\",\"n\":1}\n", kinds[k], kinds[k],
				 labels[z][k]);
			check_ev_buckets(db, zones[z], kinds[k], want);
		}
	crm_close(db);
}

TEST(test_report_buckets__iso_weeks_across_year_boundaries)
{
	crm_db *db = test_db();
	char *rows;

	apply(db, "{'form':'ev','fields':[{'name':'d','type':'date'},{'name':'at','type':'datetime'}]}");
	CHECK_OK(db, crm_record_insert_many(db, "ev",
					    q("[{'d':'2024-12-30'},{'d':'2025-01-05'},{'d':'2025-12-28'},{'d':'2025-12-29'},"
					      "{'d':'2026-01-04'},{'d':'2026-01-05'},{'d':'2021-01-03'},{'d':'2020-12-28'},"
					      "{'d':'2027-01-01'},{'d':'2026-12-28'},{'d':'2027-01-04'}]"),
					    NULL, NULL));
	apply(db, "{'report':'weeks','source':'ev','dimensions':[{'field':'d','bucket':'week','name':'week'}],"
		  " 'measures':[{'name':'n','agg':'count'}]}");
	rows = report_rows(db, "weeks", NULL);
	CHECK_STR(rows, "{\"week\":\"2020-W53\",\"n\":2}\n{\"week\":\"2025-W01\",\"n\":2}\n{\"week\":\"2025-W52\",\"n\":1}\n"
			"{\"week\":\"2026-W01\",\"n\":2}\n{\"week\":\"2026-W02\",\"n\":1}\n{\"week\":\"2026-W53\",\"n\":2}\n"
			"{\"week\":\"2027-W01\",\"n\":1}\n");
	free(rows);
	{
		char *query = NULL;
		int64_t n = 0;
		CHECK_OK(db, crm_report_drill(db, "weeks", NULL, "{\"week\":\"2026-W53\"}", &query));
		CHECK_HAS(query, "{\"field\":\"d\",\"op\":\"ge\",\"value\":\"2026-12-28\"},{\"field\":\"d\",\"op\":\"lt\",\"value\":\"2027-01-04\"}");
		CHECK_OK(db, crm_count(db, "ev", query, &n));
		CHECK_INT(n, 2);
		crm_free(query);
		CHECK_RC(db, crm_report_drill(db, "weeks", NULL, "{\"week\":\"2025-W53\"}", &query), CRM_EINVAL);
		CHECK_HAS(crm_errdetail(db), "\"path\":\"row.week\"");
	}
	crm_close(db);
}

TEST(test_report_buckets__iso_weeks_of_every_lead_match_c)
{
	crm_db *db = sales_db();
	char labels[200][12], lab[16];
	int64_t counts[200] = { 0 }, empty = 0;
	int nlab = 0, rows = 0;
	crm_report *r = NULL;

	apply(db, "{'report':'weekly','source':'lead','timezone':'+08:00','dimensions':[{'field':'at','bucket':'week'}],"
		  " 'measures':[{'name':'n','agg':'count'}]}");
	/* the expected counts, computed in C from the generated times */
	for (int i = 0; i < NLEADS; i++) {
		int64_t ms = leads[i].at + 8 * 3600000;
		int k = 0;
		if (!leads[i].has_at) {
			empty++;
			continue;
		}
		iso_week(ms / 86400000, lab);
		while (k < nlab && strcmp(labels[k], lab))
			k++;
		if (k == nlab)
			strcpy(labels[nlab++], lab);
		counts[k]++;
	}
	CHECK(empty > 0);
	CHECK_OK(db, crm_report_run(&r, db, "weekly", NULL));
	while (crm_report_next(r) == CRM_ROW) {
		const char *l = crm_report_text(r, 0);
		int k = 0;
		if (!l) {
			CHECK_INT(crm_report_int64(r, 1), empty);
			empty = -1; /* once */
			continue;
		}
		while (k < nlab && strcmp(labels[k], l))
			k++;
		CHECK(k < nlab);
		if (k < nlab)
			CHECK_INT(crm_report_int64(r, 1), counts[k]);
		rows++;
	}
	crm_report_free(r);
	CHECK_INT(rows, nlab);
	CHECK_INT(empty, -1);
	crm_close(db);
}

/* ---- ratios, having, order, limit ---- */

TEST(test_report_ratios__zero_and_empty_denominators_give_null)
{
	crm_db *db = sales_db();

	apply(db, "{'report':'win_rate','source':'lead','dimensions':['region','channel'],"
		  " 'measures':[{'name':'won','agg':'count','filter':{'field':'stage','op':'eq','value':'won'}},"
		  "  {'name':'won_big','agg':'count','filter':{'and':[{'field':'stage','op':'eq','value':'won'},"
		  "    {'field':'budget','op':'ge','value':4900}]}},"
		  "  {'name':'budget','agg':'sum','field':'budget','filter':{'field':'stage','op':'eq','value':'won'}},"
		  "  {'name':'per_big_win','ratio':['budget','won_big']},{'name':'rate','ratio':['won','won_big']}]}");
	CHECK_INT(same_as_sql(db, "win_rate", NULL,
			      "WITH g AS (SELECT region, channel, sum(CASE WHEN stage = 'won' THEN 1 ELSE 0 END) w,"
			      "  sum(CASE WHEN stage = 'won' AND budget >= 490000 THEN 1 ELSE 0 END) wb,"
			      "  sum(CASE WHEN stage = 'won' THEN budget END) b FROM o_lead GROUP BY 1, 2)"
			      " SELECT region, channel, w, wb, b, CASE WHEN wb = 0 THEN NULL ELSE b / 100.0 / wb END,"
			      " CASE WHEN wb = 0 THEN NULL ELSE w * 1.0 / wb END FROM g ORDER BY 1 NULLS FIRST, 2 NULLS FIRST"),
		  20);
	CHECK(sql_int(db, "SELECT count(*) FROM (SELECT region, channel FROM o_lead GROUP BY 1, 2"
			  " HAVING sum(CASE WHEN stage = 'won' AND budget >= 490000 THEN 1 ELSE 0 END) = 0) AS x") > 0);
	crm_close(db);
}

TEST(test_report_having__order_and_limit_match_sql)
{
	crm_db *db = sales_db();

	apply(db, "{'report':'top','source':'lead','dimensions':['region','channel'],"
		  " 'measures':[{'name':'leads','agg':'count'},{'name':'budget','agg':'sum','field':'budget'},"
		  "  {'name':'avg_score','agg':'avg','field':'score'}],"
		  " 'having':{'and':[{'measure':'leads','op':'gt','value':130},{'not':{'measure':'budget','op':'lt','value':'3000.00'}}]},"
		  " 'order':[{'measure':'budget','dir':'desc'}],'limit':5}");
	CHECK_INT(same_as_sql(db, "top", NULL,
			      "SELECT region, channel, count(*), sum(budget), avg(score) FROM o_lead GROUP BY 1, 2"
			      " HAVING count(*) > 130 AND NOT coalesce(sum(budget) < 300000, FALSE)"
			      " ORDER BY 4 DESC NULLS LAST, 1 NULLS FIRST, 2 NULLS FIRST LIMIT 5"),
		  5);
	apply(db, "{'report':'by_channel','source':'lead','dimensions':['channel',{'field':'region'}],"
		  " 'measures':[{'name':'leads','agg':'count'}],"
		  " 'having':{'measure':'leads','op':'ge','param':'min'},'order':['-region','-leads'],'limit':7}");
	CHECK_INT(same_as_sql(db, "by_channel", "{'min':140}",
			      "SELECT channel, region, count(*) FROM o_lead GROUP BY 1, 2 HAVING count(*) >= 140"
			      " ORDER BY 2 DESC NULLS LAST, 3 DESC, 1 NULLS FIRST LIMIT 7"),
		  7);
	crm_close(db);
}

/* ---- totals ---- */

TEST(test_report_totals__subtotals_per_first_dimension_and_grand_total)
{
	crm_db *db = sales_db();
	char *query = NULL;

	apply(db, "{'report':'tot','source':'lead','dimensions':['region','channel'],"
		  " 'measures':[{'name':'leads','agg':'count'},{'name':'budget','agg':'sum','field':'budget'},"
		  "  {'name':'avg_budget','ratio':['budget','leads']},{'name':'customers','agg':'count_distinct','field':'customer'}],"
		  " 'having':{'measure':'leads','op':'gt','value':140},'totals':true}");
	CHECK_INT(same_as_sql(db, "tot", NULL,
			      "SELECT region, channel, n, b, CASE WHEN n = 0 THEN NULL ELSE b / 100.0 / n END, c, t FROM ("
			      " SELECT 0 lvl, region, channel, count(*) n, sum(budget) b, count(DISTINCT customer) c, NULL t"
			      "  FROM o_lead GROUP BY 2, 3 HAVING count(*) > 140"
			      " UNION ALL SELECT 1, region, NULL, count(*), sum(budget), count(DISTINCT customer), 'subtotal'"
			      "  FROM o_lead GROUP BY 2"
			      " UNION ALL SELECT 2, NULL, NULL, count(*), sum(budget), count(DISTINCT customer), 'total' FROM o_lead)"
			      " AS x ORDER BY lvl = 2, region NULLS FIRST, lvl, channel NULLS FIRST"),
		  (int)sql_int(db, "SELECT count(*) FROM (SELECT 1 FROM o_lead GROUP BY region, channel HAVING count(*) > 140) AS x") +
			  5 + 1);
	/* drilling into a subtotal or the total finds its records */
	check_drills(db, "tot", NULL, 2);
	CHECK_OK(db, crm_report_drill(db, "tot", NULL, "{\"region\":null,\"channel\":null,\"_total\":\"total\"}", &query));
	CHECK_STR(query, "{\"filter\":{\"and\":[]}}");
	crm_free(query);
	CHECK_RC(db, crm_report_drill(db, "tot", NULL, "{\"region\":null,\"channel\":null,\"_total\":\"sum\"}", &query), CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "\"path\":\"row._total\"");
	/* one dimension: the grand total only */
	apply(db, "{'report':'tot1','source':'lead','dimensions':[{'field':'customer.industry'}],'totals':true,"
		  " 'measures':[{'name':'leads','agg':'count'}],'order':['-leads']}");
	CHECK_INT(same_as_sql(db, "tot1", NULL,
			      "SELECT i, n, t FROM (SELECT 0 lvl, c.industry i, count(*) n, NULL t FROM o_lead l"
			      "  LEFT JOIN o_customer c ON c.id = l.customer GROUP BY 2"
			      " UNION ALL SELECT 1, NULL, count(*), 'total' FROM o_lead) AS x ORDER BY lvl, n DESC, i NULLS FIRST"),
		  5);
	check_drills(db, "tot1", NULL, 1);
	crm_close(db);
}

/* ---- period comparison ---- */

TEST(test_report_compare__previous_period_with_a_missing_month)
{
	crm_db *db = sales_db();
	char *rows;

	apply(db, "{'report':'mom','source':'lead','dimensions':[{'field':'at','bucket':'month','name':'month'}],"
		  " 'measures':[{'name':'leads','agg':'count'},{'name':'budget','agg':'sum','field':'budget'},"
		  "  {'name':'avg_budget','ratio':['budget','leads']}],'compare':'previous_period'}");
	CHECK(same_as_sql(db, "mom", NULL,
			  "WITH m AS (SELECT substr(d_utc, 1, 7) k, count(*) n, sum(budget) s FROM o_lead GROUP BY 1),"
			  " x AS (SELECT m.k, m.n, m.s, m.s / 100.0 / m.n AS a, CASE WHEN m.k IS NULL THEN NULL ELSE coalesce(p.n, 0) END pn,"
			  "  p.s ps, p.s / 100.0 / p.n pa"
			  "  FROM m LEFT JOIN m p ON " MONTH_NO("p.k") " = " MONTH_NO("m.k") " - 1)"
			  " SELECT k, n, s, a, pn, n - pn, CASE WHEN pn = 0 THEN NULL ELSE (n - pn) * 100.0 / abs(pn) END,"
			  "  ps, s - ps, CASE WHEN ps = 0 THEN NULL ELSE (s - ps) * 100.0 / abs(ps) END,"
			  "  pa, a - pa, CASE WHEN pa = 0 THEN NULL ELSE (a - pa) * 100.0 / abs(pa) END FROM x ORDER BY k NULLS FIRST") > 15);
	/* July compares with the empty June, not with May */
	rows = report_rows(db, "mom", NULL);
	CHECK_HAS(rows, "\"leads_prev\":0,\"leads_delta\":");
	CHECK_HAS(rows, ",\"leads_pct\":null,\"budget_prev\":null,\"budget_delta\":null,\"budget_pct\":null,");
	{
		const char *jul = strstr(rows, "{\"month\":\"2025-07\"");
		CHECK(jul && strstr(jul, "\"leads_prev\":0,") && strstr(jul, "\"leads_prev\":0,") < strchr(jul, '\n'));
	}
	CHECK(!strstr(rows, "\"month\":\"2025-06\""));
	free(rows);
	/* with a second dimension, each region compares with itself */
	apply(db, "{'report':'mom_region','source':'lead','timezone':'+08:00',"
		  " 'dimensions':['region',{'field':'at','bucket':'quarter','name':'q'}],"
		  " 'measures':[{'name':'leads','agg':'count'}],'compare':{'period':'previous_period','measures':['leads']}}");
	CHECK(same_as_sql(db, "mom_region", NULL,
			  "WITH m AS (SELECT region r, substr(d_cn, 1, 4) || '-Q' ||"
			  "  ((CAST(substr(d_cn, 6, 2) AS INTEGER) + 2) / 3) k, count(*) n FROM o_lead GROUP BY 1, 2)"
			  " SELECT m.r, m.k, m.n, CASE WHEN m.k IS NULL THEN NULL ELSE coalesce(p.n, 0) END pn,"
			  "  m.n - CASE WHEN m.k IS NULL THEN NULL ELSE coalesce(p.n, 0) END,"
			  "  CASE WHEN coalesce(p.n, 0) = 0 THEN NULL ELSE (m.n - p.n) * 100.0 / p.n END"
			  " FROM m LEFT JOIN m p ON p.r IS NOT DISTINCT FROM m.r AND " QUARTER_NO("p.k") " = " QUARTER_NO("m.k") " - 1"
			  " ORDER BY 1 NULLS FIRST, 2 NULLS FIRST") > 20);
	crm_close(db);
}

TEST(test_report_compare__same_period_last_year)
{
	crm_db *db = sales_db();

	apply(db, "{'report':'yoy','source':'lead','dimensions':['channel',{'field':'at','bucket':'month','name':'month'}],"
		  " 'measures':[{'name':'budget','agg':'sum','field':'budget'},{'name':'leads','agg':'count'}],"
		  " 'compare':'same_period_last_year','order':['channel','-month']}");
	CHECK(same_as_sql(db, "yoy", NULL,
			  "WITH m AS (SELECT channel c, substr(d_utc, 1, 7) k, sum(budget) s, count(*) n"
			  "  FROM o_lead GROUP BY 1, 2)"
			  " SELECT m.c, m.k, m.s, m.n, p.s, m.s - p.s, CASE WHEN p.s = 0 THEN NULL ELSE (m.s - p.s) * 100.0 / abs(p.s) END,"
			  "  CASE WHEN m.k IS NULL THEN NULL ELSE coalesce(p.n, 0) END,"
			  "  m.n - CASE WHEN m.k IS NULL THEN NULL ELSE coalesce(p.n, 0) END,"
			  "  CASE WHEN coalesce(p.n, 0) = 0 THEN NULL ELSE (m.n - p.n) * 100.0 / p.n END"
			  " FROM m LEFT JOIN m p ON p.c = m.c AND " MONTH_NO("p.k") " = " MONTH_NO("m.k") " - 12"
			  " ORDER BY 1 NULLS FIRST, 2 DESC NULLS LAST") > 60);
	/* 2025-11 has 2024-11 to compare with */
	CHECK(sql_int(db, "SELECT count(*) FROM o_lead WHERE substr(d_utc, 1, 7) = '2024-11'") > 0);
	crm_close(db);
}

/* ---- running totals and rolling windows ---- */

TEST(test_report_windows__running_and_rolling_count_periods_not_rows)
{
	crm_db *db = sales_db();

	apply(db, "{'report':'cum','source':'lead','dimensions':['region',{'field':'at','bucket':'month','name':'month'}],"
		  " 'measures':[{'name':'leads','agg':'count'},{'name':'budget','agg':'sum','field':'budget'}],"
		  " 'running':['leads','budget'],'rolling':[{'measure':'budget','window':3},{'measure':'leads','window':1}]}");
	CHECK(same_as_sql(db, "cum", NULL,
			  "WITH m AS (SELECT region r, substr(d_utc, 1, 7) k, count(*) n, sum(budget) s"
			  "  FROM o_lead GROUP BY 1, 2)"
			  " SELECT r, k, n, s,"
			  "  CASE WHEN k IS NULL THEN NULL ELSE (SELECT sum(n) FROM m m2 WHERE m2.r IS NOT DISTINCT FROM m.r"
			  "   AND m2.k <= m.k) END,"
			  "  CASE WHEN k IS NULL THEN NULL ELSE (SELECT sum(s) FROM m m2 WHERE m2.r IS NOT DISTINCT FROM m.r"
			  "   AND m2.k <= m.k) END,"
			  "  CASE WHEN k IS NULL THEN NULL ELSE (SELECT sum(s) FROM m m2 WHERE m2.r IS NOT DISTINCT FROM m.r"
			  "   AND m2.k <= m.k AND " MONTH_NO("m2.k") " > " MONTH_NO("m.k") " - 3) END,"
			  "  CASE WHEN k IS NULL THEN NULL ELSE n END"
			  " FROM m ORDER BY 1 NULLS FIRST, 2 NULLS FIRST") > 60);
	crm_close(db);
}

/* ---- funnels ---- */

TEST(test_report_funnel__enum_stages_by_channel_match_c)
{
	crm_db *db = sales_db();
	int64_t at[4][5] = { { 0 } };
	crm__stmt *st;
	crm_report *r = NULL;
	int rows = 0;

	apply(db, "{'report':'lead_funnel','source':'lead','funnel':{'field':'stage','stages':['new','qualified','opportunity','won']},"
		  " 'dimensions':[{'field':'channel'}]}");
	static const char by_cell[] =
		"SELECT CASE channel WHEN 'web' THEN 0 WHEN 'wechat' THEN 1 WHEN 'douyin' THEN 2 ELSE 3 END,"
		" CASE stage WHEN 'new' THEN 0 WHEN 'qualified' THEN 1 WHEN 'opportunity' THEN 2 WHEN 'won' THEN 3 ELSE 4 END,"
		" count(*) FROM lead GROUP BY 1, 2";
	CHECK(db->be->prepare(db, by_cell, sizeof by_cell - 1, &st) == CRM_OK);
	while (crm__step(st) == CRM_ROW)
		at[crm__column_int(st, 0)][crm__column_int(st, 1)] = crm__column_int64(st, 2);
	crm__finalize(st);
	CHECK_OK(db, crm_report_run(&r, db, "lead_funnel", NULL));
	CHECK_INT(crm_report_column_count(r), 5);
	CHECK_STR(crm_report_column_name(r, 2), "reached");
	CHECK_INT(crm_report_column_type(r, 3), CRM_TYPE_NUMBER);
	while (crm_report_next(r) == CRM_ROW) {
		int c = channel_rows[rows / 4], s = rows % 4;
		int64_t reached = 0, prev = 0, first = 0;
		for (int k = s; k < 4; k++)
			reached += at[c][k];
		for (int k = s ? s - 1 : 0; k < 4; k++)
			prev += at[c][k];
		for (int k = 0; k < 4; k++)
			first += at[c][k];
		CHECK_STR(crm_report_text(r, 0), channels[c]);
		CHECK_STR(crm_report_text(r, 1), stages[s]);
		CHECK_INT(crm_report_int64(r, 2), reached);
		if (s == 0)
			CHECK(crm_report_is_null(r, 3));
		else
			CHECK(fabs(crm_report_double(r, 3) - (double)reached / (double)prev) < 1e-12);
		CHECK(fabs(crm_report_double(r, 4) - (double)reached / (double)first) < 1e-12);
		rows++;
	}
	crm_report_free(r);
	CHECK_INT(rows, 16);
	check_drills(db, "lead_funnel", NULL, 2);
	/* by channel and month (scenario 11), in +08:00 */
	apply(db, "{'report':'funnel_monthly','source':'lead','timezone':'+08:00',"
		  " 'funnel':{'field':'stage','stages':['new','qualified','won']},"
		  " 'dimensions':['channel',{'field':'at','bucket':'month','name':'month'}],"
		  " 'filter':{'field':'at','op':'ge','param':'since'}}");
	CHECK(same_as_sql(db, "funnel_monthly", "{'since':'2025-10-01T00:00:00+08:00'}",
			      "WITH b AS (SELECT channel c, substr(d_cn, 1, 7) k,"
			      "  CASE stage WHEN 'new' THEN 0 WHEN 'qualified' THEN 1 WHEN 'won' THEN 2 END p FROM o_lead"
			      "  WHERE at >= 1759248000000 AND stage IN ('new', 'qualified', 'won')),"
			      " s(i, n) AS (VALUES (0, 'new'), (1, 'qualified'), (2, 'won')),"
			      " g AS (SELECT c, k, s.i, s.n, sum(CASE WHEN b.p >= s.i THEN 1 ELSE 0 END) r FROM b CROSS JOIN s"
			      "  GROUP BY c, k, s.i, s.n)"
			      " SELECT g.c, g.k, g.n, g.r, CASE WHEN g.i = 0 THEN NULL ELSE g.r * 1.0 / nullif(p.r, 0) END,"
			      "  g.r * 1.0 / nullif(f.r, 0)"
			      " FROM g LEFT JOIN g p ON p.c = g.c AND p.k = g.k AND p.i = g.i - 1"
			      " JOIN g f ON f.c = g.c AND f.k = g.k AND f.i = 0 ORDER BY 1, 2, g.i") >= 4 * 6 * 3);
	check_drills(db, "funnel_monthly", "{\"since\":\"2025-10-01T00:00:00+08:00\"}", 3);
	crm_close(db);
}

static const char life[] =
	"{'workflow':'lead_life','form':'opp','start_on':'create','initial':'new',"
	" 'states':{'new':{},'qualified':{},'proposal':{},'won':{'final':true},'lost':{'final':true}},"
	" 'transitions':[{'from':'new','event':'qualify','to':'qualified'},"
	"  {'from':'qualified','event':'propose','to':'proposal'},"
	"  {'from':'proposal','event':'win','to':'won'},"
	"  {'from':'*','event':'lose','to':'lost'}]}";

TEST(test_report_funnel__from_workflow_history)
{
	crm_db *db = test_db();
	int64_t reached[2][4] = { { 0 } };
	crm_report *r = NULL;
	int rows = 0;

	apply(db, "{'form':'opp','fields':[{'name':'channel','type':'enum','options':['web','show']},{'name':'n','type':'integer'}]}");
	apply(db, life);
	apply(db, "{'report':'opp_funnel','source':'opp','dimensions':['channel'],"
		  " 'funnel':{'workflow':'lead_life','stages':['new','qualified','proposal','won']}}");
	/* 120 records: each goes as far as (i % 5) then maybe loses; 4 = lost right away */
	for (int i = 0; i < 120; i++) {
		char rec[64];
		int64_t id;
		int c = i % 2, far = i % 5, lose = i % 3 == 0;
		static const char *const ev[] = { "qualify", "propose", "win" };
		snprintf(rec, sizeof rec, "{\"channel\":\"%s\",\"n\":%d}", c ? "show" : "web", i);
		crm_clock_set(db, INT64_C(1767323045000) + i * 1000);
		CHECK_OK(db, crm_record_insert(db, "opp", rec, &id));
		if (far == 4) {
			CHECK_OK(db, crm_workflow_fire(db, "opp", id, "lose", NULL));
			far = 0;
		} else {
			for (int k = 0; k < far; k++)
				CHECK_OK(db, crm_workflow_fire(db, "opp", id, ev[k], NULL));
			if (lose && far < 3)
				CHECK_OK(db, crm_workflow_fire(db, "opp", id, "lose", NULL));
		}
		for (int k = 0; k <= far; k++)
			reached[c][k]++;
	}
	CHECK_OK(db, crm_report_run(&r, db, "opp_funnel", NULL));
	while (crm_report_next(r) == CRM_ROW) {
		int c = 1 - rows / 4, s = rows % 4; /* "show" sorts before "web" */
		CHECK_STR(crm_report_text(r, 0), c ? "show" : "web");
		CHECK_INT(crm_report_int64(r, 2), reached[c][s]);
		if (s)
			CHECK(fabs(crm_report_double(r, 3) - (double)reached[c][s] / (double)reached[c][s - 1]) < 1e-12);
		CHECK(fabs(crm_report_double(r, 4) - (double)reached[c][s] / (double)reached[c][0]) < 1e-12);
		rows++;
	}
	crm_report_free(r);
	CHECK_INT(rows, 8);
	/* the lost ones count for every stage they passed: history, not the current state */
	CHECK(sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE state = 'lost'") > 20);
	{
		crm_report *rr = NULL;
		char *query = NULL;
		int64_t n = 0;
		CHECK_OK(db, crm_report_run(&rr, db, "opp_funnel", NULL));
		while (crm_report_next(rr) == CRM_ROW) {
			CHECK_OK(db, crm_report_drill(db, "opp_funnel", NULL, crm_report_json(rr), &query));
			CHECK_OK(db, crm_count(db, "opp", query, &n));
			CHECK_INT(n, crm_report_int64(rr, 2));
			crm_free(query);
		}
		crm_report_free(rr);
	}
	/* stages must be states of the workflow, which must run on the source form */
	CHECK_REFUSED(db, "{'report':'bad','source':'opp','funnel':{'workflow':'lead_life','stages':['new','nope']}}",
		      "funnel.stages[1]");
	CHECK_REFUSED(db, "{'report':'bad','source':'opp','funnel':{'workflow':'nope','stages':['new']}}", "funnel.workflow");
	crm_close(db);
}

/* ---- drill-down ---- */

TEST(test_report_drill__every_row_finds_exactly_its_records)
{
	crm_db *db = sales_db();
	char *query = NULL;

	apply(db, "[{'report':'d1','source':'lead','timezone':'+08:00',"
		  " 'dimensions':['region',{'field':'customer.industry'},{'field':'at','bucket':'quarter'}],"
		  " 'measures':[{'name':'leads','agg':'count'}],"
		  " 'filter':{'and':[{'field':'at','op':'ge','param':'since'},{'field':'customer.account.tier','op':'ne','value':'gold'}]},"
		  " 'params':{'since':{'type':'datetime','default':'2025-03-01T00:00:00Z'}}},"
		  "{'report':'d2','source':'lead','dimensions':[{'field':'customer.account.tier'},'hot',{'field':'budget'}],"
		  " 'measures':[{'name':'leads','agg':'count'}],'filter':{'field':'budget','op':'lt','value':300}},"
		  "{'report':'d3','source':'lead','dimensions':[{'field':'day','bucket':'week'},{'field':'score'}],"
		  " 'measures':[{'name':'leads','agg':'count'}],'filter':{'field':'score','op':'between','value':[10,12]}}]");
	check_drills(db, "d1", NULL, 3);
	check_drills(db, "d1", "{\"since\":\"2025-09-15T00:00:00+08:00\"}", 3);
	check_drills(db, "d2", NULL, 3);
	check_drills(db, "d3", NULL, 2);
	/* a reference condition becomes "customer in [ids]" (with the empty reference where it holds) */
	CHECK_OK(db, crm_report_drill(db, "d1", NULL, "{\"region\":\"north\",\"customer_industry\":null,\"at_quarter\":\"2025-Q3\"}",
				      &query));
	CHECK_HAS(query, "{\"field\":\"at\",\"op\":\"ge\",\"value\":\"2025-03-01T00:00:00.000Z\"}");
	CHECK_HAS(query, "{\"or\":[{\"field\":\"customer\",\"op\":\"is_null\",\"value\":true},{\"field\":\"customer\",\"op\":\"in\",\"value\":[");
	CHECK_HAS(query, "{\"field\":\"region\",\"op\":\"eq\",\"value\":\"north\"}");
	/* 2025-Q3 in +08:00 */
	CHECK_HAS(query, "{\"and\":[{\"field\":\"at\",\"op\":\"ge\",\"value\":\"2025-06-30T16:00:00.000Z\"},"
			 "{\"field\":\"at\",\"op\":\"lt\",\"value\":\"2025-09-30T16:00:00.000Z\"}]}");
	crm_free(query);
	/* rows that are not rows of the report */
	CHECK_RC(db, crm_report_drill(db, "d1", NULL, "{\"region\":\"north\"}", &query), CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "\"path\":\"row.customer_industry\"");
	CHECK_RC(db, crm_report_drill(db, "d1", NULL, "{\"region\":\"up\",\"customer_industry\":null,\"at_quarter\":null}", &query),
		 CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "\"path\":\"row.region.value\"");
	CHECK_RC(db, crm_report_drill(db, "d1", NULL, "{\"region\":null,\"customer_industry\":null,\"at_quarter\":\"2025-Q5\"}", &query),
		 CRM_EINVAL);
	CHECK_RC(db, crm_report_drill(db, "d1", NULL, "[1", &query), CRM_EINVAL);
	CHECK(query == NULL);
	crm_close(db);
}

/* ---- explain ---- */

/* The plan of an explain output: items {"id", "parent", "detail"}, each
 * parent 0 or an item before it. Returns how many details hold `needle`. */
static int plan_mentions(const char *out, const char *needle)
{
	cJSON *doc = cJSON_Parse(out), *plan = cJSON_GetObjectItem(doc, "plan"), *it;
	int ids[256], n = 0, hits = 0;

	CHECK(cJSON_IsArray(plan) && cJSON_GetArraySize(plan) > 0);
	cJSON_ArrayForEach(it, plan)
	{
		cJSON *id = cJSON_GetObjectItem(it, "id"), *parent = cJSON_GetObjectItem(it, "parent");
		cJSON *detail = cJSON_GetObjectItem(it, "detail");
		int known = cJSON_IsNumber(parent) && parent->valueint == 0;

		CHECK(cJSON_IsNumber(id) && cJSON_IsNumber(parent) && cJSON_IsString(detail) && cJSON_GetArraySize(it) == 3);
		for (int k = 0; k < n && cJSON_IsNumber(parent); k++)
			known |= ids[k] == parent->valueint;
		if (!known)
			fprintf(stderr, "plan item %d: its parent is no item before it\n", n + 1);
		CHECK(known);
		if (n < 256 && cJSON_IsNumber(id))
			ids[n++] = id->valueint;
		hits += cJSON_IsString(detail) && strstr(detail->valuestring, needle) != NULL;
	}
	cJSON_Delete(doc);
	return hits;
}

TEST(test_report_explain__shows_sql_binds_and_the_index_in_the_plan)
{
	crm_db *db = sales_db();
	int sqlite = strcmp(db->be->name, "sqlite") == 0;
	char *out = NULL;

	apply(db, "{'report':'north','source':'lead','dimensions':['channel'],'measures':[{'name':'n','agg':'count'}],"
		  " 'filter':{'field':'region','op':'eq','param':'region'}}");
	CHECK_OK(db, crm_report_explain(db, "north", q("{'region':'north'}"), &out));
	CHECK_HAS(out, "\"sql\":\"WITH \\\"g__\\\" AS (SELECT");
	CHECK_HAS(out, "\"binds\":[{\"index\":1,\"value\":\"north\",\"param\":\"region\"}]");
	/* the same shape on every backend: plan nodes, each under its parent,
	 * one of them using the region's index; the details are the
	 * backend's own words */
	CHECK(plan_mentions(out, "lead__i__region") > 0);
	if (sqlite)
		CHECK_HAS(out, "USING INDEX lead__i__region (region=?)");
	crm_free(out);
	/* grouping on the indexed field walks the index instead of sorting:
	 * SQLite's planner does; PostgreSQL's chooses by its statistics */
	apply(db, "{'report':'regions','source':'lead','dimensions':['region'],'measures':[{'name':'n','agg':'count'}]}");
	CHECK_OK(db, crm_report_explain(db, "regions", NULL, &out));
	CHECK(plan_mentions(out, sqlite ? "INDEX lead__i__region" : "lead") > 0);
	crm_free(out);
	/* subtotals: a plan of several branches, each node under its parent */
	apply(db, "{'report':'subtotals','source':'lead','dimensions':['region','channel'],'totals':true,"
		  " 'measures':[{'name':'n','agg':'count'}]}");
	CHECK_OK(db, crm_report_explain(db, "subtotals", NULL, &out));
	CHECK(plan_mentions(out, "lead") > 0);
	crm_free(out);
	CHECK_INT(same_as_sql(db, "north", "{'region':'north'}",
			      "SELECT channel, count(*) FROM lead WHERE region = 'north' GROUP BY 1 ORDER BY 1"),
		  4);
	crm_close(db);
}

/* ---- parameters ---- */

TEST(test_report_params__missing_unknown_wrong_type_and_sql_looking_values)
{
	crm_db *db = sales_db();
	crm_report *r = NULL;
	char *out = NULL;

	apply(db, "{'report':'p','source':'lead','dimensions':['region'],'measures':[{'name':'n','agg':'count'}],"
		  " 'filter':{'and':[{'field':'at','op':'ge','param':'since'},{'field':'name','op':'ne','param':'who'},"
		  "  {'field':'budget','op':'le','param':'cap'}]},"
		  " 'params':{'since':{'type':'datetime','label':'Since'},'cap':{'type':'decimal','default':'4000.00'}}}");
	CHECK_RC(db, crm_report_run(&r, db, "p", q("{'since':'2025-01-01T00:00:00Z'}")), CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "\"path\":\"params.who\"");
	CHECK(r == NULL);
	CHECK_RC(db, crm_report_run(&r, db, "p", q("{'who':'x'}")), CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "\"path\":\"params.since\"");
	CHECK_RC(db, crm_report_run(&r, db, "p", q("{'since':'2025-01-01T00:00:00Z','who':'x','bogus':1}")), CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "\"path\":\"params.bogus\"");
	CHECK_RC(db, crm_report_run(&r, db, "p", q("{'since':'yesterday','who':'x'}")), CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "params.since");
	CHECK_RC(db, crm_report_run(&r, db, "p", q("{'since':'2025-01-01T00:00:00Z','who':'x','cap':'1.001'}")), CRM_EINVAL);
	CHECK_RC(db, crm_report_run(&r, db, "p", q("{'since':'2025-01-01T00:00:00Z','who':''}")), CRM_EINVAL);
	CHECK_RC(db, crm_report_run(&r, db, "p", "{\"since\":"), CRM_EINVAL);
	CHECK(crm_erroffset(db) > 0);
	/* a value that looks like SQL is just a value */
	CHECK_INT(same_as_sql(db, "p", "{'since':'2025-01-01T00:00:00Z','who':'x\\'); DROP TABLE lead; --'}",
			      "SELECT region, count(*) FROM o_lead WHERE at >= 1735689600000 AND budget <= 400000"
			      " GROUP BY 1 ORDER BY 1 NULLS FIRST"),
		  5);
	CHECK_INT(same_as_sql(db, "p", "{'since':'2025-01-01T00:00:00Z','who':'l7','cap':100}",
			      "SELECT region, count(*) FROM o_lead WHERE at >= 1735689600000 AND budget <= 10000"
			      " AND name IS DISTINCT FROM 'l7' GROUP BY 1 ORDER BY 1 NULLS FIRST"),
		  5);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM lead"), NLEADS);
	/* null means "not given": the default applies */
	CHECK_OK(db, crm_report_explain(db, "p", q("{'since':'2025-01-01T00:00:00Z','who':'a','cap':null}"), &out));
	CHECK_HAS(out, "{\"index\":3,\"value\":400000,\"param\":\"cap\"}");
	crm_free(out);
	/* declarations are checked against what the parameter is compared with */
	CHECK_REFUSED(db, "{'report':'bad','source':'lead','measures':[{'name':'n','agg':'count'}],"
			  " 'filter':{'field':'at','op':'ge','param':'since'},'params':{'since':{'type':'date'}}}",
		      "params.since");
	CHECK_REFUSED(db, "{'report':'bad','source':'lead','measures':[{'name':'n','agg':'count'}],"
			  " 'filter':{'field':'at','op':'ge','param':'since'},'params':{'since':{'default':'soon'}}}",
		      "params.since.default.value");
	CHECK_REFUSED(db, "{'report':'bad','source':'lead','measures':[{'name':'n','agg':'count'}],"
			  " 'params':{'unused':{'type':'text'}}}",
		      "params.unused");
	CHECK_REFUSED(db, "{'report':'bad','source':'lead','measures':[{'name':'n','agg':'count'}],"
			  " 'filter':{'field':'region','op':'in','param':'rs'}}",
		      "filter.param");
	crm_close(db);
}

/* ---- bad definitions ---- */

TEST(test_report_define__bad_definitions_are_refused_with_a_path)
{
	crm_db *db = sales_db();
	int64_t before = sql_int(db, "SELECT count(*) FROM crm_meta");

#define M "'measures':[{'name':'n','agg':'count'}]"
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':['regoin']," M "}", "dimensions[0]");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':[{'field':'regoin'}]," M "}", "dimensions[0].field");
	CHECK_HAS(crm_errmsg(db), "unknown field 'regoin' in form 'lead'");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','measures':[{'name':'s','agg':'sum','field':'name'}]}",
		      "measures[0].field");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','measures':[{'name':'s','agg':'avg','field':'region'}]}",
		      "measures[0].field");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','measures':[{'name':'s','agg':'median','field':'score'}]}",
		      "measures[0].agg");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','measures':[{'name':'n','agg':'count'},{'name':'r','ratio':['n','x']}]}",
		      "measures[1].ratio[1]");
	CHECK_REFUSED(db, "{'report':'b','source':'lead'," M ",'order':['-x']}", "order[0]");
	CHECK_REFUSED(db, "{'report':'b','source':'lead'," M ",'order':[{'measure':'region'}]}", "order[0]");
	CHECK_REFUSED(db, "{'report':'b','source':'lead'," M ",'having':{'and':[{'measure':'x','op':'gt','value':1}]}}",
		      "having.and[0].measure");
	CHECK_REFUSED(db, "{'report':'b','source':'lead'," M ",'having':{'measure':'n','op':'gt','value':'many'}}",
		      "having.value");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':['customer.primary_lead.name']," M "}", "dimensions[0]");
	CHECK_HAS(crm_errmsg(db), "cycle");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':['customer.account.grp.zone.planet.name']," M "}",
		      "dimensions[0]");
	CHECK_HAS(crm_errmsg(db), "at most 4");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':['customer.name.x']," M "}", "dimensions[0]");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':[{'field':'region','bucket':'month'}]," M "}",
		      "dimensions[0].bucket");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':[{'field':'at','bucket':'hour'}]," M "}",
		      "dimensions[0].bucket");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':[{'field':'name); DROP TABLE lead; --'}]," M "}",
		      "dimensions[0].field");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':[{'field':'region','name':'x\\\" FROM lead; --'}]," M "}",
		      "dimensions[0].name");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','measures':[{'name':'n); DROP TABLE lead; --','agg':'count'}]}",
		      "measures[0].name");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','filter':{'field':'customer.nope','op':'eq','value':1}," M "}",
		      "filter.field");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','filter':{'and':[{'field':'region','op':'eq','value':'up'}]}," M "}",
		      "filter.and[0].value");
	CHECK_REFUSED(db, "{'report':'b','source':'nope'," M "}", "source");
	CHECK_REFUSED(db, "{'report':'b','source':'lead'}", "measures");
	CHECK_REFUSED(db, "{'report':'b','source':'lead'," M ",'colour':'red'}", "colour");
	CHECK_REFUSED(db, "{'report':'B b','source':'lead'," M "}", "report");
	CHECK_REFUSED(db, "{'report':'b','source':'lead'," M ",'compare':'previous_period'}", "compare");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':[{'field':'at','bucket':'month'}]," M ",'compare':'last_week'}",
		      "compare");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':[{'field':'at','bucket':'month'}],"
			  "'measures':[{'name':'m','agg':'min','field':'name'}],'compare':{'period':'previous_period','measures':['m']}}",
		      "compare.measures[0]");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':[{'field':'at','bucket':'month'}],"
			  "'measures':[{'name':'a','agg':'avg','field':'score'}],'running':['a']}",
		      "running[0]");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':[{'field':'at','bucket':'month'}]," M ",'rolling':[{'measure':'n','window':0}]}",
		      "rolling[0]");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','timezone':'Asia/Shanghai'," M "}", "timezone");
	CHECK_HAS(crm_errmsg(db), "named zones");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','timezone':'+15:00'," M "}", "timezone");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':['region'],'funnel':{'field':'stage','stages':['new','gone']}}",
		      "funnel.stages[1]");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','funnel':{'field':'region','stages':['north']}," M "}", "measures");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','funnel':{'field':'score','stages':['1']}}", "funnel.field");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':['region'],'totals':true,'limit':3," M "}", "limit");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':['region','region']," M "}", "dimensions[1]");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':['region'],'measures':[{'name':'region','agg':'count'}]}",
		      "measures[0].name");
	CHECK_REFUSED(db, "{'report':'b','source':'lead','dimensions':[{'field':'at','bucket':'month'}],"
			  "'measures':[{'name':'n','agg':'count'},{'name':'n_prev','agg':'count'}],'compare':'previous_period'}",
		      "measures");
#undef M
	/* nothing was stored, nothing was dropped */
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_meta"), before);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM lead"), NLEADS);
	crm_close(db);
}

/* ---- system columns: the sales leaderboard (scenario 12) ---- */

TEST(test_report_system_columns__leaderboard_by_owner_and_created_month)
{
	crm_db *db = test_db();
	static const char *const reps[] = { "ann", "ben", "cho" };
	int64_t t0 = utc_ms(2025, 1, 15, 9, 0, 0);
	crm__buf oracle = CRM__BUF_INIT;

	apply(db, "{'form':'deal','fields':[{'name':'amount','type':'decimal','scale':2},"
		  "  {'name':'status','type':'enum','options':['open','won','lost']}],'indexes':[['owner','created_at']]}");
	/* the oracle's copy: amounts scaled, the UTC month computed here */
	crm__buf_puts(&oracle, "CREATE TABLE o_deal(owner text, amount bigint, status text, month text)");
	exec_sql(db, &oracle);
	crm__buf_puts(&oracle, "INSERT INTO o_deal VALUES ");
	/* 15 months of deals by three reps; nothing at all in 2025-04 */
	for (int i = 0; i < 450; i++) {
		char rec[96], day[16];
		int month = i / 30;
		int64_t at = t0 + (int64_t)month * 31 * 86400000 + (int64_t)(i % 30) * 3600000;
		const char *status = i % 4 == 0 ? "lost" : i % 4 == 1 ? "open" : "won";
		if (month == 3)
			continue;
		crm_actor_set(db, reps[i % 3], "sales");
		crm_clock_set(db, at);
		snprintf(rec, sizeof rec, "{\"amount\":\"%d.%02d\",\"status\":\"%s\"}", 100 + i * 7 % 900, i % 100, status);
		CHECK_OK(db, crm_record_insert(db, "deal", rec, NULL));
		local_day(at, 0, day);
		crm__buf_printf(&oracle, "%s('%s',%d,'%s','%.7s')", i ? "," : "", reps[i % 3], (100 + i * 7 % 900) * 100 + i % 100,
				status, day);
	}
	exec_sql(db, &oracle);
	crm__buf_free(&oracle);
	apply(db, "{'report':'leaderboard','source':'deal',"
		  " 'dimensions':[{'field':'owner','name':'rep','label':'Sales rep'},{'field':'created_at','bucket':'month','name':'month'}],"
		  " 'measures':[{'name':'revenue','agg':'sum','field':'amount','filter':{'field':'status','op':'eq','value':'won'}},"
		  "  {'name':'deals_won','agg':'count','filter':{'field':'status','op':'eq','value':'won'}},"
		  "  {'name':'avg_deal','ratio':['revenue','deals_won']}],"
		  " 'filter':{'field':'owner','op':'eq','param':'rep'},"
		  " 'compare':'previous_period','order':[{'dimension':'month','dir':'desc'}]}");
	CHECK(same_as_sql(db, "leaderboard", "{'rep':'ben'}",
			  "WITH m AS (SELECT owner o, month k, sum(CASE WHEN status = 'won' THEN amount END) r,"
			  "  sum(CASE WHEN status = 'won' THEN 1 ELSE 0 END) n FROM o_deal WHERE owner = 'ben' GROUP BY 1, 2),"
			  " x AS (SELECT m.*, CASE WHEN m.n = 0 THEN NULL ELSE m.r / 100.0 / m.n END a, p.r pr, coalesce(p.n, 0) pn,"
			  "  CASE WHEN p.n = 0 THEN NULL ELSE p.r / 100.0 / p.n END pa"
			  "  FROM m LEFT JOIN m p ON p.o = m.o AND " MONTH_NO("p.k") " = " MONTH_NO("m.k") " - 1)"
			  " SELECT o, k, r, n, a, pr, r - pr, CASE WHEN pr = 0 THEN NULL ELSE (r - pr) * 100.0 / abs(pr) END,"
			  "  pn, n - pn, CASE WHEN pn = 0 THEN NULL ELSE (n - pn) * 100.0 / abs(pn) END,"
			  "  pa, a - pa, CASE WHEN pa = 0 THEN NULL ELSE (a - pa) * 100.0 / abs(pa) END"
			  " FROM x ORDER BY k DESC") == 14);
	{
		crm_report *r = NULL;
		int64_t n = 0;
		char *query = NULL;
		CHECK_OK(db, crm_report_run(&r, db, "leaderboard", q("{'rep':'cho'}")));
		CHECK_STR(crm_report_column_label(r, 0), "Sales rep");
		CHECK_INT(crm_report_column_type(r, 0), CRM_TYPE_TEXT);
		CHECK_INT(crm_report_column_type(r, 2), CRM_TYPE_DECIMAL);
		CHECK_STR(crm_report_column_name(r, 5), "revenue_prev");
		CHECK_STR(crm_report_column_label(r, 7), "revenue (% change)");
		CHECK_INT(crm_report_next(r), CRM_ROW);
		CHECK_OK(db, crm_report_drill(db, "leaderboard", q("{'rep':'cho'}"), crm_report_json(r), &query));
		CHECK_HAS(query, "{\"field\":\"owner\",\"op\":\"eq\",\"value\":\"cho\"}");
		CHECK_OK(db, crm_count(db, "deal", query, &n));
		{
			char sql[200];
			snprintf(sql, sizeof sql,
				 "SELECT count(*) FROM o_deal WHERE owner = 'cho' AND month = '%s'",
				 crm_report_text(r, 1));
			CHECK_INT(n, sql_int(db, sql));
			CHECK_INT(n, 10);
		}
		crm_free(query);
		crm_report_free(r);
	}
	crm_close(db);
}

/* ---- channel ROI (scenario 13): measures through references ---- */

TEST(test_report_paths__channel_roi_from_deals_back_to_campaign_spend)
{
	crm_db *db = test_db();
	char *rows;

	apply(db, "[{'form':'campaign','fields':[{'name':'name','type':'text'},{'name':'channel','type':'enum','options':['wechat','douyin']},"
		  "   {'name':'spend','type':'decimal','scale':2}]},"
		  " {'form':'lead','fields':[{'name':'name','type':'text'},{'name':'campaign','type':'ref','form':'campaign'}]},"
		  " {'form':'deal','fields':[{'name':'lead','type':'ref','form':'lead'},{'name':'amount','type':'decimal','scale':2},"
		  "   {'name':'status','type':'enum','options':['open','won','lost']}]}]");
	CHECK_OK(db, crm_record_insert_many(db, "campaign",
					    q("[{'name':'spring','channel':'wechat','spend':'1000.00'},{'name':'live','channel':'douyin','spend':'2500.50'},"
					      "{'name':'idle','channel':'douyin','spend':'300.00'}]"),
					    NULL, NULL));
	CHECK_OK(db, crm_record_insert_many(db, "lead", q("[{'campaign':1},{'campaign':1},{'campaign':2},{'name':'walk-in'}]"), NULL, NULL));
	CHECK_OK(db, crm_record_insert_many(db, "deal",
					    q("[{'lead':1,'amount':'1500.00','status':'won'},{'lead':2,'amount':'700.25','status':'won'},"
					      "{'lead':2,'amount':'99.00','status':'lost'},{'lead':3,'amount':'5001.00','status':'won'},"
					      "{'lead':4,'amount':'10.00','status':'won'}]"),
					    NULL, NULL));
	apply(db, "{'report':'channel_roi','source':'deal',"
		  " 'dimensions':[{'field':'lead.campaign.channel','name':'channel'},{'field':'lead.campaign.name','name':'campaign'}],"
		  " 'measures':[{'name':'revenue','agg':'sum','field':'amount','filter':{'field':'status','op':'eq','value':'won'}},"
		  "  {'name':'spend','agg':'max','field':'lead.campaign.spend'},{'name':'roi','ratio':['revenue','spend']}],"
		  " 'order':[{'measure':'roi','dir':'desc'}]}");
	rows = report_rows(db, "channel_roi", NULL);
	CHECK_STR(rows, "{\"channel\":\"wechat\",\"campaign\":\"spring\",\"revenue\":2200.25,\"spend\":1000.00,\"roi\":2.20025}\n"
			"{\"channel\":\"douyin\",\"campaign\":\"live\",\"revenue\":5001.00,\"spend\":2500.50,\"roi\":2}\n"
			"{\"channel\":null,\"campaign\":null,\"revenue\":10.00,\"spend\":null,\"roi\":null}\n");
	free(rows);
	{
		char *query = NULL;
		int64_t n = 0;
		CHECK_OK(db, crm_report_drill(db, "channel_roi", NULL, q("{'channel':'wechat','campaign':'spring'}"), &query));
		/* both dimensions go through "lead": one list of the leads matching both */
		CHECK_STR(query, "{\"filter\":{\"and\":[{\"field\":\"lead\",\"op\":\"in\",\"value\":[1,2]}]}}");
		CHECK_OK(db, crm_count(db, "deal", query, &n));
		CHECK_INT(n, 3);
		crm_free(query);
	}
	crm_close(db);
}

/* ---- out of memory ---- */

static long oom_countdown = -1; /* allocations left before failing; -1: never fail */

static void *oom_malloc(size_t n, void *payload)
{
	(void)payload;
	if (oom_countdown == 0)
		return NULL;
	if (oom_countdown > 0)
		oom_countdown--;
	return malloc(n);
}

static void *oom_realloc(void *p, size_t n, void *payload)
{
	(void)payload;
	if (oom_countdown == 0)
		return NULL;
	if (oom_countdown > 0)
		oom_countdown--;
	return realloc(p, n);
}

static void oom_free(void *p, void *payload)
{
	(void)payload;
	free(p);
}

/* Run op with the Nth allocation failing, for N = 0, 1, 2, ... until it
 * succeeds: every failure is a clean error (nothing leaks: ASan), and the
 * handle keeps working. Returns the number of failing runs. */
static int every_failing_allocation(crm_db *db, int (*op)(crm_db *db, int i))
{
	int rc = CRM_ENOMEM, i = 0;
	int64_t n;

	/* load the forms into the handle's cache first (see below) */
	CHECK_OK(db, crm_count(db, "lead", NULL, &n));
	CHECK_OK(db, crm_count(db, "customer", NULL, &n));
	CHECK_OK(db, crm_count(db, "account", NULL, &n));
	for (; rc != CRM_OK && i < 100000; i++) {
		/* compile reports from their stored definitions again (the form
		 * cache stays: its own failures are the form engine's business) */
		if (db->ext[CRM__EXT_REPORT])
			db->ext_flush[CRM__EXT_REPORT](db->ext[CRM__EXT_REPORT]);
		oom_countdown = i;
		rc = op(db, i);
		oom_countdown = -1;
		if (rc != CRM_OK && rc != CRM_ENOMEM) {
			fprintf(stderr, "allocation %d: %s: %s\n", i, crm_errstr(rc), crm_errdetail(db));
			test_failures_++;
			break;
		}
	}
	CHECK_INT(rc, CRM_OK);
	return i - 1;
}

static int oom_apply(crm_db *db, int i)
{
	const char *def = (
		 "{'report':'oom','source':'lead','timezone':'+08:00',"
		 " 'dimensions':['region',{'field':'customer.account.tier'},{'field':'at','bucket':'week'}],"
		 " 'measures':[{'name':'n','agg':'count'},{'name':'b','agg':'sum','field':'budget','filter':{'field':'hot','op':'eq','value':true}},"
		 "  {'name':'r','ratio':['b','n']}],"
		 " 'filter':{'or':[{'field':'customer.industry','op':'ne','param':'ind'},{'field':'at','op':'ge','param':'since'}]},"
		 " 'params':{'since':{'type':'datetime','default':'2025-01-01T00:00:00Z'}},"
		 " 'having':{'measure':'n','op':'gt','value':0},'compare':'previous_period','running':['n'],"
		 " 'rolling':[{'measure':'b','window':2}],'totals':true,'order':['-n']}");
	/* Through the engine's own entry (crm_apply's parse of the whole
	 * document is core's business), in a transaction as crm_apply does. */
	cJSON *doc;
	int rc;

	oom_countdown = -1;
	doc = cJSON_Parse(q(def));
	oom_countdown = i;
	if ((rc = crm__tx_begin(db)) == CRM_OK)
		rc = crm__tx_end(db, crm__report_apply(db, doc));
	oom_countdown = -1;
	cJSON_Delete(doc);
	return rc;
}

static int oom_output(crm_db *db, int i)
{
	char *out = NULL;
	int rc = crm_report_output(db, "oom", q("{'ind':'tech'}"), i % 2 ? "csv" : "json", &out);
	crm_free(out);
	return rc;
}

static int oom_drill(crm_db *db, int i)
{
	char *out = NULL;
	int rc = crm_report_drill(db, "oom", q("{'ind':'tech'}"),
				  q("{'region':'north','customer_account_tier':'gold','at_week':'2025-W10','_total':null}"), &out);
	(void)i;
	crm_free(out);
	return rc;
}

static int oom_explain(crm_db *db, int i)
{
	char *out = NULL;
	int rc = crm_report_explain(db, "funnel", NULL, &out);
	(void)i;
	crm_free(out);
	return rc;
}

TEST(test_report_oom__every_failing_allocation_fails_cleanly)
{
	crm_allocator a = { CRM_ALLOCATOR_VERSION, oom_malloc, oom_realloc, oom_free, NULL };
	crm_db *db;

	CHECK_OK(NULL, crm_allocator_set(&a));
	db = test_db();
	apply(db, forms);
	CHECK_OK(db, crm_record_insert_many(db, "account", q("[{'name':'a1','tier':'gold'}]"), NULL, NULL));
	CHECK_OK(db, crm_record_insert_many(db, "customer", q("[{'name':'c1','industry':'tech','account':1},{'name':'c2'}]"), NULL, NULL));
	CHECK_OK(db, crm_record_insert_many(db, "lead",
					    q("[{'region':'north','customer':1,'at':'2025-03-04T00:00:00Z','budget':1,'hot':true,'stage':'new'},"
					      "{'region':'north','customer':2,'at':'2025-03-05T00:00:00Z','stage':'won'},"
					      "{'region':'south','at':'2025-03-14T00:00:00Z','budget':2.5,'hot':true}]"),
					    NULL, NULL));
	apply(db, "{'report':'funnel','source':'lead','dimensions':['customer.industry'],"
		  " 'funnel':{'field':'stage','stages':['new','qualified','won']}}");
	CHECK(every_failing_allocation(db, oom_apply) > 50);
	CHECK(every_failing_allocation(db, oom_output) > 50);
	CHECK(every_failing_allocation(db, oom_drill) > 50);
	CHECK(every_failing_allocation(db, oom_explain) > 10);
	crm_close(db);
	crm_allocator_set(NULL);
}

/* ---- versions, caching, output ---- */

TEST(test_report_catalog__versions_reapply_and_changed_forms)
{
	crm_db *db = sales_db();
	crm_report *r = NULL;
	char *out = NULL;
	const char *v1 = "{'report':'v','source':'lead','dimensions':['region'],'measures':[{'name':'n','agg':'count'}]}";

	apply(db, v1);
	apply(db, v1);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_meta WHERE kind = 'report' AND name = 'v'"), 1);
	CHECK_OK(db, crm_report_run(&r, db, "v", NULL));
	CHECK_INT(crm_report_column_count(r), 2);
	CHECK_STR(crm_report_column_label(r, 0), "region");
	CHECK_INT(crm_report_column_type(r, 0), CRM_TYPE_ENUM);
	CHECK_INT(crm_report_next(r), CRM_ROW);
	/* a new version while a cursor is open: the cursor keeps its own */
	apply(db, "{'report':'v','source':'lead','dimensions':['channel'],'measures':[{'name':'n','agg':'count'},"
		  "{'name':'b','agg':'sum','field':'budget','label':'Budget'}]}");
	CHECK_INT(sql_int(db, "SELECT max(version) FROM crm_meta WHERE kind = 'report' AND name = 'v'"), 2);
	CHECK_INT(crm_report_next(r), CRM_ROW);
	CHECK_INT(crm_report_column_count(r), 2);
	crm_report_free(r);
	CHECK_OK(db, crm_report_output(db, "v", NULL, "json", &out));
	CHECK_HAS(out, "{\"columns\":[{\"name\":\"channel\",\"label\":\"channel\",\"type\":\"enum\"},"
		       "{\"name\":\"n\",\"label\":\"n\",\"type\":\"integer\"},{\"name\":\"b\",\"label\":\"Budget\",\"type\":\"decimal\",\"scale\":2}],"
		       "\"rows\":[{\"channel\":\"douyin\",");
	crm_free(out);
	CHECK_RC(db, crm_report_output(db, "v", NULL, "xml", &out), CRM_EINVAL);
	CHECK_RC(db, crm_report_run(&r, db, "nope", NULL), CRM_ENOTFOUND);
	/* a form change that breaks the report: running it says so */
	apply(db, "{'report':'w','source':'customer','dimensions':['since'],'measures':[{'name':'n','agg':'count'}]}");
	test_apply_lossy(db, q("{'form':'customer','fields':[{'name':'name','type':'text'},"
			       "  {'name':'industry','type':'enum','options':['tech','retail','finance']},"
			       "  {'name':'account','type':'ref','form':'account'},"
			       "  {'name':'primary_lead','type':'ref','form':'lead','on_delete':'set_null'}]}"));
	CHECK_RC(db, crm_report_run(&r, db, "w", NULL), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "report 'w' no longer matches the forms it reads");
	CHECK_HAS(crm_errdetail(db), "\"path\":\"dimensions[0]\"");
	crm_close(db);
}

TEST(test_report_catalog__other_handles_see_new_versions)
{
	char path[] = "/tmp/crm_report_XXXXXX";
	int fd = mkstemp(path);
	crm_db *a = NULL, *b = NULL;
	char *out = NULL;

	CHECK(fd >= 0);
	close(fd);
	CHECK_OK(a, crm_open(&a, path, NULL));
	CHECK_OK(b, crm_open(&b, path, NULL));
	apply(a, "{'form':'t','fields':[{'name':'k','type':'text'}]}");
	CHECK_OK(a, crm_record_insert(a, "t", "{\"k\":\"x\"}", NULL));
	apply(a, "{'report':'r','source':'t','dimensions':['k'],'measures':[{'name':'n','agg':'count'}]}");
	CHECK_OK(b, crm_report_output(b, "r", NULL, "csv", &out));
	CHECK_STR(out, "k,n\nx,1\n");
	crm_free(out);
	apply(a, "{'report':'r','source':'t','measures':[{'name':'n','agg':'count'}]}");
	CHECK_OK(b, crm_report_output(b, "r", NULL, "csv", &out));
	CHECK_STR(out, "n\n1\n");
	crm_free(out);
	crm_close(a);
	crm_close(b);
	remove(path);
}

TEST_LIST(T(test_report_measures__every_aggregate_matches_sql_with_nulls),
	  T(test_report_measures__no_dimensions_is_one_row_even_without_records),
	  T(test_report_measures__decimal_sums_are_exact),
	  T(test_report_measures__sums_past_64_bits_are_a_clear_error_in_every_output),
	  T(test_report_buckets__extreme_instants_land_in_the_first_and_last_bucket_in_every_zone),
	  T(test_report_paths__dimensions_filters_and_measures_through_references),
	  T(test_report_buckets__month_quarter_year_day_in_a_time_zone_match_sql),
	  T(test_report_buckets__year_boundary_depends_on_the_time_zone),
	  T(test_report_buckets__an_empty_datetime_stays_empty_in_a_time_zone),
	  T(test_report_buckets__iso_weeks_across_year_boundaries),
	  T(test_report_buckets__iso_weeks_of_every_lead_match_c),
	  T(test_report_ratios__zero_and_empty_denominators_give_null),
	  T(test_report_having__order_and_limit_match_sql),
	  T(test_report_totals__subtotals_per_first_dimension_and_grand_total),
	  T(test_report_compare__previous_period_with_a_missing_month),
	  T(test_report_compare__same_period_last_year),
	  T(test_report_windows__running_and_rolling_count_periods_not_rows),
	  T(test_report_funnel__enum_stages_by_channel_match_c),
	  T(test_report_funnel__from_workflow_history),
	  T(test_report_drill__every_row_finds_exactly_its_records),
	  T(test_report_explain__shows_sql_binds_and_the_index_in_the_plan),
	  T(test_report_params__missing_unknown_wrong_type_and_sql_looking_values),
	  T(test_report_define__bad_definitions_are_refused_with_a_path),
	  T(test_report_system_columns__leaderboard_by_owner_and_created_month),
	  T(test_report_paths__channel_roi_from_deals_back_to_campaign_spend),
	  T(test_report_catalog__versions_reapply_and_changed_forms),
	  T(test_report_catalog__other_handles_see_new_versions),
	  T(test_report_oom__every_failing_allocation_fails_cleanly))
