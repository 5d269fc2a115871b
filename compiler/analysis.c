/*
 * analysis.c - rule-set analysis (spec section 4): open-redirect through
 * unserved hosts, duplicate, shadowed, loop, unbounded, chain; and
 * --flatten.
 *
 * Pipeline: build the index (rule_index.c), then
 *   1. open-redirect: absolute targets on hosts neither served nor allowed;
 *   2. duplicate and shadowed, rule by rule in file order.  An exact rule is
 *      shadowed when, for every host it applies to, an earlier rule answers
 *      its path.  A pattern is shadowed when the earlier patterns (and exact
 *      rules, for single paths) cover its language: cover() splits the
 *      segment values at each position into the finitely many classes the
 *      candidates can tell apart and recurses, so the answer is exact;
 *   3. loop, unbounded, chain: requests are followed hop by hop with the
 *      runtime matcher (the index picks the rule, rd_location_build_host makes
 *      the Location), from every exact source and from sample requests of
 *      every pattern, for every host class.  Hops from exact sources on
 *      hosts without a host block are memoized, so the pass is linear.
 *   3b. the symbolic search (check_symbolic) finds the start requests the
 *      samples miss: cycles and chains that need particular segment
 *      values, by unifying targets with sources (doc/analysis.md).
 * A search that reaches its bound says so (`undecided`), never nothing.
 *
 * Every request printed as a witness is replayed through rc_ir_answer (the
 * interpreter `explain` uses) before the diagnostic is queued: what the
 * checker claims is what the runtime does.
 *
 * Loops compare host and normalized path, never the query: the rules match
 * on the path only, so once (host, path) repeats the same rules fire again
 * for ever, whether the query stays the same (`query keep`: /a?x -> /b?x ->
 * /a?x) or grows (a target with its own query appends it on every round).
 */
#include "compiler/analysis.h"

#include "compiler/rule_index.h"

#include <stdlib.h>
#include <string.h>

#ifndef RD_FUZZING
#define HOP_LIMIT 256      /* a walk longer than this is unbounded */
#define PATH_LIMIT 4096    /* a path longer than this is unbounded */
#else
/* The fuzz build (fuzz/build.sh) walks the same code with smaller limits:
 * a growing rule otherwise costs 256 hops of up to 4 KB paths per sample,
 * milliseconds per input under ASan and coverage, and the harness would
 * spend its time there instead of on new inputs. */
#define HOP_LIMIT 24
#define PATH_LIMIT 256
#endif
#define COVER_BUDGET 200000

typedef struct an {
	rc_ir *ir;
	rc_diags *d;
	rc_index x;
	char *dup;          /* per rule: 1 reported as duplicate, 2 as shadowed (it never answers) */
	int32_t *memo;      /* per rule: hops from its source (host class without block); 0 unknown, -1 bad */
	char *reported;     /* per rule: bit 1 loop, 2 unbounded, 4 chain */
} an;

/* ---- small helpers ---------------------------------------------------- */

static const char *file_of(const an *a, rc_loc loc)
{
	const rc_file *f = rc_diags_file(a->d, loc.file);
	return f ? f->path : "?";
}

static char *where(an *a, const rc_rule *r)
{
	return rc_arena_printf(&a->x.arena, "%s:%u:%u", file_of(a, r->loc), r->loc.line, r->loc.col);
}

/* A normalized path as a request path `explain` accepts and normalizes
 * back to the same path. */
static char *encode_path(an *a, const char *p, size_t n)
{
	size_t need = rd_encode_capture(p, n, RD_PART_PATH, NULL, 0);
	char *out = rc_arena_alloc(&a->x.arena, need + 1);
	rd_encode_capture(p, n, RD_PART_PATH, out, need + 1);
	return out;
}

static char *request_text(an *a, const char *host, const char *path, size_t n)
{
	char *enc = encode_path(a, path, n);
	if (!host)
		return enc;
	return rc_arena_printf(&a->x.arena, "http://%s%s", host, enc);
}

static const char *Qs(an *a, const char *s)
{
	return rc_quote(&a->x.arena, s, strlen(s), 120);
}

