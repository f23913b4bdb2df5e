/* crm_apply as a whole: every reference and Lua chunk of a definition is
 * checked when it is applied (whatever the order of the documents), computed
 * fields are recomputed by migrations, and crm_apply_plan / crm_apply_v2 say
 * what a change does and refuse to discard data unless allowed. */
#include <cJSON.h>

#include "core/alloc.h"
#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

#define LEAD_FORM                                                                                            \
	"{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},{\"name\":\"region\",\"type\":\"text\"}," \
	"{\"name\":\"score\",\"type\":\"integer\"}]}"
#define ROUTING_PLUGIN "{\"plugin\":\"routing\",\"lua\":\"return {assign = function(ctx) return nil end}\"}"
#define TIER_TABLE                                                                                          \
	"{\"decision\":\"tier\",\"inputs\":[\"score\"],\"outputs\":[\"region\"],"                                  \
	"\"rules\":[{\"when\":{\"score\":{\"op\":\"ge\",\"value\":50}},\"then\":{\"region\":\"vip\"}}]}"

/* A workflow on lead whose state `new` runs `on_enter` (a JSON value) and
 * whose one transition has `guard` (JSON text, or NULL). */
static char *flow(const char *on_enter, const char *guard)
{
	static char out[2048];

	snprintf(out, sizeof out,
		 "{\"workflow\":\"flow\",\"form\":\"lead\",\"start_on\":\"create\",\"initial\":\"new\","
		 "\"states\":{\"new\":{\"on_enter\":%s},\"done\":{\"final\":true}},"
		 "\"transitions\":[{\"from\":\"new\",\"event\":\"finish\",\"to\":\"done\"%s%s}]}",
		 on_enter, guard ? ",\"guard\":" : "", guard ? guard : "");
	return out;
}

/* The detail member `key` of the last error as a string (static), or "". */
static const char *detail_str(crm_db *db, const char *key)
{
	static char out[512];
	cJSON *d = cJSON_Parse(crm_errdetail(db));
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);

	out[0] = 0;
	if (cJSON_IsString(v))
		snprintf(out, sizeof out, "%s", v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(out, sizeof out, "%d", v->valueint);
	cJSON_Delete(d);
	return out;
}

static int64_t workflow_count(crm_db *db)
{
	return test_sql_int(db, "SELECT count(*) FROM crm_meta WHERE kind='workflow'");
}

/* ---- point 7: references and Lua chunks are checked at apply time ---- */

TEST(test_apply__refuses_workflow_calling_a_missing_plugin)
{
	crm_db *db = test_db();
	char docs[4096];

	test_apply(db, LEAD_FORM);
	snprintf(docs, sizeof docs, "[%s]", flow("\"routing.assign\"", NULL));
	CHECK_RC(db, crm_apply(db, docs), CRM_ENOTFOUND);
	CHECK_STR(detail_str(db, "path"), "states.new.on_enter");
	CHECK_HAS(crm_errmsg(db), "workflow flow");
	CHECK_HAS(crm_errmsg(db), "routing");
	CHECK_INT(workflow_count(db), 0);
	/* a list of actions: the path names the action */
	snprintf(docs, sizeof docs, "%s", flow("[{\"emit\":\"x\"},{\"call\":\"routing.assign\"}]", NULL));
	CHECK_RC(db, crm_apply(db, docs), CRM_ENOTFOUND);
	CHECK_STR(detail_str(db, "path"), "states.new.on_enter[1]");
	/* the plugin exists but lacks the function */
	test_apply(db, "{\"plugin\":\"routing\",\"lua\":\"return {other = function() end}\"}");
	CHECK_RC(db, crm_apply(db, flow("\"routing.assign\"", NULL)), CRM_ENOTFOUND);
	CHECK_HAS(crm_errmsg(db), "no function 'assign'");
	CHECK_INT(workflow_count(db), 0);
	crm_close(db);
}

TEST(test_apply__refuses_decide_on_a_missing_decision_table)
{
	crm_db *db = test_db();

	test_apply(db, LEAD_FORM);
	CHECK_RC(db, crm_apply(db, flow("[{\"decide\":\"tier\"}]", NULL)), CRM_ENOTFOUND);
	CHECK_STR(detail_str(db, "path"), "states.new.on_enter[0]");
	CHECK_HAS(crm_errmsg(db), "no decision table named 'tier'");
	CHECK_INT(workflow_count(db), 0);
	crm_close(db);
}

