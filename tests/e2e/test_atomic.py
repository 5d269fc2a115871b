"""Atomic and deterministic outputs (spec section 5, issue 7).

- Compiling the same input twice gives byte-identical artifacts for every
  target, also with another clock, time zone and locale.
- A failed compile leaves earlier artifacts byte-identical and no temporary
  files: input errors, a full disk (RLIMIT_FSIZE), a process killed mid-way.
"""
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

TARGETS = ["nginx", "apache", "python", "table"]
EXAMPLE = os.path.join(common.TOP, "examples", "site.redir")


def compile_all(src, base, env=None, preexec=None, extra=()):
    cmd = [common.redirc(), "compile", src, "-o", base] + list(extra)
    for t in TARGETS:
        cmd += ["--target", t]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          preexec_fn=preexec)


def snapshot(d):
    out = {}
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if os.path.isfile(p):
            with open(p, "rb") as fh:
                out[name] = fh.read()
    return out


def main():
    t = common.Tally("atomic")
    work = tempfile.mkdtemp(prefix="redirc-atomic-")
    try:
        src = os.path.join(work, "site.redir")
        shutil.copy(EXAMPLE, src)
        os.makedirs(os.path.join(work, "teams"))
        shutil.copy(os.path.join(common.TOP, "examples", "teams", "blog.redir"),
                    os.path.join(work, "teams", "blog.redir"))
        out = os.path.join(work, "out")
        os.makedirs(out)
        base = os.path.join(out, "site")

        # 1. deterministic: twice, the second time with another zone and locale
        r = compile_all(src, base)
        t.check(r.returncode == 0, "first compile failed: %s" % r.stderr.decode(errors="replace"))
        first = snapshot(out)
        t.check(len(first) >= 8, "expected every target's files, got %s" % sorted(first))
        env = dict(os.environ, TZ="Pacific/Kiritimati", LC_ALL="C.UTF-8", LANG="de_DE.UTF-8")
        time.sleep(1.1)
        r = compile_all(src, base, env=env)
        t.check(r.returncode == 0, "second compile failed")
        second = snapshot(out)
        t.check(first == second, "artifacts differ between two compiles: %s" %
                [k for k in first if first.get(k) != second.get(k)])
        # and on another day: after the example's `expires 2027-03-01` the
        # rule draws an `expired` warning, and the artifacts stay the same
        r = compile_all(src, base, extra=["--today", "2028-01-01"])
        t.check(r.returncode == 0 and b"[expired]" in r.stderr,
                "a compile in 2028 should warn [expired] and succeed: %d %s" % (
                    r.returncode, r.stderr.decode(errors="replace")[-300:]))
        third = snapshot(out)
        t.check(first == third, "artifacts differ on another day: %s" %
                [k for k in first if first.get(k) != third.get(k)])

        # 2. an input error: nothing written, nothing left behind
        bad = os.path.join(work, "bad.redir")
        with open(bad, "w") as fh:
            fh.write("/a -> /b\n/c -> nowhere\n")
        r = compile_all(bad, base)
        t.check(r.returncode == 1, "a bad input must exit 1, got %d" % r.returncode)
        t.check(snapshot(out) == first, "a failed compile changed the artifacts")

        # 3. a full disk: every write past 4 KiB fails with EFBIG
        def small_files():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        changed = os.path.join(work, "changed.redir")  # beside teams/, so its include resolves
        with open(src) as fh:
            text = fh.read()
        with open(changed, "w") as fh:
            fh.write(text.replace("rollback: delete this line", "rollback: delete this line now", 1))
        r = compile_all(changed, base, preexec=small_files)
        t.check(r.returncode == 2, "a full disk must exit 2, got %d: %s" % (
            r.returncode, r.stderr.decode(errors="replace")))
        t.check(b"retry" in r.stderr, "the I/O error must say whether a retry can help: %r" % r.stderr)
        t.check(snapshot(out) == first, "a full disk changed the artifacts or left temporary files: %s" %
                sorted(set(snapshot(out)) ^ set(first)))

        # the changed input really makes other artifacts, so (3) could fail
        other = os.path.join(work, "other")
        os.makedirs(other)
        r = compile_all(changed, os.path.join(other, "site"))
        t.check(r.returncode == 0 and snapshot(other) != first,
                "the changed input should compile to different artifacts")

        # 4. killed mid-way: the final files are untouched
        big = os.path.join(work, "big.redir")
        with open(big, "w") as fh:
            for i in range(300000):
                fh.write("/old/page-%d/some/longer/path/segment -> /new/page-%d\n" % (i, i))
        p = subprocess.Popen([common.redirc(), "compile", big, "-o", base, "--target", "nginx",
                              "--target", "apache", "--target", "python", "--target", "table"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.8)
        p.kill()
        p.wait()
        now = snapshot(out)
        finals = {k: v for k, v in now.items() if ".tmp-" not in k}
        t.check(finals == first, "a killed compile changed the final artifacts")
        # the temporary files of a killed run are recognizable by name
        t.check(all(".tmp-" in k for k in set(now) - set(first)),
                "unexpected files after a kill: %s" % sorted(set(now) - set(first)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
