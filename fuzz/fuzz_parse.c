/*
 * fuzz_parse.c - libFuzzer harness for the front end: the input is a .redir
 * text.  It is loaded with rc_load_text, checked with every check
 * (expectations included), its diagnostics printed in both layouts, and a
 * few requests made from its own rules are answered.
 *
 * Must never crash, leak or hang.  Invariants asserted:
 *   - printed diagnostics contain no raw control byte but '\n' (and '\t'
 *     when echoing a source line) and the JSON output is one array;
 *   - every Location is free of control bytes and spaces, and every '%'
 *     in it starts a %XX escape;
 *   - on a rule set without errors, the indexed resolver
 *     (compiler/requests.c, what verify, diff and coverage use) gives every
 *     request the same rule, status and Location as rc_ir_answer (the
 *     rules in file order).
 *
 * The text is named as a file in a private empty directory, so relative
 * includes resolve there; inputs naming /proc, /sys or /dev are skipped (an
 * include of /proc/self/pagemap would only measure the machine).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grammar/grammar.h"
#include "compiler/analysis.h"
#include "compiler/checks.h"
#include "compiler/ir.h"
#include "compiler/requests.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TODAY 20261126
#define MAX_INPUT (256 * 1024)
#define MAX_REQUESTS 24

static char name[64] = "fuzz.redir";
static char dir[40];

static void cleanup(void)
{
	if (dir[0])
		rmdir(dir);
}

static void fail(const char *what, const char *s, size_t n)
{
	fprintf(stderr, "fuzz_parse: invariant broken: %s: '", what);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputs("'\n", stderr);
	abort();
}

static int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void check_location(const char *loc)
{
	size_t n = strlen(loc);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)loc[i];
		if (c <= 0x20 || c == 0x7f)
			fail("control byte or space in a Location", loc, n);
		if (c == '%' && !(i + 2 < n && is_hex((unsigned char)loc[i + 1]) &&
		                  is_hex((unsigned char)loc[i + 2])))
			fail("a '%' that starts no escape in a Location", loc, n);
	}
}

static void check_printed(const char *s, size_t n, int json)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n' && (json || c != '\t')) || c == 0x7f)
			fail(json ? "raw control byte in JSON diagnostics" : "raw control byte in diagnostics",
			     s, n);
	}
	if (json && (n < 3 || s[0] != '[' || s[n - 2] != ']' || s[n - 1] != '\n'))
		fail("JSON diagnostics are not one array", s, n);
	if (json && memchr(s, '\n', n - 1))
		fail("newline inside the JSON array", s, n);
}

static void print_and_check(const rc_diags *d)
{
	for (int json = 0; json <= 1; json++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f)
			abort();
		if (json)
			rc_diags_print_json(d, f);
		else
			rc_diags_print_text(d, f, 0);
		fclose(f);
		check_printed(buf, len, json);
		free(buf);
	}
}

static void ask(const rc_ir *ir, rc_resolver *rv, const char *host, const char *path,
                size_t len, const char *query)
{
	rc_answer ans;
	size_t qlen = query ? strlen(query) : 0;
	rc_ir_answer(ir, host, path, len, query, qlen, &ans);
	if (ans.matched) {
		if (!ans.rule)
			abort();
		if (ans.status == 410 && ans.location)
			fail("410 with a Location", ans.location, strlen(ans.location));
		if (ans.status != 410) {
			if (!ans.location)
				abort();
			check_location(ans.location);
		}
	}
	if (!rv) {
		rc_answer_fini(&ans);
		return;
	}
	rc_fast_answer fast;
	rc_resolve(rv, host, path, len, query, qlen, 1, &fast);
	if (fast.matched != ans.matched || fast.invalid != ans.invalid ||
	    (ans.matched && (fast.rule != (int64_t)ans.rule->index || fast.status != ans.status)))
		fail("the resolver picks another rule than rc_ir_answer for", path, len);
	if ((fast.location == NULL) != (ans.location == NULL) ||
	    (ans.location && strcmp(fast.location, ans.location) != 0))
		fail("the resolver builds another Location than rc_ir_answer for", path, len);
	rc_answer_fini(&ans);
}

/* A concrete request path for a source as written: `:name` segments become
 * a word, the splat becomes two segments. */
