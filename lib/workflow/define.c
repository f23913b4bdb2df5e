/* Workflow definitions: JSON checked and compiled into a crm__workflow.
 * Every state, event and field name is resolved here, so running a
 * workflow never meets an unknown name. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "workflow_int.h"

#define MAX_STATES 200
#define MAX_TRANSITIONS 1000
#define MAX_ACTIONS 50

typedef struct wctx {
	crm_db *db;
	crm__workflow *wf;
	char path[160];
} wctx;

static int fail(wctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(wctx *cx, const char *fmt, ...)
{
	char msg[512];
	crm__buf detail = CRM__BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	crm__buf_puts(&detail, "\"path\":");
	crm__json_cstr(&detail, cx->path);
	crm__error_detail(cx->db, CRM_EINVAL, crm__buf_cstr(&detail), "workflow %s: %s%s%s",
			  cx->wf->name ? cx->wf->name : "?", cx->path, *cx->path ? ": " : "", msg);
	crm__buf_free(&detail);
	return CRM_EINVAL;
}

static void at(wctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void at(wctx *cx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cx->path, sizeof cx->path, fmt, ap);
	va_end(ap);
}

static int only_keys(wctx *cx, const cJSON *obj, const char *const *allowed)
{
	for (const cJSON *m = obj->child; m; m = m->next) {
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(m->string, *a) == 0;
		if (!ok)
			return fail(cx, "unknown key '%s'", m->string);
	}
	return CRM_OK;
}

static const char *str(const cJSON *obj, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* "90s", "30m", "24h", "7d", "2w", "1d12h" -> milliseconds; -1 when malformed. */
int64_t crm__duration_ms(const char *s)
{
	int64_t total = 0;

	if (!s || !*s)
		return -1;
	while (*s) {
		int64_t n = 0, unit;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (*s++ - '0');
			if (n > 100000000)
				return -1;
		}
		switch (*s++) {
		case 's': unit = 1000; break;
		case 'm': unit = 60000; break;
		case 'h': unit = 3600000; break;
		case 'd': unit = 86400000; break;
		case 'w': unit = 7 * 86400000LL; break;
		default: return -1;
		}
		total += n * unit;
	}
	return total;
}

static const crm__field *field_of(wctx *cx, const char *name)
{
	return cx->wf->form && name ? crm__form_field(cx->wf->form, name, strlen(name)) : NULL;
}

static int name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

