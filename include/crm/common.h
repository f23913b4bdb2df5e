/*
 * libcrm — result codes, version and memory release shared by every engine.
 *
 * Ownership, once for the whole API: inputs are borrowed for the duration of
 * the call; what comes back through a `**out` parameter belongs to the caller
 * and is released with that type's free function (crm_free for strings and
 * arrays); a returned `const char *` is borrowed from the handle and stays
 * valid until the next call on the same handle (or cursor).
 *
 * Text, once for the whole API: no text value may contain U+0000 (NUL). It
 * is refused wherever it could come in (a "\u0000" escape in JSON input), so
 * every string that crosses the API is a complete NUL-terminated C string.
 */
#ifndef CRM_COMMON_H
#define CRM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "crm/version.h" /* generated from meson.build */

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define CRM_EXTERN(type) __declspec(dllexport) type
#else
#define CRM_EXTERN(type) __attribute__((visibility("default"))) type
#endif


/** Result codes. CRM_OK is 0; callers branch on the E-codes they expect. */
typedef enum crm_result {
	CRM_OK = 0,
	CRM_ERROR = 1,       /**< generic failure (see crm_errmsg) */
	CRM_EINVAL = 2,      /**< malformed input: bad JSON, bad metadata, bad argument */
	CRM_ENOTFOUND = 3,   /**< no such form, field or record */
	CRM_ECONFLICT = 4,   /**< a version moved on: the record's (optimistic concurrency), or the definition of a form an open cursor reads */
	CRM_ECONSTRAINT = 5, /**< a record value failed validation (detail lists every field) */
	CRM_EPERM = 6,       /**< the actor may not do this */
	CRM_ESCRIPT = 7,     /**< a Lua script failed or exceeded its budget */
	CRM_EBUSY = 8,       /**< the database stayed locked past the busy timeout */
	CRM_ENOMEM = 9,      /**< out of memory */
	CRM_EIO = 10,        /**< the database file could not be read or written */
	CRM_ELIMIT = 11,     /**< a configured limit was exceeded */
	CRM_EMISUSE = 12,    /**< the API was called wrongly (NULL handle, wrong state, closed handle) */
	CRM_EEXISTS = 13,    /**< the thing to create already exists */
	CRM_ROW = 100,       /**< crm_cursor_next: a row is ready */
	CRM_DONE = 101       /**< crm_cursor_next: no more rows */
} crm_result;

/** Library version as CRM_VERSION_NUMBER of the linked library. */
CRM_EXTERN(int) crm_libversion_number(void);
/** Library version string (CRM_VERSION of the linked library). Static, never freed. */
CRM_EXTERN(const char *) crm_libversion(void);
/** English name of a result code ("CRM_ECONSTRAINT"). Static, never freed. */
CRM_EXTERN(const char *) crm_errstr(int code);
/** Release memory the library handed to the caller. NULL does nothing. */
CRM_EXTERN(void) crm_free(void *ptr);

/**
 * Process-wide allocator for every allocation libcrm makes itself, for its
 * Lua states and for PCRE2's matching and compiling (like sqlite3_config):
 * set it before opening any handle. crm_allocator_set refuses (CRM_EMISUSE)
 * while a handle is open, when `version` is not CRM_ALLOCATOR_VERSION or a
 * function is missing; NULL restores malloc. Memory libcrm handed out must
 * be released (crm_free) before the allocator changes.
 * cJSON is not affected: libcrm never calls cJSON_InitHooks, so cJSON
 * allocates with whatever hooks the host gave it (malloc by default).
 * SQLite allocates with its own allocator (SQLITE_CONFIG_MALLOC, the host's).
 * Fault-injection tests use it to fail the Nth allocation.
 */
typedef struct crm_allocator {
	unsigned int version; /**< CRM_ALLOCATOR_VERSION */
	void *(*malloc_fn)(size_t size, void *payload);
	void *(*realloc_fn)(void *ptr, size_t size, void *payload);
	void (*free_fn)(void *ptr, void *payload);
	void *payload;
} crm_allocator;
#define CRM_ALLOCATOR_VERSION 1
/** Usage: crm_allocator a = CRM_ALLOCATOR_INIT; a.malloc_fn = ...; */
#define CRM_ALLOCATOR_INIT { CRM_ALLOCATOR_VERSION, NULL, NULL, NULL, NULL }
CRM_EXTERN(int) crm_allocator_set(const crm_allocator *allocator);

#ifdef __cplusplus
}
#endif
#endif
