/*
 * table.c - the `table` target.  Not yet written: its issue replaces this file;
 * until then `redirc compile --target table` answers "not yet available".
 */
#include "backend.h"

const rc_backend rc_backend_table = { "table", "not yet available", NULL };
