/*
 * edge_quote.c - the quoting functions of the haproxy, cloudflare and
 * netlify targets (see edge_quote.h).
 */
#include "backends/edge_quote.h"

#include <stdio.h>
#include <string.h>

int rc_hap_cli_arg(rc_buf *b, const char *s, size_t n)
{
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch == 0x7f)
			return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ';' || s[i] == '\\')
			rc_buf_addc(b, '\\');
		rc_buf_addc(b, s[i]);
	}
	return 0;
}

int rc_hap_value_part(rc_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch >= 0x7f || ch == '|' || ch == '\\')
			return -1;
	}
	rc_buf_add(b, s, n);
	return 0;
}

int rc_hap_path(rc_buf *b, const char *s, size_t n)
{
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		         (ch >= '0' && ch <= '9') || (ch != 0 && strchr("/._-+@~=:", ch));
		if (!ok)
			return -1;
	}
	rc_buf_add(b, s, n);
	return 0;
}

int rc_csv_field(rc_buf *b, const char *s, size_t n)
{
	int quote = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return -1;
		if (s[i] == ',' || s[i] == '"')
			quote = 1;
	}
	if (!quote) {
		rc_buf_add(b, s, n);
		return 0;
	}
	rc_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			rc_buf_addc(b, '"');
		rc_buf_addc(b, s[i]);
	}
	rc_buf_addc(b, '"');
	return 0;
}

int rc_edge_json_string(rc_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return -1;
	rc_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			rc_buf_addc(b, '\\');
			rc_buf_addc(b, (char)ch);
		} else if (ch < 0x20 || ch == 0x7f) {
			rc_buf_printf(b, "\\u%04x", ch);
		} else {
			rc_buf_addc(b, (char)ch);
		}
	}
	rc_buf_addc(b, '"');
	return 0;
}

int rc_nf_token(rc_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch >= 0x7f || ch == '#')
			return -1;
	}
	rc_buf_add(b, s, n);
	return 0;
}
