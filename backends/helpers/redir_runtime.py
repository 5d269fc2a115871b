
# ---- the matcher: spec section 3, the same steps as runtime/match.c ------

import re as _re

__all__ = ["lookup", "lookup_rule", "rule_info", "normalize_path",
           "RedirectMiddleware", "middleware", "RULES", "EXACT", "PATTERNS",
           "SCOPES", "FILES"]

# RULES[i] fields
R_STATUS, R_QUERY_DROP, R_TARGET_QUERY, R_TARGET, R_FRAGMENT, R_SCOPE, \
    R_FILE, R_LINE, R_SOURCE, R_TARGET_TEXT, R_OWNER, R_NOTE, R_GROUP = range(13)

REASONS = {301: "Moved Permanently", 302: "Found", 303: "See Other",
           307: "Temporary Redirect", 308: "Permanent Redirect", 410: "Gone"}


def _column(blob, escaped):
    """A packed column: records each ended by b"\n"; in an escaped column
    \x00\x02 stands for \n and \x00\x01 for \x00."""
    items = blob.split(b"\n")
    items.pop()
    if escaped:
        items = [x.replace(b"\x00\x02", b"\n").replace(b"\x00\x01", b"\x00")
                 if b"\x00" in x else x for x in items]
    return items


def _optional(x):
    return x[1:] if x else None


def _target_tokens(t):
    """Target text with \x01 + chr(64 + k) for capture k in the path,
    \x02 + chr(64 + k) in the query and \x04 for the subdomain a wildcard
    host name matched: the token tuple of RULES."""
    if b"\x01" not in t and b"\x02" not in t and b"\x04" not in t:
        return (t,) if t else ()
    toks = []
    lit = bytearray()
    i = 0
    while i < len(t):
        c = t[i]
        if c == 4:
            if lit:
                toks.append(bytes(lit))
                lit = bytearray()
            toks.append(None)
            i += 1
        elif c == 1 or c == 2:
            if lit:
                toks.append(bytes(lit))
                lit = bytearray()
            k = t[i + 1] - 64
            toks.append(k if c == 1 else -1 - k)
            i += 2
        else:
            lit.append(c)
            i += 1
    if lit:
        toks.append(bytes(lit))
    return tuple(toks)


class _RuleTable(object):
    """RULES: the rules in file order, each a tuple (see R_*), made from the
    packed columns when asked for."""

    def __init__(self):
        self._info = _column(_INFO, False)
        self._targets = _column(_TARGETS, False)
        self._sources = _column(_SOURCES, _SOURCES_ESCAPED)
        self._target_texts = _column(_TARGET_TEXTS, _TARGET_TEXTS_ESCAPED)
        self._owners = _column(_OWNERS, _OWNERS_ESCAPED)
        self._notes = _column(_NOTES, _NOTES_ESCAPED)
        self._groups = _column(_GROUPS, _GROUPS_ESCAPED)

    def sizes(self):
        return set(map(len, (self._info, self._targets, self._sources, self._target_texts,
                             self._owners, self._notes, self._groups)))

    def __len__(self):
        return len(self._info)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def scope(self, i):
        return int(self._info[i].rsplit(b",", 3)[1])

    def answer(self, i):
        """The fields a response needs, R_STATUS to R_FRAGMENT."""
        status, drop, tq, _ = self._info[i].split(b",", 3)
        target, _, fragment = self._targets[i].partition(b"\x03")
        return (int(status), drop == b"1", tq == b"1", _target_tokens(target),
                fragment or None)

    def __getitem__(self, i):
        if i < 0:
            i += len(self)
        status, drop, tq, scope, file, line = map(int, self._info[i].split(b","))
        target, _, fragment = self._targets[i].partition(b"\x03")
        return (status, drop, tq, _target_tokens(target), fragment or None, scope, file,
                line, _optional(self._sources[i]), _optional(self._target_texts[i]),
                _optional(self._owners[i]), _optional(self._notes[i]),
                _optional(self._groups[i]))


RULES = _RuleTable()
EXACT = dict(zip(_column(_KEYS, _KEYS_ESCAPED), map(int, _column(_KEY_RULES, False))))
EXACT.update(_EXACT_MORE)


def _as_bytes(value, what):
    """bytes as they are; str as UTF-8 (surrogateescape, so a str made from
    bytes with surrogateescape round-trips)."""
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    raise TypeError("%s must be str or bytes, not %s" % (what, type(value).__name__))


