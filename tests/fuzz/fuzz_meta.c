/* libFuzzer target: the input is a metadata document, or an array of them,
 * for the workflow and report engines (workflows, decision tables, reports,
 * plugins, and forms that may redefine the fixed ones), applied with
 * crm_apply on top of fixed forms (customer, lead, task) and two seed
 * records.
 *
 * Every input gets a fresh in-memory database (as in fuzz_record: crashes
 * reproduce from the input alone and crm_close frees everything, which
 * keeps libFuzzer's leak check cheap). Lua runs under low limits so hostile
 * plugins and guards stop fast, and every loop over what the input names is
 * capped, so the work per input stays bounded.
 *
 * Invariants:
 *  - every call returns a known code, and a failing one a well-formed error;
 *  - a failing crm_apply changes nothing (crm_meta rows, and a hash of every
 *    table and of the schema, are the same before and after);
 *  - re-applying an accepted single document changes nothing;
 *  - every failing write (insert, update, delete, start, fire, decide,
 *    migrate) changes nothing;
 *  - crm_workflow_events, reports and decision tables only look: the
 *    database hash is the same after them;
 *  - outputs are JSON of the documented shape; a report's drill-down query
 *    is accepted by crm_query/crm_count on the report's source form, and
 *    its count equals the row's plain count measure (or funnel "reached").
 *
 * When the input is accepted the target exercises it: inserts and updates
 * fixed leads (which may start workflows and take automatic transitions),
 * starts every workflow it defines (on the older lead, and free-standing),
 * fires fixed events and every event name found in the document, decides
 * pending approvals, ticks timers at a few times, migrates, lists events,
 * instances and history, runs every report (NULL params, a fixed params
 * object, params fitted to the report) with output, explain and drill, and
 * evaluates every decision table with fixed and fitted inputs.
 *
 * FUZZ_META_VERBOSE=1 in the environment prints why crm_apply refused an
 * input (for checking seeds: run the binary on the seed files). */
#include <sqlite3.h>
#include <stdint.h>

#include "backend/sqlite_int.h" /* the handle's SQLite connection, to hash the database */
#include "core/db_int.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2026-01-02T03:04:05Z */
#define NOW_MS 1767323045000LL
#define HOUR_MS 3600000LL

/* Caps on what one input may make the target do. */
#define MAX_WORKFLOWS 8
#define MAX_REPORTS 8
#define MAX_DECISIONS 8
#define MAX_EVENTS 24
#define MAX_REPORT_ROWS 200
#define TICK_ALLOC_BUDGET 20000

static const int64_t TICKS[] = { 2 * HOUR_MS, 25 * HOUR_MS, 49 * HOUR_MS, 8 * 24 * HOUR_MS, 40 * 24 * HOUR_MS };

static const char BASE_FORMS[] =
	"[{\"form\":\"customer\",\"label\":\"Customer\",\"fields\":["
	"{\"name\":\"name\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"industry\",\"type\":\"enum\",\"options\":[\"retail\",\"tech\",\"finance\"]},"
	"{\"name\":\"tier\",\"type\":\"text\"}]},"
	"{\"form\":\"lead\",\"label\":\"Lead\",\"fields\":["
	"{\"name\":\"name\",\"type\":\"text\",\"max_length\":100},"
	"{\"name\":\"region\",\"type\":\"enum\",\"options\":[\"north\",\"south\",\"east\",\"west\"]},"
	"{\"name\":\"channel\",\"type\":\"enum\",\"options\":[\"web\",\"wechat\"]},"
	"{\"name\":\"stage\",\"type\":\"enum\",\"options\":[\"new\",\"qualified\",\"opportunity\",\"won\",\"lost\"]},"
	"{\"name\":\"score\",\"type\":\"integer\",\"default\":0},"
	"{\"name\":\"budget\",\"type\":\"decimal\",\"scale\":2},"
	"{\"name\":\"amount\",\"type\":\"number\"},"
	"{\"name\":\"due\",\"type\":\"datetime\"},"
	"{\"name\":\"close_date\",\"type\":\"date\"},"
	"{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"high_intent\",\"vip\",\"cold\"]},"
	"{\"name\":\"flagged\",\"type\":\"boolean\"},"
	"{\"name\":\"customer\",\"type\":\"ref\",\"form\":\"customer\",\"on_delete\":\"set_null\"}],"
	"\"indexes\":[[\"region\",\"created_at\"]]},"
	"{\"form\":\"task\",\"label\":\"Task\",\"fields\":["
	"{\"name\":\"title\",\"type\":\"text\",\"required\":true},"
	"{\"name\":\"lead\",\"type\":\"ref\",\"form\":\"lead\",\"on_delete\":\"cascade\"},"
	"{\"name\":\"due\",\"type\":\"datetime\"},"
	"{\"name\":\"status\",\"type\":\"enum\",\"options\":[\"open\",\"done\"],\"default\":\"open\"}]}]";

static const char SEED_CUSTOMER[] = "{\"name\":\"Acme\",\"industry\":\"tech\",\"tier\":\"gold\"}";
/* Lead 1 exists before the input is applied (so form documents migrate data
 * and manual starts have a record); the others are inserted after it. */
static const char OLD_LEAD[] = "{\"name\":\"Old\",\"region\":\"east\",\"channel\":\"web\",\"stage\":\"qualified\","
			       "\"score\":40,\"budget\":\"5000.00\",\"customer\":1}";
