/* Deletes on the write path: the record and everything its referrers'
 * on_delete rules take with it. The deletion is planned first, with a
 * worklist and a visited set, so reference cycles and trees of any depth
 * need no recursion; then every change goes through the write path, so
 * each cleared or deleted record runs its hooks (rollups, workflows). */
#include <string.h>

#include "access/access.h"
#include "core/alloc.h"
#include "form_int.h"
#include "store/ddl.h"

/* A ref field of `form` that points at a target's form. */
typedef struct ref_in {
	crm__form *form;
	const crm__field *field;
} ref_in;

/* A form some record of the plan belongs to, with the fields that point at it. */
typedef struct target {
	crm__form *form;
	ref_in *in;
	int nin;
} target;

typedef struct item {
	int target;
	int64_t id;
} item;

/* A referrer found on the way whose rule is not cascade: cleared or, for
 * restrict, refused, unless the plan deletes it anyway. */
typedef struct pending {
	const ref_in *ref;
	int64_t id;  /* the referrer */
	size_t item; /* the record it points at */
} pending;

typedef struct plan {
	target *targets;
	int ntargets, captargets;
	item *items; /* in the order found: a record comes before its referrers */
	size_t nitems, capitems;
	uint32_t *slots; /* open addressing over items: index + 1, 0 empty */
	size_t capslots;
	pending *pend;
	size_t npend, cappend;
} plan;

static void plan_free(plan *p)
{
	for (int i = 0; i < p->ntargets; i++)
		crm__free(p->targets[i].in);
	crm__free(p->targets);
	crm__free(p->items);
	crm__free(p->slots);
	crm__free(p->pend);
}

/* Grow the array `*arrp` points at (of `size`-byte elements) to hold one
 * more than `n`. Through memcpy: the pointer may be of any object type. */
