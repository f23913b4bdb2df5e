/* Search benchmark: BENCH_SEARCH_ROWS (default 1,000,000) customers with
 * generated Chinese and English names, companies and notes, inserted
 * through crm_batch, then the "search" declaration applied (the index is
 * built from the rows). Prints the median latency of a few typical
 * crm_search queries (BENCH_REPS runs each, default 7), Chinese and
 * English, through the index (3 characters or more) and the scan (fewer),
 * and the ratio of an indexed query against the same FTS5 statement
 * written by hand through sqlite3 on the same file. */
#include "gen.h"

#include <crm.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const surnames[] = { "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙" };
static const char *const given[] = { "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超" };
static const char *const cities[] = { "北京", "上海", "广州", "深圳", "杭州", "成都", "南京", "武汉", "西安", "苏州" };
static const char *const words[] = { "华为", "腾讯", "阿里", "星辰", "宏远", "东方", "金鼎", "瑞丰", "中科", "新桥",
				     "天元", "博雅", "联创", "海信", "云帆", "恒通" };
static const char *const kinds[] = { "技术", "贸易", "科技", "实业", "物流", "咨询" };
static const char *const en_first[] = { "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka",
					"Tyrell", "Cyberdyne", "Soylent", "Vandelay" };
static const char *const en_kind[] = { "Holdings", "Trading", "Systems", "Logistics", "Foods", "Labs" };
static const char *const notes[] = { "met at the Shanghai trade show", "asked for a quote by WeChat",
				     "渠道：抖音直播", "老客户介绍", "wants delivery to Beijing", "hotline call, follow up",
				     "电商店铺咨询", "renewal due next quarter" };

#define PICK(a, rng) (a[bench_rng_below(rng, sizeof a / sizeof *a)])

static void gen_customer(bench_rng *rng, uint64_t i, char *out, size_t size)
{
	if (i % 2 == 0)
		snprintf(out, size, "{\"name\":\"%s%s%s\",\"company\":\"%s%s%s有限公司\",\"notes\":\"%s\"}", PICK(surnames, rng),
			 PICK(given, rng), PICK(given, rng), PICK(cities, rng), PICK(words, rng), PICK(kinds, rng),
			 PICK(notes, rng));
	else
		snprintf(out, size, "{\"name\":\"%s %s %llu\",\"company\":\"%s %s Ltd\",\"notes\":\"%s\"}", PICK(en_first, rng),
			 PICK(en_kind, rng), (unsigned long long)i, PICK(en_first, rng), PICK(en_kind, rng), PICK(notes, rng));
}

static const char form_plain[] =
	"{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},{\"name\":\"company\",\"type\":\"text\"},"
	"{\"name\":\"notes\",\"type\":\"long_text\"}]}";
static const char form_search[] =
	"{\"form\":\"customer\",\"fields\":[{\"name\":\"name\",\"type\":\"text\"},{\"name\":\"company\",\"type\":\"text\"},"
	"{\"name\":\"notes\",\"type\":\"long_text\"}],\"search\":{\"fields\":[\"name\",\"company\",\"notes\"]}}";

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

static double search_once(crm_db *db, const char *text, int *hits)
{
	char *json = NULL;
	double t0 = bench_now();

	bench_crm_check(db, crm_search(db, text, "{\"limit\":20}", &json), text);
	t0 = bench_now() - t0;
	*hits = 0;
	for (const char *p = json; (p = strstr(p, "\"form\":")); p++)
		(*hits)++;
	crm_free(json);
	return t0;
}

/* The same question through sqlite3: the 21 best rows by bm25 with every
 * declared column (libcrm then reads each hit's record: not counted here). */
static double raw_once(sqlite3_stmt *st, const char *value)
{
	double t0 = bench_now();
	uint64_t touch = 0;

	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		for (int i = 0; i < 5; i++) {
			const unsigned char *t = sqlite3_column_text(st, i);
			touch += t ? t[0] : 0;
		}
	sqlite3_reset(st);
	if (touch == 1)
		bench_note("unlikely");
	return bench_now() - t0;
}

int main(void)
{
	static const char *const queries[][2] = {
		{ "zh_index", "华为技术" }, { "zh_two_words", "北京星辰 科技有限" }, { "zh_short_scan", "张伟" },
		{ "en_index", "globex" },    { "en_two_words", "acme holdings" }, { "en_number", "4243" },
	};
	long rows = bench_env_long("BENCH_SEARCH_ROWS", bench_env_long("BENCH_ROWS", 1000000));
	int reps = (int)bench_env_long("BENCH_REPS", 7);
	char *dir = bench_tmpdir("search"), *path = bench_path(dir, "search.db"), rec[512];
	double t, lat[64], libt[64], rawt[64];
	crm_db *db = NULL;
	crm_batch *b = NULL;
	sqlite3 *raw = NULL;
	sqlite3_stmt *st = NULL;
	bench_rng rng;
	int hits = 0;

	if (reps < 1 || reps > 64)
		reps = 7;
	bench_crm_check(NULL, crm_open(&db, path, NULL), "open");
	bench_crm_check(db, crm_apply(db, form_plain), "apply");
	bench_rng_seed(&rng, 42);
	t = bench_now();
	bench_crm_check(db, crm_batch_begin(&b, db, "customer"), "batch");
	for (long i = 0; i < rows; i++) {
		gen_customer(&rng, (uint64_t)i, rec, sizeof rec);
		bench_crm_check(db, crm_batch_add(b, rec, -1, NULL), "add");
		if ((i + 1) % 50000 == 0 || i + 1 == rows) {
			bench_crm_check(db, crm_batch_commit(b), "commit");
			crm_batch_free(b);
			b = NULL;
			if (i + 1 < rows)
				bench_crm_check(db, crm_batch_begin(&b, db, "customer"), "batch");
		}
	}
	bench_note("search: %ld customers inserted in %.1f s", rows, bench_now() - t);
	t = bench_now();
	bench_crm_check(db, crm_apply(db, form_search), "apply search");
	bench_note("search: index built from them at apply in %.1f s", bench_now() - t);

	for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
		search_once(db, queries[q][1], &hits); /* warm */
		for (int r = 0; r < reps; r++)
			lat[r] = search_once(db, queries[q][1], &hits);
		printf("latency search_%s %.2f ms (%d hits of at most 20, \"%s\", %ld records)\n", queries[q][0],
		       1000 * median(lat, reps), hits, queries[q][1], rows);
	}

	if (sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(raw,
			       "SELECT c.id, -bm25(crm_fts_customer), c.name, c.company, c.notes FROM crm_fts_customer"
			       " JOIN customer AS c ON c.id = crm_fts_customer.rowid WHERE crm_fts_customer MATCH ?"
			       " ORDER BY 2 DESC, c.id DESC LIMIT 21",
			       -1, &st, NULL) != SQLITE_OK)
		bench_die("raw: %s", sqlite3_errmsg(raw));
	raw_once(st, "{name company notes} : \"华为技术\""); /* warm, as the libcrm side is */
	for (int r = 0; r < reps; r++) {
		libt[r] = search_once(db, "华为技术", &hits);
		rawt[r] = raw_once(st, "{name company notes} : \"华为技术\"");
	}
	bench_ratio("search_index", median(libt, reps), median(rawt, reps));
	sqlite3_finalize(st);
	sqlite3_close(raw);
	crm_close(db);
	if (!bench_env_long("BENCH_KEEP", 0))
		bench_rmdir(dir);
	free(path);
	free(dir);
	return 0;
}
