/*
 * behaviour_diff.c - the behaviour diff of two rule sets (behaviour_diff.h).
 *
 *   1. key every rule: normalized source + host scope (+ occurrence, for a
 *      duplicate), and its meaning: status, gone, query mode, target
 *      tokens with capture numbers, fragment;
 *   2. match NEW's keys against OLD's: same meaning, changed, added,
 *      removed; an added and a removed rule with the same source but
 *      another host scope are one changed rule;
 *   3. answer every rule's sample requests (both sides' rules, each host of
 *      their scope) with both rule sets, following redirects, and keep the
 *      requests whose traces differ, classified;
 *   4. diagnostics of the analysis present on one side only.
 */
#include <stdlib.h>
#include <string.h>

#include "compiler/behaviour_diff.h"
#include "compiler/checks.h"
#include "compiler/requests.h"

const char *rc_bdiff_kind_name(enum rc_bdiff_kind k)
{
	switch (k) {
	case RC_BD_CHANGED: return "changed";
	case RC_BD_ADDED: return "added";
	case RC_BD_REMOVED: return "removed";
	case RC_BD_INTERCEPTED: return "intercepted";
	case RC_BD_CHAIN: return "chain";
	case RC_BD_LOOP: return "loop";
	default: return "bug: unknown kind";
	}
}

/* ---- a string -> index hash map ---------------------------------------- */

typedef struct str_map {
	const char **keys;
	uint64_t *hashes;   /* compared before the bytes: fewer cache misses */
	size_t *lens;
	int64_t *vals;
	size_t cap, len;
} str_map;

static void map_init(str_map *m, size_t expect)
{
	m->cap = 16;
	while (m->cap < 2 * expect + 16)
		m->cap *= 2;
	m->keys = calloc(m->cap, sizeof *m->keys);
	m->lens = rc_xmalloc(m->cap * sizeof *m->lens);
	m->hashes = rc_xmalloc(m->cap * sizeof *m->hashes);
	m->vals = rc_xmalloc(m->cap * sizeof *m->vals);
	if (!m->keys)
		abort();
	m->len = 0;
}

static void map_fini(str_map *m)
{
	free(m->keys);
	free(m->hashes);
	free(m->lens);
	free(m->vals);
}

/* The slot of key: its own, or the empty one where it would go. */
static size_t map_slot_h(const str_map *m, const char *k, size_t n, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);
	while (m->keys[i] &&
	       !(m->hashes[i] == h && m->lens[i] == n && memcmp(m->keys[i], k, n) == 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static uint64_t map_hash(const char *k, size_t n)
{
	return rc_hash_bytes(k, n, 0x9e37);
}

static size_t map_slot(const str_map *m, const char *k, size_t n)
{
	return map_slot_h(m, k, n, map_hash(k, n));
}

static void map_grow(str_map *m)
{
	str_map bigger;
	map_init(&bigger, m->cap);
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i]) {
			size_t j = map_slot_h(&bigger, m->keys[i], m->lens[i], m->hashes[i]);
			bigger.keys[j] = m->keys[i];
			bigger.hashes[j] = m->hashes[i];
			bigger.lens[j] = m->lens[i];
			bigger.vals[j] = m->vals[i];
		}
	bigger.len = m->len;
	map_fini(m);
	*m = bigger;
}

/* Insert when absent; returns the value stored (the old one if present). */
static int64_t map_put(str_map *m, const char *k, size_t n, int64_t v)
{
	if (2 * (m->len + 1) > m->cap)
		map_grow(m);
	uint64_t h = map_hash(k, n);
	size_t i = map_slot_h(m, k, n, h);
	if (m->keys[i])
		return m->vals[i];
	m->keys[i] = k;
	m->hashes[i] = h;
	m->lens[i] = n;
	m->vals[i] = v;
	m->len++;
	return v;
}

static int64_t map_get(const str_map *m, const char *k, size_t n)
{
	size_t i = map_slot(m, k, n);
	return m->keys[i] ? m->vals[i] : -1;
}

/* ---- keys and meanings ------------------------------------------------- */

static void add_u32(rc_buf *b, uint32_t v)
{
	rc_buf_add(b, (const char *)&v, sizeof v);
}

static void add_source(rc_buf *b, const rc_ir *ir, const rc_rule *r)
{
	int fold = (ir->policy & RD_POLICY_CASE_INSENSITIVE) != 0;
	for (uint32_t i = 0; i < r->nsrc; i++) {
		const rd_ptok *t = &r->src[i];
		rc_buf_addc(b, (char)('0' + t->kind));
		if (t->kind == RD_PTOK_LIT) {
			add_u32(b, t->len);
			for (uint32_t j = 0; j < t->len; j++) {
				char c = t->text[j];
				rc_buf_addc(b, fold ? (char)rd_ascii_lower((unsigned char)c) : c);
			}
		} else {
			rc_buf_addc(b, (char)t->capture);
		}
	}
}