static int cmp_host(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Is the host (or every host of a wildcard "*.X") served: admitted by a
 * host block or named in `set hosts`? */
static int host_served(const an *a, const char *host)
{
	return rc_index_is_named(&a->x, host) || rc_host_list_covers(&a->ir->served_hosts, host);
}

/* The rule rc_ir_answer picks for (host, normalized path), or -1; with its
 * Location when `loc` is given (heap, caller frees). */
static int64_t replay(an *a, const char *host, const char *path, size_t n, char **loc)
{
	char *enc = encode_path(a, path, n);
	rc_answer ans;
	rc_ir_answer(a->ir, host, enc, strlen(enc), NULL, 0, &ans);
	int64_t r = ans.matched ? (int64_t)ans.rule->index : -1;
	if (loc) {
		*loc = ans.location;
		ans.location = NULL;
	}
	rc_answer_fini(&ans);
	return r;
}

/* ---- 1. open-redirect ------------------------------------------------- */

static void check_open_redirect(an *a)
{
	for (size_t i = 0; i < a->x.n; i++) {
		const rc_rule *r = rc_ir_rule(a->ir, i);
		if (r->gone || !r->target.absolute)
			continue;
		if (host_served(a, r->target.host) || rc_ir_host_is_allowed(a->ir, r->target.host))
			continue;
		rc_diag_add(a->d, RC_SEV_ERROR, "open-redirect", r->target_loc,
		            "target '%s' names host '%s', which is neither served (a host block or "
		            "'set hosts') nor in allow-host, expected 'allow-host %s' or a served host",
		            Qs(a, r->target_text), r->target.host, r->target.host);
	}
}

/* ---- 2. duplicate ----------------------------------------------------- */

static int same_spat(const an *a, const rc_spat *p, const rc_spat *q)
{
	if (p->k != q->k || p->tail != q->tail ||
	    !rc_seg_equal(&a->x, p->prefix, p->plen, q->prefix, q->plen))
		return 0;
	for (uint32_t i = 0; i < p->k; i++) {
		if (p->segs[i].kind != q->segs[i].kind)
			return 0;
		if (p->segs[i].kind == RC_SEG_LIT &&
		    !rc_seg_equal(&a->x, p->segs[i].text, p->segs[i].len, q->segs[i].text, q->segs[i].len))
			return 0;
	}
	return 1;
}

/* The first earlier rule with the same normalized source and host scope. */
static int64_t find_duplicate(an *a, const rc_rule *r)
{
	if (!r->is_pattern) {
		for (int64_t e = a->x.ex_head[r->index]; e >= 0 && e < r->index;
		     e = rc_index_exact_next(&a->x, (size_t)e))
			if (rc_index_same_scope(&a->x, rc_ir_rule(a->ir, (size_t)e), r))
				return e;
		return -1;
	}
	const rc_spat *p = &a->x.pats[a->x.pat_of[r->index]];
	int64_t best = -1;
	const rc_tnode *n = RC_VEC_AT(&a->x.nodes, rc_tnode, p->node);
	for (int32_t q = n->ends[p->tail]; q >= 0; q = a->x.pats[q].next) {
		const rc_spat *o = &a->x.pats[q];
		if (o->rule >= r->index || (best >= 0 && o->rule > best))
			continue;
		if (rc_index_same_scope(&a->x, rc_ir_rule(a->ir, o->rule), r) && same_spat(a, o, p))
			best = o->rule;
	}
	return best;
}

static void report_duplicate(an *a, const rc_rule *r, const rc_rule *first)
{
	int same = rc_rule_same_answer(r, first);
	rc_diag_add(a->d, same ? RC_SEV_WARNING : RC_SEV_ERROR, "duplicate", r->loc,
	            same ? "rule '%s' repeats the rule at %s (same source, hosts, target and status)"
	                 : "rule '%s' has the same source and hosts as the rule at %s, "
	                   "expected one rule per source (the first one wins)",
	            Qs(a, r->source_text), where(a, first));
	rc_diag_note(a->d, first->loc, "'%s' is first defined here", Qs(a, first->source_text));
}

/* ---- 2. shadowed ------------------------------------------------------ */

typedef struct shadow_rec {
	int64_t rule;
	const char *host;
	char *path;
	size_t len;
} shadow_rec;

typedef struct cover_ctx {
	an *a;
	const rc_rule *r;
	const rc_spat *p;
	const char *host;
	rc_vec *recs;      /* shadow_rec: one request per answering rule */
	long budget;
	int strict;
	/* the path chosen so far */
	const char **val;
	uint32_t *vlen;
	uint32_t cap;
} cover_ctx;

enum { C_NONE, C_LIT, C_PARAM, C_PREFIX, C_UNIV };

static int con_at(const rc_spat *p, uint32_t i)
{
	/* a splat after '/' also takes the bare parent, unless no-parent */
	if (p->tail == RC_TAIL_SPLAT && (p->plen == 0 && !p->nopar ? p->k <= i : p->k < i))
		return C_UNIV;
	if (i < p->k)
		return p->segs[i].kind == RC_SEG_PARAM ? C_PARAM : C_LIT;
	if (i == p->k && p->tail == RC_TAIL_SPLAT)
		return C_PREFIX;
	return C_NONE;
}

static int admits_end(const rc_spat *p, uint32_t i, int t)
{
	if (con_at(p, i) == C_UNIV)
		return 1;
	if (p->nopar && p->k == i)
		return t; /* strict: the splat empty after the final '/' */
	return p->k == i && ((p->tail == RC_TAIL_END && !t) || (p->tail == RC_TAIL_SLASH && t));
}

static int accepts_value(const an *a, const rc_spat *p, uint32_t i, const char *v, size_t vl)
{
	switch (con_at(p, i)) {
	case C_UNIV:
	case C_PARAM:
		return 1;
	case C_LIT:
		return rc_seg_equal(&a->x, p->segs[i].text, p->segs[i].len, v, vl);
	case C_PREFIX:
		return rc_seg_has_prefix(&a->x, v, vl, p->prefix, p->plen);
	case C_NONE:
		return 0;
	default:
		abort(); /* a bug: unknown constraint */
	}
}

static char *path_of(cover_ctx *c, uint32_t depth, int t, size_t *len)
{
	rc_buf b;
	rc_buf_init(&b);
	for (uint32_t i = 0; i < depth; i++) {
		rc_buf_addc(&b, '/');
		rc_buf_add(&b, c->val[i], c->vlen[i]);
	}
	if (depth == 0 || t)
		rc_buf_addc(&b, '/');
	char *s = rc_arena_strndup(&c->a->x.arena, b.data, b.len);
	*len = b.len;
	rc_buf_fini(&b);
	return s;
}

static void record(cover_ctx *c, int64_t rule, char *path, size_t len)
{
	for (size_t i = 0; i < c->recs->len; i++)
		if (RC_VEC_AT(c->recs, shadow_rec, i)->rule == rule)
			return;
	shadow_rec *s = rc_vec_push(c->recs);
	s->rule = rule;
	s->host = c->host;
	s->path = path;
	s->len = len;
}

/* One request of the pattern below the chosen prefix: the shortest. */
static char *complete(cover_ctx *c, uint32_t depth, size_t *len)
{
	rc_buf b;
	rc_buf_init(&b);
	size_t l0;
	char *head = path_of(c, depth, 0, &l0);
	if (depth > 0)
		rc_buf_add(&b, head, l0);
	for (uint32_t i = depth;; i++) {
		if (admits_end(c->p, i, 0))
			break;
		int k = con_at(c->p, i);
		rc_buf_addc(&b, '/');
		if (k == C_LIT)
			rc_buf_add(&b, c->p->segs[i].text, c->p->segs[i].len);
		else if (k == C_PREFIX && c->p->plen > 0)
			rc_buf_add(&b, c->p->prefix, c->p->plen);
		else
			rc_buf_addc(&b, 'x');
		if (k == C_PREFIX && c->p->plen > 0)
			break;
		if (k == C_NONE)
			break;
	}
	if (b.len == 0)
		rc_buf_addc(&b, '/');
	char *s = rc_arena_strndup(&c->a->x.arena, b.data, b.len);
	*len = b.len;
	rc_buf_fini(&b);
	return s;
}

/* A value that starts with `base` and with no mentioned string longer than
 * base: base + one byte no mentioned string continues base with. */
static char *fresh_value(cover_ctx *c, const char *base, size_t bl, const char **m,
                         const uint32_t *ml, size_t nm, size_t *outlen)
{
	static const char prefer[] = "xyzqwjkvb0123456789acdefghilmnoprstu-_~";
	unsigned char used[256] = { 0 };
	for (size_t i = 0; i < nm; i++)
		if (ml[i] > bl && rc_seg_has_prefix(&c->a->x, m[i], ml[i], base, bl)) {
			unsigned char ch = (unsigned char)m[i][bl];
			used[ch] = 1;
			if (ch >= 'a' && ch <= 'z')
				used[ch - 32] = 1;
			if (ch >= 'A' && ch <= 'Z')
				used[ch + 32] = 1;
		}
	int pick = -1;
	for (size_t i = 0; prefer[i] && pick < 0; i++)
		if (!used[(unsigned char)prefer[i]])
			pick = (unsigned char)prefer[i];
	for (int ch = 0x80; ch < 0x100 && pick < 0; ch++)
		if (!used[ch])
			pick = ch;
	if (pick < 0)
		return NULL;
	char *v = rc_arena_alloc(&c->a->x.arena, bl + 2);
	memcpy(v, base, bl);
	v[bl] = (char)pick;
	*outlen = bl + 1;
	return v;
}

/* Does q accept every request of p that agrees with the values chosen
 * before position i (q accepted those)?  Then q answers all of them unless
 * an earlier candidate takes part first. */
static int subsumes_rest(const an *a, const rc_spat *q, const rc_spat *p, uint32_t i, int strict)
{
	for (uint32_t j = i;; j++) {
		int kq = con_at(q, j), kp = con_at(p, j);
		if (kq == C_UNIV)
			return 1;
		if (kp == C_UNIV)
			return 0;
		for (int t = 0; t <= (strict && j > 0); t++)
			if (admits_end(p, j, t) && !admits_end(q, j, t))
				return 0;
		if (kp == C_NONE)
			return 1;
		switch (kq) {
		case C_NONE:
			return 0;
		case C_PARAM:
			if (kp == C_PREFIX)
				return 0;
			break;
		case C_LIT:
			if (kp != C_LIT || !rc_seg_equal(&a->x, q->segs[j].text, q->segs[j].len,
			                                 p->segs[j].text, p->segs[j].len))
				return 0;
			break;
		case C_PREFIX:
			/* q accepts everything after a value with its prefix */
			if (q->plen == 0)
				return 1; /* a no-parent splat: any value, then anything */
			if (kp == C_LIT)
				return rc_seg_has_prefix(&a->x, p->segs[j].text, p->segs[j].len,
				                         q->prefix, q->plen);
			if (kp == C_PREFIX)
				return rc_seg_has_prefix(&a->x, p->prefix, p->plen, q->prefix, q->plen);
			return 0;
		default:
			return 0;
		}
	}
}

/* 1 = covered, 0 = a request of the pattern no candidate answers, -1 =
 * undecided (budget spent). */
static int cover(cover_ctx *c, uint32_t i, const int32_t *cand, size_t nc, int singleton)
{
	an *a = c->a;
	if (--c->budget < 0)
		return -1;
	if (i >= c->cap)
		return -1;
	/* a candidate that admits everything of the pattern from here answers
	 * all of it, unless an earlier candidate takes part first */
	int64_t u = -1;
	for (size_t j = 0; j < nc; j++)
		if ((u < 0 || a->x.pats[cand[j]].rule < u) &&
		    subsumes_rest(a, &a->x.pats[cand[j]], c->p, i, c->strict))
			u = a->x.pats[cand[j]].rule;
	int32_t *live = rc_xmalloc(sizeof(int32_t) * (nc + 1));
	size_t nl = 0;
	for (size_t j = 0; j < nc; j++)
		if (u < 0 || a->x.pats[cand[j]].rule <= u)
			live[nl++] = cand[j];
	int result = 1;
	if (u >= 0 && nl == 1) {
		size_t len;
		char *ex = complete(c, i, &len);
		record(c, u, ex, len);
		goto out;
	}
	/* requests that end here */
	for (int t = 0; t <= (c->strict && i > 0); t++) {
		if (!admits_end(c->p, i, t))
			continue;
		int64_t best = -1;
		for (size_t j = 0; j < nl; j++) {
			const rc_spat *q = &a->x.pats[live[j]];
			if (admits_end(q, i, t) && (best < 0 || q->rule < best))
				best = q->rule;
		}
		size_t len;
		char *path = NULL;
		if (singleton) {
			path = path_of(c, i, t, &len);
			for (int64_t e = rc_index_exact_first(&a->x, path, len);
			     e >= 0 && e < c->r->index && (best < 0 || e < best);
			     e = rc_index_exact_next(&a->x, (size_t)e))
				if (rc_index_admits(&a->x, rc_ir_rule(a->ir, (size_t)e), c->host)) {
					best = e;
					break;
				}
		}
		if (best < 0) {
			result = 0;
			goto out;
		}
		if (!path)
			path = path_of(c, i, t, &len);
		record(c, best, path, len);
	}
	/* requests that go on: one value per class the candidates tell apart */
	int rk = con_at(c->p, i);
	if (rk == C_NONE)
		goto out;
	const char **m = rc_xmalloc(sizeof(char *) * (nl + 1));
	uint32_t *ml = rc_xmalloc(sizeof(uint32_t) * (nl + 1));
	char *mlit = rc_xmalloc(nl + 1);
	size_t nm = 0;
	for (size_t j = 0; j < nl; j++) {
		const rc_spat *q = &a->x.pats[live[j]];
		int k = con_at(q, i);
		if (k == C_LIT) {
			m[nm] = q->segs[i].text;
			ml[nm] = q->segs[i].len;
			mlit[nm++] = 1;
		} else if (k == C_PREFIX && q->plen > 0) {
			m[nm] = q->prefix;
			ml[nm] = q->plen;
			mlit[nm++] = 0;
		}
	}
	/* the values: R's literal; or each mentioned literal and prefix in R's
	 * range, plus one value outside every mentioned one */
	const char *base = "";
	uint32_t bl = 0;
	if (rk == C_PREFIX) {
		base = c->p->prefix;
		bl = c->p->plen;
	}
	size_t nv = 0;
	const char **vals = rc_xmalloc(sizeof(char *) * (nm + 2));
	uint32_t *vl = rc_xmalloc(sizeof(uint32_t) * (nm + 2));
	char *vsing = rc_xmalloc(nm + 2);
	if (rk == C_LIT) {
		vals[0] = c->p->segs[i].text;
		vl[0] = c->p->segs[i].len;
		vsing[0] = 1;
		nv = 1;
	} else {
		for (size_t j = 0; j < nm; j++) {
			if (!rc_seg_has_prefix(&a->x, m[j], ml[j], base, bl))
				continue;
			if (!mlit[j] && ml[j] <= bl)
				continue;
			const char *v = m[j];
			size_t vlen = ml[j];
			if (!mlit[j]) {
				v = fresh_value(c, m[j], ml[j], m, ml, nm, &vlen);
				if (!v) {
					result = -1;
					break;
				}
			}
			int seen = 0;
			for (size_t k = 0; k < nv && !seen; k++)
				seen = vsing[k] == mlit[j] && rc_seg_equal(&a->x, vals[k], vl[k], v, vlen) &&
				       (mlit[j] || vl[k] == vlen);
			if (seen)
				continue;
			vals[nv] = v;
			vl[nv] = (uint32_t)vlen;
			vsing[nv++] = mlit[j];
		}
		size_t flen;
		const char *f = result == 1 ? fresh_value(c, base, bl, m, ml, nm, &flen) : NULL;
		if (f) {
			vals[nv] = f;
			vl[nv] = (uint32_t)flen;
			vsing[nv++] = 0;
		} else {
			result = -1;
		}
	}
	int32_t *sub = rc_xmalloc(sizeof(int32_t) * (nl + 1));
	for (size_t v = 0; v < nv && result == 1; v++) {
		size_t ns = 0;
		for (size_t j = 0; j < nl; j++)
			if (accepts_value(a, &a->x.pats[live[j]], i, vals[v], vl[v]))
				sub[ns++] = live[j];
		c->val[i] = vals[v];
		c->vlen[i] = vl[v];
		result = cover(c, i + 1, sub, ns, singleton && vsing[v]);
	}
	free(sub);
	free(vals);
	free(vl);
	free(vsing);
	free(m);
	free(ml);
	free(mlit);
out:
	free(live);
	return result;
}

/* Is the pattern rule r covered by earlier rules admitted for `host`? */
static int pattern_covered(an *a, const rc_rule *r, const char *host, rc_vec *recs)
{
	const rc_spat *p = &a->x.pats[a->x.pat_of[r->index]];
	rc_index_filter(&a->x, host, r->index);
	rc_index_intersecting(&a->x, p);
	rc_index_filter_off(&a->x);
	size_t nf = a->x.found.len;
	int32_t *cand = rc_xmalloc(sizeof(int32_t) * (nf + 1));
	size_t nc = 0;
	for (size_t j = 0; j < nf; j++) {
		int32_t q = *RC_VEC_AT(&a->x.found, int32_t, j);
		const rc_rule *o = rc_ir_rule(a->ir, a->x.pats[q].rule);
		if (o->index < r->index && rc_index_admits(&a->x, o, host))
			cand[nc++] = q;
	}
	int res = 0;
	if (nc > 0) {
		cover_ctx c = { a, r, p, host, recs, COVER_BUDGET,
		                (a->ir->policy & RD_POLICY_TRAILING_STRICT) != 0, NULL, NULL, 0 };
		uint32_t maxk = p->k;
		for (size_t j = 0; j < nc; j++)
			if (a->x.pats[cand[j]].k > maxk)
				maxk = a->x.pats[cand[j]].k;
		c.cap = maxk + 4;
		c.val = rc_xmalloc(sizeof(char *) * c.cap);
		c.vlen = rc_xmalloc(sizeof(uint32_t) * c.cap);
		res = cover(&c, 0, cand, nc, 1);
		free(c.val);
		free(c.vlen);
	}
	free(cand);
	return res;
}

/* Is the exact rule r answered by an earlier rule for `host`? */
static int exact_covered(an *a, const rc_rule *r, const char *host, rc_vec *recs)
{
	int64_t best = -1;
	for (int64_t e = a->x.ex_head[r->index]; e >= 0 && e < r->index;
	     e = rc_index_exact_next(&a->x, (size_t)e))
		if (rc_index_admits(&a->x, rc_ir_rule(a->ir, (size_t)e), host)) {
			best = e;
			break;
		}
	int trailing;
	size_t nseg = rc_index_split(&a->x, r->exact_key, r->exact_len, &trailing);
	rc_index_filter(&a->x, host, r->index);
	rc_index_match_patterns(&a->x, a->x.segs.items, nseg, trailing);
	rc_index_filter_off(&a->x);
	for (size_t j = 0; j < a->x.found.len; j++) {
		const rc_spat *q = &a->x.pats[*RC_VEC_AT(&a->x.found, int32_t, j)];
		const rc_rule *o = rc_ir_rule(a->ir, q->rule);
		if (o->index < r->index && (best < 0 || o->index < best) &&
		    rc_index_admits(&a->x, o, host))
			best = o->index;
	}
	if (best < 0)
		return 0;
	int dup = 0;
	for (size_t i = 0; i < recs->len; i++)
		dup |= RC_VEC_AT(recs, shadow_rec, i)->rule == best;
	if (!dup) {
		shadow_rec *s = rc_vec_push(recs);
		s->rule = best;
		s->host = host;
		s->path = r->exact_key;
		s->len = r->exact_len;
	}
	return 1;
}

static void report_shadowed(an *a, const rc_rule *r, rc_vec *recs)
{
	/* replay every request before saying anything */
	for (size_t i = 0; i < recs->len; i++) {
		shadow_rec *s = RC_VEC_AT(recs, shadow_rec, i);
		int64_t got = replay(a, s->host, s->path, s->len, NULL);
		if (got < 0 || got >= r->index)
			return; /* the proof and the runtime disagree: say nothing */
		s->rule = got;
	}
	/* one note per answering rule, in file order */
	size_t n = recs->len;
	shadow_rec *v = recs->items;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j].rule < v[j - 1].rule; j--) {
			shadow_rec t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (w == 0 || v[w - 1].rule != v[i].rule)
			v[w++] = v[i];
	n = w;
	rc_buf b;
	rc_buf_init(&b);
	for (size_t i = 0; i < n && i < 6; i++) {
		if (i > 0)
			rc_buf_adds(&b, i + 1 == n ? " and " : ", ");
		rc_buf_adds(&b, where(a, rc_ir_rule(a->ir, (size_t)v[i].rule)));
	}
	if (n > 6)
		rc_buf_printf(&b, " and %zu more", n - 6);
	rc_diag_add(a->d, RC_SEV_ERROR, "shadowed", r->loc,
	            "rule is shadowed by the rule%s at %s", n > 1 ? "s" : "", b.data);
	a->dup[r->index] = 2;
	rc_buf_fini(&b);
	for (size_t i = 0; i < n; i++) {
		const rc_rule *o = rc_ir_rule(a->ir, (size_t)v[i].rule);
		char *req = request_text(a, v[i].host, v[i].path, v[i].len);
		if (n == 1 && !r->is_pattern)
			rc_diag_note(a->d, o->loc, "'%s' already matches every request of '%s'",
			             Qs(a, o->source_text), Qs(a, r->source_text));
		else if (n == 1)
			rc_diag_note(a->d, o->loc, "'%s' already matches every request of '%s', "
			             "for example '%s'", Qs(a, o->source_text), Qs(a, r->source_text), req);
		else
			rc_diag_note(a->d, o->loc, "'%s' answers requests of '%s' such as '%s'",
			             Qs(a, o->source_text), Qs(a, r->source_text), req);
	}
}

