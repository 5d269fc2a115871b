/*
 * servers.c - the parts of the server targets that do not depend on the
 * server: encodings, exact layers in file order, pattern regexes.
 */
#include "backends/servers.h"

#include <stdlib.h>
#include <string.h>

#include "backends/quote.h"

/* ---- encodings (design section 2) ------------------------------------ */

static int pathsafe(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

/* Bytes every flavour of rc_sv_enc keeps: pathsafe, minus '&', '=', '+'
 * and capitals (which some contexts encode). */
static int always_kept(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '-' ||
	       c == '.' || c == '_' || c == '~';
}

void rc_sv_enc(rc_buf *b, const char *s, size_t n, int qctx, int upper)
{
	static const char HEX[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		/* fast path: copy a run of common bytes at once */
		size_t j = i;
		while (j < n && always_kept((unsigned char)s[j]))
			j++;
		if (j > i) {
			rc_buf_add(b, s + i, j - i);
			i = j;
			if (i == n)
				break;
		}
		unsigned char c = (unsigned char)s[i];
		int keep = pathsafe(c);
		if (qctx && (c == '&' || c == '=' || c == '+'))
			keep = 0;
		if (upper && c >= 'A' && c <= 'Z')
			keep = 0;
		if (keep) {
			rc_buf_addc(b, (char)c);
		} else {
			char e[3] = { '%', HEX[c >> 4], HEX[c & 15] };
			rc_buf_add(b, e, 3);
		}
	}
}

void rc_sv_key(rc_buf *b, const rc_ir *ir, const char *p, size_t n)
{
	if (!(ir->policy & RD_POLICY_CASE_INSENSITIVE)) {
		rc_sv_enc(b, p, n, 0, 1);
		return;
	}
	char *low = rc_xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		low[i] = (char)rd_ascii_lower((unsigned char)p[i]);
	rc_sv_enc(b, low, n, 0, 0);
	free(low);
}

/* ---- a small hash index over entries ---------------------------------- */

typedef struct ktab {
	uint32_t *slot;  /* entry index + 1, 0 = empty */
	size_t mask;
} ktab;

static void ktab_init(ktab *t, size_t expected)
{
	size_t cap = 16;
	while (cap < expected * 2 + 2)
		cap <<= 1;
	t->slot = rc_xmalloc(cap * sizeof *t->slot);
	memset(t->slot, 0, cap * sizeof *t->slot);
	t->mask = cap - 1;
}

static void ktab_fini(ktab *t)
{
	free(t->slot);
	t->slot = NULL;
}

/* The index of the entry with this key, or -1; *pos gets the slot where it
 * would go. */
static long ktab_find(const ktab *t, const rc_vec *ents, const char *k, size_t n, size_t *pos)
{
	size_t i = (size_t)rc_hash_bytes(k, n, 0) & t->mask;
	for (;;) {
		uint32_t s = t->slot[i];
		if (s == 0) {
			*pos = i;
			return -1;
		}
		const rc_sv_entry *e = RC_VEC_AT(ents, rc_sv_entry, s - 1);
		if (e->len == n && memcmp(e->key, k, n) == 0)
			return (long)(s - 1);
		i = (i + 1) & t->mask;
	}
}

/* ---- layers (design section 3) ---------------------------------------- */

static int rule_matches_path(const rc_ir *ir, const rc_rule *p, const rc_rule *exact)
{
	rd_span caps[RD_MAX_CAPTURES];
	return rd_pattern_match(p->src, p->nsrc, exact->exact_key, exact->exact_len,
	                        ir->policy, caps);
}

static int entry_cmp(const void *a, const void *b)
{
	const rc_sv_entry *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->key, y->key, n);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

typedef struct host_scope {
	const char *host;
	int32_t scope;
} host_scope;

static int host_scope_cmp(const void *a, const void *b)
{
	const host_scope *x = a, *y = b;
	int c = strcmp(x->host, y->host);
	return c ? c : (x->scope > y->scope) - (x->scope < y->scope);
}

static int rule_index_cmp(const void *a, const void *b)
{
	const rc_rule *x = *(const rc_rule *const *)a, *y = *(const rc_rule *const *)b;
	return (x->index > y->index) - (x->index < y->index);
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Longest first, then by bytes: the order a host tries the wildcard names */
static int wild_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);
	if (lx != ly)
		return lx > ly ? -1 : 1;
	return strcmp(x, y);
}

