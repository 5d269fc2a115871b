/*
 * jsonw.h - writing JSON text for the reports of diff, verify, coverage
 * and compile --report: strings escaped (control bytes, quotes,
 * backslashes; invalid UTF-8 bytes as \u00XX so the output stays valid).
 */
#ifndef RC_JSONW_H
#define RC_JSONW_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Write s (NUL-terminated; NULL writes null) as a JSON string. */
void rc_json_str(FILE *out, const char *s);
/* The same for n bytes. */
void rc_json_strn(FILE *out, const char *s, size_t n);

/* Write n bytes for a terminal: printable ASCII and valid UTF-8 as they
 * are, every other byte (controls, DEL, stray bytes) as \xNN, so text
 * from a log or a server can never move the cursor or end a line. */
void rc_text_safe(FILE *out, const char *s, size_t n);
static inline void rc_text_safes(FILE *out, const char *s)
{
	rc_text_safe(out, s, strlen(s));
}

#endif /* RC_JSONW_H */
