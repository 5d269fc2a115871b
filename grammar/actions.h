/*
 * actions.h - the builder: what the parser calls, statement by statement, to
 * fill the IR.  It validates every value at this boundary (settings, hosts,
 * sources, targets, statuses, dates) and queues diagnostics; it expands
 * includes in place by running a nested parse on a fresh scanner.
 *
 * Ownership: tokens and lists are arena memory of the IR being built.
 */
#ifndef RC_GRAMMAR_ACTIONS_H
#define RC_GRAMMAR_ACTIONS_H

#include "compiler/ir.h"

/* A token as the scanner saw it. */
typedef struct rc_tok {
	char *text;   /* unescaped for quoted strings, NUL-terminated */
	size_t len;
	int quoted;
	rc_loc loc;
} rc_tok;

typedef struct rc_toknode {
	rc_tok tok;
	struct rc_toknode *next;
} rc_toknode;

typedef struct rc_toklist {
	rc_toknode *head, *tail;
	size_t count;
} rc_toklist;

/* An attribute: `key value`, or a bare word (a rule's positional status). */
typedef struct rc_attrnode {
	rc_tok key;
	rc_tok value;
	int bare;
	struct rc_attrnode *next;
} rc_attrnode;

typedef struct rc_attrlist {
	rc_attrnode *head, *tail;
} rc_attrlist;

typedef struct rc_builder rc_builder;

/* Called by the parser (builder.h has the state behind rc_builder). */
rc_arena *rc_builder_arena(rc_builder *b);
/* Bytes of a token a message may quote (short in a file that is not a
 * .redir file: its content may be a secret). */
size_t rc_builder_quote_max(rc_builder *b);
/* At the end of a line: 1 when the rest of the file must be skipped. */
int rc_builder_stop_file(rc_builder *b);
int32_t rc_builder_file(rc_builder *b);
void rc_list_push(rc_builder *b, rc_toklist *l, const rc_tok *t);
void rc_attr_push(rc_builder *b, rc_attrlist *l, const rc_tok *key,
                  const rc_tok *value, int bare);

void rc_build_setting(rc_builder *b, const rc_tok *kw, const rc_tok *name,
                      const rc_toklist *values);
void rc_build_allow_host(rc_builder *b, const rc_tok *kw, const rc_toklist *names);
/* load.c */
void rc_build_include(rc_builder *b, const rc_tok *kw, const rc_tok *path);
void rc_build_host_open(rc_builder *b, const rc_tok *kw, const rc_toklist *names);
void rc_build_group_open(rc_builder *b, const rc_tok *kw, const rc_tok *label,
                         const rc_attrlist *attrs);
void rc_build_close(rc_builder *b, const rc_tok *brace);
void rc_build_rule(rc_builder *b, const rc_tok *source, const rc_tok *target,
                   const rc_tok *gone, const rc_attrlist *attrs);
void rc_build_expect(rc_builder *b, const rc_tok *kw, const rc_tok *url,
                     const rc_tok *first, const rc_tok *second);
void rc_build_syntax_error(rc_builder *b, rc_loc loc, const char *message);

#endif /* RC_GRAMMAR_ACTIONS_H */
