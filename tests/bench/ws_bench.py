#!/usr/bin/python3
"""WebSocket relay benchmark client for scripts/bench.sh.

Run with Debian's /usr/bin/python3 (python3-websockets). One process, one
asyncio loop:

  ws_bench.py --url ws://HOST:PORT/PATH --conns N
              --emit 127.0.0.1:PORT --worker W [--token T] [--ws-token]
              [--lat-rounds K] [--burst C] [--pid NAME=PID ...]
              [--timeout S]

1. Opens N observation sockets on URL (at most 50 handshakes at a time;
   --ws-token sends the bearer token on the upgrade, for a direct runtime
   connection) and waits for each socket's first frame (the snapshot).
2. Latency: K rounds of POST /_control/emit {"count": 1} on the runtime;
   each round waits until every socket has the event. Latency of one
   (event, socket) pair = time the frame was received - time just before
   the emit request was sent (same monotonic clock).
3. Throughput: one emit of C events; events/s = N*C / (time the last
   socket got the last event - time before the emit).
4. For every --pid NAME=PID: CPU share (of one core) during the burst
   from /proc/PID/stat, and VmRSS/VmHWM from /proc/PID/status after
   connecting and after the burst. The client's own CPU share is measured
   the same way: near 100% means the client (one Python thread) was the
   bottleneck, not the relay. cpu_box is the whole box (all cores: 200%
   = both cores of a 2-core box busy), to show other load.

Prints one line
  WSBENCH conns=N connect_s=.. lat_n=.. lat_p50_ms=.. lat_p99_ms=..
          burst=C events=.. burst_s=.. eps=.. cpu_client=..% cpu_box=..%
          cpu_NAME=..%
          rss0_NAME=..kB rss_NAME=..kB hwm_NAME=..kB lost=.. diags=..
          disorder=.. ext=..
and exits 0 when every socket connected and got every event exactly once,
in order, with no diagnostic frame; else 1 (the reason on stderr).
"""
import argparse
import asyncio
import json
import os
import re
import resource
import sys
import time

import websockets

EVENT_RE = re.compile(r'"event_id":\s*"wo_([0-9a-f]+)"')
CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """utime+stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def proc_mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def box_cpu():
    """CPU seconds busy on the whole box (all cores)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


class State:
    def __init__(self):
        self.record = False     # keep per-event receive times (latency)
        self.target = 0         # seq every socket must reach
        self.pending = 0
        self.reached = None     # asyncio.Event


class Conn:
    def __init__(self):
        self.ws = None
        self.first = asyncio.Event()
        self.last_seq = 0
        self.last_t = 0.0
        self.count = 0
        self.times = {}
        self.diags = []
        self.disorder = 0
        self.closed = None


async def reader(c, st):
    try:
        async for msg in c.ws:
            t = time.monotonic()
            if not c.first.is_set():
                c.first.set()
                continue            # the snapshot
            m = EVENT_RE.search(msg)
            if m is None:
                if '"diagnostic"' in msg:
                    c.diags.append(msg[:200])
                continue
            seq = int(m.group(1), 16)
            if seq <= c.last_seq:
                c.disorder += 1
            prev = c.last_seq
            c.last_seq = seq
            c.last_t = t
            c.count += 1
            if st.record:
                c.times[seq] = t
            if st.target and prev < st.target <= seq:
                st.pending -= 1
                if st.pending == 0:
                    st.reached.set()
    except websockets.ConnectionClosed as e:
        c.closed = "close %s" % (e.code,)
    except Exception as e:  # noqa: BLE001 - report, never hang
        c.closed = "error %s" % type(e).__name__
    finally:
        c.first.set()
        if st.target and c.last_seq < st.target:
            # this socket will never get there: do not wait for it
            st.pending -= 1
            if st.pending <= 0 and st.reached:
                st.reached.set()


async def emit(host, port, token, worker, count):
    body = json.dumps({"worker_id": worker, "count": count}).encode()
    hdr = ("POST /_control/emit HTTP/1.1\r\nHost: %s:%d\r\n"
           "Content-Type: application/json\r\nContent-Length: %d\r\n"
           "Connection: close\r\n" % (host, port, len(body)))
    if token:
        hdr += "Authorization: Bearer %s\r\n" % token
    r, w = await asyncio.open_connection(host, port)
    w.write(hdr.encode() + b"\r\n" + body)
    await w.drain()
    data = await r.read()
    w.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1]
    if status != b"200":
        raise RuntimeError("emit: HTTP %s %r" % (status, rest[:200]))
    return int(json.loads(rest)["last_event_id"])


async def wait_all(st, conns, target, timeout):
    st.reached = asyncio.Event()
    st.pending = sum(1 for c in conns if c.last_seq < target and c.closed is None)
    st.target = target
    if st.pending > 0:
        try:
            await asyncio.wait_for(st.reached.wait(), timeout)
        except asyncio.TimeoutError:
            pass
    st.target = 0


