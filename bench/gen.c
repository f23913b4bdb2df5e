/* Shared data and definitions of the benchmarks (see gen.h). Everything
 * here runs outside the clocks except the workflow guard, which is the
 * reference side's own work. */
#include "gen.h"

#include <lauxlib.h>
#include <lualib.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bench_crm_check(crm_db *db, int rc, const char *what)
{
	if (rc != CRM_OK)
		bench_die("%s: %s (%s) %s", what, crm_errstr(rc), db ? crm_errmsg(db) : "",
			  db ? crm_errdetail(db) : "");
}

int bench_read_kind(int type)
{
	switch (type) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_DECIMAL:
	case CRM_TYPE_BOOLEAN:
	case CRM_TYPE_DATETIME:
	case CRM_TYPE_REF:
		return BENCH_READ_INT;
	case CRM_TYPE_NUMBER:
		return BENCH_READ_DOUBLE;
	default:
		return BENCH_READ_TEXT;
	}
}

/* ---- leads ---- */

/* The lead form's fields and indexes, after "{\"form\":\"lead\",". */
#define LEAD_BODY \
	"\"label\":\"Lead\",\"fields\":[" \
	"{\"name\":\"name\",\"type\":\"text\",\"required\":true,\"max_length\":100}," \
	"{\"name\":\"phone\",\"type\":\"phone\",\"unique\":true,\"pattern\":\"^1[3-9]\\\\d{9}$\"}," \
	"{\"name\":\"email\",\"type\":\"email\"}," \
	"{\"name\":\"region\",\"type\":\"enum\",\"options\":[\"north\",\"south\",\"east\",\"west\"]}," \
	"{\"name\":\"score\",\"type\":\"integer\",\"min\":0}," \
	"{\"name\":\"budget\",\"type\":\"decimal\",\"scale\":2}," \
	"{\"name\":\"source\",\"type\":\"enum\",\"options\":" \
	"[\"website\",\"wechat\",\"referral\",\"event\",\"cold_call\"]}," \
	"{\"name\":\"city\",\"type\":\"text\"}," \
	"{\"name\":\"created_on\",\"type\":\"date\"}," \
	"{\"name\":\"notes\",\"type\":\"text\"}]," \
	"\"indexes\":[[\"region\"]]}"

/* The benches measure what they measured before the audit trail and the
 * record events: their lead form says "audit": false and "events": false;
 * insert_batch_audited uses the audited (and evented) one. */
const char bench_lead_form[] = "{\"form\":\"lead\",\"audit\":false,\"events\":false," LEAD_BODY;
const char bench_lead_form_audited[] = "{\"form\":\"lead\"," LEAD_BODY;

const char bench_lead_query[] =
	"{\"filter\":{\"and\":[{\"field\":\"region\",\"op\":\"eq\",\"value\":\"north\"},"
	"{\"field\":\"score\",\"op\":\"ge\",\"value\":900}]},"
	"\"sort\":[\"-score\"],\"limit\":10000}";

const char bench_lead_rls_query[] =
	"{\"filter\":{\"field\":\"score\",\"op\":\"ge\",\"value\":900},\"sort\":[\"-score\"],\"limit\":10000}";
const char bench_lead_rls_permissions[] =
	"\"permissions\":[{\"roles\":[\"rep\"],\"allow\":[\"read\"],"
	"\"rows\":{\"field\":\"region\",\"op\":\"eq\",\"actor\":\"region\"}}]";
const char bench_lead_rls_actor[] = "{\"user\":\"rep1\",\"roles\":[\"rep\"],\"attrs\":{\"region\":\"north\"}}";

const int bench_lead_text_column[BENCH_LEAD_NCOLS] = { 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 0 };

const char bench_lead_sql_insert[] =
	"INSERT INTO lead(name, phone, email, region, score, budget, source, city, created_on, notes,"
	" created_at, updated_at, owner, version)"
	" VALUES(?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?1, ?1, NULL, 1)";

