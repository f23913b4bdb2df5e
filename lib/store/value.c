/* JSON <-> storage representation for every field type (see value.h). The
 * same conversion serves inserts, updates, batches, filters and defaults. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "value.h"

#define FAIL(err, c, ...)                                                          \
	do {                                                                       \
		(err)->code = (c);                                                 \
		snprintf((err)->message, sizeof (err)->message, __VA_ARGS__);     \
		return -1;                                                         \
	} while (0)

static const char *const jtype_names[] = { "null", "false", "true", "a number", "a string", "an array", "an object" };

static void set_text(crm__value *out, const char *s, size_t n)
{
	out->kind = CRM__V_TEXT;
	out->s = s;
	out->n = n;
}

static void set_int(crm__value *out, int64_t i)
{
	out->kind = CRM__V_INT;
	out->i = i;
}

/* An integer standing for field f's decimal, datetime or boolean. */
static void set_natural(crm__value *out, const crm__field *f, int64_t i)
{
	set_int(out, i);
	out->nat = (unsigned char)crm__natural_of(f->value_type);
	out->scale = (unsigned char)f->scale;
}

static int option_index(const crm__field *f, const char *s, size_t n)
{
	for (size_t i = 0; i < f->noptions; i++)
		if (strncmp(f->options[i], s, n) == 0 && f->options[i][n] == 0)
			return (int)i;
	return -1;
}

static int is_phone(const char *s, size_t n)
{
	int digits = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9')
			digits++;
		else if (!(c == '+' && i == 0) && c != ' ' && c != '-' && c != '(' && c != ')' && c != '.')
			return 0;
	}
	return digits >= 3 && digits <= 20;
}

/* A multi-enum value: an array of distinct options, stored in option order
 * so equal sets are equal texts. */
static int multi_enum_from_json(crm__value *out, const crm__field *f, const crm__jval *v, crm__buf *scratch,
				int max_depth, crm__verr *err)
{
	unsigned char seen[256] = { 0 };
	size_t mark = scratch->len, count = 0, start;
	crm__jscan sc;
	crm__jval el;
	int r, idx;

	if (f->noptions > sizeof seen)
		FAIL(err, "option", "too many options");
	if (crm__jscan_init(&sc, v->p, v->n, max_depth, scratch))
		FAIL(err, "memory", "out of memory");
	while ((r = crm__jscan_element(&sc, &el)) == 1) {
		if (el.type != CRM__J_STRING)
			FAIL(err, "type", "%s must be an array of strings", f->name);
		if ((idx = option_index(f, el.p, el.n)) < 0)
			FAIL(err, "option", "'%.*s' is not an option of %s", (int)(el.n > 60 ? 60 : el.n), el.p, f->name);
		if (seen[idx])
			FAIL(err, "duplicate", "'%s' is listed twice in %s", f->options[idx], f->name);
		seen[idx] = 1;
		count++;
	}
	if (r < 0)
		FAIL(err, "format", "%s: %s", f->name, sc.err);
	scratch->len = mark; /* decoded elements are no longer needed */
	if (count == 0) {
		out->kind = CRM__V_NULL;
		return 0;
	}
	start = scratch->len;
	crm__buf_putc(scratch, '[');
	for (size_t i = 0, written = 0; i < f->noptions; i++) {
		if (!seen[i])
			continue;
		if (written++)
			crm__buf_putc(scratch, ',');
		crm__json_cstr(scratch, f->options[i]);
	}
	crm__buf_putc(scratch, ']');
	if (scratch->oom)
		FAIL(err, "memory", "out of memory");
	set_text(out, scratch->p + start, scratch->len - start);
	return 0;
}

static int json_from_json(crm__value *out, const crm__jval *v, crm__buf *scratch)
{
	size_t start = scratch->len;

	switch (v->type) {
	case CRM__J_NULL: out->kind = CRM__V_NULL; return 0;
	case CRM__J_TRUE: set_text(out, "true", 4); return 0;
	case CRM__J_FALSE: set_text(out, "false", 5); return 0;
	case CRM__J_STRING:
		crm__json_str(scratch, v->p, v->n);
		if (scratch->oom)
			return -1;
		set_text(out, scratch->p + start, scratch->len - start);
		return 0;
	default: set_text(out, v->p, v->n); return 0; /* numbers, arrays, objects: validated text as given */
	}
}

/* U+0000 anywhere in the value: raw in a (decoded) string, escaped in the
 * text of an array or object. No text may hold it (docs/decisions.md). */
static int holds_nul(const crm__jval *v)
{
	if (v->type == CRM__J_STRING)
		return memchr(v->p, 0, v->n) != NULL;
	return (v->type == CRM__J_ARRAY || v->type == CRM__J_OBJECT) && crm__json_has_nul(v->p, v->n, NULL);
}

