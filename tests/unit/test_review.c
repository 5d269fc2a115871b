/*
 * test_review.c - the pieces of issue 16 that have exact answers: SHA-256
 * (FIPS 180-2 test vectors, and one update split across block edges), log
 * times (NCSA and ISO 8601 with zones), the NCSA and JSON-lines parsers
 * (quoted quotes, absolute-form targets, escapes, field maps, refusals),
 * and the samples of a rule (requests.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "compiler/logparse.h"
#include "compiler/requests.h"
#include "compiler/sha256.h"
#include "grammar/grammar.h"

static void hex_of(const char *data, size_t n, char out[65])
{
	rc_sha256 s;
	rc_sha256_init(&s);
	rc_sha256_update(&s, data, n);
	rc_sha256_hex(&s, out);
}

static void test_sha256_vectors(void **state)
{
	(void)state;
	char h[65];
	hex_of("", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hex_of(two, strlen(two), h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* a million 'a', fed in uneven pieces across block edges */
	static char a[1000];
	memset(a, 'a', sizeof a);
	rc_sha256 s;
	rc_sha256_init(&s);
	size_t done = 0, step = 1;
	while (done < 1000000) {
		size_t n = step < 1000000 - done ? step : 1000000 - done;
		if (n > sizeof a)
			n = sizeof a;
		rc_sha256_update(&s, a, n);
		done += n;
		step = step * 7 % 997 + 1;
	}
	rc_sha256_hex(&s, h);
	assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_log_times(void **state)
{
	(void)state;
	const char *t = "10/Oct/2000:13:55:36 -0700";
	assert_int_equal(rc_log_time_clf(t, strlen(t)), 971211336);
	t = "06/Dec/2026:11:30:00 +0100";
	assert_int_equal(rc_log_time_clf(t, strlen(t)), rc_log_time_iso("2026-12-06T10:30:00Z", 20));
	t = "2000-10-10T13:55:36.123-07:00";
	assert_int_equal(rc_log_time_iso(t, strlen(t)), 971211336);
	t = "29/Feb/2024:00:00:00 +0000";
	assert_int_equal(rc_log_time_clf(t, strlen(t)), 1709164800);
	/* refused: unknown month, a month 13, a broken zone */
	t = "10/Foo/2000:13:55:36 -0700";
	assert_true(rc_log_time_clf(t, strlen(t)) == INT64_MIN);
	t = "2000-13-10T13:55:36Z";
	assert_true(rc_log_time_iso(t, strlen(t)) == INT64_MIN);
	t = "2000-10-10T13:55:36+7";
	assert_true(rc_log_time_iso(t, strlen(t)) == INT64_MIN);
}

static int parse(rc_log_parser *p, const char *line, rc_log_entry *e)
{
	const char *why;
	return rc_log_parse(p, line, strlen(line), e, &why);
}

static void test_clf(void **state)
{
	(void)state;
	rc_log_parser p;
	rc_log_parser_init(&p, RC_LOG_CLF, NULL);
	rc_log_entry e;
	/* Apache writes a quote in the request as \" */
	assert_int_equal(parse(&p, "1.2.3.4 - u [10/Oct/2000:13:55:36 -0700] \"GET /a\\\"b?x=1 HTTP/1.1\" "
	                           "301 12 \"-\" \"agent \\\"x\\\"\"", &e), 0);
	assert_int_equal(e.status, 301);
	assert_int_equal(e.path_len, 5);
	assert_memory_equal(e.path, "/a\\\"b", 5);
	assert_int_equal(e.query_len, 3);
	assert_memory_equal(e.query, "x=1", 3);
	assert_null(e.host);
	assert_int_equal(e.time, 971211336);
	/* common format (no referer and agent), absolute-form target, CRLF */
	assert_int_equal(parse(&p, "::1 - - [10/Oct/2000:13:55:36 +0000] "
	                           "\"GET http://Old.Example.com:8080/x HTTP/1.1\" 404 0\r", &e), 0);
	assert_int_equal(e.status, 404);
	assert_int_equal(e.host_len, strlen("Old.Example.com:8080"));
	assert_memory_equal(e.path, "/x", 2);
	/* refused */
	assert_int_equal(parse(&p, "garbage", &e), -1);
	assert_int_equal(parse(&p, "h - - [t] \"GET /x HTTP/1.1\" 30 0", &e), -1);
	assert_int_equal(parse(&p, "h - - [t] \"-\" 400 0", &e), -1);
	rc_log_parser_fini(&p);
}

