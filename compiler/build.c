/*
 * build.c - from parsed statements to the IR, validating every value.
 *
 * The parser calls one rc_build_* function per statement.  Here the text
 * becomes the IR: settings (only before the first rule, each once), hosts,
 * normalized sources, parsed and pre-encoded targets, resolved attributes
 * (rule > inner group > outer group > settings), host scopes, expectations.
 * Includes are parsed in place on a fresh scanner.
 */
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../grammar/parser.h"
#include "../grammar/scanner.h"

enum block_kind { BLOCK_HOST = 1, BLOCK_GROUP = 2 };

typedef struct group_attrs {
	int status;
	int query_drop;       /* -1 = unset */
	const char *owner;
	const char *note;
	int expires;
	rc_loc expires_loc;
} group_attrs;

typedef struct block {
	enum block_kind kind;
	rc_loc loc;
	int32_t file;
	int32_t scope;        /* BLOCK_HOST */
	const char *label;    /* BLOCK_GROUP */
	group_attrs attrs;    /* BLOCK_GROUP */
} block;

struct active_file {
	dev_t dev;
	ino_t ino;
	int32_t file;
};

struct rc_builder {
	rc_ir *ir;
	int32_t file;         /* the file being parsed */
	int depth;            /* include depth of that file */
	rc_vec blocks;        /* block */
	rc_vec active;        /* struct active_file: the include chain */
	int seen_rule;
	int seen_setting[8];
	rc_buf scratch;       /* build_exact_source: the normalized path */
	rc_vec ttoks;         /* build_target: rd_ttok */
	uint32_t last_syntax_line;
	int32_t last_syntax_file;
	int today;
};

enum { SET_STATUS, SET_QUERY, SET_CASE, SET_TRAILING, SET_MAX_CHAIN, SET_HOSTS, SET_REQUIRE };

rc_arena *rc_builder_arena(rc_builder *b)
{
	return &b->ir->arena;
}

int32_t rc_builder_file(rc_builder *b)
{
	return b->file;
}

void rc_list_push(rc_builder *b, rc_toklist *l, const rc_tok *t)
{
	rc_toknode *n = rc_arena_alloc(&b->ir->arena, sizeof *n);
	n->tok = *t;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
	l->count++;
}

void rc_attr_push(rc_builder *b, rc_attrlist *l, const rc_tok *key,
                  const rc_tok *value, int bare)
{
	rc_attrnode *n = rc_arena_alloc(&b->ir->arena, sizeof *n);
	n->key = *key;
	n->value = *value;
	n->bare = bare;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
}

static rc_diags *D(rc_builder *b)
{
	return b->ir->diags;
}

static char *Q(rc_builder *b, const rc_tok *t)
{
	return rc_quote(&b->ir->arena, t->text, t->len, 80);
}

void rc_build_syntax_error(rc_builder *b, rc_loc loc, const char *message)
{
	/* one syntax error per line: the rest is usually a consequence */
	if (b->last_syntax_file == loc.file && b->last_syntax_line == loc.line)
		return;
	b->last_syntax_file = loc.file;
	b->last_syntax_line = loc.line;
	rc_diag_add(D(b), RC_SEV_ERROR, "syntax", loc, "%s", message);
}

/* ---- values ---------------------------------------------------------- */

static int parse_status(rc_builder *b, const rc_tok *t, int allow_410)
{
	static const int ok[] = { 301, 302, 303, 307, 308 };
	if (t->len == 3 && !t->quoted) {
		int v = atoi(t->text);
		for (size_t i = 0; i < 5; i++)
			if (v == ok[i] && t->text[0] != '0' &&
			    strspn(t->text, "0123456789") == 3)
				return v;
		if (allow_410 && strcmp(t->text, "410") == 0)
			return 410;
	}
	rc_diag_add(D(b), RC_SEV_ERROR, "bad-status", t->loc,
	            "invalid status '%s', expected one of 301 302 303 307 308%s",
	            Q(b, t), allow_410 ? " or 410" : "");
	return -1;
}

static int days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* YYYY-MM-DD -> YYYYMMDD, or -1. */
int rc_parse_date(const char *s, size_t n);
int rc_parse_date(const char *s, size_t n)
{
	if (n != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	return y * 10000 + m * 100 + d;
}

static int parse_date(rc_builder *b, const rc_tok *t)
{
	int v = rc_parse_date(t->text, t->len);
	if (v < 0)
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-date", t->loc,
		            "invalid date '%s', expected a real calendar date as YYYY-MM-DD",
		            Q(b, t));
	return v;
}

static int parse_query_policy(rc_builder *b, const rc_tok *t)
{
	if (strcmp(t->text, "keep") == 0)
		return 0;
	if (strcmp(t->text, "drop") == 0)
		return 1;
	rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", t->loc,
	            "invalid query policy '%s', expected 'keep' or 'drop'", Q(b, t));
	return -1;
}

