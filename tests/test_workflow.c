/* The workflow engine driven the way users drive it: metadata (JSON + Lua
 * applied with crm_apply) and the public API only, the clock moved with
 * crm_clock_set / crm_tick. One or more tests per process scenario of
 * SCENARIOS.md (4 to 10), then the engine's own guarantees: atomicity,
 * refusals, timers and catch-up, versions and migration, deletes,
 * free-standing workflows, history and definition errors.
 *
 * Metadata is written with ' for " (see test_q()) and ` for a quote inside Lua,
 * so the JSON stays readable. Raw SQL (db->sql) only reads, to check that
 * a failing call changed nothing. */
#include <stdarg.h>
#include <unistd.h>

#include "core/codec.h"
#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

#define T0 INT64_C(1767323045000) /* helpers.h: 2026-01-02T03:04:05.000Z */
#define MIN INT64_C(60000)
#define HOUR INT64_C(3600000)
#define DAY INT64_C(86400000)

/* ---- helpers ---- */

/* Apply test_q(json); a failure fails the test. */
static int apply(crm_db *db, const char *json)
{
	char *j = test_q(json);
	int rc = test_apply(db, j);

	free(j);
	return rc;
}

/* Apply test_q(json) expecting it to be refused; returns the code. */
static int apply_rc(crm_db *db, const char *json)
{
	char *j = test_q(json);
	int rc = crm_apply(db, j);

	free(j);
	return rc;
}

#define insert test_insert_q

#define update test_update_q

static int fire(crm_db *db, const char *form, int64_t id, const char *event, const char *fields)
{
	char *j = fields ? test_q(fields) : NULL;
	int rc = crm_workflow_fire(db, form, id, event, j);

	free(j);
	return rc;
}

/* Run crm_tick at `t`; returns how many events fired (-1 on error). */
static int64_t tick(crm_db *db, int64_t t)
{
	int64_t fired = -1;
	int rc = crm_tick(db, t, &fired);

	if (rc != CRM_OK) {
		fprintf(stderr, "crm_tick failed: %s\n", crm_errdetail(db));
		test_failures_++;
		return -1;
	}
	return fired;
}

/* First column of the first row of a formatted SQL query, as an integer. */
static int64_t sql_int(crm_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t sql_int(crm_db *db, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	return test_sql_int(db, sql);
}

/* ... as text, in a static ring of buffers ("(null)" for NULL, "(none)" for no row). */
/* The first column of every row of a query, joined by `sep` ("(none)"
 * without rows): the portable spelling of group_concat. */
static const char *sql_rows(crm_db *db, const char *sep, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static const char *sql_rows(crm_db *db, const char *sep, const char *fmt, ...)
{
	static char ring[8][8192];
	static int k;
	char *out = ring[k++ % 8], sql[1024];
	crm__stmt *st;
	size_t len = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	snprintf(out, sizeof ring[0], "(none)");
	if (db->be->prepare(db, sql, strlen(sql), &st) != CRM_OK) {
		fprintf(stderr, "bad test SQL %s: %s\n", sql, crm_errmsg(db));
		test_failures_++;
		return out;
	}
	for (int n = 0; crm__step(st) == CRM_ROW && len < sizeof ring[0]; n++) {
		const char *s = crm__column_text(st, 0);
		len += (size_t)snprintf(out + len, sizeof ring[0] - len, "%s%s", n ? sep : "", s ? s : "(null)");
	}
	crm__finalize(st);
	return out;
}
#define sql_text(db, ...) sql_rows(db, ",", __VA_ARGS__)

/* State of the record's instance of `workflow` ("(none)" when it has none). */
static const char *state_of(crm_db *db, const char *workflow, const char *form, int64_t id)
{
	return sql_text(db, "SELECT state FROM crm_wf_instance WHERE workflow='%s' AND form='%s' AND record=%lld", workflow,
			form, (long long)id);
}

static int64_t events(crm_db *db, const char *type)
{
	return sql_int(db, "SELECT count(*) FROM crm_event WHERE type='%s'", type);
}

static int64_t count(crm_db *db, const char *form)
{
	int64_t n = -1;

	if (crm_count(db, form, NULL, &n) != CRM_OK) {
		fprintf(stderr, "count %s failed: %s\n", form, crm_errdetail(db));
		test_failures_++;
	}
	return n;
}

/* A record field as text (static ring; "(null)" when absent). */
static const char *field(crm_db *db, const char *form, int64_t id, const char *name)
{
	return sql_text(db, "SELECT \"%s\" FROM \"%s\" WHERE id=%lld", name, form, (long long)id);
}

/* SQL for `column` of a field of `type` as the engines keep it (decimals
 * scaled, datetimes in ms), whatever type the backend stores it in. */
static const char *stored(crm_db *db, crm_type type, int scale, const char *column)
{
	static char texts[4][160];
	static int next;
	char *out = texts[next++ % 4];
	crm__buf sql = CRM__BUF_INIT;

	db->be->dialect->as_storage(&sql, type, scale, column);
	snprintf(out, sizeof texts[0], "%s", crm__buf_cstr(&sql));
	crm__buf_free(&sql);
	return out;
}

static int64_t ms(const char *iso)
{
	int64_t v = 0;

	if (crm__datetime_parse(iso, strlen(iso), &v)) {
		fprintf(stderr, "bad test time %s\n", iso);
		test_failures_++;
	}
	return v;
}

/* The forms most scenarios share. */
static const char forms[] =
	"[{'form':'rep','fields':["
	"   {'name':'login','type':'text','required':true,'unique':true},"
	"   {'name':'region','type':'enum','options':['north','south','east','west']},"
	"   {'name':'manager','type':'text'}]},"
	" {'form':'lead','fields':["
	"   {'name':'name','type':'text','required':true},"
	"   {'name':'region','type':'enum','options':['north','south','east','west']},"
	"   {'name':'score','type':'integer','default':0},"
	"   {'name':'tags','type':'multi_enum','options':['high_intent','dormant']},"
	"   {'name':'flagged','type':'boolean','default':false},"
	"   {'name':'livestream_minutes','type':'integer'},"
	"   {'name':'asked_question','type':'boolean'}]},"
	" {'form':'opportunity','fields':["
	"   {'name':'name','type':'text','required':true},"
	"   {'name':'customer','type':'text'},"
	"   {'name':'amount','type':'decimal','scale':2},"
	"   {'name':'budget','type':'decimal','scale':2},"
	"   {'name':'decision_maker','type':'text'},"
	"   {'name':'close_date','type':'datetime'},"
	"   {'name':'renewal','type':'date'},"
	"   {'name':'contract','type':'ref','form':'contract','on_delete':'set_null'}]},"
	" {'form':'contract','fields':["
	"   {'name':'title','type':'text','required':true},"
	"   {'name':'customer','type':'text'},"
	"   {'name':'amount','type':'decimal','scale':2},"
	"   {'name':'payment_terms','type':'text'},"
	"   {'name':'discount','type':'integer','min':0,'max':100}]},"
	" {'form':'task','fields':["
	"   {'name':'title','type':'text','required':true},"
	"   {'name':'lead','type':'ref','form':'lead','on_delete':'cascade'},"
	"   {'name':'opportunity','type':'ref','form':'opportunity','on_delete':'cascade'},"
	"   {'name':'assignee','type':'text'},"
	"   {'name':'due','type':'datetime'}]}]";

static crm_db *db_with_forms(void)
{
	crm_db *db = test_db();

	apply(db, forms);
	return db;
}

static void add_reps(crm_db *db)
{
	insert(db, "rep", "{'login':'alice','region':'north','manager':'mary'}");
	insert(db, "rep", "{'login':'bob','region':'south','manager':'mike'}");
}

/* ---- S4: lead routing ---- */

static const char routing_tail[] =
	"  {'create':{'form':'task','values':{'title':'Call the new lead','lead':{'field':'id'},"
	"     'assignee':{'field':'owner'},'due':{'now':'+24h'}}}},"
	"  {'emit':'welcome_message','payload':{'lead':{'field':'id'},'name':{'field':'name'},'owner':{'field':'owner'}}}]},"
	" 'working':{}},"
	" 'transitions':[{'from':'new','event':'contact','to':'working'}]}";

static void check_routed(crm_db *db, int64_t id, const char *owner)
{
	char want[256];

	CHECK_STR(field(db, "lead", id, "owner"), owner);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM task WHERE lead=%lld", (long long)id), 1);
	CHECK_STR(sql_text(db, "SELECT assignee FROM task WHERE lead=%lld", (long long)id), owner);
	CHECK_INT(sql_int(db, "SELECT due FROM task WHERE lead=%lld", (long long)id), T0 + 24 * HOUR);
	CHECK_STR(sql_text(db, "SELECT form || ':' || record FROM crm_event WHERE type='welcome_message' AND record=%lld",
			   (long long)id),
		  (snprintf(want, sizeof want, "lead:%lld", (long long)id), want));
	snprintf(want, sizeof want, "{\"lead\":%lld,\"name\":", (long long)id);
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='welcome_message' AND record=%lld", (long long)id),
		  want);
	snprintf(want, sizeof want, "\"owner\":\"%s\"}", owner);
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='welcome_message' AND record=%lld", (long long)id),
		  want);
}

TEST(test_s4_routing__decision_table)
{
	crm_db *db = db_with_forms();
	char *out = NULL, *wf;
	int64_t north, west;

	apply(db, "{'decision':'region_owner','inputs':['region'],'outputs':['owner'],'rules':["
		  " {'when':{'region':'north'},'then':{'owner':'alice'}},"
		  " {'when':{'region':'south'},'then':{'owner':'bob'}},"
		  " {'then':{'owner':'pool'}}]}");
	CHECK_OK(db, crm_decision_eval(db, "region_owner", "{\"region\":\"south\"}", &out));
	CHECK_STR(out, "{\"owner\":\"bob\"}");
	crm_free(out);
	wf = malloc(sizeof routing_tail + 512);
	snprintf(wf, sizeof routing_tail + 512,
		 "{'workflow':'lead_routing','form':'lead','start_on':'create','initial':'new',"
		 " 'states':{'new':{'on_enter':[{'decide':'region_owner'},%s",
		 routing_tail);
	apply(db, wf);
	free(wf);
	crm_actor_set(db, "carol", "marketing"); /* who keyed the lead in */
	north = insert(db, "lead", "{'name':'Zhang Wei','region':'north'}");
	west = insert(db, "lead", "{'name':'Li Na','region':'west'}");
	check_routed(db, north, "alice");
	check_routed(db, west, "pool");
	CHECK_STR(state_of(db, "lead_routing", "lead", north), "new");
	CHECK_INT(events(db, "welcome_message"), 2);
	/* the event is written by the actor whose write started the workflow */
	CHECK_STR(sql_text(db, "SELECT actor FROM crm_event WHERE record=%lld AND type NOT LIKE 'crm.%%'", (long long)north), "carol");
	crm_close(db);
}

TEST(test_s4_routing__lua_plugin)
{
	crm_db *db = db_with_forms();
	char *wf;
	int64_t north, south, east;

	add_reps(db);
	apply(db, "{'plugin':'routing','lua':'return {assign = function(ctx)\\n"
		  "  local rep = crm.find(`rep`, {filter = {field = `region`, op = `eq`, value = ctx.record.region}, limit = 1})[1]\\n"
		  "  return {owner = rep and rep.login or `pool`}\\n"
		  "end}'}");
	wf = malloc(sizeof routing_tail + 512);
	snprintf(wf, sizeof routing_tail + 512,
		 "{'workflow':'lead_routing','form':'lead','start_on':'create','initial':'new',"
		 " 'states':{'new':{'on_enter':[{'call':'plugins.routing.assign'},%s",
		 routing_tail);
	apply(db, wf);
	free(wf);
	north = insert(db, "lead", "{'name':'Zhang Wei','region':'north'}");
	south = insert(db, "lead", "{'name':'Wang Fang','region':'south'}");
	east = insert(db, "lead", "{'name':'Chen Jie','region':'east'}");
	check_routed(db, north, "alice");
	check_routed(db, south, "bob");
	check_routed(db, east, "pool");
	CHECK_INT(count(db, "task"), 3);
	CHECK_INT(events(db, "welcome_message"), 3);
	crm_close(db);
}

/* A plugin that asks the decision table from Lua (crm.decide). */
TEST(test_s4_routing__plugin_calls_decision_table)
{
	crm_db *db = db_with_forms();
	int64_t north, west;

	apply(db, "[{'decision':'region_owner','inputs':['region'],'outputs':['owner'],'rules':["
		  "   {'when':{'region':'north'},'then':{'owner':'alice'}},{'then':{'owner':'pool'}}]},"
		  " {'plugin':'routing','lua':'return {assign = function(ctx)\\n"
		  "   local r = crm.decide(`region_owner`, {region = ctx.record.region})\\n"
		  "   return {owner = r and r.owner}\\n"
		  " end}'},"
		  " {'workflow':'r','form':'lead','start_on':'create','initial':'new',"
		  "  'states':{'new':{'on_enter':'plugins.routing.assign'}},'transitions':[]}]");
	north = insert(db, "lead", "{'name':'A','region':'north'}");
	west = insert(db, "lead", "{'name':'B','region':'west'}");
	CHECK_STR(field(db, "lead", north, "owner"), "alice");
	CHECK_STR(field(db, "lead", west, "owner"), "pool");
	crm_close(db);
}

/* A hook given as a plain "plugin.function" string is a one-action list. */
TEST(test_s4_routing__hook_shorthand)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "[{'plugin':'routing','lua':'return {assign = function(ctx) return {owner = ctx.record.region .. `_rep`} end}'},"
		  " {'workflow':'r','form':'lead','start_on':'create','initial':'new',"
		  "  'states':{'new':{'on_enter':'routing.assign'}},'transitions':[]}]");
	id = insert(db, "lead", "{'name':'A','region':'east'}");
	CHECK_STR(field(db, "lead", id, "owner"), "east_rep");
	crm_close(db);
}

/* ---- S5: SLA escalation ---- */

static const char sla[] =
	"{'workflow':'lead_sla','form':'lead','start_on':'create','initial':'new',"
	" 'states':{'new':{'timers':[{'after':'24h','event':'sla_breach'},{'after':'48h','event':'return_to_pool'}]},"
	"           'contacted':{},'pool':{}},"
	" 'transitions':["
	"  {'from':'new','event':'contact','to':'contacted'},"
	"  {'from':'new','event':'sla_breach','to':'new','actions':["
	"    {'emit':'escalate_to_manager','payload':{'lead':{'field':'id'},'owner':{'field':'owner'},"
	"      'manager':{'lua':'record.owner and (crm.find(`rep`, {filter = {field = `login`, op = `eq`, value = record.owner}})[1] or {}).manager'}}},"
	"    {'set':{'flagged':true}}]},"
	"  {'from':'new','event':'return_to_pool','to':'pool','actions':[{'assign':null}]}]}";

