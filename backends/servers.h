/*
 * servers.h - what the `nginx` and `apache` targets share
 * (doc/backend-design.md sections 2 and 3): the byte encodings of the
 * match key and of the subject string, the compile-time resolution of file
 * order into a host-scoped and a global exact layer, the regex of a pattern
 * rule over the subject, and the fixed text of the helper scripts.
 *
 * Ownership: rc_sv_layers owns its entries and their key bytes until
 * rc_sv_layers_fini; rules are borrowed from the IR.
 */
#ifndef RC_SERVERS_H
#define RC_SERVERS_H

#include <stdint.h>

#include "compiler/ir.h"

/* The fixed parts of BASE.js (njs) and BASE.lua (mod_lua): the text of
 * backends/helpers/redir.js and redir.lua from their "fixed part" marker on,
 * embedded at build time (tools/embed-file.sh, Makefile.am "helper scripts"). */
extern const char rc_sv_njs_fixed[];
extern const char rc_sv_lua_fixed[];

/* encP (qctx 0) or encQ (qctx 1) of design section 2; `upper` also escapes
 * A-Z (the case-sensitive key). */
void rc_sv_enc(rc_buf *b, const char *s, size_t n, int qctx, int upper);
/* KEY(p) of a normalized path under the rule set's case policy. */
void rc_sv_key(rc_buf *b, const rc_ir *ir, const char *p, size_t n);

/* One exact-map entry: `rule` answers, or with `dash` set the host has no
 * exact answer for this key (an earlier pattern takes it). */
typedef struct rc_sv_entry {
	const char *key;
	uint32_t len;
	int dash;
	int dropped;        /* internal: a global key an earlier pattern takes */
	const rc_rule *rule;
	const char *cls;    /* host layer: the class the key starts with (3.1) */
} rc_sv_entry;

/* The host layer is keyed by the request host's *class* (design section
 * 3.1) + KEY: a host that a host block names is its own class; any other
 * host that a wildcard name "*.W" admits takes the class "_.W" of the
 * longest such name (its representative: admitted by exactly the wildcard
 * names that admit the hosts of the class, and never a named host); any
 * other host has no class (only the global layer and the global patterns
 * answer it).  Without wildcard names the class of a host is the host. */
typedef struct rc_sv_layers {
	rc_arena arena;     /* key bytes */
	rc_vec host;        /* rc_sv_entry, class + KEY, sorted by key */
	rc_vec global;      /* rc_sv_entry, KEY, sorted by key */
	size_t key_max;     /* longest key of either layer, in bytes */
	rc_vec classes;     /* const char *: named hosts and "_.W" representatives */
	rc_vec wild;        /* const char *: the wildcard names "*.W", longest
	                     * first, then by bytes (the order a host tries them) */
	rc_vec named;       /* const char *: the hosts host blocks name, sorted */
	rc_vec named_wild;  /* const char *: those a wildcard name admits, sorted */
	rc_vec plain;       /* const char *: `set hosts` names neither named nor
	                     * admitted by a wildcard name, sorted */
} rc_sv_layers;

/* Fill both layers from the IR (design section 3). */
void rc_sv_layers_build(const rc_ir *ir, rc_sv_layers *L);
void rc_sv_layers_fini(rc_sv_layers *L);

/* The layers built at most once per compile and shared by the nginx and
 * apache targets (rc_emit_opts.sv_cache, owned by the driver).  A zeroed
 * cache is empty; rc_sv_cache_fini frees the layers and empties it. */
typedef struct rc_sv_cache {
	int built;
	rc_sv_layers layers;
} rc_sv_cache;

/* The layers of `ir`, built on first use. */
const rc_sv_layers *rc_sv_cache_layers(rc_sv_cache *c, const rc_ir *ir);
void rc_sv_cache_fini(rc_sv_cache *c);

/* The regex of a pattern rule over the subject (design 4.2): with `named`,
 * used captures are (?<redir_pI>…) / (?<redir_qI>…) (nginx); otherwise
 * plain groups numbered in order of opening, and pgroup[i] / qgroup[i]
 * receive the group number of capture i in path / query context (0 =
 * unused).  Returns the number of capturing groups. */
int rc_sv_pattern_regex(rc_buf *b, const rc_ir *ir, const rc_rule *r, int named,
                        int pgroup[RD_MAX_CAPTURES], int qgroup[RD_MAX_CAPTURES]);

