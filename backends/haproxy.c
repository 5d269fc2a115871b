/*
 * haproxy.c - the `haproxy` target (doc/backend-design.md section 12).
 *
 * Artifacts (HAProxy 2.6, Debian 12, built with Lua 5.3):
 *   BASE.global.cfg    a `global` section that loads the helper (lua-load);
 *                      give it to haproxy with one more -f
 *   BASE.frontend.cfg  the http-request lines for a `frontend` (paste them,
 *                      or generate the frontend around them); they do not
 *                      depend on the rules, only on the artifacts' paths
 *   BASE.lua           the helper (backends/helpers/haproxy.lua after two
 *                      setting lines): raw request -> KEY, HKEY, subject S,
 *                      query suffixes (design section 2)
 *   BASE.map           the exact layers of servers.c (map_str), host layer
 *                      and global layer in one file
 *   BASE.patterns.map  the pattern rules in file order (map_regm: the first
 *                      regex that matches the subject wins, its value's
 *                      \N are the captures, already encoded by the subject)
 *   BASE.classes.map   wildcard host blocks (design section 16.7): the
 *                      host-class regexes (map_regm, value "_.W"), empty
 *                      without wildcard names
 *   BASE.subdomain.map the exact rules whose target uses :subdomain, for a
 *                      wildcard class: "sN:" + HOST -> the value with the
 *                      subdomain as \1 (map_regm), empty when none
 *   BASE.map-update    only when BASE.map existed before this compile: the
 *                      runtime-API commands that turn the deployed maps into
 *                      the new ones without a reload
 * A value is "STATUS|MODE|PATH?QUERY|#FRAGMENT" (MODE a: append "?" + the
 * raw query, m: append "&" + it, d: drop it), "410", "-" (host layer: no
 * exact answer for this host, the patterns decide), "sN:" (host layer of a
 * wildcard class: rule N's answer, whose :subdomain BASE.subdomain.map
 * fills in) or, in the exact map, "+" (a named host that a wildcard name
 * admits: it is its own class).
 */
#include "backends/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/edge_quote.h"
#include "backends/quote.h"
#include "backends/servers.h"

/* backends/helpers/haproxy.lua, embedded by mk/targets.am */
extern const char rc_haproxy_lua_fixed[];

/* HAProxy reads a map file line into its trash buffer (tune.bufsize, 16384
 * by default): a longer line is cut and its key never matches. */
#define HAP_LINE_MAX 16000

typedef struct hap_ctx {
	const rc_ir *ir;
	int failed;
} hap_ctx;

static const char *rule_name(hap_ctx *c, const rc_rule *r)
{
	return rc_quote((rc_arena *)&c->ir->arena, r->source_text, strlen(r->source_text), 60);
}

static void bad_part(hap_ctx *c, const rc_rule *r)
{
	rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", r->loc,
	            "rule '%s': its target holds a byte a HAProxy map value cannot carry "
	            "(space, '|', '\\' or a control byte)", rule_name(c, r));
	c->failed = 1;
}

/* The subdomain of an exact rule's target for the named host `cls` (a
 * constant, rd_host_subdomain; bytes [a-z0-9_.-]). */
static void const_subdomain(hap_ctx *c, rc_buf *b, const rc_rule *r, const char *cls)
{
	size_t n = rc_sv_class_subdomain(c->ir, r, cls);
	if (n == 0) {
		c->failed = 1;
		return;
	}
	if (rc_hap_value_part(b, cls, n) != 0)
		bad_part(c, r);
}

/* "STATUS|MODE|" + target template + "|" + fragment.  pg/qg: the group
 * numbers of the captures (pattern rules), NULL for an exact rule.  The
 * :subdomain of the target is the group `sg` (a pattern rule, or an exact
 * rule's BASE.subdomain.map entry) or, with sg 0, the constant of the named
 * host `cls` (an exact rule's entry for that host). */