/* Validate and canonicalize a host name token; NULL on error. */
static char *host_value(rc_builder *b, const char *s, size_t n, rc_loc loc)
{
	char *canon = rc_arena_alloc(&b->ir->arena, n + 1);
	memcpy(canon, s, n);
	size_t cl = n;
	if (cl > 0 && canon[cl - 1] == '.')
		cl--;
	for (size_t i = 0; i < cl; i++)
		if (canon[i] >= 'A' && canon[i] <= 'Z')
			canon[i] = (char)(canon[i] + 32);
	canon[cl] = '\0';
	if (!rc_host_name_is_valid(canon, cl)) {
		const char *why = memchr(s, ':', n) ? " (a port is not part of a host name)" : "";
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-host", loc,
		            "invalid host name '%s', expected letters, digits, '-' and '.'%s",
		            rc_quote(&b->ir->arena, s, n, 80), why);
		return NULL;
	}
	return canon;
}

/* Host lists: `a, b c,d` -> names, split on commas and blanks. */
typedef void (*host_cb)(rc_builder *b, char *canon, rc_loc loc, void *arg);

static void each_host(rc_builder *b, const rc_toklist *names, host_cb cb, void *arg)
{
	for (const rc_toknode *n = names->head; n; n = n->next) {
		const char *s = n->tok.text;
		size_t i = 0;
		while (i < n->tok.len) {
			while (i < n->tok.len && s[i] == ',')
				i++;
			size_t start = i;
			while (i < n->tok.len && s[i] != ',')
				i++;
			if (i > start) {
				rc_loc loc = n->tok.loc;
				loc.col += (uint32_t)start;
				loc.len = (uint32_t)(i - start);
				char *canon = host_value(b, s + start, i - start, loc);
				if (canon)
					cb(b, canon, loc, arg);
			}
		}
	}
}

/* ---- settings -------------------------------------------------------- */

static int in_block(const rc_builder *b)
{
	return b->blocks.len > 0;
}

static void add_served(rc_builder *b, char *canon, rc_loc loc, void *arg)
{
	(void)arg;
	if (rc_ir_host_is_allowed(b->ir, canon)) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-host", loc,
		            "host '%s' is both served and in allow-host, expected one or the other", canon);
		return;
	}
	*(char **)rc_vec_push(&b->ir->served_hosts) = canon;
}

static void add_allowed(rc_builder *b, char *canon, rc_loc loc, void *arg)
{
	(void)arg;
	if (rc_ir_host_is_served(b->ir, canon)) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-host", loc,
		            "host '%s' is both served and in allow-host, expected one or the other", canon);
		return;
	}
	*(char **)rc_vec_push(&b->ir->allow_hosts) = canon;
}

static int one_value(rc_builder *b, const rc_tok *name, const rc_toklist *values,
                     const rc_tok **out)
{
	if (values->count != 1) {
		rc_loc loc = values->count ? values->head->next->tok.loc : name->loc;
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", loc,
		            "setting '%s' takes exactly one value, found %zu", name->text,
		            values->count);
		return -1;
	}
	*out = &values->head->tok;
	return 0;
}

