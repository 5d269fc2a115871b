/*
 * cloudflare.c - the `cloudflare` target: a Cloudflare Bulk Redirects list.
 *
 * Artifacts: BASE.csv (the dashboard's import format: SOURCE,TARGET,STATUS,
 * PRESERVE_QUERY_STRING,INCLUDE_SUBDOMAINS,SUBPATH_MATCHING,
 * PRESERVE_PATH_SUFFIX, no header row) and BASE.json (the body of the Lists
 * API "Create list items" / "Update all list items" operations: an array
 * of {"redirect": {...}} with every field written out).
 *
 * The mapping relies on Cloudflare's documented behaviour (developers.
 * cloudflare.com/rules/url-forwarding/bulk-redirects/: how-it-works,
 * reference/parameters, reference/csv-file-format, reference/url-components):
 *   - a source URL without a scheme matches http and https; its host must be
 *     the request's host (include_subdomains false); its path must be the
 *     request's path, or with subpath_matching a path under it;
 *   - preserve_query_string keeps the request's query, and then the target
 *     may not have its own query;
 *   - preserve_path_suffix (with subpath_matching) appends the unmatched rest
 *     of the path to the target;
 *   - of two subpath redirects that match, the most specific path wins.
 * So: an exact rule becomes one entry per host it applies to (two with
 * `trailing-slash ignore`: PATH and PATH/); `/x/SPLAT -> /y/SPLAT` (SPLAT = the star) becomes a subpath
 * entry `host/x/` -> `https://host/y/` plus an exact entry `host/x` (the
 * bare parent).  Rules are expanded host by host in file order, so a rule
 * an earlier one answers for that host writes nothing there (per-host
 * overrides are exact).  Everything else is a `backend` error naming the
 * rule: placeholders, a splat not after '/', a splat inside the target
 * (anywhere but at the end of its path) or in a target with a query or a
 * fragment, a splat target under `trailing-slash ignore` (Cloudflare keeps
 * the request's trailing slash in the suffix), 410, 303, a target query or
 * fragment with `query keep`, `set case insensitive`, an exact source under
 * a later rule's subpath source (the precedence of an exact redirect over a
 * subpath redirect is not documented), a source byte the list cannot match
 * (? # [ ] \), more than 16 '/' in a subpath source, URLs over 32 KB.
 *
 * Issue 15's additions:
 *   - `set splat-parent no-match`: `/x/SPLAT` is the subpath entry `host/x/`
 *     alone (it matches `/x/` and what is under it, never `/x`), so under
 *     `trailing-slash strict` it is exact; under `ignore` the rule does not
 *     answer `/x/` (which is `/x`) but the entry does: refused.
 *   - wildcard host blocks: include_subdomains makes a source host NAME
 *     match NAME and every subdomain of it, so a block naming both `NAME`
 *     and `*.NAME` is written once with include_subdomains (a block with
 *     `*.NAME` alone is refused: the entry would answer NAME too).  Of the
 *     entries that match a request, Cloudflare takes an exact host before
 *     include_subdomains, and the longest domain of those; so every literal
 *     host is expanded with every rule that admits it (wildcard rules too),
 *     and every include domain D with every rule that admits all of D and
 *     its subdomains, each in file order: the entry Cloudflare picks is the
 *     first rule's.  A `:subdomain` target is refused (a target URL is
 *     literal), and so is a source URL the list would hold twice (a host
 *     that is both literal and an include domain, with a path in both).
 */
#include "backends/backend.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "backends/edge_quote.h"
#include "backends/servers.h"

#define CF_URL_MAX (32 * 1024)
#define CF_SUBPATH_SLASHES_MAX 16

/* Quotas of "URL redirects across lists" per account (Cloudflare Rules
 * availability, changelog 2025-02-12). */
#define CF_QUOTA_FREE 10000
#define CF_QUOTA_PRO 25000
#define CF_QUOTA_BUSINESS 50000
#define CF_QUOTA_ENTERPRISE 1000000

typedef struct cf_entry {
	char *source;       /* host/path, heap */
	char *target;       /* heap */
	int status;
	int preserve_query;
	int subpath;
	int preserve_suffix;
	int include_subdomains;
	const rc_rule *rule;
} cf_entry;

