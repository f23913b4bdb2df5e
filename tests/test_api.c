/* The binding-facing C API (issue 7, point 17): every kind of definition
 * listed and read back, the event outbox, typed row access for query
 * cursors and report rows without JSON, per-instance workflow calls, and
 * the version taken from one place. Bad input (unknown names, NULL
 * arguments, wrong kinds) gets a clear code and changes nothing. */
#include <crm/version.h>

#include <unistd.h>

#include "core/db_int.h"
#include "helpers.h"
#include "test.h"

static int apply(crm_db *db, const char *json)
{
	char *j = test_q(json);
	int rc = test_apply(db, j);

	free(j);
	return rc;
}

/* One definition of every kind. */
static const char all_kinds[] =
	"[{'form':'customer','label':'Customer','fields':[{'name':'name','type':'text'}]},"
	" {'form':'lead','fields':[{'name':'name','type':'text'},"
	"  {'name':'region','type':'enum','options':['north','south']},"
	"  {'name':'tags','type':'multi_enum','options':['vip','new','a\\'b']},"
	"  {'name':'score','type':'integer'},{'name':'budget','type':'decimal','scale':2},"
	"  {'name':'ratio','type':'number'},{'name':'active','type':'boolean'},"
	"  {'name':'born','type':'date'},{'name':'seen','type':'datetime'},{'name':'data','type':'json'},"
	"  {'name':'customer','type':'ref','form':'customer'}]},"
	" {'plugin':'greet','label':'Greeter','lua':'return {hello = function() return 1 end}'},"
	" {'decision':'region_owner','inputs':['region'],'outputs':['owner'],'rules':["
	"  {'when':{'region':'north'},'then':{'owner':'alice'}},{'then':{'owner':'pool'}}]},"
	" {'workflow':'flow','label':'Lead flow','form':'lead','start_on':'create','initial':'new',"
	"  'states':{'new':{},'done':{'final':true}},"
	"  'transitions':[{'from':'new','event':'close','to':'done','actions':[{'emit':'closed','payload':{'why':'won'}}]}]},"
	" {'workflow':'job','initial':'queued','states':{'queued':{},'done':{'final':true}},"
	"  'transitions':[{'from':'queued','event':'finish','to':'done','actions':[{'emit':'job_done'}]}]},"
	" {'report':'by_region','source':'lead','dimensions':['region'],"
	"  'measures':[{'name':'n','agg':'count'},{'name':'budget','agg':'sum','field':'budget'}]}]";

static crm_db *kinds_db(void)
{
	crm_db *db = test_db();

	apply(db, all_kinds);
	return db;
}

/* ---- (f) the version comes from meson.build ---- */

TEST(test_version__header_generated_from_the_project_version)
{
	char num[16];

	CHECK_STR(CRM_VERSION, PROJECT_VERSION);
	CHECK_STR(crm_libversion(), PROJECT_VERSION);
	CHECK_INT(crm_libversion_number(), CRM_VERSION_NUMBER);
	/* major*1000000 + minor*1000 + patch, read back into "M.m.p" */
	snprintf(num, sizeof num, "%d.%d.%d", CRM_VERSION_NUMBER / 1000000, CRM_VERSION_NUMBER / 1000 % 1000,
		 CRM_VERSION_NUMBER % 1000);
	CHECK_STR(num, PROJECT_VERSION);
}

/* ---- (a) definitions of every kind, listed and read back ---- */

typedef int (*list_fn)(crm_db *db, char **out);
typedef int (*get_fn)(crm_db *db, const char *name, char **out);

static const struct kind_api {
	const char *kind, *name, *label;
	list_fn list;
	get_fn get;
} kinds[] = {
	{ "form", "customer", "Customer", crm_form_list, crm_form_get },
	{ "workflow", "flow", "Lead flow", crm_workflow_list, crm_workflow_get },
	{ "report", "by_region", "by_region", crm_report_list, crm_report_get },
	{ "decision", "region_owner", "region_owner", crm_decision_list, crm_decision_get },
	{ "plugin", "greet", "Greeter", crm_plugin_list, crm_plugin_get },
};

