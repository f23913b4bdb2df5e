/* Batches: many inserts in one transaction, all or nothing. Every row is
 * checked even after one fails, so one commit reports every failing row
 * with its index. */
#include <string.h>

#include "core/alloc.h"
#include "form_int.h"

struct crm_batch {
	crm__child child; /* first: the close hook casts back */
	crm_db *db;
	crm__form *form;
	crm__record rec;
	crm__errors errs;
	crm__buf failed_rows; /* JSON array members {"index":i,"errors":[...]} */
	size_t count;
	int64_t nfailed;
	int first_code; /* the first failing row's code */
	int open;       /* the transaction is open */
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

/* Remember a failing row: its index and errors (or the handle's message). */
static void row_failed(crm_batch *b, int code)
{
	crm_db *db = b->db;

	if (b->nfailed++ == 0)
		b->first_code = code;
	if (b->nfailed > db->limits[CRM_LIMIT_BATCH_ERRORS])
		return;
	crm__buf_puts(&b->failed_rows, b->nfailed > 1 ? ",{\"index\":" : "{\"index\":");
	crm__buf_i64(&b->failed_rows, (int64_t)b->count);
	crm__buf_puts(&b->failed_rows, ",\"code\":");
	crm__json_cstr(&b->failed_rows, crm_errstr(code));
	crm__buf_putc(&b->failed_rows, ',');
	if (b->errs.count)
		crm__errors_write(&b->failed_rows, &b->errs);
	else {
		crm__buf_puts(&b->failed_rows, "\"errors\":[{\"field\":null,\"code\":");
		crm__json_cstr(&b->failed_rows, crm_errstr(code));
		crm__buf_puts(&b->failed_rows, ",\"message\":");
		crm__json_cstr(&b->failed_rows, crm_errmsg(db));
		crm__buf_puts(&b->failed_rows, "}]");
	}
	crm__buf_putc(&b->failed_rows, '}');
}

int crm_batch_add(crm_batch *b, const char *json, ptrdiff_t len, int64_t *out_id)
{
	crm_db *db;
	crm__write w = { .op = CRM__WRITE_INSERT };
	int rc;

	if (!(db = batch_db(b)) || !json)
		return CRM_EMISUSE;
	db->errcode = CRM_OK;
	if (!b->open)
		return crm__error(db, CRM_EMISUSE, "the batch is finished");
	crm__errors_reset(&b->errs, db);
	w.form = b->form;
	w.rec = &b->rec;
	w.errs = &b->errs;
	rc = crm__record_parse(db, b->form, json, len < 0 ? strlen(json) : (size_t)len, &b->rec, &b->errs);
	if (rc == CRM_EINVAL) /* malformed: the syntax error (on the handle) is what the row reports */
		crm__errors_reset(&b->errs, db);
	/* After a failure nothing will be committed, but later rows are still
	 * validated (and inserted, so uniques between them are caught). */
	if (rc == CRM_OK)
		rc = crm__record_write(db, &w);
	if (rc == CRM_ECONSTRAINT && b->errs.count)
		crm__errors_raise(db, &b->errs, b->form->name);
	if (rc) {
		row_failed(b, rc);
		if (rc != CRM_ECONSTRAINT && rc != CRM_EINVAL) {
			/* I/O, memory, busy: the batch cannot go on. */
			crm__tx_end(db, rc);
			b->open = 0;
		}
	} else if (out_id)
		*out_id = w.id;
	b->count++;
	return rc;
}

int crm_batch_commit(crm_batch *b)
{
	crm_db *db;
	crm__buf members = CRM__BUF_INIT;
	int rc;

	if (!(db = batch_db(b)))
		return CRM_EMISUSE;
	if (b->nfailed == 0) {
		if (!b->open)
			return crm__error(db, CRM_EMISUSE, "the batch is finished");
		b->open = 0;
		db->errcode = CRM_OK;
		return crm__tx_end(db, CRM_OK);
	}
	if (b->open) {
		crm__tx_end(db, b->first_code);
		b->open = 0;
	}
	crm__buf_puts(&members, "\"failed\":");
	crm__buf_i64(&members, b->nfailed);
	crm__buf_puts(&members, ",\"rows\":[");
	crm__buf_put(&members, b->failed_rows.p, b->failed_rows.len);
	crm__buf_putc(&members, ']');
	rc = members.oom ? crm__error_oom(db)
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
		crm__tx_end(b->db, CRM_ERROR);
	crm__form_release(b->form);
	crm__record_free(&b->rec);
	crm__errors_free(&b->errs);
	crm__buf_free(&b->failed_rows);
	crm__child_remove(b->db, &b->child); /* may free a closed handle */
	crm__free(b);
}

static int push_id(int64_t **ids, size_t *n, size_t *cap, int64_t id)
{
	if (*n == *cap) {
		int64_t *grown = crm__realloc(*ids, (*cap = *cap ? *cap * 2 : 64) * sizeof **ids);
		if (!grown)
			return -1;
		*ids = grown;
	}
	(*ids)[(*n)++] = id;
	return 0;
}

/* Hand each row of a JSON array or of NDJSON to `b`, collecting ids. */
static int add_rows(crm_batch *b, const char *json, int64_t **ids, size_t *n)
{
	size_t len = strlen(json), i = 0, cap = 0;
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
			int64_t id = 0;
			if (el.type != CRM__J_OBJECT) {
				crm__error(b->db, CRM_EINVAL, "row %zu is not a JSON object", b->count);
				row_failed(b, CRM_EINVAL);
				b->count++;
				continue;
			}
			rc = crm_batch_add(b, el.p, (ptrdiff_t)el.n, &id);
			if (!b->open)
				return rc;
			if (push_id(ids, n, &cap, id))
				return crm__error_oom(b->db);
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
		int64_t id = 0;

		while (end < len && json[end] != '\n')
			end++;
		if (strspn(json + i, " \t\r") < end - i) {
			rc = crm_batch_add(b, json + i, (ptrdiff_t)(end - i), &id);
			if (!b->open)
				return rc;
			if (push_id(ids, n, &cap, id))
				return crm__error_oom(b->db);
		}
		i = end + 1;
	}
	return CRM_OK;
}

int crm_record_insert_many(crm_db *db, const char *form, const char *json, int64_t **out_ids, size_t *out_count)
{
	crm_batch *b = NULL;
	int64_t *ids = NULL;
	size_t n = 0;
	int rc;

	if (out_ids)
		*out_ids = NULL;
	if (out_count)
		*out_count = 0;
	if (!db || !json)
		return CRM_EMISUSE;
	if ((rc = crm_batch_begin(&b, db, form)))
		return rc;
	if ((rc = add_rows(b, json, &ids, &n)) == CRM_OK)
		rc = crm_batch_commit(b); /* reports the failing rows, if any */
	crm_batch_free(b);
	if (rc == CRM_OK) {
		if (out_ids)
			*out_ids = ids, ids = NULL;
		if (out_count)
			*out_count = n;
	}
	crm__free(ids);
	return rc;
}
