/* The SQLite backend: the embedded default. A statement is SQLite's own
 * with the seam's head in front; natural values are the integers the
 * engines keep (SQLite has no decimal or time type to convert to). */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "sqlite_int.h"
#include "sqlite_sum.h"
#include "sqlite_upgrade.h"

#define S(st) (LITE(st)->s)
#define CONN(db) (LITE_CONN(db)->h)

/* ---- errors ---- */

static int code_from_sqlite(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: return CRM_OK;
	case SQLITE_NOMEM: return CRM_ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return CRM_EBUSY;
	case SQLITE_CONSTRAINT: return CRM_ECONSTRAINT;
	case SQLITE_READONLY: return CRM_EPERM;
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_NOTADB: return CRM_EIO;
	case SQLITE_TOOBIG: return CRM_ELIMIT;
	case SQLITE_MISUSE: return CRM_EMISUSE;
	default: return CRM_ERROR;
	}
}

int crm__lite_fail(crm_db *db, int rc)
{
	int code = code_from_sqlite(rc);

	if (code == CRM_ENOMEM)
		return crm__error_oom(db);
	/* SQLite aborts open reads when a schema change is rolled back (a
	 * refused migration): like a changed definition, read again. */
	if (rc == SQLITE_ABORT_ROLLBACK)
		return crm__error(db, CRM_ECONFLICT, "metadata changed and was rolled back under this read; run it again");
	return crm__error(db, code, "sqlite: %s", db->conn ? sqlite3_errmsg(CONN(db)) : sqlite3_errstr(rc));
}

/* ---- statements ---- */

static int lite_prepare(crm_db *db, const char *sql, size_t len, crm__stmt **out)
{
	lite_stmt *st;
	int rc;

	*out = NULL;
	if (!(st = crm__calloc(1, sizeof *st)))
		return crm__error_oom(db);
	rc = sqlite3_prepare_v3(CONN(db), sql, (int)len, SQLITE_PREPARE_PERSISTENT, &st->s, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st->s);
		crm__free(st);
		return crm__lite_fail(db, rc);
	}
	st->base.be = &crm__sqlite_backend;
	st->base.db = db;
	*out = &st->base;
	return CRM_OK;
}

static const char *lite_sql(crm__stmt *st) { return sqlite3_sql(S(st)); }

static void lite_reset(crm__stmt *st) { sqlite3_reset(S(st)); }

static void lite_clear_bindings(crm__stmt *st)
{
	if (LITE(st)->rows)
		crm__lite_unkeep(LITE(st));
	sqlite3_clear_bindings(S(st));
}

static void lite_finalize(crm__stmt *st)
{
	crm__lite_rows_free(LITE(st));
	sqlite3_finalize(S(st));
	crm__free(st);
}

static int bound(crm__stmt *st, int rc) { return rc == SQLITE_OK ? CRM_OK : crm__lite_fail(st->db, rc); }

/* A statement whose rows are queued keeps its bindings (sqlite_queue.c). */
#define KEPT(st) (LITE(st)->rows)
#define KEEP(st, i, ...) crm__lite_keep(LITE(st), i, &(lite_slot){ __VA_ARGS__ })

static int lite_bind_null(crm__stmt *st, int i)
{
	return KEPT(st) ? KEEP(st, i, SQLITE_NULL, 0, { 0 }) : bound(st, sqlite3_bind_null(S(st), i));
}

static int lite_bind_int64(crm__stmt *st, int i, int64_t v)
{
	return KEPT(st) ? KEEP(st, i, SQLITE_INTEGER, 0, { .i = v }) : bound(st, sqlite3_bind_int64(S(st), i, v));
}

static int lite_bind_double(crm__stmt *st, int i, double v)
{
	return KEPT(st) ? KEEP(st, i, SQLITE_FLOAT, 0, { .d = v }) : bound(st, sqlite3_bind_double(S(st), i, v));
}

static int lite_bind_text(crm__stmt *st, int i, const char *s, int len)
{
	if (KEPT(st) && !s)
		return lite_bind_null(st, i);
	if (KEPT(st))
		return KEEP(st, i, SQLITE_TEXT, len < 0 ? (int)strlen(s) : len, { .p = s });
	return bound(st, sqlite3_bind_text(S(st), i, s, len, SQLITE_STATIC));
}

