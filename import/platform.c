/*
 * platform.c - the importer's own reading of the source platform.
 *
 * It does not use redirc's matcher: it matches sample requests against the
 * platform rules as the platform does (imp_semantics: case, trailing slash,
 * whether "/x/ *" matches "/x", static rules first, first match wins), and
 * writes what the platform answers as `expect` lines.  `redirc test` on the
 * imported file then checks redirc's answer against the platform's.
 *
 * Per rule, in platform order:
 *   - never reached: an earlier rule matches every request it matches (a
 *     pattern comparison: that rule's placeholders and splat cover this
 *     one's), so it is left out as a comment (it means nothing there);
 *   - where "/x/ *" does not match "/x" (Cloudflare Pages, nginx and
 *     Apache regexes), the writer sets `splat-parent no-match`, which
 *     gives that meaning;
 *   - its sample requests: each placeholder "v1", "v2"..., the splat
 *     "a/b", and the query "imp=1"; plus a second request: for exact
 *     rules the path in upper case on a case-insensitive platform, else
 *     with the other trailing slash; for splat rules the bare parent.  An answer by an
 *     earlier rule that is not importable refuses this rule too (the
 *     platform sends some of its requests elsewhere).
 * Requests are taken in normal form (no %-escapes to decode, no dot
 * segments, no repeated '/'), where both readings agree on the path.
 */
#include "import/import.h"

#include <stdlib.h>
#include <string.h>

typedef struct span {
	const char *s;
	size_t n;
} span;

