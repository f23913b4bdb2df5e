/* Internals of the access engine: the actor and the compiled rules. */
#ifndef CRM_ACCESS_INT_H
#define CRM_ACCESS_INT_H

#include "access.h"

/* A non-system actor (the handle's access slot; NULL is the system actor).
 * Values are kept as JSON, as rules substitute them into filters. */
typedef struct crm__actor {
	cJSON *user;  /* string, or NULL */
	cJSON *roles; /* array of strings */
	cJSON *attrs; /* object */
	int as_system; /* > 0: inside run_as system (crm__actor_system_begin) */
} crm__actor;

enum { CRM__MODE_WRITABLE = 0, CRM__MODE_READ_ONLY = 1, CRM__MODE_HIDDEN = 2 };

/* One entry of "permissions". */
typedef struct crm__access_rule {
	char **roles;  /* nroles 0: "*", every non-system actor */
	int nroles;
	unsigned ops;  /* 1 << crm__access_op */
	cJSON *rows;   /* the USING filter with "actor" operands; NULL: every row */
	cJSON *check;  /* the WITH CHECK filter; NULL: as rows */
	unsigned char *modes; /* per field position, then owner: CRM__MODE_* */
	char **events; /* events this rule lets the actor fire */
	int nevents;
	int any_event; /* "events": ["*"] */
} crm__access_rule;

struct crm__access_rules {
	crm__access_rule *rule;
	int n;
};

/* The actor's view of one form (crm__access_open). */
struct crm__access {
	crm_db *db;
	const crm__form *form;
	const crm__access_rules *rules;
	unsigned char *applies;  /* per rule: the actor takes it (roles and attributes) */
	crm__filter **rows;      /* per rule: its rows for this actor; NULL: every row */
	crm__filter **check;     /* per rule: its check; NULL: every row */
	unsigned char *readable; /* per field position, then owner */
	unsigned ops;            /* ops some applying rule grants */
};

/* Role names (role 1) and attribute names (0). */
int crm__access_valid_name(const char *s, int role);
/* The mode index of a column: field position, nfields for owner, -1 for
 * the system columns no rule can hide. */
int crm__access_mode_index(const crm__form *form, int column);
/* Parse rule filter `json` (rows or check) for the current actor, actor
 * values put in: *out NULL with *applies 0 when the actor lacks an
 * attribute it names or a value does not fit; visible conditions resolved
 * `depth` steps deep. */
int crm__access_rule_filter(crm_db *db, const crm__form *form, const cJSON *json, int depth, crm__filter **out,
			    int *applies);

/* Whether the rows of rule `i` hold on `row` (in memory; visible conditions
 * ask the database). */
int crm__access_rule_holds(crm_db *db, const crm__access *a, int i, const crm__row *row, int *out);
/* Whether record `id` of `form` satisfies the condition `cond` (SQL with
 * its `binds`): one "SELECT 1 ... WHERE id = ? AND cond". */
int crm__access_id_matches(crm_db *db, const crm__form *form, int64_t id, const crm__buf *cond, crm__binds *binds,
			   int *out);
/* crm__access_open for a form reached `depth` visible steps away (0: the form the call names). */
int crm__access_open_at(crm_db *db, const crm__form *form, int depth, crm__access **out);
/* Hide from view `a` the rollup fields the actor may not read (lib/access/rollup.c). */
int crm__access_rollups(crm_db *db, crm__access *a);

#endif
