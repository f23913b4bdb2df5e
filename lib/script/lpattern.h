/* Lua 5.4 pattern matching (string.find, match, gmatch, gsub) with every
 * matching step charged to a budget: the stock functions backtrack inside C,
 * where the sandbox's instruction hook never fires, so a hostile pattern
 * could otherwise run for minutes. */
#ifndef CRM_SCRIPT_LPATTERN_H
#define CRM_SCRIPT_LPATTERN_H

#include <stdint.h>

#include <lua.h>

/* Bounded Lua pattern functions: the same semantics as Lua 5.4's
 * string.find, string.match, string.gmatch and string.gsub, but every
 * matching step is charged to a budget; when it runs out the call raises a
 * Lua error "pattern matching budget exceeded". */
typedef struct crm__lpattern_budget {
	int64_t steps_left; /* decremented per matching step (per character tried, per backtrack) */
} crm__lpattern_budget;

/* Install find, match, gmatch and gsub into the table at stack index `idx`
 * (the sandbox's `string` table), as C closures whose first upvalue is a
 * light userdata pointing at `budget` (owned by the caller, lives as long as
 * the lua_State). When the string metatable's __index is that table (as
 * after luaopen_string), methods (s:find) get them too; if it is some other
 * table, the caller must install there as well or methods stay unbounded. */
void crm__lpattern_install(lua_State *L, int idx, crm__lpattern_budget *budget);

#endif
