/*
 * coverage.c - `redirc coverage FILE LOG... [options]`: which rules the
 * access logs show in use (compiler/logparse.h reads the lines,
 * compiler/requests.h answers them like explain does).
 *
 * A log line counts as a hit of the rule that answers its request when the
 * logged status is the rule's (and, for JSON logs with a location field,
 * the logged Location is the rule's).  A line whose request no rule answers
 * and whose status is 404 counts for the "uncovered 404" table.
 *
 * Memory is constant in the number of log lines: counters per rule, and a
 * bounded table of uncovered 404 paths (the Misra-Gries summary: once
 * more than RC_TOP_CAPACITY distinct paths were seen, counts are lower
 * bounds, off by at most lines/RC_TOP_CAPACITY, and the report says so).
 *
 * Exit status: 0 report written, 1 no line of the logs could be read as a
 * request, 2 usage, a rule file with errors or a log that cannot be read.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cli/cli.h"
#include "cli/review.h"
#include "compiler/checks.h"
#include "compiler/jsonw.h"
#include "compiler/logparse.h"
#include "compiler/requests.h"
#include "grammar/grammar.h"

#define RC_TOP_CAPACITY 8192

/* ---- the uncovered 404 summary ----------------------------------------- */

typedef struct top_item {
	char *path;
	size_t len;
	uint64_t count;
} top_item;

typedef struct top_table {
	top_item items[RC_TOP_CAPACITY];
	size_t n;
	int32_t slots[2 * RC_TOP_CAPACITY]; /* -1 empty */
	int approximate;
} top_table;

static size_t top_slot(const top_table *t, const char *p, size_t len)
{
	size_t i = (size_t)rc_hash_bytes(p, len, 7) & (2 * RC_TOP_CAPACITY - 1);
	while (t->slots[i] >= 0) {
		const top_item *it = &t->items[t->slots[i]];
		if (it->len == len && memcmp(it->path, p, len) == 0)
			break;
		i = (i + 1) & (2 * RC_TOP_CAPACITY - 1);
	}
	return i;
}

static void top_rehash(top_table *t)
{
	for (size_t i = 0; i < 2 * RC_TOP_CAPACITY; i++)
		t->slots[i] = -1;
	for (size_t i = 0; i < t->n; i++)
		t->slots[top_slot(t, t->items[i].path, t->items[i].len)] = (int32_t)i;
}

static void top_init(top_table *t)
{
	t->n = 0;
	t->approximate = 0;
	top_rehash(t);
}

static void top_fini(top_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->items[i].path);
}

static void top_add(top_table *t, const char *p, size_t len)
{
	size_t s = top_slot(t, p, len);
	if (t->slots[s] >= 0) {
		t->items[t->slots[s]].count++;
		return;
	}
	if (t->n == RC_TOP_CAPACITY) {
		/* full: every count goes down by one (this line's too) and the
		 * paths that reach zero make room */
		t->approximate = 1;
		size_t w = 0;
		for (size_t i = 0; i < t->n; i++) {
			if (--t->items[i].count == 0)
				free(t->items[i].path);
			else
				t->items[w++] = t->items[i];
		}
		t->n = w;
		top_rehash(t);
		return;
	}
	top_item *it = &t->items[t->n];
	it->path = rc_xmalloc(len + 1);
	memcpy(it->path, p, len);
	it->path[len] = '\0';
	it->len = len;
	it->count = 1;
	t->slots[s] = (int32_t)t->n++;
}

static int cmp_top(const void *a, const void *b)
{
	const top_item *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->path, y->path);
}

/* ---- counting ---------------------------------------------------------- */

typedef struct coverage {
	const rc_ir *ir;
	rc_resolver rv;
	rc_log_parser parser;
	const char *default_host;   /* canonical --host, or NULL */
	uint64_t *hits, *other;     /* per rule: counted hits; lines it answered with another status */
	int64_t *last;              /* per rule: latest time seen, INT64_MIN = none */
	top_table *top;
	uint64_t lines, requests, bad, answered, not_counted, uncovered_404;
	const char *first_bad_file;
	uint64_t first_bad_line;
	const char *first_bad_why;
} coverage;

