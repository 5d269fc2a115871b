/*
 * source.c - a rule's source: placeholders and the splat recognized as
 * written, then %XX decoded and the path normalized exactly as the runtime
 * normalizes requests (runtime/match.c), so that what the checks compare is
 * what the servers match.
 */
#include "grammar/builder.h"

#include <stdlib.h>
#include <string.h>

/* ---- sources --------------------------------------------------------- */

typedef struct seg {
	int param;        /* 1 = `:name` */
	const char *text; /* decoded bytes (literal) or the name */
	size_t len;
} seg;


static int decode_into(const char *s, size_t n, char *out, size_t *out_len)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			static const char hex[] = "0123456789abcdef0123456789ABCDEF";
			if (i + 2 >= n)
				return -1;
			const char *h = memchr(hex, s[i + 1], 32), *l = memchr(hex, s[i + 2], 32);
			if (!h || !l || !s[i + 1] || !s[i + 2])
				return -1;
			out[o++] = (char)(((h - hex) % 16) * 16 + (l - hex) % 16);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	*out_len = o;
	return 0;
}

/* Does a written source have a whole segment `:name`? */
static int source_has_placeholder(const char *s, size_t n)
{
	for (const char *c = memchr(s, ':', n); c; c = memchr(c + 1, ':', n - (size_t)(c + 1 - s))) {
		size_t i = (size_t)(c - s) - 1; /* the '/' before the ':' */
		if (c == s || s[i] != '/' || i + 2 >= n || !name_start((unsigned char)s[i + 2]))
			continue;
		size_t k = i + 3;
		while (k < n && name_char((unsigned char)s[k]))
			k++;
		if (k == n || s[k] == '/')
			return 1;
	}
	return 0;
}

/* An exact source is a raw path: the runtime normalizes it, so sources and
 * requests take exactly the same steps. */
static int build_exact_source(rc_builder *b, rc_rule *r, const rc_tok *t)
{
	rc_arena *A = &b->ir->arena;
	/* normalize into scratch; most sources are already normal, and then
	 * the key shares the source text instead of copying it */
	rc_buf_reset(&b->scratch);
	if (t->len + 2 > b->scratch.cap) { /* grow to hold len + 2 bytes */
		rc_buf_add(&b->scratch, t->text, t->len + 1);
		rc_buf_reset(&b->scratch);
	}
	char *norm = b->scratch.data;
	size_t nl;
	if (rd_path_normalize(t->text, t->len, b->ir->policy, norm, &nl) != 0) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
		            "invalid source '%s': a '%%' that does not start a %%XX escape, "
		            "expected %%25 for a literal '%%'", Q(b, t));
		return -1;
	}
	if (nl == t->len && memcmp(norm, t->text, nl) == 0)
		norm = t->text;
	else
		norm = rc_arena_strndup(A, norm, nl);
	rd_ptok *tok = rc_arena_alloc(A, sizeof(rd_ptok));
	tok->kind = RD_PTOK_LIT;
	tok->len = (uint32_t)nl;
	tok->text = norm;
	r->src = tok;
	r->nsrc = 1;
	r->exact_key = norm;
	r->exact_len = (uint32_t)nl;
	r->is_pattern = 0;
	return 0;
}

/* The index of the first control byte (< 0x20) or DEL in s, or n; 8 bytes
 * at a time (v has a byte below 0x20 when (v - 0x20..) & ~v sets a high
 * bit, and a DEL when v ^ 0x7f.. has a zero byte). */
size_t rc_first_control(const char *s, size_t n)
{
	const uint64_t lo = 0x0101010101010101ull, hi = 0x8080808080808080ull;
	size_t i = 0;
	uint64_t w, del;
	while (i + 8 <= n && (memcpy(&w, s + i, 8), del = w ^ (lo * 0x7f),
	                      ((((w - lo * 0x20) & ~w) | ((del - lo) & ~del)) & hi) == 0))
		i += 8;
	while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
		i++;
	return i;
}

/* The index of the first byte rc_source_build must look at (a control byte,
 * DEL, '?', '#' or '*'), or n. */
