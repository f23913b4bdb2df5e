/* Queries (include/crm/query.h): a query document compiled to one
 * parameterised SELECT over a form's table and streamed through a cursor,
 * with a total sort order and keyset tokens for stable paging. Every read
 * of records goes through here, so row- and field-level rules have one
 * place to hook in later. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"
#include "core/alloc.h"
#include "core/json_parse.h"
#include "core/codec.h"
#include "crm/query.h"
#include "form_int.h"

/* A cursor limited to this many rows reads them all at once: its limit
 * bounds the memory, and reading rows one at a time costs a few µs each on
 * PostgreSQL (bench_pg's query_filter, 2490 rows: 0.76 -> 1.09 of raw
 * libpq). Beyond, or without a limit, the backend reads them a few at a time
 * (crm__many_rows). */
#define CURSOR_FEW_ROWS 10000
#include "store/filter.h"
#include "store/row.h"

#define MAX_SORT_KEYS 16 /* user keys; "id" is added as the last one */
#define MAX_LIMIT 1000000000
#define MAX_OFFSET 9007199254740991.0 /* 2^53-1: exact in JSON numbers */

enum cursor_state { ST_READY, ST_ROW, ST_DONE, ST_FAILED };

/* A result column: which field (or system column) it reads. Names, types
 * and values are read through the cursor's crm_row (lib/store/row.c). */
typedef struct qcol {
	const char *name;
	int column; /* field position or enum crm__syscol */
} qcol;

typedef struct sort_key {
	int column;
	int desc;
	int result; /* result column holding the key's value */
} sort_key;

/* A parsed query document. */
typedef struct query_spec {
	crm__filter *filter;
	sort_key keys[MAX_SORT_KEYS + 1];
	int nkeys;
	int64_t limit; /* -1: none */
	int64_t offset;
	int *fields;   /* selected field positions in output order; NULL: all */
	int nfields;
	/* the decoded "after" token: one value per key */
	int has_after;
	crm__value after[MAX_SORT_KEYS + 1];
	crm__buf after_bytes; /* token text values point into */
	crm__access *access;  /* the actor's view of the form; NULL: unrestricted */
} query_spec;

struct crm_cursor {
	crm__child child; /* first: the close hook casts back */
	crm_db *db;
	crm__form *form;
	crm__stmt *st;
	int state;
	int last_rc;
	query_spec q;
	crm__binds binds;
	qcol *cols;
	int ncols;
	uint32_t sort_hash;
	crm__buf json;
	crm__buf token;
	int json_ready, token_ready;
	unsigned int epoch; /* db->meta_epoch when the form was last known current */
	crm_row row; /* typed access to the current row */
};

/* ---- errors with a "path" ---- */


/* ---- columns ---- */

static int resolve(const crm__form *form, const char *name, size_t n)
{
	static const int sys[5] = { CRM__COL_ID, CRM__COL_CREATED_AT, CRM__COL_UPDATED_AT, CRM__COL_OWNER,
				    CRM__COL_VERSION };
	const crm__field *f;

	for (int i = 0; i < 5; i++)
		if (strlen(crm__system_columns[i]) == n && memcmp(name, crm__system_columns[i], n) == 0)
			return sys[i];
	f = n ? crm__form_field(form, name, n) : NULL;
	return f ? f->position : INT32_MIN;
}

static const char *col_name(const crm__form *form, int column)
{
	return column >= 0 ? form->fields[column].name : crm__system_columns[-column - 1];
}

static crm__storage col_storage(const crm__form *form, int column)
{
	if (column >= 0)
		return form->fields[column].storage;
	return column == CRM__COL_OWNER ? CRM__S_TEXT : CRM__S_INTEGER;
}

/* ---- base64url, so tokens paste into JSON and URLs without escaping ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64_encode(crm__buf *out, const unsigned char *s, size_t n)
{
	size_t i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		char q[4] = { b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63], b64[v & 63] };
		crm__buf_put(out, q, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		char q[2] = { b64[v >> 18], b64[(v >> 12) & 63] };
		crm__buf_put(out, q, 2);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		char q[3] = { b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63] };
		crm__buf_put(out, q, 3);
	}
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

static int b64_decode(crm__buf *out, const char *s, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;

	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			crm__buf_putc(out, (char)((acc >> bits) & 0xFF));
		}
	}
	/* Leftover bits must be zero, so each position has one spelling. */
	if (acc & ((1u << bits) - 1))
		return -1;
	return out->oom ? -2 : 0;
}