/* Does a logged Location agree with the rule's?  A relative target may be
 * logged absolute (servers add scheme and host). */
static int location_agrees(const char *expected, const char *logged, size_t logged_len)
{
	char *l = rc_xmalloc(logged_len + 1);
	memcpy(l, logged, logged_len);
	l[logged_len] = '\0';
	const char *cmp = l;
	if (expected[0] == '/' && (strncmp(l, "http://", 7) == 0 || strncmp(l, "https://", 8) == 0)) {
		const char *slash = strchr(l + (l[4] == 's' ? 8 : 7), '/');
		cmp = slash ? slash : "/";
	}
	int eq = rc_location_equal(expected, cmp);
	free(l);
	return eq;
}

static void count_line(coverage *c, const char *file, uint64_t lineno, const char *line,
                       size_t len)
{
	c->lines++;
	rc_log_entry e;
	const char *why;
	if (rc_log_parse(&c->parser, line, len, &e, &why) != 0) {
		if (c->bad++ == 0) {
			c->first_bad_file = file;
			c->first_bad_line = lineno;
			c->first_bad_why = why;
		}
		return;
	}
	c->requests++;
	char host[256];
	const char *h = c->default_host;
	if (e.host && e.host_len && e.host_len < sizeof host) {
		rd_host_canon(e.host, e.host_len, host);
		h = host;
	}
	rc_fast_answer a;
	rc_resolve(&c->rv, h, e.path, e.path_len, e.query, e.query_len, e.location != NULL, &a);
	if (!a.matched) {
		if (e.status == 404) {
			c->uncovered_404++;
			top_add(c->top, e.path, e.path_len);
		}
		return;
	}
	c->answered++;
	int agrees = e.status == a.status;
	if (agrees && e.location && a.location)
		agrees = location_agrees(a.location, e.location, e.location_len);
	if (!agrees) {
		c->other[a.rule]++;
		c->not_counted++;
		return;
	}
	c->hits[a.rule]++;
	if (e.time != INT64_MIN && e.time > c->last[a.rule])
		c->last[a.rule] = e.time;
}

/* Read one log (a file, gzip or not, or "-"): 0, or -1 after an error
 * message. */
static int read_log(coverage *c, const char *path)
{
	gzFile gz;
	if (strcmp(path, "-") == 0) {
		int fd = dup(STDIN_FILENO);
		gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
		path = "<stdin>";
	} else {
		gz = gzopen(path, "rb");
	}
	if (!gz) {
		fprintf(stderr, "redirc coverage: error: cannot open the log '%s': %s (expected a "
		                "readable file; a retry will not help until the path is fixed)\n",
		        path, errno ? strerror(errno) : "out of memory");
		return -1;
	}
	gzbuffer(gz, 1 << 17);
	size_t cap = 1 << 20, have = 0;
	char *buf = rc_xmalloc(cap);
	int st = 0;
	uint64_t lineno = 0;
	for (;;) {
		if (have == cap) {
			cap *= 2; /* a line longer than the buffer */
			buf = rc_xrealloc(buf, cap);
		}
		int n = gzread(gz, buf + have, (unsigned)(cap - have > (1u << 30) ? (1u << 30) : cap - have));
		if (n < 0) {
			int zerr;
			const char *msg = gzerror(gz, &zerr);
			fprintf(stderr, "redirc coverage: error: cannot read the log '%s': %s (%s)\n", path,
			        zerr == Z_ERRNO ? strerror(errno) : msg,
			        zerr == Z_ERRNO ? "a retry may help"
			                        : "expected plain text or gzip; a retry will not help");
			st = -1;
			break;
		}
		if (n == 0) {
			int zerr;
			const char *msg = gzerror(gz, &zerr);
			if (zerr != Z_OK) {
				fprintf(stderr, "redirc coverage: error: the log '%s' ends early: %s (a "
				                "truncated gzip file? a retry will not help)\n", path, msg);
				st = -1;
				break;
			}
			if (have)
				count_line(c, path, ++lineno, buf, have); /* a last line without newline */
			break;
		}
		have += (size_t)n;
		char *p = buf, *end = buf + have, *nl;
		while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			count_line(c, path, ++lineno, p, (size_t)(nl - p));
			p = nl + 1;
		}
		have = (size_t)(end - p);
		memmove(buf, p, have);
	}
	free(buf);
	gzclose(gz);
	return st;
}