static size_t source_first_stop(const char *s, size_t n)
{
	size_t end = rc_first_control(s, n);
	for (const char *stop = "?#*"; *stop; stop++) {
		const char *c = memchr(s, *stop, end);
		if (c)
			end = (size_t)(c - s);
	}
	return end;
}

/* Parse and normalize a source.  Fills the rule's tokens; returns -1 after
 * a diagnostic. */
int rc_source_build(rc_builder *b, rc_rule *r, const rc_tok *t)
{
	rc_arena *A = &b->ir->arena;
	const char *s = t->text;
	size_t n = t->len;
	if (n == 0 || s[0] != '/') {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
		            "invalid source '%s', expected a path starting with '/'", Q(b, t));
		return -1;
	}
	for (size_t i = source_first_stop(s, n); i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			/* as in targets: a raw control byte is never a path */
			rc_loc l = t->loc;
			l.col += (uint32_t)i;
			l.len = 1;
			rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", l,
			            "invalid source '%s': a raw control byte, expected printable text "
			            "(write %%%02X for a literal byte 0x%02x)",
			            Q(b, t), (unsigned char)s[i], (unsigned char)s[i]);
			return -1;
		}
		if (s[i] == '?' || s[i] == '#') {
			rc_loc l = t->loc;
			l.col += (uint32_t)i;
			l.len = 1;
			rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", l,
			            "invalid source '%s': a raw '%c' cannot be matched, expected a path "
			            "(write %%%02X for a literal '%c')",
			            Q(b, t), s[i], (unsigned char)s[i], s[i]);
			return -1;
		}
		if (s[i] == '*' && i + 1 != n) {
			rc_loc l = t->loc;
			l.col += (uint32_t)i;
			l.len = 1;
			rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", l,
			            "invalid source '%s': '*' may only be the last character "
			            "(write %%2A for a literal '*')", Q(b, t));
			return -1;
		}
	}
	int splat = (s[n - 1] == '*');
	if (!splat && !source_has_placeholder(s, n))
		return build_exact_source(b, r, t);
	size_t body = splat ? n - 1 : n;
	/* split into written segments; recognize `:name` segments */
	rc_vec segs;
	rc_vec_init(&segs, sizeof(seg));
	char **names = NULL; /* allocated at the first placeholder */
	uint32_t nparams = 0;
	int is_pattern = splat;
	size_t i = 1;
	int ok = 1;
	char *scratch = rc_arena_alloc(A, n + 1);
	size_t scratch_used = 0;
	int last_is_splat_prefix = 0;
	while (i <= body) {
		size_t start = i;
		while (i < body && s[i] != '/')
			i++;
		const char *w = s + start;
		size_t wl = i - start;
		int final = (i >= body);
		if (wl >= 2 && w[0] == ':' && name_start((unsigned char)w[1])) {
			size_t k = 1;
			while (k < wl && name_char((unsigned char)w[k]))
				k++;
			if (k == wl && !(final && splat)) {
				for (uint32_t p = 0; p < nparams; p++)
					if (strlen(names[p]) == wl - 1 && memcmp(names[p], w + 1, wl - 1) == 0) {
						rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
						            "placeholder ':%s' appears twice in source '%s', expected distinct names",
						            names[p], Q(b, t));
						ok = 0;
					}
				if (nparams + 1 >= RD_MAX_CAPTURES) {
					rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
					            "source '%s' has more than %d placeholders", Q(b, t),
					            RD_MAX_CAPTURES - 1);
					ok = 0;
					break;
				}
				if (!names)
					names = rc_arena_alloc(A, sizeof(char *) * RD_MAX_CAPTURES);
				names[nparams++] = rc_arena_strndup(A, w + 1, wl - 1);
				seg *sg = rc_vec_push(&segs);
				sg->param = 1;
				sg->text = names[nparams - 1];
				sg->len = wl - 1;
				is_pattern = 1;
				i++;
				continue;
			}
		}
		/* a literal segment: decode; decoded '/' splits it further */
		size_t dl;
		char *d = scratch + scratch_used;
		if (decode_into(w, wl, d, &dl) != 0) {
			rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
			            "invalid source '%s': a '%%' that does not start a %%XX escape, "
			            "expected %%25 for a literal '%%'", Q(b, t));
			ok = 0;
			break;
		}
		scratch_used += dl;
		size_t p0 = 0;
		for (size_t k = 0; k <= dl; k++) {
			if (k == dl || d[k] == '/') {
				seg *sg = rc_vec_push(&segs);
				sg->param = 0;
				sg->text = d + p0;
				sg->len = k - p0;
				p0 = k + 1;
			}
		}
		last_is_splat_prefix = final && splat;
		i++;
	}
	if (splat && !last_is_splat_prefix) {
		/* the splat follows a placeholder-like word: it is literal text +
		 * splat; make an empty literal segment to carry the splat */
		seg *sg = rc_vec_push(&segs);
		sg->param = 0;
		sg->text = "";
		sg->len = 0;
	}
	if (!ok) {
		rc_vec_fini(&segs);
		return -1;
	}
	/* merge slashes and resolve dot segments over the segment list; the
	 * last segment carries the splat and is never removed */
	seg *in = segs.items;
	size_t nin = segs.len;
	seg *out = rc_arena_alloc(A, sizeof(seg) * (nin + 1));
	size_t nout = 0;
	int trailing = 0;
	for (size_t k = 0; k < nin; k++) {
		int last = (k + 1 == nin);
		seg sg = in[k];
		if (last && splat) {
			out[nout++] = sg;
			break;
		}
		trailing = 0;
		if (!sg.param && sg.len == 0) {
			if (last)
				trailing = 1;
			continue;
		}
		if (!sg.param && sg.len == 1 && sg.text[0] == '.') {
			if (last)
				trailing = 1;
			continue;
		}
		if (!sg.param && sg.len == 2 && sg.text[0] == '.' && sg.text[1] == '.') {
			if (nout > 0)
				nout--;
			if (last)
				trailing = 1;
			continue;
		}
		out[nout++] = sg;
	}
	if (trailing && b->ir->settings.trailing_strict == 0)
		trailing = 0;
	/* the placeholders that the dot segments left, in order: they are the
	 * captures.  A `:name` removed by a `..` after it binds nothing. */
	uint32_t kept = 0;
	for (size_t k = 0; k < nout; k++)
		if (out[k].param)
			names[kept++] = (char *)out[k].text;
	nparams = kept;
	is_pattern = splat || kept > 0;
	/* rebuild as tokens: literal runs joined with '/' */
	rc_buf lit;
	rc_buf_init(&lit);
	rd_ptok *toks = rc_arena_alloc(A, sizeof(rd_ptok) * (2 * nout + 4));
	uint32_t nt = 0;
	uint32_t cap_index = 0;
	for (size_t k = 0; k < nout; k++) {
		rc_buf_addc(&lit, '/');
		if (out[k].param) {
			toks[nt].kind = RD_PTOK_LIT;
			toks[nt].len = (uint32_t)lit.len;
			toks[nt].text = rc_arena_strndup(A, lit.data, lit.len);
			nt++;
			rc_buf_reset(&lit);
			toks[nt].kind = RD_PTOK_PARAM;
			toks[nt].capture = (uint8_t)cap_index++;
			nt++;
		} else {
			rc_buf_add(&lit, out[k].text, out[k].len);
		}
	}
	if (nout == 0 || trailing)
		rc_buf_addc(&lit, '/');
	if (lit.len > 0 || nt == 0) {
		toks[nt].kind = RD_PTOK_LIT;
		toks[nt].len = (uint32_t)lit.len;
		toks[nt].text = rc_arena_strndup(A, lit.data, lit.len);
		nt++;
	}
	/* a source of just "/" and a splat: the splat follows the root slash */
	if (splat) {
		toks[nt].kind = RD_PTOK_SPLAT;
		toks[nt].capture = (uint8_t)cap_index;
		nt++;
	}
	rc_buf_fini(&lit);
	rc_vec_fini(&segs);
	r->src = toks;
	r->nsrc = nt;
	r->is_pattern = is_pattern;
	r->nparams = nparams;
	r->param_names = names;
	r->has_splat = splat;
	if (!is_pattern)
		return build_exact_source(b, r, t);
	return 0;
}
