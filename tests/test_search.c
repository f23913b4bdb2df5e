/* Search (docs/integration.md "Search"): the "search" declaration checked at
 * apply, the index kept by the write path and rebuilt when the declaration
 * changes, Chinese and English, short words, ranking, snippets, paging, the
 * actor's view (rows and hidden fields) and hostile queries. Both backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "helpers.h"
#include "test.h"

/* The answer of a search (static buffer), or "ERR <code>" on failure. */
static const char *search(crm_db *db, const char *text, const char *opts)
{
	static char last[65536];
	char *o = opts ? test_q(opts) : NULL, *json = NULL;
	int rc = crm_search(db, text, o, &json);

	if (rc == CRM_OK)
		snprintf(last, sizeof last, "%s", json);
	else
		snprintf(last, sizeof last, "ERR %d %s", rc, crm_errmsg(db));
	crm_free(json);
	free(o);
	return last;
}

#define count_of test_count_of

static int hits(const char *answer) { return count_of(answer, "\"form\":"); }

static const char forms[] =
	"[{'form':'customer','fields':[{'name':'name','type':'text'},{'name':'company','type':'text'},"
	"  {'name':'notes','type':'long_text'},{'name':'secret','type':'text'},{'name':'score','type':'integer'}],"
	" 'search':{'fields':['name','company','notes','secret']},"
	" 'permissions':[{'roles':['rep'],'allow':['read','create','update'],"
	"  'rows':{'field':'owner','op':'eq','actor':'user'},'fields':{'secret':'hidden'}}]},"
	" {'form':'deal','fields':[{'name':'title','type':'text'},{'name':'customer','type':'ref','form':'customer'}],"
	" 'search':{'fields':['title']}}]";

static crm_db *setup(void)
{
	crm_db *db = test_db();

	CHECK_OK(db, test_apply_q(db, forms));
	return db;
}

TEST(test_search__chinese_words_of_two_and_more_characters)
{
	crm_db *db = setup();
	int64_t a = test_insert_q(db, "customer", "{'name':'张三丰','company':'北京华为技术有限公司'}");
	int64_t b = test_insert_q(db, "customer", "{'name':'李四','company':'上海华山贸易'}");
	const char *r;

	r = search(db, "华为", NULL); /* two characters: the scan */
	CHECK_INT(hits(r), 1);
	CHECK_HAS(r, "北京«华为»技术有限公司");
	r = search(db, "华为技术", NULL); /* the index */
	CHECK_INT(hits(r), 1);
	CHECK_HAS(r, "\"snippet\":{\"company\":\"北京«华为技术»有限公司\"}");
	r = search(db, "张三丰", "{'forms':['customer']}");
	CHECK_INT(hits(r), 1);
	CHECK_HAS(r, "\"record\":{\"id\":");
	CHECK_INT(hits(search(db, "张三", NULL)), 1);
	CHECK_INT(hits(search(db, "华", NULL)), 2);
	CHECK_INT(hits(search(db, "华为 张三", NULL)), 1); /* every word must occur */
	CHECK_INT(hits(search(db, "华为 李四", NULL)), 0);
	CHECK_INT(hits(search(db, "深圳腾讯", NULL)), 0);
	(void)a;
	(void)b;
	crm_close(db);
}

TEST(test_search__english_case_folded_ranked_across_forms)
{
	crm_db *db = setup();
	int64_t c = test_insert_q(db, "customer", "{'name':'Acme Corporation','notes':'met at the Shanghai trade show'}");
	const char *r;

	test_insert_q(db, "customer", "{'name':'Globex','notes':'asked about acme pricing and delivery to Beijing'}");
	test_insert_q(db, "deal", "{'title':'ACME renewal 2026'}");
	r = search(db, "acme", NULL);
	CHECK_INT(hits(r), 3);
	CHECK_HAS(r, "«Acme» Corporation");
	CHECK_HAS(r, "«ACME» renewal 2026");
	CHECK_HAS(r, "asked about «acme» pricing");
	r = search(db, "acme", "{'forms':['deal']}");
	CHECK_INT(hits(r), 1);
	CHECK_HAS(r, "\"form\":\"deal\"");
	r = search(db, "shanghai trade", "{'highlight':['<b>','</b>']}");
	CHECK_INT(hits(r), 1);
	CHECK_HAS(r, "met at the <b>Shanghai</b> <b>trade</b> show");
	{
		char id[32];
		snprintf(id, sizeof id, "\"id\":%lld", (long long)c);
		CHECK_HAS(r, id);
	}
	/* the record whose field the word covers most ranks first */
	r = search(db, "acme", "{'forms':['customer']}");
	CHECK(strstr(r, "Acme Corporation") && strstr(r, "Globex") && strstr(r, "Acme Corporation") < strstr(r, "Globex"));
	crm_close(db);
}

