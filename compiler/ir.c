/*
 * ir.c - the IR's lifetime, host lookups and the request interpreter that
 * wraps the runtime matcher.
 */
#include "compiler/ir.h"

#include <stdlib.h>
#include <string.h>

void rc_ir_init(rc_ir *ir, rc_diags *diags)
{
	memset(ir, 0, sizeof *ir);
	rc_arena_init(&ir->arena);
	ir->diags = diags;
	ir->settings.status = 301;
	ir->settings.max_chain = 1;
	rc_vec_init(&ir->rules, sizeof(rc_rule));
	rc_vec_init(&ir->scopes, sizeof(rc_scope));
	rc_vec_init(&ir->served_hosts, sizeof(char *));
	rc_vec_init(&ir->allow_hosts, sizeof(char *));
	rc_vec_init(&ir->expects, sizeof(rc_expect));
	ir->top_file = -1;
}

void rc_ir_fini(rc_ir *ir)
{
	rc_vec_fini(&ir->rules);
	rc_vec_fini(&ir->scopes);
	rc_vec_fini(&ir->served_hosts);
	rc_vec_fini(&ir->allow_hosts);
	rc_vec_fini(&ir->expects);
	rc_arena_fini(&ir->arena);
}

/* Does the name `name` (a host or a wildcard "*.NAME") cover `host` (a
 * host, or a wildcard "*.X" standing for every subdomain of X)? */
static int name_covers(const char *name, const char *host)
{
	if (strcmp(name, host) == 0)
		return 1;
	if (name[0] != '*')
		return 0;
	if (host[0] == '*')
		return rd_wildcard_admits(name, host + 2);
	return rd_wildcard_admits(name, host);
}

int rc_host_list_covers(const rc_vec *v, const char *host)
{
	for (size_t i = 0; i < v->len; i++)
		if (name_covers(*RC_VEC_AT(v, char *, i), host))
			return 1;
	return 0;
}

int rc_ir_host_is_served(const rc_ir *ir, const char *host)
{
	if (rc_host_list_covers(&ir->served_hosts, host))
		return 1;
	for (size_t i = 0; i < ir->scopes.len; i++) {
		const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, i);
		for (uint32_t j = 0; j < s->nhosts; j++)
			if (name_covers(s->hosts[j], host))
				return 1;
	}
	return 0;
}

int rc_ir_host_is_allowed(const rc_ir *ir, const char *host)
{
	return rc_host_list_covers(&ir->allow_hosts, host);
}

int rc_scope_is_wildcard(const rc_scope *s)
{
	for (uint32_t j = 0; j < s->nhosts; j++)
		if (s->hosts[j][0] != '*')
			return 0;
	return s->nhosts > 0;
}

int rc_rule_same_answer(const rc_rule *a, const rc_rule *b)
{
	if (a->gone != b->gone || a->status != b->status || a->query_drop != b->query_drop)
		return 0;
	if (a->gone)
		return 1;
	if (a->target.ntoks != b->target.ntoks)
		return 0;
	for (uint32_t i = 0; i < a->target.ntoks; i++) {
		const rd_ttok *x = &a->target.toks[i], *y = &b->target.toks[i];
		if (x->kind != y->kind || x->capture != y->capture || x->len != y->len ||
		    (x->len && memcmp(x->text, y->text, x->len) != 0))
			return 0;
	}
	const char *fa = a->target.fragment ? a->target.fragment : "";
	const char *fb = b->target.fragment ? b->target.fragment : "";
	return strcmp(fa, fb) == 0;
}

void rc_answer_fini(rc_answer *ans)
{
	free(ans->location);
	ans->location = NULL;
}

void rc_rule_view(const rc_ir *ir, const rc_rule *r, rd_rule *v)
{
	memset(v, 0, sizeof *v);
	v->src = r->src;
	v->nsrc = r->nsrc;
	v->dst = r->target.toks;
	v->ndst = r->target.ntoks;
	v->fragment = r->target.fragment;
	v->fragment_len = r->target.fragment ? (uint32_t)strlen(r->target.fragment) : 0;
	v->status = (uint16_t)r->status;
	v->flags = (uint16_t)((r->gone ? RD_RULE_GONE : 0) |
	                      (r->query_drop ? RD_RULE_QUERY_DROP : 0) |
	                      (r->target.has_query ? RD_RULE_TARGET_QUERY : 0));
	if (r->scope >= 0) {
		const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, r->scope);
		v->hosts = (const char *const *)s->hosts;
		v->nhosts = s->nhosts;
	}
}

