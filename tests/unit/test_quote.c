/*
 * test_quote.c - the quoting functions of the nginx and apache targets
 * (backends/quote.h) with hostile input: spaces, ';', '{', '}', quotes,
 * '$', '#', newlines, "%00", NUL, backslashes, non-ASCII.  Each either
 * writes text the server reads back as the input, or refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "backends/quote.h"

static char out[8192];

static const char *ngx(const char *s, size_t n, unsigned flags)
{
	rc_buf b;
	rc_buf_init(&b);
	int st = rc_ngx_quote(&b, s, n, flags);
	snprintf(out, sizeof out, "%s", st == 0 ? b.data : "<refused>");
	if (st != 0)
		assert_int_equal(b.len, 0);
	rc_buf_fini(&b);
	return out;
}

static const char *ap(const char *s, size_t n, enum rc_ap_ctx ctx)
{
	rc_buf b;
	rc_buf_init(&b);
	int st = rc_ap_quote(&b, s, n, ctx);
	snprintf(out, sizeof out, "%s", st == 0 ? b.data : "<refused>");
	rc_buf_fini(&b);
	return out;
}

typedef void (*qfn)(rc_buf *, const char *, size_t);

static const char *call(qfn f, const char *s, size_t n)
{
	rc_buf b;
	rc_buf_init(&b);
	f(&b, s, n);
	snprintf(out, sizeof out, "%s", b.data);
	rc_buf_fini(&b);
	return out;
}

#define L(lit) lit, sizeof(lit) - 1

static void test_nginx(void **state)
{
	(void)state;
	assert_string_equal(ngx(L("/plain"), RC_NGX_VARS), "/plain");
	assert_string_equal(ngx(L("a b;c{d}e#f'g"), RC_NGX_VARS), "a b;c{d}e#f'g");
	assert_string_equal(ngx(L("\"q\" \\x"), 0), "\\\"q\\\" \\\\x");
	assert_string_equal(ngx(L("$uri ${host}"), RC_NGX_VARS),
	                    "${redir_dollar}uri ${redir_dollar}{host}");
	assert_string_equal(ngx(L("$uri"), RC_NGX_MAPKEY), "$uri");
	assert_string_equal(ngx(L("a\nb\rc\td"), 0), "a\\nb\\rc\\td");
	assert_string_equal(ngx(L("%00"), RC_NGX_VARS), "%00");
	assert_string_equal(ngx(L("a\0b"), RC_NGX_VARS), "<refused>");
	assert_string_equal(ngx(L("caf\xc3\xa9"), 0), "caf\xc3\xa9");
	assert_string_equal(ngx(L("\";} server { return 200 \"x"), RC_NGX_VARS),
	                    "\\\";} server { return 200 \\\"x");
	/* map keys nginx would read as parameters get the stripped backslash */
	assert_string_equal(ngx(L("default"), RC_NGX_MAPKEY), "\\\\default");
	assert_string_equal(ngx(L("include"), RC_NGX_MAPKEY), "\\\\include");
	assert_string_equal(ngx(L("~re"), RC_NGX_MAPKEY), "\\\\~re");
	assert_string_equal(ngx(L("\\x"), RC_NGX_MAPKEY), "\\\\\\\\x");
	assert_string_equal(ngx(L("default"), RC_NGX_VARS), "default");
	assert_string_equal(ngx(L("/default"), RC_NGX_MAPKEY), "/default");
}

static void test_regex(void **state)
{
	(void)state;
	assert_string_equal(call(rc_regex_lit, L("/a-b_c%41~:@,;=&'!")), "/a-b_c%41~:@,;=&'!");
	assert_string_equal(call(rc_regex_lit, L(".*+?()[]{}|^$\\\" #\n")),
	                    "\\x2E\\x2A\\x2B\\x3F\\x28\\x29\\x5B\\x5D\\x7B\\x7D\\x7C\\x5E\\x24"
	                    "\\x5C\\x22\\x20\\x23\\x0A");
	assert_string_equal(call(rc_regex_lit, "a\0\xff", 3), "a\\x00\\xFF");
}

