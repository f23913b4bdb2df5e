/* Schema evolution: turn the table of one form version into the next
 * inside the caller's transaction. Fields are matched by their stable id, so
 * a rename keeps its column's data; a type change converts every value or
 * refuses with the records that do not convert; computed fields are
 * recomputed. Every change is written to the apply summary, and a change
 * that discards data (a dropped field holding values, a conversion that does
 * not convert back) is refused unless the caller allows it. */
#include <stdio.h>
#include <stdlib.h>
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

/* The first column of a one-row query over `table`: "SELECT <what> FROM table". */
static int count_of(crm_db *db, const char *what, const char *column, const char *table, int64_t *out)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	crm__buf_puts(&sql, "SELECT ");
	crm__buf_puts(&sql, what);
	if (column) {
		crm__buf_putc(&sql, '(');
		crm__sql_ident(&sql, column);
		crm__buf_putc(&sql, ')');
	}
	crm__buf_puts(&sql, " FROM ");
	crm__sql_ident(&sql, table);
	if (sql.oom) {
		crm__buf_free(&sql);
		return crm__error_oom(db);
	}
	rc = db->be->prepare(db, sql.p, sql.len, &st);
	crm__buf_free(&sql);
	if (rc != CRM_OK)
		return rc;
	rc = crm__step(st);
	*out = rc == CRM_ROW ? crm__column_int64(st, 0) : 0;
	crm__finalize(st);
	return rc == CRM_ROW ? CRM_OK : rc;
}

/* Start one change of the summary: {"change":KIND,"field":NAME ... (the
 * caller adds its members and the closing brace). */
static void change_begin(crm__form_changes *ch, const char *kind, const char *field)
{
	if (ch->json.len)
		crm__buf_putc(&ch->json, ',');
	crm__buf_puts(&ch->json, "{\"change\":");
	crm__json_cstr(&ch->json, kind);
	if (field) {
		crm__buf_puts(&ch->json, ",\"field\":");
		crm__json_cstr(&ch->json, field);
	}
}

/* A field whose value is derived from others: dropping it loses nothing. */
static int is_derived(const crm__field *f) { return f->type == CRM_TYPE_COMPUTED || f->type == CRM_TYPE_ROLLUP; }

/* The type a summary shows: a computed field by what it returns. */
static const char *shown_type(const crm__field *f)
{
	return crm__type_name(f->type == CRM_TYPE_COMPUTED ? f->value_type : f->type);
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

	err->code = NULL; /* failing without a code: out of memory */
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
		if (arr.oom) {
			crm__buf_free(&arr);
			return -1;
		}
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
	if (rc && err->code && strcmp(err->code, "memory") == 0)
		err->code = NULL;
	/* The result may point into `text`: keep it in scratch instead. */
	if (rc == 0 && out->kind == CRM__V_TEXT && out->s >= text.p && out->s < text.p + text.len) {
		size_t at = scratch->len;
		crm__buf_put(scratch, out->s, out->n);
		out->s = scratch->p + at;
	}
	crm__buf_free(&text);
	return rc;
}

/* Text that read as a number: its spelling may change ("1e3" comes back as
 * "1000"), its value may not ("0.10000000000000000555" as a double comes
 * back as "0.1"). Compared in long double, wider than what is stored. */
static int changed_number_text(const crm__value *a, const crm__value *b)
{
	char x[64], y[64];

	if (a->n >= sizeof x || b->n >= sizeof y)
		return a->n != b->n || memcmp(a->s, b->s, a->n) != 0;
	memcpy(x, a->s, a->n);
	x[a->n] = 0;
	memcpy(y, b->s, b->n);
	y[b->n] = 0;
	return strtold(x, NULL) != strtold(y, NULL);
}

/* Does `back` (a value converted and converted back) differ from the original `v`? */
static int changed_value(const crm__value *v, const crm__value *back)
{
	int numeric = v->kind == CRM__V_TEXT && v->n && ((v->s[0] >= '0' && v->s[0] <= '9') || v->s[0] == '-');

	if (numeric && back->kind == CRM__V_TEXT)
		return changed_number_text(v, back);
	return crm__value_compare(back, v) != 0;
}

