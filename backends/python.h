/*
 * python.h - the quoting function of the `python` target, exposed for its
 * unit test.
 */
#ifndef RC_PYTHON_H
#define RC_PYTHON_H

#include <stddef.h>

#include "compiler/util.h"

/* Append `s` (n bytes, any bytes) to `b` as a Python bytes literal b"...":
 * printable ASCII is kept, except '"', '\'' and '\\', which are written as
 * \xNN like every other byte, so no input can end the literal or start an
 * escape of its own. */
void rc_py_quote(rc_buf *b, const char *s, size_t n);

#endif /* RC_PYTHON_H */
