/* Access control against a reference evaluator: seeded random permission
 * rules (every rule kind: user, attribute, array attribute "in", visible
 * reference, a plain condition, hidden and read-only fields, several roles,
 * "*"), random actors and records; every path's answer (get, query with
 * filters, sort and token paging, count, create, update, delete, a report's totals
 * grouped by a readable field, one through a reference, drill-downs) is
 * compared with what plain C over the in-memory records and rules says.
 * Runs on both backends (test_db). CRM_DIFF_CASES scales the rounds up,
 * CRM_DIFF_SEED picks another seed; a failure prints the seed and round. */
#include <cJSON.h>
#include <stdarg.h>

#include "test.h"
#include "helpers.h"

enum { NUSERS = 5, NTEAMS = 3, NREGIONS = 4, NDEALS = 36, NACCTS = 8, NACTORS = 6, NCREATES = 3 };
/* room for the deals the actors of a round create */
enum { MAXDEALS = NDEALS + NACTORS * NCREATES, NO_MARGIN = -1000 };
enum { R_REP = 1, R_MGR = 2, R_FIN = 4 };
enum { A_READ = 1, A_CREATE = 2, A_UPDATE = 4, A_DELETE = 8 };
enum { ROWS_ALL, ROWS_OWNER, ROWS_TEAM, ROWS_REGIONS, ROWS_VISIBLE, ROWS_AMOUNT, ROWS_KINDS };
enum { F_OPEN, F_READ_ONLY, F_HIDDEN };
static const char *const role_names[] = { "rep", "mgr", "fin" };
static const char *const region_names[] = { "north", "south", "east", "west" };

typedef struct rule {
	int star;      /* roles "*" */
	unsigned roles, allow;
	int rows, amount_min;
	int margin, amount; /* F_x for the deal's margin and amount fields */
} rule;

typedef struct actor {
	int user;
	unsigned roles;
	int team;        /* -1: no team attribute */
	int has_regions; /* 0: no regions attribute */
	unsigned regions;
} actor;

typedef struct deal {
	int64_t id;
	int alive, owner, team, region; /* owner, team: -1 for none */
	int amount, margin; /* margin NO_MARGIN: null */
	int64_t acct; /* 0: none */
} deal;

typedef struct acct {
	int64_t id;
	int owner, team;
} acct;

typedef struct world {
	crm_db *db;
	uint64_t rng;
	rule deal_rules[4], acct_rules[2];
	int ndeal_rules, nacct_rules;
	deal deals[MAXDEALS];
	int ndeals;
	acct accts[NACCTS];
	int64_t cases, round;
	int64_t created, create_refused, create_unreadable_ref; /* how the creates went */
	char rules_doc[8192], actor_doc[512]; /* printed with a round's first mismatch */
	int64_t shown_round;
} world;

static uint64_t next(world *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}
static int pick(world *w, int n) { return (int)(next(w) % (uint64_t)n); }

/* A mismatch: the round's seed and the case, then carry on. */
static void mismatch(world *w, const char *fmt, ...)
{
	va_list ap;

	if (w->shown_round != w->round + 1) {
		w->shown_round = w->round + 1;
		fprintf(stderr, "round %lld: rules %s\n", (long long)w->round, w->rules_doc);
	}
	fprintf(stderr, "round %lld: actor %s: ", (long long)w->round, w->actor_doc);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	test_failures_++;
}

/* ---- the reference evaluator ---- */

static int applies(const rule *r, const actor *a)
{
	if (!r->star && !(r->roles & a->roles))
		return 0;
	/* a rule naming an attribute the actor lacks grants nothing */
	return !(r->rows == ROWS_TEAM && a->team < 0) && !(r->rows == ROWS_REGIONS && !a->has_regions);
}

static const acct *acct_of(const world *w, int64_t id)
{
	for (int i = 0; i < NACCTS; i++)
		if (w->accts[i].id == id)
			return &w->accts[i];
	return NULL;
}

static int acct_rows_hold(const rule *r, const actor *a, const acct *c)
{
	switch (r->rows) {
	case ROWS_OWNER: return c->owner >= 0 && c->owner == a->user;
	case ROWS_TEAM: return c->team >= 0 && c->team == a->team;
	default: return 1;
	}
}

static int acct_readable(const world *w, const actor *a, const acct *c)
{
	for (int i = 0; i < w->nacct_rules; i++) {
		const rule *r = &w->acct_rules[i];
		if (applies(r, a) && (r->allow & A_READ) && acct_rows_hold(r, a, c))
			return 1;
	}
	return 0;
}

/* Some rule of rules[0..n) that applies to a grants read: without one no field of the form is readable. */
static int reads_some(const rule *rules, int n, const actor *a)
{
	for (int i = 0; i < n; i++)
		if (applies(&rules[i], a) && (rules[i].allow & A_READ))
			return 1;
	return 0;
}

