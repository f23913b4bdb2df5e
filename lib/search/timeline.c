/* crm_timeline: everything about one record in one list, newest first —
 * the records that reference it (directly or through one more record),
 * its workflow history and approvals, its audit entries and its events —
 * each source read through the public readers, so each goes through the
 * actor's view as it does for any caller. Paged by a keyset token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/json_parse.h"
#include "crm/audit.h"
#include "crm/query.h"
#include "crm/search.h"
#include "crm/workflow.h"
#include "event/event.h"
#include "crm/event.h"
#include "search_int.h"

#define MAX_LIMIT 200
#define MAX_HOP_IDS 500 /* first-hop records whose referrers the second hop reads */

enum kind { K_RECORD, K_WORKFLOW, K_APPROVAL, K_AUDIT, K_EVENT, K_COUNT };
static const char *const kind_names[K_COUNT] = { "record", "workflow", "approval", "audit", "event" };

/* The order of items: newest first, then kind, form, id, place in the
 * source; unique, so a page ends at one item and the next starts after it. */
typedef struct key {
	int64_t at;
	int kind;
	char form[64];
	int64_t id, seq;
} key;

typedef struct item {
	key k;
	char *summary, *data;
} item;

typedef struct timeline {
	const char *form;
	int64_t id;
	unsigned kinds; /* 1 << kind */
	int limit;
	int has_before;
	key before;
	item *items;
	int n, cap;
} timeline;

static int key_cmp(const key *a, const key *b)
{
	int c;

	if (a->at != b->at)
		return a->at > b->at ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((c = strcmp(a->form, b->form)))
		return c;
	if (a->id != b->id)
		return a->id > b->id ? -1 : 1;
	return a->seq > b->seq ? -1 : a->seq < b->seq;
}

/* Keep an item that belongs on this page (after the token); `data` (JSON
 * text) and `summary` are copied. */
static int add_item(crm_db *db, timeline *t, const key *k, const char *summary, const char *data)
{
	item *it;

	if (t->has_before && key_cmp(k, &t->before) <= 0)
		return CRM_OK;
	if (!data)
		return crm__error_oom(db);
	if (t->n == t->cap) {
		int cap = t->cap ? 2 * t->cap : 32;
		item *ni = crm__realloc(t->items, (size_t)cap * sizeof *ni);
		if (!ni)
			return crm__error_oom(db);
		t->items = ni;
		t->cap = cap;
	}
	it = &t->items[t->n];
	it->k = *k;
	it->data = crm__strdup(data);
	it->summary = crm__strdup(summary);
	if (!it->data || !it->summary) {
		crm__free(it->data);
		crm__free(it->summary);
		return crm__error_oom(db);
	}
	t->n++;
	return CRM_OK;
}

/* add_item with an element of a list an engine answered. */
static int add_json(crm_db *db, timeline *t, const key *k, const char *summary, const cJSON *e)
{
	char *data = cJSON_PrintUnformatted(e);
	int rc = add_item(db, t, k, summary, data);

	cJSON_free(data);
	return rc;
}

static void make_key(key *k, int64_t at, int kind, const char *form, int64_t id, int64_t seq)
{
	k->at = at;
	k->kind = kind;
	snprintf(k->form, sizeof k->form, "%s", form);
	k->id = id;
	k->seq = seq;
}

/* ---- records that reference it ---- */

/* The page's bound on created_at for the records of `form`. */
static void before_filter(crm__buf *q, const timeline *t, const char *form)
{
	char iso[32];
	int c;

	if (!t->has_before)
		return;
	/* where this form's records stand beside the token's item at its time */
	c = K_RECORD != t->before.kind ? (K_RECORD < t->before.kind ? -1 : 1) : strcmp(form, t->before.form);
	iso[crm__datetime_format(t->before.at, iso)] = 0;
	if (c < 0) /* at the token's time this form's records come first: all seen */
		crm__buf_printf(q, ",{\"field\":\"created_at\",\"op\":\"lt\",\"value\":\"%s\"}", iso);
	else if (c > 0)
		crm__buf_printf(q, ",{\"field\":\"created_at\",\"op\":\"le\",\"value\":\"%s\"}", iso);
	else
		crm__buf_printf(q,
				",{\"or\":[{\"field\":\"created_at\",\"op\":\"lt\",\"value\":\"%s\"},{\"and\":["
				"{\"field\":\"created_at\",\"op\":\"eq\",\"value\":\"%s\"},"
				"{\"field\":\"id\",\"op\":\"lt\",\"value\":%lld}]}]}",
				iso, iso, (long long)t->before.id);
}

