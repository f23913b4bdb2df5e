/* Named consumers of the event outbox (include/crm/event.h): positions kept
 * per consumer, filters by form and type (prefix patterns too), leases that
 * hold back a second reader and expire on the handle's clock, redelivery of
 * what was not acknowledged, the rules of acknowledging, pruning only what
 * every consumer acknowledged, hostile names and options, and the system
 * actor alone; the row read (crm_consumer_read_rows) against the JSON read.
 * Events are appended directly (crm__event_emit), so nothing
 * here depends on which events the engines append. Both backends. */
#include "core/json_parse.h"
#include "event/event.h"
#include "helpers.h"
#include "test.h"

#define T0 INT64_C(1767323045000) /* test_db's clock, 2026-01-02T03:04:05.000Z */

/* Append one event in a transaction of its own; returns its seq. */
static int64_t emit(crm_db *db, const char *type, const char *form, int64_t record)
{
	int64_t id = 0;

	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm__event_emit(db, type, form, record, 0, "{\"k\":1}", &id));
	CHECK_OK(db, crm_commit(db));
	return id;
}

/* The seqs of a read, "1,2,3" ("" for none): static buffer. */
static const char *seqs(const char *json)
{
	static char out[512];
	size_t n = 0;

	out[0] = '\0';
	for (const char *p = json; p && (p = strstr(p, "{\"seq\":")); p += 7)
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%lld", n ? "," : "", strtoll(p + 7, NULL, 10));
	return out;
}

/* consumer_read's seqs, the JSON freed. */
static const char *read_seqs(crm_db *db, const char *name, int limit)
{
	char *json = NULL;
	const char *s;

	CHECK_OK(db, crm_consumer_read(db, name, limit, &json));
	s = seqs(json);
	crm_free(json);
	return s;
}

/* A member of a consumer's state, e.g. "\"position\":3": 1 when it is there. */
static int state_has(crm_db *db, const char *name, const char *member)
{
	char *json = NULL;
	int has;

	CHECK_OK(db, crm_consumer_get(db, name, &json));
	has = json && strstr(json, member) != NULL;
	if (!has)
		fprintf(stderr, "state of %s: %s, wanted %s\n", name, json ? json : "(null)", member);
	crm_free(json);
	return has;
}

static char *snapshot(crm_db *db)
{
	return test_rows(db, "SELECT name, acked, delivered, lease_to, lease_until, scanned, lease_ms,"
			     " coalesce(filter, '-'), created_at FROM crm_consumer ORDER BY name");
}

static char *events_snapshot(crm_db *db) { return test_rows(db, "SELECT id, type FROM crm_event ORDER BY id"); }

TEST(test_consumer_read__each_consumer_keeps_its_own_position)
{
	crm_db *db = test_db();
	char *json = NULL;

	for (int i = 0; i < 5; i++)
		emit(db, "ping", NULL, 0);
	CHECK_STR(read_seqs(db, "erp", 2), "1,2");
	CHECK_OK(db, crm_consumer_ack(db, "erp", 2));
	CHECK_STR(read_seqs(db, "erp", 10), "3,4,5");
	CHECK_OK(db, crm_consumer_ack(db, "erp", 5));
	CHECK_STR(read_seqs(db, "erp", 10), "");
	/* another consumer starts from the oldest event, on its own */
	CHECK_STR(read_seqs(db, "wechat", 3), "1,2,3");
	CHECK(state_has(db, "erp", "\"position\":5,\"delivered\":5,\"lease\":null"));
	CHECK(state_has(db, "wechat", "\"position\":0,\"delivered\":3,\"lease\":{\"to\":3,"));
	/* new events go to both */
	emit(db, "pong", NULL, 0);
	CHECK_STR(read_seqs(db, "erp", 10), "6");
	CHECK_OK(db, crm_consumer_list(db, &json));
	CHECK(json && strncmp(json, "[{\"name\":\"erp\",", 15) == 0 && strstr(json, "},{\"name\":\"wechat\","));
	crm_free(json);
	/* the rows are crm_event_list's */
	CHECK_OK(db, crm_consumer_ack(db, "erp", 6));
	emit(db, "deal_won", "deal", 7);
	CHECK_OK(db, crm_consumer_read(db, "erp", 10, &json));
	CHECK_STR(json, "[{\"seq\":7,\"at\":\"2026-01-02T03:04:05.000Z\",\"name\":\"deal_won\",\"form\":\"deal\","
			"\"record\":7,\"instance\":null,\"actor\":null,\"payload\":{\"k\":1}}]");
	crm_free(json);
	crm_close(db);
}

TEST(test_consumer_read__a_lease_holds_back_a_second_reader_until_it_expires)
{
	crm_db *db = test_db();

	for (int i = 0; i < 3; i++)
		emit(db, "ping", NULL, 0);
	CHECK_STR(read_seqs(db, "erp", 10), "1,2,3");
	/* the lease (30 s by default) holds: the next read gets nothing, even of new events */
	emit(db, "ping", NULL, 0);
	CHECK_STR(read_seqs(db, "erp", 10), "");
	CHECK(state_has(db, "erp", "\"lease\":{\"to\":3,\"until\":\"2026-01-02T03:04:35.000Z\"}"));
	crm_clock_set(db, T0 + 29999);
	CHECK_STR(read_seqs(db, "erp", 10), "");
	/* expired: what was not acknowledged comes again, with what came since */
	crm_clock_set(db, T0 + 30000);
	CHECK(state_has(db, "erp", "\"lease\":null"));
	CHECK_STR(read_seqs(db, "erp", 10), "1,2,3,4");
	/* acknowledging the whole lease ends it at once */
	CHECK_OK(db, crm_consumer_ack(db, "erp", 4));
	emit(db, "ping", NULL, 0);
	CHECK_STR(read_seqs(db, "erp", 10), "5");
	/* the lease is the consumer's setting */
	CHECK_OK(db, crm_consumer_set(db, "erp", "{\"lease_ms\": 1000}"));
	CHECK_OK(db, crm_consumer_ack(db, "erp", 5));
	emit(db, "ping", NULL, 0);
	CHECK_STR(read_seqs(db, "erp", 10), "6");
	crm_clock_set(db, T0 + 30999);
	CHECK_STR(read_seqs(db, "erp", 10), "");
	crm_clock_set(db, T0 + 31000);
	CHECK_STR(read_seqs(db, "erp", 10), "6");
	crm_close(db);
}

