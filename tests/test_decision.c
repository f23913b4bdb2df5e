/* Decision tables (docs/workflow.md, "Decision tables"): definitions and
 * their refusals, hit policies, every kind of match, versioning across
 * handles, the cJSON, C and Lua entry points, and hostile input. */
#include <lua.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/db_int.h"
#include "helpers.h"
#include "script/script.h"
#include "test.h"
#include "workflow/decision.h"

static const char routing[] =
	"{\"decision\": \"lead_routing\", \"label\": \"Lead routing\","
	" \"inputs\": [\"region\", \"product_line\", \"budget\"],"
	" \"outputs\": [\"owner\", \"priority\"],"
	" \"hit\": \"first\","
	" \"rules\": ["
	"  {\"when\": {\"region\": \"north\", \"product_line\": [\"saas\", \"hardware\"]}, \"then\": {\"owner\": \"alice\", "
	"\"priority\": \"high\"}},"
	"  {\"when\": {\"budget\": {\"op\": \"ge\", \"value\": 100000}}, \"then\": {\"owner\": \"vp_sales\", \"priority\": "
	"\"high\"}},"
	"  {\"when\": {\"region\": \"*\"}, \"then\": {\"owner\": \"pool\", \"priority\": \"normal\"}},"
	"  {\"then\": {\"owner\": \"pool\", \"priority\": \"low\"}}]}";

/* crm_decision_eval's result (static buffer), or "ERR <code>" when it failed. */
static const char *decide(crm_db *db, const char *table, const char *inputs)
{
	static char last[4096];
	char *out = NULL;
	int rc = crm_decision_eval(db, table, inputs, &out);

	if (rc != CRM_OK)
		snprintf(last, sizeof last, "ERR %s", crm_errstr(rc));
	else
		snprintf(last, sizeof last, "%s", out);
	crm_free(out);
	return last;
}

/* A one-rule "first" table `t` with one input `x`, matching `cond`. */
static void one_rule(crm_db *db, const char *cond)
{
	char json[1024];

	snprintf(json, sizeof json,
		 "{\"decision\":\"t\",\"inputs\":[\"x\"],\"outputs\":[\"hit\"],"
		 "\"rules\":[{\"when\":{\"x\":%s},\"then\":{\"hit\":true}}]}",
		 cond);
	test_apply(db, json);
}

/* Does the one-rule table match input `x` (JSON text, or NULL: absent)? */
static int hits(crm_db *db, const char *x)
{
	char json[512];
	const char *r;

	if (x)
		snprintf(json, sizeof json, "{\"x\":%s}", x);
	else
		snprintf(json, sizeof json, "{\"y\":1}");
	r = decide(db, "t", json);
	if (strcmp(r, "{\"hit\":true}") == 0)
		return 1;
	if (strcmp(r, "null") == 0)
		return 0;
	fprintf(stderr, "unexpected result %s for x=%s\n", r, x ? x : "(absent)");
	test_failures_++;
	return -1;
}

static int64_t versions(crm_db *db, const char *name)
{
	char sql[256];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM crm_meta WHERE kind='decision' AND name='%s'", name);
	return test_sql_int(db, sql);
}

/* ---- hit policies ---- */

TEST(test_decision__first_returns_the_first_matching_rules_outputs)
{
	crm_db *db = test_db();

	test_apply(db, routing);
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"north\",\"product_line\":\"saas\"}"),
		  "{\"owner\":\"alice\",\"priority\":\"high\"}");
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"north\",\"product_line\":\"hardware\",\"budget\":500000}"),
		  "{\"owner\":\"alice\",\"priority\":\"high\"}");
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"south\",\"product_line\":\"saas\",\"budget\":100000}"),
		  "{\"owner\":\"vp_sales\",\"priority\":\"high\"}");
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"north\",\"product_line\":\"services\",\"budget\":99999.99}"),
		  "{\"owner\":\"pool\",\"priority\":\"normal\"}");
	/* "*" matches a missing input too. */
	CHECK_STR(decide(db, "lead_routing", "{}"), "{\"owner\":\"pool\",\"priority\":\"normal\"}");
	CHECK_STR(decide(db, "lead_routing", NULL), "{\"owner\":\"pool\",\"priority\":\"normal\"}");
	CHECK_STR(decide(db, "lead_routing", ""), "{\"owner\":\"pool\",\"priority\":\"normal\"}");
	crm_close(db);
}

TEST(test_decision__first_without_a_match_is_null_and_collect_is_empty)
{
	crm_db *db = test_db();

	one_rule(db, "\"a\"");
	CHECK_STR(decide(db, "t", "{\"x\":\"b\"}"), "null");
	test_apply(db, "{\"decision\":\"c\",\"inputs\":[\"x\"],\"outputs\":[\"o\"],\"hit\":\"collect\","
		       "\"rules\":[{\"when\":{\"x\":1},\"then\":{\"o\":1}}]}");
	CHECK_STR(decide(db, "c", "{\"x\":2}"), "[]");
	crm_close(db);
}

TEST(test_decision__collect_returns_every_matching_rule_in_order)
{
	crm_db *db = test_db();
	const char *at = strstr(routing, "\"hit\": \"first\"");
	char json[2048];

	snprintf(json, sizeof json, "%.*s\"hit\": \"collect\"%s", (int)(at - routing), routing,
		 at + strlen("\"hit\": \"first\""));
	test_apply(db, json);
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"north\",\"product_line\":\"saas\",\"budget\":200000}"),
		  "[{\"owner\":\"alice\",\"priority\":\"high\"},{\"owner\":\"vp_sales\",\"priority\":\"high\"},"
		  "{\"owner\":\"pool\",\"priority\":\"normal\"},{\"owner\":\"pool\",\"priority\":\"low\"}]");
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"east\"}"),
		  "[{\"owner\":\"pool\",\"priority\":\"normal\"},{\"owner\":\"pool\",\"priority\":\"low\"}]");
	crm_close(db);
}

