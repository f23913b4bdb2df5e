/* Internals of the report engine: a report definition once parsed and
 * checked against the forms it reads (define.c), its one SQL statement
 * (compile.c), parameters (params.c), the handle's cache of compiled
 * reports (catalog.c), the row cursor (run.c) and drill-down (drill.c). */
#ifndef CRM_REPORT_INT_H
#define CRM_REPORT_INT_H

#include <cJSON.h>

#include "access/access.h"
#include "core/db_int.h"
#include "crm/report.h"
#include "store/filter.h"
#include "store/schema.h"

#define CRM__REPORT_MAX_REFS 4      /* references one field path may follow */
#define CRM__REPORT_MAX_DIMS 16
#define CRM__REPORT_MAX_MEASURES 64
#define CRM__REPORT_MAX_STAGES 64
#define CRM__REPORT_MAX_WINDOW 1000 /* periods in a rolling window */
#define CRM__REPORT_MAX_IDS 9000    /* ids one drill-down query may list */

enum crm__bucket { CRM__B_NONE, CRM__B_DAY, CRM__B_WEEK, CRM__B_MONTH, CRM__B_QUARTER, CRM__B_YEAR };
enum crm__ragg { CRM__A_COUNT, CRM__A_COUNT_DISTINCT, CRM__A_SUM, CRM__A_AVG, CRM__A_MIN, CRM__A_MAX, CRM__A_RATIO };
enum crm__compare { CRM__CMP_NONE, CRM__CMP_PREVIOUS, CRM__CMP_LAST_YEAR };
enum crm__funnel { CRM__FUNNEL_NONE, CRM__FUNNEL_FIELD, CRM__FUNNEL_WORKFLOW };

/* One LEFT JOIN through a reference field: the table aliased "j<i+1>" is
 * `form`, joined on its id = the ref column of the parent (-1: the source
 * table, aliased "t"). Paths sharing a prefix share its joins. */
typedef struct crm__rjoin {
	int parent;
	int ref_column;  /* position of the ref field in the parent's form */
	crm__form *form; /* retained */
} crm__rjoin;

/* A column reached through joins ("customer.industry"): a field (or system
 * column) of the form of join `join`. */
typedef struct crm__rvcol {
	int join;
	int column; /* field position or enum crm__syscol */
} crm__rvcol;

typedef struct crm__rdim {
	char *name, *label;
	int column; /* column of the report's virtual form */
	int bucket; /* enum crm__bucket */
} crm__rdim;

typedef struct crm__rmeasure {
	char *name, *label;
	int agg;              /* enum crm__ragg */
	int column;           /* virtual-form column, or INT32_MIN for count(*) */
	int num, den;         /* ratio: measure indexes */
	crm__filter *filter;  /* only records matching it count (NULL: all) */
	crm_type type;        /* of the result */
	int scale;            /* decimals */
	int compare;          /* gets _prev, _delta, _pct columns */
	int running;          /* gets a _running column */
} crm__rmeasure;

typedef struct crm__rrolling {
	int measure;
	int window;
} crm__rrolling;

/* An order key: a dimension (>= 0) or a measure (~index). */
typedef struct crm__rorder {
	int key;
	int desc;
} crm__rorder;

typedef struct crm__rparam {
	char *name;
	crm_type type; /* declared type, 0 when not declared */
	cJSON *def;    /* declared default (owned), or NULL: the parameter is required */
	int used;
} crm__rparam;

/* A result column as the cursor describes it. */
typedef struct crm__rcolumn {
	char *name, *label;
	crm_type type;
	int scale;
} crm__rcolumn;

/* One "?" of the compiled statement: a literal owned by the report, or a
 * named parameter used by condition `node` of a filter parsed against
 * `form` (converted when the report runs, with the rules of that field). */
typedef struct crm__rbind {
	const crm__value *v;
	const char *param;
	const crm__filter *node;
	const crm__form *form;
} crm__rbind;

typedef struct crm__rbinds {
	crm__rbind *v;
	int n, cap;
	int oom;
} crm__rbinds;

typedef struct crm__report {
	int refs;
	const crm__dialect *dialect; /* of the handle it was compiled on */
	char *name, *label;
	int64_t version;
	char *body;           /* normalised definition JSON */
	crm__form *source;    /* retained */
	/* The source form's fields followed by one field per path column
	 * ("customer.industry", a copy of the target field under that name):
	 * filters parse against it and SQL reads it from a subquery exposing
	 * those names, so the filter compiler needs no notion of joins. */
	crm__form vform;
	crm__rvcol *vcols;    /* for vform fields from source->nfields on */
	int nvcols;
	crm__rjoin *joins;
	int njoins;
	/* The measures as the fields of a form, for "having". */
	crm__form mform;
	crm__rdim *dims;
	int ndims;
	crm__rmeasure *measures;
	int nmeasures;
	crm__filter *filter;
	crm__filter *having;
	crm__rorder *order;
	int norder;
	int64_t limit;        /* -1: none */
	int totals;
	int compare;          /* enum crm__compare */
	int time_dim;         /* the dimension with a bucket, -1 when none */
	crm__rrolling *rolling;
	int nrolling;
	int tz_minutes;       /* fixed offset of the buckets */
	char tz_text[8];      /* "+08:00", or "Z" */
	/* funnels */
	int funnel;           /* enum crm__funnel */
	int funnel_column;    /* the enum field (vform column) */
	char *workflow;
	char **stages;
	int nstages;
	crm__rparam *params;
	int nparams;
	/* constants bound by the statement (stage names, workflow, limit) */
	crm__value *consts;
	int nconsts;
	/* The actor's view (lib/access) of the source form (views[0]) and of
	 * each join's form (views[1 + j]), owned: set on a private copy compiled
	 * for one run of an actor the rules restrict (access.c), so every table
	 * is read through the actor's row rules; NULL on the handle's cache. */
	crm__access **views;
	int nviews;
	/* compiled */
	char *sql;
	crm__rbinds binds;
	crm__rcolumn *cols;
	int ncols;
} crm__report;

