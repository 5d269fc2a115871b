/*
 * nginx.c - redirects in nginx configuration.
 *
 * Understood (nginx.org/en/docs/http/ngx_http_core_module.html#location,
 * ngx_http_rewrite_module.html, ngx_http_map_module.html):
 *   - `rewrite ^REGEX$ REPLACEMENT permanent|redirect;` (or any flag with an
 *     http:// or https:// replacement, which nginx answers with 302) at
 *     server level; a replacement ending in '?' drops the request's query,
 *     otherwise nginx appends it (after '&' when the replacement has one);
 *   - `return 301|302|303|307|308 URL;` (and `return URL;`, a 302) at server
 *     level, in `location = /x { ... }` and in prefix locations ending in
 *     '/'; return does not append the query unless URL ends in
 *     `$is_args$args`;
 *   - `map $uri $var { /a /b; ... }` with `if ($var) { return 30x $var; }`
 *     (exact keys; regex keys, `hostnames` and a non-empty default are
 *     refused).
 * Order, as nginx runs them: server-level rewrite/return/if in file order
 * (the server rewrite phase), then locations: exact ones, then prefixes
 * from the longest.  A location without return serves content: it takes
 * part in matching (its requests get "pass") and is not imported.  Regex
 * locations, `if` on other conditions, internal rewrites, variables other
 * than $1..$9 and the `$is_args$args` tail, and a second server block are
 * refused with the reason.
 */
#include "import/import.h"

#include <stdlib.h>
#include <string.h>

enum tok_kind { T_WORD, T_SEMI, T_OPEN, T_CLOSE, T_END };

typedef struct ntok {
	enum tok_kind kind;
	const char *text; /* unquoted, arena */
	size_t len;
	uint32_t line, col;
	int quoted;
} ntok;

typedef struct lexer {
	imp_doc *doc;
	const char *s;
	size_t n, pos;
	uint32_t line, col;
	int line_has_token;
	int collect_comments;
} lexer;

static void lex_advance(lexer *lx)
{
	if (lx->s[lx->pos] == '\n') {
		lx->line++;
		lx->col = 1;
		lx->line_has_token = 0;
	} else {
		lx->col++;
	}
	lx->pos++;
}

static ntok lex_next(lexer *lx)
{
	ntok t;
	memset(&t, 0, sizeof t);
	for (;;) {
		while (lx->pos < lx->n && strchr(" \t\r\n\f\v", lx->s[lx->pos]) && lx->s[lx->pos] != '\0')
			lex_advance(lx);
		if (lx->pos < lx->n && lx->s[lx->pos] == '#') {
			size_t b = lx->pos;
			while (lx->pos < lx->n && lx->s[lx->pos] != '\n')
				lex_advance(lx);
			if (lx->collect_comments && !lx->line_has_token)
				imp_comment(lx->doc, lx->s + b, lx->pos - b - (lx->pos > b && lx->s[lx->pos - 1] == '\r'));
			continue;
		}
		break;
	}
	t.line = lx->line;
	t.col = lx->col;
	if (lx->pos >= lx->n) {
		t.kind = T_END;
		return t;
	}
	lx->line_has_token = 1;
	char c = lx->s[lx->pos];
	if (c == ';' || c == '{' || c == '}') {
		t.kind = c == ';' ? T_SEMI : c == '{' ? T_OPEN : T_CLOSE;
		t.text = c == ';' ? ";" : c == '{' ? "{" : "}";
		t.len = 1;
		lex_advance(lx);
		return t;
	}
	rc_buf b;
	rc_buf_init(&b);
	t.kind = T_WORD;
	if (c == '"' || c == '\'') {
		t.quoted = 1;
		lex_advance(lx);
		while (lx->pos < lx->n && lx->s[lx->pos] != c) {
			if (lx->s[lx->pos] == '\\' && lx->pos + 1 < lx->n) {
				char e = lx->s[lx->pos + 1];
				if (e != c && e != '\\')
					rc_buf_addc(&b, '\\');
				lex_advance(lx);
			}
			rc_buf_addc(&b, lx->s[lx->pos]);
			lex_advance(lx);
		}
		if (lx->pos < lx->n)
			lex_advance(lx);
		else
			t.quoted = 2; /* unterminated */
	} else {
		while (lx->pos < lx->n &&
		       (lx->s[lx->pos] == '\0' || !strchr(" \t\r\n\f\v;{}", lx->s[lx->pos]))) {
			if (lx->s[lx->pos] == '\\' && lx->pos + 1 < lx->n) {
				rc_buf_addc(&b, lx->s[lx->pos]);
				lex_advance(lx);
			}
			rc_buf_addc(&b, lx->s[lx->pos]);
			lex_advance(lx);
		}
	}
	t.text = rc_arena_strndup(&lx->doc->arena, b.data ? b.data : "", b.len);
	t.len = b.len;
	rc_buf_fini(&b);
	return t;
}

