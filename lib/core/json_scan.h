/* A fast, allocation-free JSON scanner for record input: walks one object's
 * members in place, without building a tree. Strings without escapes are
 * returned as spans of the input; strings with escapes are decoded into a
 * caller-provided buffer. Nested arrays and objects are validated and
 * returned as raw spans that can be scanned again. A \u0000 escape is
 * valid JSON and decoded (callers refuse it with the error their input
 * calls for: crm__value_from_json); crm__json_validate refuses it. */
#ifndef CRM_CORE_JSON_SCAN_H
#define CRM_CORE_JSON_SCAN_H

#include <stddef.h>

#include "buf.h"

typedef enum crm__jtype {
	CRM__J_NULL,
	CRM__J_FALSE,
	CRM__J_TRUE,
	CRM__J_NUMBER, /* p,n: the literal's text, as written */
	CRM__J_STRING, /* p,n: the decoded UTF-8 text (no quotes) */
	CRM__J_ARRAY,  /* p,n: the raw text from '[' to ']' inclusive */
	CRM__J_OBJECT  /* p,n: the raw text from '{' to '}' inclusive */
} crm__jtype;

typedef struct crm__jval {
	crm__jtype type;
	const char *p;
	size_t n;
} crm__jval;

typedef struct crm__jscan {
	const char *s;   /* input */
	size_t n;        /* input length */
	size_t pos;      /* current offset */
	int max_depth;   /* nesting limit for nested values */
	crm__buf *strings; /* where escaped strings are decoded; reset by the caller */
	const char *err; /* static message on failure */
	size_t err_pos;  /* byte offset of the failure */
	size_t nuls;     /* \u0000 escapes seen so far */
	size_t nul_pos;  /* byte offset of the first */
	int state;       /* internal */
} crm__jscan;

/* Start scanning `s` (n bytes). The first call decides what it must hold:
 * crm__jscan_member expects an object, crm__jscan_element an array; after the closing bracket only white
 * space may follow. Strings that contain escapes are decoded into
 * `strings`, which init reserves 2n more bytes in (decoded text is never
 * longer than its source, and the spare half lets a caller re-scan one
 * nested span with the same buffer), so returned pointers stay valid until
 * the caller resets or frees that buffer. Returns 0, or -1 when the reservation fails. */
int crm__jscan_init(crm__jscan *sc, const char *s, size_t n, int max_depth, crm__buf *strings);
/* Object walking: 1 and the next member (key decoded, value), 0 at the end
 * of the object (after which trailing text has been checked), -1 on error
 * (sc->err, sc->err_pos). */
int crm__jscan_member(crm__jscan *sc, crm__jval *key, crm__jval *val);
/* Array walking, same contract: 1 and the next element, 0 at the end, -1 on error. */
int crm__jscan_element(crm__jscan *sc, crm__jval *val);
/* Validate that s[0..n) is exactly one JSON value (any type) within the
 * depth limit and without a \u0000 escape (err is then crm__jscan_err_nul):
 * libcrm refuses U+0000 in every text (docs/decisions.md). 0 or -1. */
int crm__json_validate(const char *s, size_t n, int max_depth, const char **err, size_t *err_pos);
extern const char crm__jscan_err_nul[];
/* 1 when the JSON text s[0..n) holds a \u0000 escape (in a string or key,
 * at any depth; text after a syntax error is not looked at), with *at
 * (may be NULL) its byte offset. Fast when there is no "\u0000" at all. */
int crm__json_has_nul(const char *s, size_t n, size_t *at);

/* Append to `out` the object whose i-th member is the i-th of `names` (a
 * JSON array of strings) with the i-th of `values` (a JSON array) as its
 * value, in that order: names past the last value are left out (lib/core/
 * json_zip.c). Values are copied as written, strings with escapes escaped
 * again as crm__json_str does. 0, or -1 (out as it was; out->oom when
 * memory ran out) when either is not such an array or there are more
 * values than names. */
int crm__json_zip(crm__buf *out, const char *names, size_t names_n, const char *values, size_t values_n);

#endif
