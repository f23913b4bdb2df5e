/* Typed row accessors (include/crm/row.h), shared by query cursors and
 * report rows: each value is converted from its storage form here and
 * nowhere else. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "core/db_int.h"
#include "core/json_scan.h"
#include "row.h"
#include "schema.h"

#define DAY_MS INT64_C(86400000)

int crm__row_init(crm_row *row, crm_db *db, int ncols)
{
	memset(row, 0, sizeof *row);
	row->db = db;
	row->cols = crm__calloc((size_t)(ncols > 0 ? ncols : 1), sizeof *row->cols);
	row->texts = crm__calloc((size_t)(ncols > 0 ? ncols : 1), sizeof *row->texts);
	if (!row->cols || !row->texts)
		return crm__error_oom(db);
	row->ncols = ncols;
	return CRM_OK;
}

void crm__row_column(crm_row *row, int i, const char *name, crm_type type, int scale)
{
	crm__rowcol *c = &row->cols[i];

	c->name = name;
	c->type = type;
	row->dates |= type == CRM_TYPE_DATE;
	c->scale = type == CRM_TYPE_DECIMAL ? scale : 0;
	c->nat = (int)crm__natural_of(type);
	c->divisor = type == CRM_TYPE_DECIMAL ? pow(10, scale) : 0;
}

void crm__row_free(crm_row *row)
{
	for (int i = 0; i < row->ncols; i++) {
		crm__buf_free(&row->texts[i].raw);
		crm__buf_free(&row->texts[i].items);
		crm__buf_free(&row->texts[i].offsets);
	}
	crm__free(row->cols);
	crm__free(row->texts);
	row->cols = NULL;
	row->texts = NULL;
	row->ncols = 0;
}

void crm__real_text(double d, char *out, size_t size)
{
	/* the shortest text that reads back as the same double */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, size, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
}

#define COL_OK CRM__ROW_COL_OK
#define ON_ROW CRM__ROW_ON
#define ST(row) ((row)->st)

int crm_row_column_count(crm_row *row) { return row ? row->ncols : 0; }
const char *crm_row_column_name(crm_row *row, int i) { return COL_OK(row, i) ? row->cols[i].name : NULL; }
int crm_row_column_type(crm_row *row, int i) { return COL_OK(row, i) ? (int)row->cols[i].type : 0; }
int crm_row_column_scale(crm_row *row, int i) { return COL_OK(row, i) ? row->cols[i].scale : -1; }
int crm_row_is_null(crm_row *row, int i) { return crm__row_is_null(row, i); }
int64_t crm_row_int64(crm_row *row, int i) { return crm__row_int64(row, i); }
double crm_row_double(crm_row *row, int i) { return crm__row_double(row, i); }

int64_t crm__row_date_ms(crm_row *row, int i)
{
	const char *s = crm__column_text(ST(row), i);
	int64_t days;

	return s && crm__date_parse(s, (size_t)crm__column_bytes(ST(row), i), &days) == 0 ? days * DAY_MS : 0;
}

int crm_row_bool(crm_row *row, int i) { return ON_ROW(row, i) && crm__row_int64(row, i) != 0; }

/* Texts, dates, choices and JSON are handed out as stored (a null's
 * text is NULL: backend.h), without asking the column's type first;
 * the other types' texts are written here. */
static int written_as_text(crm_type type)
{
	switch (type) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_REF:
	case CRM_TYPE_DECIMAL:
	case CRM_TYPE_NUMBER:
	case CRM_TYPE_BOOLEAN:
	case CRM_TYPE_DATETIME: return 1;
	default: return 0;
	}
}

