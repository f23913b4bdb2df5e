/* Transitions. Firing an event runs, in one transaction: the given field
 * changes, the guard, the exit hooks, the transition's actions, the target
 * state's required fields, the state change with its timers and approvals,
 * the history row and the entry hooks; then automatic transitions settle.
 * Any failure rolls all of it back. */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "access/access.h"
#include "core/alloc.h"
#include "script/plugin.h"
#include "script/script.h"
#include "wf_ctx.h"

#define MAX_SETTLE 20

int crm__wf_ctx_reload(crm_db *db, crm__wf_ctx *cx)
{
	int rc;

	if (!cx->wf->form || (cx->loaded && cx->writes == db->record_writes))
		return CRM_OK;
	rc = crm__record_load(db, cx->wf->form, cx->inst.record, &cx->rec, cx->sys);
	cx->loaded = rc == CRM_OK;
	cx->writes = db->record_writes;
	return rc;
}

int crm__wf_ctx_written(crm__wf_ctx *cx, crm__record *rec, int64_t updated_at)
{
	crm__record held = cx->rec;
	size_t at = rec->computed.len;

	/* The owner's text lives with the record it was read with. */
	if (cx->sys[3].kind == CRM__V_TEXT) {
		crm__buf_put(&rec->computed, cx->sys[3].s, cx->sys[3].n);
		if (rec->computed.oom)
			return -1;
	}
	cx->rec = *rec;
	*rec = held;
	if (cx->sys[3].kind == CRM__V_TEXT)
		cx->sys[3].s = cx->rec.computed.p + at;
	cx->sys[2].kind = CRM__V_INT;
	cx->sys[2].i = updated_at;
	cx->sys[4].i++;
	cx->loaded = 1;
	return 0;
}

/* Load instance `instance` and its record into cx; held to the end of the
 * transaction when `lock` (a transition follows). `loaded`: the instance as
 * the caller just read it, else NULL; `pre` (may be NULL): its record as
 * crm__wf_instance_rows read it, taken over when still current. */
static int ctx_open(crm_db *db, crm__wf_ctx *cx, int64_t instance, const crm__wf_instance *loaded, crm__wf_record *pre,
		    int lock)
{
	int rc;

	memset(cx, 0, sizeof *cx);
	crm__record_init(&cx->rec);
	crm__record_init(&cx->old);
	/* Where rows are locked, the instance is read again as it is held:
	 * what the caller read before may have moved on meanwhile. */
	if (lock) {
		if ((rc = crm__wf_instance_lock(db, instance, loaded, pre && pre->held, &cx->inst)))
			return rc;
	} else if (loaded)
		cx->inst = *loaded;
	else if ((rc = crm__wf_instance_load(db, instance, &cx->inst)))
		return rc;
	if (strcmp(cx->inst.status, "active") != 0)
		return crm__error(db, CRM_EINVAL, "workflow instance %lld is %s", (long long)instance, cx->inst.status);
	if ((rc = crm__workflow_lookup(db, cx->inst.workflow, cx->inst.version, &cx->wf)))
		return rc;
	crm__workflow_retain(cx->wf);
	if ((cx->state = crm__wf_state_index(cx->wf, cx->inst.state)) < 0)
		return crm__error(db, CRM_ERROR, "instance %lld is in state '%s', unknown to %s version %lld",
				  (long long)instance, cx->inst.state, cx->wf->name, (long long)cx->wf->version);
	if ((rc = crm__wf_firing_push(db, instance)))
		return rc;
	cx->registered = 1;
	if (pre && pre->loaded && pre->writes == db->record_writes && cx->wf->form &&
	    strcmp(cx->wf->form->name, cx->inst.form) == 0) {
		crm__record own = cx->rec;
		/* swapped: each side frees what it ends with */
		cx->rec = pre->rec;
		pre->rec = own;
		memcpy(cx->sys, pre->sys, sizeof cx->sys);
		cx->loaded = 1;
		cx->writes = pre->writes;
		pre->loaded = 0;
	}
	if ((rc = crm__wf_ctx_reload(db, cx)))
		return rc;
	/* Hooks compare against the record as the transition found it. */
	if (cx->wf->form) {
		if (crm__record_assign(&cx->old, cx->wf->form, cx->rec.values))
			return crm__error_oom(db);
		cx->has_old = 1;
	}
	return CRM_OK;
}