static int grow(void *arrp, size_t n, size_t *cap, size_t size)
{
	void *arr, *bigger;

	if (n < *cap)
		return 0;
	memcpy(&arr, arrp, sizeof arr);
	if (!(bigger = crm__realloc(arr, (*cap ? *cap * 2 : 16) * size)))
		return -1;
	memcpy(arrp, &bigger, sizeof bigger);
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

static size_t slot_of(const plan *p, int t, int64_t id)
{
	uint64_t h = ((uint64_t)id * 0x9E3779B97F4A7C15u) ^ (uint64_t)t * 0xC2B2AE3D27D4EB4Fu;

	return (size_t)(h ^ (h >> 29)) & (p->capslots - 1);
}

/* The slot holding (t, id), or the empty slot where it would go. */
static size_t find_slot(const plan *p, int t, int64_t id)
{
	size_t s = slot_of(p, t, id);

	while (p->slots[s]) {
		const item *it = &p->items[p->slots[s] - 1];
		if (it->target == t && it->id == id)
			break;
		s = (s + 1) & (p->capslots - 1);
	}
	return s;
}

static int planned(const plan *p, int t, int64_t id)
{
	return t >= 0 && p->slots[find_slot(p, t, id)] != 0;
}

static int rehash(plan *p)
{
	size_t cap = p->capslots ? p->capslots * 2 : 64;
	uint32_t *slots = crm__calloc(cap, sizeof *slots);

	if (!slots)
		return -1;
	crm__free(p->slots);
	p->slots = slots;
	p->capslots = cap;
	for (size_t i = 0; i < p->nitems; i++)
		p->slots[find_slot(p, p->items[i].target, p->items[i].id)] = (uint32_t)(i + 1);
	return 0;
}

/* The target for `form` (found by name: a batch may hold an older copy). */
static int target_index(const plan *p, const crm__form *form)
{
	for (int i = 0; i < p->ntargets; i++)
		if (p->targets[i].form == form || strcmp(p->targets[i].form->name, form->name) == 0)
			return i;
	return -1;
}

/* Every ref field, in every form, that points at `t`'s form. */
static int find_referring_fields(crm_db *db, target *t)
{
	crm__stmt *names = crm__stmt_take(db, "SELECT DISTINCT name FROM crm_meta WHERE kind='form' ORDER BY name",
					     (size_t)-1);
	size_t cap = 0, n = 0;
	int rc = CRM_OK, src;

	if (!names)
		return db->errcode;
	while (rc == CRM_OK && (src = crm__step(names)) == CRM_ROW) {
		crm__form *other;

		if ((rc = crm__form_lookup(db, crm__column_text(names, 0), &other)))
			break;
		for (int i = 0; i < other->nfields && rc == CRM_OK; i++) {
			const crm__field *f = &other->fields[i];
			if (f->type != CRM_TYPE_REF || strcmp(f->ref_form, t->form->name) != 0)
				continue;
			if (grow(&t->in, n, &cap, sizeof *t->in))
				rc = crm__error_oom(db);
			else
				t->in[n++] = (ref_in){ other, f };
		}
	}
	t->nin = (int)n;
	if (rc == CRM_OK && src != CRM_DONE)
		rc = src;
	crm__stmt_give(db, names);
	return rc;
}

static int target_add(crm_db *db, plan *p, crm__form *form, int *out)
{
	size_t cap = (size_t)p->captargets;

	if ((*out = target_index(p, form)) >= 0)
		return CRM_OK;
	if (grow(&p->targets, (size_t)p->ntargets, &cap, sizeof *p->targets))
		return crm__error_oom(db);
	p->captargets = (int)cap;
	p->targets[p->ntargets] = (target){ .form = form };
	/* counted even on failure, so plan_free frees its list */
	*out = p->ntargets++;
	return find_referring_fields(db, &p->targets[*out]);
}

/* Add (form, id) to the plan unless it is there already. */
static int item_add(crm_db *db, plan *p, crm__form *form, int64_t id)
{
	int t, rc;

	if ((rc = target_add(db, p, form, &t)))
		return rc;
	if (p->capslots && planned(p, t, id))
		return CRM_OK;
	if (p->nitems >= UINT32_MAX - 1)
		return crm__error(db, CRM_ELIMIT, "deleting %s record %lld would delete more than %lu records",
				  p->targets[0].form->name, (long long)p->items[0].id, (unsigned long)UINT32_MAX - 1);
	if (grow(&p->items, p->nitems, &p->capitems, sizeof *p->items) ||
	    ((p->nitems + 1) * 2 > p->capslots && rehash(p)))
		return crm__error_oom(db);
	p->items[p->nitems] = (item){ t, id };
	p->slots[find_slot(p, t, id)] = (uint32_t)(p->nitems + 1);
	p->nitems++;
	return CRM_OK;
}

/* Ids of the records of `r->form` whose field points at `id`. */
static int referrers(crm_db *db, const ref_in *r, int64_t id, int64_t **ids, size_t *n)
{
	crm__buf sql = CRM__BUF_INIT;
	crm__stmt *st;
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	crm__sql_find(db, &sql, r->form, &r->field->position, 1, 0, " ORDER BY id");
	st = crm__stmt_take_buf(db, &sql);
	if (!st)
		return db->errcode;
	crm__bind_null(st, 1);
	crm__bind_int64(st, 2, id);
	while ((rc = crm__step(st)) == CRM_ROW) {
		if (grow(ids, *n, &cap, sizeof **ids)) {
			crm__stmt_give(db, st);
			return crm__error_oom(db);
		}
		(*ids)[(*n)++] = crm__column_int64(st, 0);
	}
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

/* Everything deleting p->items[0] takes with it: cascades become items,
 * the other rules pending checks. Breadth first, each record once. */
static int collect(crm_db *db, plan *p)
{
	int rc = CRM_OK;

	for (size_t k = 0; k < p->nitems && rc == CRM_OK; k++) {
		const target *t = &p->targets[p->items[k].target];
		int64_t id = p->items[k].id;

		/* A cascaded record is held before its referrers are looked for,
		 * as the first one is (crm__record_delete): a reference written
		 * beside the delete holds it (lock_key_share) and is then seen. */
		if (k > 0 && (rc = crm__record_lock(db, t->form->name, id, db->be->dialect->lock_update, NULL)))
			break;
		for (int i = 0; i < t->nin && rc == CRM_OK; i++) {
			const ref_in *r = &t->in[i];
			int64_t *ids;
			size_t n;

			if ((rc = referrers(db, r, id, &ids, &n)))
				break;
			for (size_t j = 0; j < n && rc == CRM_OK; j++) {
				if (r->field->on_delete == CRM__ON_DELETE_CASCADE)
					rc = item_add(db, p, r->form, ids[j]);
				else if (grow(&p->pend, p->npend, &p->cappend, sizeof *p->pend))
					rc = crm__error_oom(db);
				else
					p->pend[p->npend++] = (pending){ r, ids[j], k };
			}
			crm__free(ids);
			/* item_add may have moved the targets */
			t = &p->targets[p->items[k].target];
		}
	}
	return rc;
}

static int survives(const plan *p, const pending *q)
{
	return !planned(p, target_index(p, q->ref->form), q->id);
}

/* A restrict from a record the delete leaves in place refuses it all. A
 * referrer the actor may not read is not named (it runs as the system
 * here: the actor is asked for by the user it names). */
static int check_restricts(crm_db *db, int actor_saved, const plan *p, crm__errors *errs)
{
	for (size_t k = 0; k < p->npend; k++) {
		const pending *q = &p->pend[k];
		const item *it = &p->items[q->item];
		crm__access *a = NULL;
		int rc, seen = 1;

		if (q->ref->field->on_delete != CRM__ON_DELETE_RESTRICT || !survives(p, q))
			continue;
		crm__actor_system_end(db, actor_saved);
		rc = crm__access_open(db, q->ref->form, &a);
		if (rc == CRM_OK && a)
			rc = crm__access_row(db, a, CRM__ACCESS_READ, q->ref->form, q->id, &seen);
		crm__access_free(a);
		crm__actor_system_begin(db);
		if (rc)
			return rc;
		if (seen)
			crm__errors_add(errs, q->ref->field->name, "referenced", "%s record %lld is referenced by %s record %lld",
					p->targets[it->target].form->name, (long long)it->id, q->ref->form->name,
					(long long)q->id);
		else
			crm__errors_add(errs, q->ref->field->name, "referenced", "%s record %lld is referenced by a %s record",
					p->targets[it->target].form->name, (long long)it->id, q->ref->form->name);
		return CRM_ECONSTRAINT;
	}
	return CRM_OK;
}

/* set_null on the referrers that stay: an update through the write path. */
static int clear_references(crm_db *db, const plan *p, crm__errors *errs)
{
	int rc = CRM_OK;

	for (size_t k = 0; k < p->npend && rc == CRM_OK; k++) {
		const pending *q = &p->pend[k];
		crm__record change;
		crm__write cw = { .op = CRM__WRITE_UPDATE, .form = q->ref->form, .id = q->id, .rec = &change,
				  .errs = errs };

		if (q->ref->field->on_delete != CRM__ON_DELETE_SET_NULL || !survives(p, q))
			continue;
		crm__record_init(&change);
		if (crm__record_reset(&change, q->ref->form))
			rc = crm__error_oom(db);
		else {
			change.given[q->ref->field->position] = 1; /* value stays null */
			rc = crm__record_write(db, &cw);
		}
		crm__record_free(&change);
	}
	return rc;
}

/* Delete one record's row and run the hooks. A cascaded record that a hook
 * already deleted is skipped. */
static int delete_row(crm_db *db, crm__form *form, int64_t id, int cascaded, crm__errors *errs)
{
	crm__write w = { .op = CRM__WRITE_DELETE, .form = form, .id = id, .errs = errs };
	crm__buf sql = CRM__BUF_INIT;
	crm__record cur;
	crm__value sys[5];
	crm__stmt *st;
	int rc;

	crm__record_init(&cur);
	rc = crm__record_load(db, form, id, &cur, sys);
	if (rc == CRM_ENOTFOUND && cascaded) {
		db->errcode = CRM_OK; /* nothing left to delete: not an error */
		rc = CRM_OK;
		goto done;
	}
	if (rc)
		goto done;
	crm__sql_delete(&sql, form);
	if (sql.oom) {
		rc = crm__error_oom(db);
		goto done;
	}
	if (!(st = crm__stmt_take(db, sql.p, sql.len))) {
		rc = db->errcode;
		goto done;
	}
	crm__bind_int64(st, 1, id);
	rc = crm__step(st);
	crm__stmt_give(db, st);
	if (rc == CRM_DONE)
		rc = crm__hooks.after_write ? crm__hooks.after_write(db, &w, cur.values, NULL) : CRM_OK;
done:
	crm__buf_free(&sql);
	crm__record_free(&cur);
	return rc;
}

int crm__record_delete(crm_db *db, crm__write *w)
{
	plan p = { 0 };
	crm__record cur;
	crm__value sys[5];
	int rc, sys_saved;

	crm__record_init(&cur);
	/* Held to the end: its version, and no new reference to it beside us. */
	rc = crm__record_load_locked(db, w->form, w->id, &cur, sys, db->be->dialect->lock_update);
	/* Before the version: a record the actor may not read has none. */
	if (rc == CRM_OK && w->access) {
		unsigned char cand[CRM__ACCESS_MAX_RULES];
		crm__row row = { .fields = cur.values };
		crm__access_change c = { .id = w->id, .old = &row };
		memcpy(row.sys, sys, sizeof sys);
		if ((rc = crm__access_write_begin(db, w->access, CRM__ACCESS_DELETE, &c, cand)))
			w->denied = rc == CRM_EPERM || rc == CRM_ENOTFOUND;
	}
	crm__record_free(&cur);
	if (rc)
		return rc;
	if (w->expected_version > 0 && sys[4].i != w->expected_version)
		return crm__error(db, CRM_ECONFLICT, "%s record %lld is at version %lld, not %lld", w->form->name,
				  (long long)w->id, (long long)sys[4].i, (long long)w->expected_version);
	/* The definition's on_delete rules keep the data whole whoever deletes:
	 * cascades and set_null reach referrers the actor cannot see, as
	 * PostgreSQL's foreign keys bypass row security (docs/access.md). */
	sys_saved = crm__actor_system_begin(db);
	if ((rc = item_add(db, &p, w->form, w->id)) == CRM_OK && (rc = collect(db, &p)) == CRM_OK &&
	    (rc = check_restricts(db, sys_saved, &p, w->errs)) == CRM_OK)
		rc = clear_references(db, &p, w->errs);
	/* Referrers before what they refer to, as a tree is taken down. */
	for (size_t k = p.nitems; k-- > 1 && rc == CRM_OK;)
		rc = delete_row(db, p.targets[p.items[k].target].form, p.items[k].id, 1, w->errs);
	crm__actor_system_end(db, sys_saved);
	/* The record itself as the actor: its hooks act for them. */
	if (rc == CRM_OK)
		rc = delete_row(db, w->form, w->id, 0, w->errs);
	plan_free(&p);
	return rc;
}
