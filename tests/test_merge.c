/* Duplicates and merge (docs/integration.md "Duplicates and merge"): the
 * normalisers, exact and fuzzy rules, the report, on_insert block/warn,
 * merge re-pointing references and workflow instances, undo restoring both
 * records exactly, permissions, and hostile input. Runs on both backends. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>

#include "core/db_int.h"
#include "helpers.h"
#include "io/normalize.h"
#include "test.h"

#define T0 1767323045000LL /* 2026-01-02T03:04:05Z */

static int apply(crm_db *db, const char *json)
{
	char *j = test_q(json);
	int rc = test_apply(db, j);

	free(j);
	return rc;
}

#define insert test_insert_q

#define update test_update_q

/* The normal form of `s` (static buffer). */
static const char *norm(crm_db *db, crm__norm kind, const char *s)
{
	static char last[256];
	crm__buf out = CRM__BUF_INIT;

	last[0] = 0;
	if (crm__normalize(db, kind, s, strlen(s), &out) == CRM_OK)
		snprintf(last, sizeof last, "%s", crm__buf_cstr(&out));
	crm__buf_free(&out);
	return last;
}

/* The duplicate report (static buffer), "" on failure. */
static const char *report(crm_db *db, const char *form, const char *options)
{
	static char last[8192];
	char *o = options ? test_q(options) : NULL, *json = NULL;

	last[0] = 0;
	if (crm_duplicates(db, form, o, &json) == CRM_OK)
		snprintf(last, sizeof last, "%s", json);
	else
		fprintf(stderr, "crm_duplicates failed: %s\n", crm_errdetail(db));
	crm_free(json);
	free(o);
	return last;
}

static const char CUSTOMER[] =
	"{'form':'customer','fields':[{'name':'name','type':'text'},{'name':'company','type':'text'},"
	" {'name':'phone','type':'phone'},{'name':'email','type':'email'},{'name':'level','type':'integer'},"
	" {'name':'notes','type':'long_text'}],"
	" 'duplicates':{'rules':[{'name':'phone','fields':[{'field':'phone','normalize':'phone'}]},"
	"  {'name':'email','fields':[{'field':'email','normalize':'email'}]},"
	"  {'name':'company','fields':[{'field':'company','normalize':'name'}]},"
	"  {'name':'person','fuzzy':{'fields':['name','company'],'threshold':0.85}}]%s}}";

static crm_db *customers(const char *on_insert)
{
	crm_db *db = test_db();
	char def[2048];

	crm_clock_set(db, T0);
	snprintf(def, sizeof def, CUSTOMER, on_insert);
	CHECK_OK(db, apply(db, def));
	return db;
}

TEST(test_normalize__chinese_mobiles_meet_however_written)
{
	crm_db *db = test_db();

	CHECK_STR(norm(db, CRM__NORM_PHONE, "+86 138-0013-8000"), "13800138000");
	CHECK_STR(norm(db, CRM__NORM_PHONE, "0086 13800138000"), "13800138000");
	CHECK_STR(norm(db, CRM__NORM_PHONE, "(138)0013 8000"), "13800138000");
	CHECK_STR(norm(db, CRM__NORM_PHONE, "86 138 0013 8000"), "13800138000");
	CHECK_STR(norm(db, CRM__NORM_PHONE, "13800138000"), "13800138000");
	/* another country keeps its code: never a local number's twin */
	CHECK_STR(norm(db, CRM__NORM_PHONE, "+44 20 7946 0958"), "+442079460958");
	CHECK_STR(norm(db, CRM__NORM_PHONE, "020 7946 0958"), "02079460958");
	CHECK_STR(norm(db, CRM__NORM_PHONE, " - "), "");
	crm_close(db);
}

TEST(test_normalize__names_fold_width_case_script_and_spaces)
{
	crm_db *db = test_db();
	char simp[64];

	snprintf(simp, sizeof simp, "%s", norm(db, CRM__NORM_NAME, "台湾华语公司"));
	CHECK_STR(simp, "台湾华语公司");
	CHECK_STR(norm(db, CRM__NORM_NAME, "臺灣華語公司"), simp);
	CHECK_STR(norm(db, CRM__NORM_NAME, "ＡＢＣ"), "abc");
	CHECK_STR(norm(db, CRM__NORM_NAME, "  Acme \t  Trading\u3000Co "), "acme trading co");
	CHECK_STR(norm(db, CRM__NORM_EMAIL, "  Ann.Lee@Example.COM "), "ann.lee@example.com");
	/* exact keeps case, trims only */
	CHECK_STR(norm(db, CRM__NORM_EXACT, " Abc "), "Abc");
	crm_close(db);
}

