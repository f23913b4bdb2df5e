/* Duplicate rules as the lower layers see them: the form compiler compiles
 * and frees a form's "duplicates" member, the write path keeps each
 * record's normalised keys current (lib/hooks.c), crm_apply refills them
 * (lib/apply.c). The rest of duplicates and merge is in lib/io. */
#ifndef CRM_LIB_IO_DEDUP_H
#define CRM_LIB_IO_DEDUP_H

#include <cJSON.h>

#include "core/db_int.h"
#include "store/schema.h"

struct crm__write;
typedef struct crm__dedup crm__dedup;

/* Compile `def` (a form's "duplicates" member, may be NULL) for `form`,
 * whose fields are compiled: form->dedup is set (NULL without rules).
 * CRM_EINVAL with a "path" (duplicates...) for a bad member. */
int crm__dedup_compile(crm_db *db, crm__form *form, const cJSON *def);
void crm__dedup_free(crm__dedup *d);
/* 1 when writes of `form` keep duplicate keys (the write path needs each new id). */
int crm__dedup_watches(const crm__form *form);
/* After a record write, in its transaction: the record's keys follow its
 * values; an insert meeting another record's key is refused ("block") or
 * noted in crm_warnings ("warn"). */
int crm__dedup_after_write(crm_db *db, const struct crm__write *w, const crm__value *old, const crm__value *now);
/* After crm_apply changed form `name`: its keys are made again from its records. */
int crm__dedup_form_changed(crm_db *db, const char *name);

#endif
