/*
 * table.c - the `table` target: BASE.redirdb, a memory-mappable file built
 * around a minimal perfect hash of the exact keys (libcmph BDZ, packed),
 * read by runtime/table.c.  Layout: runtime/table_format.h and
 * doc/redirdb-format.md.
 *
 * First match per host in file order: an exact key keeps every rule that
 * has it (one per host scope) as a candidate list in file order; patterns
 * are stored in file order behind an index of their leading segments per
 * host (a trie, build_pindex), so the reader
 * takes the first admitted exact candidate and the first admitted pattern
 * and answers with the lower rule index.
 *
 * Output is deterministic: the only randomness, cmph's seeds, comes from
 * rand() seeded here with fixed values.
 */
#include "backends/backend.h"
#include "backends/table_build.h"

#include <cmph.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/table_format.h"

/* ---- small helpers ------------------------------------------------------ */

static void pad4(rc_buf *b)
{
	while (b->len % 4)
		rc_buf_addc(b, '\0');
}

/* rc_buf_add, but an empty vector's NULL items are fine */
static void add_bytes(rc_buf *b, const void *p, size_t n)
{
	if (n > 0)
		rc_buf_add(b, p, n);
}

static void put_u32(rc_buf *b, uint32_t v)
{
	rc_buf_add(b, (const char *)&v, 4);
}

static void put_varint(rc_buf *b, uint32_t v)
{
	while (v >= 0x80) {
		rc_buf_addc(b, (char)(v | 0x80));
		v >>= 7;
	}
	rc_buf_addc(b, (char)v);
}

static uint32_t pool_add(rc_buf *pool, const char *s, size_t n, int nul)
{
	uint32_t off = (uint32_t)pool->len;
	add_bytes(pool, s, n);
	if (nul)
		rc_buf_addc(pool, '\0');
	return off;
}

static int status_code(int status)
{
	for (int i = 0; i < 6; i++)
		if (rdb_status_codes[i] == status)
			return i;
	return -1;
}

/* ---- keys --------------------------------------------------------------- */

typedef struct key_ent {
	const char *key;
	uint32_t len;
	uint32_t head, tail; /* candidate list: indices into the exact rules */
	uint32_t ncands;
} key_ent;

typedef struct key_src {
	key_ent *keys;
	uint32_t n, pos;
} key_src;

static int key_src_read(void *data, char **key, cmph_uint32 *len)
{
	key_src *ks = data;
	key_ent *k = &ks->keys[ks->pos++];
	*key = (char *)k->key;
	*len = k->len;
	return (int)k->len;
}

static void key_src_dispose(void *data, char *key, cmph_uint32 len)
{
	(void)data;
	(void)key;
	(void)len;
}

static void key_src_rewind(void *data)
{
	((key_src *)data)->pos = 0;
}

static int key_ent_cmp(const void *a, const void *b)
{
	const key_ent *x = a, *y = b;
	size_t m = x->len < y->len ? x->len : y->len;
	int r = memcmp(x->key, y->key, m);
	if (r)
		return r;
	return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

/* Build the packed BDZ function over keys[0..n) and the slot of each key.
 * 0, or -1 when every seed failed. */
static int build_cmph(key_ent *keys, uint32_t n, rc_buf *hash, uint32_t *slot_of_key)
{
	static const unsigned seeds[] = { 0x5eed0001u, 0x5eed0002u, 0x5eed0003u, 0x5eed0004u,
	                                  0x5eed0005u, 0x5eed0006u, 0x5eed0007u, 0x5eed0008u };
	key_src ks = { keys, n, 0 };
	cmph_io_adapter_t src = { &ks, n, key_src_read, key_src_dispose, key_src_rewind };
	uint8_t *seen = rc_xmalloc(n);
	for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
		srand(seeds[s]);
		ks.pos = 0;
		cmph_config_t *cfg = cmph_config_new(&src);
		cmph_config_set_algo(cfg, CMPH_BDZ);
		cmph_config_set_verbosity(cfg, 0);
		cmph_t *mph = cmph_new(cfg);
		cmph_config_destroy(cfg);
		if (!mph)
			continue;
		cmph_uint32 psize = cmph_packed_size(mph);
		rc_buf_reset(hash);
		if (psize == 0) {
			cmph_destroy(mph);
			continue;
		}
		/* reserve psize bytes in the buffer, then pack into it */
		char *tmp = rc_xmalloc(psize);
		cmph_pack(mph, tmp);
		cmph_destroy(mph);
		rc_buf_add(hash, tmp, psize);
		free(tmp);
		memset(seen, 0, n);
		int ok = 1;
		for (uint32_t i = 0; i < n && ok; i++) {
			cmph_uint32 v = cmph_search_packed(hash->data, keys[i].key, keys[i].len);
			if (v >= n || seen[v])
				ok = 0;
			else
				seen[v] = 1, slot_of_key[i] = v;
		}
		if (ok) {
			free(seen);
			return 0;
		}
	}
	free(seen);
	return -1;
}

