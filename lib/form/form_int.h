/* Internals shared by the form engine's files: the compiled-form cache,
 * definition parsing, validation and the single record write path. */
#ifndef CRM_FORM_INT_H
#define CRM_FORM_INT_H

#include <cJSON.h>

#include "core/db_int.h"
#include "store/schema.h"
#include "store/value.h"

/* The compiled form `name` (from the handle's cache, compiled from the
 * stored definition on first use). Borrowed: valid until the next metadata
 * change on this handle; crm__form_retain it to keep it longer. Sets
 * CRM_ENOTFOUND when there is no such form. */
int crm__form_lookup(crm_db *db, const char *name, crm__form **out);

/* Compile a definition (already parsed JSON) into a form. `previous` is the
 * current compiled form of the same name, or NULL: field ids are matched
 * against it. Errors set on db with a "path" in the detail. */
int crm__form_compile(crm_db *db, const cJSON *def, const crm__form *previous, crm__form **out);

/* A record being written: one slot per field, plus which were given. */
typedef struct crm__record {
	crm__value *values;  /* by field position */
	unsigned char *given;
	char *owner;         /* NULL: keep / default to the actor */
	int owner_given;
	crm__buf strings;    /* decoded text the values point into */
} crm__record;

/* Collected validation failures of one record, written as a JSON array. */
typedef struct crm__errors {
	crm__buf json; /* "[{...},{...}" without the closing bracket */
	int count;
} crm__errors;
void crm__errors_add(crm__errors *e, const char *field, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void crm__errors_free(crm__errors *e);
/* Set CRM_ECONSTRAINT on db with "errors": the collected list. */
int crm__errors_raise(crm_db *db, crm__errors *e, const char *what);

#endif
