/* crm_duplicates: the duplicate report of a form through the actor's view.
 * Exact rules read their stored keys joined to the records the actor may
 * read; fuzzy rules compare the readable records pairwise by edit
 * distance on normalised text. Rules on hidden fields are skipped. */
#include <string.h>

#include "access/access.h"
#include "core/alloc.h"
#include "core/json_parse.h"
#include "dedup_int.h"
#include "store/ddl.h"
#include "store/filter.h"

#define FUZZY_MAX_RECORDS 5000
/* Code points of a field compared (a long text costs its square). */
#define FUZZY_MAX_CHARS 256

typedef struct report {
	crm_db *db;
	crm__form *form;
	crm__buf json;  /* the groups listed so far */
	int64_t groups; /* listed */
	int64_t limit;
	int truncated;
} report;

/* Start a group of `rule`; 0 when the limit is reached (truncated). */
static int group_open(report *r, const crm__dedup_rule *rule, double score)
{
	if (r->groups >= r->limit) {
		r->truncated = 1;
		return 0;
	}
	crm__buf_puts(&r->json, r->groups++ ? ",{\"rule\":" : "{\"rule\":");
	crm__json_cstr(&r->json, rule->name);
	crm__buf_puts(&r->json, ",\"score\":");
	crm__json_double(&r->json, score);
	crm__buf_puts(&r->json, ",\"records\":[");
	return 1;
}

/* SELECT `cols` FROM the form's table (alias t) `join` WHERE `where` and
 * the rows the actor may read, `tail`; `where` has `nparams` parameters,
 * the access binds follow. */
static crm__stmt *readable_stmt(report *r, const char *cols, const char *join, const char *where, int nparams,
				const char *tail, crm__binds *binds, crm__access **hold)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	crm__buf_printf(&sql, "SELECT %s FROM ", cols);
	crm__sql_ident(&sql, r->form->name);
	crm__buf_printf(&sql, " t%s WHERE %s", join, where);
	if ((rc = crm__access_restrict(r->db, r->form, CRM__ACCESS_READ, "t", " AND ", &sql, binds, hold))) {
		crm__buf_free(&sql);
		return NULL;
	}
	crm__buf_puts(&sql, tail);
	if (!(st = crm__stmt_take_buf(r->db, &sql)))
		return NULL;
	if (crm__binds_apply(binds, st, nparams + 1, NULL, NULL) != CRM_OK) {
		crm__stmt_give(r->db, st);
		crm__error_oom(r->db);
		return NULL;
	}
	return st;
}

static int exact(report *r, const crm__dedup_rule *rule)
{
	crm__binds binds = { 0 };
	crm__access *hold = NULL;
	crm__buf key = CRM__BUF_INIT;
	int64_t first = 0;
	int rc, n = 0, open = 0;
	crm__stmt *st = readable_stmt(r, "k.k, k.record", " JOIN crm_dupkey k ON k.record = t.id",
				      "k.form = ? AND k.rule = ?", 2, " ORDER BY k.k, k.record", &binds, &hold);

	if (!st) {
		crm__binds_free(&binds);
		crm__access_free(hold);
		return r->db->errcode;
	}
	crm__bind_text(st, 1, r->form->name, -1);
	crm__bind_text(st, 2, rule->name, -1);
	while ((rc = crm__step(st)) == CRM_ROW) {
		const char *k = crm__column_text(st, 0);
		size_t kn = (size_t)crm__column_bytes(st, 0);
		int64_t id = crm__column_int64(st, 1);

		if (n == 0 || kn != key.len || memcmp(k, key.p, kn) != 0) {
			if (open)
				crm__buf_puts(&r->json, "]}");
			open = 0;
			crm__buf_reset(&key);
			crm__buf_put(&key, k, kn);
			first = id;
			n = 1;
			continue;
		}
		/* The second record makes it a group. */
		if (++n == 2 && (open = group_open(r, rule, 1)))
			crm__buf_i64(&r->json, first);
		if (open) {
			crm__buf_putc(&r->json, ',');
			crm__buf_i64(&r->json, id);
		}
	}
	if (open)
		crm__buf_puts(&r->json, "]}");
	crm__stmt_give(r->db, st);
	crm__binds_free(&binds);
	crm__access_free(hold);
	rc = rc == CRM_DONE ? (key.oom ? crm__error_oom(r->db) : CRM_OK) : rc;
	crm__buf_free(&key);
	return rc;
}

/* ---- fuzzy ---- */

/* A record's normalised fields as code points, one array after another. */
typedef struct cand {
	int64_t id;
	uint32_t *cp;
	int len[CRM__DEDUP_MAX_FIELDS];
} cand;

/* The first FUZZY_MAX_CHARS code points of s[0..n) (valid UTF-8) into `out`. */
static int decode(const char *s, size_t n, uint32_t *out)
{
	int k = 0;

	for (size_t i = 0; i < n && k < FUZZY_MAX_CHARS; k++) {
		unsigned char c = (unsigned char)s[i];
		int extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
		uint32_t v = extra ? c & (0x3F >> extra) : c;
		i++;
		for (int e = 0; e < extra && i < n; e++)
			v = (v << 6) | ((unsigned char)s[i++] & 0x3F);
		out[k] = v;
	}
	return k;
}