TEST(test_definitions__every_kind_is_listed_and_read_back)
{
	crm_db *db = kinds_db();
	char *json = NULL, want[160];

	for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
		const struct kind_api *a = &kinds[k];
		CHECK_OK(db, a->list(db, &json));
		snprintf(want, sizeof want, "{\"%s\":\"%s\",\"version\":1,\"label\":\"%s\"}", a->kind, a->name, a->label);
		CHECK_HAS(json, want);
		CHECK(json && json[0] == '[');
		crm_free(json);
		CHECK_OK(db, a->get(db, a->name, &json));
		snprintf(want, sizeof want, "{\"%s\":\"%s\"", a->kind, a->name);
		CHECK(json && strncmp(json, want, strlen(want)) == 0);
		crm_free(json);
	}
	/* a kind lists only its own definitions, sorted by name */
	CHECK_OK(db, crm_workflow_list(db, &json));
	CHECK_STR(json, "[{\"workflow\":\"flow\",\"version\":1,\"label\":\"Lead flow\"},"
			"{\"workflow\":\"job\",\"version\":1,\"label\":\"job\"}]");
	crm_free(json);
	/* the latest version is the one read back */
	apply(db, "{'plugin':'greet','label':'Greeter 2','lua':'return {hello = function() return 2 end}'}");
	CHECK_OK(db, crm_plugin_list(db, &json));
	CHECK_STR(json, "[{\"plugin\":\"greet\",\"version\":2,\"label\":\"Greeter 2\"}]");
	crm_free(json);
	CHECK_OK(db, crm_plugin_get(db, "greet", &json));
	CHECK_HAS(json, "return 2");
	crm_free(json);
	crm_close(db);
}

TEST(test_definitions__empty_database_lists_nothing)
{
	crm_db *db = test_db();
	char *json = NULL;

	for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
		CHECK_OK(db, kinds[k].list(db, &json));
		CHECK_STR(json, "[]");
		crm_free(json);
	}
	crm_close(db);
}

TEST(test_definitions__unknown_names_wrong_kinds_and_null_arguments_are_refused)
{
	crm_db *db = kinds_db();
	char *json = (char *)"untouched";

	for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
		const struct kind_api *a = &kinds[k];
		/* a name of another kind is not found under this one */
		const char *other = kinds[(k + 1) % (sizeof kinds / sizeof *kinds)].name;
		char want[96];

		json = (char *)"untouched";
		CHECK_RC(db, a->get(db, "nosuch", &json), CRM_ENOTFOUND);
		CHECK(json == NULL);
		snprintf(want, sizeof want, "no %s named 'nosuch'", strcmp(a->kind, "decision") ? a->kind : "decision table");
		CHECK_HAS(crm_errmsg(db), want);
		CHECK_HAS(crm_errdetail(db), "\"code\":\"CRM_ENOTFOUND\"");
		CHECK_RC(db, a->get(db, other, &json), CRM_ENOTFOUND);
		CHECK_RC(db, a->get(db, NULL, &json), CRM_EMISUSE);
		CHECK_RC(db, a->get(db, "customer", NULL), CRM_EMISUSE);
		CHECK_RC(db, a->get(NULL, "customer", &json), CRM_EMISUSE);
		CHECK_RC(db, a->list(db, NULL), CRM_EMISUSE);
		CHECK_RC(db, a->list(NULL, &json), CRM_EMISUSE);
	}
	crm_close(db);
}

/* ---- (b) the event outbox ---- */

