/*
 * rule_index.h - the rule-set index shared by the analysis passes
 * (rule_index.c builds it, analysis.c runs the checks over it).
 *
 * A normalized path is a list of non-empty segments plus, under
 * `trailing-slash strict`, a trailing-slash bit.  A source becomes a
 * segment pattern (spat): k segment constraints (a literal or a
 * placeholder), then a tail: the path ends, ends with '/', or a splat that
 * starts with a literal prefix of segment k (an empty prefix: the splat
 * starts a new segment, or the path ends after k segments).
 *
 * Nothing here compares all pairs of rules: exact sources sit in a hash
 * table (chains in file order), patterns in a segment trie, and both are
 * asked only about the paths or patterns they could match.
 *
 * Ownership: an rc_index owns its scratch arena and arrays; it borrows the
 * IR, which must outlive it.
 */
#ifndef RC_RULE_INDEX_H
#define RC_RULE_INDEX_H

#include "compiler/ir.h"

/* Most SUB.NAME hosts told apart for `:subdomain` targets (rule_index.c) */
#define RC_SUB_HOSTS_MAX 64

enum { RC_TAIL_END = 0, RC_TAIL_SLASH = 1, RC_TAIL_SPLAT = 2 };
enum { RC_SEG_LIT = 0, RC_SEG_PARAM = 1 };

typedef struct rc_sseg {
	const char *text; /* literal, folded under `case insensitive` */
	uint32_t len;
	uint8_t kind;     /* RC_SEG_* */
} rc_sseg;

typedef struct rc_spat {
	rc_sseg *segs;
	uint32_t k;
	uint8_t tail;       /* RC_TAIL_* */
	uint8_t nopar;      /* `set splat-parent no-match` and a source ending in
	                     * "/" then the splat after k > 0 segments: the path
	                     * that ends after the k segments is not matched
	                     * (under `trailing-slash strict` its form with the
	                     * trailing slash is: the splat empty) */
	const char *prefix; /* splat prefix (folded) */
	uint32_t plen;
	uint32_t rule;      /* rule index */
	int32_t scope;      /* the rule's host scope, -1 = every host */
	int32_t node;       /* trie node */
	int32_t next;       /* next pattern in the node's list, -1 */
} rc_spat;

typedef struct rc_tnode {
	const char *seg;    /* folded literal that leads here */
	uint32_t seglen;
	int32_t parent;
	int32_t param;      /* child for a placeholder, -1 */
	int32_t first_child, next_sibling; /* literal children, -1 */
	int32_t ends[3];    /* pattern lists by tail, -1 */
} rc_tnode;

typedef struct rc_index {
	const rc_ir *ir;
	unsigned policy;
	int fold;
	rc_arena arena;     /* scratch: folded texts, spats */
	size_t n;           /* rules */
	/* exact sources */
	uint64_t *ex_slot;  /* hash << 32 | chain head rule + 1, 0 = empty */
	size_t ex_cap;
	uint64_t *ex_bits;  /* 4 * ex_cap bits: the bit of every exact key's hash */
	uint32_t *ex_next;  /* per rule: next exact rule with the same key + 1 */
	uint32_t *ex_head;  /* per exact rule: the first rule with its key */
	/* patterns */
	rc_spat *pats;
	size_t npats;
	int32_t *pat_of;    /* per rule: pattern id or -1 */
	rc_vec nodes;       /* rc_tnode */
	int32_t *child_slot;/* (parent, seg) -> node, -1 = empty */
	size_t child_cap, nchildren;
	/* host scopes */
	uint32_t *scope_set;/* per scope: id of its set of hosts */
	char **names;       /* sorted distinct names of host blocks (wildcards too) */
	size_t nnames;
	uint32_t *ns_off;   /* name i: the scopes naming it are ns[ns_off[i]..ns_off[i+1]) */
	uint32_t *ns;
	/* the hosts the analysis tells apart: every named host, and for each
	 * wildcard "*.NAME" the host "_.NAME" ('_' is in no named host, so it
	 * is admitted by exactly the wildcards that admit the hosts no block
	 * names under NAME); with `:subdomain` targets also SUB.NAME for the
	 * SUB of a named host under another wildcard (rule_index.c) */
	char **named;       /* sorted */
	size_t nnamed;
	const char **wild;  /* sorted NAMEs of the wildcard names "*.NAME" */
	uint32_t *wild_host;/* per wildcard: the id of "_.NAME" in named */
	size_t nwild;
	int subdomain;      /* some target uses :subdomain: no two hosts share a class */
	int hosts_cut;      /* the SUB.NAME hosts were cut (doc/analysis.md) */
	uint32_t *sh_off;   /* scope s: the hosts it admits are sh[sh_off[s]..sh_off[s+1]) */
	uint32_t *sh;
	/* hosts named in the same host blocks get the same answers: one host
	 * per such class stands for the others */
	uint32_t *hs_off;   /* named host i: its scopes are hs[hs_off[i]..hs_off[i+1]) */
	uint32_t *hs;       /* scope ids, ascending */
	uint32_t *rep_of;   /* named host i: the named host standing for its class */
	uint32_t *reps;     /* the class representatives */
	size_t nreps;
	uint32_t *mark;     /* scratch per named host */
	/* the last host asked of named_id and its id: walks ask about the same
	 * host string for every candidate rule */
	struct rc_host_cache { const char *host; int64_t id; char text[128]; } *hcache;
	/* a filter on the patterns the lookups below report (rc_index_filter):
	 * only those admitted for one host and before one rule, so a lookup
	 * among many host blocks of one pattern is not quadratic */
	int filt_on;
	int64_t filt_id;    /* named host id, -1 = a host no block names */
	uint32_t filt_below;
	int filt_scoped;    /* some filtered-out pattern was in a host block */
	uint32_t stamp;
	/* scratch for lookups */
	rc_vec found;       /* int32_t pattern ids */
	rc_vec segs;        /* rc_sseg */
} rc_index;

