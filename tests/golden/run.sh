#!/bin/sh
# Golden tests: run redirc on each tests/golden/*.cmd and compare stdout,
# stderr and the exit status with the .out file beside it.
set -u
: "${REDIRC:?REDIRC must name the redirc binary}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$top_srcdir" || exit 1
pass=0 fail=0
for cmd in tests/golden/*.cmd; do
	want="${cmd%.cmd}.out"
	got=$(sh -c "$(cat "$cmd")" 2>&1; echo "exit $?")
	got=$(printf '%s\n' "$got" | sed "s#$REDIRC#redirc#g")
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		printf '%s\n' "$got" > "$want"
	fi
	if printf '%s\n' "$got" | diff -u "$want" - > /tmp/golden.$$.diff 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $cmd"
		cat /tmp/golden.$$.diff
	fi
done
rm -f /tmp/golden.$$.diff
echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
