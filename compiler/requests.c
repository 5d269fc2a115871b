/*
 * requests.c - fast answers and concrete requests (requests.h).
 */
#include <stdlib.h>
#include <string.h>

#include "compiler/requests.h"

void rc_resolver_init(rc_resolver *rv, const rc_ir *ir)
{
	memset(rv, 0, sizeof *rv);
	rv->ir = ir;
	rc_index_init(&rv->index, ir);
	rv->norm_cap = 256;
	rv->norm = rc_xmalloc(rv->norm_cap);
	rv->loc_cap = 256;
	rv->loc = rc_xmalloc(rv->loc_cap);
}

void rc_resolver_fini(rc_resolver *rv)
{
	rc_index_fini(&rv->index);
	free(rv->norm);
	free(rv->loc);
}

void rc_resolve(rc_resolver *rv, const char *host, const char *path, size_t path_len,
                const char *query, size_t query_len, int want_location,
                rc_fast_answer *ans)
{
	memset(ans, 0, sizeof *ans);
	ans->rule = -1;
	if (path_len + 2 > rv->norm_cap) {
		rv->norm_cap = path_len + 2 > 2 * rv->norm_cap ? path_len + 2 : 2 * rv->norm_cap;
		rv->norm = rc_xrealloc(rv->norm, rv->norm_cap);
	}
	size_t norm_len;
	rv->norm_len = 0;
	if (rd_path_normalize(path, path_len, rv->ir->policy, rv->norm, &norm_len) != 0) {
		ans->invalid = 1;
		return;
	}
	rv->norm_len = norm_len;
	int scoped = 0;
	int64_t ri = rc_index_resolve(&rv->index, host, rv->norm, norm_len, RC_HEAD_UNKNOWN, &scoped);
	if (ri < 0)
		return;
	const rc_rule *r = rc_ir_rule(rv->ir, (size_t)ri);
	ans->matched = 1;
	ans->rule = ri;
	ans->status = r->status;
	if (r->gone || !want_location)
		return;
	rd_rule view;
	rc_rule_view(rv->ir, r, &view);
	rd_span caps[RD_MAX_CAPTURES];
	if (!rd_pattern_match(r->src, r->nsrc, rv->norm, norm_len, rv->ir->policy, caps))
		return; /* cannot happen: the index found it; keep the status */
	size_t need = rd_location_build_host(&view, host, rv->norm, caps, query, query_len,
	                                     rv->loc, rv->loc_cap);
	if (need + 1 > rv->loc_cap) {
		rv->loc_cap = need + 1;
		rv->loc = rc_xrealloc(rv->loc, rv->loc_cap);
		rd_location_build_host(&view, host, rv->norm, caps, query, query_len, rv->loc,
		                       rv->loc_cap);
	}
	ans->location = rv->loc;
}

/* Append decoded bytes percent-encoded for a request path. */
static void add_encoded(rc_buf *b, const char *s, size_t n)
{
	size_t need = rd_encode_capture(s, n, RD_PART_PATH, NULL, 0);
	rc_buf_reserve(b, need + 1);
	rd_encode_capture(s, n, RD_PART_PATH, b->data + b->len, need + 1);
	b->len += need;
	b->data[b->len] = '\0';
}

/* Sample text for placeholders and splats: plain lower-case words, so they
 * survive every normalization and case policy unchanged. */
static const char *const sample_words[] = { "redirc-sample", "x1", "a", "zz-probe", "s2", "q" };

