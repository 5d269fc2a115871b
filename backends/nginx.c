/*
 * nginx.c - the `nginx` target (doc/backend-design.md sections 4, 12, 13).
 *
 * Three artifacts: BASE.http.conf (js_import of the helper, js_set
 * variables, the normal-form map that gives the variables natively, map
 * hash sizes, the host-scoped and the global exact map, the pattern index:
 * one regex map per first path segment), BASE.server.conf (one
 * `if`/`return` per status for exact hits, then one per status for the
 * pattern answer) and BASE.js (the njs helper, read only for a request not
 * in normal form: normalizes the raw request target and computes the
 * ASCII-only key and subject variables).  Every string goes through
 * quote.h.
 */
#include "backends/backend.h"

#include <stdlib.h>
#include <string.h>

#include "backends/quote.h"
#include "backends/servers.h"

/* nginx reads one configuration token into a 4096-byte buffer
 * (NGX_CONF_BUFFER): a longer quoted string fails `nginx -t` with "too long
 * parameter".  The limit checked is the token as written, quotes included,
 * with a margin for the rest of the line in the same buffer. */
#define NGX_TOKEN_MAX 4000

/* nginx refuses a map_hash_bucket_size above 65536 minus a cache line */
#define NGX_BUCKET_MAX 32768

static size_t pow2ceil(size_t n)
{
	size_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

typedef struct ngx_ctx {
	const rc_ir *ir;
	int failed;
	char *reported;     /* per rule index: its pattern checks were reported */
} ngx_ctx;

static void too_long(ngx_ctx *c, const rc_rule *r, const char *what, size_t n)
{
	rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", r->loc,
	            "rule '%s' needs an nginx %s of %zu bytes, expected at most %d: nginx reads "
	            "a configuration token into a 4096-byte buffer",
	            rc_quote((rc_arena *)&c->ir->arena, r->source_text, strlen(r->source_text), 60),
	            what, n, NGX_TOKEN_MAX);
	c->failed = 1;
}

/* Append quoted text (RC_NGX_VARS) or report it. */
static void ngx_text(ngx_ctx *c, rc_buf *b, const rc_rule *r, const char *s, size_t n)
{
	if (rc_ngx_quote(b, s, n, RC_NGX_VARS) != 0) {
		rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", r->loc,
		            "rule '%s': its target has a NUL byte, which nginx cannot express",
		            rc_quote((rc_arena *)&c->ir->arena, r->source_text, strlen(r->source_text), 60));
		c->failed = 1;
	}
}

/* The subdomain of an exact rule's target for the hosts of class `cls`
 * (design 16.3): rd_host_subdomain of the class name, whose "_" (a wildcard
 * class's representative) stands for $redir_csub, the host minus the
 * class's ".NAME"; for a named host a constant. */
static void ngx_subdomain(ngx_ctx *c, rc_buf *b, const rc_rule *r, const char *cls)
{
	size_t n = rc_sv_class_subdomain(c->ir, r, cls);
	if (n == 0) {
		c->failed = 1;
		return;
	}
	if (cls[0] == '_') {
		rc_buf_adds(b, "${redir_csub}");
		rc_buf_add(b, cls + 1, n - 1);
	} else {
		rc_buf_add(b, cls, n); /* [a-z0-9.-]: nothing to quote */
	}
}

/* The Location template of a rule (design 4.1 / 4.2), without quotes.
 * :subdomain is the pattern regex's named capture (`pattern`), or for an
 * exact rule's entry of the host class `cls` ngx_subdomain. */
static void ngx_location(ngx_ctx *c, rc_buf *b, const rc_rule *r, int pattern, const char *cls)
{
	for (uint32_t t = 0; t < r->target.ntoks; t++) {
		const rd_ttok *tok = &r->target.toks[t];
		switch (tok->kind) {
		case RD_TTOK_LIT:
			ngx_text(c, b, r, tok->text, tok->len);
			break;
		case RD_TTOK_CAP_PATH:
			rc_buf_printf(b, "${redir_p%d}", tok->capture);
			break;
		case RD_TTOK_CAP_QUERY:
			rc_buf_printf(b, "${redir_q%d}", tok->capture);
			break;
		case RD_TTOK_SUBDOMAIN:
			if (pattern)
				rc_buf_adds(b, "${redir_sub}");
			else
				ngx_subdomain(c, b, r, cls);
			break;
		default:
			rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", r->loc,
			            "internal error: unknown target token kind %d", tok->kind);
			c->failed = 1;
			break;
		}
	}
	if (!r->query_drop)
		rc_buf_adds(b, r->target.has_query ? "${redir_qamp}" : "${redir_qa}");
	if (r->target.fragment)
		ngx_text(c, b, r, r->target.fragment, strlen(r->target.fragment));
}

