#!/bin/sh
# Benchmark of the `table` target (issue 5): 1,000,000 exact rules and
# 1,000 patterns, generated deterministically.
#
#   [ROUNDS=7] bench/run-table.sh [BUILDDIR] [N_EXACT] [N_PATTERNS]
#
# BUILDDIR is a configured and built tree (default: the current directory).
# Prints: compile time, file size against key+target bytes, open time, lookup
# median and p99 for hits and misses, and a bare cmph_search_packed loop over
# the same keys with the ratio.  Goals: lookup median <= 200 ns and <= 1.3x
# bare cmph, open < 100 us, size <= key+target bytes + 10 bytes/rule,
# compile <= 1.5 s.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=$(cd "${1:-.}" && pwd)
nexact=${2:-1000000}
npat=${3:-1000}
redirc="$build/redirc"
[ -x "$redirc" ] || { echo "run-table.sh: no redirc in $build (build it first)" >&2; exit 2; }
work=${TMPDIR:-/tmp}/redirc-table-bench.$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT INT TERM

python3 "$here/gen-table-rules.py" "$work/rules.redir" "$work/keys.txt" "$nexact" "$npat"
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$src" -o "$work/table-bench" \
	"$here/table-bench.c" "$build/.libs/libredir.so" -Wl,-rpath,"$build/.libs" -lcmph

echo "rules: $nexact exact + $npat patterns ($(wc -c < "$work/rules.redir") bytes of source)"
times=
for i in 1 2 3; do
	s=$(date +%s.%N)
	"$redirc" compile "$work/rules.redir" --target table -o "$work/t"
	e=$(date +%s.%N)
	times="$times $(echo "$e - $s" | bc)"
done
best=$(echo $times | tr ' ' '\n' | sort -n | head -1)
s=$(date +%s.%N); "$redirc" check "$work/rules.redir"; e=$(date +%s.%N)
echo "compile to table: best of 3 $best s (of which parse + checks alone: $(echo "$e - $s" | bc) s)"

size=$(wc -c < "$work/t.redirdb")
# key + target bytes: source and target tokens of every rule as written
kt=$(awk '$2 == "->" { n += length($1) + length($3) } END { print n }' "$work/rules.redir")
rules=$((nexact + npat))
echo "size: $size bytes; key+target bytes $kt; overhead $(echo "scale=2; ($size - $kt) / $rules" | bc) bytes/rule (goal <= 10)"
"$work/table-bench" "$work/t.redirdb" "$work/keys.txt" "${ROUNDS:-7}"
