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
# a long value no 24-byte excerpt can hold: include-environ-root
os.environ.setdefault("REDIRC_HOSTILE_SECRET", "hostile-secret-" + "q" * 60)
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
                 cmd="test", compiles=None, why="", extra=(), forbid=()):
        self.name = name
        self.files = files or {}
        self.top = top
        self.exit = exit
        self.names = list(names)
        self.setup = setup
        self.cmd = cmd
        self.compiles = (exit == 0) if compiles is None else compiles
        self.why = why
        self.extra = list(extra)    # more arguments (-I DIR)
        self.forbid = list(forbid)  # bytes that must appear on no output


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
                                 "--today", "2026-11-26"] + case.extra, d)
    if problem:
        return ["%s %s: %s" % (case.cmd, case.top, problem)], ""
    for secret in case.forbid:
        if secret in out or secret in err:
            errors.append("the output quotes %r" % secret)
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
    st2, out2, err2, problem = run([case.cmd, case.top, "--today", "2026-11-26"] + case.extra, d)
    for secret in case.forbid:
        if secret in out2 or secret in err2:
            errors.append("the text layout quotes %r" % secret)
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
                                     "--diagnostics-format=json", "--today", "2026-11-26"] +
                                    case.extra, d)
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


def include_doubling(depth):
    """f0 includes f1; each f(i) includes f(i+1) twice; f(depth) has a rule."""
    def setup(d):
        with open(os.path.join(d, "f0.redir"), "w") as f:
            f.write('include "f1.redir"\n')
        for i in range(1, depth):
            with open(os.path.join(d, "f%d.redir" % i), "w") as f:
                f.write('include "f%d.redir"\ninclude "f%d.redir"\n' % (i + 1, i + 1))
        with open(os.path.join(d, "f%d.redir" % depth), "w") as f:
            f.write("/r -> /t\n")
    return setup