/* The SQL libcrm compiles the query to (lib/form/query.c makes every order
 * total, so keyset tokens are exact). */
const char bench_lead_sql_query[] =
	"SELECT id, name, phone, email, region, score, budget, source, city, created_on, notes,"
	" created_at, updated_at, owner, version FROM lead"
	" WHERE region = ?1 AND score >= ?2 ORDER BY score DESC, id LIMIT ?3 OFFSET 0";

const char bench_lead_sql_get[] = "SELECT * FROM lead WHERE id = ?1";

const char *const bench_lead_regions[4] = { "north", "south", "east", "west" };
const char *const bench_lead_sources[5] = { "website", "wechat", "referral", "event", "cold_call" };
static const char *const SURNAMES[] = { "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao",
					"王", "李", "张", "刘", "陈", "杨", "黄", "赵" };
static const char *const GIVEN[] = { "Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan",
				     "伟", "芳", "娜", "敏", "静", "磊", "强", "艳" };
static const char *const CITIES[] = { "Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Chengdu",
				      "Hangzhou", "Wuhan", "Xi'an", "Nanjing", "Tianjin", "Suzhou",
				      "Chongqing", "Qingdao", "Shenyang", "Dalian", "Xiamen" };
static const char *const WORDS[] = { "called", "back", "next", "week", "interested", "in",
				     "premium", "plan", "asked", "for", "quote", "demo",
				     "scheduled", "budget", "approved", "pending", "manager",
				     "review", "follow", "up", "trade", "show", "lead", "warm" };

/* Days since 1970-01-01 -> civil date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, yoe, doy, mp;
	unsigned doe;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Phones: 3^18 is invertible mod 10^9, so i -> suffix is a bijection. */
void bench_lead_gen(bench_rng *rng, uint64_t i, bench_lead *r)
{
	uint64_t suffix = (i * 387420489ULL + 123456789ULL) % 1000000000ULL;
	int y, m, d, nwords, k, n;

	r->name_len = snprintf(r->name, sizeof r->name, "%s %s%s",
			       SURNAMES[bench_rng_below(rng, BENCH_COUNT(SURNAMES))],
			       GIVEN[bench_rng_below(rng, BENCH_COUNT(GIVEN))],
			       GIVEN[bench_rng_below(rng, BENCH_COUNT(GIVEN))]);
	snprintf(r->phone, sizeof r->phone, "1%c%09llu", (char)('3' + bench_rng_below(rng, 7)),
		 (unsigned long long)suffix);
	r->email_len = snprintf(r->email, sizeof r->email, "lead%llu@mail%u.example.com",
				(unsigned long long)i, (unsigned)bench_rng_below(rng, 50));
	r->region = (int)bench_rng_below(rng, BENCH_COUNT(bench_lead_regions));
	r->score = (int64_t)bench_rng_below(rng, 1000);
	r->budget_cents = (int64_t)bench_rng_below(rng, 10000000);
	r->source = (int)bench_rng_below(rng, BENCH_COUNT(bench_lead_sources));
	r->city_len = snprintf(r->city, sizeof r->city, "%s", CITIES[bench_rng_below(rng, BENCH_COUNT(CITIES))]);
	civil_from_days(18262 + (int64_t)bench_rng_below(rng, 1500), &y, &m, &d); /* from 2020-01-01 */
	snprintf(r->date, sizeof r->date, "%04d-%02d-%02d", y, m, d);
	nwords = 3 + (int)bench_rng_below(rng, 10);
	n = 0;
	for (k = 0; k < nwords; k++)
		n += snprintf(r->notes + n, sizeof r->notes - (size_t)n, "%s%s", k ? " " : "",
			      WORDS[bench_rng_below(rng, BENCH_COUNT(WORDS))]);
	r->notes_len = n;
	r->json_len = snprintf(r->json, sizeof r->json,
			       "{\"name\":\"%s\",\"phone\":\"%s\",\"email\":\"%s\",\"region\":\"%s\","
			       "\"score\":%lld,\"budget\":%lld.%02lld,\"source\":\"%s\",\"city\":\"%s\","
			       "\"created_on\":\"%s\",\"notes\":\"%s\"}",
			       r->name, r->phone, r->email, bench_lead_regions[r->region], (long long)r->score,
			       (long long)(r->budget_cents / 100), (long long)(r->budget_cents % 100),
			       bench_lead_sources[r->source], r->city, r->date, r->notes);
}