TEST(test_s5_sla__escalates_once_then_returns_to_pool)
{
	crm_db *db = db_with_forms();
	int64_t id;

	add_reps(db);
	apply(db, sla);
	crm_actor_set(db, "alice", NULL);
	id = insert(db, "lead", "{'name':'Zhang Wei','region':'north'}");
	CHECK_STR(field(db, "lead", id, "owner"), "alice");
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 2);

	CHECK_INT(tick(db, T0 + 23 * HOUR), 0);
	CHECK_INT(events(db, "escalate_to_manager"), 0);
	CHECK_STR(field(db, "lead", id, "flagged"), "0");

	CHECK_INT(tick(db, T0 + 24 * HOUR), 1);
	CHECK_INT(events(db, "escalate_to_manager"), 1);
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='escalate_to_manager'"),
		  "\"data\":{\"lead\":1,\"owner\":\"alice\",\"manager\":\"mary\"}");
	CHECK_INT(sql_int(db, "SELECT at FROM crm_event WHERE type='escalate_to_manager'"), T0 + 24 * HOUR);
	/* a timer acts as nobody in particular, whoever the handle's actor is */
	CHECK_STR(sql_text(db, "SELECT actor FROM crm_event WHERE type='escalate_to_manager'"), "(null)");
	CHECK_STR(field(db, "lead", id, "flagged"), "1");
	CHECK_STR(state_of(db, "lead_sla", "lead", id), "new");
	CHECK_STR(crm_actor_get(db), "alice"); /* restored after the tick */

	/* exactly once: the same instant again, and later before 48h */
	CHECK_INT(tick(db, T0 + 24 * HOUR), 0);
	CHECK_INT(tick(db, T0 + 30 * HOUR), 0);
	CHECK_INT(tick(db, T0 + 48 * HOUR - 1), 0);
	CHECK_INT(events(db, "escalate_to_manager"), 1);

	CHECK_INT(tick(db, T0 + 48 * HOUR), 1);
	CHECK_STR(state_of(db, "lead_sla", "lead", id), "pool");
	CHECK_STR(field(db, "lead", id, "owner"), "(null)");
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 0);
	CHECK_INT(tick(db, T0 + 100 * DAY), 0);
	CHECK_INT(events(db, "escalate_to_manager"), 1);
	crm_close(db);
}

TEST(test_s5_sla__follow_up_cancels_timers)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, sla);
	crm_actor_set(db, "alice", NULL);
	id = insert(db, "lead", "{'name':'Zhang Wei','region':'north'}");
	crm_clock_set(db, T0 + 10 * HOUR);
	CHECK_OK(db, fire(db, "lead", id, "contact", NULL));
	CHECK_STR(state_of(db, "lead_sla", "lead", id), "contacted");
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 0);
	CHECK_INT(tick(db, T0 + 24 * HOUR), 0);
	CHECK_INT(tick(db, T0 + 48 * HOUR), 0);
	CHECK_INT(tick(db, T0 + 365 * DAY), 0);
	CHECK_INT(events(db, "escalate_to_manager"), 0);
	CHECK_STR(field(db, "lead", id, "owner"), "alice");
	CHECK_STR(field(db, "lead", id, "flagged"), "0");
	crm_close(db);
}

TEST(test_s5_sla__timers_survive_reopening)
{
	char path[128], side[160];
	crm_db *db = NULL;
	int64_t id;

	snprintf(path, sizeof path, "/tmp/libcrm_test_workflow_%d.db", (int)getpid());
	unlink(path);
	CHECK_OK(db, crm_open(&db, path, NULL));
	crm_clock_set(db, T0);
	apply(db, forms);
	apply(db, sla);
	crm_actor_set(db, "alice", NULL);
	id = insert(db, "lead", "{'name':'Zhang Wei','region':'north'}");
	CHECK_OK(db, crm_close(db));

	db = NULL;
	CHECK_OK(db, crm_open(&db, path, NULL));
	CHECK_INT(tick(db, T0 + 23 * HOUR), 0);
	CHECK_OK(db, crm_close(db));

	db = NULL;
	CHECK_OK(db, crm_open(&db, path, NULL));
	crm_clock_set(db, T0 + 24 * HOUR);
	CHECK_INT(tick(db, -1), 1); /* -1: the handle's clock */
	CHECK_INT(events(db, "escalate_to_manager"), 1);
	CHECK_STR(field(db, "lead", id, "flagged"), "1");
	CHECK_INT(tick(db, T0 + 48 * HOUR), 1);
	CHECK_STR(state_of(db, "lead_sla", "lead", id), "pool");
	CHECK_OK(db, crm_close(db));
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

/* ---- S6: scoring, MQL, dormancy ---- */

static const char scoring[] =
	"{'workflow':'lead_scoring','form':'lead','start_on':'create','initial':'nurturing',"
	" 'states':{"
	"  'nurturing':{'timers':[{'after':'30d','event':'go_dormant'}]},"
	"  'mql':{'on_enter':[{'tag':'high_intent','field':'tags'},"
	"                     {'emit':'push_to_sales','payload':{'lead':{'field':'id'},'score':{'field':'score'}}}]},"
	"  'dormant':{'on_enter':[{'tag':'dormant'},{'emit':'reactivation_campaign','payload':{'lead':{'field':'id'}}},"
	"     {'create':{'form':'task','values':{'title':'Re-activation call','lead':{'field':'id'}}}}]}},"
	" 'transitions':["
	"  {'from':['nurturing','dormant'],'event':'opened_mail','to':'nurturing','reenter':true,'actions':[{'score':5}]},"
	"  {'from':['nurturing','dormant'],'event':'visited_pricing','to':'nurturing','reenter':true,'actions':[{'score':10}]},"
	"  {'from':['nurturing','dormant'],'event':'downloaded_whitepaper','to':'nurturing','reenter':true,"
	"   'actions':[{'score':15,'field':'score'}]},"
	"  {'from':['nurturing','dormant'],'event':'livestream','to':'nurturing','reenter':true,'actions':["
	"    {'score':{'lua':'((record.livestream_minutes or 0) > 30 and record.asked_question) and 20 or 0'}}]},"
	"  {'from':'nurturing','when':{'field':'score','op':'ge','value':50},'to':'mql'},"
	"  {'from':'nurturing','event':'go_dormant','to':'dormant'}]}";

TEST(test_s6_scoring__threshold_makes_mql)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, scoring);
	id = insert(db, "lead", "{'name':'Zhang Wei'}");
	CHECK_STR(state_of(db, "lead_scoring", "lead", id), "nurturing");
	CHECK_OK(db, fire(db, "lead", id, "opened_mail", NULL));
	CHECK_OK(db, fire(db, "lead", id, "visited_pricing", NULL));
	CHECK_OK(db, fire(db, "lead", id, "downloaded_whitepaper", NULL));
	CHECK_STR(field(db, "lead", id, "score"), "30");
	/* a short livestream, or no question asked, scores nothing */
	CHECK_OK(db, fire(db, "lead", id, "livestream", "{'livestream_minutes':20,'asked_question':true}"));
	CHECK_OK(db, fire(db, "lead", id, "livestream", "{'livestream_minutes':45,'asked_question':false}"));
	CHECK_STR(field(db, "lead", id, "score"), "30");
	CHECK_STR(state_of(db, "lead_scoring", "lead", id), "nurturing");
	CHECK_INT(events(db, "push_to_sales"), 0);
	/* > 30 minutes and a question: +20 reaches 50, the "when" transition follows by itself */
	CHECK_OK(db, fire(db, "lead", id, "livestream", "{'livestream_minutes':45,'asked_question':true}"));
	CHECK_STR(field(db, "lead", id, "score"), "50");
	CHECK_STR(state_of(db, "lead_scoring", "lead", id), "mql");
	CHECK_STR(field(db, "lead", id, "tags"), "[\"high_intent\"]");
	CHECK_INT(events(db, "push_to_sales"), 1);
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='push_to_sales'"), "\"score\":50");
	CHECK_STR(sql_text(db, "SELECT event FROM crm_wf_history ORDER BY id DESC LIMIT 1"), "(when)");
	/* MQL leaves nurturing: the dormancy timer is gone */
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 0);
	CHECK_INT(tick(db, T0 + 60 * DAY), 0);
	crm_close(db);
}

TEST(test_s6_scoring__record_update_triggers_when)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, scoring);
	id = insert(db, "lead", "{'name':'Zhang Wei'}");
	/* a host (e.g. an import) writes the score directly: the instance follows */
	CHECK_OK(db, update(db, "lead", id, "{'score':75}"));
	CHECK_STR(state_of(db, "lead_scoring", "lead", id), "mql");
	CHECK_INT(events(db, "push_to_sales"), 1);
	/* a lead created above the threshold is MQL at once */
	id = insert(db, "lead", "{'name':'Li Na','score':90}");
	CHECK_STR(state_of(db, "lead_scoring", "lead", id), "mql");
	CHECK_INT(events(db, "push_to_sales"), 2);
	crm_close(db);
}

TEST(test_s6_scoring__dormant_after_30_days)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, scoring);
	id = insert(db, "lead", "{'name':'Zhang Wei'}");
	CHECK_INT(tick(db, T0 + 30 * DAY - 1), 0);
	CHECK_INT(tick(db, T0 + 30 * DAY), 1);
	CHECK_STR(state_of(db, "lead_scoring", "lead", id), "dormant");
	CHECK_STR(field(db, "lead", id, "tags"), "[\"dormant\"]");
	CHECK_INT(events(db, "reactivation_campaign"), 1);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM task WHERE lead=%lld", (long long)id), 1);
	/* re-activated by an interaction: nurturing again, with a fresh 30 days */
	crm_clock_set(db, T0 + 40 * DAY);
	CHECK_OK(db, fire(db, "lead", id, "opened_mail", NULL));
	CHECK_STR(state_of(db, "lead_scoring", "lead", id), "nurturing");
	CHECK_INT(tick(db, T0 + 70 * DAY - 1), 0);
	CHECK_INT(tick(db, T0 + 70 * DAY), 1);
	CHECK_STR(state_of(db, "lead_scoring", "lead", id), "dormant");
	crm_close(db);
}

TEST(test_s6_scoring__interaction_postpones_dormancy)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, scoring);
	id = insert(db, "lead", "{'name':'Zhang Wei'}");
	CHECK_INT(sql_int(db, "SELECT due_at FROM crm_wf_timer"), T0 + 30 * DAY);
	crm_clock_set(db, T0 + 20 * DAY);
	CHECK_OK(db, fire(db, "lead", id, "opened_mail", NULL)); /* reenter: exits and re-enters nurturing */
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 1);
	CHECK_INT(sql_int(db, "SELECT due_at FROM crm_wf_timer"), T0 + 50 * DAY);
	CHECK_INT(tick(db, T0 + 30 * DAY), 0);
	CHECK_INT(tick(db, T0 + 50 * DAY - 1), 0);
	CHECK_STR(state_of(db, "lead_scoring", "lead", id), "nurturing");
	CHECK_INT(tick(db, T0 + 50 * DAY), 1);
	CHECK_STR(state_of(db, "lead_scoring", "lead", id), "dormant");
	crm_close(db);
}

/* Without reenter a self-transition is internal: no exit/entry, timers keep running. */
TEST(test_s6_scoring__internal_self_transition_keeps_timer)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "{'workflow':'w','form':'lead','start_on':'create','initial':'n',"
		  " 'states':{'n':{'timers':[{'after':'30d','event':'sleep'}],'on_enter':[{'score':1}],'on_exit':[{'score':100}]},"
		  "           'd':{}},"
		  " 'transitions':[{'from':'n','event':'touch','to':'n','actions':[{'score':10}]},"
		  "                {'from':'n','event':'retouch','to':'n','reenter':true},"
		  "                {'from':'n','event':'sleep','to':'d'}]}");
	id = insert(db, "lead", "{'name':'A'}");
	CHECK_STR(field(db, "lead", id, "score"), "1");
	crm_clock_set(db, T0 + 20 * DAY);
	CHECK_OK(db, fire(db, "lead", id, "touch", NULL));
	CHECK_STR(field(db, "lead", id, "score"), "11"); /* no on_exit, no on_enter */
	CHECK_INT(sql_int(db, "SELECT due_at FROM crm_wf_timer"), T0 + 30 * DAY);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_history WHERE event='touch' AND from_state='n' AND to_state='n'"), 1);
	CHECK_OK(db, fire(db, "lead", id, "retouch", NULL));
	CHECK_STR(field(db, "lead", id, "score"), "112"); /* on_exit +100, on_enter +1 */
	CHECK_INT(sql_int(db, "SELECT due_at FROM crm_wf_timer"), T0 + 50 * DAY);
	crm_close(db);
}

/* ---- S7: sales SOP ---- */

static const char sop[] =
	"{'workflow':'sales_sop','form':'opportunity','start_on':'create','initial':'first_contact',"
	" 'states':{"
	"  'first_contact':{},"
	"  'needs_analysis':{'on_enter':[{'create':{'form':'task','values':{'title':'Needs analysis meeting',"
	"      'opportunity':{'field':'id'},'assignee':{'field':'owner'},'due':{'now':'+3d'}}}}]},"
	"  'proposal':{'require':['budget','decision_maker'],'on_enter':["
	"      {'create':{'form':'task','values':{'title':'Write the proposal','opportunity':{'field':'id'}}}},"
	"      {'create':{'form':'task','values':{'title':'Proposal review with the decision maker','opportunity':{'field':'id'}}}}]},"
	"  'negotiation':{'on_enter':[{'create':{'form':'task','values':{'title':'Negotiate terms','opportunity':{'field':'id'}}}}]},"
	"  'won':{'final':true,'on_enter':[{'emit':'deal_won','payload':{'amount':{'field':'amount'}}}]},"
	"  'lost':{'final':true}},"
	" 'transitions':["
	"  {'from':'first_contact','event':'qualify','to':'needs_analysis'},"
	"  {'from':'needs_analysis','event':'propose','to':'proposal'},"
	"  {'from':'proposal','event':'negotiate','to':'negotiation'},"
	"  {'from':'negotiation','event':'win','to':'won','guard':'record.amount ~= nil and record.amount > 0'},"
	"  {'from':'*','event':'lose','to':'lost'}]}";

static int64_t tasks_of(crm_db *db, int64_t opp)
{
	return sql_int(db, "SELECT count(*) FROM task WHERE opportunity=%lld", (long long)opp);
}