/* ---- keyset tokens ----
 * Payload: 8 hex digits naming the form and sort order, then per key:
 * "n" (null), "i<int>;", "r<%.17g>;" or "t<bytes>:<text>", base64url
 * encoded. Opaque to users; checked fully when it comes back. */

static uint32_t sort_hash(const crm__form *form, const query_spec *q)
{
	uint32_t h = 2166136261u;
	char tmp[32];

	for (const char *s = form->name; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	for (int k = 0; k < q->nkeys; k++) {
		snprintf(tmp, sizeof tmp, "|%d%c", q->keys[k].column, q->keys[k].desc ? 'd' : 'a');
		for (const char *s = tmp; *s; s++)
			h = (h ^ (unsigned char)*s) * 16777619u;
	}
	return h;
}

/* Read an unsigned/signed number up to `stop` at p[*i]; returns its span length. */
static size_t span_to(const char *p, size_t n, size_t i, char stop)
{
	size_t j = i;

	while (j < n && p[j] != stop)
		j++;
	return j < n ? j - i : (size_t)-1;
}

static int decode_token(crm_db *db, const crm__form *form, query_spec *q, uint32_t hash, const cJSON *tok)
{
	static const char bad[] = "not a valid paging token (pass the text crm_cursor_token returned)";
	crm__buf *b = &q->after_bytes;
	const char *p;
	char hex[9];
	size_t n, i = 8;
	int rc;

	if (!cJSON_IsString(tok))
		return crm__error_path(db, "after", "%s", bad);
	rc = b64_decode(b, tok->valuestring, strlen(tok->valuestring));
	if (rc == -2)
		return crm__error_oom(db);
	if (rc || b->len < 8)
		return crm__error_path(db, "after", "%s", bad);
	snprintf(hex, sizeof hex, "%08x", (unsigned)hash);
	if (memcmp(b->p, hex, 8) != 0)
		return crm__error_path(db, "after", "the token comes from a query on another form or with another sort order");
	p = b->p;
	n = b->len;
	for (int k = 0; k < q->nkeys; k++) {
		crm__value *v = &q->after[k];
		int column = q->keys[k].column;
		crm__storage storage = col_storage(form, column);
		/* id, created_at, updated_at and version are never empty */
		int nullable = column >= 0 || column == CRM__COL_OWNER;
		size_t len;
		char tmp[40];

		memset(v, 0, sizeof *v);
		if (i >= n)
			return crm__error_path(db, "after", "%s", bad);
		switch (p[i++]) {
		case 'n':
			if (!nullable)
				return crm__error_path(db, "after", "%s", bad);
			v->kind = CRM__V_NULL;
			break;
		case 'i':
			len = span_to(p, n, i, ';');
			if (storage == CRM__S_TEXT || len == (size_t)-1 || crm__int_parse(p + i, len, &v->i))
				return crm__error_path(db, "after", "%s", bad);
			v->kind = CRM__V_INT;
			if (column >= 0) { /* a decimal, datetime or boolean binds as one */
				v->nat = (unsigned char)crm__natural_of(form->fields[column].value_type);
				v->scale = (unsigned char)form->fields[column].scale;
			}
			i += len + 1;
			break;
		case 'r': {
			char *end;
			len = span_to(p, n, i, ';');
			if (storage != CRM__S_REAL || len == (size_t)-1 || len == 0 || len >= sizeof tmp)
				return crm__error_path(db, "after", "%s", bad);
			memcpy(tmp, p + i, len);
			tmp[len] = 0;
			v->d = strtod(tmp, &end);
			if (*end || !isfinite(v->d))
				return crm__error_path(db, "after", "%s", bad);
			v->kind = CRM__V_REAL;
			i += len + 1;
			break;
		}
		case 't': {
			int64_t tl;
			len = span_to(p, n, i, ':');
			if (storage != CRM__S_TEXT || len == (size_t)-1 || len == 0 || crm__int_parse(p + i, len, &tl) ||
			    tl < 0 || (uint64_t)tl > n - (i + len + 1))
				return crm__error_path(db, "after", "%s", bad);
			i += len + 1;
			v->kind = CRM__V_TEXT;
			v->s = p + i;
			v->n = (size_t)tl;
			if (crm__utf8_length(v->s, v->n) < 0)
				return crm__error_path(db, "after", "%s", bad);
			i += (size_t)tl;
			break;
		}
		default: return crm__error_path(db, "after", "%s", bad);
		}
	}
	if (i != n)
		return crm__error_path(db, "after", "%s", bad);
	q->has_after = 1;
	return CRM_OK;
}

/* ---- the query document ---- */

static int parse_limit(crm_db *db, const cJSON *v, const char *key, double max, int64_t *out)
{
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
	    v->valuedouble > max)
		return crm__error_path(db, key, "'%s' must be an integer from 0 to %.0f", key, max);
	*out = (int64_t)v->valuedouble;
	return CRM_OK;
}

