/* Batches: many inserts in one transaction, all or nothing. Every row is
 * checked even after one fails, so one commit reports every failing row
 * with its index. On a backend that queues statements (PostgreSQL's
 * pipeline mode) a row's INSERT is sent without waiting for it when nothing
 * needs its id at once: outcomes are read at the next sync point (every
 * BATCH_QUEUE rows, a row that asks for its id, any other statement, the
 * commit), and a unique key's conflict found there is reported for its row.
 * SQLite queues too: it runs queued rows as multi-row INSERTs. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "form_int.h"

/* Rows in flight before the batch waits for their outcomes: enough to keep
 * the server busy, few enough to bound what is kept for them. */
#define BATCH_QUEUE 1024

typedef struct failure {
	size_t index, at, len; /* the row, its member in failed_rows */
	int code;
} failure;

/* A row whose INSERT is queued: its values as stored (in pending_rows)
 * until its outcome is known, since a conflict is named from them. */
typedef struct pending {
	size_t index, at;
	int rc; /* 0 until answered: CRM_ROW, CRM_DONE (a unique conflict) or the failure */
} pending;

struct crm_batch {
	crm__child child; /* first: the close hook casts back */
	crm_db *db;
	crm__form *form;
	crm__record rec;
	crm__errors errs;
	crm__buf failed_rows; /* JSON array members {"index":i,"errors":[...]}, as found */
	failure *failures;    /* the listed ones, to write in row order */
	size_t nfailures, capfailures;
	pending *pending;
	size_t npending, nanswered, cappending;
	crm__buf pending_rows;
	crm__buf values_text; /* crm_batch_add_values: literals written for the row being read */
	int64_t *ids; /* insert_many: every row's id, by index */
	size_t capids;
	int collect;
	size_t count;
	int64_t nfailed;
	size_t first_index; /* the first failing row (by index) and its code */
	int first_code;
	int broken; /* a queued row failed: the transaction is lost */
	int open;   /* the transaction is open */
};

/* crm_close with the batch open: the close rolls the transaction back, and
 * every later call on the batch is CRM_EMISUSE. */
static void batch_close(crm__child *child)
{
	((crm_batch *)child)->open = 0;
}

/* The batch's handle, or NULL (CRM_EMISUSE) once it is closed. */
static crm_db *batch_db(crm_batch *b) { return b && !b->db->closed ? b->db : NULL; }

int crm_batch_begin(crm_batch **out, crm_db *db, const char *form_name)
{
	crm_batch *b;
	int rc;

	if (!out || !db)
		return CRM_EMISUSE;
	*out = NULL;
	if ((rc = crm__enter_deferred(db)))
		return rc;
	if (!(b = crm__calloc(1, sizeof *b)))
		return crm__error_oom(db);
	b->db = db;
	crm__child_add(db, &b->child, batch_close);
	crm__record_init(&b->rec);
	/* The transaction first: the form is looked up in the snapshot it writes to. */
	if ((rc = crm__tx_begin(db))) {
		crm_batch_free(b);
		return rc;
	}
	b->open = 1;
	if ((rc = crm__form_lookup(db, form_name, &b->form)) == CRM_OK) {
		crm__form_retain(b->form);
		if (crm__record_reset(&b->rec, b->form))
			rc = crm__error_oom(db);
	}
	if (rc) {
		crm_batch_free(b);
		return rc;
	}
	*out = b;
	return CRM_OK;
}

/* Remember failing row `index`: its errors (`errs` may be NULL), else the
 * handle's message. */
static void row_failed(crm_batch *b, size_t index, int code, const crm__errors *errs)
{
	crm_db *db = b->db;
	failure *f;

	if (b->nfailed++ == 0 || index < b->first_index) {
		b->first_index = index;
		b->first_code = code;
	}
	if (b->nfailed > db->limits[CRM_LIMIT_BATCH_ERRORS])
		return;
	if (b->nfailures == b->capfailures) {
		size_t cap = b->capfailures ? 2 * b->capfailures : 16;
		failure *grown = crm__realloc(b->failures, cap * sizeof *grown);
		if (!grown) {
			b->failed_rows.oom = 1; /* the commit reports it */
			return;
		}
		b->failures = grown;
		b->capfailures = cap;
	}
	f = &b->failures[b->nfailures++];
	f->index = index;
	f->code = code;
	f->at = b->failed_rows.len;
	crm__buf_puts(&b->failed_rows, "{\"index\":");
	crm__buf_i64(&b->failed_rows, (int64_t)index);
	crm__buf_puts(&b->failed_rows, ",\"code\":");
	crm__json_cstr(&b->failed_rows, crm_errstr(code));
	crm__buf_putc(&b->failed_rows, ',');
	if (errs && errs->count)
		crm__errors_write(&b->failed_rows, errs);
	else {
		crm__buf_puts(&b->failed_rows, "\"errors\":[{\"field\":null,\"code\":");
		crm__json_cstr(&b->failed_rows, crm_errstr(code));
		crm__buf_puts(&b->failed_rows, ",\"message\":");
		crm__json_cstr(&b->failed_rows, crm_errmsg(db));
		crm__buf_puts(&b->failed_rows, "}]");
	}
	crm__buf_putc(&b->failed_rows, '}');
	f->len = b->failed_rows.len - f->at;
}

