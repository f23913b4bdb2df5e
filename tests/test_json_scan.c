/* Unit tests for lib/core/json_scan.c: walking objects and arrays, string
 * decoding, strict RFC 8259 syntax, depth limits and hostile input. */
#include "test.h"

#include "core/json_scan.h"

/* A copy of `s` in a block of exactly its length, so ASan catches reads
 * past the end (the scanner must never rely on a terminating NUL). */
static char *exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	if (n)
		memcpy(p, s, n);
	return p;
}

/* Walk every member (or element) of `doc` and return the final result:
 * 0 when the whole document is accepted, -1 otherwise. */
static int walk(const char *doc, size_t n, int max_depth, int array, const char **err, size_t *err_pos)
{
	crm__buf strings = CRM__BUF_INIT;
	crm__jscan sc;
	crm__jval k, v;
	char *copy = exact(doc, n);
	int r, guard = 0;

	if (crm__jscan_init(&sc, copy, n, max_depth, &strings))
		r = -2;
	else
		do
			r = array ? crm__jscan_element(&sc, &v) : crm__jscan_member(&sc, &k, &v);
		while (r == 1 && ++guard < 1000000);
	if (err)
		*err = sc.err;
	if (err_pos)
		*err_pos = sc.err_pos;
	crm__buf_free(&strings);
	free(copy);
	return r;
}

static int obj(const char *doc) { return walk(doc, strlen(doc), 64, 0, NULL, NULL); }
static int arr(const char *doc) { return walk(doc, strlen(doc), 64, 1, NULL, NULL); }
static int valid(const char *doc, int max_depth)
{
	size_t n = strlen(doc);
	char *copy = exact(doc, n);
	int r = crm__json_validate(copy, n, max_depth, NULL, NULL);

	free(copy);
	return r;
}

#define CHECK_SPAN(v, text)                                                                \
	do {                                                                               \
		size_t tn_ = strlen(text);                                                 \
		if ((v).n != tn_ || memcmp((v).p, text, tn_) != 0) {                       \
			fprintf(stderr, "%s:%d: span \"%.*s\", expected \"%s\"\n", __FILE__, __LINE__, \
				(int)(v).n, (v).p, text);                                  \
			test_failures_++;                                                  \
		}                                                                          \
	} while (0)

TEST(test_jscan_member__walks_every_value_type)
{
	static const char doc[] = " {\"a\": 1, \"b\":\"x\",\"c\":true,\"d\":false,\"e\":null,"
				  "\"f\":[1, [2]],\"g\":{\"h\":[]},\"i\":-1.5e+3} \n";
	static const struct {
		const char *key;
		crm__jtype type;
		const char *text;
	} want[] = {
		{ "a", CRM__J_NUMBER, "1" },	   { "b", CRM__J_STRING, "x" },
		{ "c", CRM__J_TRUE, "true" },	   { "d", CRM__J_FALSE, "false" },
		{ "e", CRM__J_NULL, "null" },	   { "f", CRM__J_ARRAY, "[1, [2]]" },
		{ "g", CRM__J_OBJECT, "{\"h\":[]}" }, { "i", CRM__J_NUMBER, "-1.5e+3" },
	};
	crm__buf strings = CRM__BUF_INIT;
	crm__jscan sc;
	crm__jval k, v;

	CHECK_INT(crm__jscan_init(&sc, doc, sizeof doc - 1, 64, &strings), 0);
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		CHECK_INT(crm__jscan_member(&sc, &k, &v), 1);
		CHECK_INT(k.type, CRM__J_STRING);
		CHECK_SPAN(k, want[i].key);
		CHECK_INT(v.type, want[i].type);
		CHECK_SPAN(v, want[i].text);
	}
	CHECK_INT(crm__jscan_member(&sc, &k, &v), 0);
	CHECK_INT(crm__jscan_member(&sc, &k, &v), 0); /* stays at the end */
	CHECK(sc.err == NULL);
	crm__buf_free(&strings);
}

TEST(test_jscan_member__empty_object_ends_at_once)
{
	CHECK_INT(obj("{}"), 0);
	CHECK_INT(obj(" \t\r\n{ \t\r\n} \t\r\n"), 0);
	CHECK_INT(arr("[]"), 0);
	CHECK_INT(arr(" [ ] "), 0);
}

