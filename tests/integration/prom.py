#!/usr/bin/python3
"""prom.py -- reads Prometheus text with Debian's python3-prometheus-client
parser (the one a scraper would use), so a malformed line fails the test.

  prom.py SOURCE NAME [LABEL=VALUE...]   prints the sum of the samples
                                         called NAME whose labels include
                                         the given ones (0 when none)
  prom.py SOURCE --check                 parses; prints the family count
  prom.py SOURCE --max NAME SECONDS      polls every 20 ms for SECONDS;
                                         prints the largest NAME seen

SOURCE is an http:// URL (fetched with a 10 s timeout), unix:PATH (GET
/metrics over that Unix socket) or - (stdin). Exits 1 on a parse error
or a failed fetch.
"""
import http.client
import socket
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.unix_path)


def fetch(src):
    if src == "-":
        return sys.stdin.read()
    if src.startswith("unix:"):
        c = UnixConnection(src[5:])
        c.request("GET", "/metrics")
        r = c.getresponse()
        if r.status != 200:
            sys.exit("HTTP %d" % r.status)
        return r.read().decode()
    with urllib.request.urlopen(src, timeout=10) as r:
        return r.read().decode()


def value(fams, name, want):
    total = 0.0
    for fam in fams:
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v
                                      for k, v in want.items()):
                total += s.value
    return int(total) if total == int(total) else total


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    if sys.argv[2] == "--max":
        end, top = time.monotonic() + float(sys.argv[4]), 0
        while time.monotonic() < end:
            fams = text_string_to_metric_families(fetch(sys.argv[1]))
            top = max(top, value(fams, sys.argv[3], {}))
            time.sleep(0.02)
        print(top)
        return
    fams = list(text_string_to_metric_families(fetch(sys.argv[1])))
    if sys.argv[2] == "--check":
        print(len(fams))
        return
    want = dict(a.split("=", 1) for a in sys.argv[3:])
    print(value(fams, sys.argv[2], want))


if __name__ == "__main__":
    main()
