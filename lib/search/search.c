/* crm_search: the words of a query matched in the declared fields of each
 * searched form (through the dialect's index for words of 3 characters or
 * more, a scan for shorter ones), restricted to the actor's view, ranked,
 * merged across forms and paged by an offset token bound to the query. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/json_parse.h"
#include "crm/search.h"
#include "search_int.h"

#define MAX_TEXT 256    /* bytes of query text, trimmed */
#define MAX_TERMS 8
#define MAX_LIMIT 100
#define MAX_DEPTH 1000  /* hits a page may reach: offset + limit */
#define MAX_MARKER 16
#define ALIAS "crm_r"   /* "crm_" names no form */

typedef struct hit {
	int form;      /* index into the request's forms */
	int64_t id;
	double score;
	char *snippet; /* a JSON object */
} hit;

typedef struct request {
	crm__search_term terms[MAX_TERMS];
	int nterms, short_term;
	char **forms; /* names, in the order searched */
	int nforms;
	int limit, offset;
	char open[MAX_MARKER + 1], close[MAX_MARKER + 1];
	uint64_t hash; /* of the text and the forms: a token belongs to one query */
	hit *hits;
	int nhits, caphits;
} request;

/* ---- the text ---- */

static size_t space_at(const char *s, size_t i, size_t n)
{
	if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v')
		return 1;
	/* U+3000 IDEOGRAPHIC SPACE, as Chinese input methods type it */
	if (i + 2 < n && (unsigned char)s[i] == 0xE3 && (unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0x80)
		return 3;
	return 0;
}

static int split_terms(crm_db *db, const char *text, request *r)
{
	size_t n = strlen(text), i = 0, total = 0;

	if (crm__utf8_length(text, n) < 0)
		return crm__error(db, CRM_EINVAL, "search text is not valid UTF-8");
	while (i < n) {
		size_t sp, start;

		while (i < n && (sp = space_at(text, i, n)))
			i += sp;
		if (i >= n)
			break;
		start = i;
		while (i < n && !space_at(text, i, n))
			i++;
		if (r->nterms == MAX_TERMS)
			return crm__error(db, CRM_EINVAL, "search text has more than %d words", MAX_TERMS);
		r->terms[r->nterms].s = text + start;
		r->terms[r->nterms].len = i - start;
		r->terms[r->nterms].chars = crm__utf8_length(text + start, i - start);
		r->short_term |= r->terms[r->nterms].chars < 3;
		total += i - start;
		r->nterms++;
	}
	if (r->nterms == 0)
		return crm__error(db, CRM_EINVAL, "search text is empty");
	if (total > MAX_TEXT)
		return crm__error(db, CRM_EINVAL, "search text is longer than %d bytes", MAX_TEXT);
	return CRM_OK;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return (h ^ 0xff) * 1099511628211u; /* a separator: ("ab","c") differs from ("a","bc") */
}

/* ---- options ---- */

static int add_form(crm_db *db, request *r, const char *name, int explicit)
{
	const crm__search_decl *d;
	crm__form *form;
	char **nf;
	int rc;

	for (int i = 0; i < r->nforms; i++)
		if (strcmp(r->forms[i], name) == 0)
			return CRM_OK;
	if ((rc = crm__form_lookup(db, name, &form)))
		return explicit ? rc : CRM_OK; /* an index left by a form since gone: nothing to search */
	if ((rc = crm__search_decl_of(db, form, &d)))
		return rc;
	if (d->n == 0)
		return explicit ? crm__error_path(db, "forms", "form '%s' declares no search", name) : CRM_OK;
	if (!(nf = crm__realloc(r->forms, (size_t)(r->nforms + 1) * sizeof *nf)))
		return crm__error_oom(db);
	r->forms = nf;
	if (!(r->forms[r->nforms] = crm__strdup(name)))
		return crm__error_oom(db);
	r->nforms++;
	return CRM_OK;
}

static int all_forms(crm_db *db, request *r)
{
	crm__buf names = CRM__BUF_INIT;
	int rc, n = 0;
	const char *p;

	rc = crm__search_forms(db, &names, &n);
	if (rc == CRM_OK && names.oom)
		rc = crm__error_oom(db);
	p = names.p;
	for (int i = 0; i < n && rc == CRM_OK; i++, p += strlen(p) + 1)
		rc = add_form(db, r, p, 0);
	crm__buf_free(&names);
	return rc;
}

static int parse_token(crm_db *db, const cJSON *v, request *r)
{
	unsigned long long h;
	int off, used = 0;

	if (!cJSON_IsString(v) || strlen(v->valuestring) > 40 ||
	    sscanf(v->valuestring, "s%16llx.%4d%n", &h, &off, &used) != 2 || v->valuestring[used] ||
	    h != r->hash || off <= 0 || off >= MAX_DEPTH)
		return crm__error_path(db, "after", "not a token of this search (pass the \"next\" of its previous page)");
	r->offset = off;
	return CRM_OK;
}

static int parse_marker(crm_db *db, const cJSON *hl, int i, char *out)
{
	const cJSON *m = cJSON_GetArrayItem(hl, i);

	if (!cJSON_IsString(m) || strlen(m->valuestring) > MAX_MARKER)
		return crm__error_path(db, "highlight", "'highlight' is [open, close]: two strings of at most %d bytes",
				       MAX_MARKER);
	memcpy(out, m->valuestring, strlen(m->valuestring) + 1);
	return CRM_OK;
}

static int parse_options(crm_db *db, const cJSON *o, const char *text, request *r)
{
	static const char *const keys[] = { "forms", "limit", "after", "highlight", NULL };
	const cJSON *forms = o ? cJSON_GetObjectItemCaseSensitive(o, "forms") : NULL;
	const cJSON *v;
	int rc = CRM_OK;

	if ((rc = crm__search_check_options(db, o, keys, "search")))
		return rc;
	if (forms) {
		if (!cJSON_IsArray(forms) || cJSON_GetArraySize(forms) < 1 || cJSON_GetArraySize(forms) > 64)
			return crm__error_path(db, "forms", "'forms' is a list of 1 to 64 form names");
		cJSON_ArrayForEach(v, forms)
		{
			if (!cJSON_IsString(v))
				return crm__error_path(db, "forms", "a form name is a string");
			if ((rc = add_form(db, r, v->valuestring, 1)))
				return rc;
		}
	} else if ((rc = all_forms(db, r)))
		return rc;
	r->hash = fnv(14695981039346656037u, text, strlen(text));
	for (int i = 0; i < r->nforms; i++)
		r->hash = fnv(r->hash, r->forms[i], strlen(r->forms[i]));
	if ((rc = crm__search_limit(db, o, MAX_LIMIT, &r->limit)))
		return rc;
	if ((v = o ? cJSON_GetObjectItemCaseSensitive(o, "after") : NULL) && !cJSON_IsNull(v) &&
	    (rc = parse_token(db, v, r)))
		return rc;
	if (r->offset + r->limit > MAX_DEPTH)
		return crm__error_path(db, "after", "search pages reach at most %d hits deep", MAX_DEPTH);
	if ((v = o ? cJSON_GetObjectItemCaseSensitive(o, "highlight") : NULL)) {
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2)
			return crm__error_path(db, "highlight", "'highlight' is [open, close]");
		if ((rc = parse_marker(db, v, 0, r->open)) || (rc = parse_marker(db, v, 1, r->close)))
			return rc;
	}
	return CRM_OK;
}