struct caps {
	span p[IMP_MAX_PARAMS];
	span splat;
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int bytes_eq(int fold, const char *a, const char *b, size_t n)
{
	if (!fold)
		return memcmp(a, b, n) == 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Match pattern pieces e[0..ne) against the whole of s[0..n).  With
 * `symbolic`, s is another pattern's text in which 0x01 stands for a
 * placeholder and 0x02 for a splat: a placeholder here covers 0x01 but
 * not 0x02 (which may be empty or hold a '/'). */
static int match_els(int fold, const imp_el *e, uint32_t ne, const char *s, size_t n,
                     struct caps *c, int symbolic)
{
	size_t i = 0;
	for (uint32_t k = 0; k < ne; k++) {
		switch (e[k].kind) {
		case IMP_LIT:
			if (n - i < e[k].len || !bytes_eq(fold, s + i, e[k].text, e[k].len))
				return 0;
			i += e[k].len;
			break;
		case IMP_PARAM: {
			size_t j = i;
			while (j < n && s[j] != '/') {
				if (symbolic && s[j] == '\x02')
					return 0;
				j++;
			}
			if (j == i)
				return 0;
			if (c) {
				c->p[e[k].param].s = s + i;
				c->p[e[k].param].n = j - i;
			}
			i = j;
			break;
		}
		case IMP_SPLAT:
			if (c) {
				c->splat.s = s + i;
				c->splat.n = n - i;
			}
			i = n;
			break;
		default:
			return 0;
		}
	}
	return i == n;
}

/* The bare parent of a pattern ending in "/" + splat: the pieces without
 * the splat and that '/' (copied into `tmp`); 0 if it has none. */
static int bare_parent(const imp_rule *r, imp_el *tmp, uint32_t *nt)
{
	if (r->nsrc < 2 || r->src[r->nsrc - 1].kind != IMP_SPLAT)
		return 0;
	const imp_el *l = &r->src[r->nsrc - 2];
	if (l->kind != IMP_LIT || l->len == 0 || l->text[l->len - 1] != '/')
		return 0;
	if (r->nsrc == 2 && l->len == 1)
		return 0; /* "/ *": the root is "/" itself, which the splat matches */
	*nt = r->nsrc - 1;
	memcpy(tmp, r->src, sizeof(imp_el) * *nt);
	tmp[*nt - 1].len--;
	if (tmp[*nt - 1].len == 0)
		(*nt)--;
	return 1;
}

/* Does rule r match the request path s (already in the platform's form)? */
static int rule_matches(const imp_doc *doc, const imp_rule *r, const char *s, size_t n,
                        struct caps *c, int symbolic)
{
	int fold = doc->sem.case_insensitive;
	if (match_els(fold, r->src, r->nsrc, s, n, c, symbolic))
		return 1;
	imp_el tmp[2 * IMP_MAX_PARAMS + 4];
	uint32_t nt;
	if (doc->sem.splat_parent && r->nsrc <= 2 * IMP_MAX_PARAMS + 4 && bare_parent(r, tmp, &nt) &&
	    match_els(fold, tmp, nt, s, n, c, symbolic)) {
		if (c) {
			c->splat.s = s + n;
			c->splat.n = 0;
		}
		return 1;
	}
	return 0;
}

/* Is h a subdomain of name (one or more labels, then '.', then name)? */
static int is_subdomain(const char *h, const char *name)
{
	size_t hl = strlen(h), nl = strlen(name);
	return hl > nl + 1 && h[hl - nl - 1] == '.' && strcasecmp(h + hl - nl, name) == 0;
}

/* Does rule r answer requests for `host`?  A host "*.NAME" stands for the
 * scope of a rule with subdomains: NAME and every subdomain of it (r must
 * admit them all). */
static int host_admits(const imp_rule *r, const char *host)
{
	if (!r->host)
		return 1;
	if (!host)
		return 0;
	if (host[0] == '*' && host[1] == '.')
		return r->subdomains &&
		       (strcasecmp(r->host, host + 2) == 0 || is_subdomain(host + 2, r->host));
	return strcasecmp(r->host, host) == 0 || (r->subdomains && is_subdomain(host, r->host));
}

/* The host scope a rule's requests come from, in host_admits' terms
 * ("*.NAME" is written into buf, which holds RC_SCOPE_MAX bytes). */
#define RC_SCOPE_MAX 512
static const char *scope_of(const imp_rule *r, char *buf)
{
	if (!r->host || !r->subdomains || strlen(r->host) + 3 > RC_SCOPE_MAX)
		return r->host;
	buf[0] = '*';
	buf[1] = '.';
	strcpy(buf + 2, r->host);
	return buf;
}

/* ---- an index of the static rules: (host, path) -> first rule -------- */

typedef struct index {
	size_t *slot; /* rule position + 1; 0 = empty */
	size_t cap;
} index_t;

static uint64_t key_hash(const imp_doc *doc, const char *host, int sub, const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(sub != 0);
	for (const char *p = host ? host : ""; *p; p++)
		h = (h ^ (unsigned char)lower((unsigned char)*p)) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		h = (h ^ (unsigned)(doc->sem.case_insensitive ? lower(c) : c)) * 1099511628211ull;
	}
	return h;
}

static const imp_rule *rule_at(const imp_doc *doc, size_t i)
{
	return RC_VEC_AT(&doc->rules, imp_rule, i);
}

static int static_key_eq(const imp_doc *doc, const imp_rule *r, const char *host, int sub,
                         const char *s, size_t n)
{
	if ((r->host == NULL) != (host == NULL) || (host && strcasecmp(r->host, host) != 0) ||
	    (host && !r->subdomains != !sub))
		return 0;
	size_t len = r->nsrc ? r->src[0].len : 0;
	return len == n && bytes_eq(doc->sem.case_insensitive, r->nsrc ? r->src[0].text : "", s, n);
}

/* The first static rule with this key, or SIZE_MAX. */
static size_t index_find(const imp_doc *doc, const index_t *ix, const char *host, int sub,
                         const char *s, size_t n)
{
	size_t m = ix->cap - 1;
	sub = host && sub;
	for (size_t h = key_hash(doc, host, sub, s, n) & m;; h = (h + 1) & m) {
		if (ix->slot[h] == 0)
			return SIZE_MAX;
		if (static_key_eq(doc, rule_at(doc, ix->slot[h] - 1), host, sub, s, n))
			return ix->slot[h] - 1;
	}
}

/* The first static rule before `limit` answering path s on `host` (NULL:
 * a request with no Host; "*.NAME": every request of a rule with
 * subdomains, see host_admits), or SIZE_MAX. */
static size_t index_first(const imp_doc *doc, const index_t *ix, size_t limit, const char *host,
                          const char *s, size_t n)
{
	size_t best = SIZE_MAX, a;
	int scope = host && host[0] == '*' && host[1] == '.';
	if (host && !scope) {
		a = index_find(doc, ix, host, 0, s, n);
		if (a < limit)
			best = a;
	}
	/* the rules with subdomains of the host or of a domain above it */
	for (const char *d = scope ? host + 2 : host; d; d = strchr(d, '.') ? strchr(d, '.') + 1 : NULL) {
		a = index_find(doc, ix, d, 1, s, n);
		if (a < limit && a < best)
			best = a;
	}
	a = index_find(doc, ix, NULL, 0, s, n);
	if (a < limit && a < best)
		best = a;
	return best;
}

static void index_add(const imp_doc *doc, index_t *ix, size_t pos)
{
	const imp_rule *r = rule_at(doc, pos);
	const char *s = r->nsrc ? r->src[0].text : "";
	size_t n = r->nsrc ? r->src[0].len : 0;
	size_t m = ix->cap - 1;
	int sub = r->host && r->subdomains;
	for (size_t h = key_hash(doc, r->host, sub, s, n) & m;; h = (h + 1) & m) {
		if (ix->slot[h] == 0) {
			ix->slot[h] = pos + 1;
			return;
		}
		if (static_key_eq(doc, rule_at(doc, ix->slot[h] - 1), r->host, sub, s, n))
			return; /* the first one stays */
	}
}

/* The rules the matcher knows: parsed, unconditional. */
static int takes_part(const imp_rule *r)
{
	return r->has_pattern && !r->conditional;
}

/* Pattern rules in buckets by their leading literal (the text before their
 * first placeholder or splat, which ends in '/'), so that a request is
 * compared only with the patterns whose leading literal is one of its own
 * prefixes ending in '/' (or the request and a '/', for a bare parent).
 * Each list holds positions in increasing order. */
typedef struct bucket {
	const char *key;
	size_t len;
	rc_vec list;     /* size_t */
} bucket;

typedef struct state {
	index_t ix;
	bucket *buckets;
	size_t nbuckets, cap;
} state;

static bucket *bucket_find(const imp_doc *doc, const state *st, const char *k, size_t n, int make)
{
	uint64_t h = key_hash(doc, NULL, 0, k, n);
	state *w = (state *)st;
	if (make && (w->nbuckets + 1) * 2 > w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 64;
		bucket *nb = rc_xmalloc(sizeof(bucket) * nc);
		memset(nb, 0, sizeof(bucket) * nc);
		for (size_t i = 0; i < w->cap; i++)
			if (w->buckets[i].key) {
				size_t j = key_hash(doc, NULL, 0, w->buckets[i].key, w->buckets[i].len) & (nc - 1);
				while (nb[j].key)
					j = (j + 1) & (nc - 1);
				nb[j] = w->buckets[i];
			}
		free(w->buckets);
		w->buckets = nb;
		w->cap = nc;
	}
	if (!w->cap)
		return NULL;
	for (size_t j = h & (w->cap - 1);; j = (j + 1) & (w->cap - 1)) {
		bucket *b = &w->buckets[j];
		if (!b->key) {
			if (!make)
				return NULL;
			b->key = k;
			b->len = n;
			rc_vec_init(&b->list, sizeof(size_t));
			w->nbuckets++;
			return b;
		}
		if (b->len == n && bytes_eq(doc->sem.case_insensitive, b->key, k, n))
			return b;
	}
}

/* The list a pattern rule goes in: its leading literal. */
static rc_vec *pattern_list(const imp_doc *doc, state *st, const imp_rule *r)
{
	if (r->nsrc == 0 || r->src[0].kind != IMP_LIT)
		return &bucket_find(doc, st, "/", 1, 1)->list; /* not made by the readers */
	return &bucket_find(doc, st, r->src[0].text, r->src[0].len, 1)->list;
}

static void pattern_add(const imp_doc *doc, state *st, size_t pos)
{
	size_t *p = rc_vec_push(pattern_list(doc, st, rule_at(doc, pos)));
	*p = pos;
}

static void pattern_pop(const imp_doc *doc, state *st, size_t pos)
{
	pattern_list(doc, st, rule_at(doc, pos))->len--;
}

typedef int (*cand_fn)(const imp_doc *doc, const imp_rule *r, const char *host, const char *s,
                       size_t n, int symbolic);

static size_t scan_list(const imp_doc *doc, const rc_vec *l, size_t best, size_t limit,
                        const char *host, const char *s, size_t n, int symbolic, cand_fn fn)
{
	for (size_t i = 0; l && i < l->len; i++) {
		size_t p = *RC_VEC_AT(l, size_t, i);
		if (p >= best || p >= limit)
			break;
		if (fn(doc, rule_at(doc, p), host, s, n, symbolic))
			return p;
	}
	return best;
}

/* The first candidate pattern for path s that `fn` accepts, or best. */
static size_t scan_patterns(const imp_doc *doc, const state *st, size_t best, size_t limit,
                            const char *host, const char *s, size_t n, int symbolic, cand_fn fn)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\x01' || s[i] == '\x02')
			break; /* a leading literal holds no wildcard */
		if (s[i] != '/')
			continue;
		const bucket *b = bucket_find(doc, st, s, i + 1, 0);
		if (b)
			best = scan_list(doc, &b->list, best, limit, host, s, n, symbolic, fn);
	}
	/* the bare parent: "/x" is a request of "/x/ *" */
	if (doc->sem.splat_parent && n && s[n - 1] != '/' && !memchr(s, '\x01', n) && !memchr(s, '\x02', n)) {
		char *k = rc_xmalloc(n + 1);
		memcpy(k, s, n);
		k[n] = '/';
		const bucket *b = bucket_find(doc, st, k, n + 1, 0);
		if (b)
			best = scan_list(doc, &b->list, best, limit, host, s, n, symbolic, fn);
		free(k);
	}
	return best;
}

