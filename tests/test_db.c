/* The database handle: open/close, errors, clock, actor, limits and host
 * transactions (docs/metadata.md, include/crm/db.h). */
#include <stdlib.h>
#include <unistd.h>
#include <sqlite3.h>

#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

static const char lead_form[] =
	"{\"form\":\"lead\",\"fields\":["
	"{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"phone\",\"type\":\"phone\",\"unique\":true}]}";

/* A fresh directory under /tmp for file databases; rm_db_files removes it. */
static char temp_dir_[64];
static char *temp_dir(void)
{
	snprintf(temp_dir_, sizeof temp_dir_, "/tmp/crm_test_db_XXXXXX");
	if (!mkdtemp(temp_dir_)) {
		perror("mkdtemp");
		exit(2);
	}
	return temp_dir_;
}

/* Remove the database at `path`, its WAL files and the temporary directory. */
static void rm_db_files(const char *path)
{
	char p[256];

	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-journal", path);
	unlink(p);
	rmdir(temp_dir_);
}

/* The text of a one-row, one-column query (static buffer). */
static const char *sql_text(crm_db *db, const char *sql)
{
	static char out[256];
	crm__stmt *st;

	out[0] = 0;
	if (db->be->prepare(db, sql, strlen(sql), &st) != CRM_OK)
		return "(prepare failed)";
	if (crm__step(st) == CRM_ROW && crm__column_text(st, 0))
		snprintf(out, sizeof out, "%s", crm__column_text(st, 0));
	crm__finalize(st);
	return out;
}

static int64_t count_rows(crm_db *db, const char *form)
{
	int64_t n = -1;

	if (crm_count(db, form, NULL, &n) != CRM_OK)
		return -1;
	return n;
}

TEST(test_db__open_memory_succeeds_and_closes)
{
	crm_db *db = NULL;

	CHECK_INT(crm_open(&db, ":memory:", NULL), CRM_OK);
	CHECK(db != NULL);
	CHECK_INT(crm_errcode(db), CRM_OK);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('crm_meta','crm_state')"), 2);
	CHECK_INT(crm_close(db), CRM_OK);
}

TEST(test_db__open_file_uses_wal_and_keeps_data_across_handles)
{
	char path[128];
	crm_db *db = NULL;
	int64_t id = 0;

	snprintf(path, sizeof path, "%s/a.db", temp_dir());
	CHECK_INT(crm_open(&db, path, NULL), CRM_OK);
	CHECK_STR(sql_text(db, "PRAGMA journal_mode"), "wal");
	CHECK_INT(test_sql_int(db, "PRAGMA synchronous"), 1); /* NORMAL */
	test_apply(db, lead_form);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"Ann\"}", &id));
	CHECK_INT(id, 1);
	CHECK_INT(crm_close(db), CRM_OK);

	db = NULL;
	CHECK_INT(crm_open(&db, path, NULL), CRM_OK);
	CHECK_STR(sql_text(db, "PRAGMA journal_mode"), "wal");
	CHECK_HAS(test_get(db, "lead", 1), "\"name\":\"Ann\"");
	CHECK_INT(crm_close(db), CRM_OK);
	rm_db_files(path);
}

TEST(test_db__open_unwritable_path_fails_with_message_and_handle_closes)
{
	crm_db *db = NULL;
	int rc = crm_open(&db, "/proc/x/y.db", NULL);

	CHECK(rc != CRM_OK);
	CHECK_INT(rc, CRM_EIO);
	CHECK(db != NULL);
	if (db) {
		CHECK_INT(crm_errcode(db), rc);
		CHECK(crm_errmsg(db)[0] != 0);
		CHECK_HAS(crm_errmsg(db), "/proc/x/y.db");
		CHECK_HAS(crm_errdetail(db), "\"code\":\"CRM_EIO\"");
	}
	CHECK_INT(crm_close(db), CRM_OK);
}