TEST(test_duplicates__each_exact_rule_groups_its_records)
{
	crm_db *db = customers("");
	int64_t a = insert(db, "customer", "{'name':'Zhang San','phone':'+86 138-0013-8000','company':'臺灣華語公司'}");
	int64_t b = insert(db, "customer", "{'name':'Li Si','phone':'0086 13800138000','email':'li@x.cn'}");
	int64_t c = insert(db, "customer", "{'name':'Wang Wu','phone':'(138)0013 8000','email':'LI@X.CN'}");
	int64_t d = insert(db, "customer", "{'name':'Zhao Liu','company':'台湾华语公司','phone':'13900000000'}");
	int64_t e = insert(db, "customer", "{'name':'ＡＢＣ','company':'abc'}");
	char want[256];

	insert(db, "customer", "{'name':'Lonely','phone':'13911112222','email':'lonely@x.cn'}");
	(void)e;
	snprintf(want, sizeof want, "{\"rule\":\"phone\",\"score\":1,\"records\":[%lld,%lld,%lld]}", (long long)a,
		 (long long)b, (long long)c);
	CHECK_HAS(report(db, "customer", NULL), want);
	snprintf(want, sizeof want, "{\"rule\":\"email\",\"score\":1,\"records\":[%lld,%lld]}", (long long)b, (long long)c);
	CHECK_HAS(report(db, "customer", NULL), want);
	snprintf(want, sizeof want, "{\"rule\":\"company\",\"score\":1,\"records\":[%lld,%lld]}", (long long)a, (long long)d);
	CHECK_HAS(report(db, "customer", "{'rules':['company']}"), want);
	CHECK(!strstr(report(db, "customer", "{'rules':['company']}"), "\"phone\""));
	/* the limit truncates, and says so */
	CHECK_HAS(report(db, "customer", "{'rules':['phone','email'],'limit':1}"), "\"truncated\":true");
	CHECK_HAS(report(db, "customer", "{'rules':['phone','email']}"), "\"truncated\":false");
	/* a key follows its record: changed, cleared, deleted */
	CHECK_OK(db, update(db, "customer", c, "{'phone':'13700000000'}"));
	snprintf(want, sizeof want, "\"records\":[%lld,%lld]}", (long long)a, (long long)b);
	CHECK_HAS(report(db, "customer", "{'rules':['phone']}"), want);
	CHECK_OK(db, crm_record_delete(db, "customer", b, 0));
	CHECK_HAS(report(db, "customer", "{'rules':['phone']}"), "\"groups\":[]");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_dupkey WHERE record = 2"), 0);
	crm_close(db);
}

TEST(test_duplicates__fuzzy_rule_lists_pairs_at_or_above_the_threshold)
{
	crm_db *db = customers("");
	int64_t a = insert(db, "customer", "{'name':'Zhang Sanfeng','company':'Wudang Trading'}");
	int64_t b = insert(db, "customer", "{'name':'Zhang Sanfang','company':'Wudang Trading'}");
	int64_t c = insert(db, "customer", "{'name':'Zhang','company':'Emei Trading'}");
	char want[128];
	const char *r;

	insert(db, "customer", "{'name':'Zhang Sanfeng'}"); /* no company: not compared */
	(void)c;
	r = report(db, "customer", "{'rules':['person']}");
	snprintf(want, sizeof want, "{\"rule\":\"person\",\"score\":0.962,\"records\":[%lld,%lld]}", (long long)a, (long long)b);
	CHECK_HAS(r, want);
	CHECK(!strstr(r, "\"records\":[1,3]") && !strstr(r, "\"records\":[2,3]") && !strstr(r, ",4]"));
	/* a stricter threshold drops the pair */
	CHECK_OK(db, apply(db, "{'form':'customer','fields':[{'name':'name','type':'text'},{'name':'company','type':'text'},"
			       " {'name':'phone','type':'phone'},{'name':'email','type':'email'},{'name':'level','type':'integer'},"
			       " {'name':'notes','type':'long_text'}],"
			       " 'duplicates':{'rules':[{'name':'person','fuzzy':{'fields':['name','company'],'threshold':0.97}}]}}"));
	CHECK_HAS(report(db, "customer", NULL), "\"groups\":[]");
	crm_close(db);
}

TEST(test_duplicates__keys_are_filled_when_rules_are_applied)
{
	crm_db *db = test_db();
	int64_t a, b;
	char want[128];

	CHECK_OK(db, apply(db, "{'form':'customer','fields':[{'name':'name','type':'text'},{'name':'phone','type':'phone'}]}"));
	a = insert(db, "customer", "{'name':'A','phone':'+86 138 0013 8000'}");
	b = insert(db, "customer", "{'name':'B','phone':'13800138000'}");
	CHECK_OK(db, apply(db, "{'form':'customer','fields':[{'name':'name','type':'text'},{'name':'phone','type':'phone'}],"
			       " 'duplicates':{'rules':[{'name':'phone','fields':[{'field':'phone','normalize':'phone'}]}]}}"));
	snprintf(want, sizeof want, "\"records\":[%lld,%lld]", (long long)a, (long long)b);
	CHECK_HAS(report(db, "customer", NULL), want);
	/* rules removed: keys go */
	CHECK_OK(db, apply(db, "{'form':'customer','fields':[{'name':'name','type':'text'},{'name':'phone','type':'phone'}]}"));
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_dupkey"), 0);
	crm_close(db);
}