/* The records of `form` whose `field` is one of `ids` (n of them), newest
 * first, as many as a page may need, through the actor's view; with
 * `out_ids`, only their ids (for the next hop). */
static int query_refs(crm_db *db, timeline *t, const char *form, const char *field, const int64_t *ids, int n,
		      const char *via, crm__buf *out_ids, int *nout)
{
	crm__buf q = CRM__BUF_INIT;
	crm_cursor *cur = NULL;
	int rc, created = -1;

	crm__buf_puts(&q, "{\"filter\":{\"and\":[{\"field\":");
	crm__json_cstr(&q, field);
	crm__buf_puts(&q, ",\"op\":\"in\",\"value\":[");
	for (int i = 0; i < n; i++)
		crm__buf_printf(&q, "%s%lld", i ? "," : "", (long long)ids[i]);
	crm__buf_puts(&q, "]}");
	if (!out_ids)
		before_filter(&q, t, form);
	crm__buf_printf(&q, "]},\"sort\":[\"-created_at\",\"-id\"],\"limit\":%d}", out_ids ? MAX_HOP_IDS : t->limit + 1);
	rc = q.oom ? crm__error_oom(db) : crm_query(&cur, db, form, crm__buf_cstr(&q));
	crm__buf_free(&q);
	/* A form the actor may not read, or whose reference field is hidden
	 * from it: the link is not the actor's to see. */
	if (rc == CRM_EPERM)
		return CRM_OK;
	for (int i = 0; rc == CRM_OK && i < crm_cursor_column_count(cur); i++)
		if (strcmp(crm_cursor_column_name(cur, i), "created_at") == 0)
			created = i;
	while (rc == CRM_OK && (rc = crm_cursor_next(cur)) == CRM_ROW) {
		int64_t id = crm_cursor_int64(cur, 0);
		char summary[200];
		key k;

		rc = CRM_OK;
		if (out_ids) {
			crm__buf_put(out_ids, &id, sizeof id);
			(*nout)++;
			continue;
		}
		if (strcmp(form, t->form) == 0 && id == t->id)
			continue; /* the record itself, reached round a cycle */
		make_key(&k, created >= 0 ? crm_cursor_int64(cur, created) : 0, K_RECORD, form, id, 0);
		snprintf(summary, sizeof summary, "%s %lld%s%s", form, (long long)id, via ? " through " : "", via ? via : "");
		rc = add_item(db, t, &k, summary, crm_cursor_json(cur));
	}
	if (rc == CRM_DONE)
		rc = CRM_OK;
	crm_cursor_free(cur);
	if (rc == CRM_OK && out_ids && out_ids->oom)
		rc = crm__error_oom(db);
	return rc;
}

/* The forms (names, NUL-separated) and ref fields that point at `target`. */
typedef struct ref {
	char form[64], field[64];
} ref;