static const char *const NEW_LEADS[] = {
	"{\"name\":\"Main\",\"region\":\"north\",\"channel\":\"web\",\"stage\":\"new\",\"score\":70,"
	"\"budget\":\"150000.00\",\"amount\":2.5,\"due\":\"2026-01-05T00:00:00Z\",\"close_date\":\"2026-01-25\","
	"\"tags\":[\"vip\"],\"flagged\":false,\"customer\":1}",
	"{\"name\":\"Second\",\"region\":\"south\",\"channel\":\"wechat\",\"stage\":\"new\",\"score\":10}",
	"{\"name\":\"Third\"}",
};
static const char MAIN_UPDATE[] = "{\"score\":90,\"budget\":\"80000.00\",\"stage\":\"qualified\"}";
static const char FIRE_FIELDS[] = "{\"budget\":\"90000.00\",\"customer\":1,\"close_date\":\"2026-02-01\"}";

/* Events fired whatever the document says: before the approvals are
 * decided, and after the document's own events. */
static const char *const FIRST_EVENTS[] = { "contact", "qualify", "submit" };
static const char *const LAST_EVENTS[] = { "sla_breach", "lose" };

static const char FIXED_PARAMS[] = "{\"since\":\"2025-01-01T00:00:00Z\",\"me\":\"alice\",\"min\":1,\"region\":\"north\"}";
static const char FIXED_INPUTS[] = "{\"region\":\"north\",\"product_line\":\"saas\",\"budget\":150000,\"score\":70,"
				   "\"channel\":\"web\",\"stage\":\"new\",\"owner\":\"alice\",\"flag\":true,\"n\":null}";

#define ACTOR "alice"
#define ACTOR_ROLES "sales,manager,technical,legal,finance"

static int verbose;

/* Allocations the library may still make: < 0 without a limit. Only
 * crm_tick runs under a budget (see tick()). */
static long alloc_budget = -1;
static long alloc_count;

static void *budget_malloc(size_t n, void *payload)
{
	(void)payload;
	alloc_count++;
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

static void *budget_realloc(void *p, size_t n, void *payload)
{
	(void)payload;
	alloc_count++;
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return realloc(p, n);
}

static void budget_free(void *p, void *payload)
{
	(void)payload;
	free(p);
}

/* As the host, point cJSON at the same budget (libcrm leaves cJSON's hooks
 * to the host), so crm_tick's failures reach its cJSON trees too. */
static void *budget_cjson_malloc(size_t n) { return budget_malloc(n, NULL); }
static void budget_cjson_free(void *p) { budget_free(p, NULL); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static cJSON_Hooks hooks = { budget_cjson_malloc, budget_cjson_free };
	static const crm_allocator a = { CRM_ALLOCATOR_VERSION, budget_malloc, budget_realloc, budget_free, NULL };
	const char *v = getenv("FUZZ_META_VERBOSE");

	(void)argc;
	(void)argv;
	verbose = v && *v && *v != '0';
	FUZZ_ASSERT(crm_allocator_set(&a) == CRM_OK, "crm_allocator_set failed");
	cJSON_InitHooks(&hooks);
	return 0;
}

/* ---- the database's content, to check that a call changed nothing ---- */

/* The hash is the target's own bookkeeping: keep libFuzzer's coverage
 * instrumentation (and its cost) out of it. */
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))

NO_COVERAGE static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 1099511628211ULL;
	}
}

/* The fuzzer runs on SQLite: the backend's connection is SQLite's own. */
static sqlite3 *raw(crm_db *db) { return LITE_CONN(db)->h; }

/* Hash every row of every column of `sql`'s result into *h. */
NO_COVERAGE static void hash_query(sqlite3 *sql, const char *q, uint64_t *h)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(sql, q, -1, &st, NULL);

	FUZZ_ASSERT(rc == SQLITE_OK, "cannot prepare %s: %s", q, sqlite3_errmsg(sql));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_count(st);
		for (int i = 0; i < n; i++) {
			unsigned char t = (unsigned char)sqlite3_column_type(st, i);
			const void *v = sqlite3_column_blob(st, i);
			hash_bytes(h, &t, 1);
			if (v)
				hash_bytes(h, v, (size_t)sqlite3_column_bytes(st, i));
			hash_bytes(h, "|", 1);
		}
		hash_bytes(h, "\n", 1);
	}
	FUZZ_ASSERT(rc == SQLITE_DONE, "cannot read %s: %s", q, sqlite3_errmsg(sql));
	sqlite3_finalize(st);
}

/* A hash of the schema and of every row of every table. */
NO_COVERAGE static uint64_t db_hash(crm_db *db)
{
	uint64_t h = 14695981039346656037ULL;
	sqlite3_stmt *st = NULL;
	char q[256];
	int rc;

	hash_query(raw(db), "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name", &h);
	rc = sqlite3_prepare_v2(raw(db), "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", -1, &st,
				NULL);
	FUZZ_ASSERT(rc == SQLITE_OK, "cannot list tables: %s", sqlite3_errmsg(raw(db)));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		snprintf(q, sizeof q, "SELECT * FROM \"%s\"", name);
		hash_bytes(&h, name, strlen(name));
		hash_query(raw(db), q, &h);
	}
	sqlite3_finalize(st);
	return h;
}