void rc_ir_answer(const rc_ir *ir, const char *host, const char *path,
                  size_t path_len, const char *query, size_t query_len,
                  rc_answer *ans)
{
	memset(ans, 0, sizeof *ans);
	char *norm = rc_xmalloc(path_len + 2);
	size_t norm_len;
	if (rd_path_normalize(path, path_len, ir->policy, norm, &norm_len) != 0) {
		ans->invalid = 1;
		free(norm);
		return;
	}
	rd_span caps[RD_MAX_CAPTURES];
	for (size_t i = 0; i < ir->rules.len; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		rd_rule view;
		rc_rule_view(ir, r, &view);
		if (!rd_rule_admits_host(&view, host))
			continue;
		if (!rd_pattern_match(r->src, r->nsrc, norm, norm_len, ir->policy, caps))
			continue;
		ans->matched = 1;
		ans->rule = r;
		ans->status = r->status;
		if (!r->gone) {
			size_t need = rd_location_build_host(&view, host, norm, caps, query, query_len, NULL, 0);
			ans->location = rc_xmalloc(need + 1);
			rd_location_build_host(&view, host, norm, caps, query, query_len, ans->location, need + 1);
		}
		break;
	}
	free(norm);
}

int rc_host_name_is_valid(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return 0;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		         (c >= '0' && c <= '9') || (c == '-' && label > 0);
		if (!ok || ++label > 63)
			return 0;
	}
	return label > 0 && s[n - 1] != '-';
}

int rc_url_split(rc_arena *a, const char *url, size_t len, char **host,
                 char **path, char **query, size_t *query_len,
                 const char **why)
{
	*host = NULL;
	*query = NULL;
	*query_len = 0;
	const char *p = url, *end = url + len;
	/* a fragment is never sent by a client: drop it */
	const char *hash = memchr(url, '#', len);
	if (hash)
		end = hash;
	size_t rest = (size_t)(end - p);
	size_t skip = 0;
	if (rest >= 7 && strncasecmp(p, "http://", 7) == 0)
		skip = 7;
	else if (rest >= 8 && strncasecmp(p, "https://", 8) == 0)
		skip = 8;
	if (skip) {
		/* RFC 3986 section 3.2: the authority runs to the first '/', '?'
		 * or '#' (cut above); a '@' in it ends user information, which a
		 * browser skips ('http://a.com:80@evil.com/' goes to evil.com) */
		const char *h = p + skip, *he = h;
		while (he < end && *he != '/' && *he != '?')
			he++;
		size_t hl = (size_t)(he - h);
		if (memchr(h, '@', hl)) {
			*why = "user information ('@') in the authority, expected scheme://host[:port]/path";
			return -1;
		}
		const char *colon = h[0] == '[' ? NULL : memchr(h, ':', hl);
		if (colon) {
			size_t pl = (size_t)(he - colon - 1);
			unsigned long port = 0;
			for (size_t i = 1; i <= pl; i++) {
				unsigned char c = (unsigned char)colon[i];
				port = port * 10 + (unsigned long)(c - '0');
				if (c < '0' || c > '9' || port > 65535 || i > 5) {
					*why = "a bad port, expected scheme://host[:port] with a port from 0 to 65535";
					return -1;
				}
			}
		}
		char *canon = rc_arena_alloc(a, hl + 1);
		size_t cl = rd_host_canon(h, hl, canon);
		/* a request's Host may hold '_' (a wildcard host block admits it):
		 * test the name with '_' read as a letter */
		char *probe = rc_arena_strndup(a, canon, cl);
		for (size_t i = 0; i < cl; i++)
			if (probe[i] == '_')
				probe[i] = 'x';
		if (cl == 0 || !rc_host_name_is_valid(probe, cl)) {
			*why = "expected a host name after the scheme";
			return -1;
		}
		*host = canon;
		p = he;
	} else if (rest == 0 || *p != '/') {
		*why = "expected a path starting with '/' or an http:// or https:// URL";
		return -1;
	}
	const char *q = memchr(p, '?', (size_t)(end - p));
	const char *pe = q ? q : end;
	*path = (pe == p) ? rc_arena_strdup(a, "/") : rc_arena_strndup(a, p, (size_t)(pe - p));
	if (q) {
		*query = rc_arena_strndup(a, q + 1, (size_t)(end - q - 1));
		*query_len = (size_t)(end - q - 1);
	}
	return 0;
}

void rc_url_print(FILE *out, const char *url)
{
	const unsigned char *s = (const unsigned char *)url;
	size_t n = strlen(url);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c == '\\') {
			fputs("\\\\", out);
		} else if (c == '\t') {
			fputs("\\t", out);
		} else if (c == '\n') {
			fputs("\\n", out);
		} else if (c == '\r') {
			fputs("\\r", out);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\x%02X", c);
		} else if (c >= 0x80) {
			int l = rc_utf8_seq_len(s + i, n - i);
			/* U+0080..U+009F (C2 80..C2 9F) are C1 controls */
			if (l < 0 || (c == 0xC2 && s[i + 1] < 0xA0)) {
				size_t k = l < 0 ? 1 : (size_t)l;
				for (size_t j = 0; j < k; j++)
					fprintf(out, "\\x%02X", s[i + j]);
				i += k;
			} else {
				fwrite(s + i, 1, (size_t)l, out);
				i += (size_t)l;
			}
			continue;
		} else {
			fputc(c, out);
		}
		i++;
	}
}
