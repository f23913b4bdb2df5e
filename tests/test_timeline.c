/* The timeline of a record (docs/integration.md "Timeline"): items from
 * every source (records one and two references away, workflow history,
 * approvals, audit entries, events), newest first, paged, filtered by kind,
 * and through the actor's view. Both backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "test.h"

#define T0 1767323045000LL /* 2026-01-02T03:04:05Z */

/* The timeline (static buffer), or "ERR <code> <message>". */
static const char *timeline(crm_db *db, const char *form, int64_t id, const char *opts)
{
	static char last[65536];
	char *o = opts ? test_q(opts) : NULL, *json = NULL;
	int rc = crm_timeline(db, form, id, o, &json);

	if (rc == CRM_OK)
		snprintf(last, sizeof last, "%s", json);
	else
		snprintf(last, sizeof last, "ERR %d %s", rc, crm_errmsg(db));
	crm_free(json);
	free(o);
	return last;
}

#define count_of test_count_of

static int items(const char *answer) { return count_of(answer, "{\"at\":\""); }

/* Appends the heads of the items ("at kind form id summary", up to "data")
 * to `out`, one per line. */
static void heads(const char *answer, char *out, size_t size)
{
	for (const char *p = answer; (p = strstr(p, "{\"at\":\"")); p++) {
		const char *d = strstr(p, ",\"data\":");
		size_t len = strlen(out);
		if (!d)
			break;
		snprintf(out + len, size - len, "%.*s\n", (int)(d - p), p);
	}
}

static const char forms[] =
	"[{'form':'customer','fields':[{'name':'name','type':'text'},{'name':'secret','type':'text'}],"
	" 'permissions':[{'roles':['rep'],'allow':['read','create','update'],"
	"  'rows':{'field':'owner','op':'eq','actor':'user'},'fields':{'secret':'hidden'}},"
	"  {'roles':['manager'],'allow':['read','update'],'events':['*']}]},"
	" {'form':'deal','fields':[{'name':'title','type':'text'},{'name':'customer','type':'ref','form':'customer'}],"
	" 'permissions':[{'roles':['rep'],'allow':['read','create'],'rows':{'field':'owner','op':'eq','actor':'user'}}]},"
	" {'form':'activity','fields':[{'name':'subject','type':'text'},{'name':'deal','type':'ref','form':'deal'}]},"
	" {'workflow':'customer_life','form':'customer','start_on':'create','initial':'new',"
	"  'states':{'new':{},'review':{'approval':{'steps':[{'role':'manager'}],'approved':'approved','rejected':'rejected'}},"
	"   'active':{'on_enter':[{'emit':'customer_active'}]}},"
	"  'transitions':[{'from':'new','event':'submit','to':'review'},{'from':'review','event':'approved','to':'active'},"
	"   {'from':'review','event':'rejected','to':'new'}]}]";

typedef struct world {
	crm_db *db;
	int64_t customer, other, deal, bobs_deal, activity;
} world;

/* Ann's customer, with a deal of hers and one of Bob's on it, an activity
 * on her deal, an update, a submission and a manager's approval, one
 * second apart. */
static void build(world *w)
{
	crm_db *db = w->db = test_db();
	char *j;

	CHECK_OK(db, test_apply_q(db, forms));
	crm_clock_set(db, T0);
	w->customer = test_insert_q(db, "customer", "{'name':'张三丰','secret':'margin 40%','owner':'ann'}");
	w->other = test_insert_q(db, "customer", "{'name':'Bob customer','owner':'bob'}");
	crm_clock_set(db, T0 + 1000);
	{
		char rec[120];
		snprintf(rec, sizeof rec, "{'title':'Big deal','customer':%lld,'owner':'ann'}", (long long)w->customer);
		w->deal = test_insert_q(db, "deal", rec);
		crm_clock_set(db, T0 + 2000);
		snprintf(rec, sizeof rec, "{'title':'Bob deal','customer':%lld,'owner':'bob'}", (long long)w->customer);
		w->bobs_deal = test_insert_q(db, "deal", rec);
		crm_clock_set(db, T0 + 3000);
		snprintf(rec, sizeof rec, "{'subject':'Call about the deal','deal':%lld}", (long long)w->deal);
		w->activity = test_insert_q(db, "activity", rec);
	}
	crm_clock_set(db, T0 + 4000);
	j = test_q("{'name':'张三丰 (VIP)','secret':'margin 45%'}");
	CHECK_OK(db, crm_record_update(db, "customer", w->customer, j, 0));
	free(j);
	crm_clock_set(db, T0 + 5000);
	CHECK_OK(db, crm_workflow_fire(db, "customer", w->customer, "submit", NULL));
	crm_clock_set(db, T0 + 6000);
	CHECK_OK(db, crm_actor_set(db, "mia", "manager"));
	CHECK_OK(db, crm_workflow_decide(db, "customer", w->customer, "approve", NULL));
	CHECK_OK(db, crm_actor_set(db, NULL, NULL));
}