static int64_t meta_rows(crm_db *db)
{
	sqlite3_stmt *st = NULL;
	int64_t n;
	int rc = sqlite3_prepare_v2(raw(db), "SELECT count(*) FROM crm_meta", -1, &st, NULL);

	FUZZ_ASSERT(rc == SQLITE_OK, "cannot count crm_meta: %s", sqlite3_errmsg(raw(db)));
	FUZZ_ASSERT(sqlite3_step(st) == SQLITE_ROW, "cannot count crm_meta: %s", sqlite3_errmsg(raw(db)));
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* fuzz_check_result, and no CRM_ERROR: in an in-memory database a generic
 * failure (an SQLite error the library did not expect) is a bug. */
static void check(crm_db *db, int rc, const char *what, size_t len)
{
	if (verbose && rc != CRM_OK && rc != CRM_ROW && rc != CRM_DONE)
		fprintf(stderr, "fuzz_meta: %s: %s (offset %d)\n", what, crm_errdetail(db), crm_erroffset(db));
	/* A refusing guard is CRM_ECONSTRAINT (docs/workflow.md) but its detail
	 * lists no "errors" (no field failed), which fuzz_check_result insists
	 * on for that code: check the rest of it here. */
	if (rc == CRM_ECONSTRAINT && strstr(crm_errmsg(db), ": the guard of '") &&
	    !strstr(crm_errdetail(db), "\"errors\":")) {
		cJSON *j = cJSON_Parse(crm_errdetail(db));
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
		FUZZ_ASSERT(crm_errcode(db) == rc, "%s returned %d but crm_errcode says %d", what, rc, crm_errcode(db));
		FUZZ_ASSERT(cJSON_IsString(code) && !strcmp(code->valuestring, "CRM_ECONSTRAINT"),
			    "%s: detail code does not match: %s", what, crm_errdetail(db));
		FUZZ_ASSERT(crm_erroffset(db) >= -1 && crm_erroffset(db) <= (int)len, "%s: error offset %d", what,
			    crm_erroffset(db));
		cJSON_Delete(j);
		return;
	}
	fuzz_check_result(db, rc, what, len);
	FUZZ_ASSERT(rc != CRM_ERROR, "%s failed with CRM_ERROR: %s", what, crm_errmsg(db));
}

/* After a write call: a well-formed result, and a failure changed nothing. */
static int after_write(crm_db *db, int rc, uint64_t before, const char *what, size_t len)
{
	check(db, rc, what, len);
	if (rc != CRM_OK)
		FUZZ_ASSERT(db_hash(db) == before, "failing %s (%s: %s) changed the database", what, crm_errstr(rc),
			    crm_errmsg(db));
	return rc;
}

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

/* A JSON result: parses as one of the cJSON types in `types` (a bit mask). */
static void check_json_of(const char *json, int types, const char *what)
{
	cJSON *j;

	FUZZ_ASSERT(json != NULL, "%s returned NULL JSON", what);
	j = cJSON_Parse(json);
	FUZZ_ASSERT(j && ((j->type & 0xff) & types), "%s returned bad JSON: %s", what, json);
	cJSON_Delete(j);
}

/* ---- what the document names ---- */

typedef struct named {
	const char *name;
	const cJSON *doc; /* the last document of that name (its latest version) */
} named;

typedef struct found {
	named workflows[MAX_WORKFLOWS];
	named reports[MAX_REPORTS];
	named decisions[MAX_DECISIONS];
	const char *events[MAX_EVENTS];
	int nworkflows, nreports, ndecisions, nevents;
} found;

static void add_named(named *list, int *n, int max, const char *name, const cJSON *doc)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(list[i].name, name)) {
			list[i].doc = doc;
			return;
		}
	if (*n < max) {
		list[*n].name = name;
		list[*n].doc = doc;
		(*n)++;
	}
}

static void add_event(found *f, const char *name)
{
	for (int i = 0; i < f->nevents; i++)
		if (!strcmp(f->events[i], name))
			return;
	if (f->nevents < MAX_EVENTS)
		f->events[f->nevents++] = name;
}

/* Every string under a key naming an event: transitions' and timers'
 * "event", approvals' "approved" and "rejected". */
static void collect_events(found *f, const cJSON *j)
{
	for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
		if (c->string && cJSON_IsString(c) &&
		    (!strcmp(c->string, "event") || !strcmp(c->string, "approved") || !strcmp(c->string, "rejected")))
			add_event(f, c->valuestring);
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			collect_events(f, c);
	}
}

/* The kinds, tried in crm_apply's order. */
static void collect_doc(found *f, const cJSON *doc)
{
	const cJSON *v;

	if (!cJSON_IsObject(doc))
		return;
	if ((v = cJSON_GetObjectItemCaseSensitive(doc, "workflow"))) {
		if (cJSON_IsString(v))
			add_named(f->workflows, &f->nworkflows, MAX_WORKFLOWS, v->valuestring, doc);
		collect_events(f, doc);
	} else if (cJSON_GetObjectItemCaseSensitive(doc, "plugin")) {
		/* reached through workflows and validators */
	} else if ((v = cJSON_GetObjectItemCaseSensitive(doc, "decision"))) {
		if (cJSON_IsString(v))
			add_named(f->decisions, &f->ndecisions, MAX_DECISIONS, v->valuestring, doc);
	} else if ((v = cJSON_GetObjectItemCaseSensitive(doc, "report"))) {
		if (cJSON_IsString(v))
			add_named(f->reports, &f->nreports, MAX_REPORTS, v->valuestring, doc);
	}
}

