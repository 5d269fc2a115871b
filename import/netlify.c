/*
 * netlify.c - Netlify `_redirects` and `netlify.toml` [[redirects]], and the
 * Cloudflare Pages flavour of `_redirects`.
 *
 *   _redirects line:  SOURCE [KEY=VALUE...] TARGET [STATUS[!]] [Cond=VALUES...]
 *
 * (docs.netlify.com/routing/redirects/ and .../redirect-options/;
 * developers.cloudflare.com/pages/configuration/redirects/).  What the
 * language cannot say is refused with its reason: a query-parameter match,
 * a 200 rewrite or proxy, a 404 page, a Country/Language/Role/Cookie
 * condition, a placeholder or splat inside a segment.  A domain-level
 * source ("https://HOST/path") matches one scheme and one host; the
 * language matches a host for every scheme, so it is imported (as a host
 * block) only when the next rule is its twin for the other scheme (same
 * host, pattern, target and status): the pair then means exactly that.
 * A rule without '!' applies on Netlify only when no file exists at its
 * path; the import assumes none does (a redirect's source is an old URL).
 */
#include "import/import.h"

#include <stdlib.h>
#include <string.h>

/* A domain-level source "http[s]://HOST[/PATH]": r bound to HOST and the
 * scheme; *path and *pn the path part ("/" when none).  -1 after refusing. */