static int cand_matches(const imp_doc *doc, const imp_rule *r, const char *host, const char *s,
                        size_t n, int symbolic)
{
	return host_admits(r, host) && rule_matches(doc, r, s, n, NULL, symbolic);
}

/* The first rule before `limit` answering (host, path), or SIZE_MAX. */
static size_t first_answer(const imp_doc *doc, const state *st, size_t limit, const char *host,
                           const char *s, size_t n, struct caps *c)
{
	size_t best = index_first(doc, &st->ix, limit, host, s, n);
	best = scan_patterns(doc, st, best, limit, host, s, n, 0, cand_matches);
	if (best != SIZE_MAX && c)
		rule_matches(doc, rule_at(doc, best), s, n, c, 0);
	return best;
}

/* An earlier rule that covers every request of r (r's host scope too). */
static size_t covered_by(const imp_doc *doc, const state *st, size_t limit, const imp_rule *r,
                         const imp_el *els, uint32_t ne)
{
	rc_buf sym;
	rc_buf_init(&sym);
	for (uint32_t k = 0; k < ne; k++) {
		if (els[k].kind == IMP_LIT)
			rc_buf_add(&sym, els[k].text, els[k].len);
		else
			rc_buf_addc(&sym, els[k].kind == IMP_PARAM ? '\x01' : '\x02');
	}
	const char *s = sym.data ? sym.data : "";
	size_t best = SIZE_MAX;
	int is_static = 1;
	for (uint32_t k = 0; k < ne; k++)
		if (els[k].kind != IMP_LIT)
			is_static = 0;
	char scope_buf[RC_SCOPE_MAX];
	const char *scope = scope_of(r, scope_buf);
	if (is_static) {
		if (r->host)
			best = index_first(doc, &st->ix, limit, scope, s, sym.len);
		else
			best = index_find(doc, &st->ix, NULL, 0, s, sym.len);
		if (best >= limit)
			best = SIZE_MAX;
	}
	/* a rule bound to a host covers only rules of that host; host_admits
	 * with r's scope (NULL: only rules for every host) says exactly that */
	best = scan_patterns(doc, st, best, limit, scope, s, sym.len, 1, cand_matches);
	rc_buf_fini(&sym);
	return best;
}

