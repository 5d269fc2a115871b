/*
 * analysis_index.c - the index the analysis passes ask instead of
 * comparing pairs of rules: exact sources in a hash table, patterns in a
 * segment trie, host scopes as canonical sets.  See analysis.h.
 */
#include "compiler/rule_index.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_text(const rc_index *x, const char *s, size_t n, uint64_t seed)
{
	if (!x->fold)
		return rc_hash_bytes(s, n, seed * 0x9E3779B97F4A7C15ull);
	uint64_t h = 1469598103934665603ull ^ (seed * 0x9E3779B97F4A7C15ull);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		h ^= x->fold ? rd_ascii_lower(c) : c;
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

int rc_seg_equal(const rc_index *x, const char *a, size_t al, const char *b, size_t bl)
{
	return rd_bytes_equal(a, al, b, bl, x->fold ? RD_POLICY_CASE_INSENSITIVE : 0);
}

int rc_seg_has_prefix(const rc_index *x, const char *v, size_t vl, const char *p, size_t pl)
{
	return vl >= pl && rc_seg_equal(x, v, pl, p, pl);
}

static char *fold_copy(rc_index *x, const char *s, size_t n)
{
	char *c = rc_arena_alloc(&x->arena, n + 1);
	for (size_t i = 0; i < n; i++)
		c[i] = x->fold ? (char)rd_ascii_lower((unsigned char)s[i]) : s[i];
	return c;
}

/* ---- exact sources ---------------------------------------------------- */

/* A slot holds the key's hash in the high half and rule index + 1 in the
 * low half, so a probe touches a rule only when the hashes agree.  At 1M
 * rules the table is 16 MB and each probe a cache miss, while most lookups
 * (a redirect's target in a chain walk) are for paths no rule has; so a
 * lookup first tests one bit of ex_bits (8 bits a key, 1 MB at 1M rules),
 * which is clear for about 88 % of the absent paths. */
static uint64_t ex_bit(const rc_index *x, uint64_t h)
{
	return (h >> 32) & (x->ex_cap * 4 - 1);
}

static void exact_build(rc_index *x)
{
	size_t nexact = 0;
	for (size_t i = 0; i < x->n; i++)
		nexact += !rc_ir_rule(x->ir, i)->is_pattern;
	x->ex_cap = 16;
	while (x->ex_cap < nexact * 2)
		x->ex_cap *= 2;
	x->ex_slot = calloc(x->ex_cap, sizeof *x->ex_slot);
	x->ex_bits = calloc(x->ex_cap * 4 / 64, sizeof *x->ex_bits);
	x->ex_next = calloc(x->n + 1, sizeof *x->ex_next);
	x->ex_head = calloc(x->n + 1, sizeof *x->ex_head);
	uint32_t *tail = calloc(x->ex_cap, sizeof *tail);
	if (!x->ex_slot || !x->ex_bits || !x->ex_next || !x->ex_head || !tail)
		abort();
	for (size_t i = 0; i < x->n; i++) {
		const rc_rule *r = rc_ir_rule(x->ir, i);
		if (r->is_pattern)
			continue;
		size_t m = x->ex_cap - 1;
		uint64_t h = hash_text(x, r->exact_key, r->exact_len, 1);
		uint64_t tag = h & 0xffffffff00000000ull;
		uint64_t bit = ex_bit(x, h);
		x->ex_bits[bit / 64] |= 1ull << (bit % 64);
		for (size_t s = (size_t)h & m;; s = (s + 1) & m) {
			if (x->ex_slot[s] == 0) {
				x->ex_slot[s] = tag | ((uint64_t)i + 1);
				tail[s] = (uint32_t)i + 1;
				x->ex_head[i] = (uint32_t)i;
				break;
			}
			if ((x->ex_slot[s] & 0xffffffff00000000ull) != tag)
				continue;
			const rc_rule *o = rc_ir_rule(x->ir, (uint32_t)x->ex_slot[s] - 1);
			if (rc_seg_equal(x, o->exact_key, o->exact_len, r->exact_key, r->exact_len)) {
				x->ex_next[tail[s] - 1] = (uint32_t)i + 1;
				tail[s] = (uint32_t)i + 1;
				x->ex_head[i] = (uint32_t)x->ex_slot[s] - 1;
				break;
			}
		}
	}
	free(tail);
}

int64_t rc_index_exact_first(const rc_index *x, const char *path, size_t len)
{
	size_t m = x->ex_cap - 1;
	uint64_t h = hash_text(x, path, len, 1);
	uint64_t tag = h & 0xffffffff00000000ull;
	uint64_t bit = ex_bit(x, h);
	if (!(x->ex_bits[bit / 64] & (1ull << (bit % 64))))
		return -1; /* no exact key has this hash */
	for (size_t s = (size_t)h & m;; s = (s + 1) & m) {
		uint64_t v = x->ex_slot[s];
		if (v == 0)
			return -1;
		if ((v & 0xffffffff00000000ull) != tag)
			continue;
		const rc_rule *o = rc_ir_rule(x->ir, (uint32_t)v - 1);
		if (rc_seg_equal(x, o->exact_key, o->exact_len, path, len))
			return (int64_t)(uint32_t)v - 1;
	}
}

int64_t rc_index_exact_next(const rc_index *x, size_t rule)
{
	return (int64_t)x->ex_next[rule] - 1;
}

/* ---- segment patterns ------------------------------------------------- */

/* A rule's normalized source tokens as a segment pattern. */
static void spat_from_rule(rc_index *x, const rc_rule *r, rc_spat *p)
{
	rc_vec segs;
	rc_vec_init(&segs, sizeof(rc_sseg));
	rc_buf cur;
	rc_buf_init(&cur);
	int started = 0, cur_param = 0, splat = 0;
	for (uint32_t t = 0; t < r->nsrc; t++) {
		const rd_ptok *tok = &r->src[t];
		if (tok->kind == RD_PTOK_PARAM) {
			rc_sseg *s = rc_vec_push(&segs);
			s->kind = RC_SEG_PARAM;
			cur_param = 1;
			continue;
		}
		if (tok->kind == RD_PTOK_SPLAT) {
			splat = 1;
			continue;
		}
		for (uint32_t i = 0; i < tok->len; i++) {
			char c = tok->text[i];
			if (c != '/') {
				rc_buf_addc(&cur, c);
				continue;
			}
			if (started && !cur_param) {
				rc_sseg *s = rc_vec_push(&segs);
				s->kind = RC_SEG_LIT;
				s->len = (uint32_t)cur.len;
				s->text = fold_copy(x, cur.data, cur.len);
			}
			started = 1;
			cur_param = 0;
			rc_buf_reset(&cur);
		}
	}
	p->prefix = "";
	p->plen = 0;
	p->nopar = 0;
	if (splat) {
		p->tail = RC_TAIL_SPLAT;
		p->prefix = fold_copy(x, cur.data, cur.len);
		p->plen = (uint32_t)cur.len;
		p->nopar = cur.len == 0 && segs.len > 0 && (x->policy & RD_POLICY_SPLAT_NO_PARENT);
	} else if (cur_param) {
		p->tail = RC_TAIL_END;
	} else if (cur.len > 0) {
		rc_sseg *s = rc_vec_push(&segs);
		s->kind = RC_SEG_LIT;
		s->len = (uint32_t)cur.len;
		s->text = fold_copy(x, cur.data, cur.len);
		p->tail = RC_TAIL_END;
	} else {
		p->tail = segs.len ? RC_TAIL_SLASH : RC_TAIL_END;
	}
	p->k = (uint32_t)segs.len;
	p->segs = rc_arena_alloc(&x->arena, sizeof(rc_sseg) * (segs.len + 1));
	if (segs.len)
		memcpy(p->segs, segs.items, sizeof(rc_sseg) * segs.len);
	p->rule = r->index;
	p->scope = r->scope;
	rc_vec_fini(&segs);
	rc_buf_fini(&cur);
}

/* ---- the trie --------------------------------------------------------- */

static rc_tnode *node_at(const rc_index *x, int32_t id)
{
	return RC_VEC_AT(&x->nodes, rc_tnode, id);
}

static int32_t node_new(rc_index *x, int32_t parent, const char *seg, uint32_t len)
{
	rc_tnode *n = rc_vec_push(&x->nodes);
	n->seg = seg;
	n->seglen = len;
	n->parent = parent;
	n->param = n->first_child = n->next_sibling = -1;
	n->ends[0] = n->ends[1] = n->ends[2] = -1;
	return (int32_t)(x->nodes.len - 1);
}

static int32_t child_find(const rc_index *x, int32_t parent, const char *seg, size_t len)
{
	size_t m = x->child_cap - 1;
	for (size_t s = (size_t)hash_text(x, seg, len, (uint64_t)parent + 7) & m;; s = (s + 1) & m) {
		int32_t c = x->child_slot[s];
		if (c < 0)
			return -1;
		const rc_tnode *n = node_at(x, c);
		if (n->parent == parent && rc_seg_equal(x, n->seg, n->seglen, seg, len))
			return c;
	}
}

static void child_put(rc_index *x, int32_t id)
{
	const rc_tnode *n = node_at(x, id);
	size_t m = x->child_cap - 1;
	size_t s = (size_t)hash_text(x, n->seg, n->seglen, (uint64_t)n->parent + 7) & m;
	while (x->child_slot[s] >= 0)
		s = (s + 1) & m;
	x->child_slot[s] = id;
}

static void child_grow(rc_index *x)
{
	free(x->child_slot);
	x->child_cap = x->child_cap ? x->child_cap * 2 : 64;
	x->child_slot = malloc(x->child_cap * sizeof *x->child_slot);
	if (!x->child_slot)
		abort();
	memset(x->child_slot, 0xff, x->child_cap * sizeof *x->child_slot);
	for (size_t i = 1; i < x->nodes.len; i++)
		if (node_at(x, (int32_t)i)->seg)
			child_put(x, (int32_t)i);
}

static void trie_insert(rc_index *x, int32_t pid)
{
	rc_spat *p = &x->pats[pid];
	int32_t cur = 0;
	for (uint32_t i = 0; i < p->k; i++) {
		const rc_sseg *s = &p->segs[i];
		int32_t next;
		if (s->kind == RC_SEG_PARAM) {
			next = node_at(x, cur)->param;
			if (next < 0) {
				next = node_new(x, cur, NULL, 0);
				node_at(x, cur)->param = next;
			}
		} else {
			next = child_find(x, cur, s->text, s->len);
			if (next < 0) {
				next = node_new(x, cur, s->text, s->len);
				rc_tnode *pn = node_at(x, cur);
				node_at(x, next)->next_sibling = pn->first_child;
				pn->first_child = next;
				if (++x->nchildren * 2 > x->child_cap)
					child_grow(x);
				else
					child_put(x, next);
			}
		}
		cur = next;
	}
	rc_tnode *n = node_at(x, cur);
	p->node = cur;
	p->next = n->ends[p->tail];
	n->ends[p->tail] = pid;
}

static int64_t named_id(const rc_index *x, const char *host);

/* Report pattern p, unless the filter leaves it out. */
static void push_pat(rc_index *x, int32_t p)
{
	if (x->filt_on) {
		const rc_spat *sp = &x->pats[p];
		if (sp->scope >= 0)
			x->filt_scoped = 1;
		if (sp->rule >= x->filt_below)
			return;
		if (sp->scope >= 0) {
			if (x->filt_id < 0)
				return;
			uint32_t lo = x->hs_off[x->filt_id], hi = x->hs_off[x->filt_id + 1];
			uint32_t want = (uint32_t)sp->scope;
			int in = 0;
			while (lo < hi && !in) {
				uint32_t mid = lo + (hi - lo) / 2;
				if (x->hs[mid] == want)
					in = 1;
				else if (x->hs[mid] < want)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (!in)
				return;
		}
	}
	*(int32_t *)rc_vec_push(&x->found) = p;
}

void rc_index_filter(rc_index *x, const char *host, uint32_t below)
{
	x->filt_on = 1;
	x->filt_id = named_id(x, host);
	x->filt_below = below;
	x->filt_scoped = 0;
}

void rc_index_filter_off(rc_index *x)
{
	x->filt_on = 0;
}

static void match_at(rc_index *x, int32_t node, const rc_sseg *segs, size_t nseg,
                     int trailing, size_t i)
{
	const rc_tnode *n = node_at(x, node);
	int bare = i == nseg && !trailing && (x->policy & RD_POLICY_SPLAT_NO_PARENT);
	for (int32_t p = n->ends[RC_TAIL_SPLAT]; p >= 0; p = x->pats[p].next) {
		const rc_spat *sp = &x->pats[p];
		if (bare && sp->nopar)
			continue; /* the bare parent of a no-parent splat */
		if (sp->plen == 0 ||
		    (i < nseg && rc_seg_has_prefix(x, segs[i].text, segs[i].len, sp->prefix, sp->plen)))
			push_pat(x, p);
	}
	if (i == nseg) {
		for (int32_t p = n->ends[trailing ? RC_TAIL_SLASH : RC_TAIL_END]; p >= 0; p = x->pats[p].next)
			push_pat(x, p);
		return;
	}
	int32_t lit = x->child_cap ? child_find(x, node, segs[i].text, segs[i].len) : -1;
	int32_t param = n->param;
	if (lit >= 0)
		match_at(x, lit, segs, nseg, trailing, i + 1);
	if (param >= 0)
		match_at(x, param, segs, nseg, trailing, i + 1);
}

void rc_index_match_patterns(rc_index *x, const rc_sseg *segs, size_t nseg, int trailing)
{
	x->found.len = 0;
	if (x->npats)
		match_at(x, 0, segs, nseg, trailing, 0);
}

/* every pattern in the subtree of `node` */
static void collect_subtree(rc_index *x, int32_t node)
{
	const rc_tnode *n = node_at(x, node);
	for (int t = 0; t < 3; t++)
		for (int32_t p = n->ends[t]; p >= 0; p = x->pats[p].next)
			push_pat(x, p);
	for (int32_t c = n->first_child; c >= 0; c = node_at(x, c)->next_sibling)
		collect_subtree(x, c);
	if (n->param >= 0)
		collect_subtree(x, n->param);
}

/* does the prefix a agree with b (one is a prefix of the other)? */
static int prefixes_agree(const rc_index *x, const char *a, size_t al, const char *b, size_t bl)
{
	size_t m = al < bl ? al : bl;
	return rc_seg_equal(x, a, m, b, m);
}

static void inter_at(rc_index *x, int32_t node, const rc_spat *q, uint32_t i)
{
	const rc_tnode *n = node_at(x, node);
	/* splats stored here start at segment i */
	for (int32_t p = n->ends[RC_TAIL_SPLAT]; p >= 0; p = x->pats[p].next) {
		const rc_spat *sp = &x->pats[p];
		int ok;
		if (i < q->k)
			ok = q->segs[i].kind == RC_SEG_PARAM ||
			     rc_seg_has_prefix(x, q->segs[i].text, q->segs[i].len, sp->prefix, sp->plen);
		else if (q->tail == RC_TAIL_SPLAT)
			ok = prefixes_agree(x, q->prefix, q->plen, sp->prefix, sp->plen);
		else
			ok = sp->plen == 0;
		if (ok)
			push_pat(x, p);
	}
	if (i == q->k) {
		if (q->tail != RC_TAIL_SPLAT) {
			for (int32_t p = n->ends[q->tail]; p >= 0; p = x->pats[p].next)
				push_pat(x, p);
			return;
		}
		/* q's splat: everything below that its prefix admits */
		for (int t = 0; t < 2; t++)
			if (q->plen == 0)
				for (int32_t p = n->ends[t]; p >= 0; p = x->pats[p].next)
					push_pat(x, p);
		for (int32_t c = n->first_child; c >= 0; c = node_at(x, c)->next_sibling) {
			const rc_tnode *cn = node_at(x, c);
			if (rc_seg_has_prefix(x, cn->seg, cn->seglen, q->prefix, q->plen))
				collect_subtree(x, c);
		}
		if (n->param >= 0)
			collect_subtree(x, n->param);
		return;
	}
	if (q->segs[i].kind == RC_SEG_PARAM) {
		for (int32_t c = n->first_child; c >= 0; c = node_at(x, c)->next_sibling)
			inter_at(x, c, q, i + 1);
	} else {
		int32_t c = child_find(x, node, q->segs[i].text, q->segs[i].len);
		if (c >= 0)
			inter_at(x, c, q, i + 1);
	}
	if (n->param >= 0)
		inter_at(x, n->param, q, i + 1);
}

void rc_index_intersecting(rc_index *x, const rc_spat *p)
{
	x->found.len = 0;
	if (x->npats)
		inter_at(x, 0, p, 0);
}

/* ---- paths and requests ----------------------------------------------- */

size_t rc_index_split(rc_index *x, const char *path, size_t len, int *trailing)
{
	x->segs.len = 0;
	/* a path ending in '/' (other than "/" itself) has a trailing slash */
	*trailing = len > 1 && path[len - 1] == '/';
	const char *p = path + (len > 0), *end = path + len;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *e = slash ? slash : end;
		if (e > p) {
			rc_sseg *g = rc_vec_push(&x->segs);
			g->kind = RC_SEG_LIT;
			g->text = p;
			g->len = (uint32_t)(e - p);
		}
		p = e + 1;
	}
	return x->segs.len;
}

int64_t rc_index_resolve(rc_index *x, const char *host, const char *path,
                         size_t len, int64_t head, int *scoped)
{
	int64_t best = -1;
	if (head == RC_HEAD_UNKNOWN)
		head = rc_index_exact_first(x, path, len);
	for (int64_t e = head; e >= 0;
	     e = rc_index_exact_next(x, (size_t)e)) {
		const rc_rule *r = rc_ir_rule(x->ir, (size_t)e);
		if (r->scope >= 0)
			*scoped = 1;
		if (best < 0 && rc_index_admits(x, r, host))
			best = e;
	}
	if (x->npats == 0)
		return best;
	int trailing;
	size_t nseg = rc_index_split(x, path, len, &trailing);
	rc_index_filter(x, host, best >= 0 ? (uint32_t)best : UINT32_MAX);
	rc_index_match_patterns(x, x->segs.items, nseg, trailing);
	rc_index_filter_off(x);
	if (x->filt_scoped)
		*scoped = 1;
	for (size_t i = 0; i < x->found.len; i++) {
		const rc_spat *p = &x->pats[*RC_VEC_AT(&x->found, int32_t, i)];
		const rc_rule *r = rc_ir_rule(x->ir, p->rule);
		if (r->scope >= 0)
			*scoped = 1;
		if ((best < 0 || p->rule < best) && rc_index_admits(x, r, host))
			best = p->rule;
	}
	return best;
}

/* ---- hosts ------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int64_t str_find(char *const *v, size_t n, const char *s)
{
	if (n == 0)
		return -1;
	char *const *hit = bsearch(&s, v, n, sizeof(char *), cmp_str);
	return hit ? hit - v : -1;
}

/* The wildcard (index into x->wild) with the longest NAME that admits the
 * host, or -1. */
static int64_t wild_of(const rc_index *x, const char *host)
{
	for (const char *d = strchr(host, '.'); d && x->nwild; d = strchr(d + 1, '.')) {
		int64_t k = str_find((char *const *)x->wild, x->nwild, d + 1);
		if (k >= 0 && rd_wildcard_admits(x->wild[k] - 2, host))
			return k;
	}
	return -1;
}

static int64_t named_id(const rc_index *x, const char *host)
{
	if (!host || x->nnamed == 0)
		return -1;
	/* walks ask about the same host for every candidate rule */
	struct rc_host_cache *c = x->hcache;
	if (c && c->host && strcmp(c->text, host) == 0)
		return c->id;
	size_t hl = strlen(host);
	int64_t id = str_find(x->named, x->nnamed, host);
	if (id < 0) {
		/* a host no block names: the class of its longest wildcard */
		int64_t k = wild_of(x, host);
		id = k >= 0 ? (int64_t)x->wild_host[k] : -1;
	}
	if (c && hl < sizeof c->text) {
		memcpy(c->text, host, hl + 1);
		c->host = c->text;
		c->id = id;
	}
	return id;
}

int rc_index_is_named(const rc_index *x, const char *host)
{
	if (!host || x->nnamed == 0)
		return 0;
	if (host[0] == '*' && host[1] == '.') {
		size_t n = strlen(host);
		char *h = rc_xmalloc(n + 1);
		h[0] = '_';
		memcpy(h + 1, host + 1, n);
		int in = named_id(x, h) >= 0;
		free(h);
		return in;
	}
	return named_id(x, host) >= 0;
}

int rc_index_admits(const rc_index *x, const rc_rule *r, const char *host)
{
	if (r->scope < 0)
		return 1;
	int64_t id = named_id(x, host);
	if (id < 0)
		return 0;
	uint32_t lo = x->hs_off[id], hi = x->hs_off[id + 1];
	uint32_t want = (uint32_t)r->scope;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (x->hs[mid] == want)
			return 1;
		if (x->hs[mid] < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void rc_index_scope_reps(rc_index *x, int32_t s, rc_vec *out)
{
	x->stamp++;
	for (uint32_t j = x->sh_off[s]; j < x->sh_off[s + 1]; j++) {
		uint32_t rep = x->rep_of[x->sh[j]];
		if (x->mark[rep] == x->stamp)
			continue;
		x->mark[rep] = x->stamp;
		*(const char **)rc_vec_push(out) = x->named[rep];
	}
}


typedef struct sub_rule { int32_t scope; const char *x; } sub_rule;

static int cmp_sub_rule(const void *a, const void *b)
{
	const sub_rule *p = a, *q = b;
	if (p->scope != q->scope)
		return p->scope < q->scope ? -1 : 1;
	return strcmp(p->x, q->x);
}

/* The hosts `:subdomain` targets lead to: from every named host (a block,
 * `set hosts`, a target) and every "_.NAME", each `:subdomain.X` target
 * of a block that admits the host sends it to SUB.X (SUB under the
 * block's longest admitting name), and so on from there.  A loop through
 * a named host only visits hosts reached so from it, so these are the
 * hosts to tell apart.  Appended to hv (char *); at most
 * RC_SUB_HOSTS_MAX, then x->hosts_cut (a chain of growing hosts). */
static void sub_hosts(rc_index *x, rc_vec *hv)
{
	const rc_ir *ir = x->ir;
	rc_vec subs;
	rc_vec_init(&subs, sizeof(sub_rule));
	for (size_t i = 0; i < x->n; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (!r->target.sub_host || r->scope < 0)
			continue;
		sub_rule *p = rc_vec_push(&subs);
		p->scope = r->scope;
		p->x = r->target.host + 1; /* ".X" */
	}
	sub_rule *sv = subs.items;
	size_t ns = 0;
	rc_sort(sv, subs.len, sizeof *sv, cmp_sub_rule);
	for (size_t i = 0; i < subs.len; i++)
		if (ns == 0 || cmp_sub_rule(&sv[ns - 1], &sv[i]) != 0)
			sv[ns++] = sv[i];
	rc_vec work;
	rc_vec_init(&work, sizeof(const char *));
	rc_strmap seen;
	rc_strmap_init(&seen);
	for (size_t i = 0; i < hv->len; i++)
		*(const char **)rc_vec_push(&work) = *RC_VEC_AT(hv, char *, i);
	for (size_t i = 0; i < ir->served_hosts.len; i++)
		*(const char **)rc_vec_push(&work) = *RC_VEC_AT(&ir->served_hosts, char *, i);
	for (size_t i = 0; i < work.len; i++) {
		const char *c = *RC_VEC_AT(&work, const char *, i);
		rc_strmap_add(&seen, c, strlen(c), (void *)c);
	}
	size_t added = 0;
	for (size_t i = 0; i < work.len && ns && !x->hosts_cut; i++) {
		const char *c = *RC_VEC_AT(&work, const char *, i);
		if (c[0] == '*')
			continue;
		for (size_t k = 0; k < ns && !x->hosts_cut; k++) {
			const rc_scope *sc = RC_VEC_AT(&ir->scopes, rc_scope, sv[k].scope);
			size_t best = 0;
			for (uint32_t j = 0; j < sc->nhosts; j++) {
				size_t nl = strlen(sc->hosts[j]);
				if (nl > best && rd_wildcard_admits(sc->hosts[j], c))
					best = nl;
			}
			if (best == 0)
				continue; /* the block does not admit the host */
			char *h = rc_arena_printf(&x->arena, "%.*s%s", (int)(strlen(c) - (best - 1)), c,
			                          sv[k].x);
			if (rc_strmap_get(&seen, h, strlen(h)))
				continue;
			if (wild_of(x, h) < 0 && str_find(x->names, x->nnames, h) < 0)
				continue; /* no block admits it: the chain ends there */
			if (added++ == RC_SUB_HOSTS_MAX) {
				x->hosts_cut = 1;
				break;
			}
			rc_strmap_add(&seen, h, strlen(h), h);
			*(const char **)rc_vec_push(&work) = h;
			*(char **)rc_vec_push(hv) = h;
		}
	}
	rc_strmap_fini(&seen);
	rc_vec_fini(&work);
	rc_vec_fini(&subs);
}

/* The hosts told apart (see rule_index.h), their scopes, and the classes
 * of hosts with the same scopes. */
static void hosts_build(rc_index *x)
{
	const rc_ir *ir = x->ir;
	/* name -> scopes naming it */
	x->ns_off = calloc(x->nnames + 2, sizeof *x->ns_off);
	uint32_t *mk = calloc(x->nnames + 1, sizeof *mk);
	if (!x->ns_off || !mk)
		abort();
	size_t total = 0;
	for (int pass = 0; pass < 2; pass++) {
		uint32_t *fill = pass ? calloc(x->nnames + 1, sizeof *fill) : NULL;
		if (pass) {
			for (size_t i = 0; i < x->nnames; i++)
				x->ns_off[i + 1] += x->ns_off[i];
			x->ns = calloc(total + 1, sizeof *x->ns);
			if (!fill || !x->ns)
				abort();
			memset(mk, 0, (x->nnames + 1) * sizeof *mk);
		}
		for (size_t s = 0; s < ir->scopes.len; s++) {
			const rc_scope *sc = RC_VEC_AT(&ir->scopes, rc_scope, s);
			for (uint32_t j = 0; j < sc->nhosts; j++) {
				int64_t id = str_find(x->names, x->nnames, sc->hosts[j]);
				if (id < 0 || mk[id] == s + 1)
					continue;
				mk[id] = (uint32_t)s + 1;
				if (pass)
					x->ns[x->ns_off[id] + fill[id]++] = (uint32_t)s;
				else {
					x->ns_off[id + 1]++;
					total++;
				}
			}
		}
		free(fill);
	}
	free(mk);
	/* the wildcards, and the hosts: named ones and "_.NAME" */
	rc_vec hv;
	rc_vec_init(&hv, sizeof(char *));
	x->wild = rc_arena_alloc(&x->arena, sizeof(char *) * (x->nnames + 1));
	for (size_t i = 0; i < x->nnames; i++) {
		const char *n = x->names[i];
		if (n[0] == '*') {
			x->wild[x->nwild++] = n + 2;
			*(char **)rc_vec_push(&hv) = rc_arena_printf(&x->arena, "_.%s", n + 2);
		} else {
			*(char **)rc_vec_push(&hv) = x->names[i];
		}
	}
	rc_sort(x->wild, x->nwild, sizeof(char *), cmp_str);
	/* a target's host that a wildcard admits is told apart too (one
	 * pointer per host, the first hop of its walks) */
	for (size_t i = 0; i < x->n && x->nwild; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (r->target.absolute && !r->target.sub_host && r->target.host &&
		    wild_of(x, r->target.host) >= 0)
			*(char **)rc_vec_push(&hv) = r->target.host;
	}
	for (size_t i = 0; i < x->n && !x->subdomain; i++)
		x->subdomain = rc_ir_rule(ir, i)->target.uses_subdomain;
	if (x->subdomain)
		sub_hosts(x, &hv);
	char **hs = hv.items;
	if (hv.len)
		rc_sort(hs, hv.len, sizeof(char *), cmp_str);
	size_t H = 0;
	for (size_t i = 0; i < hv.len; i++)
		if (H == 0 || strcmp(hs[H - 1], hs[i]) != 0)
			hs[H++] = hs[i];
	x->named = rc_arena_alloc(&x->arena, sizeof(char *) * (H + 1));
	if (H)
		memcpy(x->named, hs, sizeof(char *) * H);
	x->nnamed = H;
	rc_vec_fini(&hv);
	x->wild_host = calloc(x->nwild + 1, sizeof *x->wild_host);
	if (!x->wild_host)
		abort();
	for (size_t k = 0; k < x->nwild; k++) {
		char *rep = rc_arena_printf(&x->arena, "_.%s", x->wild[k]);
		x->wild_host[k] = (uint32_t)str_find(x->named, x->nnamed, rep);
	}
	/* host -> the scopes admitting it (ascending) */
	rc_vec all;
	rc_vec_init(&all, sizeof(uint32_t));
	x->hs_off = calloc(H + 2, sizeof *x->hs_off);
	x->rep_of = calloc(H + 1, sizeof *x->rep_of);
	x->reps = calloc(H + 1, sizeof *x->reps);
	x->mark = calloc(H + 1, sizeof *x->mark);
	if (!x->hs_off || !x->rep_of || !x->reps || !x->mark)
		abort();
	for (size_t h = 0; h < H; h++) {
		const char *host = x->named[h];
		size_t start = all.len;
		int64_t id = str_find(x->names, x->nnames, host);
		for (uint32_t j = id >= 0 ? x->ns_off[id] : 0; id >= 0 && j < x->ns_off[id + 1]; j++)
			*(uint32_t *)rc_vec_push(&all) = x->ns[j];
		for (const char *d = strchr(host, '.'); d; d = strchr(d + 1, '.')) {
			int64_t k = str_find((char *const *)x->wild, x->nwild, d + 1);
			if (k < 0 || !rd_wildcard_admits(x->wild[k] - 2, host))
				continue;
			int64_t w = str_find(x->names, x->nnames, x->wild[k] - 2);
			for (uint32_t j = x->ns_off[w]; j < x->ns_off[w + 1]; j++)
				*(uint32_t *)rc_vec_push(&all) = x->ns[j];
		}
		uint32_t *l = (uint32_t *)all.items + start;
		size_t n = all.len - start, u = 0;
		rc_sort(l, n, sizeof *l, cmp_u32);
		for (size_t i = 0; i < n; i++)
			if (u == 0 || l[u - 1] != l[i])
				l[u++] = l[i];
		all.len = start + u;
		x->hs_off[h + 1] = (uint32_t)all.len;
	}
	x->hs = calloc(all.len + 1, sizeof *x->hs);
	if (!x->hs)
		abort();
	if (all.len)
		memcpy(x->hs, all.items, all.len * sizeof *x->hs);
	rc_vec_fini(&all);
	/* scope -> the hosts it admits */
	size_t ns = ir->scopes.len;
	x->sh_off = calloc(ns + 2, sizeof *x->sh_off);
	x->sh = calloc(x->hs_off[H] + 1, sizeof *x->sh);
	uint32_t *fill = calloc(ns + 1, sizeof *fill);
	if (!x->sh_off || !x->sh || !fill)
		abort();
	for (size_t j = 0; j < x->hs_off[H]; j++)
		x->sh_off[x->hs[j] + 1]++;
	for (size_t s = 0; s < ns; s++)
		x->sh_off[s + 1] += x->sh_off[s];
	for (size_t h = 0; h < H; h++)
		for (uint32_t j = x->hs_off[h]; j < x->hs_off[h + 1]; j++)
			x->sh[x->sh_off[x->hs[j]] + fill[x->hs[j]]++] = (uint32_t)h;
	free(fill);
	/* classes: hash of the scope list, open addressing over hosts; with
	 * `:subdomain` targets the Location depends on the host itself */
	size_t cap = 16;
	while (cap < H * 2)
		cap *= 2;
	int64_t *slot = malloc(cap * sizeof *slot);
	if (!slot)
		abort();
	for (size_t i = 0; i < cap; i++)
		slot[i] = -1;
	for (size_t i = 0; i < H; i++) {
		const uint32_t *l = x->hs + x->hs_off[i];
		size_t n = x->hs_off[i + 1] - x->hs_off[i];
		size_t sl = (size_t)rc_hash_bytes(l, n * sizeof *l, 3) & (cap - 1);
		for (;; sl = (sl + 1) & (cap - 1)) {
			if (slot[sl] < 0) {
				slot[sl] = (int64_t)i;
				x->rep_of[i] = (uint32_t)i;
				x->reps[x->nreps++] = (uint32_t)i;
				break;
			}
			size_t o = (size_t)slot[sl];
			size_t on = x->hs_off[o + 1] - x->hs_off[o];
			if (!x->subdomain && on == n &&
			    memcmp(x->hs + x->hs_off[o], l, n * sizeof *l) == 0) {
				x->rep_of[i] = (uint32_t)o;
				break;
			}
		}
	}
	free(slot);
	memset(x->mark, 0, (H + 1) * sizeof *x->mark);
	x->stamp = 0;
}

int rc_index_same_scope(const rc_index *x, const rc_rule *a, const rc_rule *b)
{
	if (a->scope < 0 || b->scope < 0)
		return a->scope == b->scope;
	return x->scope_set[a->scope] == x->scope_set[b->scope];
}

static void scopes_build(rc_index *x)
{
	const rc_ir *ir = x->ir;
	size_t ns = ir->scopes.len, total = 0;
	x->scope_set = calloc(ns + 1, sizeof *x->scope_set);
	char **keys = calloc(ns + 1, sizeof *keys);
	uint64_t *hashes = calloc(ns + 1, sizeof *hashes);
	if (!x->scope_set || !keys || !hashes)
		abort();
	for (size_t i = 0; i < ns; i++)
		total += RC_VEC_AT(&ir->scopes, rc_scope, i)->nhosts;
	x->names = rc_arena_alloc(&x->arena, sizeof(char *) * (total + 1));
	for (size_t i = 0; i < ns; i++) {
		const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, i);
		char **sorted = rc_xmalloc(sizeof(char *) * (s->nhosts + 1));
		memcpy(sorted, s->hosts, sizeof(char *) * s->nhosts);
		rc_sort(sorted, s->nhosts, sizeof(char *), cmp_str);
		rc_buf b;
		rc_buf_init(&b);
		for (uint32_t j = 0; j < s->nhosts; j++) {
			if (j > 0 && strcmp(sorted[j], sorted[j - 1]) == 0)
				continue;
			rc_buf_adds(&b, sorted[j]);
			rc_buf_addc(&b, '\n');
			x->names[x->nnames++] = sorted[j];
		}
		keys[i] = rc_arena_strndup(&x->arena, b.data, b.len);
		hashes[i] = rc_hash_bytes(b.data, b.len, 0);
		x->scope_set[i] = (uint32_t)i;
		for (size_t j = 0; j < i; j++)
			if (hashes[j] == hashes[i] && strcmp(keys[j], keys[i]) == 0) {
				x->scope_set[i] = x->scope_set[j];
				break;
			}
		rc_buf_fini(&b);
		free(sorted);
	}
	rc_sort(x->names, x->nnames, sizeof(char *), cmp_str);
	size_t w = 0;
	for (size_t i = 0; i < x->nnames; i++)
		if (w == 0 || strcmp(x->names[w - 1], x->names[i]) != 0)
			x->names[w++] = x->names[i];
	x->nnames = w;
	free(keys);
	free(hashes);
}

/* ---- lifetime ---------------------------------------------------------- */

void rc_index_init(rc_index *x, const rc_ir *ir)
{
	memset(x, 0, sizeof *x);
	x->ir = ir;
	x->policy = ir->policy;
	x->fold = (ir->policy & RD_POLICY_CASE_INSENSITIVE) != 0;
	x->n = ir->rules.len;
	rc_arena_init(&x->arena);
	rc_vec_init(&x->nodes, sizeof(rc_tnode));
	rc_vec_init(&x->found, sizeof(int32_t));
	rc_vec_init(&x->segs, sizeof(rc_sseg));
	x->hcache = calloc(1, sizeof *x->hcache);
	if (!x->hcache)
		abort();
	exact_build(x);
	scopes_build(x);
	hosts_build(x);
	x->pat_of = malloc((x->n + 1) * sizeof *x->pat_of);
	if (!x->pat_of)
		abort();
	size_t np = 0;
	for (size_t i = 0; i < x->n; i++) {
		x->pat_of[i] = -1;
		np += rc_ir_rule(ir, i)->is_pattern;
	}
	x->pats = rc_xmalloc(sizeof(rc_spat) * (np + 1));
	node_new(x, -1, NULL, 0);
	child_grow(x);
	for (size_t i = 0; i < x->n; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (!r->is_pattern)
			continue;
		int32_t id = (int32_t)x->npats++;
		spat_from_rule(x, r, &x->pats[id]);
		x->pat_of[i] = id;
		trie_insert(x, id);
	}
}

void rc_index_fini(rc_index *x)
{
	free(x->ex_slot);
	free(x->ex_bits);
	free(x->ex_next);
	free(x->ex_head);
	free(x->pat_of);
	free(x->pats);
	free(x->child_slot);
	free(x->scope_set);
	free(x->hs_off);
	free(x->hs);
	free(x->ns_off);
	free(x->ns);
	free(x->wild_host);
	free(x->sh_off);
	free(x->sh);
	free(x->rep_of);
	free(x->reps);
	free(x->mark);
	free(x->hcache);
	rc_vec_fini(&x->nodes);
	rc_vec_fini(&x->found);
	rc_vec_fini(&x->segs);
	rc_arena_fini(&x->arena);
}
