/*
 * verify.c - `redirc verify FILE --base-url URL [options]`: rehearse a
 * rule set against a running server.  Every planned request
 * (compiler/requests.h: expect lines, exact sources, pattern samples,
 * --urls) is sent with libcurl, redirects not followed, and its status and
 * Location are compared with what the file says (the resolver, like
 * explain).
 *
 * The connection always goes to the base URL's host and port; the request
 * names the rule's host (the URL's authority, so the Host header and TLS
 * SNI are the rule's host; CURLOPT_CONNECT_TO sends it to the base URL).
 * HTTP/2 is used where TLS offers it (ALPN), HTTP/1.1 otherwise.
 *
 * Equivalence (spec section 3): the same status; the Location's path and
 * query (and scheme, host, port when the target is absolute) the same,
 * percent-escapes compared without regard to hex case; a relative target
 * may come back absolute.  `pass` is any answer that is not a redirect or
 * 410.
 *
 * Exit status: 0 every answer equal, 1 some answer differs, 2 usage, a
 * rule file with errors, or a request that got no answer: after its
 * retries (the server could not be reached: a retry may help), or at once
 * for an error no retry mends (a certificate that does not verify).
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/review.h"
#include "compiler/checks.h"
#include "compiler/jsonw.h"
#include "compiler/requests.h"
#include "grammar/grammar.h"

typedef struct verify_opts {
	const char *file;
	const char *base_url;
	const char *host;        /* --host, canonical */
	const char *urls;        /* --urls FILE or "-" */
	const char *cacert;      /* --cacert FILE: CA certificates to trust */
	long jobs;
	double timeout;          /* seconds per request */
	long retries;
	double rate;             /* requests per second, 0 = no limit */
	int insecure;
	int json;
	unsigned samples;
	size_t limit;
} verify_opts;

/* The base URL, split. */
typedef struct base_url {
	char scheme[8];
	char host[256];          /* as written (an IPv6 literal keeps its brackets) */
	long port;
} base_url;

enum outcome { OUT_PENDING = 0, OUT_EQUAL, OUT_MISMATCH, OUT_UNREACHABLE };

typedef struct job {
	const rc_probe *probe;
	char *url;               /* heap */
	int expect_status;       /* 0 = pass */
	char *expect_location;   /* heap or NULL */
	int64_t rule;
	enum outcome outcome;
	long got_status;
	char *got_location;      /* heap or NULL */
	char *error;             /* heap: the last transport error */
	int error_retryable;     /* that error was a connection error */
	int error_tls;           /* that error was a TLS one (certificate, handshake) */
	long attempts;
	long http_version;
	double not_before;       /* monotonic seconds: a retry waits */
	/* while running */
	CURL *easy;
	struct curl_slist *connect_to;
	char loc_buf[8192];
	size_t loc_len;
	int loc_seen;
} job;

static double now_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int verify_usage(const char *what, const char *value)
{
	return cli_usage_value("verify", what, value);
}

static int parse_base(const char *s, base_url *b)
{
	memset(b, 0, sizeof *b);
	const char *rest;
	if (strncmp(s, "http://", 7) == 0) {
		strcpy(b->scheme, "http");
		b->port = 80;
		rest = s + 7;
	} else if (strncmp(s, "https://", 8) == 0) {
		strcpy(b->scheme, "https");
		b->port = 443;
		rest = s + 8;
	} else {
		return -1;
	}
	size_t hl;
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');
		if (!close)
			return -1;
		hl = (size_t)(close - rest) + 1;
	} else {
		hl = strcspn(rest, ":/?#");
	}
	if (hl == 0 || hl >= sizeof b->host)
		return -1;
	memcpy(b->host, rest, hl);
	b->host[hl] = '\0';
	rest += hl;
	if (*rest == ':') {
		char *end;
		long port = strtol(rest + 1, &end, 10);
		if (end == rest + 1 || port < 1 || port > 65535)
			return -1;
		b->port = port;
		rest = end;
	}
	/* nothing but an optional "/" after the authority: the rules' paths
	 * are absolute on the server */
	if (*rest && strcmp(rest, "/") != 0)
		return -1;
	return 0;
}

