/* Runs the cases of one test program (all, those named on the command
 * line, or one shard of them: "--shard K/N" runs every Nth case from the
 * Kth, so a long program spreads over parallel test processes) and prints
 * the closing "N passed, N failed" line. */
#include "test.h"

int test_main_(const struct test_case *cases, size_t n, int argc, char **argv)
{
	int passed = 0, failed = 0;
	unsigned shard = 0, shards = 0;

	if (argc == 3 && strcmp(argv[1], "--shard") == 0 &&
	    (sscanf(argv[2], "%u/%u", &shard, &shards) != 2 || shard >= shards)) {
		fprintf(stderr, "usage: %s [--shard K/N | CASE...]\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		int before = test_failures_, selected = argc < 2;

		if (shards)
			selected = i % shards == shard;
		else
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
