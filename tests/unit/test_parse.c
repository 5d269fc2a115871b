/*
 * test_parse.c - scanner, parser and builder: valid files, each error with
 * its name and place, recovery per line, and the IR they build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "grammar/grammar.h"
#include "compiler/checks.h"

#include "tests/unit/ir_fixture.h"

static const rc_diag *diag_at(fixture *f, size_t i)
{
	assert_true(i < f->diags.records.len);
	return RC_VEC_AT(&f->diags.records, rc_diag, i);
}

static void expect_diag(fixture *f, size_t i, const char *name, unsigned line, unsigned col)
{
	const rc_diag *d = diag_at(f, i);
	assert_string_equal(d->name, name);
	assert_int_equal(d->loc.line, line);
	if (col)
		assert_int_equal(d->loc.col, col);
}

static const char *explain(fixture *f, const char *host, const char *url)
{
	static char line[1024];
	char *h, *p, *q;
	size_t ql;
	const char *why;
	assert_int_equal(rc_url_split(&f->ir.arena, url, strlen(url), &h, &p, &q, &ql, &why), 0);
	rc_answer a;
	rc_ir_answer(&f->ir, h ? h : host, p, strlen(p), q, ql, &a);
	if (!a.matched)
		snprintf(line, sizeof line, "pass");
	else
		snprintf(line, sizeof line, "%d %s @%u", a.status, a.location ? a.location : "",
		         a.rule->loc.line);
	rc_answer_fini(&a);
	return line;
}

static void test_empty_file(void **state)
{
	(void)state;
	fixture *f = load("");
	assert_int_equal(f->diags.errors, 0);
	assert_int_equal(f->ir.rules.len, 0);
	release(f);
	f = load("# only a comment\n\n   \n");
	assert_int_equal(f->diags.errors, 0);
	release(f);
}

static void test_rules_and_attributes(void **state)
{
	(void)state;
	fixture *f = load(
	    "set status 302\n"
	    "set query drop\n"
	    "/a -> /b owner growth note \"rollback: delete\"\n"
	    "/c -> /d 308 query keep expires 2030-01-01\n"
	    "/e gone\n"
	    "group \"g\" status 307 owner team {\n"
	    "  /f -> /g\n"
	    "  group \"inner\" owner other {\n"
	    "    /h -> /i 301\n"
	    "  }\n"
	    "}\n");
	assert_int_equal(f->diags.errors, 0);
	assert_int_equal(f->ir.rules.len, 5);
	rc_rule *r = rc_ir_rule(&f->ir, 0);
	assert_int_equal(r->status, 302);
	assert_true(r->query_drop);
	assert_string_equal(r->owner, "growth");
	assert_string_equal(r->note, "rollback: delete");
	r = rc_ir_rule(&f->ir, 1);
	assert_int_equal(r->status, 308);
	assert_false(r->query_drop);
	assert_int_equal(r->expires, 20300101);
	r = rc_ir_rule(&f->ir, 2);
	assert_true(r->gone);
	assert_int_equal(r->status, 410);
	r = rc_ir_rule(&f->ir, 3);
	assert_int_equal(r->status, 307);
	assert_string_equal(r->owner, "team");
	r = rc_ir_rule(&f->ir, 4);
	assert_int_equal(r->status, 301);
	assert_string_equal(r->owner, "other");
	assert_string_equal(r->group, "inner");
	release(f);
}

static void test_recovery_five_errors(void **state)
{
	(void)state;
	fixture *f = load(
	    "/ok1 -> /x\n"
	    "/bad1 /x\n"
	    "/ok2 -> /y\n"
	    "-> /z\n"
	    "/bad3 -> /x 999\n"
	    "set nonsense 1\n"
	    "/bad5 -> nowhere\n"
	    "/ok3 -> /w\n");
	assert_int_equal(f->diags.errors, 5);
	expect_diag(f, 0, "syntax", 2, 7);
	expect_diag(f, 1, "syntax", 4, 1);
	expect_diag(f, 2, "bad-status", 5, 13);
	expect_diag(f, 3, "bad-setting", 6, 5);
	expect_diag(f, 4, "bad-url", 7, 10);
	assert_int_equal(f->ir.rules.len, 3);
	assert_non_null(strstr(diag_at(f, 0)->message, "'/x'"));
	assert_non_null(strstr(diag_at(f, 0)->message, "expected"));
	release(f);
}

static void test_bad_values(void **state)
{
	(void)state;
	fixture *f = load(
	    "set status 200\n"
	    "allow-host bad_host!\n"
	    "/a -> /b expires 2027-02-30\n"
	    "/c?x -> /d\n"
	    "/e -> /f?\n"
	    "/g -> /:name\n"
	    "/h -> /*\n"
	    "/a* /b -> /c\n");
	expect_diag(f, 0, "bad-status", 1, 12);
	expect_diag(f, 1, "bad-host", 2, 12);
	expect_diag(f, 2, "bad-date", 3, 18);
	expect_diag(f, 3, "bad-url", 4, 3);
	expect_diag(f, 4, "bad-url", 5, 7);
	expect_diag(f, 5, "unbound", 6, 8);
	expect_diag(f, 6, "unbound", 7, 8);
	expect_diag(f, 7, "syntax", 8, 5);
	release(f);
}

static void test_settings_placement(void **state)
{
	(void)state;
	fixture *f = load(
	    "set status 302\n"
	    "set status 301\n"
	    "/a -> /b\n"
	    "set case insensitive\n"
	    "host a.example {\n"
	    "  set query drop\n"
	    "}\n");
	assert_int_equal(f->diags.errors, 3);
	expect_diag(f, 0, "bad-setting", 2, 1);
	expect_diag(f, 1, "bad-setting", 4, 1);
	expect_diag(f, 2, "bad-setting", 6, 3);
	release(f);
}

static void test_blocks(void **state)
{
	(void)state;
	fixture *f = load(
	    "set hosts www.example.com\n"
	    "host Old.Example.com, old.example.org {\n"
	    "  /* -> https://www.example.com/*\n"
	    "}\n"
	    "/pricing -> /plans\n"
	    "host a.example {\n"
	    "  host b.example {\n"
	    "  }\n"
	    "}\n"
	    "}\n"
	    "group \"open\" {\n");
	expect_diag(f, 0, "syntax", 7, 3);
	expect_diag(f, 1, "syntax", 10, 1);
	expect_diag(f, 2, "syntax", 11, 1);
	assert_string_equal(explain(f, NULL, "https://old.example.com/pricing?a=1"),
	                    "301 https://www.example.com/pricing?a=1 @3");
	assert_string_equal(explain(f, NULL, "http://OLD.example.org:8080/x"),
	                    "301 https://www.example.com/x @3");
	assert_string_equal(explain(f, NULL, "/pricing"), "301 /plans @5");
	assert_string_equal(explain(f, "www.example.com", "/pricing"), "301 /plans @5");
	release(f);
}

static void test_first_match_in_file_order(void **state)
{
	(void)state;
	fixture *f = load(
	    "/blog/* -> /articles/*\n"
	    "/blog/x -> /special\n"
	    "/docs/:ver/intro -> /docs/:ver/start?v=:ver\n"
	    "/go/* -> /*\n");
	assert_int_equal(f->diags.errors, 0);
	assert_string_equal(explain(f, NULL, "/blog/x"), "301 /articles/x @1");
	assert_string_equal(explain(f, NULL, "/blog"), "301 /articles/ @1");
	assert_string_equal(explain(f, NULL, "/blog/2020/a%20b"), "301 /articles/2020/a%20b @1");
	assert_string_equal(explain(f, NULL, "/blog/q%3Fx%23y"), "301 /articles/q%3Fx%23y @1");
	assert_string_equal(explain(f, NULL, "/blog/a%0D%0Ab"), "301 /articles/a%0D%0Ab @1");
	assert_string_equal(explain(f, NULL, "/docs/a&b/intro?z=1"),
	                    "301 /docs/a&b/start?v=a%26b&z=1 @3");
	assert_string_equal(explain(f, NULL, "/go//evil.example"), "301 /evil.example @4");
	assert_string_equal(explain(f, NULL, "/BLOG/x"), "pass");
	assert_string_equal(explain(f, NULL, "/a%zz"), "pass");
	release(f);
}

static void test_case_and_trailing_policies(void **state)
{
	(void)state;
	fixture *f = load(
	    "set case insensitive\n"
	    "set trailing-slash strict\n"
	    "/Old/ -> /new\n"
	    "/Blog/* -> /a/*\n");
	assert_int_equal(f->diags.errors, 0);
	assert_string_equal(explain(f, NULL, "/OLD/"), "301 /new @3");
	assert_string_equal(explain(f, NULL, "/old"), "pass");
	assert_string_equal(explain(f, NULL, "/bLoG/MiXed/"), "301 /a/MiXed/ @4");
	release(f);
}

static void test_source_normalization(void **state)
{
	(void)state;
	fixture *f = load(
	    "/a%20b -> /one\n"
	    "/x//y/./z/../w/ -> /two\n"
	    "/lit%2A -> /three\n"
	    "/c%3Aname -> /four\n"
	    "/10:30 -> /five\n");
	assert_int_equal(f->diags.errors, 0);
	assert_string_equal(rc_ir_rule(&f->ir, 0)->exact_key, "/a b");
	assert_string_equal(rc_ir_rule(&f->ir, 1)->exact_key, "/x/y/w");
	assert_false(rc_ir_rule(&f->ir, 2)->is_pattern);
	assert_string_equal(rc_ir_rule(&f->ir, 2)->exact_key, "/lit*");
	assert_string_equal(rc_ir_rule(&f->ir, 3)->exact_key, "/c:name");
	assert_string_equal(explain(f, NULL, "/a b"), "301 /one @1");
	assert_string_equal(explain(f, NULL, "/x/y/w/"), "301 /two @2");
	assert_string_equal(explain(f, NULL, "/10:30"), "301 /five @5");
	release(f);
}

static void test_targets(void **state)
{
	(void)state;
	fixture *f = load(
	    "/a -> \"/new path/é\"\n"
	    "/b -> /x%zz#frag?x\n"
	    "/c -> /y?q=1#top\n"
	    "/d -> //evil.example\n"
	    "/e -> /\\evil.example\n"
	    "/go* -> /*\n"
	    "/f -> https://user@evil.example/\n"
	    "/g/* -> https://*.example.com/\n"
	    "/h -> /10:30\n");
	assert_string_equal(explain(f, NULL, "/a"), "301 /new%20path/%C3%A9 @1");
	assert_string_equal(explain(f, NULL, "/b?k=v"), "301 /x%25zz?k=v#frag?x @2");
	assert_string_equal(explain(f, NULL, "/c?k=v"), "301 /y?q=1&k=v#top @3");
	assert_string_equal(explain(f, NULL, "/h"), "301 /10:30 @9");
	expect_diag(f, 0, "open-redirect", 4, 7);
	expect_diag(f, 1, "open-redirect", 5, 7);
	expect_diag(f, 2, "open-redirect", 6, 9);
	expect_diag(f, 3, "bad-url", 7, 7);
	expect_diag(f, 4, "bad-url", 8, 9);
	release(f);
}

static void test_quoted_strings(void **state)
{
	(void)state;
	fixture *f = load(
	    "\"/with space\" -> /x note \"say \\\"hi\\\" \\\\ ok\"\n"
	    "/y -> /z note \"bad \\n escape\"\n"
	    "/w -> /v note \"unterminated\n");
	assert_string_equal(rc_ir_rule(&f->ir, 0)->note, "say \"hi\" \\ ok");
	assert_string_equal(rc_ir_rule(&f->ir, 0)->exact_key, "/with space");
	expect_diag(f, 0, "syntax", 2, 20);
	expect_diag(f, 1, "syntax", 3, 15);
	assert_int_equal(f->diags.errors, 2);
	release(f);
}

static void test_binary_garbage(void **state)
{
	(void)state;
	const char text[] = "/a -> /b\n\xff\xfe garbage\n/c\0d -> /e\n/ok -> /f\n";
	fixture *f = calloc(1, sizeof *f);
	rc_diags_init(&f->diags);
	rc_ir_init(&f->ir, &f->diags);
	rc_load_text(&f->ir, "bin.redir", text, sizeof text - 1);
	assert_int_equal(f->diags.errors, 2);
	expect_diag(f, 0, "syntax", 2, 1);
	assert_non_null(strstr(diag_at(f, 0)->message, "UTF-8"));
	expect_diag(f, 1, "syntax", 3, 3);
	assert_non_null(strstr(diag_at(f, 1)->message, "NUL"));
	assert_int_equal(f->ir.rules.len, 2);
	release(f);
}

static void test_long_line(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	char *text = malloc(n + 32);
	text[0] = '/';
	memset(text + 1, 'a', n);
	strcpy(text + 1 + n, " -> /b\n");
	fixture *f = load(text);
	assert_int_equal(f->diags.errors, 0);
	assert_int_equal(f->ir.rules.len, 1);
	release(f);
	free(text);
}

static void test_expect_lines(void **state)
{
	(void)state;
	fixture *f = load(
	    "/old-pricing -> /pricing\n"
	    "/spring-sale gone\n"
	    "expect /old-pricing?ref=ad -> 301 /pricing?ref=ad\n"
	    "expect /spring-sale -> 410\n"
	    "expect /pricing -> pass\n"
	    "expect /old-pricing -> 302 /pricing\n"
	    "expect /old-pricing -> 301 /pricing%2f\n");
	assert_int_equal(f->diags.errors, 0);
	assert_int_equal(f->ir.expects.len, 5);
	for (size_t i = 0; i < 3; i++)
		assert_true(rc_expect_holds(&f->ir, RC_VEC_AT(&f->ir.expects, rc_expect, i), NULL));
	assert_false(rc_expect_holds(&f->ir, RC_VEC_AT(&f->ir.expects, rc_expect, 3), NULL));
	assert_false(rc_expect_holds(&f->ir, RC_VEC_AT(&f->ir.expects, rc_expect, 4), NULL));
	assert_true(rc_location_equal("/a%2fb", "/a%2Fb"));
	assert_false(rc_location_equal("/a%2fb", "/a/b"));
	release(f);
}

/* RFC 3986 authority (issue 14): user information and bad ports are
 * refused, the host is what a browser would visit. */
