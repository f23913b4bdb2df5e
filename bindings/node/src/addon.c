/*
 * The addon's entry point and the helpers every area shares: buffers,
 * arguments, numbers, and errors (libcrm's code, message and detail turned
 * into the Error subclass lib/errors.js maps the code to).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

char *nbuf_add(nbuf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	char *at = b->p + b->len;
	b->len += n;
	b->p[b->len] = '\0';
	return at;
}

void nbuf_put(nbuf *b, const char *s, size_t n)
{
	char *at = nbuf_add(b, n);
	if (at)
		memcpy(at, s, n);
}

void nbuf_free(nbuf *b)
{
	free(b->p);
	*b = (nbuf){0};
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void nerr_capture(nerr *e, crm_db *db, int rc)
{
	e->code = rc;
	if (rc == CRM_OK)
		return;
	e->message = dup_or_null(crm_errmsg(db));
	e->detail = dup_or_null(crm_errdetail(db));
	e->offset = crm_erroffset(db);
}

void nerr_clear(nerr *e)
{
	free(e->message);
	free(e->detail);
	free(e->summary);
	*e = (nerr){0};
}

static nstate *state(napi_env env)
{
	void *data = NULL;
	napi_get_instance_data(env, &data);
	return data;
}

void throw_pending(napi_env env)
{
	bool pending = false;
	napi_is_exception_pending(env, &pending);
	if (pending)
		return;
	const napi_extended_error_info *info = NULL;
	napi_get_last_error_info(env, &info);
	napi_throw_error(env, NULL, info && info->error_message ? info->error_message : "Node-API call failed");
}

napi_value make_string(napi_env env, const char *s, size_t n)
{
	napi_value v;
	if (!s) {
		napi_get_null(env, &v);
		return v;
	}
	if (napi_create_string_utf8(env, s, n, &v) != napi_ok)
		return NULL;
	return v;
}

napi_value undefined(napi_env env)
{
	napi_value v;
	napi_get_undefined(env, &v);
	return v;
}

void nerr_throw(napi_env env, const nerr *e)
{
	napi_value fn, argv[5], err, recv;
	nstate *st = state(env);
	if (!st || !st->make_error || napi_get_reference_value(env, st->make_error, &fn) != napi_ok) {
		napi_throw_error(env, crm_errstr(e->code), e->message ? e->message : crm_errstr(e->code));
		return;
	}
	napi_create_int32(env, e->code, &argv[0]);
	argv[1] = make_string(env, e->message ? e->message : crm_errstr(e->code), NAPI_AUTO_LENGTH);
	argv[2] = make_string(env, e->detail, NAPI_AUTO_LENGTH);
	napi_create_int32(env, e->offset, &argv[3]);
	argv[4] = make_string(env, e->summary, NAPI_AUTO_LENGTH);
	napi_get_undefined(env, &recv);
	if (napi_call_function(env, recv, fn, 5, argv, &err) == napi_ok)
		napi_throw(env, err);
}

void throw_code(napi_env env, int code, const char *message)
{
	nerr e = {.code = code, .message = (char *)message, .offset = -1};
	nerr_throw(env, &e);
}

void throw_db(napi_env env, crm_db *db, int rc)
{
	nerr e = {0};
	nerr_capture(&e, db, rc);
	nerr_throw(env, &e);
	nerr_clear(&e);
}

static void type_error(napi_env env, const char *what, const char *expected)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s must be %s", what, expected);
	napi_throw_type_error(env, NULL, msg);
}

int arg_ndb(napi_env env, napi_value v, ndb **out, int allow_busy)
{
	void *p = NULL;
	if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
		type_error(env, "the database handle", "a handle from open()");
		return 0;
	}
	*out = p;
	return ndb_usable(env, *out, allow_busy);
}

int ndb_usable(napi_env env, ndb *d, int allow_busy)
{
	if (!d->db) {
		throw_code(env, CRM_EMISUSE, "the database is closed");
		return 0;
	}
	if (d->busy && !allow_busy) {
		char msg[256];
		snprintf(msg, sizeof msg,
			 "the database is busy with %s on a worker thread: await it before calling it again", d->busy);
		throw_code(env, CRM_EMISUSE, msg);
		return 0;
	}
	return 1;
}

int arg_string(napi_env env, napi_value v, const char *what, char **out)
{
	size_t n = 0;
	if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
		type_error(env, what, "a string");
		return 0;
	}
	*out = malloc(n + 1);
	if (!*out) {
		throw_code(env, CRM_ENOMEM, "out of memory");
		return 0;
	}
	napi_get_value_string_utf8(env, v, *out, n + 1, &n);
	if (strlen(*out) != n) { /* libcrm strings never hold U+0000 (common.h) */
		free(*out);
		*out = NULL;
		type_error(env, what, "a string without U+0000");
		return 0;
	}
	return 1;
}