_HEXDIGITS = b"0123456789abcdefABCDEF"
_HEXPAIR = dict((bytes((_a, _b)), bytes((int(bytes((_a, _b)), 16),)))
                for _a in _HEXDIGITS for _b in _HEXDIGITS)


def _decode(raw):
    """Step 1: decode every %XX; None for an invalid escape."""
    if b"%" not in raw:
        return raw
    parts = raw.split(b"%")
    out = [parts[0]]
    for part in parts[1:]:
        byte = _HEXPAIR.get(part[:2])
        if byte is None:
            return None
        out.append(byte)
        out.append(part[2:])
    return b"".join(out)


def normalize_path(raw):
    """Spec section 3 steps 1-4 on a raw path (bytes or str): the normalized
    path as bytes (case kept), or None when it holds an invalid %-escape."""
    raw = _as_bytes(raw, "path")
    if not raw.startswith(b"/"):
        raw = b"/" + raw
    p = _decode(raw)
    if p is None:
        return None
    if b"//" in p or b"/." in p:
        # steps 2 and 3: merge slashes, remove dot segments (RFC 3986 5.2.4)
        segs = p.split(b"/")
        last = len(segs) - 1
        out = []
        trailing = False
        for i in range(1, last + 1):
            seg = segs[i]
            if seg == b"" or seg == b".":
                trailing = i == last
            elif seg == b"..":
                if out:
                    out.pop()
                trailing = i == last
            else:
                out.append(seg)
                trailing = False
        p = b"/" + b"/".join(out) + (b"/" if trailing and out else b"")
    if not TRAILING_SLASH_STRICT and len(p) > 1 and p.endswith(b"/"):
        p = p[:-1]
    return p


def _host_canon(host):
    """Lower case (ASCII), port and a final '.' removed."""
    h = _as_bytes(host, "host")
    if h.startswith(b"["):
        i = h.find(b"]")
        if i >= 0:
            h = h[:i + 1]
    else:
        i = h.find(b":")
        if i >= 0:
            h = h[:i]
    if h.endswith(b"."):
        h = h[:-1]
    return h.lower()


def _escape(m):
    return b"%%%02X" % m.group()[0]


_CAPTURE_PATH = _re.compile(rb"[^A-Za-z0-9\-._~!$&'()*+,;=:@/]")
_CAPTURE_QUERY = _re.compile(rb"[^A-Za-z0-9\-._~!$'()*,;:@/]")
_RAW_QUERY = _re.compile(rb"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]")


def _match(toks, path, folded):
    """rd_pattern_match: a dict {capture: (start, end)} or None.  Literals
    are compared with `folded` (the path, ASCII-lower-cased under `set case
    insensitive`, whose literals are folded too); captures index `path`."""
    caps = {}
    pos = 0
    n = len(path)
    nt = len(toks)
    for t in range(nt):
        tok = toks[t]
        if tok.__class__ is bytes:
            if folded.startswith(tok, pos):
                pos += len(tok)
                continue
            # a source ending in slash-splat also matches without that slash
            # (not under `set splat-parent no-match`)
            if (t + 1 < nt and toks[t + 1].__class__ is int and toks[t + 1] < 0
                    and tok.endswith(b"/") and n - pos == len(tok) - 1
                    and not SPLAT_NO_PARENT and folded.startswith(tok[:-1], pos)):
                caps[-1 - toks[t + 1]] = (n, n)
                return caps if t + 2 == nt else None
            return None
        if tok >= 0:                    # placeholder: one non-empty segment
            end = path.find(b"/", pos)
            if end < 0:
                end = n
            if end == pos:
                return None
            caps[tok] = (pos, end)
            pos = end
        else:                           # splat: the rest of the path
            caps[-1 - tok] = (pos, n)
            pos = n
    return caps if pos == n else None


def _location(rule, path, caps, query, sub=b""):
    """The Location of `rule`; sub: the subdomain a wildcard host name
    matched (its bytes need no encoding)."""
    out = []
    for tok in rule[R_TARGET]:
        if tok.__class__ is bytes:
            out.append(tok)
        elif tok is None:
            out.append(sub)
        elif tok >= 0:
            a, b = caps[tok]
            out.append(_CAPTURE_PATH.sub(_escape, path[a:b]))
        else:
            a, b = caps[-1 - tok]
            out.append(_CAPTURE_QUERY.sub(_escape, path[a:b]))
    if query and not rule[R_QUERY_DROP]:
        out.append(b"&" if rule[R_TARGET_QUERY] else b"?")
        out.append(_RAW_QUERY.sub(_escape, query))
    if rule[R_FRAGMENT] is not None:
        out.append(rule[R_FRAGMENT])
    return b"".join(out).decode("ascii")


