/* Parsing the JSON filter language into a checked AST (filter.h): every
 * field resolved against the compiled form, every operator checked against
 * the field's type and every literal converted to storage representation,
 * so the SQL compiler and the in-memory evaluator never see bad input. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "filter.h"
#include "value.h"

#define FILTER_MAX_DEPTH 32
#define FILTER_MAX_NODES 1000
#define FILTER_MAX_IN 1000
/* Every literal becomes one SQL parameter (starts_with two); this keeps a
 * compiled filter well below SQLite's limit of 32766 parameters. */
#define FILTER_MAX_VALUES 10000
#define PARAM_MAX_LEN 64

/* What a column can be asked: operator rules follow the value's class. */
typedef enum col_class {
	CLS_TEXT,    /* text, long_text, email, phone, url, owner */
	CLS_ORDERED, /* integer, decimal, number, date, datetime, ref, id, version, times */
	CLS_BOOL,
	CLS_ENUM,
	CLS_MULTI,
	CLS_JSON
} col_class;

typedef struct parser {
	crm_db *db;
	const crm__form *form;
	int flags; /* CRM__FILTER_* */
	int nodes, nvalues;
	crm__buf path;    /* "filter.and[1]" while descending */
	crm__buf scratch; /* crm__value_from_json's scratch space */
	int failed;
} parser;

static const struct {
	const char *name;
	crm__fop op;
} op_names[] = {
	{ "eq", CRM__FOP_EQ },       { "=", CRM__FOP_EQ },         { "ne", CRM__FOP_NE },
	{ "!=", CRM__FOP_NE },       { "lt", CRM__FOP_LT },        { "<", CRM__FOP_LT },
	{ "le", CRM__FOP_LE },       { "<=", CRM__FOP_LE },        { "gt", CRM__FOP_GT },
	{ ">", CRM__FOP_GT },        { "ge", CRM__FOP_GE },        { ">=", CRM__FOP_GE },
	{ "in", CRM__FOP_IN },       { "contains", CRM__FOP_CONTAINS },
	{ "starts_with", CRM__FOP_STARTS_WITH },                   { "is_null", CRM__FOP_IS_NULL },
	{ "between", CRM__FOP_BETWEEN },                           { "visible", CRM__FOP_VISIBLE },
};

static const char *op_name(crm__fop op)
{
	for (size_t i = 0; i < sizeof op_names / sizeof *op_names; i++)
		if (op_names[i].op == op && op_names[i].name[0] >= 'a')
			return op_names[i].name;
	return "?";
}

/* ---- errors: message prefixed by the path, detail carries it too ---- */

static void fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(parser *p, const char *fmt, ...)
{
	char msg[600];
	crm__buf members = CRM__BUF_INIT;
	const char *path;
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	path = crm__buf_cstr(&p->path);
	crm__buf_puts(&members, "\"path\":");
	crm__json_cstr(&members, path);
	if (p->path.oom || members.oom)
		crm__error_oom(p->db);
	else
		crm__error_detail(p->db, CRM_EINVAL, crm__buf_cstr(&members), "%s: %s", path, msg);
	crm__buf_free(&members);
}

static void oom(parser *p)
{
	if (!p->failed)
		crm__error_oom(p->db);
	p->failed = 1;
}

/* Path segments are pushed before descending and popped by length. */
static size_t path_push(parser *p, const char *seg)
{
	size_t mark = p->path.len;

	crm__buf_puts(&p->path, seg);
	return mark;
}

static size_t path_index(parser *p, const char *key, int i)
{
	size_t mark = p->path.len;

	crm__buf_printf(&p->path, ".%s[%d]", key, i);
	return mark;
}

static void path_pop(parser *p, size_t mark) { p->path.len = mark; }

/* ---- columns ---- */