TEST(test_jscan_element__walks_an_array_and_nested_spans_rescan)
{
	static const char doc[] = "[{\"id\":1,\"tags\":[\"a\",\"b\\n\"]}, {\"id\":2,\"tags\":[]}]";
	crm__buf strings = CRM__BUF_INIT;
	crm__jscan sc, in, tags;
	crm__jval v, k, f, t;
	int seen = 0;

	CHECK_INT(crm__jscan_init(&sc, doc, sizeof doc - 1, 64, &strings), 0);
	while (crm__jscan_element(&sc, &v) == 1) {
		CHECK_INT(v.type, CRM__J_OBJECT);
		CHECK_INT(crm__jscan_init(&in, v.p, v.n, 63, &strings), 0);
		CHECK_INT(crm__jscan_member(&in, &k, &f), 1);
		CHECK_SPAN(k, "id");
		CHECK_SPAN(f, seen == 0 ? "1" : "2");
		CHECK_INT(crm__jscan_member(&in, &k, &f), 1);
		CHECK_SPAN(k, "tags");
		CHECK_INT(f.type, CRM__J_ARRAY);
		CHECK_INT(crm__jscan_init(&tags, f.p, f.n, 62, &strings), 0);
		if (seen == 0) {
			CHECK_INT(crm__jscan_element(&tags, &t), 1);
			CHECK_SPAN(t, "a");
			CHECK_INT(crm__jscan_element(&tags, &t), 1);
			CHECK_SPAN(t, "b\n");
		}
		CHECK_INT(crm__jscan_element(&tags, &t), 0);
		CHECK_INT(crm__jscan_member(&in, &k, &f), 0);
		seen++;
	}
	CHECK_INT(seen, 2);
	CHECK(sc.state != 0 && sc.err == NULL);
	crm__buf_free(&strings);
}

TEST(test_jscan__returns_unescaped_strings_as_spans_of_the_input)
{
	static const char doc[] = "{\"name\":\"Zo\xc3\xab \xe2\x82\xac\"}";
	crm__buf strings = CRM__BUF_INIT;
	crm__jscan sc;
	crm__jval k, v;

	CHECK_INT(crm__jscan_init(&sc, doc, sizeof doc - 1, 64, &strings), 0);
	CHECK_INT(crm__jscan_member(&sc, &k, &v), 1);
	CHECK(k.p == doc + 2 && k.n == 4);
	CHECK(v.p == doc + 9 && v.n == 8);
	CHECK_INT(strings.len, 0); /* nothing decoded */
	crm__buf_free(&strings);
}

TEST(test_jscan__decodes_every_escape)
{
	static const char doc[] = "{\"k\\u0065y\":\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t"
				  "\\u00e9\\u20AC\\ud83d\\ude00\\u0000end\"}";
	static const char want[] = "q\"b\\s/b\bf\fn\nr\rt\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0end";
	crm__buf strings = CRM__BUF_INIT;
	crm__jscan sc;
	crm__jval k, v;

	CHECK_INT(crm__jscan_init(&sc, doc, sizeof doc - 1, 64, &strings), 0);
	CHECK_INT(crm__jscan_member(&sc, &k, &v), 1);
	CHECK_SPAN(k, "key");
	CHECK_INT(v.type, CRM__J_STRING);
	CHECK_INT(v.n, sizeof want - 1);
	CHECK(v.n == sizeof want - 1 && memcmp(v.p, want, v.n) == 0);
	CHECK(v.p >= strings.p && v.p + v.n <= strings.p + strings.len);
	CHECK_INT(crm__jscan_member(&sc, &k, &v), 0);
	crm__buf_free(&strings);
}

TEST(test_jscan__decoded_strings_stay_valid_for_the_whole_scan)
{
	crm__buf strings = CRM__BUF_INIT, doc = CRM__BUF_INIT;
	crm__jscan sc;
	crm__jval k, v, vals[200];
	const char *base;
	int i = 0, bad = 0;

	crm__buf_putc(&doc, '{');
	for (int m = 0; m < 200; m++)
		crm__buf_printf(&doc, "%s\"k%d\":\"\\u00e9%d\\n\"", m ? "," : "", m, m);
	crm__buf_putc(&doc, '}');
	CHECK(!doc.oom);
	CHECK_INT(crm__jscan_init(&sc, doc.p, doc.len, 64, &strings), 0);
	base = strings.p;
	while (crm__jscan_member(&sc, &k, &v) == 1 && i < 200)
		vals[i++] = v;
	CHECK_INT(i, 200);
	CHECK(strings.p == base); /* never reallocated during the scan */
	for (int m = 0; m < i; m++) {
		char want[32];

		snprintf(want, sizeof want, "\xc3\xa9%d\n", m);
		bad += vals[m].n != strlen(want) || memcmp(vals[m].p, want, vals[m].n) != 0;
	}
	CHECK_INT(bad, 0);
	crm__buf_free(&strings);
	crm__buf_free(&doc);
}