/* Call fn on each name of an array of strings or a comma-separated string. */
typedef int (*name_fn)(crm_db *db, const crm__form *form, query_spec *q, const char *name, size_t n,
		       const char *path);

static int each_name(crm_db *db, const crm__form *form, query_spec *q, const cJSON *v, const char *key,
		     name_fn fn)
{
	const cJSON *el;
	char path[48];
	int rc, i = 0;

	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		if (!*s)
			return CRM_OK;
		for (;;) {
			const char *e = strchr(s, ','), *end = e ? e : s + strlen(s);
			while (s < end && *s == ' ')
				s++;
			while (end > s && end[-1] == ' ')
				end--;
			if ((rc = fn(db, form, q, s, (size_t)(end - s), key)))
				return rc;
			if (!e)
				return CRM_OK;
			s = e + 1;
		}
	}
	if (!cJSON_IsArray(v))
		return crm__error_path(db, key, "'%s' must be an array of field names or a comma-separated string", key);
	cJSON_ArrayForEach(el, v)
	{
		snprintf(path, sizeof path, "%s[%d]", key, i++);
		if (!cJSON_IsString(el))
			return crm__error_path(db, path, "a field name must be a string");
		if ((rc = fn(db, form, q, el->valuestring, strlen(el->valuestring), path)))
			return rc;
	}
	return CRM_OK;
}

static int add_sort_key(crm_db *db, const crm__form *form, query_spec *q, const char *name, size_t n,
			const char *path)
{
	int desc = n > 0 && name[0] == '-', column;

	name += desc;
	n -= (size_t)desc;
	column = resolve(form, name, n);
	if (column == INT32_MIN)
		return crm__error_path(db, path, "unknown field '%.*s' in form '%s'", (int)(n > 100 ? 100 : n), name,
			       form->name);
	for (int k = 0; k < q->nkeys; k++)
		if (q->keys[k].column == column)
			return crm__error_path(db, path, "'%s' is sorted on twice", col_name(form, column));
	if (q->nkeys == MAX_SORT_KEYS)
		return crm__error_path(db, path, "at most %d sort keys", MAX_SORT_KEYS);
	q->keys[q->nkeys].column = column;
	q->keys[q->nkeys].desc = desc;
	q->nkeys++;
	return CRM_OK;
}

static int add_field(crm_db *db, const crm__form *form, query_spec *q, const char *name, size_t n,
		     const char *path)
{
	int column = resolve(form, name, n);

	if (column == INT32_MIN)
		return crm__error_path(db, path, "unknown field '%.*s' in form '%s'", (int)(n > 100 ? 100 : n), name,
			       form->name);
	if (column < 0) /* system columns are always in the result */
		return CRM_OK;
	for (int i = 0; i < q->nfields; i++)
		if (q->fields[i] == column)
			return CRM_OK;
	q->fields[q->nfields++] = column;
	return CRM_OK;
}

static void spec_free(query_spec *q)
{
	crm__access_free(q->access);
	crm__filter_free(q->filter);
	crm__free(q->fields);
	crm__buf_free(&q->after_bytes);
	memset(q, 0, sizeof *q);
}

/* The actor's view of the form: what the query uses must be readable (the
 * schema is not secret, the values are: a filter, an order or a choice of
 * fields on a hidden one is refused, not answered), and without "fields"
 * the readable ones are returned. */
static int spec_access(crm_db *db, const crm__form *form, query_spec *q)
{
	int rc;

	if ((rc = crm__access_open(db, form, &q->access)) || !q->access)
		return rc;
	if ((rc = crm__access_filter_readable(db, q->access, form, q->filter)))
		return rc;
	for (int k = 0; k < q->nkeys; k++)
		if (!crm__access_readable(q->access, q->keys[k].column))
			return crm__access_hidden_error(db, form, q->keys[k].column);
	if (q->fields) {
		for (int i = 0; i < q->nfields; i++)
			if (!crm__access_readable(q->access, q->fields[i]))
				return crm__access_hidden_error(db, form, q->fields[i]);
		return CRM_OK;
	}
	if (!(q->fields = crm__calloc((size_t)form->nfields + 1, sizeof *q->fields)))
		return crm__error_oom(db);
	for (int i = 0; i < form->nfields; i++)
		if (crm__access_readable(q->access, i))
			q->fields[q->nfields++] = i;
	return CRM_OK;
}

