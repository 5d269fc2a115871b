/*
 * test_analysis.c - rule-set analysis: the names and places of duplicate,
 * shadowed, loop, unbounded and chain diagnostics, and --flatten (after
 * flattening the chain check finds nothing and every request gets the same
 * response as before).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "grammar/grammar.h"
#include "compiler/analysis.h"
#include "compiler/checks.h"
#include "compiler/requests.h"
#include "compiler/behaviour_diff.h"

#include "tests/unit/ir_fixture.h"

static size_t count(const rc_diags *d, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < d->records.len; i++)
		n += strcmp(RC_VEC_AT(&d->records, rc_diag, i)->name, name) == 0;
	return n;
}

static const rc_diag *find(const rc_diags *d, const char *name)
{
	for (size_t i = 0; i < d->records.len; i++)
		if (strcmp(RC_VEC_AT(&d->records, rc_diag, i)->name, name) == 0)
			return RC_VEC_AT(&d->records, rc_diag, i);
	return NULL;
}

/* Follow a request through its redirects (hosts served by `chained`):
 * "STATUS-OF-FIRST-HOP FINAL-LOCATION HOPS", or the first answer. */
static char *follow(fixture *f, const char *host, const char *path, const char *query)
{
	char h[256] = "", p[512], q[512] = "", last[1024] = "";
	int status = 0, hops = 0, has_host = host != NULL, has_query = query != NULL;
	if (host)
		snprintf(h, sizeof h, "%s", host);
	snprintf(p, sizeof p, "%s", path);
	if (query)
		snprintf(q, sizeof q, "%s", query);
	for (;;) {
		rc_answer a;
		rc_ir_answer(&f->ir, has_host ? h : NULL, p, strlen(p), has_query ? q : NULL,
		             has_query ? strlen(q) : 0, &a);
		if (!a.matched || !a.location || hops == 10) {
			rc_answer_fini(&a);
			break;
		}
		if (hops++ == 0)
			status = a.status;
		snprintf(last, sizeof last, "%s", a.location);
		rc_answer_fini(&a);
		const char *s = last;
		if (strncmp(s, "https://", 8) == 0) {
			const char *e = s + 8 + strcspn(s + 8, "/?#");
			snprintf(h, sizeof h, "%.*s", (int)(e - s - 8), s + 8);
			has_host = 1;
			s = e;
			if (strcmp(h, "www.example.com") != 0 && strcmp(h, "shop.example.com") != 0)
				break;
		}
		size_t pl = strcspn(s, "?#");
		snprintf(p, sizeof p, "%.*s", (int)(pl ? pl : 1), pl ? s : "/");
		has_query = s[pl] == '?';
		if (has_query)
			snprintf(q, sizeof q, "%.*s", (int)strcspn(s + pl + 1, "#"), s + pl + 1);
	}
	char *out = malloc(1200);
	snprintf(out, 1200, "%d %s %d", status, last, hops);
	return out;
}

static void test_shadowed_note(void **state)
{
	(void)state;
	fixture *f = load("/blog/* -> /articles/*\n/blog/feed.xml -> /articles/feed.xml\n");
	rc_check_analysis(&f->ir);
	const rc_diag *d = find(&f->diags, "shadowed");
	assert_non_null(d);
	assert_int_equal(d->loc.line, 2);
	assert_int_equal(d->notes.len, 1);
	const rc_note *n = RC_VEC_AT(&d->notes, rc_note, 0);
	assert_int_equal(n->loc.line, 1);
	assert_string_equal(n->message, "'/blog/*' already matches every request of '/blog/feed.xml'");
	release(f);
}

static void test_loop_and_unbounded(void **state)
{
	(void)state;
	fixture *f = load("/x -> /y\n/a -> /b?q=1\n/b -> /a\n/g/* -> /g/b/*\n");
	rc_check_analysis(&f->ir);
	const rc_diag *d = find(&f->diags, "loop");
	assert_non_null(d);
	assert_int_equal(d->loc.line, 2);
	assert_int_equal(d->notes.len, 2);
	d = find(&f->diags, "unbounded");
	assert_non_null(d);
	assert_int_equal(d->loc.line, 4);
	assert_int_equal(count(&f->diags, "chain"), 0);
	release(f);
}