TEST(test_decision__outputs_are_what_the_rule_gives_including_null_and_numbers)
{
	crm_db *db = test_db();

	test_apply(db, "{\"decision\":\"t\",\"inputs\":[],\"outputs\":[\"a\",\"b\",\"c\",\"d\"],"
		       "\"rules\":[{\"then\":{\"b\":1.5,\"a\":null,\"c\":false}}]}");
	CHECK_STR(decide(db, "t", "{}"), "{\"b\":1.5,\"a\":null,\"c\":false}");
	test_apply(db, "{\"decision\":\"e\",\"inputs\":[],\"outputs\":[\"a\"],\"rules\":[{\"when\":{},\"then\":{}}]}");
	CHECK_STR(decide(db, "e", "{}"), "{}");
	crm_close(db);
}

/* ---- matching ---- */

TEST(test_decision__scalar_equality_is_by_type_and_numbers_compare_numerically)
{
	crm_db *db = test_db();

	one_rule(db, "1");
	CHECK_INT(hits(db, "1"), 1);
	CHECK_INT(hits(db, "1.0"), 1);
	CHECK_INT(hits(db, "1e0"), 1);
	CHECK_INT(hits(db, "10e-1"), 1);
	CHECK_INT(hits(db, "1.5"), 0);
	CHECK_INT(hits(db, "\"1\""), 0);
	CHECK_INT(hits(db, "true"), 0);
	CHECK_INT(hits(db, "null"), 0);
	CHECK_INT(hits(db, NULL), 0);
	CHECK_INT(hits(db, "[1]"), 0);
	CHECK_INT(hits(db, "{\"v\":1}"), 0);

	one_rule(db, "2.50");
	CHECK_INT(hits(db, "2.5"), 1);
	CHECK_INT(hits(db, "25e-1"), 1);

	one_rule(db, "\"north\"");
	CHECK_INT(hits(db, "\"north\""), 1);
	CHECK_INT(hits(db, "\"North\""), 0);
	CHECK_INT(hits(db, "\"north \""), 0);
	CHECK_INT(hits(db, "\"nor\\u0074h\""), 1); /* escapes decode first */

	one_rule(db, "\"\"");
	CHECK_INT(hits(db, "\"\""), 1);
	CHECK_INT(hits(db, "null"), 0);

	one_rule(db, "true");
	CHECK_INT(hits(db, "true"), 1);
	CHECK_INT(hits(db, "false"), 0);
	CHECK_INT(hits(db, "1"), 0);
	CHECK_INT(hits(db, "\"true\""), 0);

	one_rule(db, "false");
	CHECK_INT(hits(db, "false"), 1);
	CHECK_INT(hits(db, "0"), 0);
	CHECK_INT(hits(db, NULL), 0);
	crm_close(db);
}

TEST(test_decision__null_matches_a_missing_or_null_input_only)
{
	crm_db *db = test_db();

	one_rule(db, "null");
	CHECK_INT(hits(db, NULL), 1);
	CHECK_INT(hits(db, "null"), 1);
	CHECK_INT(hits(db, "\"\""), 0);
	CHECK_INT(hits(db, "0"), 0);
	CHECK_INT(hits(db, "false"), 0);
	CHECK_INT(hits(db, "[]"), 0);
	one_rule(db, "{\"op\":\"eq\",\"value\":null}");
	CHECK_INT(hits(db, NULL), 1);
	CHECK_INT(hits(db, "\"x\""), 0);
	one_rule(db, "{\"op\":\"ne\",\"value\":null}");
	CHECK_INT(hits(db, NULL), 0);
	CHECK_INT(hits(db, "null"), 0);
	CHECK_INT(hits(db, "\"x\""), 1);
	CHECK_INT(hits(db, "0"), 1);
	crm_close(db);
}

TEST(test_decision__arrays_match_membership)
{
	crm_db *db = test_db();

	one_rule(db, "[\"saas\", 2, true, null]");
	CHECK_INT(hits(db, "\"saas\""), 1);
	CHECK_INT(hits(db, "2.0"), 1);
	CHECK_INT(hits(db, "true"), 1);
	CHECK_INT(hits(db, NULL), 1);
	CHECK_INT(hits(db, "null"), 1);
	CHECK_INT(hits(db, "\"hardware\""), 0);
	CHECK_INT(hits(db, "\"2\""), 0);
	CHECK_INT(hits(db, "false"), 0);
	CHECK_INT(hits(db, "[\"saas\"]"), 0); /* an array input is not a member */
	one_rule(db, "{\"op\":\"in\",\"value\":[\"a\",\"b\"]}");
	CHECK_INT(hits(db, "\"b\""), 1);
	CHECK_INT(hits(db, "\"c\""), 0);
	CHECK_INT(hits(db, NULL), 0);
	crm_close(db);
}

TEST(test_decision__comparison_operators_on_numbers)
{
	crm_db *db = test_db();

	one_rule(db, "{\"op\":\"eq\",\"value\":10}");
	CHECK_INT(hits(db, "10.0"), 1);
	CHECK_INT(hits(db, "11"), 0);
	one_rule(db, "{\"op\":\"ne\",\"value\":10}");
	CHECK_INT(hits(db, "10"), 0);
	CHECK_INT(hits(db, "11"), 1);
	CHECK_INT(hits(db, "\"10\""), 1); /* a different type differs */
	CHECK_INT(hits(db, NULL), 1);     /* as in filters: "ne" holds for an empty value */
	one_rule(db, "{\"op\":\"lt\",\"value\":10}");
	CHECK_INT(hits(db, "9.999"), 1);
	CHECK_INT(hits(db, "-1e300"), 1);
	CHECK_INT(hits(db, "10"), 0);
	CHECK_INT(hits(db, "\"9\""), 0);
	CHECK_INT(hits(db, NULL), 0);
	one_rule(db, "{\"op\":\"le\",\"value\":10}");
	CHECK_INT(hits(db, "10"), 1);
	CHECK_INT(hits(db, "10.0001"), 0);
	one_rule(db, "{\"op\":\"gt\",\"value\":10}");
	CHECK_INT(hits(db, "10.5"), 1);
	CHECK_INT(hits(db, "10"), 0);
	CHECK_INT(hits(db, "true"), 0);
	one_rule(db, "{\"op\":\"ge\",\"value\":10}");
	CHECK_INT(hits(db, "10"), 1);
	CHECK_INT(hits(db, "1e2"), 1);
	CHECK_INT(hits(db, "9"), 0);
	CHECK_INT(hits(db, "null"), 0);
	one_rule(db, "{\"op\":\"between\",\"value\":[1, 5]}");
	CHECK_INT(hits(db, "1"), 1);
	CHECK_INT(hits(db, "5"), 1);
	CHECK_INT(hits(db, "3.3"), 1);
	CHECK_INT(hits(db, "0.999"), 0);
	CHECK_INT(hits(db, "5.001"), 0);
	CHECK_INT(hits(db, "\"3\""), 0);
	CHECK_INT(hits(db, NULL), 0);
	one_rule(db, "{\"op\":\"between\",\"value\":[2, 2]}");
	CHECK_INT(hits(db, "2"), 1);
	crm_close(db);
}