static void ctx_close(crm_db *db, crm__wf_ctx *cx)
{
	if (cx->registered)
		crm__wf_firing_pop(db);
	crm__record_free(&cx->rec);
	crm__record_free(&cx->old);
	crm__workflow_release(cx->wf);
}

/* Push ctx (the table hooks receive) and set `record`, `ctx` in the
 * environment of the function on top of the stack. */
void crm__wf_push_ctx(crm_db *db, crm__wf_ctx *cx)
{
	lua_State *L = crm__lua(db);

	lua_createtable(L, 0, 10);
	if (cx->wf->form) {
		crm__lua_push_record(L, cx->wf->form, cx->rec.values, cx->sys);
		lua_setfield(L, -2, "record");
		if (cx->has_old) {
			/* The record before, and which fields differ from it now. */
			crm__lua_push_record(L, cx->wf->form, cx->old.values, NULL);
			lua_setfield(L, -2, "old");
			crm__lua_push_changed(L, cx->wf->form, cx->old.values, cx->rec.values);
			lua_setfield(L, -2, "changed");
		}
		lua_pushstring(L, cx->wf->form->name);
		lua_setfield(L, -2, "form");
		lua_pushinteger(L, (lua_Integer)cx->inst.record);
		lua_setfield(L, -2, "id");
	}
	lua_pushstring(L, cx->wf->name);
	lua_setfield(L, -2, "workflow");
	lua_pushinteger(L, (lua_Integer)cx->inst.id);
	lua_setfield(L, -2, "instance");
	lua_pushstring(L, cx->wf->states[cx->state].name);
	lua_setfield(L, -2, "state");
	if (cx->event) {
		lua_pushstring(L, cx->event);
		lua_setfield(L, -2, "event");
	}
	if (cx->target >= 0) {
		lua_pushstring(L, cx->wf->states[cx->target].name);
		lua_setfield(L, -2, "to");
	}
	if (db->actor_user) {
		lua_pushstring(L, db->actor_user);
		lua_setfield(L, -2, "actor");
	}
}

void crm__wf_path(char *out, size_t size, const char *a, int index, const char *sep, const char *b)
{
	size_t n = crm__str_copy(out, size, a);

	if (index >= 0 && n + CRM__I64_TEXT + 2 < size) {
		out[n++] = '[';
		n += crm__i64_text(out + n, index);
		out[n++] = ']';
		out[n] = 0;
	}
	n += crm__str_copy(out + n, size - n, sep);
	crm__str_copy(out + n, size - n, b);
}

/* Compile (once per definition version) and push a Lua chunk of the workflow. */
int crm__wf_push_lua(crm_db *db, crm__wf_ctx *cx, const char *what, const char *src, int expression)
{
	lua_State *L = crm__lua(db);
	char key[200], name[160];
	size_t n;
	int rc;

	if (!L)
		return db->errcode;
	/* Kept under the source text too: a version number is given again
	 * after a rolled-back apply (or a plan). Built without snprintf (every
	 * transition) and in Lua's memory (a Lua error may leave here). */
	n = crm__str_copy(key, sizeof key, "wf:");
	n += crm__str_copy(key + n, sizeof key - n, cx->wf->name);
	n += crm__str_copy(key + n, sizeof key - n, "@");
	if (n + CRM__I64_TEXT < sizeof key)
		n += crm__i64_text(key + n, cx->wf->version);
	n += crm__str_copy(key + n, sizeof key - n, ":");
	n += crm__str_copy(key + n, sizeof key - n, what);
	n += crm__str_copy(key + n, sizeof key - n, expression ? ":1:" : ":0:");
	lua_pushlstring(L, key, n);
	lua_pushstring(L, src);
	lua_concat(L, 2);
	if (lua_rawget(L, LUA_REGISTRYINDEX) == LUA_TFUNCTION)
		return CRM_OK;
	lua_pop(L, 1);
	crm__wf_path(name, sizeof name, cx->wf->name, -1, ":", what);
	if ((rc = crm__lua_compile(db, name, src, expression)))
		return rc;
	lua_pushlstring(L, key, n);
	lua_pushstring(L, src);
	lua_concat(L, 2);
	lua_pushvalue(L, -2);
	lua_rawset(L, LUA_REGISTRYINDEX);
	return CRM_OK;
}