TEST(test_s7_sop__stages_require_fields_and_create_tasks)
{
	crm_db *db = db_with_forms();
	char *json = NULL;
	int64_t id, hist;

	apply(db, sop);
	crm_actor_set(db, "alice", "sales");
	id = insert(db, "opportunity", "{'name':'ACME CRM rollout','customer':'ACME'}");
	CHECK_STR(state_of(db, "sales_sop", "opportunity", id), "first_contact");
	CHECK_INT(tasks_of(db, id), 0);
	CHECK_OK(db, fire(db, "opportunity", id, "qualify", NULL));
	CHECK_STR(state_of(db, "sales_sop", "opportunity", id), "needs_analysis");
	CHECK_INT(tasks_of(db, id), 1);
	CHECK_STR(sql_text(db, "SELECT assignee FROM task WHERE opportunity=%lld", (long long)id), "alice");

	/* what a UI shows: propose is disabled, and why */
	CHECK_OK(db, crm_workflow_events(db, "opportunity", id, &json));
	CHECK_HAS(json, "\"event\":\"propose\",\"to\":\"proposal\",\"enabled\":false,\"reason\":\"budget is required to enter proposal\"");
	CHECK_HAS(json, "\"event\":\"lose\",\"to\":\"lost\",\"enabled\":true");
	crm_free(json);

	/* entering proposal needs budget and decision maker: refused, listing both, nothing changed */
	hist = sql_int(db, "SELECT count(*) FROM crm_wf_history");
	CHECK_RC(db, fire(db, "opportunity", id, "propose", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"field\":\"budget\",\"code\":\"required_by_state\"");
	CHECK_HAS(crm_errdetail(db), "\"field\":\"decision_maker\",\"code\":\"required_by_state\"");
	CHECK_STR(state_of(db, "sales_sop", "opportunity", id), "needs_analysis");
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_history"), hist);
	CHECK_INT(tasks_of(db, id), 1);

	/* half of it: the reason moves on to the missing one */
	CHECK_OK(db, update(db, "opportunity", id, "{'budget':80000}"));
	CHECK_OK(db, crm_workflow_events(db, "opportunity", id, &json));
	CHECK_HAS(json, "\"enabled\":false,\"reason\":\"decision_maker is required to enter proposal\"");
	crm_free(json);
	CHECK_RC(db, fire(db, "opportunity", id, "propose", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "decision_maker");
	CHECK(strstr(crm_errdetail(db), "\"field\":\"budget\"") == NULL);

	/* fields given with the event that fail validation: refused, nothing written */
	CHECK_RC(db, fire(db, "opportunity", id, "propose", "{'decision_maker':'Mr Wang','budget':'lots'}"), CRM_ECONSTRAINT);
	CHECK_STR(field(db, "opportunity", id, "decision_maker"), "(null)");
	CHECK_STR(state_of(db, "sales_sop", "opportunity", id), "needs_analysis");

	/* given in the fire's fields: written and the stage entered, in one step */
	CHECK_OK(db, fire(db, "opportunity", id, "propose", "{'decision_maker':'Mr Wang'}"));
	CHECK_STR(state_of(db, "sales_sop", "opportunity", id), "proposal");
	CHECK_STR(field(db, "opportunity", id, "decision_maker"), "Mr Wang");
	CHECK_INT(tasks_of(db, id), 3);
	CHECK_OK(db, crm_workflow_events(db, "opportunity", id, &json));
	CHECK_HAS(json, "\"event\":\"negotiate\",\"to\":\"negotiation\",\"enabled\":true");
	crm_free(json);

	CHECK_OK(db, fire(db, "opportunity", id, "negotiate", NULL));
	CHECK_INT(tasks_of(db, id), 4);
	/* the win guard (Lua) refuses without an amount */
	CHECK_OK(db, crm_workflow_events(db, "opportunity", id, &json));
	CHECK_HAS(json, "\"event\":\"win\",\"to\":\"won\",\"enabled\":false,\"reason\":\"the guard does not allow it\"");
	crm_free(json);
	CHECK_RC(db, fire(db, "opportunity", id, "win", NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, fire(db, "opportunity", id, "win", "{'amount':120000.50}"));
	CHECK_STR(state_of(db, "sales_sop", "opportunity", id), "won");
	CHECK_STR(sql_text(db, "SELECT status FROM crm_wf_instance WHERE record=%lld", (long long)id), "done");
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='deal_won'"), "\"amount\":120000.50");
	/* a finished instance allows nothing */
	CHECK_OK(db, crm_workflow_events(db, "opportunity", id, &json));
	CHECK_STR(json, "[]");
	crm_free(json);
	CHECK_RC(db, fire(db, "opportunity", id, "lose", NULL), CRM_EINVAL);
	crm_close(db);
}

TEST(test_s7_sop__lost_from_any_stage)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, sop);
	id = insert(db, "opportunity", "{'name':'X'}");
	CHECK_OK(db, fire(db, "opportunity", id, "qualify", NULL));
	CHECK_OK(db, fire(db, "opportunity", id, "lose", NULL));
	CHECK_STR(state_of(db, "sales_sop", "opportunity", id), "lost");
	crm_close(db);
}

/* ---- S8: approvals ---- */

static const char contract_review[] =
	"{'workflow':'contract_review','form':'contract','start_on':'create','initial':'draft',"
	" 'states':{"
	"  'draft':{},"
	"  'review':{'approval':{'mode':'sequential','steps':[{'role':'technical'},{'role':'legal'},{'role':'finance'}],"
	"            'approved':'approved','rejected':'rejected'}},"
	"  'signed':{'on_enter':[{'emit':'contract_signed'}]}},"
	" 'transitions':["
	"  {'from':'draft','event':'submit','to':'review','guard':{'field':'amount','op':'gt','value':100000}},"
	"  {'from':'draft','event':'submit','to':'signed','guard':{'field':'amount','op':'le','value':100000}},"
	"  {'from':'review','event':'approved','to':'signed'},"
	"  {'from':'review','event':'rejected','to':'draft'}]}";

TEST(test_s8_approval__small_contract_skips_review)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, contract_review);
	id = insert(db, "contract", "{'title':'Small','amount':5000}");
	CHECK_OK(db, fire(db, "contract", id, "submit", NULL));
	CHECK_STR(state_of(db, "contract_review", "contract", id), "signed");
	crm_close(db);
}

TEST(test_s8_approval__three_parties_in_sequence)
{
	crm_db *db = db_with_forms();
	char *json = NULL;
	int64_t id;

	apply(db, contract_review);
	crm_actor_set(db, "sam", "sales");
	id = insert(db, "contract", "{'title':'ACME frame contract','amount':250000}");
	CHECK_OK(db, fire(db, "contract", id, "submit", NULL));
	CHECK_STR(state_of(db, "contract_review", "contract", id), "review");

	/* legal may not go first; nor may an actor without any of the roles */
	crm_actor_set(db, "lena", "legal");
	CHECK_RC(db, crm_workflow_decide(db, "contract", id, "approve", NULL), CRM_EPERM);
	CHECK_HAS(crm_errmsg(db), "waiting for role technical");
	crm_actor_set(db, "sam", "sales");
	CHECK_RC(db, crm_workflow_decide(db, "contract", id, "approve", NULL), CRM_EPERM);
	crm_actor_set(db, NULL, NULL);
	CHECK_RC(db, crm_workflow_decide(db, "contract", id, "approve", NULL), CRM_EPERM);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_approval WHERE decision IS NOT NULL"), 0);
	/* a rejection needs a reason; decisions are approve or reject */
	crm_actor_set(db, "alice", "technical");
	CHECK_RC(db, crm_workflow_decide(db, "contract", id, "reject", NULL), CRM_EINVAL);
	CHECK_RC(db, crm_workflow_decide(db, "contract", id, "maybe", NULL), CRM_EINVAL);

	crm_clock_set(db, T0 + 1 * HOUR);
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "approve", NULL));
	CHECK_STR(state_of(db, "contract_review", "contract", id), "review");
	crm_clock_set(db, T0 + 2 * HOUR);
	crm_actor_set(db, "lena", "legal");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "approve", NULL));
	CHECK_STR(state_of(db, "contract_review", "contract", id), "review");
	/* legal cannot decide twice */
	CHECK_RC(db, crm_workflow_decide(db, "contract", id, "approve", NULL), CRM_EPERM);
	CHECK_HAS(crm_errmsg(db), "waiting for role finance");
	crm_clock_set(db, T0 + 3 * HOUR);
	crm_actor_set(db, "fred", "finance,reporting");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "approve", NULL));
	CHECK_STR(state_of(db, "contract_review", "contract", id), "signed");
	CHECK_INT(events(db, "contract_signed"), 1);
	/* nothing awaits a decision any more */
	CHECK_RC(db, crm_workflow_decide(db, "contract", id, "approve", NULL), CRM_EINVAL);

	/* every decision with actor and time, in the history and the approval rows */
	CHECK_OK(db, crm_workflow_history(db, "contract", id, &json));
	CHECK_HAS(json, "\"at\":\"2026-01-02T04:04:05.000Z\",\"event\":\"approve\",\"from\":\"review\",\"to\":\"review\","
			"\"actor\":\"alice\",\"data\":{\"step\":0,\"approver\":\"role technical\"}");
	CHECK_HAS(json, "\"at\":\"2026-01-02T05:04:05.000Z\",\"event\":\"approve\",\"from\":\"review\",\"to\":\"review\","
			"\"actor\":\"lena\",\"data\":{\"step\":1,\"approver\":\"role legal\"}");
	CHECK_HAS(json, "\"at\":\"2026-01-02T06:04:05.000Z\",\"event\":\"approve\",\"from\":\"review\",\"to\":\"review\","
			"\"actor\":\"fred\",\"data\":{\"step\":2,\"approver\":\"role finance\"}");
	CHECK_HAS(json, "\"event\":\"approved\",\"from\":\"review\",\"to\":\"signed\",\"actor\":\"fred\"");
	crm_free(json);
	CHECK_STR(sql_rows(db, " ", "SELECT actor || '@' || ((at - %lld) / 3600000) || ':' || decision FROM crm_wf_approval"
				    " ORDER BY step", (long long)T0),
		  "alice@1:approved lena@2:approved fred@3:approved");
	crm_close(db);
}

TEST(test_s8_approval__rejection_returns_to_draft_with_reason)
{
	crm_db *db = db_with_forms();
	char *json = NULL;
	int64_t id;

	apply(db, contract_review);
	id = insert(db, "contract", "{'title':'Big deal','amount':500000}");
	CHECK_OK(db, fire(db, "contract", id, "submit", NULL));
	crm_actor_set(db, "alice", "technical");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "approve", NULL));
	crm_actor_set(db, "lena", "legal");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "reject", "unlimited liability clause"));
	CHECK_STR(state_of(db, "contract_review", "contract", id), "draft");
	CHECK_OK(db, crm_workflow_history(db, "contract", id, &json));
	CHECK_HAS(json, "\"event\":\"reject\",\"from\":\"review\",\"to\":\"review\",\"actor\":\"lena\","
			"\"data\":{\"step\":1,\"approver\":\"role legal\",\"reason\":\"unlimited liability clause\"}");
	CHECK_HAS(json, "\"event\":\"rejected\",\"from\":\"review\",\"to\":\"draft\",\"actor\":\"lena\","
			"\"data\":{\"note\":\"unlimited liability clause\"}");
	crm_free(json);
	CHECK_STR(sql_text(db, "SELECT reason FROM crm_wf_approval WHERE decision='rejected'"), "unlimited liability clause");
	/* nothing awaits a decision in draft */
	CHECK_RC(db, crm_workflow_decide(db, "contract", id, "approve", NULL), CRM_EINVAL);

	/* resubmitted: a new round, starting again with technical */
	crm_actor_set(db, "sam", "sales");
	CHECK_OK(db, update(db, "contract", id, "{'title':'Big deal (liability capped)'}"));
	CHECK_OK(db, fire(db, "contract", id, "submit", NULL));
	crm_actor_set(db, "lena", "legal");
	CHECK_RC(db, crm_workflow_decide(db, "contract", id, "approve", NULL), CRM_EPERM);
	crm_actor_set(db, "alice", "technical");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "approve", NULL));
	crm_actor_set(db, "lena", "legal");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "approve", NULL));
	crm_actor_set(db, "fred", "finance");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "reject", "payment terms over 90 days"));
	CHECK_STR(state_of(db, "contract_review", "contract", id), "draft");
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_approval WHERE round=2 AND decision IS NOT NULL"), 3);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_approval WHERE round=1 AND decision IS NULL"), 1);
	crm_close(db);
}

static const char discount_approval[] =
	"{'workflow':'discount_approval','form':'contract','start_on':{'update':{'field':'discount','op':'gt','value':10}},"
	" 'initial':'requested',"
	" 'states':{"
	"  'requested':{'approval':{'steps':[{'role':'manager'},{'role':'director'}],'approved':'granted','rejected':'refused'}},"
	"  'granted':{'final':true,'on_enter':[{'emit':'discount_granted','payload':{'discount':{'field':'discount'}}}]},"
	"  'returned':{'on_enter':[{'set':{'discount':10}}]}},"
	" 'transitions':["
	"  {'from':'requested','event':'granted','to':'granted'},"
	"  {'from':'requested','event':'refused','to':'returned'},"
	"  {'from':'returned','event':'resubmit','to':'requested','guard':'record.discount > 10'}]}";

TEST(test_s8_approval__discount_manager_then_director)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, discount_approval);
	id = insert(db, "contract", "{'title':'ACME','amount':50000,'discount':5}");
	CHECK_STR(state_of(db, "discount_approval", "contract", id), "(none)");
	CHECK_OK(db, update(db, "contract", id, "{'discount':25}"));
	CHECK_STR(state_of(db, "discount_approval", "contract", id), "requested");
	crm_actor_set(db, "dora", "director");
	CHECK_RC(db, crm_workflow_decide(db, "contract", id, "approve", NULL), CRM_EPERM);
	crm_actor_set(db, "max", "manager");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "approve", NULL));
	crm_actor_set(db, "dora", "director");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "reject", "25% is above the quarter's policy"));
	CHECK_STR(state_of(db, "discount_approval", "contract", id), "returned");
	CHECK_STR(field(db, "contract", id, "discount"), "10");
	/* the rep asks again for less; manager then director approve */
	crm_actor_set(db, "sam", "sales");
	CHECK_RC(db, fire(db, "contract", id, "resubmit", NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, fire(db, "contract", id, "resubmit", "{'discount':15}"));
	crm_actor_set(db, "max", "manager");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "approve", NULL));
	crm_actor_set(db, "dora", "director");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "approve", NULL));
	CHECK_STR(state_of(db, "discount_approval", "contract", id), "granted");
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='discount_granted'"), "\"discount\":15");
	CHECK_STR(sql_rows(db, " ", "SELECT actor || ':' || decision FROM crm_wf_approval ORDER BY id"),
		  "max:approved dora:rejected max:approved dora:approved");
	crm_close(db);
}

/* "all": every approver, in any order; "any": the first approval decides.
 * Steps may name users instead of roles. */
TEST(test_s8_approval__modes_all_and_any)
{
	crm_db *db = db_with_forms();
	int64_t a, b;

	apply(db, "{'workflow':'board','form':'contract','start_on':'create','initial':'review',"
		  " 'states':{'review':{'approval':{'mode':'all','steps':[{'user':'ceo'},{'user':'cfo'},{'role':'legal'}],"
		  "                                  'approved':'ok','rejected':'no'}},"
		  "           'approved':{},'returned':{}},"
		  " 'transitions':[{'from':'review','event':'ok','to':'approved'},{'from':'review','event':'no','to':'returned'}]}");
	a = insert(db, "contract", "{'title':'A'}");
	crm_actor_set(db, "lena", "legal");
	CHECK_OK(db, crm_workflow_decide(db, "contract", a, "approve", NULL));
	crm_actor_set(db, "cfo", NULL);
	CHECK_OK(db, crm_workflow_decide(db, "contract", a, "approve", NULL));
	CHECK_STR(state_of(db, "board", "contract", a), "review");
	crm_actor_set(db, "someone", "ceo"); /* a user step is the user, not a role */
	CHECK_RC(db, crm_workflow_decide(db, "contract", a, "approve", NULL), CRM_EPERM);
	CHECK_HAS(crm_errmsg(db), "waiting for user ceo");
	crm_actor_set(db, "ceo", NULL);
	CHECK_OK(db, crm_workflow_decide(db, "contract", a, "approve", NULL));
	CHECK_STR(state_of(db, "board", "contract", a), "approved");
	crm_close(db);

	db = db_with_forms();
	apply(db, "{'workflow':'quick','form':'contract','start_on':'create','initial':'review',"
		  " 'states':{'review':{'approval':{'mode':'any','steps':[{'role':'manager'},{'role':'director'}],"
		  "                                  'approved':'ok','rejected':'no'}},"
		  "           'approved':{},'returned':{}},"
		  " 'transitions':[{'from':'review','event':'ok','to':'approved'},{'from':'review','event':'no','to':'returned'}]}");
	a = insert(db, "contract", "{'title':'A'}");
	b = insert(db, "contract", "{'title':'B'}");
	crm_actor_set(db, "dora", "director");
	CHECK_OK(db, crm_workflow_decide(db, "contract", a, "approve", NULL));
	CHECK_STR(state_of(db, "quick", "contract", a), "approved");
	crm_actor_set(db, "max", "manager");
	CHECK_OK(db, crm_workflow_decide(db, "contract", b, "reject", "no budget"));
	CHECK_STR(state_of(db, "quick", "contract", b), "returned");
	crm_close(db);
}

