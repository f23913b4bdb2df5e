/* Duplicate rules ("duplicates" in form metadata, docs/metadata.md): their
 * compilation, the stored normalised key of each exact rule (crm_dupkey,
 * kept current by the write path and refilled on apply, so an insert's
 * check is one indexed lookup) and the on_insert block/warn check. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "access/access.h"
#include "core/alloc.h"
#include "dedup_int.h"
#include "form/form_int.h"
#include "store/ddl.h"

/* Keys longer than this are stored as their SHA-256 (an index entry stays
 * small on both backends; equal keys still meet). */
#define KEY_MAX 200

/* The handle's slot: OpenCC's converter and whether the tables exist. */
typedef struct dedup_state {
	void *cc;
	int schema_ready;
} dedup_state;

static void state_free(void *p)
{
	dedup_state *s = p;

	if (s)
		crm__norm_close(s->cc);
	crm__free(s);
}

static void state_flush(void *p) { ((dedup_state *)p)->schema_ready = 0; }

static dedup_state *state_of(crm_db *db)
{
	if (!db->ext[CRM__EXT_DEDUP]) {
		db->ext[CRM__EXT_DEDUP] = crm__calloc(1, sizeof(dedup_state));
		db->ext_free[CRM__EXT_DEDUP] = state_free;
		db->ext_flush[CRM__EXT_DEDUP] = state_flush;
	}
	return db->ext[CRM__EXT_DEDUP];
}

void **crm__norm_cc(crm_db *db)
{
	dedup_state *s = state_of(db);

	return s ? &s->cc : NULL;
}

/* crm_dupkey: one row per record and exact rule that gives it a key.
 * crm_merge: one row per merge, what undo needs (docs/integration.md). */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS crm_dupkey(form {text} NOT NULL, rule {text} NOT NULL, record {int} NOT NULL,"
	" k {text} NOT NULL, PRIMARY KEY(form, rule, record)){without_rowid};"
	"CREATE INDEX IF NOT EXISTS crm_dupkey_k ON crm_dupkey(form, rule, k);"
	"CREATE TABLE IF NOT EXISTS crm_merge({id}, at {int} NOT NULL, actor TEXT, form TEXT NOT NULL,"
	" survivor {int} NOT NULL, other {int} NOT NULL, version {int} NOT NULL, data TEXT NOT NULL, undone_at {int});";

int crm__dedup_schema(crm_db *db)
{
	dedup_state *s = state_of(db);

	return s ? crm__exec_schema_once(db, &s->schema_ready, "crm_merge", schema_sql) : crm__error_oom(db);
}

/* ---- compiling the "duplicates" member ---- */

void crm__dedup_free(crm__dedup *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->nrules; i++)
		crm__free(d->rules[i].name);
	crm__free(d->keep);
	crm__free(d);
}

int crm__dedup_keep_from_name(const char *name)
{
	static const char *const names[] = { "non_empty", "survivor", "other", "newest" };

	return crm__name_index(names, sizeof names / sizeof *names, name);
}

/* Only keys listed in `keys` (NULL-terminated); 0 or the error. */
static int only_keys(crm_db *db, const cJSON *obj, const char *const *keys, const char *path)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, obj)
	{
		const char *const *k = keys;
		while (*k && strcmp(*k, m->string) != 0)
			k++;
		if (!*k)
			return crm__error_path(db, path, "unknown member '%.64s' (allowed: %s%s%s%s%s)", m->string, keys[0],
					       keys[1] ? ", " : "", keys[1] ? keys[1] : "", keys[1] && keys[2] ? ", " : "",
					       keys[1] && keys[2] ? keys[2] : "");
	}
	return CRM_OK;
}

