/* The PostgreSQL backend on libpq: one schema per libcrm app, writers
 * side by side under a shared advisory lock per schema that metadata
 * changes take exclusively, metadata changes announced with LISTEN/NOTIFY.
 * Statements are in pg_stmt.c, value conversions in pg_types.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "pg_dialect.h"
#include "pg_int.h"

/* ---- running SQL without parameters ---- */

/* PQexec `sql`; *out (may be NULL) keeps the last result on success. */
static int run(crm_db *db, const char *sql, PGresult **out)
{
	PGresult *res;
	ExecStatusType s;
	int rc;

	if (out)
		*out = NULL;
	if ((rc = crm__pg_after_queue(db, sql, &res)))
		return rc;
	if (!res)
		res = PQexec(PG(db)->c, sql), PG(db)->round_trips++, PG(db)->sent++, PG(db)->parsed++;
	s = PQresultStatus(res);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		rc = crm__pg_fail(db, res);
		PQclear(res);
		return rc;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return CRM_OK;
}

/* 1 when `sql` holds `word` (upper case) in any case. */
static int mentions(const char *sql, const char *word)
{
	size_t n = strlen(word);

	for (; *sql; sql++) {
		size_t k = 0;
		while (k < n && sql[k] && (sql[k] == word[k] || sql[k] == word[k] + ('a' - 'A')))
			k++;
		if (k == n)
			return 1;
	}
	return 0;
}

/* Engines run DDL through exec: after it, cached statements are prepared
 * again before they run (savepoints and the like change no table). */
int crm__pg_exec(crm_db *db, const char *sql)
{
	if (mentions(sql, "CREATE") || mentions(sql, "ALTER") || mentions(sql, "DROP"))
		PG(db)->ddl_epoch++;
	/* A savepoint rolled back lets go of the locks taken since: ask again
	 * (asking for a lock held already is harmless). */
	if (mentions(sql, "ROLLBACK"))
		PG(db)->locks = 0;
	/* A savepoint taken or released goes with the next statement: no
	 * round trip of its own. */
	if ((strncmp(sql, "SAVEPOINT ", 10) == 0 || strncmp(sql, "RELEASE ", 8) == 0) && !strchr(sql, ';'))
		return crm__pg_defer(db, sql);
	return run(db, sql, NULL);
}

/* ---- transactions ---- */

static int pg_in_transaction(crm_db *db)
{
	crm__pg_sync(db); /* rows or results in flight make the status "active" */
	return db->conn && PQtransactionStatus(PG(db)->c) != PQTRANS_IDLE &&
	       PQtransactionStatus(PG(db)->c) != PQTRANS_UNKNOWN;
}

static void pg_rollback(crm_db *db)
{
	if (db->conn)
		PG(db)->locks = 0, PG(db)->counted = 0;
	if (pg_in_transaction(db)) /* after what was in flight, whose failure no longer matters */
		PQclear(PQexec(PG(db)->c, "ROLLBACK")), PG(db)->round_trips++, PG(db)->sent++, PG(db)->parsed++;
	crm__pg_flush_dead(db, 0);
}

/* A statement without parameters on the schema's own tables, prepared once
 * per session in *st: their shape never changes, so DDL does not make it
 * prepare again. */
static int prepared_once(crm_db *db, struct pg_stmt **st, const char *sql)
{
	crm__stmt *made;
	int rc;

	if (!*st) {
		if ((rc = crm__pg_prepare(db, sql, strlen(sql), &made)))
			return rc;
		*st = P(made);
	}
	(*st)->epoch = PG(db)->ddl_epoch;
	return CRM_OK;
}

/* BEGIN, the lock, then the read of the generation, in one round trip,
 * each statement prepared once per session (as a simple query they were
 * parsed and planned again at every BEGIN; as one plpgsql function, which
 * read the generation in a statement of its own, they cost the server
 * more than the two). The read's snapshot is taken when it starts, once
 * the lock is granted. COMMIT is prepared here too, while nothing is
 * queued (preparing waits for the queue). */