static col_class class_of_type(crm_type t)
{
	switch (t) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_DECIMAL:
	case CRM_TYPE_NUMBER:
	case CRM_TYPE_DATE:
	case CRM_TYPE_DATETIME:
	case CRM_TYPE_REF: return CLS_ORDERED;
	case CRM_TYPE_BOOLEAN: return CLS_BOOL;
	case CRM_TYPE_ENUM: return CLS_ENUM;
	case CRM_TYPE_MULTI_ENUM: return CLS_MULTI;
	case CRM_TYPE_JSON: return CLS_JSON;
	default: return CLS_TEXT;
	}
}

static col_class class_of_column(const crm__form *form, int column)
{
	if (column >= 0)
		return class_of_type(form->fields[column].value_type);
	return column == CRM__COL_OWNER ? CLS_TEXT : CLS_ORDERED;
}

static int resolve_column(const crm__form *form, const char *name)
{
	static const int sys[5] = { CRM__COL_ID, CRM__COL_CREATED_AT, CRM__COL_UPDATED_AT, CRM__COL_OWNER,
				    CRM__COL_VERSION };
	const crm__field *f;

	for (int i = 0; i < 5; i++)
		if (strcmp(name, crm__system_columns[i]) == 0)
			return sys[i];
	f = *name ? crm__form_field(form, name, strlen(name)) : NULL;
	return f ? f->position : INT32_MIN;
}

static const char *column_name(const crm__form *form, int column)
{
	return column >= 0 ? form->fields[column].name : crm__system_columns[-column - 1];
}

static int op_allowed(crm__fop op, col_class cls)
{
	switch (op) {
	case CRM__FOP_IS_NULL: return 1;
	case CRM__FOP_EQ:
	case CRM__FOP_NE: return cls != CLS_JSON;
	case CRM__FOP_IN: return cls != CLS_JSON && cls != CLS_MULTI;
	case CRM__FOP_LT:
	case CRM__FOP_LE:
	case CRM__FOP_GT:
	case CRM__FOP_GE:
	case CRM__FOP_BETWEEN: return cls == CLS_TEXT || cls == CLS_ORDERED;
	case CRM__FOP_CONTAINS: return cls == CLS_TEXT || cls == CLS_MULTI;
	case CRM__FOP_STARTS_WITH: return cls == CLS_TEXT;
	default: return 0;
	}
}

/* ---- literals ---- */

/* The text of a JSON number as crm__value_from_json expects it: integral
 * values as plain digits (decimal and integer parsers stay exact), others
 * as the shortest text that reads back as the same double. */