/* The outcome of a queued row, in queue order (runs inside the backend:
 * only notes it). */
static void row_done(void *payload, int rc, int64_t id)
{
	crm_batch *b = payload;
	pending *p = &b->pending[b->nanswered++];

	p->rc = rc;
	if (rc == CRM_ROW) {
		if (b->collect)
			b->ids[p->index] = id;
	} else if (rc != CRM_DONE) {
		row_failed(b, p->index, rc, NULL);
		b->broken = 1;
	}
}

/* Keep the values b->rec's insert stored (defaults and computed fields
 * filled in), to name a queued row's conflict later: the values, then
 * their text in field order. */
static void keep_stored(crm__buf *out, const crm__form *form, const crm__record *rec)
{
	size_t size = (size_t)form->nfields * sizeof *rec->values;
	char *at;

	for (int i = 0; i < form->nfields; i++)
		size += rec->values[i].kind == CRM__V_TEXT ? rec->values[i].n : 0;
	/* Room once, then copies: every row of a batch passes here. */
	if (crm__buf_reserve(out, size))
		return;
	at = out->p + out->len;
	memcpy(at, rec->values, (size_t)form->nfields * sizeof *rec->values);
	at += (size_t)form->nfields * sizeof *rec->values;
	for (int i = 0; i < form->nfields; i++)
		if (rec->values[i].kind == CRM__V_TEXT && rec->values[i].n) {
			memcpy(at, rec->values[i].s, rec->values[i].n);
			at += rec->values[i].n;
		}
	out->len += size;
}

static void restore_stored(crm__record *rec, const crm__form *form, const char *kept)
{
	const char *text = kept + (size_t)form->nfields * sizeof *rec->values;

	memcpy(rec->values, kept, (size_t)form->nfields * sizeof *rec->values);
	for (int i = 0; i < form->nfields; i++)
		if (rec->values[i].kind == CRM__V_TEXT) {
			rec->values[i].s = text;
			text += rec->values[i].n;
		}
}

/* A queued row met a unique key's conflict: name the key, as a row
 * inserted at once would have. */
static void row_conflict(crm_batch *b, size_t k)
{
	crm_db *db = b->db;
	crm__write w = { .op = CRM__WRITE_INSERT, .form = b->form, .rec = &b->rec, .errs = &b->errs };
	pending p = b->pending[k];
	int rc;

	crm__errors_reset(&b->errs, db);
	restore_stored(&b->rec, b->form, b->pending_rows.p + p.at);
	rc = crm__record_insert_conflict(db, &w);
	if (rc == CRM_ECONSTRAINT && b->errs.count)
		crm__errors_raise(db, &b->errs, b->form->name);
	row_failed(b, p.index, rc, &b->errs);
	b->broken |= rc != CRM_ECONSTRAINT;
}

/* Drop the kept values of answered rows from pending_rows. SQLite's queue
 * always holds a block's last rows, so the queue rarely empties during a
 * batch: the dead front goes once it outweighs the live rows (each byte
 * moves a bounded number of times), or pending_rows would grow by every
 * row of the batch. */
static void forget_answered(crm_batch *b)
{
	size_t dead;

	if (b->npending == 0) {
		crm__buf_reset(&b->pending_rows);
		return;
	}
	dead = b->pending[0].at;
	if (dead < b->pending_rows.len - dead)
		return;
	memmove(b->pending_rows.p, b->pending_rows.p + dead, b->pending_rows.len - dead);
	b->pending_rows.len -= dead;
	for (size_t i = 0; i < b->npending; i++)
		b->pending[i].at -= dead;
}

/* Report the conflicts among the answered rows and forget them. */
static void settle(crm_batch *b)
{
	size_t k;

	/* Naming a key runs statements, which may bring more answers. */
	for (k = 0; k < b->nanswered; k++)
		if (b->pending[k].rc == CRM_DONE && !b->broken)
			row_conflict(b, k);
	if (k)
		memmove(b->pending, b->pending + k, (b->npending - k) * sizeof *b->pending);
	b->npending -= k;
	b->nanswered = 0;
	forget_answered(b);
}