TEST(test_db__open_rejects_null_arguments_and_bad_options_version)
{
	crm_db *db = (crm_db *)&db;
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;

	CHECK_INT(crm_open(NULL, ":memory:", NULL), CRM_EMISUSE);
	CHECK_INT(crm_open(&db, NULL, NULL), CRM_EMISUSE);
	CHECK(db == NULL);
	o.version = 99;
	db = (crm_db *)&db;
	CHECK_INT(crm_open(&db, ":memory:", &o), CRM_EMISUSE);
	CHECK(db == NULL);
}

TEST(test_db__close_null_is_fine)
{
	CHECK_INT(crm_close(NULL), CRM_OK);
}

TEST(test_db__errstr_names_every_code)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{ CRM_OK, "CRM_OK" },
		{ CRM_ERROR, "CRM_ERROR" },
		{ CRM_EINVAL, "CRM_EINVAL" },
		{ CRM_ENOTFOUND, "CRM_ENOTFOUND" },
		{ CRM_ECONFLICT, "CRM_ECONFLICT" },
		{ CRM_ECONSTRAINT, "CRM_ECONSTRAINT" },
		{ CRM_EPERM, "CRM_EPERM" },
		{ CRM_ESCRIPT, "CRM_ESCRIPT" },
		{ CRM_EBUSY, "CRM_EBUSY" },
		{ CRM_ENOMEM, "CRM_ENOMEM" },
		{ CRM_EIO, "CRM_EIO" },
		{ CRM_ELIMIT, "CRM_ELIMIT" },
		{ CRM_EMISUSE, "CRM_EMISUSE" },
		{ CRM_EEXISTS, "CRM_EEXISTS" },
		{ CRM_ROW, "CRM_ROW" },
		{ CRM_DONE, "CRM_DONE" },
	};

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		CHECK_STR(crm_errstr(names[i].code), names[i].name);
	CHECK_STR(crm_errstr(-1), "CRM_UNKNOWN");
	CHECK_STR(crm_errstr(14), "CRM_UNKNOWN");
	CHECK_STR(crm_errstr(99), "CRM_UNKNOWN");
	CHECK_STR(crm_errstr(102), "CRM_UNKNOWN");
}

TEST(test_db__errmsg_empty_and_detail_empty_object_after_success)
{
	crm_db *db = test_db();

	test_apply(db, lead_form);
	CHECK_STR(crm_errmsg(db), "");
	CHECK_STR(crm_errdetail(db), "{}");
	CHECK_INT(crm_erroffset(db), -1);
	/* A failure sets them... */
	CHECK_RC(db, crm_record_insert(db, "lead", "{}", NULL), CRM_ECONSTRAINT);
	CHECK_INT(crm_errcode(db), CRM_ECONSTRAINT);
	CHECK(crm_errmsg(db)[0] != 0);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"CRM_ECONSTRAINT\"");
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":", NULL), CRM_EINVAL);
	CHECK(crm_erroffset(db) >= 0);
	/* ...and the next successful call clears them. */
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"x\"}", NULL));
	CHECK_INT(crm_errcode(db), CRM_OK);
	CHECK_STR(crm_errmsg(db), "");
	CHECK_STR(crm_errdetail(db), "{}");
	CHECK_INT(crm_erroffset(db), -1);
	crm_close(db);
}

TEST(test_db__error_accessors_accept_null_handle)
{
	CHECK_INT(crm_errcode(NULL), CRM_EMISUSE);
	CHECK(crm_errmsg(NULL) != NULL);
	CHECK_HAS(crm_errdetail(NULL), "CRM_EMISUSE");
	CHECK_INT(crm_erroffset(NULL), -1);
}