static void check_duplicate_shadowed(an *a)
{
	rc_vec recs, reps;
	rc_vec_init(&recs, sizeof(shadow_rec));
	rc_vec_init(&reps, sizeof(const char *));
	for (size_t i = 0; i < a->x.n; i++) {
		const rc_rule *r = rc_ir_rule(a->ir, i);
		int64_t d = find_duplicate(a, r);
		if (d >= 0) {
			a->dup[i] = 1;
			report_duplicate(a, r, rc_ir_rule(a->ir, (size_t)d));
			continue;
		}
		/* a rule outside host blocks answers hosts no block names only
		 * through earlier global rules, and those answer for every host:
		 * checking the host-less request decides it */
		uint32_t nh = 1;
		const char *const *hosts = NULL;
		if (r->scope >= 0) {
			reps.len = 0;
			rc_index_scope_reps(&a->x, r->scope, &reps);
			nh = (uint32_t)reps.len;
			hosts = reps.items;
		}
		recs.len = 0;
		int covered = nh > 0;
		for (uint32_t h = 0; h < nh && covered == 1; h++) {
			const char *host = hosts ? hosts[h] : NULL;
			covered = r->is_pattern ? pattern_covered(a, r, host, &recs)
			                        : exact_covered(a, r, host, &recs);
		}
		if (covered == 1 && recs.len > 0)
			report_shadowed(a, r, &recs);
		else if (covered < 0)
			rc_diag_add(a->d, RC_SEV_WARNING, "undecided", r->loc,
			            "the shadowing check for rule '%s' stopped after %d steps without "
			            "an answer (the earlier patterns it overlaps split its requests into "
			            "too many cases); check it with 'redirc explain' on requests of the "
			            "rule, or put literal segments first so fewer patterns overlap",
			            Qs(a, r->source_text), COVER_BUDGET);
	}
	rc_vec_fini(&recs);
	rc_vec_fini(&reps);
}

/* ---- 3. walks: loop, unbounded, chain --------------------------------- */

typedef struct hop {
	const char *host;   /* canonical, NULL = no Host */
	rc_buf path;        /* normalized */
	uint64_t hash;
	int64_t rule;
	rc_buf loc;         /* the Location it gets */
} hop;

typedef struct walk {
	rc_vec hops;        /* hop, reused */
	size_t n;           /* hops in use */
	int scoped;         /* some lookup met a rule of a host block */
	int carry_query;    /* flatten: follow the query too */
	int drop;           /* some hop dropped the query */
	int64_t head;       /* the first hop's exact chain head, if known */
	rc_buf query;
} walk;

enum walk_end { W_END, W_LOOP, W_UNBOUNDED, W_KNOWN_BAD };

static hop *hop_at(walk *w, size_t i)
{
	while (w->hops.len <= i) {
		hop *h = rc_vec_push(&w->hops);
		rc_buf_init(&h->path);
		rc_buf_init(&h->loc);
	}
	return RC_VEC_AT(&w->hops, hop, i);
}

static void walk_init(walk *w)
{
	memset(w, 0, sizeof *w);
	rc_vec_init(&w->hops, sizeof(hop));
	rc_buf_init(&w->query);
}

static void walk_fini(walk *w)
{
	for (size_t i = 0; i < w->hops.len; i++) {
		rc_buf_fini(&RC_VEC_AT(&w->hops, hop, i)->path);
		rc_buf_fini(&RC_VEC_AT(&w->hops, hop, i)->loc);
	}
	rc_vec_fini(&w->hops);
	rc_buf_fini(&w->query);
}

static int host_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* the memo holds for hosts without a host block */
static int memoable(const an *a, const hop *h)
{
	return !rc_index_is_named(&a->x, h->host) && h->rule >= 0 &&
	       !rc_ir_rule(a->ir, (size_t)h->rule)->is_pattern;
}

/* Next request from a Location: returns 0 and fills host and path, or -1
 * when the chain ends there (unserved or allowed host, invalid escape). */
static int next_request(an *a, const char *host, const char *loc, size_t ll,
                        const char **nhost, rc_buf *npath, rc_buf *nquery)
{
	const char *p = loc, *end = loc + ll;
	const char *hash = memchr(loc, '#', ll);
	if (hash)
		end = hash;
	*nhost = host;
	size_t skip = 0;
	if (ll >= 7 && strncmp(loc, "http://", 7) == 0)
		skip = 7;
	else if (ll >= 8 && strncmp(loc, "https://", 8) == 0)
		skip = 8;
	if (skip) {
		const char *h = loc + skip, *he = h;
		while (he < end && *he != '/' && *he != '?')
			he++;
		char *canon = rc_arena_alloc(&a->x.arena, (size_t)(he - h) + 1);
		rd_host_canon(h, (size_t)(he - h), canon);
		/* share the named host's string so states compare cheaply */
		const char *key = canon;
		char *const *hit = a->x.nnamed ? bsearch(&key, a->x.named, a->x.nnamed,
		                                         sizeof(char *), cmp_host) : NULL;
		if (!hit && !host_served(a, canon))
			return -1;
		*nhost = hit ? *hit : canon;
		p = he;
	}
	const char *q = memchr(p, '?', (size_t)(end - p));
	const char *pe = q ? q : end;
	size_t raw = (size_t)(pe - p);
	/* normalize straight into npath (it needs raw + 2 bytes) */
	rc_buf_reset(npath);
	rc_buf_reserve(npath, raw + 2);
	size_t nl;
	int bad = rd_path_normalize(raw ? p : "/", raw ? raw : 1, a->ir->policy, npath->data, &nl);
	npath->len = bad ? 0 : nl;
	npath->data[npath->len] = '\0';
	if (nquery) {
		rc_buf_reset(nquery);
		if (q)
			rc_buf_add(nquery, q + 1, (size_t)(end - q - 1));
	}
	return bad ? -1 : 0;
}

/* Answer one hop: the rule and its Location.  Returns 0, or -1 for pass or
 * 410 (the walk ends). */
