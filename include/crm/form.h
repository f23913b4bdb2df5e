/*
 * libcrm — form engine: schema-defined records.
 *
 * A form is defined by JSON metadata (docs/metadata.md) and stored as one
 * SQLite table with one typed column per field plus the system columns
 * id, created_at, updated_at, owner and version. Records cross the API as
 * JSON objects. Every write call validates the whole record and reports
 * every failing field at once (crm_errdetail) with CRM_ECONSTRAINT; a
 * failing call changes nothing. A value holding U+0000 ("\u0000", also
 * inside a json field's text) is refused with field code "nul".
 */
#ifndef CRM_FORM_H
#define CRM_FORM_H

#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Field types, as numbers (cursor column types) and names ("text", ...). */
typedef enum crm_type {
	CRM_TYPE_TEXT = 1,
	CRM_TYPE_LONG_TEXT,
	CRM_TYPE_INTEGER,
	CRM_TYPE_DECIMAL,
	CRM_TYPE_NUMBER,
	CRM_TYPE_BOOLEAN,
	CRM_TYPE_DATE,
	CRM_TYPE_DATETIME,
	CRM_TYPE_ENUM,
	CRM_TYPE_MULTI_ENUM,
	CRM_TYPE_EMAIL,
	CRM_TYPE_PHONE,
	CRM_TYPE_URL,
	CRM_TYPE_REF,
	CRM_TYPE_JSON,
	CRM_TYPE_COMPUTED,
	CRM_TYPE_ROLLUP /* an aggregate of related records (docs/metadata.md "Rollup fields") */
} crm_type;

/* ---- definitions ---- */

/** Define or migrate one form from its JSON definition (same as crm_apply). */
CRM_EXTERN(int) crm_form_define(crm_db *db, const char *json);
/** The current definition of form `name`, normalised (field ids filled in), in *out (crm_free). */
CRM_EXTERN(int) crm_form_get(crm_db *db, const char *name, char **out);
/** A JSON array of {"form","version","label"} for every form, in *out (crm_free). */
CRM_EXTERN(int) crm_form_list(crm_db *db, char **out);

/**
 * Check the stored records of `form` (NULL: every form) against their
 * definitions, for drift from writes that bypassed libcrm (raw SQL, other
 * tools). Changes nothing. *out (crm_free) gets
 * {"forms":N,"records":N,"problems":N,"truncated":false,
 *  "found":[{"form":..,"record":ID,"errors":[{"field","code","message"}]}]}
 * with codes "type" (stored with another SQLite type), the validation codes
 * of writes ("enum", "pattern", "required", "ref", ...), "stale" (a computed
 * or rollup field differs from what it computes now) and "script" (a
 * computed expression fails on the record). At most 1000 records are
 * listed ("truncated" then is true); the counts are exact.
 */
CRM_EXTERN(int) crm_form_check(crm_db *db, const char *form, char **out);

/* ---- values: records without JSON text ---- */

/**
 * A value handed over without JSON text (crm_record_insert_values,
 * crm_batch_add_values, ...): each kind stands for the JSON value named
 * beside it and is read exactly as a record's JSON reads that value, by the
 * same code, so a field accepts or refuses it with the same error. A binding
 * converts its language's values to these directly instead of writing and
 * scanning JSON per row.
 */
typedef enum crm_value_kind {
	CRM_VALUE_NULL = 0, /* null */
	CRM_VALUE_INT,      /* .i: an integer number */
	CRM_VALUE_REAL,     /* .d: a number (not finite: read as 1e999, out of range) */
	CRM_VALUE_BOOL,     /* .i: false when 0, true otherwise */
	CRM_VALUE_TEXT,     /* .s, .n bytes of UTF-8: a string ("12000.50" for a decimal, "2026-01-31", ISO datetimes) */
	CRM_VALUE_TIME,     /* .i ms since the epoch, UTC: the date-time it is for a datetime field, the day for a
			       date field (00:00 UTC, else "format"); for other fields the integer .i */
	CRM_VALUE_LIST,     /* .items[.nitems], NUL-terminated UTF-8 strings: an array of strings (multi_enum) */
	CRM_VALUE_JSON      /* .s, .n bytes: any one JSON value as text (a json field's object or array) */
} crm_value_kind;

/** One value; only the members its kind names are read. */
typedef struct crm_value {
	int kind; /* a crm_value_kind */
	int64_t i;
	double d;
	const char *s; /* borrowed for the call */
	size_t n;
	const char *const *items; /* borrowed for the call */
	size_t nitems;
} crm_value;

/** A field (or "owner") and its value. `name` is NUL-terminated, borrowed for the call. */
typedef struct crm_field_value {
	const char *name;
	crm_value value;
} crm_field_value;

/* ---- single records ---- */