/* A number field's value (its own function: the others need no buffer). */
static int number_from_json(crm__value *out, const crm__field *f, const crm__jval *v, crm__verr *err)
{
	char num[64];

	if (v->type != CRM__J_NUMBER || v->n >= sizeof num)
		FAIL(err, "type", "%s must be a number", f->name);
	memcpy(num, v->p, v->n);
	num[v->n] = 0;
	out->kind = CRM__V_REAL;
	out->d = strtod(num, NULL);
	if (!isfinite(out->d))
		FAIL(err, "range", "%s is out of range", f->name);
	return 0;
}

int crm__value_from_json(crm__value *out, const crm__field *f, const crm__jval *v, crm__buf *scratch,
			 int max_depth, crm__verr *err)
{
	crm_type t = f->type;
	int64_t i;
	int ascii;

	memset(out, 0, sizeof *out);
	if (t == CRM_TYPE_COMPUTED)
		FAIL(err, "readonly", "%s is computed and cannot be set", f->name);
	if (t == CRM_TYPE_ROLLUP)
		FAIL(err, "readonly", "%s is a rollup (kept by libcrm) and cannot be set", f->name);
	if (v->type == CRM__J_NULL)
		return 0;
	/* Most strings are ASCII without NUL: one pass instead of the two
	 * checks below, which still judge every other string. */
	ascii = v->type == CRM__J_STRING && crm__ascii_text(v->p, v->n);
	if (!ascii && holds_nul(v))
		FAIL(err, "nul", "%s contains U+0000 (\\u0000), which no text may hold", f->name);
	if (t == CRM_TYPE_JSON) {
		if (json_from_json(out, v, scratch))
			FAIL(err, "memory", "out of memory");
		return 0;
	}
	if (t == CRM_TYPE_MULTI_ENUM) {
		if (v->type != CRM__J_ARRAY)
			FAIL(err, "type", "%s must be an array of options, not %s", f->name, jtype_names[v->type]);
		return multi_enum_from_json(out, f, v, scratch, max_depth, err);
	}
	if (f->storage == CRM__S_TEXT || t == CRM_TYPE_DATETIME) {
		if (v->type != CRM__J_STRING)
			FAIL(err, "type", "%s must be a string, not %s", f->name, jtype_names[v->type]);
		if (v->n == 0)
			return 0; /* an empty string means no value */
		if (!ascii && crm__utf8_length(v->p, v->n) < 0)
			FAIL(err, "format", "%s is not valid UTF-8", f->name);
	}
	switch (t) {
	case CRM_TYPE_TEXT:
	case CRM_TYPE_LONG_TEXT: break;
	case CRM_TYPE_EMAIL:
		if (!crm__email_valid(v->p, v->n))
			FAIL(err, "format", "%s is not an email address", f->name);
		break;
	case CRM_TYPE_PHONE:
		if (!is_phone(v->p, v->n))
			FAIL(err, "format", "%s is not a phone number", f->name);
		break;
	case CRM_TYPE_URL:
		if (!crm__url_valid(v->p, v->n))
			FAIL(err, "format", "%s is not an http(s) URL", f->name);
		break;
	case CRM_TYPE_ENUM:
		if (option_index(f, v->p, v->n) < 0)
			FAIL(err, "option", "'%.*s' is not an option of %s", (int)(v->n > 60 ? 60 : v->n), v->p, f->name);
		break;
	case CRM_TYPE_DATE:
		if (crm__date_parse(v->p, v->n, &i))
			FAIL(err, "format", "%s must be a date YYYY-MM-DD", f->name);
		break;
	case CRM_TYPE_DATETIME:
		if (crm__datetime_parse(v->p, v->n, &i))
			FAIL(err, "format", "%s must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T09:30:00Z",
			     f->name);
		set_natural(out, f, i);
		return 0;
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_REF:
		if (v->type != CRM__J_NUMBER || crm__int_parse(v->p, v->n, &i))
			FAIL(err, "type", "%s must be an integer", f->name);
		if (t == CRM_TYPE_REF && i <= 0)
			FAIL(err, "ref", "%s must be a record id (a positive integer)", f->name);
		set_int(out, i);
		return 0;
	case CRM_TYPE_DECIMAL:
		if (v->type != CRM__J_NUMBER && v->type != CRM__J_STRING)
			FAIL(err, "type", "%s must be a decimal number", f->name);
		if (crm__decimal_parse(v->p, v->n, f->scale, &i))
			FAIL(err, "format", "%s must be a decimal with at most %d fraction digits", f->name, f->scale);
		set_natural(out, f, i);
		return 0;
	case CRM_TYPE_NUMBER: return number_from_json(out, f, v, err);
	case CRM_TYPE_BOOLEAN:
		if (v->type != CRM__J_TRUE && v->type != CRM__J_FALSE)
			FAIL(err, "type", "%s must be true or false", f->name);
		set_natural(out, f, v->type == CRM__J_TRUE);
		return 0;
	default: FAIL(err, "type", "%s has an unsupported type", f->name);
	}
	set_text(out, v->p, v->n);
	return 0;
}

