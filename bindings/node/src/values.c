/*
 * libcrm's typed row values to JS values, in one place for query cursors,
 * reports and the async paths: decimals exact as strings (or numbers, or a
 * decimal library's objects), dates as Date (or ISO strings), int64 as a
 * number when safe and a BigInt otherwise, json fields parsed. Each row's
 * values go to `make` (lib/cursor.js: an object literal of the row's shape,
 * so V8 gives every row one hidden class), far cheaper than setting each
 * property through Node-API.
 */
#include <stdlib.h>
#include <string.h>

#include "addon.h"

int ncols_init(napi_env env, ncols *c, crm_row *row)
{
	int n = crm_row_column_count(row);
	napi_value arr, k;
	c->count = n;
	c->types = calloc((size_t)n + 1, sizeof *c->types);
	c->scales = calloc((size_t)n + 1, sizeof *c->scales);
	if (!c->types || !c->scales) {
		throw_code(env, CRM_ENOMEM, "out of memory");
		return 0;
	}
	/* Node-API 8 references only objects: the names live in an array */
	if (napi_create_array_with_length(env, (size_t)n, &arr) != napi_ok)
		return 0;
	for (int i = 0; i < n; i++) {
		c->types[i] = crm_row_column_type(row, i);
		c->scales[i] = crm_row_column_scale(row, i);
		if (napi_create_string_utf8(env, crm_row_column_name(row, i), NAPI_AUTO_LENGTH, &k) != napi_ok ||
		    napi_set_element(env, arr, (uint32_t)i, k) != napi_ok)
			return 0;
	}
	return napi_create_reference(env, arr, 1, &c->names) == napi_ok;
}

void ncols_free(napi_env env, ncols *c)
{
	if (c->names)
		napi_delete_reference(env, c->names);
	free(c->types);
	free(c->scales);
	*c = (ncols){0};
}

/* Only what ncell_to_js will use: libcrm writes the text of a decimal or a
 * datetime on demand, and a Date needs none. */
void ncell_read(const ndb *d, crm_row *row, int i, int type, ncell *cell, const char **scratch)
{
	*cell = (ncell){.null = crm_row_is_null(row, i)};
	if (cell->null)
		return;
	switch (type) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_REF:
	case CRM_TYPE_BOOLEAN:
		cell->i = crm_row_int64(row, i);
		return;
	case CRM_TYPE_NUMBER:
		cell->d = crm_row_double(row, i);
		return;
	case CRM_TYPE_MULTI_ENUM:
		cell->nitems = crm_row_item_count(row, i);
		cell->items = scratch;
		for (int k = 0; k < cell->nitems; k++)
			scratch[k] = crm_row_item(row, i, k);
		return;
	case CRM_TYPE_DECIMAL:
		if (d->decimals == DEC_NUMBER) {
			cell->d = crm_row_double(row, i);
			return;
		}
		break;
	case CRM_TYPE_DATE:
	case CRM_TYPE_DATETIME:
		if (d->dates != DATES_STRING) {
			cell->i = crm_row_int64(row, i);
			return;
		}
		break;
	default: /* text kinds, json, and whatever a report computes */
		break;
	}
	cell->s = crm_row_text(row, i);
	/* crm_row_bytes would write a decimal's or a datetime's text again */
	if (type == CRM_TYPE_DECIMAL || type == CRM_TYPE_DATETIME)
		cell->n = cell->s ? strlen(cell->s) : 0;
	else
		cell->n = crm_row_bytes(row, i);
}

static napi_value decimal_to_js(napi_env env, ndb *d, const ncell *cell)
{
	napi_value v, fn, recv;
	switch (d->decimals) {
	case DEC_NUMBER:
		napi_create_double(env, cell->d, &v);
		return v;
	case DEC_FUNCTION:
		v = make_string(env, cell->s, cell->n);
		napi_get_reference_value(env, d->decimal_fn, &fn);
		napi_get_undefined(env, &recv);
		if (napi_call_function(env, recv, fn, 1, &v, &v) != napi_ok)
			return NULL;
		return v;
	default:
		return make_string(env, cell->s, cell->n);
	}
}

napi_value ncell_to_js(napi_env env, ndb *d, int type, int scale, const ncell *cell)
{
	napi_value v;
	if (cell->null) {
		napi_get_null(env, &v);
		return v;
	}
	switch (type) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_REF:
		return make_int64(env, cell->i);
	case CRM_TYPE_BOOLEAN:
		napi_get_boolean(env, cell->i != 0, &v);
		return v;
	case CRM_TYPE_NUMBER:
		napi_create_double(env, cell->d, &v);
		return v;
	case CRM_TYPE_DECIMAL:
		return decimal_to_js(env, d, cell);
	case CRM_TYPE_DATE:
	case CRM_TYPE_DATETIME:
		if (d->dates == DATES_STRING)
			return make_string(env, cell->s, cell->n);
		napi_create_date(env, (double)cell->i, &v);
		return v;
	case CRM_TYPE_MULTI_ENUM:
		napi_create_array_with_length(env, (size_t)cell->nitems, &v);
		for (int k = 0; k < cell->nitems; k++)
			napi_set_element(env, v, (uint32_t)k, make_string(env, cell->items[k], NAPI_AUTO_LENGTH));
		return v;
	case CRM_TYPE_JSON:
		return json_parse(env, cell->s);
	default:
		return make_string(env, cell->s, cell->n);
	}
}

napi_value cells_to_row(napi_env env, ndb *d, ncols *c, const ncell *cells, napi_value make)
{
	napi_value stack[32], *argv = stack, recv, row = NULL;
	if (c->count > 32 && !(argv = malloc((size_t)c->count * sizeof *argv))) {
		throw_code(env, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	for (int i = 0; i < c->count; i++)
		if (!(argv[i] = ncell_to_js(env, d, c->types[i], c->scales[i], &cells[i])))
			goto done;
	napi_get_undefined(env, &recv);
	if (napi_call_function(env, recv, make, (size_t)c->count, argv, &row) != napi_ok)
		row = NULL;
done:
	if (argv != stack)
		free(argv);
	return row;
}

napi_value row_make(napi_env env, ndb *d, ncols *c, crm_row *row, napi_value make)
{
	ncell stack[32], *cells = stack;
	const char **scratch = NULL;
	size_t nscratch = 0;
	napi_value obj = NULL;
	if (c->count > 32 && !(cells = malloc((size_t)c->count * sizeof *cells)))
		goto oom;
	for (int i = 0; i < c->count; i++)
		if (c->types[i] == CRM_TYPE_MULTI_ENUM && !crm_row_is_null(row, i))
			nscratch += (size_t)crm_row_item_count(row, i);
	if (nscratch && !(scratch = malloc(nscratch * sizeof *scratch)))
		goto oom;
	for (int i = 0, used = 0; i < c->count; i++) {
		ncell_read(d, row, i, c->types[i], &cells[i], scratch + used);
		used += cells[i].nitems;
	}
	obj = cells_to_row(env, d, c, cells, make);
	goto done;
oom:
	throw_code(env, CRM_ENOMEM, "out of memory");
done:
	free(scratch);
	if (cells != stack)
		free(cells);
	return obj;
}