static int hop_answer(an *a, walk *w, hop *h)
{
	int scoped = 0;
	h->rule = rc_index_resolve(&a->x, h->host, h->path.data, h->path.len, w->head, &scoped);
	w->head = RC_HEAD_UNKNOWN;
	w->scoped |= scoped;
	if (h->rule < 0)
		return -1;
	const rc_rule *r = rc_ir_rule(a->ir, (size_t)h->rule);
	if (r->gone)
		return -1;
	rd_span caps[RD_MAX_CAPTURES];
	rd_rule view;
	rc_rule_view(a->ir, r, &view);
	if (!rd_pattern_match(r->src, r->nsrc, h->path.data, h->path.len,
	                      a->ir->policy, caps))
		abort(); /* a bug: the index and the matcher disagree */
	const char *q = w->carry_query && w->query.len ? w->query.data : NULL;
	/* build into h->loc; only a Location longer than its buffer is built twice */
	rc_buf_reset(&h->loc);
	size_t need = rd_location_build_host(&view, h->host, h->path.data, caps, q, w->query.len,
	                                     h->loc.data, h->loc.cap);
	if (need + 1 > h->loc.cap) {
		rc_buf_reserve(&h->loc, need);
		rd_location_build_host(&view, h->host, h->path.data, caps, q, w->query.len,
		                       h->loc.data, need + 1);
	}
	h->loc.len = need;
	w->drop |= r->query_drop;
	return 0;
}

/* Follow (host, path) until pass, 410, an unserved host, a repeated URL or
 * the limits.  w->n = redirects made; *total = hops to the end (memo
 * included); *cycle = index of the repeated hop for W_LOOP. */
static enum walk_end walk_run(an *a, walk *w, const char *host, const char *path,
                              size_t len, int use_memo, size_t *total, size_t *cycle,
                              int64_t head)
{
	w->head = head;
	w->n = 0;
	w->scoped = 0;
	w->drop = 0;
	rc_buf_reset(&w->query);
	hop *h = hop_at(w, 0);
	h->host = host;
	rc_buf_reset(&h->path);
	rc_buf_add(&h->path, path, len);
	for (;;) {
		h = hop_at(w, w->n);
		if (hop_answer(a, w, h) != 0) {
			*total = w->n;
			return W_END;
		}
		if (use_memo && memoable(a, h)) {
			int32_t m = a->memo[h->rule];
			if (m < 0)
				return W_KNOWN_BAD;
			if (m > 0) {
				*total = w->n + (size_t)(m - 1);
				return W_END;
			}
		}
		/* a hop that got here is hashed for the loop check (the last hop of
		 * most walks gets no answer and needs none) */
		h->hash = rc_hash_bytes(h->path.data, h->path.len, 0);
		for (size_t j = 0; j < w->n; j++) {
			hop *o = hop_at(w, j);
			if (o->hash == h->hash && host_eq(o->host, h->host) && o->path.len == h->path.len &&
			    memcmp(o->path.data, h->path.data, h->path.len) == 0) {
				*cycle = j;
				return W_LOOP;
			}
		}
		w->n++;
		if (w->n > HOP_LIMIT || h->path.len > PATH_LIMIT)
			return W_UNBOUNDED;
		hop *nx = hop_at(w, w->n);
		h = hop_at(w, w->n - 1);
		if (next_request(a, h->host, h->loc.data, h->loc.len, &nx->host, &nx->path,
		                 w->carry_query ? &w->query : NULL) != 0) {
			*total = w->n;
			return W_END;
		}
	}
}

/* Replay hops [from, to) through rc_ir_answer: each must get the rule and
 * Location the walk saw. */
static int replay_hops(an *a, walk *w, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		hop *h = hop_at(w, i);
		char *loc = NULL;
		int64_t got = replay(a, h->host, h->path.data, h->path.len, &loc);
		int ok = got == h->rule && loc && strcmp(loc, h->loc.data) == 0;
		free(loc);
		if (!ok)
			return 0;
	}
	return 1;
}

static void note_hop(an *a, walk *w, size_t i)
{
	hop *h = hop_at(w, i);
	const rc_rule *r = rc_ir_rule(a->ir, (size_t)h->rule);
	rc_diag_note(a->d, r->loc, "'%s' gets %d '%s' from '%s'",
	             request_text(a, h->host, h->path.data, h->path.len), r->status,
	             Qs(a, h->loc.data), Qs(a, r->source_text));
}

static void report_loop(an *a, walk *w, size_t cycle)
{
	/* blame the first rule of the cycle in file order; start there */
	size_t at = cycle;
	for (size_t i = cycle; i < w->n; i++)
		if (hop_at(w, i)->rule < hop_at(w, at)->rule)
			at = i;
	const rc_rule *r = rc_ir_rule(a->ir, (size_t)hop_at(w, at)->rule);
	if (a->reported[r->index] & 1)
		return;
	if (!replay_hops(a, w, cycle, w->n))
		return;
	a->reported[r->index] |= 1;
	hop *h0 = hop_at(w, at);
	rc_diag_add(a->d, RC_SEV_ERROR, "loop", r->loc,
	            "redirect loop: '%s' comes back to itself after %zu redirect%s",
	            request_text(a, h0->host, h0->path.data, h0->path.len), w->n - cycle,
	            w->n - cycle > 1 ? "s" : "");
	size_t len = w->n - cycle;
	for (size_t k = 0; k < len; k++)
		note_hop(a, w, cycle + (at - cycle + k) % len);
}

static void report_unbounded(an *a, walk *w)
{
	/* the first pattern in file order that fires twice */
	int64_t blame = -1;
	for (size_t i = 0; i < w->n; i++) {
		int64_t ri = hop_at(w, i)->rule;
		if (!rc_ir_rule(a->ir, (size_t)ri)->is_pattern || (blame >= 0 && ri >= blame))
			continue;
		for (size_t j = i + 1; j < w->n; j++)
			if (hop_at(w, j)->rule == ri) {
				blame = ri;
				break;
			}
	}
	if (blame < 0 || (a->reported[blame] & 2))
		return;
	size_t first = 0;
	while (hop_at(w, first)->rule != blame)
		first++;
	size_t shown = w->n - first < 4 ? w->n - first : 4;
	if (!replay_hops(a, w, first, first + shown))
		return;
	a->reported[blame] |= 2;
	const rc_rule *r = rc_ir_rule(a->ir, (size_t)blame);
	hop *h0 = hop_at(w, first);
	/* a `:subdomain.X` target under a wildcard of X grows the host */
	int host_grows = hop_at(w, w->n - 1)->path.len <= h0->path.len &&
	                 !host_eq(h0->host, hop_at(w, w->n - 1)->host);
	rc_diag_add(a->d, RC_SEV_ERROR, "unbounded", r->loc,
	            "rule '%s' feeds itself: '%s' is redirected without end, its %s growing on "
	            "every round", Qs(a, r->source_text),
	            request_text(a, h0->host, h0->path.data, h0->path.len),
	            host_grows ? "host" : "path");
	for (size_t i = first; i < first + shown; i++)
		note_hop(a, w, i);
}

static void report_chain(an *a, const char *host, const char *path, size_t len, size_t total)
{
	walk w;
	walk_init(&w);
	size_t t2 = 0, cyc = 0;
	enum walk_end e = walk_run(a, &w, host, path, len, 0, &t2, &cyc, RC_HEAD_UNKNOWN);
	int64_t first = w.n ? hop_at(&w, 0)->rule : -1;
	int maxc = a->ir->settings.max_chain;
	if (e == W_END && first >= 0 && !(a->reported[first] & 4) && t2 == total &&
	    t2 > (size_t)maxc && replay_hops(a, &w, 0, w.n)) {
		a->reported[first] |= 4;
		const rc_rule *r = rc_ir_rule(a->ir, (size_t)first);
		rc_diag_add(a->d, RC_SEV_WARNING, "chain", r->loc,
		            "'%s' needs %zu redirects, more than max-chain %d; point '%s' at the final "
		            "target (or compile with --flatten)",
		            request_text(a, host, path, len), total, maxc, Qs(a, r->source_text));
		for (size_t i = 0; i < w.n; i++)
			note_hop(a, &w, i);
	}
	walk_fini(&w);
}

/* One start request: run, memoize, report. */
static void walk_start(an *a, walk *w, const char *host, const char *path, size_t len,
                       int64_t head, int *scoped)
{
	size_t total = 0, cycle = 0;
	enum walk_end e = walk_run(a, w, host, path, len, 1, &total, &cycle, head);
	if (scoped)
		*scoped = w->scoped;
	for (size_t i = 0; i < w->n; i++) {
		hop *h = hop_at(w, i);
		if (memoable(a, h))
			a->memo[h->rule] = e == W_END ? (int32_t)(total - i + 1) : -1;
	}
	if (e == W_LOOP)
		report_loop(a, w, cycle);
	else if (e == W_UNBOUNDED)
		report_unbounded(a, w);
	else if (e == W_END && total > (size_t)a->ir->settings.max_chain &&
	         hop_at(w, 0)->rule >= 0 && !(a->reported[hop_at(w, 0)->rule] & 4))
		report_chain(a, host, path, len, total);
}

/* Sample requests of a pattern: placeholders 'x', the splat empty, one
 * segment and two segments. */
static void pattern_samples(an *a, const rc_spat *p, rc_buf out[3])
{
	for (int s = 0; s < 3; s++) {
		rc_buf *b = &out[s];
		rc_buf_reset(b);
		for (uint32_t i = 0; i < p->k; i++) {
			rc_buf_addc(b, '/');
			if (p->segs[i].kind == RC_SEG_PARAM)
				rc_buf_addc(b, 'x');
			else
				rc_buf_add(b, p->segs[i].text, p->segs[i].len);
		}
		if (p->tail == RC_TAIL_SLASH)
			rc_buf_addc(b, '/');
		if (p->tail == RC_TAIL_SPLAT) {
			/* no-parent: the splat empty is only the trailing-slash form */
			if (p->nopar && s == 0 && (a->ir->policy & RD_POLICY_TRAILING_STRICT))
				rc_buf_addc(b, '/');
			else if (p->plen > 0 || s > 0 || p->nopar) {
				rc_buf_addc(b, '/');
				rc_buf_add(b, p->prefix, p->plen);
			}
			if (s >= 1 || (p->nopar && !(a->ir->policy & RD_POLICY_TRAILING_STRICT)))
				rc_buf_adds(b, "y");
			if (s == 2)
				rc_buf_adds(b, "/z");
		}
		if (b->len == 0)
			rc_buf_addc(b, '/');
	}
}