/* ---- the expected answer ------------------------------------------------ */

static void job_expect(job *j, rc_resolver *rv, const char *host)
{
	const rc_probe *p = j->probe;
	rc_fast_answer a;
	rc_resolve(rv, host, p->path, strlen(p->path), p->query, p->query_len, 1, &a);
	j->rule = a.rule;
	j->expect_status = a.matched ? a.status : 0;
	j->expect_location = a.location ? rc_xstrdup(a.location) : NULL;
}

static int is_redirect_or_gone(long s)
{
	return s == 301 || s == 302 || s == 303 || s == 307 || s == 308 || s == 410;
}

static int answer_equal(const job *j)
{
	if (j->expect_status == 0)
		return !is_redirect_or_gone(j->got_status);
	if (j->got_status != j->expect_status)
		return 0;
	if (j->expect_status == 410)
		return 1;
	if (!j->got_location || !j->expect_location)
		return 0;
	const char *got = j->got_location;
	if (j->expect_location[0] == '/' &&
	    (strncmp(got, "http://", 7) == 0 || strncmp(got, "https://", 8) == 0)) {
		/* a path target the server made absolute with the request's host */
		const char *slash = strchr(got + (got[4] == 's' ? 8 : 7), '/');
		got = slash ? slash : "/";
	}
	return rc_location_equal(j->expect_location, got);
}

/* ---- libcurl -------------------------------------------------------------- */

static size_t discard_body(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	job *j = arg;
	size_t len = size * n;
	/* a new response (1xx, or after a retry) starts with its status line */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		j->loc_seen = 0;
		j->loc_len = 0;
	}
	if (len > 9 && strncasecmp(p, "location:", 9) == 0) {
		const char *v = p + 9, *end = p + len;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
			end--;
		size_t vl = (size_t)(end - v);
		if (vl >= sizeof j->loc_buf)
			vl = sizeof j->loc_buf - 1;
		memcpy(j->loc_buf, v, vl);
		j->loc_buf[vl] = '\0';
		j->loc_len = vl;
		j->loc_seen = 1;
	}
	return len;
}

