/*
 * test_table.c - the table target and its reader: tables built in memory
 * from rule text, answers compared with the compiler's own interpreter
 * (rc_ir_answer), first match per host, the empty set, the cmph path,
 * truncation at every offset, byte flips, wrong endian and version, small
 * buffers and long paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "grammar/grammar.h"
#include "backends/table_build.h"
#include "runtime/redir.h"
#include "runtime/table_format.h"

static char tmpdir[64];

static int group_setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_table.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

typedef struct fixture {
	rc_diags diags;
	rc_ir ir;
	rc_buf image;
	char path[128];
	rd_table *t;
} fixture;

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	if (n)
		assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* Load rules, build the table image, write it and open it. */
static fixture *build(const char *text)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	rc_diags_init(&f->diags);
	rc_ir_init(&f->ir, &f->diags);
	assert_int_equal(rc_load_text(&f->ir, "t.redir", text, strlen(text)), 0);
	assert_int_equal(f->diags.errors, 0);
	rc_buf_init(&f->image);
	assert_int_equal(rc_table_build(&f->ir, &f->image), 0);
	static int n;
	snprintf(f->path, sizeof f->path, "%s/t%d.redirdb", tmpdir, n++);
	write_file(f->path, f->image.data, f->image.len);
	rd_error err;
	int rc = rd_table_open(f->path, &f->t, &err);
	if (rc != RD_OK)
		fail_msg("open: %s", err.message);
	assert_int_equal(rd_table_verify(f->t, &err), RD_OK);
	return f;
}

static void release(fixture *f)
{
	rd_table_close(f->t);
	rc_buf_fini(&f->image);
	rc_ir_fini(&f->ir);
	rc_diags_fini(&f->diags);
	free(f);
}

/* The table and the interpreter agree on (host, url). */
static void agree(fixture *f, const char *host, const char *url)
{
	const char *q = strchr(url, '?');
	size_t plen = q ? (size_t)(q - url) : strlen(url);
	size_t qlen = q ? strlen(q + 1) : 0;
	char *path = strndup(url, plen);
	char hc[256];
	const char *hcanon = NULL;
	if (host) {
		rd_host_canon(host, strlen(host), hc);
		hcanon = hc;
	}
	rc_answer ans;
	rc_ir_answer(&f->ir, hcanon, path, plen, q ? q + 1 : NULL, qlen, &ans);
	char buf[8192];
	rd_result res;
	int st = rd_table_lookup(f->t, host, path, plen, q ? q + 1 : NULL, qlen, &res, buf, sizeof buf);
	if (!ans.matched) {
		if (st != 0)
			fail_msg("%s %s: table %d, interpreter pass", host ? host : "-", url, st);
	} else {
		if (st != ans.status)
			fail_msg("%s %s: table %d, interpreter %d", host ? host : "-", url, st, ans.status);
		assert_int_equal(res.rule_id, ans.rule->index);
		rd_rule_info info;
		assert_int_equal(rd_table_rule_info(f->t, res.rule_id, &info), RD_OK);
		assert_int_equal(info.line, ans.rule->loc.line);
		assert_string_equal(info.file, "t.redir");
		if (ans.location)
			assert_string_equal(buf, ans.location);
		else
			assert_int_equal(res.location_len, 0);
	}
	rc_answer_fini(&ans);
	free(path);
}

static const char *RULES =
    "set hosts www.example.com\n"
    "host old.example.com {\n"
    "    /* -> https://www.example.com/* 302\n"
    "}\n"
    "/pricing -> /plans owner growth note \"rollback: delete\"\n"
    "host a.example.com {\n"
    "    /docs/* -> /a-docs/*\n"
    "    /:lang/welcome -> /welcome?lang=:lang\n"
    "    /faq -> /a-faq#top\n"
    "}\n"
    "/docs/intro -> /intro\n"
    "/en/welcome -> /english 308\n"
    "host b.example.com {\n"
    "    /faq -> /b-faq 307\n"
    "}\n"
    "/faq -> /global-faq?x=1\n"
    "/gone gone\n"
    "/blog* -> /b query drop\n";

static const char *REQUESTS[][2] = {
	{ NULL, "/pricing" },          { "old.example.com", "/pricing?x=1" },
	{ "OLD.example.com:81", "/pricing" }, { "www.example.com", "/pricing" },
	{ NULL, "/docs/intro" },       { "a.example.com", "/docs/intro" },
	{ "b.example.com", "/docs/intro" }, { NULL, "/en/welcome" },
	{ "a.example.com", "/en/welcome" }, { "a.example.com", "/fr/welcome?a=b" },
	{ NULL, "/faq" },              { "a.example.com", "/faq?q=1" },
	{ "b.example.com", "/faq" },   { "c.example.com", "/faq?y" },
	{ NULL, "/gone?x=1" },         { NULL, "/blogger?x=1" },
	{ NULL, "/blog" },             { NULL, "/nothing" },
	{ NULL, "/" },                 { NULL, "/bad%zz" },
	{ NULL, "//docs/./x/../intro/" },
};