/* Run the chunk on top, whose source is `src`, with globals `record` and
 * `ctx` for this run; leaves one result. */
int crm__wf_call_lua(crm_db *db, crm__wf_ctx *cx, const char *src)
{
	lua_State *L = crm__lua(db);

	crm__lua_push_globals(L);
	/* A chunk reaches its globals by name or through _ENV (the sandbox
	 * has neither load nor debug): one that names neither ctx nor _ENV
	 * gets the record alone, without the tables ctx is made of (a guard
	 * like record.score >= 10 spent most of its time building them). */
	if (!strstr(src, "ctx") && !strstr(src, "_ENV")) {
		if (cx->wf->form) {
			crm__lua_push_record(L, cx->wf->form, cx->rec.values, cx->sys);
			lua_setfield(L, -2, "record");
		}
		return crm__lua_call_chunk(db, 1);
	}
	crm__wf_push_ctx(db, cx);
	lua_getfield(L, -1, "record");
	lua_setfield(L, -3, "record");
	lua_setfield(L, -2, "ctx");
	return crm__lua_call_chunk(db, 1);
}

typedef struct wf_lua_job {
	crm_db *db;
	crm__wf_ctx *cx;
	const char *what, *src, *plugin;
	int expression;
	int (*take)(crm_db *db, crm__wf_ctx *cx, lua_State *L, void *ud);
	void *ud;
} wf_lua_job;

static int wf_lua_unit(lua_State *L, void *ud)
{
	wf_lua_job *j = ud;
	int rc;

	if (j->plugin) { /* fn(ctx) */
		if ((rc = crm__plugin_push(j->db, j->plugin)))
			return rc;
		crm__wf_push_ctx(j->db, j->cx);
		rc = crm__lua_call(j->db, 1, 1);
	} else if ((rc = crm__wf_push_lua(j->db, j->cx, j->what, j->src, j->expression)) == CRM_OK)
		rc = crm__wf_call_lua(j->db, j->cx, j->src);
	return rc ? rc : j->take(j->db, j->cx, L, j->ud);
}

int crm__wf_lua(crm_db *db, crm__wf_ctx *cx, const char *what, const char *src, int expression, const char *plugin,
		int (*take)(crm_db *db, crm__wf_ctx *cx, lua_State *L, void *ud), void *ud)
{
	wf_lua_job job = { db, cx, what, src, plugin, expression, take, ud };

	return crm__lua_protect(db, wf_lua_unit, &job);
}

static int take_truth(crm_db *db, crm__wf_ctx *cx, lua_State *L, void *ud)
{
	(void)db;
	(void)cx;
	*(int *)ud = lua_toboolean(L, -1);
	return CRM_OK;
}

static int guard_passes(crm_db *db, crm__wf_ctx *cx, int t_index, int *out)
{
	const crm__wf_transition *t = &cx->wf->transitions[t_index];
	char what[40];

	*out = 1;
	if (t->guard) {
		crm__row row = { .fields = cx->rec.values };
		memcpy(row.sys, cx->sys, sizeof row.sys);
		*out = crm__filter_eval(t->guard, cx->wf->form, &row);
		return CRM_OK;
	}
	if (!t->guard_lua)
		return CRM_OK;
	crm__wf_path(what, sizeof what, "transitions", t_index, ".guard", "");
	return crm__wf_lua(db, cx, what, t->guard_lua, 1, NULL, take_truth, out);
}

int crm__wf_from_matches(const crm__wf_transition *t, int state)
{
	if (t->from_any)
		return 1;
	for (int i = 0; i < t->nfrom; i++)
		if (t->from[i] == state)
			return 1;
	return 0;
}

/* Is `name` one of the names of `list` ("a, b, c")? */
static int listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; (p = strstr(p, name)); p++)
		if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == 0))
			return 1;
	return 0;
}

/* Every event the current state allows, for error messages. */
static void allowed_events(const crm__wf_ctx *cx, char *out, size_t size)
{
	size_t len = 0;

	*out = 0;
	for (int i = 0; i < cx->wf->ntransitions; i++) {
		const crm__wf_transition *t = &cx->wf->transitions[i];
		if (!t->event || !crm__wf_from_matches(t, cx->state) || listed(out, t->event))
			continue;
		len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%s", len ? ", " : "", t->event);
		if (len >= size)
			break;
	}
}