/* A field a rule may compare: text-like, stored as text, readable as written. */
static int rule_field(crm_db *db, const crm__form *form, const cJSON *name, const char *path, int *out)
{
	const crm__field *f = cJSON_IsString(name) ? crm__form_field(form, name->valuestring, strlen(name->valuestring))
						    : NULL;

	if (!cJSON_IsString(name))
		return crm__error_path(db, path, "a field name is a string");
	if (!f)
		return crm__error_path(db, path, "form %s has no field '%.64s'", form->name, name->valuestring);
	switch (f->type) {
	case CRM_TYPE_TEXT: case CRM_TYPE_LONG_TEXT: case CRM_TYPE_EMAIL: case CRM_TYPE_PHONE: case CRM_TYPE_URL:
	case CRM_TYPE_ENUM: break;
	default:
		return crm__error_path(db, path, "field '%s' is a %s: duplicate rules compare text fields", f->name,
				       crm__type_name(f->type));
	}
	*out = f->position;
	return CRM_OK;
}

static int compile_exact(crm_db *db, const crm__form *form, const cJSON *fields, crm__dedup_rule *r, const char *at)
{
	static const char *const keys[] = { "field", "normalize", NULL };
	const cJSON *e;
	char path[128];
	int rc;

	if (!cJSON_IsArray(fields) || cJSON_GetArraySize(fields) < 1 || cJSON_GetArraySize(fields) > CRM__DEDUP_MAX_FIELDS)
		return crm__error_path(db, at, "a rule has \"fields\": 1 to %d {\"field\", \"normalize\"} objects, or "
					       "\"fuzzy\"", CRM__DEDUP_MAX_FIELDS);
	cJSON_ArrayForEach(e, fields)
	{
		const cJSON *norm = cJSON_GetObjectItemCaseSensitive(e, "normalize");
		snprintf(path, sizeof path, "%s.fields[%d]", at, r->nfields);
		if (!cJSON_IsObject(e))
			return crm__error_path(db, path, "a rule field is {\"field\": name, \"normalize\": how}");
		if ((rc = only_keys(db, e, keys, path)) ||
		    (rc = rule_field(db, form, cJSON_GetObjectItemCaseSensitive(e, "field"), path, &r->fields[r->nfields])))
			return rc;
		r->norm[r->nfields] = CRM__NORM_EXACT;
		if (norm && (r->norm[r->nfields] = crm__norm_from_name(cJSON_GetStringValue(norm))) == (crm__norm)-1)
			return crm__error_path(db, path, "normalize is one of exact, phone, email, name");
		r->nfields++;
	}
	return CRM_OK;
}

static int compile_fuzzy(crm_db *db, const crm__form *form, const cJSON *fz, crm__dedup_rule *r, const char *at)
{
	static const char *const keys[] = { "fields", "threshold", NULL };
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(fz, "fields"), *e;
	const cJSON *th = cJSON_GetObjectItemCaseSensitive(fz, "threshold");
	char path[128];
	int rc;

	snprintf(path, sizeof path, "%s.fuzzy", at);
	if (!cJSON_IsObject(fz))
		return crm__error_path(db, path, "fuzzy is {\"fields\": [...], \"threshold\": 0..1}");
	if ((rc = only_keys(db, fz, keys, path)))
		return rc;
	if (!cJSON_IsArray(fields) || cJSON_GetArraySize(fields) < 1 || cJSON_GetArraySize(fields) > CRM__DEDUP_MAX_FIELDS)
		return crm__error_path(db, path, "fuzzy fields: 1 to %d field names", CRM__DEDUP_MAX_FIELDS);
	if (!cJSON_IsNumber(th) || !(th->valuedouble > 0 && th->valuedouble <= 1))
		return crm__error_path(db, path, "fuzzy threshold is a number above 0 and at most 1");
	r->fuzzy = 1;
	r->threshold = th->valuedouble;
	cJSON_ArrayForEach(e, fields)
	{
		snprintf(path, sizeof path, "%s.fuzzy.fields[%d]", at, r->nfields);
		if ((rc = rule_field(db, form, e, path, &r->fields[r->nfields])))
			return rc;
		r->norm[r->nfields++] = CRM__NORM_NAME;
	}
	return CRM_OK;
}

