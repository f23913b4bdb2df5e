/* Export (include/crm/io.h, docs/integration.md "Export"): every format and
 * field type spelled exactly, labels, reports, streaming in bounded chunks,
 * XLSX, the actor's view, hostile options and a write callback that fails
 * midway. Runs on both backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "helpers.h"
#include "test.h"

static const char forms[] =
	"[{'form':'cust','fields':[{'name':'name','type':'text'}]},"
	" {'form':'item','fields':["
	"  {'name':'name','type':'text','label':'Name'},"
	"  {'name':'notes','type':'long_text','label':'Notes'},"
	"  {'name':'qty','type':'integer'},"
	"  {'name':'price','type':'decimal','scale':2,'label':'Price (CNY)'},"
	"  {'name':'ratio','type':'number'},"
	"  {'name':'ok','type':'boolean'},"
	"  {'name':'day','type':'date'},"
	"  {'name':'at','type':'datetime'},"
	"  {'name':'region','type':'enum','options':['north',{'value':'south','label':'South'}]},"
	"  {'name':'tags','type':'multi_enum','options':['a','b','c']},"
	"  {'name':'email','type':'email'},"
	"  {'name':'phone','type':'phone'},"
	"  {'name':'site','type':'url'},"
	"  {'name':'cust','type':'ref','form':'cust'},"
	"  {'name':'data','type':'json'},"
	"  {'name':'calc','type':'computed','lua':'return (record.qty or 0) * 2','returns':'integer'}]}]";

static const char full_row[] =
	"{'name':'Lee, \\'Jr\\'','notes':'a\\nb','qty':7,'price':'12.50','ratio':1.5,'ok':true,"
	" 'day':'2026-01-31','at':'2026-01-31T17:30:00+08:00','region':'south','tags':['b','a'],"
	" 'email':'a@b.example','phone':'+86 138-0000-0000','site':'https://example.com/x','cust':1,"
	" 'data':{'k': [1, 2], 's': 'x y'}}";

/* Everything the callback received, and how it arrived. */
typedef struct sink {
	crm__buf b;
	int calls, fail_at; /* fail_at > 0: the call that fails */
	size_t max_chunk;
} sink;

static int sink_write(void *payload, const void *data, size_t len)
{
	sink *s = payload;

	s->calls++;
	if (len > s->max_chunk)
		s->max_chunk = len;
	if (s->fail_at && s->calls >= s->fail_at)
		return -1;
	crm__buf_put(&s->b, data, len);
	return 0;
}

