/*
 * netlify.c - the `netlify` target: a Netlify `_redirects` file.
 *
 * Artifact: BASE._redirects (deploy it as `_redirects` in the publish
 * directory).  One line per rule, in file order (Netlify processes the
 * rules top to bottom and the first match wins), each forced with `!` so
 * that a file at the source path does not win over the rule (shadowing):
 *
 *   SOURCE  TARGET  STATUS!
 *
 * The mapping relies on Netlify's documented behaviour (docs.netlify.com/
 * manage/routing/redirects/: overview, redirect-options, rewrites-proxies
 * "Shadowing"):
 *   - `:name` in a source matches one path segment, `*` at the end of a
 *     source matches the rest, and `:name` / `:splat` in the target are
 *     replaced by what they matched;
 *   - redirects with 301 and 302 pass the request's query string on to the
 *     target; 307 is "currently unsupported";
 *   - the CDN normalizes the URL before the rules run, so a rule matches a
 *     path whether or not it has a trailing slash, and no rule can add or
 *     remove one;
 *   - a rule whose source is an absolute URL (`https://host/path`) applies
 *     to that domain only; it is written once for http and once for https.
 * So `set trailing-slash ignore` (the default) and `query keep` (the
 * default) are what Netlify does; a splat source also gets a line for its
 * bare parent (a splat after `/x/` matches `/x`), written just before it.
 * Under `set splat-parent no-match` no such line is written, and since
 * Netlify's `/x/ *` answers `/x` on its own (a _redirects line cannot
 * leave `/x` alone), such a rule is refused unless an earlier written
 * exact rule answers its bare parent on every host the rule applies to.
 * A rule of a wildcard host block (`host *.NAME`) is refused: Netlify
 * documents domain-level sources for one literal host only.  Refused with
 * a `backend` error naming the rule: `set trailing-slash strict`, `set case
 * insensitive`, `query drop`, a target with its own query or a fragment
 * (where Netlify puts the passed-on query is not documented), 303, 307,
 * 308 and 410, a splat that does not follow '/', a placeholder whose
 * segment holds more than the placeholder (Netlify placeholders are whole
 * segments too, so this cannot happen, but it is checked), and literal
 * text that Netlify would read as syntax (a '*' or a ':name' in a source
 * or target literal).
 */
#include "backends/backend.h"

#include <stdlib.h>
#include <string.h>

#include "backends/edge_quote.h"
#include "backends/quote.h"
#include "backends/servers.h"

typedef struct nf_ctx {
	const rc_ir *ir;
	int failed;
} nf_ctx;

static const char *rule_name(nf_ctx *c, const rc_rule *r)
{
	return rc_quote((rc_arena *)&c->ir->arena, r->source_text, strlen(r->source_text), 60);
}

static void refuse(nf_ctx *c, const rc_rule *r, const char *why)
{
	rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", r->loc,
	            "rule '%s' cannot be a Netlify redirect: %s", rule_name(c, r), why);
	c->failed = 1;
}

static int is_name_start(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

/* Literal path text, encoded like a target's path (spec section 3:
 * rc_sv_enc's path class).  -1 when Netlify would read part of it as
 * syntax: a '*', a ':' that starts a name, or a final ':' that a
 * capture follows (`follows_capture`). */
static int literal(rc_buf *b, const char *s, size_t n, int encode, int follows_capture)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '*')
			return -1;
		if (s[i] == ':' && i + 1 < n && is_name_start(s[i + 1]))
			return -1;
		if (s[i] == ':' && i + 1 == n && !follows_capture)
			continue;
		if (s[i] == ':' && i + 1 == n)
			return -1; /* ':' then a placeholder reads as '::name' */
	}
	if (!encode)
		return rc_nf_token(b, s, n);
	rc_buf e;
	rc_buf_init(&e);
	rc_sv_enc(&e, s, n, 0, 0);
	int st = rc_nf_token(b, e.data ? e.data : "", e.len);
	rc_buf_fini(&e);
	return st;
}

/* The source of a rule in Netlify's syntax; -1 (and a refusal) when it
 * cannot be written. `bare`: the splat's bare parent (no splat). */
static int nf_source(nf_ctx *c, rc_buf *b, const rc_rule *r, int bare)
{
	for (uint32_t t = 0; t < r->nsrc; t++) {
		const rd_ptok *tok = &r->src[t];
		switch (tok->kind) {
		case RD_PTOK_LIT: {
			size_t n = tok->len;
			int splat_next = t + 1 < r->nsrc && r->src[t + 1].kind == RD_PTOK_SPLAT;
			if (splat_next && (n == 0 || tok->text[n - 1] != '/')) {
				refuse(c, r, "a Netlify splat '*' stands for whole path segments: it must "
				             "follow a '/'");
				return -1;
			}
			if (splat_next && bare)
				n--;
			if (literal(b, tok->text, n, 1, 0) != 0) {
				refuse(c, r, "its source holds a literal '*' or ':name', which Netlify would "
				             "read as a splat or a placeholder");
				return -1;
			}
			break;
		}
		case RD_PTOK_PARAM:
			rc_buf_printf(b, ":%s", r->param_names[tok->capture]);
			break;
		case RD_PTOK_SPLAT:
			if (!bare)
				rc_buf_addc(b, '*');
			break;
		default:
			refuse(c, r, "internal error: unknown source token");
			return -1;
		}
	}
	return 0;
}

