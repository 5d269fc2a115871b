#!/usr/bin/env python3
"""Benchmark of the `redir` extension and the middleware (issue 18).

    bench/pyext-bench.py --build BUILD [--rules 1000000] [--rounds 5]
                         [--work /tmp/redirc-pyext-bench] [--skip-module]

BUILD is a configured and built tree (its redirc, .libs/libredir.so and
python/.libs/redir*.so).  Run it with the Python the extension was built
for (Debian's /usr/bin/python3; it re-executes itself under it).

Untimed setup: bench/gen-table-rules.py writes N exact rules and N/1000
patterns (cached in --work), compiled to a table and to a Python module
(byte-compiled, so its import is the cached one); bench/table-bench.c and a
bare C extension (one METH_FASTCALL function that returns None) are built.

Then, round after round (the figures are medians over the rounds, min-max
in brackets; the ratios are taken within each round):

- open: redir.Table(path) in this process, median of 201 opens; and a fresh
  `python3 -c 'import redir; redir.Table(p)'` against `python3 -c pass` and
  `python3 -c 'import rules_module'` (the generated module, cached import);
- lookups: one untimed loop over every hit key in a fixed random order,
  `lookup(key)` for Table.lookup, the bare C call and the generated module
  (on the first 100,000 keys: it is slow), against table-bench's mean of
  an untimed rd_table_lookup loop over the same keys (its own random
  order) in the same round;
- middleware: a passing request (a miss) through the WSGI and ASGI
  middleware over the table, against the bare application.

Once: RSS, PSS and anonymous memory (/proc/PID/smaps_rollup) of worker
processes that opened the table and answered 200,000 hits, three at once,
against a baseline worker that loaded the same keys and ran the same loop
without rules; and of one that imported the generated module.  What an
extra worker adds is its anonymous memory beyond the baseline: the table's
pages are file pages in the page cache, one copy for every worker.
"""
import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

BARE_C = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *noop(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
	(void)self; (void)args; (void)nargs; (void)kw;
	Py_RETURN_NONE;
}
static PyMethodDef methods[] = {
	{"noop", (PyCFunction)(void (*)(void))noop, METH_FASTCALL | METH_KEYWORDS, NULL},
	{NULL, NULL, 0, NULL},
};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "pyext_bare", NULL, -1, methods};
PyMODINIT_FUNC PyInit_pyext_bare(void) { return PyModule_Create(&def); }
"""

WORKER = r"""
import random, sys, time
kind, path, keys_file, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
import redir
if kind == "table":
    lookup = redir.Table(path).lookup
elif kind == "module":
    import importlib
    sys.path.insert(0, path)
    lookup = importlib.import_module("pyext_bench_rules").lookup
else:  # the baseline: the same keys and loop, no rules
    lookup = lambda k: k
with open(keys_file) as fh:
    keys = fh.read().split()
random.Random(5).shuffle(keys)
hits = sum(1 for k in keys[:n] if lookup(k) is not None)
assert hits == min(n, len(keys)), hits
del keys
fields = {}
with open("/proc/self/smaps_rollup") as fh:
    for line in fh:
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
            fields[parts[0][:-1]] = int(parts[1]) * 1024
