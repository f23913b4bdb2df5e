/* The text encodings of import: UTF-8 (with or without a BOM) and the GBK /
 * GB18030 files Chinese Excel writes, told apart by sniffing (decided on
 * the first 64 KiB) and decoded with glibc's iconv, chunk by chunk. */
#include <errno.h>
#include <string.h>

#include "core/db_int.h"
#include "import_int.h"

static const char BOM[] = "\xEF\xBB\xBF";

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when invalid,
 * -1 when it is cut off by the end of the bytes. */
static int utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	int len;
	unsigned min;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (n < (size_t)len) {
		for (size_t i = 1; i < n; i++)
			if ((p[i] & 0xC0) != 0x80)
				return 0;
		return -1;
	}
	unsigned cp = c & (0xFF >> (len + 1));
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* 1 when p[0..n) is valid UTF-8 (a sequence cut off at the end counts as
 * valid unless `all`: more bytes would complete it). */
static int utf8_valid(const char *p, size_t n, int all)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;

	while (i < n) {
		int k = utf8_seq(s + i, n - i);
		if (k == 0 || (k < 0 && all))
			return 0;
		if (k < 0)
			return 1;
		i += (size_t)k;
	}
	return 1;
}

/* 1 when p[0..n) decodes as GB18030 (a cut-off sequence at the end is
 * fine unless `all`). */
static int gb18030_valid(const char *p, size_t n, int all)
{
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	char out[4096];
	char *in = (char *)p;
	size_t left = n;
	int ok = 1;

	if (cd == (iconv_t)-1)
		return 0;
	while (left > 0) {
		char *o = out;
		size_t oleft = sizeof out;
		if (iconv(cd, &in, &left, &o, &oleft) != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		ok = errno == EINVAL && !all;
		break;
	}
	iconv_close(cd);
	return ok;
}

int crm__enc_sniff(const char *p, size_t n, int all)
{
	if (n >= 3 && memcmp(p, BOM, 3) == 0)
		return CRM__ENC_UTF8;
	/* UTF-16 files start with a BOM of their own, and are full of NULs. */
	if (n >= 2 && (((unsigned char)p[0] == 0xFF && (unsigned char)p[1] == 0xFE) ||
		       ((unsigned char)p[0] == 0xFE && (unsigned char)p[1] == 0xFF)))
		return -1;
	if (n && memchr(p, 0, n))
		return -1;
	if (utf8_valid(p, n, all))
		return CRM__ENC_UTF8;
	/* Text that is not UTF-8 is taken for GB18030 (a superset of GBK and
	 * GB2312) when it decodes as it; binary data rarely does. */
	return gb18030_valid(p, n, all) ? CRM__ENC_GB18030 : -1;
}

int crm__decoder_open(crm_db *db, crm__decoder *d, int enc)
{
	memset(d, 0, sizeof *d);
	d->enc = enc;
	d->cd = (iconv_t)-1;
	if (enc == CRM__ENC_UTF8)
		return CRM_OK;
	d->cd = iconv_open("UTF-8", enc == CRM__ENC_GBK ? "GBK" : "GB18030");
	if (d->cd == (iconv_t)-1)
		return crm__error(db, CRM_EINVAL, "this system's iconv cannot decode %s",
				  enc == CRM__ENC_GBK ? "GBK" : "GB18030");
	return CRM_OK;
}

static int not_text(crm_db *db, const crm__decoder *d, int64_t at)
{
	static const char *const names[] = { "auto", "UTF-8", "GBK", "GB18030" };

	return crm__error(db, CRM_EINVAL, "the input is not %s text: byte %lld cannot be decoded%s", names[d->enc],
			  (long long)at, d->enc == CRM__ENC_UTF8 ? " (declare \"encoding\" for GBK files)" : "");
}

/* UTF-8 passes through, checked; a sequence cut by the chunk's end waits in carry. */
static int feed_utf8(crm_db *db, crm__decoder *d, const char *in, size_t n, int last, crm__buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0;

	while (i < n) {
		int k;
		if (s[i] < 0x80) {
			if (s[i] == 0)
				return crm__error(db, CRM_EINVAL, "the input holds a NUL byte at byte %lld: it is not text",
						  (long long)(d->offset + (int64_t)i));
			i++;
			continue;
		}
		k = utf8_seq(s + i, n - i);
		if (k < 0 && !last) {
			crm__buf_put(out, in, i);
			memcpy(d->carry, in + i, n - i);
			d->ncarry = n - i;
			d->offset += (int64_t)i;
			return out->oom ? crm__error_oom(db) : CRM_OK;
		}
		if (k <= 0)
			return not_text(db, d, d->offset + (int64_t)i);
		i += (size_t)k;
	}
	crm__buf_put(out, in, n);
	d->offset += (int64_t)n;
	return out->oom ? crm__error_oom(db) : CRM_OK;
}

static int feed_iconv(crm_db *db, crm__decoder *d, const char *in, size_t n, int last, crm__buf *out)
{
	char *ip = (char *)in;
	size_t left = n, from = out->len;

	while (left > 0) {
		size_t room, before;
		char *op;
		if (crm__buf_reserve(out, 4 * left + 16))
			return crm__error_oom(db);
		op = out->p + out->len;
		room = before = out->cap - out->len - 1;
		if (iconv(d->cd, &ip, &left, &op, &room) == (size_t)-1 && errno != E2BIG) {
			out->len += before - room;
			if (errno == EINVAL && !last && left < sizeof d->carry) {
				memcpy(d->carry, ip, left);
				d->ncarry = left;
				break;
			}
			return not_text(db, d, d->offset + (int64_t)(ip - in));
		}
		out->len += before - room;
	}
	if (out->len > from && memchr(out->p + from, 0, out->len - from))
		return crm__error(db, CRM_EINVAL, "the input holds a NUL byte near byte %lld: it is not text",
				  (long long)d->offset);
	d->offset += (int64_t)(n - d->ncarry);
	return CRM_OK;
}

int crm__decoder_feed(crm_db *db, crm__decoder *d, const char *in, size_t n, int last, crm__buf *out)
{
	crm__buf joined = CRM__BUF_INIT;
	int rc;

	/* A sequence cut at the end of the last chunk goes first. */
	if (d->ncarry) {
		crm__buf_put(&joined, d->carry, d->ncarry);
		crm__buf_put(&joined, in, n);
		if (joined.oom)
			return crm__error_oom(db);
		in = joined.p, n = joined.len;
		d->ncarry = 0;
	}
	if (!d->started) {
		if (n >= 3 && memcmp(in, BOM, 3) == 0 && d->enc == CRM__ENC_UTF8)
			in += 3, n -= 3, d->offset += 3;
		d->started = 1; /* the reader's first chunk is 64 KiB or the whole input */
	}
	rc = d->enc == CRM__ENC_UTF8 ? feed_utf8(db, d, in, n, last, out) : feed_iconv(db, d, in, n, last, out);
	crm__buf_free(&joined);
	return rc;
}

void crm__decoder_close(crm__decoder *d)
{
	if (d->cd != (iconv_t)-1)
		iconv_close(d->cd);
	d->cd = (iconv_t)-1;
}
