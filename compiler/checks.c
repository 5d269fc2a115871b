/*
 * checks.c - policy checks (expired, require owner/note/expect) and the
 * expectations; the rule-set analysis lives in analysis.c.
 */
#include "compiler/analysis.h"
#include "compiler/checks.h"
#include "compiler/requests.h"

#include <stdlib.h>
#include <string.h>

int rc_location_equal(const char *a, const char *b)
{
	size_t i = 0, j = 0;
	while (a[i] && b[j]) {
		char ca = a[i], cb = b[j];
		if (ca == '%' && cb == '%' && a[i + 1] && a[i + 2] && b[j + 1] && b[j + 2]) {
			for (int k = 1; k <= 2; k++) {
				char x = a[i + k], y = b[j + k];
				if (x >= 'a' && x <= 'f')
					x = (char)(x - 32);
				if (y >= 'a' && y <= 'f')
					y = (char)(y - 32);
				if (x != y)
					return 0;
			}
			i += 3;
			j += 3;
			continue;
		}
		if (ca != cb)
			return 0;
		i++;
		j++;
	}
	return a[i] == b[j];
}

/* What a request got, for messages: "pass", "410" or "STATUS LOCATION". */
static char *describe(int matched, int invalid, int status, const char *location)
{
	rc_buf b;
	rc_buf_init(&b);
	if (!matched)
		rc_buf_adds(&b, invalid ? "pass (the path has an invalid %-escape)" : "pass");
	else if (status == 410)
		rc_buf_adds(&b, "410");
	else
		rc_buf_printf(&b, "%d %s", status, location);
	return b.data;
}

/* Whether an answer is what expectation e states; the one judgement of
 * rc_expect_holds and of the checks. */
static int expect_judge(const rc_expect *e, int matched, int invalid, int status,
                        const char *location, char **actual)
{
	int ok = 0;
	switch (e->kind) {
	case RC_EXPECT_PASS:
		ok = !matched;
		break;
	case RC_EXPECT_GONE:
		ok = matched && status == 410;
		break;
	case RC_EXPECT_REDIRECT:
		ok = matched && status == e->status && location && rc_location_equal(location, e->target);
		break;
	default:
		ok = 0;
	}
	if (actual)
		*actual = describe(matched, invalid, status, location);
	return ok;
}

int rc_expect_holds(const rc_ir *ir, const rc_expect *e, char **actual)
{
	rc_answer ans;
	rc_ir_answer(ir, e->host, e->path, strlen(e->path), e->query, e->query_len, &ans);
	int ok = expect_judge(e, ans.matched, ans.invalid, ans.status, ans.location, actual);
	rc_answer_fini(&ans);
	return ok;
}

/* The answer to an expectation's request through the resolver (the rule
 * index: one lookup, not a scan of every rule; fuzz_parse checks that it
 * answers as rc_ir_answer does). */
static void expect_answer(rc_resolver *rv, const rc_expect *e, rc_fast_answer *ans)
{
	rc_resolve(rv, e->host, e->path, strlen(e->path), e->query, e->query_len, 1, ans);
}

static void check_expired(rc_ir *ir, int today)
{
	for (size_t i = 0; i < ir->rules.len; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (r->expires && today > 0 && r->expires < today)
			rc_diag_add(ir->diags, RC_SEV_WARNING, "expired", r->loc,
			            "rule '%s' expired on %04d-%02d-%02d; delete it or move the date",
			            r->source_text, r->expires / 10000, r->expires / 100 % 100,
			            r->expires % 100);
	}
}

static void check_required(rc_ir *ir)
{
	unsigned req = ir->settings.require;
	for (size_t i = 0; i < ir->rules.len; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if ((req & RC_REQUIRE_OWNER) && !r->owner)
			rc_diag_add(ir->diags, RC_SEV_ERROR, "missing-owner", r->loc,
			            "rule '%s' has no owner, expected 'owner NAME' (set require owner)",
			            r->source_text);
		if ((req & RC_REQUIRE_NOTE) && !r->note)
			rc_diag_add(ir->diags, RC_SEV_ERROR, "missing-note", r->loc,
			            "rule '%s' has no note, expected 'note \"…\"' (set require note)",
			            r->source_text);
	}
	if (!(req & RC_REQUIRE_EXPECT))
		return;
	char *reached = calloc(ir->rules.len + 1, 1);
	rc_resolver rv;
	rc_resolver_init(&rv, ir);
	for (size_t i = 0; i < ir->expects.len; i++) {
		rc_fast_answer ans;
		expect_answer(&rv, RC_VEC_AT(&ir->expects, rc_expect, i), &ans);
		if (ans.matched && ans.rule >= 0)
			reached[ans.rule] = 1;
	}
	rc_resolver_fini(&rv);
	for (size_t i = 0; i < ir->rules.len; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		if (!reached[i])
			rc_diag_add(ir->diags, RC_SEV_ERROR, "untested", r->loc,
			            "no expect line reaches rule '%s' as its first match (set require expect)",
			            r->source_text);
	}
	free(reached);
}

static void check_expects(rc_ir *ir)
{
	if (ir->expects.len == 0)
		return;
	rc_resolver rv;
	rc_resolver_init(&rv, ir);
	for (size_t i = 0; i < ir->expects.len; i++) {
		const rc_expect *e = RC_VEC_AT(&ir->expects, rc_expect, i);
		rc_fast_answer ans;
		expect_answer(&rv, e, &ans);
		char *actual = NULL;
		if (!expect_judge(e, ans.matched, ans.invalid, ans.status, ans.location, &actual)) {
			rc_buf want;
			rc_buf_init(&want);
			if (e->kind == RC_EXPECT_PASS)
				rc_buf_adds(&want, "pass");
			else if (e->kind == RC_EXPECT_GONE)
				rc_buf_adds(&want, "410");
			else
				rc_buf_printf(&want, "%d %s", e->status, e->target);
			rc_diag_add(ir->diags, RC_SEV_ERROR, "expect", e->loc,
			            "expectation failed for '%s': expected %s, got %s",
			            e->url_text, want.data, actual);
			if (ans.matched && ans.rule >= 0) {
				const rc_rule *r = rc_ir_rule(ir, (size_t)ans.rule);
				rc_diag_note(ir->diags, r->loc, "the request matches rule '%s' first",
				             r->source_text);
			}
			rc_buf_fini(&want);
		}
		free(actual);
	}
	rc_resolver_fini(&rv);
}

void rc_check_all(rc_ir *ir, const rc_check_opts *opts)
{
	if (opts->flatten)
		rc_flatten(ir);
	rc_check_analysis(ir);
	check_expired(ir, opts->today);
	check_required(ir);
	if (opts->run_expects)
		check_expects(ir);
}