static int domain_source(imp_doc *doc, imp_rule *r, const char *s, size_t n, uint32_t col,
                         const char **path, size_t *pn)
{
	size_t b = strncasecmp(s, "https://", 8) == 0 ? 8 : 7;
	size_t e = b;
	while (e < n && s[e] != '/')
		e++;
	if (!imp_host_is_valid(s + b, e - b)) {
		imp_refuse(doc, r, col, (uint32_t)n, "domain-level source '%s' does not name a plain "
		           "host (a port, a placeholder or a wildcard in the host is not documented "
		           "by Netlify)", rc_quote(&doc->arena, s, n, 80));
		return -1;
	}
	char *h = rc_arena_strndup(&doc->arena, s + b, e - b);
	for (char *c = h; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	r->host = h;
	r->scheme = b == 8 ? 2 : 1;
	*path = e < n ? s + e : "/";
	*pn = e < n ? n - e : 1;
	return 0;
}

static int els_equal(const imp_el *a, uint32_t na, const imp_el *b, uint32_t nb)
{
	if (na != nb)
		return 0;
	for (uint32_t k = 0; k < na; k++)
		if (a[k].kind != b[k].kind || a[k].param != b[k].param || a[k].len != b[k].len ||
		    (a[k].len && memcmp(a[k].text, b[k].text, a[k].len) != 0))
			return 0;
	return 1;
}

/* Domain-level rules of one file (rules from `first` on): a rule and the
 * next one, the same for the other scheme, are one rule for every scheme;
 * a rule for one scheme alone is refused. */
static void pair_schemes(imp_doc *doc, size_t first)
{
	for (size_t i = first; i < doc->rules.len; i++) {
		imp_rule *r = RC_VEC_AT(&doc->rules, imp_rule, i);
		if (!r->scheme || r->refused)
			continue;
		imp_rule *t = i + 1 < doc->rules.len ? RC_VEC_AT(&doc->rules, imp_rule, i + 1) : NULL;
		if (t && !t->refused && t->scheme == 3 - r->scheme && strcmp(t->host, r->host) == 0 &&
		    els_equal(r->src, r->nsrc, t->src, t->nsrc) &&
		    els_equal(r->dst, r->ndst, t->dst, t->ndst) && r->status == t->status &&
		    r->query == t->query) {
			r->scheme = 0;
			t->scheme = 0;
			t->twin_line = r->loc.line;
			i++;
			continue;
		}
		const char *one = r->scheme == 1 ? "http" : "https";
		imp_refuse(doc, r, r->loc.col, r->loc.len,
		           "a domain-level source matches %s:// requests to %s only, and a host block "
		           "every scheme: the next rule must be its twin for %s:// (same pattern, "
		           "target and status) for an exact import", one, r->host,
		           r->scheme == 1 ? "https" : "http");
	}
}

static int is_status_field(const char *f, size_t n)
{
	size_t d = 0;
	while (d < n && f[d] >= '0' && f[d] <= '9')
		d++;
	return d == 3 && (n == 3 || (n == 4 && f[3] == '!'));
}

/* Status, target and conditions of a rule whose source is parsed. */
static void finish_rule(imp_doc *doc, imp_rule *r, const char *target, size_t tn, uint32_t tcol,
                        int status, uint32_t scol)
{
	int cf = doc->format == IMP_CF_PAGES;
	if (status == 200 || status == 404 || status == 410 || status < 300 || status > 399 ||
	    (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)) {
		r->redirects = 0;
		int absolute = tn >= 4 && strncasecmp(target, "http", 4) == 0;
		if (status == 200)
			imp_refuse(doc, r, scol, 3, absolute
			           ? "status 200 with an absolute target is a proxy, not a redirect"
			           : "status 200 is a rewrite (the server answers with another path's "
			             "content), not a redirect");
		else if (status == 404 || status == 410)
			imp_refuse(doc, r, scol, 3, "status %d answers with the target's content as "
			           "an error page, not a redirect", status);
		else
			imp_refuse(doc, r, scol, 3, "status %d, expected 301 302 303 307 308", status);
	}
	r->status = status;
	if (imp_parse_target(doc, r, target, tn, tcol, 0, 1) != 0)
		return;
	const char *hash = memchr(target, '#', tn);
	int has_query = memchr(target, '?', hash ? (size_t)(hash - target) : tn) != NULL;
	if (has_query) {
		if (cf)
			r->query = IMP_QUERY_DROP; /* the target's query replaces the request's */
		else
			imp_refuse(doc, r, tcol, (uint32_t)tn,
			           "target has its own query: how Netlify merges the request's query "
			           "into it is not documented, so the import cannot prove it");
	}
}

void imp_read_netlify(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len)
{
	int cf = doc->format == IMP_CF_PAGES;
	size_t first = doc->rules.len;
	uint32_t lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n && line[n - 1] == '\r')
			n--;
		size_t i = 0;
		while (i < n && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == n)
			continue;
		if (line[i] == '#') {
			imp_comment(doc, line + i, n - i);
			continue;
		}
		const char *f[16];
		size_t fl[16], fs[16];
		size_t nf = imp_fields(line, n, f, fl, fs, 16);
		imp_rule *r = imp_rule_new(doc, file, path, lineno, line, n);
		if (memchr(line, '\0', n)) {
			imp_refuse(doc, r, 1, (uint32_t)n, "a NUL byte in the line (a binary file?)");
			continue;
		}
		if (nf == 16) {
			imp_refuse(doc, r, (uint32_t)fs[15] + 1, (uint32_t)fl[15],
			           "too many fields, expected SOURCE TARGET [STATUS] [conditions]");
			continue;
		}
		const char *src = f[0];
		size_t srcn = fl[0];
		uint32_t srccol = (uint32_t)fs[0] + 1;
		if (fl[0] >= 7 && (strncasecmp(f[0], "http://", 7) == 0 || strncasecmp(f[0], "https://", 8) == 0)) {
			if (cf) {
				imp_refuse(doc, r, 1, (uint32_t)fl[0], "a domain-level source ('%s'): "
				           "Cloudflare Pages matches paths only",
				           rc_quote(&doc->arena, f[0], fl[0], 80));
				continue;
			}
			if (domain_source(doc, r, f[0], fl[0], srccol, &src, &srcn) != 0)
				continue;
			srccol += (uint32_t)(src - f[0]);
		}
		/* source, then query-parameter matches (key=value), then the target */
		size_t k = 1;
		int query_cond = 0;
		while (k < nf && f[k][0] != '/' && memchr(f[k], '=', fl[k]) &&
		       !(fl[k] >= 4 && strncasecmp(f[k], "http", 4) == 0)) {
			query_cond = 1;
			k++;
		}
		if (k >= nf || is_status_field(f[k], fl[k])) {
			imp_refuse(doc, r, 1, (uint32_t)n,
			           "no target, expected SOURCE TARGET [STATUS] (a rule that only sets a "
			           "status or a role is not a redirect)");
			continue;
		}
		if (imp_parse_source(doc, r, src, srcn, srccol, 0) != 0) {
			r->has_pattern = 0;
			continue;
		}
		size_t t = k++;
		int status = doc->sem.default_status;
		uint32_t scol = 0;
		if (k < nf && is_status_field(f[k], fl[k])) {
			status = atoi(f[k]);
			scol = (uint32_t)fs[k] + 1;
			k++;
		}
		if (query_cond) {
			r->conditional = 1; /* it answers only requests with those parameters */
			imp_refuse(doc, r, (uint32_t)fs[1] + 1, (uint32_t)fl[1],
			           "it matches query parameters ('%s'): a query condition, which the "
			           "language cannot express", rc_quote(&doc->arena, f[1], fl[1], 80));
		}
		finish_rule(doc, r, f[t], fl[t], (uint32_t)fs[t] + 1, status, scol);
		if (k < nf) {
			int cond = 0;
			static const char *const conds[] = { "Country=", "Language=", "Role=", "Cookie=" };
			for (size_t c = 0; c < 4; c++)
				if (fl[k] > strlen(conds[c]) && strncasecmp(f[k], conds[c], strlen(conds[c])) == 0)
					cond = 1;
			if (cond) {
				r->conditional = 1;
				imp_refuse(doc, r, (uint32_t)fs[k] + 1, (uint32_t)fl[k],
				           "condition '%s': the language has no country, language, role or "
				           "cookie conditions", rc_quote(&doc->arena, f[k], fl[k], 80));
			} else {
				imp_refuse(doc, r, (uint32_t)fs[k] + 1, (uint32_t)fl[k],
				           "unexpected '%s' after the %s, expected a condition (Key=value) "
				           "or the end of the line", rc_quote(&doc->arena, f[k], fl[k], 80),
				           scol ? "status" : "target");
			}
		}
	}
	pair_schemes(doc, first);
}