static int compile_rule(crm_db *db, crm__form *form, crm__dedup *d, const cJSON *rd)
{
	static const char *const keys[] = { "name", "fields", "fuzzy", NULL };
	crm__dedup_rule *r = &d->rules[d->nrules];
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rd, "name"));
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(rd, "fields");
	const cJSON *fz = cJSON_GetObjectItemCaseSensitive(rd, "fuzzy");
	char at[64];
	int rc;

	snprintf(at, sizeof at, "duplicates.rules[%d]", d->nrules);
	if (!cJSON_IsObject(rd))
		return crm__error_path(db, at, "a rule is {\"name\", \"fields\"} or {\"name\", \"fuzzy\"}");
	if ((rc = only_keys(db, rd, keys, at)))
		return rc;
	if (!name || !crm__valid_name(name))
		return crm__error_path(db, at, "a rule has a \"name\" (a-z, 0-9, _; starting with a letter)");
	for (int i = 0; i < d->nrules; i++)
		if (strcmp(d->rules[i].name, name) == 0)
			return crm__error_path(db, at, "rule '%s' is defined twice", name);
	if (!!fields == !!fz)
		return crm__error_path(db, at, "a rule has either \"fields\" (exact) or \"fuzzy\"");
	if (!(r->name = crm__strdup(name)))
		return crm__error_oom(db);
	d->nrules++;
	rc = fz ? compile_fuzzy(db, form, fz, r, at) : compile_exact(db, form, fields, r, at);
	d->nexact += rc == CRM_OK && !fz;
	return rc;
}

static int compile_keep(crm_db *db, crm__form *form, crm__dedup *d, const cJSON *merge)
{
	const cJSON *m;
	char path[128];

	if (!merge)
		return CRM_OK;
	if (!cJSON_IsObject(merge))
		return crm__error_path(db, "duplicates.merge", "merge is {\"field\": \"non_empty\"|\"survivor\"|\"other\"|\"newest\"}");
	cJSON_ArrayForEach(m, merge)
	{
		const crm__field *f = crm__form_field(form, m->string, strlen(m->string));
		int keep = crm__dedup_keep_from_name(cJSON_GetStringValue(m));
		snprintf(path, sizeof path, "duplicates.merge.%.64s", m->string);
		if (!f)
			return crm__error_path(db, path, "form %s has no field '%.64s'", form->name, m->string);
		if (keep < 0)
			return crm__error_path(db, path, "a field keeps non_empty, survivor, other or newest");
		d->keep[f->position] = (unsigned char)keep;
	}
	return CRM_OK;
}

int crm__dedup_compile(crm_db *db, crm__form *form, const cJSON *def)
{
	static const char *const keys[] = { "rules", "on_insert", "merge", NULL };
	static const char *const modes[] = { "off", "warn", "block" };
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(def, "rules"), *rd;
	const cJSON *on = cJSON_GetObjectItemCaseSensitive(def, "on_insert");
	crm__dedup *d;
	int rc = CRM_OK;

	form->dedup = NULL;
	if (!def)
		return CRM_OK;
	if (!cJSON_IsObject(def))
		return crm__error_path(db, "duplicates", "duplicates is {\"rules\": [...], \"on_insert\", \"merge\"}");
	if ((rc = only_keys(db, def, keys, "duplicates")))
		return rc;
	if (!cJSON_IsArray(rules) || cJSON_GetArraySize(rules) > CRM__DEDUP_MAX_RULES)
		return crm__error_path(db, "duplicates.rules", "rules is a list of at most %d rules", CRM__DEDUP_MAX_RULES);
	if (!(d = crm__calloc(1, sizeof *d)) || !(d->keep = crm__calloc((size_t)form->nfields, 1))) {
		crm__dedup_free(d);
		return crm__error_oom(db);
	}
	form->dedup = d;
	memset(d->keep, CRM__KEEP_UNSAID, (size_t)form->nfields);
	if (on) {
		d->on_insert = crm__name_index(modes, sizeof modes / sizeof *modes, cJSON_GetStringValue(on));
		if (d->on_insert < 0)
			return crm__error_path(db, "duplicates.on_insert", "on_insert is \"off\", \"warn\" or \"block\"");
	}
	cJSON_ArrayForEach(rd, rules)
	{
		if ((rc = compile_rule(db, form, d, rd)))
			return rc;
	}
	if (d->on_insert != CRM__ON_INSERT_OFF && d->nexact == 0)
		return crm__error_path(db, "duplicates.on_insert", "on_insert checks exact rules: the form has none");
	return compile_keep(db, form, d, cJSON_GetObjectItemCaseSensitive(def, "merge"));
}