/* What one host already has: exact paths and subpath prefixes, with the
 * rule that wrote them. */
typedef struct cf_claim {
	char *path;         /* decoded; subpath prefixes end in '/' */
	size_t len;
	int subpath;
	const rc_rule *rule;
} cf_claim;

typedef struct cf_ctx {
	const rc_ir *ir;
	int failed;
	rc_vec entries;     /* cf_entry */
	unsigned char *refused; /* per rule: reported already */
	char ***scope_hosts;    /* per host scope: its names sorted, for bsearch */
} cf_ctx;

static const char *rule_name(cf_ctx *c, const rc_rule *r)
{
	return rc_quote((rc_arena *)&c->ir->arena, r->source_text, strlen(r->source_text), 60);
}

static void refuse(cf_ctx *c, const rc_rule *r, const char *why)
{
	if (c->refused[r->index])
		return;
	c->refused[r->index] = 1;
	rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", r->loc,
	            "rule '%s' cannot be a Cloudflare Bulk Redirect: %s", rule_name(c, r), why);
	c->failed = 1;
}

/* The bytes of a decoded source path as Cloudflare's normalized request
 * URL holds them (RFC 3986 normalization: unreserved and reserved bytes as
 * they are, every other byte %XX with upper-case hex).  -1 for a byte no
 * path of a request URL can hold literally (? # [ ]) or that Cloudflare
 * rewrites (\ becomes /). */
static int cf_path(rc_buf *b, const char *s, size_t n)
{
	static const char HEX[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '?' || ch == '#' || ch == '[' || ch == ']' || ch == '\\')
			return -1;
		int keep = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		           (ch >= '0' && ch <= '9') || (ch != 0 && strchr("-._~:/@!$&'()*+,;=", ch));
		if (keep) {
			rc_buf_addc(b, (char)ch);
		} else {
			char e[3] = { '%', HEX[ch >> 4], HEX[ch & 15] };
			rc_buf_add(b, e, 3);
		}
	}
	return 0;
}

/* The literal text of target tokens [0, n) (all LIT). */
static void target_lits(rc_buf *b, const rc_rule *r, uint32_t n)
{
	for (uint32_t t = 0; t < n; t++)
		rc_buf_add(b, r->target.toks[t].text, r->target.toks[t].len);
}

/* The rule's target made absolute for host h (a path target gets
 * https://h, as spec section 3 allows), without the splat; NULL and a
 * refusal when the target cannot be written. */
static char *cf_target(cf_ctx *c, const rc_rule *r, const char *h, int *suffix)
{
	uint32_t nt = r->target.ntoks;
	*suffix = 0;
	if (r->target.uses_splat) {
		const rd_ttok *last = nt ? &r->target.toks[nt - 1] : NULL;
		int ok = last && last->kind == RD_TTOK_CAP_PATH && last->capture == r->nparams;
		for (uint32_t t = 0; ok && t + 1 < nt; t++)
			ok = r->target.toks[t].kind == RD_TTOK_LIT;
		if (!ok || r->target.has_query || r->target.fragment) {
			refuse(c, r, "a Bulk Redirect appends the rest of the path only at the end of the "
			             "target's path, with no query or fragment after it (preserve_path_suffix)");
			return NULL;
		}
		*suffix = 1;
		nt--;
	}
	rc_buf b;
	rc_buf_init(&b);
	if (!r->target.absolute)
		rc_buf_printf(&b, "https://%s", h);
	target_lits(&b, r, nt);
	if (*suffix && (b.len == 0 || b.data[b.len - 1] != '/')) {
		rc_buf_fini(&b);
		refuse(c, r, "the splat of a Bulk Redirect target must follow a '/'");
		return NULL;
	}
	if (r->target.fragment)
		rc_buf_adds(&b, r->target.fragment);
	if (b.len > CF_URL_MAX) {
		rc_buf_fini(&b);
		refuse(c, r, "its target passes Cloudflare's 32 KB limit for a target URL");
		return NULL;
	}
	return b.data;
}

