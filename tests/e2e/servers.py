#!/usr/bin/env python3
"""Start real nginx / Apache httpd servers on 127.0.0.1 for end-to-end tests.

Standard library only.  Nothing here touches the system services, the
default sites or /etc: every server runs from a main config written into a
caller-supplied temporary directory, listens on a free high port on
127.0.0.1, and is stopped by its pid.

    from servers import Nginx, Apache, raw_request

    with Nginx(tmpdir, http_conf, server_conf, ["www.example.com"],
               modules=["ngx_http_js_module"]) as ng:
        status, location = raw_request(ng.port, b"/old?x=1", "www.example.com")

    with Apache(tmpdir, vhost_conf, ["www.example.com"], modules=["lua"]) as ap:
        status, location = raw_request(ap.port, b"/old", "www.example.com")

    with Haproxy(tmpdir, "site.frontend.cfg", extra_files=["site.global.cfg"]) as hp:
        status, location = raw_request(hp.port, b"/old", "www.example.com")
        hp.cli("show map\n")          # runtime API on the admin socket

CLI (manual use):

    python3 tests/e2e/servers.py nginx HTTPCONF SERVERCONF [--host H]... [--module M]... [--seconds N]
    python3 tests/e2e/servers.py apache VHOSTCONF [--host H]... [--module M]... [--seconds N]

prints the port and waits for Enter/EOF (or --seconds), then stops the server.
"""

import argparse
import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
APACHE_BIN = "/usr/sbin/apache2"
HAPROXY_BIN = shutil.which("haproxy") or "/usr/sbin/haproxy"
NGINX_MODULE_DIR = "/usr/lib/nginx/modules"
APACHE_MODULE_DIR = "/usr/lib/apache2/modules"

# A request that gets no redirect is answered by this location (nginx) or by
# the DocumentRoot (Apache: 404 for a missing file, 200 for "/").
PASS_BODY = "pass\n"

REDIRECT_STATUSES = (301, 302, 303, 307, 308)


def config_warnings(output):
    """The lines of a config test's output (`nginx -t`, `apache2 -t`,
    `haproxy -c`) that warn or fail: a clean artifact has none."""
    return [ln for ln in output.splitlines()
            if "[warn]" in ln or "[emerg]" in ln or "AH0" in ln
            or "[WARNING]" in ln or "[ALERT]" in ln]


class ServerError(RuntimeError):
    """The server failed its config test or did not come up."""


def free_port():
    """A currently free TCP port on 127.0.0.1 (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0); look at /proc
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid):
    """Direct children of pid (from /proc), recursively."""
    out = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            continue
        for k in kids:
            out.append(k)
            out.extend(_children(k))
    return out


def _quote_conf(s):
    """Double-quote a string for nginx / Apache config files."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _read(path):
    try:
        with open(path, "r", encoding="latin-1") as f:
            return f.read()
    except OSError:
        return ""