TEST(test_jscan__rescanning_a_nested_span_keeps_outer_strings_valid)
{
	static const char doc[] = "{\"a\":\"\\t1\",\"n\":{\"x\":\"\\t2\",\"y\":[\"\\t3\"]},\"b\":\"\\t4\"}";
	crm__buf strings = CRM__BUF_INIT;
	crm__jscan sc, in;
	crm__jval k, a, n, x, b;
	const char *base;

	CHECK_INT(crm__jscan_init(&sc, doc, sizeof doc - 1, 64, &strings), 0);
	base = strings.p;
	CHECK_INT(crm__jscan_member(&sc, &k, &a), 1);
	CHECK_INT(crm__jscan_member(&sc, &k, &n), 1);
	CHECK_INT(crm__jscan_init(&in, n.p, n.n, 63, &strings), 0);
	CHECK_INT(crm__jscan_member(&in, &k, &x), 1);
	CHECK_SPAN(x, "\t2");
	CHECK_INT(crm__jscan_member(&sc, &k, &b), 1);
	CHECK_INT(crm__jscan_member(&sc, &k, &b), 0);
	CHECK(strings.p == base);
	CHECK_SPAN(a, "\t1");
	CHECK_SPAN(x, "\t2");
	CHECK_SPAN(b, "\t4");
	crm__buf_free(&strings);
}

TEST(test_jscan__escaped_string_without_buffer_fails_cleanly)
{
	static const char doc[] = "{\"a\":\"plain\",\"b\":\"\\n\"}";
	crm__jscan sc;
	crm__jval k, v;

	CHECK_INT(crm__jscan_init(&sc, doc, sizeof doc - 1, 64, NULL), 0);
	CHECK_INT(crm__jscan_member(&sc, &k, &v), 1);
	CHECK_SPAN(v, "plain");
	CHECK_INT(crm__jscan_member(&sc, &k, &v), -1);
	CHECK(sc.err != NULL);
}

TEST(test_jscan__rejects_lone_and_malformed_surrogates)
{
	CHECK_INT(obj("{\"a\":\"\\ud83d\\ude00\"}"), 0);
	CHECK_INT(obj("{\"a\":\"\\uD83D\\uDE00\"}"), 0);
	CHECK_INT(obj("{\"a\":\"\\ud83d\"}"), -1);
	CHECK_INT(obj("{\"a\":\"\\ud83dx\"}"), -1);
	CHECK_INT(obj("{\"a\":\"\\ude00\"}"), -1);
	CHECK_INT(obj("{\"a\":\"\\ude00\\ud83d\"}"), -1);
	CHECK_INT(obj("{\"a\":\"\\ud83d\\u0041\"}"), -1);
	CHECK_INT(obj("{\"a\":\"\\ud83d\\ud83d\"}"), -1);
	CHECK_INT(obj("{\"a\":\"\\ud83d\\n\"}"), -1);
	CHECK_INT(obj("{\"a\":[\"\\ud83d\"]}"), -1); /* also inside nested spans */
	CHECK_INT(valid("\"\\udfff\"", 8), -1);
}

TEST(test_jscan__rejects_bad_escapes)
{
	static const char *bad[] = {
		"{\"a\":\"\\x41\"}", "{\"a\":\"\\u12G4\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\U0041\"}",
		"{\"a\":\"\\'\"}", "{\"a\":\"\\0\"}", "{\"a\":\"\\\"}", "{\"a\\q\":1}", "{\"a\":[\"\\a\"]}",
		"{\"a\":\"\\u 123\"}",
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (obj(bad[i]) != -1) {
			fprintf(stderr, "accepted %s\n", bad[i]);
			test_failures_++;
		}
}

TEST(test_jscan__rejects_raw_control_characters_in_strings)
{
	char doc[] = "{\"a\":\"x?y\"}";

	for (int c = 0; c < 0x20; c++) {
		doc[7] = (char)c;
		CHECK_INT(walk(doc, sizeof doc - 1, 64, 0, NULL, NULL), -1);
	}
	/* Every other ASCII byte but '"' and '\\' may appear raw, DEL included. */
	for (int c = 0x20; c < 0x80; c++) {
		if (c == '"' || c == '\\')
			continue;
		doc[7] = (char)c;
		CHECK_INT(walk(doc, sizeof doc - 1, 64, 0, NULL, NULL), 0);
	}
}

TEST(test_jscan__rejects_invalid_utf8_in_strings)
{
	static const char *bad[] = {
		"\xc0\x80", "\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80", "\xff", "\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xc3\x28",
	};
	char doc[64];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int n = snprintf(doc, sizeof doc, "{\"a\":\"x%sy\"}", bad[i]);
		int n2;

		CHECK_INT(walk(doc, (size_t)n, 64, 0, NULL, NULL), -1);
		n = snprintf(doc, sizeof doc, "{\"k%s\":1}", bad[i]);
		CHECK_INT(walk(doc, (size_t)n, 64, 0, NULL, NULL), -1);
		n2 = snprintf(doc, sizeof doc, "{\"a\":[\"%s\"]}", bad[i]);
		CHECK_INT(walk(doc, (size_t)n2, 64, 0, NULL, NULL), -1);
	}
	CHECK_INT(obj("{\"a\":\"\xf4\x8f\xbf\xbf\xed\x9f\xbf\"}"), 0);
}