/* ---- workflows ---- */

/* A listing's result: a JSON array when it succeeds; `must` when it has to. */
static void check_listing(crm_db *db, int rc, char *out, const char *what, int must)
{
	check(db, rc, what, 0);
	FUZZ_ASSERT(rc == CRM_OK || !must, "%s failed: %s: %s", what, crm_errstr(rc), crm_errmsg(db));
	if (rc == CRM_OK)
		check_json_of(out, cJSON_Array, what);
	crm_free(out);
}

/* Events, instances and history of a record (`exists`: the instances and
 * history of an existing record can always be listed); events only look. */
static void list_record(crm_db *db, const char *form, int64_t id, int exists)
{
	char *out = NULL;
	uint64_t h = db_hash(db);
	int rc = crm_workflow_events(db, form, id, &out);

	check_listing(db, rc, out, "crm_workflow_events", 0);
	FUZZ_ASSERT(db_hash(db) == h, "crm_workflow_events (%s) changed the database", crm_errstr(rc));
	out = NULL;
	rc = crm_workflow_instances(db, form, id, &out);
	check_listing(db, rc, out, "crm_workflow_instances", exists);
	out = NULL;
	rc = crm_workflow_history(db, form, id, &out);
	check_listing(db, rc, out, "crm_workflow_history", exists);
}

static int fire(crm_db *db, int64_t id, const char *event, const char *fields)
{
	uint64_t h = db_hash(db);

	return after_write(db, crm_workflow_fire(db, "lead", id, event, fields), h, "crm_workflow_fire", slen(fields));
}

static int fire_instance(crm_db *db, int64_t instance, const char *event)
{
	uint64_t h = db_hash(db);

	return after_write(db, crm_workflow_fire_instance(db, instance, event, NULL), h, "crm_workflow_fire_instance",
			   0);
}

static void decide(crm_db *db, int64_t id, const char *decision, const char *reason)
{
	uint64_t h = db_hash(db);

	after_write(db, crm_workflow_decide(db, "lead", id, decision, reason), h, "crm_workflow_decide", 0);
}

/* crm_tick under an allocation budget. A timer that re-enters its own state
 * (an "at" or "field" deadline already past, a "reenter" transition) fires
 * again at once, and crm_tick only stops such a loop after 100000 events
 * (MAX_FIRES_PER_TICK, a minute under ASan); the budget ends it after a few
 * thousand with CRM_ENOMEM instead, which the tick must survive cleanly.
 * In an in-memory database nothing else may fail a tick. */
static void tick(crm_db *db, int64_t after_ms)
{
	int64_t fired = -1;
	int rc;

	alloc_count = 0;
	alloc_budget = TICK_ALLOC_BUDGET;
	rc = crm_tick(db, NOW_MS + after_ms, &fired);
	alloc_budget = -1;
	if (verbose)
		fprintf(stderr, "fuzz_meta: tick +%lldh: %s %s, %lld fired, %ld allocations\n",
			(long long)(after_ms / HOUR_MS), crm_errstr(rc), rc ? crm_errmsg(db) : "", (long long)fired,
			alloc_count);
	check(db, rc, "crm_tick", 0);
	FUZZ_ASSERT(rc == CRM_OK || rc == CRM_ENOMEM, "crm_tick failed: %s: %s", crm_errstr(rc), crm_errmsg(db));
	FUZZ_ASSERT(fired >= 0, "crm_tick fired %lld", (long long)fired);
}

/* Decide as `user` with `roles`, then act as the usual actor again. */
static void decide_as(crm_db *db, int64_t id, const char *user, const char *roles, const char *decision,
		      const char *reason)
{
	crm_actor_set(db, user, roles);
	decide(db, id, decision, reason);
	crm_actor_set(db, ACTOR, ACTOR_ROLES);
}

/* Apply `doc` again with another label: a new version of the same
 * definition. (It may fail: a later document of the input may have
 * changed a form it uses; then nothing changes.) */
static void new_version(crm_db *db, const cJSON *doc)
{
	cJSON *copy = cJSON_Duplicate(doc, 1);
	char *text;
	uint64_t h = db_hash(db);

	if (!copy)
		abort();
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "label");
	cJSON_AddStringToObject(copy, "label", "next version");
	text = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	if (!text)
		abort();
	after_write(db, crm_apply(db, text), h, "crm_apply (new version)", strlen(text));
	cJSON_free(text);
}