TEST(test_event_list__reads_the_outbox_in_commit_order)
{
	crm_db *db = kinds_db();
	char *json = NULL;
	int64_t lead, job;

	crm_actor_set(db, "alice", "sales");
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", &lead));
	CHECK_OK(db, crm_workflow_fire(db, "lead", lead, "close", NULL));
	crm_actor_set(db, NULL, NULL);
	CHECK_OK(db, crm_workflow_start(db, "job", 0, &job));
	CHECK_OK(db, crm_workflow_fire_instance(db, job, "finish", NULL));
	CHECK_OK(db, crm_event_list(db, 0, 100, &json));
	/* the engines' own events (crm.*) between the emitted ones, in the
	 * order things happened: the action's emit before the state it leads to */
	CHECK_STR(json, "[{\"seq\":1,\"at\":\"2026-01-02T03:04:05.000Z\",\"name\":\"crm.create\",\"form\":\"lead\",\"record\":1,"
			"\"instance\":null,\"actor\":\"alice\",\"payload\":{\"name\":\"A\",\"region\":null,\"tags\":null,"
			"\"score\":null,\"budget\":null,\"ratio\":null,\"active\":null,\"born\":null,\"seen\":null,\"data\":null,"
			"\"customer\":null,\"owner\":\"alice\"}},"
			"{\"seq\":2,\"at\":\"2026-01-02T03:04:05.000Z\",\"name\":\"crm.transition\",\"form\":\"lead\",\"record\":1,"
			"\"instance\":1,\"actor\":\"alice\",\"payload\":{\"workflow\":\"flow\",\"from\":null,\"to\":\"new\","
			"\"event\":\"(start)\"}},"
			"{\"seq\":3,\"at\":\"2026-01-02T03:04:05.000Z\",\"name\":\"closed\",\"form\":\"lead\",\"record\":1,"
			"\"instance\":1,\"actor\":\"alice\",\"payload\":{\"workflow\":\"flow\",\"state\":\"new\","
			"\"data\":{\"why\":\"won\"}}},"
			"{\"seq\":4,\"at\":\"2026-01-02T03:04:05.000Z\",\"name\":\"crm.transition\",\"form\":\"lead\",\"record\":1,"
			"\"instance\":1,\"actor\":\"alice\",\"payload\":{\"workflow\":\"flow\",\"from\":\"new\",\"to\":\"done\","
			"\"event\":\"close\"}},"
			"{\"seq\":5,\"at\":\"2026-01-02T03:04:05.000Z\",\"name\":\"crm.transition\",\"form\":null,\"record\":null,"
			"\"instance\":2,\"actor\":null,\"payload\":{\"workflow\":\"job\",\"from\":null,\"to\":\"queued\","
			"\"event\":\"(start)\"}},"
			"{\"seq\":6,\"at\":\"2026-01-02T03:04:05.000Z\",\"name\":\"job_done\",\"form\":null,\"record\":null,"
			"\"instance\":2,\"actor\":null,\"payload\":{\"workflow\":\"job\",\"state\":\"queued\"}},"
			"{\"seq\":7,\"at\":\"2026-01-02T03:04:05.000Z\",\"name\":\"crm.transition\",\"form\":null,\"record\":null,"
			"\"instance\":2,\"actor\":null,\"payload\":{\"workflow\":\"job\",\"from\":\"queued\",\"to\":\"done\","
			"\"event\":\"finish\"}}]");
	crm_free(json);
	/* after a sequence number, and at most `limit` */
	CHECK_OK(db, crm_event_list(db, 1, 100, &json));
	CHECK(json && strncmp(json, "[{\"seq\":2,", 10) == 0);
	crm_free(json);
	CHECK_OK(db, crm_event_list(db, 0, 1, &json));
	CHECK(json && strncmp(json, "[{\"seq\":1,", 10) == 0 && !strstr(json, "\"seq\":2"));
	crm_free(json);
	CHECK_OK(db, crm_event_list(db, 7, 100, &json));
	CHECK_STR(json, "[]");
	crm_free(json);
	crm_close(db);
}

TEST(test_event_list__lua_events_and_rolled_back_ones)
{
	crm_db *db = kinds_db();
	char *json = NULL;
	int64_t id;

	apply(db, "{'form':'note','fields':[{'name':'t','type':'text'},"
		  " {'name':'c','type':'computed','lua':'crm.emit(\\'noted\\', {n = 1}, \\'note\\', 7) return \\'x\\''}]}");
	CHECK_OK(db, crm_begin(db));
	CHECK_OK(db, crm_record_insert(db, "note", "{\"t\":\"x\"}", &id));
	CHECK_OK(db, crm_rollback(db));
	CHECK_OK(db, crm_event_list(db, 0, 10, &json));
	CHECK_STR(json, "[]");
	crm_free(json);
	CHECK_OK(db, crm_record_insert(db, "note", "{\"t\":\"x\"}", &id));
	CHECK_OK(db, crm_event_list(db, 0, 10, &json));
	CHECK_HAS(json, "\"name\":\"noted\",\"form\":\"note\",\"record\":7,\"instance\":null,\"actor\":null,"
			"\"payload\":{\"n\":1}},{\"seq\":");
	crm_free(json);
	crm_close(db);
}

