/* Platform services: access explanations, audit, search, timeline,
 * import (with a progress callback), export (to bytes, a path or a file
 * object), duplicates and merge. */
#include "binding.h"

/* The calls that only convert: thunks and their rows (pycall_run). */
static int explain_access(crm_db *db, pycall *a) { return crm_access_explain(db, a->s[0], a->s[1], a->i[0], &a->out); }
static int audit_history(crm_db *db, pycall *a) { return crm_audit_history(db, a->s[0], a->i[0], &a->out); }
static int record_at(crm_db *db, pycall *a) { return crm_record_at(db, a->s[0], a->i[0], a->i[1], &a->out); }
static int revert(crm_db *db, pycall *a) { return crm_record_revert(db, a->s[0], a->i[0], a->i[1]); }
static int audit_verify(crm_db *db, pycall *a) { return crm_audit_verify_head(db, a->s[0], &a->out); }
static int audit_key(crm_db *db, pycall *a)
{
	return crm_audit_key_set(db, a->y.buf, a->y.buf ? (size_t)a->y.len : 0);
}
static int search(crm_db *db, pycall *a) { return crm_search(db, a->s[0], a->j[0], &a->out); }
static int timeline(crm_db *db, pycall *a) { return crm_timeline(db, a->s[0], a->i[0], a->j[0], &a->out); }
static int duplicates(crm_db *db, pycall *a) { return crm_duplicates(db, a->s[0], a->j[0], &a->out); }
static int merge(crm_db *db, pycall *a) { return crm_merge(db, a->s[0], a->i[0], a->i[1], a->j[0], &a->out); }
static int merge_undo(crm_db *db, pycall *a) { return crm_merge_undo(db, a->i[0]); }

PYCALL_VARARGS(conn_explain_access, "ss|L", 'j', explain_access)
PYCALL_VARARGS(conn_audit_history, "sL", 'j', audit_history)
PYCALL_VARARGS(conn_record_at, "sLt", 'j', record_at)
PYCALL_VARARGS(conn_revert, "sLL", 'v', revert)
PYCALL_VARARGS(conn_audit_verify, "|z", 'j', audit_verify)
PYCALL_VARARGS(conn_audit_key, "y", 'v', audit_key)
/* search(text, options) and timeline(form, id, options): options a dict. */
PYCALL_VARARGS(conn_search, "s|j", 'j', search)
PYCALL_VARARGS(conn_timeline, "sL|j", 'j', timeline)
PYCALL_VARARGS(conn_duplicates, "s|j", 'j', duplicates)
PYCALL_VARARGS(conn_merge, "sLL|j", 'j', merge)
PYCALL_VARARGS(conn_merge_undo, "L", 'v', merge_undo)

/* ---- import ---- */

/* An exception caught in a callback, raised again once libcrm returns. */
typedef struct Caught {
	PyObject *type, *value, *tb;
} Caught;

static void catch_error(Caught *e)
{
	PyErr_Fetch(&e->type, &e->value, &e->tb);
}

static void raise_caught(Caught *e)
{
	PyErr_Restore(e->type, e->value, e->tb);
	e->type = e->value = e->tb = NULL;
}

typedef struct Progress {
	PyObject *fn;    /* callable(rows, bytes, total) or NULL */
	int failed;      /* the callback raised: the import was cancelled */
	Caught exc;      /* that exception, re-raised after the call */
} Progress;

/* Runs inside libcrm's call, with the GIL released by the caller. */
static int progress_cb(void *payload, int64_t rows, int64_t bytes, int64_t total)
{
	Progress *p = payload;
	PyGILState_STATE g = PyGILState_Ensure();
	PyObject *r = PyObject_CallFunction(p->fn, "LLL", (long long)rows, (long long)bytes, (long long)total);
	int stop = 0;
	if (!r) {
		/* the callback's exception cancels the import and is what the caller sees */
		p->failed = 1;
		catch_error(&p->exc);
		stop = 1;
	} else {
		stop = r == Py_False; /* returning False cancels too */
		Py_DECREF(r);
	}
	PyGILState_Release(g);
	return stop;
}

/* The import's result: the summary, or the error with the summary as its
 * .summary when rows were read. */