static void add_scope(rc_buf *b, const rc_ir *ir, const rc_rule *r)
{
	rc_buf_addc(b, '|');
	if (r->scope < 0) {
		rc_buf_addc(b, '*');
		return;
	}
	const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, r->scope);
	/* the names sorted, so `host a, b` and `host b, a` are one scope */
	const char **names = rc_xmalloc((s->nhosts + 1) * sizeof *names);
	for (uint32_t i = 0; i < s->nhosts; i++) {
		uint32_t j = i;
		while (j > 0 && strcmp(names[j - 1], s->hosts[i]) > 0) {
			names[j] = names[j - 1];
			j--;
		}
		names[j] = s->hosts[i];
	}
	for (uint32_t i = 0; i < s->nhosts; i++) {
		if (i && strcmp(names[i], names[i - 1]) == 0)
			continue;
		rc_buf_adds(b, names[i]);
		rc_buf_addc(b, ',');
	}
	free(names);
}

/* A rule's keys, as hashes of the serializations above; equal hashes are
 * confirmed by comparing the rules themselves (same_key). */
typedef struct keyed {
	uint64_t key_h;     /* source | scope */
	uint64_t src_h;     /* source only */
	const char *scope;  /* the scope's sorted host list, "|*" for every host */
} keyed;

/* Every rule's scope text; the hashes only for rules [from, to) (the rules
 * outside are paired in place, see pair_rules). */
static keyed *key_rules(rc_arena *a, const rc_ir *ir)
{
	size_t n = ir->rules.len;
	keyed *k = calloc(n + 1, sizeof *k);
	if (!k)
		abort();
	rc_buf b;
	rc_buf_init(&b);
	/* one host list per scope */
	const char **scope_text = rc_xmalloc((ir->scopes.len + 1) * sizeof *scope_text);
	for (size_t s = 0; s < ir->scopes.len; s++) {
		rc_rule probe = { 0 };
		probe.scope = (int32_t)s;
		rc_buf_reset(&b);
		add_scope(&b, ir, &probe);
		scope_text[s] = rc_arena_strndup(a, b.data, b.len);
	}
	for (size_t i = 0; i < n; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		k[i].scope = r->scope >= 0 ? scope_text[r->scope] : "|*";
	}
	free(scope_text);
	rc_buf_fini(&b);
	return k;
}

static void hash_rules(const rc_ir *ir, keyed *k, size_t from, size_t to)
{
	rc_buf b;
	rc_buf_init(&b);
	for (size_t i = from; i < to; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		rc_buf_reset(&b);
		add_source(&b, ir, r);
		k[i].src_h = rc_hash_bytes(b.data, b.len, 1);
		rc_buf_adds(&b, k[i].scope);
		k[i].key_h = rc_hash_bytes(b.data, b.len, 2);
	}
	rc_buf_fini(&b);
}

static int byte_eq(char x, char y, int fold_x, int fold_y)
{
	if (fold_x)
		x = (char)rd_ascii_lower((unsigned char)x);
	if (fold_y)
		y = (char)rd_ascii_lower((unsigned char)y);
	return x == y;
}

static int same_source(const rc_ir *ia, const rc_rule *ra, const rc_ir *ib, const rc_rule *rb)
{
	int fa = (ia->policy & RD_POLICY_CASE_INSENSITIVE) != 0;
	int fb = (ib->policy & RD_POLICY_CASE_INSENSITIVE) != 0;
	if (ra->nsrc != rb->nsrc)
		return 0;
	for (uint32_t i = 0; i < ra->nsrc; i++) {
		const rd_ptok *x = &ra->src[i], *y = &rb->src[i];
		if (x->kind != y->kind)
			return 0;
		if (x->kind != RD_PTOK_LIT) {
			if (x->capture != y->capture)
				return 0;
			continue;
		}
		if (x->len != y->len)
			return 0;
		for (uint32_t j = 0; j < x->len; j++)
			if (!byte_eq(x->text[j], y->text[j], fa, fb))
				return 0;
	}
	return 1;
}

static int same_key(const rc_ir *ia, const rc_rule *ra, const keyed *ka, const rc_ir *ib,
                    const rc_rule *rb, const keyed *kb)
{
	return strcmp(ka->scope, kb->scope) == 0 && same_source(ia, ra, ib, rb);
}

/* ---- what can differ ---------------------------------------------------- */

/* A request can be answered differently only if some rule that matches it
 * differs between the files: added, removed, changed, or out of order with
 * the other unchanged rules (rc_bdiff_run marks them).  With the same
 * policies, a request whose every hop no such rule matches, and whose hops
 * never name a host served by one file only, gets the same trace from both:
 * it is traced in OLD only. */
#define FAST_MAX_PATTERNS 64

typedef struct change_set {
	int full;               /* trace every request in both files */
	unsigned policy;
	str_map exact;          /* normalized (folded) sources of changed exact rules */
	const rc_rule **pats;   /* changed pattern rules */
	size_t npats;
	rc_buf fold;
} change_set;

static void fold_into(rc_buf *b, const char *s, size_t n)
{
	rc_buf_reset(b);
	rc_buf_reserve(b, n + 1);
	for (size_t i = 0; i < n; i++)
		b->data[i] = (char)rd_ascii_lower((unsigned char)s[i]);
	b->len = n;
	b->data[n] = '\0';
}

static void change_add(rc_arena *a, change_set *cs, const rc_rule *r)
{
	if (cs->full)
		return;
	if (r->is_pattern) {
		if (cs->npats == FAST_MAX_PATTERNS) {
			cs->full = 1;
			return;
		}
		cs->pats[cs->npats++] = r;
		return;
	}
	const char *k = r->exact_key;
	if (cs->policy & RD_POLICY_CASE_INSENSITIVE) {
		fold_into(&cs->fold, k, r->exact_len);
		k = rc_arena_strndup(a, cs->fold.data, cs->fold.len);
	}
	map_put(&cs->exact, k, r->exact_len, 1);
}