static void put_comment(FILE *f, const char *prefix, const char *s)
{
	rc_buf b;
	rc_buf_init(&b);
	rc_comment_text(&b, s, strlen(s));
	fprintf(f, "%s%s\n", prefix, b.data);
	rc_buf_fini(&b);
}

/* `b` is the caller's scratch buffer, reused for every entry. */
static void write_map_entry(ngx_ctx *c, FILE *f, const rc_sv_entry *e, rc_buf *bp)
{
	rc_buf b = *bp;
	rc_buf_reset(&b);
	rc_buf_adds(&b, "    \"");
	size_t k0 = b.len;
	rc_ngx_quote(&b, e->key, e->len, RC_NGX_MAPKEY); /* keys are ASCII, never NUL */
	size_t key_tok = b.len - k0 + 2;
	rc_buf_adds(&b, "\" \"");
	size_t v0 = b.len;
	if (e->dash) {
		rc_buf_addc(&b, '-');
	} else if (e->rule->gone) {
		rc_buf_adds(&b, "410:");
	} else {
		rc_buf_printf(&b, "%d:", e->rule->status);
		ngx_location(c, &b, e->rule, 0, e->cls);
	}
	size_t val_tok = b.len - v0 + 2;
	rc_buf_adds(&b, "\";\n");
	if (e->rule && key_tok > NGX_TOKEN_MAX)
		too_long(c, e->rule, "map key", key_tok);
	else if (e->rule && val_tok > NGX_TOKEN_MAX)
		too_long(c, e->rule, "map value", val_tok);
	fwrite(b.data, 1, b.len, f);
	*bp = b;
}

static void class_entry(FILE *f, rc_buf *b, const char *host, const char *value)
{
	rc_buf_reset(b);
	rc_ngx_quote(b, host, strlen(host), RC_NGX_MAPKEY); /* a host name: ASCII */
	fprintf(f, "    \"%s\" \"%s\";\n", b->data, value);
}

/* Design section 3.1: the host class of the request (the host layer's keys
 * start with it): a host named by a host block (or `set hosts`) is looked up
 * in the map's hash, any other host tries the wildcard names' regexes,
 * longest name first; a host none admits is its own class, which no key of
 * the host layer starts with.  $redir_host is the canonical host, encP'd. */
static void write_classes(FILE *f, const rc_sv_layers *L)
{
	fputs("# wildcard host blocks: the host class, the first part of a host-layer key\n"
	      "map $redir_norm $redir_host { \"\" $redir_jhost; default $redir_nh; }\n"
	      "map $redir_host $redir_class {\n"
	      "    default $redir_host;\n", f);
	rc_buf b;
	rc_buf_init(&b);
	for (size_t i = 0; i < L->named.len; i++) {
		const char *h = *RC_VEC_AT(&L->named, const char *, i);
		class_entry(f, &b, h, h);
	}
	for (size_t i = 0; i < L->plain.len; i++) {
		const char *h = *RC_VEC_AT(&L->plain, const char *, i);
		class_entry(f, &b, h, h);
	}
	/* one regex (per chunk of names that fits a token): the lazy SUB makes
	 * the captured name the longest that admits the host */
	for (size_t from = 0, to; from < L->wild.len; from = to) {
		rc_buf_reset(&b);
		rc_buf_adds(&b, "~^");
		to = rc_sv_class_re(&b, L, from, NGX_TOKEN_MAX - 8);
		fprintf(f, "    \"%s$\" \"_.$2\";\n", b.data);
	}
	fputs("}\n# the host minus the \".NAME\" of its class (exact targets with :subdomain)\n"
	      "map $redir_host $redir_csub {\n"
	      "    default \"\";\n", f);
	for (size_t from = 0, to; from < L->wild.len; from = to) {
		rc_buf_reset(&b);
		rc_buf_adds(&b, "~^");
		to = rc_sv_class_re(&b, L, from, NGX_TOKEN_MAX - 8);
		fprintf(f, "    \"%s$\" $1;\n", b.data);
	}
	fputs("}\n", f);
	rc_buf_fini(&b);
}

