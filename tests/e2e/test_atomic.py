"""Atomic and deterministic outputs (spec section 5, issue 7).

- Compiling the same input twice gives byte-identical artifacts for every
  target, also with another clock, time zone and locale.
- A failed compile leaves earlier artifacts byte-identical and no temporary
  files: input errors, a full disk (RLIMIT_FSIZE), a process killed mid-way.
- Publication is all or nothing: when a later rename fails (a directory in
  the way), the files renamed before it are put back.
- Two compiles of one BASE at once: the second fails at once (exit 2, "a
  retry may help"), and the set is never mixed.
- Outputs follow the umask, and keep the mode of the file they replace.
- A file size limit (ulimit -f) without SIGXFSZ ignored by the caller: exit
  2, the file named, no temporaries; the apache target too (txt map and
  GDBM map).
- ${VAR} in -o or --map-dir never reaches the Apache configuration.
"""
import fcntl
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
        # (a killed compile leaves its lock file BASE.lock, unlocked)
        finals = {k: v for k, v in now.items() if ".tmp-" not in k and k != "site.lock"}
        t.check(finals == first, "a killed compile changed the final artifacts")
        # the temporary files of a killed run are recognizable by name
        t.check(all(".tmp-" in k or k == "site.lock" for k in set(now) - set(first)),
                "unexpected files after a kill: %s" % sorted(set(now) - set(first)))
        publication_checks(t, work, src)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return t.finish()


def write(path, text):
    with open(path, "w") as fh:
        fh.write(text)


