/*
 * writer.c - the imported rules as .redir text.
 *
 * Layout: a header (what was imported, from what, how the platform
 * matches), the settings that give the platform's meaning, allow-host for
 * every external host a target names, then per rule in platform order its
 * carried comments, the rule with `note "imported from FILE:LINE"`, and its
 * expect lines; a rule that is not importable or never reached stays as a
 * comment with the reason.
 *
 * Quoting: paths and URLs never need quotes here: every byte that would end
 * a token or that the spec's literal encoding changes anyway (blanks,
 * controls, '"', non-ASCII) is percent-encoded, which gives the same
 * Location (targets) or the same decoded path (sources).  Notes are quoted
 * strings with \" and \\.  Comment text has its control bytes shown as \xNN.
 */
#include "import/import.h"

#include <stdlib.h>
#include <string.h>

static const char HEX[] = "0123456789ABCDEF";

static int is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static void put_pct(rc_buf *out, unsigned char c)
{
	rc_buf_addc(out, '%');
	rc_buf_addc(out, HEX[c >> 4]);
	rc_buf_addc(out, HEX[c & 15]);
}

void imp_put_url(rc_buf *out, const char *s, size_t n, int src)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		/* '\\' too: before ':' it would make "\\:" (a literal colon) */
		int enc = c <= 0x20 || c >= 0x7f || c == '"' || c == '\\';
		if (c == '%' && !(i + 2 < n && is_hex((unsigned char)s[i + 1]) && is_hex((unsigned char)s[i + 2])))
			enc = 1;
		if (src) {
			if (c == '#' || c == '?' || c == '*')
				enc = 1;
			/* ':name' as a whole segment would be a placeholder */
			if (c == ':' && i + 1 < n && name_start((unsigned char)s[i + 1]) &&
			    (i == 0 ? out->len && out->data[out->len - 1] == '/' : s[i - 1] == '/'))
				enc = 1;
		}
		if (enc)
			put_pct(out, c);
		else
			rc_buf_addc(out, (char)c);
	}
}

void imp_put_token(rc_buf *out, const char *s, size_t n)
{
	int quote = n == 0 || s[0] == '#' || s[0] == '"';
	for (size_t i = 0; i < n && !quote; i++)
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '"' || s[i] == '\\' ||
		    s[i] == '\r' || s[i] == '\f' || s[i] == '\v')
			quote = 1;
	if (!quote) {
		rc_buf_add(out, s, n);
		return;
	}
	rc_buf_addc(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			rc_buf_addc(out, '\\');
			rc_buf_addc(out, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			rc_buf_addc(out, '?'); /* a quoted string holds no control byte */
		} else {
			rc_buf_addc(out, (char)c);
		}
	}
	rc_buf_addc(out, '"');
}

/* Comment text: one line, control bytes and bytes that are not UTF-8
 * shown as \xNN (a .redir file is UTF-8 text). */
static void put_comment_text(rc_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			int sl = rc_utf8_seq_len((const unsigned char *)s + i, n - i);
			if (sl > 1) {
				rc_buf_add(out, s + i, (size_t)sl);
				i += (size_t)sl - 1;
				continue;
			}
		}
		if ((c < 0x20 && c != '\t') || c >= 0x7f) {
			rc_buf_adds(out, "\\x");
			rc_buf_addc(out, HEX[c >> 4]);
			rc_buf_addc(out, HEX[c & 15]);
		} else {
			rc_buf_addc(out, (char)c);
		}
	}
}

static void put_comment_lines(rc_buf *out, const char *text, const char *prefix)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		rc_buf_adds(out, prefix);
		put_comment_text(out, p, n);
		rc_buf_addc(out, '\n');
		p += n + (nl ? 1 : 0);
	}
}

static void put_source(rc_buf *out, const imp_rule *r)
{
	if (r->nsrc == 0)
		rc_buf_addc(out, '/');
	for (uint32_t k = 0; k < r->nsrc; k++) {
		const imp_el *e = &r->src[k];
		if (e->kind == IMP_LIT) {
			imp_put_url(out, e->text, e->len, 1);
		} else if (e->kind == IMP_PARAM) {
			rc_buf_addc(out, ':');
			rc_buf_adds(out, r->names[e->param]);
		} else {
			rc_buf_addc(out, '*');
		}
	}
}

/* A rule's target: a literal ':' before a letter or '_' in its path or
 * query is written "\:" (the language reads ":name" there as a
 * placeholder); the fragment is literal text as it is. */