/* ---- one form ---- */

/* The columns of the declaration the actor may read. */
typedef struct columns {
	const char *names[CRM__SEARCH_MAX_FIELDS];
	int n;
} columns;

/* A score from the record alone, for scans and for restricted views
 * (index statistics count rows the actor may not see): for each word and
 * field it occurs in, the share of the field the word covers. */
static int portable_score(const crm__dialect *d, crm__buf *sql, const request *r, const columns *c)
{
	int n = 0;

	crm__buf_putc(sql, '(');
	for (int t = 0; t < r->nterms; t++)
		for (int i = 0; i < c->n; i++) {
			crm__buf_printf(sql, "%sCASE WHEN %s(lower(" ALIAS ".", n ? " + " : "", d->position);
			crm__sql_ident(sql, c->names[i]);
			crm__buf_printf(sql, "), lower(CAST(? AS TEXT))) > 0 THEN CAST(length(CAST(? AS TEXT)) AS %s) / length(" ALIAS ".",
					d->type_real);
			crm__sql_ident(sql, c->names[i]);
			crm__buf_puts(sql, ") ELSE 0 END");
			n += 2;
		}
	crm__buf_putc(sql, ')');
	return n;
}

/* A word anywhere in a field, without an index: the dialect's case-folding
 * LIKE, with the word's own wildcards taken literally. */
