/*
 * jsonw.c - JSON strings for the review commands (jsonw.h).
 */
#include <string.h>

#include "compiler/diag.h"
#include "compiler/jsonw.h"
#include "compiler/util.h"

void rc_json_strn(FILE *out, const char *s, size_t n)
{
	rc_json_stringn(out, s, n);
}

void rc_json_str(FILE *out, const char *s)
{
	if (!s)
		fputs("null", out);
	else
		rc_json_strn(out, s, strlen(s));
}

void rc_text_safe(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		unsigned char c = *p;
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			putc(c, out);
			p++;
			continue;
		}
		int k = c >= 0x80 ? rc_utf8_seq_len(p, (size_t)(end - p)) : -1;
		if (k > 0) {
			fwrite(p, 1, (size_t)k, out);
			p += k;
		} else {
			fprintf(out, "\\x%02X", c);
			p++;
		}
	}
}
