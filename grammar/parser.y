/*
 * parser.y - the grammar of .redir files (spec sections 1 and 2).
 *
 * The language is line oriented: every statement ends at a newline, and a
 * line that does not parse is skipped by `error NEWLINE`, so a file with
 * five bad lines reports five errors.  Blocks are flat here: `host … {` and
 * `group … {` open one, a lone `}` closes it; the builder keeps the stack.
 *
 *   line      := NEWLINE | stmt NEWLINE
 *   stmt      := SET word word*                       setting
 *              | ALLOW_HOST word+                     external hosts
 *              | INCLUDE value                        include "file"
 *              | HOST word+ '{'                       host a, b {
 *              | GROUP value attr* '{'                group "label" … {
 *              | '}'
 *              | value ARROW value attr*              SOURCE -> TARGET …
 *              | value GONE attr*                     SOURCE gone …
 *              | EXPECT value ARROW word [value]      expect URL -> …
 *   attr      := OWNER value | NOTE value | QUERY word | EXPIRES word
 *              | STATUS word | WORD (a positional status)
 *
 * The parser is pure, the scanner reentrant; values are arena pointers so
 * error recovery cannot leak.
 */
%define api.pure full
%define parse.error custom
%locations
%define api.prefix {rc_yy}

%code requires {
#include "grammar/actions.h"
typedef void *yyscan_t;
typedef struct rc_parse {
	rc_builder *builder;
	yyscan_t scanner;
	/* what the scanner saw of the current line, for messages */
	rc_tok line_first;  /* its first token */
	int line_ntoks;     /* tokens so far */
	int after_arrow;    /* the last token was '->' */
	int line_ended;   /* the scanner returned a newline: see scanner.l */
} rc_parse;
}

%code provides {
#define YYSTYPE RC_YYSTYPE
#define YYLTYPE RC_YYLTYPE
}

%param { yyscan_t scanner }
%parse-param { rc_parse *ctx }

%union {
	rc_tok tok;
	rc_toklist list;
	rc_attrlist attrs;
}

%code {
#include "grammar/scanner.h"
static rc_loc to_loc(rc_parse *ctx, const RC_YYLTYPE *l)
{
	rc_loc loc;
	loc.file = rc_builder_file(ctx->builder);
	loc.line = (uint32_t)l->first_line;
	loc.col = (uint32_t)l->first_column;
	loc.len = l->last_line == l->first_line && l->last_column > l->first_column
	          ? (uint32_t)(l->last_column - l->first_column) : 1;
	return loc;
}
static void rc_yyerror(RC_YYLTYPE *l, yyscan_t scanner, rc_parse *ctx, const char *msg)
{
	(void)scanner;
	rc_build_syntax_error(ctx->builder, to_loc(ctx, l), msg);
}
}

%token <tok> WORD STRING
%token <tok> ARROW "'->'" LBRACE "'{'" RBRACE "'}'"
%token <tok> SET "'set'" ALLOW_HOST "'allow-host'" INCLUDE "'include'"
%token <tok> HOST "'host'" GROUP "'group'" EXPECT "'expect'" GONE "'gone'"
%token <tok> OWNER "'owner'" NOTE "'note'" QUERY "'query'"
%token <tok> EXPIRES "'expires'" STATUS "'status'"
%token NEWLINE "end of line"
%token BADTOKEN "invalid token"

%type <tok> word value keyword
%type <list> words words1
%type <attrs> attrs

%%

file
	: %empty
	| file line
	;

line
	: NEWLINE
	| stmt NEWLINE
	| error NEWLINE { yyerrok; }
	;

stmt
	: SET word words          { rc_build_setting(ctx->builder, &$1, &$2, &$3); }
	| ALLOW_HOST words1       { rc_build_allow_host(ctx->builder, &$1, &$2); }
	| INCLUDE value           { rc_build_include(ctx->builder, &$1, &$2); }
	| HOST words1 LBRACE      { rc_build_host_open(ctx->builder, &$1, &$2); }
	| GROUP value attrs LBRACE { rc_build_group_open(ctx->builder, &$1, &$2, &$3); }
	| RBRACE                  { rc_build_close(ctx->builder, &$1); }
	| value ARROW value attrs { rc_build_rule(ctx->builder, &$1, &$3, NULL, &$4); }
	| value GONE attrs        { rc_build_rule(ctx->builder, &$1, NULL, &$2, &$3); }
	| EXPECT value ARROW word { rc_build_expect(ctx->builder, &$1, &$2, &$4, NULL); }
	| EXPECT value ARROW word value { rc_build_expect(ctx->builder, &$1, &$2, &$4, &$5); }
	;

words
	: %empty                  { $$.head = $$.tail = NULL; $$.count = 0; }
	| words word              { $$ = $1; rc_list_push(ctx->builder, &$$, &$2); }
	;

