/* Internals shared by lib/io's duplicate and merge files. */
#ifndef CRM_LIB_IO_DEDUP_INT_H
#define CRM_LIB_IO_DEDUP_INT_H

#include "crm/io.h"
#include "dedup.h"
#include "form/form_int.h"
#include "normalize.h"

#define CRM__DEDUP_MAX_RULES 16
#define CRM__DEDUP_MAX_FIELDS 8

enum { CRM__ON_INSERT_OFF, CRM__ON_INSERT_WARN, CRM__ON_INSERT_BLOCK };
/* Survivorship of one field in a merge. */
enum { CRM__KEEP_NON_EMPTY, CRM__KEEP_SURVIVOR, CRM__KEEP_OTHER, CRM__KEEP_NEWEST, CRM__KEEP_UNSAID = 0xff };

typedef struct crm__dedup_rule {
	char *name;
	int fuzzy;        /* compared pairwise by similarity, no stored key */
	double threshold; /* fuzzy: the least similarity reported */
	int nfields;
	int fields[CRM__DEDUP_MAX_FIELDS]; /* positions */
	crm__norm norm[CRM__DEDUP_MAX_FIELDS];
} crm__dedup_rule;

struct crm__dedup {
	crm__dedup_rule rules[CRM__DEDUP_MAX_RULES];
	int nrules;
	int nexact;    /* rules with a stored key */
	int on_insert; /* CRM__ON_INSERT_* */
	unsigned char *keep; /* "merge": survivorship per field position (CRM__KEEP_*, CRM__KEEP_UNSAID) */
};

/* Make crm_dupkey and crm_merge when missing (once per handle). */
int crm__dedup_schema(crm_db *db);
/* The stored key of exact rule `r` for record values `v` into `out`
 * (empty: the record has none, a field is empty). */
int crm__dedup_key(crm_db *db, const crm__dedup_rule *r, const crm__value *v, crm__buf *out);
/* Survivorship policy by name; -1 when unknown. */
int crm__dedup_keep_from_name(const char *name);

#endif
