/*
 * common.c - what every reader shares: rules, refusals, comments, fields,
 * and the _redirects-style path pattern and target template (Netlify,
 * Cloudflare Pages, and the literal ones of TSV and CSV lists).
 */
#include "import/import.h"

#include "compiler/ir.h"
#include "runtime/match.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum imp_format format;
} FORMATS[] = {
	{ "netlify", IMP_NETLIFY }, { "cloudflare-pages", IMP_CF_PAGES },
	{ "tsv", IMP_TSV }, { "csv", IMP_CSV }, { "nginx", IMP_NGINX },
	{ "apache", IMP_APACHE },
};

int imp_format_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof FORMATS / sizeof FORMATS[0]; i++)
		if (strcmp(FORMATS[i].name, name) == 0)
			return (int)FORMATS[i].format;
	return -1;
}

const char *imp_format_name(enum imp_format f)
{
	for (size_t i = 0; i < sizeof FORMATS / sizeof FORMATS[0]; i++)
		if (FORMATS[i].format == f)
			return FORMATS[i].name;
	return "?";
}

/* The readings of each format; the man page (doc/man-import.inc) says the
 * same with the references. */
static imp_semantics semantics_of(enum imp_format f)
{
	imp_semantics s;
	memset(&s, 0, sizeof s);
	switch (f) {
	case IMP_NETLIFY:
		/* docs.netlify.com/routing/redirects: "Paths are case-sensitive";
		 * first match from the top; the default status is 301; query
		 * string parameters are passed on to the target; redirect-options,
		 * "Trailing slash": the edge normalizes URLs before the rules, so
		 * /a and /a/ match the same rule; /x/ * matches /x too. */
		s.platform = "Netlify";
		s.reference = "https://docs.netlify.com/routing/redirects/";
		s.trailing_ignore = 1;
		s.splat_parent = 1;
		s.default_status = 301;
		break;
	case IMP_CF_PAGES:
		/* developers.cloudflare.com/pages/configuration/redirects: default
		 * 302, topmost rule for a source wins, static rules before dynamic
		 * ones; its rules engine (workers-sdk pages-shared) anchors each
		 * source as a case-sensitive regex on the pathname, '*' as (.*)
		 * after the literal '/', so /x/ * does not match /x and /a/ is not
		 * /a; the request's query is kept unless the target has its own. */
		s.platform = "Cloudflare Pages";
		s.reference = "https://developers.cloudflare.com/pages/configuration/redirects/";
		s.static_first = 1;
		s.default_status = 302;
		break;
	case IMP_TSV:
		/* MDN's _redirects.txt (FROM TAB TO): exact paths, looked up
		 * without regard to case, answered 301. */
		s.platform = "a TAB-separated list (MDN)";
		s.reference = "https://github.com/mdn/content (files/en-us/_redirects.txt)";
		s.case_insensitive = 1;
		s.default_status = 301;
		break;
	case IMP_CSV:
		s.platform = "a CSV list";
		s.reference = "https://developers.cloudflare.com/rules/url-forwarding/bulk-redirects/reference/csv-file-format/";
		s.default_status = 301;
		break;
	case IMP_NGINX:
		/* nginx.org/en/docs/http/ngx_http_core_module.html#location and
		 * ngx_http_rewrite_module.html: case-sensitive matching of the
		 * normalized URI; "/a/" is not "/a". */
		s.platform = "nginx";
		s.reference = "https://nginx.org/en/docs/http/ngx_http_rewrite_module.html";
		s.default_status = 302;
		break;
	case IMP_APACHE:
		/* httpd.apache.org/docs/2.4/mod/mod_alias.html#redirect and
		 * mod_rewrite.html#rewriterule: case-sensitive, URL-path prefix
		 * on whole segments, 302 by default. */
		s.platform = "Apache httpd";
		s.reference = "https://httpd.apache.org/docs/2.4/mod/mod_alias.html";
		s.default_status = 302;
		break;
	default:
		s.platform = "?";
		s.reference = "";
		s.default_status = 301;
		break;
	}
	return s;
}

void imp_doc_init(imp_doc *doc, enum imp_format f, rc_diags *diags)
{
	memset(doc, 0, sizeof *doc);
	rc_arena_init(&doc->arena);
	doc->diags = diags;
	doc->format = f;
	doc->sem = semantics_of(f);
	rc_vec_init(&doc->rules, sizeof(imp_rule));
	rc_vec_init(&doc->trailer, sizeof(const char *));
	rc_buf_init(&doc->comment);
}

