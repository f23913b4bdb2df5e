/*
 * insertMany's batches: rows arrive from JS in chunks, packed as typed
 * values (pack.c), and are added with crm_batch_add_values on the main
 * thread (batchAdd) or on a worker (batchAddAsync). An async batch holds the
 * handle busy from batchBegin to commit or free, so nothing else runs
 * inside its transaction. Single records written as typed values
 * (recordWrite) are packed the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "addon.h"

typedef struct nbatch {
	ndb *d;
	crm_batch *batch;
	int owns_busy; /* an async batch: the handle is busy until it ends */
} nbatch;

static void batch_end(napi_env env, nbatch *b)
{
	crm_batch_free(b->batch);
	b->batch = NULL;
	if (b->owns_busy) {
		b->owns_busy = 0;
		ndb_idle(env, b->d);
	}
}

static void batch_release(napi_env env, void *p)
{
	nbatch *b = p;
	batch_end(env, b);
	ndb_release(env, b->d);
	free(b);
}

static void batch_finalize(napi_env env, void *data, void *hint)
{
	nbatch *b = data;
	if (b->owns_busy) /* no work in flight holds it (that would keep it alive) */
		batch_release(env, b);
	else
		ndb_defer(env, b->d, batch_release, b);
}

/* batchBegin(handle, form, async) -> batch */
static napi_value batch_begin(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], ext;
	ndb *d;
	char *form = NULL;
	bool async = false;
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!arg_ndb(env, argv[0], &d, 0) || !arg_string(env, argv[1], "form", &form))
		return NULL;
	napi_get_value_bool(env, argv[2], &async);
	nbatch *b = calloc(1, sizeof *b);
	if (!b) {
		free(form);
		throw_code(env, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	int rc = crm_batch_begin(&b->batch, d->db, form);
	free(form);
	if (rc != CRM_OK) {
		throw_db(env, d->db, rc);
		free(b);
		return NULL;
	}
	b->d = d;
	d->refs++;
	if (napi_create_external(env, b, batch_finalize, NULL, &ext) != napi_ok) {
		batch_release(env, b);
		throw_pending(env);
		return NULL;
	}
	if (async) {
		b->owns_busy = 1;
		d->busy = "insertManyAsync";
	}
	return ext;
}

static int arg_batch(napi_env env, napi_value v, nbatch **out)
{
	void *p = NULL;
	if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
		napi_throw_type_error(env, NULL, "the batch must be a batch handle");
		return 0;
	}
	*out = p;
	if (!(*out)->batch) {
		throw_code(env, CRM_EMISUSE, "the batch has ended");
		return 0;
	}
	return ndb_usable(env, (*out)->d, (*out)->owns_busy);
}

/* A chunk of rows as typed values (pack.c). */
typedef struct nchunk {
	nbatch *b;
	npack pack;
	int64_t *ids; /* when ids are wanted */
	nerr err;
	nwork w;
} nchunk;

static void chunk_free(nchunk *c)
{
	npack_free(&c->pack);
	free(c->ids);
	nerr_clear(&c->err);
	free(c);
}

