/*
 * A consumer's read as rows (crm_consumer_read_rows): each event becomes an
 * object through lib/index.js's `make`, with crm_consumer_read's members
 * and values, and no JSON array is written by libcrm and parsed here; only
 * the payloads are parsed, by `make`.
 */
#include <limits.h>
#include <stdlib.h>

#include "addon.h"

#define EVENT_COLUMNS 8
#define PAYLOAD_COLUMN 7 /* include/crm/event.h */

/* The cursor's events as an array of make(seq, at, name, form, record,
 * instance, actor, payload text); NULL after throwing. */
static napi_value events_make(napi_env env, ndb *d, crm_event_cursor *cur, napi_value make)
{
	crm_row *row = crm_event_cursor_row(cur);
	int types[EVENT_COLUMNS], scales[EVENT_COLUMNS] = {0};
	ncols cols = {.count = EVENT_COLUMNS, .types = types, .scales = scales};
	napi_value arr, ev;
	uint32_t k = 0;
	if (crm_row_column_count(row) != EVENT_COLUMNS) {
		throw_code(env, CRM_ERROR, "consumerRead: an event row of an unknown shape");
		return NULL;
	}
	for (int i = 0; i < EVENT_COLUMNS; i++)
		types[i] = crm_row_column_type(row, i);
	/* a payload is handed over as text: make keeps one that is not JSON (edited by hand) as its text */
	types[PAYLOAD_COLUMN] = CRM_TYPE_TEXT;
	if (napi_create_array_with_length(env, (size_t)crm_event_cursor_count(cur), &arr) != napi_ok)
		return NULL;
	while (crm_event_cursor_next(cur) == CRM_ROW) {
		if (!(ev = row_make(env, d, &cols, row, make)) || napi_set_element(env, arr, k++, ev) != napi_ok)
			return NULL;
	}
	return arr;
}

/* consumerRead(handle, name, limit, make) -> the events crm_consumer_read would give */
static napi_value consumer_read(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4], r = NULL;
	ndb *d;
	char *name = NULL;
	int64_t limit = 0;
	crm_event_cursor *cur = NULL;
	napi_valuetype t = napi_undefined;
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc == 4)
		napi_typeof(env, argv[3], &t);
	if (t != napi_function) {
		napi_throw_type_error(env, NULL, "consumerRead(handle, name, limit, make)");
		return NULL;
	}
	if (!arg_ndb(env, argv[0], &d, 0) || !arg_string(env, argv[1], "consumerRead", &name) ||
	    !arg_int64(env, argv[2], "limit", &limit))
		goto out;
	if (limit < 1 || limit > INT_MAX) /* libcrm takes an int: a larger one must not wrap */
		limit = limit < 1 ? 0 : INT_MAX;
	int rc = crm_consumer_read_rows(&cur, d->db, name, (int)limit);
	if (rc != CRM_OK)
		throw_db(env, d->db, rc);
	else
		r = events_make(env, d, cur, argv[3]);
out:
	crm_event_cursor_free(cur);
	free(name);
	return r;
}

napi_status events_init(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{"consumerRead", NULL, consumer_read, NULL, NULL, NULL, napi_default, NULL},
	};
	return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