int arg_opt_string(napi_env env, napi_value v, const char *what, char **out)
{
	napi_valuetype t;
	*out = NULL;
	if (!v || napi_typeof(env, v, &t) != napi_ok || t == napi_undefined || t == napi_null)
		return 1;
	return arg_string(env, v, what, out);
}

#define MAX_SAFE 9007199254740991LL

int arg_int64(napi_env env, napi_value v, const char *what, int64_t *out)
{
	napi_valuetype t = napi_undefined;
	napi_typeof(env, v, &t);
	if (t == napi_bigint) {
		bool lossless = false;
		napi_get_value_bigint_int64(env, v, out, &lossless);
		if (lossless)
			return 1;
	} else if (t == napi_number) {
		double d = 0;
		napi_get_value_double(env, v, &d);
		if (d == (double)(int64_t)d && d >= -(double)MAX_SAFE && d <= (double)MAX_SAFE) {
			*out = (int64_t)d;
			return 1;
		}
	}
	type_error(env, what, "an integer (a safe number or a 64-bit BigInt)");
	return 0;
}

napi_value make_int64(napi_env env, int64_t v)
{
	napi_value r;
	if (v >= -MAX_SAFE && v <= MAX_SAFE)
		napi_create_double(env, (double)v, &r);
	else
		napi_create_bigint_int64(env, v, &r);
	return r;
}

napi_value json_parse(napi_env env, const char *text)
{
	napi_value fn, arg, r, recv;
	nstate *st = state(env);
	if (!text) {
		napi_get_null(env, &r);
		return r;
	}
	napi_get_reference_value(env, st->json_parse, &fn);
	arg = make_string(env, text, NAPI_AUTO_LENGTH);
	napi_get_undefined(env, &recv);
	if (napi_call_function(env, recv, fn, 1, &arg, &r) != napi_ok)
		return NULL;
	return r;
}

napi_value nwork_start(napi_env env, nwork *w, napi_value keep, const char *name, napi_async_execute_callback execute,
		       napi_async_complete_callback complete, void *data)
{
	napi_value promise, resource;
	if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
	    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource) != napi_ok ||
	    napi_create_async_work(env, NULL, resource, execute, complete, data, &w->work) != napi_ok) {
		throw_pending(env);
		return NULL;
	}
	if (napi_create_reference(env, keep, 1, &w->keep) != napi_ok || napi_queue_async_work(env, w->work) != napi_ok) {
		napi_delete_async_work(env, w->work);
		if (w->keep)
			napi_delete_reference(env, w->keep);
		throw_pending(env);
		return NULL;
	}
	return promise;
}

void nwork_finish(napi_env env, nwork *w, napi_value r)
{
	napi_value exc;
	if (r)
		napi_resolve_deferred(env, w->deferred, r);
	else if (napi_get_and_clear_last_exception(env, &exc) == napi_ok)
		napi_reject_deferred(env, w->deferred, exc);
	napi_delete_async_work(env, w->work);
	napi_delete_reference(env, w->keep);
}

/* setup({makeError, jsonParse}): the JS layer hands over what C calls back. */
static napi_value setup(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	nstate *st = state(env);
	if (st->make_error)
		napi_delete_reference(env, st->make_error);
	if (st->json_parse)
		napi_delete_reference(env, st->json_parse);
	NAPI_OK(env, napi_create_reference(env, argv[0], 1, &st->make_error));
	NAPI_OK(env, napi_create_reference(env, argv[1], 1, &st->json_parse));
	return undefined(env);
}

static void state_free(napi_env env, void *data, void *hint)
{
	nstate *st = data;
	if (st->make_error)
		napi_delete_reference(env, st->make_error);
	if (st->json_parse)
		napi_delete_reference(env, st->json_parse);
	free(st);
}

static napi_value init(napi_env env, napi_value exports)
{
	nstate *st = calloc(1, sizeof *st);
	napi_value fn, v;
	if (!st || napi_set_instance_data(env, st, state_free, NULL) != napi_ok) {
		free(st);
		napi_throw_error(env, NULL, "libcrm: cannot initialise the addon");
		return NULL;
	}
	NAPI_OK(env, napi_create_function(env, "setup", NAPI_AUTO_LENGTH, setup, NULL, &fn));
	NAPI_OK(env, napi_set_named_property(env, exports, "setup", fn));
	NAPI_OK(env, napi_create_string_utf8(env, crm_libversion(), NAPI_AUTO_LENGTH, &v));
	NAPI_OK(env, napi_set_named_property(env, exports, "libversion", v));
	if (database_init(env, exports) != napi_ok || calls_init(env, exports) != napi_ok ||
	    cursor_init(env, exports) != napi_ok || batch_init(env, exports) != napi_ok ||
	    events_init(env, exports) != napi_ok) {
		throw_pending(env);
		return NULL;
	}
	return exports;
}

NAPI_MODULE_INIT()
{
	return init(env, exports);
}
