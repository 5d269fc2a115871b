"""diff, verify, coverage and compile --report (issue 16).

- diff: each kind of behaviour change is found with a request and its
  answer before and after (changed, added, removed, intercepted, chain,
  loop, a host added to a block); a moved line is no change; exit 0/1/2.
- compile --report: inputs and artifacts with their real SHA-256 and
  sizes, diagnostics by name; byte-identical under SOURCE_DATE_EPOCH.
- coverage: hits by status, last seen, never hit, uncovered 404s; the same
  counts from plain, gzip, standard input and JSON lines.
- verify: real nginx and Apache serving the compiled artifacts answer
  every request as the file says (exit 0); serving a stale artifact, the
  mismatches are found and named with the rule's file:line and owner
  (exit 1); a closed port is exit 2 and says a retry may help.
"""
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from servers import Apache, Nginx, free_port  # noqa: E402

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)


def run(args, **kw):
    return subprocess.run([common.redirc()] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, **kw)


def write(path, text):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


OLD = """set hosts www.example.com
/old-a -> /x
/b -> /c
/blog/* -> /articles/*
/keep -> /kept
host old.example.com {
  /* -> https://www.example.com/*
}
/removed -> /somewhere
/l1 -> /l2
"""

NEW = """set hosts www.example.com
/keep -> /kept
/old-a -> /y
/blog/special -> /promo
/b -> /c
/c -> /d
/blog/* -> /articles/*
host old.example.com, old.example.org {
  /* -> https://www.example.com/*
}
/l1 -> /l2
/l2 -> /l1
"""


def test_diff(tmp):
    old = write(os.path.join(tmp, "old.redir"), OLD)
    new = write(os.path.join(tmp, "new.redir"), NEW)
    r = run(["diff", old, new, "--format", "json"])
    check(r.returncode == 1, "diff of changed files exits 1 (got %d: %s)" % (r.returncode, r.stderr))
    d = json.loads(r.stdout)
    check(d["differs"] is True, "diff json says differs")
    kinds = {}
    for q in d["requests"]:
        url = (q["host"] or "") + q["path"]
        kinds[url] = (q["kind"], q["before"], q["after"])
    def has(url, kind, before, after):
        got = kinds.get(url)
        ok = (got is not None and got[0] == kind
              and (got[1]["status"], got[1]["location"]) == before
              and (got[2]["status"], got[2]["location"]) == after)
        check(ok, "diff: %s is %s %r -> %r (got %r)" % (url, kind, before, after, got))
    has("/old-a", "changed", (301, "/x"), (301, "/y"))
    has("/c", "added", (0, None), (301, "/d"))
    has("/removed", "removed", (301, "/somewhere"), (0, None))
    has("/blog/special", "intercepted", (301, "/articles/special"), (301, "/promo"))
    has("/b", "chain", (301, "/c"), (301, "/c"))
    check(kinds.get("/b", (0, 0, {}))[2].get("then") == [{"status": 301, "location": "/d"}],
          "diff: the new chain of /b shows its second hop")
    has("/l1", "loop", (301, "/l2"), (301, "/l2"))
    check(kinds.get("/l1", (0, 0, {}))[2].get("loop") is True, "diff: the loop of /l1 is marked")
    check(any(u.startswith("old.example.org/") and k[0] == "changed" and k[1]["status"] == 0
              for u, k in kinds.items()), "diff: the host added to the block has a request")
    changed = d["rules"]["changed"]
    check(any(c["scope_changed"] and c["new"]["hosts"] == ["old.example.com", "old.example.org"]
              for c in changed), "diff: the host block change is one changed rule")
    for group in ("added", "removed", "changed"):
        for c in d["rules"][group]:
            if c["new"] and c["new"]["source"] == "/l2" or group == "changed":
                check(c["witness"] is not None, "diff: %s rule %r has a witness" % (group, c))
    check(d["rules"]["moved"] >= 2, "diff: moved lines are counted as unchanged")
    check(any(x["name"] == "loop" and x["side"] == "new" for x in d["diagnostics"]),
          "diff: the loop diagnostic is introduced")
    # text: grouped, with counts
    t = run(["diff", old, new])
    check(t.returncode == 1 and "requests answered differently (" in t.stdout
          and "  intercepted (1):" in t.stdout and "/old-a  301 /x  ->  301 /y" in t.stdout,
          "diff text is grouped with counts:\n" + t.stdout)
    # a moved line with the same meaning is no change: exit 0
    moved = write(os.path.join(tmp, "moved.redir"),
                  "set hosts www.example.com\n/keep -> /kept\n" +
                  OLD.replace("set hosts www.example.com\n", "").replace("/keep -> /kept\n", ""))
    r = run(["diff", old, moved])
    check(r.returncode == 0 and "behaviour is the same" in r.stdout,
          "diff of a reordered file without effect exits 0 (%d):\n%s" % (r.returncode, r.stdout))
    # settings: a query mode and a case policy change show with a request
    q1 = write(os.path.join(tmp, "q1.redir"), "/a -> /b\n")
    q2 = write(os.path.join(tmp, "q2.redir"), "set query drop\n/a -> /b\n")
    q3 = write(os.path.join(tmp, "q3.redir"), "set case insensitive\n/a -> /b\n")
    r = run(["diff", q1, q2])
    check(r.returncode == 1 and "/a?redirc=1  301 /b?redirc=1  ->  301 /b" in r.stdout,
          "diff: `set query drop` shows with a query:\n" + r.stdout)
    r = run(["diff", q1, q3])
    check(r.returncode == 1 and "/A  pass  ->  301 /b" in r.stdout,
          "diff: `set case insensitive` shows with an upper-case request:\n" + r.stdout)
    # errors: a missing file, a syntax error, a usage error
    r = run(["diff", old, os.path.join(tmp, "nope.redir")])
    check(r.returncode == 2, "diff with a missing file exits 2")
    bad = write(os.path.join(tmp, "bad.redir"), "/a -> \n")
    r = run(["diff", old, bad])
    check(r.returncode == 2 and "fix them first" in r.stderr, "diff with a syntax error exits 2")
    r = run(["diff", old])
    check(r.returncode == 2, "diff with one file is a usage error")
    r = run(["diff", old, new, "--bogus"])
    check(r.returncode == 2, "diff with an unknown option is a usage error")