TEST(test_apply__refuses_lua_guard_and_action_with_syntax_errors)
{
	crm_db *db = test_db();

	test_apply(db, LEAD_FORM);
	CHECK_RC(db, crm_apply(db, flow("[]", "\"record.score >= \"")), CRM_ESCRIPT);
	CHECK_STR(detail_str(db, "path"), "transitions[0].guard");
	CHECK_HAS(crm_errmsg(db), "workflow flow");
	CHECK_RC(db, crm_apply(db, flow("[{\"lua\":\"record.score = = 1\"}]", NULL)), CRM_ESCRIPT);
	CHECK_STR(detail_str(db, "path"), "states.new.on_enter[0]");
	/* an action VALUE written in Lua is compiled too */
	CHECK_RC(db, crm_apply(db, flow("[{\"set\":{\"score\":{\"lua\":\"1 +\"}}}]", NULL)), CRM_ESCRIPT);
	CHECK_STR(detail_str(db, "path"), "states.new.on_enter[0].set.score");
	CHECK_INT(workflow_count(db), 0);
	/* compiled, not run: a guard that would fail at run time is accepted */
	test_apply(db, flow("[]", "\"error('only when fired')\""));
	crm_close(db);
}

TEST(test_apply__refuses_create_on_a_missing_form_or_field)
{
	crm_db *db = test_db();

	test_apply(db, LEAD_FORM);
	CHECK_RC(db, crm_apply(db, flow("[{\"create\":{\"form\":\"task\",\"values\":{\"title\":\"call\"}}}]", NULL)),
		 CRM_ENOTFOUND);
	CHECK_STR(detail_str(db, "path"), "states.new.on_enter[0]");
	CHECK_HAS(crm_errmsg(db), "task");
	test_apply(db, "{\"form\":\"task\",\"fields\":[{\"name\":\"title\",\"type\":\"text\"}]}");
	CHECK_RC(db, crm_apply(db, flow("[{\"create\":{\"form\":\"task\",\"values\":{\"titel\":\"call\"}}}]", NULL)),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "titel");
	test_apply(db, flow("[{\"create\":{\"form\":\"task\",\"values\":{\"title\":\"call\"}}}]", NULL));
	crm_close(db);
}

TEST(test_apply__order_of_documents_in_one_call_does_not_matter)
{
	crm_db *db = test_db();
	char docs[8192];

	/* the workflow first, then what it uses */
	snprintf(docs, sizeof docs, "[%s,%s,%s,%s]",
		 flow("[{\"call\":\"routing.assign\"},{\"decide\":\"tier\"}]", "\"record.score > 1\""), TIER_TABLE,
		 ROUTING_PLUGIN, LEAD_FORM);
	test_apply(db, docs);
	CHECK_INT(workflow_count(db), 1);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"a\",\"score\":60}", NULL));
	CHECK_HAS(test_get(db, "lead", 1), "\"region\":\"vip\"");
	crm_close(db);
}

TEST(test_apply__refuses_a_later_change_that_breaks_a_stored_workflow)
{
	crm_db *db = test_db();
	char docs[8192];

	snprintf(docs, sizeof docs, "[%s,%s,%s]", LEAD_FORM, ROUTING_PLUGIN,
		 flow("[{\"call\":\"routing.assign\"},{\"set\":{\"score\":1}}]", NULL));
	test_apply(db, docs);
	/* a new version of the plugin without the function the workflow calls */
	CHECK_RC(db, crm_apply(db, "{\"plugin\":\"routing\",\"lua\":\"return {renamed = function() end}\"}"),
		 CRM_ENOTFOUND);
	CHECK_HAS(crm_errmsg(db), "workflow flow");
	CHECK_HAS(crm_errmsg(db), "assign");
	CHECK_STR(detail_str(db, "path"), "states.new.on_enter[0]");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta WHERE kind='plugin'"), 1);
	/* removing a field the workflow sets */
	CHECK_RC(db, crm_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}"), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "workflow flow");
	CHECK_HAS(crm_errmsg(db), "score");
	/* a validator's plugin function must stay too */
	test_apply(db, "{\"plugin\":\"checks\",\"lua\":\"return {ok = function() return true end}\"}");
	test_apply(db, "{\"form\":\"note\",\"fields\":[{\"name\":\"t\",\"type\":\"text\"}],\"validators\":[\"checks.ok\"]}");
	CHECK_RC(db, crm_apply(db, "{\"plugin\":\"checks\",\"lua\":\"return {}\"}"), CRM_ENOTFOUND);
	CHECK_HAS(crm_errmsg(db), "note");
	crm_close(db);
}

