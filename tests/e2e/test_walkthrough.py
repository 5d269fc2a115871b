"""The README's walk-through (issue 16) runs as it stands.

The shell block between `<!-- walkthrough: begin -->` and
`<!-- walkthrough: end -->` in README.md is run with bash -euo pipefail,
`top` set to the source tree, `redirc` on the PATH and TMPDIR a fresh
folder (removed afterwards).  It changes a rule, diffs, compiles with a
report, verifies against the test nginx and reads its access log; the test
then checks what each step printed.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def walkthrough_block():
    with open(os.path.join(common.TOP, "README.md"), encoding="utf-8") as fh:
        text = fh.read()
    m = re.search(r"<!-- walkthrough: begin -->\s*```sh\n(.*?)```\s*<!-- walkthrough: end -->",
                  text, re.S)
    if not m:
        sys.exit("README.md has no walk-through block between the markers")
    return m.group(1)


def main():
    script = walkthrough_block()
    with tempfile.TemporaryDirectory(prefix="redirc-walk-") as tmp:
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        os.symlink(os.path.abspath(common.redirc()), os.path.join(bindir, "redirc"))
        env = dict(os.environ, top=common.TOP, TMPDIR=tmp,
                   PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        res = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        out = res.stdout.decode("utf-8", "replace")
        err = res.stderr.decode("utf-8", "replace")
        if res.returncode != 0:
            sys.exit("walk-through failed (exit %d)\n--- stdout\n%s\n--- stderr\n%s"
                     % (res.returncode, out, err))
        checks = [
            # diff: the changed rule, with its request before and after
            ("diff names the change", "behaviour differs: 0 rules added, 0 removed, 1 changed"),
            ("diff shows the request", "/contact-us  301 /contact  ->  301 /support"),
            # the report lists the inputs with their digests
            ("report lists the input", '"path": "site.redir"'),
            # verify: everything equal against nginx
            ("verify all equal", " 0 mismatches, 0 without an answer"),
            # coverage: the changed rule was hit by verify's requests
            ("coverage counts", "site.redir:20  /contact-us  last "),
        ]
        for label, needle in checks:
            if needle not in out:
                sys.exit("walk-through: %s: %r not in the output:\n%s" % (label, needle, out))
        m = re.search(r"(\d+) requests to http://127\.0\.0\.1:\d+: (\d+) equal", out)
        if not m or m.group(1) != m.group(2) or int(m.group(1)) < 40:
            sys.exit("walk-through: verify did not ask enough requests:\n" + out)
        work = [d for d in os.listdir(tmp) if d.startswith("tmp.")]
        if len(work) != 1:
            sys.exit("walk-through: expected one work folder in TMPDIR, found %r" % work)
        with open(os.path.join(tmp, work[0], "live.json"), encoding="utf-8") as fh:
            report = json.load(fh)
        if report["started"] != "2026-01-01T00:00:00Z" or report["seconds"] != 0:
            sys.exit("walk-through: SOURCE_DATE_EPOCH did not fix the report's time: %r" % report)
    print("walk-through: ok")


if __name__ == "__main__":
    main()