/* End a batch that cannot go on; returns rc. */
static int batch_stop(crm_batch *b, int rc)
{
	crm__tx_end(b->db, rc);
	b->open = 0;
	return rc;
}

/* Room for row b->count: its id (insert_many) and its place in the queue. */
static int make_room(crm_batch *b)
{
	if (b->collect && b->count >= b->capids) {
		size_t cap = 2 * b->count + 64;
		int64_t *grown = crm__realloc(b->ids, cap * sizeof *grown);
		if (!grown)
			return -1;
		b->ids = grown;
		b->capids = cap;
	}
	if (b->npending == b->cappending) {
		size_t cap = b->cappending ? 2 * b->cappending : 64;
		pending *grown = crm__realloc(b->pending, cap * sizeof *grown);
		if (!grown)
			return -1;
		b->pending = grown;
		b->cappending = cap;
	}
	return 0;
}

/* One row, given as JSON text (`json`, n bytes) or as values (`fields`,
 * n of them): crm_batch_add and crm_batch_add_values. */
static int add_row(crm_batch *b, const char *json, const crm_field_value *fields, size_t n, int64_t *out_id)
{
	crm_db *db = b->db;
	crm__write w = { .op = CRM__WRITE_INSERT };
	size_t kept_at;
	int rc;

	db->errcode = CRM_OK;
	if (!b->open)
		return crm__error(db, CRM_EMISUSE, "the batch is finished");
	if (b->nanswered)
		settle(b);
	if (b->broken)
		return batch_stop(b, b->first_code);
	if (make_room(b))
		return batch_stop(b, crm__error_oom(db));
	crm__errors_reset(&b->errs, db);
	w.form = b->form;
	w.rec = &b->rec;
	w.errs = &b->errs;
	/* A row whose id is asked for is inserted at once. */
	if (!out_id) {
		w.done = row_done;
		w.done_payload = b;
	}
	kept_at = b->pending_rows.len;
	if (json)
		rc = crm__record_parse(db, b->form, json, n, &b->rec, &b->errs);
	else
		rc = crm__record_from_values(db, b->form, fields, n, &b->rec, &b->errs, &b->values_text);
	if (rc == CRM_EINVAL) /* malformed: the syntax error (on the handle) is what the row reports */
		crm__errors_reset(&b->errs, db);
	/* After a failure nothing will be committed, but later rows are still
	 * validated (and inserted, so uniques between them are caught). */
	if (rc == CRM_OK)
		rc = crm__record_write(db, &w);
	if (rc == CRM_ECONSTRAINT && b->errs.count)
		crm__errors_raise(db, &b->errs, b->form->name);
	if (w.queued) {
		keep_stored(&b->pending_rows, b->form, &b->rec);
		b->pending[b->npending++] = (pending){ .index = b->count, .at = kept_at };
		if (b->pending_rows.oom)
			return batch_stop(b, crm__error_oom(db));
	}
	if (rc && !b->broken)
		row_failed(b, b->count, rc, &b->errs);
	if (rc && (b->broken || (rc != CRM_ECONSTRAINT && rc != CRM_EINVAL))) {
		/* I/O, memory, busy, or a queued row's failure: the batch cannot go on. */
		b->count++;
		return batch_stop(b, rc);
	}
	if (rc == CRM_OK && !w.queued) {
		if (out_id)
			*out_id = w.id;
		if (b->collect)
			b->ids[b->count] = w.id;
	}
	b->count++;
	if (b->npending - b->nanswered >= BATCH_QUEUE) {
		int f = crm__flush(db);
		settle(b);
		if (f || b->broken)
			return batch_stop(b, f ? f : db->errcode);
	}
	return rc;
}

int crm_batch_add(crm_batch *b, const char *json, ptrdiff_t len, int64_t *out_id)
{
	if (!batch_db(b) || !json)
		return CRM_EMISUSE;
	return add_row(b, json, NULL, len < 0 ? strlen(json) : (size_t)len, out_id);
}

int crm_batch_add_values(crm_batch *b, const crm_field_value *fields, size_t n, int64_t *out_id)
{
	if (!batch_db(b) || (!fields && n))
		return CRM_EMISUSE;
	return add_row(b, NULL, fields, n, out_id);
}

static int by_index(const void *a, const void *b)
{
	size_t x = ((const failure *)a)->index, y = ((const failure *)b)->index;

	return (x > y) - (x < y);
}