TEST(test_consumer_ack__part_of_a_lease_then_the_rest_is_delivered_again)
{
	crm_db *db = test_db();

	for (int i = 0; i < 4; i++)
		emit(db, "ping", NULL, 0);
	CHECK_STR(read_seqs(db, "erp", 10), "1,2,3,4");
	CHECK_OK(db, crm_consumer_ack(db, "erp", 2));
	CHECK(state_has(db, "erp", "\"position\":2,\"delivered\":4,\"lease\":{\"to\":4,"));
	CHECK_STR(read_seqs(db, "erp", 10), "");
	crm_clock_set(db, T0 + 30000);
	CHECK_STR(read_seqs(db, "erp", 1), "3");
	/* a reader whose lease expired may still acknowledge what it was handed */
	crm_clock_set(db, T0 + 60000);
	CHECK_OK(db, crm_consumer_ack(db, "erp", 4));
	CHECK(state_has(db, "erp", "\"position\":4,\"delivered\":4,\"lease\":null"));
	CHECK_STR(read_seqs(db, "erp", 10), "");
	crm_close(db);
}

TEST(test_consumer_ack__never_backwards_never_beyond_what_was_handed_out)
{
	crm_db *db = test_db();
	char *before, *after;

	for (int i = 0; i < 5; i++)
		emit(db, "ping", NULL, 0);
	/* an unknown consumer: ack does not make one */
	CHECK_RC(db, crm_consumer_ack(db, "erp", 0), CRM_ENOTFOUND);
	CHECK_HAS(crm_errmsg(db), "no consumer named 'erp'");
	CHECK_STR(read_seqs(db, "erp", 3), "1,2,3");
	before = snapshot(db);
	CHECK_RC(db, crm_consumer_ack(db, "erp", 4), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "was handed the events up to 3: 4 cannot be acknowledged");
	CHECK_RC(db, crm_consumer_ack(db, "erp", -1), CRM_EINVAL);
	CHECK_RC(db, crm_consumer_ack(db, "erp", INT64_MAX), CRM_EINVAL);
	after = snapshot(db);
	CHECK_STR(after, before);
	free(before);
	free(after);
	CHECK_OK(db, crm_consumer_ack(db, "erp", 3));
	/* again, and backwards: nothing moves, no error (a retried ack) */
	CHECK_OK(db, crm_consumer_ack(db, "erp", 3));
	CHECK_OK(db, crm_consumer_ack(db, "erp", 1));
	CHECK_OK(db, crm_consumer_ack(db, "erp", 0));
	CHECK(state_has(db, "erp", "\"position\":3,"));
	CHECK_STR(read_seqs(db, "erp", 10), "4,5");
	crm_close(db);
}

TEST(test_consumer_filter__forms_types_and_prefixes)
{
	crm_db *db = test_db();

	CHECK_OK(db, crm_consumer_set(db, "deals", "{\"filter\": {\"forms\": [\"deal\"]}}"));
	CHECK_OK(db, crm_consumer_set(db, "orders", "{\"filter\": {\"types\": [\"order.*\", \"refund\"]}}"));
	CHECK_OK(db, crm_consumer_set(db, "both", "{\"filter\": {\"forms\": [\"deal\"], \"types\": [\"order.*\"]}}"));
	CHECK_OK(db, crm_consumer_set(db, "all", "{\"filter\": {\"types\": [\"*\"]}}"));
	emit(db, "order.paid", "deal", 1);   /* 1 */
	emit(db, "order.paid", "lead", 2);   /* 2 */
	emit(db, "refund", NULL, 0);         /* 3 */
	emit(db, "orderly", "deal", 3);      /* 4: not order.* */
	emit(db, "refunds", "lead", 4);      /* 5: not refund */
	emit(db, "order.", "deal", 5);       /* 6: the prefix itself */
	emit(db, "ORDER.paid", "deal", 6);   /* 7: names are case-sensitive */
	CHECK_STR(read_seqs(db, "deals", 100), "1,4,6,7");
	CHECK_STR(read_seqs(db, "orders", 100), "1,2,3,6");
	CHECK_STR(read_seqs(db, "both", 100), "1,6");
	CHECK_STR(read_seqs(db, "all", 100), "1,2,3,4,5,6,7");
	CHECK(state_has(db, "both", "\"filter\":{\"forms\":[\"deal\"],\"types\":[\"order.*\"]}"));
	/* SQL-looking and LIKE-looking types mean themselves */
	emit(db, "a%", NULL, 0);             /* 8 */
	emit(db, "ab", NULL, 0);             /* 9 */
	emit(db, "x' OR '1'='1", NULL, 0);   /* 10 */
	CHECK_OK(db, crm_consumer_set(db, "odd", "{\"filter\": {\"types\": [\"a%*\", \"x' OR '1'='1\", \"_*\"]}}"));
	CHECK_STR(read_seqs(db, "odd", 100), "8,10");
	/* a filter changed later applies to the events after the position */
	CHECK_OK(db, crm_consumer_set(db, "odd", "{\"filter\": null}"));
	CHECK(state_has(db, "odd", "\"filter\":null"));
	crm_close(db);
}

TEST(test_consumer_filter__events_that_do_not_match_are_passed_over)
{
	crm_db *db = test_db();
	int64_t removed = -1;

	CHECK_OK(db, crm_consumer_set(db, "deals", "{\"filter\": {\"forms\": [\"deal\"]}}"));
	emit(db, "x", "lead", 1);
	emit(db, "x", "deal", 1);
	emit(db, "x", "lead", 2);
	emit(db, "x", "lead", 3);
	/* handed 2; 3 and 4 were checked too: acknowledging 2 moves past them */
	CHECK_STR(read_seqs(db, "deals", 10), "2");
	CHECK(state_has(db, "deals", "\"position\":0,\"delivered\":4,"));
	CHECK_OK(db, crm_consumer_ack(db, "deals", 2));
	CHECK(state_has(db, "deals", "\"position\":4,\"delivered\":4,\"lease\":null"));
	/* a read that finds nothing moves the position on by itself */
	emit(db, "x", "lead", 4);
	CHECK_STR(read_seqs(db, "deals", 10), "");
	CHECK(state_has(db, "deals", "\"position\":5,"));
	/* so a filtered consumer holds back nothing it will never read */
	CHECK_OK(db, crm_event_prune(db, 0, &removed));
	CHECK_INT(removed, 5);
	/* a full batch stops where it stopped: no passing over beyond it */
	emit(db, "x", "deal", 5); /* 6 */
	emit(db, "x", "lead", 5); /* 7 */
	CHECK_STR(read_seqs(db, "deals", 1), "6");
	CHECK_OK(db, crm_consumer_ack(db, "deals", 6));
	CHECK(state_has(db, "deals", "\"position\":6,"));
	crm_close(db);
}