/* Parse the query document. Keys: filter, sort, limit, offset, after,
 * fields; null stands for an absent key. */
static int parse_spec(crm_db *db, const crm__form *form, const char *json, query_spec *q)
{
	const cJSON *after = NULL, *m;
	cJSON *doc;
	int rc = CRM_OK, has_id = 0, has_offset = 0;

	memset(q, 0, sizeof *q);
	q->limit = -1;
	if (!json || !*json) {
		q->keys[0].column = CRM__COL_ID;
		q->nkeys = 1;
		if ((rc = spec_access(db, form, q)))
			spec_free(q);
		return rc;
	}
	if ((rc = crm__json_parse(db, json, "the query", &doc)))
		return rc;
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return crm__error(db, CRM_EINVAL, "a query is a JSON object");
	}
	cJSON_ArrayForEach(m, doc)
	{
		const char *k = m->string;

		for (const cJSON *o = doc->child; o != m; o = o->next)
			if (strcmp(o->string, k) == 0) {
				rc = crm__error_path(db, k, "key '%s' appears twice", k);
				goto out;
			}
		if (cJSON_IsNull(m) && (!strcmp(k, "filter") || !strcmp(k, "sort") || !strcmp(k, "limit") ||
					!strcmp(k, "offset") || !strcmp(k, "after") || !strcmp(k, "fields")))
			continue;
		if (strcmp(k, "filter") == 0) {
			if (!(q->filter = crm__filter_parse(db, form, m, "filter", 0))) {
				rc = db->errcode ? db->errcode : CRM_EINVAL;
				goto out;
			}
		} else if (strcmp(k, "sort") == 0) {
			if ((rc = each_name(db, form, q, m, "sort", add_sort_key)))
				goto out;
		} else if (strcmp(k, "limit") == 0) {
			if ((rc = parse_limit(db, m, "limit", MAX_LIMIT, &q->limit)))
				goto out;
		} else if (strcmp(k, "offset") == 0) {
			if ((rc = parse_limit(db, m, "offset", MAX_OFFSET, &q->offset)))
				goto out;
			has_offset = 1;
		} else if (strcmp(k, "after") == 0)
			after = m;
		else if (strcmp(k, "fields") == 0) {
			q->fields = crm__calloc((size_t)form->nfields + 1, sizeof *q->fields);
			if (!q->fields) {
				rc = crm__error_oom(db);
				goto out;
			}
			if ((rc = each_name(db, form, q, m, "fields", add_field)))
				goto out;
		} else {
			rc = crm__error_path(db, k, "unknown key '%.64s' in a query (expected filter, sort, limit, offset, after, fields)", k);
			goto out;
		}
	}
	/* id ends every order, so the order is total and tokens are exact; keys
	 * after an explicit id could never matter. */
	for (int k = 0; k < q->nkeys && !has_id; k++)
		if (q->keys[k].column == CRM__COL_ID) {
			q->nkeys = k + 1;
			has_id = 1;
		}
	if (!has_id) {
		q->keys[q->nkeys].column = CRM__COL_ID;
		q->keys[q->nkeys].desc = 0;
		q->nkeys++;
	}
	if (after) {
		if (has_offset) {
			rc = crm__error_path(db, "after", "'after' and 'offset' cannot be combined (a token already says where to go on)");
			goto out;
		}
		rc = decode_token(db, form, q, sort_hash(form, q), after);
	}
	if (rc == CRM_OK)
		rc = spec_access(db, form, q);
out:
	cJSON_Delete(doc);
	if (rc)
		spec_free(q);
	return rc;
}

/* ---- SQL ---- */

/* A sort key's column as the keys order and compare it (the dialect's
 * sort_value: the engines' order on every backend). */
static void key_sql(const crm__dialect *d, crm__buf *sql, const crm__form *form, int column)
{
	crm__buf col = CRM__BUF_INIT;

	if (column < 0) {
		crm__column_sql(sql, form, column, NULL);
		return;
	}
	crm__column_sql(&col, form, column, NULL);
	d->sort_value(sql, form->fields[column].value_type, crm__buf_cstr(&col));
	sql->oom |= col.oom;
	crm__buf_free(&col);
}

