/*
 * import.h - read other platforms' redirect files into a list of platform
 * rules, decide what each one means there, and write .redir text that means
 * exactly the same, with `expect` lines that prove it (issue 15).
 *
 * Pipeline (cli/import.c drives it):
 *   1. a reader per format (netlify.c, tsv_csv.c, nginx.c, apache.c) turns
 *      each rule of a file into an imp_rule: a source pattern and a target
 *      template made of literal text, whole-segment placeholders and a final
 *      splat, the status and query policy, the host it is bound to, or the
 *      reason it cannot be expressed (`refused`);
 *   2. platform.c puts the rules in the platform's order (Cloudflare Pages:
 *      static rules first), finds rules the platform never reaches, and for
 *      every kept rule asks the platform's own matcher (its reading of the
 *      format: case, trailing slash, bare parent of a splat, first match),
 *      not redirc's, what sample requests get;
 *   3. writer.c writes settings, rules (in host blocks where needed), the
 *      refused rules as comments with their reason, and the expect lines.
 *
 * Ownership: an imp_doc owns everything through its arena; the diagnostics
 * (rc_diags) belong to the caller, which also registers the files in it.
 */
#ifndef RC_IMPORT_H
#define RC_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compiler/diag.h"
#include "compiler/util.h"

enum imp_format {
	IMP_NETLIFY = 0,
	IMP_CF_PAGES,
	IMP_TSV,
	IMP_CSV,
	IMP_NGINX,
	IMP_APACHE,
};

/* One piece of a source pattern or target template. */
enum imp_el_kind {
	IMP_LIT = 0,   /* literal bytes (text, len) */
	IMP_PARAM,     /* a placeholder: one whole non-empty segment (index `param`) */
	IMP_SPLAT,     /* the rest of the path; only last, only after a '/' */
};

typedef struct imp_el {
	uint8_t kind;
	uint8_t param;
	uint32_t len;
	const char *text;
} imp_el;

enum imp_query { IMP_QUERY_KEEP = 0, IMP_QUERY_DROP = 1 };

#define IMP_MAX_PARAMS 16

typedef struct imp_rule {
	rc_loc loc;            /* the rule's line (col 1, whole line) */
	rc_loc why_loc;        /* the part a refusal points at */
	const char *path;      /* the file's path as given (for the note) */
	const char *host;      /* canonical host the rule is bound to, or NULL */
	int subdomains;        /* the host's subdomains too (written `host H, *.H`) */
	int scheme;            /* a Netlify domain-level source: 1 http:// only, 2 https:// only */
	uint32_t twin_line;    /* the same rule for the other scheme, merged into the
	                        * rule of this line (it is written as a comment) */
	imp_el *src;           /* the source pattern (platform form) */
	uint32_t nsrc;
	imp_el *dst;           /* the target template; its fragment is literal */
	uint32_t ndst;
	const char *names[IMP_MAX_PARAMS]; /* placeholder names */
	uint32_t nparams;
	int status;            /* 301 302 303 307 308, or 410 */
	int query;             /* enum imp_query */
	int has_pattern;       /* src is known: the platform matcher can use it */
	int redirects;         /* it answers with a redirect (0: a rewrite, a 404, ...) */
	int conditional;       /* it answers only under a condition redirc lacks */
	int is_static;         /* no placeholder and no splat */
	int passive;           /* not a rule to import: a place that serves content
	                        * (an nginx location without return); it takes part
	                        * in matching only, and its requests get "pass" */
	const char *refused;   /* why it cannot be imported, or NULL */
	const char *comment;   /* source comment lines carried over, or NULL */
	const char *line_text; /* the rule as written (for the commented copy) */
	/* set by platform.c */
	const struct imp_rule *dead_by; /* an earlier rule answers all its requests */
	size_t seq;            /* position in the file(s), 0-based */
	int groups[10];        /* regex sources: group i -> param index, -2 splat, -1 none */
	int ngroups;
	const char *proof;     /* expect lines (.redir text), or NULL */
} imp_rule;

/* How the platform matches: its reading of the format. */
typedef struct imp_semantics {
	const char *platform;  /* "Netlify", ... (for comments and messages) */
	const char *reference; /* documentation the reading follows */
	int case_insensitive;
	int trailing_ignore;   /* "/a/" and "/a" are the same request */
	int splat_parent;      /* "/x/ *" also matches "/x" */
	int static_first;      /* rules without placeholder or splat come first */
	int default_status;
} imp_semantics;