static int lite_bind_blob(crm__stmt *st, int i, const void *p, int len)
{
	if (KEPT(st) && !p)
		return lite_bind_null(st, i);
	if (KEPT(st))
		return KEEP(st, i, SQLITE_BLOB, len, { .p = p });
	return bound(st, sqlite3_bind_blob(S(st), i, p, len, SQLITE_STATIC));
}

static int lite_bind_as(crm__stmt *st, int i, enum crm__natural kind, int scale, int64_t v)
{
	(void)kind;
	(void)scale;
	return lite_bind_int64(st, i, v);
}

static int lite_parameter_count(crm__stmt *st) { return sqlite3_bind_parameter_count(S(st)); }

static int lite_step(crm__stmt *st)
{
	int rc;

	/* The queued rows first; a statement whose rows were queued gets its
	 * kept bindings. */
	if ((rc = crm__lite_sync(st->db)) || (KEPT(st) && (rc = crm__lite_apply(LITE(st)))))
		return rc;
	rc = sqlite3_step(S(st));

	if (rc == SQLITE_ROW)
		return CRM_ROW;
	if (rc == SQLITE_DONE)
		return CRM_DONE;
	return crm__lite_fail(st->db, rc);
}

static int lite_column_count(crm__stmt *st) { return sqlite3_column_count(S(st)); }
static int lite_column_type(crm__stmt *st, int i) { return sqlite3_column_type(S(st), i); }
static int64_t lite_column_int64(crm__stmt *st, int i) { return sqlite3_column_int64(S(st), i); }
static double lite_column_double(crm__stmt *st, int i) { return sqlite3_column_double(S(st), i); }
static const char *lite_column_text(crm__stmt *st, int i) { return (const char *)sqlite3_column_text(S(st), i); }
static int lite_column_bytes(crm__stmt *st, int i) { return sqlite3_column_bytes(S(st), i); }

static int lite_column_blob(crm__stmt *st, int i, void *out, int cap)
{
	const void *p;
	int n;

	if (sqlite3_column_type(S(st), i) == SQLITE_NULL)
		return -1;
	p = sqlite3_column_blob(S(st), i);
	n = sqlite3_column_bytes(S(st), i);
	if (!p && n)
		return -1; /* out of memory */
	if (n)
		memcpy(out, p, (size_t)(n < cap ? n : cap));
	return n;
}

static int64_t lite_column_as(crm__stmt *st, int i, enum crm__natural kind, int scale)
{
	(void)kind;
	(void)scale;
	return sqlite3_column_int64(S(st), i);
}

static int64_t lite_inserted_id(crm__stmt *st) { return sqlite3_last_insert_rowid(sqlite3_db_handle(S(st))); }

/* ---- the connection ---- */

/* Runs even after a queued failure (a ROLLBACK TO must), which it then
 * returns (the flush recorded it on the handle). */
static int lite_exec(crm_db *db, const char *sql)
{
	int queued = crm__lite_sync(db), rc = sqlite3_exec(CONN(db), sql, NULL, NULL, NULL);

	if (queued)
		return queued;
	return rc == SQLITE_OK ? CRM_OK : crm__lite_fail(db, rc);
}

/* The write lock up front, so two processes never deadlock upgrading
 * read locks. Writers take turns: both modes are alike, and every
 * app-wide lock is already held. */
static int lite_begin(crm_db *db, enum crm__tx_mode mode)
{
	(void)mode;
	return lite_exec(db, "BEGIN IMMEDIATE");
}

static int lite_lock(crm_db *db, enum crm__tx_lock what)
{
	(void)db;
	(void)what;
	return CRM_OK;
}

static int lite_commit(crm_db *db)
{
	int rc = crm__lite_sync(db);

	return rc ? rc : lite_exec(db, "COMMIT");
}

static void lite_rollback(crm_db *db)
{
	crm__lite_discard(db);
	if (!sqlite3_get_autocommit(CONN(db)))
		sqlite3_exec(CONN(db), "ROLLBACK", NULL, NULL, NULL);
}

static int lite_in_transaction(crm_db *db) { return !sqlite3_get_autocommit(CONN(db)); }

static unsigned int lite_data_version(crm_db *db)
{
	unsigned int version = 0;

	sqlite3_file_control(CONN(db), "main", SQLITE_FCNTL_DATA_VERSION, &version);
	return version;
}

static int lite_readonly(crm_db *db) { return sqlite3_db_readonly(CONN(db), "main") != 0; }

static int lite_relation_exists(crm_db *db, const char *name, int *exists)
{
	return crm__stmt_texts(db, "SELECT 1 FROM sqlite_schema WHERE type IN ('table','view') AND name=?1", name, NULL,
			       NULL, exists);
}

