/* The public workflow API: starting, firing, listing what a record's
 * instances allow, their history, and migrating instances to a new version. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "workflow_int.h"

int crm_workflow_start(crm_db *db, const char *workflow, int64_t record, int64_t *out_instance)
{
	crm__workflow *wf;
	crm__record rec;
	int rc;

	if (!db || !workflow)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)) || (rc = crm__workflow_lookup(db, workflow, 0, &wf)))
		return rc;
	if (wf->form && record <= 0)
		return crm__error(db, CRM_EINVAL, "workflow %s runs on %s records: give a record id", wf->name, wf->form_name);
	if (!wf->form && record)
		return crm__error(db, CRM_EINVAL, "workflow %s is free-standing: give record 0", wf->name);
	if (wf->form) { /* the record must exist, and be the actor's to read */
		int hidden;
		crm__record_init(&rec);
		rc = crm__record_load(db, wf->form, record, &rec, NULL);
		crm__record_free(&rec);
		if (rc == CRM_OK && (rc = crm__wf_record_hidden(db, wf->form_name, record, &hidden)) == CRM_OK && hidden)
			rc = crm__record_missing(db, wf->form, record);
		if (rc)
			return rc;
	}
	crm__workflow_retain(wf);
	rc = crm__wf_start(db, wf, record, out_instance);
	crm__workflow_release(wf);
	return rc;
}

/* *out: whether instance *inst (read again first when `reload`) allows
 * `event` now. The events it does allow are added to `allowed` ("wf in
 * state allows a, b; "), unless it is NULL (only a message needs them). */
static int allows(crm_db *db, int reload, const char *event, int *out, crm__buf *allowed, crm__wf_instance *inst)
{
	crm__workflow *wf;
	int rc, s, listed = 0;

	*out = 0;
	if ((reload && (rc = crm__wf_instance_load(db, inst->id, inst))) ||
	    (rc = crm__workflow_lookup(db, inst->workflow, inst->version, &wf)))
		return rc;
	s = crm__wf_state_index(wf, inst->state);
	if (allowed)
		crm__buf_printf(allowed, "%s%s in %s allows ", allowed->len ? "; " : "", wf->name, inst->state);
	for (int i = 0; i < wf->ntransitions; i++) {
		const crm__wf_transition *t = &wf->transitions[i];
		int from = crm__wf_from_matches(t, s), seen = 0;
		if (!from || !t->event)
			continue;
		*out |= strcmp(t->event, event) == 0;
		if (!allowed)
			continue;
		for (int k = 0; k < i && !seen; k++) /* an event listed once, however many transitions share it */
			seen = wf->transitions[k].event && strcmp(wf->transitions[k].event, t->event) == 0 &&
			       (wf->transitions[k].from_any || crm__wf_from_matches(&wf->transitions[k], s));
		if (!seen)
			crm__buf_printf(allowed, "%s%s", listed++ ? ", " : "", t->event);
	}
	if (!allowed)
		return CRM_OK;
	if (!listed)
		crm__buf_puts(allowed, "nothing");
	/* The list serves only a message, but a failed allocation is never absorbed. */
	return allowed->oom ? crm__error_oom(db) : CRM_OK;
}

int crm_workflow_fire(crm_db *db, const char *form, int64_t record, const char *event, const char *fields)
{
	crm__buf allowed = CRM__BUF_INIT;
	crm__wf_instance *insts = NULL;
	crm__wf_record rec;
	int n = 0, rc, fired = 0, hidden;

	if (!db || !form || !event)
		return CRM_EMISUSE;
	if ((rc = crm__enter_deferred(db)) || (rc = crm__tx_begin(db)))
		return rc;
	/* A record the actor may not read is a missing one, whatever it runs. */
	if ((rc = crm__wf_record_hidden(db, form, record, &hidden)) == CRM_OK && hidden) {
		crm__form *f;
		if ((rc = crm__form_lookup(db, form, &f)) == CRM_OK)
			rc = crm__record_missing(db, f, record);
	}
	crm__wf_record_init(&rec);
	if (rc == CRM_OK)
		rc = crm__wf_instance_rows(db, form, record, &insts, &n, &rec);
	for (int i = 0; i < n && rc == CRM_OK; i++) {
		int ok;
		/* A transition fired may have changed the instances listed after it. */
		if ((rc = allows(db, fired > 0, event, &ok, NULL, &insts[i])) || !ok)
			continue;
		/* The fields are written once, with the first instance's transition. */
		rc = crm__wf_fire_loaded(db, &insts[i], &rec, event, fired ? NULL : fields, NULL);
		fired++;
	}
	if (rc == CRM_OK && !fired && n == 0) {
		crm__form *f;
		/* the record was read with its instances: there is one */
		if ((rc = crm__form_lookup(db, form, &f)) == CRM_OK)
			rc = crm__error(db, CRM_EINVAL, "%s record %lld runs no workflow", form, (long long)record);
	} else if (rc == CRM_OK && !fired && n == 1)
		rc = crm__wf_fire(db, insts[0].id, event, NULL, NULL); /* the instance explains itself */
	else if (rc == CRM_OK && !fired) {
		int ok;
		for (int i = 0; i < n && rc == CRM_OK; i++) /* nothing fired: the instances as read */
			rc = allows(db, 0, event, &ok, &allowed, &insts[i]);
		if (rc == CRM_OK)
			rc = crm__error(db, CRM_EINVAL, "no workflow of %s record %lld allows '%s' now (%s)", form,
					(long long)record, event, crm__buf_cstr(&allowed));
	}
	crm__buf_free(&allowed);
	crm__free(insts);
	crm__wf_record_free(&rec);
	return crm__tx_end(db, rc);
}

