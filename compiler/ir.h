/*
 * ir.h - the intermediate representation of a redir rule set.
 *
 * Pipeline: grammar/ reads text and calls the builder (build.c), which fills
 * an rc_ir: settings, rules in file order (includes expanded in place) with
 * normalized sources, parsed targets and resolved attributes, host scopes,
 * and expectations.  checks.c proves properties of it, backends/ turn it
 * into artifacts.  rc_rule_view() shows a rule as an rd_rule, so the
 * runtime matcher (runtime/redir_match.h) answers requests for the compiler.
 *
 * Ownership: the rc_ir owns its arena; every pointer in it is arena memory.
 */
#ifndef RC_IR_H
#define RC_IR_H

#include <stdint.h>

#include "compiler/diag.h"
#include "compiler/util.h"
#include "runtime/match.h"

/* `set require …` bits */
#define RC_REQUIRE_OWNER  0x1u
#define RC_REQUIRE_NOTE   0x2u
#define RC_REQUIRE_EXPECT 0x4u

typedef struct rc_settings {
	int status;         /* default status, 301 */
	int query_drop;     /* `set query drop` */
	int case_insensitive;
	int trailing_strict;
	int splat_no_parent; /* `set splat-parent no-match` */
	int max_chain;      /* default 1 */
	unsigned require;   /* RC_REQUIRE_* */
	rc_loc loc_status, loc_query, loc_case, loc_trailing, loc_max_chain,
	       loc_hosts, loc_require, loc_splat_parent;
} rc_settings;

/* A host scope: the names of one `host` block. */
typedef struct rc_scope {
	char **hosts;       /* canonical (lower case, no port); "*.NAME" is a
	                     * wildcard name (rd_wildcard_admits) */
	uint32_t nhosts;
	rc_loc loc;
} rc_scope;

/* A target, parsed. */
typedef struct rc_target {
	int absolute;       /* http:// or https:// */
	char *scheme;       /* "http" / "https" (lower case), absolute only */
	char *host;         /* canonical host, absolute only; "*.NAME" when the
	                     * host starts with `:subdomain.` (sub_host) */
	int sub_host;       /* the host is `:subdomain.NAME` */
	int uses_subdomain; /* `:subdomain` anywhere in the target */
	int port;           /* 0 = none */
	char *prefix;       /* "scheme://host[:port]" as written, absolute only */
	rd_ttok *toks;      /* whole target minus fragment: prefix, path, query;
	                     * the '?' that starts the query is always the first
	                     * byte of a LIT token (backends/servers.c relies on it) */
	uint32_t ntoks;
	int has_query;
	char *fragment;     /* encoded, with '#', or NULL */
	int uses_splat;
	uint32_t param_mask; /* bit i: capture i of the source is used */
} rc_target;

typedef struct rc_rule {
	uint32_t index;     /* position in file order */
	rc_loc loc;         /* the source token */
	rc_loc target_loc;  /* the target token (or `gone`) */
	char *source_text;  /* as written */
	char *target_text;  /* as written, NULL for gone */
	int is_pattern;
	rd_ptok *src;       /* normalized source tokens */
	uint32_t nsrc;
	char *exact_key;    /* exact rules: normalized source (not folded) */
	uint32_t exact_len;
	uint32_t nparams;   /* placeholders; the splat, if any, is capture nparams */
	char **param_names; /* nparams names */
	int has_splat;
	rc_target target;
	int status;
	int gone;
	int query_drop;
	const char *owner;  /* NULL = none */
	const char *note;
	int expires;        /* YYYYMMDD, 0 = none */
	rc_loc expires_loc;
	int32_t scope;      /* index into rc_ir.scopes, -1 = every host */
	const char *group;  /* innermost group label or NULL */
} rc_rule;

enum rc_expect_kind {
	RC_EXPECT_REDIRECT = 1,
	RC_EXPECT_GONE = 2,
	RC_EXPECT_PASS = 3,
};