/* Could a changed rule match this normalized path (any host)? */
static int change_touches(change_set *cs, const char *norm, size_t len)
{
	if (cs->full)
		return 1;
	const char *k = norm;
	if (cs->policy & RD_POLICY_CASE_INSENSITIVE) {
		fold_into(&cs->fold, norm, len);
		k = cs->fold.data;
	}
	if (cs->exact.len && map_get(&cs->exact, k, len) >= 0)
		return 1;
	rd_span caps[RD_MAX_CAPTURES];
	for (size_t i = 0; i < cs->npats; i++)
		if (rd_pattern_match(cs->pats[i]->src, cs->pats[i]->nsrc, norm, len, cs->policy, caps))
			return 1;
	return 0;
}

/* The hosts a rule set serves (host blocks and `set hosts`). */
static void served_map(const rc_ir *ir, str_map *m)
{
	map_init(m, ir->served_hosts.len + 16);
	for (size_t i = 0; i < ir->served_hosts.len; i++) {
		const char *h = *RC_VEC_AT(&ir->served_hosts, char *, i);
		map_put(m, h, strlen(h), 1);
	}
	for (size_t i = 0; i < ir->scopes.len; i++) {
		const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, i);
		for (uint32_t j = 0; j < s->nhosts; j++)
			map_put(m, s->hosts[j], strlen(s->hosts[j]), 1);
	}
}

/* Is the host (canonical, cl bytes) served: named, or admitted by a
 * wildcard name "*.X" of the map? */
static int served_get(const str_map *m, const char *host, size_t cl)
{
	if (map_get(m, host, cl) >= 0)
		return 1;
	char key[520];
	for (const char *d = memchr(host, '.', cl); d && cl + 2 < sizeof key;
	     d = memchr(d + 1, '.', cl - (size_t)(d + 1 - host))) {
		size_t xl = cl - (size_t)(d + 1 - host);
		key[0] = '*';
		memcpy(key + 1, d, xl + 1);
		key[xl + 2] = '\0';
		if (map_get(m, key, xl + 2) >= 0) {
			char *h = rc_xmalloc(cl + 1);
			memcpy(h, host, cl);
			h[cl] = '\0';
			int in = rd_wildcard_admits(key, h);
			free(h);
			if (in)
				return 1;
		}
	}
	return 0;
}

/* ---- traces ------------------------------------------------------------ */

typedef struct scratch {
	rc_buf url[RC_BDIFF_MAX_HOPS + 2];    /* requests made: host '|' path '?' query */
	rc_buf loc[RC_BDIFF_MAX_HOPS + 1];    /* Location of each answer */
	int status[RC_BDIFF_MAX_HOPS + 1];
	int64_t rule;
	uint32_t answers;                     /* answers recorded */
	int loop;
	int touches;                          /* a hop could be answered differently */
} scratch;

static void scratch_init(scratch *s)
{
	for (int i = 0; i < RC_BDIFF_MAX_HOPS + 2; i++)
		rc_buf_init(&s->url[i]);
	for (int i = 0; i < RC_BDIFF_MAX_HOPS + 1; i++)
		rc_buf_init(&s->loc[i]);
}

static void scratch_fini(scratch *s)
{
	for (int i = 0; i < RC_BDIFF_MAX_HOPS + 2; i++)
		rc_buf_fini(&s->url[i]);
	for (int i = 0; i < RC_BDIFF_MAX_HOPS + 1; i++)
		rc_buf_fini(&s->loc[i]);
}

/* Where a Location leads, if the rule set serves it: host (canonical,
 * written into host_out), path and query spans.  0 = stop here. */
typedef struct trace_ctx {
	rc_resolver *rv;
	const str_map *served;       /* this side's */
	const str_map *other_served; /* the other side's, NULL = not asked */
	change_set *cs;              /* NULL = not asked */
} trace_ctx;

static int location_next(const trace_ctx *t, scratch *s, const char *loc, const char *cur_host,
                         char *host_out, size_t host_cap, const char **host,
                         const char **path, size_t *path_len, const char **query,
                         size_t *query_len)
{
	const char *p = loc;
	if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0) {
		p += p[4] == 's' ? 8 : 7;
		size_t hl = strcspn(p, "/?#");
		if (hl == 0 || hl >= host_cap)
			return 0;
		size_t cl = rd_host_canon(p, hl, host_out);
		int served = served_get(t->served, host_out, cl);
		if (t->other_served && served != served_get(t->other_served, host_out, cl))
			s->touches = 1; /* served by one file only */
		if (!served)
			return 0;
		*host = host_out;
		p += hl;
	} else if (p[0] == '/') {
		*host = cur_host;
	} else {
		return 0;
	}
	size_t end = strcspn(p, "#");
	size_t pl = strcspn(p, "?#");
	*path = pl ? p : "/";
	*path_len = pl ? pl : 1;
	if (pl < end && p[pl] == '?') {
		*query = p + pl + 1;
		*query_len = end - pl - 1;
	} else {
		*query = NULL;
		*query_len = 0;
	}
	return 1;
}

