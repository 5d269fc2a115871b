/*
 * ir_fixture.h - the unit tests' fixture: a rule text loaded into an IR
 * (file name "t.redir", today 2026-11-26).  Include after cmocka.h.
 */
#ifndef RC_TEST_IR_FIXTURE_H
#define RC_TEST_IR_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "grammar/grammar.h"

typedef struct fixture {
	rc_diags diags;
	rc_ir ir;
} fixture;

static inline fixture *load(const char *text)
{
	fixture *f = calloc(1, sizeof *f);
	rc_diags_init(&f->diags);
	rc_ir_init(&f->ir, &f->diags);
	rc_load_text(&f->ir, "t.redir", text, strlen(text));
	return f;
}

static inline void release(fixture *f)
{
	rc_ir_fini(&f->ir);
	rc_diags_fini(&f->diags);
	free(f);
}

#endif /* RC_TEST_IR_FIXTURE_H */
