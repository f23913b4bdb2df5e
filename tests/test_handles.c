/* Handles and the objects that live on them (cursors, batches, report
 * cursors): closing in either order (close_v2 semantics), cursors that
 * outlive a migration of their form, and the one rule for U+0000 in text:
 * refused everywhere, so C strings stay exact. Run under ASan: the order
 * tests prove the absence of use-after-free and leaks. */
#include <unistd.h>

#include "core/db_int.h"
#include "helpers.h"
#include "script/script.h"
#include "test.h"

static const char deal_form[] =
	"{\"form\":\"deal\",\"fields\":[{\"name\":\"name\",\"type\":\"text\",\"unique\":true},"
	"{\"name\":\"note\",\"type\":\"text\"},{\"name\":\"score\",\"type\":\"integer\"},"
	"{\"name\":\"data\",\"type\":\"json\"},"
	"{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b\"]},"
	"{\"name\":\"region\",\"type\":\"enum\",\"options\":[\"north\",\"south\"]}]}";

static const char deal_report[] =
	"{\"report\":\"by_region\",\"source\":\"deal\",\"dimensions\":[{\"field\":\"region\"}],"
	"\"measures\":[{\"name\":\"deals\",\"agg\":\"count\"},{\"name\":\"score\",\"agg\":\"sum\",\"field\":\"score\"}],"
	"\"filter\":{\"field\":\"name\",\"op\":\"ne\",\"param\":\"skip\"},"
	"\"params\":{\"skip\":{\"type\":\"text\",\"default\":\"none\"}},"
	"\"order\":[{\"dimension\":\"region\"}]}";

/* Three deals: d1..d3, score 10/20/30, note left empty (a migration may
 * drop it without losing data), alternating regions. */
static crm_db *deal_db(const char *path)
{
	crm_db *db = NULL;

	if (crm_open(&db, path ? path : ":memory:", NULL) != CRM_OK) {
		fprintf(stderr, "cannot open: %s\n", crm_errmsg(db));
		exit(2);
	}
	crm_clock_set(db, INT64_C(1767323045000));
	test_apply(db, deal_form);
	test_apply(db, deal_report);
	for (int i = 1; i <= 3; i++) {
		char json[128];
		snprintf(json, sizeof json, "{\"name\":\"d%d\",\"score\":%d,\"region\":\"%s\"}", i, i * 10,
			 i % 2 ? "north" : "south");
		CHECK_OK(db, crm_record_insert(db, "deal", json, NULL));
	}
	return db;
}

/* A fresh directory under /tmp for file databases. */
static char dir_[64];
static const char *db_path(char *out, size_t size)
{
	snprintf(dir_, sizeof dir_, "/tmp/crm_test_handles_XXXXXX");
	if (!mkdtemp(dir_)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(out, size, "%s/h.db", dir_);
	return out;
}

static void rm_db(const char *path)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	char p[256];

	for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
		snprintf(p, sizeof p, "%s%s", path, ext[i]);
		unlink(p);
	}
	rmdir(dir_);
}

/* The deal form with one change applied: `fields` replaces the field list. */
static int migrate(crm_db *db, const char *fields)
{
	char json[1024];

	snprintf(json, sizeof json, "{\"form\":\"deal\",\"fields\":[%s]}",
		 fields);
	return crm_apply(db, json);
}

#define KEEP_TAIL                                                                                     \
	"{\"name\":\"data\",\"type\":\"json\"},{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b\"]}," \
	"{\"name\":\"region\",\"type\":\"enum\",\"options\":[\"north\",\"south\"]}"
#define NAME_FIELD "{\"name\":\"name\",\"type\":\"text\",\"unique\":true}"
#define NOTE_FIELD "{\"name\":\"note\",\"type\":\"text\"}"
#define SCORE_FIELD "{\"name\":\"score\",\"type\":\"integer\"}"

