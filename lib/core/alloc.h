/* Internal allocation: every byte libcrm allocates goes through here so the
 * host's allocator (crm_allocator_set) and fault injection see all of it. */
#ifndef CRM_CORE_ALLOC_H
#define CRM_CORE_ALLOC_H

#include <stddef.h>

void *crm__malloc(size_t n);
void *crm__calloc(size_t count, size_t size);
void *crm__realloc(void *p, size_t n);
void crm__free(void *p);
char *crm__strdup(const char *s);
char *crm__strndup(const char *s, size_t n);
/* Count open handles (crm_open/crm_close): crm_allocator_set refuses while any is open. */
void crm__handle_opened(void);
void crm__handle_closed(void);

#endif