static int refs_to(crm_db *db, const char *target, ref **out, int *n)
{
	cJSON *list = NULL, *f;
	char *json = NULL;
	int rc = crm_form_list(db, &json), cap = 0;

	*out = NULL;
	*n = 0;
	if (rc == CRM_OK && !(list = cJSON_Parse(json)))
		rc = crm__error_oom(db);
	crm_free(json);
	cJSON_ArrayForEach(f, list)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "form");
		crm__form *form;

		if (rc || !cJSON_IsString(name) || crm__form_lookup(db, name->valuestring, &form))
			continue;
		for (int i = 0; i < form->nfields && rc == CRM_OK; i++) {
			if (form->fields[i].type != CRM_TYPE_REF || strcmp(form->fields[i].ref_form, target) != 0)
				continue;
			if (*n == cap) {
				ref *nr = crm__realloc(*out, (size_t)(cap = cap ? 2 * cap : 8) * sizeof *nr);
				if (!nr) {
					rc = crm__error_oom(db);
					break;
				}
				*out = nr;
			}
			snprintf((*out)[*n].form, sizeof(*out)[*n].form, "%s", form->name);
			snprintf((*out)[*n].field, sizeof(*out)[*n].field, "%s", form->fields[i].name);
			(*n)++;
		}
	}
	cJSON_Delete(list);
	return rc;
}

static int related_records(crm_db *db, timeline *t)
{
	ref *first = NULL, *second = NULL;
	int nfirst = 0, nsecond = 0, rc;

	if ((rc = refs_to(db, t->form, &first, &nfirst)))
		return rc;
	for (int i = 0; i < nfirst && rc == CRM_OK; i++) {
		crm__buf ids = CRM__BUF_INIT;
		int nids = 0;
		char via[140];

		if ((rc = query_refs(db, t, first[i].form, first[i].field, &t->id, 1, NULL, NULL, NULL)) ||
		    (rc = query_refs(db, t, first[i].form, first[i].field, &t->id, 1, NULL, &ids, &nids)) ||
		    (rc = refs_to(db, first[i].form, &second, &nsecond))) {
			crm__buf_free(&ids);
			break;
		}
		snprintf(via, sizeof via, "%s", first[i].form);
		for (int j = 0; j < nsecond && nids && rc == CRM_OK; j++)
			rc = query_refs(db, t, second[j].form, second[j].field, (const int64_t *)(void *)ids.p, nids, via,
					NULL, NULL);
		crm__free(second);
		second = NULL;
		crm__buf_free(&ids);
	}
	crm__free(first);
	return rc;
}

/* ---- lists the engines answer for the record ---- */

static int64_t at_of(const cJSON *o)
{
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "at");
	int64_t ms = 0;

	if (cJSON_IsString(at))
		crm__datetime_parse(at->valuestring, strlen(at->valuestring), &ms);
	return ms;
}

static const char *str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* One element of a workflow history or an audit trail as an item. */
static int list_item(crm_db *db, timeline *t, const cJSON *e, int index)
{
	const char *event = str_of(e, "event"), *op = str_of(e, "op");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(e, "seq");
	char summary[300];
	int kind;
	key k;

	if (*op) { /* an audit entry; transitions and approvals come from the history */
		if (strcmp(op, "transition") == 0 || strcmp(op, "approval") == 0)
			return CRM_OK;
		kind = K_AUDIT;
		snprintf(summary, sizeof summary, "%s by %s", op, *str_of(e, "actor") ? str_of(e, "actor") : "the host");
	} else {
		kind = strcmp(event, "approve") == 0 || strcmp(event, "reject") == 0 ? K_APPROVAL : K_WORKFLOW;
		if (kind == K_APPROVAL)
			snprintf(summary, sizeof summary, "%s: %s in %s", str_of(e, "workflow"), event, str_of(e, "from"));
		else
			snprintf(summary, sizeof summary, "%s: %s -> %s (%s)", str_of(e, "workflow"), str_of(e, "from"),
				 str_of(e, "to"), event);
	}
	if (!(t->kinds & (1u << kind)))
		return CRM_OK;
	make_key(&k, at_of(e), kind, t->form, t->id, cJSON_IsNumber(seq) ? (int64_t)seq->valuedouble : index);
	return add_json(db, t, &k, summary, e);
}

static int add_list(crm_db *db, timeline *t, int rc, char *json)
{
	cJSON *list = NULL, *e;
	int i = 0;

	if (rc == CRM_OK && !(list = cJSON_Parse(json)))
		rc = crm__error_oom(db);
	crm_free(json);
	cJSON_ArrayForEach(e, list)
	{
		if (rc == CRM_OK)
			rc = list_item(db, t, e, i++);
	}
	cJSON_Delete(list);
	return rc;
}

