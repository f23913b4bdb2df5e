/* The connection: open/close, the one-thread-at-a-time guard, errors,
 * metadata, single records, transactions, actor, clock and limits. */
#include "binding.h"

#include <pythread.h>
#include <sched.h>
#include <string.h>

int conn_enter(Connection *c)
{
	if (!c->db) {
		PyErr_SetObject(PyTuple_GET_ITEM(st.errors, CRM_EMISUSE),
				PyUnicode_FromString("the connection is closed"));
		return -1;
	}
	unsigned long none = 0, me = PyThread_get_thread_ident();
	if (!atomic_compare_exchange_strong(&c->busy, &none, me)) {
		PyErr_SetString(PyTuple_GET_ITEM(st.errors, CRM_EMISUSE),
				none == me ? "the connection is in a call of this thread (a callback may not use it)"
					   : "the connection is in use by another thread: use one connection per thread");
		return -1;
	}
	return 0;
}

void conn_leave(Connection *c)
{
	atomic_store(&c->busy, 0);
}

int conn_wait(Connection *c)
{
	unsigned long me = PyThread_get_thread_ident();
	for (;;) {
		unsigned long none = 0;
		if (atomic_compare_exchange_strong(&c->busy, &none, me))
			return 1;
		if (none == me)
			return 0;
		Py_BEGIN_ALLOW_THREADS sched_yield();
		Py_END_ALLOW_THREADS
	}
}

PyObject *conn_error(Connection *c, int rc)
{
	int code = crm_errcode(c->db);
	return raise_crm(code ? code : rc, crm_errmsg(c->db), crm_errdetail(c->db), crm_erroffset(c->db));
}

/* ---- lifecycle ---- */

static PyObject *py_connect(PyObject *cls, PyObject *args, PyObject *kw)
{
	static char *names[] = { "path", "schema", "readonly", "existing", "init", "timeout", NULL };
	PyObject *path;
	const char *schema = NULL;
	int readonly = 0, existing = 0, init = 0;
	double timeout = 5.0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|$zpppd", names, PyUnicode_FSConverter, &path, &schema,
					 &readonly, &existing, &init, &timeout))
		return NULL;
	crm_open_options o = CRM_OPEN_OPTIONS_INIT;
	o.flags = (readonly ? CRM_OPEN_READONLY : 0) | (existing ? CRM_OPEN_EXISTING : 0) | (init ? CRM_OPEN_INIT : 0);
	o.busy_timeout_ms = timeout < 0 ? 0 : timeout > 2e6 ? 2000000000 : (int)(timeout * 1000);
	o.schema = schema;
	crm_db *db = NULL;
	int rc;
	const char *p = PyBytes_AS_STRING(path);
	Py_BEGIN_ALLOW_THREADS rc = crm_open(&db, p, &o);
	Py_END_ALLOW_THREADS Py_DECREF(path);
	if (rc != CRM_OK) {
		if (db) {
			raise_crm(crm_errcode(db) ? crm_errcode(db) : rc, crm_errmsg(db), crm_errdetail(db), -1);
			crm_close(db);
		} else {
			raise_crm(rc, crm_errstr(rc), NULL, -1);
		}
		return NULL;
	}
	Connection *c = (Connection *)((PyTypeObject *)cls)->tp_alloc((PyTypeObject *)cls, 0);
	if (!c) {
		crm_close(db);
		return NULL;
	}
	c->db = db;
	atomic_init(&c->busy, 0);
	return (PyObject *)c;
}

static PyObject *conn_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	return py_connect((PyObject *)type, args, kw);
}

static void conn_dealloc(Connection *c)
{
	if (c->weakrefs)
		PyObject_ClearWeakRefs((PyObject *)c);
	if (c->db) {
		/* nothing else can hold it: the last reference is going */
		crm_close(c->db);
		c->db = NULL;
	}
	Py_TYPE(c)->tp_free((PyObject *)c);
}

