/* The "search" declaration of a form (checked when crm_apply stores the
 * form), the index it asks for (made, rebuilt and dropped at apply through
 * the dialect), and the write-path hook that keeps an engine-kept index
 * (SQLite's FTS5 table) current. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "search_int.h"

/* Which columns each form's index covers now, so apply rebuilds an index
 * only when they change. */
#define INDEX_TABLE "crm_search_index"

typedef struct entry {
	crm__form *form; /* retained: the names point into it */
	crm__search_decl decl;
	char *sync_add, *sync_remove; /* NULL: the dialect keeps the index */
} entry;

typedef struct cache {
	entry *e;
	int n, cap;
} cache;

static void cache_flush(void *p)
{
	cache *c = p;

	for (int i = 0; i < c->n; i++) {
		crm__form_release(c->e[i].form);
		crm__free(c->e[i].sync_add);
		crm__free(c->e[i].sync_remove);
	}
	c->n = 0;
}

static void cache_free(void *p)
{
	cache *c = p;

	cache_flush(c);
	crm__free(c->e);
	crm__free(c);
}

static cache *cache_of(crm_db *db)
{
	if (!db->ext[CRM__EXT_SEARCH] && (db->ext[CRM__EXT_SEARCH] = crm__calloc(1, sizeof(cache)))) {
		db->ext_free[CRM__EXT_SEARCH] = cache_free;
		db->ext_flush[CRM__EXT_SEARCH] = cache_flush;
	}
	return db->ext[CRM__EXT_SEARCH];
}

static int fail(crm_db *db, const crm__form *form, const char *path, const char *msg)
{
	crm__buf detail = CRM__BUF_INIT;
	int rc;

	crm__buf_puts(&detail, "\"path\":");
	crm__json_cstr(&detail, path);
	rc = detail.oom ? crm__error_oom(db)
			: crm__error_detail(db, CRM_EINVAL, crm__buf_cstr(&detail), "form %s: %s: %s", form->name, path, msg);
	crm__buf_free(&detail);
	return rc;
}

static int searchable(crm_type t)
{
	return t == CRM_TYPE_TEXT || t == CRM_TYPE_LONG_TEXT || t == CRM_TYPE_EMAIL || t == CRM_TYPE_PHONE ||
	       t == CRM_TYPE_URL;
}

/* "search": {"fields": ["name", ...]}: 1 to 16 distinct text-like fields. */
static int compile(crm_db *db, const crm__form *form, const cJSON *s, crm__search_decl *d)
{
	const cJSON *fields, *f;
	char path[48];
	int i = 0;

	memset(d, 0, sizeof *d);
	if (!s)
		return CRM_OK;
	if (!cJSON_IsObject(s))
		return fail(db, form, "search", "'search' is an object {\"fields\": [...]}");
	for (const cJSON *m = s->child; m; m = m->next)
		if (strcmp(m->string, "fields") != 0) {
			snprintf(path, sizeof path, "search.%.32s", m->string);
			return fail(db, form, path, "unknown key (search has only \"fields\")");
		}
	fields = cJSON_GetObjectItemCaseSensitive(s, "fields");
	if (!cJSON_IsArray(fields) || cJSON_GetArraySize(fields) < 1 || cJSON_GetArraySize(fields) > CRM__SEARCH_MAX_FIELDS)
		return fail(db, form, "search.fields", "'fields' is a list of 1 to 16 field names");
	cJSON_ArrayForEach(f, fields)
	{
		const crm__field *fd = cJSON_IsString(f) ? crm__form_field(form, f->valuestring, strlen(f->valuestring)) : NULL;

		snprintf(path, sizeof path, "search.fields[%d]", i);
		if (!fd)
			return fail(db, form, path, cJSON_IsString(f) ? "no such field" : "a field name is a string");
		if (!searchable(fd->type))
			return fail(db, form, path, "only text, long_text, email, phone and url fields are searched");
		for (int j = 0; j < i; j++)
			if (d->cols[j] == fd->position)
				return fail(db, form, path, "the field is listed twice");
		d->cols[i] = fd->position;
		d->names[i++] = fd->name;
	}
	d->n = i;
	return CRM_OK;
}

static int make_entry(crm_db *db, crm__form *form, entry *e)
{
	const crm__dialect *dl = db->be->dialect;
	cJSON *body = cJSON_Parse(form->body);
	crm__buf add = CRM__BUF_INIT, rm = CRM__BUF_INIT;
	int rc;

	if (!body)
		return crm__error_oom(db);
	rc = compile(db, form, cJSON_GetObjectItemCaseSensitive(body, "search"), &e->decl);
	cJSON_Delete(body);
	if (rc)
		return rc;
	if (e->decl.n && dl->search_sync) {
		dl->search_sync(&add, form->name, e->decl.names, e->decl.n, 0);
		dl->search_sync(&rm, form->name, e->decl.names, e->decl.n, 1);
		e->sync_add = crm__buf_detach(&add);
		e->sync_remove = crm__buf_detach(&rm);
		crm__buf_free(&add);
		crm__buf_free(&rm);
		if (!e->sync_add || !e->sync_remove) {
			crm__free(e->sync_add);
			crm__free(e->sync_remove);
			return crm__error_oom(db);
		}
	}
	crm__form_retain(form);
	e->form = form;
	return CRM_OK;
}

