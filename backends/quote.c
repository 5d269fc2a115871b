/*
 * quote.c - the quoting functions of the server targets (see quote.h).
 */
#include "backends/quote.h"

#include <string.h>

static const char HEXU[] = "0123456789ABCDEF";

static void add_hex_escape(rc_buf *b, unsigned char c)
{
	char e[4] = { '\\', 'x', HEXU[c >> 4], HEXU[c & 15] };
	rc_buf_add(b, e, 4);
}

static int is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* nginx map parameters that a bare key would be read as */
static int ngx_key_is_special(const char *s, size_t n)
{
	static const char *const words[] = { "default", "include", "hostnames", "volatile", NULL };
	if (n > 0 && (s[0] == '~' || s[0] == '\\'))
		return 1;
	for (size_t i = 0; words[i]; i++)
		if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0)
			return 1;
	return 0;
}

int rc_ngx_quote(rc_buf *b, const char *s, size_t n, unsigned flags)
{
	if (memchr(s, '\0', n))
		return -1;
	if ((flags & RC_NGX_MAPKEY) && ngx_key_is_special(s, n))
		rc_buf_adds(b, "\\\\");
	for (size_t i = 0; i < n; i++) {
		/* copy the run of bytes that need no quoting at once */
		size_t j = i;
		while (j < n && s[j] != '\\' && s[j] != '"' && s[j] != '\n' && s[j] != '\r' &&
		       s[j] != '\t' && s[j] != '$')
			j++;
		rc_buf_add(b, s + i, j - i);
		if (j == n)
			break;
		i = j;
		char c = s[i];
		switch (c) {
		case '\\': rc_buf_adds(b, "\\\\"); break;
		case '"': rc_buf_adds(b, "\\\""); break;
		case '\n': rc_buf_adds(b, "\\n"); break;
		case '\r': rc_buf_adds(b, "\\r"); break;
		case '\t': rc_buf_adds(b, "\\t"); break;
		case '$':
			if (flags & RC_NGX_VARS)
				rc_buf_adds(b, "${redir_dollar}");
			else
				rc_buf_addc(b, c);
			break;
		default: rc_buf_addc(b, c); break;
		}
	}
	return 0;
}

void rc_regex_lit(rc_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_alnum(c) || (c && strchr("/_%~:@,;=&'!-", c)))
			rc_buf_addc(b, (char)c);
		else
			add_hex_escape(b, c);
	}
}

int rc_ap_quote(rc_buf *b, const char *s, size_t n, enum rc_ap_ctx ctx)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return -1;
		switch (ctx) {
		case RC_AP_PATH:
			if (c == '"' || c == '\\')
				return -1;
			break;
		case RC_AP_SUBST:
			if (c == ' ' || c == '"' || c == '\\' || c > 0x7e)
				return -1;
			break;
		case RC_AP_MAPTOK:
			if (c == ' ' || c > 0x7e || (i == 0 && c == '#'))
				return -1;
			break;
		default:
			return -1; /* a bug: an unknown context refuses everything */
		}
	}
	if (ctx == RC_AP_MAPTOK) {
		if (n == 0)
			return -1;
		rc_buf_add(b, s, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (ctx == RC_AP_SUBST && (c == '%' || c == '$'))
			rc_buf_addc(b, '\\');
		rc_buf_addc(b, c);
	}
	return 0;
}

static void string_literal(rc_buf *b, const char *s, size_t n)
{
	rc_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			rc_buf_addc(b, (char)c);
		else
			add_hex_escape(b, c);
	}
	rc_buf_addc(b, '"');
}

void rc_js_string(rc_buf *b, const char *s, size_t n)
{
	string_literal(b, s, n);
}

void rc_lua_string(rc_buf *b, const char *s, size_t n)
{
	string_literal(b, s, n);
}

void rc_comment_text(rc_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			rc_buf_addc(b, (char)c);
		else
			add_hex_escape(b, c);
	}
}
