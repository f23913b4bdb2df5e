/* Import (docs/integration.md "Import"): CSV through libcsv (BOM, CRLF,
 * quoted newlines, GBK), NDJSON and JSON arrays, mapping, conversions by
 * field type, upsert, both modes with their error reports, permissions,
 * audit, progress and cancel, and hostile inputs. Runs on SQLite and, with
 * CRM_TEST_PG, on PostgreSQL. */
#include <errno.h>
#include <iconv.h>
#include <unistd.h>

#include "helpers.h"
#include "test.h"

static const char lead_form[] =
	"{\"form\":\"lead\",\"label\":\"Lead\",\"fields\":["
	" {\"name\":\"name\",\"type\":\"text\",\"required\":true,\"label\":\"Name\",\"max_length\":100},"
	" {\"name\":\"phone\",\"type\":\"phone\",\"unique\":true,\"label\":\"手机\"},"
	" {\"name\":\"score\",\"type\":\"integer\",\"label\":\"Score\"},"
	" {\"name\":\"budget\",\"type\":\"decimal\",\"scale\":2},"
	" {\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b\",\"c\"]},"
	" {\"name\":\"vip\",\"type\":\"boolean\"},"
	" {\"name\":\"since\",\"type\":\"date\"},"
	" {\"name\":\"notes\",\"type\":\"long_text\"}]}";

static crm_db *fixture(void)
{
	crm_db *db = test_db();

	test_apply(db, lead_form);
	return db;
}

static int64_t count(crm_db *db, const char *form)
{
	int64_t n = -1;

	if (crm_count(db, form, NULL, &n) != CRM_OK)
		n = -1;
	return n;
}

/* Import `csv` (NUL-terminated) with options `json`; *out owned by the caller. */
static int import(crm_db *db, const char *form, const char *data, const char *json, char **out)
{
	crm_import_options o = CRM_IMPORT_OPTIONS_INIT;

	o.json = json;
	return crm_import_buffer(db, form, data, strlen(data), &o, out);
}

/* ---- 100,000 rows, 1% bad ---- */

#define BIG_ROWS 100000

/* Every 100th data row has a score that is no integer. */
static char *big_csv(void)
{
	size_t cap = (size_t)BIG_ROWS * 64 + 64, len = 0;
	char *p = malloc(cap);

	len += (size_t)snprintf(p + len, cap - len, "name,phone,score\n");
	for (int i = 1; i <= BIG_ROWS; i++)
		len += (size_t)snprintf(p + len, cap - len, "lead %d,1%010d,%s\n", i, i, i % 100 == 0 ? "x" : "7");
	return p;
}