/* The migrations a cursor must survive or refuse: drop, rename, retype. */
static const char *const migrations[] = {
	NAME_FIELD "," SCORE_FIELD "," KEEP_TAIL,                                          /* drop note */
	NAME_FIELD "," NOTE_FIELD ",{\"id\":\"score\",\"name\":\"points\",\"type\":\"integer\"}," KEEP_TAIL, /* rename */
	NAME_FIELD "," NOTE_FIELD ",{\"name\":\"score\",\"type\":\"text\"}," KEEP_TAIL,   /* retype */
};
#define NMIGRATIONS (sizeof migrations / sizeof *migrations)

/* ---- point 10: cursors across migrations ---- */

/* Read the rest of the cursor: every row must carry its own values under
 * the right names, or the cursor must fail with CRM_ECONFLICT. */
static void check_rest_consistent_or_conflict(crm_db *db, crm_cursor *cur, int next_id)
{
	int rc;

	while ((rc = crm_cursor_next(cur)) == CRM_ROW) {
		char want[64];
		CHECK_INT(crm_cursor_int64(cur, 0), next_id);
		CHECK_STR(crm_cursor_column_name(cur, 1), "name");
		snprintf(want, sizeof want, "d%d", next_id);
		CHECK_STR(crm_cursor_text(cur, 1), want);
		CHECK_STR(crm_cursor_column_name(cur, 3), "score");
		CHECK_INT(crm_cursor_int64(cur, 3), next_id * 10);
		CHECK_STR(crm_cursor_column_name(cur, 2), "note");
		CHECK(crm_cursor_is_null(cur, 2));
		next_id++;
	}
	if (rc != CRM_DONE) {
		CHECK_INT(rc, CRM_ECONFLICT);
		CHECK_INT(crm_errcode(db), CRM_ECONFLICT);
		CHECK_HAS(crm_errmsg(db), "changed");
		CHECK_HAS(crm_errmsg(db), "run it again");
		/* failed for good, and nothing of the row is readable */
		CHECK_INT(crm_cursor_next(cur), CRM_ECONFLICT);
		CHECK(crm_cursor_json(cur) == NULL);
		CHECK(crm_cursor_text(cur, 1) == NULL);
	} else
		CHECK_INT(next_id, 4);
}

TEST(test_cursor__migration_on_same_handle_mid_read_fails_with_econflict)
{
	for (size_t m = 0; m < NMIGRATIONS; m++) {
		crm_db *db = deal_db(NULL);
		crm_cursor *cur = NULL;

		CHECK_OK(db, crm_query(&cur, db, "deal", NULL));
		CHECK_INT(crm_cursor_next(cur), CRM_ROW);
		CHECK_INT(crm_cursor_int64(cur, 0), 1);
		CHECK_OK(db, migrate(db, migrations[m]));
		/* The row in hand is not shown under old names either. */
		CHECK(crm_cursor_json(cur) == NULL);
		CHECK_INT(crm_errcode(db), CRM_ECONFLICT);
		CHECK_INT(crm_cursor_next(cur), CRM_ECONFLICT);
		CHECK_HAS(crm_errmsg(db), "form 'deal' changed");
		crm_cursor_free(cur);
		/* A new query sees the new definition. */
		CHECK_OK(db, crm_query(&cur, db, "deal", NULL));
		CHECK_INT(crm_cursor_next(cur), CRM_ROW);
		CHECK(crm_cursor_json(cur) != NULL);
		crm_cursor_free(cur);
		crm_close(db);
	}
}

TEST(test_cursor__migration_before_first_step_fails_with_econflict)
{
	for (size_t m = 0; m < NMIGRATIONS; m++) {
		crm_db *db = deal_db(NULL);
		crm_cursor *cur = NULL;

		CHECK_OK(db, crm_query(&cur, db, "deal", "{\"sort\":[\"name\"]}"));
		CHECK_OK(db, migrate(db, migrations[m]));
		check_rest_consistent_or_conflict(db, cur, 1);
		CHECK_INT(crm_errcode(db), CRM_ECONFLICT);
		crm_cursor_free(cur);
		crm_close(db);
	}
}

