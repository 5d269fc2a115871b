/*
 * apache.c - the `apache` target (doc/backend-design.md sections 5, 12-14).
 *
 * Artifacts: BASE.conf (for inside <VirtualHost>: the mod_lua hook, the
 * RewriteMap, the normal-form RewriteCond that sets the variables without
 * the helper, one RewriteCond/RewriteRule group per status for exact hits,
 * then the pattern rules, indexed by their first path segment with a binary
 * search of [S=N] skips), BASE.map.txt (the exact layers,
 * sorted, one "KEY VALUE" line each), BASE.map.gdbm (the same map as a GDBM
 * file, written with libgdbm, above AP_DBM_THRESHOLD entries),
 * BASE.map.sqlite and BASE.dbd.conf (the same map as an SQLite database and
 * the .conf that reads it through mod_dbd: flat memory, design section 14)
 * and BASE.lua (the mod_lua helper).  Every string goes through quote.h.
 */
#include "backends/backend.h"

#include <errno.h>
#include <gdbm.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "backends/quote.h"
#include "backends/servers.h"

/* Above this many map entries the map is a GDBM file: mod_rewrite scans a
 * txt map linearly for every new key (28-250 ms per lookup at 200k-1M
 * entries, reference item 9). */
#define AP_DBM_THRESHOLD 10000

/* mod_rewrite reads a txt map, and httxt2dbm its input, with a 1024-byte
 * line buffer (REWRITE_MAX_TXT_MAP_LINE; tested: a longer line is split in
 * two and its key never matches), so a longer entry is refused when the map
 * is a txt file.  A GDBM map has no such limit: redirc writes it itself. */
#define AP_MAP_LINE_MAX 1000

/* GDBM block size: fixed, so the file does not depend on the file system
 * (httxt2dbm passes 0, the file system's block size, 4096 on ext4). */
#define AP_DBM_BLOCK 4096

/* The host classes' regex is split into chunks of names of at most this
 * many bytes (a configuration line stays short). */
#define AP_CLASS_RE_MAX 4000

typedef struct ap_ctx {
	const rc_ir *ir;
	int failed;
	GDBM_FILE db;           /* the GDBM map being written, or NULL */
	const char *db_path;    /* its temporary path */
	sqlite3 *sq;            /* the SQLite map being written, or NULL */
	sqlite3_stmt *sq_ins;   /* its INSERT */
	const char *sq_path;    /* its temporary path */
	rc_artifacts *out;      /* the artifact set (SQLite failures are its I/O errors) */
} ap_ctx;

static const char *rule_src(const ap_ctx *c, const rc_rule *r)
{
	return rc_quote((rc_arena *)&c->ir->arena, r->source_text, strlen(r->source_text), 60);
}

static void put_comment(FILE *f, const char *prefix, const char *s)
{
	rc_buf b;
	rc_buf_init(&b);
	rc_comment_text(&b, s, strlen(s));
	fprintf(f, "%s%s\n", prefix, b.data);
	rc_buf_fini(&b);
}

/* ---- the map ----------------------------------------------------------- */

/* "KEY VALUE\n" of one entry, *klen = the length of KEY; -1 when a token
 * cannot be written. */
static int map_line(rc_buf *b, rc_buf *vb, const rc_sv_entry *e, size_t *klen)
{
	if (rc_ap_quote(b, e->key, e->len, RC_AP_MAPTOK) != 0)
		return -1;
	*klen = b->len;
	rc_buf_addc(b, ' ');
	rc_buf_reset(vb); /* the caller's scratch buffer, reused for every entry */
	if (e->dash) {
		rc_buf_addc(vb, '-');
	} else if (e->rule->gone) {
		rc_buf_adds(vb, "410:");
	} else if (e->rule->target.uses_subdomain) {
		/* answered by the rule's own block (write_subdomain_rules) */
		rc_buf_printf(vb, "s%u", (unsigned)e->rule->index);
	} else {
		rc_buf_printf(vb, "%d%c:", e->rule->status, e->rule->query_drop ? 'd' : 'k');
		for (uint32_t t = 0; t < e->rule->target.ntoks; t++)
			rc_buf_add(vb, e->rule->target.toks[t].text, e->rule->target.toks[t].len);
		if (e->rule->target.fragment)
			rc_buf_adds(vb, e->rule->target.fragment);
	}
	int st = rc_ap_quote(b, vb->data, vb->len, RC_AP_MAPTOK);
	rc_buf_addc(b, '\n');
	return st;
}

static void dbm_error(ap_ctx *c, const char *what)
{
	int err = errno;
	rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", RC_NOLOC,
	            "cannot %s the Apache GDBM map '%s': %s%s%s (a retry may help once there is space)",
	            what, c->db_path, c->db ? gdbm_db_strerror(c->db) : gdbm_strerror(gdbm_errno),
	            err ? ": " : "", err ? strerror(err) : "");
	c->failed = 1;
	rc_artifacts_write_failed(c->out, c->db_path, err); /* exit 2, the file named */
}

/* Store KEY -> VALUE of a map line "KEY VALUE\n" in the GDBM map, as
 * httxt2dbm does: no NUL terminators, a later duplicate replaces (there
 * are none). */
static void dbm_store(ap_ctx *c, const rc_buf *line, size_t klen)
{
	datum k = { line->data, (int)klen };
	datum v = { line->data + klen + 1, (int)(line->len - klen - 2) };
	errno = 0;
	if (gdbm_store(c->db, k, v, GDBM_REPLACE) != 0)
		dbm_error(c, "write");
}