static void url_set(rc_buf *b, const char *host, const char *path, size_t pl, const char *q,
                    size_t ql)
{
	rc_buf_reset(b);
	if (host)
		rc_buf_adds(b, host);
	rc_buf_addc(b, '|');
	rc_buf_add(b, path, pl);
	if (q && ql) {
		rc_buf_addc(b, '?');
		rc_buf_add(b, q, ql);
	}
}

static void trace_run(const trace_ctx *t, const char *host, const char *path, scratch *s)
{
	rc_resolver *rv = t->rv;
	char host_buf[2][512];
	/* the request's own query, if the sample has one */
	const char *q = strchr(path, '?');
	size_t pl = q ? (size_t)(q - path) : strlen(path), ql = q ? strlen(q + 1) : 0;
	if (q)
		q++;
	s->answers = 0;
	s->loop = 0;
	s->touches = 0;
	s->rule = -1;
	url_set(&s->url[0], host, path, pl, q, ql);
	for (uint32_t hop = 0; hop <= RC_BDIFF_MAX_HOPS; hop++) {
		rc_fast_answer ans;
		rc_resolve(rv, host, path, pl, q, ql, 1, &ans);
		if (t->cs && rv->norm_len && !s->touches)
			s->touches = change_touches(t->cs, rv->norm, rv->norm_len);
		if (hop == 0)
			s->rule = ans.rule;
		if (!ans.matched) {
			if (hop == 0) {
				s->status[0] = 0;
				rc_buf_reset(&s->loc[0]);
				s->answers = 1;
			}
			return;
		}
		s->status[hop] = ans.status;
		rc_buf_reset(&s->loc[hop]);
		if (ans.location)
			rc_buf_adds(&s->loc[hop], ans.location);
		s->answers = hop + 1;
		if (!ans.location)
			return;
		const char *nhost, *npath, *nq;
		size_t npl, nql;
		/* the next request reads from loc[hop], which stays put; the host
		 * buffers alternate so the current host stays too */
		if (!location_next(t, s, s->loc[hop].data, host, host_buf[hop & 1], sizeof host_buf[0],
		                   &nhost, &npath, &npl, &nq, &nql))
			return;
		url_set(&s->url[hop + 1], nhost, npath, npl, nq, nql);
		for (uint32_t j = 0; j <= hop; j++)
			if (strcmp(s->url[j].data, s->url[hop + 1].data) == 0) {
				s->loop = 1;
				return;
			}
		host = nhost;
		path = npath;
		pl = npl;
		q = nq;
		ql = nql;
		if (hop == RC_BDIFF_MAX_HOPS)
			return;
	}
}

static int traces_equal(const scratch *a, const scratch *b)
{
	if (a->answers != b->answers || a->loop != b->loop)
		return 0;
	for (uint32_t i = 0; i < a->answers; i++) {
		if (a->status[i] != b->status[i])
			return 0;
		if (!rc_location_equal(a->loc[i].data, b->loc[i].data))
			return 0;
	}
	return 1;
}

/* Keep a trace in the diff's arena. */
static void trace_keep(rc_arena *a, const scratch *s, rc_trace *t)
{
	memset(t, 0, sizeof *t);
	t->status = s->status[0];
	t->location = s->loc[0].len ? rc_arena_strdup(a, s->loc[0].data) : NULL;
	t->rule = s->rule;
	t->loop = s->loop;
	t->hops = s->answers ? s->answers - 1 : 0;
	if (t->hops) {
		t->hop_locations = rc_arena_alloc(a, t->hops * sizeof *t->hop_locations);
		t->hop_status = rc_arena_alloc(a, t->hops * sizeof *t->hop_status);
		for (uint32_t i = 0; i < t->hops; i++) {
			t->hop_status[i] = s->status[i + 1];
			t->hop_locations[i] =
			    s->loc[i + 1].len ? rc_arena_strdup(a, s->loc[i + 1].data) : NULL;
		}
	}
}

typedef struct pairing {
	const keyed *ok, *nk;       /* keys of OLD's and NEW's rules */
	int64_t *old_to_new;        /* OLD rule -> NEW rule with its key, -1 */
	int64_t *new_to_old;
	char *same_key_new;         /* per NEW rule: paired with OLD's rule of the same key */
	char *same_new;             /* ... and the same meaning */
	int64_t *old_witness, *new_witness;
} pairing;

static enum rc_bdiff_kind classify(const pairing *p, const scratch *b, const scratch *a)
{
	int first_same = b->status[0] == a->status[0] &&
	                 rc_location_equal(b->loc[0].data, a->loc[0].data);
	if (first_same)
		return a->loop && !b->loop ? RC_BD_LOOP : RC_BD_CHAIN;
	if (a->rule >= 0 && p->new_to_old[a->rule] >= 0 &&
	    (b->rule < 0 || p->new_to_old[a->rule] == b->rule))
		return RC_BD_CHANGED; /* the same rule, its target or host scope changed */
	if (b->rule < 0)
		return RC_BD_ADDED;
	if (p->old_to_new[b->rule] < 0)
		return RC_BD_REMOVED;
	return RC_BD_INTERCEPTED;
}

/* Most hosts of one scope whose requests are tried per sample. */
#define SCOPE_HOSTS_TRIED 8

/* The state of the request walk. */
typedef struct walk {
	rc_bdiff *d;
	const pairing *p;
	trace_ctx before, after;
	rc_resolver *after_rv;      /* built when first needed */
	rc_resolver after_store;
	scratch sb, sa;
	str_map reported;           /* host '|' path of the requests kept */
	rc_vec found[RC_BD_NKINDS]; /* rc_bdiff_request */
} walk;

