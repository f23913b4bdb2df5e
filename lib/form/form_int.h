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

/* CRM_OK when `form` (compiled by this handle earlier) is still the current
 * definition of its form. Otherwise CRM_ECONFLICT, "form 'x' changed ...
 * after this cursor was opened", detail {"form","version","current"}
 * (current 0: the form is gone), or the lookup's own failure. For
 * objects that outlive calls: an open SQLite statement reads columns by
 * position, so after a migration it would show other columns' values. */
int crm__form_check_current(crm_db *db, const crm__form *form);

/* The latest stored definition of form `name` (cJSON_Delete it) and its version. */
int crm__form_load_def(crm_db *db, const char *name, cJSON **out, int64_t *version);

/* Compile a definition (already parsed JSON) into a form. `previous` is the
 * current compiled form of the same name, or NULL: field ids are matched
 * against it. Errors set on db with a "path" in the detail. */
int crm__form_compile(crm_db *db, const cJSON *def, const crm__form *previous, crm__form **out);

/* A record being written: one slot per field, plus which were given. */
typedef struct crm__record {
	crm__value *values;  /* by field position */
	unsigned char *given; /* CRM__GIVEN or CRM__GIVEN_BAD (did not convert) */
	crm__value owner;    /* the owner column, when given */
	int owner_given;
	crm__buf strings;    /* decoded text the values point into */
	crm__buf computed;   /* text of computed values */
	char **actor_text;   /* per field: text of a value taken from the actor (actor_default), or NULL */
	int nactor_text;
} crm__record;

enum { CRM__GIVEN = 1, CRM__GIVEN_BAD = 2 };
void crm__record_init(crm__record *rec);
/* Size the record for `form` and clear it. 0, or -1 when out of memory. */
int crm__record_reset(crm__record *rec, const crm__form *form);
void crm__record_free(crm__record *rec);
/* Make `dst` a deep copy of `values` (one per field of `form`). 0 or -1 (OOM). */
int crm__record_assign(crm__record *dst, const crm__form *form, const crm__value *values);
/* Clear the values for the next record of the same form, keeping memory. */
void crm__record_clear(crm__record *rec, const crm__form *form);