/* ---- netlify.toml: [[redirects]] tables only ------------------------- */

/* A TOML basic or literal string at s (after blanks); returns its value
 * (arena) or NULL. */
static char *toml_string(imp_doc *doc, const char *s, size_t n, size_t *used)
{
	if (n == 0 || (s[0] != '"' && s[0] != '\''))
		return NULL;
	char qc = s[0];
	rc_buf b;
	rc_buf_init(&b);
	size_t i = 1;
	for (; i < n && s[i] != qc; i++) {
		if (qc == '"' && s[i] == '\\' && i + 1 < n) {
			char c = s[++i];
			rc_buf_addc(&b, c == 'n' ? '\n' : c == 't' ? '\t' : c);
		} else {
			rc_buf_addc(&b, s[i]);
		}
	}
	if (i >= n) {
		rc_buf_fini(&b);
		return NULL; /* unterminated */
	}
	*used = i + 1;
	char *v = rc_arena_strndup(&doc->arena, b.data ? b.data : "", b.len);
	rc_buf_fini(&b);
	return v;
}

struct toml_redirect {
	imp_rule *r;
	const char *from, *to;
	uint32_t from_col, to_col, from_line, to_line, status_col;
	int status;
};

static void toml_finish(imp_doc *doc, struct toml_redirect *t)
{
	if (!t->r)
		return;
	imp_rule *r = t->r;
	t->r = NULL;
	if (!t->from || !t->to) {
		imp_refuse(doc, r, 1, 0, "[[redirects]] without %s, expected from and to",
		           t->from ? "'to'" : "'from'");
		return;
	}
	const char *src = t->from;
	size_t srcn = strlen(t->from);
	uint32_t srccol = t->from_col;
	r->loc.line = t->from_line;
	if (strncasecmp(t->from, "http://", 7) == 0 || strncasecmp(t->from, "https://", 8) == 0) {
		if (domain_source(doc, r, t->from, srcn, srccol, &src, &srcn) != 0)
			return;
		srccol += (uint32_t)(src - t->from);
	}
	if (imp_parse_source(doc, r, src, srcn, srccol, 0) != 0) {
		r->has_pattern = 0;
		return;
	}
	finish_rule(doc, r, t->to, strlen(t->to), t->to_col, t->status, t->status_col);
}

