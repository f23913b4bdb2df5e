/* What is in flight on a PostgreSQL connection: statements queued in
 * pipeline mode whose results are read at the next sync point, and the rows
 * of a many_rows statement read one at a time (single-row mode). Anything
 * else that talks to the server completes them first (crm__pg_sync). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "pg_int.h"

/* ---- rows one at a time (many_rows) ---- */

/* Read the rest of the stream and drop it (a reset before its end):
 * one row in memory at a time. */
void crm__pg_discard(pg_stmt *st)
{
	PGconn *c = PG(st->base.db)->c;
	PGresult *res;

	while ((res = PQgetResult(c)))
		PQclear(res);
	st->active = 0;
	PG(st->base.db)->streaming = NULL;
}

/* The stream's next result into st->res: a row (CRM_ROW), the end (no
 * rows: CRM_DONE) or the failure. */
int crm__pg_stream_next(pg_stmt *st)
{
	crm_db *db = st->base.db;
	PGresult *res = PQgetResult(PG(db)->c);
	int rc;

	PQclear(st->res);
	st->res = NULL;
	st->row = 0;
	switch (PQresultStatus(res)) {
	case PGRES_SINGLE_TUPLE: st->res = res; return CRM_ROW;
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		st->res = res;
		crm__pg_discard(st); /* the NULL that ends the results */
		return CRM_DONE;
	default:
		if (crm__pg_stale_plan(res))
			st->epoch = PG(db)->ddl_epoch - 1; /* prepare again */
		rc = crm__pg_fail(db, res);            /* NULL res: the connection's failure */
		PQclear(res);
		crm__pg_discard(st);
		return rc;
	}
}

/* Another statement needs the connection: the stream's rows still to come
 * are read now, into one result its later steps walk. */
void crm__pg_spill(pg_stmt *st)
{
	crm_db *db = st->base.db;
	PGresult *res;

	while ((res = PQgetResult(PG(db)->c))) {
		ExecStatusType s = PQresultStatus(res);
		int n = st->rest ? PQntuples(st->rest) : 0, ok = 1;

		if (s == PGRES_TUPLES_OK && !st->rest) {
			st->rest = res; /* no row was left: its empty result */
			continue;
		}
		if (s == PGRES_SINGLE_TUPLE) {
			if (!st->rest)
				st->rest = PQcopyResult(res, PG_COPYRES_ATTRS);
			ok = st->rest != NULL;
			for (int f = 0; ok && f < PQnfields(res); f++)
				ok = PQsetvalue(st->rest, n, f, PQgetisnull(res, 0, f) ? NULL : PQgetvalue(res, 0, f),
						PQgetlength(res, 0, f));
			if (!ok && !st->failed)
				st->failed = crm__error_oom(db);
		} else if (s != PGRES_TUPLES_OK && !st->failed)
			st->failed = crm__pg_fail(db, res);
		PQclear(res);
	}
	st->active = 0;
	PG(db)->streaming = NULL;
}

static int send_stream(pg_stmt *st)
{
	crm_db *db = st->base.db;
	PGconn *c = PG(db)->c;

	if (!PQsendQueryPrepared(c, st->name, st->nparams, st->values, NULL, NULL, 0))
		return crm__pg_fail(db, NULL);
	PQsetSingleRowMode(c);
	PG(db)->round_trips++;
	PG(db)->sent++;
	st->active = 1;
	PG(db)->streaming = st;
	return CRM_OK;
}

int crm__pg_execute_stream(pg_stmt *st)
{
	crm_db *db = st->base.db;
	int rc;

	if ((rc = send_stream(st)))
		return rc;
	rc = crm__pg_stream_next(st);
	/* As execute: DDL this handle could not know of, outside a transaction. */
	if (rc != CRM_ROW && rc != CRM_DONE && st->epoch != PG(db)->ddl_epoch &&
	    PQtransactionStatus(PG(db)->c) == PQTRANS_IDLE && crm__pg_reprepare(db, st) == CRM_OK && send_stream(st) == CRM_OK)
		rc = crm__pg_stream_next(st);
	return rc;
}