/* Checks that do not depend on the host; 0 = the rule can be written. */
static int cf_rule_ok(cf_ctx *c, const rc_rule *r)
{
	const rc_ir *ir = c->ir;
	if (r->gone) {
		refuse(c, r, "a Bulk Redirect answers with a redirect status only (301 302 307 308), "
		             "not 410");
		return -1;
	}
	if (r->status == 303) {
		refuse(c, r, "Bulk Redirects take the status codes 301 302 307 308, not 303");
		return -1;
	}
	if (r->target.uses_subdomain) {
		refuse(c, r, "a Bulk Redirect target is a literal URL: it cannot hold the request's "
		             "subdomain (:subdomain)");
		return -1;
	}
	if (r->scope >= 0) {
		const rc_scope *sc = RC_VEC_AT(&ir->scopes, rc_scope, r->scope);
		for (uint32_t k = 0; k < sc->nhosts; k++) {
			if (sc->hosts[k][0] != '*')
				continue;
			int paired = 0;
			for (uint32_t j = 0; j < sc->nhosts && !paired; j++)
				paired = strcmp(sc->hosts[j], sc->hosts[k] + 2) == 0;
			if (!paired) {
				refuse(c, r, "its host block names a wildcard '*.NAME' without NAME itself, and "
				             "Cloudflare's include_subdomains matches NAME too (write "
				             "'host NAME, *.NAME' if NAME may be answered as well)");
				return -1;
			}
		}
	}
	if (r->is_pattern && (ir->policy & RD_POLICY_SPLAT_NO_PARENT) &&
	    !(ir->policy & RD_POLICY_TRAILING_STRICT) && r->nsrc == 2 &&
	    r->src[0].kind == RD_PTOK_LIT && r->src[0].len > 1) {
		refuse(c, r, "under splat-parent no-match and trailing-slash ignore the rule does not "
		             "answer '/x/' (it is '/x'), but the subpath entry for '/x/' does (use set "
		             "trailing-slash strict)");
		return -1;
	}
	if (r->is_pattern) {
		int ok = r->nparams == 0 && r->has_splat && r->nsrc == 2 &&
		         r->src[0].kind == RD_PTOK_LIT && r->src[0].len > 0 &&
		         r->src[0].text[r->src[0].len - 1] == '/';
		if (!ok) {
			refuse(c, r, r->nparams ? "a Bulk Redirect source is a literal URL: it has no "
			                          "placeholders"
			                        : "subpath matching works on whole path segments, so a splat "
			                          "must follow a '/'");
			return -1;
		}
		if (r->target.uses_splat && !(ir->policy & RD_POLICY_TRAILING_STRICT)) {
			refuse(c, r, "with trailing-slash ignore the rule drops a request's trailing slash "
			             "from the splat, but Cloudflare keeps it in the path suffix it appends "
			             "(use set trailing-slash strict, or a target without '*')");
			return -1;
		}
	}
	if (!r->query_drop && r->target.has_query) {
		refuse(c, r, "with query keep the target may not have its own query: Cloudflare "
		             "accepts a target query only when preserve_query_string is false "
		             "(use query drop)");
		return -1;
	}
	if (!r->query_drop && r->target.fragment) {
		refuse(c, r, "with query keep Cloudflare's documentation does not say where the "
		             "preserved query goes relative to the target's fragment (use query drop, "
		             "or drop the fragment)");
		return -1;
	}
	return 0;
}

static void add_entry(cf_ctx *c, const rc_rule *r, const char *h, const char *path, size_t n,
                      int subpath, int include)
{
	rc_buf src;
	rc_buf_init(&src);
	rc_buf_adds(&src, h);
	if (cf_path(&src, path, n) != 0) {
		rc_buf_fini(&src);
		refuse(c, r, "its source holds '?', '#', '[', ']' or '\\', which a Bulk Redirect source "
		             "path cannot match as written (Cloudflare turns '\\' into '/')");
		return;
	}
	if (src.len > CF_URL_MAX) {
		rc_buf_fini(&src);
		refuse(c, r, "its source passes Cloudflare's 32 KB limit for a source URL");
		return;
	}
	if (subpath) {
		int slashes = 0;
		for (size_t i = 0; i < n; i++)
			slashes += path[i] == '/';
		if (slashes > CF_SUBPATH_SLASHES_MAX) {
			rc_buf_fini(&src);
			refuse(c, r, "a Bulk Redirect with subpath matching may have at most 16 '/' in "
			             "its source path");
			return;
		}
	}
	int suffix;
	char *target = cf_target(c, r, h, &suffix);
	if (!target) {
		rc_buf_fini(&src);
		return;
	}
	cf_entry *e = rc_vec_push(&c->entries);
	e->source = src.data;
	e->target = target;
	e->status = r->status;
	e->preserve_query = !r->query_drop;
	e->subpath = subpath;
	e->preserve_suffix = subpath && suffix;
	e->include_subdomains = include;
	e->rule = r;
}