static void where_sql(const crm__dialect *d, crm__buf *sql, crm__binds *binds, const query_spec *q,
		      const crm__form *form, const crm__value **kbind, int *nk)
{
	int first = 1;

	*nk = 0;
	if (q->filter) {
		crm__buf_puts(sql, " WHERE ");
		crm__filter_sql(d, sql, binds, q->filter, form, NULL);
		first = 0;
	}
	if (q->access) {
		/* plain terms beside the filter's, for the planner to use indexes */
		crm__buf_puts(sql, first ? " WHERE " : " AND ");
		crm__access_where_sql(q->access, CRM__ACCESS_READ, d, sql, binds, NULL);
		first = 0;
	}
	if (!q->has_after)
		return;
	/* Rows after the token's row in ORDER BY order: for some key i, every
	 * earlier key equal and key i beyond. NULL sorts first in ASC and so
	 * last in DESC (the dialect's order_asc and order_desc). */
	crm__buf_puts(sql, first ? " WHERE (" : " AND (");
	first = 1;
	for (int i = 0; i < q->nkeys; i++) {
		const sort_key *ki = &q->keys[i];
		const crm__value *pi = &q->after[i];

		/* Nothing comes after NULL in a descending key. */
		if (ki->desc && pi->kind == CRM__V_NULL)
			continue;
		crm__buf_puts(sql, first ? "(" : " OR (");
		first = 0;
		for (int j = 0; j < i; j++) {
			key_sql(d, sql, form, q->keys[j].column);
			if (q->after[j].kind == CRM__V_NULL)
				crm__buf_puts(sql, " IS NULL AND ");
			else {
				crm__buf_puts(sql, " = ? AND ");
				kbind[(*nk)++] = &q->after[j];
			}
		}
		if (pi->kind == CRM__V_NULL) {
			key_sql(d, sql, form, ki->column);
			crm__buf_puts(sql, " IS NOT NULL");
		} else if (!ki->desc) {
			key_sql(d, sql, form, ki->column);
			crm__buf_puts(sql, " > ?");
			kbind[(*nk)++] = pi;
		} else {
			crm__buf_putc(sql, '(');
			key_sql(d, sql, form, ki->column);
			crm__buf_puts(sql, " < ? OR ");
			key_sql(d, sql, form, ki->column);
			crm__buf_puts(sql, " IS NULL)");
			kbind[(*nk)++] = pi;
		}
		crm__buf_putc(sql, ')');
	}
	if (first)
		crm__buf_puts(sql, "FALSE");
	crm__buf_putc(sql, ')');
}

static int bind_all(crm_db *db, crm__stmt *st, const crm__binds *binds, const crm__value **kbind, int nk,
		    int64_t limit, int64_t offset, int paging)
{
	int rc = crm__binds_apply(binds, st, 1, NULL, NULL), idx = binds->n + 1;

	for (int k = 0; k < nk && rc == CRM_OK; k++)
		rc = crm__value_bind(st, idx++, kbind[k]);
	if (paging && rc == CRM_OK) {
		/* No limit is the largest one: every database takes that. */
		rc = crm__bind_int64(st, idx++, limit < 0 ? INT64_MAX : limit);
		if (rc == CRM_OK)
			rc = crm__bind_int64(st, idx, offset);
	}
	return rc;
}

static void set_col(crm_cursor *cur, int i, int column)
{
	const crm__form *form = cur->form;
	crm_type t = column >= 0 ? form->fields[column].value_type
		     : column == CRM__COL_OWNER ? CRM_TYPE_TEXT
		     : column == CRM__COL_CREATED_AT || column == CRM__COL_UPDATED_AT ? CRM_TYPE_DATETIME
										       : CRM_TYPE_INTEGER;

	cur->cols[i].name = col_name(form, column);
	cur->cols[i].column = column;
	crm__row_column(&cur->row, i, cur->cols[i].name, t, column >= 0 ? form->fields[column].scale : 0);
}

static int form_current(void *owner);

