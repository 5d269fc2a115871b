"""End-to-end test of the `python` target.

Every case in tests/e2e/cases/ (and the extra cases in
tests/e2e/python-cases/: case folding, strict trailing slashes, file order
across exact and pattern rules per host scope) is compiled with `--target python`, the
module is byte-compiled (`python3 -m py_compile`), parsed with Python 3.8's
grammar (`ast.parse(feature_version=(3, 8))`), and imported from its file
path, and every `# request:` line is answered by its lookup(), which must
equal `redirc explain` on the same file (status and Location, and the rule's
file and line through lookup_rule()/rule_info()).  Then the WSGI middleware
(a redirect, a 410, a pass-through, the PATH_INFO fallback), the rule
metadata, the import-time self-check, and determinism.

Closing line: `python-e2e: N passed, M failed`.
"""
import ast
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

T = common.Tally("python-e2e")


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def split_url(url, host):
    """(host, raw path, raw query) as rc_url_split does it."""
    url = url.split("#", 1)[0]
    low = url.lower()
    for scheme in ("http://", "https://"):
        if low.startswith(scheme):
            rest = url[len(scheme):]
            cut = len(rest)
            for sep in ("/", "?"):
                j = rest.find(sep)
                if j >= 0:
                    cut = min(cut, j)
            host, url = rest[:cut], rest[cut:] or "/"
            if url.startswith("?"):
                url = "/" + url
            break
    path, sep, query = url.partition("?")
    return host, path, (query if sep else "")


def explain_line(case, url, host):
    cmd = [common.redirc(), "explain", case, url]
    if host:
        cmd += ["--host", host]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return res.stdout.decode("latin-1").rstrip("\n").split("\t")


_seq = [0]