TEST(test_decision__comparison_operators_on_strings_are_bytewise)
{
	crm_db *db = test_db();

	one_rule(db, "{\"op\":\"lt\",\"value\":\"m\"}");
	CHECK_INT(hits(db, "\"apple\""), 1);
	CHECK_INT(hits(db, "\"Zebra\""), 1); /* upper case sorts first */
	CHECK_INT(hits(db, "\"m\""), 0);
	CHECK_INT(hits(db, "\"\""), 1);
	CHECK_INT(hits(db, "5"), 0);
	one_rule(db, "{\"op\":\"ge\",\"value\":\"m\"}");
	CHECK_INT(hits(db, "\"m\""), 1);
	CHECK_INT(hits(db, "\"ma\""), 1);
	CHECK_INT(hits(db, "\"\\u00e9\""), 1); /* UTF-8 bytes sort above ASCII */
	one_rule(db, "{\"op\":\"between\",\"value\":[\"2026-01-01\", \"2026-03-31\"]}");
	CHECK_INT(hits(db, "\"2026-01-01\""), 1);
	CHECK_INT(hits(db, "\"2026-02-15\""), 1);
	CHECK_INT(hits(db, "\"2026-03-31\""), 1);
	CHECK_INT(hits(db, "\"2026-04-01\""), 0);
	CHECK_INT(hits(db, "\"2025-12-31\""), 0);
	one_rule(db, "{\"op\":\"gt\",\"value\":\"ab\"}");
	CHECK_INT(hits(db, "\"abc\""), 1); /* a longer string with the same start is greater */
	CHECK_INT(hits(db, "\"ab\""), 0);
	CHECK_INT(hits(db, "\"a\""), 0);
	crm_close(db);
}

TEST(test_decision__star_and_missing_conditions_match_anything)
{
	crm_db *db = test_db();

	one_rule(db, "\"*\"");
	CHECK_INT(hits(db, NULL), 1);
	CHECK_INT(hits(db, "null"), 1);
	CHECK_INT(hits(db, "\"x\""), 1);
	CHECK_INT(hits(db, "42"), 1);
	CHECK_INT(hits(db, "[1,2]"), 1);
	CHECK_INT(hits(db, "{\"a\":{}}"), 1);
	/* A literal "*" is written with an operator. */
	one_rule(db, "{\"op\":\"eq\",\"value\":\"*\"}");
	CHECK_INT(hits(db, "\"*\""), 1);
	CHECK_INT(hits(db, "\"x\""), 0);
	test_apply(db, "{\"decision\":\"t\",\"inputs\":[\"x\",\"y\"],\"outputs\":[\"hit\"],"
		       "\"rules\":[{\"when\":{\"y\":\"*\"},\"then\":{\"hit\":true}}]}");
	CHECK_INT(hits(db, "\"anything\""), 1);
	crm_close(db);
}

TEST(test_decision__all_conditions_of_a_rule_must_hold)
{
	crm_db *db = test_db();

	test_apply(db, routing);
	/* north but no product line: the first rule needs both. */
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"north\"}"), "{\"owner\":\"pool\",\"priority\":\"normal\"}");
	CHECK_STR(decide(db, "lead_routing", "{\"product_line\":\"saas\"}"), "{\"owner\":\"pool\",\"priority\":\"normal\"}");
	crm_close(db);
}

TEST(test_decision__extra_inputs_are_ignored_and_the_first_duplicate_wins)
{
	crm_db *db = test_db();

	test_apply(db, routing);
	CHECK_STR(decide(db, "lead_routing",
			 "{\"name\":\"Ann\",\"score\":[1,2],\"region\":\"north\",\"id\":7,\"product_line\":\"saas\","
			 "\"region\":\"south\"}"),
		  "{\"owner\":\"alice\",\"priority\":\"high\"}");
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"south\",\"region\":\"north\",\"product_line\":\"saas\"}"),
		  "{\"owner\":\"pool\",\"priority\":\"normal\"}");
	crm_close(db);
}

/* ---- errors at evaluation ---- */

TEST(test_decision__unknown_table_is_not_found)
{
	crm_db *db = test_db();

	CHECK_STR(decide(db, "nope", "{}"), "ERR CRM_ENOTFOUND");
	CHECK_HAS(crm_errmsg(db), "no decision table named 'nope'");
	CHECK_STR(decide(db, "Bad Name", "{}"), "ERR CRM_ENOTFOUND");
	CHECK_STR(decide(db, "", "{}"), "ERR CRM_ENOTFOUND");
	/* A form of that name is not a decision table. */
	test_apply(db, "{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}");
	CHECK_STR(decide(db, "lead", "{}"), "ERR CRM_ENOTFOUND");
	crm_close(db);
}