int bench_lead_crm_query(crm_db *db, bench_qsum *s, double *seconds)
{
	return bench_lead_crm_query_json(db, bench_lead_query, s, seconds);
}

int bench_lead_crm_query_json(crm_db *db, const char *query_json, bench_qsum *s, double *seconds)
{
	crm_cursor *cur = NULL;
	int kinds[64], ncol, i, score_col = -1, rc;
	double t0 = bench_now();

	memset(s, 0, sizeof *s);
	if ((rc = crm_query(&cur, db, "lead", query_json)) != CRM_OK)
		return rc;
	ncol = crm_cursor_column_count(cur);
	if (ncol <= 0 || ncol > 64)
		bench_die("crm_cursor_column_count: %d", ncol);
	for (i = 0; i < ncol; i++) {
		kinds[i] = bench_read_kind(crm_cursor_column_type(cur, i));
		if (strcmp(crm_cursor_column_name(cur, i), "score") == 0)
			score_col = i;
	}
	while ((rc = crm_cursor_next(cur)) == CRM_ROW) {
		for (i = 0; i < ncol; i++) {
			if (kinds[i] == BENCH_READ_INT) {
				s->touch += (uint64_t)crm_cursor_int64(cur, i);
			} else if (kinds[i] == BENCH_READ_DOUBLE) {
				s->touch += (uint64_t)crm_cursor_double(cur, i);
			} else {
				const char *t = crm_cursor_text(cur, i);

				if (t)
					s->touch += (unsigned char)t[0];
			}
		}
		if (score_col >= 0)
			s->score_sum += crm_cursor_int64(cur, score_col);
		s->rows++;
	}
	crm_cursor_free(cur);
	*seconds = bench_now() - t0;
	return rc == CRM_DONE ? CRM_OK : rc;
}

int bench_lead_crm_gets(crm_db *db, const int64_t *ids, long n, uint64_t *touch, double *seconds)
{
	double t0 = bench_now();
	long k;
	int rc;

	for (k = 0; k < n; k++) {
		char *json = NULL;

		rc = crm_record_get(db, "lead", ids[k], &json);
		if (rc != CRM_OK)
			return rc;
		*touch += (unsigned char)json[1];
		crm_free(json);
	}
	*seconds = bench_now() - t0;
	return CRM_OK;
}

/* ---- deals, customers and reports ---- */

#define REPORT_SEED 0x7265706f7274ULL /* "report" */
#define T0_MS 1672531200000LL         /* 2023-01-01T00:00:00Z: created_at spans three years from here */
#define SPAN_MS (1096LL * 86400000LL)

static const char *const REGIONS[] = { "north", "south", "east", "west", "central" };
static const char *const CHANNELS[] = { "web", "wechat", "referral", "event", "partner", "cold_call" };
static const char *const INDUSTRIES[] = { "software", "retail",  "manufacturing", "finance",
					  "healthcare", "education", "logistics", "energy",
					  "media",    "telecom", "real_estate", "hospitality" };
/* stage: weights in percent (the funnel lists all but "lost") */
static const char *const STAGES[] = { "new", "qualified", "proposal", "negotiation", "won", "lost" };
static const int STAGE_WEIGHT[] = { 30, 20, 15, 10, 15, 10 };
#define NOWNERS 200

