#!/usr/bin/env bash
# The README's first command: install what is missing (Debian 12), build
# redirc in build/, and run the main job on examples/site.redir.
#
# Installing nginx and apache2 never starts or changes the system's
# services: a policy-rc.d that refuses service starts is in place during
# the install, and the tests run their own servers on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

packages=(
	gcc make autoconf automake libtool pkg-config bison flex
	libcmph-dev libcmph-tools libcmocka-dev libgdbm-dev libsqlite3-dev
	libaprutil1-dbd-sqlite3
	python3 nginx libnginx-mod-http-js apache2 apache2-utils
	valgrind clang libclang-rt-14-dev curl haproxy
	zlib1g-dev libcurl4-openssl-dev
	python3-dev python3-django python3-starlette python3-uvicorn python3-httpx python3-fastapi
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# The policy file that keeps apt-get from starting the services it
# installs (tests/packaging/bootstrap-policy.sh points it elsewhere).
policy=${REDIRC_POLICY_RC_D:-/usr/sbin/policy-rc.d}

if [ "${#missing[@]}" -gt 0 ]; then
	echo "bootstrap: installing ${missing[*]}"
	SUDO=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
		SUDO=sudo
	fi
	# Keep a policy-rc.d that is already there (every Debian container has
	# one); otherwise put one in place for the install and remove it after.
	made_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
		$SUDO chmod +x "$policy"
		made_policy=1
	fi
	# (an if, not `[ ] &&`: under set -e a false test as the last command of
	# cleanup would end the script when a policy-rc.d was already there)
	cleanup() { if [ "$made_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
	trap cleanup EXIT
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	cleanup
	trap - EXIT
fi
if [ "${REDIRC_BOOTSTRAP_INSTALL_ONLY:-0}" = 1 ]; then
	exit 0
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	./autogen.sh >/dev/null 2>&1 || ./autogen.sh
fi
mkdir -p build
cd build
if [ ! -f Makefile ]; then
	../configure -q
fi
make -j"$(nproc)" >/dev/null
cd "$top"

# The main job: check the example, then compile it.
echo "bootstrap: build/redirc test examples/site.redir"
build/redirc test examples/site.redir
for t in nginx; do
	if build/redirc compile examples/site.redir --target "$t" -o build/site 2>/dev/null; then
		echo "bootstrap: compiled examples/site.redir to $t: $(ls build/site.* | tr '\n' ' ')"
	else
		echo "bootstrap: target $t is not available yet; explaining instead"
		build/redirc explain examples/site.redir '/old-pricing?ref=ad' '/blog/2020/a%20b' \
			'https://old.example.com/x' /pricing
	fi
done
