/* Timing, PRNG, RSS and temp-dir helpers shared by every benchmark
 * (see bench.h). Output goes to stdout, one line per figure, flushed at
 * once so a parent's and a child's lines interleave in order. */
#include "bench.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_ratio(const char *name, double libcrm_s, double ref_s)
{
	printf("ratio %s %.3f\n", name, ref_s > 0 ? libcrm_s / ref_s : 0.0);
	fflush(stdout);
}

void bench_rate(const char *name, double count, double seconds)
{
	printf("rate %s %.0f/s\n", name, seconds > 0 ? count / seconds : 0.0);
	fflush(stdout);
}

void bench_rss(const char *name, long kb)
{
	printf("rss %s %ld KB\n", name, kb);
	fflush(stdout);
}

void bench_note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static long status_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			kb = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

long bench_peak_rss_kb(void)
{
	long kb = status_kb("VmHWM");
	struct rusage ru;

	if (kb >= 0)
		return kb;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		return ru.ru_maxrss; /* KB on Linux */
	return -1;
}

long bench_rss_kb(void)
{
	return status_kb("VmRSS");
}

long bench_env_long(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 10);
	return (*end == '\0' && v > 0) ? v : def;
}

void bench_rng_seed(bench_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t bench_rng_next(bench_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t bench_rng_below(bench_rng *r, uint64_t n)
{
	return bench_rng_next(r) % n; /* bias is irrelevant for n << 2^64 */
}

char *bench_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (!p)
		bench_die("out of memory");
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

char *bench_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *tmpl;
	size_t n;

	if (!base || !*base)
		base = "/tmp";
	n = strlen(base) + strlen(tag) + 16;
	tmpl = malloc(n);
	if (!tmpl)
		bench_die("out of memory");
	snprintf(tmpl, n, "%s/crm-%s-XXXXXX", base, tag);
	if (!mkdtemp(tmpl))
		bench_die("mkdtemp %s failed", tmpl);
	return tmpl;
}

void bench_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d)) != NULL) {
			char *p;

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			p = bench_path(dir, e->d_name);
			unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(dir);
}