TEST(test_jscan__accepts_only_json_numbers)
{
	static const char *good[] = { "0", "-0", "0.5", "-0.5", "1e10", "1E-2", "-1.5e+3", "123456789012345678901234567890",
				      "0e0", "1.0E+00" };
	static const char *bad[] = { "01", "-01", "00", "-", "1.", ".5", "+1", "1e", "1e+", "0x1", "Infinity",
				     "-Infinity", "NaN", "1.e3", "--1", "1ee2", "0.5.5", "-.5" };
	char doc[64];

	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		crm__jscan sc;
		crm__jval k, v;
		int n = snprintf(doc, sizeof doc, "{\"n\":%s}", good[i]);

		crm__jscan_init(&sc, doc, (size_t)n, 64, NULL);
		CHECK_INT(crm__jscan_member(&sc, &k, &v), 1);
		CHECK_INT(v.type, CRM__J_NUMBER);
		CHECK_SPAN(v, good[i]);
		CHECK_INT(crm__jscan_member(&sc, &k, &v), 0);
		CHECK_INT(valid(good[i], 0), 0);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int n = snprintf(doc, sizeof doc, "{\"n\":%s}", bad[i]);

		if (walk(doc, (size_t)n, 64, 0, NULL, NULL) != -1 || valid(bad[i], 8) != -1) {
			fprintf(stderr, "accepted number %s\n", bad[i]);
			test_failures_++;
		}
	}
}

TEST(test_jscan__rejects_misspelled_literals)
{
	static const char *bad[] = { "tru", "True", "nul", "nulll", "fals", "FALSE", "undefined", "t" };
	char doc[64];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int n = snprintf(doc, sizeof doc, "{\"v\":%s}", bad[i]);

		CHECK_INT(walk(doc, (size_t)n, 64, 0, NULL, NULL), -1);
		n = snprintf(doc, sizeof doc, "[%s]", bad[i]);
		CHECK_INT(walk(doc, (size_t)n, 64, 1, NULL, NULL), -1);
		CHECK_INT(valid(bad[i], 8), -1);
	}
}

TEST(test_jscan__rejects_trailing_and_missing_commas)
{
	static const char *bad_obj[] = {
		"{\"a\":1,}", "{,}", "{,\"a\":1}", "{\"a\":1,,\"b\":2}", "{\"a\":1 \"b\":2}", "{\"a\":[1,]}",
		"{\"a\":{\"b\":1,}}", "{\"a\":[1 2]}", "{\"a\":[,1]}", "{\"a\":{,}}", "{\"a\":1 , }",
	};
	static const char *bad_arr[] = { "[1,]", "[,]", "[,1]", "[1 2]", "[1,,2]", "[[1,],2]", "[1 , ]" };

	for (size_t i = 0; i < sizeof bad_obj / sizeof *bad_obj; i++)
		if (obj(bad_obj[i]) != -1 || valid(bad_obj[i], 8) != -1) {
			fprintf(stderr, "accepted %s\n", bad_obj[i]);
			test_failures_++;
		}
	for (size_t i = 0; i < sizeof bad_arr / sizeof *bad_arr; i++)
		if (arr(bad_arr[i]) != -1 || valid(bad_arr[i], 8) != -1) {
			fprintf(stderr, "accepted %s\n", bad_arr[i]);
			test_failures_++;
		}
}