void rc_index_init(rc_index *x, const rc_ir *ir);
void rc_index_fini(rc_index *x);

/* Split a normalized path into segments (x->segs is overwritten; the
 * segments point into `path`).  Sets *trailing. */
size_t rc_index_split(rc_index *x, const char *path, size_t len, int *trailing);

/* Every pattern that matches the split path: ids appended to x->found. */
void rc_index_match_patterns(rc_index *x, const rc_sseg *segs, size_t nseg, int trailing);

/* The first exact rule (file order) whose key equals `path` under the case
 * policy: rule index or -1; then rc_index_exact_next. */
int64_t rc_index_exact_first(const rc_index *x, const char *path, size_t len);
int64_t rc_index_exact_next(const rc_index *x, size_t rule);

/* Patterns whose language can intersect pattern `p`: ids into x->found. */
void rc_index_intersecting(rc_index *x, const rc_spat *p);

/* The rule that answers (host, normalized path), or -1.  *scoped is set
 * when some rule in a host block matches the path (whatever the host).
 * `head` is rc_index_exact_first(path) when the caller knows it, else
 * RC_HEAD_UNKNOWN. */
#define RC_HEAD_UNKNOWN (-2)
int64_t rc_index_resolve(rc_index *x, const char *host, const char *path,
                         size_t len, int64_t head, int *scoped);

/* Is the host (canonical) admitted by some host block, by name or by a
 * wildcard?  A wildcard host "*.X" (a `:subdomain` target's) is asked as
 * the host "_.X": a wildcard admits it iff it admits every host of "*.X". */
int rc_index_is_named(const rc_index *x, const char *host);

/* Report only patterns admitted for `host` and of rules before `below`
 * from rc_index_match_patterns and rc_index_intersecting, until
 * rc_index_filter_off. */
void rc_index_filter(rc_index *x, const char *host, uint32_t below);
void rc_index_filter_off(rc_index *x);

/* Does rule r admit the host (canonical, NULL = none)?  Like
 * rd_rule_admits_host, in O(log) for scopes of any size. */
int rc_index_admits(const rc_index *x, const rc_rule *r, const char *host);

/* The class representatives among the hosts of scope s (pointers into
 * x->named): appended to `out` (const char *). */
void rc_index_scope_reps(rc_index *x, int32_t s, rc_vec *out);
int rc_index_same_scope(const rc_index *x, const rc_rule *a, const rc_rule *b);

/* Does a segment value (folded) start with the prefix? */
int rc_seg_has_prefix(const rc_index *x, const char *v, size_t vl, const char *p, size_t pl);
int rc_seg_equal(const rc_index *x, const char *a, size_t al, const char *b, size_t bl);

#endif /* RC_RULE_INDEX_H */