static crm_db *setup(void)
{
	crm_db *db = test_db();
	char *j = test_q(forms), *r = test_q(full_row);

	test_apply(db, j);
	CHECK_OK(db, crm_record_insert(db, "cust", "{\"name\":\"Acme\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "item", r, NULL));
	CHECK_OK(db, crm_record_insert(db, "item", "{\"name\":\" Bo\"}", NULL));
	free(j);
	free(r);
	return db;
}

/* Export into a fresh sink; the result code. */
static int run(crm_db *db, const char *what, const char *options, sink *s)
{
	char *w = test_q(what), *o = options ? test_q(options) : NULL;
	int rc;

	crm__buf_free(&s->b);
	s->calls = 0;
	s->max_chunk = 0;
	rc = crm_export(db, w, o, sink_write, s);
	crm__buf_cstr(&s->b);
	free(w);
	free(o);
	return rc;
}

TEST(test_export__csv_spells_every_field_type_as_the_importer_reads_it)
{
	crm_db *db = setup();
	sink s = { CRM__BUF_INIT, 0, 0, 0 };

	CHECK_OK(db, run(db, "{'form':'item'}", NULL, &s));
	CHECK_STR(s.b.p, "name,notes,qty,price,ratio,ok,day,at,region,tags,email,phone,site,cust,data,calc\r\n"
			 "\"Lee, \"\"Jr\"\"\",\"a\nb\",7,12.50,1.5,true,2026-01-31,2026-01-31T09:30:00.000Z,south,"
			 "\"[\"\"a\"\",\"\"b\"\"]\",a@b.example,+86 138-0000-0000,https://example.com/x,1,"
			 "\"{\"\"k\"\": [1, 2], \"\"s\"\": \"\"x y\"\"}\",14\r\n"
			 "\" Bo\",,,,,,,,,,,,,,,0\r\n");
	/* a BOM for Excel, the system columns on request, the query's own choice of rows and fields */
	CHECK_OK(db, run(db, "{'form':'item','query':{'fields':['name','qty'],'filter':{'field':'qty','op':'eq','value':7}}}",
			 "{'format':'csv','bom':true,'system':true}", &s));
	CHECK_STR(s.b.p, "\xEF\xBB\xBFid,name,qty,created_at,updated_at,owner,version\r\n"
			 "1,\"Lee, \"\"Jr\"\"\",7,2026-01-02T03:04:05.000Z,2026-01-02T03:04:05.000Z,,1\r\n");
	crm__buf_free(&s.b);
	crm_close(db);
}

TEST(test_export__ndjson_and_json_write_typed_values_one_line_per_record)
{
	crm_db *db = setup();
	sink s = { CRM__BUF_INIT, 0, 0, 0 };
	static const char row1[] =
		"{\"name\":\"Lee, \\\"Jr\\\"\",\"notes\":\"a\\nb\",\"qty\":7,\"price\":12.50,\"ratio\":1.5,\"ok\":true,"
		"\"day\":\"2026-01-31\",\"at\":\"2026-01-31T09:30:00.000Z\",\"region\":\"south\",\"tags\":[\"a\",\"b\"],"
		"\"email\":\"a@b.example\",\"phone\":\"+86 138-0000-0000\",\"site\":\"https://example.com/x\",\"cust\":1,"
		"\"data\":{\"k\":[1,2],\"s\":\"x y\"},\"calc\":14}";
	static const char row2[] =
		"{\"name\":\" Bo\",\"notes\":null,\"qty\":null,\"price\":null,\"ratio\":null,\"ok\":null,\"day\":null,"
		"\"at\":null,\"region\":null,\"tags\":null,\"email\":null,\"phone\":null,\"site\":null,\"cust\":null,"
		"\"data\":null,\"calc\":0}";
	char want[2048];

	CHECK_OK(db, run(db, "{'form':'item'}", "{'format':'ndjson'}", &s));
	snprintf(want, sizeof want, "%s\n%s\n", row1, row2);
	CHECK_STR(s.b.p, want);
	CHECK_OK(db, run(db, "{'form':'item'}", "{'format':'json'}", &s));
	snprintf(want, sizeof want, "[\n%s,\n%s\n]\n", row1, row2);
	CHECK_STR(s.b.p, want);
	CHECK_OK(db, run(db, "{'form':'item','query':{'filter':{'field':'qty','op':'gt','value':100}}}",
			 "{'format':'json'}", &s));
	CHECK_STR(s.b.p, "[]\n");
	crm__buf_free(&s.b);
	crm_close(db);
}

TEST(test_export__labels_head_the_columns_and_must_name_one_column_each)
{
	crm_db *db = setup();
	sink s = { CRM__BUF_INIT, 0, 0, 0 };

	CHECK_OK(db, run(db, "{'form':'item','query':{'fields':['name','price','qty']}}", "{'headers':'labels'}", &s));
	CHECK_STR(s.b.p, "Name,Price (CNY),qty\r\n\"Lee, \"\"Jr\"\"\",12.50,7\r\n\" Bo\",,\r\n");
	CHECK_OK(db, run(db, "{'form':'item','query':{'fields':['price'],'limit':1}}",
			 "{'headers':'labels','format':'ndjson'}", &s));
	CHECK_STR(s.b.p, "{\"Price (CNY)\":12.50}\n");
	/* two fields labelled alike could not be mapped back: refused before anything is written */
	CHECK_RC(db, crm_apply(db, "{\"form\":\"dup\",\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"label\":\"X\"},"
				   "{\"name\":\"b\",\"type\":\"text\",\"label\":\"X\"}]}"), CRM_OK);
	CHECK_RC(db, run(db, "{'form':'dup'}", "{'headers':'labels'}", &s), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "columns a and b share the label \"X\"");
	CHECK_INT(s.calls, 0);
	CHECK_OK(db, run(db, "{'form':'dup'}", "{'headers':'names'}", &s));
	CHECK_STR(s.b.p, "a,b\r\n");
	/* nor a label that is another field's name: the importer tries names first */
	CHECK_OK(db, crm_apply(db, "{\"form\":\"dup\",\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"label\":\"b\"},"
				   "{\"name\":\"b\",\"type\":\"text\",\"label\":\"Y\"}]}"));
	CHECK_RC(db, run(db, "{'form':'dup','query':{'fields':['a']}}", "{'headers':'labels'}", &s), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "column a is labelled \"b\", the name of another field");
	CHECK_OK(db, crm_apply(db, "{\"form\":\"dup\",\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"label\":\"a\"},"
				   "{\"name\":\"b\",\"type\":\"text\",\"label\":\"Y\"}]}"));
	CHECK_OK(db, run(db, "{'form':'dup'}", "{'headers':'labels'}", &s));
	CHECK_STR(s.b.p, "a,Y\r\n");
	crm__buf_free(&s.b);
	crm_close(db);
}

TEST(test_export__a_report_exports_its_columns_with_their_labels)
{
	crm_db *db = setup();
	sink s = { CRM__BUF_INIT, 0, 0, 0 };
	char *j = test_q("{'report':'by_region','source':'item','dimensions':[{'field':'region','label':'Region'}],"
			 "'measures':[{'name':'n','agg':'count','label':'Items'},{'name':'total','agg':'sum','field':'price'}],"
			 "'filter':{'field':'qty','op':'ge','param':'min'},"
			 "'params':{'min':{'type':'integer','default':0}}}");

	CHECK_OK(db, crm_apply(db, j));
	free(j);
	CHECK_OK(db, run(db, "{'report':'by_region'}", "{'headers':'labels'}", &s));
	CHECK_STR(s.b.p, "Region,Items,total\r\nsouth,1,12.50\r\n");
	CHECK_OK(db, run(db, "{'report':'by_region','params':{'min':8}}", "{'format':'ndjson'}", &s));
	CHECK_STR(s.b.p, "");
	CHECK_OK(db, run(db, "{'report':'by_region','params':{'min':1}}", "{'format':'ndjson'}", &s));
	CHECK_STR(s.b.p, "{\"region\":\"south\",\"n\":1,\"total\":12.50}\n");
	CHECK_RC(db, run(db, "{'report':'nope'}", NULL, &s), CRM_ENOTFOUND);
	CHECK_RC(db, run(db, "{'report':'by_region','params':{'min':'x'}}", NULL, &s), CRM_EINVAL);
	crm__buf_free(&s.b);
	crm_close(db);
}

/* Many rows arrive in bounded chunks: the export holds one chunk, not the result. */
TEST(test_export__streams_many_rows_in_bounded_chunks)
{
	crm_db *db = test_db();
	sink s = { CRM__BUF_INIT, 0, 0, 0 };
	const int n = 20000;
	crm_batch *b = NULL;
	char row[128];
	size_t lines = 0;

	test_apply(db, "{\"form\":\"big\",\"fields\":[{\"name\":\"t\",\"type\":\"text\"},{\"name\":\"v\",\"type\":\"integer\"}]}");
	CHECK_OK(db, crm_batch_begin(&b, db, "big"));
	for (int i = 0; i < n; i++) {
		snprintf(row, sizeof row, "{\"t\":\"row number %d, padded to be a little longer\",\"v\":%d}", i, i);
		CHECK_OK(db, crm_batch_add(b, row, -1, NULL));
	}
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	for (int f = 0; f < 3; f++) {
		static const char *const opts[] = { "{\"format\":\"csv\"}", "{\"format\":\"ndjson\"}",
						    "{\"format\":\"json\"}" };
		crm__buf_free(&s.b);
		s.calls = 0;
		s.max_chunk = 0;
		CHECK_OK(db, crm_export(db, "{\"form\":\"big\"}", opts[f], sink_write, &s));
		CHECK(s.calls > 10);
		CHECK(s.max_chunk < (64 << 10) + 256); /* a chunk plus at most one row */
		lines = 0;
		for (size_t i = 0; i < s.b.len; i++)
			lines += s.b.p[i] == '\n';
		CHECK_INT(lines, f == 2 ? n + 2 : n + (f == 0)); /* JSON: "[" and "]" lines; CSV: the header */
	}
	crm__buf_free(&s.b);
	crm_close(db);
}

TEST(test_export__xlsx_is_a_zip_streamed_through_the_callback)
{
	crm_db *db = setup();
	sink s = { CRM__BUF_INIT, 0, 0, 0 };

	CHECK_OK(db, run(db, "{'form':'item'}", "{'format':'xlsx','headers':'labels'}", &s));
	CHECK(s.b.len > 1000);
	CHECK(s.b.p && memcmp(s.b.p, "PK\x03\x04", 4) == 0);
	CHECK(s.calls >= 1);
	CHECK_RC(db, run(db, "{'form':'item'}", "{'format':'xlsx','bom':true}", &s), CRM_EINVAL);
	/* a cell past Excel's 32,767 characters is refused, never cut */
	{
		char *row = malloc(40100);
		memcpy(row, "{\"notes\":\"", 10);
		memset(row + 10, 'x', 40000);
		memcpy(row + 40010, "\"}", 3);
		CHECK_OK(db, crm_record_insert(db, "item", row, NULL));
		free(row);
	}
	CHECK_RC(db, run(db, "{'form':'item'}", "{'format':'xlsx'}", &s), CRM_ELIMIT);
	CHECK_HAS(crm_errmsg(db), "row 3, column notes holds more than 32767 characters");
	CHECK_INT(s.calls, 0);
	CHECK_OK(db, run(db, "{'form':'item'}", "{'format':'csv'}", &s));
	crm__buf_free(&s.b);
	crm_close(db);
}

static const char guarded[] =
	"{'form':'deal','fields':[{'name':'title','type':'text'},{'name':'margin','type':'decimal','label':'Margin'}],"
	" 'permissions':[{'roles':['rep'],'allow':['read','create'],"
	"   'rows':{'field':'owner','op':'eq','actor':'user'},'fields':{'margin':'hidden'}},"
	"  {'roles':['boss'],'allow':['read','create']}]}";

TEST(test_export__reads_only_what_the_actor_may_read)
{
	crm_db *db = test_db();
	sink s = { CRM__BUF_INIT, 0, 0, 0 };
	char *j = test_q(guarded), *qerr;
	crm_cursor *cur = NULL;
	int qrc;

	test_apply(db, j);
	free(j);
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"title\":\"ann's\",\"margin\":5,\"owner\":\"ann\"}", NULL));
	CHECK_OK(db, crm_record_insert(db, "deal", "{\"title\":\"bob's\",\"margin\":9,\"owner\":\"bob\"}", NULL));
	CHECK_OK(db, crm_actor_set_json(db, "{\"user\":\"ann\",\"roles\":[\"rep\"]}"));
	/* her rows only, without the hidden field, under names or labels, in every format */
	CHECK_OK(db, run(db, "{'form':'deal'}", "{'system':true}", &s));
	CHECK_STR(s.b.p, "id,title,created_at,updated_at,owner,version\r\n1,ann's,2026-01-02T03:04:05.000Z,"
			 "2026-01-02T03:04:05.000Z,ann,1\r\n");
	CHECK_OK(db, run(db, "{'form':'deal'}", "{'format':'ndjson','headers':'labels'}", &s));
	CHECK_STR(s.b.p, "{\"title\":\"ann's\"}\n");
	/* asking for it is refused as crm_query refuses it */
	CHECK_RC(db, run(db, "{'form':'deal','query':{'fields':['margin']}}", NULL, &s), CRM_EPERM);
	CHECK_HAS(crm_errmsg(db), "field 'margin' is hidden");
	CHECK_RC(db, run(db, "{'form':'deal','query':{'filter':{'field':'margin','op':'gt','value':1}}}", NULL, &s),
		 CRM_EPERM);
	CHECK_INT(s.calls, 0);
	/* an actor without read gets crm_query's own answer */
	CHECK_OK(db, crm_actor_set_json(db, "{\"user\":\"eve\",\"roles\":[\"guest\"]}"));
	qrc = crm_query(&cur, db, "deal", NULL);
	if (qrc == CRM_OK) {
		qrc = crm_cursor_next(cur);
		CHECK_INT(qrc, CRM_DONE);
	}
	qerr = strdup(crm_errdetail(db));
	crm_cursor_free(cur);
	if (qrc == CRM_DONE) { /* reads no row and no field: the export is empty */
		CHECK_OK(db, run(db, "{'form':'deal'}", NULL, &s));
		CHECK_STR(s.b.p, "\r\n");
	} else {
		CHECK_RC(db, run(db, "{'form':'deal'}", NULL, &s), qrc);
		CHECK_STR(crm_errdetail(db), qerr);
	}
	free(qerr);
	crm__buf_free(&s.b);
	crm_close(db);
}