/* rc_sv_pattern_regex, and with `subgroup` set, a rule whose target uses
 * :subdomain captures the subdomain in the host part: named
 * (?<redir_sub>…) or the plain group *subgroup (0 when none). */
int rc_sv_pattern_regex_sub(rc_buf *b, const rc_ir *ir, const rc_rule *r, int named,
                            int pgroup[RD_MAX_CAPTURES], int qgroup[RD_MAX_CAPTURES], int *subgroup);

/* The regex (no anchors) of an encP'd canonical host that one of the
 * wildcard names `wild` ("*.W", longest first) admits (rd_wildcard_admits);
 * with `open` (a group's opening) the group captures the subdomain under the
 * longest name that admits the host (rd_host_subdomain). */
void rc_sv_wild_host_re(rc_buf *b, const char *const *wild, size_t n, const char *open);
/* The host classes' regex (design 3.1): group 1 captures SUB (lazy, as in
 * rd_host_subdomain), group 2 the names L->wild[from, to), so the longest
 * name admitting the host; no anchors; `to` (returned) is the first name that
 * would make the regex longer than `max` bytes (at least one name is taken).
 * The names are longest first, so the first chunk that matches holds the
 * longest name that admits the host. */
size_t rc_sv_class_re(rc_buf *b, const rc_sv_layers *L, size_t from, size_t max);
/* The same for the wildcard names of the scope of r, captured. */
void rc_sv_subdomain_re(rc_buf *b, const rc_ir *ir, const rc_rule *r, const char *open);

/* Requests in normal form (design section 12), answered by the servers'
 * own mechanisms without the helper: the regex (no anchors) of a raw path
 * that normalization leaves unchanged, but for one trailing "/" it drops,
 * and whose KEY, encP and encQ are the path itself: `open` (a capturing
 * group's opening, e.g. "(") captures the normalized path; and the regex
 * (no groups) of a raw query that encRawQuery leaves unchanged.  Both are
 * free of backtracking blow-ups (the classes of neighbouring parts are
 * disjoint). */
void rc_sv_normal_path_re(rc_buf *b, const rc_ir *ir, const char *open);
void rc_sv_normal_query_re(rc_buf *b);

/* The pattern index (design section 13): a request tries only the group
 * of its first path segment, or the wildcard patterns when no group has its
 * segment.  A group holds the patterns whose first source segment is that
 * literal, merged in file order with every wildcard pattern (first segment
 * not wholly literal); keys are encP of the segment, ASCII-lower-cased when
 * `fold` (nginx map keys always fold; each group's regexes still decide
 * exactly), sorted shorter first, then by bytes (mod_rewrite's "<" order).
 * Rules are borrowed from the IR; the index owns its keys and vectors. */
typedef struct rc_sv_group {
	const char *key;
	uint32_t len;
	rc_vec rules;       /* const rc_rule *, file order */
} rc_sv_group;

typedef struct rc_sv_groups {
	rc_arena arena;
	rc_vec groups;      /* rc_sv_group, sorted by key */
	rc_vec wild;        /* const rc_rule *, the wildcard patterns, file order */
} rc_sv_groups;

void rc_sv_groups_build(const rc_ir *ir, int fold, rc_sv_groups *G);
void rc_sv_groups_fini(rc_sv_groups *G);

/* Whether the rule set has a pattern rule. */
int rc_sv_has_patterns(const rc_ir *ir);

/* "FILE:LINE SOURCE -> TARGET" of a rule, for a comment (unquoted). */
void rc_sv_rule_label(rc_buf *b, const rc_ir *ir, const rc_rule *r);

/* Index of the target token holding the '?' that starts the target's own
 * query (it is always the first byte of a literal token), or ntoks. */
uint32_t rc_sv_query_tok(const rc_rule *r);

/* The base name of BASE (after the last '/'). */
const char *rc_sv_basename(const char *path);

/* The length of the subdomain an exact rule's :subdomain stands for in
 * the entry of host class `cls` (rd_host_subdomain of the class name under
 * the rule's scope; for a wildcard class "_.W" it starts with the '_' that
 * stands for the request's own SUB).  0, with a `backend` error naming the
 * rule, when the rule's block does not admit the class (an internal
 * error: the layers only give a rule the classes its block admits). */
size_t rc_sv_class_subdomain(const rc_ir *ir, const rc_rule *r, const char *cls);

#endif /* RC_SERVERS_H */