/* argv: batch, the seven arrays of lib/pack.js, wantIds */
static nchunk *chunk_read(napi_env env, nbatch *b, napi_value *argv)
{
	bool want_ids = false;
	nchunk *c = calloc(1, sizeof *c);
	if (!c) {
		throw_code(env, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	c->b = b;
	napi_get_value_bool(env, argv[8], &want_ids);
	if (!npack_read(env, argv + 1, &c->pack)) {
		chunk_free(c);
		return NULL;
	}
	if (want_ids && !(c->ids = calloc(c->pack.nrows + 1, sizeof *c->ids))) {
		chunk_free(c);
		throw_code(env, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	return c;
}

/* Add the chunk's rows. A failing row is remembered by the batch (its
 * commit lists them all); only a failure of the batch itself stops here. */
static void chunk_add(nchunk *c)
{
	crm_db *db = c->b->d->db;
	const crm_field_value *f = c->pack.fields;
	for (size_t k = 0; k < c->pack.nrows; k++) {
		int rc = crm_batch_add_values(c->b->batch, f, c->pack.counts[k], c->ids ? &c->ids[k] : NULL);
		f += c->pack.counts[k];
		if (rc == CRM_EMISUSE || rc == CRM_ENOMEM || rc == CRM_EIO || rc == CRM_EBUSY) {
			nerr_capture(&c->err, db, rc);
			return;
		}
	}
}

static napi_value chunk_result(napi_env env, nchunk *c)
{
	napi_value arr;
	if (!c->ids)
		return undefined(env);
	if (napi_create_array_with_length(env, c->pack.nrows, &arr) != napi_ok)
		return NULL;
	for (uint32_t k = 0; k < c->pack.nrows; k++)
		napi_set_element(env, arr, k, make_int64(env, c->ids[k]));
	return arr;
}

#define CHUNK_ARGS 9

/* batchAdd(batch, ...packed chunk, wantIds) -> ids or undefined */
static napi_value batch_add(napi_env env, napi_callback_info info)
{
	size_t argc = CHUNK_ARGS;
	napi_value argv[CHUNK_ARGS], r = NULL;
	nbatch *b;
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < CHUNK_ARGS) {
		napi_throw_type_error(env, NULL, "batchAdd(batch, ...packed chunk, wantIds)");
		return NULL;
	}
	if (!arg_batch(env, argv[0], &b))
		return NULL;
	nchunk *c = chunk_read(env, b, argv);
	if (!c)
		return NULL;
	chunk_add(c);
	if (c->err.code != CRM_OK)
		nerr_throw(env, &c->err);
	else
		r = chunk_result(env, c);
	chunk_free(c);
	return r;
}

static void add_execute(napi_env env, void *data)
{
	chunk_add(data);
}

static void add_complete(napi_env env, napi_status status, void *data)
{
	nchunk *c = data;
	napi_value r = NULL;
	if (status != napi_ok)
		throw_code(env, CRM_ERROR, "the async insert was cancelled");
	else if (c->err.code != CRM_OK)
		nerr_throw(env, &c->err);
	else
		r = chunk_result(env, c);
	nwork_finish(env, &c->w, r);
	chunk_free(c);
}

/* batchAddAsync(batch, ...packed chunk, wantIds) -> Promise of ids or undefined */
static napi_value batch_add_async(napi_env env, napi_callback_info info)
{
	size_t argc = CHUNK_ARGS;
	napi_value argv[CHUNK_ARGS], promise;
	nbatch *b;
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < CHUNK_ARGS) {
		napi_throw_type_error(env, NULL, "batchAddAsync(batch, ...packed chunk, wantIds)");
		return NULL;
	}
	if (!arg_batch(env, argv[0], &b))
		return NULL;
	if (!b->owns_busy) {
		throw_code(env, CRM_EMISUSE, "batchAddAsync needs a batch begun as async");
		return NULL;
	}
	nchunk *c = chunk_read(env, b, argv);
	if (!c)
		return NULL;
	if (!(promise = nwork_start(env, &c->w, argv[0], "libcrm.insertMany", add_execute, add_complete, c)))
		chunk_free(c);
	return promise;
}

typedef struct ncommit {
	nbatch *b;
	size_t count;
	nerr err;
	nwork w;
} ncommit;

static void commit_execute(napi_env env, void *data)
{
	ncommit *c = data;
	c->count = crm_batch_count(c->b->batch);
	nerr_capture(&c->err, c->b->d->db, crm_batch_commit(c->b->batch));
}

/* The batch ends either way: the row count, or NULL after throwing the rows' errors. */
static napi_value commit_result(napi_env env, ncommit *c)
{
	napi_value r = NULL;
	batch_end(env, c->b);
	if (c->err.code != CRM_OK)
		nerr_throw(env, &c->err);
	else
		napi_create_double(env, (double)c->count, &r);
	nerr_clear(&c->err);
	return r;
}

static void commit_complete(napi_env env, napi_status status, void *data)
{
	ncommit *c = data;
	napi_value r = commit_result(env, c);
	if (status != napi_ok && r) {
		throw_code(env, CRM_ERROR, "the async commit was cancelled");
		r = NULL;
	}
	nwork_finish(env, &c->w, r);
	free(c);
}

/* batchCommit(batch) -> the row count; or throw the rows' errors (the batch ends either way) */
static napi_value batch_commit(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	ncommit c = {0};
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!arg_batch(env, argv[0], &c.b))
		return NULL;
	commit_execute(env, &c);
	return commit_result(env, &c);
}

/* batchCommitAsync(batch) -> Promise of the row count: batchCommit on a worker (a big commit writes a lot) */
static napi_value batch_commit_async(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], promise;
	nbatch *b;
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!arg_batch(env, argv[0], &b))
		return NULL;
	if (!b->owns_busy) {
		throw_code(env, CRM_EMISUSE, "batchCommitAsync needs a batch begun as async");
		return NULL;
	}
	ncommit *c = calloc(1, sizeof *c);
	if (!c) {
		throw_code(env, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	c->b = b;
	if (!(promise = nwork_start(env, &c->w, argv[0], "libcrm.commit", commit_execute, commit_complete, c)))
		free(c);
	return promise;
}

/* batchFree(batch): roll back unless committed */
static napi_value batch_free(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	void *p = NULL;
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
		napi_throw_type_error(env, NULL, "the batch must be a batch handle");
		return NULL;
	}
	batch_end(env, p);
	return undefined(env);
}

