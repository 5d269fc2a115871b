/*
 * driver.c - the command line (spec section 7) and the pass pipeline:
 *
 *   load (grammar -> IR) -> check (checks.c, analysis.c) -> [flatten]
 *     -> emit (backends/) -> commit artifacts atomically
 *
 * Only this file decides exit statuses: 0 success, 1 the input has errors
 * (or warnings under -Werror), 2 usage or I/O failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grammar/grammar.h"
#include "compiler/analysis.h"
#include "compiler/checks.h"
#include "compiler/ir.h"
#include "backends/backend.h"
#include "backends/servers.h"

#define EXIT_INPUT 1
#define EXIT_USAGE 2

int rc_parse_date(const char *s, size_t n);
int rc_cmd_lookup(const char *table, const char *const *urls, int nurls, const char *host);

typedef struct options {
	const char *command;
	const char *file;
	const char *host;
	const char *out_base;
	const char *map_dir;
	const char *targets[8];
	int ntargets;
	const char *urls[4096];
	int nurls;
	int json;
	int verbose;
	int flatten;
	int today;
} options;

static void usage(FILE *out)
{
	fputs(
	    "usage: redirc COMMAND FILE [ARGS] [OPTIONS]\n"
	    "\n"
	    "commands:\n"
	    "  check FILE                        parse and check; diagnostics only\n"
	    "  test FILE                         check, then every expect line\n"
	    "  explain FILE URL... [--host H]    what each request gets, one line per URL\n"
	    "  compile FILE --target T... -o BASE   one artifact set per target\n"
	    "  lookup TABLE URL... [--host H]    the same lines as explain, from a .redirdb\n"
	    "\n"
	    "options:\n"
	    "  --target T            nginx, apache, python or table (repeatable)\n"
	    "  -o BASE               artifact base name (BASE.http.conf, BASE.py, ...)\n"
	    "  --host H              the Host of bare-path URLs\n"
	    "  --flatten             rewrite exact targets to their final hop (every command)\n"
	    "  --map-dir DIR         apache: where the map files will be deployed\n"
	    "  --today YYYY-MM-DD    the date for `expired` (default: today)\n"
	    "  --diagnostics-format=text|json\n"
	    "  -Wno-NAME, -Werror, -Werror=NAME, --max-errors N\n"
	    "  --verbose, --help, --version\n"
	    "\n"
	    "exit status: 0 success, 1 the input has errors, 2 usage or I/O failure\n",
	    out);
}

static int is_command(const char *c)
{
	static const char *const commands[] = { "check", "test", "explain", "compile", "lookup" };
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(c, commands[i]) == 0)
			return 1;
	return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("redirc: error: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (run 'redirc --help'; a retry will not help)\n", stderr);
	return EXIT_USAGE;
}

static int today_int(void)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static int parse_args(int argc, char **argv, options *o, rc_diags *d)
{
	memset(o, 0, sizeof *o);
	o->today = today_int();
	int positional = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
#define NEED_VALUE(flag)                                                   \
	do {                                                                   \
		if (strncmp(a, flag "=", strlen(flag) + 1) == 0)                   \
			val = a + strlen(flag) + 1;                                    \
		else if (i + 1 < argc)                                             \
			val = argv[++i];                                               \
		else                                                               \
			return usage_error("option '%s' needs a value", flag);         \
	} while (0)
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "--version") == 0) {
			printf("redirc %s\n", PACKAGE_VERSION);
			exit(0);
		} else if (strcmp(a, "--target") == 0 || strncmp(a, "--target=", 9) == 0) {
			NEED_VALUE("--target");
			if (o->ntargets == 8)
				return usage_error("too many --target options (%s)", val);
			o->targets[o->ntargets++] = val;
		} else if (strcmp(a, "-o") == 0) {
			if (i + 1 >= argc)
				return usage_error("option '%s' needs a value", "-o");
			o->out_base = argv[++i];
		} else if (strcmp(a, "--host") == 0 || strncmp(a, "--host=", 7) == 0) {
			NEED_VALUE("--host");
			o->host = val;
		} else if (strcmp(a, "--map-dir") == 0 || strncmp(a, "--map-dir=", 10) == 0) {
			NEED_VALUE("--map-dir");
			o->map_dir = val;
		} else if (strcmp(a, "--today") == 0 || strncmp(a, "--today=", 8) == 0) {
			NEED_VALUE("--today");
			o->today = rc_parse_date(val, strlen(val));
			if (o->today < 0)
				return usage_error("invalid --today '%s', expected YYYY-MM-DD", val);
		} else if (strncmp(a, "--diagnostics-format=", 21) == 0 ||
		           strcmp(a, "--diagnostics-format") == 0) {
			NEED_VALUE("--diagnostics-format");
			if (strcmp(val, "json") == 0)
				o->json = 1;
			else if (strcmp(val, "text") == 0)
				o->json = 0;
			else
				return usage_error("invalid --diagnostics-format '%s', expected text or json", val);
		} else if (strcmp(a, "--max-errors") == 0 || strncmp(a, "--max-errors=", 13) == 0) {
			NEED_VALUE("--max-errors");
			char *end;
			long n = strtol(val, &end, 10);
			if (*end || end == val || n < 0)
				return usage_error("invalid --max-errors '%s', expected a whole number", val);
			d->max_errors = (size_t)n;
		} else if (strcmp(a, "--flatten") == 0) {
			o->flatten = 1;
		} else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
			o->verbose = 1;
		} else if (strcmp(a, "-Werror") == 0) {
			d->werror = 1;
		} else if (strncmp(a, "-Werror=", 8) == 0) {
			if (rc_diags_set_policy(d, a + 8, RC_NAME_ERROR) != 0)
				return usage_error("unknown diagnostic name '%s'", a + 8);
		} else if (strncmp(a, "-Wno-", 5) == 0) {
			if (rc_diags_set_policy(d, a + 5, RC_NAME_IGNORE) != 0)
				return usage_error("unknown diagnostic name '%s'", a + 5);
		} else if (a[0] == '-' && a[1] != '\0' && positional < 2) {
			return usage_error("unknown option '%s'", a);
		} else {
			if (positional == 0)
				o->command = a;
			else if (positional == 1)
				o->file = a;
			else if (o->nurls < (int)(sizeof o->urls / sizeof o->urls[0]))
				o->urls[o->nurls++] = a;
			else
				return usage_error("too many URLs (%s)", a);
			positional++;
		}
#undef NEED_VALUE
	}
	if (!o->command)
		return usage_error("%s", "no command given");
	if (!is_command(o->command))
		return usage_error("unknown command '%s', expected check, test, explain, compile or lookup",
		                   o->command);
	if (!o->file)
		return usage_error("command '%s' needs a FILE", o->command);
	return 0;
}

static void print_diags(const rc_diags *d, const options *o)
{
	if (o->json)
		rc_diags_print_json(d, stderr);
	else
		rc_diags_print_text(d, stderr, 0);
}

/* Load the file; 0, or an exit status. */
static int load(rc_ir *ir, const options *o)
{
	if (rc_load_file(ir, o->file) != 0)
		return EXIT_USAGE;
	return 0;
}