/* One directive: words up to ';' or '{'. */
#define MAXW 64
typedef struct directive {
	ntok w[MAXW];
	size_t nw;
	enum tok_kind end; /* T_SEMI, T_OPEN, T_CLOSE or T_END */
	ntok end_tok;
	int too_long;
} directive;

static void read_directive(lexer *lx, directive *d)
{
	d->nw = 0;
	d->too_long = 0;
	for (;;) {
		ntok t = lex_next(lx);
		if (t.kind != T_WORD) {
			d->end = t.kind;
			d->end_tok = t;
			return;
		}
		if (d->nw < MAXW)
			d->w[d->nw++] = t;
		else
			d->too_long = 1;
	}
}

static void skip_block(lexer *lx)
{
	int depth = 1;
	while (depth > 0) {
		ntok t = lex_next(lx);
		if (t.kind == T_END)
			return;
		if (t.kind == T_OPEN)
			depth++;
		else if (t.kind == T_CLOSE)
			depth--;
	}
}

static int is_word(const ntok *t, const char *w)
{
	return t->len == strlen(w) && memcmp(t->text, w, t->len) == 0;
}

/* ---- maps -------------------------------------------------------------- */

typedef struct map_entry {
	ntok key, value;
} map_entry;

typedef struct nmap {
	const char *var;     /* "$redirect" */
	const char *source;  /* "$uri" */
	ntok at;
	rc_vec entries;      /* map_entry */
	int hostnames;
	ntok default_value;
	int has_default;
} nmap;

typedef struct reader {
	imp_doc *doc;
	int32_t file;
	const char *path;
	rc_vec maps;        /* nmap */
	rc_vec order;       /* struct placed */
	int server_no;
	int regex_locations;
	uint32_t regex_line;
	int depth; /* nested http/server blocks being read */
} reader;

struct placed {
	size_t idx;
	int phase;  /* 0 server level, 1 exact location, 2 prefix location */
	size_t key; /* phase 2: SIZE_MAX - prefix length */
};

static imp_rule *new_rule(reader *rd, const ntok *first, int phase, size_t key)
{
	imp_rule *r = imp_rule_new(rd->doc, rd->file, rd->path, first->line, "", 0);
	r->loc.col = first->col;
	struct placed *p = rc_vec_push(&rd->order);
	p->idx = rd->doc->rules.len - 1;
	p->phase = phase;
	p->key = key;
	if (rd->server_no > 1) {
		r->conditional = 1;
		imp_refuse(rd->doc, r, first->col, 0, "a rule of server block %d: server_name is not "
		           "read, so only the first server block is imported", rd->server_no);
	}
	return r;
}

