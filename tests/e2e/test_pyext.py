#!/usr/bin/env python3
"""End-to-end test of the `redir` extension (python/redirmodule.c).

Every case in tests/e2e/cases/ and tests/e2e/python-cases/ is compiled to a
table and to a Python module; every `# request:` is answered by
redir.Table.lookup(), which must equal `redirc explain` (status, Location;
the rule's FILE:LINE through explain()) and be exactly what the generated
module's lookup() returns, for str and bytes arguments; random requests
built from each case's words must get exactly the module's answers.  Then
the errors (missing file, not a table, empty, truncated, version, corrupt
header, checksum), the API's edges, lookups from many threads, and hot
reload: threads hammering lookup() while `redirc compile` replaces the
table several times; every answer must belong wholly to one version, each
thread must see the versions in order, and a refused replacement keeps the
old table.

Runs under REDIR_PYTHON (tests/python/pyext_env.py).
Closing line: `pyext: N passed, M failed`.
"""
import os
import random
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import pyext_env  # noqa: E402,F401  (re-executes under REDIR_PYTHON)
import common  # noqa: E402
import redir  # noqa: E402
from test_python import load_module, random_url  # noqa: E402
from redir_middleware import split_target  # noqa: E402

T = common.Tally("pyext")


def case_list():
    extra = os.path.join(common.HERE, "python-cases")
    return common.case_files() + sorted(
        os.path.join(extra, f) for f in os.listdir(extra) if f.endswith(".redir"))


def request_parts(url, host):
    """(path, host, query) as str, the URL's own host winning."""
    h, path, query = split_target(url.encode("utf-8"))
    host = h.decode("utf-8") if h is not None else host
    return path.decode("utf-8"), host, query.decode("utf-8")


def explain_all(case, reqs):
    """The fields of `redirc explain`'s line for each (url, host), one run
    per host."""
    import subprocess
    out = {}
    for host in sorted(set(h for _, h in reqs), key=lambda h: h or ""):
        urls = [u for u, h in reqs if h == host]
        cmd = [common.redirc(), "explain", case] + urls + (["--host", host] if host else [])
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = res.stdout.decode("utf-8", "surrogateescape").split("\n")
        for url, line in zip(urls, lines):
            out[(url, host)] = line.split("\t")
    return [out.get(r, ["(no line)"]) for r in reqs]


def as_answer(fields):
    if len(fields) == 2 and fields[1] == "pass":
        return None
    if len(fields) != 4:
        return ("bad explain line", fields)
    return (int(fields[1]), fields[2] if fields[1] != "410" else None)


def case_words(case):
    words = set()
    with open(case, encoding="utf-8") as fh:
        for line in fh:
            for tok in line.split("#", 1)[0].split():
                if tok.startswith("/") or tok.startswith("http"):
                    words.update(w for w in tok.split("?")[0].split("/")
                                 if w and ":" not in w and "*" not in w and '"' not in w)
    return sorted(words) or ["a"]


_seq = [0]


def check_case(case, tmp):
    name = os.path.basename(case)[:-len(".redir")]
    _seq[0] += 1
    base = os.path.join(tmp, "c%02d_%s" % (_seq[0], name.replace("-", "_")))
    try:
        common.compile_case(case, "table", base)
        common.compile_case(case, "python", base)
    except RuntimeError as exc:
        T.check(False, "%s: %s" % (name, exc))
        return
    table = redir.Table(base + ".redirdb")
    mod = load_module(base + ".py", "pyext_" + os.path.basename(base))
    table.verify()
    reqs = common.requests_of(case)
    for (url, host), fields in zip(reqs, explain_all(case, reqs)):
        what = "%s: %s%s" % (name, url, " host=" + host if host else "")
        path, h, query = request_parts(url, host)
        truth = as_answer(fields)
        got = table.lookup(path, h, query)
        T.check(common.same_answer(truth, got), "%s: explain %r, table %r" % (what, truth, got))
        want = mod.lookup(path, h, query)
        T.check(got == want, "%s: module %r, table %r" % (what, want, got))
        b = table.lookup(path.encode("utf-8"), None if h is None else h.encode("utf-8"),
                         query.encode("utf-8"))
        T.check(b == got, "%s: bytes %r, str %r" % (what, b, got))
        ex = table.explain(path, h, query)
        if len(fields) == 4:
            info = ex[2] if ex else None
            T.check(info is not None and "%s:%d" % (info["file"], info["line"]) == fields[3]
                    and ex[:2] == got and table.lookup_rule(path, h, query)[0] == info["index"],
                    "%s: explain() %r, redirc explain %r" % (what, ex, fields))
        else:
            T.check(ex is None, "%s: explain() %r for a pass" % (what, ex))
    # random requests: exactly the module's answer
    rnd = random.Random(18)
    words = case_words(case)
    bad = 0
    for host in (None, "www.example.com", "OLD.example.com:8080", "a.example.com."):
        for _ in range(100):
            url = random_url(rnd, words)
            path, _, query = url.partition("?")
            want, got = mod.lookup(path, host, query), table.lookup(path, host, query)
            if want != got:
                bad += 1
                if bad <= 3:
                    print("  %s: %r host=%s: module %r, table %r" % (name, url, host, want, got))
    T.check(bad == 0, "%s: %d of 400 random requests differ from the module" % (name, bad))
    return table, mod


