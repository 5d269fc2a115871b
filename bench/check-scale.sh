#!/bin/sh
# Scale benchmark of `redirc check`: generates 100k and 1M rule files (10M
# too with SCALE_10M=1), runs check RUNS times (default 3) on each and
# prints the median wall time, the peak RSS and the 1M/100k time ratio.
# Usage: bench/check-scale.sh [REDIRC]   (default: ./redirc)
#        ISSUE13=1 [BASE=old-redirc] bench/check-scale.sh REDIRC: the issue 13
#        figures (see the end of this file)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
REDIRC=${1:-${REDIRC:-./redirc}}
RUNS=${RUNS:-3}
dir=${BENCH_DIR:-/tmp/redirc-bench}
mkdir -p "$dir"
sizes="100000 1000000"
[ "${SCALE_10M:-0}" = 1 ] && sizes="$sizes 10000000"
[ "${ISSUE13:-0}" = 1 ] && sizes=""
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
[ -n "$sizes" ] && awk -v a="$(cat "$dir/median-100000")" -v b="$(cat "$dir/median-1000000")" \
	'BEGIN { if (a > 0) printf "ratio 1M/100k: %.1fx\n", b / a }'

# Issue 13 figures (ISSUE13=1; BASE=other-redirc compares side by side):
#   1M exact + 1,000 patterns against 1M exact + 10,000 patterns;
#   300 shadowing rules (6 levels of 49 literal rules, a catch-all, a dead
#   rule): time and peak RSS; 10,000 host blocks of one pattern.
[ "${ISSUE13:-0}" = 1 ] || exit 0
median() { sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'; }
one() { # BIN FILE -> "seconds KB" medians over RUNS
	: > "$dir/t13"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		/usr/bin/time -q -f '%e %M' -o "$dir/one" "$1" check "$2" > /dev/null 2> /dev/null || true
		cat "$dir/one" >> "$dir/t13"
		i=$((i + 1))
	done
	printf '%s %s\n' "$(cut -d' ' -f1 "$dir/t13" | median)" "$(cut -d' ' -f2 "$dir/t13" | median)"
}
f1="$dir/rules-1000000-p1000.redir"; f10="$dir/rules-1000000-p10000.redir"
[ -s "$f1" ] || python3 "$here/gen-rules.py" 1000000 1000 > "$f1"
[ -s "$f10" ] || python3 "$here/gen-rules.py" 1000000 10000 > "$f10"
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
lines = []
for l in range(6):
    for j in range(49):
        parts = [":" + c for c in "abcdefg"]
        parts[l] = "l%d%02d" % (l, j)
        lines.append("/" + "/".join(parts) + " -> /t%d%02d" % (l, j))
lines += ["/:a/:b/:c/:d/:e/:f/:g -> /all", "/:a/:b/:c/:d/:e/:f/lit -> /never"]
open(d + "/shadow-300.redir", "w").write("\n".join(lines) + "\n")
open(d + "/hosts-10000.redir", "w").write(
    "".join("host h%d.example.com {\n    /p/* -> /q/*\n}\n" % i for i in range(10000)))
PY
for bin in ${BASE:-} "$REDIRC"; do
	a=$(one "$bin" "$f1"); b=$(one "$bin" "$f10")
	echo "$bin: 1M+1k patterns ${a% *} s, 1M+10k patterns ${b% *} s"
	s=$(one "$bin" "$dir/shadow-300.redir")
	echo "$bin: 300 shadowing rules ${s% *} s, peak RSS $(( ${s#* } / 1024 )) MB"
	h=$(one "$bin" "$dir/hosts-10000.redir")
	echo "$bin: 10,000 host blocks ${h% *} s"
done