int crm_workflow_fire_instance(crm_db *db, int64_t instance, const char *event, const char *fields)
{
	int rc;

	if (!db || !event)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)) || (rc = crm__wf_instance_visible(db, instance)))
		return rc;
	return crm__wf_fire(db, instance, event, fields, NULL);
}

/* Run `sql` (binding form and record) and write each row as a JSON object
 * whose keys are the first `ncols` of `names` (a leading '#' marks an
 * integer, '@' a time, '$' raw JSON text). */
static int rows_json(crm_db *db, const char *sql, const char *form, int64_t record, const char *const *names,
		     int ncols, char **out)
{
	crm__buf json = CRM__BUF_INIT;
	crm__stmt *st;
	char iso[32];
	int rc, n = 0;

	*out = NULL;
	if ((rc = crm__wf_schema(db)))
		return rc;
	if (!(st = crm__stmt_take(db, sql, (size_t)-1)))
		return db->errcode;
	crm__bind_text(st, 1, form, -1);
	crm__bind_int64(st, 2, record);
	crm__buf_putc(&json, '[');
	while ((rc = crm__step(st)) == CRM_ROW) {
		crm__buf_puts(&json, n++ ? ",{" : "{");
		for (int c = 0; c < ncols; c++) {
			const char *name = names[c] + (names[c][0] == '#' || names[c][0] == '@' || names[c][0] == '$');
			if (c)
				crm__buf_putc(&json, ',');
			crm__json_cstr(&json, name);
			crm__buf_putc(&json, ':');
			if (crm__column_type(st, c) == CRM__SQL_NULL)
				crm__buf_puts(&json, "null");
			else if (names[c][0] == '#')
				crm__buf_i64(&json, crm__column_int64(st, c));
			else if (names[c][0] == '@') {
				crm__buf_putc(&json, '"');
				crm__buf_put(&json, iso, crm__datetime_format(crm__column_int64(st, c), iso));
				crm__buf_putc(&json, '"');
			} else if (names[c][0] == '$')
				crm__buf_puts(&json, crm__column_text(st, c));
			else
				crm__json_cstr(&json, crm__column_text(st, c));
		}
		crm__buf_putc(&json, '}');
	}
	crm__buf_putc(&json, ']');
	return crm__stmt_give_listing(db, st, rc, &json, out);
}

/* The listings: instances and history rows, chosen by a WHERE clause. */
#define INSTANCE_SQL "SELECT id, workflow, version, state, status, started_at, entered_at, form, record FROM crm_wf_instance"
#define HISTORY_SQL                                                                                 \
	"SELECT h.instance, i.workflow, h.at, h.event, h.from_state, h.to_state, h.actor, h.data" \
	" FROM crm_wf_history h JOIN crm_wf_instance i ON i.id = h.instance"
static const char *const instance_names[] = { "#id", "workflow", "#version", "state", "status", "@started_at",
					      "@entered_at", "form", "#record" };
static const char *const history_names[] = { "#instance", "workflow", "@at", "event", "from", "to", "actor", "$data" };

/* Check the arguments of a listing; `record` is a record id, never an
 * instance id: (NULL, 0) is the owner of the free-standing instances. */
