#!/usr/bin/env bash
# Benchmark of the nginx and apache targets at scale: generate N exact rules
# (default 1,000,000) with bench/gen-server-rules.py, compile them to nginx
# and run `nginx -t` on the result, then compile them to apache (which runs
# httxt2dbm -f GDBM above 10,000 map entries), time httxt2dbm alone on the
# same map, and run `apache2 -t`.  Prints wall time and peak RSS of each
# step (/usr/bin/time -f), the artifact sizes, and fails if a config test
# fails or nginx warns ("could not build optimal map_hash").
#
#   bench/servers-bench.sh [N]          REDIRC=path/to/redirc to choose the binary
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000000}
redirc=${REDIRC:-}
if [ -z "$redirc" ]; then
	for c in "$top/build/redirc" "$top/redirc" "$(pwd)/redirc"; do
		[ -x "$c" ] && { redirc=$c; break; }
	done
fi
[ -n "$redirc" ] || { echo "servers-bench: no redirc found; set REDIRC" >&2; exit 2; }
tmp=$(mktemp -d /tmp/redirc-servers-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

measure() { # label, command...
	local label=$1; shift
	if ! /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >"$tmp/out" 2>&1; then
		echo "servers-bench: $label failed:" >&2
		tail -20 "$tmp/out" >&2
		exit 1
	fi
	read -r secs kb <"$tmp/time"
	printf '%-34s %8.2f s  %8d MB peak RSS\n' "$label" "$secs" $((kb / 1024))
}

echo "servers-bench: $n exact rules, redirc $redirc"
python3 "$top/bench/gen-server-rules.py" "$n" >"$tmp/rules.redir"
printf '%-34s %8d MB\n' "rules file" $(( $(stat -c %s "$tmp/rules.redir") / 1048576 ))

# ---- nginx ----
measure "compile --target nginx" "$redirc" compile "$tmp/rules.redir" --target nginx -o "$tmp/site"
printf '%-34s %8d MB\n' "site.http.conf" $(( $(stat -c %s "$tmp/site.http.conf") / 1048576 ))
grep -E '^map_hash_(bucket|max)_size' "$tmp/site.http.conf" | sed 's/^/    /'
mkdir -p "$tmp/ng/tmp"
cat >"$tmp/ng/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_http_js_module.so;
pid $tmp/ng/nginx.pid;
error_log $tmp/ng/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp/ng/tmp/cb; proxy_temp_path $tmp/ng/tmp/p;
    fastcgi_temp_path $tmp/ng/tmp/f; uwsgi_temp_path $tmp/ng/tmp/u; scgi_temp_path $tmp/ng/tmp/s;
    include $tmp/site.http.conf;
    server { listen 127.0.0.1:1; include $tmp/site.server.conf; }
}
CONF
measure "nginx -t" /usr/sbin/nginx -t -q -p "$tmp/ng/" -c "$tmp/ng/nginx.conf" -e "$tmp/ng/error.log"
if grep -Eq '\[(warn|emerg)\]' "$tmp/out"; then
	echo "servers-bench: nginx -t is not clean:" >&2; cat "$tmp/out" >&2; exit 1
fi

# ---- apache ----
measure "compile --target apache" "$redirc" compile "$tmp/rules.redir" --target apache -o "$tmp/site"
for f in "$tmp"/site.map.*; do
	printf '%-34s %8d MB\n' "$(basename "$f")" $(( $(stat -c %s "$f") / 1048576 ))
done
measure "  of which httxt2dbm -f GDBM" httxt2dbm -f GDBM -i "$tmp/site.map.txt" -o "$tmp/again.gdbm"
if [ -f "$tmp/site.map.gdbm" ]; then
	cmp -s "$tmp/site.map.gdbm" "$tmp/again.gdbm" && echo "    GDBM map byte-identical on a rebuild: yes" \
		|| echo "    GDBM map byte-identical on a rebuild: NO"
fi
mkdir -p "$tmp/ap/run"
cat >"$tmp/ap/apache2.conf" <<CONF
ServerRoot "$tmp/ap"
ServerName 127.0.0.1
Listen 127.0.0.1:1
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
LoadModule lua_module /usr/lib/apache2/modules/mod_lua.so
PidFile "$tmp/ap/apache.pid"
DefaultRuntimeDir "$tmp/ap/run"
ErrorLog "$tmp/ap/error.log"
<VirtualHost 127.0.0.1:1>
    AllowEncodedSlashes On
    Include "$tmp/site.conf"
</VirtualHost>
CONF
measure "apache2 -t" env APACHE_RUN_DIR="$tmp/ap/run" /usr/sbin/apache2 -f "$tmp/ap/apache2.conf" -t
echo "servers-bench: done"
