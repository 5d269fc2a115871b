#!/usr/bin/env python3
"""End-to-end test of the middleware (python/redir_middleware/).

Every case in tests/e2e/cases/ and tests/e2e/python-cases/ is compiled to a
table (redir.Table) and to a Python module, and every `# request:` goes
through each middleware with both, compared with `redirc explain`:

- WSGI, with the environ a server builds (REQUEST_URI as received);
- ASGI 3, with the scope uvicorn builds, and through Starlette's
  TestClient (httpx normalizes some targets, e.g. dot segments and invalid
  escapes, before sending: the truth is then `explain` of what was sent);
- Django's test client, the raw target given as REQUEST_URI (as mod_wsgi
  and uWSGI do), configured by REDIRC_TABLE or REDIRC_MODULE;
- uvicorn over a real socket on a free 127.0.0.1 port, each request sent
  byte for byte (no Host: HTTP/1.0), the absolute form included.

Also: FastAPI with app.add_middleware as the README shows it, the hook
(rule, owner), the fallback to PATH_INFO without a raw URI, 410 and
redirect bodies empty, HEAD, websocket/lifespan scopes passed through.

Closing line: `pyext-middleware: N passed, M failed`.
"""
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import pyext_env  # noqa: E402  (re-executes under REDIR_PYTHON)
import common  # noqa: E402
import redir  # noqa: E402
import servers  # noqa: E402
from test_pyext import as_answer, case_list, explain_all  # noqa: E402
from test_python import load_module  # noqa: E402
from redir_middleware import wsgi as rwsgi, asgi as rasgi  # noqa: E402

T = common.Tally("pyext-middleware")


class Case(object):
    def __init__(self, path, tmp, seq):
        self.path = path
        self.name = os.path.basename(path)[:-len(".redir")]
        self.base = os.path.join(tmp, "m%02d_%s" % (seq, self.name.replace("-", "_")))
        common.compile_case(path, "table", self.base)
        common.compile_case(path, "python", self.base)
        self.table_path = self.base + ".redirdb"
        self.table = redir.Table(self.table_path)
        self.module = load_module(self.base + ".py", "mw_" + os.path.basename(self.base))
        self.reqs = common.requests_of(path)
        self.truths = [as_answer(f) for f in explain_all(path, self.reqs)]

    def rules(self):
        return (("table", self.table), ("module", self.module))


def same(truth, status, location):
    got = None if status == 200 else (status, location if status != 410 else None)
    return common.same_answer(truth, got)


# ---- WSGI ----------------------------------------------------------------

def wsgi_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def wsgi_call(mw, **environ):
    env = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": ""}
    env.update(environ)
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(mw(env, start_response))
    return int(seen["status"].split()[0]), seen["headers"], body, seen["status"]


def native(b):
    return b.decode("latin-1")


def check_wsgi(case):
    for kind, rules in case.rules():
        mw = rwsgi.RedirectMiddleware(wsgi_app, rules)
        for (url, host), truth in zip(case.reqs, case.truths):
            env = {"REQUEST_URI": native(url.encode("utf-8"))}
            if host:
                env["HTTP_HOST"] = host
            st, hd, body, line = wsgi_call(mw, **env)
            T.check(same(truth, st, hd.get("Location")) and
                    (body == b"app" if st == 200 else body == b"" and hd["Content-Length"] == "0"),
                    "wsgi %s %s: %s host=%s: %s %r %r, explain %r" % (
                        kind, case.name, url, host, line, hd.get("Location"), body, truth))