static void rule_value(hap_ctx *c, rc_buf *b, const rc_rule *r, const int *pg, const int *qg,
                       int sg, const char *cls)
{
	if (r->gone) {
		rc_buf_adds(b, "410");
		return;
	}
	rc_buf_printf(b, "%d|%c|", r->status,
	              r->query_drop ? 'd' : r->target.has_query ? 'm' : 'a');
	for (uint32_t t = 0; t < r->target.ntoks; t++) {
		const rd_ttok *tok = &r->target.toks[t];
		int g = 0;
		switch (tok->kind) {
		case RD_TTOK_LIT:
			/* targets reach here percent-encoded: a guard, reported */
			if (rc_hap_value_part(b, tok->text, tok->len) != 0)
				bad_part(c, r);
			continue;
		case RD_TTOK_CAP_PATH:
			g = pg ? pg[tok->capture] : 0;
			break;
		case RD_TTOK_CAP_QUERY:
			g = qg ? qg[tok->capture] : 0;
			break;
		case RD_TTOK_SUBDOMAIN:
			if (!sg) {
				const_subdomain(c, b, r, cls);
				continue;
			}
			g = sg;
			break;
		default:
			break;
		}
		if (g < 1 || g > 9) {
			rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", r->loc,
			            "internal error: rule '%s' has a capture without a regex group",
			            rule_name(c, r));
			c->failed = 1;
			continue;
		}
		rc_buf_printf(b, "\\%d", g);
	}
	rc_buf_addc(b, '|');
	if (r->target.fragment) {
		if (rc_hap_value_part(b, r->target.fragment, strlen(r->target.fragment)) != 0)
			bad_part(c, r);
	}
}

/* A map file line "KEY VALUE\n"; a line HAProxy would cut is an error. */
static void map_line(hap_ctx *c, rc_buf *out, const rc_rule *r, const char *key, size_t klen,
                     const char *val, size_t vlen)
{
	if (klen + vlen + 2 > HAP_LINE_MAX && r) {
		rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", r->loc,
		            "rule '%s' needs a HAProxy map line of %zu bytes, expected at most %d: "
		            "HAProxy reads a map line into its %d-byte buffer (tune.bufsize)",
		            rule_name(c, r), klen + vlen + 2, HAP_LINE_MAX, 16384);
		c->failed = 1;
	}
	rc_buf_add(out, key, klen);
	rc_buf_addc(out, ' ');
	rc_buf_add(out, val, vlen);
	rc_buf_addc(out, '\n');
}

/* Whether an exact entry answers through BASE.subdomain.map: a target
 * with :subdomain for a wildcard class "_.W" (the subdomain depends on the
 * request's host, which a map_str value cannot hold). */
static int via_subdomain_map(const rc_sv_entry *e)
{
	return !e->dash && !e->rule->gone && e->rule->target.uses_subdomain && e->cls &&
	       e->cls[0] == '_';
}

/* BASE.map: the host layer (class + KEY), the global layer (KEY) and a
 * line "HOST +" per named host that a wildcard name admits (its own class;
 * no layer key is a bare host).  sub[i] is set for every rule i that an
 * entry "sN:" names. */
static void build_exact_map(hap_ctx *c, rc_buf *out, const rc_sv_layers *L, char *sub)
{
	rc_buf v;
	rc_buf_init(&v);
	const rc_vec *layers[2] = { &L->host, &L->global };
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < layers[k]->len; i++) {
			const rc_sv_entry *e = RC_VEC_AT(layers[k], rc_sv_entry, i);
			rc_buf_reset(&v);
			if (e->dash) {
				rc_buf_addc(&v, '-');
			} else if (via_subdomain_map(e)) {
				rc_buf_printf(&v, "s%u:", e->rule->index);
				sub[e->rule->index] = 1;
			} else {
				rule_value(c, &v, e->rule, NULL, NULL, 0, e->cls);
			}
			map_line(c, out, e->rule, e->key, e->len, v.data, v.len);
		}
	}
	for (size_t i = 0; i < L->named_wild.len; i++) {
		const char *h = *RC_VEC_AT(&L->named_wild, const char *, i);
		rc_buf_reset(&v);
		rc_sv_enc(&v, h, strlen(h), 0, 0);
		map_line(c, out, NULL, v.data, v.len, "+", 1);
	}
	rc_buf_fini(&v);
}

/* BASE.classes.map (design section 3.1): the host-class regexes over the
 * encP'd canonical host, longest names first, in chunks that fit a map
 * line; map_regm's first match holds the longest name admitting the host,
 * and the value "_.\2" is its class. */
static void build_classes(hap_ctx *c, rc_buf *out, const rc_sv_layers *L)
{
	rc_buf key;
	rc_buf_init(&key);
	for (size_t from = 0, to; from < L->wild.len; from = to) {
		rc_buf_reset(&key);
		rc_buf_addc(&key, '^');
		to = rc_sv_class_re(&key, L, from, HAP_LINE_MAX - 16);
		rc_buf_addc(&key, '$');
		map_line(c, out, NULL, key.data, key.len, "_.\\2", 4);
	}
	rc_buf_fini(&key);
}

