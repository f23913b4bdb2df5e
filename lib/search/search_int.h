/* Search inside libcrm (include/crm/search.h is the API): the "search"
 * declaration of a form, its index kept by the dialect's pieces, and the
 * hooks apply and the one write path call (lib/apply.c, lib/hooks.c). */
#ifndef CRM_LIB_SEARCH_INT_H
#define CRM_LIB_SEARCH_INT_H

#include "form/form_int.h"

#define CRM__SEARCH_MAX_FIELDS 16

/* A form's "search": {"fields": [...]} compiled against the form. */
typedef struct crm__search_decl {
	int n;                                  /* 0: the form declares no search */
	int cols[CRM__SEARCH_MAX_FIELDS];       /* field positions, in declared order */
	const char *names[CRM__SEARCH_MAX_FIELDS]; /* their names, borrowed from the form */
} crm__search_decl;

/* The declaration of `form` (borrowed from the handle's cache, valid until
 * the next metadata change). A bad declaration is CRM_EINVAL with the
 * "path" ("search.fields[1]") in the detail. */
int crm__search_decl_of(crm_db *db, crm__form *form, const crm__search_decl **out);

/* After crm_apply stored form `name` (in its transaction): create, rebuild
 * or drop the form's index when its declared columns changed. */
int crm__search_form_applied(crm_db *db, const char *name);

/* 1 when inserts into `form` need crm__search_after_write (they are then
 * not queued), 0 when not, -1 with the db error set when that is unknown. */
int crm__search_watches(crm_db *db, crm__form *form);

/* Write-path hook: keep the index of w->form current where the dialect
 * does not (search_sync). */
int crm__search_after_write(crm_db *db, const crm__write *w, const crm__value *old, const crm__value *now);

/* One word of a query: `len` bytes at `s`, `chars` code points. */
typedef struct crm__search_term {
	const char *s;
	size_t len;
	int64_t chars;
} crm__search_term;

/* When `text` (`len` bytes of UTF-8) holds one of the terms (ASCII case
 * folded), append the member "name": "…snippet…" to `out` (after a comma
 * when `members` > 0), every term in it wrapped in `open` and `close`, and
 * return 1; else append nothing and return 0. */
int crm__search_snippet(crm__buf *out, int members, const char *name, const char *text, size_t len,
			const crm__search_term *terms, int nterms, const char *open, const char *close);

/* Options (lib/search/options.c): `o` (may be NULL) is an object whose
 * keys are all in `keys` (NULL-ended), else CRM_EINVAL "unknown <what>
 * option 'x'"; its "limit", when present, a whole number from 1 to `max`
 * (into *out), else CRM_EINVAL. */
int crm__search_check_options(crm_db *db, const cJSON *o, const char *const *keys, const char *what);
int crm__search_limit(crm_db *db, const cJSON *o, int max, int *out);

/* The forms that have an index now, each name followed by a NUL, appended
 * to `names`; *n counts them. */
int crm__search_forms(crm_db *db, crm__buf *names, int *n);

#endif