/* Design section 12: a request whose raw path and query normalization and
 * encoding leave unchanged, with a plain Host, gets the variables of
 * section 2 from nginx's own regex and maps (the path is KEY, encP and encQ
 * of itself); any other request reads the helper's.  The named captures
 * are set when $redir_norm is evaluated, which every map below does first
 * (it is their source). */
static void write_normal_form(FILE *f, const rc_ir *ir, const rc_sv_layers *L)
{
	rc_buf re;
	rc_buf_init(&re);
	rc_buf_adds(&re, "~^");
	rc_sv_normal_path_re(&re, ir, "(?<redir_np>");
	rc_buf_adds(&re, "(?:\\?(?<redir_nq>");
	rc_sv_normal_query_re(&re);
	rc_buf_adds(&re, "))?\\|(?<redir_nh>[a-z0-9._\\x2D]+)\\|[^|]+$");
	fputs("# normal form: \"q\" + the raw query, or \"\" (then the helper's variables)\n"
	      "map \"$request_uri|$host|$http_host\" $redir_norm {\n"
	      "    default \"\";\n", f);
	fprintf(f, "    \"%s\" \"q$redir_nq\";\n}\n", re.data);
	fputs("map $redir_norm $redir_key  { \"\" $redir_jkey;  default $redir_np; }\n", f);
	if (L->wild.len)
		fputs("map $redir_norm $redir_hkey { \"\" $redir_class$redir_jkey; default $redir_class$redir_np; }\n", f);
	else
		fputs("map $redir_norm $redir_hkey { \"\" $redir_jhkey; default $redir_nh$redir_np; }\n", f);
	fputs("map $redir_norm $redir_s    { \"\" $redir_js;    default \"$redir_np $redir_np $redir_nh\"; }\n"
	      "map $redir_norm $redir_qa   { \"\" $redir_jqa;   q \"\"; default \"?$redir_nq\"; }\n"
	      "map $redir_norm $redir_qamp { \"\" $redir_jqamp; q \"\"; default \"&$redir_nq\"; }\n\n", f);
	if (L->wild.len)
		write_classes(f, L);
	rc_buf_fini(&re);
}

static void write_patterns(ngx_ctx *c, FILE *f, const rc_sv_groups *G);

