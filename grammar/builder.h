/*
 * builder.h - the builder's state, shared by the files of grammar/ only.
 *
 * The parser (parser.y) calls the rc_build_* actions (actions.h) for each
 * statement; actions.c turns settings, blocks, rules and expectations into
 * the IR; source.c parses and normalizes a rule's source; target.c parses a
 * target into pre-encoded tokens; load.c reads files (screening their
 * bytes) and expands includes in place on a fresh scanner.
 */
#ifndef RC_GRAMMAR_BUILDER_H
#define RC_GRAMMAR_BUILDER_H

#include <sys/types.h>

#include "grammar/actions.h"
#include "grammar/grammar.h"

enum block_kind { BLOCK_HOST = 1, BLOCK_GROUP = 2 };

typedef struct group_attrs {
	int status;
	int query_drop;       /* -1 = unset */
	const char *owner;
	const char *note;
	int expires;
	rc_loc expires_loc;
} group_attrs;

typedef struct block {
	enum block_kind kind;
	rc_loc loc;
	int32_t file;
	int32_t scope;        /* BLOCK_HOST */
	const char *label;    /* BLOCK_GROUP */
	group_attrs attrs;    /* BLOCK_GROUP */
} block;

struct active_file {
	dev_t dev;
	ino_t ino;
	int32_t file;
};

/* A statement as the parser handed it to an action, kept so that a file
 * included again is replayed instead of parsed again (load.c). */
enum rec_kind {
	REC_SETTING, REC_ALLOW_HOST, REC_INCLUDE, REC_HOST_OPEN, REC_GROUP_OPEN,
	REC_CLOSE, REC_RULE, REC_EXPECT, REC_SYNTAX
};

/* A file read once: its statements, for the next inclusions. */
struct parsed_file {
	dev_t dev;
	ino_t ino;
	int32_t file;         /* its first rc_file (the text is borrowed) */
	int complete;         /* the parse has ended */
	rc_vec stmts;         /* struct rec_stmt (load.c) */
};

struct rc_builder {
	rc_ir *ir;
	int32_t file;         /* the file being parsed */
	int depth;            /* include depth of that file */
	rc_vec blocks;        /* block */
	rc_vec active;        /* struct active_file: the include chain */
	int seen_rule;
	int seen_setting[16]; /* indexed by SET_*, fewer than SET_COUNT */
	rc_buf scratch;       /* source.c: the normalized path */
	rc_vec ttoks;         /* target.c: rd_ttok */
	uint32_t last_syntax_line;
	int32_t last_syntax_file;
	/* includes (load.c) */
	const char *const *roots; /* realpaths: includes must resolve under one */
	size_t nroots;
	rc_vec parsed;        /* struct parsed_file *: every file read */
	rc_vec *rec;          /* statements of the file being parsed, or NULL */
	size_t replayed;      /* statements replayed in all */
	int expansion_failed; /* the cap was reached: replay no more */
	size_t quote_max;     /* bytes of a token quoted in a message */
	int excerpt_only;     /* the file is not a .redir file: after its first
	                       * diagnostic, the rest of it is skipped */
	size_t diag_mark;     /* diagnostics before that file began */
};

/* load.c: keep a statement of the file being parsed, for its next
 * inclusions (a no-op when nothing is recorded). */
void rc_rec_stmt(rc_builder *b, enum rec_kind kind, const rc_tok *t0, const rc_tok *t1,
                 const rc_tok *t2, const rc_tok *t3, const rc_toklist *list,
                 const rc_attrlist *attrs);

enum { SET_STATUS, SET_QUERY, SET_CASE, SET_TRAILING, SET_MAX_CHAIN, SET_HOSTS, SET_REQUIRE,
       SET_SPLAT_PARENT, SET_COUNT };

static inline rc_diags *D(rc_builder *b)
{
	return b->ir->diags;
}

/* A token's text, quoted and shortened for a message. */
static inline char *Q(rc_builder *b, const rc_tok *t)
{
	return rc_quote(&b->ir->arena, t->text, t->len, b->quote_max ? b->quote_max : 80);
}

/* The first byte of a `:name` placeholder, and the bytes after it. */
static inline int name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline int name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* source.c: the index of the first control byte (< 0x20) or DEL, or n. */
size_t rc_first_control(const char *s, size_t n);

/* source.c: parse and normalize a rule's source into r; -1 after a
 * diagnostic. */
int rc_source_build(rc_builder *b, rc_rule *r, const rc_tok *t);

/* target.c: parse a target (rules) or an expected target (expect lines,
 * where `r` is NULL and placeholders are literal text); -1 after a
 * diagnostic. */
int rc_target_subdomain_bound(rc_builder *b, const rc_rule *r, const rc_tok *t, size_t at);
int rc_target_build(rc_builder *b, rc_rule *r, const rc_tok *t, rc_target *out);

#endif /* RC_GRAMMAR_BUILDER_H */