static void set_line_text(reader *rd, imp_rule *r, const directive *d)
{
	rc_buf b;
	rc_buf_init(&b);
	for (size_t i = 0; i < d->nw; i++) {
		if (i)
			rc_buf_addc(&b, ' ');
		rc_buf_add(&b, d->w[i].text, d->w[i].len);
	}
	rc_buf_adds(&b, d->end == T_OPEN ? " {" : ";");
	r->line_text = rc_arena_strndup(&rd->doc->arena, b.data, b.len);
	r->loc.len = 0;
	rc_buf_fini(&b);
}

static int status_of(const ntok *t)
{
	if (t->len != 3)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (t->text[i] < '0' || t->text[i] > '9')
			return -1;
	return atoi(t->text);
}

/* The URL of `return`: literal, or with a `$is_args$args` tail (query
 * kept); the caller built the source. */
static void return_target(reader *rd, imp_rule *r, const ntok *url)
{
	const char *s = url->text;
	size_t n = url->len;
	static const char tail[] = "$is_args$args";
	r->query = IMP_QUERY_DROP;
	if (n >= sizeof tail - 1 && memcmp(s + n - (sizeof tail - 1), tail, sizeof tail - 1) == 0) {
		n -= sizeof tail - 1;
		r->query = IMP_QUERY_KEEP;
	}
	imp_parse_subst(rd->doc, r, s, n, url->col);
}

/* `return CODE URL` / `return URL` in d->w[k..] for rule r. */
static void return_rule(reader *rd, imp_rule *r, const directive *d, size_t k)
{
	if (d->nw - k == 1) {
		const ntok *u = &d->w[k];
		if (u->len >= 7 && (strncmp(u->text, "http://", 7) == 0 || strncmp(u->text, "https://", 8) == 0)) {
			r->status = 302;
			return_target(rd, r, u);
			return;
		}
		r->redirects = 0;
		imp_refuse(rd->doc, r, u->col, (uint32_t)u->len,
		           "return with a status and no URL answers with content, not a redirect");
		return;
	}
	if (d->nw - k != 2) {
		imp_refuse(rd->doc, r, d->w[0].col, 0, "return with %zu values, expected CODE URL", d->nw - k);
		return;
	}
	int st = status_of(&d->w[k]);
	if (st != 301 && st != 302 && st != 303 && st != 307 && st != 308) {
		r->redirects = 0;
		imp_refuse(rd->doc, r, d->w[k].col, (uint32_t)d->w[k].len,
		           "return %s is not a redirect (expected 301 302 303 307 308)",
		           rc_quote(&rd->doc->arena, d->w[k].text, d->w[k].len, 20));
		return;
	}
	r->status = st;
	return_target(rd, r, &d->w[k + 1]);
}

static void rewrite_rule(reader *rd, const directive *d)
{
	imp_rule *r = new_rule(rd, &d->w[0], 0, 0);
	set_line_text(rd, r, d);
	if (d->nw < 3 || d->nw > 4) {
		imp_refuse(rd->doc, r, d->w[0].col, 0, "rewrite with %zu values, expected REGEX "
		           "REPLACEMENT [FLAG]", d->nw - 1);
		return;
	}
	const ntok *re = &d->w[1], *rep = &d->w[2];
	const ntok *flag = d->nw == 4 ? &d->w[3] : NULL;
	int absolute = (rep->len >= 7 && strncmp(rep->text, "http://", 7) == 0) ||
	               (rep->len >= 8 && strncmp(rep->text, "https://", 8) == 0) ||
	               (rep->len >= 7 && strncmp(rep->text, "$scheme", 7) == 0);
	if (flag && is_word(flag, "permanent"))
		r->status = 301;
	else if (flag && is_word(flag, "redirect"))
		r->status = 302;
	else if (absolute)
		r->status = 302;
	else {
		r->redirects = 0;
		imp_parse_regex(rd->doc, r, re->text, re->len, re->col, 0);
		imp_refuse(rd->doc, r, flag ? flag->col : rep->col, flag ? (uint32_t)flag->len : (uint32_t)rep->len,
		           "an internal rewrite (flag '%s'), not a redirect",
		           flag ? rc_quote(&rd->doc->arena, flag->text, flag->len, 20) : "none");
		return;
	}
	if (imp_parse_regex(rd->doc, r, re->text, re->len, re->col, 0) != 0) {
		r->has_pattern = 0;
		return;
	}
	size_t n = rep->len;
	r->query = IMP_QUERY_KEEP;
	if (n && rep->text[n - 1] == '?') {
		n--;
		r->query = IMP_QUERY_DROP;
	}
	imp_parse_subst(rd->doc, r, rep->text, n, rep->col);
}