/* ---- queued statements (pipeline mode) ---- */

/* A queued statement's result: to its done (if any); the first failure
 * into *rc. */
static void outcome(crm_db *db, const pg_queued *q, PGresult **res, int *rc)
{
	int mine;

	if (q->ahead) { /* its rows, for its step */
		q->ahead->ahead = 0;
		if (PQresultStatus(*res) == PGRES_TUPLES_OK) {
			q->ahead->res = *res;
			*res = NULL;
			return;
		}
		/* its failure, or when it did not run (an earlier one failed)
		 * the transaction's */
		mine = PQresultStatus(*res) == PGRES_PIPELINE_ABORTED ? CRM_ERROR : crm__pg_fail(db, *res);
		if (crm__pg_stale_plan(*res))
			q->ahead->epoch = PG(db)->ddl_epoch - 1; /* prepare again next time, as execute */
		if (*rc == CRM_OK)
			*rc = mine;
		q->ahead->ahead_rc = *rc;
		return;
	}
	switch (PQresultStatus(*res)) {
	case PGRES_TUPLES_OK:
		if (q->done && PQntuples(*res) > 0 && PQnfields(*res) > 0 && !PQgetisnull(*res, 0, 0))
			q->done(q->payload, CRM_ROW, strtoll(PQgetvalue(*res, 0, 0), NULL, 10));
		else if (q->done)
			q->done(q->payload, CRM_DONE, 0);
		break;
	case PGRES_COMMAND_OK:
		if (q->done)
			q->done(q->payload, CRM_DONE, 0);
		break;
	case PGRES_PIPELINE_ABORTED: break; /* not run: an earlier one failed */
	default:
		mine = crm__pg_fail(db, *res);
		if (*rc == CRM_OK)
			*rc = mine;
		if (q->done)
			q->done(q->payload, mine, 0);
		break;
	}
}

/* Read every queued statement's result up to the sync point, in order;
 * `last` (may be NULL) gets the result of one statement sent after them,
 * in the same round trip. */
int crm__pg_drain(crm_db *db, PGresult **last)
{
	pg_conn *pc = PG(db);
	PGconn *c = pc->c;
	PGresult *res;
	int rc = CRM_OK, n = pc->nqueued;

	pc->nqueued = 0;
	pc->round_trips++;
	if (!PQpipelineSync(c))
		rc = crm__pg_fail(db, NULL);
	for (int i = 0; i < n + (last != NULL); i++) {
		if (!(res = PQgetResult(c))) { /* the connection is gone */
			if (rc == CRM_OK)
				rc = crm__pg_fail(db, NULL);
			break;
		}
		if (i == n)
			*last = res;
		else {
			outcome(db, &pc->queue[i], &res, &rc);
			PQclear(res);
		}
		PQclear(PQgetResult(c)); /* the NULL after each statement's results */
	}
	/* Up to the sync's own result. */
	for (int left = 4; left > 0; left--) {
		int sync;
		res = PQgetResult(c);
		sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
		PQclear(res);
		if (sync)
			break;
	}
	if (!PQexitPipelineMode(c) && rc == CRM_OK)
		rc = crm__pg_fail(db, NULL);
	return rc;
}

int crm__pg_sync(crm_db *db)
{
	pg_conn *pc = db->conn ? PG(db) : NULL;

	if (!pc)
		return CRM_OK;
	if (pc->streaming)
		crm__pg_spill(pc->streaming);
	if (pc->nqueued || PQpipelineStatus(pc->c) != PQ_PIPELINE_OFF)
		return crm__pg_drain(db, NULL);
	return CRM_OK;
}

