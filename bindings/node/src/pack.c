/*
 * insertMany's rows as libcrm's typed values (crm_batch_add_values), with
 * no JSON text per row. lib/pack.js flattens a chunk of rows into a few
 * typed arrays and one string (JavaScript does that fast; reading objects
 * property by property through Node-API is slow); this file checks them
 * and builds the crm_field_value arrays, copying every string as UTF-8, so
 * a worker thread can add the rows after the JS values are gone.
 */
#include <stdlib.h>
#include <string.h>

#include "addon.h"

/* The kinds lib/pack.js writes: libcrm's, plus a BigInt as its digits. */
enum { PK_NULL, PK_INT, PK_REAL, PK_BOOL, PK_TEXT, PK_TIME, PK_LIST, PK_JSON, PK_BIGINT, PK_COUNT_ };

void npack_free(npack *p)
{
	free(p->fields);
	free(p->counts);
	free(p->items);
	free(p->bytes);
	*p = (npack){0};
}

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len)
{
	napi_typedarray_type t;
	napi_value buf;
	size_t off;
	bool is = false;
	if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
	    napi_get_typedarray_info(env, v, &t, len, data, &buf, &off) != napi_ok || t != want)
		return 0;
	return 1;
}

/* UTF-16 units [from, from + n) to UTF-8 at *out (NUL-terminated); a lone
 * surrogate becomes U+FFFD, as Node's own conversion does. */
static char *utf8(const uint16_t *s, size_t n, char *out)
{
	for (size_t k = 0; k < n; k++) {
		uint32_t c = s[k];
		if (c >= 0xD800 && c <= 0xDBFF && k + 1 < n && s[k + 1] >= 0xDC00 && s[k + 1] <= 0xDFFF)
			c = 0x10000 + ((c - 0xD800) << 10) + (s[++k] - 0xDC00);
		else if (c >= 0xD800 && c <= 0xDFFF)
			c = 0xFFFD;
		if (c < 0x80) {
			*out++ = (char)c;
		} else if (c < 0x800) {
			*out++ = (char)(0xC0 | (c >> 6));
			*out++ = (char)(0x80 | (c & 0x3F));
		} else if (c < 0x10000) {
			*out++ = (char)(0xE0 | (c >> 12));
			*out++ = (char)(0x80 | ((c >> 6) & 0x3F));
			*out++ = (char)(0x80 | (c & 0x3F));
		} else {
			*out++ = (char)(0xF0 | (c >> 18));
			*out++ = (char)(0x80 | ((c >> 12) & 0x3F));
			*out++ = (char)(0x80 | ((c >> 6) & 0x3F));
			*out++ = (char)(0x80 | (c & 0x3F));
		}
	}
	*out++ = '\0';
	return out;
}

typedef struct packin {
	uint32_t *counts, *idx, *lens;
	uint8_t *kinds;
	double *nums;
	size_t nrows, nvalues, npieces, nnames;
	uint16_t *text;
	size_t ntext;
} packin;

static int bad(napi_env env)
{
	napi_throw_type_error(env, NULL, "insertMany: a malformed chunk (lib/pack.js makes them)");
	return 0;
}

/* Every count, index and length checked before anything is read through them. */
static int check(napi_env env, const packin *in, size_t *nitems)
{
	size_t values = 0, piece = 0, units = 0;
	for (size_t r = 0; r < in->nrows; r++)
		values += in->counts[r];
	if (values != in->nvalues)
		return bad(env);
	*nitems = 0;
	for (size_t v = 0; v < in->nvalues; v++) {
		size_t need = 0;
		if (in->idx[v] >= in->nnames || in->kinds[v] >= PK_COUNT_)
			return bad(env);
		if (in->kinds[v] == PK_TEXT || in->kinds[v] == PK_JSON || in->kinds[v] == PK_BIGINT)
			need = 1;
		else if (in->kinds[v] == PK_LIST) {
			if (!(in->nums[v] >= 0 && in->nums[v] <= (double)(in->npieces - piece)))
				return bad(env);
			need = (size_t)in->nums[v];
			*nitems += need;
		}
		if (need > in->npieces - piece)
			return bad(env);
		for (size_t k = 0; k < need; k++, piece++) {
			if (in->lens[piece] > in->ntext - units)
				return bad(env);
			units += in->lens[piece];
		}
	}
	return piece == in->npieces && units == in->ntext ? 1 : bad(env);
}

