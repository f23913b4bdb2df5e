/* Report parameters: checking the values a caller passes (unknown and
 * missing names), converting each by the rules of the field it is compared
 * with (exactly as a literal in the filter would be), and binding them. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json_parse.h"
#include "core/json_scan.h"
#include "report_int.h"
#include "store/value.h"

struct crm__rargs_conv {
	const crm__filter *node;
	crm__filter *lit;
};

static int param_index(const crm__report *rep, const char *name)
{
	for (int i = 0; i < rep->nparams; i++)
		if (strcmp(rep->params[i].name, name) == 0)
			return i;
	return -1;
}

static const char *node_column(const crm__form *form, const crm__filter *node)
{
	return node->column >= 0 ? form->fields[node->column].name : crm__system_columns[-node->column - 1];
}

/* The condition `node` with `value` in place of its parameter, parsed by
 * the filter parser: the same checks and conversion as a literal. */
static crm__filter *convert(crm_db *db, const crm__form *form, const crm__filter *node, const cJSON *value,
			    const char *path)
{
	cJSON *cond = cJSON_CreateObject(), *v = cJSON_Duplicate(value, 1);
	crm__filter *lit = NULL;

	if (!cond || !v || !cJSON_AddStringToObject(cond, "field", node_column(form, node)) ||
	    !cJSON_AddStringToObject(cond, "op", crm__report_op_name(node->op)) || !cJSON_AddItemToObject(cond, "value", v)) {
		cJSON_Delete(cond);
		cJSON_Delete(v);
		crm__error_oom(db);
		return NULL;
	}
	lit = crm__filter_parse(db, form, cond, path, 0);
	cJSON_Delete(cond);
	if (lit && (lit->op != node->op || lit->nvalues < 1 || lit->values[0].kind == CRM__V_NULL)) {
		/* "" or null would turn "eq" into "is_null": not a value */
		crm__filter_free(lit);
		crm__error_path(db, path, "parameter '%s' needs a value (not empty or null)", node->param);
		return NULL;
	}
	return lit;
}

typedef struct check_walk {
	crm_db *db;
	const crm__form *form;
	const crm__rparam *p;
	const cJSON *value;
	const char *path;
	int rc;
} check_walk;

static void check_use(void *payload, const crm__filter *node)
{
	check_walk *w = payload;
	crm__filter *lit;

	if (w->rc || strcmp(node->param, w->p->name) != 0)
		return;
	if (!(lit = convert(w->db, w->form, node, w->value, w->path)))
		w->rc = w->db->errcode ? w->db->errcode : CRM_EINVAL;
	crm__filter_free(lit);
}

int crm__report_check_param(crm_db *db, const crm__report *rep, const crm__rparam *p, const cJSON *value,
			    const char *path)
{
	check_walk w = { db, &rep->vform, p, value, path, CRM_OK };

	crm__report_each_param(rep->filter, check_use, &w);
	for (int i = 0; i < rep->nmeasures; i++)
		crm__report_each_param(rep->measures[i].filter, check_use, &w);
	w.form = &rep->mform;
	crm__report_each_param(rep->having, check_use, &w);
	return w.rc;
}

int crm__report_parse_json(crm_db *db, const char *text, const char *what, cJSON **out)
{
	return crm__json_parse(db, text, what, out);
}

int crm__rargs_init(crm_db *db, const crm__report *rep, const char *params_json, crm__rargs *args)
{
	const cJSON *m;
	char path[96];

	memset(args, 0, sizeof *args);
	if (!(args->vals = crm__calloc((size_t)rep->nparams + 1, sizeof *args->vals)))
		return crm__error_oom(db);
	if (params_json && *params_json) {
		int rc = crm__report_parse_json(db, params_json, "the report parameters", &args->doc);
		if (rc)
			return rc;
		if (!cJSON_IsObject(args->doc) && !cJSON_IsNull(args->doc))
			return crm__error_path(db, "params", "report parameters are a JSON object {\"name\": value}");
	}
	for (m = args->doc ? args->doc->child : NULL; m; m = m->next) {
		int i = param_index(rep, m->string);
		snprintf(path, sizeof path, "params.%.64s", m->string);
		if (i < 0) {
			char list[300] = "";
			for (int k = 0; k < rep->nparams; k++)
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "", rep->params[k].name);
			return crm__error_path(db, path, "report '%s' has no parameter '%.64s' (%s%s)", rep->name, m->string,
						rep->nparams ? "it takes: " : "it takes none", list);
		}
		if (args->vals[i])
			return crm__error_path(db, path, "parameter '%s' is given twice", m->string);
		/* null: as if not given (the default applies) */
		if (!cJSON_IsNull(m))
			args->vals[i] = m;
	}
	for (int i = 0; i < rep->nparams; i++) {
		if (!args->vals[i])
			args->vals[i] = rep->params[i].def;
		if (!args->vals[i]) {
			snprintf(path, sizeof path, "params.%s", rep->params[i].name);
			return crm__error_path(db, path, "report '%s' needs parameter '%s'", rep->name, rep->params[i].name);
		}
	}
	return CRM_OK;
}

void crm__rargs_free(crm__rargs *args)
{
	for (int i = 0; i < args->nconv; i++)
		crm__filter_free(args->conv[i].lit);
	crm__free(args->conv);
	crm__free(args->vals);
	cJSON_Delete(args->doc);
	memset(args, 0, sizeof *args);
}

int crm__rargs_literal(crm_db *db, const crm__report *rep, crm__rargs *args, const crm__filter *node,
		       const crm__form *form, const crm__filter **out)
{
	char path[96];
	crm__filter *lit;
	int i;

	for (int k = 0; k < args->nconv; k++)
		if (args->conv[k].node == node)
			return *out = args->conv[k].lit, CRM_OK;
	i = param_index(rep, node->param);
	if (i < 0 || !args->vals[i])
		return crm__error(db, CRM_ERROR, "parameter '%s' has no value", node->param);
	snprintf(path, sizeof path, "params.%s", node->param);
	if (!(lit = convert(db, form, node, args->vals[i], path)))
		return db->errcode ? db->errcode : CRM_EINVAL;
	if (args->nconv == args->capconv) {
		int cap = args->capconv ? args->capconv * 2 : 8;
		crm__rargs_conv *grown = crm__realloc(args->conv, (size_t)cap * sizeof *grown);
		if (!grown) {
			crm__filter_free(lit);
			return crm__error_oom(db);
		}
		args->conv = grown;
		args->capconv = cap;
	}
	args->conv[args->nconv].node = node;
	args->conv[args->nconv].lit = lit;
	args->nconv++;
	*out = lit;
	return CRM_OK;
}

int crm__rargs_bind(crm_db *db, const crm__report *rep, crm__rargs *args, const crm__rbinds *binds,
		    crm__stmt *st)
{
	for (int i = 0; i < binds->n; i++) {
		const crm__rbind *b = &binds->v[i];
		const crm__value *v = b->v;
		int rc;

		if (b->param) {
			const crm__filter *lit = NULL;
			if ((rc = crm__rargs_literal(db, rep, args, b->node, b->form, &lit)))
				return rc;
			v = &lit->values[0];
		}
		if (v->nat && b->form == &rep->mform) {
			/* Measures are computed in the engines' representation
			 * (scaled decimals, ms): so are the literals they meet. */
			crm__value plain = *v;
			plain.nat = CRM__NAT_NONE;
			rc = crm__value_bind(st, i + 1, &plain);
		} else
			rc = crm__value_bind(st, i + 1, v);
		if (rc != CRM_OK)
			return rc;
	}
	return CRM_OK;
}
