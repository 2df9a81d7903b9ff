#!/usr/bin/python3
"""fcgi_client.py -- a FastCGI client for tests: talks to wrg.fcgi the way
a web server does, records built by hand (FastCGI 1.0), so a test needs no
second web server to reach the socket.

  fcgi_client.py SOCKET get URI            one request, no keep-conn;
                                           prints the Status line and body;
                                           exits 4 unless then closed
  fcgi_client.py SOCKET keepconn URI N     N requests on one kept
                                           connection; prints each Status
                                           and "open" if the connection
                                           is still open after the last
  fcgi_client.py SOCKET values             GET_VALUES; prints the answer
  fcgi_client.py SOCKET slowhead          BEGIN and half a PARAMS record,
                                           then nothing; prints "closed
                                           after N s" when the server
                                           closes
  fcgi_client.py SOCKET mpx URI            two request ids at once on one
                                           connection; prints the
                                           protocolStatus of each END

SOCKET is unix:/path or HOST:PORT. Every wait is bounded (--timeout,
default 10 s); a timeout exits 3.
"""
import socket
import struct
import sys

BEGIN, ABORT, END, PARAMS, STDIN, STDOUT = 1, 2, 3, 4, 5, 6
GET_VALUES, GET_VALUES_RESULT = 9, 10


def rec(t, rid, content=b""):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBx", 1, t, rid, len(content), pad) + \
        content + b"\0" * pad


def nv(k, v):
    k, v = k.encode(), v.encode()

    def ln(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 1 << 31)
    return ln(len(k)) + ln(len(v)) + k + v


def request_bytes(rid, uri, keep, method="GET", body=b""):
    params = [("REQUEST_METHOD", method), ("REQUEST_URI", uri),
              ("SERVER_PROTOCOL", "HTTP/1.1")]
    if body:
        params += [("CONTENT_TYPE", "application/json"),
                   ("CONTENT_LENGTH", str(len(body)))]
    p = b"".join(nv(k, v) for k, v in params)
    out = rec(BEGIN, rid, struct.pack(">HB5x", 1, 1 if keep else 0))
    out += rec(PARAMS, rid, p) + rec(PARAMS, rid)
    if body:
        out += rec(STDIN, rid, body)
    return out + rec(STDIN, rid)


class Reader:
    def __init__(self, s):
        self.s, self.buf = s, b""

    def record(self):
        """(type, id, content), or None at EOF."""
        while len(self.buf) < 8 or \
                len(self.buf) < 8 + self.clen() + self.buf[6]:
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d
        _, t, rid, n, pad = struct.unpack(">BBHHBx", self.buf[:8])
        content = self.buf[8:8 + n]
        self.buf = self.buf[8 + n + pad:]
        return t, rid, content

    def clen(self):
        return struct.unpack(">H", self.buf[4:6])[0]

    def response(self, rid):
        """STDOUT bytes of request rid up to its END_REQUEST; plus the
        END_REQUEST of other ids seen meanwhile."""
        out, others = b"", {}
        while True:
            r = self.record()
            if r is None:
                raise EOFError("connection closed before END_REQUEST")
            t, i, c = r
            if t == STDOUT and i == rid:
                out += c
            elif t == END:
                if i == rid:
                    return out, c[4], others
                others[i] = c[4]


def connect(spec, timeout):
    if spec.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        addr = spec[5:]
    else:
        host, port = spec.rsplit(":", 1)
        s = socket.socket(socket.AF_INET)
        addr = (host, int(port))
    s.settimeout(timeout)
    s.connect(addr)
    return s


def status(stdout):
    return stdout.split(b"\r\n", 1)[0].decode()


def main():
    args = sys.argv[1:]
    timeout = 10.0
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    spec, mode = args[0], args[1]
    s = connect(spec, timeout)
    r = Reader(s)
    try:
        if mode == "get":
            s.sendall(request_bytes(1, args[2], False))
            out, _, _ = r.response(1)
            print(status(out))
            print(out.split(b"\r\n\r\n", 1)[-1].decode())
            # Without FCGI_KEEP_CONN the application closes.
            if s.recv(1) != b"":
                print("not closed")
                sys.exit(4)
        elif mode == "keepconn":
            for i in range(int(args[3])):
                s.sendall(request_bytes(1, args[2], True))
                out, _, _ = r.response(1)
                print(status(out))
            s.settimeout(0.3)
            try:
                print("closed" if s.recv(1) == b"" else "data")
            except socket.timeout:
                print("open")
        elif mode == "values":
            q = nv("FCGI_MAX_CONNS", "") + nv("FCGI_MAX_REQS", "") + \
                nv("FCGI_MPXS_CONNS", "") + nv("X_OTHER", "")
            s.sendall(rec(GET_VALUES, 0, q))
            t, _, c = r.record()
            assert t == GET_VALUES_RESULT, t
            i = 0
            while i < len(c):
                kl, vl = c[i], c[i + 1]
                print(c[i + 2:i + 2 + kl].decode() + "=" +
                      c[i + 2 + kl:i + 2 + kl + vl].decode())
                i += 2 + kl + vl
        elif mode == "slowhead":
            import time
            start = time.monotonic()
            p = nv("REQUEST_METHOD", "GET") + nv("REQUEST_URI", "/api/health")
            s.sendall(rec(BEGIN, 1, struct.pack(">HB5x", 1, 1)) +
                      rec(PARAMS, 1, p)[:12])
            while s.recv(4096):
                pass
            print("closed after %d s" % round(time.monotonic() - start))
        elif mode == "mpx":
            s.sendall(request_bytes(1, args[2], True) +
                      request_bytes(2, args[2], True))
            out, st, others = r.response(1)
            print("1 %d %s" % (st, status(out)))
            while 2 not in others:
                t, i, c = r.record()
                if t == END:
                    others[i] = c[4]
            print("2 %d" % others[2])
    except socket.timeout:
        print("timeout")
        sys.exit(3)


if __name__ == "__main__":
    main()