/* The first pair of `hs` (sorted) whose name is `name`, or hs->len. */
static size_t hs_find(const rc_vec *hs, const char *name)
{
	size_t lo = 0, hi = hs->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(RC_VEC_AT(hs, host_scope, mid)->host, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int int32_cmp(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* The scopes that admit host `h` (a named host or a class representative
 * "_.W"), ascending and distinct: those naming it, and those with a
 * wildcard name "*.S" for a suffix S of h that rd_wildcard_admits. */
static void class_scopes(const rc_vec *hs, const char *h, rc_vec *out)
{
	out->len = 0;
	size_t n = strlen(h);
	char *probe = rc_xmalloc(n + 3);
	for (size_t at = 0;;) {
		const char *name = h;
		if (at > 0) {
			probe[0] = '*';
			memcpy(probe + 1, h + at - 1, n - at + 2); /* ".SUFFIX" and its NUL */
			name = probe;
		}
		if (at == 0 || rd_wildcard_admits(name, h))
			for (size_t i = hs_find(hs, name);
			     i < hs->len && strcmp(RC_VEC_AT(hs, host_scope, i)->host, name) == 0; i++)
				*(int32_t *)rc_vec_push(out) = RC_VEC_AT(hs, host_scope, i)->scope;
		const char *dot = strchr(h + at, '.');
		if (!dot)
			break;
		at = (size_t)(dot - h) + 1;
	}
	free(probe);
	if (out->len > 1)
		rc_sort(out->items, out->len, sizeof(int32_t), int32_cmp);
	size_t w = 0;
	for (size_t i = 0; i < out->len; i++)
		if (w == 0 || *RC_VEC_AT(out, int32_t, i) != *RC_VEC_AT(out, int32_t, w - 1))
			*RC_VEC_AT(out, int32_t, w++) = *RC_VEC_AT(out, int32_t, i);
	out->len = w;
}

/* Design section 3.1: the host classes.  Every host a block names is its
 * own class; every wildcard name "*.W" gives the class "_.W" (admitted by
 * exactly the wildcard names that admit the hosts of the class; never a
 * named host, whose names hold no '_'). */
static void build_classes(const rc_ir *ir, const rc_vec *hs, rc_sv_layers *L)
{
	for (size_t i = 0; i < hs->len; i++) {
		const char *name = RC_VEC_AT(hs, host_scope, i)->host;
		if (i > 0 && strcmp(name, RC_VEC_AT(hs, host_scope, i - 1)->host) == 0)
			continue;
		if (name[0] == '*') {
			*(const char **)rc_vec_push(&L->wild) = name;
			char *rep = rc_arena_strndup(&L->arena, name, strlen(name));
			rep[0] = '_';
			*(const char **)rc_vec_push(&L->classes) = rep;
		} else {
			*(const char **)rc_vec_push(&L->named) = name;
			*(const char **)rc_vec_push(&L->classes) = name;
		}
	}
	if (L->wild.len > 1)
		rc_sort(L->wild.items, L->wild.len, sizeof(const char *), wild_cmp);
	/* named hosts a wildcard name admits, and `set hosts` names none admits */
	for (size_t i = 0; i < L->named.len; i++) {
		const char *h = *RC_VEC_AT(&L->named, const char *, i);
		for (size_t j = 0; j < L->wild.len; j++)
			if (rd_wildcard_admits(*RC_VEC_AT(&L->wild, const char *, j), h)) {
				*(const char **)rc_vec_push(&L->named_wild) = h;
				break;
			}
	}
	for (size_t i = 0; i < ir->served_hosts.len; i++) {
		const char *h = *RC_VEC_AT(&ir->served_hosts, char *, i);
		int known = h[0] == '*';
		for (size_t j = 0; !known && j < L->wild.len; j++)
			known = rd_wildcard_admits(*RC_VEC_AT(&L->wild, const char *, j), h);
		for (size_t j = 0; !known && j < L->named.len; j++)
			known = strcmp(*RC_VEC_AT(&L->named, const char *, j), h) == 0;
		if (!known)
			*(const char **)rc_vec_push(&L->plain) = h;
	}
	if (L->plain.len > 1)
		rc_sort(L->plain.items, L->plain.len, sizeof(const char *), str_ptr_cmp);
}

void rc_sv_layers_build(const rc_ir *ir, rc_sv_layers *L)
{
	memset(L, 0, sizeof *L);
	rc_arena_init(&L->arena);
	rc_vec_init(&L->host, sizeof(rc_sv_entry));
	rc_vec_init(&L->global, sizeof(rc_sv_entry));
	rc_vec_init(&L->classes, sizeof(const char *));
	rc_vec_init(&L->wild, sizeof(const char *));
	rc_vec_init(&L->named, sizeof(const char *));
	rc_vec_init(&L->named_wild, sizeof(const char *));
	rc_vec_init(&L->plain, sizeof(const char *));
	size_t nrules = rc_ir_nrules(ir);
	rc_vec pats;
	rc_vec_init(&pats, sizeof(const rc_rule *));
	for (size_t i = 0; i < nrules; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (r->is_pattern)
			*(const rc_rule **)rc_vec_push(&pats) = r;
	}
	rc_buf kb;
	rc_buf_init(&kb);

	/* the global layer: first global exact rule per key, unless an earlier
	 * global pattern takes that path (then the patterns answer it) */
	ktab gt;
	ktab_init(&gt, nrules);
	for (size_t i = 0; i < nrules; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (r->is_pattern || r->scope >= 0)
			continue;
		rc_buf_reset(&kb);
		rc_sv_key(&kb, ir, r->exact_key, r->exact_len);
		size_t pos;
		if (ktab_find(&gt, &L->global, kb.data, kb.len, &pos) >= 0)
			continue;
		int dropped = 0;
		for (size_t j = 0; j < pats.len; j++) {
			const rc_rule *p = *RC_VEC_AT(&pats, const rc_rule *, j);
			if (p->index > r->index)
				break;
			if (p->scope < 0 && rule_matches_path(ir, p, r)) {
				dropped = 1;
				break;
			}
		}
		rc_sv_entry *e = rc_vec_push(&L->global);
		e->key = rc_arena_strndup(&L->arena, kb.data, kb.len);
		e->len = (uint32_t)kb.len;
		e->rule = r;
		e->dropped = dropped;
		gt.slot[pos] = (uint32_t)L->global.len;
	}

	/* (name, scope) pairs of every host block, sorted by name then scope;
	 * rules of each scope, file order */
	rc_vec hs;
	rc_vec_init(&hs, sizeof(host_scope));
	size_t nscopes = ir->scopes.len;
	rc_vec *sc_exact = rc_xmalloc(sizeof(rc_vec) * (nscopes + 1));
	rc_vec *sc_pats = rc_xmalloc(sizeof(rc_vec) * (nscopes + 1));
	for (size_t k = 0; k < nscopes; k++) {
		const rc_scope *sc = RC_VEC_AT(&ir->scopes, rc_scope, k);
		for (uint32_t j = 0; j < sc->nhosts; j++) {
			host_scope *x = rc_vec_push(&hs);
			x->host = sc->hosts[j];
			x->scope = (int32_t)k;
		}
		rc_vec_init(&sc_exact[k], sizeof(const rc_rule *));
		rc_vec_init(&sc_pats[k], sizeof(const rc_rule *));
	}
	rc_vec gpats;    /* global patterns, file order */
	rc_vec_init(&gpats, sizeof(const rc_rule *));
	for (size_t i = 0; i < nrules; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		rc_vec *v = r->scope < 0 ? (r->is_pattern ? &gpats : NULL)
		                         : (r->is_pattern ? &sc_pats[r->scope] : &sc_exact[r->scope]);
		if (v)
			*(const rc_rule **)rc_vec_push(v) = r;
	}
	if (hs.len)
		rc_sort(hs.items, hs.len, sizeof(host_scope), host_scope_cmp);
	build_classes(ir, &hs, L);

	rc_vec hsc;      /* the scopes admitting this class, ascending */
	rc_vec_init(&hsc, sizeof(int32_t));
	rc_vec seen;     /* this host's keys from host-scoped exact rules */
	rc_vec_init(&seen, sizeof(rc_sv_entry));
	rc_vec hpats;    /* patterns admitting this host, file order */
	rc_vec_init(&hpats, sizeof(const rc_rule *));
	rc_vec hexact;   /* host-scoped exact rules admitting this host, file order */
	rc_vec_init(&hexact, sizeof(const rc_rule *));
	rc_buf hkey;
	rc_buf_init(&hkey);
	for (size_t ci = 0; ci < L->classes.len; ci++) {
		const char *h = *RC_VEC_AT(&L->classes, const char *, ci);
		class_scopes(&hs, h, &hsc);
		hexact.len = 0;
		hpats.len = 0;
		int scoped_pats = 0;
		for (size_t k = 0; k < hsc.len; k++) {
			int32_t sc = *RC_VEC_AT(&hsc, int32_t, k);
			for (size_t j = 0; j < sc_exact[sc].len; j++)
				*(const rc_rule **)rc_vec_push(&hexact) = *RC_VEC_AT(&sc_exact[sc], const rc_rule *, j);
			for (size_t j = 0; j < sc_pats[sc].len; j++)
				*(const rc_rule **)rc_vec_push(&hpats) = *RC_VEC_AT(&sc_pats[sc], const rc_rule *, j);
			scoped_pats |= sc_pats[sc].len > 0;
		}
		if (hexact.len == 0 && !scoped_pats)
			continue; /* the global layer and the patterns answer this host */
		for (size_t j = 0; j < gpats.len; j++)
			*(const rc_rule **)rc_vec_push(&hpats) = *RC_VEC_AT(&gpats, const rc_rule *, j);
		if (hsc.len > 1 && hexact.len > 1)
			rc_sort(hexact.items, hexact.len, sizeof(const rc_rule *), rule_index_cmp);
		if (hpats.len > 1)
			rc_sort(hpats.items, hpats.len, sizeof(const rc_rule *), rule_index_cmp);
		rc_buf_reset(&hkey);
		rc_sv_enc(&hkey, h, strlen(h), 0, 0);
		size_t hlen = hkey.len;
		seen.len = 0;
		ktab st;
		ktab_init(&st, hexact.len);
		/* pass 1: the host's own exact rules */
		for (size_t i = 0; i < hexact.len; i++) {
			const rc_rule *r = *RC_VEC_AT(&hexact, const rc_rule *, i);
			rc_buf_reset(&kb);
			rc_sv_key(&kb, ir, r->exact_key, r->exact_len);
			size_t pos;
			if (ktab_find(&st, &seen, kb.data, kb.len, &pos) >= 0)
				continue;
			rc_sv_entry *se = rc_vec_push(&seen);
			se->key = rc_arena_strndup(&L->arena, kb.data, kb.len);
			se->len = (uint32_t)kb.len;
			st.slot[pos] = (uint32_t)seen.len;
			size_t gpos;
			long gi = ktab_find(&gt, &L->global, kb.data, kb.len, &gpos);
			const rc_sv_entry *g = gi >= 0 ? RC_VEC_AT(&L->global, rc_sv_entry, gi) : NULL;
			if (g && g->dropped)
				g = NULL;
			const rc_rule *w = (g && g->rule->index < r->index) ? g->rule : r;
			const rc_rule *wp = NULL;
			for (size_t j = 0; j < hpats.len; j++) {
				const rc_rule *p = *RC_VEC_AT(&hpats, const rc_rule *, j);
				if (p->index > w->index)
					break;
				if (rule_matches_path(ir, p, r)) {
					wp = p;
					break;
				}
			}
			if (!wp && g && w == g->rule)
				continue; /* the global layer answers */
			if (wp && !g)
				continue; /* the patterns answer */
			hkey.len = hlen;
			rc_buf_add(&hkey, kb.data, kb.len);
			rc_sv_entry *e = rc_vec_push(&L->host);
			e->key = rc_arena_strndup(&L->arena, hkey.data, hkey.len);
			e->len = (uint32_t)hkey.len;
			e->rule = wp ? NULL : w;
			e->dash = wp != NULL;
			e->cls = h;
		}
		/* pass 2: global keys an earlier host-scoped pattern takes */
		for (size_t gi = 0; scoped_pats && gi < L->global.len; gi++) {
			const rc_sv_entry *g = RC_VEC_AT(&L->global, rc_sv_entry, gi);
			size_t pos;
			if (g->dropped || ktab_find(&st, &seen, g->key, g->len, &pos) >= 0)
				continue;
			int taken = 0;
			for (size_t j = 0; j < hpats.len; j++) {
				const rc_rule *p = *RC_VEC_AT(&hpats, const rc_rule *, j);
				if (p->index > g->rule->index)
					break;
				if (p->scope >= 0 && rule_matches_path(ir, p, g->rule)) {
					taken = 1;
					break;
				}
			}
			if (!taken)
				continue;
			hkey.len = hlen;
			rc_buf_add(&hkey, g->key, g->len);
			rc_sv_entry *e = rc_vec_push(&L->host);
			e->key = rc_arena_strndup(&L->arena, hkey.data, hkey.len);
			e->len = (uint32_t)hkey.len;
			e->dash = 1;
			e->cls = h;
		}
		ktab_fini(&st);
	}
	rc_buf_fini(&hkey);
	for (size_t k = 0; k < nscopes; k++) {
		rc_vec_fini(&sc_exact[k]);
		rc_vec_fini(&sc_pats[k]);
	}
	free(sc_exact);
	free(sc_pats);
	rc_vec_fini(&gpats);
	rc_vec_fini(&hexact);
	rc_vec_fini(&hs);
	rc_vec_fini(&hsc);
	rc_vec_fini(&seen);
	rc_vec_fini(&hpats);
	ktab_fini(&gt);
	rc_vec_fini(&pats);
	rc_buf_fini(&kb);

	/* drop the global keys the patterns answer, sort both layers */
	size_t w = 0;
	for (size_t i = 0; i < L->global.len; i++) {
		rc_sv_entry *e = RC_VEC_AT(&L->global, rc_sv_entry, i);
		if (!e->dropped)
			*RC_VEC_AT(&L->global, rc_sv_entry, w++) = *e;
	}
	L->global.len = w;
	rc_vec *layers[2] = { &L->host, &L->global };
	for (int k = 0; k < 2; k++) {
		if (layers[k]->len > 1)
			rc_sort(layers[k]->items, layers[k]->len, sizeof(rc_sv_entry), entry_cmp);
		for (size_t i = 0; i < layers[k]->len; i++) {
			const rc_sv_entry *e = RC_VEC_AT(layers[k], rc_sv_entry, i);
			if (e->len > L->key_max)
				L->key_max = e->len;
		}
	}
}

void rc_sv_layers_fini(rc_sv_layers *L)
{
	rc_vec_fini(&L->host);
	rc_vec_fini(&L->global);
	rc_vec_fini(&L->classes);
	rc_vec_fini(&L->wild);
	rc_vec_fini(&L->named);
	rc_vec_fini(&L->named_wild);
	rc_vec_fini(&L->plain);
	rc_arena_fini(&L->arena);
}

const rc_sv_layers *rc_sv_cache_layers(rc_sv_cache *c, const rc_ir *ir)
{
	if (!c->built) {
		rc_sv_layers_build(ir, &c->layers);
		c->built = 1;
	}
	return &c->layers;
}

void rc_sv_cache_fini(rc_sv_cache *c)
{
	if (c->built)
		rc_sv_layers_fini(&c->layers);
	c->built = 0;
}

/* ---- pattern regexes (design 4.2) ------------------------------------- */

static void regex_side(rc_buf *b, const rc_ir *ir, const rc_rule *r, int qctx, int named,
                       const int used[RD_MAX_CAPTURES], int group[RD_MAX_CAPTURES], int *ngroups)
{
	/* `set splat-parent no-match`: a final slash-splat keeps its slash */
	int parent = !(ir->policy & RD_POLICY_SPLAT_NO_PARENT);
	rc_buf enc;
	rc_buf_init(&enc);
	for (uint32_t t = 0; t < r->nsrc; t++) {
		const rd_ptok *tok = &r->src[t];
		int splat_next = t + 1 < r->nsrc && r->src[t + 1].kind == RD_PTOK_SPLAT;
		switch (tok->kind) {
		case RD_PTOK_LIT: {
			size_t n = tok->len;
			/* a final slash-splat also matches without that slash
			 * (unless splat-parent no-match) */
			if (parent && splat_next && n > 0 && tok->text[n - 1] == '/')
				n--;
			rc_buf_reset(&enc);
			rc_sv_enc(&enc, tok->text, n, qctx, 0);
			rc_regex_lit(b, enc.data, enc.len);
			break;
		}
		case RD_PTOK_PARAM:
		case RD_PTOK_SPLAT: {
			int cap = tok->capture;
			int slash = parent && tok->kind == RD_PTOK_SPLAT && t > 0 && r->src[t - 1].kind == RD_PTOK_LIT &&
			            r->src[t - 1].len > 0 && r->src[t - 1].text[r->src[t - 1].len - 1] == '/';
			const char *cls = tok->kind == RD_PTOK_PARAM ? "[^/ ]+" : "[^ ]*";
			if (slash)
				rc_buf_adds(b, "(?:/");
			if (used[cap]) {
				group[cap] = ++*ngroups;
				if (named)
					rc_buf_printf(b, "(?<redir_%c%d>%s)", qctx ? 'q' : 'p', cap, cls);
				else
					rc_buf_printf(b, "(%s)", cls);
			} else {
				rc_buf_adds(b, cls);
			}
			if (slash)
				rc_buf_adds(b, ")?");
			break;
		}
		default:
			rc_buf_adds(b, "(*FAIL)"); /* a bug: a corrupt token never matches */
			break;
		}
	}
	rc_buf_fini(&enc);
}

void rc_sv_wild_host_re(rc_buf *b, const char *const *wild, size_t n, const char *open)
{
	/* SUB: labels of [a-z0-9_-] joined by '.'; lazy when captured, so the
	 * first name tried at each split that matches is the longest that
	 * admits the host (rd_host_subdomain) */
	if (open)
		rc_buf_adds(b, open);
	rc_buf_adds(b, "[a-z0-9_\\x2D]+(?:\\x2E[a-z0-9_\\x2D]+)*");
	if (open)
		rc_buf_adds(b, "?)");
	rc_buf_adds(b, "\\x2E(?:");
	rc_buf enc;
	rc_buf_init(&enc);
	for (size_t i = 0; i < n; i++) {
		if (i)
			rc_buf_addc(b, '|');
		rc_buf_reset(&enc);
		rc_sv_enc(&enc, wild[i] + 2, strlen(wild[i] + 2), 0, 0);
		rc_regex_lit(b, enc.data, enc.len);
	}
	rc_buf_fini(&enc);
	rc_buf_addc(b, ')');
}

size_t rc_sv_class_re(rc_buf *b, const rc_sv_layers *L, size_t from, size_t max)
{
	size_t start = b->len, to = from;
	rc_buf enc;
	rc_buf_init(&enc);
	rc_buf_adds(b, "([a-z0-9_\\x2D]+(?:\\x2E[a-z0-9_\\x2D]+)*?)\\x2E(");
	for (; to < L->wild.len; to++) {
		const char *w = *RC_VEC_AT(&L->wild, const char *, to);
		size_t mark = b->len;
		if (to > from)
			rc_buf_addc(b, '|');
		rc_buf_reset(&enc);
		rc_sv_enc(&enc, w + 2, strlen(w + 2), 0, 0);
		rc_regex_lit(b, enc.data, enc.len);
		if (to > from && b->len - start + 1 > max) {
			b->len = mark; /* this name starts the next chunk */
			b->data[mark] = '\0';
			break;
		}
	}
	rc_buf_fini(&enc);
	rc_buf_addc(b, ')');
	return to;
}

/* The wildcard names of a scope, longest first (NULL when it has none). */
static const char **scope_wild(const rc_scope *s, size_t *n)
{
	*n = 0;
	const char **w = NULL;
	for (uint32_t i = 0; i < s->nhosts; i++)
		if (s->hosts[i][0] == '*') {
			if (!w)
				w = rc_xmalloc(sizeof *w * s->nhosts);
			w[(*n)++] = s->hosts[i];
		}
	if (*n > 1)
		rc_sort(w, *n, sizeof *w, wild_cmp);
	return w;
}

void rc_sv_subdomain_re(rc_buf *b, const rc_ir *ir, const rc_rule *r, const char *open)
{
	size_t nw = 0;
	const char **w = scope_wild(RC_VEC_AT(&ir->scopes, rc_scope, r->scope), &nw);
	rc_sv_wild_host_re(b, w, nw, open);
	free(w);
}

int rc_sv_pattern_regex(rc_buf *b, const rc_ir *ir, const rc_rule *r, int named,
                        int pgroup[RD_MAX_CAPTURES], int qgroup[RD_MAX_CAPTURES])
{
	return rc_sv_pattern_regex_sub(b, ir, r, named, pgroup, qgroup, NULL);
}

int rc_sv_pattern_regex_sub(rc_buf *b, const rc_ir *ir, const rc_rule *r, int named,
                            int pgroup[RD_MAX_CAPTURES], int qgroup[RD_MAX_CAPTURES], int *subgroup)
{
	int pused[RD_MAX_CAPTURES] = { 0 }, qused[RD_MAX_CAPTURES] = { 0 };
	int anyq = 0;
	for (uint32_t t = 0; t < r->target.ntoks; t++) {
		const rd_ttok *tok = &r->target.toks[t];
		if (tok->kind == RD_TTOK_CAP_PATH)
			pused[tok->capture] = 1;
		else if (tok->kind == RD_TTOK_CAP_QUERY)
			qused[tok->capture] = anyq = 1;
	}
	if (r->gone) {
		memset(pused, 0, sizeof pused);
		memset(qused, 0, sizeof qused);
		anyq = 0;
	}
	for (int i = 0; i < RD_MAX_CAPTURES; i++)
		pgroup[i] = qgroup[i] = 0;
	if (subgroup)
		*subgroup = 0;
	int ngroups = 0;
	rc_buf_addc(b, '^');
	regex_side(b, ir, r, 0, named, pused, pgroup, &ngroups);
	rc_buf_addc(b, ' ');
	if (anyq)
		regex_side(b, ir, r, 1, named, qused, qgroup, &ngroups);
	else
		rc_buf_adds(b, "[^ ]*");
	rc_buf_addc(b, ' ');
	if (r->scope < 0) {
		rc_buf_adds(b, ".*");
	} else if (subgroup && !r->gone && r->target.uses_subdomain) {
		/* every name is a wildcard (the grammar binds :subdomain only then) */
		*subgroup = ++ngroups;
		rc_sv_subdomain_re(b, ir, r, named ? "(?<redir_sub>" : "(");
	} else {
		const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, r->scope);
		rc_buf_adds(b, "(?:");
		rc_buf enc;
		rc_buf_init(&enc);
		int first = 1;
		for (uint32_t i = 0; i < s->nhosts; i++) {
			if (s->hosts[i][0] == '*')
				continue;
			if (!first)
				rc_buf_addc(b, '|');
			first = 0;
			rc_buf_reset(&enc);
			rc_sv_enc(&enc, s->hosts[i], strlen(s->hosts[i]), 0, 0);
			rc_regex_lit(b, enc.data, enc.len);
		}
		rc_buf_fini(&enc);
		size_t nw = 0;
		const char **w = scope_wild(s, &nw);
		if (nw) {
			if (!first)
				rc_buf_addc(b, '|');
			rc_sv_wild_host_re(b, w, nw, NULL);
		}
		free(w);
		rc_buf_addc(b, ')');
	}
	rc_buf_addc(b, '$');
	return ngroups;
}

/* ---- small things ------------------------------------------------------ */

void rc_sv_rule_label(rc_buf *b, const rc_ir *ir, const rc_rule *r)
{
	const rc_file *f = rc_diags_file(ir->diags, r->loc.file);
	rc_buf_printf(b, "%s:%u %s", f ? f->path : "?", r->loc.line, r->source_text);
	if (r->gone)
		rc_buf_adds(b, " gone");
	else
		rc_buf_printf(b, " -> %s %d", r->target_text, r->status);
	if (!r->gone && r->query_drop)
		rc_buf_adds(b, " query drop");
	if (r->scope >= 0) {
		const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, r->scope);
		rc_buf_adds(b, " (host");
		for (uint32_t i = 0; i < s->nhosts; i++)
			rc_buf_printf(b, " %s", s->hosts[i]);
		rc_buf_addc(b, ')');
	}
}

uint32_t rc_sv_query_tok(const rc_rule *r)
{
	for (uint32_t t = 0; t < r->target.ntoks; t++) {
		const rd_ttok *tok = &r->target.toks[t];
		if (tok->kind == RD_TTOK_LIT && tok->len > 0 && tok->text[0] == '?')
			return t;
	}
	return r->target.ntoks;
}

const char *rc_sv_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* ---- requests already in normal form (design section 12) -------------- */

/* The bytes of one path segment that a normal-form path may hold: those
 * encP and encQ both keep (PATHSAFE minus '/', '&', '=', '+'), and no
 * capital under `case sensitive` (the key escapes capitals).  Every byte
 * is a literal or a \xHH escape, so the class reads the same in an nginx
 * and an Apache double-quoted string. */
static void normal_seg_class(rc_buf *b, const rc_ir *ir)
{
	rc_buf_adds(b, "[a-z0-9");
	if (ir->policy & RD_POLICY_CASE_INSENSITIVE)
		rc_buf_adds(b, "A-Z");
	rc_buf_adds(b, "._~!\\x24'()*,;:@\\x2D]");
}

void rc_sv_normal_path_re(rc_buf *b, const rc_ir *ir, const char *open)
{
	/* "/" alone, or segments "/" + bytes that are not "." or "..": no
	 * empty segment (no "//"), no dot segment; then one "/" may follow the
	 * segments: part of the path under `trailing-slash strict`, outside
	 * the group under `ignore` (step 4 drops it; there "//" is "/", which
	 * normalization also gives) */
	rc_buf_adds(b, open);
	rc_buf_adds(b, "(?:/|(?:/(?!\\.\\.?(?!");
	normal_seg_class(b, ir);
	rc_buf_adds(b, "))");
	normal_seg_class(b, ir);
	rc_buf_adds(b, "+)+");
	rc_buf_adds(b, (ir->policy & RD_POLICY_TRAILING_STRICT) ? "/?))" : "))/?");
}

void rc_sv_normal_query_re(rc_buf *b)
{
	/* encRawQuery(q) == q: QUERYSAFE bytes and valid escapes only */
	rc_buf_adds(b, "(?:[a-zA-Z0-9._~!\\x24'()*,;:@/?&=+\\x2D]|%[0-9A-Fa-f]{2})*");
}

/* ---- the pattern index (design section 13) ----------------------------- */

/* The first segment of a pattern's normalized source when it is wholly
 * literal ("blog" for /blog/:id and for /blog/ followed by a splat), else
 * NULL (a first segment that is a placeholder, a splat, or literal text
 * followed by a splat); *n gets its length. */
static const char *first_segment(const rc_rule *r, size_t *n)
{
	if (r->nsrc == 0 || r->src[0].kind != RD_PTOK_LIT || r->src[0].len < 2 || r->src[0].text[0] != '/')
		return NULL;
	const char *s = r->src[0].text + 1;
	const char *slash = memchr(s, '/', r->src[0].len - 1);
	if (!slash || slash == s)
		return NULL;
	*n = (size_t)(slash - s);
	return s;
}

/* mod_rewrite's order of CondPattern "<STRING": shorter first, then bytes */
static int group_key_cmp(const void *a, const void *b)
{
	const rc_sv_group *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->key, y->key, x->len);
}

