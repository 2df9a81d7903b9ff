#!/usr/bin/python3
"""Shared-upstream scenarios for wrg-wsproxy (tests/integration/wsproxy-shared.sh).

Run with Debian's /usr/bin/python3 (python3-websockets). Each scenario
prints TAP-style lines ("ok - NAME" / "not ok - NAME: why") that the shell
test counts. Common arguments: --px ws://127.0.0.1:PORT (the proxy),
--rt 127.0.0.1:PORT (the runtime, for /_control/emit and socket counts),
--token TOKEN, --px-pid PID, --runtime-id ID, --worker W [--worker W2].

Scenarios:
  fanout   N browsers on one worker (and N on a second one): one runtime
           socket per watched worker; a burst reaches every browser once,
           in order.
  join     browsers joining while ticks flow, with and without cursors
           (some behind the live position): every browser sees consecutive
           ticks from where it started, none twice.
  drop     the runtime drops every socket: each browser hears
           backend.upstream_reconnecting once, then the ticks go on with no
           gap.
  slow     one browser reading slowly but steadily through a burst of
           several MiB gets every event; the fast ones are not held up.
  cut      a browser that stops reading while the runtime's retention is
           small is cut with backend.slow_consumer; the others go on.
  linger   once the last browser left, the runtime socket closes after the
           linger.
  reload   a SIGHUP that changes nothing about the runtime keeps the shared
           upstream: browsers arriving after it join the one socket, and a
           burst reaches old and new browsers once, in order (needs
           --px-log, the proxy's log, to see the reload applied).
"""
import argparse
import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import websockets

RESULTS = []


def check(name, ok, why=""):
    RESULTS.append(ok)
    print(("ok - " if ok else "not ok - ") + name + ("" if ok else ": " + why),
          flush=True)


def rt_socks(a):
    """Established connections from the proxy to the runtime's port."""
    port = a.rt.rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-Htnp", "state", "established",
                          "( dport = :%s )" % port],
                         capture_output=True, text=True).stdout
    return sum(1 for l in out.splitlines() if "pid=%s," % a.px_pid in l)


async def wait_socks(a, want, timeout=5.0):
    end = time.monotonic() + timeout
    n = rt_socks(a)
    while n != want and time.monotonic() < end:
        await asyncio.sleep(0.05)
        n = rt_socks(a)
    return n