void rc_build_setting(rc_builder *b, const rc_tok *kw, const rc_tok *name,
                      const rc_toklist *values)
{
	static const char *const names[] = {
		"status", "query", "case", "trailing-slash", "max-chain", "hosts", "require", NULL,
	};
	int which = -1;
	for (int i = 0; names[i]; i++)
		if (strcmp(name->text, names[i]) == 0)
			which = i;
	if (which < 0) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", name->loc,
		            "unknown setting '%s', expected status, query, case, trailing-slash, "
		            "max-chain, hosts or require", Q(b, name));
		return;
	}
	if (in_block(b)) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", kw->loc,
		            "setting '%s' inside a block, expected settings at the top of the file",
		            name->text);
		return;
	}
	if (b->seen_rule) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", kw->loc,
		            "setting '%s' after the first rule, expected settings before every rule",
		            name->text);
		return;
	}
	if (b->seen_setting[which]) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", kw->loc,
		            "setting '%s' repeated, expected each setting at most once", name->text);
		return;
	}
	b->seen_setting[which] = 1;
	rc_settings *s = &b->ir->settings;
	const rc_tok *v = NULL;
	switch (which) {
	case SET_STATUS:
		if (one_value(b, name, values, &v) == 0) {
			int st = parse_status(b, v, 0);
			if (st > 0)
				s->status = st;
		}
		s->loc_status = kw->loc;
		break;
	case SET_QUERY:
		if (one_value(b, name, values, &v) == 0) {
			int q = parse_query_policy(b, v);
			if (q >= 0)
				s->query_drop = q;
		}
		s->loc_query = kw->loc;
		break;
	case SET_CASE:
		if (one_value(b, name, values, &v) == 0) {
			if (strcmp(v->text, "sensitive") == 0)
				s->case_insensitive = 0;
			else if (strcmp(v->text, "insensitive") == 0)
				s->case_insensitive = 1;
			else
				rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", v->loc,
				            "invalid case policy '%s', expected 'sensitive' or 'insensitive'",
				            Q(b, v));
		}
		s->loc_case = kw->loc;
		break;
	case SET_TRAILING:
		if (one_value(b, name, values, &v) == 0) {
			if (strcmp(v->text, "ignore") == 0)
				s->trailing_strict = 0;
			else if (strcmp(v->text, "strict") == 0)
				s->trailing_strict = 1;
			else
				rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", v->loc,
				            "invalid trailing-slash policy '%s', expected 'ignore' or 'strict'",
				            Q(b, v));
		}
		s->loc_trailing = kw->loc;
		break;
	case SET_MAX_CHAIN:
		if (one_value(b, name, values, &v) == 0) {
			char *end;
			errno = 0;
			long n = strtol(v->text, &end, 10);
			if (*end || end == v->text || errno || n < 1 || n > 1000 || v->text[0] == '+')
				rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", v->loc,
				            "invalid max-chain '%s', expected a whole number from 1 to 1000",
				            Q(b, v));
			else
				s->max_chain = (int)n;
		}
		s->loc_max_chain = kw->loc;
		break;
	case SET_HOSTS:
		if (values->count == 0)
			rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", name->loc,
			            "setting 'hosts' has no value, expected one or more host names");
		each_host(b, values, add_served, NULL);
		s->loc_hosts = kw->loc;
		break;
	case SET_REQUIRE:
		if (values->count == 0)
			rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", name->loc,
			            "setting 'require' has no value, expected owner, note or expect");
		for (const rc_toknode *n = values->head; n; n = n->next) {
			if (strcmp(n->tok.text, "owner") == 0)
				s->require |= RC_REQUIRE_OWNER;
			else if (strcmp(n->tok.text, "note") == 0)
				s->require |= RC_REQUIRE_NOTE;
			else if (strcmp(n->tok.text, "expect") == 0)
				s->require |= RC_REQUIRE_EXPECT;
			else
				rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", n->tok.loc,
				            "invalid requirement '%s', expected owner, note or expect",
				            Q(b, &n->tok));
		}
		s->loc_require = kw->loc;
		break;
	default:
		rc_diag_add(D(b), RC_SEV_ERROR, "syntax", kw->loc, "internal error: setting %d", which);
	}
	b->ir->policy = (s->case_insensitive ? RD_POLICY_CASE_INSENSITIVE : 0) |
	                (s->trailing_strict ? RD_POLICY_TRAILING_STRICT : 0);
}

void rc_build_allow_host(rc_builder *b, const rc_tok *kw, const rc_toklist *names)
{
	(void)kw;
	each_host(b, names, add_allowed, NULL);
}

/* ---- blocks ---------------------------------------------------------- */

static void add_scope_host(rc_builder *b, char *canon, rc_loc loc, void *arg)
{
	(void)loc;
	rc_vec *v = arg;
	*(char **)rc_vec_push(v) = canon;
	if (rc_ir_host_is_allowed(b->ir, canon))
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-host", loc,
		            "host '%s' is both served and in allow-host, expected one or the other", canon);
}

void rc_build_host_open(rc_builder *b, const rc_tok *kw, const rc_toklist *names)
{
	for (size_t i = 0; i < b->blocks.len; i++) {
		block *o = RC_VEC_AT(&b->blocks, block, i);
		if (o->kind == BLOCK_HOST) {
			rc_diag_add(D(b), RC_SEV_ERROR, "syntax", kw->loc,
			            "host block inside another host block, expected host blocks not to nest");
			rc_diag_note(D(b), o->loc, "the enclosing host block opens here");
			break;
		}
	}
	rc_vec hosts;
	rc_vec_init(&hosts, sizeof(char *));
	each_host(b, names, add_scope_host, &hosts);
	rc_scope *s = rc_vec_push(&b->ir->scopes);
	s->nhosts = (uint32_t)hosts.len;
	s->hosts = rc_arena_alloc(&b->ir->arena, (hosts.len + 1) * sizeof(char *));
	if (hosts.len)
		memcpy(s->hosts, hosts.items, hosts.len * sizeof(char *));
	s->loc = kw->loc;
	rc_vec_fini(&hosts);
	block *blk = rc_vec_push(&b->blocks);
	blk->kind = BLOCK_HOST;
	blk->loc = kw->loc;
	blk->file = b->file;
	blk->scope = (int32_t)(b->ir->scopes.len - 1);
}