TEST(test_export__refuses_bad_requests_and_writes_nothing)
{
	crm_db *db = setup();
	sink s = { CRM__BUF_INIT, 0, 0, 0 };
	char deep[400];
	static const struct {
		const char *what, *options, *message;
		int code;
	} bad[] = {
		{ "{'form':'item'}", "{'format':'xml'}", "options.format: must be one of", CRM_EINVAL },
		{ "{'form':'item'}", "{'format':'CSV'}", "options.format", CRM_EINVAL },
		{ "{'form':'item'}", "{'format':1}", "options.format", CRM_EINVAL },
		{ "{'form':'item'}", "{'headers':'titles'}", "options.headers: must be \"names\" or \"labels\"", CRM_EINVAL },
		{ "{'form':'item'}", "{'bom':'yes'}", "options.bom: must be true or false", CRM_EINVAL },
		{ "{'form':'item'}", "{'format':'json','bom':true}", "options.bom: applies to CSV only", CRM_EINVAL },
		{ "{'form':'item'}", "{'sheet':'x'}", "unknown member \"sheet\"", CRM_EINVAL },
		{ "{'form':'item'}", "[]", "must be a JSON object", CRM_EINVAL },
		{ "{'form':'item'}", "{'format':", "the export options", CRM_EINVAL },
		{ "{'form':'item','report':'r'}", NULL, "what to export is", CRM_EINVAL },
		{ "{'form':'item','params':{}}", NULL, "what to export is", CRM_EINVAL },
		{ "{'query':{}}", NULL, "what to export is", CRM_EINVAL },
		{ "{}", NULL, "what to export is", CRM_EINVAL },
		{ "{'form':'item','form':'cust'}", NULL, "repeated member \"form\"", CRM_EINVAL },
		{ "{'form':'item','drop':1}", NULL, "unknown member \"drop\"", CRM_EINVAL },
		{ "{'form':7}", NULL, "what.form: must be a non-empty string", CRM_EINVAL },
		{ "{'form':''}", NULL, "what.form: must be a non-empty string", CRM_EINVAL },
		{ "{'form':'item','query':'x'}", NULL, "what.query: must be an object", CRM_EINVAL },
		{ "'item'", NULL, "must be a JSON object", CRM_EINVAL },
		{ "{'form':'item; DROP TABLE item'}", NULL, "", CRM_ENOTFOUND },
		{ "{'form':'item','query':{'filter':{'field':'qty','op':'eq','value':'1 OR 1=1'}}}", NULL, "", CRM_EINVAL },
		{ "{'form':'item','query':{'sort':['name; --']}}", NULL, "", CRM_EINVAL },
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = run(db, bad[i].what, bad[i].options, &s);
		if (rc != bad[i].code)
			fprintf(stderr, "case %zu: %s (%s)\n", i, crm_errstr(rc), crm_errmsg(db));
		CHECK_INT(rc, bad[i].code);
		CHECK_HAS(crm_errmsg(db), bad[i].message);
		CHECK_INT(s.calls, 0);
	}
	/* nesting past the JSON depth limit */
	memset(deep, '[', sizeof deep - 1);
	deep[sizeof deep - 1] = '\0';
	CHECK_RC(db, crm_export(db, "{\"form\":\"item\"}", deep, sink_write, &s), CRM_EINVAL);
	CHECK_RC(db, crm_export(db, NULL, NULL, sink_write, &s), CRM_EINVAL);
	CHECK_RC(db, crm_export(db, "{\"form\":\"item\"}", NULL, NULL, NULL), CRM_EMISUSE);
	CHECK_INT(crm_export(NULL, "{\"form\":\"item\"}", NULL, sink_write, &s), CRM_EMISUSE);
	CHECK_RC(db, crm_export_file(db, "{\"form\":\"item\"}", NULL, ""), CRM_EINVAL);
	CHECK_INT(s.calls, 0);
	crm__buf_free(&s.b);
	crm_close(db);
}

