"""End-to-end test of the `nginx` and `apache` targets on real servers.

For every case in tests/e2e/cases/: compile it with `--target nginx
--target apache` (twice: the artifacts must be byte-identical), start one
nginx (with njs) and one Apache httpd (with mod_lua) on 127.0.0.1 with the
artifacts (their `nginx -t` / `apache2 -t` run first and must be clean:
no error and no warning such as "could not build optimal map_hash"), send
every `# request:` line as raw bytes, and compare status and Location with
`redirc explain` on the same file.  The servers make a relative target
absolute with their own scheme, host and port; that prefix is removed before
comparing (doc/backend-design.md section 9).  A Location must never hold a
control byte, a space or a non-ASCII byte.

Wildcard host blocks: three settings variants of a fixed rule set
and four random rule sets (fixed seeds), every host class on both servers.

Then: the helper scripts are the shipped backends/helpers/ files, `--map-dir`
names the deployed files, a rule with more than 9 captures and an exact
rule whose txt map line passes 1000 bytes are `backend` errors on Apache and
not on nginx, and an Apache map above the GDBM threshold
is built and answers, also for exact rules whose key or target passes
1000 bytes (a GDBM map has no line limit).

Every case is also asked through BASE.dbd.conf (the SQLite map read by
mod_dbd, which mod_rewrite never caches), and the normal-form line is checked
with inert helpers: requests in normal form must get explain's answer without
them (doc/backend-design.md section 12).

The default host of a case's requests is the first name of its `set hosts`,
else of its first host block, else `localhost`; `host=` on a request line
overrides it.  The suite never skips: missing servers are failures.

Closing line: `servers-e2e: N passed, M failed`.
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
from servers import Apache, Nginx, ServerError, config_warnings, raw_request  # noqa: E402

T = common.Tally("servers-e2e")
REDIRECTS = (301, 302, 303, 307, 308)
PROTO = os.path.join(HERE, "prototype", "sensitive")
HELPERS = os.path.join(common.TOP, "backends", "helpers")


def default_host(case):
    with open(case, "rb") as fh:
        text = fh.read().decode("utf-8")
    m = re.search(r"^\s*set\s+hosts\s+(\S+)", text, re.M)
    if m:
        return m.group(1).lower()
    m = re.search(r'^\s*host\s+"?([^",{\s]+)', text, re.M)
    if m:
        return m.group(1).lower()
    return "localhost"


def explain_all(case, urls, host):
    """[(status, location) | None] for urls, one explain call."""
    out = []
    for i in range(0, len(urls), 200):
        chunk = urls[i:i + 200]
        cmd = [common.redirc(), "explain", case] + chunk + ["--host", host]
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if res.returncode not in (0, 1):
            raise RuntimeError("redirc explain failed: %s" % res.stderr.decode(errors="replace"))
        lines = res.stdout.decode("latin-1").split("\n")[:len(chunk)]
        for line in lines:
            f = line.split("\t")
            if len(f) == 2 and f[1] == "pass":
                out.append(None)
            elif len(f) == 4:
                st = int(f[1])
                out.append((st, f[2] if st != 410 else None))
            else:
                raise RuntimeError("unexpected explain line %r" % line)
    return out


def compile_both(case, base, extra=()):
    cmd = [common.redirc(), "compile", case, "--target", "nginx", "--target", "apache",
           "-o", base] + list(extra)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def artifacts(base):
    d, b = os.path.split(base)
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith(b + "."))


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


def clean_location(loc):
    return loc is not None and all(0x21 <= ord(ch) <= 0x7e for ch in loc)


def agrees(truth, got):
    """The server's (status, Location) is the answer `explain` gives."""
    status, loc = got
    if truth is None:
        return status not in REDIRECTS + (410,) and loc is None
    if truth[0] == 410:
        return status == 410 and loc is None
    want = truth[1]
    seen = loc
    if seen is not None and want.startswith("/"):
        seen = re.sub(r"^https?://[^/]*", "", seen)
    return (status == truth[0] and clean_location(loc)
            and common.norm_location(seen) == common.norm_location(want))


def compare(label, url, host, truth, got):
    ok = agrees(truth, got)
    shown = url if len(url) < 100 else url[:80] + "...(%d bytes)" % len(url)
    T.check(ok, "%s %s host=%s: got %r, explain says %r" % (
        label, shown, host, (got[0], (got[1] or "")[:160]),
        truth if truth is None else (truth[0], (truth[1] or "")[:160])))


