/* Validation failures collected as a JSON array, so one call reports every
 * failing field at once. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "form_int.h"

void crm__errors_reset(crm__errors *e, const crm_db *db)
{
	crm__buf_reset(&e->json);
	e->count = 0;
	e->max = db->limits[CRM_LIMIT_DETAIL_ERRORS];
}

/* Entries past the limit are counted, not listed: 200000 unknown keys must
 * not make a 17 MB detail. */
static int listed(const crm__errors *e) { return e->count < e->max ? e->count : (int)e->max; }

void crm__errors_add(crm__errors *e, const char *field, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (e->count == 0)
		memcpy(e->first, msg, sizeof e->first - 1); /* truncated on purpose */
	if (e->count++ >= e->max)
		return;
	crm__buf_putc(&e->json, e->count > 1 ? ',' : '[');
	crm__buf_puts(&e->json, "{\"field\":");
	crm__json_cstr(&e->json, field);
	crm__buf_puts(&e->json, ",\"code\":");
	crm__json_cstr(&e->json, code);
	crm__buf_puts(&e->json, ",\"message\":");
	crm__json_cstr(&e->json, msg);
	crm__buf_putc(&e->json, '}');
}

void crm__errors_free(crm__errors *e)
{
	if (!e)
		return;
	crm__buf_free(&e->json);
	e->count = 0;
}

void crm__errors_write(crm__buf *out, const crm__errors *e)
{
	crm__buf_puts(out, "\"errors\":");
	if (listed(e)) {
		crm__buf_put(out, e->json.p, e->json.len);
		crm__buf_putc(out, ']');
	} else
		crm__buf_puts(out, "[]");
	if (e->count > listed(e)) {
		crm__buf_puts(out, ",\"truncated\":true,\"total\":");
		crm__buf_i64(out, e->count);
	}
}

int crm__errors_raise(crm_db *db, crm__errors *e, const char *what)
{
	crm__buf members = CRM__BUF_INIT;
	int rc;

	if (e->json.oom)
		return crm__error_oom(db);
	crm__errors_write(&members, e);
	if (members.oom)
		rc = crm__error_oom(db);
	else if (e->count == 1)
		rc = crm__error_detail(db, CRM_ECONSTRAINT, crm__buf_cstr(&members), "%s: %s", what, e->first);
	else
		rc = crm__error_detail(db, CRM_ECONSTRAINT, crm__buf_cstr(&members), "%s: %s (and %d more)", what,
				       e->first, e->count - 1);
	crm__buf_free(&members);
	return rc;
}