/* A callback that fails midway stops the export with CRM_EIO, in every format. */
TEST(test_export__a_failing_write_callback_stops_with_eio)
{
	crm_db *db = test_db();
	sink s = { CRM__BUF_INIT, 0, 0, 0 };
	crm_batch *b = NULL;
	static const char *const opts[] = { "{\"format\":\"csv\"}", "{\"format\":\"ndjson\"}", "{\"format\":\"json\"}",
					    "{\"format\":\"xlsx\"}" };

	test_apply(db, "{\"form\":\"big\",\"fields\":[{\"name\":\"t\",\"type\":\"text\"}]}");
	CHECK_OK(db, crm_batch_begin(&b, db, "big"));
	for (int i = 0; i < 5000; i++)
		CHECK_OK(db, crm_batch_add(b, "{\"t\":\"some text that takes room, some text that takes room\"}", -1, NULL));
	CHECK_OK(db, crm_batch_commit(b));
	crm_batch_free(b);
	for (int f = 0; f < 4; f++) {
		crm__buf_free(&s.b);
		s.calls = 0;
		s.fail_at = f == 3 ? 1 : 2; /* the XLSX compresses to one chunk */
		CHECK_RC(db, crm_export(db, "{\"form\":\"big\"}", opts[f], sink_write, &s), CRM_EIO);
		CHECK_HAS(crm_errmsg(db), "the write callback failed");
		CHECK_INT(s.calls, s.fail_at);
	}
	/* the handle works on */
	s.fail_at = 0;
	CHECK_OK(db, crm_export(db, "{\"form\":\"big\",\"query\":{\"limit\":1}}", NULL, sink_write, &s));
	crm__buf_free(&s.b);
	crm_close(db);
}