static int begin_pipelined(crm_db *db, enum crm__tx_mode mode, int64_t *generation)
{
	pg_conn *pc = PG(db);
	struct pg_stmt **lock = &pc->begin_lock[mode == CRM__TX_EXCLUSIVE];
	char sql[80] = "";
	int rc;

	if (!*lock) /* the text only when it is prepared */
		snprintf(sql, sizeof sql, "SELECT pg_catalog.pg_advisory_xact_lock%s(%lld)",
			 mode == CRM__TX_EXCLUSIVE ? "" : "_shared", (long long)pc->lock_key);
	if ((rc = prepared_once(db, &pc->begin, "BEGIN")) || (rc = prepared_once(db, &pc->commit, "COMMIT")) ||
	    (rc = prepared_once(db, lock, sql)) ||
	    (rc = prepared_once(db, &pc->generation, "SELECT value FROM crm_state WHERE key = 'generation'")) ||
	    (rc = crm__pg_queue(&pc->begin->base, NULL, NULL)) || (rc = crm__pg_queue(&(*lock)->base, NULL, NULL)))
		return rc;
	rc = crm__pg_step(&pc->generation->base);
	*generation = rc == CRM_ROW && crm__pg_column_type(&pc->generation->base, 0) != CRM__SQL_NULL
			      ? crm__pg_column_int64(&pc->generation->base, 0)
			      : db->meta_generation;
	crm__pg_reset(&pc->generation->base);
	return rc == CRM_ROW || rc == CRM_DONE ? CRM_OK : rc;
}

/*
 * BEGIN, then the schema's advisory lock: shared by ordinary writers, which
 * run side by side (row locks order them where they meet), exclusive for
 * metadata changes, which thus never run beside a writer that compiled the
 * metadata they replace. With the lock held every exclusive writer before
 * has committed; the generation read in the same round trip catches a
 * metadata change whose notification the server holds back while this
 * session is inside a transaction.
 */
static int pg_begin(crm_db *db, enum crm__tx_mode mode)
{
	pg_conn *pc = PG(db);
	int64_t generation = db->meta_generation;
	char sql[200];
	int rc;

	if (pc->begin_prepared)
		rc = begin_pipelined(db, mode, &generation);
	else { /* crm_open's own transaction, which makes the schema */
		PGresult *res;
		snprintf(sql, sizeof sql, "BEGIN; SELECT pg_catalog.pg_advisory_xact_lock%s(%lld)%s",
			 mode == CRM__TX_EXCLUSIVE ? "" : "_shared", (long long)pc->lock_key,
			 pc->has_state ? "; SELECT value FROM crm_state WHERE key = 'generation'" : "");
		if ((rc = run(db, sql, &res)) == CRM_OK) {
			if (pc->has_state && PQntuples(res) == 1)
				generation = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			PQclear(res);
		}
	}
	if (rc) {
		pg_rollback(db);
		return rc;
	}
	pc->locks = mode == CRM__TX_EXCLUSIVE ? 1u << CRM__LOCK_EXCLUSIVE : 0;
	pc->counted = pc->begin_prepared || pc->has_state;
	if (generation != db->meta_generation) {
		pc->notes++;
		pc->ddl_epoch++;
	}
	return CRM_OK;
}

/* The events lock goes with the next statement (which the appender sends
 * at once), taken before it runs: no round trip of its own. Prepared once
 * per session, as BEGIN's (begin_pipelined). */
static int queue_events_lock(crm_db *db, const char *sql)
{
	pg_conn *pc = PG(db);
	int rc = prepared_once(db, &pc->events_lock, sql);

	return rc ? rc : crm__pg_queue(&pc->events_lock->base, NULL, NULL);
}

/*
 * The schema's lock made exclusive: waits for the other ordinary writers
 * to end (two sessions doing so at once deadlock, and one of them fails
 * with CRM_EBUSY). The events lock is a second key beside it (two int4
 * halves: a lock space of its own), held from the first append to the
 * commit, so appends commit in the order of their ids.
 */
static int pg_lock(crm_db *db, enum crm__tx_lock what)
{
	pg_conn *pc = PG(db);
	char sql[120] = "";
	int rc;

	if (pc->locks & (1u << what))
		return CRM_OK;
	if (what == CRM__LOCK_EXCLUSIVE)
		snprintf(sql, sizeof sql, "SELECT pg_catalog.pg_advisory_xact_lock(%lld)", (long long)pc->lock_key);
	else if (!pc->events_lock) /* the text only when it is prepared */
		snprintf(sql, sizeof sql, "SELECT %s", pc->events_call);
	if ((rc = what == CRM__LOCK_EVENTS ? queue_events_lock(db, sql) : run(db, sql, NULL)) == CRM_OK)
		pc->locks |= 1u << what;
	return rc;
}

