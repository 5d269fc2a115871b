"""Set up a test of the `redir` extension and the middleware: run under the
Python the extension was built for (REDIR_PYTHON, set by `make check`;
Debian's python3 by default), with the build tree's extension
(BUILD/python/.libs) and the source tree's python/ first on sys.path.
In a --enable-sanitizers build, PYEXT_PRELOAD names the ASan runtime,
which is preloaded (python3 itself is not instrumented; its leaks at exit
are not looked for, every other report aborts).

    import pyext_env            # before `import redir`
    pyext_env.python_path()     # the PYTHONPATH for a child process
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
import common  # noqa: E402


def _reexec_under_redir_python():
    want = os.environ.get("REDIR_PYTHON") or "/usr/bin/python3"
    if not os.path.exists(want):
        want = sys.executable
    if os.environ.get("PYEXT_REEXEC") == want:
        return
    preload = os.environ.get("PYEXT_PRELOAD", "").strip()
    if preload and os.path.isabs(preload):
        os.environ["LD_PRELOAD"] = " ".join(filter(None, [preload, os.environ.get("LD_PRELOAD")]))
        os.environ["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    elif os.path.realpath(sys.executable) == os.path.realpath(want):
        return
    os.environ["PYEXT_REEXEC"] = want
    sys.stdout.flush()
    os.execv(want, [want] + getattr(sys, "orig_argv", [sys.executable] + sys.argv)[1:])


def build_dir():
    return os.path.dirname(os.path.abspath(common.redirc()))


def python_path():
    dirs = [os.path.join(build_dir(), "python", ".libs"), os.path.join(TOP, "python")]
    old = os.environ.get("PYTHONPATH")
    return os.pathsep.join(dirs + ([old] if old else []))


_reexec_under_redir_python()
for _d in reversed(python_path().split(os.pathsep)[:2]):
    sys.path.insert(0, _d)