static int job_start(job *j, CURLM *multi, const verify_opts *o, const base_url *b,
                     const char *conn_host)
{
	CURL *e = curl_easy_init();
	if (!e)
		return -1;
	j->easy = e;
	j->loc_seen = 0;
	j->loc_len = 0;
	j->attempts++;
	curl_easy_setopt(e, CURLOPT_URL, j->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "redirc-verify/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (o->cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->cacert);
	if (o->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* connect to the base URL whatever host the request names */
	char ct[600];
	snprintf(ct, sizeof ct, "::%s:%ld", conn_host, b->port);
	j->connect_to = curl_slist_append(NULL, ct);
	curl_easy_setopt(e, CURLOPT_CONNECT_TO, j->connect_to);
	if (curl_multi_add_handle(multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		curl_slist_free_all(j->connect_to);
		j->easy = NULL;
		j->connect_to = NULL;
		return -1;
	}
	return 0;
}

/* Transport errors where no answer came back: worth a bounded retry. */
static int is_retryable(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* Finish a transfer: 1 when the job needs another attempt. */
static int job_finish(job *j, CURLM *multi, CURLcode res, const verify_opts *o)
{
	CURL *e = j->easy;
	int again = 0;
	if (res == CURLE_OK) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &j->got_status);
		long v = 0;
		curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &v);
		j->http_version = v;
		free(j->got_location);
		j->got_location = j->loc_seen ? rc_xstrdup(j->loc_buf) : NULL;
		j->outcome = answer_equal(j) ? OUT_EQUAL : OUT_MISMATCH;
	} else {
		free(j->error);
		j->error = rc_xstrdup(curl_easy_strerror(res));
		j->error_retryable = is_retryable(res);
		j->error_tls = res == CURLE_PEER_FAILED_VERIFICATION || res == CURLE_SSL_CONNECT_ERROR ||
		               res == CURLE_SSL_CERTPROBLEM || res == CURLE_SSL_CACERT_BADFILE ||
		               res == CURLE_SSL_ISSUER_ERROR;
		if (is_retryable(res) && j->attempts <= o->retries) {
			again = 1;
			j->not_before = now_seconds() + 0.25 * (double)j->attempts;
		} else {
			j->outcome = OUT_UNREACHABLE;
		}
	}
	curl_multi_remove_handle(multi, e);
	curl_easy_cleanup(e);
	curl_slist_free_all(j->connect_to);
	j->easy = NULL;
	j->connect_to = NULL;
	return again;
}

/* Run every job; 0, or -1 when libcurl itself failed. */
static int run_jobs(job *jobs, size_t n, const verify_opts *o, const base_url *b)
{
	CURLM *multi = curl_multi_init();
	if (!multi)
		return -1;
	curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, o->jobs);
	char conn_host[256];
	snprintf(conn_host, sizeof conn_host, "%s", b->host);
	size_t *queue = rc_xmalloc((n + 1) * sizeof *queue); /* jobs waiting, FIFO ring */
	size_t qhead = 0, qlen = n;
	for (size_t i = 0; i < n; i++)
		queue[i] = i;
	long running = 0;
	double next_start = now_seconds();
	double gap = o->rate > 0 ? 1.0 / o->rate : 0;
	int st = 0;
	while (qlen > 0 || running > 0) {
		double now = now_seconds();
		size_t tries = qlen; /* look at each waiting job once per round */
		while (qlen > 0 && tries-- > 0 && running < o->jobs && now >= next_start) {
			size_t ji = queue[qhead];
			qhead = (qhead + 1) % (n + 1);
			qlen--;
			job *j = &jobs[ji];
			if (j->not_before > now) {
				queue[(qhead + qlen) % (n + 1)] = ji; /* back of the queue */
				qlen++;
				continue;
			}
			if (job_start(j, multi, o, b, conn_host) != 0) {
				j->outcome = OUT_UNREACHABLE;
				free(j->error);
				j->error = rc_xstrdup("libcurl could not start the request");
				continue;
			}
			running++;
			if (gap > 0)
				next_start = (next_start > now ? next_start : now) + gap;
		}
		int still;
		if (curl_multi_perform(multi, &still) != CURLM_OK) {
			st = -1;
			break;
		}
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			job *j;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			running--;
			if (job_finish(j, multi, m->data.result, o)) {
				queue[(qhead + qlen) % (n + 1)] = (size_t)(j - jobs);
				qlen++;
			}
		}
		int wait_ms = 100;
		if (qlen > 0 && running < o->jobs) {
			double w = next_start - now_seconds();
			wait_ms = w > 0 ? (int)(w * 1000) + 1 : 1;
			if (wait_ms > 100)
				wait_ms = 100;
		}
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, wait_ms, NULL);
		else if (qlen > 0) {
			struct timespec ts = { 0, (long)wait_ms * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	free(queue);
	curl_multi_cleanup(multi);
	return st;
}

/* ---- building the jobs ----------------------------------------------------- */

/* Request bytes into a URL: bytes no request line may carry raw (space,
 * controls, non-ASCII) as %XX, which is how a client sends them; the rest
 * exactly as given (PATH_AS_IS keeps dot segments). */
static void add_url_bytes(rc_buf *u, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' ||
		    c == '^' || c == '`' || c == '{' || c == '|' || c == '}' || c == '#')
			rc_buf_printf(u, "%%%02X", c);
		else
			rc_buf_addc(u, (char)c);
	}
}