/** Insert the record `json` (an object); the new id goes to *out_id (may be NULL). */
CRM_EXTERN(int) crm_record_insert(crm_db *db, const char *form, const char *json, int64_t *out_id);
/** The record `id` as a JSON object in *out (crm_free); CRM_ENOTFOUND if absent. */
CRM_EXTERN(int) crm_record_get(crm_db *db, const char *form, int64_t id, char **out);
/**
 * Change the fields present in `json` (a partial object; null clears a
 * field). When expected_version > 0 the update fails with CRM_ECONFLICT
 * unless the record's version equals it. The version then increments.
 */
CRM_EXTERN(int) crm_record_update(crm_db *db, const char *form, int64_t id, const char *json,
				  int64_t expected_version);
/** Delete record `id` (same expected_version rule as update). */
CRM_EXTERN(int) crm_record_delete(crm_db *db, const char *form, int64_t id, int64_t expected_version);
/**
 * Insert `json`, or update the record whose unique `key` matches it.
 * `key` names the fields of a unique constraint of the form, comma-separated
 * ("phone" or "channel,external_id"); `json` must carry a value for each.
 * *out_id gets the id, *out_inserted 1 for a new record and 0 for an
 * update (either may be NULL).
 */
CRM_EXTERN(int) crm_record_upsert(crm_db *db, const char *form, const char *key, const char *json,
				  int64_t *out_id, int *out_inserted);

/*
 * The same three writes with the record given as values (crm_field_value,
 * above) instead of JSON text: each value is read as the JSON value its kind
 * stands for, so a record is checked, stored and refused exactly as its JSON
 * would be; a malformed value (see crm_batch_add_values) is CRM_EINVAL, as
 * malformed JSON is. `fields` may be NULL when n is 0.
 */
CRM_EXTERN(int) crm_record_insert_values(crm_db *db, const char *form, const crm_field_value *fields, size_t n,
					 int64_t *out_id);
CRM_EXTERN(int) crm_record_update_values(crm_db *db, const char *form, int64_t id,
					 const crm_field_value *fields, size_t n, int64_t expected_version);
CRM_EXTERN(int) crm_record_upsert_values(crm_db *db, const char *form, const char *key,
					 const crm_field_value *fields, size_t n, int64_t *out_id,
					 int *out_inserted);

/* ---- batches: many inserts, one transaction, all or nothing ---- */

typedef struct crm_batch crm_batch;
/**
 * Start a batch of inserts into `form`. Release with crm_batch_free. The
 * batch holds the handle's write transaction until it commits or is freed;
 * crm_close rolls it back, after which its calls fail with CRM_EMISUSE.
 */
CRM_EXTERN(int) crm_batch_begin(crm_batch **out, crm_db *db, const char *form);
/**
 * Validate and insert one record (`len` bytes of JSON; len may be -1 for a
 * NUL-terminated string). On success *out_id (may be NULL) gets its id,
 * valid once the batch commits. A failing row returns its error and is
 * remembered with its index; later rows are still checked, so one commit
 * reports every failing row. A row added without out_id is queued (on
 * PostgreSQL sent in pipeline mode, on SQLite run with the rows after it
 * as one multi-row INSERT): when its only failure is a unique key's
 * conflict, the add returns CRM_OK and the commit lists the row
 * (docs/storage.md "Speed"). Pass out_id to have the add report it.
 */
CRM_EXTERN(int) crm_batch_add(crm_batch *batch, const char *json, ptrdiff_t len, int64_t *out_id);

/**
 * crm_batch_add for the record whose members are fields[0..n): the same
 * validation, errors (a name given twice is "duplicate", an unknown one
 * "unknown_field"), ids and queueing; a kind out of range fails the row
 * with CRM_EINVAL, as malformed JSON does. Nothing is kept after the call.
 */
CRM_EXTERN(int) crm_batch_add_values(crm_batch *batch, const crm_field_value *fields, size_t n, int64_t *out_id);
/**
 * Commit when every row succeeded; otherwise roll everything back and fail
 * with CRM_ECONSTRAINT (or the first row's code), the detail listing
 * {"rows":[{"index":i,"errors":[...]}, ...]}.
 */
CRM_EXTERN(int) crm_batch_commit(crm_batch *batch);
/** Rows added so far (including failing ones). */
CRM_EXTERN(size_t) crm_batch_count(crm_batch *batch);
/** Release the batch, rolling back if it was not committed. NULL does nothing. */
CRM_EXTERN(void) crm_batch_free(crm_batch *batch);

/**
 * Insert a JSON array of objects, or NDJSON (one object per line), as one
 * batch. *out_ids (crm_free) gets the new ids in input order and *out_count
 * their number; both may be NULL.
 */
CRM_EXTERN(int) crm_record_insert_many(crm_db *db, const char *form, const char *json, int64_t **out_ids,
				       size_t *out_count);

#ifdef __cplusplus
}
#endif
#endif