static int entry_of(crm_db *db, crm__form *form, const entry **out)
{
	cache *c = cache_of(db);
	int rc;

	if (!c)
		return crm__error_oom(db);
	for (int i = 0; i < c->n; i++)
		if (c->e[i].form == form || (c->e[i].form->version == form->version && strcmp(c->e[i].form->name, form->name) == 0)) {
			*out = &c->e[i];
			return CRM_OK;
		}
	if (c->n == c->cap) {
		int cap = c->cap ? 2 * c->cap : 8;
		entry *ne = crm__realloc(c->e, (size_t)cap * sizeof *ne);
		if (!ne)
			return crm__error_oom(db);
		c->e = ne;
		c->cap = cap;
	}
	memset(&c->e[c->n], 0, sizeof c->e[c->n]);
	if ((rc = make_entry(db, form, &c->e[c->n])))
		return rc;
	*out = &c->e[c->n++];
	return CRM_OK;
}

int crm__search_decl_of(crm_db *db, crm__form *form, const crm__search_decl **out)
{
	const entry *e;
	int rc = entry_of(db, form, &e);

	*out = rc ? NULL : &e->decl;
	return rc;
}

/* ---- the index, at apply ---- */

static int has_index_table(crm_db *db, int *exists) { return db->be->relation_exists(db, INDEX_TABLE, exists); }

/* "name:text,notes:long_text": a rename or a type change (which drops and
 * re-adds the column, and with it PostgreSQL's index) makes it differ. */
static void columns_text(crm__buf *b, const crm__form *form, const crm__search_decl *d)
{
	for (int i = 0; i < d->n; i++) {
		crm__buf_puts(b, i ? "," : "");
		crm__buf_puts(b, d->names[i]);
		crm__buf_putc(b, ':');
		crm__buf_puts(b, crm__type_name(form->fields[d->cols[i]].type));
	}
}

static int run_bound(crm_db *db, const char *sql, const char *a, const char *b)
{
	crm__stmt *st = crm__stmt_take(db, sql, (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	crm__bind_text(st, 1, a, -1);
	if (b)
		crm__bind_text(st, 2, b, -1);
	rc = crm__step(st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

static int rebuild(crm_db *db, const char *name, const crm__search_decl *d, const char *columns)
{
	crm__buf sql = CRM__BUF_INIT;
	int rc;

	db->be->dialect->search_index(&sql, name, d->names, d->n, d->n > 0);
	rc = sql.oom ? crm__error_oom(db) : crm__exec(db, crm__buf_cstr(&sql));
	crm__buf_free(&sql);
	if (rc == CRM_OK)
		rc = run_bound(db, "DELETE FROM " INDEX_TABLE " WHERE form = ?", name, NULL);
	if (rc == CRM_OK && d->n)
		rc = run_bound(db, "INSERT INTO " INDEX_TABLE "(form, columns) VALUES (?, ?)", name, columns);
	return rc;
}

int crm__search_form_applied(crm_db *db, const char *name)
{
	const crm__search_decl *d;
	crm__form *form;
	crm__buf want = CRM__BUF_INIT, have = CRM__BUF_INIT;
	int rc, exists = 0, rows = 0;

	if ((rc = crm__form_lookup(db, name, &form)) || (rc = crm__search_decl_of(db, form, &d)) ||
	    (rc = has_index_table(db, &exists)))
		return rc;
	if (!exists && d->n == 0)
		return CRM_OK; /* never searched: no table to make */
	if (!exists && (rc = crm__exec_schema(db, "CREATE TABLE IF NOT EXISTS " INDEX_TABLE
						  "(form {text} PRIMARY KEY, columns {text} NOT NULL)")))
		return rc;
	columns_text(&want, form, d);
	rc = crm__stmt_texts(db, "SELECT columns FROM " INDEX_TABLE " WHERE form = ?1", name, NULL, &have, &rows);
	if (rc == CRM_OK && (want.oom || have.oom))
		rc = crm__error_oom(db);
	/* The same columns: the index is current (the write path kept it). */
	if (rc == CRM_OK && !(rows == 0 && d->n == 0) && !(rows == 1 && strcmp(have.p, crm__buf_cstr(&want)) == 0))
		rc = rebuild(db, name, d, crm__buf_cstr(&want));
	crm__buf_free(&want);
	crm__buf_free(&have);
	return rc;
}

int crm__search_forms(crm_db *db, crm__buf *names, int *n)
{
	int rc, exists = 0;

	*n = 0;
	if ((rc = has_index_table(db, &exists)) || !exists)
		return rc;
	return crm__stmt_texts(db, "SELECT form FROM " INDEX_TABLE " ORDER BY form", NULL, NULL, names, n);
}

/* ---- the write path ---- */

static int sync(crm_db *db, const char *sql, int64_t id, const crm__search_decl *d, const crm__value *values)
{
	crm__stmt *st = crm__stmt_take(db, sql, (size_t)-1);
	int rc = CRM_OK;

	if (!st)
		return db->errcode;
	crm__bind_int64(st, 1, id);
	for (int i = 0; i < d->n && rc == CRM_OK; i++)
		rc = crm__value_bind(st, i + 2, &values[d->cols[i]]);
	if (rc == CRM_OK)
		rc = crm__step(st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

int crm__search_watches(crm_db *db, crm__form *form)
{
	const entry *e;

	if (!db->be->dialect->search_sync)
		return 0;
	return entry_of(db, form, &e) ? -1 : e->decl.n > 0;
}

int crm__search_after_write(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now)
{
	const entry *e;
	int rc, changed = 0;

	if (!db->be->dialect->search_sync)
		return CRM_OK;
	if ((rc = entry_of(db, w->form, &e)) || e->decl.n == 0)
		return rc;
	for (int i = 0; i < e->decl.n && old && now && !changed; i++)
		changed = !crm__value_same(&old[e->decl.cols[i]], &now[e->decl.cols[i]]);
	if (old && now && !changed)
		return CRM_OK;
	if (old && (rc = sync(db, e->sync_remove, w->id, &e->decl, old)))
		return rc;
	return now ? sync(db, e->sync_add, w->id, &e->decl, now) : CRM_OK;
}
