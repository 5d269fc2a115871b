#!/bin/sh
# Property test of the analysis (issue 13): 2,000 seeded random rule sets,
# redirc check against a brute force (tests/property/prop_analysis.py).
# The long run: REDIRC=build/redirc python3 tests/property/prop_analysis.py --count 100000
set -u
: "${REDIRC:?REDIRC must name the redirc binary}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
exec python3 "$top_srcdir/tests/property/prop_analysis.py" --count "${PROP_COUNT:-2000}" --seed "${PROP_SEED:-13}"
