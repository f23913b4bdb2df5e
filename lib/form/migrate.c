/* Schema evolution: turn the table of one form version into the next
 * without losing data, inside the caller's transaction. Fields are matched
 * by their stable id, so a rename keeps its column's data; a type change
 * converts every value or refuses with the records that do not convert. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "form_int.h"
#include "store/ddl.h"

#define REPORTED_FAILURES 20

/* Failing records collected while converting or re-checking. */
typedef struct failures {
	crm__buf json;
	int64_t count;
	char first[300];
} failures;

static void failure_add(failures *fl, int64_t id, const char *field, const char *message)
{
	if (fl->count++ == 0)
		snprintf(fl->first, sizeof fl->first, "record %lld: %s", (long long)id, message);
	if (fl->count > REPORTED_FAILURES)
		return;
	crm__buf_puts(&fl->json, fl->count > 1 ? ",{\"id\":" : "{\"id\":");
	crm__buf_i64(&fl->json, id);
	crm__buf_puts(&fl->json, ",\"field\":");
	crm__json_cstr(&fl->json, field);
	crm__buf_puts(&fl->json, ",\"message\":");
	crm__json_cstr(&fl->json, message);
	crm__buf_putc(&fl->json, '}');
}

static int failure_raise(crm_db *db, failures *fl, const char *fmt, const char *a, const char *b)
{
	crm__buf members = CRM__BUF_INIT;
	char what[300];
	int rc;

	snprintf(what, sizeof what, fmt, a, b);
	crm__buf_puts(&members, "\"failed\":");
	crm__buf_i64(&members, fl->count);
	crm__buf_puts(&members, ",\"records\":[");
	crm__buf_put(&members, fl->json.p, fl->json.len);
	crm__buf_putc(&members, ']');
	rc = members.oom ? crm__error_oom(db)
			 : crm__error_detail(db, CRM_ECONSTRAINT, crm__buf_cstr(&members), "%s: %lld records do not fit (%s)",
					     what, (long long)fl->count, fl->first);
	crm__buf_free(&members);
	return rc;
}

static int alter(crm_db *db, const char *table, const char *action, const char *a, const char *b, const char *type)
{
	crm__buf sql = CRM__BUF_INIT;
	int rc;

	crm__sql_alter(&sql, table, action, a, b, type);
	rc = sql.oom ? crm__error_oom(db) : crm__exec(db, crm__buf_cstr(&sql));
	crm__buf_free(&sql);
	return rc;
}

static int drop_index(crm_db *db, const char *name)
{
	crm__buf sql = CRM__BUF_INIT;
	int rc;

	crm__sql_drop_index(&sql, name);
	rc = sql.oom ? crm__error_oom(db) : crm__exec(db, crm__buf_cstr(&sql));
	crm__buf_free(&sql);
	return rc;
}

static int same_options(const crm__field *a, const crm__field *b)
{
	if (a->noptions != b->noptions)
		return 0;
	for (size_t i = 0; i < a->noptions; i++)
		if (strcmp(a->options[i], b->options[i]) != 0)
			return 0;
	return 1;
}

static int needs_conversion(const crm__field *o, const crm__field *n)
{
	return o->type != n->type || o->value_type != n->value_type || o->scale != n->scale ||
	       ((n->type == CRM_TYPE_ENUM || n->type == CRM_TYPE_MULTI_ENUM) && !same_options(o, n));
}

/* The stored value `v` of field `o` as field `n` would take it from JSON:
 * numbers stay numbers, everything else goes through its text. */