TEST(test_db__clock_set_controls_created_and_updated_at_exactly)
{
	crm_db *db = test_db();
	int64_t id = 0;

	test_apply(db, lead_form);
	CHECK_INT(crm_now(db), INT64_C(1767323045000));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"Ann\"}", &id));
	CHECK_HAS(test_get(db, "lead", id), "\"created_at\":\"2026-01-02T03:04:05.000Z\"");
	CHECK_HAS(test_get(db, "lead", id), "\"updated_at\":\"2026-01-02T03:04:05.000Z\"");
	CHECK_INT(test_sql_int(db, "SELECT created_at FROM lead WHERE id=1"), INT64_C(1767323045000));

	CHECK_OK(db, crm_clock_set(db, INT64_C(1767323045000) + 86400000 + 1234));
	CHECK_INT(crm_now(db), INT64_C(1767323045000) + 86400000 + 1234);
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"name\":\"Bea\"}", 0));
	CHECK_HAS(test_get(db, "lead", id), "\"created_at\":\"2026-01-02T03:04:05.000Z\"");
	CHECK_HAS(test_get(db, "lead", id), "\"updated_at\":\"2026-01-03T03:04:06.234Z\"");
	CHECK_INT(test_sql_int(db, "SELECT updated_at FROM lead WHERE id=1"), INT64_C(1767323045000) + 86400000 + 1234);
	CHECK_INT(test_sql_int(db, "SELECT created_at FROM lead WHERE id=1"), INT64_C(1767323045000));
	/* A negative time is refused and leaves the clock as it was. */
	CHECK_INT(crm_clock_set(db, -1), CRM_EMISUSE);
	CHECK_INT(crm_now(db), INT64_C(1767323045000) + 86400000 + 1234);
	CHECK_INT(crm_clock_set(NULL, 0), CRM_EMISUSE);
	crm_close(db);
}

static int64_t ticking_clock(void *payload)
{
	int64_t *t = payload;

	return (*t)++;
}

TEST(test_db__clock_set_fn_callback_supplies_time)
{
	crm_db *db = test_db();
	int64_t t = INT64_C(1000000000000), id = 0; /* 2001-09-09T01:46:40.000Z */
	int64_t now;

	test_apply(db, lead_form);
	CHECK_OK(db, crm_clock_set_fn(db, ticking_clock, &t));
	CHECK_INT(crm_now(db), INT64_C(1000000000000));
	CHECK_INT(t, INT64_C(1000000000001));
	t = INT64_C(1000000000000);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"Ann\"}", &id));
	CHECK_INT(test_sql_int(db, "SELECT created_at FROM lead WHERE id=1"), INT64_C(1000000000000));
	CHECK_INT(test_sql_int(db, "SELECT updated_at FROM lead WHERE id=1"), INT64_C(1000000000000));
	CHECK_HAS(test_get(db, "lead", id), "\"created_at\":\"2001-09-09T01:46:40.000Z\"");
	t = INT64_C(1000000005000);
	CHECK_OK(db, crm_record_update(db, "lead", id, "{\"name\":\"Bea\"}", 0));
	CHECK_INT(test_sql_int(db, "SELECT updated_at FROM lead WHERE id=1"), INT64_C(1000000005000));
	CHECK_INT(test_sql_int(db, "SELECT created_at FROM lead WHERE id=1"), INT64_C(1000000000000));
	/* crm_clock_set overrides the callback; NULL goes back to the system clock. */
	CHECK_OK(db, crm_clock_set(db, 42));
	CHECK_INT(crm_now(db), 42);
	CHECK_OK(db, crm_clock_set_fn(db, NULL, NULL));
	now = crm_now(db);
	CHECK(now > INT64_C(1600000000000)); /* after 2020: the real clock */
	CHECK_INT(crm_clock_set_fn(NULL, ticking_clock, &t), CRM_EMISUSE);
	crm_close(db);
}