/* Two approvals pending on one record (contract review and discount): each
 * approver decides the one that waits for them. */
TEST(test_s8_approval__two_pending_approvals_on_one_record)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, contract_review);
	apply(db, discount_approval);
	id = insert(db, "contract", "{'title':'ACME','amount':250000,'discount':0}");
	CHECK_OK(db, fire(db, "contract", id, "submit", NULL));
	CHECK_OK(db, update(db, "contract", id, "{'discount':20}"));
	CHECK_STR(state_of(db, "contract_review", "contract", id), "review");
	CHECK_STR(state_of(db, "discount_approval", "contract", id), "requested");
	crm_actor_set(db, "max", "manager");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "approve", NULL));
	crm_actor_set(db, "alice", "technical");
	CHECK_OK(db, crm_workflow_decide(db, "contract", id, "approve", NULL));
	CHECK_STR(sql_text(db, "SELECT actor || ':' || decision FROM crm_wf_approval WHERE role='manager'"), "max:approved");
	CHECK_STR(sql_text(db, "SELECT actor || ':' || decision FROM crm_wf_approval WHERE role='technical'"), "alice:approved");
	/* neither approval waits for finance yet: refused, naming the first one's approver */
	crm_actor_set(db, "fred", "finance");
	CHECK_RC(db, crm_workflow_decide(db, "contract", id, "approve", NULL), CRM_EPERM);
	CHECK_HAS(crm_errmsg(db), "fred cannot decide now: waiting for role legal");
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_approval WHERE decision IS NOT NULL"), 2);
	crm_close(db);
}

/* ---- S9: order to cash ---- */

static const char o2c[] =
	"[{'form':'project','fields':["
	"   {'name':'name','type':'text','required':true},"
	"   {'name':'customer','type':'text'},"
	"   {'name':'contract','type':'ref','form':'contract'},"
	"   {'name':'opportunity','type':'ref','form':'opportunity'},"
	"   {'name':'amount','type':'decimal','scale':2,'required':true},"
	"   {'name':'payment_terms','type':'text'},"
	"   {'name':'paid','type':'decimal','scale':2}]},"
	" {'form':'invoice','fields':["
	"   {'name':'project','type':'ref','form':'project','required':true},"
	"   {'name':'amount','type':'decimal','scale':2,'required':true},"
	"   {'name':'due','type':'datetime'}]},"
	" {'workflow':'deal','form':'opportunity','start_on':'create','initial':'open',"
	"  'states':{'open':{},'lost':{'final':true},"
	"   'won':{'final':true,'on_enter':[{'create':{'form':'project','values':{"
	"     'name':{'field':'name'},'opportunity':{'field':'id'},'contract':{'field':'contract'},"
	"     'customer':{'lua':'crm.get(`contract`, record.contract).customer'},"
	"     'amount':{'lua':'crm.get(`contract`, record.contract).amount'},"
	"     'payment_terms':{'lua':'crm.get(`contract`, record.contract).payment_terms'}}}}]}},"
	"  'transitions':[{'from':'open','event':'win','to':'won','guard':'record.contract ~= nil'},"
	"                 {'from':'open','event':'lose','to':'lost'}]},"
	" {'workflow':'delivery','form':'project','start_on':'create','initial':'delivering',"
	"  'states':{'delivering':{},"
	"   'invoicing':{'on_enter':[{'create':{'form':'invoice','values':{'project':{'field':'id'},'amount':{'field':'amount'},"
	"                                       'due':{'now':'+30d'}}}},"
	"                            {'emit':'invoice_issued','payload':{'project':{'field':'id'},'amount':{'field':'amount'}}}]},"
	"   'collecting':{'timers':[{'after':'30d','event':'payment_overdue'}]},"
	"   'closed':{'final':true,'on_enter':[{'emit':'project_closed'}]}},"
	"  'transitions':["
	"   {'from':'delivering','event':'delivered','to':'invoicing'},"
	"   {'from':'invoicing','event':'invoice_sent','to':'collecting'},"
	"   {'from':'collecting','event':'payment_overdue','to':'collecting','actions':[{'emit':'payment_reminder'}]},"
	"   {'from':'collecting','event':'payment_received','to':'closed','guard':'record.paid ~= nil and record.paid >= record.amount'},"
	"   {'from':'collecting','event':'payment_received','to':'collecting','actions':[{'emit':'partial_payment',"
	"      'payload':{'paid':{'field':'paid'}}}]}]}]";

TEST(test_s9_order_to_cash)
{
	crm_db *db = db_with_forms();
	int64_t contract, opp, project;

	apply(db, o2c);
	contract = insert(db, "contract", "{'title':'ACME rollout','customer':'ACME Ltd','amount':120000.50,'payment_terms':'30 days net'}");
	opp = insert(db, "opportunity", "{'name':'ACME rollout','amount':100000}");
	/* no contract yet: not won */
	CHECK_RC(db, fire(db, "opportunity", opp, "win", NULL), CRM_ECONSTRAINT);
	CHECK_INT(count(db, "project"), 0);
	{
		char fields[64];
		snprintf(fields, sizeof fields, "{'contract':%lld}", (long long)contract);
		CHECK_OK(db, fire(db, "opportunity", opp, "win", fields));
	}
	CHECK_STR(state_of(db, "deal", "opportunity", opp), "won");
	CHECK_INT(count(db, "project"), 1);
	project = sql_int(db, "SELECT id FROM project");
	/* the contract's data, copied over ({"field"} and {"lua"} values) */
	CHECK_STR(sql_text(db, "SELECT name || '|' || customer || '|' || contract || '|' || opportunity || '|' || %s || '|' || "
			       "payment_terms FROM project", stored(db, CRM_TYPE_DECIMAL, 2, "amount")),
		  "ACME rollout|ACME Ltd|1|1|12000050|30 days net");
	/* the project runs its own workflow, started by its creation */
	CHECK_STR(state_of(db, "delivery", "project", project), "delivering");
	CHECK_OK(db, fire(db, "project", project, "delivered", NULL));
	CHECK_STR(state_of(db, "delivery", "project", project), "invoicing");
	CHECK_STR(sql_text(db, "SELECT project || '|' || %s || '|' || ((%s - %lld) / 86400000) FROM invoice",
			   stored(db, CRM_TYPE_DECIMAL, 2, "amount"), stored(db, CRM_TYPE_DATETIME, 0, "due"), (long long)T0),
		  "1|12000050|30");
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='invoice_issued'"), "\"amount\":120000.50");
	crm_clock_set(db, T0 + 2 * DAY);
	CHECK_OK(db, fire(db, "project", project, "invoice_sent", NULL));
	/* payment collection: a reminder when overdue, partial payments, then closed */
	CHECK_INT(tick(db, T0 + 32 * DAY), 1);
	CHECK_INT(events(db, "payment_reminder"), 1);
	CHECK_OK(db, fire(db, "project", project, "payment_received", "{'paid':60000}"));
	CHECK_STR(state_of(db, "delivery", "project", project), "collecting");
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='partial_payment'"), "\"paid\":60000.00");
	CHECK_OK(db, fire(db, "project", project, "payment_received", "{'paid':120000.50}"));
	CHECK_STR(state_of(db, "delivery", "project", project), "closed");
	CHECK_INT(events(db, "project_closed"), 1);
	CHECK_INT(tick(db, T0 + 100 * DAY), 0);
	crm_close(db);
}

/* ---- S10: service tickets ---- */

static const char service[] =
	"[{'form':'customer','fields':["
	"   {'name':'name','type':'text','required':true},"
	"   {'name':'satisfaction','type':'integer','min':1,'max':5},"
	"   {'name':'last_survey_at','type':'datetime'}]},"
	" {'form':'quality_issue','fields':["
	"   {'name':'title','type':'text','required':true},"
	"   {'name':'product','type':'enum','options':['router','switch','software']}]},"
	" {'form':'ticket','fields':["
	"   {'name':'subject','type':'text','required':true},"
	"   {'name':'channel','type':'enum','options':['web','wechat','douyin','hotline','store']},"
	"   {'name':'customer','type':'ref','form':'customer','required':true},"
	"   {'name':'product','type':'enum','options':['router','switch','software']},"
	"   {'name':'urgency','type':'enum','options':['low','normal','critical'],'default':'normal'},"
	"   {'name':'kind','type':'enum','options':['request','complaint'],'default':'request'},"
	"   {'name':'team','type':'text'},"
	"   {'name':'rating','type':'integer','min':1,'max':5},"
	"   {'name':'quality_issue','type':'ref','form':'quality_issue'}]},"
	" {'decision':'ticket_routing','inputs':['product','urgency'],'outputs':['team','owner'],'rules':["
	"   {'when':{'product':'router','urgency':'critical'},'then':{'team':'network_l2','owner':'tom'}},"
	"   {'when':{'product':['router','switch']},'then':{'team':'network_l1','owner':'nina'}},"
	"   {'when':{'product':'software'},'then':{'team':'apps','owner':'sara'}},"
	"   {'then':{'team':'service_desk','owner':'desk'}}]},"
	" {'workflow':'service','form':'ticket','start_on':'create','initial':'new',"
	"  'states':{"
	"   'new':{'on_enter':[{'decide':'ticket_routing'}]},"
	"   'escalated':{'on_enter':[{'emit':'page_on_call','payload':{'team':{'field':'team'}}}]},"
	"   'in_progress':{},"
	"   'resolved':{'on_enter':["
	"      {'emit':'notify_customer','payload':{'customer':{'field':'customer'},'ticket':{'field':'id'},'subject':{'field':'subject'}}},"
	"      {'emit':'satisfaction_survey','payload':{'customer':{'field':'customer'},'channel':{'field':'channel'}}}]},"
	"   'closed':{'final':true}},"
	"  'transitions':["
	"   {'from':'new','when':{'field':'urgency','op':'eq','value':'critical'},'to':'escalated'},"
	"   {'from':['new','escalated'],'event':'start','to':'in_progress'},"
	"   {'from':'in_progress','event':'resolve','to':'resolved'},"
	"   {'from':'in_progress','event':'link_quality_issue','to':'in_progress',"
	"    'guard':{'field':'kind','op':'eq','value':'complaint'},'actions':[{'lua':'"
	"      local q = crm.find(`quality_issue`, {filter = {field = `product`, op = `eq`, value = record.product}, limit = 1})[1]\\n"
	"      local id = q and q.id or crm.create(`quality_issue`, {title = `Quality: ` .. record.product, product = record.product})\\n"
	"      return {quality_issue = id}'}]},"
	"   {'from':'resolved','event':'survey_answered','to':'closed','guard':'record.rating ~= nil','actions':[{'lua':"
	"      'crm.update(`customer`, record.customer, {satisfaction = record.rating, last_survey_at = crm.iso(crm.now())})'}]}]}]";

TEST(test_s10_tickets__routed_by_product_and_urgency)
{
	crm_db *db = db_with_forms();
	int64_t cust, t1, t2, t3, t4;

	apply(db, service);
	cust = insert(db, "customer", "{'name':'ACME Ltd'}");
	CHECK_INT(cust, 1); /* the tickets below refer to customer 1 */
	t1 = insert(db, "ticket", "{'subject':'Router reboots','channel':'wechat','customer':1,'product':'router','urgency':'critical'}");
	t2 = insert(db, "ticket", "{'subject':'Switch port dead','channel':'hotline','customer':1,'product':'switch'}");
	t3 = insert(db, "ticket", "{'subject':'Login fails','channel':'web','customer':1,'product':'software','urgency':'low'}");
	t4 = insert(db, "ticket", "{'subject':'Where is my invoice','channel':'douyin','customer':1}");
	CHECK_STR(sql_text(db, "SELECT team || '/' || owner FROM ticket WHERE id=%lld", (long long)t1), "network_l2/tom");
	CHECK_STR(sql_text(db, "SELECT team || '/' || owner FROM ticket WHERE id=%lld", (long long)t2), "network_l1/nina");
	CHECK_STR(sql_text(db, "SELECT team || '/' || owner FROM ticket WHERE id=%lld", (long long)t3), "apps/sara");
	CHECK_STR(sql_text(db, "SELECT team || '/' || owner FROM ticket WHERE id=%lld", (long long)t4), "service_desk/desk");
	/* critical: escalated at once by the "when" condition, paging the routed team */
	CHECK_STR(state_of(db, "service", "ticket", t1), "escalated");
	CHECK_STR(state_of(db, "service", "ticket", t2), "new");
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='page_on_call'"), "\"team\":\"network_l2\"");
	CHECK_INT(events(db, "page_on_call"), 1);
	/* an urgency raised later escalates too */
	CHECK_OK(db, update(db, "ticket", t2, "{'urgency':'critical'}"));
	CHECK_STR(state_of(db, "service", "ticket", t2), "escalated");
	crm_close(db);
}

TEST(test_s10_tickets__resolve_notifies_and_survey_updates_customer)
{
	crm_db *db = db_with_forms();
	int64_t cust, t;

	apply(db, service);
	cust = insert(db, "customer", "{'name':'ACME Ltd'}");
	t = insert(db, "ticket", "{'subject':'Router reboots','channel':'wechat','customer':1,'product':'router'}");
	CHECK_OK(db, fire(db, "ticket", t, "start", NULL));
	CHECK_OK(db, fire(db, "ticket", t, "resolve", NULL));
	CHECK_STR(state_of(db, "service", "ticket", t), "resolved");
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='notify_customer'"),
		  "\"data\":{\"customer\":1,\"ticket\":1,\"subject\":\"Router reboots\"}");
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='satisfaction_survey'"), "\"channel\":\"wechat\"");
	/* no rating yet: the survey transition waits */
	CHECK_RC(db, fire(db, "ticket", t, "survey_answered", NULL), CRM_ECONSTRAINT);
	/* an out-of-range rating fails validation; nothing reaches the customer */
	CHECK_RC(db, fire(db, "ticket", t, "survey_answered", "{'rating':9}"), CRM_ECONSTRAINT);
	CHECK_STR(field(db, "customer", cust, "satisfaction"), "(null)");
	crm_clock_set(db, T0 + 3 * DAY);
	CHECK_OK(db, fire(db, "ticket", t, "survey_answered", "{'rating':4}"));
	CHECK_STR(state_of(db, "service", "ticket", t), "closed");
	CHECK_STR(field(db, "customer", cust, "satisfaction"), "4");
	CHECK_INT(sql_int(db, "SELECT last_survey_at FROM customer"), T0 + 3 * DAY);
	crm_close(db);
}