static char *request_url(const base_url *b, const char *host, const rc_probe *p)
{
	rc_buf u;
	rc_buf_init(&u);
	rc_buf_printf(&u, "%s://%s", b->scheme, host ? host : b->host);
	if (b->port != (strcmp(b->scheme, "https") == 0 ? 443 : 80))
		rc_buf_printf(&u, ":%ld", b->port);
	add_url_bytes(&u, p->path, strlen(p->path));
	if (p->query) {
		rc_buf_addc(&u, '?');
		add_url_bytes(&u, p->query, p->query_len);
	}
	return u.data;
}

/* --urls: one URL a line (a path with ?query, or absolute); blank lines and
 * '#' comments skipped.  0, or 2 after a message. */
static int read_urls(const char *path, rc_arena *a, rc_vec *probes)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(stderr, "redirc verify: error: cannot open the URL list '%s': %s (a retry will "
		                "not help until the path is fixed)\n", path, strerror(errno));
		return 2;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int st = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
			line[--len] = '\0';
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		char *host, *upath, *query;
		size_t qlen;
		const char *why;
		if (rc_url_split(a, s, strlen(s), &host, &upath, &query, &qlen, &why) != 0) {
			fprintf(stderr, "%s:%u:1: error: invalid URL '%s': %s (a retry will not help)\n",
			        strcmp(path, "-") == 0 ? "<stdin>" : path, lineno, s, why);
			st = 2;
			continue;
		}
		rc_probe *p = rc_vec_push(probes);
		p->host = host;
		p->path = upath;
		p->query = query;
		p->query_len = qlen;
		p->origin = RC_PROBE_URL;
		p->where = RC_NOLOC;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return st;
}

/* ---- output ------------------------------------------------------------------ */

static const char *place(const rc_ir *ir, rc_loc loc, char *buf, size_t cap)
{
	const rc_file *f = rc_diags_file(ir->diags, loc.file);
	if (!f)
		return NULL;
	snprintf(buf, cap, "%s:%u", f->path, loc.line);
	return buf;
}

static void text_answer(FILE *out, long status, const char *loc)
{
	if (status == 0) {
		fputs("pass", out);
	} else if (loc) {
		fprintf(out, "%ld ", status);
		rc_text_safes(out, loc); /* a server's header: never print it raw */
	} else {
		fprintf(out, "%ld", status);
	}
}

static const char *version_name(long v)
{
	switch (v) {
	case CURL_HTTP_VERSION_1_0: return "HTTP/1.0";
	case CURL_HTTP_VERSION_1_1: return "HTTP/1.1";
	case CURL_HTTP_VERSION_2_0: return "HTTP/2";
	case CURL_HTTP_VERSION_3: return "HTTP/3";
	default: return "unknown";
	}
}