/* BASE.subdomain.map: for each exact rule i with sub[i], the regex of
 * "si:" + the encP'd canonical host, the host being one its block admits,
 * whose group 1 is the subdomain under the longest admitting name of the
 * block (rd_host_subdomain); the value is the rule's with \1 for it. */
static void build_subdomain_map(hap_ctx *c, rc_buf *out, const char *sub)
{
	const rc_ir *ir = c->ir;
	rc_buf key, v;
	rc_buf_init(&key);
	rc_buf_init(&v);
	for (size_t i = 0; i < rc_ir_nrules(ir); i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (!sub[r->index])
			continue;
		rc_buf_reset(&key);
		rc_buf_printf(&key, "^s%u:", r->index);
		rc_sv_subdomain_re(&key, ir, r, "(");
		rc_buf_addc(&key, '$');
		rc_buf_reset(&v);
		rule_value(c, &v, r, NULL, NULL, 1, NULL);
		map_line(c, out, r, key.data, key.len, v.data, v.len);
	}
	rc_buf_fini(&key);
	rc_buf_fini(&v);
}

/* Under `set splat-parent no-match`, a source ending in slash-splat must
 * not match its bare parent, which the pattern regex's optional "(?:/…)?"
 * admits: a lookahead "(?!PARENT\x20)" refuses a subject whose encoded
 * path is the parent (the source up to that last '/', placeholders as
 * "[^/\x20]+"; the map key is one word, so no raw space).  Nothing for
 * another rule.  (Redundant, and still right, if the regex itself stops
 * admitting the parent.) */
static void splat_parent_guard(rc_buf *b, const rc_ir *ir, const rc_rule *r)
{
	if (!(ir->policy & RD_POLICY_SPLAT_NO_PARENT) || r->nsrc < 2)
		return;
	const rd_ptok *last = &r->src[r->nsrc - 1], *lit = &r->src[r->nsrc - 2];
	if (last->kind != RD_PTOK_SPLAT || lit->kind != RD_PTOK_LIT || lit->len == 0 ||
	    lit->text[lit->len - 1] != '/')
		return;
	rc_buf enc;
	rc_buf_init(&enc);
	rc_buf_adds(b, "(?!");
	for (uint32_t t = 0; t + 1 < r->nsrc; t++) {
		const rd_ptok *tok = &r->src[t];
		if (tok->kind == RD_PTOK_LIT) {
			rc_buf_reset(&enc);
			rc_sv_enc(&enc, tok->text, t + 2 == r->nsrc ? tok->len - 1 : tok->len, 0, 0);
			rc_regex_lit(b, enc.data, enc.len);
		} else {
			rc_buf_adds(b, tok->kind == RD_PTOK_PARAM ? "[^/\\x20]+" : "[^\\x20]*");
		}
	}
	rc_buf_adds(b, "\\x20)");
	rc_buf_fini(&enc);
}

static void build_pattern_map(hap_ctx *c, rc_buf *out)
{
	const rc_ir *ir = c->ir;
	rc_buf re, key, v;
	rc_buf_init(&re);
	rc_buf_init(&key);
	rc_buf_init(&v);
	for (size_t i = 0; i < rc_ir_nrules(ir); i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (!r->is_pattern)
			continue;
		int pg[RD_MAX_CAPTURES], qg[RD_MAX_CAPTURES], sg;
		rc_buf_reset(&re);
		int ngroups = rc_sv_pattern_regex_sub(&re, ir, r, 0, pg, qg, &sg);
		if (ngroups > 9) {
			rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", r->loc,
			            "rule '%s' needs %d regex captures, expected at most 9: HAProxy's "
			            "map_regm has only \\1 to \\9 (each placeholder counts once per "
			            "context, path or query, that the target uses it in, and :subdomain "
			            "once)",
			            rule_name(c, r), ngroups);
			c->failed = 1;
			continue;
		}
		/* the key is one word: the subject's separators become \x20 */
		rc_buf_reset(&key);
		if (ir->policy & RD_POLICY_CASE_INSENSITIVE)
			rc_buf_adds(&key, "(?i)");
		size_t j = 0;
		if (re.len > 0 && re.data[0] == '^') {
			rc_buf_addc(&key, '^');
			splat_parent_guard(&key, ir, r);
			j = 1;
		}
		for (; j < re.len; j++) {
			if (re.data[j] == ' ')
				rc_buf_adds(&key, "\\x20");
			else
				rc_buf_addc(&key, re.data[j]);
		}
		rc_buf_reset(&v);
		rule_value(c, &v, r, pg, qg, sg, NULL);
		map_line(c, out, r, key.data, key.len, v.data, v.len);
	}
	rc_buf_fini(&re);
	rc_buf_fini(&key);
	rc_buf_fini(&v);
}