/* ---- the SQLite map (design section 14) ------------------------------- */

/* An I/O failure of the artifact set (exit 2), as a failed write of any
 * other artifact. */
static void sq_error(ap_ctx *c, const char *what)
{
	c->failed = 1;
	c->out->failed = 1;
	if (c->out->error)
		return;
	/* name the file the user asked for, not its temporary */
	char *final = rc_artifacts_final_path(c->out, ".map.sqlite");
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_printf(&b, "cannot %s the Apache SQLite map '%s': %s (a retry may help once there is space)",
	              what, final, c->sq ? sqlite3_errmsg(c->sq) : "out of memory");
	free(final);
	c->out->error = b.data;
}

/* Open the SQLite map at a temporary path of the artifact set: one table
 * redir_map(k, v), the same KEY and VALUE as the txt map, written in one
 * transaction without a journal (the artifact set renames the finished
 * file, or removes it). */
static int sq_open(ap_ctx *c, rc_artifacts *out)
{
	c->sq_path = rc_artifacts_reserve(out, ".map.sqlite");
	if (!c->sq_path)
		return -1;
	if (sqlite3_open_v2(c->sq_path, &c->sq, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->sq, "PRAGMA page_size=4096; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
	                 "CREATE TABLE redir_map (k TEXT PRIMARY KEY NOT NULL, v TEXT NOT NULL) WITHOUT ROWID;"
	                 "BEGIN;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->sq, "INSERT INTO redir_map (k, v) VALUES (?1, ?2)", -1, &c->sq_ins,
	                       NULL) != SQLITE_OK) {
		sq_error(c, "create");
		return -1;
	}
	return 0;
}

static void sq_store(ap_ctx *c, const rc_buf *line, size_t klen)
{
	sqlite3_reset(c->sq_ins);
	if (sqlite3_bind_text(c->sq_ins, 1, line->data, (int)klen, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(c->sq_ins, 2, line->data + klen + 1, (int)(line->len - klen - 2),
	                      SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(c->sq_ins) != SQLITE_DONE)
		sq_error(c, "write");
}

static void sq_close(ap_ctx *c)
{
	if (!c->sq)
		return;
	sqlite3_finalize(c->sq_ins);
	c->sq_ins = NULL;
	if (!c->failed && sqlite3_exec(c->sq, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK)
		sq_error(c, "write");
	if (sqlite3_close(c->sq) != SQLITE_OK)
		sq_error(c, "close");
	c->sq = NULL;
}

/* Write a layer to the txt map, and to the GDBM and SQLite maps. */
static void write_layer(ap_ctx *c, FILE *f, const rc_vec *layer)
{
	rc_buf b, v;
	rc_buf_init(&b);
	rc_buf_init(&v);
	for (size_t i = 0; i < layer->len; i++) {
		const rc_sv_entry *e = RC_VEC_AT(layer, rc_sv_entry, i);
		size_t klen = 0;
		rc_buf_reset(&b);
		if (map_line(&b, &v, e, &klen) != 0) {
			rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", e->rule ? e->rule->loc : RC_NOLOC,
			            "rule '%s' needs an Apache map entry with whitespace or a control byte, "
			            "which a RewriteMap file cannot hold",
			            e->rule ? rule_src(c, e->rule) : "?");
			c->failed = 1;
			continue;
		}
		if (!c->db && b.len - 1 > AP_MAP_LINE_MAX) {
			rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", e->rule ? e->rule->loc : RC_NOLOC,
			            "rule '%s' needs an Apache map line of %zu bytes, expected at most %d: "
			            "mod_rewrite and httxt2dbm read map lines into a 1024-byte buffer",
			            e->rule ? rule_src(c, e->rule) : "?", b.len - 1, AP_MAP_LINE_MAX);
			c->failed = 1;
			continue;
		}
		fwrite(b.data, 1, b.len, f);
		if (c->db && !c->failed)
			dbm_store(c, &b, klen);
		if (c->sq && !c->failed)
			sq_store(c, &b, klen);
	}
	rc_buf_fini(&b);
	rc_buf_fini(&v);
}

/* Open the GDBM map at a temporary path of the artifact set. */
static int dbm_open(ap_ctx *c, rc_artifacts *out)
{
	c->db_path = rc_artifacts_reserve(out, ".map.gdbm");
	if (!c->db_path)
		return -1;
	errno = 0;
	c->db = gdbm_open(c->db_path, AP_DBM_BLOCK, GDBM_NEWDB | GDBM_NOLOCK, 0644, NULL);
	if (!c->db) {
		dbm_error(c, "create");
		return -1;
	}
	/* plain writes instead of a mapping that is remapped as the file grows:
	 * the same bytes, 3-4 s less at 1M entries (a failure only costs that
	 * time).  The cache size stays the default: it changes the bytes. */
	int no_mmap = 0;
	(void)gdbm_setopt(c->db, GDBM_SETMMAP, &no_mmap, sizeof no_mmap);
	return 0;
}

/* Flush and close the GDBM map (the artifact set renames it). */
static void dbm_close(ap_ctx *c)
{
	if (!c->db)
		return;
	errno = 0;
	if (gdbm_sync(c->db) != 0)
		dbm_error(c, "write");
	errno = 0;
	int st = gdbm_close(c->db);
	c->db = NULL;
	if (st != 0)
		dbm_error(c, "close");
}

/* ---- BASE.conf ----------------------------------------------------------- */

static char *deployed_path(const rc_emit_opts *opts, rc_artifacts *out, const char *suffix)
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

/* Append a double-quoted path, or report it. */
static void quoted_path(ap_ctx *c, rc_buf *b, const char *prefix, const char *path)
{
	rc_buf_addc(b, '"');
	rc_buf_adds(b, prefix);
	if (rc_ap_quote(b, path, strlen(path), RC_AP_PATH) != 0) {
		rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", RC_NOLOC,
		            "the path '%s' has a '\"', a backslash or a control byte, which an Apache "
		            "configuration cannot hold; choose another -o or --map-dir",
		            rc_quote((rc_arena *)&c->ir->arena, path, strlen(path), 80));
		c->failed = 1;
	}
	rc_buf_addc(b, '"');
}