/* ---- keys ---- */

int crm__dedup_key(crm_db *db, const crm__dedup_rule *r, const crm__value *v, crm__buf *out)
{
	crm__buf_reset(out);
	for (int i = 0; i < r->nfields; i++) {
		const crm__value *x = &v[r->fields[i]];
		size_t before;
		int rc;

		if (x->kind != CRM__V_TEXT)
			goto none;
		if (i)
			crm__buf_putc(out, '\x1f');
		before = out->len;
		if ((rc = crm__normalize(db, r->norm[i], x->s, x->n, out)))
			return rc;
		if (out->len == before)
			goto none;
	}
	if (out->len > KEY_MAX) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		if (!EVP_Digest(out->p, out->len, md, &n, EVP_sha256(), NULL))
			return crm__error(db, CRM_ERROR, "SHA-256 failed");
		crm__buf_reset(out);
		crm__buf_puts(out, "sha256:");
		for (unsigned int i = 0; i < n; i++)
			crm__buf_printf(out, "%02x", md[i]);
	}
	return out->oom ? crm__error_oom(db) : CRM_OK;
none:
	crm__buf_reset(out);
	return CRM_OK;
}

int crm__dedup_watches(const crm__form *form) { return form->dedup && form->dedup->nexact > 0; }

/* Run one statement of `sql` with ?1 form, ?2 rule, ?3 record and ?4 key
 * (those given); *found (may be NULL) gets the first column of its row, 0 when none. */
