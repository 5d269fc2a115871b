/*
 * main.c - `redirc COMMAND ...`: find the command and run it.
 *
 * The pass pipeline every command builds on:
 *
 *   load (grammar/: text -> IR) -> check (compiler/: checks, analysis)
 *     -> [flatten] -> emit (backends/) -> publish the artifacts atomically
 *
 * Each command is a file of cli/ (cli.h).  `redirc help [COMMAND]`,
 * `--help`/`-h` and `--version`/`-v`/`-V` are answered here.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/review.h"
#include "compiler/util.h"

const cli_command cli_commands[] = {
	{ "check", cli_check, "FILE...", "parse and check; diagnostics only",
	  "  -Wno-NAME, -Werror, -Werror=NAME    silence a diagnostic, or make warnings errors\n"
	  "  --max-errors N                      keep at most N errors (0: all)\n"
	  "  --diagnostics-format text|json|sarif\n"
	  "  --today YYYY-MM-DD                  the date for 'expired' (default: today)\n"
	  "  -I DIR, --include-dir DIR           includes may also read files under DIR (besides\n"
	  "                                      the folder of FILE)\n"
	  "  -q, --quiet                         no summary line on success\n"
	  "  --flatten                           rewrite exact targets to their final hop first\n"
	  "                                      (every check and answer sees the flattened rules)\n"
	  "Each FILE is checked on its own; the exit status is the worst of them.\n" },
	{ "test", cli_test, "FILE...", "check, then every expect line",
	  "  the options of 'check'\n"
	  "Exit 1 when an expectation does not hold (its actual answer is printed).\n" },
	{ "explain", cli_explain, "FILE URL...|-", "what each request gets, one line per URL",
	  "  --host H            the Host of bare-path URLs (an absolute URL sets its own)\n"
	  "  --format text|json  text: URL<TAB>STATUS<TAB>LOCATION<TAB>FILE:LINE or URL<TAB>pass;\n"
	  "                      json: one object per line\n"
	  "  -                   read URLs from standard input, one per line\n"
	  "  and the diagnostic options of 'check'\n" },
	{ "compile", cli_compile, "FILE --target T... -o BASE", "one artifact set per target",
	  "  --target T          a target (repeatable): see the list below\n"
	  "  -o BASE             artifact base name (BASE.http.conf, BASE.py, ...)\n"
	  "  --map-dir DIR       apache, nginx: where the map and helper files will be deployed\n"
	  "  --report FILE.json  a record of what shipped: inputs, artifacts, their SHA-256\n"
	  "  and the diagnostic options of 'check'\n" },
	{ "lookup", cli_lookup, "TABLE URL...|-", "the lines of explain, answered by a .redirdb table",
	  "  --host H            the Host of bare-path URLs\n"
	  "  --format text|json  as for explain\n"
	  "  -                   read URLs from standard input, one per line\n" },
	{ "import", cli_import, "--from FORMAT FILE...",
	  "other platforms' redirects as .redir, proven by expect lines",
	  "  --from FORMAT       netlify (_redirects or netlify.toml), cloudflare-pages, tsv,\n"
	  "                      csv, nginx or apache\n"
	  "  -o OUT              write OUT atomically (default: standard output)\n"
	  "  --keep-going        write the importable rules even when some are not\n"
	  "                      (the exit status is still 1)\n"
	  "  --case sensitive|insensitive   tsv and csv: how the list's paths compare\n"
	  "  --diagnostics-format=text|json\n"
	  "Exit 0 when every rule was imported, 1 when one was not (not-importable).\n" },
	{ "diff", cli_diff, "OLD NEW", "what changes for which requests between two rule sets",
	  "  --format text|json  text grouped with counts, or one JSON object\n"
	  "  --limit N           example requests shown per group\n"
	  "Exit 0 when behaviour is the same, 1 when it differs, 2 on error.\n" },
	{ "verify", cli_verify, "FILE --base-url URL", "ask a live server and compare with the file",
	  "  --base-url URL      where to connect (http:// or https://)\n"
	  "  --host H            the Host of rules outside host blocks\n"
	  "  --urls FILE|-       more request URLs, one per line\n"
	  "  -j N                requests at once; --rate R: at most R requests per second\n"
	  "  --timeout S         per request; --retries N: on connection errors only\n"
	  "  --insecure          do not verify TLS certificates\n"
	  "  --samples N         requests per pattern rule\n"
	  "  --format text|json, --limit N\n"
	  "Exit 1 on a mismatch, 2 when the server cannot be reached.\n" },
	{ "coverage", cli_coverage, "FILE LOG...", "which rules access logs show in use",
	  "  --log-format combined|common|json, --field NAME=MEMBER (json)\n"
	  "  --host H            the Host of log lines that carry none\n"
	  "  --top N             uncovered 404 paths shown\n"
	  "  --format text|json, --limit N\n"
	  "LOG may be gzip-compressed, or '-' for standard input.\n" },
	{ "help", cli_help, "[COMMAND]", "this help, or one command's", "" },
	{ NULL, NULL, NULL, NULL, NULL },
};

const cli_command *cli_command_find(const char *name)
{
	for (const cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static const char *const *command_names(void)
{
	static const char *names[32];
	size_t n = 0;
	for (const cli_command *c = cli_commands; c->name && n + 1 < 32; c++)
		names[n++] = c->name;
	names[n] = NULL;
	return names;
}

static void usage(FILE *out)
{
	fputs("usage: redirc COMMAND [OPTIONS] [ARGS]\n\ncommands:\n", out);
	for (const cli_command *c = cli_commands; c->name; c++) {
		char head[64];
		snprintf(head, sizeof head, "%s %s", c->name, c->synopsis);
		fprintf(out, "  %-34s %s\n", head, c->summary);
	}
	fputs("\n'redirc help COMMAND' lists a command's options.\n"
	      "exit status: 0 success, 1 the input has errors (or warnings under -Werror),\n"
	      "2 usage or I/O failure\n",
	      out);
}

int cli_help(int argc, char **argv)
{
	if (argc > 2)
		return cli_usage(NULL, "help: unexpected '%s', expected at most one command name", argv[2]);
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	const cli_command *c = cli_command_find(argv[1]);
	if (!c) {
		const char *near = rc_suggest(argv[1], command_names());
		if (near)
			return cli_usage(NULL, "help: unknown command '%s'; did you mean '%s'?", argv[1], near);
		return cli_usage(NULL, "help: unknown command '%s'", argv[1]);
	}
	printf("usage: redirc %s %s\n%s\n\noptions:\n%s", c->name, c->synopsis, c->summary, c->help);
	if (strcmp(c->name, "compile") == 0)
		cli_compile_list_targets(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return cli_usage(NULL, "no command given");
	}
	const char *word = argv[1];
	if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(word, "--version") == 0 || strcmp(word, "-v") == 0 || strcmp(word, "-V") == 0) {
		printf("redirc %s\n", PACKAGE_VERSION);
		return 0;
	}
	const cli_command *c = cli_command_find(word);
	if (!c) {
		if (word[0] == '-')
			return cli_usage(NULL, "unknown option '%s' before the command, expected a command first",
			                 word);
		const char *near = rc_suggest(word, command_names());
		if (near)
			return cli_usage(NULL, "unknown command '%s'; did you mean '%s'?", word, near);
		char list[256] = "";
		for (const cli_command *k = cli_commands; k->name; k++)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k == cli_commands ? "" : ", ",
			         k->name);
		return cli_usage(NULL, "unknown command '%s', expected one of: %s", word, list);
	}
	return c->run(argc - 1, argv + 1);
}