static void print_text(const rc_ir *ir, const job *jobs, size_t n, const verify_opts *o,
                       size_t counts[4], size_t versions[5])
{
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		const job *j = &jobs[i];
		if (j->outcome != OUT_MISMATCH && j->outcome != OUT_UNREACHABLE)
			continue;
		if (shown++ >= o->limit)
			continue;
		char buf[600];
		if (j->outcome == OUT_MISMATCH) {
			fputs("mismatch: ", stdout);
			rc_text_safes(stdout, j->url);
			fputs("\n  expected ", stdout);
			text_answer(stdout, j->expect_status, j->expect_location);
			printf("\n  got      ");
			if (!is_redirect_or_gone(j->got_status) && j->expect_status != 0)
				printf("%ld (no redirect)", j->got_status);
			else
				text_answer(stdout, j->got_status, j->got_location);
			putchar('\n');
		} else {
			fputs("no answer: ", stdout);
			rc_text_safes(stdout, j->url);
			printf("\n  %s after %ld attempts\n", j->error, j->attempts);
		}
		if (j->rule >= 0) {
			const rc_rule *r = rc_ir_rule(ir, (size_t)j->rule);
			printf("  rule %s '%s'%s%s\n", place(ir, r->loc, buf, sizeof buf), r->source_text,
			       r->owner ? " owner " : "", r->owner ? r->owner : "");
		} else {
			printf("  no rule answers it: the file says pass\n");
		}
		const char *from = place(ir, j->probe->where, buf, sizeof buf);
		printf("  asked because: %s%s%s\n", rc_probe_origin_name(j->probe->origin),
		       from ? " at " : "", from ? from : "");
	}
	if (shown > o->limit)
		printf("... and %zu more (--limit)\n", shown - o->limit);
	printf("%zu requests to %s: %zu equal, %zu mismatches, %zu without an answer",
	       n, o->base_url, counts[OUT_EQUAL], counts[OUT_MISMATCH], counts[OUT_UNREACHABLE]);
	int first = 1;
	for (int v = 0; v < 5; v++)
		if (versions[v]) {
			static const long ids[5] = { CURL_HTTP_VERSION_1_0, CURL_HTTP_VERSION_1_1,
				                         CURL_HTTP_VERSION_2_0, CURL_HTTP_VERSION_3, 0 };
			printf("%s%s %zu", first ? " (" : ", ", version_name(ids[v]), versions[v]);
			first = 0;
		}
	puts(first ? "" : ")");
}

static void json_answer(long status, const char *loc)
{
	printf("{\"status\": %ld, \"location\": ", status);
	rc_json_str(stdout, loc);
	putchar('}');
}

static void print_json(const rc_ir *ir, const job *jobs, size_t n, const verify_opts *o,
                       size_t counts[4])
{
	printf("{\n  \"base_url\": ");
	rc_json_str(stdout, o->base_url);
	printf(",\n  \"requests\": %zu,\n  \"equal\": %zu,\n  \"mismatch_count\": %zu,\n"
	       "  \"unanswered_count\": %zu,\n  \"problems\": [",
	       n, counts[OUT_EQUAL], counts[OUT_MISMATCH], counts[OUT_UNREACHABLE]);
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		const job *j = &jobs[i];
		if (j->outcome != OUT_MISMATCH && j->outcome != OUT_UNREACHABLE)
			continue;
		if (shown >= o->limit)
			break;
		printf("%s{\"kind\": \"%s\", \"url\": ", shown++ ? ",\n    " : "\n    ",
		       j->outcome == OUT_MISMATCH ? "mismatch" : "unanswered");
		rc_json_str(stdout, j->url);
		fputs(", \"host\": ", stdout);
		rc_json_str(stdout, j->probe->host ? j->probe->host : o->host);
		fputs(", \"expected\": ", stdout);
		json_answer(j->expect_status, j->expect_location);
		fputs(", \"got\": ", stdout);
		if (j->outcome == OUT_MISMATCH)
			json_answer(j->got_status, j->got_location);
		else
			fputs("null", stdout);
		fputs(", \"error\": ", stdout);
		rc_json_str(stdout, j->outcome == OUT_UNREACHABLE ? j->error : NULL);
		printf(", \"attempts\": %ld, \"rule\": ", j->attempts);
		if (j->rule >= 0) {
			const rc_rule *r = rc_ir_rule(ir, (size_t)j->rule);
			const rc_file *f = rc_diags_file(ir->diags, r->loc.file);
			fputs("{\"file\": ", stdout);
			rc_json_str(stdout, f ? f->path : NULL);
			printf(", \"line\": %u, \"source\": ", r->loc.line);
			rc_json_str(stdout, r->source_text);
			fputs(", \"owner\": ", stdout);
			rc_json_str(stdout, r->owner);
			putchar('}');
		} else {
			fputs("null", stdout);
		}
		printf(", \"origin\": \"%s\"}", rc_probe_origin_name(j->probe->origin));
	}
	printf("%s]\n}\n", shown ? "\n  " : "");
}