/* The events lock inside the INSERT of an append's first row: a SELECT
 * without FROM checks its condition once, before it makes the row, which
 * gets its id from the sequence then (a "One-Time Filter"; as a function
 * in FROM it cost the server a function scan, about 1.5 µs more). */
static const char *pg_lock_where(crm_db *db, enum crm__tx_lock what)
{
	pg_conn *pc = PG(db);

	return what == CRM__LOCK_EVENTS && !(pc->locks & (1u << what)) ? pc->events_where : NULL;
}

static void pg_lock_taken(crm_db *db, enum crm__tx_lock what) { PG(db)->locks |= 1u << what; }

/* COMMIT of a failed transaction rolls back and says so only in its tag.
 * It goes in the round trip of what is queued before it, as the statement
 * prepared once (begin_pipelined; DDL does not make it prepare again) or,
 * in crm_open's first transaction, as text. */
static int pg_commit(crm_db *db)
{
	pg_conn *pc = PG(db);
	PGresult *res = NULL;
	int rc, failed = PQtransactionStatus(pc->c) == PQTRANS_INERROR;

	pc->locks = 0; /* the server lets go of them whatever COMMIT says */
	pc->counted = 0;
	if (pc->commit) {
		pc->commit->epoch = pc->ddl_epoch;
		rc = crm__pg_step(&pc->commit->base);
		rc = rc == CRM_DONE ? CRM_OK : rc;
		if (rc == CRM_OK)
			failed |= strcmp(PQcmdStatus(pc->commit->res), "ROLLBACK") == 0;
		crm__pg_reset(&pc->commit->base);
	} else if ((rc = run(db, "COMMIT", &res)) == CRM_OK) {
		failed |= strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
		PQclear(res);
	}
	if (rc)
		return rc;
	crm__pg_flush_dead(db, 0);
	if (failed)
		return crm__error(db, CRM_ERROR, "postgresql: a statement of the transaction failed: it was rolled back");
	return CRM_OK;
}

/* The notifications of the schema's channel (own commits count too). */
static unsigned int pg_data_version(crm_db *db)
{
	pg_conn *pc = PG(db);
	PGnotify *n;

	if (!pc)
		return 0;
	/* Inside its own transaction the server holds notifications back,
	 * and BEGIN's read of the generation counted the changes before
	 * (pg_begin): no read of the socket (a system call at every check,
	 * several a transition). */
	if (pc->counted)
		return pc->notes;
	PQconsumeInput(pc->c);
	while ((n = PQnotifies(pc->c))) {
		pc->notes++;
		pc->ddl_epoch++; /* a metadata change may have changed tables */
		PQfreemem(n);
	}
	return pc->notes;
}

static int pg_readonly(crm_db *db) { return PG(db)->readonly; }

/* ---- upgrade: the notifying trigger ---- */

static int trigger_exists(crm_db *db, int *exists)
{
	crm__stmt *st = crm__stmt_take(db,
				       "SELECT 1 FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid"
				       " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
				       " WHERE n.nspname = current_schema() AND c.relname = 'crm_state'"
				       " AND t.tgname = 'crm_state_notify'",
				       (size_t)-1);
	int rc;

	if (!st)
		return db->errcode;
	rc = crm__step(st);
	*exists = rc == CRM_ROW;
	crm__stmt_give(db, st);
	return rc == CRM_ROW || rc == CRM_DONE ? CRM_OK : rc;
}

static int pg_column_decl_type(crm_db *db, const char *table, const char *column, crm__buf *type);

/* The audit chain's prev and hash were 64 hex digits (text) before they
 * were 32 bytes (docs/audit.md). Text that is not lowercase hex (edited
 * behind libcrm's back) keeps its bytes, so verify still reports it. */
