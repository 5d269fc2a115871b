/*
 * diff.c - `redirc diff OLD NEW [--format text|json] [--limit N]`: what
 * changes for which requests (compiler/behaviour_diff.h decides it; this
 * file reads the options, loads and checks both files and prints).
 *
 * Exit status: 0 every request is answered the same, 1 behaviour differs,
 * 2 usage error, a file that cannot be read or has errors that leave its
 * rules incomplete (syntax, bad values, includes).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/review.h"
#include "compiler/behaviour_diff.h"
#include "compiler/checks.h"
#include "compiler/jsonw.h"
#include "grammar/grammar.h"

static int diff_usage(const char *what, const char *value)
{
	return cli_usage_value("diff", what, value);
}

/* Diagnostics that leave the rule set incomplete: a diff of it would be
 * a diff of something else. */
static int blocks_diff(const rc_diags *d)
{
	static const char *const ok[] = { "duplicate", "shadowed", "loop", "unbounded", "chain",
		                              "open-redirect", "expired", "missing-owner",
		                              "missing-note", "untested", "undecided" };
	for (size_t i = 0; i < d->records.len; i++) {
		const rc_diag *g = RC_VEC_AT(&d->records, rc_diag, i);
		if (g->severity != RC_SEV_ERROR)
			continue;
		size_t j = 0;
		while (j < sizeof ok / sizeof ok[0] && strcmp(ok[j], g->name) != 0)
			j++;
		if (j == sizeof ok / sizeof ok[0])
			return 1;
	}
	return 0;
}

static int load_side(rc_ir *ir, rc_diags *d, const char *path)
{
	rc_diags_init(d);
	rc_ir_init(ir, d);
	if (rc_load_file(ir, path) != 0) {
		rc_diags_print_text(d, stderr, 0);
		return -1;
	}
	rc_check_opts co = { 0, 0, 0 };
	rc_check_all(ir, &co);
	if (blocks_diff(d)) {
		rc_diags_print_text(d, stderr, 0);
		fprintf(stderr, "redirc diff: error: '%s' has errors that leave its rules incomplete; "
		                "fix them first ('redirc check %s'; a retry will not help)\n", path, path);
		return -1;
	}
	return 0;
}

/* ---- text ---------------------------------------------------------------- */

static void text_url(const rc_bdiff_request *q)
{
	if (q->host)
		printf("http://%s%s", q->host, q->path);
	else
		fputs(q->path, stdout);
}

static void text_answer(int status, const char *location)
{
	if (status == 0)
		fputs("pass", stdout);
	else if (!location)
		printf("%d", status);
	else
		printf("%d %s", status, location);
}

static void text_trace(const rc_trace *t)
{
	text_answer(t->status, t->location);
	for (uint32_t i = 0; i < t->hops; i++) {
		fputs(", then ", stdout);
		text_answer(t->hop_status[i], t->hop_locations[i]);
	}
	if (t->loop)
		fputs(" (loop)", stdout);
}

static void text_request(rc_bdiff *d, const rc_bdiff_request *q, const char *indent)
{
	fputs(indent, stdout);
	text_url(q);
	fputs("  ", stdout);
	text_trace(&q->before);
	fputs("  ->  ", stdout);
	text_trace(&q->after);
	if (q->before.rule >= 0 || q->after.rule >= 0) {
		fputs("  [", stdout);
		fputs(q->before.rule >= 0 ? rc_bdiff_rule_place(d, 0, q->before.rule) : "no rule", stdout);
		fputs(" -> ", stdout);
		fputs(q->after.rule >= 0 ? rc_bdiff_rule_place(d, 1, q->after.rule) : "no rule", stdout);
		fputs("]", stdout);
	}
	putchar('\n');
}

static void text_rule_line(const rc_ir *ir, const rc_rule *r)
{
	printf("%s", r->source_text);
	if (r->gone)
		printf(" gone");
	else
		printf(" -> %s %d", r->target_text, r->status);
	if (r->scope >= 0) {
		const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, r->scope);
		printf(" (host");
		for (uint32_t i = 0; i < s->nhosts; i++)
			printf("%s%s", i ? ", " : " ", s->hosts[i]);
		printf(")");
	}
	if (r->query_drop)
		printf(" query drop");
}

static void text_rules(rc_bdiff *d, const char *title, const rc_vec *v, size_t limit)
{
	if (!v->len)
		return;
	printf("rules %s (%zu):\n", title, v->len);
	for (size_t i = 0; i < v->len && i < limit; i++) {
		const rc_bdiff_rule *r = RC_VEC_AT(v, rc_bdiff_rule, i);
		if (r->old_rule >= 0) {
			printf("  %s  ", rc_bdiff_rule_place(d, 0, r->old_rule));
			text_rule_line(d->old_ir, rc_ir_rule(d->old_ir, (size_t)r->old_rule));
			putchar('\n');
		}
		if (r->new_rule >= 0) {
			printf("  %s%s  ", r->old_rule >= 0 ? "  now " : "",
			       rc_bdiff_rule_place(d, 1, r->new_rule));
			text_rule_line(d->new_ir, rc_ir_rule(d->new_ir, (size_t)r->new_rule));
			putchar('\n');
		}
		if (r->witness >= 0)
			text_request(d, RC_VEC_AT(&d->requests, rc_bdiff_request, (size_t)r->witness),
			             "      e.g. ");
		else
			printf("      no request is answered differently (earlier rules take its requests)\n");
	}
	if (v->len > limit)
		printf("  ... and %zu more (--limit)\n", v->len - limit);
}