static const char *const chained =
	"set hosts www.example.com\n"
	"/a -> /b 302\n"
	"/b -> /c?from=b 308\n"
	"/c -> https://www.example.com/d#top\n"
	"/k -> /l query drop\n"
	"/l -> /m\n"
	"/p -> /blog/x\n"
	"/blog/* -> /articles/*\n"
	"/h -> /hh\n"
	"host shop.example.com {\n"
	"    /hh -> /shop\n"
	"}\n";

static void test_flatten(void **state)
{
	(void)state;
	static const char *const reqs[][2] = {
		{ "/a", NULL }, { "/a", "x=1" }, { "/k", "y=2" }, { "/p", "z" },
		{ "/blog/q", NULL }, { "/h", NULL }, { "/a", "" },
	};
	size_t nreq = sizeof reqs / sizeof reqs[0];
	fixture *f = load(chained);
	rc_check_analysis(&f->ir);
	assert_int_equal(f->diags.errors, 0);
	assert_true(count(&f->diags, "chain") >= 4);
	char *before[16];
	for (size_t i = 0; i < nreq; i++)
		before[i] = follow(f, NULL, reqs[i][0], reqs[i][1]);
	char *before_shop = follow(f, "shop.example.com", "/h", NULL);
	size_t n = rc_flatten(&f->ir);
	assert_true(n >= 4);
	/* the same final Location and first status, now in one hop */
	for (size_t i = 0; i < nreq; i++) {
		char *after = follow(f, NULL, reqs[i][0], reqs[i][1]);
		/* "STATUS LOCATION HOPS": the same but for the hop count */
		*strrchr(before[i], ' ') = '\0';
		char *hops = strrchr(after, ' ');
		*hops = '\0';
		assert_string_equal(after, before[i]);
		assert_true(strcmp(hops + 1, "1") == 0 || strcmp(hops + 1, "0") == 0);
		free(after);
		free(before[i]);
	}
	char *after_shop = follow(f, "shop.example.com", "/h", NULL);
	assert_string_equal(after_shop, before_shop);
	free(after_shop);
	free(before_shop);
	/* re-run the analysis on fresh diagnostics: no chain is left but the
	 * one that depends on the Host (a global rule that chains only on
	 * shop.example.com is not rewritten: its other hosts take one hop) */
	rc_diags fresh;
	rc_diags_init(&fresh);
	rc_diags *old = f->ir.diags;
	f->ir.diags = &fresh;
	rc_check_analysis(&f->ir);
	assert_int_equal(count(&fresh, "chain"), 1);
	assert_int_equal(find(&fresh, "chain")->loc.line, 9);
	assert_int_equal(fresh.errors, 0);
	f->ir.diags = old;
	rc_diags_fini(&fresh);
	release(f);
}

/* Issue 13: cycles that need particular segment values, found by the
 * symbolic search; the witness is the request that loops. */
static void test_value_loops(void **state)
{
	(void)state;
	fixture *f = load("/a/:v/n -> /b/n/:v\n/b/:w/m -> /a/m/:w\n/a/:v/n/* -> /a/n/:v/n/*\n");
	rc_check_analysis(&f->ir);
	const rc_diag *d = find(&f->diags, "loop");
	assert_non_null(d);
	assert_int_equal(d->loc.line, 1);
	assert_string_equal(d->message, "redirect loop: '/a/m/n' comes back to itself after 2 redirects");
	/* rule 3 answers the longer paths, /a/n/n/x grows */
	assert_int_equal(count(&f->diags, "unbounded"), 1);
	assert_int_equal(find(&f->diags, "unbounded")->loc.line, 3);
	release(f);
	f = load("/a/:v/n/* -> /a/n/:v/n/*\n");
	rc_check_analysis(&f->ir);
	d = find(&f->diags, "unbounded");
	assert_non_null(d);
	assert_int_equal(d->loc.line, 1);
	assert_int_equal(count(&f->diags, "loop"), 0);
	release(f);
	/* the near miss: the value that would loop is taken first by an exact rule */
	f = load("/a/n/n -> /done\n/a/:v/n -> /a/n/:v\n");
	rc_check_analysis(&f->ir);
	assert_int_equal(count(&f->diags, "loop"), 0);
	assert_int_equal(count(&f->diags, "undecided"), 0);
	release(f);
}

/* Issue 13: six levels of ten literal rules and a catch-all shadow the last
 * rule, decided (never `undecided`). */