static void test_lookups_and_host_order(void **state)
{
	(void)state;
	fixture *f = build(RULES);
	for (size_t i = 0; i < sizeof REQUESTS / sizeof REQUESTS[0]; i++)
		agree(f, REQUESTS[i][0], REQUESTS[i][1]);
	/* the host-scoped pattern before the global exact rule wins for its host */
	char buf[256];
	rd_result res;
	assert_int_equal(rd_table_lookup(f->t, "old.example.com", "/pricing", 8, NULL, 0, &res, buf,
	                                 sizeof buf), 302);
	assert_string_equal(buf, "https://www.example.com/pricing");
	assert_int_equal(rd_table_lookup(f->t, NULL, "/pricing", 8, NULL, 0, &res, buf, sizeof buf), 301);
	assert_string_equal(buf, "/plans");
	rd_rule_info info;
	assert_int_equal(rd_table_rule_info(f->t, res.rule_id, &info), RD_OK);
	assert_string_equal(info.owner, "growth");
	assert_string_equal(info.note, "rollback: delete");
	/* one key, three scopes */
	assert_int_equal(rd_table_lookup(f->t, "b.example.com", "/faq", 4, NULL, 0, &res, buf, sizeof buf), 307);
	assert_int_equal(rd_table_lookup(f->t, "a.example.com", "/faq", 4, NULL, 0, &res, buf, sizeof buf), 301);
	assert_string_equal(buf, "/a-faq#top");
	release(f);
}

static void test_case_insensitive(void **state)
{
	(void)state;
	fixture *f = build("set case insensitive\n"
	                   "/Old-Page -> /New\n"
	                   "/Docs/:v/Intro -> /d/:v\n"
	                   "/BLOG/* -> /a/*\n"
	                   "/:lang/Legacy/* -> /l/:lang/*\n"
	                   "/:lang/About -> /about?l=:lang\n");
	const char *urls[] = { "/old-page", "/OLD-PAGE?Q=1", "/docs/V2/INTRO", "/blog/Hi", "/Blog", "/x",
	                       "/fr/LEGACY/x/y", "/fr/legacy", "/fr/legacy/", "/fr/legacyx", "/de/about",
	                       "/de/ABOUT/", "/de/about/x", "/about", "//fr//legacy/./z" };
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
		agree(f, NULL, urls[i]);
	release(f);
}

static void test_empty(void **state)
{
	(void)state;
	fixture *f = build("# nothing\n");
	assert_int_equal(rd_table_nrules(f->t), 0);
	agree(f, NULL, "/");
	agree(f, "h", "/a/b?c");
	release(f);
}

static void test_buffer_and_long_path(void **state)
{
	(void)state;
	fixture *f = build("/blog/* -> /articles/*\n/x -> /a-rather-long-target-location\n");
	char tiny[4];
	rd_result res;
	assert_int_equal(rd_table_lookup(f->t, NULL, "/x", 2, "q=1", 3, &res, tiny, sizeof tiny), RD_E_BUFFER);
	assert_int_equal(res.needed, strlen("/a-rather-long-target-location?q=1") + 1);
	/* 410-free, pass needs no room at all */
	assert_int_equal(rd_table_lookup(f->t, NULL, "/none", 5, NULL, 0, &res, NULL, 0), 0);
	/* a path longer than the reader's stack scratch uses the caller's buffer */
	size_t n = 10000;
	char *path = malloc(n);
	memcpy(path, "/blog/", 6);
	memset(path + 6, 'x', n - 6);
	assert_int_equal(rd_table_lookup(f->t, NULL, path, n, NULL, 0, &res, tiny, sizeof tiny), RD_E_BUFFER);
	char *buf = malloc(res.needed);
	assert_int_equal(rd_table_lookup(f->t, NULL, path, n, NULL, 0, &res, buf, res.needed), RD_E_BUFFER);
	free(buf);
	buf = malloc(res.needed);
	assert_int_equal(rd_table_lookup(f->t, NULL, path, n, NULL, 0, &res, buf, res.needed), 301);
	assert_int_equal(strlen(buf), strlen("/articles/") + n - 6);
	assert_memory_equal(buf, "/articles/xxx", 13);
	free(buf);
	free(path);
	release(f);
}

