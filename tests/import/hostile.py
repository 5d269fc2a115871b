#!/usr/bin/env python3
"""Hostile inputs for `redirc import` (issue 15).

For every format: binary noise, NUL bytes, a 1 MB line, CRLF line ends, a
UTF-8 byte order mark, unterminated quotes, '$' ';' '{' '"' and '#' in
values, a comment-only and an empty file.  Each import must
  - end in time with exit 0 or 1 (never a signal, never 2),
  - print diagnostics without a raw control byte (but newline and tab),
  - write .redir text that `redirc test` passes (the expect lines hold:
    even on hostile input the translation is exact or refused),
and CRLF and BOM variants of the case files import to the same rules as the
plain files.

  REDIRC=build/redirc top_srcdir=. python3 tests/import/hostile.py
"""
import os
import random
import subprocess
import sys
import tempfile

REDIRC = os.environ["REDIRC"]
TOP = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), "..", ".."))
CASES = os.path.join(TOP, "tests", "import", "cases")
FORMATS = ["netlify", "cloudflare-pages", "tsv", "csv", "nginx", "apache"]
failures = []


def run(args, timeout=20):
    return subprocess.run([REDIRC] + args, capture_output=True, timeout=timeout)


def check_import(name, fmt, data, tmp, suffix=""):
    path = os.path.join(tmp, "in" + suffix)
    with open(path, "wb") as f:
        f.write(data)
    try:
        p = run(["import", "--from", fmt, "--keep-going", path])
    except subprocess.TimeoutExpired:
        failures.append("%s (%s): timeout" % (name, fmt))
        return None
    if p.returncode not in (0, 1):
        failures.append("%s (%s): exit %d: %s" % (name, fmt, p.returncode, p.stderr[-300:]))
        return None
    bad = [c for c in p.stderr if (c < 0x20 and c not in (0x0A, 0x09)) or c == 0x7F]
    if bad:
        failures.append("%s (%s): raw control byte 0x%02x in the diagnostics" % (name, fmt, bad[0]))
    out = os.path.join(tmp, "out.redir")
    with open(out, "wb") as f:
        f.write(p.stdout)
    t = run(["test", out], timeout=60)
    if t.returncode != 0:
        failures.append("%s (%s): redirc test on the output: exit %d: %s"
                        % (name, fmt, t.returncode, t.stderr[:600].decode("utf-8", "replace")))
    return p.stdout


def rules_of(text):
    """The output without its first comment line (it names the input)."""
    return b"\n".join(text.split(b"\n")[1:]).replace(b"\r", b"")


def main():
    rnd = random.Random(15)
    hostile = {
        "binary": bytes(rnd.randrange(256) for _ in range(20000)),
        "nul-bytes": b"/a\x00b /c 301\n/d\t/e\x00\n/f,/g\x00\n",
        "huge-line": b"/" + b"a" * (1 << 20) + b" /b 301\n/c /d\n",
        "huge-target": b"/x " + b"/" + b"y" * (1 << 20) + b"\n",
        "unterminated": b'"/a,/b\n[[redirects]]\nfrom = "/x\nmap $uri $v { "/a /b; }\nRedirect "/a /b\n',
        "dollar-semicolon": (b"/a /b;c$d 301\n/e\t/f$1;g\n/h,/i;$j\n"
                             b"location = /k { return 301 /l$m; }\nrewrite ^/n$ /o;p permanent;\n"
                             b"Redirect /q /r$s;t\nRewriteEngine On\nRewriteRule ^/u$ /v$w [R=301,L]\n"),
        "braces-quotes": b'/a{ /b} 301\n/"c" /d#e"f\n{\n}\n} }\nserver { location = /x { return 301 "/y z"; } }\n',
        "only-comments": b"# a\n#b\n   # c\n",
        "empty": b"",
        "blank-lines": b"\n\r\n \t \n",
        "many-fields": b"/a " + b" x" * 5000 + b"\n",
        "deep-blocks": b"server {" * 2000 + b"}" * 2000 + b"\n",
        "many-placeholders": b"/" + b"/".join(b":p%d" % i for i in range(40)) + b" /x 301\n",
        "long-path-segments": b"/" + b"a/" * 20000 + b" /b 301\n",
        "control-chars": b"/a\x01b /c\x7f 301\n/\x1b[31m /x\n",
        # found by fuzz_import: a host with an empty label, a flag "re"
        "fuzz-regress": (b"/a https://a..b/ 301\n/b http://x.example./ 301\n"
                         b"RewriteEngine On\nRewriteRule ^/a$ /b [re,L]\n"
                         b"Redirect 302 /d/ /g#xe/\nRedirect /e /f#g\n"
                         b"Redirect /&%4A /x\n/%c3%a9 /y\n/a%2Db /z\n"
                         b"Redirect gone /\nRedirect / https://example.org/\n"
                         b"RewriteEngine On\nRewriteRule ^/([^/]+)$ /new/$1 [R=301,L]\n"
                         b"Redirect /&%3A /x\n"),
        "non-utf8": b"/\xff\xfe /\xc3\x28 301\n/caf\xc3\xa9 /\xe2\x82\xac\n",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in hostile.items():
            for fmt in FORMATS:
                check_import(name, fmt, data, tmp)
            check_import(name + " (toml)", "netlify", data, tmp, ".toml")
        # the case files with CRLF and with a BOM: the same rules
        with open(os.path.join(CASES, "MANIFEST")) as m:
            entries = [l.split() for l in m if l.strip() and not l.startswith("#")]
        for fmt, file, *_ in entries:
            with open(os.path.join(CASES, file), "rb") as f:
                plain = f.read()
            suffix = ".toml" if file.endswith(".toml") else ""
            base = check_import(file, fmt, plain, tmp, suffix)
            crlf = check_import(file + " (CRLF)", fmt, plain.replace(b"\n", b"\r\n"), tmp, suffix)
            bom = check_import(file + " (BOM)", fmt, b"\xef\xbb\xbf" + plain, tmp, suffix)
            if base is not None and crlf is not None and rules_of(base) != rules_of(crlf):
                failures.append("%s: CRLF line ends change the imported rules" % file)
            if base is not None and bom is not None and rules_of(base) != rules_of(bom):
                failures.append("%s: a byte order mark changes the imported rules" % file)
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("import hostile: every input handled")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