static void print_text(rc_bdiff *d, const char *oldp, const char *newp, size_t limit)
{
	int differs = rc_bdiff_differs(d);
	printf("redirc diff %s %s: behaviour %s: %zu rules added, %zu removed, %zu changed; "
	       "%zu of %zu requests tried answered differently\n",
	       oldp, newp, differs ? "differs" : "is the same", d->added.len, d->removed.len,
	       d->changed.len, d->requests.len, d->requests_tried);
	text_rules(d, "added", &d->added, limit);
	text_rules(d, "removed", &d->removed, limit);
	text_rules(d, "changed", &d->changed, limit);
	size_t at = 0;
	if (d->requests.len)
		printf("requests answered differently (%zu):\n", d->requests.len);
	for (int k = 0; k < RC_BD_NKINDS; k++) {
		size_t n = d->per_kind[k];
		if (!n)
			continue;
		printf("  %s (%zu):\n", rc_bdiff_kind_name((enum rc_bdiff_kind)k), n);
		for (size_t i = 0; i < n && i < limit; i++)
			text_request(d, RC_VEC_AT(&d->requests, rc_bdiff_request, at + i), "    ");
		if (n > limit)
			printf("    ... and %zu more (--limit)\n", n - limit);
		at += n;
	}
	if (d->diags.len) {
		printf("diagnostics on one side only (%zu):\n", d->diags.len);
		for (size_t i = 0; i < d->diags.len && i < limit; i++) {
			const rc_bdiff_diag *x = RC_VEC_AT(&d->diags, rc_bdiff_diag, i);
			const rc_ir *ir = x->side ? d->new_ir : d->old_ir;
			const rc_file *f = rc_diags_file(ir->diags, x->diag->loc.file);
			printf("  %s: %s:%u: %s [%s]\n", x->side ? "introduced" : "resolved",
			       f ? f->path : "?", x->diag->loc.line, x->diag->message, x->diag->name);
		}
		if (d->diags.len > limit)
			printf("  ... and %zu more (--limit)\n", d->diags.len - limit);
	}
	printf("unchanged: %zu rules (%zu of them at another line)\n", d->same, d->moved);
}

/* ---- json ---------------------------------------------------------------- */

static void json_rule(rc_bdiff *d, int side, int64_t i)
{
	if (i < 0) {
		fputs("null", stdout);
		return;
	}
	const rc_ir *ir = side ? d->new_ir : d->old_ir;
	const rc_rule *r = rc_ir_rule(ir, (size_t)i);
	const rc_file *f = rc_diags_file(ir->diags, r->loc.file);
	fputs("{\"file\": ", stdout);
	rc_json_str(stdout, f ? f->path : NULL);
	printf(", \"line\": %u, \"source\": ", r->loc.line);
	rc_json_str(stdout, r->source_text);
	fputs(", \"target\": ", stdout);
	rc_json_str(stdout, r->target_text);
	printf(", \"status\": %d, \"hosts\": [", r->status);
	if (r->scope >= 0) {
		const rc_scope *s = RC_VEC_AT(&ir->scopes, rc_scope, r->scope);
		for (uint32_t h = 0; h < s->nhosts; h++) {
			fputs(h ? ", " : "", stdout);
			rc_json_str(stdout, s->hosts[h]);
		}
	}
	fputs("], \"owner\": ", stdout);
	rc_json_str(stdout, r->owner);
	fputs("}", stdout);
}

static void json_trace(rc_bdiff *d, int side, const rc_trace *t)
{
	printf("{\"status\": %d, \"location\": ", t->status);
	rc_json_str(stdout, t->location);
	fputs(", \"rule\": ", stdout);
	if (t->rule >= 0)
		rc_json_str(stdout, rc_bdiff_rule_place(d, side, t->rule));
	else
		fputs("null", stdout);
	fputs(", \"then\": [", stdout);
	for (uint32_t i = 0; i < t->hops; i++) {
		printf("%s{\"status\": %d, \"location\": ", i ? ", " : "", t->hop_status[i]);
		rc_json_str(stdout, t->hop_locations[i]);
		fputs("}", stdout);
	}
	printf("], \"loop\": %s}", t->loop ? "true" : "false");
}