/* 1 - edit distance / longer length, with `row` (b's length + 1) as scratch. */
static double similarity(const uint32_t *a, int na, const uint32_t *b, int nb, int *row)
{
	int longer = na > nb ? na : nb;

	if (longer == 0)
		return 1;
	for (int j = 0; j <= nb; j++)
		row[j] = j;
	for (int i = 1; i <= na; i++) {
		int diag = row[0];
		row[0] = i;
		for (int j = 1; j <= nb; j++) {
			int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return 1.0 - (double)row[nb] / longer;
}

static void cands_free(cand *c, int n)
{
	for (int i = 0; i < n; i++)
		crm__free(c[i].cp);
	crm__free(c);
}

/* The readable records with every field of the rule, normalised. */
static int load_cands(report *r, const crm__dedup_rule *rule, cand **out, int *nout)
{
	crm__binds binds = { 0 };
	crm__access *hold = NULL;
	crm__buf cols = CRM__BUF_INIT, norm = CRM__BUF_INIT;
	cand *c = NULL;
	int rc, n = 0, cap = 0;
	crm__stmt *st;

	crm__buf_puts(&cols, "t.id");
	for (int k = 0; k < rule->nfields; k++) {
		crm__buf_puts(&cols, ", t.");
		crm__sql_ident(&cols, r->form->fields[rule->fields[k]].name);
	}
	if (cols.oom)
		return crm__error_oom(r->db);
	st = readable_stmt(r, crm__buf_cstr(&cols), "", "1 = 1", 0, " ORDER BY t.id", &binds, &hold);
	crm__buf_free(&cols);
	if (!st) {
		crm__binds_free(&binds);
		crm__access_free(hold);
		return r->db->errcode;
	}
	rc = CRM_OK;
	while (rc == CRM_OK && (rc = crm__step(st)) == CRM_ROW) {
		cand x = { .id = crm__column_int64(st, 0) };
		size_t at = 0;
		rc = CRM_OK;
		crm__buf_reset(&norm);
		for (int k = 0; k < rule->nfields && rc == CRM_OK; k++) {
			size_t before = norm.len;
			if (crm__column_type(st, k + 1) != CRM__SQL_NULL)
				rc = crm__normalize(r->db, rule->norm[k], crm__column_text(st, k + 1),
						    (size_t)crm__column_bytes(st, k + 1), &norm);
			x.len[k] = (int)(norm.len - before); /* bytes for now */
			if (x.len[k] == 0)
				x.id = 0; /* an empty field: not compared */
		}
		if (rc || !x.id)
			continue;
		if (n == FUZZY_MAX_RECORDS) {
			rc = crm__error(r->db, CRM_ELIMIT, "fuzzy rule '%s' would compare more than %d %s records", rule->name,
					FUZZY_MAX_RECORDS, r->form->name);
			break;
		}
		if (n == cap) {
			cand *bigger = crm__realloc(c, (size_t)(cap = cap ? cap * 2 : 64) * sizeof *c);
			if (!bigger) {
				rc = crm__error_oom(r->db);
				break;
			}
			c = bigger;
		}
		if (!(x.cp = crm__malloc((norm.len + 1) * sizeof *x.cp))) {
			rc = crm__error_oom(r->db);
			break;
		}
		for (int k = 0, off = 0; k < rule->nfields; k++) {
			int bytes = x.len[k];
			off += x.len[k] = decode(norm.p + at, (size_t)bytes, x.cp + off);
			at += (size_t)bytes;
		}
		c[n++] = x;
	}
	if (rc == CRM_DONE)
		rc = CRM_OK;
	crm__stmt_give(r->db, st);
	crm__binds_free(&binds);
	crm__access_free(hold);
	crm__buf_free(&norm);
	if (rc) {
		cands_free(c, n);
		return rc;
	}
	*out = c;
	*nout = n;
	return CRM_OK;
}

/* Every pair at or above the threshold: the mean of the fields'
 * similarities. A pair whose lengths alone keep it below is skipped. */
static int fuzzy(report *r, const crm__dedup_rule *rule)
{
	cand *c = NULL;
	int n = 0, longest = 0, *row, rc = load_cands(r, rule, &c, &n);

	if (rc)
		return rc;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < rule->nfields; k++)
			longest = c[i].len[k] > longest ? c[i].len[k] : longest;
	if (!(row = crm__malloc(((size_t)longest + 1) * sizeof *row))) {
		cands_free(c, n);
		return crm__error_oom(r->db);
	}
	for (int i = 0; i < n && !r->truncated; i++)
		for (int j = i + 1; j < n && !r->truncated; j++) {
			const uint32_t *a = c[i].cp, *b = c[j].cp;
			double bound = 0, sum = 0;
			for (int k = 0; k < rule->nfields; k++) {
				int la = c[i].len[k], lb = c[j].len[k];
				bound += (double)(la < lb ? la : lb) / (la > lb ? la : lb);
			}
			if (bound / rule->nfields < rule->threshold)
				continue;
			for (int k = 0; k < rule->nfields; k++) {
				sum += similarity(a, c[i].len[k], b, c[j].len[k], row);
				a += c[i].len[k];
				b += c[j].len[k];
			}
			sum /= rule->nfields;
			if (sum >= rule->threshold && group_open(r, rule, (double)(int64_t)(sum * 1000 + 0.5) / 1000)) {
				crm__buf_printf(&r->json, "%lld,%lld]}", (long long)c[i].id, (long long)c[j].id);
			}
		}
	crm__free(row);
	cands_free(c, n);
	return CRM_OK;
}

/* Options: {"rules": [names], "limit": N}; *want gets a flag per rule. */
static int parse_options(crm_db *db, const crm__dedup *d, const char *json, unsigned char *want, int64_t *limit)
{
	cJSON *o = NULL;
	const cJSON *m;
	int rc;

	memset(want, 1, CRM__DEDUP_MAX_RULES);
	*limit = 100;
	if (!json || !*json)
		return CRM_OK;
	if ((rc = crm__json_parse(db, json, "duplicate report options", &o)))
		return rc;
	rc = cJSON_IsObject(o) ? CRM_OK : crm__error(db, CRM_EINVAL, "duplicate report options are a JSON object");
	cJSON_ArrayForEach(m, (rc ? NULL : o))
	{
		if (strcmp(m->string, "limit") == 0) {
			if (!cJSON_IsNumber(m) || m->valuedouble < 1 || m->valuedouble > 10000 ||
			    m->valuedouble != (double)(int64_t)m->valuedouble)
				rc = crm__error_path(db, "limit", "limit is a whole number from 1 to 10000");
			else
				*limit = (int64_t)m->valuedouble;
		} else if (strcmp(m->string, "rules") == 0) {
			const cJSON *e;
			memset(want, 0, CRM__DEDUP_MAX_RULES);
			if (!cJSON_IsArray(m))
				rc = crm__error_path(db, "rules", "rules is a list of rule names");
			cJSON_ArrayForEach(e, (rc ? NULL : m))
			{
				int i = 0;
				while (d && i < d->nrules && !(cJSON_IsString(e) && strcmp(d->rules[i].name, e->valuestring) == 0))
					i++;
				if (!d || i == d->nrules) {
					rc = crm__error_path(db, "rules", "no duplicate rule named '%.64s'",
							     cJSON_IsString(e) ? e->valuestring : "(not a string)");
					break;
				}
				want[i] = 1;
			}
		} else
			rc = crm__error_path(db, m->string, "unknown option (allowed: rules, limit)");
		if (rc)
			break;
	}
	cJSON_Delete(o);
	return rc;
}

int crm_duplicates(crm_db *db, const char *form_name, const char *options_json, char **out)
{
	report r = { .db = db };
	crm__buf skipped = CRM__BUF_INIT;
	crm__access *a = NULL;
	unsigned char want[CRM__DEDUP_MAX_RULES];
	const crm__dedup *d;
	int rc;

	if ((rc = crm__enter_out(db, out)))
		return rc;
	if (!form_name)
		return crm__error(db, CRM_EMISUSE, "no form given");
	if ((rc = crm__form_lookup(db, form_name, &r.form)))
		return rc;
	crm__form_retain(r.form);
	d = r.form->dedup;
	if ((rc = parse_options(db, d, options_json, want, &r.limit)) || (rc = crm__access_open(db, r.form, &a)))
		goto done;
	if (d && d->nexact && (rc = crm__dedup_schema(db)))
		goto done;
	for (int i = 0; d && i < d->nrules && rc == CRM_OK; i++) {
		const crm__dedup_rule *rule = &d->rules[i];
		int readable = 1;

		if (!want[i])
			continue;
		/* A rule on a field the actor may not read would match on it. */
		for (int k = 0; k < rule->nfields; k++)
			readable &= crm__access_readable(a, rule->fields[k]);
		if (!readable) {
			crm__buf_puts(&skipped, skipped.len ? "," : "");
			crm__json_cstr(&skipped, rule->name);
			continue;
		}
		rc = rule->fuzzy ? fuzzy(&r, rule) : exact(&r, rule);
	}
	if (rc == CRM_OK) {
		crm__buf res = CRM__BUF_INIT;
		crm__buf_puts(&res, "{\"form\":");
		crm__json_cstr(&res, r.form->name);
		crm__buf_puts(&res, ",\"groups\":[");
		crm__buf_put(&res, r.json.p, r.json.len);
		crm__buf_printf(&res, "],\"truncated\":%s,\"skipped\":[", r.truncated ? "true" : "false");
		crm__buf_put(&res, skipped.p, skipped.len);
		crm__buf_puts(&res, "]}");
		if (res.oom || r.json.oom || skipped.oom)
			rc = crm__error_oom(db);
		else
			*out = crm__buf_detach(&res);
		crm__buf_free(&res);
	}
done:
	crm__access_free(a);
	crm__buf_free(&r.json);
	crm__buf_free(&skipped);
	crm__form_release(r.form);
	return rc;
}
