#!/usr/bin/env python3
"""Property test of the rule-set analysis (issue 13).

Random rule sets (up to 8 rules, segments over the alphabet {a, b},
placeholders, a final splat, `gone`) are checked by `redirc check` and by
a brute force over every request path up to a bound:

- loop: some request comes back to a path it visited;
- unbounded: some request's path grows past GROW segments;
- dead: no request path (segments a, b and a fresh z, up to the longest
  source plus one) is answered first by the rule.

Issue 15: some sets use `set splat-parent no-match` (a source ending in
"/*" after a segment does not match that bare parent), and some put rules
in host blocks: a named host, a wildcard "*.d.com", "*.e.com" or the
nested "*.s.d.com", or "d.com, *.d.com" or "*.d.com, *.s.d.com"; a rule of
a wildcard-only block may send to https://:subdomain.e.com/... (or .d.com):
the request's subdomain (under the block's longest admitting name) moves
to the other domain, and the chain ends on a host no block admits.
Requests are then asked for no Host and for the hosts d.com, s.d.com,
z.d.com, a.s.d.com, s.e.com and z.e.com (z and a are named nowhere).

The analysis must agree exactly: a `loop` diagnostic iff brute force finds
a loop, `unbounded` iff it finds growth, and a rule is `shadowed` (or a
`duplicate`) iff it is dead.  On a disagreement the seed, the rule set and
both answers are printed and the exit status is 1.

  REDIRC=build/redirc python3 tests/property/prop_analysis.py [--count N] [--seed S]

`make check` runs 2,000 sets; the long run is --count 100000.

--strict: the sets (without host blocks) under `set trailing-slash
strict`, where a request path may end in '/', and only `shadowed` /
`duplicate` against dead rules (a source ending in "/*" takes the path
with the trailing slash, the splat empty; the bare parent only without
no-match).  Not in `make check`:

  REDIRC=build/redirc python3 tests/property/prop_analysis.py --strict --count 5000
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


HOSTS = (None, "d.com", "s.d.com", "z.d.com", "s.e.com", "z.e.com", "a.s.d.com")
SCOPES = (("*.d.com",), ("s.d.com",), ("d.com",), ("d.com", "*.d.com"),
          ("*.e.com",), ("s.e.com",), ("*.s.d.com",), ("*.d.com", "*.s.d.com"))
WILD_ONLY = (("*.d.com",), ("*.e.com",), ("*.s.d.com",), ("*.d.com", "*.s.d.com"))


class RuleSet:
    """Rules (as gen_rules makes them) with the issue 15 extras: the
    splat-parent policy and, per rule, a host scope (None = every host)
    and a :subdomain target domain (None = a relative target)."""

    def __init__(self, rules, nopar=False, scopes=None, subs=None):
        self.rules = rules
        self.nopar = nopar
        self.scopes = scopes or [None] * len(rules)
        self.subs = subs or [None] * len(rules)


def gen_set(seed):
    rules = gen_rules(random.Random(seed))
    rng = random.Random(seed * 7 + 1)  # the extras: the old sets stay as they were
    nopar = rng.random() < 0.3
    scopes, subs = None, None
    if rng.random() < 0.35:
        scopes = [rng.choice(SCOPES) if rng.random() < 0.7 else None for _ in rules]
        subs = []
        for sc, r in zip(scopes, rules):
            sub = None
            if sc in WILD_ONLY and r[2] is not None and rng.random() < 0.5:
                sub = rng.choice(("d.com", "e.com"))
            subs.append(sub)
    return RuleSet(rules, nopar, scopes, subs)


def admits(scope, host):
    if scope is None:
        return True
    if host is None:
        return False
    return any(n == host or (n.startswith("*.") and host.endswith(n[1:])) for n in scope)


def subdomain(scope, host):
    """SUB under the longest name of the block that admits the host."""
    names = [n for n in scope if n.startswith("*.") and host.endswith(n[1:])]
    return host[:-len(max(names, key=len)) + 1]


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


def text(rs):
    if not isinstance(rs, RuleSet):
        rs = RuleSet(rs)
    out = ["set splat-parent no-match"] if rs.nopar else []
    for (src, splat, tgt), scope, sub in zip(rs.rules, rs.scopes, rs.subs):
        line = rule_text(src, splat, tgt, sub)
        out.append(line if scope is None else "host %s {\n    %s\n}" % (", ".join(scope), line))
    return "\n".join(out) + "\n"


def rule_text(src, splat, tgt, sub):
    s = "".join("/" + (v if kind == "lit" else ":" + v) for kind, v in src)
    s = (s + "/*") if splat else (s or "/")
    if tgt is None:
        return "%s gone" % s
    t = "".join("/" + (v if kind == "lit" else ":" + v if kind == "param" else "*")
                for kind, v in tgt) or "/"
    if sub:
        t = "https://:subdomain.%s%s" % (sub, t)
    return "%s -> %s" % (s, t)


def match(rule, path, nopar=False):
    src, splat, _ = rule
    k = len(src)
    if len(path) < k or (not splat and len(path) != k):
        return None
    if splat and nopar and k > 0 and len(path) == k:
        return None  # splat-parent no-match: not the bare parent
    caps = {}
    for (kind, v), seg in zip(src, path):
        if kind == "lit":
            if seg != v:
                return None
        else:
            caps[v] = seg
    return caps, path[k:]


def first(rs, host, path):
    for i, r in enumerate(rs.rules):
        if not admits(rs.scopes[i], host):
            continue
        m = match(r, path, rs.nopar)
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


def brute(rs):
    rules = rs.rules
    hosts = HOSTS if any(s is not None for s in rs.scopes) else (None,)
    served = {h for h in hosts if h and any(s and admits(s, h) for s in rs.scopes)}
    longest = max(len(r[0]) for r in rules) + 1
    paths = [p for n in range(longest + 1) for p in itertools.product(VALUES, repeat=n)]
    live = set()
    loop = unbounded = False
    for h in hosts:
        for p in paths:
            i, _ = first(rs, h, p)
            if i is not None:
                live.add(i)
    for h0 in hosts:
        for p in itertools.chain(paths, [tuple(VALUES[:1]) * (longest + 1)]):
            seen = {(h0, p)}
            host, cur = h0, p
            for _ in range(HOPS):
                i, m = first(rs, host, cur)
                if i is None or rules[i][2] is None:
                    break
                cur = apply(rules[i], m)
                if rs.subs[i]:
                    host = subdomain(rs.scopes[i], host) + "." + rs.subs[i]
                    if host not in served:
                        break  # the chain leaves the hosts the rules serve
                if (host, cur) in seen:
                    loop = True
                    break
                if len(cur) > GROW:
                    unbounded = True
                    break
                seen.add((host, cur))
    dead = {i for i in range(len(rules)) if i not in live}
    return loop, unbounded, dead


def match_strict(rule, segs, trailing, nopar):
    """Does the source match the path (segments, trailing '/') under
    trailing-slash strict?"""
    src, splat, _ = rule
    k = len(src)
    if len(segs) < k or any(kind == "lit" and seg != v for (kind, v), seg in zip(src, segs)):
        return False
    if not splat:
        return len(segs) == k and not trailing
    if k == 0 or len(segs) > k or trailing:
        return True
    return not nopar  # the bare parent


def brute_strict_dead(rs):
    longest = max(len(r[0]) for r in rs.rules) + 1
    live = set()
    for n in range(longest + 1):
        for segs in itertools.product(VALUES, repeat=n):
            for trailing in ((False,) if n == 0 else (False, True)):
                for i, r in enumerate(rs.rules):
                    if match_strict(r, segs, trailing, rs.nopar):
                        live.add(i)
                        break
    return {i for i in range(len(rs.rules)) if i not in live}


def analysis(redirc, rs, tmp, strict=False):
    with open(tmp, "w") as f:
        if strict:
            f.write("set trailing-slash strict\n")
        f.write(text(rs))
    p = subprocess.run([redirc, "check", tmp, "--diagnostics-format=json", "-Wno-chain"],
                       capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise RuntimeError("redirc exit %d: %s" % (p.returncode, p.stderr[:300]))
    diags = json.loads(p.stderr or "[]")
    names = [(d["name"], d["line"]) for d in diags]
    loop = any(n == "loop" for n, _ in names)
    unb = any(n == "unbounded" for n, _ in names)
    lines = line_rules(rs, strict)
    dead = {lines[l] for n, l in names if n in ("shadowed", "duplicate")}
    undecided = [l for n, l in names if n == "undecided"]
    return loop, unb, dead, undecided


def line_rules(rs, strict=False):
    """File line -> rule index."""
    out, line = {}, 1 + rs.nopar + strict
    for i, scope in enumerate(rs.scopes):
        line += scope is not None
        out[line] = i
        line += 1 + (scope is not None)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    redirc = os.environ.get("REDIRC", "redirc")
    fd, tmp = tempfile.mkstemp(suffix=".redir")
    os.close(fd)
    failures = undecided = 0
    try:
        for n in range(a.count):
            seed = a.seed * 1000003 + n
            rules = gen_set(seed)
            if a.strict:
                rules = RuleSet(rules.rules, rules.nopar)
                want = (False, False, brute_strict_dead(rules))
                got = analysis(redirc, rules, tmp, strict=True)
                got = (False, False) + got[2:]
            else:
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
