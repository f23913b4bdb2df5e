/* CSV records for import, parsed by libcsv (RFC 4180 quoting: quoted fields
 * may hold delimiters, newlines and doubled quotes) in strict mode, so a
 * stray or unbalanced quote is an error rather than a silently merged
 * record. The cells of one record are copied into one buffer (libcsv
 * reuses its own) and handed on when the record ends. */
#include <csv.h>
#include <stddef.h>
#include <string.h>

#include "core/alloc.h"
#include "core/db_int.h"
#include "import_int.h"

/* libcsv grows one buffer for the field being read: a field larger than
 * this (an unbalanced quote swallowing the file, a hostile input) stops
 * the reader instead of taking all memory. Values are much smaller still
 * (CRM_LIMIT_VALUE_LENGTH). */
#define CSV_FIELD_MAX ((size_t)64 << 20)

struct crm__csv {
	struct csv_parser p;
	crm__csv_row_fn fn;
	void *payload;
	crm__buf text;    /* the current record's cells, each NUL-terminated */
	size_t *at;       /* cell offsets into text */
	size_t *len;
	const char **ptr;
	int count, cap;
	int64_t records;  /* records handed on */
	int stop;         /* the callback's code, or -1 out of memory */
};

/* The field buffer's allocator: libcrm's, refusing past CSV_FIELD_MAX.
 * libcsv grows its buffer by a fixed block (128 bytes) at a time; to keep
 * a long field linear, blocks carry their real capacity in a header and
 * grow by doubling, so most of libcsv's requests are already met. */
typedef union block {
	size_t cap;
	max_align_t align;
} block;

static void *csv_realloc(void *p, size_t n)
{
	block *h = p ? (block *)p - 1 : NULL;
	size_t cap = h ? h->cap : 1024;

	if (n > CSV_FIELD_MAX + 64)
		return NULL;
	if (h && h->cap >= n)
		return p;
	while (cap < n)
		cap *= 2;
	if (!(h = crm__realloc(h, sizeof *h + cap)))
		return NULL;
	h->cap = cap;
	return h + 1;
}

static void csv_free_block(void *p)
{
	if (p)
		crm__free((block *)p - 1);
}

static void on_cell(void *s, size_t n, void *data)
{
	crm__csv *c = data;

	if (c->stop)
		return;
	if (c->count == c->cap) {
		int cap = c->cap ? 2 * c->cap : 32;
		size_t *at = crm__realloc(c->at, (size_t)cap * sizeof *at);
		size_t *len = at ? crm__realloc(c->len, (size_t)cap * sizeof *len) : NULL;
		if (at)
			c->at = at;
		if (!len) {
			c->stop = -1;
			return;
		}
		c->len = len;
		c->cap = cap;
	}
	c->at[c->count] = c->text.len;
	c->len[c->count++] = n;
	if (n)
		crm__buf_put(&c->text, s, n);
	crm__buf_putc(&c->text, 0);
	if (c->text.oom)
		c->stop = -1;
}

static void on_record(int term, void *data)
{
	crm__csv *c = data;
	const char **ptr;
	crm__cells cells;

	(void)term;
	if (c->stop)
		return;
	if (!(ptr = crm__realloc(c->ptr, ((size_t)c->count + 1) * sizeof *ptr))) {
		c->stop = -1;
		return;
	}
	c->ptr = ptr;
	for (int i = 0; i < c->count; i++)
		ptr[i] = c->text.p + c->at[i];
	cells = (crm__cells){ .p = ptr, .n = c->len, .count = c->count };
	c->records++;
	c->stop = c->fn(c->payload, &cells);
	c->count = 0;
	crm__buf_reset(&c->text);
}

crm__csv *crm__csv_open(unsigned char delim, crm__csv_row_fn fn, void *payload)
{
	crm__csv *c = crm__calloc(1, sizeof *c);

	if (!c)
		return NULL;
	if (csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		crm__free(c);
		return NULL;
	}
	csv_set_delim(&c->p, delim);
	csv_set_realloc_func(&c->p, csv_realloc);
	csv_set_free_func(&c->p, csv_free_block);
	c->fn = fn;
	c->payload = payload;
	return c;
}

static int parse_failed(crm_db *db, crm__csv *c)
{
	int e = csv_error(&c->p);

	if (c->stop > 0)
		return c->stop;
	if (c->stop < 0)
		return crm__error_oom(db);
	if (e == CSV_ENOMEM && csv_get_buffer_size(&c->p) >= CSV_FIELD_MAX / 2)
		return crm__error(db, CRM_ELIMIT, "CSV record %lld: a field is longer than %zu MiB (an unbalanced quote?)",
				  (long long)c->records + 1, CSV_FIELD_MAX >> 20);
	if (e == CSV_ENOMEM || e == CSV_ETOOBIG)
		return crm__error_oom(db);
	return crm__error(db, CRM_EINVAL, "CSV record %lld: %s (a quote that is not closed, or text after a closing quote)",
			  (long long)c->records + 1, csv_strerror(e));
}

int crm__csv_feed(crm_db *db, crm__csv *c, const char *p, size_t n, int last)
{
	if (n && csv_parse(&c->p, p, n, on_cell, on_record, c) != n)
		return parse_failed(db, c);
	if (c->stop)
		return parse_failed(db, c);
	if (last && (csv_fini(&c->p, on_cell, on_record, c) != 0 || c->stop))
		return parse_failed(db, c);
	return CRM_OK;
}

void crm__csv_free(crm__csv *c)
{
	if (!c)
		return;
	csv_free(&c->p);
	crm__buf_free(&c->text);
	crm__free(c->at);
	crm__free(c->len);
	crm__free(c->ptr);
	crm__free(c);
}
