#!/bin/sh
# Scale benchmark of `redirc check`: generates 100k and 1M rule files (10M
# too with SCALE_10M=1), runs check RUNS times (default 3) on each and
# prints the median wall time, the peak RSS and the 1M/100k time ratio.
# Usage: bench/check-scale.sh [REDIRC]   (default: ./redirc)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
REDIRC=${1:-${REDIRC:-./redirc}}
RUNS=${RUNS:-3}
dir=${BENCH_DIR:-/tmp/redirc-bench}
mkdir -p "$dir"
sizes="100000 1000000"
[ "${SCALE_10M:-0}" = 1 ] && sizes="$sizes 10000000"
for n in $sizes; do
	f="$dir/rules-$n.redir"
	[ -s "$f" ] || python3 "$here/gen-rules.py" "$n" > "$f"
	: > "$dir/times-$n"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		/usr/bin/time -f '%e %M' -o "$dir/one" "$REDIRC" check "$f" > /dev/null 2> "$dir/diags-$n" || {
			echo "check-scale: redirc check $f failed:"; head -20 "$dir/diags-$n"; exit 1; }
		cat "$dir/one" >> "$dir/times-$n"
		i=$((i + 1))
	done
	sort -n "$dir/times-$n" | awk -v n="$n" '{ t[NR] = $1; m[NR] = $2 }
		END { mid = int((NR + 1) / 2); printf "%9d rules: median %.2f s, peak RSS %.0f MB\n", n, t[mid], m[mid] / 1024 }'
	sort -n "$dir/times-$n" | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }' > "$dir/median-$n"
done
awk -v a="$(cat "$dir/median-100000")" -v b="$(cat "$dir/median-1000000")" \
	'BEGIN { if (a > 0) printf "ratio 1M/100k: %.1fx\n", b / a }'