TEST(test_timeline__items_from_every_source_newest_first)
{
	world w;
	const char *r;
	char h[16384] = "";
	const char *prev = NULL;

	build(&w);
	r = timeline(w.db, "customer", w.customer, NULL);
	CHECK(strncmp(r, "ERR", 3) != 0);
	CHECK_HAS(r, "\"kind\":\"record\",\"form\":\"deal\"");
	CHECK_HAS(r, "\"summary\":\"activity 1 through deal\"");
	CHECK_HAS(r, "\"kind\":\"workflow\"");
	CHECK_HAS(r, "customer_life: new -> review (submit)");
	CHECK_HAS(r, "\"kind\":\"approval\"");
	CHECK_HAS(r, "customer_life: approve in review");
	CHECK_HAS(r, "\"kind\":\"audit\"");
	CHECK_HAS(r, "\"summary\":\"update by the host\"");
	CHECK_HAS(r, "\"kind\":\"event\"");
	CHECK_HAS(r, "\"summary\":\"customer_active\"");
	CHECK_HAS(r, "margin 45%"); /* the system reads every field */
	CHECK_HAS(r, "\"next\":null");
	/* newest first: the times never go up */
	heads(r, h, sizeof h);
	for (char *line = strtok(h, "\n"); line; line = strtok(NULL, "\n")) {
		if (prev)
			CHECK(strncmp(prev, line, 31) >= 0);
		prev = line;
	}
	CHECK(strstr(r, "Call about the deal") < strstr(r, "Big deal"));
	crm_close(w.db);
}

TEST(test_timeline__pages_join_up_to_the_whole_list)
{
	world w;
	char all[16384] = "", paged[16384] = "", opts[200] = "{'limit':2}";
	int pages = 0;

	build(&w);
	heads(timeline(w.db, "customer", w.customer, "{'limit':200}"), all, sizeof all);
	for (;;) {
		const char *r = timeline(w.db, "customer", w.customer, opts), *next;
		CHECK(strncmp(r, "ERR", 3) != 0);
		CHECK(items(r) <= 2);
		heads(r, paged, sizeof paged);
		if (!(next = strstr(r, "\"next\":\"")) || ++pages > 20)
			break;
		snprintf(opts, sizeof opts, "{'limit':2,'before':'%.*s'}", (int)(strchr(next + 8, '"') - (next + 8)), next + 8);
	}
	CHECK(pages > 3);
	CHECK_STR(paged, all);
	crm_close(w.db);
}

TEST(test_timeline__kinds_filter_the_items)
{
	world w;
	const char *r;

	build(&w);
	r = timeline(w.db, "customer", w.customer, "{'kinds':['record']}");
	CHECK_INT(items(r), 3);
	CHECK_INT(count_of(r, "\"kind\":\"record\""), 3);
	r = timeline(w.db, "customer", w.customer, "{'kinds':['approval','event']}");
	CHECK_INT(items(r), 2);
	r = timeline(w.db, "deal", w.deal, "{'kinds':['record']}");
	CHECK_INT(items(r), 1);
	CHECK_HAS(r, "Call about the deal");
	crm_close(w.db);
}

/* Ann reads her customer: not Bob's deal on it, not the hidden field in any
 * audit entry, no events; Bob's customer has no timeline for her. */
TEST(test_timeline__through_the_actors_view)
{
	world w;
	const char *r;

	build(&w);
	CHECK_OK(w.db, crm_actor_set(w.db, "ann", "rep"));
	r = timeline(w.db, "customer", w.customer, NULL);
	CHECK(strncmp(r, "ERR", 3) != 0);
	CHECK_HAS(r, "Big deal");
	CHECK(!strstr(r, "Bob deal"));
	CHECK(!strstr(r, "margin"));
	CHECK(!strstr(r, "secret"));
	CHECK(!strstr(r, "\"kind\":\"event\""));
	CHECK_HAS(r, "\"kind\":\"audit\"");
	CHECK_HAS(timeline(w.db, "customer", w.other, NULL), "ERR 3");
	CHECK_HAS(timeline(w.db, "customer", 999999, NULL), "ERR 3");
	/* the same answer as for a record that does not exist */
	CHECK_HAS(timeline(w.db, "customer", w.other, NULL), "ERR 3 no customer record with id");
	CHECK_HAS(timeline(w.db, "customer", 999999, NULL), "ERR 3 no customer record with id");
	crm_close(w.db);
}

TEST(test_timeline__hostile_options_are_refused)
{
	static const char *const bad[] = {
		"{'kinds':['record','mail']}", "{'kinds':[]}", "{'kinds':'record'}", "{'limit':0}", "{'limit':201}",
		"{'limit':'5'}", "{'before':'x'}", "{'before':'t1.9.1.1.61'}", "{'before':'t1.0.1.1.6'}", "{'before':7}",
		"{'sort':'at'}", "[1", "[]",
	};
	world w;

	build(&w);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *r = timeline(w.db, "customer", w.customer, bad[i]);
		if (strncmp(r, "ERR 2", 5) != 0)
			fprintf(stderr, "options %s: %s\n", bad[i], r);
		CHECK(strncmp(r, "ERR 2", 5) == 0);
	}
	CHECK_HAS(timeline(w.db, "nope", 1, NULL), "ERR 3");
	CHECK_HAS(timeline(w.db, "customer; DROP TABLE deal", 1, NULL), "ERR 3");
	CHECK_HAS(timeline(w.db, "customer", -1, NULL), "ERR 3");
	CHECK_RC(w.db, crm_timeline(w.db, NULL, 1, NULL, &(char *){ NULL }), CRM_EINVAL);
	crm_close(w.db);
}

TEST_LIST(T(test_timeline__items_from_every_source_newest_first), T(test_timeline__pages_join_up_to_the_whole_list),
	  T(test_timeline__kinds_filter_the_items), T(test_timeline__through_the_actors_view),
	  T(test_timeline__hostile_options_are_refused))