/* ---- output ------------------------------------------------------------ */

static void iso_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *rule_file(const rc_ir *ir, const rc_rule *r)
{
	const rc_file *f = rc_diags_file(ir->diags, r->loc.file);
	return f ? f->path : "?";
}

/* Most hits first, then file order. */
static int cmp_hits(const void *a, const void *b, void *arg)
{
	const uint64_t *hits = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	if (hits[x] != hits[y])
		return hits[x] < hits[y] ? 1 : -1;
	return x < y ? -1 : x > y;
}

static size_t *rules_by_hits(const coverage *c, size_t *nhit)
{
	size_t n = c->ir->rules.len, k = 0;
	size_t *order = rc_xmalloc((n + 1) * sizeof *order);
	for (size_t i = 0; i < n; i++)
		if (c->hits[i])
			order[k++] = i;
	qsort_r(order, k, sizeof *order, cmp_hits, c->hits);
	*nhit = k;
	return order;
}

static void print_text(const coverage *c, size_t limit, size_t top_n)
{
	const rc_ir *ir = c->ir;
	size_t n = ir->rules.len, nhit;
	size_t *order = rules_by_hits(c, &nhit);
	printf("lines read: %llu; requests: %llu (lines not understood: %llu); answered by a rule: %llu, "
	       "with another status than the rule's: %llu\n",
	       (unsigned long long)c->lines, (unsigned long long)c->requests,
	       (unsigned long long)c->bad, (unsigned long long)c->answered,
	       (unsigned long long)c->not_counted);
	if (c->bad)
		printf("first line not understood: %s:%llu: %s\n", c->first_bad_file,
		       (unsigned long long)c->first_bad_line, c->first_bad_why);
	printf("rules hit (%zu of %zu):\n", nhit, n);
	for (size_t i = 0; i < nhit && i < limit; i++) {
		const rc_rule *r = rc_ir_rule(ir, order[i]);
		char t[32] = "never";
		if (c->last[order[i]] != INT64_MIN)
			iso_time(c->last[order[i]], t);
		printf("  %10llu  %s:%u  %s  last %s", (unsigned long long)c->hits[order[i]],
		       rule_file(ir, r), r->loc.line, r->source_text, t);
		if (c->other[order[i]])
			printf("  (%llu other answers)", (unsigned long long)c->other[order[i]]);
		putchar('\n');
	}
	if (nhit > limit)
		printf("  ... and %zu more (--limit)\n", nhit - limit);
	printf("rules never hit (%zu):\n", n - nhit);
	size_t shown = 0;
	for (size_t i = 0; i < n && shown < limit; i++)
		if (!c->hits[i]) {
			const rc_rule *r = rc_ir_rule(ir, i);
			printf("  %s:%u  %s%s%s", rule_file(ir, r), r->loc.line, r->source_text,
			       r->owner ? "  owner " : "", r->owner ? r->owner : "");
			if (c->other[i])
				printf("  (%llu lines with another status)", (unsigned long long)c->other[i]);
			putchar('\n');
			shown++;
		}
	if (n - nhit > shown)
		printf("  ... and %zu more (--limit)\n", n - nhit - shown);
	rc_sort(c->top->items, c->top->n, sizeof(top_item), cmp_top);
	printf("404 paths no rule covers (%llu lines; top %zu%s):\n",
	       (unsigned long long)c->uncovered_404, top_n,
	       c->top->approximate ? ", counts are lower bounds" : "");
	for (size_t i = 0; i < c->top->n && i < top_n; i++)
	{
		printf("  %10llu  ", (unsigned long long)c->top->items[i].count);
		rc_text_safe(stdout, c->top->items[i].path, c->top->items[i].len);
		putchar('\n');
	}
	free(order);
}