/* What recordWrite does (lib/index.js passes the same numbers). */
enum { WRITE_INSERT, WRITE_UPDATE, WRITE_UPSERT };
#define WRITE_ARGS 12

/* recordWrite(handle, op, form, id or key, expectedVersion, ...packed record)
 * -> the id (insert), undefined (update), [id, inserted] (upsert): one record
 * as typed values (crm_record_*_values), packed as an insertMany row, so
 * insert and insertMany take and refuse a value alike. */
static napi_value record_write(napi_env env, napi_callback_info info)
{
	size_t argc = WRITE_ARGS;
	napi_value argv[WRITE_ARGS], r = NULL;
	ndb *d;
	char *form = NULL, *key = NULL;
	int32_t op = -1;
	int64_t id = 0, version = 0, out_id = 0;
	int inserted = 0, rc;
	npack pk = {0};
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < WRITE_ARGS || napi_get_value_int32(env, argv[1], &op) != napi_ok || op < WRITE_INSERT ||
	    op > WRITE_UPSERT) {
		napi_throw_type_error(env, NULL, "recordWrite(handle, op, form, idOrKey, version, ...packed record)");
		return NULL;
	}
	if (!arg_ndb(env, argv[0], &d, 0) || !arg_string(env, argv[2], "form", &form))
		goto out;
	if (op == WRITE_UPSERT ? !arg_string(env, argv[3], "key", &key) : !arg_int64(env, argv[3], "id", &id))
		goto out;
	if (!arg_int64(env, argv[4], "expectedVersion", &version) || !npack_read(env, argv + 5, &pk))
		goto out;
	if (pk.nrows != 1) {
		throw_code(env, CRM_EMISUSE, "recordWrite takes one record");
		goto out;
	}
	if (op == WRITE_INSERT)
		rc = crm_record_insert_values(d->db, form, pk.fields, pk.counts[0], &out_id);
	else if (op == WRITE_UPDATE)
		rc = crm_record_update_values(d->db, form, id, pk.fields, pk.counts[0], version);
	else
		rc = crm_record_upsert_values(d->db, form, key, pk.fields, pk.counts[0], &out_id, &inserted);
	if (rc != CRM_OK)
		throw_db(env, d->db, rc);
	else if (op == WRITE_INSERT)
		r = make_int64(env, out_id);
	else if (op == WRITE_UPDATE)
		r = undefined(env);
	else if (napi_create_array_with_length(env, 2, &r) == napi_ok) {
		napi_value flag;
		napi_set_element(env, r, 0, make_int64(env, out_id));
		napi_get_boolean(env, inserted, &flag);
		napi_set_element(env, r, 1, flag);
	}
out:
	free(form);
	free(key);
	npack_free(&pk);
	return r;
}

napi_status batch_init(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{"batchBegin", NULL, batch_begin, NULL, NULL, NULL, napi_default, NULL},
		{"batchAdd", NULL, batch_add, NULL, NULL, NULL, napi_default, NULL},
		{"batchAddAsync", NULL, batch_add_async, NULL, NULL, NULL, napi_default, NULL},
		{"batchCommit", NULL, batch_commit, NULL, NULL, NULL, napi_default, NULL},
		{"batchCommitAsync", NULL, batch_commit_async, NULL, NULL, NULL, napi_default, NULL},
		{"batchFree", NULL, batch_free, NULL, NULL, NULL, napi_default, NULL},
		{"recordWrite", NULL, record_write, NULL, NULL, NULL, napi_default, NULL},
	};
	return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