static int compile_action(wctx *cx, const cJSON *a, crm__wf_action *act)
{
	static const char *const keys[] = { "set",   "create", "assign", "tag",    "score", "field",
					    "emit",  "payload", "call",  "decide", "lua",   NULL };
	const cJSON *v;
	const crm__field *f;
	int rc;

	if (!cJSON_IsObject(a))
		return fail(cx, "an action is an object such as {\"emit\": \"event\"}");
	if ((rc = only_keys(cx, a, keys)))
		return rc;
	if ((v = cJSON_GetObjectItemCaseSensitive(a, "set"))) {
		act->kind = CRM__ACT_SET;
		if (!cJSON_IsObject(v) || !v->child)
			return fail(cx, "'set' takes an object of field values");
		if (!cx->wf->form)
			return fail(cx, "a free-standing workflow has no record to change");
		for (const cJSON *m = v->child; m; m = m->next)
			if (!field_of(cx, m->string) && strcmp(m->string, "owner") != 0)
				return fail(cx, "'set': form %s has no field '%s'", cx->wf->form_name, m->string);
	} else if ((v = cJSON_GetObjectItemCaseSensitive(a, "create"))) {
		const char *form = str(v, "form");
		act->kind = CRM__ACT_CREATE;
		if (!cJSON_IsObject(v) || !form || !crm__valid_name(form) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(v, "values")))
			return fail(cx, "'create' takes {\"form\": NAME, \"values\": {...}}");
		if (!(act->name = crm__strdup(form)))
			return crm__error_oom(cx->db);
		v = cJSON_GetObjectItemCaseSensitive(v, "values");
	} else if ((v = cJSON_GetObjectItemCaseSensitive(a, "assign")))
		act->kind = CRM__ACT_ASSIGN;
	else if ((v = cJSON_GetObjectItemCaseSensitive(a, "tag"))) {
		const char *field = str(a, "field") ? str(a, "field") : "tags";
		act->kind = CRM__ACT_TAG;
		if (!cJSON_IsString(v) || !*v->valuestring)
			return fail(cx, "'tag' takes a tag name");
		if (!(f = field_of(cx, field)) || (f->type != CRM_TYPE_MULTI_ENUM && f->type != CRM_TYPE_JSON))
			return fail(cx, "'tag' needs a multi_enum or json field '%s' on form %s", field,
				    cx->wf->form_name ? cx->wf->form_name : "(none)");
		if (!(act->name = crm__strdup(v->valuestring)) || !(act->field = crm__strdup(field)))
			return crm__error_oom(cx->db);
		v = NULL;
	} else if ((v = cJSON_GetObjectItemCaseSensitive(a, "score"))) {
		const char *field = str(a, "field") ? str(a, "field") : "score";
		act->kind = CRM__ACT_SCORE;
		if (!(f = field_of(cx, field)) ||
		    (f->type != CRM_TYPE_INTEGER && f->type != CRM_TYPE_DECIMAL && f->type != CRM_TYPE_NUMBER))
			return fail(cx, "'score' needs a numeric field '%s' on form %s", field,
				    cx->wf->form_name ? cx->wf->form_name : "(none)");
		if (!(act->field = crm__strdup(field)))
			return crm__error_oom(cx->db);
	} else if ((v = cJSON_GetObjectItemCaseSensitive(a, "emit"))) {
		act->kind = CRM__ACT_EMIT;
		if (!cJSON_IsString(v) || !name_ok(v->valuestring))
			return fail(cx, "'emit' takes an event type (a-z, 0-9, _ and .)");
		if (strncmp(v->valuestring, "crm.", 4) == 0)
			return fail(cx, "'emit': event types starting with 'crm.' are libcrm's own (%.64s)", v->valuestring);
		if (!(act->name = crm__strdup(v->valuestring)))
			return crm__error_oom(cx->db);
		v = cJSON_GetObjectItemCaseSensitive(a, "payload");
		if (v && !cJSON_IsObject(v))
			return fail(cx, "'payload' is an object");
	} else if ((v = cJSON_GetObjectItemCaseSensitive(a, "call"))) {
		act->kind = CRM__ACT_CALL;
		if (!cJSON_IsString(v) || !name_ok(v->valuestring) || !strchr(v->valuestring, '.'))
			return fail(cx, "'call' takes a plugin function \"plugin.function\"");
		if (!(act->name = crm__strdup(v->valuestring)))
			return crm__error_oom(cx->db);
		v = NULL;
	} else if ((v = cJSON_GetObjectItemCaseSensitive(a, "decide"))) {
		act->kind = CRM__ACT_DECIDE;
		if (!cJSON_IsString(v) || !crm__valid_name(v->valuestring))
			return fail(cx, "'decide' takes a decision table name");
		if (!(act->name = crm__strdup(v->valuestring)))
			return crm__error_oom(cx->db);
		v = NULL;
	} else if ((v = cJSON_GetObjectItemCaseSensitive(a, "lua"))) {
		act->kind = CRM__ACT_LUA;
		if (!cJSON_IsString(v))
			return fail(cx, "'lua' takes Lua statements");
		if (!(act->name = crm__strdup(v->valuestring)))
			return crm__error_oom(cx->db);
		v = NULL;
	} else
		return fail(cx, "an action needs one of set, create, assign, tag, score, emit, call, decide, lua");
	if ((act->kind == CRM__ACT_SET || act->kind == CRM__ACT_ASSIGN || act->kind == CRM__ACT_TAG ||
	     act->kind == CRM__ACT_SCORE) && !cx->wf->form)
		return fail(cx, "a free-standing workflow has no record to change");
	if (v && !(act->spec = cJSON_Duplicate(v, 1)))
		return crm__error_oom(cx->db);
	return CRM_OK;
}

