#!/bin/sh
# bench/import-bench.sh - `redirc import` on 100,000-line inputs of every
# format (issue 15: under a second each, memory proportional to the input).
#
#   bench/import-bench.sh [--redirc PATH] [--lines N] [--runs R]
#
# Prints, per format: input size, median wall and CPU (user+sys) time of R
# runs, peak RSS (from /usr/bin/time, which this script needs) and RSS per
# input byte; exits 1 when a median CPU time is one second or more.  The
# goal is judged on CPU time: on a shared machine the wall time mostly
# measures the wait for a core (compare the two columns).  Inputs are generated (seeded) in a temp
# folder: exact rules, 1 in 100 a splat rule, 1 in 100 a placeholder rule
# for the formats that have them.
set -eu
REDIRC=${REDIRC:-$(pwd)/redirc}
lines=100000
runs=5
while [ $# -gt 0 ]; do
	case $1 in
	--redirc) REDIRC=$2; shift 2 ;;
	--lines) lines=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	*) echo "usage: $0 [--redirc PATH] [--lines N] [--runs R]" >&2; exit 2 ;;
	esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
python3 - "$tmp" "$lines" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
with open(d + "/in.tsv", "w") as f:
    for i in range(n):
        f.write("/en-US/docs/page%d/sub%d\t/en-US/docs/new/%d\n" % (i, i % 97, i))
with open(d + "/in._redirects", "w") as f:
    for i in range(n):
        if i % 100 == 0:
            f.write("/sec%d/*  /new%d/:splat 301\n" % (i, i))
        elif i % 100 == 1:
            f.write("/p%d/:a/:b  /q/:b/:a 302\n" % i)
        else:
            f.write("/old/%d/page /new/%d/page 301\n" % (i, i))
with open(d + "/in.csv", "w") as f:
    f.write("from,to,status\n")
    for i in range(n):
        f.write('/old/%d,"/new/%d",301\n' % (i, i))
with open(d + "/in.conf", "w") as f:
    f.write("map $uri $new {\n")
    for i in range(n - 5):
        f.write("    /old/%d /new/%d;\n" % (i, i))
    f.write("}\nserver {\n    if ($new) { return 301 $new; }\n}\n")
with open(d + "/in.htaccess", "w") as f:
    for i in range(n):
        if i % 100 == 0:
            f.write("RedirectMatch 301 ^/m%d/([^/]+)$ /n/$1\n" % i)
        else:
            f.write("Redirect 301 /old/%d /new/%d\n" % (i, i))
PY
[ -x /usr/bin/time ] || { echo "bench/import-bench.sh needs /usr/bin/time (Debian package time)" >&2; exit 2; }
fail=0
printf '%-18s %9s %9s %9s %12s %10s\n' format "input KB" "wall s" "CPU s" "peak RSS KB" "RSS/input"
for spec in tsv:in.tsv netlify:in._redirects cloudflare-pages:in._redirects csv:in.csv nginx:in.conf apache:in.htaccess; do
	fmt=${spec%%:*}
	file=$tmp/${spec#*:}
	size=$(wc -c <"$file")
	walls=
	cpus=
	rss=0
	r=0
	while [ $r -lt "$runs" ]; do
		/usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$REDIRC" import --from "$fmt" --keep-going "$file" \
			-o "$tmp/out.redir" 2>/dev/null || true
		set -- $(tail -n 1 "$tmp/t")
		walls="$walls $1"
		cpus="$cpus $(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')"
		[ "$4" -gt "$rss" ] && rss=$4
		r=$((r + 1))
	done
	median_of() { echo "$1" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	wall=$(median_of "$walls")
	median=$(median_of "$cpus")
	ratio=$(awk -v m="$rss" -v s="$size" 'BEGIN { printf "%.1f", m * 1024 / s }')
	printf '%-18s %9d %9s %9s %12s %10s\n' "$fmt" $((size / 1024)) "$wall" "$median" "$rss" "$ratio"
	if awk -v m="$median" 'BEGIN { exit !(m >= 1.0) }'; then
		echo "GOAL MISSED: $fmt took $median s of CPU for $lines lines (goal: under 1 s)"
		fail=1
	fi
done
[ $fail = 0 ] && echo "goal met: every format imports $lines lines in under a second of CPU"
# The second step of the migration: `redirc test` of an imported file (its
# rules and every generated expectation), median of R runs.
"$REDIRC" import --from netlify --keep-going "$tmp/in._redirects" -o "$tmp/test.redir" 2>/dev/null || true
cpus=
r=0
while [ $r -lt "$runs" ]; do
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$REDIRC" test -q "$tmp/test.redir" >/dev/null 2>&1 || true
	set -- $(tail -n 1 "$tmp/t")
	cpus="$cpus $(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')"
	rss=$4
	r=$((r + 1))
done
echo "redirc test of the imported netlify file ($(grep -c '^expect ' "$tmp/test.redir") expectations): median CPU $(median_of "$cpus") s, peak RSS $rss KB"
exit $fail