static void exact_block(FILE *f, int s)
{
	fprintf(f, "# %d, query keep, target with a query: TARGET?TQ&Q#F\n"
	           "RewriteCond \"%%{ENV:REDIR_QAMP} %%{ENV:REDIR_X}\" \"^([^ ]*) %dk:([^?#]*)\\?([^#]*)(#.*)?$\"\n"
	           "RewriteRule ^ \"%%2?%%3%%1%%4\" [R=%d,L,NE]\n", s, s, s);
	fprintf(f, "# %d, query keep, no target query, a client query: TARGET?Q#F\n"
	           "RewriteCond \"%%{ENV:REDIR_Q} %%{ENV:REDIR_X}\" \"^([^ ]+) %dk:([^?#]*)(#.*)?$\"\n"
	           "RewriteRule ^ \"%%2?%%1%%3\" [R=%d,L,NE]\n", s, s, s);
	fprintf(f, "# %d, no target query, and no client query or query drop, a fragment with\n"
	           "# a '?': TARGET#F, the '?' literal (from a back-reference it is a 403, AH10508)\n"
	           "RewriteCond \"%%{ENV:REDIR_X}\" \"^%d[kd]:([^?#]*)(#[^?]*)\\?(.*)$\"\n"
	           "RewriteRule ^ \"%%1%%2?%%3\" [R=%d,L,NE]\n", s, s, s);
	fprintf(f, "# %d, no target query, and no client query or query drop: TARGET#F\n"
	           "RewriteCond \"%%{ENV:REDIR_X}\" \"^%d[kd]:([^?#]*)(#.*)?$\"\n"
	           "RewriteRule ^ \"%%1%%2\" [R=%d,L,NE,QSD]\n", s, s, s);
	fprintf(f, "# %d, query drop, target with a query: TARGET?TQ#F\n"
	           "RewriteCond \"%%{ENV:REDIR_X}\" \"^%dd:([^?#]*)\\?([^#]*)(#.*)?$\"\n"
	           "RewriteRule ^ \"%%1?%%2%%3\" [R=%d,L,NE]\n", s, s, s);
}

/* The substitution text of target tokens [from, to), quoted for
 * RewriteRule; captures become %N. */
static void subst_toks(ap_ctx *c, rc_buf *b, const rc_rule *r, uint32_t from, uint32_t to,
                       const int pg[RD_MAX_CAPTURES], const int qg[RD_MAX_CAPTURES], int sub)
{
	for (uint32_t t = from; t < to; t++) {
		const rd_ttok *tok = &r->target.toks[t];
		switch (tok->kind) {
		case RD_TTOK_LIT:
			if (rc_ap_quote(b, tok->text, tok->len, RC_AP_SUBST) != 0) {
				rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", r->loc,
				            "rule '%s': its target has a byte that a RewriteRule cannot hold",
				            rule_src(c, r));
				c->failed = 1;
			}
			break;
		case RD_TTOK_CAP_PATH:
			rc_buf_printf(b, "%%%d", pg[tok->capture]);
			break;
		case RD_TTOK_CAP_QUERY:
			rc_buf_printf(b, "%%%d", qg[tok->capture]);
			break;
		case RD_TTOK_SUBDOMAIN:
			rc_buf_printf(b, "%%%d", sub);
			break;
		default:
			rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", r->loc,
			            "internal error: unknown target token kind %d", tok->kind);
			c->failed = 1;
			break;
		}
	}
}

static void subst_frag(ap_ctx *c, rc_buf *b, const rc_rule *r)
{
	const char *fr = r->target.fragment;
	if (fr && rc_ap_quote(b, fr, strlen(fr), RC_AP_SUBST) != 0) {
		rc_diag_add(c->ir->diags, RC_SEV_ERROR, "backend", r->loc,
		            "rule '%s': its fragment has a byte that a RewriteRule cannot hold", rule_src(c, r));
		c->failed = 1;
	}
}

/* The number of RewriteRule lines pattern_rule writes for `r`. */
static size_t pattern_nrules(const rc_rule *r)
{
	if (!r->gone && !r->query_drop && !r->target.has_query && r->target.fragment)
		return 2;
	return 1;
}

static void rule_rewrite(ap_ctx *c, FILE *f, const rc_rule *r, const char *cond,
                         const int pg[RD_MAX_CAPTURES], const int qg[RD_MAX_CAPTURES], int subg);

