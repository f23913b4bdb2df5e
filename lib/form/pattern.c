/* Field patterns: JSON Schema's regular expressions (ECMA-262, Unicode
 * mode) compiled with PCRE2. The two dialects agree on almost everything;
 * where they do not, the pattern is rewritten before compiling:
 *   - \p{...} takes ECMA-262's names: long General_Category values
 *     (\p{Letter}), "gc="/"General_Category=", "sc="/"Script=",
 *     "scx="/"Script_Extensions=", and Assigned. PCRE2 10.42 knows only the
 *     short category names. This is a table of names, not of characters.
 *   - \s and \S are Unicode white space and line terminators, while \d and
 *     \w stay ASCII, as in ECMA-262 (PCRE2 has no option for that mix).
 * Error offsets are mapped back to the pattern the user wrote. */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "form_int.h"

/* ECMA-262's General_Category values and aliases, to PCRE2's short names. */
static const char *const gc_names[][2] = {
	{ "Cased_Letter", "LC" },       { "Close_Punctuation", "Pe" },   { "Connector_Punctuation", "Pc" },
	{ "Control", "Cc" },            { "cntrl", "Cc" },               { "Currency_Symbol", "Sc" },
	{ "Dash_Punctuation", "Pd" },   { "Decimal_Number", "Nd" },      { "digit", "Nd" },
	{ "Enclosing_Mark", "Me" },     { "Final_Punctuation", "Pf" },   { "Format", "Cf" },
	{ "Initial_Punctuation", "Pi" }, { "Letter", "L" },              { "Letter_Number", "Nl" },
	{ "Line_Separator", "Zl" },     { "Lowercase_Letter", "Ll" },    { "Mark", "M" },
	{ "Combining_Mark", "M" },      { "Math_Symbol", "Sm" },         { "Modifier_Letter", "Lm" },
	{ "Modifier_Symbol", "Sk" },    { "Nonspacing_Mark", "Mn" },     { "Number", "N" },
	{ "Open_Punctuation", "Ps" },   { "Other", "C" },                { "Other_Letter", "Lo" },
	{ "Other_Number", "No" },       { "Other_Punctuation", "Po" },   { "Other_Symbol", "So" },
	{ "Paragraph_Separator", "Zp" }, { "Private_Use", "Co" },        { "Punctuation", "P" },
	{ "punct", "P" },               { "Separator", "Z" },            { "Space_Separator", "Zs" },
	{ "Spacing_Mark", "Mc" },       { "Surrogate", "Cs" },           { "Symbol", "S" },
	{ "Titlecase_Letter", "Lt" },   { "Unassigned", "Cn" },          { "Uppercase_Letter", "Lu" },
};

/* ECMA-262 WhiteSpace and LineTerminator, as the inside of a class. */
static const char space_class[] = "\\t\\n\\x0B\\f\\r\\x20\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
				  "\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}";

/* The short name for a General_Category value (long, alias or short), or NULL. */
static const char *gc_short(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof gc_names / sizeof *gc_names; i++)
		for (int k = 0; k < 2; k++)
			if (strlen(gc_names[i][k]) == n && memcmp(gc_names[i][k], s, n) == 0)
				return gc_names[i][1];
	return NULL;
}

/* A stretch of the output: copied from the input at `in`, or (replaced)
 * standing for the escape at `in`, `in_len` bytes long. */
typedef struct segment {
	size_t out, in, in_len;
	int replaced;
} segment;

typedef struct rewrite {
	const char *p;
	size_t n;
	crm__buf out, segs;
} rewrite;

static void copy(rewrite *rw, size_t from, size_t len)
{
	segment sg = { rw->out.len, from, len, 0 };

	if (len == 0)
		return;
	crm__buf_put(&rw->segs, &sg, sizeof sg);
	crm__buf_put(&rw->out, rw->p + from, len);
}

/* Start the output that stands for the escape at `from` (`len` bytes),
 * with `text`; the caller may append more. */
static void replace(rewrite *rw, size_t from, size_t len, const char *text)
{
	segment sg = { rw->out.len, from, len, 1 };

	crm__buf_put(&rw->segs, &sg, sizeof sg);
	crm__buf_puts(&rw->out, text);
}

static int key_is(const char *key, size_t n, const char *a, const char *b)
{
	return (strlen(a) == n && memcmp(key, a, n) == 0) || (strlen(b) == n && memcmp(key, b, n) == 0);
}

/* The escape \p{...} or \P{...} at `at` whose name runs from `name` to the
 * '}' at `end`. Returns 0, or -1 with `msg` for a General_Category value
 * ECMA-262 does not have. */
static int property(rewrite *rw, size_t at, size_t name, size_t end, char *msg, size_t msgsize)
{
	const char *s = rw->p + name, *eq = memchr(s, '=', end - name);
	int negated = rw->p[at + 1] == 'P';
	size_t len = end + 1 - at, klen = eq ? (size_t)(eq - s) : 0, vlen = eq ? end - name - klen - 1 : 0;
	const char *gc = NULL;

	if (eq && key_is(s, klen, "General_Category", "gc") && !(gc = gc_short(eq + 1, vlen))) {
		snprintf(msg, msgsize, "bad pattern at offset %zu: '%.*s' is not a General_Category value", at, (int)vlen,
			 eq + 1);
		return -1;
	}
	if (!eq)
		gc = gc_short(s, end - name);
	if (gc) {
		replace(rw, at, len, negated ? "\\P{" : "\\p{");
		crm__buf_puts(&rw->out, gc);
	} else if (eq && (key_is(s, klen, "Script", "sc") || key_is(s, klen, "Script_Extensions", "scx"))) {
		/* PCRE2 checks the script name itself */
		replace(rw, at, len, negated ? "\\P{" : "\\p{");
		crm__buf_puts(&rw->out, key_is(s, klen, "Script", "sc") ? "sc:" : "scx:");
		crm__buf_put(&rw->out, eq + 1, vlen);
	} else if (!eq && end - name == 8 && memcmp(s, "Assigned", 8) == 0) {
		replace(rw, at, len, negated ? "\\p{Cn" : "\\P{Cn");
	} else {
		/* binary properties and PCRE2's own names: PCRE2 decides */
		replace(rw, at, len, "");
		crm__buf_put(&rw->out, rw->p + at, len - 1);
	}
	crm__buf_putc(&rw->out, '}');
	return 0;
}

