/*
 * fuzz_import.c - libFuzzer harness for the importers (issue 15): the first
 * byte chooses the format (netlify, cloudflare-pages, tsv, csv, nginx,
 * apache; bit 3 reads it as netlify.toml), the rest is the file.
 *
 * The file is imported, resolved and written as .redir text, which is then
 * loaded and checked (expectations included).  Must never crash, leak or
 * hang.  Invariants asserted:
 *   - the written text has no syntax, bad-url, bad-status, bad-setting,
 *     bad-host or unbound error: the writer's quoting and the readers'
 *     refusals are right;
 *   - every expect line holds: redirc answers each sample request as the
 *     importer's own reading of the platform does (the translation proof);
 *   - the diagnostics print without raw control bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/checks.h"
#include "compiler/ir.h"
#include "grammar/grammar.h"
#include "import/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TODAY 20261126
#define MAX_INPUT (128 * 1024)

static void fail(const char *what, const rc_diags *d, const char *text, size_t n)
{
	fprintf(stderr, "fuzz_import: invariant broken: %s\n--- written text ---\n%.*s\n--- diagnostics ---\n",
	        what, (int)(n > 4000 ? 4000 : n), text);
	rc_diags_print_text(d, stderr, 0);
	abort();
}

static void print_and_check(const rc_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return;
	rc_diags_print_text(d, f, 0);
	rc_diags_print_json(d, f);
	fclose(f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
			fprintf(stderr, "fuzz_import: raw control byte 0x%02x in the diagnostics\n", c);
			abort();
		}
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > MAX_INPUT)
		return 0;
	enum imp_format fmt = (enum imp_format)((data[0] & 7) % 6);
	int toml = (data[0] & 8) && fmt <= IMP_CF_PAGES;
	const char *path = toml ? "netlify.toml" : "input";

	rc_diags diags;
	rc_diags_init(&diags);
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	int32_t file = rc_diags_add_file(&diags, path, text, size - 1, -1, RC_NOLOC);
	const rc_file *rf = rc_diags_file(&diags, file);
	imp_doc doc;
	imp_doc_init(&doc, fmt, &diags);
	imp_read(&doc, file, rf->path, rf->text, rf->len);
	imp_resolve(&doc);
	print_and_check(&diags);
	rc_buf out;
	rc_buf_init(&out);
	imp_write(&doc, &out, "fuzz");
	imp_doc_fini(&doc);

	rc_diags d2;
	rc_diags_init(&d2);
	rc_ir ir;
	rc_ir_init(&ir, &d2);
	rc_load_text(&ir, "out.redir", out.data ? out.data : "", out.len);
	rc_check_opts co = { TODAY, 1, 0 };
	rc_check_all(&ir, &co);
	static const char *const broken[] = { "syntax", "bad-url", "bad-status", "bad-setting",
	                                      "bad-host", "unbound", "expect", NULL };
	for (size_t i = 0; i < d2.records.len; i++) {
		const rc_diag *g = RC_VEC_AT(&d2.records, rc_diag, i);
		for (size_t k = 0; broken[k]; k++)
			if (g->severity == RC_SEV_ERROR && strcmp(g->name, broken[k]) == 0)
				fail(g->name, &d2, out.data, out.len);
	}
	rc_ir_fini(&ir);
	rc_diags_fini(&d2);
	rc_buf_fini(&out);
	rc_diags_fini(&diags);
	return 0;
}
