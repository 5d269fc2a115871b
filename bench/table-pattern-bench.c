/*
 * table-pattern-bench.c - one round of the pattern benchmark of a .redirdb
 * table: for each request of REQUESTS.txt (`NAME<TAB>HOST<TAB>PATH`, HOST
 * `-` for none, as bench/gen-pattern-rules.py writes them), REPS lookups
 * after a warm-up, timed in 101 batches, and one line `NAME<TAB>ns per
 * lookup<TAB>status` with the median batch (a shared machine preempts the
 * process now and then: the median batch is the one that was not).
 * bench/table-patterns.py builds it against each libredir it compares and
 * runs the rounds interleaved.
 *
 *   table-pattern-bench TABLE REQUESTS.txt [REPS]
 */
#include "redir.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCHES 101

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: table-pattern-bench TABLE REQUESTS.txt [REPS]\n");
		return 2;
	}
	long reps = argc == 4 ? atol(argv[3]) : 20000;
	if (reps < 1)
		reps = 20000;
	rd_table *t;
	rd_error err;
	if (rd_table_open(argv[1], &t, &err) != RD_OK) {
		fprintf(stderr, "table-pattern-bench: %s\n", err.message);
		return 2;
	}
	FILE *fp = fopen(argv[2], "r");
	if (!fp) {
		perror(argv[2]);
		return 2;
	}
	static char line[1 << 16], buf[1 << 16];
	volatile unsigned sink = 0;
	while (fgets(line, sizeof line, fp)) {
		line[strcspn(line, "\n")] = '\0';
		char *host = strchr(line, '\t');
		char *path = host ? strchr(host + 1, '\t') : NULL;
		if (!path) {
			fprintf(stderr, "table-pattern-bench: bad line '%s', expected NAME TAB HOST TAB PATH\n",
			        line);
			return 2;
		}
		*host++ = '\0';
		*path++ = '\0';
		const char *h = strcmp(host, "-") == 0 ? NULL : host;
		size_t plen = strlen(path);
		rd_result res;
		int st = 0;
		for (long i = 0; i < reps / 10 + 1; i++)
			st = rd_table_lookup(t, h, path, plen, NULL, 0, &res, buf, sizeof buf);
		long per = reps / BATCHES + 1;
		double batch[BATCHES];
		for (int b = 0; b < BATCHES; b++) {
			double t0 = now_ns();
			for (long i = 0; i < per; i++)
				sink += (unsigned)rd_table_lookup(t, h, path, plen, NULL, 0, &res, buf,
				                                  sizeof buf);
			batch[b] = (now_ns() - t0) / (double)per;
		}
		qsort(batch, BATCHES, sizeof *batch, cmp_double);
		printf("%s\t%.1f\t%d\n", line, batch[BATCHES / 2], st);
	}
	fclose(fp);
	rd_table_close(t);
	return sink == 1 ? 0 : 0;
}