static void number_text(double d, char *out, size_t size)
{
	if (d == floor(d) && fabs(d) < 9.2e18) {
		snprintf(out, size, "%lld", (long long)d);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, size, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
}

static const char *json_type_name(const cJSON *v)
{
	if (!v)
		return "nothing";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	return "an object";
}

/* Text literals keep their bytes in node->strings; while the node is being
 * built the buffer may move, so a text value holds its offset in `i` and
 * fix_strings turns offsets into pointers once the node is complete. */
static int keep_text(parser *p, crm__filter *node, crm__value *out, const char *s, size_t n)
{
	size_t off = node->strings.len;

	crm__buf_put(&node->strings, s, n);
	if (node->strings.oom) {
		oom(p);
		return -1;
	}
	out->kind = CRM__V_TEXT;
	out->i = (int64_t)off;
	out->n = n;
	out->s = NULL;
	return 0;
}

static void fix_strings(crm__filter *node)
{
	for (int i = 0; i < node->nvalues; i++)
		if (node->values[i].kind == CRM__V_TEXT) {
			node->values[i].s = node->strings.p + node->values[i].i;
			node->values[i].i = 0;
		}
}

/* A plain JSON string, used as is: contains / starts_with / ordering on
 * text, where a partial value need not be a valid stored value. */
static int raw_string(parser *p, crm__filter *node, const cJSON *v, crm__value *out)
{
	size_t n;

	if (!cJSON_IsString(v)) {
		fail(p, "'%s' on '%s' needs a string, not %s", op_name(node->op),
		     column_name(p->form, node->column), json_type_name(v));
		return -1;
	}
	n = strlen(v->valuestring);
	if (crm__utf8_length(v->valuestring, n) < 0) {
		fail(p, "the string is not valid UTF-8");
		return -1;
	}
	if ((int64_t)n > p->db->limits[CRM_LIMIT_VALUE_LENGTH]) {
		fail(p, "the string is longer than the value length limit (%lld bytes)",
		     (long long)p->db->limits[CRM_LIMIT_VALUE_LENGTH]);
		return -1;
	}
	return keep_text(p, node, out, v->valuestring, n);
}

/* A literal for a system column, converted here since system columns have
 * no field definition. */
static int system_literal(parser *p, crm__filter *node, const cJSON *v, crm__value *out)
{
	int column = node->column;

	memset(out, 0, sizeof *out);
	if (cJSON_IsNull(v))
		return 0;
	if (column == CRM__COL_OWNER) {
		if (!cJSON_IsString(v)) {
			fail(p, "'owner' takes a string, not %s", json_type_name(v));
			return -1;
		}
		/* As for text fields, an empty string means no value. */
		if (!v->valuestring[0])
			return 0;
		return raw_string(p, node, v, out);
	}
	if (column == CRM__COL_CREATED_AT || column == CRM__COL_UPDATED_AT) {
		if (!cJSON_IsString(v) ||
		    crm__datetime_parse(v->valuestring, strlen(v->valuestring), &out->i) != 0) {
			fail(p, "'%s' takes an ISO 8601 date-time with a zone (\"2026-01-02T03:04:05Z\")",
			     column_name(p->form, column));
			return -1;
		}
		out->kind = CRM__V_INT;
		return 0;
	}
	/* id, version */
	if (cJSON_IsNumber(v)) {
		char text[40];

		number_text(v->valuedouble, text, sizeof text);
		if (crm__int_parse(text, strlen(text), &out->i) == 0) {
			out->kind = CRM__V_INT;
			return 0;
		}
	}
	fail(p, "'%s' takes an integer, not %s", column_name(p->form, column), json_type_name(v));
	return -1;
}

/* A literal for a form field, through the same conversion every write
 * uses, so a filter compares like with like. */
static int field_literal(parser *p, crm__filter *node, const cJSON *v, crm__value *out)
{
	crm__field f = p->form->fields[node->column];
	crm__jval jv;
	crm__verr err;
	char num[40];
	char *printed = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&err, 0, sizeof err);
	/* the same view of the value the record scanner gives (json_scan.h) */
	jv.p = num;
	if (cJSON_IsNull(v)) {
		jv.type = CRM__J_NULL;
		jv.p = "null";
	} else if (cJSON_IsBool(v)) {
		jv.type = cJSON_IsTrue(v) ? CRM__J_TRUE : CRM__J_FALSE;
		jv.p = cJSON_IsTrue(v) ? "true" : "false";
	} else if (cJSON_IsNumber(v)) {
		jv.type = CRM__J_NUMBER;
		number_text(v->valuedouble, num, sizeof num);
	} else if (cJSON_IsString(v)) {
		jv.type = CRM__J_STRING;
		jv.p = v->valuestring;
		if (crm__utf8_length(jv.p, strlen(jv.p)) < 0) {
			fail(p, "the string is not valid UTF-8");
			return -1;
		}
	} else {
		printed = cJSON_PrintUnformatted(v);
		if (!printed) {
			oom(p);
			return -1;
		}
		jv.type = cJSON_IsArray(v) ? CRM__J_ARRAY : CRM__J_OBJECT;
		jv.p = printed;
	}
	jv.n = strlen(jv.p);
	crm__buf_reset(&p->scratch);
	if (crm__buf_reserve(&p->scratch, 3 * jv.n + 8)) {
		cJSON_free(printed);
		oom(p);
		return -1;
	}
	/* A computed field is read-only for writes, but a filter compares its
	 * stored result like a field of its value type. */
	f.type = f.value_type;
	rc = crm__value_from_json(out, &f, &jv, &p->scratch, (int)p->db->limits[CRM_LIMIT_JSON_DEPTH], &err);
	if (rc != 0)
		fail(p, "%s", err.message[0] ? err.message : "wrong type of value");
	else if (out->kind == CRM__V_TEXT)
		rc = keep_text(p, node, out, out->s, out->n);
	cJSON_free(printed);
	return rc;
}