static void map_rules(reader *rd, const directive *ifd, const ntok *var, const directive *ret)
{
	nmap *m = NULL;
	for (size_t i = 0; i < rd->maps.len; i++) {
		nmap *x = RC_VEC_AT(&rd->maps, nmap, i);
		if (strlen(x->var) == var->len && memcmp(x->var, var->text, var->len) == 0)
			m = x;
	}
	if (!m) {
		imp_rule *r = new_rule(rd, &ifd->w[0], 0, 0);
		set_line_text(rd, r, ifd);
		r->conditional = 1;
		imp_refuse(rd->doc, r, var->col, (uint32_t)var->len, "if on '%s', which is not a map "
		           "of this file: a condition the language cannot express",
		           rc_quote(&rd->doc->arena, var->text, var->len, 40));
		return;
	}
	/* return CODE $var[$is_args$args] */
	int st = ret->nw == 3 ? status_of(&ret->w[1]) : -1;
	const ntok *u = ret->nw == 3 ? &ret->w[2] : NULL;
	int keep = 0;
	int ok = u && (st == 301 || st == 302 || st == 303 || st == 307 || st == 308);
	if (ok) {
		size_t vl = var->len;
		ok = u->len >= vl && memcmp(u->text, var->text, vl) == 0;
		if (ok && u->len > vl) {
			keep = u->len - vl == 13 && memcmp(u->text + vl, "$is_args$args", 13) == 0;
			ok = keep;
		}
	}
	int by_uri = strcmp(m->source, "$uri") == 0;
	for (size_t i = 0; i < m->entries.len; i++) {
		map_entry *e = RC_VEC_AT(&m->entries, map_entry, i);
		imp_rule *r = new_rule(rd, &e->key, 0, 0);
		rc_buf lt;
		rc_buf_init(&lt);
		rc_buf_printf(&lt, "%s %s;   (map %s, used by the if at line %u)", e->key.text, e->value.text,
		              m->var, (unsigned)ifd->w[0].line);
		r->line_text = rc_arena_strndup(&rd->doc->arena, lt.data, lt.len);
		rc_buf_fini(&lt);
		if (!ok) {
			imp_refuse(rd->doc, r, ret->w[0].col, 0, "the if uses the map with something other "
			           "than 'return 30x %s' (or with '$is_args$args')", m->var);
			continue;
		}
		if (!by_uri) {
			imp_refuse(rd->doc, r, m->at.col, 0, "map on '%s', expected $uri (a map on "
			           "$request_uri compares the raw path and the query)", m->source);
			continue;
		}
		if (m->hostnames) {
			imp_refuse(rd->doc, r, m->at.col, 0, "a map with 'hostnames'");
			continue;
		}
		if (e->key.len && e->key.text[0] == '~' && !e->key.quoted) {
			imp_refuse(rd->doc, r, e->key.col, (uint32_t)e->key.len, "regex map key '%s' "
			           "(regex keys are not translated)", rc_quote(&rd->doc->arena, e->key.text, e->key.len, 80));
			continue;
		}
		r->status = st;
		r->query = keep ? IMP_QUERY_KEEP : IMP_QUERY_DROP;
		if (imp_parse_source(rd->doc, r, e->key.text, e->key.len, e->key.col, 1) != 0) {
			r->has_pattern = 0;
			continue;
		}
		imp_parse_subst(rd->doc, r, e->value.text, e->value.len, e->value.col);
	}
	if (m->has_default && m->default_value.len) {
		imp_rule *r = new_rule(rd, &m->default_value, 0, 0);
		r->line_text = "default (map)";
		/* it answers every request the entries do not: it takes part in
		 * matching as "/ *", so the rules after it are refused too */
		imp_parse_source(rd->doc, r, "/*", 2, m->default_value.col, 0);
		imp_refuse(rd->doc, r, m->default_value.col, (uint32_t)m->default_value.len,
		           "a map default that is not empty redirects every other request");
	}
}