TEST(test_event_list__bad_arguments_are_refused)
{
	crm_db *db = kinds_db();
	char *json = (char *)"untouched";

	CHECK_RC(db, crm_event_list(db, -1, 10, &json), CRM_EINVAL);
	CHECK(json == NULL);
	CHECK_HAS(crm_errmsg(db), "after_seq");
	CHECK_RC(db, crm_event_list(db, 0, 0, &json), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "limit");
	CHECK_RC(db, crm_event_list(db, 0, -5, &json), CRM_EINVAL);
	CHECK_RC(db, crm_event_list(db, 0, 10, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_event_list(NULL, 0, 10, &json), CRM_EMISUSE);
	crm_close(db);
}

/* A database made before events named their instance gets the column when opened. */
TEST(test_event_list__database_from_before_the_instance_column_is_upgraded)
{
	char path[64] = "/tmp/crm_api_XXXXXX", side[80];
	crm_db *db = NULL;
	char *json = NULL;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	CHECK_OK(db, crm_open(&db, path, NULL));
	CHECK(crm__exec(db,
			   "ALTER TABLE crm_event DROP COLUMN instance;"
			   "UPDATE crm_state SET value = 2 WHERE key = 'format';" /* the format before events named instances */
			   "INSERT INTO crm_event(at, type, payload) VALUES(0, 'old', '{}')") == CRM_OK);
	crm_close(db);
	db = NULL;
	CHECK_OK(db, crm_open(&db, path, NULL));
	CHECK_OK(db, crm_event_list(db, 0, 10, &json));
	CHECK_STR(json, "[{\"seq\":1,\"at\":\"1970-01-01T00:00:00.000Z\",\"name\":\"old\",\"form\":null,"
			"\"record\":null,\"instance\":null,\"actor\":null,\"payload\":{}}]");
	crm_free(json);
	crm_close(db);
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

/* ---- (c) typed rows without JSON, for cursors and report rows ---- */

static const char lead_row[] =
	"{\"name\":\"Al\\u00e9\",\"region\":\"north\",\"tags\":[\"new\",\"a\\\"b\",\"vip\"],\"score\":-7,"
	"\"budget\":\"12000.5\",\"ratio\":0.25,\"active\":true,\"born\":\"1969-12-31\","
	"\"seen\":\"2026-01-01T00:00:00.123Z\",\"data\":{\"k\":[1,2]},\"customer\":1}";

static int col(crm_row *row, const char *name)
{
	for (int i = 0; i < crm_row_column_count(row); i++)
		if (strcmp(crm_row_column_name(row, i), name) == 0)
			return i;
	return -1;
}

TEST(test_row__cursor_reads_every_type_without_json)
{
	crm_db *db = kinds_db();
	crm_cursor *cur = NULL;
	crm_row *row;
	int64_t id;
	int c;

	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"Acme\"}", &id));
	CHECK_OK(db, crm_record_insert(db, "lead", lead_row, &id));
	CHECK_OK(db, crm_record_insert(db, "lead", "{}", &id));
	CHECK_OK(db, crm_query(&cur, db, "lead", "{\"sort\":[\"id\"]}"));
	row = crm_cursor_row(cur);
	CHECK(row != NULL);
	CHECK(!crm_row_column_name(row, -1) && !crm_row_column_name(row, 99));
	/* no row yet: null */
	CHECK_INT(crm_row_is_null(row, 0), 1);
	CHECK(crm_row_text(row, 0) == NULL);
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	CHECK_INT(crm_row_column_count(row), crm_cursor_column_count(cur));

	c = col(row, "name");
	CHECK_INT(crm_row_column_type(row, c), CRM_TYPE_TEXT);
	CHECK_STR(crm_row_text(row, c), "Al\xc3\xa9");
	CHECK_INT(crm_row_bytes(row, c), 4);

	c = col(row, "score");
	CHECK_INT(crm_row_column_type(row, c), CRM_TYPE_INTEGER);
	CHECK_INT(crm_row_int64(row, c), -7);
	CHECK_STR(crm_row_text(row, c), "-7");
	CHECK_INT(crm_row_bytes(row, c), 2);

	c = col(row, "budget");
	CHECK_INT(crm_row_column_type(row, c), CRM_TYPE_DECIMAL);
	CHECK_INT(crm_row_column_scale(row, c), 2);
	CHECK_INT(crm_row_int64(row, c), 1200050);
	CHECK(crm_row_double(row, c) == 12000.5);
	CHECK_STR(crm_row_text(row, c), "12000.50");
	CHECK_INT(crm_row_bytes(row, c), 8);

	c = col(row, "ratio");
	CHECK_INT(crm_row_column_type(row, c), CRM_TYPE_NUMBER);
	CHECK(crm_row_double(row, c) == 0.25);
	CHECK_STR(crm_row_text(row, c), "0.25");

	c = col(row, "active");
	CHECK_INT(crm_row_column_type(row, c), CRM_TYPE_BOOLEAN);
	CHECK_INT(crm_row_bool(row, c), 1);
	CHECK_INT(crm_row_int64(row, c), 1);
	CHECK_STR(crm_row_text(row, c), "true");
	CHECK_INT(crm_row_bytes(row, c), 4);

	c = col(row, "born");
	CHECK_INT(crm_row_column_type(row, c), CRM_TYPE_DATE);
	CHECK_INT(crm_row_int64(row, c), -86400000); /* 00:00 UTC of the day, in ms */
	CHECK_STR(crm_row_text(row, c), "1969-12-31");

	c = col(row, "seen");
	CHECK_INT(crm_row_column_type(row, c), CRM_TYPE_DATETIME);
	CHECK_INT(crm_row_int64(row, c), INT64_C(1767225600123));
	CHECK_STR(crm_row_text(row, c), "2026-01-01T00:00:00.123Z");
	CHECK_INT(crm_row_bytes(row, c), 24);

	c = col(row, "region");
	CHECK_INT(crm_row_column_type(row, c), CRM_TYPE_ENUM);
	CHECK_STR(crm_row_text(row, c), "north");

	c = col(row, "tags");
	CHECK_INT(crm_row_column_type(row, c), CRM_TYPE_MULTI_ENUM);
	CHECK_INT(crm_row_item_count(row, c), 3);
	CHECK_STR(crm_row_item(row, c, 0), "vip"); /* in the order of the options */
	CHECK_STR(crm_row_item(row, c, 1), "new");
	CHECK_STR(crm_row_item(row, c, 2), "a\"b");
	CHECK(crm_row_item(row, c, 3) == NULL && crm_row_item(row, c, -1) == NULL);
	CHECK_STR(crm_row_text(row, c), "[\"vip\",\"new\",\"a\\\"b\"]");

	c = col(row, "data");
	CHECK_INT(crm_row_column_type(row, c), CRM_TYPE_JSON);
	CHECK_STR(crm_row_text(row, c), "{\"k\":[1,2]}");
	CHECK_INT(crm_row_bytes(row, c), 11);

	c = col(row, "customer");
	CHECK_INT(crm_row_column_type(row, c), CRM_TYPE_REF);
	CHECK_INT(crm_row_int64(row, c), 1);

	/* system columns */
	CHECK_INT(crm_row_int64(row, col(row, "id")), 1);
	CHECK_INT(crm_row_column_type(row, col(row, "created_at")), CRM_TYPE_DATETIME);
	CHECK_INT(crm_row_int64(row, col(row, "created_at")), INT64_C(1767323045000));
	CHECK_INT(crm_row_column_scale(row, col(row, "id")), 0);

	/* the second record leaves every field empty: null everywhere */
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	for (c = 1; c < crm_row_column_count(row) - 4; c++) {
		CHECK_INT(crm_row_is_null(row, c), 1);
		CHECK(crm_row_text(row, c) == NULL);
		CHECK_INT(crm_row_bytes(row, c), 0);
		CHECK_INT(crm_row_int64(row, c), 0);
	}
	CHECK_INT(crm_row_item_count(row, col(row, "tags")), 0);
	CHECK(crm_row_item(row, col(row, "tags"), 0) == NULL);
	CHECK_INT(crm_cursor_next(cur), CRM_DONE);
	CHECK_INT(crm_row_is_null(row, 0), 1);
	crm_cursor_free(cur);
	crm_close(db);
}