/* ---- the pattern index -------------------------------------------------- */

/* One edge of a pattern's key. */
typedef struct key_edge {
	uint32_t kind;    /* RDB_EDGE_LIT or RDB_EDGE_PARAM */
	const char *seg;  /* LIT: the segment (not folded), without slashes */
	uint32_t len;
} key_edge;

/* A pattern's index key: its leading segments that are a whole literal
 * segment or a whole placeholder, at most RDB_TRIE_DEPTH.  "/blog/:y/x-"
 * + splat is blog, PARAM; "/blog" + splat and "/" + splat have none;
 * "/:lang/about" is PARAM, about.  Each key edge is a promise about the path: a path that the
 * pattern matches has that segment there (a placeholder matches one whole
 * non-empty segment; "/blog/" + splat also matches "/blog", whose first
 * segment is blog too).  Returns the number of edges. */
static uint32_t pattern_key(const rc_rule *r, key_edge *key)
{
	uint32_t n = 0;
	if (r->nsrc == 0 || r->src[0].kind != RD_PTOK_LIT || r->src[0].len == 0 ||
	    r->src[0].text[0] != '/')
		return 0;
	for (uint32_t t = 0; t < r->nsrc && n < RDB_TRIE_DEPTH; t++) {
		const rd_ptok *tok = &r->src[t];
		if (tok->kind == RD_PTOK_LIT) {
			/* at a segment start only when the literal starts with '/' */
			if (tok->len == 0 || tok->text[0] != '/')
				return n;
			const char *p = tok->text + 1, *end = tok->text + tok->len;
			for (;;) {
				const char *slash = memchr(p, '/', (size_t)(end - p));
				if (!slash) {
					/* the piece after the last slash: a whole segment
					 * only at the end of the source */
					if (p < end && t + 1 == r->nsrc && n < RDB_TRIE_DEPTH)
						key[n++] = (key_edge){ RDB_EDGE_LIT, p, (uint32_t)(end - p) };
					if (p < end)
						return n;
					break; /* the literal ends with '/': the next token starts a segment */
				}
				if (slash == p || n == RDB_TRIE_DEPTH)
					return n; /* an empty segment cannot occur in a normal path */
				key[n++] = (key_edge){ RDB_EDGE_LIT, p, (uint32_t)(slash - p) };
				p = slash + 1;
			}
		} else if (tok->kind == RD_PTOK_PARAM) {
			/* a whole segment when the next token starts a new one */
			if (t + 1 < r->nsrc && !(r->src[t + 1].kind == RD_PTOK_LIT && r->src[t + 1].len > 0 &&
			                         r->src[t + 1].text[0] == '/'))
				return n;
			key[n++] = (key_edge){ RDB_EDGE_PARAM, "", 0 };
			if (t + 1 == r->nsrc)
				return n;
			/* the next literal's leading '/' ends this segment: go on
			 * with it as if it started the source */
		} else {
			return n; /* a splat: the rest of the path */
		}
	}
	return n;
}

