/*
 * open() and close(): the database handle as an external the JS Database
 * holds. Closing follows libcrm's close_v2 rule, so cursors and batches
 * may be finalised before or after their database, in any order.
 */
#include <stdlib.h>
#include <string.h>

#include "addon.h"

void ndb_release(napi_env env, ndb *d)
{
	if (--d->refs > 0)
		return;
	if (d->db)
		crm_close(d->db);
	if (d->decimal_fn)
		napi_delete_reference(env, d->decimal_fn);
	free(d);
}

void ndb_defer(napi_env env, ndb *d, void (*fn)(napi_env env, void *p), void *p)
{
	ndefer *n;
	if (!d->busy || !(n = malloc(sizeof *n))) {
		/* not busy; or no memory, where leaking beats racing the worker */
		if (!d->busy)
			fn(env, p);
		return;
	}
	*n = (ndefer){fn, p, d->deferred};
	d->deferred = n;
}

static void close_and_release(napi_env env, void *p)
{
	ndb *d = p;
	/* the garbage collector took the Database: close now (open cursors keep the memory) */
	if (d->db) {
		crm_close(d->db);
		d->db = NULL;
	}
	ndb_release(env, d);
}

void ndb_idle(napi_env env, ndb *d)
{
	d->refs++; /* a deferred release must not free `d` under this loop */
	d->busy = NULL;
	while (d->deferred) {
		ndefer *n = d->deferred;
		d->deferred = n->next;
		n->fn(env, n->p);
		free(n);
	}
	ndb_release(env, d);
}

static void ndb_finalize(napi_env env, void *data, void *hint)
{
	ndb *d = data;
	ndb_defer(env, d, close_and_release, d);
}

static int get_named(napi_env env, napi_value obj, const char *name, napi_value *out, napi_valuetype *t)
{
	bool has = false;
	*t = napi_undefined;
	if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has)
		return 0;
	napi_get_named_property(env, obj, name, out);
	napi_typeof(env, *out, t);
	return *t != napi_undefined;
}

/* The JS layer validates option names and types; here they are read. */
static int read_options(napi_env env, napi_value o, ndb *d, crm_open_options *oo, char **schema)
{
	napi_value v;
	napi_valuetype t;
	bool b = false;
	if (get_named(env, o, "readonly", &v, &t) && napi_get_value_bool(env, v, &b) == napi_ok && b)
		oo->flags |= CRM_OPEN_READONLY;
	if (get_named(env, o, "existing", &v, &t) && napi_get_value_bool(env, v, &b) == napi_ok && b)
		oo->flags |= CRM_OPEN_EXISTING;
	if (get_named(env, o, "init", &v, &t) && napi_get_value_bool(env, v, &b) == napi_ok && b)
		oo->flags |= CRM_OPEN_INIT;
	if (get_named(env, o, "busyTimeout", &v, &t))
		napi_get_value_int32(env, v, &oo->busy_timeout_ms);
	if (get_named(env, o, "schema", &v, &t) && !arg_string(env, v, "options.schema", schema))
		return 0;
	oo->schema = *schema;
	if (get_named(env, o, "decimals", &v, &t)) {
		if (t == napi_function) {
			d->decimals = DEC_FUNCTION;
			if (napi_create_reference(env, v, 1, &d->decimal_fn) != napi_ok)
				return 0;
		} else {
			char s[16] = "";
			size_t n;
			napi_get_value_string_utf8(env, v, s, sizeof s, &n);
			d->decimals = strcmp(s, "number") == 0 ? DEC_NUMBER : DEC_STRING;
		}
	}
	if (get_named(env, o, "dates", &v, &t)) {
		char s[16] = "";
		size_t n;
		napi_get_value_string_utf8(env, v, s, sizeof s, &n);
		d->dates = strcmp(s, "string") == 0 ? DATES_STRING : DATES_DATE;
	}
	return 1;
}

/* open(path, options) -> handle */
static napi_value db_open(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], ext;
	char *path = NULL, *schema = NULL;
	crm_open_options oo = CRM_OPEN_OPTIONS_INIT;
	ndb *d = calloc(1, sizeof *d);
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!d) {
		throw_code(env, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	d->refs = 1;
	if (!arg_string(env, argv[0], "path", &path) || (argc > 1 && !read_options(env, argv[1], d, &oo, &schema)))
		goto fail;
	int rc = crm_open(&d->db, path, &oo);
	if (rc != CRM_OK) {
		nerr e = {0};
		if (d->db)
			nerr_capture(&e, d->db, rc);
		else
			e = (nerr){.code = rc, .offset = -1};
		nerr_throw(env, &e);
		nerr_clear(&e);
		goto fail;
	}
	free(path);
	free(schema);
	if (napi_create_external(env, d, ndb_finalize, NULL, &ext) != napi_ok) {
		crm_close(d->db);
		d->db = NULL;
		ndb_release(env, d);
		throw_pending(env);
		return NULL;
	}
	return ext;
fail:
	free(path);
	free(schema);
	ndb_release(env, d);
	return NULL;
}

/* close(handle): idempotent; refused while an async operation holds it. */
static napi_value db_close(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	void *p = NULL;
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
		napi_throw_type_error(env, NULL, "the database handle must be a handle from open()");
		return NULL;
	}
	ndb *d = p;
	if (d->db) {
		ndb *check;
		if (!arg_ndb(env, argv[0], &check, 0))
			return NULL;
		crm_close(d->db);
		d->db = NULL;
	}
	return undefined(env);
}

/* isOpen(handle) */
static napi_value db_is_open(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], r;
	void *p = NULL;
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	napi_get_value_external(env, argv[0], &p);
	napi_get_boolean(env, p && ((ndb *)p)->db, &r);
	return r;
}

napi_status database_init(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{"open", NULL, db_open, NULL, NULL, NULL, napi_default, NULL},
		{"close", NULL, db_close, NULL, NULL, NULL, napi_default, NULL},
		{"isOpen", NULL, db_is_open, NULL, NULL, NULL, napi_default, NULL},
	};
	return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