static void exercise_workflows(crm_db *db, const found *f, int64_t main_id, int64_t old_id)
{
	int64_t instance, n;
	uint64_t h;
	char *out = NULL;
	int rc, i, k;

	for (i = 0; i < f->nworkflows; i++) {
		/* On the older lead (for workflows bound to lead), and free-standing. */
		h = db_hash(db);
		after_write(db, crm_workflow_start(db, f->workflows[i].name, old_id, &instance), h, "crm_workflow_start",
			    0);
		h = db_hash(db);
		instance = 0;
		rc = after_write(db, crm_workflow_start(db, f->workflows[i].name, 0, &instance), h, "crm_workflow_start",
				 0);
		if (rc == CRM_OK) {
			FUZZ_ASSERT(instance > 0, "crm_workflow_start gave instance %lld", (long long)instance);
			for (k = 0; k < f->nevents && k < 8; k++)
				fire_instance(db, instance, f->events[k]);
			fire_instance(db, instance, "nothing_fires_this");
		}
	}

	if (main_id > 0) {
		for (k = 0; k < (int)(sizeof FIRST_EVENTS / sizeof *FIRST_EVENTS); k++)
			fire(db, main_id, FIRST_EVENTS[k], NULL);
		/* Pending approvals (before the document's events, which include
		 * the approvals' own): nobody, someone without roles, then the
		 * usual actor, who has every role the seeds use. */
		decide_as(db, main_id, NULL, NULL, "approve", NULL);
		decide_as(db, main_id, "bob", "", "approve", NULL);
		decide_as(db, main_id, "bob", "finance", "reject", "not now");
		decide(db, main_id, "approve", NULL);
		decide(db, main_id, "approve", NULL);
		decide(db, main_id, "reject", "too expensive");
		decide(db, main_id, "reject", NULL);
		decide(db, main_id, "maybe", "x");
		for (k = 0; k < f->nevents; k++)
			fire(db, main_id, f->events[k], NULL);
		if (f->nevents)
			fire(db, main_id, f->events[0], FIRE_FIELDS);
		for (k = 0; k < (int)(sizeof LAST_EVENTS / sizeof *LAST_EVENTS); k++)
			fire(db, main_id, LAST_EVENTS[k], NULL);
	}
	if (old_id > 0) {
		for (k = 0; k < f->nevents && k < 8; k++)
			fire(db, old_id, f->events[k], NULL);
		decide(db, old_id, "approve", NULL);
		decide(db, old_id, "reject", "no");
	}

	/* Timers: a few hours, a day, two days, a week and more. */
	for (k = 0; k < (int)(sizeof TICKS / sizeof *TICKS); k++)
		tick(db, TICKS[k]);

	/* A new version of each workflow (the same document with another
	 * label), and its running instances migrated to it. */
	for (i = 0; i < f->nworkflows; i++) {
		if (i < 2)
			new_version(db, f->workflows[i].doc);
		h = db_hash(db);
		n = -1;
		rc = after_write(db, crm_workflow_migrate(db, f->workflows[i].name, &n), h, "crm_workflow_migrate", 0);
		if (rc == CRM_OK)
			FUZZ_ASSERT(n >= 0, "crm_workflow_migrate moved %lld", (long long)n);
	}
	if (main_id > 0)
		for (k = 0; k < f->nevents && k < 4; k++)
			fire(db, main_id, f->events[k], NULL);

	if (main_id > 0)
		list_record(db, "lead", main_id, 1);
	if (old_id > 0)
		list_record(db, "lead", old_id, 1);
	rc = crm_workflow_instances(db, NULL, 0, &out);
	check_listing(db, rc, out, "crm_workflow_instances(NULL)", 1);
	out = NULL;
	rc = crm_workflow_history(db, NULL, 0, &out);
	check_listing(db, rc, out, "crm_workflow_history(NULL)", 1);
}

/* ---- reports ---- */

/* A value for parameter `name`: by its declared type, else by the field it
 * is compared with (`field`, may be NULL). Returns a new cJSON item. */
static cJSON *param_value(const cJSON *decl, const char *field)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(decl, "type");
	const char *t = cJSON_IsString(type) ? type->valuestring : NULL;

	if (!t && field) {
		const char *last = strrchr(field, '.');
		last = last ? last + 1 : field;
		if (!strcmp(last, "created_at") || !strcmp(last, "updated_at") || !strcmp(last, "due"))
			t = "datetime";
		else if (!strcmp(last, "close_date"))
			t = "date";
		else if (!strcmp(last, "score") || !strcmp(last, "customer") || !strcmp(last, "id") ||
			 !strcmp(last, "version"))
			t = "integer";
		else if (!strcmp(last, "budget"))
			t = "decimal";
		else if (!strcmp(last, "amount"))
			t = "number";
		else if (!strcmp(last, "flagged"))
			t = "boolean";
		else if (!strcmp(last, "owner"))
			return cJSON_CreateString("alice");
	}
	if (!t)
		return cJSON_CreateString("north");
	if (!strcmp(t, "datetime"))
		return cJSON_CreateString("2025-07-01T00:00:00Z");
	if (!strcmp(t, "date"))
		return cJSON_CreateString("2025-07-01");
	if (!strcmp(t, "integer") || !strcmp(t, "ref"))
		return cJSON_CreateNumber(1);
	if (!strcmp(t, "decimal"))
		return cJSON_CreateString("100.00");
	if (!strcmp(t, "number"))
		return cJSON_CreateNumber(1.5);
	if (!strcmp(t, "boolean"))
		return cJSON_CreateTrue();
	return cJSON_CreateString("north");
}

/* Every "param" the report uses (with the field it is compared with). */
static void collect_params(const cJSON *j, const cJSON *decls, cJSON *out)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "param");

	if (cJSON_IsObject(j) && cJSON_IsString(p) && !cJSON_GetObjectItemCaseSensitive(out, p->valuestring)) {
		const cJSON *field = cJSON_GetObjectItemCaseSensitive(j, "field");
		const cJSON *decl = cJSON_GetObjectItemCaseSensitive(decls, p->valuestring);
		/* A measure (in "having") is a count, sum or average: a number fits. */
		cJSON_AddItemToObject(out, p->valuestring,
				      !decl && cJSON_GetObjectItemCaseSensitive(j, "measure")
					      ? cJSON_CreateNumber(1)
					      : param_value(decl, cJSON_IsString(field) ? field->valuestring : NULL));
	}
	for (const cJSON *c = j ? j->child : NULL; c; c = c->next)
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			collect_params(c, decls, out);
}