TEST(test_apply__error_detail_names_the_failing_document)
{
	crm_db *db = test_db();
	char docs[8192];

	snprintf(docs, sizeof docs, "[%s,%s]", LEAD_FORM, flow("\"routing.assign\"", NULL));
	CHECK_RC(db, crm_apply(db, docs), CRM_ENOTFOUND);
	CHECK_STR(detail_str(db, "document"), "1");
	snprintf(docs, sizeof docs, "[%s,{\"form\":\"bad\",\"fields\":[{\"name\":\"x\",\"type\":\"nope\"}]}]", LEAD_FORM);
	CHECK_RC(db, crm_apply(db, docs), CRM_EINVAL);
	CHECK_STR(detail_str(db, "document"), "1");
	CHECK_STR(detail_str(db, "path"), "fields[0].type");
	crm_close(db);
}

/* ---- point 8: computed fields are recomputed by migrations ---- */

#define ITEM_V1                                                                                      \
	"{\"form\":\"item\",\"fields\":[{\"name\":\"qty\",\"type\":\"integer\"},"                              \
	"{\"name\":\"double\",\"type\":\"computed\",\"returns\":\"integer\",\"lua\":\"(record.qty or 0) * 2\"}]}"

static crm_db *items_db(void)
{
	crm_db *db = test_db();

	test_apply(db, ITEM_V1);
	for (int i = 1; i <= 3; i++) {
		char rec[64];
		snprintf(rec, sizeof rec, "{\"qty\":%d}", i);
		CHECK_OK(db, crm_record_insert(db, "item", rec, NULL));
	}
	return db;
}

TEST(test_migrate__changed_computed_expression_is_recomputed)
{
	crm_db *db = items_db();

	test_apply(db, "{\"form\":\"item\",\"fields\":[{\"name\":\"qty\",\"type\":\"integer\"},"
		       "{\"name\":\"double\",\"type\":\"computed\",\"returns\":\"integer\",\"lua\":\"(record.qty or 0) * 3\"}]}");
	CHECK_INT(test_sql_int(db, "SELECT sum(double) FROM item"), 18);
	CHECK_HAS(test_get(db, "item", 2), "\"double\":6");
	crm_close(db);
}

TEST(test_migrate__changed_computed_type_is_recomputed)
{
	crm_db *db = items_db();

	test_apply(db, "{\"form\":\"item\",\"fields\":[{\"name\":\"qty\",\"type\":\"integer\"},"
		       "{\"name\":\"double\",\"type\":\"computed\",\"returns\":\"text\",\"lua\":\"'x' .. record.qty\"}]}");
	CHECK_HAS(test_get(db, "item", 3), "\"double\":\"x3\"");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM item WHERE double IS NULL"), 0);
	crm_close(db);
}

TEST(test_migrate__added_computed_field_is_filled_for_existing_records)
{
	crm_db *db = items_db();

	test_apply(db, "{\"form\":\"item\",\"fields\":[{\"name\":\"qty\",\"type\":\"integer\"},"
		       "{\"name\":\"double\",\"type\":\"computed\",\"returns\":\"integer\",\"lua\":\"(record.qty or 0) * 2\"},"
		       "{\"name\":\"big\",\"type\":\"computed\",\"returns\":\"boolean\",\"lua\":\"record.qty > 1\"}]}");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM item WHERE big IS NULL"), 0);
	CHECK_HAS(test_get(db, "item", 2), "\"big\":true");
	CHECK_HAS(test_get(db, "item", 1), "\"big\":false");
	crm_close(db);
}

