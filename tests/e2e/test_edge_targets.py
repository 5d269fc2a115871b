"""Golden and model tests of the `cloudflare` and `netlify` targets.

1. Golden outputs: tests/e2e/edge/cloudflare.redir compiles to
   cloudflare.csv and cloudflare.json, tests/e2e/edge/netlify.redir to
   netlify._redirects, byte for byte (UPDATE_GOLDEN=1 rewrites them).
2. Refusals: every tests/e2e/edge/refuse/cf-*.redir (cloudflare) and
   nf-*.redir (netlify) fails with exit 1, `backend` errors only, the
   stderr of its .err golden file, and no artifact written.
3. Round trip through a model of each platform's documented semantics
   (the reader below, not redirc's code): the compiled list / _redirects
   answers every `# request:` line and every `expect` URL of the edge files,
   and of every case in tests/e2e/cases and tests/e2e/edge/roundtrip that
   the target accepts, as `redirc explain` does.  Netlify model: rules top to bottom, first match;
   the path matched after the spec's normalization with the trailing slash
   dropped (Netlify normalizes before its rules run); `:name` one segment,
   a final `*` the rest (`/x/*` matches `/x` too, with an empty splat); captures percent-encoded as spec section 3 says;
   the request's query passed on.  Cloudflare model: the request URL after
   Cloudflare's URL normalization (type "Cloudflare": `\\` to `/`, merged
   slashes, RFC 3986: unreserved escapes decoded, other bytes encoded,
   hex upper-cased, dot segments removed); a source matches when scheme-less
   host/path is equal, or with subpath matching a prefix ending in `/`
   (the most specific wins); entries for the request's exact host first,
   then include_subdomains entries of the longest domain that admits it; the suffix appended with preserve_path_suffix;
   the query appended with preserve_query_string.  Requests whose path
   escapes a reserved character (Cloudflare keeps `%2F`, `%3F`... encoded
   where the spec decodes them: documented) are not compared.
4. The plan quota warning: more than 10,000 entries warn, with exit 0.

Closing line: `edge-targets: N passed, M failed`.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

T = common.Tally("edge-targets")
EDGE = os.path.join(HERE, "edge")
TOP = os.path.dirname(os.path.dirname(HERE))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

PATHSAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/")
QUERYSAFE = PATHSAFE | {ord("?")}
HEX = set(b"0123456789abcdefABCDEF")
UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
RESERVED = set(b":/?#[]@!$&'()*+,;=")


def enc(data, safe):
    return "".join(chr(b) if b in safe else "%%%02X" % b for b in data)


def enc_query(q):
    out, i = [], 0
    while i < len(q):
        b = q[i]
        if b in QUERYSAFE:
            out.append(chr(b))
        elif b == 0x25 and i + 2 < len(q) + 0 and q[i + 1] in HEX and q[i + 2] in HEX:
            out.append("%")
        else:
            out.append("%%%02X" % b)
        i += 1
    return "".join(out)


def pct_decode(raw):
    """bytes, or None for an invalid escape."""
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i] == 0x25:
            h = raw[i + 1:i + 3]
            if len(h) < 2 or h[0] not in HEX or h[1] not in HEX:
                return None
            out.append(int(h, 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def remove_dots(path):
    segs = path[1:].split(b"/")
    out = []
    for j, s in enumerate(segs):
        if s in (b".", b".."):
            if s == b".." and out:
                out.pop()
            if j == len(segs) - 1:
                out.append(b"")
        else:
            out.append(s)
    return b"/" + b"/".join(out)


def spec_norm(raw):
    """Spec section 3 steps 1-3 (no trailing-slash step)."""
    d = pct_decode(raw)
    if d is None or not d.startswith(b"/"):
        return None
    return remove_dots(re.sub(rb"/+", b"/", d))


def split_url(url, host):
    m = re.match(r"^https?://([^/?#]*)(.*)$", url)
    if m:
        host, url = m.group(1), m.group(2) or "/"
    host = (host or "").lower().split(":")[0].rstrip(".")
    path, _, query = url.partition("?")
    return host, path.encode("utf-8"), query.encode("utf-8")


# ---- Netlify model --------------------------------------------------------

def netlify_parse(text):
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        src, dst, status = line.split()
        host = None
        m = re.match(r"^https?://([^/]+)(/.*)$", src)
        if m:
            host, src = m.group(1), m.group(2)
        rules.append((host, src, dst, int(status.rstrip("!"))))
    return rules


def netlify_match(src, path):
    """captures dict or None; path is decoded bytes without trailing '/'."""
    s = src.rstrip("/") if src != "/" else src
    splat = s.endswith("/*")
    if splat:
        s = s[:-2]
    pat_segs = [x for x in s.split("/")][1:] if s not in ("", "/") else []
    segs = path.split(b"/")[1:] if path != b"/" else []
    caps = {}
    if splat:
        # Netlify's `/x/*` matches `/x` too (the splat is then empty)
        if len(segs) < len(pat_segs):
            return None
    elif len(segs) != len(pat_segs):
        return None
    for p, g in zip(pat_segs, segs):
        if p.startswith(":"):
            if not g:
                return None
            caps[p[1:]] = g
        elif pct_decode(p.encode()) != g:
            return None
    if splat:
        caps["splat"] = b"/".join(segs[len(pat_segs):])
    return caps


def netlify_answer(rules, host, raw_path, raw_query):
    p = spec_norm(raw_path)
    if p is None:
        return None
    if len(p) > 1 and p.endswith(b"/"):
        p = p[:-1]
    for rhost, src, dst, status in rules:
        if rhost is not None and rhost != host:
            continue
        caps = netlify_match(src, p)
        if caps is None:
            continue
        loc = re.sub(r":([A-Za-z_][A-Za-z0-9_]*)",
                     lambda m: enc(caps[m.group(1)], PATHSAFE) if m.group(1) in caps else m.group(0),
                     dst)
        if raw_query:
            loc += "?" + enc_query(raw_query)
        return (status, loc)
    return None


# ---- Cloudflare model -----------------------------------------------------

def cf_norm(raw):
    """Cloudflare URL normalization (type Cloudflare) of a raw path: str, or
    None when the request escapes a reserved byte (not compared)."""
    raw = raw.replace(b"\\", b"/")
    raw = re.sub(rb"/+", b"/", raw)
    out, i = bytearray(), 0
    while i < len(raw):
        b = raw[i]
        if b == 0x25:
            h = raw[i + 1:i + 3]
            if len(h) < 2 or h[0] not in HEX or h[1] not in HEX:
                return None
            v = int(h, 16)
            if v in RESERVED or v == 0x5C:
                return None  # kept encoded by Cloudflare, decoded by the spec
            if v in UNRESERVED:
                out.append(v)
            else:
                out += b"%%%02X" % v
            i += 3
        elif b in UNRESERVED or b in RESERVED:
            out.append(b)
            i += 1
        else:
            out += b"%%%02X" % b
            i += 1
    return remove_dots(bytes(out)).decode("ascii")


def cf_pick(items, url):
    exact = [r for r in items if not r["subpath_matching"] and r["source_url"] == url]
    if exact:
        return exact[0]
    subs = [r for r in items if r["subpath_matching"] and url.startswith(r["source_url"])]
    return max(subs, key=lambda r: len(r["source_url"])) if subs else None


def cf_answer(items, host, raw_path, raw_query):
    """Entries with the request's exact host first; then, with
    include_subdomains, the longest source domain that is the host or a
    domain above it (how-it-works, "Determining the URL redirect")."""
    n = cf_norm(raw_path)
    if n is None:
        return "skip"
    if spec_norm(raw_path) is None:
        return None
    url = host + n
    best = cf_pick([r for r in items if not r["include_subdomains"]], url)
    if best is None:
        domains = sorted({r["source_url"].split("/", 1)[0] for r in items if r["include_subdomains"]},
                         key=len, reverse=True)
        for d in domains:
            if host == d or host.endswith("." + d):
                url = d + n
                best = cf_pick([r for r in items if r["include_subdomains"]
                                and r["source_url"].split("/", 1)[0] == d], url)
                if best is not None:
                    break
    if best is None:
        return None
    loc = best["target_url"]
    if best["subpath_matching"] and best["preserve_path_suffix"]:
        loc += url[len(best["source_url"]):]
    if best["preserve_query_string"] and raw_query:
        loc += "?" + enc_query(raw_query)
    return (best["status_code"], loc)


# ---- helpers ----------------------------------------------------------------

def compile_to(case, target, base):
    cmd = [common.redirc(), "compile", case, "--target", target, "-o", base]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=TOP)


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


def golden(got, path, label):
    if UPDATE:
        with open(path, "wb") as fh:
            fh.write(got)
    want = read(path) if os.path.exists(path) else None
    T.check(got == want, "%s: differs from %s%s" % (
        label, os.path.relpath(path, TOP),
        "" if want is None else "\n--- got\n%s" % got.decode(errors="replace")[:3000]))


def expect_urls(case):
    out = []
    with open(case, encoding="utf-8") as fh:
        for line in fh:
            m = re.match(r"^\s*expect\s+(\S+)\s+->", line)
            if m:
                out.append((m.group(1), None))
    return out


def default_host(case):
    text = open(case, encoding="utf-8").read()
    m = re.search(r"^\s*set\s+hosts\s+(\S+)", text, re.M)
    if m:
        return m.group(1).lower()
    m = re.search(r'^\s*host\s+"?([^",{\s]+)', text, re.M)
    return m.group(1).lower() if m else "localhost"


def explain(case, url, host):
    cmd = [common.redirc(), "explain", case, url]
    if host and not re.match(r"^https?://", url):
        cmd += ["--host", host]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=TOP)
    f = res.stdout.decode("latin-1").rstrip("\n").split("\t")
    if len(f) == 2 and f[1] == "pass":
        return None
    return (int(f[1]), f[2] if int(f[1]) != 410 else None)


def same(truth, got, host):
    if truth is None or got is None:
        return truth is None and got is None
    want, loc = truth[1], got[1]
    if want.startswith("/"):
        loc = re.sub(r"^https?://[^/]*", "", loc)
    return truth[0] == got[0] and common.norm_location(want) == common.norm_location(loc)


def round_trip(label, case, target, base):
    res = compile_to(case, target, base)
    err = res.stderr.decode(errors="replace")
    if res.returncode != 0:
        # only a refusal by the target may stop it
        errors = [ln for ln in err.splitlines() if ": error: " in ln]
        T.check(res.returncode == 1 and errors and all(ln.endswith("[backend]") for ln in errors),
                "%s: compile failed with something else than backend errors: %s" % (label, err[-1500:]))
        return 0
    if target == "netlify":
        model = netlify_parse(read(base + "._redirects").decode())
        answer = netlify_answer
    else:
        model = [it["redirect"] for it in json.loads(read(base + ".json"))]
        answer = cf_answer
    host = default_host(case)
    reqs = [(u, h or host) for u, h in common.requests_of(case)] + \
           [(u, host) for u, _ in expect_urls(case)]
    compared = 0
    for url, h in reqs:
        rhost, path, query = split_url(url, h)
        got = answer(model, rhost, path, query)
        if got == "skip":
            continue
        truth = explain(case, url, h)
        compared += 1
        T.check(same(truth, got, rhost), "%s %s host=%s: the %s model says %r, explain %r"
                % (label, url[:100], h, target, got, truth))
    if target == "netlify":
        compared += import_round_trip(label, case, base, reqs)
    return compared


def import_round_trip(label, case, base, reqs):
    """`redirc import --from netlify` of the output: every rule imports (a
    host-scoped rule is written for http:// and https:// on adjacent lines,
    which the importer reads back as one host block), the imported file's
    own expect lines hold, and it answers every request as the case does."""
    imported = base + ".imported.redir"
    res = subprocess.run([common.redirc(), "import", "--from", "netlify", "--keep-going",
                          base + "._redirects", "-o", imported],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=TOP)
    err = res.stderr.decode(errors="replace")
    errors = [ln for ln in err.splitlines() if ": error: " in ln]
    T.check(res.returncode == 0 and not errors,
            "%s: import --from netlify of the output: exit %d %s" % (label, res.returncode, err[-800:]))
    if not os.path.exists(imported):
        return 0
    res = subprocess.run([common.redirc(), "test", "-q", imported], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=TOP)
    T.check(res.returncode == 0, "%s: redirc test of the imported file: %s"
            % (label, res.stderr.decode(errors="replace")[-800:]))
    compared = 0
    for url, h in reqs:
        truth, got = explain(case, url, h), explain(imported, url, h)
        compared += 1
        T.check(same(truth, got, h), "%s %s host=%s: imported back, explain says %r, the case %r"
                % (label, url[:100], h, got, truth))
    return compared


def main():
    tmp = tempfile.mkdtemp(prefix="redirc-edge-")
    try:
        # 1. golden outputs
        for target, case, suffixes in (("cloudflare", "cloudflare.redir", (".csv", ".json")),
                                       ("netlify", "netlify.redir", ("._redirects",))):
            base = os.path.join(tmp, target)
            res = compile_to(os.path.join("tests", "e2e", "edge", case), target, base)
            T.check(res.returncode == 0, "%s: compile failed: %s" % (case, res.stderr.decode()))
            if res.returncode == 0:
                for sfx in suffixes:
                    golden(read(base + sfx), os.path.join(EDGE, target + sfx), "%s%s" % (case, sfx))
        # 2. refusals
        for name in sorted(os.listdir(os.path.join(EDGE, "refuse"))):
            if not name.endswith(".redir"):
                continue
            target = "netlify" if name.startswith("nf-") else "cloudflare"
            base = os.path.join(tmp, "refused-" + name)
            res = compile_to(os.path.join("tests", "e2e", "edge", "refuse", name), target, base)
            err = res.stderr
            errors = [ln for ln in err.decode(errors="replace").splitlines() if ": error: " in ln]
            written = [f for f in os.listdir(tmp) if f.startswith("refused-" + name + ".")]
            T.check(res.returncode == 1 and errors and all(ln.endswith("[backend]") for ln in errors)
                    and not written,
                    "%s: expected backend errors and no artifact, got exit %d, %r, %r"
                    % (name, res.returncode, errors, written))
            golden(err, os.path.join(EDGE, "refuse", name[:-len(".redir")] + ".err"), name)
        # 3. round trips through the platform models
        n = 0
        for target, case in (("netlify", os.path.join(EDGE, "netlify.redir")),
                             ("cloudflare", os.path.join(EDGE, "cloudflare.redir"))):
            n += round_trip("%s/%s" % (target, os.path.basename(case)), case, target,
                            os.path.join(tmp, "rt-" + target))
        extra = os.path.join(EDGE, "roundtrip")
        for case in common.case_files() + sorted(os.path.join(extra, f) for f in os.listdir(extra)
                                                 if f.endswith(".redir")):
            for target in ("netlify", "cloudflare"):
                n += round_trip("%s/%s" % (target, os.path.basename(case)), case, target,
                                os.path.join(tmp, "rt-%s-%s" % (target, os.path.basename(case))))
        T.check(n > 60, "round trips compared only %d requests" % n)
        # 4. the quota warning
        case = os.path.join(tmp, "big.redir")
        with open(case, "w") as fh:
            fh.write("set hosts www.example.com\nset trailing-slash strict\n")
            for i in range(10001):
                fh.write("/p/%d -> /q/%d\n" % (i, i))
        res = compile_to(case, "cloudflare", os.path.join(tmp, "big"))
        err = res.stderr.decode(errors="replace")
        T.check(res.returncode == 0 and "warning:" in err and "10001 entries" in err and
                "[backend]" in err and os.path.exists(os.path.join(tmp, "big.csv")),
                "quota: no warning for 10,001 entries (exit %d): %s" % (res.returncode, err[:500]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