TEST(test_decision__misuse_and_malformed_inputs_are_refused)
{
	crm_db *db = test_db();
	char *out = (char *)"x";

	test_apply(db, routing);
	CHECK_INT(crm_decision_eval(NULL, "lead_routing", "{}", &out), CRM_EMISUSE);
	CHECK(out == NULL);
	CHECK_INT(crm_decision_eval(db, "lead_routing", "{}", NULL), CRM_EMISUSE);
	CHECK_INT(crm_decision_eval(db, NULL, "{}", &out), CRM_EMISUSE);
	CHECK_STR(decide(db, "lead_routing", "{\"region\":"), "ERR CRM_EINVAL");
	CHECK_INT(crm_erroffset(db), 10); /* the end of the text */
	CHECK_STR(decide(db, "lead_routing", "[1,2]"), "ERR CRM_EINVAL");
	CHECK_STR(decide(db, "lead_routing", "\"north\""), "ERR CRM_EINVAL");
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"north\"} x"), "ERR CRM_EINVAL");
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"\\ud800\"}"), "ERR CRM_EINVAL");
	CHECK_STR(decide(db, "lead_routing", "{'region':1}"), "ERR CRM_EINVAL");
	CHECK_HAS(crm_errmsg(db), "inputs are not a valid JSON object");
	/* The handle still works. */
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"north\",\"product_line\":\"saas\"}"),
		  "{\"owner\":\"alice\",\"priority\":\"high\"}");
	CHECK_INT(crm_errcode(db), CRM_OK);
	crm_close(db);
}

/* ---- bad definitions ---- */

static void refused(const char *json, const char *path, const char *message)
{
	crm_db *db = test_db();
	char want[256];

	CHECK_RC(db, crm_apply(db, json), CRM_EINVAL);
	snprintf(want, sizeof want, "\"path\":\"%s\"", path);
	CHECK_HAS(crm_errdetail(db), want);
	CHECK_HAS(crm_errmsg(db), message);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta WHERE kind='decision'"), 0);
	crm_close(db);
}

#define IO "\"inputs\":[\"a\",\"b\"],\"outputs\":[\"o\",\"p\"],"

TEST(test_decision__bad_definitions_are_refused_with_their_path)
{
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{}}],\"colour\":1}", "colour", "unknown key 'colour'");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{}}],\"hit\":\"first\",\"hit\":\"first\"}", "hit",
		"duplicate key");
	refused("{\"decision\":\"T\"," IO "\"rules\":[{\"then\":{}}]}", "decision", "'decision' must be a name");
	refused("{\"decision\":7," IO "\"rules\":[{\"then\":{}}]}", "decision", "must be a name");
	refused("{\"decision\":\"crm_x\"," IO "\"rules\":[{\"then\":{}}]}", "decision", "must be a name");
	refused("{\"decision\":\"t\",\"label\":5," IO "\"rules\":[{\"then\":{}}]}", "label", "must be a string");
	refused("{\"decision\":\"t\"," IO "\"hit\":\"all\",\"rules\":[{\"then\":{}}]}", "hit", "\"first\" or \"collect\"");
	refused("{\"decision\":\"t\",\"outputs\":[\"o\"],\"rules\":[{\"then\":{}}]}", "inputs", "'inputs' is required");
	refused("{\"decision\":\"t\",\"inputs\":\"a\",\"outputs\":[\"o\"],\"rules\":[{\"then\":{}}]}", "inputs",
		"array of names");
	refused("{\"decision\":\"t\",\"inputs\":[\"a\",\"Region\"],\"outputs\":[\"o\"],\"rules\":[{\"then\":{}}]}",
		"inputs[1]", "must be a name");
	refused("{\"decision\":\"t\",\"inputs\":[\"a\",\"a\"],\"outputs\":[\"o\"],\"rules\":[{\"then\":{}}]}",
		"inputs[1]", "named twice");
	refused("{\"decision\":\"t\",\"inputs\":[],\"outputs\":[],\"rules\":[{\"then\":{}}]}", "outputs",
		"1 to 100 names");
	refused("{\"decision\":\"t\",\"inputs\":[],\"outputs\":[1],\"rules\":[{\"then\":{}}]}", "outputs[0]",
		"must be a name");
	refused("{\"decision\":\"t\"," IO "\"rules\":[]}", "rules", "1 to 1000 rules");
	refused("{\"decision\":\"t\"," IO "\"rules\":{}}", "rules", "must be an array");
	refused("{\"decision\":\"t\"," IO "\"hit\":\"first\"}", "rules", "'rules' is required");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{}},\"x\"]}", "rules[1]", "must be an object");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{},\"if\":{}}]}", "rules[0].if", "unknown key 'if'");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"a\":1}}]}", "rules[0].then", "'then' is required");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"then\":[\"o\"]}]}", "rules[0].then", "must be an object");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{\"owner\":1}}]}", "rules[0].then.owner",
		"'owner' is not a declared output");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{\"o\":1,\"o\":2}}]}", "rules[0].then.o", "duplicate");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{\"o\":[1]}}]}", "rules[0].then.o",
		"string, number, boolean or null");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{\"o\":{\"x\":1}}}]}", "rules[0].then.o",
		"string, number, boolean or null");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":[],\"then\":{}}]}", "rules[0].when", "must be an object");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{}},{\"when\":{\"region\":\"x\"},\"then\":{}}]}",
		"rules[1].when.region", "'region' is not a declared input");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"a\":1,\"a\":2},\"then\":{}}]}", "rules[0].when.a",
		"duplicate");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"a\":[]},\"then\":{}}]}", "rules[0].when.a",
		"1 to 1000 values");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"a\":[1,[2]]},\"then\":{}}]}", "rules[0].when.a[1]",
		"list values must be");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"b\":{\"op\":\"like\",\"value\":1}},\"then\":{}}]}",
		"rules[0].when.b.op", "unknown operator");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"b\":{\"op\":\">=\",\"value\":1}},\"then\":{}}]}",
		"rules[0].when.b.op", "unknown operator");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"b\":{\"value\":1}},\"then\":{}}]}", "rules[0].when.b.op",
		"'op' is required");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"b\":{\"op\":\"eq\"}},\"then\":{}}]}",
		"rules[0].when.b.value", "'value' is required");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"b\":{\"op\":\"eq\",\"value\":1,\"x\":1}},\"then\":{}}]}",
		"rules[0].when.b.x", "unknown key 'x'");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"b\":{\"op\":\"eq\",\"value\":[1]}},\"then\":{}}]}",
		"rules[0].when.b.value", "eq needs a string, number, boolean or null");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"b\":{\"op\":\"lt\",\"value\":true}},\"then\":{}}]}",
		"rules[0].when.b.value", "lt needs a number or a string");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"b\":{\"op\":\"ge\",\"value\":null}},\"then\":{}}]}",
		"rules[0].when.b.value", "ge needs a number or a string");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"b\":{\"op\":\"in\",\"value\":1}},\"then\":{}}]}",
		"rules[0].when.b.value", "in needs an array");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"b\":{\"op\":\"in\",\"value\":[]}},\"then\":{}}]}",
		"rules[0].when.b.value", "1 to 1000 values");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"when\":{\"b\":{\"op\":\"between\",\"value\":[1]}},\"then\":{}}]}",
		"rules[0].when.b.value", "between needs [low, high]");
	refused("{\"decision\":\"t\"," IO
		"\"rules\":[{\"when\":{\"b\":{\"op\":\"between\",\"value\":[1,\"z\"]}},\"then\":{}}]}",
		"rules[0].when.b.value", "two numbers or two strings");
	refused("{\"decision\":\"t\"," IO
		"\"rules\":[{\"when\":{\"b\":{\"op\":\"between\",\"value\":[5,1]}},\"then\":{}}]}",
		"rules[0].when.b.value", "low is greater than high");
	refused("{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{},\"description\":1}]}", "rules[0].description",
		"must be a string");
}

