/* Rollup fields shown to an actor (docs/access.md). A rollup aggregates
 * child records, some of which the actor may not be allowed to see: its
 * value would leak their count or their amounts. So a rollup is readable
 * only when the actor reads every record of the child form and every child
 * field the rollup reads (the aggregated field and those of its filter);
 * otherwise it is hidden, as if a rule hid it. The decision depends on the
 * rules alone, never on which children a record has: hiding a value only
 * where an unseen child exists would tell that one exists. */
#include <string.h>

#include "access_int.h"
#include "form/form_int.h"

/* Every field (or owner) the rollup filter `f` (its JSON) names is readable in child view `c`. */
static int filter_fields_readable(const crm__access *c, const crm__form *child, const cJSON *f)
{
	const cJSON *kid, *field = cJSON_GetObjectItemCaseSensitive(f, "field");

	if (cJSON_IsString(field)) {
		const crm__field *fd = crm__form_field(child, field->valuestring, strlen(field->valuestring));
		if (fd)
			return crm__access_readable(c, fd->position);
		return strcmp(field->valuestring, "owner") != 0 || crm__access_readable(c, CRM__COL_OWNER);
	}
	cJSON_ArrayForEach(kid, f)
	if ((cJSON_IsObject(kid) || cJSON_IsArray(kid)) && !filter_fields_readable(c, child, kid))
		return 0;
	return 1;
}

/* Whether the actor reads every record of the child view `c` (some rule it
 * takes grants read on every row). */
static int reads_every_row(const crm__access *c)
{
	for (int i = 0; i < c->rules->n; i++)
		if (c->applies[i] && (c->rules->rule[i].ops & (1u << CRM__ACCESS_READ)) && !c->rows[i])
			return 1;
	return 0;
}

static int rollup_readable(crm_db *db, const crm__field *field, int *out)
{
	const crm__rollup_def *def = field->rollup;
	crm__form *child;
	crm__access *c = NULL;
	cJSON *filter = NULL;
	int rc;

	*out = 0;
	if ((rc = crm__form_lookup(db, def->form, &child)))
		return rc == CRM_ENOTFOUND ? CRM_OK : rc; /* a broken rollup shows nothing */
	if ((rc = crm__access_open_at(db, child, 1, &c)))
		return rc;
	if (!c) {
		*out = 1;
		return CRM_OK;
	}
	if (reads_every_row(c)) {
		const crm__field *src = def->field ? crm__form_field(child, def->field, strlen(def->field)) : NULL;
		*out = !def->field || (src && crm__access_readable(c, src->position));
		if (*out && def->filter) {
			if (!(filter = cJSON_Parse(def->filter)))
				rc = crm__error_oom(db);
			else
				*out = filter_fields_readable(c, child, filter);
		}
	}
	cJSON_Delete(filter);
	crm__access_free(c);
	return rc;
}

int crm__access_rollups(crm_db *db, crm__access *a)
{
	for (int j = 0; j < a->form->nfields; j++) {
		const crm__field *f = &a->form->fields[j];
		int ok, rc;

		if (f->type != CRM_TYPE_ROLLUP || !f->rollup || !a->readable[j])
			continue;
		if ((rc = rollup_readable(db, f, &ok)))
			return rc;
		a->readable[j] = (unsigned char)ok;
	}
	return CRM_OK;
}