TEST(test_db__actor_set_makes_new_records_owned_by_user)
{
	crm_db *db = test_db();
	int64_t a = 0, b = 0, c = 0;

	test_apply(db, lead_form);
	CHECK(crm_actor_get(db) == NULL);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"nobody's\"}", &a));
	CHECK_HAS(test_get(db, "lead", a), "\"owner\":null");
	CHECK_OK(db, crm_actor_set(db, "alice", "sales,admin"));
	CHECK_STR(crm_actor_get(db), "alice");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"alice's\"}", &b));
	CHECK_HAS(test_get(db, "lead", b), "\"owner\":\"alice\"");
	/* Updating as someone else does not change the owner. */
	CHECK_OK(db, crm_actor_set(db, "bob", NULL));
	CHECK_OK(db, crm_record_update(db, "lead", b, "{\"name\":\"still alice's\"}", 0));
	CHECK_HAS(test_get(db, "lead", b), "\"owner\":\"alice\"");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"bob's\"}", &c));
	CHECK_HAS(test_get(db, "lead", c), "\"owner\":\"bob\"");
	CHECK_OK(db, crm_actor_set(db, NULL, NULL));
	CHECK(crm_actor_get(db) == NULL);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"again nobody's\"}", &c));
	CHECK_HAS(test_get(db, "lead", c), "\"owner\":null");
	CHECK_INT(crm_actor_set(NULL, "x", NULL), CRM_EMISUSE);
	CHECK(crm_actor_get(NULL) == NULL);
	crm_close(db);
}

TEST(test_db__limit_returns_old_values_and_rejects_bad_ids)
{
	crm_db *db = test_db();

	CHECK_INT(crm_limit(db, CRM_LIMIT_REGEX_MATCH, -1), 100000);
	CHECK_INT(crm_limit(db, CRM_LIMIT_REGEX_DEPTH, -1), 1000);
	CHECK_INT(crm_limit(db, CRM_LIMIT_VALUE_LENGTH, -1), 1 << 20);
	CHECK_INT(crm_limit(db, CRM_LIMIT_JSON_DEPTH, -1), 64);
	CHECK_INT(crm_limit(db, CRM_LIMIT_BATCH_ERRORS, -1), 100);
	CHECK_INT(crm_limit(db, CRM_LIMIT_LUA_INSTRUCTIONS, -1), 1000000);
	CHECK_INT(crm_limit(db, CRM_LIMIT_LUA_MEMORY, -1), 64 << 20);
	/* Setting returns the previous value; reading with -1 changes nothing. */
	CHECK_INT(crm_limit(db, CRM_LIMIT_BATCH_ERRORS, 7), 100);
	CHECK_INT(crm_limit(db, CRM_LIMIT_BATCH_ERRORS, -1), 7);
	CHECK_INT(crm_limit(db, CRM_LIMIT_BATCH_ERRORS, 0), 7);
	CHECK_INT(crm_limit(db, CRM_LIMIT_BATCH_ERRORS, 100), 0);
	CHECK_INT(crm_limit(db, CRM_LIMIT_BATCH_ERRORS, -1), 100);
	/* Bad ids. */
	CHECK_INT(crm_limit(db, -1, 5), -1);
	CHECK_INT(crm_limit(db, CRM_LIMIT_COUNT_, 5), -1);
	CHECK_INT(crm_limit(db, 1000, -1), -1);
	CHECK_INT(crm_limit(NULL, CRM_LIMIT_REGEX_MATCH, -1), -1);
	crm_close(db);
}

TEST(test_db__limit_value_length_applies_to_writes)
{
	crm_db *db = test_db();

	test_apply(db, lead_form);
	CHECK_INT(crm_limit(db, CRM_LIMIT_VALUE_LENGTH, 4), 1 << 20);
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"abcde\"}", NULL), CRM_ECONSTRAINT);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"too_long\"");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"abcd\"}", NULL));
	crm_close(db);
}

TEST(test_db__begin_commit_groups_two_inserts)
{
	crm_db *db = test_db();
	int64_t a = 0, b = 0;

	test_apply(db, lead_form);
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", &a));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"B\"}", &b));
	CHECK(db->be->in_transaction(db)); /* still inside the host transaction */
	CHECK_OK(db, crm_commit(db));
	CHECK(!db->be->in_transaction(db));
	CHECK_INT(count_rows(db, "lead"), 2);
	CHECK_HAS(test_get(db, "lead", a), "\"name\":\"A\"");
	CHECK_HAS(test_get(db, "lead", b), "\"name\":\"B\"");
	crm_close(db);
}