static void test_deep_shadowing(void **state)
{
	(void)state;
	rc_buf b;
	rc_buf_init(&b);
	for (int l = 0; l < 6; l++)
		for (int j = 0; j < 10; j++) {
			for (int i = 0; i < 7; i++)
				if (i == l)
					rc_buf_printf(&b, "/l%d%d", l, j);
				else
					rc_buf_printf(&b, "/:%c", "abcdefg"[i]);
			rc_buf_printf(&b, " -> /t%d%d\n", l, j);
		}
	rc_buf_adds(&b, "/:a/:b/:c/:d/:e/:f/:g -> /all\n/:a/:b/:c/:d/:e/:f/lit -> /never\n");
	fixture *f = load(b.data);
	rc_check_analysis(&f->ir);
	const rc_diag *d = find(&f->diags, "shadowed");
	assert_non_null(d);
	assert_int_equal(d->loc.line, 62);
	assert_int_equal(count(&f->diags, "shadowed"), 1);
	assert_int_equal(count(&f->diags, "undecided"), 0);
	release(f);
	rc_buf_fini(&b);
}

/* Issue 13: a chain is warned at every first-hop rule; rc_check_all with
 * flatten rewrites first, so the chains it removed are not warned. */
static void test_chain_every_rule(void **state)
{
	(void)state;
	fixture *f = load("/a -> /b\n/b -> /c\n/c -> /d\n/go/* -> /*\n");
	rc_check_analysis(&f->ir);
	assert_int_equal(count(&f->diags, "chain"), 3);
	release(f);
	f = load("/a -> /b\n/b -> /c\n/c -> /d\n/go/* -> /*\n");
	rc_check_opts co = { 20261126, 0, 1 };
	rc_check_all(&f->ir, &co);
	assert_int_equal(count(&f->diags, "chain"), 1); /* only the pattern chain */
	assert_int_equal(find(&f->diags, "chain")->loc.line, 4);
	release(f);
}

/* Issue 15: the index the checks ask (rc_resolve, and the Location it
 * builds with the request's host) gives rc_ir_answer's answer for every
 * request, under splat-parent no-match (with both trailing-slash policies)
 * and with wildcard host blocks. */
static const char *const i15_sets[] = {
	"set splat-parent no-match\n/x/* -> /y/*\n/x -> /bare\n/y/:id/* -> /p/:id/*\n"
	"/go* -> /g/*\n/* gone\n",
	"set splat-parent no-match\nset trailing-slash strict\n/x/a/ -> /slash\n/x/* -> /y/*\n"
	"/x -> /bare\n/y/:id/* -> /p/:id/*\n",
	"set hosts example.com\n"
	"host *.blog.example.com {\n  /feed -> https://example.com/f/:subdomain\n}\n"
	"host *.example.com {\n  /old/* -> https://:subdomain.example.com/new/*\n"
	"  /feed -> /all/:subdomain\n}\n"
	"host shop.example.com, *.shop.example.com {\n  /old/x -> /never\n  /cart -> /basket\n}\n"
	"/old/* -> /global/*\n/cart -> /global-cart\n",
};

static void test_i15_index_agrees(void **state)
{
	(void)state;
	static const char *const hosts[] = {
		NULL, "example.com", "shop.example.com", "a.shop.example.com", "x.example.com",
		"a.b.example.com", "me.blog.example.com", "blog.example.com", "x_y.example.com",
		"evilexample.com", "_.example.com",
	};
	static const char *const paths[] = {
		"/", "/x", "/x/", "/x/a", "/x/a/", "/x/a/b", "/go", "/gone", "/old", "/old/",
		"/old/x", "/old/x/y", "/feed", "/cart", "/other",
	};
	for (size_t s = 0; s < sizeof i15_sets / sizeof i15_sets[0]; s++) {
		fixture *f = load(i15_sets[s]);
		assert_int_equal(f->diags.errors, 0);
		rc_resolver rv;
		rc_resolver_init(&rv, &f->ir);
		for (size_t h = 0; h < sizeof hosts / sizeof hosts[0]; h++)
			for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
				rc_answer want;
				rc_ir_answer(&f->ir, hosts[h], paths[p], strlen(paths[p]), NULL, 0, &want);
				rc_fast_answer got;
				rc_resolve(&rv, hosts[h], paths[p], strlen(paths[p]), NULL, 0, 1, &got);
				assert_int_equal(got.rule, want.matched ? (int64_t)want.rule->index : -1);
				if (want.location)
					assert_string_equal(got.location, want.location);
				rc_answer_fini(&want);
			}
		rc_resolver_fini(&rv);
		/* and the checks run without a finding (the sets are clean) */
		rc_check_analysis(&f->ir);
		assert_int_equal(count(&f->diags, "loop") + count(&f->diags, "unbounded") +
		                 count(&f->diags, "undecided"), 0);
		release(f);
	}
}