static void apply_attrs(rc_builder *b, const rc_attrlist *attrs, group_attrs *g,
                        int in_group, int *positional_status)
{
	int seen[5] = { 0 };
	int first = 1;
	for (const rc_attrnode *a = attrs->head; a; a = a->next, first = 0) {
		if (a->bare) {
			if (!in_group && first && positional_status) {
				int st = parse_status(b, &a->key, 0);
				if (st > 0)
					*positional_status = st;
				continue;
			}
			rc_diag_add(D(b), RC_SEV_ERROR, "syntax", a->key.loc,
			            "unexpected '%s', expected %s", Q(b, &a->key),
			            in_group ? "an attribute (owner, note, query, expires, status) or '{'"
			                     : "an attribute (owner, note, query, expires)");
			continue;
		}
		const char *k = a->key.text;
		int idx = strcmp(k, "owner") == 0 ? 0 : strcmp(k, "note") == 0 ? 1 :
		          strcmp(k, "query") == 0 ? 2 : strcmp(k, "expires") == 0 ? 3 : 4;
		if (seen[idx]) {
			rc_diag_add(D(b), RC_SEV_ERROR, "syntax", a->key.loc,
			            "attribute '%s' repeated, expected each attribute at most once", k);
			continue;
		}
		seen[idx] = 1;
		switch (idx) {
		case 0:
			g->owner = a->value.text;
			break;
		case 1:
			if (!a->value.quoted)
				rc_diag_add(D(b), RC_SEV_ERROR, "syntax", a->value.loc,
				            "note '%s' is not quoted, expected a quoted string", Q(b, &a->value));
			g->note = a->value.text;
			break;
		case 2: {
			int q = parse_query_policy(b, &a->value);
			if (q >= 0)
				g->query_drop = q;
			break;
		}
		case 3: {
			int d = parse_date(b, &a->value);
			if (d > 0) {
				g->expires = d;
				g->expires_loc = a->value.loc;
			}
			break;
		}
		case 4:
			if (!in_group) {
				rc_diag_add(D(b), RC_SEV_ERROR, "syntax", a->key.loc,
				            "'status' attribute on a rule, expected the status as a bare number after the target");
				break;
			}
			{
				int st = parse_status(b, &a->value, 0);
				if (st > 0)
					g->status = st;
			}
			break;
		default:
			break;
		}
	}
}

void rc_build_group_open(rc_builder *b, const rc_tok *kw, const rc_tok *label,
                         const rc_attrlist *attrs)
{
	group_attrs g = { 0, -1, NULL, NULL, 0, RC_NOLOC };
	/* inherit from the enclosing group */
	for (size_t i = b->blocks.len; i-- > 0;) {
		block *o = RC_VEC_AT(&b->blocks, block, i);
		if (o->kind == BLOCK_GROUP) {
			g = o->attrs;
			break;
		}
	}
	if (!label->quoted)
		rc_diag_add(D(b), RC_SEV_ERROR, "syntax", label->loc,
		            "group label '%s' is not quoted, expected a quoted string", Q(b, label));
	apply_attrs(b, attrs, &g, 1, NULL);
	block *blk = rc_vec_push(&b->blocks);
	blk->kind = BLOCK_GROUP;
	blk->loc = kw->loc;
	blk->file = b->file;
	blk->scope = -1;
	blk->label = label->text;
	blk->attrs = g;
}

void rc_build_close(rc_builder *b, const rc_tok *brace)
{
	if (b->blocks.len == 0 ||
	    RC_VEC_AT(&b->blocks, block, b->blocks.len - 1)->file != b->file) {
		rc_diag_add(D(b), RC_SEV_ERROR, "syntax", brace->loc,
		            "unexpected '}', expected it only to close a host or group block of this file");
		return;
	}
	b->blocks.len--;
}

/* ---- sources --------------------------------------------------------- */

typedef struct seg {
	int param;        /* 1 = `:name` */
	const char *text; /* decoded bytes (literal) or the name */
	size_t len;
} seg;

static int name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

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
static size_t first_control(const char *s, size_t n)
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

/* The index of the first byte build_source must look at (a control byte,
 * DEL, '?', '#' or '*'), or n. */
static size_t source_first_stop(const char *s, size_t n)
{
	size_t end = first_control(s, n);
	for (const char *stop = "?#*"; *stop; stop++) {
		const char *c = memchr(s, *stop, end);
		if (c)
			end = (size_t)(c - s);
	}
	return end;
}

/* Parse and normalize a source.  Fills the rule's tokens; returns -1 after
 * a diagnostic. */
static int build_source(rc_builder *b, rc_rule *r, const rc_tok *t)
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
					            RD_MAX_CAPTURES - 2);
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

/* Parse a target (rules) or an expected target (expect lines, where
 * `rule` is NULL and placeholders are literal text). */
