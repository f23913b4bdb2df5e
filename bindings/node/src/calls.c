/*
 * One dispatcher for every libcrm call that takes strings, JSON and ids and
 * answers JSON, an id or nothing: call(handle, n, ...args) on the main
 * thread, callAsync(handle, n, ...args) as a Promise whose libcrm work runs
 * on a worker thread while the handle is marked busy. The functions are in
 * the calls_*.c tables; `calls` (exported) maps their names to n.
 */
#include <stdlib.h>
#include <string.h>

#include "addon.h"

static const ncall_def *const tables[] = {ncalls_record, ncalls_workflow, ncalls_report, ncalls_services};
/* every table's entries in one list (the same in every Node instance) */
static const ncall_def *defs[256];
static size_t ndefs;

static void ncall_free(ncall *a)
{
	for (int k = 0; k < NCALL_MAX; k++)
		free(a->s[k]);
	crm_free(a->out);
	nerr_clear(&a->err);
}

static int read_bytes(napi_env env, napi_value v, char **out, size_t *len)
{
	bool isbuf = false;
	napi_is_buffer(env, v, &isbuf);
	if (!isbuf) {
		if (!arg_string(env, v, "data", out))
			return 0;
		*len = strlen(*out);
		return 1;
	}
	void *data = NULL;
	napi_get_buffer_info(env, v, &data, len);
	*out = malloc(*len + 1);
	if (!*out) {
		throw_code(env, CRM_ENOMEM, "out of memory");
		return 0;
	}
	memcpy(*out, data, *len);
	(*out)[*len] = '\0';
	return 1;
}

/* Read the arguments after the handle and the call number into `a`. */
static int read_args(napi_env env, const ncall_def *def, size_t argc, napi_value *argv, ncall *a)
{
	int ns = 0, ni = 0;
	for (size_t k = 0; def->args[k]; k++) {
		napi_value v = k < argc ? argv[k] : undefined(env);
		napi_valuetype t;
		napi_typeof(env, v, &t);
		switch (def->args[k]) {
		case 's':
			if (!arg_string(env, v, def->name, &a->s[ns++]))
				return 0;
			break;
		case 'S':
			if (!arg_opt_string(env, v, def->name, &a->s[ns++]))
				return 0;
			break;
		case 'j': {
			nbuf b = {0};
			if (t == napi_undefined || t == napi_null) {
				ns++;
				break;
			}
			if (!json_encode(env, v, &b)) {
				nbuf_free(&b);
				return 0;
			}
			a->s[ns] = b.p;
			a->slen[ns++] = b.len;
			break;
		}
		case 'b': /* null: NULL */
			if (t != napi_undefined && t != napi_null && !read_bytes(env, v, &a->s[ns], &a->slen[ns]))
				return 0;
			ns++;
			break;
		case 'i':
			if (!arg_int64(env, v, def->name, &a->i[ni++]))
				return 0;
			break;
		}
	}
	return 1;
}

static napi_value result(napi_env env, const ncall_def *def, ncall *a)
{
	napi_value r, e;
	void *data;
	switch (def->ret) {
	case 'j':
		return json_parse(env, a->out);
	case 't':
		return make_string(env, a->out, a->out ? strlen(a->out) : 0);
	case 'i':
		return make_int64(env, a->out_i);
	case 'p':
		napi_create_array_with_length(env, 2, &r);
		napi_set_element(env, r, 0, make_int64(env, a->out_i));
		napi_get_boolean(env, a->out_flag, &e);
		napi_set_element(env, r, 1, e);
		return r;
	case 'B':
		if (napi_create_buffer_copy(env, a->out_len, a->out ? a->out : "", &data, &r) != napi_ok)
			return NULL;
		return r;
	default:
		return undefined(env);
	}
}

static void run(crm_db *db, const ncall_def *def, ncall *a)
{
	int rc = def->fn(db, a);
	nerr_capture(&a->err, db, rc);
	if (rc != CRM_OK && a->out) { /* an import's summary comes with its failure */
		a->err.summary = strdup(a->out);
		crm_free(a->out);
		a->out = NULL;
	}
}

