/* The data and definitions the benchmarks share, whatever database the
 * reference side talks to (bench_form/bench_report/bench_workflow on SQLite,
 * bench_pg on PostgreSQL): the lead form and its row generator, the deal
 * and customer forms, the reports and their generator, the workflow and its
 * Lua guard. Same seed, same rows everywhere. */
#ifndef CRM_BENCH_GEN_H
#define CRM_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>

#include <crm.h>

#include "bench.h"

#define BENCH_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Die with libcrm's error unless rc is CRM_OK. */
void bench_crm_check(crm_db *db, int rc, const char *what);

/* ---- leads (bench_form, bench_pg) ---- */

#define BENCH_LEAD_SEED 0x6c696263726dULL /* "libcrm" */
/* Rows generated (untimed) between timed stretches. */
#define BENCH_LEAD_CHUNK 10000
/* The filtered query: region north, score >= 900, at most 10,000 rows. */
#define BENCH_LEAD_QUERY_LIMIT 10000
#define BENCH_LEAD_QUERY_MIN_SCORE 900
/* Columns of a lead row: id, 10 fields, created_at, updated_at, owner, version. */
#define BENCH_LEAD_NCOLS 15

/* The lead form: 10 fields, a unique phone, an index on region. */
extern const char bench_lead_form[];
/* The same form with its record writes audited (docs/audit.md). */
extern const char bench_lead_form_audited[];
/* The same filtered, sorted query as crm_query JSON. */
extern const char bench_lead_query[];
/* The same query as a rep sees it: the region comes from the rep's row rule
 * (bench_lead_rls_permissions, actor bench_lead_rls_actor), not the filter. */
extern const char bench_lead_rls_query[];
extern const char bench_lead_rls_permissions[];
extern const char bench_lead_rls_actor[];
/* Text columns of the lead table in its column order (the rest are integers). */
extern const int bench_lead_text_column[BENCH_LEAD_NCOLS];
extern const char *const bench_lead_regions[4];
extern const char *const bench_lead_sources[5];

/* The hand-written statements of the reference side, in portable SQL with
 * SQLite's `?N`/`?` placeholders (bench_pg turns them into libpq's `$N`):
 * an insert (?1 the creation instant, ?2..?11 the fields), the SQL libcrm
 * compiles the lead query to (its cursor's column order, id ending the
 * order: ?1 region, ?2 minimum score, ?3 limit), a point read (?1 id). */
extern const char bench_lead_sql_insert[];
extern const char bench_lead_sql_query[];
extern const char bench_lead_sql_get[];

typedef struct bench_lead {
	char name[48];
	char phone[16];
	char email[48];
	char city[24];
	char date[40];
	char notes[128];
	int name_len, email_len, city_len, notes_len;
	int region, source;
	int64_t score, budget_cents;
	char json[512];
	int json_len;
} bench_lead;

/* Row `i` (0-based) drawn from `rng`: C values and the same row as JSON.
 * Phones are unique (their last nine digits are a bijection of i). */
void bench_lead_gen(bench_rng *rng, uint64_t i, bench_lead *r);

/* What a pass over the query's rows read: both sides must agree. */
typedef struct bench_qsum {
	long rows;
	int64_t score_sum;
	uint64_t touch; /* every value read, summed */
} bench_qsum;

/* libcrm's side of the lead query (bench_lead_query through crm_query and
 * the cursor, every column read with its accessor) and of `n` point gets
 * (crm_record_get, JSON out): CRM_OK or libcrm's error, *seconds the time
 * they took. */
int bench_lead_crm_query(crm_db *db, bench_qsum *s, double *seconds);
/* The same for another query of the lead form. */
int bench_lead_crm_query_json(crm_db *db, const char *query_json, bench_qsum *s, double *seconds);
int bench_lead_crm_gets(crm_db *db, const int64_t *ids, long n, uint64_t *touch, double *seconds);

/* The accessor a column of `type` (CRM_TYPE_*) is read with on the
 * reference side: decimals are scaled integers, datetimes ms, booleans 0/1. */
enum { BENCH_READ_TEXT, BENCH_READ_INT, BENCH_READ_DOUBLE };
int bench_read_kind(int type);