def expect_error(what, exc_type, fn, word=None):
    try:
        fn()
    except exc_type as exc:
        T.check(word is None or word in str(exc), "%s: %s lacks %r" % (what, exc, word))
        return exc
    except Exception as exc:  # the wrong class is a failure, not a crash
        T.check(False, "%s: %r, expected %s" % (what, exc, exc_type.__name__))
        return None
    T.check(False, "%s: no error, expected %s" % (what, exc_type.__name__))
    return None


def check_errors(tmp):
    base = os.path.join(tmp, "err")
    common.compile_case(os.path.join(common.CASES, "basic.redir"), "table", base)
    with open(base + ".redirdb", "rb") as fh:
        data = fh.read()

    def write(name, blob):
        p = os.path.join(tmp, name)
        with open(p, "wb") as fh:
            fh.write(blob)
        return p

    missing = os.path.join(tmp, "no-such.redirdb")
    exc = expect_error("missing", redir.MissingFileError, lambda: redir.Table(missing), "no-such")
    T.check(isinstance(exc, FileNotFoundError) and isinstance(exc, redir.Error) and
            exc.code == -1 and exc.path == missing and exc.filename == missing,
            "missing: %r" % (exc,))
    exc = expect_error("directory", redir.ReadError, lambda: redir.Table(tmp), "not a regular")
    T.check(isinstance(exc, OSError) and exc.code == -1, "directory: %r" % (exc,))
    expect_error("not a table", redir.NotATableError,
                 lambda: redir.Table(write("magic", b"NOTREDIR" + data[8:])), "magic")
    expect_error("empty", redir.TruncatedError, lambda: redir.Table(write("empty", b"")), "empty")
    exc = expect_error("truncated", redir.TruncatedError,
                       lambda: redir.Table(write("half", data[:len(data) // 2])), "truncated")
    T.check(exc is not None and exc.code == -2 and exc.path.endswith("half"), "truncated: %r" % (exc,))
    version = data[:8] + (99).to_bytes(4, sys.byteorder) + data[12:]
    expect_error("version", redir.VersionError, lambda: redir.Table(write("v99", version)), "99")
    header = data[:40] + bytes([data[40] ^ 1]) + data[41:]
    expect_error("header byte", redir.CorruptError, lambda: redir.Table(write("hdr", header)))
    flipped = data[:-8] + bytes([data[-8] ^ 0x40]) + data[-7:]
    t = redir.Table(write("flipped", flipped))
    expect_error("checksum", redir.ChecksumError, t.verify, "checksum")
    T.check(issubclass(redir.ChecksumError, redir.CorruptError), "ChecksumError is a CorruptError")
    # lookups on a table with a bad body never crash: an answer or CorruptError
    for url, host in common.requests_of(os.path.join(common.CASES, "basic.redir")):
        path, h, query = request_parts(url, host)
        try:
            t.lookup(path, h, query)
        except redir.CorruptError:
            pass
    expect_error("NUL in path", ValueError, lambda: redir.Table(base + ".redirdb\0x"))
    # random damage to the body (the header is checksummed): open, lookups
    # and rule_info answer or raise redir.Error, never crash
    rnd = random.Random(42)
    reqs = [request_parts(u, h) for u, h in
            common.requests_of(os.path.join(common.CASES, "basic.redir"))]
    odd = []
    for i in range(150):
        blob = bytearray(data)
        for _ in range(rnd.choice((1, 4, 16))):
            blob[rnd.randrange(256, len(blob))] = rnd.randrange(256)
        p = write("damaged%d" % i, bytes(blob))
        try:
            t = redir.Table(p)
            for path, h, query in reqs:
                t.lookup(path, h, query)
                t.explain(path, h, query)
            for j in range(len(t)):
                t.rule_info(j)
        except redir.Error:
            pass
        except Exception as exc:
            odd.append(exc)
        os.unlink(p)
    T.check(not odd, "damaged tables: %r" % odd[:3])


def check_api(tmp, basic):
    t, mod = basic
    T.check(len(t) == 7 and "7 rules" in repr(t), "len %d, repr %r" % (len(t), t))
    T.check(t.rule_info(-1)["index"] == 6 and t.rule_info(0)["owner"] == "growth" and
            t.rule_info(0)["note"] == "rollback: delete", "rule_info: %r" % (t.rule_info(0),))
    expect_error("rule_info(7)", IndexError, lambda: t.rule_info(7))
    expect_error("rule_info(-8)", IndexError, lambda: t.rule_info(-8))
    expect_error("lookup(1)", TypeError, lambda: t.lookup(1))
    expect_error("lookup()", TypeError, lambda: t.lookup())
    expect_error("lookup(bad kw)", TypeError, lambda: t.lookup("/", nope=1))
    expect_error("lookup(4 args)", TypeError, lambda: t.lookup("/", None, "", 1))
    expect_error("lookup(path twice)", TypeError, lambda: t.lookup("/", path="/"))
    T.check(t.lookup(path="/old-pricing", query="a=1") == (301, "/pricing?a=1") and
            t.lookup(raw_path="/old-pricing", host=None) == (301, "/pricing"),
            "keywords: %r" % (t.lookup(path="/old-pricing", query="a=1"),))
    T.check(t.lookup(bytearray(b"/old-pricing"), None, memoryview(b"x=1")) == (301, "/pricing?x=1"),
            "buffers: %r" % (t.lookup(bytearray(b"/old-pricing"), None, memoryview(b"x=1")),))
    # str with lone surrogates: the bytes they escape, as the module does
    odd = b"/old-pricing/\xff".decode("utf-8", "surrogateescape")
    T.check(t.lookup(odd) == mod.lookup(odd) and t.lookup(odd, None, "q=\udcff") ==
            mod.lookup(odd, None, "q=\udcff"), "surrogates: %r" % (t.lookup(odd, None, "q=\udcff"),))
    T.check(t.lookup("/moved", "a\0b", "x=1") == mod.lookup("/moved", "a\0b", "x=1"),
            "NUL in host: %r" % (t.lookup("/moved", "a\0b", "x=1"),))
    # long requests: the Location outgrows the 2 KiB buffer, the path the 4 KiB scratch
    q = "k=" + "v" * 5000
    T.check(t.lookup("/old-pricing", None, q) == mod.lookup("/old-pricing", None, q),
            "long query: %r" % (t.lookup("/old-pricing", None, q)[1][:40],))
    p = "/" + "a/" * 3000 + "../" * 3000 + "old-pricing"
    T.check(t.lookup(p, None, q) == mod.lookup(p, None, q) == (301, "/pricing?" + q),
            "long path: %r" % ((t.lookup(p, None, q) or ("pass",))[0],))
    T.check(t.lookup("/spring-sale") == (410, None) and t.lookup("/pricing") is None and
            t.lookup_rule("/spring-sale") == (4, 410, None), "410 and pass")
    with redir.Table(t.path) as t2:
        T.check(not t2.closed and t2.generation == 1 and t2.reload is False and
                t2.reload_error is None, "fresh table attributes")
    T.check(t2.closed, "closed after with")
    expect_error("closed lookup", ValueError, lambda: t2.lookup("/old-pricing"), "closed")
    expect_error("closed rule_info", ValueError, lambda: t2.rule_info(0), "closed")
    T.check(redir.Table(os.fsencode(t.path)).lookup("/old-pricing") == (301, "/pricing"),
            "bytes path")


def check_threads(basic):
    t, mod = basic
    reqs = [("/old-pricing", None, "a=%d" % i) for i in range(50)] + \
           [("/moved", "x", "y"), ("/spring-sale", None, ""), ("/nope", None, "")]
    want = [mod.lookup(*r) for r in reqs]
    errors = []

    def hammer(seed):
        rnd = random.Random(seed)
        try:
            for _ in range(20000):
                i = rnd.randrange(len(reqs))
                got = t.lookup(*reqs[i])
                if got != want[i]:
                    errors.append((reqs[i], got))
                    return
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(s,)) for s in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    T.check(not errors, "threads: %r" % errors[:3])


STATUSES = (301, 302, 307, 308, 303)


def version_source(k):
    """Version k of the reloaded rules: every answer names its version."""
    st = STATUSES[k % len(STATUSES)]
    lines = ["/r/:x -> /v%d/:x %d" % (k, st)]
    lines += ["/e%d -> /v%d/e%d %d" % (i, k, i, st) for i in range(50)]
    lines.append("/gone-%d gone" % k)
    return "\n".join(lines) + "\n"


def answer_version(path, ans):
    """The version a (status, location) answer wholly belongs to, or None."""
    if ans is None or not ans[1] or not ans[1].startswith("/v"):
        return None
    k = int(ans[1][2:].split("/", 1)[0])
    tail = path[len("/r"):] if path.startswith("/r/") else path
    ok = ans == (STATUSES[k % len(STATUSES)], "/v%d%s" % (k, tail))
    return k if ok else None


def compile_version(tmp, k, live):
    src = os.path.join(tmp, "v%d.redir" % k)
    with open(src, "w") as fh:
        fh.write(version_source(k))
    common.compile_case(src, "table", live)  # writes a temp file, then renames it


def check_reload(tmp):
    live = os.path.join(tmp, "live")
    compile_version(tmp, 0, live)
    t = redir.Table(live + ".redirdb", reload=True)
    T.check(t.reload and t.generation == 1, "reload table: %r" % (t,))
    # within the first second nothing is looked at
    compile_version(tmp, 1, live)
    T.check(t.lookup("/e1") == (301, "/v0/e1") and t.generation == 1,
            "replaced within a second: %r gen %d" % (t.lookup("/e1"), t.generation))
    time.sleep(1.1)
    T.check(t.lookup("/e1") == (302, "/v1/e1") and t.generation == 2,
            "replaced after a second: %r gen %d" % (t.lookup("/e1"), t.generation))

    # threads hammer lookup while the file is replaced several times
    paths = ["/e%d" % i for i in range(50)] + ["/r/a", "/r/b%20c", "/gone-1", "/nope"]
    stop = threading.Event()
    errors, seen = [], []

    def hammer(seed):
        rnd = random.Random(seed)
        last, mine, n = 1, set(), 0
        try:
            while not stop.is_set():
                p = rnd.choice(paths)
                ans = t.lookup(p)
                n += 1
                if p == "/nope" or p.startswith("/gone-"):
                    if ans not in (None, (410, None)):
                        errors.append((p, ans))
                    continue
                k = answer_version(p, ans)
                if k is None or k < last:
                    errors.append((p, ans, "after version %d" % last))
                    return
                last = k
                mine.add(k)
        except Exception as exc:
            errors.append(exc)
        seen.append((mine, n))

    threads = [threading.Thread(target=hammer, args=(s,)) for s in range(4)]
    for th in threads:
        th.start()
    last_version = 1
    try:
        for k in range(2, 6):
            compile_version(tmp, k, live)
            last_version = k
            time.sleep(1.15)
    finally:
        stop.set()
        for th in threads:
            th.join()
    T.check(not errors, "reload under load: %r" % errors[:3])
    versions = set().union(*[s for s, _ in seen]) if seen else set()
    T.check(versions == set(range(1, last_version + 1)) and t.generation == last_version + 1,
            "versions seen %r, generation %d" % (sorted(versions), t.generation))
    print("  reload: %d lookups by 4 threads over %d replacements" % (
        sum(n for _, n in seen), last_version - 1))

    # a replacement that is not a table keeps the old one; the next good one is taken
    bad = os.path.join(tmp, "bad.tmp")
    with open(bad, "wb") as fh:
        fh.write(b"NOTREDIR" + b"\0" * 300)
    os.rename(bad, live + ".redirdb")
    time.sleep(1.1)
    T.check(t.lookup("/e2") == (STATUSES[last_version % 5], "/v%d/e2" % last_version) and
            t.reload_error is not None and "not a redirdb" in t.reload_error,
            "bad replacement: %r, reload_error %r" % (t.lookup("/e2"), t.reload_error))
    os.unlink(live + ".redirdb")
    time.sleep(1.1)
    T.check(t.lookup("/e2") is not None and "No such file" in (t.reload_error or ""),
            "removed file: %r" % (t.reload_error,))
    compile_version(tmp, 9, live)
    time.sleep(1.1)
    T.check(t.lookup("/e2") == (STATUSES[9 % 5], "/v9/e2") and t.reload_error is None,
            "good replacement after a bad one: %r %r" % (t.lookup("/e2"), t.reload_error))
    # without reload=True a replaced file is never looked at
    fixed = redir.Table(live + ".redirdb")
    compile_version(tmp, 10, live)
    time.sleep(1.1)
    T.check(fixed.lookup("/e2") == (STATUSES[9 % 5], "/v9/e2") and fixed.generation == 1,
            "reload=False keeps its table: %r" % (fixed.lookup("/e2"),))


def main():
    tmp = tempfile.mkdtemp(prefix="redirc-pyext-")
    try:
        results = {}
        for case in case_list():
            results[os.path.basename(case)] = check_case(case, tmp)
        basic = results.get("basic.redir")
        if basic:
            check_api(tmp, basic)
            check_threads(basic)
        else:
            T.check(False, "basic.redir did not load")
        check_errors(tmp)
        check_reload(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