/* ---- the command ---------------------------------------------------------------- */

static int parse_number(const char *s, double lo, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || end == s || errno || !isfinite(v) || v < lo)
		return -1;
	*out = v;
	return 0;
}

int cli_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "base-url", required_argument, NULL, 'b' },
		{ "host", required_argument, NULL, 'H' },
		{ "urls", required_argument, NULL, 'u' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "rate", required_argument, NULL, 'R' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "samples", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	verify_opts o = { .jobs = 4, .timeout = 10, .retries = 2, .samples = 3,
		              .limit = (size_t)-1 };
	int c;
	double v;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hj:k", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o.base_url = optarg; break;
		case 'H': o.host = optarg; break;
		case 'u': o.urls = optarg; break;
		case 'k': o.insecure = 1; break;
		case 'C': o.cacert = optarg; break;
		case 'j':
			if (parse_number(optarg, 1, &v) || v > 256 || v != floor(v))
				return verify_usage("invalid -j '%s', expected a whole number from 1 to 256", optarg);
			o.jobs = (long)v;
			break;
		case 't':
			if (parse_number(optarg, 0.001, &v) || v > 3600)
				return verify_usage("invalid --timeout '%s', expected seconds above 0", optarg);
			o.timeout = v;
			break;
		case 'r':
			if (parse_number(optarg, 0, &v) || v > 10 || v != floor(v))
				return verify_usage("invalid --retries '%s', expected a whole number from 0 to 10",
				                    optarg);
			o.retries = (long)v;
			break;
		case 'R':
			if (parse_number(optarg, 0.001, &v))
				return verify_usage("invalid --rate '%s', expected requests per second above 0",
				                    optarg);
			o.rate = v;
			break;
		case 's':
			if (parse_number(optarg, 1, &v) || v > 20 || v != floor(v))
				return verify_usage("invalid --samples '%s', expected a whole number from 1 to 20",
				                    optarg);
			o.samples = (unsigned)v;
			break;
		case 'f':
			if (cli_format_option("verify", optarg, &o.json) != 0)
				return EXIT_USAGE;
			break;
		case 'l':
			if (parse_number(optarg, 1, &v) || v != floor(v))
				return verify_usage("invalid --limit '%s', expected a whole number from 1", optarg);
			o.limit = (size_t)v;
			break;
		case 'h':
			printf("usage: redirc verify FILE --base-url URL [--host H] [--urls FILE|-] [-j N] "
			       "[--timeout S] [--retries N] [--rate R] [--insecure] [--cacert FILE] [--samples N] "
			       "[--format text|json] [--limit N]\n");
			return 0;
		default:
			return verify_usage("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return verify_usage("%s", argc - optind < 1 ? "expected a rule FILE"
		                                            : "too many operands: expected one FILE");
	o.file = argv[optind];
	if (!o.base_url)
		return verify_usage("%s", "--base-url URL is required (e.g. https://staging.example.com)");
	base_url b;
	if (parse_base(o.base_url, &b) != 0)
		return verify_usage("invalid --base-url '%s', expected http(s)://HOST[:PORT] with no path",
		                    o.base_url);
	if (!o.json && o.limit == (size_t)-1)
		o.limit = 50;
	char host_canon[256];
	if (o.host) {
		size_t hl = strlen(o.host);
		if (hl >= sizeof host_canon || !rc_host_name_is_valid(o.host, strcspn(o.host, ":")))
			return verify_usage("invalid --host '%s', expected a host name", o.host);
		rd_host_canon(o.host, hl, host_canon);
		o.host = host_canon;
	}

	rc_diags d;
	rc_diags_init(&d);
	rc_ir ir;
	rc_ir_init(&ir, &d);
	if (rc_load_file(&ir, o.file) != 0 || d.errors) {
		rc_diags_print_text(&d, stderr, 0);
		fprintf(stderr, "redirc verify: error: '%s' has errors; fix them first ('redirc check "
		                "%s'; a retry will not help)\n", o.file, o.file);
		rc_ir_fini(&ir);
		rc_diags_fini(&d);
		return 2;
	}
	rc_resolver rv;
	rc_resolver_init(&rv, &ir);
	rc_arena a;
	rc_arena_init(&a);
	rc_vec probes;
	rc_vec_init(&probes, sizeof(rc_probe));
	rc_plan_probes(&a, &rv, o.host, o.samples, &probes);
	int st = o.urls ? read_urls(o.urls, &a, &probes) : 0;
	size_t n = probes.len;
	job *jobs = calloc(n + 1, sizeof *jobs);
	if (!jobs)
		abort();
	for (size_t i = 0; st == 0 && i < n; i++) {
		job *j = &jobs[i];
		j->probe = RC_VEC_AT(&probes, rc_probe, i);
		const char *host = j->probe->host ? j->probe->host : o.host;
		j->url = request_url(&b, host, j->probe);
		job_expect(j, &rv, host);
	}
	if (st == 0) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			fprintf(stderr, "redirc verify: error: libcurl could not start (a retry may help)\n");
			st = 2;
		} else {
			if (run_jobs(jobs, n, &o, &b) != 0) {
				fprintf(stderr, "redirc verify: error: libcurl failed while sending the requests "
				                "(a retry may help)\n");
				st = 2;
			}
			curl_global_cleanup();
		}
	}
	if (st == 0) {
		size_t counts[4] = { 0 }, versions[5] = { 0 };
		for (size_t i = 0; i < n; i++) {
			counts[jobs[i].outcome]++;
			long hv = jobs[i].http_version;
			versions[hv == CURL_HTTP_VERSION_1_0 ? 0 : hv == CURL_HTTP_VERSION_1_1 ? 1
			         : hv == CURL_HTTP_VERSION_2_0 ? 2 : hv == CURL_HTTP_VERSION_3 ? 3 : 4] +=
			    jobs[i].outcome != OUT_UNREACHABLE;
		}
		if (o.json)
			print_json(&ir, jobs, n, &o, counts);
		else
			print_text(&ir, jobs, n, &o, counts, versions);
		const job *fatal = NULL; /* an error that a retry cannot mend (TLS, protocol) */
		for (size_t i = 0; i < n && !fatal; i++)
			if (jobs[i].outcome == OUT_UNREACHABLE && !jobs[i].error_retryable)
				fatal = &jobs[i];
		if (fatal) {
			fprintf(stderr, "redirc verify: error: %zu of %zu requests got no answer from %s: "
			                "%s (a retry will not help%s)\n",
			        counts[OUT_UNREACHABLE], n, o.base_url, fatal->error,
			        fatal->error_tls ? "; for a certificate the system does not trust, give "
			                           "its CA with --cacert, or --insecure"
			                         : "");
			st = 2;
		} else if (counts[OUT_UNREACHABLE]) {
			fprintf(stderr, "redirc verify: error: %zu of %zu requests got no answer from %s "
			                "after %ld retries (the server could not be reached; a retry may "
			                "help)\n", counts[OUT_UNREACHABLE], n, o.base_url, o.retries);
			st = 2;
		} else if (counts[OUT_MISMATCH]) {
			st = 1;
		}
		if (fflush(stdout) != 0) {
			fprintf(stderr, "redirc verify: error: cannot write the report (a retry may help)\n");
			st = 2;
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(jobs[i].url);
		free(jobs[i].expect_location);
		free(jobs[i].got_location);
		free(jobs[i].error);
	}
	free(jobs);
	rc_vec_fini(&probes);
	rc_arena_fini(&a);
	rc_resolver_fini(&rv);
	rc_ir_fini(&ir);
	rc_diags_fini(&d);
	return st;
}