static void test_apache(void **state)
{
	(void)state;
	assert_string_equal(ap(L("/a%20b$1%{X}"), RC_AP_SUBST), "/a\\%20b\\$1\\%{X}");
	assert_string_equal(ap(L("/a;b{c}#d'e"), RC_AP_SUBST), "/a;b{c}#d'e");
	assert_string_equal(ap(L("${m:k}"), RC_AP_SUBST), "\\${m:k}");
	assert_string_equal(ap(L("/a b"), RC_AP_SUBST), "<refused>");
	assert_string_equal(ap(L("/a\"b"), RC_AP_SUBST), "<refused>");
	assert_string_equal(ap(L("/a\\b"), RC_AP_SUBST), "<refused>");
	assert_string_equal(ap(L("/a\nb"), RC_AP_SUBST), "<refused>");
	assert_string_equal(ap(L("/caf\xc3\xa9"), RC_AP_SUBST), "<refused>");
	assert_string_equal(ap(L("/%00"), RC_AP_SUBST), "/\\%00");
	assert_string_equal(ap(L("/srv/my maps/$x%y"), RC_AP_PATH), "/srv/my maps/$x%y");
	assert_string_equal(ap(L("/srv/a\"b"), RC_AP_PATH), "<refused>");
	assert_string_equal(ap(L("/srv/a\\b"), RC_AP_PATH), "<refused>");
	assert_string_equal(ap(L("/srv/a\nb"), RC_AP_PATH), "<refused>");
	assert_string_equal(ap(L("/k%20$;{}\"'"), RC_AP_MAPTOK), "/k%20$;{}\"'");
	assert_string_equal(ap(L("/k v"), RC_AP_MAPTOK), "<refused>");
	assert_string_equal(ap(L("/k\tv"), RC_AP_MAPTOK), "<refused>");
	assert_string_equal(ap(L("/k\r"), RC_AP_MAPTOK), "<refused>");
	assert_string_equal(ap(L("#k"), RC_AP_MAPTOK), "<refused>");
	assert_string_equal(ap(L("/k#"), RC_AP_MAPTOK), "/k#");
	assert_string_equal(ap(L(""), RC_AP_MAPTOK), "<refused>");
	assert_string_equal(ap(L("/\xc3\xa9"), RC_AP_MAPTOK), "<refused>");
	assert_string_equal(ap("a\0b", 3, RC_AP_MAPTOK), "<refused>");
}

static void test_strings_and_comments(void **state)
{
	(void)state;
	assert_string_equal(call(rc_js_string, L("site.redir")), "\"site.redir\"");
	assert_string_equal(call(rc_js_string, L("a\"b\\c\nd\xe2\x80\xa8")),
	                    "\"a\\x22b\\x5Cc\\x0Ad\\xE2\\x80\\xA8\"");
	assert_string_equal(call(rc_lua_string, L("]]--\"\\${x}")), "\"]]--\\x22\\x5C${x}\"");
	assert_string_equal(call(rc_lua_string, "\0", 1), "\"\\x00\"");
	assert_string_equal(call(rc_comment_text, L("a #b; {c} $d")), "a #b; {c} $d");
	assert_string_equal(call(rc_comment_text, L("x\nRewriteRule ^ /evil\\")),
	                    "x\\x0ARewriteRule ^ /evil\\x5C");
	assert_string_equal(call(rc_comment_text, L("caf\xc3\xa9\r")), "caf\\xC3\\xA9\\x0D");
}

/* Every byte value: the output of the string and comment quoters holds
 * only printable ASCII, and the nginx quoter never leaves a bare '"'. */
static void test_every_byte(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		char s[3] = { 'a', (char)c, 'b' };
		qfn fns[3] = { rc_js_string, rc_lua_string, rc_comment_text };
		for (int k = 0; k < 3; k++) {
			const char *o = call(fns[k], s, 3);
			for (const char *p = o; *p; p++)
				assert_true(*p >= 0x20 && *p < 0x7f);
		}
		const char *o = ngx(s, 3, RC_NGX_VARS);
		if (c == 0) {
			assert_string_equal(o, "<refused>");
			continue;
		}
		for (const char *p = o; *p; p++) {
			if (*p == '\\') {
				p++;
				assert_true(*p == '\\' || *p == '"' || *p == 'n' || *p == 'r' || *p == 't');
			} else {
				assert_true(*p != '"' && *p != '\n' && *p != '\r');
			}
		}
	}
}

/* rc_buf_add_int (compiler/util.c) writes what printf "%lld" writes; the
 * backends use it for numbers in their hot loops. */
static void test_buf_add_int(void **state)
{
	(void)state;
	static const long long vals[] = { 0, 7, -7, 10, 301, 4294967295ll, -2147483648ll,
	                                  9223372036854775807ll, -9223372036854775807ll - 1 };
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		char want[32];
		snprintf(want, sizeof want, "%lld", vals[i]);
		rc_buf b;
		rc_buf_init(&b);
		rc_buf_adds(&b, "x");
		rc_buf_add_int(&b, vals[i]);
		assert_int_equal(b.len, strlen(want) + 1);
		assert_string_equal(b.data + 1, want);
		rc_buf_fini(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nginx),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_apache),
		cmocka_unit_test(test_strings_and_comments),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_buf_add_int),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
