/* Named consumers of the event outbox (include/crm/event.h, docs/integration.md
 * "Consumers: delivery, leases, retention"): each keeps its position, filter
 * and lease in a row of crm_consumer. A read or an acknowledgement is one
 * short write transaction on that row; the events themselves are only read,
 * always as "id > position", which the events lock keeps in commit order
 * (no lower id becomes visible after a higher one was seen). */
#include <string.h>

#include "access/access.h"
#include "consumer_filter.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/json_parse.h"
#include "crm/event.h"
#include "event.h"

#define DEFAULT_LEASE_MS 30000
#define MAX_LEASE_MS INT64_C(604800000) /* 7 days */
#define MAX_READ 100000

/* A consumer's row. */
typedef struct consumer {
	int64_t acked;       /* the position: every event up to it is done with */
	int64_t delivered;   /* the highest seq handed out or passed over (the bound of ack) */
	int64_t lease_to;    /* > acked while (acked, lease_to] is leased ... */
	int64_t lease_until; /* ... until this time (ms) */
	int64_t scanned;     /* nothing in (lease_to, scanned] matched the filter */
	int64_t lease_ms;
	int64_t created_at;
	char *filter; /* the filter as stored (normalised JSON), NULL: every event */
} consumer;

static int valid_consumer_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

/* What every consumer call checks first: the system actor, then the name
 * (never echoed: it may be anything). */
static int check_call(crm_db *db, const char *name)
{
	if (!crm__actor_is_system(db))
		return crm__error(db, CRM_EPERM, "event consumers are used by the system actor only");
	if (!valid_consumer_name(name))
		return crm__error(db, CRM_EINVAL,
				  "a consumer name is 1 to 64 characters of a-z, 0-9, '_', '.' and '-'");
	return CRM_OK;
}

/* ---- the consumer's row ---- */

static int head_seq(crm_db *db, int64_t *out)
{
	crm__stmt *st;
	int rc;

	/* inside a host's transaction, its own events count too */
	if ((rc = crm__event_flush(db)))
		return rc;
	if (!(st = crm__stmt_take(db, "SELECT coalesce(max(id), 0) FROM crm_event", (size_t)-1)))
		return db->errcode;
	rc = crm__step(st);
	*out = rc == CRM_ROW ? crm__column_int64(st, 0) : 0;
	crm__stmt_give(db, st);
	return rc == CRM_ROW ? CRM_OK : rc;
}

#define CONSUMER_COLUMNS "acked, delivered, lease_to, lease_until, scanned, lease_ms, filter, created_at"

/* Columns `first`.. of `st` (CONSUMER_COLUMNS) into *c. */
static int columns(crm_db *db, crm__stmt *st, int first, consumer *c)
{
	int64_t *v[] = { &c->acked, &c->delivered, &c->lease_to, &c->lease_until, &c->scanned, &c->lease_ms };

	for (int i = 0; i < 6; i++)
		*v[i] = crm__column_int64(st, first + i);
	c->created_at = crm__column_int64(st, first + 7);
	c->filter = NULL;
	if (crm__column_type(st, first + 6) != CRM__SQL_NULL && !(c->filter = crm__strdup(crm__column_text(st, first + 6))))
		return crm__error_oom(db);
	return CRM_OK;
}

/* Consumer `name`'s row, locked until the transaction ends: *found = 0
 * when there is none. */
static int load(crm_db *db, const char *name, consumer *c, int *found)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	*found = 0;
	c->filter = NULL;
	crm__buf_printf(&sql, "SELECT " CONSUMER_COLUMNS " FROM crm_consumer WHERE name = ?%s",
			db->be->dialect->lock_no_key_update);
	if (!(st = crm__stmt_take_buf(db, &sql)))
		return db->errcode;
	crm__bind_text(st, 1, name, -1);
	if ((rc = crm__step(st)) == CRM_ROW && (rc = columns(db, st, 0, c)) == CRM_OK)
		*found = 1;
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

