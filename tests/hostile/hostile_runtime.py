#!/usr/bin/python3
"""hostile_runtime.py — a worker runtime that misbehaves on purpose.

The test peer of tests/integration/hostile.sh: it speaks just enough of
../shared/contracts/runtime-api.md to be registered in wrg's registry,
then does what a compromised, buggy or unusual runtime would: error bodies
naming hosts, ports, the token and file paths; bodies near and over
limits.max_upstream_body_bytes (1 MiB in the test); deep, wide and
malformed JSON; slow drips, stalls, resets, header floods, lying
Content-Length and broken chunking; and on the events WebSocket refused
or redirected upgrades, binary / oversized / endless / malformed frames,
odd and backwards cursors, leaky diagnostics, floods, abrupt closes.
Everything is hand-built on raw asyncio sockets (byte-level control);
only the Python standard library is used. Run it with /usr/bin/python3.

    hostile_runtime.py --listen 127.0.0.1:0 [--unix PATH]
        [--token T ...] [--token-file F ...] [--mode DEFAULT]
        [--ready-file F] [--max-seconds S] [--list-modes]

Listening: TCP on 127.0.0.1 (port 0 picks one; it is written to
--ready-file once listening) and optionally a Unix socket. The process
exits by itself after --max-seconds (default 600).

Authentication: every /v1/ request (REST and WS upgrade) needs
"Authorization: Bearer T" for one of the --token values (any length; the
tests use 4096-byte tokens, wrg's documented maximum). --token-file reads
one token per line. Without tokens, no auth. A wrong or missing token gets
the contract's 401 "unauthorized".

Choosing a misbehaviour (a "mode"), first match wins:
  1. a path prefix: /m/MODE/v1/... — give the runtime a registry base_url
     of http://127.0.0.1:PORT/m/MODE and every call wrg makes to that
     registry runtime (REST and WS) gets MODE;
  2. the worker id: /v1/workers/MODE[/...] when MODE is a mode name (for a
     Unix-socket runtime, whose base_url has no path);
  3. the default: --mode, or what POST /_hostile/mode (body: the mode
     name) set last; initially "ok".
REST modes also shape the answer to a WebSocket upgrade (an err* mode
answers the upgrade with its status and body, transport modes drip, stall,
reset or flood the 101 answer); "ws-*" modes only change the events
WebSocket and answer REST like "ok". --list-modes prints every mode with
its one-line description. MODES below is the table.

Test endpoints (no auth, never reachable through wrg, which only builds
/v1/ paths):
  GET  /_hostile/stats    JSON: per mode the number of HTTP requests, WS
                          upgrades, the ?cursor= of each upgrade (last
                          50), bearer token lengths seen (REST and WS
                          apart, last 20 each); "stolen": how
                          often /_hostile/stolen was hit (the target of
                          the redirect modes: must stay 0).
  POST /_hostile/mode     sets the default mode.
  ANY  /_hostile/stolen   counted in stats, then 404.

Well-behaved parts ("ok", "ws-ok"): GET /v1/runtime, GET/POST /v1/workers,
GET /v1/workers/W, POST .../input|stop|cancel, GET .../transcript answer
contract shapes (runtime_id "own-hostile"); the events socket sends a
snapshot at the resume cursor, then a "tick" event ({"n": N}, cursor
wo_%016x of N) every 50 ms, answers pings with pongs and close frames
with a close. Every loop is bounded (drips and floods stop after their
bytes or when the peer goes away; holds end after 30 s).
"""
import argparse
import asyncio
import base64
import hashlib
import json
import logging
import os
import signal
import socket
import struct
import sys
import time
import urllib.parse

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HOLD_S = 30.0           # longest a stall / silent mode holds a connection
OWN_ID = "own-hostile"  # the runtime's own runtime_id (never browser-visible)
MIB = 1048576


class Ctx:
    """One request: what a mode handler needs to answer it."""

    def __init__(self, srv, reader, writer, method, target, headers, body):
        self.srv = srv
        self.reader = reader
        self.writer = writer
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        u = urllib.parse.urlsplit(target)
        self.path = u.path
        self.query = urllib.parse.parse_qs(u.query)
        self.mode = None
        self.rest = self.path      # path after an /m/MODE prefix
        self.worker = None         # decoded worker id, if any
        self.sub = ""              # after /v1/workers/W
        self.token = ""            # the bearer token the request used
        self.upgrade = (headers.get("upgrade", "").lower() == "websocket")

    # -- facts a leaky runtime would put in its answers --
    @property
    def port(self):
        return self.srv.port

    @property
    def hostport(self):
        return "127.0.0.1:%d" % self.srv.port

    @property
    def unix(self):
        return self.srv.unix_path or "/run/hostile.sock"


# ---- raw HTTP ----------------------------------------------------------

def http_head(status, reason, headers):
    lines = ["HTTP/1.1 %d %s" % (status, reason)]
    lines += ["%s: %s" % (k, v) for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send(ctx, data):
    ctx.writer.write(data)
    await ctx.writer.drain()


async def answer(ctx, status, body, ctype="application/json", extra=(),
                 close=False, reason=None):
    """A complete answer; body is bytes, str or a JSON-able object."""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body, separators=(",", ":"))
    if isinstance(body, str):
        body = body.encode()
    hdrs = []
    if ctype and body:
        hdrs.append(("Content-Type", ctype))
    hdrs.append(("Content-Length", str(len(body))))
    if close:
        hdrs.append(("Connection", "close"))
    hdrs += list(extra)
    await send(ctx, http_head(status, reason or REASONS.get(status, "X"),
                              hdrs) + body)
    return not close


REASONS = {101: "Switching Protocols", 200: "OK", 201: "Created",
           301: "Moved Permanently", 302: "Found", 400: "Bad Request",
           401: "Unauthorized", 404: "Not Found", 409: "Conflict",
           431: "Request Header Fields Too Large",
           500: "Internal Server Error"}


def err(code, message):
    return {"error": {"code": code, "message": message}}


