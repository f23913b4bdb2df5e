/* Shared test fixtures (see helpers.h). */
#include "helpers.h"

#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/db_int.h"
#include "test.h"

const char *test_pg_url(void)
{
	const char *url = getenv("CRM_TEST_PG");

	return url && *url ? url : NULL;
}

/* The name carries the process's start time: a process id comes back in a
 * later run on the same cluster. */
void test_pg_schema(char *out, size_t size)
{
	static unsigned int counter;
	static long started;

	if (!started) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		started = (long)(ts.tv_sec % 100000000) * 10 + ts.tv_nsec / 100000000;
	}
	snprintf(out, size, "t%ld_%ld_%u", (long)getpid(), started, ++counter);
}

/* With CRM_TEST_PG set, every handle gets a fresh schema of that database;
 * the cluster is throwaway, so schemas are left behind. */
static int open_test_db(crm_db **db)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	char schema[64];

	if (!test_pg_url())
		return crm_open(db, ":memory:", NULL);
	test_pg_schema(schema, sizeof schema);
	o.schema = schema;
	return crm_open(db, test_pg_url(), &o);
}

crm_db *test_db(void)
{
	crm_db *db = NULL;

	if (open_test_db(&db) != CRM_OK) {
		fprintf(stderr, "cannot open: %s\n", crm_errmsg(db));
		exit(2);
	}
	crm_clock_set(db, INT64_C(1767323045000));
	return db;
}

int test_apply(crm_db *db, const char *json)
{
	int rc = crm_apply(db, json);

	if (rc != CRM_OK) {
		fprintf(stderr, "apply failed: %s\n", crm_errdetail(db));
		test_failures_++;
	}
	return rc;
}

int test_apply_lossy(crm_db *db, const char *json)
{
	crm_apply_options opts = CRM_APPLY_OPTIONS_INIT;
	int rc;

	opts.flags = CRM_APPLY_ALLOW_DATA_LOSS;
	if ((rc = crm_apply_v2(db, json, &opts, NULL)) != CRM_OK) {
		fprintf(stderr, "apply failed: %s\n", crm_errdetail(db));
		test_failures_++;
	}
	return rc;
}

int test_relation_exists(crm_db *db, const char *name)
{
	int exists = -1;

	if (db->be->relation_exists(db, name, &exists) != CRM_OK) {
		fprintf(stderr, "relation_exists(%s): %s\n", name, crm_errmsg(db));
		test_failures_++;
	}
	return exists;
}

int test_column_exists(crm_db *db, const char *table, const char *column)
{
	crm__buf type = CRM__BUF_INIT;
	int exists = -1;

	if (db->be->column_decl_type(db, table, column, &type) != CRM_OK) {
		fprintf(stderr, "column_decl_type(%s.%s): %s\n", table, column, crm_errmsg(db));
		test_failures_++;
	} else
		exists = type.len > 0;
	crm__buf_free(&type);
	return exists;
}

int test_index_count(crm_db *db, const char *table)
{
	crm__buf names = CRM__BUF_INIT;
	int n = 0;

	if (db->be->index_names(db, table, &names) != CRM_OK) {
		fprintf(stderr, "index_names(%s): %s\n", table, crm_errmsg(db));
		test_failures_++;
		n = -1;
	}
	/* SQLite's own indexes (of a UNIQUE constraint) are not libcrm's. */
	for (size_t at = 0; n >= 0 && at < names.len; at += strlen(names.p + at) + 1)
		n += strncmp(names.p + at, "sqlite_", 7) != 0;
	crm__buf_free(&names);
	return n;
}

const char *test_column_type(crm_db *db, const char *table, const char *column)
{
	static char out[64];
	crm__buf type = CRM__BUF_INIT;

	out[0] = '\0';
	if (db->be->column_decl_type(db, table, column, &type) != CRM_OK) {
		fprintf(stderr, "column_decl_type(%s.%s): %s\n", table, column, crm_errmsg(db));
		test_failures_++;
	} else if (type.len)
		snprintf(out, sizeof out, "%s", crm__buf_cstr(&type));
	crm__buf_free(&type);
	return out;
}