# A wildcard host name "*.NAME" admits a canonical Host "SUB.NAME" whose
# SUB is one or more dot-separated labels of a-z 0-9 '-' '_' (never NAME
# itself), as rd_wildcard_admits.  _SCOPE_NAMES[s]: the other names of
# scope s; _SCOPE_WILDS[s]: the ".NAME" of its wildcard names, longest first.
_SUBDOMAIN = _re.compile(rb"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\Z")
_SCOPE_NAMES = tuple(frozenset(h for h in s if not h.startswith(b"*")) for s in SCOPES)
_SCOPE_WILDS = tuple(tuple(sorted((h[1:] for h in s if h.startswith(b"*")), key=len, reverse=True))
                     for s in SCOPES)


def _wild_admits(suffix, host):
    """Does the wildcard name "*" + suffix admit `host`?"""
    return (len(host) > len(suffix) and host.endswith(suffix)
            and _SUBDOMAIN.match(host, 0, len(host) - len(suffix)) is not None)


def _admits(scope, host):
    if scope < 0:
        return True
    if host is None:
        return False
    if host in _SCOPE_NAMES[scope]:
        return True
    for suffix in _SCOPE_WILDS[scope]:
        if _wild_admits(suffix, host):
            return True
    return False


def _subdomain(scope, host):
    """rd_host_subdomain: the part of `host` before the longest wildcard
    name of the scope that admits it (b"" when none does)."""
    if scope < 0 or host is None:
        return b""
    for suffix in _SCOPE_WILDS[scope]:
        if _wild_admits(suffix, host):
            return host[:len(host) - len(suffix)]
    return b""


def lookup_rule(path, host=None, query=""):
    """Like lookup(), with the index of the rule that answered first:
    (index, status, location) or None."""
    norm = normalize_path(path)
    if norm is None:
        return None
    return _search(norm, host, query)


_HOST_CACHE = {}


def _host_of(host):
    """_host_canon(host), remembered for up to 256 bytes hosts at a time."""
    if host.__class__ is not bytes:
        return _host_canon(host)
    h = _HOST_CACHE.get(host)
    if h is None:
        h = _host_canon(host)
        if len(_HOST_CACHE) >= 256:
            _HOST_CACHE.clear()
        _HOST_CACHE[host] = h
    return h


def _search(norm, host, query, cands=-1):
    """Steps 5-7 on a normalized path: (index, status, location) or None.
    cands: EXACT's entry for it when the caller has it already."""
    h = None if host is None or not SCOPES else _host_of(host)
    folded = norm.lower() if CASE_INSENSITIVE else norm
    best = None
    if cands == -1:
        cands = EXACT.get(folded)
    if cands is not None:
        if cands.__class__ is int:
            if not SCOPES or _admits(RULES.scope(cands), h):
                best = cands
        else:
            for i in cands:
                if _admits(RULES.scope(i), h):
                    best = i
                    break
    caps = None
    if _PATTERNS and (best is None or best > _FIRST_PATTERN_RULE):
        for pos in _pattern_candidates(folded, h):
            i, toks = _PATTERNS[pos]
            if best is not None and i > best:
                break
            caps = _match(toks, norm, folded)
            if caps is not None:
                best = i
                break
    if best is None:
        return None
    if caps is None and best not in _SUBDOMAIN_RULES:   # the exact rule answers
        return (best,) + _with_query(best, _ANSWERS[best] or _exact_fill(best)[1], query)
    rule = _PATTERN_RULES.get(best)
    if rule is None:
        rule = _PATTERN_RULES[best] = RULES.answer(best)   # one per pattern rule
    if rule[R_STATUS] == 410:
        return (best, 410, None)
    sub = _subdomain(RULES.scope(best), h) if best in _SUBDOMAIN_RULES else b""
    return (best, rule[R_STATUS], _location(rule, norm, caps, _as_bytes(query, "query"), sub))


_PATTERN_RULES = {}


# ---- the pattern index -----------------------------------------------------
#
# A request tries only the pattern rules that can match it, in file order: a
# trie over the leading segments of the patterns, one for the rules outside
# host blocks, one per host and one per wildcard host name (keyed by its
# ".NAME"), the same as the table target's index (doc/redirdb-format.md).
# A pattern's key is its leading segments that are a whole literal segment
# (bytes) or a whole placeholder (None), at most _INDEX_DEPTH; a path the
# pattern matches has those segments there.  A node is [children by
# segment, placeholder child or None, pattern positions].