TEST(test_search__updates_and_deletes_are_reflected)
{
	crm_db *db = setup();
	int64_t id = test_insert_q(db, "customer", "{'name':'Initech','company':'旧公司名称'}");
	char *j = test_q("{'company':'新的公司名称'}");

	CHECK_INT(hits(search(db, "旧公司", NULL)), 1);
	CHECK_OK(db, crm_record_update(db, "customer", id, j, 0));
	CHECK_INT(hits(search(db, "旧公司", NULL)), 0);
	CHECK_INT(hits(search(db, "新的公司", NULL)), 1);
	CHECK_INT(hits(search(db, "Initech", NULL)), 1);
	free(j);
	/* an update of an unsearched field leaves the index as it was */
	j = test_q("{'score':5}");
	CHECK_OK(db, crm_record_update(db, "customer", id, j, 0));
	CHECK_INT(hits(search(db, "新的公司", NULL)), 1);
	free(j);
	CHECK_OK(db, crm_record_delete(db, "customer", id, 0));
	CHECK_INT(hits(search(db, "新的公司", NULL)), 0);
	CHECK_INT(hits(search(db, "Initech", NULL)), 0);
	crm_close(db);
}

TEST(test_search__index_rebuilt_when_the_declaration_changes)
{
	crm_db *db = test_db();

	CHECK_OK(db, test_apply_q(db, "{'form':'lead','fields':[{'name':'name','type':'text'},{'name':'city','type':'text'}]}"));
	test_insert_q(db, "lead", "{'name':'Wang Wei','city':'Hangzhou'}");
	CHECK_RC(db, crm_search(db, "wang", "{\"forms\":[\"lead\"]}", &(char *){ NULL }), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "declares no search");
	CHECK_OK(db, test_apply_q(db, "{'form':'lead','search':{'fields':['name']},"
			       "'fields':[{'name':'name','type':'text'},{'name':'city','type':'text'}]}"));
	CHECK_INT(hits(search(db, "wang", NULL)), 1); /* filled from the rows already there */
	CHECK_INT(hits(search(db, "hangzhou", NULL)), 0);
	CHECK_OK(db, test_apply_q(db, "{'form':'lead','search':{'fields':['name','city']},"
			       "'fields':[{'name':'name','type':'text'},{'name':'city','type':'text'}]}"));
	CHECK_INT(hits(search(db, "hangzhou", NULL)), 1);
	test_insert_q(db, "lead", "{'name':'Li Na','city':'Hangzhou'}");
	CHECK_INT(hits(search(db, "hangzhou", NULL)), 2);
	/* a renamed field: the index follows its new name */
	CHECK_OK(db, test_apply_q(db, "{'form':'lead','search':{'fields':['name','town']},"
			       "'fields':[{'name':'name','type':'text'},{'name':'town','type':'text','id':'city'}]}"));
	CHECK_INT(hits(search(db, "hangzhou", NULL)), 2);
	/* a type change re-adds the column (PostgreSQL drops its index): rebuilt */
	CHECK_OK(db, test_apply_q(db, "{'form':'lead','search':{'fields':['name','town']},"
			       "'fields':[{'name':'name','type':'text'},{'name':'town','type':'long_text','id':'city'}]}"));
	CHECK_INT(hits(search(db, "hangzhou", NULL)), 2);
	if (!test_on_sqlite(db)) {
		char *def = test_rows(db, "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
					  " AND indexname = 'crm_fts_lead'");
		CHECK(def && strstr(def, "town"));
		free(def);
	}
	CHECK_OK(db, test_apply_q(db, "{'form':'lead','fields':[{'name':'name','type':'text'},{'name':'town','type':'text','id':'city'}]}"));
	CHECK_INT(hits(search(db, "hangzhou", NULL)), 0);
	crm_close(db);
}

TEST(test_search__bad_declarations_are_refused_and_change_nothing)
{
	static const char *const bad[] = {
		"'search':['name']",
		"'search':{'fields':[]}",
		"'search':{'fields':['nope']}",
		"'search':{'fields':['n']}",
		"'search':{'fields':['name','name']}",
		"'search':{'fields':['name'],'weights':[1]}",
		"'search':{'fields':[1]}",
	};
	crm_db *db = test_db();
	char def[400];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(def, sizeof def, "{'form':'lead',%s,'fields':[{'name':'name','type':'text'},{'name':'n','type':'integer'}]}",
			 bad[i]);
		CHECK_RC(db, test_apply_q(db, def), CRM_EINVAL);
		CHECK_HAS(crm_errdetail(db), "\"path\":\"search");
	}
	CHECK_RC(db, crm_search(db, "x y z", "{\"forms\":[\"lead\"]}", &(char *){ NULL }), CRM_ENOTFOUND);
	crm_close(db);
}