TEST(test_jscan__rejects_comments_and_non_json_syntax)
{
	static const char *bad[] = {
		"{\"a\":1 /* c */}", "{\"a\":1} // c", "{// c\n\"a\":1}", "{a:1}", "{'a':1}", "{1:2}",
		"{\"a\" 1}", "{\"a\"::1}", "{\"a\":}", "{\"a\"}", "{\"a\":'x'}", "{\"a\":1;}", "{\"a\":1]",
		"{\"a\":[1}", "{\"a\":{]}", "{\"a\":[[1],{\"b\":1]]}", "{\"a\":\"x\"\"y\"}", "\xef\xbb\xbf{}",
		"{\"a\":1\x0b}", "{\"a\":1\xc2\xa0}", "{null:1}",
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (obj(bad[i]) != -1 || valid(bad[i], 8) != -1) {
			fprintf(stderr, "accepted %s\n", bad[i]);
			test_failures_++;
		}
}

TEST(test_jscan__rejects_text_after_the_top_level_container)
{
	static const char *bad[] = { "{} x", "{}{}", "{}}", "{\"a\":1}]", "{} 0", "{}\"\"", "{}\x01", "{}\0" };

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK_INT(walk(bad[i], strlen(bad[i]) + (i == 7), 64, 0, NULL, NULL), -1);
	CHECK_INT(arr("[] []"), -1);
	CHECK_INT(arr("[1]]"), -1);
	CHECK_INT(obj("{}  \n\t\r"), 0);
}

TEST(test_jscan__refuses_the_wrong_kind_of_container)
{
	crm__jscan sc;
	crm__jval k, v;

	CHECK_INT(arr("{}"), -1);
	CHECK_INT(obj("[]"), -1);
	CHECK_INT(obj("1"), -1);
	CHECK_INT(obj("\"{}\""), -1);
	CHECK_INT(obj("null"), -1);
	CHECK_INT(obj(""), -1);
	CHECK_INT(obj("   "), -1);
	/* Switching from member to element mid-scan is an error, not a crash. */
	crm__jscan_init(&sc, "{\"a\":1,\"b\":2}", 13, 64, NULL);
	CHECK_INT(crm__jscan_member(&sc, &k, &v), 1);
	CHECK_INT(crm__jscan_element(&sc, &v), -1);
	CHECK_INT(crm__jscan_member(&sc, &k, &v), -1); /* errors are sticky */
}

TEST(test_jscan__reports_error_position_and_message)
{
	const char *err = NULL;
	size_t pos = 0;

	CHECK_INT(walk("{\"a\":01}", 8, 64, 0, &err, &pos), -1);
	CHECK_INT(pos, 5);
	CHECK(err != NULL);
	CHECK_INT(walk("{\"a\":1,}", 8, 64, 0, &err, &pos), -1);
	CHECK_INT(pos, 7);
	CHECK_INT(walk("{\"a\":\"x\x01\"}", 10, 64, 0, &err, &pos), -1);
	CHECK_INT(pos, 7);
	CHECK_INT(walk("{} x", 4, 64, 0, &err, &pos), -1);
	CHECK_INT(pos, 3);
	CHECK_INT(crm__json_validate("[1,2,x]", 7, 8, &err, &pos), -1);
	CHECK_INT(pos, 5);
	CHECK(err != NULL && *err);
}

static int depth_obj(const char *doc, int max_depth) { return walk(doc, strlen(doc), max_depth, 0, NULL, NULL); }
static int depth_arr(const char *doc, int max_depth) { return walk(doc, strlen(doc), max_depth, 1, NULL, NULL); }

TEST(test_jscan__enforces_max_depth_counting_the_outer_container)
{
	CHECK_INT(depth_obj("{\"a\":1}", 1), 0);
	CHECK_INT(depth_obj("{\"a\":[]}", 1), -1);
	CHECK_INT(depth_obj("{\"a\":[1]}", 2), 0);
	CHECK_INT(depth_obj("{\"a\":[[1]]}", 2), -1);
	CHECK_INT(depth_obj("{\"a\":[[1]]}", 3), 0);
	CHECK_INT(depth_obj("{\"a\":[{\"b\":{}}]}", 3), -1);
	CHECK_INT(depth_obj("{\"a\":[{\"b\":{}}]}", 4), 0);
	CHECK_INT(depth_arr("[[[]]]", 3), 0);
	CHECK_INT(depth_arr("[[[]]]", 2), -1);
	CHECK_INT(depth_obj("{}", 0), -1);
	/* Depth returns to the base after each sibling closes. */
	CHECK_INT(depth_obj("{\"a\":[[1]],\"b\":[[2]],\"c\":{\"d\":[3]}}", 3), 0);
}

TEST(test_json_validate__accepts_one_value_of_any_type)
{
	CHECK_INT(valid("1", 0), 0);
	CHECK_INT(valid(" -2.5e3 ", 0), 0);
	CHECK_INT(valid("\"x\\n\\u00e9\"", 0), 0);
	CHECK_INT(valid("true", 0), 0);
	CHECK_INT(valid("false", 0), 0);
	CHECK_INT(valid("null", 0), 0);
	CHECK_INT(valid("{}", 1), 0);
	CHECK_INT(valid("[]", 1), 0);
	CHECK_INT(valid("{\"a\":[1,{\"b\":null}],\"c\":\"d\"}", 3), 0);
	CHECK_INT(valid("[[1]]", 2), 0);
	CHECK_INT(valid("[[1]]", 1), -1);
	CHECK_INT(valid("[]", 0), -1);
	CHECK_INT(valid("", 8), -1);
	CHECK_INT(valid("  ", 8), -1);
	CHECK_INT(valid("1 2", 8), -1);
	CHECK_INT(valid("\"a\" \"b\"", 8), -1);
	CHECK_INT(valid("[1] x", 8), -1);
	CHECK_INT(valid("\"unterminated", 8), -1);
	CHECK_INT(crm__json_validate(NULL, 0, 8, NULL, NULL), -1);
}

/* n opening brackets, then (if `close`) n closing ones. */
static char *nest(size_t n, int close, char open_c, char close_c)
{
	char *p = malloc(2 * n + 1);

	memset(p, open_c, n);
	if (close)
		memset(p + n, close_c, n);
	p[close ? 2 * n : n] = 0;
	return p;
}

TEST(test_jscan__deep_nesting_fails_fast_without_recursion)
{
	char *open_only = nest(10000, 0, '[', ']');
	char *balanced = nest(10000, 1, '[', ']');
	char *objs;
	size_t n;

	CHECK_INT(walk(open_only, 10000, 64, 1, NULL, NULL), -1);
	CHECK_INT(walk(balanced, 20000, 64, 1, NULL, NULL), -1);
	/* A host limit beyond what the scanner can follow still fails cleanly. */
	CHECK_INT(walk(open_only, 10000, 1 << 30, 1, NULL, NULL), -1);
	CHECK_INT(walk(balanced, 20000, 1 << 30, 1, NULL, NULL), -1);
	CHECK_INT(crm__json_validate(balanced, 20000, 1 << 30, NULL, NULL), -1);
	CHECK_INT(crm__json_validate(open_only, 10000, 64, NULL, NULL), -1);
	free(open_only);
	free(balanced);

	/* Deep but allowed nesting is followed level by level. */
	balanced = nest(1000, 1, '[', ']');
	CHECK_INT(crm__json_validate(balanced, 2000, 1000, NULL, NULL), 0);
	CHECK_INT(crm__json_validate(balanced, 2000, 999, NULL, NULL), -1);
	CHECK_INT(walk(balanced, 2000, 1000, 1, NULL, NULL), 0);
	free(balanced);

	/* {"a":{"a":...}} 2000 deep. */
	objs = malloc(2000 * 5 + 2000 + 8);
	n = 0;
	for (int i = 0; i < 2000; i++) {
		memcpy(objs + n, "{\"a\":", 5);
		n += 5;
	}
	objs[n++] = '1';
	memset(objs + n, '}', 2000);
	n += 2000;
	CHECK_INT(crm__json_validate(objs, n, 2000, NULL, NULL), 0);
	CHECK_INT(crm__json_validate(objs, n, 1999, NULL, NULL), -1);
	CHECK_INT(walk(objs, n, 2000, 0, NULL, NULL), 0);
	CHECK_INT(walk(objs, n, 64, 0, NULL, NULL), -1);
	free(objs);
}

static const char sample[] =
	"{\"id\": 42, \"name\": \"Zo\\u00eb \\\"Z\\\" \xe2\x82\xac\", \"price\": -12.50e0,\n"
	" \"tags\": [\"a\", \"b\\n\", [], {}], \"owner\": {\"id\": 7, \"ok\": true, \"n\": null},\n"
	" \"emoji\": \"\\ud83d\\ude00\", \"off\": false, \"list\": [1, 2.5, -0, 3e-2]}";

TEST(test_jscan__every_truncation_of_a_document_fails)
{
	size_t n = sizeof sample - 1;
	int bad = 0;

	CHECK_INT(walk(sample, n, 64, 0, NULL, NULL), 0);
	CHECK_INT(valid(sample, 64), 0);
	for (size_t cut = 0; cut < n; cut++) {
		char *copy = exact(sample, cut);

		bad += walk(copy, cut, 64, 0, NULL, NULL) != -1;
		bad += crm__json_validate(copy, cut, 64, NULL, NULL) != -1;
		free(copy);
	}
	CHECK_INT(bad, 0);
}

TEST(test_jscan__single_byte_corruptions_agree_with_validate)
{
	static const char subst[] = { '"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', 'e', '.', ' ',
				      'x', '\x01', '\x80', '\xff', '\xc3', 'u', 'n' };
	size_t n = sizeof sample - 1;
	char *copy = exact(sample, n);
	int disagree = 0;

	/* Scanning an object to the end must accept exactly what validate
	 * accepts (for object input), whatever byte is damaged. */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof subst; k++) {
			char saved = copy[i];
			int w, v;

			copy[i] = subst[k];
			w = walk(copy, n, 64, 0, NULL, NULL);
			v = crm__json_validate(copy, n, 64, NULL, NULL);
			disagree += (w == 0) != (v == 0 && copy[0] == '{');
			copy[i] = saved;
		}
	CHECK_INT(disagree, 0);
	free(copy);
}

