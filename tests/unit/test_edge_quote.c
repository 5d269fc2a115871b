/*
 * test_edge_quote.c - the quoting functions of the haproxy, cloudflare and
 * netlify targets (backends/edge_quote.h) with hostile input: spaces, ';',
 * '|', quotes, '\\', ',', '#', CR/LF, NUL, DEL, non-ASCII.  Each either
 * writes text its reader takes back as the input, or refuses and appends
 * nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "backends/edge_quote.h"

static char out[4096];

typedef int (*qfn)(rc_buf *, const char *, size_t);

/* The quoted text, or "<refused>" (then nothing was appended). */
static const char *q(qfn f, const char *s, size_t n)
{
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_adds(&b, "");
	int st = f(&b, s, n);
	if (st != 0)
		assert_int_equal(b.len, 0);
	snprintf(out, sizeof out, "%s", st == 0 ? b.data : "<refused>");
	rc_buf_fini(&b);
	return out;
}

#define L(lit) lit, sizeof(lit) - 1

static void test_cli_arg(void **state)
{
	(void)state;
	assert_string_equal(q(rc_hap_cli_arg, L("/plain")), "/plain");
	assert_string_equal(q(rc_hap_cli_arg, L("/s;c")), "/s\\;c");
	assert_string_equal(q(rc_hap_cli_arg, L("^a\\x20b$")), "^a\\\\x20b$");
	assert_string_equal(q(rc_hap_cli_arg, L("301|a|/x\\1;y|#f")), "301|a|/x\\\\1\\;y|#f");
	assert_string_equal(q(rc_hap_cli_arg, L("a b")), "<refused>");
	assert_string_equal(q(rc_hap_cli_arg, L("a\nb")), "<refused>");
	assert_string_equal(q(rc_hap_cli_arg, L("a\0b")), "<refused>");
	assert_string_equal(q(rc_hap_cli_arg, L("a\x7f")), "<refused>");
	assert_string_equal(q(rc_hap_cli_arg, L("")), "<refused>");
}

static void test_value_part(void **state)
{
	(void)state;
	assert_string_equal(q(rc_hap_value_part, L("/new?a=b&c=%20;$x")), "/new?a=b&c=%20;$x");
	assert_string_equal(q(rc_hap_value_part, L("#frag?x")), "#frag?x");
	assert_string_equal(q(rc_hap_value_part, L("")), "");
	assert_string_equal(q(rc_hap_value_part, L("/a|b")), "<refused>");
	assert_string_equal(q(rc_hap_value_part, L("/a\\1")), "<refused>");
	assert_string_equal(q(rc_hap_value_part, L("/a b")), "<refused>");
	assert_string_equal(q(rc_hap_value_part, L("/a\r\nLocation: x")), "<refused>");
	assert_string_equal(q(rc_hap_value_part, L("/caf\xc3\xa9")), "<refused>");
}

static void test_path(void **state)
{
	(void)state;
	assert_string_equal(q(rc_hap_path, L("/etc/haproxy/redirc/site.map")), "/etc/haproxy/redirc/site.map");
	assert_string_equal(q(rc_hap_path, L("/srv/a+b@c~d=e:f_g-h.map")), "/srv/a+b@c~d=e:f_g-h.map");
	assert_string_equal(q(rc_hap_path, L("/srv/redir maps/site.map")), "<refused>");
	assert_string_equal(q(rc_hap_path, L("/srv/a,b.map")), "<refused>");
	assert_string_equal(q(rc_hap_path, L("/srv/a)b.map")), "<refused>");
	assert_string_equal(q(rc_hap_path, L("/srv/\"x\".map")), "<refused>");
	assert_string_equal(q(rc_hap_path, L("/srv/%[x].map")), "<refused>");
	assert_string_equal(q(rc_hap_path, L("/srv/a#b")), "<refused>");
	assert_string_equal(q(rc_hap_path, L("")), "<refused>");
}

static void test_csv(void **state)
{
	(void)state;
	assert_string_equal(q(rc_csv_field, L("example.com/a")), "example.com/a");
	assert_string_equal(q(rc_csv_field, L("example.com/a,b")), "\"example.com/a,b\"");
	assert_string_equal(q(rc_csv_field, L("a\"b")), "\"a\"\"b\"");
	assert_string_equal(q(rc_csv_field, L("a;b#c'd")), "a;b#c'd");
	assert_string_equal(q(rc_csv_field, L("a\nb")), "<refused>");
	assert_string_equal(q(rc_csv_field, L("a\rb")), "<refused>");
	assert_string_equal(q(rc_csv_field, L("a\0b")), "<refused>");
}

static void test_json(void **state)
{
	(void)state;
	assert_string_equal(q(rc_edge_json_string, L("https://x/a?b=c")), "\"https://x/a?b=c\"");
	assert_string_equal(q(rc_edge_json_string, L("a\"b\\c")), "\"a\\\"b\\\\c\"");
	assert_string_equal(q(rc_edge_json_string, L("a\nb\x01")), "\"a\\u000ab\\u0001\"");
	assert_string_equal(q(rc_edge_json_string, L("\x7f")), "\"\\u007f\"");
	assert_string_equal(q(rc_edge_json_string, L("caf\xc3\xa9")), "<refused>");
}

static void test_netlify(void **state)
{
	(void)state;
	assert_string_equal(q(rc_nf_token, L("/news/:year/*")), "/news/:year/*");
	assert_string_equal(q(rc_nf_token, L("/a%20b")), "/a%20b");
	assert_string_equal(q(rc_nf_token, L("/a b")), "<refused>");
	assert_string_equal(q(rc_nf_token, L("/a\tb")), "<refused>");
	assert_string_equal(q(rc_nf_token, L("/a#b")), "<refused>");
	assert_string_equal(q(rc_nf_token, L("/a\nb")), "<refused>");
	assert_string_equal(q(rc_nf_token, L("/\xff")), "<refused>");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_arg),
		cmocka_unit_test(test_value_part),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_netlify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