static char *deployed_path(const rc_emit_opts *opts, const rc_artifacts *out, const char *suffix)
{
	if (!opts->map_dir)
		return rc_artifacts_final_path(out, suffix);
	rc_buf b;
	rc_buf_init(&b);
	size_t n = strlen(opts->map_dir);
	rc_buf_printf(&b, "%s%s%s%s", opts->map_dir, n && opts->map_dir[n - 1] == '/' ? "" : "/",
	              rc_sv_basename(out->base), suffix);
	return b.data;
}

static void put_comment(rc_buf *b, const char *prefix, const char *s)
{
	rc_buf_adds(b, prefix);
	rc_comment_text(b, s, strlen(s));
	rc_buf_addc(b, '\n');
}

static void build_global(rc_buf *b, const rc_emit_opts *opts, const char *lua_path)
{
	rc_buf_adds(b, "# Generated by redirc " PACKAGE_VERSION " (target haproxy); do not edit.\n");
	put_comment(b, "# Rules: ", opts->source_name ? opts->source_name : "?");
	rc_buf_adds(b, "# A global section that loads the redirc helper (HAProxy >= 2.6 built with\n"
	               "# Lua 5.3: Debian 12's haproxy package).  Give it to haproxy as one more\n"
	               "# configuration file, before the one whose frontend uses the helper:\n"
	               "#   haproxy -f BASE.global.cfg -f haproxy.cfg\n"
	               "# (HAProxy merges several global sections), or copy the lua-load line.\n"
	               "global\n");
	rc_buf_printf(b, "    lua-load %s\n", lua_path);
}

static void build_frontend(rc_buf *b, const rc_emit_opts *opts, const char *map_path,
                           const char *pat_path, const char *cls_path, const char *sub_path)
{
	rc_buf_adds(b, "# Generated by redirc " PACKAGE_VERSION " (target haproxy); do not edit.\n");
	put_comment(b, "# Rules: ", opts->source_name ? opts->source_name : "?");
	rc_buf_adds(b,
	    "# Put these lines in the `frontend` (mode http) that serves the rules' hosts,\n"
	    "# before its other http-request rules; the helper must be loaded (the\n"
	    "# .global.cfg file of the same BASE).  They do not depend on the rules: a new\n"
	    "# rule set changes only the map files, which the runtime API can update\n"
	    "# without a reload (the .map-update file).  Names they take: the variables\n"
	    "# txn.redir_* and the Lua action redir_prepare.\n"
	    "#\n"
	    "# What runs where (doc/backend-design.md section 12): the Lua helper\n"
	    "# normalizes the raw request target (spec section 3) and computes the\n"
	    "# ASCII-only key, host key, subject and query suffixes, because no HAProxy\n"
	    "# converter decodes, merges, removes dot segments and percent-encodes with\n"
	    "# the spec's byte classes; the lookups (map_str: exact, map_regm: patterns\n"
	    "# in file order with their captures), the Location and the status are\n"
	    "# HAProxy's own.\n"
	    "http-request lua.redir_prepare\n");
	rc_buf_printf(b,
	    "# wildcard host blocks (the classes map is empty without them): a host that a\n"
	    "# wildcard name admits and no host block names has the class \"_.W\", W the\n"
	    "# longest such name, which starts its host key instead of the host\n"
	    "http-request set-var(txn.redir_c) var(txn.redir_host),map_regm(%s) if { var(txn.redir_key) -m found } { var(txn.redir_host) -m found }\n"
	    "http-request unset-var(txn.redir_c) if { var(txn.redir_c) -m found } { var(txn.redir_host),map_str(%s) -m str + }\n"
	    "http-request set-var(txn.redir_hkey) var(txn.redir_c),concat(,txn.redir_key) if { var(txn.redir_c) -m found }\n",
	    cls_path, map_path);
	rc_buf_printf(b,
	    "# exact rules: the host layer, then the global layer; \"-\" = no exact answer\n"
	    "# for this host, the patterns decide\n"
	    "http-request set-var(txn.redir_x) var(txn.redir_hkey),map_str(%s) if { var(txn.redir_hkey) -m found }\n"
	    "http-request set-var(txn.redir_x) var(txn.redir_key),map_str(%s) if !{ var(txn.redir_x) -m found } { var(txn.redir_key) -m found }\n"
	    "http-request unset-var(txn.redir_x) if { var(txn.redir_x) -m str -- - }\n"
	    "# \"sN:\" = exact rule N, whose target's :subdomain depends on the host: its\n"
	    "# answer is looked up with the host\n"
	    "http-request set-var(txn.redir_x) var(txn.redir_x),concat(,txn.redir_host),map_regm(%s) if { var(txn.redir_x) -m beg s }\n"
	    "# pattern rules, first match in file order\n"
	    "http-request set-var(txn.redir_x) var(txn.redir_s),map_regm(%s) if !{ var(txn.redir_x) -m found } { var(txn.redir_s) -m found }\n",
	    map_path, map_path, sub_path, pat_path);
	rc_buf_adds(b,
	    "# the answer: STATUS|MODE|PATH?QUERY|#FRAGMENT, MODE a/m/d = append \"?\" + query,\n"
	    "# append \"&\" + query, drop the query\n"
	    "http-request set-var(txn.redir_j) var(txn.redir_qa) if { var(txn.redir_x),field(2,|) -m str a } { var(txn.redir_qa) -m found }\n"
	    "http-request set-var(txn.redir_j) var(txn.redir_qamp) if { var(txn.redir_x),field(2,|) -m str m } { var(txn.redir_qamp) -m found }\n");
	static const int codes[5] = { 301, 302, 303, 307, 308 };
	for (int k = 0; k < 5; k++)
		rc_buf_printf(b,
		    "http-request redirect location %%[var(txn.redir_x),field(3,|)]%%[var(txn.redir_j)]"
		    "%%[var(txn.redir_x),field(4,|)] code %d if { var(txn.redir_x),field(1,|) -m str %d }\n",
		    codes[k], codes[k]);
	rc_buf_adds(b, "http-request return status 410 if { var(txn.redir_x) -m str 410 }\n");
}