const char *test_storage_class(crm_db *db, const char *table, const char *column)
{
	static char out[16];
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st = NULL;

	snprintf(out, sizeof out, "(error)");
	crm__buf_puts(&sql, "SELECT ");
	db->be->dialect->storage_class(&sql, column);
	crm__buf_printf(&sql, " FROM %s LIMIT 1", table);
	if (db->be->prepare(db, crm__buf_cstr(&sql), sql.len, &st) == CRM_OK && crm__step(st) == CRM_ROW)
		snprintf(out, sizeof out, "%s", crm__column_text(st, 0));
	else {
		fprintf(stderr, "storage class of %s.%s: %s\n", table, column, crm_errmsg(db));
		test_failures_++;
	}
	crm__finalize(st);
	crm__buf_free(&sql);
	return out;
}

int test_index_mentions(crm_db *db, const char *table, const char *column)
{
	crm__buf names = CRM__BUF_INIT;
	char key[80];
	int n = 0;

	snprintf(key, sizeof key, "__%s", column);
	if (db->be->index_names(db, table, &names) != CRM_OK) {
		fprintf(stderr, "index_names(%s): %s\n", table, crm_errmsg(db));
		test_failures_++;
	}
	for (size_t at = 0; at < names.len; at += strlen(names.p + at) + 1) {
		const char *hit = strstr(names.p + at, key);
		n += hit && (hit[strlen(key)] == '\0' || strncmp(hit + strlen(key), "__", 2) == 0);
	}
	crm__buf_free(&names);
	return n;
}

int64_t test_object_count(crm_db *db)
{
	if (strcmp(db->be->name, "sqlite") == 0)
		return test_sql_int(db, "SELECT count(*) FROM sqlite_schema");
	return test_sql_int(db, "SELECT count(*) FROM pg_class WHERE relnamespace = CAST(current_schema() AS regnamespace)");
}

int test_on_sqlite(crm_db *db) { return strcmp(db->be->name, "sqlite") == 0; }

const char *test_columns_of(crm_db *db, const char *relation)
{
	static char out[1024];
	crm__buf names = CRM__BUF_INIT;
	const char *sql = test_on_sqlite(db)
				  ? "SELECT name FROM pragma_table_info(?1) ORDER BY cid"
				  : "SELECT attname FROM pg_attribute WHERE attrelid = CAST(CAST(?1 AS text) AS regclass)"
				    " AND attnum > 0 AND NOT attisdropped ORDER BY attnum";

	out[0] = '\0';
	if (crm__stmt_texts(db, sql, relation, NULL, &names, NULL) != CRM_OK) {
		fprintf(stderr, "columns of %s: %s\n", relation, crm_errmsg(db));
		test_failures_++;
	}
	for (size_t at = 0, n = 0; at < names.len; at += strlen(names.p + at) + 1)
		n += (size_t)snprintf(out + n, n < sizeof out ? sizeof out - n : 0, "%s%s", at ? "," : "", names.p + at);
	crm__buf_free(&names);
	return out;
}

int64_t test_view_count(crm_db *db)
{
	if (test_on_sqlite(db))
		return test_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'view'");
	return test_sql_int(db, "SELECT count(*) FROM pg_class WHERE relkind = 'v'"
				" AND relnamespace = CAST(current_schema() AS regnamespace)");
}

char *test_rows(crm_db *db, const char *sql)
{
	crm__buf out = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	if (db->be->prepare(db, sql, strlen(sql), &st) != CRM_OK) {
		fprintf(stderr, "bad test SQL %s: %s\n", sql, crm_errmsg(db));
		test_failures_++;
		return NULL;
	}
	while ((rc = crm__step(st)) == CRM_ROW) {
		for (int i = 0; i < crm__column_count(st); i++) {
			crm__buf_puts(&out, i ? "|" : "");
			crm__buf_puts(&out, crm__column_type(st, i) == CRM__SQL_NULL ? "\\N" : crm__column_text(st, i));
		}
		crm__buf_putc(&out, '\n');
	}
	crm__finalize(st);
	crm__buf_cstr(&out);
	if (rc != CRM_DONE || out.oom) {
		fprintf(stderr, "test SQL %s failed: %s\n", sql, crm_errmsg(db));
		test_failures_++;
		crm__buf_free(&out);
		return NULL;
	}
	return crm__buf_detach(&out);
}