static int save(crm_db *db, const char *name, const consumer *c)
{
	crm__stmt *st = crm__stmt_take(db,
				       "UPDATE crm_consumer SET acked = ?, delivered = ?, lease_to = ?, lease_until = ?,"
				       " scanned = ?, lease_ms = ?, filter = ? WHERE name = ?",
				       (size_t)-1);
	const int64_t v[] = { c->acked, c->delivered, c->lease_to, c->lease_until, c->scanned, c->lease_ms };
	int rc;

	if (!st)
		return db->errcode;
	for (int i = 0; i < 6; i++)
		crm__bind_int64(st, i + 1, v[i]);
	if (c->filter)
		crm__bind_text(st, 7, c->filter, -1);
	crm__bind_text(st, 8, name, -1);
	rc = crm__step(st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

/* Consumer `name`'s row, made first (position 0, or the newest event for
 * `from_last`; lease_ms and filter as given) when there is none. Two
 * processes making it at once: one inserts, the other finds it. */
static int obtain(crm_db *db, const char *name, int from_last, int64_t lease_ms, const char *filter_json, consumer *c)
{
	crm__stmt *st;
	int64_t at = 0;
	int rc, found;

	if ((rc = load(db, name, c, &found)) || found)
		return rc;
	if (from_last && (rc = head_seq(db, &at)))
		return rc;
	st = crm__stmt_take(db,
			    "INSERT INTO crm_consumer(name, acked, delivered, lease_ms, filter, created_at)"
			    " VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
			    (size_t)-1);
	if (!st)
		return db->errcode;
	crm__bind_text(st, 1, name, -1);
	crm__bind_int64(st, 2, at);
	crm__bind_int64(st, 3, at);
	crm__bind_int64(st, 4, lease_ms);
	if (filter_json)
		crm__bind_text(st, 5, filter_json, -1);
	crm__bind_int64(st, 6, crm_now(db));
	rc = crm__step(st);
	crm__stmt_give(db, st);
	if (rc != CRM_DONE)
		return rc;
	if ((rc = load(db, name, c, &found)) == CRM_OK && !found)
		rc = crm__error(db, CRM_ERROR, "consumer '%s' vanished while it was made", name);
	return rc;
}

static int no_consumer(crm_db *db, const char *name)
{
	return crm__error(db, CRM_ENOTFOUND, "no consumer named '%s'", name);
}

/* ---- crm_consumer_set ---- */

/* The options of crm_consumer_set, checked. */
typedef struct set_options {
	cJSON *root;
	int64_t lease_ms; /* 0: not given */
	int from_last;
	int has_filter;
	char *filter; /* the filter to store when has_filter (NULL: every event) */
} set_options;

static int parse_lease(crm_db *db, const cJSON *v, int64_t *out)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : 0;

	if (!(d >= 1 && d <= (double)MAX_LEASE_MS && d == (double)(int64_t)d))
		return crm__error_path(db, "lease_ms", "milliseconds, an integer from 1 to %lld", (long long)MAX_LEASE_MS);
	*out = (int64_t)d;
	return CRM_OK;
}

static int parse_options(crm_db *db, const char *json, set_options *o)
{
	const cJSON *m;
	int rc;

	*o = (set_options){ 0 };
	if (!json)
		return CRM_OK;
	if ((rc = crm__json_parse(db, json, "the consumer options", &o->root)))
		return rc;
	if (!cJSON_IsObject(o->root))
		return crm__error(db, CRM_EINVAL, "the consumer options are an object {\"filter\", \"lease_ms\", \"start\"}");
	cJSON_ArrayForEach(m, o->root)
	{
		if (strcmp(m->string, "lease_ms") == 0) {
			if ((rc = parse_lease(db, m, &o->lease_ms)))
				return rc;
		} else if (strcmp(m->string, "start") == 0) {
			if (!cJSON_IsString(m) || (strcmp(m->valuestring, "first") && strcmp(m->valuestring, "last")))
				return crm__error_path(db, "start", "\"first\" or \"last\"");
			o->from_last = strcmp(m->valuestring, "last") == 0;
		} else if (strcmp(m->string, "filter") == 0) {
			crm__event_filter f = { 0 };
			o->has_filter = 1;
			if (cJSON_IsNull(m))
				continue;
			if ((rc = crm__event_filter_check(db, m, &f)))
				return rc;
			if ((f.forms || f.types) && !(o->filter = crm__event_filter_text(&f)))
				return crm__error_oom(db);
		} else
			return crm__error_path(db, "options", "unknown member (the options are \"filter\", \"lease_ms\" and \"start\")");
	}
	return CRM_OK;
}

static int set_in(crm_db *db, const char *name, const set_options *o)
{
	consumer c;
	int rc = obtain(db, name, o->from_last, o->lease_ms ? o->lease_ms : DEFAULT_LEASE_MS, o->filter, &c);

	if (rc == CRM_OK) {
		if (o->lease_ms)
			c.lease_ms = o->lease_ms;
		if (o->has_filter) {
			crm__free(c.filter);
			c.filter = o->filter; /* borrowed for save */
		}
		rc = save(db, name, &c);
		if (o->has_filter)
			c.filter = NULL;
	}
	crm__free(c.filter);
	return rc;
}

int crm_consumer_set(crm_db *db, const char *name, const char *options_json)
{
	set_options o;
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter_deferred(db)) || (rc = check_call(db, name)))
		return rc;
	if ((rc = parse_options(db, options_json, &o)) == CRM_OK && (rc = crm__tx_begin(db)) == CRM_OK)
		rc = crm__tx_end(db, set_in(db, name, &o));
	cJSON_Delete(o.root);
	crm__free(o.filter);
	return rc;
}