static int check_required(crm_db *db, crm__wf_ctx *cx, int to)
{
	const crm__wf_state *st = &cx->wf->states[to];
	crm__errors errs = { 0 };
	int rc = CRM_OK;

	crm__errors_reset(&errs, db);
	for (int i = 0; i < st->nrequire; i++) {
		const crm__field *f = &cx->wf->form->fields[st->require[i]];
		if (cx->rec.values[st->require[i]].kind == CRM__V_NULL)
			crm__errors_add(&errs, f->name, "required_by_state", "%s is required to enter %s", f->name, st->name);
	}
	if (errs.count)
		rc = crm__errors_raise(db, &errs, cx->wf->name);
	crm__errors_free(&errs);
	return rc;
}

static int set_state(crm_db *db, crm__wf_ctx *cx, int to)
{
	crm__stmt *st = crm__stmt_take(db,
					  "UPDATE crm_wf_instance SET state=?, status=?, entered_at=?, updated_at=? WHERE id=?",
					  (size_t)-1);
	int64_t now = crm_now(db);
	int rc;

	if (!st)
		return db->errcode;
	crm__bind_text(st, 1, cx->wf->states[to].name, -1);
	crm__bind_text(st, 2, cx->wf->states[to].final ? "done" : "active", -1);
	crm__bind_int64(st, 3, now);
	crm__bind_int64(st, 4, now);
	crm__bind_int64(st, 5, cx->inst.id);
	rc = crm__step_later(db, st);
	crm__stmt_give(db, st);
	if (rc != CRM_DONE)
		return rc;
	crm__str_copy(cx->inst.state, sizeof cx->inst.state, cx->wf->states[to].name);
	crm__str_copy(cx->inst.status, sizeof cx->inst.status, cx->wf->states[to].final ? "done" : "active");
	cx->inst.entered_at = now;
	return CRM_OK;
}

/* Enter state `to` (from cx->state, or from nothing when starting). */
static int enter(crm_db *db, crm__wf_ctx *cx, int to, const char *event, const char *data)
{
	const char *from = cx->started ? cx->wf->states[cx->state].name : NULL;
	int rc;

	if ((rc = crm__wf_ctx_reload(db, cx)))
		return rc;
	if (cx->wf->form && (rc = check_required(db, cx, to)))
		return rc;
	if ((rc = set_state(db, cx, to)) || (cx->wf->has_timers && (rc = crm__wf_timers_cancel(db, cx->inst.id))))
		return rc;
	if (!cx->wf->states[to].final && (rc = crm__wf_timers_enter(db, cx->wf, &cx->inst, to, cx->rec.values)))
		return rc;
	if ((rc = crm__wf_approval_enter(db, cx->wf, &cx->inst, to)))
		return rc;
	if ((rc = crm__wf_history_add(db, cx->wf->name, cx->inst.id, cx->inst.form, cx->inst.record, event, from, cx->wf->states[to].name, data)))
		return rc;
	cx->state = to;
	cx->started = 1;
	return crm__wf_run_actions(db, cx, &cx->wf->states[to].on_enter);
}

/* Take transition `t_index`: hooks, actions and (unless internal) the state change. */
static int take(crm_db *db, crm__wf_ctx *cx, int t_index, const char *event, const char *data)
{
	const crm__wf_transition *t = &cx->wf->transitions[t_index];
	int internal = t->to == cx->state && !t->reenter;
	int rc;

	cx->event = event;
	cx->target = t->to;
	if (!internal && (rc = crm__wf_run_actions(db, cx, &cx->wf->states[cx->state].on_exit)))
		return rc;
	if ((rc = crm__wf_run_actions(db, cx, &t->actions)))
		return rc;
	if (internal)
		return crm__wf_history_add(db, cx->wf->name, cx->inst.id, cx->inst.form, cx->inst.record, event, cx->inst.state, cx->inst.state, data);
	return enter(db, cx, t->to, event, data);
}