def server_test_clean(label, server):
    out = getattr(server, "test_output", "")
    bad = config_warnings(out)
    T.check(not bad, "%s: config test is not clean: %s" % (label, "\n".join(bad)))


def run_case(case, tmp):
    name = os.path.basename(case)[:-len(".redir")]
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "a"))
    os.makedirs(os.path.join(d, "b"))
    base = os.path.join(d, "a", "site")
    res = compile_both(case, base)
    T.check(res.returncode == 0, "%s: compile failed (exit %d): %s" % (
        name, res.returncode, res.stderr.decode(errors="replace")[-2000:]))
    if res.returncode != 0:
        return
    # determinism: the same input gives byte-identical artifacts (paths aside:
    # the second set is compiled with --map-dir naming the first one's place)
    res2 = compile_both(case, os.path.join(d, "b", "site"), ["--map-dir", os.path.join(d, "a")])
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
        with Nginx(os.path.join(d, "ng"), base + ".http.conf", base + ".server.conf", [host],
                   modules=["ngx_http_js_module"]) as ng:
            server_test_clean(name + "/nginx", ng)
            for url, h in reqs:
                compare(name + "/nginx", url, h, truths[(url, h)],
                        raw_request(ng.port, url.encode("utf-8"), h))
    except ServerError as exc:
        T.check(False, "%s/nginx: %s" % (name, exc))
    try:
        with Apache(os.path.join(d, "ap"), base + ".conf", [host], modules=["lua"]) as ap:
            server_test_clean(name + "/apache", ap)
            for url, h in reqs:
                compare(name + "/apache", url, h, truths[(url, h)],
                        raw_request(ap.port, url.encode("utf-8"), h))
    except ServerError as exc:
        T.check(False, "%s/apache: %s" % (name, exc))
    # the same requests through BASE.dbd.conf: the SQLite map read by mod_dbd
    try:
        with Apache(os.path.join(d, "apdbd"), base + ".dbd.conf", [host], modules=["lua", "dbd"]) as ap:
            server_test_clean(name + "/apache-dbd", ap)
            for url, h in reqs:
                compare(name + "/apache-dbd", url, h, truths[(url, h)],
                        raw_request(ap.port, url.encode("utf-8"), h))
    except ServerError as exc:
        T.check(False, "%s/apache-dbd: %s" % (name, exc))


def check_helpers(tmp):
    """The emitted helpers are the shipped helper files (backends/helpers/)
    from their fixed-part marker on, after the two settings lines."""
    case = os.path.join(PROTO, "rules.redir")
    base = os.path.join(tmp, "helpers", "site")
    os.makedirs(os.path.dirname(base))
    res = compile_both(case, base)
    T.check(res.returncode == 0, "helpers: compile of the prototype rules failed")
    if res.returncode != 0:
        return
    for ext, marker in ((".js", "// ---- fixed part"), (".lua", "---- fixed part")):
        got = read(base + ext).decode()
        want = read(os.path.join(HELPERS, "redir" + ext)).decode()
        T.check(marker in got and got[got.index(marker):] == want[want.index(marker):],
                "helpers: %s differs from the fixed part of backends/helpers/redir%s" % (ext, ext))
        settings = [ln.split("--")[0].split("//")[0].strip() for ln in got.splitlines()
                    if "CASE_INSENSITIVE =" in ln or "TRAILING_SLASH_IGNORE =" in ln]
        T.check(len(settings) == 2 and "false" in settings[0] and "true" in settings[1],
                "helpers: %s settings lines %r" % (ext, settings))


# ---- the normal-form line (doc/backend-design.md section 12) ----
NORMAL_SEG = "abcdefghijklmnopqrstuvwxyz0123456789._~!$'()*,;:@-"
NORMAL_QUERY = re.compile(r"(?:[A-Za-z0-9._~!$'()*,;:@/?&=+-]|%[0-9A-Fa-f]{2})*\Z")