/* Convert column `f` (of `old_f` values) in place through a new column,
 * counting the values that would not convert back to what they were
 * ("012" as an integer is 12, which reads back as "12"). */
static int convert_column(crm_db *db, const crm__form *form, const crm__field *old_f, const crm__field *f,
			  crm__form_changes *ch, int64_t rows)
{
	crm__buf sql = CRM__BUF_INIT, scratch = CRM__BUF_INIT, back_scratch = CRM__BUF_INIT;
	failures fl = { CRM__BUF_INIT, 0, "" };
	crm__stmt *rd = NULL, *wr = NULL;
	static const char tmp[] = "crm_converting";
	int64_t lost = 0, first_lost = 0;
	int rc, src;

	if ((rc = alter(db, form->name, "ADD COLUMN", tmp, NULL, crm__field_sql_type(db, f))))
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
	while ((src = crm__step(rd)) == CRM_ROW) {
		int64_t id = crm__column_int64(rd, 0);
		crm__value v, out;
		crm__verr err;

		crm__value_column(&v, old_f, rd, 1);
		if (f->type == CRM_TYPE_COMPUTED || f->type == CRM_TYPE_ROLLUP)
			continue; /* recomputed, not converted */
		if (convert(old_f, f, &v, &scratch, &out, &err)) {
			if (!err.code)
				break; /* out of memory */
			failure_add(&fl, id, f->name, err.message);
			continue;
		}
		/* A value that cannot be converted back (an option as a set) was
		 * kept in another form, not lost. */
		if (v.kind != CRM__V_NULL) {
			crm__value back;
			crm__verr back_err;
			int back_rc = convert(f, old_f, &out, &back_scratch, &back, &back_err);

			if (back_rc && !back_err.code) {
				err.code = NULL;
				break; /* out of memory */
			}
			if (back_rc == 0 && changed_value(&v, &back) && lost++ == 0)
				first_lost = id;
		}
		crm__value_bind(wr, 1, &out);
		crm__bind_int64(wr, 2, id);
		src = crm__step(wr);
		crm__reset(wr);
		if (src != CRM_DONE)
			break;
	}
	if (src == CRM_ROW)
		rc = crm__error_oom(db); /* a conversion ran out of memory */
	else if (src != CRM_DONE)
		rc = src;
	else if (fl.count)
		rc = failure_raise(db, &fl, "form %s: cannot convert %s to its new type", form->name, f->name);
	change_begin(ch, "retype", f->name);
	crm__buf_puts(&ch->json, ",\"from\":");
	crm__json_cstr(&ch->json, shown_type(old_f));
	crm__buf_puts(&ch->json, ",\"to\":");
	crm__json_cstr(&ch->json, shown_type(f));
	crm__buf_printf(&ch->json, ",\"rows\":%lld,\"lost\":%lld,\"data_loss\":%s}", (long long)rows, (long long)lost,
			lost ? "true" : "false");
	if (lost)
		crm__errors_add(&ch->losses, f->name, "data_loss",
				"converting field '%s' from %s to %s would change %lld value%s (record %lld first)",
				f->name, shown_type(old_f), shown_type(f), (long long)lost, lost > 1 ? "s" : "",
				(long long)first_lost);
	ch->data_loss |= lost > 0;
done:
	crm__stmt_give(db, rd);
	crm__stmt_give(db, wr);
	crm__buf_free(&sql);
	crm__buf_free(&scratch);
	crm__buf_free(&back_scratch);
	crm__buf_free(&fl.json);
	if (rc == CRM_OK && (rc = alter(db, form->name, "DROP COLUMN", f->name, NULL, NULL)) == CRM_OK)
		rc = alter(db, form->name, "RENAME COLUMN", tmp, f->name, NULL);
	return rc;
}