static void write_http(ngx_ctx *c, FILE *f, const rc_sv_layers *L, const rc_sv_groups *G,
                       const char *js_path, const rc_emit_opts *opts, const rc_artifacts *out)
{
	const char *base = rc_sv_basename(out->base);
	fputs("# Generated by redirc " PACKAGE_VERSION " (target nginx); do not edit.\n", f);
	put_comment(f, "# Rules: ", opts->source_name ? opts->source_name : "?");
	fputs("#\n"
	      "# Include this file inside http {}, and the .server.conf file of the same\n"
	      "# BASE inside every server {} that serves the rules' hosts.\n"
	      "# Needs the njs module (Debian package libnginx-mod-http-js, njs >= 0.7.9;\n"
	      "# it runs only for a request that is not in normal form),\n"
	      "# loaded in the main context:  load_module modules/ngx_http_js_module.so;\n"
	      "# (Debian's stock nginx.conf loads it through modules-enabled/50-mod-http-js.conf.)\n", f);
	put_comment(f, "# It imports the njs helper ", base);
	fputs("# (the .js file of the same BASE) from the path below: deploy it there, or\n"
	      "# compile with --map-dir DIR to name its deployed directory.\n"
	      "# It sets map_hash_bucket_size and map_hash_max_size (http-wide, computed\n"
	      "# from the keys below): if nginx.conf sets them too, keep only the larger\n"
	      "# value of each (nginx rejects a duplicate directive).\n"
	      "# Names it takes: the variables $redir_* and the js module redir_js, so one\n"
	      "# redirc nginx artifact per http {}.\n\n", f);
	rc_buf b;
	rc_buf_init(&b);
	rc_ngx_quote(&b, js_path, strlen(js_path), 0);
	fprintf(f, "js_import redir_js from \"%s\";\n", b.data);
	rc_buf_fini(&b);
	fputs("# the helper's variables: njs runs only when one is read, that is only for\n"
	      "# a request that is not in normal form (below)\n"
	      "js_set $redir_jkey   redir_js.key;\n"
	      "js_set $redir_jhkey  redir_js.hkey;\n"
	      "js_set $redir_js     redir_js.subject;\n"
	      "js_set $redir_jqa    redir_js.qa;\n"
	      "js_set $redir_jqamp  redir_js.qamp;\n", f);
	if (L->wild.len)
		fputs("js_set $redir_jhost  redir_js.host;\n", f);
	fputs("geo $redir_dollar { default \"$\"; }\n\n", f);
	/* design section 7: a key of L bytes takes 8 + align8(L + 2) bytes of a
	 * bucket, plus the bucket's 8-byte terminator */
	size_t n = L->host.len > L->global.len ? L->host.len : L->global.len;
	size_t key_max = L->key_max;
	for (size_t i = 0; i < G->groups.len; i++) {
		const rc_sv_group *g = RC_VEC_AT(&G->groups, rc_sv_group, i);
		if (g->len > key_max)
			key_max = g->len;
	}
	if (G->groups.len > n)
		n = G->groups.len;
	if (L->wild.len && L->named.len + L->plain.len > n)
		n = L->named.len + L->plain.len; /* the host-class map */
	size_t bucket = pow2ceil(16 + align8(key_max + 2));
	if (bucket < 1024)
		bucket = 1024;
	size_t max = pow2ceil(n);
	if (max < 2048)
		max = 2048;
	if (bucket > NGX_BUCKET_MAX) {
		rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", RC_NOLOC,
		            "an nginx map key of %zu bytes needs map_hash_bucket_size %zu, expected at most %d",
		            key_max, bucket, NGX_BUCKET_MAX);
		c->failed = 1;
	}
	fprintf(f, "# %zu host-scoped and %zu global keys, the longest %zu bytes\n",
	        L->host.len, L->global.len, L->key_max);
	fprintf(f, "map_hash_bucket_size %zu;\nmap_hash_max_size %zu;\n\n", bucket, max);
	write_normal_form(f, c->ir, L);
	rc_buf_init(&b);
	if (L->host.len) {
		fputs("# host-scoped exact layer: key = host + key; \"-\" = no exact answer for this\n"
		      "# host (an earlier pattern rule takes the path)\n"
		      "map $redir_hkey $redir_exact {\n"
		      "    default $redir_gexact;\n", f);
		for (size_t i = 0; i < L->host.len; i++)
			write_map_entry(c, f, RC_VEC_AT(&L->host, rc_sv_entry, i), &b);
		fputs("}\n\n", f);
	}
	fprintf(f, "# global exact layer: value = STATUS:LOCATION%s\n"
	        "map $redir_key %s {\n"
	        "    default \"\";\n",
	        L->host.len ? "" : " (no host-scoped exact rule: the only layer)",
	        L->host.len ? "$redir_gexact" : "$redir_exact");
	for (size_t i = 0; i < L->global.len; i++)
		write_map_entry(c, f, RC_VEC_AT(&L->global, rc_sv_entry, i), &b);
	rc_buf_fini(&b);
	fputs("}\n", f);
	write_patterns(c, f, G);
}

/* One map over the subject with the regexes of `rules` in file order (the
 * first that matches answers: STATUS:LOCATION or 410:).  A rule's checks are
 * reported once, however many groups hold it. */
static void write_pattern_map(ngx_ctx *c, FILE *f, const char *var, const rc_vec *rules)
{
	const rc_ir *ir = c->ir;
	const char *op = (ir->policy & RD_POLICY_CASE_INSENSITIVE) ? "~*" : "~";
	rc_buf line, label;
	rc_buf_init(&line);
	rc_buf_init(&label);
	fprintf(f, "map $redir_s %s {\n    default \"\";\n", var);
	for (size_t i = 0; i < rules->len; i++) {
		const rc_rule *r = *RC_VEC_AT(rules, const rc_rule *, i);
		int report = !c->reported[r->index];
		c->reported[r->index] = 1;
		rc_buf_reset(&label);
		rc_sv_rule_label(&label, ir, r);
		put_comment(f, "    # ", label.data);
		int pg[RD_MAX_CAPTURES], qg[RD_MAX_CAPTURES];
		rc_buf_reset(&line);
		rc_buf_printf(&line, "    \"%s", op);
		size_t r0 = line.len;
		int sub;
		rc_sv_pattern_regex_sub(&line, ir, r, 1, pg, qg, &sub);
		if (report && line.len - r0 + 2 > NGX_TOKEN_MAX)
			too_long(c, r, "regex", line.len - r0 + 2);
		rc_buf_adds(&line, "\" \"");
		size_t l0 = line.len;
		if (r->gone) {
			rc_buf_adds(&line, "410:");
		} else {
			rc_buf_printf(&line, "%d:", r->status);
			ngx_location(c, &line, r, 1, NULL);
		}
		if (report && line.len - l0 + 2 > NGX_TOKEN_MAX)
			too_long(c, r, "map value", line.len - l0 + 2);
		rc_buf_adds(&line, "\";\n");
		fwrite(line.data, 1, line.len, f);
	}
	fputs("}\n", f);
	rc_buf_fini(&line);
	rc_buf_fini(&label);
}