static void read_map(reader *rd, lexer *lx, const directive *d)
{
	nmap *m = rc_vec_push(&rd->maps);
	rc_vec_init(&m->entries, sizeof(map_entry));
	m->at = d->w[0];
	m->source = d->nw > 1 ? d->w[1].text : "";
	m->var = d->nw > 2 ? d->w[2].text : "";
	directive e;
	for (;;) {
		read_directive(lx, &e);
		if (e.end == T_CLOSE || e.end == T_END)
			return;
		if (e.end == T_OPEN) {
			skip_block(lx);
			continue;
		}
		if (e.nw == 1 && is_word(&e.w[0], "hostnames"))
			m->hostnames = 1;
		else if (e.nw == 2 && is_word(&e.w[0], "default")) {
			m->has_default = 1;
			m->default_value = e.w[1];
		} else if (e.nw == 2) {
			map_entry *me = rc_vec_push(&m->entries);
			me->key = e.w[0];
			me->value = e.w[1];
		}
	}
}

static void read_block(reader *rd, lexer *lx, int level, int pass);

static void location(reader *rd, lexer *lx, const directive *d)
{
	/* location [=|^~|~|~*] URI { ... } */
	size_t k = 1;
	int exact = 0, regex = 0;
	if (d->nw >= 3) {
		if (is_word(&d->w[1], "="))
			exact = 1;
		else if (is_word(&d->w[1], "~") || is_word(&d->w[1], "~*"))
			regex = 1;
		else if (!is_word(&d->w[1], "^~"))
			regex = -1;
		k = 2;
	} else if (d->nw == 2 && d->w[1].len > 1 && d->w[1].text[0] == '=') {
		exact = 1; /* "=/x" */
	}
	const ntok *uri = d->nw > k ? &d->w[k] : &d->w[0];
	/* the body: the first return wins; anything else serves content */
	directive b;
	const directive *ret = NULL;
	directive keep;
	int other = 0;
	for (;;) {
		read_directive(lx, &b);
		if (b.end == T_CLOSE || b.end == T_END)
			break;
		if (b.end == T_OPEN) {
			other = 1;
			skip_block(lx);
			continue;
		}
		if (b.nw && is_word(&b.w[0], "return") && !ret) {
			keep = b;
			ret = &keep;
		} else if (b.nw && (is_word(&b.w[0], "rewrite") || is_word(&b.w[0], "if"))) {
			other = 1;
		}
	}
	if (uri->len && uri->text[0] == '@')
		return; /* a named location: only internal redirects reach it */
	if (regex) {
		rd->regex_locations++;
		if (!rd->regex_line)
			rd->regex_line = d->w[0].line;
	}
	const char *u = uri->text;
	size_t un = uri->len;
	if (exact && un && u[0] == '=') {
		u++;
		un--;
	}
	int prefix_ok = !exact && !regex && un && u[un - 1] == '/';
	imp_rule *r = new_rule(rd, &d->w[0], exact ? 1 : 2, exact ? 0 : SIZE_MAX - un);
	set_line_text(rd, r, d);
	if (!ret || other) {
		r->passive = !regex && ret == NULL && !other;
		r->redirects = 0;
		if (!r->passive) {
			r->conditional = regex != 0;
			imp_refuse(rd->doc, r, d->w[0].col, 0, regex ? "a regex location, which the "
			           "language cannot express" : "a location with rewrite or if: only "
			           "'return' is translated");
			return;
		}
	} else if (regex) {
		r->conditional = 1;
		imp_refuse(rd->doc, r, d->w[0].col, 0, "a regex location, which the language cannot "
		           "express");
		return;
	} else if (!exact && !prefix_ok) {
		imp_refuse(rd->doc, r, uri->col, (uint32_t)uri->len, "prefix location '%s' also matches "
		           "longer names ('%s' and '%.*sx'), which the language cannot express",
		           rc_quote(&rd->doc->arena, u, un, 60), rc_quote(&rd->doc->arena, u, un, 60),
		           (int)(un > 60 ? 60 : un), u);
		if (!r->passive)
			return;
	}
	/* the source: "= /x" exact, "/x/" prefix = "/x/ *" */
	rc_buf src;
	rc_buf_init(&src);
	rc_buf_add(&src, u, un);
	if (!exact)
		rc_buf_addc(&src, '*');
	/* the URI is literal: ':' and '*' inside it are not placeholders */
	int lit_ok = memchr(u, '*', un) == NULL;
	for (size_t i = 0; i + 1 < un && lit_ok; i++)
		if (u[i] == '/' && u[i + 1] == ':')
			lit_ok = 0;
	if (!lit_ok) {
		imp_refuse(rd->doc, r, uri->col, (uint32_t)uri->len, "location '%s' has a '*' or a "
		           "segment starting with ':'", rc_quote(&rd->doc->arena, u, un, 60));
		rc_buf_fini(&src);
		return;
	}
	int rc = imp_parse_source(rd->doc, r, src.data, src.len, uri->col, 0);
	rc_buf_fini(&src);
	if (rc != 0) {
		r->has_pattern = 0;
		return;
	}
	if (r->passive) {
		r->has_pattern = prefix_ok || exact;
		return;
	}
	return_rule(rd, r, ret, 1);
	/* `return` never uses the splat of a prefix location */
}

