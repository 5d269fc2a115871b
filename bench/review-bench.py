#!/usr/bin/env python3
"""Benchmarks of issue 16: `redirc diff` against two `redirc check` runs,
and `redirc coverage` throughput in log lines per second.

    bench/review-bench.py [--redirc PATH] [--rules N] [--cov-rules N]
                          [--lines L] [--runs R] [--dir DIR]

diff: bench/gen-rules.py N rules (default 1,000,000) as OLD; NEW is OLD
with 0.1 % of the targets changed and one rule added.  Prints the median
of R runs of `check OLD`, `check NEW` and `diff OLD NEW`, and the ratio
diff / (check OLD + check NEW).

coverage: an exact-heavy rule set (gen-rules.py, --cov-rules, default
100,000) and L combined-format log lines (default 2,000,000: 85 % exact
rule hits, 5 % pattern rule hits, 10 % uncovered 404s).  Prints the median
wall time of `coverage` on the log and on a one-line log (loading the
rules), and lines per second = L / (difference).  One core: redirc is
single-threaded.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd, ok=(0,)):
    t = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.monotonic() - t
    if r.returncode not in ok:
        sys.exit("%s failed (exit %d): %s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
    return dt


def gen(n, path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        with open(path + ".tmp", "w") as fh:
            subprocess.run([sys.executable, os.path.join(HERE, "gen-rules.py"), str(n)],
                           stdout=fh, check=True)
        os.rename(path + ".tmp", path)
    return path


def changed_copy(src, dst):
    rng = random.Random(16)
    out = []
    with open(src, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            s = line.strip()
            if s.startswith("/") and " -> " in s and rng.random() < 0.001:
                tgt = s.split(" -> ", 1)[1].split()[0]
                line = line.replace(" -> " + tgt, " -> /new/changed-%d" % i, 1)
            out.append(line)
    out.append("/bench-added-rule -> /new/added\n")
    with open(dst, "w", encoding="utf-8") as fh:
        fh.writelines(out)
    return dst


def global_sources(path):
    exact, patterns = [], []
    depth = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            s = line.strip()
            if s.startswith("host ") and s.endswith("{"):
                depth += 1
            elif s == "}":
                depth -= 1
            elif depth == 0 and s.startswith("/") and " -> " in s:
                src, rest = s.split(" -> ", 1)
                words = rest.split()
                status = int(words[1]) if len(words) > 1 and words[1].isdigit() else 301
                (patterns if ("*" in src or "/:" in src) else exact).append((src.strip(), status))
    return exact, patterns


def request_of(src):
    src = src.replace("*", "a/b")
    src = "/".join("x1" if seg.startswith(":") else seg for seg in src.split("/"))
    return urllib.parse.quote(src, safe="/-._~!$&'()*+,;=:@%")


def make_log(rules, n, path):
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return path
    exact, patterns = global_sources(rules)
    rng = random.Random(1)
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        for i in range(n):
            r = rng.random()
            if r < 0.85:
                src, st = rng.choice(exact)
                p = request_of(src)
            elif r < 0.90 and patterns:
                src, st = rng.choice(patterns)
                p = request_of(src)
            else:
                p, st = "/no-such-page-%d" % rng.randint(1, 5000), 404
            fh.write('10.0.%d.%d - - [06/Dec/2026:%02d:%02d:%02d +0000] "GET %s HTTP/1.1" %d 162 '
                     '"-" "Mozilla/5.0 (bench)"\n'
                     % (i % 250, i % 199, (i // 3600) % 24, (i // 60) % 60, i % 60, p, st))
    os.rename(path + ".tmp", path)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--redirc", default=os.environ.get("REDIRC", "./redirc"))
    ap.add_argument("--rules", type=int, default=1000000)
    ap.add_argument("--cov-rules", type=int, default=100000)
    ap.add_argument("--lines", type=int, default=2000000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=os.environ.get("BENCH_DIR", "/tmp/redirc-bench"))
    ap.add_argument("--skip-diff", action="store_true")
    ap.add_argument("--skip-coverage", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    R = a.redirc
    if not a.skip_diff:
        old = gen(a.rules, os.path.join(a.dir, "rules-%d.redir" % a.rules))
        new = changed_copy(old, os.path.join(a.dir, "rules-%d-changed.redir" % a.rules))
        co, cn, df = [], [], []
        for _ in range(a.runs):  # side by side, interleaved
            co.append(timed([R, "check", old]))
            cn.append(timed([R, "check", new]))
            df.append(timed([R, "diff", old, new], ok=(1,)))
        mo, mn, md = (statistics.median(x) for x in (co, cn, df))
        print("diff, %d rules: check OLD %.2f s, check NEW %.2f s, diff %.2f s (medians of %d); "
              "diff / (two checks) = %.2f" % (a.rules, mo, mn, md, a.runs, md / (mo + mn)))
    if not a.skip_coverage:
        rules = gen(a.cov_rules, os.path.join(a.dir, "rules-%d.redir" % a.cov_rules))
        log = make_log(rules, a.lines, os.path.join(a.dir, "access-%d-%d.log" % (a.cov_rules, a.lines)))
        one = os.path.join(a.dir, "access-one.log")
        with open(log, encoding="utf-8") as src, open(one, "w", encoding="utf-8") as dst:
            dst.write(src.readline())
        full, load = [], []
        for _ in range(a.runs):
            load.append(timed([R, "coverage", rules, one]))
            full.append(timed([R, "coverage", rules, log]))
        mf, ml = statistics.median(full), statistics.median(load)
        print("coverage, %d rules, %d log lines: %.2f s (loading the rules %.2f s); "
              "%.2f million lines/s (medians of %d)"
              % (a.cov_rules, a.lines, mf, ml, a.lines / max(mf - ml, 1e-9) / 1e6, a.runs))


if __name__ == "__main__":
    main()
