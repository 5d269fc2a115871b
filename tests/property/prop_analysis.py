#!/usr/bin/env python3
"""Property test of the rule-set analysis (issue 13).

Random rule sets (up to 8 rules, segments over the alphabet {a, b},
placeholders, a final splat, `gone`) are checked by `redirc check` and by
a brute force over every request path up to a bound:

- loop: some request comes back to a path it visited;
- unbounded: some request's path grows past GROW segments;
- dead: no request path (segments a, b and a fresh z, up to the longest
  source plus one) is answered first by the rule.

The analysis must agree exactly: a `loop` diagnostic iff brute force finds
a loop, `unbounded` iff it finds growth, and a rule is `shadowed` (or a
`duplicate`) iff it is dead.  On a disagreement the seed, the rule set and
both answers are printed and the exit status is 1.

  REDIRC=build/redirc python3 tests/property/prop_analysis.py [--count N] [--seed S]

`make check` runs 2,000 sets; the long run is --count 100000.
"""
import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile

ALPHA = ("a", "b")
VALUES = ("a", "b", "z")   # z: a value no rule mentions
GROW = 24                  # a path longer than this grows without end
HOPS = 200


def gen_rules(rng):
    rules = []
    for _ in range(rng.randint(1, 8)):
        k = rng.randint(0, 3)
        src, params = [], []
        for i in range(k):
            if rng.random() < 0.5:
                src.append(("lit", rng.choice(ALPHA)))
            else:
                src.append(("param", "p%d" % i))
                params.append("p%d" % i)
        splat = rng.random() < 0.45
        if rng.random() < 0.08:
            rules.append((src, splat, None))
            continue
        tgt = []
        for _ in range(rng.randint(0, 3)):
            if params and rng.random() < 0.5:
                tgt.append(("param", rng.choice(params)))
            else:
                tgt.append(("lit", rng.choice(ALPHA)))
        if splat and rng.random() < 0.7:
            tgt.append(("splat", None))
        rules.append((src, splat, tgt))
    return rules


def text(rules):
    out = []
    for src, splat, tgt in rules:
        s = "".join("/" + (v if kind == "lit" else ":" + v) for kind, v in src)
        s = (s + "/*") if splat else (s or "/")
        if tgt is None:
            out.append("%s gone" % s)
            continue
        t = "".join("/" + (v if kind == "lit" else ":" + v if kind == "param" else "*")
                    for kind, v in tgt) or "/"
        out.append("%s -> %s" % (s, t))
    return "\n".join(out) + "\n"


def match(rule, path):
    src, splat, _ = rule
    k = len(src)
    if len(path) < k or (not splat and len(path) != k):
        return None
    caps = {}
    for (kind, v), seg in zip(src, path):
        if kind == "lit":
            if seg != v:
                return None
        else:
            caps[v] = seg
    return caps, path[k:]


def first(rules, path):
    for i, r in enumerate(rules):
        m = match(r, path)
        if m is not None:
            return i, m
    return None, None


def apply(rule, m):
    caps, rest = m
    out = []
    for kind, v in rule[2]:
        if kind == "lit":
            out.append(v)
        elif kind == "param":
            out.append(caps[v])
        else:
            out.extend(rest)
    return tuple(out)


def brute(rules):
    longest = max(len(r[0]) for r in rules) + 1
    paths = [p for n in range(longest + 1) for p in itertools.product(VALUES, repeat=n)]
    live = set()
    loop = unbounded = False
    for p in paths:
        i, _ = first(rules, p)
        if i is not None:
            live.add(i)
    for p in itertools.chain(paths, [tuple(VALUES[:1]) * (longest + 1)]):
        seen = {p}
        cur = p
        for _ in range(HOPS):
            i, m = first(rules, cur)
            if i is None or rules[i][2] is None:
                break
            cur = apply(rules[i], m)
            if cur in seen:
                loop = True
                break
            if len(cur) > GROW:
                unbounded = True
                break
            seen.add(cur)
    dead = {i for i in range(len(rules)) if i not in live}
    return loop, unbounded, dead


def analysis(redirc, rules, tmp):
    with open(tmp, "w") as f:
        f.write(text(rules))
    p = subprocess.run([redirc, "check", tmp, "--diagnostics-format=json", "-Wno-chain"],
                       capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise RuntimeError("redirc exit %d: %s" % (p.returncode, p.stderr[:300]))
    diags = json.loads(p.stderr or "[]")
    names = [(d["name"], d["line"]) for d in diags]
    loop = any(n == "loop" for n, _ in names)
    unb = any(n == "unbounded" for n, _ in names)
    dead = {l - 1 for n, l in names if n in ("shadowed", "duplicate")}
    undecided = [l for n, l in names if n == "undecided"]
    return loop, unb, dead, undecided


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args()
    redirc = os.environ.get("REDIRC", "redirc")
    fd, tmp = tempfile.mkstemp(suffix=".redir")
    os.close(fd)
    failures = undecided = 0
    try:
        for n in range(a.count):
            seed = a.seed * 1000003 + n
            rules = gen_rules(random.Random(seed))
            want = brute(rules)
            got = analysis(redirc, rules, tmp)
            if got[3]:
                undecided += 1
            if got[:3] != want:
                failures += 1
                print("FAIL seed %d (--seed %d, set %d):\n%s  brute force: loop=%s unbounded=%s dead=%s\n"
                      "  redirc:      loop=%s unbounded=%s dead=%s" %
                      (seed, a.seed, n, text(rules), want[0], want[1], sorted(want[2]),
                       got[0], got[1], sorted(got[2])))
                if failures >= 10:
                    break
    finally:
        os.unlink(tmp)
    print("prop_analysis: %d sets, %d disagreements, %d undecided (seed %d)" %
          (a.count, failures, undecided, a.seed))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