TEST(test_insert__block_names_the_rule_and_the_record)
{
	crm_db *db = customers(",'on_insert':'block'");
	int64_t a = insert(db, "customer", "{'name':'A','phone':'13800138000'}"), id = 0;
	char want[64];

	CHECK_RC(db, crm_record_insert(db, "customer", "{\"name\":\"B\",\"phone\":\"+86 138-0013-8000\"}", &id),
		 CRM_ECONSTRAINT);
	snprintf(want, sizeof want, "customer record %lld has the same phone", (long long)a);
	CHECK_HAS(crm_errmsg(db), want);
	CHECK_HAS(crm_errdetail(db), "\"rule\":\"phone\"");
	snprintf(want, sizeof want, "\"duplicate_of\":%lld", (long long)a);
	CHECK_HAS(crm_errdetail(db), want);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM customer"), 1);
	/* updates are not checked (on_insert) */
	CHECK_OK(db, update(db, "customer", insert(db, "customer", "{'name':'C','phone':'13900000000'}"),
			    "{'phone':'13800138000'}"));
	CHECK_STR(crm_warnings(db), "[]");
	crm_close(db);
}

TEST(test_insert__warn_succeeds_with_a_warning)
{
	crm_db *db = customers(",'on_insert':'warn'");
	int64_t a = insert(db, "customer", "{'name':'A','email':'ann@x.cn'}"), b = 0;
	char want[64];

	CHECK_STR(crm_warnings(db), "[]");
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"B\",\"email\":\"ANN@X.cn\"}", &b));
	CHECK(b > a);
	CHECK_HAS(crm_warnings(db), "\"code\":\"duplicate\"");
	CHECK_HAS(crm_warnings(db), "\"rule\":\"email\"");
	snprintf(want, sizeof want, "\"record\":%lld", (long long)a);
	CHECK_HAS(crm_warnings(db), want);
	/* the next call starts without warnings */
	CHECK_OK(db, update(db, "customer", b, "{'name':'B2'}"));
	CHECK_STR(crm_warnings(db), "[]");
	crm_close(db);
}

static const char LINKED[] =
	"[{'form':'deal','fields':[{'name':'title','type':'text'},{'name':'customer','type':'ref','form':'customer'}]},"
	" {'form':'contact','fields':[{'name':'who','type':'text'},{'name':'of','type':'ref','form':'customer','on_delete':'cascade'},"
	"  {'name':'backup','type':'ref','form':'customer'}]},"
	" {'workflow':'onboard','form':'customer','start_on':'create','initial':'new',"
	"  'states':{'new':{},'done':{'final':true}},'transitions':[{'from':'new','event':'finish','to':'done'}]},"
	" {'workflow':'care','form':'customer','initial':'open',"
	"  'states':{'open':{},'closed':{'final':true}},'transitions':[{'from':'open','event':'close','to':'closed'}]}]";

/* A JSON member's text in `json` ("" when absent), into `out`. */
static void member(const char *json, const char *name, char *out, size_t size)
{
	char key[64];
	const char *p;
	size_t n;

	snprintf(key, sizeof key, "\"%s\":", name);
	out[0] = 0;
	if (!json || !(p = strstr(json, key)))
		return;
	p += strlen(key);
	n = strcspn(p, ",}");
	snprintf(out, size, "%.*s", (int)n, p);
}

/* The record without updated_at and version (what undo restores exactly). */
static void sans_version(const char *json, char *out, size_t size)
{
	cJSON *o = cJSON_Parse(json);
	char *text;

	cJSON_DeleteItemFromObject(o, "updated_at");
	cJSON_DeleteItemFromObject(o, "version");
	text = cJSON_PrintUnformatted(o);
	snprintf(out, size, "%s", text ? text : "(none)");
	cJSON_free(text);
	cJSON_Delete(o);
}

