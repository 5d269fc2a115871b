#!/bin/sh
# Hostile-input tests: redirc must never crash, hang or print a raw control
# byte, whatever the input.  The cases live in hostile.py (python3 stdlib);
# regression inputs found by the fuzzers are in regress/.
#   REDIRC=build/redirc top_srcdir=. tests/hostile/run.sh
set -u
: "${REDIRC:?REDIRC must name the redirc binary}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export REDIRC top_srcdir
exec "${PYTHON3:-python3}" "$top_srcdir/tests/hostile/hostile.py" "$@"