static int lite_index_names(crm_db *db, const char *table, crm__buf *names)
{
	return crm__stmt_texts(db, "SELECT name FROM sqlite_schema WHERE type='index' AND tbl_name=?1", table, NULL, names,
			       NULL);
}

static int lite_column_decl_type(crm_db *db, const char *table, const char *column, crm__buf *type)
{
	int rc = crm__stmt_texts(db, "SELECT type FROM pragma_table_info(?1) WHERE name=?2", table, column, type, NULL);

	if (type->len)
		type->len--; /* the NUL after the one row */
	return rc;
}

static int lite_explain(crm_db *db, const char *sql, int (*bind)(crm__stmt *st, void *payload), void *payload,
			crm__buf *out)
{
	crm__stmt *st;
	int rc, n = 0;

	if ((rc = crm__prepare_prefixed(db, "EXPLAIN QUERY PLAN ", sql, &st)))
		return rc;
	if ((rc = bind(st, payload)) == CRM_OK) {
		while ((rc = lite_step(st)) == CRM_ROW) {
			crm__buf_printf(out, "%s{\"id\":%d,\"parent\":%d,\"detail\":", n++ ? "," : "",
					sqlite3_column_int(S(st), 0), sqlite3_column_int(S(st), 1));
			crm__json_cstr(out, (const char *)sqlite3_column_text(S(st), 3));
			crm__buf_putc(out, '}');
		}
		rc = rc == CRM_DONE ? CRM_OK : rc;
	}
	lite_finalize(st);
	return rc;
}

/*
 * Decide, before anything is written, whether this file may become (or
 * already is) a libcrm database: libcrm's tables present, or an empty
 * database when creating is allowed, or any SQLite file with
 * CRM_OPEN_INIT. Anything else is refused and the file left as it was.
 */