static int build_target(rc_builder *b, rc_rule *r, const rc_tok *t, rc_target *out)
{
	rc_arena *A = &b->ir->arena;
	const char *s = t->text;
	size_t n = t->len;
	memset(out, 0, sizeof *out);
	size_t pos = 0;
	/* quoted targets may hold blanks: they are encoded; controls never */
	if (first_control(s, n) < n) {
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
		char *host = rc_arena_alloc(A, hl + 1);
		rd_host_canon(auth, hl, host);
		if (!rc_host_name_is_valid(host, strlen(host))) {
			rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
			            "invalid target '%s': host '%s' is not a valid host name",
			            Q(b, t), rc_quote(A, auth, hl, 80));
			return -1;
		}
		out->absolute = 1;
		out->scheme = sl == 4 ? "http" : "https";
		out->host = host;
		out->port = colon ? atoi(colon + 1) : 0;
		out->prefix = rc_arena_printf(A, "%s://%s%s%.*s", out->scheme, host,
		                              colon ? ":" : "", colon ? (int)(al - hl - 1) : 0,
		                              colon ? colon + 1 : "");
	} else if (n == 0 || s[0] != '/') {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
		            "invalid target '%s', expected a path starting with '/' or an http:// or https:// URL",
		            Q(b, t));
		return -1;
	} else if (n >= 2 && (s[1] == '/' || s[1] == '\\')) {
		rc_diag_add(D(b), RC_SEV_ERROR, "open-redirect", t->loc,
		            "target '%s' is protocol-relative: browsers read it as another host, "
		            "expected a path with a single leading '/' or an absolute URL", Q(b, t));
		return -1;
	}
	/* fragment and query */
	const char *hash = memchr(s + pos, '#', n - pos);
	size_t end = hash ? (size_t)(hash - s) : n;
	const char *qm = memchr(s + pos, '?', end - pos);
	if (qm && (size_t)(qm - s) + 1 == end) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", t->loc,
		            "invalid target '%s': it ends its query with nothing after '?', "
		            "expected a query after '?' or no '?'", Q(b, t));
		return -1;
	}
	size_t qstart = qm ? (size_t)(qm - s) : end;
	rc_vec toks = b->ttoks; /* the builder's scratch, reused: no malloc per rule */
	toks.len = 0;
	if (out->absolute) {
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
		for (size_t k = from; r && k < to; k++) {
			k = next_capture_char(s, k, to);
			if (k == to)
				break;
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

/* ---- rules ----------------------------------------------------------- */

static const block *innermost(const rc_builder *b, enum block_kind kind)
{
	for (size_t i = b->blocks.len; i-- > 0;) {
		const block *o = RC_VEC_AT(&b->blocks, block, i);
		if (o->kind == kind)
			return o;
	}
	return NULL;
}

void rc_build_rule(rc_builder *b, const rc_tok *source, const rc_tok *target,
                   const rc_tok *gone, const rc_attrlist *attrs)
{
	rc_arena *A = &b->ir->arena;
	size_t errors_before = D(b)->errors;
	b->seen_rule = 1;
	rc_rule tmp;
	memset(&tmp, 0, sizeof tmp);
	rc_rule *r = &tmp;
	r->loc = source->loc;
	r->source_text = source->text;
	r->scope = -1;
	int ok = build_source(b, r, source) == 0;
	if (target) {
		r->target_loc = target->loc;
		r->target_text = target->text;
		if (ok && build_target(b, r, target, &r->target) != 0)
			ok = 0;
		if (ok && r->target.uses_splat && r->target.ntoks > 0) {
			/* "/go*" to "/" + splat: a splat that can start with a slash right after
			 * the target's first '/' makes `//host` */
			const rd_ttok *t0 = &r->target.toks[0];
			const rd_ttok *t1 = r->target.ntoks > 1 ? &r->target.toks[1] : NULL;
			int starts_with_slash_then_splat =
			    !r->target.absolute && t0->kind == RD_TTOK_LIT && t0->len == 1 &&
			    t0->text[0] == '/' && t1 && t1->kind == RD_TTOK_CAP_PATH &&
			    t1->capture == r->nparams;
			const rd_ptok *before = r->nsrc >= 2 ? &r->src[r->nsrc - 2] : NULL;
			int splat_after_slash = before && before->kind == RD_PTOK_LIT &&
			                        before->len > 0 && before->text[before->len - 1] == '/';
			if (starts_with_slash_then_splat && !splat_after_slash) {
				rc_diag_add(D(b), RC_SEV_ERROR, "open-redirect", target->loc,
				            "target '%s' can become protocol-relative: the splat of '%s' may start "
				            "with '/', making '//host', expected the splat after a '/' in the source "
				            "(for example '%.*s/*')",
				            Q(b, target), source->text, (int)(source->len - 1), source->text);
				ok = 0;
			}
		}
	} else {
		r->target_loc = gone->loc;
		r->gone = 1;
	}
	/* attributes: rule > groups > settings */
	const block *g = innermost(b, BLOCK_GROUP);
	group_attrs ga = g ? g->attrs : (group_attrs){ 0, -1, NULL, NULL, 0, RC_NOLOC };
	group_attrs own = { 0, -1, NULL, NULL, 0, RC_NOLOC };
	int positional = 0;
	apply_attrs(b, attrs, &own, 0, target ? &positional : NULL);
	r->status = r->gone ? 410 : positional ? positional : ga.status ? ga.status : b->ir->settings.status;
	r->query_drop = own.query_drop >= 0 ? own.query_drop
	              : ga.query_drop >= 0 ? ga.query_drop : b->ir->settings.query_drop;
	r->owner = own.owner ? own.owner : ga.owner;
	r->note = own.note ? own.note : ga.note;
	r->expires = own.expires ? own.expires : ga.expires;
	r->expires_loc = own.expires ? own.expires_loc : ga.expires_loc;
	r->group = g ? g->label : NULL;
	const block *h = innermost(b, BLOCK_HOST);
	r->scope = h ? h->scope : -1;
	(void)A;
	/* a rule with an error in any of its values is left out of the IR: the
	 * file cannot compile anyway, and later checks see only sound rules */
	if (!ok || D(b)->errors != errors_before)
		return;
	r->index = (uint32_t)b->ir->rules.len;
	rc_rule *slot = rc_vec_push(&b->ir->rules);
	*slot = tmp;
}

/* ---- expectations ---------------------------------------------------- */

void rc_build_expect(rc_builder *b, const rc_tok *kw, const rc_tok *url,
                     const rc_tok *first, const rc_tok *second)
{
	rc_arena *A = &b->ir->arena;
	rc_expect e;
	memset(&e, 0, sizeof e);
	e.loc = kw->loc;
	e.url_text = url->text;
	const char *why = NULL;
	if (rc_url_split(A, url->text, url->len, &e.host, &e.path, &e.query, &e.query_len, &why) != 0) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", url->loc,
		            "invalid request URL '%s', %s", Q(b, url), why);
		return;
	}
	if (strcmp(first->text, "pass") == 0 && !first->quoted) {
		e.kind = RC_EXPECT_PASS;
		if (second) {
			rc_diag_add(D(b), RC_SEV_ERROR, "syntax", second->loc,
			            "unexpected '%s' after 'pass', expected the end of the line", Q(b, second));
			return;
		}
	} else if (strcmp(first->text, "410") == 0) {
		e.kind = RC_EXPECT_GONE;
		e.status = 410;
		if (second) {
			rc_diag_add(D(b), RC_SEV_ERROR, "syntax", second->loc,
			            "unexpected '%s' after '410', expected the end of the line (410 has no Location)",
			            Q(b, second));
			return;
		}
	} else {
		int st = parse_status(b, first, 1);
		if (st < 0)
			return;
		if (!second) {
			rc_diag_add(D(b), RC_SEV_ERROR, "syntax", first->loc,
			            "expected a target after status %d", st);
			return;
		}
		e.kind = RC_EXPECT_REDIRECT;
		e.status = st;
		rc_target t;
		if (build_target(b, NULL, second, &t) != 0)
			return;
		rc_buf buf;
		rc_buf_init(&buf);
		for (uint32_t i = 0; i < t.ntoks; i++)
			rc_buf_add(&buf, t.toks[i].text, t.toks[i].len);
		if (t.fragment)
			rc_buf_adds(&buf, t.fragment);
		e.target = rc_arena_strndup(A, buf.data, buf.len);
		rc_buf_fini(&buf);
	}
	*(rc_expect *)rc_vec_push(&b->ir->expects) = e;
}