TEST(test_decision__rule_count_is_limited_to_1000)
{
	crm_db *db = test_db();
	crm__buf json = CRM__BUF_INIT;

	for (int n = 1000; n <= 1001; n++) {
		crm__buf_reset(&json);
		crm__buf_puts(&json, "{\"decision\":\"big\",\"inputs\":[\"x\"],\"outputs\":[\"o\"],\"rules\":[");
		for (int i = 0; i < n; i++)
			crm__buf_printf(&json, "%s{\"when\":{\"x\":%d},\"then\":{\"o\":%d}}", i ? "," : "", i, i);
		crm__buf_puts(&json, "]}");
		if (n == 1000)
			CHECK_OK(db, crm_apply(db, crm__buf_cstr(&json)));
		else {
			CHECK_RC(db, crm_apply(db, crm__buf_cstr(&json)), CRM_EINVAL);
			CHECK_HAS(crm_errdetail(db), "\"path\":\"rules\"");
		}
	}
	crm__buf_free(&json);
	CHECK_STR(decide(db, "big", "{\"x\":999}"), "{\"o\":999}");
	/* Many evaluations reuse the compiled table. */
	for (int i = 0; i < 2000; i++) {
		char in[32], want[32];
		snprintf(in, sizeof in, "{\"x\":%d}", i % 1000);
		snprintf(want, sizeof want, "{\"o\":%d}", i % 1000);
		if (strcmp(decide(db, "big", in), want) != 0) {
			CHECK_STR(decide(db, "big", in), want);
			break;
		}
	}
	crm_close(db);
}

TEST(test_decision__a_failing_document_rolls_back_the_whole_apply)
{
	crm_db *db = test_db();

	CHECK_RC(db,
		 crm_apply(db, "[{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]},"
			       "{\"decision\":\"ok\",\"inputs\":[],\"outputs\":[\"o\"],\"rules\":[{\"then\":{}}]},"
			       "{\"decision\":\"bad\",\"inputs\":[],\"outputs\":[\"o\"],\"rules\":[]}]"),
		 CRM_EINVAL);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta"), 0);
	CHECK_STR(decide(db, "ok", "{}"), "ERR CRM_ENOTFOUND");
	/* And both kinds land together. */
	CHECK_OK(db, crm_apply(db, "[{\"form\":\"lead\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]},"
				   "{\"decision\":\"ok\",\"inputs\":[],\"outputs\":[\"o\"],\"rules\":[{\"then\":{\"o\":1}}]}]"));
	CHECK_STR(decide(db, "ok", "{}"), "{\"o\":1}");
	crm_close(db);
}

/* ---- versioning ---- */

TEST(test_decision__identical_reapply_is_a_no_op_and_a_change_adds_a_version)
{
	crm_db *db = test_db();
	int64_t gen;

	test_apply(db, routing);
	CHECK_INT(versions(db, "lead_routing"), 1);
	CHECK_INT(test_sql_int(db, "SELECT version FROM crm_meta WHERE kind='decision'"), 1);
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"north\",\"product_line\":\"saas\"}"),
		  "{\"owner\":\"alice\",\"priority\":\"high\"}");
	gen = test_sql_int(db, "SELECT value FROM crm_state WHERE key='generation'");
	test_apply(db, routing);
	CHECK_INT(versions(db, "lead_routing"), 1);
	CHECK_INT(test_sql_int(db, "SELECT value FROM crm_state WHERE key='generation'"), gen);
	/* White space alone is no change either. */
	{
		char spaced[4096];
		snprintf(spaced, sizeof spaced, "  \n%s\n  ", routing);
		test_apply(db, spaced);
		CHECK_INT(versions(db, "lead_routing"), 1);
	}
	test_apply(db, "{\"decision\":\"lead_routing\",\"inputs\":[\"region\"],\"outputs\":[\"owner\"],"
		       "\"rules\":[{\"when\":{\"region\":\"north\"},\"then\":{\"owner\":\"bob\"}}]}");
	CHECK_INT(versions(db, "lead_routing"), 2);
	CHECK_INT(test_sql_int(db, "SELECT max(version) FROM crm_meta WHERE kind='decision'"), 2);
	CHECK(test_sql_int(db, "SELECT value FROM crm_state WHERE key='generation'") > gen);
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"north\",\"product_line\":\"saas\"}"), "{\"owner\":\"bob\"}");
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"south\"}"), "null");
	/* Going back to the first text is a change too: a third version. */
	test_apply(db, routing);
	CHECK_INT(versions(db, "lead_routing"), 3);
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"south\"}"), "{\"owner\":\"pool\",\"priority\":\"normal\"}");
	/* A refused change leaves the current version in use. */
	CHECK_RC(db, crm_apply(db, "{\"decision\":\"lead_routing\",\"inputs\":[],\"outputs\":[\"o\"],\"rules\":[]}"),
		 CRM_EINVAL);
	CHECK_INT(versions(db, "lead_routing"), 3);
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"south\"}"), "{\"owner\":\"pool\",\"priority\":\"normal\"}");
	crm_close(db);
}