static int audit_hashes_to_bytes(crm_db *db)
{
	crm__buf type = CRM__BUF_INIT;
	int rc = pg_column_decl_type(db, "crm_audit", "hash", &type);

	if (rc == CRM_OK && type.len >= 4 && strncmp(type.p, "text", 4) == 0)
		rc = run(db,
			 "ALTER TABLE crm_audit"
			 " ALTER COLUMN prev TYPE bytea USING CASE WHEN prev ~ '^[0-9a-f]{64}$'"
			 "  THEN pg_catalog.decode(prev, 'hex') ELSE pg_catalog.convert_to(prev, 'UTF8') END,"
			 " ALTER COLUMN hash TYPE bytea USING CASE WHEN hash ~ '^[0-9a-f]{64}$'"
			 "  THEN pg_catalog.decode(hash, 'hex') ELSE pg_catalog.convert_to(hash, 'UTF8') END",
			 NULL);
	crm__buf_free(&type);
	return rc;
}

/* A record change's event may name its audit entry (crm_event.audit,
 * payload NULL: lib/core/meta.c); databases made before it lack the column
 * and hold every payload NOT NULL. */
static int add_event_audit(crm_db *db)
{
	crm__buf type = CRM__BUF_INIT;
	int rc = pg_column_decl_type(db, "crm_event", "audit", &type);

	if (rc == CRM_OK && type.len == 0)
		rc = run(db, "ALTER TABLE crm_event ADD COLUMN audit bigint, ALTER COLUMN payload DROP NOT NULL", NULL);
	crm__buf_free(&type);
	return rc;
}

/* Compact audit entries' names are found through an index (format 6),
 * made once: CREATE INDEX takes a lock writers wait for, even when the
 * index is there. */
static int pg_index_names(crm_db *db, const char *table, crm__buf *names);

static int add_audit_fields_index(crm_db *db)
{
	static const char name[] = "crm_audit_fields";
	crm__buf names = CRM__BUF_INIT;
	int rc = pg_index_names(db, "crm_audit", &names), exists = 0;

	for (size_t at = 0; rc == CRM_OK && !exists && at < names.len; at += strlen(names.p + at) + 1)
		exists = strcmp(names.p + at, name) == 0;
	crm__buf_free(&names);
	return rc || exists ? rc : run(db, CRM__AUDIT_FIELDS_INDEX, NULL);
}

/* Databases are born at the current format; what is added is the trigger
 * that tells every listening handle the generation moved, the audit
 * chain's hashes become bytes, events may name their audit entry, and the
 * index finding a form's "fields" entries (lib/audit/audit.h). */
static int pg_upgrade(crm_db *db)
{
	pg_conn *pc = PG(db);
	crm__buf sql = CRM__BUF_INIT;
	int rc, exists = 0;

	if ((rc = trigger_exists(db, &exists)) || (rc = run(db, crm__pg_functions_sql, NULL)) ||
	    (rc = audit_hashes_to_bytes(db)) || (rc = add_event_audit(db)) || (rc = add_audit_fields_index(db)))
		return rc;
	pc->begin_prepared = 1;
	if (!exists) {
		crm__buf_printf(&sql,
				"CREATE OR REPLACE FUNCTION crm_state_notify() RETURNS trigger LANGUAGE plpgsql AS"
				" $$BEGIN PERFORM pg_catalog.pg_notify('%s', ''); RETURN NULL; END$$;"
				"CREATE TRIGGER crm_state_notify AFTER UPDATE ON crm_state FOR EACH ROW"
				" WHEN (NEW.key = 'generation') EXECUTE FUNCTION crm_state_notify()",
				pc->channel);
		if (sql.oom)
			rc = crm__error_oom(db);
		else
			rc = run(db, crm__buf_cstr(&sql), NULL);
		crm__buf_free(&sql);
		if (rc)
			return rc;
	}
	pc->has_state = 1;
	return CRM_OK;
}

/* ---- introspection, in the handle's schema ---- */

static int pg_relation_exists(crm_db *db, const char *name, int *exists)
{
	return crm__stmt_texts(db,
			       "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
			       " ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
			       " AND c.relname = ?1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
			       name, NULL, NULL, exists);
}

/* Without the primary key's index: SQLite lists none for a rowid table. */
static int pg_index_names(crm_db *db, const char *table, crm__buf *names)
{
	return crm__stmt_texts(db,
			       "SELECT i.relname FROM pg_catalog.pg_index x"
			       " JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid"
			       " JOIN pg_catalog.pg_class t ON t.oid = x.indrelid"
			       " JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace"
			       " WHERE n.nspname = current_schema() AND t.relname = ?1 AND NOT x.indisprimary"
			       " ORDER BY 1",
			       table, NULL, names, NULL);
}