TEST(test_merge__repoints_references_and_instances_then_undo_restores_both)
{
	crm_db *db = customers("");
	int64_t s, o, d1, d2, c1, inst = 0, merge = 0;
	char *out = NULL, before_s[1024], before_o[1024], after[1024], v[64], want[128];

	CHECK_OK(db, apply(db, LINKED));
	s = insert(db, "customer", "{'name':'Zhang San','phone':'13800138000','level':2}");
	crm_clock_set(db, T0 + 60000);
	o = insert(db, "customer", "{'name':'Zhang San','phone':'+86 138 0013 8000','email':'zs@x.cn','level':5,"
				   "'company':'Wudang','owner':'carol'}");
	d1 = insert(db, "deal", "{'title':'first'}");
	CHECK_OK(db, update(db, "deal", d1, "{'customer':2}"));
	d2 = insert(db, "deal", "{'title':'second','customer':1}");
	c1 = insert(db, "contact", "{'who':'x','of':2,'backup':2}");
	CHECK_OK(db, crm_workflow_start(db, "care", o, &inst));
	snprintf(before_s, sizeof before_s, "%s", test_get(db, "customer", s));
	snprintf(before_o, sizeof before_o, "%s", test_get(db, "customer", o));
	crm_clock_set(db, T0 + 120000);

	CHECK_OK(db, crm_merge(db, "customer", s, o, "{\"prefer\":{\"level\":\"other\"}}", &out));
	member(out, "merge", v, sizeof v);
	merge = atoll(v);
	CHECK(merge > 0);
	CHECK_HAS(out, "\"fields\":[\"company\",\"email\",\"level\"]");
	CHECK_HAS(out, "\"references\":3");
	snprintf(want, sizeof want, "\"moved\":[%lld],\"closed\":[", (long long)inst);
	CHECK_HAS(out, want);
	crm_free(out);
	/* the survivor took the other's values where asked or where it had none */
	CHECK_HAS(test_get(db, "customer", s), "\"name\":\"Zhang San\",\"company\":\"Wudang\",\"phone\":\"13800138000\","
						"\"email\":\"zs@x.cn\",\"level\":5");
	CHECK(test_get(db, "customer", o) == NULL);
	/* every reference follows, the cascading one too (nothing was deleted with the other) */
	CHECK_HAS(test_get(db, "deal", d1), "\"customer\":1");
	CHECK_HAS(test_get(db, "deal", d2), "\"customer\":1");
	CHECK_HAS(test_get(db, "contact", c1), "\"of\":1,\"backup\":1");
	/* the other's onboarding ends with it (the survivor has its own); care moves */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE record = 1 AND workflow = 'care'"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE record = 2 AND workflow = 'onboard'"
				   " AND status = 'cancelled'"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_history WHERE event = '(merge)'"), 1);
	/* audited: the writes and the merge itself; keys follow */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op = 'merge' AND record = 1"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op = 'delete' AND form = 'customer' AND record = 2"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_dupkey WHERE record = 2"), 0);

	crm_clock_set(db, T0 + 180000);
	CHECK_OK(db, crm_merge_undo(db, merge));
	/* both back: values, ids, owner, creation time */
	sans_version(before_o, before_o, sizeof before_o);
	sans_version(test_get(db, "customer", o), after, sizeof after);
	CHECK_STR(after, before_o);
	sans_version(before_s, before_s, sizeof before_s);
	sans_version(test_get(db, "customer", s), after, sizeof after);
	CHECK_STR(after, before_s);
	CHECK_HAS(test_get(db, "customer", o), "\"owner\":\"carol\",\"version\":2");
	CHECK_HAS(test_get(db, "deal", d1), "\"customer\":2");
	CHECK_HAS(test_get(db, "deal", d2), "\"customer\":1");
	CHECK_HAS(test_get(db, "contact", c1), "\"of\":2,\"backup\":2");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_wf_instance WHERE record = 2 AND workflow = 'care'"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit WHERE op = 'merge_undo'"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_dupkey WHERE form = 'customer' AND record = 2"), 3);
	/* once only */
	CHECK_RC(db, crm_merge_undo(db, merge), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "undone already");
	crm_close(db);
}

TEST(test_merge_undo__refuses_when_later_changes_make_it_unsafe)
{
	crm_db *db = customers("");
	int64_t s, o, d, merge;
	char *out = NULL, v[32];
	int64_t audits;

	CHECK_OK(db, apply(db, LINKED));
	s = insert(db, "customer", "{'name':'A','phone':'13800138000'}");
	o = insert(db, "customer", "{'name':'B','email':'b@x.cn'}");
	d = insert(db, "deal", "{'title':'t','customer':2}");
	CHECK_OK(db, crm_merge(db, "customer", s, o, NULL, &out));
	member(out, "merge", v, sizeof v);
	merge = atoll(v);
	crm_free(out);
	/* a later change of the survivor */
	CHECK_OK(db, update(db, "customer", s, "{'level':9}"));
	audits = test_sql_int(db, "SELECT count(*) FROM crm_audit");
	CHECK_RC(db, crm_merge_undo(db, merge), CRM_ECONFLICT);
	CHECK_HAS(crm_errmsg(db), "changed since merge");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit"), audits);
	CHECK(test_get(db, "customer", o) == NULL);
	/* a re-pointed record moved on */
	CHECK_OK(db, apply(db, "{'form':'customer2','fields':[{'name':'n','type':'text'}]}"));
	s = insert(db, "customer", "{'name':'C'}");
	o = insert(db, "customer", "{'name':'D'}");
	CHECK_OK(db, update(db, "deal", d, "{'customer':4}"));
	CHECK_OK(db, crm_merge(db, "customer", s, o, NULL, &out));
	member(out, "merge", v, sizeof v);
	crm_free(out);
	CHECK_OK(db, update(db, "deal", d, "{'customer':null}"));
	CHECK_RC(db, crm_merge_undo(db, atoll(v)), CRM_ECONFLICT);
	CHECK_HAS(crm_errmsg(db), "a deal record the merge re-pointed changed since");
	CHECK(test_get(db, "customer", o) == NULL);
	crm_close(db);
}