def check_wsgi_basic(case):
    hook_calls = []
    mw = rwsgi.RedirectMiddleware(wsgi_app, case.table_path,
                                  hook=lambda *a: hook_calls.append(a))
    T.check(isinstance(mw.rules, redir.Table) and mw.rules.reload, "a path gives a reloading Table")
    st, hd, body, line = wsgi_call(mw, RAW_URI="/old-pricing?ref=ad")
    T.check(line == "301 Moved Permanently" and hd.get("Location") == "/pricing?ref=ad" and body == b"",
            "RAW_URI (gunicorn): %r %r" % (line, hd))
    T.check(hook_calls == [(0, "growth", 301, "/pricing?ref=ad")], "hook: %r" % hook_calls)
    st, hd, body, line = wsgi_call(mw, REQUEST_URI="/spring-sale", REQUEST_METHOD="HEAD")
    T.check(line == "410 Gone" and "Location" not in hd and body == b"", "410: %r %r" % (line, hd))
    # no raw URI: PATH_INFO (PEP 3333 latin-1) quoted again, QUERY_STRING
    st, hd, body, line = wsgi_call(mw, PATH_INFO="/a space", QUERY_STRING="q=1")
    T.check(st == 301 and hd.get("Location") == "/with%20space/%C3%A9?q=1",
            "PATH_INFO fallback: %r %r" % (line, hd))
    st, hd, body, line = wsgi_call(mw, REQUEST_URI="*", REQUEST_METHOD="OPTIONS")
    T.check(st == 200 and body == b"app", "OPTIONS *: %r" % (line,))
    # the absolute form's host wins over Host
    mw2 = rwsgi.RedirectMiddleware(wsgi_app, case.module, hook=lambda *a: hook_calls.append(a))
    st, hd, body, line = wsgi_call(mw2, REQUEST_URI="/old-pricing")
    T.check(st == 301 and hook_calls[-1] == (0, "growth", 301, "/pricing"),
            "module hook: %r" % hook_calls[-1:])

    def broken(*a):
        raise RuntimeError("metrics down")
    mw3 = rwsgi.RedirectMiddleware(wsgi_app, case.table, hook=broken)
    import logging
    logging.getLogger("redir_middleware").disabled = True
    st, hd, body, line = wsgi_call(mw3, REQUEST_URI="/old-pricing")
    logging.getLogger("redir_middleware").disabled = False
    T.check(st == 301, "a failing hook keeps the redirect: %r" % (line,))
    try:
        rwsgi.RedirectMiddleware(wsgi_app, 42)
        T.check(False, "rules=42 accepted")
    except TypeError as exc:
        T.check("lookup" in str(exc), "rules=42: %s" % exc)


def check_wsgi_hosts(tmp):
    src = os.path.join(tmp, "hosts.redir")
    with open(src, "w") as fh:
        fh.write("set hosts www.example.com\nhost old.example.com {\n  /* -> https://www.example.com/*\n}\n"
                 "/x -> /y\n")
    common.compile_case(src, "table", os.path.join(tmp, "hosts"))
    mw = rwsgi.RedirectMiddleware(wsgi_app, redir.Table(os.path.join(tmp, "hosts.redirdb")))
    st, hd, body, line = wsgi_call(mw, REQUEST_URI="http://OLD.example.com:8080/a?b",
                                   HTTP_HOST="www.example.com")
    T.check(st == 301 and hd.get("Location") == "https://www.example.com/a?b",
            "absolute form's host wins: %r %r" % (line, hd))
    st, hd, body, line = wsgi_call(mw, REQUEST_URI="http://www.example.com/a",
                                   HTTP_HOST="old.example.com")
    T.check(st == 200, "absolute form's host wins (pass): %r" % (line,))
    st, hd, body, line = wsgi_call(mw, REQUEST_URI="/a", HTTP_HOST="old.example.com")
    T.check(st == 301, "Host header: %r" % (line,))


# ---- ASGI ----------------------------------------------------------------

async def asgi_app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"app"})


def asgi_call(mw, target, host, method="GET", scope_type="http"):
    """The scope uvicorn (h11) builds for a raw target."""
    raw_path, _, query = target.partition(b"?")
    scope = {"type": scope_type, "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "raw_path": raw_path, "query_string": query,
             "path": raw_path.decode("latin-1"), "root_path": "",
             "headers": [(b"host", host.encode("utf-8"))] if host else []}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg):
        sent.append(msg)

    asyncio.run(mw(scope, receive, send))
    start = sent[0]
    headers = dict(start.get("headers", []))
    body = b"".join(m.get("body", b"") for m in sent[1:])
    loc = headers.get(b"location")
    return start["status"], None if loc is None else loc.decode("latin-1"), body, headers