static int host_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether rule r applies to host h: a binary search in its scope's sorted
 * names, so many hosts times many rules stays near-linear. */
static int rule_admits(const cf_ctx *c, const rc_rule *r, const char *h)
{
	if (r->scope < 0)
		return 1;
	const rc_scope *s = RC_VEC_AT(&c->ir->scopes, rc_scope, r->scope);
	if (bsearch(&h, c->scope_hosts[r->scope], s->nhosts, sizeof(char *), host_cmp) != NULL)
		return 1;
	/* wildcard names sort first ('*' is below every host byte) */
	for (uint32_t k = 0; k < s->nhosts && c->scope_hosts[r->scope][k][0] == '*'; k++)
		if (rd_wildcard_admits(c->scope_hosts[r->scope][k], h))
			return 1;
	return 0;
}

/* Whether rule r applies to domain d and every subdomain of it (an
 * include_subdomains entry for d): a rule for every host, or a wildcard
 * name "*.M" of its block with d = M or d under M (M is in the block too:
 * cf_rule_ok). */
static int rule_covers_domain(const cf_ctx *c, const rc_rule *r, const char *d)
{
	if (r->scope < 0)
		return 1;
	const rc_scope *s = RC_VEC_AT(&c->ir->scopes, rc_scope, r->scope);
	for (uint32_t k = 0; k < s->nhosts && c->scope_hosts[r->scope][k][0] == '*'; k++) {
		const char *w = c->scope_hosts[r->scope][k];
		if (strcmp(w + 2, d) == 0 || rd_wildcard_admits(w, d))
			return 1;
	}
	return 0;
}

/* The claims of one host, indexed: exact paths, subpath prefixes (which
 * end in '/'), and every '/'-ended prefix of an exact path (what a later
 * subpath rule would lie over).  Values are claim indexes + 1. */
typedef struct cf_claims {
	rc_vec all;         /* cf_claim */
	rc_strmap exact, subpath, exact_prefix;
} cf_claims;

#define CLAIM_VALUE(j) ((void *)(uintptr_t)((j) + 1))
#define CLAIM_AT(cs, v) RC_VEC_AT(&(cs)->all, cf_claim, (uintptr_t)(v) - 1)

static void claim_add(cf_claims *cs, const rc_rule *r, const char *path, size_t n, int subpath)
{
	cf_claim *cl = rc_vec_push(&cs->all);
	cl->path = rc_xmalloc(n + 1);
	memcpy(cl->path, path, n);
	cl->path[n] = '\0';
	cl->len = n;
	cl->subpath = subpath;
	cl->rule = r;
	void *v = CLAIM_VALUE(cs->all.len - 1);
	if (subpath) {
		rc_strmap_add(&cs->subpath, cl->path, n, v);
		return;
	}
	rc_strmap_add(&cs->exact, cl->path, n, v);
	for (size_t i = 0; i < n; i++)
		if (cl->path[i] == '/')
			rc_strmap_add(&cs->exact_prefix, cl->path, i + 1, v);
}

/* An earlier subpath claim that covers path[0..n): one whose prefix is a
 * '/'-ended prefix of it. */
static int subpath_covers(const cf_claims *cs, const char *path, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (path[i] == '/' && rc_strmap_get(&cs->subpath, path, i + 1))
			return 1;
	return 0;
}

/* Every rule that admits host h, in file order (`include`: every rule
 * that admits domain h and all its subdomains, written with
 * include_subdomains). */