static int pg_column_decl_type(crm_db *db, const char *table, const char *column, crm__buf *type)
{
	int rc = crm__stmt_texts(db,
				 /* spelt as the dialect's type_text: with its collation */
				 "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attcollation ="
				 " CAST('pg_catalog.\"C\"' AS regcollation) THEN ' COLLATE \"C\"' ELSE '' END"
				 " FROM pg_catalog.pg_attribute a"
				 " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
				 " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
				 " WHERE n.nspname = current_schema() AND c.relname = ?1 AND a.attname = ?2"
				 " AND a.attnum > 0 AND NOT a.attisdropped",
				 table, column, type, NULL);

	if (type->len)
		type->len--; /* the NUL after the one row */
	return rc;
}

/* The plan as SQLite's EXPLAIN QUERY PLAN gives it: one item per plan
 * node, with the id of the node it feeds (0 for the top), and the node's
 * properties (conditions, sort keys) after it in its detail. From EXPLAIN's
 * text without costs: a node line is the first, begins "->" indented under
 * its parent's text, or heads a CTE or subplan (SQLite's MATERIALIZE and
 * SUBQUERY items); other lines are properties of the node above. */
struct plan_walk {
	crm__buf *out;
	int n;             /* nodes written or pending */
	int depth;         /* entries in stack */
	int col[64], id[64]; /* open nodes: where their text starts, their id */
};

static int plan_node(const char *text)
{
	static const char *const heads[] = { "->", "CTE ", "InitPlan ", "SubPlan " };

	for (size_t i = 0; i < sizeof heads / sizeof *heads; i++)
		if (strncmp(text, heads[i], strlen(heads[i])) == 0)
			return 1;
	return 0;
}

static void plan_line(struct plan_walk *w, const char *line)
{
	int at = (int)strspn(line, " ");
	int parent;

	if (w->n && !plan_node(line + at)) {
		crm__buf_puts(w->out, "; "); /* a property: inside the detail still open */
		crm__buf_puts(w->out, line + at);
		return;
	}
	if (w->n)
		crm__buf_puts(w->out, "\"},"); /* end the previous node's detail */
	while (w->depth && w->col[w->depth - 1] >= at)
		w->depth--;
	parent = w->depth ? w->id[w->depth - 1] : 0;
	if (w->n && strncmp(line + at, "->", 2) == 0)
		at += 2 + (int)strspn(line + at + 2, " ");
	if (w->depth < 64) {
		w->col[w->depth] = at;
		w->id[w->depth++] = w->n + 1;
	}
	crm__buf_printf(w->out, "{\"id\":%d,\"parent\":%d,\"detail\":\"", ++w->n, parent);
	crm__buf_puts(w->out, line + at);
}

static int pg_explain(crm_db *db, const char *sql, int (*bind)(crm__stmt *st, void *payload), void *payload,
		      crm__buf *out)
{
	struct plan_walk w = { .out = out };
	crm__buf line = CRM__BUF_INIT;
	crm__stmt *st;
	int rc;

	if ((rc = crm__prepare_prefixed(db, "EXPLAIN (COSTS OFF) ", sql, &st)))
		return rc;
	if ((rc = bind(st, payload)) == CRM_OK) {
		while ((rc = crm__step(st)) == CRM_ROW) {
			/* the line as JSON string content, to append piece by piece */
			crm__buf_reset(&line);
			crm__json_cstr(&line, crm__column_text(st, 0));
			if (line.len >= 2) {
				line.p[line.len - 1] = '\0';
				plan_line(&w, line.p + 1);
			}
		}
		if (w.n)
			crm__buf_puts(out, "\"}");
		out->oom |= line.oom;
		rc = rc == CRM_DONE ? CRM_OK : rc;
	}
	crm__buf_free(&line);
	crm__finalize(st);
	return rc;
}

/* ---- open, close ---- */

static void quiet(void *payload, const char *message)
{
	(void)payload;
	(void)message; /* NOTICEs ("already exists, skipping") are not the host's business */
}

