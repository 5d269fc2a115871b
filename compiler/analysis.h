/*
 * analysis.h - the rule-set analysis of spec section 4 (analysis.c), over
 * the index of rule_index.h: open-redirect, duplicate, shadowed, loop,
 * unbounded and chain; and --flatten.
 */
#ifndef RC_ANALYSIS_H
#define RC_ANALYSIS_H

#include <stddef.h>

#include "compiler/ir.h"

/* Duplicate, shadowed, loop, unbounded, chain, open-redirect through
 * served hosts (analysis.c). */
void rc_check_analysis(rc_ir *ir);

/* --flatten: rewrite exact rules' targets to their final destination
 * (analysis.c).  Returns the number of rules rewritten. */
size_t rc_flatten(rc_ir *ir);

#endif /* RC_ANALYSIS_H */