TEST(test_db__begin_rollback_undoes_both_inserts)
{
	crm_db *db = test_db();
	int64_t a = 0, b = 0;

	test_apply(db, lead_form);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"before\"}", NULL));
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", &a));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"B\"}", &b));
	CHECK_INT(count_rows(db, "lead"), 3);
	CHECK_OK(db, crm_rollback(db));
	CHECK_INT(count_rows(db, "lead"), 1);
	CHECK(test_get(db, "lead", a) == NULL);
	CHECK(test_get(db, "lead", b) == NULL);
	CHECK_HAS(test_get(db, "lead", 1), "\"name\":\"before\"");
	/* The handle is usable again, and a new transaction can start. */
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_commit(db));
	crm_close(db);
}

TEST(test_db__rollback_undoes_form_definition_too)
{
	crm_db *db = test_db();
	char *list = NULL;

	CHECK_OK(db, crm_begin(db));
	test_apply(db, lead_form);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", NULL));
	CHECK_OK(db, crm_rollback(db));
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", NULL), CRM_ENOTFOUND);
	CHECK_OK(db, crm_form_list(db, &list));
	CHECK_STR(list, "[]");
	crm_free(list);
	crm_close(db);
}

TEST(test_db__nested_begin_is_misuse)
{
	crm_db *db = test_db();

	test_apply(db, lead_form);
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", NULL));
	CHECK_RC(db, crm_begin(db), CRM_EMISUSE);
	CHECK_INT(crm_errcode(db), CRM_EMISUSE);
	/* The outer transaction is still open and commits what it holds. */
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(count_rows(db, "lead"), 1);
	crm_close(db);
}

TEST(test_db__commit_or_rollback_without_begin_is_misuse)
{
	crm_db *db = test_db();

	CHECK_RC(db, crm_commit(db), CRM_EMISUSE);
	CHECK_HAS(crm_errmsg(db), "no transaction");
	CHECK_RC(db, crm_rollback(db), CRM_EMISUSE);
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_commit(db));
	CHECK_RC(db, crm_commit(db), CRM_EMISUSE);
	CHECK_INT(crm_begin(NULL), CRM_EMISUSE);
	CHECK_INT(crm_commit(NULL), CRM_EMISUSE);
	CHECK_INT(crm_rollback(NULL), CRM_EMISUSE);
	crm_close(db);
}

TEST(test_db__failing_write_in_host_transaction_keeps_earlier_writes)
{
	crm_db *db = test_db();
	int64_t a = 0, b = 0;

	test_apply(db, lead_form);
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\",\"phone\":\"13800000000\"}", &a));
	/* duplicate phone: refused by the unique index */
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"name\":\"B\",\"phone\":\"13800000000\"}", NULL),
		 CRM_ECONSTRAINT);
	/* required name missing: refused by validation */
	CHECK_RC(db, crm_record_insert(db, "lead", "{\"phone\":\"13800000001\"}", NULL), CRM_ECONSTRAINT);
	/* failing update of the first record leaves it as it was */
	CHECK_RC(db, crm_record_update(db, "lead", a, "{\"name\":null}", 0), CRM_ECONSTRAINT);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"C\"}", &b));
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(count_rows(db, "lead"), 2);
	CHECK_HAS(test_get(db, "lead", a), "\"name\":\"A\"");
	CHECK_HAS(test_get(db, "lead", a), "\"version\":1");
	CHECK_HAS(test_get(db, "lead", b), "\"name\":\"C\"");
	crm_close(db);
}