/* Parameters fitted to the report: its declared ones and every one it uses. */
static char *fitted_params(const cJSON *doc)
{
	const cJSON *decls = cJSON_GetObjectItemCaseSensitive(doc, "params"), *d;
	cJSON *out = cJSON_CreateObject();
	char *s;

	if (!out)
		abort();
	collect_params(doc, cJSON_IsObject(decls) ? decls : NULL, out);
	if (cJSON_IsObject(decls))
		cJSON_ArrayForEach(d, decls)
		{
			if (d->string && !cJSON_GetObjectItemCaseSensitive(out, d->string))
				cJSON_AddItemToObject(out, d->string, param_value(d, NULL));
		}
	s = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	if (!s)
		abort();
	return s;
}

/* The name of a plain count measure (agg count, no field, no filter), or NULL. */
static const char *plain_count(const cJSON *doc)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(doc, "measures"))
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
		const cJSON *agg = cJSON_GetObjectItemCaseSensitive(m, "agg");
		const cJSON *field = cJSON_GetObjectItemCaseSensitive(m, "field");
		const cJSON *filter = cJSON_GetObjectItemCaseSensitive(m, "filter");
		if (cJSON_IsString(name) && cJSON_IsString(agg) && !strcmp(agg->valuestring, "count") &&
		    (!field || cJSON_IsNull(field)) && (!filter || cJSON_IsNull(filter)))
			return name->valuestring;
	}
	return NULL;
}

/* Drill into `row` (crm_report_json of a row): the query must run on the
 * source form and count what the row counts. */
static void drill(crm_db *db, const named *r, const char *params, const char *row, int check_count)
{
	const cJSON *source = cJSON_GetObjectItemCaseSensitive(r->doc, "source");
	const cJSON *funnel = cJSON_GetObjectItemCaseSensitive(r->doc, "funnel");
	const char *measure = !check_count		     ? NULL
			      : funnel && !cJSON_IsNull(funnel) ? "reached"
								: plain_count(r->doc);
	char *query = NULL;
	crm_cursor *cur = NULL;
	int64_t count = -1, rows = 0;
	int rc = crm_report_drill(db, r->name, params, row, &query);

	if (verbose)
		fprintf(stderr, "fuzz_meta: drill %s %s -> %s %s\n", r->name, row, crm_errstr(rc), rc ? "" : query);

	check(db, rc, "crm_report_drill", slen(row) > slen(params) ? slen(row) : slen(params));
	if (rc != CRM_OK)
		return;
	check_json_of(query, cJSON_Object, "crm_report_drill");
	if (!cJSON_IsString(source))
		goto done;
	rc = crm_query(&cur, db, source->valuestring, query);
	FUZZ_ASSERT(rc == CRM_OK, "drill-down query of report %s is refused by crm_query(%s): %s\n  row %s\n  query %s",
		    r->name, source->valuestring, crm_errmsg(db), row, query);
	while ((rc = crm_cursor_next(cur)) == CRM_ROW && rows < 100000)
		rows++;
	FUZZ_ASSERT(rc == CRM_DONE, "drill-down cursor of %s ended with %s: %s", r->name, crm_errstr(rc),
		    crm_errmsg(db));
	crm_cursor_free(cur);
	rc = crm_count(db, source->valuestring, query, &count);
	FUZZ_ASSERT(rc == CRM_OK, "drill-down query of report %s is refused by crm_count: %s\n  query %s", r->name,
		    crm_errmsg(db), query);
	FUZZ_ASSERT(count == rows, "drill-down of %s: crm_count %lld, cursor %lld rows", r->name, (long long)count,
		    (long long)rows);
	if (measure) {
		cJSON *j = cJSON_Parse(row);
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, measure);
		if (cJSON_IsNumber(v))
			FUZZ_ASSERT((int64_t)v->valuedouble == count,
				    "report %s: row says %s = %lld, its drill-down counts %lld\n  row %s\n  query %s",
				    r->name, measure, (long long)v->valuedouble, (long long)count, row, query);
		cJSON_Delete(j);
	}
done:
	crm_free(query);
}

