#!/bin/sh
# Build the libFuzzer harnesses out of tree:
#
#   fuzz/build.sh OUTDIR
#
# Compiles the project's library sources with clang and ASan+UBSan (plus
# fuzzer coverage), generates the parser and scanner with bison and flex into
# OUTDIR/grammar (never into the source tree), and links OUTDIR/fuzz_parse,
# OUTDIR/fuzz_match, OUTDIR/fuzz_table and OUTDIR/fuzz_import.
# Needs clang 14 with libclang-rt-14-dev (installed by tools/bootstrap.sh).
set -eu

out=${1:?usage: fuzz/build.sh OUTDIR}
src=$(cd "$(dirname "$0")/.." && pwd)
CC=${CLANG:-clang}
BISON=${BISON:-bison}
FLEX=${FLEX:-flex}

command -v "$CC" >/dev/null 2>&1 || { echo "fuzz/build.sh: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

mkdir -p "$out/grammar" "$out/obj"
out=$(cd "$out" && pwd)

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
BASE="-std=c11 -g -O1 -D_GNU_SOURCE -DPACKAGE_VERSION=\"fuzz\" -DRD_FUZZING=1 \
 -I$src -I$out"
# Project sources: gcc's -Werror build gates their warnings; here clang's
# warnings are shown but do not stop the fuzz build.  The harnesses
# themselves build with -Werror.
PROJ_WARN="-Wall -Wextra"
HARN_WARN="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
CMPH_CFLAGS=$(pkg-config --cflags cmph 2>/dev/null || true)
CMPH_LIBS=$(pkg-config --libs cmph 2>/dev/null || echo -lcmph)

# 1. the parser and scanner, generated into OUTDIR only
if [ ! -f "$out/grammar/parser.c" ] || [ "$src/grammar/parser.y" -nt "$out/grammar/parser.c" ]; then
	"$BISON" -Wall -Werror --defines="$out/grammar/parser.h" -o "$out/grammar/parser.c" "$src/grammar/parser.y"
fi
if [ ! -f "$out/grammar/scanner.c" ] || [ "$src/grammar/scanner.l" -nt "$out/grammar/scanner.c" ] ||
   [ "$out/grammar/parser.h" -nt "$out/grammar/scanner.c" ]; then
	"$FLEX" --header-file="$out/grammar/scanner.h" -o "$out/grammar/scanner.c" "$src/grammar/scanner.l"
fi

# 2. the library: every grammar, compiler, backend and runtime source (the
# command line, cli/, is not part of it),
# as an archive, so each harness links only the objects it needs
objs=""
compile() { # compile SRC OBJ FLAGS...
	s=$1 o=$2
	shift 2
	if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ -n "$(find "$src/grammar" "$src/compiler" "$src/runtime" "$src/backends" "$src/import" -name '*.h' -newer "$o" 2>/dev/null | head -n 1)" ]; then
		# shellcheck disable=SC2086
		$CC $BASE $SAN -fsanitize=fuzzer-no-link "$@" -c "$s" -o "$o"
	fi
}
compile "$out/grammar/parser.c" "$out/obj/grammar_parser.o" -w
compile "$out/grammar/scanner.c" "$out/obj/grammar_scanner.o" -w
objs="$out/obj/grammar_parser.o $out/obj/grammar_scanner.o"
# The helper scripts embedded at build time (backends/helpers/*.c) are C
# files of the build tree: fuzz/build.sh runs there (make fuzz-smoke), after
# make.
gen=${FUZZ_GENERATED:-$(pwd)}
for s in "$src"/grammar/*.c "$src"/compiler/*.c "$src"/backends/*.c "$src"/runtime/*.c \
	"$src"/import/*.c "$gen"/backends/helpers/*.c; do
	[ -f "$s" ] || continue
	case "$s" in "$src"/*) d=$(basename "$(dirname "$s")") ;; *) d=gen ;; esac
	o="$out/obj/${d}_$(basename "$s" .c).o"
	# shellcheck disable=SC2086
	compile "$s" "$o" $PROJ_WARN $CMPH_CFLAGS
	objs="$objs $o"
done
rm -f "$out/libfuzztarget.a"
# shellcheck disable=SC2086
ar rcs "$out/libfuzztarget.a" $objs

# 3. the harnesses
harnesses="fuzz_parse fuzz_match fuzz_table fuzz_import"
for h in $harnesses; do
	# shellcheck disable=SC2086
	$CC $BASE $SAN -fsanitize=fuzzer $HARN_WARN "$src/fuzz/$h.c" "$out/libfuzztarget.a" \
		$CMPH_LIBS -o "$out/$h"
	echo "fuzz/build.sh: built $out/$h"
done