static int exit_status(const rc_diags *d)
{
	return d->errors ? EXIT_INPUT : 0;
}

static const char *rule_file(const rc_ir *ir, const rc_rule *r)
{
	const rc_file *f = rc_diags_file(ir->diags, r->loc.file);
	return f ? f->path : "?";
}

static int cmd_explain(rc_ir *ir, const options *o)
{
	char host_canon[512] = "";
	const char *default_host = NULL;
	if (o->host) {
		size_t hl = strlen(o->host);
		if (hl >= sizeof host_canon)
			return usage_error("--host '%s' is too long", o->host);
		rd_host_canon(o->host, hl, host_canon);
		default_host = host_canon;
	}
	for (int i = 0; i < o->nurls; i++) {
		const char *url = o->urls[i];
		char *host, *path, *query;
		size_t qlen;
		const char *why;
		if (rc_url_split(&ir->arena, url, strlen(url), &host, &path, &query, &qlen, &why) != 0) {
			fprintf(stderr, "redirc: error: invalid URL '%s': %s\n", url, why);
			return EXIT_USAGE;
		}
		rc_answer ans;
		rc_ir_answer(ir, host ? host : default_host, path, strlen(path), query, qlen, &ans);
		if (!ans.matched)
			printf("%s\tpass\n", url);
		else
			printf("%s\t%d\t%s\t%s:%u\n", url, ans.status, ans.location ? ans.location : "",
			       rule_file(ir, ans.rule), ans.rule->loc.line);
		if (o->verbose && ans.matched)
			fprintf(stderr, "%s: rule '%s'%s%s\n", url, ans.rule->source_text,
			        ans.rule->owner ? " owner " : "", ans.rule->owner ? ans.rule->owner : "");
		rc_answer_fini(&ans);
	}
	return 0;
}