/* `report`: check and report the rule (once, however often it is written) */
static void pattern_rule(ap_ctx *c, FILE *f, const rc_rule *r, int report)
{
	const rc_ir *ir = c->ir;
	int pg[RD_MAX_CAPTURES], qg[RD_MAX_CAPTURES], subg = 0;
	rc_buf cond, label;
	rc_buf_init(&cond);
	rc_buf_init(&label);
	rc_buf_adds(&cond, "RewriteCond %{ENV:REDIR_S} \"");
	int ngroups = rc_sv_pattern_regex_sub(&cond, ir, r, 0, pg, qg, &subg);
	rc_buf_addc(&cond, '"');
	if (ir->policy & RD_POLICY_CASE_INSENSITIVE)
		rc_buf_adds(&cond, " [NC]");
	rc_buf_addc(&cond, '\n');
	if (report && ngroups > 9) {
		rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", r->loc,
		            "rule '%s' needs %d captures on Apache (each placeholder or splat counts once "
		            "for the target's path and once for its query, :subdomain once), expected at "
		            "most 9: mod_rewrite has only %%1 to %%9",
		            rule_src(c, r), ngroups);
		c->failed = 1;
	}
	rc_sv_rule_label(&label, ir, r);
	put_comment(f, "# ", label.data);
	rule_rewrite(c, f, r, cond.data, pg, qg, subg);
	rc_buf_fini(&cond);
	rc_buf_fini(&label);
}

/* The RewriteRule lines of a rule after its conditions `cond` (whose last
 * one gives the captures: groups pg / qg, the subdomain group subg). */
static void rule_rewrite(ap_ctx *c, FILE *f, const rc_rule *r, const char *cond,
                         const int pg[RD_MAX_CAPTURES], const int qg[RD_MAX_CAPTURES], int subg)
{
	rc_buf sub;
	rc_buf_init(&sub);
	if (r->gone) {
		fprintf(f, "%sRewriteRule ^ - [G]\n", cond);
		goto done;
	}
	uint32_t qt = rc_sv_query_tok(r);
	int has_q = r->target.has_query;
	char flags[64];
	snprintf(flags, sizeof flags, "[R=%d,L,NE]", r->status);
	char flags_qsd[64];
	snprintf(flags_qsd, sizeof flags_qsd, "[R=%d,L,NE,QSD]", r->status);
	/* P: the prefix and path; TQ: the target's query with its '?' */
	subst_toks(c, &sub, r, 0, qt, pg, qg, subg);
	size_t plen = sub.len;
	if (!r->query_drop && !has_q) {
		if (!r->target.fragment) {
			rc_buf_adds(&sub, "?%{ENV:REDIR_Q}");
			fprintf(f, "%sRewriteRule ^ \"%s\" %s\n", cond, sub.data, flags);
		} else {
			rc_buf_adds(&sub, "?%{ENV:REDIR_Q}");
			subst_frag(c, &sub, r);
			fprintf(f, "RewriteCond %%{ENV:REDIR_Q} ^.\n%sRewriteRule ^ \"%s\" %s\n",
			        cond, sub.data, flags);
			sub.len = plen;
			sub.data[plen] = '\0';
			subst_frag(c, &sub, r);
			fprintf(f, "%sRewriteRule ^ \"%s\" %s\n", cond, sub.data, flags_qsd);
		}
	} else if (!r->query_drop) {
		subst_toks(c, &sub, r, qt, r->target.ntoks, pg, qg, subg);
		rc_buf_adds(&sub, "%{ENV:REDIR_QAMP}");
		subst_frag(c, &sub, r);
		fprintf(f, "%sRewriteRule ^ \"%s\" %s\n", cond, sub.data, flags);
	} else if (!has_q) {
		subst_frag(c, &sub, r);
		fprintf(f, "%sRewriteRule ^ \"%s\" %s\n", cond, sub.data, flags_qsd);
	} else {
		subst_toks(c, &sub, r, qt, r->target.ntoks, pg, qg, subg);
		subst_frag(c, &sub, r);
		fprintf(f, "%sRewriteRule ^ \"%s\" %s\n", cond, sub.data, flags);
	}
done:
	rc_buf_fini(&sub);
}

/* Design section 12: a request whose raw path and query normalization and
 * encoding leave unchanged, with a plain lower-case Host, gets the variables
 * of section 2 from mod_rewrite itself (the path is KEY, encP and encQ of
 * itself); the Lua helper returns at once for it (its is_normal accepts no
 * request this RewriteCond refuses) and sets them for any other request. */
static void write_normal_form(FILE *f, const rc_ir *ir)
{
	int ci = (ir->policy & RD_POLICY_CASE_INSENSITIVE) != 0;
	rc_buf re;
	rc_buf_init(&re);
	rc_buf_adds(&re, "^([a-z0-9._\\x2D]*[a-z0-9_\\x2D])(?::[0-9]*)? [^ ]+ ");
	rc_sv_normal_path_re(&re, ir, "(");
	rc_buf_adds(&re, "(?:\\?(");
	rc_sv_normal_query_re(&re);
	rc_buf_adds(&re, "))?(?: |$)");
	fputs("# normal form: mod_rewrite sets the variables (the helper did for any other)\n", f);
	if (ci)
		fputs("RewriteMap redir_lc int:tolower\n", f);
	fprintf(f, "RewriteCond \"%%{HTTP_HOST} %%{THE_REQUEST}\" \"%s\"\n", re.data);
	fprintf(f, "RewriteRule ^ - \"[E=REDIR_KEY:%s,E=REDIR_HKEY:%%1%s,E=REDIR_S:%%2 %%2 %%1,E=REDIR_Q:%%3]\"\n",
	        ci ? "${redir_lc:%2}" : "%2", ci ? "${redir_lc:%2}" : "%2");
	fputs("RewriteCond %{ENV:REDIR_Q} ^(.+)$\n"
	      "RewriteRule ^ - [E=REDIR_QAMP:&%1]\n", f);
	rc_buf_fini(&re);
}

