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
 *      runtime matcher (the index picks the rule, rd_location_build makes
 *      the Location), from every exact source and from sample requests of
 *      every pattern, for every host class.  Hops from exact sources on
 *      hosts without a host block are memoized, so the pass is linear.
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
	char *dup;          /* per rule: reported as duplicate */
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

static int host_in_list(const rc_vec *v, const char *host)
{
	for (size_t i = 0; i < v->len; i++)
		if (strcmp(*RC_VEC_AT(v, char *, i), host) == 0)
			return 1;
	return 0;
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
		if (rc_index_is_named(&a->x, r->target.host) ||
		    host_in_list(&a->ir->served_hosts, r->target.host) ||
		    host_in_list(&a->ir->allow_hosts, r->target.host))
			continue;
		rc_diag_add(a->d, RC_SEV_ERROR, "open-redirect", r->target_loc,
		            "target '%s' names host '%s', which is neither served (a host block or "
		            "'set hosts') nor in allow-host, expected 'allow-host %s' or a served host",
		            Qs(a, r->target_text), r->target.host, r->target.host);
	}
}

/* ---- 2. duplicate ----------------------------------------------------- */

static int same_target(const rc_rule *a, const rc_rule *b)
{
	if (a->gone != b->gone || a->status != b->status || a->query_drop != b->query_drop)
		return 0;
	if (a->gone)
		return 1;
	if (a->target.ntoks != b->target.ntoks)
		return 0;
	for (uint32_t i = 0; i < a->target.ntoks; i++) {
		const rd_ttok *x = &a->target.toks[i], *y = &b->target.toks[i];
		if (x->kind != y->kind || x->capture != y->capture || x->len != y->len ||
		    (x->len && memcmp(x->text, y->text, x->len) != 0))
			return 0;
	}
	const char *fa = a->target.fragment ? a->target.fragment : "";
	const char *fb = b->target.fragment ? b->target.fragment : "";
	return strcmp(fa, fb) == 0;
}

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
		if (same_spat(a, o, p) && rc_index_same_scope(&a->x, rc_ir_rule(a->ir, o->rule), r))
			best = o->rule;
	}
	return best;
}

static void report_duplicate(an *a, const rc_rule *r, const rc_rule *first)
{
	int same = same_target(r, first);
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
	if (p->tail == RC_TAIL_SPLAT && (p->plen == 0 ? p->k <= i : p->k < i))
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
		else if (k == C_PREFIX)
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

/* 1 = covered, 0 = a request of the pattern no candidate answers, -1 =
 * undecided (budget spent). */
static int cover(cover_ctx *c, uint32_t i, const int32_t *cand, size_t nc, int singleton)
{
	an *a = c->a;
	if (--c->budget < 0)
		return -1;
	if (i >= c->cap)
		return -1;
	/* a candidate that admits everything from here answers all of it,
	 * unless an earlier candidate takes part first */
	int64_t u = -1;
	for (size_t j = 0; j < nc; j++)
		if (con_at(&a->x.pats[cand[j]], i) == C_UNIV &&
		    (u < 0 || a->x.pats[cand[j]].rule < u))
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
	rc_index_intersecting(&a->x, p);
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
		res = cover(&c, 0, cand, nc, 1) == 1;
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
	rc_index_match_patterns(&a->x, a->x.segs.items, nseg, trailing);
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
		for (uint32_t h = 0; h < nh && covered; h++) {
			const char *host = hosts ? hosts[h] : NULL;
			covered = r->is_pattern ? pattern_covered(a, r, host, &recs)
			                        : exact_covered(a, r, host, &recs);
		}
		if (covered && recs.len > 0)
			report_shadowed(a, r, &recs);
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
		if (!hit && !host_in_list(&a->ir->served_hosts, canon))
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
	size_t need = rd_location_build(&view, h->path.data, caps, q, w->query.len,
	                                h->loc.data, h->loc.cap);
	if (need + 1 > h->loc.cap) {
		rc_buf_reserve(&h->loc, need);
		rd_location_build(&view, h->path.data, caps, q, w->query.len, h->loc.data, need + 1);
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
	rc_diag_add(a->d, RC_SEV_ERROR, "unbounded", r->loc,
	            "rule '%s' feeds itself: '%s' is redirected without end, its path growing on "
	            "every round", Qs(a, r->source_text),
	            request_text(a, h0->host, h0->path.data, h0->path.len));
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
	else if (e == W_END && total > (size_t)a->ir->settings.max_chain && w->n > 0 &&
	         !(a->reported[hop_at(w, 0)->rule] & 4))
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
			if (p->plen > 0 || s > 0) {
				rc_buf_addc(b, '/');
				rc_buf_add(b, p->prefix, p->plen);
			}
			if (s >= 1)
				rc_buf_adds(b, "y");
			if (s == 2)
				rc_buf_adds(b, "/z");
		}
		if (b->len == 0)
			rc_buf_addc(b, '/');
	}
	(void)a;
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
