/*
 * explain.c - `redirc explain FILE URL...|- [--host H] [--format json]`:
 * what each request gets, answered by the runtime matcher over the rules
 * as written (or as --flatten rewrites them), one line per URL:
 *
 *   URL<TAB>STATUS<TAB>LOCATION<TAB>FILE:LINE     a redirect (LOCATION empty for 410)
 *   URL<TAB>pass
 *
 * or, with --format json, one object per line (cli_answer_json).  The URL
 * is printed as given, with control bytes and spaces as %XX.  Diagnostics
 * go to stderr and set the exit status.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "compiler/analysis.h"
#include "runtime/match.h"

enum { OPT_HOST = CLI_OPT_FIRST_OWN, OPT_FORMAT };

static const struct option explain_options[] = {
	CLI_COMMON_LONG_OPTIONS,
	{ "host", required_argument, NULL, OPT_HOST },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ NULL, 0, NULL, 0 },
};

typedef struct explain_ctx {
	cli_common *c;
	rc_ir *ir;
	const char *default_host; /* canonical --host, or NULL */
	int json;
	int hinted;               /* the host-block hint was given once */
} explain_ctx;

static const char *rule_file(const rc_ir *ir, const rc_rule *r)
{
	const rc_file *f = rc_diags_file(ir->diags, r->loc.file);
	return f ? f->path : "?";
}

/* A bare path that passes here may be meant for a host block: name the
 * first served host whose rules would answer it. */
static void hint_host(explain_ctx *x, const char *url, const char *path, const char *query,
                      size_t qlen)
{
	const rc_ir *ir = x->ir;
	for (size_t s = 0; s < ir->scopes.len && s < 1000; s++) {
		const rc_scope *sc = RC_VEC_AT(&ir->scopes, rc_scope, s);
		for (uint32_t h = 0; h < sc->nhosts; h++) {
			rc_answer ans;
			rc_ir_answer(ir, sc->hosts[h], path, strlen(path), query, qlen, &ans);
			int hit = ans.matched;
			const rc_rule *r = ans.rule;
			rc_answer_fini(&ans);
			if (hit) {
				fputs("redirc: note: '", stderr);
				rc_url_print(stderr, url);
				fprintf(stderr, "' has no Host, so only rules outside host blocks apply; "
				                "for host %s the rule at %s:%u answers (give --host %s or an absolute URL)\n",
				        sc->hosts[h], rule_file(ir, r), r->loc.line, sc->hosts[h]);
				x->hinted = 1;
				return;
			}
		}
	}
}

static void print_json(const explain_ctx *x, const char *url, const rc_answer *ans)
{
	fputs("{\"url\":", stdout);
	cli_put_json(stdout, url);
	if (!ans->matched) {
		fputs(",\"result\":\"pass\"}\n", stdout);
		return;
	}
	const rc_rule *r = ans->rule;
	fprintf(stdout, ",\"result\":\"%s\",\"status\":%d,\"location\":", ans->location ? "redirect" : "gone",
	        ans->status);
	if (ans->location)
		cli_put_json(stdout, ans->location);
	else
		fputs("null", stdout);
	fputs(",\"file\":", stdout);
	cli_put_json(stdout, rule_file(x->ir, r));
	fprintf(stdout, ",\"line\":%u,\"owner\":", r->loc.line);
	if (r->owner)
		cli_put_json(stdout, r->owner);
	else
		fputs("null", stdout);
	fputs(",\"note\":", stdout);
	if (r->note)
		cli_put_json(stdout, r->note);
	else
		fputs("null", stdout);
	fputs("}\n", stdout);
}

static int explain_one(const char *url, void *arg)
{
	explain_ctx *x = arg;
	rc_arena a;
	rc_arena_init(&a);
	char *host, *path, *query;
	size_t qlen;
	const char *why;
	if (rc_url_split(&a, url, strlen(url), &host, &path, &query, &qlen, &why) != 0) {
		fputs("redirc: error: explain: invalid URL '", stderr);
		rc_url_print(stderr, url);
		fprintf(stderr, "': %s [bad-url] (a retry will not help)\n", why);
		rc_arena_fini(&a);
		return EXIT_USAGE;
	}
	rc_answer ans;
	rc_ir_answer(x->ir, host ? host : x->default_host, path, strlen(path), query, qlen, &ans);
	if (x->json) {
		print_json(x, url, &ans);
	} else {
		rc_url_print(stdout, url);
		if (!ans.matched)
			fputs("\tpass\n", stdout);
		else
			printf("\t%d\t%s\t%s:%u\n", ans.status, ans.location ? ans.location : "",
			       rule_file(x->ir, ans.rule), ans.rule->loc.line);
	}
	if (x->c->verbose && ans.matched)
		fprintf(stderr, "%s: rule '%s'%s%s\n", url, ans.rule->source_text,
		        ans.rule->owner ? " owner " : "", ans.rule->owner ? ans.rule->owner : "");
	if (!ans.matched && !host && !x->default_host && !x->hinted && !x->c->quiet)
		hint_host(x, url, path, query, qlen);
	rc_answer_fini(&ans);
	rc_arena_fini(&a);
	return 0;
}

int cli_explain(int argc, char **argv)
{
	cli_common c;
	cli_common_init(&c, argv[0]);
	const char *host = NULL;
	int json = 0, st = 0, opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, explain_options, NULL)) != -1) {
		int r = cli_common_option(&c, opt, optarg);
		if (r < 0) {
			st = r == -1 ? 0 : -r;
			goto done;
		}
		if (r == 1)
			continue;
		if (opt == OPT_HOST) {
			host = optarg;
		} else if (opt == OPT_FORMAT) {
			if (cli_format_option(c.cmd, optarg, &json) != 0) {
				st = EXIT_USAGE;
				goto done;
			}
		} else {
			st = cli_bad_option(c.cmd, argv, opt);
			goto done;
		}
	}
	if (optind >= argc) {
		st = cli_usage(c.cmd, "needs a FILE and at least one URL (or '-' for standard input)");
		goto done;
	}
	const char *file = argv[optind++];
	if (optind >= argc) {
		st = cli_usage(c.cmd, "needs at least one URL after '%s' (or '-' for standard input)", file);
		goto done;
	}
	char host_canon[512];
	if (host) {
		size_t hl = strlen(host);
		if (hl == 0 || hl >= sizeof host_canon) {
			st = cli_usage(c.cmd, "invalid --host '%s', expected a host name of 1 to 511 bytes", host);
			goto done;
		}
		rd_host_canon(host, hl, host_canon);
	}
	rc_ir ir;
	rc_ir_init(&ir, &c.diags);
	st = cli_load_checked(&c, &ir, file, 0);
	if (st == 0) {
		explain_ctx x = { &c, &ir, host ? host_canon : NULL, json, 0 };
		st = cli_each_url(c.cmd, argv + optind, argc - optind, explain_one, &x);
	}
	cli_print_diags(&c);
	if (st == 0)
		st = cli_status(&c);
	rc_ir_fini(&ir);
done:
	cli_common_fini(&c);
	return st;
}