static int check_kind(crm_db *db, const char *path, unsigned int flags)
{
	sqlite3_stmt *st = NULL;
	int rc, empty = 0, ours = 0, may_init;

	rc = sqlite3_prepare_v2(CONN(db),
				"SELECT NOT EXISTS(SELECT 1 FROM sqlite_schema),"
				" EXISTS(SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'crm_state')",
				-1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		empty = sqlite3_column_int(st, 0);
		ours = sqlite3_column_int(st, 1);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return crm__error(db, code_from_sqlite(rc) == CRM_ERROR ? CRM_EIO : code_from_sqlite(rc),
				  "cannot open %s: %s", path, sqlite3_errmsg(CONN(db)));
	may_init = !(flags & CRM_OPEN_READONLY) &&
		   ((flags & CRM_OPEN_INIT) || (empty && !(flags & CRM_OPEN_EXISTING)));
	if (ours || may_init)
		return CRM_OK;
	if (empty)
		return crm__error(db, CRM_ENOTFOUND, "no libcrm database at %s (the file is empty)", path);
	return crm__error(db, CRM_EINVAL,
			  "%s is not a libcrm database (an SQLite file with other tables): left unchanged; "
			  "CRM_OPEN_INIT adds libcrm's tables to it", path);
}

static int configure(crm_db *db, const char *path, const crm_open_options *o)
{
	int rc;

	sqlite3_busy_timeout(CONN(db), o->busy_timeout_ms);
	sqlite3_extended_result_codes(CONN(db), 1);
	/* Before anything is prepared: SQLite refuses to define a function
	 * while a statement runs. */
	if ((rc = crm__sqlite_register_sum(CONN(db))) != SQLITE_OK || (rc = crm__sqlite_register_zip(CONN(db))) != SQLITE_OK)
		return crm__lite_fail(db, rc);
	if ((rc = check_kind(db, path, o->flags)))
		return rc;
	if (!(o->flags & CRM_OPEN_READONLY)) {
		/* WAL lets readers in other processes run beside the writer;
		 * NORMAL sync is durable across application crashes in WAL mode. */
		if ((rc = lite_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")))
			return rc;
	}
	return lite_exec(db, "PRAGMA foreign_keys=OFF; PRAGMA trusted_schema=OFF");
}

/* Through SQLite's VFS, so the check means what SQLite's open meant. */
static int file_exists(const char *path)
{
	sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
	int exists = 1;

	if (vfs && vfs->xAccess(vfs, path, SQLITE_ACCESS_EXISTS, &exists) != SQLITE_OK)
		exists = 1;
	return exists;
}

static int lite_open(crm_db *db, const char *path, const crm_open_options *o)
{
	lite_conn *conn;
	int flags, rc;

	flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
		((o->flags & CRM_OPEN_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
		((o->flags & (CRM_OPEN_READONLY | CRM_OPEN_EXISTING)) ? 0 : SQLITE_OPEN_CREATE);
	if (!(conn = crm__calloc(1, sizeof *conn)))
		return crm__error_oom(db);
	db->conn = conn;
	rc = sqlite3_open_v2(path, &conn->h, flags, NULL);
	if (!conn->h)
		return crm__error_oom(db);
	if (rc == SQLITE_OK)
		return configure(db, path, o);
	if (!(flags & SQLITE_OPEN_CREATE) && !file_exists(path))
		return crm__error(db, CRM_ENOTFOUND, "no database at %s: %s", path, sqlite3_errmsg(conn->h));
	return crm__error(db, code_from_sqlite(rc) == CRM_ERROR ? CRM_EIO : code_from_sqlite(rc), "cannot open %s: %s",
			  path, sqlite3_errmsg(conn->h));
}

static void lite_close(crm_db *db)
{
	lite_conn *c = LITE_CONN(db);

	if (!c)
		return;
	if (c->h)
		lite_rollback(db);
	/* v2: statements children still hold are finalized when they are freed. */
	sqlite3_close_v2(c->h);
	crm__free(c->q.e);
	crm__free(c->q.slots);
	crm__buf_free(&c->q.text);
	crm__free(c);
	db->conn = NULL;
}

/* Anything that is not another backend's URI is a file name. */
static int lite_accepts(const char *target)
{
	(void)target;
	return 1;
}

static void lite_unique_key(crm__buf *sql, const char *column_sql)
{
	crm__buf_puts(sql, "ifnull(");
	crm__buf_puts(sql, column_sql);
	crm__buf_puts(sql, ", x'')");
}

static void lite_json_member(crm__buf *sql, const char *expr, const char *key)
{
	crm__buf_printf(sql, "json_extract(%s, '$.%s')", expr, key);
}

static void lite_storage_class(crm__buf *sql, const char *expr) { crm__buf_printf(sql, "typeof(%s)", expr); }

static void lite_iso_datetime(crm__buf *sql, const char *expr)
{
	crm__buf_printf(sql, "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', %s / 1000.0, 'unixepoch')", expr);
}

/* Values are stored in the engines' own representation. */
static const char *lite_field_type(crm_type type, int scale)
{
	(void)type;
	(void)scale;
	return NULL;
}

static void lite_as_storage(crm__buf *sql, crm_type type, int scale, const char *expr)
{
	(void)type;
	(void)scale;
	crm__buf_puts(sql, expr);
}

static void lite_sort_value(crm__buf *sql, crm_type type, const char *expr)
{
	(void)type;
	crm__buf_puts(sql, expr);
}

static void lite_human_value(crm__buf *sql, crm_type type, int scale, const char *expr)
{
	if (type == CRM_TYPE_DATETIME)
		lite_iso_datetime(sql, expr);
	else if (type == CRM_TYPE_DECIMAL && scale > 0) {
		/* A number, as BI tools expect; the exact value stays in the
		 * table. The scale is a checked small integer, not user text. */
		crm__buf_printf(sql, "%s / 1", expr);
		for (int i = 0; i < scale; i++)
			crm__buf_putc(sql, '0');
		crm__buf_puts(sql, ".0");
	} else
		crm__buf_puts(sql, expr);
}

static void lite_bucket_start(crm__buf *sql, int bucket, int datetime, const char *expr)
{
	static const char *const mods[] = { "", "", ", '-6 days', 'weekday 1'", ", 'start of month'", ", 'start of month'",
					    ", 'start of year'" };
	const char *unix = datetime ? " / 1000.0, 'unixepoch'" : "";

	crm__buf_printf(sql, "date(%s%s%s", expr, unix, mods[bucket]);
	if (bucket == CRM__BUCKET_QUARTER)
		crm__buf_printf(sql, ", '-' || ((CAST(strftime('%%m', %s%s) AS INTEGER) - 1) %% 3) || ' months'", expr,
				unix);
	crm__buf_putc(sql, ')');
}

/* The week's Thursday decides its year and number. */
static void lite_iso_week(crm__buf *sql, const char *day)
{
	crm__buf_printf(sql,
			"CASE WHEN %s IS NULL THEN NULL ELSE strftime('%%Y', %s, '+3 days') || '-W' || "
			"substr('0' || ((CAST(strftime('%%j', %s, '+3 days') AS INTEGER) + 6) / 7), -2) END",
			day, day, day);
}

static void lite_day_number(crm__buf *sql, const char *day) { crm__buf_printf(sql, "unixepoch(%s) / 86400", day); }

/* ---- search: an FTS5 table per form, trigram-tokenized (every script,
 * Chinese included, without word breaks), its content read from the
 * form's table by id; the write path adds and removes its rows. ---- */

static void fts_table(crm__buf *sql, const char *form)
{
	char name[80];

	snprintf(name, sizeof name, "crm_fts_%s", form);
	crm__sql_ident(sql, name);
}

static void column_list(crm__buf *sql, const char *const *columns, int n)
{
	for (int i = 0; i < n; i++) {
		crm__buf_puts(sql, ", ");
		crm__sql_ident(sql, columns[i]);
	}
}

static void lite_search_index(crm__buf *sql, const char *form, const char *const *columns, int n, int create)
{
	crm__buf_puts(sql, "DROP TABLE IF EXISTS ");
	fts_table(sql, form);
	if (!create)
		return;
	crm__buf_puts(sql, ";CREATE VIRTUAL TABLE ");
	fts_table(sql, form);
	crm__buf_puts(sql, " USING fts5(");
	for (int i = 0; i < n; i++) {
		crm__sql_ident(sql, columns[i]);
		crm__buf_puts(sql, ", ");
	}
	crm__buf_puts(sql, "content=");
	crm__sql_ident(sql, form);
	crm__buf_puts(sql, ", content_rowid='id', tokenize='trigram');INSERT INTO ");
	fts_table(sql, form);
	crm__buf_putc(sql, '(');
	fts_table(sql, form);
	crm__buf_puts(sql, ") VALUES ('rebuild')");
}

static void lite_search_from(crm__buf *sql, const char *form, const char *alias)
{
	fts_table(sql, form);
	crm__buf_puts(sql, " JOIN ");
	crm__sql_ident(sql, form);
	crm__buf_printf(sql, " AS %s ON %s.id = ", alias, alias);
	fts_table(sql, form);
	crm__buf_puts(sql, ".rowid");
}

static int lite_search_match(crm__buf *sql, const char *form, const char *alias, const char *const *columns, int n)
{
	(void)alias;
	(void)columns;
	(void)n;
	fts_table(sql, form);
	crm__buf_puts(sql, " MATCH ?");
	return 1;
}

/* The term as one FTS5 phrase (a quoted string: no operator, prefix or
 * column syntax inside it means anything) within the given columns. */
static void lite_search_value(crm__buf *out, const char *term, size_t len, const char *const *columns, int n)
{
	crm__buf_putc(out, '{');
	for (int i = 0; i < n; i++) {
		crm__buf_puts(out, i ? " " : "");
		crm__sql_ident(out, columns[i]);
	}
	crm__buf_puts(out, "} : \"");
	for (size_t i = 0; i < len; i++) {
		if (term[i] == '"')
			crm__buf_putc(out, '"');
		crm__buf_putc(out, term[i]);
	}
	crm__buf_putc(out, '"');
}

/* bm25 is lower for better matches. */
static int lite_search_rank(crm__buf *sql, const char *form, const char *alias, const char *const *columns, int n)
{
	(void)alias;
	(void)columns;
	(void)n;
	crm__buf_puts(sql, "-bm25(");
	fts_table(sql, form);
	crm__buf_putc(sql, ')');
	return 0;
}

static void lite_search_sync(crm__buf *sql, const char *form, const char *const *columns, int n, int remove)
{
	crm__buf_puts(sql, "INSERT INTO ");
	fts_table(sql, form);
	crm__buf_putc(sql, '(');
	if (remove) {
		fts_table(sql, form);
		crm__buf_puts(sql, ", ");
	}
	crm__buf_puts(sql, "rowid");
	column_list(sql, columns, n);
	crm__buf_puts(sql, remove ? ") VALUES ('delete', ?" : ") VALUES (?");
	for (int i = 0; i < n; i++)
		crm__buf_puts(sql, ", ?");
	crm__buf_putc(sql, ')');
}

/* SQLite's min and max of several values are NULL when one is. */
static void lite_clamp(crm__buf *sql, const char *expr, int64_t lo, int64_t hi)
{
	crm__buf_printf(sql, "min(max(%s, %lld), %lld)", expr, (long long)lo, (long long)hi);
}

/* A view without INSTEAD OF triggers is read-only. */
static void lite_view_read_only(crm__buf *sql, const char *view)
{
	(void)sql;
	(void)view;
}

static const crm__dialect lite_dialect = {
	.type_integer = "INTEGER",
	.type_real = "REAL",
	.type_text = "TEXT",
	.type_blob = "BLOB",
	.field_type = lite_field_type,
	.as_storage = lite_as_storage,
	.sort_value = lite_sort_value,
	.human_value = lite_human_value,
	/* AUTOINCREMENT: a deleted record's id is never given to a new one,
	 * whose workflows, events and history would be mixed up with its. */
	.identity_id = "id INTEGER PRIMARY KEY AUTOINCREMENT",
	.returning_id = "",
	/* OR FAIL: no statement journal; a many-row INSERT with one wrote
	 * every page it touched to a temporary file, about as many bytes as
	 * the WAL got (docs/audit.md, "Speed"). */
	.insert_many = "INSERT OR FAIL INTO ",
	.insert_skip_conflict = "",
	.lock_update = "",
	.lock_no_key_update = "",
	.lock_key_share = "",
	.lock_claim = "",
	.lock_value = NULL, /* one writer at a time */
	.not_distinct = "IS",
	.distinct = "IS NOT",
	.unique_key = lite_unique_key,
	.unique_key_end = "",
	.sum_exact = "crm_sum",
	.sum_strict = "crm_sum_strict",
	.sum_real = "sum",
	.clamp = lite_clamp,
	.order_asc = "", /* SQLite's own order: nulls first ascending, last descending */
	.order_desc = " DESC",
	.contains_list = { "EXISTS (SELECT 1 FROM json_each(", ") WHERE value = ", ")" },
	.position = "instr",
	.json_member = lite_json_member,
	.storage_class = lite_storage_class,
	.iso_datetime = lite_iso_datetime,
	.create_view = "CREATE VIEW IF NOT EXISTS ",
	.view_read_only = lite_view_read_only,
	.without_rowid = " WITHOUT ROWID",
	.bucket_start = lite_bucket_start,
	.iso_week = lite_iso_week,
	.day_number = lite_day_number,
	.search_index = lite_search_index,
	.search_from = lite_search_from,
	.search_match = lite_search_match,
	.search_value = lite_search_value,
	.search_rank = lite_search_rank,
	.search_sync = lite_search_sync,
	.search_like = "LIKE", /* ASCII case folded by default */
};

const crm__backend crm__sqlite_backend = {
	.version = CRM__BACKEND_VERSION,
	.name = "sqlite",
	.dialect = &lite_dialect,
	.accepts = lite_accepts,
	.open = lite_open,
	.close = lite_close,
	.exec = lite_exec,
	.upgrade = crm__sqlite_upgrade,
	.begin = lite_begin,
	.lock = lite_lock,
	.lock_where = NULL, /* writers take turns: lock takes nothing */
	.lock_taken = NULL,
	.commit = lite_commit,
	.rollback = lite_rollback,
	.in_transaction = lite_in_transaction,
	.data_version = lite_data_version,
	.readonly = lite_readonly,
	.prepare = lite_prepare,
	.sql = lite_sql,
	.reset = lite_reset,
	.clear_bindings = lite_clear_bindings,
	.finalize = lite_finalize,
	.bind_null = lite_bind_null,
	.bind_int64 = lite_bind_int64,
	.bind_double = lite_bind_double,
	.bind_text = lite_bind_text,
	.bind_blob = lite_bind_blob,
	.bind_as = lite_bind_as,
	.parameter_count = lite_parameter_count,
	.step = lite_step,
	.column_count = lite_column_count,
	.column_type = lite_column_type,
	.column_int64 = lite_column_int64,
	.column_double = lite_column_double,
	.column_text = lite_column_text,
	.column_bytes = lite_column_bytes,
	.column_blob = lite_column_blob,
	.column_as = lite_column_as,
	.inserted_id = lite_inserted_id,
	/* Rows of single-row INSERTs queue to run as multi-row INSERTs; any
	 * other statement runs when stepped, its rows read as stepped. */
	.queue = crm__lite_queue,
	.flush = crm__lite_flush,
	.send_ahead = NULL,
	.many_rows = NULL,
	.relation_exists = lite_relation_exists,
	.index_names = lite_index_names,
	.column_decl_type = lite_column_decl_type,
	.explain = lite_explain,
};