/* `name` in a new directory of its own (malloc'd; remove_temp it). */
static char *temp_path(const char *name)
{
	char dir[64], *path = malloc(128);

	snprintf(dir, sizeof dir, "/tmp/crm-import-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, 128, "%s/%s", dir, name);
	return path;
}

/* Remove a report written under temp_path and, once empty, its directory. */
static void remove_temp(char *path)
{
	unlink(path);
	*strrchr(path, '/') = 0;
	rmdir(path);
	free(path);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	p[fread(p, 1, (size_t)n, f)] = 0;
	fclose(f);
	return p;
}

/* The error report lists exactly the rows 100, 200, ... each for field score. */
static void check_big_report(const char *path)
{
	char *report = slurp(path), *line, *save = NULL;
	int n = 0, ok = 1;

	CHECK(report != NULL);
	if (!report)
		return;
	line = strtok_r(report, "\r\n", &save);
	CHECK_STR(line, "row,field,code,message");
	while ((line = strtok_r(NULL, "\r\n", &save))) {
		char want[64];
		n++;
		snprintf(want, sizeof want, "%d,\"score\",\"type\",", n * 100);
		ok &= strncmp(line, want, strlen(want)) == 0;
	}
	CHECK_INT(n, BIG_ROWS / 100);
	CHECK(ok);
	free(report);
}

TEST(test_import__best_effort_commits_good_rows_and_reports_every_bad_one)
{
	crm_db *db = fixture();
	char *csv = big_csv(), *out = NULL, *errs = temp_path("best.csv"), opts[256];

	snprintf(opts, sizeof opts, "{\"mode\":\"best-effort\",\"errors\":\"%s\"}", errs);
	CHECK_OK(db, import(db, "lead", csv, opts, &out));
	CHECK_HAS(out, "\"rows\":100000,\"inserted\":99000,\"updated\":0,\"failed\":1000,");
	CHECK_HAS(out, "{\"row\":100,\"field\":\"score\",\"code\":\"type\",\"message\":\"score must be an integer\"}");
	CHECK_HAS(out, "{\"row\":10000,\"field\":\"score\"");
	CHECK(strstr(out, "{\"row\":10100,") == NULL); /* the summary lists the first 100 */
	CHECK_INT(count(db, "lead"), 99000);
	check_big_report(errs);
	CHECK_STR(test_get(db, "lead", 1) ? "ok" : NULL, "ok");
	crm_free(out);
	remove_temp(errs);
	free(csv);
	crm_close(db);
}

TEST(test_import__atomic_reports_every_bad_row_and_leaves_nothing)
{
	crm_db *db = fixture();
	char *csv = big_csv(), *out = NULL, *errs = temp_path("atomic.csv"), opts[256];

	snprintf(opts, sizeof opts, "{\"mode\":\"atomic\",\"errors\":\"%s\"}", errs);
	CHECK_RC(db, import(db, "lead", csv, opts, &out), CRM_ECONSTRAINT);
	CHECK_HAS(out, "\"rows\":100000,\"inserted\":0,\"updated\":0,\"failed\":1000,");
	CHECK_HAS(crm_errmsg(db), "1000 of 100000 rows failed; nothing was written");
	CHECK_INT(count(db, "lead"), 0);
	check_big_report(errs);
	/* the same rows without the bad ones go in whole */
	crm_free(out);
	out = NULL;
	for (char *p = csv; (p = strstr(p, ",x\n")); p++)
		p[1] = '8';
	CHECK_OK(db, import(db, "lead", csv, NULL, &out));
	CHECK_HAS(out, "\"inserted\":100000,");
	CHECK_INT(count(db, "lead"), BIG_ROWS);
	crm_free(out);
	remove_temp(errs);
	free(csv);
	crm_close(db);
}

/* ---- encodings and CSV shapes ---- */

/* `utf8` converted to `enc` with iconv (malloc'd). */
static char *encode(const char *utf8, const char *enc, size_t *len)
{
	iconv_t cd = iconv_open(enc, "UTF-8");
	size_t in_left = strlen(utf8), cap = 4 * in_left + 8, out_left = cap;
	char *out = malloc(cap), *in = (char *)utf8, *o = out;

	if (cd == (iconv_t)-1 || iconv(cd, &in, &in_left, &o, &out_left) == (size_t)-1)
		abort();
	iconv_close(cd);
	*len = cap - out_left;
	out[*len] = 0;
	return out;
}

TEST(test_import__gbk_file_is_detected_or_declared)
{
	crm_db *db = fixture();
	size_t len;
	char *gbk = encode("Name,手机,notes\r\n张三,13800000001,北京市朝阳区\r\n李四,13800000002,上海\r\n", "GBK", &len);
	char *out = NULL;
	crm_import_options o = CRM_IMPORT_OPTIONS_INIT;

	/* declared UTF-8, the GBK bytes are refused and nothing changes */
	o.json = "{\"encoding\":\"utf-8\"}";
	CHECK_RC(db, crm_import_buffer(db, "lead", gbk, len, &o, &out), CRM_EINVAL);
	CHECK(out == NULL);
	CHECK_HAS(crm_errmsg(db), "not UTF-8 text");
	/* detected */
	CHECK_OK(db, crm_import_buffer(db, "lead", gbk, len, NULL, &out));
	CHECK_HAS(out, "\"inserted\":2,");
	CHECK_HAS(test_get(db, "lead", 1), "\"name\":\"张三\",\"phone\":\"13800000001\"");
	CHECK_HAS(test_get(db, "lead", 1), "\"notes\":\"北京市朝阳区\"");
	crm_free(out);
	/* declared */
	o.json = "{\"encoding\":\"gb18030\",\"upsert\":\"phone\"}";
	CHECK_OK(db, crm_import_buffer(db, "lead", gbk, len, &o, &out));
	CHECK_HAS(out, "\"inserted\":0,\"updated\":2,");
	crm_free(out);
	free(gbk);
	crm_close(db);
}

/* Characters cut by the reader's 64 KiB chunks are joined again, in UTF-8
 * and in GBK, and every row keeps its text. */
TEST(test_import__multibyte_text_across_chunks)
{
	static const char *const encs[] = { "UTF-8", "GBK" };
	size_t cap = 12000 * 64 + 64, len = 0;
	char *utf8 = malloc(cap), *out = NULL;

	len += (size_t)sprintf(utf8, "name,notes\n");
	for (int i = 0; i < 12000; i++)
		len += (size_t)sprintf(utf8 + len, "%s%d,北京市朝阳区建国路%d号\n", i % 2 ? "张" : "李四", i, i);
	for (int e = 0; e < 2; e++) {
		crm_db *db = fixture();
		size_t n;
		char *data = e ? encode(utf8, encs[e], &n) : utf8;
		int64_t found = 0;
		if (!e)
			n = len;
		CHECK_OK(db, crm_import_buffer(db, "lead", data, n, NULL, &out));
		CHECK_HAS(out, "\"inserted\":12000,");
		crm_free(out);
		CHECK_OK(db, crm_count(db, "lead", "{\"filter\":{\"field\":\"notes\",\"op\":\"eq\",\"value\":\"北京市朝阳区建国路11999号\"}}", &found));
		CHECK_INT(found, 1);
		CHECK_OK(db, crm_count(db, "lead", "{\"filter\":{\"field\":\"name\",\"op\":\"eq\",\"value\":\"李四6000\"}}", &found));
		CHECK_INT(found, 1);
		if (e)
			free(data);
		crm_close(db);
	}
	free(utf8);
}

TEST(test_import__gbk_fixture_file)
{
	crm_db *db = fixture();
	char *out = NULL;

	CHECK_OK(db, crm_import_file(db, "lead", SOURCE_DIR "/data/import-gbk.csv", NULL, &out));
	CHECK_HAS(out, "\"inserted\":2,\"updated\":0,\"failed\":0");
	CHECK_HAS(test_get(db, "lead", 2), "\"name\":\"王五\"");
	crm_free(out);
	crm_close(db);
}

TEST(test_import__bom_crlf_quotes_and_newlines)
{
	crm_db *db = fixture();
	char *out = NULL;
	const char *csv = "\xEF\xBB\xBF"
			  "name,phone,notes\r\n"
			  "\"Li \"\"the rock\"\" Si\",13800000001,\"line one\r\nline two, with a comma\"\r\n"
			  "Wang,13800000002,\r\n";

	CHECK_OK(db, import(db, "lead", csv, NULL, &out));
	CHECK_HAS(out, "\"rows\":2,\"inserted\":2,");
	CHECK_HAS(test_get(db, "lead", 1), "\"name\":\"Li \\\"the rock\\\" Si\"");
	CHECK_HAS(test_get(db, "lead", 1), "\"notes\":\"line one\\r\\nline two, with a comma\"");
	CHECK_HAS(test_get(db, "lead", 2), "\"notes\":null");
	crm_free(out);
	crm_close(db);
}

TEST(test_import__values_are_converted_by_field_type)
{
	crm_db *db = fixture();
	char *out = NULL;
	const char *csv = "name,score,budget,tags,vip,since\n"
			  "A, 42 ,3.50,a;b,yes,2026-01-02\n"
			  "B,,1,\"[\"\"c\"\"]\",FALSE,\n"
			  "C,4.5,1.234,d,maybe,2026-02-30\n";

	CHECK_OK(db, import(db, "lead", csv, "{\"mode\":\"best-effort\"}", &out));
	CHECK_HAS(test_get(db, "lead", 1), "\"score\":42,\"budget\":3.50,\"tags\":[\"a\",\"b\"],\"vip\":true,\"since\":\"2026-01-02\"");
	CHECK_HAS(test_get(db, "lead", 2), "\"score\":null,\"budget\":1.00,\"tags\":[\"c\"],\"vip\":false,\"since\":null");
	CHECK_HAS(out, "\"failed\":1,");
	CHECK_HAS(out, "{\"row\":3,\"field\":\"score\",\"code\":\"type\"");
	CHECK_HAS(out, "{\"row\":3,\"field\":\"budget\",\"code\":\"format\"");
	CHECK_HAS(out, "{\"row\":3,\"field\":\"tags\",\"code\":\"option\"");
	CHECK_HAS(out, "{\"row\":3,\"field\":\"vip\",\"code\":\"type\"");
	CHECK_HAS(out, "{\"row\":3,\"field\":\"since\",\"code\":\"format\"");
	crm_free(out);
	crm_close(db);
}

TEST(test_import__several_converted_cells_in_one_row_keep_their_values)
{
	crm_db *db = test_db();
	char *csv = malloc(20000), *out = NULL, *rec = NULL;
	size_t len = 0;

	test_apply(db, "{\"form\":\"doc\",\"fields\":[{\"name\":\"j1\",\"type\":\"json\"},"
		       "{\"name\":\"tags\",\"type\":\"multi_enum\",\"options\":[\"a\",\"b\"]},"
		       "{\"name\":\"j2\",\"type\":\"json\"},{\"name\":\"more\",\"type\":\"multi_enum\",\"options\":[\"x\",\"y\"]}]}");
	len += (size_t)sprintf(csv, "j1,tags,j2,more\n");
	for (int i = 0; i < 3000; i++)
		csv[len++] = 'p';
	len += (size_t)sprintf(csv + len, ",b;a,");
	for (int i = 0; i < 5000; i++)
		csv[len++] = 'q';
	len += (size_t)sprintf(csv + len, ",\"[\"\"y\"\"]\"\n");
	CHECK_OK(db, crm_import_buffer(db, "doc", csv, len, NULL, &out));
	CHECK_OK(db, crm_record_get(db, "doc", 1, &rec));
	CHECK_HAS(rec, "\"j1\":\"pppp");
	CHECK_HAS(rec, "\"tags\":[\"a\",\"b\"]");
	CHECK_HAS(rec, "\"more\":[\"y\"]");
	CHECK_HAS(rec, "\"j2\":\"qqqq");
	CHECK(rec && strlen(rec) > 8000);
	crm_free(rec);
	crm_free(out);
	free(csv);
	crm_close(db);
}

TEST(test_import__columns_by_label_by_map_or_ignored)
{
	crm_db *db = fixture();
	char *out = NULL;

	/* labels (a Chinese one) and names mix under "auto"; id and created_at (an export's) are left alone */
	CHECK_OK(db, import(db, "lead", "id,Name,手机,created_at\n99,A,13800000001,2020-01-01T00:00:00Z\n", NULL, &out));
	CHECK_HAS(test_get(db, "lead", 1), "\"id\":1,\"name\":\"A\",\"phone\":\"13800000001\"");
	crm_free(out);
	/* "names" refuses labels */
	CHECK_RC(db, import(db, "lead", "Name\nB\n", "{\"header\":\"names\"}", &out), CRM_EINVAL);
	CHECK(out == NULL);
	CHECK_HAS(crm_errmsg(db), "no field for column 'Name'");
	/* unknown columns are errors unless mapped to "" */
	CHECK_RC(db, import(db, "lead", "name,Remark,Other\nB,x,y\n", NULL, &out), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "column 'Remark', 'Other'");
	CHECK_OK(db, import(db, "lead", "客户,Remark\nB,x\n", "{\"map\":{\"客户\":\"name\",\"Remark\":\"\"}}", &out));
	CHECK_HAS(test_get(db, "lead", 2), "\"name\":\"B\"");
	crm_free(out);
	/* a map to a field that does not exist; two columns into one field */
	CHECK_RC(db, import(db, "lead", "x\nB\n", "{\"map\":{\"x\":\"nope\"}}", &out), CRM_EINVAL);
	CHECK_RC(db, import(db, "lead", "name,Name\nB,C\n", NULL, &out), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "both go to the same field");
	CHECK_INT(count(db, "lead"), 2);
	crm_close(db);
}

TEST(test_import__ndjson_and_json_arrays)
{
	crm_db *db = fixture();
	char *out = NULL;

	CHECK_OK(db, import(db, "lead",
			    "{\"name\":\"A\",\"score\":1}\r\n\n{\"Name\":\"B\",\"tags\":[\"a\"]}\n{\"name\":\"C\",\"bogus\":1}\n[1]\n",
			    "{\"mode\":\"best-effort\"}", &out));
	CHECK_HAS(out, "\"rows\":4,\"inserted\":2,\"updated\":0,\"failed\":2,");
	CHECK_HAS(out, "{\"row\":3,\"field\":\"bogus\",\"code\":\"unknown_field\"");
	CHECK_HAS(out, "{\"row\":4,\"field\":null,\"code\":\"json\"");
	crm_free(out);
	CHECK_OK(db, import(db, "lead", " [{\"name\":\"D\",\"budget\":\"2.5\"}, {\"name\":\"E\"}]", NULL, &out));
	CHECK_HAS(out, "\"rows\":2,\"inserted\":2,");
	CHECK_HAS(test_get(db, "lead", 3), "\"name\":\"D\"");
	crm_free(out);
	/* a broken array: atomic, nothing stays */
	CHECK_RC(db, import(db, "lead", "[{\"name\":\"F\"}, {\"name\":", NULL, &out), CRM_EINVAL);
	CHECK_HAS(out, "\"stopped\":");
	crm_free(out);
	CHECK_INT(count(db, "lead"), 4);
	crm_close(db);
}

/* ---- upsert ---- */

TEST(test_import__upsert_links_two_channels_to_one_customer)
{
	crm_db *db = test_db();
	char *out = NULL;

	test_apply(db, "{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"phone\",\"type\":\"phone\",\"unique\":true},"
		       "{\"name\":\"wechat_unionid\",\"type\":\"text\",\"unique\":true},"
		       "{\"name\":\"douyin_id\",\"type\":\"text\"}]}");
	CHECK_OK(db, import(db, "customer", "name,phone,wechat_unionid\n张三,13800000001,wx-1\n李四,13800000002,wx-2\n",
			    "{\"upsert\":\"phone\"}", &out));
	CHECK_HAS(out, "\"inserted\":2,\"updated\":0,");
	crm_free(out);
	CHECK_OK(db, import(db, "customer", "{\"phone\":\"13800000001\",\"douyin_id\":\"dy-9\"}\n"
					    "{\"phone\":\"13800000003\",\"douyin_id\":\"dy-3\",\"name\":\"王五\"}\n",
			    "{\"upsert\":\"phone\"}", &out));
	CHECK_HAS(out, "\"inserted\":1,\"updated\":1,");
	CHECK_INT(count(db, "customer"), 3);
	CHECK_HAS(test_get(db, "customer", 1), "\"name\":\"张三\",\"phone\":\"13800000001\",\"wechat_unionid\":\"wx-1\",\"douyin_id\":\"dy-9\"");
	crm_free(out);
	/* the key by another unique field; a key that is no unique constraint; a key column missing */
	CHECK_OK(db, import(db, "customer", "wechat_unionid,name\nwx-2,李四四\n", "{\"upsert\":\"wechat_unionid\"}", &out));
	CHECK_HAS(test_get(db, "customer", 2), "\"name\":\"李四四\"");
	crm_free(out);
	CHECK_RC(db, import(db, "customer", "name\nX\n", "{\"upsert\":\"name\"}", &out), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "no unique constraint on exactly (name)");
	CHECK_RC(db, import(db, "customer", "name\nX\n", "{\"upsert\":\"phone\"}", &out), CRM_EINVAL);
	CHECK_HAS(crm_errmsg(db), "upsert key field phone is not among the columns");
	/* a row without a key value fails alone */
	CHECK_OK(db, import(db, "customer", "name,phone\nX,\nY,13800000009\n", "{\"upsert\":\"phone\",\"mode\":\"best-effort\"}", &out));
	CHECK_HAS(out, "\"inserted\":1,\"updated\":0,\"failed\":1,\"errors\":[{\"row\":1,\"field\":null,\"code\":\"CRM_EINVAL\"");
	crm_free(out);
	crm_close(db);
}

/* ---- permissions and audit ---- */

static const char deal_form[] =
	"{\"form\":\"deal\",\"fields\":[{\"name\":\"title\",\"type\":\"text\"},{\"name\":\"amount\",\"type\":\"decimal\"}],"
	" \"permissions\":[{\"roles\":[\"rep\"],\"allow\":[\"read\",\"create\"],\"fields\":{\"amount\":\"read_only\"}},"
	"  {\"roles\":[\"viewer\"],\"allow\":[\"read\"]}]}";

TEST(test_import__is_refused_what_the_actor_may_not_write)
{
	crm_db *db = test_db();
	char *out = NULL;

	test_apply(db, deal_form);
	/* a viewer cannot create: every row is refused, nothing written */
	CHECK_OK(db, crm_actor_set_json(db, "{\"user\":\"vic\",\"roles\":[\"viewer\"]}"));
	CHECK_RC(db, import(db, "deal", "title\na\nb\n", NULL, &out), CRM_EPERM);
	CHECK_HAS(out, "\"failed\":2,");
	CHECK_HAS(out, "{\"row\":1,\"field\":null,\"code\":\"CRM_EPERM\"");
	crm_free(out);
	CHECK_OK(db, import(db, "deal", "title\na\n", "{\"mode\":\"best-effort\"}", &out));
	CHECK_HAS(out, "\"inserted\":0,\"updated\":0,\"failed\":1,");
	crm_free(out);
	/* a rep may create, but not set the read-only amount */
	CHECK_OK(db, crm_actor_set_json(db, "{\"user\":\"ann\",\"roles\":[\"rep\"]}"));
	CHECK_RC(db, import(db, "deal", "title,amount\na,5\n", NULL, &out), CRM_EPERM);
	CHECK_HAS(out, "\"failed\":1,\"errors\":[{\"row\":1,\"field\":\"amount\",\"code\":\"CRM_EPERM\"");
	crm_free(out);
	CHECK_OK(db, import(db, "deal", "title\nb\n", NULL, &out));
	CHECK_HAS(out, "\"inserted\":1,");
	crm_free(out);
	CHECK_OK(db, crm_actor_set_json(db, NULL));
	CHECK_INT(count(db, "deal"), 1);
	{
		int64_t n = 0;
		CHECK_OK(db, crm_count(db, "deal", "{\"filter\":{\"field\":\"owner\",\"op\":\"eq\",\"value\":\"ann\"}}", &n));
		CHECK_INT(n, 1);
	}
	crm_close(db);
}

TEST(test_import__writes_audit_entries)
{
	crm_db *db = test_db();
	char *out = NULL, *hist = NULL;
	int64_t ids[2];

	test_apply(db, "{\"form\":\"contact\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},"
		       "{\"name\":\"phone\",\"type\":\"phone\",\"unique\":true}]}");
	CHECK_OK(db, crm_actor_set_json(db, "{\"user\":\"ann\",\"roles\":[\"rep\"]}"));
	CHECK_OK(db, import(db, "contact", "name,phone\nA,13800000001\nB,13800000002\n", NULL, &out));
	crm_free(out);
	CHECK_OK(db, import(db, "contact", "name,phone\nA2,13800000001\n", "{\"upsert\":\"phone\",\"mode\":\"best-effort\"}", &out));
	crm_free(out);
	CHECK_OK(db, crm_actor_set_json(db, NULL));
	ids[0] = 1, ids[1] = 2;
	CHECK_OK(db, crm_audit_history(db, "contact", ids[0], &hist));
	CHECK_HAS(hist, "\"actor\":\"ann\",\"op\":\"insert\"");
	CHECK_HAS(hist, "\"op\":\"update\"");
	crm_free(hist);
	CHECK_OK(db, crm_audit_history(db, "contact", ids[1], &hist));
	CHECK_HAS(hist, "\"op\":\"insert\"");
	crm_free(hist);
	crm_close(db);
}

/* ---- progress and cancel ---- */

typedef struct progress {
	int calls, cancel_at;
	int64_t last_rows, total;
} progress;

static int on_progress(void *payload, int64_t rows, int64_t bytes, int64_t total)
{
	progress *p = payload;

	p->calls++;
	p->last_rows = rows;
	p->total = total;
	(void)bytes;
	return p->cancel_at && p->calls >= p->cancel_at;
}

TEST(test_import__progress_and_cancel)
{
	crm_db *db = fixture();
	char *out = NULL, *csv = malloc(5000 * 40 + 64);
	size_t len = 0;
	progress p = { 0 };
	crm_import_options o = CRM_IMPORT_OPTIONS_INIT;

	len += (size_t)sprintf(csv, "name\n");
	for (int i = 0; i < 5000; i++)
		len += (size_t)sprintf(csv + len, "lead %d\n", i);
	o.progress = on_progress;
	o.progress_payload = &p;
	CHECK_OK(db, crm_import_buffer(db, "lead", csv, len, &o, &out));
	CHECK(p.calls >= 5);
	CHECK_INT(p.last_rows, 5000);
	CHECK_INT(p.total, (int64_t)len);
	crm_free(out);
	/* cancelled atomic: nothing stays */
	p = (progress){ .cancel_at = 2 };
	CHECK_RC(db, crm_import_buffer(db, "lead", csv, len, &o, &out), CRM_ERROR);
	CHECK_HAS(out, "\"cancelled\":true");
	CHECK_HAS(crm_errmsg(db), "cancelled");
	crm_free(out);
	CHECK_INT(count(db, "lead"), 5000);
	/* cancelled best-effort: committed chunks stay */
	p = (progress){ .cancel_at = 3 };
	o.json = "{\"mode\":\"best-effort\"}";
	CHECK_RC(db, crm_import_buffer(db, "lead", csv, len, &o, &out), CRM_ERROR);
	CHECK_HAS(out, "\"cancelled\":true");
	crm_free(out);
	CHECK(count(db, "lead") >= 5000 + 2000 && count(db, "lead") < 10000);
	free(csv);
	crm_close(db);
}

/* ---- hostile input ---- */

TEST(test_import__hostile_inputs_are_refused_and_change_nothing)
{
	crm_db *db = fixture();
	char *out = NULL, garbage[4096], *big;
	unsigned seed = 7;
	size_t n;
	crm_import_options o = CRM_IMPORT_OPTIONS_INIT;

	/* binary garbage */
	for (size_t i = 0; i < sizeof garbage; i++)
		garbage[i] = (char)((seed = seed * 1103515245u + 12345u) >> 16);
	CHECK_RC(db, crm_import_buffer(db, "lead", garbage, sizeof garbage, NULL, &out), CRM_EINVAL);
	CHECK(out == NULL);
	CHECK_HAS(crm_errmsg(db), "neither UTF-8 nor GB18030");
	o.json = "{\"format\":\"csv\",\"encoding\":\"gb18030\"}";
	CHECK(crm_import_buffer(db, "lead", garbage, sizeof garbage, &o, &out) == CRM_EINVAL);
	crm_free(out);
	out = NULL;
	/* UTF-16 */
	CHECK_RC(db, crm_import_buffer(db, "lead", "\xFF\xFEn\0a\0", 6, NULL, &out), CRM_EINVAL);
	/* a 10 MB field: the row fails with its field, the import goes on */
	n = 10u << 20;
	big = malloc(n + 64);
	strcpy(big, "name,notes\nA,");
	memset(big + 13, 'x', n);
	strcpy(big + 13 + n, "\nB,short\n");
	CHECK_OK(db, import(db, "lead", big, "{\"mode\":\"best-effort\"}", &out));
	CHECK_HAS(out, "\"inserted\":1,\"updated\":0,\"failed\":1,\"errors\":[{\"row\":1,\"field\":\"notes\",\"code\":\"too_long\"");
	crm_free(out);
	/* unbalanced quotes: the reader stops where it cannot go on */
	CHECK_RC(db, import(db, "lead", "name,notes\nC,\"open\nD,x\n", NULL, &out), CRM_EINVAL);
	CHECK(out == NULL);
	CHECK_RC(db, import(db, "lead", "name,notes\nC,x\nD,\"a\"b\n", "{\"mode\":\"best-effort\"}", &out), CRM_EINVAL);
	CHECK_HAS(out, "\"inserted\":1,"); /* best-effort keeps the rows before the break */
	CHECK_HAS(out, "\"stopped\":\"CSV record 3");
	crm_free(out);
	CHECK_INT(count(db, "lead"), 2);
	/* SQL-looking names and values */
	CHECK_RC(db, import(db, "lead", "\"name\"\"; DROP TABLE lead; --\"\nx\n", NULL, &out), CRM_EINVAL);
	CHECK_OK(db, import(db, "lead", "name\n\"x'); DROP TABLE lead; --\"\n", NULL, &out));
	crm_free(out);
	{
		int64_t found = 0;
		CHECK_OK(db, crm_count(db, "lead", "{\"filter\":{\"field\":\"name\",\"op\":\"eq\",\"value\":\"x'); DROP TABLE lead; --\"}}", &found));
		CHECK_INT(found, 1);
	}
	/* a NUL byte, bad options, unknown form, unreadable file, too many cells */
	CHECK_RC(db, crm_import_buffer(db, "lead", "name\na\0b\n", 9, NULL, &out), CRM_EINVAL);
	CHECK_RC(db, import(db, "lead", "name\nx\n", "{\"mode\":\"fast\"}", &out), CRM_EINVAL);
	CHECK_RC(db, import(db, "lead", "name\nx\n", "{\"nope\":1}", &out), CRM_EINVAL);
	CHECK_RC(db, import(db, "lead", "name\nx\n", "[", &out), CRM_EINVAL);
	CHECK_RC(db, import(db, "lead", "name\nx\n", "{\"delimiter\":\"\\\"\"}", &out), CRM_EINVAL);
	CHECK_RC(db, import(db, "lead\"; --", "name\nx\n", NULL, &out), CRM_ENOTFOUND);
	CHECK_RC(db, crm_import_file(db, "lead", "/nonexistent/x.csv", NULL, &out), CRM_EIO);
	CHECK_RC(db, import(db, "lead", "", NULL, &out), CRM_EINVAL);
	CHECK(out == NULL);
	CHECK_RC(db, import(db, "lead", "", "{\"format\":\"json\"}", &out), CRM_EINVAL);
	CHECK_RC(db, import(db, "lead", "", "{\"encoding\":\"gbk\"}", &out), CRM_EINVAL);
	CHECK(out == NULL);
	CHECK_RC(db, import(db, "lead", "name\nx,y\n", NULL, &out), CRM_ECONSTRAINT);
	CHECK_HAS(out, "\"code\":\"columns\"");
	crm_free(out);
	CHECK_INT(count(db, "lead"), 3);
	free(big);
	crm_close(db);
}

TEST_LIST(T(test_import__best_effort_commits_good_rows_and_reports_every_bad_one),
	  T(test_import__atomic_reports_every_bad_row_and_leaves_nothing),
	  T(test_import__gbk_file_is_detected_or_declared), T(test_import__gbk_fixture_file),
	  T(test_import__multibyte_text_across_chunks),
	  T(test_import__bom_crlf_quotes_and_newlines), T(test_import__values_are_converted_by_field_type),
	  T(test_import__several_converted_cells_in_one_row_keep_their_values),
	  T(test_import__columns_by_label_by_map_or_ignored), T(test_import__ndjson_and_json_arrays),
	  T(test_import__upsert_links_two_channels_to_one_customer),
	  T(test_import__is_refused_what_the_actor_may_not_write), T(test_import__writes_audit_entries),
	  T(test_import__progress_and_cancel), T(test_import__hostile_inputs_are_refused_and_change_nothing))