/* Design section 13: the first path segment of the subject picks one map,
 * which holds only the patterns that can match it; only that map's regexes
 * run (map values are evaluated when chosen). */
static void write_patterns(ngx_ctx *c, FILE *f, const rc_sv_groups *G)
{
	if (!rc_sv_has_patterns(c->ir))
		return;
	fputs("\n# pattern rules, indexed by the first path segment: $redir_pat is the\n"
	      "# answer of the first pattern in file order that matches, tried among the\n"
	      "# patterns whose first segment is the request's and those whose first\n"
	      "# segment is not literal text (\"wildcard\")\n"
	      "map $redir_s $redir_seg {\n    default \"\";\n    \"~^/([^/ ]*)\" $1;\n}\n"
	      "map $redir_seg $redir_pat {\n    default $redir_pw;\n", f);
	rc_buf b;
	rc_buf_init(&b);
	for (size_t i = 0; i < G->groups.len; i++) {
		const rc_sv_group *g = RC_VEC_AT(&G->groups, rc_sv_group, i);
		rc_buf_reset(&b);
		rc_ngx_quote(&b, g->key, g->len, RC_NGX_MAPKEY); /* ASCII, never NUL */
		fprintf(f, "    \"%s\" $redir_pg%zu;\n", b.data, i);
	}
	rc_buf_fini(&b);
	fputs("}\n# wildcard patterns\n", f);
	write_pattern_map(c, f, "$redir_pw", &G->wild);
	char var[40];
	for (size_t i = 0; i < G->groups.len; i++) {
		const rc_sv_group *g = RC_VEC_AT(&G->groups, rc_sv_group, i);
		snprintf(var, sizeof var, "$redir_pg%zu", i);
		fprintf(f, "# first segment \"%.*s\"\n", (int)(g->len > 200 ? 200 : g->len), g->key);
		write_pattern_map(c, f, var, &g->rules);
	}
}

static void mark_statuses(const rc_vec *layer, int used[6], int *gone)
{
	static const int codes[5] = { 301, 302, 303, 307, 308 };
	for (size_t i = 0; i < layer->len; i++) {
		const rc_sv_entry *e = RC_VEC_AT(layer, rc_sv_entry, i);
		if (e->dash)
			continue;
		if (e->rule->gone) {
			*gone = 1;
			continue;
		}
		for (int k = 0; k < 5; k++)
			if (e->rule->status == codes[k])
				used[k] = 1;
	}
}

static void write_server(ngx_ctx *c, FILE *f, const rc_sv_layers *L, const rc_emit_opts *opts,
                         const rc_artifacts *out)
{
	const rc_ir *ir = c->ir;
	fputs("# Generated by redirc " PACKAGE_VERSION " (target nginx); do not edit.\n", f);
	put_comment(f, "# Rules: ", opts->source_name ? opts->source_name : "?");
	fputs("# Include inside every server {} that serves the rules' hosts; the .http.conf\n"
	      "# file of the same BASE must be included in http {} (see its header).\n", f);
	put_comment(f, "# BASE: ", rc_sv_basename(out->base));
	fputs("# The if blocks run in the server rewrite phase, before any location.\n\n", f);
	static const int codes[5] = { 301, 302, 303, 307, 308 };
	int used[6] = { 0 }, gone = 0;
	mark_statuses(&L->host, used, &gone);
	mark_statuses(&L->global, used, &gone);
	fputs("# exact rules: one line per status in use\n", f);
	for (int k = 0; k < 5; k++)
		if (used[k])
			fprintf(f, "if ($redir_exact ~ \"^%d:(?<redir_loc>.*)$\") { return %d $redir_loc; }\n",
			        codes[k], codes[k]);
	if (gone)
		fputs("if ($redir_exact = \"410:\") { return 410; }\n", f);
	if (rc_sv_has_patterns(ir)) {
		int pused[5] = { 0 }, pgone = 0;
		for (size_t i = 0; i < rc_ir_nrules(ir); i++) {
			const rc_rule *r = rc_ir_rule(ir, i);
			if (!r->is_pattern)
				continue;
			if (r->gone)
				pgone = 1;
			for (int k = 0; k < 5; k++)
				if (!r->gone && r->status == codes[k])
					pused[k] = 1;
		}
		fputs("\n# pattern rules: $redir_pat is the answer of the first pattern in file\n"
		      "# order that matches, among those that can (the .http.conf's index)\n", f);
		for (int k = 0; k < 5; k++)
			if (pused[k])
				fprintf(f, "if ($redir_pat ~ \"^%d:(?<redir_loc>.*)$\") { return %d $redir_loc; }\n",
				        codes[k], codes[k]);
		if (pgone)
			fputs("if ($redir_pat = \"410:\") { return 410; }\n", f);
	}
}