void imp_read_netlify_toml(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len)
{
	struct toml_redirect t;
	memset(&t, 0, sizeof t);
	size_t first = doc->rules.len;
	int in_redirects = 0;
	uint32_t lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n && line[n - 1] == '\r')
			n--;
		size_t i = 0;
		while (i < n && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == n)
			continue;
		if (line[i] == '#') {
			if (in_redirects)
				imp_comment(doc, line + i, n - i);
			continue;
		}
		if (line[i] == '[') {
			toml_finish(doc, &t);
			in_redirects = n - i >= 13 && strncmp(line + i, "[[redirects]]", 13) == 0;
			if (in_redirects) {
				t.r = imp_rule_new(doc, file, path, lineno, line, n);
				t.from = t.to = NULL;
				t.status = doc->sem.default_status;
				t.status_col = 0;
			}
			continue;
		}
		if (!in_redirects || !t.r)
			continue;
		size_t k = i;
		while (k < n && line[k] != '=' && line[k] != ' ' && line[k] != '\t')
			k++;
		const char *key = line + i;
		size_t kl = k - i;
		while (k < n && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (k >= n || line[k] != '=') {
			int was = t.r->refused != NULL;
			imp_refuse(doc, t.r, (uint32_t)i + 1, (uint32_t)(n - i),
			           "expected KEY = VALUE inside [[redirects]]");
			if (!was)
				t.r->why_loc.line = lineno;
			continue;
		}
		k++;
		while (k < n && (line[k] == ' ' || line[k] == '\t'))
			k++;
		size_t used = 0;
		uint32_t vcol = (uint32_t)k + 1;
		if ((kl == 4 && strncmp(key, "from", 4) == 0) || (kl == 2 && strncmp(key, "to", 2) == 0)) {
			char *v = toml_string(doc, line + k, n - k, &used);
			if (!v) {
				int was = t.r->refused != NULL;
				imp_refuse(doc, t.r, vcol, (uint32_t)(n - k),
				           "'%.*s' is not a terminated string", (int)kl, key);
				if (!was)
					t.r->why_loc.line = lineno;
				continue;
			}
			if (kl == 4) {
				t.from = v;
				t.from_col = vcol + 1;
				t.from_line = lineno;
			} else {
				t.to = v;
				t.to_col = vcol + 1;
				t.to_line = lineno;
			}
		} else if (kl == 6 && strncmp(key, "status", 6) == 0) {
			t.status = atoi(line + k);
			t.status_col = vcol;
		} else if (kl == 5 && strncmp(key, "force", 5) == 0) {
			/* shadowing: see the top of this file */
		} else {
			int cond = (kl == 5 && strncmp(key, "query", 5) == 0) ||
			           (kl == 10 && strncmp(key, "conditions", 10) == 0);
			t.r->conditional = cond;
			int was = t.r->refused != NULL;
			imp_refuse(doc, t.r, (uint32_t)i + 1, (uint32_t)kl,
			           "'%.*s' (%s), which the language cannot express",
			           (int)kl, key, cond ? "a condition" : "not a plain redirect");
			if (!was)
				t.r->why_loc.line = lineno;
		}
	}
	toml_finish(doc, &t);
	pair_schemes(doc, first);
}