static PyObject *conn_close(Connection *c, PyObject *unused)
{
	if (!c->db)
		Py_RETURN_NONE;
	if (conn_enter(c) < 0)
		return NULL;
	crm_db *db = c->db;
	Py_BEGIN_ALLOW_THREADS crm_close(db);
	Py_END_ALLOW_THREADS c->db = NULL;
	conn_leave(c);
	Py_RETURN_NONE;
}

static PyObject *conn_closed(Connection *c, void *unused)
{
	return PyBool_FromLong(c->db == NULL);
}

/* ---- metadata ---- */

static PyObject *apply_common(Connection *c, PyObject *args, PyObject *kw, int plan)
{
	static char *names[] = { "document", "allow_data_loss", NULL };
	PyObject *doc;
	int loss = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$p", names, &doc, &loss))
		return NULL;
	Buf b = { 0 };
	const char *json;
	if (json_arg(&b, doc, &json) < 0)
		return NULL;
	crm_apply_options o = CRM_APPLY_OPTIONS_INIT;
	o.flags = loss ? CRM_APPLY_ALLOW_DATA_LOSS : 0;
	char *out = NULL;
	int rc;
	if (conn_enter(c) < 0)
		goto fail;
	Py_BEGIN_ALLOW_THREADS rc = plan ? crm_apply_plan(c->db, json ? json : "null", &o, &out)
					 : crm_apply_v2(c->db, json ? json : "null", &o, &out);
	Py_END_ALLOW_THREADS if (rc != CRM_OK)
	{
		conn_error(c, rc);
		conn_leave(c);
		goto fail;
	}
	conn_leave(c);
	buf_free(&b);
	return json_result(out);
fail:
	buf_free(&b);
	return NULL;
}

static PyObject *conn_apply(Connection *c, PyObject *args, PyObject *kw)
{
	return apply_common(c, args, kw, 0);
}

static PyObject *conn_plan(Connection *c, PyObject *args, PyObject *kw)
{
	return apply_common(c, args, kw, 1);
}

/* Definitions by kind: one table so list/get of every kind share a path. */
static const struct {
	const char *kind;
	int (*list)(crm_db *, char **);
	int (*get)(crm_db *, const char *, char **);
} kinds[] = {
	{ "form", crm_form_list, crm_form_get },
	{ "workflow", crm_workflow_list, crm_workflow_get },
	{ "report", crm_report_list, crm_report_get },
	{ "decision", crm_decision_list, crm_decision_get },
	{ "plugin", crm_plugin_list, crm_plugin_get },
};

static int kind_index(const char *kind)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return (int)i;
	PyErr_Format(PyExc_ValueError, "unknown kind '%s' (form, workflow, report, decision or plugin)", kind);
	return -1;
}

static PyObject *conn_definitions(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "kind", NULL };
	const char *kind = "form";
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|s", names, &kind))
		return NULL;
	int k = kind_index(kind), rc;
	if (k < 0)
		return NULL;
	char *out = NULL;
	CRM_CALL(c, rc, kinds[k].list(c->db, &out));
	return json_result(out);
}

static PyObject *conn_definition(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "name", "kind", NULL };
	const char *name, *kind = "form";
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|s", names, &name, &kind))
		return NULL;
	int k = kind_index(kind), rc;
	if (k < 0)
		return NULL;
	char *out = NULL;
	CRM_CALL(c, rc, kinds[k].get(c->db, name, &out));
	return json_result(out);
}

static char *check_names[] = { "form", NULL };
static int check(crm_db *db, pycall *a) { return crm_form_check(db, a->s[0], &a->out); }
PYCALL_KEYWORDS(conn_check, "|z", check_names, 'j', check)

/* ---- single records ---- */

/* A record argument: a dict goes over as typed values (the reader of
 * insert_many's rows, so insert and insert_many take and refuse a value
 * alike), anything else as JSON (a str is JSON text). */
typedef struct Record {
	Values vals;
	Buf json;
	const char *text;
	int as_values;
} Record;

static void record_free(Record *r)
{
	if (r->as_values)
		values_free(&r->vals);
	buf_free(&r->json);
}

