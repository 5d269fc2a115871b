/*
 * target.c - a rule's target: scheme, host and port kept literal, the path,
 * query and fragment split and pre-encoded into tokens (literal text and
 * captures), placeholders bound to the source's captures.
 */
#include "grammar/builder.h"

#include <stdlib.h>
#include <string.h>

/* ---- targets --------------------------------------------------------- */

/* Whether `src` (a source as written) has the whole segment w[0..n). */
static int written_segment(const char *src, const char *w, size_t n)
{
	for (const char *p = src; (p = strchr(p, '/')) != NULL; p++)
		if (strncmp(p + 1, w, n) == 0 && (p[n + 1] == '/' || p[n + 1] == '\0'))
			return 1;
	return 0;
}

/* `s` points into a NUL-terminated token text. */
static void ttok_lit(rc_arena *A, rc_vec *v, const char *s, size_t n, enum rd_url_part part)
{
	if (n == 0)
		return;
	size_t need = rd_encode_literal(s, n, part, NULL, 0);
	char *enc;
	if (need == n && s[n] == '\0') {
		/* nothing to encode (the encoding only ever grows) and the text
		 * ends the token: share it */
		enc = (char *)s;
	} else {
		enc = rc_arena_alloc_raw(A, need + 1);
		rd_encode_literal(s, n, part, enc, need + 1);
	}
	rd_ttok *t = rc_vec_push(v);
	t->kind = RD_TTOK_LIT;
	t->len = (uint32_t)need;
	t->text = enc;
}

/* The index of the first ':' or '*' in s[from, to), or to. */
static size_t next_capture_char(const char *s, size_t from, size_t to)
{
	const char *colon = memchr(s + from, ':', to - from);
	size_t end = colon ? (size_t)(colon - s) : to;
	const char *star = memchr(s + from, '*', end - from);
	return star ? (size_t)(star - s) : end;
}

/* Whether `:subdomain` is bound in the targets of rule r: the rule stands
 * in a host block whose every name is a wildcard, and its source has no
 * placeholder of that name.  With `t` set, says why not (at byte `at` of
 * the target) as an error; with t NULL, tells quietly whether the name is
 * the wildcard's (a source placeholder `:subdomain` outside wildcard
 * blocks stays an ordinary placeholder). */
int rc_target_subdomain_bound(rc_builder *b, const rc_rule *r, const rc_tok *t, size_t at)
{
	int wild = r && r->scope >= 0 &&
	           rc_scope_is_wildcard(RC_VEC_AT(&b->ir->scopes, rc_scope, r->scope));
	if (!t)
		return wild;
	if (wild)
		return 1;
	rc_loc l = t->loc;
	l.col += (uint32_t)at;
	l.len = 10;
	rc_diag_add(D(b), RC_SEV_ERROR, "unbound", l,
	            "target '%s' uses ':subdomain', which only a host block of wildcard names binds, "
	            "expected the rule inside a block such as 'host *.example.com { … }'%s",
	            Q(b, t), r && r->scope >= 0 ? " (every name of its host block must be a wildcard)" : "");
	return 0;
}

/* Parse a target (rules) or an expected target (expect lines, where
 * `rule` is NULL and placeholders are literal text). */
