/* Rows kept with the open transaction until it commits (kept.h): the one
 * list the audit trail and the event stream keep theirs in. */
#include <string.h>

#include "kept.h"

#include "alloc.h"

static void drop(crm__kept_list *l, crm__kept *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		l->first = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		l->last = k->prev;
	l->n--;
	crm__free(k);
}

void crm__kept_free_all(crm__kept_list *l)
{
	while (l->first)
		drop(l, l->first);
}

/* Drop the rows of transactions that ended without a commit (they come
 * first: rows are kept in the order they were made). */
static void drop_stale(crm_db *db, crm__kept_list *l)
{
	while (l->first && l->first->serial != db->tx_serial)
		drop(l, l->first);
}

void crm__kept_link(crm_db *db, crm__kept_list *l, crm__kept *k)
{
	drop_stale(db, l);
	k->next = NULL;
	k->prev = l->last;
	k->depth = db->tx_depth;
	k->serial = db->tx_serial;
	k->rc = -2;
	if (l->last)
		l->last->next = k;
	else
		l->first = k;
	l->last = k;
	l->n++;
}

void crm__kept_savepoint_end(crm__kept_list *l, int depth, int undone)
{
	crm__kept *k = l->last;

	while (k && k->depth > depth) {
		crm__kept *before = k->prev;
		if (undone)
			drop(l, k);
		else
			k->depth = depth;
		k = before;
	}
}

static void queued_done(void *payload, int rc, int64_t id)
{
	crm__kept *k = payload;

	k->rc = rc;
	k->record = id;
	k->done(k->done_payload, rc, id);
}

void crm__kept_wrap(crm__kept *k, crm__queued_fn *done, void **payload)
{
	k->rc = -1;
	k->done = *done;
	k->done_payload = *payload;
	*done = queued_done;
	*payload = k;
}

int crm__kept_flush(crm_db *db, crm__kept_list *l, int all, const crm__kept_sink *sink, size_t *appended)
{
	crm__kept *rows[CRM__KEPT_ROWS], *end;
	const char *lock_where = NULL;
	size_t count = 0;
	int rc = CRM_OK, n = 0, max = db->be->pipeline ? CRM__KEPT_ROWS_QUEUED : CRM__KEPT_ROWS;

	if (appended)
		*appended = 0;
	drop_stale(db, l);
	/* Wait for queued inserts only when a row still lacks its id. */
	for (crm__kept *k = l->first; all && k && rc == CRM_OK; k = k->next)
		if (k->rc == -1)
			rc = crm__flush(db);
	for (end = l->first; end && end->rc != -1; end = end->next)
		;
	if (rc || l->first == end)
		return rc;
	if (sink->insert_locking && !sink->prepare && db->be->lock_where)
		lock_where = db->be->lock_where(db, CRM__LOCK_EVENTS);
	if (!lock_where && (rc = db->be->lock(db, CRM__LOCK_EVENTS)))
		return rc;
	for (crm__kept *k = l->first; k != end && rc == CRM_OK; k = k->next)
		if ((k->rc == -2 || k->rc == CRM_ROW) && sink->prepare)
			rc = sink->prepare(db, sink->ctx, k);
	for (crm__kept *k = l->first; k != end && rc == CRM_OK; k = k->next) {
		if (k->rc != -2 && k->rc != CRM_ROW)
			continue;
		count++;
		if (lock_where) { /* the first row alone, its INSERT taking the lock */
			if ((rc = sink->insert_locking(db, sink->ctx, k, lock_where)) == CRM_OK)
				db->be->lock_taken(db, CRM__LOCK_EVENTS);
			lock_where = NULL;
			continue;
		}
		rows[n++] = k;
		if (n == max) {
			rc = sink->insert(db, sink->ctx, rows, n);
			n = 0;
		}
	}
	/* The rest in statements of half as many rows, and so on. */
	for (int size = max / 2, at = 0; size > 0 && rc == CRM_OK; size /= 2)
		while (n - at >= size && rc == CRM_OK) {
			rc = sink->insert(db, sink->ctx, rows + at, size);
			at += size;
		}
	while (l->first != end)
		drop(l, l->first);
	if (appended && rc == CRM_OK)
		*appended = count;
	return rc;
}

char *crm__kept_put(char **at, const char *src, size_t n)
{
	char *p = *at;

	if (n)
		memcpy(p, src, n);
	*at += n;
	return p;
}