TEST(test_s10_tickets__complaint_linked_to_quality_issue)
{
	crm_db *db = db_with_forms();
	int64_t t1, t2, req;

	apply(db, service);
	insert(db, "customer", "{'name':'ACME Ltd'}");
	t1 = insert(db, "ticket", "{'subject':'Third router failure','customer':1,'product':'router','kind':'complaint'}");
	t2 = insert(db, "ticket", "{'subject':'Router overheats','customer':1,'product':'router','kind':'complaint'}");
	req = insert(db, "ticket", "{'subject':'Manual please','customer':1,'product':'router'}");
	CHECK_OK(db, fire(db, "ticket", t1, "start", NULL));
	CHECK_OK(db, fire(db, "ticket", t2, "start", NULL));
	CHECK_OK(db, fire(db, "ticket", req, "start", NULL));
	CHECK_OK(db, fire(db, "ticket", t1, "link_quality_issue", NULL));
	CHECK_OK(db, fire(db, "ticket", t2, "link_quality_issue", NULL));
	CHECK_INT(count(db, "quality_issue"), 1);
	CHECK_STR(sql_text(db, "SELECT title || '/' || product FROM quality_issue"), "Quality: router/router");
	CHECK_STR(field(db, "ticket", t1, "quality_issue"), "1");
	CHECK_STR(field(db, "ticket", t2, "quality_issue"), "1");
	/* only complaints are linked */
	CHECK_RC(db, fire(db, "ticket", req, "link_quality_issue", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errmsg(db), "the guard of 'link_quality_issue' in state in_progress does not allow it");
	CHECK_STR(field(db, "ticket", req, "quality_issue"), "(null)");
	crm_close(db);
}

/* ---- engine: atomicity ---- */

static const char atomic[] =
	"{'workflow':'atomic','form':'lead','start_on':'create','initial':'a',"
	" 'states':{"
	"  'a':{'timers':[{'after':'1h','event':'ping'}],'on_exit':[{'score':1},{'emit':'left_a'}]},"
	"  'b':{'timers':[{'after':'2h','event':'pong'}],'on_enter':[{'create':{'form':'task','values':{'title':'in b',"
	"       'lead':{'field':'id'}}}},{'emit':'entered_b'}]},"
	"  'c':{'timers':[{'after':'3h','event':'pong'}],'on_enter':[{'create':{'form':'task','values':{'title':'in c',"
	"       'lead':{'field':'id'}}}},{'emit':'entered_c'},{'lua':'error(`late failure`)'}]},"
	"  'd':{'require':['region']}},"
	" 'transitions':["
	"  {'from':'a','event':'lua_fails','to':'b','actions':[{'set':{'score':7,'name':'changed'}},"
	"     {'create':{'form':'task','values':{'title':'t','lead':{'field':'id'}}}},{'emit':'should_not_exist'},"
	"     {'lua':'error(`boom`)'}]},"
	"  {'from':'a','event':'set_fails','to':'b','actions':[{'emit':'should_not_exist'},{'set':{'region':'nowhere'}}]},"
	"  {'from':'a','event':'enter_fails','to':'c'},"
	"  {'from':'a','event':'plugin_missing','to':'b','actions':[{'lua':'crm.decide(`nosuch`, {})'}]},"
	"  {'from':'a','event':'error_object','to':'b','actions':[{'lua':'crm.create(`task`, {title = `x`}); error({code = 42})'}]},"
	"  {'from':'a','event':'crm_fails','to':'b','actions':[{'lua':'crm.create(`task`, {title = `x`}); crm.create(`task`, {})'}]},"
	"  {'from':'a','event':'caught_crm_fails','to':'b','actions':[{'lua':"
	"     'crm.create(`task`, {title = `x`}); local ok = pcall(crm.create, `task`, {}); assert(not ok); error(`after pcall`)'}]},"
	"  {'from':'a','event':'budget','to':'b','actions':[{'lua':'crm.create(`task`, {title = `x`}); while true do end'}]},"
	"  {'from':'a','event':'bad_value','to':'b','actions':[{'set':{'score':{'lua':'{1, 2}'}}}]},"
	"  {'from':'a','event':'hook_returns_junk','to':'b','actions':[{'lua':'return {score = function() end}'}]},"
	"  {'from':'a','event':'guard_errors','to':'b','guard':'record.nothing.deeper'},"
	"  {'from':'a','event':'to_d','to':'d'},"
	"  {'from':'a','event':'ok','to':'b'}]}";

/* Everything a transition may change, as one string. */
static const char *snapshot(crm_db *db, int64_t id)
{
	static char out[8192];

	snprintf(out, sizeof out, "instance=%s record=%s history=%lld events=%lld timers=%s tasks=%lld",
		 sql_text(db, "SELECT state || '/' || status || '/' || entered_at || '/' || updated_at FROM crm_wf_instance ORDER BY id"),
		 test_get(db, "lead", id), (long long)sql_int(db, "SELECT count(*) FROM crm_wf_history"),
		 (long long)sql_int(db, "SELECT count(*) FROM crm_event"),
		 sql_text(db, "SELECT id || ':' || state || ':' || event || ':' || due_at FROM crm_wf_timer ORDER BY id"),
		 (long long)sql_int(db, "SELECT count(*) FROM task"));
	return out;
}

TEST(test_engine__failed_transition_changes_nothing)
{
	static const struct {
		const char *event, *fields;
		int code;
		const char *message;
	} cases[] = {
		{ "lua_fails", NULL, CRM_ESCRIPT, "atomic:transitions[0].actions[3]:1: boom" },
		{ "lua_fails", "{'region':'north','score':3}", CRM_ESCRIPT, "boom" },
		{ "set_fails", NULL, CRM_ECONSTRAINT, "'nowhere' is not an option of region" },
		{ "enter_fails", NULL, CRM_ESCRIPT, "atomic:states.c.on_enter[2]:1: late failure" },
		{ "plugin_missing", NULL, CRM_ENOTFOUND, "no decision table named 'nosuch'" },
		{ "error_object", NULL, CRM_ESCRIPT, "atomic:transitions[4].actions[0]:1: script error (a table as error object)" },
		{ "crm_fails", NULL, CRM_ECONSTRAINT, "title is required" },
		{ "caught_crm_fails", NULL, CRM_ESCRIPT, "after pcall" },
		{ "budget", NULL, CRM_ELIMIT, "instruction budget" },
		{ "bad_value", NULL, CRM_ECONSTRAINT, "score" },
		{ "hook_returns_junk", NULL, CRM_ESCRIPT, "not a record" },
		{ "guard_errors", NULL, CRM_ESCRIPT, "atomic:transitions[10].guard:1:" },
		{ "to_d", NULL, CRM_ECONSTRAINT, "region is required to enter d" },
	};
	crm_db *db = db_with_forms();
	char before[8192];
	int64_t id;

	apply(db, atomic);
	crm_limit(db, CRM_LIMIT_LUA_INSTRUCTIONS, 100000);
	id = insert(db, "lead", "{'name':'Zhang Wei'}");
	snprintf(before, sizeof before, "%s", snapshot(db, id));
	CHECK_HAS(before, "timers=1:a:ping:");
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		crm_clock_set(db, T0 + (int64_t)(i + 1) * MIN); /* any write would show in updated_at */
		CHECK_RC(db, fire(db, "lead", id, cases[i].event, cases[i].fields), cases[i].code);
		CHECK_HAS(crm_errmsg(db), cases[i].message);
		CHECK_STR(snapshot(db, id), before);
		if (strcmp(snapshot(db, id), before) != 0)
			fprintf(stderr, "  after %s\n", cases[i].event);
	}
	/* the handle is fine afterwards: the right transition works */
	CHECK_OK(db, fire(db, "lead", id, "ok", NULL));
	CHECK_STR(state_of(db, "atomic", "lead", id), "b");
	CHECK_STR(field(db, "lead", id, "score"), "1");
	CHECK_INT(count(db, "task"), 1);
	CHECK_INT(events(db, "left_a") + events(db, "entered_b"), 2);
	CHECK_INT(events(db, "should_not_exist") + events(db, "entered_c"), 0);
	CHECK_HAS(sql_text(db, "SELECT state || ':' || event FROM crm_wf_timer ORDER BY id"), "b:pong");
	crm_close(db);
}

/* A failing automatic ("when") transition after a successful one undoes both. */
TEST(test_engine__failing_when_undoes_the_event)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "{'workflow':'w','form':'lead','start_on':'create','initial':'a',"
		  " 'states':{'a':{},'b':{},'c':{'on_enter':[{'lua':'error(`no`)'}]}},"
		  " 'transitions':[{'from':'a','event':'go','to':'b','actions':[{'score':60}]},"
		  "                {'from':'a','event':'quiet','to':'b'},"
		  "                {'from':'b','when':{'field':'score','op':'ge','value':50},'to':'c'}]}");
	id = insert(db, "lead", "{'name':'A'}");
	CHECK_RC(db, fire(db, "lead", id, "go", NULL), CRM_ESCRIPT);
	CHECK_STR(state_of(db, "w", "lead", id), "a");
	CHECK_STR(field(db, "lead", id, "score"), "0");
	/* a record update whose automatic transition fails is refused as a whole */
	CHECK_OK(db, fire(db, "lead", id, "quiet", NULL));
	CHECK_RC(db, update(db, "lead", id, "{'name':'B','score':70}"), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "w:states.c.on_enter[0]:1: no");
	CHECK_STR(field(db, "lead", id, "name"), "A");
	CHECK_STR(field(db, "lead", id, "score"), "0");
	CHECK_STR(state_of(db, "w", "lead", id), "b");
	CHECK_OK(db, update(db, "lead", id, "{'name':'B','score':10}"));
	crm_close(db);
}

/* Automatic transitions whose conditions stay true around a cycle are an
 * error, not a silent stop after some rounds. */
TEST(test_engine__when_cycle_is_refused)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "{'workflow':'pp','form':'lead','start_on':'create','initial':'a',"
		  " 'states':{'a':{'on_enter':[{'emit':'in_a'}]},'b':{}},"
		  " 'transitions':[{'from':'a','when':{'field':'score','op':'ge','value':1},'to':'b'},"
		  "                {'from':'b','when':{'field':'score','op':'ge','value':1},'to':'a'}]}");
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"A\",\"score\":5}", NULL), CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), "pp: automatic transitions do not settle: more than 20 in a row");
	CHECK_INT(count(db, "lead"), 0);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_event"), 0);
	id = insert(db, "lead", "{'name':'B'}");
	CHECK_RC(db, update(db, "lead", id, "{'score':1}"), CRM_ELIMIT);
	CHECK_STR(state_of(db, "pp", "lead", id), "a");
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_history"), 1);
	/* a reentering "when" whose condition stays true loops the same way */
	apply(db, "{'workflow':'pp','form':'lead','start_on':'create','initial':'a','states':{'a':{}},"
		  " 'transitions':[{'from':'a','when':{'field':'score','op':'ge','value':1},'to':'a','reenter':true}]}");
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"C\",\"score\":5}", NULL), CRM_ELIMIT);
	crm_close(db);
}

/* ---- engine: actions and their values ---- */

TEST(test_engine__action_values)
{
	crm_db *db = db_with_forms();
	const char *ev;
	int64_t id;

	apply(db, "[{'form':'deal','fields':["
		  "   {'name':'name','type':'text'},{'name':'backup','type':'text'},{'name':'due','type':'datetime'},"
		  "   {'name':'checked','type':'datetime'},{'name':'amount','type':'decimal','scale':2},"
		  "   {'name':'labels','type':'json'},{'name':'info','type':'json'},{'name':'note','type':'text'}]},"
		  " {'workflow':'v','form':'deal','start_on':'create','initial':'a','states':{'a':{},'b':{'on_enter':["
		  "   {'emit':'entered','payload':{'state_seen':{'lua':'ctx.state'},'to':{'lua':'ctx.to'},'event':{'lua':'ctx.event'}}}]}},"
		  "  'transitions':[{'from':'a','event':'go','to':'b','actions':["
		  "    {'assign':'alice'},"
		  "    {'set':{'due':{'now':'+2d'},'checked':{'now':'-1h'},'note':{'lua':'ctx.event .. `/` .. ctx.state .. `/` .. ctx.to .. `/` .. ctx.workflow .. `/` .. ctx.form .. `/` .. ctx.id'}}},"
		  "    {'set':{'info':{'who':{'field':'owner'},'nested':{'amount':{'field':'amount'},'when':{'now':''}},'list':[1,{'field':'x'}]}}},"
		  "    {'tag':'vip','field':'labels'},{'tag':'vip','field':'labels'},{'tag':'hot','field':'labels'},"
		  "    {'score':-0.5,'field':'amount'},"
		  "    {'emit':'moved','payload':{'owner':{'field':'owner'},'fixed':{'deep':[true,null]},'state_seen':{'lua':'ctx.state'}}},"
		  "    {'assign':{'field':'backup'}},"
		  "    {'lua':'return {name = record.name .. ` (moved)`}'},"
		  "    {'lua':'return nil'},{'lua':'return 42'},{'lua':'return {}'}]}]}]");
	id = insert(db, "deal", "{'name':'D','backup':'bob','amount':10}");
	CHECK_OK(db, fire(db, "deal", id, "go", NULL));
	/* the last assign wins; literal and {"field"} values */
	CHECK_STR(field(db, "deal", id, "owner"), "bob");
	CHECK_INT(sql_int(db, "SELECT due FROM deal"), T0 + 2 * DAY);
	CHECK_INT(sql_int(db, "SELECT checked FROM deal"), T0 - HOUR);
	CHECK_STR(field(db, "deal", id, "note"), "go/a/b/v/deal/1");
	/* objects are resolved member by member; arrays are literal */
	CHECK_STR(field(db, "deal", id, "info"),
		  "{\"who\":\"alice\",\"nested\":{\"amount\":10.00,\"when\":\"2026-01-02T03:04:05.000Z\"},\"list\":[1,{\"field\":\"x\"}]}");
	CHECK_STR(field(db, "deal", id, "labels"), "[\"vip\",\"hot\"]");
	CHECK_INT(sql_int(db, "SELECT %s FROM deal WHERE id=%lld", stored(db, CRM_TYPE_DECIMAL, 2, "amount"), (long long)id), 950);
	CHECK_STR(field(db, "deal", id, "name"), "D (moved)");
	/* emit: workflow and state (the state the action runs in) around the data */
	ev = sql_text(db, "SELECT payload FROM crm_event WHERE type='moved'");
	CHECK_STR(ev, "{\"workflow\":\"v\",\"state\":\"a\",\"data\":{\"owner\":\"alice\",\"fixed\":{\"deep\":[true,null]},\"state_seen\":\"a\"}}");
	/* in on_enter the state is the one entered */
	CHECK_STR(sql_text(db, "SELECT payload FROM crm_event WHERE type='entered'"),
		  "{\"workflow\":\"v\",\"state\":\"b\",\"data\":{\"state_seen\":\"b\",\"to\":\"b\",\"event\":\"go\"}}");
	crm_close(db);
}

/* A hook's returned table must hold fields of the form. */
TEST(test_engine__hook_result_must_be_fields)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "{'workflow':'r','form':'lead','start_on':'create','initial':'a','states':{'a':{},'b':{}},"
		  " 'transitions':[{'from':'a','event':'go','to':'b','actions':[{'lua':'return {nosuch = 1}'}]}]}");
	id = insert(db, "lead", "{'name':'A'}");
	CHECK_RC(db, fire(db, "lead", id, "go", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "nosuch");
	CHECK_STR(state_of(db, "r", "lead", id), "a");
	crm_close(db);
}

/* One event, several workflows on the record: each instance that allows it
 * takes it, in one transaction; the fields are written once. */
TEST(test_engine__event_reaches_every_instance)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "[{'workflow':'w1','form':'lead','start_on':'create','initial':'a','states':{'a':{},'b':{}},"
		  "  'transitions':[{'from':'a','event':'contact','to':'b','actions':[{'score':1}]}]},"
		  " {'workflow':'w2','form':'lead','start_on':'create','initial':'x','states':{'x':{},'y':{'on_enter':[{'lua':'error(`w2 fails`)'}]}},"
		  "  'transitions':[{'from':'x','event':'contact','to':'x','actions':[{'score':10}]},"
		  "                 {'from':'x','event':'boom','to':'y'}]}]");
	id = insert(db, "lead", "{'name':'A'}");
	CHECK_OK(db, fire(db, "lead", id, "contact", "{'region':'east'}"));
	CHECK_STR(state_of(db, "w1", "lead", id), "b");
	CHECK_STR(field(db, "lead", id, "score"), "11");
	CHECK_STR(field(db, "lead", id, "region"), "east");
	/* an event no instance allows: refused, naming the record */
	CHECK_RC(db, fire(db, "lead", id, "nothing", NULL), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "no workflow of lead record 1 allows 'nothing' now");
	/* each instance says what it allows (built only for this message) */
	CHECK_HAS(crm_errmsg(db), "(w1 in b allows nothing; w2 in x allows contact, boom)");
	/* one failing instance fails the event for all of them */
	CHECK_RC(db, fire(db, "lead", id, "boom", NULL), CRM_ESCRIPT);
	CHECK_STR(state_of(db, "w2", "lead", id), "x");
	crm_close(db);
}

