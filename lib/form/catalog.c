/* The catalogue of form definitions: applying a new version (creating or
 * migrating the table, recording the definition) and reading them back. */
#include <stdio.h>
#include <string.h>

#include "access/access.h"
#include "core/alloc.h"
#include "form_int.h"
#include "store/ddl.h"

int crm__form_apply(crm_db *db, const cJSON *def, crm__form_changes *ch, int *out_changed)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(def, "form"));
	crm__form *old = NULL, *new = NULL;
	int rc, exists = 0;

	if (out_changed)
		*out_changed = 0;
	if (name && crm__valid_name(name)) {
		rc = crm__form_lookup(db, name, &old);
		if (rc == CRM_ENOTFOUND) {
			old = NULL;
			db->errcode = CRM_OK; /* a new form: not an error */
		}
		else if (rc)
			return rc;
	}
	crm__form_retain(old); /* the cache may be flushed below */
	if ((rc = crm__form_compile(db, def, old, &new)))
		goto done;
	if (old && strcmp(old->body, new->body) == 0) {
		/* Unchanged; a database made before views existed gets its view. */
		rc = crm__ddl_view(db, new, CRM__VIEW_CREATE);
		goto done;
	}
	if (old)
		rc = crm__form_migrate(db, old, new, ch);
	else if ((rc = db->be->relation_exists(db, new->name, &exists)) == CRM_OK) {
		if (exists)
			rc = crm__error(db, CRM_EEXISTS, "a table named '%s' already exists in this database", new->name);
		else
			rc = crm__ddl_create(db, new);
	}
	if (rc == CRM_OK)
		rc = crm__meta_store(db, "form", new->name, new->body, &new->version, NULL);
	if (rc == CRM_OK && out_changed)
		*out_changed = 1;
done:
	crm__form_release(old);
	crm__form_release(new);
	return rc;
}

int crm__form_check_refs(crm_db *db, const char *name)
{
	crm__form *form, *target;
	int rc;

	if ((rc = crm__form_lookup(db, name, &form)))
		return rc;
	for (int i = 0; i < form->nfields; i++) {
		const crm__field *f = &form->fields[i];
		if (f->type != CRM_TYPE_REF)
			continue;
		rc = crm__form_lookup(db, f->ref_form, &target);
		if (rc == CRM_ENOTFOUND) {
			char path[48];
			snprintf(path, sizeof path, "\"path\":\"fields[%d].form\"", i);
			return crm__error_detail(db, CRM_EINVAL, path,
						 "form %s: field %s refers to form '%s', which is not defined", form->name,
						 f->name, f->ref_form);
		}
		if (rc)
			return rc;
	}
	return crm__access_check_chains(db, name);
}

int crm_form_define(crm_db *db, const char *json) { return crm_apply(db, json); }

int crm_form_get(crm_db *db, const char *name, char **out) { return crm__meta_get(db, "form", "form", name, out); }

int crm_form_list(crm_db *db, char **out) { return crm__meta_list(db, "form", out); }