static void walk_request(walk *w, const char *host, const char *path)
{
	w->d->requests_tried++;
	trace_run(&w->before, host, path, &w->sb);
	if (w->before.cs && !w->sb.touches)
		return; /* no hop meets a changed rule: NEW answers the same */
	if (!w->after_rv) {
		rc_resolver_init(&w->after_store, w->d->new_ir);
		w->after_rv = &w->after_store;
		w->after.rv = w->after_rv;
	}
	trace_run(&w->after, host, path, &w->sa);
	if (traces_equal(&w->sb, &w->sa))
		return;
	size_t hl = host ? strlen(host) : 0, pl = strlen(path);
	char *k = rc_arena_alloc_raw(&w->d->arena, hl + pl + 3);
	k[0] = host ? 'h' : '-';
	memcpy(k + 1, host ? host : "", hl);
	k[1 + hl] = '|';
	memcpy(k + 2 + hl, path, pl + 1);
	if (map_get(&w->reported, k, hl + pl + 2) >= 0)
		return; /* the same request from another rule's samples */
	map_put(&w->reported, k, hl + pl + 2, 1);
	enum rc_bdiff_kind kind = classify(w->p, &w->sb, &w->sa);
	rc_bdiff_request *q = rc_vec_push(&w->found[kind]);
	q->host = host; /* a scope's host: IR memory, which outlives the diff */
	q->path = rc_arena_strdup(&w->d->arena, path);
	q->kind = kind;
	trace_keep(&w->d->arena, &w->sb, &q->before);
	trace_keep(&w->d->arena, &w->sa, &q->after);
}

static void walk_hosts(walk *w, const rc_ir *ir, const rc_rule *r, const char *path)
{
	if (r->scope < 0) {
		walk_request(w, NULL, path);
		return;
	}
	const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, r->scope);
	for (uint32_t h = 0; h < s->nhosts && h < SCOPE_HOSTS_TRIED; h++) {
		const char *host = s->hosts[h];
		if (host[0] == '*') { /* a wildcard: one host it admits (diff arena) */
			if (ir != w->d->old_ir && !w->after_rv) {
				rc_resolver_init(&w->after_store, w->d->new_ir);
				w->after_rv = &w->after_store;
				w->after.rv = w->after_rv;
			}
			host = rc_sample_host(&w->d->arena,
			                      ir == w->d->old_ir ? w->before.rv : w->after_rv, host);
		}
		walk_request(w, host, path);
	}
}

/* The sample requests of every rule of `ir` not marked in `skip` (NULL =
 * all), each for the hosts of its scope.  A rule marked in `with_query`
 * (its meaning changed: the query mode may be what changed) is also asked
 * with a query; when the files' policies differ, every sample is also
 * asked with a trailing '/' and in upper case. */
static void walk_rules(walk *w, const rc_ir *ir, const char *skip, const char *with_query,
                       int policies_differ)
{
	rc_vec samples;
	rc_vec_init(&samples, sizeof(char *));
	rc_arena scratch_arena;
	rc_arena_init(&scratch_arena);
	rc_buf v;
	rc_buf_init(&v);
	for (size_t i = 0; i < ir->rules.len; i++) {
		if (skip && skip[i])
			continue;
		if ((i & 4095) == 4095) { /* the samples are short-lived */
			rc_arena_fini(&scratch_arena);
			rc_arena_init(&scratch_arena);
		}
		const rc_rule *r = rc_ir_rule(ir, i);
		samples.len = 0;
		rc_rule_samples(&scratch_arena, r, 0, 2, &samples);
		for (size_t j = 0; j < samples.len; j++) {
			const char *path = *RC_VEC_AT(&samples, char *, j);
			walk_hosts(w, ir, r, path);
			if (with_query && with_query[i]) {
				rc_buf_reset(&v);
				rc_buf_printf(&v, "%s?redirc=1", path);
				walk_hosts(w, ir, r, v.data);
			}
			if (policies_differ) {
				rc_buf_reset(&v);
				rc_buf_printf(&v, "%s/", path);
				walk_hosts(w, ir, r, v.data);
				rc_buf_reset(&v);
				for (const char *c = path; *c; c++)
					rc_buf_addc(&v, *c >= 'a' && *c <= 'z' ? (char)(*c - 32) : *c);
				walk_hosts(w, ir, r, v.data);
			}
		}
	}
	rc_buf_fini(&v);
	rc_arena_fini(&scratch_arena);
	rc_vec_fini(&samples);
}

/* OLD rule j and NEW rule i have the same source and scope. */
static void pair_one(rc_bdiff *d, pairing *p, char *taken, size_t j, size_t i)
{
	const rc_rule *ro = rc_ir_rule(d->old_ir, j), *rn = rc_ir_rule(d->new_ir, i);
	taken[j] = 1;
	p->old_to_new[j] = (int64_t)i;
	p->new_to_old[i] = (int64_t)j;
	p->same_key_new[i] = 1;
	if (rc_rule_same_answer(ro, rn)) {
		p->same_new[i] = 1;
		d->same++;
		if (ro->loc.line != rn->loc.line)
			d->moved++;
	} else {
		rc_bdiff_rule *c = rc_vec_push(&d->changed);
		c->old_rule = (int64_t)j;
		c->new_rule = (int64_t)i;
	}
}

