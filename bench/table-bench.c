/*
 * table-bench.c - figures for a .redirdb table: open time, lookup time for
 * hits and misses, and a bare cmph_search_packed loop over the same keys in
 * the same run.  bench/run-table.sh builds and runs it.
 *
 *   table-bench TABLE KEYS.txt
 *
 * KEYS.txt: request paths of exact rules (hits), one a line.  Misses are
 * the same paths with "-zz" appended.  Lookups run single-threaded, in a
 * fixed random order, after a warm-up pass; each is timed on its own with
 * CLOCK_MONOTONIC and the timer's own cost (median of empty timings) is
 * subtracted; the mean of an untimed loop is printed as a cross-check.
 */
#include "redir.h"
#include "table_format.h"

#include <cmph.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof *v, cmp_double);
	size_t i = (size_t)(p * (double)(n - 1));
	return v[i];
}

typedef struct key {
	char *s;
	size_t n;
} key;

static uint64_t rng = 88172645463325252ull;
static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double timer_cost;
static volatile unsigned sink;

/* Time `fn` on each key: median and p99 (ns, timer cost removed), and the
 * mean of an untimed pass. */
typedef unsigned (*probe_fn)(void *ctx, const key *k);

static void measure(const char *label, probe_fn fn, void *ctx, const key *keys, size_t n,
                    double *median_out)
{
	double *t = malloc(n * sizeof *t);
	for (size_t i = 0; i < n; i++) /* warm */
		sink += fn(ctx, &keys[i]);
	double t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		sink += fn(ctx, &keys[i]);
	double mean = (now_ns() - t0) / (double)n;
	for (size_t i = 0; i < n; i++) {
		double a = now_ns();
		sink += fn(ctx, &keys[i]);
		t[i] = now_ns() - a - timer_cost;
	}
	double med = pct(t, n, 0.5), p99 = pct(t, n, 0.99);
	printf("%-28s median %7.1f ns   p99 %7.1f ns   mean (untimed loop) %7.1f ns\n", label, med,
	       p99, mean);
	if (median_out)
		*median_out = med;
	free(t);
}

typedef struct lookup_ctx {
	rd_table *t;
	char buf[4096];
	unsigned hits;
} lookup_ctx;

static unsigned do_lookup(void *ctx, const key *k)
{
	lookup_ctx *c = ctx;
	rd_result res;
	int st = rd_table_lookup(c->t, NULL, k->s, k->n, NULL, 0, &res, c->buf, sizeof c->buf);
	if (st > 0)
		c->hits++;
	return (unsigned)st;
}

static unsigned do_cmph(void *ctx, const key *k)
{
	return cmph_search_packed(ctx, k->s, (cmph_uint32)k->n);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: table-bench TABLE KEYS.txt\n");
		return 2;
	}
	const char *path = argv[1];
	/* keys */
	FILE *fp = fopen(argv[2], "r");
	if (!fp) {
		perror(argv[2]);
		return 2;
	}
	size_t n = 0, cap = 1024;
	key *hits = malloc(cap * sizeof *hits);
	char line[4096];
	while (fgets(line, sizeof line, fp)) {
		size_t l = strcspn(line, "\n");
		if (n == cap)
			hits = realloc(hits, (cap *= 2) * sizeof *hits);
		hits[n].s = strndup(line, l);
		hits[n].n = l;
		n++;
	}
	fclose(fp);
	for (size_t i = n; i > 1; i--) { /* fixed random order */
		size_t j = (size_t)(xorshift() % i);
		key tmp = hits[i - 1];
		hits[i - 1] = hits[j];
		hits[j] = tmp;
	}
	key *misses = malloc(n * sizeof *misses);
	for (size_t i = 0; i < n; i++) {
		misses[i].s = malloc(hits[i].n + 4);
		memcpy(misses[i].s, hits[i].s, hits[i].n);
		memcpy(misses[i].s + hits[i].n, "-zz", 4);
		misses[i].n = hits[i].n + 3;
	}

	/* timer cost */
	{
		double t[10001];
		for (int i = 0; i < 10001; i++) {
			double a = now_ns();
			t[i] = now_ns() - a;
		}
		timer_cost = pct(t, 10001, 0.5);
	}
	printf("keys: %zu hits, %zu misses; timer cost %.1f ns (subtracted)\n", n, n, timer_cost);

	/* open time */
	rd_table *t;
	rd_error err;
	enum { NOPEN = 1001 };
	double ot[NOPEN];
	for (int i = 0; i < NOPEN; i++) {
		double a = now_ns();
		int rc = rd_table_open(path, &t, &err);
		ot[i] = now_ns() - a;
		if (rc != RD_OK) {
			fprintf(stderr, "table-bench: %s\n", err.message);
			return 2;
		}
		rd_table_close(t);
	}
	printf("open (mmap + header checks)  median %7.1f us   p99 %7.1f us   (%d opens)\n",
	       pct(ot, NOPEN, 0.5) / 1000, pct(ot, NOPEN, 0.99) / 1000, NOPEN);
	if (rd_table_open(path, &t, &err) != RD_OK) {
		fprintf(stderr, "table-bench: %s\n", err.message);
		return 2;
	}
	double a = now_ns();
	int v = rd_table_verify(t, &err);
	printf("verify (full checksum)       %7.1f ms   %s\n", (now_ns() - a) / 1e6,
	       v == RD_OK ? "ok" : err.message);

	/* the packed cmph function inside the same file, for the bare loop */
	int fd = open(path, O_RDONLY);
	struct stat st;
	fstat(fd, &st);
	unsigned char *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	const rdb_header *h = (const rdb_header *)map;
	if (h->hash_kind != RDB_HASH_CMPH_BDZ) {
		fprintf(stderr, "table-bench: the table has no cmph function (too few keys)\n");
		return 2;
	}
	void *packed = map + h->sec[RDB_SEC_HASH].off;

	lookup_ctx *lc = calloc(1, sizeof *lc);
	lc->t = t;
	double hit_med, cmph_med;
	measure("lookup, hits", do_lookup, lc, hits, n, &hit_med);
	unsigned nh = lc->hits;
	lc->hits = 0;
	measure("lookup, misses", do_lookup, lc, misses, n, NULL);
	unsigned nm = lc->hits;
	measure("bare cmph_search_packed, hits", do_cmph, packed, hits, n, &cmph_med);
	measure("bare cmph_search_packed, misses", do_cmph, packed, misses, n, NULL);
	printf("ratio lookup/bare cmph (hits, median): %.2f\n", hit_med / cmph_med);
	printf("answers: %u of %zu hits redirected, %u of %zu misses\n", nh / 3, n, nm / 3, n);
	rd_table_close(t);
	munmap(map, (size_t)st.st_size);
	return 0;
}