TEST(test_jscan__huge_numbers_are_returned_as_written)
{
	crm__buf doc = CRM__BUF_INIT, strings = CRM__BUF_INIT;
	crm__jscan sc;
	crm__jval k, v;

	crm__buf_puts(&doc, "{\"n\":-");
	for (int i = 0; i < 5000; i++)
		crm__buf_putc(&doc, (char)('1' + i % 9));
	crm__buf_puts(&doc, ".5e-99999999999999999999}");
	CHECK_INT(crm__jscan_init(&sc, doc.p, doc.len, 64, &strings), 0);
	CHECK_INT(crm__jscan_member(&sc, &k, &v), 1);
	CHECK_INT(v.type, CRM__J_NUMBER);
	CHECK_INT(v.n, doc.len - 6);
	CHECK(v.p == doc.p + 5);
	CHECK_INT(crm__jscan_member(&sc, &k, &v), 0);
	crm__buf_free(&doc);
	crm__buf_free(&strings);
}

TEST(test_jscan__long_strings_scan_and_decode)
{
	crm__buf doc = CRM__BUF_INIT, strings = CRM__BUF_INIT;
	crm__jscan sc;
	crm__jval k, v;
	size_t len = 1 << 20;

	/* A megabyte of plain text and then one escape at the very end. */
	crm__buf_puts(&doc, "{\"s\":\"");
	for (size_t i = 0; i < len; i++)
		crm__buf_putc(&doc, (char)('a' + i % 26));
	crm__buf_puts(&doc, "\\u00e9\"}");
	CHECK_INT(crm__jscan_init(&sc, doc.p, doc.len, 64, &strings), 0);
	CHECK_INT(crm__jscan_member(&sc, &k, &v), 1);
	CHECK_INT(v.n, len + 2);
	CHECK(v.n == len + 2 && v.p[0] == 'a' && v.p[len - 1] == (char)('a' + (len - 1) % 26) &&
	      memcmp(v.p + len, "\xc3\xa9", 2) == 0);
	CHECK_INT(crm__jscan_member(&sc, &k, &v), 0);
	crm__buf_free(&doc);
	crm__buf_free(&strings);
}