static int build_cursor(crm_cursor *cur)
{
	static const int sys[4] = { CRM__COL_CREATED_AT, CRM__COL_UPDATED_AT, CRM__COL_OWNER, CRM__COL_VERSION };
	const crm__form *form = cur->form;
	query_spec *q = &cur->q;
	crm__buf sql = CRM__BUF_INIT;
	const crm__value *kbind[2 * (MAX_SORT_KEYS + 1) * (MAX_SORT_KEYS + 1)];
	int nsel = q->fields ? q->nfields : form->nfields, nk, paging, nres, rc, nsys = 0;
	int shown[4];

	for (int k = 0; k < 4; k++)
		if (crm__access_readable(q->access, sys[k]))
			shown[nsys++] = sys[k];
	cur->ncols = 1 + nsel + nsys;
	cur->cols = crm__calloc((size_t)cur->ncols, sizeof *cur->cols);
	if (!cur->cols)
		return crm__error_oom(cur->db);
	if ((rc = crm__row_init(&cur->row, cur->db, cur->ncols)))
		return rc;
	cur->row.state = &cur->state;
	cur->row.on_row = ST_ROW;
	cur->row.epoch = &cur->epoch;
	cur->row.current = form_current;
	cur->row.owner = cur;
	set_col(cur, 0, CRM__COL_ID);
	for (int i = 0; i < nsel; i++)
		set_col(cur, 1 + i, q->fields ? q->fields[i] : i);
	for (int k = 0; k < nsys; k++)
		set_col(cur, 1 + nsel + k, shown[k]);

	crm__buf_puts(&sql, "SELECT ");
	for (int i = 0; i < cur->ncols; i++) {
		if (i)
			crm__buf_puts(&sql, ", ");
		crm__column_sql(&sql, form, cur->cols[i].column, NULL);
	}
	/* Sort keys not among the selected columns are read as hidden columns
	 * after them, for crm_cursor_token. */
	nres = cur->ncols;
	for (int k = 0; k < q->nkeys; k++) {
		sort_key *key = &q->keys[k];
		key->result = -1;
		for (int i = 0; i < cur->ncols && key->result < 0; i++)
			if (cur->cols[i].column == key->column)
				key->result = i;
		if (key->result < 0) {
			crm__buf_puts(&sql, ", ");
			crm__column_sql(&sql, form, key->column, NULL);
			key->result = nres++;
		}
	}
	crm__buf_puts(&sql, " FROM ");
	crm__sql_ident(&sql, form->name);
	where_sql(cur->db->be->dialect, &sql, &cur->binds, q, form, kbind, &nk);
	crm__buf_puts(&sql, " ORDER BY ");
	for (int k = 0; k < q->nkeys; k++) {
		if (k)
			crm__buf_puts(&sql, ", ");
		key_sql(cur->db->be->dialect, &sql, form, q->keys[k].column);
		crm__buf_puts(&sql, q->keys[k].desc ? cur->db->be->dialect->order_desc : cur->db->be->dialect->order_asc);
	}
	paging = q->limit >= 0 || q->offset > 0;
	if (paging)
		crm__buf_puts(&sql, " LIMIT ? OFFSET ?");
	if (sql.oom || cur->binds.oom) {
		crm__buf_free(&sql);
		return crm__error_oom(cur->db);
	}
	cur->row.st = cur->st = crm__stmt_take(cur->db, sql.p, sql.len);
	crm__buf_free(&sql);
	if (!cur->st)
		return cur->db->errcode;
	crm__many_rows(cur->st, q->limit < 0 || q->limit > CURSOR_FEW_ROWS);
	rc = bind_all(cur->db, cur->st, &cur->binds, kbind, nk, q->limit, q->offset, paging);
	cur->sort_hash = sort_hash(form, q);
	return rc;
}

/* ---- lifetime: crm_close and metadata changes ---- */

static void cursor_fail(crm_cursor *cur, int rc)
{
	cur->state = ST_FAILED;
	cur->last_rc = rc;
	crm__reset(cur->st); /* let go of the snapshot */
}

/* crm_close with the cursor open: every later call is CRM_EMISUSE. */
static void cursor_close(crm__child *child)
{
	crm_cursor *cur = (crm_cursor *)child;

	crm__finalize(cur->st);
	cur->st = NULL;
	cur->state = ST_FAILED;
	cur->last_rc = CRM_EMISUSE;
}

/* 1 when the cursor may read on: metadata has not changed since it last
 * looked, or its form's definition is still the one it was compiled
 * against. Otherwise the cursor fails for good with CRM_ECONFLICT: a
 * running statement reads columns by position and would show another
 * column's values under this one's name. */
static int form_current(void *owner)
{
	crm_cursor *cur = owner;
	int rc;

	if (cur->epoch == cur->db->meta_epoch)
		return 1;
	if ((rc = crm__form_check_current(cur->db, cur->form))) {
		cursor_fail(cur, rc);
		return 0;
	}
	cur->epoch = cur->db->meta_epoch;
	return 1;
}

/* The cursor's typed row (include/crm/row.h) answers every value accessor.
 * row_of, not the exported crm_cursor_row (which may be interposed), lets
 * the compiler inline the hot ones down to sqlite3_column_*. */
static crm_row *row_of(crm_cursor *cur) { return cur ? &cur->row : NULL; }
#define ON_ROW(cur, i) CRM__ROW_ON(row_of(cur), i)

/* ---- public API ---- */

static int lookup_form(crm_db *db, const char *name, crm__form **out)
{
	int rc;

	if (!name)
		return crm__error(db, CRM_EMISUSE, "no form name given");
	rc = crm__form_lookup(db, name, out);
	if (rc == CRM_OK)
		crm__form_retain(*out);
	return rc;
}

