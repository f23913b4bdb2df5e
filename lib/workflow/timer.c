/* Timers: set when a state is entered, removed when it is left, stored in
 * the database so they survive restarts, and fired by crm_tick from the host's
 * clock (no threads). Repeating timers declare what happens to occurrences
 * missed while the host was down: fire once, fire each, or skip them. */
#include <stdio.h>
#include <string.h>

#include "access/access.h"
#include "core/codec.h"
#include "script/script.h"
#include "workflow_int.h"

#define MAX_CATCH_UP 1000
#define TICK_RETRIES 5 /* of one timer's unit that failed busy */

static int64_t field_time(const crm__workflow *wf, const crm__wf_timer *tm, const crm__value *record, int *ok)
{
	const crm__field *f = crm__form_field(wf->form, tm->field, strlen(tm->field));
	const crm__value *v = &record[f->position];
	int64_t days;

	*ok = v->kind != CRM__V_NULL;
	if (!*ok)
		return 0;
	if (f->type == CRM_TYPE_DATETIME)
		return v->i + tm->offset_ms;
	*ok = crm__date_parse(v->s, v->n, &days) == 0;
	return days * 86400000 + tm->offset_ms;
}

int crm__wf_timers_enter(crm_db *db, crm__workflow *wf, const crm__wf_instance *inst, int state,
			 const crm__value *record)
{
	const crm__wf_state *st = &wf->states[state];
	crm__stmt *ins;
	int rc = CRM_DONE;

	if (!st->ntimers)
		return CRM_OK;
	ins = crm__stmt_take(db,
			     "INSERT INTO crm_wf_timer(instance, state, timer, event, due_at, every, catch_up)"
			     " VALUES(?,?,?,?,?,?,?)",
			     (size_t)-1);
	if (!ins)
		return db->errcode;
	for (int k = 0; k < st->ntimers && rc == CRM_DONE; k++) {
		const crm__wf_timer *tm = &st->timers[k];
		int64_t due;
		int ok = 1;

		if (tm->after_ms)
			due = inst->entered_at + tm->after_ms;
		else if (tm->at_ms)
			due = tm->at_ms;
		else
			due = field_time(wf, tm, record, &ok);
		if (!ok)
			continue; /* no date in the record: no deadline */
		crm__bind_int64(ins, 1, inst->id);
		crm__bind_text(ins, 2, st->name, -1);
		crm__bind_int64(ins, 3, k);
		crm__bind_text(ins, 4, tm->event, -1);
		crm__bind_int64(ins, 5, due);
		crm__bind_int64(ins, 6, tm->every_ms);
		crm__bind_int64(ins, 7, tm->catch_up);
		rc = crm__step(ins);
		crm__reset(ins);
	}
	crm__stmt_give(db, ins);
	return rc == CRM_DONE ? CRM_OK : rc;
}

