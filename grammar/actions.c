/*
 * actions.c - the parser's actions: from parsed statements to the IR.
 *
 * The parser calls one rc_build_* function per statement.  Settings (only
 * before the first rule, each once), allow-host, host and group blocks,
 * rules (source: source.c, target: target.c, then attributes resolved as
 * rule > inner group > outer group > settings, and the host scope) and
 * expectations.  Includes and files are in load.c.
 */
#include "grammar/builder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

rc_arena *rc_builder_arena(rc_builder *b)
{
	return &b->ir->arena;
}

size_t rc_builder_quote_max(rc_builder *b)
{
	return b->quote_max ? b->quote_max : 80;
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

void rc_build_syntax_error(rc_builder *b, rc_loc loc, const char *message)
{
	/* one syntax error per line: the rest is usually a consequence */
	if (b->last_syntax_file == loc.file && b->last_syntax_line == loc.line)
		return;
	b->last_syntax_file = loc.file;
	b->last_syntax_line = loc.line;
	rc_diag_add(D(b), RC_SEV_ERROR, "syntax", loc, "%s", message);
	if (b->rec) {
		rc_tok t = { rc_arena_strdup(&b->ir->arena, message), strlen(message), 0, loc };
		rc_rec_stmt(b, REC_SYNTAX, &t, NULL, NULL, NULL, NULL, NULL);
	}
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
		canon[i] = (char)rd_ascii_lower((unsigned char)canon[i]);
	canon[cl] = '\0';
	/* a wildcard name "*.NAME": every subdomain of NAME (one or more
	 * labels), never NAME itself */
	size_t skip = (cl > 2 && canon[0] == '*' && canon[1] == '.') ? 2 : 0;
	if (skip && (memchr(canon + skip, '*', cl - skip) || !rc_host_name_is_valid(canon + skip, cl - skip) ||
	             strspn(canon + skip, "0123456789.") == cl - skip)) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-host", loc,
		            "invalid wildcard host name '%s', expected '*.' and a host name such as "
		            "'*.example.com' (a '*' stands only for the leading labels)",
		            rc_quote(&b->ir->arena, s, n, 80));
		return NULL;
	}
	if (!skip && !rc_host_name_is_valid(canon, cl)) {
		const char *why = memchr(s, ':', n) ? " (a port is not part of a host name)" : "";
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-host", loc,
		            "invalid host name '%s', expected letters, digits, '-' and '.', at most 253 "
		            "bytes and 63 per label, or '*.' before a host name%s",
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

/* Whether the name (a host or "*.NAME") is written, as it is, in
 * allow-host, or in `set hosts` or a host block.  A served host inside an
 * allowed wildcard (or the reverse) is no conflict: only the same name in
 * both is, whichever comes first. */
static int name_in(const rc_vec *v, const char *name)
{
	for (size_t i = 0; i < v->len; i++)
		if (strcmp(*RC_VEC_AT(v, char *, i), name) == 0)
			return 1;
	return 0;
}

static int name_is_allowed(const rc_builder *b, const char *name)
{
	return name_in(&b->ir->allow_hosts, name);
}

static int name_is_served(const rc_builder *b, const char *name)
{
	if (name_in(&b->ir->served_hosts, name))
		return 1;
	for (size_t i = 0; i < b->ir->scopes.len; i++) {
		const rc_scope *s = RC_VEC_AT(&b->ir->scopes, rc_scope, i);
		for (uint32_t j = 0; j < s->nhosts; j++)
			if (strcmp(s->hosts[j], name) == 0)
				return 1;
	}
	return 0;
}

static void add_served(rc_builder *b, char *canon, rc_loc loc, void *arg)
{
	(void)arg;
	if (name_is_allowed(b, canon)) {
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-host", loc,
		            "host '%s' is both served and in allow-host, expected one or the other", canon);
		return;
	}
	*(char **)rc_vec_push(&b->ir->served_hosts) = canon;
}

static void add_allowed(rc_builder *b, char *canon, rc_loc loc, void *arg)
{
	(void)arg;
	if (name_is_served(b, canon)) {
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
	rc_rec_stmt(b, REC_SETTING, kw, name, NULL, NULL, values, NULL);
	static const char *const names[] = {
		"status", "query", "case", "trailing-slash", "max-chain", "hosts", "require",
		"splat-parent", NULL,
	};
	int which = -1;
	for (int i = 0; names[i]; i++)
		if (strcmp(name->text, names[i]) == 0)
			which = i;
	if (which < 0) {
		const char *near = rc_suggest(name->text, names);
		if (near)
			rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", name->loc,
			            "unknown setting '%s'; did you mean '%s'?", Q(b, name), near);
		else
			rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", name->loc,
			            "unknown setting '%s', expected status, query, case, trailing-slash, "
			            "max-chain, hosts, require or splat-parent", Q(b, name));
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
	case SET_SPLAT_PARENT:
		if (one_value(b, name, values, &v) == 0) {
			if (strcmp(v->text, "match") == 0)
				s->splat_no_parent = 0;
			else if (strcmp(v->text, "no-match") == 0)
				s->splat_no_parent = 1;
			else
				rc_diag_add(D(b), RC_SEV_ERROR, "bad-setting", v->loc,
				            "invalid splat-parent policy '%s', expected 'match' (\"/x/*\" also "
				            "matches \"/x\") or 'no-match'", Q(b, v));
		}
		s->loc_splat_parent = kw->loc;
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
	                (s->trailing_strict ? RD_POLICY_TRAILING_STRICT : 0) |
	                (s->splat_no_parent ? RD_POLICY_SPLAT_NO_PARENT : 0);
}

