#!/usr/bin/python3
"""WebSocket test client for the wrg-wsproxy integration tests.

Run with Debian's /usr/bin/python3 (python3-websockets). Subcommands:

  read URL [--origin O] [--max-events N] [--until-ticks N] [--timeout S]
           [--pause-after N --pause S [--read-delay S]] [--send TEXT]
           [--out FILE]
           [--rcvbuf BYTES] [--unix SOCKET_PATH]
           [--capture FILE]
      Connects, then prints one line per received text frame (the raw
      JSON) to --out (default stdout), and a final status line:
        #close CODE REASON     the server closed the socket
        #http STATUS           the upgrade was refused with this status
        #done                  --max-events/--until-ticks reached (we close)
        #timeout               nothing decisive within --timeout seconds
        #error TEXT            connection failed otherwise
      --capture appends every browser-visible byte we got (frames, close
      reasons, refused-upgrade status, headers and body) for leak scans.

  ticks FILE [--worker W] [--min N]
      Checks that the tick events in FILE (as written by read) have
      consecutive n values, each exactly once and in order, at least N of
      them. Prints "ticks FIRST..LAST count=C" and exits 0, else explains
      and exits 1.

  count FILE CODE
      Prints how many diagnostic frames with this code FILE holds.
"""
import argparse
import asyncio
import json
import sys

import websockets


def _cap(args, data):
    if args.capture:
        with open(args.capture, "ab") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
            f.write(b"\n")


def _is_tick(env, worker):
    p = env.get("payload")
    if not isinstance(p, dict) or p.get("event") != "tick":
        return None
    if worker and env.get("worker_id") != worker:
        return None
    return p.get("data", {}).get("n")


async def _read(args):
    out = open(args.out, "w") if args.out else sys.stdout
    events = ticks = 0
    status = "#timeout"

    def emit(line):
        out.write(line + "\n")
        out.flush()

    kw = {}
    if args.rcvbuf:
        # A small receive buffer makes "stops reading" felt quickly by
        # the proxy instead of after megabytes of kernel buffering.
        import socket
        import urllib.parse
        u = urllib.parse.urlsplit(args.url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        sock.settimeout(args.timeout)
        try:
            sock.connect((u.hostname, u.port or 80))
        except OSError as e:
            emit("#error %s" % type(e).__name__)
            return 0
        sock.setblocking(False)
        kw["sock"] = sock
    if args.unix:
        connect = websockets.unix_connect(
            args.unix, args.url, origin=args.origin, max_size=None,
            open_timeout=args.timeout, close_timeout=3,
            ping_interval=None, max_queue=4)
    else:
        connect = websockets.connect(
            args.url, origin=args.origin, max_size=None,
            open_timeout=args.timeout, close_timeout=3,
            ping_interval=None, max_queue=4, **kw)
    try:
        ws = await asyncio.wait_for(connect, args.timeout)
    except websockets.exceptions.InvalidStatusCode as e:
        _cap(args, "HTTP %d" % e.status_code)
        hdrs = getattr(e, "headers", None)
        if hdrs:
            _cap(args, str(hdrs))
        emit("#http %d" % e.status_code)
        return 0
    except Exception as e:  # refused, reset, timeout
        emit("#error %s" % type(e).__name__)
        return 0
    _cap(args, str(ws.response_headers))

    async def consume():
        nonlocal events, ticks, status
        try:
            if args.send is not None:
                await ws.send(args.send)
            while True:
                msg = await ws.recv()
                _cap(args, msg)
                emit(msg if isinstance(msg, str) else "#binary")
                try:
                    obj = json.loads(msg)
                except ValueError:
                    continue
                if obj.get("kind") == "event":
                    events += 1
                    if _is_tick(obj.get("envelope", {}), None) is not None:
                        ticks += 1
                if args.pause_after and events == args.pause_after:
                    await asyncio.sleep(args.pause)
                elif args.read_delay and events > args.pause_after:
                    await asyncio.sleep(args.read_delay)
                if args.max_events and events >= args.max_events:
                    status = "#done"
                    return
                if args.until_ticks and ticks >= args.until_ticks:
                    status = "#done"
                    return
        except websockets.exceptions.ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else 1006
            reason = e.rcvd.reason if e.rcvd else ""
            _cap(args, reason)
            status = "#close %d %s" % (code, reason)

    try:
        await asyncio.wait_for(consume(), args.timeout)
    except asyncio.TimeoutError:
        status = "#timeout"
    emit(status)
    try:
        await asyncio.wait_for(ws.close(), 3)
    except Exception:
        pass
    return 0


def _frames(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            yield json.loads(line)


def _ticks(args):
    ns = []
    for obj in _frames(args.file):
        if obj.get("kind") != "event":
            continue
        n = _is_tick(obj["envelope"], args.worker)
        if n is not None:
            ns.append(n)
    if len(ns) < args.min:
        print("only %d ticks, wanted at least %d" % (len(ns), args.min))
        return 1
    for i in range(1, len(ns)):
        if ns[i] != ns[i - 1] + 1:
            print("tick %d followed by %d (index %d)" % (ns[i - 1], ns[i], i))
            return 1
    print("ticks %d..%d count=%d" % (ns[0], ns[-1], len(ns)) if ns
          else "ticks none count=0")
    return 0


def _count(args):
    n = 0
    for obj in _frames(args.file):
        if obj.get("kind") == "diagnostic" and \
                obj["diagnostic"].get("code") == args.code:
            n += 1
    print(n)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("read")
    r.add_argument("url")
    r.add_argument("--origin")
    r.add_argument("--max-events", type=int, default=0)
    r.add_argument("--until-ticks", type=int, default=0)
    r.add_argument("--timeout", type=float, default=10)
    r.add_argument("--pause-after", type=int, default=0)
    r.add_argument("--pause", type=float, default=0)
    # Seconds between two reads after the pause: a reader that drains a
    # deep backlog slowly.
    r.add_argument("--read-delay", type=float, default=0)
    r.add_argument("--send")
    r.add_argument("--rcvbuf", type=int, default=0)
    r.add_argument("--unix")
    r.add_argument("--out")
    r.add_argument("--capture")
    t = sub.add_parser("ticks")
    t.add_argument("file")
    t.add_argument("--worker")
    t.add_argument("--min", type=int, default=1)
    c = sub.add_parser("count")
    c.add_argument("file")
    c.add_argument("code")
    args = ap.parse_args()
    if args.cmd == "read":
        return asyncio.run(_read(args))
    if args.cmd == "ticks":
        return _ticks(args)
    return _count(args)


if __name__ == "__main__":
    sys.exit(main())