int crm_batch_commit(crm_batch *b)
{
	crm_db *db;
	crm__buf members = CRM__BUF_INIT;
	int rc;

	if (!(db = batch_db(b)))
		return CRM_EMISUSE;
	if (b->open) {
		/* The rows still in flight first: a conflict among them fails the batch. */
		rc = crm__flush(db);
		settle(b);
		if (rc && b->nfailed == 0)
			return batch_stop(b, rc);
	}
	if (b->nfailed == 0) {
		if (!b->open)
			return crm__error(db, CRM_EMISUSE, "the batch is finished");
		b->open = 0;
		db->errcode = CRM_OK;
		return crm__tx_end(db, CRM_OK);
	}
	/* Rows are listed in their order, whenever their failure was found. */
	if (b->nfailures)
		qsort(b->failures, b->nfailures, sizeof *b->failures, by_index);
	if (b->open)
		batch_stop(b, b->first_code);
	crm__buf_puts(&members, "\"failed\":");
	crm__buf_i64(&members, b->nfailed);
	crm__buf_puts(&members, ",\"rows\":[");
	for (size_t i = 0; i < b->nfailures; i++) {
		if (i)
			crm__buf_putc(&members, ',');
		crm__buf_put(&members, b->failed_rows.p + b->failures[i].at, b->failures[i].len);
	}
	crm__buf_putc(&members, ']');
	rc = members.oom || b->failed_rows.oom
		     ? crm__error_oom(db)
		     : crm__error_detail(db, b->first_code, crm__buf_cstr(&members),
					 "batch into %s: %lld of %zu rows failed; nothing was inserted", b->form->name,
					 (long long)b->nfailed, b->count);
	crm__buf_free(&members);
	return rc;
}

size_t crm_batch_count(crm_batch *b) { return b ? b->count : 0; }

void crm_batch_free(crm_batch *b)
{
	if (!b)
		return;
	if (b->open)
		crm__tx_end(b->db, CRM_ERROR); /* queued rows still answer into b */
	crm__form_release(b->form);
	crm__record_free(&b->rec);
	crm__errors_free(&b->errs);
	crm__buf_free(&b->failed_rows);
	crm__buf_free(&b->pending_rows);
	crm__buf_free(&b->values_text);
	crm__free(b->failures);
	crm__free(b->pending);
	crm__free(b->ids);
	crm__child_remove(b->db, &b->child); /* may free a closed handle */
	crm__free(b);
}

/* Hand each row of a JSON array or of NDJSON to `b`. */
static int add_rows(crm_batch *b, const char *json)
{
	size_t len = strlen(json), i = 0;
	int rc = CRM_OK;

	while (i < len && strchr(" \t\r\n", json[i]))
		i++;
	if (i < len && json[i] == '[') {
		crm__jscan sc;
		crm__jval el;
		int r;

		/* No string buffer: only objects (raw spans) are rows. */
		crm__jscan_init(&sc, json, len, (int)b->db->limits[CRM_LIMIT_JSON_DEPTH] + 1, NULL);
		while ((r = crm__jscan_element(&sc, &el)) == 1) {
			if (el.type != CRM__J_OBJECT) {
				crm__error(b->db, CRM_EINVAL, "row %zu is not a JSON object", b->count);
				row_failed(b, b->count, CRM_EINVAL, NULL);
				b->count++;
				continue;
			}
			rc = crm_batch_add(b, el.p, (ptrdiff_t)el.n, NULL);
			if (!b->open)
				return rc;
		}
		if (r < 0) {
			crm__error(b->db, CRM_EINVAL, "rows are not a valid JSON array: %s at byte %zu", sc.err, sc.err_pos);
			b->db->erroffset = (int)sc.err_pos;
			return CRM_EINVAL;
		}
		return CRM_OK;
	}
	while (i < len) {
		size_t end = i;

		while (end < len && json[end] != '\n')
			end++;
		if (strspn(json + i, " \t\r") < end - i) {
			rc = crm_batch_add(b, json + i, (ptrdiff_t)(end - i), NULL);
			if (!b->open)
				return rc;
		}
		i = end + 1;
	}
	return CRM_OK;
}

int crm_record_insert_many(crm_db *db, const char *form, const char *json, int64_t **out_ids, size_t *out_count)
{
	crm_batch *b = NULL;
	int rc;

	if (out_ids)
		*out_ids = NULL;
	if (out_count)
		*out_count = 0;
	if (!db || !json)
		return CRM_EMISUSE;
	if ((rc = crm_batch_begin(&b, db, form)))
		return rc;
	b->collect = 1; /* the ids arrive with the rows' outcomes */
	if ((rc = add_rows(b, json)) == CRM_OK)
		rc = crm_batch_commit(b); /* reports the failing rows, if any */
	if (rc == CRM_OK) {
		if (out_ids)
			*out_ids = b->ids, b->ids = NULL;
		if (out_count)
			*out_count = b->count;
	}
	crm_batch_free(b);
	return rc;
}