TEST(test_migrate__computed_failure_fails_the_migration_naming_the_record)
{
	crm_db *db = items_db();

	CHECK_RC(db,
		 crm_apply(db, "{\"form\":\"item\",\"fields\":[{\"name\":\"qty\",\"type\":\"integer\"},"
			       "{\"name\":\"double\",\"type\":\"computed\",\"returns\":\"integer\","
			       "\"lua\":\"record.qty == 2 and error('no two') or record.qty\"}]}"),
		 CRM_ESCRIPT);
	CHECK_STR(detail_str(db, "record"), "2");
	CHECK_HAS(crm_errmsg(db), "record 2");
	/* nothing changed */
	CHECK_INT(test_sql_int(db, "SELECT sum(double) FROM item"), 12);
	CHECK_INT(test_sql_int(db, "SELECT max(version) FROM crm_meta WHERE name='item'"), 1);
	crm_close(db);
}

TEST(test_migrate__each_migration_and_plan_uses_its_own_expression)
{
	crm_db *db = items_db();
	char *plan = NULL;
	static const char v[] = "{\"form\":\"item\",\"fields\":[{\"name\":\"qty\",\"type\":\"integer\"},"
				"{\"name\":\"double\",\"type\":\"computed\",\"returns\":\"integer\",\"lua\":\"record.qty * %d\"}]}";
	char def[512];

	/* a plan compiles and runs version 2 of the form, then is undone */
	snprintf(def, sizeof def, v, 10);
	CHECK_OK(db, crm_apply_plan(db, def, NULL, &plan));
	crm_free(plan);
	CHECK_INT(test_sql_int(db, "SELECT sum(double) FROM item"), 12);
	/* the real version 2 is another expression */
	snprintf(def, sizeof def, v, 3);
	test_apply(db, def);
	CHECK_INT(test_sql_int(db, "SELECT sum(double) FROM item"), 18);
	snprintf(def, sizeof def, v, 4);
	test_apply(db, def);
	CHECK_INT(test_sql_int(db, "SELECT sum(double) FROM item"), 24);
	CHECK_OK(db, crm_record_insert(db, "item", "{\"qty\":10}", NULL));
	CHECK_INT(test_sql_int(db, "SELECT double FROM item WHERE qty = 10"), 40);
	crm_close(db);
}

/* ---- point 20: plans, summaries and data loss ---- */

#define CONTACT_V1                                                                                      \
	"{\"form\":\"contact\",\"fields\":[{\"name\":\"full_name\",\"type\":\"text\"},{\"name\":\"fax\",\"type\":\"text\"}," \
	"{\"name\":\"code\",\"type\":\"text\"},{\"name\":\"empty\",\"type\":\"text\"}]}"