void imp_doc_fini(imp_doc *doc)
{
	rc_vec_fini(&doc->rules);
	rc_vec_fini(&doc->trailer);
	rc_buf_fini(&doc->comment);
	rc_arena_fini(&doc->arena);
}

void imp_read(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len)
{
	/* a UTF-8 byte order mark is not part of the first line */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	switch (doc->format) {
	case IMP_NETLIFY:
	case IMP_CF_PAGES: {
		size_t pl = strlen(path);
		if (pl >= 5 && strcmp(path + pl - 5, ".toml") == 0)
			imp_read_netlify_toml(doc, file, path, text, len);
		else
			imp_read_netlify(doc, file, path, text, len);
		break;
	}
	case IMP_TSV:
		imp_read_tsv(doc, file, path, text, len);
		break;
	case IMP_CSV:
		imp_read_csv(doc, file, path, text, len);
		break;
	case IMP_NGINX:
		imp_read_nginx(doc, file, path, text, len);
		break;
	case IMP_APACHE:
		imp_read_apache(doc, file, path, text, len);
		break;
	default:
		rc_diag_add(doc->diags, RC_SEV_ERROR, "not-importable", RC_NOLOC,
		            "internal error: unknown import format %d", (int)doc->format);
		break;
	}
	/* comments after the last rule of a file stay at the end */
	if (doc->comment.len) {
		const char **c = rc_vec_push(&doc->trailer);
		*c = rc_arena_strndup(&doc->arena, doc->comment.data, doc->comment.len);
		rc_buf_reset(&doc->comment);
	}
}

imp_rule *imp_rule_new(imp_doc *doc, int32_t file, const char *path, uint32_t line,
                       const char *text, size_t len)
{
	imp_rule *r = rc_vec_push(&doc->rules);
	r->loc = (rc_loc){ file, line, 1, (uint32_t)len };
	r->why_loc = r->loc;
	r->path = path;
	r->status = doc->sem.default_status;
	r->redirects = 1;
	r->line_text = rc_arena_strndup(&doc->arena, text, len);
	r->seq = doc->rules.len - 1;
	if (doc->comment.len) {
		r->comment = rc_arena_strndup(&doc->arena, doc->comment.data, doc->comment.len);
		rc_buf_reset(&doc->comment);
	}
	return r;
}

void imp_refuse(imp_doc *doc, imp_rule *r, uint32_t col, uint32_t len, const char *fmt, ...)
{
	if (r->refused)
		return; /* the first reason is the one reported */
	va_list ap;
	va_start(ap, fmt);
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	r->refused = rc_arena_strndup(&doc->arena, b.data, b.len);
	rc_buf_fini(&b);
	r->why_loc = r->loc;
	r->why_loc.col = col ? col : 1;
	r->why_loc.len = len;
}

void imp_comment(imp_doc *doc, const char *text, size_t len)
{
	rc_buf_add(&doc->comment, text, len);
	rc_buf_addc(&doc->comment, '\n');
}

size_t imp_fields(const char *s, size_t n, const char **f, size_t *flen, size_t *starts, size_t max)
{
	size_t k = 0, i = 0;
	while (i < n && k < max) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= n)
			break;
		size_t b = i;
		while (i < n && s[i] != ' ' && s[i] != '\t')
			i++;
		f[k] = s + b;
		flen[k] = i - b;
		starts[k] = b;
		k++;
	}
	return k;
}

imp_el *imp_el_push(imp_doc *doc, imp_el **els, uint32_t *n, uint32_t *cap)
{
	if (*n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 4;
		imp_el *ne = rc_arena_alloc(&doc->arena, sizeof(imp_el) * nc);
		if (*n)
			memcpy(ne, *els, sizeof(imp_el) * *n);
		*els = ne;
		*cap = nc;
	}
	imp_el *e = &(*els)[(*n)++];
	memset(e, 0, sizeof *e);
	return e;
}

static int name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* Append literal text, merging with a previous literal piece. */
static void push_lit(imp_doc *doc, imp_el **els, uint32_t *n, uint32_t *cap,
                     const char *s, size_t len)
{
	if (len == 0)
		return;
	if (*n && (*els)[*n - 1].kind == IMP_LIT &&
	    (*els)[*n - 1].text + (*els)[*n - 1].len == s) {
		(*els)[*n - 1].len += (uint32_t)len;
		return;
	}
	imp_el *e = imp_el_push(doc, els, n, cap);
	e->kind = IMP_LIT;
	e->text = s;
	e->len = (uint32_t)len;
}