/* Collected validation failures of one record, written as a JSON array. */
typedef struct crm__errors {
	crm__buf json; /* "[{...},{...}" without the closing bracket */
	int count;     /* failures, listed or not */
	int64_t max;   /* failures listed (CRM_LIMIT_DETAIL_ERRORS) */
	char first[256]; /* message of the first failure, for the error message */
} crm__errors;
/* Empty `e` and take the listing limit from db; before every use. */
void crm__errors_reset(crm__errors *e, const crm_db *db);
void crm__errors_add(crm__errors *e, const char *field, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void crm__errors_free(crm__errors *e);
/* Append "errors":[...] to `out`, with "truncated":true and "total":N when
 * failures were left out. */
void crm__errors_write(crm__buf *out, const crm__errors *e);
/* Set CRM_ECONSTRAINT on db with "errors": the collected list. */
int crm__errors_raise(crm_db *db, crm__errors *e, const char *what);

/* What applying one form does, for crm_apply_v2's summary and its
 * data-loss rule. */
typedef struct crm__form_changes {
	int allow_data_loss; /* in: discard data rather than refuse */
	crm__buf json;       /* out: the changes, JSON objects separated by commas */
	int data_loss;       /* out: some change discards data */
	crm__errors losses;  /* out: each change that discards data, as a failing field */
} crm__form_changes;

/* Define or migrate one form from its definition (in the caller's
 * transaction). *out_changed (may be NULL) tells whether anything changed;
 * `ch` gets the changes (and refuses data loss unless it allows it). */
int crm__form_apply(crm_db *db, const cJSON *def, crm__form_changes *ch, int *out_changed);
/* After a batch of definitions: every ref points at an existing form. */
int crm__form_check_refs(crm_db *db, const char *name);
/* Change the table of `old` into the table of `new` (same name): renames,
 * added and removed fields, type changes with conversion, index changes,
 * computed fields recomputed, then every record checked against the new
 * rules. Each change is added to `ch`; one that discards data fails with
 * CRM_ECONSTRAINT unless ch->allow_data_loss. */
int crm__form_migrate(crm_db *db, crm__form *old, crm__form *new, crm__form_changes *ch);

/* CRM_ENOTFOUND for record `id` of `form`: the one answer for a record that
 * is missing and for one the actor may not see, so the two never differ. */
int crm__record_missing(crm_db *db, const crm__form *form, int64_t id);

/* Load record `id` of `form` into `cur` (values by field position, text
 * copied into the record); `sys` (may be NULL) gets id, created_at,
 * updated_at, owner and version. CRM_ENOTFOUND when absent. */
int crm__record_load(crm_db *db, crm__form *form, int64_t id, crm__record *cur, crm__value *sys);
/* The same, holding the row with the dialect's row lock `lock` (one of its
 * lock_* clauses; "" reads as crm__record_load) until the transaction ends. */
int crm__record_load_locked(crm_db *db, crm__form *form, int64_t id, crm__record *cur, crm__value *sys,
			    const char *lock);
/* The same in two halves, for a read that goes in the round trip of the
 * statements after it (crm__send_ahead): _ahead sends it (NULL and
 * db->errcode on failure); _rows reads it into cur and sys and gives st
 * back (give it back yourself when _rows is not called). */
crm__stmt *crm__record_load_ahead(crm_db *db, crm__form *form, int64_t id, const char *lock);
int crm__record_load_rows(crm_db *db, crm__form *form, crm__stmt *st, int64_t id, crm__record *cur, crm__value *sys);
/* Take the row lock `lock` (a dialect lock_* clause) on record `id` of the
 * table `table`, when the dialect has row locks; *found (may be NULL) is 0
 * when there is no such record. Without `found`, the lock goes with the
 * next statement's round trip (crm__step_later), before it runs. */
int crm__record_lock(crm_db *db, const char *table, int64_t id, const char *lock, int *found);

/* Parse a record object (json, len bytes) into `rec` (reset first): each
 * member converted to its field's storage value. Problems with single
 * members (unknown field, wrong type, bad format) go to `errs`; returns
 * CRM_OK (check errs->count), or CRM_EINVAL with the db error set when the
 * text is not a JSON object. "owner" is accepted; other system columns are
 * read-only. */
int crm__record_parse(crm_db *db, const crm__form *form, const char *json, size_t len, crm__record *rec,
		      crm__errors *errs);
/* The same for values (crm_batch_add_values), each read as the JSON value
 * its kind stands for; `text` holds what is written out for them (numbers'
 * literals, arrays) and must live as long as `rec` is used. */
int crm__record_from_values(crm_db *db, const crm__form *form, const crm_field_value *fields, size_t n,
			    crm__record *rec, crm__errors *errs, crm__buf *text);

/* The single write path: every insert, update and delete, from every API,
 * batch, import and (later) workflow action goes through here, so
 * validation, permissions, audit and events have one place to hook in. */
typedef enum crm__write_op { CRM__WRITE_INSERT, CRM__WRITE_UPDATE, CRM__WRITE_DELETE } crm__write_op;
/* The record an update wrote, as its holder would read it back: values as
 * stored, updated_at, and the version one past the known one. */
typedef struct crm__written {
	crm__record rec;
	int64_t updated_at;
	int ok; /* 1 when rec holds them (the update did not set the owner) */
} crm__written;
/* A record its holder read and knows unchanged since (no record write in
 * between): an update may start from it instead of reading it again. */
typedef struct crm__known {
	const crm__form *form; /* the form it was read with */
	const crm__value *values; /* NULL: not held (read it) */
	int64_t version;
	/* The caller ends its transaction (or savepoint) on any failure of
	 * the update: the update takes no savepoint of its own. */
	int caller_undoes;
	/* NULL, or where an update that succeeded leaves the record it wrote,
	 * so the holder need not read it again. */
	crm__written *written;
} crm__known;
typedef struct crm__write {
	crm__write_op op;
	crm__form *form;
	int64_t id;               /* update/delete: the record; insert: set on success */
	int64_t expected_version; /* > 0: fail with CRM_ECONFLICT unless it matches */
	const crm__known *known;  /* update: the record as stored, when the caller holds it (may be NULL) */
	crm__record *rec;         /* insert/update: the given values */
	crm__errors *errs;        /* validation failures land here */
	/* Insert: when set, on a backend that queues statements, and when no
	 * after_write hook acts on the form (none needs the new id at once),
	 * the INSERT is queued (crm__backend.queue) with this callback instead
	 * of run: `queued` is then set and `id` stays 0; the outcome, a unique
	 * key's conflict included (CRM_DONE: no id came back), reaches `done`. */
	crm__queued_fn done;
	void *done_payload;
	int queued;
	/* Set by crm__record_write for the write: the actor's view of the form
	 * (NULL: unrestricted), and whether the access rules refused it. */
	struct crm__access *access;
	int denied;
	/* Out, for the audit entry: the record's version after the write (a
	 * delete: the version it had), and on an update that sets the owner,
	 * the owner it replaced (NULL: none; freed by crm__record_write). */
	int64_t version;
	char *owner_before;
	/* Update: > 0 when it brings the record back to this version
	 * (crm_record_revert): audited as "revert". */
	int64_t revert_to;
	/* Insert: > 0 brings a deleted record back under this id, created at
	 * `restore_created_at`, at version `restore_version` (crm_merge_undo). */
	int64_t restore_id, restore_created_at, restore_version;
} crm__write;
/* Runs inside the caller's transaction (crm__tx_begin/end around it). On a
 * validation failure returns CRM_ECONSTRAINT with the errors in w->errs
 * (not yet raised on the handle: the caller decides how to report them).
 * Errors already in w->errs (from parsing) make it fail after validating
 * the rest, so one call reports every failing field. */
int crm__record_write(crm_db *db, crm__write *w);
/* A queued insert met a unique key's conflict: name the key in w->errs
 * from w->rec's values as the insert stored them, as a conflict found at
 * once is reported. Returns CRM_ECONSTRAINT, or the failure of the check. */
int crm__record_insert_conflict(crm_db *db, crm__write *w);
/* crm_record_update starting from `known` when it was read with the form
 * the update looks up (else the record is read as usual). */
int crm__record_update_known(crm_db *db, const char *form, int64_t id, const char *json, const crm__known *known);
/* The unique constraint of `form` whose fields are exactly those named in
 * `key` (comma-separated, any order); NULL with CRM_EINVAL set when none. */
const crm__index *crm__form_unique_key(crm_db *db, const crm__form *form, const char *key);
/* Upsert inside the caller's transaction: w->rec (parsed) updates the record
 * whose key `ix` matches it, when the actor may read that record, else is
 * inserted; w->op and w->id tell which. As crm__record_write otherwise
 * (failures in w->errs); CRM_EINVAL when a key field has no value. */
int crm__record_upsert_write(crm_db *db, crm__write *w, const crm__index *ix);
/* A field pattern (JSON Schema's ECMA-262 dialect) compiled for PCRE2
 * (lib/form/pattern.c). NULL on failure: *oom set when memory ran out,
 * else `msg` says why, with the offset into `pattern`. */
pcre2_code *crm__pattern_compile(const char *pattern, pcre2_compile_context *cctx, int *oom, char *msg, size_t msgsize);
/* The delete part of the write path (lib/form/delete.c): the record and what
 * its referrers' on_delete rules take with it, cycles and any depth included. */
int crm__record_delete(crm_db *db, crm__write *w);

/* What engines above the form engine do on the write path, linked in from
 * lib/hooks.c so the form engine never includes their headers (the
 * dependency arrow stays one-way). Each hook may be NULL. */
typedef struct crm__write_hooks {
	/* Fill the computed fields of `values` (a record about to be stored);
	 * text results go into `scratch`. */
	int (*compute)(crm_db *db, const crm__form *form, crm__value *values, crm__buf *scratch);
	/* After a successful insert/update/delete, in the same transaction:
	 * `old` is NULL for inserts, `now` NULL for deletes. Failing fails the write. */
	int (*after_write)(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now);
	/* 1 when after_write acts on inserts into `form` (or cannot tell): it
	 * then needs each new id at once; -1 with the db error set on failure. */
	int (*watches_inserts)(crm_db *db, crm__form *form);
	/* Run the form's validators on a record about to be stored (`old` NULL
	 * for inserts); failures go to `errs`. Returns their number, or -1 with
	 * the db error set when a validator could not run. */
	int (*validate)(crm_db *db, const crm__form *form, const crm__value *old, const crm__value *now,
			crm__errors *errs);
	/* The Lua sandbox was just made: engines add their crm.* functions. */
	int (*sandbox_ready)(crm_db *db);
	/* The insert `w` (values filled) is about to be queued without its id
	 * (crm__backend.queue): the hook may take over the outcome callback
	 * (*done, *payload), calling the one it replaced from its own, to act
	 * once the id is known. */
	int (*insert_queued)(crm_db *db, const crm__write *w, crm__queued_fn *done, void **payload);
} crm__write_hooks;
extern const crm__write_hooks crm__hooks;

/* Check one present value against its field's own rules (range, length,
 * pattern, size). Failures go to `errs` when not NULL. Returns the number
 * of failures, or -1 with the error set on db (out of memory). */
int crm__check_value(crm_db *db, const crm__field *f, const crm__value *v, crm__errors *errs);
/* Validate a whole record about to be stored (`values` by field position):
 * every value's rules, required and required_when, references that must
 * exist. Fields whose `skip` entry (may be NULL) is CRM__GIVEN_BAD already
 * failed to convert and are not checked again. Adds every failure to `errs`; returns their number, or -1 with the
 * db error set when the check itself failed (I/O). */
int crm__validate_record(crm_db *db, const crm__form *form, const crm__value *values, const unsigned char *skip,
			 crm__errors *errs);
/* Find which unique constraints `values` would break (excluding record
 * `self_id`, 0 for none) and add them to `errs`. Returns their number or -1. */
int crm__check_uniques(crm_db *db, const crm__form *form, const crm__value *values, int64_t self_id,
		       crm__errors *errs);
/* The shared PCRE2 match context carrying the handle's regex limits
 * (CRM_LIMIT_REGEX_DEPTH also as the size of its JIT stack). The PCRE2
 * objects below allocate through libcrm's allocator; each returns NULL
 * when memory runs out (the caller reports CRM_ENOMEM). */
pcre2_match_context *crm__regex_context(crm_db *db);
/* A reusable one-pair match-data block (enough to learn whether a pattern matches). */
pcre2_match_data *crm__regex_match_data(crm_db *db);
/* The compile context patterns are compiled with. */
pcre2_compile_context *crm__regex_compile_context(crm_db *db);
/* Identifier rule for form, field and id names. */
int crm__valid_name(const char *s);

#endif