const char *crm_row_text(crm_row *row, int i)
{
	crm__stmt *st;
	crm__rowtext *c;
	const char *s;

	if (!ON_ROW(row, i))
		return NULL;
	st = ST(row);
	c = &row->texts[i];
	if (!written_as_text(row->cols[i].type)) {
		s = crm__column_text(st, i);
		c->len = s ? (size_t)crm__column_bytes(st, i) : 0;
		return s;
	}
	if (crm__column_type(st, i) == CRM__SQL_NULL)
		return NULL;
	switch (row->cols[i].type) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_REF:
		c->len = (size_t)snprintf(c->text, sizeof c->text, "%lld", (long long)crm__column_int64(st, i));
		return c->text;
	case CRM_TYPE_DECIMAL:
		c->len = crm__decimal_format(crm__row_int64(row, i), row->cols[i].scale, c->text);
		return c->text;
	case CRM_TYPE_NUMBER:
		crm__real_text(crm__column_double(st, i), c->text, sizeof c->text);
		c->len = strlen(c->text);
		return c->text;
	case CRM_TYPE_BOOLEAN:
		s = crm__row_int64(row, i) ? "true" : "false";
		c->len = strlen(s);
		return s;
	default: c->len = crm__datetime_format(crm__row_int64(row, i), c->text); return c->text;
	}
}

size_t crm_row_bytes(crm_row *row, int i)
{
	if (CRM__ROW_COL_OK(row, i) && !written_as_text(row->cols[i].type))
		return ON_ROW(row, i) ? (size_t)crm__column_bytes(ST(row), i) : 0;
	return crm_row_text(row, i) ? row->texts[i].len : 0;
}

/* Decode column i's multi_enum array into c->items (NUL-terminated items)
 * unless it holds this very value already. 0, or -1 (out of memory). */
static int decode_items(crm_row *row, int i, const char *s, size_t n)
{
	crm__rowtext *c = &row->texts[i];
	crm__buf strings = CRM__BUF_INIT;
	crm__jscan sc;
	crm__jval el;
	int r;

	if (c->raw.p && c->raw.len == n && memcmp(c->raw.p, s, n) == 0)
		return 0;
	crm__buf_reset(&c->raw);
	crm__buf_reset(&c->items);
	crm__buf_reset(&c->offsets);
	c->nitems = 0;
	crm__buf_put(&c->raw, s, n);
	if (c->raw.oom || crm__jscan_init(&sc, c->raw.p, n, 2, &strings)) {
		crm__buf_free(&c->raw);
		return -1;
	}
	/* Stored values are canonical arrays of strings: anything else is skipped. */
	while ((r = crm__jscan_element(&sc, &el)) == 1) {
		size_t at = c->items.len;
		if (el.type != CRM__J_STRING)
			continue;
		crm__buf_put(&c->offsets, &at, sizeof at);
		crm__buf_put(&c->items, el.p, el.n);
		crm__buf_putc(&c->items, '\0');
		c->nitems++;
	}
	crm__buf_free(&strings);
	if (c->items.oom || c->offsets.oom) {
		crm__buf_free(&c->raw); /* decode again next time */
		c->nitems = 0;
		return -1;
	}
	return 0;
}

/* The multi_enum value of column i, decoded; NULL with *count 0 when null,
 * NULL with *count -1 when the column is no multi_enum or memory ran out. */
static crm__rowtext *items_of(crm_row *row, int i, int *count)
{
	const char *s;

	*count = -1;
	if (!COL_OK(row, i) || row->cols[i].type != CRM_TYPE_MULTI_ENUM)
		return NULL;
	*count = 0;
	if (!ON_ROW(row, i) || !(s = crm__column_text(ST(row), i)))
		return NULL;
	if (decode_items(row, i, s, (size_t)crm__column_bytes(ST(row), i))) {
		crm__error_oom(row->db);
		*count = -1;
		return NULL;
	}
	*count = row->texts[i].nitems;
	return &row->texts[i];
}

int crm_row_item_count(crm_row *row, int i)
{
	int count;

	items_of(row, i, &count);
	return count;
}

const char *crm_row_item(crm_row *row, int i, int k)
{
	int count;
	crm__rowtext *c = items_of(row, i, &count);
	size_t at;

	if (!c || k < 0 || k >= count)
		return NULL;
	memcpy(&at, c->offsets.p + (size_t)k * sizeof at, sizeof at);
	return c->items.p + at;
}
