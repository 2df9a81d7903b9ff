#!/usr/bin/python3
"""hdrgate_probe.py - raw-socket requests for tests/integration/hdrgate.sh.

Every request is written byte for byte (header order and spelling kept),
and every answer is waited for with a deadline.

  sweep   --port P --names FILE --kind rest|ws --path PATH --key HEADER
          [--token-file F] [--origin O] [--max-fail N]
      For every header name that is a proper prefix of one lws knows
      (FILE: lws_names output) and a few controls, sends a request with
      "NAME: 1" right before the KEY header and, again, as the last
      header. Each answer must come within 1 s and be either a 400 with
      a JSON invalid_request body or the correct answer (rest: 200 with
      a "runtime" object; ws: 101).
  one     --port P --kind rest|ws --path PATH [--token-file F]
          [--origin O] [--header 'Name: value']... [--expect STATUS]
          [--within SECONDS]
      One request; prints the status line and the time it took.
  stall   --port P [--send TEXT] --within SECONDS
      Connects, sends TEXT (or nothing) and waits: prints the status
      line of whatever answer comes (or "closed" / "timeout").
  flood   --port P --count N --path PATH [--token T]
      Holds N silent connections, sends one request, closes them, sends
      another: prints both outcomes.
  ws      --url URL [--token-file F] [--origin O] [--cookie-bytes N]
      A real WebSocket client (python3-websockets): prints the kind of
      the first frame received.
"""

import argparse
import asyncio
import base64
import json
import os
import re
import socket
import sys
import time


def read_answer(sock, deadline):
    """Returns (status_line, headers_text, body) or a reason string."""
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return "timeout"
        except ConnectionResetError:
            return "reset"
        if not chunk:
            return "closed" if not data else "truncated"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.search(r"(?im)^content-length:\s*(\d+)", head.decode("latin-1"))
    want = int(m.group(1)) if m else 0
    if lines[0].split(" ")[1:2] == ["101"]:
        want = 0
    while len(body) < want:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        body += chunk
    return lines[0], "\r\n".join(lines[1:]), body


def request(port, lines, within, path):
    sock = socket.create_connection(("127.0.0.1", port), timeout=within)
    t0 = time.monotonic()
    try:
        text = "GET %s HTTP/1.1\r\n" % path
        text += "".join(line + "\r\n" for line in lines) + "\r\n"
        sock.sendall(text.encode("latin-1"))
        ans = read_answer(sock, t0 + within)
    finally:
        sock.close()
    return ans, time.monotonic() - t0


