/*
 * jsonw.h - writing JSON text for the reports of diff, verify, coverage
 * and compile --report: strings escaped (control bytes, quotes,
 * backslashes; invalid UTF-8 bytes as \u00XX so the output stays valid).
 */
#ifndef RC_JSONW_H
#define RC_JSONW_H

#include <stddef.h>
#include <stdio.h>

/* Write s (NUL-terminated; NULL writes null) as a JSON string. */
void rc_json_str(FILE *out, const char *s);
/* The same for n bytes. */
void rc_json_strn(FILE *out, const char *s, size_t n);

#endif /* RC_JSONW_H */
