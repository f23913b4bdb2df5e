/*
 * Query and report cursors. read(cursor, n) converts up to n rows on the
 * main thread; readAsync(cursor, n) steps libcrm and copies the rows'
 * values on a worker thread, then converts them on the main thread, so a
 * server keeps answering while a long query or report streams.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

typedef struct ncursor {
	ndb *d;
	crm_cursor *cur;
	crm_report *rep;
	crm_row *row;
	ncols cols;
	int done;
} ncursor;

static void cursor_free(napi_env env, void *p)
{
	ncursor *c = p;
	crm_cursor_free(c->cur);
	crm_report_free(c->rep);
	ncols_free(env, &c->cols);
	ndb_release(env, c->d);
	free(c);
}

static void cursor_finalize(napi_env env, void *data, void *hint)
{
	ncursor *c = data;
	ndb_defer(env, c->d, cursor_free, c);
}

/* 1 with a row; 0 at the end, or on an error (captured in *e); the cursor is done after a 0. */
static int cursor_step(ncursor *c, nerr *e)
{
	int rc = c->cur ? crm_cursor_next(c->cur) : crm_report_next(c->rep);
	if (rc == CRM_ROW)
		return 1;
	c->done = 1;
	if (rc != CRM_DONE)
		nerr_capture(e, c->d->db, rc);
	return 0;
}

/* queryOpen(handle, form, query) / reportOpen(handle, name, params) */
static napi_value cursor_open(napi_env env, napi_callback_info info, int report)
{
	size_t argc = 3;
	napi_value argv[3], ext;
	ndb *d;
	char *name = NULL;
	nbuf q = {0};
	napi_valuetype t = napi_undefined;
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!arg_ndb(env, argv[0], &d, 0) || !arg_string(env, argv[1], report ? "report" : "form", &name))
		return NULL;
	if (argc > 2)
		napi_typeof(env, argv[2], &t);
	ncursor *c = calloc(1, sizeof *c);
	if (!c) {
		free(name);
		throw_code(env, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	if (t != napi_undefined && t != napi_null && !json_encode(env, argv[2], &q))
		goto fail;
	int rc = report ? crm_report_run(&c->rep, d->db, name, q.p) : crm_query(&c->cur, d->db, name, q.p);
	if (rc != CRM_OK) {
		throw_db(env, d->db, rc);
		goto fail;
	}
	c->row = report ? crm_report_row(c->rep) : crm_cursor_row(c->cur);
	if (!ncols_init(env, &c->cols, c->row))
		goto fail;
	c->d = d;
	d->refs++;
	if (napi_create_external(env, c, cursor_finalize, NULL, &ext) != napi_ok) {
		d->refs--;
		goto fail;
	}
	free(name);
	nbuf_free(&q);
	return ext;
fail:
	crm_cursor_free(c->cur);
	crm_report_free(c->rep);
	ncols_free(env, &c->cols);
	free(c);
	free(name);
	nbuf_free(&q);
	throw_pending(env);
	return NULL;
}

static napi_value query_open(napi_env env, napi_callback_info info)
{
	return cursor_open(env, info, 0);
}

static napi_value report_open(napi_env env, napi_callback_info info)
{
	return cursor_open(env, info, 1);
}

static int arg_cursor(napi_env env, napi_value v, ncursor **out)
{
	void *p = NULL;
	if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
		napi_throw_type_error(env, NULL, "the cursor must be a cursor handle");
		return 0;
	}
	*out = p;
	return ndb_usable(env, (*out)->d, 0);
}

/* columns(cursor) -> [{name, type, label?}] */
static napi_value cursor_columns(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], arr, o, v;
	ncursor *c;
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!arg_cursor(env, argv[0], &c))
		return NULL;
	napi_value names;
	NAPI_OK(env, napi_get_reference_value(env, c->cols.names, &names));
	napi_create_array_with_length(env, (size_t)c->cols.count, &arr);
	for (int i = 0; i < c->cols.count; i++) {
		napi_create_object(env, &o);
		napi_get_element(env, names, (uint32_t)i, &v);
		napi_set_named_property(env, o, "name", v);
		napi_create_int32(env, c->cols.types[i], &v);
		napi_set_named_property(env, o, "type", v);
		if (c->rep) {
			napi_set_named_property(env, o, "label",
						make_string(env, crm_report_column_label(c->rep, i), NAPI_AUTO_LENGTH));
		}
		napi_set_element(env, arr, (uint32_t)i, o);
	}
	return arr;
}