/* ---- deals, customers and reports (bench_report, bench_pg) ---- */

#define BENCH_NCUSTOMERS 10000
#define BENCH_SINCE_MS 1719792000000LL /* 2024-07-01T00:00:00Z */
#define BENCH_SINCE_ISO "2024-07-01T00:00:00Z"

/* The customer and deal forms (a deal refers to a customer). */
extern const char bench_deal_metadata[];

typedef struct bench_report_spec {
	const char *name;
	const char *doc;    /* applied with crm_apply */
	const char *params; /* crm_report_run's params_json */
	const char *sql;    /* the same question in hand-written SQLite SQL; ?1 = since (ms) where used */
	int binds_since;
} bench_report_spec;

extern const bench_report_spec bench_reports[];
extern const int bench_nreports;

/* One report result kept for the equivalence check (outside the clock). */
typedef struct bench_cell {
	int null;
	int64_t i;
	double d;
	char *s;
} bench_cell;

typedef struct bench_result {
	int ncols;
	long nrows, cap;
	bench_cell *cells;
} bench_result;

/* Room for row r->nrows. */
void bench_result_grow(bench_result *r);
bench_cell *bench_result_cell(bench_result *r, long row, int col);
void bench_cell_set(bench_cell *c, int null, int64_t i, double d, const char *s);
void bench_result_free(bench_result *r);
/* 0 when `a` (libcrm's) and `b` (the reference's, called `ref`) are the
 * same table: same rows, same order, same values (floating-point numbers
 * within 1e-9 relative); else 1 with the first difference in `why`. */
int bench_result_differs(const bench_result *a, const bench_result *b, const int *kinds, const char *ref, char *why,
			 size_t whylen);

#define BENCH_REPORT_MAX_COLS 32

typedef struct bench_report_out {
	double t_all; /* the whole run */
	double t_run; /* until crm_report_run returned (compile, prepare, bind) */
	long rows;
	uint64_t touch; /* every value read, folded in */
} bench_report_out;

/* libcrm's side of a report: crm_report_run, then crm_report_next to
 * CRM_DONE reading every column with its accessor; with `keep`, the values
 * are kept for the equivalence check. CRM_OK or libcrm's error. */
int bench_report_crm_once(crm_db *db, const bench_report_spec *s, bench_report_out *o, bench_result *keep);
/* The reference accessors of the report's columns (bench_read_kind) in
 * kinds[BENCH_REPORT_MAX_COLS] and their count in *ncol: CRM_OK or libcrm's error. */
int bench_report_kinds(crm_db *db, const bench_report_spec *s, int *kinds, int *ncol);

/* BENCH_NCUSTOMERS customers, then `nrows` deals through crm_batch, each
 * created at a generated instant (the clock is restored afterwards):
 * CRM_OK or libcrm's error. */
int bench_deals_generate(crm_db *db, long nrows);

/* ---- workflow (bench_workflow, bench_pg) ---- */

#define BENCH_WF_STEPS 5
/* Form "deal" (name, score, step) and workflow "pipeline": s0 -> ... -> s5,
 * event "advance", guard record.score >= 10, action set step. */
extern const char bench_wf_metadata[];
extern const char *const bench_wf_states[BENCH_WF_STEPS + 1];

/* The hand-written transition's statements (portable SQL, `?` placeholders):
 * read the instance by record, read the record, update the record, update
 * the instance, append the history row. */
extern const char bench_wf_sql_read_inst[];
extern const char bench_wf_sql_read_rec[];
extern const char bench_wf_sql_up_rec[];
extern const char bench_wf_sql_up_inst[];
extern const char bench_wf_sql_hist[];

/* `n` deals (score 10..99, step 0) through crm_batch, so their instances
 * start: CRM_OK or libcrm's error. */
int bench_wf_load(crm_db *db, long n);

/* The hand-written side's guard: the same Lua, compiled once. */
struct lua_State;
typedef struct bench_guard {
	struct lua_State *L;
	int ref;
} bench_guard;
void bench_guard_open(bench_guard *g);
/* Call the guard on a record {name, score, step}: 1 when it passes. */
int bench_guard_call(bench_guard *g, const char *name, int64_t score, int64_t step);
void bench_guard_close(bench_guard *g);

#endif
