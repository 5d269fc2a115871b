/*
 * check.c - `redirc check FILE...` and `redirc test FILE...`.
 *
 * Each file is loaded and checked on its own (test: its expect lines too);
 * the diagnostics of every file are printed once, sorted by file and line,
 * and one summary line per file goes to stderr on success (-q: none).  The
 * exit status is the worst of the files.
 */
#include <stdlib.h>

#include "cli/cli.h"

static const struct option check_options[] = {
	CLI_COMMON_LONG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static int run(int argc, char **argv, int expects)
{
	cli_common c;
	cli_common_init(&c, argv[0]);
	int st = 0, opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, check_options, NULL)) != -1) {
		int r = cli_common_option(&c, opt, optarg);
		if (r < 0) {
			st = r == -1 ? 0 : -r;
			goto done;
		}
		if (r == 0) {
			st = cli_bad_option(c.cmd, argv, opt);
			goto done;
		}
	}
	char **files = argv + optind;
	int nfiles = argc - optind;
	if (nfiles == 0) {
		st = cli_usage(c.cmd, "needs at least one FILE");
		goto done;
	}
	struct summary {
		size_t rules, expects, warnings;
		int status;
	} *sum = calloc((size_t)nfiles, sizeof *sum);
	for (int i = 0; i < nfiles; i++) {
		size_t errors = c.diags.errors, warnings = c.diags.warnings;
		rc_ir ir;
		rc_ir_init(&ir, &c.diags);
		int fst = cli_load_checked(&c, &ir, files[i], expects);
		if (fst == 0 && c.diags.errors != errors)
			fst = EXIT_INPUT;
		sum[i].status = fst;
		sum[i].rules = rc_ir_nrules(&ir);
		sum[i].expects = ir.expects.len;
		sum[i].warnings = c.diags.warnings - warnings;
		rc_ir_fini(&ir);
		if (fst > st)
			st = fst;
	}
	cli_print_diags(&c);
	/* the summary: for people, so never inside JSON or SARIF output */
	if (!c.quiet && c.diag_format == CLI_DIAG_TEXT) {
		for (int i = 0; i < nfiles; i++) {
			if (sum[i].status != 0)
				continue;
			fprintf(stderr, "%s: %zu rule%s, %zu expectation%s%s, %zu warning%s\n", files[i],
			        sum[i].rules, sum[i].rules == 1 ? "" : "s", sum[i].expects,
			        sum[i].expects == 1 ? "" : "s", expects ? " hold" : "", sum[i].warnings,
			        sum[i].warnings == 1 ? "" : "s");
		}
	}
	free(sum);
done:
	cli_common_fini(&c);
	return st;
}

int cli_check(int argc, char **argv)
{
	return run(argc, argv, 0);
}

int cli_test(int argc, char **argv)
{
	return run(argc, argv, 1);
}