/* The arguments of read and readAsync: (cursor, n, make). */
static int read_args(napi_env env, napi_callback_info info, napi_value argv[3], ncursor **c, uint32_t *n)
{
	size_t argc = 3;
	*n = 0;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
		napi_throw_type_error(env, NULL, "read(cursor, n, make)");
		return 0;
	}
	napi_get_value_uint32(env, argv[1], n);
	return arg_cursor(env, argv[0], c);
}

/* read(cursor, n, make) -> up to n rows made by make(...values); [] at the end */
static napi_value cursor_read(napi_env env, napi_callback_info info)
{
	napi_value argv[3], arr;
	uint32_t n;
	ncursor *c;
	if (!read_args(env, info, argv, &c, &n))
		return NULL;
	NAPI_OK(env, napi_create_array(env, &arr));
	for (uint32_t k = 0; k < n && !c->done; k++) {
		nerr e = {0};
		if (!cursor_step(c, &e)) {
			if (e.code != CRM_OK) {
				nerr_throw(env, &e);
				nerr_clear(&e);
				return NULL;
			}
			break;
		}
		napi_value row = row_make(env, c->d, &c->cols, c->row, argv[2]);
		if (!row || napi_set_element(env, arr, k, row) != napi_ok)
			return NULL;
	}
	return arr;
}

/* Rows copied on the worker: values in `cells`, their text in `text`
 * (offsets until the main thread fixes them into pointers). */
typedef struct nread {
	ncursor *c;
	uint32_t want, got;
	ncell *cells;
	size_t *soff;  /* per cell: offset of its text in `text`, or SIZE_MAX */
	nbuf text;
	nbuf itemoff;  /* size_t offsets of multi_enum items, in order */
	nerr err;
	napi_ref make;
	nwork w;
} nread;

static void put_text(nread *r, size_t cell, const char *s, size_t n)
{
	r->soff[cell] = r->text.len;
	nbuf_put(&r->text, s, n);
	nbuf_put(&r->text, "", 1); /* keep the NUL: the converter reads C strings */
}

static void read_execute(napi_env env, void *data)
{
	nread *r = data;
	ncursor *c = r->c;
	int cols = c->cols.count;
	const char **scratch = NULL;
	size_t nscratch = 0;
	for (; r->got < r->want; r->got++) {
		if (!cursor_step(c, &r->err))
			break;
		for (int i = 0; i < cols; i++) {
			size_t k = (size_t)r->got * (size_t)cols + (size_t)i;
			ncell *cell = &r->cells[k];
			int items = c->cols.types[i] == CRM_TYPE_MULTI_ENUM ? crm_row_item_count(c->row, i) : 0;
			if (items > 0 && (size_t)items > nscratch) {
				const char **p = realloc(scratch, (size_t)items * sizeof *p);
				if (!p) {
					r->text.failed = 1;
					break;
				}
				scratch = p;
				nscratch = (size_t)items;
			}
			ncell_read(c->d, c->row, i, c->cols.types[i], cell, scratch);
			r->soff[k] = SIZE_MAX;
			if (cell->s)
				put_text(r, k, cell->s, cell->n);
			for (int m = 0; m < cell->nitems; m++) {
				size_t off = r->text.len;
				nbuf_put(&r->text, scratch[m], strlen(scratch[m]) + 1);
				nbuf_put(&r->itemoff, (const char *)&off, sizeof off);
			}
			cell->s = NULL;
			cell->items = NULL;
		}
		if (r->text.failed || r->itemoff.failed) {
			r->err = (nerr){.code = CRM_ENOMEM, .message = strdup("out of memory"), .offset = -1};
			break;
		}
	}
	free(scratch);
}