TEST(test_decision__another_handle_sees_a_change_at_once)
{
	char dir[] = "/tmp/crm_test_decision_XXXXXX", path[128], p[160];
	crm_db *a = NULL, *b = NULL;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(path, sizeof path, "%s/crm.db", dir);
	CHECK_INT(crm_open(&a, path, NULL), CRM_OK);
	CHECK_INT(crm_open(&b, path, NULL), CRM_OK);
	test_apply(a, routing);
	CHECK_STR(decide(b, "lead_routing", "{\"region\":\"north\",\"product_line\":\"saas\"}"),
		  "{\"owner\":\"alice\",\"priority\":\"high\"}");
	test_apply(a, "{\"decision\":\"lead_routing\",\"inputs\":[\"region\"],\"outputs\":[\"owner\"],"
		      "\"rules\":[{\"when\":{\"region\":\"north\"},\"then\":{\"owner\":\"bob\"}}]}");
	CHECK_STR(decide(b, "lead_routing", "{\"region\":\"north\",\"product_line\":\"saas\"}"), "{\"owner\":\"bob\"}");
	/* And the other way round. */
	test_apply(b, routing);
	CHECK_STR(decide(a, "lead_routing", "{\"region\":\"north\",\"product_line\":\"saas\"}"),
		  "{\"owner\":\"alice\",\"priority\":\"high\"}");
	CHECK_INT(versions(a, "lead_routing"), 3);
	crm_close(a);
	crm_close(b);
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	rmdir(dir);
}

/* ---- the internal cJSON entry point ---- */

TEST(test_decision__crm_decide_internal_takes_and_gives_cjson)
{
	crm_db *db = test_db();
	cJSON *in, *out = NULL;
	char *text;

	test_apply(db, routing);
	in = cJSON_Parse("{\"region\":\"north\",\"product_line\":\"hardware\",\"budget\":1.0,\"other\":[1]}");
	CHECK_OK(db, crm__decide(db, "lead_routing", in, &out));
	text = cJSON_PrintUnformatted(out);
	CHECK_STR(text, "{\"owner\":\"alice\",\"priority\":\"high\"}");
	cJSON_free(text);
	cJSON_Delete(out);
	cJSON_Delete(in);

	in = cJSON_Parse("{\"budget\":100000.0,\"region\":null}");
	CHECK_OK(db, crm__decide(db, "lead_routing", in, &out));
	text = cJSON_PrintUnformatted(out);
	CHECK_STR(text, "{\"owner\":\"vp_sales\",\"priority\":\"high\"}");
	cJSON_free(text);
	cJSON_Delete(out);
	cJSON_Delete(in);

	CHECK_OK(db, crm__decide(db, "lead_routing", NULL, &out));
	CHECK(cJSON_IsObject(out));
	cJSON_Delete(out);

	test_apply(db, "{\"decision\":\"c\",\"inputs\":[\"x\"],\"outputs\":[\"o\"],\"hit\":\"collect\","
		       "\"rules\":[{\"when\":{\"x\":1},\"then\":{\"o\":1}},{\"then\":{\"o\":2}}]}");
	in = cJSON_Parse("{\"x\":1}");
	CHECK_OK(db, crm__decide(db, "c", in, &out));
	text = cJSON_PrintUnformatted(out);
	CHECK_STR(text, "[{\"o\":1},{\"o\":2}]");
	cJSON_free(text);
	cJSON_Delete(out);
	cJSON_Delete(in);

	one_rule(db, "5");
	in = cJSON_Parse("{\"x\":4}");
	CHECK_OK(db, crm__decide(db, "t", in, &out));
	CHECK(cJSON_IsNull(out));
	cJSON_Delete(out);
	cJSON_Delete(in);

	in = cJSON_Parse("[1]");
	CHECK_RC(db, crm__decide(db, "t", in, &out), CRM_EINVAL);
	CHECK(out == NULL);
	cJSON_Delete(in);
	CHECK_RC(db, crm__decide(db, "missing", NULL, &out), CRM_ENOTFOUND);
	crm_close(db);
}

/* ---- Lua ---- */

/* Run Lua chunk `src` returning one value; its string form (static), or
 * "ERR <code>" / "nil". */
static const char *lua_run(crm_db *db, const char *src)
{
	static char last[1024];
	lua_State *L;
	int rc;

	if ((rc = crm__lua_compile(db, "t", src, 0)) == CRM_OK)
		rc = crm__lua_call(db, 0, 1);
	if (rc != CRM_OK) {
		snprintf(last, sizeof last, "ERR %s", crm_errstr(rc));
		return last;
	}
	L = crm__lua(db);
	if (lua_isnil(L, -1))
		snprintf(last, sizeof last, "nil");
	else
		snprintf(last, sizeof last, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "(not a string)");
	lua_pop(L, 1);
	return last;
}

