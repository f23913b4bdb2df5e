/* Conversion between JSON values and a field's storage representation,
 * binding values to statements and writing columns back as JSON. Every
 * write path and every filter literal goes through these, so a field type
 * means the same everywhere. */
#ifndef CRM_STORE_VALUE_H
#define CRM_STORE_VALUE_H

#include <cJSON.h>

#include "core/buf.h"
#include "core/json_scan.h"
#include "schema.h"

/* Why a JSON value does not fit a field: a short code and a message. */
typedef struct crm__verr {
	const char *code; /* "type", "format", "option", "too_long" ... (static) */
	char message[160];
} crm__verr;

/* Convert the JSON value `v` to field `f`'s storage representation in
 * *out. JSON null gives CRM__V_NULL, as does "" for text-like types (an
 * empty string means no value). Text results point into `v` or into
 * `scratch` (multi-enum and json texts are written there). To keep earlier
 * pointers into `scratch` valid, give it 3*v->n + 8 bytes of spare
 * capacity beforehand: the function never grows it past that.
 * Checks the type's own format (email, url, date, option membership,
 * decimal scale, UTF-8) but not the field's constraints (required, min,
 * pattern: see lib/form/validate.c). Returns 0, or -1 with *err filled. */
int crm__value_from_json(crm__value *out, const crm__field *f, const crm__jval *v, crm__buf *scratch,
			 int max_depth, crm__verr *err);
/* View a cJSON node (metadata, filters) as a scanned JSON value: strings
 * as their text, numbers as a literal that reads back exactly, arrays and
 * objects as their printed text. Printed text is kept in `scratch` (give it
 * room first if earlier pointers into it must stay valid). 0 or -1 (OOM). */
int crm__jval_from_cjson(crm__jval *out, const cJSON *node, crm__buf *scratch);
/* Bind `v` to parameter `idx` (1-based). Text is bound SQLITE_STATIC: it
 * must outlive the statement's next reset. Returns an SQLite code. */
int crm__value_bind(crm__stmt *st, int idx, const crm__value *v);
/* Read column `col` of the current row as field `f`'s storage value.
 * Text points into the statement's row (valid until the next step). */
void crm__value_column(crm__value *out, const crm__field *f, crm__stmt *st, int col);
/* Append the JSON text of storage value `v` of a field of type `type`
 * (value_type for computed fields) with `scale` for decimals. */
void crm__value_write_json(crm__buf *out, crm_type type, int scale, const crm__value *v);
/* Compare two non-null storage values of one field: <0, 0, >0. */
int crm__value_compare(const crm__value *a, const crm__value *b);
/* 1 when both are null, or both present, of one kind and equal. */
int crm__value_same(const crm__value *a, const crm__value *b);

#endif
