/* Internals of the workflow engine: compiled definitions, instances,
 * transitions, timers, approvals and the triggers on record writes. */
#ifndef CRM_WORKFLOW_INT_H
#define CRM_WORKFLOW_INT_H

#include <cJSON.h>

#include "core/db_int.h"
#include "crm/workflow.h"
#include "form/form_int.h"
#include "store/filter.h"

typedef enum crm__wf_action_kind {
	CRM__ACT_SET,    /* {"set": {"field": VALUE, ...}} */
	CRM__ACT_CREATE, /* {"create": {"form": "task", "values": {...}}} */
	CRM__ACT_ASSIGN, /* {"assign": "alice" | VALUE} : the record's owner */
	CRM__ACT_TAG,    /* {"tag": "high_intent", "field": "tags"} */
	CRM__ACT_SCORE,  /* {"score": 10, "field": "score"} */
	CRM__ACT_EMIT,   /* {"emit": "type", "payload": {...}} */
	CRM__ACT_CALL,   /* {"call": "plugin.function"} */
	CRM__ACT_DECIDE, /* {"decide": "table"}: set the outputs that are fields; "owner" assigns */
	CRM__ACT_LUA     /* {"lua": "statements"} */
} crm__wf_action_kind;

/* A VALUE in an action: a literal, {"field": "name"} (the record's value) or
 * {"lua": "expression"} (evaluated with ctx). Kept as JSON, resolved at run time. */
typedef struct crm__wf_action {
	crm__wf_action_kind kind;
	char *name;   /* emit: event type; call: plugin function; decide: table; create: form; tag: the tag; lua: source */
	char *field;  /* tag, score: the field changed */
	cJSON *spec;  /* set: field -> VALUE; create: values; emit: payload; assign: VALUE; score: amount VALUE */
} crm__wf_action;

typedef struct crm__wf_actions {
	crm__wf_action *v;
	int n;
	char path[160]; /* where it is in the definition: names compiled Lua and errors */
	int shorthand;  /* written as one plugin function name, not a list */
} crm__wf_actions;

enum crm__catch_up { CRM__CATCH_UP_ONCE, CRM__CATCH_UP_EVERY, CRM__CATCH_UP_SKIP };

typedef struct crm__wf_timer {
	char *event;
	int64_t after_ms;   /* > 0: relative to entering the state */
	int64_t at_ms;      /* > 0: an absolute deadline */
	char *field;        /* a deadline taken from a date/datetime field of the record */
	int64_t offset_ms;  /* added to the field's time */
	int64_t every_ms;   /* > 0: repeats */
	int catch_up;       /* enum crm__catch_up, for repeating timers */
} crm__wf_timer;

enum crm__approval_mode { CRM__APPROVAL_SEQUENTIAL, CRM__APPROVAL_ALL, CRM__APPROVAL_ANY };

typedef struct crm__wf_approver {
	char *role; /* or */
	char *user;
} crm__wf_approver;

typedef struct crm__wf_approval {
	int mode;
	crm__wf_approver *steps;
	int nsteps;
	char *approved; /* event fired when the approval completes */
	char *rejected; /* event fired on a rejection */
} crm__wf_approval;

typedef struct crm__wf_state {
	char *name;
	int final;
	int *require;       /* field positions that must have values to enter */
	int nrequire;
	crm__wf_actions on_enter, on_exit;
	crm__wf_timer *timers;
	int ntimers;
	crm__wf_approval *approval;
} crm__wf_state;

typedef struct crm__wf_transition {
	int *from;          /* state indexes; NULL with from_any */
	int nfrom;
	int from_any;
	char *event;        /* NULL for automatic transitions */
	crm__filter *when;  /* automatic: taken when the record matches after a change */
	int to;
	char *guard_lua;    /* a Lua expression over record, old, ctx */
	crm__filter *guard; /* or a filter on the record */
	crm__wf_actions actions;
	int reenter;        /* a self-transition that exits and re-enters (timers restart) */
} crm__wf_transition;

