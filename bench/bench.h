/* Shared helpers for the benchmarks in bench/: a monotonic clock, a seeded
 * PRNG, peak-RSS probes, temp directories, and the one output format that
 * bench/run passes through ("ratio NAME 1.234", "rate NAME N/s", "rss NAME N KB"). */
#ifndef CRM_BENCH_H
#define CRM_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Seconds on the monotonic clock. */
double bench_now(void);

/* "ratio NAME 1.234": libcrm time / reference time. */
void bench_ratio(const char *name, double libcrm_s, double ref_s);
/* "rate NAME 123456/s": `count` items done in `seconds`. */
void bench_rate(const char *name, double count, double seconds);
/* "rss NAME 12345 KB". */
void bench_rss(const char *name, long kb);
/* A "# ..." comment line (ignored by whoever parses the numbers). */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print to stderr and exit(1). */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Peak resident set size of this process in KB: VmHWM from
 * /proc/self/status, falling back to getrusage's ru_maxrss. */
long bench_peak_rss_kb(void);
/* Current resident set size in KB (VmRSS), or -1. */
long bench_rss_kb(void);

/* Integer from environment variable `name`, or `def` when unset/invalid. */
long bench_env_long(const char *name, long def);

/* Deterministic PRNG (splitmix64): same seed, same sequence everywhere. */
typedef struct bench_rng {
	uint64_t state;
} bench_rng;
void bench_rng_seed(bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(bench_rng *r);
/* Uniform in [0, n), n > 0. */
uint64_t bench_rng_below(bench_rng *r, uint64_t n);

/* Make a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path. */
char *bench_tmpdir(const char *tag);
/* Remove every file directly inside `dir`, then `dir` itself. */
void bench_rmdir(const char *dir);
/* malloc'd "dir/name". */
char *bench_path(const char *dir, const char *name);

#endif
