/*
 * fuzz_match.c - libFuzzer harness for the runtime matcher
 * (runtime/match.h): normalize, match, build the Location.
 *
 * The input is split on '\n' into
 *
 *   line 0   the raw request path (any bytes)
 *   line 1   the raw query ("-" alone = no query at all)
 *   line 2   the Host header
 *   line 3+  up to 4 rules, each "F SOURCE TARGET": F is one flag byte
 *            (bit 0 gone, bit 1 query drop, bit 2 only for line 2's host,
 *            bit 3 case insensitive, bit 4 trailing-slash strict, bit 5
 *            splat-parent no-match; the policy bits of the first rule count
 *            for the whole set; bit 6 with bit 2: the rule's host is the
 *            wildcard "*." + line 2's host without its first label), SOURCE
 *            a pattern (`:x` segments, a final `*`), TARGET a target template
 *            (`:x` and `*` captures, `$` the wildcard's subdomain, `?query`,
 *            `#fragment`).
 *
 * Rules are tried in order, first match wins, as in rc_ir_answer.
 * Invariants asserted (spec section 3):
 *   - normalization: length <= raw length + 1, starts with '/', no empty,
 *     '.' or '..' segment; normalizing again changes nothing when the
 *     result holds no '%';
 *   - captures lie inside the path, placeholders are non-empty segments;
 *   - the Location holds no control byte and no space, every '%' starts an
 *     escape, and no '?' or '#' comes before the query: the path part is
 *     exactly what the target's path tokens give;
 *   - rd_location_build (and the encoders) return the same length for every
 *     buffer size, write only a prefix of the full text and NUL-terminate;
 *   - a wildcard admits a host only as SUB.NAME, SUB labels of a-z 0-9 - _,
 *     and the subdomain is that SUB;
 *   - under splat-parent no-match, a splat after "/" never matches the
 *     path without that slash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RULES 4
#define MAX_TOKS 64
#define MAX_INPUT 8192

static void fail(const char *what, const char *s, size_t n)
{
	fprintf(stderr, "fuzz_match: invariant broken: %s: '", what);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputs("'\n", stderr);
	abort();
}

#define CHECK(cond, what, s, n) \
	do {                         \
		if (!(cond))             \
			fail(what, s, n);    \
	} while (0)

static int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A rule built from one description line; owns its strings. */
typedef struct fz_rule {
	rd_rule view;
	rd_ptok src[MAX_TOKS];
	rd_ttok dst[MAX_TOKS];
	uint32_t npath_toks;   /* dst tokens before the query part */
	char *strings[3 * MAX_TOKS];
	size_t nstrings;
	const char *host;
	char *wild;            /* "*." + the host without its first label */
	unsigned policy;
} fz_rule;

static char *keep(fz_rule *r, char *s)
{
	r->strings[r->nstrings++] = s;
	return s;
}

static char *dup_n(fz_rule *r, const char *s, size_t n)
{
	char *p = malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return keep(r, p);
}

static void rule_free(fz_rule *r)
{
	for (size_t i = 0; i < r->nstrings; i++)
		free(r->strings[i]);
	r->nstrings = 0;
}

static int name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* SOURCE: literal runs, `/:x` placeholders (one segment), a final `*`.
 * Returns the number of captures. */
static unsigned build_source(fz_rule *r, const char *s, size_t n)
{
	uint32_t nt = 0;
	unsigned ncap = 0;
	size_t lit = 0;
	for (size_t i = 0; i <= n && nt + 3 < MAX_TOKS; i++) {
		int param = i < n && s[i] == ':' && i > 0 && s[i - 1] == '/' && i + 1 < n &&
		            name_start((unsigned char)s[i + 1]);
		int splat = i + 1 == n && s[i] == '*';
		if (i < n && !param && !splat)
			continue;
		if (i > lit) {
			r->src[nt].kind = RD_PTOK_LIT;
			r->src[nt].len = (uint32_t)(i - lit);
			r->src[nt].text = dup_n(r, s + lit, i - lit);
			nt++;
		}
		if (param) {
			size_t k = i + 1;
			while (k < n && s[k] != '/')
				k++;
			r->src[nt].kind = RD_PTOK_PARAM;
			r->src[nt].capture = (uint8_t)ncap++;
			nt++;
			i = k - 1;
			lit = k;
		} else if (splat) {
			r->src[nt].kind = RD_PTOK_SPLAT;
			r->src[nt].capture = (uint8_t)ncap++;
			nt++;
			lit = n;
			break;
		} else {
			lit = i + 1;
		}
		if (ncap + 1 >= RD_MAX_CAPTURES)
			break;
	}
	r->view.src = r->src;
	r->view.nsrc = nt;
	return ncap;
}

