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
		crm__buf_put(b, "null", 4);
	else
		crm__json_str(b, crm__column_text(st, c), (size_t)crm__column_bytes(st, c));
}

static void put_int(crm__buf *b, crm__stmt *st, int c)
{
	if (crm__column_type(st, c) == CRM__SQL_NULL)
		crm__buf_put(b, "null", 4);
	else
		crm__buf_i64(b, crm__column_int64(st, c));
}

/* Append a string constant (no strlen on the way: this runs per event). */
#define PUT_LIT(b, s) crm__buf_put((b), (s), sizeof(s) - 1)

int crm__event_rows(crm__stmt *st, crm__buf *json, int *n, int64_t *last_seq)
{
	char iso[32];
	int rc;

	while ((rc = crm__step(st)) == CRM_ROW) {
		/* The payload is JSON the engines wrote; a row changed by hand to
		 * something else comes out as a string rather than breaking the
		 * array. Checked with the scanner, which allocates nothing: several
		 * times cheaper than the database's json_valid, which parsed every
		 * payload into a tree. */
		const char *payload = crm__column_text(st, 7);
		size_t payload_len = (size_t)crm__column_bytes(st, 7);

		*last_seq = crm__column_int64(st, 0);
		if ((*n)++)
			crm__buf_putc(json, ',');
		PUT_LIT(json, "{\"seq\":");
		crm__buf_i64(json, *last_seq);
		PUT_LIT(json, ",\"at\":\"");
		crm__buf_put(json, iso, crm__datetime_format(crm__column_int64(st, 1), iso));
		PUT_LIT(json, "\",\"name\":");
		put_text(json, st, 2);
		PUT_LIT(json, ",\"form\":");
		put_text(json, st, 3);
		PUT_LIT(json, ",\"record\":");
		put_int(json, st, 4);
		PUT_LIT(json, ",\"instance\":");
		put_int(json, st, 5);
		PUT_LIT(json, ",\"actor\":");
		put_text(json, st, 6);
		PUT_LIT(json, ",\"payload\":");
		if (!payload)
			PUT_LIT(json, "null");
		else if (crm__json_valid(payload, payload_len))
			crm__buf_put(json, payload, payload_len);
		else
			crm__json_str(json, payload, payload_len);
		crm__buf_putc(json, '}');
	}
	return rc;
}

int crm_event_list(crm_db *db, int64_t after_seq, int limit, char **out)
{
	crm__buf json = CRM__BUF_INIT;
	crm__stmt *st;
	int64_t last = 0;
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
	if (!(st = crm__stmt_take(db, CRM__EVENT_SELECT " WHERE id > ? ORDER BY id LIMIT ?", (size_t)-1)))
		return db->errcode;
	crm__bind_int64(st, 1, after_seq);
	crm__bind_int64(st, 2, limit);
	crm__buf_putc(&json, '[');
	rc = crm__event_rows(st, &json, &n, &last);
	crm__buf_putc(&json, ']');
	return crm__stmt_give_listing(db, st, rc, &json, out);
}
