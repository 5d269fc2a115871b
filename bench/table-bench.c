/*
 * table-bench.c - figures for a .redirdb table: open time, lookup time for
 * hits and misses, and a bare cmph_search_packed loop over the same keys in
 * the same run.  bench/run-table.sh builds and runs it.
 *
 *   table-bench TABLE KEYS.txt [ROUNDS] [-j THREADS] [-m]
 *
 * KEYS.txt: request paths of exact rules (hits), one a line.  Misses are
 * the same paths with "-zz" appended.
 *
 * -j THREADS: also measure throughput with THREADS threads (and with one,
 * the same code, for the scaling): each thread looks up the hits in its own
 * random order over the same mapped table (one rd_table, shared), after a
 * warm-up pass; all start at a barrier and the total is THREADS x keys over
 * the slowest thread's time.  Printed as lookups/s, median of ROUNDS.
 * -m: also print the figures as `RESULT name value` lines (for bench/run).
 *
 * Fairness: the lookup loop and the bare cmph loop use the same key array
 * (the keys packed one after another in one fixed random order, so that
 * reading a key is not itself a cache miss for one loop and not the other),
 * the same warm-up pass and the same timing.  Each round runs the four
 * measurements (lookup hits, lookup misses, cmph hits, cmph misses) back to
 * back, so load on the machine hits all four alike; every figure is the
 * median over ROUNDS (default 7) rounds with the min-max range, and the
 * ratio lookup/bare cmph is taken within each round.
 *
 * Per lookup: each is timed on its own with CLOCK_MONOTONIC, the timer's own
 * cost (median of empty timings) subtracted, and the median (and p99) of a
 * round reported; the mean of an untimed loop is printed as a cross-check.
 */
#include "runtime/redir.h"
#include "runtime/table_format.h"

#include <cmph.h>
#include <fcntl.h>
#include <pthread.h>
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
	const char *s;
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

typedef unsigned (*probe_fn)(void *ctx, const key *k);

typedef struct figure {
	double median, p99, mean;
} figure;

/* One measurement: warm-up pass, untimed pass (mean), timed pass (median,
 * p99), all over keys[0..n) in the same order. */
static figure measure(probe_fn fn, void *ctx, const key *keys, size_t n, double *t)
{
	figure f;
	for (size_t i = 0; i < n; i++)
		sink += fn(ctx, &keys[i]);
	double t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		sink += fn(ctx, &keys[i]);
	f.mean = (now_ns() - t0) / (double)n;
	for (size_t i = 0; i < n; i++) {
		double a = now_ns();
		sink += fn(ctx, &keys[i]);
		t[i] = now_ns() - a - timer_cost;
	}
	f.median = pct(t, n, 0.5);
	f.p99 = pct(t, n, 0.99);
	return f;
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

static double median_of(const double *v, int rounds)
{
	double s[64];
	memcpy(s, v, sizeof *v * (size_t)rounds);
	qsort(s, (size_t)rounds, sizeof *s, cmp_double);
	return s[rounds / 2];
}

/* Median and range of one figure over the rounds. */
static void summary(const char *label, const double *v, int rounds, const char *unit)
{
	double s[64];
	memcpy(s, v, sizeof *v * (size_t)rounds);
	qsort(s, (size_t)rounds, sizeof *s, cmp_double);
	printf("  %-34s %8.1f %s  (min %.1f, max %.1f)\n", label, s[rounds / 2], unit, s[0],
	       s[rounds - 1]);
}

/* Keys packed back to back in `order`, with `suffix` appended. */
static key *pack_keys(const key *src, size_t n, const char *suffix, char **store)
{
	size_t sl = strlen(suffix), total = 0;
	for (size_t i = 0; i < n; i++)
		total += src[i].n + sl;
	char *p = malloc(total + 1);
	key *out = malloc(n * sizeof *out);
	*store = p;
	for (size_t i = 0; i < n; i++) {
		memcpy(p, src[i].s, src[i].n);
		memcpy(p + src[i].n, suffix, sl);
		out[i].s = p;
		out[i].n = src[i].n + sl;
		p += out[i].n;
	}
	return out;
}

/* ---- throughput with several threads over one shared table ---- */
typedef struct worker {
	const rd_table *t;
	const key *keys;
	size_t n;
	pthread_barrier_t *bar;
	double ns;
	unsigned sum;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	char buf[4096];
	rd_result res;
	unsigned sum = 0;
	for (size_t i = 0; i < w->n; i++) /* warm-up */
		sum += (unsigned)rd_table_lookup(w->t, NULL, w->keys[i].s, w->keys[i].n, NULL, 0, &res,
		                                 buf, sizeof buf);
	pthread_barrier_wait(w->bar);
	double t0 = now_ns();
	for (size_t i = 0; i < w->n; i++)
		sum += (unsigned)rd_table_lookup(w->t, NULL, w->keys[i].s, w->keys[i].n, NULL, 0, &res,
		                                 buf, sizeof buf);
	w->ns = now_ns() - t0;
	w->sum = sum;
	return NULL;
}

/* Lookups per second, all threads together: nthreads x n over the slowest. */
static double throughput(const rd_table *t, key **orders, size_t n, int nthreads)
{
	pthread_t tid[64];
	worker w[64];
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++) {
		w[i] = (worker){ .t = t, .keys = orders[i], .n = n, .bar = &bar };
		pthread_create(&tid[i], NULL, work, &w[i]);
	}
	double slowest = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(tid[i], NULL);
		sink += w[i].sum;
		if (w[i].ns > slowest)
			slowest = w[i].ns;
	}
	pthread_barrier_destroy(&bar);
	return (double)nthreads * (double)n / (slowest / 1e9);
}