static void check_walks(an *a)
{
	walk w;
	walk_init(&w);
	rc_buf samples[3];
	for (int s = 0; s < 3; s++)
		rc_buf_init(&samples[s]);
	rc_vec reps;
	rc_vec_init(&reps, sizeof(const char *));
	for (size_t i = 0; i < a->x.n; i++) {
		const rc_rule *r = rc_ir_rule(a->ir, i);
		if (a->dup[i])
			continue;
		int ns = 1;
		int64_t head = r->is_pattern ? RC_HEAD_UNKNOWN : (int64_t)a->x.ex_head[i];
		const char *paths[3];
		size_t lens[3];
		if (r->is_pattern) {
			pattern_samples(a, &a->x.pats[a->x.pat_of[i]], samples);
			ns = 3;
			for (int s = 0; s < 3; s++) {
				paths[s] = samples[s].data;
				lens[s] = samples[s].len;
			}
		} else {
			paths[0] = r->exact_key;
			lens[0] = r->exact_len;
		}
		for (int s = 0; s < ns; s++) {
			if (r->scope >= 0) {
				reps.len = 0;
				rc_index_scope_reps(&a->x, r->scope, &reps);
				for (size_t h = 0; h < reps.len; h++)
					walk_start(a, &w, *RC_VEC_AT(&reps, const char *, h), paths[s], lens[s],
					           head, NULL);
				continue;
			}
			int scoped = 0;
			walk_start(a, &w, NULL, paths[s], lens[s], head, &scoped);
			/* the host-less walk met a host block rule: every named host
			 * may go its own way */
			if (scoped || (r->target.absolute && rc_index_is_named(&a->x, r->target.host)))
				for (size_t h = 0; h < a->x.nreps; h++)
					walk_start(a, &w, a->x.named[a->x.reps[h]], paths[s], lens[s], head, NULL);
		}
	}
	for (int s = 0; s < 3; s++)
		rc_buf_fini(&samples[s]);
	rc_vec_fini(&reps);
	walk_fini(&w);
}

/* ---- 3b. symbolic search for cycles through pattern rules -------------
 *
 * The sample walks above start from one request per pattern; a cycle that
 * needs particular segment values is found here instead.  A request is a
 * term: a list of segment items (a constant or a variable standing for one
 * segment) and an optional rest variable (zero or more segments).  A rule
 * whose source is literal segments and placeholders with an optional final
 * splat, and whose target path is whole-segment literals, captures and a
 * final splat, maps terms to terms: unify the term with the source (the
 * rest variable is expanded as needed), then instantiate the target.
 *
 * From every pattern rule r0 of a strongly connected component of the
 * "target can meet source" graph, the search applies rules of the component
 * no earlier than r0 in file order, depth first, and after each step asks
 * whether r0 can fire again (unify the term with a fresh copy of r0's
 * source).  When it can, the start term, its variables replaced by fresh
 * constants no literal of the file equals or starts with (the most general
 * request: no earlier rule intercepts it unless it intercepts them all),
 * is walked concretely with the runtime matcher, which reports `loop` or
 * `unbounded` as above.  doc/analysis.md gives the argument. */

#define SYM_MAX 40          /* items in a term */
#define SYM_BUDGET 20000    /* unifications per start rule */

typedef struct sitem {
	int32_t var;        /* >= 0: a variable; -1: the constant t */
	uint32_t len;
	const char *t;
} sitem;

typedef struct sterm {
	sitem it[SYM_MAX];
	uint32_t n;
	uint8_t rest;       /* ends in the rest variable */
} sterm;

typedef struct sstate {
	sterm t0, tc;       /* the start request and the current one */
	int32_t nvars;
	const char *host0;  /* the start request's host (NULL = none) */
	const char *host;   /* the current request's host */
} sstate;

enum { TS_LIT, TS_PARAM, TS_REST };

typedef struct tseg {
	uint8_t kind;
	uint8_t capture;
	uint32_t len;
	const char *t;
} tseg;

typedef struct srule {
	int ok;             /* usable symbolically */
	const char *thost;  /* absolute target into a served host: that host */
	const char *sub_x;  /* a `:subdomain.X` target's host: ".X" (the host is
	                     * SUB.X for the SUB of the request's host) */
	tseg *segs;
	uint32_t nsegs;
	const rc_spat *p;
} srule;

typedef struct sym {
	an *a;
	srule *rules;       /* per rule */
	int32_t *comp;      /* per rule: SCC id, -1 none */
	int32_t *succ_off, *succ; /* per pattern rule: successors */
	char fresh;         /* first byte of fresh constants */
	long budget;
	int cut;            /* the search was cut (depth, size or budget) */
	int found;          /* a report came out of this SCC */
	int64_t r0;
	uint32_t depth_max;
	int chain_mode;     /* looking for requests that need > max-chain hops */
	uint64_t stack[16]; /* sym_sig of the terms on the current path */
	uint32_t maxk;      /* segments of the longest source pattern */
	rc_vec seen;        /* uint64_t hashes of witnesses walked */
	walk w;
	rc_vec reps;
	rc_vec hosts;       /* hosts made by `:subdomain` targets (one pointer each) */
} sym;

/* The host of a request whose chain left the served hosts. */
static const char host_gone[] = "(gone)";
#define SYM_HOSTS_MAX 256

/* The target path of r as segments; 0 when it is not whole segments. */
static int template_of(an *a, const rc_rule *r, srule *s)
{
	if (r->gone)
		return 0;
	if (r->target.absolute && !r->target.sub_host && !host_served(a, r->target.host))
		return 0; /* the chain ends on a host the rules do not serve */
	rc_vec segs;
	rc_vec_init(&segs, sizeof(tseg));
	rc_buf cur;
	rc_buf_init(&cur);
	int ok = 1, open = 0, cap = -1, mixed = 0, after_rest = 0;
	uint32_t t0 = 0;
	if (r->target.absolute && r->target.sub_host) {
		/* LIT "scheme://", SUBDOMAIN, LIT ".X[:port]" (grammar/target.c) */
		s->sub_x = r->target.host + 1;
		t0 = 3;
	} else if (r->target.absolute) {
		const char *key = r->target.host;
		char *const *hit = a->x.nnamed ? bsearch(&key, a->x.named, a->x.nnamed,
		                                         sizeof(char *), cmp_host) : NULL;
		s->thost = hit ? *hit : r->target.host;
		t0 = 1;
	}
	for (uint32_t t = t0; t <= r->target.ntoks && ok; t++) {
		const rd_ttok *k = t < r->target.ntoks ? &r->target.toks[t] : NULL;
		int stop = !k || k->kind == RD_TTOK_CAP_QUERY ||
		           (k->kind == RD_TTOK_LIT && k->len && k->text[0] == '?');
		if (k && k->kind == RD_TTOK_SUBDOMAIN && !stop) {
			ok = 0; /* `:subdomain` in the path: walked from samples only */
			break;
		}
		const char *txt = k && k->kind == RD_TTOK_LIT ? k->text : "";
		uint32_t len = k && k->kind == RD_TTOK_LIT && !stop ? k->len : 0;
		if (k && k->kind == RD_TTOK_LIT && !stop) {
			const char *qm = memchr(txt, '?', len);
			if (qm) {
				len = (uint32_t)(qm - txt);
				stop = 1;
			}
		}
		if (k && k->kind == RD_TTOK_CAP_PATH && !stop) {
			if (cap >= 0 || cur.len)
				mixed = 1;
			cap = k->capture;
			open = 1;
			continue;
		}
		/* literal bytes (or the end): close segments at each '/' */
		for (uint32_t i = 0; i <= len && ok; i++) {
			int end = i == len;
			if (end && !stop)
				break;
			char c = end ? '/' : txt[i];
			if (c == '%') {
				ok = 0;
				break;
			}
			if (c != '/') {
				if (cap >= 0)
					mixed = 1;
				rc_buf_addc(&cur, a->x.fold ? (char)rd_ascii_lower((unsigned char)c) : c);
				open = 1;
				continue;
			}
			if (open) {
				if (after_rest || mixed)
					ok = 0;
				else if (cap >= 0) {
					tseg *g = rc_vec_push(&segs);
					g->kind = (uint32_t)cap == r->nparams && r->has_splat ? TS_REST : TS_PARAM;
					g->capture = (uint8_t)cap;
					after_rest = g->kind == TS_REST;
				} else if ((cur.len == 1 && cur.data[0] == '.') ||
				           (cur.len == 2 && cur.data[0] == '.' && cur.data[1] == '.')) {
					ok = 0;
				} else {
					tseg *g = rc_vec_push(&segs);
					g->kind = TS_LIT;
					g->len = (uint32_t)cur.len;
					g->t = rc_arena_strndup(&a->x.arena, cur.data, cur.len);
				}
			}
			rc_buf_reset(&cur);
			cap = -1;
			mixed = 0;
			open = 0;
		}
		if (stop)
			break;
	}
	if (ok) {
		s->nsegs = (uint32_t)segs.len;
		s->segs = rc_arena_alloc(&a->x.arena, sizeof(tseg) * (segs.len + 1));
		if (segs.len)
			memcpy(s->segs, segs.items, sizeof(tseg) * segs.len);
	}
	rc_vec_fini(&segs);
	rc_buf_fini(&cur);
	return ok;
}

static void sym_bind(sstate *st, int32_t v, sitem x, sitem *extra, uint32_t nextra)
{
	sterm *ts[2] = { &st->t0, &st->tc };
	for (int j = 0; j < 2; j++)
		for (uint32_t i = 0; i < ts[j]->n; i++)
			if (ts[j]->it[i].var == v)
				ts[j]->it[i] = x;
	for (uint32_t i = 0; i < nextra; i++)
		if (extra[i].var == v)
			extra[i] = x;
}

/* The rest variable becomes `add` fresh variables, then (keep) a new rest
 * variable, or nothing.  Returns 0 when a term would grow too long. */
static int sym_expand(sstate *st, uint32_t add, int keep)
{
	sterm *ts[2] = { &st->t0, &st->tc };
	for (int j = 0; j < 2; j++) {
		if (!ts[j]->rest)
			continue;
		if (ts[j]->n + add > SYM_MAX)
			return 0;
		for (uint32_t i = 0; i < add; i++) {
			sitem *it = &ts[j]->it[ts[j]->n + i];
			it->var = st->nvars + (int32_t)i;
			it->t = NULL;
			it->len = 0;
		}
		ts[j]->n += add;
		ts[j]->rest = (uint8_t)keep;
	}
	st->nvars += (int32_t)add;
	return 1;
}

/* Unify the current term with the source of rule p; on success the
 * captures (items) and the splat (items from `*splat_from`, plus the rest
 * variable when the current term still has it) are set. */