static void test_url_split_authority(void **state)
{
	(void)state;
	rc_arena a;
	rc_arena_init(&a);
	char *host, *path, *query;
	size_t qlen;
	const char *why = NULL;
	static const char *const refused[] = {
		"http://shop.example.com:80@evil.com/cart", "https://user@shop.example.com/",
		"http://evil.com\\@shop.example.com/", "http://shop.example.com@", "http://a.com:8x/",
		"http://a.com:65536/", "http://a.com:123456/", "http://a.com\\evil.com/",
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		why = NULL;
		assert_int_equal(rc_url_split(&a, refused[i], strlen(refused[i]), &host, &path, &query,
		                              &qlen, &why), -1);
		assert_non_null(why);
	}
	const char *u = "http://Shop.Example.com:8080/cart?x=1#frag@evil.com";
	assert_int_equal(rc_url_split(&a, u, strlen(u), &host, &path, &query, &qlen, &why), 0);
	assert_string_equal(host, "shop.example.com");
	assert_string_equal(path, "/cart");
	assert_string_equal(query, "x=1");
	/* '@' in the path or query is data, not user information */
	u = "http://shop.example.com/a@b?c=@";
	assert_int_equal(rc_url_split(&a, u, strlen(u), &host, &path, &query, &qlen, &why), 0);
	assert_string_equal(host, "shop.example.com");
	assert_string_equal(path, "/a@b");
	rc_arena_fini(&a);
	/* and in an expect line it is a bad-url error */
	fixture *f = load("/cart -> /basket\nexpect http://x.example:80@evil.com/cart -> pass\n");
	assert_int_equal(f->diags.errors, 1);
	expect_diag(f, 0, "bad-url", 2, 8);
	release(f);
}