int crm__value_bind(crm__stmt *st, int idx, const crm__value *v)
{
	switch (v->kind) {
	case CRM__V_INT:
		if (v->nat)
			return crm__bind_as(st, idx, (enum crm__natural)v->nat, v->scale, v->i);
		return crm__bind_int64(st, idx, v->i);
	case CRM__V_REAL: return crm__bind_double(st, idx, v->d);
	case CRM__V_TEXT: return crm__bind_text(st, idx, v->s, (int)v->n);
	default: return crm__bind_null(st, idx);
	}
}

void crm__value_column(crm__value *out, const crm__field *f, crm__stmt *st, int col)
{
	int ct = crm__column_type(st, col);

	if (ct == CRM__SQL_NULL) {
		out->kind = CRM__V_NULL;
		return;
	}
	switch (crm__storage_of(f->value_type)) {
	case CRM__S_INTEGER:
		out->kind = CRM__V_INT;
		out->nat = (unsigned char)crm__natural_of(f->value_type);
		out->scale = (unsigned char)f->scale;
		out->i = out->nat ? crm__column_as(st, col, (enum crm__natural)out->nat, f->scale)
				  : crm__column_int64(st, col);
		break;
	case CRM__S_REAL:
		out->kind = CRM__V_REAL;
		out->d = crm__column_double(st, col);
		break;
	default:
		out->kind = CRM__V_TEXT;
		out->s = crm__column_text(st, col);
		out->n = (size_t)crm__column_bytes(st, col);
		if (!out->s) {
			out->s = "";
			out->n = 0;
		}
	}
}

void crm__value_write_json(crm__buf *out, crm_type type, int scale, const crm__value *v)
{
	char tmp[32];

	if (v->kind == CRM__V_NULL) {
		crm__buf_put(out, "null", 4);
		return;
	}
	switch (type) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_REF: crm__buf_i64(out, v->i); return;
	case CRM_TYPE_DECIMAL: crm__buf_put(out, tmp, crm__decimal_format(v->i, scale, tmp)); return;
	case CRM_TYPE_NUMBER: crm__json_double(out, v->kind == CRM__V_REAL ? v->d : (double)v->i); return;
	case CRM_TYPE_BOOLEAN: crm__buf_puts(out, v->i ? "true" : "false"); return;
	case CRM_TYPE_DATETIME:
		crm__buf_putc(out, '"');
		crm__buf_put(out, tmp, crm__datetime_format(v->i, tmp));
		crm__buf_putc(out, '"');
		return;
	case CRM_TYPE_MULTI_ENUM:
	case CRM_TYPE_JSON: crm__buf_put(out, v->s, v->n); return;
	default: crm__json_str(out, v->s, v->n);
	}
}

int crm__value_compare(const crm__value *a, const crm__value *b)
{
	if (a->kind == CRM__V_TEXT || b->kind == CRM__V_TEXT) {
		size_t n;
		int c;

		/* SQLite orders numbers before text. */
		if (a->kind != b->kind)
			return a->kind == CRM__V_TEXT ? 1 : -1;
		n = a->n < b->n ? a->n : b->n;
		c = memcmp(a->s, b->s, n);
		return c ? c : (a->n > b->n) - (a->n < b->n);
	}
	if (a->kind == CRM__V_INT && b->kind == CRM__V_INT)
		return (a->i > b->i) - (a->i < b->i);
	{
		double x = a->kind == CRM__V_INT ? (double)a->i : a->d;
		double y = b->kind == CRM__V_INT ? (double)b->i : b->d;
		return (x > y) - (x < y);
	}
}

int crm__jval_from_cjson(crm__jval *out, const cJSON *node, crm__buf *scratch)
{
	size_t start = scratch->len;
	char *printed;

	out->p = NULL;
	out->n = 0;
	if (cJSON_IsNull(node))
		out->type = CRM__J_NULL;
	else if (cJSON_IsTrue(node))
		out->type = CRM__J_TRUE;
	else if (cJSON_IsFalse(node))
		out->type = CRM__J_FALSE;
	else if (cJSON_IsString(node)) {
		out->type = CRM__J_STRING;
		out->p = node->valuestring;
		out->n = strlen(node->valuestring);
	} else if (cJSON_IsNumber(node)) {
		out->type = CRM__J_NUMBER;
		crm__json_double(scratch, node->valuedouble);
	} else {
		out->type = cJSON_IsArray(node) ? CRM__J_ARRAY : CRM__J_OBJECT;
		printed = cJSON_PrintUnformatted(node);
		if (!printed)
			return -1;
		crm__buf_puts(scratch, printed);
		cJSON_free(printed);
	}
	if (scratch->oom)
		return -1;
	if (out->type == CRM__J_NUMBER || out->type == CRM__J_ARRAY || out->type == CRM__J_OBJECT) {
		out->p = scratch->p + start;
		out->n = scratch->len - start;
	}
	return 0;
}

int crm__value_same(const crm__value *a, const crm__value *b)
{
	if (a->kind != b->kind)
		return 0;
	return a->kind == CRM__V_NULL || crm__value_compare(a, b) == 0;
}