/* ---- files and includes ---------------------------------------------- */

/* Report NUL bytes and invalid UTF-8, one error per line, and blank those
 * lines so the parser goes on with the next.  With `fix` 0, only tell
 * whether the text has such a byte (1) or not (0): nothing is reported or
 * changed. */
/* Are the 8 bytes of w all ASCII, none of them NUL or '\n'?  (A byte is
 * zero exactly when (v - 0x01) & ~v sets its high bit.) */
static int word_is_plain_ascii(uint64_t w)
{
	const uint64_t lo = 0x0101010101010101ull, hi = 0x8080808080808080ull;
	uint64_t nl = w ^ (lo * '\n');
	return ((w | ((w - lo) & ~w) | ((nl - lo) & ~nl)) & hi) == 0;
}

static int screen_text(rc_builder *b, char *text, size_t len, int fix)
{
	uint32_t line = 1;
	size_t line_start = 0;
	for (size_t i = 0; i < len;) {
		/* fast path: plain ASCII needs no check, 8 bytes at a time */
		uint64_t w;
		while (i + 8 <= len && (memcpy(&w, text + i, 8), word_is_plain_ascii(w)))
			i += 8;
		if (i >= len)
			break;
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			line++;
			line_start = ++i;
			continue;
		}
		int bad = 0;
		const char *what = NULL;
		if (c == 0) {
			bad = 1;
			what = "a NUL byte";
		} else if (c >= 0x80) {
			int l = rc_utf8_seq_len((const unsigned char *)text + i, len - i);
			if (l < 0) {
				bad = 1;
				what = "invalid UTF-8";
			} else {
				i += (size_t)l;
				continue;
			}
		}
		if (!bad) {
			i++;
			continue;
		}
		if (!fix)
			return 1;
		rc_loc loc = { b->file, line, (uint32_t)(i - line_start + 1), 1 };
		rc_diag_add(D(b), RC_SEV_ERROR, "syntax", loc,
		            "%s (byte 0x%02x), expected UTF-8 text; the line is skipped", what, c);
		size_t j = line_start;
		while (j < len && text[j] != '\n')
			text[j++] = ' ';
		i = j;
	}
	return 0;
}

/* Reserve the rules array once from the line count of the top file, so a
 * large file does not pay for repeated doubling (untouched pages of an
 * over-estimate cost no memory). */