static int settle(crm_db *db, crm__wf_ctx *cx)
{
	int rc = CRM_OK;

	if (!cx->wf->has_when)
		return CRM_OK;
	for (int round = 0; strcmp(cx->inst.status, "active") == 0; round++) {
		int taken = -1;

		if ((rc = crm__wf_ctx_reload(db, cx)))
			return rc;
		for (int i = 0; i < cx->wf->ntransitions && taken < 0; i++) {
			const crm__wf_transition *t = &cx->wf->transitions[i];
			crm__row row = { .fields = cx->rec.values };
			int pass;

			if (!t->when || !crm__wf_from_matches(t, cx->state) || (t->to == cx->state && !t->reenter))
				continue;
			memcpy(row.sys, cx->sys, sizeof row.sys);
			if (!crm__filter_eval(t->when, cx->wf->form, &row))
				continue;
			if ((rc = guard_passes(db, cx, i, &pass)))
				return rc;
			if (pass)
				taken = i;
		}
		if (taken < 0)
			return CRM_OK;
		if (round == MAX_SETTLE) /* conditions that stay true around a cycle */
			return crm__error(db, CRM_ELIMIT, "%s: automatic transitions do not settle: more than %d in a row (at state %s)",
					  cx->wf->name, MAX_SETTLE, cx->inst.state);
		if ((rc = take(db, cx, taken, "(when)", NULL)))
			return rc;
	}
	return rc;
}

/* `loaded`: the instance the caller just read (`pre`: with its record),
 * whose transaction (a unit of its own) it ends on any failure: no
 * savepoint of ours needed. */
static int fire(crm_db *db, int64_t instance, const crm__wf_instance *loaded, crm__wf_record *pre, const char *event,
		const char *fields, const char *note)
{
	crm__wf_ctx cx;
	char allowed[256], data[600];
	int rc, chosen = -1, guarded = 0, as;

	if (!loaded && (rc = crm__tx_begin(db)))
		return rc;
	rc = ctx_open(db, &cx, instance, loaded, pre, 1);
	/* The actor fires: the record readable, a rule granting the event. */
	if (rc == CRM_OK && cx.wf->form && (rc = crm__access_may_fire(db, cx.wf->form, cx.inst.record, event))) {
		char op[80];
		snprintf(op, sizeof op, "fire:%.64s", event);
		crm__access_denied(db, cx.wf->form, cx.inst.record, op, rc);
	}
	if (rc == CRM_OK && fields && cx.wf->form) {
		rc = crm_record_update(db, cx.wf->form->name, cx.inst.record, fields, 0);
		if (rc == CRM_OK)
			rc = crm__wf_ctx_reload(db, &cx);
	}
	as = rc == CRM_OK ? crm__wf_as_begin(db, cx.wf) : 0;
	for (int i = 0; rc == CRM_OK && i < cx.wf->ntransitions && chosen < 0; i++) {
		const crm__wf_transition *t = &cx.wf->transitions[i];
		int pass;

		if (!t->event || strcmp(t->event, event) != 0 || !crm__wf_from_matches(t, cx.state))
			continue;
		cx.event = event;
		cx.target = t->to;
		if ((rc = guard_passes(db, &cx, i, &pass)))
			break;
		if (pass)
			chosen = i;
		else
			guarded = 1;
	}
	if (rc == CRM_OK && chosen < 0) {
		if (guarded)
			rc = crm__error(db, CRM_ECONSTRAINT, "%s: the guard of '%s' in state %s does not allow it", cx.wf->name,
					event, cx.inst.state);
		else {
			allowed_events(&cx, allowed, sizeof allowed);
			rc = crm__error(db, CRM_EINVAL, "%s: event '%s' is not allowed in state %s (allowed: %s)", cx.wf->name,
					event, cx.inst.state, *allowed ? allowed : "none");
		}
	}
	if (rc == CRM_OK) {
		crm__buf d = CRM__BUF_INIT;
		*data = 0;
		if (note) {
			crm__buf_puts(&d, "{\"note\":");
			crm__json_cstr(&d, note);
			crm__buf_putc(&d, '}');
			crm__str_copy(data, sizeof data, crm__buf_cstr(&d));
		}
		crm__buf_free(&d);
		cx.started = 1;
		rc = take(db, &cx, chosen, event, *data ? data : NULL);
	}
	if (rc == CRM_OK)
		rc = settle(db, &cx);
	crm__wf_as_end(db, as);
	ctx_close(db, &cx);
	return loaded ? rc : crm__tx_end(db, rc);
}

int crm__wf_fire(crm_db *db, int64_t instance, const char *event, const char *fields, const char *note)
{
	return fire(db, instance, NULL, NULL, event, fields, note);
}

