/* The filter language: a JSON condition tree parsed once against a form
 * into an AST, then either compiled to a parameterised SQL expression
 * (queries, reports) or evaluated in memory on one record (required_when,
 * workflow guards). Literals are converted to storage representation at
 * parse time, so both backends compare like with like. */
#ifndef CRM_STORE_FILTER_H
#define CRM_STORE_FILTER_H

#include <cJSON.h>

#include "core/db_int.h"
#include "schema.h"

typedef enum crm__fop {
	CRM__FOP_AND,
	CRM__FOP_OR,
	CRM__FOP_NOT,
	CRM__FOP_EQ,
	CRM__FOP_NE,
	CRM__FOP_LT,
	CRM__FOP_LE,
	CRM__FOP_GT,
	CRM__FOP_GE,
	CRM__FOP_IN,
	CRM__FOP_CONTAINS,
	CRM__FOP_STARTS_WITH,
	CRM__FOP_IS_NULL,
	CRM__FOP_BETWEEN,
	/* Permission rules only: the ref's target exists and the actor may
	 * read it (lib/access). kids[0], when nkids is 1, is the target's row
	 * restriction (over sub_form); nkids 0: every target record. */
	CRM__FOP_VISIBLE
} crm__fop;

/* Column references: a field position >= 0, or one of these system columns. */
enum crm__syscol {
	CRM__COL_ID = -1,
	CRM__COL_CREATED_AT = -2,
	CRM__COL_UPDATED_AT = -3,
	CRM__COL_OWNER = -4,
	CRM__COL_VERSION = -5
};

struct crm__filter {
	crm__fop op;
	crm__filter **kids; /* and / or / not */
	int nkids;
	int column;         /* field position or enum crm__syscol */
	crm__value *values; /* literals: 1 (comparisons), n (in), 2 (between), 1 boolean (is_null) */
	int nvalues;
	char *param;        /* a named parameter instead of a literal (reports); NULL otherwise */
	crm__buf strings;   /* owns the text of the literals */
	crm__form *sub_form; /* visible: the ref's target form (retained), once resolved */
};

/* Values of one record for in-memory evaluation: fields by position, plus
 * the system columns (id, created_at, updated_at, owner, version). */
typedef struct crm__row {
	const crm__value *fields;
	crm__value sys[5];
} crm__row;

/* What a filter may contain beyond the query language (crm__filter_parse's
 * `flags`): named "param" operands (reports); "actor" operands, left
 * unresolved (a permission rule checked at apply time: lib/access);
 * the op "visible" on ref fields (permission rules). */
enum { CRM__FILTER_PARAMS = 1, CRM__FILTER_ACTOR = 2, CRM__FILTER_VISIBLE = 4 };
/* Parse `json` (a filter object) against `form`. On error returns NULL with
 * the error set on db (CRM_EINVAL; detail "path" says where, prefixed by
 * `path`, e.g. "filter.and[1].op"). `flags` (CRM__FILTER_*) allow more. */
crm__filter *crm__filter_parse(crm_db *db, const crm__form *form, const cJSON *json, const char *path,
			       int flags);
void crm__filter_free(crm__filter *f);

/* Literal values a compiled statement binds, in placeholder order. Text is
 * borrowed from the filters it was compiled from. */
typedef struct crm__binds {
	const crm__value **v;
	const char **param; /* parallel to v: the parameter name, or NULL for a literal */
	int n, cap;
	int oom;
} crm__binds;
void crm__binds_free(crm__binds *b);
/* Bind every value (parameters are looked up by the caller first: pass
 * `lookup` to resolve them, or NULL when there are none). SQLite code. */
int crm__binds_apply(const crm__binds *b, crm__stmt *st, int first_index,
		     const crm__value *(*lookup)(void *payload, const char *name), void *payload);

/* Append the SQL expression for `f` to `sql`: column names quoted and
 * qualified with `alias` when not NULL, every literal a "?" recorded in
 * `binds`. */
void crm__filter_sql(const crm__dialect *d, crm__buf *sql, crm__binds *binds, const crm__filter *f,
		     const crm__form *form, const char *alias);
/* SQL for one column reference (field or system column), quoted, qualified. */
void crm__column_sql(crm__buf *sql, const crm__form *form, int column, const char *alias);
/* Evaluate `f` on one record: 1 true, 0 false. Parameters are false. */
int crm__filter_eval(const crm__filter *f, const crm__form *form, const crm__row *row);

#endif