TEST(test_db__failing_apply_in_host_transaction_keeps_earlier_writes)
{
	crm_db *db = test_db();

	CHECK_OK(db, crm_begin(db));
	test_apply(db, lead_form);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", NULL));
	CHECK_RC(db, crm_apply(db, "{\"form\":\"bad\",\"fields\":[{\"name\":\"x\",\"type\":\"nope\"}]}"), CRM_EINVAL);
	CHECK_OK(db, crm_commit(db));
	CHECK_INT(count_rows(db, "lead"), 1);
	crm_close(db);
}

TEST(test_db__libversion_matches_header)
{
	CHECK_INT(crm_libversion_number(), CRM_VERSION_NUMBER);
	CHECK_STR(crm_libversion(), CRM_VERSION);
}

TEST(test_db__locked_file_gives_ebusy_after_timeout_then_succeeds)
{
	char path[128];
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	crm_db *a = NULL, *b = NULL;
	int64_t id = 0;

	o.busy_timeout_ms = 50;
	snprintf(path, sizeof path, "%s/busy.db", temp_dir());
	CHECK_INT(crm_open(&a, path, &o), CRM_OK);
	CHECK_INT(crm_open(&b, path, &o), CRM_OK);
	test_apply(a, lead_form);
	/* b sees the form a defined */
	CHECK_OK(b, crm_record_insert(b, "lead", "{\"name\":\"from b\"}", &id));
	CHECK_INT(id, 1);

	CHECK_OK(a, crm_begin(a));
	CHECK_OK(a, crm_record_insert(a, "lead", "{\"name\":\"from a\"}", NULL));
	CHECK_RC(b, crm_record_insert(b, "lead", "{\"name\":\"blocked\"}", NULL), CRM_EBUSY);
	CHECK_INT(crm_errcode(b), CRM_EBUSY);
	CHECK_HAS(crm_errdetail(b), "CRM_EBUSY");
	/* b's reads still work beside a's writer (WAL). */
	CHECK_HAS(test_get(b, "lead", 1), "from b");
	CHECK_OK(a, crm_commit(a));

	CHECK_OK(b, crm_record_insert(b, "lead", "{\"name\":\"unblocked\"}", &id));
	CHECK_INT(id, 3);
	CHECK_INT(count_rows(b, "lead"), 3);
	CHECK_INT(count_rows(a, "lead"), 3);
	CHECK_HAS(test_get(a, "lead", 3), "unblocked");
	crm_close(b);
	crm_close(a);
	rm_db_files(path);
}

TEST(test_db__metadata_change_by_another_handle_is_seen)
{
	char path[128];
	crm_db *a = NULL, *b = NULL;

	snprintf(path, sizeof path, "%s/meta.db", temp_dir());
	CHECK_INT(crm_open(&a, path, NULL), CRM_OK);
	CHECK_INT(crm_open(&b, path, NULL), CRM_OK);
	test_apply(a, lead_form);
	CHECK_OK(b, crm_record_insert(b, "lead", "{\"name\":\"one\",\"phone\":\"13800000000\"}", NULL));
	/* a renames phone to mobile: b's cached form must not be used any more */
	test_apply(a, "{\"form\":\"lead\",\"fields\":["
		      "{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
		      "{\"id\":\"phone\",\"name\":\"mobile\",\"type\":\"phone\",\"unique\":true}]}");
	CHECK_OK(b, crm_record_insert(b, "lead", "{\"name\":\"two\",\"mobile\":\"13800000001\"}", NULL));
	CHECK_RC(b, crm_record_insert(b, "lead", "{\"name\":\"three\",\"phone\":\"13800000002\"}", NULL),
		 CRM_ECONSTRAINT);
	CHECK_HAS(test_get(b, "lead", 1), "\"mobile\":\"13800000000\"");
	CHECK_HAS(test_get(a, "lead", 2), "\"mobile\":\"13800000001\"");
	crm_close(b);
	crm_close(a);
	rm_db_files(path);
}