static int literal(parser *p, crm__filter *node, const cJSON *v, crm__value *out)
{
	if (++p->nvalues > FILTER_MAX_VALUES) {
		fail(p, "the filter has more than %d values", FILTER_MAX_VALUES);
		return -1;
	}
	if (node->column < 0)
		return system_literal(p, node, v, out);
	return field_literal(p, node, v, out);
}

/* The literal of an ordering operator (lt..ge, between): text-like columns
 * take any string, so a bound need not be a valid stored value. */
static int bound_literal(parser *p, crm__filter *node, const cJSON *v, crm__value *out)
{
	if (cJSON_IsNull(v)) {
		fail(p, "'%s' cannot compare with null (use is_null)", op_name(node->op));
		return -1;
	}
	if (class_of_column(p->form, node->column) == CLS_TEXT && node->column != CRM__COL_OWNER) {
		if (++p->nvalues > FILTER_MAX_VALUES) {
			fail(p, "the filter has more than %d values", FILTER_MAX_VALUES);
			return -1;
		}
		return raw_string(p, node, v, out);
	}
	if (literal(p, node, v, out))
		return -1;
	if (out->kind == CRM__V_NULL) {
		fail(p, "'%s' cannot compare with an empty value (use is_null)", op_name(node->op));
		return -1;
	}
	return 0;
}

static int alloc_values(parser *p, crm__filter *node, int n)
{
	node->values = crm__calloc((size_t)n, sizeof *node->values);
	if (!node->values) {
		oom(p);
		return -1;
	}
	node->nvalues = n;
	return 0;
}

static int option_index(const crm__field *f, const char *s)
{
	for (size_t i = 0; i < f->noptions; i++)
		if (strcmp(f->options[i], s) == 0)
			return (int)i;
	return -1;
}

/* The operand of a condition, by operator. */
static int parse_value(parser *p, crm__filter *node, const cJSON *v)
{
	size_t mark = path_push(p, ".value");
	col_class cls = class_of_column(p->form, node->column);
	int rc = -1;

	switch (node->op) {
	case CRM__FOP_IS_NULL:
		if (alloc_values(p, node, 1))
			break;
		node->values[0].kind = CRM__V_INT;
		if (!v)
			node->values[0].i = 1;
		else if (cJSON_IsBool(v))
			node->values[0].i = cJSON_IsTrue(v);
		else {
			fail(p, "'is_null' takes true or false, not %s", json_type_name(v));
			break;
		}
		rc = 0;
		break;
	case CRM__FOP_EQ:
	case CRM__FOP_NE:
		if (alloc_values(p, node, 1) || literal(p, node, v, &node->values[0]))
			break;
		/* Equality with no value is a null test: eq null = is_null. */
		if (node->values[0].kind == CRM__V_NULL) {
			node->values[0].kind = CRM__V_INT;
			node->values[0].i = node->op == CRM__FOP_EQ;
			node->op = CRM__FOP_IS_NULL;
		}
		rc = 0;
		break;
	case CRM__FOP_LT:
	case CRM__FOP_LE:
	case CRM__FOP_GT:
	case CRM__FOP_GE:
		if (alloc_values(p, node, 1) || bound_literal(p, node, v, &node->values[0]))
			break;
		rc = 0;
		break;
	case CRM__FOP_BETWEEN: {
		int n = cJSON_GetArraySize(v);
		if (!cJSON_IsArray(v) || n != 2) {
			fail(p, "'between' takes an array of two values [low, high]");
			break;
		}
		if (alloc_values(p, node, 2))
			break;
		rc = 0;
		for (int i = 0; i < 2 && rc == 0; i++) {
			size_t m = p->path.len;
			crm__buf_printf(&p->path, "[%d]", i);
			rc = bound_literal(p, node, cJSON_GetArrayItem(v, i), &node->values[i]);
			path_pop(p, m);
		}
		break;
	}
	case CRM__FOP_IN: {
		const cJSON *el;
		int n = cJSON_GetArraySize(v), i = 0;
		if (!cJSON_IsArray(v) || n == 0) {
			fail(p, "'in' takes a non-empty array of values");
			break;
		}
		if (n > FILTER_MAX_IN) {
			fail(p, "'in' takes at most %d values (got %d)", FILTER_MAX_IN, n);
			break;
		}
		if (alloc_values(p, node, n))
			break;
		rc = 0;
		cJSON_ArrayForEach(el, v)
		{
			size_t m = p->path.len;
			crm__buf_printf(&p->path, "[%d]", i);
			rc = literal(p, node, el, &node->values[i]);
			if (rc == 0 && node->values[i].kind == CRM__V_NULL) {
				fail(p, "'in' cannot match an empty value (use is_null)");
				rc = -1;
			}
			path_pop(p, m);
			if (rc)
				break;
			i++;
		}
		break;
	}
	case CRM__FOP_CONTAINS:
		if (alloc_values(p, node, 1))
			break;
		if (cls == CLS_MULTI) {
			const crm__field *f = &p->form->fields[node->column];
			if (!cJSON_IsString(v) || option_index(f, v->valuestring) < 0) {
				fail(p, "'contains' on '%s' takes one of its options", f->name);
				break;
			}
		}
		p->nvalues++;
		rc = raw_string(p, node, v, &node->values[0]);
		break;
	case CRM__FOP_STARTS_WITH:
		if (alloc_values(p, node, 1))
			break;
		p->nvalues += 2; /* bound twice */
		rc = raw_string(p, node, v, &node->values[0]);
		break;
	default:
		break;
	}
	if (rc == 0)
		fix_strings(node);
	if (p->nvalues > FILTER_MAX_VALUES && rc == 0) {
		fail(p, "the filter has more than %d values", FILTER_MAX_VALUES);
		rc = -1;
	}
	path_pop(p, mark);
	return rc;
}