static int scan_match(const crm__dialect *d, crm__buf *sql, const columns *c)
{
	crm__buf_putc(sql, '(');
	for (int i = 0; i < c->n; i++) {
		crm__buf_puts(sql, i ? " OR " ALIAS "." : ALIAS ".");
		crm__sql_ident(sql, c->names[i]);
		crm__buf_printf(sql, " %s ? ESCAPE '\\'", d->search_like);
	}
	crm__buf_putc(sql, ')');
	return c->n;
}

static void like_value(crm__buf *out, const crm__search_term *t)
{
	crm__buf_putc(out, '%');
	for (size_t i = 0; i < t->len; i++) {
		if (t->s[i] == '%' || t->s[i] == '_' || t->s[i] == '\\')
			crm__buf_putc(out, '\\');
		crm__buf_putc(out, t->s[i]);
	}
	crm__buf_putc(out, '%');
}

/* The statement's SQL; per[] gets how many "?" the score (per[0]) and each
 * word (per[1 + t]) wrote. */
static void build_sql(const crm__dialect *d, crm__buf *sql, const crm__form *form, const request *r, const columns *c,
		      const crm__access *view, crm__binds *binds, int *per)
{
	int indexed = !r->short_term;

	crm__buf_puts(sql, "SELECT " ALIAS ".id, ");
	if (indexed && !view)
		per[0] = -1 - d->search_rank(sql, form->name, ALIAS, c->names, c->n);
	else
		per[0] = portable_score(d, sql, r, c);
	for (int i = 0; i < c->n; i++) {
		crm__buf_puts(sql, ", " ALIAS ".");
		crm__sql_ident(sql, c->names[i]);
	}
	crm__buf_puts(sql, " FROM ");
	if (indexed)
		d->search_from(sql, form->name, ALIAS);
	else {
		crm__sql_ident(sql, form->name);
		crm__buf_puts(sql, " AS " ALIAS);
	}
	for (int t = 0; t < r->nterms; t++) {
		crm__buf_puts(sql, t ? " AND " : " WHERE ");
		per[1 + t] = indexed ? d->search_match(sql, form->name, ALIAS, c->names, c->n) : scan_match(d, sql, c);
	}
	if (view) {
		crm__buf_puts(sql, " AND (");
		crm__access_where_sql(view, CRM__ACCESS_READ, d, sql, binds, ALIAS);
		crm__buf_putc(sql, ')');
	}
	crm__buf_puts(sql, " ORDER BY 2 DESC, " ALIAS ".id DESC LIMIT ?");
}

/* Bind what build_sql wrote: the score's (the query text, or each word
 * twice per field), each word's, the view's, the limit. */
