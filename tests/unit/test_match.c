/*
 * test_match.c - the runtime matcher: every normalization step, pattern
 * matching, substitution encoding and query joining (spec section 3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "runtime/match.h"

static const char *norm(const char *raw, unsigned policy)
{
	static char out[4096];
	size_t n;
	if (rd_path_normalize(raw, strlen(raw), policy, out, &n) != 0)
		return "<invalid>";
	assert_int_equal(strlen(out), n);
	return out;
}

static void test_decode(void **state)
{
	(void)state;
	assert_string_equal(norm("/a%20b", 0), "/a b");
	assert_string_equal(norm("/caf%C3%A9", 0), "/caf\xc3\xa9");
	assert_string_equal(norm("/caf%c3%a9", 0), "/caf\xc3\xa9");
	assert_string_equal(norm("/a%2Fb", 0), "/a/b");
	assert_string_equal(norm("/a%2fb", 0), "/a/b");
	assert_string_equal(norm("/p+q", 0), "/p+q");
	assert_string_equal(norm("/pct%25lit", 0), "/pct%lit");
}

static void test_invalid_escape(void **state)
{
	(void)state;
	assert_string_equal(norm("/a%zz", 0), "<invalid>");
	assert_string_equal(norm("/a%2", 0), "<invalid>");
	assert_string_equal(norm("/a%", 0), "<invalid>");
	assert_string_equal(norm("/a%g0", 0), "<invalid>");
}

static void test_nul_decodes(void **state)
{
	(void)state;
	char out[16];
	size_t n;
	assert_int_equal(rd_path_normalize("/a%00b", 6, 0, out, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "/a\0b", 4);
}

static void test_merge_slashes(void **state)
{
	(void)state;
	assert_string_equal(norm("/a//b", 0), "/a/b");
	assert_string_equal(norm("//a///b", 0), "/a/b");
	assert_string_equal(norm("/a%2F%2Fb", 0), "/a/b");
	assert_string_equal(norm("/dir//", RD_POLICY_TRAILING_STRICT), "/dir/");
}

static void test_dot_segments(void **state)
{
	(void)state;
	assert_string_equal(norm("/a/./b", 0), "/a/b");
	assert_string_equal(norm("/a/%2e/b", 0), "/a/b");
	assert_string_equal(norm("/a/../b", 0), "/b");
	assert_string_equal(norm("/a/%2E%2E/b", 0), "/b");
	assert_string_equal(norm("/b/..", 0), "/");
	assert_string_equal(norm("/../b", 0), "/b");
	assert_string_equal(norm("/a/b/..", RD_POLICY_TRAILING_STRICT), "/a/");
	assert_string_equal(norm("/a/b/.", RD_POLICY_TRAILING_STRICT), "/a/b/");
	assert_string_equal(norm("/a/.b/..c", 0), "/a/.b/..c");
}

static void test_trailing_slash(void **state)
{
	(void)state;
	assert_string_equal(norm("/old/", 0), "/old");
	assert_string_equal(norm("/old/", RD_POLICY_TRAILING_STRICT), "/old/");
	assert_string_equal(norm("/", 0), "/");
	assert_string_equal(norm("", 0), "/");
	assert_string_equal(norm("//", 0), "/");
}

static void test_case_keeps_bytes(void **state)
{
	(void)state;
	assert_string_equal(norm("/Foo/BAR", RD_POLICY_CASE_INSENSITIVE), "/Foo/BAR");
	assert_true(rd_bytes_equal("/FOO", 4, "/foo", 4, RD_POLICY_CASE_INSENSITIVE));
	assert_false(rd_bytes_equal("/FOO", 4, "/foo", 4, 0));
	/* ASCII only: É (C3 89) and é (C3 A9) differ */
	assert_false(rd_bytes_equal("\xc3\x89", 2, "\xc3\xa9", 2, RD_POLICY_CASE_INSENSITIVE));
}

static void test_host_canon(void **state)
{
	(void)state;
	char out[64];
	rd_host_canon("WWW.Example.COM:8080", 20, out);
	assert_string_equal(out, "www.example.com");
	rd_host_canon("example.com.", 12, out);
	assert_string_equal(out, "example.com");
	rd_host_canon("[::1]:80", 8, out);
	assert_string_equal(out, "[::1]");
}