void rc_build_allow_host(rc_builder *b, const rc_tok *kw, const rc_toklist *names)
{
	rc_rec_stmt(b, REC_ALLOW_HOST, kw, NULL, NULL, NULL, names, NULL);
	(void)kw;
	each_host(b, names, add_allowed, NULL);
}

/* ---- blocks ---------------------------------------------------------- */

static void add_scope_host(rc_builder *b, char *canon, rc_loc loc, void *arg)
{
	(void)loc;
	rc_vec *v = arg;
	*(char **)rc_vec_push(v) = canon;
	if (name_is_allowed(b, canon))
		rc_diag_add(D(b), RC_SEV_ERROR, "bad-host", loc,
		            "host '%s' is both served and in allow-host, expected one or the other", canon);
}

void rc_build_host_open(rc_builder *b, const rc_tok *kw, const rc_toklist *names)
{
	rc_rec_stmt(b, REC_HOST_OPEN, kw, NULL, NULL, NULL, names, NULL);
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

static const char *const attribute_names[] = {
	"owner", "note", "query", "expires", "status", NULL,
};

static void apply_attrs(rc_builder *b, const rc_attrlist *attrs, group_attrs *g,
                        int in_group, int *positional_status)
{
	int seen[5] = { 0 };
	int first = 1;
	for (const rc_attrnode *a = attrs->head; a; a = a->next, first = 0) {
		if (a->bare) {
			/* a misspelt attribute name is not a bad status */
			const char *near = a->key.quoted ? NULL : rc_suggest(a->key.text, attribute_names);
			if (!in_group && first && positional_status && !near) {
				int st = parse_status(b, &a->key, 0);
				if (st > 0)
					*positional_status = st;
				continue;
			}
			if (near) {
				rc_diag_add(D(b), RC_SEV_ERROR, "syntax", a->key.loc,
				            "unknown attribute '%s'; did you mean '%s'?", Q(b, &a->key), near);
				/* its value, if any, is not a second error */
				if (a->next && a->next->bare)
					a = a->next;
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
	rc_rec_stmt(b, REC_GROUP_OPEN, kw, label, NULL, NULL, NULL, attrs);
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
	rc_rec_stmt(b, REC_CLOSE, brace, NULL, NULL, NULL, NULL, NULL);
	if (b->blocks.len == 0 ||
	    RC_VEC_AT(&b->blocks, block, b->blocks.len - 1)->file != b->file) {
		rc_diag_add(D(b), RC_SEV_ERROR, "syntax", brace->loc,
		            "unexpected '}', expected it only to close a host or group block of this file");
		return;
	}
	b->blocks.len--;
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
	rc_rec_stmt(b, REC_RULE, source, target, gone, NULL, NULL, attrs);
	rc_arena *A = &b->ir->arena;
	size_t errors_before = D(b)->errors;
	b->seen_rule = 1;
	rc_rule tmp;
	memset(&tmp, 0, sizeof tmp);
	rc_rule *r = &tmp;
	r->loc = source->loc;
	r->source_text = source->text;
	const block *h = innermost(b, BLOCK_HOST);
	r->scope = h ? h->scope : -1;
	int ok = rc_source_build(b, r, source) == 0;
	if (ok && rc_target_subdomain_bound(b, r, NULL, 0)) {
		for (uint32_t p = 0; p < r->nparams; p++)
			if (strcmp(r->param_names[p], "subdomain") == 0) {
				rc_diag_add(D(b), RC_SEV_ERROR, "bad-url", source->loc,
				            "source '%s' names a placeholder ':subdomain', which a wildcard host "
				            "block binds to the matched subdomain, expected another name",
				            source->text);
				ok = 0;
			}
	}
	if (target) {
		r->target_loc = target->loc;
		r->target_text = target->text;
		if (ok && rc_target_build(b, r, target, &r->target) != 0)
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
	rc_rec_stmt(b, REC_EXPECT, kw, url, first, second, NULL, NULL);
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
		if (rc_target_build(b, NULL, second, &t) != 0)
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