def check_asgi(case):
    for kind, rules in case.rules():
        mw = rasgi.RedirectMiddleware(asgi_app, rules)
        for (url, host), truth in zip(case.reqs, case.truths):
            st, loc, body, hd = asgi_call(mw, url.encode("utf-8"), host)
            T.check(same(truth, st, loc) and (body == b"app" if st == 200 else
                                              body == b"" and hd[b"content-length"] == b"0"),
                    "asgi %s %s: %s host=%s: %d %r %r, explain %r" % (
                        kind, case.name, url, host, st, loc, body, truth))


def check_asgi_basic(case):
    mw = rasgi.RedirectMiddleware(asgi_app, case.table)
    seen = []

    async def other(scope, receive, send):
        seen.append(scope["type"])
    mw_other = rasgi.RedirectMiddleware(other, case.table)
    for kind in ("websocket", "lifespan"):
        asyncio.run(mw_other({"type": kind, "raw_path": b"/old-pricing"}, None, None))
    T.check(seen == ["websocket", "lifespan"], "non-http scopes pass: %r" % seen)
    # no raw_path: the decoded path quoted again
    sent = []

    async def send(msg):
        sent.append(msg)
    asyncio.run(mw({"type": "http", "path": "/a space", "query_string": b"", "headers": []},
                   None, send))
    T.check(sent[0]["status"] == 301 and dict(sent[0]["headers"])[b"location"] ==
            b"/with%20space/%C3%A9", "asgi path fallback: %r" % (sent[:1],))


def check_starlette(case):
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    async def page(request):
        return PlainTextResponse("app")

    sent_reqs, answers = [], {}
    for kind, rules in case.rules():
        app = Starlette(routes=[Route("/{p:path}", page)])
        app.add_middleware(rasgi.RedirectMiddleware, rules=rules)
        client = TestClient(app)
        for url, host in case.reqs:
            headers = {"host": host} if host else {}
            target = url if url.startswith("/") else url
            try:
                req = client.build_request("GET", target, headers=headers)
                r = client.send(req, follow_redirects=False)
            except Exception as exc:  # httpx refuses some targets outright
                answers[(kind, url, host)] = ("client refused", repr(exc))
                continue
            sent = (req.url.raw_path.decode("ascii"), req.headers.get("host"))
            sent_reqs.append(sent)
            answers[(kind, url, host)] = (sent, r.status_code, r.headers.get("location"), r.content)
    truths = dict(zip(sent_reqs, [as_answer(f) for f in explain_all(case.path, sent_reqs)]))
    changed = 0
    for (kind, url, host), a in sorted(answers.items(), key=str):
        if a[0] == "client refused":
            print("  starlette %s: %s: the test client refused it: %s" % (case.name, url, a[1]))
            continue
        sent, st, loc, body = a
        changed += sent[0] != url.split("#")[0] and kind == "table"
        T.check(same(truths[sent], st, loc) and (body == b"app" if st == 200 else body == b""),
                "starlette %s %s: %s (sent %r host %s): %d %r, explain %r" % (
                    kind, case.name, url, sent[0], sent[1], st, loc, truths[sent]))
    return changed


def check_fastapi(case):
    from fastapi import FastAPI
    from starlette.testclient import TestClient
    from redir_middleware.asgi import RedirectMiddleware
    calls = []
    app = FastAPI()
    app.add_middleware(RedirectMiddleware, rules=case.table_path,
                       hook=lambda *a: calls.append(a))

    @app.get("/pricing")
    def pricing():
        return {"page": "pricing"}

    client = TestClient(app)
    r = client.get("/old-pricing?ref=ad", follow_redirects=False)
    T.check(r.status_code == 301 and r.headers["location"] == "/pricing?ref=ad" and r.content == b"",
            "fastapi redirect: %d %r" % (r.status_code, r.headers))
    T.check(calls == [(0, "growth", 301, "/pricing?ref=ad")], "fastapi hook: %r" % calls)
    r = client.get("/spring-sale", follow_redirects=False)
    T.check(r.status_code == 410 and r.content == b"" and "location" not in r.headers,
            "fastapi 410: %d %r" % (r.status_code, r.content))
    r = client.get("/old-pricing?ref=ad")
    T.check(r.status_code == 200 and r.json() == {"page": "pricing"} and len(calls) == 3,
            "fastapi follows to the app: %d %r" % (r.status_code, r.content))
    r = client.head("/about-us", follow_redirects=False)
    T.check(r.status_code == 308 and r.headers["location"] == "/about", "fastapi HEAD: %r" % (r,))