static const char SECURED[] =
	"{'form':'customer','fields':[{'name':'name','type':'text'},{'name':'phone','type':'phone'},"
	" {'name':'secret','type':'text','default':'s'}],"
	" 'duplicates':{'rules':[{'name':'phone','fields':[{'field':'phone','normalize':'phone'}]},"
	"  {'name':'hush','fields':[{'field':'secret'}]}],'on_insert':'%s'},"
	" 'permissions':[{'roles':['rep'],'allow':['read','create','update','delete'],"
	"  'rows':{'field':'owner','op':'eq','actor':'user'},'fields':{'secret':'hidden'}}]}";

TEST(test_permissions__a_rep_never_learns_of_another_reps_record)
{
	crm_db *db = test_db();
	int64_t bob1, ann1, ann2, id = 0;
	char missing[256], def[1024], *out = NULL;

	snprintf(def, sizeof def, SECURED, "warn");
	CHECK_OK(db, apply(db, def));
	bob1 = insert(db, "customer", "{'name':'Bob C','phone':'13800138000','secret':'s','owner':'bob'}");
	ann1 = insert(db, "customer", "{'name':'Ann C','phone':'+86 13800138000','secret':'t','owner':'ann'}");
	ann2 = insert(db, "customer", "{'name':'Ann D','phone':'13900000000','owner':'ann'}");
	CHECK_OK(db, crm_actor_set(db, "ann", "rep"));
	/* the report: bob's record is absent, so is the group it would make; the rule on a hidden field is skipped */
	CHECK_HAS(report(db, "customer", NULL), "\"groups\":[]");
	CHECK_HAS(report(db, "customer", NULL), "\"skipped\":[\"hush\"]");
	/* merging with bob's record fails as for a missing one, changing nothing */
	CHECK_RC(db, crm_merge(db, "customer", ann1, 999, NULL, &out), CRM_ENOTFOUND);
	snprintf(missing, sizeof missing, "%s", crm_errmsg(db));
	CHECK_RC(db, crm_merge(db, "customer", ann1, bob1, NULL, &out), CRM_ENOTFOUND);
	CHECK(strstr(crm_errmsg(db), "no customer record with id"));
	CHECK(!strstr(crm_errdetail(db), "Bob"));
	CHECK_RC(db, crm_merge(db, "customer", bob1, ann1, NULL, &out), CRM_ENOTFOUND);
	CHECK(out == NULL);
	crm_actor_set(db, NULL, NULL);
	CHECK(test_get(db, "customer", bob1) != NULL && test_get(db, "customer", ann1) != NULL);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_merge"), 0);
	/* neither the warning nor the block message names bob's record to ann */
	CHECK_OK(db, crm_actor_set(db, "ann", "rep"));
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"y\",\"phone\":\"138 0013 8000\"}", &id));
	CHECK_HAS(crm_warnings(db), "a customer record with the same phone exists");
	CHECK(!strstr(crm_warnings(db), "\"record\""));
	CHECK_OK(db, crm_record_delete(db, "customer", id, 0));
	crm_actor_set(db, NULL, NULL);
	snprintf(def, sizeof def, SECURED, "block");
	CHECK_OK(db, apply(db, def));
	CHECK_OK(db, crm_actor_set(db, "ann", "rep"));
	CHECK_RC(db, crm_record_insert(db, "customer", "{\"name\":\"x\",\"phone\":\"0086 138 0013 8000\"}", &id),
		 CRM_ECONSTRAINT);
	CHECK_HAS(crm_errmsg(db), "a customer record with the same phone exists");
	CHECK(!strstr(crm_errdetail(db), "duplicate_of") && !strstr(crm_errdetail(db), "\"record\""));
	/* her insert takes bob's hidden secret by default: a rule on it would tell her so */
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"z\",\"phone\":\"13700000000\"}", &id));
	CHECK_OK(db, crm_record_delete(db, "customer", id, 0));
	/* her own two merge; the hidden field is neither read nor written by the merge */
	CHECK_OK(db, crm_merge(db, "customer", ann2, ann1, NULL, &out));
	CHECK_HAS(out, "\"fields\":[]");
	crm_free(out);
	/* bob learns nothing of her merge: undo answers as for a merge that never was */
	CHECK_OK(db, crm_actor_set(db, "bob", "rep"));
	CHECK_RC(db, crm_merge_undo(db, 77), CRM_ENOTFOUND);
	snprintf(missing, sizeof missing, "%s", crm_errmsg(db));
	CHECK_RC(db, crm_merge_undo(db, 1), CRM_ENOTFOUND);
	CHECK_STR(crm_errmsg(db), "no merge with id 1");
	CHECK_OK(db, crm_actor_set(db, "ann", "rep"));
	/* she may undo it; a success leaves no error behind */
	CHECK_OK(db, crm_merge_undo(db, 1));
	CHECK_INT(crm_errcode(db), CRM_OK);
	CHECK_STR(crm_errmsg(db), "");
	CHECK_OK(db, crm_merge(db, "customer", ann2, ann1, NULL, &out));
	crm_free(out);
	crm_actor_set(db, NULL, NULL);
	CHECK_HAS(test_get(db, "customer", ann2), "\"secret\":\"s\""); /* not ann1's "t" */
	/* a reader who may not delete cannot merge */
	CHECK_OK(db, apply(db, "{'form':'lead','fields':[{'name':'n','type':'text'}],"
			       " 'permissions':[{'roles':['rep'],'allow':['read','update','create']}]}"));
	insert(db, "lead", "{'n':'a'}");
	insert(db, "lead", "{'n':'b'}");
	CHECK_OK(db, crm_actor_set(db, "ann", "rep"));
	CHECK_RC(db, crm_merge(db, "lead", 1, 2, NULL, &out), CRM_EPERM);
	crm_actor_set(db, NULL, NULL);
	CHECK(test_get(db, "lead", 2) != NULL);
	crm_close(db);
}