static int run(crm_db *db, const char *sql, const char *form, const char *rule, int64_t record, const crm__buf *key,
	       int64_t *found)
{
	crm__stmt *st = crm__stmt_take(db, sql, (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	crm__bind_text(st, 1, form, -1);
	crm__bind_text(st, 2, rule, -1);
	crm__bind_int64(st, 3, record);
	if (key)
		crm__bind_text(st, 4, key->p ? key->p : "", (int)key->len);
	rc = crm__step(st);
	if (found)
		*found = rc == CRM_ROW ? crm__column_int64(st, 0) : 0;
	crm__stmt_give(db, st);
	return rc == CRM_ROW || rc == CRM_DONE ? CRM_OK : rc;
}

static const char SET_KEY[] = "INSERT INTO crm_dupkey(form, rule, record, k) VALUES(?1, ?2, ?3, ?4)"
			      " ON CONFLICT(form, rule, record) DO UPDATE SET k = excluded.k";
static const char DROP_KEY[] = "DELETE FROM crm_dupkey WHERE form = ?1 AND rule = ?2 AND record = ?3";

/* Inserts checking one key of one rule take turns until each commits
 * (PostgreSQL: a transaction-scoped advisory lock on a hash of form, rule
 * and key), so the second sees the first's key: the check reads only what
 * is committed. Taken before the key is written. Different keys meeting in
 * the hash only wait for each other. */
static int lock_key(crm_db *db, const char *form, const crm__dedup_rule *r, const crm__buf *key)
{
	const char *sql = db->be->dialect->lock_value;
	const char *parts[] = { "libcrm:dupkey", form, r->name };
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a 64 */
	crm__stmt *st;
	int rc;

	if (!sql)
		return CRM_OK;
	for (int k = 0; k < 3; k++) /* each with its NUL: "ab"+"c" is not "a"+"bc" */
		for (size_t i = 0, n = strlen(parts[k]) + 1; i < n; i++)
			h = (h ^ (unsigned char)parts[k][i]) * UINT64_C(0x100000001b3);
	for (size_t i = 0; i < key->len; i++)
		h = (h ^ (unsigned char)key->p[i]) * UINT64_C(0x100000001b3);
	if (!(st = crm__stmt_take(db, sql, (size_t)-1)))
		return db->errcode;
	crm__bind_int64(st, 1, (int64_t)h);
	rc = crm__step(st);
	crm__stmt_give(db, st);
	return rc == CRM_ROW || rc == CRM_DONE ? CRM_OK : rc;
}

/* Another record holding `key` for the rule: block the insert, or warn.
 * The other record is named only to an actor who may read it. */
static int on_insert(crm_db *db, const crm__write *w, const crm__dedup_rule *r, const crm__buf *key)
{
	static const char sql[] = "SELECT record FROM crm_dupkey WHERE form = ?1 AND rule = ?2 AND k = ?4"
				  " AND record <> ?3 ORDER BY record LIMIT 1";
	const crm__form *form = w->form;
	const char *field = form->fields[r->fields[0]].name;
	crm__access *a = NULL;
	crm__buf msg = CRM__BUF_INIT, members = CRM__BUF_INIT;
	int64_t other;
	int rc, seen = 1;

	if ((rc = run(db, sql, form->name, r->name, w->id, key, &other)) || !other)
		return rc;
	if ((rc = crm__access_open(db, form, &a)) == CRM_OK && a)
		rc = crm__access_row(db, a, CRM__ACCESS_READ, form, other, &seen);
	/* A rule on a field the actor may not read matches nothing for them
	 * (its answer would tell the hidden value). */
	for (int k = 0; rc == CRM_OK && k < r->nfields; k++)
		if (!crm__access_readable(a, r->fields[k]))
			other = 0;
	crm__access_free(a);
	if (rc || !other)
		return rc;
	if (seen)
		crm__buf_printf(&msg, "%s record %lld has the same %s (duplicate rule '%s')", form->name, (long long)other,
				field, r->name);
	else
		crm__buf_printf(&msg, "a %s record with the same %s exists (duplicate rule '%s')", form->name, field, r->name);
	crm__buf_puts(&members, "{\"code\":\"duplicate\",\"form\":");
	crm__json_cstr(&members, form->name);
	crm__buf_puts(&members, ",\"field\":");
	crm__json_cstr(&members, field);
	crm__buf_puts(&members, ",\"rule\":");
	crm__json_cstr(&members, r->name);
	if (seen)
		crm__buf_printf(&members, ",\"record\":%lld", (long long)other);
	crm__buf_puts(&members, ",\"message\":");
	crm__json_cstr(&members, crm__buf_cstr(&msg));
	crm__buf_putc(&members, '}');
	if (msg.oom || members.oom)
		rc = crm__error_oom(db);
	else if (form->dedup->on_insert == CRM__ON_INSERT_WARN)
		rc = crm__warn(db, members.p, members.len);
	else {
		/* The detail's "errors" entry as a failing field's, plus who and why. */
		crm__buf errs = CRM__BUF_INIT;
		crm__buf_puts(&errs, "\"errors\":[");
		crm__buf_put(&errs, members.p, members.len);
		crm__buf_puts(&errs, "],\"rule\":");
		crm__json_cstr(&errs, r->name);
		if (seen)
			crm__buf_printf(&errs, ",\"duplicate_of\":%lld", (long long)other);
		rc = errs.oom ? crm__error_oom(db)
			      : crm__error_detail(db, CRM_ECONSTRAINT, crm__buf_cstr(&errs), "%s", crm__buf_cstr(&msg));
		crm__buf_free(&errs);
	}
	crm__buf_free(&msg);
	crm__buf_free(&members);
	return rc;
}

int crm__dedup_after_write(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now)
{
	const crm__dedup *d = w->form->dedup;
	crm__buf key = CRM__BUF_INIT, was = CRM__BUF_INIT;
	int rc, check;

	if (!d || d->nexact == 0)
		return CRM_OK; /* the common case: no query */
	if ((rc = crm__dedup_schema(db)))
		return rc;
	for (int i = 0; i < d->nrules && rc == CRM_OK; i++) {
		const crm__dedup_rule *r = &d->rules[i];

		if (r->fuzzy)
			continue;
		if (!now) {
			rc = run(db, DROP_KEY, w->form->name, r->name, w->id, NULL, NULL);
			continue;
		}
		if ((rc = crm__dedup_key(db, r, now, &key)) || (old && (rc = crm__dedup_key(db, r, old, &was))))
			break;
		if (old && key.len == was.len && memcmp(key.p ? key.p : "", was.p ? was.p : "", key.len) == 0)
			continue; /* unchanged: the common update */
		/* a record merge undo brings back was there before: not checked */
		check = !old && !w->restore_id && d->on_insert != CRM__ON_INSERT_OFF;
		if (key.len == 0)
			rc = old ? run(db, DROP_KEY, w->form->name, r->name, w->id, NULL, NULL) : CRM_OK;
		else if ((!check || (rc = lock_key(db, w->form->name, r, &key)) == CRM_OK) &&
			 (rc = run(db, SET_KEY, w->form->name, r->name, w->id, &key, NULL)) == CRM_OK && check)
			rc = on_insert(db, w, r, &key);
	}
	crm__buf_free(&key);
	crm__buf_free(&was);
	return rc;
}

/* Every record's keys, from its stored values. */
static int refill(crm_db *db, crm__form *form)
{
	crm__buf sql = CRM__BUF_INIT, key = CRM__BUF_INIT;
	crm__value *v = crm__calloc((size_t)form->nfields, sizeof *v);
	crm__stmt *st;
	int rc, src;

	if (!v)
		return crm__error_oom(db);
	crm__sql_select_all(&sql, form);
	if (!(st = crm__stmt_take_buf(db, &sql))) {
		crm__free(v);
		return db->errcode;
	}
	rc = CRM_OK;
	while (rc == CRM_OK && (src = crm__step(st)) == CRM_ROW) {
		int64_t id = crm__column_int64(st, 0);
		for (int i = 0; i < form->dedup->nrules && rc == CRM_OK; i++) {
			const crm__dedup_rule *r = &form->dedup->rules[i];
			if (r->fuzzy)
				continue;
			for (int k = 0; k < r->nfields; k++)
				crm__value_column(&v[r->fields[k]], &form->fields[r->fields[k]], st,
						  CRM__SEL_FIELD(r->fields[k]));
			if ((rc = crm__dedup_key(db, r, v, &key)) == CRM_OK && key.len)
				rc = run(db, SET_KEY, form->name, r->name, id, &key, NULL);
		}
	}
	if (rc == CRM_OK && src != CRM_DONE)
		rc = src;
	crm__stmt_give(db, st);
	crm__buf_free(&key);
	crm__free(v);
	return rc;
}

int crm__dedup_form_changed(crm_db *db, const char *name)
{
	crm__form *form;
	crm__stmt *st;
	int rc, exists = 1;

	if ((rc = crm__form_lookup(db, name, &form)))
		return rc;
	if (!form->dedup && (rc = db->be->relation_exists(db, "crm_dupkey", &exists)))
		return rc;
	if (!exists)
		return CRM_OK; /* nothing was ever kept */
	if ((rc = crm__dedup_schema(db)))
		return rc;
	if (!(st = crm__stmt_take(db, "DELETE FROM crm_dupkey WHERE form = ?1", (size_t)-1)))
		return db->errcode;
	crm__bind_text(st, 1, name, -1);
	rc = crm__step(st);
	crm__stmt_give(db, st);
	if (rc != CRM_DONE)
		return rc;
	return form->dedup && form->dedup->nexact ? refill(db, form) : CRM_OK;
}