/* ---- crm_consumer_read, crm_consumer_read_rows ---- */

/* The events after c's position that match its filter, at most `limit`,
 * held in `cur`. */
static int scan(crm_db *db, const consumer *c, int limit, crm_event_cursor *cur)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	crm__event_filter f;
	int rc, i;

	if ((rc = crm__event_flush(db)) || (rc = crm__event_filter_load(db, c->filter, &f)))
		return rc;
	crm__buf_puts(&sql, CRM__EVENT_SELECT(db, " WHERE id > ?"));
	crm__event_filter_sql(&f, &sql);
	crm__buf_puts(&sql, " ORDER BY id LIMIT ?");
	if ((st = crm__stmt_take_buf(db, &sql))) {
		crm__bind_int64(st, 1, c->acked);
		i = crm__event_filter_bind(st, &f, 2);
		crm__bind_int64(st, i, limit);
		rc = crm__event_hold(cur, st);
		crm__stmt_give(db, st);
	} else
		rc = db->errcode;
	cJSON_Delete(f.root);
	return rc;
}

static int read_in(crm_db *db, const char *name, int limit, crm_event_cursor *cur)
{
	consumer c;
	int64_t now = crm_now(db), head = 0, last;
	int rc, n;

	if ((rc = obtain(db, name, 0, DEFAULT_LEASE_MS, NULL, &c)))
		return rc;
	/* Leased to a reader that has not acknowledged yet: nothing for this one. */
	if (c.lease_to > c.acked && now < c.lease_until)
		goto done;
	/* The newest seq before the scan: nothing at or below it can become
	 * visible later, so what the scan does not find up to it, it never will. */
	if ((rc = head_seq(db, &head)) || (rc = scan(db, &c, limit, cur)))
		goto done;
	n = crm_event_cursor_count(cur);
	last = crm_event_cursor_last_seq(cur);
	if (n == 0) {
		/* Nothing to hand out up to head: passed over, as if acknowledged
		 * (a filtered consumer moves on, and holds no event back from
		 * crm_event_prune). Written only when something changed. */
		if (head <= c.acked && !c.lease_to)
			goto done;
		c.acked = head > c.acked ? head : c.acked;
		c.lease_to = c.lease_until = c.scanned = 0;
	} else {
		c.lease_to = last;
		c.lease_until = now > INT64_MAX - c.lease_ms ? INT64_MAX : now + c.lease_ms;
		c.scanned = n < limit && head > last ? head : last;
	}
	if (c.delivered < c.acked)
		c.delivered = c.acked;
	if (c.delivered < c.scanned)
		c.delivered = c.scanned;
	rc = save(db, name, &c);
done:
	crm__free(c.filter);
	return rc;
}

/* Both reads: consumer `name`'s next events, leased and held in a new
 * cursor in *out (the caller entered the API). */
static int read_batch(crm_db *db, const char *name, int limit, crm_event_cursor **out)
{
	crm_event_cursor *cur;
	int rc;

	if ((rc = check_call(db, name)))
		return rc;
	if (limit < 1 || limit > MAX_READ)
		return crm__error(db, CRM_EINVAL, "limit is the most events to read, 1 to %d, not %d", MAX_READ, limit);
	if ((rc = crm__event_cursor_new(db, &cur)))
		return rc;
	if ((rc = crm__tx_begin(db)) == CRM_OK)
		rc = crm__tx_end(db, read_in(db, name, limit, cur));
	if (rc) {
		crm_event_cursor_free(cur);
		return rc;
	}
	*out = cur;
	return CRM_OK;
}