/* ---- engine: refusals ---- */

TEST(test_engine__event_not_allowed_lists_allowed)
{
	crm_db *db = db_with_forms();
	int64_t id, inst;

	apply(db, atomic);
	id = insert(db, "lead", "{'name':'A'}");
	CHECK_RC(db, fire(db, "lead", id, "fly", NULL), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "atomic: event 'fly' is not allowed in state a (allowed: lua_fails, set_fails, enter_fails,");
	/* long lists are cut to fit the message */
	CHECK(strlen(crm_errmsg(db)) < 300);
	inst = sql_int(db, "SELECT id FROM crm_wf_instance");
	CHECK_RC(db, crm_workflow_fire_instance(db, inst, "fly", NULL), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "(allowed: lua_fails,");
	/* timer events are events like any other */
	CHECK_OK(db, fire(db, "lead", id, "ok", NULL));
	CHECK_RC(db, fire(db, "lead", id, "ok", NULL), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "in state b (allowed: none)");
	/* a record without any workflow */
	apply(db, "{'form':'note','fields':[{'name':'text','type':'text'}]}");
	CHECK_RC(db, fire(db, "note", insert(db, "note", "{'text':'x'}"), "ok", NULL), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "runs no workflow");
	CHECK_RC(db, fire(db, "lead", 999, "ok", NULL), CRM_ENOTFOUND);
	crm_close(db);
}

/* With several instances on one record, the refusal lists what each allows. */
TEST(test_engine__event_not_allowed_by_any_of_several_instances)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "[{'workflow':'one','form':'lead','start_on':'create','initial':'a','states':{'a':{},'b':{}},"
		  "  'transitions':[{'from':'a','event':'go','to':'b'},{'from':'a','event':'go','to':'b','reenter':true}]},"
		  " {'workflow':'two','form':'lead','start_on':'create','initial':'x','states':{'x':{},'y':{}},"
		  "  'transitions':[{'from':'x','event':'jump','to':'y'}]}]");
	id = insert(db, "lead", "{'name':'A'}");
	CHECK_RC(db, fire(db, "lead", id, "fly", NULL), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "(one in a allows go; two in x allows jump)");
	crm_close(db);
}

/* Each allowed event is named, even when one name is part of another. */
TEST(test_engine__allowed_list_names_each_event)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "{'workflow':'n','form':'lead','start_on':'create','initial':'a','states':{'a':{},'b':{}},"
		  " 'transitions':[{'from':'a','event':'go_back','to':'b'},{'from':'a','event':'go','to':'b'},"
		  "                {'from':'*','event':'back','to':'a'},{'from':'a','event':'go','to':'a'}]}");
	id = insert(db, "lead", "{'name':'A'}");
	CHECK_RC(db, fire(db, "lead", id, "stop", NULL), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "(allowed: go_back, go, back)");
	crm_close(db);
}

/* A crm.* failure a script catches with pcall does not decide the outcome. */
TEST(test_engine__caught_crm_failure_is_forgotten)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "{'workflow':'c','form':'lead','start_on':'create','initial':'a','states':{'a':{},'b':{},'c':{}},"
		  " 'transitions':[{'from':'a','event':'ok','to':'b','actions':[{'lua':"
		  "    'local ok, err = pcall(crm.create, `task`, {}); assert(not ok and err:find(`title is required`))'}]},"
		  "   {'from':'b','event':'fail','to':'c','actions':[{'lua':"
		  "    'xpcall(crm.create, function(e) return e end, `task`, {}); error(`own error`)'}]}]}");
	id = insert(db, "lead", "{'name':'A'}");
	CHECK_OK(db, fire(db, "lead", id, "ok", NULL));
	CHECK_INT(crm_errcode(db), CRM_OK);
	CHECK_STR(crm_errmsg(db), "");
	CHECK_RC(db, fire(db, "lead", id, "fail", NULL), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "c:transitions[1].actions[0]:1: own error");
	CHECK(strstr(crm_errdetail(db), "\"errors\"") == NULL);
	CHECK_STR(state_of(db, "c", "lead", id), "b");
	crm_close(db);
}

TEST(test_engine__guard_false_is_a_constraint)
{
	crm_db *db = db_with_forms();
	int64_t id;
	char *json = NULL;

	apply(db, "{'workflow':'g','form':'lead','start_on':'create','initial':'a',"
		  " 'states':{'a':{},'b':{}},"
		  " 'transitions':[{'from':'a','event':'lua','to':'b','guard':'record.score >= 60 and ctx.event == `lua` and ctx.to == `b`'},"
		  "                {'from':'a','event':'filter','to':'b','guard':{'and':[{'field':'region','op':'in','value':['north','south']},"
		  "                                                                     {'field':'score','op':'ge','value':60}]}}]}");
	id = insert(db, "lead", "{'name':'A','region':'north'}");
	CHECK_RC(db, fire(db, "lead", id, "lua", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errmsg(db), "g: the guard of 'lua' in state a does not allow it");
	CHECK_RC(db, fire(db, "lead", id, "filter", NULL), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_workflow_events(db, "lead", id, &json));
	CHECK_STR(json, "[{\"instance\":1,\"workflow\":\"g\",\"state\":\"a\",\"event\":\"lua\",\"to\":\"b\",\"enabled\":false,"
			"\"reason\":\"the guard does not allow it\"},{\"instance\":1,\"workflow\":\"g\",\"state\":\"a\",\"event\":"
			"\"filter\",\"to\":\"b\",\"enabled\":false,\"reason\":\"the guard does not allow it\"}]");
	crm_free(json);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_history"), 1);
	/* the fields given with the event count for the guard */
	CHECK_OK(db, fire(db, "lead", id, "filter", "{'score':60}"));
	CHECK_STR(state_of(db, "g", "lead", id), "b");
	id = insert(db, "lead", "{'name':'B','score':70}");
	CHECK_OK(db, crm_workflow_events(db, "lead", id, &json));
	CHECK_HAS(json, "\"event\":\"lua\",\"to\":\"b\",\"enabled\":true}");
	crm_free(json);
	CHECK_OK(db, fire(db, "lead", id, "lua", NULL));
	crm_close(db);
}

/* A chunk that names neither ctx nor _ENV gets the record alone; one that
 * reaches its globals through _ENV (under any spelling of the key) still
 * sees ctx, as does one naming it. */
TEST(test_engine__guards_reach_ctx_however_they_name_it)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "{'workflow':'e','form':'lead','start_on':'create','initial':'a',"
		  " 'states':{'a':{},'b':{},'c':{},'d':{}},"
		  " 'transitions':[{'from':'a','event':'plain','to':'b','guard':'record.score >= 60 and record.id > 0'},"
		  "                {'from':'b','event':'env','to':'c','guard':'_ENV[`c` .. `tx`].to == `c` and _ENV.record.score >= 60'},"
		  "                {'from':'c','event':'named','to':'d','guard':'ctx.old.score == record.score and ctx.changed.score == nil'}]}");
	id = insert(db, "lead", "{'name':'A','score':70}");
	CHECK_OK(db, fire(db, "lead", id, "plain", NULL));
	CHECK_OK(db, fire(db, "lead", id, "env", NULL));
	CHECK_OK(db, fire(db, "lead", id, "named", NULL));
	CHECK_STR(state_of(db, "e", "lead", id), "d");
	crm_close(db);
}

/* ---- engine: timers ---- */

static const char heartbeat[] =
	"{'workflow':'hb_%s','initial':'on','states':{'on':{'timers':[{'after':'1h','every':'1h','catch_up':'%s','event':'beat'}]}},"
	" 'transitions':[{'from':'on','event':'beat','to':'on','actions':[{'emit':'beat_%s'}]}]}";

TEST(test_engine__catch_up_policies)
{
	static const char *const policies[] = { "once", "every", "skip" };
	crm_db *db = test_db();
	char def[1024], name[32];

	for (int i = 0; i < 3; i++) {
		snprintf(def, sizeof def, heartbeat, policies[i], policies[i], policies[i]);
		apply(db, def);
		snprintf(name, sizeof name, "hb_%s", policies[i]);
		CHECK_OK(db, crm_workflow_start(db, name, 0, NULL));
	}
	/* the host is down from T0 to T0+5h: occurrences at 1h, 2h, 3h, 4h and 5h are due */
	CHECK_INT(tick(db, T0 + 5 * HOUR), 1 + 5 + 0);
	CHECK_INT(events(db, "beat_once"), 1);
	CHECK_INT(events(db, "beat_every"), 5);
	CHECK_INT(events(db, "beat_skip"), 0);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer WHERE due_at=%lld", (long long)(T0 + 6 * HOUR)), 3);
	/* back on time: one each */
	CHECK_INT(tick(db, T0 + 6 * HOUR), 3);
	CHECK_INT(tick(db, T0 + 6 * HOUR), 0);
	CHECK_INT(events(db, "beat_once"), 2);
	CHECK_INT(events(db, "beat_every"), 6);
	CHECK_INT(events(db, "beat_skip"), 1);
	/* late but within one period: still the single occurrence, for every policy */
	CHECK_INT(tick(db, T0 + 7 * HOUR + 30 * MIN), 3);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer WHERE due_at=%lld", (long long)(T0 + 8 * HOUR)), 3);
	crm_close(db);
}

TEST(test_engine__absolute_and_field_deadlines)
{
	crm_db *db = db_with_forms();
	int64_t id, none;

	apply(db, "{'workflow':'deadlines','form':'opportunity','initial':'open',"
		  " 'states':{'open':{'timers':["
		  "   {'at':'2026-02-01T08:00:00+08:00','event':'campaign_end'},"
		  "   {'field':'close_date','offset':'-1h','event':'closing_soon'},"
		  "   {'field':'renewal','offset':'+9h','event':'renewal_due'},"
		  "   {'field':'close_date','event':'closed_date_reached'}]}},"
		  " 'transitions':["
		  "  {'from':'open','event':'campaign_end','to':'open','actions':[{'emit':'campaign_end'}]},"
		  "  {'from':'open','event':'closing_soon','to':'open','actions':[{'emit':'closing_soon'}]},"
		  "  {'from':'open','event':'renewal_due','to':'open','actions':[{'emit':'renewal_due'}]},"
		  "  {'from':'open','event':'closed_date_reached','to':'open','actions':[{'emit':'closed_date_reached'}]}]}");
	id = insert(db, "opportunity", "{'name':'A','close_date':'2026-01-10T12:00:00Z','renewal':'2026-01-20'}");
	none = insert(db, "opportunity", "{'name':'B'}");
	/* start_on is manual (the default): nothing runs until started */
	CHECK_STR(state_of(db, "deadlines", "opportunity", id), "(none)");
	CHECK_OK(db, crm_workflow_start(db, "deadlines", id, NULL));
	CHECK_OK(db, crm_workflow_start(db, "deadlines", none, NULL));
	CHECK_RC(db, crm_workflow_start(db, "deadlines", id, NULL), CRM_EEXISTS);
	/* a record without the dates gets only the absolute timer */
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer t JOIN crm_wf_instance i ON i.id=t.instance WHERE i.record=%lld",
			  (long long)none), 1);
	CHECK_INT(tick(db, ms("2026-01-10T10:59:59.999Z")), 0);
	CHECK_INT(tick(db, ms("2026-01-10T11:00:00Z")), 1);
	CHECK_INT(events(db, "closing_soon"), 1);
	CHECK_INT(tick(db, ms("2026-01-10T12:00:00Z")), 1);
	CHECK_INT(events(db, "closed_date_reached"), 1);
	/* a date field is midnight UTC of that day */
	CHECK_INT(tick(db, ms("2026-01-20T08:59:59Z")), 0);
	CHECK_INT(tick(db, ms("2026-01-20T09:00:00Z")), 1);
	CHECK_INT(events(db, "renewal_due"), 1);
	CHECK_INT(tick(db, ms("2026-01-31T23:59:59Z")), 0);
	CHECK_INT(tick(db, ms("2026-02-01T00:00:00Z")), 2); /* both instances */
	CHECK_INT(events(db, "campaign_end"), 2);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 0);
	crm_close(db);
}

/* A field deadline is read when the state is entered: changing the field
 * later does not move it until the state is entered again. */
TEST(test_engine__field_deadline_read_on_entry)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "{'workflow':'dl','form':'opportunity','start_on':'create','initial':'open',"
		  " 'states':{'open':{'timers':[{'field':'close_date','event':'due'}]},'late':{}},"
		  " 'transitions':[{'from':'open','event':'due','to':'late'},"
		  "                {'from':'open','event':'reschedule','to':'open','reenter':true}]}");
	id = insert(db, "opportunity", "{'name':'A','close_date':'2026-01-10T00:00:00Z'}");
	CHECK_OK(db, update(db, "opportunity", id, "{'close_date':'2026-01-20T00:00:00Z'}"));
	CHECK_INT(sql_int(db, "SELECT due_at FROM crm_wf_timer"), ms("2026-01-10T00:00:00Z"));
	CHECK_OK(db, fire(db, "opportunity", id, "reschedule", NULL));
	CHECK_INT(sql_int(db, "SELECT due_at FROM crm_wf_timer"), ms("2026-01-20T00:00:00Z"));
	/* in one step: new date given with the event */
	CHECK_OK(db, fire(db, "opportunity", id, "reschedule", "{'close_date':'2026-01-25T00:00:00Z'}"));
	CHECK_INT(sql_int(db, "SELECT due_at FROM crm_wf_timer"), ms("2026-01-25T00:00:00Z"));
	CHECK_INT(tick(db, ms("2026-01-24T00:00:00Z")), 0);
	CHECK_INT(tick(db, ms("2026-01-25T00:00:00Z")), 1);
	CHECK_STR(state_of(db, "dl", "opportunity", id), "late");
	crm_close(db);
}

/* A timer whose event the state no longer allows is recorded and dropped;
 * the other timers still fire. */
TEST(test_engine__refused_timer_is_recorded)
{
	crm_db *db = db_with_forms();
	char *json = NULL;
	int64_t id;

	apply(db, "{'workflow':'tr','form':'lead','start_on':'create','initial':'a',"
		  " 'states':{'a':{'timers':[{'after':'1h','event':'ghost'},{'after':'2h','event':'guarded'},"
		  "                          {'after':'3h','event':'fine'}]},'b':{}},"
		  " 'transitions':[{'from':'a','event':'guarded','to':'b','guard':'false'},"
		  "                {'from':'a','event':'fine','to':'b'}]}");
	id = insert(db, "lead", "{'name':'A'}");
	CHECK_INT(tick(db, T0 + 3 * HOUR), 1);
	CHECK_STR(state_of(db, "tr", "lead", id), "b");
	CHECK_OK(db, crm_workflow_history(db, "lead", id, &json));
	CHECK_HAS(json, "\"event\":\"ghost\",\"from\":null,\"to\":null,\"actor\":null,\"data\":{\"timer_error\":\"tr: event 'ghost' "
			"is not allowed in state a (allowed: guarded, fine)\"}");
	CHECK_HAS(json, "\"event\":\"guarded\",\"from\":null,\"to\":null,\"actor\":null,\"data\":{\"timer_error\":\"tr: the guard");
	CHECK_HAS(json, "\"event\":\"fine\",\"from\":\"a\",\"to\":\"b\"");
	crm_free(json);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 0);
	crm_close(db);
}