TEST(test_db__readonly_handle_reads_but_cannot_write)
{
	char path[128];
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	crm_db *db = NULL;
	int rc;

	snprintf(path, sizeof path, "%s/ro.db", temp_dir());
	CHECK_INT(crm_open(&db, path, NULL), CRM_OK);
	test_apply(db, lead_form);
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"kept\"}", NULL));
	crm_close(db);

	o.flags = CRM_OPEN_READONLY;
	db = NULL;
	CHECK_INT(crm_open(&db, path, &o), CRM_OK);
	CHECK_HAS(test_get(db, "lead", 1), "\"name\":\"kept\"");
	rc = crm_record_insert(db, "lead", "{\"name\":\"new\"}", NULL);
	CHECK(rc != CRM_OK);
	CHECK_INT(crm_errcode(db), rc);
	CHECK(crm_errmsg(db)[0] != 0);
	CHECK(crm_apply(db, "{\"form\":\"other\",\"fields\":[{\"name\":\"x\",\"type\":\"text\"}]}") != CRM_OK);
	CHECK_HAS(test_get(db, "lead", 1), "\"name\":\"kept\"");
	CHECK(test_get(db, "lead", 2) == NULL);
	crm_close(db);
	rm_db_files(path);

	/* read-only open of a missing file fails and creates nothing */
	snprintf(path, sizeof path, "%s/missing.db", temp_dir());
	db = NULL;
	CHECK(crm_open(&db, path, &o) != CRM_OK);
	CHECK(access(path, F_OK) != 0);
	crm_close(db);
	rm_db_files(path);
}

/* A plain SQLite file of another application: one table, rollback journal. */
static void make_foreign_db(const char *path)
{
	sqlite3 *s = NULL;

	CHECK_INT(sqlite3_open(path, &s), SQLITE_OK);
	CHECK_INT(sqlite3_exec(s, "CREATE TABLE notes(x TEXT); INSERT INTO notes VALUES('mine')", NULL, NULL, NULL),
		  SQLITE_OK);
	sqlite3_close(s);
}

