/* The normalisers of duplicate rules (lib/io/normalize.c): one spelling per
 * value, so records that mean the same thing meet on one stored key. */
#ifndef CRM_LIB_IO_NORMALIZE_H
#define CRM_LIB_IO_NORMALIZE_H

#include <stddef.h>

#include "core/buf.h"
#include "crm/db.h"

typedef enum crm__norm {
	CRM__NORM_EXACT = 0, /* the text as stored, trimmed */
	CRM__NORM_PHONE,     /* digits; Chinese mobiles without +86/0086/86 */
	CRM__NORM_EMAIL,     /* trimmed, case folded */
	CRM__NORM_NAME,      /* NFKC, case folded, traditional -> simplified, spaces collapsed */
} crm__norm;

/* The index of `name` (may be NULL) in names[0..n), or -1. */
int crm__name_index(const char *const *names, size_t n, const char *name);
/* The normaliser called `name` ("exact", "phone", "email", "name"); -1 when unknown. */
int crm__norm_from_name(const char *name);
/* Append the normal form of s[0..n) (valid UTF-8) to `out`; nothing when
 * it normalises to empty. CRM_OK, or CRM_ENOMEM / CRM_ERROR with the error
 * set on db (OpenCC could not be loaded). */
int crm__normalize(crm_db *db, crm__norm kind, const char *s, size_t n, crm__buf *out);
/* The handle's OpenCC converter slot (lib/io/dedup.c keeps it). */
void **crm__norm_cc(crm_db *db);
/* Close the OpenCC converter `cc` (from crm__normalize; NULL does nothing). */
void crm__norm_close(void *cc);

#endif
