/*
 * apache.c - redirects in Apache httpd configuration (a vhost body or an
 * .htaccess in the document root).
 *
 * Understood (httpd.apache.org/docs/2.4/mod/mod_alias.html and
 * mod_rewrite.html):
 *   - `Redirect [STATUS] URL-PATH URL`, `RedirectPermanent`, `RedirectTemp`:
 *     URL-PATH matches whole segments and the rest of the path is appended
 *     to URL ("/a" -> two rules: "/a -> URL" and "/a/ * -> URL/ *"); status
 *     permanent temp seeother gone or 3xx, 302 by default; the request's
 *     query is appended unless URL has its own;
 *   - `RedirectMatch [STATUS] ^REGEX$ URL` with $1..$9;
 *   - `RewriteRule ^REGEX$ SUBST [R[=3xx],L,NE,QSA,QSD,END]` (and [G] for
 *     410), after `RewriteEngine On`: the query is appended unless SUBST has
 *     '?' (QSA: appended after '&'; QSD: dropped).  A pattern without a
 *     leading '/' is read as an .htaccess in the document root ("^/?" as
 *     both).
 * Order, as Apache runs them: RewriteRules (mod_rewrite translates names
 * first), then Redirect* lines, each in file order, first match.  Refused:
 * RewriteCond (a condition), RewriteMap lookups ${...}, [NC] (case per
 * rule), rules without [L] (later rules rewrite the URL again), internal
 * rewrites, proxies, rules inside <Directory>/<Location>/<If>/<Files>.
 */
#include "import/import.h"

#include <stdlib.h>
#include <string.h>

struct placed {
	size_t idx;
	int phase;
};

typedef struct areader {
	imp_doc *doc;
	int32_t file;
	const char *path;
	rc_vec order;
	int engine_on;
	int section_depth;   /* inside sections other than VirtualHost */
	uint32_t conds_line; /* a RewriteCond waiting for its rule */
	int htaccess;
} areader;

static imp_rule *arule(areader *ar, uint32_t line, const char *text, size_t n, int phase)
{
	imp_rule *r = imp_rule_new(ar->doc, ar->file, ar->path, line, text, n);
	struct placed *p = rc_vec_push(&ar->order);
	p->idx = ar->doc->rules.len - 1;
	p->phase = phase;
	if (ar->section_depth) {
		r->conditional = 1;
		imp_refuse(ar->doc, r, 1, 0, "inside a <Directory>, <Location>, <Files> or <If> "
		           "section, which scopes it in ways the language cannot express");
	}
	return r;
}

static int status_word(const char *w, size_t n)
{
	if (n == 9 && strncasecmp(w, "permanent", 9) == 0)
		return 301;
	if (n == 4 && strncasecmp(w, "temp", 4) == 0)
		return 302;
	if (n == 8 && strncasecmp(w, "seeother", 8) == 0)
		return 303;
	if (n == 4 && strncasecmp(w, "gone", 4) == 0)
		return 410;
	if (n == 3 && w[0] >= '1' && w[0] <= '9' && w[1] >= '0' && w[1] <= '9' && w[2] >= '0' && w[2] <= '9')
		return atoi(w);
	return -1;
}

static void push_tail(imp_doc *doc, imp_el **els, uint32_t *n, int slash)
{
	uint32_t cap = *n; /* force a copy: the arrays are exactly full */
	if (slash && *n && (*els)[*n - 1].kind == IMP_LIT) {
		/* one literal piece, as the readers make them: "/a" + "/" */
		imp_el *l = &(*els)[*n - 1];
		char *t = rc_arena_alloc(&doc->arena, l->len + 2);
		memcpy(t, l->text, l->len);
		t[l->len] = '/';
		l->text = t;
		l->len++;
		slash = 0;
	}
	if (slash) {
		imp_el *e = imp_el_push(doc, els, n, &cap);
		e->kind = IMP_LIT;
		e->text = "/";
		e->len = 1;
	}
	imp_el *e = imp_el_push(doc, els, n, &cap);
	e->kind = IMP_SPLAT;
}