/* The file's journal mode and its count of crm_* tables, read without libcrm. */
static void foreign_state(const char *path, char *mode, size_t mode_size, int *crm_tables)
{
	sqlite3 *s = NULL;
	sqlite3_stmt *st = NULL;

	*crm_tables = -1;
	snprintf(mode, mode_size, "?");
	if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(s, "SELECT (SELECT journal_mode FROM pragma_journal_mode),"
			       " (SELECT count(*) FROM sqlite_schema WHERE name LIKE 'crm%')", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		snprintf(mode, mode_size, "%s", (const char *)sqlite3_column_text(st, 0));
		*crm_tables = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	sqlite3_close(s);
}

TEST(test_db__open_existing_on_a_missing_or_empty_file_is_enotfound_and_creates_nothing)
{
	char path[128];
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	crm_db *db = NULL;
	FILE *f;

	o.flags = CRM_OPEN_EXISTING;
	snprintf(path, sizeof path, "%s/typo.db", temp_dir());
	CHECK_INT(crm_open(&db, path, &o), CRM_ENOTFOUND);
	CHECK(db != NULL);
	CHECK_HAS(crm_errmsg(db), path);
	CHECK_HAS(crm_errdetail(db), "\"code\":\"CRM_ENOTFOUND\"");
	crm_close(db);
	CHECK(access(path, F_OK) != 0);

	/* an empty file holds no libcrm database: nothing is written to it */
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	db = NULL;
	CHECK_INT(crm_open(&db, path, &o), CRM_ENOTFOUND);
	crm_close(db);
	{
		char mode[16];
		int tables;

		foreign_state(path, mode, sizeof mode, &tables);
		CHECK_INT(tables, 0);
		CHECK_STR(mode, "delete");
	}

	/* once a database exists, EXISTING opens it */
	db = NULL;
	CHECK_INT(crm_open(&db, path, NULL), CRM_OK);
	test_apply(db, lead_form);
	crm_close(db);
	db = NULL;
	CHECK_INT(crm_open(&db, path, &o), CRM_OK);
	CHECK_INT(count_rows(db, "lead"), 0);
	crm_close(db);
	rm_db_files(path);
}

TEST(test_db__open_refuses_a_foreign_sqlite_file_unchanged_unless_init)
{
	char path[128], mode[16];
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	crm_db *db = NULL;
	int tables;

	snprintf(path, sizeof path, "%s/other.db", temp_dir());
	make_foreign_db(path);
	for (unsigned flags = 0; flags <= CRM_OPEN_EXISTING; flags += CRM_OPEN_EXISTING) {
		o.flags = flags;
		db = NULL;
		CHECK_INT(crm_open(&db, path, &o), CRM_EINVAL);
		CHECK_HAS(crm_errmsg(db), "not a libcrm database");
		crm_close(db);
		foreign_state(path, mode, sizeof mode, &tables);
		CHECK_INT(tables, 0);
		CHECK_STR(mode, "delete");
	}

	/* asked to, libcrm adds its tables beside the application's own */
	o.flags = CRM_OPEN_EXISTING | CRM_OPEN_INIT;
	db = NULL;
	CHECK_INT(crm_open(&db, path, &o), CRM_OK);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('crm_meta','crm_state')"), 2);
	CHECK_STR(sql_text(db, "SELECT x FROM notes"), "mine");
	crm_close(db);
	db = NULL;
	CHECK_INT(crm_open(&db, path, NULL), CRM_OK);
	crm_close(db);
	rm_db_files(path);
}

TEST(test_db__close_rolls_back_open_host_transaction)
{
	char path[128];
	crm_db *db = NULL;

	snprintf(path, sizeof path, "%s/close.db", temp_dir());
	CHECK_INT(crm_open(&db, path, NULL), CRM_OK);
	test_apply(db, lead_form);
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"uncommitted\"}", NULL));
	CHECK_INT(crm_close(db), CRM_OK);
	db = NULL;
	CHECK_INT(crm_open(&db, path, NULL), CRM_OK);
	CHECK_INT(count_rows(db, "lead"), 0);
	crm_close(db);
	rm_db_files(path);
}

TEST_LIST(T(test_db__open_memory_succeeds_and_closes), T(test_db__open_file_uses_wal_and_keeps_data_across_handles),
	  T(test_db__open_unwritable_path_fails_with_message_and_handle_closes),
	  T(test_db__open_rejects_null_arguments_and_bad_options_version), T(test_db__close_null_is_fine),
	  T(test_db__errstr_names_every_code), T(test_db__errmsg_empty_and_detail_empty_object_after_success),
	  T(test_db__error_accessors_accept_null_handle),
	  T(test_db__clock_set_controls_created_and_updated_at_exactly),
	  T(test_db__clock_set_fn_callback_supplies_time), T(test_db__actor_set_makes_new_records_owned_by_user),
	  T(test_db__limit_returns_old_values_and_rejects_bad_ids), T(test_db__limit_value_length_applies_to_writes),
	  T(test_db__begin_commit_groups_two_inserts), T(test_db__begin_rollback_undoes_both_inserts),
	  T(test_db__rollback_undoes_form_definition_too), T(test_db__nested_begin_is_misuse),
	  T(test_db__commit_or_rollback_without_begin_is_misuse),
	  T(test_db__failing_write_in_host_transaction_keeps_earlier_writes),
	  T(test_db__failing_apply_in_host_transaction_keeps_earlier_writes), T(test_db__libversion_matches_header),
	  T(test_db__locked_file_gives_ebusy_after_timeout_then_succeeds),
	  T(test_db__metadata_change_by_another_handle_is_seen), T(test_db__readonly_handle_reads_but_cannot_write),
	  T(test_db__open_existing_on_a_missing_or_empty_file_is_enotfound_and_creates_nothing),
	  T(test_db__open_refuses_a_foreign_sqlite_file_unchanged_unless_init),
	  T(test_db__close_rolls_back_open_host_transaction))
