/*
 * common.c - what the commands share: the diagnostic options, loading and
 * checking a file, URL lists (operands and standard input), escaping.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compiler/analysis.h"
#include "compiler/util.h"
#include "grammar/grammar.h"

static int today_int(void)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

void cli_common_init(cli_common *c, const char *cmd)
{
	memset(c, 0, sizeof *c);
	c->cmd = cmd;
	c->today = today_int();
	c->progress = isatty(STDERR_FILENO);
	rc_diags_init(&c->diags);
}

void cli_common_fini(cli_common *c)
{
	free(c->include_dirs);
	rc_diags_fini(&c->diags);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("redirc: error: ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, " (a retry will not help; run 'redirc help %s')\n", cmd);
	else
		fputs(" (a retry will not help; run 'redirc help')\n", stderr);
	return EXIT_USAGE;
}

int cli_usage_value(const char *cmd, const char *what, const char *value)
{
	char msg[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(msg, sizeof msg, what, value);
#pragma GCC diagnostic pop
	return cli_usage(cmd, "%s", msg);
}

int cli_format_option(const char *cmd, const char *arg, int *json)
{
	if (strcmp(arg, "json") == 0 || strcmp(arg, "text") == 0) {
		*json = arg[0] == 'j';
		return 0;
	}
	return cli_usage(cmd, "invalid --format '%s', expected text or json", arg);
}

int cli_bad_option(const char *cmd, char **argv, int opt)
{
	/* getopt_long leaves the offending word at argv[optind - 1] */
	const char *word = optind > 0 ? argv[optind - 1] : "?";
	if (opt == ':')
		return cli_usage(cmd, "option '%s' needs a value", word);
	if (optopt && word[0] == '-' && word[1] != '-')
		return cli_usage(cmd, "unknown option '-%c'", optopt);
	return cli_usage(cmd, "unknown option '%s'", word);
}

static int set_warning_option(cli_common *c, const char *arg)
{
	/* -Werror, -Werror=NAME, -Wno-NAME */
	if (strcmp(arg, "error") == 0) {
		c->diags.werror = 1;
		return 1;
	}
	const char *name = NULL;
	enum rc_name_policy policy = RC_NAME_DEFAULT;
	if (strncmp(arg, "error=", 6) == 0) {
		name = arg + 6;
		policy = RC_NAME_ERROR;
	} else if (strncmp(arg, "no-", 3) == 0) {
		name = arg + 3;
		policy = RC_NAME_IGNORE;
	} else {
		return -cli_usage(c->cmd, "unknown option '-W%s', expected -Werror, -Werror=NAME or -Wno-NAME",
		                  arg);
	}
	if (rc_diags_set_policy(&c->diags, name, policy) != 0) {
		const char *near = rc_suggest(name, rc_diag_names);
		if (near)
			return -cli_usage(c->cmd, "unknown diagnostic name '%s'; did you mean '%s'?", name, near);
		return -cli_usage(c->cmd, "unknown diagnostic name '%s'", name);
	}
	return 1;
}

int cli_common_option(cli_common *c, int opt, const char *arg)
{
	switch (opt) {
	case CLI_OPT_DIAG_FORMAT:
		if (strcmp(arg, "text") == 0)
			c->diag_format = CLI_DIAG_TEXT;
		else if (strcmp(arg, "json") == 0)
			c->diag_format = CLI_DIAG_JSON;
		else if (strcmp(arg, "sarif") == 0)
			c->diag_format = CLI_DIAG_SARIF;
		else
			return -cli_usage(c->cmd, "invalid --diagnostics-format '%s', expected text, json or sarif",
			                  arg);
		return 1;
	case CLI_OPT_MAX_ERRORS: {
		char *end;
		errno = 0;
		long n = strtol(arg, &end, 10);
		if (*end || end == arg || n < 0 || errno)
			return -cli_usage(c->cmd, "invalid --max-errors '%s', expected a whole number", arg);
		c->diags.max_errors = (size_t)n;
		return 1;
	}
	case CLI_OPT_TODAY:
		c->today = rc_parse_date(arg, strlen(arg));
		if (c->today < 0)
			return -cli_usage(c->cmd, "invalid --today '%s', expected a date as YYYY-MM-DD", arg);
		return 1;
	case 'q':
		c->quiet = 1;
		c->progress = 0;
		return 1;
	case CLI_OPT_VERBOSE:
		c->verbose = 1;
		return 1;
	case CLI_OPT_FLATTEN:
		c->flatten = 1;
		return 1;
	case 'W':
		return set_warning_option(c, arg);
	case 'I':
		c->include_dirs = rc_xrealloc(c->include_dirs, (c->ninclude_dirs + 1) * sizeof *c->include_dirs);
		c->include_dirs[c->ninclude_dirs++] = arg;
		return 1;
	case 'h':
	case CLI_OPT_HELP: {
		char *argv[] = { (char *)"help", (char *)c->cmd, NULL };
		optind = 1;
		cli_help(2, argv);
		return -1;
	}
	default:
		return 0;
	}
}

void cli_print_diags(const cli_common *c)
{
	switch (c->diag_format) {
	case CLI_DIAG_JSON:
		rc_diags_print_json(&c->diags, stderr);
		break;
	case CLI_DIAG_SARIF:
		rc_diags_print_sarif(&c->diags, stderr, PACKAGE_VERSION);
		break;
	case CLI_DIAG_TEXT:
	default:
		rc_diags_print_text(&c->diags, stderr, 0);
		break;
	}
}

int cli_status(const cli_common *c)
{
	return c->diags.errors ? EXIT_INPUT : 0;
}

void cli_progress(const cli_common *c, const char *fmt, ...)
{
	if (!c->progress)
		return;
	va_list ap;
	fputs("\rredirc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\033[K", stderr); /* clear the rest of the line */
	fflush(stderr);
}

void cli_progress_done(const cli_common *c)
{
	if (!c->progress)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
}

int cli_load_checked(cli_common *c, rc_ir *ir, const char *file, int expects)
{
	cli_progress(c, "reading %s...", file);
	if (rc_load_file_roots(ir, file, c->include_dirs, c->ninclude_dirs) != 0) {
		cli_progress_done(c);
		return EXIT_USAGE;
	}
	cli_progress(c, "checking %s (%zu rules)...", file, rc_ir_nrules(ir));
	rc_check_opts co = { c->today, expects, c->flatten };
	rc_check_all(ir, &co);
	cli_progress_done(c);
	return 0;
}

int cli_each_url(const char *cmd, char **urls, int nurls, int (*fn)(const char *url, void *arg),
                 void *arg)
{
	for (int i = 0; i < nurls; i++) {
		if (strcmp(urls[i], "-") != 0) {
			int st = fn(urls[i], arg);
			if (st)
				return st;
			continue;
		}
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		int st = 0;
		errno = 0;
		while (st == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = '\0';
			if (n > 0)
				st = fn(line, arg);
		}
		if (st == 0 && ferror(stdin)) {
			fprintf(stderr, "redirc: error: %s: cannot read URLs from standard input: %s (a retry may help)\n",
			        cmd, strerror(errno));
			st = EXIT_USAGE;
		}
		free(line);
		if (st)
			return st;
	}
	return 0;
}

void cli_put_json(FILE *out, const char *s)
{
	rc_json_string(out, s);
}