static int cmp_by_new(const void *a, const void *b)
{
	const rc_bdiff_rule *x = a, *y = b;
	return (x->new_rule > y->new_rule) - (x->new_rule < y->new_rule);
}

static void pair_rules(rc_bdiff *d, pairing *p)
{
	const rc_ir *o = d->old_ir, *n = d->new_ir;
	size_t no = o->rules.len, nn = n->rules.len;
	p->ok = key_rules(&d->arena, o);
	p->nk = key_rules(&d->arena, n);
	p->old_to_new = rc_xmalloc((no + 1) * sizeof(int64_t));
	p->new_to_old = rc_xmalloc((nn + 1) * sizeof(int64_t));
	for (size_t i = 0; i < no; i++)
		p->old_to_new[i] = -1;
	for (size_t i = 0; i < nn; i++)
		p->new_to_old[i] = -1;
	p->same_key_new = calloc(nn + 1, 1);
	p->same_new = calloc(nn + 1, 1);
	char *taken = calloc(no + 1, 1);
	if (!p->same_key_new || !p->same_new || !taken)
		abort();
	/* files under review are mostly the same: pair the common first and
	 * last rules in place (sequential, no hashing) ... */
	size_t pre = 0, suf = 0;
	while (pre < no && pre < nn &&
	       same_key(o, rc_ir_rule(o, pre), &p->ok[pre], n, rc_ir_rule(n, pre), &p->nk[pre])) {
		pair_one(d, p, taken, pre, pre);
		pre++;
	}
	while (suf < no - pre && suf < nn - pre &&
	       same_key(o, rc_ir_rule(o, no - 1 - suf), &p->ok[no - 1 - suf], n,
	                rc_ir_rule(n, nn - 1 - suf), &p->nk[nn - 1 - suf])) {
		pair_one(d, p, taken, no - 1 - suf, nn - 1 - suf);
		suf++;
	}
	/* ... and the rules between by hash; rules with the same hash
	 * (duplicates, or a collision) chained in file order through dup_next */
	hash_rules(o, (keyed *)p->ok, pre, no - suf);
	hash_rules(n, (keyed *)p->nk, pre, nn - suf);
	str_map m;
	map_init(&m, no - suf - pre);
	int64_t *dup_next = rc_xmalloc((no + 1) * sizeof(int64_t));
	int64_t *dup_last = rc_xmalloc((no + 1) * sizeof(int64_t));
	for (size_t i = pre; i < no - suf; i++) {
		dup_next[i] = -1;
		int64_t head = map_put(&m, (const char *)&p->ok[i].key_h, 8, (int64_t)i);
		if (head != (int64_t)i)
			dup_next[dup_last[head]] = (int64_t)i;
		dup_last[head] = (int64_t)i;
	}
	for (size_t i = pre; i < nn - suf; i++) {
		const rc_rule *rn = rc_ir_rule(n, i);
		int64_t j = map_get(&m, (const char *)&p->nk[i].key_h, 8);
		while (j >= 0 && (taken[j] || !same_key(o, rc_ir_rule(o, (size_t)j), &p->ok[j], n, rn,
		                                        &p->nk[i])))
			j = dup_next[j];
		if (j >= 0)
			pair_one(d, p, taken, (size_t)j, i);
	}
	map_fini(&m);
	free(dup_next);
	free(dup_last);
	free(taken);
	/* removed and added rules with the same source: one rule whose host
	 * scope changed (matched in file order) */
	str_map removed_src;
	map_init(&removed_src, 16);
	rc_vec chain; /* int64_t: next removed rule with the same source, -1 */
	rc_vec_init(&chain, sizeof(int64_t));
	int64_t *next_same = rc_xmalloc((no + 1) * sizeof(int64_t));
	int64_t *last_same = rc_xmalloc((no + 1) * sizeof(int64_t));
	for (size_t i = 0; i < no; i++) {
		next_same[i] = -1;
		if (p->old_to_new[i] >= 0)
			continue;
		int64_t head = map_put(&removed_src, (const char *)&p->ok[i].src_h, 8, (int64_t)i);
		if (head != (int64_t)i) {
			next_same[last_same[head]] = (int64_t)i;
			last_same[head] = (int64_t)i;
		} else {
			last_same[i] = (int64_t)i;
		}
	}
	for (size_t i = 0; i < nn; i++) {
		if (p->new_to_old[i] >= 0)
			continue;
		size_t slot = map_slot(&removed_src, (const char *)&p->nk[i].src_h, 8);
		if (removed_src.keys[slot] && removed_src.vals[slot] >= 0 &&
		    same_source(o, rc_ir_rule(o, (size_t)removed_src.vals[slot]), n, rc_ir_rule(n, i))) {
			int64_t j = removed_src.vals[slot];
			removed_src.vals[slot] = next_same[j];
			p->old_to_new[j] = (int64_t)i;
			p->new_to_old[i] = j;
			rc_bdiff_rule *c = rc_vec_push(&d->changed);
			c->old_rule = j;
			c->new_rule = (int64_t)i;
			c->scope_changed = 1;
			continue;
		}
		rc_bdiff_rule *c = rc_vec_push(&d->added);
		c->old_rule = -1;
		c->new_rule = (int64_t)i;
	}
	for (size_t i = 0; i < no; i++)
		if (p->old_to_new[i] < 0) {
			rc_bdiff_rule *c = rc_vec_push(&d->removed);
			c->old_rule = (int64_t)i;
			c->new_rule = -1;
		}
	free(next_same);
	free(last_same);
	if (d->changed.len > 1)
		rc_sort(d->changed.items, d->changed.len, sizeof(rc_bdiff_rule), cmp_by_new);
	rc_vec_fini(&chain);
	map_fini(&removed_src);
}