enum crm__start_on { CRM__START_MANUAL, CRM__START_CREATE, CRM__START_UPDATE };

typedef struct crm__workflow {
	int refs;
	char *name;
	int64_t version;
	char *form_name;   /* NULL: free-standing */
	crm__form *form;   /* retained */
	int start_on;
	crm__filter *start_when;
	int initial;
	crm__wf_state *states;
	int nstates;
	crm__wf_transition *transitions;
	int ntransitions;
	cJSON *migrate;    /* {"states": {"old": "new"}} for instances of older versions */
	int has_when;      /* some transition happens by itself: record changes must be checked */
	int has_timers;    /* some state has timers: leaving a state must clear them */
	int run_as_system; /* "run_as": "system": actions, hooks, triggers act as the system actor */
	char *body; /* its normalised JSON (from cJSON: cJSON_free) */
} crm__workflow;

/* Run what `wf` does (actions, hooks, automatic transitions) as its
 * definition says: as the system actor for "run_as": "system", else as
 * the actor. Returns what crm__wf_as_end takes. */
int crm__wf_as_begin(crm_db *db, const crm__workflow *wf);
void crm__wf_as_end(crm_db *db, int saved);
/* CRM_OK when the actor may read record `record` of form `form` (NULL:
 * free-standing, always); otherwise *hidden is set (the answer must then be
 * the one for a missing record). */
int crm__wf_record_hidden(crm_db *db, const char *form, int64_t record, int *hidden);
/* CRM_OK when instance `instance` exists and its record is the actor's to
 * read; else CRM_ENOTFOUND "no workflow instance N", alike for both. */
int crm__wf_instance_visible(crm_db *db, int64_t instance);

/* ---- definitions (define.c, catalog.c) ---- */
/* "90s", "30m", "24h", "7d", "2w", "1d12h" in milliseconds; -1 when malformed. */
int64_t crm__duration_ms(const char *s);
int crm__workflow_compile(crm_db *db, const cJSON *def, crm__workflow **out);
void crm__workflow_retain(crm__workflow *wf);
void crm__workflow_release(crm__workflow *wf);
int crm__workflow_apply(crm_db *db, const cJSON *doc);
/* Check what `wf` names outside itself (plugin functions, decision tables,
 * forms and fields of `create`) and compile, without running, its Lua
 * chunks. Errors name the workflow and carry the "path" (check.c). */
int crm__workflow_check(crm_db *db, const crm__workflow *wf);
/* The workflow `name` at `version` (0: the latest). Borrowed like forms. */
int crm__workflow_lookup(crm_db *db, const char *name, int64_t version, crm__workflow **out);
/* The latest workflows bound to `form` (borrowed array, count in *n). */
int crm__workflows_for_form(crm_db *db, const char *form, crm__workflow ***out, int *n);
int crm__wf_state_index(const crm__workflow *wf, const char *name);
/* Does transition `t` leave from `state`? */
int crm__wf_from_matches(const crm__wf_transition *t, int state);

/* ---- instances (instance.c) ---- */
typedef struct crm__wf_instance {
	int64_t id;
	char workflow[64];
	int64_t version;
	char form[64];
	int64_t record;
	char state[64];
	char status[16];
	int64_t entered_at;
} crm__wf_instance;

int crm__wf_schema(crm_db *db);
int crm__wf_instance_load(crm_db *db, int64_t id, crm__wf_instance *out);
/* Hold instance `id` to the end of the transaction before it is read for a
 * transition or decision (two servers firing events on one instance take
 * turns, the second seeing the state the first left), and its record before
 * it: a record's write holds the record, then settles its instances, so
 * every path takes them in that order. *out is the instance as held;
 * `known` (may be NULL) the instance as the caller read it, which is *out
 * where writers take turns, and when `held` (the caller read it with its
 * lock, its record held before, crm__wf_instance_rows): nothing to do. */
int crm__wf_instance_lock(crm_db *db, int64_t id, const crm__wf_instance *known, int held, crm__wf_instance *out);
/* Active instances of a record (ids, crm__free), in start order. */
int crm__wf_instances_of(crm_db *db, const char *form, int64_t record, int64_t **ids, int *n);
/* A record read before its instances, for the first transition to take
 * (crm__wf_fire_loaded) instead of reading it again. */