/* Whether a target from chosen[from] on uses the shared server layers. */
static int server_target_after(const rc_backend *const *chosen, int from, int n)
{
	for (int i = from; i < n; i++)
		if (strcmp(chosen[i]->name, "nginx") == 0 || strcmp(chosen[i]->name, "apache") == 0)
			return 1;
	return 0;
}

static int cmd_compile(rc_ir *ir, const options *o)
{
	if (o->ntargets == 0)
		return usage_error("%s", "compile needs --target (nginx, apache, python or table)");
	if (!o->out_base)
		return usage_error("%s", "compile needs -o BASE");
	const rc_backend *chosen[8];
	for (int i = 0; i < o->ntargets; i++) {
		chosen[i] = rc_backend_find(o->targets[i]);
		if (!chosen[i])
			return usage_error("unknown target '%s', expected nginx, apache, python or table",
			                   o->targets[i]);
		if (!chosen[i]->emit) {
			fprintf(stderr, "redirc: error: target '%s' is not yet available in this version "
			                "(a retry will not help)\n", o->targets[i]);
			return EXIT_USAGE;
		}
	}
	rc_artifacts out;
	rc_artifacts_init(&out, o->out_base);
	rc_sv_cache layers = { 0 }; /* built once for nginx and apache */
	rc_emit_opts eo = { o->map_dir, o->file, &layers };
	int failed = 0;
	for (int i = 0; i < o->ntargets && !failed; i++) {
		if (chosen[i]->emit(ir, &eo, &out) != 0 || out.failed)
			failed = 1;
		if (!server_target_after(chosen, i + 1, o->ntargets))
			rc_sv_cache_fini(&layers); /* free them before python and table */
	}
	rc_sv_cache_fini(&layers);
	if (failed || ir->diags->errors) {
		rc_artifacts_abort(&out);
		print_diags(ir->diags, o);
		if (out.error)
			fprintf(stderr, "redirc: error: %s\n", out.error);
		int st = out.failed ? EXIT_USAGE : EXIT_INPUT;
		rc_artifacts_fini(&out);
		return st;
	}
	if (rc_artifacts_commit(&out) != 0) {
		print_diags(ir->diags, o);
		fprintf(stderr, "redirc: error: %s\n", out.error);
		rc_artifacts_fini(&out);
		return EXIT_USAGE;
	}
	print_diags(ir->diags, o);
	if (o->verbose)
		for (size_t i = 0; i < out.items.len; i++)
			fprintf(stderr, "wrote %s\n", RC_VEC_AT(&out.items, rc_artifact, i)->final_path);
	rc_artifacts_fini(&out);
	return exit_status(ir->diags);
}

int main(int argc, char **argv)
{
	rc_diags diags;
	rc_diags_init(&diags);
	options o;
	int st = parse_args(argc, argv, &o, &diags);
	if (st != 0) {
		rc_diags_fini(&diags);
		return st;
	}
	const char *cmd = o.command;
	if (strcmp(cmd, "lookup") == 0) {
		st = rc_cmd_lookup(o.file, o.urls, o.nurls, o.host);
		rc_diags_fini(&diags);
		return st;
	}
	if (strcmp(cmd, "explain") == 0 && o.nurls == 0) {
		rc_diags_fini(&diags);
		return usage_error("%s", "explain needs at least one URL");
	}
	rc_ir ir;
	rc_ir_init(&ir, &diags);
	st = load(&ir, &o);
	if (st == 0) {
		rc_check_opts co = { o.today, strcmp(cmd, "explain") != 0 && strcmp(cmd, "check") != 0,
		                     o.flatten };
		if (strcmp(cmd, "explain") == 0) {
			/* explain answers from the rules as written; diagnostics go
			 * to stderr and set the exit status */
			rc_check_all(&ir, &co);
			st = cmd_explain(&ir, &o);
			print_diags(&diags, &o);
			if (st == 0)
				st = exit_status(&diags);
		} else if (strcmp(cmd, "compile") == 0) {
			rc_check_all(&ir, &co);
			if (diags.errors) {
				print_diags(&diags, &o);
				st = EXIT_INPUT;
			} else {
				st = cmd_compile(&ir, &o);
			}
		} else {
			rc_check_all(&ir, &co);
			print_diags(&diags, &o);
			st = exit_status(&diags);
			if (o.verbose)
				fprintf(stderr, "%zu rules, %zu expectations, %zu errors, %zu warnings\n",
				        ir.rules.len, ir.expects.len, diags.errors, diags.warnings);
		}
	} else {
		print_diags(&diags, &o);
	}
	rc_ir_fini(&ir);
	rc_diags_fini(&diags);
	return st;
}