static int sym_unify(sym *S, sstate *st, const rc_spat *p, sitem *caps, uint32_t *splat_from)
{
	an *a = S->a;
	if (--S->budget < 0) {
		S->cut = 1;
		return 0;
	}
	sterm *T = &st->tc;
	/* a no-parent splat takes at least one segment */
	uint32_t need = p->k + (p->nopar ? 1 : 0);
	if (T->n < need) {
		if (!T->rest || !sym_expand(st, need - T->n, 1)) {
			if (T->rest)
				S->cut = 1;
			return 0;
		}
	}
	for (uint32_t i = 0; i < p->k; i++) {
		if (p->segs[i].kind != RC_SEG_LIT)
			continue;
		sitem *it = &T->it[i];
		if (it->var < 0) {
			if (!rc_seg_equal(&a->x, it->t, it->len, p->segs[i].text, p->segs[i].len))
				return 0;
		} else {
			sitem c = { -1, p->segs[i].len, p->segs[i].text };
			sym_bind(st, it->var, c, NULL, 0);
		}
	}
	if (p->tail != RC_TAIL_SPLAT) {
		if (T->n > p->k)
			return 0;
		if (T->rest)
			sym_expand(st, 0, 0);
	}
	uint32_t np = 0;
	for (uint32_t i = 0; i < p->k; i++)
		if (p->segs[i].kind == RC_SEG_PARAM)
			caps[np++] = T->it[i];
	*splat_from = p->k;
	return 1;
}

/* Apply rule ri to the current term (already unified with its source). */
static int sym_apply(sym *S, sstate *st, const srule *s, const sitem *caps, uint32_t splat_from)
{
	sterm out;
	out.n = 0;
	out.rest = 0;
	const sterm *T = &st->tc;
	for (uint32_t i = 0; i < s->nsegs; i++) {
		const tseg *g = &s->segs[i];
		if (g->kind == TS_REST) {
			for (uint32_t j = splat_from; j < T->n; j++) {
				if (out.n >= SYM_MAX) {
					S->cut = 1;
					return 0;
				}
				out.it[out.n++] = T->it[j];
			}
			out.rest = T->rest;
			continue;
		}
		if (out.n >= SYM_MAX) {
			S->cut = 1;
			return 0;
		}
		if (g->kind == TS_LIT) {
			sitem c = { -1, g->len, g->t };
			out.it[out.n++] = c;
		} else {
			out.it[out.n++] = caps[g->capture];
		}
	}
	st->tc = out;
	return 1;
}

/* Does pattern e match every request the current term stands for? */
static int sym_covers(sym *S, const sstate *st, const rc_spat *e)
{
	const sterm *T = &st->tc;
	if (e->tail == RC_TAIL_SPLAT && e->plen > 0)
		return 0;
	if (T->n < e->k || (e->tail != RC_TAIL_SPLAT && (T->n != e->k || T->rest)))
		return 0;
	if (e->nopar && T->n == e->k)
		return 0; /* the rest may be empty: the bare parent */
	for (uint32_t i = 0; i < e->k; i++) {
		if (e->segs[i].kind != RC_SEG_LIT)
			continue;
		if (T->it[i].var >= 0 ||
		    !rc_seg_equal(&S->a->x, T->it[i].t, T->it[i].len, e->segs[i].text, e->segs[i].len))
			return 0;
	}
	return 1;
}

/* First match: does a rule before ri answer every request of the current
 * term (then ri never fires on it)? */
static int sym_intercepted(sym *S, const sstate *st, size_t ri)
{
	an *a = S->a;
	const sterm *T = &st->tc;
	int ground = !T->rest;
	rc_sseg segbuf[SYM_MAX + 1];
	rc_spat tp;
	memset(&tp, 0, sizeof tp);
	tp.segs = segbuf;
	tp.prefix = "";
	tp.tail = T->rest ? RC_TAIL_SPLAT : RC_TAIL_END;
	for (uint32_t i = 0; i < T->n; i++) {
		ground &= T->it[i].var < 0;
		segbuf[i].kind = T->it[i].var < 0 ? RC_SEG_LIT : RC_SEG_PARAM;
		segbuf[i].text = T->it[i].t;
		segbuf[i].len = T->it[i].len;
	}
	tp.k = T->n;
	if (ground) {
		rc_buf b;
		rc_buf_init(&b);
		for (uint32_t i = 0; i < T->n; i++) {
			rc_buf_addc(&b, '/');
			rc_buf_add(&b, T->it[i].t, T->it[i].len);
		}
		if (b.len == 0)
			rc_buf_addc(&b, '/');
		int scoped = 0;
		int64_t got = rc_index_resolve(&a->x, st->host, b.data, b.len, RC_HEAD_UNKNOWN, &scoped);
		rc_buf_fini(&b);
		return got != (int64_t)ri;
	}
	rc_index_filter(&a->x, st->host, (uint32_t)ri);
	rc_index_intersecting(&a->x, &tp);
	rc_index_filter_off(&a->x);
	for (size_t j = 0; j < a->x.found.len; j++) {
		const rc_spat *e = &a->x.pats[*RC_VEC_AT(&a->x.found, int32_t, j)];
		if (e->rule < ri && rc_index_admits(&a->x, rc_ir_rule(a->ir, e->rule), st->host) &&
		    sym_covers(S, st, e))
			return 1;
	}
	return 0;
}

/* The host a `:subdomain.X` target of rule ri sends a request on `host`
 * to: SUB.X, one pointer per host (states compare hosts by pointer);
 * host_gone when no rule set serves it; NULL (the search is cut) past
 * SYM_HOSTS_MAX hosts. */
static const char *sym_sub_host(sym *S, size_t ri, const char *host)
{
	an *a = S->a;
	const rc_rule *r = rc_ir_rule(a->ir, ri);
	rd_rule view;
	rc_rule_view(a->ir, r, &view);
	size_t n = rd_host_subdomain(&view, host);
	char *h = rc_arena_printf(&a->x.arena, "%.*s%s", (int)n, host ? host : "", S->rules[ri].sub_x);
	if (!host_served(a, h))
		return host_gone;
	const char *key = h;
	char *const *hit = a->x.nnamed ? bsearch(&key, a->x.named, a->x.nnamed,
	                                         sizeof(char *), cmp_host) : NULL;
	if (hit)
		return *hit;
	for (size_t i = 0; i < S->hosts.len; i++)
		if (strcmp(*RC_VEC_AT(&S->hosts, const char *, i), h) == 0)
			return *RC_VEC_AT(&S->hosts, const char *, i);
	if (S->hosts.len >= SYM_HOSTS_MAX) {
		S->cut = 1;
		return NULL;
	}
	*(const char **)rc_vec_push(&S->hosts) = h;
	return h;
}

/* A fresh copy of rule r's source as the current term, unified with tc:
 * can r fire on the current term?  (Done on a copy of the state.) */
static int sym_step(sym *S, sstate *st, size_t ri)
{
	const srule *s = &S->rules[ri];
	sitem caps[RD_MAX_CAPTURES + 1];
	uint32_t splat_from = 0;
	if (st->host == host_gone ||
	    !rc_index_admits(&S->a->x, rc_ir_rule(S->a->ir, ri), st->host))
		return 0;
	if (!sym_unify(S, st, s->p, caps, &splat_from))
		return 0;
	if (sym_intercepted(S, st, ri))
		return 0;
	if (s->thost)
		st->host = s->thost;
	else if (s->sub_x && !(st->host = sym_sub_host(S, ri, st->host)))
		return 0;
	return sym_apply(S, st, s, caps, splat_from);
}

/* Walk the most general requests of t0 concretely, on the host the search
 * started from: variables become fresh constants, and the rest variable
 * every number of fresh segments up to one more than the longest source
 * (a rule of fixed length may take the shorter ones first). */
static void sym_witness_one(sym *S, const sstate *st, uint32_t extra);

static void sym_witness(sym *S, const sstate *st)
{
	uint32_t most = st->t0.rest && S->maxk + 1 > st->t0.n ? S->maxk + 1 - st->t0.n : 0;
	for (uint32_t e = 0; e <= most; e++)
		sym_witness_one(S, st, e);
}

static void sym_witness_one(sym *S, const sstate *st, uint32_t extra)
{
	an *a = S->a;
	rc_buf b;
	rc_buf_init(&b);
	for (uint32_t i = 0; i < st->t0.n; i++) {
		const sitem *it = &st->t0.it[i];
		rc_buf_addc(&b, '/');
		if (it->var < 0)
			rc_buf_add(&b, it->t, it->len);
		else
			rc_buf_printf(&b, "%c%d", S->fresh, (int)it->var);
	}
	for (uint32_t i = 0; i < extra; i++)
		rc_buf_printf(&b, "/%cr%u", S->fresh, i);
	if (b.len == 0)
		rc_buf_addc(&b, '/');
	uint64_t h = rc_hash_bytes(b.data, b.len, (uint64_t)(uintptr_t)st->host0);
	for (size_t i = 0; i < S->seen.len; i++)
		if (*RC_VEC_AT(&S->seen, uint64_t, i) == h) {
			rc_buf_fini(&b);
			return;
		}
	*(uint64_t *)rc_vec_push(&S->seen) = h;
	size_t before = a->d->records.len;
	walk_start(a, &S->w, st->host0, b.data, b.len, RC_HEAD_UNKNOWN, NULL);
	if (a->d->records.len != before)
		S->found = 1;
	rc_buf_fini(&b);
}

/* Unify the current term with the start term: the requests that come back
 * to themselves along the rules applied so far. */
static int sym_unify_terms(sym *S, sstate *st)
{
	sterm *A = &st->t0, *B = &st->tc;
	if (A->rest != B->rest) {
		const sterm *R = A->rest ? A : B, *O = A->rest ? B : A;
		if (O->n < R->n || !sym_expand(st, O->n - R->n, 0))
			return 0;
	} else if (A->n != B->n) {
		return 0;
	}
	for (uint32_t i = 0; i < A->n; i++) {
		sitem x = A->it[i], y = B->it[i];
		if (x.var < 0 && y.var < 0) {
			if (!rc_seg_equal(&S->a->x, x.t, x.len, y.t, y.len))
				return 0;
		} else if (x.var >= 0) {
			if (x.var != y.var)
				sym_bind(st, x.var, y, NULL, 0);
		} else {
			sym_bind(st, y.var, x, NULL, 0);
		}
	}
	return 1;
}

/* The current term up to a renaming of its variables, with the rule that
 * produced it. */
static uint64_t sym_sig(const sstate *st, size_t ri)
{
	int32_t map[SYM_MAX];
	uint32_t nm = 0;
	uint64_t h = rc_hash_bytes(&ri, sizeof ri, st->tc.rest);
	h = rc_hash_bytes(&st->host, sizeof st->host, h);
	for (uint32_t i = 0; i < st->tc.n; i++) {
		const sitem *it = &st->tc.it[i];
		if (it->var < 0) {
			h = rc_hash_bytes(it->t, it->len, h ^ 0x9e37u);
			continue;
		}
		uint32_t k = 0;
		while (k < nm && map[k] != it->var)
			k++;
		if (k == nm)
			map[nm++] = it->var;
		h = rc_hash_bytes(&k, sizeof k, h ^ 0x7f4au);
	}
	return h;
}