class _Server:
    """Common start/stop logic.  Subclasses write the config and the argv."""

    name = "server"

    def __init__(self, tmpdir, hosts=None, modules=(), start_timeout=60.0,
                 port=None):
        self.dir = os.path.abspath(tmpdir)
        self.hosts = list(hosts or ["localhost"])
        self.modules = list(modules)
        self.start_timeout = start_timeout
        self.port = port
        self.proc = None
        self.pid = None
        self.conf_path = None
        self.error_log = os.path.join(self.dir, self.name + "-error.log")
        self.access_log = os.path.join(self.dir, self.name + "-access.log")
        self._all_pids = []

    # -- to override -------------------------------------------------
    def write_config(self):
        raise NotImplementedError

    def test_argv(self):
        raise NotImplementedError

    def run_argv(self):
        raise NotImplementedError

    def env(self):
        return dict(os.environ)

    # -- lifecycle ---------------------------------------------------
    def check_config(self):
        """Run the server's config test; raise ServerError with the full output."""
        r = subprocess.run(self.test_argv(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=self.env(),
                           timeout=600)
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        self.test_output = out
        if r.returncode != 0:
            raise ServerError("%s config test failed (exit %d):\n%s"
                              % (self.name, r.returncode, out))
        return out

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        last_err = None
        for _attempt in range(3):
            if self.port is None or last_err is not None:
                self.port = free_port()
            self.write_config()
            self.check_config()
            log_fd = open(os.path.join(self.dir, self.name + "-stdio.log"), "ab")
            self.proc = subprocess.Popen(self.run_argv(), stdin=subprocess.DEVNULL,
                                         stdout=log_fd, stderr=log_fd,
                                         env=self.env(), start_new_session=True)
            log_fd.close()
            self.pid = self.proc.pid
            deadline = time.monotonic() + self.start_timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if _port_answers(self.port):
                    self._all_pids = [self.pid] + _children(self.pid)
                    return self
                time.sleep(0.05)
            last_err = ("%s did not answer on 127.0.0.1:%d (exit %r)\n--- error log:\n%s\n--- stdio:\n%s"
                        % (self.name, self.port, self.proc.poll(), _read(self.error_log),
                           _read(os.path.join(self.dir, self.name + "-stdio.log"))))
            self.stop()
            if "Address already in use" not in last_err:
                break
        raise ServerError(last_err)

    def stop(self):
        if self.proc is None:
            return
        pids = set(self._all_pids) | {self.pid} | set(_children(self.pid))
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # workers / children must be gone too; kill stragglers by pid only
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_pid_alive(p) for p in pids):
            time.sleep(0.05)
        for p in pids:
            if _pid_alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.05)
        left = [p for p in pids if _pid_alive(p)]
        self.proc = None
        if left:
            raise ServerError("%s processes still alive after stop: %r" % (self.name, left))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def log_tail(self, n=50):
        return "\n".join(_read(self.error_log).splitlines()[-n:])


class Nginx(_Server):
    """nginx with the given http{}-context and server{}-context include files.

    modules: names of dynamic modules to load, e.g. "ngx_http_js_module"
             (a path ending in .so is used as is).
    http_extra / server_extra: config text added to http{} / server{}.
    pass_location: the location block that answers requests getting no redirect.
    access_log: False writes no access log (benchmarks).
    """

    name = "nginx"

    def __init__(self, tmpdir, http_conf=None, server_conf=None, hosts=None,
                 modules=(), http_extra="", server_extra="",
                 pass_location='location / { return 200 "pass\\n"; }', access_log=True, **kw):
        super().__init__(tmpdir, hosts, modules, **kw)
        self.log_requests = access_log
        self.http_conf = os.path.abspath(http_conf) if http_conf else None
        self.server_conf = os.path.abspath(server_conf) if server_conf else None
        self.http_extra = http_extra
        self.server_extra = server_extra
        self.pass_location = pass_location
        self.conf_path = os.path.join(self.dir, "nginx.conf")

    def write_config(self):
        d = self.dir
        tmp = os.path.join(d, "nginx-tmp")
        os.makedirs(tmp, exist_ok=True)
        lines = []
        for m in self.modules:
            p = m if m.endswith(".so") else os.path.join(NGINX_MODULE_DIR, m + ".so")
            lines.append("load_module %s;" % _quote_conf(p))
        lines += [
            "daemon off;",
            "master_process on;",
            "worker_processes 1;",
            "user root root;",
            "pid %s;" % _quote_conf(os.path.join(d, "nginx.pid")),
            "error_log %s notice;" % _quote_conf(self.error_log),
            "events { worker_connections 256; }",
            "http {",
            "    access_log %s;" % (_quote_conf(self.access_log) if self.log_requests else "off"),
            "    default_type text/plain;",
        ]
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            lines.append("    %s_temp_path %s;" % (kind, _quote_conf(os.path.join(tmp, kind))))
        if self.http_conf:
            lines.append("    include %s;" % _quote_conf(self.http_conf))
        if self.http_extra:
            lines.append(self.http_extra)
        lines += [
            "    server {",
            "        listen 127.0.0.1:%d;" % self.port,
            "        server_name %s;" % " ".join(self.hosts),
        ]
        if self.server_conf:
            lines.append("        include %s;" % _quote_conf(self.server_conf))
        if self.server_extra:
            lines.append(self.server_extra)
        if self.pass_location:
            lines.append("        " + self.pass_location)
        lines += ["    }", "}", ""]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines))

    def _base_argv(self):
        return [NGINX_BIN, "-p", self.dir + "/", "-c", self.conf_path, "-e", self.error_log]

    def test_argv(self):
        return self._base_argv() + ["-t", "-q"]

    def run_argv(self):
        return self._base_argv()