int crm_query(crm_cursor **out, crm_db *db, const char *form, const char *query_json)
{
	crm_cursor *cur;
	int rc;

	if (out)
		*out = NULL;
	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (!out)
		return crm__error(db, CRM_EMISUSE, "no place for the cursor");
	if (!(cur = crm__calloc(1, sizeof *cur)))
		return crm__error_oom(db);
	cur->db = db;
	crm__child_add(db, &cur->child, cursor_close);
	if ((rc = lookup_form(db, form, &cur->form)) || (rc = parse_spec(db, cur->form, query_json, &cur->q)) ||
	    (rc = build_cursor(cur))) {
		crm_cursor_free(cur);
		return rc;
	}
	cur->epoch = db->meta_epoch;
	*out = cur;
	return CRM_OK;
}

int crm_count(crm_db *db, const char *form, const char *query_json, int64_t *out)
{
	crm__form *f = NULL;
	query_spec q;
	crm__buf sql = CRM__BUF_INIT;
	crm__binds binds = { 0 };
	crm__stmt *st;
	int rc;

	if (out)
		*out = 0;
	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)))
		return rc;
	if (!out)
		return crm__error(db, CRM_EMISUSE, "no place for the count");
	if ((rc = lookup_form(db, form, &f)))
		return rc;
	if ((rc = parse_spec(db, f, query_json, &q))) {
		crm__form_release(f);
		return rc;
	}
	/* The count of what the filter matches: paging and order do not apply. */
	crm__buf_puts(&sql, "SELECT count(*) FROM ");
	crm__sql_ident(&sql, f->name);
	if (q.filter) {
		crm__buf_puts(&sql, " WHERE ");
		crm__filter_sql(db->be->dialect, &sql, &binds, q.filter, f, NULL);
	}
	if (q.access) {
		crm__buf_puts(&sql, q.filter ? " AND " : " WHERE ");
		crm__access_where_sql(q.access, CRM__ACCESS_READ, db->be->dialect, &sql, &binds, NULL);
	}
	if (sql.oom || binds.oom)
		rc = crm__error_oom(db);
	else if (!(st = crm__stmt_take(db, sql.p, sql.len)))
		rc = db->errcode;
	else {
		rc = crm__binds_apply(&binds, st, 1, NULL, NULL);
		if (rc == CRM_OK)
			rc = crm__step(st);
		if (rc == CRM_ROW) {
			*out = crm__column_int64(st, 0);
			rc = CRM_OK;
		}
		crm__stmt_give(db, st);
	}
	crm__buf_free(&sql);
	crm__binds_free(&binds);
	spec_free(&q);
	crm__form_release(f);
	return rc;
}

int crm_cursor_next(crm_cursor *cur)
{
	int rc, first;

	if (!cur)
		return CRM_EMISUSE;
	if (cur->state == ST_DONE)
		return CRM_DONE;
	if (cur->state == ST_FAILED || !form_current(cur))
		return cur->last_rc;
	first = cur->state == ST_READY;
	cur->json_ready = cur->token_ready = 0;
	rc = crm__step(cur->st);
	if (first) {
		/* The first step starts the snapshot the cursor reads, and another
		 * connection may have changed the form since crm_query looked. */
		int frc = crm__refresh(cur->db);
		if (frc)
			cursor_fail(cur, frc);
		if (frc || !form_current(cur))
			return cur->last_rc;
	}
	if (rc == CRM_ROW) {
		cur->state = ST_ROW;
		return CRM_ROW;
	}
	if (rc == CRM_DONE) {
		cur->state = ST_DONE;
		return CRM_DONE;
	}
	cursor_fail(cur, rc);
	return cur->last_rc;
}

/* The typed accessors are the row's, under the cursor's names. */
crm_row *crm_cursor_row(crm_cursor *cur) { return row_of(cur); }
int crm_cursor_column_count(crm_cursor *cur) { return crm_row_column_count(row_of(cur)); }
const char *crm_cursor_column_name(crm_cursor *cur, int i) { return crm_row_column_name(row_of(cur), i); }
int crm_cursor_column_type(crm_cursor *cur, int i) { return crm_row_column_type(row_of(cur), i); }
int crm_cursor_is_null(crm_cursor *cur, int i) { return crm__row_is_null(row_of(cur), i); }
int64_t crm_cursor_int64(crm_cursor *cur, int i) { return crm__row_int64(row_of(cur), i); }
double crm_cursor_double(crm_cursor *cur, int i) { return crm__row_double(row_of(cur), i); }
const char *crm_cursor_text(crm_cursor *cur, int i) { return crm_row_text(row_of(cur), i); }