static int valid_param_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PARAM_MAX_LEN || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

/* {"field": REF, "op": "visible"}: nothing else; resolved by lib/access. */
static int visible_condition(parser *p, crm__filter *node, int has_operand)
{
	size_t mark;

	if (node->column < 0 || p->form->fields[node->column].type != CRM_TYPE_REF) {
		mark = path_push(p, ".op");
		fail(p, "'visible' applies to ref fields, not '%s'", column_name(p->form, node->column));
		path_pop(p, mark);
		return -1;
	}
	if (has_operand) {
		fail(p, "'visible' takes no value");
		return -1;
	}
	return 0;
}

/* "actor": NAME instead of a value, in a permission rule checked at apply
 * time: the value comes from the actor when the rule is used (lib/access
 * then parses the rule again with the value in place). */
static int actor_operand(parser *p, crm__filter *node, const cJSON *actor, int has_operand)
{
	size_t mark = path_push(p, ".actor");
	int rc = -1;

	if (has_operand)
		fail(p, "give either 'value' or 'actor', not both");
	else if (node->op == CRM__FOP_BETWEEN || node->op == CRM__FOP_IS_NULL)
		fail(p, "operator '%s' cannot take an actor value", op_name(node->op));
	else if (!cJSON_IsString(actor) || !valid_param_name(actor->valuestring))
		fail(p, "'actor' names the user, the roles or an attribute: 1 to %d letters, digits or '_'",
		     PARAM_MAX_LEN);
	else
		rc = 0;
	if (rc == 0)
		path_pop(p, mark);
	return rc;
}