TEST(test_define__rejects_bad_rules_and_changes_nothing)
{
	static const char *const bad[] = {
		"{'rules':[{'name':'p','fields':[{'field':'nope'}]}]}",
		"{'rules':[{'name':'p','fields':[{'field':'level'}]}]}",
		"{'rules':[{'name':'p','fields':[{'field':'phone','normalize':'soundex'}]}]}",
		"{'rules':[{'name':'p','fields':[{'field':'phone','extra':1}]}]}",
		"{'rules':[{'name':'p','fields':[]}]}",
		"{'rules':[{'name':'p'}]}",
		"{'rules':[{'name':'p','fields':[{'field':'phone'}],'fuzzy':{'fields':['name'],'threshold':0.5}}]}",
		"{'rules':[{'name':'p','fuzzy':{'fields':['name'],'threshold':1.5}}]}",
		"{'rules':[{'name':'p','fuzzy':{'fields':['name'],'threshold':0}}]}",
		"{'rules':[{'name':'p','fuzzy':{'fields':['name']}}]}",
		"{'rules':[{'name':'x`; DROP TABLE customer; --','fields':[{'field':'phone'}]}]}",
		"{'rules':[{'name':'p','fields':[{'field':'phone'}]},{'name':'p','fields':[{'field':'email'}]}]}",
		"{'rules':[{'name':'p','fuzzy':{'fields':['name'],'threshold':0.9}}],'on_insert':'block'}",
		"{'rules':[],'on_insert':'sometimes'}",
		"{'rules':[],'merge':{'name':'oldest'}}",
		"{'rules':[],'merge':{'nope':'other'}}",
		"{'rules':{}}",
		"{'rule':[]}",
		"[]",
	};
	crm_db *db = test_db();
	char def[1024];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(def, sizeof def,
			 "{'form':'customer','fields':[{'name':'name','type':'text'},{'name':'phone','type':'phone'},"
			 "{'name':'email','type':'email'},{'name':'level','type':'integer'}],'duplicates':%s}",
			 bad[i]);
		char *j = test_q(def);
		CHECK_RC(db, crm_apply(db, j), CRM_EINVAL);
		CHECK_HAS(crm_errdetail(db), "\"path\":\"duplicates");
		free(j);
	}
	CHECK(!test_relation_exists(db, "customer"));
	crm_close(db);
}