/* ---- engine: versions and migration ---- */

static const char life_v1[] =
	"{'workflow':'life','form':'lead','start_on':'create','initial':'draft',"
	" 'states':{'draft':{},'done':{'final':true}},"
	" 'transitions':[{'from':'draft','event':'finish','to':'done'}]}";
static const char life_v2[] =
	"{'workflow':'life','form':'lead','start_on':'create','initial':'open',"
	" 'states':{'open':{},'review':{},'done':{'final':true}},"
	" 'transitions':[{'from':'open','event':'review','to':'review'},{'from':['open','review'],'event':'finish','to':'done'}],"
	" 'migrate':{'states':{'draft':'open'}}}";

TEST(test_engine__versions_and_migration)
{
	crm_db *db = db_with_forms();
	char *json = NULL;
	int64_t old1, old2, new1, moved = -1;

	apply(db, life_v1);
	old1 = insert(db, "lead", "{'name':'old 1'}");
	old2 = insert(db, "lead", "{'name':'old 2'}");
	apply(db, life_v2);
	apply(db, life_v2); /* unchanged: no new version */
	CHECK_INT(sql_int(db, "SELECT max(version) FROM crm_meta WHERE kind='workflow' AND name='life'"), 2);
	new1 = insert(db, "lead", "{'name':'new'}");
	CHECK_STR(state_of(db, "life", "lead", new1), "open");
	CHECK_INT(sql_int(db, "SELECT version FROM crm_wf_instance WHERE record=%lld", (long long)new1), 2);
	/* instances started on v1 stay on v1: a v2-only event is refused */
	CHECK_STR(state_of(db, "life", "lead", old1), "draft");
	CHECK_RC(db, fire(db, "lead", old1, "review", NULL), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "(allowed: finish)");
	CHECK_OK(db, fire(db, "lead", old2, "finish", NULL)); /* v1's own transition */
	CHECK_STR(state_of(db, "life", "lead", old2), "done");

	CHECK_OK(db, crm_workflow_migrate(db, "life", &moved));
	CHECK_INT(moved, 1); /* only active instances move */
	CHECK_STR(state_of(db, "life", "lead", old1), "open");
	CHECK_INT(sql_int(db, "SELECT version FROM crm_wf_instance WHERE record=%lld", (long long)old1), 2);
	CHECK_INT(sql_int(db, "SELECT version FROM crm_wf_instance WHERE record=%lld", (long long)old2), 1);
	CHECK_OK(db, crm_workflow_history(db, "lead", old1, &json));
	CHECK_HAS(json, "\"event\":\"(migrate)\",\"from\":\"draft\",\"to\":\"open\",\"actor\":null,"
			"\"data\":{\"from_version\":1,\"to_version\":2}");
	crm_free(json);
	CHECK_OK(db, fire(db, "lead", old1, "review", NULL));
	CHECK_STR(state_of(db, "life", "lead", old1), "review");
	CHECK_OK(db, crm_workflow_migrate(db, "life", &moved));
	CHECK_INT(moved, 0);

	/* v3 drops 'review' without mapping it: all or nothing */
	apply(db, "{'workflow':'life','form':'lead','start_on':'create','initial':'open',"
		  " 'states':{'open':{},'done':{'final':true}},"
		  " 'transitions':[{'from':'open','event':'finish','to':'done'}]}");
	CHECK_RC(db, crm_workflow_migrate(db, "life", &moved), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "in state 'review', which version 3 neither has nor maps in 'migrate'");
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE version=3"), 0);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_history WHERE event='(migrate)'"), 1);
	CHECK_RC(db, crm_workflow_migrate(db, "nosuch", NULL), CRM_ENOTFOUND);
	crm_close(db);
}

/* Migrated instances run the new version's timers for their state, counted
 * from when they entered it; the old version's timers are dropped. */
TEST(test_engine__migration_rearms_timers)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "{'workflow':'m','form':'lead','start_on':'create','initial':'draft',"
		  " 'states':{'draft':{'timers':[{'after':'1h','event':'nudge'}]}},"
		  " 'transitions':[{'from':'draft','event':'nudge','to':'draft','actions':[{'emit':'nudged'}]}]}");
	id = insert(db, "lead", "{'name':'A'}");
	apply(db, "{'workflow':'m','form':'lead','start_on':'create','initial':'open',"
		  " 'states':{'open':{'timers':[{'after':'2h','event':'remind'}]}},"
		  " 'transitions':[{'from':'open','event':'remind','to':'open','actions':[{'emit':'reminded'}]}],"
		  " 'migrate':{'states':{'draft':'open'}}}");
	crm_clock_set(db, T0 + 30 * MIN);
	CHECK_OK(db, crm_workflow_migrate(db, "m", NULL));
	CHECK_STR(sql_text(db, "SELECT state || ':' || event || ':' || (due_at - %lld) FROM crm_wf_timer ORDER BY id", (long long)T0),
		  "open:remind:7200000");
	CHECK_INT(tick(db, T0 + 3 * HOUR), 1);
	CHECK_INT(events(db, "reminded"), 1);
	CHECK_INT(events(db, "nudged"), 0);
	CHECK_STR(state_of(db, "m", "lead", id), "open");
	crm_close(db);
}

/* Migrating into a final state finishes the instance; into an approval
 * state opens that state's round. */
TEST(test_engine__migration_into_final_and_approval_states)
{
	crm_db *db = db_with_forms();
	int64_t a, b;

	apply(db, "{'workflow':'m','form':'lead','start_on':'create','initial':'draft',"
		  " 'states':{'draft':{},'old_done':{}},"
		  " 'transitions':[{'from':'draft','event':'finish','to':'old_done'}]}");
	a = insert(db, "lead", "{'name':'A'}");
	b = insert(db, "lead", "{'name':'B'}");
	CHECK_OK(db, crm_workflow_fire(db, "lead", b, "finish", NULL));
	apply(db, "{'workflow':'m','form':'lead','start_on':'create','initial':'review',"
		  " 'states':{'review':{'approval':{'steps':[{'role':'legal'}],'approved':'ok','rejected':'no'}},"
		  "           'closed':{'final':true}},"
		  " 'transitions':[{'from':'review','event':'ok','to':'closed'},{'from':'review','event':'no','to':'closed'}],"
		  " 'migrate':{'states':{'draft':'review','old_done':'closed'}}}");
	CHECK_OK(db, crm_workflow_migrate(db, "m", NULL));
	CHECK_STR(sql_text(db, "SELECT status FROM crm_wf_instance WHERE record=%lld", (long long)b), "done");
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_approval WHERE decision IS NULL"), 1);
	crm_actor_set(db, "lee", "legal");
	CHECK_OK(db, crm_workflow_decide(db, "lead", a, "approve", NULL));
	CHECK_STR(state_of(db, "m", "lead", a), "closed");
	crm_close(db);
}

/* A migrate map must point at states of the new version. */
TEST(test_engine__migrate_map_checked)
{
	crm_db *db = db_with_forms();

	CHECK_RC(db, apply_rc(db, "{'workflow':'m','form':'lead','initial':'a','states':{'a':{}},'transitions':[],"
				  " 'migrate':{'states':{'old':'gone'}}}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "\"path\":\"migrate\"");
	CHECK_RC(db, apply_rc(db, "{'workflow':'m','form':'lead','initial':'a','states':{'a':{}},'transitions':[],"
				  " 'migrate':{'old':'a'}}"),
		 CRM_EINVAL);
	crm_close(db);
}

/* ---- engine: deleting records, free-standing workflows, history ---- */

TEST(test_engine__delete_cancels_instances)
{
	crm_db *db = db_with_forms();
	char *json = NULL;
	int64_t id, keep;

	apply(db, sla);
	id = insert(db, "lead", "{'name':'A'}");
	keep = insert(db, "lead", "{'name':'B'}");
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 4);
	CHECK_OK(db, crm_record_delete(db, "lead", id, 0));
	CHECK_OK(db, crm_workflow_instances(db, "lead", id, &json));
	CHECK_HAS(json, "\"workflow\":\"lead_sla\",\"version\":1,\"state\":\"new\",\"status\":\"cancelled\"");
	crm_free(json);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 2);
	CHECK_INT(tick(db, T0 + 24 * HOUR), 1); /* only the kept lead */
	CHECK_INT(events(db, "escalate_to_manager"), 1);
	CHECK_HAS(sql_text(db, "SELECT payload FROM crm_event WHERE type='escalate_to_manager'"), "\"lead\":2");
	CHECK_RC(db, fire(db, "lead", id, "contact", NULL), CRM_ENOTFOUND);
	/* a delete that fails (here inside a rolled-back host transaction) cancels nothing */
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_delete(db, "lead", keep, 0));
	CHECK_OK(db, crm_rollback(db));
	CHECK_STR(sql_text(db, "SELECT status FROM crm_wf_instance WHERE record=%lld", (long long)keep), "active");
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_timer"), 1);
	crm_close(db);
}

static const char onboarding[] =
	"{'workflow':'onboarding','initial':'start',"
	" 'states':{'start':{'timers':[{'after':'1d','event':'remind'}]},"
	"           'setup':{'on_enter':[{'emit':'setup_started','payload':{'who':{'lua':'ctx.actor'},'instance':{'lua':'ctx.instance'}}},"
	"                                {'lua':'crm.create(`task`, {title = `Configure account`})'}]},"
	"           'done':{'final':true}},"
	" 'transitions':[{'from':'start','event':'begin','to':'setup'},"
	"                {'from':'start','event':'remind','to':'start','actions':[{'emit':'onboarding_reminder'}]},"
	"                {'from':'setup','event':'finish','to':'done'}]}";

TEST(test_engine__free_standing_workflow)
{
	crm_db *db = db_with_forms();
	int64_t a = 0, b = 0;

	apply(db, onboarding);
	crm_actor_set(db, "olga", NULL);
	CHECK_OK(db, crm_workflow_start(db, "onboarding", 0, &a));
	CHECK_OK(db, crm_workflow_start(db, "onboarding", 0, &b)); /* any number of them */
	CHECK(a > 0 && b > a);
	CHECK_RC(db, crm_workflow_start(db, "onboarding", 5, NULL), CRM_EINVAL);
	CHECK_OK(db, crm_workflow_fire_instance(db, a, "begin", NULL));
	CHECK_STR(sql_text(db, "SELECT state FROM crm_wf_instance WHERE id=%lld", (long long)a), "setup");
	CHECK_STR(sql_text(db, "SELECT coalesce(form, 'none') || '/' || coalesce(CAST(record AS TEXT), 'none') || '/' || payload FROM crm_event WHERE type='setup_started'"),
		  "none/none/{\"workflow\":\"onboarding\",\"state\":\"setup\",\"data\":{\"who\":\"olga\",\"instance\":1}}");
	CHECK_INT(count(db, "task"), 1);
	CHECK_INT(tick(db, T0 + DAY), 1); /* b is still in start */
	CHECK_INT(events(db, "onboarding_reminder"), 1);
	CHECK_OK(db, crm_workflow_fire_instance(db, a, "finish", NULL));
	CHECK_STR(sql_text(db, "SELECT state || '/' || status FROM crm_wf_instance WHERE id=%lld", (long long)a), "done/done");
	CHECK_RC(db, crm_workflow_fire_instance(db, a, "finish", NULL), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "is done");
	CHECK_RC(db, crm_workflow_fire_instance(db, 999, "begin", NULL), CRM_ENOTFOUND);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_wf_history WHERE instance=%lld", (long long)a), 3);
	CHECK_STR(sql_rows(db, " ", "SELECT event || ':' || coalesce(actor, '-') FROM crm_wf_history WHERE instance=%lld ORDER BY id",
			   (long long)a),
		  "(start):olga begin:olga finish:olga");
	/* a form-bound workflow needs a record, an existing one */
	apply(db, sla);
	CHECK_RC(db, crm_workflow_start(db, "lead_sla", 0, NULL), CRM_EINVAL);
	CHECK_RC(db, crm_workflow_start(db, "lead_sla", 42, NULL), CRM_ENOTFOUND);
	CHECK_RC(db, crm_workflow_start(db, "nosuch", 0, NULL), CRM_ENOTFOUND);
	crm_close(db);
}

TEST(test_engine__history_and_instances)
{
	crm_db *db = db_with_forms();
	char *json = NULL;
	int64_t id;

	apply(db, "{'workflow':'h','form':'lead','start_on':{'create':{'field':'region','op':'eq','value':'north'}},'initial':'a',"
		  " 'states':{'a':{},'b':{}},'transitions':[{'from':'a','event':'go','to':'b'}]}");
	crm_actor_set(db, "alice", NULL);
	id = insert(db, "lead", "{'name':'South','region':'south'}"); /* start_on condition false */
	CHECK_OK(db, crm_workflow_instances(db, "lead", id, &json));
	CHECK_STR(json, "[]");
	crm_free(json);
	id = insert(db, "lead", "{'name':'North','region':'north'}");
	crm_clock_set(db, T0 + HOUR);
	crm_actor_set(db, "bob", NULL);
	CHECK_OK(db, fire(db, "lead", id, "go", NULL));
	CHECK_OK(db, crm_workflow_history(db, "lead", id, &json));
	CHECK_STR(json, "[{\"instance\":1,\"workflow\":\"h\",\"at\":\"2026-01-02T03:04:05.000Z\",\"event\":\"(start)\",\"from\":null,"
			"\"to\":\"a\",\"actor\":\"alice\",\"data\":null},"
			"{\"instance\":1,\"workflow\":\"h\",\"at\":\"2026-01-02T04:04:05.000Z\",\"event\":\"go\",\"from\":\"a\",\"to\":\"b\","
			"\"actor\":\"bob\",\"data\":null}]");
	crm_free(json);
	CHECK_OK(db, crm_workflow_instances(db, "lead", id, &json));
	CHECK_STR(json, "[{\"id\":1,\"workflow\":\"h\",\"version\":1,\"state\":\"b\",\"status\":\"active\","
			"\"started_at\":\"2026-01-02T03:04:05.000Z\",\"entered_at\":\"2026-01-02T04:04:05.000Z\"}]");
	crm_free(json);
	CHECK_OK(db, crm_workflow_history(db, "lead", 999, &json));
	CHECK_STR(json, "[]");
	crm_free(json);
	crm_close(db);
}

/* A transition keeps the record its own update wrote instead of reading
 * it back: what comes after sees the fields set, the version moved on and
 * the write's updated_at, as a read would give them. */
TEST(test_engine__a_hook_after_a_set_sees_the_record_as_written)
{
	crm_db *db = test_db();
	int64_t id;
	char want[96];

	apply(db, "[{'form':'doc','fields':[{'name':'step','type':'integer'},{'name':'label','type':'text'},"
		  "  {'name':'seen','type':'integer'},{'name':'echo','type':'text'},{'name':'at','type':'datetime'}]},"
		  " {'workflow':'w','form':'doc','start_on':'create','initial':'a',"
		  "  'states':{'a':{},'b':{'on_enter':[{'set':{'seen':{'lua':'record.step * 100 + record.version'},"
		  "    'echo':{'lua':'record.label .. `!`'},'at':{'field':'updated_at'}}}]}},"
		  "  'transitions':[{'from':'a','event':'go','to':'b','actions':[{'set':{'step':7,'label':'x'}}]}]}]");
	id = insert(db, "doc", "{'label':'start'}");
	CHECK_OK(db, crm_clock_set(db, T0 + HOUR));
	CHECK_OK(db, fire(db, "doc", id, "go", NULL));
	/* version 1 inserted, 2 after the action's set, 3 after the hook's */
	CHECK_HAS(test_get(db, "doc", id), "\"step\":7,\"label\":\"x\",\"seen\":702,\"echo\":\"x!\"");
	snprintf(want, sizeof want, "\"at\":\"2026-01-02T04:04:05.000Z\"");
	CHECK_HAS(test_get(db, "doc", id), want);
	CHECK_HAS(test_get(db, "doc", id), "\"version\":3");
	crm_close(db);
}