static void print_json(const coverage *c, size_t top_n)
{
	const rc_ir *ir = c->ir;
	size_t n = ir->rules.len, nhit = 0;
	for (size_t i = 0; i < n; i++)
		nhit += c->hits[i] != 0;
	printf("{\n  \"lines\": %llu,\n  \"requests\": %llu,\n  \"not_understood\": %llu,\n"
	       "  \"answered\": %llu,\n  \"answered_otherwise\": %llu,\n  \"rules_total\": %zu,\n"
	       "  \"rules_hit\": %zu,\n  \"rules\": [",
	       (unsigned long long)c->lines, (unsigned long long)c->requests,
	       (unsigned long long)c->bad, (unsigned long long)c->answered,
	       (unsigned long long)c->not_counted, n, nhit);
	for (size_t i = 0; i < n; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		fputs(i ? ",\n    {\"file\": " : "\n    {\"file\": ", stdout);
		rc_json_str(stdout, rule_file(ir, r));
		printf(", \"line\": %u, \"source\": ", r->loc.line);
		rc_json_str(stdout, r->source_text);
		fputs(", \"owner\": ", stdout);
		rc_json_str(stdout, r->owner);
		printf(", \"hits\": %llu, \"other_answers\": %llu, \"last_seen\": ",
		       (unsigned long long)c->hits[i], (unsigned long long)c->other[i]);
		if (c->last[i] != INT64_MIN) {
			char t[32];
			iso_time(c->last[i], t);
			rc_json_str(stdout, t);
		} else {
			fputs("null", stdout);
		}
		fputs("}", stdout);
	}
	rc_sort(c->top->items, c->top->n, sizeof(top_item), cmp_top);
	printf("%s],\n  \"uncovered_404\": {\"lines\": %llu, \"approximate\": %s, \"top\": [",
	       n ? "\n  " : "", (unsigned long long)c->uncovered_404,
	       c->top->approximate ? "true" : "false");
	for (size_t i = 0; i < c->top->n && i < top_n; i++) {
		fputs(i ? ", {\"path\": " : "{\"path\": ", stdout);
		rc_json_strn(stdout, c->top->items[i].path, c->top->items[i].len);
		printf(", \"count\": %llu}", (unsigned long long)c->top->items[i].count);
	}
	fputs("]}\n}\n", stdout);
}

static int coverage_usage(const char *what, const char *value)
{
	return cli_usage_value("coverage", what, value);
}

static int parse_count(const char *s, size_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end || end == s || v < 1)
		return -1;
	*out = (size_t)v;
	return 0;
}