/* ---- the pattern index (design section 13) ------------------------------ */

typedef struct ap_tree {
	ap_ctx *c;
	FILE *f;
	const rc_sv_groups *G;
	char *reported;     /* per rule index */
	size_t *leaf;       /* RewriteRules of leaf i: entry test, its block, exit */
	size_t pos;         /* RewriteRules written since the tree's start */
	size_t tree;        /* RewriteRules of the whole tree */
	size_t wild;        /* RewriteRules of the wildcard block after it */
} ap_tree;

static size_t block_nrules(const rc_vec *rules)
{
	size_t n = 0;
	for (size_t i = 0; i < rules->len; i++)
		n += pattern_nrules(*RC_VEC_AT(rules, const rc_rule *, i));
	return n;
}

static size_t tree_size(const ap_tree *t, size_t lo, size_t hi)
{
	if (hi - lo == 1)
		return t->leaf[lo];
	size_t mid = lo + (hi - lo) / 2;
	return 1 + tree_size(t, lo, mid) + tree_size(t, mid, hi);
}

static void block(ap_tree *t, const rc_vec *rules)
{
	for (size_t i = 0; i < rules->len; i++) {
		const rc_rule *r = *RC_VEC_AT(rules, const rc_rule *, i);
		pattern_rule(t->c, t->f, r, !t->reported[r->index]);
		t->reported[r->index] = 1;
		t->pos += pattern_nrules(r);
	}
}

/* A skip that lands on the rule at `to` (positions count RewriteRules). */
static void skip_to(ap_tree *t, size_t to)
{
	size_t n = to - t->pos - 1;
	if (n)
		fprintf(t->f, "RewriteRule ^ - [S=%zu]\n", n);
	else
		fputs("RewriteRule ^ -\n", t->f); /* lands on the next rule anyway */
	t->pos++;
}

static void group_key(FILE *f, const rc_sv_group *g)
{
	fwrite(g->key, 1, g->len, f); /* encP text: no quote, backslash or space */
}

static void tree(ap_tree *t, size_t lo, size_t hi)
{
	if (hi - lo == 1) {
		const rc_sv_group *g = RC_VEC_AT(&t->G->groups, rc_sv_group, lo);
		fputs("# first segment \"", t->f);
		group_key(t->f, g);
		fputs("\"\nRewriteCond %{ENV:REDIR_SEG} \"!=", t->f);
		group_key(t->f, g);
		fputs("\"\n", t->f);
		skip_to(t, t->tree);                 /* not this one: the wildcard block */
		block(t, &g->rules);
		skip_to(t, t->tree + t->wild);      /* no match: past the wildcard block */
		return;
	}
	size_t mid = lo + (hi - lo) / 2;
	const rc_sv_group *g = RC_VEC_AT(&t->G->groups, rc_sv_group, mid);
	size_t left = tree_size(t, lo, mid);
	fputs("RewriteCond %{ENV:REDIR_SEG} \"!<", t->f);
	group_key(t->f, g);
	fprintf(t->f, "\"\nRewriteRule ^ - [S=%zu]\n", left);
	t->pos++;
	tree(t, lo, mid);
	tree(t, mid, hi);
}

/* Design section 13: REDIR_SEG = the first segment of the subject; a binary
 * search on it (mod_rewrite's "<" and "=" string tests, [S=N] skips) reaches
 * the block of its group, which holds the patterns that can match it in file
 * order, wildcards included, or the block of the wildcard patterns. */
static void write_patterns(ap_ctx *c, FILE *f)
{
	const rc_ir *ir = c->ir;
	if (!rc_sv_has_patterns(ir))
		return;
	rc_sv_groups G;
	rc_sv_groups_build(ir, (ir->policy & RD_POLICY_CASE_INSENSITIVE) != 0, &G);
	ap_tree t = { c, f, &G, NULL, NULL, 0, 0, 0 };
	t.reported = rc_xmalloc(rc_ir_nrules(ir) + 1);
	memset(t.reported, 0, rc_ir_nrules(ir) + 1);
	fputs("\n# ---- pattern rules, indexed by the first path segment: each block holds\n"
	      "# the patterns that can match its segment in file order, the patterns\n"
	      "# whose first segment is not literal text (wildcards) included ----\n", f);
	if (G.groups.len) {
		t.leaf = rc_xmalloc(G.groups.len * sizeof *t.leaf);
		for (size_t i = 0; i < G.groups.len; i++)
			t.leaf[i] = 2 + block_nrules(&RC_VEC_AT(&G.groups, rc_sv_group, i)->rules);
		t.tree = tree_size(&t, 0, G.groups.len);
		t.wild = block_nrules(&G.wild);
		fprintf(f, "RewriteCond %%{ENV:REDIR_S} \"^/([^/ ]*)\"\nRewriteRule ^ - [E=REDIR_SEG:%s]\n",
		        (ir->policy & RD_POLICY_CASE_INSENSITIVE) ? "${redir_lc:%1}" : "%1");
		tree(&t, 0, G.groups.len);
		free(t.leaf);
	}
	if (G.wild.len)
		fputs("# wildcard patterns\n", f);
	block(&t, &G.wild);
	free(t.reported);
	rc_sv_groups_fini(&G);
}

