"""End-to-end test of the `haproxy` target on real HAProxy (Debian 12: 2.6).

For every case in tests/e2e/cases/: compile it with `--target haproxy`
(twice: the artifacts must be byte-identical), start HAProxy on 127.0.0.1
with the frontend lines, the helper loaded by the .global.cfg file and a
backend answering 200 "pass" (its `haproxy -c` must be clean: no ALERT and
no WARNING), send every `# request:` line as raw bytes, and compare status
and Location with `redirc explain` on the same file.  A Location must never
hold a control byte, a space or a non-ASCII byte.

HAProxy refuses a request line holding a raw non-ASCII or control byte
(400, before any rule runs: outside the contract, spec section 3); those
requests must get exactly 400, every other one the explain answer.  So must
an absolute-form request whose authority is not the Host header (HAProxy
checks that they agree).

Then the runtime API: compile an old rule set, start HAProxy on it,
compile a new rule set to the same BASE (which writes BASE.map-update),
send the commands to the stats socket, and check that every request of the
new set gets the new answer with no reload (same pid); a reordered pattern
list warns and still ends right.  Also: more than 9 captures and a
map line longer than HAProxy's buffer are `backend` errors.

Wildcard host blocks (`host *.NAME`, issue 15) are served like on nginx
and Apache (host classes, design sections 3.1 and 16.7): every case
compiles, and check_wildcard / check_wildcard_random replay test_servers.py's
wildcard rule sets (three settings; four random rule sets of named and
wildcard blocks with :subdomain targets) and check_wildcard_many a classes
map cut into chunks, all against `redirc explain`.  The runtime-API update
adds and then removes a wildcard block with no reload.

Closing line: `haproxy-e2e: N passed, M failed`.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402
from servers import Haproxy, ServerError, config_warnings, raw_request  # noqa: E402
from test_servers import artifacts, default_host, explain_all, read  # noqa: E402

T = common.Tally("haproxy-e2e")
REDIRECTS = (301, 302, 303, 307, 308)


def compile_hap(case, base, extra=()):
    cmd = [common.redirc(), "compile", case, "--target", "haproxy", "-o", base] + list(extra)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def clean_location(loc):
    return loc is not None and all(0x21 <= ord(ch) <= 0x7e for ch in loc)


def refused_by_haproxy(raw, host):
    """HAProxy answers 400 before any rule to a request line holding a raw
    non-ASCII or control byte, and to an absolute-form target whose
    authority is not the Host header."""
    if any(b >= 0x80 or b < 0x21 or b == 0x7f for b in raw):
        return True
    m = re.match(rb"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)", raw)
    return bool(m) and host is not None and m.group(1).lower() != host.lower().encode()


def compare(label, url, raw, host, truth, got):
    status, loc = got
    if refused_by_haproxy(raw, host):
        ok = status == 400
        truth = "400 (refused by HAProxy's parser)"
    elif truth is None:
        ok = status == 200 and loc is None
    elif truth[0] == 410:
        ok = status == 410 and loc is None
    else:
        ok = (status == truth[0] and clean_location(loc)
              and common.norm_location(loc) == common.norm_location(truth[1]))
    shown = url if len(url) < 100 else url[:80] + "...(%d bytes)" % len(url)
    T.check(ok, "%s %s host=%s: got %r, explain says %r" % (
        label, shown, host, (got[0], (got[1] or "")[:160]),
        truth if not isinstance(truth, tuple) else (truth[0], (truth[1] or "")[:160])))


def config_clean(label, server):
    out = getattr(server, "test_output", "")
    bad = config_warnings(out)
    T.check(not bad, "%s: haproxy -c is not clean: %s" % (label, "\n".join(bad)))


def start(d, base):
    return Haproxy(d, base + ".frontend.cfg", extra_files=[base + ".global.cfg"])


def run_case(case, tmp):
    name = os.path.basename(case)[:-len(".redir")]
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "a"))
    os.makedirs(os.path.join(d, "b"))
    base = os.path.join(d, "a", "site")
    res = compile_hap(case, base)
    T.check(res.returncode == 0, "%s: compile failed (exit %d): %s" % (
        name, res.returncode, res.stderr.decode(errors="replace")[-2000:]))
    if res.returncode != 0:
        return
    res2 = compile_hap(case, os.path.join(d, "b", "site"), ["--map-dir", os.path.join(d, "a")])
    first, second = artifacts(base), artifacts(os.path.join(d, "b", "site"))
    same = res2.returncode == 0 and [os.path.basename(p) for p in first] == \
        [os.path.basename(p) for p in second] and all(read(p) == read(q) for p, q in zip(first, second))
    T.check(same, "%s: a second compile is not byte-identical: %r vs %r" % (name, first, second))

    host = default_host(case)
    reqs = [(url, h or host) for url, h in common.requests_of(case)]
    truths = {}
    for h in sorted(set(h for _, h in reqs)):
        urls = [u for u, hh in reqs if hh == h]
        for u, t in zip(urls, explain_all(case, urls, h)):
            truths[(u, h)] = t
    try:
        with start(os.path.join(d, "hp"), base) as hp:
            config_clean(name, hp)
            for url, h in reqs:
                raw = url.encode("utf-8")
                compare(name, url, raw, h, truths[(url, h)], raw_request(hp.port, raw, h))
    except ServerError as exc:
        T.check(False, "%s: %s" % (name, exc))


OLD_RULES = """set hosts www.example.com
/a -> /a-old
/b -> /b-old 302
/gone gone
/p/* -> /p-old/*
/q/:x -> /q-old/:x
host old.example.com {
    /h -> /h-old
}
"""

NEW_RULES = """set hosts www.example.com
allow-host *.example.net
host old.example.com {
    /h -> /h-new
    /a -> /a-host
}
/a -> /a-new 308
/c -> /c-new
/s;c -> /t;u?k=a;b
/p/* -> /p-old/*
/r/* -> /r-new/* 307
host *.example.com {
    /w -> /w-new/:subdomain
    /wp/* -> https://:subdomain.example.net/*
    /h -> /h-wild
}
"""

# the pattern order changes: /q/:x moves behind a new pattern
REORDERED_RULES = """set hosts www.example.com
/a -> /a-new 308
/s/* -> /s-new/*
/q/:x -> /q-old/:x
/p/* -> /p-old/*
"""

PROBES = ["/a", "/a?z=1", "/b", "/c", "/s;c", "/s%3Bc?x=;", "/gone", "/p/x/y", "/q/1", "/r/k", "/s/t", "/h", "/none",
          "/w", "/w?k=1", "/wp/x/y"]


def check_runtime_update(tmp):
    d = os.path.join(tmp, "update")
    os.makedirs(d)
    base = os.path.join(d, "site")
    rules = os.path.join(d, "rules.redir")
    with open(rules, "w") as fh:
        fh.write(OLD_RULES)
    res = compile_hap(rules, base)
    T.check(res.returncode == 0 and not os.path.exists(base + ".map-update"),
            "update: first compile (exit %d) wrote no update file: %s"
            % (res.returncode, res.stderr.decode(errors="replace")))
    try:
        with start(os.path.join(d, "hp"), base) as hp:
            pid = hp.pid
            for step, text in (("new", NEW_RULES), ("reordered", REORDERED_RULES)):
                with open(rules, "w") as fh:
                    fh.write(text)
                res = compile_hap(rules, base)
                err = res.stderr.decode(errors="replace")
                T.check(res.returncode == 0 and os.path.exists(base + ".map-update"),
                        "update/%s: compile (exit %d): %s" % (step, res.returncode, err))
                if res.returncode != 0:
                    return
                cmds = read(base + ".map-update").decode()
                warned = "pattern rules changed order" in err
                T.check(warned == (step == "reordered"),
                        "update/%s: reorder warning %r: %s" % (step, warned, err))
                if step == "new":
                    T.check("clear map" not in cmds and "del map" in cmds and "set map" in cmds
                            and "add map" in cmds,
                            "update/new: expected add/set/del commands only:\n%s" % cmds)
                answer = hp.cli(cmds)
                T.check("rror" not in answer and "nknown" not in answer,
                        "update/%s: the runtime API refused a command: %s" % (step, answer[-1000:]))
                for host in ("www.example.com", "old.example.com", "a.b.example.com", None):
                    # host None: an HTTP/1.0 request without Host (global rules only)
                    truths = explain_all(rules, PROBES, host) if host else \
                        [common.explain(rules, u) for u in PROBES]
                    for url, t in zip(PROBES, truths):
                        compare("update/%s" % step, url, url.encode(), host, t,
                                raw_request(hp.port, url.encode(), host))
                T.check(hp.pid == pid and hp.proc.poll() is None,
                        "update/%s: HAProxy was restarted" % step)
    except ServerError as exc:
        T.check(False, "update: %s" % exc)


def check_wildcard(tmp):
    """test_servers.py's wildcard rule set (a two-name wildcard block, a
    named host that wildcards admit, a shadowed wildcard block, :subdomain
    in exact and pattern targets' host, path and query) under three
    settings, every host x path."""
    from test_servers import WILDCARD_HOSTS, WILDCARD_PATHS, WILDCARD_RULES
    d = os.path.join(tmp, "wildcard")
    os.makedirs(d)
    variants = {
        "wild-default": "",
        "wild-insensitive-noparent": "set case insensitive\nset splat-parent no-match\n",
        "wild-strict-noparent": "set trailing-slash strict\nset splat-parent no-match\n",
    }
    for name, settings in sorted(variants.items()):
        case = os.path.join(d, name + ".redir")
        with open(case, "w") as fh:
            fh.write(settings + WILDCARD_RULES)
            for h in WILDCARD_HOSTS:
                for p in WILDCARD_PATHS:
                    fh.write("# request: %s  host=%s\n" % (p, h))
        run_case(case, d)


def check_wildcard_random(tmp):
    """test_servers.py's random rule sets (the same seeds: the first four
    that nginx and Apache compile), every host x path."""
    import random
    from test_servers import RANDOM_HOSTS, RANDOM_PATHS, compile_both, random_rules
    d = os.path.join(tmp, "wildrand")
    os.makedirs(d)
    done = 0
    for seed in range(60):
        if done == 4:
            break
        rng = random.Random(seed)
        case = os.path.join(d, "rand%d.redir" % seed)
        with open(case, "w") as fh:
            fh.write(random_rules(rng))
            for h in RANDOM_HOSTS:
                for p in RANDOM_PATHS:
                    fh.write("# request: %s  host=%s\n" % (p, h))
        if compile_both(case, os.path.join(d, "probe%d" % seed)).returncode != 0:
            continue
        done += 1
        run_case(case, d)
    T.check(done == 4, "wildcard-random: only %d of the seeds compiled" % done)


def check_wildcard_many(tmp):
    """Wildcard names whose class regex passes one map line: the classes map
    holds it in chunks (longest names first), a longer name in an earlier
    chunk than a shorter one that also admits the host."""
    d = os.path.join(tmp, "wildmany")
    os.makedirs(d)
    case = os.path.join(d, "many.redir")
    pad = "long-label-to-fill-the-classes-map-line"
    lines = ["set hosts www.example.com"]
    for i in range(0, 300, 100):
        lines += ["host *.deep.site-%03d-%s.example.com {" % (i, pad), "    /x -> /deep/%d/:subdomain" % i, "}"]
    for i in range(300):
        lines += ["host *.site-%03d-%s.example.com {" % (i, pad), "    /x -> /x/%d/:subdomain" % i,
                  "    /z/:a -> /z/%d/:subdomain/:a" % i, "}"]
    lines += ["host *.example.com {", "    /x -> /all/:subdomain", "    /y -> /y-all/:subdomain", "}"]
    hosts = ["a.site-000-%s.example.com" % pad, "a.site-149-%s.example.com" % pad,
             "b.a.site-299-%s.example.com" % pad, "q.deep.site-100-%s.example.com" % pad,
             "q.deep.site-200-%s.example.com" % pad, "deep.site-200-%s.example.com" % pad,
             "foo.example.com", "www.example.com", "site-100-%s.example.com" % pad]
    with open(case, "w") as fh:
        fh.write("\n".join(lines) + "\n")
        for h in hosts:
            for p in ("/x", "/y", "/X", "/z/1", "/x/"):
                fh.write("# request: %s  host=%s\n" % (p, h))
    run_case(case, d)
    classes = read(os.path.join(d, "many", "a", "site.classes.map")).decode()
    T.check(classes.count(" _.\\2\n") >= 2,
            "wildcard-many: the classes map is not cut into chunks:\n%s" % classes[:300])


def check_refusals(tmp):
    d = os.path.join(tmp, "refuse")
    os.makedirs(d)
    case = os.path.join(d, "caps.redir")
    with open(case, "w") as fh:
        fh.write("/c/:a/:b/:c/:d/:e/:f/:g/:h/:i/:j -> /x/:a/:b/:c/:d/:e/:f/:g/:h/:i/:j\n")
    res = compile_hap(case, os.path.join(d, "caps"))
    err = res.stderr.decode(errors="replace")
    T.check(res.returncode == 1 and "[backend]" in err and "caps.redir:1:1" in err and
            "at most 9" in err and not os.path.exists(os.path.join(d, "caps.map")),
            "captures: 10 captures are not a backend error: exit %d %s" % (res.returncode, err))
    case = os.path.join(d, "long.redir")
    with open(case, "w") as fh:
        fh.write("/%s -> /t\n" % ("s" * 17000))
    res = compile_hap(case, os.path.join(d, "long"))
    err = res.stderr.decode(errors="replace")
    T.check(res.returncode == 1 and "[backend]" in err and "long.redir:1:1" in err,
            "long line: not a backend error: exit %d %s" % (res.returncode, err[:500]))
    # a block of 700 wildcard names: its :subdomain rules need a host regex
    # longer than a map line (refused, naming each), its other rule is fine
    case = os.path.join(d, "wide.redir")
    names = ", ".join("*.name-%03d.example.com" % i for i in range(700))
    with open(case, "w") as fh:
        fh.write("host %s {\n    /e -> /sub/:subdomain\n    /p/* -> /q/:subdomain/*\n"
                 "    /plain -> /plain2\n}\n" % names)
    res = compile_hap(case, os.path.join(d, "wide"))
    err = res.stderr.decode(errors="replace")
    errs = sorted(set(re.findall(r"(wide\.redir:\d+:\d+): error: .*map line.*\[backend\]", err)))
    T.check(res.returncode == 1 and errs == ["wide.redir:2:5", "wide.redir:3:5"]
            and err.count(": error: ") == 2 and not os.path.exists(os.path.join(d, "wide.map")),
            "wide wildcard block: expected line-length refusals of its two :subdomain rules, "
            "got exit %d %s" % (res.returncode, err[:1000]))
    res = compile_hap(case.replace("long.redir", "caps.redir"), os.path.join(d, "bad dir", "x"))
    T.check(res.returncode != 0, "a path with a space was accepted")


def main():
    T.check(shutil.which("haproxy") is not None or os.path.exists("/usr/sbin/haproxy"),
            "missing haproxy: run tools/bootstrap.sh")
    if T.failed:
        return T.finish()
    tmp = tempfile.mkdtemp(prefix="redirc-haproxy-")
    try:
        only = os.environ.get("CASES")
        for case in common.case_files():
            if only and not re.search(only, case):
                continue
            run_case(case, tmp)
        check_wildcard(tmp)
        check_wildcard_random(tmp)
        check_wildcard_many(tmp)
        check_runtime_update(tmp)
        check_refusals(tmp)
    finally:
        if os.environ.get("KEEP_TMP"):
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
