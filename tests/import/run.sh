#!/bin/sh
# tests/import/run.sh - `redirc import` (issue 15).
#
# 1. every case of cases/MANIFEST, imported with --keep-going: standard
#    output, diagnostics and exit status equal the goldens in golden/ (one
#    per refusal reason and format), and `redirc test` passes on the output
#    (the expect lines are the platform's answers: this proves the
#    translation);
# 2. without --keep-going a refused rule means nothing written (stdout
#    empty, -o file not created) and exit 1; JSON diagnostics parse;
#    usage errors exit 2;
# 3. the real files of real/ import with the counts below and their output
#    passes `redirc test`.
# REGEN=1 tests/import/run.sh rewrites the goldens.
set -u
REDIRC=${REDIRC:-$(pwd)/redirc}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$top_srcdir/tests/import
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
bad() { echo "FAIL: $*"; fail=1; }

cd "$here/cases" || exit 99
grep -v '^#' MANIFEST | while read -r fmt file opts; do
	[ -n "$fmt" ] || continue
	# shellcheck disable=SC2086
	"$REDIRC" import --from "$fmt" $opts --keep-going "$file" >"$tmp/out" 2>"$tmp/err"
	echo $? >"$tmp/rc"
	if [ "${REGEN:-0}" = 1 ]; then
		cp "$tmp/out" "$here/golden/$file.redir"
		cp "$tmp/err" "$here/golden/$file.err"
		cp "$tmp/rc" "$here/golden/$file.rc"
	fi
	for k in redir err rc; do
		src=$tmp/out; [ $k = err ] && src=$tmp/err; [ $k = rc ] && src=$tmp/rc
		if ! cmp -s "$src" "$here/golden/$file.$k"; then
			echo "FAIL: import $fmt $file: $k differs from golden/$file.$k"
			diff -u "$here/golden/$file.$k" "$src" | head -20
			echo x >>"$tmp/failed"
		fi
	done
	cp "$tmp/out" "$tmp/case.redir"
	if ! "$REDIRC" test "$tmp/case.redir" >"$tmp/test.out" 2>&1; then
		echo "FAIL: redirc test on the import of $file"; head -20 "$tmp/test.out"
		echo x >>"$tmp/failed"
	fi
	# without --keep-going: all or nothing
	rm -f "$tmp/o.redir"
	"$REDIRC" import --from "$fmt" $opts "$file" -o "$tmp/o.redir" >"$tmp/out2" 2>/dev/null
	rc=$?
	if [ "$(cat "$tmp/rc")" = 1 ]; then
		[ $rc = 1 ] || { echo "FAIL: $file without --keep-going: exit $rc, expected 1"; echo x >>"$tmp/failed"; }
		[ ! -e "$tmp/o.redir" ] || { echo "FAIL: $file without --keep-going wrote -o"; echo x >>"$tmp/failed"; }
	else
		cmp -s "$tmp/o.redir" "$tmp/out" || { echo "FAIL: $file: -o differs from stdout"; echo x >>"$tmp/failed"; }
	fi
done
[ -e "$tmp/failed" ] && fail=1

# JSON diagnostics: one array, every element named
"$REDIRC" import --from netlify --keep-going --diagnostics-format=json netlify-features._redirects \
	>/dev/null 2>"$tmp/json"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert a and all(d["name"] in ("not-importable","shadowed") and d["line"] > 0 for d in a), a' "$tmp/json" \
	|| bad "JSON diagnostics"

# usage and I/O errors: exit 2
for args in "--from nope x" "--from netlify" "x" "--from netlify --bogus x" "--from netlify --case insensitive x" \
	"--from tsv --case upside x"; do
	# shellcheck disable=SC2086
	"$REDIRC" import $args >/dev/null 2>&1; rc=$?
	[ $rc = 2 ] || bad "import $args: exit $rc, expected 2"
done
"$REDIRC" import --from netlify /nonexistent/_redirects >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || bad "missing file: exit $rc, expected 2"
"$REDIRC" import --from netlify --keep-going simple.csv -o /nonexistent/dir/out.redir >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || bad "unwritable -o: exit $rc, expected 2"

# the real files: counts (imported, not importable, never reached) and the proof
real() { # FORMAT FILE IMPORTED REFUSED DEAD
	"$REDIRC" import --from "$1" --keep-going "$here/real/$2" -o "$tmp/real.redir" 2>"$tmp/real.err"
	got=$(tail -n 1 "$tmp/real.err")
	want="redirc: import: $3 rules imported, $4 not importable, $5 never reached"
	[ "$got" = "$want" ] || bad "real $2: '$got', expected '$want'"
	"$REDIRC" test "$tmp/real.redir" >"$tmp/real.test" 2>&1 || { bad "redirc test on the import of $2"; grep error "$tmp/real.test" | head; }
}
real netlify k8s_static__redirects 461 3 2
real cloudflare-pages cloudflare_content__redirects 921 1 5
real tsv mdn_en-us_redirects.txt 13428 4 0

[ $fail = 0 ] && echo "import: all cases pass"
exit $fail