/* What the schema holds: whether it exists, is libcrm's, is empty. */
static int inspect_schema(crm_db *db, int *exists, int *ours, int *empty)
{
	const char *params[] = {PG(db)->schema};
	PGresult *res = PQexecParams(
		PG(db)->c,
		"SELECT EXISTS(SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1),"
		" EXISTS(SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		"  WHERE n.nspname = $1 AND c.relname = 'crm_state' AND c.relkind IN ('r', 'p')),"
		" NOT EXISTS(SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		"  WHERE n.nspname = $1)",
		1, NULL, params, NULL, NULL, 0);
	int rc = CRM_OK;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = crm__pg_fail(db, res);
	else {
		*exists = *PQgetvalue(res, 0, 0) == 't';
		*ours = *PQgetvalue(res, 0, 1) == 't';
		*empty = *PQgetvalue(res, 0, 2) == 't';
	}
	PQclear(res);
	return rc;
}

static int create_schema(crm_db *db)
{
	char sql[200];
	int rc;

	/* Under the schema's lock: two processes creating it at once would
	 * otherwise collide on the catalog's unique index. */
	snprintf(sql, sizeof sql, "BEGIN; SELECT pg_catalog.pg_advisory_xact_lock(%lld); CREATE SCHEMA IF NOT EXISTS \"%s\"; COMMIT",
		 (long long)PG(db)->lock_key, PG(db)->schema);
	if ((rc = run(db, sql, NULL)))
		pg_rollback(db);
	return rc;
}

/* As SQLite's check_kind: decide before anything is written whether this
 * schema may become (or already is) a libcrm database. */
static int check_kind(crm_db *db, unsigned int flags)
{
	const char *s = PG(db)->schema;
	int rc, exists = 0, ours = 0, empty = 0, may_init;

	if ((rc = inspect_schema(db, &exists, &ours, &empty)))
		return rc;
	PG(db)->has_state = ours;
	if (!exists) {
		if (flags & (CRM_OPEN_READONLY | CRM_OPEN_EXISTING))
			return crm__error(db, CRM_ENOTFOUND, "no libcrm database in schema \"%s\" (the schema does not exist)",
					  s);
		return create_schema(db);
	}
	may_init = !(flags & CRM_OPEN_READONLY) && ((flags & CRM_OPEN_INIT) || (empty && !(flags & CRM_OPEN_EXISTING)));
	if (ours || may_init)
		return CRM_OK;
	if (empty)
		return crm__error(db, CRM_ENOTFOUND, "no libcrm database in schema \"%s\" (the schema is empty)", s);
	return crm__error(db, CRM_EINVAL,
			  "schema \"%s\" is not a libcrm database (it holds other tables): left unchanged; "
			  "CRM_OPEN_INIT adds libcrm's tables to it", s);
}

static int connect_failed(crm_db *db)
{
	const char *msg = PQerrorMessage(PG(db)->c);
	size_t n = strlen(msg);
	int code = strstr(msg, "database \"") && strstr(msg, "does not exist") ? CRM_ENOTFOUND : CRM_EIO;

	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	return crm__error(db, code, "postgresql: cannot connect: %.*s", (int)n, msg);
}

/* The session as the engines expect it: UTC, ISO dates, floats that read
 * back exactly, lock waits bounded like SQLite's busy timeout. */
static int configure(crm_db *db, const crm_open_options *o)
{
	char sql[400];
	int timeout = o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 1; /* 0 would mean forever */

	if (PQsetClientEncoding(PG(db)->c, "UTF8") != 0)
		return crm__error(db, CRM_EIO, "postgresql: cannot use UTF8: %s", PQerrorMessage(PG(db)->c));
	snprintf(sql, sizeof sql,
		 "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 3;"
		 " SET client_min_messages = warning; SET lock_timeout = %d",
		 timeout);
	return run(db, sql, NULL);
}

static int enter_schema(crm_db *db)
{
	pg_conn *pc = PG(db);
	char sql[260];

	snprintf(sql, sizeof sql, "SET search_path TO \"%s\"; LISTEN \"%s\"%s", pc->schema, pc->channel,
		 pc->readonly ? "; SET default_transaction_read_only = on" : "");
	return run(db, sql, NULL);
}