TEST(test_cursor__migration_by_another_handle_reads_snapshot_or_fails_clearly)
{
	for (size_t m = 0; m < NMIGRATIONS; m++) {
		for (int stepped = 0; stepped < 2; stepped++) {
			char path[128];
			crm_db *db = deal_db(db_path(path, sizeof path)), *other = NULL;
			crm_cursor *cur = NULL;

			CHECK_INT(crm_open(&other, path, NULL), CRM_OK);
			CHECK_OK(db, crm_query(&cur, db, "deal", NULL));
			if (stepped) {
				CHECK_INT(crm_cursor_next(cur), CRM_ROW);
				CHECK_INT(crm_cursor_int64(cur, 0), 1);
			}
			CHECK_OK(other, migrate(other, migrations[m]));
			check_rest_consistent_or_conflict(db, cur, stepped ? 2 : 1);
			crm_cursor_free(cur);
			crm_close(other);
			crm_close(db);
			rm_db(path);
		}
	}
}

TEST(test_cursor__refused_migration_mid_read_fails_with_econflict)
{
	crm_db *db = deal_db(NULL);
	crm_cursor *cur = NULL;

	CHECK_OK(db, crm_query(&cur, db, "deal", NULL));
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	/* scores are not booleans: refused after the table was touched, and
	 * SQLite aborts the open read when it rolls that back */
	CHECK_RC(db, migrate(db, NAME_FIELD "," NOTE_FIELD ",{\"name\":\"score\",\"type\":\"boolean\"}," KEEP_TAIL),
		 CRM_ECONSTRAINT);
	CHECK_INT(crm_cursor_next(cur), CRM_ECONFLICT);
	CHECK_HAS(crm_errmsg(db), "rolled back");
	CHECK_INT(crm_cursor_next(cur), CRM_ECONFLICT);
	crm_cursor_free(cur);
	crm_close(db);
}

TEST(test_cursor__change_to_another_form_leaves_cursor_reading)
{
	crm_db *db = deal_db(NULL);
	crm_cursor *cur = NULL;

	CHECK_OK(db, crm_query(&cur, db, "deal", NULL));
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	test_apply(db, "{\"form\":\"other\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}");
	CHECK_STR(crm_cursor_text(cur, 1), "d1");
	check_rest_consistent_or_conflict(db, cur, 2);
	CHECK_INT(crm_errcode(db), CRM_OK);
	crm_cursor_free(cur);
	crm_close(db);
}

TEST(test_report_cursor__source_form_change_fails_with_econflict)
{
	for (int stepped = 0; stepped < 2; stepped++) {
		crm_db *db = deal_db(NULL);
		crm_report *rep = NULL;

		CHECK_OK(db, crm_report_run(&rep, db, "by_region", NULL));
		if (stepped) {
			CHECK_INT(crm_report_next(rep), CRM_ROW);
			CHECK_STR(crm_report_text(rep, 0), "north");
		}
		/* a field the report does not read: the table is still rewritten */
		CHECK_OK(db, migrate(db, migrations[0]));
		if (stepped)
			CHECK(crm_report_json(rep) == NULL);
		CHECK_INT(crm_report_next(rep), CRM_ECONFLICT);
		CHECK_HAS(crm_errmsg(db), "form 'deal' changed");
		CHECK_INT(crm_report_next(rep), CRM_ECONFLICT);
		crm_report_free(rep);
		crm_close(db);
	}
}

TEST(test_report_cursor__report_change_keeps_reading_its_own_version)
{
	crm_db *db = deal_db(NULL);
	crm_report *rep = NULL;

	CHECK_OK(db, crm_report_run(&rep, db, "by_region", NULL));
	CHECK_INT(crm_report_next(rep), CRM_ROW);
	CHECK_OK(db, crm_apply(db, "{\"report\":\"by_region\",\"source\":\"deal\",\"dimensions\":[{\"field\":\"name\"}],"
				   "\"measures\":[{\"name\":\"deals\",\"agg\":\"count\"}]}"));
	CHECK_STR(crm_report_json(rep), "{\"region\":\"north\",\"deals\":2,\"score\":40}");
	CHECK_INT(crm_report_next(rep), CRM_ROW);
	CHECK_STR(crm_report_json(rep), "{\"region\":\"south\",\"deals\":1,\"score\":20}");
	CHECK_INT(crm_report_next(rep), CRM_DONE);
	crm_report_free(rep);
	crm_close(db);
}