int64_t test_sql_int(crm_db *db, const char *sql)
{
	crm__stmt *st;
	int64_t v = -1;

	if (db->be->prepare(db, sql, strlen(sql), &st) != CRM_OK) {
		fprintf(stderr, "bad test SQL %s: %s\n", sql, crm_errmsg(db));
		test_failures_++;
		return -1;
	}
	if (crm__step(st) == CRM_ROW)
		v = crm__column_int64(st, 0);
	crm__finalize(st);
	return v;
}

const char *test_get(crm_db *db, const char *form, int64_t id)
{
	static char last[4096];
	char *json = NULL;

	if (crm_record_get(db, form, id, &json) != CRM_OK)
		return NULL;
	snprintf(last, sizeof last, "%s", json);
	crm_free(json);
	return last;
}

void test_temp_db(char *dir, char *path, size_t size)
{
	snprintf(dir, 32, "/tmp/crm_test.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(path, size, "%s/crm.db", dir);
}

void test_new_shared(char *dir, char *path, size_t size, char *schema, size_t schema_size)
{
	if (test_pg_url())
		test_pg_schema(schema, schema_size);
	else
		test_temp_db(dir, path, size);
}

void test_remove_shared(const char *dir, const char *path)
{
	if (!test_pg_url())
		test_remove_db(dir, path);
}

int test_closed(int fd, int wait)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, wait ? -1 : 0) > 0 && read(fd, &c, 1) == 0;
}

int test_await_wait(crm_db *db, pid_t *pid, int *status, int bound_s)
{
	for (int i = 0; i < 100 * bound_s; i++) {
		if (waitpid(*pid, status, WNOHANG) == *pid) {
			*pid = 0;
			return 0;
		}
		if (!test_on_sqlite(db)) {
			if (test_sql_int(db, "SELECT count(*) FROM pg_catalog.pg_locks"
					     " WHERE locktype = 'advisory' AND NOT granted") > 0)
				return 1;
		} else if (i >= 50)
			return 0; /* SQLite: the child waits for the file's write lock */
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return 0;
}

crm_db *test_open_shared(const char *path, const char *schema, int busy_timeout_ms)
{
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	crm_db *db = NULL;

	o.busy_timeout_ms = busy_timeout_ms;
	o.schema = schema;
	if (crm_open(&db, test_pg_url() ? test_pg_url() : path, &o) != CRM_OK) {
		fprintf(stderr, "cannot open %s: %s\n", test_pg_url() ? schema : path, crm_errmsg(db));
		exit(2);
	}
	return db;
}

void test_remove_db(const char *dir, const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char name[256];

	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "%s%s", path, suffix[i]);
		unlink(name);
	}
	rmdir(dir);
}

char *test_q(const char *s)
{
	char *out = malloc(strlen(s) + 1);

	if (!out)
		abort();
	for (size_t i = 0;; i++)
		if (!(out[i] = s[i] == '\'' ? '"' : s[i] == '`' ? '\'' : s[i]))
			break;
	return out;
}

int test_apply_q(crm_db *db, const char *json)
{
	char *j = test_q(json);
	int rc = crm_apply(db, j);

	free(j);
	return rc;
}

int test_batch_numbered(crm_db *db, const char *form, int n, const char *format)
{
	crm_batch *b = NULL;
	char json[256];
	int rc = crm_batch_begin(&b, db, form);

	for (int i = 0; i < n && rc == CRM_OK; i++) {
		snprintf(json, sizeof json, format, i, i);
		rc = crm_batch_add(b, json, -1, NULL);
	}
	if (rc == CRM_OK)
		rc = crm_batch_commit(b);
	crm_batch_free(b);
	return rc;
}

int64_t test_insert_q(crm_db *db, const char *form, const char *json)
{
	char *j = test_q(json);
	int64_t id = 0;

	if (crm_record_insert(db, form, j, &id) != CRM_OK) {
		fprintf(stderr, "insert into %s failed: %s\n", form, crm_errdetail(db));
		test_failures_++;
	}
	free(j);
	return id;
}

int test_update_q(crm_db *db, const char *form, int64_t id, const char *json)
{
	char *j = test_q(json);
	int rc = crm_record_update(db, form, id, j, 0);

	free(j);
	return rc;
}

int test_count_of(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}
