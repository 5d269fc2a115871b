#!/usr/bin/env python3
"""Hostile inputs for redirc (issue 7), run by tests/hostile/run.sh.

Every case states its expected outcome: the exit status and the diagnostic
names that must appear in the JSON output, or "compiles".  Whatever the
outcome, nothing may crash (an exit status above 2 or a signal), hang
(`timeout 20`), or print a raw control byte (anything below 0x20 but '\\n'
and '\\t', or 0x7f) on stdout or stderr, in text or JSON layout.

Cases that compile are also compiled with every target; a target that
answers exactly "target 'T' is not yet available in this version" is
skipped for now (and named), a target that refuses the input must do so
with exit 1 and a named diagnostic.  Every artifact produced must pass its
consumer's own check: `nginx -t` and `apache2 -t` (with a config of their
own in the temporary directory, no warning allowed; nothing is started)
and `python3 -m py_compile`.

Inputs are generated into a temporary directory at test time (the large
ones, include chains, FIFOs, symlink loops); regression inputs found by the
fuzzers are committed in regress/, each NAME.redir with a NAME.expect
("exit N" and "names a,b" lines; no .expect: exit 0 or 1, no crash), and
NAME.redirdb tables asked with `redirc lookup` ("url /x", "exit N").

The closing line is `hostile: N passed, M failed`.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

REDIRC = os.environ["REDIRC"]
TOP = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from servers import Apache, Haproxy, Nginx, ServerError, config_warnings, free_port  # noqa: E402
TARGETS = ["nginx", "apache", "python", "table", "haproxy", "cloudflare", "netlify"]
# HOSTILE_WRAPPER runs redirc under a tool, e.g. "valgrind -q
# --error-exitcode=99 ..." (tests/run-all.sh does); its exit status 99 means
# the tool found a memory error or a leak.  HOSTILE_TIMEOUT scales with it.
WRAPPER = shlex.split(os.environ.get("HOSTILE_WRAPPER", ""))
WRAPPER_ERROR = 99
TIMEOUT = int(os.environ.get("HOSTILE_TIMEOUT", "20"))
NOT_YET = "is not yet available in this version"

passed = 0
failed = 0
skipped_targets = set()


def control_bytes(data):
    return sorted({b for b in data if (b < 0x20 and b not in (0x0A, 0x09)) or b == 0x7F})


def run(args, cwd):
    """Run redirc under `timeout`; returns (status, stdout, stderr, problem)."""
    try:
        p = subprocess.run(["timeout", "-k", "5", str(TIMEOUT)] + WRAPPER + [REDIRC] + args, cwd=cwd,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT + 15)
    except subprocess.TimeoutExpired:
        return None, b"", b"", "hung (no answer after %d s)" % (TIMEOUT + 15)
    problem = None
    if p.returncode == 124 or p.returncode == 137:
        problem = "hung (killed by timeout %d s)" % TIMEOUT
    elif WRAPPER and p.returncode == WRAPPER_ERROR:
        problem = "%s found a memory error or a leak: %s" % (
            WRAPPER[0], p.stderr.decode("utf-8", "replace")[-1500:])
    elif p.returncode < 0:
        problem = "killed by signal %d" % -p.returncode
    elif p.returncode > 2:
        problem = "crashed (exit status %d)" % p.returncode
    else:
        for stream, data in (("stdout", p.stdout), ("stderr", p.stderr)):
            bad = control_bytes(data)
            if bad:
                problem = "raw control byte(s) %s on %s" % (
                    ",".join("0x%02x" % b for b in bad), stream)
                break
    return p.returncode, p.stdout, p.stderr, problem


def json_names(stderr):
    text = stderr.decode("utf-8", "replace")
    for line in text.splitlines():
        if line.startswith("["):
            return [d["name"] for d in json.loads(line)]
    return None


class Case:
    def __init__(self, name, files=None, top="in.redir", exit=0, names=(), setup=None,
                 cmd="test", compiles=None, why=""):
        self.name = name
        self.files = files or {}
        self.top = top
        self.exit = exit
        self.names = list(names)
        self.setup = setup
        self.cmd = cmd
        self.compiles = (exit == 0) if compiles is None else compiles
        self.why = why


def check_case(case, root):
    """Returns a list of failure strings (empty = pass) and a detail."""
    d = os.path.join(root, case.name)
    os.makedirs(d)
    for path, data in case.files.items():
        full = os.path.join(d, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    if case.setup:
        case.setup(d)
    errors = []
    st, out, err, problem = run([case.cmd, case.top, "--diagnostics-format=json",
                                 "--today", "2026-11-26"], d)
    if problem:
        return ["%s %s: %s" % (case.cmd, case.top, problem)], ""
    try:
        names = json_names(err)
    except ValueError as e:
        return ["JSON diagnostics do not parse: %s" % e], ""
    if names is None:
        return ["no JSON diagnostics on stderr: %r" % err[:300]], ""
    if st != case.exit:
        errors.append("exit status %d, expected %d (diagnostics: %s)" % (
            st, case.exit, ", ".join(sorted(set(names))) or "none"))
    for n in case.names:
        if n not in names:
            errors.append("diagnostic '%s' missing (got: %s)" % (n, ", ".join(sorted(set(names))) or "none"))
    # the text layout too: no crash, same status, no control byte
    st2, _, _, problem = run([case.cmd, case.top, "--today", "2026-11-26"], d)
    if problem:
        errors.append("text layout: %s" % problem)
    elif st2 != st:
        errors.append("text layout: exit status %d, json layout %d" % (st2, st))
    detail = "exit %d%s" % (st, (" [" + ", ".join(sorted(set(names))) + "]") if names else "")
    if errors or not case.compiles:
        return errors, detail
    # every target
    notes = []
    for t in TARGETS:
        base = os.path.join(d, "out-" + t)
        st, out, err, problem = run(["compile", case.top, "--target", t, "-o", base,
                                     "--diagnostics-format=json", "--today", "2026-11-26"], d)
        if problem:
            errors.append("compile --target %s: %s" % (t, problem))
            continue
        if st == 2 and NOT_YET in err.decode("utf-8", "replace") and \
                ("target '%s' %s" % (t, NOT_YET)) in err.decode("utf-8", "replace"):
            skipped_targets.add(t)
            notes.append("%s: skipped (not yet available)" % t)
            continue
        if st == 1:
            try:
                tnames = json_names(err) or []
            except ValueError:
                tnames = []
            if not tnames:
                errors.append("compile --target %s: exit 1 without a named diagnostic" % t)
            else:
                notes.append("%s: refused [%s]" % (t, ", ".join(sorted(set(tnames)))))
            continue
        if st != 0:
            errors.append("compile --target %s: exit %d: %s" % (
                t, st, err.decode("utf-8", "replace")[:300]))
            continue
        notes.append("%s: ok" % t)
        if t in ("nginx", "apache", "haproxy"):
            problem = server_config_test(t, base, os.path.join(d, "srv-" + t))
            if problem:
                errors.append("compile --target %s: %s" % (t, problem))
        if t == "cloudflare":
            try:
                with open(base + ".json", "rb") as fh:
                    json.loads(fh.read().decode("ascii"))
            except ValueError as exc:
                errors.append("cloudflare output is not ASCII JSON: %s" % exc)
        if t == "python":
            p = subprocess.run([sys.executable, "-m", "py_compile", base + ".py"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if p.returncode != 0:
                errors.append("python output fails py_compile: %s" %
                              p.stdout.decode("utf-8", "replace")[:300])
    return errors, detail + "; " + ", ".join(notes)


def server_config_test(target, base, srvdir):
    """`nginx -t` or `apache2 -t` on the artifacts, in a config of their own
    under srvdir (tests/e2e/servers.py; nothing is started).  Returns None
    when the test passes without a warning, else what went wrong."""
    if target == "haproxy":
        srv = Haproxy(srvdir, base + ".frontend.cfg", ["www.example.com"],
                      extra_files=[base + ".global.cfg"], port=free_port())
    elif target == "nginx":
        srv = Nginx(srvdir, base + ".http.conf", base + ".server.conf", ["www.example.com"],
                    modules=["ngx_http_js_module"], port=free_port())
    else:
        srv = Apache(srvdir, base + ".conf", ["www.example.com"], modules=["lua"],
                     port=free_port())
    os.makedirs(srvdir)
    srv.write_config()
    try:
        out = srv.check_config()
    except ServerError as exc:
        return str(exc)[-600:]
    bad = config_warnings(out)
    if bad:
        return "%s config test warns: %s" % (srv.name, " | ".join(bad)[:600])
    return None


# ---- the cases ------------------------------------------------------------

def b(s):
    return s.encode("utf-8")


def include_chain(depth):
    def setup(d):
        for i in range(depth):
            with open(os.path.join(d, "f%d.redir" % i), "w") as f:
                f.write('include "f%d.redir"\n/r%d -> /t%d\n' % (i + 1, i, i))
        with open(os.path.join(d, "f%d.redir" % depth), "w") as f:
            f.write("/end -> /finish\n")
    return setup


def make_fifo(name):
    def setup(d):
        os.mkfifo(os.path.join(d, name))
    return setup


def make_symlink_loop(d):
    os.symlink("loop-b.redir", os.path.join(d, "loop-a.redir"))
    os.symlink("loop-a.redir", os.path.join(d, "loop-b.redir"))


def make_dir(d):
    os.mkdir(os.path.join(d, "dir.redir"))


def cases():
    c = []
    c.append(Case("nul-byte", {"in.redir": b"/a -> /b\n/c\0d -> /e\n/f -> /g\n"},
                  exit=1, names=["syntax"], why="NUL byte: that line is a syntax error, the rest goes on"))
    c.append(Case("nul-only", {"in.redir": b"\0" * 4096}, exit=1, names=["syntax"]))
    c.append(Case("long-line-rule", {"in.redir": b"/" + b"a" * (1 << 20) + b" -> /b\n"},
                  why="a 1 MB source is a valid (if silly) rule"))
    c.append(Case("long-line-garbage", {"in.redir": b"x" * (1 << 20) + b"\n/a -> /b\n"},
                  exit=1, names=["syntax"]))
    c.append(Case("long-line-quoted", {"in.redir": b'/a -> "/' + b"b " * (1 << 19) + b'"\n'},
                  why="a 1 MB quoted target with spaces"))
    c.append(Case("invalid-utf8", {"in.redir": b"/caf\xe9 -> /b\n/ok -> /c\n"},
                  exit=1, names=["syntax"]))
    c.append(Case("overlong-utf8", {"in.redir": b"/a\xc0\xaf -> /b\n"}, exit=1, names=["syntax"]))
    c.append(Case("utf8-ok", {"in.redir": b("/caf\u00e9 -> /k\u00f8benhavn\nexpect /caf%C3%A9 -> 301 /k%C3%B8benhavn\n")}))
    c.append(Case("crlf-file", {"in.redir": b"/a -> /b\r\nexpect /a -> 301 /b\r\n"},
                  why="CRLF line ends are allowed"))
    c.append(Case("crlf-inside-quotes", {"in.redir": b'"/a\r\nb" -> /c\n/d -> /e\n'},
                  exit=1, names=["syntax"], why="a quoted string cannot span lines"))
    c.append(Case("cr-inside-quotes", {"in.redir": b'"/a\rb" -> /c\n'}, exit=1, names=["bad-url"],
                  why="a raw CR in a source is a control byte"))
    c.append(Case("lf-inside-quoted-target", {"in.redir": b'/a -> "/b\nc"\n'}, exit=1, names=["syntax"]))
    c.append(Case("specials-in-paths", {"in.redir": b(
        "/semi;colon -> /t;x\n"
        "/brace{x} -> /t{y}\n"
        "/dollar$x -> /t$y\n"
        "/quote\"x -> /t\"y\n"
        "/apos'x -> /t'y\n"
        "/back\\x -> /t\\y\n"
        "/tick`x -> /t`y\n"
        "\"/sp ace\" -> \"/t a;r{g}e$t`x'\"\n"
        "/q -> \"/t\\\"q\\\\\"\n"
        "/pct%25 -> /t%zz\n"
        "expect /semi;colon -> 301 /t;x\n"
        "expect /back%5Cx -> 301 /t%5Cy\n"
        "expect /sp%20ace -> 301 \"/t a;r{g}e$t`x'\"\n")},
        why="; { } \" $ ' \\ ` in sources and targets are data, encoded where needed"))
    c.append(Case("hash-in-source", {"in.redir": b"/a#b -> /c\n"}, exit=1, names=["bad-url"]))
    c.append(Case("protocol-relative", {"in.redir": b"/a -> //evil.com\n"}, exit=1, names=["open-redirect"]))
    c.append(Case("backslash-relative", {"in.redir": b"/a -> /\\evil.com\n"}, exit=1, names=["open-redirect"]))
    c.append(Case("scheme-no-slashes", {"in.redir": b"/a -> https:evil.com\n"}, exit=1, names=["bad-url"]))
    c.append(Case("external-host", {"in.redir": b"/a -> https://evil.com/\n"}, exit=1, names=["open-redirect"]))
    c.append(Case("splat-protocol-relative", {"in.redir": b"/go* -> /*\n"}, exit=1, names=["open-redirect"]))
    c.append(Case("userinfo-host", {"in.redir": b"/a -> https://www.example.com@evil.com/\n"},
                  exit=1, names=["bad-url"]))
    c.append(Case("target-with-space-quoted", {"in.redir": b'/a -> "/b c"\nexpect /a -> 301 /b%20c\n'}))
    c.append(Case("target-with-space-unquoted", {"in.redir": b"/a -> /b c\n"}, exit=1, names=["bad-status"],
                  why="the word after the target is read as its status"))
    c.append(Case("control-in-target", {"in.redir": b'/a -> "/b\x01c"\n'}, exit=1, names=["bad-url"]))
    c.append(Case("control-in-expect-url", {"in.redir": b"/a -> /b\nexpect /x\x0fy -> 301 /b\n"},
                  exit=1, names=["expect"], why="the failed expectation names the URL with \\x0f"))
    c.append(Case("include-chain-10000", setup=include_chain(10000), top="f0.redir",
                  exit=1, names=["include"], why="nesting deeper than the limit"))
    c.append(Case("include-cycle", {"a.redir": b'include "b.redir"\n/a -> /x\n',
                                    "b.redir": b'include "a.redir"\n/b -> /y\n'},
                  top="a.redir", exit=1, names=["include"]))
    c.append(Case("include-self", {"a.redir": b'include "a.redir"\n'}, top="a.redir",
                  exit=1, names=["include"]))
    hosts = ", ".join("h%d.example.com" % i for i in range(100000))
    c.append(Case("hosts-100000", {"in.redir": b("host %s {\n    /x -> /y\n}\n"
                                                 "expect https://h99999.example.com/x -> 301 /y\n"
                                                 "expect /x -> pass\n" % hosts)}))
    c.append(Case("directory", setup=make_dir, top="dir.redir", exit=2, names=["include"]))
    c.append(Case("fifo", setup=make_fifo("fifo.redir"), top="fifo.redir", exit=2, names=["include"],
                  why="the loader refuses non-regular files instead of blocking"))
    c.append(Case("include-fifo", {"in.redir": b'include "fifo.redir"\n/a -> /b\n'},
                  setup=make_fifo("fifo.redir"), exit=1, names=["include"]))
    c.append(Case("symlink-loop", setup=make_symlink_loop, top="loop-a.redir", exit=2, names=["include"]))
    c.append(Case("include-symlink-loop", {"in.redir": b'include "loop-a.redir"\n'},
                  setup=make_symlink_loop, exit=1, names=["include"]))
    c.append(Case("include-dev-zero", {"in.redir": b'include "/dev/zero"\n'}, exit=1, names=["include"]))
    c.append(Case("deep-groups", {"in.redir": b('group "g" {\n' * 5000 + "/a -> /b\n" + "}\n" * 5000)},
                  why="5,000 nested groups"))
    c.append(Case("unclosed-blocks", {"in.redir": b('group "g" {\n' * 1000 + "host a.example {\n/a -> /b\n")},
                  exit=1, names=["syntax"]))
    c.append(Case("many-placeholders", {"in.redir": b("/" + "/".join(":p%d" % i for i in range(40)) + " -> /x\n")},
                  exit=1, names=["bad-url"]))
    c.append(Case("many-errors", {"in.redir": b"/a -> /b 999\n" * 20000}, exit=1, names=["bad-status"]))
    c.append(Case("dot-segments", {"in.redir": b"/../../a/./b -> /c\nexpect /a/b -> 301 /c\n"
                                              b"expect /x/../a/%2E/b -> 301 /c\n"}))
    return c


def regress_cases():
    out = []
    d = os.path.join(TOP, "tests", "hostile", "regress")
    if not os.path.isdir(d):
        return out
    for fn in sorted(os.listdir(d)):
        if not fn.endswith(".redir"):
            continue
        name = fn[:-6]
        with open(os.path.join(d, fn), "rb") as f:
            data = f.read()
        exit_st, names = None, []
        exp = os.path.join(d, name + ".expect")
        if os.path.exists(exp):
            with open(exp) as f:
                for line in f:
                    k, _, v = line.strip().partition(" ")
                    if k == "exit":
                        exit_st = int(v)
                    elif k == "names":
                        names = [n for n in v.split(",") if n]
        c = Case("regress-" + name, {"in.redir": data}, exit=exit_st if exit_st is not None else 0,
                 names=names, compiles=(exit_st == 0))
        c.any_exit = exit_st is None
        out.append(c)
    return out


def table_regress(root):
    """regress/*.redirdb: tables found by fuzz_table, asked with `redirc
    lookup`; the .expect names the URL ("url /x") and the exit status."""
    out = []
    d = os.path.join(TOP, "tests", "hostile", "regress")
    if not os.path.isdir(d):
        return out
    for fn in sorted(os.listdir(d)):
        if not fn.endswith(".redirdb"):
            continue
        name = fn[:-8]
        url, want = "/", None
        exp = os.path.join(d, name + ".expect")
        if os.path.exists(exp):
            with open(exp) as f:
                for line in f:
                    k, _, v = line.strip().partition(" ")
                    if k == "url":
                        url = v
                    elif k == "exit":
                        want = int(v)
        st, out_, err, problem = run(["lookup", os.path.join(d, fn), url], root)
        errors = []
        if problem:
            errors.append("lookup: %s" % problem)
        elif want is not None and st != want:
            errors.append("lookup exit status %d, expected %d (stdout %r)" % (st, want, out_[:200]))
        out.append(("regress-" + name, errors, "lookup %s: exit %s" % (url, st)))
    return out


def main():
    global passed, failed
    only = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="redirc-hostile.") as root:
        for case in cases() + regress_cases():
            if only and case.name not in only:
                continue
            errors, detail = check_case(case, root)
            if getattr(case, "any_exit", False):
                errors = [e for e in errors if not e.startswith("exit status")]
            if errors:
                failed += 1
                print("FAIL: %s: %s" % (case.name, "; ".join(errors)))
            else:
                passed += 1
                print("ok: %s: %s" % (case.name, detail))
        for name, errors, detail in table_regress(root):
            if only and name not in only:
                continue
            if errors:
                failed += 1
                print("FAIL: %s: %s" % (name, "; ".join(errors)))
            else:
                passed += 1
                print("ok: %s: %s" % (name, detail))
    if skipped_targets:
        print("hostile: targets skipped for now (not yet available): %s" %
              ", ".join(sorted(skipped_targets)))
    print("hostile: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
