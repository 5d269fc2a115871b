"""Shared helpers of the end-to-end tests.

A case is a `.redir` file in tests/e2e/cases/.  Besides its rules (and any
`expect` lines), it lists the requests to replay as comment lines:

    # request: /blog/a%20b?x=1
    # request: /pricing  host=old.example.com

The URL is sent as raw request bytes (it is already percent-encoded); `host=`
sets the Host header (absent: the test's default host).  The truth for every
request is `redirc explain` on the same file; each target's test compares
its own answer with it.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CASES = os.path.join(HERE, "cases")


def redirc():
    """The redirc binary under test (REDIRC from make check, else the build)."""
    path = os.environ.get("REDIRC")
    if path:
        return path
    for cand in (os.path.join(TOP, "redirc"), os.path.join(TOP, "build", "redirc")):
        if os.path.exists(cand):
            return cand
    sys.exit("REDIRC is not set and no built redirc was found")


def case_files():
    return sorted(os.path.join(CASES, f) for f in os.listdir(CASES) if f.endswith(".redir"))


def requests_of(case):
    """[(url, host or None)] from the `# request:` lines of a case."""
    out = []
    with open(case, "rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8").strip()
            if not line.startswith("# request:"):
                continue
            parts = line[len("# request:"):].split()
            url, host = parts[0], None
            for p in parts[1:]:
                if p.startswith("host="):
                    host = p[5:]
            out.append((url, host))
    return out


def explain(case, url, host=None):
    """(status, location) or None for pass, as `redirc explain` answers."""
    cmd = [redirc(), "explain", case, url]
    if host:
        cmd += ["--host", host]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if res.returncode not in (0, 1):
        raise RuntimeError("redirc explain failed: %s" % res.stderr.decode(errors="replace"))
    line = res.stdout.decode("latin-1").rstrip("\n")
    fields = line.split("\t")
    if len(fields) == 2 and fields[1] == "pass":
        return None
    if len(fields) != 4:
        raise RuntimeError("unexpected explain line %r" % line)
    status = int(fields[1])
    return (status, fields[2] if status != 410 else None)


def compile_case(case, target, base, extra=()):
    cmd = [redirc(), "compile", case, "--target", target, "-o", base] + list(extra)
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if res.returncode != 0:
        raise RuntimeError("redirc compile %s %s failed (exit %d): %s" % (
            case, target, res.returncode, res.stderr.decode(errors="replace")))


def norm_location(loc):
    """Compare Locations with percent-escapes' hex case folded."""
    if loc is None:
        return None
    out, i = [], 0
    while i < len(loc):
        if loc[i] == "%" and i + 2 < len(loc) + 0 and len(loc[i:i + 3]) == 3:
            out.append(loc[i:i + 3].upper())
            i += 3
        else:
            out.append(loc[i])
            i += 1
    return "".join(out)


def same_answer(truth, got):
    """Equal status and Location (hex case folded); both None = pass."""
    if truth is None or got is None:
        return truth is None and got is None
    return truth[0] == got[0] and norm_location(truth[1]) == norm_location(got[1])


class Tally:
    """Counts comparisons and prints the plain closing line."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: %s: %s" % (self.name, what))

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        return 0 if self.failed == 0 and self.passed > 0 else 1