static void build_lua(rc_buf *b, const rc_ir *ir, const rc_emit_opts *opts)
{
	rc_buf_adds(b, "-- redirc runtime helper for HAProxy (>= 2.6, Lua 5.3).\n"
	               "-- Generated by redirc " PACKAGE_VERSION " (target haproxy); do not edit.\n");
	put_comment(b, "-- Rules: ", opts->source_name ? opts->source_name : "?");
	rc_buf_printf(b, "CASE_INSENSITIVE = %s        -- set case sensitive|insensitive\n",
	              (ir->policy & RD_POLICY_CASE_INSENSITIVE) ? "true" : "false");
	rc_buf_printf(b, "TRAILING_SLASH_IGNORE = %s    -- set trailing-slash ignore|strict\n\n",
	              (ir->policy & RD_POLICY_TRAILING_STRICT) ? "false" : "true");
	rc_buf_adds(b, rc_haproxy_lua_fixed);
}

/* ---- the runtime-API update ------------------------------------------- */

typedef struct map_ent {
	char *key;
	char *val;
} map_ent;

/* The lines of a map file we wrote ("KEY VALUE", '#' comments skipped).
 * Returns 0, or -1 when the file does not exist (errno ENOENT) or cannot
 * be read. */
static int read_map(const char *path, rc_vec *ents, char **text)
{
	*text = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	rc_buf b;
	rc_buf_init(&b);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc_buf_add(&b, chunk, n);
	int err = ferror(f);
	fclose(f);
	if (err) {
		rc_buf_fini(&b);
		return -1;
	}
	rc_buf_addc(&b, '\0');
	*text = b.data;
	char *s = b.data;
	while (*s) {
		char *eol = strchr(s, '\n');
		if (eol)
			*eol = '\0';
		if (*s && *s != '#') {
			char *sp = strchr(s, ' ');
			map_ent *e = rc_vec_push(ents);
			e->key = s;
			e->val = sp ? sp + 1 : s + strlen(s);
			if (sp)
				*sp = '\0';
		}
		if (!eol)
			break;
		s = eol + 1;
	}
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	return strcmp(((const map_ent *)a)->key, ((const map_ent *)b)->key);
}

/* One runtime-API command "VERB MAP KEY [VALUE]"; keys and values we
 * wrote hold no space (rc_hap_cli_arg refuses it: *bad is set). */
static void cli_cmd(rc_buf *b, const char *verb, const char *map, const char *key, const char *val,
                    int *bad)
{
	rc_buf_adds(b, verb);
	const char *args[3] = { map, key, val };
	for (int i = 0; i < 3 && args[i]; i++) {
		rc_buf_addc(b, ' ');
		if (rc_hap_cli_arg(b, args[i], strlen(args[i])) != 0)
			*bad = 1;
	}
	rc_buf_addc(b, '\n');
}