static void test_json_lines(void **state)
{
	(void)state;
	rc_log_fields f;
	rc_log_fields_default(&f);
	assert_int_equal(rc_log_fields_set(&f, "path=uri"), 0);
	assert_int_equal(rc_log_fields_set(&f, "time=ts"), 0);
	assert_int_equal(rc_log_fields_set(&f, "host="), 0);
	assert_int_equal(rc_log_fields_set(&f, "nope=x"), -1);
	assert_int_equal(rc_log_fields_set(&f, "path"), -1);
	rc_log_parser p;
	rc_log_parser_init(&p, RC_LOG_JSON, &f);
	rc_log_entry e;
	assert_int_equal(parse(&p, "{\"nested\": {\"uri\": \"/no\"}, \"uri\": \"/a\\u00e9\\/b?q\", "
	                           "\"status\": 308, \"ts\": 971211336.5, \"host\": \"h\"}", &e), 0);
	assert_int_equal(e.path_len, strlen("/a\xc3\xa9/b"));
	assert_memory_equal(e.path, "/a\xc3\xa9/b", e.path_len);
	assert_int_equal(e.query_len, 1);
	assert_int_equal(e.status, 308);
	assert_int_equal(e.time, 971211336);
	assert_null(e.host); /* host= : not logged */
	/* the request line when there is no path member */
	assert_int_equal(parse(&p, "{\"request\": \"GET /r?x HTTP/2.0\", \"status\": \"410\"}", &e), 0);
	assert_memory_equal(e.path, "/r", 2);
	assert_int_equal(e.status, 410);
	/* refused: not an object, no status, a bad escape */
	assert_int_equal(parse(&p, "[1]", &e), -1);
	assert_int_equal(parse(&p, "{\"uri\": \"/a\"}", &e), -1);
	assert_int_equal(parse(&p, "{\"uri\": \"/a\\u12\", \"status\": 200}", &e), -1);
	rc_log_parser_fini(&p);
}

static void test_samples(void **state)
{
	(void)state;
	rc_diags d;
	rc_diags_init(&d);
	rc_ir ir;
	rc_ir_init(&ir, &d);
	const char *text = "/press%20kit -> /press\n/docs/:ver/api/* -> /ref/:ver/*\n"
	                   "/docs/v1/api/redirc-sample/p -> /taken\n";
	assert_int_equal(rc_load_text(&ir, "t.redir", text, strlen(text)), 0);
	assert_int_equal(d.errors, 0);
	rc_vec out;
	rc_vec_init(&out, sizeof(char *));
	rc_arena a;
	rc_arena_init(&a);
	assert_int_equal(rc_rule_samples(&a, rc_ir_rule(&ir, 0), 0, 2, &out), 1);
	assert_string_equal(*RC_VEC_AT(&out, char *, 0), "/press%20kit");
	out.len = 0;
	assert_int_equal(rc_rule_samples(&a, rc_ir_rule(&ir, 1), 0, 2, &out), 2);
	assert_string_equal(*RC_VEC_AT(&out, char *, 0), "/docs/redirc-sample/api/redirc-sample/p");
	assert_string_equal(*RC_VEC_AT(&out, char *, 1), "/docs/redirc-sample/api/");
	/* the resolver answers like explain; a probe plan keeps only samples
	 * that reach their rule first */
	rc_resolver rv;
	rc_resolver_init(&rv, &ir);
	rc_fast_answer ans;
	rc_resolve(&rv, NULL, "/docs/v2/api/x?y=1", 14, "y=1", 3, 1, &ans);
	assert_int_equal(ans.rule, 1);
	assert_string_equal(ans.location, "/ref/v2/x?y=1");
	rc_vec probes;
	rc_vec_init(&probes, sizeof(rc_probe));
	rc_plan_probes(&a, &rv, NULL, 3, &probes);
	for (size_t i = 0; i < probes.len; i++) {
		const rc_probe *p = RC_VEC_AT(&probes, rc_probe, i);
		if (p->origin != RC_PROBE_PATTERN)
			continue; /* exact sources are asked even when shadowed */
		rc_resolve(&rv, p->host, p->path, strlen(p->path), NULL, 0, 0, &ans);
		assert_int_equal(rc_ir_rule(&ir, (size_t)ans.rule)->loc.line, p->where.line);
	}
	assert_true(probes.len >= 4); /* 2 exact + at least 2 pattern samples */
	rc_vec_fini(&probes);
	rc_resolver_fini(&rv);
	rc_arena_fini(&a);
	rc_vec_fini(&out);
	rc_ir_fini(&ir);
	rc_diags_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_log_times),
		cmocka_unit_test(test_clf),
		cmocka_unit_test(test_json_lines),
		cmocka_unit_test(test_samples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
