/* Consumer filters, {"forms": [...], "types": [...]} (include/crm/event.h):
 * checked, stored as normalised JSON, and turned into the conditions of a
 * consumer's scan of the outbox, every value bound. */
#include <stdio.h>
#include <string.h>

#include "consumer_filter.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/json_parse.h"
#include "form/form_int.h"

#define MAX_FILTER_ITEMS 100
#define MAX_TYPE_BYTES 255

/* A form name (it need not exist yet) or an event type, a '*' only at its end. */
static int item_ok(const cJSON *v, int is_type)
{
	const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
	const char *star;
	size_t n = s ? strlen(s) : 0;

	if (!s)
		return 0;
	if (!is_type)
		return crm__valid_name(s);
	star = strchr(s, '*');
	return n > 0 && n <= MAX_TYPE_BYTES && (!star || star == s + n - 1) && crm__utf8_length(s, n) >= 0;
}

static int check_list(crm_db *db, const cJSON *list, const char *key)
{
	int is_type = strcmp(key, "types") == 0, i = 0;
	const cJSON *v;

	if (!cJSON_IsArray(list) || !list->child || cJSON_GetArraySize(list) > MAX_FILTER_ITEMS)
		return crm__error_path(db, is_type ? "filter.types" : "filter.forms", "a list of 1 to %d %s",
				       MAX_FILTER_ITEMS, is_type ? "event types" : "form names");
	cJSON_ArrayForEach(v, list)
	{
		char path[32];

		if (!item_ok(v, is_type)) {
			snprintf(path, sizeof path, "filter.%s[%d]", key, i);
			return crm__error_path(db, path, is_type ? "an event type (1 to %d bytes; '*' only at the end)"
								 : "a form name (a-z, 0-9 and '_', at most %d)",
					       is_type ? MAX_TYPE_BYTES : 63);
		}
		i++;
	}
	return CRM_OK;
}

/* Check the filter `v` (an object) and take its lists into *f (borrowed from v). */
int crm__event_filter_check(crm_db *db, const cJSON *v, crm__event_filter *f)
{
	const cJSON *m;

	if (!cJSON_IsObject(v))
		return crm__error_path(db, "filter", "an object {\"forms\": [...], \"types\": [...]} or null");
	cJSON_ArrayForEach(m, v)
	{
		if (strcmp(m->string, "forms") == 0)
			f->forms = m;
		else if (strcmp(m->string, "types") == 0)
			f->types = m;
		else
			return crm__error_path(db, "filter", "unknown member (a filter has \"forms\" and \"types\")");
	}
	if (f->forms && check_list(db, f->forms, "forms"))
		return db->errcode;
	return f->types ? check_list(db, f->types, "types") : CRM_OK;
}

/* The filter as stored: its lists and nothing else, or NULL for an empty one. */
char *crm__event_filter_text(const crm__event_filter *f)
{
	static const char *const keys[2] = { "\"forms\":[", "\"types\":[" };
	const cJSON *lists[2] = { f->forms, f->types }, *v;
	crm__buf b = CRM__BUF_INIT;

	for (int k = 0; k < 2; k++) {
		int n = 0;
		if (!lists[k])
			continue;
		crm__buf_puts(&b, b.len ? "]," : "{");
		crm__buf_puts(&b, keys[k]);
		cJSON_ArrayForEach(v, lists[k])
		{
			crm__buf_puts(&b, n++ ? "," : "");
			crm__json_cstr(&b, v->valuestring);
		}
	}
	if (b.len)
		crm__buf_puts(&b, "]}");
	if (b.oom || !b.len) {
		crm__buf_free(&b);
		return NULL;
	}
	return crm__buf_detach(&b);
}

/* The stored filter text back into *f (cJSON_Delete f->root). */
int crm__event_filter_load(crm_db *db, const char *text, crm__event_filter *f)
{
	*f = (crm__event_filter){ 0 };
	if (!text)
		return CRM_OK;
	if (crm__json_parse(db, text, "the stored consumer filter", &f->root) == CRM_ENOMEM)
		return CRM_ENOMEM;
	if (!f->root || crm__event_filter_check(db, f->root, f)) {
		cJSON_Delete(f->root);
		*f = (crm__event_filter){ 0 };
		return crm__error(db, CRM_EIO, "a consumer's stored filter is corrupt (written behind libcrm's back?)");
	}
	return CRM_OK;
}

/* The filter's conditions, appended to a WHERE clause. */
void crm__event_filter_sql(const crm__event_filter *f, crm__buf *sql)
{
	const cJSON *v;
	int n = 0;

	if (f->forms) {
		crm__buf_puts(sql, " AND form IN (");
		cJSON_ArrayForEach(v, f->forms) crm__buf_puts(sql, n++ ? ",?" : "?");
		crm__buf_putc(sql, ')');
	}
	n = 0;
	if (f->types) {
		crm__buf_puts(sql, " AND (");
		cJSON_ArrayForEach(v, f->types)
		{
			crm__buf_puts(sql, n++ ? " OR " : "");
			/* A prefix compares the first characters (substr counts
			 * characters on both backends): no LIKE, so '%' and '_'
			 * in a type mean themselves. */
			crm__buf_puts(sql, strchr(v->valuestring, '*') ? "substr(type, 1, ?) = ?" : "type = ?");
		}
		crm__buf_putc(sql, ')');
	}
}

/* Bind the filter's values from parameter `i` on; returns the next one. */
int crm__event_filter_bind(crm__stmt *st, const crm__event_filter *f, int i)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, f->forms) crm__bind_text(st, i++, v->valuestring, -1);
	cJSON_ArrayForEach(v, f->types)
	{
		const char *s = v->valuestring;
		size_t n = strlen(s);

		if (s[n - 1] == '*') {
			crm__bind_int64(st, i++, crm__utf8_length(s, n - 1));
			crm__bind_text(st, i++, s, (int)n - 1);
		} else
			crm__bind_text(st, i++, s, (int)n);
	}
	return i;
}