/* Rewrite the pattern for PCRE2 (see the top of the file). */
static int translate(rewrite *rw, char *msg, size_t msgsize)
{
	const char *p = rw->p;
	size_t i = 0, start = 0, n = rw->n;
	int in_class = 0;

	while (i < n) {
		size_t at = i;
		const char *close;

		if (p[i] == '[' && !in_class) {
			in_class = 1;
			i += 1 + (i + 1 < n && p[i + 1] == '^');
			i += i < n && p[i] == ']'; /* a first ']' is literal */
			continue;
		}
		if (p[i] == '[' && in_class && i + 1 < n && p[i + 1] == ':' &&
		    (close = strstr(p + i + 2, ":]")) && (size_t)(close - p) < n) {
			i = (size_t)(close - p) + 2; /* [:alpha:] */
			continue;
		}
		if (p[i] == ']') {
			in_class = 0;
			i++;
			continue;
		}
		if (p[i] != '\\' || i + 1 >= n) {
			i++;
			continue;
		}
		if (p[i + 1] == 'Q') { /* literal up to \E */
			close = strstr(p + i + 2, "\\E");
			i = close && (size_t)(close - p) < n ? (size_t)(close - p) + 2 : n;
			continue;
		}
		if ((p[i + 1] == 'p' || p[i + 1] == 'P') && i + 2 < n && p[i + 2] == '{' &&
		    (close = memchr(p + i + 3, '}', n - i - 3))) {
			copy(rw, start, at - start);
			if (property(rw, at, at + 3, (size_t)(close - p), msg, msgsize))
				return -1;
			start = i = (size_t)(close - p) + 1;
			continue;
		}
		if (p[i + 1] == 's' || (p[i + 1] == 'S' && !in_class)) {
			copy(rw, start, at - start);
			replace(rw, at, 2, in_class ? "" : p[i + 1] == 's' ? "[" : "[^");
			crm__buf_puts(&rw->out, space_class);
			if (!in_class)
				crm__buf_putc(&rw->out, ']');
			start = i += 2;
			continue;
		}
		i += 2; /* any other escape: itself */
	}
	copy(rw, start, n - start);
	return 0;
}

/* The user's offset for an offset into the rewritten pattern: inside or
 * just after a replaced escape, the escape's start. */
static size_t user_offset(const rewrite *rw, size_t off)
{
	const segment *sg = (const segment *)(const void *)rw->segs.p;
	size_t nseg = rw->segs.len / sizeof *sg, k = 0;

	if (nseg == 0)
		return off;
	for (size_t j = 1; j < nseg && sg[j].out <= off; j++) {
		if (sg[j].out == off && !sg[j].replaced && sg[k].replaced)
			break; /* PCRE2 points just after the escape */
		k = j;
	}
	if (sg[k].replaced)
		return sg[k].in;
	return sg[k].in + (off - sg[k].out < sg[k].in_len ? off - sg[k].out : sg[k].in_len);
}

pcre2_code *crm__pattern_compile(const char *pattern, pcre2_compile_context *cctx, int *oom, char *msg, size_t msgsize)
{
	rewrite rw = { pattern, strlen(pattern), CRM__BUF_INIT, CRM__BUF_INIT };
	pcre2_code *re = NULL;
	PCRE2_UCHAR why[256];
	PCRE2_SIZE offset;
	int errcode;

	*oom = 0;
	if (translate(&rw, msg, msgsize) == 0 && !(*oom = rw.out.oom || rw.segs.oom)) {
		/* Unanchored search in Unicode mode, as JSON Schema means it; \C
		 * could split a character, so it is refused. '$' ends the
		 * subject only (as in JSON Schema): PCRE2's default also matches
		 * before a final newline, which would let "123\n" through
		 * "^[0-9]+$". */
		re = pcre2_compile((PCRE2_SPTR)crm__buf_cstr(&rw.out), rw.out.len,
				   PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C | PCRE2_DOLLAR_ENDONLY, &errcode, &offset, cctx);
		if (!re && (errcode == PCRE2_ERROR_HEAP_FAILED || errcode == PCRE2_ERROR_NOMEMORY))
			*oom = 1;
		else if (!re) {
			size_t at = user_offset(&rw, offset);
			const char *brace = errcode == PCRE2_ERROR_UNKNOWN_UNICODE_PROPERTY ? strchr(pattern + at, '}') : NULL;

			pcre2_get_error_message(errcode, why, sizeof why);
			if (brace)
				snprintf(msg, msgsize, "bad pattern at offset %zu: %s: %.*s", at, (const char *)why,
					 (int)(brace + 1 - (pattern + at)), pattern + at);
			else
				snprintf(msg, msgsize, "bad pattern at offset %zu: %s", at, (const char *)why);
		}
	}
	crm__buf_free(&rw.out);
	crm__buf_free(&rw.segs);
	return re;
}
