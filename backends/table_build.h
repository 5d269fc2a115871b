/*
 * table_build.h - build a .redirdb image in memory (backends/table.c), for
 * the `table` target and for tests.
 */
#ifndef RC_TABLE_BUILD_H
#define RC_TABLE_BUILD_H

#include "compiler/ir.h"

/* Lay out the whole file for a checked IR into `file` (reset first).
 * 0, or -1 after queueing a `backend` diagnostic on ir->diags. */
int rc_table_build(const rc_ir *ir, rc_buf *file);

#endif /* RC_TABLE_BUILD_H */