def check_case(case, tmp):
    name = os.path.basename(case)[:-len(".redir")]
    _seq[0] += 1
    base = os.path.join(tmp, "case%02d_%s" % (_seq[0], name.replace("-", "_")))
    try:
        common.compile_case(case, "python", base)
    except RuntimeError as exc:
        T.check(False, "%s: compile: %s" % (name, exc))
        return None
    artifact = base + ".py"
    res = subprocess.run([sys.executable, "-m", "py_compile", artifact],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    T.check(res.returncode == 0, "%s: py_compile: %s" % (name, res.stdout.decode(errors="replace")))
    # the spec promises Python 3.8+; only 3.11 is installed, so at least the
    # grammar is checked against 3.8's (doc/decisions.md)
    try:
        with open(artifact, "rb") as f:
            ast.parse(f.read(), artifact, feature_version=(3, 8))
        ok38 = ""
    except SyntaxError as exc:
        ok38 = str(exc)
    T.check(not ok38, "%s: not Python 3.8 syntax: %s" % (name, ok38))
    try:
        mod = load_module(artifact, "redir_" + os.path.basename(base))
    except Exception as exc:  # a broken module is a failure, not a crash
        T.check(False, "%s: import: %r" % (name, exc))
        return None
    for url, host in common.requests_of(case):
        truth = common.explain(case, url, host)
        h, path, query = split_url(url, host)
        try:
            got = mod.lookup(path, h, query)
        except Exception as exc:
            T.check(False, "%s: %s host=%s: lookup raised %r" % (name, url, host, exc))
            continue
        T.check(common.same_answer(truth, got),
                "%s: %s host=%s: explain %r, python %r" % (name, url, host, truth, got))
        # the rule that answered: the same file and line as explain
        fields = explain_line(case, url, host)
        got_rule = mod.lookup_rule(path, h, query)
        if len(fields) == 4 and got_rule is not None:
            info = mod.rule_info(got_rule[0])
            T.check("%s:%d" % (info["file"], info["line"]) == fields[3],
                    "%s: %s: rule %s:%s, explain %s" % (name, url, info["file"], info["line"], fields[3]))
        # the str and bytes forms agree
        got_b = mod.lookup(path.encode("utf-8"), None if h is None else h.encode(), query.encode())
        T.check(got_b == got, "%s: %s: bytes form %r, str form %r" % (name, url, got_b, got))
    return mod


def random_url(rnd, words):
    """A request built from the case's own words, dot segments, slashes,
    valid and invalid escapes, case changes and odd queries."""
    segs = []
    for _ in range(rnd.randrange(0, 6)):
        c = rnd.random()
        if c < 0.5:
            w = rnd.choice(words)
            segs.append(w.upper() if rnd.random() < 0.1 else w)
        elif c < 0.65:
            segs.append(rnd.choice([".", "..", "", "%2e", "%2E%2e"]))
        elif c < 0.8:
            segs.append(rnd.choice(["%2F", "%FF", "%zz", "%", "%4", "a%2fb", "%C3%A9", "%3F", "%23", "%0D%0A"]))
        else:
            segs.append("".join(rnd.choice("abAB-_~!$&'()*+,;=:@") for _ in range(rnd.randrange(1, 4))))
    path = "/" + "/".join(segs) + rnd.choice(["", "", "/", "//"])
    return path + rnd.choice(["", "", "?", "?a=1", "?x=%zz&y=%20", "?%", "?a?b=c", "?\u00e9"])


def check_random(case, mod, seed=7, per_host=150):
    """lookup() against one batched `redirc explain` per host."""
    words = set()
    with open(case, encoding="utf-8") as fh:
        for line in fh:
            for tok in line.split("#", 1)[0].split():
                if tok.startswith("/") or tok.startswith("http"):
                    words.update(w for w in tok.split("?")[0].split("/")
                                 if w and ":" not in w and "*" not in w and '"' not in w)
    words = sorted(words) or ["a"]
    rnd = random.Random(seed)
    bad = 0
    for host in (None, "www.example.com", "OLD.example.com:8080", "a.example.com."):
        urls = [random_url(rnd, words) for _ in range(per_host)]
        cmd = [common.redirc(), "explain", case] + urls + (["--host", host] if host else [])
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = res.stdout.decode("utf-8").split("\n")
        for url, line in zip(urls, lines):
            f = line.split("\t")
            truth = None if f[1] == "pass" else (int(f[1]), f[2] if f[1] != "410" else None)
            path, _, query = url.partition("?")
            got = mod.lookup(path, host, query)
            # the fast path of lookup() (normal-form paths, answers made on a
            # first hit) agrees with lookup_rule(), which never takes it, and
            # with itself on a second call
            slow = mod.lookup_rule(path, host, query)
            again = mod.lookup(path.encode("utf-8"), host, query)
            if got != (None if slow is None else slow[1:]) or again != got:
                bad += 1
                if bad <= 5:
                    print("  %s: %r host=%s: lookup %r, again %r, lookup_rule %r"
                          % (case, url, host, got, again, slow))
            if not common.same_answer(truth, got):
                bad += 1
                if bad <= 5:
                    print("  %s: %r host=%s: explain %r, python %r" % (case, url, host, truth, got))
    T.check(bad == 0, "%s: %d of %d random requests differ" % (os.path.basename(case), bad, 4 * per_host))


class StartResponse:
    def __init__(self):
        self.status, self.headers = None, None

    def __call__(self, status, headers, exc_info=None):
        self.status, self.headers = status, dict(headers)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def wsgi(mod, **environ):
    env = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": ""}
    env.update(environ)
    sr = StartResponse()
    body = b"".join(mod.RedirectMiddleware(app)(env, sr))
    return sr.status, sr.headers, body


def check_wsgi(mod):
    st, hd, body = wsgi(mod, REQUEST_URI="/old-pricing?ref=ad", PATH_INFO="/old-pricing",
                        QUERY_STRING="ref=ad")
    T.check(st == "301 Moved Permanently" and hd.get("Location") == "/pricing?ref=ad",
            "wsgi redirect: %r %r" % (st, hd))
    st, hd, body = wsgi(mod, RAW_URI="/about-us/")
    T.check(st == "308 Permanent Redirect" and hd.get("Location") == "/about",
            "wsgi 308 via RAW_URI: %r %r" % (st, hd))
    st, hd, body = wsgi(mod, REQUEST_URI="http://www.example.com/moved?x=1")
    T.check(st == "302 Found" and hd.get("Location") == "/new?a=b&x=1",
            "wsgi absolute-form URI: %r %r" % (st, hd))
    st, hd, body = wsgi(mod, REQUEST_URI="/spring-sale")
    T.check(st == "410 Gone" and "Location" not in hd, "wsgi 410: %r %r" % (st, hd))
    st, hd, body = wsgi(mod, REQUEST_URI="/pricing", PATH_INFO="/pricing")
    T.check(st == "200 OK" and body == b"app", "wsgi pass-through: %r %r" % (st, body))
    # no raw URI: PATH_INFO (a PEP 3333 latin-1 string) is quoted again
    st, hd, body = wsgi(mod, PATH_INFO="/a space", QUERY_STRING="q=1")
    T.check(st == "301 Moved Permanently" and hd.get("Location") == "/with%20space/%C3%A9?q=1",
            "wsgi PATH_INFO fallback: %r %r" % (st, hd))
    # an invalid escape passes
    st, hd, body = wsgi(mod, REQUEST_URI="/old-pricing%zz")
    T.check(st == "200 OK", "wsgi invalid escape passes: %r" % (st,))
    st, hd, body = wsgi(mod, REQUEST_URI="/old-pricing", REQUEST_METHOD="HEAD")
    T.check(st.startswith("301") and body == b"", "wsgi HEAD: %r %r" % (st, body))
    T.check(callable(mod.middleware(app)), "middleware(app) is callable")
    # a query of another type is refused on the fast path as on the general one
    for path in ("/old-pricing", "/old-pricing/"):
        try:
            mod.lookup(path, None, 5)
            T.check(False, "lookup(%r, None, 5) did not raise" % path)
        except TypeError:
            pass


def answer_of(status_line, headers):
    """A WSGI response as (status, location) or None for the application."""
    if status_line.startswith("200"):
        return None
    code = int(status_line.split()[0])
    return (code, headers.get("Location"))


def check_wsgi_absolute_form(mod, case):
    """The host of an absolute-form request target wins over the Host
    header, as in nginx, Apache and `redirc explain` (issue 14)."""
    for uri, host_header in (("http://shop.example.com/cart", "www.example.com"),
                             ("http://www.example.com/cart", "shop.example.com"),
                             ("HTTPS://API.example.com:8443/v1/x?y=1", "www.example.com"),
                             ("http://old.example.com./pricing?x=1", None),
                             ("http://shop.example.com?a=1", "www.example.com"),
                             ("http://shop.example.com/item/7", "api.example.com")):
        truth = common.explain(case, uri)
        env = {"REQUEST_URI": uri}
        if host_header is not None:
            env["HTTP_HOST"] = host_header
        st, hd, body = wsgi(mod, **env)
        got = answer_of(st, hd)
        T.check(common.same_answer(truth, got),
                "wsgi absolute-form %s (Host: %s): explain %r, wsgi %r" % (uri, host_header, truth, got))
    # userinfo in the authority: a browser would go to evil.example; servers
    # refuse the request (400); the middleware never redirects it
    for uri in ("http://shop.example.com:80@evil.example/cart", "http:///cart"):
        st, hd, body = wsgi(mod, REQUEST_URI=uri, HTTP_HOST="shop.example.com")
        T.check(st == "200 OK" and body == b"app", "wsgi %s passes: %r %r" % (uri, st, hd))


def check_metadata(mod, case):
    info = mod.rule_info(0)
    T.check(info["owner"] == "growth" and info["note"] == "rollback: delete" and
            info["line"] == 5 and info["file"] == case and info["source"] == "/old-pricing" and
            info["target"] == "/pricing" and info["status"] == 301,
            "rule_info(0): %r" % (info,))
    T.check(len(mod.RULES) == 7 and isinstance(mod.EXACT, dict), "tables: %d rules" % len(mod.RULES))


def check_hostile(tmp):
    case = os.path.join(common.CASES, "python-hostile.redir")
    mod = check_case(case, tmp)
    if mod is None:
        return
    check_random(case, mod)
    # every hostile string comes back byte for byte
    with open(case, "rb") as fh:
        text = fh.read().decode("utf-8")
    owners = set(mod.rule_info(i)["owner"] for i in range(len(mod.RULES)))
    notes = set(mod.rule_info(i)["note"] for i in range(len(mod.RULES)))
    for want in ('q"uote', "back\\slash#x", "caf\u00e9"):
        T.check(want in owners, "hostile owner %r kept: %r" % (want, owners))
    for want in ('a "quoted" note # not a comment', 'triple """ and \'\'\' and \\N{BULLET} ${HOME} {x}',
                 "non-ASCII: \u00e9\u00e8 \u2603 \u0000".replace("\u0000", "")):
        T.check(want in notes, "hostile note %r kept: %r" % (want, notes))
    T.check('"""' in text, "the hostile case holds a triple quote")


def check_self_check(tmp):
    """A truncated or edited table is refused on import."""
    base = os.path.join(tmp, "selfcheck")
    common.compile_case(os.path.join(common.CASES, "basic.redir"), "python", base)
    with open(base + ".py", encoding="ascii") as fh:
        src = fh.read()
    for column in ("_KEYS", "_NOTES"):
        # drop the first record of a packed column
        lines = src.split("\n")
        i = lines.index('%s = b"".join((' % column)
        del lines[i + 1]
        edited = "%s_%s.py" % (base, column.strip("_").lower())
        with open(edited, "w", encoding="ascii") as fh:
            fh.write("\n".join(lines))
        try:
            load_module(edited, "redir_selfcheck" + column)
            T.check(False, "an edited %s was imported" % column)
        except ImportError as exc:
            T.check("table sizes" in str(exc), "self-check message: %s" % exc)


def check_runtime_file(tmp):
    """The module's code after the tables is backends/helpers/redir_runtime.py,
    byte for byte: the tests run the very file that ships."""
    runtime = os.path.join(os.path.dirname(os.path.dirname(common.HERE)),
                           "backends", "helpers", "redir_runtime.py")
    with open(runtime, "rb") as fh:
        want = fh.read()
    base = os.path.join(tmp, "runtime_file")
    common.compile_case(os.path.join(common.CASES, "basic.redir"), "python", base)
    with open(base + ".py", "rb") as fh:
        got = fh.read()
    T.check(len(want) > 1000 and got.endswith(want),
            "the module does not end with %s (rebuild redirc?)" % runtime)


def check_deterministic(tmp):
    case = os.path.join(common.CASES, "patterns.redir")
    a, b = os.path.join(tmp, "det_a"), os.path.join(tmp, "det_b")
    common.compile_case(case, "python", a)
    common.compile_case(case, "python", b)
    with open(a + ".py", "rb") as fa, open(b + ".py", "rb") as fb:
        T.check(fa.read() == fb.read(), "two compiles give the same bytes")


def main():
    tmp = tempfile.mkdtemp(prefix="redirc-python-")
    try:
        mods = {}
        extra = os.path.join(common.HERE, "python-cases")
        for case in common.case_files() + sorted(
                os.path.join(extra, f) for f in os.listdir(extra) if f.endswith(".redir")):
            if os.path.basename(case) == "python-hostile.redir":
                continue
            mod = check_case(case, tmp)
            mods[os.path.basename(case)] = (case, mod)
            if mod is not None:
                check_random(case, mod)
        case, basic = mods.get("basic.redir", (None, None))
        if basic is not None:
            check_wsgi(basic)
            check_metadata(basic, case)
        else:
            T.check(False, "basic.redir did not load")
        case, hosts = mods.get("e2e-hosts.redir", (None, None))
        if hosts is not None:
            check_wsgi_absolute_form(hosts, case)
        else:
            T.check(False, "e2e-hosts.redir did not load")
        check_hostile(tmp)
        check_self_check(tmp)
        check_deterministic(tmp)
        check_runtime_file(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