TEST(test_row__wrong_kinds_and_bad_columns_are_refused)
{
	crm_db *db = kinds_db();
	crm_cursor *cur = NULL;
	crm_row *row;
	int64_t id;

	CHECK(crm_cursor_row(NULL) == NULL);
	CHECK(crm_report_row(NULL) == NULL);
	CHECK_INT(crm_row_column_count(NULL), 0);
	CHECK(crm_row_column_name(NULL, 0) == NULL);
	CHECK_INT(crm_row_column_type(NULL, 0), 0);
	CHECK_INT(crm_row_column_scale(NULL, 0), -1);
	CHECK_INT(crm_row_is_null(NULL, 0), 1);
	CHECK(crm_row_text(NULL, 0) == NULL);
	CHECK_INT(crm_row_bytes(NULL, 0), 0);
	CHECK_INT(crm_row_item_count(NULL, 0), -1);
	CHECK(crm_row_item(NULL, 0, 0) == NULL);
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"Acme\"}", &id));
	CHECK_OK(db, crm_record_insert(db, "lead", lead_row, &id));
	CHECK_OK(db, crm_query(&cur, db, "lead", "{\"fields\":[\"name\",\"tags\"]}"));
	row = crm_cursor_row(cur);
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	/* items belong to multi_enum columns only; other columns are -1 / NULL */
	CHECK_INT(crm_row_item_count(row, col(row, "name")), -1);
	CHECK(crm_row_item(row, col(row, "name"), 0) == NULL);
	CHECK_INT(crm_row_column_scale(row, 99), -1);
	CHECK_INT(crm_row_is_null(row, 99), 1);
	CHECK_INT(crm_row_is_null(row, -1), 1);
	CHECK(crm_row_text(row, 99) == NULL);
	CHECK_INT(crm_row_int64(row, 99), 0);
	CHECK(crm_row_double(row, 99) == 0);
	CHECK_INT(crm_row_bool(row, 99), 0);
	crm_cursor_free(cur);
	crm_close(db);
}

