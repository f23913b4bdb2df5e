/* Why the actor may or may not do something: the decision the engines
 * enforce for firing events, and crm_access_explain's account of any
 * verb, in the words of the rules ("allowed by rule 1 of role rep"). A
 * record the actor may not read is explained as a missing one. */
#include <stdio.h>
#include <string.h>

#include "access_int.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "crm/access.h"
#include "form/form_int.h"

typedef struct decision {
	int allowed;
	int code;      /* CRM_OK, CRM_EPERM or CRM_ENOTFOUND */
	char reason[640];
} decision;

/* "role rep": the first of the rule's roles the actor holds. */
static const char *role_of(crm_db *db, const crm__access_rule *r)
{
	for (int i = 0; i < r->nroles; i++)
		if (crm__actor_has_role(db, r->roles[i]))
			return r->roles[i];
	return "*";
}

static void actor_roles(crm_db *db, char *out, size_t size)
{
	snprintf(out, size, "[%s]", db->actor_roles ? db->actor_roles : "");
}

/* Whether rule i grants `op` (event NULL) or fires `event`. */
static int rule_grants(const crm__access *a, int i, crm__access_op op, const char *event)
{
	const crm__access_rule *r = &a->rules->rule[i];

	if (!a->applies[i])
		return 0;
	if (!event)
		return (r->ops & (1u << op)) != 0;
	if (r->any_event)
		return 1;
	for (int j = 0; j < r->nevents; j++)
		if (strcmp(r->events[j], event) == 0)
			return 1;
	return 0;
}

/* Decide `op` (or firing `event`) on `row` (NULL: the form as a whole). */
static int decide(crm_db *db, const crm__access *a, crm__access_op op, const char *event, int64_t id,
		  const crm__row *row, decision *d)
{
	char roles[256], what[96];
	int rc, ok, reached = -1;

	memset(d, 0, sizeof *d);
	d->code = CRM_EPERM;
	if (event)
		snprintf(what, sizeof what, "event %.64s", event);
	else
		snprintf(what, sizeof what, "%s", crm__access_op_name(op));
	if (row && (op != CRM__ACCESS_READ || event)) {
		if ((rc = crm__access_row_readable(db, a, row, &ok)))
			return rc;
		if (!ok) {
			d->code = CRM_ENOTFOUND;
			snprintf(d->reason, sizeof d->reason, "denied: no %s record with id %lld", a->form->name,
				 (long long)id);
			return CRM_OK;
		}
	}
	for (int i = 0; i < a->rules->n; i++) {
		if (!rule_grants(a, i, op, event))
			continue;
		ok = 1;
		if (row && (rc = crm__access_rule_holds(db, a, i, row, &ok)))
			return rc;
		if (ok) {
			d->allowed = 1;
			d->code = CRM_OK;
			snprintf(d->reason, sizeof d->reason, "allowed by rule %d of role %s", i + 1,
				 role_of(db, &a->rules->rule[i]));
			return CRM_OK;
		}
		if (reached < 0)
			reached = i;
	}
	if (reached >= 0)
		snprintf(d->reason, sizeof d->reason, "denied by the rows of rule %d of role %s", reached + 1,
			 role_of(db, &a->rules->rule[reached]));
	else {
		actor_roles(db, roles, sizeof roles);
		snprintf(d->reason, sizeof d->reason, "denied: no rule of roles %s grants %s on %s", roles, what,
			 a->form->name);
	}
	if (row && op == CRM__ACCESS_READ && !event) {
		/* unreadable: the same answer as a missing record */
		d->code = CRM_ENOTFOUND;
		snprintf(d->reason, sizeof d->reason, "denied: no %s record with id %lld", a->form->name, (long long)id);
	}
	return CRM_OK;
}

/* Load record `id` into `cur`/`row` (sys in row->sys). CRM_ENOTFOUND when absent. */
static int load(crm_db *db, crm__form *form, int64_t id, crm__record *cur, crm__row *row)
{
	int rc = crm__record_load(db, form, id, cur, row->sys);

	row->fields = cur->values;
	return rc;
}

int crm__access_may_fire(crm_db *db, crm__form *form, int64_t id, const char *event)
{
	crm__access *a = NULL;
	crm__record cur;
	crm__row row;
	decision d;
	int rc;

	if ((rc = crm__access_open(db, form, &a)) || !a)
		return rc;
	crm__record_init(&cur);
	if ((rc = load(db, form, id, &cur, &row)) == CRM_OK && (rc = decide(db, a, CRM__ACCESS_UPDATE, event, id, &row, &d)) == CRM_OK &&
	    !d.allowed)
		rc = d.code == CRM_ENOTFOUND ? crm__record_missing(db, form, id)
					     : crm__error(db, CRM_EPERM, "%s", d.reason);
	crm__record_free(&cur);
	crm__access_free(a);
	return rc;
}