/* Design section 3.1: the host class.  A host that a wildcard name admits
 * (the longest first) and that no host block names (the map marks those
 * with a line "HOST +") has the class "_.W": the host-layer key becomes
 * "_.W" + KEY.  Any other host keeps HOST + KEY (its own class, or none). */
static void write_classes(FILE *f, const rc_sv_layers *L)
{
	fputs("# wildcard host blocks: a host that a wildcard name admits (longest first)\n"
	      "# and that no host block names takes the class \"_.NAME\" in the host layer\n", f);
	rc_buf b;
	rc_buf_init(&b);
	/* one regex per chunk of names (the lazy SUB makes the captured name the
	 * longest that admits the host); a match skips the later chunks */
	size_t nchunks = 0;
	for (size_t from = 0; from < L->wild.len; nchunks++) {
		rc_buf_reset(&b);
		from = rc_sv_class_re(&b, L, from, AP_CLASS_RE_MAX);
	}
	for (size_t from = 0, k = 1; from < L->wild.len; k++) {
		rc_buf_reset(&b);
		from = rc_sv_class_re(&b, L, from, AP_CLASS_RE_MAX);
		fprintf(f, "RewriteCond %%{ENV:REDIR_S} \" %s$\"\n", b.data);
		if (nchunks - k)
			fprintf(f, "RewriteRule ^ - [E=REDIR_WC:_.%%2,S=%zu]\n", nchunks - k);
		else
			fputs("RewriteRule ^ - [E=REDIR_WC:_.%2]\n", f);
	}
	rc_buf_fini(&b);
	if (L->named_wild.len)
		fputs("RewriteCond %{ENV:REDIR_WC} .\n"
		      "RewriteCond %{ENV:REDIR_S} \" ([^ ]+)$\"\n"
		      "RewriteCond ${redir_exact:%1|-} =+\n"
		      "RewriteRule ^ - [E=!REDIR_WC]\n", f);
	fputs("RewriteCond %{ENV:REDIR_WC} (.+)\n"
	      "RewriteRule ^ - \"[E=REDIR_HKEY:%1%{ENV:REDIR_KEY}]\"\n", f);
}

static int rule_index_cmp(const void *a, const void *b)
{
	const rc_rule *x = *(const rc_rule *const *)a, *y = *(const rc_rule *const *)b;
	return (x->index > y->index) - (x->index < y->index);
}

/* The exact rules whose target uses :subdomain: the map value "sN" names
 * rule N, whose own block takes the subdomain from the host (the rule's
 * scope admits every host of the classes it answers). */
static void write_subdomain_rules(ap_ctx *c, FILE *f, const rc_sv_layers *L)
{
	rc_vec rules;
	rc_vec_init(&rules, sizeof(const rc_rule *));
	for (size_t i = 0; i < L->host.len; i++) {
		const rc_sv_entry *e = RC_VEC_AT(&L->host, rc_sv_entry, i);
		if (!e->dash && !e->rule->gone && e->rule->target.uses_subdomain)
			*(const rc_rule **)rc_vec_push(&rules) = e->rule;
	}
	if (rules.len > 1)
		rc_sort(rules.items, rules.len, sizeof(const rc_rule *), rule_index_cmp);
	size_t w = 0, n = 0;
	for (size_t i = 0; i < rules.len; i++) {
		const rc_rule *r = *RC_VEC_AT(&rules, const rc_rule *, i);
		if (w && *RC_VEC_AT(&rules, const rc_rule *, w - 1) == r)
			continue;
		*RC_VEC_AT(&rules, const rc_rule *, w++) = r;
		n += pattern_nrules(r);
	}
	rules.len = w;
	if (rules.len) {
		fprintf(f, "# ---- exact rules whose target uses :subdomain (map value sN: rule N) ----\n"
		           "RewriteCond %%{ENV:REDIR_X} \"!^s\"\nRewriteRule ^ - [S=%zu]\n", n);
		int pg[RD_MAX_CAPTURES] = { 0 }, qg[RD_MAX_CAPTURES] = { 0 };
		rc_buf cond, label;
		rc_buf_init(&cond);
		rc_buf_init(&label);
		for (size_t i = 0; i < rules.len; i++) {
			const rc_rule *r = *RC_VEC_AT(&rules, const rc_rule *, i);
			rc_buf_reset(&cond);
			rc_buf_printf(&cond, "RewriteCond %%{ENV:REDIR_X} \"=s%u\"\nRewriteCond %%{ENV:REDIR_S} \" ",
			              (unsigned)r->index);
			rc_sv_subdomain_re(&cond, c->ir, r, "(");
			rc_buf_adds(&cond, "$\"\n");
			rc_buf_reset(&label);
			rc_sv_rule_label(&label, c->ir, r);
			put_comment(f, "# ", label.data);
			rule_rewrite(c, f, r, cond.data, pg, qg, 1);
		}
		rc_buf_fini(&cond);
		rc_buf_fini(&label);
	}
	rc_vec_fini(&rules);
}