static void push_lit(fz_rule *r, uint32_t *nt, const char *s, size_t n, enum rd_url_part part)
{
	if (n == 0 || *nt >= MAX_TOKS)
		return;
	size_t need = rd_encode_literal(s, n, part, NULL, 0);
	char *enc = keep(r, malloc(need + 1));
	size_t again = rd_encode_literal(s, n, part, enc, need + 1);
	CHECK(again == need, "rd_encode_literal length depends on the buffer", s, n);
	CHECK(enc[need] == '\0', "rd_encode_literal did not terminate", enc, need);
	r->dst[*nt].kind = RD_TTOK_LIT;
	r->dst[*nt].len = (uint32_t)need;
	r->dst[*nt].text = enc;
	(*nt)++;
}

/* TARGET: `:x` and `*` captures in path and query, like build_target. */
static void build_target(fz_rule *r, const char *s, size_t n, unsigned ncap)
{
	const char *hash = memchr(s, '#', n);
	size_t end = hash ? (size_t)(hash - s) : n;
	const char *qm = memchr(s, '?', end);
	size_t qstart = qm ? (size_t)(qm - s) : end;
	uint32_t nt = 0;
	unsigned next_cap = 0;
	for (int part = 0; part < 2; part++) {
		size_t from = part == 0 ? 0 : qstart, to = part == 0 ? qstart : end;
		enum rd_url_part up = part == 0 ? RD_PART_PATH : RD_PART_QUERY;
		size_t lit = from;
		for (size_t k = from; k < to; k++) {
			if (s[k] == '$') {
				push_lit(r, &nt, s + lit, k - lit, up);
				if (nt < MAX_TOKS)
					r->dst[nt++].kind = RD_TTOK_SUBDOMAIN;
				lit = k + 1;
				continue;
			}
			int cap = ncap > 0 && (s[k] == '*' || (s[k] == ':' && k + 1 < to &&
			                                       name_start((unsigned char)s[k + 1])));
			if (!cap)
				continue;
			push_lit(r, &nt, s + lit, k - lit, up);
			size_t nend = k + 1;
			if (s[k] == ':')
				while (nend < to && name_start((unsigned char)s[nend]))
					nend++;
			if (nt < MAX_TOKS) {
				r->dst[nt].kind = part == 0 ? RD_TTOK_CAP_PATH : RD_TTOK_CAP_QUERY;
				r->dst[nt].capture = (uint8_t)(s[k] == '*' ? ncap - 1 : next_cap++ % ncap);
				nt++;
			}
			lit = nend;
			k = nend - 1;
		}
		push_lit(r, &nt, s + lit, to - lit, up);
		if (part == 0)
			r->npath_toks = nt;
	}
	r->view.dst = r->dst;
	r->view.ndst = nt;
	if (qm && qstart + 1 < end)
		r->view.flags |= RD_RULE_TARGET_QUERY;
	if (hash) {
		size_t fl = n - end - 1;
		size_t need = rd_encode_literal(hash + 1, fl, RD_PART_FRAGMENT, NULL, 0);
		char *f = keep(r, malloc(need + 2));
		f[0] = '#';
		rd_encode_literal(hash + 1, fl, RD_PART_FRAGMENT, f + 1, need + 1);
		r->view.fragment = f;
		r->view.fragment_len = (uint32_t)need + 1;
	}
}

