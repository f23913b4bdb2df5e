/* Workflow actions: set fields, create records, assign, tag, score, emit
 * events, call plugins, apply decision tables, run Lua. Every change to a
 * record goes through the public write API, so it is validated, triggers
 * what it should and rolls back with the transition. */
#include <lauxlib.h>
#include <math.h>
#include <string.h>

#include "core/codec.h"
#include "core/json_parse.h"
#include "decision.h"
#include "event/event.h"
#include "script/plugin.h"
#include "script/script.h"
#include "wf_ctx.h"

/* Append the JSON of a stored value, or of a system column. */
static void write_field(crm__wf_ctx *cx, const char *name, crm__buf *out)
{
	const crm__field *f = crm__form_field(cx->wf->form, name, strlen(name));

	if (f) {
		crm__value_write_json(out, f->value_type, f->scale, &cx->rec.values[f->position]);
		return;
	}
	for (int k = 0; k < 5; k++)
		if (strcmp(name, crm__system_columns[k]) == 0) {
			crm_type t = k == 0 || k == 4 ? CRM_TYPE_INTEGER : k == 3 ? CRM_TYPE_TEXT : CRM_TYPE_DATETIME;
			crm__value_write_json(out, t, 0, &cx->sys[k]);
			return;
		}
	crm__buf_puts(out, "null");
}

/* The Lua result as JSON text appended to the buffer `ud`. */
static int take_json(crm_db *db, crm__wf_ctx *cx, lua_State *L, void *ud)
{
	char why[CRM__LUA_WHY];
	int rc = crm__lua_to_json(L, -1, ud, why);

	return rc ? crm__error(db, rc, "%s: a Lua value cannot be written as JSON: %s", cx->wf->name, why) : CRM_OK;
}

/* Append the JSON of a VALUE: {"field": F}, {"lua": EXPR}, {"now": "+24h"}
 * or a literal (objects are resolved member by member). */
static int resolve(crm_db *db, crm__wf_ctx *cx, const char *what, const cJSON *spec, crm__buf *out)
{
	const cJSON *only = cJSON_IsObject(spec) && spec->child && !spec->child->next ? spec->child : NULL;
	char *text;
	int rc;

	if (only && strcmp(only->string, "field") == 0 && cJSON_IsString(only) && cx->wf->form) {
		write_field(cx, only->valuestring, out);
		return CRM_OK;
	}
	if (only && strcmp(only->string, "now") == 0 && cJSON_IsString(only)) {
		const char *d = only->valuestring;
		int64_t off = crm__duration_ms(d + (d[0] == '+' || d[0] == '-'));
		char iso[32];
		if (off < 0 && strcmp(d, "") != 0)
			return crm__error(db, CRM_EINVAL, "%s: {\"now\": \"%s\"} is not a duration", what, d);
		crm__buf_putc(out, '"');
		crm__buf_put(out, iso, crm__datetime_format(crm_now(db) + (d[0] == '-' ? -off : off > 0 ? off : 0), iso));
		crm__buf_putc(out, '"');
		return CRM_OK;
	}
	if (only && strcmp(only->string, "lua") == 0 && cJSON_IsString(only))
		return crm__wf_lua(db, cx, what, only->valuestring, 1, NULL, take_json, out);
	if (cJSON_IsObject(spec)) {
		int first = 1;
		crm__buf_putc(out, '{');
		for (const cJSON *m = spec->child; m; m = m->next) {
			char sub[160];
			if (!first)
				crm__buf_putc(out, ',');
			first = 0;
			crm__json_cstr(out, m->string);
			crm__buf_putc(out, ':');
			crm__wf_path(sub, sizeof sub, what, -1, ".", m->string);
			if ((rc = resolve(db, cx, sub, m, out)))
				return rc;
		}
		crm__buf_putc(out, '}');
		return CRM_OK;
	}
	/* A whole number (a step, a count) in the digits cJSON would print,
	 * without its allocation and its printf. */
	if (cJSON_IsNumber(spec) && fabs(spec->valuedouble) <= 9007199254740992.0 &&
	    spec->valuedouble == (double)(int64_t)spec->valuedouble && !signbit(spec->valuedouble)) {
		crm__buf_i64(out, (int64_t)spec->valuedouble);
		return CRM_OK;
	}
	if (!(text = cJSON_PrintUnformatted(spec)))
		return crm__error_oom(db);
	crm__buf_puts(out, text);
	cJSON_free(text);
	return CRM_OK;
}

/* Writes of JSON text built here: the host never saw that text, so a
 * parse failure in it has no offset the host could use. */
static int internal_write(crm_db *db, int rc)
{
	if (rc != CRM_OK)
		db->erroffset = -1;
	return rc;
}

