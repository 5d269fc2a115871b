/*
 * report.h - `redirc compile ... --report FILE.json`: the record of what
 * shipped (cli/report.c).
 *
 * The report names the input files (the top file and its includes, as the
 * compiler opened them) with their SHA-256, the rule and expectation
 * counts, the diagnostics by name, every artifact written with its size and
 * SHA-256, the command line, the compiler version and the time taken.  It
 * is byte-identical for the same inputs and command line apart from the
 * time fields, which SOURCE_DATE_EPOCH fixes (started = finished = its
 * value, seconds = 0).  It is written atomically (a temporary file beside
 * it, renamed into place) after the artifacts were committed.
 */
#ifndef RC_CLI_REPORT_H
#define RC_CLI_REPORT_H

#include <time.h>

#include "backends/backend.h"
#include "compiler/ir.h"

/* The moment compile started: call first thing in the compile path. */
void rc_report_start(struct timespec *start);

/* Write the report for a committed artifact set.  0, or -1 after printing
 * "redirc: error: ..." (with whether a retry can help) on stderr. */
int rc_report_write(const char *path, const rc_ir *ir, const rc_artifacts *out,
                    int argc, char **argv, const struct timespec *start);

#endif /* RC_CLI_REPORT_H */