/* Exact map: order does not matter (a tree).  Adds and changes first, then
 * deletions. */
static void update_exact(rc_buf *cmds, const char *map, rc_vec *old, rc_vec *neu, int *bad)
{
	if (old->len > 1)
		rc_sort(old->items, old->len, sizeof(map_ent), ent_cmp);
	if (neu->len > 1)
		rc_sort(neu->items, neu->len, sizeof(map_ent), ent_cmp);
	size_t i = 0, j = 0;
	while (j < neu->len) {
		const map_ent *n = RC_VEC_AT(neu, map_ent, j);
		int c = i < old->len ? strcmp(RC_VEC_AT(old, map_ent, i)->key, n->key) : 1;
		if (c < 0) {
			i++;
		} else if (c == 0) {
			if (strcmp(RC_VEC_AT(old, map_ent, i)->val, n->val) != 0)
				cli_cmd(cmds, "set map", map, n->key, n->val, bad);
			i++;
			j++;
		} else {
			cli_cmd(cmds, "add map", map, n->key, n->val, bad);
			j++;
		}
	}
	for (i = 0, j = 0; i < old->len; i++) {
		const map_ent *o = RC_VEC_AT(old, map_ent, i);
		while (j < neu->len && strcmp(RC_VEC_AT(neu, map_ent, j)->key, o->key) < 0)
			j++;
		if (j >= neu->len || strcmp(RC_VEC_AT(neu, map_ent, j)->key, o->key) != 0)
			cli_cmd(cmds, "del map", map, o->key, NULL, bad);
	}
}

static int ent_in(const rc_vec *v, const map_ent *e, int with_value)
{
	for (size_t i = 0; i < v->len; i++) {
		const map_ent *x = RC_VEC_AT(v, map_ent, i);
		if (strcmp(x->key, e->key) == 0 && (!with_value || strcmp(x->val, e->val) == 0))
			return 1;
	}
	return 0;
}

/* Pattern map: order matters (first match).  `add map` appends, `del map`
 * removes every entry of a key: the update is exact when the new list is
 * the old one with entries removed and entries appended.  Otherwise the
 * map is cleared and refilled (returns 1: not atomic). */
static int update_patterns(rc_buf *cmds, const char *map, const rc_vec *old, const rc_vec *neu,
                           int *bad)
{
	size_t kept = 0;
	int ok = 1;
	for (size_t i = 0; i < old->len && ok; i++) {
		const map_ent *o = RC_VEC_AT(old, map_ent, i);
		if (!ent_in(neu, o, 1))
			continue;
		const map_ent *n = kept < neu->len ? RC_VEC_AT(neu, map_ent, kept) : NULL;
		if (!n || strcmp(n->key, o->key) != 0 || strcmp(n->val, o->val) != 0)
			ok = 0;
		kept++;
	}
	for (size_t j = kept; j < neu->len && ok; j++)
		if (ent_in(old, RC_VEC_AT(neu, map_ent, j), 0))
			ok = 0; /* a key re-added at the end must first go */
	if (ok) {
		for (size_t i = 0; i < old->len; i++) {
			const map_ent *o = RC_VEC_AT(old, map_ent, i);
			if (!ent_in(neu, o, 1))
				cli_cmd(cmds, "del map", map, o->key, NULL, bad);
		}
		for (size_t j = kept; j < neu->len; j++) {
			const map_ent *n = RC_VEC_AT(neu, map_ent, j);
			cli_cmd(cmds, "add map", map, n->key, n->val, bad);
		}
		return 0;
	}
	rc_buf_adds(cmds, "clear map ");
	if (rc_hap_cli_arg(cmds, map, strlen(map)) != 0)
		*bad = 1;
	rc_buf_addc(cmds, '\n');
	for (size_t j = 0; j < neu->len; j++) {
		const map_ent *n = RC_VEC_AT(neu, map_ent, j);
		cli_cmd(cmds, "add map", map, n->key, n->val, bad);
	}
	return 1;
}

/* Split a map text we just built into entries (in place). */
static void parse_built(char *text, rc_vec *ents)
{
	char *s = text;
	while (*s) {
		char *eol = strchr(s, '\n');
		*eol = '\0';
		char *sp = strchr(s, ' ');
		*sp = '\0';
		map_ent *e = rc_vec_push(ents);
		e->key = s;
		e->val = sp + 1;
		s = eol + 1;
	}
}

