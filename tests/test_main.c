/* Runs the cases of one test program (all, or those named on the command
 * line) and prints the closing "N passed, N failed" line. */
#include "test.h"

int test_main_(const struct test_case *cases, size_t n, int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		int before = test_failures_, selected = argc < 2;

		for (int a = 1; a < argc; a++)
			selected |= strcmp(argv[a], cases[i].name) == 0;
		if (!selected)
			continue;
		cases[i].fn();
		if (test_failures_ == before)
			passed++;
		else {
			failed++;
			fprintf(stderr, "FAIL %s\n", cases[i].name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
