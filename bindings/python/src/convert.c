/* Conversion between Python objects and libcrm's values: Python to JSON
 * text for arguments and records, and typed row columns (include/crm/row.h)
 * to Python objects without JSON. The datetime C API is per translation
 * unit, so every use of it is here. */
#include "binding.h"

#include <datetime.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static PyObject *json_loads; /* json.loads, for json fields (no time conversion) */

int convert_init(void)
{
	PyDateTime_IMPORT;
	if (!PyDateTimeAPI)
		return -1;
	PyObject *json = PyImport_ImportModule("json");
	if (!json)
		return -1;
	json_loads = PyObject_GetAttrString(json, "loads");
	Py_DECREF(json);
	return json_loads ? 0 : -1;
}

int buf_put(Buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = PyMem_Realloc(b->p, cap);
		if (!p) {
			PyErr_NoMemory();
			return -1;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

void buf_free(Buf *b)
{
	PyMem_Free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

static int put_string(Buf *b, const char *s, Py_ssize_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (buf_put(b, "\"", 1) < 0)
		return -1;
	Py_ssize_t start = 0;
	for (Py_ssize_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		if (buf_put(b, s + start, (size_t)(i - start)) < 0)
			return -1;
		char esc[7] = { '\\', (char)ch, 0 };
		size_t len = 2;
		if (ch < 0x20) {
			/* \u0000 included: libcrm refuses it with its own error */
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			len = 6;
		}
		if (buf_put(b, esc, len) < 0)
			return -1;
		start = i + 1;
	}
	if (buf_put(b, s + start, (size_t)(n - start)) < 0)
		return -1;
	return buf_put(b, "\"", 1);
}

static int put_str_obj(Buf *b, PyObject *s)
{
	Py_ssize_t n;
	const char *u = PyUnicode_AsUTF8AndSize(s, &n);
	return u ? put_string(b, u, n) : -1;
}

static int put_fmt(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put_fmt(Buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	return buf_put(b, tmp, (size_t)n);
}

/* The datetime `obj` in UTC (a new reference), or NULL with an exception:
 * a naive datetime is refused, since libcrm stores instants. */
static PyObject *aware_utc(PyObject *obj)
{
	PyObject *tz = PyObject_CallMethod(obj, "utcoffset", NULL);
	if (!tz)
		return NULL;
	int naive = tz == Py_None;
	Py_DECREF(tz);
	if (naive) {
		PyErr_SetString(PyExc_ValueError, "a naive datetime has no time zone: give an aware datetime");
		return NULL;
	}
	return PyObject_CallMethod(obj, "astimezone", "O", PyDateTime_TimeZone_UTC);
}

/* An aware datetime in UTC ("YYYY-MM-DDTHH:MM:SS.mmmZ", libcrm's ms). */
static int put_datetime(Buf *b, PyObject *obj)
{
	PyObject *u = aware_utc(obj);
	if (!u)
		return -1;
	int rc = put_fmt(b, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", PyDateTime_GET_YEAR(u),
			 PyDateTime_GET_MONTH(u), PyDateTime_GET_DAY(u), PyDateTime_DATE_GET_HOUR(u),
			 PyDateTime_DATE_GET_MINUTE(u), PyDateTime_DATE_GET_SECOND(u),
			 PyDateTime_DATE_GET_MICROSECOND(u) / 1000);
	Py_DECREF(u);
	return rc;
}

static int encode(Buf *b, PyObject *obj, int depth)
{
	if (depth > 1000) {
		PyErr_SetString(PyExc_ValueError, "value nested too deeply");
		return -1;
	}
	if (obj == Py_None)
		return buf_put(b, "null", 4);
	if (obj == Py_True)
		return buf_put(b, "true", 4);
	if (obj == Py_False)
		return buf_put(b, "false", 5);
	if (PyUnicode_Check(obj))
		return put_str_obj(b, obj);
	if (PyLong_Check(obj)) {
		int overflow;
		long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
		if (!overflow)
			return v == -1 && PyErr_Occurred() ? -1 : put_fmt(b, "%lld", v);
		/* beyond 64 bits: the digits, for libcrm to refuse or round */
		PyObject *s = PyObject_Str(obj);
		if (!s)
			return -1;
		Py_ssize_t n;
		const char *u = PyUnicode_AsUTF8AndSize(s, &n);
		int rc = u ? buf_put(b, u, (size_t)n) : -1;
		Py_DECREF(s);
		return rc;
	}
	if (PyFloat_Check(obj)) {
		double d = PyFloat_AS_DOUBLE(obj);
		if (!isfinite(d))
			/* no JSON form: libcrm reads 1e999 as out of range and refuses it
			 * as the field's error (crm_batch_add_values does the same) */
			return buf_put(b, "1e999", 5);
		char *s = PyOS_double_to_string(d, 'r', 0, 0, NULL);
		if (!s)
			return -1;
		int rc = buf_put(b, s, strlen(s));
		PyMem_Free(s);
		return rc;
	}
	if (PyDict_Check(obj)) {
		PyObject *k, *v;
		Py_ssize_t pos = 0;
		int first = 1;
		if (buf_put(b, "{", 1) < 0)
			return -1;
		while (PyDict_Next(obj, &pos, &k, &v)) {
			if (!PyUnicode_Check(k)) {
				PyErr_Format(PyExc_TypeError, "keys must be str, not %.100s", Py_TYPE(k)->tp_name);
				return -1;
			}
			if ((!first && buf_put(b, ",", 1) < 0) || !text_arg(k) || put_str_obj(b, k) < 0 || buf_put(b, ":", 1) < 0 ||
			    encode(b, v, depth + 1) < 0)
				return -1;
			first = 0;
		}
		return buf_put(b, "}", 1);
	}
	if (PyList_Check(obj) || PyTuple_Check(obj)) {
		PyObject *seq = PySequence_Fast(obj, "");
		if (!seq)
			return -1;
		Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
		int rc = buf_put(b, "[", 1);
		for (Py_ssize_t i = 0; rc == 0 && i < n; i++)
			rc = (i && buf_put(b, ",", 1) < 0) ? -1 : encode(b, PySequence_Fast_GET_ITEM(seq, i), depth + 1);
		Py_DECREF(seq);
		return rc < 0 ? -1 : buf_put(b, "]", 1);
	}
	if (PyDateTime_Check(obj))
		return put_datetime(b, obj);
	if (PyDate_Check(obj))
		return put_fmt(b, "\"%04d-%02d-%02d\"", PyDateTime_GET_YEAR(obj), PyDateTime_GET_MONTH(obj),
			       PyDateTime_GET_DAY(obj));
	if (PyObject_IsInstance(obj, st.decimal) == 1) {
		/* exact: the decimal's own digits, as a string libcrm parses */
		PyObject *s = PyObject_Str(obj);
		if (!s)
			return -1;
		int rc = put_str_obj(b, s);
		Py_DECREF(s);
		return rc;
	}
	if (PyAnySet_Check(obj)) {
		/* multi_enum values may come as a set: libcrm orders them */
		PyObject *l = PySequence_List(obj);
		if (!l)
			return -1;
		int rc = encode(b, l, depth);
		Py_DECREF(l);
		return rc;
	}
	PyErr_Format(PyExc_TypeError, "libcrm cannot store a %.100s", Py_TYPE(obj)->tp_name);
	return -1;
}

int json_encode(Buf *b, PyObject *obj)
{
	b->n = 0;
	if (buf_put(b, "", 0) < 0)
		return -1;
	return encode(b, obj, 0);
}

const char *text_arg(PyObject *s)
{
	Py_ssize_t n;
	const char *u = PyUnicode_AsUTF8AndSize(s, &n);
	if (u && strlen(u) != (size_t)n) {
		/* a C string would end there and hide the rest from libcrm */
		PyErr_SetString(PyExc_ValueError, "embedded null character");
		return NULL;
	}
	return u;
}

int json_arg(Buf *b, PyObject *obj, const char **out)
{
	*out = NULL;
	if (!obj || obj == Py_None)
		return 0;
	if (PyUnicode_Check(obj)) {
		*out = text_arg(obj);
		return *out ? 0 : -1;
	}
	if (json_encode(b, obj) < 0)
		return -1;
	*out = b->p;
	return 0;
}

/* ---- a record as typed values (crm_batch_add_values) ---- */

static int values_grow(Values *v)
{
	if (v->n < v->cap)
		return 0;
	size_t cap = v->cap ? v->cap * 2 : 32;
	crm_field_value *f = PyMem_Realloc(v->f, cap * sizeof *f);
	if (!f) {
		PyErr_NoMemory();
		return -1;
	}
	v->f = f;
	v->cap = cap;
	return 0;
}

static int items_put(Values *v, const char *s)
{
	if (v->nitems == v->items_cap) {
		size_t cap = v->items_cap ? v->items_cap * 2 : 32;
		const char **p = PyMem_Realloc(v->items, cap * sizeof *p);
		if (!p) {
			PyErr_NoMemory();
			return -1;
		}
		v->items = p;
		v->items_cap = cap;
	}
	v->items[v->nitems++] = s;
	return 0;
}

/* Text kept in v->text (its buffer moves as it grows: .s is set at the end). */
static void text_value_at(crm_value *x, int kind, size_t start, size_t end)
{
	x->kind = kind;
	x->i = (int64_t)start;
	x->n = end - start;
}

/* 1 when every item is a str without U+0000 (items cross as C strings);
 * otherwise the list goes as JSON and libcrm judges it as insert() would. */
static int list_of_str(PyObject *seq)
{
	Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
		Py_ssize_t len;
		const char *u = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &len) : NULL;
		if (!u) {
			PyErr_Clear();
			return 0;
		}
		if (strlen(u) != (size_t)len)
			return 0;
	}
	return 1;
}

/* One Python value as a crm_value: what the JSON encoder would write for it,
 * handed over without the JSON (the same kinds of value, the same errors). */
static int value_of(Values *v, PyObject *obj, crm_value *x)
{
	memset(x, 0, sizeof *x);
	if (obj == Py_None) {
		x->kind = CRM_VALUE_NULL;
		return 0;
	}
	if (PyBool_Check(obj)) {
		x->kind = CRM_VALUE_BOOL;
		x->i = obj == Py_True;
		return 0;
	}
	if (PyUnicode_Check(obj)) {
		Py_ssize_t n;
		x->s = PyUnicode_AsUTF8AndSize(obj, &n);
		x->n = (size_t)n;
		x->kind = CRM_VALUE_TEXT;
		return x->s ? 0 : -1;
	}
	if (PyLong_Check(obj)) {
		int overflow;
		long long i = PyLong_AsLongLongAndOverflow(obj, &overflow);
		if (!overflow) {
			if (i == -1 && PyErr_Occurred())
				return -1;
			x->kind = CRM_VALUE_INT;
			x->i = i;
			return 0;
		}
		/* beyond 64 bits: its digits as a JSON number, as insert() sends it */
	} else if (PyFloat_Check(obj)) {
		x->kind = CRM_VALUE_REAL;
		x->d = PyFloat_AS_DOUBLE(obj);
		return 0;
	} else if (PyList_Check(obj) || PyTuple_Check(obj) || PyAnySet_Check(obj)) {
		PyObject *seq = PySequence_Fast(obj, "");
		if (!seq)
			return -1;
		int strs = list_of_str(seq);
		if (strs) {
			/* the list keeps its items alive; `keep` keeps a set's list */
			int rc = PyList_Append(v->keep, seq);
			Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
			x->kind = CRM_VALUE_LIST;
			x->i = (int64_t)v->nitems;
			x->nitems = (size_t)n;
			for (Py_ssize_t k = 0; rc == 0 && k < n; k++) {
				const char *u = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, k));
				rc = u ? items_put(v, u) : -1;
			}
			Py_DECREF(seq);
			return rc;
		}
		Py_DECREF(seq);
	}
	/* everything else as the JSON text insert() would send: a json field's
	 * object or array, decimals and dates as strings, big integers */
	size_t start = v->text.n;
	if (PyDateTime_Check(obj) || PyDate_Check(obj) || PyObject_IsInstance(obj, st.decimal) == 1) {
		if (encode(&v->text, obj, 0) < 0)
			return -1;
		/* a string: without its quotes (no escapes in these) */
		text_value_at(x, CRM_VALUE_TEXT, start + 1, v->text.n - 1);
		return 0;
	}
	if (PyErr_Occurred() || encode(&v->text, obj, 0) < 0)
		return -1;
	text_value_at(x, CRM_VALUE_JSON, start, v->text.n);
	return 0;
}