TEST(test_row__report_rows_share_the_accessors)
{
	crm_db *db = kinds_db();
	crm_report *rep = NULL;
	crm_row *row;
	int64_t id;

	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"Acme\"}", &id));
	CHECK_OK(db, crm_record_insert(db, "lead", lead_row, &id));
	CHECK_OK(db, crm_record_insert(db, "lead", "{\"region\":\"north\",\"budget\":0.01}", &id));
	CHECK_OK(db, crm_report_run(&rep, db, "by_region", NULL));
	row = crm_report_row(rep);
	CHECK_INT(crm_row_column_count(row), crm_report_column_count(rep));
	CHECK_STR(crm_row_column_name(row, 0), "region");
	CHECK_INT(crm_row_column_type(row, 0), CRM_TYPE_ENUM);
	CHECK_INT(crm_row_column_type(row, 2), CRM_TYPE_DECIMAL);
	CHECK_INT(crm_row_column_scale(row, 2), 2);
	CHECK_INT(crm_report_next(rep), CRM_ROW);
	CHECK_STR(crm_row_text(row, 0), "north");
	CHECK_INT(crm_row_bytes(row, 0), 5);
	CHECK_INT(crm_row_int64(row, 1), 2);
	CHECK_INT(crm_row_int64(row, 2), 1200051);
	CHECK_STR(crm_row_text(row, 2), "12000.51");
	CHECK_INT(crm_row_bytes(row, 2), 8);
	/* the old accessors keep their meaning */
	CHECK_STR(crm_report_text(rep, 2), "12000.51");
	CHECK(crm_report_double(rep, 2) == 12000.51);
	CHECK_INT(crm_report_int64(rep, 2), 1200051);
	CHECK_INT(crm_report_next(rep), CRM_DONE);
	crm_report_free(rep);
	crm_close(db);
}

/* A row reads through its owner: a cursor whose form changed, or whose
 * handle closed, shows no values through the row either. */