/* > threshold keys: the cmph path, with patterns and host scopes mixed in. */
static char *many_rules(size_t nexact)
{
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_adds(&b, "set hosts www.example.com\nhost a.example.com {\n  /p/* -> /ap/*\n  /k/7 -> /a7\n}\n");
	for (size_t i = 0; i < nexact; i++) {
		rc_buf_printf(&b, "/k/%zu -> /t/%zu%s\n", i, i, i % 7 == 0 ? " 302" : "");
		if (i % 100 == 50)
			rc_buf_printf(&b, "/p%zu/:x -> /q/:x\n", i);
	}
	rc_buf_adds(&b, "/p/* -> /gp/*\n/k/* -> /last/*\n");
	return b.data;
}

static uint32_t header_u32(const fixture *f, size_t off)
{
	uint32_t v;
	memcpy(&v, f->image.data + off, 4);
	return v;
}

static void test_cmph_path(void **state)
{
	(void)state;
	char *text = many_rules(1000);
	fixture *f = build(text);
	free(text);
	assert_int_equal(header_u32(f, offsetof(rdb_header, hash_kind)), RDB_HASH_CMPH_BDZ);
	assert_int_equal(header_u32(f, offsetof(rdb_header, nkeys)), 1000); /* /k/7 twice */
	char url[64];
	for (int i = 0; i < 1000; i++) {
		snprintf(url, sizeof url, "/k/%d?z=%d", i, i);
		agree(f, NULL, url);
		snprintf(url, sizeof url, "/k/x%d", i); /* a miss of the exact keys */
		agree(f, NULL, url);
	}
	agree(f, "a.example.com", "/k/7");
	agree(f, NULL, "/k/7");
	agree(f, "a.example.com", "/p/x");
	agree(f, NULL, "/p/x");
	agree(f, NULL, "/p150/y");
	agree(f, NULL, "/p151/y");
	release(f);
}

/* Every prefix of a table is refused as truncated; never a crash. */
static void truncate_all(fixture *f, size_t step)
{
	char path[160];
	snprintf(path, sizeof path, "%s/trunc.redirdb", tmpdir);
	for (size_t k = 0; k < f->image.len; k += step) {
		write_file(path, f->image.data, k);
		rd_table *t;
		rd_error err;
		int rc = rd_table_open(path, &t, &err);
		if (rc != RD_E_TRUNCATED)
			fail_msg("prefix of %zu bytes: %d (%s)", k, rc, err.message);
		assert_null(t);
		assert_non_null(strstr(err.message, "truncated"));
	}
}

static void test_truncation_every_offset(void **state)
{
	(void)state;
	fixture *f = build(RULES);
	truncate_all(f, 1);
	release(f);
	char *text = many_rules(200);
	f = build(text);
	free(text);
	truncate_all(f, 7);
	release(f);
}

/* Flip bytes: open refuses with a specific code, or verify reports the
 * checksum; lookups on an opened (unverified) table never crash. */
static void flip_all(fixture *f, size_t step, unsigned char mask)
{
	char path[160];
	snprintf(path, sizeof path, "%s/flip.redirdb", tmpdir);
	char *copy = malloc(f->image.len);
	for (size_t k = 0; k < f->image.len; k += step) {
		memcpy(copy, f->image.data, f->image.len);
		copy[k] ^= (char)mask;
		write_file(path, copy, f->image.len);
		rd_table *t;
		rd_error err;
		int rc = rd_table_open(path, &t, &err);
		if (rc != RD_OK) {
			if (rc != RD_E_MAGIC && rc != RD_E_VERSION && rc != RD_E_ENDIAN && rc != RD_E_CORRUPT)
				fail_msg("flip at %zu: open gave %d (%s)", k, rc, err.message);
			assert_string_not_equal(err.message, "");
			continue;
		}
		int v = rd_table_verify(t, &err);
		if (v != RD_E_CHECKSUM)
			fail_msg("flip at %zu: verify gave %d", k, v);
		char buf[512];
		rd_result res;
		for (size_t i = 0; i < sizeof REQUESTS / sizeof REQUESTS[0]; i++) {
			int st = rd_table_lookup(t, REQUESTS[i][0], REQUESTS[i][1], strlen(REQUESTS[i][1]),
			                         "a=b", 3, &res, buf, sizeof buf);
			rd_rule_info info;
			if (st > 0 && rd_table_rule_info(t, res.rule_id, &info) == RD_OK) {
				if (info.file)
					(void)strlen(info.file);
				if (info.owner)
					(void)strlen(info.owner);
			}
		}
		for (uint32_t i = 0; i < rd_table_nrules(t); i++) {
			rd_rule_info info;
			int rc2 = rd_table_rule_info(t, i, &info);
			if (rc2 != RD_OK && rc2 != RD_E_CORRUPT)
				fail_msg("flip at %zu: rule_info(%u) gave %d", k, i, rc2);
			if (rc2 == RD_OK && info.note)
				(void)strlen(info.note);
		}
		for (int i = 0; i < 300; i += 13) {
			char url[32];
			int n = snprintf(url, sizeof url, "/k/%d", i);
			(void)rd_table_lookup(t, NULL, url, (size_t)n, NULL, 0, &res, buf, sizeof buf);
		}
		rd_table_close(t);
	}
	free(copy);
}