static void rule_parse(fz_rule *r, const char *line, size_t n, const char *host)
{
	memset(r, 0, sizeof *r);
	unsigned char flags = n ? (unsigned char)line[0] : 0;
	const char *s = n ? line + 1 : line;
	size_t rest = n ? n - 1 : 0;
	const char *sp = memchr(s, ' ', rest);
	size_t sl = sp ? (size_t)(sp - s) : rest;
	unsigned ncap = build_source(r, s, sl);
	r->view.status = (flags & 1) ? 410 : 301;
	r->view.flags = (uint16_t)(((flags & 1) ? RD_RULE_GONE : 0) | ((flags & 2) ? RD_RULE_QUERY_DROP : 0));
	if (sp)
		build_target(r, sp + 1, rest - sl - 1, ncap);
	if ((flags & 4) && host) {
		r->host = host;
		const char *dot = strchr(host, '.');
		if ((flags & 64) && dot && dot[1]) {
			size_t wl = strlen(dot);
			r->wild = keep(r, malloc(wl + 2));
			r->wild[0] = '*';
			memcpy(r->wild + 1, dot, wl + 1);
			r->host = r->wild;
		}
		r->view.hosts = &r->host;
		r->view.nhosts = 1;
	}
	r->policy = ((flags & 8) ? RD_POLICY_CASE_INSENSITIVE : 0) |
	            ((flags & 16) ? RD_POLICY_TRAILING_STRICT : 0) |
	            ((flags & 32) ? RD_POLICY_SPLAT_NO_PARENT : 0);
}

static void check_normalized(const char *raw, size_t len, unsigned policy, const char *norm,
                             size_t nl)
{
	CHECK(nl <= len + 1, "normalized path longer than raw + 1", raw, len);
	CHECK(nl >= 1 && norm[0] == '/', "normalized path does not start with '/'", norm, nl);
	CHECK(norm[nl] == '\0', "normalized path not terminated", norm, nl);
	/* no empty, '.' or '..' segment (an empty last one is a trailing '/',
	 * kept only with trailing-slash strict) */
	size_t i = 1;
	while (i <= nl) {
		size_t s = i;
		while (i < nl && norm[i] != '/')
			i++;
		size_t sl = i - s;
		int last = i >= nl;
		if (sl == 0 && !(last && (nl == 1 || (policy & RD_POLICY_TRAILING_STRICT))))
			fail("empty segment in a normalized path", norm, nl);
		if ((sl == 1 && norm[s] == '.') || (sl == 2 && norm[s] == '.' && norm[s + 1] == '.'))
			fail("dot segment in a normalized path", norm, nl);
		i++;
	}
	if (!memchr(norm, '%', nl)) {
		char *again = malloc(nl + 2);
		size_t al;
		CHECK(rd_path_normalize(norm, nl, policy, again, &al) == 0,
		      "a normalized path does not normalize", norm, nl);
		CHECK(al == nl && memcmp(again, norm, nl) == 0, "normalization is not idempotent",
		      norm, nl);
		free(again);
	}
}

static void check_location(const fz_rule *r, const char *host, const char *path,
                           const rd_span *caps, const char *query, size_t qlen)
{
	const rd_rule *v = &r->view;
	size_t need = rd_location_build_host(v, host, path, caps, query, qlen, NULL, 0);
	char *full = malloc(need + 1);
	memset(full, 'Z', need + 1);
	CHECK(rd_location_build_host(v, host, path, caps, query, qlen, full, need + 1) == need,
	      "rd_location_build length depends on the buffer", path, strlen(path));
	CHECK(full[need] == '\0', "Location not terminated", full, need);
	if (v->flags & RD_RULE_GONE) {
		CHECK(need == 0, "410 with a Location", full, need);
		free(full);
		return;
	}
	for (size_t i = 0; i < need; i++) {
		unsigned char c = (unsigned char)full[i];
		CHECK(c > 0x20 && c != 0x7f, "control byte or space in a Location", full, need);
		CHECK(c != '%' || (i + 2 < need && is_hex((unsigned char)full[i + 1]) &&
		                   is_hex((unsigned char)full[i + 2])),
		      "a '%' that starts no escape in a Location", full, need);
	}
	/* the path part: the same rule cut before its query tokens */
	rd_rule pv = *v;
	pv.ndst = r->npath_toks;
	pv.flags = RD_RULE_QUERY_DROP;
	pv.fragment = NULL;
	pv.fragment_len = 0;
	size_t plen = rd_location_build_host(&pv, host, path, caps, NULL, 0, NULL, 0);
	char *pbuf = malloc(plen + 1);
	rd_location_build_host(&pv, host, path, caps, NULL, 0, pbuf, plen + 1);
	CHECK(plen <= need && memcmp(pbuf, full, plen) == 0,
	      "the Location does not start with its path part", full, need);
	CHECK(!memchr(pbuf, '?', plen), "a '?' before the query of a Location", full, need);
	CHECK(!memchr(pbuf, '#', plen), "a '#' before the fragment of a Location", full, need);
	free(pbuf);
	/* a too-small buffer: same length, a prefix, terminated */
	size_t caps_try[] = { 0, 1, 2, need / 2, need > 0 ? need - 1 : 0, need };
	char *small = malloc(need + 1);
	for (size_t t = 0; t < sizeof caps_try / sizeof caps_try[0]; t++) {
		size_t cap = caps_try[t];
		if (cap > need)
			continue;
		memset(small, 'Z', need + 1);
		size_t got = rd_location_build_host(v, host, path, caps, query, qlen, small, cap);
		CHECK(got == need, "rd_location_build returns another length with a small buffer",
		      full, need);
		if (cap > 0) {
			CHECK(small[cap - 1] == '\0', "truncated Location not terminated", small, cap);
			CHECK(memcmp(small, full, cap - 1) == 0, "truncated Location is not a prefix",
			      small, cap);
		}
		CHECK(small[cap] == 'Z' || cap == need + 1, "rd_location_build wrote past cap",
		      small, cap);
	}
	free(small);
	free(full);
}