/* ---- point 11: crm_close with children open (close_v2 semantics) ---- */

enum child_kind { K_CURSOR, K_REPORT, K_BATCH, K_COUNT };

/* Open one child of `kind` with work pending: a cursor or report cursor on
 * its first row, a batch with one uncommitted row. */
static void *open_child(crm_db *db, int kind)
{
	crm_cursor *cur = NULL;
	crm_report *rep = NULL;
	crm_batch *b = NULL;

	switch (kind) {
	case K_CURSOR:
		CHECK_OK(db, crm_query(&cur, db, "deal", NULL));
		CHECK_INT(crm_cursor_next(cur), CRM_ROW);
		return cur;
	case K_REPORT:
		CHECK_OK(db, crm_report_run(&rep, db, "by_region", NULL));
		CHECK_INT(crm_report_next(rep), CRM_ROW);
		return rep;
	default:
		CHECK_OK(db, crm_batch_begin(&b, db, "deal"));
		CHECK_OK(db, crm_batch_add(b, "{\"name\":\"uncommitted\"}", -1, NULL));
		return b;
	}
}

static void free_child(void *child, int kind)
{
	switch (kind) {
	case K_CURSOR: crm_cursor_free(child); break;
	case K_REPORT: crm_report_free(child); break;
	default: crm_batch_free(child);
	}
}

/* Every call on a child of a closed handle is CRM_EMISUSE and reads nothing. */
static void check_child_refuses(void *child, int kind)
{
	switch (kind) {
	case K_CURSOR:
		CHECK_INT(crm_cursor_next(child), CRM_EMISUSE);
		CHECK(crm_cursor_json(child) == NULL);
		CHECK(crm_cursor_text(child, 1) == NULL);
		CHECK(crm_cursor_token(child) == NULL);
		CHECK_INT(crm_cursor_int64(child, 0), 0);
		break;
	case K_REPORT:
		CHECK_INT(crm_report_next(child), CRM_EMISUSE);
		CHECK(crm_report_json(child) == NULL);
		CHECK(crm_report_text(child, 0) == NULL);
		break;
	default:
		CHECK_INT(crm_batch_add(child, "{\"name\":\"late\"}", -1, NULL), CRM_EMISUSE);
		CHECK_INT(crm_batch_commit(child), CRM_EMISUSE);
	}
}

TEST(test_close__with_each_child_open_then_free_child_is_safe)
{
	for (int kind = 0; kind < K_COUNT; kind++) {
		char path[128];
		crm_db *db = deal_db(db_path(path, sizeof path));
		void *child = open_child(db, kind), *second = kind == K_BATCH ? NULL : open_child(db, kind);
		int64_t n = -1;

		CHECK_INT(crm_close(db), CRM_OK);
		/* the handle is closed: calls on it fail, closing again too */
		CHECK_INT(crm_record_insert(db, "deal", "{\"name\":\"after\"}", NULL), CRM_EMISUSE);
		CHECK_INT(crm_count(db, "deal", NULL, &n), CRM_EMISUSE);
		CHECK_INT(crm_begin(db), CRM_EMISUSE);
		CHECK_INT(crm_close(db), CRM_EMISUSE);
		check_child_refuses(child, kind);
		free_child(child, kind);
		if (second) {
			check_child_refuses(second, kind);
			free_child(second, kind); /* the last child releases the handle */
		}
		/* the uncommitted batch was rolled back; nothing else was written */
		CHECK_INT(crm_open(&db, path, NULL), CRM_OK);
		CHECK_INT(crm_count(db, "deal", NULL, &n), CRM_OK);
		CHECK_INT(n, 3);
		crm_close(db);
		rm_db(path);
	}
}