async def main(a):
    host, port = a.emit.rsplit(":", 1)
    port = int(port)
    pids = {}
    for spec in a.pid:
        k, _, v = spec.partition("=")
        pids[k] = int(v)
    st = State()
    conns = [Conn() for _ in range(a.conns)]
    sem = asyncio.Semaphore(50)
    headers = {"Authorization": "Bearer " + a.token} if a.ws_token and a.token else {}
    fails = []

    async def open_one(c):
        async with sem:
            try:
                c.ws = await websockets.connect(
                    a.url, extra_headers=headers, max_size=1 << 22,
                    max_queue=4096, ping_interval=None, open_timeout=20,
                    close_timeout=2)
            except Exception as e:  # noqa: BLE001
                c.closed = "connect %s: %s" % (type(e).__name__, e)
                c.first.set()
                return
            asyncio.ensure_future(reader(c, st))
            await c.first.wait()

    t0 = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.gather(*(open_one(c) for c in conns)), a.timeout)
    except asyncio.TimeoutError:
        fails.append("connect: timeout")
    connect_s = time.monotonic() - t0
    bad = [c.closed for c in conns if c.closed]
    if bad:
        fails.append("%d sockets failed to open: %s" % (len(bad), bad[0]))
    ext = "none"
    for c in conns:
        if c.ws is not None:
            ext = ",".join(e.name for e in c.ws.extensions) or "none"
            break
    await asyncio.sleep(0.2)
    mem0 = {k: proc_mem(p) for k, p in pids.items()}

    # latency: closed loop, one event at a time
    deadline = time.monotonic() + a.timeout
    lat = []
    st.record = True
    sent = {}
    for _ in range(a.lat_rounds):
        if fails or time.monotonic() > deadline:
            break
        ts = time.monotonic()
        seq = await emit(host, port, a.token, a.worker, 1)
        sent[seq] = ts
        await wait_all(st, conns, seq, 10)
    st.record = False
    for c in conns:
        for seq, ts in sent.items():
            if seq in c.times:
                lat.append(c.times[seq] - ts)
        c.times = {}
    lat.sort()

    # throughput: one burst
    cpu0 = {k: proc_cpu(p) for k, p in pids.items()}
    me0 = self_cpu()
    box0 = box_cpu()
    base = [c.count for c in conns]
    tb = time.monotonic()
    burst_s = float("nan")
    if not fails and a.burst > 0:
        seq = await emit(host, port, a.token, a.worker, a.burst)
        await wait_all(st, conns, seq, max(1.0, deadline - time.monotonic()))
        burst_s = max(c.last_t for c in conns) - tb
    wall = max(time.monotonic() - tb, 1e-6)
    cpu = {k: (proc_cpu(p) - cpu0[k]) / wall * 100 for k, p in pids.items()}
    cpu_client = (self_cpu() - me0) / wall * 100
    cpu_box = (box_cpu() - box0) / wall * 100
    mem1 = {k: proc_mem(p) for k, p in pids.items()}
    got = sum(c.count - b for c, b in zip(conns, base))
    want_lat = len(sent)
    lost = sum(max(0, want_lat + a.burst - c.count) for c in conns) if not fails else -1
    diags = sum(len(c.diags) for c in conns)
    disorder = sum(c.disorder for c in conns)

    out = ["WSBENCH conns=%d connect_s=%.2f lat_n=%d lat_p50_ms=%.2f lat_p99_ms=%.2f"
           % (a.conns, connect_s, len(lat), pct(lat, 50) * 1e3, pct(lat, 99) * 1e3),
           "burst=%d events=%d burst_s=%.3f eps=%.0f cpu_client=%.0f cpu_box=%.0f"
           % (a.burst, got, burst_s, got / burst_s if burst_s == burst_s and burst_s > 0 else 0,
              cpu_client, cpu_box)]
    for k in pids:
        out.append("cpu_%s=%.0f rss0_%s=%d rss_%s=%d hwm_%s=%d" % (
            k, cpu[k], k, mem0[k].get("VmRSS", 0), k, mem1[k].get("VmRSS", 0),
            k, mem1[k].get("VmHWM", 0)))
    out.append("lost=%d diags=%d disorder=%d ext=%s" % (lost, diags, disorder, ext))
    print(" ".join(out), flush=True)

    if lost:
        fails.append("%d events lost" % lost)
    if diags:
        fails.append("%d diagnostics, first: %s" % (
            diags, next(d for c in conns for d in c.diags)))
    if disorder:
        fails.append("%d events out of order or repeated" % disorder)
    closed = [c.closed for c in conns if c.closed]
    if closed and not bad:
        fails.append("%d sockets closed early: %s" % (len(closed), closed[0]))

    async def close_one(c):
        if c.ws is not None:
            try:
                await c.ws.close()
            except Exception:  # noqa: BLE001
                pass
    try:
        await asyncio.wait_for(asyncio.gather(*(close_one(c) for c in conns)), 5)
    except asyncio.TimeoutError:
        pass
    for f in fails:
        print("ws_bench: " + f, file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--conns", type=int, default=1)
    p.add_argument("--emit", required=True, help="runtime HOST:PORT")
    p.add_argument("--worker", required=True)
    p.add_argument("--token", default="")
    p.add_argument("--ws-token", action="store_true")
    p.add_argument("--lat-rounds", type=int, default=100)
    p.add_argument("--burst", type=int, default=1000)
    p.add_argument("--pid", action="append", default=[])
    p.add_argument("--timeout", type=float, default=30)
    sys.exit(asyncio.run(main(p.parse_args())))