static int backfill_default(crm_db *db, const crm__form *form, const crm__field *f)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	crm__sql_set_column(&sql, form->name, f->name, 0);
	st = crm__stmt_take_buf(db, &sql);
	if (!st)
		return db->errcode;
	crm__value_bind(st, 1, &f->def);
	rc = crm__step(st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

/* Store record `id`'s freshly computed values (one statement per field). */
static int store_computed(crm_db *db, const crm__form *form, crm__stmt **set, const crm__value *values, int64_t id)
{
	for (int i = 0; i < form->nfields; i++) {
		int src;

		if (!set[i])
			continue;
		crm__value_bind(set[i], 1, &values[i]);
		crm__bind_int64(set[i], 2, id);
		src = crm__step(set[i]);
		crm__reset(set[i]);
		if (src != CRM_DONE)
			return src;
	}
	return CRM_OK;
}

/* One UPDATE per computed field of `form`; the others stay NULL. */
static int prepare_computed(crm_db *db, const crm__form *form, crm__stmt **set)
{
	for (int i = 0; i < form->nfields; i++) {
		crm__buf sql = CRM__BUF_INIT;
		int src;

		if (form->fields[i].type != CRM_TYPE_COMPUTED)
			continue;
		crm__sql_set_column(&sql, form->name, form->fields[i].name, 1);
		if (sql.oom)
			return crm__error_oom(db);
		src = db->be->prepare(db, sql.p, sql.len, &set[i]);
		crm__buf_free(&sql);
		if (src != CRM_OK)
			return src;
	}
	return CRM_OK;
}

/* Every record's computed fields are computed again (their expression, type
 * or inputs may have changed), then every record must satisfy the new rules
 * (required, ranges, patterns...). A script failing on one record fails the
 * migration, naming the record. */
static int recheck(crm_db *db, const crm__form *form)
{
	crm__buf sql = CRM__BUF_INIT, computed = CRM__BUF_INIT;
	failures fl = { CRM__BUF_INIT, 0, "" };
	crm__errors errs = { 0 };
	crm__value *values = crm__calloc((size_t)form->nfields, sizeof *values);
	crm__stmt **set = crm__calloc((size_t)form->nfields, sizeof *set);
	crm__stmt *st = NULL;
	int rc = CRM_OK, src = CRM_DONE, has_computed = 0;

	for (int i = 0; i < form->nfields; i++)
		has_computed |= form->fields[i].type == CRM_TYPE_COMPUTED;
	has_computed &= crm__hooks.compute != NULL;

	crm__sql_select_all(&sql, form);
	if (!values || !set || sql.oom) {
		rc = crm__error_oom(db);
		goto done;
	}
	if (has_computed && (rc = prepare_computed(db, form, set)))
		goto done;
	/* Prepared directly: the statement text is one-off. */
	if ((src = db->be->prepare(db, sql.p, sql.len, &st)) != CRM_OK) {
		rc = src;
		goto done;
	}
	while ((src = crm__step(st)) == CRM_ROW) {
		int n;

		int64_t id = crm__column_int64(st, 0);

		for (int i = 0; i < form->nfields; i++)
			crm__value_column(&values[i], &form->fields[i], st, CRM__SEL_FIELD(i));
		if (has_computed) {
			char what[160], member[48];

			crm__buf_reset(&computed);
			if ((rc = crm__hooks.compute(db, form, values, &computed)) == CRM_OK)
				rc = store_computed(db, form, set, values, id);
			if (rc) {
				snprintf(what, sizeof what, "form %s: recomputing record %lld", form->name, (long long)id);
				snprintf(member, sizeof member, "\"record\":%lld", (long long)id);
				crm__error_context(db, what, member);
				break;
			}
		}
		crm__errors_reset(&errs, db);
		n = crm__validate_record(db, form, values, NULL, &errs);
		if (n < 0) {
			rc = db->errcode;
			break;
		}
		if (n > 0)
			failure_add(&fl, id, NULL, errs.first);
	}
	if (rc == CRM_OK && src != CRM_DONE)
		rc = src;
	if (rc == CRM_OK && fl.count)
		rc = failure_raise(db, &fl, "form %s: existing records break the new definition%s", form->name, "");
done:
	crm__finalize(st);
	for (int i = 0; set && i < form->nfields; i++)
		crm__finalize(set[i]);
	crm__free(set);
	crm__free(values);
	crm__buf_free(&sql);
	crm__buf_free(&computed);
	crm__buf_free(&fl.json);
	crm__errors_free(&errs);
	return rc;
}

/* The members of two definitions (of fields or forms) that differ, other
 * than `skip`, as a JSON array of their names. 0 when none differ. */
static int differing_keys(const cJSON *a, const cJSON *b, const char *const *skip, crm__buf *out)
{
	int n = 0;

	for (int side = 0; side < 2; side++)
		for (const cJSON *m = (side ? b : a)->child; m; m = m->next) {
			const cJSON *other = cJSON_GetObjectItemCaseSensitive(side ? a : b, m->string);
			int skipped = 0;

			for (const char *const *k = skip; *k && !skipped; k++)
				skipped = strcmp(*k, m->string) == 0;
			/* a key only in b counts once, from b's side */
			if (skipped || (side && other) || (other && cJSON_Compare(m, other, 1)))
				continue;
			crm__buf_puts(out, n++ ? "," : "[");
			crm__json_cstr(out, m->string);
		}
	if (n)
		crm__buf_putc(out, ']');
	return n;
}

/* Changes that move no data: a field's rules, label or expression, the
 * form's own members (label, unique, indexes, validators). */
static int note_definition_changes(crm_db *db, const crm__form *old, const crm__form *new, const int *old_of,
				   crm__form_changes *ch, int64_t rows)
{
	static const char *const field_skip[] = { "name", "id", "type", "scale", "options", "returns", NULL };
	static const char *const form_skip[] = { "form", "fields", NULL };
	cJSON *a = cJSON_Parse(old->body), *b = cJSON_Parse(new->body);
	crm__buf keys = CRM__BUF_INIT;
	const cJSON *fa = cJSON_GetObjectItemCaseSensitive(a, "fields"), *fb = cJSON_GetObjectItemCaseSensitive(b, "fields");
	int rc = CRM_OK;

	if (!a || !b) {
		rc = crm__error_oom(db);
		goto done;
	}
	for (int j = 0; j < new->nfields; j++) {
		const crm__field *f = &new->fields[j];

		crm__buf_reset(&keys);
		if (old_of[j] < 0 ||
		    !differing_keys(cJSON_GetArrayItem(fa, old_of[j]), cJSON_GetArrayItem(fb, j), field_skip, &keys))
			continue;
		change_begin(ch, f->type == CRM_TYPE_COMPUTED ? "recompute" : "constraint", f->name);
		crm__buf_puts(&ch->json, ",\"keys\":");
		crm__buf_put(&ch->json, keys.p, keys.len);
		crm__buf_printf(&ch->json, ",\"rows\":%lld}", (long long)rows);
	}
	crm__buf_reset(&keys);
	if (differing_keys(a, b, form_skip, &keys)) {
		change_begin(ch, "form", NULL);
		crm__buf_puts(&ch->json, ",\"keys\":");
		crm__buf_put(&ch->json, keys.p, keys.len);
		crm__buf_printf(&ch->json, ",\"rows\":%lld}", (long long)rows);
	}
	if (keys.oom)
		rc = crm__error_oom(db);
done:
	cJSON_Delete(a);
	cJSON_Delete(b);
	crm__buf_free(&keys);
	return rc;
}

/* Drop field `f` (a column), noting what it held. */
static int drop_field(crm_db *db, const crm__form *form, const crm__field *f, crm__form_changes *ch, int64_t rows)
{
	int64_t values = 0;
	int rc, lost;

	if ((rc = count_of(db, "count", f->name, form->name, &values)))
		return rc;
	lost = values > 0 && !is_derived(f);
	change_begin(ch, "drop", f->name);
	crm__buf_printf(&ch->json, ",\"rows\":%lld,\"values\":%lld,\"data_loss\":%s}", (long long)rows, (long long)values,
			lost ? "true" : "false");
	if (lost)
		crm__errors_add(&ch->losses, f->name, "data_loss",
				"removing field '%s' would discard %lld value%s (to rename it instead, keep its id: "
				"{\"name\": \"new_name\", \"id\": \"%s\"})",
				f->name, (long long)values, values > 1 ? "s" : "", f->id);
	ch->data_loss |= lost;
	return alter(db, form->name, "DROP COLUMN", f->name, NULL, NULL);
}

/* CRM_ECONSTRAINT: every change that discards data as a failing field
 * ("errors", as for records), and every change in the detail. */
static int refuse_data_loss(crm_db *db, const crm__form *form, const crm__form_changes *ch)
{
	crm__buf members = CRM__BUF_INIT;
	int rc;

	crm__errors_write(&members, &ch->losses);
	crm__buf_puts(&members, ",\"data_loss\":true,\"changes\":[");
	crm__buf_put(&members, ch->json.p, ch->json.len);
	crm__buf_putc(&members, ']');
	rc = members.oom || ch->losses.json.oom ? crm__error_oom(db)
			 : crm__error_detail(db, CRM_ECONSTRAINT, crm__buf_cstr(&members),
					     "form %s: %s; nothing was changed (CRM_APPLY_ALLOW_DATA_LOSS, or crm apply "
					     "--allow-data-loss, applies it anyway)",
					     form->name, ch->losses.first);
	crm__buf_free(&members);
	return rc;
}

int crm__form_migrate(crm_db *db, crm__form *old, crm__form *new, crm__form_changes *ch)
{
	int *old_of = crm__calloc((size_t)new->nfields, sizeof *old_of);
	int64_t rows = 0;
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
	rc = crm__ddl_view(db, old, CRM__VIEW_DROP);
	if (!rc && (rc = count_of(db, "count(*)", NULL, new->name, &rows)) == CRM_OK)
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
			rc = drop_field(db, new, &old->fields[i], ch, rows);
	}
	/* Renames through temporary names, so swapping two names works. */
	for (int pass = 0; pass < 2 && !rc; pass++)
		for (int j = 0; j < new->nfields && !rc; j++) {
			const char *from = old_of[j] >= 0 ? old->fields[old_of[j]].name : NULL;
			if (!from || strcmp(from, new->fields[j].name) == 0)
				continue;
			if (pass == 0) {
				change_begin(ch, "rename", new->fields[j].name);
				crm__buf_puts(&ch->json, ",\"from\":");
				crm__json_cstr(&ch->json, from);
				crm__buf_printf(&ch->json, ",\"rows\":%lld}", (long long)rows);
			}
			snprintf(tmp, sizeof tmp, "crm_renaming_%d", j);
			rc = pass == 0 ? alter(db, new->name, "RENAME COLUMN", from, tmp, NULL)
				       : alter(db, new->name, "RENAME COLUMN", tmp, new->fields[j].name, NULL);
		}
	for (int j = 0; j < new->nfields && !rc; j++) {
		const crm__field *f = &new->fields[j];
		if (old_of[j] < 0) {
			change_begin(ch, "add", f->name);
			crm__buf_printf(&ch->json, ",\"rows\":%lld}", (long long)rows);
			rc = alter(db, new->name, "ADD COLUMN", f->name, NULL, crm__field_sql_type(db, f));
			if (!rc && (f->flags & CRM__F_HAS_DEFAULT))
				rc = backfill_default(db, new, f);
		} else if (needs_conversion(&old->fields[old_of[j]], f))
			rc = convert_column(db, new, &old->fields[old_of[j]], f, ch, rows);
	}
	if (!rc)
		rc = note_definition_changes(db, old, new, old_of, ch, rows);
	if (!rc && ch->json.oom)
		rc = crm__error_oom(db);
	/* Refused before the records are checked: this is the error to fix first. */
	if (!rc && ch->data_loss && !ch->allow_data_loss)
		rc = refuse_data_loss(db, new, ch);
	if (!rc)
		rc = recheck(db, new);
	if (!rc)
		rc = crm__ddl_sync_indexes(db, new, CRM__IX_CREATE);
	if (!rc)
		rc = crm__ddl_view(db, new, CRM__VIEW_CREATE);
	crm__free(old_of);
	return rc;
}