static int rows_hold(const world *w, const rule *r, const actor *a, const deal *d)
{
	const acct *c;

	switch (r->rows) {
	case ROWS_OWNER: return d->owner >= 0 && d->owner == a->user;
	case ROWS_TEAM: return d->team >= 0 && d->team == a->team;
	case ROWS_REGIONS: return (a->regions >> d->region) & 1;
	case ROWS_VISIBLE: return d->acct && (c = acct_of(w, d->acct)) && acct_readable(w, a, c);
	case ROWS_AMOUNT: return d->amount >= r->amount_min;
	default: return 1;
	}
}

static int granted(const world *w, const actor *a, const deal *d, unsigned op)
{
	for (int i = 0; i < w->ndeal_rules; i++) {
		const rule *r = &w->deal_rules[i];
		if (applies(r, a) && (r->allow & op) && rows_hold(w, r, a, d))
			return 1;
	}
	return 0;
}

static int readable(const world *w, const actor *a, const deal *d) { return d->alive && granted(w, a, d, A_READ); }

/* Field `which` (0 margin, 1 amount; other fields are never hidden) readable by a: some rule granting read leaves it visible. */
static int field_readable(const world *w, const actor *a, int which)
{
	for (int i = 0; i < w->ndeal_rules; i++) {
		const rule *r = &w->deal_rules[i];
		if (applies(r, a) && (r->allow & A_READ) && (which ? r->amount : r->margin) != F_HIDDEN)
			return 1;
	}
	return 0;
}

static int any_read(const world *w, const actor *a) { return reads_some(w->deal_rules, w->ndeal_rules, a); }

/* The expected code of updating d to `now` writing fields `written` (bit 0 margin, 1 amount, 2 team). */
static int update_expected(const world *w, const actor *a, const deal *d, const deal *now, unsigned written)
{
	if (!readable(w, a, d))
		return CRM_ENOTFOUND;
	for (int i = 0; i < w->ndeal_rules; i++) {
		const rule *r = &w->deal_rules[i];
		if (!applies(r, a) || !(r->allow & A_UPDATE) || !rows_hold(w, r, a, d) || !rows_hold(w, r, a, now))
			continue;
		/* a read-only field given the value it has is not written; a hidden one always is */
		if ((written & 1) && (r->margin == F_HIDDEN || (r->margin == F_READ_ONLY && now->margin != d->margin)))
			continue;
		if ((written & 2) && (r->amount == F_HIDDEN || (r->amount == F_READ_ONLY && now->amount != d->amount)))
			continue;
		return CRM_OK;
	}
	return CRM_EPERM;
}

/* ---- JSON of rules and actors ---- */

static void put(char **p, size_t *left, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*p, *left, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= *left)
		abort(); /* the buffers are sized for the largest document */
	*p += n;
	*left -= (size_t)n;
}

static void rule_json(char **p, size_t *left, const rule *r, int deal_form)
{
	int n = 0;

	put(p, left, "{\"roles\":");
	if (r->star)
		put(p, left, "\"*\"");
	else {
		put(p, left, "[");
		for (int i = 0; i < 3; i++)
			if (r->roles & (1u << i))
				put(p, left, "%s\"%s\"", n++ ? "," : "", role_names[i]);
		put(p, left, "]");
	}
	put(p, left, ",\"allow\":[");
	n = 0;
	for (int i = 0; i < 4; i++)
		if (r->allow & (1u << i))
			put(p, left, "%s\"%s\"", n++ ? "," : "", (const char *[]){ "read", "create", "update", "delete" }[i]);
	put(p, left, "]");
	switch (r->rows) {
	case ROWS_OWNER: put(p, left, ",\"rows\":{\"field\":\"owner\",\"op\":\"eq\",\"actor\":\"user\"}"); break;
	case ROWS_TEAM: put(p, left, ",\"rows\":{\"field\":\"team\",\"op\":\"eq\",\"actor\":\"team\"}"); break;
	case ROWS_REGIONS: put(p, left, ",\"rows\":{\"field\":\"region\",\"op\":\"in\",\"actor\":\"regions\"}"); break;
	case ROWS_VISIBLE: put(p, left, ",\"rows\":{\"field\":\"acct\",\"op\":\"visible\"}"); break;
	case ROWS_AMOUNT: put(p, left, ",\"rows\":{\"field\":\"amount\",\"op\":\"ge\",\"value\":%d}", r->amount_min); break;
	default: break;
	}
	if (deal_form && (r->margin || r->amount)) {
		static const char *const modes[] = { "", "read_only", "hidden" };
		put(p, left, ",\"fields\":{");
		if (r->margin)
			put(p, left, "\"margin\":\"%s\"%s", modes[r->margin], r->amount ? "," : "");
		if (r->amount)
			put(p, left, "\"amount\":\"%s\"", modes[r->amount]);
		put(p, left, "}");
	}
	put(p, left, "}");
}

