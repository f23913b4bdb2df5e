/* The "permissions" of a form definition, checked at apply time and kept
 * compiled on the form: every role, op, field and filter is validated here,
 * so enforcement never meets a name it does not know. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "access_int.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "form/form_int.h"

#define MAX_RULES CRM__ACCESS_MAX_RULES
#define MAX_ROLES 256
#define MAX_EVENTS 256
#define MAX_CHAIN 4 /* visible steps one rule may follow */

static const char *const op_names[CRM__ACCESS_OPS_] = { "read", "create", "update", "delete" };

const char *crm__access_op_name(crm__access_op op) { return op >= 0 && op < CRM__ACCESS_OPS_ ? op_names[op] : "?"; }

static int fail(crm_db *db, const crm__form *form, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Name the form in the last error, as the rest of a definition's errors do. */
static int in_form(crm_db *db, const crm__form *form)
{
	char prefix[80];

	snprintf(prefix, sizeof prefix, "form %s", form->name);
	return crm__error_context(db, prefix, NULL);
}

static int fail(crm_db *db, const crm__form *form, const char *path, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	crm__error_path(db, path, "%s", msg);
	return in_form(db, form);
}

static void rule_free(crm__access_rule *r)
{
	for (int i = 0; i < r->nroles; i++)
		crm__free(r->roles[i]);
	crm__free(r->roles);
	cJSON_Delete(r->rows);
	cJSON_Delete(r->check);
	crm__free(r->modes);
	for (int i = 0; i < r->nevents; i++)
		crm__free(r->events[i]);
	crm__free(r->events);
}

void crm__access_rules_free(crm__access_rules *rules)
{
	if (!rules)
		return;
	for (int i = 0; i < rules->n; i++)
		rule_free(&rules->rule[i]);
	crm__free(rules->rule);
	crm__free(rules);
}

int crm__access_mode_index(const crm__form *form, int column)
{
	if (column >= 0)
		return column;
	return column == CRM__COL_OWNER ? form->nfields : -1;
}

static int compile_roles(crm_db *db, const crm__form *form, crm__access_rule *r, const cJSON *v, const char *path)
{
	const cJSON *el;
	int n = cJSON_GetArraySize(v);

	if (cJSON_IsString(v) && strcmp(v->valuestring, "*") == 0)
		return CRM_OK;
	if (!cJSON_IsArray(v) || n == 0 || n > MAX_ROLES)
		return fail(db, form, path, "'roles' is \"*\" or a non-empty array of at most %d role names", MAX_ROLES);
	if (!(r->roles = crm__calloc((size_t)n, sizeof *r->roles)))
		return crm__error_oom(db);
	cJSON_ArrayForEach(el, v)
	{
		if (cJSON_IsString(el) && strcmp(el->valuestring, "*") == 0) { /* "*" among others: every actor */
			for (int i = 0; i < r->nroles; i++)
				crm__free(r->roles[i]);
			r->nroles = 0;
			return CRM_OK;
		}
		if (!cJSON_IsString(el) || !crm__access_valid_name(el->valuestring, 1))
			return fail(db, form, path, "a role name is 1 to 64 letters, digits, '_', '-' or '.'");
		if (!(r->roles[r->nroles++] = crm__strdup(el->valuestring)))
			return crm__error_oom(db);
	}
	return CRM_OK;
}

static int compile_allow(crm_db *db, const crm__form *form, crm__access_rule *r, const cJSON *v, const char *path)
{
	const cJSON *el;

	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
		return fail(db, form, path, "'allow' is a non-empty array of read, create, update, delete");
	cJSON_ArrayForEach(el, v)
	{
		int op = -1;
		for (int i = 0; i < CRM__ACCESS_OPS_ && cJSON_IsString(el); i++)
			if (strcmp(el->valuestring, op_names[i]) == 0)
				op = i;
		if (op < 0)
			return fail(db, form, path, "'allow' takes read, create, update and delete, not %.64s",
				    cJSON_IsString(el) ? el->valuestring : "a non-string");
		r->ops |= 1u << op;
	}
	return CRM_OK;
}

static int compile_fields(crm_db *db, const crm__form *form, crm__access_rule *r, const cJSON *v, const char *path)
{
	char p[200];
	const cJSON *el;

	if (!(r->modes = crm__calloc((size_t)form->nfields + 1, 1)))
		return crm__error_oom(db);
	if (!v)
		return CRM_OK;
	if (!cJSON_IsObject(v))
		return fail(db, form, path, "'fields' maps field names to \"hidden\" or \"read_only\"");
	for (el = v->child; el; el = el->next) {
		const crm__field *f = crm__form_field(form, el->string, strlen(el->string));
		int at = f ? f->position : strcmp(el->string, "owner") == 0 ? form->nfields : -1;

		snprintf(p, sizeof p, "%s.%.64s", path, el->string);
		if (at < 0)
			return fail(db, form, p, "unknown field '%.64s' (a field of the form or owner)", el->string);
		if (cJSON_IsString(el) && strcmp(el->valuestring, "hidden") == 0)
			r->modes[at] = CRM__MODE_HIDDEN;
		else if (cJSON_IsString(el) && strcmp(el->valuestring, "read_only") == 0)
			r->modes[at] = CRM__MODE_READ_ONLY;
		else
			return fail(db, form, p, "a field is \"hidden\" or \"read_only\"");
	}
	return CRM_OK;
}

static int compile_events(crm_db *db, const crm__form *form, crm__access_rule *r, const cJSON *v, const char *path)
{
	const cJSON *el;
	int n = cJSON_GetArraySize(v);

	if (!v)
		return CRM_OK;
	if (!cJSON_IsArray(v) || n > MAX_EVENTS)
		return fail(db, form, path, "'events' is an array of at most %d event names, or [\"*\"]", MAX_EVENTS);
	if (!(r->events = crm__calloc((size_t)n + 1, sizeof *r->events)))
		return crm__error_oom(db);
	cJSON_ArrayForEach(el, v)
	{
		if (!cJSON_IsString(el) || !*el->valuestring || strlen(el->valuestring) > 64)
			return fail(db, form, path, "an event name is a string of 1 to 64 bytes");
		if (strcmp(el->valuestring, "*") == 0) {
			r->any_event = 1;
			continue;
		}
		if (!(r->events[r->nevents++] = crm__strdup(el->valuestring)))
			return crm__error_oom(db);
	}
	return CRM_OK;
}

/* A rows or check filter: parsed once here (names, ops, the shape of its
 * actor operands) and kept as JSON, parsed again with the actor's values. */
static int compile_filter(crm_db *db, crm__form *form, const cJSON *v, const char *path, cJSON **out)
{
	crm__filter *f;

	if (!v)
		return CRM_OK;
	if (!(f = crm__filter_parse(db, form, v, path, CRM__FILTER_ACTOR | CRM__FILTER_VISIBLE)))
		return in_form(db, form);
	crm__filter_free(f);
	return (*out = cJSON_Duplicate(v, 1)) ? CRM_OK : crm__error_oom(db);
}

static int compile_rule(crm_db *db, crm__form *form, crm__access_rule *r, const cJSON *def, int index)
{
	static const char *const keys[] = { "roles", "allow", "rows", "check", "fields", "events", NULL };
	char path[64], p[128];
	int rc;

	snprintf(path, sizeof path, "permissions[%d]", index);
	if (!cJSON_IsObject(def))
		return fail(db, form, path, "a rule is an object with roles, allow and optional rows, check, fields, events");
	for (const cJSON *m = def->child; m; m = m->next) {
		int ok = 0;
		for (const char *const *k = keys; *k && !ok; k++)
			ok = strcmp(m->string, *k) == 0;
		snprintf(p, sizeof p, "%s.%.32s", path, m->string);
		if (!ok)
			return fail(db, form, p, "unknown key '%.64s'", m->string);
	}
#define AT(key) (snprintf(p, sizeof p, "%s.%s", path, key), p)
	if (!cJSON_GetObjectItemCaseSensitive(def, "roles"))
		return fail(db, form, AT("roles"), "a rule needs 'roles'");
	if (!cJSON_GetObjectItemCaseSensitive(def, "allow") && !cJSON_GetObjectItemCaseSensitive(def, "events"))
		return fail(db, form, AT("allow"), "a rule needs 'allow' (or 'events')");
	if ((rc = compile_roles(db, form, r, cJSON_GetObjectItemCaseSensitive(def, "roles"), AT("roles"))) ||
	    (cJSON_GetObjectItemCaseSensitive(def, "allow") &&
	     (rc = compile_allow(db, form, r, cJSON_GetObjectItemCaseSensitive(def, "allow"), AT("allow")))) ||
	    (rc = compile_filter(db, form, cJSON_GetObjectItemCaseSensitive(def, "rows"), AT("rows"), &r->rows)) ||
	    (rc = compile_filter(db, form, cJSON_GetObjectItemCaseSensitive(def, "check"), AT("check"), &r->check)) ||
	    (rc = compile_fields(db, form, r, cJSON_GetObjectItemCaseSensitive(def, "fields"), AT("fields"))) ||
	    (rc = compile_events(db, form, r, cJSON_GetObjectItemCaseSensitive(def, "events"), AT("events"))))
		return rc;
#undef AT
	return CRM_OK;
}

int crm__access_compile(crm_db *db, crm__form *form, const cJSON *perms)
{
	crm__access_rules *rules;
	const cJSON *def;
	int n = cJSON_GetArraySize(perms), i = 0, rc;

	if (!perms)
		return CRM_OK;
	if (!cJSON_IsArray(perms) || n > MAX_RULES)
		return fail(db, form, "permissions", "'permissions' is an array of at most %d rules", MAX_RULES);
	if (!(rules = crm__calloc(1, sizeof *rules)) || (n && !(rules->rule = crm__calloc((size_t)n, sizeof *rules->rule)))) {
		crm__free(rules);
		return crm__error_oom(db);
	}
	form->access = rules;
	cJSON_ArrayForEach(def, perms)
	{
		rules->n = i + 1;
		if ((rc = compile_rule(db, form, &rules->rule[i], def, i)))
			return rc;
		i++;
	}
	return CRM_OK;
}

/* ---- visible chains, checked once every form of an apply is known ---- */

static int chain_filter(crm_db *db, const crm__form *form, const cJSON *json, const char **stack, int depth);

static int chain_form(crm_db *db, const crm__form *form, const char **stack, int depth)
{
	int rc;

	for (int i = 0; i < depth; i++)
		if (strcmp(stack[i], form->name) == 0)
			return crm__error(db, CRM_EINVAL, "form %s: permissions: 'visible' conditions go round in a cycle "
							  "through form %s",
					  stack[0], form->name);
	if (depth > MAX_CHAIN)
		return crm__error(db, CRM_EINVAL, "form %s: permissions: 'visible' conditions follow more than %d refs",
				  stack[0], MAX_CHAIN);
	if (!form->access)
		return CRM_OK;
	stack[depth] = form->name;
	for (int i = 0; i < form->access->n; i++) {
		const crm__access_rule *r = &form->access->rule[i];
		if ((rc = chain_filter(db, form, r->rows, stack, depth + 1)) ||
		    (rc = chain_filter(db, form, r->check, stack, depth + 1)))
			return rc;
	}
	return CRM_OK;
}

static int chain_filter(crm_db *db, const crm__form *form, const cJSON *json, const char **stack, int depth)
{
	const cJSON *op, *field, *kid;
	crm__form *target;
	int rc;

	if (!cJSON_IsObject(json))
		return CRM_OK;
	if (json->child && (strcmp(json->child->string, "and") == 0 || strcmp(json->child->string, "or") == 0)) {
		cJSON_ArrayForEach(kid, json->child)
		if ((rc = chain_filter(db, form, kid, stack, depth)))
			return rc;
		return CRM_OK;
	}
	if (json->child && strcmp(json->child->string, "not") == 0)
		return chain_filter(db, form, json->child, stack, depth);
	op = cJSON_GetObjectItemCaseSensitive(json, "op");
	field = cJSON_GetObjectItemCaseSensitive(json, "field");
	if (!cJSON_IsString(op) || strcmp(op->valuestring, "visible") != 0 || !cJSON_IsString(field))
		return CRM_OK;
	{
		const crm__field *f = crm__form_field(form, field->valuestring, strlen(field->valuestring));
		if (!f || !f->ref_form)
			return CRM_OK; /* checked when the rule was compiled */
		if ((rc = crm__form_lookup(db, f->ref_form, &target)))
			return rc == CRM_ENOTFOUND ? CRM_OK : rc; /* crm__form_check_refs names it */
	}
	return chain_form(db, target, stack, depth);
}

int crm__access_check_chains(crm_db *db, const char *name)
{
	const char *stack[MAX_CHAIN + 2];
	crm__form *form;
	int rc;

	if ((rc = crm__form_lookup(db, name, &form)))
		return rc;
	return chain_form(db, form, stack, 0);
}