static int enter_listing(crm_db *db, const char *form, int64_t *record, char **out, const char *instead)
{
	int rc, hidden;

	if ((rc = crm__enter_out(db, out)))
		return rc;
	if (!form && *record != 0)
		return crm__error(db, CRM_EINVAL,
				  "form NULL lists the free-standing instances, which have no record: give record 0"
				  " (one instance by its id: %s)",
				  instead);
	/* A record the actor may not read lists as a missing one: nothing. */
	if ((rc = crm__wf_record_hidden(db, form, *record, &hidden)) == CRM_OK && hidden)
		*record = 0;
	return rc;
}

int crm_workflow_instances(crm_db *db, const char *form, int64_t record, char **out)
{
	int rc;

	if ((rc = enter_listing(db, form, &record, out, "crm_workflow_instance_get")))
		return rc;
	/* The first seven names: a record's instances do not repeat its form and id. */
	return rows_json(db,
			 "SELECT id, workflow, version, state, status, started_at, entered_at FROM crm_wf_instance"
			 " WHERE (CAST(?1 AS TEXT) IS NOT NULL AND form=?1 AND record=?2) OR (CAST(?1 AS TEXT) IS NULL AND form IS NULL) ORDER BY id",
			 form, record, instance_names, 7, out);
}

int crm_workflow_history(crm_db *db, const char *form, int64_t record, char **out)
{
	int rc;

	if ((rc = enter_listing(db, form, &record, out, "crm_workflow_instance_history")))
		return rc;
	return rows_json(db,
			 HISTORY_SQL " WHERE (CAST(?1 AS TEXT) IS NOT NULL AND i.form=?1 AND i.record=?2) OR (CAST(?1 AS TEXT) IS NULL AND i.form IS NULL)"
				     " ORDER BY h.id",
			 form, record, history_names, 8, out);
}

/* Check the arguments of a per-instance call: the instance must exist. */
static int enter_instance(crm_db *db, int64_t instance, char **out)
{
	int64_t none = 0;
	int rc;

	if ((rc = enter_listing(db, "", &none, out, NULL)) || (rc = crm__wf_schema(db)))
		return rc;
	return crm__wf_instance_visible(db, instance);
}

int crm__wf_instance_visible(crm_db *db, int64_t instance)
{
	crm__wf_instance inst;
	int rc, hidden;

	if ((rc = crm__wf_instance_load(db, instance, &inst)) ||
	    (rc = crm__wf_record_hidden(db, inst.form[0] ? inst.form : NULL, inst.record, &hidden)))
		return rc;
	/* the instance of a record the actor may not read: a missing one */
	return hidden ? crm__error(db, CRM_ENOTFOUND, "no workflow instance %lld", (long long)instance) : CRM_OK;
}

int crm_workflow_instance_get(crm_db *db, int64_t instance, char **out)
{
	char *json;
	size_t n;
	int rc;

	if ((rc = enter_instance(db, instance, out)) ||
	    (rc = rows_json(db, INSTANCE_SQL " WHERE id=?2", NULL, instance, instance_names, 9, &json)))
		return rc;
	/* One row: the object without the array's brackets. */
	n = strlen(json);
	memmove(json, json + 1, n - 2);
	json[n - 2] = '\0';
	*out = json;
	return CRM_OK;
}

int crm_workflow_instance_history(crm_db *db, int64_t instance, char **out)
{
	int rc;

	if ((rc = enter_instance(db, instance, out)))
		return rc;
	return rows_json(db, HISTORY_SQL " WHERE h.instance=?2 ORDER BY h.id", NULL, instance, history_names, 8, out);
}

/* A migrated instance runs the timers of its state in the new version,
 * counted from when it entered the state; the old version's timers go. */
/* A migrated instance takes up its new state as if it had just arrived,
 * without running hooks: its timers (counted from when it entered), the
 * approval round of an approval state, and done when the state is final. */
static int settle_migrated(crm_db *db, crm__workflow *wf, int64_t id, int moved)
{
	crm__wf_instance inst;
	crm__record rec;
	int rc, s;

	if ((rc = crm__wf_instance_load(db, id, &inst)) || (rc = crm__wf_timers_cancel(db, id)))
		return rc;
	s = crm__wf_state_index(wf, inst.state);
	if (s < 0)
		return CRM_OK;
	if (wf->states[s].final) {
		crm__stmt *st = crm__stmt_take(db, "UPDATE crm_wf_instance SET status='done' WHERE id=?", (size_t)-1);
		if (!st)
			return db->errcode;
		crm__bind_int64(st, 1, id);
		rc = crm__step(st);
		crm__stmt_give(db, st);
		return rc == CRM_DONE ? CRM_OK : rc;
	}
	/* An instance that stays in its approval state keeps its round. */
	if ((moved && (rc = crm__wf_approval_enter(db, wf, &inst, s))) || !wf->states[s].ntimers)
		return rc;
	crm__record_init(&rec);
	if (!wf->form || (rc = crm__record_load(db, wf->form, inst.record, &rec, NULL)) == CRM_OK)
		rc = crm__wf_timers_enter(db, wf, &inst, s, wf->form ? rec.values : NULL);
	crm__record_free(&rec);
	return rc;
}