static const char acct_fields[] = "\"fields\":[{\"name\":\"name\",\"type\":\"text\"},{\"name\":\"team\",\"type\":\"text\"}]";
static const char deal_fields[] =
	"\"fields\":[{\"name\":\"title\",\"type\":\"text\"},{\"name\":\"team\",\"type\":\"text\"},"
	"{\"name\":\"region\",\"type\":\"enum\",\"options\":[\"north\",\"south\",\"east\",\"west\"]},"
	"{\"name\":\"amount\",\"type\":\"integer\"},{\"name\":\"margin\",\"type\":\"integer\"},"
	"{\"name\":\"acct\",\"type\":\"ref\",\"form\":\"acct\"}]";

/* The forms with the round's rules (with_rules 0: open, for seeding). */
static void apply_forms(world *w, int with_rules)
{
	char doc[8192], *p = doc;
	size_t left = sizeof doc;

	put(&p, &left, "[{\"form\":\"acct\",%s", acct_fields);
	if (with_rules) {
		put(&p, &left, ",\"permissions\":[");
		for (int i = 0; i < w->nacct_rules; i++) {
			put(&p, &left, i ? "," : "");
			rule_json(&p, &left, &w->acct_rules[i], 0);
		}
		put(&p, &left, "]");
	}
	put(&p, &left, "},{\"form\":\"deal\",%s", deal_fields);
	if (with_rules) {
		put(&p, &left, ",\"permissions\":[");
		for (int i = 0; i < w->ndeal_rules; i++) {
			put(&p, &left, i ? "," : "");
			rule_json(&p, &left, &w->deal_rules[i], 1);
		}
		put(&p, &left, "]");
	}
	put(&p, &left, "},{\"report\":\"by_region\",\"source\":\"deal\",\"dimensions\":[\"region\"],"
		       "\"measures\":[{\"name\":\"n\",\"agg\":\"count\"},{\"name\":\"total\",\"agg\":\"sum\",\"field\":\"amount\"}]},"
		       "{\"report\":\"by_acct_team\",\"source\":\"deal\",\"dimensions\":[{\"field\":\"acct.team\",\"name\":\"team\"}],"
		       "\"measures\":[{\"name\":\"n\",\"agg\":\"count\"}]}]");
	snprintf(w->rules_doc, sizeof w->rules_doc, "%s", doc);
	if (crm_apply(w->db, doc) != CRM_OK)
		mismatch(w, "apply refused: %s", crm_errdetail(w->db));
}

static void set_actor(world *w, const actor *a)
{
	char doc[512], *p = doc;
	size_t left = sizeof doc;
	int n = 0;

	put(&p, &left, "{\"user\":\"u%d\",\"roles\":[", a->user);
	for (int i = 0; i < 3; i++)
		if (a->roles & (1u << i))
			put(&p, &left, "%s\"%s\"", n++ ? "," : "", role_names[i]);
	put(&p, &left, "],\"attrs\":{");
	n = 0;
	if (a->team >= 0)
		put(&p, &left, "\"team\":\"t%d\"", a->team), n++;
	if (a->has_regions) {
		int k = 0;
		put(&p, &left, "%s\"regions\":[", n ? "," : "");
		for (int i = 0; i < NREGIONS; i++)
			if ((a->regions >> i) & 1)
				put(&p, &left, "%s\"%s\"", k++ ? "," : "", region_names[i]);
		put(&p, &left, "]");
	}
	put(&p, &left, "}}");
	snprintf(w->actor_doc, sizeof w->actor_doc, "%s", doc);
	if (crm_actor_set_json(w->db, doc) != CRM_OK)
		mismatch(w, "actor refused: %s: %s", doc, crm_errdetail(w->db));
}

/* ---- seeding ---- */

static void random_rule(world *w, rule *r, int deal_form)
{
	memset(r, 0, sizeof *r);
	r->star = pick(w, 8) == 0;
	r->roles = 1u + (unsigned)pick(w, 7);
	r->allow = (pick(w, 5) ? A_READ : 0) | (unsigned)pick(w, 16);
	if (!r->allow)
		r->allow = A_READ;
	if (deal_form) {
		r->rows = pick(w, ROWS_KINDS);
		r->amount_min = pick(w, 1000);
		r->margin = pick(w, 3);
		r->amount = pick(w, 5) ? F_OPEN : pick(w, 3);
	} else {
		r->allow &= A_READ | A_UPDATE;
		r->allow |= A_READ;
		r->rows = (int[]){ ROWS_ALL, ROWS_OWNER, ROWS_TEAM }[pick(w, 3)];
	}
}