static PyObject *import_result(Connection *c, int rc, char *out, Progress *p)
{
	if (p->failed) {
		crm_free(out);
		PyErr_Clear();
		raise_caught(&p->exc);
		return NULL;
	}
	if (rc == CRM_OK)
		return json_result(out);
	if (out) {
		Caught e;
		catch_error(&e);
		PyErr_NormalizeException(&e.type, &e.value, &e.tb);
		PyObject *summary = json_result(out);
		if (!summary) {
			Py_XDECREF(e.type);
			Py_XDECREF(e.value);
			Py_XDECREF(e.tb);
			return NULL;
		}
		if (e.value)
			PyObject_SetAttrString(e.value, "summary", summary);
		Py_DECREF(summary);
		raise_caught(&e);
	}
	return NULL;
}

static int import_options(PyObject *opts, PyObject *progress, Buf *b, crm_import_options *o, Progress *p)
{
	if (json_arg(b, opts, &o->json) < 0)
		return -1;
	if (progress && progress != Py_None) {
		if (!PyCallable_Check(progress)) {
			PyErr_SetString(PyExc_TypeError, "progress must be callable(rows, bytes, total)");
			return -1;
		}
		p->fn = progress;
		o->progress = progress_cb;
		o->progress_payload = p;
	}
	return 0;
}

/* import_file (a path) and import_data (`data`, path NULL). */
static PyObject *import_call(Connection *c, const char *form, const char *path, Py_buffer *data, PyObject *opts,
			     PyObject *progress)
{
	Buf b = { 0 };
	crm_import_options o = CRM_IMPORT_OPTIONS_INIT;
	Progress p = { 0 };
	char *out = NULL;
	int rc = -1;
	if (import_options(opts, progress, &b, &o, &p) == 0)
		CRM_RUN(c, rc,
			path ? crm_import_file(c->db, form, path, &o, &out)
			     : crm_import_buffer(c->db, form, data->buf, (size_t)data->len, &o, &out));
	buf_free(&b);
	return rc < 0 ? NULL : import_result(c, rc, out, &p);
}

static PyObject *conn_import_file(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "form", "path", "options", "progress", NULL };
	const char *form;
	PyObject *path, *opts = Py_None, *progress = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "sO&|O$O", names, &form, PyUnicode_FSConverter, &path, &opts,
					 &progress))
		return NULL;
	PyObject *r = import_call(c, form, PyBytes_AS_STRING(path), NULL, opts, progress);
	Py_DECREF(path);
	return r;
}

static PyObject *conn_import_data(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "form", "data", "options", "progress", NULL };
	const char *form;
	Py_buffer data;
	PyObject *opts = Py_None, *progress = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "ss*|O$O", names, &form, &data, &opts, &progress))
		return NULL;
	PyObject *r = import_call(c, form, NULL, &data, opts, progress);
	PyBuffer_Release(&data);
	return r;
}

/* ---- export ---- */

typedef struct Sink {
	PyObject *write; /* file.write, or NULL: collect into `bytes` */
	Buf bytes;
	Caught exc;      /* the write's exception, re-raised after the call */
} Sink;

static int write_cb(void *payload, const void *data, size_t len)
{
	Sink *s = payload;
	PyGILState_STATE g = PyGILState_Ensure();
	int stop = 0;
	if (s->write) {
		PyObject *r = PyObject_CallFunction(s->write, "y#", (const char *)data, (Py_ssize_t)len);
		if (!r) {
			catch_error(&s->exc);
			stop = 1;
		}
		Py_XDECREF(r);
	} else if (buf_put(&s->bytes, data, len) < 0) {
		catch_error(&s->exc);
		stop = 1;
	}
	PyGILState_Release(g);
	return stop;
}