# ---- Django --------------------------------------------------------------

def django_setup():
    import django
    from django.conf import settings
    from django.http import HttpResponse
    from django.urls import re_path

    def view(request):
        return HttpResponse(b"app", content_type="text/plain")

    settings.configure(
        DEBUG=False, SECRET_KEY="pyext-test", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
        MIDDLEWARE=["redir_middleware.django.RedirectMiddleware"],
        INSTALLED_APPS=[], USE_TZ=True, DATABASES={})
    django.setup()
    global urlpatterns
    urlpatterns = [re_path(r"", view)]


urlpatterns = []


def django_client(**settings):
    from django.test import Client
    from django.test.utils import override_settings
    ctx = override_settings(**settings)
    ctx.enable()
    return Client(), ctx


def check_django(case):
    for kind, _ in case.rules():
        conf = {"REDIRC_TABLE": case.table_path} if kind == "table" else \
               {"REDIRC_MODULE": case.module.__name__}
        sys.modules[case.module.__name__] = case.module
        client, ctx = django_client(**conf)
        try:
            for (url, host), truth in zip(case.reqs, case.truths):
                extra = {"REQUEST_URI": native(url.encode("utf-8"))}
                if host:
                    extra["HTTP_HOST"] = host
                path = url if url.startswith("/") else "/"
                try:
                    r = client.get(path.split("?")[0], **extra)
                except Exception as exc:
                    T.check(False, "django %s %s: %s: %r" % (kind, case.name, url, exc))
                    continue
                T.check(same(truth, r.status_code, r.get("Location")) and
                        (r.content == b"app" if r.status_code == 200 else r.content == b""),
                        "django %s %s: %s host=%s: %d %r, explain %r" % (
                            kind, case.name, url, host, r.status_code, r.get("Location"), truth))
        finally:
            ctx.disable()


def redirected(*args):
    HOOK_CALLS.append(args)


HOOK_CALLS = []


def check_django_basic(case):
    from django.core.exceptions import ImproperlyConfigured
    client, ctx = django_client(REDIRC_TABLE=case.table_path, REDIRC_RELOAD=False,
                                REDIRC_HOOK=__name__ + ".redirected")
    sys.modules.setdefault(__name__, sys.modules["__main__"])
    try:
        r = client.get("/a space", {"q": "1"})  # no REQUEST_URI: PATH_INFO quoted again
        T.check(r.status_code == 301 and r["Location"] == "/with%20space/%C3%A9?q=1",
                "django PATH_INFO fallback: %d %r" % (r.status_code, r.get("Location")))
        r = client.get("/old-pricing", RAW_URI="/old-pricing?x=1")
        T.check(r.status_code == 301 and r["Location"] == "/pricing?x=1" and
                HOOK_CALLS[-1:] == [(0, "growth", 301, "/pricing?x=1")],
                "django RAW_URI + hook: %d %r" % (r.status_code, HOOK_CALLS[-1:]))
        r = client.get("/pricing")
        T.check(r.status_code == 200 and r.content == b"app", "django pass: %d" % r.status_code)
    finally:
        ctx.disable()
    client, ctx = django_client()
    try:
        client.get("/old-pricing")
        T.check(False, "django without REDIRC_TABLE or REDIRC_MODULE was accepted")
    except ImproperlyConfigured as exc:
        T.check("REDIRC_TABLE" in str(exc), "django ImproperlyConfigured: %s" % exc)
    finally:
        ctx.disable()


# ---- uvicorn over a real socket ------------------------------------------