void rc_sv_groups_build(const rc_ir *ir, int fold, rc_sv_groups *G)
{
	memset(G, 0, sizeof *G);
	rc_arena_init(&G->arena);
	rc_vec_init(&G->groups, sizeof(rc_sv_group));
	rc_vec_init(&G->wild, sizeof(const rc_rule *));
	size_t nrules = rc_ir_nrules(ir);
	rc_buf kb;
	rc_buf_init(&kb);
	/* one group per distinct key, its literal patterns in file order */
	rc_vec own;    /* rc_sv_group with `rules` holding only its own patterns */
	rc_vec_init(&own, sizeof(rc_sv_group));
	ktab t;
	ktab_init(&t, nrules);
	rc_vec ents;   /* rc_sv_entry mirror of `own` for ktab_find */
	rc_vec_init(&ents, sizeof(rc_sv_entry));
	for (size_t i = 0; i < nrules; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (!r->is_pattern)
			continue;
		size_t n = 0;
		const char *seg = first_segment(r, &n);
		if (!seg) {
			*(const rc_rule **)rc_vec_push(&G->wild) = r;
			continue;
		}
		rc_buf_reset(&kb);
		rc_sv_enc(&kb, seg, n, 0, 0);
		if (fold)
			for (size_t k = 0; k < kb.len; k++)
				if (kb.data[k] >= 'A' && kb.data[k] <= 'Z')
					kb.data[k] = (char)(kb.data[k] + 32);
		size_t pos;
		long gi = ktab_find(&t, &ents, kb.data, kb.len, &pos);
		if (gi < 0) {
			rc_sv_entry *e = rc_vec_push(&ents);
			e->key = rc_arena_strndup(&G->arena, kb.data, kb.len);
			e->len = (uint32_t)kb.len;
			t.slot[pos] = (uint32_t)ents.len;
			rc_sv_group *g = rc_vec_push(&own);
			g->key = e->key;
			g->len = e->len;
			rc_vec_init(&g->rules, sizeof(const rc_rule *));
			gi = (long)own.len - 1;
		}
		rc_sv_group *g = RC_VEC_AT(&own, rc_sv_group, gi);
		*(const rc_rule **)rc_vec_push(&g->rules) = r;
	}
	ktab_fini(&t);
	rc_vec_fini(&ents);
	rc_buf_fini(&kb);
	/* each group: its own patterns merged with the wildcard ones, file order */
	for (size_t gi = 0; gi < own.len; gi++) {
		rc_sv_group *o = RC_VEC_AT(&own, rc_sv_group, gi);
		rc_sv_group *g = rc_vec_push(&G->groups);
		g->key = o->key;
		g->len = o->len;
		rc_vec_init(&g->rules, sizeof(const rc_rule *));
		size_t a = 0, w = 0;
		while (a < o->rules.len || w < G->wild.len) {
			const rc_rule *ra = a < o->rules.len ? *RC_VEC_AT(&o->rules, const rc_rule *, a) : NULL;
			const rc_rule *rw = w < G->wild.len ? *RC_VEC_AT(&G->wild, const rc_rule *, w) : NULL;
			if (ra && (!rw || ra->index < rw->index)) {
				*(const rc_rule **)rc_vec_push(&g->rules) = ra;
				a++;
			} else {
				*(const rc_rule **)rc_vec_push(&g->rules) = rw;
				w++;
			}
		}
		rc_vec_fini(&o->rules);
	}
	rc_vec_fini(&own);
	if (G->groups.len > 1)
		rc_sort(G->groups.items, G->groups.len, sizeof(rc_sv_group), group_key_cmp);
}

void rc_sv_groups_fini(rc_sv_groups *G)
{
	for (size_t i = 0; i < G->groups.len; i++)
		rc_vec_fini(&RC_VEC_AT(&G->groups, rc_sv_group, i)->rules);
	rc_vec_fini(&G->groups);
	rc_vec_fini(&G->wild);
	rc_arena_fini(&G->arena);
}

int rc_sv_has_patterns(const rc_ir *ir)
{
	for (size_t i = 0; i < rc_ir_nrules(ir); i++)
		if (rc_ir_rule(ir, i)->is_pattern)
			return 1;
	return 0;
}

size_t rc_sv_class_subdomain(const rc_ir *ir, const rc_rule *r, const char *cls)
{
	rd_rule view;
	rc_rule_view(ir, r, &view);
	size_t n = cls ? rd_host_subdomain(&view, cls) : 0;
	if (n == 0)
		rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", r->loc,
		            "internal error: rule '%s' answers the host class '%s', which its block does "
		            "not admit (a retry will not help; please report it)",
		            rc_quote((rc_arena *)&ir->arena, r->source_text, strlen(r->source_text), 60),
		            cls ? cls : "(none)");
	return n;
}