def explain_many(rules, paths, host):
    """{path: (status, location)} from one `redirc explain` run (status 0 = pass)."""
    cmd = ["explain", rules] + list(paths) + (["--host", host] if host else [])
    r = run(cmd)
    out = {}
    for line, path in zip(r.stdout.splitlines(), paths):
        f = line.split("\t")
        out[path] = (0, None) if len(f) == 2 else (int(f[1]), f[2] or None)
    return out


def test_diff_random(tmp, trials=12, seed=16):
    """Random small rule sets and edits: every request diff reports has the
    answers explain gives before and after, and whenever some sample request
    of either file is answered differently, diff exits 1."""
    import random
    rng = random.Random(seed)
    segs = ["a", "b", "c", "blog", "x"]

    def source():
        k = rng.random()
        parts = [rng.choice(segs) for _ in range(rng.randint(1, 3))]
        if k < 0.2:
            parts[-1] = ":p"
        return "/" + "/".join(parts) + ("/*" if k > 0.8 else "")

    def rule():
        s = source()
        if rng.random() < 0.1:
            return s + " gone"
        t = "/" + "/".join(rng.choice(segs + ["new"]) for _ in range(rng.randint(1, 2)))
        if ":p" in s and rng.random() < 0.7:
            t += "/:p"
        if s.endswith("*") and rng.random() < 0.7:
            t += "/*"
        return "%s -> %s%s" % (s, t, rng.choice(["", " 302"]))

    def ruleset():
        lines = ["set hosts www.example.com"] + [rule() for _ in range(rng.randint(2, 8))]
        if rng.random() < 0.4:
            lines += ["host h1.example.com, h2.example.com {"] + \
                     ["  " + rule() for _ in range(rng.randint(1, 3))] + ["}"]
        return lines

    def mutate(lines):
        out = list(lines)
        for _ in range(rng.randint(1, 3)):
            body = [i for i, x in enumerate(out) if x.strip().startswith("/")]
            k = rng.random()
            if k < 0.3:
                out.insert(1, rule())
            elif k < 0.5 and body:
                del out[rng.choice(body)]
            elif k < 0.8 and body:
                i = rng.choice(body)
                out[i] = out[i][:len(out[i]) - len(out[i].lstrip())] + rule()
            elif len(body) >= 2:
                i, j = rng.sample(body, 2)
                out[i], out[j] = out[j], out[i]
        return out

    old_f, new_f = os.path.join(tmp, "r-old.redir"), os.path.join(tmp, "r-new.redir")
    hosts = [None, "h1.example.com", "h2.example.com"]
    for trial in range(trials):
        old = ruleset()
        new = mutate(old)
        write(old_f, "\n".join(old) + "\n")
        write(new_f, "\n".join(new) + "\n")
        r = run(["diff", old_f, new_f, "--format", "json"])
        if r.returncode == 2:
            continue  # an edit that made the file invalid
        d = json.loads(r.stdout)
        paths = sorted({x.split()[0].replace(":p", "redirc-sample").replace("*", fill) or "/"
                        for x in old + new if x.strip().startswith("/")
                        for fill in ("redirc-sample/p", "")})
        differs = False
        for h in hosts:
            before, after = explain_many(old_f, paths, h), explain_many(new_f, paths, h)
            differs |= before != after
            for q in d["requests"]:
                if q["host"] == h and q["path"] in before:
                    check(before[q["path"]] == (q["before"]["status"], q["before"]["location"])
                          and after[q["path"]] == (q["after"]["status"], q["after"]["location"]),
                          "diff random %d: %r agrees with explain" % (trial, q))
        check(not differs or r.returncode == 1,
              "diff random %d: a changed answer is found:\n%s\n---\n%s"
              % (trial, "\n".join(old), "\n".join(new)))


