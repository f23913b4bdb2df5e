/* The process-wide allocator hook (crm_allocator_set) and the helpers the
 * rest of the library allocates with. cJSON is left alone: its hooks belong
 * to the host (cJSON_InitHooks is process-wide too), so libcrm frees what
 * cJSON allocates with cJSON_free and never changes how cJSON allocates. */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "crm/common.h"

static crm_allocator allocator;
static int have_allocator;
/* Handles open in this process: the allocator may change only at zero,
 * or memory would be freed by an allocator that did not allocate it. */
static atomic_long open_handles;

int crm_allocator_set(const crm_allocator *a)
{
	if (a && (a->version != CRM_ALLOCATOR_VERSION || !a->malloc_fn || !a->realloc_fn || !a->free_fn))
		return CRM_EMISUSE;
	if (atomic_load(&open_handles) > 0)
		return CRM_EMISUSE;
	if (a)
		allocator = *a;
	have_allocator = a != NULL;
	return CRM_OK;
}

void crm__handle_opened(void) { atomic_fetch_add(&open_handles, 1); }
void crm__handle_closed(void) { atomic_fetch_sub(&open_handles, 1); }

void *crm__malloc(size_t n)
{
	if (n == 0)
		n = 1;
	return have_allocator ? allocator.malloc_fn(n, allocator.payload) : malloc(n);
}

void *crm__calloc(size_t count, size_t size)
{
	void *p;

	if (size && count > (size_t)-1 / size)
		return NULL;
	p = crm__malloc(count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

void *crm__realloc(void *p, size_t n)
{
	if (n == 0)
		n = 1;
	return have_allocator ? allocator.realloc_fn(p, n, allocator.payload) : realloc(p, n);
}

void crm__free(void *p)
{
	if (!p)
		return;
	if (have_allocator)
		allocator.free_fn(p, allocator.payload);
	else
		free(p);
}

void crm_free(void *p) { crm__free(p); }

char *crm__strndup(const char *s, size_t n)
{
	char *d = crm__malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

char *crm__strdup(const char *s) { return s ? crm__strndup(s, strlen(s)) : NULL; }
