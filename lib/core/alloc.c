/* The process-wide allocator hook (crm_allocator_set) and the helpers the
 * rest of the library allocates with. cJSON is pointed at the same hook. */
#include "alloc.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "crm/common.h"

static crm_allocator allocator;
static int have_allocator;

static void *hooked_malloc(size_t n) { return crm__malloc(n); }
static void hooked_free(void *p) { crm__free(p); }

int crm_allocator_set(const crm_allocator *a)
{
	cJSON_Hooks hooks = { hooked_malloc, hooked_free };

	if (a && (!a->malloc_fn || !a->realloc_fn || !a->free_fn))
		return CRM_EMISUSE;
	if (a)
		allocator = *a;
	have_allocator = a != NULL;
	cJSON_InitHooks(have_allocator ? &hooks : NULL);
	return CRM_OK;
}

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