/* Actions: a list, or a single plugin function name as a shorthand. */
static int compile_actions(wctx *cx, const cJSON *list, crm__wf_actions *out)
{
	char base[160];
	int i = 0, rc;
	const cJSON *a;

	if (!list)
		return CRM_OK;
	snprintf(base, sizeof base, "%s", cx->path);
	snprintf(out->path, sizeof out->path, "%s", cx->path);
	if (cJSON_IsString(list)) {
		if (!(out->v = crm__calloc(1, sizeof *out->v)))
			return crm__error_oom(cx->db);
		out->n = 1;
		out->shorthand = 1;
		out->v[0].kind = CRM__ACT_CALL;
		if (!name_ok(list->valuestring) || !strchr(list->valuestring, '.'))
			return fail(cx, "a hook is a plugin function \"plugin.function\" or a list of actions");
		return (out->v[0].name = crm__strdup(list->valuestring)) ? CRM_OK : crm__error_oom(cx->db);
	}
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > MAX_ACTIONS)
		return fail(cx, "actions are a list of at most %d actions", MAX_ACTIONS);
	if (!(out->v = crm__calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *out->v)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(a, list)
	{
		at(cx, "%s[%d]", base, i);
		out->n = i + 1;
		if ((rc = compile_action(cx, a, &out->v[i])))
			return rc;
		i++;
	}
	return CRM_OK;
}

static int compile_timers(wctx *cx, const cJSON *list, crm__wf_state *st)
{
	static const char *const keys[] = { "after", "at", "field", "offset", "every", "catch_up", "event", NULL };
	char base[160];
	const cJSON *t;
	int i = 0, rc;

	snprintf(base, sizeof base, "%s", cx->path);
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > 20)
		return fail(cx, "'timers' is a list of at most 20 timers");
	if (!(st->timers = crm__calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *st->timers)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(t, list)
	{
		crm__wf_timer *tm = &st->timers[i];
		const char *after = str(t, "after"), *when = str(t, "at"), *field = str(t, "field"),
			   *offset = str(t, "offset"), *every = str(t, "every"), *catch_up = str(t, "catch_up"),
			   *event = str(t, "event");
		const crm__field *f;

		at(cx, "%s[%d]", base, i);
		st->ntimers = ++i;
		if (!cJSON_IsObject(t))
			return fail(cx, "a timer is an object");
		if ((rc = only_keys(cx, t, keys)))
			return rc;
		if (!event || !name_ok(event))
			return fail(cx, "a timer needs the 'event' it fires");
		if (!!after + !!when + !!field != 1)
			return fail(cx, "a timer has exactly one of 'after', 'at' and 'field'");
		if (after && (tm->after_ms = crm__duration_ms(after)) <= 0)
			return fail(cx, "'after' is a duration such as \"24h\", \"30m\", \"7d\"");
		if (when && crm__datetime_parse(when, strlen(when), &tm->at_ms))
			return fail(cx, "'at' is an ISO 8601 date-time with a zone");
		if (field) {
			if (!(f = field_of(cx, field)) || (f->type != CRM_TYPE_DATE && f->type != CRM_TYPE_DATETIME))
				return fail(cx, "'field' names a date or datetime field of the form");
			if (!(tm->field = crm__strdup(field)))
				return crm__error_oom(cx->db);
		}
		if (offset) {
			int neg = offset[0] == '-';
			if (!field || (tm->offset_ms = crm__duration_ms(offset + (neg || offset[0] == '+'))) < 0)
				return fail(cx, "'offset' (with 'field') is a duration such as \"-1h\"");
			if (neg)
				tm->offset_ms = -tm->offset_ms;
		}
		if (every && (tm->every_ms = crm__duration_ms(every)) < 60000)
			return fail(cx, "'every' is a duration of at least a minute");
		if (!catch_up || strcmp(catch_up, "once") == 0)
			tm->catch_up = CRM__CATCH_UP_ONCE;
		else if (strcmp(catch_up, "every") == 0)
			tm->catch_up = CRM__CATCH_UP_EVERY;
		else if (strcmp(catch_up, "skip") == 0)
			tm->catch_up = CRM__CATCH_UP_SKIP;
		else
			return fail(cx, "'catch_up' is once, every or skip");
		if (!(tm->event = crm__strdup(event)))
			return crm__error_oom(cx->db);
	}
	return CRM_OK;
}

