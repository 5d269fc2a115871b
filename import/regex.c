/*
 * regex.c - the part of PCRE that the language can say exactly.
 *
 *   ^ LITERAL... ( "/" ([^/]+) )... [ "/" (.*) ] $
 *
 * Literal bytes (letters, digits, "/-_~,;=@!&'%:", and any punctuation
 * escaped with '\'), whole-segment groups ([^/]+) as placeholders, a final
 * (.*) after a '/' as the splat.  An unescaped '.', any other group, class,
 * alternation, quantifier or a missing '^' or '$' is a regex outside the
 * language and is refused with the construct named.  Used for nginx
 * `rewrite` and Apache `RewriteRule`/`RedirectMatch`; both match the
 * decoded path (nginx $uri, Apache's URL-path), as redirc does.
 */
#include "import/import.h"

#include <string.h>

static int plain_literal(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("/-_~,;=@!&'%:<>\"`", c) != NULL;
}

int imp_parse_regex(imp_doc *doc, imp_rule *r, const char *re, size_t n, uint32_t col,
                    int relative)
{
	const char *Q = rc_quote(&doc->arena, re, n, 80);
	for (int g = 0; g < 10; g++)
		r->groups[g] = -1;
	r->ngroups = 0;
	if (n == 0 || re[0] != '^') {
		imp_refuse(doc, r, col, (uint32_t)n, "regex '%s' is not anchored with '^': it matches "
		           "anywhere in the path, which the language cannot express", Q);
		return -1;
	}
	if (n < 2 || re[n - 1] != '$' || (n >= 3 && re[n - 2] == '\\')) {
		imp_refuse(doc, r, col + (uint32_t)n - 1, 1, "regex '%s' does not end with '$': it "
		           "matches every longer path too, which the language cannot express", Q);
		return -1;
	}
	/* the literal text of the pattern, built in redirc's source syntax */
	rc_buf lit;
	rc_buf_init(&lit);
	size_t i = 1;
	if (n >= 3 && re[1] == '/' && re[2] == '?') {
		i = 3; /* "^/?": Apache, the same rule for vhost and .htaccess */
		rc_buf_addc(&lit, '/');
	} else if (re[1] == '/') {
		/* the leading '/' comes as a literal below */
	} else if (relative) {
		rc_buf_addc(&lit, '/');
	} else {
		imp_refuse(doc, r, col + 1, 1, "regex '%s' does not start with '^/', so it matches no "
		           "path", Q);
		rc_buf_fini(&lit);
		return -1;
	}
	size_t end = n - 1; /* before '$' */
	int fail = 0;
	while (i < end && !fail) {
		unsigned char c = (unsigned char)re[i];
		if (c == '\\' && i + 1 < end) {
			unsigned char e = (unsigned char)re[i + 1];
			if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
				imp_refuse(doc, r, col + (uint32_t)i, 2, "regex '%s' uses the class or "
				           "reference '\\%c', which the language cannot express", Q, e);
				fail = 1;
				break;
			}
			if (e == '*')
				rc_buf_adds(&lit, "%2A"); /* a literal star, not the splat */
			else
				rc_buf_addc(&lit, (char)e);
			i += 2;
			continue;
		}
		if (c == '(') {
			int prev_slash = lit.len && lit.data[lit.len - 1] == '/';
			if (r->ngroups == 9) {
				imp_refuse(doc, r, col + (uint32_t)i, 1, "more than 9 groups");
				fail = 1;
				break;
			}
			if (strncmp(re + i, "([^/]+)", 7) == 0 && prev_slash &&
			    (i + 7 == end || re[i + 7] == '/')) {
				rc_buf_printf(&lit, ":p%d", r->ngroups + 1);
				r->groups[++r->ngroups] = 0; /* param index set below */
				i += 7;
				continue;
			}
			if (strncmp(re + i, "(.*)", 4) == 0 && prev_slash && i + 4 == end) {
				rc_buf_addc(&lit, '*');
				r->groups[++r->ngroups] = -2;
				i += 4;
				continue;
			}
			size_t close = i;
			while (close < end && re[close] != ')')
				close++;
			imp_refuse(doc, r, col + (uint32_t)i, (uint32_t)(close - i + 1),
			           "regex group '%s' is outside the language, expected '([^/]+)' as a whole "
			           "segment or '(.*)' after the last '/'",
			           rc_quote(&doc->arena, re + i, close - i + (close < end), 40));
			fail = 1;
			break;
		}
		if (c == '.') {
			imp_refuse(doc, r, col + (uint32_t)i, 1, "regex '%s' has an unescaped '.', which "
			           "matches any byte (write '\\.' for a dot)", Q);
			fail = 1;
			break;
		}
		if (!plain_literal(c) || c == '%') {
			imp_refuse(doc, r, col + (uint32_t)i, 1, "regex '%s' uses '%c', which is outside "
			           "the language (classes, quantifiers, alternatives, optional parts)", Q, c);
			fail = 1;
			break;
		}
		if (c == ':' && i + 1 < end && lit.len && lit.data[lit.len - 1] == '/' &&
		    ((re[i + 1] >= 'a' && re[i + 1] <= 'z') || (re[i + 1] >= 'A' && re[i + 1] <= 'Z') || re[i + 1] == '_')) {
			rc_buf_adds(&lit, "%3A"); /* a literal ':name' segment */
			i++;
			continue;
		}
		rc_buf_addc(&lit, (char)c);
		i++;
	}
	if (fail) {
		rc_buf_fini(&lit);
		return -1;
	}
	/* the pattern in _redirects syntax; "%3A" is decoded by nobody here,
	 * so turn it back into a literal after parsing */
	int rc = imp_parse_source(doc, r, lit.data ? lit.data : "/", lit.len ? lit.len : 1, col, 0);
	rc_buf_fini(&lit);
	if (rc != 0)
		return -1;
	for (uint32_t k = 0; k < r->nsrc; k++) {
		imp_el *e = &r->src[k];
		if (e->kind != IMP_LIT || !memmem(e->text, e->len, "%3A", 3))
			continue;
		char *t = rc_arena_strndup(&doc->arena, e->text, e->len);
		size_t o = 0;
		for (size_t j = 0; j < e->len; j++) {
			if (j + 2 < e->len && memcmp(e->text + j, "%3A", 3) == 0) {
				t[o++] = ':';
				j += 2;
			} else {
				t[o++] = e->text[j];
			}
		}
		e->text = t;
		e->len = (uint32_t)o;
	}
	/* group numbers to placeholder indexes, in order */
	int p = 0;
	for (int g = 1; g <= r->ngroups; g++)
		if (r->groups[g] == 0)
			r->groups[g] = p++;
	return 0;
}