static void expand_host(cf_ctx *c, const char *h, int include)
{
	const rc_ir *ir = c->ir;
	cf_claims cs;
	rc_vec_init(&cs.all, sizeof(cf_claim));
	rc_strmap_init(&cs.exact);
	rc_strmap_init(&cs.subpath);
	rc_strmap_init(&cs.exact_prefix);
	int ignore = !(ir->policy & RD_POLICY_TRAILING_STRICT);
	char *p = NULL;
	size_t pcap = 0;
	for (size_t i = 0; i < rc_ir_nrules(ir); i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (c->refused[r->index] || !(include ? rule_covers_domain(c, r, h) : rule_admits(c, r, h)))
			continue;
		if (!r->is_pattern) {
			/* PATH, and PATH/ when a trailing slash is ignored */
			if (pcap < r->exact_len + 2) {
				pcap = r->exact_len + 2;
				p = rc_xrealloc(p, pcap);
			}
			for (int k = 0; k < 1 + (ignore && r->exact_len > 1); k++) {
				memcpy(p, r->exact_key, r->exact_len);
				size_t n = r->exact_len;
				if (k)
					p[n++] = '/';
				if (rc_strmap_get(&cs.exact, p, n) || subpath_covers(&cs, p, n))
					continue;
				add_entry(c, r, h, p, n, 0, include);
				claim_add(&cs, r, p, n, 0);
			}
			continue;
		}
		const char *s = r->src[0].text;
		size_t sn = r->src[0].len;  /* ends in '/' */
		if (subpath_covers(&cs, s, sn))
			continue; /* an earlier subpath rule answers all of it for h */
		/* an earlier exact path under this prefix, or its bare parent */
		int bare = sn > 1 && !(ir->policy & RD_POLICY_SPLAT_NO_PARENT);
		void *u1 = rc_strmap_get(&cs.exact_prefix, s, sn);
		void *u2 = bare ? rc_strmap_get(&cs.exact, s, sn - 1) : NULL;
		void *u = u1 && (!u2 || (uintptr_t)u1 < (uintptr_t)u2) ? u1 : u2;
		if (u) {
			const cf_claim *under = CLAIM_AT(&cs, u);
			refuse(c, r, "an earlier exact rule's source lies under this rule's subpath source, "
			             "and Cloudflare documents the precedence of two subpath redirects only "
			             "(the most specific wins), not of an exact one over a subpath one");
			rc_diag_note(ir->diags, under->rule->loc, "the earlier rule, for host '%s'", h);
			continue;
		}
		add_entry(c, r, h, s, sn, 1, include);
		claim_add(&cs, r, s, sn, 1);
		if (bare) { /* the bare parent: a splat after /x/ also matches /x */
			add_entry(c, r, h, s, sn - 1, 0, include);
			claim_add(&cs, r, s, sn - 1, 0);
		}
	}
	free(p);
	for (size_t j = 0; j < cs.all.len; j++)
		free(RC_VEC_AT(&cs.all, cf_claim, j)->path);
	rc_vec_fini(&cs.all);
	rc_strmap_fini(&cs.exact);
	rc_strmap_fini(&cs.subpath);
	rc_strmap_fini(&cs.exact_prefix);
}

/* A list holds a source URL once: a host that is literal and also an
 * include domain may give the same source twice; the later rule is
 * refused. */
static void refuse_duplicates(cf_ctx *c)
{
	rc_strmap seen;
	rc_strmap_init(&seen);
	for (size_t i = 0; i < c->entries.len; i++) {
		const cf_entry *e = RC_VEC_AT(&c->entries, cf_entry, i);
		const cf_entry *first = rc_strmap_add(&seen, e->source, strlen(e->source), (void *)e);
		if (first == e)
			continue;
		const rc_rule *later = first->rule->index > e->rule->index ? first->rule : e->rule;
		const rc_rule *earlier = later == e->rule ? first->rule : e->rule;
		refuse(c, later, rc_arena_printf((rc_arena *)&c->ir->arena, "the list would hold the "
		                 "source URL '%s' twice (for the host alone and with include_subdomains, "
		                 "as the host is named literally and as '*.NAME' with NAME), and a Bulk "
		                 "Redirects list takes a source URL once",
		                 rc_quote((rc_arena *)&c->ir->arena, e->source, strlen(e->source), 80)));
		if (earlier != later)
			rc_diag_note(c->ir->diags, earlier->loc, "the other entry for '%s' comes from this "
			             "rule", rc_quote((rc_arena *)&c->ir->arena, e->source, strlen(e->source), 80));
	}
	rc_strmap_fini(&seen);
}