/* "HOST +" map lines: the named hosts a wildcard name admits (their own
 * class, write_classes). */
static void write_marks(ap_ctx *c, FILE *f, const rc_sv_layers *L)
{
	rc_buf b;
	rc_buf_init(&b);
	for (size_t i = 0; i < L->named_wild.len; i++) {
		const char *h = *RC_VEC_AT(&L->named_wild, const char *, i);
		rc_buf_reset(&b);
		rc_buf_adds(&b, h); /* a host name: no whitespace */
		size_t klen = b.len;
		rc_buf_adds(&b, " +\n");
		fwrite(b.data, 1, b.len, f);
		if (c->db && !c->failed)
			dbm_store(c, &b, klen);
		if (c->sq && !c->failed)
			sq_store(c, &b, klen);
	}
	rc_buf_fini(&b);
}

/* BASE.conf (`sqlite` 0: the txt or GDBM map) or BASE.dbd.conf (`sqlite` 1:
 * the SQLite map through mod_dbd); the two differ only in the map lines. */
static void write_conf(ap_ctx *c, FILE *f, const rc_sv_layers *L, const rc_emit_opts *opts,
                       rc_artifacts *out, int dbm, int sqlite)
{
	const rc_ir *ir = c->ir;
	char *lua = deployed_path(opts, out, ".lua");
	char *map = deployed_path(opts, out, sqlite ? ".map.sqlite" : dbm ? ".map.gdbm" : ".map.txt");
	fputs("# Generated by redirc " PACKAGE_VERSION " (target apache); do not edit.\n", f);
	put_comment(f, "# Rules: ", opts->source_name ? opts->source_name : "?");
	fputs("#\n"
	      "# Include this file inside <VirtualHost> (rewrite rules of the main server\n"
	      "# do not apply to a VirtualHost).  Needs mod_rewrite and mod_lua (Debian:\n"
	      "# apache2-bin ships both; a2enmod rewrite lua), and in the VirtualHost:\n"
	      "#   AllowEncodedSlashes On\n"
	      "# (otherwise Apache answers a %2F in the path with 404 before any rule runs).\n"
	      "# It reads the files below: deploy them there, or compile with --map-dir DIR\n"
	      "# to name their deployed directory.\n", f);
	if (sqlite)
		fputs("# This variant reads the exact-rule map from an SQLite database through\n"
		      "# mod_dbd (a2enmod dbd; Debian package libaprutil1-dbd-sqlite3): mod_rewrite\n"
		      "# caches no dbd lookup, so a child's memory stays flat however many distinct\n"
		      "# paths it serves.  It sets DBDriver and DBDParams for this VirtualHost.\n"
		      "# The .conf of the same BASE reads the txt or GDBM map instead: mod_rewrite\n"
		      "# keeps every lookup of those (hits and misses) for the life of the child.\n", f);
	else if (dbm)
		fputs("# The map is a GDBM file built by redirc from the .map.txt of the same BASE;\n"
		      "# to rebuild it:  httxt2dbm -f GDBM -i BASE.map.txt -o BASE.map.gdbm\n"
		      "# (package apache2-utils).\n", f);
	fputs("\n", f);
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_adds(&b, "# the helper: Lua states kept in a per-server pool (a fresh state per request\n"
	                "# costs about 60 us; `LuaScope thread` grows a child by about 44 bytes per\n"
	                "# request), its code loaded once (reload Apache after deploying it)\n"
	                "LuaScope server\nLuaCodeCache forever\nLuaHookTranslateName ");
	quoted_path(c, &b, "", lua);
	rc_buf_adds(&b, " redir_prepare early\nRewriteEngine On\n");
	if (sqlite) {
		rc_buf_adds(&b, "DBDriver sqlite3\nDBDParams ");
		quoted_path(c, &b, "", map);
		rc_buf_adds(&b, "\nRewriteMap redir_exact \"dbd:SELECT v FROM redir_map WHERE k = %s\"\n");
	} else {
		rc_buf_adds(&b, "RewriteMap redir_exact ");
		quoted_path(c, &b, dbm ? "dbm=gdbm:" : "txt:", map);
		rc_buf_addc(&b, '\n');
	}
	fputs(b.data, f);
	rc_buf_fini(&b);
	write_normal_form(f, ir);
	if (L->wild.len)
		write_classes(f, L);
	if (L->host.len)
		fputs("# one lookup per request: the host layer first, then the global layer\n"
		      "RewriteRule ^ - \"[E=REDIR_X:${redir_exact:%{ENV:REDIR_HKEY}|${redir_exact:%{ENV:REDIR_KEY}}}]\"\n\n",
		      f);
	else
		fputs("# one lookup per request (no host-scoped exact rule: the global layer only)\n"
		      "RewriteRule ^ - \"[E=REDIR_X:${redir_exact:%{ENV:REDIR_KEY}}]\"\n\n", f);
	static const int codes[5] = { 301, 302, 303, 307, 308 };
	int used[5] = { 0 }, gone = 0;
	const rc_vec *layers[2] = { &L->host, &L->global };
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < layers[k]->len; i++) {
			const rc_sv_entry *e = RC_VEC_AT(layers[k], rc_sv_entry, i);
			if (e->dash || (!e->rule->gone && e->rule->target.uses_subdomain))
				continue;
			if (e->rule->gone)
				gone = 1;
			for (int s = 0; s < 5; s++)
				if (!e->rule->gone && e->rule->status == codes[s])
					used[s] = 1;
		}
	fputs("# ---- exact rules: per status in use, one pair per query shape ----\n", f);
	int nexact = gone;
	for (int s = 0; s < 5; s++)
		nexact += used[s] ? 5 : 0;
	if (nexact)
		fprintf(f, "# no exact answer (or \"-\"): skip them\n"
		           "RewriteCond %%{ENV:REDIR_X} \"!^[0-9]\"\nRewriteRule ^ - [S=%d]\n", nexact);
	for (int s = 0; s < 5; s++)
		if (used[s])
			exact_block(f, codes[s]);
	if (gone)
		fputs("RewriteCond \"%{ENV:REDIR_X}\" \"^410:$\"\nRewriteRule ^ - [G]\n", f);
	write_subdomain_rules(c, f, L);
	write_patterns(c, f);
	free(lua);
	free(map);
}