UVICORN_APP = '''
import importlib.util, json, os
import redir
from redir_middleware.asgi import RedirectMiddleware

async def page(scope, receive, send):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"3")]})
    await send({"type": "http.response.body", "body": b"app"})

apps = {}
for name, table, module in json.load(open(os.environ["PYEXT_CASES"])):
    spec = importlib.util.spec_from_file_location("u_" + name, module)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    apps[(name, "table")] = RedirectMiddleware(page, redir.Table(table, reload=True))
    apps[(name, "module")] = RedirectMiddleware(page, mod)

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    h = dict(scope["headers"])
    await apps[(h[b"x-case"].decode(), h[b"x-rules"].decode())](scope, receive, send)
'''


def check_uvicorn(cases, tmp):
    import json
    with open(os.path.join(tmp, "cases.json"), "w") as fh:
        json.dump([(c.name, c.table_path, c.base + ".py") for c in cases], fh)
    with open(os.path.join(tmp, "pyext_uvicorn_app.py"), "w") as fh:
        fh.write(UVICORN_APP)
    port = servers.free_port()
    env = dict(os.environ, PYTHONPATH=pyext_env.python_path(),
               PYEXT_CASES=os.path.join(tmp, "cases.json"))
    log = open(os.path.join(tmp, "uvicorn.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning", "--http", "h11",
                             "--app-dir", tmp, "pyext_uvicorn_app:app"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and proc.poll() is None and not servers._port_answers(port):
            time.sleep(0.1)
        up = proc.poll() is None and servers._port_answers(port)
        T.check(up, "uvicorn did not come up on 127.0.0.1:%d" % port)
        if not up:
            return
        refused = 0
        for case in cases:
            for kind, _ in case.rules():
                extra = b"X-Case: " + case.name.encode() + b"\r\nX-Rules: " + kind.encode() + b"\r\n"
                for (url, host), truth in zip(case.reqs, case.truths):
                    # no Host: HTTP/1.0; raw_request_full sends the target byte for byte
                    st, headers, body = servers.raw_request_full(
                        port, url.encode("utf-8"), host, extra_headers=extra)
                    if st == 400 and b"Invalid HTTP request" in body:
                        # h11 refuses a request line with a byte outside
                        # visible ASCII before any application runs (outside
                        # the contract, spec section 3); anything else counts
                        refused += 1
                        T.check(any(b < 0x21 or b > 0x7e for b in url.encode("utf-8")),
                                "uvicorn %s %s: refused %r" % (kind, case.name, url))
                        continue
                    loc = dict(headers).get("location")
                    T.check(same(truth, st, loc) and (body == b"app" if st == 200 else body == b""),
                            "uvicorn %s %s: %s host=%s: %d %r %r, explain %r" % (
                                kind, case.name, url, host, st, loc, body[:60], truth))
        print("  uvicorn: h11 refused %d requests with non-ASCII bytes in the request line"
              % refused)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    with open(os.path.join(tmp, "uvicorn.log"), "rb") as fh:
        text = fh.read().decode(errors="replace")
    T.check("Exception in ASGI application" not in text, "uvicorn log: %s" % text[-3000:])


def main():
    tmp = tempfile.mkdtemp(prefix="redirc-pyext-mw-")
    try:
        cases = []
        for i, path in enumerate(case_list()):
            try:
                cases.append(Case(path, tmp, i))
            except RuntimeError as exc:
                T.check(False, "%s: %s" % (path, exc))
        by_name = dict((c.name, c) for c in cases)
        django_setup()
        changed = 0
        for case in cases:
            check_wsgi(case)
            check_asgi(case)
            changed += check_starlette(case)
            check_django(case)
        print("  starlette: the test client changed %d targets before sending them" % changed)
        basic = by_name.get("basic")
        T.check(basic is not None, "basic.redir compiled")
        if basic:
            check_wsgi_basic(basic)
            check_asgi_basic(basic)
            check_fastapi(basic)
            check_django_basic(basic)
        check_wsgi_hosts(tmp)
        check_uvicorn(cases, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