static int convert(const crm__field *o, const crm__field *n, const crm__value *v, crm__buf *scratch,
		   crm__value *out, crm__verr *err)
{
	crm__buf text = CRM__BUF_INIT;
	crm__jval jv;
	int rc;

	crm__value_write_json(&text, o->value_type, o->scale, v);
	if (text.oom)
		return -1;
	jv.p = text.p;
	jv.n = text.len;
	if (text.p[0] == '"') { /* a string: its raw stored text */
		jv.type = CRM__J_STRING;
		jv.p = v->kind == CRM__V_TEXT ? v->s : text.p + 1;
		jv.n = v->kind == CRM__V_TEXT ? v->n : text.len - 2;
	} else if (text.p[0] == '[')
		jv.type = CRM__J_ARRAY;
	else if (text.p[0] == '{')
		jv.type = CRM__J_OBJECT;
	else if (strcmp(text.p, "true") == 0 || strcmp(text.p, "false") == 0)
		jv.type = text.p[0] == 't' ? CRM__J_TRUE : CRM__J_FALSE;
	else
		jv.type = CRM__J_NUMBER;
	/* Text becomes a number only if it is one; a single option becomes a set. */
	if (jv.type == CRM__J_STRING && crm__storage_of(n->type) != CRM__S_TEXT && n->type != CRM_TYPE_DATETIME &&
	    n->type != CRM_TYPE_JSON && n->type != CRM_TYPE_BOOLEAN) {
		if (jv.n && (jv.p[0] == '-' || (jv.p[0] >= '0' && jv.p[0] <= '9')) &&
		    crm__json_validate(jv.p, jv.n, 1, NULL, NULL) == 0)
			jv.type = CRM__J_NUMBER;
	} else if (jv.type == CRM__J_STRING && n->type == CRM_TYPE_BOOLEAN && (jv.n == 4 || jv.n == 5) &&
		   (strncmp(jv.p, "true", 4) == 0 || strncmp(jv.p, "false", 5) == 0))
		jv.type = jv.p[0] == 't' ? CRM__J_TRUE : CRM__J_FALSE;
	else if (n->type == CRM_TYPE_MULTI_ENUM && jv.type == CRM__J_STRING) {
		crm__buf arr = CRM__BUF_INIT;
		crm__buf_putc(&arr, '[');
		crm__json_str(&arr, jv.p, jv.n);
		crm__buf_putc(&arr, ']');
		crm__buf_free(&text);
		text = arr;
		jv.type = CRM__J_ARRAY;
		jv.p = text.p;
		jv.n = text.len;
	}
	if (jv.type != CRM__J_STRING && jv.type != CRM__J_NUMBER && crm__storage_of(n->type) == CRM__S_TEXT &&
	    n->type != CRM_TYPE_JSON && n->type != CRM_TYPE_MULTI_ENUM) {
		jv.type = CRM__J_STRING; /* true, [..] as text */
	} else if (jv.type == CRM__J_NUMBER && (crm__storage_of(n->type) == CRM__S_TEXT || n->type == CRM_TYPE_DATETIME) &&
		   n->type != CRM_TYPE_JSON)
		jv.type = CRM__J_STRING; /* 12.5 as text "12.5" */
	crm__buf_reset(scratch);
	if (crm__buf_reserve(scratch, 3 * jv.n + 8)) {
		crm__buf_free(&text);
		return -1;
	}
	rc = crm__value_from_json(out, n, &jv, scratch, 64, err);
	/* The result may point into `text`: keep it in scratch instead. */
	if (rc == 0 && out->kind == CRM__V_TEXT && out->s >= text.p && out->s < text.p + text.len) {
		size_t at = scratch->len;
		crm__buf_put(scratch, out->s, out->n);
		out->s = scratch->p + at;
	}
	crm__buf_free(&text);
	return rc;
}