def run(args, preexec=None, cwd=None):
    return subprocess.run([common.redirc()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          preexec_fn=preexec, cwd=cwd, timeout=120)


def leftovers(d):
    return sorted(n for n in os.listdir(d) if ".tmp-" in n or n.endswith(".lock"))


def publication_checks(t, work, src):
    # 5. all or nothing: a directory in the way of the second file of the
    # nginx set; the first (renamed before it) must be put back
    d = os.path.join(work, "rollback")
    os.makedirs(d)
    a, b2 = os.path.join(work, "a.redir"), os.path.join(work, "b.redir")
    write(a, "/a -> /one\n")
    write(b2, "/a -> /two\n")
    base = os.path.join(d, "x")
    r = run(["compile", a, "--target", "nginx", "-o", base])
    t.check(r.returncode == 0, "rollback setup: %r" % r.stderr)
    before = snapshot(d)
    os.unlink(base + ".server.conf")
    os.mkdir(base + ".server.conf")
    r = run(["compile", b2, "--target", "nginx", "-o", base])
    t.check(r.returncode == 2 and b"x.server.conf" in r.stderr,
            "a directory in the way: exit 2 naming it, got %d %r" % (r.returncode, r.stderr))
    after = snapshot(d)
    t.check(after.get("x.http.conf") == before["x.http.conf"] and after.get("x.js") == before["x.js"],
            "the files renamed before the failed one were not put back")
    t.check(leftovers(d) == [], "temporaries left after a rollback: %s" % leftovers(d))
    other = os.path.join(work, "rollback-other")
    os.makedirs(other)
    run(["compile", b2, "--target", "nginx", "-o", os.path.join(other, "x")])
    t.check(snapshot(other).get("x.http.conf") != before["x.http.conf"],
            "the second input should give another x.http.conf (else the rollback test is void)")

    # 6. a lock: a compile of a BASE whose lock is held fails at once
    d = os.path.join(work, "locked")
    os.makedirs(d)
    base = os.path.join(d, "x")
    r = run(["compile", a, "--target", "python", "-o", base])
    before = snapshot(d)
    with open(base + ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = run(["compile", b2, "--target", "python", "--target", "table", "-o", base])
        t.check(r.returncode == 2 and b"retry may help" in r.stderr and b"x.lock" in r.stderr,
                "a held lock: exit 2 saying a retry may help, got %d %r" % (r.returncode, r.stderr))
        t.check(snapshot(d) == dict(before, **{"x.lock": b""}), "a locked compile wrote files")
    os.unlink(base + ".lock")
    # two compiles at once, many times: the set is always one input's whole
    want = {}
    for name, inp in (("a", a), ("b", b2)):
        run(["compile", inp, "--target", "nginx", "--target", "python", "-o", base])
        want[name] = snapshot(d)
    t.check(want["a"] != want["b"], "the two inputs should give different sets")
    mixed, refused = 0, 0
    for _ in range(25):
        ps = [subprocess.Popen([common.redirc(), "compile", inp, "--target", "nginx", "--target",
                                "python", "-o", base], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE) for inp in (a, b2)]
        for p in ps:
            err = p.communicate()[1]
            if p.returncode == 2 and b"another redirc compile" in err:
                refused += 1
            elif p.returncode != 0:
                mixed += 100
        now = snapshot(d)
        if now != want["a"] and now != want["b"]:
            mixed += 1
    t.check(mixed == 0, "concurrent compiles left a mixed set or failed otherwise (%d)" % mixed)
    t.check(leftovers(d) == [], "concurrent compiles left %s" % leftovers(d))

    # 7. the umask, and the mode of a replaced file
    d = os.path.join(work, "modes")
    os.makedirs(d)
    base = os.path.join(d, "x")
    r = run(["compile", a, "--target", "python", "--target", "apache", "-o", base],
            preexec=lambda: os.umask(0o027))
    t.check(r.returncode == 0, "umask compile: %r" % r.stderr)
    modes = {n: os.stat(os.path.join(d, n)).st_mode & 0o7777 for n in os.listdir(d)}
    t.check(modes and all(m == 0o640 for m in modes.values()), "umask 027 should give 0640: %s" %
            {k: oct(v) for k, v in modes.items()})
    os.chmod(base + ".py", 0o600)
    r = run(["compile", b2, "--target", "python", "-o", base], preexec=lambda: os.umask(0o022))
    t.check(r.returncode == 0 and os.stat(base + ".py").st_mode & 0o7777 == 0o600,
            "a replaced file must keep its mode 0600, got %o" % (os.stat(base + ".py").st_mode & 0o7777))

    # 8. ulimit -f with the default SIGXFSZ action: redirc ignores it itself
    d = os.path.join(work, "fsize")
    os.makedirs(d)
    big = os.path.join(work, "big12k.redir")
    write(big, "".join("/old/p%d -> /new/p%d\n" % (i, i) for i in range(12000)))
    mid = os.path.join(work, "mid3k.redir")
    write(mid, "".join("/old/p%d -> /new/p%d\n" % (i, i) for i in range(3000)))

    def limit(n):
        def f():
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
        return f
    for target, inp, n, name in (("python", big, 65536, "x.py"), ("table", big, 65536, "x.redirdb"),
                                 ("apache", big, 1 << 20, "x.map.gdbm"),
                                 ("apache", mid, 32768, "x.map.txt|x.map.sqlite")):
        r = run(["compile", inp, "--target", target, "-o", os.path.join(d, "x")], preexec=limit(n))
        # (the apache maps are written together: whichever passes the limit first)
        named = any(n.encode() in r.stderr for n in name.split("|"))
        t.check(r.returncode == 2 and named and b"retry" in r.stderr,
                "%s past ulimit -f %d: exit 2 naming %s, got %d %r" % (
                    target, n, name, r.returncode, r.stderr[-400:]))
        t.check(os.listdir(d) == [], "%s past ulimit -f left %s" % (target, os.listdir(d)))

    # 9. ${VAR} in -o or --map-dir: refused before anything is written
    d = os.path.join(work, "dollar${HOME}")
    os.makedirs(d)
    r = run(["compile", a, "--target", "apache", "-o", os.path.join(d, "x")])
    t.check(r.returncode == 2 and b"'$'" in r.stderr and os.listdir(d) == [],
            "-o with ${HOME}: exit 2 and nothing written, got %d %r %s" % (
                r.returncode, r.stderr, os.listdir(d)))
    d = os.path.join(work, "mapdir")
    os.makedirs(d)
    r = run(["compile", a, "--target", "nginx", "--target", "apache", "-o", os.path.join(d, "x"),
             "--map-dir", "/srv/${APACHE_RUN_DIR}/maps"])
    t.check(r.returncode == 2 and b"--map-dir" in r.stderr and os.listdir(d) == [],
            "--map-dir with ${VAR}: exit 2 and nothing written, got %d %r %s" % (
                r.returncode, r.stderr, os.listdir(d)))


if __name__ == "__main__":
    sys.exit(main())
