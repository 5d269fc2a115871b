/*
 * requests.h - concrete requests for a rule set, and fast answers to them
 * (requests.c).  Shared by `redirc diff` (witness requests) and `redirc
 * verify` (what to send) and `redirc coverage` (answering log lines).
 *
 * A resolver answers like rc_ir_answer() (spec section 3: rules in file
 * order, first match with an admitting host scope wins) but through the
 * rule index of rule_index.h, so an answer costs a hash lookup and a walk
 * of the pattern trie, not a scan of every rule.
 *
 * Ownership: an rc_resolver borrows its IR (which must outlive it) and owns
 * its index and buffers; an answer's location points into the resolver and
 * is valid until the next call.
 */
#ifndef RC_REQUESTS_H
#define RC_REQUESTS_H

#include "compiler/ir.h"
#include "compiler/rule_index.h"

typedef struct rc_resolver {
	const rc_ir *ir;
	rc_index index;
	char *norm;         /* the normalized path of the last request */
	size_t norm_len;    /* 0 when its path had an invalid escape */
	size_t norm_cap;
	char *loc;          /* the Location of the last answer */
	size_t loc_cap;
} rc_resolver;

typedef struct rc_fast_answer {
	int matched;        /* 0 = pass */
	int invalid;        /* the path has an invalid %-escape (pass) */
	int64_t rule;       /* rule index, -1 = none */
	int status;         /* 301..308, 410; 0 = pass */
	const char *location; /* NULL for 410 and pass; in the resolver */
} rc_fast_answer;

void rc_resolver_init(rc_resolver *rv, const rc_ir *ir);
void rc_resolver_fini(rc_resolver *rv);

/* Answer (canonical host or NULL, raw path, raw query or NULL).  With
 * want_location 0, only the rule and status are computed (coverage). */
void rc_resolve(rc_resolver *rv, const char *host, const char *path, size_t path_len,
                const char *query, size_t query_len, int want_location,
                rc_fast_answer *ans);

/* Raw request paths that rule r's source matches, percent-encoded so that
 * a server receives exactly them: an exact rule gives its source; a pattern
 * gives up to `max` instances (placeholders and the splat filled with
 * sample text, the splat also empty).  Variant v (0, 1, ...) picks the
 * sample text, so a caller can look for an instance that an earlier rule
 * does not take.  Arena strings appended to `out` (char *); returns how
 * many were added. */
size_t rc_rule_samples(rc_arena *a, const rc_rule *r, unsigned variant, size_t max,
                       rc_vec *out);


/* A host to ask for a host block's name: the name itself, or for a
 * wildcard "*.NAME" a host it admits that no block names:
 * "redirc-sample.NAME" ("_.NAME" when that is named).  Arena memory. */
const char *rc_sample_host(rc_arena *a, const rc_resolver *rv, const char *name);

/* One request `redirc verify` sends, planned from the rule set. */
enum rc_probe_origin {
	RC_PROBE_EXPECT = 1,  /* an expect line */
	RC_PROBE_EXACT = 2,   /* an exact rule's source */
	RC_PROBE_PATTERN = 3, /* a sample that reaches a pattern rule first */
	RC_PROBE_URL = 4,     /* --urls */
};

typedef struct rc_probe {
	const char *host;     /* canonical Host to ask for, NULL = the default */
	const char *path;     /* raw path */
	const char *query;    /* raw query or NULL */
	size_t query_len;
	enum rc_probe_origin origin;
	rc_loc where;         /* the expect line or rule it comes from */
} rc_probe;

const char *rc_probe_origin_name(enum rc_probe_origin o);

/* Plan the requests for a rule set: every expect line, every exact rule's
 * source (asked for the first host of its host block), and up to
 * `per_pattern` samples per pattern rule that the resolver confirms reach
 * that rule first (for `default_host` when the rule is global).  Arena
 * memory; appended to `out` (rc_probe). */
void rc_plan_probes(rc_arena *a, rc_resolver *rv, const char *default_host,
                    unsigned per_pattern, rc_vec *out);

#endif /* RC_REQUESTS_H */
