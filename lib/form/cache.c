/* The handle's cache of compiled forms, filled lazily from the stored
 * definitions and dropped whenever metadata changes (here or elsewhere). */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json_parse.h"
#include "form_int.h"

typedef struct form_cache {
	crm__form **forms;
	int n, cap;
	/* PCRE2 allocates through libcrm's allocator (gctx), so its failures
	 * are CRM_ENOMEM and fault injection reaches them. */
	pcre2_general_context *gctx;
	pcre2_compile_context *cctx;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	int64_t mctx_limits[2]; /* the match and depth limits mctx was set to */
	pcre2_match_data *md;
} form_cache;

/* Bytes of JIT stack per unit of CRM_LIMIT_REGEX_DEPTH. JIT matching ignores
 * PCRE2's depth and heap limits; its stack is what grows with backtracking
 * depth. Measured on PCRE2 10.42 (x86-64) against the interpreter's depth
 * count: 12 to 48 bytes per unit for ^(a|b)*$, ^([ab])+$, lazy and nested
 * groups. 32 makes the default (1000) exactly PCRE2's default JIT stack. */
#define JIT_STACK_PER_DEPTH 32
#define JIT_STACK_MAX ((size_t)64 << 20)

static void cache_flush(void *p)
{
	form_cache *c = p;

	for (int i = 0; i < c->n; i++)
		crm__form_release(c->forms[i]);
	c->n = 0;
}

static void cache_free(void *p)
{
	form_cache *c = p;

	cache_flush(c);
	pcre2_match_context_free(c->mctx);
	pcre2_jit_stack_free(c->jit_stack);
	pcre2_match_data_free(c->md);
	pcre2_compile_context_free(c->cctx);
	pcre2_general_context_free(c->gctx);
	crm__free(c->forms);
	crm__free(c);
}

static form_cache *cache_of(crm_db *db)
{
	if (!db->ext[CRM__EXT_FORMS]) {
		db->ext[CRM__EXT_FORMS] = crm__calloc(1, sizeof(form_cache));
		db->ext_free[CRM__EXT_FORMS] = cache_free;
		db->ext_flush[CRM__EXT_FORMS] = cache_flush;
	}
	return db->ext[CRM__EXT_FORMS];
}

/* The stored definition of `name` (latest version), parsed, or NULL. */
int crm__form_load_def(crm_db *db, const char *name, cJSON **out, int64_t *version)
{
	return crm__meta_load(db, "form", "form", name, 0, out, version);
}

int crm__form_lookup(crm_db *db, const char *name, crm__form **out)
{
	form_cache *c = cache_of(db);
	crm__form *form = NULL;
	cJSON *def;
	int64_t version = 0;
	int rc;

	*out = NULL;
	if (!c)
		return crm__error_oom(db);
	if (!name)
		return crm__error(db, CRM_EMISUSE, "no form name given");
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->forms[i]->name, name) == 0) {
			*out = c->forms[i];
			return CRM_OK;
		}
	if ((rc = crm__form_load_def(db, name, &def, &version)))
		return rc;
	rc = crm__form_compile(db, def, NULL, &form);
	cJSON_Delete(def);
	if (rc)
		return rc;
	form->version = version;
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 8;
		crm__form **forms = crm__realloc(c->forms, (size_t)cap * sizeof *forms);
		if (!forms) {
			crm__form_release(form);
			return crm__error_oom(db);
		}
		c->forms = forms;
		c->cap = cap;
	}
	c->forms[c->n++] = form;
	*out = form;
	return CRM_OK;
}

