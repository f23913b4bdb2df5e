/* SQL text for form tables and their indexes (see ddl.h). Identifiers come
 * only from compiled forms, whose names passed crm__valid_name. */
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "ddl.h"
#include "filter.h"
#include "value.h"

const char *crm__field_sql_type(crm_db *db, const crm__field *f)
{
	const crm__dialect *d = db->be->dialect;
	const char *natural = d->field_type(f->value_type, f->scale);

	if (natural)
		return natural;
	switch (f->storage) {
	case CRM__S_INTEGER: return d->type_integer;
	case CRM__S_REAL: return d->type_real;
	default: return d->type_text;
	}
}

void crm__sql_create_table(crm_db *db, crm__buf *sql, const crm__form *form, const char *table)
{
	crm__buf_puts(sql, "CREATE TABLE ");
	crm__sql_ident(sql, table);
	crm__buf_putc(sql, '(');
	crm__buf_puts(sql, db->be->dialect->identity_id);
	for (int i = 0; i < form->nfields; i++) {
		crm__buf_puts(sql, ", ");
		crm__sql_ident(sql, form->fields[i].name);
		crm__buf_putc(sql, ' ');
		crm__buf_puts(sql, crm__field_sql_type(db, &form->fields[i]));
	}
	crm__buf_printf(sql, ", created_at %s NOT NULL, updated_at %s NOT NULL, owner %s, version %s NOT NULL DEFAULT 1)",
			db->be->dialect->type_integer, db->be->dialect->type_integer, db->be->dialect->type_text,
			db->be->dialect->type_integer);
}

void crm__sql_select_list(crm__buf *sql, const crm__form *form, const char *alias)
{
	crm__column_sql(sql, form, CRM__COL_ID, alias);
	for (int i = 0; i < form->nfields; i++) {
		crm__buf_puts(sql, ", ");
		crm__column_sql(sql, form, i, alias);
	}
	for (int k = CRM__COL_CREATED_AT; k >= CRM__COL_VERSION; k--) {
		crm__buf_puts(sql, ", ");
		crm__column_sql(sql, form, k, alias);
	}
}

