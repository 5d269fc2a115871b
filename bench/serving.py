#!/usr/bin/env python3
"""Serving benchmark (issue 12): what a request costs nginx and Apache httpd
with redirc's artifacts, next to hand-written anchors made from the same
rules.

    python3 bench/serving.py [--quick] [--exact 100,10000,1000000]
                             [--patterns 10,100,1000,10000] [--seconds S]
                             [--rounds R] [--redirc PATH] [--memory N]

For every size (E exact rules x P pattern rules, generated deterministically)
it compiles the rules with `redirc compile --target nginx --target apache`,
writes the anchors:

  nginx   map $uri $anchor { "/old/..." "/new/..."; }  +  if ($anchor)
          { return 301 $anchor$is_args$args; }  +  one `if ($uri ~ "^...$")
          { return 301 ...; }` per pattern rule, in file order
  Apache  RewriteMap (txt up to 10,000 entries, GDBM above, as redirc) +
          RewriteCond ${anchor:%{REQUEST_URI}} + RewriteRule [R=301,L], and one
          RewriteRule "^...$" per pattern rule

and starts the five servers at once: nginx with BASE.http.conf/.server.conf,
Apache with BASE.conf (txt or GDBM map) and with BASE.dbd.conf (SQLite map
through mod_dbd), and the two anchors (nginx: one worker; Apache: prefork,
one child; keep-alive on, no access log).  Then, in rounds, for each request
kind (pass, exact hit, pattern hit, non-normal: an exact hit with one byte
percent-encoded, which redirc hands to its helper) and each server in turn,
`ab -k -c 1` sends requests for --seconds; the worker CPU time (utime+stime
of the worker/child processes from /proc/PID/stat) over the requests ab
completed gives CPU per request.  Printed: the median over the rounds of
µs/request and requests/s per server, and the ratios redirc/anchor.  Every
answer is first checked: the redirc servers must give `redirc explain`'s
status and Location for each request kind.

--memory N: instead, Apache memory over N distinct request paths (design
section 14): the RSS of the one child before and after (half of the paths in
normal form, half not: those go through the Lua helper), for BASE.conf,
BASE.dbd.conf and the anchor; a new connection every 100 requests.

Needs: nginx with njs (libnginx-mod-http-js), apache2 with mod_lua, ab
(apache2-utils).  Nothing here touches system services: the servers run from
a temporary folder on free ports of 127.0.0.1 and are stopped by pid.
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from servers import Apache, Nginx, _children, raw_request  # noqa: E402

HOST = "www.example.com"
TICK = os.sysconf("SC_CLK_TCK")
DBM_THRESHOLD = 10000  # as backends/apache.c


def find_redirc(arg):
    for c in (arg, os.environ.get("REDIRC"), os.path.join(TOP, "build", "redirc"),
              os.path.join(TOP, "redirc")):
        if c and os.path.exists(c):
            return os.path.abspath(c)
    sys.exit("serving: no redirc binary; give --redirc PATH")


# ---- rules ------------------------------------------------------------------

def exact_source(i):
    return "/old/%d/page-%x" % (i, (i * 2654435761) & 0xffffff)


def pattern_parts(j):
    """Pattern j: /secK/itemJ/:slug -> /new/J/:slug, ten per first segment."""
    return "sec%d" % (j // 10), "item%d" % j


def write_rules(path, n_exact, n_pat):
    with open(path, "w") as fh:
        fh.write("# bench/serving.py: %d exact and %d pattern rules\n" % (n_exact, n_pat))
        fh.write("set hosts %s\n" % HOST)
        for j in range(n_pat):
            seg, item = pattern_parts(j)
            fh.write("/%s/%s/:slug -> /new/%d/:slug\n" % (seg, item, j))
        for i in range(n_exact):
            fh.write("%s -> /new/%d\n" % (exact_source(i), i))


def requests_for(n_exact, n_pat):
    """(kind, raw path) per request kind."""
    e = exact_source(n_exact // 2)
    seg, item = pattern_parts(n_pat // 2)
    return [
        ("pass", "/about/team?x=1"),
        ("exact hit", e + "?x=1"),
        ("pattern hit", "/%s/%s/my-slug?x=1" % (seg, item)),
        # the same exact hit with one byte percent-encoded: not normal form
        ("non-normal", e.replace("/old/", "/ol%64/") + "?x=1"),
    ]


# ---- anchors ----------------------------------------------------------------

def pow2ceil(n):
    p = 1
    while p < n:
        p <<= 1
    return p


def write_nginx_anchor(d, n_exact, n_pat):
    http = os.path.join(d, "anchor.http.conf")
    server = os.path.join(d, "anchor.server.conf")
    with open(http, "w") as fh:
        fh.write("map_hash_bucket_size 1024;\nmap_hash_max_size %d;\n" % max(2048, pow2ceil(n_exact)))
        fh.write("map $uri $anchor {\n    default \"\";\n")
        for i in range(n_exact):
            fh.write("    \"%s\" \"/new/%d\";\n" % (exact_source(i), i))
        fh.write("}\n")
    with open(server, "w") as fh:
        fh.write("if ($anchor) { return 301 $anchor$is_args$args; }\n")
        for j in range(n_pat):
            seg, item = pattern_parts(j)
            fh.write("if ($uri ~ \"^/%s/%s/([^/]+)$\") { return 301 /new/%d/$1$is_args$args; }\n"
                     % (seg, item, j))
    return http, server


def write_apache_anchor(d, n_exact, n_pat):
    txt = os.path.join(d, "anchor.map.txt")
    with open(txt, "w") as fh:
        for i in range(n_exact):
            fh.write("%s /new/%d\n" % (exact_source(i), i))
    if n_exact > DBM_THRESHOLD:
        dbm = os.path.join(d, "anchor.map.gdbm")
        subprocess.run(["httxt2dbm", "-f", "GDBM", "-i", txt, "-o", dbm], check=True,
                       stdout=subprocess.DEVNULL)
        spec = "dbm=gdbm:" + dbm
    else:
        spec = "txt:" + txt
    conf = os.path.join(d, "anchor.conf")
    with open(conf, "w") as fh:
        fh.write("RewriteEngine On\nRewriteMap anchor \"%s\"\n" % spec)
        fh.write("RewriteCond ${anchor:%{REQUEST_URI}} ^(.+)$\nRewriteRule ^ %1 [R=301,L]\n")
        for j in range(n_pat):
            seg, item = pattern_parts(j)
            fh.write("RewriteRule \"^/%s/%s/([^/]+)$\" \"/new/%d/$1\" [R=301,L]\n" % (seg, item, j))
    return conf


# ---- measuring --------------------------------------------------------------

def cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as fh:
                f = fh.read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except OSError:
            pass
    return total


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def ab(port, path, seconds, limit):
    url = "http://127.0.0.1:%d%s" % (port, path)
    res = subprocess.run(["ab", "-k", "-q", "-c", "1", "-t", str(seconds), "-n", str(limit),
                          "-H", "Host: " + HOST, url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = re.search(r"Complete requests:\s+(\d+)", res.stdout)
    rps = re.search(r"Requests per second:\s+([\d.]+)", res.stdout)
    if res.returncode != 0 or not done or not rps:
        raise RuntimeError("ab failed for %s: %s %s" % (url, res.stdout[-400:], res.stderr[-400:]))
    return int(done.group(1)), float(rps.group(1))


def measure(server, path, seconds, limit):
    """(µs of worker CPU per request, requests/s)."""
    ab(server.port, path, 0.2, 200)  # warm up
    kids = _children(server.pid)
    c0 = cpu_ticks(kids)
    done, rps = ab(server.port, path, seconds, limit)
    c1 = cpu_ticks(kids)
    if _children(server.pid) != kids:
        print("  (warning: the workers changed during a measurement)")
    return (c1 - c0) * 1e6 / TICK / max(done, 1), rps


def explain(redirc, rules, path):
    res = subprocess.run([redirc, "explain", rules, path, "--host", HOST],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    f = res.stdout.rstrip("\n").split("\t")
    return None if f[1:] == ["pass"] else (int(f[1]), f[2])


def check_answers(redirc, rules, servers, reqs):
    for kind, path in reqs:
        want = explain(redirc, rules, path)
        for label, srv in servers:
            if not label.startswith("redirc"):
                continue
            st, loc = raw_request(srv.port, path.encode(), HOST)
            loc = re.sub(r"^https?://[^/]*", "", loc or "")
            ok = (want is None and st not in (301, 302, 303, 307, 308, 410)) or \
                 (want is not None and st == want[0] and loc.lower() == want[1].lower())
            if not ok:
                raise SystemExit("serving: %s answers %s %s with %r, explain says %r"
                                 % (label, kind, path, (st, loc), want))


def start_servers(d, base, n_exact, n_pat, only=None):
    ng_http, ng_server = write_nginx_anchor(d, n_exact, n_pat)
    ap_conf = write_apache_anchor(d, n_exact, n_pat)
    one_child = ("KeepAlive On\nMaxKeepAliveRequests 0\nStartServers 1\nMinSpareServers 1\n"
                 "MaxSpareServers 1\nServerLimit 1\nMaxRequestWorkers 1\n")
    specs = [
        ("redirc nginx", lambda: Nginx(os.path.join(d, "ng-r"), base + ".http.conf", base + ".server.conf",
                                       [HOST], modules=["ngx_http_js_module"], access_log=False,
                                       start_timeout=600)),
        ("anchor nginx", lambda: Nginx(os.path.join(d, "ng-a"), ng_http, ng_server, [HOST],
                                       access_log=False, start_timeout=600)),
        ("redirc apache", lambda: Apache(os.path.join(d, "ap-r"), base + ".conf", [HOST], modules=["lua"],
                                         main_extra=one_child, access_log=False)),
        ("redirc apache-dbd", lambda: Apache(os.path.join(d, "ap-d"), base + ".dbd.conf", [HOST],
                                             modules=["lua", "dbd"], main_extra=one_child,
                                             access_log=False)),
        ("anchor apache", lambda: Apache(os.path.join(d, "ap-a"), ap_conf, [HOST],
                                         main_extra=one_child, access_log=False)),
    ]
    started = []
    try:
        for label, make in specs:
            if only and only not in label:
                continue
            srv = make()
            srv.start()
            started.append((label, srv))
    except BaseException:
        for _, srv in started:
            srv.stop()
        raise
    return started


def run_size(args, redirc, tmp, n_exact, n_pat):
    d = os.path.join(tmp, "e%d-p%d" % (n_exact, n_pat))
    os.makedirs(d)
    rules = os.path.join(d, "rules.redir")
    write_rules(rules, n_exact, n_pat)
    base = os.path.join(d, "site")
    t0 = time.monotonic()
    res = subprocess.run([redirc, "compile", rules, "--target", "nginx", "--target", "apache",
                          "-o", base], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise SystemExit("serving: compile failed: %s" % res.stderr[-2000:])
    t1 = time.monotonic()
    servers = start_servers(d, base, n_exact, n_pat)
    print("\n== %d exact rules, %d pattern rules (compile %.1f s, servers up %.1f s)"
          % (n_exact, n_pat, t1 - t0, time.monotonic() - t1), flush=True)
    try:
        reqs = requests_for(n_exact, n_pat)
        check_answers(redirc, rules, servers, reqs)
        results = {}
        for _round in range(args.rounds):
            for kind, path in reqs:
                for label, srv in servers:
                    results.setdefault((kind, label), []).append(
                        measure(srv, path, args.seconds, args.limit))
        print("%-12s %-10s %12s %12s %7s %10s %10s %7s" % (
            "request", "server", "redirc µs", "anchor µs", "ratio", "redirc r/s", "anchor r/s", "ratio"))
        rows = []
        for kind, _path in reqs:
            for sv in ("nginx", "apache", "apache-dbd"):
                r = results[(kind, "redirc " + sv)]
                a = results[(kind, "anchor " + sv.split("-")[0])]
                rc = statistics.median(x[0] for x in r)
                ac = statistics.median(x[0] for x in a)
                rr = statistics.median(x[1] for x in r)
                ar = statistics.median(x[1] for x in a)
                print("%-12s %-10s %12.1f %12.1f %6.2fx %10.0f %10.0f %6.2fx" % (
                    kind, sv, rc, ac, rc / ac if ac else float("nan"), rr, ar, rr / ar if ar else float("nan")),
                    flush=True)
                rows.append((n_exact, n_pat, kind, sv, rc, ac, rr, ar))
        return rows
    finally:
        for _, srv in servers:
            srv.stop()


def run_memory(args, redirc, tmp):
    """Apache child RSS over N distinct request paths, redirc and anchor."""
    n_exact = args.exact[0]
    d = os.path.join(tmp, "memory")
    os.makedirs(d)
    rules = os.path.join(d, "rules.redir")
    write_rules(rules, n_exact, 10)
    base = os.path.join(d, "site")
    subprocess.run([redirc, "compile", rules, "--target", "apache", "--target", "nginx", "-o", base],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers = start_servers(d, base, n_exact, 10, only="apache")
    print("\n== Apache (prefork, one child) RSS over %d distinct request paths, %d exact rules"
          % (args.memory, n_exact))
    try:
        import socket
        for label, srv in servers:
            child = _children(srv.pid)[0]
            ab(srv.port, "/warm", 0.2, 200)
            before = rss_kb(child)
            s = socket.create_connection(("127.0.0.1", srv.port))
            buf = b""
            marks = []
            for i in range(args.memory):
                if i and i % (args.memory // 4) == 0:
                    marks.append(rss_kb(child))
                if i and i % 100 == 0:
                    # a new connection every 100 requests (Apache's default
                    # MaxKeepAliveRequests): what one connection allocates
                    # is freed with it, and is not what is measured here
                    s.close()
                    s = socket.create_connection(("127.0.0.1", srv.port))
                # every other path is not in normal form: the Lua helper answers it
                path = b"/missing/%d/page" % i if i % 2 == 0 else b"/missing/%d/pag%%65" % i
                s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, HOST.encode()))
                while b"\r\n\r\n" not in buf:
                    buf += s.recv(65536)
                head, _, buf = buf.partition(b"\r\n\r\n")
                m = re.search(rb"Content-Length: (\d+)", head, re.I)
                need = int(m.group(1)) if m else 0
                while len(buf) < need:
                    buf += s.recv(65536)
                buf = buf[need:]
            s.close()
            after = rss_kb(child)
            same = child in _children(srv.pid)
            half = marks[1] if len(marks) > 1 else before
            print("%-18s child RSS %6.1f MB -> %6.1f MB (+%.1f MB, %.0f bytes per path); "
                  "second half of the paths: +%.1f MB (%.0f bytes per path)%s" % (
                      label, before / 1024, after / 1024, (after - before) / 1024,
                      (after - before) * 1024 / args.memory, (after - half) / 1024,
                      (after - half) * 1024 / (args.memory - args.memory // 2),
                      "" if same else " (child replaced!)"), flush=True)
            print("%-18s RSS at each quarter: %s MB" % (
                "", " ".join("%.1f" % (m / 1024) for m in [before] + marks + [after])))
    finally:
        for _, srv in servers:
            srv.stop()


def main():
    # SIGTERM ends the run like ^C: the servers are stopped by the finally blocks
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--redirc")
    ap.add_argument("--quick", action="store_true", help="100 and 10,000 exact x 10 and 1,000 patterns, short runs")
    ap.add_argument("--exact", type=lambda s: [int(x) for x in s.split(",")])
    ap.add_argument("--patterns", type=lambda s: [int(x) for x in s.split(",")])
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--limit", type=int, default=50000, help="at most this many requests per measurement")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--memory", type=int, help="measure Apache child RSS over N distinct paths instead")
    args = ap.parse_args()
    if args.quick:
        args.exact = args.exact or [100, 10000]
        args.patterns = args.patterns or [10, 1000]
        args.seconds = args.seconds or 1.0
        args.rounds = args.rounds or 3
    args.exact = args.exact or [100, 10000, 1000000]
    args.patterns = args.patterns or [10, 100, 1000, 10000]
    args.seconds = args.seconds or 2.0
    args.rounds = args.rounds or 3
    for tool in ("ab", "nginx", "/usr/sbin/apache2", "httxt2dbm"):
        if not shutil.which(tool):
            sys.exit("serving: %s not found (tools/bootstrap.sh installs it)" % tool)
    redirc = find_redirc(args.redirc)
    tmp = tempfile.mkdtemp(prefix="redirc-serving-")
    os.chmod(tmp, 0o755)
    print("serving: redirc %s; nginx 1 worker, Apache prefork 1 child; ab -k -c 1, %.1f s per "
          "measurement, %d rounds, medians" % (redirc, args.seconds, args.rounds))
    try:
        if args.memory:
            run_memory(args, redirc, tmp)
            return 0
        rows = []
        for e in args.exact:
            for p in args.patterns:
                rows += run_size(args, redirc, tmp, e, p)
        # the goals: normal-form pass and exact hit at most 1.1x the anchor's
        # CPU; pattern hit and pass with the most patterns at most 1.5x the
        # cost with the fewest (same exact size)
        print("\n== goals")
        for (e, p, kind, sv, rc, ac, _rr, _ar) in rows:
            if kind in ("pass", "exact hit"):
                print("%-10s %8d exact %6d patterns %-10s redirc/anchor CPU %5.2fx  %s" % (
                    sv, e, p, kind, rc / ac, "met" if rc <= 1.1 * ac else "MISSED"))
        pmin, pmax = min(args.patterns), max(args.patterns)
        if pmin != pmax:
            for e in args.exact:
                for sv in ("nginx", "apache", "apache-dbd"):
                    for kind in ("pass", "pattern hit"):
                        lo = [r for r in rows if r[:4] == (e, pmin, kind, sv)]
                        hi = [r for r in rows if r[:4] == (e, pmax, kind, sv)]
                        if lo and hi:
                            ratio = hi[0][4] / lo[0][4]
                            print("%-10s %8d exact %-11s %d patterns / %d patterns CPU %5.2fx  %s" % (
                                sv, e, kind, pmax, pmin, ratio, "met" if ratio <= 1.5 else "MISSED"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
