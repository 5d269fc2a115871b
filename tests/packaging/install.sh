#!/bin/sh
# `make install` into a temporary DESTDIR: the binary, libredir shared and
# static, redir.h as the only header, the pkg-config file, both man pages
# (rendered by man -l without a warning) and the bash completion.
set -u
: "${top_builddir:?top_builddir must name the build tree}"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT INT TERM
fail=0
# (the configured prefix, under DESTDIR: libtool refuses a prefix changed at
# install time, as make distcheck's is)
if ! ${MAKE:-make} -s -C "$top_builddir" install DESTDIR="$dest" > "$dest.log" 2>&1; then
	echo "FAIL: make install"; cat "$dest.log"; rm -f "$dest.log"; exit 1
fi
rm -f "$dest.log"
bin=$(find "$dest" -path '*/bin/redirc' | head -n 1)
[ -n "$bin" ] || { echo "FAIL: bin/redirc is not installed"; exit 1; }
root=$(dirname "$(dirname "$bin")")
for f in bin/redirc lib/libredir.so lib/libredir.a lib/pkgconfig/redir.pc include/redir.h \
	share/man/man1/redirc.1 share/man/man5/redir.5 share/bash-completion/completions/redirc; do
	if [ -e "$root/$f" ]; then echo "ok: $f"; else echo "FAIL: $f is not installed"; fail=1; fi
done
headers=$(cd "$root/include" && ls)
if [ "$headers" != redir.h ]; then
	echo "FAIL: installed headers are '$headers', expected redir.h only"; fail=1
fi
for page in share/man/man1/redirc.1 share/man/man5/redir.5; do
	out=$(MANWIDTH=80 man --warnings -l "$root/$page" 2>&1 >/dev/null)
	text=$(MANWIDTH=80 man -l "$root/$page" 2>/dev/null | wc -l)
	if [ -n "$out" ] || [ "$text" -lt 40 ]; then
		echo "FAIL: man -l $page: $text lines, warnings: $out"; fail=1
	else
		echo "ok: man -l $page renders ($text lines)"
	fi
done
# every command of `redirc help` has its section in redirc(1)
for cmd in $(LD_LIBRARY_PATH="$root/lib" "$root/bin/redirc" help | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
	if ! MANWIDTH=200 man -l "$root/share/man/man1/redirc.1" 2>/dev/null | grep -Eq "^ +(redirc )?$cmd( |\$)"; then
		echo "FAIL: redirc(1) has no entry for '$cmd'"; fail=1
	fi
done
bash -n "$root/share/bash-completion/completions/redirc" || { echo "FAIL: completion syntax"; fail=1; }
exit $fail