static void put_target(rc_buf *out, const imp_rule *r)
{
	int in_frag = 0;
	for (uint32_t k = 0; k < r->ndst; k++) {
		const imp_el *e = &r->dst[k];
		if (e->kind == IMP_LIT) {
			size_t from = 0;
			for (size_t i = 0; i < e->len; i++) {
				if (e->text[i] == '#')
					in_frag = 1;
				if (!in_frag && e->text[i] == ':' && i + 1 < e->len &&
				    name_start((unsigned char)e->text[i + 1])) {
					imp_put_url(out, e->text + from, i - from, 0);
					rc_buf_adds(out, "\\:");
					from = i + 1;
				}
			}
			imp_put_url(out, e->text + from, e->len - from, 0);
		} else if (e->kind == IMP_PARAM) {
			rc_buf_addc(out, ':');
			rc_buf_adds(out, r->names[e->param]);
		} else {
			rc_buf_addc(out, '*');
		}
	}
}

/* The host an absolute target names (lower case, no port), or NULL. */
static char *target_host(const imp_rule *r)
{
	if (r->ndst == 0 || r->dst[0].kind != IMP_LIT)
		return NULL;
	const char *s = r->dst[0].text;
	size_t n = r->dst[0].len, b;
	if (n > 8 && strncasecmp(s, "https://", 8) == 0)
		b = 8;
	else if (n > 7 && strncasecmp(s, "http://", 7) == 0)
		b = 7;
	else
		return NULL;
	size_t e = b;
	while (e < n && s[e] != '/' && s[e] != ':' && s[e] != '?' && s[e] != '#')
		e++;
	char *h = rc_xmalloc(e - b + 1);
	for (size_t i = b; i < e; i++)
		h[i - b] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i]);
	h[e - b] = '\0';
	return h;
}

/* Does an imported rule end in "/x/" + splat, whose bare parent "/x" the
 * platform does not send to it?  (The setting is written only then.) */