/* The host is admitted by the rule's wildcard "*.NAME": it is SUB.NAME
 * with SUB labels of a-z 0-9 '-' '_', and SUB is the subdomain. */
static void check_wildcard(const fz_rule *r, const char *host)
{
	size_t hl = strlen(host), nl = strlen(r->wild + 1);
	CHECK(hl > nl && strcmp(host + hl - nl, r->wild + 1) == 0,
	      "a wildcard admits a host outside its name", host, hl);
	size_t sub = rd_host_subdomain(&r->view, host);
	CHECK(sub == hl - nl, "the subdomain is not the part before the name", host, hl);
	for (size_t i = 0; i < sub; i++) {
		unsigned char c = (unsigned char)host[i];
		CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      (c == '.' && i > 0 && host[i - 1] != '.' && i + 1 < sub),
		      "a wildcard admits a subdomain that is not labels of a-z 0-9 - _", host, hl);
	}
}

static void check_encoders(const char *s, size_t n)
{
	static const enum rd_url_part parts[] = { RD_PART_PATH, RD_PART_QUERY, RD_PART_FRAGMENT };
	for (size_t p = 0; p < 4; p++) {
		size_t need;
		if (p < 3)
			need = rd_encode_literal(s, n, parts[p], NULL, 0);
		else
			need = rd_query_encode(s, n, NULL, 0);
		char *buf = malloc(need + 1);
		size_t got = p < 3 ? rd_encode_literal(s, n, parts[p], buf, need + 1)
		                   : rd_query_encode(s, n, buf, need + 1);
		CHECK(got == need && buf[need] == '\0', "encoder length depends on the buffer", s, n);
		for (size_t i = 0; i < need; i++) {
			unsigned char c = (unsigned char)buf[i];
			CHECK(c > 0x20 && c != 0x7f && c != '#', "encoder left an unsafe byte", buf, need);
			CHECK(c != '?' || p != 0, "path encoder left a '?'", buf, need);
		}
		size_t half = rd_encode_literal(s, n, RD_PART_PATH, buf, need / 2);
		(void)half;
		free(buf);
	}
	for (int p = RD_PART_PATH; p <= RD_PART_QUERY; p++) {
		size_t need = rd_encode_capture(s, n, (enum rd_url_part)p, NULL, 0);
		CHECK(need >= n && need <= 3 * n, "capture encoding length out of range", s, n);
		char *buf = malloc(need + 1);
		rd_encode_capture(s, n, (enum rd_url_part)p, buf, need + 1);
		for (size_t i = 0; i < need; i++) {
			unsigned char c = (unsigned char)buf[i];
			CHECK(c > 0x20 && c != 0x7f && c != '?' && c != '#', "capture encoder left an unsafe byte",
			      buf, need);
			CHECK(p == RD_PART_PATH || (c != '&' && c != '=' && c != '+'),
			      "query capture encoder left & = or +", buf, need);
		}
		free(buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT)
		return 0;
	const char *in = (const char *)data;
	const char *line[3 + MAX_RULES];
	size_t len[3 + MAX_RULES];
	size_t nlines = 0, pos = 0;
	while (nlines < 3 + MAX_RULES && pos <= size) {
		const char *nl = memchr(in + pos, '\n', size - pos);
		size_t end = nl ? (size_t)(nl - in) : size;
		line[nlines] = in + pos;
		len[nlines] = end - pos;
		nlines++;
		pos = end + 1;
		if (!nl)
			break;
	}
	/* copies, so ASan sees every over-read of these exact lengths */
	char *raw = malloc(len[0] + 1);
	memcpy(raw, line[0], len[0]);
	size_t rawlen = len[0];
	const char *query = NULL;
	size_t qlen = 0;
	char *qcopy = NULL;
	if (nlines > 1 && !(len[1] == 1 && line[1][0] == '-')) {
		qcopy = malloc(len[1] + 1);
		memcpy(qcopy, line[1], len[1]);
		query = qcopy;
		qlen = len[1];
	}
	char *host = NULL;
	if (nlines > 2) {
		host = malloc(len[2] + 1);
		rd_host_canon(line[2], len[2], host);
		size_t hl = strlen(host);
		CHECK(hl <= len[2], "canonical host longer than the header", line[2], len[2]);
		for (size_t i = 0; i < hl; i++)
			CHECK(!(host[i] >= 'A' && host[i] <= 'Z'), "canonical host not lower case", host, hl);
	}

	check_encoders(raw, rawlen);

	size_t nrules = nlines > 3 ? nlines - 3 : 0;
	fz_rule *rules = calloc(nrules ? nrules : 1, sizeof *rules);
	for (size_t i = 0; i < nrules; i++)
		rule_parse(&rules[i], line[3 + i], len[3 + i], host);
	unsigned policy = nrules ? rules[0].policy : (rawlen ? (unsigned char)raw[0] & 3u : 0);

	char *norm = malloc(rawlen + 2);
	size_t nl = 0;
	if (rd_path_normalize(raw, rawlen, policy, norm, &nl) == 0) {
		check_normalized(raw, rawlen, policy, norm, nl);
		for (size_t i = 0; i < nrules; i++) {
			const fz_rule *r = &rules[i];
			if (!rd_rule_admits_host(&r->view, host))
				continue;
			if (r->wild)
				check_wildcard(r, host);
			rd_span caps[RD_MAX_CAPTURES];
			memset(caps, 0, sizeof caps);
			if (!rd_pattern_match(r->view.src, r->view.nsrc, norm, nl, policy, caps))
				continue;
			for (uint32_t t = 0; t < r->view.nsrc; t++) {
				const rd_ptok *pt = &r->view.src[t];
				if (pt->kind == RD_PTOK_LIT)
					continue;
				const rd_span *c = &caps[pt->capture];
				CHECK(c->off <= nl && c->len <= nl - c->off, "capture outside the path", norm, nl);
				if (pt->kind == RD_PTOK_PARAM)
					CHECK(c->len > 0 && !memchr(norm + c->off, '/', c->len),
					      "placeholder capture is empty or spans segments", norm, nl);
			}
			if ((policy & RD_POLICY_SPLAT_NO_PARENT) && r->view.nsrc >= 2 &&
			    r->view.src[r->view.nsrc - 1].kind == RD_PTOK_SPLAT &&
			    r->view.src[r->view.nsrc - 2].kind == RD_PTOK_LIT &&
			    r->view.src[r->view.nsrc - 2].len > 0 &&
			    r->view.src[r->view.nsrc - 2].text[r->view.src[r->view.nsrc - 2].len - 1] == '/') {
				const rd_span *c = &caps[r->view.src[r->view.nsrc - 1].capture];
				CHECK(c->off > 0 && norm[c->off - 1] == '/',
				      "splat-parent no-match: the bare parent matched", norm, nl);
			}
			check_location(r, host, norm, caps, query, qlen);
			break; /* first match wins */
		}
	}

	free(norm);
	for (size_t i = 0; i < nrules; i++)
		rule_free(&rules[i]);
	free(rules);
	free(host);
	free(qcopy);
	free(raw);
	return 0;
}