typedef struct pnode {
	uint32_t parent;  /* node id (0 root, i + 1 = nodes[i]) or RDB_NODE_HOSTS */
	uint32_t kind;
	uint32_t edges;   /* RDB_HAS_* */
	const char *seg;  /* folded */
	uint32_t len;
	uint32_t slot;    /* in the file's node table */
	rc_vec list;      /* uint32_t pattern indices, ascending */
} pnode;

typedef struct pindex_builder {
	rc_vec nodes;     /* pnode; node id = index + 1 */
	uint32_t *map;    /* open addressing: node index or UINT32_MAX */
	size_t mcap;
	rc_arena *A;
	uint32_t root_edges; /* RDB_HAS_* */
} pindex_builder;

static int fold_equal(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		x = (unsigned char)rd_ascii_lower((unsigned char)x);
		y = (unsigned char)rd_ascii_lower((unsigned char)y);
		if (x != y)
			return 0;
	}
	return 1;
}

static char *fold_dup(rc_arena *a, const char *s, size_t n)
{
	char *d = rc_arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		d[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	return d;
}

/* Double the map when it is half full. */
static void pindex_grow(pindex_builder *pb)
{
	free(pb->map);
	pb->mcap *= 2;
	pb->map = rc_xmalloc(pb->mcap * sizeof *pb->map);
	memset(pb->map, 0xff, pb->mcap * sizeof *pb->map);
	for (size_t b = 0; b < pb->nodes.len; b++) {
		const pnode *n = RC_VEC_AT(&pb->nodes, pnode, b);
		size_t i = rdb_edge_hash(n->parent, n->kind, n->seg, n->len) & (pb->mcap - 1);
		while (pb->map[i] != UINT32_MAX)
			i = (i + 1) & (pb->mcap - 1);
		pb->map[i] = (uint32_t)b;
	}
}

/* The id of the node for edge (parent, kind, seg), made when absent. */
static uint32_t pindex_node(pindex_builder *pb, uint32_t parent, uint32_t kind, const char *seg,
                            uint32_t len)
{
	if (2 * (pb->nodes.len + 1) >= pb->mcap)
		pindex_grow(pb);
	size_t i = rdb_edge_hash(parent, kind, seg, len) & (pb->mcap - 1);
	while (pb->map[i] != UINT32_MAX) {
		pnode *c = RC_VEC_AT(&pb->nodes, pnode, pb->map[i]);
		if (c->parent == parent && c->kind == kind && c->len == len && fold_equal(c->seg, seg, len))
			return pb->map[i] + 1;
		i = (i + 1) & (pb->mcap - 1);
	}
	pb->map[i] = (uint32_t)pb->nodes.len;
	uint32_t has = kind == RDB_EDGE_LIT ? RDB_HAS_LIT : kind == RDB_EDGE_PARAM ? RDB_HAS_PARAM : 0;
	if (parent == 0)
		pb->root_edges |= has;
	else if (parent == RDB_NODE_HOSTS)
		pb->root_edges |= RDB_HAS_HOSTS;
	else
		RC_VEC_AT(&pb->nodes, pnode, parent - 1)->edges |= has;
	pnode *n = rc_vec_push(&pb->nodes);
	n->parent = parent;
	n->kind = kind;
	n->seg = fold_dup(pb->A, seg, len);
	n->len = len;
	rc_vec_init(&n->list, sizeof(uint32_t));
	return (uint32_t)pb->nodes.len;
}

static void build_pindex(const rc_ir *ir, rc_rule **pats, uint32_t npats, rc_buf *pool,
                         rc_buf *out, rc_arena *A)
{
	pindex_builder pb = { { 0 }, NULL, 64, A, 0 };
	rc_vec_init(&pb.nodes, sizeof(pnode));
	pb.map = rc_xmalloc(pb.mcap * sizeof *pb.map);
	memset(pb.map, 0xff, pb.mcap * sizeof *pb.map);
	rc_vec root;
	rc_vec_init(&root, sizeof(uint32_t));
	uint32_t depth = 0;
	key_edge key[RDB_TRIE_DEPTH];
	for (uint32_t pi = 0; pi < npats; pi++) {
		const rc_rule *r = pats[pi];
		uint32_t nk = pattern_key(r, key);
		if (nk > depth)
			depth = nk;
		const rc_scope *sc = r->scope < 0 ? NULL : RC_VEC_AT(&ir->scopes, rc_scope, r->scope);
		uint32_t nroots = sc ? sc->nhosts : 1;
		for (uint32_t h = 0; h < nroots; h++) {
			uint32_t node = 0;
			if (sc) {
				node = pindex_node(&pb, RDB_NODE_HOSTS, RDB_EDGE_HOST, sc->hosts[h],
				                   (uint32_t)strlen(sc->hosts[h]));
				if (sc->hosts[h][0] == '*')
					pb.root_edges |= RDB_HAS_WILD_HOSTS;
			}
			for (uint32_t k = 0; k < nk; k++)
				node = pindex_node(&pb, node, key[k].kind, key[k].seg, key[k].len);
			rc_vec *list = node == 0 ? &root : &RC_VEC_AT(&pb.nodes, pnode, node - 1)->list;
			/* a scope names each host once, so pi is new to this list */
			*(uint32_t *)rc_vec_push(list) = pi;
		}
	}
	free(pb.map);

	/* the file's node table; a node comes after its parent, so the
	 * parent's slot is known when the child's hash is made */
	uint32_t size = 1;
	while (size < 2 * pb.nodes.len)
		size <<= 1;
	rdb_node *table = calloc(size, sizeof *table);
	if (!table)
		abort();
	uint32_t next = (uint32_t)((sizeof(rdb_pindex_head) + size * sizeof(rdb_node)) / 4);
	rdb_pindex_head ph = { size, next, (uint32_t)root.len, depth, pb.root_edges, { 0, 0, 0 } };
	next += (uint32_t)root.len;
	for (size_t b = 0; b < pb.nodes.len; b++) {
		pnode *n = RC_VEC_AT(&pb.nodes, pnode, b);
		uint32_t parent = n->parent;
		if (parent != 0 && parent != RDB_NODE_HOSTS)
			parent = RC_VEC_AT(&pb.nodes, pnode, parent - 1)->slot + 1;
		uint32_t i = rdb_edge_hash(parent, n->kind, n->seg, n->len) & (size - 1);
		while (table[i].kind != RDB_EDGE_EMPTY)
			i = (i + 1) & (size - 1);
		n->slot = i;
		table[i].parent = parent;
		table[i].kind = n->kind | n->edges;
		table[i].seg_off = n->len ? pool_add(pool, n->seg, n->len, 0) : 0;
		table[i].seg_len = n->len;
		table[i].list_off = next;
		table[i].count = (uint32_t)n->list.len;
		next += (uint32_t)n->list.len;
	}
	rc_buf_add(out, (const char *)&ph, sizeof ph);
	rc_buf_add(out, (const char *)table, size * sizeof *table);
	add_bytes(out, root.items, root.len * 4);
	for (size_t b = 0; b < pb.nodes.len; b++) {
		pnode *n = RC_VEC_AT(&pb.nodes, pnode, b);
		add_bytes(out, n->list.items, n->list.len * 4);
		rc_vec_fini(&n->list);
	}
	free(table);
	rc_vec_fini(&pb.nodes);
	rc_vec_fini(&root);
}

/* ---- the whole file ----------------------------------------------------- */

static void put_tok(rc_buf *b, uint8_t kind, uint8_t capture, uint32_t len, uint32_t off)
{
	rdb_tok t = { kind, capture, 0, len, off };
	rc_buf_add(b, (const char *)&t, sizeof t);
}

static uint32_t hostset_of(const rc_ir *ir, int32_t scope, uint32_t *scope_off, rc_buf *hosts,
                           rc_buf *pool)
{
	if (scope < 0)
		return RDB_NO_HOSTS;
	if (scope_off[scope] != RDB_NONE)
		return scope_off[scope];
	const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, scope);
	uint32_t off = (uint32_t)hosts->len;
	put_u32(hosts, s->nhosts);
	for (uint32_t i = 0; i < s->nhosts; i++)
		put_u32(hosts, pool_add(pool, s->hosts[i], strlen(s->hosts[i]), 1));
	scope_off[scope] = off;
	return off;
}