/* ---- samples and the platform's answers ------------------------------ */

struct sample {
	rc_buf path;
	const char *query;
};

/* A request r matches: placeholders v1.., the splat "a/b" (or nothing,
 * with `bare`). */
static void sample_of(const imp_rule *r, rc_buf *out, int bare)
{
	rc_buf_reset(out);
	imp_el tmp[2 * IMP_MAX_PARAMS + 4];
	const imp_el *e = r->src;
	uint32_t ne = r->nsrc;
	if (bare) {
		if (r->nsrc > 2 * IMP_MAX_PARAMS + 4 || !bare_parent(r, tmp, &ne))
			return;
		e = tmp;
	}
	for (uint32_t k = 0; k < ne; k++) {
		if (e[k].kind == IMP_LIT)
			rc_buf_add(out, e[k].text, e[k].len);
		else if (e[k].kind == IMP_PARAM)
			rc_buf_printf(out, "v%u", (unsigned)e[k].param + 1);
		else
			rc_buf_adds(out, "a/b");
	}
	if (out->len == 0)
		rc_buf_addc(out, '/');
}

/* The Location rule r gives for captures c and query q. */
static void location_of(const imp_rule *r, const struct caps *c, const char *q, rc_buf *out)
{
	rc_buf_reset(out);
	size_t frag = SIZE_MAX;
	for (uint32_t k = 0; k < r->ndst; k++) {
		const imp_el *e = &r->dst[k];
		if (e->kind == IMP_LIT) {
			const char *h = memchr(e->text, '#', e->len);
			if (h && frag == SIZE_MAX)
				frag = out->len + (size_t)(h - e->text);
			rc_buf_add(out, e->text, e->len);
		} else if (e->kind == IMP_PARAM) {
			rc_buf_add(out, c->p[e->param].s, c->p[e->param].n);
		} else {
			rc_buf_add(out, c->splat.s, c->splat.n);
		}
	}
	if (r->query == IMP_QUERY_KEEP && q && *q) {
		size_t end = frag == SIZE_MAX ? out->len : frag;
		int has_q = memchr(out->data, '?', end) != NULL;
		rc_buf tail;
		rc_buf_init(&tail);
		rc_buf_add(&tail, out->data + end, out->len - end);
		out->len = end;
		out->data[end] = '\0';
		rc_buf_addc(out, has_q ? '&' : '?');
		rc_buf_adds(out, q);
		rc_buf_add(out, tail.data ? tail.data : "", tail.len);
		rc_buf_fini(&tail);
	}
}

