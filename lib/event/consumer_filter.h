/* Consumer filters (consumer_filter.c), for lib/event/consumer.c. */
#ifndef CRM_LIB_EVENT_CONSUMER_FILTER_H
#define CRM_LIB_EVENT_CONSUMER_FILTER_H

#include <cJSON.h>

#include "core/db_int.h"

/* A filter, parsed: either list may be NULL (no restriction). */
typedef struct crm__event_filter {
	cJSON *root; /* what crm__event_filter_load parsed (cJSON_Delete it), else NULL */
	const cJSON *forms, *types;
} crm__event_filter;

/* Check the filter `v` (an object) and take its lists into *f, borrowed
 * from v: CRM_EINVAL with the path of what is wrong ("filter.types[2]"). */
int crm__event_filter_check(crm_db *db, const cJSON *v, crm__event_filter *f);
/* The filter as stored (crm__free): its lists and nothing else. NULL for a
 * filter without lists, or when memory ran out. */
char *crm__event_filter_text(const crm__event_filter *f);
/* The stored `text` (NULL: no filter) back into *f: CRM_EIO when it is
 * not a filter (written behind libcrm's back). */
int crm__event_filter_load(crm_db *db, const char *text, crm__event_filter *f);
/* The filter's conditions, appended to a WHERE clause, and their values
 * bound from parameter `i` on (returns the next parameter). */
void crm__event_filter_sql(const crm__event_filter *f, crm__buf *sql);
int crm__event_filter_bind(crm__stmt *st, const crm__event_filter *f, int i);

#endif