static void read_block(reader *rd, lexer *lx, int level, int pass)
{
	directive d;
	for (;;) {
		read_directive(lx, &d);
		if (d.end == T_END || d.end == T_CLOSE)
			return;
		if (d.nw == 0) {
			if (d.end == T_OPEN)
				skip_block(lx);
			continue;
		}
		const ntok *w0 = &d.w[0];
		if (d.end == T_OPEN) {
			if ((is_word(w0, "http") || is_word(w0, "server")) && rd->depth >= 8) {
				skip_block(lx); /* no real configuration nests them deeper */
			} else if (is_word(w0, "http")) {
				rd->depth++;
				read_block(rd, lx, level, pass);
				rd->depth--;
			} else if (is_word(w0, "server")) {
				rd->server_no++;
				rd->depth++;
				read_block(rd, lx, 1, pass);
				rd->depth--;
			} else if (is_word(w0, "map")) {
				if (pass == 0)
					read_map(rd, lx, &d);
				else
					skip_block(lx);
			} else if (pass == 1 && is_word(w0, "location")) {
				location(rd, lx, &d);
			} else if (pass == 1 && is_word(w0, "if")) {
				/* if ($var) / if ($var != "") { return 30x $var; } */
				directive body;
				read_directive(lx, &body);
				directive rest;
				int extra = 0;
				if (body.end != T_CLOSE)
					for (;;) {
						read_directive(lx, &rest);
						if (rest.end == T_OPEN)
							skip_block(lx);
						if (rest.end == T_CLOSE || rest.end == T_END)
							break;
						extra = 1;
					}
				const ntok *var = NULL;
				if (d.nw == 2 && d.w[1].len > 3 && d.w[1].text[0] == '(' && d.w[1].text[1] == '$' &&
				    d.w[1].text[d.w[1].len - 1] == ')') {
					ntok *v = (ntok *)&d.w[1];
					v->text++;
					v->len -= 2;
					v->col++;
					var = v;
				} else if (d.nw == 4 && d.w[1].len > 2 && d.w[1].text[0] == '(' && is_word(&d.w[2], "!=") &&
				           d.w[3].len >= 1 && d.w[3].text[d.w[3].len - 1] == ')' &&
				           (d.w[3].len == 1 || (d.w[3].len == 3 && d.w[3].text[0] == '"'))) {
					ntok *v = (ntok *)&d.w[1];
					v->text++;
					v->len--;
					v->col++;
					var = v;
				} else if (d.nw == 5 && is_word(&d.w[1], "(") && is_word(&d.w[3], "!=")) {
					var = &d.w[2];
				}
				if (var && !extra && body.nw && is_word(&body.w[0], "return")) {
					map_rules(rd, &d, var, &body);
				} else {
					imp_rule *r = new_rule(rd, w0, 0, 0);
					set_line_text(rd, r, &d);
					r->conditional = 1;
					imp_refuse(rd->doc, r, w0->col, 0, "an if block: a condition the language "
					           "cannot express (only 'if ($map_var) { return 30x $map_var; }' is translated)");
				}
			} else {
				skip_block(lx);
			}
			continue;
		}
		if (pass != 1 || level == 0)
			continue;
		if (is_word(w0, "rewrite")) {
			rewrite_rule(rd, &d);
		} else if (is_word(w0, "return")) {
			imp_rule *r = new_rule(rd, w0, 0, 0);
			set_line_text(rd, r, &d);
			if (imp_parse_source(rd->doc, r, "/*", 2, w0->col, 0) == 0)
				return_rule(rd, r, &d, 1);
		}
	}
}

