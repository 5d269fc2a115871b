/*
 * cli.h - the `redirc` command line: one file per command, linked only into
 * the binary.  main.c finds the command and calls it; common.c holds what
 * several commands share (the diagnostic options, loading and checking a
 * file, URL lists, output escaping).
 *
 * A command gets argv with argv[0] its own name, parses its options with
 * getopt_long (unknown options and extra operands are usage errors) and
 * returns the exit status: 0 success, 1 the input has errors (or warnings
 * under -Werror), 2 usage or I/O failure.  Library code never exits and
 * never decides an exit status; only these files do.
 */
#ifndef RC_CLI_H
#define RC_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "compiler/checks.h"
#include "compiler/diag.h"
#include "compiler/ir.h"

#define EXIT_INPUT 1
#define EXIT_USAGE 2

/* ---- the commands ----------------------------------------------------- */

typedef struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis; /* "FILE..." */
	const char *summary;  /* one line */
	const char *help;     /* the options, for `redirc help NAME` */
} cli_command;

/* NULL-terminated, in the order `redirc --help` lists them (main.c). */
extern const cli_command cli_commands[];
const cli_command *cli_command_find(const char *name);

int cli_check(int argc, char **argv);   /* check.c */
int cli_test(int argc, char **argv);    /* check.c */
int cli_explain(int argc, char **argv); /* explain.c */
int cli_compile(int argc, char **argv); /* compile.c */
int cli_lookup(int argc, char **argv);  /* lookup.c */
int cli_import(int argc, char **argv);  /* import.c (import/ does the work) */
int cli_help(int argc, char **argv);    /* main.c */

/* compile.c: the targets of the backend registry, for `help compile`. */
void cli_compile_list_targets(FILE *out);

/* ---- shared options --------------------------------------------------- */

enum cli_diag_format { CLI_DIAG_TEXT = 0, CLI_DIAG_JSON, CLI_DIAG_SARIF };

/* The options of every command that reads a .redir file. */
typedef struct cli_common {
	const char *cmd;              /* the command's name, for messages */
	enum cli_diag_format diag_format;
	int today;                    /* YYYYMMDD */
	int quiet;                    /* -q: no summary, no progress */
	int verbose;                  /* --verbose */
	int progress;                 /* stderr is a terminal and not -q */
	int flatten;                  /* --flatten: the rules are flattened before
	                               * every check, answer and artifact */
	rc_diags diags;               /* -W…, --max-errors set its policies */
	const char **include_dirs;    /* -I DIR: more folders includes may read */
	size_t ninclude_dirs;
} cli_common;

/* getopt_long codes of the shared options (above any short option). */
enum {
	CLI_OPT_DIAG_FORMAT = 0x100,
	CLI_OPT_MAX_ERRORS,
	CLI_OPT_TODAY,
	CLI_OPT_VERBOSE,
	CLI_OPT_HELP,
	CLI_OPT_FLATTEN,
	CLI_OPT_FIRST_OWN /* a command's own long options start here */
};

/* The shared long options, to splice into a command's table, and the
 * short ones for its optstring. */
#define CLI_COMMON_LONG_OPTIONS                                                  \
	{ "diagnostics-format", required_argument, NULL, CLI_OPT_DIAG_FORMAT },     \
	{ "max-errors", required_argument, NULL, CLI_OPT_MAX_ERRORS },          \
	{ "today", required_argument, NULL, CLI_OPT_TODAY },                    \
	{ "quiet", no_argument, NULL, 'q' },                                    \
	{ "include-dir", required_argument, NULL, 'I' },                        \
	{ "verbose", no_argument, NULL, CLI_OPT_VERBOSE },                      \
	{ "help", no_argument, NULL, CLI_OPT_HELP },                            \
	{ "flatten", no_argument, NULL, CLI_OPT_FLATTEN }
#define CLI_COMMON_SHORT ":qW:I:h"

void cli_common_init(cli_common *c, const char *cmd);
void cli_common_fini(cli_common *c);

/* Handle one getopt_long result that is a shared option.  Returns 1 when
 * handled, 0 when `opt` is not a shared option, or -EXIT_USAGE after
 * printing a usage error.  --help prints the command's help and returns
 * -1 (the caller exits 0). */
int cli_common_option(cli_common *c, int opt, const char *arg);

/* The getopt_long result `opt` for an unknown option ('?') or a missing
 * value (':', since every optstring starts with ':'): prints the usage
 * error and returns EXIT_USAGE. */
int cli_bad_option(const char *cmd, char **argv, int opt);

/* "redirc: error: COMMAND: MESSAGE (a retry will not help; run 'redirc
 * help COMMAND')" on stderr; returns EXIT_USAGE.  Every command's usage
 * errors go through here. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_usage with a message that names one value: `what` holds one "%s". */
int cli_usage_value(const char *cmd, const char *what, const char *value);

/* The value of `--format`: sets *json to 0 for "text", 1 for "json" and
 * returns 0; otherwise prints the usage error and returns EXIT_USAGE. */
int cli_format_option(const char *cmd, const char *arg, int *json);

/* Print the queued diagnostics in the chosen format. */
void cli_print_diags(const cli_common *c);

/* Exit status from the diagnostics: 1 when errors were queued. */
int cli_status(const cli_common *c);

/* A progress line on stderr ("redirc: checking site.redir..."), only when
 * it is a terminal and not -q; cli_progress_done() clears it. */
void cli_progress(const cli_common *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_progress_done(const cli_common *c);

/* Load `file` into ir (rc_ir_init'ed with c->diags) and run the checks
 * (`expects`: also the expect lines).  Returns 0, or EXIT_USAGE when the
 * file cannot be read (the diagnostic is queued). */
int cli_load_checked(cli_common *c, rc_ir *ir, const char *file, int expects);

/* ---- URL lists -------------------------------------------------------- */

/* Call fn for each URL operand; an operand "-" reads standard input, one
 * URL per line (CR LF or LF, blank lines skipped), without a limit.  Stops
 * at the first non-zero return of fn and returns it; EXIT_USAGE when
 * standard input cannot be read. */
int cli_each_url(const char *cmd, char **urls, int nurls, int (*fn)(const char *url, void *arg),
                 void *arg);

/* Print s as a JSON string. */
void cli_put_json(FILE *out, const char *s);

#endif /* RC_CLI_H */