int crm__wf_fire_loaded(crm_db *db, const crm__wf_instance *inst, crm__wf_record *rec, const char *event,
			const char *fields, const char *note)
{
	return fire(db, inst->id, inst, rec, event, fields, note);
}

int crm__wf_settle(crm_db *db, int64_t instance, const crm__value *old)
{
	crm__wf_ctx cx;
	int rc;

	if ((rc = crm__tx_begin(db)))
		return rc;
	if ((rc = ctx_open(db, &cx, instance, NULL, NULL, 1)) == CRM_OK) {
		int as = crm__wf_as_begin(db, cx.wf);
		cx.started = 1;
		if (old && cx.wf->form && crm__record_assign(&cx.old, cx.wf->form, old))
			rc = crm__error_oom(db);
		if (rc == CRM_OK)
			rc = settle(db, &cx);
		crm__wf_as_end(db, as);
	}
	ctx_close(db, &cx);
	return crm__tx_end(db, rc);
}

int crm__wf_as_begin(crm_db *db, const crm__workflow *wf)
{
	return wf && wf->run_as_system ? crm__actor_system_begin(db) : 0;
}

void crm__wf_as_end(crm_db *db, int saved) { crm__actor_system_end(db, saved); }

int crm__wf_record_hidden(crm_db *db, const char *form_name, int64_t record, int *hidden)
{
	crm__form *form;
	crm__access *a = NULL;
	int rc, seen = 1;

	*hidden = 0;
	if (!form_name || crm__actor_is_system(db))
		return CRM_OK;
	if ((rc = crm__form_lookup(db, form_name, &form)))
		return rc == CRM_ENOTFOUND ? CRM_OK : rc; /* the caller answers for a missing form */
	if ((rc = crm__access_open(db, form, &a)) == CRM_OK && a)
		rc = crm__access_row(db, a, CRM__ACCESS_READ, form, record, &seen);
	crm__access_free(a);
	*hidden = !seen;
	return rc;
}

int crm__wf_start(crm_db *db, crm__workflow *wf, int64_t record, int64_t *out_id)
{
	crm__stmt *st;
	crm__wf_ctx cx;
	int64_t now = crm_now(db), id;
	int rc;

	if ((rc = crm__tx_begin(db)))
		return rc;
	if ((rc = crm__wf_schema(db)))
		return crm__tx_end(db, rc);
	st = crm__stmt_take_insert(
		db, "INSERT INTO crm_wf_instance(workflow, version, form, record, state, started_at, entered_at, updated_at)"
		    " VALUES(?,?,?,?,?,?,?,?)");
	if (!st)
		return crm__tx_end(db, db->errcode);
	crm__bind_text(st, 1, wf->name, -1);
	crm__bind_int64(st, 2, wf->version);
	if (wf->form) {
		crm__bind_text(st, 3, wf->form->name, -1);
		crm__bind_int64(st, 4, record);
	}
	crm__bind_text(st, 5, wf->states[wf->initial].name, -1);
	crm__bind_int64(st, 6, now);
	crm__bind_int64(st, 7, now);
	crm__bind_int64(st, 8, now);
	rc = crm__step_write(db, st);
	id = rc == CRM_DONE || rc == CRM_ROW ? crm__inserted_id(st) : 0;
	crm__stmt_give(db, st);
	if (rc != CRM_DONE && rc != CRM_ROW) {
		rc = rc == CRM_ECONSTRAINT ? crm__error(db, CRM_EEXISTS, "%s record %lld already has a %s workflow",
							 wf->form_name, (long long)record, wf->name)
					   : rc;
		return crm__tx_end(db, rc);
	}
	if ((rc = ctx_open(db, &cx, id, NULL, NULL, 1)) == CRM_OK) {
		int as = crm__wf_as_begin(db, wf);
		cx.target = wf->initial;
		rc = enter(db, &cx, wf->initial, "(start)", NULL);
		if (rc == CRM_OK)
			rc = settle(db, &cx);
		crm__wf_as_end(db, as);
	}
	ctx_close(db, &cx);
	if (rc == CRM_OK && out_id)
		*out_id = id;
	return crm__tx_end(db, rc);
}