static void sym_dfs(sym *S, const sstate *st, size_t ri, uint32_t depth)
{
	an *a = S->a;
	/* the same term (up to renaming) after the same rule on this path: the
	 * rules repeat from here; the walk of the start request decides */
	uint64_t sig = sym_sig(st, ri);
	for (uint32_t d = 0; d + 1 < depth && d < 16; d++)
		if (S->stack[d] == sig) {
			sym_witness(S, st);
			return;
		}
	if (depth - 1 < 16)
		S->stack[depth - 1] = sig;
	sstate c;
	if (S->chain_mode) {
		if (depth >= S->depth_max) {
			sym_witness(S, st);
			return;
		}
		int32_t pi = a->x.pat_of[ri];
		for (int32_t e = S->succ_off[pi]; e < S->succ_off[pi + 1] && !S->found; e++) {
			c = *st;
			if (sym_step(S, &c, (size_t)S->succ[e]))
				sym_dfs(S, &c, (size_t)S->succ[e], depth + 1);
			if (S->budget < 0)
				return;
		}
		return;
	}
	/* can r0 fire again? */
	c = *st;
	sitem caps[RD_MAX_CAPTURES + 1];
	uint32_t sf;
	if (c.host != host_gone && rc_index_admits(&a->x, rc_ir_rule(a->ir, (size_t)S->r0), c.host) &&
	    sym_unify(S, &c, S->rules[S->r0].p, caps, &sf))
		sym_witness(S, &c);
	/* does the current request equal the start one? */
	c = *st;
	if (c.host == c.host0 && sym_unify_terms(S, &c))
		sym_witness(S, &c);
	if (depth >= S->depth_max) {
		S->cut = 1;
		return;
	}
	int32_t pi = a->x.pat_of[ri];
	for (int32_t e = S->succ_off[pi]; e < S->succ_off[pi + 1]; e++) {
		size_t si = (size_t)S->succ[e];
		if ((int64_t)si < S->r0 || S->comp[si] != S->comp[S->r0])
			continue;
		c = *st;
		if (sym_step(S, &c, si))
			sym_dfs(S, &c, si, depth + 1);
		if (S->budget < 0)
			return;
	}
}

/* Tarjan's strongly connected components over the pattern rules, without
 * recursion. */
static void sym_scc(sym *S)
{
	an *a = S->a;
	size_t np = a->x.npats;
	int32_t *idx = malloc(sizeof(int32_t) * (np + 1)), *low = malloc(sizeof(int32_t) * (np + 1));
	int32_t *stk = malloc(sizeof(int32_t) * (np + 1)), *cs = malloc(sizeof(int32_t) * (np + 1));
	int32_t *ce = malloc(sizeof(int32_t) * (np + 1));
	char *on = calloc(np + 1, 1);
	if (!idx || !low || !stk || !cs || !ce || !on)
		abort();
	for (size_t i = 0; i < np; i++)
		idx[i] = -1;
	int32_t counter = 0, sp = 0, ncomp = 0;
	for (size_t root = 0; root < np; root++) {
		if (idx[root] >= 0)
			continue;
		int32_t csp = 0;
		cs[csp] = (int32_t)root;
		ce[csp++] = -1;
		while (csp > 0) {
			int32_t v = cs[csp - 1];
			if (ce[csp - 1] < 0) {
				idx[v] = low[v] = counter++;
				stk[sp++] = v;
				on[v] = 1;
				ce[csp - 1] = S->succ_off[v];
			}
			int pushed = 0;
			while (ce[csp - 1] < S->succ_off[v + 1]) {
				int32_t wq = a->x.pat_of[S->succ[ce[csp - 1]]];
				ce[csp - 1]++;
				if (idx[wq] < 0) {
					cs[csp] = wq;
					ce[csp++] = -1;
					pushed = 1;
					break;
				}
				if (on[wq] && idx[wq] < low[v])
					low[v] = idx[wq];
			}
			if (pushed)
				continue;
			if (low[v] == idx[v]) {
				int32_t wq, size = 0;
				do {
					wq = stk[--sp];
					on[wq] = 0;
					S->comp[a->x.pats[wq].rule] = ncomp;
					size++;
				} while (wq != v);
				ncomp++;
			}
			csp--;
			if (csp > 0) {
				int32_t u = cs[csp - 1];
				if (low[v] < low[u])
					low[u] = low[v];
			}
		}
	}
	free(idx); free(low); free(stk); free(cs); free(ce); free(on);
}

/* The start state of rule ri: its source with fresh variables. */
static void sym_start(sym *S, sstate *st, size_t ri, const char *host)
{
	memset(st, 0, sizeof *st);
	const rc_spat *p = S->rules[ri].p;
	for (uint32_t i = 0; i < p->k; i++) {
		sitem *it = &st->t0.it[i];
		if (p->segs[i].kind == RC_SEG_LIT) {
			it->var = -1;
			it->t = p->segs[i].text;
			it->len = p->segs[i].len;
		} else {
			it->var = st->nvars++;
		}
	}
	st->t0.n = p->k;
	st->t0.rest = p->tail == RC_TAIL_SPLAT;
	st->tc = st->t0;
	st->host0 = st->host = host;
}

static void check_symbolic(an *a)
{
	size_t np = a->x.npats;
	if (np == 0)
		return;
	sym S;
	memset(&S, 0, sizeof S);
	S.a = a;
	S.rules = calloc(a->x.n + 1, sizeof(srule));
	S.comp = malloc(sizeof(int32_t) * (a->x.n + 1));
	S.succ_off = calloc(np + 2, sizeof(int32_t));
	if (!S.rules || !S.comp || !S.succ_off)
		abort();
	rc_vec_init(&S.seen, sizeof(uint64_t));
	rc_vec_init(&S.reps, sizeof(const char *));
	rc_vec_init(&S.hosts, sizeof(const char *));
	walk_init(&S.w);
	/* fresh constants start with a byte no literal or prefix starts with */
	unsigned char used[256] = { 0 };
	for (size_t q = 0; q < np; q++) {
		const rc_spat *p = &a->x.pats[q];
		if (p->k > S.maxk && p->k < SYM_MAX)
			S.maxk = p->k;
		for (uint32_t i = 0; i < p->k; i++)
			if (p->segs[i].kind == RC_SEG_LIT && p->segs[i].len)
				used[(unsigned char)p->segs[i].text[0]] = 1;
		if (p->plen)
			used[(unsigned char)p->prefix[0]] = 1;
	}
	for (size_t i = 0; i < a->x.n; i++) {
		const rc_rule *r = rc_ir_rule(a->ir, i);
		uint32_t k = 0;
		for (uint32_t j = 0; !r->is_pattern && j < r->exact_len && k <= 16; j++)
			k += r->exact_key[j] == '/';
		if (k > S.maxk)
			S.maxk = k;
	}
	if (S.maxk > 16)
		S.maxk = 16;
	static const char prefer[] = "qzjxkvwyubcdefghilmnoprsta";
	S.fresh = 0;
	for (size_t i = 0; prefer[i] && !S.fresh; i++)
		if (!used[(unsigned char)prefer[i]] && !used[(unsigned char)prefer[i] - 32])
			S.fresh = prefer[i];
	for (size_t i = 0; i < a->x.n; i++) {
		S.comp[i] = -1;
		const rc_rule *r = rc_ir_rule(a->ir, i);
		if (!r->is_pattern || a->dup[i])
			continue; /* duplicate and shadowed rules never answer */
		srule *s = &S.rules[i];
		s->p = &a->x.pats[a->x.pat_of[i]];
		/* a source longer than a term holds is walked from samples only
		 * (doc/analysis.md), like the other shapes the search leaves out */
		s->ok = s->p->k < SYM_MAX && (s->p->tail != RC_TAIL_SPLAT || s->p->plen == 0) &&
		        template_of(a, r, s);
	}
	/* edges: the target template as a pattern, asked of the index */
	rc_vec succ;
	rc_vec_init(&succ, sizeof(int32_t));
	rc_sseg segbuf[SYM_MAX + 1];
	for (size_t q = 0; q < np; q++) {
		S.succ_off[q] = (int32_t)succ.len;
		size_t ri = a->x.pats[q].rule;
		srule *s = &S.rules[ri];
		if (!s->ok || s->nsegs > SYM_MAX)
			continue;
		rc_spat tp;
		memset(&tp, 0, sizeof tp);
		tp.segs = segbuf;
		tp.prefix = "";
		tp.tail = RC_TAIL_END;
		for (uint32_t i = 0; i < s->nsegs; i++) {
			if (s->segs[i].kind == TS_REST) {
				tp.tail = RC_TAIL_SPLAT;
				break;
			}
			segbuf[tp.k].kind = s->segs[i].kind == TS_LIT ? RC_SEG_LIT : RC_SEG_PARAM;
			segbuf[tp.k].text = s->segs[i].t;
			segbuf[tp.k].len = s->segs[i].len;
			tp.k++;
		}
		rc_index_intersecting(&a->x, &tp);
		for (size_t j = 0; j < a->x.found.len; j++) {
			int32_t o = *RC_VEC_AT(&a->x.found, int32_t, j);
			size_t orule = a->x.pats[o].rule;
			if (S.rules[orule].ok)
				*(int32_t *)rc_vec_push(&succ) = (int32_t)orule;
		}
	}
	S.succ_off[np] = (int32_t)succ.len;
	S.succ = succ.items;
	sym_scc(&S);
	/* components with a cycle: more than one rule, or a rule feeding itself */
	int32_t ncomp = 0;
	for (size_t i = 0; i < a->x.n; i++)
		if (S.comp[i] >= ncomp)
			ncomp = S.comp[i] + 1;
	int32_t *csize = calloc((size_t)ncomp + 1, sizeof(int32_t));
	char *self = calloc(a->x.n + 1, 1);
	char *cfound = calloc((size_t)ncomp + 1, 1);
	int64_t *cfirst = malloc(sizeof(int64_t) * ((size_t)ncomp + 1));
	char *ccut = calloc((size_t)ncomp + 1, 1);
	char *chost = calloc((size_t)ncomp + 1, 1);
	if (!csize || !self || !cfound || !cfirst || !ccut || !chost)
		abort();
	for (int32_t c = 0; c < ncomp; c++)
		cfirst[c] = -1;
	for (size_t q = 0; q < np; q++) {
		size_t ri = a->x.pats[q].rule;
		if (S.comp[ri] < 0)
			continue;
		csize[S.comp[ri]]++;
		const rc_rule *rr = rc_ir_rule(a->ir, ri);
		if (rr->scope >= 0 || S.rules[ri].thost || S.rules[ri].sub_x)
			chost[S.comp[ri]] = 1;
		if (cfirst[S.comp[ri]] < 0)
			cfirst[S.comp[ri]] = (int64_t)ri;
		for (int32_t e = S.succ_off[q]; e < S.succ_off[q + 1]; e++)
			if ((size_t)S.succ[e] == ri)
				self[ri] = 1;
	}
	for (size_t q = 0; q < np; q++) {
		size_t ri = a->x.pats[q].rule;
		int32_t c = S.comp[ri];
		if (c < 0 || !S.rules[ri].ok || (csize[c] < 2 && !self[ri]))
			continue;
		S.r0 = (int64_t)ri;
		S.cut = 0;
		S.found = 0;
		S.depth_max = 2 * (uint32_t)csize[c] + 2;
		if (S.depth_max > 12)
			S.depth_max = 12;
		S.seen.len = 0;
		/* the hosts to start from: r0's scope; for a global rule no Host,
		 * and each host class when the component holds a host block rule
		 * or an absolute target */
		const rc_rule *r = rc_ir_rule(a->ir, ri);
		S.reps.len = 0;
		if (r->scope >= 0) {
			rc_index_scope_reps(&a->x, r->scope, &S.reps);
		} else {
			*(const char **)rc_vec_push(&S.reps) = NULL;
			if (chost[c])
				for (size_t k = 0; k < a->x.nreps; k++)
					*(const char **)rc_vec_push(&S.reps) = a->x.named[a->x.reps[k]];
		}
		for (size_t hi = 0; hi < S.reps.len && !S.found; hi++) {
		S.budget = SYM_BUDGET;
		sstate st;
		sym_start(&S, &st, ri, *RC_VEC_AT(&S.reps, const char *, hi));
		if (sym_step(&S, &st, ri))
			sym_dfs(&S, &st, ri, 1);
		}
		cfound[c] |= (char)S.found;
		ccut[c] |= (char)S.cut;
	}
	/* chains: a path of max-chain + 1 pattern rules from each pattern rule */
	S.chain_mode = 1;
	S.depth_max = (uint32_t)a->ir->settings.max_chain + 1;
	for (size_t q = 0; q < np && S.depth_max <= 16; q++) {
		size_t ri = a->x.pats[q].rule;
		const rc_rule *r = rc_ir_rule(a->ir, ri);
		if (!S.rules[ri].ok || (a->reported[ri] & 7) || S.succ_off[q] == S.succ_off[q + 1])
			continue;
		S.r0 = (int64_t)ri;
		S.found = 0;
		S.seen.len = 0;
		S.reps.len = 0;
		if (r->scope >= 0) {
			rc_index_scope_reps(&a->x, r->scope, &S.reps);
		} else {
			*(const char **)rc_vec_push(&S.reps) = NULL;
			for (size_t k = 0; k < a->x.nreps && (S.rules[ri].thost || a->x.nreps < 64); k++)
				*(const char **)rc_vec_push(&S.reps) = a->x.named[a->x.reps[k]];
		}
		for (size_t hi = 0; hi < S.reps.len && !(a->reported[ri] & 7); hi++) {
			S.budget = SYM_BUDGET;
			sstate st;
			sym_start(&S, &st, ri, *RC_VEC_AT(&S.reps, const char *, hi));
			if (sym_step(&S, &st, ri))
				sym_dfs(&S, &st, ri, 1);
		}
	}
	/* a component where a loop or growth is reported already needs that
	 * fixed first; one where the search was cut otherwise gets `undecided` */
	for (size_t i = 0; i < a->x.n; i++)
		if (S.comp[i] >= 0 && (a->reported[i] & 3))
			cfound[S.comp[i]] = 1;
	for (int32_t c = 0; c < ncomp; c++) {
		if (!ccut[c] || cfound[c] || cfirst[c] < 0)
			continue;
		const rc_rule *r = rc_ir_rule(a->ir, (size_t)cfirst[c]);
		if (a->reported[r->index] & 3)
			continue;
		rc_diag_add(a->d, RC_SEV_WARNING, "undecided", r->loc,
		            "the loop check for rule '%s' and the %d pattern rule%s that can follow it "
		            "stopped at its search bound without an answer; check the requests it "
		            "redirects with 'redirc explain', or split the rules so fewer targets "
		            "meet other sources", Qs(a, r->source_text), csize[c] - 1,
		            csize[c] - 1 == 1 ? "" : "s");
	}
	free(csize); free(self); free(cfound); free(cfirst); free(ccut); free(chost);
	rc_vec_fini(&succ);
	rc_vec_fini(&S.seen);
	rc_vec_fini(&S.reps);
	rc_vec_fini(&S.hosts);
	walk_fini(&S.w);
	free(S.rules);
	free(S.comp);
	free(S.succ_off);
}