static int needs_splat_no_parent(const imp_doc *doc)
{
	if (doc->sem.splat_parent)
		return 0;
	for (size_t i = 0; i < doc->rules.len; i++) {
		const imp_rule *r = RC_VEC_AT(&doc->rules, imp_rule, i);
		if (r->refused || r->dead_by || r->passive || r->nsrc < 2 ||
		    r->src[r->nsrc - 1].kind != IMP_SPLAT)
			continue;
		const imp_el *l = &r->src[r->nsrc - 2];
		if (l->kind == IMP_LIT && l->len && l->text[l->len - 1] == '/' &&
		    !(r->nsrc == 2 && l->len == 1))
			return 1;
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_note(rc_buf *out, const imp_rule *r)
{
	rc_buf note;
	rc_buf_init(&note);
	rc_buf_printf(&note, "imported from %s:%u", r->path, (unsigned)r->loc.line);
	rc_buf_adds(out, " note \"");
	for (size_t i = 0; i < note.len; i++) {
		unsigned char c = (unsigned char)note.data[i];
		if (c == '"' || c == '\\')
			rc_buf_addc(out, '\\');
		if (c >= 0x80) {
			int sl = rc_utf8_seq_len((const unsigned char *)note.data + i, note.len - i);
			if (sl > 1) {
				rc_buf_add(out, note.data + i, (size_t)sl);
				i += (size_t)sl - 1;
				continue;
			}
		}
		rc_buf_addc(out, (c < 0x20 || c >= 0x7f) ? '?' : (char)c);
	}
	rc_buf_addc(out, '"');
	rc_buf_fini(&note);
}

static void put_original(rc_buf *out, const imp_rule *r)
{
	rc_buf_adds(out, "#   ");
	put_comment_text(out, r->line_text, strlen(r->line_text));
	rc_buf_addc(out, '\n');
}

void imp_write(const imp_doc *doc, rc_buf *out, const char *cmdline)
{
	const imp_semantics *s = &doc->sem;
	rc_buf_adds(out, "# ");
	put_comment_text(out, cmdline, strlen(cmdline));
	rc_buf_printf(out, "\n# %zu rules imported, %zu not importable (commented out with the "
	              "reason), %zu never reached on %s (commented out)\n",
	              doc->imported, doc->refused, doc->dead, s->platform);
	rc_buf_printf(out, "# Meaning on %s (%s): paths compare %s, a trailing slash %s, "
	              "'/x/*' %s '/x'%s; the first rule that matches answers.\n",
	              s->platform, s->reference,
	              s->case_insensitive ? "without regard to case" : "case-sensitively",
	              s->trailing_ignore ? "is ignored" : "counts",
	              s->splat_parent ? "matches" : "does not match",
	              s->static_first ? "; rules without placeholders or splat come first" : "");
	rc_buf_adds(out, "# Every expect line is the platform's answer as the importer reads the "
	              "format: `redirc test` proves the translation.\n\n");
	rc_buf_printf(out, "set case %s\n", s->case_insensitive ? "insensitive" : "sensitive");
	rc_buf_printf(out, "set trailing-slash %s\n", s->trailing_ignore ? "ignore" : "strict");
	rc_buf_adds(out, "set query keep\n");
	if (needs_splat_no_parent(doc))
		rc_buf_adds(out, "set splat-parent no-match\n");
	/* allow-host: every external host an imported target names */
	rc_vec hosts;
	rc_vec_init(&hosts, sizeof(char *));
	for (size_t i = 0; i < doc->rules.len; i++) {
		const imp_rule *r = RC_VEC_AT(&doc->rules, imp_rule, i);
		if (r->refused || r->dead_by)
			continue;
		char *h = target_host(r);
		if (!h)
			continue;
		int served = 0;
		for (size_t j = 0; j < doc->rules.len && !served; j++) {
			const imp_rule *o = RC_VEC_AT(&doc->rules, imp_rule, j);
			if (!o->refused && !o->dead_by && o->host && strcmp(o->host, h) == 0)
				served = 1;
		}
		if (served) {
			free(h);
			continue;
		}
		char **slot = rc_vec_push(&hosts);
		*slot = h;
	}
	if (hosts.len)
		rc_sort(hosts.items, hosts.len, sizeof(char *), str_cmp);
	for (size_t i = 0; i < hosts.len; i++) {
		char *h = *RC_VEC_AT(&hosts, char *, i);
		if (i == 0 || strcmp(h, *RC_VEC_AT(&hosts, char *, i - 1)) != 0)
			rc_buf_printf(out, "allow-host %s\n", h);
	}
	for (size_t i = 0; i < hosts.len; i++)
		free(*RC_VEC_AT(&hosts, char *, i));
	rc_vec_fini(&hosts);
	rc_buf_addc(out, '\n');

	for (size_t i = 0; i < doc->rules.len; i++) {
		const imp_rule *r = RC_VEC_AT(&doc->rules, imp_rule, i);
		if (r->comment)
			put_comment_lines(out, r->comment, "");
		if (r->passive)
			continue;
		if (r->twin_line) {
			rc_buf_printf(out, "# imported with %s:%u (the same rule for the other scheme: "
			              "together they match every scheme, as the host block does)\n",
			              r->path, (unsigned)r->twin_line);
			put_original(out, r);
			continue;
		}
		if (r->refused) {
			rc_buf_printf(out, "# not-importable: %s:%u:%u: ", r->path, (unsigned)r->why_loc.line,
			              (unsigned)r->why_loc.col);
			put_comment_text(out, r->refused, strlen(r->refused));
			rc_buf_addc(out, '\n');
			put_original(out, r);
			continue;
		}
		if (r->dead_by) {
			rc_buf_printf(out, "# never reached on %s: %s:%u answers every request it matches first\n",
			              s->platform, r->dead_by->path, (unsigned)r->dead_by->loc.line);
			put_original(out, r);
			if (r->proof)
				rc_buf_adds(out, r->proof);
			continue;
		}
		const char *indent = "";
		if (r->host) {
			rc_buf_adds(out, "host ");
			rc_buf_adds(out, r->host);
			if (r->subdomains) {
				rc_buf_adds(out, ", *.");
				rc_buf_adds(out, r->host);
			}
			rc_buf_adds(out, " {\n");
			indent = "    ";
		}
		rc_buf_adds(out, indent);
		put_source(out, r);
		if (r->status == 410) {
			rc_buf_adds(out, " gone");
		} else {
			rc_buf_adds(out, " -> ");
			put_target(out, r);
			rc_buf_printf(out, " %d", r->status);
			if (r->query == IMP_QUERY_DROP)
				rc_buf_adds(out, " query drop");
		}
		put_note(out, r);
		rc_buf_addc(out, '\n');
		if (r->host)
			rc_buf_adds(out, "}\n");
		if (r->proof)
			rc_buf_adds(out, r->proof);
	}
	for (size_t i = 0; i < doc->trailer.len; i++)
		put_comment_lines(out, *RC_VEC_AT(&doc->trailer, const char *, i), "");
}
