/*
 * nginx.c - the `nginx` target.  Not yet written: its issue replaces this file;
 * until then `redirc compile --target nginx` answers "not yet available".
 */
#include "backend.h"

const rc_backend rc_backend_nginx = { "nginx", "not yet available", NULL };