/* Run report `r` with `params`; drill into its first row. */
static void run_report(crm_db *db, const named *r, const char *params)
{
	crm_report *rep = NULL;
	char *first = NULL, *last = NULL;
	int rc = crm_report_run(&rep, db, r->name, params), n, i, rows = 0;

	check(db, rc, "crm_report_run", slen(params));
	if (rc != CRM_OK) {
		FUZZ_ASSERT(rep == NULL, "failed crm_report_run left a report");
		return;
	}
	n = crm_report_column_count(rep);
	FUZZ_ASSERT(n >= 1, "report %s has %d columns", r->name, n);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(crm_report_column_name(rep, i) != NULL, "column %d of %s has no name", i, r->name);
		FUZZ_ASSERT(crm_report_column_label(rep, i) != NULL, "column %d of %s has no label", i, r->name);
		(void)crm_report_column_type(rep, i);
	}
	(void)crm_report_column_name(rep, n); /* out of range: must not crash */
	(void)crm_report_column_label(rep, -1);
	(void)crm_report_column_type(rep, n);
	while ((rc = crm_report_next(rep)) == CRM_ROW && rows < MAX_REPORT_ROWS) {
		for (i = 0; i < n; i++) {
			(void)crm_report_is_null(rep, i);
			(void)crm_report_int64(rep, i);
			(void)crm_report_double(rep, i);
			(void)crm_report_text(rep, i);
		}
		(void)crm_report_is_null(rep, n);
		(void)crm_report_text(rep, -1);
		check_json_of(crm_report_json(rep), cJSON_Object, "crm_report_json");
		if (!first) {
			first = strdup(crm_report_json(rep));
			if (!first)
				abort();
		} else {
			free(last);
			if (!(last = strdup(crm_report_json(rep))))
				abort();
		}
		rows++;
	}
	check(db, rc, "crm_report_next", 0);
	FUZZ_ASSERT(rc == CRM_DONE || rc == CRM_ROW, "report %s ended with %s: %s", r->name, crm_errstr(rc),
		    crm_errmsg(db));
	crm_report_free(rep);
	/* The first and the last row (a grand total with totals), and the
	 * first with every member null. */
	if (first) {
		cJSON *nulled = cJSON_Parse(first), *m, *next;
		char *text;

		drill(db, r, params, first, 1);
		if (last)
			drill(db, r, params, last, 1);
		FUZZ_ASSERT(nulled, "crm_report_json is not JSON: %s", first);
		for (m = nulled->child; m; m = next) {
			next = m->next;
			if (!cJSON_ReplaceItemInObjectCaseSensitive(nulled, m->string, cJSON_CreateNull()))
				abort();
		}
		if (!(text = cJSON_PrintUnformatted(nulled)))
			abort();
		drill(db, r, params, text, 0);
		cJSON_free(text);
		cJSON_Delete(nulled);
		free(first);
		free(last);
	}
}

static void exercise_reports(crm_db *db, const found *f)
{
	for (int i = 0; i < f->nreports; i++) {
		const named *r = &f->reports[i];
		char *fitted = fitted_params(r->doc), *out = NULL;
		int rc;

		run_report(db, r, NULL);
		run_report(db, r, FIXED_PARAMS);
		run_report(db, r, fitted);

		rc = crm_report_output(db, r->name, fitted, "json", &out);
		check(db, rc, "crm_report_output(json)", strlen(fitted));
		if (rc == CRM_OK)
			check_json_of(out, cJSON_Object, "crm_report_output(json)");
		crm_free(out);
		out = NULL;
		rc = crm_report_output(db, r->name, fitted, "csv", &out);
		check(db, rc, "crm_report_output(csv)", strlen(fitted));
		if (rc == CRM_OK)
			FUZZ_ASSERT(out != NULL, "crm_report_output(csv) gave NULL");
		crm_free(out);
		out = NULL;
		rc = crm_report_explain(db, r->name, NULL, &out);
		check(db, rc, "crm_report_explain", 0);
		if (rc == CRM_OK)
			check_json_of(out, cJSON_Object, "crm_report_explain");
		crm_free(out);
		out = NULL;
		rc = crm_report_explain(db, r->name, fitted, &out);
		check(db, rc, "crm_report_explain", strlen(fitted));
		if (rc == CRM_OK)
			check_json_of(out, cJSON_Object, "crm_report_explain");
		crm_free(out);
		out = NULL;
		/* A row without the dimensions. */
		rc = crm_report_drill(db, r->name, NULL, "{}", &out);
		check(db, rc, "crm_report_drill({})", 2);
		crm_free(out);
		cJSON_free(fitted);
	}
}

/* ---- decision tables ---- */

/* Inputs that the first rule with a "when" matches (as far as scalars go). */
static char *fitted_inputs(const cJSON *doc)
{
	const cJSON *rule, *c;
	cJSON *out = cJSON_CreateObject();
	char *s;

	if (!out)
		abort();
	cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(doc, "rules"))
	{
		const cJSON *when = cJSON_GetObjectItemCaseSensitive(rule, "when");
		if (!cJSON_IsObject(when) || !when->child)
			continue;
		cJSON_ArrayForEach(c, when)
		{
			const cJSON *v = c;
			if (cJSON_IsObject(c)) {
				v = cJSON_GetObjectItemCaseSensitive(c, "value");
			}
			if (cJSON_IsArray(v))
				v = v->child;
			if (c->string && v && !cJSON_IsObject(v) && !cJSON_IsArray(v) &&
			    !cJSON_GetObjectItemCaseSensitive(out, c->string))
				cJSON_AddItemToObject(out, c->string, cJSON_Duplicate(v, 0));
		}
		break;
	}
	s = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	if (!s)
		abort();
	return s;
}

static void decide_table(crm_db *db, const named *d, const char *inputs)
{
	char *out = NULL;
	int rc = crm_decision_eval(db, d->name, inputs, &out);

	check(db, rc, "crm_decision_eval", slen(inputs));
	if (rc == CRM_OK)
		check_json_of(out, cJSON_Object | cJSON_Array | cJSON_NULL, "crm_decision_eval");
	crm_free(out);
}