/* A capture name followed by a letter, digit or '_' would read as a longer
 * name in Netlify's syntax. */
static int name_char(char ch)
{
	return is_name_start(ch) || (ch >= '0' && ch <= '9');
}

static int nf_target(nf_ctx *c, rc_buf *b, const rc_rule *r, int bare)
{
	for (uint32_t t = 0; t < r->target.ntoks; t++) {
		const rd_ttok *tok = &r->target.toks[t];
		if (tok->kind == RD_TTOK_LIT) {
			if (literal(b, tok->text, tok->len, 0,
			            t + 1 < r->target.ntoks && r->target.toks[t + 1].kind != RD_TTOK_LIT) != 0) {
				refuse(c, r, "its target holds a literal '*' or ':name', which Netlify would read "
				             "as a splat or a placeholder, or a byte a _redirects field cannot hold "
				             "(space, control, non-ASCII, '#')");
				return -1;
			}
			if (t > 0 && r->target.toks[t - 1].kind != RD_TTOK_LIT && tok->len > 0 &&
			    name_char(tok->text[0]) && !(bare && r->target.toks[t - 1].capture == r->nparams)) {
				refuse(c, r, "in its target a placeholder is followed by a letter, digit or '_', "
				             "which Netlify would read as part of the placeholder's name");
				return -1;
			}
			continue;
		}
		if (tok->kind != RD_TTOK_CAP_PATH) {
			refuse(c, r, "a Netlify target has no query of its own (placeholders in a query)");
			return -1;
		}
		if (tok->capture == r->nparams) { /* the splat */
			if (!bare)
				rc_buf_adds(b, ":splat");
		} else {
			rc_buf_printf(b, ":%s", r->param_names[tok->capture]);
		}
	}
	return 0;
}

static int nf_rule_ok(nf_ctx *c, const rc_rule *r)
{
	if (r->gone) {
		refuse(c, r, "410 with no Location is not a Netlify redirect (a 4xx rule renders a page)");
		return -1;
	}
	if (r->status != 301 && r->status != 302) {
		refuse(c, r, r->status == 307 ? "Netlify does not support 307 (its documentation says to "
		                                "use 302)"
		                              : "Netlify redirects with 301 or 302; the behaviour of 303 and "
		                                "308, query included, is not documented");
		return -1;
	}
	if (r->query_drop) {
		refuse(c, r, "Netlify passes the request's query string on to the target of every 301 "
		             "and 302 redirect, so query drop cannot be expressed");
		return -1;
	}
	if (r->target.has_query) {
		refuse(c, r, "with its own query the target would get the request's query too, and "
		             "Netlify does not document how the two are joined");
		return -1;
	}
	if (r->target.fragment) {
		refuse(c, r, "Netlify does not document where the passed-on query goes relative to a "
		             "target's fragment, and '#' starts a comment in _redirects");
		return -1;
	}
	return 0;
}

/* Under splat-parent no-match: does an earlier rule that was written
 * answer the bare parent of r (the exact path `/x` of `/x/ *`) on every
 * host r applies to?  `written` marks the rules written so far. */
static int bare_parent_answered(const rc_ir *ir, const rc_rule *r, const unsigned char *written)
{
	size_t n = r->src[r->nsrc - 2].len - 1; /* "/x/" without its '/' */
	const char *p = r->src[r->nsrc - 2].text;
	const rc_scope *rs = r->scope >= 0 ? RC_VEC_AT(&ir->scopes, rc_scope, r->scope) : NULL;
	for (size_t i = 0; i < r->index; i++) {
		const rc_rule *e = rc_ir_rule(ir, i);
		if (!written[i] || e->is_pattern || e->exact_len != n || memcmp(e->exact_key, p, n) != 0)
			continue;
		if (e->scope < 0 || e->scope == r->scope)
			return 1;
		if (!rs)
			continue;
		const rc_scope *es = RC_VEC_AT(&ir->scopes, rc_scope, e->scope);
		int all = 1;
		for (uint32_t a = 0; a < rs->nhosts && all; a++) {
			int found = 0;
			for (uint32_t b = 0; b < es->nhosts && !found; b++)
				found = strcmp(rs->hosts[a], es->hosts[b]) == 0;
			all = found;
		}
		if (all)
			return 1;
	}
	return 0;
}