static int compile_approval(wctx *cx, const cJSON *a, crm__wf_state *st)
{
	static const char *const keys[] = { "mode", "steps", "approved", "rejected", NULL };
	const char *mode = str(a, "mode"), *approved = str(a, "approved"), *rejected = str(a, "rejected");
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(a, "steps"), *s;
	crm__wf_approval *ap;
	int i = 0, rc;

	if (!cJSON_IsObject(a))
		return fail(cx, "'approval' is an object");
	if ((rc = only_keys(cx, a, keys)))
		return rc;
	if (!(ap = st->approval = crm__calloc(1, sizeof *ap)))
		return crm__error_oom(cx->db);
	if (!mode || strcmp(mode, "sequential") == 0)
		ap->mode = CRM__APPROVAL_SEQUENTIAL;
	else if (strcmp(mode, "all") == 0)
		ap->mode = CRM__APPROVAL_ALL;
	else if (strcmp(mode, "any") == 0)
		ap->mode = CRM__APPROVAL_ANY;
	else
		return fail(cx, "'mode' is sequential, all or any");
	if (!approved || !rejected || !name_ok(approved) || !name_ok(rejected))
		return fail(cx, "an approval names the 'approved' and 'rejected' events it fires");
	if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0 || cJSON_GetArraySize(steps) > 20)
		return fail(cx, "'steps' is a list of 1 to 20 approvers {\"role\": R} or {\"user\": U}");
	if (!(ap->steps = crm__calloc((size_t)cJSON_GetArraySize(steps), sizeof *ap->steps)) ||
	    !(ap->approved = crm__strdup(approved)) || !(ap->rejected = crm__strdup(rejected)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(s, steps)
	{
		const char *role = str(s, "role"), *user = str(s, "user");
		ap->nsteps = i + 1;
		if (!cJSON_IsObject(s) || !!role + !!user != 1 || cJSON_GetArraySize(s) != 1)
			return fail(cx, "approval step %d is {\"role\": R} or {\"user\": U}", i);
		if (!(role ? (ap->steps[i].role = crm__strdup(role)) : (ap->steps[i].user = crm__strdup(user))))
			return crm__error_oom(cx->db);
		i++;
	}
	return CRM_OK;
}

static int compile_state(wctx *cx, const cJSON *def, crm__wf_state *st)
{
	static const char *const keys[] = { "label", "final", "require", "on_enter", "on_exit", "timers", "approval",
					    NULL };
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(def, "require"), *r;
	char base[160];
	int rc;

	snprintf(base, sizeof base, "%s", cx->path);
	if (!cJSON_IsObject(def))
		return fail(cx, "a state is an object");
	if ((rc = only_keys(cx, def, keys)))
		return rc;
	st->final = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(def, "final"));
	if (req) {
		if (!cJSON_IsArray(req) || !cx->wf->form)
			return fail(cx, "'require' is a list of fields of the workflow's form");
		if (!(st->require = crm__calloc((size_t)cJSON_GetArraySize(req) + 1, sizeof *st->require)))
			return crm__error_oom(cx->db);
		cJSON_ArrayForEach(r, req)
		{
			const crm__field *f = cJSON_IsString(r) ? field_of(cx, r->valuestring) : NULL;
			if (!f)
				return fail(cx, "'require': form %s has no field '%s'", cx->wf->form_name,
					    cJSON_IsString(r) ? r->valuestring : "?");
			st->require[st->nrequire++] = f->position;
		}
	}
	at(cx, "%s.on_enter", base);
	if ((rc = compile_actions(cx, cJSON_GetObjectItemCaseSensitive(def, "on_enter"), &st->on_enter)))
		return rc;
	at(cx, "%s.on_exit", base);
	if ((rc = compile_actions(cx, cJSON_GetObjectItemCaseSensitive(def, "on_exit"), &st->on_exit)))
		return rc;
	at(cx, "%s.timers", base);
	if (cJSON_GetObjectItemCaseSensitive(def, "timers") &&
	    (rc = compile_timers(cx, cJSON_GetObjectItemCaseSensitive(def, "timers"), st)))
		return rc;
	at(cx, "%s.approval", base);
	if (cJSON_GetObjectItemCaseSensitive(def, "approval") &&
	    (rc = compile_approval(cx, cJSON_GetObjectItemCaseSensitive(def, "approval"), st)))
		return rc;
	return CRM_OK;
}

int crm__wf_state_index(const crm__workflow *wf, const char *name)
{
	for (int i = 0; name && i < wf->nstates; i++)
		if (strcmp(wf->states[i].name, name) == 0)
			return i;
	return -1;
}