def sparse_file(name, size):
    def setup(d):
        with open(os.path.join(d, name), "wb") as f:
            f.truncate(size)
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
    c.append(Case("directory", setup=make_dir, top="dir.redir", exit=2, names=["io"]))
    c.append(Case("fifo", setup=make_fifo("fifo.redir"), top="fifo.redir", exit=2, names=["io"],
                  why="the loader refuses non-regular files instead of blocking"))
    c.append(Case("include-fifo", {"in.redir": b'include "fifo.redir"\n/a -> /b\n'},
                  setup=make_fifo("fifo.redir"), exit=1, names=["include"]))
    c.append(Case("symlink-loop", setup=make_symlink_loop, top="loop-a.redir", exit=2, names=["io"]))
    c.append(Case("include-symlink-loop", {"in.redir": b'include "loop-a.redir"\n'},
                  setup=make_symlink_loop, exit=1, names=["include"]))
    c.append(Case("include-dev-zero", {"in.redir": b'include "/dev/zero"\n'}, exit=1, names=["include"]))
    # includes are confined to the top file's folder and the -I roots
    # (issue 14); a file that is not a .redir file is quoted in short
    # excerpts only, and parsed once however often it is included (issue 13)
    secret = b"PASSWORD=correct-horse-battery-staple-0123456789"
    c.append(Case("include-dotdot-outside", {"site/in.redir": b'include "../secret.redir"\n/a -> /b\n',
                                             "secret.redir": secret + b"\n"},
                  top="site/in.redir", exit=1, names=["include"], forbid=[b"horse"]))
    c.append(Case("include-absolute-outside", {"in.redir": b'include "/etc/passwd"\n'},
                  exit=1, names=["include"], forbid=[b"root:x", b"/bin/"]))
    c.append(Case("include-symlink-outside", {"site/in.redir": b'include "link.redir"\n',
                                              "shared/team.redir": b"/s -> /t\n"},
                  setup=lambda d: os.symlink("../shared/team.redir", os.path.join(d, "site", "link.redir")),
                  top="site/in.redir", exit=1, names=["include"], why="the link resolves outside"))
    c.append(Case("include-dash-I-root", {"site/in.redir": b'include "../shared/team.redir"\n'
                                                          b'expect /s -> 301 /t\n',
                                          "shared/team.redir": b"/s -> /t\n"},
                  top="site/in.redir", extra=["-I", "shared"], why="-I names another folder"))
    c.append(Case("include-secret-beside", {"in.redir": b'include "creds.txt"\n/a -> /b\n',
                                            "creds.txt": b"user\tpassword=hunter2-" + b"x" * 40 + b" more\n"
                                            b"AKIAIOSFODNN7EXAMPLE-second-line-secret -> /x 999\n"
                                            b"third-line-secret\n"},
                  exit=1, names=["syntax"], forbid=[b"hunter2-xxxxxxxx", b"second-line", b"third-line"],
                  why="one diagnostic with a 24-byte excerpt, then the rest of the file is skipped"))
    c.append(Case("include-environ-root", {"in.redir": b'include "/proc/self/environ"\n'},
                  extra=["-I", "/proc/self"], exit=1, names=["syntax"],
                  forbid=[os.environ.get("REDIRC_HOSTILE_SECRET", "").encode() or b"\xff\xfe"],
                  why="-I /proc/self: the environment is quoted in 24 bytes at most"))
    c.append(Case("include-doubling-20", setup=include_doubling(20), top="f0.redir", exit=1,
                  names=["include"], why="2^20 inclusions: parsed once, replay capped"))
    c.append(Case("include-twice-hosts", {"in.redir": b'host a.example {\ninclude "team.redir"\n}\n'
                                                      b'host b.example {\ninclude "team.redir"\n}\n'
                                                      b'expect http://a.example/x -> 301 /y\n'
                                                      b'expect http://b.example/x -> 301 /y\n'
                                                      b'expect /x -> pass\n',
                                          "team.redir": b"/x -> /y\n"},
                  why="a file included twice is replayed in each host block"))
    # the limits of doc/limits.md that no other test reaches
    c.append(Case("file-over-1gib", setup=sparse_file("big.redir", (1 << 30) + 1), top="big.redir",
                  exit=2, names=["io"], why="a sparse file: refused from its size, never read"))
    c.append(Case("include-over-1gib", {"in.redir": b'include "big.redir"\n/a -> /b\n'},
                  setup=sparse_file("big.redir", (1 << 30) + 1), exit=1, names=["include"]))
    host253 = ".".join(["a" * 62] * 4) + ".a"   # 253 bytes
    c.append(Case("host-254-bytes", {"in.redir": b("host %sb {\n/a -> /b\n}\n" % host253)},
                  exit=1, names=["bad-host"], why="253 bytes at most"))
    c.append(Case("host-label-64", {"in.redir": b("set hosts %s.example\n/a -> /b\n" % ("a" * 64))},
                  exit=1, names=["bad-host"], why="63 bytes per label at most"))
    c.append(Case("host-253-bytes", {"in.redir": b("host %s {\n/a -> /b\n}\nexpect http://%s/a -> 301 /b\n" % (
        host253, host253))}, why="253 bytes is allowed"))
    c.append(Case("placeholders-31-and-splat", {"in.redir": b(
        "/" + "/".join(":p%d" % i for i in range(31)) + "/* -> /x/:p0/:p30/*\n"
        "expect /" + "/".join("s%d" % i for i in range(31)) + "/y/z -> 301 /x/s0/s30/y/z\n")},
        why="31 placeholders and a splat: the 32 captures allowed"))
    c.append(Case("target-port-65535", {"in.redir": b"set hosts a.example\n/a -> http://a.example:65535/b\n"}))
    c.append(Case("target-port-65536", {"in.redir": b"set hosts a.example\n/a -> http://a.example:65536/b\n"},
                  exit=1, names=["bad-url"]))
    c.append(Case("target-port-0", {"in.redir": b"set hosts a.example\n/a -> http://a.example:0/b\n"},
                  exit=1, names=["bad-url"]))
    c.append(Case("date-1969", {"in.redir": b"/a -> /b expires 1969-12-31\n"}, exit=1, names=["bad-date"]))
    c.append(Case("date-1970", {"in.redir": b"/a -> /b expires 2099-12-31\n/c -> /d expires 1970-01-01\n"},
                  exit=0, names=["expired"], why="1970-01-01 is a date (long expired: a warning)"))
    c.append(Case("placeholders-32", {"in.redir": b("/" + "/".join(":p%d" % i for i in range(32)) + " -> /x\n")},
                  exit=1, names=["bad-url"]))
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