static PyObject *conn_export(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "what", "options", "file", NULL };
	PyObject *what, *opts = Py_None, *file = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O", names, &what, &opts, &file))
		return NULL;
	Buf bw = { 0 }, bo = { 0 };
	const char *jw, *jo;
	PyObject *result = NULL, *path = NULL;
	Sink s = { 0 };
	int rc;
	if (json_arg(&bw, what, &jw) < 0 || json_arg(&bo, opts, &jo) < 0)
		goto done;
	if (file != Py_None && (PyUnicode_Check(file) || PyBytes_Check(file) || PyObject_HasAttrString(file, "__fspath__"))) {
		if (!PyUnicode_FSConverter(file, &path))
			goto done;
		CRM_RUN(c, rc, crm_export_file(c->db, jw ? jw : "{}", jo, PyBytes_AS_STRING(path)));
		if (rc == CRM_OK)
			result = (Py_INCREF(Py_None), Py_None);
		goto done;
	}
	if (file != Py_None && !(s.write = PyObject_GetAttrString(file, "write")))
		goto done;
	CRM_RUN(c, rc, crm_export(c->db, jw ? jw : "{}", jo, write_cb, &s));
	if (s.exc.type) {
		PyErr_Clear();
		raise_caught(&s.exc);
	} else if (rc == CRM_OK) {
		result = s.write ? (Py_INCREF(Py_None), Py_None)
				 : PyBytes_FromStringAndSize(s.bytes.p ? s.bytes.p : "", (Py_ssize_t)s.bytes.n);
	}
done:
	Py_XDECREF(path);
	Py_XDECREF(s.write);
	buf_free(&s.bytes);
	buf_free(&bw);
	buf_free(&bo);
	return result;
}

PyMethodDef services_methods[] = {
	{ "explain_access", (PyCFunction)conn_explain_access, METH_VARARGS,
	  "explain_access($self, verb, form, id=0, /)\n--\n\nWhether the actor may do `verb` (read, create, update, "
	  "delete, fire:EVENT) to `form` (record `id`), and why." },
	{ "audit_history", (PyCFunction)conn_audit_history, METH_VARARGS,
	  "audit_history($self, form, id, /)\n--\n\nThe audit entries about a record, oldest first." },
	{ "record_at", (PyCFunction)conn_record_at, METH_VARARGS,
	  "record_at($self, form, id, when, /)\n--\n\nThe record as it was at `when` (ms or aware datetime)." },
	{ "revert", (PyCFunction)conn_revert, METH_VARARGS,
	  "revert($self, form, id, version, /)\n--\n\nBring a record back to its values at an earlier version." },
	{ "audit_verify", (PyCFunction)conn_audit_verify, METH_VARARGS,
	  "audit_verify($self, head=None, /)\n--\n\nCheck the audit chain (and that `head` is still in it)." },
	{ "audit_key", (PyCFunction)conn_audit_key, METH_VARARGS,
	  "audit_key($self, key, /)\n--\n\nHash audit entries with HMAC-SHA-256 under `key` (bytes); None: plain SHA-256." },
	{ "search", (PyCFunction)conn_search, METH_VARARGS,
	  "search($self, text, options=None, /)\n--\n\nFull-text search ({'hits': [...], 'next': token})." },
	{ "timeline", (PyCFunction)conn_timeline, METH_VARARGS,
	  "timeline($self, form, id, options=None, /)\n--\n\nThe record's timeline, newest first." },
	{ "import_file", (PyCFunction)(void (*)(void))conn_import_file, METH_VARARGS | METH_KEYWORDS,
	  "import_file($self, form, path, options=None, *, progress=None)\n--\n\nImport a CSV, NDJSON or JSON file; "
	  "progress(rows, bytes, total) is called after every chunk (raising or returning False cancels). "
	  "Returns the summary; a failing import's error carries it as .summary." },
	{ "import_data", (PyCFunction)(void (*)(void))conn_import_data, METH_VARARGS | METH_KEYWORDS,
	  "import_data($self, form, data, options=None, *, progress=None)\n--\n\nimport_file over bytes or str." },
	{ "export", (PyCFunction)(void (*)(void))conn_export, METH_VARARGS | METH_KEYWORDS,
	  "export($self, what, options=None, *, file=None)\n--\n\nExport a query ({'form', 'query'}) or a report "
	  "({'report', 'params'}) as CSV, NDJSON, JSON or XLSX: to a path (written whole or not at all), to a "
	  "binary file object, or returned as bytes (file=None)." },
	{ "duplicates", (PyCFunction)conn_duplicates, METH_VARARGS,
	  "duplicates($self, form, options=None, /)\n--\n\nThe duplicate groups of `form` by its rules." },
	{ "merge", (PyCFunction)conn_merge, METH_VARARGS,
	  "merge($self, form, survivor, other, options=None, /)\n--\n\nMerge record `other` into `survivor`." },
	{ "merge_undo", (PyCFunction)conn_merge_undo, METH_VARARGS, "merge_undo($self, merge_id, /)\n--\n\nUndo a merge." },
	{ NULL },
};
