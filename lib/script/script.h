/* The Lua sandbox shared by computed fields, validators, guards, hooks and
 * plugins: one state per handle, text-only chunks, no io/os/debug/package/
 * load, library and plugin tables read-only at every depth, fresh globals
 * for every run of a script, a per-call instruction budget that neither
 * pcall nor a message handler can escape (library loops in C charge it
 * too), a memory ceiling enforced by the allocator, and bounded pattern
 * matching. Calls run inside the caller's transaction. */
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
 * refused) named `name` (shown in error messages as "name:line:"), with its own globals over the
 * sandbox's (for a plugin's chunk, run once, they stay the plugin's). With `expression` set, `src` is an expression (or
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

/* Push a new, empty globals table for a script, reading through to the
 * sandbox's libraries. */
void crm__lua_push_globals(lua_State *L);
/* Run the compiled chunk below a globals table (from crm__lua_push_globals,
 * with what the script should see, e.g. `record`) as crm__lua_call does,
 * with those globals for this run only: nothing one run sets is seen by
 * the next. Pops both; leaves `nresults` results on success. */
int crm__lua_call_chunk(crm_db *db, int nresults);

/* Inside a call: charge `steps` iterations of a library loop that runs in
 * C (where the count hook never fires) to the budget; raises the budget
 * error (CRM_ELIMIT) when they exceed what is left of it. */
void crm__lua_charge(lua_State *L, lua_Integer steps);
/* In a C function: call the function in its upvalue 1 with the function's
 * arguments, leaving `nresults` (or LUA_MULTRET) results; returns the count. */
int crm__lua_call_upvalue(lua_State *L, int nresults);
/* Replace the library functions whose C loops a script can make
 * arbitrarily long (string.rep, table.insert/remove/move/unpack) in the
 * string or table library table at `idx` with charging versions. */
void crm__lua_budget_string(lua_State *L, int idx);
void crm__lua_budget_table(lua_State *L, int idx);

/* Read-only tables (readonly.c): views whose writes raise, whose metatable
 * is protected, and where __len and __pairs work; rawget, rawlen and next
 * see them empty. Replace the table on top with a read-only view of it (a
 * library: the real table must hold no tables, as the view does not reach
 * below its top). */
void crm__lua_readonly_view(lua_State *L);
/* Push an empty read-only table whose reads call `index` (`plugins`). */
void crm__lua_readonly_proxy(lua_State *L, lua_CFunction index);
/* Replace the value at `idx` with what a script may see of a plugin's
 * value: a table becomes a read-only view of it whose reads are exported
 * in turn (at any depth), a Lua function a wrapper whose results are
 * exported; anything else, and tables already read-only, stay as they are. */
void crm__lua_export(lua_State *L, int idx);
/* Push the table that holds what the table at `idx` shows: its contents
 * when it is read-only, else itself. For C that reads tables raw. */
void crm__lua_push_contents(lua_State *L, int idx);

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
 * arrays, read-only tables by their contents). Returns CRM_OK; CRM_ELIMIT
 * when tables nest deeper than the handle's CRM_LIMIT_JSON_DEPTH (and never
 * deeper than cJSON reads back); CRM_ESCRIPT for what JSON cannot hold (a
 * function, NaN, a key that is not a string, a table that contains
 * itself). On failure `why` (CRM__LUA_WHY bytes) names the value at fault
 * ("a table that contains itself"); `out` holds a partial text. */
#define CRM__LUA_WHY 160
int crm__lua_to_json(lua_State *L, int idx, crm__buf *out, char *why);

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
/* A JSON number as Lua reads it: an integer when it is one exactly
 * representable (|d| <= 2^53), else a float. */
void crm__lua_push_json_number(lua_State *L, double d);

/* The write path's compute hook: evaluate every computed field of `values`. */
int crm__script_compute(crm_db *db, const crm__form *form, crm__value *values, crm__buf *scratch);

#endif
