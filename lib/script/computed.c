/* Computed fields: each field's Lua expression, compiled once per form
 * version, evaluated with `record` bound to the record being written; the
 * result is converted like any JSON value of the field's `returns` type. */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "form/form_int.h"
#include "script.h"

/* Push the compiled expression of field `f`, compiling it on first use. */
static int push_expression(crm_db *db, lua_State *L, const crm__form *form, const crm__field *f)
{
	char key[200], name[160];
	int rc;

	snprintf(key, sizeof key, "computed:%s.%s@%lld", form->name, f->name, (long long)form->version);
	if (lua_getfield(L, LUA_REGISTRYINDEX, key) == LUA_TFUNCTION)
		return CRM_OK;
	lua_pop(L, 1);
	snprintf(name, sizeof name, "%s.%s", form->name, f->name);
	if ((rc = crm__lua_compile(db, name, f->lua, 1)))
		return rc;
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, key);
	return CRM_OK;
}

/* Convert the Lua result on top of the stack into a value of `f`'s type. */
static int store_result(crm_db *db, lua_State *L, const crm__field *f, crm__value *out, crm__buf *text,
			size_t *offset)
{
	crm__field as = *f;
	crm__buf scratch = CRM__BUF_INIT;
	crm__jval jv;
	crm__verr err;
	size_t start = text->len;
	char why[CRM__LUA_WHY];
	int rc = CRM_OK;

	as.type = f->value_type;
	if (lua_isnil(L, -1)) {
		out->kind = CRM__V_NULL;
		return CRM_OK;
	}
	/* Lua numbers are doubles: round decimal results to the field's scale. */
	if (as.type == CRM_TYPE_DECIMAL && lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1))
		crm__buf_printf(text, "%.*f", f->scale, lua_tonumber(L, -1));
	else if ((rc = crm__lua_to_json(L, -1, text, why)))
		return crm__error(db, rc, "computed field %s returned a value that is not JSON: %s", f->name, why);
	jv.p = text->p + start;
	jv.n = text->len - start;
	switch (lua_type(L, -1)) {
	case LUA_TBOOLEAN: jv.type = lua_toboolean(L, -1) ? CRM__J_TRUE : CRM__J_FALSE; break;
	case LUA_TNUMBER: jv.type = CRM__J_NUMBER; break;
	case LUA_TSTRING: jv.type = CRM__J_STRING, jv.p = lua_tolstring(L, -1, &jv.n); break;
	default: jv.type = jv.p[0] == '[' ? CRM__J_ARRAY : CRM__J_OBJECT;
	}
	if (crm__buf_reserve(&scratch, 3 * jv.n + 8))
		rc = crm__error_oom(db);
	else if (crm__value_from_json(out, &as, &jv, &scratch, 64, &err))
		rc = crm__error(db, CRM_ESCRIPT, "computed field %s: %s", f->name, err.message);
	else if (out->kind == CRM__V_TEXT) {
		/* Keep the text in `text`, by offset: the buffer may still grow. */
		text->len = start;
		crm__buf_put(text, out->s, out->n);
		*offset = start;
	}
	crm__buf_free(&scratch);
	if (text->oom)
		rc = crm__error_oom(db);
	return rc;
}

/* Point the computed text values into `scratch` again after it grew. */
static void refresh(const crm__form *form, crm__value *values, const size_t *offsets, const crm__buf *scratch)
{
	for (int i = 0; i < form->nfields; i++)
		if (form->fields[i].type == CRM_TYPE_COMPUTED && values[i].kind == CRM__V_TEXT &&
		    offsets[i] != (size_t)-1)
			values[i].s = scratch->p + offsets[i];
}

typedef struct compute_job {
	crm_db *db;
	const crm__form *form;
	crm__value *values;
	crm__buf *scratch;
	size_t *offsets;
} compute_job;

static int compute_all(lua_State *L, void *ud)
{
	compute_job *j = ud;
	int rc = CRM_OK;

	for (int i = 0; i < j->form->nfields && rc == CRM_OK; i++) {
		const crm__field *f = &j->form->fields[i];
		int top = lua_gettop(L);

		if (f->type != CRM_TYPE_COMPUTED)
			continue;
		if ((rc = push_expression(j->db, L, j->form, f)))
			break;
		/* `record` is a global of this run of the expression. */
		crm__lua_push_globals(L);
		crm__lua_push_record(L, j->form, j->values, NULL);
		lua_setfield(L, -2, "record");
		if ((rc = crm__lua_call_chunk(j->db, 1)) == CRM_OK) {
			rc = store_result(j->db, L, f, &j->values[i], j->scratch, &j->offsets[i]);
			refresh(j->form, j->values, j->offsets, j->scratch);
		}
		lua_settop(L, top);
	}
	return rc;
}

int crm__script_compute(crm_db *db, const crm__form *form, crm__value *values, crm__buf *scratch)
{
	compute_job job = { db, form, values, scratch, NULL };
	int rc;

	/* C memory is made outside the protected call: a Lua error would skip its release. */
	if (!(job.offsets = crm__calloc((size_t)form->nfields, sizeof *job.offsets)))
		return crm__error_oom(db);
	crm__buf_reset(scratch);
	for (int i = 0; i < form->nfields; i++) {
		job.offsets[i] = (size_t)-1;
		if (form->fields[i].type == CRM_TYPE_COMPUTED)
			values[i].kind = CRM__V_NULL; /* never sees its own old value */
	}
	rc = crm__lua_protect(db, compute_all, &job);
	crm__free(job.offsets);
	return rc;
}