static int rule_error(const rc_ir *ir, const rc_rule *r, const char *why)
{
	rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", r->loc,
	            "the table target cannot store rule '%s': %s", r->source_text, why);
	return -1;
}

int rc_table_build(const rc_ir *ir, rc_buf *file)
{
	size_t nrules = rc_ir_nrules(ir);
	int ci = (ir->policy & RD_POLICY_CASE_INSENSITIVE) != 0;
	rc_arena A;
	rc_arena_init(&A);
	rc_buf sec[RDB_NSECTIONS];
	for (int i = 0; i < RDB_NSECTIONS; i++)
		rc_buf_init(&sec[i]);
	rc_buf *pool = &sec[RDB_SEC_POOL];
	rc_buf_addc(pool, '\0'); /* offset 0: the empty string */
	int rc = -1;

	uint32_t *scope_off = rc_xmalloc((ir->scopes.len + 1) * sizeof *scope_off);
	memset(scope_off, 0xff, (ir->scopes.len + 1) * sizeof *scope_off);

	/* exact keys: deduplicated, each with its rules in file order */
	rc_vec keys, pats;
	rc_vec_init(&keys, sizeof(key_ent));
	rc_vec_init(&pats, sizeof(rc_rule *));
	uint32_t *cand_next = rc_xmalloc((nrules + 1) * sizeof *cand_next);
	size_t mcap = 16;
	while (mcap < 2 * nrules + 2)
		mcap <<= 1;
	uint32_t *map = rc_xmalloc(mcap * sizeof *map);
	memset(map, 0xff, mcap * sizeof *map);
	uint32_t max_key_len = 0;
	for (size_t i = 0; i < nrules; i++) {
		rc_rule *r = rc_ir_rule(ir, i);
		if (r->is_pattern) {
			if (r->nsrc > RDB_MAX_TOKS || r->target.ntoks > RDB_MAX_TOKS) {
				rule_error(ir, r, "more than 160 source or target tokens");
				goto out;
			}
			*(rc_rule **)rc_vec_push(&pats) = r;
			continue;
		}
		for (uint32_t t = 0; t < r->target.ntoks; t++) {
			const rd_ttok *tk = &r->target.toks[t];
			if (tk->kind != RD_TTOK_LIT && tk->kind != RD_TTOK_SUBDOMAIN) {
				rule_error(ir, r, "an exact rule whose target uses a capture");
				goto out;
			}
			/* the subdomain is a mark byte in the stored target */
			if (tk->kind == RD_TTOK_LIT && r->target.uses_subdomain &&
			    memchr(tk->text, RDB_SUBDOMAIN_MARK, tk->len)) {
				rule_error(ir, r, "a target holding a control byte");
				goto out;
			}
		}
		const char *k = ci ? fold_dup(&A, r->exact_key, r->exact_len) : r->exact_key;
		uint32_t kl = r->exact_len;
		if (kl > max_key_len)
			max_key_len = kl;
		size_t h = rc_hash_bytes(k, kl, 0) & (mcap - 1);
		key_ent *ke = NULL;
		while (map[h] != UINT32_MAX) {
			key_ent *c = RC_VEC_AT(&keys, key_ent, map[h]);
			if (c->len == kl && memcmp(c->key, k, kl) == 0) {
				ke = c;
				break;
			}
			h = (h + 1) & (mcap - 1);
		}
		cand_next[i] = UINT32_MAX;
		if (!ke) {
			map[h] = (uint32_t)keys.len;
			ke = rc_vec_push(&keys);
			ke->key = k;
			ke->len = kl;
			ke->head = ke->tail = (uint32_t)i;
			ke->ncands = 1;
		} else {
			cand_next[ke->tail] = (uint32_t)i;
			ke->tail = (uint32_t)i;
			ke->ncands++;
		}
	}
	free(map);
	map = NULL;

	uint32_t nkeys = (uint32_t)keys.len;
	key_ent *ka = keys.items;
	uint32_t *slot_of_key = rc_xmalloc((nkeys + 1) * sizeof *slot_of_key);
	uint32_t hash_kind = RDB_HASH_SORTED;
	if (nkeys >= RDB_CMPH_THRESHOLD) {
		if (build_cmph(ka, nkeys, &sec[RDB_SEC_HASH], slot_of_key) != 0) {
			rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", RC_NOLOC,
			            "the table target could not build a perfect hash over %u keys "
			            "(cmph failed with every seed)", nkeys);
			free(slot_of_key);
			goto out;
		}
		hash_kind = RDB_HASH_CMPH_BDZ;
	} else {
		if (nkeys > 1)
			rc_sort(ka, nkeys, sizeof *ka, key_ent_cmp);
		for (uint32_t i = 0; i < nkeys; i++)
			slot_of_key[i] = i;
	}
	uint32_t *key_at_slot = rc_xmalloc((nkeys + 1) * sizeof *key_at_slot);
	for (uint32_t i = 0; i < nkeys; i++)
		key_at_slot[slot_of_key[i]] = i;
	free(slot_of_key);
	/* entries in slot order, RDB_GROUP slots to a group; a fingerprint per slot */
	rc_buf *ent = &sec[RDB_SEC_ENTRIES];
	uint8_t *fps = rc_xmalloc(nkeys + 4);
	for (uint32_t s = 0; s < nkeys; s++) {
		const key_ent *ke = &ka[key_at_slot[s]];
		if (s + 16 < nkeys) {
			/* slot order visits keys and rules at random: ask for them early */
			const key_ent *ahead = &ka[key_at_slot[s + 16]];
			__builtin_prefetch(ahead->key);
			__builtin_prefetch(rc_ir_rule(ir, ahead->head));
		}
		if (s + 32 < nkeys)
			__builtin_prefetch(&ka[key_at_slot[s + 32]]);
		if (ent->len > UINT32_MAX) {
			rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", RC_NOLOC,
			            "the table target cannot store more than 4 GiB of exact rules");
			free(fps);
			free(key_at_slot);
			goto out;
		}
		if (s % RDB_GROUP == 0)
			put_u32(&sec[RDB_SEC_GROUPS], (uint32_t)ent->len);
		fps[s] = rdb_key_fp(ke->key, ke->len);
		put_varint(ent, (ke->len << 1) | (ke->ncands > 1));
		rc_buf_add(ent, ke->key, ke->len);
		if (ke->ncands > 1)
			put_varint(ent, ke->ncands);
		for (uint32_t ri = ke->head; ri != UINT32_MAX; ri = cand_next[ri]) {
			const rc_rule *r = rc_ir_rule(ir, ri);
			rd_rule v;
			rc_rule_view(ir, r, &v);
			unsigned f = (unsigned)status_code(r->status);
			if (r->query_drop)
				f |= RDB_C_QUERY_DROP;
			if (r->target.has_query)
				f |= RDB_C_TARGET_QUERY;
			if (r->scope >= 0)
				f |= RDB_C_HOSTS;
			if (v.fragment)
				f |= RDB_C_FRAGMENT;
			int sub = 0;
			for (uint32_t t = 0; t < v.ndst; t++)
				sub |= v.dst[t].kind == RD_TTOK_SUBDOMAIN;
			if (sub)
				f |= RDB_C_SUBDOMAIN;
			put_varint(ent, ri);
			rc_buf_addc(ent, (char)f);
			if (r->scope >= 0)
				put_varint(ent, hostset_of(ir, r->scope, scope_off, &sec[RDB_SEC_HOSTS], pool));
			uint32_t tl = 0;
			for (uint32_t t = 0; t < v.ndst; t++)
				tl += v.dst[t].kind == RD_TTOK_SUBDOMAIN ? 1 : v.dst[t].len;
			put_varint(ent, tl);
			for (uint32_t t = 0; t < v.ndst; t++) {
				if (v.dst[t].kind == RD_TTOK_SUBDOMAIN)
					rc_buf_addc(ent, RDB_SUBDOMAIN_MARK);
				else
					add_bytes(ent, v.dst[t].text, v.dst[t].len);
			}
			if (v.fragment) {
				put_varint(ent, v.fragment_len);
				rc_buf_add(ent, v.fragment, v.fragment_len);
			}
		}
	}
	free(key_at_slot);
	add_bytes(&sec[RDB_SEC_GROUPS], fps, nkeys);
	free(fps);
	pad4(&sec[RDB_SEC_GROUPS]);

	/* patterns in file order */
	uint32_t npats = (uint32_t)pats.len;
	rc_rule **pa = pats.items;
	uint32_t nptok = 0, nttok = 0;
	for (uint32_t pi = 0; pi < npats; pi++) {
		const rc_rule *r = pa[pi];
		rd_rule v;
		rc_rule_view(ir, r, &v);
		rdb_pattern p;
		memset(&p, 0, sizeof p);
		p.rule = r->index;
		p.status = (uint16_t)r->status;
		p.flags = v.flags;
		p.hostset = hostset_of(ir, r->scope, scope_off, &sec[RDB_SEC_HOSTS], pool);
		p.ptok = nptok;
		p.nptok = (uint16_t)v.nsrc;
		p.ttok = nttok;
		p.nttok = (uint16_t)v.ndst;
		for (uint32_t t = 0; t < v.nsrc; t++) {
			const rd_ptok *tk = &v.src[t];
			uint32_t off = tk->kind == RD_PTOK_LIT ? pool_add(pool, tk->text, tk->len, 0) : 0;
			put_tok(&sec[RDB_SEC_PTOKS], tk->kind, tk->capture, tk->len, off);
		}
		for (uint32_t t = 0; t < v.ndst; t++) {
			const rd_ttok *tk = &v.dst[t];
			uint32_t off = tk->kind == RD_TTOK_LIT ? pool_add(pool, tk->text, tk->len, 0) : 0;
			if (tk->kind == RD_TTOK_SUBDOMAIN)
				put_tok(&sec[RDB_SEC_TTOKS], tk->kind, 0, 0, 0);
			else
				put_tok(&sec[RDB_SEC_TTOKS], tk->kind, tk->capture, tk->len, off);
		}
		nptok += v.nsrc;
		nttok += v.ndst;
		if (v.fragment) {
			p.frag_off = pool_add(pool, v.fragment, v.fragment_len, 0);
			p.frag_len = v.fragment_len;
		}
		rc_buf_add(&sec[RDB_SEC_PATTERNS], (const char *)&p, sizeof p);
	}
	if (npats > 0)
		build_pindex(ir, pa, npats, pool, &sec[RDB_SEC_PINDEX], &A);

	/* metadata (cold): files, runs of file/owner/note, line checkpoints and deltas */
	{
		rc_buf runs, checks, deltas;
		rc_buf_init(&runs);
		rc_buf_init(&checks);
		rc_buf_init(&deltas);
		const char *last_owner = NULL, *last_note = NULL;
		uint32_t owner_off = RDB_NONE, note_off = RDB_NONE, nruns = 0, prev_line = 0;
		rdb_meta_run cur = { 0, RDB_NONE, RDB_NONE, RDB_NONE };
		for (size_t i = 0; i < nrules; i++) {
			const rc_rule *r = rc_ir_rule(ir, i);
			if (r->owner && r->owner != last_owner) {
				owner_off = pool_add(pool, r->owner, strlen(r->owner), 1);
				last_owner = r->owner;
			}
			if (r->note && r->note != last_note) {
				note_off = pool_add(pool, r->note, strlen(r->note), 1);
				last_note = r->note;
			}
			rdb_meta_run run = { (uint32_t)i, r->loc.file >= 0 ? (uint32_t)r->loc.file : RDB_NONE,
			                     r->owner ? owner_off : RDB_NONE, r->note ? note_off : RDB_NONE };
			if (i == 0 || run.file != cur.file || run.owner != cur.owner || run.note != cur.note) {
				rc_buf_add(&runs, (const char *)&run, sizeof run);
				cur = run;
				nruns++;
			}
			uint32_t line = r->loc.line;
			if (i % RDB_META_CHECK == 0) {
				rdb_meta_check ck = { line, (uint32_t)deltas.len };
				rc_buf_add(&checks, (const char *)&ck, sizeof ck);
			} else {
				/* zigzag of the difference mod 2^32, exact for any u32 */
				uint32_t d = line - prev_line;
				put_varint(&deltas, (d << 1) ^ (uint32_t)-(int32_t)(d >> 31));
			}
			prev_line = line;
		}
		rc_buf *m = &sec[RDB_SEC_META];
		rdb_meta_head mh = { (uint32_t)ir->diags->files.len, (uint32_t)nrules, nruns,
		                     (uint32_t)((nrules + RDB_META_CHECK - 1) / RDB_META_CHECK) };
		rc_buf_add(m, (const char *)&mh, sizeof mh);
		for (uint32_t f = 0; f < mh.nfiles; f++) {
			const rc_file *rf = rc_diags_file(ir->diags, (int32_t)f);
			put_u32(m, pool_add(pool, rf->path, strlen(rf->path), 1));
		}
		add_bytes(m, runs.data, runs.len);
		add_bytes(m, checks.data, checks.len);
		add_bytes(m, deltas.data, deltas.len);
		rc_buf_fini(&runs);
		rc_buf_fini(&checks);
		rc_buf_fini(&deltas);
	}
	if (pool->len > UINT32_MAX) {
		rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", RC_NOLOC,
		            "the table target cannot store more than 4 GiB of strings");
		goto out;
	}

	/* assemble: header, then the sections, each 4-byte aligned */
	rdb_header h;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, RDB_MAGIC, RDB_MAGIC_LEN);
	h.version = RDB_VERSION;
	h.bom = RDB_BOM;
	h.header_size = RDB_HEADER_SIZE;
	h.policy = ir->policy;
	h.nrules = (uint32_t)nrules;
	h.nkeys = nkeys;
	h.npatterns = npats;
	h.hash_kind = hash_kind;
	h.max_key_len = max_key_len;
	rc_buf_reset(file);
	rc_buf_add(file, (const char *)&h, sizeof h);
	for (int i = 0; i < RDB_NSECTIONS; i++) {
		pad4(file);
		h.sec[i].off = file->len;
		h.sec[i].size = sec[i].len;
		add_bytes(file, sec[i].data, sec[i].len);
	}
	pad4(file);
	h.file_size = file->len;
	h.body_checksum = rdb_fnv64(RDB_FNV_OFFSET, file->data + RDB_HEADER_SIZE,
	                            file->len - RDB_HEADER_SIZE);
	h.header_checksum = rdb_fnv64(RDB_FNV_OFFSET, &h, offsetof(rdb_header, header_checksum));
	memcpy(file->data, &h, sizeof h);
	rc = 0;
out:
	free(map);
	free(cand_next);
	free(scope_off);
	rc_vec_fini(&keys);
	rc_vec_fini(&pats);
	for (int i = 0; i < RDB_NSECTIONS; i++)
		rc_buf_fini(&sec[i]);
	rc_arena_fini(&A);
	return rc;
}

static int table_emit(const rc_ir *ir, const rc_emit_opts *opts, rc_artifacts *out)
{
	(void)opts;
	rc_buf file;
	rc_buf_init(&file);
	if (rc_table_build(ir, &file) != 0) {
		rc_buf_fini(&file);
		return -1;
	}
	FILE *fp = rc_artifacts_open(out, ".redirdb");
	if (!fp) {
		rc_buf_fini(&file);
		return -1;
	}
	fwrite(file.data, 1, file.len, fp); /* errors surface at commit (ferror) */
	rc_buf_fini(&file);
	return 0;
}

const rc_backend rc_backend_table = {
	"table",
	"binary .redirdb for the runtime library and `redirc lookup` (cmph minimal perfect hash)",
	table_emit,
	0,
};
