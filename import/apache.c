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
 *   - `RewriteMap NAME txt:FILE` (server or vhost context, FILE relative to
 *     the configuration file's folder when not absolute) used as a whole
 *     substitution, `RewriteRule ^(.*)$ ${NAME:$1} [R=3xx,L]` (the key is
 *     the URL-path; `^/(.*)$` gives it without the leading '/';
 *     `%{REQUEST_URI}` with `^`, `^(.*)$` or `.*` is the URL-path too),
 *     guarded by exactly one `RewriteCond ${NAME:KEY} !=""` (or `!^$`,
 *     `.`, `.+`, `^.+$`): each "KEY VALUE" line of FILE becomes the exact
 *     rule KEY -> VALUE at that place, with the rule's status and query
 *     flags ("imported from FILE:LINE").  A txt map is looked up by exact,
 *     case-sensitive key, the first line with it winning, the value being
 *     the word after the key (the rest of the line is ignored) (httpd's
 *     mod_rewrite.html#rewritemap, "txt: Plain text map").  Without the
 *     guard a path missing from the map gets an empty substitution, so it
 *     is refused, as are other map types, a default (`|...`), and a map
 *     used inside a longer substitution.
 * Order, as Apache runs them: RewriteRules (mod_rewrite translates names
 * first), then Redirect* lines, each in file order, first match.  Refused:
 * RewriteCond (a condition, but the map guard above), other lookups ${...},
 * [NC] (case per rule), rules without [L] (later rules rewrite the URL
 * again), internal rewrites, proxies, rules inside
 * <Directory>/<Location>/<If>/<Files>.
 */
#include "import/import.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

/* A txt map file is read whole; larger ones are refused. */
#define IMP_MAP_MAX (256u * 1024 * 1024)

/* `RewriteMap NAME TYPE:SOURCE` */
typedef struct amap {
	const char *name;
	int txt;             /* type txt: (others are refused where used) */
	int32_t file;        /* registered in doc->diags, or -1 */
	const char *path;    /* as registered */
	const char *text;
	size_t len;
	const char *error;   /* why the file could not be read, or NULL */
} amap;

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
	int nconds;          /* how many */
	const char *cond_test, *cond_pat; /* the first one's fields */
	size_t cond_test_len, cond_pat_len;
	int htaccess;
	rc_vec maps;         /* amap */
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

static int word_is(const char *w, size_t n, const char *s);

/* RewriteMap NAME TYPE:SOURCE */
static void map_line(areader *ar, const char **f, size_t *fl, size_t nf, uint32_t line, size_t col)
{
	if (nf < 3)
		return; /* httpd refuses the configuration anyway */
	amap *m = rc_vec_push(&ar->maps);
	memset(m, 0, sizeof *m);
	m->file = -1;
	m->name = rc_arena_strndup(&ar->doc->arena, f[1], fl[1]);
	if (fl[2] < 4 || strncmp(f[2], "txt:", 4) != 0)
		return; /* prg: dbm: rnd: int: ... */
	m->txt = 1;
	const char *src = f[2] + 4;
	size_t sn = fl[2] - 4;
	rc_buf full;
	rc_buf_init(&full);
	if (sn && src[0] != '/') {
		const char *slash = strrchr(ar->path, '/');
		if (slash)
			rc_buf_add(&full, ar->path, (size_t)(slash - ar->path) + 1);
	}
	rc_buf_add(&full, src, sn);
	m->path = rc_arena_strndup(&ar->doc->arena, full.data ? full.data : "", full.len);
	rc_buf_fini(&full);
	FILE *fp = fopen(m->path, "rb");
	if (!fp) {
		m->error = rc_arena_printf(&ar->doc->arena, "its map file '%s' cannot be read: %s",
		                           m->path, strerror(errno));
		return;
	}
	struct stat sb;
	if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > IMP_MAP_MAX) {
		fclose(fp);
		m->error = rc_arena_printf(&ar->doc->arena, "its map file '%s' is not a regular file "
		                           "of at most 256 MiB", m->path);
		return;
	}
	rc_buf b;
	rc_buf_init(&b);
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0 && b.len <= IMP_MAP_MAX)
		rc_buf_add(&b, chunk, got);
	int bad = ferror(fp);
	fclose(fp);
	if (bad || b.len > IMP_MAP_MAX) {
		m->error = rc_arena_printf(&ar->doc->arena, "its map file '%s' %s", m->path,
		                           bad ? "cannot be read" : "is larger than 256 MiB");
		rc_buf_fini(&b);
		return;
	}
	rc_buf_addc(&b, '\0');
	size_t n = b.len - 1;
	char *text = b.data; /* the diagnostics own it now */
	rc_loc at = { ar->file, line, (uint32_t)col + 1, (uint32_t)fl[2] };
	m->file = rc_diags_add_file(ar->doc->diags, m->path, text, n, ar->file, at);
	const rc_file *rf = rc_diags_file(ar->doc->diags, m->file);
	m->path = rf->path;
	m->text = rf->text;
	m->len = rf->len;
}