/* ---- diagnostics on one side only ------------------------------------ */

static int diag_is_analysis(const rc_diag *g)
{
	static const char *const names[] = { "duplicate", "shadowed", "loop", "unbounded",
		                                 "chain", "open-redirect" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(g->name, names[i]) == 0)
			return 1;
	return 0;
}

/* A diagnostic's key: its name and the key of the rule it is reported at
 * (found by location), or its message when no rule starts there. */
static const char *diag_key(rc_arena *a, const rc_ir *ir, const keyed *k, const str_map *at,
                            const rc_diag *g, size_t *len)
{
	char loc[32];
	int ll = snprintf(loc, sizeof loc, "%d:%u:%u", g->loc.file, g->loc.line, g->loc.col);
	int64_t r = map_get(at, loc, (size_t)ll);
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_adds(&b, g->name);
	rc_buf_addc(&b, '\n');
	if (r >= 0) {
		add_source(&b, ir, rc_ir_rule(ir, (size_t)r));
		rc_buf_adds(&b, k[r].scope);
	} else
		rc_buf_adds(&b, g->message);
	char *s = rc_arena_strndup(a, b.data, b.len);
	*len = b.len;
	rc_buf_fini(&b);
	return s;
}

static void rule_locations(rc_arena *a, const rc_ir *ir, str_map *at)
{
	map_init(at, ir->rules.len);
	for (size_t i = 0; i < ir->rules.len; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		char *loc = rc_arena_printf(a, "%d:%u:%u", r->loc.file, r->loc.line, r->loc.col);
		map_put(at, loc, strlen(loc), (int64_t)i);
	}
}

static void diff_diags(rc_bdiff *d, const pairing *p)
{
	const rc_ir *irs[2] = { d->old_ir, d->new_ir };
	const keyed *ks[2] = { p->ok, p->nk };
	str_map at[2], keys[2];
	size_t any = 0;
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < irs[s]->diags->records.len; i++)
			any += diag_is_analysis(RC_VEC_AT(&irs[s]->diags->records, rc_diag, i));
	if (!any)
		return;
	for (int s = 0; s < 2; s++) {
		rule_locations(&d->arena, irs[s], &at[s]);
		map_init(&keys[s], irs[s]->diags->records.len);
		for (size_t i = 0; i < irs[s]->diags->records.len; i++) {
			const rc_diag *g = RC_VEC_AT(&irs[s]->diags->records, rc_diag, i);
			if (!diag_is_analysis(g))
				continue;
			size_t len;
			const char *k = diag_key(&d->arena, irs[s], ks[s], &at[s], g, &len);
			map_put(&keys[s], k, len, (int64_t)i);
		}
	}
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < irs[s]->diags->records.len; i++) {
			const rc_diag *g = RC_VEC_AT(&irs[s]->diags->records, rc_diag, i);
			if (!diag_is_analysis(g))
				continue;
			size_t len;
			const char *k = diag_key(&d->arena, irs[s], ks[s], &at[s], g, &len);
			if (map_get(&keys[1 - s], k, len) >= 0)
				continue;
			rc_bdiff_diag *x = rc_vec_push(&d->diags);
			x->side = s;
			x->diag = g;
		}
	for (int s = 0; s < 2; s++) {
		map_fini(&at[s]);
		map_fini(&keys[s]);
	}
}

/* ---- the whole diff ---------------------------------------------------- */

static void set_witness(rc_vec *rules, const int64_t *old_w, const int64_t *new_w)
{
	for (size_t i = 0; i < rules->len; i++) {
		rc_bdiff_rule *r = RC_VEC_AT(rules, rc_bdiff_rule, i);
		r->witness = -1;
		if (r->new_rule >= 0 && new_w[r->new_rule] >= 0)
			r->witness = new_w[r->new_rule];
		if (r->old_rule >= 0 && old_w[r->old_rule] >= 0 &&
		    (r->witness < 0 || old_w[r->old_rule] < r->witness))
			r->witness = old_w[r->old_rule];
	}
}

/* Mark the rules that differ between the files (both sides) in the change
 * set: unpaired, changed, or out of order among the unchanged ones. */
static void changes_collect(rc_bdiff *d, const pairing *p, change_set *cs)
{
	const rc_ir *o = d->old_ir, *n = d->new_ir;
	memset(cs, 0, sizeof *cs);
	cs->policy = o->policy;
	cs->full = o->policy != n->policy;
	map_init(&cs->exact, 64);
	cs->pats = rc_xmalloc(FAST_MAX_PATTERNS * sizeof *cs->pats);
	rc_buf_init(&cs->fold);
	int64_t max_new = -1;
	for (size_t i = 0; i < o->rules.len && !cs->full; i++) {
		int64_t j = p->old_to_new[i];
		int same = j >= 0 && p->same_new[j];
		if (same && j > max_new) {
			max_new = j; /* in order with the unchanged rules before it */
			continue;
		}
		change_add(&d->arena, cs, rc_ir_rule(o, i));
		if (j >= 0)
			change_add(&d->arena, cs, rc_ir_rule(n, (size_t)j));
	}
	for (size_t i = 0; i < n->rules.len && !cs->full; i++)
		if (p->new_to_old[i] < 0)
			change_add(&d->arena, cs, rc_ir_rule(n, i));
}