TEST(test_close__after_freeing_each_child_is_clean)
{
	for (int kind = 0; kind < K_COUNT; kind++) {
		crm_db *db = deal_db(NULL);
		void *child = open_child(db, kind);

		free_child(child, kind);
		CHECK_INT(crm_close(db), CRM_OK);
	}
}

TEST(test_close__mixed_children_freed_in_any_order)
{
	crm_db *db = deal_db(NULL);
	void *cur = open_child(db, K_CURSOR), *rep = open_child(db, K_REPORT);
	crm_cursor *done = NULL;

	/* a cursor read to its end and one not started */
	CHECK_OK(db, crm_query(&done, db, "deal", NULL));
	while (crm_cursor_next(done) == CRM_ROW)
		;
	free_child(cur, K_CURSOR);
	CHECK_INT(crm_close(db), CRM_OK);
	CHECK_INT(crm_cursor_next(done), CRM_EMISUSE);
	crm_cursor_free(done);
	check_child_refuses(rep, K_REPORT);
	CHECK_STR(crm_report_column_name(rep, 0), "region");
	free_child(rep, K_REPORT);
}

/* ---- point 15: U+0000 refused in every text value ---- */

static void check_nul_refused(crm_db *db, int rc, const char *field)
{
	char want[64];

	CHECK_INT(rc, CRM_ECONSTRAINT);
	snprintf(want, sizeof want, "{\"field\":\"%s\",\"code\":\"nul\"", field);
	CHECK_HAS(crm_errdetail(db), want);
}

TEST(test_nul__record_writes_refuse_it_on_every_path)
{
	crm_db *db = deal_db(NULL);
	int64_t *ids = NULL;
	size_t n = 0;
	crm_batch *b = NULL;
	static const char raw_nul[] = "{\"name\":\"a\0b\"}";

	check_nul_refused(db, crm_record_insert(db, "deal", "{\"name\":\"a\\u0000b\"}", NULL), "name");
	check_nul_refused(db, crm_record_insert(db, "deal", "{\"name\":\"\\u0000\"}", NULL), "name");
	check_nul_refused(db, crm_record_update(db, "deal", 1, "{\"note\":\"x\\u0000\"}", 0), "note");
	check_nul_refused(db, crm_record_upsert(db, "deal", "name", "{\"name\":\"d1\",\"note\":\"\\u0000\"}", NULL, NULL),
			  "note");
	check_nul_refused(db, crm_record_upsert(db, "deal", "name", "{\"name\":\"d9\\u0000\"}", NULL, NULL), "name");
	check_nul_refused(db, crm_record_insert(db, "deal", "{\"tags\":[\"a\\u0000\"]}", NULL), "tags");
	check_nul_refused(db, crm_record_insert(db, "deal", "{\"region\":\"north\\u0000\"}", NULL), "region");
	check_nul_refused(db, crm_record_insert(db, "deal", "{\"owner\":\"ann\\u0000\"}", NULL), "owner");
	/* JSON values: not even escaped inside the JSON text (PostgreSQL jsonb refuses it too) */
	check_nul_refused(db, crm_record_insert(db, "deal", "{\"data\":{\"k\":\"\\u0000\"}}", NULL), "data");
	check_nul_refused(db, crm_record_insert(db, "deal", "{\"data\":{\"\\u0000\":1}}", NULL), "data");
	check_nul_refused(db, crm_record_insert(db, "deal", "{\"data\":\"\\u0000\"}", NULL), "data");
	/* an unknown key with a NUL is named up to it, not cut silently */
	CHECK_RC(db, crm_record_insert(db, "deal", "{\"na\\u0000me\":\"x\"}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"nul\"");
	/* batches and insert_many report it per row */
	CHECK_OK(db, crm_batch_begin(&b, db, "deal"));
	CHECK_OK(db, crm_batch_add(b, "{\"name\":\"ok\"}", -1, NULL));
	check_nul_refused(db, crm_batch_add(b, "{\"name\":\"\\u0000\"}", -1, NULL), "name");
	CHECK_RC(db, crm_batch_commit(b), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"index\":1");
	crm_batch_free(b);
	CHECK_RC(db, crm_record_insert_many(db, "deal", "[{\"name\":\"x\"},{\"note\":\"\\u0000\"}]", &ids, &n),
		 CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"nul\"");
	CHECK(ids == NULL);
	/* a raw NUL byte in length-given input is not JSON */
	CHECK_OK(db, crm_batch_begin(&b, db, "deal"));
	CHECK_RC(db, crm_batch_add(b, raw_nul, (ptrdiff_t)sizeof raw_nul - 1, NULL), CRM_EINVAL);
	crm_batch_free(b);
	/* nothing was written by any of them */
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal"), 3);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal WHERE note IS NOT NULL"), 0);
	crm_close(db);
}