static int bind_all(crm_db *db, crm__stmt *st, const request *r, const columns *c, const crm__binds *binds,
		    const int *per, const char *text, crm__buf *vals)
{
	const crm__dialect *d = db->be->dialect;
	size_t *at = crm__calloc((size_t)r->nterms, sizeof *at);
	int k = 1, rc;

	if (!at)
		return crm__error_oom(db);
	for (int t = 0; t < r->nterms; t++) {
		at[t] = vals->len;
		if (r->short_term)
			like_value(vals, &r->terms[t]);
		else
			d->search_value(vals, r->terms[t].s, r->terms[t].len, c->names, c->n);
		crm__buf_putc(vals, 0);
	}
	rc = vals->oom ? crm__error_oom(db) : CRM_OK;
	if (per[0] < 0) /* the backend's rank: the whole text */
		for (int i = 0; i < -1 - per[0]; i++)
			crm__bind_text(st, k++, text, -1);
	else
		for (int t = 0; t < r->nterms; t++)
			for (int i = 0; i < c->n; i++) {
				crm__bind_text(st, k++, r->terms[t].s, (int)r->terms[t].len);
				crm__bind_text(st, k++, r->terms[t].s, (int)r->terms[t].len);
			}
	for (int t = 0; t < r->nterms && rc == CRM_OK; t++)
		for (int i = 0; i < per[1 + t]; i++)
			crm__bind_text(st, k++, vals->p + at[t], -1);
	crm__free(at);
	if (rc == CRM_OK && (rc = crm__binds_apply(binds, st, k, NULL, NULL)) == CRM_OK)
		rc = crm__bind_int64(st, k + binds->n, r->offset + r->limit + 1);
	return rc;
}

static int add_hit(crm_db *db, request *r, int form, crm__stmt *st, const columns *c)
{
	crm__buf snip = CRM__BUF_INIT;
	int n = 0;
	hit *h;

	if (r->nhits == r->caphits) {
		int cap = r->caphits ? 2 * r->caphits : 32;
		hit *nh = crm__realloc(r->hits, (size_t)cap * sizeof *nh);
		if (!nh)
			return crm__error_oom(db);
		r->hits = nh;
		r->caphits = cap;
	}
	crm__buf_putc(&snip, '{');
	for (int i = 0; i < c->n; i++) {
		const char *v = crm__column_text(st, 2 + i);
		if (v)
			n += crm__search_snippet(&snip, n, c->names[i], v, strlen(v), r->terms, r->nterms, r->open, r->close);
	}
	crm__buf_putc(&snip, '}');
	h = &r->hits[r->nhits];
	h->form = form;
	h->id = crm__column_int64(st, 0);
	h->score = crm__column_double(st, 1);
	if (snip.oom || !(h->snippet = crm__buf_detach(&snip)))
		return crm__error_oom(db);
	r->nhits++;
	return CRM_OK;
}

static int search_form(crm_db *db, request *r, int index, const char *text)
{
	const crm__dialect *d = db->be->dialect;
	const crm__search_decl *decl;
	crm__access *view = NULL;
	crm__binds binds = { 0 };
	crm__buf sql = CRM__BUF_INIT, vals = CRM__BUF_INIT;
	crm__form *form;
	crm__stmt *st = NULL;
	columns c = { .n = 0 };
	int per[1 + MAX_TERMS], rc, src;

	if ((rc = crm__form_lookup(db, r->forms[index], &form)) || (rc = crm__search_decl_of(db, form, &decl)) ||
	    (rc = crm__access_open(db, form, &view)))
		return rc;
	crm__form_retain(form);
	for (int i = 0; i < decl->n; i++)
		if (crm__access_readable(view, decl->cols[i]))
			c.names[c.n++] = decl->names[i];
	/* Nothing the actor may read: no hits, as for a form without matches. */
	if (c.n == 0 || !crm__access_grants(view, CRM__ACCESS_READ))
		goto done;
	build_sql(d, &sql, form, r, &c, view, &binds, per);
	if (sql.oom || binds.oom) {
		rc = crm__error_oom(db);
		goto done;
	}
	if (!(st = crm__stmt_take_buf(db, &sql))) {
		rc = db->errcode;
		goto done;
	}
	rc = bind_all(db, st, r, &c, &binds, per, text, &vals);
	while (rc == CRM_OK && (src = crm__step(st)) == CRM_ROW)
		rc = add_hit(db, r, index, st, &c);
	if (rc == CRM_OK && src != CRM_DONE)
		rc = src;
done:
	crm__stmt_give(db, st);
	crm__buf_free(&sql);
	crm__buf_free(&vals);
	crm__binds_free(&binds);
	crm__access_free(view);
	crm__form_release(form);
	return rc;
}