words1
	: word                    { $$.head = $$.tail = NULL; $$.count = 0; rc_list_push(ctx->builder, &$$, &$1); }
	| words1 word             { $$ = $1; rc_list_push(ctx->builder, &$$, &$2); }
	;

attrs
	: %empty                  { $$.head = $$.tail = NULL; }
	| attrs OWNER value       { $$ = $1; rc_attr_push(ctx->builder, &$$, &$2, &$3, 0); }
	| attrs NOTE value        { $$ = $1; rc_attr_push(ctx->builder, &$$, &$2, &$3, 0); }
	| attrs QUERY word        { $$ = $1; rc_attr_push(ctx->builder, &$$, &$2, &$3, 0); }
	| attrs EXPIRES word      { $$ = $1; rc_attr_push(ctx->builder, &$$, &$2, &$3, 0); }
	| attrs STATUS word       { $$ = $1; rc_attr_push(ctx->builder, &$$, &$2, &$3, 0); }
	| attrs WORD              { $$ = $1; rc_attr_push(ctx->builder, &$$, &$2, &$2, 1); }
	| attrs STRING            { $$ = $1; rc_attr_push(ctx->builder, &$$, &$2, &$2, 1); }
	;

value
	: WORD
	| STRING
	;

word
	: value
	| keyword
	;

keyword
	: SET | ALLOW_HOST | INCLUDE | HOST | GROUP | EXPECT | GONE
	| OWNER | NOTE | QUERY | EXPIRES | STATUS
	;

%%

/* "unexpected 'x', expected '->' or 'gone'": the token found, quoted with
 * its text, and what the grammar accepts there. */
static int yyreport_syntax_error(const yypcontext_t *pctx, yyscan_t scanner, rc_parse *ctx)
{
	enum { MAXEXP = 8 };
	yysymbol_kind_t expected[MAXEXP];
	int n = yypcontext_expected_tokens(pctx, expected, MAXEXP);
	yysymbol_kind_t found = yypcontext_token(pctx);
	const RC_YYLTYPE *l = yypcontext_location(pctx);
	rc_buf msg;
	rc_buf_init(&msg);
	rc_buf_adds(&msg, "unexpected ");
	if (found == YYSYMBOL_NEWLINE || found == YYSYMBOL_YYEOF) {
		rc_buf_adds(&msg, found == YYSYMBOL_YYEOF ? "end of file" : "end of line");
	} else {
		const char *text = rc_yyget_text(ctx->scanner);
		size_t len = (size_t)rc_yyget_leng(ctx->scanner);
		rc_buf_adds(&msg, "'");
		size_t max = rc_builder_quote_max(ctx->builder);
		char *q = rc_quote(rc_builder_arena(ctx->builder), text, len, max < 60 ? max : 60);
		rc_buf_adds(&msg, q);
		rc_buf_adds(&msg, "'");
	}
	if (found == YYSYMBOL_NEWLINE && ctx->after_arrow) {
		rc_buf_adds(&msg, ": the target is missing after '->', expected a path, a URL or a quoted string");
	} else if (n > 0) {
		rc_buf_adds(&msg, ", expected ");
		for (int i = 0; i < n; i++) {
			const char *name = yysymbol_name(expected[i]);
			if (expected[i] == YYSYMBOL_WORD)
				name = "a word";
			else if (expected[i] == YYSYMBOL_STRING)
				name = "a quoted string";
			if (i > 0)
				rc_buf_adds(&msg, i + 1 == n ? " or " : ", ");
			rc_buf_adds(&msg, name);
		}
	} else {
		rc_buf_adds(&msg, ", expected a statement (a rule '/path -> target', set, allow-host, "
		                  "include, host, group or expect)");
	}
	/* `sett status 301`: the first word of the line was meant as a keyword */
	static const char *const statements[] = {
		"set", "allow-host", "include", "host", "group", "expect", NULL,
	};
	if (ctx->line_ntoks == 2 && !ctx->line_first.quoted && ctx->line_first.text &&
	    ctx->line_first.text[0] != '/') {
		const char *near = rc_suggest(ctx->line_first.text, statements);
		if (near) {
			rc_buf_adds(&msg, "; did you mean '");
			rc_buf_adds(&msg, near);
			rc_buf_adds(&msg, "' instead of '");
			rc_buf_adds(&msg, rc_quote(rc_builder_arena(ctx->builder), ctx->line_first.text,
			                           ctx->line_first.len, 40));
			rc_buf_adds(&msg, "'?");
		}
	}
	(void)scanner;
	rc_yyerror((RC_YYLTYPE *)l, ctx->scanner, ctx, msg.data);
	rc_buf_fini(&msg);
	return 0;
}
