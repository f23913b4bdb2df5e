/* The Lua sandbox shared by computed fields, validators, guards, hooks and
 * plugins: one state per handle, text-only chunks, no io/os/debug/package/
 * load, library tables read-only, a per-call instruction budget that pcall
 * cannot swallow, a memory ceiling enforced by the allocator, and bounded
 * pattern matching. Calls run inside the caller's transaction. */
#ifndef CRM_SCRIPT_H
#define CRM_SCRIPT_H

#include <lua.h>

#include "core/db_int.h"
#include "form/form_int.h"
#include "store/schema.h"

typedef struct crm__script crm__script;

/* The handle's Lua state, made on first use. NULL with the error set. */
lua_State *crm__lua(crm_db *db);

/* Run `fn(L, ud)` in protected mode. Every piece of C that touches the Lua
 * state (pushing records, compiling, calling, reading results) runs inside
 * one, so that running out of memory there is an error (CRM_ENOMEM), not a
 * panic that aborts the host. `fn` returns a crm code (with the error set);
 * everything it leaves on the stack is dropped. C memory `fn` allocates
 * must be owned by the caller (Lua errors unwind past `fn`). */
int crm__lua_protect(crm_db *db, int (*fn)(lua_State *L, void *ud), void *ud);

/* Inside crm__lua_protect: compile `src` (Lua text; binary chunks are
 * refused) named `name` (shown in error messages as "name:line:"), with its own environment over the
 * sandbox's globals. With `expression` set, `src` is an expression (or
 * statements that return a value) and the
 * chunk returns its value ("record.score >= 60"). On success pushes the
 * function and returns CRM_OK; otherwise CRM_ESCRIPT with the error set. */
int crm__lua_compile(crm_db *db, const char *name, const char *src, int expression);

/* Call the function below `nargs` arguments on the stack under the
 * handle's budget (instructions, memory, pattern steps) and leave `nresults`
 * results. Nested calls (a hook that writes a record with a computed field)
 * share the outer call's budget. On failure pops everything it was given
 * and returns CRM_ESCRIPT (or CRM_ELIMIT when a budget ran out, CRM_ENOMEM)
 * with the message naming the script and line. An error raised by a crm.*
 * function keeps the code that function failed with (e.g. CRM_ECONSTRAINT). */
int crm__lua_call(crm_db *db, int nargs, int nresults);
/* Is the handle's error a script reaching the Lua memory ceiling (its own
 * failure: CRM_ENOMEM with "limit": "lua_memory" in the detail) rather than
 * the host running out of memory? */
int crm__lua_memory_ceiling(crm_db *db);

/* Keep the function on top of the stack in the registry; returns a ref. */
int crm__lua_ref(lua_State *L);
void crm__lua_unref(lua_State *L, int ref);
/* Push a referenced function. */
void crm__lua_push_ref(lua_State *L, int ref);

/* A record's values as a Lua table: fields by name (decimals as numbers,
 * datetimes as ISO strings, multi_enum as arrays, json decoded), plus id,
 * created_at, updated_at, owner and version when `sys` is not NULL. */
void crm__lua_push_record(lua_State *L, const crm__form *form, const crm__value *values, const crm__value *sys);
/* A table of the names of the fields whose value differs between `old` and `now`. */
void crm__lua_push_changed(lua_State *L, const crm__form *form, const crm__value *old, const crm__value *now);
/* The write path's validate hook: run the form's validator plugins. */
int crm__script_validate(crm_db *db, const crm__form *form, const crm__value *old, const crm__value *now,
			 crm__errors *errs);
/* Append the JSON text of the Lua value at `idx` (tables as objects or
 * arrays). -1 when the value cannot be JSON (functions, cycles, NaN). */
int crm__lua_to_json(lua_State *L, int idx, crm__buf *out);

/* crm.null's identity: a light userdata written as JSON null. */
extern const char crm__lua_null;
/* Push the `crm` module table (made once, when the sandbox is built). */
void crm__lua_open_crm(lua_State *L);
/* Add a function to the `crm` module (engines above the sandbox, e.g.
 * crm.decide from the workflow engine). */
int crm__lua_register(crm_db *db, const char *name, lua_CFunction fn);
/* The handle a Lua state belongs to; mark the code a crm.* call failed with. */
crm_db *crm__lua_db(lua_State *L);
void crm__lua_fail_code(lua_State *L, int code);
/* Push the value of storage value `v` of a field of `type` as Lua sees it. */
void crm__lua_push_value(lua_State *L, crm_type type, int scale, const crm__value *v);

/* The write path's compute hook: evaluate every computed field of `values`. */
int crm__script_compute(crm_db *db, const crm__form *form, crm__value *values, crm__buf *scratch);

#endif