_INDEX_DEPTH = 8


def _pattern_key(toks):
    key = []
    nt = len(toks)
    for t in range(nt):
        tok = toks[t]
        if len(key) == _INDEX_DEPTH:
            break
        if tok.__class__ is bytes:
            if not tok.startswith(b"/"):
                break
            pieces = tok[1:].split(b"/")
            for piece in pieces[:-1]:
                if not piece or len(key) == _INDEX_DEPTH:
                    return key
                key.append(piece)
            if pieces[-1]:
                # the piece after the last slash: whole only at the end
                if t + 1 == nt and len(key) < _INDEX_DEPTH:
                    key.append(pieces[-1])
                break
        elif tok >= 0:
            nxt = toks[t + 1] if t + 1 < nt else None
            if nxt is not None and not (nxt.__class__ is bytes and nxt.startswith(b"/")):
                break
            key.append(None)
        else:
            break                       # a splat: the rest of the path
    return key


def _build_index():
    root = [{}, None, []]
    host_roots = {}
    wild_roots = {}
    depth = 0
    for pos, (i, toks) in enumerate(_PATTERNS):
        key = _pattern_key(toks)
        depth = max(depth, len(key))
        scope = RULES.scope(i) if SCOPES else -1
        if scope < 0:
            starts = [root]
        else:
            starts = [wild_roots.setdefault(h[1:], [{}, None, []]) if h.startswith(b"*")
                      else host_roots.setdefault(h, [{}, None, []]) for h in sorted(SCOPES[scope])]
        for node in starts:
            for seg in key:
                if seg is None:
                    if node[1] is None:
                        node[1] = [{}, None, []]
                    node = node[1]
                else:
                    child = node[0].get(seg)
                    if child is None:
                        child = node[0][seg] = [{}, None, []]
                    node = child
            node[2].append(pos)
    return root, host_roots, wild_roots, depth


_ROOTS_CACHE = {}


def _host_roots(h):
    """The index roots for canonical host h: the root, h's own and those of
    the wildcard names that admit h."""
    roots = _ROOTS_CACHE.get(h)
    if roots is not None:
        return roots
    roots = [_INDEX_ROOT]
    r = _INDEX_HOSTS.get(h)
    if r is not None:
        roots.append(r)
    if _INDEX_WILDS:
        dot = h.find(b".", 1)
        while dot > 0:
            r = _INDEX_WILDS.get(h[dot:])
            if r is not None and _SUBDOMAIN.match(h, 0, dot) is not None:
                roots.append(r)
            dot = h.find(b".", dot + 1)
    roots = tuple(roots)
    if len(_ROOTS_CACHE) >= 256:
        _ROOTS_CACHE.clear()
    _ROOTS_CACHE[h] = roots
    return roots


def _pattern_candidates(folded, h):
    """Positions in _PATTERNS of the patterns that can match, ascending."""
    root = _INDEX_ROOT
    active = (root,)
    if h is not None and (_INDEX_HOSTS or _INDEX_WILDS):
        active = _host_roots(h)
    if len(active) == 1 and _ROOT_LITERAL_ONLY:
        # the common pass: the first segment leads nowhere
        e = folded.find(b"/", 1)
        if (folded[1:e] if e > 0 else folded[1:]) not in root[0]:
            return ()
    out = []
    for node in active:
        if node[2]:
            out.append(node[2])
    depth = _INDEX_DEPTH_USED
    if depth:
        for seg in folded.split(b"/", depth + 1)[1:depth + 1]:
            nxt = []
            for node in active:
                c = node[0].get(seg)
                if c is not None:
                    nxt.append(c)
                    if c[2]:
                        out.append(c[2])
                if seg:
                    c = node[1]
                    if c is not None:
                        nxt.append(c)
                        if c[2]:
                            out.append(c[2])
            if not nxt:
                break
            active = nxt
    if len(out) == 1:
        return out[0]
    if not out:
        return ()
    return sorted(set().union(*out))