TEST(test_row__follows_its_cursor_after_a_migration_and_a_close)
{
	crm_db *db = kinds_db();
	crm_cursor *cur = NULL;
	crm_report *rep = NULL;
	crm_row *row, *rrow;
	int64_t id;

	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"Acme\"}", &id));
	CHECK_OK(db, crm_record_insert(db, "customer", "{\"name\":\"Beta\"}", &id));
	CHECK_OK(db, crm_query(&cur, db, "customer", NULL));
	row = crm_cursor_row(cur);
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	CHECK_STR(crm_row_text(row, 1), "Acme");
	apply(db, "{'form':'customer','label':'Customer','fields':[{'name':'name','type':'text'},{'name':'x','type':'integer'}]}");
	CHECK(crm_row_text(row, 1) == NULL);
	CHECK_INT(crm_row_is_null(row, 1), 1);
	CHECK_INT(crm_cursor_next(cur), CRM_ECONFLICT);
	crm_cursor_free(cur);

	CHECK_OK(db, crm_report_run(&rep, db, "by_region", NULL));
	rrow = crm_report_row(rep);
	CHECK_OK(db, crm_query(&cur, db, "customer", NULL));
	row = crm_cursor_row(cur);
	CHECK_INT(crm_cursor_next(cur), CRM_ROW);
	CHECK_INT(crm_row_int64(row, 0), 1);
	CHECK_INT(crm_close(db), CRM_OK);
	CHECK_INT(crm_row_int64(row, 0), 0);
	CHECK(crm_row_text(row, 1) == NULL);
	CHECK_STR(crm_row_column_name(row, 1), "name"); /* metadata stays readable */
	CHECK_INT(crm_row_is_null(rrow, 0), 1);
	crm_cursor_free(cur);
	crm_report_free(rep);
}

/* ---- (d) one meaning per workflow listing ---- */

TEST(test_workflow_instance__get_and_history_by_instance_id)
{
	crm_db *db = kinds_db();
	char *json = NULL;
	int64_t lead, a, b;

	CHECK_OK(db, crm_record_insert(db, "lead", "{\"name\":\"A\"}", &lead));
	CHECK_OK(db, crm_workflow_start(db, "job", 0, &a));
	CHECK_OK(db, crm_workflow_start(db, "job", 0, &b));
	CHECK_OK(db, crm_workflow_fire_instance(db, b, "finish", NULL));
	CHECK_OK(db, crm_workflow_instance_get(db, b, &json));
	CHECK_STR(json, "{\"id\":3,\"workflow\":\"job\",\"version\":1,\"state\":\"done\",\"status\":\"done\","
			"\"started_at\":\"2026-01-02T03:04:05.000Z\",\"entered_at\":\"2026-01-02T03:04:05.000Z\","
			"\"form\":null,\"record\":null}");
	crm_free(json);
	/* an instance bound to a record is reached by its id too */
	CHECK_OK(db, crm_workflow_instance_get(db, 1, &json));
	CHECK_HAS(json, "\"workflow\":\"flow\"");
	CHECK_HAS(json, "\"form\":\"lead\",\"record\":1}");
	crm_free(json);
	CHECK_OK(db, crm_workflow_instance_history(db, b, &json));
	CHECK_HAS(json, "\"event\":\"finish\",\"from\":\"queued\",\"to\":\"done\"");
	CHECK(!strstr(json, "\"instance\":2,"));
	crm_free(json);
	CHECK_OK(db, crm_workflow_instance_history(db, a, &json));
	CHECK_HAS(json, "\"event\":\"(start)\"");
	CHECK(!strstr(json, "finish"));
	crm_free(json);
	crm_close(db);
}

