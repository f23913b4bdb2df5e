/*
 * The calls of the database handle and its records: metadata, actor,
 * transactions, clock, limits, single-record writes and counts.
 */
#include <stdlib.h>
#include <string.h>

#include "addon.h"

static int apply(crm_db *db, ncall *a)
{
	crm_apply_options o = CRM_APPLY_OPTIONS_INIT;
	o.flags = (unsigned int)a->i[0];
	return crm_apply_v2(db, a->s[0], &o, &a->out);
}

static int apply_plan(crm_db *db, ncall *a)
{
	crm_apply_options o = CRM_APPLY_OPTIONS_INIT;
	o.flags = (unsigned int)a->i[0];
	return crm_apply_plan(db, a->s[0], &o, &a->out);
}

static int form_get(crm_db *db, ncall *a) { return crm_form_get(db, a->s[0], &a->out); }
static int form_list(crm_db *db, ncall *a) { return crm_form_list(db, &a->out); }
static int form_check(crm_db *db, ncall *a) { return crm_form_check(db, a->s[0], &a->out); }
static int actor_set(crm_db *db, ncall *a) { return crm_actor_set_json(db, a->s[0]); }
static int actor_get(crm_db *db, ncall *a) { return crm_actor_json(db, &a->out); }
static int access_explain(crm_db *db, ncall *a) { return crm_access_explain(db, a->s[0], a->s[1], a->i[0], &a->out); }
static int begin(crm_db *db, ncall *a) { return crm_begin(db); }
static int commit(crm_db *db, ncall *a) { return crm_commit(db); }
static int rollback(crm_db *db, ncall *a) { return crm_rollback(db); }
static int clock_set(crm_db *db, ncall *a) { return crm_clock_set(db, a->i[0]); }
static int clock_system(crm_db *db, ncall *a) { return crm_clock_set_fn(db, NULL, NULL); }

static int now(crm_db *db, ncall *a)
{
	a->out_i = crm_now(db);
	return CRM_OK;
}

/* lib/index.js maps the names; an id libcrm does not know answers -1 */
static int limit(crm_db *db, ncall *a)
{
	a->out_i = a->i[0] < 0 || a->i[0] >= CRM_LIMIT_COUNT_ ? -1 : crm_limit(db, (crm_limit_id)a->i[0], a->i[1]);
	return CRM_OK;
}

/* borrowed text copied, so it survives the handle's next call */
static int warnings(crm_db *db, ncall *a)
{
	const char *w = crm_warnings(db);
	a->out = malloc(strlen(w) + 1);
	if (!a->out)
		return CRM_ENOMEM;
	memcpy(a->out, w, strlen(w) + 1);
	return CRM_OK;
}

static int insert(crm_db *db, ncall *a) { return crm_record_insert(db, a->s[0], a->s[1], &a->out_i); }
static int update(crm_db *db, ncall *a) { return crm_record_update(db, a->s[0], a->i[0], a->s[1], a->i[1]); }
static int delete(crm_db *db, ncall *a) { return crm_record_delete(db, a->s[0], a->i[0], a->i[1]); }
static int upsert(crm_db *db, ncall *a) { return crm_record_upsert(db, a->s[0], a->s[1], a->s[2], &a->out_i, &a->out_flag); }
static int record_get(crm_db *db, ncall *a) { return crm_record_get(db, a->s[0], a->i[0], &a->out); }
static int count(crm_db *db, ncall *a) { return crm_count(db, a->s[0], a->s[1], &a->out_i); }

const ncall_def ncalls_record[] = {
	{"apply", "ji", 'j', apply},
	{"applyPlan", "ji", 'j', apply_plan},
	{"formGet", "s", 'j', form_get},
	{"formList", "", 'j', form_list},
	{"formCheck", "S", 'j', form_check},
	{"actorSet", "j", 'v', actor_set},
	{"actorGet", "", 'j', actor_get},
	{"accessExplain", "ssi", 'j', access_explain},
	{"begin", "", 'v', begin},
	{"commit", "", 'v', commit},
	{"rollback", "", 'v', rollback},
	{"clockSet", "i", 'v', clock_set},
	{"clockSystem", "", 'v', clock_system},
	{"now", "", 'i', now},
	{"limit", "ii", 'i', limit},
	{"warnings", "", 'j', warnings},
	{"insert", "sj", 'i', insert},
	{"update", "siji", 'v', update},
	{"delete", "sii", 'v', delete},
	{"upsert", "ssj", 'p', upsert},
	{"recordGetJson", "si", 'j', record_get},
	{"count", "sj", 'i', count},
	{NULL, NULL, 0, NULL},
};