TEST(test_nul__escaped_backslash_u0000_is_ordinary_text)
{
	crm_db *db = deal_db(NULL);
	crm_cursor *cur = NULL;
	int64_t id = 0, n = 0;

	/* the six characters \u0000, not U+0000 */
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"name\":\"\\\\u0000\",\"data\":{\"k\":\"\\\\u0000\"}}", &id));
	CHECK_OK(db, crm_count(db, "deal", "{\"filter\":{\"field\":\"name\",\"op\":\"eq\",\"value\":\"\\\\u0000\"}}", &n));
	CHECK_INT(n, 1);
	CHECK_OK(db, crm_query(&cur, db, "deal", "{\"filter\":{\"field\":\"id\",\"op\":\"eq\",\"value\":4}}"));
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	CHECK_STR(crm_cursor_text(cur, 1), "\\u0000");
	CHECK_HAS(crm_cursor_json(cur), "\"name\":\"\\\\u0000\"");
	crm_cursor_free(cur);
	crm_close(db);
}

TEST(test_nul__filter_values_are_refused_not_cut)
{
	static const char *const queries[] = {
		"{\"filter\":{\"field\":\"name\",\"op\":\"eq\",\"value\":\"a\\u0000b\"}}",
		"{\"filter\":{\"field\":\"name\",\"op\":\"contains\",\"value\":\"\\u0000zzz\"}}",
		"{\"filter\":{\"field\":\"name\",\"op\":\"starts_with\",\"value\":\"d\\u0000\"}}",
		"{\"filter\":{\"field\":\"name\",\"op\":\"in\",\"value\":[\"d1\",\"\\u0000\"]}}",
		"{\"filter\":{\"field\":\"name\\u0000x\",\"op\":\"eq\",\"value\":\"d1\"}}",
		"{\"sort\":[\"name\\u0000\"]}",
	};
	crm_db *db = deal_db(NULL);
	int64_t n = -1;

	for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
		crm_cursor *cur = NULL;
		CHECK_RC(db, crm_count(db, "deal", queries[i], &n), CRM_EINVAL);
		CHECK_HAS(crm_errmsg(db), "U+0000");
		CHECK(crm_erroffset(db) > 0);
		CHECK_RC(db, crm_query(&cur, db, "deal", queries[i]), CRM_EINVAL);
		CHECK(cur == NULL);
	}
	crm_close(db);
}