int crm__form_check_current(crm_db *db, const crm__form *form)
{
	crm__buf members = CRM__BUF_INIT;
	crm__form *now;
	int rc = crm__form_lookup(db, form->name, &now);
	int64_t current = rc == CRM_OK ? now->version : 0;

	if (rc == CRM_OK && current == form->version)
		return CRM_OK;
	if (rc != CRM_OK && rc != CRM_ENOTFOUND)
		return rc;
	crm__buf_puts(&members, "\"form\":");
	crm__json_cstr(&members, form->name);
	crm__buf_printf(&members, ",\"version\":%lld,\"current\":%lld", (long long)form->version, (long long)current);
	rc = members.oom ? crm__error_oom(db)
			 : crm__error_detail(db, CRM_ECONFLICT, crm__buf_cstr(&members),
					     "form '%s' changed (definition version %lld, now %lld) after this cursor "
					     "was opened; run it again",
					     form->name, (long long)form->version, (long long)current);
	crm__buf_free(&members);
	return rc;
}

static void *regex_malloc(PCRE2_SIZE n, void *data)
{
	(void)data;
	return crm__malloc(n);
}

static void regex_free(void *p, void *data)
{
	(void)data;
	crm__free(p);
}

static pcre2_general_context *regex_general(form_cache *c)
{
	if (c && !c->gctx)
		c->gctx = pcre2_general_context_create(regex_malloc, regex_free, NULL);
	return c ? c->gctx : NULL;
}

pcre2_compile_context *crm__regex_compile_context(crm_db *db)
{
	form_cache *c = cache_of(db);
	pcre2_general_context *g = regex_general(c);

	if (g && !c->cctx)
		c->cctx = pcre2_compile_context_create(g);
	return g ? c->cctx : NULL;
}

/* A JIT stack of JIT_STACK_PER_DEPTH bytes per unit of the depth limit, so
 * the limit binds JIT matching too (NULL without JIT support: the
 * interpreter then applies the depth limit itself). 0 or -1 (out of memory). */
static int jit_stack_for(form_cache *c, int64_t depth)
{
	uint32_t jit = 0;
	size_t max;

	pcre2_jit_stack_assign(c->mctx, NULL, NULL);
	pcre2_jit_stack_free(c->jit_stack);
	c->jit_stack = NULL;
	if (pcre2_config(PCRE2_CONFIG_JIT, &jit) < 0 || !jit)
		return 0;
	/* The stack is reserved up front (mmap): a limit raised to "no limit"
	 * must not make every match fail to get its stack. */
	max = depth > (int64_t)(JIT_STACK_MAX / JIT_STACK_PER_DEPTH) ? JIT_STACK_MAX
								   : (size_t)(depth > 0 ? depth : 1) * JIT_STACK_PER_DEPTH;
	if (!(c->jit_stack = pcre2_jit_stack_create(max < 32768 ? max : 32768, max, c->gctx)))
		return -1;
	pcre2_jit_stack_assign(c->mctx, NULL, c->jit_stack);
	return 0;
}

pcre2_match_context *crm__regex_context(crm_db *db)
{
	form_cache *c = cache_of(db);
	pcre2_general_context *g = regex_general(c);
	int64_t match = db->limits[CRM_LIMIT_REGEX_MATCH], depth = db->limits[CRM_LIMIT_REGEX_DEPTH];

	if (!g)
		return NULL;
	if (!c->mctx) {
		if (!(c->mctx = pcre2_match_context_create(g)))
			return NULL;
		c->mctx_limits[1] = -1; /* no limits set yet */
	}
	if (c->mctx_limits[0] != match || c->mctx_limits[1] != depth) {
		pcre2_set_match_limit(c->mctx, (uint32_t)(match > UINT32_MAX ? UINT32_MAX : match));
		pcre2_set_depth_limit(c->mctx, (uint32_t)(depth > UINT32_MAX ? UINT32_MAX : depth));
		/* The heap limit (KiB) bounds backtracking memory the depth limit does not. */
		pcre2_set_heap_limit(c->mctx, 20000);
		if (jit_stack_for(c, depth))
			return NULL;
		c->mctx_limits[0] = match;
		c->mctx_limits[1] = depth;
	}
	return c->mctx;
}

pcre2_match_data *crm__regex_match_data(crm_db *db)
{
	form_cache *c = cache_of(db);
	pcre2_general_context *g = regex_general(c);

	if (g && !c->md)
		c->md = pcre2_match_data_create(1, g);
	return g ? c->md : NULL;
}
