/* One JSON object from two arrays, names and values (json_scan.h): how the
 * audit trail's compact entries read back as the objects they stand for
 * (docs/audit.md, "How entries are stored"). */
#include <limits.h>

#include "json_scan.h"

/* A scanned value as JSON text: a string the scanner handed out as a span
 * of `src` (it had no escapes) as it was written, one it decoded escaped
 * again, the rest as written. */
static void put_scanned(crm__buf *out, const crm__jval *v, const char *src, size_t src_n)
{
	switch (v->type) {
	case CRM__J_NULL: crm__buf_puts(out, "null"); break;
	case CRM__J_TRUE: crm__buf_puts(out, "true"); break;
	case CRM__J_FALSE: crm__buf_puts(out, "false"); break;
	case CRM__J_STRING:
		if (v->p > src && v->p + v->n < src + src_n)
			crm__buf_put(out, v->p - 1, v->n + 2);
		else
			crm__json_str(out, v->p, v->n);
		break;
	default: crm__buf_put(out, v->p, v->n); break;
	}
}

int crm__json_zip(crm__buf *out, const char *names, size_t names_n, const char *values, size_t values_n)
{
	crm__buf name_text = CRM__BUF_INIT, value_text = CRM__BUF_INIT;
	crm__jscan ns, vs;
	crm__jval name, value;
	size_t mark = out->len;
	int rc = -1, more_names = 0, more_values, n = 0;

	if (crm__jscan_init(&ns, names, names_n, INT_MAX, &name_text) ||
	    crm__jscan_init(&vs, values, values_n, INT_MAX, &value_text)) {
		out->oom = 1;
		goto done;
	}
	crm__buf_putc(out, '{');
	while ((more_values = crm__jscan_element(&vs, &value)) == 1) {
		if ((more_names = crm__jscan_element(&ns, &name)) != 1 || name.type != CRM__J_STRING)
			goto done;
		if (n++)
			crm__buf_putc(out, ',');
		crm__json_str(out, name.p, name.n);
		crm__buf_putc(out, ':');
		put_scanned(out, &value, values, values_n);
	}
	/* Names past the last value are left out, but must be names. */
	while (more_values == 0 && (more_names = crm__jscan_element(&ns, &name)) == 1)
		if (name.type != CRM__J_STRING)
			goto done;
	if (more_values == 0 && more_names == 0) {
		crm__buf_putc(out, '}');
		rc = out->oom ? -1 : 0;
	}
done:
	if (rc)
		out->len = mark;
	crm__buf_free(&name_text);
	crm__buf_free(&value_text);
	return rc;
}