/* Records as their owners (forms open), so owner is set the ordinary way. */
static void seed(world *w)
{
	char doc[256];

	apply_forms(w, 0);
	for (int i = 0; i < NACCTS; i++) {
		acct *c = &w->accts[i];
		c->owner = pick(w, NUSERS + 1) - 1;
		c->team = pick(w, NTEAMS + 1) - 1;
		crm_actor_set(w->db, c->owner < 0 ? NULL : (const char *[]){ "u0", "u1", "u2", "u3", "u4" }[c->owner], NULL);
		if (c->team < 0)
			snprintf(doc, sizeof doc, "{\"name\":\"a%d\"}", i);
		else
			snprintf(doc, sizeof doc, "{\"name\":\"a%d\",\"team\":\"t%d\"}", i, c->team);
		CHECK_OK(w->db, crm_record_insert(w->db, "acct", doc, &c->id));
	}
	w->ndeals = NDEALS;
	for (int i = 0; i < NDEALS; i++) {
		deal *d = &w->deals[i];
		char acct_json[32] = "null", team_json[16] = "null";
		d->alive = 1;
		d->owner = pick(w, NUSERS + 1) - 1;
		d->team = pick(w, NTEAMS + 1) - 1;
		d->region = pick(w, NREGIONS);
		d->amount = pick(w, 1000);
		d->margin = pick(w, 100);
		d->acct = pick(w, 4) ? w->accts[pick(w, NACCTS)].id : 0;
		if (d->acct)
			snprintf(acct_json, sizeof acct_json, "%lld", (long long)d->acct);
		if (d->team >= 0)
			snprintf(team_json, sizeof team_json, "\"t%d\"", d->team);
		crm_actor_set(w->db, d->owner < 0 ? NULL : (const char *[]){ "u0", "u1", "u2", "u3", "u4" }[d->owner], NULL);
		snprintf(doc, sizeof doc,
			 "{\"title\":\"d%d\",\"team\":%s,\"region\":\"%s\",\"amount\":%d,\"margin\":%d,\"acct\":%s}", i,
			 team_json, region_names[d->region], d->amount, d->margin, acct_json);
		CHECK_OK(w->db, crm_record_insert(w->db, "deal", doc, &d->id));
	}
	crm_actor_set(w->db, NULL, NULL);
}

static void random_actor(world *w, actor *a)
{
	a->user = pick(w, NUSERS);
	a->roles = (unsigned)pick(w, 8);
	a->team = pick(w, 5) ? pick(w, NTEAMS) : -1;
	a->has_regions = pick(w, 5) != 0;
	a->regions = (unsigned)pick(w, 16);
}

/* ---- the paths ---- */

static deal *deal_of(world *w, int64_t id)
{
	for (int i = 0; i < w->ndeals; i++)
		if (w->deals[i].id == id)
			return &w->deals[i];
	return NULL;
}

static void check_get(world *w, const actor *a, const deal *d)
{
	char *json = NULL;
	int rc = crm_record_get(w->db, "deal", d->id, &json), want = readable(w, a, d) ? CRM_OK : CRM_ENOTFOUND;

	w->cases++;
	if (rc != want)
		mismatch(w, "get deal %lld: %s, want %s (%s)", (long long)d->id, crm_errstr(rc), crm_errstr(want),
			 crm_errmsg(w->db));
	else if (rc == CRM_OK) {
		cJSON *o = cJSON_Parse(json);
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "margin"), *am = cJSON_GetObjectItemCaseSensitive(o, "amount");
		if (!!m != field_readable(w, a, 0) || !!am != field_readable(w, a, 1))
			mismatch(w, "get deal %lld shows %s", (long long)d->id, json);
		if (am && (int)cJSON_GetNumberValue(am) != d->amount)
			mismatch(w, "get deal %lld: amount %s, want %d", (long long)d->id, json, d->amount);
		cJSON_Delete(o);
	} else if (strstr(crm_errmsg(w->db), "permi") || strstr(crm_errdetail(w->db), "rule"))
		mismatch(w, "get of an unreadable deal tells it apart: %s", crm_errdetail(w->db));
	crm_free(json);
}

/* A random filter: its JSON, the fields it reads (bit 0 margin, 1 amount, 2 any other field), and its predicate. */
typedef struct filt {
	char json[200];
	unsigned reads;
	int kind, region, n, team, user;
} filt;

static void random_filter(world *w, filt *f)
{
	f->kind = pick(w, 6);
	f->region = pick(w, NREGIONS);
	f->n = pick(w, 1000);
	f->team = pick(w, NTEAMS);
	f->user = pick(w, NUSERS);
	f->reads = 0;
	switch (f->kind) {
	case 0: f->json[0] = '\0'; break;
	case 1:
		snprintf(f->json, sizeof f->json, "{\"field\":\"region\",\"op\":\"eq\",\"value\":\"%s\"}", region_names[f->region]);
		f->reads = 4;
		break;
	case 2:
		snprintf(f->json, sizeof f->json, "{\"field\":\"amount\",\"op\":\"ge\",\"value\":%d}", f->n);
		f->reads = 2;
		break;
	case 3:
		snprintf(f->json, sizeof f->json,
			 "{\"or\":[{\"field\":\"team\",\"op\":\"eq\",\"value\":\"t%d\"},{\"not\":{\"field\":\"margin\",\"op\":\"lt\",\"value\":%d}}]}",
			 f->team, f->n % 100);
		f->reads = 1 | 4;
		break;
	case 4:
		snprintf(f->json, sizeof f->json, "{\"field\":\"owner\",\"op\":\"eq\",\"value\":\"u%d\"}", f->user);
		f->reads = 4;
		break;
	default:
		snprintf(f->json, sizeof f->json, "{\"field\":\"title\",\"op\":\"starts_with\",\"value\":\"d%d\"}", f->n % 4);
		f->reads = 4;
		break;
	}
}