static void fill(const packin *in, char **names, npack *p)
{
	char *at = p->bytes;
	size_t piece = 0, units = 0, item = 0;
	for (size_t v = 0; v < in->nvalues; v++) {
		crm_field_value *f = &p->fields[v];
		f->name = names[in->idx[v]];
		f->value = (crm_value){.kind = CRM_VALUE_NULL};
		switch (in->kinds[v]) {
		case PK_INT:
			f->value = (crm_value){.kind = CRM_VALUE_INT, .i = (int64_t)in->nums[v]};
			break;
		case PK_REAL:
			f->value = (crm_value){.kind = CRM_VALUE_REAL, .d = in->nums[v]};
			break;
		case PK_BOOL:
			f->value = (crm_value){.kind = CRM_VALUE_BOOL, .i = in->nums[v] != 0};
			break;
		case PK_TIME:
			f->value = (crm_value){.kind = CRM_VALUE_TIME, .i = (int64_t)in->nums[v]};
			break;
		case PK_TEXT:
		case PK_JSON:
		case PK_BIGINT: {
			char *s = at;
			at = utf8(in->text + units, in->lens[piece], at);
			units += in->lens[piece++];
			f->value.kind = in->kinds[v] == PK_JSON ? CRM_VALUE_JSON : CRM_VALUE_TEXT;
			f->value.s = s;
			f->value.n = (size_t)(at - s - 1);
			if (in->kinds[v] == PK_BIGINT) { /* the digits of a BigInt lib/pack.js checked is in range */
				f->value = (crm_value){.kind = CRM_VALUE_INT, .i = strtoll(s, NULL, 10)};
			}
			break;
		}
		case PK_LIST:
			f->value = (crm_value){.kind = CRM_VALUE_LIST, .items = (const char *const *)&p->items[item],
					       .nitems = (size_t)in->nums[v]};
			for (size_t k = 0; k < f->value.nitems; k++) {
				p->items[item++] = at;
				at = utf8(in->text + units, in->lens[piece], at);
				units += in->lens[piece++];
			}
			break;
		default:
			break;
		}
	}
}

static int read_in(napi_env env, napi_value *argv, packin *in)
{
	void *d;
	size_t n;
	if (!typed(env, argv[1], napi_uint32_array, &d, &in->nrows))
		return bad(env);
	in->counts = d;
	if (!typed(env, argv[2], napi_uint32_array, &d, &in->nvalues))
		return bad(env);
	in->idx = d;
	if (!typed(env, argv[3], napi_uint8_array, &d, &n) || n != in->nvalues)
		return bad(env);
	in->kinds = d;
	if (!typed(env, argv[4], napi_float64_array, &d, &n) || n != in->nvalues)
		return bad(env);
	in->nums = d;
	if (!typed(env, argv[5], napi_uint32_array, &d, &in->npieces))
		return bad(env);
	in->lens = d;
	return 1;
}

int npack_read(napi_env env, napi_value *argv, npack *p)
{
	packin in = {0};
	size_t nitems = 0, nbytes = 0, len;
	uint32_t nnames = 0;
	char **names = NULL;
	int ok = 0;
	if (!read_in(env, argv, &in))
		return 0;
	if (napi_get_array_length(env, argv[0], &nnames) != napi_ok)
		return bad(env);
	in.nnames = nnames;
	if (napi_get_value_string_utf16(env, argv[6], NULL, 0, &in.ntext) != napi_ok)
		return bad(env);
	if (!check(env, &in, &nitems))
		return 0;
	/* names: lengths first, for one allocation of every byte */
	for (uint32_t k = 0; k < nnames; k++) {
		napi_value name;
		if (napi_get_element(env, argv[0], k, &name) != napi_ok ||
		    napi_get_value_string_utf8(env, name, NULL, 0, &len) != napi_ok)
			return bad(env);
		nbytes += len + 1;
	}
	nbytes += in.ntext * 3 + in.npieces + 1;
	in.text = malloc((in.ntext + 1) * sizeof *in.text);
	names = calloc((size_t)nnames + 1, sizeof *names);
	p->fields = calloc(in.nvalues + 1, sizeof *p->fields);
	p->counts = malloc((in.nrows + 1) * sizeof *p->counts);
	p->items = calloc(nitems + 1, sizeof *p->items);
	p->bytes = malloc(nbytes);
	if (!in.text || !names || !p->fields || !p->counts || !p->items || !p->bytes) {
		throw_code(env, CRM_ENOMEM, "out of memory");
		goto done;
	}
	napi_get_value_string_utf16(env, argv[6], (char16_t *)in.text, in.ntext + 1, &len);
	char *at = p->bytes + in.ntext * 3 + in.npieces + 1;
	for (uint32_t k = 0; k < nnames; k++) {
		napi_value name;
		napi_get_element(env, argv[0], k, &name);
		napi_get_value_string_utf8(env, name, at, nbytes - (size_t)(at - p->bytes), &len);
		if (strlen(at) != len) { /* "name\u0000x" must not reach libcrm as "name" */
			napi_throw_type_error(env, NULL, "insertMany: a field name holds U+0000");
			goto done;
		}
		names[k] = at;
		at += len + 1;
	}
	memcpy(p->counts, in.counts, in.nrows * sizeof *p->counts);
	p->nrows = in.nrows;
	fill(&in, names, p);
	ok = 1;
done:
	free(in.text);
	free(names);
	if (!ok)
		npack_free(p);
	return ok;
}
