/*
 * insertMany's rows as libcrm's typed values (crm_batch_add_values), with
 * no JSON text per row. lib/pack.js flattens a chunk of rows into a few
 * typed arrays and one string (JavaScript does that fast; reading objects
 * property by property through Node-API is slow); this file checks them
 * and builds the crm_field_value arrays over one UTF-8 copy of the text, so
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

typedef struct packin {
	uint32_t *counts, *idx, *lens;
	uint8_t *kinds;
	double *nums;
	size_t nrows, nvalues, npieces, nnames;
	size_t ntext;  /* UTF-16 units of the text */
	size_t nitems; /* list items, copied NUL-terminated (crm_value's items are) */
	size_t nlist;  /* UTF-16 units of those items */
} packin;

static int bad(napi_env env)
{
	napi_throw_type_error(env, NULL, "insertMany: a malformed chunk (lib/pack.js makes them)");
	return 0;
}

/* Every count, index and length checked before anything is read through them. */
static int check(napi_env env, packin *in)
{
	size_t values = 0, piece = 0, units = 0;
	for (size_t r = 0; r < in->nrows; r++)
		values += in->counts[r];
	if (values != in->nvalues)
		return bad(env);
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
			in->nitems += need;
		}
		if (need > in->npieces - piece)
			return bad(env);
		for (size_t k = 0; k < need; k++, piece++) {
			if (in->lens[piece] > in->ntext - units)
				return bad(env);
			units += in->lens[piece];
			if (in->kinds[v] == PK_LIST)
				in->nlist += in->lens[piece];
		}
	}
	return piece == in->npieces && units == in->ntext ? 1 : bad(env);
}

/* The bytes of the UTF-8 text at s (`avail` of them) that hold the next
 * `units` UTF-16 units, or (size_t)-1 when no character ends there. */
static size_t piece_bytes(const char *s, size_t avail, size_t units)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0, left;
	if (units <= avail) { /* ASCII, a byte per unit: eight at a time */
		uint64_t w;
		for (; k + 8 <= units; k += 8) {
			memcpy(&w, u + k, 8);
			if (w & 0x8080808080808080u)
				break;
		}
		while (k < units && u[k] < 0x80)
			k++;
	}
	for (left = units - k; left;) { /* a pair of surrogates is 4 bytes, any other unit 1 to 3 */
		size_t len = u[k] < 0x80 ? 1 : u[k] < 0xE0 ? 2 : u[k] < 0xF0 ? 3 : 4, n = len == 4 ? 2 : 1;
		if (n > left || len > avail - k)
			return (size_t)-1;
		k += len;
		left -= n;
	}
	return k;
}

/* The bytes of piece `piece`, which starts `at` bytes into the text: its
 * UTF-16 length when the text is all ASCII (a byte per unit, as many bytes
 * as units), else counted. */
static inline size_t next_piece(const packin *in, size_t piece, const char *text, size_t at, size_t nbytes)
{
	return nbytes == in->ntext ? in->lens[piece] : piece_bytes(text + at, nbytes - at, in->lens[piece]);
}

/* The values over the chunk's UTF-8 text (`nbytes` at `text`): strings
 * point into it, list items are copied NUL-terminated to `listed`. 0 when
 * the lengths do not fit the text. */
static int fill(const packin *in, char **names, const char *text, size_t nbytes, char *listed, npack *p)
{
	size_t piece = 0, at = 0, item = 0, n;
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
			if ((n = next_piece(in, piece++, text, at, nbytes)) == (size_t)-1)
				return 0;
			f->value.kind = in->kinds[v] == PK_JSON ? CRM_VALUE_JSON : CRM_VALUE_TEXT;
			f->value.s = text + at;
			f->value.n = n;
			at += n;
			break;
		case PK_BIGINT: { /* the digits of a BigInt lib/pack.js checked is in range */
			char digits[24];
			if ((n = next_piece(in, piece++, text, at, nbytes)) >= sizeof digits)
				return 0;
			memcpy(digits, text + at, n);
			digits[n] = '\0';
			f->value = (crm_value){.kind = CRM_VALUE_INT, .i = strtoll(digits, NULL, 10)};
			at += n;
			break;
		}
		case PK_LIST:
			f->value = (crm_value){.kind = CRM_VALUE_LIST, .items = (const char *const *)&p->items[item],
					       .nitems = (size_t)in->nums[v]};
			for (size_t k = 0; k < f->value.nitems; k++) {
				if ((n = next_piece(in, piece++, text, at, nbytes)) == (size_t)-1)
					return 0;
				memcpy(listed, text + at, n);
				listed[n] = '\0';
				p->items[item++] = listed;
				listed += n + 1;
				at += n;
			}
			break;
		default:
			break;
		}
	}
	return at == nbytes;
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
	size_t nbytes = 0, ntext = 0, len;
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
	if (!check(env, &in))
		return 0;
	/* one allocation for the text as UTF-8 (at most 3 bytes a UTF-16
	 * unit), the names and the list items: lengths first */
	size_t room = in.ntext * 3 + 1;
	for (uint32_t k = 0; k < nnames; k++) {
		napi_value name;
		if (napi_get_element(env, argv[0], k, &name) != napi_ok ||
		    napi_get_value_string_utf8(env, name, NULL, 0, &len) != napi_ok)
			return bad(env);
		nbytes += len + 1;
	}
	nbytes += room + in.nlist * 3 + in.nitems;
	names = calloc((size_t)nnames + 1, sizeof *names);
	p->fields = malloc((in.nvalues + 1) * sizeof *p->fields);
	p->counts = malloc((in.nrows + 1) * sizeof *p->counts);
	p->items = malloc((in.nitems + 1) * sizeof *p->items);
	p->bytes = malloc(nbytes);
	if (!names || !p->fields || !p->counts || !p->items || !p->bytes) {
		throw_code(env, CRM_ENOMEM, "out of memory");
		goto done;
	}
	/* V8 writes the whole text at once (ASCII at memcpy speed); a lone
	 * surrogate becomes U+FFFD, as it did piece by piece */
	if (napi_get_value_string_utf8(env, argv[6], p->bytes, room, &ntext) != napi_ok) {
		bad(env);
		goto done;
	}
	char *at = p->bytes + room;
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
	if (!fill(&in, names, p->bytes, ntext, at, p)) {
		bad(env);
		goto done;
	}
	memcpy(p->counts, in.counts, in.nrows * sizeof *p->counts);
	p->nrows = in.nrows;
	ok = 1;
done:
	free(names);
	if (!ok)
		npack_free(p);
	return ok;
}