int values_of(Values *v, PyObject *record)
{
	v->n = v->nitems = v->text.n = 0;
	if (PyList_SetSlice(v->keep, 0, PY_SSIZE_T_MAX, NULL) < 0)
		return -1;
	if (!PyDict_Check(record)) {
		PyErr_Format(PyExc_TypeError, "a record is a dict, not %.100s", Py_TYPE(record)->tp_name);
		return -1;
	}
	PyObject *k, *val;
	Py_ssize_t pos = 0;
	while (PyDict_Next(record, &pos, &k, &val)) {
		if (!PyUnicode_Check(k)) {
			PyErr_Format(PyExc_TypeError, "keys must be str, not %.100s", Py_TYPE(k)->tp_name);
			return -1;
		}
		if (values_grow(v) < 0)
			return -1;
		crm_field_value *f = &v->f[v->n];
		if (!(f->name = text_arg(k)) || value_of(v, val, &f->value) < 0)
			return -1;
		v->n++;
	}
	/* the buffers are final: point into them */
	for (size_t i = 0; i < v->n; i++) {
		crm_value *x = &v->f[i].value;
		if (x->kind == CRM_VALUE_LIST) {
			x->items = v->items + x->i;
			x->i = 0;
		} else if (x->kind == CRM_VALUE_JSON || (x->kind == CRM_VALUE_TEXT && !x->s)) {
			x->s = v->text.p + x->i;
			x->i = 0;
		}
	}
	return 0;
}