static int compile_transition(wctx *cx, const cJSON *def, crm__wf_transition *t)
{
	static const char *const keys[] = { "from", "event", "when", "to", "guard", "actions", "reenter", "label", NULL };
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(def, "from");
	const cJSON *guard = cJSON_GetObjectItemCaseSensitive(def, "guard");
	const cJSON *when = cJSON_GetObjectItemCaseSensitive(def, "when");
	const char *event = str(def, "event"), *to = str(def, "to");
	char base[160];
	int rc;

	snprintf(base, sizeof base, "%s", cx->path);
	if (!cJSON_IsObject(def))
		return fail(cx, "a transition is an object");
	if ((rc = only_keys(cx, def, keys)))
		return rc;
	if (!!event == !!when)
		return fail(cx, "a transition has an 'event' or, to happen by itself, a 'when' condition");
	if (event && !name_ok(event))
		return fail(cx, "'event' is a name (a-z, 0-9, _ and .)");
	if ((t->to = crm__wf_state_index(cx->wf, to)) < 0)
		return fail(cx, "'to' names no state: '%s'", to ? to : "");
	if (cJSON_IsString(from) && strcmp(from->valuestring, "*") == 0)
		t->from_any = 1;
	else {
		const cJSON *names = cJSON_IsString(from) ? NULL : from, *s;
		if (!from || (!cJSON_IsString(from) && !cJSON_IsArray(from)))
			return fail(cx, "'from' is a state, a list of states or \"*\"");
		if (!(t->from = crm__calloc(names ? (size_t)cJSON_GetArraySize(names) + 1 : 1, sizeof *t->from)))
			return crm__error_oom(cx->db);
		if (!names) {
			if ((t->from[0] = crm__wf_state_index(cx->wf, from->valuestring)) < 0)
				return fail(cx, "'from' names no state: '%s'", from->valuestring);
			t->nfrom = 1;
		} else
			cJSON_ArrayForEach(s, names)
			{
				int idx = cJSON_IsString(s) ? crm__wf_state_index(cx->wf, s->valuestring) : -1;
				if (idx < 0)
					return fail(cx, "'from' names no state: '%s'", cJSON_IsString(s) ? s->valuestring : "?");
				t->from[t->nfrom++] = idx;
			}
	}
	t->reenter = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(def, "reenter"));
	if ((event && !(t->event = crm__strdup(event))))
		return crm__error_oom(cx->db);
	if (when) {
		char p[200];
		snprintf(p, sizeof p, "%s.when", base);
		if (!cx->wf->form)
			return fail(cx, "'when' needs a workflow bound to a form");
		if (!(t->when = crm__filter_parse(cx->db, cx->wf->form, when, p, 0)))
			return cx->db->errcode;
	}
	if (cJSON_IsString(guard)) {
		if (!(t->guard_lua = crm__strdup(guard->valuestring)))
			return crm__error_oom(cx->db);
	} else if (guard) {
		char p[200];
		snprintf(p, sizeof p, "%s.guard", base);
		if (!cx->wf->form)
			return fail(cx, "a condition guard needs a workflow bound to a form");
		if (!(t->guard = crm__filter_parse(cx->db, cx->wf->form, guard, p, 0)))
			return cx->db->errcode;
	}
	at(cx, "%s.actions", base);
	return compile_actions(cx, cJSON_GetObjectItemCaseSensitive(def, "actions"), &t->actions);
}

/* Does a transition leave state `s` on `event`? */
static int handles(const crm__workflow *wf, int s, const char *event)
{
	for (int i = 0; i < wf->ntransitions; i++) {
		const crm__wf_transition *t = &wf->transitions[i];
		int from = t->from_any;
		for (int k = 0; k < t->nfrom; k++)
			from |= t->from[k] == s;
		if (from && t->event && strcmp(t->event, event) == 0)
			return 1;
	}
	return 0;
}

static const char *const workflow_keys[] = { "workflow", "label", "description", "form", "start_on", "initial",
					     "states", "transitions", "migrate", "run_as", NULL };

