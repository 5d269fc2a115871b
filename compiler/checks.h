/*
 * checks.h - the checks of spec section 4 over a built IR.
 *
 * Every check queues diagnostics and goes on; the driver decides the exit
 * status from the error count.
 */
#ifndef RC_CHECKS_H
#define RC_CHECKS_H

#include "compiler/ir.h"

typedef struct rc_check_opts {
	int today;        /* YYYYMMDD, for `expired` */
	int run_expects;  /* `test` and `compile` evaluate expect lines */
	int flatten;      /* --flatten: rewrite the IR first (rc_flatten), so
	                   * every check, expectation, answer and artifact sees
	                   * the flattened rules and only the chains left */
} rc_check_opts;

/* Run every check: [--flatten,] rule-set analysis (analysis.h), policies,
 * expectations. */
void rc_check_all(rc_ir *ir, const rc_check_opts *opts);

/* Evaluate one expectation; returns 1 when it holds.  `actual` gets a
 * heap string describing the actual response (caller frees). */
int rc_expect_holds(const rc_ir *ir, const rc_expect *e, char **actual);

/* Compare two Locations, percent-escapes without regard to hex case. */
int rc_location_equal(const char *a, const char *b);

#endif /* RC_CHECKS_H */
