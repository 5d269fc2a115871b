#!/usr/bin/env python3
"""Self-test of tests/e2e/servers.py: start nginx and Apache with a trivial
hand-written redirect and check status and Location.  Exit 0 on success."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import Apache, Nginx, raw_request, _pid_alive  # noqa: E402


def check(label, got, want, failures):
    ok = got == want
    print("%-4s %-40s got %r want %r" % ("ok" if ok else "FAIL", label, got, want))
    if not ok:
        failures.append(label)


def main():
    failures = []
    with tempfile.TemporaryDirectory(prefix="redirc-selftest-") as d:
        http = os.path.join(d, "http.conf")
        server = os.path.join(d, "server.conf")
        vhost = os.path.join(d, "vhost.conf")
        with open(http, "w") as f:
            f.write('map $uri $selftest_target { default ""; /old /new; }\n')
        with open(server, "w") as f:
            f.write('if ($selftest_target) { return 301 $selftest_target$is_args$args; }\n')
        with open(vhost, "w") as f:
            f.write("RewriteEngine On\nRewriteRule ^/old$ /new [R=301,L]\n")

        with Nginx(os.path.join(d, "ng"), http, server, ["www.example.com"]) as ng:
            pid = ng.pid
            check("nginx /old", raw_request(ng.port, b"/old", "www.example.com"),
                  (301, "http://www.example.com:%d/new" % ng.port), failures)
            check("nginx /old?x=1", raw_request(ng.port, b"/old?x=1", "www.example.com")[1],
                  "http://www.example.com:%d/new?x=1" % ng.port, failures)
            check("nginx /other", raw_request(ng.port, b"/other", "www.example.com"),
                  (200, None), failures)
        check("nginx stopped", _pid_alive(pid), False, failures)

        with Apache(os.path.join(d, "ap"), vhost, ["www.example.com"]) as ap:
            pid = ap.pid
            check("apache /old", raw_request(ap.port, b"/old", "www.example.com"),
                  (301, "http://www.example.com/new"), failures)
            check("apache /old?x=1", raw_request(ap.port, b"/old?x=1", "www.example.com")[1],
                  "http://www.example.com/new?x=1", failures)
            check("apache /other", raw_request(ap.port, b"/other", "www.example.com"),
                  (404, None), failures)
        check("apache stopped", _pid_alive(pid), False, failures)

    # a broken config must raise with the server's own message
    with tempfile.TemporaryDirectory(prefix="redirc-selftest-") as d:
        bad = os.path.join(d, "bad.conf")
        with open(bad, "w") as f:
            f.write("this_is_not_a_directive;\n")
        try:
            with Nginx(d, None, bad, ["x"]):
                pass
            failures.append("nginx bad config accepted")
        except Exception as e:  # ServerError
            check("nginx -t failure reported", "unknown directive" in str(e), True, failures)

    if failures:
        print("FAILED: %s" % ", ".join(failures))
        return 1
    print("all ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