static int emit_netlify(const rc_ir *ir, const rc_emit_opts *opts, rc_artifacts *out)
{
	nf_ctx c = { ir, 0 };
	if (ir->policy & RD_POLICY_CASE_INSENSITIVE) {
		rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", ir->settings.loc_case,
		            "'set case insensitive' cannot be a Netlify _redirects file: Netlify "
		            "documents no case-insensitive matching, and a rule's path matches as "
		            "written");
		c.failed = 1;
	}
	if (ir->policy & RD_POLICY_TRAILING_STRICT) {
		rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", ir->settings.loc_trailing,
		            "'set trailing-slash strict' cannot be a Netlify _redirects file: Netlify "
		            "normalizes the URL before its rules run and matches a path with or without "
		            "a trailing slash");
		c.failed = 1;
	}
	rc_buf text, src, dst, label;
	rc_buf_init(&text);
	rc_buf_init(&src);
	rc_buf_init(&dst);
	rc_buf_init(&label);
	FILE *f = NULL;
	if (!c.failed) {
		f = rc_artifacts_open(out, "._redirects");
		if (!f)
			c.failed = 1;
	}
	if (f) {
		fputs("# Generated by redirc " PACKAGE_VERSION " (target netlify); do not edit.\n", f);
		rc_buf b;
		rc_buf_init(&b);
		const char *name = opts->source_name ? opts->source_name : "?";
		rc_comment_text(&b, name, strlen(name));
		fprintf(f, "# Rules: %s\n", b.data);
		rc_buf_fini(&b);
		fputs("# Deploy as _redirects in the publish directory.  Rules in file order, the first\n"
		      "# match wins; each is forced (!) so that a file at its path does not win.\n", f);
	}
	int no_parent = (ir->policy & RD_POLICY_SPLAT_NO_PARENT) != 0;
	unsigned char *written = rc_xmalloc(rc_ir_nrules(ir) + 1);
	memset(written, 0, rc_ir_nrules(ir) + 1);
	for (size_t i = 0; i < rc_ir_nrules(ir) && f; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (nf_rule_ok(&c, r) != 0)
			continue;
		const rc_scope *sc = r->scope >= 0 ? RC_VEC_AT(&ir->scopes, rc_scope, r->scope) : NULL;
		int wild = 0;
		for (uint32_t h = 0; sc && h < sc->nhosts; h++)
			wild |= sc->hosts[h][0] == '*';
		if (wild) {
			refuse(&c, r, "its host block names a wildcard ('*.NAME'), and Netlify documents "
			              "domain-level sources (https://HOST/path) for one literal host only");
			continue;
		}
		int has_bare = r->has_splat && r->nsrc >= 2 && r->src[r->nsrc - 2].kind == RD_PTOK_LIT &&
		               r->src[r->nsrc - 2].len > 1;
		if (has_bare && no_parent) {
			if (!bare_parent_answered(ir, r, written)) {
				refuse(&c, r, "under 'set splat-parent no-match' it does not answer its bare "
				              "parent, but Netlify's splat after '/x/' also matches '/x' and a "
				              "_redirects line cannot leave '/x' alone (an earlier exact rule "
				              "for '/x' on the same hosts would)");
				continue;
			}
			has_bare = 0;
		}
		rc_buf_reset(&label);
		rc_sv_rule_label(&label, ir, r);
		rc_buf line;
		rc_buf_init(&line);
		int ok = 1;
		for (int bare = has_bare; bare >= 0 && ok; bare--) {
			rc_buf_reset(&src);
			rc_buf_reset(&dst);
			if (nf_source(&c, &src, r, bare) != 0 || nf_target(&c, &dst, r, bare) != 0) {
				ok = 0;
				break;
			}
			if (!r->target.absolute && dst.len == 0)
				rc_buf_addc(&dst, '/');
			rc_buf_addc(&src, '\0');
			src.len--;
			rc_buf_addc(&dst, '\0');
			dst.len--;
			if (!sc) {
				rc_buf_printf(&line, "%s  %s  %d!\n", src.data, dst.data, r->status);
			} else {
				for (uint32_t h = 0; h < sc->nhosts; h++)
					for (int s = 0; s < 2; s++)
						rc_buf_printf(&line, "%s://%s%s  %s  %d!\n", s ? "https" : "http",
						              sc->hosts[h], src.data, dst.data, r->status);
			}
		}
		if (ok) {
			written[i] = 1;
			rc_buf_adds(&text, "# ");
			rc_comment_text(&text, label.data, label.len);
			rc_buf_addc(&text, '\n');
			rc_buf_add(&text, line.data, line.len);
		}
		rc_buf_fini(&line);
	}
	free(written);
	if (f && !c.failed)
		fwrite(text.data ? text.data : "", 1, text.len, f);
	rc_buf_fini(&text);
	rc_buf_fini(&src);
	rc_buf_fini(&dst);
	rc_buf_fini(&label);
	return c.failed ? -1 : 0;
}

const rc_backend rc_backend_netlify = {
	"netlify",
	"Netlify _redirects file: BASE._redirects (deploy as _redirects)",
	emit_netlify,
	0,
};