const char *crm_cursor_json(crm_cursor *cur)
{
	crm__buf *b;
	char tmp[32];

	if (!ON_ROW(cur, 0))
		return NULL;
	if (cur->json_ready)
		return cur->json.p;
	b = &cur->json;
	crm__buf_reset(b);
	crm__buf_putc(b, '{');
	for (int i = 0; i < cur->ncols; i++) {
		const qcol *c = &cur->cols[i];

		if (i)
			crm__buf_putc(b, ',');
		crm__json_cstr(b, c->name);
		crm__buf_putc(b, ':');
		if (c->column >= 0) {
			crm__value v;
			const crm__field *f = &cur->form->fields[c->column];
			crm__value_column(&v, f, cur->st, i);
			crm__value_write_json(b, f->value_type, f->scale, &v);
		} else if (crm__column_type(cur->st, i) == CRM__SQL_NULL)
			crm__buf_puts(b, "null");
		else if (cur->row.cols[i].type == CRM_TYPE_DATETIME) {
			crm__buf_putc(b, '"');
			crm__buf_put(b, tmp, crm__datetime_format(crm__column_int64(cur->st, i), tmp));
			crm__buf_putc(b, '"');
		} else if (cur->row.cols[i].type == CRM_TYPE_INTEGER)
			crm__buf_i64(b, crm__column_int64(cur->st, i));
		else
			crm__json_str(b, crm__column_text(cur->st, i),
				      (size_t)crm__column_bytes(cur->st, i));
	}
	crm__buf_putc(b, '}');
	crm__buf_cstr(b);
	if (b->oom) {
		crm__error_oom(cur->db);
		return NULL;
	}
	cur->json_ready = 1;
	return b->p;
}

const char *crm_cursor_token(crm_cursor *cur)
{
	crm__buf raw = CRM__BUF_INIT;
	char tmp[40];

	if (!ON_ROW(cur, 0))
		return NULL;
	if (cur->token_ready)
		return cur->token.p;
	snprintf(tmp, sizeof tmp, "%08x", (unsigned)cur->sort_hash);
	crm__buf_puts(&raw, tmp);
	for (int k = 0; k < cur->q.nkeys; k++) {
		int col = cur->q.keys[k].result, column = cur->q.keys[k].column;
		crm__value v = { .kind = CRM__V_NULL };
		/* Fields in the engines' representation, whatever type a
		 * backend stores them in; system columns are that already. */
		if (column >= 0)
			crm__value_column(&v, &cur->form->fields[column], cur->st, col);
		else if (crm__column_type(cur->st, col) != CRM__SQL_NULL && column == CRM__COL_OWNER) {
			v.kind = CRM__V_TEXT;
			v.s = crm__column_text(cur->st, col);
			v.n = (size_t)crm__column_bytes(cur->st, col);
		} else if (crm__column_type(cur->st, col) != CRM__SQL_NULL) {
			v.kind = CRM__V_INT;
			v.i = crm__column_int64(cur->st, col);
		}
		switch (v.kind) {
		case CRM__V_NULL: crm__buf_putc(&raw, 'n'); break;
		case CRM__V_INT: crm__buf_printf(&raw, "i%lld;", (long long)v.i); break;
		case CRM__V_REAL:
			crm__real_text(v.d, tmp, sizeof tmp);
			crm__buf_printf(&raw, "r%s;", tmp);
			break;
		default:
			crm__buf_printf(&raw, "t%d:", (int)v.n);
			crm__buf_put(&raw, v.s, v.n);
		}
	}
	crm__buf_reset(&cur->token);
	if (raw.oom)
		cur->token.oom = 1;
	else
		b64_encode(&cur->token, (const unsigned char *)raw.p, raw.len);
	crm__buf_free(&raw);
	crm__buf_cstr(&cur->token);
	if (cur->token.oom) {
		crm__error_oom(cur->db);
		return NULL;
	}
	cur->token_ready = 1;
	return cur->token.p;
}

void crm_cursor_free(crm_cursor *cur)
{
	if (!cur)
		return;
	/* Give the statement back (reset) before freeing the text it has bound. */
	crm__stmt_give(cur->db, cur->st);
	crm__binds_free(&cur->binds);
	spec_free(&cur->q);
	crm__form_release(cur->form);
	crm__free(cur->cols);
	crm__row_free(&cur->row);
	crm__buf_free(&cur->json);
	crm__buf_free(&cur->token);
	crm__child_remove(cur->db, &cur->child); /* may free a closed handle */
	crm__free(cur);
}