static int lookup(napi_env env, size_t argc, napi_value *argv, int allow_busy, ndb **d, const ncall_def **def)
{
	uint32_t n = 0;
	if (argc < 2 || napi_get_value_uint32(env, argv[1], &n) != napi_ok || n >= ndefs) {
		napi_throw_type_error(env, NULL, "libcrm: bad call number");
		return 0;
	}
	*def = defs[n];
	return arg_ndb(env, argv[0], d, allow_busy);
}

#define MAX_ARGS (2 + 8)

/* call(handle, n, ...args) */
static napi_value call_sync(napi_env env, napi_callback_info info)
{
	size_t argc = MAX_ARGS;
	napi_value argv[MAX_ARGS], r = NULL;
	const ncall_def *def;
	ndb *d;
	ncall a = {0};
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!lookup(env, argc, argv, 0, &d, &def))
		return NULL;
	if (read_args(env, def, argc - 2, argv + 2, &a)) {
		run(d->db, def, &a);
		if (a.err.code != CRM_OK)
			nerr_throw(env, &a.err);
		else
			r = result(env, def, &a);
	}
	ncall_free(&a);
	return r;
}

typedef struct nasync {
	ncall a;
	const ncall_def *def;
	ndb *d;
	crm_db *db;
	nwork w;
} nasync;

static void async_execute(napi_env env, void *data)
{
	nasync *w = data;
	run(w->db, w->def, &w->a);
}

static void async_complete(napi_env env, napi_status status, void *data)
{
	nasync *w = data;
	napi_value r = NULL;
	ndb_idle(env, w->d);
	if (status == napi_ok && w->a.err.code == CRM_OK)
		r = result(env, w->def, &w->a);
	else if (status == napi_ok)
		nerr_throw(env, &w->a.err);
	else
		throw_code(env, CRM_ERROR, "the async operation was cancelled");
	nwork_finish(env, &w->w, r);
	ncall_free(&w->a);
	free(w);
}

/* callAsync(handle, n, ...args) -> Promise */
static napi_value call_async(napi_env env, napi_callback_info info)
{
	size_t argc = MAX_ARGS;
	napi_value argv[MAX_ARGS], promise;
	nasync *w = calloc(1, sizeof *w);
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!w) {
		throw_code(env, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	if (!lookup(env, argc, argv, 0, &w->d, &w->def) || !read_args(env, w->def, argc - 2, argv + 2, &w->a))
		goto fail;
	w->db = w->d->db;
	if (!(promise = nwork_start(env, &w->w, argv[0], w->def->name, async_execute, async_complete, w)))
		goto fail;
	w->d->busy = w->def->name;
	return promise;
fail:
	ncall_free(&w->a);
	free(w);
	return NULL;
}

napi_status calls_init(napi_env env, napi_value exports)
{
	napi_value map, fn, v;
	napi_status s;
	ndefs = 0;
	if ((s = napi_create_object(env, &map)) != napi_ok)
		return s;
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
		for (const ncall_def *e = tables[t]; e->name && ndefs < sizeof defs / sizeof defs[0]; e++) {
			napi_create_uint32(env, (uint32_t)ndefs, &v);
			if ((s = napi_set_named_property(env, map, e->name, v)) != napi_ok)
				return s;
			defs[ndefs++] = e;
		}
	if ((s = napi_set_named_property(env, exports, "calls", map)) != napi_ok ||
	    (s = napi_create_function(env, "call", NAPI_AUTO_LENGTH, call_sync, NULL, &fn)) != napi_ok ||
	    (s = napi_set_named_property(env, exports, "call", fn)) != napi_ok ||
	    (s = napi_create_function(env, "callAsync", NAPI_AUTO_LENGTH, call_async, NULL, &fn)) != napi_ok)
		return s;
	return napi_set_named_property(env, exports, "callAsync", fn);
}