TEST(test_decision__lua_decide_returns_the_outputs_table)
{
	crm_db *db = test_db();

	test_apply(db, routing);
	CHECK_OK(db, crm__decision_lua_register(db));
	CHECK_STR(lua_run(db, "return crm.decide('lead_routing', {region='north', product_line='saas'}).owner"), "alice");
	CHECK_STR(lua_run(db, "return crm.decide('lead_routing', {region='south', budget=150000}).owner"), "vp_sales");
	CHECK_STR(lua_run(db, "return crm.decide('lead_routing', {region='south', budget=100000.0}).owner"), "vp_sales");
	CHECK_STR(lua_run(db, "return crm.decide('lead_routing', {region='south', budget=99999}).priority"), "normal");
	CHECK_STR(lua_run(db, "return crm.decide('lead_routing').owner"), "pool");
	CHECK_STR(lua_run(db, "return crm.decide('lead_routing', {}).owner"), "pool");
	/* Non-scalar inputs and NaN match nothing but "*". */
	CHECK_STR(lua_run(db, "return crm.decide('lead_routing', {region={'north'}, product_line='saas', budget=0/0}).owner"),
		  "pool");
	one_rule(db, "null");
	CHECK_STR(lua_run(db, "return tostring(crm.decide('t', {x=nil}).hit)"), "true");
	CHECK_STR(lua_run(db, "return crm.decide('t', {x=1})"), "nil");
	one_rule(db, "true");
	CHECK_STR(lua_run(db, "return tostring(crm.decide('t', {x=true}).hit)"), "true");
	test_apply(db, "{\"decision\":\"c\",\"inputs\":[\"x\"],\"outputs\":[\"o\",\"n\"],\"hit\":\"collect\","
		       "\"rules\":[{\"when\":{\"x\":{\"op\":\"gt\",\"value\":1}},\"then\":{\"o\":\"a\",\"n\":2}},"
		       "{\"then\":{\"o\":\"b\",\"n\":2.5}},{\"when\":{\"x\":0},\"then\":{\"o\":\"c\",\"n\":null}}]}");
	CHECK_STR(lua_run(db, "local r = crm.decide('c', {x=5}) return #r .. r[1].o .. r[2].o .. math.type(r[1].n) .. r[2].n"),
		  "2abinteger2.5");
	CHECK_STR(lua_run(db, "local r = crm.decide('c', {x=0}) return #r .. r[2].o .. tostring(r[2].n)"), "2cnil");
	CHECK_STR(lua_run(db, "return #crm.decide('c', {x=-1}) .. ''"), "1");
	/* Outputs beyond an integer's range are floats (UBSan: no conversion out of range). */
	test_apply(db, "{\"decision\":\"big\",\"inputs\":[\"x\"],\"outputs\":[\"a\",\"b\",\"c\"],"
		       "\"rules\":[{\"then\":{\"a\":1e48,\"b\":-1e308,\"c\":9007199254740992}}]}");
	CHECK_STR(lua_run(db, "local r = crm.decide('big', {}) return math.type(r.a) .. math.type(r.b) .. math.type(r.c)"),
		  "floatfloatinteger");
	crm_close(db);
}

TEST(test_decision__lua_decide_fails_with_the_apis_code)
{
	crm_db *db = test_db();

	test_apply(db, routing);
	CHECK_OK(db, crm__decision_lua_register(db));
	CHECK_STR(lua_run(db, "return crm.decide('nope', {})"), "ERR CRM_ENOTFOUND");
	CHECK_HAS(crm_errmsg(db), "no decision table named 'nope'");
	CHECK_HAS(crm_errmsg(db), "t:1:");
	CHECK_STR(lua_run(db, "return crm.decide('lead_routing', 5)"), "ERR CRM_ESCRIPT");
	CHECK_STR(lua_run(db, "return crm.decide(nil, {})"), "ERR CRM_ESCRIPT");
	/* pcall catches it like any error. */
	CHECK_STR(lua_run(db, "local ok = pcall(crm.decide, 'nope', {}) return tostring(ok)"), "false");
	/* Metamethods of the inputs table are not consulted. */
	CHECK_STR(lua_run(db, "local t = setmetatable({}, {__index = function() error('called') end})"
			      " return crm.decide('lead_routing', t).owner"),
		  "pool");
	CHECK_STR(lua_run(db, "return crm.decide('lead_routing', {region='north', product_line='saas'}).owner"), "alice");
	crm_close(db);
}

/* ---- hostile input ---- */

TEST(test_decision__sql_looking_names_are_refused_and_change_nothing)
{
	refused("{\"decision\":\"x'; DROP TABLE crm_meta; --\"," IO "\"rules\":[{\"then\":{}}]}", "decision",
		"must be a name");
	refused("{\"decision\":\"t\",\"inputs\":[\"a\\\" OR 1=1\"],\"outputs\":[\"o\"],\"rules\":[{\"then\":{}}]}",
		"inputs[0]", "must be a name");
	refused("{\"decision\":\"t\",\"inputs\":[],\"outputs\":[\"o); DELETE FROM crm_meta\"],\"rules\":[{\"then\":{}}]}",
		"outputs[0]", "must be a name");
	{
		crm_db *db = test_db();
		test_apply(db, routing);
		CHECK_STR(decide(db, "lead_routing' OR '1'='1", "{}"), "ERR CRM_ENOTFOUND");
		CHECK_STR(decide(db, "x\xff\xfe", "{}"), "ERR CRM_ENOTFOUND");
		CHECK_STR(decide(db, "lead_routing", "{\"region\":\"north' OR 1=1 --\"}"),
			  "{\"owner\":\"pool\",\"priority\":\"normal\"}");
		CHECK_INT(versions(db, "lead_routing"), 1);
		crm_close(db);
	}
	/* A long hostile key in a path is clipped, never cut inside a character. */
	{
		crm_db *db = test_db();
		crm__buf json = CRM__BUF_INIT;
		crm__buf_puts(&json, "{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{}}],\"");
		for (int i = 0; i < 200; i++)
			crm__buf_puts(&json, "\xc3\xa9");
		crm__buf_puts(&json, "\":1}");
		CHECK_RC(db, crm_apply(db, crm__buf_cstr(&json)), CRM_EINVAL);
		CHECK(strlen(crm_errmsg(db)) < 300);
		CHECK_HAS(crm_errdetail(db), "\"path\":\"\xc3\xa9");
		crm__buf_free(&json);
		crm_close(db);
	}
}