/* A rep sees only her own customers: no hit, count, rank or snippet of
 * another rep's, and the hidden field is neither searched nor shown. */
TEST(test_search__a_rep_never_finds_another_reps_customer)
{
	crm_db *db = setup();
	const char *r;

	test_insert_q(db, "customer", "{'name':'华为 Ann','company':'Ann Holdings','secret':'margin-zebra','owner':'ann'}");
	test_insert_q(db, "customer", "{'name':'华为 Bob','company':'Bob Holdings','secret':'margin-zebra','owner':'bob'}");
	test_insert_q(db, "customer", "{'name':'Bob only','company':'Holdings of Bob','owner':'bob'}");
	CHECK_OK(db, crm_actor_set(db, "ann", "rep"));
	r = search(db, "holdings", NULL);
	CHECK_INT(hits(r), 1);
	CHECK_HAS(r, "Ann Holdings");
	CHECK(!strstr(r, "Bob"));
	CHECK_HAS(r, "\"next\":null");
	/* no page after hers: Bob's hits are not merely left out of the answer */
	r = search(db, "holdings", "{'limit':1}");
	CHECK_INT(hits(r), 1);
	CHECK_HAS(r, "\"next\":null");
	r = search(db, "华为", "{'limit':1}");
	CHECK_INT(hits(r), 1);
	CHECK_HAS(r, "\"next\":null");
	CHECK_INT(hits(search(db, "Bob", NULL)), 0);
	CHECK_INT(hits(search(db, "bob holdings", NULL)), 0);
	/* the hidden field: not matched, not in the snippet or the record */
	r = search(db, "zebra", NULL);
	CHECK_INT(hits(r), 0);
	r = search(db, "ann", NULL);
	CHECK_INT(hits(r), 1);
	CHECK(!strstr(r, "zebra"));
	CHECK(!strstr(r, "secret"));
	/* the system sees both, and the hidden field */
	CHECK_OK(db, crm_actor_set(db, NULL, NULL));
	CHECK_INT(hits(search(db, "zebra", NULL)), 2);
	CHECK_INT(hits(search(db, "holdings", NULL)), 3);
	crm_close(db);
}

TEST(test_search__pages_follow_the_token)
{
	static const char pat[] = "\"form\":\"customer\",\"id\":";
	crm_db *db = setup();
	char opts[200];
	long long seen[64];
	const char *r, *next;
	int n = 0, pages = 0;

	for (int i = 0; i < 25; i++) {
		char rec[80];
		snprintf(rec, sizeof rec, "{'name':'客户%02d','company':'华为分公司'}", i);
		test_insert_q(db, "customer", rec);
	}
	snprintf(opts, sizeof opts, "{'limit':10}");
	for (;;) {
		r = search(db, "华为分", opts);
		CHECK(strncmp(r, "ERR", 3) != 0);
		for (const char *p = r; (p = strstr(p, pat)) && n < 64; p += sizeof pat - 1) {
			long long id = atoll(p + sizeof pat - 1);
			for (int k = 0; k < n; k++)
				CHECK(seen[k] != id);
			seen[n++] = id;
		}
		pages++;
		next = strstr(r, "\"next\":\"");
		if (!next || pages > 5)
			break;
		snprintf(opts, sizeof opts, "{'limit':10,'after':'%.*s'}", (int)(strchr(next + 8, '"') - (next + 8)), next + 8);
	}
	CHECK_INT(pages, 3);
	CHECK_INT(n, 25);
	CHECK_INT(hits(search(db, "华为分", "{'limit':100}")), 25);
	/* a token of another query is refused */
	next = strstr(search(db, "华为分", "{'limit':10}"), "\"next\":\"");
	CHECK(next != NULL);
	if (next) {
		snprintf(opts, sizeof opts, "{'after':'%.*s'}", (int)(strchr(next + 8, '"') - (next + 8)), next + 8);
		CHECK_HAS(search(db, "华为", opts), "ERR 2");
	}
	crm_close(db);
}