def _apache_user():
    for u, g in (("www-data", "www-data"), ("nobody", "nogroup")):
        try:
            pwd.getpwnam(u)
            grp.getgrnam(g)
            return u, g
        except KeyError:
            continue
    return "nobody", "nogroup"


def _make_traversable(d):
    """chmod o+rx the temp dir and o+x its parents below the system temp dir
    (mkdtemp creates 0700 dirs; Apache children run as www-data)."""
    os.chmod(d, os.stat(d).st_mode | 0o755)
    top = os.path.realpath(tempfile.gettempdir())
    p = os.path.dirname(os.path.realpath(d))
    while p.startswith(top + "/") and os.stat(p).st_uid == os.getuid():
        os.chmod(p, os.stat(p).st_mode | 0o711)
        p = os.path.dirname(p)


class Apache(_Server):
    """Apache httpd (prefork) with one <VirtualHost> that includes vhost_conf.

    modules: extra module names, e.g. ["lua"] -> LoadModule lua_module
             /usr/lib/apache2/modules/mod_lua.so.  authz_core, rewrite, headers
             and dir are always loaded.
    main_extra / vhost_extra: config text for the main server / the vhost.
    access_log: False writes no access log (benchmarks).
    The temp dir is made world-readable because the children run as www-data
    and read map files and scripts at request time.
    """

    name = "apache"
    BASE_MODULES = ("mpm_prefork", "authz_core", "rewrite", "headers", "dir")

    def __init__(self, tmpdir, vhost_conf=None, hosts=None, modules=(),
                 main_extra="", vhost_extra="", log_level="warn", access_log=True, **kw):
        super().__init__(tmpdir, hosts, modules, **kw)
        self.log_requests = access_log
        self.vhost_conf = os.path.abspath(vhost_conf) if vhost_conf else None
        self.main_extra = main_extra
        self.vhost_extra = vhost_extra
        self.log_level = log_level
        self.conf_path = os.path.join(self.dir, "apache2.conf")

    def env(self):
        e = dict(os.environ)
        run = os.path.join(self.dir, "apache-run")
        e.update({
            "APACHE_RUN_DIR": run,
            "APACHE_PID_FILE": os.path.join(self.dir, "apache.pid"),
            "APACHE_LOCK_DIR": run,
            "APACHE_LOG_DIR": self.dir,
            "APACHE_RUN_USER": self.user,
            "APACHE_RUN_GROUP": self.group,
            "LANG": "C",
        })
        return e

    def write_config(self):
        d = self.dir
        self.user, self.group = _apache_user()
        run = os.path.join(d, "apache-run")
        docroot = os.path.join(d, "htdocs")
        os.makedirs(run, exist_ok=True)
        os.makedirs(docroot, exist_ok=True)
        with open(os.path.join(docroot, "index.html"), "w") as f:
            f.write(PASS_BODY)
        # children (www-data) must reach the map files / scripts in the temp dir
        _make_traversable(d)
        mods = list(self.BASE_MODULES) + [m for m in self.modules if m not in self.BASE_MODULES]
        lines = ['ServerRoot %s' % _quote_conf(d),
                 'ServerName 127.0.0.1',
                 'Listen 127.0.0.1:%d' % self.port]
        for m in mods:
            if m.endswith(".so"):
                base = os.path.basename(m)[4:-3]
                lines.append("LoadModule %s_module %s" % (base, _quote_conf(m)))
            else:
                lines.append("LoadModule %s_module %s" % (
                    m, _quote_conf(os.path.join(APACHE_MODULE_DIR, "mod_%s.so" % m))))
        lines += [
            "User %s" % self.user,
            "Group %s" % self.group,
            "PidFile %s" % _quote_conf(os.path.join(d, "apache.pid")),
            "DefaultRuntimeDir %s" % _quote_conf(run),
            "Mutex file:%s default" % run,
            "ErrorLog %s" % _quote_conf(self.error_log),
            "LogLevel %s" % self.log_level,
            'LogFormat "%h %l %u %t \\"%r\\" %>s %b" common',
            "CustomLog %s common" % _quote_conf(self.access_log) if self.log_requests else "# no access log",
            "StartServers 2",
            "MinSpareServers 1",
            "MaxSpareServers 4",
            "MaxRequestWorkers 16",
            "KeepAlive Off",
            "AllowEncodedSlashes On",
            "DocumentRoot %s" % _quote_conf(docroot),
            "DirectoryIndex index.html",
            "<Directory />",
            "    AllowOverride None",
            "    Require all denied",
            "</Directory>",
            "<Directory %s>" % _quote_conf(docroot),
            "    Require all granted",
            "</Directory>",
        ]
        if self.main_extra:
            lines.append(self.main_extra)
        lines += [
            "<VirtualHost 127.0.0.1:%d>" % self.port,
            "    ServerName %s" % self.hosts[0],
        ]
        if len(self.hosts) > 1:
            lines.append("    ServerAlias %s" % " ".join(self.hosts[1:]))
        lines += [
            "    AllowEncodedSlashes On",
            "    DocumentRoot %s" % _quote_conf(docroot),
        ]
        if self.vhost_conf:
            lines.append("    Include %s" % _quote_conf(self.vhost_conf))
        if self.vhost_extra:
            lines.append(self.vhost_extra)
        lines += ["</VirtualHost>", ""]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines))

    def test_argv(self):
        return [APACHE_BIN, "-f", self.conf_path, "-t"]

    def run_argv(self):
        return [APACHE_BIN, "-f", self.conf_path, "-DFOREGROUND"]