/* Redirect [status] /path [URL] */
static void redirect_line(areader *ar, uint32_t line, const char *text, size_t len,
                          const char **f, size_t *fl, size_t *fs, size_t nf, int fixed)
{
	size_t k = 1;
	int status = fixed ? fixed : 302;
	if (!fixed && nf >= 3 && f[1][0] != '/') {
		status = status_word(f[1], fl[1]);
		k = 2;
	}
	imp_rule *r1 = arule(ar, line, text, len, 1);
	if (status < 0) {
		imp_refuse(ar->doc, r1, (uint32_t)fs[1] + 1, (uint32_t)fl[1], "status '%s', expected "
		           "permanent, temp, seeother, gone or 301 302 303 307 308",
		           rc_quote(&ar->doc->arena, f[1], fl[1], 20));
		return;
	}
	int want_url = status >= 300 && status <= 399;
	if (nf != k + 1 + (size_t)want_url) {
		imp_refuse(ar->doc, r1, 1, (uint32_t)len, "expected Redirect [STATUS] URL-PATH%s",
		           want_url ? " URL" : "");
		return;
	}
	if (status != 410 && status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
		r1->redirects = 0;
		imp_refuse(ar->doc, r1, (uint32_t)fs[1] + 1, (uint32_t)fl[1], "status %d is not a "
		           "redirect the language has", status);
		return;
	}
	const char *p = f[k];
	size_t pn = fl[k];
	if (imp_parse_source(ar->doc, r1, p, pn, (uint32_t)fs[k] + 1, 1) != 0) {
		r1->has_pattern = 0;
		return;
	}
	r1->status = status;
	const char *u = want_url ? f[k + 1] : NULL;
	size_t un = want_url ? fl[k + 1] : 0;
	uint32_t ucol = want_url ? (uint32_t)fs[k + 1] + 1 : 0;
	if (u && memchr(u, '?', un)) {
		imp_refuse(ar->doc, r1, ucol, (uint32_t)un, "URL has a query: mod_alias appends the "
		           "rest of the path after it, which the language cannot express");
		return;
	}
	int dir = p[pn - 1] == '/'; /* "/" itself too: every path is under it */
	/* the path itself (unless it ends in '/': then only the rule below) */
	imp_rule *r2 = arule(ar, line, text, len, 1);
	r2->status = status;
	size_t base = dir ? pn - 1 : pn;
	if (imp_parse_source(ar->doc, r2, base ? p : "/", base ? base : 1, (uint32_t)fs[k] + 1, 1) != 0) {
		r2->has_pattern = 0;
		return;
	}
	push_tail(ar->doc, &r2->src, &r2->nsrc, base != 0);
	r2->is_static = 0;
	if (u) {
		int uslash = un && u[un - 1] == '/';
		if (memchr(u, '#', un))
			imp_refuse(ar->doc, r2, ucol, (uint32_t)un, "URL has a fragment: mod_alias appends "
			           "the rest of the path after it, which the language keeps literal");
		imp_parse_target(ar->doc, r2, u, un, ucol, 1, 0);
		if (!r2->refused)
			push_tail(ar->doc, &r2->dst, &r2->ndst, !dir);
		if (uslash && !dir)
			/* "Redirect /a http://x/b/": "/a/c" -> "http://x/b//c" */
			imp_refuse(ar->doc, r2, ucol, (uint32_t)un, "URL ends in '/' and URL-PATH does "
			           "not: mod_alias would give '//' before the rest of the path");
		r1 = RC_VEC_AT(&ar->doc->rules, imp_rule, ar->doc->rules.len - 2);
		if (!dir)
			imp_parse_target(ar->doc, r1, u, un, ucol, 1, 0);
	}
	if (dir) {
		/* "/a/" is the splat rule's bare request: no rule of its own */
		r1 = RC_VEC_AT(&ar->doc->rules, imp_rule, ar->doc->rules.len - 2);
		r1->has_pattern = 0;
		r1->passive = 1;
		r1->refused = NULL;
	}
}