size_t rc_rule_samples(rc_arena *a, const rc_rule *r, unsigned variant, size_t max,
                       rc_vec *out)
{
	size_t added = 0;
	if (max == 0)
		return 0;
	size_t nwords = sizeof sample_words / sizeof sample_words[0];
	const char *word = sample_words[variant % nwords];
	/* instance 0: placeholders = word, splat = "word/p"; instance 1: the
	 * splat empty (the bare parent for a source ending in '/'). */
	for (int inst = 0; inst < 2 && added < max; inst++) {
		if (inst == 1 && !r->has_splat)
			break;
		rc_buf b;
		rc_buf_init(&b);
		for (uint32_t i = 0; i < r->nsrc; i++) {
			const rd_ptok *t = &r->src[i];
			if (t->kind == RD_PTOK_LIT) {
				add_encoded(&b, t->text, t->len);
			} else if (t->kind == RD_PTOK_PARAM) {
				rc_buf_adds(&b, word);
			} else if (inst == 0) {
				rc_buf_adds(&b, word);
				rc_buf_adds(&b, "/p");
			}
		}
		if (b.len == 0)
			rc_buf_addc(&b, '/');
		*(char **)rc_vec_push(out) = rc_arena_strndup(a, b.data, b.len);
		rc_buf_fini(&b);
		added++;
	}
	return added;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

const char *rc_sample_host(rc_arena *a, const rc_resolver *rv, const char *name)
{
	if (!name || name[0] != '*')
		return name;
	/* "redirc-sample.NAME" is admitted by exactly the wildcards that admit
	 * "_.NAME" (one label before NAME); unless a block or `set hosts`
	 * names it */
	const char *h = rc_arena_printf(a, "redirc-sample%s", name + 1);
	const rc_index *x = &rv->index;
	int named = x->nnames && bsearch(&h, x->names, x->nnames, sizeof(char *), cmp_name);
	for (size_t i = 0; i < rv->ir->served_hosts.len && !named; i++)
		named = strcmp(*RC_VEC_AT(&rv->ir->served_hosts, char *, i), h) == 0;
	return named ? rc_arena_printf(a, "_%s", name + 1) : h;
}

const char *rc_probe_origin_name(enum rc_probe_origin o)
{
	switch (o) {
	case RC_PROBE_EXPECT: return "expect";
	case RC_PROBE_EXACT: return "exact rule";
	case RC_PROBE_PATTERN: return "pattern rule";
	case RC_PROBE_URL: return "--urls";
	default: return "bug: unknown origin";
	}
}

static void probe_add(rc_vec *out, const char *host, const char *path, const char *query,
                      size_t query_len, enum rc_probe_origin origin, rc_loc where)
{
	rc_probe *p = rc_vec_push(out);
	p->host = host;
	p->path = path;
	p->query = query;
	p->query_len = query_len;
	p->origin = origin;
	p->where = where;
}

/* Distinct sample variants tried per pattern rule before giving up. */
#define PATTERN_VARIANTS 6

void rc_plan_probes(rc_arena *a, rc_resolver *rv, const char *default_host,
                    unsigned per_pattern, rc_vec *out)
{
	const rc_ir *ir = rv->ir;
	for (size_t i = 0; i < ir->expects.len; i++) {
		const rc_expect *e = RC_VEC_AT(&ir->expects, rc_expect, i);
		probe_add(out, e->host, e->path, e->query, e->query_len, RC_PROBE_EXPECT, e->loc);
	}
	rc_vec samples;
	rc_vec_init(&samples, sizeof(char *));
	for (size_t i = 0; i < ir->rules.len; i++) {
		const rc_rule *r = rc_ir_rule(ir, i);
		const char *host = default_host;
		if (r->scope >= 0)
			host = rc_sample_host(a, rv, RC_VEC_AT(&ir->scopes, rc_scope, r->scope)->hosts[0]);
		samples.len = 0;
		if (!r->is_pattern) {
			rc_rule_samples(a, r, 0, 1, &samples);
			probe_add(out, host, *RC_VEC_AT(&samples, char *, 0), NULL, 0, RC_PROBE_EXACT,
			          r->loc);
			continue;
		}
		unsigned kept = 0;
		for (unsigned v = 0; v < PATTERN_VARIANTS && kept < per_pattern; v++) {
			samples.len = 0;
			rc_rule_samples(a, r, v, 2, &samples);
			for (size_t j = 0; j < samples.len && kept < per_pattern; j++) {
				const char *path = *RC_VEC_AT(&samples, char *, j);
				int dup = 0;
				for (size_t k = out->len - kept; k < out->len; k++)
					dup |= strcmp(RC_VEC_AT(out, rc_probe, k)->path, path) == 0;
				if (dup)
					continue;
				rc_fast_answer ans;
				rc_resolve(rv, host, path, strlen(path), NULL, 0, 0, &ans);
				if (ans.rule != (int64_t)i)
					continue; /* an earlier rule takes it */
				probe_add(out, host, path, NULL, 0, RC_PROBE_PATTERN, r->loc);
				kept++;
			}
		}
	}
	rc_vec_fini(&samples);
}
