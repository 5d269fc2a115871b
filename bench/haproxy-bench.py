#!/usr/bin/env python3
"""Per-request cost of the haproxy target, against a hand-written HAProxy
map config of the same rules and against a bare HAProxy.

Rules: N exact rules (/old/I -> /new/I) and P pattern rules
(/secJ/:id/* -> /toJ/:id/*).  Three HAProxy instances (nbthread 1, on
127.0.0.1 free ports, started and stopped by pid through tests/e2e/servers.py):

  bare      no redirect lines at all (every request goes to the 200 backend)
  redirc    the artifacts of `redirc compile --target haproxy`
  hand      what an operator writes: `path,map_str(hand.map)` for the exact
            rules, then one `http-request redirect ... regsub ... if
            { path_beg /secJ/ }` line per pattern (not the spec's exact
            semantics: no normalization, no capture encoding, no query
            handling)

Requests: pass (/nothing/here), exact hit (/old/N-1), pattern hit (a path
under the last pattern, so every pattern line runs).  For each, in
interleaved rounds, R requests (one connection each) go to each instance;
the CPU time of the HAProxy process (sum of /proc/PID/task/*/schedstat,
nanoseconds on CPU) is read before and after.  Prints the median CPU per
request and the difference to `bare`.

    bench/haproxy-bench.py [--rules N] [--patterns P] [--requests R] [--rounds K]
    REDIRC=path/to/redirc to choose the binary
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import shutil

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from servers import Haproxy  # noqa: E402


def find_redirc():
    p = os.environ.get("REDIRC")
    if p:
        return p
    for c in (os.path.join(TOP, "build", "redirc"), os.path.join(TOP, "redirc")):
        if os.path.exists(c):
            return c
    sys.exit("haproxy-bench: no redirc found; set REDIRC")


def cpu_ns(pid):
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
            total += int(f.read().split()[0])
    return total


def one_request(port, path, expect):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1])
    if status != expect:
        sys.exit("haproxy-bench: %s answered %d, expected %d" % (path.decode(), status, expect))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rules", type=int, default=10000)
    ap.add_argument("--patterns", type=int, default=100)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    redirc = find_redirc()
    tmp = tempfile.mkdtemp(prefix="redirc-haproxy-bench-")
    try:
        rules = os.path.join(tmp, "rules.redir")
        with open(rules, "w") as f:
            f.write("set hosts www.example.com\n")
            for i in range(args.rules):
                f.write("/old/%d -> /new/%d\n" % (i, i))
            for j in range(args.patterns):
                f.write("/sec%d/:id/* -> /to%d/:id/*\n" % (j, j))
        base = os.path.join(tmp, "site")
        res = subprocess.run([redirc, "compile", rules, "--target", "haproxy", "-o", base],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if res.returncode != 0:
            sys.exit("haproxy-bench: compile failed: %s" % res.stderr.decode()[-2000:])
        hand_map = os.path.join(tmp, "hand.map")
        with open(hand_map, "w") as f:
            for i in range(args.rules):
                f.write("/old/%d /new/%d\n" % (i, i))
        hand = os.path.join(tmp, "hand.cfg")
        with open(hand, "w") as f:
            f.write("http-request redirect location %%[path,map_str(%s)] code 301 "
                    "if { path,map_str(%s) -m found }\n" % (hand_map, hand_map))
            for j in range(args.patterns):
                f.write("http-request redirect location %%[path,regsub(^/sec%d/,/to%d/)] code 301 "
                        "if { path_beg /sec%d/ }\n" % (j, j, j))
        empty = os.path.join(tmp, "empty.cfg")
        open(empty, "w").close()
        last = args.patterns - 1
        kinds = [("pass", b"/nothing/here", 200),
                 ("exact hit", ("/old/%d" % (args.rules - 1)).encode(), 301),
                 ("pattern hit", ("/sec%d/abc/x/y" % last).encode(), 301)]
        servers = [("bare", Haproxy(os.path.join(tmp, "bare"), empty)),
                   ("redirc", Haproxy(os.path.join(tmp, "redirc"), base + ".frontend.cfg",
                                      extra_files=[base + ".global.cfg"])),
                   ("hand", Haproxy(os.path.join(tmp, "hand"), hand))]
        for _, s in servers:
            s.start()
        try:
            per = {(n, k): [] for n, _ in servers for k, _, _ in kinds}
            for _ in range(args.rounds):
                for kname, path, expect in kinds:
                    for sname, s in servers:
                        st = 200 if sname == "bare" else expect
                        one_request(s.port, path, st)  # warm
                        t0 = cpu_ns(s.pid)
                        for _ in range(args.requests):
                            one_request(s.port, path, st)
                        per[(sname, kname)].append((cpu_ns(s.pid) - t0) / args.requests / 1000.0)
        finally:
            for _, s in servers:
                s.stop()
        print("haproxy-bench: %d exact rules, %d patterns, %d requests x %d rounds, HAProxy "
              "worker CPU per request (median, /proc/PID/task/*/schedstat)"
              % (args.rules, args.patterns, args.requests, args.rounds))
        print("%-12s %10s %10s %10s %14s %14s" % ("request", "bare us", "redirc us", "hand us",
                                                 "redirc-bare", "hand-bare"))
        for kname, _, _ in kinds:
            b = statistics.median(per[("bare", kname)])
            r = statistics.median(per[("redirc", kname)])
            h = statistics.median(per[("hand", kname)])
            print("%-12s %10.1f %10.1f %10.1f %+14.1f %+14.1f" % (kname, b, r, h, r - b, h - b))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