int crm_consumer_read_rows(crm_event_cursor **out, crm_db *db, const char *name, int limit)
{
	int rc;

	if (out)
		*out = NULL;
	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter_deferred(db)))
		return rc;
	if (!out)
		return crm__error(db, CRM_EMISUSE, "no place for the event cursor (out is NULL)");
	return read_batch(db, name, limit, out);
}

/* The JSON read is the row read written out as crm_event_list's array. */
int crm_consumer_read(crm_db *db, const char *name, int limit, char **out)
{
	crm__buf json = CRM__BUF_INIT;
	crm_event_cursor *cur;
	int64_t last = 0;
	int rc, n = 0;

	if ((rc = crm__enter_out(db, out)) || (rc = read_batch(db, name, limit, &cur)))
		return rc;
	crm__buf_putc(&json, '[');
	rc = crm__event_rows(crm__event_cursor_stmt(cur), &json, &n, &last);
	crm__buf_putc(&json, ']');
	crm_event_cursor_free(cur);
	if (rc == CRM_DONE && json.oom)
		rc = crm__error_oom(db);
	if (rc == CRM_DONE) {
		*out = crm__buf_detach(&json);
		rc = CRM_OK;
	}
	crm__buf_free(&json);
	return rc;
}

/* ---- crm_consumer_ack ---- */

static int ack_in(crm_db *db, const char *name, int64_t seq)
{
	consumer c;
	int rc, found;

	if ((rc = load(db, name, &c, &found)) || !found)
		return rc ? rc : no_consumer(db, name);
	if (seq > c.delivered)
		rc = crm__error(db, CRM_EINVAL,
				"consumer '%s' was handed the events up to %lld: %lld cannot be acknowledged", name,
				(long long)c.delivered, (long long)seq);
	else if (seq > c.acked) {
		c.acked = seq;
		/* The whole lease is done: what the read passed over after it too. */
		if (c.lease_to && seq >= c.lease_to) {
			c.acked = c.scanned > seq ? c.scanned : seq;
			c.lease_to = c.lease_until = c.scanned = 0;
		}
		rc = save(db, name, &c);
	}
	crm__free(c.filter);
	return rc;
}

int crm_consumer_ack(crm_db *db, const char *name, int64_t seq)
{
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter_deferred(db)) || (rc = check_call(db, name)))
		return rc;
	if (seq < 0)
		return crm__error(db, CRM_EINVAL, "seq is an event's sequence number (0 or more), not %lld", (long long)seq);
	if ((rc = crm__tx_begin(db)) == CRM_OK)
		rc = crm__tx_end(db, ack_in(db, name, seq));
	return rc;
}

/* ---- state: crm_consumer_get, crm_consumer_list ---- */

static void put_state(crm_db *db, crm__buf *b, const char *name, const consumer *c, int64_t head)
{
	char iso[32];

	crm__buf_puts(b, "{\"name\":");
	crm__json_cstr(b, name);
	crm__buf_printf(b, ",\"position\":%lld,\"delivered\":%lld,\"lease\":", (long long)c->acked,
			(long long)c->delivered);
	if (c->lease_to > c->acked && crm_now(db) < c->lease_until) {
		crm__buf_printf(b, "{\"to\":%lld,\"until\":\"", (long long)c->lease_to);
		crm__buf_put(b, iso, crm__datetime_format(c->lease_until, iso));
		crm__buf_puts(b, "\"}");
	} else
		crm__buf_puts(b, "null");
	crm__buf_printf(b, ",\"lease_ms\":%lld,\"filter\":%s,\"created_at\":\"", (long long)c->lease_ms,
			c->filter ? c->filter : "null");
	crm__buf_put(b, iso, crm__datetime_format(c->created_at, iso));
	crm__buf_printf(b, "\",\"head\":%lld}", (long long)head);
}