TEST(test_nul__report_params_metadata_and_decisions_are_refused)
{
	crm_db *db = deal_db(NULL);
	crm_report *rep = NULL;
	char *out = NULL;

	CHECK_RC(db, crm_report_run(&rep, db, "by_region", "{\"skip\":\"d1\\u0000\"}"), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "U+0000");
	CHECK(rep == NULL);
	CHECK_RC(db, crm_report_drill(db, "by_region", NULL, "{\"region\":\"north\\u0000\"}", &out), CRM_EINVAL);
	CHECK(out == NULL);
	/* names and labels in metadata */
	CHECK_RC(db, crm_apply(db, "{\"form\":\"x\\u0000y\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}"), CRM_EINVAL);
	CHECK_RC(db, crm_apply(db, "{\"form\":\"x\",\"label\":\"X\\u0000\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}"),
		 CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "U+0000");
	CHECK_RC(db, crm_apply(db, "{\"form\":\"x\",\"fields\":[{\"name\":\"a\",\"type\":\"enum\",\"options\":[\"p\\u0000\"]}]}"),
		 CRM_EINVAL);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_meta WHERE name LIKE 'x%'"), 0);
	test_apply(db, "{\"decision\":\"route\",\"inputs\":[\"region\"],\"outputs\":[\"owner\"],\"hit\":\"first\","
		       "\"rules\":[{\"when\":{\"region\":\"north\"},\"then\":{\"owner\":\"ann\"}}]}");
	CHECK_RC(db, crm_decision_eval(db, "route", "{\"region\":\"north\\u0000\"}", &out), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "U+0000");
	CHECK(out == NULL);
	crm_close(db);
}

/* Run Lua `src` inside a transaction, as the engines call scripts. */
static int run_lua(crm_db *db, const char *src)
{
	int rc;

	if ((rc = crm__tx_begin(db)))
		return rc;
	rc = crm__lua_compile(db, "test", src, 0);
	if (rc == CRM_OK)
		rc = crm__lua_call(db, 0, 0);
	return crm__tx_end(db, rc);
}

TEST(test_nul__lua_create_and_update_refuse_it)
{
	crm_db *db = deal_db(NULL);

	CHECK_RC(db, run_lua(db, "crm.create('deal', {name = 'a\\0b'})"), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"nul\"");
	CHECK_RC(db, run_lua(db, "crm.update('deal', 1, {note = '\\0'})"), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"nul\"");
	CHECK_RC(db, run_lua(db, "crm.find('deal', {filter = {field = 'name', op = 'eq', value = 'd1\\0'}})"), CRM_EINVAL);
	CHECK_RC(db, run_lua(db, "crm.create('deal\\0x', {name = 'z'})"), CRM_EINVAL);
	CHECK_RC(db, run_lua(db, "crm.emit('ping', {text = 'a\\0'})"), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "U+0000");
	CHECK_RC(db, run_lua(db, "crm.emit('pi\\0ng')"), CRM_EINVAL);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event WHERE type NOT LIKE 'crm.%'"), 0);
	/* a computed field's script returning one is the script's failure */
	test_apply(db, "{\"form\":\"calc\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"},"
		       "{\"name\":\"c\",\"type\":\"computed\",\"returns\":\"text\",\"lua\":\"return 'x\\\\0y'\"}]}");
	CHECK_RC(db, crm_record_insert(db, "calc", "{\"a\":\"b\"}", NULL), CRM_ESCRIPT);
	CHECK_HAS(crm_errmsg(db), "U+0000");
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal"), 3);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM deal WHERE note IS NOT NULL"), 0);
	crm_close(db);
}

TEST_LIST(T(test_cursor__migration_on_same_handle_mid_read_fails_with_econflict),
	  T(test_cursor__migration_before_first_step_fails_with_econflict),
	  T(test_cursor__migration_by_another_handle_reads_snapshot_or_fails_clearly),
	  T(test_cursor__refused_migration_mid_read_fails_with_econflict),
	  T(test_cursor__change_to_another_form_leaves_cursor_reading),
	  T(test_report_cursor__source_form_change_fails_with_econflict),
	  T(test_report_cursor__report_change_keeps_reading_its_own_version),
	  T(test_close__after_freeing_each_child_is_clean), T(test_close__mixed_children_freed_in_any_order),
	  T(test_close__with_each_child_open_then_free_child_is_safe),
	  T(test_nul__record_writes_refuse_it_on_every_path), T(test_nul__escaped_backslash_u0000_is_ordinary_text),
	  T(test_nul__filter_values_are_refused_not_cut), T(test_nul__report_params_metadata_and_decisions_are_refused),
	  T(test_nul__lua_create_and_update_refuse_it))