print(fields["Rss"], fields["Pss"], fields["Anonymous"], flush=True)
sys.stdin.read()  # stay alive until the parent has read every worker
"""


def reexec(build):
    want = os.environ.get("REDIR_PYTHON") or "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(want) and os.path.exists(want) \
            and not os.environ.get("PYEXT_BENCH_REEXEC"):
        os.environ["PYEXT_BENCH_REEXEC"] = "1"
        os.execv(want, [want] + sys.argv)


def fmt_ns(ns):
    if ns >= 1e9:
        return "%.2f s" % (ns / 1e9)
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f µs" % (ns / 1e3)
    return "%.0f ns" % ns


def fmt_bytes(b):
    if abs(b) >= 1 << 30:
        return "%.2f GB" % (b / (1 << 30))
    if abs(b) >= 1 << 20:
        return "%.1f MB" % (b / (1 << 20))
    return "%.0f kB" % (b / 1024)


def cell(values, fmt):
    if len(values) == 1:
        return fmt(values[0])
    return "%s (%s–%s)" % (fmt(statistics.median(values)), fmt(min(values)), fmt(max(values)))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def in_fresh_process(code, env):
    """ns that `code` takes in a fresh interpreter (timed inside it, so the
    interpreter's own start-up is left out)."""
    prog = "import time\nt0 = time.perf_counter_ns()\n%s\nprint(time.perf_counter_ns() - t0)" % code
    out = subprocess.run([sys.executable, "-c", prog], check=True, env=env, stdout=subprocess.PIPE)
    return float(out.stdout.split()[-1])


def setup(args):
    work = args.work
    os.makedirs(work, exist_ok=True)
    redirc = os.path.join(args.build, "redirc")
    rules = os.path.join(work, "rules-%d.redir" % args.rules)
    keys = os.path.join(work, "keys-%d.txt" % args.rules)
    table = os.path.join(work, "rules-%d.redirdb" % args.rules)
    moddir = os.path.join(work, "module-%d" % args.rules)
    module = os.path.join(moddir, "pyext_bench_rules.py")
    gen = os.path.join(HERE, "gen-table-rules.py")
    stamp = os.path.join(work, "stamp-%d" % args.rules)
    fresh = os.path.exists(stamp) and os.path.getmtime(stamp) >= max(
        os.path.getmtime(gen), os.path.getmtime(redirc))
    if not fresh:
        print("setup: generating and compiling %d rules (cached in %s)" % (args.rules, work),
              flush=True)
        run([sys.executable, gen, rules, keys, str(args.rules), str(max(1, args.rules // 1000))])
        run([redirc, "compile", rules, "--target", "table", "-o", table[:-len(".redirdb")]])
        os.makedirs(moddir, exist_ok=True)
        if not args.skip_module:
            run([redirc, "compile", rules, "--target", "python", "-o", module[:-3]])
            run([sys.executable, "-m", "py_compile", module])
        with open(stamp, "w") as fh:
            fh.write("ok\n")
    libs = os.path.join(args.build, ".libs")
    tbench = os.path.join(work, "table-bench")
    run([os.environ.get("CC", "cc"), "-O2", "-std=c11", "-D_GNU_SOURCE",
         "-I" + os.path.join(TOP, "runtime"), "-o", tbench, os.path.join(HERE, "table-bench.c"),
         os.path.join(libs, "libredir.so"), "-Wl,-rpath," + libs, "-lcmph", "-pthread"])
    bare_c = os.path.join(work, "pyext_bare.c")
    with open(bare_c, "w") as fh:
        fh.write(BARE_C)
    bare_so = os.path.join(work, "pyext_bare" + sysconfig.get_config_var("EXT_SUFFIX"))
    run([os.environ.get("CC", "cc"), "-O2", "-shared", "-fPIC",
         "-I" + sysconfig.get_path("include"), "-o", bare_so, bare_c])
    return redirc, rules, keys, table, moddir, tbench


def table_bench(tbench, table, keys):
    out = run([tbench, table, keys, "1", "-m"]).stdout.decode()
    res = {}
    for line in out.splitlines():
        if line.startswith("RESULT "):
            _, name, value = line.split()
            res[name] = float(value)
    return res


def loop_ns(fn, keys, *extra):
    """Mean ns per call of an untimed loop fn(key, *extra) over keys."""
    t0 = time.perf_counter_ns()
    for k in keys:
        fn(k, *extra)
    return (time.perf_counter_ns() - t0) / len(keys)


def wsgi_overhead(table, misses):
    from redir_middleware.wsgi import RedirectMiddleware

    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"app"]

    def sr(status, headers, exc_info=None):
        pass

    mw = RedirectMiddleware(app, table)
    envs = [{"REQUEST_METHOD": "GET", "REQUEST_URI": m, "HTTP_HOST": "www.example.com",
             "PATH_INFO": m, "QUERY_STRING": ""} for m in misses]
    t0 = time.perf_counter_ns()
    for e in envs:
        app(e, sr)
    bare = time.perf_counter_ns() - t0
    t0 = time.perf_counter_ns()
    for e in envs:
        mw(e, sr)
    return (time.perf_counter_ns() - t0 - bare) / len(envs)


def asgi_overhead(table, misses):
    from redir_middleware.asgi import RedirectMiddleware

    async def app(scope, receive, send):
        return None

    mw = RedirectMiddleware(app, table)
    scopes = [{"type": "http", "raw_path": m.encode(), "query_string": b"",
               "headers": [(b"host", b"www.example.com")]} for m in misses]

    async def go(target):
        t0 = time.perf_counter_ns()
        for s in scopes:
            await target(s, None, None)
        return time.perf_counter_ns() - t0

    bare = asyncio.run(go(app))
    with_mw = asyncio.run(go(mw))
    return (with_mw - bare) / len(scopes)


def workers(kind, path, keys, n, count, env):
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, kind, path, keys, str(n)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
             for _ in range(count)]
    out = []
    try:
        for p in procs:
            out.append(tuple(int(x) for x in p.stdout.readline().split()))
    finally:
        for p in procs:
            p.stdin.close()
            p.wait()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--rules", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "redirc-pyext-bench"))
    ap.add_argument("--skip-module", action="store_true",
                    help="leave out the generated module (its compile and import take seconds)")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    reexec(args.build)
    pypath = os.pathsep.join([os.path.join(args.build, "python", ".libs"),
                              os.path.join(TOP, "python")])
    sys.path[:0] = pypath.split(os.pathsep)
    env = dict(os.environ, PYTHONPATH=pypath)
    import redir

    redirc, rules, keys_file, table_path, moddir, tbench = setup(args)
    sys.path.insert(0, args.work)
    import pyext_bare
    with open(keys_file) as fh:
        keys = fh.read().split()
    random.Random(7).shuffle(keys)
    misses = [k + "-zz" for k in keys[:100000]]
    mod = None
    if not args.skip_module:
        env_mod = dict(env, PYTHONPATH=moddir + os.pathsep + pypath)
    t = redir.Table(table_path)
    ntab = len(t)
    print("pyext-bench: %d rules (%d hit keys), %d rounds, python %s, %s" % (
        ntab, len(keys), args.rounds, sys.version.split()[0], redir.__file__), flush=True)

    fig = {k: [] for k in ("open", "proc_table", "proc_module", "py_lookup",
                           "bare", "c_mean", "c_tput", "mod_lookup", "ratio_c", "wsgi", "asgi")}
    for r in range(args.rounds):
        opens = []
        for _ in range(201):
            t0 = time.perf_counter_ns()
            x = redir.Table(table_path)
            opens.append(time.perf_counter_ns() - t0)
            x.close()
        fig["open"].append(statistics.median(opens))
        fig["proc_table"].append(in_fresh_process(
            "import redir; redir.Table(%r)" % table_path, env))
        if not args.skip_module:
            fig["proc_module"].append(in_fresh_process("import pyext_bench_rules", env_mod))
        tb = table_bench(tbench, table_path, keys_file)
        fig["c_mean"].append(tb["lookup_hit_mean_ns"])
        fig["c_tput"].append(tb.get("tput_1_lps", 1e9 / tb["lookup_hit_mean_ns"]))
        lookup = t.lookup
        lookup(keys[0])
        py_ns = loop_ns(lookup, keys)
        bare_ns = loop_ns(pyext_bare.noop, keys, None, "")
        fig["py_lookup"].append(py_ns)
        fig["bare"].append(bare_ns)
        fig["ratio_c"].append(py_ns / (tb["lookup_hit_mean_ns"] + bare_ns))
        if not args.skip_module:
            if mod is None:
                sys.path.insert(0, moddir)
                import pyext_bench_rules as mod
            fig["mod_lookup"].append(loop_ns(mod.lookup, keys[:100000]))
        fig["wsgi"].append(wsgi_overhead(t, misses))
        fig["asgi"].append(asgi_overhead(t, misses))
        print("round %d/%d done" % (r + 1, args.rounds), flush=True)

    base = workers("none", table_path, keys_file, 200000, 1, env)[0]
    tabw = workers("table", table_path, keys_file, 200000, 3, env)
    modw = [] if args.skip_module else workers("module", moddir, keys_file, 20000, 1, env)

    med = statistics.median
    lines = []
    add = lines.append
    add("| measure | figure |")
    add("|---|---|")
    add("| `redir.Table(path)` in a running process (median of 201 opens) | %s |"
        % cell(fig["open"], fmt_ns))
    add("| fresh process: `import redir; redir.Table(path)` (timed inside it) | %s |"
        % cell(fig["proc_table"], fmt_ns))
    if fig["proc_module"]:
        add("| fresh process: `import` the generated module, cached bytecode (timed inside it) | %s |"
            % cell(fig["proc_module"], fmt_ns))
        add("|   ratio module import / (import redir + open) | %s |" % cell(
            [m / tt for m, tt in zip(fig["proc_module"], fig["proc_table"])],
            lambda v: "{:,.0f}×".format(v)))
    add("| `Table.lookup` exact hit, untimed loop, per call | %s |" % cell(fig["py_lookup"], fmt_ns))
    add("|   hits per second, one core | %s |" % cell(
        [1e9 / v for v in fig["py_lookup"]], lambda v: "%.2fM/s" % (v / 1e6)))
    add("| C `rd_table_lookup` hit, untimed loop (table-bench mean) | %s |" % cell(fig["c_mean"], fmt_ns))
    add("| bare C-extension call `noop(key, None, \"\")`, same loop | %s |" % cell(fig["bare"], fmt_ns))
    add("|   ratio Table.lookup / (C lookup + bare call) | %s |" % cell(
        fig["ratio_c"], lambda v: "%.2f×" % v))
    if fig["mod_lookup"]:
        add("| generated module `lookup()` hit (first 100,000 keys) | %s |"
            % cell(fig["mod_lookup"], fmt_ns))
    add("| WSGI middleware over the table, passing request (a miss), added per request | %s |"
        % cell(fig["wsgi"], fmt_ns))
    add("| ASGI middleware over the table, passing request (a miss), added per request | %s |"
        % cell(fig["asgi"], fmt_ns))
    add("| baseline worker (imported redir, loaded the keys, ran the loop without rules): "
        "RSS, anonymous | %s, %s |" % (fmt_bytes(base[0]), fmt_bytes(base[2])))
    add("| worker with the table open after 200,000 hits (3 at once): RSS, PSS | %s, %s |" % (
        cell([w[0] for w in tabw], fmt_bytes), cell([w[1] for w in tabw], fmt_bytes)))
    add("|   memory added per worker: anonymous beyond the baseline (the mapping's pages "
        "are the page cache, shared) | %s |" % cell([w[2] - base[2] for w in tabw], fmt_bytes))
    if modw:
        add("| worker that imported the generated module (20,000 hits): RSS, anonymous beyond "
            "the baseline | %s, %s |" % (fmt_bytes(modw[0][0]), fmt_bytes(modw[0][2] - base[2])))
    print()
    print("\n".join(lines))
    print()
    goals = [
        ("open a %s-rule table from Python < 1 ms" % format(ntab, ","),
         med(fig["open"]) < 1e6, fmt_ns(med(fig["open"]))),
        ("each extra worker adds < 5 MB", max(w[2] - base[2] for w in tabw) < 5 << 20,
         fmt_bytes(max(w[2] - base[2] for w in tabw))),
        (">= 1M Table.lookup exact hits per second on one core", 1e9 / med(fig["py_lookup"]) >= 1e6,
         "%.2fM/s" % (1e9 / med(fig["py_lookup"]) / 1e6)),
        ("Table.lookup within 2x of C rd_table_lookup + a bare C-extension call",
         med(fig["ratio_c"]) <= 2.0, "%.2f×" % med(fig["ratio_c"])),
    ]
    print("goals (issue 18):")
    for what, ok, value in goals:
        print("  [%s] %s: %s" % ("met   " if ok else "MISSED", what, value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