static void write_js(FILE *f, const rc_ir *ir, const rc_emit_opts *opts)
{
	const char *src = opts->source_name ? opts->source_name : "";
	rc_buf b;
	rc_buf_init(&b);
	rc_js_string(&b, src, strlen(src));
	fputs("// redirc runtime helper for nginx (njs >= 0.7.9, Debian: libnginx-mod-http-js).\n"
	      "// Generated by redirc " PACKAGE_VERSION " (target nginx); do not edit.  The .http.conf\n"
	      "// of the same BASE imports it by absolute path (js_import).  It computes\n"
	      "// ASCII-only variables from the raw request line; the rules themselves live\n"
	      "// in the nginx map / if blocks of the .http.conf / .server.conf.\n", f);
	fprintf(f, "var REDIRC_SOURCE = %s;   // the rule file\n", b.data);
	fprintf(f, "var CASE_INSENSITIVE = %s;        // set case sensitive|insensitive\n",
	        (ir->policy & RD_POLICY_CASE_INSENSITIVE) ? "true" : "false");
	fprintf(f, "var TRAILING_SLASH_IGNORE = %s;    // set trailing-slash ignore|strict\n\n",
	        (ir->policy & RD_POLICY_TRAILING_STRICT) ? "false" : "true");
	fputs(rc_sv_njs_fixed, f);
	rc_buf_fini(&b);
}

static int emit_nginx(const rc_ir *ir, const rc_emit_opts *opts, rc_artifacts *out)
{
	ngx_ctx c = { ir, 0, NULL };
	char *js_path;
	if (opts->map_dir) {
		rc_buf b;
		rc_buf_init(&b);
		rc_buf_printf(&b, "%s%s%s.js", opts->map_dir,
		              opts->map_dir[0] && opts->map_dir[strlen(opts->map_dir) - 1] == '/' ? "" : "/",
		              rc_sv_basename(out->base));
		js_path = b.data;
	} else {
		js_path = rc_artifacts_final_path(out, ".js");
	}
	FILE *http = rc_artifacts_open(out, ".http.conf");
	FILE *server = http ? rc_artifacts_open(out, ".server.conf") : NULL;
	FILE *js = server ? rc_artifacts_open(out, ".js") : NULL;
	if (!js) {
		free(js_path);
		return -1;
	}
	rc_sv_cache own = { 0 };
	const rc_sv_layers *L = rc_sv_cache_layers(opts->sv_cache ? opts->sv_cache : &own, ir);
	rc_sv_groups G;
	rc_sv_groups_build(ir, 1, &G);
	c.reported = rc_xmalloc(rc_ir_nrules(ir) + 1);
	memset(c.reported, 0, rc_ir_nrules(ir) + 1);
	write_http(&c, http, L, &G, js_path, opts, out);
	write_server(&c, server, L, opts, out);
	write_js(js, ir, opts);
	free(c.reported);
	rc_sv_groups_fini(&G);
	rc_sv_cache_fini(&own);
	free(js_path);
	return c.failed ? -1 : 0;
}

const rc_backend rc_backend_nginx = {
	"nginx",
	"nginx configuration: BASE.http.conf (http{}), BASE.server.conf (server{}), BASE.js (njs)",
	emit_nginx,
	1, /* uses the server layers */
};