static void changes_fini(change_set *cs)
{
	map_fini(&cs->exact);
	free(cs->pats);
	rc_buf_fini(&cs->fold);
}

void rc_bdiff_run(rc_bdiff *d, const rc_ir *old_ir, const rc_ir *new_ir)
{
	memset(d, 0, sizeof *d);
	rc_arena_init(&d->arena);
	d->old_ir = old_ir;
	d->new_ir = new_ir;
	rc_vec_init(&d->added, sizeof(rc_bdiff_rule));
	rc_vec_init(&d->removed, sizeof(rc_bdiff_rule));
	rc_vec_init(&d->changed, sizeof(rc_bdiff_rule));
	rc_vec_init(&d->requests, sizeof(rc_bdiff_request));
	rc_vec_init(&d->diags, sizeof(rc_bdiff_diag));

	pairing p;
	pair_rules(d, &p);
	change_set cs;
	changes_collect(d, &p, &cs);
	d->full_compare = cs.full;

	str_map served[2];
	served_map(old_ir, &served[0]);
	served_map(new_ir, &served[1]);
	rc_resolver before;
	rc_resolver_init(&before, old_ir);
	walk w;
	memset(&w, 0, sizeof w);
	w.d = d;
	w.p = &p;
	w.before = (trace_ctx){ &before, &served[0], cs.full ? NULL : &served[1], cs.full ? NULL : &cs };
	w.after = (trace_ctx){ NULL, &served[1], NULL, NULL };
	scratch_init(&w.sb);
	scratch_init(&w.sa);
	map_init(&w.reported, 64);
	for (int k = 0; k < RC_BD_NKINDS; k++)
		rc_vec_init(&w.found[k], sizeof(rc_bdiff_request));

	/* OLD's rules, then NEW's rules with no rule of the same source and
	 * scope in OLD (the others have the same samples) */
	int policies_differ = old_ir->policy != new_ir->policy;
	char *changed_old = rc_xmalloc(old_ir->rules.len + 1);
	for (size_t i = 0; i < old_ir->rules.len; i++)
		changed_old[i] = p.old_to_new[i] >= 0 && !p.same_new[p.old_to_new[i]];
	walk_rules(&w, old_ir, NULL, changed_old, policies_differ);
	free(changed_old);
	walk_rules(&w, new_ir, p.same_key_new, NULL, policies_differ);

	size_t no = old_ir->rules.len, nn = new_ir->rules.len;
	int64_t *old_w = rc_xmalloc((no + 1) * sizeof(int64_t));
	int64_t *new_w = rc_xmalloc((nn + 1) * sizeof(int64_t));
	for (size_t i = 0; i < no; i++)
		old_w[i] = -1;
	for (size_t i = 0; i < nn; i++)
		new_w[i] = -1;
	/* grouped by kind, each group in the order found */
	for (int k = 0; k < RC_BD_NKINDS; k++) {
		for (size_t i = 0; i < w.found[k].len; i++) {
			rc_bdiff_request *q = RC_VEC_AT(&w.found[k], rc_bdiff_request, i);
			size_t at = d->requests.len;
			*(rc_bdiff_request *)rc_vec_push(&d->requests) = *q;
			if (q->before.rule >= 0 && old_w[q->before.rule] < 0)
				old_w[q->before.rule] = (int64_t)at;
			if (q->after.rule >= 0 && new_w[q->after.rule] < 0)
				new_w[q->after.rule] = (int64_t)at;
		}
		d->per_kind[k] = w.found[k].len;
		rc_vec_fini(&w.found[k]);
	}
	set_witness(&d->added, old_w, new_w);
	set_witness(&d->removed, old_w, new_w);
	set_witness(&d->changed, old_w, new_w);
	diff_diags(d, &p);

	scratch_fini(&w.sb);
	scratch_fini(&w.sa);
	map_fini(&w.reported);
	rc_resolver_fini(&before);
	if (w.after_rv)
		rc_resolver_fini(w.after_rv);
	map_fini(&served[0]);
	map_fini(&served[1]);
	changes_fini(&cs);
	free(old_w);
	free(new_w);
	free((void *)p.ok);
	free((void *)p.nk);
	free(p.old_to_new);
	free(p.new_to_old);
	free(p.same_key_new);
	free(p.same_new);
}

void rc_bdiff_fini(rc_bdiff *d)
{
	rc_vec_fini(&d->added);
	rc_vec_fini(&d->removed);
	rc_vec_fini(&d->changed);
	rc_vec_fini(&d->requests);
	rc_vec_fini(&d->diags);
	rc_arena_fini(&d->arena);
}

const char *rc_bdiff_rule_place(rc_bdiff *d, int side, int64_t rule)
{
	const rc_ir *ir = side ? d->new_ir : d->old_ir;
	const rc_rule *r = rc_ir_rule(ir, (size_t)rule);
	const rc_file *f = rc_diags_file(ir->diags, r->loc.file);
	return rc_arena_printf(&d->arena, "%s:%u", f ? f->path : "?", r->loc.line);
}