static void index_sql(crm_db *db, crm__buf *sql, const crm__form *form, const crm__index *ix)
{
	const crm__dialect *d = db->be->dialect;

	crm__buf_puts(sql, ix->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
	crm__sql_ident(sql, ix->name);
	crm__buf_puts(sql, " ON ");
	crm__sql_ident(sql, form->name);
	crm__buf_putc(sql, '(');
	for (int k = 0; k < ix->nfields; k++) {
		if (k)
			crm__buf_puts(sql, ", ");
		/* Empty keys that must not repeat are indexed as one shared value. */
		if (ix->unique && !ix->nulls_distinct) {
			crm__buf col = CRM__BUF_INIT;
			crm__column_sql(&col, form, ix->fields[k], NULL);
			d->unique_key(sql, crm__buf_cstr(&col));
			sql->oom |= col.oom;
			crm__buf_free(&col);
		} else
			crm__column_sql(sql, form, ix->fields[k], NULL);
	}
	crm__buf_putc(sql, ')');
	if (ix->unique && !ix->nulls_distinct)
		crm__buf_puts(sql, d->unique_key_end);
}

static int run(crm_db *db, crm__buf *sql)
{
	int rc;

	if (sql->oom)
		return crm__error_oom(db);
	rc = crm__exec(db, crm__buf_cstr(sql));
	crm__buf_reset(sql);
	return rc;
}

int crm__ddl_create(crm_db *db, const crm__form *form)
{
	crm__buf sql = CRM__BUF_INIT;
	int rc;

	crm__sql_create_table(db, &sql, form, form->name);
	rc = run(db, &sql);
	crm__buf_free(&sql);
	if (rc == CRM_OK)
		rc = crm__ddl_sync_indexes(db, form, CRM__IX_CREATE);
	return rc ? rc : crm__ddl_view(db, form, CRM__VIEW_CREATE);
}

void crm__view_name(crm__buf *sql, const char *form)
{
	crm__buf_puts(sql, "crm_view_");
	crm__buf_puts(sql, form);
}

/* One view column: the stored value as a person (or a BI tool) reads it. */
static void view_column_sql(const crm__dialect *d, crm__buf *sql, const crm__form *form, int column)
{
	const crm__field *f = column >= 0 ? &form->fields[column] : NULL;

	if (f || column == CRM__COL_CREATED_AT || column == CRM__COL_UPDATED_AT) {
		crm__buf col = CRM__BUF_INIT;
		crm__column_sql(&col, form, column, NULL);
		if (f)
			d->human_value(sql, f->value_type, f->scale, crm__buf_cstr(&col));
		else /* Epoch milliseconds as ISO 8601 in UTC, as the API writes them. */
			d->iso_datetime(sql, crm__buf_cstr(&col));
		sql->oom |= col.oom;
		crm__buf_free(&col);
	} else
		crm__column_sql(sql, form, column, NULL);
	crm__buf_puts(sql, " AS ");
	crm__sql_ident(sql, f ? f->name : crm__system_columns[-column - 1]);
}

int crm__ddl_view(crm_db *db, const crm__form *form, int what)
{
	crm__buf sql = CRM__BUF_INIT, name = CRM__BUF_INIT;
	int rc;

	crm__view_name(&name, form->name);
	crm__buf_puts(&sql, what == CRM__VIEW_DROP ? "DROP VIEW IF EXISTS " : db->be->dialect->create_view);
	crm__sql_ident(&sql, crm__buf_cstr(&name));
	if (what == CRM__VIEW_CREATE) {
		crm__buf_puts(&sql, " AS SELECT ");
		view_column_sql(db->be->dialect, &sql, form, CRM__COL_ID);
		for (int i = 0; i < form->nfields; i++) {
			crm__buf_puts(&sql, ", ");
			view_column_sql(db->be->dialect, &sql, form, i);
		}
		for (int k = CRM__COL_CREATED_AT; k >= CRM__COL_VERSION; k--) {
			crm__buf_puts(&sql, ", ");
			view_column_sql(db->be->dialect, &sql, form, k);
		}
		crm__buf_puts(&sql, " FROM ");
		crm__sql_ident(&sql, form->name);
		db->be->dialect->view_read_only(&sql, crm__buf_cstr(&name));
	}
	rc = name.oom ? crm__error_oom(db) : run(db, &sql);
	crm__buf_free(&sql);
	crm__buf_free(&name);
	return rc;
}

static int unique_broken(crm_db *db, const crm__form *form, const crm__index *ix)
{
	crm__buf names = CRM__BUF_INIT, members = CRM__BUF_INIT;
	int rc;

	for (int k = 0; k < ix->nfields; k++) {
		if (k)
			crm__buf_putc(&names, ',');
		crm__buf_puts(&names, ix->fields[k] >= 0 ? form->fields[ix->fields[k]].name
							  : crm__system_columns[-1 - ix->fields[k]]);
	}
	crm__buf_puts(&members, "\"errors\":[{\"field\":");
	crm__json_cstr(&members, crm__buf_cstr(&names));
	crm__buf_puts(&members, ",\"code\":\"unique\",\"message\":\"existing records share values\"}]");
	rc = crm__error_detail(db, CRM_ECONSTRAINT, crm__buf_cstr(&members),
			       "form %s: cannot make %s unique: existing records share values", form->name,
			       crm__buf_cstr(&names));
	crm__buf_free(&names);
	crm__buf_free(&members);
	return rc;
}

/* 1 when `name` is among the NUL-terminated names in `names`. */
static int listed(const crm__buf *names, const char *name)
{
	for (size_t at = 0; at < names->len; at += strlen(names->p + at) + 1)
		if (strcmp(names->p + at, name) == 0)
			return 1;
	return 0;
}

/* Create a unique index inside a savepoint: when records break it, the
 * failed statement is undone before the records are looked up (a failed
 * statement ends a PostgreSQL transaction's use). */
static int create_index(crm_db *db, const crm__form *form, const crm__index *ix, crm__buf *sql)
{
	int rc;

	index_sql(db, sql, form, ix);
	if (sql->oom)
		return crm__error_oom(db);
	if ((rc = crm__tx_begin(db)))
		return rc;
	rc = crm__tx_end(db, crm__exec(db, crm__buf_cstr(sql)));
	crm__buf_reset(sql);
	return rc == CRM_ECONSTRAINT ? unique_broken(db, form, ix) : rc;
}

int crm__ddl_sync_indexes(crm_db *db, const crm__form *form, int what)
{
	crm__buf sql = CRM__BUF_INIT, names = CRM__BUF_INIT;
	size_t plen = strlen(form->name);
	int rc;

	if ((rc = db->be->index_names(db, form->name, &names)))
		goto done;
	if (names.oom) {
		rc = crm__error_oom(db);
		goto done;
	}
	/* Drop what libcrm made ("form__...") that is no longer declared (or
	 * declared differently). */
	for (size_t at = 0; at < names.len && (what & CRM__IX_DROP); at += strlen(names.p + at) + 1) {
		const char *name = names.p + at;
		int wanted = 0;
		if (strncmp(name, form->name, plen) != 0 || strncmp(name + plen, "__", 2) != 0)
			continue;
		for (int i = 0; i < form->nindexes && !wanted; i++)
			wanted = strcmp(form->indexes[i].name, name) == 0;
		if (!wanted) {
			crm__buf_puts(&sql, "DROP INDEX ");
			crm__sql_ident(&sql, name);
			crm__buf_putc(&sql, ';');
		}
	}
	if (sql.len && (rc = run(db, &sql)))
		goto done;
	for (int i = 0; i < form->nindexes && !rc && (what & CRM__IX_CREATE); i++)
		if (!listed(&names, form->indexes[i].name))
			rc = create_index(db, form, &form->indexes[i], &sql);
done:
	crm__buf_free(&sql);
	crm__buf_free(&names);
	return rc;
}

static crm__stmt *prepare(crm_db *db, crm__buf *sql)
{
	crm__stmt *st = NULL;
	int rc;

	if (sql->oom) {
		crm__error_oom(db);
		return NULL;
	}
	rc = db->be->prepare(db, sql->p, sql->len, &st);
	crm__buf_free(sql);
	return rc == CRM_OK ? st : NULL;
}

void crm__sql_insert(crm_db *db, crm__buf *sql, const crm__form *form, int restore)
{
	crm__buf_puts(sql, "INSERT INTO ");
	crm__sql_ident(sql, form->name);
	crm__buf_putc(sql, '(');
	for (int i = 0; i < form->nfields; i++) {
		crm__sql_ident(sql, form->fields[i].name);
		crm__buf_putc(sql, ',');
	}
	crm__buf_puts(sql, restore ? "created_at,updated_at,owner,version,id) VALUES(" : "created_at,updated_at,owner,version) VALUES(");
	for (int i = 0; i < form->nfields; i++)
		crm__buf_puts(sql, "?,");
	crm__buf_puts(sql, restore ? "?,?,?,?,?)" : "?,?,?,1)");
	crm__buf_puts(sql, db->be->dialect->insert_skip_conflict);
	crm__buf_puts(sql, db->be->dialect->returning_id);
}

crm__stmt *crm__form_insert_stmt(crm_db *db, crm__form *form)
{
	crm__buf sql = CRM__BUF_INIT;

	if (form->st_insert)
		return form->st_insert;
	crm__sql_insert(db, &sql, form, 0);
	return form->st_insert = prepare(db, &sql);
}

void crm__sql_get(crm__buf *sql, crm__form *form)
{
	size_t at = sql->len;

	/* Kept with the form once made: a transition reads its record
	 * locked, and building the list quoted every column again. */
	if (form->sql_get) {
		crm__buf_puts(sql, form->sql_get);
		return;
	}
	crm__buf_puts(sql, "SELECT ");
	crm__sql_select_list(sql, form, NULL);
	crm__buf_puts(sql, " FROM ");
	crm__sql_ident(sql, form->name);
	crm__buf_puts(sql, " WHERE id=?");
	/* No room to keep it fails the call (a failed allocation is never absorbed). */
	if (!sql->oom && !(form->sql_get = crm__strndup(sql->p + at, sql->len - at)))
		crm__buf_fail(sql);
}

crm__stmt *crm__form_get_stmt(crm_db *db, crm__form *form)
{
	crm__buf sql = CRM__BUF_INIT;

	if (form->st_get)
		return form->st_get;
	crm__sql_get(&sql, form);
	return form->st_get = prepare(db, &sql);
}

void crm__row_write_json(crm__buf *out, const crm__form *form, crm__stmt *st, const unsigned char *show)
{
	static const char *const sys_keys[4] = { ",\"created_at\":", ",\"updated_at\":", ",\"owner\":", ",\"version\":" };
	crm__value v;
	char tmp[32];

	crm__buf_puts(out, "{\"id\":");
	crm__buf_i64(out, crm__column_int64(st, 0));
	for (int i = 0; i < form->nfields; i++) {
		const crm__field *f = &form->fields[i];
		if (show && !show[i])
			continue;
		crm__buf_put(out, ",\"", 2);
		crm__buf_puts(out, f->name);
		crm__buf_put(out, "\":", 2);
		crm__value_column(&v, f, st, CRM__SEL_FIELD(i));
		crm__value_write_json(out, f->value_type, f->scale, &v);
	}
	for (int k = 0; k < 4; k++) {
		int col = CRM__SEL_SYS(form, k);
		if (k == 2 && show && !show[form->nfields])
			continue;
		crm__buf_puts(out, sys_keys[k]);
		if (crm__column_type(st, col) == CRM__SQL_NULL)
			crm__buf_puts(out, "null");
		else if (k < 2) {
			crm__buf_putc(out, '"');
			crm__buf_put(out, tmp, crm__datetime_format(crm__column_int64(st, col), tmp));
			crm__buf_putc(out, '"');
		} else if (k == 2)
			crm__json_str(out, crm__column_text(st, col), (size_t)crm__column_bytes(st, col));
		else
			crm__buf_i64(out, crm__column_int64(st, col));
	}
	crm__buf_putc(out, '}');
}

void crm__sql_update(crm__buf *sql, const crm__form *form, const unsigned char *set, int owner)
{
	crm__buf_puts(sql, "UPDATE ");
	crm__sql_ident(sql, form->name);
	crm__buf_puts(sql, " SET ");
	for (int i = 0; i < form->nfields; i++)
		if (set[i]) {
			crm__sql_ident(sql, form->fields[i].name);
			crm__buf_puts(sql, "=?,");
		}
	if (owner)
		crm__buf_puts(sql, "owner=?,");
	crm__buf_puts(sql, "updated_at=?,version=version+1 WHERE id=?");
}

void crm__sql_delete(crm__buf *sql, const crm__form *form)
{
	crm__buf_puts(sql, "DELETE FROM ");
	crm__sql_ident(sql, form->name);
	crm__buf_puts(sql, " WHERE id=?");
}

void crm__sql_find(crm_db *db, crm__buf *sql, const crm__form *form, const int *cols, int n, int null_equal,
		   const char *tail)
{
	const crm__dialect *d = db->be->dialect;

	crm__buf_puts(sql, "SELECT id FROM ");
	crm__sql_ident(sql, form->name);
	crm__buf_printf(sql, " WHERE id %s ?", d->distinct);
	for (int k = 0; k < n; k++) {
		crm__buf_puts(sql, " AND ");
		crm__sql_ident(sql, form->fields[cols[k]].name);
		if (null_equal)
			crm__buf_printf(sql, " %s ?", d->not_distinct);
		else
			crm__buf_puts(sql, " = ?");
	}
	crm__buf_puts(sql, tail);
}

void crm__sql_exists(crm__buf *sql, const char *table)
{
	crm__buf_puts(sql, "SELECT 1 FROM ");
	crm__sql_ident(sql, table);
	crm__buf_puts(sql, " WHERE id=?");
}

void crm__sql_select_all(crm__buf *sql, const crm__form *form)
{
	crm__buf_puts(sql, "SELECT ");
	crm__sql_select_list(sql, form, NULL);
	crm__buf_puts(sql, " FROM ");
	crm__sql_ident(sql, form->name);
}

void crm__sql_alter(crm__buf *sql, const char *table, const char *action, const char *a, const char *b,
		    const char *type)
{
	crm__buf_puts(sql, "ALTER TABLE ");
	crm__sql_ident(sql, table);
	crm__buf_putc(sql, ' ');
	crm__buf_puts(sql, action);
	crm__buf_putc(sql, ' ');
	crm__sql_ident(sql, a);
	if (b) {
		crm__buf_puts(sql, " TO ");
		crm__sql_ident(sql, b);
	}
	if (type) {
		crm__buf_putc(sql, ' ');
		crm__buf_puts(sql, type);
	}
}

void crm__sql_drop_index(crm__buf *sql, const char *name)
{
	crm__buf_puts(sql, "DROP INDEX IF EXISTS ");
	crm__sql_ident(sql, name);
}

void crm__sql_column_values(crm__buf *sql, const char *table, const char *column)
{
	crm__buf_puts(sql, "SELECT id, ");
	crm__sql_ident(sql, column);
	crm__buf_puts(sql, " FROM ");
	crm__sql_ident(sql, table);
	crm__buf_puts(sql, " WHERE ");
	crm__sql_ident(sql, column);
	crm__buf_puts(sql, " IS NOT NULL");
}

void crm__sql_set_column(crm__buf *sql, const char *table, const char *column, int by_id)
{
	crm__buf_puts(sql, "UPDATE ");
	crm__sql_ident(sql, table);
	crm__buf_puts(sql, " SET ");
	crm__sql_ident(sql, column);
	crm__buf_puts(sql, by_id ? "=?1 WHERE id=?2" : "=?1");
}