static crm_db *contacts_db(void)
{
	crm_db *db = test_db();

	test_apply(db, CONTACT_V1);
	CHECK_OK(db, crm_record_insert(db, "contact",
				       "{\"full_name\":\"Ann\",\"fax\":\"1\",\"code\":\"0.10000000000000000555\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "contact", "{\"full_name\":\"Bob\",\"code\":\"7\"}", NULL));
	return db;
}

TEST(test_apply__renaming_by_name_alone_is_refused_as_data_loss)
{
	crm_db *db = contacts_db();
	char *snap = crm__strdup(test_get(db, "contact", 1));

	CHECK_RC(db,
		 crm_apply(db, "{\"form\":\"contact\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
			       "{\"name\":\"fax\",\"type\":\"text\"},{\"name\":\"code\",\"type\":\"text\"},"
			       "{\"name\":\"empty\",\"type\":\"text\"}]}"),
		 CRM_ECONSTRAINT);
	CHECK_HAS(crm_errmsg(db), "full_name");
	CHECK_HAS(crm_errmsg(db), "\"id\": \"full_name\"");
	CHECK_STR(test_get(db, "contact", 1), snap);
	/* keeping the id renames */
	test_apply(db, "{\"form\":\"contact\",\"fields\":[{\"name\":\"name\",\"id\":\"full_name\",\"type\":\"text\"},"
		       "{\"name\":\"fax\",\"type\":\"text\"},{\"name\":\"code\",\"type\":\"text\"},"
		       "{\"name\":\"empty\",\"type\":\"text\"}]}");
	CHECK_HAS(test_get(db, "contact", 1), "\"name\":\"Ann\"");
	crm__free(snap);
	crm_close(db);
}

TEST(test_apply__dropping_a_field_with_data_needs_allow_data_loss)
{
	crm_db *db = contacts_db();
	crm_apply_options opts = CRM_APPLY_OPTIONS_INIT;
	const char *v2 = "{\"form\":\"contact\",\"fields\":[{\"name\":\"full_name\",\"type\":\"text\"},"
			 "{\"name\":\"code\",\"type\":\"text\"}]}";
	char *summary = NULL;

	/* dropping `empty` alone loses nothing */
	CHECK_OK(db, crm_apply(db, "{\"form\":\"contact\",\"fields\":[{\"name\":\"full_name\",\"type\":\"text\"},"
				   "{\"name\":\"fax\",\"type\":\"text\"},{\"name\":\"code\",\"type\":\"text\"}]}"));
	CHECK_RC(db, crm_apply(db, v2), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errmsg(db), "fax");
	CHECK_HAS(crm_errdetail(db), "\"data_loss\":true");
	/* the refusal lists the failing field, as every CRM_ECONSTRAINT does */
	CHECK_HAS(crm_errdetail(db), "\"errors\":[{\"field\":\"fax\",\"code\":\"data_loss\",\"message\":\"removing field 'fax'");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM contact WHERE fax IS NOT NULL"), 1);
	opts.flags = CRM_APPLY_ALLOW_DATA_LOSS;
	CHECK_OK(db, crm_apply_v2(db, v2, &opts, &summary));
	CHECK_HAS(summary, "\"change\":\"drop\",\"field\":\"fax\"");
	CHECK_HAS(summary, "\"data_loss\":true");
	CHECK_INT(test_column_exists(db, "contact", "fax"), 0);
	crm_free(summary);
	crm_close(db);
}

TEST(test_apply__lossy_retype_needs_allow_data_loss)
{
	crm_db *db = contacts_db();
	const char *v2 = "{\"form\":\"contact\",\"fields\":[{\"name\":\"full_name\",\"type\":\"text\"},"
			 "{\"name\":\"fax\",\"type\":\"text\"},{\"name\":\"code\",\"type\":\"number\"},"
			 "{\"name\":\"empty\",\"type\":\"text\"}]}";
	crm_apply_options opts = CRM_APPLY_OPTIONS_INIT;
	char *summary = NULL;

	/* "0.10000000000000000555" as a number is 0.1: digits are lost ("1e3" as 1000 would lose none) */
	CHECK_RC(db, crm_apply(db, v2), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errmsg(db), "code");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM contact WHERE code = '0.10000000000000000555'"), 1);
	opts.flags = CRM_APPLY_ALLOW_DATA_LOSS;
	CHECK_OK(db, crm_apply_v2(db, v2, &opts, &summary));
	CHECK_HAS(summary, "\"change\":\"retype\",\"field\":\"code\",\"from\":\"text\",\"to\":\"number\"");
	CHECK_HAS(summary, "\"lost\":1");
	crm_free(summary);
	/* widening back to text loses nothing */
	CHECK_OK(db, crm_apply(db, CONTACT_V1));
	crm_close(db);
}

TEST(test_apply_plan__reports_changes_and_changes_nothing)
{
	crm_db *db = contacts_db();
	char *plan = NULL;
	cJSON *root, *doc, *changes;
	const char *v2 = "[{\"form\":\"contact\",\"fields\":[{\"name\":\"name\",\"id\":\"full_name\",\"type\":\"text\"},"
			 "{\"name\":\"code\",\"type\":\"number\"},{\"name\":\"empty\",\"type\":\"text\",\"required\":false},"
			 "{\"name\":\"city\",\"type\":\"text\"}]}," ROUTING_PLUGIN "]";

	CHECK_OK(db, crm_apply_plan(db, v2, NULL, &plan));
	root = cJSON_Parse(plan);
	CHECK(root != NULL);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "documents")), 2);
	doc = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "documents"), 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "kind")), "form");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "action")), "changed");
	changes = cJSON_GetObjectItemCaseSensitive(doc, "changes");
	CHECK(cJSON_GetArraySize(changes) >= 4);
	CHECK_HAS(plan, "{\"change\":\"rename\",\"field\":\"name\",\"from\":\"full_name\",\"rows\":2}");
	CHECK_HAS(plan, "{\"change\":\"drop\",\"field\":\"fax\",\"rows\":2,\"values\":1,\"data_loss\":true}");
	CHECK_HAS(plan, "\"change\":\"retype\",\"field\":\"code\"");
	CHECK_HAS(plan, "{\"change\":\"add\",\"field\":\"city\",\"rows\":2}");
	CHECK_HAS(plan, "\"data_loss\":true");
	doc = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "documents"), 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "kind")), "plugin");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "action")), "created");
	cJSON_Delete(root);
	crm_free(plan);
	/* nothing was applied */
	CHECK_INT(test_sql_int(db, "SELECT max(version) FROM crm_meta WHERE name='contact'"), 1);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta WHERE kind='plugin'"), 0);
	CHECK_HAS(test_get(db, "contact", 1), "\"fax\":\"1\"");
	CHECK_OK(db, crm_record_insert(db, "contact", "{\"full_name\":\"Cy\"}", NULL));
	crm_close(db);
}

