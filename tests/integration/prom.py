#!/usr/bin/python3
"""prom.py -- reads Prometheus text with Debian's python3-prometheus-client
parser (the one a scraper would use), so a malformed line fails the test.

  prom.py SOURCE NAME [LABEL=VALUE...]   prints the sum of the samples
                                         called NAME whose labels include
                                         the given ones (0 when none)
  prom.py SOURCE --check                 parses; prints the family count

SOURCE is an http:// URL (fetched with a 10 s timeout), unix:PATH (GET
/metrics over that Unix socket) or - (stdin). Exits 1 on a parse error
or a failed fetch.
"""
import http.client
import socket
import sys
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


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    text = fetch(sys.argv[1])
    fams = list(text_string_to_metric_families(text))
    if sys.argv[2] == "--check":
        print(len(fams))
        return
    name = sys.argv[2]
    want = dict(a.split("=", 1) for a in sys.argv[3:])
    total = 0.0
    for fam in fams:
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v
                                      for k, v in want.items()):
                total += s.value
    print(int(total) if total == int(total) else total)


if __name__ == "__main__":
    main()
