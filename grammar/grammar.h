/*
 * grammar.h - reading .redir files into the IR: the only entry points of
 * grammar/ for the rest of the compiler.
 *
 * The text is parsed (parser.y, scanner.l), every value is validated at this
 * boundary (actions.c, source.c, target.c) and includes are expanded in
 * place (load.c).  Problems are queued as diagnostics in ir->diags.
 */
#ifndef RC_GRAMMAR_H
#define RC_GRAMMAR_H

#include <stddef.h>

#include "compiler/ir.h"

/* Include nesting deeper than this is an `include` error. */
#define RC_MAX_INCLUDE_DEPTH 32

/* A file included more than once is parsed once and replayed; more than
 * this many replayed statements in all is an `include` error. */
#define RC_MAX_INCLUDE_REPLAY 100000

/* Bytes of a file that is not a .redir file that a diagnostic may quote. */
#define RC_EXCERPT_MAX 24

/* Parse `path` (and its includes) into `ir`.  Includes must resolve
 * (symlinks followed) under the folder of `path` or under one of the
 * `nroots` folders `roots` (-I).  Returns 0, or -1 when the top file cannot
 * be read (an I/O failure, reported as a diagnostic). */
int rc_load_file_roots(rc_ir *ir, const char *path, const char *const *roots, size_t nroots);

/* rc_load_file_roots without extra roots. */
int rc_load_file(rc_ir *ir, const char *path);

/* Parse an in-memory text as if it were the file `name` (tests, fuzzing);
 * its includes are confined to the folder of `name`. */
int rc_load_text(rc_ir *ir, const char *name, const char *text, size_t len);

/* YYYY-MM-DD -> YYYYMMDD, or -1 (a date is a calendar date from 1970). */
int rc_parse_date(const char *s, size_t n);

#endif /* RC_GRAMMAR_H */