class Haproxy(_Server):
    """HAProxy with a `frontend` holding the lines of frontend_conf (copied
    in: HAProxy has no include) and extra files given with -f (for example
    a `global` section that loads a Lua helper: these come first).  A request the frontend
    does not answer goes to a backend answering 200 "pass".  The stats
    socket (level admin) is `self.socket`, for the runtime API."""

    name = "haproxy"

    def __init__(self, tmpdir, frontend_conf=None, hosts=None, extra_files=(),
                 frontend_extra="", nbthread=1, **kw):
        super().__init__(tmpdir, hosts, (), **kw)
        self.frontend_conf = os.path.abspath(frontend_conf) if frontend_conf else None
        self.extra_files = [os.path.abspath(f) for f in extra_files]
        self.frontend_extra = frontend_extra
        self.nbthread = nbthread
        self.conf_path = os.path.join(self.dir, "haproxy.cfg")
        self.socket = os.path.join(self.dir, "admin.sock")

    def write_config(self):
        body = _read(self.frontend_conf) if self.frontend_conf else ""
        lines = [
            "global",
            "    nbthread %d" % self.nbthread,
            "    pidfile %s" % _quote_conf(os.path.join(self.dir, "haproxy.pid")),
            "    stats socket %s mode 600 level admin" % _quote_conf(self.socket),
            "defaults",
            "    mode http",
            "    timeout client 30s",
            "    timeout server 30s",
            "    timeout connect 5s",
            "frontend redirc",
            "    bind 127.0.0.1:%d" % self.port,
        ]
        lines += ["    " + ln for ln in body.splitlines()]
        if self.frontend_extra:
            lines.append(self.frontend_extra)
        lines += [
            "    default_backend pass",
            "backend pass",
            '    http-request return status 200 content-type text/plain string "pass"',
            "",
        ]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines))

    def _files(self):
        argv = []
        for f in self.extra_files:
            argv += ["-f", f]
        return argv + ["-f", self.conf_path]

    def test_argv(self):
        return [HAPROXY_BIN, "-c"] + self._files()

    def run_argv(self):
        return [HAPROXY_BIN, "-db"] + self._files()

    def cli(self, commands):
        """Send runtime-API commands (text, one per line) to the stats
        socket in one session (prompt mode); return the answer."""
        if isinstance(commands, str):
            commands = commands.encode("latin-1")
        commands = b"prompt\n" + commands + (b"" if commands.endswith(b"\n") or not commands else b"\n") + b"quit\n"
        out = b""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(self.socket)
            s.sendall(commands)
            s.shutdown(socket.SHUT_WR)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        return out.decode("latin-1")