/* Append the expect line for request (host, path ? query); returns the
 * answering rule or SIZE_MAX for none. */
static size_t prove(imp_doc *doc, const state *st, size_t limit, const char *host,
                    const char *path, size_t n, const char *query, rc_buf *proof)
{
	/* the platform's form of the request */
	size_t pn = n;
	if (doc->sem.trailing_ignore && pn > 1 && path[pn - 1] == '/')
		pn--;
	struct caps c;
	memset(&c, 0, sizeof c);
	size_t a = first_answer(doc, st, limit, host, path, pn, &c);
	if (a != SIZE_MAX) {
		/* a capture holding an escape: how each side re-encodes it in the
		 * Location is not the question here, so no expect line (only a
		 * request for another rule's source can capture one) */
		const imp_rule *ar = rule_at(doc, a);
		for (uint32_t k = 0; k < ar->ndst; k++) {
			const span *sp = ar->dst[k].kind == IMP_PARAM ? &c.p[ar->dst[k].param]
			               : ar->dst[k].kind == IMP_SPLAT ? &c.splat : NULL;
			if (sp && sp->n && memchr(sp->s, '%', sp->n))
				return a;
		}
	}
	rc_buf_adds(proof, "expect ");
	rc_buf url;
	rc_buf_init(&url);
	if (host) {
		rc_buf_adds(&url, "https://");
		rc_buf_adds(&url, host);
	}
	imp_put_url(&url, path, n, 1);
	if (query && *query) {
		rc_buf_addc(&url, '?');
		rc_buf_adds(&url, query);
	}
	imp_put_token(proof, url.data, url.len);
	rc_buf_fini(&url);
	if (a == SIZE_MAX) {
		rc_buf_adds(proof, " -> pass\n");
		return a;
	}
	const imp_rule *r = rule_at(doc, a);
	if (r->passive) {
		rc_buf_adds(proof, " -> pass\n");
		return a;
	}
	if (r->status == 410) {
		rc_buf_adds(proof, " -> 410\n");
		return a;
	}
	rc_buf loc;
	rc_buf_init(&loc);
	location_of(r, &c, query, &loc);
	rc_buf_printf(proof, " -> %d ", r->status);
	rc_buf enc;
	rc_buf_init(&enc);
	imp_put_url(&enc, loc.data ? loc.data : "", loc.len, 0);
	imp_put_token(proof, enc.data, enc.len);
	rc_buf_fini(&enc);
	rc_buf_fini(&loc);
	rc_buf_addc(proof, '\n');
	return a;
}