def is_normal(server, url, host, insensitive, strict):
    """Whether `server` answers this request natively: its raw path and
    query are left unchanged by normalization and encoding, and its Host is
    plain (nginx reads $host: lower-cased, port and a trailing dot removed;
    the Apache helper takes only a lower-case Host with an optional port)."""
    if server == "nginx":
        h = re.sub(r":[0-9]*$", "", host.lower())
        h = h[:-1] if h.endswith(".") else h
        host_ok = re.fullmatch(r"[a-z0-9._-]+", h) is not None
    else:
        host_ok = re.fullmatch(r"[a-z0-9._-]*[a-z0-9_-](?::[0-9]*)?", host) is not None
    path, qmark, query = url.partition("?")
    if not host_ok or not path.startswith("/"):
        return False
    seg_bytes = NORMAL_SEG + (NORMAL_SEG.upper() if insensitive else "")
    if path != "/":
        body = path[1:]
        if body.endswith("/"):
            body = body[:-1]  # one trailing "/": kept (strict) or dropped (ignore) natively
        for seg in body.split("/"):
            if seg in ("", ".", "..") or any(ch not in seg_bytes for ch in seg):
                return False
    return not qmark or NORMAL_QUERY.match(query) is not None


INERT_JS = (b"// inert helper (test): every variable is empty\n"
            b"function none(r) { return \"\"; }\n"
            b"export default { key: none, hkey: none, subject: none, qa: none, qamp: none, dollar: none };\n")
INERT_LUA = (b"-- inert helper (test): sets nothing\n"
             b"require \"apache2\"\n"
             b"function redir_prepare(r) return apache2.DECLINED end\n")


def check_native(tmp):
    """With the helper replaced by an inert one, every request in normal form
    still gets explain's answer (nginx and mod_rewrite answer it alone), and
    every other request that explain redirects does not (the helper is what
    answers it): the line between the two is where is_normal draws it."""
    for name in ("e2e-normal-form", "e2e-normal-form-insensitive", "e2e-wildcard-hosts"):
        case = os.path.join(common.CASES, name + ".redir")
        text = read(case).decode()
        insensitive = "set case insensitive" in text
        strict = "set trailing-slash strict" in text
        d = os.path.join(tmp, "native-" + name)
        os.makedirs(d)
        base = os.path.join(d, "site")
        res = compile_both(case, base)
        T.check(res.returncode == 0, "native %s: compile failed: %s" % (name, res.stderr.decode()[-500:]))
        if res.returncode != 0:
            continue
        with open(base + ".js", "wb") as fh:
            fh.write(INERT_JS)
        with open(base + ".lua", "wb") as fh:
            fh.write(INERT_LUA)
        host = default_host(case)
        reqs = [(url, h or host) for url, h in common.requests_of(case)]
        truths = {}
        for h in sorted(set(h for _, h in reqs)):
            urls = [u for u, hh in reqs if hh == h]
            for u, t in zip(urls, explain_all(case, urls, h)):
                truths[(u, h)] = t
        native = {"nginx": 0, "apache": 0}
        for server in ("nginx", "apache"):
            try:
                if server == "nginx":
                    srv = Nginx(os.path.join(d, "ng"), base + ".http.conf", base + ".server.conf", [host],
                                modules=["ngx_http_js_module"])
                else:
                    srv = Apache(os.path.join(d, "ap"), base + ".conf", [host], modules=["lua"])
                with srv:
                    for url, h in reqs:
                        truth = truths[(url, h)]
                        got = raw_request(srv.port, url.encode("utf-8"), h)
                        if is_normal(server, url, h, insensitive, strict):
                            native[server] += 1
                            T.check(agrees(truth, got), "native %s/%s %s host=%s: in normal form, without "
                                    "the helper got %r, explain says %r" % (name, server, url, h, got, truth))
                        elif truth is not None:
                            T.check(not agrees(truth, got), "native %s/%s %s host=%s: not in normal form, yet "
                                    "answered without the helper: %r" % (name, server, url, h, got))
            except ServerError as exc:
                T.check(False, "native %s/%s: %s" % (name, server, exc))
        T.check(native["nginx"] >= 8 and native["apache"] >= 8,
                "native %s: too few normal-form requests %r" % (name, native))