TEST(test_workflow_instance__events_of_one_instance)
{
	crm_db *db = kinds_db();
	char *json = NULL;
	int64_t a, b;

	CHECK_OK(db, crm_workflow_start(db, "job", 0, &a));
	CHECK_OK(db, crm_workflow_start(db, "job", 0, &b));
	CHECK_OK(db, crm_workflow_fire_instance(db, b, "finish", NULL));
	CHECK_OK(db, crm_workflow_instance_events(db, a, &json));
	CHECK_STR(json, "[{\"instance\":1,\"workflow\":\"job\",\"state\":\"queued\",\"event\":\"finish\",\"to\":\"done\","
			"\"enabled\":true}]");
	crm_free(json);
	/* a finished instance offers nothing */
	CHECK_OK(db, crm_workflow_instance_events(db, b, &json));
	CHECK_STR(json, "[]");
	crm_free(json);
	json = (char *)"untouched";
	CHECK_RC(db, crm_workflow_instance_events(db, 42, &json), CRM_ENOTFOUND);
	CHECK(json == NULL);
	CHECK_RC(db, crm_workflow_instance_events(db, a, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_workflow_instance_events(NULL, a, &json), CRM_EMISUSE);
	/* events of a record need its form */
	CHECK_RC(db, crm_workflow_events(db, NULL, a, &json), CRM_EMISUSE);
	CHECK_HAS(crm_errmsg(db), "crm_workflow_instance_events");
	crm_close(db);
}

TEST(test_workflow_instances__record_is_never_an_instance_id)
{
	crm_db *db = kinds_db();
	char *json = (char *)"untouched";
	int64_t a, b;

	CHECK_OK(db, crm_workflow_start(db, "job", 0, &a));
	CHECK_OK(db, crm_workflow_start(db, "job", 0, &b));
	/* form NULL and record 0: every free-standing instance */
	CHECK_OK(db, crm_workflow_instances(db, NULL, 0, &json));
	CHECK_HAS(json, "\"id\":1,");
	CHECK_HAS(json, "\"id\":2,");
	crm_free(json);
	CHECK_OK(db, crm_workflow_history(db, NULL, 0, &json));
	CHECK_HAS(json, "\"instance\":1,");
	CHECK_HAS(json, "\"instance\":2,");
	crm_free(json);
	/* a record without a form is not an instance id any more */
	json = (char *)"untouched";
	CHECK_RC(db, crm_workflow_instances(db, NULL, b, &json), CRM_EINVAL);
	CHECK(json == NULL);
	CHECK_HAS(crm_errmsg(db), "crm_workflow_instance_get");
	CHECK_RC(db, crm_workflow_history(db, NULL, b, &json), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "crm_workflow_instance_history");
	crm_close(db);
}

TEST(test_workflow_instance__unknown_ids_and_null_arguments_are_refused)
{
	crm_db *db = kinds_db();
	char *json = (char *)"untouched";

	CHECK_RC(db, crm_workflow_instance_get(db, 42, &json), CRM_ENOTFOUND);
	CHECK(json == NULL);
	CHECK_HAS(crm_errmsg(db), "no workflow instance 42");
	CHECK_RC(db, crm_workflow_instance_history(db, 42, &json), CRM_ENOTFOUND);
	CHECK_RC(db, crm_workflow_instance_get(db, 0, &json), CRM_ENOTFOUND);
	CHECK_RC(db, crm_workflow_instance_get(db, -1, &json), CRM_ENOTFOUND);
	CHECK_RC(db, crm_workflow_instance_get(db, 1, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_workflow_instance_get(NULL, 1, &json), CRM_EMISUSE);
	CHECK_RC(db, crm_workflow_instance_history(db, 1, NULL), CRM_EMISUSE);
	CHECK_RC(db, crm_workflow_instance_history(NULL, 1, &json), CRM_EMISUSE);
	crm_close(db);
}

TEST_LIST(T(test_version__header_generated_from_the_project_version),
	  T(test_definitions__every_kind_is_listed_and_read_back), T(test_definitions__empty_database_lists_nothing),
	  T(test_definitions__unknown_names_wrong_kinds_and_null_arguments_are_refused),
	  T(test_event_list__reads_the_outbox_in_commit_order), T(test_event_list__lua_events_and_rolled_back_ones),
	  T(test_event_list__bad_arguments_are_refused),
	  T(test_event_list__database_from_before_the_instance_column_is_upgraded), T(test_row__cursor_reads_every_type_without_json),
	  T(test_row__wrong_kinds_and_bad_columns_are_refused), T(test_row__report_rows_share_the_accessors),
	  T(test_row__follows_its_cursor_after_a_migration_and_a_close),
	  T(test_workflow_instance__get_and_history_by_instance_id),
	  T(test_workflow_instance__events_of_one_instance),
	  T(test_workflow_instances__record_is_never_an_instance_id),
	  T(test_workflow_instance__unknown_ids_and_null_arguments_are_refused))