static const char *tf(int v)
{
	return v ? "TRUE" : "FALSE";
}

static const char *jb(int v)
{
	return v ? "true" : "false";
}

static int emit_cloudflare(const rc_ir *ir, const rc_emit_opts *opts, rc_artifacts *out)
{
	(void)opts;
	cf_ctx c = { ir, 0, { 0 }, NULL, NULL };
	rc_vec_init(&c.entries, sizeof(cf_entry));
	size_t nrules = rc_ir_nrules(ir);
	c.refused = rc_xmalloc(nrules + 1);
	memset(c.refused, 0, nrules + 1);
	c.scope_hosts = rc_xmalloc((ir->scopes.len + 1) * sizeof *c.scope_hosts);
	for (size_t k = 0; k < ir->scopes.len; k++) {
		const rc_scope *sc = RC_VEC_AT(&ir->scopes, rc_scope, k);
		c.scope_hosts[k] = rc_xmalloc((sc->nhosts + 1) * sizeof(char *));
		memcpy(c.scope_hosts[k], sc->hosts, sc->nhosts * sizeof(char *));
		rc_sort(c.scope_hosts[k], sc->nhosts, sizeof(char *), host_cmp);
	}

	if (ir->policy & RD_POLICY_CASE_INSENSITIVE) {
		rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", ir->settings.loc_case,
		            "'set case insensitive' cannot be a Cloudflare Bulk Redirects list: a "
		            "source URL's path matches as written, and a list cannot hold every case "
		            "variant of a path");
		c.failed = 1;
	}
	/* the literal hosts: `set hosts` and every host block's names, but a
	 * NAME its block also names as '*.NAME' (written with
	 * include_subdomains: the domains) */
	rc_vec hosts, domains;
	rc_vec_init(&hosts, sizeof(char *));
	rc_vec_init(&domains, sizeof(char *));
	for (size_t i = 0; i < ir->served_hosts.len; i++) {
		char *h = *RC_VEC_AT(&ir->served_hosts, char *, i);
		if (h[0] == '*')
			*(char **)rc_vec_push(&domains) = h + 2;
		else
			*(char **)rc_vec_push(&hosts) = h;
	}
	for (size_t k = 0; k < ir->scopes.len; k++) {
		const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, k);
		for (uint32_t j = 0; j < s->nhosts; j++) {
			if (s->hosts[j][0] == '*') {
				/* an include domain when NAME is in the block too (else
				 * its rules are refused: cf_rule_ok) */
				for (uint32_t w = 0; w < s->nhosts; w++)
					if (strcmp(s->hosts[w], s->hosts[j] + 2) == 0)
						*(char **)rc_vec_push(&domains) = s->hosts[j] + 2;
				continue;
			}
			int paired = 0;
			for (uint32_t w = 0; w < s->nhosts && !paired; w++)
				paired = s->hosts[w][0] == '*' && strcmp(s->hosts[w] + 2, s->hosts[j]) == 0;
			if (!paired)
				*(char **)rc_vec_push(&hosts) = s->hosts[j];
		}
	}
	rc_vec *lists[2] = { &hosts, &domains };
	for (int l = 0; l < 2; l++) {
		rc_vec *v = lists[l];
		if (v->len > 1)
			rc_sort(v->items, v->len, sizeof(char *), host_cmp);
		size_t nh = 0;
		for (size_t i = 0; i < v->len; i++)
			if (nh == 0 || strcmp(*RC_VEC_AT(v, char *, i), *RC_VEC_AT(v, char *, nh - 1)) != 0)
				*RC_VEC_AT(v, char *, nh++) = *RC_VEC_AT(v, char *, i);
		v->len = nh;
	}
	for (size_t i = 0; i < nrules && !c.failed; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (r->scope < 0 && ir->served_hosts.len == 0) {
			rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", r->loc,
			            "rule '%s' applies to every host, but a Bulk Redirect source URL names "
			            "its host: declare the hosts with 'set hosts' (the list then holds the "
			            "rule once per host)", rule_name(&c, r));
			c.failed = 1;
		}
	}
	if (!c.failed) {
		for (size_t i = 0; i < nrules; i++)
			cf_rule_ok(&c, rc_ir_rule(ir, i));
		for (size_t i = 0; i < hosts.len; i++)
			expand_host(&c, *RC_VEC_AT(&hosts, char *, i), 0);
		for (size_t i = 0; i < domains.len; i++)
			expand_host(&c, *RC_VEC_AT(&domains, char *, i), 1);
		refuse_duplicates(&c);
	}
	int st = c.failed ? -1 : 0;
	if (st == 0 && c.entries.len > CF_QUOTA_FREE)
		rc_diag_add(ir->diags, RC_SEV_WARNING, "backend", RC_NOLOC,
		            "the Bulk Redirects list has %zu entries; an account holds at most %d URL "
		            "redirects across lists on the Free plan, %d on Pro, %d on Business and %d "
		            "on Enterprise by default",
		            c.entries.len, CF_QUOTA_FREE, CF_QUOTA_PRO, CF_QUOTA_BUSINESS,
		            CF_QUOTA_ENTERPRISE);
	FILE *csv = st == 0 ? rc_artifacts_open(out, ".csv") : NULL;
	FILE *json = csv ? rc_artifacts_open(out, ".json") : NULL;
	if (st == 0 && !json)
		st = -1;
	if (st == 0) {
		rc_buf line, item;
		rc_buf_init(&line);
		rc_buf_init(&item);
		fputs("[", json);
		for (size_t i = 0; i < c.entries.len && st == 0; i++) {
			const cf_entry *e = RC_VEC_AT(&c.entries, cf_entry, i);
			rc_buf_reset(&line);
			rc_buf_reset(&item);
			/* sources and targets are ASCII without CR/LF (encoded):
			 * a refusal here is a bug, reported */
			int bad = rc_csv_field(&line, e->source, strlen(e->source)) != 0;
			rc_buf_addc(&line, ',');
			bad |= rc_csv_field(&line, e->target, strlen(e->target)) != 0;
			rc_buf_printf(&line, ",%d,%s,%s,%s,%s\n", e->status, tf(e->preserve_query),
			              tf(e->include_subdomains), tf(e->subpath), tf(e->preserve_suffix));
			rc_buf_adds(&item, i ? ",\n  " : "\n  ");
			rc_buf_adds(&item, "{\"redirect\": {\"source_url\": ");
			bad |= rc_edge_json_string(&item, e->source, strlen(e->source)) != 0;
			rc_buf_adds(&item, ", \"target_url\": ");
			bad |= rc_edge_json_string(&item, e->target, strlen(e->target)) != 0;
			rc_buf_printf(&item, ", \"status_code\": %d, \"preserve_query_string\": %s, "
			                     "\"include_subdomains\": %s, \"subpath_matching\": %s, "
			                     "\"preserve_path_suffix\": %s}}",
			              e->status, jb(e->preserve_query), jb(e->include_subdomains),
			              jb(e->subpath), jb(e->preserve_suffix));
			if (bad) {
				rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", e->rule->loc,
				            "internal error: rule '%s' gives a URL the list cannot quote",
				            rule_name(&c, e->rule));
				st = -1;
				break;
			}
			fwrite(line.data, 1, line.len, csv);
			fwrite(item.data, 1, item.len, json);
		}
		fputs(c.entries.len ? "\n]\n" : "]\n", json);
		rc_buf_fini(&line);
		rc_buf_fini(&item);
	}
	for (size_t i = 0; i < c.entries.len; i++) {
		cf_entry *e = RC_VEC_AT(&c.entries, cf_entry, i);
		free(e->source);
		free(e->target);
	}
	rc_vec_fini(&c.entries);
	rc_vec_fini(&hosts);
	rc_vec_fini(&domains);
	free(c.refused);
	for (size_t k = 0; k < ir->scopes.len; k++)
		free(c.scope_hosts[k]);
	free(c.scope_hosts);
	return st;
}

const rc_backend rc_backend_cloudflare = {
	"cloudflare",
	"Cloudflare Bulk Redirects list: BASE.csv (dashboard import), BASE.json (Lists API items)",
	emit_cloudflare,
	0,
};