static void json_rules(rc_bdiff *d, const char *name, const rc_vec *v, size_t limit, int last)
{
	printf("    \"%s\": [", name);
	for (size_t i = 0; i < v->len && i < limit; i++) {
		const rc_bdiff_rule *r = RC_VEC_AT(v, rc_bdiff_rule, i);
		fputs(i ? ",\n      {\"old\": " : "\n      {\"old\": ", stdout);
		json_rule(d, 0, r->old_rule);
		fputs(", \"new\": ", stdout);
		json_rule(d, 1, r->new_rule);
		printf(", \"scope_changed\": %s, \"witness\": ", r->scope_changed ? "true" : "false");
		if (r->witness >= 0)
			printf("%lld", (long long)r->witness);
		else
			fputs("null", stdout);
		fputs("}", stdout);
	}
	printf("%s]%s\n", v->len ? "\n    " : "", last ? "" : ",");
}

static void print_json(rc_bdiff *d, size_t limit)
{
	printf("{\n  \"differs\": %s,\n  \"requests_tried\": %zu,\n  \"rules\": {\n",
	       rc_bdiff_differs(d) ? "true" : "false", d->requests_tried);
	printf("    \"same\": %zu,\n    \"moved\": %zu,\n", d->same, d->moved);
	json_rules(d, "added", &d->added, limit, 0);
	json_rules(d, "removed", &d->removed, limit, 0);
	json_rules(d, "changed", &d->changed, limit, 1);
	fputs("  },\n  \"counts\": {", stdout);
	for (int k = 0; k < RC_BD_NKINDS; k++)
		printf("%s\"%s\": %zu", k ? ", " : "", rc_bdiff_kind_name((enum rc_bdiff_kind)k),
		       d->per_kind[k]);
	fputs("},\n  \"requests\": [", stdout);
	for (size_t i = 0; i < d->requests.len && i < limit; i++) {
		const rc_bdiff_request *q = RC_VEC_AT(&d->requests, rc_bdiff_request, i);
		fputs(i ? ",\n    {\"host\": " : "\n    {\"host\": ", stdout);
		rc_json_str(stdout, q->host);
		fputs(", \"path\": ", stdout);
		rc_json_str(stdout, q->path);
		printf(", \"kind\": \"%s\", \"before\": ", rc_bdiff_kind_name(q->kind));
		json_trace(d, 0, &q->before);
		fputs(", \"after\": ", stdout);
		json_trace(d, 1, &q->after);
		fputs("}", stdout);
	}
	fputs(d->requests.len ? "\n  ],\n  \"diagnostics\": [" : "],\n  \"diagnostics\": [", stdout);
	for (size_t i = 0; i < d->diags.len && i < limit; i++) {
		const rc_bdiff_diag *x = RC_VEC_AT(&d->diags, rc_bdiff_diag, i);
		const rc_ir *ir = x->side ? d->new_ir : d->old_ir;
		const rc_file *f = rc_diags_file(ir->diags, x->diag->loc.file);
		printf("%s{\"side\": \"%s\", \"name\": ", i ? ",\n    " : "\n    ",
		       x->side ? "new" : "old");
		rc_json_str(stdout, x->diag->name);
		fputs(", \"file\": ", stdout);
		rc_json_str(stdout, f ? f->path : NULL);
		printf(", \"line\": %u, \"message\": ", x->diag->loc.line);
		rc_json_str(stdout, x->diag->message);
		fputs("}", stdout);
	}
	fputs(d->diags.len ? "\n  ]\n}\n" : "]\n}\n", stdout);
}

int cli_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0;
	size_t limit = (size_t)-1;
	int limit_set = 0;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (cli_format_option("diff", optarg, &json) != 0)
				return EXIT_USAGE;
			break;
		case 'l': {
			char *end;
			long long v = strtoll(optarg, &end, 10);
			if (*end || end == optarg || v < 1)
				return diff_usage("invalid --limit '%s', expected a whole number from 1", optarg);
			limit = (size_t)v;
			limit_set = 1;
			break;
		}
		case 'h':
			printf("usage: redirc diff OLD NEW [--format text|json] [--limit N]\n");
			return 0;
		default:
			return diff_usage("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return diff_usage("%s", argc - optind < 2 ? "expected two files, OLD and NEW"
		                                          : "too many operands: expected OLD and NEW");
	if (!limit_set && !json)
		limit = 50; /* text is for people: 50 per group unless asked */
	const char *oldp = argv[optind], *newp = argv[optind + 1];
	rc_diags od, nd;
	rc_ir oi, ni;
	int st = 2;
	int ok_old = load_side(&oi, &od, oldp) == 0;
	int ok_new = load_side(&ni, &nd, newp) == 0;
	if (ok_old && ok_new) {
		rc_bdiff d;
		rc_bdiff_run(&d, &oi, &ni);
		if (json)
			print_json(&d, limit);
		else
			print_text(&d, oldp, newp, limit);
		st = rc_bdiff_differs(&d) ? 1 : 0;
		rc_bdiff_fini(&d);
	}
	rc_ir_fini(&oi);
	rc_ir_fini(&ni);
	rc_diags_fini(&od);
	rc_diags_fini(&nd);
	if (fflush(stdout) != 0 && st != 2) {
		fprintf(stderr, "redirc diff: error: cannot write the output (a retry may help)\n");
		st = 2;
	}
	return st;
}
