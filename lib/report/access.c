/* Reports as the current actor may run them (docs/access.md): every column
 * a report reads must be readable by the actor (dimensions, measures and
 * their filters, the report's filter with its parameters, a funnel's field,
 * and each reference a field path follows), and every table it reads,
 * through a path too, is read through the actor's row rules. The handle's
 * cached report serves the system actor and forms without permissions; a
 * restricted actor gets a private copy compiled with its views. */
#include <string.h>

#include "core/alloc.h"
#include "report_int.h"

void crm__report_views_free(crm__access **views, int n)
{
	if (!views)
		return;
	for (int i = 0; i < n; i++)
		crm__access_free(views[i]);
	crm__free(views);
}

/* The form of view `view` (0: the source, 1 + j: join j). */
static const crm__form *view_form(const crm__report *rep, int view)
{
	return view ? rep->joins[view - 1].form : rep->source;
}

/* Column `column` of the report's virtual form, and every reference its
 * path follows, readable through `views`; else the hidden error naming it
 * as the report does ("customer.industry"). */
static int column_readable(crm_db *db, const crm__report *rep, crm__access *const *views, int column)
{
	const crm__rvcol *vc;

	if (column < rep->source->nfields)
		return crm__access_readable(views[0], column) ? CRM_OK : crm__access_hidden_error(db, &rep->vform, column);
	vc = &rep->vcols[column - rep->source->nfields];
	for (int j = vc->join; j >= 0; j = rep->joins[j].parent) {
		int parent = rep->joins[j].parent + 1; /* the view the reference is read from */
		if (!crm__access_readable(views[parent], rep->joins[j].ref_column))
			return crm__access_hidden_error(db, view_form(rep, parent), rep->joins[j].ref_column);
	}
	return crm__access_readable(views[1 + vc->join], vc->column) ? CRM_OK
								      : crm__access_hidden_error(db, &rep->vform, column);
}

static int filter_readable(crm_db *db, const crm__report *rep, crm__access *const *views, const crm__filter *f)
{
	int rc = CRM_OK;

	if (!f)
		return CRM_OK;
	if (f->op == CRM__FOP_AND || f->op == CRM__FOP_OR || f->op == CRM__FOP_NOT) {
		for (int i = 0; rc == CRM_OK && i < f->nkids; i++)
			rc = filter_readable(db, rep, views, f->kids[i]);
		return rc;
	}
	return column_readable(db, rep, views, f->column);
}

/* Everything the report reads: "having" and "order" name only dimensions
 * and measures, which are checked here. */
static int columns_readable(crm_db *db, const crm__report *rep, crm__access *const *views)
{
	int rc = filter_readable(db, rep, views, rep->filter);

	for (int d = 0; rc == CRM_OK && d < rep->ndims; d++)
		rc = column_readable(db, rep, views, rep->dims[d].column);
	for (int m = 0; rc == CRM_OK && m < rep->nmeasures; m++) {
		const crm__rmeasure *ms = &rep->measures[m];
		if (ms->agg != CRM__A_RATIO && ms->column != INT32_MIN)
			rc = column_readable(db, rep, views, ms->column);
		if (rc == CRM_OK)
			rc = filter_readable(db, rep, views, ms->filter);
	}
	if (rc == CRM_OK && rep->funnel == CRM__FUNNEL_FIELD)
		rc = column_readable(db, rep, views, rep->funnel_column);
	return rc;
}

/* The actor's views of the forms `rep` reads in *out (NULL when none restricts). */
static int open_views(crm_db *db, const crm__report *rep, crm__access ***out)
{
	int n = 1 + rep->njoins, restricted = 0, rc = CRM_OK;
	crm__access **views;

	*out = NULL;
	if (crm__actor_is_system(db))
		return CRM_OK;
	if (!(views = crm__calloc((size_t)n, sizeof *views)))
		return crm__error_oom(db);
	for (int v = 0; rc == CRM_OK && v < n; v++)
		if ((rc = crm__access_open(db, view_form(rep, v), &views[v])) == CRM_OK)
			restricted |= views[v] != NULL;
	if (rc || !restricted) {
		crm__report_views_free(views, n);
		return rc;
	}
	*out = views;
	return CRM_OK;
}

int crm__report_for_actor(crm_db *db, const char *name, crm__report **out)
{
	crm__report *rep, *own;
	crm__access **views;
	cJSON *def;
	int rc;

	*out = NULL;
	if ((rc = crm__report_lookup(db, name, &rep)) || (rc = open_views(db, rep, &views)))
		return rc;
	if (!views) {
		crm__report_retain(rep);
		*out = rep;
		return CRM_OK;
	}
	if ((rc = columns_readable(db, rep, views))) {
		crm__report_views_free(views, 1 + rep->njoins);
		return rc;
	}
	/* The same definition, compiled with the views (which it takes over). */
	if (!(def = cJSON_Parse(rep->body))) {
		crm__report_views_free(views, 1 + rep->njoins);
		return crm__error_oom(db);
	}
	rc = crm__report_define_as(db, def, views, 1 + rep->njoins, &own);
	cJSON_Delete(def);
	if (rc)
		return rc;
	own->version = rep->version;
	*out = own;
	return CRM_OK;
}
