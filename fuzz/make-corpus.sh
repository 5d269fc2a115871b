#!/bin/sh
# Seed corpora for the fuzz harnesses, made from the project's own inputs:
#
#   fuzz/make-corpus.sh OUTDIR
#
# OUTDIR/corpus/fuzz_parse   every .redir file of examples/ and tests/
# OUTDIR/corpus/fuzz_match   one seed per rule of those files (raw path,
#                            query, host, rule), plus a few hand-made ones
# OUTDIR/corpus/fuzz_table   tables compiled from those files, when the
#                            table target and REDIRC are available
# Nothing is written into the source tree.
set -eu

out=${1:?usage: fuzz/make-corpus.sh OUTDIR}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out/corpus/fuzz_parse" "$out/corpus/fuzz_match" "$out/corpus/fuzz_table" "$out/corpus/fuzz_import"

n=0
find "$src/examples" "$src/tests" -name '*.redir' -type f | sort | while read -r f; do
	n=$((n + 1))
	cp "$f" "$out/corpus/fuzz_parse/seed-$n-$(basename "$f")"
done

# fuzz_match: "raw path\nquery\nhost\nF SOURCE TARGET" per rule line
find "$src/examples" "$src/tests" -name '*.redir' -type f | sort | xargs cat |
awk -v dir="$out/corpus/fuzz_match" '
	$2 == "->" && substr($1, 1, 1) == "/" {
		n++
		path = $1
		gsub(/:[A-Za-z_][A-Za-z0-9_]*/, "seg", path)
		sub(/\*$/, "a/b%20c", path)
		printf "%s\nq=1&r=%%zz\nwww.example.com\n%c%s %s\n", path, 32 + (n % 16), $1, $3 > (dir "/rule-" n)
		close(dir "/rule-" n)
	}'
m="$out/corpus/fuzz_match"
printf '/a/./b/../c//d/\n-\nExample.COM:8080\n /a/* /x/*?k=:v#f\n' > "$m/hand-1"
printf '/%%2e%%2E/x%%2Fy\n%%\n\n!/x/:id/* https://h.example/:id/*\n' > "$m/hand-2"
printf '/go/evil.example\nq\nold.example.com\n$/go* /*\n /x gone\n' > "$m/hand-3"
printf '/A/B/\n?&=+\n\n0/a/b/ /c\n' > "$m/hand-4"

# fuzz_table: compiled tables, once the table target exists
if [ -n "${REDIRC:-}" ] && [ -x "$REDIRC" ]; then
	i=0
	for f in "$src"/examples/site.redir "$src"/tests/e2e/cases/*.redir; do
		[ -f "$f" ] || continue
		i=$((i + 1))
		"$REDIRC" compile "$f" --target table -o "$out/corpus/fuzz_table/seed-$i" >/dev/null 2>&1 || true
	done
	for t in "$out"/corpus/fuzz_table/*.redirdb; do
		[ -f "$t" ] || continue
		mv "$t" "${t%.redirdb}"
	done
fi
echo "fuzz/make-corpus.sh: $(ls "$out/corpus/fuzz_parse" | wc -l) parse seeds, $(ls "$out/corpus/fuzz_match" | wc -l) match seeds, $(ls "$out/corpus/fuzz_table" | wc -l) table seeds in $out/corpus"

# fuzz_import: the import cases, each behind its format byte (0 netlify,
# 1 cloudflare-pages, 2 tsv, 3 csv, 4 nginx, 5 apache; 8 netlify.toml)
grep -v '^#' "$src/tests/import/cases/MANIFEST" | while read -r fmt file _; do
	case $fmt in
	netlify) b=0 ;; cloudflare-pages) b=1 ;; tsv) b=2 ;; csv) b=3 ;; nginx) b=4 ;; apache) b=5 ;; *) continue ;;
	esac
	case $file in *.toml) b=8 ;; esac
	{ printf "\\$(printf '%03o' "$b")"; cat "$src/tests/import/cases/$file"; } >"$out/corpus/fuzz_import/case-$file"
done