int imp_parse_source(imp_doc *doc, imp_rule *r, const char *s, size_t n,
                     uint32_t col, int lit_only)
{
	uint32_t cap = 0;
	s = rc_arena_strndup(&doc->arena, s, n); /* pieces point into it */
	if (n == 0 || s[0] != '/') {
		imp_refuse(doc, r, col, (uint32_t)n,
		           "source '%s' is not a path starting with '/'",
		           rc_quote(&doc->arena, s, n, 80));
		return -1;
	}
	const char *q = memchr(s, '?', n);
	if (q) {
		imp_refuse(doc, r, col + (uint32_t)(q - s), (uint32_t)(n - (size_t)(q - s)),
		           "source '%s' has a query: a query condition, which the language cannot express",
		           rc_quote(&doc->arena, s, n, 80));
		return -1;
	}
	const char *h = memchr(s, '#', n);
	if (h) {
		imp_refuse(doc, r, col + (uint32_t)(h - s), 1,
		           "source '%s' has a '#': a fragment never reaches the server",
		           rc_quote(&doc->arena, s, n, 80));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			imp_refuse(doc, r, col + (uint32_t)i, 1,
			           "source has a control byte, expected printable text");
			return -1;
		}
		/* not in normal form: the platform and redirc may normalize the
		 * request differently (redirc decodes, merges '//', removes dot
		 * segments), so the meaning could differ */
		int bad_escape = s[i] == '%' && !(i + 2 < n && strchr("0123456789abcdefABCDEF", s[i + 1]) &&
		                                  strchr("0123456789abcdefABCDEF", s[i + 2]));
		/* an escape a browser never sends: of '/', of an unreserved
		 * character (which platforms compare raw or decoded), or with
		 * lower-case hex */
		int slash_or_dot = 0;
		if (s[i] == '%' && !bad_escape) {
			unsigned hi = (unsigned)(s[i + 1] <= '9' ? s[i + 1] - '0' : (s[i + 1] | 0x20) - 'a' + 10);
			unsigned lo = (unsigned)(s[i + 2] <= '9' ? s[i + 2] - '0' : (s[i + 2] | 0x20) - 'a' + 10);
			unsigned char d = (unsigned char)(hi * 16 + lo);
			slash_or_dot = d == '/' || (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') ||
			               (d >= '0' && d <= '9') || d == '-' || d == '.' || d == '_' || d == '~' ||
			               (s[i + 1] >= 'a' && s[i + 1] <= 'f') || (s[i + 2] >= 'a' && s[i + 2] <= 'f');
		}
		int double_slash = s[i] == '/' && i + 1 < n && s[i + 1] == '/';
		int dot = s[i] == '/' && i + 1 < n && s[i + 1] == '.' &&
		          (i + 2 == n || s[i + 2] == '/' ||
		           (s[i + 2] == '.' && (i + 3 == n || s[i + 3] == '/')));
		if (bad_escape || slash_or_dot || double_slash || dot) {
			imp_refuse(doc, r, col + (uint32_t)i, 1,
			           "source '%s' is not a path in normal form (%s): the platform and redirc "
			           "may read such requests differently", rc_quote(&doc->arena, s, n, 80),
			           bad_escape ? "a '%' that does not start an escape"
			           : slash_or_dot ? "an escape a browser does not send: of '/', of a letter, "
			                            "digit or '-._~', or in lower-case hex"
			           : double_slash ? "'//'" : "a '.' or '..' segment");
			return -1;
		}
	}
	if (lit_only) {
		push_lit(doc, &r->src, &r->nsrc, &cap, s, n);
	} else {
		size_t i = 0;
		while (i < n) {
			/* s[i] == '/': one segment s[i+1, e) */
			size_t b = i + 1, e = b;
			while (e < n && s[e] != '/')
				e++;
			const char *star = memchr(s + b, '*', e - b);
			const char *colon = memchr(s + b, ':', e - b);
			if (star) {
				if (e != n || e - b != 1) {
					imp_refuse(doc, r, col + (uint32_t)(star - s), 1,
					           "source '%s' has a splat inside a segment or before its end, "
					           "expected '*' only as the whole last segment",
					           rc_quote(&doc->arena, s, n, 80));
					return -1;
				}
				push_lit(doc, &r->src, &r->nsrc, &cap, s + i, 1);
				imp_el *el = imp_el_push(doc, &r->src, &r->nsrc, &cap);
				el->kind = IMP_SPLAT;
				break;
			}
			if (e - b >= 2 && s[b] == ':' && name_start((unsigned char)s[b + 1])) {
				size_t k = b + 1;
				while (k < e && name_char((unsigned char)s[k]))
					k++;
				if (k != e) {
					imp_refuse(doc, r, col + (uint32_t)b, (uint32_t)(e - b),
					           "source segment '%s' mixes a placeholder with other text, "
					           "expected ':name' as a whole segment",
					           rc_quote(&doc->arena, s + b, e - b, 80));
					return -1;
				}
				for (uint32_t p = 0; p < r->nparams; p++)
					if (strlen(r->names[p]) == e - b - 1 &&
					    memcmp(r->names[p], s + b + 1, e - b - 1) == 0) {
						imp_refuse(doc, r, col + (uint32_t)b, (uint32_t)(e - b),
						           "placeholder '%s' appears twice in the source",
						           rc_quote(&doc->arena, s + b, e - b, 80));
						return -1;
					}
				if (r->nparams == IMP_MAX_PARAMS) {
					imp_refuse(doc, r, col + (uint32_t)b, (uint32_t)(e - b),
					           "more than %d placeholders", IMP_MAX_PARAMS);
					return -1;
				}
				push_lit(doc, &r->src, &r->nsrc, &cap, s + i, 1);
				imp_el *el = imp_el_push(doc, &r->src, &r->nsrc, &cap);
				el->kind = IMP_PARAM;
				el->param = (uint8_t)r->nparams;
				el->text = s + b + 1;
				el->len = (uint32_t)(e - b - 1);
				r->names[r->nparams++] = rc_arena_strndup(&doc->arena, s + b + 1, e - b - 1);
			} else {
				for (const char *c = colon; c; c = memchr(c + 1, ':', (size_t)(s + e - c - 1)))
					if (c + 1 < s + e && name_start((unsigned char)c[1])) {
						imp_refuse(doc, r, col + (uint32_t)(c - s), (uint32_t)(e - (size_t)(c - s)),
						           "source segment '%s' has ':' before a letter inside it: "
						           "a placeholder inside a segment, which the language cannot express",
						           rc_quote(&doc->arena, s + b, e - b, 80));
						return -1;
					}
				push_lit(doc, &r->src, &r->nsrc, &cap, s + i, e - i);
			}
			i = e;
		}
	}
	r->is_static = r->nparams == 0 && !(r->nsrc && r->src[r->nsrc - 1].kind == IMP_SPLAT);
	/* a platform that ignores the trailing slash: "/a/" is the source "/a" */
	if (doc->sem.trailing_ignore && r->nsrc && r->src[r->nsrc - 1].kind == IMP_LIT) {
		imp_el *last = &r->src[r->nsrc - 1];
		int whole = r->nsrc == 1;
		if (last->len > (whole ? 1u : 0u) && last->text[last->len - 1] == '/')
			last->len--;
		if (last->len == 0)
			r->nsrc--;
	}
	r->has_pattern = 1;
	return 0;
}

