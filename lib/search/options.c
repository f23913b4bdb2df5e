/* What crm_search and crm_timeline check alike in their options. */
#include <string.h>

#include "search_int.h"

int crm__search_check_options(crm_db *db, const cJSON *o, const char *const *keys, const char *what)
{
	if (o && !cJSON_IsObject(o))
		return crm__error(db, CRM_EINVAL, "%s options must be a JSON object", what);
	for (const cJSON *v = o ? o->child : NULL; v; v = v->next) {
		int ok = 0;
		for (const char *const *k = keys; *k && !ok; k++)
			ok = strcmp(*k, v->string) == 0;
		if (!ok)
			return crm__error_path(db, v->string, "unknown %s option '%s'", what, v->string);
	}
	return CRM_OK;
}

int crm__search_limit(crm_db *db, const cJSON *o, int max, int *out)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, "limit") : NULL;

	if (!v)
		return CRM_OK;
	if (!cJSON_IsNumber(v) || v->valuedouble != (int)v->valuedouble || v->valueint < 1 || v->valueint > max)
		return crm__error_path(db, "limit", "'limit' is a whole number from 1 to %d", max);
	*out = v->valueint;
	return CRM_OK;
}