static int update_record(crm_db *db, crm__wf_ctx *cx, crm__buf *json)
{
	/* The record as the transition holds it, unless a write came since; a
	 * failure fails the transition, which undoes it. */
	int fresh = cx->loaded && cx->writes == db->record_writes, rc;
	uint64_t writes = db->record_writes;
	crm__written written = { .ok = 0 };
	crm__known known = { cx->wf->form, fresh ? cx->rec.values : NULL, cx->sys[4].i, 1, fresh ? &written : NULL };

	if (json->oom)
		return crm__error_oom(db);
	crm__record_init(&written.rec);
	rc = internal_write(db, crm__record_update_known(db, cx->wf->form->name, cx->inst.record, crm__buf_cstr(json),
							 &known));
	/* No other record written meanwhile (hooks, rollups): the record is
	 * as this update wrote it, and need not be read again. */
	if (rc == CRM_OK && written.ok && db->record_writes == writes + 1 &&
	    crm__wf_ctx_written(cx, &written.rec, written.updated_at) == 0)
		cx->writes = db->record_writes;
	crm__record_free(&written.rec);
	return rc ? rc : crm__wf_ctx_reload(db, cx);
}

/* A hook's table result sets those fields of the record. */
static int apply_result(crm_db *db, crm__wf_ctx *cx, lua_State *L, void *ud)
{
	crm__buf json = CRM__BUF_INIT;
	char why[CRM__LUA_WHY];
	int rc = CRM_OK;

	if (lua_istable(L, -1) && cx->wf->form) {
		crm__lua_push_contents(L, -1);
		lua_pushnil(L);
		if (lua_next(L, -2)) {
			lua_pop(L, 3);
			if ((rc = crm__lua_to_json(L, -1, &json, why)))
				rc = crm__error(db, rc, "%s: a hook returned a table that is not a record: %s", cx->wf->name, why);
			else
				rc = update_record(db, cx, &json);
		} else
			lua_pop(L, 1);
	}
	(void)ud;
	crm__buf_free(&json);
	return rc;
}

static int add_tag(crm_db *db, crm__wf_ctx *cx, const crm__wf_action *a, crm__buf *json)
{
	const crm__field *f = crm__form_field(cx->wf->form, a->field, strlen(a->field));
	const crm__value *v = &cx->rec.values[f->position];
	cJSON *tags = v->kind == CRM__V_TEXT ? cJSON_ParseWithLength(v->s, v->n) : cJSON_CreateArray();
	const cJSON *t;
	char *text;

	if (!tags && (v->kind != CRM__V_TEXT || crm__json_valid(v->s, v->n)))
		return crm__error_oom(db);
	if (!cJSON_IsArray(tags)) {
		cJSON_Delete(tags);
		return crm__error(db, CRM_EINVAL, "%s: field %s does not hold a list of tags", cx->wf->name, a->field);
	}
	cJSON_ArrayForEach(t, tags)
	{
		if (cJSON_IsString(t) && strcmp(t->valuestring, a->name) == 0) {
			cJSON_Delete(tags);
			return CRM_OK; /* already tagged */
		}
	}
	text = cJSON_AddItemToArray(tags, cJSON_CreateString(a->name)) ? cJSON_PrintUnformatted(tags) : NULL;
	cJSON_Delete(tags);
	if (!text)
		return crm__error_oom(db);
	crm__buf_putc(json, '{');
	crm__json_cstr(json, a->field);
	crm__buf_putc(json, ':');
	crm__buf_puts(json, text);
	crm__buf_putc(json, '}');
	cJSON_free(text);
	return update_record(db, cx, json);
}

static int add_score(crm_db *db, crm__wf_ctx *cx, const crm__wf_action *a, const char *what, crm__buf *json)
{
	const crm__field *f = crm__form_field(cx->wf->form, a->field, strlen(a->field));
	const crm__value *v = &cx->rec.values[f->position];
	crm__buf amount = CRM__BUF_INIT;
	cJSON *n;
	double current = 0, add;
	int rc;

	if ((rc = resolve(db, cx, what, a->spec, &amount)))
		return crm__buf_free(&amount), rc;
	n = cJSON_Parse(crm__buf_cstr(&amount));
	if (!n && (amount.oom || crm__json_valid(amount.p, amount.len))) {
		crm__buf_free(&amount);
		return crm__error_oom(db);
	}
	crm__buf_free(&amount);
	if (!cJSON_IsNumber(n)) {
		cJSON_Delete(n);
		return crm__error(db, CRM_EINVAL, "%s: the score to add is not a number", what);
	}
	add = n->valuedouble;
	cJSON_Delete(n);
	if (v->kind == CRM__V_INT) {
		current = (double)v->i;
		for (int i = 0; f->type == CRM_TYPE_DECIMAL && i < f->scale; i++)
			current /= 10;
	} else if (v->kind == CRM__V_REAL)
		current = v->d;
	crm__buf_putc(json, '{');
	crm__json_cstr(json, a->field);
	if (f->type == CRM_TYPE_INTEGER)
		crm__buf_printf(json, ":%.0f}", current + add);
	else if (f->type == CRM_TYPE_DECIMAL)
		crm__buf_printf(json, ":%.*f}", f->scale, current + add);
	else
		crm__buf_printf(json, ":%.15g}", current + add);
	return update_record(db, cx, json);
}