def emit(a, worker, count):
    host, port = a.rt.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request("POST", "/_control/emit",
              json.dumps({"worker_id": worker, "count": count}),
              {"Authorization": "Bearer " + a.token,
               "Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


class Browser:
    """One browser socket: every frame kept, ticks checked as they come."""

    def __init__(self, a, worker, cursor=None, read_delay=0.0, rcvbuf=0):
        self.a, self.worker, self.cursor = a, worker, cursor
        self.read_delay, self.rcvbuf = read_delay, rcvbuf
        self.frames = []
        self.ticks = []          # (n, cursor)
        self.diags = []
        self.snapshot = asyncio.Event()
        self.close_code = None
        self.task = None
        self.ws = None
        self.stop_reading = False

    def url(self):
        u = "%s/api/runtimes/%s/workers/%s/events/ws" % (
            self.a.px, self.a.runtime_id, self.worker)
        return u + ("?cursor=" + self.cursor if self.cursor else "")

    async def run(self):
        kw = {"open_timeout": 10, "max_size": None, "max_queue": 4}
        try:
            if self.rcvbuf:
                # Before connect, so the window stays small and the proxy
                # has to hold what this browser does not read.
                host, port = self.a.px[5:].split(":")
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                             self.rcvbuf)
                s.setblocking(False)
                await asyncio.get_running_loop().sock_connect(
                    s, (host, int(port)))
                kw["sock"] = s
            async with websockets.connect(self.url(), **kw) as ws:
                self.ws = ws
                async for m in ws:
                    while self.stop_reading:
                        await asyncio.sleep(0.05)
                    f = json.loads(m)
                    self.frames.append(f)
                    if f.get("kind") == "diagnostic":
                        self.diags.append(f["diagnostic"]["code"])
                    else:
                        env = f["envelope"]
                        p = env["payload"]
                        if p.get("event") == "snapshot":
                            self.snapshot.set()
                        elif p.get("event") == "tick":
                            self.ticks.append((p["data"]["n"],
                                               env["cursor"]))
                    # Steady, in steps of 32 frames (a timer per frame
                    # costs more than the frame under load).
                    if self.read_delay and len(self.frames) % 32 == 0:
                        await asyncio.sleep(self.read_delay * 32)
                self.close_code = ws.close_code
        except websockets.ConnectionClosed as e:
            self.close_code = e.code
        except Exception as e:  # noqa: BLE001 — reported as a failure
            self.diags.append("#error " + repr(e))

    def start(self):
        self.task = asyncio.ensure_future(self.run())
        return self

    async def close(self):
        if self.ws is not None:
            await self.ws.close()
        if self.task:
            try:
                await asyncio.wait_for(self.task, 5)
            except asyncio.TimeoutError:
                self.task.cancel()

    def consecutive(self, first=None):
        """'' if the ticks are consecutive (from first), else why not."""
        ns = [n for n, _ in self.ticks]
        if not ns:
            return "no ticks"
        if first is not None and ns[0] != first:
            return "first tick %d, want %d" % (ns[0], first)
        for i in range(1, len(ns)):
            if ns[i] != ns[i - 1] + 1:
                return "tick %d after %d" % (ns[i], ns[i - 1])
        return ""


async def until(pred, timeout):
    end = time.monotonic() + timeout
    while not pred() and time.monotonic() < end:
        await asyncio.sleep(0.02)
    return pred()


async def open_all(bs, timeout=15):
    for b in bs:
        b.start()
    await until(lambda: all(b.snapshot.is_set() or b.diags for b in bs),
                timeout)
    return all(b.snapshot.is_set() for b in bs)


async def burst_reaches_all(a, name, bs, workers):
    """Emits a.count ticks on each of workers (bs watch them, a.count
    each): every browser gets its ticks once, in order, no diagnostic."""
    for w in workers:
        emit(a, w, a.count)
    ok = await until(lambda: all(len(b.ticks) >= a.count for b in bs), 30)
    check("%s: every browser got %d ticks" % (name, a.count), ok,
          "counts %s" % sorted(set(len(b.ticks) for b in bs)))
    bad = [b.consecutive() for b in bs if b.consecutive()]
    check("%s: once each, in order" % name, not bad, "; ".join(bad[:3]))
    extra = [len(b.ticks) for b in bs if len(b.ticks) != a.count]
    check("%s: no duplicates" % name, not extra, "counts %s" % extra[:5])
    check("%s: no diagnostics" % name, not any(b.diags for b in bs),
          str([b.diags for b in bs if b.diags][:3]))


async def sc_fanout(a):
    n = a.conns
    w1, w2 = a.worker[0], a.worker[1]
    bs = [Browser(a, w1) for _ in range(n)] + [Browser(a, w2)
                                               for _ in range(n)]
    check("fanout: %d browsers on 2 workers get their snapshot" % (2 * n),
          await open_all(bs))
    socks = await wait_socks(a, 2)
    check("fanout: runtime sockets = watched workers (2)", socks == 2,
          "%d runtime sockets" % socks)
    await burst_reaches_all(a, "fanout", bs, [w1, w2])
    for b in bs:
        await b.close()


async def sc_join(a):
    w = a.worker[0]
    first = Browser(a, w).start()
    await until(lambda: len(first.ticks) >= 5, 10)
    bs = [first]
    starts = {}
    # Join over ~2 s while the runtime ticks (--tick-ms): half plain, a
    # quarter with the cursor of a recent tick, a quarter with an older
    # one (past the replay ring when it is small).
    for i in range(a.conns):
        await asyncio.sleep(2.0 / a.conns)
        cur = None
        if i % 4 in (1, 2) and len(first.ticks) > 40:
            back = 3 if i % 4 == 1 else 40
            n, cur = first.ticks[-back]
        b = Browser(a, w, cursor=cur).start()
        if cur:
            starts[b] = n + 1
        bs.append(b)
    await asyncio.sleep(1.0)
    last = first.ticks[-1][0] if first.ticks else 0
    ok = await until(lambda: all(b.ticks and b.ticks[-1][0] >= last
                                 for b in bs), 15)
    check("join: %d browsers joining under load all reach tick %d"
          % (len(bs), last), ok,
          "behind: %s" % [b.ticks[-1][0] if b.ticks else None
                          for b in bs if not b.ticks or
                          b.ticks[-1][0] < last][:5])
    bad = [b.consecutive(starts.get(b)) for b in bs
           if b.consecutive(starts.get(b))]
    check("join: every browser's ticks are consecutive from its start",
          not bad, "; ".join(bad[:3]))
    check("join: snapshot first on every stream",
          all(b.frames and b.frames[0].get("kind") == "event" and
              b.frames[0]["envelope"]["payload"]["event"] == "snapshot"
              for b in bs))
    check("join: no diagnostics", not any(b.diags for b in bs),
          str([b.diags for b in bs if b.diags][:3]))
    socks = await wait_socks(a, 1)
    check("join: one runtime socket once joined", socks == 1,
          "%d runtime sockets" % socks)
    for b in bs:
        await b.close()


async def sc_drop(a):
    w = a.worker[0]
    bs = [Browser(a, w) for _ in range(a.conns)]
    check("drop: browsers open", await open_all(bs))
    await until(lambda: all(len(b.ticks) >= 3 for b in bs), 10)
    await wait_socks(a, 1)
    host, port = a.rt.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    c.request("POST", "/_control/drop-ws", "{}",
              {"Authorization": "Bearer " + a.token})
    c.getresponse().read()
    c.close()
    # The notice first (the drop takes effect some time after the call
    # returned), then 20 more ticks for everyone.
    await until(lambda: all("backend.upstream_reconnecting" in b.diags
                            for b in bs), 10)
    mark = max(b.ticks[-1][0] for b in bs) + 20
    ok = await until(lambda: all(b.ticks[-1][0] >= mark for b in bs), 15)
    check("drop: ticks go on after the drop", ok)
    bad = [b.consecutive() for b in bs if b.consecutive()]
    check("drop: no gap, no duplicate across the drop", not bad,
          "; ".join(bad[:3]))
    counts = [b.diags.count("backend.upstream_reconnecting") for b in bs]
    check("drop: upstream_reconnecting once per browser",
          all(c == 1 for c in counts), "counts %s" % counts)
    others = [d for b in bs for d in b.diags
              if d != "backend.upstream_reconnecting"]
    check("drop: no other diagnostic", not others, str(others[:3]))
    for b in bs:
        await b.close()


async def sc_slow(a):
    w = a.worker[0]
    fast = [Browser(a, w) for _ in range(3)]
    slow = Browser(a, w, read_delay=a.slow_delay, rcvbuf=16384)
    bs = fast + [slow]
    check("slow: browsers open", await open_all(bs))
    t0 = time.monotonic()
    emit(a, w, a.count)
    ok = await until(lambda: all(len(b.ticks) >= a.count for b in fast), 60)
    t_fast = time.monotonic() - t0
    check("slow: fast browsers got the %d-event burst" % a.count, ok)
    ok = await until(lambda: len(slow.ticks) >= a.count or slow.diags, 150)
    t_slow = time.monotonic() - t0
    nbytes = sum(len(json.dumps(f)) for f in slow.frames)
    print("# burst %d events, %.1f MiB to the slow browser; fast %.2f s, "
          "slow %.2f s" % (a.count, nbytes / 1048576.0, t_fast, t_slow))
    check("slow: the slow browser got every event", ok and
          len(slow.ticks) == a.count, "%d ticks, diags %s" %
          (len(slow.ticks), slow.diags))
    bad = [b.consecutive() for b in bs if b.consecutive()]
    check("slow: once each, in order, for everyone", not bad,
          "; ".join(bad[:3]))
    # The slow one cannot finish before count * delay; the fast ones are
    # done well before it (timings loose: the box is shared).
    check("slow: the fast ones were not held up by it",
          t_fast < t_slow * 0.8 and t_slow >= a.count * a.slow_delay,
          "fast %.2f s, slow %.2f s" % (t_fast, t_slow))
    check("slow: nobody was cut", not any(b.diags for b in bs),
          str([b.diags for b in bs]))
    for b in bs:
        await b.close()


async def sc_cut(a):
    w = a.worker[0]
    fast = [Browser(a, w) for _ in range(a.fast)]
    stuck = Browser(a, w, rcvbuf=8192)
    bs = fast + [stuck]
    check("cut: browsers open", await open_all(bs))
    stuck.stop_reading = True
    # Bursts of a.count (under the runtime's retention, so the shared
    # upstream keeps up), until the stuck one's position is far out of
    # the retention.
    total = 0
    ok = True
    for _ in range(a.rounds):
        emit(a, w, a.count)
        total += a.count
        if fast:
            ok = ok and await until(lambda: all(len(b.ticks) >= total
                                                for b in fast), 30)
        else:
            await asyncio.sleep(0.1)
    if fast:
        check("cut: the others got %d events meanwhile" % total, ok,
              "counts %s" % [len(b.ticks) for b in fast])
    else:
        # Alone on its worker, the stuck browser left the feed when its
        # queue filled; the feed lingers and closes. When it reads again
        # there is no feed: it must not start one from its expired
        # position (that feed would resync and carry on past the gap).
        await asyncio.sleep(a.linger + 1.5)
    stuck.stop_reading = False
    ok = await until(lambda: "backend.slow_consumer" in stuck.diags, 30)
    check("cut: the stuck browser is cut with backend.slow_consumer", ok,
          "diags %s, %d ticks, close code %s" % (
              stuck.diags, len(stuck.ticks), stuck.close_code))
    bad = [b.consecutive() for b in bs if b.consecutive()]
    check("cut: what it got before is in order, nothing twice", not bad,
          "; ".join(bad[:3]))
    check("cut: never resynced past its gap",
          "backend.resynced" not in stuck.diags, str(stuck.diags))
    if fast:
        check("cut: the others are not cut",
              not any(b.diags for b in fast), str([b.diags for b in fast]))
    for b in bs:
        await b.close()


async def sc_linger(a):
    w = a.worker[0]
    bs = [Browser(a, w) for _ in range(3)]
    check("linger: browsers open", await open_all(bs))
    check("linger: one runtime socket", await wait_socks(a, 1) == 1)
    for b in bs:
        await b.close()
    t0 = time.monotonic()
    n = await wait_socks(a, 0, timeout=a.linger + 5)
    t = time.monotonic() - t0
    check("linger: runtime socket closed after the last browser", n == 0,
          "%d left" % n)
    check("linger: not before the linger (%.1f s)" % a.linger,
          t >= a.linger * 0.8, "closed after %.2f s" % t)


def log_count(path, text):
    with open(path, errors="replace") as f:
        return f.read().count(text)


async def sc_reload(a):
    w = a.worker[0]
    old = [Browser(a, w) for _ in range(3)]
    check("reload: browsers before it open", await open_all(old))
    check("reload: one runtime socket before it", await wait_socks(a, 1) == 1)
    n0 = log_count(a.px_log, "config reloaded")
    os.kill(int(a.px_pid), signal.SIGHUP)
    check("reload: applied",
          await until(lambda: log_count(a.px_log, "config reloaded") > n0, 30))
    new = [Browser(a, w) for _ in range(3)]
    check("reload: browsers after it open", await open_all(new))
    # Each new browser starts on a connection of its own and then joins:
    # the count settles at one when they joined the kept upstream, at two
    # when the reload made them open a second one.
    n = await wait_socks(a, 1)
    await asyncio.sleep(0.5)
    n = rt_socks(a) if n == 1 else n
    check("reload: still one runtime socket after it", n == 1,
          "%d runtime sockets" % n)
    bs = old + new
    await burst_reaches_all(a, "reload", bs, [w])
    for b in bs:
        await b.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("scenario")
    p.add_argument("--px", required=True)
    p.add_argument("--rt", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--px-pid", required=True)
    p.add_argument("--runtime-id", required=True)
    p.add_argument("--worker", action="append", required=True)
    p.add_argument("--conns", type=int, default=10)
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--slow-delay", type=float, default=0.0005)
    p.add_argument("--linger", type=float, default=1.0)
    p.add_argument("--fast", type=int, default=2)
    p.add_argument("--px-log")
    a = p.parse_args()
    fn = globals()["sc_" + a.scenario]
    asyncio.run(asyncio.wait_for(fn(a), 200))
    sys.exit(0 if all(RESULTS) else 1)


if __name__ == "__main__":
    main()
