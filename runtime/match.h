/*
 * match.h - the matching semantics of redirc, written once.
 *
 * Spec section 3: normalize a raw request path, match rules in file order
 * with host scopes, substitute captures into the target and encode the
 * Location, keep or drop the query.  The compiler's checks, `redirc explain`
 * and `redirc test`, and the table reader all call these functions.
 *
 * Nothing here allocates; every output goes into a caller's buffer.
 * Ownership: all pointers in these structs are borrowed from the caller.
 */
#ifndef REDIR_MATCH_H
#define REDIR_MATCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Policy flags of a rule set (the `set case` and `set trailing-slash`
 * settings). */
#define RD_POLICY_CASE_INSENSITIVE 0x1u /* ASCII letters fold when comparing */
#define RD_POLICY_TRAILING_STRICT  0x2u /* default is `ignore` */
#define RD_POLICY_SPLAT_NO_PARENT  0x4u /* `set splat-parent no-match`: a
                                         * source ending in slash-splat does
                                         * not match its bare parent */

/* Most captures one rule can have: placeholders plus the splat. */
#define RD_MAX_CAPTURES 32

/* Normalize a raw (percent-encoded) request path, spec section 3 steps 1-4:
 * decode %XX, merge runs of '/', remove dot segments (RFC 3986 5.2.4), drop a
 * trailing '/' unless `policy` has RD_POLICY_TRAILING_STRICT.  Case is kept;
 * folding happens when comparing.  `out` must hold at least len + 2 bytes
 * (the result is never longer than the input, plus a leading '/').
 * Returns 0 and sets *out_len, or -1 when the path has an invalid %-escape
 * (such a request gets no redirect). */
/* ASCII lower case: 'A'-'Z' to 'a'-'z', every other byte as it is (the
 * language's case folding, hosts and `set case insensitive`). */
static inline unsigned char rd_ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* The value of a hex digit (0-9, a-f, A-F), or -1.  The one hex reader of
 * the runtime and the compiler. */
static inline int rd_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Whether normalizing p (len bytes) under policy would give p itself: a
 * path that starts with '/', has no '%', no '//', no '.' or '..' segment and
 * (under trailing-slash ignore) no trailing '/'.  The one test of "already
 * normal" that the matcher and the table reader share. */
int rd_path_is_normal(const char *p, size_t len, unsigned policy);

int rd_path_normalize(const char *raw, size_t len, unsigned policy,
                      char *out, size_t *out_len);

/* The canonical form of a Host header: ASCII lower case, port and a final
 * '.' removed.  `out` must hold len + 1 bytes.  Returns the length. */
size_t rd_host_canon(const char *host, size_t len, char *out);

/* One token of a normalized source pattern. */
enum rd_ptok_kind {
	RD_PTOK_LIT = 1,   /* decoded literal bytes, may contain '/' */
	RD_PTOK_PARAM = 2, /* `:name`: one non-empty segment */
	RD_PTOK_SPLAT = 3, /* final `*`: the rest of the path */
};

typedef struct rd_ptok {
	uint8_t kind;     /* enum rd_ptok_kind */
	uint8_t capture;  /* PARAM, SPLAT: index into the capture array */
	uint32_t len;     /* LIT: byte count */
	const char *text; /* LIT: the bytes */
} rd_ptok;

/* A captured span of the normalized path. */
typedef struct rd_span {
	uint32_t off;
	uint32_t len;
} rd_span;

/* Match a normalized path against a pattern.  Returns 1 on a match (and
 * fills caps[tok.capture] for every PARAM and SPLAT), 0 otherwise.  A
 * pattern ending in LIT "…/" + SPLAT also matches the path without that
 * last '/', the splat then being empty, unless the policy has
 * RD_POLICY_SPLAT_NO_PARENT. */
int rd_pattern_match(const rd_ptok *toks, size_t ntoks, const char *path,
                     size_t len, unsigned policy, rd_span *caps);

/* Compare two byte strings for equality under the case policy. */
int rd_bytes_equal(const char *a, size_t alen, const char *b, size_t blen,
                   unsigned policy);

/* One token of a target template.  LIT bytes are already encoded (see
 * rd_encode_literal), the captures are encoded when substituted. */