static int pg_open(crm_db *db, const char *target, const crm_open_options *o)
{
	const char *schema = o->schema ? o->schema : "crm";
	pg_conn *pc;
	int rc;

	if (!crm__pg_valid_schema(schema))
		return crm__error(db, CRM_EINVAL, "invalid schema name '%.64s' (wanted [a-z_][a-z0-9_]{0,62})", schema);
	if (!(pc = crm__calloc(1, sizeof *pc)))
		return crm__error_oom(db);
	db->conn = pc;
	snprintf(pc->schema, sizeof pc->schema, "%s", schema);
	/* Truncated as PostgreSQL truncates identifiers (63 bytes). */
	snprintf(pc->channel, sizeof pc->channel, "crm_meta_%s", schema);
	pc->lock_key = crm__pg_lock_key(schema);
	snprintf(pc->events_call, sizeof pc->events_call, "pg_catalog.pg_advisory_xact_lock(%d, %d)",
		 (int)(int32_t)((uint64_t)pc->lock_key >> 32), (int)(int32_t)(uint32_t)(uint64_t)pc->lock_key);
	snprintf(pc->events_where, sizeof pc->events_where, "%s IS NOT NULL", pc->events_call); /* void: never null */
	pc->readonly = (o->flags & CRM_OPEN_READONLY) != 0;
	if (!(pc->c = PQconnectdb(target)))
		return crm__error_oom(db);
	if (PQstatus(pc->c) != CONNECTION_OK)
		return connect_failed(db);
	PQsetNoticeProcessor(pc->c, quiet, NULL);
	if ((rc = configure(db, o)) || (rc = check_kind(db, o->flags)))
		return rc;
	return enter_schema(db);
}

/* The server rolls back what is open when the session ends. */
static void pg_close(crm_db *db)
{
	pg_conn *pc = PG(db);

	if (!pc)
		return;
	struct pg_stmt *once[] = { pc->begin, pc->begin_lock[0], pc->begin_lock[1], pc->generation, pc->commit, pc->events_lock };

	for (size_t i = 0; i < sizeof once / sizeof *once; i++)
		if (once[i])
			crm__pg_finalize(&once[i]->base);
	PQfinish(pc->c);
	crm__free(pc->queue);
	crm__free(pc);
	db->conn = NULL;
}

static int pg_accepts(const char *target)
{
	return strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0;
}

/* ---- the table (the dialect is pg_dialect.c) ---- */

const crm__backend crm__pg_backend = {
	.version = CRM__BACKEND_VERSION,
	.name = "postgresql",
	.dialect = &crm__pg_dialect,
	.failure_aborts_transaction = 1,
	.pipeline = 1,
	.accepts = pg_accepts,
	.open = pg_open,
	.close = pg_close,
	.exec = crm__pg_exec,
	.upgrade = pg_upgrade,
	.begin = pg_begin,
	.lock = pg_lock,
	.lock_where = pg_lock_where,
	.lock_taken = pg_lock_taken,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.in_transaction = pg_in_transaction,
	.data_version = pg_data_version,
	.readonly = pg_readonly,
	.prepare = crm__pg_prepare,
	.sql = crm__pg_sql,
	.reset = crm__pg_reset,
	.clear_bindings = crm__pg_clear_bindings,
	.finalize = crm__pg_finalize,
	.bind_null = crm__pg_bind_null,
	.bind_int64 = crm__pg_bind_int64,
	.bind_double = crm__pg_bind_double,
	.bind_text = crm__pg_bind_text,
	.bind_blob = crm__pg_bind_blob,
	.bind_as = crm__pg_bind_as,
	.parameter_count = crm__pg_parameter_count,
	.step = crm__pg_step,
	.column_count = crm__pg_column_count,
	.column_type = crm__pg_column_type,
	.column_int64 = crm__pg_column_int64,
	.column_double = crm__pg_column_double,
	.column_text = crm__pg_column_text,
	.column_bytes = crm__pg_column_bytes,
	.column_blob = crm__pg_column_blob,
	.column_as = crm__pg_column_as,
	.inserted_id = crm__pg_inserted_id,
	.queue = crm__pg_queue,
	.flush = crm__pg_flush,
	.send_ahead = crm__pg_send_ahead,
	.many_rows = crm__pg_many_rows,
	.relation_exists = pg_relation_exists,
	.index_names = pg_index_names,
	.column_decl_type = pg_column_decl_type,
	.explain = pg_explain,
};