def sha(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def test_report(tmp):
    src = os.path.join(common.TOP, "examples", "site.redir")
    env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600")
    reports = []
    for i in range(2):
        # the same folder both times: the nginx artifact names its helper by
        # its absolute path
        base = os.path.join(tmp, "rep", "site")
        os.makedirs(os.path.dirname(base), exist_ok=True)
        rep = os.path.join(os.path.dirname(base), "site.json")
        r = run(["compile", src, "--target", "nginx", "--target", "table", "-o", "site",
                 "--report", "site.json"], env=env, cwd=os.path.dirname(base))
        check(r.returncode == 0, "compile --report exits 0: " + r.stderr)
        with open(rep, "rb") as fh:
            reports.append(fh.read())
        rd = json.loads(reports[-1])
        arts = rd["artifacts"]
        check(sorted(a["path"] for a in arts) ==
              ["site.http.conf", "site.js", "site.redirdb", "site.server.conf"],
              "report lists every artifact: %r" % [a["path"] for a in arts])
        for a in arts:
            p = os.path.join(os.path.dirname(base), a["path"])
            check(a["sha256"] == sha(p) and a["size"] == os.path.getsize(p),
                  "report digest and size of %s" % a["path"])
        inputs = {x["path"]: x for x in rd["inputs"]}
        check(inputs.get(src, {}).get("sha256") == sha(src), "report digest of the top file")
        check(any(p.endswith("teams/blog.redir") for p in inputs), "report lists the include")
        check(rd["rules"] > 30 and rd["expectations"] > 30, "report counts rules and expectations")
        check(rd["started"] == "2026-01-01T00:00:00Z" and rd["seconds"] == 0,
              "SOURCE_DATE_EPOCH fixes the time fields")
        check(rd["command_line"][1:3] == ["compile", src], "report keeps the command line")
        check(not [f for f in os.listdir(os.path.dirname(base)) if ".tmp-" in f],
              "no temporary report left")
    check(reports[0] == reports[1], "two reports are byte-identical under SOURCE_DATE_EPOCH")
    # a failed compile writes no report
    bad = write(os.path.join(tmp, "loop.redir"), "/a -> /b\n/b -> /a\n")
    rep = os.path.join(tmp, "bad.json")
    r = run(["compile", bad, "--target", "nginx", "-o", os.path.join(tmp, "bad"), "--report", rep])
    check(r.returncode == 1 and not os.path.exists(rep), "no report for a failed compile")
    # diagnostics by name
    warn = write(os.path.join(tmp, "warn.redir"), "/a -> /b\n/b -> /c\n")
    rep = os.path.join(tmp, "warn.json")
    r = run(["compile", warn, "--target", "python", "-o", os.path.join(tmp, "warn"),
             "--report", rep])
    with open(rep) as fh:
        rd = json.load(fh)
    check(rd["diagnostics"]["by_name"] == {"chain": 1} and rd["diagnostics"]["warnings"] == 1,
          "report counts diagnostics by name: %r" % rd["diagnostics"])


COV_RULES = """/old -> /new owner growth
/blog/* -> /articles/*
/gone gone
/never -> /x owner nobody
"""

COV_LOG = [
    '1.2.3.4 - - [06/Dec/2026:10:00:00 +0000] "GET /old HTTP/1.1" 301 0 "-" "ua"',
    '1.2.3.4 - - [06/Dec/2026:11:30:00 +0100] "GET /old?x=1 HTTP/1.1" 301 0 "-" "ua"',
    '1.2.3.4 - - [06/Dec/2026:10:00:01 +0000] "GET /blog/a/b HTTP/1.1" 301 0',
    '1.2.3.4 - - [06/Dec/2026:10:00:02 +0000] "GET /blog/a/b HTTP/1.1" 200 12',
    '1.2.3.4 - - [06/Dec/2026:10:00:03 +0000] "GET /gone HTTP/1.1" 410 0',
    '1.2.3.4 - - [06/Dec/2026:10:00:04 +0000] "GET /missing HTTP/1.1" 404 0',
    '1.2.3.4 - - [06/Dec/2026:10:00:05 +0000] "GET /missing HTTP/1.1" 404 0',
    '1.2.3.4 - - [06/Dec/2026:10:00:06 +0000] "GET /other HTTP/1.1" 404 0',
    'not a log line',
]


def cov_summary(stdout):
    d = json.loads(stdout)
    rules = {r["source"]: (r["hits"], r["other_answers"], r["last_seen"]) for r in d["rules"]}
    top = [(t["path"], t["count"]) for t in d["uncovered_404"]["top"]]
    return d, rules, top


def test_coverage(tmp):
    rules = write(os.path.join(tmp, "cov.redir"), COV_RULES)
    log = write(os.path.join(tmp, "access.log"), "\n".join(COV_LOG) + "\n")
    r = run(["coverage", rules, log, "--format", "json"])
    check(r.returncode == 0, "coverage exits 0: " + r.stderr)
    d, got, top = cov_summary(r.stdout)
    check(got["/old"] == (2, 0, "2026-12-06T10:30:00Z"),
          "coverage: /old hit twice, last seen in UTC: %r" % (got["/old"],))
    check(got["/blog/*"][:2] == (1, 1), "coverage: a 200 for /blog/a/b is not a hit: %r" % (got["/blog/*"],))
    check(got["/gone"][0] == 1 and got["/never"] == (0, 0, None), "coverage: gone hit, never not")
    check(top == [("/missing", 2), ("/other", 1)], "coverage: uncovered 404s with counts: %r" % top)
    check(d["not_understood"] == 1 and d["lines"] == 9, "coverage counts the lines")
    gz = os.path.join(tmp, "access.log.gz")
    with gzip.open(gz, "wb") as fh:
        fh.write(("\n".join(COV_LOG) + "\n").encode())
    r2 = run(["coverage", rules, gz, "-", "--format", "json"], input="\n".join(COV_LOG) + "\n")
    d2, got2, top2 = cov_summary(r2.stdout)
    check(got2["/old"][0] == 4 and top2[0] == ("/missing", 4), "coverage: gzip and stdin add up")
    jl = "\n".join([
        json.dumps({"uri": "/old?a=b", "code": 301, "ts": "2026-12-06T12:00:00Z",
                    "loc": "https://www.example.com/new?a=b"}),
        json.dumps({"uri": "/old", "code": "301", "ts": 1796558400, "loc": "/elsewhere"}),
        json.dumps({"uri": "/nothing", "code": 404}),
    ]) + "\n"
    r3 = run(["coverage", rules, "-", "--log-format", "json", "--field", "path=uri",
              "--field", "status=code", "--field", "time=ts", "--field", "location=loc",
              "--format", "json"], input=jl)
    check(r3.returncode == 0, "coverage json lines exit 0: " + r3.stderr)
    d3, got3, top3 = cov_summary(r3.stdout)
    check(got3["/old"] == (1, 1, "2026-12-06T12:00:00Z"),
          "coverage: a JSON line counts when status and Location agree: %r" % (got3["/old"],))
    check(top3 == [("/nothing", 1)], "coverage: JSON 404s")
    t = run(["coverage", rules, log])
    check("rules never hit (1):" in t.stdout and "/never  owner nobody" in t.stdout,
          "coverage text lists never-hit rules with owners:\n" + t.stdout)
    trunc = os.path.join(tmp, "trunc.gz")
    with open(gz, "rb") as src, open(trunc, "wb") as dst:
        dst.write(src.read()[:60])
    r = run(["coverage", rules, trunc])
    check(r.returncode == 2 and "ends early" in r.stderr, "coverage of a truncated gzip exits 2")
    r = run(["coverage", rules, "-", "--log-format", "json"],
            input=json.dumps({"request_uri": "/x\u001b[2Jy", "status": 404}) + "\n")
    check(r.returncode == 0 and "/x\\x1B[2Jy" in r.stdout and "\x1b" not in r.stdout,
          "coverage prints a control byte of a log as \\xNN: %r" % r.stdout)
    r = run(["coverage", rules, os.path.join(tmp, "nope.log")])
    check(r.returncode == 2, "coverage of a missing log exits 2")
    r = run(["coverage", rules, log, "--log-format", "xml"])
    check(r.returncode == 2, "coverage with an unknown log format is a usage error")


SITE = """set hosts www.example.com
/old-pricing -> /pricing owner growth
/about-us -> /about 308 owner brand
/blog/* -> /articles/* owner content
/docs/:ver/intro -> /docs/:ver/getting-started owner docs
/spring-sale gone owner growth
/space%20here -> /spaced owner brand
host old.example.com {
  /* -> https://www.example.com/* owner infra
}
expect /old-pricing?ref=ad -> 301 /pricing?ref=ad
expect /pricing -> pass
expect http://old.example.com/x -> 301 https://www.example.com/x
"""


def verify(rules, port, extra=()):
    return run(["verify", rules, "--base-url", "http://127.0.0.1:%d" % port,
                "--host", "www.example.com", "-j", "3", "--format", "json"] + list(extra))


def test_verify(tmp):
    site = write(os.path.join(tmp, "site.redir"), SITE)
    stale_src = write(os.path.join(tmp, "stale.redir"),
                      SITE.replace("/old-pricing -> /pricing", "/old-pricing -> /plans")
                          .replace("?ref=ad -> 301 /pricing?ref=ad", "?ref=ad -> 301 /plans?ref=ad")
                          .replace("/spring-sale gone owner growth\n", ""))
    for name, src in (("live", site), ("stale", stale_src)):
        r = run(["compile", src, "--target", "nginx", "--target", "apache", "-o",
                 os.path.join(tmp, name)])
        check(r.returncode == 0, "compile %s: %s" % (name, r.stderr))
    urls = write(os.path.join(tmp, "urls.txt"), "# extra\n/blog/2020/x?y=1\n\n/not-a-rule\n")
    for server in ("nginx", "apache"):
        for name in ("live", "stale"):
            d = os.path.join(tmp, "%s-%s" % (server, name))
            base = os.path.join(tmp, name)
            if server == "nginx":
                srv = Nginx(d, base + ".http.conf", base + ".server.conf", ["www.example.com"],
                            modules=["ngx_http_js_module"])
            else:
                srv = Apache(d, base + ".conf", ["www.example.com"], modules=["lua"])
            with srv:
                r = verify(site, srv.port, ["--urls", urls])
                if server == "nginx" and name == "live":
                    # --rate: 20 requests a second at most, whatever -j says
                    t0 = time.monotonic()
                    rr = verify(site, srv.port, ["--rate", "20", "-j", "8"])
                    took = time.monotonic() - t0
                    n = json.loads(rr.stdout)["requests"]
                    check(rr.returncode == 0 and took >= (n - 1) / 20.0,
                          "verify --rate 20: %d requests took %.2f s" % (n, took))
            label = "verify %s %s" % (server, name)
            try:
                rep = json.loads(r.stdout)
            except ValueError:
                check(False, "%s printed JSON: %r %r" % (label, r.stdout, r.stderr))
                continue
            if name == "live":
                # the server's own access log (nginx: combined, Apache: common)
                cov = run(["coverage", site, srv.access_log, "--host", "www.example.com",
                           "--format", "json"])
                hits = {x["source"]: x["hits"] for x in json.loads(cov.stdout)["rules"]} \
                    if cov.returncode == 0 else {}
                check(hits.get("/old-pricing", 0) >= 2 and hits.get("/spring-sale", 0) >= 1
                      and hits.get("/blog/*", 0) >= 2,
                      "%s: coverage of the access log counts verify's requests: %r %s"
                      % (label, hits, cov.stderr))
                check(r.returncode == 0 and rep["mismatch_count"] == 0 and rep["equal"] == rep["requests"],
                      "%s: every answer equal (exit %d): %s" % (label, r.returncode, r.stdout))
                check(rep["requests"] >= 14, "%s: expect lines, exact sources, pattern samples and "
                      "--urls are all asked (%d)" % (label, rep["requests"]))
            else:
                check(r.returncode == 1, "%s exits 1 (%d): %s" % (label, r.returncode, r.stderr))
                bad = {(p["url"].split(":%d" % srv.port, 1)[-1], p["rule"]["line"], p["rule"]["owner"])
                       for p in rep["problems"] if p["kind"] == "mismatch" and p["rule"]}
                check(("/old-pricing", 2, "growth") in bad and ("/old-pricing?ref=ad", 2, "growth") in bad,
                      "%s: the changed rule is named with line and owner: %r" % (label, bad))
                check(("/spring-sale", 6, "growth") in bad,
                      "%s: the rule missing from the artifact is named: %r" % (label, bad))
                got = [p for p in rep["problems"] if p["url"].endswith("/old-pricing")][0]
                check(got["expected"] == {"status": 301, "location": "/pricing"}
                      and got["got"]["status"] == 301 and got["got"]["location"].endswith("/plans"),
                      "%s: expected and got are reported: %r" % (label, got))
                check(rep["mismatch_count"] == 3, "%s: exactly the stale rules differ: %r"
                      % (label, rep["problems"]))
    # text report of a stale server, and a closed port
    port = free_port()
    r = run(["verify", site, "--base-url", "http://127.0.0.1:%d" % port, "--retries", "1",
             "--timeout", "2"])
    check(r.returncode == 2 and "a retry may help" in r.stderr and "after 2 attempts" in r.stdout,
          "verify against a closed port exits 2 and says a retry may help: %r" % r.stderr)
    r = run(["verify", site])
    check(r.returncode == 2 and "--base-url" in r.stderr, "verify without --base-url is a usage error")
    r = run(["verify", site, "--base-url", "ftp://x"])
    check(r.returncode == 2, "verify with a non-HTTP base URL is a usage error")


class TlsNginx(Nginx):
    """The test nginx listening with TLS and HTTP/2 (the helper's listen
    line gets `ssl http2`; the certificate comes in server_extra)."""

    def write_config(self):
        super().write_config()
        with open(self.conf_path) as fh:
            conf = fh.read()
        plain = "listen 127.0.0.1:%d;" % self.port
        if plain not in conf:
            raise RuntimeError("unexpected nginx config: no %r" % plain)
        with open(self.conf_path, "w") as fh:
            fh.write(conf.replace(plain, "listen 127.0.0.1:%d ssl http2;" % self.port))


def test_verify_tls(tmp):
    key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=www.example.com", "-addext",
                    "subjectAltName=DNS:www.example.com,DNS:old.example.com"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    site = write(os.path.join(tmp, "site.redir"), SITE)
    base = os.path.join(tmp, "live")
    r = run(["compile", site, "--target", "nginx", "-o", base])
    check(r.returncode == 0, "compile for TLS: " + r.stderr)
    extra = "        ssl_certificate %s;\n        ssl_certificate_key %s;" % (cert, key)
    with TlsNginx(os.path.join(tmp, "ng"), base + ".http.conf", base + ".server.conf",
                  ["www.example.com"], modules=["ngx_http_js_module"], server_extra=extra) as ng:
        url = "https://127.0.0.1:%d" % ng.port
        r = run(["verify", site, "--base-url", url, "--host", "www.example.com"])
        check(r.returncode == 2 and "a retry will not help" in r.stderr and "--cacert" in r.stderr
              and "after 1 attempts" in r.stdout,
              "verify checks TLS certificates by default, and does not retry them: %r %r"
              % (r.stdout[-300:], r.stderr))
        r = run(["verify", site, "--base-url", url, "--host", "www.example.com", "--cacert", cert])
        check(r.returncode == 0 and "(HTTP/2 " in r.stdout and " 0 mismatches" in r.stdout,
              "verify over TLS with --cacert uses HTTP/2 and finds every answer equal: %r %r"
              % (r.stdout[-300:], r.stderr))
        r = run(["verify", site, "--base-url", url, "--host", "www.example.com", "--insecure"])
        check(r.returncode == 0, "verify --insecure accepts the self-signed certificate: %r"
              % r.stderr)


def main():
    with tempfile.TemporaryDirectory(prefix="redirc-review-") as tmp:
        for name, fn in (("diff", test_diff), ("diff-random", test_diff_random),
                         ("report", test_report),
                         ("coverage", test_coverage), ("verify", test_verify),
                         ("verify-tls", test_verify_tls)):
            d = os.path.join(tmp, name)
            os.mkdir(d)
            fn(d)
    if FAILURES:
        sys.exit("%d failures" % len(FAILURES))
    print("review: ok")


if __name__ == "__main__":
    main()