TEST(test_hostile__bad_options_ids_and_names_change_nothing)
{
	static const char *const bad_merge[] = {
		"{", "[]", "{\"prefer\":{\"name\":\"oldest\"}}", "{\"prefer\":{\"x'; DROP TABLE customer;--\":\"other\"}}",
		"{\"prefer\":[]}", "{\"default\":\"both\"}", "{\"unknown\":1}", "{\"prefer\":{\"name\":\"\\u0000\"}}",
	};
	static const char *const bad_report[] = {
		"{", "{\"rules\":[\"nope\"]}", "{\"rules\":\"phone\"}", "{\"limit\":0}", "{\"limit\":1e12}",
		"{\"limit\":1.5}", "{\"what\":1}", "{\"rules\":[1]}",
	};
	crm_db *db = customers("");
	int64_t s = insert(db, "customer", "{'name':'A','phone':'13800138000'}");
	int64_t o = insert(db, "customer", "{'name':'B','phone':'13800138000'}");
	char *out = NULL, *huge;
	int64_t audits = test_sql_int(db, "SELECT count(*) FROM crm_audit");

	for (size_t i = 0; i < sizeof bad_merge / sizeof *bad_merge; i++) {
		CHECK_RC(db, crm_merge(db, "customer", s, o, bad_merge[i], &out), CRM_EINVAL);
		CHECK(out == NULL);
	}
	for (size_t i = 0; i < sizeof bad_report / sizeof *bad_report; i++)
		CHECK_RC(db, crm_duplicates(db, "customer", bad_report[i], &out), CRM_EINVAL);
	CHECK_RC(db, crm_merge(db, "customer", s, s, NULL, &out), CRM_EINVAL);
	CHECK_RC(db, crm_merge(db, "customer", -1, o, NULL, &out), CRM_EINVAL);
	CHECK_RC(db, crm_merge(db, "customer", s, INT64_MAX, NULL, &out), CRM_ENOTFOUND);
	CHECK_RC(db, crm_merge(db, "customer\"; DROP TABLE customer; --", s, o, NULL, &out), CRM_ENOTFOUND);
	CHECK_RC(db, crm_merge(db, NULL, s, o, NULL, &out), CRM_EMISUSE);
	CHECK_RC(db, crm_duplicates(db, "nope", NULL, &out), CRM_ENOTFOUND);
	CHECK_RC(db, crm_duplicates(db, "customer", NULL, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_merge_undo(db, 0), CRM_ENOTFOUND);
	CHECK_RC(db, crm_merge_undo(db, 12345), CRM_ENOTFOUND);
	CHECK_RC(db, crm_merge_undo(db, INT64_MIN), CRM_ENOTFOUND);
	/* a huge value normalises and is stored as a hash, findable as any other */
	huge = malloc(300001);
	memset(huge, 'a', 300000);
	huge[300000] = 0;
	{
		char *rec = malloc(300100);
		snprintf(rec, 300100, "{\"name\":\"h\",\"company\":\"%s\"}", huge);
		CHECK_OK(db, crm_record_insert(db, "customer", rec, NULL));
		CHECK_OK(db, crm_record_insert(db, "customer", rec, NULL));
		free(rec);
	}
	free(huge);
	CHECK_HAS(report(db, "customer", "{'rules':['company']}"), "\"records\":[3,4]");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_dupkey WHERE k LIKE 'sha256:%'"), 2);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit"), audits + 2);
	CHECK(test_get(db, "customer", o) != NULL);
	/* a log changed behind libcrm's back is refused, not trusted */
	CHECK_OK(db, crm_merge(db, "customer", s, o, NULL, &out));
	crm_free(out);
	CHECK_OK(db, crm__exec(db, "UPDATE crm_merge SET data = '{\"other\":{\"id\":2},\"references\":[[1,2,3]]}'"));
	audits = test_sql_int(db, "SELECT count(*) FROM crm_audit");
	CHECK_RC(db, crm_merge_undo(db, 1), CRM_EIO);
	CHECK_HAS(crm_errmsg(db), "its log is damaged");
	CHECK(test_get(db, "customer", o) == NULL);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_audit"), audits);
	crm_close(db);
}

TEST(test_merge__survivorship_policies_and_a_unique_value_the_other_held)
{
	crm_db *db = test_db();
	int64_t s, o;
	char *out = NULL;

	crm_clock_set(db, T0);
	CHECK_OK(db, apply(db, "{'form':'person','fields':[{'name':'name','type':'text'},{'name':'email','type':'email','unique':true},"
			       " {'name':'city','type':'text'},{'name':'tags','type':'multi_enum','options':['a','b']},{'name':'note','type':'text'}],"
			       " 'duplicates':{'rules':[],'merge':{'note':'newest'}}}"));
	s = insert(db, "person", "{'name':'S','city':'Beijing','note':'old'}");
	o = insert(db, "person", "{'name':'O','email':'o@x.cn','city':'Shanghai','tags':['a'],'note':'older'}");
	crm_clock_set(db, T0 + 1000);
	CHECK_OK(db, update(db, "person", o, "{'note':'newest'}"));
	/* the other's unique email moves to the survivor: the other goes first */
	CHECK_OK(db, crm_merge(db, "person", s, o, "{\"prefer\":{\"email\":\"other\",\"name\":\"survivor\"},\"default\":\"survivor\"}", &out));
	CHECK_HAS(out, "\"fields\":[\"email\",\"note\"]");
	crm_free(out);
	/* default survivor keeps the city and leaves tags empty; note is newest (metadata) */
	CHECK_HAS(test_get(db, "person", s), "\"name\":\"S\",\"email\":\"o@x.cn\",\"city\":\"Beijing\",\"tags\":null,\"note\":\"newest\"");
	crm_close(db);
}