TEST(test_event_prune__removes_only_what_every_consumer_acknowledged)
{
	crm_db *db = test_db();
	int64_t removed = -1;

	for (int i = 0; i < 6; i++) {
		crm_clock_set(db, T0 + i * 60000);
		emit(db, "ping", NULL, 0);
	}
	/* no consumer: nothing was acknowledged */
	CHECK_OK(db, crm_event_prune(db, 0, &removed));
	CHECK_INT(removed, 0);
	CHECK_STR(read_seqs(db, "a", 10), "1,2,3,4,5,6");
	CHECK_OK(db, crm_consumer_ack(db, "a", 5));
	CHECK_STR(read_seqs(db, "b", 3), "1,2,3");
	CHECK_OK(db, crm_consumer_ack(db, "b", 3));
	/* older than 3.5 minutes at 00:05 past T0: events 1 and 2 only */
	CHECK_OK(db, crm_event_prune(db, 210000, &removed));
	CHECK_INT(removed, 2);
	CHECK_OK(db, crm_event_prune(db, 0, &removed));
	CHECK_INT(removed, 1);
	CHECK_INT(test_sql_int(db, "SELECT min(id) FROM crm_event"), 4);
	/* dropping the consumer that lags lets the rest go */
	CHECK_OK(db, crm_consumer_drop(db, "b"));
	CHECK_OK(db, crm_event_prune(db, 0, NULL));
	CHECK_INT(test_sql_int(db, "SELECT min(id) FROM crm_event"), 6);
	/* ids are never given twice: the next event is 7 */
	CHECK_INT(emit(db, "ping", NULL, 0), 7);
	CHECK_OK(db, crm_consumer_ack(db, "a", 6));
	CHECK_STR(read_seqs(db, "a", 10), "7");
	CHECK_RC(db, crm_event_prune(db, -1, &removed), CRM_EINVAL);
	CHECK_INT(removed, 0);
	CHECK_RC(db, crm_event_prune(NULL, 0, &removed), CRM_EMISUSE);
	crm_close(db);
}

TEST(test_consumer_set__options_state_and_drop)
{
	crm_db *db = test_db();
	char *json = NULL;

	emit(db, "ping", NULL, 0);
	emit(db, "ping", NULL, 0);
	CHECK_OK(db, crm_consumer_set(db, "late", "{\"start\": \"last\", \"lease_ms\": 5000,"
						  " \"filter\": {\"types\": [\"ping\"], \"forms\": [\"deal\", \"lead\"]}}"));
	CHECK_OK(db, crm_consumer_get(db, "late", &json));
	CHECK_STR(json, "{\"name\":\"late\",\"position\":2,\"delivered\":2,\"lease\":null,\"lease_ms\":5000,"
			"\"filter\":{\"forms\":[\"deal\",\"lead\"],\"types\":[\"ping\"]},"
			"\"created_at\":\"2026-01-02T03:04:05.000Z\",\"head\":2}");
	crm_free(json);
	/* start applies to a new consumer only; left-out members stay */
	CHECK_OK(db, crm_consumer_set(db, "late", "{\"start\": \"first\"}"));
	CHECK(state_has(db, "late", "\"position\":2,\"delivered\":2,\"lease\":null,\"lease_ms\":5000,\"filter\":{"));
	CHECK_OK(db, crm_consumer_set(db, "early", NULL));
	CHECK(state_has(db, "early", "\"position\":0,\"delivered\":0,\"lease\":null,\"lease_ms\":30000,\"filter\":null"));
	CHECK_OK(db, crm_consumer_drop(db, "early"));
	CHECK_RC(db, crm_consumer_drop(db, "early"), CRM_ENOTFOUND);
	json = (char *)"untouched";
	CHECK_RC(db, crm_consumer_get(db, "early", &json), CRM_ENOTFOUND);
	CHECK(json == NULL);
	CHECK_OK(db, crm_consumer_list(db, &json));
	CHECK(json && strncmp(json, "[{\"name\":\"late\",", 16) == 0 && !strstr(json, "early"));
	crm_free(json);
	crm_close(db);
}