/* A body byte changed to a control byte: open (which does not checksum the
 * body) succeeds, but the lookup refuses to return a Location with it. */
/* Write a (tampered) image as NAME.redirdb, free it, and open it: the
 * header checks pass, so what is wrong is found while answering. */
static rd_table *open_image(char *image, size_t len, const char *name)
{
	char path[160];
	snprintf(path, sizeof path, "%s/%s.redirdb", tmpdir, name);
	write_file(path, image, len);
	free(image);
	rd_table *t;
	rd_error err;
	assert_int_equal(rd_table_open(path, &t, &err), RD_OK);
	return t;
}

static void test_control_byte_in_location(void **state)
{
	(void)state;
	fixture *f = build("/careers -> https://jobs.example.com/open-positions 302\n"
	                   "allow-host jobs.example.com\n");
	char *hit = memmem(f->image.data, f->image.len, "open-positions", 14);
	assert_non_null(hit);
	char *copy = malloc(f->image.len);
	memcpy(copy, f->image.data, f->image.len);
	copy[(hit - f->image.data) + 4] = '\n';
	rd_table *t = open_image(copy, f->image.len, "ctl");
	rd_error err;
	char buf[256];
	rd_result res;
	assert_int_equal(rd_table_lookup(t, NULL, "/careers", 8, NULL, 0, &res, buf, sizeof buf),
	                 RD_E_CORRUPT);
	assert_int_equal(res.location_len, 0);
	assert_string_equal(buf, "");
	assert_int_equal(rd_table_verify(t, &err), RD_E_CHECKSUM);
	rd_table_close(t);
	release(f);
}

/* A target token naming a capture its pattern does not bind (a corrupt
 * record whose checksum was repaired) is refused, never read from stray
 * span memory. */
static void test_target_capture_not_bound(void **state)
{
	(void)state;
	fixture *f = build("/a/:x -> /b/:x\n");
	rdb_header h;
	memcpy(&h, f->image.data, sizeof h);
	const rdb_section_ref *tt = &h.sec[RDB_SEC_TTOKS];
	size_t n = (size_t)(tt->size / sizeof(rdb_tok)), caps = 0;
	char *copy = malloc(f->image.len);
	memcpy(copy, f->image.data, f->image.len);
	for (size_t i = 0; i < n; i++) {
		rdb_tok tk;
		memcpy(&tk, copy + tt->off + i * sizeof tk, sizeof tk);
		if (tk.kind == RD_TTOK_CAP_PATH) {
			assert_int_equal(tk.capture, 0);
			tk.capture = 1; /* the pattern binds capture 0 only */
			memcpy(copy + tt->off + i * sizeof tk, &tk, sizeof tk);
			caps++;
		}
	}
	assert_int_equal(caps, 1);
	rd_table *t = open_image(copy, f->image.len, "cap");
	char buf[256];
	rd_result res;
	assert_int_equal(rd_table_lookup(t, NULL, "/a/q", 4, NULL, 0, &res, buf, sizeof buf),
	                 RD_E_CORRUPT);
	/* the untouched table answers the same request */
	assert_int_equal(rd_table_lookup(f->t, NULL, "/a/q", 4, NULL, 0, &res, buf, sizeof buf), 301);
	assert_string_equal(buf, "/b/q");
	rd_table_close(t);
	release(f);
}

static void test_byte_flips(void **state)
{
	(void)state;
	fixture *f = build(RULES);
	flip_all(f, 1, 0xff);
	flip_all(f, 1, 0x01);
	release(f);
	char *text = many_rules(200);
	f = build(text);
	free(text);
	flip_all(f, 3, 0x80);
	release(f);
}