static int filter_holds(const world *w, const filt *f, const deal *d)
{
	char title[16], prefix[16];

	switch (f->kind) {
	case 1: return d->region == f->region;
	case 2: return d->amount >= f->n;
	/* `not` matches what its filter does not, a deal without margin too (docs/query.md) */
	case 3: return (d->team >= 0 && d->team == f->team) || d->margin == NO_MARGIN || d->margin >= f->n % 100;
	case 4: return d->owner == f->user;
	case 5:
		snprintf(title, sizeof title, "d%d", (int)(d - w->deals));
		snprintf(prefix, sizeof prefix, "d%d", f->n % 4);
		return strncmp(title, prefix, strlen(prefix)) == 0;
	default: return 1;
	}
}

/* Is reading the fields `reads` (filtering or sorting on them) refused for a? Without
 * any rule granting read, every field is unreadable; id never is. */
static int refused(const world *w, const actor *a, unsigned reads)
{
	if (!any_read(w, a))
		return reads != 0;
	return ((reads & 1) && !field_readable(w, a, 0)) || ((reads & 2) && !field_readable(w, a, 1));
}

static void check_query(world *w, const actor *a)
{
	filt f;
	char q[1024];
	int sort = pick(w, 3), limit = 1 + pick(w, 8), got_n = 0, want_n = 0, rc = CRM_OK, prev_amount = -1;
	int64_t got[MAXDEALS + 1], count = -1, prev_id = 0;
	char after[512] = "";
	unsigned reads;
	int want_rc;

	random_filter(w, &f);
	reads = f.reads | (sort == 1 ? 2u : 0u);
	want_rc = refused(w, a, reads) ? CRM_EPERM : CRM_OK;
	/* every page, each continuing after the last token */
	for (int page = 0; page <= w->ndeals && rc == CRM_OK; page++) {
		crm_cursor *cur = NULL;
		int rows = 0;
		snprintf(q, sizeof q, "{%s%s%s\"sort\":[\"%s\"],\"limit\":%d%s%s%s}", f.json[0] ? "\"filter\":" : "",
			 f.json, f.json[0] ? "," : "", (const char *[]){ "id", "amount", "-id" }[sort], limit,
			 after[0] ? ",\"after\":\"" : "", after, after[0] ? "\"" : "");
		if ((rc = crm_query(&cur, w->db, "deal", q)) == CRM_OK) {
			while ((rc = crm_cursor_next(cur)) == CRM_ROW) {
				if (got_n > w->ndeals)
					break;
				got[got_n++] = crm_cursor_int64(cur, 0);
				snprintf(after, sizeof after, "%s", crm_cursor_token(cur));
				rows++;
			}
			rc = rc == CRM_DONE ? CRM_OK : rc;
		}
		crm_cursor_free(cur);
		if (rows < limit)
			break;
	}
	w->cases++;
	if (rc != want_rc) {
		mismatch(w, "query %s: %s, want %s (%s)", q, crm_errstr(rc), crm_errstr(want_rc), crm_errmsg(w->db));
		return;
	}
	if (rc != CRM_OK)
		return;
	for (int i = 0; i < w->ndeals; i++)
		want_n += readable(w, a, &w->deals[i]) && filter_holds(w, &f, &w->deals[i]);
	if (got_n != want_n)
		mismatch(w, "query %s: %d rows, want %d", q, got_n, want_n);
	for (int i = 0; i < got_n; i++) {
		deal *d = deal_of(w, got[i]);
		if (!d || !readable(w, a, d) || !filter_holds(w, &f, d))
			mismatch(w, "query %s returned deal %lld", q, (long long)got[i]);
		else if (sort == 1 && d->amount < prev_amount)
			mismatch(w, "query %s: out of order at deal %lld", q, (long long)got[i]);
		else if (sort != 1 && i && (sort == 0 ? got[i] <= prev_id : got[i] >= prev_id))
			mismatch(w, "query %s: out of order at deal %lld", q, (long long)got[i]);
		if (d)
			prev_amount = d->amount;
		prev_id = got[i];
	}
	/* count over the same filter */
	snprintf(q, sizeof q, "{%s%s}", f.json[0] ? "\"filter\":" : "", f.json);
	rc = crm_count(w->db, "deal", q, &count);
	want_rc = refused(w, a, f.reads) ? CRM_EPERM : CRM_OK;
	w->cases++;
	if (rc != want_rc || (rc == CRM_OK && count != want_n))
		mismatch(w, "count %s: %s %lld, want %s %d", q, crm_errstr(rc), (long long)count, crm_errstr(want_rc), want_n);
}