static void rewrite_line(areader *ar, uint32_t line, const char *text, size_t len,
                         const char **f, size_t *fl, size_t *fs, size_t nf)
{
	imp_rule *r = arule(ar, line, text, len, 0);
	if (!ar->engine_on) {
		r->conditional = 1;
		imp_refuse(ar->doc, r, 1, 0, "no 'RewriteEngine On' before it: Apache ignores it");
		return;
	}
	if (ar->conds_line) {
		r->conditional = 1;
		imp_refuse(ar->doc, r, 1, 0, "RewriteCond at line %u: a condition the language cannot "
		           "express", (unsigned)ar->conds_line);
		ar->conds_line = 0;
		return;
	}
	if (nf < 3 || nf > 4) {
		imp_refuse(ar->doc, r, 1, (uint32_t)len, "expected RewriteRule PATTERN SUBSTITUTION [FLAGS]");
		return;
	}
	const char *subst = f[2];
	size_t sn = fl[2];
	int redirect = 0, last = 0, qsa = 0, qsd = 0, ne = 0, gone = 0, status = 302;
	if (nf == 4) {
		const char *fg = f[3];
		size_t gl = fl[3];
		if (gl < 2 || fg[0] != '[' || fg[gl - 1] != ']') {
			imp_refuse(ar->doc, r, (uint32_t)fs[3] + 1, (uint32_t)gl, "flags '%s', expected [FLAG,...]",
			           rc_quote(&ar->doc->arena, fg, gl, 40));
			return;
		}
		size_t i = 1;
		while (i < gl - 1) {
			size_t b = i;
			while (i < gl - 1 && fg[i] != ',')
				i++;
			const char *w = fg + b;
			size_t wl = i - b;
			i++;
			if ((wl == 1 && (*w == 'R' || *w == 'r')) || (wl == 8 && strncasecmp(w, "redirect", 8) == 0)) {
				redirect = 1;
			} else if ((wl > 2 && strncasecmp(w, "R=", 2) == 0) ||
			           (wl > 9 && strncasecmp(w, "redirect=", 9) == 0)) {
				const char *eq = memchr(w, '=', wl);
				status = status_word(eq + 1, wl - (size_t)(eq + 1 - w));
				redirect = 1;
			} else if ((wl == 1 && (*w == 'L' || *w == 'l')) || (wl == 4 && strncasecmp(w, "last", 4) == 0) ||
			           (wl == 3 && strncasecmp(w, "END", 3) == 0)) {
				last = 1;
			} else if ((wl == 2 && strncasecmp(w, "NE", 2) == 0) || (wl == 8 && strncasecmp(w, "noescape", 8) == 0)) {
				ne = 1;
			} else if ((wl == 3 && strncasecmp(w, "QSA", 3) == 0) || (wl == 8 && strncasecmp(w, "qsappend", 8) == 0)) {
				qsa = 1;
			} else if ((wl == 3 && strncasecmp(w, "QSD", 3) == 0) || (wl == 9 && strncasecmp(w, "qsdiscard", 9) == 0)) {
				qsd = 1;
			} else if ((wl == 1 && (*w == 'G' || *w == 'g')) || (wl == 4 && strncasecmp(w, "gone", 4) == 0)) {
				gone = 1;
			} else {
				imp_refuse(ar->doc, r, (uint32_t)(fs[3] + b) + 1, (uint32_t)wl, "flag '%s' (%s), "
				           "which the importer does not translate",
				           rc_quote(&ar->doc->arena, w, wl, 20),
				           (wl == 2 && strncasecmp(w, "NC", 2) == 0) ? "case-insensitive for one rule"
				           : "not a plain redirect");
				return;
			}
		}
	}
	int rel = f[1][0] == '^' && fl[1] > 1 && f[1][1] != '/';
	if (imp_parse_regex(ar->doc, r, f[1], fl[1], (uint32_t)fs[1] + 1, rel) != 0) {
		r->has_pattern = 0;
		return;
	}
	if (gone) {
		r->status = 410;
		if (!(sn == 1 && subst[0] == '-'))
			imp_refuse(ar->doc, r, (uint32_t)fs[2] + 1, (uint32_t)sn, "[G] with a substitution, "
			           "expected '-'");
		return;
	}
	int absolute = (sn >= 7 && strncasecmp(subst, "http://", 7) == 0) ||
	               (sn >= 8 && strncasecmp(subst, "https://", 8) == 0);
	if (!redirect && !absolute) {
		r->redirects = 0;
		imp_refuse(ar->doc, r, (uint32_t)fs[2] + 1, (uint32_t)sn, "an internal rewrite (no [R] "
		           "and a path substitution), not a redirect");
		return;
	}
	if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
		imp_refuse(ar->doc, r, (uint32_t)fs[3] + 1, (uint32_t)fl[3], "redirect status %d, "
		           "expected 301 302 303 307 308", status);
		return;
	}
	r->status = status;
	if (!last) {
		imp_refuse(ar->doc, r, nf == 4 ? (uint32_t)fs[3] + 1 : 1, 0, "no [L]: the rules after it "
		           "still rewrite the URL, which the importer does not follow");
		return;
	}
	if (!ne && memchr(subst, '#', sn)) {
		imp_refuse(ar->doc, r, (uint32_t)fs[2] + 1, (uint32_t)sn, "'#' in the substitution "
		           "without [NE]: Apache sends it as %%23");
		return;
	}
	int has_q = memchr(subst, '?', sn) != NULL;
	if (sn && subst[sn - 1] == '?') {
		sn--; /* "?" alone: drop the query */
		r->query = IMP_QUERY_DROP;
	} else {
		r->query = qsd ? IMP_QUERY_DROP : (has_q && !qsa) ? IMP_QUERY_DROP : IMP_QUERY_KEEP;
	}
	imp_parse_subst(ar->doc, r, subst, sn, (uint32_t)fs[2] + 1);
}