int main(int argc, char **argv)
{
	const char *pos[3] = { NULL, NULL, NULL };
	int npos = 0, nthreads = 0, machine = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-j") == 0 && i + 1 < argc)
			nthreads = atoi(argv[++i]);
		else if (strcmp(argv[i], "-m") == 0)
			machine = 1;
		else if (npos < 3 && argv[i][0] != '-')
			pos[npos++] = argv[i];
		else
			npos = 99;
	}
	if (npos < 2 || npos > 3 || nthreads < 0 || nthreads > 64) {
		fprintf(stderr, "usage: table-bench TABLE KEYS.txt [ROUNDS] [-j THREADS] [-m]\n");
		return 2;
	}
	const char *path = pos[0];
	int rounds = npos == 3 ? atoi(pos[2]) : 7;
	if (rounds < 1 || rounds > 64)
		rounds = 7;
	/* keys, in a fixed random order */
	FILE *fp = fopen(pos[1], "r");
	if (!fp) {
		perror(pos[1]);
		return 2;
	}
	size_t n = 0, cap = 1024;
	key *raw = malloc(cap * sizeof *raw);
	char line[4096];
	while (fgets(line, sizeof line, fp)) {
		size_t l = strcspn(line, "\n");
		if (n == cap)
			raw = realloc(raw, (cap *= 2) * sizeof *raw);
		raw[n].s = strndup(line, l);
		raw[n].n = l;
		n++;
	}
	fclose(fp);
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(xorshift() % i);
		key tmp = raw[i - 1];
		raw[i - 1] = raw[j];
		raw[j] = tmp;
	}
	char *hit_store, *miss_store;
	key *hits = pack_keys(raw, n, "", &hit_store);
	key *misses = pack_keys(raw, n, "-zz", &miss_store);
	/* for -j: one more random order of the hits per thread */
	key *orders[64];
	char *order_store[64];
	for (int j = 0; j < nthreads; j++) {
		for (size_t i = n; i > 1; i--) {
			size_t k = (size_t)(xorshift() % i);
			key tmp = raw[i - 1];
			raw[i - 1] = raw[k];
			raw[k] = tmp;
		}
		orders[j] = pack_keys(raw, n, "", &order_store[j]);
	}
	for (size_t i = 0; i < n; i++)
		free((char *)raw[i].s);
	free(raw);

	/* timer cost */
	{
		double t[10001];
		for (int i = 0; i < 10001; i++) {
			double a = now_ns();
			t[i] = now_ns() - a;
		}
		timer_cost = pct(t, 10001, 0.5);
	}
	printf("keys: %zu hits, %zu misses (same order, packed); timer cost %.1f ns (subtracted); "
	       "%d rounds\n", n, n, timer_cost, rounds);

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
	double open_med = pct(ot, NOPEN, 0.5), open_p99 = pct(ot, NOPEN, 0.99);
	printf("open (mmap + header checks)  median %7.1f us   p99 %7.1f us   (%d opens)\n",
	       open_med / 1000, open_p99 / 1000, NOPEN);
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
	double *tbuf = malloc(n * sizeof *tbuf);
	enum { LH, LM, CH, CM, NFIG };
	static const char *names[NFIG] = { "lookup, hits", "lookup, misses",
	                                   "bare cmph_search_packed, hits",
	                                   "bare cmph_search_packed, misses" };
	double med[NFIG][64], p99[NFIG][64], mean[NFIG][64], rh[64], rm[64];
	unsigned nh = 0, nm = 0;
	for (int r = 0; r < rounds; r++) {
		figure f[NFIG];
		lc->hits = 0;
		f[LH] = measure(do_lookup, lc, hits, n, tbuf);
		nh = lc->hits;
		lc->hits = 0;
		f[LM] = measure(do_lookup, lc, misses, n, tbuf);
		nm = lc->hits;
		f[CH] = measure(do_cmph, packed, hits, n, tbuf);
		f[CM] = measure(do_cmph, packed, misses, n, tbuf);
		for (int i = 0; i < NFIG; i++) {
			med[i][r] = f[i].median;
			p99[i][r] = f[i].p99;
			mean[i][r] = f[i].mean;
		}
		rh[r] = f[LH].median / f[CH].median;
		rm[r] = f[LM].median / f[CM].median;
		fprintf(stderr, "round %d: lookup %.1f/%.1f ns, cmph %.1f/%.1f ns (hits/misses)\n", r + 1,
		        f[LH].median, f[LM].median, f[CH].median, f[CM].median);
	}
	printf("per-lookup median (ns), median of %d rounds (min, max):\n", rounds);
	for (int i = 0; i < NFIG; i++)
		summary(names[i], med[i], rounds, "ns");
	printf("per-lookup p99:\n");
	for (int i = 0; i < NFIG; i++)
		summary(names[i], p99[i], rounds, "ns");
	printf("mean of an untimed loop (ns per call):\n");
	for (int i = 0; i < NFIG; i++)
		summary(names[i], mean[i], rounds, "ns");
	printf("ratio lookup / bare cmph, within each round:\n");
	summary("hits (median / median)", rh, rounds, "x ");
	summary("misses (median / median)", rm, rounds, "x ");
	printf("answers: %u of %zu hits redirected, %u of %zu misses\n", nh / 3, n, nm / 3, n);
	double tp1[64], tpn[64], scale[64];
	if (nthreads > 0) {
		for (int r = 0; r < rounds; r++) {
			tp1[r] = throughput(t, orders, n, 1);
			tpn[r] = throughput(t, orders, n, nthreads);
			scale[r] = tpn[r] / tp1[r];
		}
		double m1[64], mn[64];
		for (int r = 0; r < rounds; r++) {
			m1[r] = tp1[r] / 1e6;
			mn[r] = tpn[r] / 1e6;
		}
		printf("throughput over the hits, each thread its own random order, one shared table:\n");
		summary("1 thread (million lookups/s)", m1, rounds, "M/s");
		char label[64];
		snprintf(label, sizeof label, "%d threads, total (million lookups/s)", nthreads);
		summary(label, mn, rounds, "M/s");
		summary("scaling (total / 1 thread)", scale, rounds, "x ");
	}
	if (machine) {
		printf("RESULT keys %zu\n", n);
		printf("RESULT hits_redirected %u\n", nh / 3);
		printf("RESULT misses_redirected %u\n", nm / 3);
		printf("RESULT open_median_ns %.1f\n", open_med);
		printf("RESULT open_p99_ns %.1f\n", open_p99);
		static const char *fig_keys[NFIG] = { "lookup_hit", "lookup_miss", "cmph_hit", "cmph_miss" };
		for (int i = 0; i < NFIG; i++) {
			printf("RESULT %s_median_ns %.1f\n", fig_keys[i], median_of(med[i], rounds));
			printf("RESULT %s_p99_ns %.1f\n", fig_keys[i], median_of(p99[i], rounds));
			printf("RESULT %s_mean_ns %.1f\n", fig_keys[i], median_of(mean[i], rounds));
		}
		printf("RESULT ratio_hit %.3f\n", median_of(rh, rounds));
		printf("RESULT ratio_miss %.3f\n", median_of(rm, rounds));
		if (nthreads > 0) {
			printf("RESULT threads %d\n", nthreads);
			printf("RESULT tput_1_lps %.0f\n", median_of(tp1, rounds));
			printf("RESULT tput_n_lps %.0f\n", median_of(tpn, rounds));
			printf("RESULT tput_scaling %.3f\n", median_of(scale, rounds));
		}
	}
	for (int j = 0; j < nthreads; j++) {
		free(orders[j]);
		free(order_store[j]);
	}
	free(tbuf);
	free(lc);
	free(hits);
	free(misses);
	free(hit_store);
	free(miss_store);
	rd_table_close(t);
	munmap(map, (size_t)st.st_size);
	return 0;
}
