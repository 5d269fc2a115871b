#!/bin/sh
# The README's first command on a machine that already has a policy-rc.d
# (every Debian container has one) and on one that has none: the install
# step must go on (exit 0), keep an existing policy file as it was, and put
# one in place only for the install when there was none.  dpkg-query,
# apt-get and id are stubs on PATH; nothing is installed.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/bin"
cat > "$work/bin/dpkg-query" <<'STUB'
#!/bin/sh
# every package is installed but one
case "$*" in *nginx\ *|*\ nginx) exit 1 ;; esac
for a; do last=$a; done
[ "$last" = nginx ] && exit 1
echo "install ok installed"
STUB
cat > "$work/bin/apt-get" <<'STUB'
#!/bin/sh
# record whether the policy file is in place while packages install
if [ "$1" = install ]; then
	if [ -e "$REDIRC_POLICY_RC_D" ]; then echo present; else echo absent; fi >> "$APT_LOG"
	echo "$*" >> "$APT_LOG"
fi
exit 0
STUB
printf '#!/bin/sh\necho 0\n' > "$work/bin/id"
chmod +x "$work/bin/"*
fail=0
run() { # run CASE: the bootstrap's install step with the stubs
	APT_LOG="$work/apt.log" REDIRC_POLICY_RC_D="$work/policy-rc.d" REDIRC_BOOTSTRAP_INSTALL_ONLY=1 \
		PATH="$work/bin:$PATH" bash "$top_srcdir/tools/bootstrap.sh" > "$work/out" 2>&1
}

# 1. a policy-rc.d is already there: kept, byte for byte
printf '#!/bin/sh\n# the machine owner\x27s policy\nexit 101\n' > "$work/policy-rc.d"
cp "$work/policy-rc.d" "$work/policy.orig"
: > "$work/apt.log"
if ! run; then
	echo "FAIL: bootstrap exited $? with an existing policy-rc.d:"; cat "$work/out"; fail=1
elif ! cmp -s "$work/policy-rc.d" "$work/policy.orig"; then
	echo "FAIL: the existing policy-rc.d was changed or removed"; fail=1
elif ! grep -q '^install .*nginx' "$work/apt.log"; then
	echo "FAIL: apt-get install was not run for the missing package"; cat "$work/apt.log"; fail=1
else
	echo "ok: an existing policy-rc.d is kept and the install goes on"
fi

# 2. no policy-rc.d: one is in place during the install, gone after
rm -f "$work/policy-rc.d"
: > "$work/apt.log"
if ! run; then
	echo "FAIL: bootstrap exited $? without a policy-rc.d:"; cat "$work/out"; fail=1
elif [ "$(head -n 1 "$work/apt.log")" != present ]; then
	echo "FAIL: no policy-rc.d during the install"; cat "$work/apt.log"; fail=1
elif [ -e "$work/policy-rc.d" ]; then
	echo "FAIL: the policy-rc.d made for the install was left behind"; fail=1
else
	echo "ok: a policy-rc.d is in place only during the install"
fi
exit $fail