static void redirect_match(areader *ar, uint32_t line, const char *text, size_t len,
                           const char **f, size_t *fl, size_t *fs, size_t nf)
{
	imp_rule *r = arule(ar, line, text, len, 1);
	size_t k = 1;
	int status = 302;
	if (nf == 4) {
		status = status_word(f[1], fl[1]);
		k = 2;
	}
	if (nf < 3 || nf > 4 || status < 0 || status == 410) {
		imp_refuse(ar->doc, r, 1, (uint32_t)len, "expected RedirectMatch [STATUS] REGEX URL");
		return;
	}
	if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
		imp_refuse(ar->doc, r, (uint32_t)fs[1] + 1, (uint32_t)fl[1], "status %d", status);
		return;
	}
	r->status = status;
	if (imp_parse_regex(ar->doc, r, f[k], fl[k], (uint32_t)fs[k] + 1, 0) != 0) {
		r->has_pattern = 0;
		return;
	}
	r->query = memchr(f[k + 1], '?', fl[k + 1]) ? IMP_QUERY_DROP : IMP_QUERY_KEEP;
	imp_parse_subst(ar->doc, r, f[k + 1], fl[k + 1], (uint32_t)fs[k + 1] + 1);
}

static int placed_cmp(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	if (x->phase != y->phase)
		return x->phase - y->phase;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int word_is(const char *w, size_t n, const char *s)
{
	return n == strlen(s) && strncasecmp(w, s, n) == 0;
}

void imp_read_apache(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len)
{
	areader ar;
	memset(&ar, 0, sizeof ar);
	ar.doc = doc;
	ar.file = file;
	ar.path = path;
	rc_vec_init(&ar.order, sizeof(struct placed));
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
		if (line[i] == '<') {
			int closing = i + 1 < n && line[i + 1] == '/';
			size_t b = i + 1 + (size_t)closing, e = b;
			while (e < n && line[e] != ' ' && line[e] != '\t' && line[e] != '>')
				e++;
			int vhost = word_is(line + b, e - b, "VirtualHost") || word_is(line + b, e - b, "IfModule");
			if (!vhost) {
				if (closing && ar.section_depth > 0)
					ar.section_depth--;
				else if (!closing)
					ar.section_depth++;
			}
			continue;
		}
		const char *f[8];
		size_t fl[8], fs[8];
		size_t nf = imp_fields(line, n, f, fl, fs, 8);
		/* quoted arguments: the fields keep their quotes; strip simple ones */
		for (size_t k = 0; k < nf; k++)
			if (fl[k] >= 2 && f[k][0] == '"' && f[k][fl[k] - 1] == '"') {
				f[k]++;
				fl[k] -= 2;
				fs[k]++;
			}
		if (word_is(f[0], fl[0], "RewriteEngine")) {
			ar.engine_on = nf == 2 && word_is(f[1], fl[1], "on");
		} else if (word_is(f[0], fl[0], "RewriteCond")) {
			if (!ar.conds_line)
				ar.conds_line = lineno;
		} else if (word_is(f[0], fl[0], "RewriteRule")) {
			rewrite_line(&ar, lineno, line, n, f, fl, fs, nf);
			ar.conds_line = 0;
		} else if (word_is(f[0], fl[0], "Redirect")) {
			redirect_line(&ar, lineno, line, n, f, fl, fs, nf, 0);
		} else if (word_is(f[0], fl[0], "RedirectPermanent")) {
			redirect_line(&ar, lineno, line, n, f, fl, fs, nf, 301);
		} else if (word_is(f[0], fl[0], "RedirectTemp")) {
			redirect_line(&ar, lineno, line, n, f, fl, fs, nf, 302);
		} else if (word_is(f[0], fl[0], "RedirectMatch")) {
			redirect_match(&ar, lineno, line, n, f, fl, fs, nf);
		}
		/* other directives do not redirect */
	}
	size_t cnt = doc->rules.len - first;
	if (cnt > 1 && ar.order.len == cnt) {
		qsort(ar.order.items, cnt, sizeof(struct placed), placed_cmp);
		imp_rule *copy = rc_xmalloc(sizeof(imp_rule) * cnt);
		for (size_t k = 0; k < cnt; k++)
			copy[k] = *RC_VEC_AT(&doc->rules, imp_rule, RC_VEC_AT(&ar.order, struct placed, k)->idx);
		for (size_t k = 0; k < cnt; k++) {
			copy[k].seq = first + k;
			*RC_VEC_AT(&doc->rules, imp_rule, first + k) = copy[k];
		}
		free(copy);
	}
	rc_vec_fini(&ar.order);
}