/* Is the file at `path` exactly the bytes of `b`? (0 when it cannot be read) */
static int same_file(const char *path, const rc_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	rc_buf got;
	rc_buf_init(&got);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc_buf_add(&got, chunk, n);
	int same = !ferror(f) && got.len == b->len && (b->len == 0 || memcmp(got.data, b->data, b->len) == 0);
	fclose(f);
	rc_buf_fini(&got);
	return same;
}

/* One map artifact for the runtime-API update. */
typedef struct hap_map {
	const char *suffix;   /* ".map", ... */
	const char *ref;      /* its name in the frontend lines */
	const rc_buf *text;   /* the new content */
	int ordered;          /* a map_regm list whose order matters */
	const char *reorder;  /* the warning when the update must refill it */
} hap_map;

/* BASE.map-update, when the previous BASE.map exists: the commands for
 * each map in the order of `maps` (a previous map other than BASE.map
 * that does not exist counts as empty). */
static int write_update(hap_ctx *c, rc_artifacts *out, const hap_map *maps, size_t nmaps,
                        const rc_buf *lua, const rc_buf *frontend)
{
	char *old_lua = rc_artifacts_final_path(out, ".lua");
	char *old_fe = rc_artifacts_final_path(out, ".frontend.cfg");
	char *old_map = rc_artifacts_final_path(out, ".map");
	FILE *probe = fopen(old_map, "rb");
	int missing = !probe && errno == ENOENT;
	if (probe)
		fclose(probe);
	free(old_map);
	if (missing) {
		free(old_lua);
		free(old_fe);
		return 0; /* no previous map: nothing to update */
	}
	rc_buf cmds;
	rc_buf_init(&cmds);
	int st = 0, bad = 0;
	const char *bad_path = NULL;
	for (size_t m = 0; m < nmaps && st == 0; m++) {
		char *old_path = rc_artifacts_final_path(out, maps[m].suffix);
		rc_vec oe, ne;
		rc_vec_init(&oe, sizeof(map_ent));
		rc_vec_init(&ne, sizeof(map_ent));
		char *t_old = NULL;
		if (read_map(old_path, &oe, &t_old) != 0 && errno != ENOENT) {
			rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", RC_NOLOC,
			            "cannot read the previous map '%s' for the runtime-API update: %s "
			            "(a retry may help if the file is being replaced)",
			            rc_quote((rc_arena *)&c->ir->arena, old_path, strlen(old_path), 200),
			            strerror(errno));
			st = -1;
		}
		if (st == 0) {
			const rc_buf *t = maps[m].text;
			char *t_new = rc_xmalloc(t->len + 1);
			memcpy(t_new, t->data ? t->data : "", t->len);
			t_new[t->len] = '\0';
			parse_built(t_new, &ne);
			int was_bad = bad;
			if (!maps[m].ordered)
				update_exact(&cmds, maps[m].ref, &oe, &ne, &bad);
			else if (update_patterns(&cmds, maps[m].ref, &oe, &ne, &bad))
				rc_diag_add(c->ir->diags, RC_SEV_WARNING, "backend", RC_NOLOC, "%s",
				            maps[m].reorder);
			if (bad && !was_bad)
				bad_path = rc_quote((rc_arena *)&c->ir->arena, old_path, strlen(old_path), 200);
			free(t_new);
		}
		free(t_old);
		rc_vec_fini(&oe);
		rc_vec_fini(&ne);
		free(old_path);
	}
	if (st == 0) {
		if (!same_file(old_lua, lua) || !same_file(old_fe, frontend))
			rc_diag_add(c->ir->diags, RC_SEV_WARNING, "backend", RC_NOLOC,
			            "the helper or the frontend lines changed (a setting, or the artifacts' "
			            "paths): the runtime-API update is not enough, reload HAProxy");
		if (bad) {
			rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", RC_NOLOC,
			            "the previous map '%s' holds an entry the runtime API cannot carry (an "
			            "empty key, a space or a control byte): it was not written by redirc; "
			            "reload instead", bad_path);
			st = -1;
		}
		FILE *f = st == 0 ? rc_artifacts_open(out, ".map-update") : NULL;
		if (f)
			fwrite(cmds.data ? cmds.data : "", 1, cmds.len, f);
		else if (st == 0)
			st = -1;
	}
	rc_buf_fini(&cmds);
	free(old_lua);
	free(old_fe);
	return st;
}

static int write_buf(rc_artifacts *out, const char *suffix, const rc_buf *b)
{
	FILE *f = rc_artifacts_open(out, suffix);
	if (!f)
		return -1;
	fwrite(b->data ? b->data : "", 1, b->len, f);
	return 0;
}