/* The hosts SUB.NAME told apart for `:subdomain` targets were capped
 * (rule_index.c): say so once, never a silent pass. */
static void check_hosts_cut(an *a)
{
	for (size_t i = 0; i < a->x.n && a->x.hosts_cut; i++) {
		const rc_rule *r = rc_ir_rule(a->ir, i);
		if (!r->target.sub_host)
			continue;
		if (!(a->reported[i] & 3))
			rc_diag_add(a->d, RC_SEV_WARNING, "undecided", r->loc,
			            "the loop check followed ':subdomain' targets from the named hosts "
			            "to at most %d other hosts (a target that adds labels makes such "
			            "chains endless) without an answer; check the requests of rule '%s' "
			            "with 'redirc explain'",
			            RC_SUB_HOSTS_MAX, Qs(a, r->source_text));
		break;
	}
}

/* ---- entry points ----------------------------------------------------- */

static void an_init(an *a, rc_ir *ir)
{
	memset(a, 0, sizeof *a);
	a->ir = ir;
	a->d = ir->diags;
	rc_index_init(&a->x, ir);
	a->dup = calloc(a->x.n + 1, 1);
	a->memo = calloc(a->x.n + 1, sizeof *a->memo);
	a->reported = calloc(a->x.n + 1, 1);
	if (!a->dup || !a->memo || !a->reported)
		abort();
}

static void an_fini(an *a)
{
	free(a->dup);
	free(a->memo);
	free(a->reported);
	rc_index_fini(&a->x);
}

void rc_check_analysis(rc_ir *ir)
{
	an a;
	an_init(&a, ir);
	check_open_redirect(&a);
	check_duplicate_shadowed(&a);
	check_walks(&a);
	check_symbolic(&a);
	check_hosts_cut(&a);
	an_fini(&a);
}

/* --flatten: an exact rule whose request takes more than one redirect gets
 * the final Location as its target (computed without a request query, so
 * the target's own queries are carried), its first hop's status, and
 * `query drop` when any hop drops the query: for every request query the
 * flattened rule answers what the chain answered.  Rules whose chain
 * depends on the Host (a host block rule met on the way) are left alone
 * unless every host of their scope ends at the same Location. */
static int flat_target(an *a, walk *w, const char *host, const rc_rule *r, char **final, int *drop)
{
	size_t total = 0, cycle = 0;
	w->carry_query = 1;
	enum walk_end e = walk_run(a, w, host, r->exact_key, r->exact_len, 0, &total, &cycle,
	                           (int64_t)a->x.ex_head[r->index]);
	w->carry_query = 0;
	if (e != W_END || w->n < 2 || hop_at(w, 0)->rule != r->index)
		return 0;
	/* a Location made from the Host stands for one host only */
	for (size_t i = 0; i < w->n; i++)
		if (rc_ir_rule(a->ir, (size_t)hop_at(w, i)->rule)->target.uses_subdomain)
			return 0;
	*final = rc_arena_strndup(&a->ir->arena, hop_at(w, w->n - 1)->loc.data,
	                          hop_at(w, w->n - 1)->loc.len);
	*drop = w->drop;
	return 1;
}

static void set_target(an *a, rc_rule *r, const char *loc, int drop)
{
	rc_arena *A = &a->ir->arena;
	rc_target *t = &r->target;
	const char *hash = strchr(loc, '#');
	size_t body = hash ? (size_t)(hash - loc) : strlen(loc);
	memset(t, 0, sizeof *t);
	t->toks = rc_arena_alloc(A, sizeof(rd_ttok) * 2);
	size_t off = 0;
	if (strncmp(loc, "http://", 7) == 0 || strncmp(loc, "https://", 8) == 0) {
		size_t sl = loc[4] == ':' ? 4 : 5;
		const char *h = loc + sl + 3, *he = h;
		while (he < loc + body && *he != '/' && *he != '?')
			he++;
		t->absolute = 1;
		t->scheme = sl == 4 ? "http" : "https";
		t->prefix = rc_arena_strndup(A, loc, (size_t)(he - loc));
		const char *colon = memchr(h, ':', (size_t)(he - h));
		size_t hl = colon ? (size_t)(colon - h) : (size_t)(he - h);
		t->host = rc_arena_alloc(A, hl + 1);
		rd_host_canon(h, hl, t->host);
		t->port = colon ? atoi(colon + 1) : 0;
		off = (size_t)(he - loc);
		t->toks[t->ntoks].kind = RD_TTOK_LIT;
		t->toks[t->ntoks].text = t->prefix;
		t->toks[t->ntoks].len = (uint32_t)off;
		t->ntoks++;
	}
	if (body > off) {
		t->toks[t->ntoks].kind = RD_TTOK_LIT;
		t->toks[t->ntoks].text = rc_arena_strndup(A, loc + off, body - off);
		t->toks[t->ntoks].len = (uint32_t)(body - off);
		t->ntoks++;
	}
	t->has_query = memchr(loc + off, '?', body - off) != NULL;
	if (hash)
		t->fragment = rc_arena_strdup(A, hash);
	r->target_text = rc_arena_strndup(A, loc, strlen(loc));
	r->query_drop = drop;
}

size_t rc_flatten(rc_ir *ir)
{
	an a;
	an_init(&a, ir);
	walk w;
	walk_init(&w);
	rc_vec reps;
	rc_vec_init(&reps, sizeof(const char *));
	size_t changed = 0;
	for (size_t i = 0; i < a.x.n; i++) {
		rc_rule *r = rc_ir_rule(ir, i);
		if (r->is_pattern || r->gone)
			continue;
		char *final = NULL, *other = NULL;
		int drop = 0, drop2 = 0, ok;
		if (r->scope < 0) {
			ok = flat_target(&a, &w, NULL, r, &final, &drop) && !w.scoped &&
			     !(r->target.absolute && rc_index_is_named(&a.x, r->target.host));
		} else {
			reps.len = 0;
			rc_index_scope_reps(&a.x, r->scope, &reps);
			const char **hs = reps.items;
			ok = reps.len > 0 && flat_target(&a, &w, hs[0], r, &final, &drop);
			for (size_t h = 1; h < reps.len && ok; h++)
				ok = flat_target(&a, &w, hs[h], r, &other, &drop2) &&
				     strcmp(other, final) == 0 && drop2 == drop;
		}
		if (!ok)
			continue;
		set_target(&a, r, final, drop);
		changed++;
	}
	rc_vec_fini(&reps);
	walk_fini(&w);
	an_fini(&a);
	return changed;
}