/* The rules that apply to the actor, as JSON: [{"rule":N,"roles":[...],"allow":[...],"events":[...]}]. */
static void rules_json(const crm__access *a, crm__buf *b)
{
	crm__buf_putc(b, '[');
	for (int i = 0, n = 0; a && i < a->rules->n; i++) {
		const crm__access_rule *r = &a->rules->rule[i];
		if (!a->applies[i])
			continue;
		crm__buf_printf(b, "%s{\"rule\":%d,\"roles\":", n++ ? "," : "", i + 1);
		if (!r->nroles)
			crm__buf_puts(b, "\"*\"");
		for (int j = 0; j < r->nroles; j++) {
			crm__buf_putc(b, j ? ',' : '[');
			crm__json_cstr(b, r->roles[j]);
		}
		crm__buf_puts(b, r->nroles ? "],\"allow\":[" : ",\"allow\":[");
		for (int op = 0, k = 0; op < CRM__ACCESS_OPS_; op++)
			if (r->ops & (1u << op))
				crm__buf_printf(b, "%s\"%s\"", k++ ? "," : "", crm__access_op_name((crm__access_op)op));
		crm__buf_puts(b, "],\"events\":[");
		if (r->any_event)
			crm__buf_puts(b, "\"*\"");
		for (int j = 0; j < r->nevents; j++) {
			if (j || r->any_event)
				crm__buf_putc(b, ',');
			crm__json_cstr(b, r->events[j]);
		}
		crm__buf_puts(b, "]}");
	}
	crm__buf_putc(b, ']');
}

static int parse_verb(const char *verb, crm__access_op *op, const char **event)
{
	*event = NULL;
	if (strncmp(verb, "fire:", 5) == 0 && verb[5]) {
		*event = verb + 5;
		*op = CRM__ACCESS_UPDATE;
		return 0;
	}
	for (int i = 0; i < CRM__ACCESS_OPS_; i++)
		if (strcmp(verb, crm__access_op_name((crm__access_op)i)) == 0) {
			*op = (crm__access_op)i;
			return 0;
		}
	return -1;
}

int crm_access_explain(crm_db *db, const char *verb, const char *form_name, int64_t id, char **out)
{
	crm__buf b = CRM__BUF_INIT;
	crm__access *a = NULL;
	crm__form *form;
	crm__record cur;
	crm__row row;
	crm__access_op op;
	const char *event;
	decision d;
	int rc;

	if ((rc = crm__enter_out(db, out)))
		return rc;
	if (!verb || !form_name || id < 0)
		return crm__error(db, CRM_EMISUSE, "crm_access_explain needs a verb, a form and an id >= 0");
	if (parse_verb(verb, &op, &event))
		return crm__error(db, CRM_EINVAL, "unknown verb '%.64s' (read, create, update, delete or fire:EVENT)", verb);
	if ((rc = crm__form_lookup(db, form_name, &form)) || (rc = crm__access_open(db, form, &a)))
		return rc;
	crm__record_init(&cur);
	memset(&d, 0, sizeof d);
	d.allowed = 1;
	if (!a)
		snprintf(d.reason, sizeof d.reason, crm__actor_is_system(db) ? "allowed: the system actor"
									   : "allowed: form %s has no permissions",
			 form->name);
	if (id > 0 && op != CRM__ACCESS_CREATE) {
		rc = load(db, form, id, &cur, &row);
		if (rc == CRM_ENOTFOUND) {
			d.allowed = 0;
			d.code = CRM_ENOTFOUND;
			snprintf(d.reason, sizeof d.reason, "denied: no %s record with id %lld", form->name, (long long)id);
			rc = CRM_OK;
		} else if (rc == CRM_OK && a)
			rc = decide(db, a, op, event, id, &row, &d);
	} else if (a)
		rc = decide(db, a, op, event, 0, NULL, &d);
	if (rc == CRM_OK) {
		crm__buf_printf(&b, "{\"allowed\":%s,\"reason\":", d.allowed ? "true" : "false");
		crm__json_cstr(&b, d.reason);
		crm__buf_puts(&b, ",\"rules\":");
		/* a missing record: nothing about the rules that would decide it */
		if (d.allowed || d.code != CRM_ENOTFOUND)
			rules_json(a, &b);
		else
			crm__buf_puts(&b, "[]");
		crm__buf_putc(&b, '}');
		if (b.oom)
			rc = crm__error_oom(db);
		else
			*out = crm__buf_detach(&b);
	}
	crm__buf_free(&b);
	crm__record_free(&cur);
	crm__access_free(a);
	return rc;
}
