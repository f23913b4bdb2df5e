/* A minimal test harness: each test is a function, each check records a
 * failure with its location and carries on; main prints one closing line
 * "N passed, N failed" and exits non-zero on any failure.
 *
 *   TEST(test_record_insert__rejects_bad_email) { CHECK(...); }
 *   TEST_LIST(T(test_record_insert__rejects_bad_email), ...)
 */
#ifndef CRM_TEST_H
#define CRM_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm.h"

extern int test_failures_;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
			test_failures_++;                                                  \
		}                                                                          \
	} while (0)

#define CHECK_INT(a, b)                                                                    \
	do {                                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);                        \
		if (a_ != b_) {                                                            \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, b_); \
			test_failures_++;                                                  \
		}                                                                          \
	} while (0)

#define CHECK_STR(a, b)                                                                    \
	do {                                                                               \
		const char *a_ = (a), *b_ = (b);                                           \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                   \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");                   \
			test_failures_++;                                                  \
		}                                                                          \
	} while (0)

/* The string `hay` contains `needle`. */
#define CHECK_HAS(hay, needle)                                                             \
	do {                                                                               \
		const char *h_ = (hay), *n_ = (needle);                                    \
		if (!h_ || !strstr(h_, n_)) {                                              \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
				h_ ? h_ : "(null)", n_);                                   \
			test_failures_++;                                                  \
		}                                                                          \
	} while (0)

/* `expr` on handle `db` returns `code`; on mismatch print the handle's error. */
#define CHECK_RC(db, expr, code)                                                           \
	do {                                                                               \
		int rc_ = (expr);                                                          \
		if (rc_ != (code)) {                                                       \
			fprintf(stderr, "%s:%d: %s returned %s, expected %s: %s\n", __FILE__, __LINE__, #expr, \
				crm_errstr(rc_), crm_errstr(code), crm_errdetail(db));       \
			test_failures_++;                                                  \
		}                                                                          \
	} while (0)

#define CHECK_OK(db, expr) CHECK_RC(db, expr, CRM_OK)

struct test_case {
	const char *name;
	void (*fn)(void);
};
#define T(fn) { #fn, fn }

int test_main_(const struct test_case *cases, size_t n, int argc, char **argv);
#define TEST_LIST(...)                                                                     \
	int test_failures_;                                                                \
	static const struct test_case test_cases_[] = { __VA_ARGS__ };                     \
	int main(int argc, char **argv)                                                    \
	{                                                                                  \
		return test_main_(test_cases_, sizeof test_cases_ / sizeof *test_cases_, argc, argv); \
	}

#endif