TEST(test_search__hostile_queries_are_words_or_clear_errors)
{
	static const char *const words[] = {
		"\"", "\"\"\"", "*", "acme*", "NEAR(acme corp)", "OR", "acme OR x", "{name}: acme", "name:acme",
		"'; DROP TABLE customer; --", "1' OR '1'='1", "%", "_", "\\", "a%b_c\\d", "^acme", "(", ")", "-acme",
		"acme AND NOT corp",
	};
	crm_db *db = setup();
	char *big = malloc(10241);

	test_insert_q(db, "customer", "{'name':'Acme Corp','notes':'100% sure_thing \\\\ yes'}");
	for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
		const char *r = search(db, words[i], NULL);
		if (strncmp(r, "ERR", 3) == 0)
			fprintf(stderr, "query [%s]: %s\n", words[i], r);
		CHECK(strncmp(r, "ERR", 3) != 0);
	}
	CHECK_INT(hits(search(db, "100%", NULL)), 1);
	CHECK_INT(hits(search(db, "0% s", NULL)), 1);
	CHECK_INT(hits(search(db, "%", NULL)), 1); /* the literal character, which it holds */
	CHECK_INT(hits(search(db, "_t", NULL)), 1);
	CHECK_INT(hits(search(db, "x_y", NULL)), 0);
	CHECK_INT(hits(search(db, "'; DROP TABLE customer; --", NULL)), 0);
	CHECK_INT(hits(search(db, "acme", NULL)), 1); /* the table is still there */
	CHECK_HAS(search(db, "", NULL), "ERR 2");
	CHECK_HAS(search(db, " \t\xe3\x80\x80 ", NULL), "ERR 2");
	CHECK_RC(db, crm_search(db, NULL, NULL, &(char *){ NULL }), CRM_EINVAL);
	memset(big, 'a', 10240);
	big[10240] = 0;
	CHECK_HAS(search(db, big, NULL), "ERR 2");
	free(big);
	CHECK_HAS(search(db, "\xff\xfe", NULL), "ERR 2");
	CHECK_HAS(search(db, "a b c d e f g h i", NULL), "ERR 2");
	/* bad options */
	CHECK_HAS(search(db, "acme", "{'forms':'customer'}"), "ERR 2");
	CHECK_HAS(search(db, "acme", "{'forms':['nope']}"), "ERR 3");
	CHECK_HAS(search(db, "acme", "{'forms':['customer; DROP TABLE x']}"), "ERR 3");
	CHECK_HAS(search(db, "acme", "{'limit':0}"), "ERR 2");
	CHECK_HAS(search(db, "acme", "{'limit':101}"), "ERR 2");
	CHECK_HAS(search(db, "acme", "{'limit':1.5}"), "ERR 2");
	CHECK_HAS(search(db, "acme", "{'after':'s0000000000000000.10'}"), "ERR 2");
	CHECK_HAS(search(db, "acme", "{'after':12}"), "ERR 2");
	CHECK_HAS(search(db, "acme", "{'highlight':['<b>']}"), "ERR 2");
	CHECK_HAS(search(db, "acme", "{'highlight':['<bbbbbbbbbbbbbbbbbbbb>','</b>']}"), "ERR 2");
	CHECK_HAS(search(db, "acme", "{'sort':'score'}"), "ERR 2");
	CHECK_HAS(search(db, "acme", "[1,2"), "ERR 2");
	crm_close(db);
}

/* Batch rows of a searchable form are indexed too: they are not queued
 * past the index's upkeep (SQLite's queue runs rows as multi-row INSERTs). */
TEST(test_search__batch_inserts_are_indexed)
{
	crm_db *db = setup();
	static const int probe[] = { 0, 63, 64, 100, 149 };
	char word[32];
	crm__buf many = CRM__BUF_INIT;

	for (int i = 0; i < 150; i++)
		crm__buf_printf(&many, "{\"name\":\"zephyr%d\",\"company\":\"Quillfeather Ltd\"}\n", i);
	CHECK_OK(db, crm_record_insert_many(db, "customer", crm__buf_cstr(&many), NULL, NULL));
	for (size_t i = 0; i < sizeof probe / sizeof *probe; i++) {
		snprintf(word, sizeof word, "zephyr%d", probe[i]);
		CHECK_INT(hits(search(db, word, NULL)), 1);
	}
	crm__buf_free(&many);
	crm_close(db);
}

TEST_LIST(T(test_search__chinese_words_of_two_and_more_characters),
	  T(test_search__batch_inserts_are_indexed),
	  T(test_search__english_case_folded_ranked_across_forms), T(test_search__updates_and_deletes_are_reflected),
	  T(test_search__index_rebuilt_when_the_declaration_changes),
	  T(test_search__bad_declarations_are_refused_and_change_nothing),
	  T(test_search__a_rep_never_finds_another_reps_customer), T(test_search__pages_follow_the_token),
	  T(test_search__hostile_queries_are_words_or_clear_errors))
