/* The event outbox table (see event.h): reading events back in commit
 * order (include/crm/event.h), which is id order; lib/event/append.c
 * appends them. */
#include <string.h>

#include "access/access.h"
#include "core/codec.h"
#include "core/json_parse.h"
#include "core/json_scan.h"
#include "crm/event.h"
#include "event.h"

/* Column c as a JSON string, integer or null. */
static void put_text(crm__buf *b, crm__stmt *st, int c)
{
	if (crm__column_type(st, c) == CRM__SQL_NULL)
		crm__buf_puts(b, "null");
	else
		crm__json_str(b, crm__column_text(st, c), (size_t)crm__column_bytes(st, c));
}

static void put_int(crm__buf *b, crm__stmt *st, int c)
{
	if (crm__column_type(st, c) == CRM__SQL_NULL)
		crm__buf_puts(b, "null");
	else
		crm__buf_i64(b, crm__column_int64(st, c));
}

int crm_event_list(crm_db *db, int64_t after_seq, int limit, char **out)
{
	/* The payload is JSON the engines wrote; a row changed by hand to
	 * something else comes out as a string rather than breaking the array. */
	crm__buf json = CRM__BUF_INIT, sql = CRM__BUF_INIT;
	crm__stmt *st;
	char iso[32];
	int rc, n = 0;

	if ((rc = crm__enter_out(db, out)))
		return rc;
	/* A payload is whatever an action or script wrote, about any record:
	 * no rule can say which of it an actor may see (docs/access.md). */
	if (!crm__actor_is_system(db))
		return crm__error(db, CRM_EPERM, "the event outbox is read by the system actor only");
	if (after_seq < 0)
		return crm__error(db, CRM_EINVAL, "after_seq is a sequence number (0 for the first event), not %lld",
				  (long long)after_seq);
	if (limit <= 0)
		return crm__error(db, CRM_EINVAL, "limit is the most events to return (at least 1), not %d", limit);
	/* Inside a transaction: its own events too. */
	if ((rc = crm__event_flush(db)))
		return rc;
	crm__buf_printf(&sql, "SELECT id, at, type, form, record, instance, actor, payload, %s(payload)"
			      " FROM crm_event WHERE id > ? ORDER BY id LIMIT ?",
			db->be->dialect->json_valid);
	if (!(st = crm__stmt_take_buf(db, &sql)))
		return db->errcode;
	crm__bind_int64(st, 1, after_seq);
	crm__bind_int64(st, 2, limit);
	crm__buf_putc(&json, '[');
	while ((rc = crm__step(st)) == CRM_ROW) {
		crm__buf_puts(&json, n++ ? ",{\"seq\":" : "{\"seq\":");
		crm__buf_i64(&json, crm__column_int64(st, 0));
		crm__buf_puts(&json, ",\"at\":\"");
		crm__buf_put(&json, iso, crm__datetime_format(crm__column_int64(st, 1), iso));
		crm__buf_puts(&json, "\",\"name\":");
		put_text(&json, st, 2);
		crm__buf_puts(&json, ",\"form\":");
		put_text(&json, st, 3);
		crm__buf_puts(&json, ",\"record\":");
		put_int(&json, st, 4);
		crm__buf_puts(&json, ",\"instance\":");
		put_int(&json, st, 5);
		crm__buf_puts(&json, ",\"actor\":");
		put_text(&json, st, 6);
		crm__buf_puts(&json, ",\"payload\":");
		if (crm__column_int(st, 8))
			crm__buf_put(&json, crm__column_text(st, 7), (size_t)crm__column_bytes(st, 7));
		else
			put_text(&json, st, 7);
		crm__buf_putc(&json, '}');
	}
	crm__buf_putc(&json, ']');
	return crm__stmt_give_listing(db, st, rc, &json, out);
}