/* the source /blog/ + splat */
static const rd_ptok BLOG[] = {
	{ RD_PTOK_LIT, 0, 6, "/blog/" },
	{ RD_PTOK_SPLAT, 0, 0, NULL },
};
/* /docs/:ver/intro */
static const rd_ptok DOCS[] = {
	{ RD_PTOK_LIT, 0, 6, "/docs/" },
	{ RD_PTOK_PARAM, 0, 0, NULL },
	{ RD_PTOK_LIT, 0, 6, "/intro" },
};
/* /go* */
static const rd_ptok GO[] = {
	{ RD_PTOK_LIT, 0, 3, "/go" },
	{ RD_PTOK_SPLAT, 0, 0, NULL },
};

static int match(const rd_ptok *t, size_t n, const char *path, unsigned policy, rd_span *caps)
{
	return rd_pattern_match(t, n, path, strlen(path), policy, caps);
}

static void test_splat(void **state)
{
	(void)state;
	rd_span c[2];
	assert_true(match(BLOG, 2, "/blog/a/b", 0, c));
	assert_int_equal(c[0].off, 6);
	assert_int_equal(c[0].len, 3);
	assert_true(match(BLOG, 2, "/blog", 0, c));
	assert_int_equal(c[0].len, 0);
	assert_true(match(BLOG, 2, "/blog/", 0, c));
	assert_int_equal(c[0].len, 0);
	assert_false(match(BLOG, 2, "/blogs", 0, c));
	assert_false(match(BLOG, 2, "/BLOG/x", 0, c));
	assert_true(match(BLOG, 2, "/BLOG/x", RD_POLICY_CASE_INSENSITIVE, c));
	assert_true(match(GO, 2, "/go/evil.example", 0, c));
	assert_int_equal(c[0].off, 3);
	assert_true(match(GO, 2, "/gone", 0, c));
}

static void test_param(void **state)
{
	(void)state;
	rd_span c[2];
	assert_true(match(DOCS, 3, "/docs/v2/intro", 0, c));
	assert_int_equal(c[0].off, 6);
	assert_int_equal(c[0].len, 2);
	assert_false(match(DOCS, 3, "/docs//intro", 0, c));
	assert_false(match(DOCS, 3, "/docs/a/b/intro", 0, c));
	assert_false(match(DOCS, 3, "/docs/v2/intro/x", 0, c));
	assert_false(match(DOCS, 3, "/docs/v2", 0, c));
}

static const char *build(const rd_rule *r, const char *path, const rd_span *caps, const char *q)
{
	static char out[4096];
	size_t need = rd_location_build(r, path, caps, q, q ? strlen(q) : 0, out, sizeof out);
	assert_true(need < sizeof out);
	assert_int_equal(strlen(out), need);
	return out;
}