/* A file included twice is parsed once and replayed in its second host
 * block; includes outside the folder of the top file are refused. */
static void test_include_replay_and_confinement(void **state)
{
	(void)state;
	char dir[] = "/tmp/rc-test-parse-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char top[256], team[256], out[256], sub[256];
	snprintf(sub, sizeof sub, "%s/site", dir);
	snprintf(top, sizeof top, "%s/site/top.redir", dir);
	snprintf(team, sizeof team, "%s/site/team.redir", dir);
	snprintf(out, sizeof out, "%s/outside.redir", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	FILE *fp = fopen(top, "w");
	fputs("host a.example {\ninclude \"team.redir\"\n}\nhost b.example {\ninclude \"team.redir\"\n}\n"
	      "include \"../outside.redir\"\n", fp);
	fclose(fp);
	fp = fopen(team, "w");
	fputs("/x -> /y\n/z -> /w 999\n", fp);
	fclose(fp);
	fp = fopen(out, "w");
	fputs("/o -> /p\n", fp);
	fclose(fp);
	rc_diags d;
	rc_diags_init(&d);
	rc_ir ir;
	rc_ir_init(&ir, &d);
	assert_int_equal(rc_load_file(&ir, top), 0);
	/* /x twice (one per host block); /z twice refused; /o refused */
	assert_int_equal(ir.rules.len, 2);
	assert_int_equal(d.errors, 3);
	const rc_diag *r0 = RC_VEC_AT(&d.records, rc_diag, 0);
	const rc_diag *r1 = RC_VEC_AT(&d.records, rc_diag, 1);
	const rc_diag *r2 = RC_VEC_AT(&d.records, rc_diag, 2);
	assert_string_equal(r0->name, "bad-status");
	assert_string_equal(r1->name, "bad-status");
	/* each inclusion has its own file entry, so its own include chain */
	assert_int_not_equal(r0->loc.file, r1->loc.file);
	assert_int_equal(rc_diags_file(&d, r0->loc.file)->included_at.line, 2);
	assert_int_equal(rc_diags_file(&d, r1->loc.file)->included_at.line, 5);
	assert_string_equal(r2->name, "include");
	assert_int_equal(r2->loc.line, 7);
	rc_ir_fini(&ir);
	rc_diags_fini(&d);
	/* with -I the outside file is read */
	rc_diags_init(&d);
	rc_ir_init(&ir, &d);
	const char *roots[] = { dir };
	assert_int_equal(rc_load_file_roots(&ir, top, roots, 1), 0);
	assert_int_equal(ir.rules.len, 3);
	assert_int_equal(d.errors, 2);
	rc_ir_fini(&ir);
	rc_diags_fini(&d);
	unlink(top);
	unlink(team);
	unlink(out);
	rmdir(sub);
	rmdir(dir);
}

/* Issue 15: wildcard host blocks in the IR (canonical names, scope,
 * :subdomain in a target's host, path and query) and their answers. */
static void test_wildcard_blocks(void **state)
{
	(void)state;
	fixture *f = load(
	    "allow-host *.example.net\n"
	    "host *.Example.COM. {\n"
	    "  /old/* -> https://:subdomain.example.net/new/*\n"
	    "  /site -> /sites/:subdomain?s=:subdomain\n"
	    "}\n"
	    "host shop.example.com {\n"
	    "  /old/x -> /never\n"
	    "  /cart -> /basket\n"
	    "}\n"
	    "host example.org, *.example.org {\n"
	    "  /:subdomain -> /p/:subdomain\n"
	    "}\n");
	assert_int_equal(f->diags.errors, 0);
	const rc_scope *sc = RC_VEC_AT(&f->ir.scopes, rc_scope, 0);
	assert_int_equal(sc->nhosts, 1);
	assert_string_equal(sc->hosts[0], "*.example.com");
	assert_true(rc_scope_is_wildcard(sc));
	assert_false(rc_scope_is_wildcard(RC_VEC_AT(&f->ir.scopes, rc_scope, 2)));
	const rc_rule *r = rc_ir_rule(&f->ir, 0);
	assert_true(r->target.uses_subdomain);
	assert_true(r->target.sub_host);
	assert_string_equal(r->target.host, "*.example.net");
	/* file order: the wildcard block answers shop.example.com first */
	assert_string_equal(explain(f, NULL, "https://shop.example.com/old/x"),
	                    "301 https://shop.example.net/new/x @3");
	assert_string_equal(explain(f, NULL, "https://a.b.example.com/old/q?z=1"),
	                    "301 https://a.b.example.net/new/q?z=1 @3");
	assert_string_equal(explain(f, NULL, "https://m_1.example.com/site"), "301 /sites/m_1?s=m_1 @4");
	assert_string_equal(explain(f, NULL, "https://shop.example.com/cart"), "301 /basket @8");
	assert_string_equal(explain(f, NULL, "https://example.com/old/x"), "pass");
	assert_string_equal(explain(f, NULL, "https://evilexample.com/old/x"), "pass");
	/* in a mixed block ':subdomain' is an ordinary placeholder */
	assert_string_equal(explain(f, NULL, "https://www.example.org/abc"), "301 /p/abc @11");
	assert_string_equal(explain(f, NULL, "https://example.org/abc"), "301 /p/abc @11");
	release(f);
}

/* Issue 15: set splat-parent, in the settings, the policy and the answers;
 * its errors. */
static void test_splat_parent_setting(void **state)
{
	(void)state;
	fixture *f = load(
	    "set splat-parent no-match\n"
	    "/docs/* -> /manual/*\n"
	    "/go* -> /g/*\n");
	assert_int_equal(f->diags.errors, 0);
	assert_true(f->ir.settings.splat_no_parent);
	assert_true(f->ir.policy & RD_POLICY_SPLAT_NO_PARENT);
	assert_string_equal(explain(f, NULL, "/docs"), "pass");
	assert_string_equal(explain(f, NULL, "/docs/"), "pass");
	assert_string_equal(explain(f, NULL, "/docs/a"), "301 /manual/a @2");
	assert_string_equal(explain(f, NULL, "/go"), "301 /g/ @3");
	release(f);
	f = load("set splat-parent match\n/docs/* -> /manual/*\n");
	assert_int_equal(f->diags.errors, 0);
	assert_false(f->ir.policy & RD_POLICY_SPLAT_NO_PARENT);
	assert_string_equal(explain(f, NULL, "/docs"), "301 /manual/ @2");
	release(f);
	f = load("set splat-parent nomatch\nset splat-parent match\nset splat-parent match\n");
	assert_int_equal(f->diags.errors, 3);
	expect_diag(f, 0, "bad-setting", 1, 18);
	expect_diag(f, 1, "bad-setting", 2, 1);
	expect_diag(f, 2, "bad-setting", 3, 1);
	release(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_rules_and_attributes),
		cmocka_unit_test(test_recovery_five_errors),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_settings_placement),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_first_match_in_file_order),
		cmocka_unit_test(test_case_and_trailing_policies),
		cmocka_unit_test(test_source_normalization),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_quoted_strings),
		cmocka_unit_test(test_binary_garbage),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_expect_lines),
		cmocka_unit_test(test_url_split_authority),
		cmocka_unit_test(test_include_replay_and_confinement),
		cmocka_unit_test(test_wildcard_blocks),
		cmocka_unit_test(test_splat_parent_setting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