const char bench_deal_metadata[] =
	"[{\"form\":\"customer\",\"fields\":["
	"{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"industry\",\"type\":\"enum\",\"options\":[\"software\",\"retail\",\"manufacturing\",\"finance\","
	"\"healthcare\",\"education\",\"logistics\",\"energy\",\"media\",\"telecom\",\"real_estate\",\"hospitality\"]},"
	"{\"name\":\"city\",\"type\":\"text\"}]},"
	"{\"form\":\"deal\",\"fields\":["
	"{\"name\":\"title\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\"},"
	"{\"name\":\"region\",\"type\":\"enum\",\"options\":[\"north\",\"south\",\"east\",\"west\",\"central\"]},"
	"{\"name\":\"channel\",\"type\":\"enum\",\"options\":[\"web\",\"wechat\",\"referral\",\"event\",\"partner\","
	"\"cold_call\"]},"
	"{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"qualified\",\"proposal\",\"negotiation\",\"won\","
	"\"lost\"]},"
	"{\"name\":\"amount\",\"type\":\"decimal\",\"scale\":2,\"min\":0},"
	"{\"name\":\"probability\",\"type\":\"integer\",\"min\":0,\"max\":100}]}]";

/* The reports: the definition, and the same question in SQLite SQL by hand. */

const bench_report_spec bench_reports[] = {
	{ "by_region_month",
	  "{\"report\":\"by_region_month\",\"source\":\"deal\","
	  "\"dimensions\":[\"region\",{\"field\":\"created_at\",\"bucket\":\"month\",\"name\":\"month\"}],"
	  "\"measures\":[{\"name\":\"deals\",\"agg\":\"count\"},{\"name\":\"total\",\"agg\":\"sum\",\"field\":\"amount\"}],"
	  "\"filter\":{\"field\":\"created_at\",\"op\":\"ge\",\"param\":\"since\"},"
	  "\"params\":{\"since\":{\"type\":\"datetime\",\"default\":\"2024-01-01T00:00:00Z\"}}}",
	  "{\"since\":\"" BENCH_SINCE_ISO "\"}",
	  /* grouped by the month's first day (cheaper than strftime('%Y-%m', ...) per record) */
	  "SELECT region, substr(month, 1, 7), count(*), sum(amount)"
	  " FROM (SELECT region, date(created_at / 1000, 'unixepoch', 'start of month') AS month, amount"
	  " FROM deal WHERE created_at >= ?1)"
	  " GROUP BY region, month ORDER BY region, month",
	  1 },
	{ "leaderboard",
	  "{\"report\":\"leaderboard\",\"source\":\"deal\","
	  "\"dimensions\":[{\"field\":\"owner\",\"name\":\"rep\"}],"
	  "\"measures\":[{\"name\":\"revenue\",\"agg\":\"sum\",\"field\":\"amount\"},{\"name\":\"deals\",\"agg\":\"count\"},"
	  "{\"name\":\"avg_deal\",\"ratio\":[\"revenue\",\"deals\"]}],"
	  "\"filter\":{\"field\":\"stage\",\"op\":\"eq\",\"value\":\"won\"},"
	  "\"order\":[\"-revenue\"],\"limit\":20}",
	  NULL,
	  "SELECT owner, sum(amount) AS revenue, count(*), sum(amount) / 100.0 / count(*)"
	  " FROM deal WHERE stage = 'won' GROUP BY owner ORDER BY revenue DESC, owner LIMIT 20",
	  0 },
	{ "by_industry",
	  "{\"report\":\"by_industry\",\"source\":\"deal\","
	  "\"dimensions\":[{\"field\":\"customer.industry\",\"name\":\"industry\"}],"
	  "\"measures\":[{\"name\":\"deals\",\"agg\":\"count\"},{\"name\":\"total\",\"agg\":\"sum\",\"field\":\"amount\"}]}",
	  NULL,
	  "SELECT c.industry, count(*), sum(d.amount) FROM deal AS d LEFT JOIN customer AS c ON c.id = d.customer"
	  " GROUP BY c.industry ORDER BY c.industry",
	  0 },
	{ "compare_month",
	  "{\"report\":\"compare_month\",\"source\":\"deal\","
	  "\"dimensions\":[\"region\",{\"field\":\"created_at\",\"bucket\":\"month\",\"name\":\"month\"}],"
	  "\"measures\":[{\"name\":\"revenue\",\"agg\":\"sum\",\"field\":\"amount\"}],"
	  "\"compare\":\"previous_period\"}",
	  NULL,
	  "WITH m AS (SELECT region, month, sum(amount) AS revenue"
	  " FROM (SELECT region, date(created_at / 1000, 'unixepoch', 'start of month') AS month, amount FROM deal)"
	  " GROUP BY region, month)"
	  " SELECT m.region, substr(m.month, 1, 7), m.revenue, p.revenue, m.revenue - p.revenue,"
	  " (m.revenue - p.revenue) * 100.0 / nullif(abs(p.revenue), 0)"
	  " FROM m LEFT JOIN m AS p ON p.region IS m.region AND p.month = date(m.month, '-1 month')"
	  " ORDER BY m.region, m.month",
	  0 },
	{ "funnel",
	  "{\"report\":\"funnel\",\"source\":\"deal\","
	  "\"funnel\":{\"field\":\"stage\",\"stages\":[\"new\",\"qualified\",\"proposal\",\"negotiation\",\"won\"]},"
	  "\"dimensions\":[\"channel\"]}",
	  NULL,
	  /* count once per (channel, stage), then add up the later stages */
	  "WITH s(i, name) AS (VALUES (0, 'new'), (1, 'qualified'), (2, 'proposal'), (3, 'negotiation'), (4, 'won')),"
	  " n AS (SELECT channel, stage, count(*) AS n FROM deal"
	  "  WHERE stage IN ('new', 'qualified', 'proposal', 'negotiation', 'won') GROUP BY channel, stage),"
	  " g AS (SELECT c.channel, s.i, s.name, coalesce(n.n, 0) AS n"
	  "  FROM (SELECT DISTINCT channel FROM n) AS c CROSS JOIN s"
	  "  LEFT JOIN n ON n.channel IS c.channel AND n.stage = s.name),"
	  " r AS (SELECT channel, i, name, sum(n) OVER (PARTITION BY channel ORDER BY i DESC) AS reached FROM g)"
	  " SELECT channel, name, reached,"
	  " CASE WHEN i = 0 THEN NULL ELSE reached * 1.0 / nullif(lag(reached) OVER w, 0) END,"
	  " reached * 1.0 / nullif(first_value(reached) OVER w, 0)"
	  " FROM r WINDOW w AS (PARTITION BY channel ORDER BY i) ORDER BY channel, i",
	  0 },
};
const int bench_nreports = (int)BENCH_COUNT(bench_reports);

