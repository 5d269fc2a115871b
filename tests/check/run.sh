#!/bin/sh
# Check corpus: every tests/check/*.redir states the diagnostics it must
# produce in header comments:
#   # diag: NAME LINE        (one per expected diagnostic; none = clean)
#   # args: EXTRA ARGS       (optional extra command line arguments)
#   # command: test          (optional; default check)
# The runner compares the set of (name, line) from --diagnostics-format=json
# exactly: a missed or an extra diagnostic fails the case.
set -u
: "${REDIRC:?REDIRC must name the redirc binary}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export REDIRC top_srcdir
exec python3 - <<'PY'
import glob, json, os, shlex, subprocess, sys

redirc = os.environ["REDIRC"]
root = os.environ["top_srcdir"]
cases = sorted(glob.glob(os.path.join(root, "tests", "check", "*.redir")))
passed = failed = 0
for path in cases:
    name = os.path.relpath(path, root)
    want, args, command = set(), [], "check"
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if s.startswith("# diag:"):
                parts = s[len("# diag:"):].split()
                want.add((parts[0], int(parts[1])))
            elif s.startswith("# args:"):
                args += shlex.split(s[len("# args:"):])
            elif s.startswith("# command:"):
                command = s[len("# command:"):].strip()
    cmd = [redirc, command, path, "--today", "2026-11-26",
           "--diagnostics-format=json"] + args
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    try:
        got = {(d["name"], d["line"]) for d in json.loads(p.stderr or "[]")
               if os.path.basename(d["file"]) == os.path.basename(path)}
        others = {(d["name"], d["file"], d["line"]) for d in json.loads(p.stderr or "[]")
                  if os.path.basename(d["file"]) != os.path.basename(path)}
    except ValueError:
        print("FAIL %s: diagnostics are not JSON: %r" % (name, p.stderr[:200]))
        failed += 1
        continue
    problems = []
    for n, l in sorted(want - got):
        problems.append("missed %s %d" % (n, l))
    for n, l in sorted(got - want):
        problems.append("extra %s %d" % (n, l))
    for n, f, l in sorted(others):
        problems.append("extra %s %s:%d" % (n, f, l))
    if p.returncode not in (0, 1):
        problems.append("exit status %d" % p.returncode)
    if problems:
        failed += 1
        print("FAIL %s: %s" % (name, "; ".join(problems)))
    else:
        passed += 1
print("check-corpus: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed or not cases else 0)
PY
