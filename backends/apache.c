/*
 * apache.c - the `apache` target.  Not yet written: its issue replaces this file;
 * until then `redirc compile --target apache` answers "not yet available".
 */
#include "backend.h"

const rc_backend rc_backend_apache = { "apache", "not yet available", NULL };