/* Append the events instance `id` allows now, with whether each would pass. */
static int instance_events(crm_db *db, int64_t id, crm__buf *json, int *n)
{
	crm__wf_ctx cx;
	int rc;

	if ((rc = ctx_open(db, &cx, id, NULL, NULL, 0)) == CRM_OK)
		for (int i = 0; i < cx.wf->ntransitions && rc == CRM_OK; i++) {
			const crm__wf_transition *t = &cx.wf->transitions[i];
			const crm__wf_state *to = &cx.wf->states[t->to];
			char reason[200] = "";
			int pass = 1;

			if (!t->event || !crm__wf_from_matches(t, cx.state))
				continue;
			cx.event = t->event;
			cx.target = t->to;
			if ((rc = guard_passes(db, &cx, i, &pass)))
				break;
			if (!pass)
				snprintf(reason, sizeof reason, "the guard does not allow it");
			/* what the actor may not fire is not enabled for them */
			if (pass && cx.wf->form &&
			    (rc = crm__access_may_fire(db, cx.wf->form, cx.inst.record, t->event)) == CRM_EPERM) {
				snprintf(reason, sizeof reason, "the actor may not fire it");
				pass = 0;
				rc = CRM_OK;
			} else if (rc)
				break;
			for (int k = 0; pass && k < to->nrequire && (t->to != cx.state || t->reenter); k++)
				if (cx.rec.values[to->require[k]].kind == CRM__V_NULL) {
					snprintf(reason, sizeof reason, "%s is required to enter %s",
						 cx.wf->form->fields[to->require[k]].name, to->name);
					pass = 0;
				}
			crm__buf_puts(json, (*n)++ ? ",{\"instance\":" : "{\"instance\":");
			crm__buf_i64(json, cx.inst.id);
			crm__buf_puts(json, ",\"workflow\":");
			crm__json_cstr(json, cx.wf->name);
			crm__buf_puts(json, ",\"state\":");
			crm__json_cstr(json, cx.inst.state);
			crm__buf_puts(json, ",\"event\":");
			crm__json_cstr(json, t->event);
			crm__buf_puts(json, ",\"to\":");
			crm__json_cstr(json, to->name);
			crm__buf_puts(json, pass ? ",\"enabled\":true" : ",\"enabled\":false,\"reason\":");
			if (!pass)
				crm__json_cstr(json, reason);
			crm__buf_putc(json, '}');
		}
	ctx_close(db, &cx);
	return rc;
}

/* The events that the active instances of (form, record), or instance
 * `instance` when form is NULL, allow now, as a JSON array in *out. */
static int events_json(crm_db *db, const char *form, int64_t record, int64_t instance, char **out)
{
	crm__buf json = CRM__BUF_INIT;
	crm__wf_instance inst;
	int64_t *ids = NULL;
	int n = 0, count = 0, rc, hidden = 0;

	if ((rc = crm__enter_out(db, out)) || (rc = crm__tx_begin(db)))
		return rc;
	/* A record the actor may not read offers nothing, as a missing one. */
	if (form && (rc = crm__wf_record_hidden(db, form, record, &hidden)) == CRM_OK && !hidden)
		rc = crm__wf_instances_of(db, form, record, &ids, &n);
	else if (!form && (rc = crm__wf_schema(db)) == CRM_OK && (rc = crm__wf_instance_visible(db, instance)) == CRM_OK &&
		 (rc = crm__wf_instance_load(db, instance, &inst)) == CRM_OK)
		n = strcmp(inst.status, "active") == 0; /* finished instances offer nothing */
	crm__buf_putc(&json, '[');
	for (int i = 0; i < n && rc == CRM_OK; i++)
		rc = instance_events(db, form ? ids[i] : instance, &json, &count);
	crm__buf_putc(&json, ']');
	crm__free(ids);
	/* Guards only look; whatever a guard script wrote is undone. */
	crm__tx_end(db, CRM_ERROR);
	if (rc == CRM_OK && json.oom)
		rc = crm__error_oom(db);
	if (rc == CRM_OK) {
		db->errcode = CRM_OK;
		*out = crm__buf_detach(&json);
	}
	crm__buf_free(&json);
	return rc;
}

int crm_workflow_events(crm_db *db, const char *form, int64_t record, char **out)
{
	if (db && !form) {
		crm__enter(db);
		return crm__error(db, CRM_EMISUSE, "no form given (one instance: crm_workflow_instance_events)");
	}
	return events_json(db, form, record, 0, out);
}

int crm_workflow_instance_events(crm_db *db, int64_t instance, char **out)
{
	return events_json(db, NULL, 0, instance, out);
}