/* A string long enough for the eight-byte steps, with one special byte
 * (an escape, a raw control character, a quote ending it early, good or
 * bad UTF-8) at every offset: the scan reads it as byte by byte. */
TEST(test_jscan__special_bytes_at_every_offset_of_a_long_string)
{
	static const struct {
		const char *put, *want; /* want NULL: refused */
	} cases[] = {
		{ "\\n", "\n" }, { "\\\"", "\"" }, { "\\\\", "\\" }, { "\x01", NULL },
		{ "\x1f", NULL },  { "\xc3\xa9", "\xc3\xa9" }, { "\xff", NULL }, { "\x7f", "\x7f" },
	};

	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
		for (size_t at = 0; at < 24; at++) {
			crm__buf doc = CRM__BUF_INIT, strings = CRM__BUF_INIT, want = CRM__BUF_INIT;
			crm__jscan sc;
			crm__jval k, v;
			int r;

			crm__buf_puts(&doc, "{\"s\":\"");
			for (size_t i = 0; i < 30; i++) {
				if (i == at) {
					crm__buf_puts(&doc, cases[c].put);
					crm__buf_puts(&want, cases[c].want ? cases[c].want : "");
				}
				crm__buf_putc(&doc, (char)('a' + i % 26));
				crm__buf_putc(&want, (char)('a' + i % 26));
			}
			crm__buf_puts(&doc, "\"}");
			CHECK_INT(crm__jscan_init(&sc, doc.p, doc.len, 64, &strings), 0);
			r = crm__jscan_member(&sc, &k, &v);
			if (!cases[c].want)
				CHECK_INT(r, -1);
			else {
				CHECK_INT(r, 1);
				CHECK(v.n == want.len && memcmp(v.p, want.p, want.len) == 0);
			}
			crm__buf_free(&doc);
			crm__buf_free(&strings);
			crm__buf_free(&want);
		}
}

TEST(test_jscan_init__fails_when_the_reservation_fails)
{
	crm__buf strings = CRM__BUF_INIT;
	crm__jscan sc;

	strings.oom = 1; /* an earlier append failed */
	CHECK_INT(crm__jscan_init(&sc, "{}", 2, 64, &strings), -1);
	strings.oom = 0;
	CHECK_INT(crm__jscan_init(&sc, "{}", 2, 64, &strings), 0);
	CHECK(strings.cap >= strings.len + 4);
	CHECK_INT(crm__jscan_init(&sc, "{}", (size_t)-1, 64, &strings), -1);
	crm__buf_free(&strings);
}


/* ---- crm__json_zip ---- */

/* The zip of `names` and `values` (each in a block of its exact length),
 * or "(refused)". */
static const char *zip(const char *names, const char *values)
{
	static char out[512];
	crm__buf b = CRM__BUF_INIT;
	char *n = exact(names, strlen(names)), *v = exact(values, strlen(values));

	crm__buf_puts(&b, "<");
	if (crm__json_zip(&b, n, strlen(names), v, strlen(values)) == 0)
		snprintf(out, sizeof out, "%.*s", (int)b.len - 1, b.p + 1);
	else
		snprintf(out, sizeof out, "(refused)%s", b.len == 1 && !b.oom ? "" : " but wrote");
	crm__buf_free(&b);
	free(n);
	free(v);
	return out;
}

