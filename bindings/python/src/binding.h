/*
 * libcrm's Python binding: what the area files (connection, conversion,
 * errors, cursor, batch, workflow, report, events, services) share.
 *
 * Every engine call runs with the GIL released and with the connection's
 * `busy` flag held (conn_enter/conn_leave): a second thread calling into a
 * connection that is already in a call gets ProgrammingError at once
 * instead of two threads inside one crm_db (libcrm allows one thread per
 * handle). The flag also covers cursors, reports and batches, which use
 * their connection's handle.
 */
#ifndef CRM_PY_BINDING_H
#define CRM_PY_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdatomic.h>

#include <crm.h>

typedef struct Connection {
	PyObject_HEAD
	crm_db *db;         /* NULL once closed */
	/* thread ident of the call inside libcrm, 0 when none */
	atomic_ulong busy;
	PyObject *weakrefs;
} Connection;

extern PyTypeObject ConnectionType;
extern PyTypeObject CursorType;
extern PyTypeObject ReportType;

/* Objects of the Python layer (libcrm._util) the C code uses. */
typedef struct State {
	PyObject *errors;      /* tuple of exception classes by crm code, index 0 unused */
	PyObject *error_base;  /* libcrm.Error */
	PyObject *make_error;  /* _util.make_error(cls, code, message, detail_text) */
	PyObject *loads;       /* _util.loads(text): JSON result to Python, times converted */
	PyObject *decimal;     /* decimal.Decimal */
	PyObject *column;      /* _util.Column(name, label, type) */
	PyObject *type_names;  /* tuple: crm_type -> name */
} State;
extern State st;

/* connection.c */
int conn_enter(Connection *c);
void conn_leave(Connection *c);
/* For deallocators, which cannot fail: wait until no other thread is in a
 * call. 1 when taken (conn_leave after), 0 when this thread already holds it
 * (a callback of its own call). */
int conn_wait(Connection *c);
/* Raise the error of the last failed call on c (call before conn_leave). */
PyObject *conn_error(Connection *c, int rc);

/* errors.c: raise the exception class for `code` with message and detail. */
PyObject *raise_crm(int code, const char *message, const char *detail, int offset);

/* convert.c */
int convert_init(void);
typedef struct Buf {
	char *p;
	size_t n, cap;
} Buf;
int buf_put(Buf *b, const char *s, size_t n);
void buf_free(Buf *b);
/* Append `obj` as JSON: dict/list/tuple/str/int/float/bool/None, Decimal
 * (a string, exact), date ("YYYY-MM-DD"), aware datetime (ISO UTC); -1 with
 * an exception set otherwise. The result is NUL-terminated. */
int json_encode(Buf *b, PyObject *obj);
/* A record (dict) as typed values for crm_batch_add_values: each Python
 * value as the kind the JSON encoder's output stands for, so insert() and
 * insert_many() read a value alike. Strings are borrowed from the record's
 * objects (kept alive by the record and `keep`) until the next values_of. */
typedef struct Values {
	crm_field_value *f;
	size_t n, cap;
	const char **items; /* the multi_enum lists' items, end to end */
	size_t nitems, items_cap;
	Buf text;           /* JSON and formatted text (decimals, dates) */
	PyObject *keep;     /* sequences made for the row (a set's list) */
} Values;
int values_init(Values *v);
int values_of(Values *v, PyObject *record);
void values_free(Values *v);
/* The UTF-8 of a str argument; ValueError when it holds U+0000. */
const char *text_arg(PyObject *s);
/* JSON text for an optional argument: NULL (no JSON) for None; str kept. */
int json_arg(Buf *b, PyObject *obj, const char **out);
/* Python value of column i of `row`. */
PyObject *row_value(crm_row *row, int i);
/* The result text of a call: parsed (libcrm._util.loads), then crm_free'd. */
PyObject *json_result(char *text);
/* ms since the epoch from int or aware datetime (or date, 00:00 UTC). */
int to_ms(PyObject *obj, int64_t *out);
/* Columns of a row as a tuple of interned str. */
PyObject *row_names(crm_row *row);
/* One row as a dict (names: row_names) or a tuple. */
PyObject *row_to_python(crm_row *row, PyObject *names, int as_tuple);