/* A migration is a metadata apply in the audit trail (each instance it
 * moved has its own "(migrate)" transition entry). */
static int audit_migrate(crm_db *db, const crm__workflow *wf, int64_t count)
{
	crm__buf data = CRM__BUF_INIT;
	int rc;

	crm__buf_puts(&data, "{\"kind\":\"workflow_migrate\",\"name\":");
	crm__json_cstr(&data, wf->name);
	crm__buf_puts(&data, ",\"version\":");
	crm__buf_i64(&data, wf->version);
	crm__buf_puts(&data, ",\"instances\":");
	crm__buf_i64(&data, count);
	crm__buf_putc(&data, '}');
	rc = data.oom ? crm__error_oom(db) : crm__audit_append(db, "apply", NULL, 0, 0, data.p, data.len, NULL);
	crm__buf_free(&data);
	return rc;
}

int crm_workflow_migrate(crm_db *db, const char *workflow, int64_t *out_count)
{
	crm__workflow *latest;
	crm__stmt *st;
	int64_t count = 0;
	int rc, src;

	if (out_count)
		*out_count = 0;
	if (!db || !workflow)
		return CRM_EMISUSE;
	/* Exclusive: it rewrites every old instance, which firers would race. */
	if ((rc = crm__enter_deferred(db)) || (rc = crm__tx_begin_exclusive(db)))
		return rc;
	if ((rc = crm__workflow_lookup(db, workflow, 0, &latest)))
		return crm__tx_end(db, rc);
	crm__workflow_retain(latest);
	st = crm__stmt_take(db, "SELECT id, state, version, form, record FROM crm_wf_instance WHERE workflow=? AND version<? AND status='active'",
			    (size_t)-1);
	if (!st)
		rc = db->errcode;
	if (st) {
		crm__bind_text(st, 1, latest->name, -1);
		crm__bind_int64(st, 2, latest->version);
	}
	while (rc == CRM_OK && (src = crm__step(st)) == CRM_ROW) {
		int64_t id = crm__column_int64(st, 0), from_version = crm__column_int64(st, 2);
		const char *state = crm__column_text(st, 1);
		const cJSON *map = latest->migrate ? cJSON_GetObjectItemCaseSensitive(latest->migrate, "states") : NULL;
		const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(map, state));
		char from_state[64], form[64], data[160];
		int64_t record = crm__column_int64(st, 4);
		crm__stmt *up;

		/* Copied now: the statements below may move the row on. */
		snprintf(form, sizeof form, "%s", crm__column_type(st, 3) == CRM__SQL_NULL ? "" : crm__column_text(st, 3));
		if (!to && crm__wf_state_index(latest, state) >= 0)
			to = state;
		if (!to) {
			rc = crm__error(db, CRM_EINVAL, "workflow %s: instance %lld is in state '%s', which version %lld neither "
							"has nor maps in 'migrate'",
					latest->name, (long long)id, state, (long long)latest->version);
			break;
		}
		snprintf(from_state, sizeof from_state, "%s", state);
		if (!(up = crm__stmt_take(db, "UPDATE crm_wf_instance SET version=?, state=?, updated_at=? WHERE id=?", (size_t)-1))) {
			rc = db->errcode;
			break;
		}
		crm__bind_int64(up, 1, latest->version);
		crm__bind_text(up, 2, to, -1);
		crm__bind_int64(up, 3, crm_now(db));
		crm__bind_int64(up, 4, id);
		src = crm__step(up);
		crm__stmt_give(db, up);
		if (src != CRM_DONE) {
			rc = src;
			break;
		}
		snprintf(data, sizeof data, "{\"from_version\":%lld,\"to_version\":%lld}", (long long)from_version,
			 (long long)latest->version);
		if ((rc = crm__wf_history_add(db, latest->name, id, form, record, "(migrate)", from_state, to, data)) ||
		    (rc = settle_migrated(db, latest, id, strcmp(from_state, to) != 0)))
			break;
		count++;
	}
	crm__stmt_give(db, st);
	if (rc == CRM_OK && count)
		rc = audit_migrate(db, latest, count);
	crm__workflow_release(latest);
	rc = crm__tx_end(db, rc);
	if (rc == CRM_OK && out_count)
		*out_count = count;
	return rc;
}