typedef struct rc_expect {
	rc_loc loc;
	char *url_text;     /* as written */
	char *host;         /* canonical, NULL for a bare path */
	char *path;         /* raw path */
	char *query;        /* raw query, NULL if none */
	size_t query_len;
	enum rc_expect_kind kind;
	int status;
	char *target;       /* encoded like a literal target */
} rc_expect;

typedef struct rc_ir {
	rc_arena arena;
	rc_diags *diags;
	rc_settings settings;
	unsigned policy;    /* RD_POLICY_* from the settings */
	rc_vec rules;       /* rc_rule */
	rc_vec scopes;      /* rc_scope */
	rc_vec served_hosts;/* char * (canonical): `set hosts` */
	rc_vec allow_hosts; /* char * (canonical) */
	rc_vec expects;     /* rc_expect */
	int32_t top_file;
} rc_ir;

void rc_ir_init(rc_ir *ir, rc_diags *diags);
void rc_ir_fini(rc_ir *ir);

static inline size_t rc_ir_nrules(const rc_ir *ir)
{
	return ir->rules.len;
}

static inline rc_rule *rc_ir_rule(const rc_ir *ir, size_t i)
{
	return RC_VEC_AT(&ir->rules, rc_rule, i);
}

/* What the runtime matcher sees of a rule: built on demand, so a rule does
 * not carry a second copy of its own pointers. */
void rc_rule_view(const rc_ir *ir, const rc_rule *r, rd_rule *v);

/* Is `host` (canonical) served by this rule set: named by a host block
 * or `set hosts`, or admitted by a wildcard name there?  A wildcard "*.X"
 * (the host of a `:subdomain` target) is served when a wildcard name
 * admits every host of it.  rc_ir_host_is_allowed: the same for
 * allow-host. */
int rc_ir_host_is_served(const rc_ir *ir, const char *host);
int rc_ir_host_is_allowed(const rc_ir *ir, const char *host);

/* The same test on one list of names (char *, canonical, "*.NAME"
 * wildcards): whether one of them covers `host`. */
int rc_host_list_covers(const rc_vec *names, const char *host);

/* Whether two rules give every request they both match the same answer:
 * status, gone, query policy, target tokens and fragment (the duplicate
 * check and `redirc diff`). */
int rc_rule_same_answer(const rc_rule *a, const rc_rule *b);

/* Whether every name of the scope is a wildcard (so `:subdomain` is
 * bound in its targets). */
int rc_scope_is_wildcard(const rc_scope *s);

/* The result of one request against the rules. */
typedef struct rc_answer {
	int matched;        /* 0 = pass */
	int invalid;        /* the path has an invalid escape (pass) */
	const rc_rule *rule;
	int status;
	char *location;     /* heap, NULL for 410 or pass; rc_answer_fini frees */
} rc_answer;

/* Answer a request (canonical host or NULL, raw path, raw query or NULL)
 * with the runtime matcher, rules in file order. */
void rc_ir_answer(const rc_ir *ir, const char *host, const char *path,
                  size_t path_len, const char *query, size_t query_len,
                  rc_answer *ans);
void rc_answer_fini(rc_answer *ans);

/* Print a URL argument as the first field of an explain/lookup line,
 * escaped so that it cannot forge fields or lines: a backslash doubled;
 * tab, newline and carriage return as backslash-t, -n, -r; every other
 * control byte, DEL, a UTF-8 encoded C1 control and a byte that is not
 * valid UTF-8 as backslash-xHH; everything else as is (doc/limits.md). */
void rc_url_print(FILE *out, const char *url);

/* Split a request URL (a path with optional ?query, or an absolute
 * http(s)://host/path?query) into canonical host, raw path and raw query.
 * The strings are arena-owned.  Returns 0, or -1 with *why set. */
int rc_url_split(rc_arena *a, const char *url, size_t len, char **host,
                 char **path, char **query, size_t *query_len,
                 const char **why);

/* Is `s` (n bytes) a valid host name: labels of letters, digits and '-',
 * or an IPv4 address?  Ports are not allowed. */
int rc_host_name_is_valid(const char *s, size_t n);

#endif /* RC_IR_H */