async def drip(ctx, data, every=0.1):
    """Writes data one byte at a time; stops when the peer is gone."""
    for i in range(len(data)):
        if ctx.reader.at_eof():
            return False
        try:
            await send(ctx, data[i:i + 1])
        except (ConnectionError, OSError):
            return False
        await asyncio.sleep(every)
    return True


async def hold(ctx, seconds=HOLD_S):
    """Keeps the connection open, silent, until the peer closes."""
    try:
        while seconds > 0:
            t0 = time.monotonic()
            b = await asyncio.wait_for(ctx.reader.read(65536), seconds)
            if not b:
                return
            seconds -= time.monotonic() - t0
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass


def reset(ctx):
    """Closes with an RST (SO_LINGER 0), not a FIN."""
    sock = ctx.writer.get_extra_info("socket")
    try:
        if sock is not None and sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
    except OSError:
        pass
    ctx.writer.transport.abort()


# ---- contract shapes ("ok") --------------------------------------------

def ref(w):
    return {"runtime_id": OWN_ID, "worker_id": w}


def worker_obj(w, **extra):
    o = {"worker_ref": ref(w), "runtime_id": OWN_ID, "worker_id": w,
         "status": "running", "intent": {"kind": "task", "objective": "x"},
         "profile": {"kind": "runtime_default"},
         "requested_capability_count": 0, "has_config_bundle": False,
         "transcript_len": 0, "last_event_id": 1}
    o.update(extra)
    return o


def runtime_obj():
    return {"runtime_id": OWN_ID, "display_name": "Hostile",
            "backend": "memory", "status": "running", "worker_count": 1,
            "active_worker_count": 1, "stopped_worker_count": 0,
            "cancelled_worker_count": 0, "diagnostic_count": 0,
            "limits": {"max_transcript_projection_items": 256,
                       "max_event_batch_items": 256}}


def ok_body(ctx):
    """(status, body) of a well-behaved runtime for this route."""
    r, m, w, sub = ctx.rest, ctx.method, ctx.worker, ctx.sub
    if r == "/v1/runtime" and m in ("GET", "HEAD"):
        return 200, {"runtime": runtime_obj()}
    if r == "/v1/workers" and m in ("GET", "HEAD"):
        return 200, {"workers": [worker_obj("w-1")]}
    if r == "/v1/workers" and m == "POST":
        return 200, {"worker": worker_obj("w-new")}
    if w is not None and sub == "" and m in ("GET", "HEAD"):
        return 200, {"worker": worker_obj(w)}
    if w is not None and sub == "/input" and m == "POST":
        return 200, {"ack": {"worker_ref": ref(w), "status": "running",
                             "transcript_sequence": 1, "event_id": 2}}
    if w is not None and sub in ("/stop", "/cancel") and m == "POST":
        st = "stopped" if sub == "/stop" else "cancelled"
        return 200, {"ack": {"worker_ref": ref(w), "status": st,
                             "event_id": 3}}
    if w is not None and sub == "/transcript" and m == "GET":
        return 200, {"transcript": {"worker_ref": ref(w), "start": 0,
                                    "limit": 256, "total_items": 0,
                                    "items": [], "next_start": None}}
    return 404, b""


async def m_ok(ctx):
    status, body = ok_body(ctx)
    return await answer(ctx, status, body)


# ---- REST error modes ----------------------------------------------------

def error_mode(status, code, message, ctype="application/json"):
    """An error answer; code/message may be callables of ctx (or None:
    no JSON body at all)."""
    async def h(ctx):
        c = code(ctx) if callable(code) else code
        msg = message(ctx) if callable(message) else message
        if c is None:
            body = msg.encode() if isinstance(msg, str) else b""
        else:
            body = err(c, msg)
        if ctx.upgrade:
            return await answer(ctx, status, body, ctype, close=True)
        return await answer(ctx, status, body, ctype)
    return h


# ---- bodies near and over the cap ----------------------------------------

def body_mode(make, status=200, ctype="application/json", chunked=False,
              no_length=False, extra=()):
    """A 200 (by default) whose body make(ctx) returns (bytes)."""
    async def h(ctx):
        if ctx.upgrade:
            return await ws_ok(ctx)
        body = make(ctx)
        if chunked:
            head = http_head(status, "OK", [("Content-Type", ctype),
                                            ("Transfer-Encoding", "chunked")]
                             + list(extra))
            await send(ctx, head)
            for i in range(0, len(body), 16384):
                part = body[i:i + 16384]
                try:
                    await send(ctx, b"%x\r\n%s\r\n" % (len(part), part))
                except (ConnectionError, OSError):
                    return False
            await send(ctx, b"0\r\n\r\n")
            return True
        if no_length:
            await send(ctx, http_head(status, "OK", [
                ("Content-Type", ctype), ("Connection", "close")]
                + list(extra)) + body)
            return False
        return await answer(ctx, status, body, ctype, extra=extra)
    return h


def huge_zeros(ctx):
    # {"workers":[0,0,...]}: 520,000 tiny elements, just under 1 MiB.
    return b'{"workers":[' + b"0," * 519999 + b"0]}"


def huge_objects(ctx):
    # {"workers":[{},{},...]}: ~349,000 empty objects, just under 1 MiB.
    return b'{"workers":[' + b"{}," * 349499 + b"{}]}"


def huge_strings(ctx):
    # ~87,000 one-byte strings: each a json-c string object.
    return b'{"workers":[' + b'"x",' * 262000 + b'"x"]}'


def wide_keys(ctx):
    # {"workers":[], "k00000":0, ...}: ~87,000 distinct tiny keys.
    keys = b"".join(b',"k%05x":0' % i for i in range(87000))
    return b'{"workers":[]' + keys + b"}"


def wide_worker(ctx):
    # One valid worker carrying ~80,000 extra keys.
    w = json.dumps(worker_obj("w-wide"), separators=(",", ":")).encode()
    keys = b"".join(b',"x%05x":1' % i for i in range(80000))
    return b'{"workers":[' + w[:-1] + keys + b"}]}"