static const amap *map_find(const areader *ar, const char *name, size_t n)
{
	for (size_t i = ar->maps.len; i-- > 0;) {
		const amap *m = RC_VEC_AT(&ar->maps, amap, i);
		if (strlen(m->name) == n && memcmp(m->name, name, n) == 0)
			return m;
	}
	return NULL;
}

/* Is s[0..n) exactly "${NAME:KEY}"?  Sets the name and key spans. */
static int map_lookup(const char *s, size_t n, const char **name, size_t *nl, const char **key,
                      size_t *kl)
{
	if (n < 6 || s[0] != '$' || s[1] != '{' || s[n - 1] != '}')
		return 0;
	const char *colon = memchr(s + 2, ':', n - 3);
	if (!colon || memchr(s + 2, '}', n - 3) || memchr(s + 2, '{', n - 3))
		return 0;
	*name = s + 2;
	*nl = (size_t)(colon - s) - 2;
	*key = colon + 1;
	*kl = n - 1 - (size_t)(colon + 1 - s);
	return *nl > 0 && *kl > 0;
}

/* The map guard: a CondPattern that holds exactly for a non-empty lookup. */
static int nonempty_pattern(const char *p, size_t n)
{
	return (n == 4 && memcmp(p, "!=\"\"", 4) == 0) || (n == 3 && memcmp(p, "!^$", 3) == 0) ||
	       (n == 1 && p[0] == '.') || (n == 2 && memcmp(p, ".+", 2) == 0) ||
	       (n == 4 && memcmp(p, "^.+$", 4) == 0);
}

/* RewriteRule PATTERN ${NAME:KEY} [flags]: every line of the txt map as an
 * exact rule, in its place.  Returns 0 after expanding, or -1 after
 * refusing r. */