def raw_request_full(port, path_and_query, host, method=b"GET", timeout=10.0,
                     extra_headers=b""):
    """Send an exact request line; return (status, headers[list of (name, value)], body).

    path_and_query is sent byte for byte (str is encoded as latin-1);
    header names are lower-cased, values decoded as latin-1.
    host None sends no Host header (HTTP/1.0 then)."""
    if isinstance(path_and_query, str):
        path_and_query = path_and_query.encode("latin-1")
    if host is None:
        req = method + b" " + path_and_query + b" HTTP/1.0\r\nConnection: close\r\n"
    else:
        if isinstance(host, str):
            host = host.encode("latin-1")
        req = (method + b" " + path_and_query + b" HTTP/1.1\r\nHost: " + host +
               b"\r\nConnection: close\r\n")
    req += extra_headers + b"\r\n"
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(req)
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines or not lines[0].startswith(b"HTTP/"):
        raise ServerError("no HTTP response: %r" % data[:200])
    status = int(lines[0].split(b" ")[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower().decode("latin-1"),
                        value.strip(b" \t").decode("latin-1")))
    return status, headers, body


def raw_request(port, path_and_query, host, timeout=10.0):
    """(status, Location or None) for GET <exact bytes> HTTP/1.1 with Host: host."""
    status, headers, _ = raw_request_full(port, path_and_query, host, timeout=timeout)
    loc = None
    for name, value in headers:
        if name == "location":
            loc = value
            break
    return status, loc


def main(argv=None):
    ap = argparse.ArgumentParser(description="run nginx or apache2 on 127.0.0.1 for manual tests")
    sub = ap.add_subparsers(dest="server", required=True)
    n = sub.add_parser("nginx")
    n.add_argument("http_conf")
    n.add_argument("server_conf")
    n.add_argument("--pass-location", default='location / { return 200 "pass\\n"; }',
                   help="location block answering non-redirected requests ('' for none)")
    a = sub.add_parser("apache")
    a.add_argument("vhost_conf")
    for p in (n, a):
        p.add_argument("--host", action="append", default=[], help="server name (repeatable)")
        p.add_argument("--module", action="append", default=[], help="dynamic module to load (repeatable)")
        p.add_argument("--seconds", type=float, default=None, help="stop after N seconds instead of waiting for Enter/EOF")
        p.add_argument("--dir", default=None, help="temp dir (default: a new one under /tmp)")
        p.add_argument("--port", type=int, default=None)
    args = ap.parse_args(argv)
    d = args.dir or tempfile.mkdtemp(prefix="redirc-%s-" % args.server)
    hosts = args.host or ["localhost"]
    if args.server == "nginx":
        srv = Nginx(d, args.http_conf, args.server_conf, hosts, modules=args.module, port=args.port,
                    pass_location=args.pass_location)
    else:
        srv = Apache(d, args.vhost_conf, hosts, modules=args.module, port=args.port)
    with srv:
        print(srv.port, flush=True)
        print("%s running, pid %d, dir %s; Enter/EOF stops it" % (args.server, srv.pid, d),
              file=sys.stderr, flush=True)
        try:
            if args.seconds is not None:
                time.sleep(args.seconds)
            else:
                sys.stdin.readline()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
