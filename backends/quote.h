/*
 * quote.h - the quoting functions of the `nginx` and `apache` targets.
 *
 * Every user string (and every string derived from one: keys, targets,
 * regex literals, paths of artifacts, source names in comments) reaches a
 * server artifact through exactly one of these functions.  Each either
 * writes the text so that the server reads back exactly the input bytes, or
 * refuses (returns -1 and appends nothing): a string the context cannot
 * express is an error for the caller to report, never a silent change.
 *
 * Ownership: the caller owns the rc_buf; nothing else is allocated.
 */
#ifndef RC_QUOTE_H
#define RC_QUOTE_H

#include <stddef.h>

#include "compiler/util.h"

/* nginx: the inside of a double-quoted configuration string (the caller
 * writes the quotes, so that several pieces can form one string).
 * '\\', '"' are escaped,
 * LF CR TAB written as \n \r \t, other bytes (non-ASCII included) kept.
 * RC_NGX_VARS: the string is a complex value (map value, `return` text),
 * so each '$' is written ${redir_dollar} (a geo variable that expands
 * to "$").  RC_NGX_MAPKEY: a map key; a key that nginx would read as a
 * parameter (`default`, `include`, `hostnames`, `volatile`) or that starts
 * with '~' or '\\' gets the leading backslash nginx strips.  Refuses a NUL
 * byte (nginx reads the file as C strings in places). */
#define RC_NGX_VARS   0x1u
#define RC_NGX_MAPKEY 0x2u
int rc_ngx_quote(rc_buf *b, const char *s, size_t n, unsigned flags);

/* A PCRE literal for a regex written inside a double-quoted nginx or Apache
 * string: ASCII letters, digits and  / _ % ~ : @ , ; = & ' ! -  are kept,
 * every other byte is written \xHH.  Never refuses. */
void rc_regex_lit(rc_buf *b, const char *s, size_t n);

/* Apache httpd configuration.
 * The caller writes the double quotes around RC_AP_PATH and RC_AP_SUBST
 * text (several pieces can form one argument).
 * RC_AP_PATH: a file path (LuaHookTranslateName, RewriteMap);
 *   refuses '"', '\\' and control bytes, which Apache's argument parser
 *   does not reliably read back.
 * RC_AP_SUBST: (part of) a RewriteRule substitution: '%' is written
 *   \% and '$' \$ so that no back-reference, variable or map call can
 *   start; refuses whitespace, control bytes, '"', '\\' and non-ASCII
 *   (a target is percent-encoded before it gets here).
 * RC_AP_MAPTOK: one token of a RewriteMap txt file (key or value):
 *   written as is; refuses an empty token, whitespace, control and
 *   non-ASCII bytes, and a leading '#' (a comment line). */
enum rc_ap_ctx {
	RC_AP_PATH = 1,
	RC_AP_SUBST = 2,
	RC_AP_MAPTOK = 3,
};
int rc_ap_quote(rc_buf *b, const char *s, size_t n, enum rc_ap_ctx ctx);

/* A JavaScript (njs) or Lua double-quoted string literal: printable ASCII
 * is kept except '"' and '\\'; every other byte is \xHH (both languages
 * read \xHH as that byte; JS gives the code point U+00HH).  Never refuses. */
void rc_js_string(rc_buf *b, const char *s, size_t n);
void rc_lua_string(rc_buf *b, const char *s, size_t n);

/* Text for a comment line of any of the artifacts (nginx, Apache, map
 * file, JS, Lua): printable ASCII is kept except '\\'; every other byte,
 * the backslash included, is written \xHH, so no input can end the
 * comment line or continue it (Apache joins a line ending in '\\'). */
void rc_comment_text(rc_buf *b, const char *s, size_t n);

#endif /* RC_QUOTE_H */
