/*
 * test_python_quote.c - rc_py_quote, the one function through which the
 * python target writes every user string: exact outputs for hostile input,
 * and for every byte value the properties that keep a literal closed (only
 * printable ASCII, no quote, every backslash starts a \xNN escape) and a
 * decoder that gives the input back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "backends/python.h"

static const char *quote(const char *s, size_t n)
{
	static char out[8192];
	rc_buf b;
	rc_buf_init(&b);
	rc_py_quote(&b, s, n);
	assert_true(b.len < sizeof out);
	memcpy(out, b.data, b.len + 1);
	rc_buf_fini(&b);
	return out;
}

#define Q(lit) quote(lit, sizeof(lit) - 1)

static void test_plain(void **state)
{
	(void)state;
	assert_string_equal(Q(""), "b\"\"");
	assert_string_equal(Q("/old-pricing"), "b\"/old-pricing\"");
	assert_string_equal(Q("a b#c ${x} {y} %zz ;|&"), "b\"a b#c ${x} {y} %zz ;|&\"");
}

static void test_hostile(void **state)
{
	(void)state;
	assert_string_equal(Q("\""), "b\"\\x22\"");
	assert_string_equal(Q("'"), "b\"\\x27\"");
	assert_string_equal(Q("\\"), "b\"\\x5c\"");
	assert_string_equal(Q("\"\"\""), "b\"\\x22\\x22\\x22\"");
	assert_string_equal(Q("'''"), "b\"\\x27\\x27\\x27\"");
	assert_string_equal(Q("\\N{BULLET}"), "b\"\\x5cN{BULLET}\"");
	assert_string_equal(Q("\\x41"), "b\"\\x5cx41\"");
	assert_string_equal(Q("a\nb\r\tc"), "b\"a\\x0ab\\x0d\\x09c\"");
	assert_string_equal(Q("a\0b"), "b\"a\\x00b\"");
	assert_string_equal(Q("caf\xc3\xa9 \xe2\x98\x83"), "b\"caf\\xc3\\xa9 \\xe2\\x98\\x83\"");
	assert_string_equal(Q("\x7f\xff"), "b\"\\x7f\\xff\"");
	assert_string_equal(Q("x\" + __import__('os').system('id') + b\""),
	                    "b\"x\\x22 + __import__(\\x27os\\x27).system(\\x27id\\x27) + b\\x22\"");
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Check the literal's shape and decode it; returns the decoded length. */
static size_t check_and_decode(const char *lit, char *out)
{
	size_t n = strlen(lit), o = 0;
	assert_true(n >= 3);
	assert_true(lit[0] == 'b' && lit[1] == '"' && lit[n - 1] == '"');
	for (size_t i = 2; i < n - 1; i++) {
		unsigned char c = (unsigned char)lit[i];
		assert_true(c >= 0x20 && c < 0x7f);
		assert_true(c != '"' && c != '\'');
		if (c == '\\') {
			assert_true(i + 3 < n - 1 + 1);
			assert_int_equal(lit[i + 1], 'x');
			int hi = hex_value(lit[i + 2]), lo = hex_value(lit[i + 3]);
			assert_true(hi >= 0 && lo >= 0);
			out[o++] = (char)(hi * 16 + lo);
			i += 3;
		} else {
			out[o++] = (char)c;
		}
	}
	return o;
}

static void test_every_byte(void **state)
{
	(void)state;
	char all[256], back[256];
	for (int c = 0; c < 256; c++) {
		char one = (char)c, dec[4];
		assert_int_equal(check_and_decode(quote(&one, 1), dec), 1);
		assert_int_equal((unsigned char)dec[0], c);
		all[c] = (char)c;
	}
	assert_int_equal(check_and_decode(quote(all, sizeof all), back), sizeof all);
	assert_memory_equal(all, back, sizeof all);
}

static void test_appends(void **state)
{
	(void)state;
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_adds(&b, "(");
	rc_py_quote(&b, "a", 1);
	rc_buf_adds(&b, ",");
	rc_py_quote(&b, "\"", 1);
	rc_buf_adds(&b, ")");
	assert_string_equal(b.data, "(b\"a\",b\"\\x22\")");
	rc_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_appends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