static int64_t clock_now; /* created_at of the record being inserted */

static int64_t bench_clock(void *payload)
{
	(void)payload;
	return clock_now;
}

static int gen_customers(crm_db *db)
{
	bench_rng rng;
	crm_batch *b = NULL;
	char json[256];
	int n, rc;

	bench_rng_seed(&rng, REPORT_SEED ^ 0x63757374ULL);
	if ((rc = crm_batch_begin(&b, db, "customer")) != CRM_OK)
		return rc;
	for (long i = 0; i < BENCH_NCUSTOMERS; i++) {
		clock_now = T0_MS - 86400000LL * 365 + (int64_t)bench_rng_below(&rng, 86400000ULL * 365);
		if (bench_rng_below(&rng, 50) == 0) /* 2% without an industry */
			n = snprintf(json, sizeof json, "{\"name\":\"Customer %ld\",\"city\":\"City %u\"}", i,
				     (unsigned)bench_rng_below(&rng, 300));
		else
			n = snprintf(json, sizeof json, "{\"name\":\"Customer %ld\",\"industry\":\"%s\",\"city\":\"City %u\"}",
				     i, INDUSTRIES[bench_rng_below(&rng, BENCH_COUNT(INDUSTRIES))],
				     (unsigned)bench_rng_below(&rng, 300));
		if ((rc = crm_batch_add(b, json, n, NULL)) != CRM_OK)
			break;
	}
	if (rc == CRM_OK)
		rc = crm_batch_commit(b);
	crm_batch_free(b);
	return rc;
}