typedef struct crm__wf_record {
	int held;        /* where rows are locked: the record and its instances are held */
	int loaded;      /* rec and sys are the record as of db->record_writes == writes */
	uint64_t writes;
	crm__record rec; /* crm__wf_record_free */
	crm__value sys[5];
} crm__wf_record;
void crm__wf_record_init(crm__wf_record *r);
void crm__wf_record_free(crm__wf_record *r);
/* The same instances read whole (crm__free); `rec` (may be NULL): first
 * read the record whole, held where rows are locked, then the instances
 * with their own locks (rec->held = 1 then; the record's form is known). A
 * missing record of a known form fails as crm__record_load. */
int crm__wf_instance_rows(crm_db *db, const char *form, int64_t record, crm__wf_instance **out, int *n,
			  crm__wf_record *rec);
/* For the report engine's funnels: SQL selecting (rec, state) for every
 * state each record's instance of a workflow is in or has been in. It takes
 * four parameters, in order: workflow, form, workflow, form. */
void crm__wf_states_reached_sql(crm__buf *sql);
/* A history row of instance `instance` of `workflow`, its audit entry and
 * its event: crm.approval for the events approve and reject, else (when
 * from or to is set) crm.transition. */
int crm__wf_history_add(crm_db *db, const char *workflow, int64_t instance, const char *form, int64_t record,
			const char *event, const char *from, const char *to, const char *data);
/* Start `wf` for `record` (0 for free-standing): enter the initial state. */
int crm__wf_start(crm_db *db, crm__workflow *wf, int64_t record, int64_t *out_id);

/* Instances in the middle of a transition on this handle: the triggers
 * their own actions cause must not re-enter them. */
int crm__wf_firing_push(crm_db *db, int64_t instance);
void crm__wf_firing_pop(crm_db *db);
int crm__wf_is_firing(crm_db *db, int64_t instance);

/* ---- transitions (fire.c, actions.c) ---- */
enum { CRM__FIRE_SYSTEM = 1 /* by a timer or trigger: not the actor */ };
/* Fire `event` on one instance; `fields` (JSON object, may be NULL) is
 * written to the record first, in the same transaction. */
int crm__wf_fire(crm_db *db, int64_t instance, const char *event, const char *fields, const char *note);
/* crm__wf_fire of the instance `inst` the caller just loaded in its own
 * transaction (no second read of it), which the caller ends on failure
 * (no savepoint of its own); `rec` (may be NULL): as crm__wf_instance_rows
 * left it, its record taken over when still current. */
int crm__wf_fire_loaded(crm_db *db, const crm__wf_instance *inst, crm__wf_record *rec, const char *event,
			const char *fields, const char *note);
/* Take automatic ("when") transitions of an instance until none applies;
 * `old` (may be NULL) is the record before the write that prompted it. */
int crm__wf_settle(crm_db *db, int64_t instance, const crm__value *old);
/* Enter state `to` of instance `inst` (exit/enter hooks, timers, approvals). */
typedef struct crm__wf_ctx crm__wf_ctx;
int crm__wf_run_actions(crm_db *db, crm__wf_ctx *cx, const crm__wf_actions *actions);

/* ---- timers (timer.c) ---- */
int crm__wf_timers_enter(crm_db *db, crm__workflow *wf, const crm__wf_instance *inst, int state,
			 const crm__value *record);
int crm__wf_timers_cancel(crm_db *db, int64_t instance);

/* ---- approvals (approval.c) ---- */
int crm__wf_approval_enter(crm_db *db, crm__workflow *wf, const crm__wf_instance *inst, int state);

/* ---- triggers (trigger.c): the write-path hook ---- */
int crm__workflow_after_write(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now);
/* 1 when a workflow is bound to `form` (or that cannot be told). */
int crm__workflow_watches(crm_db *db, const crm__form *form);

#endif