static napi_value read_rows(napi_env env, nread *r)
{
	ncursor *c = r->c;
	size_t cols = (size_t)c->cols.count, nitems = r->itemoff.len / sizeof(size_t), used = 0;
	const size_t *itemoff = (const size_t *)(void *)r->itemoff.p;
	const char **items = nitems ? malloc(nitems * sizeof *items) : NULL;
	napi_value arr = NULL, make;
	if (napi_get_reference_value(env, r->make, &make) != napi_ok) {
		free(items);
		return NULL;
	}
	if (nitems && !items) {
		throw_code(env, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t m = 0; m < nitems; m++)
		items[m] = r->text.p + itemoff[m];
	if (napi_create_array_with_length(env, r->got, &arr) != napi_ok)
		goto done;
	for (uint32_t k = 0; k < r->got; k++) {
		ncell *row = &r->cells[(size_t)k * cols];
		for (size_t i = 0; i < cols; i++) {
			size_t off = r->soff[(size_t)k * cols + i];
			row[i].s = off == SIZE_MAX ? NULL : r->text.p + off;
			row[i].items = items + used;
			used += (size_t)row[i].nitems;
		}
		napi_value obj = cells_to_row(env, c->d, &c->cols, row, make);
		if (!obj || napi_set_element(env, arr, k, obj) != napi_ok) {
			arr = NULL;
			break;
		}
	}
done:
	free(items);
	return arr;
}

static void read_free(napi_env env, nread *r)
{
	free(r->cells);
	free(r->soff);
	nbuf_free(&r->text);
	nbuf_free(&r->itemoff);
	nerr_clear(&r->err);
	free(r);
}

static void read_complete(napi_env env, napi_status status, void *data)
{
	nread *r = data;
	napi_value rows = NULL;
	ndb_idle(env, r->c->d);
	if (status != napi_ok)
		throw_code(env, CRM_ERROR, "the async read was cancelled");
	else if (r->err.code != CRM_OK)
		nerr_throw(env, &r->err);
	else
		rows = read_rows(env, r);
	nwork_finish(env, &r->w, rows);
	napi_delete_reference(env, r->make);
	read_free(env, r);
}

/* readAsync(cursor, n, make) -> Promise of up to n rows made by make(...values); [] at the end */
static napi_value cursor_read_async(napi_env env, napi_callback_info info)
{
	napi_value argv[3], promise;
	uint32_t n;
	ncursor *c;
	if (!read_args(env, info, argv, &c, &n))
		return NULL;
	nread *r = calloc(1, sizeof *r);
	size_t ncells = (size_t)n * (size_t)c->cols.count;
	if (!r || !(r->cells = calloc(ncells + 1, sizeof *r->cells)) || !(r->soff = calloc(ncells + 1, sizeof *r->soff))) {
		if (r)
			read_free(env, r);
		throw_code(env, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	r->c = c;
	r->want = c->done ? 0 : n;
	if (napi_create_reference(env, argv[2], 1, &r->make) != napi_ok) {
		read_free(env, r);
		throw_pending(env);
		return NULL;
	}
	if (!(promise = nwork_start(env, &r->w, argv[0], "libcrm.read", read_execute, read_complete, r))) {
		napi_delete_reference(env, r->make);
		read_free(env, r);
		return NULL;
	}
	c->d->busy = "an async query or report read";
	return promise;
}

/* close(cursor): free it now rather than at garbage collection */
static napi_value cursor_close(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	void *p = NULL;
	NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
		napi_throw_type_error(env, NULL, "the cursor must be a cursor handle");
		return NULL;
	}
	ncursor *c = p;
	if (c->d->busy && (c->cur || c->rep)) {
		throw_code(env, CRM_EMISUSE, "the database is busy on a worker thread: await it before closing a cursor");
		return NULL;
	}
	crm_cursor_free(c->cur);
	crm_report_free(c->rep);
	c->cur = NULL;
	c->rep = NULL;
	c->done = 1;
	return undefined(env);
}

napi_status cursor_init(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{"queryOpen", NULL, query_open, NULL, NULL, NULL, napi_default, NULL},
		{"reportOpen", NULL, report_open, NULL, NULL, NULL, napi_default, NULL},
		{"cursorColumns", NULL, cursor_columns, NULL, NULL, NULL, napi_default, NULL},
		{"cursorRead", NULL, cursor_read, NULL, NULL, NULL, napi_default, NULL},
		{"cursorReadAsync", NULL, cursor_read_async, NULL, NULL, NULL, napi_default, NULL},
		{"cursorClose", NULL, cursor_close, NULL, NULL, NULL, napi_default, NULL},
	};
	return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