static int gen_deals(crm_db *db, long nrows)
{
	bench_rng rng;
	crm_batch *b = NULL;
	char json[512], customer[48];
	int n, rc;

	bench_rng_seed(&rng, REPORT_SEED);
	if ((rc = crm_batch_begin(&b, db, "deal")) != CRM_OK)
		return rc;
	for (long i = 0; i < nrows; i++) {
		int w = (int)bench_rng_below(&rng, 100), s = 0;

		while (w >= STAGE_WEIGHT[s]) {
			w -= STAGE_WEIGHT[s];
			s++;
		}
		clock_now = T0_MS + (int64_t)bench_rng_below(&rng, (uint64_t)SPAN_MS);
		if (bench_rng_below(&rng, 100) < 3) /* 3% without a customer */
			customer[0] = '\0';
		else
			snprintf(customer, sizeof customer, "\"customer\":%llu,",
				 (unsigned long long)(1 + bench_rng_below(&rng, BENCH_NCUSTOMERS)));
		{
			uint64_t cents = 10000 + bench_rng_below(&rng, 50000000); /* 100.00 .. 500099.99 */

			n = snprintf(json, sizeof json,
				     "{\"title\":\"Deal %ld for account %u\",%s\"region\":\"%s\",\"channel\":\"%s\","
				     "\"stage\":\"%s\",\"amount\":\"%llu.%02llu\",\"probability\":%u,\"owner\":\"rep%03u\"}",
				     i, (unsigned)bench_rng_below(&rng, 100000), customer,
				     REGIONS[bench_rng_below(&rng, BENCH_COUNT(REGIONS))],
				     CHANNELS[bench_rng_below(&rng, BENCH_COUNT(CHANNELS))], STAGES[s],
				     (unsigned long long)(cents / 100), (unsigned long long)(cents % 100),
				     (unsigned)bench_rng_below(&rng, 101), (unsigned)bench_rng_below(&rng, NOWNERS));
		}
		if ((rc = crm_batch_add(b, json, n, NULL)) != CRM_OK)
			break;
	}
	if (rc == CRM_OK)
		rc = crm_batch_commit(b);
	crm_batch_free(b);
	return rc;
}

int bench_deals_generate(crm_db *db, long nrows)
{
	int rc = crm_clock_set_fn(db, bench_clock, NULL);

	if (rc == CRM_OK)
		rc = gen_customers(db);
	if (rc == CRM_OK)
		rc = gen_deals(db, nrows);
	if (rc == CRM_OK)
		rc = crm_clock_set_fn(db, NULL, NULL);
	else
		crm_clock_set_fn(db, NULL, NULL); /* keeps the first error's message */
	return rc;
}

/* ---- report results ---- */

void bench_result_grow(bench_result *r)
{
	if (r->nrows < r->cap)
		return;
	r->cap = r->cap ? r->cap * 2 : 64;
	r->cells = realloc(r->cells, sizeof *r->cells * (size_t)(r->cap * r->ncols));
	if (!r->cells)
		bench_die("out of memory");
}

bench_cell *bench_result_cell(bench_result *r, long row, int col) { return &r->cells[row * r->ncols + col]; }

void bench_result_free(bench_result *r)
{
	for (long k = 0; k < r->nrows * r->ncols; k++)
		free(r->cells[k].s);
	free(r->cells);
	memset(r, 0, sizeof *r);
}

void bench_cell_set(bench_cell *c, int null, int64_t i, double d, const char *s)
{
	c->null = null;
	c->i = i;
	c->d = d;
	c->s = s && !null ? strdup(s) : NULL;
}