/* Issue 15: --flatten leaves alone a chain whose Location is made from the
 * Host (:subdomain), and a loop through two wildcard blocks names a host
 * the wildcards admit, replayed through the runtime. */
static void test_i15_subdomain(void **state)
{
	(void)state;
	fixture *f = load("host *.a.com {\n  /x -> /y/:subdomain\n  /y/* -> /z/*\n}\n");
	assert_int_equal(rc_flatten(&f->ir), 0);
	release(f);
	f = load("host *.a.com {\n  /* -> https://:subdomain.b.com/*\n}\n"
	         "host *.b.com {\n  /* -> https://:subdomain.a.com/*\n}\n");
	rc_check_analysis(&f->ir);
	const rc_diag *d = find(&f->diags, "loop");
	assert_non_null(d);
	assert_int_equal(d->loc.line, 2);
	assert_string_equal(d->message, "redirect loop: 'http://_.a.com/' comes back to itself after 2 redirects");
	release(f);
	/* the wildcard's rules answer shop.example.com first: the named rule is
	 * shadowed; a global rule after them is not (example.com reaches it) */
	f = load("set hosts example.com\nhost *.example.com {\n  /old/* -> /new/*\n}\n"
	         "host shop.example.com {\n  /old/x -> /shop\n}\n/old/x -> /global\n");
	rc_check_analysis(&f->ir);
	assert_int_equal(count(&f->diags, "shadowed"), 1);
	assert_int_equal(find(&f->diags, "shadowed")->loc.line, 6);
	release(f);
}

/* Issue 15: `redirc diff` asks a wildcard block for a host it admits and
 * follows a :subdomain Location onto the host it names (a served
 * wildcard), so a change on that second host shows as a changed chain;
 * and the bare parent that splat-parent no-match stops matching shows. */
static void test_i15_diff(void **state)
{
	(void)state;
	fixture *o = load("host *.a.com {\n  /p/* -> https://:subdomain.b.com/q/*\n}\n"
	                  "host *.b.com {\n  /q/* -> /one\n}\n");
	fixture *n = load("host *.a.com {\n  /p/* -> https://:subdomain.b.com/q/*\n}\n"
	                  "host *.b.com {\n  /q/* -> /two\n}\n");
	rc_bdiff d;
	rc_bdiff_run(&d, &o->ir, &n->ir);
	assert_int_equal(d.changed.len, 1);
	int chain = 0;
	for (size_t i = 0; i < d.requests.len; i++) {
		const rc_bdiff_request *q = RC_VEC_AT(&d.requests, rc_bdiff_request, i);
		assert_non_null(q->host);
		assert_true(q->host[0] != '*');
		if (q->kind == RC_BD_CHAIN) {
			chain = 1;
			assert_string_equal(q->host, "redirc-sample.a.com");
			assert_true(strncmp(q->before.location, "https://redirc-sample.b.com/q/", 30) == 0);
		}
	}
	assert_true(chain);
	rc_bdiff_fini(&d);
	release(o);
	release(n);
	o = load("/x/* -> /y/*\n");
	n = load("set splat-parent no-match\n/x/* -> /y/*\n");
	rc_bdiff_run(&d, &o->ir, &n->ir);
	int bare = 0;
	for (size_t i = 0; i < d.requests.len; i++) {
		const rc_bdiff_request *q = RC_VEC_AT(&d.requests, rc_bdiff_request, i);
		if (strcmp(q->path, "/x/") == 0) { /* the splat empty: /x once normalized */
			bare = 1;
			assert_int_equal(q->before.status, 301);
			assert_int_equal(q->after.status, 0);
		}
	}
	assert_true(bare);
	rc_bdiff_fini(&d);
	release(o);
	release(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shadowed_note),
		cmocka_unit_test(test_loop_and_unbounded),
		cmocka_unit_test(test_flatten),
		cmocka_unit_test(test_value_loops),
		cmocka_unit_test(test_deep_shadowing),
		cmocka_unit_test(test_chain_every_rule),
		cmocka_unit_test(test_i15_index_agrees),
		cmocka_unit_test(test_i15_subdomain),
		cmocka_unit_test(test_i15_diff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