static void reserve_rules(rc_ir *ir, const char *text, size_t len)
{
	size_t lines = 1;
	for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL; p++)
		lines++;
	rc_vec *v = &ir->rules;
	if (v->cap < lines) {
		v->items = rc_xrealloc(v->items, lines * v->item_size);
		v->cap = lines;
	}
}

static void parse_buffer(rc_builder *b, char *text, size_t len)
{
	rc_parse ctx;
	ctx.builder = b;
	yyscan_t scanner;
	if (rc_yylex_init_extra(&ctx, &scanner) != 0) {
		rc_diag_add(D(b), RC_SEV_ERROR, "syntax", RC_NOLOC, "cannot start the scanner");
		return;
	}
	ctx.scanner = scanner;
	/* a final newline so the last statement always ends */
	/* scan in place: `text` ends with two NUL bytes after `len` */
	YY_BUFFER_STATE buf = rc_yy_scan_buffer(text, len + 2, scanner);
	rc_yyset_lineno(1, scanner);
	rc_yyset_column(1, scanner);
	size_t depth_at_start = b->blocks.len;
	rc_yyparse(scanner, &ctx);
	rc_yy_delete_buffer(buf, scanner);
	rc_yylex_destroy(scanner);
	/* blocks opened in this file must close in it */
	while (b->blocks.len > depth_at_start) {
		block *o = RC_VEC_AT(&b->blocks, block, b->blocks.len - 1);
		rc_diag_add(D(b), RC_SEV_ERROR, "syntax", o->loc,
		            "%s block is never closed, expected '}' before the end of the file",
		            o->kind == BLOCK_HOST ? "host" : "group");
		b->blocks.len--;
	}
}

/* Parse len bytes of text, which has room for 3 more: every statement
 * ends with a newline, and flex wants two NUL bytes at the end. */
static void scan_text(rc_builder *b, char *text, size_t len)
{
	text[len] = '\n';
	text[len + 1] = '\0';
	text[len + 2] = '\0';
	parse_buffer(b, text, len + 1);
}

#define RC_MAX_FILE_SIZE (1024ull * 1024 * 1024)

/* Read a whole file.  Returns the text (malloc'ed, NUL-terminated, with room
 * for 2 more bytes after the NUL: see scan_text) or NULL with *err set to an
 * errno value (EISDIR, ENODEV for a non-regular file). */