int bench_result_differs(const bench_result *a, const bench_result *b, const int *kinds, const char *ref, char *why,
			 size_t whylen)
{
	if (a->nrows != b->nrows || a->ncols != b->ncols) {
		snprintf(why, whylen, "libcrm %ld rows x %d columns, %s %ld rows x %d columns", a->nrows, a->ncols, ref,
			 b->nrows, b->ncols);
		return 1;
	}
	for (long r = 0; r < a->nrows; r++)
		for (int i = 0; i < a->ncols; i++) {
			const bench_cell *x = &a->cells[r * a->ncols + i], *y = &b->cells[r * b->ncols + i];
			int same = x->null == y->null;

			if (same && !x->null) {
				if (kinds[i] == BENCH_READ_INT)
					same = x->i == y->i;
				else if (kinds[i] == BENCH_READ_DOUBLE)
					same = fabs(x->d - y->d) <= 1e-9 * fmax(1.0, fabs(y->d));
				else
					same = strcmp(x->s, y->s) == 0;
			}
			if (!same) {
				snprintf(why, whylen, "row %ld column %d differs: libcrm %s/%lld/%.17g, %s %s/%lld/%.17g", r, i,
					 x->null ? "null" : x->s ? x->s : "", (long long)x->i, x->d, ref,
					 y->null ? "null" : y->s ? y->s : "", (long long)y->i, y->d);
				return 1;
			}
		}
	return 0;
}

int bench_report_crm_once(crm_db *db, const bench_report_spec *s, bench_report_out *o, bench_result *keep)
{
	crm_report *rep = NULL;
	int kinds[BENCH_REPORT_MAX_COLS], ncol, rc;
	double t0 = bench_now();

	memset(o, 0, sizeof *o);
	if ((rc = crm_report_run(&rep, db, s->name, s->params)) != CRM_OK)
		return rc;
	o->t_run = bench_now() - t0;
	ncol = crm_report_column_count(rep);
	if (ncol <= 0 || ncol > BENCH_REPORT_MAX_COLS)
		bench_die("%s: %d columns", s->name, ncol);
	for (int i = 0; i < ncol; i++)
		kinds[i] = bench_read_kind(crm_report_column_type(rep, i));
	if (keep)
		keep->ncols = ncol;
	while ((rc = crm_report_next(rep)) == CRM_ROW) {
		if (keep)
			bench_result_grow(keep);
		for (int i = 0; i < ncol; i++) {
			int64_t iv = 0;
			double dv = 0;
			const char *t = NULL;

			if (kinds[i] == BENCH_READ_INT) {
				iv = crm_report_int64(rep, i);
				o->touch += (uint64_t)iv;
			} else if (kinds[i] == BENCH_READ_DOUBLE) {
				dv = crm_report_double(rep, i);
				o->touch += (uint64_t)(int64_t)dv;
			} else if ((t = crm_report_text(rep, i)) != NULL)
				o->touch += (unsigned char)t[0];
			if (keep)
				bench_cell_set(bench_result_cell(keep, keep->nrows, i), crm_report_is_null(rep, i), iv, dv, t);
		}
		if (keep)
			keep->nrows++;
		o->rows++;
	}
	crm_report_free(rep);
	o->t_all = bench_now() - t0;
	return rc == CRM_DONE ? CRM_OK : rc;
}

int bench_report_kinds(crm_db *db, const bench_report_spec *s, int *kinds, int *ncol)
{
	crm_report *rep = NULL;
	int rc;

	if ((rc = crm_report_run(&rep, db, s->name, s->params)) != CRM_OK)
		return rc;
	*ncol = crm_report_column_count(rep);
	if (*ncol <= 0 || *ncol > BENCH_REPORT_MAX_COLS)
		bench_die("%s: %d columns", s->name, *ncol);
	for (int i = 0; i < *ncol; i++)
		kinds[i] = bench_read_kind(crm_report_column_type(rep, i));
	crm_report_free(rep);
	return CRM_OK;
}

/* ---- workflow ---- */

/* "audit": false, "events": false, as the lead form: the raw side writes no
 * audit trail and no record events (each transition still appends its
 * crm.transition event). */