/* by_region: count and sum(amount) per region over the readable deals; then each row drilled into. */
static void check_report(world *w, const actor *a)
{
	crm_report *rep = NULL;
	int want_n[NREGIONS] = { 0 }, want_sum[NREGIONS] = { 0 }, seen[NREGIONS] = { 0 }, rc;
	int want_rc = refused(w, a, 2 | 4) ? CRM_EPERM : CRM_OK;

	for (int i = 0; i < w->ndeals; i++)
		if (readable(w, a, &w->deals[i])) {
			want_n[w->deals[i].region]++;
			want_sum[w->deals[i].region] += w->deals[i].amount;
		}
	if ((rc = crm_report_run(&rep, w->db, "by_region", NULL)) == CRM_OK)
		while ((rc = crm_report_next(rep)) == CRM_ROW) {
		const char *region = crm_report_text(rep, 0);
		int r = -1;
		char row[96], *query = NULL;
		for (int k = 0; k < NREGIONS; k++)
			if (region && strcmp(region, region_names[k]) == 0)
				r = k;
		w->cases++;
		if (r < 0 || crm_report_int64(rep, 1) != want_n[r] || crm_report_int64(rep, 2) != want_sum[r]) {
			mismatch(w, "report by_region row %s, want %d %d", crm_report_json(rep), r < 0 ? -1 : want_n[r],
				 r < 0 ? -1 : want_sum[r]);
			continue;
		}
		seen[r] = 1;
		/* the drill-down's query returns exactly the readable deals of the region */
		snprintf(row, sizeof row, "{\"region\":\"%s\"}", region_names[r]);
		if (crm_report_drill(w->db, "by_region", NULL, row, &query) != CRM_OK)
			mismatch(w, "drill %s: %s", row, crm_errmsg(w->db));
		else {
			int64_t n = -1;
			if (crm_count(w->db, "deal", query, &n) != CRM_OK || n != want_n[r])
				mismatch(w, "drill %s: %s counts %lld, want %d (%s)", row, query, (long long)n, want_n[r],
					 crm_errmsg(w->db));
		}
		crm_free(query);
	}
	crm_report_free(rep);
	rc = rc == CRM_DONE ? CRM_OK : rc;
	w->cases++;
	if (rc != want_rc)
		mismatch(w, "report by_region: %s, want %s (%s)", crm_errstr(rc), crm_errstr(want_rc), crm_errmsg(w->db));
	for (int k = 0; rc == CRM_OK && k < NREGIONS; k++)
		if (want_n[k] && !seen[k])
			mismatch(w, "report by_region lacks %s", region_names[k]);
}

/* by_acct_team: through the reference, an account the actor cannot read counts as no account. */
static void check_ref_report(world *w, const actor *a)
{
	crm_report *rep = NULL;
	int want[NTEAMS + 1] = { 0 }, seen[NTEAMS + 1] = { 0 }, rc, want_rc; /* [NTEAMS]: no (readable) account team */

	for (int i = 0; i < w->ndeals; i++) {
		const deal *d = &w->deals[i];
		const acct *c = d->acct ? acct_of(w, d->acct) : NULL;
		if (!readable(w, a, d))
			continue;
		want[c && acct_readable(w, a, c) && c->team >= 0 ? c->team : NTEAMS]++;
	}
	if ((rc = crm_report_run(&rep, w->db, "by_acct_team", NULL)) == CRM_OK)
		while ((rc = crm_report_next(rep)) == CRM_ROW) {
		const char *team = crm_report_text(rep, 0);
		int t = team ? team[1] - '0' : NTEAMS;
		w->cases++;
		if (t < 0 || t > NTEAMS || crm_report_int64(rep, 1) != want[t]) {
			mismatch(w, "report by_acct_team row %s, want %d", crm_report_json(rep), t >= 0 && t <= NTEAMS ? want[t] : -1);
			continue;
		}
		seen[t] = 1;
		/* drilled: an account the actor cannot read counts as none here too */
		{
			char row[64], *query = NULL;
			int64_t n = -1;
			snprintf(row, sizeof row, t < NTEAMS ? "{\"team\":\"t%d\"}" : "{\"team\":null}", t);
			if (crm_report_drill(w->db, "by_acct_team", NULL, row, &query) != CRM_OK ||
			    crm_count(w->db, "deal", query, &n) != CRM_OK || n != want[t])
				mismatch(w, "drill by_acct_team %s: %s counts %lld, want %d (%s)", row, query ? query : "-",
					 (long long)n, want[t], crm_errmsg(w->db));
			crm_free(query);
			w->cases++;
		}
	}
	crm_report_free(rep);
	rc = rc == CRM_DONE ? CRM_OK : rc;
	/* without read on deal, deal.acct is unreadable; without read on acct, acct.team */
	want_rc = any_read(w, a) && reads_some(w->acct_rules, w->nacct_rules, a) ? CRM_OK : CRM_EPERM;
	w->cases++;
	if (rc != want_rc)
		mismatch(w, "report by_acct_team: %s, want %s (%s)", crm_errstr(rc), crm_errstr(want_rc), crm_errmsg(w->db));
	for (int t = 0; rc == CRM_OK && t <= NTEAMS; t++)
		if (want[t] && !seen[t])
			mismatch(w, "report by_acct_team lacks team %d", t);
}