int imp_parse_subst(imp_doc *doc, imp_rule *r, const char *s, size_t n, uint32_t col)
{
	rc_buf t;
	rc_buf_init(&t);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '*' || (c == ':' && i + 1 < n &&
		                 ((s[i + 1] >= 'a' && s[i + 1] <= 'z') || (s[i + 1] >= 'A' && s[i + 1] <= 'Z') ||
		                  s[i + 1] == '_'))) {
			const char *hash = memchr(s, '#', n);
			if (!hash || s + i < hash) {
				imp_refuse(doc, r, col + (uint32_t)i, 1, "substitution '%s' has a literal '%c%s' "
				           "in its path or query, which the language reads as a capture",
				           rc_quote(&doc->arena, s, n, 80), c, c == ':' ? "name" : "");
				rc_buf_fini(&t);
				return -1;
			}
		}
		if (c == '$' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') {
			int g = s[i + 1] - '0';
			if (g == 0 || g > r->ngroups) {
				imp_refuse(doc, r, col + (uint32_t)i, 2, "substitution uses '$%d', which is not "
				           "a group of its regex (or the whole match)", g);
				rc_buf_fini(&t);
				return -1;
			}
			if (r->groups[g] == -2)
				rc_buf_addc(&t, '*');
			else
				rc_buf_printf(&t, ":%s", r->names[r->groups[g]]);
			i++;
			continue;
		}
		if (c == '$' || c == '%' ) {
			if (c == '%' && i + 2 < n && strchr("0123456789abcdefABCDEF", s[i + 1]) &&
			    strchr("0123456789abcdefABCDEF", s[i + 2])) {
				rc_buf_addc(&t, c);
				continue;
			}
			if (c == '$' || (i + 1 < n && (s[i + 1] == '{' || (s[i + 1] >= '0' && s[i + 1] <= '9')))) {
				imp_refuse(doc, r, col + (uint32_t)i, 2, "substitution '%s' uses a variable, "
				           "condition back-reference or map lookup ('%c%c'), which the language "
				           "cannot express", rc_quote(&doc->arena, s, n, 80), c, i + 1 < n ? s[i + 1] : ' ');
				rc_buf_fini(&t);
				return -1;
			}
		}
		if (c == '\\' && i + 1 < n) {
			rc_buf_addc(&t, s[++i]);
			continue;
		}
		rc_buf_addc(&t, c);
	}
	int rc = imp_parse_target(doc, r, t.data ? t.data : "", t.len, col, 0, 0);
	rc_buf_fini(&t);
	return rc;
}