static char *read_file(const char *path, size_t *len, int *err, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	if (fstat(fd, st) != 0) {
		*err = errno;
		close(fd);
		return NULL;
	}
	if (S_ISDIR(st->st_mode)) {
		*err = EISDIR;
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st->st_mode)) {
		*err = ENODEV;
		close(fd);
		return NULL;
	}
	if ((unsigned long long)st->st_size > RC_MAX_FILE_SIZE) {
		*err = EFBIG;
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st->st_size + 4, n = 0;
	char *text = rc_xmalloc(cap);
	for (;;) {
		if (n > RC_MAX_FILE_SIZE) {
			/* a file that grows while read, or a /proc file of size 0 */
			*err = EFBIG;
			free(text);
			close(fd);
			return NULL;
		}
		if (n + 3 >= cap) {
			cap *= 2;
			text = rc_xrealloc(text, cap);
		}
		ssize_t r = read(fd, text + n, cap - n - 3);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			free(text);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	text[n] = '\0';
	*len = n;
	return text;
}

static const char *errno_text(int err)
{
	if (err == EFBIG)
		return "larger than the 1 GiB limit of a rule file";
	if (err == ENODEV)
		return "not a regular file";
	return strerror(err);
}

static int retry_can_help(int err)
{
	return err == EAGAIN || err == EINTR || err == EIO || err == ENFILE ||
	       err == EMFILE || err == ENOMEM || err == EBUSY;
}

/* Parse one file in place.  `at` is the include statement (file -1 for
 * the top file).  Returns 0, or -1 if the file could not be read. */
static int load_one(rc_builder *b, const char *path, rc_loc at)
{
	size_t len = 0;
	int err = 0;
	struct stat st;
	char *text = read_file(path, &len, &err, &st);
	if (!text) {
		const char *hint = retry_can_help(err) ? "a retry may help" : "a retry will not help until the file is fixed";
		if (at.file < 0)
			rc_diag_add(D(b), RC_SEV_ERROR, "include", RC_NOLOC,
			            "cannot read '%s': %s (%s)", path, errno_text(err), hint);
		else
			rc_diag_add(D(b), RC_SEV_ERROR, "include", at,
			            "cannot read included file '%s': %s (%s)", path, errno_text(err), hint);
		return -1;
	}
	for (size_t i = 0; i < b->active.len; i++) {
		struct active_file *af = RC_VEC_AT(&b->active, struct active_file, i);
		if (af->dev == st.st_dev && af->ino == st.st_ino) {
			rc_diag_add(D(b), RC_SEV_ERROR, "include", at,
			            "include cycle: '%s' is already being read, expected includes to form no cycle",
			            path);
			for (size_t j = b->active.len; j-- > i + 1;) {
				struct active_file *cf = RC_VEC_AT(&b->active, struct active_file, j);
				const rc_file *f = rc_diags_file(D(b), cf->file);
				rc_diag_note(D(b), f->included_at, "'%s' was included from here", f->path);
			}
			free(text);
			return 0;
		}
	}
	int32_t parent = b->file;
	int32_t id = rc_diags_add_file(D(b), path, text, len, at.file < 0 ? -1 : parent, at);
	if (at.file < 0)
		reserve_rules(b->ir, text, len);
	struct active_file *af = rc_vec_push(&b->active);
	af->dev = st.st_dev;
	af->ino = st.st_ino;
	af->file = id;
	int32_t saved_file = b->file;
	uint32_t saved_line = b->last_syntax_line;
	int32_t saved_sfile = b->last_syntax_file;
	b->file = id;
	if (at.file < 0)
		b->ir->top_file = id;
	/* Scan the text in place (read_file left room for the "\n\0\0" the
	 * scanner needs): a clean file is not copied.  Flex NUL-terminates each
	 * token in the buffer only until it reads the next, so the text is
	 * whole again when the parse ends, before any diagnostic is printed.  A
	 * text with bad bytes is screened in a copy, since the diagnostics
	 * show its lines as they are. */
	if (screen_text(b, text, len, 0)) {
		char *work = rc_xmalloc(len + 3);
		memcpy(work, text, len);
		screen_text(b, work, len, 1);
		scan_text(b, work, len);
		free(work);
	} else {
		scan_text(b, text, len);
		text[len] = '\0'; /* the file text again, NUL-terminated */
	}
	b->file = saved_file;
	b->last_syntax_line = saved_line;
	b->last_syntax_file = saved_sfile;
	b->active.len--;
	return 0;
}

void rc_build_include(rc_builder *b, const rc_tok *kw, const rc_tok *path)
{
	(void)kw;
	if (path->len == 0) {
		rc_diag_add(D(b), RC_SEV_ERROR, "include", path->loc,
		            "empty include path, expected a file name");
		return;
	}
	if (b->depth + 1 > RC_MAX_INCLUDE_DEPTH) {
		rc_diag_add(D(b), RC_SEV_ERROR, "include", path->loc,
		            "includes nested deeper than %d files, expected a shallower include chain",
		            RC_MAX_INCLUDE_DEPTH);
		const rc_file *f = rc_diags_file(D(b), b->file);
		int shown = 0;
		while (f && f->parent >= 0 && shown < 8) {
			rc_diag_note(D(b), f->included_at, "'%s' was included from here", f->path);
			f = rc_diags_file(D(b), f->parent);
			shown++;
		}
		return;
	}
	const rc_file *cur = rc_diags_file(D(b), b->file);
	char *full;
	if (path->text[0] == '/' || !cur) {
		full = rc_arena_strdup(&b->ir->arena, path->text);
	} else {
		const char *slash = strrchr(cur->path, '/');
		if (slash)
			full = rc_arena_printf(&b->ir->arena, "%.*s/%s", (int)(slash - cur->path),
			                       cur->path, path->text);
		else
			full = rc_arena_strdup(&b->ir->arena, path->text);
	}
	b->depth++;
	load_one(b, full, path->loc);
	b->depth--;
}

static void builder_init(rc_builder *b, rc_ir *ir, int today)
{
	memset(b, 0, sizeof *b);
	b->ir = ir;
	b->file = -1;
	b->last_syntax_file = -2;
	b->today = today;
	rc_vec_init(&b->blocks, sizeof(block));
	rc_vec_init(&b->active, sizeof(struct active_file));
	rc_buf_init(&b->scratch);
	rc_vec_init(&b->ttoks, sizeof(rd_ttok));
}

static void builder_fini(rc_builder *b)
{
	rc_vec_fini(&b->blocks);
	rc_vec_fini(&b->active);
	rc_buf_fini(&b->scratch);
	rc_vec_fini(&b->ttoks);
}

int rc_load_file(rc_ir *ir, const char *path, int today)
{
	rc_builder b;
	builder_init(&b, ir, today);
	int rc = load_one(&b, path, RC_NOLOC);
	builder_fini(&b);
	return rc;
}

int rc_load_text(rc_ir *ir, const char *name, const char *text, size_t len, int today)
{
	rc_builder b;
	builder_init(&b, ir, today);
	char *copy = rc_xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	int32_t id = rc_diags_add_file(ir->diags, name, copy, len, -1, RC_NOLOC);
	ir->top_file = id;
	b.file = id;
	char *work = rc_xmalloc(len + 3);
	memcpy(work, text, len);
	work[len] = '\n';
	work[len + 1] = '\0';
	work[len + 2] = '\0';
	reserve_rules(ir, work, len);
	screen_text(&b, work, len, 1);
	parse_buffer(&b, work, len + 1);
	free(work);
	builder_fini(&b);
	return 0;
}