static void exercise_decisions(crm_db *db, const found *f)
{
	for (int i = 0; i < f->ndecisions; i++) {
		char *fitted = fitted_inputs(f->decisions[i].doc);

		decide_table(db, &f->decisions[i], FIXED_INPUTS);
		decide_table(db, &f->decisions[i], NULL);
		decide_table(db, &f->decisions[i], fitted);
		decide_table(db, &f->decisions[i], "[1]");
		cJSON_free(fitted);
	}
}

/* ---- records ---- */

static int64_t insert_lead(crm_db *db, const char *json)
{
	uint64_t h = db_hash(db);
	int64_t id = 0;
	int rc = after_write(db, crm_record_insert(db, "lead", json, &id), h, "crm_record_insert", strlen(json));

	return rc == CRM_OK ? id : 0;
}

static void log_line(void *payload, int level, const char *source, const char *message)
{
	(void)payload;
	FUZZ_ASSERT(level >= CRM_LOG_DEBUG && level <= CRM_LOG_ERROR, "log level %d", level);
	FUZZ_ASSERT(source && message, "log line without source or message");
}

static crm_db *open_db(void)
{
	crm_db *db = NULL;
	int rc = crm_open(&db, ":memory:", NULL);

	FUZZ_ASSERT(rc == CRM_OK, "crm_open(:memory:) failed: %s", db ? crm_errmsg(db) : "");
	crm_clock_set(db, NOW_MS);
	crm_limit(db, CRM_LIMIT_LUA_INSTRUCTIONS, 20000);
	crm_limit(db, CRM_LIMIT_LUA_MEMORY, 8 << 20);
	crm_limit(db, CRM_LIMIT_REGEX_MATCH, 10000);
	crm_logger_set(db, log_line, NULL);
	crm_actor_set(db, ACTOR, ACTOR_ROLES);
	rc = crm_apply(db, BASE_FORMS);
	FUZZ_ASSERT(rc == CRM_OK, "the fixed forms no longer apply: %s", crm_errmsg(db));
	rc = crm_record_insert(db, "customer", SEED_CUSTOMER, NULL);
	FUZZ_ASSERT(rc == CRM_OK, "seed customer: %s", crm_errdetail(db));
	rc = crm_record_insert(db, "lead", OLD_LEAD, NULL);
	FUZZ_ASSERT(rc == CRM_OK, "seed lead: %s", crm_errdetail(db));
	return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *input = fuzz_cstr(data, size);
	crm_db *db = open_db();
	int64_t meta0 = meta_rows(db), main_id = 0, old_id = 1;
	uint64_t h0 = db_hash(db), h;
	found f = { 0 };
	cJSON *root = NULL, *doc;
	size_t k;
	int rc;

	rc = crm_apply(db, input);
	check(db, rc, "crm_apply", size);
	if (rc != CRM_OK) {
		FUZZ_ASSERT(meta_rows(db) == meta0, "failed crm_apply (%s) changed crm_meta: %lld -> %lld rows",
			    crm_errstr(rc), (long long)meta0, (long long)meta_rows(db));
		FUZZ_ASSERT(db_hash(db) == h0, "failed crm_apply (%s: %s) changed the database", crm_errstr(rc),
			    crm_errmsg(db));
		goto done;
	}
	/* Applying the same single document again changes nothing. (An array
	 * may hold two versions of one definition, so it may add one.) */
	if (input[strspn(input, " \t\r\n")] == '{') {
		int64_t meta1 = meta_rows(db);
		h = db_hash(db);
		rc = crm_apply(db, input);
		FUZZ_ASSERT(rc == CRM_OK, "re-applying an accepted document failed: %s", crm_errmsg(db));
		FUZZ_ASSERT(meta_rows(db) == meta1, "re-applying an accepted document added %lld crm_meta rows",
			    (long long)(meta_rows(db) - meta1));
		FUZZ_ASSERT(db_hash(db) == h, "re-applying an accepted document changed the database");
	}

	root = cJSON_Parse(input);
	if (cJSON_IsArray(root))
		cJSON_ArrayForEach(doc, root) collect_doc(&f, doc);
	else
		collect_doc(&f, root);

	/* Records: inserts may start workflows, the update may start and move them. */
	for (k = 0; k < sizeof NEW_LEADS / sizeof *NEW_LEADS; k++) {
		int64_t id = insert_lead(db, NEW_LEADS[k]);
		if (!main_id)
			main_id = id;
	}
	if (main_id) {
		h = db_hash(db);
		after_write(db, crm_record_update(db, "lead", main_id, MAIN_UPDATE, 0), h, "crm_record_update",
			    strlen(MAIN_UPDATE));
	}
	exercise_workflows(db, &f, main_id, old_id);

	/* Reports and decision tables only read. */
	h = db_hash(db);
	exercise_reports(db, &f);
	exercise_decisions(db, &f);
	FUZZ_ASSERT(db_hash(db) == h, "running reports or decision tables changed the database");

	/* Deleting a record cancels its instances. */
	if (main_id) {
		h = db_hash(db);
		after_write(db, crm_record_delete(db, "lead", main_id, 0), h, "crm_record_delete", 0);
		list_record(db, "lead", main_id, 0);
	}
done:
	cJSON_Delete(root);
	FUZZ_ASSERT(crm_close(db) == CRM_OK, "crm_close failed");
	free(input);
	return 0;
}