int cli_coverage(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "log-format", required_argument, NULL, 'L' },
		{ "field", required_argument, NULL, 'F' },
		{ "host", required_argument, NULL, 'H' },
		{ "top", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0;
	enum rc_log_format lf = RC_LOG_CLF;
	rc_log_fields fields;
	rc_log_fields_default(&fields);
	const char *host = NULL;
	size_t top_n = 20, limit = 50;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (cli_format_option("coverage", optarg, &json) != 0)
				return EXIT_USAGE;
			break;
		case 'L':
			if (strcmp(optarg, "combined") == 0 || strcmp(optarg, "common") == 0)
				lf = RC_LOG_CLF;
			else if (strcmp(optarg, "json") == 0)
				lf = RC_LOG_JSON;
			else
				return coverage_usage("invalid --log-format '%s', expected combined, common or json",
				                      optarg);
			break;
		case 'F':
			if (rc_log_fields_set(&fields, optarg) != 0)
				return coverage_usage("invalid --field '%s', expected NAME=MEMBER with NAME one of "
				                      "path, request, status, time, host, location", optarg);
			break;
		case 'H':
			host = optarg;
			break;
		case 't':
			if (parse_count(optarg, &top_n) != 0)
				return coverage_usage("invalid --top '%s', expected a whole number from 1", optarg);
			break;
		case 'l':
			if (parse_count(optarg, &limit) != 0)
				return coverage_usage("invalid --limit '%s', expected a whole number from 1", optarg);
			break;
		case 'h':
			printf("usage: redirc coverage FILE LOG... [--log-format combined|common|json] "
			       "[--field NAME=MEMBER]... [--host H] [--top N] [--limit N] [--format text|json]\n");
			return 0;
		default:
			return coverage_usage("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		return coverage_usage("%s", "expected a rule FILE and at least one LOG ('-' for standard input)");
	if (lf == RC_LOG_JSON && !fields.name[RC_FIELD_PATH] && !fields.name[RC_FIELD_REQUEST])
		return coverage_usage("%s", "--log-format json needs a path or a request field");
	const char *file = argv[optind];
	rc_diags d;
	rc_diags_init(&d);
	rc_ir ir;
	rc_ir_init(&ir, &d);
	int st = 0;
	if (rc_load_file(&ir, file) != 0 || d.errors) {
		rc_diags_print_text(&d, stderr, 0);
		fprintf(stderr, "redirc coverage: error: '%s' has errors; fix them first ('redirc check "
		                "%s'; a retry will not help)\n", file, file);
		rc_ir_fini(&ir);
		rc_diags_fini(&d);
		return 2;
	}
	coverage cv;
	memset(&cv, 0, sizeof cv);
	cv.ir = &ir;
	char host_canon[256];
	if (host) {
		size_t hl = strlen(host);
		if (hl >= sizeof host_canon) {
			rc_ir_fini(&ir);
			rc_diags_fini(&d);
			return coverage_usage("--host '%s' is too long", host);
		}
		rd_host_canon(host, hl, host_canon);
		cv.default_host = host_canon;
	}
	rc_resolver_init(&cv.rv, &ir);
	rc_log_parser_init(&cv.parser, lf, &fields);
	size_t n = ir.rules.len;
	cv.hits = calloc(n + 1, sizeof *cv.hits);
	cv.other = calloc(n + 1, sizeof *cv.other);
	cv.last = rc_xmalloc((n + 1) * sizeof *cv.last);
	cv.top = rc_xmalloc(sizeof *cv.top);
	if (!cv.hits || !cv.other)
		abort();
	for (size_t i = 0; i < n; i++)
		cv.last[i] = INT64_MIN;
	top_init(cv.top);
	for (int i = optind + 1; i < argc && st == 0; i++)
		if (read_log(&cv, argv[i]) != 0)
			st = 2;
	if (st == 0) {
		if (json)
			print_json(&cv, top_n);
		else
			print_text(&cv, limit, top_n);
		if (cv.requests == 0) {
			fprintf(stderr, "redirc coverage: error: no line of the logs is a request in the %s "
			                "format (see --log-format; a retry will not help)\n",
			        lf == RC_LOG_JSON ? "json" : "combined/common");
			st = 1;
		}
		if (fflush(stdout) != 0) {
			fprintf(stderr, "redirc coverage: error: cannot write the report (a retry may help)\n");
			st = 2;
		}
	}
	top_fini(cv.top);
	free(cv.top);
	free(cv.hits);
	free(cv.other);
	free(cv.last);
	rc_log_parser_fini(&cv.parser);
	rc_resolver_fini(&cv.rv);
	rc_ir_fini(&ir);
	rc_diags_fini(&d);
	return st;
}
