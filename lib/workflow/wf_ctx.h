/* The context of one transition, shared by fire.c and actions.c. */
#ifndef CRM_WF_CTX_H
#define CRM_WF_CTX_H

#include <lua.h>

#include "workflow_int.h"

struct crm__wf_ctx {
	crm__workflow *wf;     /* retained */
	crm__wf_instance inst;
	int state;             /* the current state */
	int target;            /* the state being entered, or -1 */
	int started;           /* the instance had a state before this transition */
	const char *event;
	crm__record rec;       /* the record as it is now (reloaded after changes) */
	crm__value sys[5];     /* its id, created_at, updated_at, owner, version */
	int loaded;            /* rec is the record as of db->record_writes == writes */
	uint64_t writes;
	crm__record old;       /* the record before this transition (or the write that triggered it) */
	int has_old;
	int registered;        /* on the handle's firing stack */
};

/* Reload the record after a change (nothing to do when no record was
 * written since it was loaded). */
int crm__wf_ctx_reload(crm_db *db, crm__wf_ctx *cx);
/* The record is now `rec` (the values an update of it wrote, with its
 * updated_at; the version moved on by one): swapped in, `rec` gets the
 * old one. -1 (nothing changed) when memory ran out. */
int crm__wf_ctx_written(crm__wf_ctx *cx, crm__record *rec, int64_t updated_at);
/* The path of a part of the definition, which names its compiled Lua and
 * its errors: `a`, then "[index]" when index >= 0, `sep` and `b`, into
 * out[size] cut to fit (as snprintf would, without its cost: built on
 * every transition). */
void crm__wf_path(char *out, size_t size, const char *a, int index, const char *sep, const char *b);
/* Push a workflow's Lua chunk `what` (compiled once per version). */
int crm__wf_push_lua(crm_db *db, crm__wf_ctx *cx, const char *what, const char *src, int expression);
/* Call the chunk on top (compiled from `src`) with `record` and `ctx` in
 * its environment; one result. */
int crm__wf_call_lua(crm_db *db, crm__wf_ctx *cx, const char *src);
/* Run workflow Lua in a protected unit: the chunk `src` (an expression when
 * `expression` is set) or the plugin function `plugin` called with ctx;
 * then `take` reads its result (on top of L). */
int crm__wf_lua(crm_db *db, crm__wf_ctx *cx, const char *what, const char *src, int expression, const char *plugin,
		int (*take)(crm_db *db, crm__wf_ctx *cx, lua_State *L, void *ud), void *ud);
/* Push the ctx table hooks and plugin functions receive. */
void crm__wf_push_ctx(crm_db *db, crm__wf_ctx *cx);

#endif
