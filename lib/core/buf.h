/* A growable byte buffer and the streaming JSON writer built on it. Append
 * functions never fail loudly: an allocation failure releases the memory
 * and sets `oom`, later appends do nothing, and the owner checks `oom` once
 * at the end (and may simply return: nothing is left to free). */
#ifndef CRM_CORE_BUF_H
#define CRM_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct crm__buf {
	char *p;
	size_t len;
	size_t cap;
	int oom;
} crm__buf;

#define CRM__BUF_INIT { NULL, 0, 0, 0 }

void crm__buf_free(crm__buf *b);
void crm__buf_reset(crm__buf *b);
int crm__buf_reserve(crm__buf *b, size_t extra);
/* Out of memory as a failed append leaves it: emptied, `oom` set (for an
 * allocation made beside the buffer's own that failed). */
void crm__buf_fail(crm__buf *b);
void crm__buf_put(crm__buf *b, const void *p, size_t n);
void crm__buf_puts(crm__buf *b, const char *s);
void crm__buf_putc(crm__buf *b, char c);
void crm__buf_printf(crm__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void crm__buf_i64(crm__buf *b, int64_t v);
/* v in decimal into out (CRM__I64_TEXT bytes at least), NUL-terminated;
 * its length (snprintf's "%lld" is several times slower). */
#define CRM__I64_TEXT 21
size_t crm__i64_text(char *out, int64_t v);
/* src into dst[size] (size > 0), cut to fit and NUL-terminated, as
 * snprintf's "%s" but without its cost (copies on hot paths); the length
 * copied. */
size_t crm__str_copy(char *dst, size_t size, const char *src);
/* Writers into room the caller reserved (crm__buf_reserve), for loops
 * that reserve once per item: each returns the end of what it wrote. */
#define CRM__I64_ROOM 20 /* the longest int64: "-9223372036854775808" */
char *crm__i64_to(char *d, int64_t v);
/* s[0..n) as a JSON string (as crm__json_str) in at most CRM__JSON_STR_ROOM(n) bytes. */
#define CRM__JSON_STR_ROOM(n) (6 * (n) + 2)
char *crm__json_str_to(char *d, const char *s, size_t n);
/* NUL-terminated contents ("" when empty); valid until the next append. */
const char *crm__buf_cstr(crm__buf *b);
/* Hand the contents to the caller (crm_free) and empty the buffer. */
char *crm__buf_detach(crm__buf *b);

/* JSON writing: strings are escaped, numbers written exactly. */
void crm__json_str(crm__buf *b, const char *s, size_t n);
void crm__json_cstr(crm__buf *b, const char *s);
void crm__json_double(crm__buf *b, double v);
/* A SQL identifier in double quotes (identifiers come from validated metadata). */
void crm__sql_ident(crm__buf *b, const char *name);

#endif