/* The state of consumer `name` (NULL: of every consumer, as an array). */
static int states(crm_db *db, const char *name, char **out)
{
	crm__buf json = CRM__BUF_INIT;
	crm__stmt *st;
	int64_t head;
	int rc, n = 0;

	if ((rc = head_seq(db, &head)))
		return rc;
	st = crm__stmt_take(db,
			    name ? "SELECT name, " CONSUMER_COLUMNS " FROM crm_consumer WHERE name = ?"
				 : "SELECT name, " CONSUMER_COLUMNS " FROM crm_consumer ORDER BY name",
			    (size_t)-1);
	if (!st)
		return db->errcode;
	if (name)
		crm__bind_text(st, 1, name, -1);
	if (!name)
		crm__buf_putc(&json, '[');
	while ((rc = crm__step(st)) == CRM_ROW) {
		consumer c;
		if ((rc = columns(db, st, 1, &c)))
			break;
		crm__buf_puts(&json, n++ ? "," : "");
		put_state(db, &json, crm__column_text(st, 0), &c, head);
		crm__free(c.filter);
	}
	if (!name)
		crm__buf_putc(&json, ']');
	if (rc == CRM_DONE && name && n == 0) {
		crm__stmt_give(db, st);
		crm__buf_free(&json);
		return no_consumer(db, name);
	}
	return crm__stmt_give_listing(db, st, rc, &json, out);
}

int crm_consumer_get(crm_db *db, const char *name, char **out)
{
	int rc;

	if ((rc = crm__enter_out(db, out)) || (rc = check_call(db, name)))
		return rc;
	return states(db, name, out);
}

int crm_consumer_list(crm_db *db, char **out)
{
	int rc;

	if ((rc = crm__enter_out(db, out)))
		return rc;
	if (!crm__actor_is_system(db))
		return crm__error(db, CRM_EPERM, "event consumers are used by the system actor only");
	return states(db, NULL, out);
}

int crm_event_head(crm_db *db, int64_t *out_seq)
{
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (!out_seq)
		return crm__error(db, CRM_EMISUSE, "no place for the answer (out_seq is NULL)");
	*out_seq = 0;
	if (!crm__actor_is_system(db))
		return crm__error(db, CRM_EPERM, "the event outbox is read by the system actor only");
	return head_seq(db, out_seq);
}

/* ---- crm_consumer_drop, crm_event_prune ---- */

/* Run `st` (a DELETE ... RETURNING) to its end; *rows counts the rows. */
static int delete_rows(crm_db *db, crm__stmt *st, int64_t *rows)
{
	int rc;

	*rows = 0;
	crm__many_rows(st, 1);
	while ((rc = crm__step(st)) == CRM_ROW)
		++*rows;
	crm__many_rows(st, 0);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

static int drop_in(crm_db *db, const char *name)
{
	crm__stmt *st = crm__stmt_take(db, "DELETE FROM crm_consumer WHERE name = ? RETURNING name", (size_t)-1);
	int64_t rows;
	int rc;

	if (!st)
		return db->errcode;
	crm__bind_text(st, 1, name, -1);
	rc = delete_rows(db, st, &rows);
	return rc || rows ? rc : no_consumer(db, name);
}

int crm_consumer_drop(crm_db *db, const char *name)
{
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter_deferred(db)) || (rc = check_call(db, name)))
		return rc;
	if ((rc = crm__tx_begin(db)) == CRM_OK)
		rc = crm__tx_end(db, drop_in(db, name));
	return rc;
}

static int prune_in(crm_db *db, int64_t older_than_ms, int64_t *removed)
{
	/* min() over no consumer is NULL: nothing is removed. */
	crm__stmt *st = crm__stmt_take(db,
				       "DELETE FROM crm_event WHERE id <= (SELECT min(acked) FROM crm_consumer)"
				       " AND (? = 0 OR at < ?) RETURNING id",
				       (size_t)-1);
	int64_t now = crm_now(db);

	if (!st)
		return db->errcode;
	crm__bind_int64(st, 1, older_than_ms);
	crm__bind_int64(st, 2, now < INT64_MIN + older_than_ms ? INT64_MIN : now - older_than_ms);
	return delete_rows(db, st, removed);
}

int crm_event_prune(crm_db *db, int64_t older_than_ms, int64_t *out_removed)
{
	int64_t removed = 0;
	int rc;

	if (!db)
		return CRM_EMISUSE;
	if (out_removed)
		*out_removed = 0;
	if ((rc = crm__enter_deferred(db)))
		return rc;
	if (!crm__actor_is_system(db))
		return crm__error(db, CRM_EPERM, "the event outbox is pruned by the system actor only");
	if (older_than_ms < 0)
		return crm__error(db, CRM_EINVAL, "older_than_ms is an age in milliseconds (0: any age), not %lld",
				  (long long)older_than_ms);
	if ((rc = crm__tx_begin(db)) == CRM_OK)
		rc = crm__tx_end(db, prune_in(db, older_than_ms, &removed));
	if (rc == CRM_OK && out_removed)
		*out_removed = removed;
	return rc;
}