/* The expected code of a creates `now`, given margin or not: some rule that
 * applies grants create, writes no field its modes keep from the actor
 * (hidden or read-only: a new record has no value to keep), and its check
 * (its rows) holds for the new record, owned by the actor. */
static int create_expected(const world *w, const actor *a, const deal *now, int margin_given)
{
	for (int i = 0; i < w->ndeal_rules; i++) {
		const rule *r = &w->deal_rules[i];
		if (!applies(r, a) || !(r->allow & A_CREATE))
			continue;
		if ((margin_given && r->margin != F_OPEN) || r->amount != F_OPEN)
			continue;
		if (rows_hold(w, r, a, now))
			return CRM_OK;
	}
	return CRM_EPERM;
}

/* A create pointing at an account the actor cannot read answers as one
 * pointing at no account at all: the same code, and the same message once
 * the id is taken out. */
static void check_unreadable_ref_create(world *w, const char *doc, int rc, int64_t acct_id)
{
	char msg[512], missing_doc[256], id[24];
	const char *at;
	int missing_rc;

	snprintf(msg, sizeof msg, "%s", crm_errmsg(w->db));
	snprintf(id, sizeof id, "%lld", (long long)acct_id);
	snprintf(missing_doc, sizeof missing_doc, "%s", doc);
	if ((at = strstr(missing_doc, "\"acct\":")))
		snprintf((char *)at, sizeof missing_doc - (size_t)(at - missing_doc), "\"acct\":999999}");
	missing_rc = crm_record_insert(w->db, "deal", missing_doc, NULL);
	w->cases++;
	if (missing_rc != rc)
		mismatch(w, "create %s: %s, but %s for an account that does not exist", doc, crm_errstr(rc),
			 crm_errstr(missing_rc));
	else if (strstr(msg, id) && !strstr(crm_errmsg(w->db), "999999"))
		mismatch(w, "create %s: '%s' tells an unreadable account from a missing one ('%s')", doc, msg,
			 crm_errmsg(w->db));
}

static void check_create(world *w, const actor *a)
{
	deal now = { 0 };
	int margin_given = pick(w, 2), rc, want;
	char doc[256], team_json[16] = "null", margin_json[24] = "", acct_json[32] = "null";
	const acct *c = NULL;

	if (w->ndeals == MAXDEALS)
		return;
	now.alive = 1;
	now.owner = a->user;
	now.team = pick(w, NTEAMS + 1) - 1;
	now.region = pick(w, NREGIONS);
	now.amount = pick(w, 1000);
	now.margin = margin_given ? pick(w, 100) : NO_MARGIN;
	now.acct = pick(w, 3) ? w->accts[pick(w, NACCTS)].id : 0;
	if (now.team >= 0)
		snprintf(team_json, sizeof team_json, "\"t%d\"", now.team);
	if (margin_given)
		snprintf(margin_json, sizeof margin_json, ",\"margin\":%d", now.margin);
	if (now.acct)
		snprintf(acct_json, sizeof acct_json, "%lld", (long long)now.acct);
	/* the title numbers the deal as its index, which filters rely on */
	snprintf(doc, sizeof doc, "{\"title\":\"d%d\",\"team\":%s,\"region\":\"%s\",\"amount\":%d%s,\"acct\":%s}",
		 w->ndeals, team_json, region_names[now.region], now.amount, margin_json, acct_json);
	want = create_expected(w, a, &now, margin_given);
	c = now.acct ? acct_of(w, now.acct) : NULL;
	rc = crm_record_insert(w->db, "deal", doc, &now.id);
	w->cases++;
	if (c && !acct_readable(w, a, c)) {
		/* refused either way: for the permission, or for the reference */
		if (rc == CRM_OK)
			mismatch(w, "create %s pointing at an unreadable account succeeded", doc);
		else if (want == CRM_OK) {
			w->create_unreadable_ref++;
			check_unreadable_ref_create(w, doc, rc, now.acct);
		}
		return;
	}
	if (rc != want)
		mismatch(w, "create %s: %s, want %s (%s)", doc, crm_errstr(rc), crm_errstr(want), crm_errmsg(w->db));
	if (rc == CRM_OK)
		w->deals[w->ndeals++] = now;
	*(rc == CRM_OK ? &w->created : &w->create_refused) += 1;
}

