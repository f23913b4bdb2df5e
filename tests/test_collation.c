/* Text compares by its bytes on every backend (SQLite's BINARY), whatever
 * the database's own collation: sorting, keyset paging, range filters and
 * report groups all follow strcmp. On PostgreSQL the test makes a database
 * whose default collation is ICU's en-US (where "a" < "B", "_" and "-" are
 * nearly ignored and "é" sorts beside "e"), the case that byte order must
 * survive; SQLite runs the same checks in memory. */
#include <stdlib.h>
#include <unistd.h>

#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

static const char *const words[] = { "apple", "Banana", "banana", "_under", "a_b", "ab", "a-b", "a b", "Zebra",
				     "zebra", "\303\251clair", "eclair", "f", "10", "9", "\xc3\x84rger", "Arg" };
#define NWORDS ((int)(sizeof words / sizeof words[0]))

static int by_bytes(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static char pg_url[1024], pg_dbname[64];

/* A handle on a database whose default collation is not C: on PostgreSQL a
 * new database (ICU en-US), on SQLite the usual in-memory one. A server
 * without ICU skips the program (77). */
static crm_db *non_c_db(void)
{
	crm_db *admin, *db = NULL;
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	char sql[256];

	if (!test_pg_url())
		return test_db();
	admin = test_db();
	snprintf(pg_dbname, sizeof pg_dbname, "crm_collation_%ld", (long)getpid());
	snprintf(sql, sizeof sql,
		 "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'",
		 pg_dbname);
	if (crm__exec(admin, sql) != CRM_OK) {
		printf("skipped: the server cannot make an ICU database (%s)\n", crm_errmsg(admin));
		crm_close(admin);
		exit(77);
	}
	crm_close(admin);
	/* a later dbname overrides the URL's */
	snprintf(pg_url, sizeof pg_url, "%s%sdbname=%s", test_pg_url(), strchr(test_pg_url(), '?') ? "&" : "?",
		 pg_dbname);
	o.schema = "collation";
	if (crm_open(&db, pg_url, &o) != CRM_OK) {
		fprintf(stderr, "cannot open %s: %s\n", pg_url, crm_errmsg(db));
		exit(2);
	}
	crm_clock_set(db, INT64_C(1767323045000));
	return db;
}

static void drop_non_c_db(crm_db *db)
{
	crm_close(db);
	if (*pg_dbname) {
		crm_db *admin = test_db();
		char sql[128];
		snprintf(sql, sizeof sql, "DROP DATABASE %s", pg_dbname);
		CHECK_OK(admin, crm__exec(admin, sql));
		crm_close(admin);
		*pg_dbname = '\0';
	}
}

/* The values of `field` crm_query returns for `query` (one per line,
 * malloc'ed), and the keyset token of the last row in `token` when asked. */
static char *values(crm_db *db, const char *field, const char *query, char *token, size_t size)
{
	crm_cursor *cur = NULL;
	crm__buf out = CRM__BUF_INIT;
	int rc, col = 0;

	if (crm_query(&cur, db, "w", query) != CRM_OK) {
		fprintf(stderr, "query %s: %s\n", query, crm_errdetail(db));
		test_failures_++;
		return NULL;
	}
	while (col < crm_cursor_column_count(cur) && strcmp(crm_cursor_column_name(cur, col), field) != 0)
		col++;
	while ((rc = crm_cursor_next(cur)) == CRM_ROW) {
		crm__buf_puts(&out, crm_cursor_text(cur, col));
		crm__buf_putc(&out, '\n');
		if (token)
			snprintf(token, size, "%s", crm_cursor_token(cur));
	}
	CHECK_INT(rc, CRM_DONE);
	crm_cursor_free(cur);
	crm__buf_cstr(&out);
	return crm__buf_detach(&out);
}

static crm_db *words_db(const char **sorted)
{
	crm_db *db = non_c_db();
	crm__buf json = CRM__BUF_INIT;

	test_apply(db, "{\"form\":\"w\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"index\":true},"
		       "{\"name\":\"tag\",\"type\":\"text\",\"unique\":true}]}");
	crm__buf_putc(&json, '[');
	for (int i = 0; i < NWORDS; i++)
		crm__buf_printf(&json, "%s{\"name\":\"%s\",\"tag\":\"%s\"}", i ? "," : "", words[i], words[i]);
	crm__buf_putc(&json, ']');
	CHECK_OK(db, crm_record_insert_many(db, "w", crm__buf_cstr(&json), NULL, NULL));
	crm__buf_free(&json);
	memcpy(sorted, words, sizeof words);
	qsort(sorted, NWORDS, sizeof *sorted, by_bytes);
	return db;
}

TEST(test_collation__sorting_and_keyset_paging_follow_bytes)
{
	const char *sorted[NWORDS];
	crm_db *db = words_db(sorted);
	crm__buf want = CRM__BUF_INIT, paged = CRM__BUF_INIT;
	char token[512] = "", query[700];
	char *got;

	for (int i = 0; i < NWORDS; i++) {
		crm__buf_puts(&want, sorted[i]);
		crm__buf_putc(&want, '\n');
	}
	got = values(db, "name", "{\"fields\":[\"name\"],\"sort\":[\"name\"]}", NULL, 0);
	CHECK_STR(got, crm__buf_cstr(&want));
	free(got);
	/* pages of 4, each after the last row of the one before */
	for (int page = 0; page * 4 < NWORDS + 4; page++) {
		if (page == 0)
			snprintf(query, sizeof query, "{\"fields\":[\"name\"],\"sort\":[\"name\"],\"limit\":4}");
		else
			snprintf(query, sizeof query, "{\"fields\":[\"name\"],\"sort\":[\"name\"],\"limit\":4,\"after\":\"%s\"}",
				 token);
		got = values(db, "name", query, token, sizeof token);
		crm__buf_puts(&paged, got ? got : "?");
		free(got);
	}
	CHECK_STR(crm__buf_cstr(&paged), crm__buf_cstr(&want));
	/* descending, on a unique field */
	crm__buf_reset(&want);
	for (int i = NWORDS - 1; i >= 0; i--) {
		crm__buf_puts(&want, sorted[i]);
		crm__buf_putc(&want, '\n');
	}
	got = values(db, "tag", "{\"fields\":[\"tag\"],\"sort\":[\"-tag\"]}", NULL, 0);
	CHECK_STR(got, crm__buf_cstr(&want));
	free(got);
	crm__buf_free(&want);
	crm__buf_free(&paged);
	drop_non_c_db(db);
}

TEST(test_collation__range_filters_follow_bytes)
{
	static const char *const ops[] = { "lt", "le", "gt", "ge" };
	const char *sorted[NWORDS];
	crm_db *db = words_db(sorted);

	for (int k = 0; k < NWORDS; k++)
		for (int o = 0; o < 4; o++) {
			char query[256];
			int64_t n = -1, want = 0;
			for (int i = 0; i < NWORDS; i++) {
				int c = strcmp(words[i], words[k]);
				want += o == 0 ? c < 0 : o == 1 ? c <= 0 : o == 2 ? c > 0 : c >= 0;
			}
			snprintf(query, sizeof query, "{\"filter\":{\"field\":\"name\",\"op\":\"%s\",\"value\":\"%s\"}}", ops[o],
				 words[k]);
			CHECK_OK(db, crm_count(db, "w", query, &n));
			if (n != want)
				fprintf(stderr, "name %s %s\n", ops[o], words[k]);
			CHECK_INT(n, want);
		}
	{
		/* between "B" and "a": the capitals after B and nothing lower-case but "a" itself */
		int64_t n = -1, want = 0;
		for (int i = 0; i < NWORDS; i++)
			want += strcmp(words[i], "B") >= 0 && strcmp(words[i], "a") <= 0;
		CHECK_OK(db, crm_count(db, "w", "{\"filter\":{\"field\":\"name\",\"op\":\"between\",\"value\":[\"B\",\"a\"]}}", &n));
		CHECK_INT(n, want);
		CHECK(want > 0);
	}
	drop_non_c_db(db);
}

TEST(test_collation__report_groups_follow_bytes)
{
	const char *sorted[NWORDS];
	crm_db *db = words_db(sorted);
	crm_report *r = NULL;
	int rows = 0;

	test_apply(db, "{\"report\":\"by_name\",\"source\":\"w\",\"dimensions\":[\"name\"],"
		       "\"measures\":[{\"name\":\"n\",\"agg\":\"count\"}],\"order\":[\"name\"]}");
	CHECK_OK(db, crm_report_run(&r, db, "by_name", NULL));
	while (crm_report_next(r) == CRM_ROW && rows < NWORDS)
		CHECK_STR(crm_report_text(r, 0), sorted[rows++]);
	crm_report_free(r);
	CHECK_INT(rows, NWORDS);
	drop_non_c_db(db);
}

/* Definitions are listed by name in byte order too ("a1" < "a_b" < "ab";
 * en-US puts "_" before digits). */
TEST(test_collation__form_list_follows_bytes)
{
	crm_db *db = non_c_db();
	char *out = NULL;
	const char *a, *b, *c;

	test_apply(db, "[{\"form\":\"ab\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]},"
		       "{\"form\":\"a_b\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]},"
		       "{\"form\":\"a1\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}]");
	CHECK_OK(db, crm_form_list(db, &out));
	a = out ? strstr(out, "\"a1\"") : NULL;
	b = out ? strstr(out, "\"a_b\"") : NULL;
	c = out ? strstr(out, "\"ab\"") : NULL;
	CHECK(a && b && c && a < b && b < c);
	if (!(a && b && c && a < b && b < c))
		fprintf(stderr, "list: %s\n", out ? out : "(none)");
	crm_free(out);
	drop_non_c_db(db);
}

TEST_LIST(T(test_collation__sorting_and_keyset_paging_follow_bytes), T(test_collation__range_filters_follow_bytes),
	  T(test_collation__report_groups_follow_bytes), T(test_collation__form_list_follows_bytes))