static char *concrete_path(const char *src)
{
	size_t n = strlen(src);
	char *p = malloc(n * 2 + 8);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (src[i] == ':' && i > 0 && src[i - 1] == '/') {
			size_t k = i + 1;
			while (k < n && src[k] != '/')
				k++;
			memcpy(p + o, "v%3F", 4);
			o += 4;
			i = k - 1;
		} else if (src[i] == '*' && i + 1 == n) {
			memcpy(p + o, "s/%20t", 6);
			o += 6;
		} else {
			p[o++] = src[i];
		}
	}
	p[o] = '\0';
	return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "/tmp/fuzz_parse.XXXXXX");
	if (mkdtemp(dir)) {
		snprintf(name, sizeof name, "%s/fuzz.redir", dir);
		atexit(cleanup);
	} else {
		dir[0] = '\0';
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	if (size > MAX_INPUT)
		return 0;
	if (memmem(text, size, "/proc", 5) || memmem(text, size, "/sys", 4) ||
	    memmem(text, size, "/dev", 4) || memmem(text, size, "proc/", 5))
		return 0;

	rc_diags diags;
	rc_diags_init(&diags);
	rc_ir ir;
	rc_ir_init(&ir, &diags);
	rc_load_text(&ir, name, text, size);
	rc_check_opts co = { TODAY, 1, 0 };
	rc_check_all(&ir, &co);
	print_and_check(&diags);

	/* a few requests made from the input's own rules */
	/* the resolver is compared on rule sets without errors (a host block
	 * whose every name is bad holds rules that no command serves) */
	rc_resolver resolver, *rvp = NULL;
	if (diags.errors == 0) {
		rc_resolver_init(&resolver, &ir);
		rvp = &resolver;
	}
	size_t asked = 0;
	char sub_host[300];
	for (size_t i = 0; i < ir.rules.len && asked < MAX_REQUESTS; i++) {
		const rc_rule *r = rc_ir_rule(&ir, i);
		const char *host = NULL;
		if (r->scope >= 0) {
			const rc_scope *s = RC_VEC_AT(&ir.scopes, rc_scope, r->scope);
			if (s->nhosts)
				host = s->hosts[0];
			if (host && host[0] == '*') {
				/* a wildcard name: ask for one of its subdomains */
				snprintf(sub_host, sizeof sub_host, "a-b.c%s", host + 1);
				host = sub_host;
			}
		}
		ask(&ir, rvp, host, r->source_text, strlen(r->source_text), NULL);
		char *p = concrete_path(r->source_text);
		ask(&ir, rvp, host, p, strlen(p), "q=%zz&a b=\x01");
		ask(&ir, rvp, NULL, p, strlen(p), "");
		free(p);
		asked += 3;
	}
	/* and the expectations' URLs once more, with an extra host */
	for (size_t i = 0; i < ir.expects.len && i < MAX_REQUESTS; i++) {
		const rc_expect *e = RC_VEC_AT(&ir.expects, rc_expect, i);
		ask(&ir, rvp, e->host, e->path, strlen(e->path), e->query);
		char *actual = NULL;
		(void)rc_expect_holds(&ir, e, &actual);
		free(actual);
	}
	/* the first line of the input as a raw request path */
	const char *nl = memchr(text, '\n', size);
	size_t first = nl ? (size_t)(nl - text) : size;
	if (first > 0 && first < 4096)
		ask(&ir, rvp, "www.example.com", text, first, "k=v");

	if (rvp)
		rc_resolver_fini(rvp);
	rc_ir_fini(&ir);
	rc_diags_fini(&diags);
	return 0;
}