TEST(test_decision__a_huge_inputs_object_is_fine)
{
	crm_db *db = test_db();
	crm__buf json = CRM__BUF_INIT;
	cJSON *in, *out = NULL;
	char *text;

	test_apply(db, routing);
	crm__buf_putc(&json, '{');
	for (int i = 0; i < 200000; i++)
		crm__buf_printf(&json, "\"field_%d\":\"%s value %d\",", i, i % 2 ? "x" : "y\\n", i);
	crm__buf_puts(&json, "\"region\":\"north\",\"product_line\":\"saas\",\"budget\":1}");
	CHECK(!json.oom);
	CHECK_STR(decide(db, "lead_routing", crm__buf_cstr(&json)), "{\"owner\":\"alice\",\"priority\":\"high\"}");
	in = cJSON_Parse(crm__buf_cstr(&json));
	CHECK_OK(db, crm__decide(db, "lead_routing", in, &out));
	text = cJSON_PrintUnformatted(out);
	CHECK_STR(text, "{\"owner\":\"alice\",\"priority\":\"high\"}");
	cJSON_free(text);
	cJSON_Delete(out);
	cJSON_Delete(in);
	/* A huge string value too. */
	crm__buf_reset(&json);
	crm__buf_puts(&json, "{\"region\":\"");
	for (int i = 0; i < 1000000; i++)
		crm__buf_putc(&json, 'n');
	crm__buf_puts(&json, "\"}");
	CHECK_STR(decide(db, "lead_routing", crm__buf_cstr(&json)), "{\"owner\":\"pool\",\"priority\":\"normal\"}");
	crm__buf_free(&json);
	crm_close(db);
}

TEST(test_decision__deeply_nested_inputs_are_refused_cleanly)
{
	crm_db *db = test_db();
	crm__buf json = CRM__BUF_INIT;
	int depths[] = { 65, 1000, 100000 };

	test_apply(db, routing);
	for (size_t k = 0; k < sizeof depths / sizeof *depths; k++) {
		crm__buf_reset(&json);
		crm__buf_puts(&json, "{\"region\":");
		for (int i = 0; i < depths[k]; i++)
			crm__buf_putc(&json, '[');
		for (int i = 0; i < depths[k]; i++)
			crm__buf_putc(&json, ']');
		crm__buf_putc(&json, '}');
		CHECK_STR(decide(db, "lead_routing", crm__buf_cstr(&json)), "ERR CRM_EINVAL");
		CHECK(crm_erroffset(db) > 0);
		/* Unbalanced, too. */
		crm__buf_reset(&json);
		crm__buf_puts(&json, "{\"other\":");
		for (int i = 0; i < depths[k]; i++)
			crm__buf_puts(&json, "{\"a\":");
		CHECK_STR(decide(db, "lead_routing", crm__buf_cstr(&json)), "ERR CRM_EINVAL");
	}
	/* Within the depth limit an array value just matches nothing specific. */
	crm__buf_reset(&json);
	crm__buf_puts(&json, "{\"region\":");
	for (int i = 0; i < 30; i++)
		crm__buf_putc(&json, '[');
	for (int i = 0; i < 30; i++)
		crm__buf_putc(&json, ']');
	crm__buf_putc(&json, '}');
	CHECK_STR(decide(db, "lead_routing", crm__buf_cstr(&json)), "{\"owner\":\"pool\",\"priority\":\"normal\"}");
	crm__buf_free(&json);
	/* A deeply nested definition is refused by the metadata parser. */
	{
		crm__buf def = CRM__BUF_INIT;
		crm__buf_puts(&def, "{\"decision\":\"t\"," IO "\"rules\":[{\"then\":{},\"when\":{\"a\":");
		for (int i = 0; i < 100000; i++)
			crm__buf_putc(&def, '[');
		CHECK_RC(db, crm_apply(db, crm__buf_cstr(&def)), CRM_EINVAL);
		crm__buf_free(&def);
	}
	CHECK_STR(decide(db, "lead_routing", "{\"region\":\"north\",\"product_line\":\"saas\"}"),
		  "{\"owner\":\"alice\",\"priority\":\"high\"}");
	crm_close(db);
}

TEST_LIST(T(test_decision__first_returns_the_first_matching_rules_outputs),
	  T(test_decision__first_without_a_match_is_null_and_collect_is_empty),
	  T(test_decision__collect_returns_every_matching_rule_in_order),
	  T(test_decision__outputs_are_what_the_rule_gives_including_null_and_numbers),
	  T(test_decision__scalar_equality_is_by_type_and_numbers_compare_numerically),
	  T(test_decision__null_matches_a_missing_or_null_input_only), T(test_decision__arrays_match_membership),
	  T(test_decision__comparison_operators_on_numbers),
	  T(test_decision__comparison_operators_on_strings_are_bytewise),
	  T(test_decision__star_and_missing_conditions_match_anything),
	  T(test_decision__all_conditions_of_a_rule_must_hold),
	  T(test_decision__extra_inputs_are_ignored_and_the_first_duplicate_wins),
	  T(test_decision__unknown_table_is_not_found), T(test_decision__misuse_and_malformed_inputs_are_refused),
	  T(test_decision__bad_definitions_are_refused_with_their_path), T(test_decision__rule_count_is_limited_to_1000),
	  T(test_decision__a_failing_document_rolls_back_the_whole_apply),
	  T(test_decision__identical_reapply_is_a_no_op_and_a_change_adds_a_version),
	  T(test_decision__another_handle_sees_a_change_at_once),
	  T(test_decision__crm_decide_internal_takes_and_gives_cjson),
	  T(test_decision__lua_decide_returns_the_outputs_table), T(test_decision__lua_decide_fails_with_the_apis_code),
	  T(test_decision__sql_looking_names_are_refused_and_change_nothing),
	  T(test_decision__a_huge_inputs_object_is_fine), T(test_decision__deeply_nested_inputs_are_refused_cleanly))