/* The record's fields (and owner) as decision inputs; outputs that are
 * fields (or owner) are written back. */
static int decide(crm_db *db, crm__wf_ctx *cx, const crm__wf_action *a, crm__buf *json)
{
	crm__buf in = CRM__BUF_INIT;
	cJSON *inputs, *outputs = NULL, *o;
	int rc, n = 0;

	crm__buf_putc(&in, '{');
	for (int i = 0; cx->wf->form && i < cx->wf->form->nfields; i++) {
		const crm__field *f = &cx->wf->form->fields[i];
		crm__json_cstr(&in, f->name);
		crm__buf_putc(&in, ':');
		crm__value_write_json(&in, f->value_type, f->scale, &cx->rec.values[i]);
		crm__buf_putc(&in, ',');
	}
	crm__buf_puts(&in, "\"owner\":");
	write_field(cx, "owner", &in);
	crm__buf_putc(&in, '}');
	inputs = in.oom ? NULL : cJSON_Parse(crm__buf_cstr(&in));
	crm__buf_free(&in);
	if (!inputs)
		return crm__error_oom(db);
	rc = crm__decide(db, a->name, inputs, &outputs);
	cJSON_Delete(inputs);
	if (rc || !cJSON_IsObject(outputs) || !cx->wf->form) {
		cJSON_Delete(outputs);
		return rc;
	}
	crm__buf_putc(json, '{');
	cJSON_ArrayForEach(o, outputs)
	{
		char *text;
		if (strcmp(o->string, "owner") != 0 && !crm__form_field(cx->wf->form, o->string, strlen(o->string)))
			continue;
		if (!(text = cJSON_PrintUnformatted(o)))
			break;
		if (n++)
			crm__buf_putc(json, ',');
		crm__json_cstr(json, o->string);
		crm__buf_putc(json, ':');
		crm__buf_puts(json, text);
		cJSON_free(text);
	}
	crm__buf_putc(json, '}');
	cJSON_Delete(outputs);
	return n ? update_record(db, cx, json) : CRM_OK;
}

static int run_action(crm_db *db, crm__wf_ctx *cx, const crm__wf_action *a, const char *what)
{
	crm__buf json = CRM__BUF_INIT;
	int rc = CRM_OK;

	switch (a->kind) {
	case CRM__ACT_SET:
		if ((rc = resolve(db, cx, what, a->spec, &json)) == CRM_OK)
			rc = update_record(db, cx, &json);
		break;
	case CRM__ACT_ASSIGN:
		crm__buf_puts(&json, "{\"owner\":");
		if ((rc = resolve(db, cx, what, a->spec, &json)) == CRM_OK) {
			crm__buf_putc(&json, '}');
			rc = update_record(db, cx, &json);
		}
		break;
	case CRM__ACT_CREATE:
		if ((rc = resolve(db, cx, what, a->spec, &json)) == CRM_OK)
			rc = json.oom ? crm__error_oom(db)
				      : internal_write(db, crm_record_insert(db, a->name, crm__buf_cstr(&json), NULL));
		if (rc == CRM_OK)
			rc = crm__wf_ctx_reload(db, cx);
		break;
	case CRM__ACT_TAG: rc = add_tag(db, cx, a, &json); break;
	case CRM__ACT_SCORE: rc = add_score(db, cx, a, what, &json); break;
	case CRM__ACT_EMIT:
		crm__buf_puts(&json, "{\"workflow\":");
		crm__json_cstr(&json, cx->wf->name);
		crm__buf_puts(&json, ",\"state\":");
		crm__json_cstr(&json, cx->wf->states[cx->state].name);
		if (a->spec) {
			crm__buf_puts(&json, ",\"data\":");
			rc = resolve(db, cx, what, a->spec, &json);
		}
		crm__buf_putc(&json, '}');
		if (rc == CRM_OK)
			rc = json.oom ? crm__error_oom(db)
				      : crm__event_emit(db, a->name, cx->wf->form ? cx->wf->form->name : NULL,
							cx->inst.record, cx->inst.id, crm__buf_cstr(&json), NULL);
		break;
	case CRM__ACT_CALL: rc = crm__wf_lua(db, cx, what, NULL, 0, a->name, apply_result, NULL); break;
	case CRM__ACT_DECIDE: rc = decide(db, cx, a, &json); break;
	case CRM__ACT_LUA: rc = crm__wf_lua(db, cx, what, a->name, 0, NULL, apply_result, NULL); break;
	}
	crm__buf_free(&json);
	return rc;
}

int crm__wf_run_actions(crm_db *db, crm__wf_ctx *cx, const crm__wf_actions *actions)
{
	char what[180];
	int rc;

	for (int i = 0; i < actions->n; i++) {
		/* Stable across recompiles: names the compiled Lua of the action. */
		crm__wf_path(what, sizeof what, actions->path, i, "", "");
		if ((rc = run_action(db, cx, &actions->v[i], what)))
			return rc;
	}
	return CRM_OK;
}
