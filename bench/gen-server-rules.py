#!/usr/bin/env python3
"""Write N exact rules (deterministic: the same N gives the same file).

    python3 bench/gen-server-rules.py N > rules.redir

Sources are 30-90 bytes, with upper-case letters and a few escapes, so the
case-sensitive keys are realistic; statuses and query modes vary.
"""
import sys


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    out = sys.stdout
    out.write("# %d generated exact rules (bench/gen-server-rules.py)\n" % n)
    out.write("set hosts www.example.com\n")
    x = 12345
    statuses = ("", " 302", " 308", " 307")
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7fffffff
        pad = "section-%d/Page-%x" % (x % 97, x)
        extra = "-" * (x % 40)
        q = " query drop" if i % 11 == 0 else ""
        out.write("/old/%d/%s%s -> /new/%d?id=%x%s%s\n" % (i, pad, extra, i, x, statuses[i % 4], q))


if __name__ == "__main__":
    main()