# The answers of exact rules, made once per rule on its first hit (the
# fast path of lookup() and the exact winners of _search()).  _ANSWERS[i]
# (a list, None until then) = (status, location without a query) for a rule
# outside host blocks; _SCOPED_ANSWERS[i] = (scope, that answer) for a rule
# in one; _QUERY_PARTS[i] = (target, "?" or "&", fragment), or None when a
# query changes nothing (410, query drop).
_SCOPED_ANSWERS = {}
_QUERY_PARTS = {}
_EMPTY_QUERY_TYPES = (str, bytes, bytearray, memoryview, type(None))


def _exact_fill(i):
    """(scope, answer) of exact rule i; fills the tables above."""
    scoped = _SCOPED_ANSWERS.get(i)
    if scoped is not None:
        return scoped
    rule = RULES.answer(i)
    if rule[R_STATUS] == 410:
        ans = (410, None)
        parts = None
    else:
        ans = (rule[R_STATUS], _location(rule, b"", None, b""))
        parts = None
        if not rule[R_QUERY_DROP]:
            parts = (b"".join(rule[R_TARGET]), b"&" if rule[R_TARGET_QUERY] else b"?",
                     rule[R_FRAGMENT] or b"")
    _QUERY_PARTS[i] = parts
    scope = RULES.scope(i)
    if scope < 0:
        _ANSWERS[i] = ans
        return (scope, ans)
    scoped = _SCOPED_ANSWERS[i] = (scope, ans)
    return scoped


def _exact_answer(i, host):
    """The answer of exact rule i for `host`, or None when its host scope
    does not admit `host`."""
    if i in _SUBDOMAIN_RULES:
        return None                           # the Location depends on the host
    scope, ans = _exact_fill(i)
    if scope < 0 or (host is not None and _admits(scope, _host_of(host))):
        return ans
    return None


def _with_query(i, ans, query):
    """The answer `ans` of exact rule i for a request with `query`."""
    if (not query and query.__class__ in _EMPTY_QUERY_TYPES) or ans[1] is None:
        return ans                            # no query, or 410 (the query is not read)
    q = _as_bytes(query, "query")             # a TypeError like the general path
    parts = _QUERY_PARTS[i]
    if parts is None:                         # query drop
        return ans
    return (ans[0], b"".join((parts[0], parts[1], _RAW_QUERY.sub(_escape, q),
                              parts[2])).decode("ascii"))


def lookup(path, host=None, query=""):
    """The first response a request gets (spec section 3).

    path:  the raw, still percent-encoded path, without the query.
    host:  the Host header (case, port and a final '.' do not matter), or
           None: then only rules outside host blocks apply.
    query: the raw query string without '?' ("" or None: none).
    str arguments are encoded as UTF-8 (with surrogateescape); bytes are
    taken as they are.  Returns (status, location), with location None for
    410, or None when the request passes (no rule, or an invalid %-escape).
    location is an ASCII str."""
    # fast path: a path already in normal form (steps 1-4 would return it
    # unchanged) is its own normalized form; then one dict lookup
    cls = path.__class__
    if cls is str:
        if (path[:1] == "/" and "%" not in path and "//" not in path and "/." not in path
                and (path[-1] != "/" or TRAILING_SLASH_STRICT or len(path) == 1)):
            norm = path.encode("utf-8", "surrogateescape")
        else:
            norm = normalize_path(path)
    elif (cls is bytes and path[:1] == b"/" and b"%" not in path and b"//" not in path
          and b"/." not in path and (path[-1] != 47 or TRAILING_SLASH_STRICT or len(path) == 1)):
        norm = path
    else:
        norm = normalize_path(path)
    if norm is None:
        return None
    i = EXACT.get(norm.lower() if CASE_INSENSITIVE else norm)
    ans = None
    if i.__class__ is int and i < _FIRST_PATTERN_RULE:   # not a tuple (host scopes)
        ans = _ANSWERS[i] or _exact_answer(i, host)
    if ans is not None:
        if not query and query.__class__ in _EMPTY_QUERY_TYPES:
            return ans
        return _with_query(i, ans, query)
    if i is None and not _PATTERNS:
        return None
    ans = _search(norm, host, query, i)
    return None if ans is None else ans[1:]


def _text(b):
    return None if b is None else b.decode("utf-8", "surrogateescape")


def rule_info(i):
    """The rule at index i (file order) and its metadata, as a dict."""
    r = RULES[i]
    return {
        "index": i,
        "status": r[R_STATUS],
        "source": _text(r[R_SOURCE]),
        "target": _text(r[R_TARGET_TEXT]),
        "owner": _text(r[R_OWNER]),
        "note": _text(r[R_NOTE]),
        "group": _text(r[R_GROUP]),
        "file": _text(FILES[r[R_FILE]]),
        "line": r[R_LINE],
        "hosts": None if r[R_SCOPE] < 0 else sorted(_text(h) for h in SCOPES[r[R_SCOPE]]),
        "query": "drop" if r[R_QUERY_DROP] else "keep",
    }