int imp_host_is_valid(const char *h, size_t n)
{
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return 0;
	}
	char canon[256];
	size_t cl = rd_host_canon(h, n, canon);
	return cl == n && rc_host_name_is_valid(canon, cl);
}

int imp_parse_target(imp_doc *doc, imp_rule *r, const char *s, size_t n,
                     uint32_t col, int lit_only, int splat_word)
{
	uint32_t cap = 0;
	s = rc_arena_strndup(&doc->arena, s, n);
	const char *Q = rc_quote(&doc->arena, s, n, 80);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			imp_refuse(doc, r, col + (uint32_t)i, 1,
			           "target has a control byte, expected printable text");
			return -1;
		}
	size_t pos = 0;
	if (n >= 7 && (strncasecmp(s, "http://", 7) == 0 || (n >= 8 && strncasecmp(s, "https://", 8) == 0))) {
		size_t hs = s[4] == ':' ? 7 : 8;
		pos = hs;
		while (pos < n && s[pos] != '/' && s[pos] != '?' && s[pos] != '#')
			pos++;
		const char *colon = memchr(s + hs, ':', pos - hs);
		size_t hl = colon ? (size_t)(colon - s) - hs : pos - hs;
		int port_ok = 1;
		if (colon) {
			size_t pl = pos - (size_t)(colon - s) - 1;
			port_ok = pl >= 1 && pl <= 5 && strspn(colon + 1, "0123456789") >= pl &&
			          atoi(colon + 1) >= 1 && atoi(colon + 1) <= 65535;
		}
		if (!imp_host_is_valid(s + hs, hl) || !port_ok) {
			imp_refuse(doc, r, col + (uint32_t)hs, (uint32_t)(pos - hs),
			           "target '%s' does not name a plain host[:port] (a placeholder, user "
			           "information or a bad port there is not in the language)", Q);
			return -1;
		}
		push_lit(doc, &r->dst, &r->ndst, &cap, s, pos);
		if (pos == n) { /* "https://host": the path is "/" */
			imp_el *el = imp_el_push(doc, &r->dst, &r->ndst, &cap);
			el->kind = IMP_LIT;
			el->text = "/";
			el->len = 1;
		}
	} else if (n == 0 || s[0] != '/') {
		imp_refuse(doc, r, col, (uint32_t)n,
		           "target '%s' is not a path starting with '/' or an http(s) URL", Q);
		return -1;
	} else if (n >= 2 && (s[1] == '/' || s[1] == '\\')) {
		imp_refuse(doc, r, col, (uint32_t)n,
		           "target '%s' is protocol-relative: browsers read it as another host "
		           "(redirc check refuses it as open-redirect)", Q);
		return -1;
	}
	const char *hash = memchr(s + pos, '#', n - pos);
	size_t end = hash ? (size_t)(hash - s) : n;
	const char *qm = memchr(s + pos, '?', end - pos);
	if (qm && (size_t)(qm - s) + 1 == end) {
		imp_refuse(doc, r, col + (uint32_t)(qm - s), 1,
		           "target '%s' ends its query with nothing after '?'", Q);
		return -1;
	}
	int has_splat = r->nsrc && r->src[r->nsrc - 1].kind == IMP_SPLAT;
	size_t lit = pos;
	for (size_t k = pos; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		int in_frag = hash && k > end;
		if (c == '*' && !in_frag) {
			if (!lit_only && !splat_word && has_splat) {
				push_lit(doc, &r->dst, &r->ndst, &cap, s + lit, k - lit);
				imp_el *el = imp_el_push(doc, &r->dst, &r->ndst, &cap);
				el->kind = IMP_SPLAT;
				lit = k + 1;
				continue;
			}
			imp_refuse(doc, r, col + (uint32_t)k, 1,
			           "target '%s' has a literal '*' in its path or query, which the "
			           "language reads as a splat (and %%2A would change the Location)", Q);
			return -1;
		}
		if (c != ':' || k + 1 >= n || !name_start((unsigned char)s[k + 1]))
			continue;
		size_t ne = k + 1;
		while (ne < n && name_char((unsigned char)s[ne]))
			ne++;
		int capture = -1; /* -2: the splat */
		if (!lit_only) {
			if (splat_word && ne - k - 1 == 5 && memcmp(s + k + 1, "splat", 5) == 0 && has_splat)
				capture = -2;
			for (uint32_t p = 0; p < r->nparams && capture == -1; p++)
				if (strlen(r->names[p]) == ne - k - 1 && memcmp(r->names[p], s + k + 1, ne - k - 1) == 0)
					capture = (int)p;
		}
		if (capture == -1) {
			if (in_frag || lit_only)
				continue; /* literal text: the writer escapes it as "\:" */
			imp_refuse(doc, r, col + (uint32_t)k, (uint32_t)(ne - k),
			           "target '%s' has '%.*s', which its source does not bind: whether %s "
			           "keeps it as literal text is not documented", Q, (int)(ne - k), s + k,
			           doc->sem.platform);
			return -1;
		}
		if (in_frag) {
			imp_refuse(doc, r, col + (uint32_t)k, (uint32_t)(ne - k),
			           "target '%s' puts placeholder '%.*s' in its fragment, which the "
			           "language keeps as literal text", Q, (int)(ne - k), s + k);
			return -1;
		}
		push_lit(doc, &r->dst, &r->ndst, &cap, s + lit, k - lit);
		imp_el *el = imp_el_push(doc, &r->dst, &r->ndst, &cap);
		el->kind = capture == -2 ? IMP_SPLAT : IMP_PARAM;
		el->param = capture >= 0 ? (uint8_t)capture : 0;
		lit = ne;
		k = ne - 1;
	}
	push_lit(doc, &r->dst, &r->ndst, &cap, s + lit, n - lit);
	return 0;
}