/* crm_export_file writes the whole file or leaves what was there. */
TEST(test_export__a_file_is_written_whole_or_not_at_all)
{
	crm_db *db = setup();
	char dir[] = "/tmp/crm-export-test.XXXXXX", path[128], bad[160], buf[4096];
	FILE *f;
	size_t n;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/items.csv", dir);
	CHECK_OK(db, crm_export_file(db, "{\"form\":\"item\",\"query\":{\"fields\":[\"qty\"]}}", NULL, path));
	f = fopen(path, "rb");
	n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	CHECK_STR(buf, "qty\r\n7\r\n\"\"\r\n"); /* a lone empty cell stays a row */
	/* a refused export leaves the old file as it was, and no temporary file */
	CHECK_RC(db, crm_export_file(db, "{\"form\":\"nope\"}", NULL, path), CRM_ENOTFOUND);
	CHECK_RC(db, crm_export_file(db, "{\"form\":\"item\"}", "{\"format\":\"pdf\"}", path), CRM_EINVAL);
	f = fopen(path, "rb");
	n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	CHECK_STR(buf, "qty\r\n7\r\n\"\"\r\n"); /* a lone empty cell stays a row */
	snprintf(bad, sizeof bad, "%s/no/such/dir/x.xlsx", dir);
	CHECK_RC(db, crm_export_file(db, "{\"form\":\"item\"}", "{\"format\":\"xlsx\"}", bad), CRM_EIO);
	snprintf(bad, sizeof bad, "%s/items.xlsx", dir);
	CHECK_OK(db, crm_export_file(db, "{\"form\":\"item\"}", "{\"format\":\"xlsx\"}", bad));
	f = fopen(bad, "rb");
	n = f ? fread(buf, 1, 4, f) : 0;
	if (f)
		fclose(f);
	CHECK(n == 4 && memcmp(buf, "PK\x03\x04", 4) == 0);
	snprintf(buf, sizeof buf, "ls -A %s | wc -l | grep -qx 2", dir); /* items.csv and items.xlsx only */
	CHECK_INT(system(buf), 0);
	snprintf(buf, sizeof buf, "rm -rf %s", dir);
	CHECK_INT(system(buf), 0);
	crm_close(db);
}

TEST_LIST(T(test_export__csv_spells_every_field_type_as_the_importer_reads_it),
	  T(test_export__ndjson_and_json_write_typed_values_one_line_per_record),
	  T(test_export__labels_head_the_columns_and_must_name_one_column_each),
	  T(test_export__a_report_exports_its_columns_with_their_labels),
	  T(test_export__streams_many_rows_in_bounded_chunks), T(test_export__xlsx_is_a_zip_streamed_through_the_callback),
	  T(test_export__reads_only_what_the_actor_may_read), T(test_export__refuses_bad_requests_and_writes_nothing),
	  T(test_export__a_failing_write_callback_stops_with_eio),
	  T(test_export__a_file_is_written_whole_or_not_at_all))