int crm__wf_timers_cancel(crm_db *db, int64_t instance)
{
	crm__stmt *st = crm__stmt_take(db, "DELETE FROM crm_wf_timer WHERE instance=?", (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	crm__bind_int64(st, 1, instance);
	rc = crm__step(st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

typedef struct due_timer {
	int64_t id, instance, due, every;
	int catch_up;
	char event[64];
} due_timer;

/* The next timer due at `now` among those that existed when the tick
 * began (id <= `last`). Claimed with its instance (the dialect's
 * lock_claim) inside the tick's write transaction: another ticker skips
 * both and takes the next timer, so tickers fire different timers side by
 * side and never one twice; a transition under way holds the instance, so
 * its timer waits for a later tick rather than for the transition. What
 * another process fired, moved or cancelled meanwhile is simply not found. */
static int next_due(crm_db *db, int64_t now, int64_t last, due_timer *t, int *found)
{
	char sql[320]; /* on the stack: a tick allocates nothing per timer once its statements are cached */
	crm__stmt *st;
	int rc;

	snprintf(sql, sizeof sql,
		 "SELECT t.id, t.instance, t.due_at, t.every, t.catch_up, t.event FROM crm_wf_timer AS t"
		 " JOIN crm_wf_instance AS i ON i.id = t.instance"
		 " WHERE t.due_at <= ?1 AND t.id <= ?2 ORDER BY t.due_at, t.id LIMIT 1%s",
		 db->be->dialect->lock_claim);
	if (!(st = crm__stmt_take(db, sql, (size_t)-1)))
		return db->errcode;
	crm__bind_int64(st, 1, now);
	crm__bind_int64(st, 2, last);
	rc = crm__step(st);
	*found = rc == CRM_ROW;
	if (*found) {
		t->id = crm__column_int64(st, 0);
		t->instance = crm__column_int64(st, 1);
		t->due = crm__column_int64(st, 2);
		t->every = crm__column_int64(st, 3);
		t->catch_up = crm__column_int(st, 4);
		snprintf(t->event, sizeof t->event, "%s", crm__column_text(st, 5));
	}
	crm__stmt_give(db, st);
	return rc == CRM_ROW || rc == CRM_DONE ? CRM_OK : rc;
}

/* Move a repeating timer past `now`, or delete a one-shot one; returns
 * how many times its event fires now. */
static int reschedule(crm_db *db, const due_timer *t, int64_t now, int *fires)
{
	crm__stmt *st;
	int64_t missed = 1, next = 0;
	int rc;

	if (t->every > 0) {
		missed = (now - t->due) / t->every + 1; /* occurrences at or before now */
		next = t->due + missed * t->every;
	}
	*fires = t->every == 0 || t->catch_up == CRM__CATCH_UP_ONCE ? 1
		 : t->catch_up == CRM__CATCH_UP_EVERY			  ? (int)(missed > MAX_CATCH_UP ? MAX_CATCH_UP : missed)
									  : missed == 1; /* skip: only an on-time one */
	st = t->every > 0 ? crm__stmt_take(db, "UPDATE crm_wf_timer SET due_at=?2 WHERE id=?1", (size_t)-1)
			  : crm__stmt_take(db, "DELETE FROM crm_wf_timer WHERE id=?1", (size_t)-1);
	if (!st)
		return db->errcode;
	crm__bind_int64(st, 1, t->id);
	if (t->every > 0)
		crm__bind_int64(st, 2, next);
	rc = crm__step(st);
	crm__stmt_give(db, st);
	return rc == CRM_DONE ? CRM_OK : rc;
}

/* Did the event fail in the host (memory, I/O, a busy or broken database),
 * rather than in the workflow or its scripts? Only those stop the tick. */
static int host_failure(crm_db *db, int rc)
{
	switch (rc) {
	case CRM_ENOMEM: return !crm__lua_memory_ceiling(db);
	case CRM_EBUSY:
	case CRM_EIO:
	case CRM_EMISUSE:
	case CRM_ERROR: return 1;
	default: return 0;
	}
}

/* Claim and fire the next due timer, in its own transaction. A failing
 * event is recorded in the instance's history and does not stop the
 * other timers; a failure of the host rolls everything back. *begun says
 * whether the transaction began (a failure after it is the unit's). */
static int fire_next(crm_db *db, int64_t now, int64_t last, int64_t *fired, int *found, int *begun)
{
	due_timer t;
	int rc, fires = 0, done = 0;

	if ((*begun = (rc = crm__tx_begin(db)) == CRM_OK) == 0)
		return rc;
	if ((rc = next_due(db, now, last, &t, found)) || !*found)
		return crm__tx_end(db, rc);
	if ((rc = reschedule(db, &t, now, &fires)) == CRM_OK) {
		for (int i = 0; i < fires && rc == CRM_OK; i++) {
			int frc = crm__wf_fire(db, t.instance, t.event, NULL, NULL);
			if (frc == CRM_OK)
				done++;
			else if (host_failure(db, frc))
				rc = frc;
			else {
				crm__buf data = CRM__BUF_INIT;
				crm__buf_puts(&data, "{\"timer_error\":");
				crm__json_cstr(&data, crm_errmsg(db));
				crm__buf_putc(&data, '}');
				rc = data.oom ? crm__error_oom(db)
					      : crm__wf_history_add(db, NULL, t.instance, NULL, 0, t.event, NULL, NULL, crm__buf_cstr(&data));
				crm__buf_free(&data);
				break;
			}
		}
	}
	if ((rc = crm__tx_end(db, rc)) == CRM_OK)
		*fired += done; /* only what was committed */
	return rc;
}

/* Is any timer due, and the newest timer's id (timers made later, during
 * the tick, wait for the next one)? A read: an idle tick takes no lock. */
static int tick_bounds(crm_db *db, int64_t now, int64_t *last, int *any)
{
	crm__stmt *st = crm__stmt_take(db,
					  "SELECT (SELECT coalesce(max(id), 0) FROM crm_wf_timer),"
					  " EXISTS(SELECT 1 FROM crm_wf_timer WHERE due_at <= ?)",
					  (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	crm__bind_int64(st, 1, now);
	if ((rc = crm__step(st)) == CRM_ROW) {
		*last = crm__column_int64(st, 0);
		*any = crm__column_int(st, 1);
	}
	crm__stmt_give(db, st);
	return rc == CRM_ROW ? CRM_OK : rc;
}

int crm_tick(crm_db *db, int64_t now_ms, int64_t *out_fired)
{
	int64_t saved_now, fired = 0, last = 0;
	char *saved_user;
	int rc, found = 1, sys;

	if (out_fired)
		*out_fired = 0;
	if (!db)
		return CRM_EMISUSE;
	if ((rc = crm__enter(db)) || (rc = crm__wf_schema(db)))
		return rc;
	/* During the tick the clock reads `now` and nobody in particular acts. */
	saved_now = db->fixed_now;
	saved_user = db->actor_user;
	if (now_ms >= 0)
		db->fixed_now = now_ms;
	now_ms = crm_now(db);
	db->actor_user = NULL;
	sys = crm__actor_system_begin(db);
	if ((rc = tick_bounds(db, now_ms, &last, &found)) == CRM_OK)
		for (int retries = 0; rc == CRM_OK && found;) {
			int begun;
			rc = fire_next(db, now_ms, last, &fired, &found, &begun);
			/* Busy inside the unit: a deadlock with another server's
			 * writer (which took a record, then its instance), rolled
			 * back whole: fire the timer again. Writers that take turns
			 * (SQLite) are only ever busy at the beginning. */
			if (rc == CRM_EBUSY && begun && retries++ < TICK_RETRIES) {
				found = 1;
				rc = CRM_OK;
			} else if (rc == CRM_OK)
				retries = 0;
		}
	crm__actor_system_end(db, sys);
	db->actor_user = saved_user;
	db->fixed_now = saved_now;
	if (out_fired)
		*out_fired = fired;
	return rc;
}