def base_lines(args, port):
    token = ""
    if args.token_file:
        with open(args.token_file) as f:
            token = f.read().strip()
    lines = ["Host: 127.0.0.1:%d" % port, "User-Agent: hdrgate-probe"]
    if args.origin:
        lines.append("Origin: " + args.origin)
    if args.kind == "ws":
        key = base64.b64encode(os.urandom(16)).decode()
        lines += ["Upgrade: websocket", "Connection: Upgrade",
                  "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
    else:
        lines.append("Accept: */*")
    if token:
        lines.append("Authorization: Bearer " + token)
    return lines


def classify(kind, ans):
    if isinstance(ans, str):
        return "fail", ans
    status, _, body = ans
    code = status.split(" ")[1] if " " in status else "?"
    if code == "400":
        try:
            err = json.loads(body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            err = None
        return ("refused" if err == "invalid_request" else "fail"), status
    if kind == "ws" and code == "101":
        return "served", status
    if kind == "rest" and code == "200":
        try:
            json.loads(body)["runtime"]
            return "served", status
        except (ValueError, KeyError, TypeError):
            pass
    return "fail", status


def probe_names(names_file):
    """Proper prefixes of every header name lws knows, the names lws
    knows without a ':' (methods it also matches inside header names)
    with a suffix, and controls; Title-Case, as a user would type."""
    with open(names_file) as f:
        ents = [line.rstrip("\n") for line in f if line.strip()]
    names = set()
    known = {e[:-1] for e in ents if e.endswith(":")}
    for e in ents:
        if e.endswith(":") and not e.startswith(":"):
            h = e[:-1]
            for k in range(1, len(h)):
                names.add(h[:k])
        elif re.fullmatch(r"[a-z0-9-]+", e.strip()):
            w = e.strip()
            for k in range(1, len(w) + 1):
                names.add(w[:k])
            names.add(w + "ter")
    # A known name with the value 1 means something else ("Origin: 1"):
    # prefixes that are known names themselves stay out.
    names -= known
    names |= {"x-b", "x-foo", "b", "hostx", "x-request-id"}
    title = lambda n: "-".join(p[:1].upper() + p[1:] for p in n.split("-"))
    return sorted(title(n) for n in names)


def cmd_sweep(args):
    names = probe_names(args.names)
    must = ["A", "Ho", "Or", "Co", "Authorizatio", "Connectio", "Origi",
            "Up", "X-A"]
    missing = [n for n in must if n not in names]
    if missing:
        print("probe list lacks %s" % missing)
        return 1
    counts = {"refused": 0, "served": 0, "fail": 0}
    must_seen = {}
    fails = []
    slowest = 0.0
    for name in names:
        for where in ("before", "last"):
            lines = base_lines(args, args.port)
            odd = name + ": 1"
            if where == "last":
                lines.append(odd)
            else:
                i = [l.split(":")[0].lower() for l in lines].index(
                    args.key.lower())
                lines.insert(i, odd)
            ans, took = request(args.port, lines, 1.0, args.path)
            verdict, what = classify(args.kind, ans)
            slowest = max(slowest, took)
            if verdict != "fail" and took > 1.0:
                verdict, what = "fail", "slow (%.2f s)" % took
            counts[verdict] += 1
            if name in must:
                must_seen[(name, where)] = verdict
            if verdict == "fail":
                fails.append("%s (%s): %s after %.2f s" %
                             (odd, where, what, took))
                if len(fails) >= args.max_fail:
                    break
        if len(fails) >= args.max_fail:
            break
    print("%d names x 2 places: %d refused (400), %d served, %d failed; "
          "slowest %.3f s" % (len(names), counts["refused"],
                              counts["served"], counts["fail"], slowest))
    for f in fails:
        print("FAIL " + f)
    for k, v in sorted(must_seen.items()):
        print("  %s: %s (%s)" % (k[0], v, k[1]))
    return 1 if fails else 0


def cmd_one(args):
    lines = base_lines(args, args.port)
    lines += args.header or []
    ans, took = request(args.port, lines, args.within, args.path)
    status = ans if isinstance(ans, str) else ans[0]
    print("%s (%.2f s)" % (status, took))
    if not isinstance(ans, str) and ans[2]:
        print(ans[2][:300].decode("utf-8", "replace"))
    if args.expect and not (not isinstance(ans, str) and
                            status.split(" ")[1:2] == [args.expect]):
        return 1
    return 0


def cmd_stall(args):
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=5)
    t0 = time.monotonic()
    if args.send:
        sock.sendall(args.send.encode().decode("unicode_escape")
                     .encode("latin-1"))
    ans = read_answer(sock, t0 + args.within)
    sock.close()
    status = ans if isinstance(ans, str) else ans[0]
    print("%s (%.2f s)" % (status, time.monotonic() - t0))
    if not isinstance(ans, str) and ans[2]:
        print(ans[2][:300].decode("utf-8", "replace"))
    return 0


def cmd_flood(args):
    """Holds COUNT silent connections, then tries one request: prints
    what it got; closes them and tries again."""
    held = []
    for _ in range(args.count):
        held.append(socket.create_connection(("127.0.0.1", args.port), 5))
    time.sleep(0.3)
    lines = ["Host: x", "Authorization: Bearer " + args.token]
    ans, took = request(args.port, lines, 2.0, args.path)
    print("while %d wait: %s (%.2f s)" % (
        args.count, ans if isinstance(ans, str) else ans[0], took))
    for h in held:
        h.close()
    time.sleep(0.5)
    ans, took = request(args.port, lines, 2.0, args.path)
    print("after: %s (%.2f s)" % (
        ans if isinstance(ans, str) else ans[0], took))
    return 0


def cmd_ws(args):
    import websockets

    headers = []
    if args.token_file:
        with open(args.token_file) as f:
            headers.append(("Authorization", "Bearer " + f.read().strip()))
    if args.cookie_bytes:
        headers.append(("Cookie", "big=" + "c" * args.cookie_bytes))

    async def main():
        async with websockets.connect(args.url, extra_headers=headers,
                                      origin=args.origin,
                                      max_size=None, open_timeout=5) as ws:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            kind = msg.get("kind")
            if kind == "event":
                kind += ":" + str(msg["envelope"]["payload"].get("event"))
            else:
                kind += ":" + msg["diagnostic"]["code"]
            print(kind)

    try:
        asyncio.run(main())
    except Exception as e:  # the test looks at what is printed
        print("error: %s: %s" % (type(e).__name__, e))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("sweep", "one"):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--kind", choices=("rest", "ws"), required=True)
        p.add_argument("--path", required=True)
        p.add_argument("--token-file")
        p.add_argument("--origin")
    sw = sub.choices["sweep"]
    sw.add_argument("--names", required=True)
    sw.add_argument("--key", required=True)
    sw.add_argument("--max-fail", type=int, default=10)
    one = sub.choices["one"]
    one.add_argument("--header", action="append")
    one.add_argument("--expect")
    one.add_argument("--within", type=float, default=1.0)
    st = sub.add_parser("stall")
    st.add_argument("--port", type=int, required=True)
    st.add_argument("--send", default="")
    st.add_argument("--within", type=float, required=True)
    fl = sub.add_parser("flood")
    fl.add_argument("--port", type=int, required=True)
    fl.add_argument("--count", type=int, required=True)
    fl.add_argument("--path", required=True)
    fl.add_argument("--token", default="")
    ws = sub.add_parser("ws")
    ws.add_argument("--url", required=True)
    ws.add_argument("--token-file")
    ws.add_argument("--origin")
    ws.add_argument("--cookie-bytes", type=int, default=0)
    args = ap.parse_args()
    return {"sweep": cmd_sweep, "one": cmd_one, "stall": cmd_stall,
            "flood": cmd_flood, "ws": cmd_ws}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