typedef struct imp_doc {
	rc_arena arena;
	rc_diags *diags;
	enum imp_format format;
	imp_semantics sem;
	rc_vec rules;          /* imp_rule, file order; platform order after imp_resolve */
	rc_buf comment;        /* comment lines waiting for the next rule */
	rc_vec trailer;        /* const char *: comments after the last rule */
	size_t imported, refused, dead;
} imp_doc;

/* Formats by name ("netlify", "cloudflare-pages", ...); -1 if unknown. */
int imp_format_from_name(const char *name);
const char *imp_format_name(enum imp_format f);

void imp_doc_init(imp_doc *doc, enum imp_format f, rc_diags *diags);
void imp_doc_fini(imp_doc *doc);

/* Read one file's text (registered as `file` in doc->diags). */
void imp_read(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len);

/* Order, dead rules, refusals that follow from other refusals (platform.c). */
void imp_resolve(imp_doc *doc);

/* Write the .redir text (writer.c).  `cmdline` goes into the header. */
void imp_write(const imp_doc *doc, rc_buf *out, const char *cmdline);

/* ---- shared by the readers (common.c) ---- */

/* A new rule at `file` line `line` (text is the line, without newline). */
imp_rule *imp_rule_new(imp_doc *doc, int32_t file, const char *path, uint32_t line,
                       const char *text, size_t len);
/* Refuse `r` with a reason (printf-style), pointing at col..col+len of its line. */
void imp_refuse(imp_doc *doc, imp_rule *r, uint32_t col, uint32_t len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Keep a comment line for the next rule. */
void imp_comment(imp_doc *doc, const char *text, size_t len);

/* Parse a path pattern in the _redirects syntax (':name' whole segments, a
 * final '*' after '/').  `lit_only` reads every byte literally (TSV, CSV).
 * Returns 0, or -1 after refusing the rule. */
int imp_parse_source(imp_doc *doc, imp_rule *r, const char *s, size_t n,
                     uint32_t col, int lit_only);
/* Parse a target: ':name' of the source and ':splat' (when `splat_word`)
 * or '*' are captures; otherwise literal.  -1 after refusing. */
int imp_parse_target(imp_doc *doc, imp_rule *r, const char *s, size_t n,
                     uint32_t col, int lit_only, int splat_word);
/* A host name the language accepts (the test of a .redir target's host). */
int imp_host_is_valid(const char *h, size_t n);
/* Append a piece to a pattern under construction. */
imp_el *imp_el_push(imp_doc *doc, imp_el **els, uint32_t *n, uint32_t *cap);

/* Split a line into blank-separated fields (at most `max`); returns how many.
 * starts[i] is the 0-based byte offset of field i. */
size_t imp_fields(const char *s, size_t n, const char **f, size_t *flen, size_t *starts, size_t max);

/* regex.c: an anchored regex ("^/a/([^/]+)/(.*)$") as a source pattern:
 * group i becomes placeholder p<i> or the splat; anything else is refused
 * with the reason.  `optional_slash` accepts "^/?" (Apache .htaccess and
 * vhost rules alike).  -1 after refusing. */
int imp_parse_regex(imp_doc *doc, imp_rule *r, const char *re, size_t n, uint32_t col,
                    int relative);
/* A substitution with $1..$9 (sigil '$') as a target; -1 after refusing.
 * `vars_ok` lists variables ("$is_args$args" style tails are handled by the
 * caller).  */
int imp_parse_subst(imp_doc *doc, imp_rule *r, const char *s, size_t n, uint32_t col);

/* Readers. */
void imp_read_netlify(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len);
void imp_read_netlify_toml(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len);
void imp_read_tsv(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len);
void imp_read_csv(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len);
void imp_read_nginx(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len);
void imp_read_apache(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len);

/* writer.c: one token of .redir text: bare when it can be, else quoted. */
void imp_put_token(rc_buf *out, const char *s, size_t n);
/* Bytes of a path or URL, percent-encoding what a .redir token and the
 * spec's literal encoding would change anyway (blanks, controls, '"',
 * non-ASCII); `src` also encodes '#', '?' and a '%' not starting an escape. */
void imp_put_url(rc_buf *out, const char *s, size_t n, int src);

#endif /* RC_IMPORT_H */