static int emit_haproxy(const rc_ir *ir, const rc_emit_opts *opts, rc_artifacts *out)
{
	hap_ctx c = { ir, 0 };
	static const char *const suffixes[5] = { ".map", ".patterns.map", ".classes.map",
	                                         ".subdomain.map", ".lua" };
	char *paths[5];
	for (int i = 0; i < 5; i++)
		paths[i] = deployed_path(opts, out, suffixes[i]);
	for (int i = 0; i < 5; i++) {
		rc_buf pb;
		rc_buf_init(&pb);
		int bad = rc_hap_path(&pb, paths[i], strlen(paths[i])) != 0;
		rc_buf_fini(&pb);
		if (bad) {
			rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", RC_NOLOC,
			            "the HAProxy artifact path '%s' holds a byte that a converter argument "
			            "or lua-load cannot carry, expected letters, digits and / . _ - + @ ~ = :"
			            " (choose another -o or --map-dir)",
			            rc_quote((rc_arena *)&ir->arena, paths[i], strlen(paths[i]), 200));
			c.failed = 1;
			break;
		}
	}
	const char *map_path = paths[0], *pat_path = paths[1], *cls_path = paths[2],
	           *sub_path = paths[3], *lua_path = paths[4];
	rc_sv_cache own = { 0 };
	const rc_sv_layers *L = rc_sv_cache_layers(opts->sv_cache ? opts->sv_cache : &own, ir);
	rc_buf exact, pats, classes, subs, global, frontend, lua;
	rc_buf_init(&exact);
	rc_buf_init(&pats);
	rc_buf_init(&classes);
	rc_buf_init(&subs);
	rc_buf_init(&global);
	rc_buf_init(&frontend);
	rc_buf_init(&lua);
	char *sub = rc_xmalloc(rc_ir_nrules(ir) + 1);
	memset(sub, 0, rc_ir_nrules(ir) + 1);
	build_exact_map(&c, &exact, L, sub);
	build_pattern_map(&c, &pats);
	build_classes(&c, &classes, L);
	build_subdomain_map(&c, &subs, sub);
	build_global(&global, opts, lua_path);
	build_frontend(&frontend, opts, map_path, pat_path, cls_path, sub_path);
	build_lua(&lua, ir, opts);
	const hap_map maps[4] = {
		{ ".classes.map", cls_path, &classes, 1,
		  "the wildcard host names changed order: the runtime-API update clears the classes "
		  "map and refills it, so a request served between the two commands has no wildcard "
		  "class; reload HAProxy instead for an atomic change" },
		{ ".subdomain.map", sub_path, &subs, 0, NULL },
		{ ".map", map_path, &exact, 0, NULL },
		{ ".patterns.map", pat_path, &pats, 1,
		  "the pattern rules changed order: the runtime-API update clears the pattern "
		  "map and refills it, so a request served between the two commands sees no "
		  "pattern rule; reload HAProxy instead for an atomic change" },
	};
	int st = c.failed ? -1 : 0;
	if (st == 0 && (write_buf(out, ".global.cfg", &global) != 0 ||
	                write_buf(out, ".frontend.cfg", &frontend) != 0 ||
	                write_buf(out, ".lua", &lua) != 0 ||
	                write_buf(out, ".map", &exact) != 0 ||
	                write_buf(out, ".patterns.map", &pats) != 0 ||
	                write_buf(out, ".classes.map", &classes) != 0 ||
	                write_buf(out, ".subdomain.map", &subs) != 0 ||
	                write_update(&c, out, maps, 4, &lua, &frontend) != 0))
		st = -1;
	free(sub);
	rc_buf_fini(&exact);
	rc_buf_fini(&pats);
	rc_buf_fini(&classes);
	rc_buf_fini(&subs);
	rc_buf_fini(&global);
	rc_buf_fini(&frontend);
	rc_buf_fini(&lua);
	rc_sv_cache_fini(&own);
	for (int i = 0; i < 5; i++)
		free(paths[i]);
	return st;
}

const rc_backend rc_backend_haproxy = {
	"haproxy",
	"HAProxy 2.6: BASE.global.cfg (lua-load), BASE.frontend.cfg (frontend lines), BASE.lua, "
	"BASE.map, BASE.patterns.map, BASE.classes.map, BASE.subdomain.map, BASE.map-update "
	"(runtime API, when BASE.map existed)",
	emit_haproxy,
	1, /* uses the server layers */
};
