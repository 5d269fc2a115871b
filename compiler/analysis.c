/*
 * analysis.c - rule-set analysis (duplicate, shadowed, loop, unbounded,
 * chain, open-redirect through served hosts) and --flatten.
 *
 * Not yet written: issue 3 replaces this file.  Until then `check` runs the
 * value, policy and expectation checks only.
 */
#include "checks.h"

void rc_check_analysis(rc_ir *ir)
{
	(void)ir;
}

size_t rc_flatten(rc_ir *ir)
{
	(void)ir;
	return 0;
}