static int compile(wctx *cx, const cJSON *def)
{
	crm__workflow *wf = cx->wf;
	const cJSON *states = cJSON_GetObjectItemCaseSensitive(def, "states"), *s;
	const cJSON *transitions = cJSON_GetObjectItemCaseSensitive(def, "transitions");
	const cJSON *start = cJSON_GetObjectItemCaseSensitive(def, "start_on");
	const cJSON *migrate = cJSON_GetObjectItemCaseSensitive(def, "migrate");
	const char *name = str(def, "workflow"), *form = str(def, "form"), *initial = str(def, "initial");
	int rc, i;

	if (!name || !crm__valid_name(name))
		return fail(cx, "'workflow' is a name (a-z, 0-9, _; starting with a letter)");
	if (!(wf->name = crm__strdup(name)))
		return crm__error_oom(cx->db);
	if ((rc = only_keys(cx, def, workflow_keys)))
		return rc;
	if (cJSON_GetObjectItemCaseSensitive(def, "run_as")) {
		const char *as = str(def, "run_as");
		at(cx, "run_as");
		if (!as || (strcmp(as, "system") != 0 && strcmp(as, "actor") != 0))
			return fail(cx, "'run_as' is \"system\" (trusted automation) or \"actor\" (the default: who fired)");
		wf->run_as_system = strcmp(as, "system") == 0;
	}
	if (form) {
		at(cx, "form");
		if ((rc = crm__form_lookup(cx->db, form, &wf->form)))
			return rc == CRM_ENOTFOUND ? fail(cx, "no form named '%s'", form) : rc;
		crm__form_retain(wf->form);
		if (!(wf->form_name = crm__strdup(form)))
			return crm__error_oom(cx->db);
	}
	at(cx, "states");
	if (!cJSON_IsObject(states) || !states->child || cJSON_GetArraySize(states) > MAX_STATES)
		return fail(cx, "'states' is an object of 1 to %d states", MAX_STATES);
	if (!(wf->states = crm__calloc((size_t)cJSON_GetArraySize(states), sizeof *wf->states)))
		return crm__error_oom(cx->db);
	cJSON_ArrayForEach(s, states)
	{
		crm__wf_state *st = &wf->states[wf->nstates++];
		at(cx, "states.%s", s->string);
		if (!crm__valid_name(s->string))
			return fail(cx, "'%s' is not a valid state name", s->string);
		if (!(st->name = crm__strdup(s->string)))
			return crm__error_oom(cx->db);
	}
	i = 0;
	cJSON_ArrayForEach(s, states)
	{
		at(cx, "states.%s", s->string);
		if ((rc = compile_state(cx, s, &wf->states[i++])))
			return rc;
	}
	at(cx, "initial");
	if ((wf->initial = crm__wf_state_index(wf, initial)) < 0)
		return fail(cx, "'initial' names no state: '%s'", initial ? initial : "");
	at(cx, "start_on");
	if (!start || (cJSON_IsString(start) && strcmp(start->valuestring, "manual") == 0))
		wf->start_on = CRM__START_MANUAL;
	else if (cJSON_IsString(start) && strcmp(start->valuestring, "create") == 0)
		wf->start_on = CRM__START_CREATE;
	else if (cJSON_IsObject(start) && (cJSON_GetObjectItemCaseSensitive(start, "create") ||
					   cJSON_GetObjectItemCaseSensitive(start, "update")) &&
		 cJSON_GetArraySize(start) == 1) {
		int on_create = cJSON_GetObjectItemCaseSensitive(start, "create") != NULL;
		wf->start_on = on_create ? CRM__START_CREATE : CRM__START_UPDATE;
		if (!wf->form)
			return fail(cx, "a workflow started by record changes needs a 'form'");
		if (!(wf->start_when = crm__filter_parse(cx->db, wf->form, start->child,
							  on_create ? "start_on.create" : "start_on.update", 0)))
			return cx->db->errcode;
	} else
		return fail(cx, "'start_on' is \"manual\", \"create\", {\"create\": CONDITION} or {\"update\": CONDITION}");
	if (wf->start_on != CRM__START_MANUAL && !wf->form)
		return fail(cx, "a workflow started by record changes needs a 'form'");
	at(cx, "transitions");
	if (!cJSON_IsArray(transitions) || cJSON_GetArraySize(transitions) > MAX_TRANSITIONS)
		return fail(cx, "'transitions' is a list of at most %d transitions", MAX_TRANSITIONS);
	if (!(wf->transitions = crm__calloc((size_t)cJSON_GetArraySize(transitions) + 1, sizeof *wf->transitions)))
		return crm__error_oom(cx->db);
	i = 0;
	cJSON_ArrayForEach(s, transitions)
	{
		at(cx, "transitions[%d]", i++);
		wf->ntransitions = i;
		if ((rc = compile_transition(cx, s, &wf->transitions[i - 1])))
			return rc;
	}
	/* An approval whose outcome no transition takes could never complete. */
	for (i = 0; i < wf->nstates; i++) {
		const crm__wf_approval *ap = wf->states[i].approval;
		if (!ap)
			continue;
		at(cx, "states.%s.approval", wf->states[i].name);
		if (!handles(wf, i, ap->approved) || !handles(wf, i, ap->rejected))
			return fail(cx, "no transition from %s on its '%s' event", wf->states[i].name,
				    handles(wf, i, ap->approved) ? ap->rejected : ap->approved);
	}
	if (migrate) {
		const cJSON *map = cJSON_GetObjectItemCaseSensitive(migrate, "states");
		at(cx, "migrate");
		if (!cJSON_IsObject(migrate) || !cJSON_IsObject(map) || cJSON_GetArraySize(migrate) != 1)
			return fail(cx, "'migrate' is {\"states\": {\"old state\": \"new state\"}}");
		for (const cJSON *m = map->child; m; m = m->next)
			if (!cJSON_IsString(m) || crm__wf_state_index(wf, m->valuestring) < 0)
				return fail(cx, "'migrate': state '%s' maps to no state of this version", m->string);
		if (!(wf->migrate = cJSON_Duplicate(migrate, 1)))
			return crm__error_oom(cx->db);
	}
	for (i = 0; i < wf->ntransitions; i++)
		wf->has_when |= wf->transitions[i].when != NULL;
	for (i = 0; i < wf->nstates; i++)
		wf->has_timers |= wf->states[i].ntimers > 0;
	*cx->path = 0;
	return (wf->body = cJSON_PrintUnformatted(def)) ? CRM_OK : crm__error_oom(cx->db);
}

