/*
 * edge_quote.h - the quoting functions of the `haproxy`, `cloudflare` and
 * `netlify` targets.  Every user string (or string derived from one) that
 * reaches one of their artifacts goes through one of these, or through
 * quote.h's rc_comment_text / rc_regex_lit and servers.h's encodings.  Each
 * writes text the reader takes back as exactly the input, or refuses
 * (returns -1 and appends nothing).
 *
 * Ownership: the caller owns the rc_buf; nothing else is allocated.
 */
#ifndef RC_EDGE_QUOTE_H
#define RC_EDGE_QUOTE_H

#include <stddef.h>

#include "compiler/util.h"

/* HAProxy runtime API (management guide 9.3): one argument of a command,
 * ';' and '\\' escaped with a backslash.  Refuses an empty argument and
 * bytes that end or split an argument (space, control bytes, DEL). */
int rc_hap_cli_arg(rc_buf *b, const char *s, size_t n);

/* A part of a HAProxy map value "STATUS|MODE|PATH|FRAGMENT": refuses '|'
 * (the field separator), '\\' (a back-reference in map_regm), space,
 * control bytes and non-ASCII; otherwise written as is. */
int rc_hap_value_part(rc_buf *b, const char *s, size_t n);

/* A file path inside a HAProxy converter argument (map_str(PATH)) or a
 * lua-load line: only letters, digits and / . _ - + @ ~ = : (no quoting
 * level of HAProxy gives them a meaning). */
int rc_hap_path(rc_buf *b, const char *s, size_t n);

/* One CSV field (RFC 4180, as the Cloudflare dashboard reads it): written
 * as is, or double-quoted with '"' doubled when it holds ',' or '"'.
 * Refuses CR, LF and NUL. */
int rc_csv_field(rc_buf *b, const char *s, size_t n);

/* A JSON string literal with its quotes: '"' and '\\' escaped, control
 * bytes as \u00XX; refuses non-ASCII (every URL we write is ASCII, and a
 * lone 8-bit byte is not valid UTF-8). */
int rc_edge_json_string(rc_buf *b, const char *s, size_t n);

/* Netlify _redirects: (part of) one whitespace-separated field, written as
 * is; refuses whitespace, control bytes, non-ASCII and '#' (which starts a
 * comment). */
int rc_nf_token(rc_buf *b, const char *s, size_t n);

#endif /* RC_EDGE_QUOTE_H */