/* 0, or -1 with an exception set and nothing left to free. */
static int record_arg(Record *r, PyObject *obj)
{
	memset(r, 0, sizeof *r);
	if (PyDict_Check(obj)) {
		r->as_values = 1;
		if (values_init(&r->vals) < 0 || values_of(&r->vals, obj) < 0)
			goto fail;
		return 0;
	}
	if (json_arg(&r->json, obj, &r->text) < 0)
		goto fail;
	if (!r->text)
		r->text = "null";
	return 0;
fail:
	record_free(r);
	return -1;
}

static PyObject *conn_insert(Connection *c, PyObject *args)
{
	const char *form;
	PyObject *obj;
	if (!PyArg_ParseTuple(args, "sO", &form, &obj))
		return NULL;
	Record r;
	if (record_arg(&r, obj) < 0)
		return NULL;
	int64_t id = 0;
	int rc = CRM_OK;
	if (conn_enter(c) == 0) {
		Py_BEGIN_ALLOW_THREADS rc = r.as_values ? crm_record_insert_values(c->db, form, r.vals.f, r.vals.n, &id)
							: crm_record_insert(c->db, form, r.text, &id);
		Py_END_ALLOW_THREADS if (rc != CRM_OK) conn_error(c, rc);
		conn_leave(c);
	} else {
		rc = CRM_EMISUSE;
	}
	record_free(&r);
	return rc == CRM_OK ? PyLong_FromLongLong(id) : NULL;
}

static PyObject *conn_update(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "form", "id", "changes", "version", NULL };
	const char *form;
	long long id, version = 0;
	PyObject *obj;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "sLO|$L", names, &form, &id, &obj, &version))
		return NULL;
	Record r;
	if (record_arg(&r, obj) < 0)
		return NULL;
	int rc = CRM_OK;
	if (conn_enter(c) == 0) {
		Py_BEGIN_ALLOW_THREADS rc = r.as_values
						    ? crm_record_update_values(c->db, form, id, r.vals.f, r.vals.n, version)
						    : crm_record_update(c->db, form, id, r.text, version);
		Py_END_ALLOW_THREADS if (rc != CRM_OK) conn_error(c, rc);
		conn_leave(c);
	} else {
		rc = CRM_EMISUSE;
	}
	record_free(&r);
	if (rc != CRM_OK)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *conn_delete(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "form", "id", "version", NULL };
	const char *form;
	long long id, version = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "sL|$L", names, &form, &id, &version))
		return NULL;
	int rc;
	CRM_CALL(c, rc, crm_record_delete(c->db, form, id, version));
	Py_RETURN_NONE;
}

static PyObject *conn_upsert(Connection *c, PyObject *args)
{
	const char *form, *key;
	PyObject *obj;
	if (!PyArg_ParseTuple(args, "ssO", &form, &key, &obj))
		return NULL;
	Record r;
	if (record_arg(&r, obj) < 0)
		return NULL;
	int64_t id = 0;
	int inserted = 0, rc = CRM_OK;
	if (conn_enter(c) == 0) {
		Py_BEGIN_ALLOW_THREADS rc = r.as_values ? crm_record_upsert_values(c->db, form, key, r.vals.f, r.vals.n,
										  &id, &inserted)
							: crm_record_upsert(c->db, form, key, r.text, &id, &inserted);
		Py_END_ALLOW_THREADS if (rc != CRM_OK) conn_error(c, rc);
		conn_leave(c);
	} else {
		rc = CRM_EMISUSE;
	}
	record_free(&r);
	return rc == CRM_OK ? Py_BuildValue("(LO)", (long long)id, inserted ? Py_True : Py_False) : NULL;
}

/* ---- transactions, actor, clock, limits, warnings ---- */

static PyObject *conn_begin(Connection *c, PyObject *unused)
{
	int rc;
	CRM_CALL(c, rc, crm_begin(c->db));
	Py_RETURN_NONE;
}

static PyObject *conn_commit(Connection *c, PyObject *unused)
{
	int rc;
	CRM_CALL(c, rc, crm_commit(c->db));
	Py_RETURN_NONE;
}