static void test_capture_encoding(void **state)
{
	(void)state;
	/* the target /articles/ + splat */
	rd_ttok dst[] = { { RD_TTOK_LIT, 0, 10, "/articles/" }, { RD_TTOK_CAP_PATH, 0, 0, NULL } };
	rd_rule r = { BLOG, 2, dst, 2, NULL, 0, 308, 0, NULL, 0 };
	rd_span c[2];
	const char *cases[][2] = {
		{ "/blog/a b", "/articles/a%20b" },
		{ "/blog/q?x", "/articles/q%3Fx" },
		{ "/blog/a#b", "/articles/a%23b" },
		{ "/blog/%", "/articles/%25" },
		{ "/blog/a\r\nb", "/articles/a%0D%0Ab" },
		{ "/blog/caf\xc3\xa9", "/articles/caf%C3%A9" },
		{ "/blog/\xff", "/articles/%FF" },
		{ "/blog/a/b.c~d", "/articles/a/b.c~d" },
		{ "/blog/a&b=c+d", "/articles/a&b=c+d" },
		{ "/blog/a\"b<>\\^`{|}[]", "/articles/a%22b%3C%3E%5C%5E%60%7B%7C%7D%5B%5D" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_true(match(BLOG, 2, cases[i][0], 0, c));
		assert_string_equal(build(&r, cases[i][0], c, NULL), cases[i][1]);
	}
}

static void test_query_capture(void **state)
{
	(void)state;
	/* /docs/:ver/intro -> /start?v=:ver */
	rd_ttok dst[] = { { RD_TTOK_LIT, 0, 9, "/start?v=" }, { RD_TTOK_CAP_QUERY, 0, 0, NULL } };
	rd_rule r = { DOCS, 3, dst, 2, NULL, 0, 301, RD_RULE_TARGET_QUERY, NULL, 0 };
	rd_span c[2];
	assert_true(match(DOCS, 3, "/docs/a&b=c+d/intro", 0, c));
	assert_string_equal(build(&r, "/docs/a&b=c+d/intro", c, NULL), "/start?v=a%26b%3Dc%2Bd");
	assert_string_equal(build(&r, "/docs/a&b=c+d/intro", c, "x=1"), "/start?v=a%26b%3Dc%2Bd&x=1");
}

static void test_query_join(void **state)
{
	(void)state;
	static const rd_ptok OLD[] = { { RD_PTOK_LIT, 0, 4, "/old" } };
	rd_ttok plain[] = { { RD_TTOK_LIT, 0, 4, "/new" } };
	rd_ttok withq[] = { { RD_TTOK_LIT, 0, 8, "/new?a=b" } };
	rd_rule keep = { OLD, 1, plain, 1, NULL, 0, 301, 0, NULL, 0 };
	rd_rule drop = { OLD, 1, plain, 1, NULL, 0, 301, RD_RULE_QUERY_DROP, NULL, 0 };
	rd_rule amp = { OLD, 1, withq, 1, "#top", 4, 301, RD_RULE_TARGET_QUERY, NULL, 0 };
	assert_string_equal(build(&keep, "/old", NULL, "x=1&y=%20z"), "/new?x=1&y=%20z");
	assert_string_equal(build(&keep, "/old", NULL, ""), "/new");
	assert_string_equal(build(&keep, "/old", NULL, NULL), "/new");
	assert_string_equal(build(&keep, "/old", NULL, "a b\"%zz?/"), "/new?a%20b%22%25zz?/");
	assert_string_equal(build(&drop, "/old", NULL, "x=1"), "/new");
	assert_string_equal(build(&amp, "/old", NULL, "x=1"), "/new?a=b&x=1#top");
	assert_string_equal(build(&amp, "/old", NULL, NULL), "/new?a=b#top");
}

static void test_gone_has_no_location(void **state)
{
	(void)state;
	static const rd_ptok OLD[] = { { RD_PTOK_LIT, 0, 4, "/old" } };
	rd_rule r = { OLD, 1, NULL, 0, NULL, 0, 410, RD_RULE_GONE, NULL, 0 };
	char out[8] = "x";
	assert_int_equal(rd_location_build(&r, "/old", NULL, "a=1", 3, out, sizeof out), 0);
	assert_string_equal(out, "");
}

static void test_literal_encoding(void **state)
{
	(void)state;
	char out[256];
	rd_encode_literal("/a b/%20/%zz/100%/é", strlen("/a b/%20/%zz/100%/é"), RD_PART_PATH, out, sizeof out);
	assert_string_equal(out, "/a%20b/%20/%25zz/100%25/%C3%A9");
	rd_encode_literal("/q?x", 4, RD_PART_PATH, out, sizeof out);
	assert_string_equal(out, "/q%3Fx");
	rd_encode_literal("?a=1?b", 6, RD_PART_QUERY, out, sizeof out);
	assert_string_equal(out, "?a=1?b");
	/* a short buffer: the length needed is still returned */
	assert_int_equal(rd_encode_literal("a b", 3, RD_PART_PATH, out, 2), 5);
}

static void test_host_scope(void **state)
{
	(void)state;
	static const char *hosts[] = { "old.example.com" };
	rd_rule scoped = { NULL, 0, NULL, 0, NULL, 0, 301, 0, hosts, 1 };
	rd_rule global = { NULL, 0, NULL, 0, NULL, 0, 301, 0, NULL, 0 };
	assert_true(rd_rule_admits_host(&scoped, "old.example.com"));
	assert_false(rd_rule_admits_host(&scoped, "www.example.com"));
	assert_false(rd_rule_admits_host(&scoped, NULL));
	assert_true(rd_rule_admits_host(&global, NULL));
	assert_true(rd_rule_admits_host(&global, "x.example"));
}

/* `set splat-parent no-match` (issue 15): "/x/ *" no longer matches "/x";
 * the empty splat after the '/' still matches (the normalizer has already
 * removed that '/' under trailing-slash ignore); a splat glued to text is
 * unaffected. */
static void test_splat_no_parent(void **state)
{
	(void)state;
	rd_span c[2];
	const unsigned np = RD_POLICY_SPLAT_NO_PARENT;
	assert_false(match(BLOG, 2, "/blog", np, c));
	assert_false(match(BLOG, 2, "/blog", np | RD_POLICY_TRAILING_STRICT, c));
	assert_true(match(BLOG, 2, "/blog/", np | RD_POLICY_TRAILING_STRICT, c));
	assert_int_equal(c[0].len, 0);
	assert_true(match(BLOG, 2, "/blog/a/b", np, c));
	assert_int_equal(c[0].off, 6);
	assert_int_equal(c[0].len, 3);
	assert_false(match(BLOG, 2, "/BLOG", np | RD_POLICY_CASE_INSENSITIVE, c));
	assert_true(match(BLOG, 2, "/BLOG/x", np | RD_POLICY_CASE_INSENSITIVE, c));
	assert_false(match(BLOG, 2, "/blogs", np, c));
	/* a splat after text: '/go' matches with an empty splat either way */
	assert_true(match(GO, 2, "/go", np, c));
	assert_int_equal(c[0].len, 0);
	assert_true(match(GO, 2, "/gone", np, c));
	/* the root splat matches "/" */
	static const rd_ptok ROOT[] = { { RD_PTOK_LIT, 0, 1, "/" }, { RD_PTOK_SPLAT, 0, 0, NULL } };
	assert_true(match(ROOT, 2, "/", np, c));
	/* with a placeholder before the splat: /u/:id/ + splat */
	static const rd_ptok USER[] = {
		{ RD_PTOK_LIT, 0, 3, "/u/" }, { RD_PTOK_PARAM, 0, 0, NULL },
		{ RD_PTOK_LIT, 0, 1, "/" }, { RD_PTOK_SPLAT, 1, 0, NULL },
	};
	rd_span u[3];
	assert_true(match(USER, 4, "/u/7", 0, u));
	assert_false(match(USER, 4, "/u/7", np, u));
	assert_true(match(USER, 4, "/u/7/a", np, u));
	assert_int_equal(u[0].off, 3);
	assert_int_equal(u[0].len, 1);
	assert_int_equal(u[1].off, 5);
	assert_int_equal(u[1].len, 1);
}

/* A wildcard "*.NAME" admits SUB.NAME, SUB one or more labels of
 * a-z 0-9 '-' '_'; never NAME itself, never a host that only ends in NAME. */
static void test_wildcard_admits(void **state)
{
	(void)state;
	assert_true(rd_wildcard_admits("*.example.com", "a.example.com"));
	assert_true(rd_wildcard_admits("*.example.com", "a.b.example.com"));
	assert_true(rd_wildcard_admits("*.example.com", "x-y_z.example.com"));
	assert_true(rd_wildcard_admits("*.example.com", "0.example.com"));
	assert_false(rd_wildcard_admits("*.example.com", "example.com"));
	assert_false(rd_wildcard_admits("*.example.com", "evilexample.com"));
	assert_false(rd_wildcard_admits("*.example.com", ".example.com"));
	assert_false(rd_wildcard_admits("*.example.com", "a..example.com"));
	assert_false(rd_wildcard_admits("*.example.com", "example.com.evil.org"));
	assert_false(rd_wildcard_admits("*.example.com", "a.example.org"));
	assert_false(rd_wildcard_admits("*.example.com", "a!.example.com"));
	assert_false(rd_wildcard_admits("*.example.com", "A.example.com")); /* not canonical */
	assert_false(rd_wildcard_admits("*.example.com", ""));
	/* through a rule's scope, mixed with a literal name */
	static const char *hosts[] = { "example.org", "*.example.org" };
	rd_rule r = { NULL, 0, NULL, 0, NULL, 0, 301, 0, hosts, 2 };
	assert_true(rd_rule_admits_host(&r, "example.org"));
	assert_true(rd_rule_admits_host(&r, "docs.example.org"));
	assert_false(rd_rule_admits_host(&r, "example.com"));
	assert_false(rd_rule_admits_host(&r, NULL));
}

/* :subdomain is the part before the LONGEST name of the block that admits
 * the host; 0 when no wildcard name admits it. */
static void test_host_subdomain(void **state)
{
	(void)state;
	static const char *hosts[] = { "*.example.com", "*.blog.example.com" };
	rd_rule r = { NULL, 0, NULL, 0, NULL, 0, 301, 0, hosts, 2 };
	assert_int_equal(rd_host_subdomain(&r, "a.example.com"), 1);
	assert_int_equal(rd_host_subdomain(&r, "a.b.example.com"), 3);
	assert_int_equal(rd_host_subdomain(&r, "me.blog.example.com"), 2); /* not "me.blog" */
	assert_int_equal(rd_host_subdomain(&r, "blog.example.com"), 4);
	assert_int_equal(rd_host_subdomain(&r, "example.com"), 0);
	assert_int_equal(rd_host_subdomain(&r, "a.example.org"), 0);
	static const char *lit[] = { "example.com" };
	rd_rule l = { NULL, 0, NULL, 0, NULL, 0, 301, 0, lit, 1 };
	assert_int_equal(rd_host_subdomain(&l, "a.example.com"), 0);
}

static const char *build_host(const rd_rule *r, const char *host, const char *path,
                              const rd_span *caps, const char *q)
{
	static char out[4096];
	size_t need = rd_location_build_host(r, host, path, caps, q, q ? strlen(q) : 0, out, sizeof out);
	assert_true(need < sizeof out);
	assert_int_equal(strlen(out), need);
	return out;
}

/* https://:subdomain.example.net/new/ + splat + ?s=:subdomain */
static void test_location_build_host(void **state)
{
	(void)state;
	static const char *hosts[] = { "*.example.com" };
	rd_ttok dst[] = {
		{ RD_TTOK_LIT, 0, 8, "https://" }, { RD_TTOK_SUBDOMAIN, 0, 0, NULL },
		{ RD_TTOK_LIT, 0, 17, ".example.net/new/" }, { RD_TTOK_CAP_PATH, 0, 0, NULL },
		{ RD_TTOK_LIT, 0, 3, "?s=" }, { RD_TTOK_SUBDOMAIN, 0, 0, NULL },
	};
	rd_rule r = { BLOG, 2, dst, 6, NULL, 0, 301, RD_RULE_TARGET_QUERY, hosts, 1 };
	rd_span c[2];
	assert_true(match(BLOG, 2, "/blog/a b", 0, c));
	assert_string_equal(build_host(&r, "x_y.a.example.com", "/blog/a b", c, NULL),
	                    "https://x_y.a.example.net/new/a%20b?s=x_y.a");
	assert_string_equal(build_host(&r, "m.example.com", "/blog/a b", c, "q=1"),
	                    "https://m.example.net/new/a%20b?s=m&q=1");
	/* no Host: the subdomain is empty (rd_location_build is the same) */
	assert_string_equal(build_host(&r, NULL, "/blog/a b", c, NULL),
	                    "https://.example.net/new/a%20b?s=");
	assert_string_equal(build(&r, "/blog/a b", c, NULL), "https://.example.net/new/a%20b?s=");
	/* a short buffer: the length needed is still returned */
	char small[4];
	assert_int_equal(rd_location_build_host(&r, "m.example.com", "/blog/a b", c, NULL, 0, small,
	                                        sizeof small), strlen("https://m.example.net/new/a%20b?s=m"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_invalid_escape),
		cmocka_unit_test(test_nul_decodes),
		cmocka_unit_test(test_merge_slashes),
		cmocka_unit_test(test_dot_segments),
		cmocka_unit_test(test_trailing_slash),
		cmocka_unit_test(test_case_keeps_bytes),
		cmocka_unit_test(test_host_canon),
		cmocka_unit_test(test_splat),
		cmocka_unit_test(test_param),
		cmocka_unit_test(test_capture_encoding),
		cmocka_unit_test(test_query_capture),
		cmocka_unit_test(test_query_join),
		cmocka_unit_test(test_gone_has_no_location),
		cmocka_unit_test(test_literal_encoding),
		cmocka_unit_test(test_host_scope),
		cmocka_unit_test(test_splat_no_parent),
		cmocka_unit_test(test_wildcard_admits),
		cmocka_unit_test(test_host_subdomain),
		cmocka_unit_test(test_location_build_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
