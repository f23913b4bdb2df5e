/* crm_json_zip(names, values): the object a compact audit entry stands for
 * (crm__json_zip; docs/audit.md), for the reads that take it in SQL (an
 * event showing its audit entry, lib/event/event.h). NULL when either
 * argument is NULL or not what it must be: the read then shows '{}', as for
 * an entry gone (crm_audit_verify reports what was changed). */
#include "core/alloc.h"
#include "core/json_scan.h"
#include "sqlite_sum.h"

static void zip(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *names = (const char *)sqlite3_value_text(argv[0]), *values;
	size_t names_n = (size_t)sqlite3_value_bytes(argv[0]), values_n;
	crm__buf out = CRM__BUF_INIT;

	(void)argc;
	values = (const char *)sqlite3_value_text(argv[1]);
	values_n = (size_t)sqlite3_value_bytes(argv[1]);
	if (!names || !values)
		return; /* NULL */
	if (crm__json_zip(&out, names, names_n, values, values_n) == 0) {
		sqlite3_result_text(ctx, out.p, (int)out.len, crm__free);
		return; /* the result owns the text */
	}
	if (out.oom)
		sqlite3_result_error_nomem(ctx);
	crm__buf_free(&out);
}

int crm__sqlite_register_zip(sqlite3 *sql)
{
	return sqlite3_create_function(sql, "crm_json_zip", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
				       NULL, zip, NULL, NULL);
}