def huge_over(ctx):
    # Valid JSON just over 1 MiB (1 MiB + 64 bytes).
    pad = MIB + 64 - len(b'{"workers":[],"pad":""}')
    return b'{"workers":[],"pad":"' + b"x" * pad + b'"}'


def long_string(ctx):
    # One valid worker whose objective is ~1,000,000 bytes.
    w = worker_obj("w-long")
    w["intent"]["objective"] = "y" * 1000000
    return json.dumps({"workers": [w]}, separators=(",", ":")).encode()


def deep(ctx):
    # 400,000 levels of arrays (never closed): far past any depth limit.
    return b'{"workers":' + b"[" * 400000


def deep_closed(ctx):
    return b'{"workers":[' + b"[" * 200000 + b"]" * 200000 + b"]}"


def bad_utf8(ctx):
    w = json.dumps(worker_obj("w-utf8"), separators=(",", ":")).encode()
    return b'{"workers":[' + w.replace(b'"x"', b'"\xff\xfe\xc0\xaf"') + b"]}"


def nan_body(ctx):
    w = json.dumps(worker_obj("w-nan"), separators=(",", ":")).encode()
    return (b'{"workers":[' + w.replace(b'"transcript_len":0',
                                        b'"transcript_len":NaN') +
            b'],"x":Infinity,"y":-Infinity}')


def dup_keys(ctx):
    # Duplicate keys: the later runtime_id names a host (json-c: last wins).
    hp = ctx.hostport.encode()
    return (b'{"workers":[{"worker_ref":{"runtime_id":"a","worker_id":"w-d",'
            b'"runtime_id":"' + hp + b'"},"runtime_id":"b","worker_id":"w-d",'
            b'"status":"running","runtime_id":"' + hp + b'"}],'
            b'"workers":[{"worker_ref":{"runtime_id":"' + hp +
            b'","worker_id":"w-dup"},"worker_id":"w-dup",'
            b'"status":"running","runtime_id":"' + hp + b'"}]}')


def trailing(ctx):
    return b'{"workers":[]} {"workers":[]} trailing garbage ' + \
        ctx.hostport.encode()


def big_int(ctx):
    w = json.dumps(worker_obj("w-int"), separators=(",", ":")).encode()
    return b'{"workers":[' + w.replace(
        b'"transcript_len":0', b'"transcript_len":' + b"9" * 400) + b"]}"


# ---- transport misbehaviour ----------------------------------------------

OK_LIST = b'{"workers":[]}'


def ok_head(n, extra=()):
    return http_head(200, "OK", [("Content-Type", "application/json"),
                                 ("Content-Length", str(n))] + list(extra))