static int placed_cmp(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	if (x->phase != y->phase)
		return x->phase - y->phase;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void imp_read_nginx(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len)
{
	reader rd;
	memset(&rd, 0, sizeof rd);
	rd.doc = doc;
	rd.file = file;
	rd.path = path;
	rc_vec_init(&rd.maps, sizeof(nmap));
	rc_vec_init(&rd.order, sizeof(struct placed));
	size_t first = doc->rules.len;
	for (int pass = 0; pass < 2; pass++) {
		lexer lx = { doc, text, len, 0, 1, 1, 0, pass == 1 };
		rd.server_no = 0;
		/* top level: a server-context snippet counts as one server */
		read_block(&rd, &lx, 1, pass);
	}
	/* a regex location may take requests of any prefix location */
	if (rd.regex_locations)
		for (size_t i = 0; i < rd.order.len; i++) {
			struct placed *p = RC_VEC_AT(&rd.order, struct placed, i);
			imp_rule *r = RC_VEC_AT(&doc->rules, imp_rule, p->idx);
			if (p->phase == 2 && !r->refused && !r->passive)
				imp_refuse(doc, r, r->loc.col, 0, "a regex location (line %u) may take some of "
				           "its requests first", (unsigned)rd.regex_line);
		}
	/* nginx's order: server level, exact locations, longest prefixes */
	size_t n = doc->rules.len - first;
	if (n > 1 && rd.order.len == n) {
		rc_sort(rd.order.items, n, sizeof(struct placed), placed_cmp);
		imp_rule *copy = rc_xmalloc(sizeof(imp_rule) * n);
		for (size_t i = 0; i < n; i++)
			copy[i] = *RC_VEC_AT(&doc->rules, imp_rule, RC_VEC_AT(&rd.order, struct placed, i)->idx);
		for (size_t i = 0; i < n; i++) {
			copy[i].seq = first + i;
			*RC_VEC_AT(&doc->rules, imp_rule, first + i) = copy[i];
		}
		free(copy);
	}
	for (size_t i = 0; i < rd.maps.len; i++)
		rc_vec_fini(&RC_VEC_AT(&rd.maps, nmap, i)->entries);
	rc_vec_fini(&rd.maps);
	rc_vec_fini(&rd.order);
}