/* Room for one more queued statement, in pipeline mode. */
static int queue_slot(crm_db *db)
{
	pg_conn *pc = PG(db);

	if (pc->streaming)
		crm__pg_spill(pc->streaming);
	if (pc->nqueued == pc->capqueued) {
		int cap = pc->capqueued ? 2 * pc->capqueued : 64;
		pg_queued *grown = crm__realloc(pc->queue, (size_t)cap * sizeof *grown);
		if (!grown)
			return crm__error_oom(db);
		pc->queue = grown;
		pc->capqueued = cap;
	}
	if (PQpipelineStatus(pc->c) == PQ_PIPELINE_OFF && !PQenterPipelineMode(pc->c))
		return crm__pg_fail(db, NULL);
	return CRM_OK;
}

int crm__pg_defer(crm_db *db, const char *sql)
{
	pg_conn *pc = PG(db);
	int rc;

	if ((rc = queue_slot(db)))
		return rc;
	if (!PQsendQueryParams(pc->c, sql, 0, NULL, NULL, NULL, NULL, 0))
		return crm__pg_fail(db, NULL);
	pc->sent++, pc->parsed++;
	pc->queue[pc->nqueued++] = (pg_queued){ NULL, NULL, NULL };
	return CRM_OK;
}

int crm__pg_after_queue(crm_db *db, const char *sql, PGresult **res)
{
	pg_conn *pc = PG(db);
	int rc;

	*res = NULL;
	if (pc->streaming)
		crm__pg_spill(pc->streaming);
	if (!pc->nqueued && PQpipelineStatus(pc->c) == PQ_PIPELINE_OFF)
		return CRM_OK;
	/* Several statements are not allowed in pipeline mode: after it. */
	if (strchr(sql, ';') || !PQsendQueryParams(pc->c, sql, 0, NULL, NULL, NULL, NULL, 0))
		return crm__pg_drain(db, NULL);
	pc->sent++, pc->parsed++;
	if ((rc = crm__pg_drain(db, res))) {
		PQclear(*res);
		*res = NULL;
	}
	return rc;
}

int crm__pg_flush(crm_db *db) { return crm__pg_sync(db); }

void crm__pg_many_rows(crm__stmt *st, int on) { P(st)->stream = on; }

/* Send st in pipeline mode, its outcome to q when the queue is read. */
static int send_queued(pg_stmt *st, pg_queued q)
{
	crm_db *db = st->base.db;
	pg_conn *pc;
	int rc;

	if (!db->conn)
		return crm__error(db, CRM_EMISUSE, "the handle is closed");
	pc = PG(db);
	if ((st->epoch != pc->ddl_epoch || !st->name[0]) && (rc = crm__pg_reprepare(db, st)))
		return rc;
	if ((rc = crm__pg_values(st)) || (rc = queue_slot(db)))
		return rc;
	if (!PQsendQueryPrepared(pc->c, st->name, st->nparams, st->values, NULL, NULL, 0))
		return crm__pg_fail(db, NULL);
	pc->sent++;
	pc->queue[pc->nqueued++] = q;
	return CRM_OK;
}

int crm__pg_queue(crm__stmt *base, crm__queued_fn done, void *payload)
{
	int rc = send_queued(P(base), (pg_queued){ done, payload, NULL });

	if (rc == CRM_OK)
		crm__pg_reset(base);
	return rc;
}

int crm__pg_send_ahead(crm__stmt *base)
{
	int rc;

	crm__pg_reset(base);
	if ((rc = send_queued(P(base), (pg_queued){ NULL, NULL, P(base) })) == CRM_OK)
		P(base)->ahead = 1;
	return rc;
}

void crm__pg_unqueue(pg_stmt *st)
{
	pg_conn *pc = PG(st->base.db);

	for (int i = 0; i < pc->nqueued; i++)
		if (pc->queue[i].ahead == st)
			pc->queue[i].ahead = NULL;
	st->ahead = 0;
}