/* One call on a connection with the GIL released: `call` is an expression
 * giving a result code, stored in rc; on failure the error is raised (rc
 * CRM_EMISUSE when the connection is closed or busy). CRM_CALL also returns
 * NULL from the calling function on failure. */
#define CRM_RUN(c, rc, call)                                         \
	do {                                                         \
		if (conn_enter(c) < 0) {                             \
			(rc) = CRM_EMISUSE;                          \
			break;                                       \
		}                                                    \
		Py_BEGIN_ALLOW_THREADS(rc) = (call);                 \
		Py_END_ALLOW_THREADS if ((rc) != CRM_OK) conn_error(c, rc); \
		conn_leave(c);                                       \
	} while (0)
#define CRM_CALL(c, rc, call)            \
	do {                             \
		CRM_RUN(c, rc, call);    \
		if ((rc) != CRM_OK)      \
			return NULL;     \
	} while (0)

/* The call table: a Connection method that only converts its arguments,
 * makes one libcrm call and converts the answer is a thunk (the C call on
 * the converted arguments) and a pycall_def row, run by pycall_run. */
#define PYCALL_ARGS 5
typedef struct pycall {
	const char *s[PYCALL_ARGS]; /* 's', 'z' (NULL for None): borrowed from the arguments */
	long long i[PYCALL_ARGS];   /* 'L', then 't' and 'T' as ms */
	const char *j[PYCALL_ARGS]; /* 'j' as JSON text, NULL for None: owned by json[] */
	Buf json[PYCALL_ARGS];
	Py_buffer y;                /* 'y' (buf NULL for None) */
	char *out;                  /* ret 'j': the call's JSON answer, crm_free'd by pycall_run */
	int64_t out_i;              /* ret 'i' */
} pycall;
typedef struct pycall_def {
	/* The Python arguments in order: s str, z str or None, L int, j any
	 * value as JSON (None: NULL), t time (ms, date or aware datetime),
	 * T time or None (-1), y bytes-like or None; '|' and '$' as in
	 * PyArg_ParseTupleAndKeywords. With flags METH_O: "L", the one argument. */
	const char *kinds;
	char **names; /* keyword names (METH_KEYWORDS), else NULL */
	int flags;    /* the method's: METH_O, METH_VARARGS or METH_VARARGS | METH_KEYWORDS */
	char ret;     /* j the JSON answer parsed, i out_i as int, v None */
	int (*fn)(crm_db *db, pycall *a);
} pycall_def;
/* Run row `def` for a method's arguments (args the object for METH_O). */
PyObject *pycall_run(Connection *c, PyObject *args, PyObject *kw, const pycall_def *def);
/* The Connection method `name` running the row { kinds, names, flags, ret,
 * fn }, of the calling convention of those flags. */
#define PYCALL_O(name, ret, fn)                                                                          \
	static PyObject *name(Connection *c, PyObject *arg)                                              \
	{                                                                                                \
		static const pycall_def def = { "L", NULL, METH_O, ret, fn };                            \
		return pycall_run(c, arg, NULL, &def);                                                   \
	}
#define PYCALL_VARARGS(name, kinds, ret, fn)                                                             \
	static PyObject *name(Connection *c, PyObject *args)                                             \
	{                                                                                                \
		static const pycall_def def = { kinds, NULL, METH_VARARGS, ret, fn };                    \
		return pycall_run(c, args, NULL, &def);                                                  \
	}
#define PYCALL_KEYWORDS(name, kinds, names, ret, fn)                                                     \
	static PyObject *name(Connection *c, PyObject *args, PyObject *kw)                               \
	{                                                                                                \
		static const pycall_def def = { kinds, names, METH_VARARGS | METH_KEYWORDS, ret, fn };   \
		return pycall_run(c, args, kw, &def);                                                    \
	}

/* Method tables of the area files, joined into Connection's. */
extern PyMethodDef records_methods[];
extern PyMethodDef query_methods[];
extern PyMethodDef batch_methods[];
extern PyMethodDef workflow_methods[];
extern PyMethodDef report_methods[];
extern PyMethodDef events_methods[];
extern PyMethodDef services_methods[];


#endif
