/*
 * compile.c - `redirc compile FILE --target T... -o BASE [--map-dir DIR]
 * [--flatten]`: check (expect lines included), optionally flatten, emit
 * one artifact set per target (backends/ registry), then publish every
 * artifact at once; on any error nothing is published and earlier
 * artifacts stay as they were.
 */
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/servers.h"
#include "cli/cli.h"
#include "cli/report.h"
#include "compiler/analysis.h"
#include "compiler/util.h"

enum { OPT_TARGET = CLI_OPT_FIRST_OWN, OPT_MAP_DIR, OPT_REPORT };

static const struct option compile_options[] = {
	CLI_COMMON_LONG_OPTIONS,
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "map-dir", required_argument, NULL, OPT_MAP_DIR },
	{ "output", required_argument, NULL, 'o' },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ NULL, 0, NULL, 0 },
};

#define MAX_TARGETS 16

void cli_compile_list_targets(FILE *out)
{
	fputs("\ntargets:\n", out);
	for (size_t i = 0; rc_backends[i]; i++)
		fprintf(out, "  %-10s %s\n", rc_backends[i]->name, rc_backends[i]->description);
}

static const char *const *target_names(void)
{
	static const char *names[MAX_TARGETS + 1];
	size_t n = 0;
	for (size_t i = 0; rc_backends[i] && n < MAX_TARGETS; i++)
		names[n++] = rc_backends[i]->name;
	names[n] = NULL;
	return names;
}

static int unknown_target(const char *cmd, const char *name)
{
	char list[256] = "";
	for (size_t i = 0; rc_backends[i]; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
		         rc_backends[i]->name);
	const char *near = rc_suggest(name, target_names());
	if (near)
		return cli_usage(cmd, "unknown target '%s'; did you mean '%s'? (targets: %s)", name, near, list);
	return cli_usage(cmd, "unknown target '%s', expected one of: %s", name, list);
}

/* Whether a target from chosen[from] on reads the shared server layers. */
static int server_layers_needed_after(const rc_backend *const *chosen, int from, int n)
{
	for (int i = from; i < n; i++)
		if (chosen[i]->uses_server_layers)
			return 1;
	return 0;
}

/* What compile writes beside the artifacts: --report FILE.json. */
typedef struct report_opts {
	const char *path;           /* NULL: no report */
	int argc;
	char **argv;
	struct timespec start;
} report_opts;

static int emit_all(cli_common *c, rc_ir *ir, const rc_backend *const *chosen, int n,
                    const char *file, const char *out_base, const char *map_dir,
                    const report_opts *report)
{
	rc_artifacts out;
	rc_artifacts_init(&out, out_base);
	rc_sv_cache layers = { 0 }; /* built once for every target that uses them */
	rc_emit_opts eo = { map_dir, file, &layers };
	int failed = 0;
	for (int i = 0; i < n && !failed; i++) {
		cli_progress(c, "writing the %s artifacts of %s...", chosen[i]->name, file);
		if (chosen[i]->emit(ir, &eo, &out) != 0 || out.failed)
			failed = 1;
		if (rc_artifacts_flush(&out) != 0) /* a write error names its file: exit 2 */
			failed = 1;
		if (!server_layers_needed_after(chosen, i + 1, n))
			rc_sv_cache_fini(&layers); /* free them before the other targets */
	}
	rc_sv_cache_fini(&layers);
	cli_progress_done(c);
	int st = 0;
	if (failed || c->diags.errors) {
		rc_artifacts_abort(&out);
		st = out.failed ? EXIT_USAGE : EXIT_INPUT;
	} else if (rc_artifacts_commit(&out) != 0) {
		st = EXIT_USAGE;
	}
	cli_print_diags(c);
	if (out.error)
		fprintf(stderr, "redirc: error: %s\n", out.error);
	if (st == 0 && report->path &&
	    rc_report_write(report->path, ir, &out, report->argc, report->argv, &report->start) != 0)
		st = EXIT_USAGE;
	if (st == 0 && c->verbose)
		for (size_t i = 0; i < out.items.len; i++)
			fprintf(stderr, "wrote %s\n", RC_VEC_AT(&out.items, rc_artifact, i)->final_path);
	rc_artifacts_fini(&out);
	return st ? st : cli_status(c);
}

int cli_compile(int argc, char **argv)
{
	/* the command line as given: getopt_long permutes argv */
	char **given = rc_xmalloc(((size_t)argc + 1) * sizeof *given);
	memcpy(given, argv, ((size_t)argc + 1) * sizeof *given);
	report_opts report = { NULL, argc, given, { 0, 0 } };
	rc_report_start(&report.start);
	cli_common c;
	cli_common_init(&c, argv[0]);
	const rc_backend *chosen[MAX_TARGETS];
	int ntargets = 0, st = 0, opt;
	const char *out_base = NULL, *map_dir = NULL;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT "o:", compile_options, NULL)) != -1) {
		int r = cli_common_option(&c, opt, optarg);
		if (r < 0) {
			st = r == -1 ? 0 : -r;
			goto done;
		}
		if (r == 1)
			continue;
		switch (opt) {
		case OPT_TARGET: {
			const rc_backend *b = rc_backend_find(optarg);
			if (!b) {
				st = unknown_target(c.cmd, optarg);
				goto done;
			}
			int seen = 0;
			for (int i = 0; i < ntargets; i++)
				seen |= chosen[i] == b;
			if (!seen && ntargets < MAX_TARGETS)
				chosen[ntargets++] = b;
			break;
		}
		case 'o':
			out_base = optarg;
			break;
		case OPT_MAP_DIR:
			map_dir = optarg;
			break;
		case OPT_REPORT:
			report.path = optarg;
			break;
		default:
			st = cli_bad_option(c.cmd, argv, opt);
			goto done;
		}
	}
	if (optind >= argc) {
		st = cli_usage(c.cmd, "needs a FILE");
		goto done;
	}
	const char *file = argv[optind++];
	if (optind < argc) {
		st = cli_usage(c.cmd, "unexpected '%s' after '%s', expected one FILE (compile each file on its own)",
		               argv[optind], file);
		goto done;
	}
	if (ntargets == 0) {
		st = cli_usage(c.cmd, "needs --target (run 'redirc help compile' for the list)");
		goto done;
	}
	if (!out_base || !*out_base) {
		st = cli_usage(c.cmd, "needs -o BASE (the artifacts are BASE.*)");
		goto done;
	}
	rc_ir ir;
	rc_ir_init(&ir, &c.diags);
	st = cli_load_checked(&c, &ir, file, 1);
	if (st != 0 || c.diags.errors) {
		cli_print_diags(&c);
		if (st == 0)
			st = EXIT_INPUT;
	} else {
		st = emit_all(&c, &ir, chosen, ntargets, file, out_base, map_dir, &report);
	}
	rc_ir_fini(&ir);
done:
	cli_common_fini(&c);
	free(given);
	return st;
}
