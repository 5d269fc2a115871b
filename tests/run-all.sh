#!/usr/bin/env bash
# The README's second command: every test.
#   1. `make check` in build/ (unit, golden, check corpus, end-to-end with
#      real nginx, apache2, python3 and the table library);
#   2. the unit tests again under valgrind (memory errors and leaks), and
#      the hostile inputs with every redirc run under valgrind;
#   3. the whole suite again in build-asan/, built with ASan and UBSan (the
#      end-to-end tests then run the instrumented redirc);
#   4. `make fuzz-smoke`: each libFuzzer harness for FUZZ_SECONDS (60 s);
#   5. `make distcheck`: the release tarball builds and passes its tests
#      from a read-only source tree.
# Exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

[ -f build/Makefile ] || { echo "run-all: run tools/bootstrap.sh first" >&2; exit 2; }

status=0
echo "== make check (build/)"
if ! make -C build -j"$(nproc)" check; then
	status=1
	for log in $(find build/tests -name '*.log' 2>/dev/null); do
		if grep -qE '^(FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null; then
			echo "---- $log"; tail -n 60 "$log"
		fi
	done
fi

echo "== unit tests under valgrind (build/)"
# every unit test binary through its libtool wrapper: any memory error or a
# definite or indirect leak fails the run
if command -v valgrind >/dev/null 2>&1; then
	for t in $(cd build && make -s print-unit-tests); do
		[ -x "build/$t" ] || { echo "---- $t: not built"; status=1; continue; }
		if ! (cd build && ./libtool --mode=execute valgrind -q --error-exitcode=1 \
			--leak-check=full --errors-for-leak-kinds=definite,indirect \
			"./$t" >"$t.valgrind.log" 2>&1); then
			status=1
			echo "---- valgrind: $t"; tail -n 60 "build/$t.valgrind.log"
		else
			echo "valgrind: $t: no errors, no leaks"
		fi
	done
else
	echo "run-all: valgrind is missing (tools/bootstrap.sh installs it)" >&2
	status=1
fi

echo "== hostile inputs under valgrind (build/)"
# the hostile corpus again, every redirc run under valgrind: a memory error,
# an uninitialised read or a leak fails the case (exit 99)
if command -v valgrind >/dev/null 2>&1; then
	# (libtool's execute mode swaps its wrapper script for the real binary)
	if ! (cd build && HOSTILE_WRAPPER="$top/build/libtool --mode=execute valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect" \
		HOSTILE_TIMEOUT=900 REDIRC="$top/build/redirc" \
		top_srcdir="$top" "$top/tests/hostile/run.sh" >hostile-valgrind.log 2>&1); then
		status=1
		echo "---- hostile under valgrind"; grep -v '^ok:' build/hostile-valgrind.log | tail -n 60
	else
		tail -n 1 build/hostile-valgrind.log
	fi
fi

echo "== every test under AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/)"
mkdir -p build-asan
if [ ! -f build-asan/Makefile ]; then
	(cd build-asan && ../configure -q --enable-sanitizers)
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if ! make -C build-asan -j"$(nproc)" check; then
	status=1
	for log in $(find build-asan/tests -name '*.log' 2>/dev/null); do
		if grep -qE '^(FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null; then
			echo "---- $log"; tail -n 60 "$log"
		fi
	done
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== fuzz smoke test (build/fuzz-build)"
if ! make -C build fuzz-smoke FUZZ_SECONDS="${FUZZ_SECONDS:-60}"; then
	status=1
fi

echo "== make distcheck (build-dist/)"
# In a build tree of its own: EXTRA_DIST names test folders, and automake
# copies a folder from the build tree when it exists there, so a tree that
# already ran `make check` (with logs and objects under tests/) would ship
# those instead of the sources.
rm -rf build-dist
mkdir -p build-dist
if ! (cd build-dist && ../configure -q && make distcheck) >build-dist.log 2>&1; then
	status=1
	tail -n 80 build-dist.log
else
	grep -E 'archives ready|^# (TOTAL|PASS|FAIL)' build-dist.log
fi

if [ "$status" -eq 0 ]; then
	echo "run-all: every test passed"
else
	echo "run-all: FAILED" >&2
fi
exit "$status"