TEST(test_insert__block_holds_inside_one_batch)
{
	crm_db *db = customers(",'on_insert':'block'");
	int64_t *ids = NULL;
	size_t n = 0;

	CHECK_RC(db, crm_record_insert_many(db, "customer", "[{\"name\":\"a\",\"phone\":\"13800138000\"},"
							   "{\"name\":\"b\",\"phone\":\"+86 13800138000\"}]", &ids, &n),
		 CRM_ECONSTRAINT);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM customer"), 0);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_dupkey"), 0);
	CHECK_OK(db, crm_record_insert_many(db, "customer", "[{\"name\":\"a\",\"phone\":\"13800138000\"},"
							    "{\"name\":\"b\",\"phone\":\"13900000000\"}]", &ids, &n));
	CHECK_INT(n, 2);
	crm_free(ids);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_dupkey"), 2);
	crm_close(db);
}

/* ---- two inserters of one key at once ---- */

#define BOUND_S 60 /* a guard against hangs, not a timing */

/* The second inserter, in a process of its own: opens the shared database
 * (then closes `opened`: opening takes the whole app for a moment), waits
 * for `go` to close, inserts the key the first holds uncommitted. Exits 0
 * when refused by the phone rule, 4 when the insert went through, 3 on
 * anything else. */
static void second_inserter(const char *path, const char *schema, int opened, int go)
{
	crm_db *db = test_open_shared(path, schema, BOUND_S * 1000);
	int rc, refused;

	alarm(BOUND_S);
	close(opened);
	test_closed(go, 1);
	rc = crm_record_insert(db, "customer", "{\"name\":\"B\",\"phone\":\"+86 138-0013-8000\"}", NULL);
	refused = rc == CRM_ECONSTRAINT && strstr(crm_errmsg(db), "has the same phone (duplicate rule 'phone')");
	if (!refused)
		fprintf(stderr, "the second insert of a key held uncommitted: %d %s\n", rc, crm_errdetail(db));
	crm_close(db);
	_exit(refused ? 0 : rc == CRM_OK ? 4 : 3);
}

/* "block" holds between two processes: the first inserts a key and keeps
 * its transaction open; the second inserts the same key meanwhile. The
 * check reads only committed keys (PostgreSQL), so the second must wait
 * for the first (the test sees it wait in pg_locks), then be refused; on
 * SQLite writers take turns anyway. With rollback, the second goes in. */
static void two_inserters(int commit)
{
	char dir[32], path[96], schema[64], def[2048];
	int opened[2], go[2], status = 0;
	crm_db *db;
	pid_t pid;

	test_new_shared(dir, path, sizeof path, schema, sizeof schema);
	db = test_open_shared(path, schema, BOUND_S * 1000);
	snprintf(def, sizeof def, CUSTOMER, ",'on_insert':'block'");
	CHECK_OK(db, apply(db, def));
	CHECK(pipe(opened) == 0 && pipe(go) == 0);
	if ((pid = fork()) == 0) {
		close(opened[0]);
		close(go[1]);
		second_inserter(path, schema, opened[1], go[0]);
	}
	close(opened[1]);
	close(go[0]);
	test_closed(opened[0], 1);
	CHECK_OK(db, crm_begin(db));
	insert(db, "customer", "{'name':'A','phone':'13800138000'}");
	close(go[1]);
	test_await_wait(db, &pid, &status, BOUND_S); /* the second waits for the first, or has finished */
	if (commit)
		CHECK_OK(db, crm_commit(db));
	else
		CHECK_OK(db, crm_rollback(db));
	if (pid)
		CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), commit ? 0 : 4);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM customer"), 1);
	close(opened[0]);
	crm_close(db);
	test_remove_shared(dir, path);
}

TEST(test_insert__block_holds_between_two_processes_inserting_at_once) { two_inserters(1); }

TEST(test_insert__block_lets_the_second_in_when_the_first_rolls_back) { two_inserters(0); }

TEST_LIST(T(test_normalize__chinese_mobiles_meet_however_written),
	  T(test_normalize__names_fold_width_case_script_and_spaces),
	  T(test_duplicates__each_exact_rule_groups_its_records),
	  T(test_duplicates__fuzzy_rule_lists_pairs_at_or_above_the_threshold),
	  T(test_duplicates__keys_are_filled_when_rules_are_applied),
	  T(test_insert__block_names_the_rule_and_the_record), T(test_insert__warn_succeeds_with_a_warning),
	  T(test_merge__repoints_references_and_instances_then_undo_restores_both),
	  T(test_merge_undo__refuses_when_later_changes_make_it_unsafe),
	  T(test_merge__survivorship_policies_and_a_unique_value_the_other_held),
	  T(test_insert__block_holds_inside_one_batch),
	  T(test_insert__block_holds_between_two_processes_inserting_at_once),
	  T(test_insert__block_lets_the_second_in_when_the_first_rolls_back),
	  T(test_permissions__a_rep_never_learns_of_another_reps_record),
	  T(test_define__rejects_bad_rules_and_changes_nothing),
	  T(test_hostile__bad_options_ids_and_names_change_nothing))