static void test_endian_version_magic(void **state)
{
	(void)state;
	fixture *f = build(RULES);
	char path[160];
	snprintf(path, sizeof path, "%s/hdr.redirdb", tmpdir);
	char *copy = malloc(f->image.len);
	struct {
		size_t off;
		uint32_t value;
		int code;
		const char *word;
	} cases[] = {
		{ offsetof(rdb_header, bom), RDB_BOM_SWAPPED, RD_E_ENDIAN, "byte order" },
		{ offsetof(rdb_header, version), RDB_VERSION + 1, RD_E_VERSION, "version" },
		{ offsetof(rdb_header, version), 1, RD_E_VERSION, "version 1" }, /* the old layout */
		{ offsetof(rdb_header, version), 2, RD_E_VERSION, "version 2" }, /* the old index */
		{ offsetof(rdb_header, version), 3, RD_E_VERSION, "version 3" }, /* no wildcard hosts */
		{ 0, 0x4c4c4548u, RD_E_MAGIC, "magic" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memcpy(copy, f->image.data, f->image.len);
		memcpy(copy + cases[i].off, &cases[i].value, 4);
		write_file(path, copy, f->image.len);
		rd_table *t;
		rd_error err;
		assert_int_equal(rd_table_open(path, &t, &err), cases[i].code);
		assert_int_equal(err.code, cases[i].code);
		assert_non_null(strstr(err.message, cases[i].word));
		assert_non_null(strstr(err.message, path));
	}
	/* trailing garbage, a missing file */
	memcpy(copy, f->image.data, f->image.len);
	write_file(path, copy, f->image.len);
	FILE *fp = fopen(path, "ab");
	fputs("xx", fp);
	fclose(fp);
	rd_table *t;
	rd_error err;
	assert_int_equal(rd_table_open(path, &t, &err), RD_E_CORRUPT);
	snprintf(path, sizeof path, "%s/missing.redirdb", tmpdir);
	assert_int_equal(rd_table_open(path, &t, &err), RD_E_IO);
	assert_non_null(strstr(err.message, "No such file"));
	free(copy);
	release(f);
}

static void test_deterministic(void **state)
{
	(void)state;
	char *text = many_rules(300);
	fixture *a = build(text), *b = build(text);
	free(text);
	assert_int_equal(a->image.len, b->image.len);
	assert_memory_equal(a->image.data, b->image.data, a->image.len);
	release(a);
	release(b);
}

/* rd_table_rule_info: every rule's line, file, owner and note as the IR has
 * them, across runs (owner/note changes), checkpoints (more than 64 rules),
 * lines that go backwards, and out-of-range ids. */
static void test_rule_info(void **state)
{
	(void)state;
	rc_buf b;
	rc_buf_init(&b);
	for (int i = 0; i < 300; i++) {
		if (i % 50 == 10)
			rc_buf_printf(&b, "group \"g%d\" owner team%d note \"n %d\" {\n", i, i % 3, i);
		rc_buf_printf(&b, "/r/%d -> /t/%d%s\n", i, i, i % 9 == 0 ? " owner solo" : "");
		if (i % 50 == 20)
			rc_buf_adds(&b, "}\n");
		if (i % 13 == 0)
			rc_buf_adds(&b, "\n# a comment\n\n");
	}
	fixture *f = build(b.data);
	rc_buf_fini(&b);
	uint32_t n = rd_table_nrules(f->t);
	assert_int_equal(n, rc_ir_nrules(&f->ir));
	for (uint32_t i = 0; i < n; i++) {
		const rc_rule *r = rc_ir_rule(&f->ir, i);
		rd_rule_info info;
		assert_int_equal(rd_table_rule_info(f->t, i, &info), RD_OK);
		assert_int_equal(info.line, r->loc.line);
		assert_string_equal(info.file, "t.redir");
		if (r->owner)
			assert_string_equal(info.owner, r->owner);
		else
			assert_null(info.owner);
		if (r->note)
			assert_string_equal(info.note, r->note);
		else
			assert_null(info.note);
	}
	rd_rule_info info;
	assert_int_equal(rd_table_rule_info(f->t, n, &info), RD_E_INVAL);
	assert_int_equal(rd_table_rule_info(f->t, UINT32_MAX, &info), RD_E_INVAL);
	assert_int_equal(rd_table_rule_info(NULL, 0, &info), RD_E_INVAL);
	assert_int_equal(rd_table_rule_info(f->t, 0, NULL), RD_E_INVAL);
	release(f);
}

/* The pattern index (a trie of leading segments per host): every shape of
 * key against the interpreter, on requests made of the rules' own words,
 * under each case and trailing-slash policy. */
static const char *INDEX_RULES =
    "set hosts www.example.com\n"
    "/docs/v2/guide/x -> /exact-guide\n"
    "host a.example.com, b.example.com {\n"
    "    /shop/:id/* -> /a-shop/:id/*\n"
    "    /:lang/help -> /help?l=:lang\n"
    "    /a/* -> /a-all/*\n"
    "}\n"
    "host c.example.com {\n"
    "    /blog/* -> /c-blog/*\n"
    "    /* -> https://www.example.com/*\n"
    "}\n"
    "/blog/:year/:slug -> /b/:year/:slug\n"
    "/blog/* -> /b-all/*\n"
    "/docs/v1/guide/* -> /g1/*\n"
    "/docs/:v/guide/* -> /g/:v/*\n"
    "/:lang/about -> /about?lang=:lang\n"
    "/:lang/docs/:page -> /d/:page?lang=:lang\n"
    "/x-1/:id/page -> /x/:id\n"
    "/files/x.pdf/:id -> /pdf/:id\n"
    "/a/b/c/d/e/f/g/h/i/* -> /deep/*\n"
    "/a/b/c/d/e/f/g/h/:x -> /deep8/:x\n"
    "/api* -> /v2/api*\n"
    "/Case/:x -> /case/:x\n"
    "/:a/:b/:c/z -> /abc/:a/:b/:c\n"
    "/shop/:id -> /global-shop/:id\n";

static const char *const INDEX_WORDS[] = {
	"blog", "docs", "v1", "v2", "guide", "about", "help", "shop", "a", "b", "c", "d", "e", "f",
	"g", "h", "i", "z", "files", "x.pdf", "x-1", "page", "api", "apix", "Case", "CASE", "en",
	"", "..", "%62log", "x",
};
static const char *const INDEX_HOSTS[] = {
	NULL, "a.example.com", "B.example.com:8080", "c.example.com", "www.example.com", "zz.example.com",
};

static void index_sweep(const char *prefix)
{
	size_t n = strlen(prefix) + strlen(INDEX_RULES) + 1;
	char *text = malloc(n);
	assert_non_null(text);
	snprintf(text, n, "%s%s", prefix, INDEX_RULES);
	fixture *f = build(text);
	uint64_t x = 12345;
	char url[512];
	size_t nw = sizeof INDEX_WORDS / sizeof *INDEX_WORDS;
	for (int k = 0; k < 3000; k++) {
		size_t len = 0;
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		int nseg = (int)((x >> 33) % 12);
		for (int sgi = 0; sgi < nseg || len == 0; sgi++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			/* the deep rules' own path, a segment at a time, now and then */
			const char *w = (k % 5 == 0 && sgi < 9) ? INDEX_WORDS[8 + sgi]
			                                        : INDEX_WORDS[(x >> 33) % nw];
			len += (size_t)snprintf(url + len, sizeof url - len, "/%s", w);
		}
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		if ((x >> 40) % 4 == 0)
			len += (size_t)snprintf(url + len, sizeof url - len, "/");
		if ((x >> 42) % 4 == 0)
			snprintf(url + len, sizeof url - len, "?q=1");
		agree(f, INDEX_HOSTS[(x >> 50) % (sizeof INDEX_HOSTS / sizeof *INDEX_HOSTS)], url);
	}
	release(f);
	free(text);
}

static void test_pattern_index(void **state)
{
	(void)state;
	index_sweep("");
	index_sweep("set case insensitive\n");
	index_sweep("set trailing-slash strict\n");
	index_sweep("set splat-parent no-match\n");
	index_sweep("set splat-parent no-match\nset trailing-slash strict\n");
}

/* Wildcard host blocks (issue 15): exact and pattern rules of "*.NAME"
 * scopes found for hosts named nowhere, file order between named and
 * wildcard scopes, `:subdomain` in the target's host, path and query
 * (exact and pattern rules) under the longest admitting name, hosts a
 * wildcard must not admit; against the interpreter. */
static const char *WILD_RULES =
    "set hosts www.example.com example.com\n"
    "allow-host *.example.net\n"
    "host *.blog.example.com {\n"
    "    /feed -> https://example.com/feeds/:subdomain.xml\n"
    "    /p/:id -> /posts/:id?blog=:subdomain\n"
    "}\n"
    "host *.example.com, *.eu.example.com {\n"
    "    /old/* -> https://:subdomain.example.net/new/*\n"
    "    /site -> https://example.com/sites/:subdomain?from=:subdomain 302\n"
    "    /item/:id -> /items/:id?sub=:subdomain\n"
    "    /feed -> /all-feeds\n"
    "    /:lang/x -> /x/:lang/:subdomain\n"
    "}\n"
    "host shop.example.com {\n"
    "    /new/x -> /shop-new\n"
    "    /cart -> /basket 307\n"
    "    /old/* -> /shop-old/*\n"
    "}\n"
    "host example.org, *.example.org {\n"
    "    /org/* -> https://www.example.com/org/* 308\n"
    "    /plain -> /plain-org\n"
    "}\n"
    "/plain -> /plain-global\n"
    "/old/* -> /global-old/*\n"
    "/cart -> /global-cart\n"
    "/p/:id -> /global-p/:id\n";

static const char *const WILD_URLS[] = {
	"/old/a/b", "/old", "/old/q?x=1", "/cart", "/site", "/site?q=2", "/item/42", "/item/42?x=y",
	"/feed", "/p/7", "/p/7?z=1", "/org/a/b", "/org", "/plain", "/fr/x", "/new/x", "/nothing",
};
static const char *const WILD_HOSTS[] = {
	NULL, "blog.example.com", "a.b.example.com", "Blog.Example.COM:8080", "blog.example.com.",
	"example.com", "www.example.com", "x-y_z.example.com", "shop.example.com",
	"me.blog.example.com", "a.b.blog.example.com", "a.eu.example.com", "eu.example.com",
	"example.org", "docs.example.org", "a.docs.example.org", "evilexample.com",
	"example.com.evil.org", ".example.com", "a..example.com", "a+b.example.com", "*.example.com",
	"x.example.net",
};

static void test_wildcard_hosts(void **state)
{
	(void)state;
	const char *prefixes[] = { "", "set case insensitive\n", "set trailing-slash strict\n",
	                           "set splat-parent no-match\n" };
	for (size_t p = 0; p < sizeof prefixes / sizeof *prefixes; p++) {
		size_t n = strlen(prefixes[p]) + strlen(WILD_RULES) + 1;
		char *text = malloc(n);
		assert_non_null(text);
		snprintf(text, n, "%s%s", prefixes[p], WILD_RULES);
		fixture *f = build(text);
		for (size_t h = 0; h < sizeof WILD_HOSTS / sizeof *WILD_HOSTS; h++)
			for (size_t u = 0; u < sizeof WILD_URLS / sizeof *WILD_URLS; u++)
				agree(f, WILD_HOSTS[h], WILD_URLS[u]);
		/* a host of more labels than the index walk keeps roots for: every
		 * pattern is tried, same answers */
		char deep[200] = "";
		for (int k = 0; k < 40; k++)
			strcat(deep, "a.");
		strcat(deep, "example.com");
		agree(f, deep, "/old/a");
		agree(f, deep, "/item/1");
		agree(f, deep, "/site");
		release(f);
		free(text);
	}
	/* the answers themselves, not only agreement */
	fixture *f = build(WILD_RULES);
	char buf[256];
	rd_result res;
	assert_int_equal(rd_table_lookup(f->t, "A.B.Example.com:80", "/old/x", 6, "q=1", 3, &res, buf,
	                                 sizeof buf), 301);
	assert_string_equal(buf, "https://a.b.example.net/new/x?q=1");
	assert_int_equal(rd_table_lookup(f->t, "x.eu.example.com", "/site", 5, NULL, 0, &res, buf,
	                                 sizeof buf), 302);
	assert_string_equal(buf, "https://example.com/sites/x?from=x");
	assert_int_equal(rd_table_lookup(f->t, "example.com", "/site", 5, NULL, 0, &res, buf,
	                                 sizeof buf), 0);
	assert_int_equal(rd_table_lookup(f->t, "shop.example.com", "/old/x", 6, NULL, 0, &res, buf,
	                                 sizeof buf), 301);
	assert_string_equal(buf, "https://shop.example.net/new/x");
	release(f);
}

/* `set splat-parent no-match`: the policy bit is stored and honoured. */
static void test_splat_parent(void **state)
{
	(void)state;
	fixture *f = build("set splat-parent no-match\n/docs/* -> /manual/*\n/go* -> /g/*\n");
	rdb_header h;
	memcpy(&h, f->image.data, sizeof h);
	assert_int_equal(h.policy, RD_POLICY_SPLAT_NO_PARENT);
	char buf[256];
	rd_result res;
	assert_int_equal(rd_table_lookup(f->t, NULL, "/docs", 5, NULL, 0, &res, buf, sizeof buf), 0);
	assert_int_equal(rd_table_lookup(f->t, NULL, "/docs/", 6, NULL, 0, &res, buf, sizeof buf), 0);
	assert_int_equal(rd_table_lookup(f->t, NULL, "/docs/a", 7, NULL, 0, &res, buf, sizeof buf), 301);
	assert_string_equal(buf, "/manual/a");
	assert_int_equal(rd_table_lookup(f->t, NULL, "/go", 3, NULL, 0, &res, buf, sizeof buf), 301);
	release(f);
	f = build("/docs/* -> /manual/*\n");
	assert_int_equal(rd_table_lookup(f->t, NULL, "/docs", 5, NULL, 0, &res, buf, sizeof buf), 301);
	assert_string_equal(buf, "/manual/");
	/* a policy bit this library does not know: refused, header checksum
	 * recomputed so that the policy is what is refused */
	char *copy = malloc(f->image.len);
	memcpy(copy, f->image.data, f->image.len);
	uint32_t policy = 0x8;
	memcpy(copy + offsetof(rdb_header, policy), &policy, 4);
	uint64_t sum = rdb_fnv64(RDB_FNV_OFFSET, copy, offsetof(rdb_header, header_checksum));
	memcpy(copy + offsetof(rdb_header, header_checksum), &sum, 8);
	char path[160];
	snprintf(path, sizeof path, "%s/policy.redirdb", tmpdir);
	write_file(path, copy, f->image.len);
	free(copy);
	rd_table *t;
	rd_error err;
	assert_int_equal(rd_table_open(path, &t, &err), RD_E_CORRUPT);
	assert_non_null(strstr(err.message, "policy"));
	release(f);
}

/* More index nodes reached at one depth than a lookup keeps: every
 * pattern is tried in file order, and the answers stay right. */
static void test_pattern_index_overflow(void **state)
{
	(void)state;
	rc_buf text;
	rc_buf_init(&text);
	/* 64 patterns over {a, placeholder}^6: /a/a/a/a/a/a reaches them all */
	for (int m = 0; m < 64; m++) {
		for (int b = 0; b < 6; b++) {
			if ((m >> b) & 1)
				rc_buf_printf(&text, "/:p%d", b);
			else
				rc_buf_adds(&text, "/a");
		}
		rc_buf_printf(&text, "/end%d -> /to/%d\n", m, m);
	}
	rc_buf_addc(&text, '\0');
	fixture *f = build(text.data);
	for (int m = 0; m < 64; m++) {
		char url[128];
		snprintf(url, sizeof url, "/a/a/a/a/a/a/end%d", m);
		agree(f, NULL, url);
		snprintf(url, sizeof url, "/a/q/a/a/a/a/end%d", m);
		agree(f, NULL, url);
	}
	agree(f, NULL, "/a/a/a/a/a/a/x/y");
	/* no host blocks: a request's host costs no probe, answers unchanged */
	agree(f, "www.example.com", "/a/q/a/a/a/a/end3");
	agree(f, "www.example.com", "/a/a/a/a/a/a/end0");
	release(f);
	rc_buf_fini(&text);
}

/* A tampered pattern index is refused on open with the section named, or
 * answers RD_E_CORRUPT, never reads outside the file. */
static void test_pattern_index_corrupt(void **state)
{
	(void)state;
	fixture *f = build("/blog/:y/* -> /b/:y/*\n/:l/about -> /about?l=:l\n");
	rdb_header h;
	memcpy(&h, f->image.data, sizeof h);
	size_t at = (size_t)h.sec[RDB_SEC_PINDEX].off;
	struct {
		size_t off;
		uint32_t value;
	} cases[] = {
		{ offsetof(rdb_pindex_head, depth), RDB_TRIE_DEPTH + 1 },
		{ offsetof(rdb_pindex_head, size), 3 },
		{ offsetof(rdb_pindex_head, size), 1u << 30 },
		{ offsetof(rdb_pindex_head, root_off), UINT32_MAX / 2 },
		{ offsetof(rdb_pindex_head, root_edges), 0x1000 },
		{ offsetof(rdb_pindex_head, reserved), 1 },
	};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		char *copy = malloc(f->image.len);
		memcpy(copy, f->image.data, f->image.len);
		memcpy(copy + at + cases[c].off, &cases[c].value, 4);
		char path[160];
		snprintf(path, sizeof path, "%s/pindex%zu.redirdb", tmpdir, c);
		write_file(path, copy, f->image.len);
		free(copy);
		rd_table *t;
		rd_error err;
		assert_int_equal(rd_table_open(path, &t, &err), RD_E_CORRUPT);
		assert_non_null(strstr(err.message, "pattern index"));
	}
	/* every node's list offset out of the section: RD_E_CORRUPT on a
	 * request that reaches one */
	rdb_pindex_head ph;
	memcpy(&ph, f->image.data + at, sizeof ph);
	char *copy = malloc(f->image.len);
	memcpy(copy, f->image.data, f->image.len);
	for (uint32_t i = 0; i < ph.size; i++) {
		size_t off = at + sizeof ph + sizeof(rdb_node) * i + offsetof(rdb_node, list_off);
		uint32_t bad = UINT32_MAX / 8;
		memcpy(copy + off, &bad, 4);
	}
	rd_table *t = open_image(copy, f->image.len, "pindex-lists");
	char buf[256];
	rd_result res;
	assert_int_equal(rd_table_lookup(t, NULL, "/blog/1/x", 9, NULL, 0, &res, buf, sizeof buf),
	                 RD_E_CORRUPT);
	assert_int_equal(rd_table_lookup(f->t, NULL, "/blog/1/x", 9, NULL, 0, &res, buf, sizeof buf), 301);
	rd_table_close(t);
	release(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups_and_host_order),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_buffer_and_long_path),
		cmocka_unit_test(test_cmph_path),
		cmocka_unit_test(test_truncation_every_offset),
		cmocka_unit_test(test_byte_flips),
		cmocka_unit_test(test_control_byte_in_location),
		cmocka_unit_test(test_endian_version_magic),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_rule_info),
		cmocka_unit_test(test_target_capture_not_bound),
		cmocka_unit_test(test_pattern_index),
		cmocka_unit_test(test_pattern_index_overflow),
		cmocka_unit_test(test_pattern_index_corrupt),
		cmocka_unit_test(test_wildcard_hosts),
		cmocka_unit_test(test_splat_parent),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