static void actions_free(crm__wf_actions *a)
{
	for (int i = 0; i < a->n; i++) {
		crm__free(a->v[i].name);
		crm__free(a->v[i].field);
		cJSON_Delete(a->v[i].spec);
	}
	crm__free(a->v);
}

void crm__workflow_retain(crm__workflow *wf)
{
	if (wf)
		wf->refs++;
}

void crm__workflow_release(crm__workflow *wf)
{
	if (!wf || --wf->refs > 0)
		return;
	for (int i = 0; i < wf->nstates; i++) {
		crm__wf_state *st = &wf->states[i];
		crm__free(st->name);
		crm__free(st->require);
		actions_free(&st->on_enter);
		actions_free(&st->on_exit);
		for (int k = 0; k < st->ntimers; k++) {
			crm__free(st->timers[k].event);
			crm__free(st->timers[k].field);
		}
		crm__free(st->timers);
		if (st->approval) {
			for (int k = 0; k < st->approval->nsteps; k++) {
				crm__free(st->approval->steps[k].role);
				crm__free(st->approval->steps[k].user);
			}
			crm__free(st->approval->steps);
			crm__free(st->approval->approved);
			crm__free(st->approval->rejected);
			crm__free(st->approval);
		}
	}
	crm__free(wf->states);
	for (int i = 0; i < wf->ntransitions; i++) {
		crm__wf_transition *t = &wf->transitions[i];
		crm__free(t->from);
		crm__free(t->event);
		crm__filter_free(t->when);
		crm__free(t->guard_lua);
		crm__filter_free(t->guard);
		actions_free(&t->actions);
	}
	crm__free(wf->transitions);
	crm__filter_free(wf->start_when);
	cJSON_Delete(wf->migrate);
	crm__form_release(wf->form);
	crm__free(wf->form_name);
	crm__free(wf->name);
	cJSON_free(wf->body);
	crm__free(wf);
}

int crm__workflow_compile(crm_db *db, const cJSON *def, crm__workflow **out)
{
	wctx cx = { .db = db };
	int rc;

	*out = NULL;
	if (!(cx.wf = crm__calloc(1, sizeof *cx.wf)))
		return crm__error_oom(db);
	cx.wf->refs = 1;
	if (!cJSON_IsObject(def))
		rc = fail(&cx, "a workflow definition is a JSON object");
	else
		rc = compile(&cx, def);
	if (rc) {
		crm__workflow_release(cx.wf);
		return rc;
	}
	*out = cx.wf;
	return CRM_OK;
}