/* ---- the answer ---- */

static int cmp_hits(const hit *a, const hit *b, const request *r)
{
	int c;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if ((c = strcmp(r->forms[a->form], r->forms[b->form])))
		return c;
	return a->id > b->id ? -1 : a->id < b->id;
}

/* Insertion sort: at most 64 forms x 1,001 hits, already sorted per form. */
static void sort_hits(request *r)
{
	for (int i = 1; i < r->nhits; i++) {
		hit h = r->hits[i];
		int j = i - 1;
		while (j >= 0 && cmp_hits(&r->hits[j], &h, r) > 0) {
			r->hits[j + 1] = r->hits[j];
			j--;
		}
		r->hits[j + 1] = h;
	}
}

static int write_answer(crm_db *db, request *r, crm__buf *out)
{
	int end = r->offset + r->limit < r->nhits ? r->offset + r->limit : r->nhits, n = 0;

	crm__buf_puts(out, "{\"hits\":[");
	for (int i = r->offset; i < end; i++) {
		const hit *h = &r->hits[i];
		char *rec = NULL;
		int rc = crm_record_get(db, r->forms[h->form], h->id, &rec);

		if (rc == CRM_ENOTFOUND) /* deleted since: not a hit */
			continue;
		if (rc)
			return rc;
		crm__buf_puts(out, n++ ? ",{\"form\":" : "{\"form\":");
		crm__json_cstr(out, r->forms[h->form]);
		crm__buf_puts(out, ",\"id\":");
		crm__buf_i64(out, h->id);
		crm__buf_puts(out, ",\"score\":");
		crm__json_double(out, h->score);
		crm__buf_puts(out, ",\"snippet\":");
		crm__buf_puts(out, h->snippet);
		crm__buf_puts(out, ",\"record\":");
		crm__buf_puts(out, rec);
		crm__buf_putc(out, '}');
		crm_free(rec);
	}
	crm__buf_puts(out, "],\"next\":");
	if (r->nhits > end && end < MAX_DEPTH)
		crm__buf_printf(out, "\"s%016llx.%d\"}", (unsigned long long)r->hash, end);
	else
		crm__buf_puts(out, "null}");
	return out->oom ? crm__error_oom(db) : CRM_OK;
}

static void request_free(request *r)
{
	for (int i = 0; i < r->nforms; i++)
		crm__free(r->forms[i]);
	crm__free(r->forms);
	for (int i = 0; i < r->nhits; i++)
		crm__free(r->hits[i].snippet);
	crm__free(r->hits);
}

int crm_search(crm_db *db, const char *text, const char *options_json, char **out)
{
	request r = { .limit = 20, .open = "\xc2\xab", .close = "\xc2\xbb" }; /* « » */
	crm__buf json = CRM__BUF_INIT;
	cJSON *opts = NULL;
	int rc;

	if ((rc = crm__enter_out(db, out)))
		return rc;
	if (!text)
		return crm__error(db, CRM_EINVAL, "no search text given");
	if (strlen(text) > 4 * MAX_TEXT)
		return crm__error(db, CRM_EINVAL, "search text is longer than %d bytes", MAX_TEXT);
	if ((rc = split_terms(db, text, &r)))
		return rc;
	if (options_json && *options_json && (rc = crm__json_parse(db, options_json, "search options", &opts)))
		return rc;
	rc = parse_options(db, opts, text, &r);
	cJSON_Delete(opts);
	for (int i = 0; i < r.nforms && rc == CRM_OK; i++)
		rc = search_form(db, &r, i, text);
	if (rc == CRM_OK) {
		sort_hits(&r);
		rc = write_answer(db, &r, &json);
	}
	if (rc == CRM_OK && !(*out = crm__buf_detach(&json)))
		rc = crm__error_oom(db);
	crm__buf_free(&json);
	request_free(&r);
	return rc;
}
