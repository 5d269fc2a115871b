#!/usr/bin/env python3
"""Pattern rules in the table target: lookup cost against the number of
pattern rules, and side by side with another build (e.g. before a change).

For each P in --patterns, bench/gen-pattern-rules.py writes P pattern rules
of five shapes (distinct first segments, a shared first segment, two
literal segments, a placeholder first, host blocks) and their requests (a
pass, the last pattern of each shape, misses under the shared prefixes, an
exact hit, a 1000-segment path); each build compiles them with its own
redirc, and bench/table-pattern-bench.c, linked against that build's
libredir, times each request (ns per lookup: --reps lookups after a
warm-up, in 101 batches, the median batch).  Rounds alternate between the
builds; the figures are medians of --rounds, the ratios medians of the
per-round ratios.

usage: bench/table-patterns.py [--build DIR] [--baseline DIR]
           [--patterns 10,100,1000,10000] [--rounds 5] [--reps 20000]

DIR: a configured and built tree (redirc, .libs/libredir.so).  A baseline
tree at another commit: `git worktree add`, or `git archive REV | tar -x`,
then autogen, configure, make.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def build_bench(build, out):
    src_runtime = os.path.join(os.path.dirname(HERE), "runtime")
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-std=c11", "-D_GNU_SOURCE", "-I" + src_runtime, "-o", out,
                    os.path.join(HERE, "table-pattern-bench.c"),
                    os.path.join(build, ".libs", "libredir.so"),
                    "-Wl,-rpath," + os.path.join(build, ".libs"), "-lcmph"], check=True)


def one_round(bench, table, reqs, reps):
    res = subprocess.run([bench, table, reqs, str(reps)], stdout=subprocess.PIPE, check=True)
    out = {}
    for line in res.stdout.decode().splitlines():
        name, ns, st = line.split("\t")
        out[name] = (float(ns), int(st))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=".")
    ap.add_argument("--baseline")
    ap.add_argument("--patterns", default="10,100,1000,10000")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=20000)
    args = ap.parse_args()
    builds = [os.path.abspath(args.build)] + ([os.path.abspath(args.baseline)] if args.baseline else [])
    tmp = tempfile.mkdtemp(prefix="redirc-tpat-")
    try:
        benches = []
        for k, b in enumerate(builds):
            exe = os.path.join(tmp, "bench%d" % k)
            build_bench(b, exe)
            benches.append(exe)
        print("builds: %s" % "  |  ".join(builds))
        first = {}
        for p in [int(x) for x in args.patterns.split(",")]:
            src, reqs = os.path.join(tmp, "p%d.redir" % p), os.path.join(tmp, "p%d.txt" % p)
            subprocess.run([sys.executable, os.path.join(HERE, "gen-pattern-rules.py"), src, reqs,
                            str(p)], check=True)
            tables = []
            for k, b in enumerate(builds):
                base = os.path.join(tmp, "p%d_b%d" % (p, k))
                subprocess.run([os.path.join(b, "redirc"), "compile", src, "--target", "table",
                                "-o", base], check=True)
                tables.append(base + ".redirdb")
            rounds = [[] for _ in builds]
            for _ in range(args.rounds):
                for k in range(len(builds)):
                    rounds[k].append(one_round(benches[k], tables[k], reqs, args.reps))
            print("P=%d patterns: ns per lookup (median of %d rounds of %d)%s"
                  % (p, args.rounds, args.reps,
                     "; this build | baseline | ratio baseline/this" if len(builds) > 1 else ""))
            for name in rounds[0][0]:
                med = [statistics.median(r[name][0] for r in rounds[k]) for k in range(len(builds))]
                sts = set(r[name][1] for k in range(len(builds)) for r in rounds[k])
                line = "  %-16s %10.0f" % (name, med[0])
                if len(builds) > 1:
                    ratio = statistics.median(rounds[1][i][name][0] / rounds[0][i][name][0]
                                              for i in range(args.rounds))
                    line += " | %10.0f | %7.1fx" % (med[1], ratio)
                first.setdefault(name, med[0])
                line += "   (%.2fx the first P)" % (med[0] / first[name])
                if len(sts) != 1:
                    line += "  ANSWERS DIFFER: %s" % sorted(sts)
                print(line)
            sys.stdout.flush()
    finally:
        subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