TEST(test_consumer__hostile_names_options_and_limits_change_nothing)
{
	static const char *const names[] = { "", "Erp", "a b", "erp'; DROP TABLE crm_event; --", "ünï", "a/b",
					     "x\n", "12345678901234567890123456789012345678901234567890123456789012345" };
	static const char *const options[] = {
		"{", "[]", "42", "{\"lease\": 5}", "{\"lease_ms\": 0}", "{\"lease_ms\": 1.5}", "{\"lease_ms\": -3}",
		"{\"lease_ms\": 604800001}", "{\"lease_ms\": \"10\"}", "{\"lease_ms\": 1e300}", "{\"start\": \"middle\"}",
		"{\"start\": 1}", "{\"filter\": []}", "{\"filter\": \"deal\"}", "{\"filter\": {\"form\": [\"deal\"]}}",
		"{\"filter\": {\"forms\": []}}", "{\"filter\": {\"forms\": \"deal\"}}", "{\"filter\": {\"forms\": [1]}}",
		"{\"filter\": {\"forms\": [\"Robert'); DROP TABLE crm_event;--\"]}}",
		"{\"filter\": {\"forms\": [\"crm_event\"]}}", "{\"filter\": {\"types\": [\"\"]}}",
		"{\"filter\": {\"types\": [\"a*b\"]}}", "{\"filter\": {\"types\": [\"**\"]}}",
		"{\"filter\": {\"types\": [\"a\\u0000b\"]}}", "{\"filter\": {\"types\": [null]}}",
	};
	crm_db *db = test_db();
	char *before, *after, *ev_before, *ev_after, *json, big[4096];
	size_t n;

	emit(db, "ping", NULL, 0);
	CHECK_OK(db, crm_consumer_set(db, "erp", "{\"lease_ms\": 1000}"));
	before = snapshot(db);
	ev_before = events_snapshot(db);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		json = (char *)"untouched";
		CHECK_RC(db, crm_consumer_set(db, names[i], NULL), CRM_EINVAL);
		CHECK_HAS(crm_errmsg(db), "a consumer name is 1 to 64 characters");
		CHECK_RC(db, crm_consumer_read(db, names[i], 10, &json), CRM_EINVAL);
		CHECK(json == NULL);
		CHECK_RC(db, crm_consumer_ack(db, names[i], 1), CRM_EINVAL);
		CHECK_RC(db, crm_consumer_get(db, names[i], &json), CRM_EINVAL);
		CHECK_RC(db, crm_consumer_drop(db, names[i]), CRM_EINVAL);
		/* the name is never echoed */
		CHECK(!strstr(crm_errdetail(db), "DROP"));
	}
	for (size_t i = 0; i < sizeof options / sizeof *options; i++) {
		CHECK_RC(db, crm_consumer_set(db, "erp", options[i]), CRM_EINVAL);
		CHECK_RC(db, crm_consumer_set(db, "new_one", options[i]), CRM_EINVAL);
	}
	/* 101 types: over the limit */
	n = (size_t)snprintf(big, sizeof big, "{\"filter\": {\"types\": [\"t\"");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, ",\"t%d\"", i);
	snprintf(big + n, sizeof big - n, "]}}");
	CHECK_RC(db, crm_consumer_set(db, "erp", big), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "filter.types: a list of 1 to 100 event types");
	/* a type of 256 bytes */
	n = (size_t)snprintf(big, sizeof big, "{\"filter\": {\"types\": [\"");
	memset(big + n, 'a', 256);
	snprintf(big + n + 256, sizeof big - n - 256, "\"]}}");
	CHECK_RC(db, crm_consumer_set(db, "erp", big), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "filter.types[0]");
	json = (char *)"untouched";
	CHECK_RC(db, crm_consumer_read(db, "erp", 0, &json), CRM_EINVAL);
	CHECK(json == NULL);
	CHECK_RC(db, crm_consumer_read(db, "erp", -1, &json), CRM_EINVAL);
	CHECK_RC(db, crm_consumer_read(db, "erp", 100001, &json), CRM_EINVAL);
	CHECK_RC(db, crm_consumer_read(db, NULL, 10, &json), CRM_EINVAL);
	CHECK_RC(db, crm_consumer_read(db, "erp", 10, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_consumer_read(NULL, "erp", 10, &json), CRM_EMISUSE);
	CHECK_RC(db, crm_consumer_list(db, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_consumer_get(db, "erp", NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_consumer_set(NULL, "erp", NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_consumer_ack(NULL, "erp", 1), CRM_EMISUSE);
	CHECK_RC(db, crm_consumer_drop(NULL, "erp"), CRM_EMISUSE);
	after = snapshot(db);
	ev_after = events_snapshot(db);
	CHECK_STR(after, before);
	CHECK_STR(ev_after, ev_before);
	free(before);
	free(after);
	free(ev_before);
	free(ev_after);
	/* the longest name and every allowed character */
	CHECK_OK(db, crm_consumer_set(db, "a-b.c_9-1234567890123456789012345678901234567890123456789012345", NULL));
	crm_close(db);
}

TEST(test_consumer__a_stored_filter_edited_by_hand_is_reported_not_trusted)
{
	crm_db *db = test_db();
	char *json = (char *)"untouched";

	emit(db, "ping", NULL, 0);
	CHECK_OK(db, crm_consumer_set(db, "erp", "{\"filter\": {\"types\": [\"ping\"]}}"));
	CHECK(crm__exec(db, "UPDATE crm_consumer SET filter = '{\"types\": [\"a*b\"]}'") == CRM_OK);
	CHECK_RC(db, crm_consumer_read(db, "erp", 10, &json), CRM_EIO);
	CHECK(json == NULL);
	CHECK_HAS(crm_errmsg(db), "stored filter is corrupt");
	crm_close(db);
}

TEST(test_consumer__only_the_system_actor_uses_consumers)
{
	crm_db *db = test_db();
	char *before, *after, *json = (char *)"untouched";
	int64_t removed = -1;

	emit(db, "ping", NULL, 0);
	CHECK_STR(read_seqs(db, "erp", 10), "1");
	before = snapshot(db);
	CHECK_OK(db, crm_actor_set(db, "alice", "admin"));
	CHECK_RC(db, crm_consumer_read(db, "erp", 10, &json), CRM_EPERM);
	CHECK(json == NULL);
	CHECK_HAS(crm_errmsg(db), "system actor only");
	CHECK_RC(db, crm_consumer_read(db, "Not A Name", 10, &json), CRM_EPERM);
	CHECK_RC(db, crm_consumer_set(db, "erp", "{\"lease_ms\": 1}"), CRM_EPERM);
	CHECK_RC(db, crm_consumer_ack(db, "erp", 1), CRM_EPERM);
	CHECK_RC(db, crm_consumer_get(db, "erp", &json), CRM_EPERM);
	CHECK_RC(db, crm_consumer_list(db, &json), CRM_EPERM);
	CHECK_RC(db, crm_consumer_drop(db, "erp"), CRM_EPERM);
	CHECK_RC(db, crm_event_prune(db, 0, &removed), CRM_EPERM);
	CHECK_INT(removed, 0);
	CHECK_OK(db, crm_actor_set(db, NULL, NULL));
	after = snapshot(db);
	CHECK_STR(after, before);
	CHECK_INT(test_sql_int(db, "SELECT count(*) FROM crm_event"), 1);
	free(before);
	free(after);
	crm_close(db);
}

/* A payload written behind libcrm's back that is not JSON comes out as a
 * string: the array stays well-formed (crm_event_list alike). */
TEST(test_consumer_read__a_payload_edited_by_hand_comes_out_as_a_string)
{
	crm_db *db = test_db();
	char *json = NULL;

	emit(db, "ping", NULL, 0);
	emit(db, "ping", NULL, 0);
	CHECK(crm__exec(db, "UPDATE crm_event SET payload = '{\"a\": [1,' WHERE id = 1") == CRM_OK);
	CHECK(crm__exec(db, "UPDATE crm_event SET payload = '{\"a\": \"x\\u0000y\"}' WHERE id = 2") == CRM_OK);
	CHECK_OK(db, crm_consumer_read(db, "erp", 10, &json));
	CHECK_HAS(json, "\"payload\":\"{\\\"a\\\": [1,\"}");
	CHECK_HAS(json, "\"payload\":\"{\\\"a\\\": \\\"x\\\\u0000y\\\"}\"}]");
	crm_free(json);
	CHECK_OK(db, crm_event_list(db, 0, 10, &json));
	CHECK_HAS(json, "\"payload\":\"{\\\"a\\\": [1,\"}");
	crm_free(json);
	crm_close(db);
}

/* Each event is written in one pass with a date kept across a batch: the
 * exact text of events on other days (before 1970 too, and back again),
 * with texts edited by hand to need every kind of escape. */
TEST(test_consumer_read__times_across_days_and_escaped_texts_are_exact)
{
	crm_db *db = test_db();
	char *json = NULL;

	for (int i = 0; i < 4; i++)
		emit(db, "ping", NULL, 0);
	CHECK(crm__exec(db, "UPDATE crm_event SET at = 1767311999999 WHERE id = 1") == CRM_OK);
	CHECK(crm__exec(db, "UPDATE crm_event SET at = 1767312000000, form = 'f', record = 7 WHERE id = 2") == CRM_OK);
	CHECK(crm__exec(db, "UPDATE crm_event SET at = -1, instance = -9223372036854775807 WHERE id = 3") == CRM_OK);
	CHECK(crm__exec(db, "UPDATE crm_event SET at = 1767311000000, actor = 'a\"b\\c', payload = '\"x' WHERE id = 4") ==
	      CRM_OK);
	CHECK_OK(db, crm_consumer_read(db, "erp", 10, &json));
	CHECK_STR(json, "[{\"seq\":1,\"at\":\"2026-01-01T23:59:59.999Z\",\"name\":\"ping\",\"form\":null,\"record\":null,"
			"\"instance\":null,\"actor\":null,\"payload\":{\"k\":1}},"
			"{\"seq\":2,\"at\":\"2026-01-02T00:00:00.000Z\",\"name\":\"ping\",\"form\":\"f\",\"record\":7,"
			"\"instance\":null,\"actor\":null,\"payload\":{\"k\":1}},"
			"{\"seq\":3,\"at\":\"1969-12-31T23:59:59.999Z\",\"name\":\"ping\",\"form\":null,\"record\":null,"
			"\"instance\":-9223372036854775807,\"actor\":null,\"payload\":{\"k\":1}},"
			"{\"seq\":4,\"at\":\"2026-01-01T23:43:20.000Z\",\"name\":\"ping\",\"form\":null,\"record\":null,"
			"\"instance\":null,\"actor\":\"a\\\"b\\\\c\",\"payload\":\"\\\"x\"}]");
	crm_free(json);
	crm_close(db);
}

/* Every byte below 0x20 in a text is escaped (the short forms where JSON
 * has them), and the text around it kept: crm_event_list alike. */
TEST(test_event_list__control_characters_are_escaped)
{
	crm_db *db = test_db();
	crm__stmt *st;
	char *json = NULL;
	const char text[] = "a\x01\n\r\t\b\f\x1f" "b";

	emit(db, "ping", NULL, 0);
	CHECK((st = crm__stmt_take(db, "UPDATE crm_event SET actor = ?, payload = ? WHERE id = 1", (size_t)-1)) != NULL);
	crm__bind_text(st, 1, text, -1);
	crm__bind_text(st, 2, text, -1);
	CHECK_INT(crm__step(st), CRM_DONE);
	crm__stmt_give(db, st);
	CHECK_OK(db, crm_event_list(db, 0, 10, &json));
	CHECK_HAS(json, "\"actor\":\"a\\u0001\\n\\r\\t\\b\\f\\u001fb\",\"payload\":\"a\\u0001\\n\\r\\t\\b\\f\\u001fb\"}]");
	crm_free(json);
	crm_close(db);
}

/* A database made before consumers gains their table when it is opened for writing. */
TEST(test_consumer__a_database_from_before_consumers_gains_their_table)
{
	char dir[64], path[256] = "", schema[64] = "";
	crm_db *db;

	test_new_shared(dir, path, sizeof path, schema, sizeof schema);
	db = test_open_shared(path, schema, 1000);
	emit(db, "ping", NULL, 0);
	CHECK(crm__exec(db, "DROP TABLE crm_consumer") == CRM_OK);
	crm_close(db);
	db = test_open_shared(path, schema, 1000);
	CHECK_INT(test_relation_exists(db, "crm_consumer"), 1);
	CHECK_STR(read_seqs(db, "erp", 10), "1");
	crm_close(db);
	test_remove_shared(dir, path);
}

/* A read inside the host's transaction is part of it: rolled back, the lease never was. */
TEST(test_consumer_read__in_a_host_transaction_rolls_back_with_it)
{
	crm_db *db = test_db();

	emit(db, "ping", NULL, 0);
	CHECK_OK(db, crm_consumer_set(db, "erp", NULL));
	CHECK_OK(db, crm_begin(db));
	CHECK_STR(read_seqs(db, "erp", 10), "1");
	CHECK_OK(db, crm_rollback(db));
	CHECK(state_has(db, "erp", "\"position\":0,\"delivered\":0,\"lease\":null"));
	CHECK_STR(read_seqs(db, "erp", 10), "1");
	crm_close(db);
}

/* ---- the row read (crm_consumer_read_rows) ---- */

/* A row read's events written as crm_consumer_read writes them, from the
 * typed accessors alone (a payload that is not JSON as a JSON string, as
 * the JSON read makes it): the cursor freed. Returned text: free(). */
static char *rows_json(crm_event_cursor *cur)
{
	crm_row *row = crm_event_cursor_row(cur);
	crm__buf b = CRM__BUF_INIT;
	static const char *const keys[] = { "seq", "at", "name", "form", "record", "instance", "actor", "payload" };
	int n = 0, rc;

	crm__buf_putc(&b, '[');
	while ((rc = crm_event_cursor_next(cur)) == CRM_ROW) {
		crm__buf_puts(&b, n++ ? ",{" : "{");
		for (int i = 0; i < 8; i++) {
			crm__buf_printf(&b, "%s\"%s\":", i ? "," : "", keys[i]);
			if (crm_row_is_null(row, i))
				crm__buf_puts(&b, "null");
			else if (i == 0 || i == 4 || i == 5)
				crm__buf_printf(&b, "%lld", (long long)crm_row_int64(row, i));
			else if (i == 7 && crm__json_valid(crm_row_text(row, i), crm_row_bytes(row, i)))
				crm__buf_put(&b, crm_row_text(row, i), crm_row_bytes(row, i));
			else
				crm__json_str(&b, crm_row_text(row, i), crm_row_bytes(row, i));
		}
		crm__buf_putc(&b, '}');
	}
	CHECK_INT(rc, CRM_DONE);
	CHECK_INT(n, crm_event_cursor_count(cur));
	crm__buf_putc(&b, ']');
	crm_event_cursor_free(cur);
	return crm__buf_detach(&b);
}

/* consumer_read_rows's seqs, like read_seqs. */
static const char *read_row_seqs(crm_db *db, const char *name, int limit)
{
	crm_event_cursor *cur = NULL;
	char *json;
	const char *s;

	CHECK_OK(db, crm_consumer_read_rows(&cur, db, name, limit));
	json = rows_json(cur);
	s = seqs(json);
	free(json);
	return s;
}

/* Consumer `name`'s row, without its name. */
static char *consumer_row(crm_db *db, const char *name)
{
	char sql[256];

	snprintf(sql, sizeof sql,
		 "SELECT acked, delivered, lease_to, lease_until, scanned, lease_ms, coalesce(filter, '-')"
		 " FROM crm_consumer WHERE name = '%s'", name);
	return test_rows(db, sql);
}

/* Events of every shape read both ways by two consumers in the same
 * state: the same events, column for column, and the same lease. */
TEST(test_consumer_read_rows__the_same_events_and_lease_as_the_json_read)
{
	crm_db *db = test_db();
	crm_event_cursor *cur = NULL;
	crm_row *row;
	char *json = NULL, *from_rows, *a, *b;
	char payload[700];

	CHECK_OK(db, crm_consumer_set(db, "json", NULL));
	CHECK_OK(db, crm_consumer_set(db, "rows", NULL));
	/* payloads of growing size, so the held rows outgrow their first room */
	for (int i = 0; i < 60; i++) {
		int64_t id = 0;
		int k = snprintf(payload, sizeof payload, "{\"i\":%d,\"pad\":\"", i);
		memset(payload + k, 'x', (size_t)i * 10);
		snprintf(payload + k + i * 10, sizeof payload - (size_t)k - (size_t)i * 10, "\"}");
		CHECK_OK(db, crm_begin(db));
		CHECK_OK(db, crm__event_emit(db, i % 3 ? "deal_won" : "ping", i % 2 ? "deal" : NULL, i % 2 ? i : 0,
					     i % 5, payload, &id));
		CHECK_OK(db, crm_commit(db));
	}
	CHECK(crm__exec(db, "UPDATE crm_event SET at = -1, actor = 'a\"b\\c' WHERE id = 2") == CRM_OK);
	CHECK(crm__exec(db, "UPDATE crm_event SET at = 1767311999999, payload = '{\"a\": [1,' WHERE id = 3") == CRM_OK);
	CHECK(crm__exec(db, "UPDATE crm_event SET payload = '{\"a\": \"x\\u0000y\"}', record = -7 WHERE id = 4") ==
	      CRM_OK);
	CHECK_OK(db, crm_consumer_read(db, "json", 50, &json));
	CHECK_OK(db, crm_consumer_read_rows(&cur, db, "rows", 50));
	CHECK_INT(crm_event_cursor_count(cur), 50);
	CHECK_INT(crm_event_cursor_last_seq(cur), 50);
	from_rows = rows_json(cur);
	CHECK_STR(from_rows, json);
	a = consumer_row(db, "json");
	b = consumer_row(db, "rows");
	CHECK_STR(b, a);
	CHECK(strstr(b, "|50|") != NULL); /* leased up to 50 */
	free(a);
	free(b);
	free(from_rows);
	crm_free(json);
	/* the rest, and the typed values of one event */
	CHECK_OK(db, crm_consumer_ack(db, "rows", 50));
	CHECK_OK(db, crm_consumer_ack(db, "json", 50));
	CHECK(crm__exec(db, "UPDATE crm_event SET payload = '{\"a\": [1,' WHERE id = 53") == CRM_OK);
	CHECK_OK(db, crm_consumer_read(db, "json", 3, &json));
	CHECK_HAS(json, "\"payload\":\"{\\\"a\\\": [1,\"}]");
	crm_free(json);
	CHECK_OK(db, crm_consumer_read_rows(&cur, db, "rows", 50));
	row = crm_event_cursor_row(cur);
	CHECK_INT(crm_event_cursor_count(cur), 10);
	CHECK_INT(crm_event_cursor_last_seq(cur), 60);
	CHECK_INT(crm_row_column_count(row), 8);
	CHECK_STR(crm_row_column_name(row, 1), "at");
	CHECK_INT(crm_row_column_type(row, 1), CRM_TYPE_DATETIME);
	CHECK_STR(crm_row_column_name(row, 2), "type");
	CHECK_INT(crm_row_column_type(row, 7), CRM_TYPE_JSON);
	CHECK(crm_row_is_null(row, 0)); /* no current row yet */
	CHECK_INT(crm_event_cursor_next(cur), CRM_ROW);
	CHECK_INT(crm_row_int64(row, 0), 51);
	CHECK_INT(crm_row_int64(row, 1), T0);
	CHECK_STR(crm_row_text(row, 1), "2026-01-02T03:04:05.000Z");
	CHECK_STR(crm_row_text(row, 2), "deal_won");
	CHECK(crm_row_is_null(row, 3) && crm_row_is_null(row, 4) && crm_row_text(row, 3) == NULL);
	CHECK(crm_row_is_null(row, 5) && crm_row_int64(row, 5) == 0); /* instance 0: none */
	CHECK(crm_row_is_null(row, 6));
	CHECK_STR(crm_row_text(row, 0), "51");
	CHECK_INT(crm_event_cursor_next(cur), CRM_ROW);
	CHECK_STR(crm_row_text(row, 3), "deal");
	CHECK_INT(crm_row_int64(row, 4), 51);
	CHECK_INT(crm_row_int64(row, 5), 1);
	CHECK_HAS(crm_row_text(row, 7), "{\"i\":51,\"pad\":\"xxxx");
	CHECK_INT(crm_row_bytes(row, 7), strlen(crm_row_text(row, 7)));
	/* a payload edited by hand into something that is not JSON comes as it
	 * is stored (the JSON read made it a string) */
	CHECK_INT(crm_event_cursor_next(cur), CRM_ROW);
	CHECK_STR(crm_row_text(row, 7), "{\"a\": [1,");
	for (int i = 0; i < 7; i++)
		CHECK_INT(crm_event_cursor_next(cur), CRM_ROW);
	CHECK_INT(crm_event_cursor_next(cur), CRM_DONE);
	CHECK_INT(crm_event_cursor_next(cur), CRM_DONE);
	CHECK(crm_row_is_null(row, 0) && crm_row_text(row, 2) == NULL); /* past the end */
	crm_event_cursor_free(cur);
	crm_close(db);
}

/* Filters, leases, redelivery and acknowledgements after a row read
 * follow the JSON read's rules. */
TEST(test_consumer_read_rows__filters_leases_and_acks)
{
	crm_db *db = test_db();
	crm_event_cursor *cur = NULL;

	CHECK_OK(db, crm_consumer_set(db, "deals", "{\"filter\": {\"forms\": [\"deal\"], \"types\": [\"x.*\"]}}"));
	emit(db, "x.a", "lead", 1); /* 1 */
	emit(db, "x.a", "deal", 1); /* 2 */
	emit(db, "y", "deal", 2);   /* 3 */
	emit(db, "x.b", "deal", 3); /* 4 */
	emit(db, "x.c", "lead", 4); /* 5 */
	CHECK_STR(read_row_seqs(db, "deals", 10), "2,4");
	CHECK(state_has(db, "deals", "\"position\":0,\"delivered\":5,\"lease\":{\"to\":4,"));
	/* leased: a second reader gets an empty cursor */
	CHECK_OK(db, crm_consumer_read_rows(&cur, db, "deals", 10));
	CHECK_INT(crm_event_cursor_count(cur), 0);
	CHECK_INT(crm_event_cursor_last_seq(cur), 0);
	CHECK_INT(crm_event_cursor_next(cur), CRM_DONE);
	crm_event_cursor_free(cur);
	/* part acknowledged, the lease expires, the rest comes again */
	CHECK_OK(db, crm_consumer_ack(db, "deals", 2));
	CHECK_RC(db, crm_consumer_ack(db, "deals", 6), CRM_EINVAL);
	crm_clock_set(db, T0 + 30000);
	CHECK_STR(read_row_seqs(db, "deals", 10), "4");
	/* the whole lease acknowledged: what it passed over too */
	CHECK_OK(db, crm_consumer_read_rows(&cur, db, "deals", 10));
	CHECK_INT(crm_event_cursor_count(cur), 0); /* still leased */
	crm_event_cursor_free(cur);
	CHECK_OK(db, crm_consumer_ack(db, "deals", 4));
	CHECK(state_has(db, "deals", "\"position\":5,\"delivered\":5,\"lease\":null"));
	/* a full batch stops where it stopped */
	emit(db, "x.d", "deal", 5); /* 6 */
	emit(db, "x.e", "deal", 6); /* 7 */
	CHECK_OK(db, crm_consumer_read_rows(&cur, db, "deals", 1));
	CHECK_INT(crm_event_cursor_last_seq(cur), 6);
	CHECK_OK(db, crm_consumer_ack(db, "deals", crm_event_cursor_last_seq(cur)));
	crm_event_cursor_free(cur);
	CHECK(state_has(db, "deals", "\"position\":6,\"delivered\":6,\"lease\":null"));
	/* nothing that matches: the position moves on by itself */
	CHECK_OK(db, crm_consumer_ack(db, "deals", 6));
	CHECK_STR(read_row_seqs(db, "deals", 10), "7");
	CHECK_OK(db, crm_consumer_ack(db, "deals", 7));
	emit(db, "y", "deal", 7); /* 8 */
	CHECK_STR(read_row_seqs(db, "deals", 10), "");
	CHECK(state_has(db, "deals", "\"position\":8,\"delivered\":8,\"lease\":null"));
	/* an unknown consumer is made by its first read, as by the JSON read */
	CHECK_STR(read_row_seqs(db, "new", 3), "1,2,3");
	CHECK(state_has(db, "new", "\"position\":0,\"delivered\":3,\"lease\":{\"to\":3,"));
	crm_close(db);
}

TEST(test_consumer_read_rows__bad_calls_get_the_json_reads_errors_and_change_nothing)
{
	crm_db *db = test_db();
	crm_event_cursor *cur = (crm_event_cursor *)&cur; /* anything but NULL */
	char *before, *after;

	emit(db, "ping", NULL, 0);
	CHECK_OK(db, crm_consumer_set(db, "erp", NULL));
	before = snapshot(db);
	CHECK_RC(db, crm_consumer_read_rows(&cur, db, "erp", 0), CRM_EINVAL);
	CHECK(cur == NULL);
	CHECK_HAS(crm_errmsg(db), "limit is the most events to read, 1 to 100000, not 0");
	CHECK_RC(db, crm_consumer_read_rows(&cur, db, "erp", 100001), CRM_EINVAL);
	CHECK_RC(db, crm_consumer_read_rows(&cur, db, "erp'; DROP TABLE crm_event; --", 10), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "a consumer name is 1 to 64 characters");
	CHECK_RC(db, crm_consumer_read_rows(&cur, db, NULL, 10), CRM_EINVAL);
	CHECK_RC(db, crm_consumer_read_rows(NULL, db, "erp", 10), CRM_EMISUSE);
	CHECK_RC(db, crm_consumer_read_rows(&cur, NULL, "erp", 10), CRM_EMISUSE);
	CHECK(cur == NULL);
	CHECK_OK(db, crm_actor_set(db, "alice", "admin"));
	CHECK_RC(db, crm_consumer_read_rows(&cur, db, "erp", 10), CRM_EPERM);
	CHECK_HAS(crm_errmsg(db), "system actor only");
	CHECK_OK(db, crm_actor_set(db, NULL, NULL));
	CHECK(crm__exec(db, "UPDATE crm_consumer SET filter = '{\"types\": [\"a*b\"]}'") == CRM_OK);
	free(before);
	before = snapshot(db);
	CHECK_RC(db, crm_consumer_read_rows(&cur, db, "erp", 10), CRM_EIO);
	CHECK_HAS(crm_errmsg(db), "stored filter is corrupt");
	CHECK(cur == NULL);
	after = snapshot(db);
	CHECK_STR(after, before);
	free(before);
	free(after);
	/* NULL cursors */
	CHECK_INT(crm_event_cursor_next(NULL), CRM_EMISUSE);
	CHECK(crm_event_cursor_row(NULL) == NULL);
	CHECK_INT(crm_event_cursor_count(NULL), 0);
	CHECK_INT(crm_event_cursor_last_seq(NULL), 0);
	crm_event_cursor_free(NULL);
	crm_close(db);
}

/* A cursor outlives crm_close: its calls then fail, its free still works
 * (and releases the handle, which waited for it). */
TEST(test_consumer_read_rows__a_cursor_used_after_crm_close)
{
	crm_db *db = test_db();
	crm_event_cursor *cur = NULL, *other = (crm_event_cursor *)&other;
	crm_row *row;

	emit(db, "ping", "deal", 1);
	emit(db, "pong", "deal", 2);
	CHECK_OK(db, crm_consumer_read_rows(&cur, db, "erp", 10));
	row = crm_event_cursor_row(cur);
	CHECK_INT(crm_event_cursor_next(cur), CRM_ROW);
	CHECK_STR(crm_row_text(row, 2), "ping");
	CHECK_OK(db, crm_close(db));
	CHECK_INT(crm_event_cursor_next(cur), CRM_EMISUSE);
	CHECK(crm_row_text(row, 2) == NULL && crm_row_is_null(row, 0) && crm_row_int64(row, 0) == 0);
	CHECK_INT(crm_event_cursor_count(cur), 0);
	CHECK_INT(crm_event_cursor_last_seq(cur), 0);
	CHECK_RC(db, crm_consumer_read_rows(&other, db, "erp", 10), CRM_EMISUSE);
	CHECK(other == NULL);
	CHECK_HAS(crm_errmsg(db), "closed");
	crm_event_cursor_free(cur);
}

/* Inside a host transaction the read sees the transaction's own events and
 * is part of it: rolled back, the lease never was; the rows handed out
 * stay readable. */
TEST(test_consumer_read_rows__in_a_host_transaction)
{
	crm_db *db = test_db();
	crm_event_cursor *cur = NULL;
	crm_row *row;
	int64_t id = 0;
	char lease[64];

	emit(db, "ping", NULL, 0);
	CHECK_OK(db, crm_consumer_set(db, "erp", NULL));
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm__event_emit(db, "mine", NULL, 0, 0, "{}", NULL)); /* appended at the commit, or before a read */
	CHECK_OK(db, crm_consumer_read_rows(&cur, db, "erp", 10));
	CHECK_INT(crm_event_cursor_count(cur), 2);
	CHECK(state_has(db, "erp", "\"lease\":{\"to\":2,"));
	CHECK_OK(db, crm_rollback(db));
	CHECK(state_has(db, "erp", "\"position\":0,\"delivered\":0,\"lease\":null"));
	row = crm_event_cursor_row(cur);
	CHECK_INT(crm_event_cursor_next(cur), CRM_ROW);
	CHECK_STR(crm_row_text(row, 2), "ping");
	CHECK_INT(crm_event_cursor_next(cur), CRM_ROW);
	CHECK_STR(crm_row_text(row, 2), "mine");
	crm_event_cursor_free(cur);
	CHECK_STR(read_row_seqs(db, "erp", 10), "1");
	/* committed, it holds */
	CHECK_OK(db, crm_clock_set(db, T0 + 30000));
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm__event_emit(db, "mine", NULL, 0, 0, "{}", &id));
	CHECK_OK(db, crm_consumer_read_rows(&cur, db, "erp", 10));
	CHECK_INT(crm_event_cursor_count(cur), 2);
	CHECK_INT(crm_event_cursor_last_seq(cur), id); /* SQLite gives 2 again, PostgreSQL 3 */
	crm_event_cursor_free(cur);
	CHECK_OK(db, crm_commit(db));
	snprintf(lease, sizeof lease, "\"lease\":{\"to\":%lld,", (long long)id);
	CHECK(state_has(db, "erp", lease));
	crm_close(db);
}

TEST_LIST(T(test_consumer_read__each_consumer_keeps_its_own_position),
	  T(test_consumer_read__a_lease_holds_back_a_second_reader_until_it_expires),
	  T(test_consumer_ack__part_of_a_lease_then_the_rest_is_delivered_again),
	  T(test_consumer_ack__never_backwards_never_beyond_what_was_handed_out),
	  T(test_consumer_filter__forms_types_and_prefixes),
	  T(test_consumer_filter__events_that_do_not_match_are_passed_over),
	  T(test_event_prune__removes_only_what_every_consumer_acknowledged),
	  T(test_consumer_set__options_state_and_drop),
	  T(test_consumer__hostile_names_options_and_limits_change_nothing),
	  T(test_consumer__a_stored_filter_edited_by_hand_is_reported_not_trusted),
	  T(test_consumer__only_the_system_actor_uses_consumers),
	  T(test_consumer_read__a_payload_edited_by_hand_comes_out_as_a_string),
	  T(test_consumer_read__times_across_days_and_escaped_texts_are_exact),
	  T(test_event_list__control_characters_are_escaped),
	  T(test_consumer__a_database_from_before_consumers_gains_their_table),
	  T(test_consumer_read__in_a_host_transaction_rolls_back_with_it),
	  T(test_consumer_read_rows__the_same_events_and_lease_as_the_json_read),
	  T(test_consumer_read_rows__filters_leases_and_acks),
	  T(test_consumer_read_rows__bad_calls_get_the_json_reads_errors_and_change_nothing),
	  T(test_consumer_read_rows__a_cursor_used_after_crm_close),
	  T(test_consumer_read_rows__in_a_host_transaction))