static int map_rule(areader *ar, imp_rule *r, const char **f, size_t *fl, size_t *fs, int status,
                    int qsa, int qsd, int ne)
{
	const char *name, *key;
	size_t nl, kl;
	map_lookup(f[2], fl[2], &name, &nl, &key, &kl);
	if (r->refused)
		return -1;
	uint32_t scol = (uint32_t)fs[2] + 1;
	const amap *m = map_find(ar, name, nl);
	const char *pipe = memchr(key, '|', kl);
	if (!m) {
		imp_refuse(ar->doc, r, scol, (uint32_t)fl[2], "map '%.*s' is not declared by a "
		           "RewriteMap before it", (int)nl, name);
		return -1;
	}
	if (!m->txt) {
		imp_refuse(ar->doc, r, scol, (uint32_t)fl[2], "map '%s' is not a txt: map, whose "
		           "contents the importer cannot read", m->name);
		return -1;
	}
	if (m->error) {
		imp_refuse(ar->doc, r, scol, (uint32_t)fl[2], "%s", m->error);
		return -1;
	}
	if (pipe) {
		imp_refuse(ar->doc, r, scol, (uint32_t)fl[2], "a default for a missing key ('|...') "
		           "redirects every other path, which the importer does not translate");
		return -1;
	}
	/* the key: the URL-path, or it without its leading '/' */
	const char *pat = f[1];
	size_t pl = fl[1];
	int all_re = (pl == 6 && memcmp(pat, "^(.*)$", 6) == 0);
	int strip = pl == 7 && memcmp(pat, "^/(.*)$", 7) == 0;
	int key_uri = kl == 14 && memcmp(key, "%{REQUEST_URI}", 14) == 0;
	int key_1 = kl == 2 && memcmp(key, "$1", 2) == 0;
	int ok = (key_1 && (all_re || strip)) ||
	         (key_uri && (all_re || (pl == 1 && pat[0] == '^') || (pl == 2 && memcmp(pat, ".*", 2) == 0) ||
	                      (pl == 4 && memcmp(pat, "^.*$", 4) == 0)));
	if (!ok) {
		imp_refuse(ar->doc, r, (uint32_t)fs[1] + 1, (uint32_t)pl, "a map lookup is translated "
		           "for '^(.*)$' or '^/(.*)$' with key $1, or key %%{REQUEST_URI} with a pattern "
		           "that matches every path; got pattern '%s' and key '%.*s'",
		           rc_quote(&ar->doc->arena, pat, pl, 40), (int)kl, key);
		return -1;
	}
	if (strip)
		key_uri = 0;
	/* the guard: exactly one RewriteCond ${NAME:KEY} <non-empty> */
	const char *gname, *gkey;
	size_t gnl, gkl;
	if (ar->nconds != 1 || !map_lookup(ar->cond_test, ar->cond_test_len, &gname, &gnl, &gkey, &gkl) ||
	    gnl != nl || memcmp(gname, name, nl) != 0 || gkl != kl || memcmp(gkey, key, kl) != 0 ||
	    !nonempty_pattern(ar->cond_pat, ar->cond_pat_len)) {
		r->conditional = 1;
		imp_refuse(ar->doc, r, 1, 0, ar->nconds == 0
		           ? "a map lookup without 'RewriteCond ${%.*s:%.*s} !=\"\"' before it: a path "
		             "missing from the map gets an empty substitution"
		           : "a map lookup whose RewriteCond is not just the guard "
		             "'RewriteCond ${%.*s:%.*s} !=\"\"'", (int)nl, name, (int)kl, key);
		return -1;
	}
	/* r stays as the RewriteRule line itself: a passive marker would
	 * answer requests, so it is kept out of matching and of the counts */
	r->has_pattern = 0;
	r->passive = 1;
	/* the entries, in map-file order */
	const char *t = m->text;
	size_t len = m->len, pos = 0;
	uint32_t lineno = 0;
	while (pos < len) {
		const char *line = t + pos;
		const char *nlp = memchr(line, '\n', len - pos);
		size_t n = nlp ? (size_t)(nlp - line) : len - pos;
		pos += n + (nlp ? 1 : 0);
		lineno++;
		if (n && line[n - 1] == '\r')
			n--;
		const char *mf[4];
		size_t mfl[4], mfs[4];
		size_t nf = imp_fields(line, n, mf, mfl, mfs, 4);
		if (nf == 0 || mf[0][0] == '#')
			continue;
		imp_rule *e = imp_rule_new(ar->doc, m->file, m->path, lineno, line, n);
		struct placed *p = rc_vec_push(&ar->order);
		p->idx = ar->doc->rules.len - 1;
		p->phase = 0;
		e->status = status;
		if (memchr(line, '\0', n)) {
			imp_refuse(ar->doc, e, 1, (uint32_t)n, "a NUL byte in the map line (a binary file?)");
			continue;
		}
		if (nf < 2) { /* httpd reads KEY VALUE and ignores the rest of the line */
			imp_refuse(ar->doc, e, 1, (uint32_t)n, "a key without a value, expected KEY VALUE "
			           "in a txt map line");
			continue;
		}
		rc_buf src;
		rc_buf_init(&src);
		if (!key_uri && !strip && mf[0][0] != '/') {
			rc_buf_fini(&src);
			imp_refuse(ar->doc, e, 1, (uint32_t)mfl[0], "key '%s' does not start with '/': "
			           "the URL-path looked up always does, so no request reaches it",
			           rc_quote(&ar->doc->arena, mf[0], mfl[0], 60));
			continue;
		}
		if (key_uri && mf[0][0] != '/') {
			rc_buf_fini(&src);
			imp_refuse(ar->doc, e, 1, (uint32_t)mfl[0], "key '%s' does not start with '/': "
			           "%%{REQUEST_URI} always does, so no request reaches it",
			           rc_quote(&ar->doc->arena, mf[0], mfl[0], 60));
			continue;
		}
		if (strip)
			rc_buf_addc(&src, '/');
		rc_buf_add(&src, mf[0], mfl[0]);
		int st = imp_parse_source(ar->doc, e, src.data, src.len, (uint32_t)mfs[0] + 1, 1);
		rc_buf_fini(&src);
		if (st != 0) {
			e->has_pattern = 0;
			continue;
		}
		const char *v = mf[1];
		size_t vn = mfl[1];
		uint32_t vcol = (uint32_t)mfs[1] + 1;
		if (!ne && memchr(v, '#', vn)) {
			imp_refuse(ar->doc, e, vcol, (uint32_t)vn, "'#' in the value without [NE] on the "
			           "RewriteRule: Apache sends it as %%23");
			continue;
		}
		int has_q = memchr(v, '?', vn) != NULL;
		if (vn && v[vn - 1] == '?') {
			vn--;
			e->query = IMP_QUERY_DROP;
		} else {
			e->query = qsd ? IMP_QUERY_DROP : (has_q && !qsa) ? IMP_QUERY_DROP : IMP_QUERY_KEEP;
		}
		imp_parse_target(ar->doc, e, v, vn, vcol, 1, 0);
	}
	return 0;
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
	const char *mname, *mkey;
	size_t mnl, mkl;
	int is_map = nf >= 3 && map_lookup(f[2], fl[2], &mname, &mnl, &mkey, &mkl);
	if (ar->conds_line && !is_map) {
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
	if (is_map) {
		if (gone || !redirect) {
			imp_refuse(ar->doc, r, (uint32_t)fs[2] + 1, (uint32_t)sn, "a map lookup %s",
			           gone ? "with [G]" : "without [R]: an internal rewrite, not a redirect");
			return;
		}
		if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
			imp_refuse(ar->doc, r, (uint32_t)fs[3] + 1, (uint32_t)fl[3], "redirect status %d, "
			           "expected 301 302 303 307 308", status);
			return;
		}
		if (!last) {
			imp_refuse(ar->doc, r, nf == 4 ? (uint32_t)fs[3] + 1 : 1, 0, "no [L]: the rules "
			           "after it still rewrite the URL, which the importer does not follow");
			return;
		}
		map_rule(ar, r, f, fl, fs, status, qsa, qsd, ne);
		return;
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
	rc_vec_init(&ar.maps, sizeof(amap));
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
			if (!ar.conds_line) {
				ar.conds_line = lineno;
				ar.cond_test = nf >= 2 ? f[1] : "";
				ar.cond_test_len = nf >= 2 ? fl[1] : 0;
				ar.cond_pat = nf == 3 ? f[2] : "";
				ar.cond_pat_len = nf == 3 ? fl[2] : 0;
			}
			ar.nconds++;
		} else if (word_is(f[0], fl[0], "RewriteMap")) {
			map_line(&ar, f, fl, nf, lineno, fs[2 < nf ? 2 : 0]);
		} else if (word_is(f[0], fl[0], "RewriteRule")) {
			rewrite_line(&ar, lineno, line, n, f, fl, fs, nf);
			ar.conds_line = 0;
			ar.nconds = 0;
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
		rc_sort(ar.order.items, cnt, sizeof(struct placed), placed_cmp);
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
	rc_vec_fini(&ar.maps);
}