def ws_head(ctx, extra=()):
    key = ctx.headers.get("sec-websocket-key", "").encode()
    acc = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
    return http_head(101, "Switching Protocols", [
        ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", acc)] + list(extra))


def first_answer(ctx, extra=()):
    """What a mode sends first: a 101 for upgrades, else a 200 list."""
    if ctx.upgrade:
        return ws_head(ctx, extra), b""
    return ok_head(len(OK_LIST), extra), OK_LIST


async def m_drip_headers(ctx):
    head, body = first_answer(ctx)
    await drip(ctx, head + body)
    return False


async def m_drip_body(ctx):
    if ctx.upgrade:
        return await m_drip_headers(ctx)
    await send(ctx, ok_head(len(OK_LIST)))
    await drip(ctx, OK_LIST)
    return False


async def m_stall_headers(ctx):
    await send(ctx, b"HTTP/1.1 200 OK\r\n")
    await hold(ctx)
    return False


async def m_stall_body(ctx):
    if ctx.upgrade:
        await send(ctx, ws_head(ctx)[:-2])   # headers never end
    else:
        await send(ctx, ok_head(100) + b'{"workers":')
    await hold(ctx)
    return False


async def m_silent(ctx):
    await hold(ctx)
    return False


async def m_close_silent(ctx):
    ctx.writer.close()
    return False


async def m_reset_at_once(ctx):
    reset(ctx)
    return False


async def m_reset_mid_body(ctx):
    if ctx.upgrade:
        await send(ctx, ws_head(ctx)[:40])
    else:
        await send(ctx, ok_head(1000) + b'{"workers":[' + b"0," * 40)
    await asyncio.sleep(0.05)
    reset(ctx)
    return False


async def answer_with_headers(ctx, extra):
    """The header-* modes: a valid first answer carrying the extra header
    lines; an upgrade then streams as ws-ok does."""
    head, body = first_answer(ctx, extra)
    await send(ctx, head + body)
    if ctx.upgrade:
        return await ws_serve(ctx, ws_ok_events)
    return True


async def m_header_flood(ctx):
    flood = [("X-Flood-%d" % i, "v%d" % i) for i in range(5000)]
    return await answer_with_headers(ctx, flood)


async def m_header_64k(ctx):
    return await answer_with_headers(ctx, [("X-Big", "a" * 65536)])


async def m_header_leak(ctx):
    """A valid answer whose headers name the host, token and a path."""
    leak = [("X-Backend", ctx.hostport), ("X-Token", ctx.token[:64]),
            ("Set-Cookie", "s=%s; Path=/var/lib/x" % ctx.token[:32]),
            ("Location", "http://%s/v1/secret" % ctx.hostport),
            ("Server", "hostile at %s" % ctx.unix),
            ("X-Request-Id", "leak-%d" % ctx.port)]
    return await answer_with_headers(ctx, leak)


async def m_clen_short(ctx):
    # Content-Length 5 for a 14-byte body: 9 bytes linger on the
    # kept-alive connection and would start the next "answer".
    await send(ctx, ok_head(5) + OK_LIST)
    return True


async def m_clen_long(ctx):
    await send(ctx, ok_head(1000) + OK_LIST)
    ctx.writer.close()
    return False


async def m_clen_double(ctx):
    await send(ctx, http_head(200, "OK", [
        ("Content-Type", "application/json"), ("Content-Length", "14"),
        ("Content-Length", "3")]) + OK_LIST)
    return False


async def m_clen_negative(ctx):
    await send(ctx, http_head(200, "OK", [
        ("Content-Type", "application/json"),
        ("Content-Length", "-14")]) + OK_LIST)
    ctx.writer.close()
    return False


def chunked_head():
    return http_head(200, "OK", [("Content-Type", "application/json"),
                                 ("Transfer-Encoding", "chunked")])


async def m_chunked_bad_size(ctx):
    await send(ctx, chunked_head() + b"zz\r\n" + OK_LIST + b"\r\n0\r\n\r\n")
    ctx.writer.close()
    return False


async def m_chunked_huge_size(ctx):
    await send(ctx, chunked_head() + b"ffffffffffffffffff\r\n" + OK_LIST)
    await hold(ctx, 5)
    return False


async def m_chunked_lie(ctx):
    # The chunk says 0x4000 bytes, then the stream ends after 14.
    await send(ctx, chunked_head() + b"4000\r\n" + OK_LIST)
    ctx.writer.close()
    return False


async def m_chunked_drip(ctx):
    await send(ctx, chunked_head())
    for b in OK_LIST:
        if not await drip(ctx, b"1\r\n%c\r\n" % b, 0.03):
            return False
    await send(ctx, b"0\r\n\r\n")
    return False


async def m_http09(ctx):
    await send(ctx, OK_LIST)
    ctx.writer.close()
    return False


async def m_status_weird(ctx):
    await send(ctx, b"HTTP/1.1 999 Whatever\r\nContent-Length: 14\r\n\r\n" +
               OK_LIST)
    return True


# ---- WebSocket -----------------------------------------------------------

def ws_frame(opcode, payload=b"", fin=True, rsv=0, mask=False, length=None):
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    m = 0x80 if mask else 0
    if n < 126:
        hdr = bytes([b0, m | n])
    elif n < 65536:
        hdr = bytes([b0, m | 126]) + struct.pack("!H", n)
    else:
        hdr = bytes([b0, m | 127]) + struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        hdr += key
    return hdr + payload


def ws_text(obj):
    if not isinstance(obj, (bytes, str)):
        obj = json.dumps(obj, separators=(",", ":"))
    return ws_frame(0x1, obj)


def cur(n):
    return "wo_%016x" % n


def event(w, n, payload=None, cursor=None, event_id=None, **env):
    c = cur(n) if cursor is None else cursor
    e = {"cursor": c, "event_id": c if event_id is None else event_id,
         "worker_id": w,
         "payload": payload if payload is not None else
         {"event": "tick", "data": {"n": n}}}
    e.update(env)
    return {"kind": "event", "envelope": e}


def snapshot(w, n):
    c = cur(n)
    return {"kind": "event", "envelope": {
        "cursor": c, "event_id": "snapshot:" + c, "worker_id": w,
        "payload": {"event": "snapshot",
                    "data": {"entries": [], "status": "idle"}}}}


def diag(code, message):
    return {"kind": "diagnostic",
            "diagnostic": {"code": code, "message": message}}


def start_seq(ctx):
    """The resume position: ?cursor=wo_HEX, else 'now' (a clock)."""
    c = (ctx.query.get("cursor") or [None])[0]
    if c and c.startswith("wo_"):
        try:
            return int(c[3:], 16)
        except ValueError:
            pass
    return 1000 + int((time.monotonic() - ctx.srv.t0) * 20)


async def ws_control_reader(ctx, state):
    """Reads the client's (masked) frames: pongs for pings, a close
    answered with a close. Sets state['closed'] when the peer is gone."""
    r = ctx.reader
    try:
        while True:
            h = await r.readexactly(2)
            op, n = h[0] & 0x0F, h[1] & 0x7F
            if n == 126:
                n = struct.unpack("!H", await r.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", await r.readexactly(8))[0]
            key = await r.readexactly(4) if h[1] & 0x80 else b"\0\0\0\0"
            data = await r.readexactly(n) if n else b""
            data = bytes(c ^ key[i % 4] for i, c in enumerate(data))
            if op == 0x9 and state.get("pong", True):
                await send(ctx, ws_frame(0xA, data))
            elif op == 0x8:
                if not state.get("sent_close"):
                    state["sent_close"] = True
                    await send(ctx, ws_frame(0x8, data[:2]))
                break
    except (asyncio.IncompleteReadError, ConnectionError, OSError):
        pass
    state["closed"] = True


async def ws_serve(ctx, events, pong=True, hold_after=True):
    """Runs events(ctx, state) (an async generator of raw bytes to send,
    or floats to sleep) while reading control frames; then, if the peer
    is still there and hold_after, keeps answering pings for up to
    HOLD_S."""
    state = {"closed": False, "pong": pong}
    rd = asyncio.ensure_future(ws_control_reader(ctx, state))
    try:
        async for item in events(ctx, state):
            if state["closed"]:
                break
            if isinstance(item, (int, float)):
                await asyncio.sleep(item)
                continue
            if item is None:         # end the connection now, abruptly
                ctx.writer.close()
                return False
            await send(ctx, item)
        if hold_after and not state["closed"]:
            await asyncio.wait_for(asyncio.shield(rd), HOLD_S)
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass
    finally:
        rd.cancel()
    try:
        ctx.writer.close()
    except Exception:
        pass
    return False


async def ws_ok_events(ctx, state, limit=600):
    n = start_seq(ctx)
    yield ws_text(snapshot(ctx.worker, n))
    for _ in range(limit):
        yield 0.05
        n += 1
        yield ws_text(event(ctx.worker, n))


async def ws_ok(ctx):
    await send(ctx, ws_head(ctx))
    return await ws_serve(ctx, ws_ok_events)


def ws_mode(events, pong=True, hold_after=True):
    async def h(ctx):
        if not ctx.upgrade:
            return await m_ok(ctx)
        await send(ctx, ws_head(ctx))
        return await ws_serve(ctx, events, pong, hold_after)
    return h


def ws_refuse(status, extra, body):
    async def h(ctx):
        if not ctx.upgrade:
            return await m_ok(ctx)
        x = extra(ctx) if callable(extra) else extra
        b = body(ctx) if callable(body) else body
        return await answer(ctx, status, b, extra=x, close=True)
    return h


async def ev_binary(ctx, st):
    yield ws_text(snapshot(ctx.worker, 10))
    yield 0.05
    yield ws_frame(0x2, json.dumps(event(ctx.worker, 11)).encode())


async def ev_oversize(ctx, st):
    # One text frame of 1.5 MiB (a valid event): over every cap.
    yield ws_text(snapshot(ctx.worker, 10))
    e = event(ctx.worker, 11, {"event": "text_delta",
                               "data": {"text": "z" * (3 * MIB // 2)}})
    yield ws_text(e)


async def ev_huge_objects(ctx, st):
    # 200 KB of {}s in one valid event, under the frame caps: ~70k json-c
    # objects (~55 MB) if parsed.
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_text(event(ctx.worker, 11, {"event": "x",
                                         "data": [{}] * 66000}))


async def ev_oversize_header(ctx, st):
    # A frame header claiming 2^62 bytes, then a trickle.
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_frame(0x1, b"", length=1 << 62)
    for _ in range(20):
        yield b'{"kind":"event",' * 64
        yield 0.01


async def ev_fragments_forever(ctx, st):
    # A text message that never ends: FIN=0, then 4 KiB continuations
    # (at most 16 MiB / 10 s).
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_frame(0x1, b'{"kind":"event","envelope":{"pad":"', fin=False)
    for _ in range(4096):
        yield ws_frame(0x0, b"q" * 4096, fin=False)
        yield 0.002


async def ev_fragment_stall(ctx, st):
    # Half a message, then silence; pings go unanswered.
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_frame(0x1, b'{"kind":"event",', fin=False)


async def ev_invalid_json(ctx, st):
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_frame(0x1, b'{"kind":"event","envelope":{not json at ' +
                   ctx.hostport.encode())


async def ev_bad_utf8(ctx, st):
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_frame(0x1, b'{"kind":"event","envelope":{"cursor":"\xff\xfe"}}')


async def ev_no_cursor(ctx, st):
    yield ws_text(snapshot(ctx.worker, 10))
    e = event(ctx.worker, 11)
    del e["envelope"]["cursor"]
    yield ws_text(e)


async def ev_empty_cursor(ctx, st):
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_text(event(ctx.worker, 11, cursor=""))


async def ev_long_cursor(ctx, st):
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_text(event(ctx.worker, 11, cursor="c" * 200))


async def ev_odd_cursor(ctx, st):
    # Cursors outside what a browser may send back as ?cursor=.
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_text(event(ctx.worker, 11, cursor="a b/c?d#e&f=%00"))
    yield ws_text(event(ctx.worker, 12, cursor="\u00e9\u00e8"))


async def ev_cursor_number(ctx, st):
    yield ws_text(snapshot(ctx.worker, 10))
    e = event(ctx.worker, 11)
    e["envelope"]["cursor"] = 11
    yield ws_text(e)


async def ev_cursor_backwards(ctx, st):
    # Cursors that repeat and go backwards, then a normal close: the
    # proxy reconnects from the last cursor it forwarded (wo_..05).
    n = start_seq(ctx)
    yield ws_text(snapshot(ctx.worker, n))
    for k in (n + 1, n + 2, n + 3, n + 2, n + 1, 5):
        yield 0.02
        yield ws_text(event(ctx.worker, k))
    yield 0.05
    yield ws_frame(0x8, struct.pack("!H", 1000))
    yield None


async def ev_diag_host(ctx, st):
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_text(diag("runtime.unavailable",
                       "store at /var/lib/x unreachable from %s (token %s)"
                       % (ctx.hostport, ctx.token[:64])))
    yield None


async def ev_diag_unknown(ctx, st):
    yield ws_text(diag(ctx.hostport, "see http://%s/v1/ %s"
                       % (ctx.hostport, ctx.unix)))
    yield None


async def ev_diag_worker(ctx, st):
    yield ws_text(diag("runtime.worker_not_found",
                       "no worker in /var/lib/x on %s" % ctx.hostport))
    yield None


async def ev_tiny_fragments(ctx, st):
    # One 40 kB event as 40,000 one-byte fragments plus 20,000 empty
    # continuations, then normal ticks.
    yield ws_text(snapshot(ctx.worker, 10))
    msg = json.dumps(event(ctx.worker, 11, {"event": "text_delta",
                                           "data": {"text": "t" * 40000}}),
                     separators=(",", ":")).encode()
    out = [ws_frame(0x1, msg[:1], fin=False)]
    for i in range(1, len(msg) - 1):
        out.append(ws_frame(0x0, msg[i:i + 1], fin=False))
        if i % 2 == 0:
            out.append(ws_frame(0x0, b"", fin=False))
        if len(out) >= 4096:
            yield b"".join(out)
            out = []
    out.append(ws_frame(0x0, msg[-1:], fin=True))
    yield b"".join(out)
    for n in range(12, 20):
        yield 0.02
        yield ws_text(event(ctx.worker, n))


async def ev_tiny_events(ctx, st):
    # 20,000 small events as fast as the socket takes them.
    yield ws_text(snapshot(ctx.worker, 10))
    batch = []
    for n in range(11, 20011):
        batch.append(ws_text(event(ctx.worker, n)))
        if len(batch) == 500:
            yield b"".join(batch)
            batch = []
    yield b"".join(batch)


async def ev_ping_flood(ctx, st):
    # 20,000 pings (payload naming the host), then one tick.
    yield ws_text(snapshot(ctx.worker, 10))
    p = ws_frame(0x9, ("ping %s" % ctx.hostport).encode())
    for _ in range(40):
        yield p * 500
    yield ws_text(event(ctx.worker, 11))


async def ev_close_nostatus(ctx, st):
    yield ws_text(snapshot(ctx.worker, start_seq(ctx)))
    yield 0.02
    yield ws_frame(0x8, b"")
    yield None


async def ev_close_reason_leak(ctx, st):
    yield ws_text(snapshot(ctx.worker, start_seq(ctx)))
    yield 0.02
    yield ws_frame(0x8, struct.pack("!H", 1011) +
                   ("%s %s" % (ctx.hostport, ctx.token[:60])).encode())
    yield None


async def ev_immediate_close(ctx, st):
    yield None


async def ev_other_worker(ctx, st):
    # Events claiming other workers, other runtimes, hosts.
    n = start_seq(ctx)
    yield ws_text(snapshot(ctx.worker, n))
    yield ws_text(event("worker-other", n + 1))
    yield ws_text(event(ctx.hostport, n + 2, runtime_id=ctx.hostport))
    yield ws_text(event(ctx.worker, n + 3, runtime_id="rt-other",
                        worker_ref={"runtime_id": ctx.hostport,
                                    "worker_id": "worker-other"}))


async def ev_token_payload(ctx, st):
    n = start_seq(ctx)
    yield ws_text(snapshot(ctx.worker, n))
    yield ws_text(event(ctx.worker, n + 1, {"event": "text_delta",
                                            "data": {"text": ctx.token}}))


async def ev_masked(ctx, st):
    # Servers must not mask (RFC 6455 5.1).
    yield ws_frame(0x1, json.dumps(snapshot(ctx.worker, 10)), mask=True)


async def ev_reserved_opcode(ctx, st):
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_frame(0x3, b"reserved")


async def ev_rsv_bits(ctx, st):
    yield ws_text(snapshot(ctx.worker, 10))
    yield ws_frame(0x1, json.dumps(event(ctx.worker, 11)), rsv=7)


# ---- the mode table ---------------------------------------------------

def code_token(ctx):
    return ctx.token[:64]


MODES = {
    "ok": (m_ok, "a well-behaved runtime (REST and WS)"),
    # REST errors whose code/message name hosts, ports, the token, paths
    "err400-code-ip": (error_mode(400, "127.0.0.1", "bad request"),
                       "400, code \"127.0.0.1\""),
    "err400-code-hostport": (error_mode(
        400, lambda c: c.hostport, "bad request"),
        "400, code \"127.0.0.1:PORT\""),
    "err400-code-token": (error_mode(400, code_token, "invalid"),
                          "400, code = the first 64 bytes of the token"),
    "err409-code-port": (error_mode(
        409, lambda c: "port.%d" % c.port, "conflict"),
        "409, code \"port.PORT\" (passes [a-z0-9_.])"),
    "err409-code-path": (error_mode(
        409, "/var/lib/x", lambda c: "socket %s busy" % c.unix),
        "409, code \"/var/lib/x\", message names the Unix socket"),
    "err400-msg-url": (error_mode(
        400, "invalid_request",
        lambda c: "see http://%s/v1/workers" % c.hostport),
        "400, message with the runtime's URL"),
    "err400-msg-host": (error_mode(
        400, "invalid_request",
        lambda c: "rejected by runtime.example:8080 (port %d)" % c.port),
        "400, message with a host name and the port"),
    "err400-msg-token": (error_mode(
        400, "invalid_request", lambda c: "bad token %s" % c.token[100:140]),
        "400, message with 40 bytes of the token"),
    "err400-msg-long": (error_mode(
        400, "invalid_request", "m" * 900000),
        "400, a 900 kB message"),
    "err400-nobody": (error_mode(400, None, ""), "400, empty body"),
    "err400-html": (error_mode(
        400, None, lambda c: "<html>bad request at %s</html>" % c.hostport,
        "text/html"), "400, an HTML body naming the host"),
    "err409-nobody": (error_mode(409, None, ""), "409, empty body"),
    "err404-nobody": (error_mode(404, None, ""),
                      "404 without a body (a router miss)"),
    "err404-json-leak": (error_mode(
        404, "worker_not_found",
        lambda c: "no worker in /var/lib/x on %s" % c.hostport),
        "404 worker_not_found, message naming a path and the host"),
    "err404-code-ip": (error_mode(404, "127.0.0.1", "x"),
                       "404 with code \"127.0.0.1\""),
    "err500-leak": (error_mode(
        500, "store_io",
        lambda c: "open /var/lib/x/store failed on %s" % c.hostport),
        "500 store_io naming a path and the host"),
    "err500-token": (error_mode(
        500, "state_poisoned", lambda c: "token was %s" % c.token),
        "500 whose message is the whole token"),
    "err500-nobody": (error_mode(500, None, ""), "500, empty body"),
    "err401-leak": (error_mode(
        401, "unauthorized",
        lambda c: "token %s refused at %s" % (c.token[:64], c.hostport)),
        "401 naming the token and the host"),
    "status-weird": (m_status_weird, "HTTP 999"),
    # bodies
    "huge-zeros": (body_mode(huge_zeros),
                   "{\"workers\":[0,0,...]}: 520k elements, < 1 MiB"),
    "huge-objects": (body_mode(huge_objects),
                     "{\"workers\":[{},...]}: 349k objects, < 1 MiB"),
    "huge-strings": (body_mode(huge_strings),
                     "{\"workers\":[\"x\",...]}: 262k strings, < 1 MiB"),
    "wide-keys": (body_mode(wide_keys), "87k distinct top-level keys"),
    "wide-worker": (body_mode(wide_worker),
                    "one worker with 80k extra keys"),
    "long-string": (body_mode(long_string),
                    "one worker with a 1,000,000-byte objective"),
    "huge-over": (body_mode(huge_over), "1 MiB + 64 bytes, Content-Length"),
    "huge-over-chunked": (body_mode(huge_over, chunked=True),
                          "1 MiB + 64 bytes, chunked"),
    "huge-over-noclen": (body_mode(huge_over, no_length=True),
                         "1 MiB + 64 bytes, no length, close"),
    "deep": (body_mode(deep), "400,000 unclosed '['"),
    "deep-closed": (body_mode(deep_closed), "200,000 nested arrays"),
    "bad-utf8": (body_mode(bad_utf8), "invalid UTF-8 in a string"),
    "nan": (body_mode(nan_body), "NaN, Infinity, -Infinity"),
    "dup-keys": (body_mode(dup_keys),
                 "duplicate keys; the last runtime_id names the host"),
    "trailing": (body_mode(trailing), "a second value and garbage"),
    "big-int": (body_mode(big_int), "a 400-digit integer"),
    "not-object": (body_mode(lambda c: b"[1,2,3]"), "a JSON array"),
    "empty-200": (body_mode(lambda c: b""), "200 with an empty body"),
    # transport
    "drip-headers": (m_drip_headers, "status line and headers: 1 B/100 ms"),
    "drip-body": (m_drip_body, "headers at once, body 1 B/100 ms"),
    "stall-headers": (m_stall_headers, "a status line, then silence"),
    "stall-body": (m_stall_body, "headers (CL 100), 11 bytes, silence"),
    "silent": (m_silent, "reads the request, never answers"),
    "close-silent": (m_close_silent, "reads the request, closes (FIN)"),
    "reset-at-once": (m_reset_at_once, "reads the request, RST"),
    "reset-mid-body": (m_reset_mid_body, "headers, part of the body, RST"),
    "header-flood": (m_header_flood, "5000 header lines, then a body"),
    "header-64k": (m_header_64k, "one 64 KiB header line"),
    "header-leak": (m_header_leak,
                    "valid answer, headers naming host/token/path"),
    "clen-short": (m_clen_short, "Content-Length 5, 14-byte body, kept"),
    "clen-long": (m_clen_long, "Content-Length 1000, 14 bytes, close"),
    "clen-double": (m_clen_double, "two different Content-Length"),
    "clen-negative": (m_clen_negative, "Content-Length -14"),
    "chunked-bad-size": (m_chunked_bad_size, "chunk size 'zz'"),
    "chunked-huge-size": (m_chunked_huge_size, "chunk size 2^72-1"),
    "chunked-lie": (m_chunked_lie, "chunk of 0x4000 announced, 14 sent"),
    "chunked-drip": (m_chunked_drip, "one-byte chunks every 30 ms"),
    "http09": (m_http09, "a body without status line (HTTP/0.9)"),
    # WebSocket
    "ws-ok": (ws_mode(ws_ok_events), "snapshot, then a tick every 50 ms"),
    "ws-redirect": (ws_refuse(302, lambda c: [
        ("Location", "http://%s/_hostile/stolen" % c.hostport)], b""),
        "302 to this runtime's /_hostile/stolen"),
    "ws-redirect-host": (ws_refuse(301, [
        ("Location", "http://runtime.example:8080/v1/x")], b""),
        "301 to another host"),
    "ws-401": (ws_refuse(401, [], lambda c: err(
        "unauthorized", "token %s at %s" % (c.token[:64], c.hostport))),
        "401 naming the token and host"),
    "ws-500": (ws_refuse(500, [], lambda c: err(
        "store_io", "/var/lib/x on %s" % c.hostport)),
        "500 naming a path and host"),
    "ws-200": (ws_refuse(200, [], b'{"workers":[]}'),
               "200 with a JSON body instead of 101"),
    "ws-bad-accept": (ws_refuse(101, [
        ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")], b""),
        "101 with a wrong Sec-WebSocket-Accept"),
    "ws-binary": (ws_mode(ev_binary), "snapshot, then a binary frame"),
    "ws-oversize": (ws_mode(ev_oversize), "snapshot, then a 1.5 MiB frame"),
    "ws-huge-objects": (ws_mode(ev_huge_objects),
                        "snapshot, then 200 KB of {} in one event"),
    "ws-oversize-header": (ws_mode(ev_oversize_header),
                           "a frame header claiming 2^62 bytes"),
    "ws-fragments-forever": (ws_mode(ev_fragments_forever),
                             "FIN=0, then 4 KiB continuations, never FIN"),
    "ws-fragment-stall": (ws_mode(ev_fragment_stall, pong=False),
                          "half a message, silence, no pongs"),
    "ws-invalid-json": (ws_mode(ev_invalid_json), "snapshot, then not JSON"),
    "ws-bad-utf8": (ws_mode(ev_bad_utf8), "a text frame of invalid UTF-8"),
    "ws-no-cursor": (ws_mode(ev_no_cursor), "an event without cursor"),
    "ws-empty-cursor": (ws_mode(ev_empty_cursor), "an event, cursor \"\""),
    "ws-long-cursor": (ws_mode(ev_long_cursor), "a 200-byte cursor"),
    "ws-odd-cursor": (ws_mode(ev_odd_cursor),
                      "cursors with ' ', '/', '?', '#', '%', non-ASCII"),
    "ws-cursor-number": (ws_mode(ev_cursor_number), "a numeric cursor"),
    "ws-cursor-backwards": (ws_mode(ev_cursor_backwards, hold_after=False),
                            "cursors n+1..n+3, n+2, n+1, 5, close 1000"),
    "ws-diag-host": (ws_mode(ev_diag_host, hold_after=False),
                     "runtime.unavailable naming host/path/token, close"),
    "ws-diag-unknown": (ws_mode(ev_diag_unknown, hold_after=False),
                        "a diagnostic whose code is host:port"),
    "ws-diag-worker": (ws_mode(ev_diag_worker, hold_after=False),
                       "runtime.worker_not_found naming path and host"),
    "ws-tiny-fragments": (ws_mode(ev_tiny_fragments),
                          "one event in 40,000 1-byte + 20,000 empty "
                          "fragments"),
    "ws-tiny-events": (ws_mode(ev_tiny_events), "20,000 events at once"),
    "ws-ping-flood": (ws_mode(ev_ping_flood), "20,000 pings, then a tick"),
    "ws-close-nostatus": (ws_mode(ev_close_nostatus, hold_after=False),
                          "snapshot, close frame without status"),
    "ws-close-reason-leak": (ws_mode(ev_close_reason_leak,
                                     hold_after=False),
                             "close 1011 with host and token as reason"),
    "ws-immediate-close": (ws_mode(ev_immediate_close, hold_after=False),
                           "101, then the TCP connection closes"),
    "ws-other-worker": (ws_mode(ev_other_worker),
                        "events for other workers / runtimes / hosts"),
    "ws-token-payload": (ws_mode(ev_token_payload),
                         "an event whose payload text is the token"),
    "ws-masked": (ws_mode(ev_masked), "a masked server frame"),
    "ws-reserved-opcode": (ws_mode(ev_reserved_opcode), "opcode 0x3"),
    "ws-rsv-bits": (ws_mode(ev_rsv_bits), "RSV1-3 set, no extension"),
}


# ---- the server ------------------------------------------------------

class Server:
    def __init__(self, args):
        self.args = args
        self.tokens = set(args.token or [])
        for f in args.token_file or []:
            with open(f) as fh:
                self.tokens.update(t.strip() for t in fh if t.strip())
        self.default_mode = args.mode
        self.port = 0
        self.unix_path = args.unix
        self.t0 = time.monotonic()
        self.stats = {"modes": {}, "stolen": 0, "auth_failed": 0}

    def mstat(self, mode):
        return self.stats["modes"].setdefault(mode, {
            "http": 0, "ws": 0, "ws_cursors": [], "token_lens": [],
            "ws_token_lens": []})

    def pick_mode(self, ctx):
        p = ctx.path
        if p.startswith("/m/"):
            seg, _, rest = p[3:].partition("/")
            if seg in MODES:
                ctx.mode = seg
                ctx.rest = "/" + rest
        r = ctx.rest
        if r.startswith("/v1/workers/"):
            tail = r[len("/v1/workers/"):]
            seg, _, sub = tail.partition("/")
            ctx.worker = urllib.parse.unquote(seg)
            ctx.sub = "/" + sub if sub else ""
            if ctx.mode is None and ctx.worker in MODES:
                ctx.mode = ctx.worker
        if ctx.mode is None:
            ctx.mode = self.default_mode

    async def control(self, ctx):
        if ctx.path == "/_hostile/stats":
            return await answer(ctx, 200, self.stats)
        if ctx.path == "/_hostile/mode" and ctx.method == "POST":
            m = ctx.body.decode(errors="replace").strip()
            if m not in MODES:
                return await answer(ctx, 400, err("no_such_mode", m))
            self.default_mode = m
            return await answer(ctx, 200, {"mode": m})
        if ctx.path.startswith("/_hostile/stolen"):
            self.stats["stolen"] += 1
        return await answer(ctx, 404, b"")

    async def one(self, reader, writer):
        """One request; returns whether to keep the connection."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            writer.write(http_head(431, REASONS[431], [
                ("Content-Length", "0"), ("Connection", "close")]))
            return False
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            return False
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _ = lines[0].split(" ", 2)
        except ValueError:
            return False
        headers = {}
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0") or 0)
        body = await reader.readexactly(min(n, 2 * MIB)) if n > 0 else b""
        ctx = Ctx(self, reader, writer, method, target, headers, body)
        if ctx.path.startswith("/_hostile/"):
            return await self.control(ctx)
        self.pick_mode(ctx)
        st = self.mstat(ctx.mode)
        if ctx.upgrade:
            st["ws"] += 1
            st["ws_cursors"] = (st["ws_cursors"] +
                                [(ctx.query.get("cursor") or [""])[0]])[-50:]
        else:
            st["http"] += 1
        auth = headers.get("authorization", "")
        ctx.token = auth[7:] if auth.startswith("Bearer ") else ""
        k = "ws_token_lens" if ctx.upgrade else "token_lens"
        st[k] = (st[k] + [len(ctx.token)])[-20:]
        if self.tokens and ctx.token not in self.tokens:
            self.stats["auth_failed"] += 1
            return await answer(ctx, 401, err(
                "unauthorized", "missing or wrong bearer token"),
                close=ctx.upgrade)
        if not ctx.rest.startswith("/v1/"):
            return await answer(ctx, 404, b"")
        handler = MODES[ctx.mode][0]
        if ctx.upgrade and ctx.mode == "ok":
            return await ws_ok(ctx)
        return await handler(ctx)

    async def conn(self, reader, writer):
        try:
            for _ in range(1000):       # keep-alive, bounded
                if not await self.one(reader, writer):
                    break
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        except Exception as e:  # a bug here must not stop the server
            print("hostile_runtime: %s: %s" % (type(e).__name__, e),
                  file=sys.stderr)
        finally:
            try:
                writer.close()
            except Exception:
                pass


async def amain(args):
    srv = Server(args)
    host, _, port = args.listen.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("hostile_runtime: listen on loopback only")
    lim = 256 * 1024
    tcp = await asyncio.start_server(srv.conn, host, int(port), limit=lim)
    srv.port = tcp.sockets[0].getsockname()[1]
    servers = [tcp]
    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        servers.append(await asyncio.start_unix_server(
            srv.conn, args.unix, limit=lim))
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.port)
        os.rename(tmp, args.ready_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.max_seconds)
    except asyncio.TimeoutError:
        pass
    for s in servers:
        s.close()
    if args.unix and os.path.exists(args.unix):
        os.unlink(args.unix)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--unix")
    ap.add_argument("--token", action="append")
    ap.add_argument("--token-file", action="append")
    ap.add_argument("--mode", default="ok", choices=sorted(MODES))
    ap.add_argument("--ready-file")
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--list-modes", action="store_true")
    args = ap.parse_args()
    if args.list_modes:
        for k, (_, d) in MODES.items():
            print("%-22s %s" % (k, d))
        return 0
    # asyncio complains about writes to peers that went away; expected.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    asyncio.run(amain(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