/* Events: the system actor's alone, as the outbox is (include/crm/event.h);
 * another actor sees the same changes as audit entries, hidden fields left out. */
static int events(crm_db *db, timeline *t)
{
	crm__buf seqs = CRM__BUF_INIT;
	int rc, n = 0;

	if (!crm__actor_is_system(db))
		return CRM_OK;
	rc = crm__event_about(db, t->form, t->id, &seqs, &n);
	for (int i = 0; i < n && rc == CRM_OK; i++) {
		int64_t seq;
		char *json = NULL;
		cJSON *list = NULL;
		const cJSON *e;

		memcpy(&seq, seqs.p + (size_t)i * sizeof seq, sizeof seq);
		if ((rc = crm_event_list(db, seq - 1, 1, &json)) == CRM_OK && !(list = cJSON_Parse(json)))
			rc = crm__error_oom(db);
		crm_free(json);
		if (rc == CRM_OK && (e = cJSON_GetArrayItem(list, 0))) {
			key k;
			make_key(&k, at_of(e), K_EVENT, t->form, t->id, seq);
			rc = add_json(db, t, &k, str_of(e, "name"), e);
		}
		cJSON_Delete(list);
	}
	crm__buf_free(&seqs);
	return rc;
}

/* ---- options and answer ---- */

static int parse_before(crm_db *db, const cJSON *v, timeline *t)
{
	long long at, id, seq;
	int kind, used = 0;
	const char *s = cJSON_IsString(v) ? v->valuestring : "";
	size_t hex;

	if (strlen(s) > 200 || sscanf(s, "t%lld.%d.%lld.%lld.%n", &at, &kind, &id, &seq, &used) != 4 || !used ||
	    kind < 0 || kind >= K_COUNT || (hex = strlen(s + used)) % 2 || hex / 2 >= sizeof t->before.form)
		return crm__error_path(db, "before", "not a timeline token (pass the \"next\" of the previous page)");
	for (size_t i = 0; i < hex / 2; i++) {
		unsigned c;
		if (sscanf(s + used + 2 * i, "%2x", &c) != 1)
			return crm__error_path(db, "before", "not a timeline token");
		t->before.form[i] = (char)c;
	}
	t->before.form[hex / 2] = 0;
	t->before.at = at;
	t->before.kind = kind;
	t->before.id = id;
	t->before.seq = seq;
	t->has_before = 1;
	return CRM_OK;
}

static int parse_options(crm_db *db, const cJSON *o, timeline *t)
{
	static const char *const keys[] = { "kinds", "limit", "before", NULL };
	const cJSON *v;
	int rc;

	if ((rc = crm__search_check_options(db, o, keys, "timeline")) || (rc = crm__search_limit(db, o, MAX_LIMIT, &t->limit)))
		return rc;
	if ((v = o ? cJSON_GetObjectItemCaseSensitive(o, "kinds") : NULL)) {
		const cJSON *k;
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1)
			return crm__error_path(db, "kinds", "'kinds' lists some of record, workflow, approval, audit, event");
		t->kinds = 0;
		cJSON_ArrayForEach(k, v)
		{
			int found = -1;
			for (int i = 0; i < K_COUNT && cJSON_IsString(k); i++)
				if (strcmp(k->valuestring, kind_names[i]) == 0)
					found = i;
			if (found < 0)
				return crm__error_path(db, "kinds", "unknown kind (record, workflow, approval, audit, event)");
			t->kinds |= 1u << found;
		}
	}
	if ((v = o ? cJSON_GetObjectItemCaseSensitive(o, "before") : NULL) && !cJSON_IsNull(v))
		return parse_before(db, v, t);
	return CRM_OK;
}

static int cmp_items(const void *a, const void *b) { return key_cmp(&((const item *)a)->k, &((const item *)b)->k); }