# ---- WSGI ----------------------------------------------------------------

_PATH_REQUOTE = _re.compile(rb"[^A-Za-z0-9\-._~!$&'()*+,;=:@/]")


def _native(value):
    """A PEP 3333 native string back to the request's bytes."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape")


def _request_of(environ):
    """(raw path, raw query, host) as bytes, or None when there is no path
    or the request cannot be answered.  host is the authority of an
    absolute-form request target (`GET http://host/path`), which wins over
    the Host header as in nginx, Apache and `redirc explain`; None
    otherwise."""
    uri = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if uri:
        try:
            raw = uri.encode("latin-1")
        except UnicodeEncodeError:
            raw = uri.encode("utf-8", "surrogateescape")
        if b"#" in raw:
            raw = raw.split(b"#", 1)[0]
        host = None
        low = raw[:8].lower() if not raw.startswith(b"/") else b""
        if low.startswith(b"http://") or low.startswith(b"https://"):
            rest = raw[raw.index(b"//") + 2:]
            cut = min([j for j in (rest.find(b"/"), rest.find(b"?")) if j >= 0] or [len(rest)])
            host = rest[:cut]
            if b"@" in host or not host:
                return None         # userinfo or no host: servers answer 400
            raw = rest[cut:]
            if not raw.startswith(b"/"):
                raw = b"/" + raw
        path, _, query = raw.partition(b"?")
        if not path.startswith(b"/"):
            return None             # "OPTIONS *" and the like
        return path, query, host
    # No raw URI: re-quote the decoded PATH_INFO.  Caveat: the server has
    # decoded it already, so an invalid %-escape in the request (which gets
    # no redirect) cannot be told apart any more.
    path = _native(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
    if not path.startswith(b"/"):
        path = b"/" + path
    return _PATH_REQUOTE.sub(_escape, path), _native(environ.get("QUERY_STRING", "")), None


class RedirectMiddleware(object):
    """WSGI middleware: answers the redirects and 410s of these rules, and
    hands every other request to the wrapped application."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        req = _request_of(environ)
        ans = None
        if req is not None:
            host = req[2]
            if host is None:
                host = environ.get("HTTP_HOST")
                if host is not None:
                    try:
                        host = host.encode("latin-1")
                    except UnicodeEncodeError:
                        host = host.encode("utf-8", "surrogateescape")
            ans = lookup(req[0], host, req[1])
        if ans is None:
            return self.app(environ, start_response)
        status, location = ans
        reason = REASONS.get(status, "Redirect")
        body = ("%d %s\n" % (status, reason)).encode("ascii")
        headers = [("Content-Type", "text/plain; charset=utf-8"),
                   ("Content-Length", str(len(body)))]
        if location is not None:
            headers.append(("Location", location))
        start_response("%d %s" % (status, reason), headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [body]


def middleware(app):
    """Wrap a WSGI application: RedirectMiddleware(app)."""
    return RedirectMiddleware(app)


# ---- import-time self-check -----------------------------------------------

def _self_check():
    sizes = (len(RULES), len(EXACT), len(PATTERNS), len(SCOPES), len(FILES))
    if sizes != _COUNTS or RULES.sizes() != {_COUNTS[0]}:
        raise ImportError("%s: table sizes %r do not match the counts %r written "
                          "by redirc: the file is truncated or was edited; "
                          "recompile it" % (__name__, sizes, _COUNTS))
    for i, toks in PATTERNS:
        if not (0 <= i < len(RULES)) or not toks or toks[0].__class__ is not bytes:
            raise ImportError("%s: pattern table is corrupt; recompile it" % __name__)


_self_check()
_PATTERNS = tuple(PATTERNS)
_INDEX_ROOT, _INDEX_HOSTS, _INDEX_WILDS, _INDEX_DEPTH_USED = _build_index()
# no pattern outside host blocks starts with a placeholder or has no key
_ROOT_LITERAL_ONLY = _INDEX_ROOT[1] is None and not _INDEX_ROOT[2]
_FIRST_PATTERN_RULE = _PATTERNS[0][0] if _PATTERNS else len(RULES)
_ANSWERS = [None] * len(RULES)