TEST(test_json_zip__pairs_names_with_values_as_written)
{
	CHECK_STR(zip("[\"a\",\"b\"]", "[1,\"x\"]"), "{\"a\":1,\"b\":\"x\"}");
	/* every kind of value, numbers and nested values as written */
	CHECK_STR(zip("[\"n\",\"t\",\"f\",\"z\",\"d\",\"e\",\"o\",\"l\"]",
		      "[null, true,false,0,12.50,-1E+400,{\"k\":[1,{}]},[\"s\"]]"),
		  "{\"n\":null,\"t\":true,\"f\":false,\"z\":0,\"d\":12.50,\"e\":-1E+400,\"o\":{\"k\":[1,{}]},"
		  "\"l\":[\"s\"]}");
	/* strings with escapes come out escaped as libcrm writes them */
	CHECK_STR(zip("[\"q\",\"u\"]", "[\"say \\\"hi\\\"\\n\",\"\\u4e2d\\u6587 caf\\u00e9\"]"),
		  "{\"q\":\"say \\\"hi\\\"\\n\",\"u\":\"\u4e2d\u6587 caf\u00e9\"}");
	CHECK_STR(zip("[\"a\"]", "[\"\u4e2d\"]"), "{\"a\":\"\u4e2d\"}");
	/* names past the last value are left out; none at all is {} */
	CHECK_STR(zip("[\"a\",\"b\",\"owner\"]", "[1,2]"), "{\"a\":1,\"b\":2}");
	CHECK_STR(zip("[\"a\"]", "[]"), "{}");
	CHECK_STR(zip("[]", "[]"), "{}");
}

TEST(test_json_zip__refuses_what_does_not_fit_and_writes_nothing)
{
	static const char *const bad[][2] = {
		{ "[\"a\"]", "[1,2]" },          /* more values than names */
		{ "[\"a\",1]", "[1,2]" },        /* a name that is no string */
		{ "[\"a\",1]", "[1]" },          /* ... even past the values */
		{ "{\"a\":1}", "[1]" },          /* names not an array */
		{ "[\"a\"]", "{\"a\":1}" },    /* values not an array */
		{ "[\"a\"]", "[1" },             /* truncated */
		{ "[\"a\"", "[1]" },
		{ "[\"a\"]", "[1] x" },          /* text after */
		{ "[\"a\"]", "[\"\\ud800\"]" }, /* a lone surrogate */
		{ "", "[1]" },
		{ "[\"a\"]", "" },
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK_STR(zip(bad[i][0], bad[i][1]), "(refused)");
}

TEST_LIST(
	T(test_jscan_member__walks_every_value_type),
	T(test_jscan_member__empty_object_ends_at_once),
	T(test_jscan_element__walks_an_array_and_nested_spans_rescan),
	T(test_jscan__returns_unescaped_strings_as_spans_of_the_input),
	T(test_jscan__decodes_every_escape),
	T(test_jscan__decoded_strings_stay_valid_for_the_whole_scan),
	T(test_jscan__rescanning_a_nested_span_keeps_outer_strings_valid),
	T(test_jscan__escaped_string_without_buffer_fails_cleanly),
	T(test_jscan__rejects_lone_and_malformed_surrogates),
	T(test_jscan__rejects_bad_escapes),
	T(test_jscan__rejects_raw_control_characters_in_strings),
	T(test_jscan__rejects_invalid_utf8_in_strings),
	T(test_jscan__accepts_only_json_numbers),
	T(test_jscan__rejects_misspelled_literals),
	T(test_jscan__rejects_trailing_and_missing_commas),
	T(test_jscan__rejects_comments_and_non_json_syntax),
	T(test_jscan__rejects_text_after_the_top_level_container),
	T(test_jscan__refuses_the_wrong_kind_of_container),
	T(test_jscan__reports_error_position_and_message),
	T(test_jscan__enforces_max_depth_counting_the_outer_container),
	T(test_json_validate__accepts_one_value_of_any_type),
	T(test_jscan__deep_nesting_fails_fast_without_recursion),
	T(test_jscan__every_truncation_of_a_document_fails),
	T(test_jscan__single_byte_corruptions_agree_with_validate),
	T(test_jscan__huge_numbers_are_returned_as_written),
	T(test_jscan__long_strings_scan_and_decode),
	T(test_jscan__special_bytes_at_every_offset_of_a_long_string),
	T(test_jscan_init__fails_when_the_reservation_fails),
	T(test_json_zip__pairs_names_with_values_as_written),
	T(test_json_zip__refuses_what_does_not_fit_and_writes_nothing))
