/* Normalisers for duplicate rules: phone numbers as Chinese users write
 * them, e-mail addresses, and names (company and person) folded with
 * utf8proc (NFKC, case) and OpenCC (traditional to simplified Chinese). */
#include <stdlib.h>
#include <string.h>

#include <opencc.h>
#include <utf8proc.h>

#include "core/db_int.h"
#include "normalize.h"

int crm__name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

int crm__norm_from_name(const char *name)
{
	static const char *const names[] = { "exact", "phone", "email", "name" };

	return crm__name_index(names, sizeof names / sizeof *names, name);
}

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static void trim(const char **s, size_t *n)
{
	while (*n && is_space((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n && is_space((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Digits only; a Chinese mobile (1 and ten digits) loses its country code
 * however it was written (+86, 0086, 86); other numbers keep a leading +
 * as "+" (so +44... never meets a local 44...). */
static void phone(const char *s, size_t n, crm__buf *out)
{
	char d[64];
	size_t k = 0;
	int plus = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= '0' && c <= '9') {
			if (k == sizeof d)
				return; /* not a phone number: no key */
			d[k++] = (char)c;
		} else if (c == '+' && k == 0)
			plus = 1;
	}
	if (!plus && k >= 4 && memcmp(d, "00", 2) == 0) { /* 00 is the international prefix */
		memmove(d, d + 2, k -= 2);
		plus = 1;
	}
	if (k == 13 && memcmp(d, "861", 3) == 0) {
		memmove(d, d + 2, k -= 2);
		plus = 0;
	}
	if (plus && !(k == 11 && d[0] == '1'))
		crm__buf_putc(out, '+');
	crm__buf_put(out, d, k);
}

/* utf8proc's map with `options`, appended to `out`. */
static int fold(crm_db *db, const char *s, size_t n, int options, crm__buf *out)
{
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t len = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst,
					    (utf8proc_option_t)(options | UTF8PROC_STABLE));

	if (len < 0) {
		free(dst);
		return len == UTF8PROC_ERROR_NOMEM ? crm__error_oom(db)
						   : crm__error(db, CRM_EINVAL, "text to normalise is not valid UTF-8");
	}
	crm__buf_put(out, dst, (size_t)len);
	free(dst);
	return out->oom ? crm__error_oom(db) : CRM_OK;
}

/* Traditional to simplified through the handle's converter (made once). */
static int t2s(crm_db *db, const char *s, size_t n, crm__buf *out)
{
	void **slot = crm__norm_cc(db);
	char *conv;

	if (!slot)
		return crm__error_oom(db);
	if (!*slot) {
		opencc_t cc = opencc_open(OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP);
		if (cc == (opencc_t)-1)
			return crm__error(db, CRM_ERROR, "OpenCC could not load %s: %s", OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP,
					  opencc_error());
		*slot = cc;
	}
	if (!(conv = opencc_convert_utf8(*slot, s, n)))
		return crm__error(db, CRM_ERROR, "OpenCC failed: %s", opencc_error());
	crm__buf_puts(out, conv);
	opencc_convert_utf8_free(conv);
	return out->oom ? crm__error_oom(db) : CRM_OK;
}

void crm__norm_close(void *cc)
{
	if (cc)
		opencc_close(cc);
}

/* Runs of white space (after NFKC, the ideographic space is one too) become one space. */
static void collapse(const char *s, size_t n, crm__buf *out)
{
	int space = 0;

	trim(&s, &n);
	for (size_t i = 0; i < n; i++) {
		if (is_space((unsigned char)s[i])) {
			space = 1;
			continue;
		}
		if (space)
			crm__buf_putc(out, ' ');
		space = 0;
		crm__buf_putc(out, s[i]);
	}
}

int crm__normalize(crm_db *db, crm__norm kind, const char *s, size_t n, crm__buf *out)
{
	crm__buf a = CRM__BUF_INIT, b = CRM__BUF_INIT;
	int rc;

	trim(&s, &n);
	if (n == 0)
		return CRM_OK;
	switch (kind) {
	case CRM__NORM_PHONE: phone(s, n, out); break;
	case CRM__NORM_EMAIL: return fold(db, s, n, UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD, out);
	case CRM__NORM_NAME:
		rc = fold(db, s, n, UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD, &a);
		if (rc == CRM_OK && a.len)
			rc = t2s(db, a.p, a.len, &b);
		if (rc == CRM_OK)
			collapse(b.p ? b.p : "", b.len, out);
		crm__buf_free(&a);
		crm__buf_free(&b);
		if (rc)
			return rc;
		break;
	default: crm__buf_put(out, s, n); break;
	}
	return out->oom ? crm__error_oom(db) : CRM_OK;
}