def check_index(tmp):
    """The pattern index (design section 13) on a deep binary tree: 45
    first-segment groups of two lengths, groups that differ only in case,
    wildcard patterns interleaved in file order, host-scoped ones; every
    group, its neighbours' misses and the wildcards are asked."""
    d = os.path.join(tmp, "index")
    os.makedirs(d)
    case = os.path.join(d, "index.redir")
    lines = ["set hosts www.example.com other.example.com", "set max-chain 9",
             "allow-host elsewhere.example.net"]
    urls = []
    for i in range(40):
        if i % 7 == 3:
            lines.append("/:x/w%d -> /wild%d/:x" % (i, i))
            urls += ["/zz/w%d" % i, "/s%d/w%d" % (i + 1, i), "/s%d/w%d" % (i - 1, i)]
        lines.append("/s%d/:a -> /t%d/:a" % (i, i))
        urls += ["/s%d/x" % i, "/s%d" % i, "/s%d/x/y" % i, "/S%d/x" % i]
    # first segments that need care as an nginx map key or an Apache string test
    lines += ['"/caf\u00e9/:a" -> /cafe/:a', "/a$b/:a -> /dollar/:a", "/default/:a -> /def/:a",
              "/~user/:a -> /home/:a", "/include/:a -> /inc/:a", "/%25x/:a -> /pct/:a"]
    urls += ["/caf%C3%A9/x", "/CAF%C3%A9/x", "/a$b/x", "/a%24b/x", "/default/x", "/~user/x",
             "/%7Euser/x", "/include/x", "/%25x/x", "/%x/x"]
    lines += ["/Case/:a -> /upper/:a", "/case/:a -> /lower/:a",
              "host other.example.com {", "    /s5/* -> /other/*", "    /* -> https://elsewhere.example.net/*", "}",
              "/late/:a -> /late-target/:a"]
    urls += ["/Case/x", "/case/x", "/CASE/x", "/unknown/x", "/late/x", "/", "/s5"]
    with open(case, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    base = os.path.join(d, "site")
    res = compile_both(case, base)
    T.check(res.returncode == 0, "index: compile failed: %s" % res.stderr.decode(errors="replace")[-500:])
    if res.returncode != 0:
        return
    for host in ("www.example.com", "other.example.com"):
        truths = explain_all(case, urls, host)
        for server in ("nginx", "apache"):
            try:
                if server == "nginx":
                    srv = Nginx(os.path.join(d, "ng-" + host), base + ".http.conf", base + ".server.conf",
                                ["www.example.com"], modules=["ngx_http_js_module"])
                else:
                    srv = Apache(os.path.join(d, "ap-" + host), base + ".conf", ["www.example.com"],
                                 modules=["lua"])
                with srv:
                    server_test_clean("index/" + server, srv)
                    for u, t in zip(urls, truths):
                        compare("index/" + server, u, host, t, raw_request(srv.port, u.encode(), host))
            except ServerError as exc:
                T.check(False, "index/%s: %s" % (server, exc))


# Wildcard host blocks beyond the shared case (doc/backend-design.md 3.1):
# a block of two wildcard names where :subdomain is taken under the longest
# that admits the host (not the host's class), a named host a wildcard
# admits (its own class, which still sees the wildcard block's rules first;
# its block also names other.org, which no wildcard admits, so that its
# rules are not shadowed),
# a wildcard block before another that admits its hosts (after it, its
# rules would be shadowed), exact and pattern
# rules with :subdomain in the host, path and query, and requests the
# helpers answer (paths and hosts not in normal form), under both case and
# splat-parent settings.
WILDCARD_RULES = """set hosts www.example.com
allow-host *.example.net
host *.b.example.com {
    /s            -> /b-s
    /bonly        -> /b/:subdomain?k=v  308
    /e/*          -> /b-e/*
}
host *.example.com, *.a.example.com {
    /s            -> https://:subdomain.example.net/s?q=:subdomain
    /p/:x         -> /sub/:subdomain/:x
    /e/*          -> https://www.example.com/e2/:subdomain/*  302
    /pct          -> /pct2#:subdomain
}
host x.a.example.com, other.org {
    /s            -> /named-s
    /only-named   -> /n
    /e/x          -> /named-e
}
/s                -> /global-s
/g/*              -> /global/*
/only-named       -> /global-only
"""
WILDCARD_HOSTS = ["m.a.example.com", "x.a.example.com", "X.A.Example.COM.", "q.b.example.com",
                  "deep.q.b.example.com", "example.com", "a.example.com", "www.example.com",
                  "u_v.example.com:8080", "other.org", "b.example.com", "x.a.example.com:81"]
WILDCARD_PATHS = ["/s", "/S", "//s/", "/s?x=%zz&y=1", "/p/abc", "/p/%41b?z", "/p", "/e", "/e/",
                  "/e/x", "/e/a%20b/c", "/E/x", "/pct", "/bonly", "/bonly?x=1", "/only-named",
                  "/g/a", "/g", "/nothing"]


def check_wildcard(tmp):
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


def check_wildcard_many(tmp):
    """Hundreds of wildcard names: the host-class regex is cut into chunks
    (longest names first), a longer name in an earlier chunk than a shorter
    one that also admits the host, blocks before and after each other."""
    d = os.path.join(tmp, "wildmany")
    os.makedirs(d)
    case = os.path.join(d, "many.redir")
    lines = ["set hosts www.example.com"]
    deep = list(range(0, 300, 50))
    for i in deep[:3]:
        lines += ["host *.deep.site-%03d.example.com {" % i, "    /x -> /deep/%d/:subdomain" % i, "}"]
    for i in range(300):
        lines += ["host *.site-%03d.example.com {" % i, "    /x -> /x/%d/:subdomain" % i,
                  "    /z/:a -> /z/%d/:subdomain/:a" % i, "}"]
    for i in deep[3:]:
        # after *.site-NNN.example.com, whose /x takes every host of these
        # blocks first (a /x here would be shadowed)
        lines += ["host *.deep.site-%03d.example.com {" % i, "    /y -> /deep-y/%d" % i, "}"]
    lines += ["host *.example.com {", "    /x -> /all/:subdomain", "    /y -> /y-all/:subdomain", "}"]
    hosts = ["a.site-000.example.com", "a.site-149.example.com", "b.a.site-299.example.com",
             "q.deep.site-050.example.com", "q.deep.site-250.example.com", "deep.site-250.example.com",
             "foo.example.com", "www.example.com", "site-100.example.com"]
    with open(case, "w") as fh:
        fh.write("\n".join(lines) + "\n")
        for h in hosts:
            for p in ("/x", "/y", "/X", "/z/1", "/x/"):
                fh.write("# request: %s  host=%s\n" % (p, h))
    run_case(case, d)
    http = read(os.path.join(d, "many", "a", "site.http.conf")).decode()
    conf = read(os.path.join(d, "many", "a", "site.conf")).decode()
    T.check(http.count('" "_.$2";') >= 2 and conf.count("E=REDIR_WC:_.%2") >= 2,
            "wildcard-many: the host-class regex is not cut into chunks")


RANDOM_NAMES = ["example.com", "a.example.com", "b.a.example.com", "shop.example.com", "other.org",
                "*.example.com", "*.a.example.com", "*.b.a.example.com", "*.other.org"]
RANDOM_HOSTS = ["example.com", "a.example.com", "b.a.example.com", "shop.example.com", "other.org",
                "x.example.com", "x.a.example.com", "y.b.a.example.com", "z.y.b.a.example.com",
                "q_r.other.org", "www.example.com", "none.net"]
RANDOM_SOURCES = ["/p", "/q", "/r/x", "/r/*", "/s/:id", "/t/*", "/q/:id/z"]
RANDOM_PATHS = ["/p", "/q", "/r", "/r/x", "/r/y/z", "/s/1", "/s", "/t", "/t/", "/t/a", "/q/9/z", "/P"]


def random_rules(rng):
    """Host blocks of named and wildcard names in random order, exact and
    pattern rules, some with :subdomain, global rules between them."""
    lines = ["set hosts www.example.com", "set max-chain 9", "allow-host *.example.net"]
    if rng.random() < 0.5:
        lines.append("set splat-parent no-match")
    for b in range(rng.randint(3, 6)):
        names = rng.sample(RANDOM_NAMES, rng.randint(1, 3))
        wild = all(n.startswith("*.") for n in names)
        body = []
        for src in rng.sample(RANDOM_SOURCES, rng.randint(1, 4)):
            if wild and rng.random() < 0.5:
                tgt = rng.choice(["https://:subdomain.example.net/b%d" % b, "/b%d/:subdomain" % b,
                                  "/b%d?s=:subdomain" % b])
            else:
                tgt = "/b%d" % b
            if "*" in src and rng.random() < 0.5:
                tgt += ("&" if "?" in tgt else "?") + "rest=*" if "?" in tgt else "/*"
            body.append("    %s -> %s" % (src, tgt))
        lines.append("host %s {" % ", ".join(names))
        lines += body
        lines.append("}")
        if rng.random() < 0.5:
            lines.append("%s -> /g%d" % (rng.choice(RANDOM_SOURCES), b))
    return "\n".join(lines) + "\n"


def check_wildcard_random(tmp):
    """Random rule sets of named and wildcard host blocks (fixed seeds): every
    host class, every request, on both servers, as explain says.  A rule set
    that `compile` refuses (shadowed, duplicate) is replaced by the next seed."""
    import random
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


def check_map_dir(tmp):
    case = os.path.join(PROTO, "rules.redir")
    base = os.path.join(tmp, "mapdir", "site")
    os.makedirs(os.path.dirname(base))
    res = compile_both(case, base, ["--map-dir", "/srv/redir maps"])
    conf = read(base + ".conf").decode() if res.returncode == 0 else ""
    http = read(base + ".http.conf").decode() if res.returncode == 0 else ""
    T.check('"txt:/srv/redir maps/site.map.txt"' in conf and
            'LuaHookTranslateName "/srv/redir maps/site.lua"' in conf,
            "map-dir: apache conf does not name the deployed map and helper")
    T.check('js_import redir_js from "/srv/redir maps/site.js";' in http,
            "map-dir: nginx conf does not name the deployed helper")


def check_too_many_captures(tmp):
    d = os.path.join(tmp, "caps")
    os.makedirs(d)
    case = os.path.join(d, "caps.redir")
    with open(case, "w") as fh:
        fh.write("/c/:a/:b/:c/:d/:e/:f/:g/:h/:i/:j -> /x/:a/:b/:c/:d/:e/:f/:g/:h/:i/:j\n"
                 "/few/:a -> /y/:a?a=:a\n")
    res = compile_both(case, os.path.join(d, "out"))
    err = res.stderr.decode(errors="replace")
    T.check(res.returncode == 1 and "[backend]" in err and "caps.redir:1:1" in err and
            "/c/:a/:b" in err and not os.path.exists(os.path.join(d, "out.conf")),
            "captures: more than 9 captures is not a backend error on apache: exit %d %s"
            % (res.returncode, err))
    res = subprocess.run([common.redirc(), "compile", case, "--target", "nginx", "-o",
                          os.path.join(d, "ng")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    T.check(res.returncode == 0, "captures: nginx refused 10 captures: %s" % res.stderr.decode())
    # an exact source whose Apache txt map line would pass mod_rewrite's
    # 1024-byte line buffer: refused on Apache (below the GDBM threshold),
    # fine on nginx
    case = os.path.join(d, "long.redir")
    with open(case, "w") as fh:
        fh.write("/%s -> /t\n" % ("Seg-" * 300))
    res = compile_both(case, os.path.join(d, "long"))
    err = res.stderr.decode(errors="replace")
    T.check(res.returncode == 1 and "[backend]" in err and "long.redir:1:1" in err,
            "long map line: not a backend error on apache: exit %d %s" % (res.returncode, err))
    res = subprocess.run([common.redirc(), "compile", case, "--target", "nginx", "-o",
                          os.path.join(d, "longng")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    T.check(res.returncode == 0, "long map line: nginx refused it: %s" % res.stderr.decode())


def check_dbm(tmp):
    """More exact rules than the txt threshold: a GDBM map that answers."""
    d = os.path.join(tmp, "dbm")
    os.makedirs(d)
    case = os.path.join(d, "big.redir")
    n = 10050
    with open(case, "w") as fh:
        fh.write("set hosts www.example.com\n")
        for i in range(n):
            fh.write("/old/%d/page-%x -> /new/%d?k=%d %s\n" % (i, i * 7919, i, i, (301, 308)[i % 2]))
        fh.write("/old/* -> /rest/*\n")
    base = os.path.join(d, "site")
    res = compile_both(case, base)
    T.check(res.returncode == 0 and os.path.exists(base + ".map.gdbm") and
            "dbm=gdbm:" in read(base + ".conf").decode(),
            "dbm: no GDBM map for %d rules: %s" % (n, res.stderr.decode(errors="replace")[-500:]))
    if res.returncode != 0:
        return
    res2 = compile_both(case, os.path.join(d, "again"), ["--map-dir", d])
    T.check(res2.returncode == 0 and read(base + ".map.gdbm") == read(os.path.join(d, "again.map.gdbm")),
            "dbm: the GDBM map is not byte-identical across two compiles")
    urls = ["/old/0/page-0", "/old/%d/page-%x?z=1" % (n - 1, (n - 1) * 7919),
            "/old/5000/page-%x/" % (5000 * 7919), "/OLD/1/page-1ecf", "/old/1/nope"]
    truths = explain_all(case, urls, "www.example.com")
    try:
        with Apache(os.path.join(d, "ap"), base + ".conf", ["www.example.com"], modules=["lua"]) as ap:
            server_test_clean("dbm/apache", ap)
            for u, t in zip(urls, truths):
                compare("dbm/apache", u, "www.example.com", t, raw_request(ap.port, u.encode(), "www.example.com"))
    except ServerError as exc:
        T.check(False, "dbm/apache: %s" % exc)
    try:
        with Apache(os.path.join(d, "apdbd"), base + ".dbd.conf", ["www.example.com"],
                    modules=["lua", "dbd"]) as ap:
            server_test_clean("dbm/apache-dbd", ap)
            for u, t in zip(urls, truths):
                compare("dbm/apache-dbd", u, "www.example.com", t,
                        raw_request(ap.port, u.encode(), "www.example.com"))
    except ServerError as exc:
        T.check(False, "dbm/apache-dbd: %s" % exc)


def check_dbm_long(tmp):
    """Above the GDBM threshold, exact rules with a key or a target of more
    than 1000 bytes (a txt map refuses them) compile and Apache answers."""
    d = os.path.join(tmp, "dbmlong")
    os.makedirs(d)
    case = os.path.join(d, "long.redir")
    n = 10050
    long_key = "/long/" + "".join("seg-%d/" % i for i in range(250))  # 1,896 bytes
    long_target = "/to/" + "".join("part-%d/" % i for i in range(400)) + "?q=1"  # 3,498 bytes
    with open(case, "w") as fh:
        fh.write("set hosts www.example.com\n")
        for i in range(n):
            fh.write("/f/%d -> /g/%d\n" % (i, i))
        fh.write("%s -> /short 308\n" % long_key)
        fh.write("/short-src -> %s\n" % long_target)
        fh.write("%sx -> %s 302\n" % (long_key, long_target))
    base = os.path.join(d, "site")
    res = compile_both(case, base)
    T.check(res.returncode == 0 and os.path.exists(base + ".map.gdbm"),
            "dbm-long: long exact rules refused above the GDBM threshold: %s"
            % res.stderr.decode(errors="replace")[-500:])
    if res.returncode != 0:
        return
    urls = [long_key, long_key + "?a=b", "/short-src", "/short-src?z=9", long_key + "x",
            long_key + "x/", "/f/0", "/f/%d" % (n - 1)]
    truths = explain_all(case, urls, "www.example.com")
    T.check(all(t is not None for t in truths), "dbm-long: explain has no answer for %r" % (truths,))
    try:
        with Apache(os.path.join(d, "ap"), base + ".conf", ["www.example.com"], modules=["lua"]) as ap:
            server_test_clean("dbm-long/apache", ap)
            for u, t in zip(urls, truths):
                compare("dbm-long/apache", u, "www.example.com", t,
                        raw_request(ap.port, u.encode(), "www.example.com"))
    except ServerError as exc:
        T.check(False, "dbm-long/apache: %s" % exc)


def main():
    for binary in ("/usr/sbin/nginx", "/usr/sbin/apache2",
                   "/usr/lib/nginx/modules/ngx_http_js_module.so",
                   "/usr/lib/apache2/modules/mod_lua.so"):
        T.check(os.path.exists(binary), "missing %s: run tools/bootstrap.sh" % binary)
    if T.failed:
        return T.finish()
    tmp = tempfile.mkdtemp(prefix="redirc-servers-")
    try:
        for case in common.case_files():
            run_case(case, tmp)
        check_helpers(tmp)
        check_native(tmp)
        check_index(tmp)
        check_wildcard(tmp)
        check_wildcard_random(tmp)
        check_wildcard_many(tmp)
        check_map_dir(tmp)
        check_too_many_captures(tmp)
        check_dbm(tmp)
        check_dbm_long(tmp)
    finally:
        if os.environ.get("KEEP_TMP"):
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