def target_limits(root):
    """Limits of the targets (doc/limits.md): each a `backend` error."""
    out = []
    d = os.path.join(root, "target-limits")
    os.makedirs(d)
    cases = [
        ("table-161-target-tokens", "table", "/x/:a -> /" + "/".join([":a"] * 81) + "\n"),
        ("nginx-token-4001", "nginx", "/x -> /" + "t" * 4001 + "\n"),
        ("apache-map-line-1001", "apache", "/x -> /" + "t" * 1001 + "\n"),
        ("apache-10-captures", "apache", "/" + "/".join(":p%d" % i for i in range(10)) + " -> /y/" +
         "/".join(":p%d" % i for i in range(10)) + "\n"),
    ]
    for name, target, text in cases:
        with open(os.path.join(d, name + ".redir"), "w") as f:
            f.write(text)
        errors = []
        st, o, err, problem = run(["check", name + ".redir"], d)
        if problem or st != 0:
            errors.append("check: the input itself must be valid, got exit %s %s" % (st, problem))
        st, o, err, problem = run(["compile", name + ".redir", "--target", target, "-o", name,
                                   "--diagnostics-format=json"], d)
        try:
            names = json_names(err) or []
        except ValueError:
            names = []
        if problem or st != 1 or "backend" not in names:
            errors.append("compile --target %s: exit %s %s, names %s, expected exit 1 [backend]" % (
                target, st, problem, names))
        out.append((name, errors, "exit %s %s" % (st, names)))
    return out


def lookup_checks(root):
    """`redirc lookup` on hostile arguments (issue 14): a FIFO is refused at
    once, not waited on; the URL field is escaped; user information in a
    URL is a bad-url error."""
    out = []
    d = os.path.join(root, "lookup-checks")
    os.makedirs(d)
    fifo = os.path.join(d, "fifo.redirdb")
    os.mkfifo(fifo)
    st, o, err, problem = run(["lookup", fifo, "/a"], d)
    errors = []
    if problem:
        errors.append(problem)
    elif st != 2 or b"not a regular file" not in err:
        errors.append("exit %s, expected 2 and 'not a regular file': %r" % (st, err[:300]))
    out.append(("lookup-fifo", errors, "exit %s" % st))

    with open(os.path.join(d, "t.redir"), "w") as f:
        f.write("host shop.example.com {\n    /cart -> /basket\n}\n/a -> /b\n")
    st, o, err, problem = run(["compile", "t.redir", "--target", "table", "-o", "t"], d)
    errors = []
    if problem or st != 0:
        errors.append("compile: exit %s %s %r" % (st, problem, err[:300]))
    else:
        for cmd in (["lookup", "t.redirdb"], ["explain", "t.redir"]):
            st, o, err, problem = run(cmd + ["/a?x=\tforged\t399\nforged", "/a\\x09"], d)
            want = b"/a?x=\\tforged\\t399\\nforged\t301\t/b?x=%09forged%09399%0Aforged\t"
            lines = o.split(b"\n")
            if problem or st != 0 or len(lines) != 3 or not lines[0].startswith(want) or \
                    not lines[1].startswith(b"/a\\\\x09\tpass"):
                errors.append("%s: escaped URL fields expected, got exit %s %s %r" % (
                    cmd[0], st, problem, o[:300]))
            st, o, err, problem = run(cmd + ["http://shop.example.com:80@evil.com/cart"], d)
            if problem or st != 2 or b"[bad-url]" not in err or o:
                errors.append("%s: user information must be a bad-url error (exit 2), got %s %r %r" % (
                    cmd[0], st, o[:200], err[:300]))
    out.append(("lookup-explain-url-field", errors, "escaped, userinfo refused"))
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
        for name, errors, detail in table_regress(root) + lookup_checks(root) + target_limits(root):
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