static int write_answer(crm_db *db, timeline *t, crm__buf *out)
{
	int shown = 0, last = -1;
	char iso[32];

	qsort(t->items, (size_t)t->n, sizeof *t->items, cmp_items);
	crm__buf_puts(out, "{\"items\":[");
	for (int i = 0; i < t->n && shown < t->limit; i++) {
		const item *it = &t->items[i];
		if (last >= 0 && key_cmp(&t->items[last].k, &it->k) == 0)
			continue; /* reached both directly and through another record */
		last = i;
		crm__buf_puts(out, shown++ ? ",{\"at\":\"" : "{\"at\":\"");
		crm__buf_put(out, iso, crm__datetime_format(it->k.at, iso));
		crm__buf_printf(out, "\",\"kind\":\"%s\",\"form\":", kind_names[it->k.kind]);
		crm__json_cstr(out, it->k.form);
		crm__buf_printf(out, ",\"id\":%lld,\"summary\":", (long long)it->k.id);
		crm__json_cstr(out, it->summary);
		crm__buf_puts(out, ",\"data\":");
		crm__buf_puts(out, it->data);
		crm__buf_putc(out, '}');
	}
	crm__buf_puts(out, "],\"next\":");
	/* more after the last shown item (a duplicate of it does not count) */
	while (last >= 0 && last + 1 < t->n && key_cmp(&t->items[last].k, &t->items[last + 1].k) == 0)
		last++;
	if (shown == t->limit && last + 1 < t->n) {
		const key *k = &t->items[last].k;
		crm__buf_printf(out, "\"t%lld.%d.%lld.%lld.", (long long)k->at, k->kind, (long long)k->id, (long long)k->seq);
		for (const char *p = k->form; *p; p++)
			crm__buf_printf(out, "%02x", (unsigned char)*p);
		crm__buf_puts(out, "\"}");
	} else
		crm__buf_puts(out, "null}");
	return out->oom ? crm__error_oom(db) : CRM_OK;
}

static int gather(crm_db *db, timeline *t)
{
	char *json = NULL;
	int rc = CRM_OK;

	if (t->kinds & (1u << K_RECORD))
		rc = related_records(db, t);
	if (rc == CRM_OK && (t->kinds & (1u << K_WORKFLOW | 1u << K_APPROVAL))) {
		rc = crm_workflow_history(db, t->form, t->id, &json);
		rc = add_list(db, t, rc, json);
	}
	if (rc == CRM_OK && (t->kinds & (1u << K_AUDIT))) {
		rc = crm_audit_history(db, t->form, t->id, &json);
		rc = add_list(db, t, rc, json);
	}
	if (rc == CRM_OK && (t->kinds & (1u << K_EVENT)))
		rc = events(db, t);
	return rc;
}

int crm_timeline(crm_db *db, const char *form, int64_t id, const char *options_json, char **out)
{
	timeline t = { .form = form, .id = id, .kinds = (1u << K_COUNT) - 1, .limit = 50 };
	crm__buf json = CRM__BUF_INIT;
	cJSON *opts = NULL;
	char *rec = NULL;
	int rc;

	if ((rc = crm__enter_out(db, out)))
		return rc;
	if (!form)
		return crm__error(db, CRM_EINVAL, "no form given");
	if (options_json && *options_json && (rc = crm__json_parse(db, options_json, "timeline options", &opts)))
		return rc;
	rc = parse_options(db, opts, &t);
	cJSON_Delete(opts);
	/* A record the actor may not read has no timeline: the missing answer. */
	if (rc == CRM_OK)
		rc = crm_record_get(db, form, id, &rec);
	crm_free(rec);
	if (rc == CRM_OK)
		rc = gather(db, &t);
	if (rc == CRM_OK)
		rc = write_answer(db, &t, &json);
	if (rc == CRM_OK && !(*out = crm__buf_detach(&json)))
		rc = crm__error_oom(db);
	crm__buf_free(&json);
	for (int i = 0; i < t.n; i++) {
		crm__free(t.items[i].summary);
		crm__free(t.items[i].data);
	}
	crm__free(t.items);
	return rc;
}