const char bench_wf_metadata[] =
	"[{\"form\":\"deal\",\"audit\":false,\"events\":false,\"fields\":[{\"name\":\"name\",\"type\":\"text\"},{\"name\":\"score\",\"type\":\"integer\"},"
	"{\"name\":\"step\",\"type\":\"integer\"}]},"
	"{\"workflow\":\"pipeline\",\"form\":\"deal\",\"start_on\":\"create\",\"initial\":\"s0\","
	"\"states\":{\"s0\":{},\"s1\":{},\"s2\":{},\"s3\":{},\"s4\":{},\"s5\":{\"final\":true}},"
	"\"transitions\":["
	"{\"from\":\"s0\",\"event\":\"advance\",\"to\":\"s1\",\"guard\":\"record.score >= 10\",\"actions\":[{\"set\":{\"step\":1}}]},"
	"{\"from\":\"s1\",\"event\":\"advance\",\"to\":\"s2\",\"guard\":\"record.score >= 10\",\"actions\":[{\"set\":{\"step\":2}}]},"
	"{\"from\":\"s2\",\"event\":\"advance\",\"to\":\"s3\",\"guard\":\"record.score >= 10\",\"actions\":[{\"set\":{\"step\":3}}]},"
	"{\"from\":\"s3\",\"event\":\"advance\",\"to\":\"s4\",\"guard\":\"record.score >= 10\",\"actions\":[{\"set\":{\"step\":4}}]},"
	"{\"from\":\"s4\",\"event\":\"advance\",\"to\":\"s5\",\"guard\":\"record.score >= 10\",\"actions\":[{\"set\":{\"step\":5}}]}]}]";

const char *const bench_wf_states[BENCH_WF_STEPS + 1] = { "s0", "s1", "s2", "s3", "s4", "s5" };

const char bench_wf_sql_read_inst[] = "SELECT id, state FROM inst WHERE record=?";
const char bench_wf_sql_read_rec[] = "SELECT name, score, step, version FROM deal WHERE id=?";
const char bench_wf_sql_up_rec[] = "UPDATE deal SET step=?, updated_at=?, version=version+1 WHERE id=?";
const char bench_wf_sql_up_inst[] = "UPDATE inst SET state=?, entered_at=? WHERE id=?";
const char bench_wf_sql_hist[] = "INSERT INTO history(instance, at, event, from_state, to_state) VALUES(?,?,?,?,?)";

int bench_wf_load(crm_db *db, long n)
{
	crm_batch *batch = NULL;
	char json[96];
	int rc;

	if ((rc = crm_batch_begin(&batch, db, "deal")) != CRM_OK)
		return rc;
	for (long i = 0; i < n; i++) {
		snprintf(json, sizeof json, "{\"name\":\"deal %ld\",\"score\":%ld,\"step\":0}", i, 10 + i % 90);
		if ((rc = crm_batch_add(batch, json, -1, NULL)) != CRM_OK)
			break;
	}
	if (rc == CRM_OK)
		rc = crm_batch_commit(batch);
	crm_batch_free(batch);
	return rc;
}

void bench_guard_open(bench_guard *g)
{
	g->L = luaL_newstate();
	if (!g->L)
		bench_die("lua: out of memory");
	luaL_openlibs(g->L);
	if (luaL_loadstring(g->L, "return function(record) return (record.score >= 10) end") ||
	    lua_pcall(g->L, 0, 1, 0))
		bench_die("lua");
	g->ref = luaL_ref(g->L, LUA_REGISTRYINDEX);
}

int bench_guard_call(bench_guard *g, const char *name, int64_t score, int64_t step)
{
	lua_State *L = g->L;
	int ok;

	lua_rawgeti(L, LUA_REGISTRYINDEX, g->ref);
	lua_createtable(L, 0, 4);
	lua_pushstring(L, name);
	lua_setfield(L, -2, "name");
	lua_pushinteger(L, score);
	lua_setfield(L, -2, "score");
	lua_pushinteger(L, step);
	lua_setfield(L, -2, "step");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK)
		bench_die("raw: guard");
	ok = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return ok;
}

void bench_guard_close(bench_guard *g)
{
	lua_close(g->L);
	g->L = NULL;
}