int values_init(Values *v)
{
	memset(v, 0, sizeof *v);
	v->keep = PyList_New(0);
	return v->keep ? 0 : -1;
}

void values_free(Values *v)
{
	PyMem_Free(v->f);
	PyMem_Free(v->items);
	buf_free(&v->text);
	Py_XDECREF(v->keep);
	memset(v, 0, sizeof *v);
}

PyObject *json_result(char *text)
{
	if (!text)
		Py_RETURN_NONE;
	PyObject *s = PyUnicode_FromString(text);
	crm_free(text);
	if (!s)
		return NULL;
	PyObject *r = PyObject_CallOneArg(st.loads, s);
	Py_DECREF(s);
	return r;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static PyObject *date_value(int64_t ms)
{
	int y, m, d;
	civil(floor_div(ms, 86400000), &y, &m, &d);
	return PyDate_FromDate(y, m, d);
}

static PyObject *datetime_value(int64_t ms)
{
	int64_t days = floor_div(ms, 86400000), rest = ms - days * 86400000;
	int y, m, d;
	civil(days, &y, &m, &d);
	return PyDateTimeAPI->DateTime_FromDateAndTime(y, m, d, (int)(rest / 3600000), (int)(rest / 60000 % 60),
						       (int)(rest / 1000 % 60), (int)(rest % 1000) * 1000,
						       PyDateTime_TimeZone_UTC, PyDateTimeAPI->DateTimeType);
}

int to_ms(PyObject *obj, int64_t *out)
{
	if (PyLong_Check(obj)) {
		*out = PyLong_AsLongLong(obj);
		return *out == -1 && PyErr_Occurred() ? -1 : 0;
	}
	if (PyDateTime_Check(obj)) {
		PyObject *u = aware_utc(obj);
		if (!u)
			return -1;
		*out = days_from_civil(PyDateTime_GET_YEAR(u), PyDateTime_GET_MONTH(u), PyDateTime_GET_DAY(u)) *
			       86400000 +
		       PyDateTime_DATE_GET_HOUR(u) * 3600000LL + PyDateTime_DATE_GET_MINUTE(u) * 60000LL +
		       PyDateTime_DATE_GET_SECOND(u) * 1000LL + PyDateTime_DATE_GET_MICROSECOND(u) / 1000;
		Py_DECREF(u);
		return 0;
	}
	if (PyDate_Check(obj)) {
		*out = days_from_civil(PyDateTime_GET_YEAR(obj), PyDateTime_GET_MONTH(obj), PyDateTime_GET_DAY(obj)) *
		       86400000;
		return 0;
	}
	PyErr_Format(PyExc_TypeError, "a time is an int (ms since the epoch), a date or an aware datetime, not %.100s",
		     Py_TYPE(obj)->tp_name);
	return -1;
}

static PyObject *text_value(crm_row *row, int i)
{
	const char *t = crm_row_text(row, i);
	return t ? PyUnicode_DecodeUTF8(t, (Py_ssize_t)crm_row_bytes(row, i), "strict") : NULL;
}

PyObject *row_value(crm_row *row, int i)
{
	if (crm_row_is_null(row, i))
		Py_RETURN_NONE;
	switch (crm_row_column_type(row, i)) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_REF:
		return PyLong_FromLongLong(crm_row_int64(row, i));
	case CRM_TYPE_NUMBER:
		return PyFloat_FromDouble(crm_row_double(row, i));
	case CRM_TYPE_BOOLEAN:
		return PyBool_FromLong(crm_row_bool(row, i));
	case CRM_TYPE_DATE:
		return date_value(crm_row_int64(row, i));
	case CRM_TYPE_DATETIME:
		return datetime_value(crm_row_int64(row, i));
	case CRM_TYPE_DECIMAL: {
		PyObject *s = text_value(row, i);
		if (!s)
			return NULL;
		PyObject *r = PyObject_CallOneArg(st.decimal, s);
		Py_DECREF(s);
		return r;
	}
	case CRM_TYPE_MULTI_ENUM: {
		int n = crm_row_item_count(row, i);
		PyObject *l = PyList_New(n > 0 ? n : 0);
		for (int k = 0; l && k < n; k++) {
			PyObject *s = PyUnicode_FromString(crm_row_item(row, i, k));
			if (!s) {
				Py_CLEAR(l);
				break;
			}
			PyList_SET_ITEM(l, k, s);
		}
		return l;
	}
	case CRM_TYPE_JSON: {
		PyObject *s = text_value(row, i);
		if (!s)
			return NULL;
		PyObject *r = PyObject_CallOneArg(json_loads, s);
		Py_DECREF(s);
		return r;
	}
	default:
		return text_value(row, i);
	}
}

PyObject *row_names(crm_row *row)
{
	int n = crm_row_column_count(row);
	PyObject *t = PyTuple_New(n);
	for (int i = 0; t && i < n; i++) {
		PyObject *s = PyUnicode_InternFromString(crm_row_column_name(row, i));
		if (!s) {
			Py_CLEAR(t);
			break;
		}
		PyTuple_SET_ITEM(t, i, s);
	}
	return t;
}

PyObject *row_to_python(crm_row *row, PyObject *names, int as_tuple)
{
	Py_ssize_t n = PyTuple_GET_SIZE(names);
	PyObject *r = as_tuple ? PyTuple_New(n) : PyDict_New();
	for (Py_ssize_t i = 0; r && i < n; i++) {
		PyObject *v = row_value(row, (int)i);
		if (!v) {
			Py_CLEAR(r);
			break;
		}
		if (as_tuple) {
			PyTuple_SET_ITEM(r, i, v);
		} else {
			int rc = PyDict_SetItem(r, PyTuple_GET_ITEM(names, i), v);
			Py_DECREF(v);
			if (rc < 0)
				Py_CLEAR(r);
		}
	}
	return r;
}