enum rd_ttok_kind {
	RD_TTOK_LIT = 1,
	RD_TTOK_CAP_PATH = 2,  /* capture in the target's path */
	RD_TTOK_CAP_QUERY = 3, /* capture in the target's query: & = + too */
	RD_TTOK_SUBDOMAIN = 4, /* the subdomain a wildcard host name matched
	                        * (rd_host_subdomain), in the target's host,
	                        * path or query: its bytes need no encoding */
};

typedef struct rd_ttok {
	uint8_t kind;
	uint8_t capture;
	uint32_t len;
	const char *text;
} rd_ttok;

/* Where a literal stands in a target, for rd_encode_literal. */
enum rd_url_part {
	RD_PART_PATH = 1,
	RD_PART_QUERY = 2,
	RD_PART_FRAGMENT = 3,
};

/* Percent-encode literal target text as spec section 3 says: every byte
 * outside the literal-safe set becomes %XX, and a '%' that does not start a
 * valid escape becomes %25 ('?' is kept in a query and in a fragment).
 * Writes at most cap bytes (NUL-terminated when the result is shorter than
 * cap) and returns the full length needed. */
size_t rd_encode_literal(const char *s, size_t len, enum rd_url_part part,
                         char *out, size_t cap);

/* Percent-encode captured text for the path (part RD_PART_PATH) or for the
 * query (RD_PART_QUERY, which also encodes & = +).  Same return rule. */
size_t rd_encode_capture(const char *s, size_t len, enum rd_url_part part,
                         char *out, size_t cap);

/* Rule flags. */
#define RD_RULE_GONE         0x1u /* 410, no Location */
#define RD_RULE_QUERY_DROP   0x2u /* `query drop` */
#define RD_RULE_TARGET_QUERY 0x4u /* the target has its own ?query */

/* A rule as the matcher sees it. */
typedef struct rd_rule {
	const rd_ptok *src;  /* normalized source; an exact rule is one LIT */
	uint32_t nsrc;
	const rd_ttok *dst;  /* target template (scheme, host, path, query) */
	uint32_t ndst;
	const char *fragment; /* encoded "#…" or NULL */
	uint32_t fragment_len;
	uint16_t status;     /* 301 302 303 307 308 410 */
	uint16_t flags;      /* RD_RULE_* */
	const char *const *hosts; /* canonical host names, NULL = every host;
	                           * "*.NAME" is a wildcard name */
	uint32_t nhosts;
} rd_rule;

/* Does the scope of `rule` admit `host` (canonical form, NULL = the
 * request has no Host)?  A name "*.NAME" admits every host "SUB.NAME"
 * whose SUB is one or more dot-separated labels of a-z 0-9 '-' '_'. */
int rd_rule_admits_host(const rd_rule *rule, const char *host);

/* Does the wildcard name `wild` ("*.NAME") admit `host` (canonical)? */
int rd_wildcard_admits(const char *wild, const char *host);

/* The subdomain of `host` under the scope of `rule`: the part before the
 * longest wildcard name of the scope that admits it.  Returns its length
 * (it starts at host[0]), or 0 when no wildcard name admits the host. */
size_t rd_host_subdomain(const rd_rule *rule, const char *host);

/* Build the Location of a matched rule.  `path` is the normalized path the
 * captures point into; `query` is the raw query (NULL or "" = none).  Writes
 * at most cap bytes (NUL-terminated when it fits) and returns the full
 * length needed, so a caller can retry with a larger buffer. */
size_t rd_location_build(const rd_rule *rule, const char *path,
                         const rd_span *caps, const char *query,
                         size_t query_len, char *out, size_t cap);

/* rd_location_build for a request with a Host: a RD_TTOK_SUBDOMAIN token
 * is replaced by rd_host_subdomain(rule, host) (by nothing when host is
 * NULL). */
size_t rd_location_build_host(const rd_rule *rule, const char *host,
                              const char *path, const rd_span *caps,
                              const char *query, size_t query_len,
                              char *out, size_t cap);

/* Append the raw query to a Location (`?` or `&`), encoding it. */
size_t rd_query_encode(const char *q, size_t len, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* REDIR_MATCH_H */