/* Convert column `f` (of `old_f` values) in place through a new column. */
static int convert_column(crm_db *db, const crm__form *form, const crm__field *old_f, const crm__field *f)
{
	crm__buf sql = CRM__BUF_INIT, scratch = CRM__BUF_INIT;
	failures fl = { CRM__BUF_INIT, 0, "" };
	sqlite3_stmt *rd = NULL, *wr = NULL;
	static const char tmp[] = "crm_converting";
	int rc, src;

	if ((rc = alter(db, form->name, "ADD COLUMN", tmp, NULL, crm__column_type(f))))
		return rc;
	crm__sql_column_values(&sql, form->name, f->name);
	if (sql.oom || !(rd = crm__stmt_take(db, sql.p, sql.len))) {
		rc = sql.oom ? crm__error_oom(db) : db->errcode;
		goto done;
	}
	crm__buf_reset(&sql);
	crm__sql_set_column(&sql, form->name, tmp, 1);
	if (sql.oom || !(wr = crm__stmt_take(db, sql.p, sql.len))) {
		rc = sql.oom ? crm__error_oom(db) : db->errcode;
		goto done;
	}
	while ((src = sqlite3_step(rd)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(rd, 0);
		crm__value v, out;
		crm__verr err;

		crm__value_column(&v, old_f, rd, 1);
		if (f->type == CRM_TYPE_COMPUTED || f->type == CRM_TYPE_ROLLUP)
			continue; /* recomputed, not converted */
		if (convert(old_f, f, &v, &scratch, &out, &err)) {
			failure_add(&fl, id, f->name, err.code ? err.message : "out of memory");
			continue;
		}
		crm__value_bind(wr, 1, &out);
		sqlite3_bind_int64(wr, 2, id);
		src = sqlite3_step(wr);
		sqlite3_reset(wr);
		if (src != SQLITE_DONE)
			break;
	}
	if (src != SQLITE_DONE)
		rc = crm__error_sqlite(db, src);
	else if (fl.count)
		rc = failure_raise(db, &fl, "form %s: cannot convert %s to its new type", form->name, f->name);
done:
	crm__stmt_give(db, rd);
	crm__stmt_give(db, wr);
	crm__buf_free(&sql);
	crm__buf_free(&scratch);
	crm__buf_free(&fl.json);
	if (rc == CRM_OK && (rc = alter(db, form->name, "DROP COLUMN", f->name, NULL, NULL)) == CRM_OK)
		rc = alter(db, form->name, "RENAME COLUMN", tmp, f->name, NULL);
	return rc;
}

static int backfill_default(crm_db *db, const crm__form *form, const crm__field *f)
{
	crm__buf sql = CRM__BUF_INIT;
	sqlite3_stmt *st;
	int rc;

	crm__sql_set_column(&sql, form->name, f->name, 0);
	if (sql.oom)
		return crm__error_oom(db);
	st = crm__stmt_take(db, sql.p, sql.len);
	crm__buf_free(&sql);
	if (!st)
		return db->errcode;
	crm__value_bind(st, 1, &f->def);
	rc = sqlite3_step(st);
	crm__stmt_give(db, st);
	return rc == SQLITE_DONE ? CRM_OK : crm__error_sqlite(db, rc);
}

/* Every record must satisfy the new rules (required, ranges, patterns...). */
static int recheck(crm_db *db, const crm__form *form)
{
	crm__buf sql = CRM__BUF_INIT;
	failures fl = { CRM__BUF_INIT, 0, "" };
	crm__errors errs = { 0 };
	crm__value *values = crm__calloc((size_t)form->nfields, sizeof *values);
	sqlite3_stmt *st = NULL;
	int rc = CRM_OK, src = SQLITE_DONE;

	crm__sql_select_all(&sql, form);
	if (!values || sql.oom) {
		rc = crm__error_oom(db);
		goto done;
	}
	/* Prepared directly: the statement text is one-off. */
	if ((src = sqlite3_prepare_v2(db->sql, sql.p, (int)sql.len, &st, NULL)) != SQLITE_OK) {
		rc = crm__error_sqlite(db, src);
		goto done;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		int n;

		for (int i = 0; i < form->nfields; i++)
			crm__value_column(&values[i], &form->fields[i], st, CRM__SEL_FIELD(i));
		crm__errors_reset(&errs, db);
		n = crm__validate_record(db, form, values, NULL, &errs);
		if (n < 0) {
			rc = db->errcode;
			break;
		}
		if (n > 0)
			failure_add(&fl, sqlite3_column_int64(st, 0), NULL, errs.first);
	}
	if (rc == CRM_OK && src != SQLITE_DONE)
		rc = crm__error_sqlite(db, src);
	if (rc == CRM_OK && fl.count)
		rc = failure_raise(db, &fl, "form %s: existing records break the new definition%s", form->name, "");
done:
	sqlite3_finalize(st);
	crm__free(values);
	crm__buf_free(&sql);
	crm__buf_free(&fl.json);
	crm__errors_free(&errs);
	return rc;
}

int crm__form_migrate(crm_db *db, crm__form *old, crm__form *new)
{
	int *old_of = crm__calloc((size_t)new->nfields, sizeof *old_of);
	char tmp[32];
	int rc;

	if (!old_of)
		return crm__error_oom(db);
	for (int j = 0; j < new->nfields; j++) {
		old_of[j] = -1;
		for (int i = 0; i < old->nfields; i++)
			if (strcmp(old->fields[i].id, new->fields[j].id) == 0)
				old_of[j] = i;
	}
	rc = crm__ddl_sync_indexes(db, new, CRM__IX_DROP);
	/* Indexes over fields that are removed, renamed or converted go too
	 * (the new ones are created at the end): an index is known by a name
	 * derived from field names, which renames would leave naming other
	 * columns, and SQLite cannot drop a column an index still uses. */
	for (int k = 0; k < old->nindexes && !rc; k++) {
		const crm__index *ix = &old->indexes[k];
		int stale = 0;

		for (int c = 0; c < ix->nfields && !stale; c++) {
			int i = ix->fields[c], j = 0;
			if (i < 0)
				continue; /* a system column */
			while (j < new->nfields && old_of[j] != i)
				j++;
			stale = j == new->nfields || strcmp(old->fields[i].name, new->fields[j].name) != 0 ||
				needs_conversion(&old->fields[i], &new->fields[j]);
		}
		if (stale)
			rc = drop_index(db, ix->name);
	}
	/* Removed fields go first, so their names can be reused. */
	for (int i = 0; i < old->nfields && !rc; i++) {
		int kept = 0;
		for (int j = 0; j < new->nfields; j++)
			kept |= old_of[j] == i;
		if (!kept)
			rc = alter(db, new->name, "DROP COLUMN", old->fields[i].name, NULL, NULL);
	}
	/* Renames through temporary names, so swapping two names works. */
	for (int pass = 0; pass < 2 && !rc; pass++)
		for (int j = 0; j < new->nfields && !rc; j++) {
			const char *from = old_of[j] >= 0 ? old->fields[old_of[j]].name : NULL;
			if (!from || strcmp(from, new->fields[j].name) == 0)
				continue;
			snprintf(tmp, sizeof tmp, "crm_renaming_%d", j);
			rc = pass == 0 ? alter(db, new->name, "RENAME COLUMN", from, tmp, NULL)
				       : alter(db, new->name, "RENAME COLUMN", tmp, new->fields[j].name, NULL);
		}
	for (int j = 0; j < new->nfields && !rc; j++) {
		const crm__field *f = &new->fields[j];
		if (old_of[j] < 0) {
			rc = alter(db, new->name, "ADD COLUMN", f->name, NULL, crm__column_type(f));
			if (!rc && (f->flags & CRM__F_HAS_DEFAULT))
				rc = backfill_default(db, new, f);
		} else if (needs_conversion(&old->fields[old_of[j]], f))
			rc = convert_column(db, new, &old->fields[old_of[j]], f);
	}
	if (!rc)
		rc = recheck(db, new);
	if (!rc)
		rc = crm__ddl_sync_indexes(db, new, CRM__IX_CREATE);
	crm__free(old_of);
	return rc;
}
