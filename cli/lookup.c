/*
 * lookup.c - `redirc lookup TABLE URL...|- [--host H] [--format json]`: the
 * lines of `redirc explain`, answered by the table reader (runtime/redir.h).
 *
 * URL<TAB>STATUS<TAB>LOCATION<TAB>FILE:LINE, or URL<TAB>pass (the URL as
 * given, control bytes and spaces as %XX); --format json: one object per
 * line, as explain writes them.  A table that cannot be opened or fails its
 * checksum is exit 2 with the reader's specific message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "runtime/redir.h"

enum { OPT_HOST = CLI_OPT_FIRST_OWN, OPT_FORMAT, OPT_HELP };

static const struct option lookup_options[] = {
	{ "host", required_argument, NULL, OPT_HOST },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* What the operator can do about a table the reader refused. */
static const char *open_hint(int code)
{
	switch (code) {
	case RD_E_IO:
		return "expected a readable .redirdb file; a retry will not help until the path is fixed";
	case RD_E_NOMEM:
		return "a retry may help once memory is free";
	case RD_E_VERSION:
	case RD_E_ENDIAN:
		return "expected a table written by this version of 'redirc compile --target table' "
		       "on a machine of the same byte order; recompile it here, a retry will not help";
	default:
		return "expected a table written by 'redirc compile --target table'; recompile it, "
		       "a retry will not help";
	}
}

typedef struct lookup_ctx {
	const char *table_path;
	rd_table *table;
	const char *host;
	int json;
	char *buf;
	size_t cap;
	rc_arena arena;
} lookup_ctx;

static void put_json_or_null(const char *s)
{
	if (s)
		cli_put_json(stdout, s);
	else
		fputs("null", stdout);
}

static int lookup_one(const char *url, void *arg)
{
	lookup_ctx *x = arg;
	char *uhost, *path, *query;
	size_t qlen;
	const char *why;
	if (rc_url_split(&x->arena, url, strlen(url), &uhost, &path, &query, &qlen, &why) != 0) {
		fputs("redirc: error: lookup: invalid URL '", stderr);
		rc_url_print(stderr, url);
		fprintf(stderr, "': %s [bad-url] (a retry will not help)\n", why);
		return EXIT_USAGE;
	}
	const char *h = uhost ? uhost : x->host;
	rd_result res;
	int r;
	while ((r = rd_table_lookup(x->table, h, path, strlen(path), query, qlen, &res, x->buf, x->cap)) ==
	       RD_E_BUFFER) {
		x->cap = res.needed > 2 * x->cap ? res.needed : 2 * x->cap;
		x->buf = rc_xrealloc(x->buf, x->cap);
	}
	rd_rule_info info = { 0, NULL, NULL, NULL };
	if (r > 0 && rd_table_rule_info(x->table, res.rule_id, &info) != RD_OK)
		r = RD_E_CORRUPT; /* the source line: from the cold metadata, only now */
	if (r < 0) {
		fprintf(stderr, "redirc: error: %s: %s while answering '", x->table_path, rd_strerror(r));
		rc_url_print(stderr, url);
		fprintf(stderr, "'; %s\n", open_hint(r));
		return EXIT_USAGE;
	}
	if (x->json) {
		fputs("{\"url\":", stdout);
		cli_put_json(stdout, url);
		if (r == 0) {
			fputs(",\"result\":\"pass\"}\n", stdout);
			return 0;
		}
		printf(",\"result\":\"%s\",\"status\":%d,\"location\":", r == 410 ? "gone" : "redirect", r);
		put_json_or_null(r == 410 ? NULL : x->buf);
		fputs(",\"file\":", stdout);
		put_json_or_null(info.file);
		printf(",\"line\":%u,\"owner\":", info.line);
		put_json_or_null(info.owner);
		fputs(",\"note\":", stdout);
		put_json_or_null(info.note);
		fputs("}\n", stdout);
		return 0;
	}
	rc_url_print(stdout, url);
	if (r == 0)
		fputs("\tpass\n", stdout);
	else
		printf("\t%d\t%s\t%s:%u\n", r, r == 410 ? "" : x->buf, info.file ? info.file : "?", info.line);
	return 0;
}

int cli_lookup(int argc, char **argv)
{
	const char *cmd = argv[0];
	lookup_ctx x;
	memset(&x, 0, sizeof x);
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", lookup_options, NULL)) != -1) {
		if (opt == OPT_HOST) {
			x.host = optarg;
		} else if (opt == OPT_FORMAT) {
			if (cli_format_option(cmd, optarg, &x.json) != 0)
				return EXIT_USAGE;
		} else if (opt == OPT_HELP || opt == 'h') {
			char *hv[] = { (char *)"help", (char *)cmd, NULL };
			optind = 1;
	opterr = 0;
			return cli_help(2, hv);
		} else {
			return cli_bad_option(cmd, argv, opt);
		}
	}
	if (optind >= argc)
		return cli_usage(cmd, "needs a TABLE and at least one URL (or '-' for standard input)");
	x.table_path = argv[optind++];
	if (optind >= argc)
		return cli_usage(cmd, "needs at least one URL after '%s' (or '-' for standard input)", x.table_path);
	rd_error err;
	if (rd_table_open(x.table_path, &x.table, &err) != RD_OK || rd_table_verify(x.table, &err) != RD_OK) {
		fprintf(stderr, "redirc: error: %s; %s\n", err.message, open_hint(err.code));
		rd_table_close(x.table);
		return EXIT_USAGE;
	}
	rc_arena_init(&x.arena);
	x.cap = 4096;
	x.buf = rc_xmalloc(x.cap);
	int st = cli_each_url(cmd, argv + optind, argc - optind, lookup_one, &x);
	free(x.buf);
	rc_arena_fini(&x.arena);
	rd_table_close(x.table);
	return st;
}