int rc_target_build(rc_builder *b, rc_rule *r, const rc_tok *t, rc_target *out)
{
	rc_arena *A = &b->ir->arena;
	const char *s = t->text;
	size_t n = t->len;
	memset(out, 0, sizeof *out);
	size_t pos = 0;
	/* quoted targets may hold blanks: they are encoded; controls never */
	if (rc_first_control(s, n) < n) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
		            "invalid target '%s': a control byte, expected printable text", Q(b, t));
		return -1;
	}
	if (n >= 7 && (strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0)) {
		size_t sl = (s[4] == ':') ? 4 : 5;
		pos = sl + 3;
		size_t hs = pos;
		while (pos < n && s[pos] != '/' && s[pos] != '?' && s[pos] != '#')
			pos++;
		const char *auth = s + hs;
		size_t al = pos - hs;
		/* `:subdomain.NAME`: the subdomain a wildcard host block matched */
		static const char SUB[] = ":subdomain.";
		int sub_host = al > sizeof SUB - 1 && strncasecmp(auth, SUB, sizeof SUB - 1) == 0;
		if (sub_host) {
			if (!rc_target_subdomain_bound(b, r, t, hs))
				return -1;
			auth += sizeof SUB - 1;
			al -= sizeof SUB - 1;
		}
		if (memchr(auth, '@', al)) {
			rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
			            "invalid target '%s': user information ('@') in the host, expected scheme://host[:port]/path",
			            Q(b, t));
			return -1;
		}
		if (memchr(auth, '*', al) || memchr(auth, ':', al) != NULL) {
			const char *colon = memchr(auth, ':', al);
			int placeholder = memchr(auth, '*', al) != NULL;
			if (colon && !placeholder) {
				size_t pl = al - (size_t)(colon - auth) - 1;
				if (pl == 0 || pl > 5 || strspn(colon + 1, "0123456789") < pl ||
				    atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
					placeholder = 1;
			}
			if (placeholder) {
				rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
				            "invalid target '%s': a placeholder or bad port in the scheme, host or port, "
				            "expected scheme://host[:port] with a port from 1 to 65535", Q(b, t));
				return -1;
			}
		}
		const char *colon = memchr(auth, ':', al);
		size_t hl = colon ? (size_t)(colon - auth) : al;
		char *host = rc_arena_alloc(A, hl + 3);
		rd_host_canon(auth, hl, host);
		if (!rc_host_name_is_valid(host, strlen(host))) {
			rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
			            "invalid target '%s': host '%s' is not a valid host name",
			            Q(b, t), rc_quote(A, auth, hl, 80));
			return -1;
		}
		out->absolute = 1;
		out->scheme = sl == 4 ? "http" : "https";
		out->port = colon ? atoi(colon + 1) : 0;
		out->prefix = rc_arena_printf(A, "%s://%s%s%s%.*s", out->scheme, sub_host ? "*." : "", host,
		                              colon ? ":" : "", colon ? (int)(al - hl - 1) : 0,
		                              colon ? colon + 1 : "");
		if (sub_host) {
			memmove(host + 2, host, strlen(host) + 1);
			host[0] = '*';
			host[1] = '.';
			out->sub_host = 1;
			out->uses_subdomain = 1;
		}
		out->host = host;
	} else if (n == 0 || s[0] != '/') {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
		            "invalid target '%s', expected a path starting with '/' or an http:// or https:// URL",
		            Q(b, t));
		return -1;
	} else if (n >= 2 && (s[1] == '/' || (s[1] == '\\' &&
	                                     /* "/\:name" is the escape of a literal ':' */
	                                     !(n >= 4 && s[2] == ':' && name_start((unsigned char)s[3]))))) {
		rc_diag_add(D(b), RC_SEV_ERROR, "open-redirect", t->loc,
		            "target '%s' is protocol-relative: browsers read it as another host, "
		            "expected a path with a single leading '/' or an absolute URL", Q(b, t));
		return -1;
	}
	/* fragment and query */
	const char *hash = memchr(s + pos, '#', n - pos);
	size_t end = hash ? (size_t)(hash - s) : n;
	const char *qm = memchr(s + pos, '?', end - pos);
	/* an expectation may end in '?': a splat or placeholder in a rule's
	 * query can capture nothing, and an expect line must be able to state
	 * every Location the rules give */
	if (r && qm && (size_t)(qm - s) + 1 == end) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
		            "invalid target '%s': it ends its query with nothing after '?', "
		            "expected a query after '?' or no '?'", Q(b, t));
		return -1;
	}
	size_t qstart = qm ? (size_t)(qm - s) : end;
	rc_vec toks = b->ttoks; /* the builder's scratch, reused: no malloc per rule */
	toks.len = 0;
	if (out->absolute && out->sub_host) {
		/* "scheme://", the subdomain, ".NAME[:port]" */
		size_t sch = strlen(out->scheme) + 3;
		rd_ttok *pt = rc_vec_push(&toks);
		pt->kind = RD_TTOK_LIT;
		pt->text = out->prefix;
		pt->len = (uint32_t)sch;
		pt = rc_vec_push(&toks);
		pt->kind = RD_TTOK_SUBDOMAIN;
		pt = rc_vec_push(&toks);
		pt->kind = RD_TTOK_LIT;
		pt->text = out->prefix + sch + 1;
		pt->len = (uint32_t)strlen(out->prefix + sch + 1);
	} else if (out->absolute) {
		rd_ttok *pt = rc_vec_push(&toks);
		pt->kind = RD_TTOK_LIT;
		pt->text = out->prefix;
		pt->len = (uint32_t)strlen(out->prefix);
	}
	int ok = 1;
	for (int part = 0; part < 2; part++) {
		size_t from = part == 0 ? pos : qstart;
		size_t to = part == 0 ? qstart : end;
		enum rd_url_part up = part == 0 ? RD_PART_PATH : RD_PART_QUERY;
		size_t lit = from;
		for (size_t k = from; k < to; k++) {
			k = next_capture_char(s, k, to);
			if (k == to)
				break;
			/* "\:" before a letter or '_' is a literal ':' (issue 15), in
			 * rules and expectations alike */
			if (s[k] == ':' && k > lit && s[k - 1] == '\\' && k + 1 < to &&
			    name_start((unsigned char)s[k + 1])) {
				ttok_lit(A, &toks, s + lit, k - 1 - lit, up);
				lit = k;
				continue;
			}
			if (!r)
				continue;
			int is_param = s[k] == ':' && k + 1 < to && name_start((unsigned char)s[k + 1]);
			int is_splat = s[k] == '*';
			if (!is_param && !is_splat)
				continue;
			ttok_lit(A, &toks, s + lit, k - lit, up);
			size_t nend = k + 1;
			int capture = -1;
			if (is_param) {
				while (nend < to && name_char((unsigned char)s[nend]))
					nend++;
				if (nend - k - 1 == 9 && memcmp(s + k + 1, "subdomain", 9) == 0 &&
				    rc_target_subdomain_bound(b, r, NULL, 0)) {
					if (!rc_target_subdomain_bound(b, r, t, k)) {
						ok = 0;
					} else {
						rd_ttok *st = rc_vec_push(&toks);
						st->kind = RD_TTOK_SUBDOMAIN;
						out->uses_subdomain = 1;
					}
					lit = nend;
					k = nend - 1;
					continue;
				}
				for (uint32_t p = 0; p < r->nparams; p++)
					if (strlen(r->param_names[p]) == nend - k - 1 &&
					    memcmp(r->param_names[p], s + k + 1, nend - k - 1) == 0)
						capture = (int)p;
				if (capture < 0) {
					rc_loc l = t->loc;
					l.col += (uint32_t)k;
					l.len = (uint32_t)(nend - k);
					rc_diag_add(D(b), RC_SEV_ERROR, "unbound", l,
					            "target uses placeholder ':%.*s' that source '%s' does not bind%s, "
					            "expected one of the source's placeholders (write %%3A for a literal ':')",
					            (int)(nend - k - 1), s + k + 1, r->source_text,
					            written_segment(r->source_text, s + k, nend - k)
					                ? " (a '..' after it removes that segment)" : "");
					ok = 0;
				} else {
					out->param_mask |= 1u << capture;
				}
			} else {
				if (!r->has_splat) {
					rc_loc l = t->loc;
					l.col += (uint32_t)k;
					l.len = 1;
					rc_diag_add(D(b), RC_SEV_ERROR, "unbound", l,
					            "target uses '*' but source '%s' does not end in '*', "
					            "expected a source with a splat (write %%2A for a literal '*')",
					            r->source_text);
					ok = 0;
				} else {
					capture = (int)r->nparams;
					out->uses_splat = 1;
				}
			}
			if (capture >= 0) {
				rd_ttok *ct = rc_vec_push(&toks);
				ct->kind = part == 0 ? RD_TTOK_CAP_PATH : RD_TTOK_CAP_QUERY;
				ct->capture = (uint8_t)capture;
			}
			lit = nend;
			k = nend - 1;
		}
		ttok_lit(A, &toks, s + lit, to - lit, up);
	}
	b->ttoks = toks;
	if (!ok)
		return -1;
	out->has_query = qm != NULL;
	out->ntoks = (uint32_t)toks.len;
	out->toks = rc_arena_alloc(A, sizeof(rd_ttok) * (toks.len + 1));
	if (toks.len)
		memcpy(out->toks, toks.items, sizeof(rd_ttok) * toks.len);
	if (hash) {
		size_t fl = n - end;
		size_t need = rd_encode_literal(hash + 1, fl - 1, RD_PART_FRAGMENT, NULL, 0);
		char *f = rc_arena_alloc(A, need + 2);
		f[0] = '#';
		rd_encode_literal(hash + 1, fl - 1, RD_PART_FRAGMENT, f + 1, need + 1);
		out->fragment = f;
	}
	return 0;
}
