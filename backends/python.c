/*
 * python.c - the `python` target.  Not yet written: its issue replaces this file;
 * until then `redirc compile --target python` answers "not yet available".
 */
#include "backend.h"

const rc_backend rc_backend_python = { "python", "not yet available", NULL };
