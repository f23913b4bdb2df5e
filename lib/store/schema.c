/* Field types, system columns and the life of a compiled form. */
#include <cJSON.h>
#include <string.h>

#include "core/alloc.h"
#include "filter.h"
#include "io/dedup.h"
#include "schema.h"

const char *const crm__system_columns[5] = { "id", "created_at", "updated_at", "owner", "version" };

static const char *const type_names[] = {
	[CRM_TYPE_TEXT] = "text",         [CRM_TYPE_LONG_TEXT] = "long_text", [CRM_TYPE_INTEGER] = "integer",
	[CRM_TYPE_DECIMAL] = "decimal",   [CRM_TYPE_NUMBER] = "number",       [CRM_TYPE_BOOLEAN] = "boolean",
	[CRM_TYPE_DATE] = "date",         [CRM_TYPE_DATETIME] = "datetime",   [CRM_TYPE_ENUM] = "enum",
	[CRM_TYPE_MULTI_ENUM] = "multi_enum", [CRM_TYPE_EMAIL] = "email",     [CRM_TYPE_PHONE] = "phone",
	[CRM_TYPE_URL] = "url",           [CRM_TYPE_REF] = "ref",             [CRM_TYPE_JSON] = "json",
	[CRM_TYPE_COMPUTED] = "computed", [CRM_TYPE_ROLLUP] = "rollup",
};

int crm__is_system_column(const char *name)
{
	for (int i = 0; i < 5; i++)
		if (strcmp(name, crm__system_columns[i]) == 0)
			return 1;
	return 0;
}

static int name_is(const crm__field *f, const char *name, size_t len)
{
	return f->name[0] == name[0] && strncmp(f->name, name, len) == 0 && f->name[len] == 0;
}

crm__field *crm__form_field_near(const crm__form *form, const char *name, size_t len, int guess)
{
	/* A decoded JSON key may hold "\u0000": strncmp would stop there and
	 * f->name[len] read past the end of a shorter name. No name has one. */
	if (len == 0 || memchr(name, 0, len))
		return NULL;
	if (guess >= 0 && guess < form->nfields && name_is(&form->fields[guess], name, len))
		return &form->fields[guess];
	for (int i = 0; i < form->nfields; i++)
		if (name_is(&form->fields[i], name, len))
			return &form->fields[i];
	return NULL;
}

crm__field *crm__form_field_cstr(const crm__form *form, const char *name, int guess)
{
	/* A C string holds no NUL before its end: strcmp needs no length. */
	if (guess >= 0 && guess < form->nfields && strcmp(form->fields[guess].name, name) == 0)
		return &form->fields[guess];
	for (int i = 0; i < form->nfields; i++)
		if (strcmp(form->fields[i].name, name) == 0)
			return &form->fields[i];
	return NULL;
}

crm__field *crm__form_field(const crm__form *form, const char *name, size_t len)
{
	return crm__form_field_near(form, name, len, -1);
}

crm__storage crm__storage_of(crm_type type)
{
	switch (type) {
	case CRM_TYPE_INTEGER:
	case CRM_TYPE_DECIMAL:
	case CRM_TYPE_BOOLEAN:
	case CRM_TYPE_DATETIME:
	case CRM_TYPE_REF: return CRM__S_INTEGER;
	case CRM_TYPE_NUMBER: return CRM__S_REAL;
	default: return CRM__S_TEXT;
	}
}

const char *crm__type_name(crm_type type)
{
	if (type >= CRM_TYPE_TEXT && type <= CRM_TYPE_ROLLUP)
		return type_names[type];
	return "unknown";
}

crm_type crm__type_from_name(const char *name)
{
	for (int t = CRM_TYPE_TEXT; t <= CRM_TYPE_ROLLUP; t++)
		if (strcmp(name, type_names[t]) == 0)
			return (crm_type)t;
	return (crm_type)0;
}

void crm__form_retain(crm__form *form)
{
	if (form)
		form->refs++;
}

static void field_free(crm__field *f)
{
	crm__free(f->id);
	crm__free(f->name);
	crm__free(f->label);
	/* Literals of the definition own their text. */
	if (f->def.kind == CRM__V_TEXT)
		crm__free((void *)f->def.s);
	if (f->min.kind == CRM__V_TEXT)
		crm__free((void *)f->min.s);
	if (f->max.kind == CRM__V_TEXT)
		crm__free((void *)f->max.s);
	crm__free(f->pattern);
	pcre2_code_free(f->re);
	for (size_t i = 0; i < f->noptions; i++)
		crm__free(f->options[i]);
	crm__free(f->options);
	crm__free(f->ref_form);
	crm__filter_free(f->required_when);
	crm__free(f->lua);
	crm__free(f->actor_default);
	if (f->rollup) {
		crm__free(f->rollup->form);
		crm__free(f->rollup->ref);
		crm__free(f->rollup->field);
		cJSON_free(f->rollup->filter);
		crm__free(f->rollup);
	}
}

void crm__form_release(crm__form *form)
{
	if (!form || --form->refs > 0)
		return;
	for (int i = 0; i < form->nfields; i++)
		field_free(&form->fields[i]);
	crm__free(form->fields);
	for (int i = 0; i < form->nindexes; i++) {
		crm__free(form->indexes[i].fields);
		crm__free(form->indexes[i].name);
	}
	crm__free(form->indexes);
	crm__finalize(form->st_insert);
	crm__finalize(form->st_get);
	crm__free(form->sql_get);
	crm__free(form->name);
	crm__free(form->label);
	cJSON_free(form->body);
	for (int i = 0; i < form->nvalidators; i++)
		crm__free(form->validators[i]);
	crm__free(form->validators);
	crm__access_rules_free(form->access);
	crm__dedup_free(form->dedup);
	crm__free(form);
}