/* A rollup refreshed by the transition's own write changes the record it
 * holds (here a task that is its own parent): the transition reads it
 * again rather than keep what it wrote. */
TEST(test_engine__a_rollup_the_write_refreshed_is_seen_by_the_hook_after_it)
{
	crm_db *db = test_db();
	int64_t id;

	apply(db, "[{'form':'task','fields':[{'name':'hours','type':'integer'},{'name':'parent','type':'ref','form':'task'},"
		  "  {'name':'total','type':'rollup','form':'task','ref':'parent','agg':'sum','field':'hours'},"
		  "  {'name':'seen','type':'integer'}]},"
		  " {'workflow':'w','form':'task','start_on':'create','initial':'a',"
		  "  'states':{'a':{},'b':{'on_enter':[{'set':{'seen':{'lua':'record.total'}}}]}},"
		  "  'transitions':[{'from':'a','event':'go','to':'b','actions':[{'set':{'hours':5}}]}]}]");
	id = insert(db, "task", "{'hours':1}");
	CHECK_OK(db, update(db, "task", id, "{'parent':1}"));
	CHECK_HAS(test_get(db, "task", id), "\"total\":1");
	CHECK_OK(db, fire(db, "task", id, "go", NULL));
	CHECK_HAS(test_get(db, "task", id), "\"total\":5,\"seen\":5");
	crm_close(db);
}

/* ---- engine: definitions refused with a path ---- */

TEST(test_engine__bad_definitions)
{
	static const struct {
		const char *def, *path, *message;
	} cases[] = {
		{ "'states':{'a':{}},'transitions':[{'from':'a','event':'go','to':'nowhere'}]", "transitions[0]",
		  "'to' names no state: 'nowhere'" },
		{ "'states':{'a':{}},'transitions':[{'from':'zz','event':'go','to':'a'}]", "transitions[0]", "'from' names no state: 'zz'" },
		{ "'states':{'a':{'require':['budgett']}},'transitions':[]", "states.a", "form lead has no field 'budgett'" },
		{ "'states':{'a':{'on_entry':[]}},'transitions':[]", "states.a", "unknown key 'on_entry'" },
		{ "'states':{'a':{}},'transitions':[],'trasitions':[]", "", "unknown key 'trasitions'" },
		{ "'states':{'a':{}},'transitions':[{'from':'a','event':'go','to':'a','reentr':true}]", "transitions[0]",
		  "unknown key 'reentr'" },
		{ "'states':{'a':{'timers':[{'after':'24x','event':'e'}]}},'transitions':[]", "states.a.timers[0]",
		  "'after' is a duration" },
		{ "'states':{'a':{'timers':[{'after':'0h','event':'e'}]}},'transitions':[]", "states.a.timers[0]",
		  "'after' is a duration" },
		{ "'states':{'a':{'timers':[{'after':'1h','at':'2026-01-01T00:00:00Z','event':'e'}]}},'transitions':[]",
		  "states.a.timers[0]", "exactly one of 'after', 'at' and 'field'" },
		{ "'states':{'a':{'timers':[{'event':'e'}]}},'transitions':[]", "states.a.timers[0]",
		  "exactly one of 'after', 'at' and 'field'" },
		{ "'states':{'a':{'timers':[{'after':'1h','every':'30s','event':'e'}]}},'transitions':[]", "states.a.timers[0]",
		  "at least a minute" },
		{ "'states':{'a':{'timers':[{'after':'1h','every':'1h','catch_up':'all','event':'e'}]}},'transitions':[]",
		  "states.a.timers[0]", "once, every or skip" },
		{ "'states':{'a':{'timers':[{'field':'name','event':'e'}]}},'transitions':[]", "states.a.timers[0]",
		  "date or datetime field" },
		{ "'states':{'a':{'timers':[{'after':'1h','offset':'1h','event':'e'}]}},'transitions':[]", "states.a.timers[0]",
		  "'offset' (with 'field')" },
		{ "'states':{'a':{'timers':[{'at':'tomorrow','event':'e'}]}},'transitions':[]", "states.a.timers[0]",
		  "ISO 8601" },
		{ "'states':{'a':{'approval':{'steps':[{'role':'legal'}]}}},'transitions':[]", "states.a.approval",
		  "names the 'approved' and 'rejected' events" },
		{ "'states':{'a':{'approval':{'steps':[],'approved':'y','rejected':'n'}}},'transitions':[]", "states.a.approval",
		  "'steps' is a list of 1 to 20" },
		{ "'states':{'a':{'approval':{'steps':[{'role':'x','user':'y'}],'approved':'y','rejected':'n'}}},'transitions':[]",
		  "states.a.approval", "approval step 0" },
		{ "'states':{'a':{'approval':{'mode':'majority','steps':[{'role':'x'}],'approved':'y','rejected':'n'}}},'transitions':[]",
		  "states.a.approval", "'mode' is sequential, all or any" },
		{ "'states':{'a':{'approval':{'steps':[{'role':'x'}],'approved':'y','rejected':'n'}}},"
		  "'transitions':[{'from':'a','event':'n','to':'a'}]",
		  "states.a.approval", "no transition from a on its 'y' event" },
		{ "'states':{'a':{'approval':{'steps':[{'role':'x'}],'approved':'y','rejected':'n'}},'b':{}},"
		  "'transitions':[{'from':'a','event':'y','to':'b'},{'from':'b','event':'n','to':'a'}]",
		  "states.a.approval", "no transition from a on its 'n' event" },
		{ "'states':{'a':{'on_enter':[{'set':{'nosuch':1}}]}},'transitions':[]", "states.a.on_enter[0]",
		  "form lead has no field 'nosuch'" },
		{ "'states':{'a':{'on_enter':[{'tag':'x','field':'name'}]}},'transitions':[]", "states.a.on_enter[0]",
		  "multi_enum or json field" },
		{ "'states':{'a':{'on_enter':[{'score':1,'field':'name'}]}},'transitions':[]", "states.a.on_enter[0]",
		  "numeric field" },
		{ "'states':{'a':{'on_enter':[{'emit':'Bad Name'}]}},'transitions':[]", "states.a.on_enter[0]", "event type" },
		{ "'states':{'a':{'on_enter':[{'call':'noplugin'}]}},'transitions':[]", "states.a.on_enter[0]", "plugin.function" },
		{ "'states':{'a':{'on_enter':[{'wait':'1h'}]}},'transitions':[]", "states.a.on_enter[0]", "unknown key 'wait'" },
		{ "'states':{'a':{'on_enter':'routing'}},'transitions':[]", "states.a.on_enter", "a hook is a plugin function" },
		{ "'states':{'a':{}},'transitions':[{'from':'a','to':'a'}]", "transitions[0]", "an 'event' or, to happen by itself, a 'when'" },
		{ "'states':{'a':{}},'transitions':[{'from':'a','event':'go','when':{'field':'score','op':'gt','value':1},'to':'a'}]",
		  "transitions[0]", "an 'event' or" },
		{ "'states':{'a':{}},'transitions':[{'from':'a','when':{'field':'scor','op':'gt','value':1},'to':'a'}]",
		  "transitions[0].when.field", "scor" },
		{ "'states':{'a':{}},'transitions':[{'from':'a','event':'go','to':'a','guard':{'field':'score','op':'gt','value':'x'}}]",
		  "transitions[0].guard.value", "score must be an integer" },
		{ "'start_on':'delete','states':{'a':{}},'transitions':[]", "start_on", "'start_on' is" },
		{ "'states':{},'transitions':[]", "states", "1 to 200 states" },
		{ "'states':{'A b':{}},'transitions':[]", "states.A b", "not a valid state name" },
	};
	crm_db *db = db_with_forms();
	char def[2048];

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char want[256];
		snprintf(def, sizeof def, "{'workflow':'bad','form':'lead','initial':'a',%s}", cases[i].def);
		CHECK_RC(db, apply_rc(db, def), CRM_EINVAL);
		snprintf(want, sizeof want, "\"path\":\"%s\"", cases[i].path);
		CHECK_HAS(crm_errdetail(db), want);
		CHECK_HAS(crm_errmsg(db), cases[i].message);
		if (!strstr(crm_errdetail(db), want) || !strstr(crm_errmsg(db), cases[i].message))
			fprintf(stderr, "  case %zu: %s\n", i, def);
	}
	/* wrong 'initial', no form, form unknown, free-standing with record actions */
	CHECK_RC(db, apply_rc(db, "{'workflow':'bad','form':'lead','initial':'x','states':{'a':{}},'transitions':[]}"), CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "\"path\":\"initial\"");
	CHECK_RC(db, apply_rc(db, "{'workflow':'bad','form':'nosuch','initial':'a','states':{'a':{}},'transitions':[]}"), CRM_EINVAL);
	CHECK_HAS(crm_errdetail(db), "\"path\":\"form\"");
	CHECK_RC(db, apply_rc(db, "{'workflow':'bad','initial':'a','states':{'a':{'on_enter':[{'set':{'x':1}}]}},'transitions':[]}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "free-standing");
	CHECK_RC(db, apply_rc(db, "{'workflow':'bad','initial':'a','start_on':'create','states':{'a':{}},'transitions':[]}"), CRM_EINVAL);
	CHECK_RC(db, apply_rc(db, "{'workflow':'Bad','initial':'a','states':{'a':{}},'transitions':[]}"), CRM_EINVAL);
	/* nothing of it was stored; one bad document in a batch refuses the batch */
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_meta WHERE kind='workflow'"), 0);
	CHECK_RC(db, apply_rc(db, "[{'workflow':'good','form':'lead','initial':'a','states':{'a':{}},'transitions':[]},"
				  " {'workflow':'bad','form':'lead','initial':'a','states':{'a':{}},'transitions':[{'from':'a','event':'e','to':'b'}]}]"),
		 CRM_EINVAL);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM crm_meta WHERE kind='workflow'"), 0);
	crm_close(db);
}

/* Free-standing instances are listed with form NULL; one's history is read by its id. */
/* A set action writes the numbers it names as JSON reads them: whole
 * numbers (written without cJSON's printf), fractions, negative zero and
 * exponents alike. */
TEST(test_engine__set_actions_write_their_numbers_exactly)
{
	crm_db *db = db_with_forms();
	int64_t id;

	apply(db, "{'workflow':'n','form':'opportunity','start_on':'create','initial':'a','states':{'a':{},'b':{},'c':{}},"
		  " 'transitions':[{'from':'a','event':'go','to':'b','actions':[{'set':{'amount':12,'budget':-0.0}}]},"
		  "  {'from':'b','event':'go','to':'c','actions':[{'set':{'amount':1.25e2,'budget':-7.5}}]}]}");
	id = insert(db, "opportunity", "{'name':'A'}");
	CHECK_OK(db, fire(db, "opportunity", id, "go", NULL));
	CHECK_HAS(test_get(db, "opportunity", id), "\"amount\":12");
	CHECK_HAS(test_get(db, "opportunity", id), "\"budget\":0");
	CHECK_OK(db, fire(db, "opportunity", id, "go", NULL));
	CHECK_HAS(test_get(db, "opportunity", id), "\"amount\":125");
	CHECK_HAS(test_get(db, "opportunity", id), "\"budget\":-7.5");
	crm_close(db);
}

TEST(test_engine__free_standing_instances_are_listed)
{
	crm_db *db = test_db();
	char *json = NULL;
	int64_t a, b;

	apply(db, "{'workflow':'job','initial':'queued','states':{'queued':{},'done':{'final':true}},"
		  " 'transitions':[{'from':'queued','event':'finish','to':'done'}]}");
	CHECK_OK(db, crm_workflow_start(db, "job", 0, &a));
	CHECK_OK(db, crm_workflow_start(db, "job", 0, &b));
	CHECK_OK(db, crm_workflow_fire_instance(db, b, "finish", NULL));
	CHECK_OK(db, crm_workflow_instances(db, NULL, 0, &json));
	CHECK_HAS(json, "\"state\":\"queued\"");
	CHECK_HAS(json, "\"state\":\"done\",\"status\":\"done\"");
	crm_free(json);
	CHECK_OK(db, crm_workflow_instance_history(db, b, &json));
	CHECK_HAS(json, "\"event\":\"finish\",\"from\":\"queued\",\"to\":\"done\"");
	CHECK(!strstr(json, "\"instance\":1,"));
	crm_free(json);
	crm_close(db);
}

TEST_LIST(T(test_engine__free_standing_instances_are_listed), T(test_engine__set_actions_write_their_numbers_exactly), T(test_s4_routing__decision_table), T(test_s4_routing__lua_plugin), T(test_s4_routing__plugin_calls_decision_table),
	  T(test_s4_routing__hook_shorthand),
	  T(test_s5_sla__escalates_once_then_returns_to_pool), T(test_s5_sla__follow_up_cancels_timers),
	  T(test_s5_sla__timers_survive_reopening), T(test_s6_scoring__threshold_makes_mql),
	  T(test_s6_scoring__record_update_triggers_when), T(test_s6_scoring__dormant_after_30_days),
	  T(test_s6_scoring__interaction_postpones_dormancy), T(test_s6_scoring__internal_self_transition_keeps_timer),
	  T(test_s7_sop__stages_require_fields_and_create_tasks), T(test_s7_sop__lost_from_any_stage),
	  T(test_s8_approval__small_contract_skips_review), T(test_s8_approval__three_parties_in_sequence),
	  T(test_s8_approval__rejection_returns_to_draft_with_reason), T(test_s8_approval__discount_manager_then_director),
	  T(test_s8_approval__modes_all_and_any), T(test_s8_approval__two_pending_approvals_on_one_record), T(test_s9_order_to_cash),
	  T(test_s10_tickets__routed_by_product_and_urgency), T(test_s10_tickets__resolve_notifies_and_survey_updates_customer),
	  T(test_s10_tickets__complaint_linked_to_quality_issue), T(test_engine__failed_transition_changes_nothing),
	  T(test_engine__failing_when_undoes_the_event),
	  T(test_engine__when_cycle_is_refused), T(test_engine__action_values), T(test_engine__hook_result_must_be_fields),
	  T(test_engine__event_reaches_every_instance), T(test_engine__event_not_allowed_lists_allowed),
	  T(test_engine__event_not_allowed_by_any_of_several_instances), T(test_engine__allowed_list_names_each_event),
	  T(test_engine__caught_crm_failure_is_forgotten), T(test_engine__guard_false_is_a_constraint),
	  T(test_engine__guards_reach_ctx_however_they_name_it), T(test_engine__catch_up_policies),
	  T(test_engine__absolute_and_field_deadlines), T(test_engine__field_deadline_read_on_entry),
	  T(test_engine__refused_timer_is_recorded), T(test_engine__versions_and_migration),
	  T(test_engine__migration_rearms_timers), T(test_engine__migration_into_final_and_approval_states), T(test_engine__migrate_map_checked), T(test_engine__delete_cancels_instances),
	  T(test_engine__free_standing_workflow), T(test_engine__history_and_instances), T(test_engine__bad_definitions),
	  T(test_engine__a_hook_after_a_set_sees_the_record_as_written),
	  T(test_engine__a_rollup_the_write_refreshed_is_seen_by_the_hook_after_it))
