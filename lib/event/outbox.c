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

/* The fixed text of one event's object, its three integers and its time
 * (crm__event_rows reserves this plus room for its strings and nulls). */
#define EVENT_ROOM (sizeof "{'seq':,'at':'','name':,'form':,'record':,'instance':,'actor':,'payload':}," + \
		    3 * CRM__I64_ROOM + 24)

#define PUT_LIT(d, s) (memcpy((d), (s), sizeof(s) - 1), (d) + sizeof(s) - 1)

/* A text column: its bytes, or NULL for a null (NOT NULL columns are read
 * without asking the type: SQLite gives NULL text for a null anyway). */
typedef struct text_col {
	const char *p;
	size_t n;
} text_col;

static text_col text_of(crm__stmt *st, int c, int nullable)
{
	text_col t = { NULL, 0 };

	if (!nullable || crm__column_type(st, c) != CRM__SQL_NULL)
		if ((t.p = crm__column_text(st, c)))
			t.n = (size_t)crm__column_bytes(st, c);
	return t;
}

static char *put_text(char *d, text_col t)
{
	return t.p ? crm__json_str_to(d, t.p, t.n) : PUT_LIT(d, "null");
}

static char *put_int(char *d, crm__stmt *st, int c)
{
	return crm__column_type(st, c) == CRM__SQL_NULL ? PUT_LIT(d, "null") : crm__i64_to(d, crm__column_int64(st, c));
}

/* Each event is written in one pass into room reserved once (this runs
 * per event, and bench_event holds it to a raw scan of the table). */
int crm__event_rows(crm__stmt *st, crm__buf *json, int *n, int64_t *last_seq)
{
	char iso[32];
	int64_t iso_day = INT64_MIN; /* events of a batch mostly share a day */
	int rc;

	while ((rc = crm__step(st)) == CRM_ROW) {
		text_col type = text_of(st, 2, 0), form = text_of(st, 3, 1), actor = text_of(st, 6, 1),
			 payload = text_of(st, 7, 0);
		/* The payload is JSON the engines wrote; a row changed by hand to
		 * something else comes out as a string rather than breaking the
		 * array (a consumer could not parse, so never acknowledge, the
		 * batch). Checked with the scanner, which allocates nothing. */
		int raw = payload.p && crm__json_valid(payload.p, payload.n);
		size_t strings = CRM__JSON_STR_ROOM(type.n + form.n + actor.n) + 16 +
				 (raw ? payload.n : CRM__JSON_STR_ROOM(payload.n));
		char *d;

		if (crm__buf_reserve(json, EVENT_ROOM + strings))
			continue; /* json->oom: the caller fails */
		d = json->p + json->len;
		*last_seq = crm__column_int64(st, 0);
		if ((*n)++)
			*d++ = ',';
		d = PUT_LIT(d, "{\"seq\":");
		d = crm__i64_to(d, *last_seq);
		d = PUT_LIT(d, ",\"at\":\"");
		crm__datetime_format_run(crm__column_int64(st, 1), iso, &iso_day);
		memcpy(d, iso, 24);
		d += 24;
		d = PUT_LIT(d, "\",\"name\":");
		d = put_text(d, type);
		d = PUT_LIT(d, ",\"form\":");
		d = put_text(d, form);
		d = PUT_LIT(d, ",\"record\":");
		d = put_int(d, st, 4);
		d = PUT_LIT(d, ",\"instance\":");
		d = put_int(d, st, 5);
		d = PUT_LIT(d, ",\"actor\":");
		d = put_text(d, actor);
		d = PUT_LIT(d, ",\"payload\":");
		if (raw) {
			memcpy(d, payload.p, payload.n);
			d += payload.n;
		} else
			d = put_text(d, payload);
		*d++ = '}';
		json->len = (size_t)(d - json->p);
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
	if (!(st = crm__stmt_take(db, CRM__EVENT_SELECT(db, " WHERE id > ? ORDER BY id LIMIT ?"), (size_t)-1)))
		return db->errcode;
	crm__bind_int64(st, 1, after_seq);
	crm__bind_int64(st, 2, limit);
	crm__buf_putc(&json, '[');
	rc = crm__event_rows(st, &json, &n, &last);
	crm__buf_putc(&json, ']');
	return crm__stmt_give_listing(db, st, rc, &json, out);
}