/* {"field": NAME, "op": OP, "value": V} or with "param" instead of value. */
static int parse_condition(parser *p, crm__filter *node, const cJSON *obj)
{
	const cJSON *field = NULL, *op = NULL, *value = NULL, *param = NULL, *actor = NULL, *m;
	size_t mark;
	int found = 0;

	cJSON_ArrayForEach(m, obj)
	{
		const cJSON **slot = NULL;
		if (strcmp(m->string, "field") == 0)
			slot = &field;
		else if (strcmp(m->string, "actor") == 0 && (p->flags & CRM__FILTER_ACTOR))
			slot = &actor;
		else if (strcmp(m->string, "op") == 0)
			slot = &op;
		else if (strcmp(m->string, "value") == 0)
			slot = &value;
		else if (strcmp(m->string, "param") == 0)
			slot = &param;
		if (!slot) {
			fail(p, "unknown key '%.64s' in a condition (expected field, op, value%s%s)", m->string,
			     p->flags & CRM__FILTER_PARAMS ? ", param" : "", p->flags & CRM__FILTER_ACTOR ? ", actor" : "");
			return -1;
		}
		if (*slot) {
			fail(p, "key '%s' appears twice", m->string);
			return -1;
		}
		*slot = m;
	}
	mark = path_push(p, ".field");
	if (!field || !cJSON_IsString(field)) {
		fail(p, field ? "'field' must be a string" : "a condition needs a 'field'");
		return -1;
	}
	node->column = resolve_column(p->form, field->valuestring);
	if (node->column == INT32_MIN) {
		fail(p, "unknown field '%.100s' in form '%s'", field->valuestring, p->form->name);
		return -1;
	}
	path_pop(p, mark);

	mark = path_push(p, ".op");
	if (!op || !cJSON_IsString(op)) {
		fail(p, op ? "'op' must be a string" : "a condition needs an 'op'");
		return -1;
	}
	for (size_t i = 0; i < sizeof op_names / sizeof *op_names; i++)
		if (strcmp(op->valuestring, op_names[i].name) == 0 &&
		    (op_names[i].op != CRM__FOP_VISIBLE || (p->flags & CRM__FILTER_VISIBLE))) {
			node->op = op_names[i].op;
			found = 1;
			break;
		}
	if (!found) {
		fail(p, "unknown operator '%.32s' (expected eq, ne, lt, le, gt, ge, in, contains, starts_with, "
			"is_null or between)",
		     op->valuestring);
		return -1;
	}
	if (node->op == CRM__FOP_VISIBLE)
		return visible_condition(p, node, value || param || actor);
	if (!op_allowed(node->op, class_of_column(p->form, node->column))) {
		int col = node->column;
		fail(p, "operator '%s' does not apply to '%s' (%s)", op_name(node->op), column_name(p->form, col),
		     col >= 0 ? crm__type_name(p->form->fields[col].value_type)
			      : col == CRM__COL_OWNER ? "text" : "system column");
		return -1;
	}
	path_pop(p, mark);

	if (actor)
		return actor_operand(p, node, actor, value || param);
	if (param) {
		mark = path_push(p, ".param");
		if (!(p->flags & CRM__FILTER_PARAMS)) {
			fail(p, "named parameters are not allowed here; give a 'value'");
			return -1;
		}
		if (value) {
			fail(p, "give either 'value' or 'param', not both");
			return -1;
		}
		switch (node->op) {
		case CRM__FOP_IN:
		case CRM__FOP_BETWEEN:
		case CRM__FOP_IS_NULL:
			fail(p, "operator '%s' cannot take a parameter", op_name(node->op));
			return -1;
		default: break;
		}
		if (!cJSON_IsString(param) || !valid_param_name(param->valuestring)) {
			fail(p, "a parameter name is 1 to %d letters, digits or '_'", PARAM_MAX_LEN);
			return -1;
		}
		node->param = crm__strdup(param->valuestring);
		if (!node->param) {
			oom(p);
			return -1;
		}
		p->nvalues += node->op == CRM__FOP_STARTS_WITH ? 2 : 1;
		path_pop(p, mark);
		return 0;
	}
	if (!value && node->op != CRM__FOP_IS_NULL) {
		mark = path_push(p, ".value");
		fail(p, "operator '%s' needs a 'value'", op_name(node->op));
		return -1;
	}
	return parse_value(p, node, value);
}

static crm__filter *parse_node(parser *p, const cJSON *json, int depth);