static void check_update(world *w, const actor *a)
{
	deal *d = &w->deals[pick(w, w->ndeals)], now = *d;
	unsigned written = 1u << pick(w, 3);
	char doc[96];
	int rc, want;

	if (!d->alive)
		return;
	if (written == 1)
		now.margin = pick(w, 100);
	else if (written == 2)
		now.amount = pick(w, 1000);
	else
		now.team = pick(w, NTEAMS);
	snprintf(doc, sizeof doc, written == 1 ? "{\"margin\":%d}" : written == 2 ? "{\"amount\":%d}" : "{\"team\":\"t%d\"}",
		 written == 1 ? now.margin : written == 2 ? now.amount : now.team);
	/* rules add up: a rule granting update decides on the fields by its own
	 * modes, even one the actor reads through no rule (docs/access.md) */
	want = update_expected(w, a, d, &now, written);
	rc = crm_record_update(w->db, "deal", d->id, doc, 0);
	w->cases++;
	if (rc != want)
		mismatch(w, "update deal %lld %s: %s, want %s (%s)", (long long)d->id, doc, crm_errstr(rc), crm_errstr(want),
			 crm_errmsg(w->db));
	if (rc == CRM_OK)
		*d = now;
}

static void check_delete(world *w, const actor *a)
{
	deal *d = &w->deals[pick(w, w->ndeals)];
	int want, rc;

	if (!d->alive)
		return;
	want = !readable(w, a, d) ? CRM_ENOTFOUND : granted(w, a, d, A_DELETE) ? CRM_OK : CRM_EPERM;
	rc = crm_record_delete(w->db, "deal", d->id, 0);
	w->cases++;
	if (rc != want)
		mismatch(w, "delete deal %lld: %s, want %s (%s)", (long long)d->id, crm_errstr(rc), crm_errstr(want),
			 crm_errmsg(w->db));
	if (rc == CRM_OK)
		d->alive = 0;
}

/* The stored deals as the system sees them equal the model: denied writes changed nothing. */
static void check_unchanged(world *w)
{
	crm_actor_set(w->db, NULL, NULL);
	for (int i = 0; i < w->ndeals; i++) {
		const deal *d = &w->deals[i];
		char *json = NULL, want[160];
		int rc = crm_record_get(w->db, "deal", d->id, &json);
		if (rc != (d->alive ? CRM_OK : CRM_ENOTFOUND))
			mismatch(w, "deal %lld: %s as the system", (long long)d->id, crm_errstr(rc));
		if (rc == CRM_OK) {
			if (d->margin == NO_MARGIN)
				snprintf(want, sizeof want, "\"amount\":%d,\"margin\":null", d->amount);
			else
				snprintf(want, sizeof want, "\"amount\":%d,\"margin\":%d", d->amount, d->margin);
			if (!strstr(json, want))
				mismatch(w, "deal %lld is %s, want %s", (long long)d->id, json, want);
		}
		crm_free(json);
	}
}

static void run_round(world *w)
{
	actor actors[NACTORS];

	w->db = test_db();
	seed(w);
	w->ndeal_rules = 1 + pick(w, 4);
	w->nacct_rules = 1 + pick(w, 2);
	for (int i = 0; i < w->ndeal_rules; i++)
		random_rule(w, &w->deal_rules[i], 1);
	for (int i = 0; i < w->nacct_rules; i++)
		random_rule(w, &w->acct_rules[i], 0);
	apply_forms(w, 1);
	for (int k = 0; k < NACTORS; k++) {
		actor *a = &actors[k];
		random_actor(w, a);
		set_actor(w, a);
		for (int i = 0; i < w->ndeals; i++)
			check_get(w, a, &w->deals[i]);
		for (int i = 0; i < 6; i++)
			check_query(w, a);
		check_report(w, a);
		check_ref_report(w, a);
		for (int i = 0; i < NCREATES; i++)
			check_create(w, a);
		for (int i = 0; i < 4; i++)
			check_update(w, a);
		check_delete(w, a);
	}
	check_unchanged(w);
	crm_close(w->db);
}

TEST(test_access_diff__every_path_agrees_with_the_reference_evaluator)
{
	const char *cases = getenv("CRM_DIFF_CASES"), *seed = getenv("CRM_DIFF_SEED");
	int64_t rounds = cases && atoll(cases) > 0 ? atoll(cases) : 12;
	world w;

	memset(&w, 0, sizeof w);
	w.rng = seed && strtoull(seed, NULL, 0) ? strtoull(seed, NULL, 0) : UINT64_C(0x9e3779b97f4a7c15);
	fprintf(stderr, "seed 0x%llx, %lld rounds\n", (unsigned long long)w.rng, (long long)rounds);
	for (w.round = 0; w.round < rounds; w.round++)
		run_round(&w);
	fprintf(stderr, "%lld cases compared (creates: %lld made, %lld refused, %lld to an unreadable account)\n",
		(long long)w.cases, (long long)w.created, (long long)w.create_refused, (long long)w.create_unreadable_ref);
	CHECK(rounds < 12 || (w.cases > 1000 && w.created > 0 && w.create_refused > 0 && w.create_unreadable_ref > 0));
}

TEST_LIST(T(test_access_diff__every_path_agrees_with_the_reference_evaluator))