static void write_lua(FILE *f, const rc_ir *ir, const rc_emit_opts *opts)
{
	const char *src = opts->source_name ? opts->source_name : "";
	rc_buf b;
	rc_buf_init(&b);
	rc_lua_string(&b, src, strlen(src));
	fputs("-- redirc runtime helper for Apache httpd mod_lua (Debian: apache2-bin ships mod_lua.so).\n"
	      "-- Generated by redirc " PACKAGE_VERSION " (target apache); do not edit.  The .conf of\n"
	      "-- the same BASE runs it as \"LuaHookTranslateName <this file> redir_prepare early\",\n"
	      "-- i.e. before mod_rewrite, and it exports ASCII-only environment variables that\n"
	      "-- the generated RewriteCond/RewriteRule lines read.\n", f);
	fprintf(f, "local REDIRC_SOURCE = %s   -- the rule file\n", b.data);
	fprintf(f, "local CASE_INSENSITIVE = %s         -- set case sensitive|insensitive\n",
	        (ir->policy & RD_POLICY_CASE_INSENSITIVE) ? "true" : "false");
	fprintf(f, "local TRAILING_SLASH_IGNORE = %s    -- set trailing-slash ignore|strict\n\n",
	        (ir->policy & RD_POLICY_TRAILING_STRICT) ? "false" : "true");
	fputs(rc_sv_lua_fixed, f);
	rc_buf_fini(&b);
}

static int emit_apache(const rc_ir *ir, const rc_emit_opts *opts, rc_artifacts *out)
{
	if (rc_artifacts_check_apache_paths(out, opts->map_dir) != 0) return -1; /* ${VAR} */
	ap_ctx c = { ir, 0, NULL, NULL, NULL, NULL, NULL, out };
	FILE *conf = rc_artifacts_open(out, ".conf");
	FILE *dbdconf = conf ? rc_artifacts_open(out, ".dbd.conf") : NULL;
	FILE *lua = dbdconf ? rc_artifacts_open(out, ".lua") : NULL;
	FILE *txt = lua ? rc_artifacts_open(out, ".map.txt") : NULL;
	if (!txt)
		return -1;
	rc_sv_cache own = { 0 };
	const rc_sv_layers *L = rc_sv_cache_layers(opts->sv_cache ? opts->sv_cache : &own, ir);
	int dbm = L->host.len + L->global.len > AP_DBM_THRESHOLD;
	if ((dbm && dbm_open(&c, out) != 0) || sq_open(&c, out) != 0) {
		dbm_close(&c);
		sq_close(&c);
		rc_sv_cache_fini(&own);
		return -1;
	}
	fputs("# Generated by redirc " PACKAGE_VERSION " (target apache): the exact-rule map of the\n"
	      "# .conf of the same BASE.  KEY VALUE; VALUE = 410: or STATUS k|d (query keep|drop)\n"
	      "# : the encoded target; \"-\" = no exact answer for this host.\n", txt);
	if (L->wild.len)
		fputs("# Wildcard host blocks: a host-layer key starts with the host's class (a\n"
		      "# named host, or _.NAME for the longest wildcard name *.NAME admitting it);\n"
		      "# VALUE sN: rule N's own block in the .conf (its target uses :subdomain).\n", txt);
	fputs("# host-scoped layer (host + key)\n", txt);
	write_layer(&c, txt, &L->host);
	if (L->named_wild.len) {
		fputs("# hosts named by a host block that a wildcard name admits (their own class)\n", txt);
		write_marks(&c, txt, L);
	}
	fputs("# global layer\n", txt);
	write_layer(&c, txt, &L->global);
	dbm_close(&c);
	sq_close(&c);
	if (fflush(txt) != 0 || ferror(txt)) {
		rc_diag_add(ir->diags, RC_SEV_ERROR, "backend", RC_NOLOC,
		            "cannot write the Apache map file (a retry may help once there is space)");
		c.failed = 1;
	}
	write_conf(&c, conf, L, opts, out, dbm, 0);
	write_conf(&c, dbdconf, L, opts, out, dbm, 1);
	write_lua(lua, ir, opts);
	rc_sv_cache_fini(&own);
	return c.failed ? -1 : 0;
}

const rc_backend rc_backend_apache = {
	"apache",
	"Apache httpd configuration: BASE.conf or BASE.dbd.conf (<VirtualHost>), BASE.map.txt / "
	"BASE.map.gdbm / BASE.map.sqlite, BASE.lua",
	emit_apache,
	1, /* uses the server layers */
};