static int parse_group(parser *p, crm__filter *node, const cJSON *obj, int depth)
{
	const cJSON *m = obj->child, *el;
	size_t mark;
	int i = 0;

	if (m->next) {
		fail(p, "'%s' must be the only key of its object (found '%.64s')", m->string, m->next->string);
		return -1;
	}
	if (node->op == CRM__FOP_NOT) {
		mark = path_push(p, ".not");
		if (!(node->kids = crm__calloc(1, sizeof *node->kids))) {
			oom(p);
			return -1;
		}
		node->kids[0] = parse_node(p, m, depth + 1);
		if (!node->kids[0])
			return -1;
		node->nkids = 1;
		path_pop(p, mark);
		return 0;
	}
	if (!cJSON_IsArray(m)) {
		mark = path_push(p, node->op == CRM__FOP_AND ? ".and" : ".or");
		fail(p, "'%s' takes an array of filters", m->string);
		return -1;
	}
	if (cJSON_GetArraySize(m) > FILTER_MAX_NODES) {
		fail(p, "the filter has more than %d conditions", FILTER_MAX_NODES);
		return -1;
	}
	node->kids = crm__calloc((size_t)cJSON_GetArraySize(m) + 1, sizeof *node->kids);
	if (!node->kids) {
		oom(p);
		return -1;
	}
	cJSON_ArrayForEach(el, m)
	{
		mark = path_index(p, m->string, i);
		node->kids[i] = parse_node(p, el, depth + 1);
		if (!node->kids[i])
			return -1;
		node->nkids = ++i;
		path_pop(p, mark);
	}
	return 0;
}

static crm__filter *parse_node(parser *p, const cJSON *json, int depth)
{
	crm__filter *node;
	const cJSON *first;
	int rc;

	if (depth > FILTER_MAX_DEPTH) {
		fail(p, "filters nest deeper than %d levels", FILTER_MAX_DEPTH);
		return NULL;
	}
	if (++p->nodes > FILTER_MAX_NODES) {
		fail(p, "the filter has more than %d conditions", FILTER_MAX_NODES);
		return NULL;
	}
	if (!cJSON_IsObject(json)) {
		fail(p, "a filter is an object, not %s", json_type_name(json));
		return NULL;
	}
	first = json->child;
	if (!first) {
		fail(p, "an empty object is not a filter (use {\"and\":[]} to match everything)");
		return NULL;
	}
	node = crm__calloc(1, sizeof *node);
	if (!node) {
		oom(p);
		return NULL;
	}
	if (strcmp(first->string, "and") == 0 || strcmp(first->string, "or") == 0 ||
	    strcmp(first->string, "not") == 0) {
		node->op = first->string[0] == 'a' ? CRM__FOP_AND : first->string[0] == 'o' ? CRM__FOP_OR : CRM__FOP_NOT;
		rc = parse_group(p, node, json, depth);
	} else
		rc = parse_condition(p, node, json);
	if (rc) {
		crm__filter_free(node);
		return NULL;
	}
	return node;
}

crm__filter *crm__filter_parse(crm_db *db, const crm__form *form, const cJSON *json, const char *path,
			       int flags)
{
	parser p;
	crm__filter *f;

	memset(&p, 0, sizeof p);
	p.db = db;
	p.form = form;
	p.flags = flags;
	crm__buf_puts(&p.path, path ? path : "filter");
	f = parse_node(&p, json, 1);
	/* The path serves only messages, but a failed allocation is never absorbed. */
	if (f && p.path.oom) {
		crm__filter_free(f);
		f = NULL;
		crm__error_oom(db);
	} else if (!f && !p.failed)
		crm__error(db, CRM_EINVAL, "bad filter");
	crm__buf_free(&p.path);
	crm__buf_free(&p.scratch);
	return f;
}

void crm__filter_free(crm__filter *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->nkids; i++)
		crm__filter_free(f->kids[i]);
	crm__free(f->kids);
	crm__free(f->values);
	crm__free(f->param);
	crm__buf_free(&f->strings);
	crm__form_release(f->sub_form);
	crm__free(f);
}
