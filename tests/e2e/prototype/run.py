#!/usr/bin/env python3
"""Prove the backend design (doc/backend-design.md) on real servers.

Starts nginx (+njs) and Apache (+mod_rewrite, mod_lua) with the hand-written
prototype artifacts in this directory and checks every request below against
the Location computed by hand from spec section 3.  Exit 1 on any mismatch.

    python3 tests/e2e/prototype/run.py [-v] [--only nginx|apache] [--keep]
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HELPERS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "backends", "helpers")
sys.path.insert(0, os.path.dirname(HERE))
from servers import Apache, Nginx, raw_request  # noqa: E402

W = "www.example.com"
OLD = "old.example.com"
PASS = "pass"
LONG = "x" * 3990  # /blog/ + 3990 bytes = 3996-byte path, 4000+ with a query

# (host, raw request bytes, expected) ; expected = PASS | (status, location-or-None)
SENSITIVE = [
    # exact rules
    (W, b"/old", (301, "/new")),
    (W, b"/old?x=1&y=%20z", (301, "/new?x=1&y=%20z")),
    (W, b"/old?", (301, "/new")),
    (W, b"/old/", (301, "/new")),
    (W, b"//old//", (301, "/new")),
    (W, b"/x/../old", (301, "/new")),
    (W, b"/o%6cd", (301, "/new")),
    (W, b"/OLD", PASS),
    (W, b"/old?a\"b<c>d\\e^f`g{h|i}j", (301, "/new?a%22b%3Cc%3Ed%5Ce%5Ef%60g%7Bh%7Ci%7Dj")),
    (W, b"/old?%zz&%41&%4", (301, "/new?%25zz&%41&%254")),
    (W, b"/old?q=%FF\xff\xc3\xa9", (301, "/new?q=%FF%FF%C3%A9")),
    (W, b"/old?a?b=/c:d@e", (301, "/new?a?b=/c:d@e")),
    (W, b"/perm", (308, "/perm-new?src=old#top")),
    (W, b"/perm?x=1", (308, "/perm-new?src=old&x=1#top")),
    (W, b"/perm?", (308, "/perm-new?src=old#top")),
    (W, b"/frag", (301, "/f#sec")),
    (W, b"/frag?z=1", (301, "/f?z=1#sec")),
    (W, b"/frag?", (301, "/f#sec")),
    (W, b"/spring-sale", (410, None)),
    (W, b"/spring-sale?x=1", (410, None)),
    (W, b"/caf%C3%A9%20menu", (301, "/menu")),
    (W, b"/caf%c3%a9%20menu/", (301, "/menu")),
    (W, b"/CAF%C3%A9%20menu", PASS),
    (W, b"/price?a=1", (301, "/price$5?a=1")),
    (W, b"/docs/v1/intro", (301, "/legacy/v1")),
    (W, b"/pricing", (301, "/plans")),
    (W, b"/careers?x=1", (302, "https://jobs.example.com/")),
    (W, b"/dropq?x=1", (307, "/dq?fixed=1")),
    (W, b"/Caps/Page?s=1", (303, "/caps-target?s=1")),
    (W, b"/caps/page", PASS),
    (W, b"/CAPS/PAGE", PASS),
    # the splat
    (W, b"/blog/x", (301, "/articles/x")),
    (W, b"/blog", (301, "/articles/")),
    (W, b"/blog/", (301, "/articles/")),
    (W, b"/blog/a/b/", (301, "/articles/a/b")),
    (W, b"/blog/a%20b", (301, "/articles/a%20b")),
    (W, b"/blog/q%3Fx", (301, "/articles/q%3Fx")),
    (W, b"/blog/a%23b", (301, "/articles/a%23b")),
    (W, b"/blog/a%0D%0Ab", (301, "/articles/a%0D%0Ab")),
    (W, b"/blog/a%09b", (301, "/articles/a%09b")),
    (W, b"/blog/caf%C3%A9", (301, "/articles/caf%C3%A9")),
    (W, b"/blog/caf\xc3\xa9", (301, "/articles/caf%C3%A9")),
    (W, b"/blog/%FF", (301, "/articles/%FF")),
    (W, b"/blog/a%2Fb", (301, "/articles/a/b")),
    (W, b"/blog/a%2F%2Fb", (301, "/articles/a/b")),
    (W, b"/blog/x/%2e%2e/y", (301, "/articles/y")),
    (W, b"/blog/x/./y/..", (301, "/articles/x")),
    (W, b"//blog//a", (301, "/articles/a")),
    (W, b"/BLOG/a", PASS),
    (W, b"/blogger", PASS),
    (W, b"/blog/a%25b", (301, "/articles/a%25b")),
    (W, b"/blog/a+b&c=d;e", (301, "/articles/a+b&c=d;e")),
    (W, b"/blog/%22%3C%3E%5C%5E%60%7B%7C%7D%5B%5D", (301, "/articles/%22%3C%3E%5C%5E%60%7B%7C%7D%5B%5D")),
    (W, b"/blog/$1%241%25{x}", (301, "/articles/$1$1%25%7Bx%7D")),
    (W, b"/blog/a?x=1", (301, "/articles/a?x=1")),
    (W, b"/blog/a?", (301, "/articles/a")),
    (W, b"/blog/" + LONG.encode() + b"?q=" + b"y" * 10, (301, "/articles/" + LONG + "?q=" + "y" * 10)),
    # placeholders, query context
    (W, b"/docs/v2/intro", (301, "/docs/v2/start?v=v2")),
    (W, b"/docs/v2/intro/", (301, "/docs/v2/start?v=v2")),
    (W, b"/docs/a&b=c/intro", (301, "/docs/a&b=c/start?v=a%26b%3Dc")),
    (W, b"/docs/a+b/intro?x=1", (301, "/docs/a+b/start?v=a%2Bb&x=1")),
    (W, b"/docs/a%20b%3F/intro", (301, "/docs/a%20b%3F/start?v=a%20b%3F")),
    (W, b"/docs//intro", PASS),
    (W, b"/docs/a/b/intro", PASS),
    (W, b"/u/J%C3%BCrgen", (301, "/users?name=J%C3%BCrgen&from=u")),
    (W, b"/u/a=b&c?z", (301, "/users?name=a%3Db%26c&from=u&z")),
    (W, b"/shop/a%20b?dropped=1", (301, "/store$/a%20b#x")),
    (W, b"/shop", (301, "/store$/#x")),
    (W, b"/go/A/B/c/d?k", (302, "/went/B/A/c/d?a=A&rest=c/d&k#f")),
    (W, b"/go/a&/b", (302, "/went/b/a&/?a=a%26&rest=#f")),
    (W, b"/tag/a%20b", (301, "/topics/a%20b#list")),
    (W, b"/tag/x?", (301, "/topics/x#list")),
    (W, b"/tag/x?y=%22", (301, "/topics/x?y=%22#list")),
    (W, b"/tag/x?y=\"", (301, "/topics/x?y=%22#list")),
    # host scope: the host pattern comes before /pricing etc.
    (OLD, b"/pricing", (302, "https://www.example.com/pricing")),
    ("OLD.Example.COM:8080", b"/pricing?x=1", (302, "https://www.example.com/pricing?x=1")),
    ("old.example.com.", b"/careers", (302, "https://www.example.com/careers")),
    (OLD, b"/Caps/Page", (302, "https://www.example.com/Caps/Page")),
    (OLD, b"/old", (301, "/new")),           # /old comes before the host block
    (OLD, b"/blog/a", (301, "/articles/a")),  # so does /blog/*
    (OLD, b"/", (302, "https://www.example.com/")),
    (OLD, b"/a%20b?x=1", (302, "https://www.example.com/a%20b?x=1")),
    (W, b"/a%20b", PASS),
    ("other.example.net", b"/pricing", (301, "/plans")),
    # no Host header (HTTP/1.0): only rules outside host blocks
    (None, b"/pricing", (301, "/plans")),
    (None, b"/a%20b", PASS),
    # absolute-form request target: its authority is the host
    (W, b"http://old.example.com/pricing", (302, "https://www.example.com/pricing")),
    # misses
    (W, b"/nothing", PASS),
    (W, b"/", PASS),
]

# set case insensitive + set trailing-slash strict
INSENSITIVE = [
    (W, b"/Caps/Page", (303, "/caps-target")),
    (W, b"/caps/PAGE?x", (303, "/caps-target?x")),
    (W, b"/CAPS/PAGE/", PASS),
    (W, b"/BLOG/a", (301, "/articles/a")),
    (W, b"/Blog/%C3%84b", (301, "/articles/%C3%84b")),
    (W, b"/blog/", (301, "/articles/")),
    (W, b"/BLOG", (301, "/articles/")),
    (W, b"/blog/a/", (301, "/articles/a/")),
    (W, b"/Dir/", (301, "/dir-target")),
    (W, b"/dir", PASS),
    (W, b"/dir//", (301, "/dir-target")),
    (W, b"/DOCS/V2/intro", (301, "/docs/V2/start?v=V2")),
    (W, b"/docs/v2/INTRO/", PASS),
    (W, b"/caf%C3%A9", (301, "/c")),
    (W, b"/CAF%C3%A9", (301, "/c")),
    (W, b"/caf%C3%89", PASS),
    (W, b"/old", PASS),
]


def canon(loc):
    if loc is None:
        return None
    return re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), loc)


def compare(got, want):
    status, loc = got
    if want == PASS:
        return status not in (301, 302, 303, 307, 308, 410) and loc is None
    wstatus, wloc = want
    if status != wstatus:
        return False
    if wloc is None:
        return loc is None
    if loc is None:
        return False
    if wloc.startswith("/"):
        loc = re.sub(r"^https?://[^/]*", "", loc)
    if any(ord(c) < 0x21 or ord(c) > 0x7e for c in loc):
        return False  # never a control byte, space or raw 8-bit byte
    return canon(loc) == canon(wloc)


def prepare(tmp):
    proto = os.path.join(tmp, "proto")
    shutil.copytree(HERE, proto, ignore=shutil.ignore_patterns("__pycache__", "run.py"))
    for root, _dirs, files in os.walk(proto):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                data = fh.read()
            if b"@PROTO@" in data:
                with open(p, "wb") as fh:
                    fh.write(data.replace(b"@PROTO@", proto.encode()))
    # the helpers are the shipped files backends/helpers/redir.js and redir.lua
    # (case sensitive, trailing-slash ignore); the insensitive ones have their
    # two settings flipped (case insensitive, trailing-slash strict)
    flips = {
        "redir.js": [(b"var CASE_INSENSITIVE = false;        ", b"var CASE_INSENSITIVE = true;         "),
                     (b"var TRAILING_SLASH_IGNORE = true;    ", b"var TRAILING_SLASH_IGNORE = false;   ")],
        "redir.lua": [(b"local CASE_INSENSITIVE = false        ", b"local CASE_INSENSITIVE = true         "),
                      (b"local TRAILING_SLASH_IGNORE = true    ", b"local TRAILING_SLASH_IGNORE = false   ")],
    }
    for name, pairs in flips.items():
        with open(os.path.join(HELPERS, name), "rb") as fh:
            data = fh.read()
        with open(os.path.join(proto, "sensitive", name), "wb") as fh:
            fh.write(data)
        for old, new in pairs:
            if old not in data:
                raise SystemExit("prototype: setting line %r not found in %s/%s" % (old, HELPERS, name))
            data = data.replace(old, new)
        with open(os.path.join(proto, "insensitive", name), "wb") as fh:
            fh.write(data)
    return proto


def dbm_variant(d):
    """redir.conf with RewriteMap dbm=db: built by httxt2dbm from redir.map.txt."""
    txt = os.path.join(d, "redir.map.txt")
    db = os.path.join(d, "redir.map.db")
    subprocess.run(["httxt2dbm", "-f", "DB", "-i", txt, "-o", db], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(d, "redir.conf")) as f:
        conf = f.read()
    conf = conf.replace('"txt:' + txt + '"', '"dbm=db:' + db + '"')
    assert "dbm=db:" in conf
    out = os.path.join(d, "redir.dbm.conf")
    with open(out, "w") as f:
        f.write(conf)
    return out


def run_cases(label, port, cases, verbose):
    fails = 0
    for host, req, want in cases:
        got = raw_request(port, req, host)
        ok = compare(got, want)
        if not ok:
            fails += 1
        if verbose or not ok:
            shown = req if len(req) < 80 else req[:60] + b"...(%d bytes)" % len(req)
            print("%-4s %-7s %-22s %-50r got %r want %r" % (
                "ok" if ok else "FAIL", label, str(host), shown,
                (got[0], (got[1] or "")[:120]), want if want == PASS else (want[0], (want[1] or "")[:120])))
    print("%s: %d/%d ok" % (label, len(cases) - fails, len(cases)))
    return fails


def main(argv):
    verbose = "-v" in argv
    only = None
    if "--only" in argv:
        only = argv[argv.index("--only") + 1]
    tmp = tempfile.mkdtemp(prefix="redirc-proto-")
    fails = 0
    try:
        proto = prepare(tmp)
        for name, cases in (("sensitive", SENSITIVE), ("insensitive", INSENSITIVE)):
            d = os.path.join(proto, name)
            if only in (None, "nginx"):
                with Nginx(os.path.join(tmp, "ng-" + name), os.path.join(d, "redir.http.conf"),
                           os.path.join(d, "redir.server.conf"), [W, OLD],
                           modules=["ngx_http_js_module"]) as ng:
                    fails += run_cases("nginx/" + name[:4], ng.port, cases, verbose)
            if only in (None, "apache"):
                with Apache(os.path.join(tmp, "ap-" + name), os.path.join(d, "redir.conf"),
                            [W, OLD], modules=["lua"]) as ap:
                    fails += run_cases("apache/" + name[:4], ap.port, cases, verbose)
                # the same with the map compiled to a Berkeley DB file (large rule sets)
                with Apache(os.path.join(tmp, "apdbm-" + name), dbm_variant(d),
                            [W, OLD], modules=["lua"]) as ap:
                    fails += run_cases("apache-dbm/" + name[:4], ap.port, cases, verbose)
    finally:
        if "--keep" in argv:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("FAILED: %d" % fails if fails else "all ok")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