static int rule_cmp_static_first(const void *a, const void *b)
{
	const imp_rule *x = a, *y = b;
	int sx = !(x->has_pattern && x->is_static), sy = !(y->has_pattern && y->is_static);
	if (sx != sy)
		return sx - sy;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static size_t host_labels(const char *h)
{
	size_t n = 1;
	for (; *h; h++)
		n += *h == '.';
	return n;
}

/* Cloudflare Bulk Redirects: a source with the exact host wins over one
 * that includes subdomains, and of two that include subdomains the longer
 * host wins; sources are exact (host, path) pairs, so ordering the rules
 * this way gives that precedence to first-match.  File order otherwise. */
static int rule_cmp_subdomains_last(const void *a, const void *b)
{
	const imp_rule *x = a, *y = b;
	int sx = x->host && x->subdomains, sy = y->host && y->subdomains;
	if (sx != sy)
		return sx - sy;
	if (sx) {
		size_t lx = host_labels(x->host), ly = host_labels(y->host);
		if (lx != ly)
			return lx > ly ? -1 : 1;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static size_t line_of(const imp_rule *r)
{
	return r->loc.line;
}

void imp_resolve(imp_doc *doc)
{
	if (doc->sem.static_first && doc->rules.len > 1)
		rc_sort(doc->rules.items, doc->rules.len, sizeof(imp_rule), rule_cmp_static_first);
	int any_subdomains = 0;
	for (size_t i = 0; i < doc->rules.len; i++)
		any_subdomains |= RC_VEC_AT(&doc->rules, imp_rule, i)->subdomains;
	if (any_subdomains)
		rc_sort(doc->rules.items, doc->rules.len, sizeof(imp_rule), rule_cmp_subdomains_last);
	state st;
	memset(&st, 0, sizeof st);
	st.ix.cap = 16;
	while (st.ix.cap < doc->rules.len * 2 + 16)
		st.ix.cap *= 2;
	st.ix.slot = rc_xmalloc(sizeof(size_t) * st.ix.cap);
	memset(st.ix.slot, 0, sizeof(size_t) * st.ix.cap);
	rc_buf sample, proof;
	rc_buf_init(&sample);
	rc_buf_init(&proof);
	for (size_t i = 0; i < doc->rules.len; i++) {
		imp_rule *r = RC_VEC_AT(&doc->rules, imp_rule, i);
		if (r->twin_line) {
			doc->imported++; /* it is the rule before it, for the other scheme */
			continue;
		}
		if (!takes_part(r) || r->passive)
			goto add;
		/* never reached? */
		size_t by = covered_by(doc, &st, i, r, r->src, r->nsrc);
		if (by != SIZE_MAX && !doc->sem.splat_parent) {
			/* fine: the bare parent is not one of its requests */
		} else if (by != SIZE_MAX && doc->sem.splat_parent) {
			imp_el tmp[2 * IMP_MAX_PARAMS + 4];
			uint32_t nt;
			if (r->nsrc <= 2 * IMP_MAX_PARAMS + 4 && bare_parent(r, tmp, &nt) &&
			    covered_by(doc, &st, i, r, tmp, nt) == SIZE_MAX)
				by = SIZE_MAX; /* its bare parent still reaches it */
		}
		if (by != SIZE_MAX) {
			r->dead_by = rule_at(doc, by);
			if (!r->refused) {
				/* prove it: its sample goes to the earlier rule */
				const imp_rule *d = r->dead_by;
				sample_of(r, &sample, 0);
				rc_buf_reset(&proof);
				size_t a = prove(doc, &st, i, r->host, sample.data, sample.len, "imp=1", &proof);
				if (a != SIZE_MAX && !rule_at(doc, a)->refused && !rule_at(doc, a)->dead_by)
					r->proof = rc_arena_strndup(&doc->arena, proof.data, proof.len);
				(void)d;
			}
			goto add;
		}
		if (r->refused)
			goto add;
		/* its sample request, answered by the rules up to itself */
		sample_of(r, &sample, 0);
		rc_buf_reset(&proof);
		if (r->is_static) {
			index_add(doc, &st.ix, i);
		} else {
			pattern_add(doc, &st, i);
		}
		size_t a = prove(doc, &st, i + 1, r->host, sample.data, sample.len, "imp=1", &proof);
		if (!r->is_static)
			pattern_pop(doc, &st, i);
		if (a == SIZE_MAX) {
			imp_refuse(doc, r, r->loc.col, r->loc.len,
			           "the importer found no request in normal form that it answers "
			           "(a dot segment, '//' or a %%-escape in its source?)");
		} else if (rule_at(doc, a)->refused || rule_at(doc, a)->passive) {
			const imp_rule *o = rule_at(doc, a);
			imp_refuse(doc, r, r->loc.col, r->loc.len,
			           "%s:%zu, which is %s, answers its request '%s' first",
			           o->path, line_of(o), o->passive ? "not a redirect" : "not importable",
			           rc_quote(&doc->arena, sample.data, sample.len, 80));
		} else {
			r->proof = rc_arena_strndup(&doc->arena, proof.data, proof.len);
		}
	add:
		if (takes_part(r)) {
			if (r->is_static)
				index_add(doc, &st.ix, i);
			else
				pattern_add(doc, &st, i);
		}
		if (r->passive)
			continue;
		if (r->refused)
			doc->refused++;
		else if (r->dead_by)
			doc->dead++;
		else
			doc->imported++;
	}
	/* a second request per rule, answered by every rule: the other
	 * trailing slash (and case) of an exact rule, the bare parent of a
	 * splat rule; left out when a rule that is not imported answers it */
	for (size_t i = 0; i < doc->rules.len; i++) {
		imp_rule *r = RC_VEC_AT(&doc->rules, imp_rule, i);
		if (r->refused || r->dead_by || !r->proof || r->passive)
			continue;
		int is_splat = r->nsrc && r->src[r->nsrc - 1].kind == IMP_SPLAT;
		if (is_splat) {
			sample_of(r, &sample, 1);
		} else {
			if (r->nparams)
				continue;
			sample_of(r, &sample, 0);
			if (doc->sem.case_insensitive) {
				for (size_t k = 0; k < sample.len; k++)
					if (sample.data[k] >= 'a' && sample.data[k] <= 'z')
						sample.data[k] = (char)(sample.data[k] - 'a' + 'A');
			} else if (sample.len > 1 && sample.data[sample.len - 1] == '/') {
				sample.data[--sample.len] = '\0';
			} else if (sample.len > 1) {
				rc_buf_addc(&sample, '/');
			}
		}
		if (sample.len == 0)
			continue;
		rc_buf_reset(&proof);
		rc_buf_adds(&proof, r->proof);
		size_t a = prove(doc, &st, SIZE_MAX, r->host, sample.data, sample.len, "", &proof);
		if (a == SIZE_MAX || !rule_at(doc, a)->refused)
			r->proof = rc_arena_strndup(&doc->arena, proof.data, proof.len);
		if (r->host && r->subdomains) {
			/* and its own request on a subdomain two labels down */
			char *sub = rc_arena_printf(&doc->arena, "a.b.%s", r->host);
			sample_of(r, &sample, 0);
			rc_buf_reset(&proof);
			rc_buf_adds(&proof, r->proof);
			a = prove(doc, &st, SIZE_MAX, sub, sample.data, sample.len, "", &proof);
			if (a == SIZE_MAX || !rule_at(doc, a)->refused)
				r->proof = rc_arena_strndup(&doc->arena, proof.data, proof.len);
		}
	}
	rc_buf_fini(&sample);
	rc_buf_fini(&proof);
	for (size_t i = 0; i < st.cap; i++)
		if (st.buckets[i].key)
			rc_vec_fini(&st.buckets[i].list);
	free(st.buckets);
	free(st.ix.slot);
	/* the diagnostics, in platform order */
	for (size_t i = 0; i < doc->rules.len; i++) {
		const imp_rule *r = rule_at(doc, i);
		if (r->passive)
			continue;
		if (r->refused) {
			rc_diag_add(doc->diags, RC_SEV_ERROR, "not-importable", r->why_loc,
			            "rule cannot be imported from %s: %s", doc->sem.platform, r->refused);
		} else if (r->dead_by) {
			rc_diag_add(doc->diags, RC_SEV_WARNING, "shadowed", r->loc,
			            "rule is never reached on %s, left out as a comment",
			            doc->sem.platform);
			rc_diag_note(doc->diags, r->dead_by->loc,
			             "this earlier rule answers every request it matches");
		}
	}
}