/* ---- define.c ---- */
/* Parse and check a definition against the current forms. Errors are
 * CRM_EINVAL with a "path" in the detail. */
int crm__report_define(crm_db *db, const cJSON *def, crm__report **out);
/* The same, compiled for the views views[0 .. nviews) (taken over: freed
 * with the report, even on failure; NULL: none). */
int crm__report_define_as(crm_db *db, const cJSON *def, crm__access **views, int nviews, crm__report **out);
void crm__report_retain(crm__report *rep);
void crm__report_release(crm__report *rep);
/* The join chain's first join (hanging off the source table) of vform column `column`, or -1. */
int crm__report_root_join(const crm__report *rep, int column);
/* The name of operator `op` as the filter language writes it. */
const char *crm__report_op_name(crm__fop op);
/* Call fn on every condition with a named parameter in `f`. */
void crm__report_each_param(const crm__filter *f, void (*fn)(void *payload, const crm__filter *node), void *payload);

/* ---- compile.c: the one place report SQL is written ---- */
/* Build rep->sql, rep->binds and rep->cols. */
int crm__report_compile(crm_db *db, crm__report *rep);
/* Append a filter's SQL over alias `alias` of `form`, recording its binds. */
void crm__report_filter_sql(const crm__dialect *d, crm__buf *sql, crm__rbinds *binds, const crm__filter *f, const crm__form *form,
			    const char *alias);
/* "FROM ..." of the source table with every join ("t" and "j1".."jn"),
 * exposing the virtual columns by their path names. */
void crm__report_from_sql(crm__buf *sql, crm__rbinds *binds, const crm__report *rep);
/* A subquery over the form of join `root` (and the joins below it)
 * exposing "id" and every virtual column under `root`, plus one row of
 * NULLs with a NULL id (for drill-down: whether a condition holds when
 * the reference is empty). */
void crm__report_path_sql(crm__buf *sql, crm__rbinds *binds, const crm__report *rep, int root);
/* The funnel's common table expressions ("st__" stages; "x__" furthest
 * stage per record for workflow funnels), ending in ", ". */
void crm__report_funnel_ctes(crm__buf *sql, crm__rbinds *binds, const crm__report *rep);
void crm__rbinds_free(crm__rbinds *b);
void crm__rbinds_add(crm__rbinds *b, const crm__value *v, const char *param, const crm__filter *node,
		     const crm__form *form);

/* ---- params.c ---- */
/* Parse caller JSON (`what` names it in the message): CRM_EINVAL with the
 * byte offset when it is not JSON, CRM_ENOMEM when memory ran out. */
int crm__report_parse_json(crm_db *db, const char *text, const char *what, cJSON **out);
typedef struct crm__rargs_conv crm__rargs_conv;
typedef struct crm__rargs {
	cJSON *doc;          /* the caller's parameters, parsed */
	const cJSON **vals;  /* by report parameter: given value or default */
	crm__rargs_conv *conv;
	int nconv, capconv;
} crm__rargs;
/* Check `params_json` against the report's parameters: unknown names,
 * missing values. */
int crm__rargs_init(crm_db *db, const crm__report *rep, const char *params_json, crm__rargs *args);
void crm__rargs_free(crm__rargs *args);
/* The condition `node` (which names a parameter) with the parameter's
 * value as its literal, converted by the rules of its field. Borrowed from args. */
int crm__rargs_literal(crm_db *db, const crm__report *rep, crm__rargs *args, const crm__filter *node,
		       const crm__form *form, const crm__filter **out);
/* Bind every "?" of `binds` to `st` (starting at 1). */
int crm__rargs_bind(crm_db *db, const crm__report *rep, crm__rargs *args, const crm__rbinds *binds,
		    crm__stmt *st);
/* Check a parameter value (from a definition's default) for every use. */
int crm__report_check_param(crm_db *db, const crm__report *rep, const crm__rparam *p, const cJSON *value,
			    const char *path);

/* ---- catalog.c ---- */
int crm__report_apply(crm_db *db, const cJSON *doc);
/* The latest version of report `name`, compiled (borrowed until the next
 * metadata change; retain it to keep it). CRM_ENOTFOUND when absent. */
int crm__report_lookup(crm_db *db, const char *name, crm__report **out);

/* ---- access.c: reports as the actor may run them ---- */
/* Report `name` as the current actor may run it, retained in *out
 * (crm__report_release): the handle's compiled one when no rule restricts
 * the actor on the forms it reads; else, once every column it reads is
 * readable (CRM_EPERM naming the first hidden one), a private copy whose
 * every table is read through the actor's row rules (docs/access.md). */
int crm__report_for_actor(crm_db *db, const char *name, crm__report **out);
/* Free views[0 .. n) and the array (NULL does nothing). */
void crm__report_views_free(crm__access **views, int n);

/* ---- run.c ---- */
/* Read one result value as the cursor shows it. */
void crm__report_value_json(crm__buf *out, const crm__rcolumn *c, crm__stmt *st, int i);

#endif