static PyObject *conn_rollback(Connection *c, PyObject *unused)
{
	int rc;
	CRM_CALL(c, rc, crm_rollback(c->db));
	Py_RETURN_NONE;
}

static PyObject *conn_set_actor(Connection *c, PyObject *actor)
{
	Buf b = { 0 };
	const char *json;
	if (json_arg(&b, actor, &json) < 0)
		return NULL;
	int rc = CRM_OK;
	if (conn_enter(c) == 0) {
		Py_BEGIN_ALLOW_THREADS rc = crm_actor_set_json(c->db, json);
		Py_END_ALLOW_THREADS if (rc != CRM_OK) conn_error(c, rc);
		conn_leave(c);
	} else {
		rc = CRM_EMISUSE;
	}
	buf_free(&b);
	if (rc != CRM_OK)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *conn_actor(Connection *c, PyObject *unused)
{
	char *out = NULL;
	int rc;
	CRM_CALL(c, rc, crm_actor_json(c->db, &out));
	return json_result(out);
}

static PyObject *conn_set_clock(Connection *c, PyObject *when)
{
	int64_t ms = 0;
	if (when != Py_None && to_ms(when, &ms) < 0)
		return NULL;
	int rc;
	CRM_CALL(c, rc, when == Py_None ? crm_clock_set_fn(c->db, NULL, NULL) : crm_clock_set(c->db, ms));
	Py_RETURN_NONE;
}

static PyObject *conn_now(Connection *c, PyObject *unused)
{
	if (conn_enter(c) < 0)
		return NULL;
	int64_t ms = crm_now(c->db);
	conn_leave(c);
	return PyLong_FromLongLong(ms);
}

static const char *const limit_names[] = { "regex_match", "regex_depth", "value_length", "json_depth",
					   "batch_errors", "lua_instructions", "lua_memory", "metadata_length",
					   "definitions", "detail_errors" };

static PyObject *conn_limit(Connection *c, PyObject *args, PyObject *kw)
{
	static char *names[] = { "name", "value", NULL };
	const char *name;
	long long value = -1;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|L", names, &name, &value))
		return NULL;
	int id = -1;
	for (int i = 0; i < CRM_LIMIT_COUNT_; i++)
		if (strcmp(limit_names[i], name) == 0)
			id = i;
	if (id < 0)
		return PyErr_Format(PyExc_ValueError, "unknown limit '%s'", name);
	if (conn_enter(c) < 0)
		return NULL;
	int64_t prev = crm_limit(c->db, (crm_limit_id)id, value < 0 ? -1 : value);
	conn_leave(c);
	return PyLong_FromLongLong(prev);
}

static PyObject *conn_warnings(Connection *c, PyObject *unused)
{
	if (conn_enter(c) < 0)
		return NULL;
	PyObject *s = PyUnicode_FromString(crm_warnings(c->db));
	conn_leave(c);
	if (!s)
		return NULL;
	PyObject *r = PyObject_CallOneArg(st.loads, s);
	Py_DECREF(s);
	return r;
}

PyMethodDef records_methods[] = {
	{ "close", (PyCFunction)conn_close, METH_NOARGS,
	  "close($self)\n--\n\nClose the connection (rolling back an open transaction). Cursors, reports and "
	  "batches still open then fail with ProgrammingError. Closing twice does nothing." },
	{ "apply", (PyCFunction)(void (*)(void))conn_apply, METH_VARARGS | METH_KEYWORDS,
	  "apply($self, document, *, allow_data_loss=False)\n--\n\nApply metadata (a dict, a list of them, "
	  "JSON text, or a path) in one transaction; returns the summary of what changed." },
	{ "plan", (PyCFunction)(void (*)(void))conn_plan, METH_VARARGS | METH_KEYWORDS,
	  "plan($self, document, *, allow_data_loss=False)\n--\n\nWhat apply() would do, changing nothing." },
	{ "definitions", (PyCFunction)(void (*)(void))conn_definitions, METH_VARARGS | METH_KEYWORDS,
	  "definitions($self, kind='form')\n--\n\nThe definitions of a kind (form, workflow, report, decision, "
	  "plugin): a list of {kind: name, 'version', 'label'}." },
	{ "definition", (PyCFunction)(void (*)(void))conn_definition, METH_VARARGS | METH_KEYWORDS,
	  "definition($self, name, kind='form')\n--\n\nThe stored definition of `name`, normalised." },
	{ "check", (PyCFunction)(void (*)(void))conn_check, METH_VARARGS | METH_KEYWORDS,
	  "check($self, form=None)\n--\n\nCheck stored records against their definitions (crm_form_check)." },
	{ "insert", (PyCFunction)conn_insert, METH_VARARGS,
	  "insert($self, form, record, /)\n--\n\nValidate and insert a record (a dict); returns its id." },
	{ "update", (PyCFunction)(void (*)(void))conn_update, METH_VARARGS | METH_KEYWORDS,
	  "update($self, form, id, changes, *, version=0)\n--\n\nChange the fields given (None clears one); "
	  "with version > 0, ConflictError unless the record is at that version." },
	{ "delete", (PyCFunction)(void (*)(void))conn_delete, METH_VARARGS | METH_KEYWORDS,
	  "delete($self, form, id, *, version=0)\n--\n\nDelete a record (same version rule as update)." },
	{ "upsert", (PyCFunction)conn_upsert, METH_VARARGS,
	  "upsert($self, form, key, record, /)\n--\n\nInsert, or update the record whose unique `key` "
	  "(comma-separated fields) matches; returns (id, inserted)." },
	{ "begin", (PyCFunction)conn_begin, METH_NOARGS, "begin($self)\n--\n\nStart a transaction." },
	{ "commit", (PyCFunction)conn_commit, METH_NOARGS, "commit($self)\n--\n\nCommit the transaction." },
	{ "rollback", (PyCFunction)conn_rollback, METH_NOARGS, "rollback($self)\n--\n\nRoll the transaction back." },
	{ "set_actor", (PyCFunction)conn_set_actor, METH_O,
	  "set_actor($self, actor, /)\n--\n\nAct as {'user', 'roles', 'attrs'} (or None: the system actor)." },
	{ "actor", (PyCFunction)conn_actor, METH_NOARGS,
	  "actor($self)\n--\n\nThe current actor: {'user', 'roles', 'attrs', 'system'}." },
	{ "set_clock", (PyCFunction)conn_set_clock, METH_O,
	  "set_clock($self, when, /)\n--\n\nFreeze the clock at `when` (ms since the epoch, or an aware datetime); "
	  "None returns to the system clock." },
	{ "now", (PyCFunction)conn_now, METH_NOARGS, "now($self)\n--\n\nThe connection's time in ms since the epoch." },
	{ "limit", (PyCFunction)(void (*)(void))conn_limit, METH_VARARGS | METH_KEYWORDS,
	  "limit($self, name, value=-1)\n--\n\nSet limit `name` (regex_match, value_length, ...) when value >= 0; "
	  "returns the previous value." },
	{ "warnings", (PyCFunction)conn_warnings, METH_NOARGS,
	  "warnings($self)\n--\n\nThe warnings of the last call (a list of dicts)." },
	{ NULL }
};

static PyGetSetDef conn_getset[] = {
	{ "closed", (getter)conn_closed, NULL, "True once close() was called.", NULL },
	{ NULL },
};

PyTypeObject ConnectionType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "libcrm._libcrm.Connection",
	.tp_basicsize = sizeof(Connection),
	.tp_dealloc = (destructor)conn_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Connection(path, *, schema=None, readonly=False, existing=False, init=False, timeout=5.0)\n--\n\n"
		  "A libcrm database: an SQLite file, ':memory:', or a postgresql:// URL.",
	.tp_new = conn_new,
	.tp_getset = conn_getset,
	.tp_weaklistoffset = offsetof(Connection, weakrefs),
};