TEST(test_apply__summary_says_what_changed_and_unchanged_reapply_changes_nothing)
{
	crm_db *db = test_db();
	char *summary = NULL;
	char docs[4096];

	snprintf(docs, sizeof docs, "[%s,%s]", LEAD_FORM, ROUTING_PLUGIN);
	CHECK_OK(db, crm_apply_v2(db, docs, NULL, &summary));
	CHECK_HAS(summary, "\"changed\":2");
	CHECK_HAS(summary, "{\"kind\":\"form\",\"name\":\"lead\",\"action\":\"created\"");
	crm_free(summary);
	summary = NULL;
	CHECK_OK(db, crm_apply_v2(db, docs, NULL, &summary));
	CHECK_HAS(summary, "\"changed\":0");
	CHECK_HAS(summary, "{\"kind\":\"form\",\"name\":\"lead\",\"action\":\"unchanged\"}");
	CHECK_HAS(summary, "{\"kind\":\"plugin\",\"name\":\"routing\",\"action\":\"unchanged\"}");
	crm_free(summary);
	/* a plan refuses what the apply would refuse, and gives no plan */
	summary = NULL;
	CHECK_RC(db, crm_apply_plan(db, flow("\"routing.nosuch\"", NULL), NULL, &summary), CRM_ENOTFOUND);
	CHECK(summary == NULL);
	CHECK_RC(db, crm_apply_plan(db, docs, NULL, NULL), CRM_EMISUSE);
	/* options of another version are refused, not misread */
	{
		crm_apply_options bad = { 99, 0 };
		CHECK_RC(db, crm_apply_v2(db, docs, &bad, NULL), CRM_EMISUSE);
	}
	crm_close(db);
}

TEST_LIST(T(test_apply__refuses_workflow_calling_a_missing_plugin),
	  T(test_apply__refuses_decide_on_a_missing_decision_table),
	  T(test_apply__refuses_lua_guard_and_action_with_syntax_errors),
	  T(test_apply__refuses_create_on_a_missing_form_or_field),
	  T(test_apply__order_of_documents_in_one_call_does_not_matter),
	  T(test_apply__refuses_a_later_change_that_breaks_a_stored_workflow),
	  T(test_apply__error_detail_names_the_failing_document),
	  T(test_migrate__changed_computed_expression_is_recomputed), T(test_migrate__changed_computed_type_is_recomputed),
	  T(test_migrate__added_computed_field_is_filled_for_existing_records),
	  T(test_migrate__computed_failure_fails_the_migration_naming_the_record),
	  T(test_migrate__each_migration_and_plan_uses_its_own_expression),
	  T(test_apply__renaming_by_name_alone_is_refused_as_data_loss),
	  T(test_apply__dropping_a_field_with_data_needs_allow_data_loss), T(test_apply__lossy_retype_needs_allow_data_loss),
	  T(test_apply_plan__reports_changes_and_changes_nothing),
	  T(test_apply__summary_says_what_changed_and_unchanged_reapply_changes_nothing))
