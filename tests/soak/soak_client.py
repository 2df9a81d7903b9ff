#!/usr/bin/python3
"""Load and accounting client of scripts/soak.sh (read that first).

Run with Debian's /usr/bin/python3 (python3-websockets 10.x). One process:
an asyncio loop for the browser sockets, plain threads (http.client with
keep-alive) for the REST clients.

Phases, coordinated with the driver's chaos loop through files in --dir:
  warm-up   every browser connects, REST runs, for --warmup seconds; then
            REST pauses, the first RSS/fd sample is taken, REST resumes
            and the file `load.on` is created (the chaos loop acts only
            while it exists);
  load      --duration seconds: REST mix, steady / slow / vanishing
            browsers; RSS/fds sampled every --sample seconds;
  calm      `load.on` is removed; the client waits for the chaos loop to
            write `calm.ok` (every runtime up again), stops REST and the
            vanishing, lets every browser reconnect;
  marker    one event is emitted on each watched worker (the runtime's
            /_control/emit); every browser must receive its worker's marker
            within --settle seconds (else it stalled);
  end       REST is quiet, every browser connected: the last RSS/fd sample;
            then the browsers close and the accounting is printed.

Exactly-once accounting: the runtimes run with --state-dir, whose
events.jsonl holds every event they ever emitted (written before it is
sent anywhere, so it is the truth even across SIGKILL). A browser watching
worker W from position P0 (the cursor of its first snapshot) up to F (the
marker, or anything later it saw) must receive every event of W in
(P0, F] exactly once, except the ranges the proxy declared lost with
`backend.resynced` (from the position to the fresh snapshot's cursor):
  delivered  distinct events received in (P0, F]
  lost       expected events never received
  dup        receptions beyond the first of an event
  disorder   an event older than the one before it (not a dup)
  gap        events inside declared resync gaps (not counted as lost)

Prints `SOAK ...` summary lines and exits 0 when nothing was lost or
duplicated, no browser stalled, no REST answer was untyped or unexpected,
no secret leaked, and RSS/fds of the --pid processes stayed within the
tolerance (--rss-tol-kb / --rss-tol-pct, --fd-tol NAME=N).
"""
import argparse
import asyncio
import collections
import http.client
import json
import os
import random
import resource
import sys
import threading
import time
import urllib.parse

import websockets

CLK = os.sysconf("SC_CLK_TCK")
CREATE = {"intent": {"kind": "task", "objective": "soak"},
          "profile": {"kind": "runtime_default"}}


T0 = time.monotonic()


def log(msg):
    print("soak-client: %6.1f s: %s" % (time.monotonic() - T0, msg),
          file=sys.stderr, flush=True)


# ---- process figures -------------------------------------------------------

def proc_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def proc_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def self_cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def sample(pids):
    """{name: (rss_kb, fds)} for every watched process."""
    out = {}
    for name, pid in pids.items():
        try:
            out[name] = (proc_rss_kb(pid), proc_fds(pid))
        except OSError:
            out[name] = (-1, -1)
    return out


# ---- REST -----------------------------------------------------------------

class Rest(threading.Thread):
    """One REST client: a keep-alive connection to the web server and a
    weighted mix of the browser API's routes. Every answer is classified
    as (status, error code) and checked against what that call may answer:
    its success, the errors a runtime outage causes, or the typed error a
    deliberately bad request must get."""

    # Errors a killed / restarting runtime may cause on any upstream call:
    # refused or reset (unreachable), too slow (timeout), or SIGKILLed in
    # the middle of its answer — a cut body (curl's CURLE_PARTIAL_FILE) is
    # a malformed answer to wrg (runtime_bad_response).
    OUTAGE = {"runtime_unreachable", "runtime_timeout", "runtime_bad_response"}

    def __init__(self, idx, args, watched, ctl):
        super().__init__(daemon=True)
        self.idx = idx
        self.args = args
        self.watched = watched
        self.ctl = ctl
        self.rng = random.Random(args.seed * 1000 + idx)
        self.counts = collections.Counter()    # (label, status, code)
        self.unexpected = collections.Counter()
        self.leaks = 0
        self.diag = collections.Counter()      # /api/workers diagnostics
        self.created = []                      # (rt, worker) still running
        self.done = []                         # (rt, worker) stopped
        self.created_total = 0
        self.last_create = 0.0
        self.conn = None
        self.requests = 0

    def http(self, method, path, body=None, ctype="application/json"):
        # wrg wants a JSON Content-Type on every POST, bodiless ones too.
        hdrs = {"Content-Type": ctype} if method == "POST" else {}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.args.host, self.args.port, timeout=15)
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, data, r.getheaders()
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as e:
                # A kept-alive connection the server closed between two
                # requests: retry once on a new one (what browsers do).
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    return None, type(e).__name__, []
            except (OSError, http.client.HTTPException) as e:
                self.conn.close()
                self.conn = None
                return None, type(e).__name__, []
        return None, "unreachable", []

    def call(self, label, method, path, ok, allowed, body=None,
             ctype="application/json"):
        """One request; returns the parsed JSON body on `ok`, else None."""
        if isinstance(body, dict):
            body = json.dumps(body)
        status, data, hdrs = self.http(method, path, body, ctype)
        self.requests += 1
        if status is None:
            self.counts[(label, "transport", data)] += 1
            self.unexpected[(label, "transport", data)] += 1
            return None
        for s in self.args.secrets:
            if s.encode() in data or any(s in v for _, v in hdrs):
                self.leaks += 1
                log("LEAK of a secret in %s %s" % (method, path))
        code = "-"
        obj = None
        try:
            obj = json.loads(data)
        except ValueError:
            code = "untyped"
        if status >= 300 and obj is not None:
            try:
                code = obj["error"]["code"]
                if not isinstance(code, str):
                    code = "untyped"
            except (KeyError, TypeError):
                code = "untyped"
        self.counts[(label, status, code)] += 1
        if status == ok and obj is not None:
            return obj
        if code not in allowed:
            self.unexpected[(label, status, code)] += 1
        return None

    def pick_watched(self):
        return self.rng.choice(self.watched)

    def one(self):
        a = self.args.api
        rt, w = self.pick_watched()
        rts = sorted({r for r, _ in self.watched})
        wpath = "%s/runtimes/%s/workers/%s" % (a, rt, urllib.parse.quote(w))
        out = self.OUTAGE
        x = self.rng.random()
        if x < 0.05:
            self.call("health", "GET", a + "/health", 200, set())
        elif x < 0.15:
            obj = self.call("list all", "GET", a + "/workers", 200, set())
            if obj:
                for d in obj.get("diagnostics", []):
                    self.diag[d.get("code")] += 1
        elif x < 0.20:
            self.call("runtimes", "GET", a + "/runtimes", 200, set())
        elif x < 0.30:
            self.call("list rt", "GET", "%s/runtimes/%s/workers" % (a, rt),
                      200, out)
        elif x < 0.55:
            self.call("get", "GET", wpath, 200, out)
        elif x < 0.60:
            self.call("transcript", "GET",
                      wpath + "/transcript?start=0&limit=20", 200, out)
        elif x < 0.75:
            self.call("input", "POST", wpath + "/input", 200, out,
                      {"kind": "user", "content": "soak %d" % self.requests})
        elif x < 0.90:
            self.lifecycle(rts)
        else:
            self.bad(rt, w)

    def lifecycle(self, rts):
        """Create (at most one per --create-every seconds and
        --max-creates in all per client), talk to, then stop or cancel
        workers of our own; never the watched ones. A failed stop is
        retried later, so none keeps running. Once stopped, a worker
        gets stop/cancel again (idempotent: 200) and input (refused by
        the runtime: 409 runtime_rejected).

        Creates are capped because the sample runtime never forgets a
        worker: each one makes every later list answer bigger, and
        wrg.fcgi's RSS follows (its threads' malloc arenas keep the high
        water of the biggest answer), which is growth of the data, not
        of the process."""
        a = self.args.api
        now = time.monotonic()
        if self.created_total < self.args.max_creates and \
                now - self.last_create >= self.args.create_every:
            self.last_create = now
            rt = self.rng.choice(rts)
            obj = self.call("create", "POST", "%s/runtimes/%s/workers"
                            % (a, rt), 201, self.OUTAGE, CREATE)
            if obj:
                self.created.append((rt, obj["worker"]["worker_id"]))
                self.created_total += 1
            return
        if not self.created:
            if self.done:
                self.again(self.rng.choice(self.done))
            return
        rt, w = self.created[0]
        p = "%s/runtimes/%s/workers/%s" % (a, rt, urllib.parse.quote(w))
        if self.rng.random() < 0.5:
            self.call("input own", "POST", p + "/input", 200, self.OUTAGE,
                      {"kind": "user", "content": "hello"})
            return
        op = self.rng.choice(("stop", "cancel"))
        if self.call(op, "POST", "%s/%s" % (p, op), 200, self.OUTAGE,
                     {"reason": "soak"}) is not None:
            self.done.append(self.created.pop(0))

    def again(self, ref):
        rt, w = ref
        p = "%s/runtimes/%s/workers/%s" % (self.args.api, rt,
                                           urllib.parse.quote(w))
        if self.rng.random() < 0.5:
            self.call("input stopped", "POST", p + "/input", 409,
                      self.OUTAGE | {"runtime_rejected"},
                      {"kind": "user", "content": "late"})
        else:
            op = self.rng.choice(("stop", "cancel"))
            self.call(op + " again", "POST", "%s/%s" % (p, op), 200,
                      self.OUTAGE, {})

    def bad(self, rt, w):
        """Bad input must get its typed error, chaos or not (the checks
        before any upstream call) — or an outage error for the one that
        needs the runtime to say no."""
        a = self.args.api
        wpath = "%s/runtimes/%s/workers/%s" % (a, rt, urllib.parse.quote(w))
        k = self.rng.randrange(5)
        if k == 0:
            self.call("bad runtime", "GET", a + "/runtimes/nope/workers/x",
                      404, {"runtime_not_found"})
        elif k == 1:
            self.call("bad worker", "GET", "%s/runtimes/%s/workers/"
                      "worker-ffffffff" % (a, rt), 404,
                      {"worker_not_found"} | self.OUTAGE)
        elif k == 2:
            self.call("bad json", "POST", wpath + "/input", 400,
                      {"invalid_json"}, "{not json")
        elif k == 3:
            # 257 bytes: one more than a worker id may have (lib/ids.h).
            self.call("bad id", "GET", "%s/runtimes/%s/workers/%s"
                      % (a, rt, "w" * 257), 400, {"invalid_request"})
        else:
            self.call("bad type", "POST", wpath + "/input", 415,
                      {"unsupported_media_type"}, "x", "text/plain")

    def run(self):
        period = 1.0 / self.args.rest_rate if self.args.rest_rate > 0 else 0
        nxt = time.monotonic()
        while not self.ctl.stop.is_set():
            if not self.ctl.go.is_set():
                if self.conn is not None:
                    self.conn.close()
                    self.conn = None
                self.ctl.idle.add(self.idx)
                self.ctl.go.wait(0.2)
                continue
            self.ctl.idle.discard(self.idx)
            self.one()
            nxt += period
            d = nxt - time.monotonic()
            if d > 0:
                time.sleep(d)
            else:
                nxt = time.monotonic()
        if self.conn is not None:
            self.conn.close()
        self.ctl.idle.add(self.idx)


class RestCtl:
    def __init__(self):
        self.stop = threading.Event()
        self.go = threading.Event()
        self.idle = set()


# ---- browsers -------------------------------------------------------------

def seq_of(cursor):
    return int(cursor[3:], 16)


class Browser:
    """One browser socket (reconnected as needed) watching one worker."""

    def __init__(self, idx, kind, rt, worker, args, rng):
        self.name = "b%02d" % idx
        self.kind = kind
        self.rt = rt
        self.worker = worker
        self.args = args
        self.rng = rng
        self.url = "ws://%s:%d%s/runtimes/%s/workers/%s/events/ws" % (
            args.host, args.port, args.api, rt, urllib.parse.quote(worker))
        self.pos = None           # cursor of the last event (or snapshot)
        self.first = None         # P0 (seq)
        self.last_seq = 0
        self.got = collections.Counter()
        self.disorder = 0
        self.foreign = 0          # an event of another worker / runtime id
        self.gaps = []            # (after_seq, upto_seq] declared lost
        self.diags = collections.Counter()
        self.ends = collections.Counter()   # how connections ended
        self.connects = 0
        self.snapshots = 0
        self.vanishes = 0
        self.leaks = 0
        self.connected = False
        self.last_rx = time.monotonic()   # when the last frame came
        # A slow reader reads slowly until the calm phase, then catches up
        # like a tab brought back to the front: the markers check what it
        # got, not how fast it drains what lighttpd buffered for it.
        self.slow_on = kind == "slow"
        self.lag = None           # slow: runtime events behind at calm
        # Vanishing happens in the load phase only, so both RSS/fd
        # samples see every browser connected.
        self.vanish_on = False
        self.resync = False
        self.stop = False

    def on_frame(self, text, gave_cursor, st):
        for s in self.args.secrets:
            if s in text:
                self.leaks += 1
        obj = json.loads(text)
        if obj.get("kind") == "diagnostic":
            code = obj["diagnostic"]["code"]
            self.diags[code] += 1
            if code == "backend.resynced":
                self.resync = True
            return
        env = obj["envelope"]
        if env.get("worker_id") != self.worker or env.get("runtime_id") != self.rt:
            self.foreign += 1
        cur = env["cursor"]
        if env["payload"].get("event") == "snapshot" and \
                env["event_id"].startswith("snapshot:"):
            self.snapshots += 1
            if self.resync:
                # The proxy declared (position, snapshot] lost.
                self.gaps.append((self.last_seq, seq_of(cur)))
                self.resync = False
                self.pos, self.last_seq = cur, seq_of(cur)
            elif not gave_cursor and not st["snap"]:
                # No cursor given: the snapshot is the starting point.
                self.pos, self.last_seq = cur, seq_of(cur)
                if self.first is None:
                    self.first = self.last_seq
            st["snap"] = True
            return
        seq = seq_of(cur)
        if self.got[seq]:
            pass                  # counted as a dup at the end
        elif seq < self.last_seq:
            self.disorder += 1
        self.got[seq] += 1
        self.pos = cur
        self.last_seq = max(self.last_seq, seq)

    async def session(self):
        url = self.url
        gave = self.pos is not None
        if gave:
            url += "?cursor=" + urllib.parse.quote(self.pos)
        st = {"snap": False}
        # Python's websockets pings would close a slow reader on its own
        # schedule; the proxy's pings (ping_interval_s) do that job.
        async with websockets.connect(
                url, ping_interval=None, open_timeout=10, close_timeout=2,
                max_queue=4 if self.kind == "slow" else 32,
                read_limit=2 ** 14 if self.kind == "slow" else 2 ** 16,
                max_size=2 ** 22) as ws:
            self.connects += 1
            self.connected = True
            vanish_at = time.monotonic() + self.rng.uniform(2, 10)
            stall_at = time.monotonic() + self.rng.uniform(5, 15)
            try:
                while not self.stop:
                    now = time.monotonic()
                    if self.vanish_on and now >= vanish_at:
                        self.vanishes += 1
                        if self.rng.random() < 0.7:
                            ws.transport.abort()      # gone: no close frame
                            self.ends["vanished (abort)"] += 1
                        else:
                            await ws.close()
                            self.ends["vanished (close)"] += 1
                        return
                    if self.slow_on and now >= stall_at:
                        # A stalled tab: read nothing for a while.
                        await asyncio.sleep(self.rng.uniform(1, 4))
                        stall_at = time.monotonic() + self.rng.uniform(5, 15)
                    try:
                        text = await asyncio.wait_for(ws.recv(), 0.5)
                    except asyncio.TimeoutError:
                        continue
                    self.last_rx = time.monotonic()
                    self.on_frame(text, gave, st)
                    if self.slow_on:
                        await asyncio.sleep(self.args.slow_ms / 1000)
                if self.stop:
                    await ws.close()
            finally:
                self.connected = False

    async def run(self):
        while not self.stop:
            try:
                await self.session()
            except websockets.ConnectionClosed as e:
                self.ends["closed %s" % (e.rcvd.code if e.rcvd else "no frame")] += 1
            except (OSError, asyncio.TimeoutError,
                    websockets.InvalidHandshake) as e:
                self.ends["connect failed: %s" % type(e).__name__] += 1
            self.connected = False
            if self.stop:
                break
            if self.kind == "vanish" and self.vanish_on:
                await asyncio.sleep(self.rng.uniform(0.1, 3))
            else:
                await asyncio.sleep(self.rng.uniform(0.1, 0.5))

    def account(self, emitted, final):
        """(expected, delivered, lost, dup, gap) against the runtime log."""
        gapset = set()
        lo = self.first if self.first is not None else 0
        hi = max(final, self.last_seq)
        mine = [s for s in emitted if lo < s <= hi]
        for a, b in self.gaps:
            gapset.update(s for s in mine if a < s <= b)
        expected = set(mine) - gapset
        delivered = sum(1 for s in self.got if s in expected)
        lost = len(expected) - delivered
        dup = sum(c - 1 for c in self.got.values())
        stray = sum(1 for s in self.got if s not in expected and s not in gapset)
        return len(expected), delivered, lost, dup, len(gapset), stray


# ---- runtime side -----------------------------------------------------------

def ctl_post(rt, path, body):
    """POST to a runtime's control endpoint (test hook), -> JSON."""
    hdrs = {"Content-Type": "application/json"}
    if rt["token"]:
        hdrs["Authorization"] = "Bearer " + rt["token"]
    if rt["addr"].startswith("unix:"):
        import socket

        class UConn(http.client.HTTPConnection):
            def connect(self):
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(self.timeout)
                self.sock.connect(rt["addr"][5:])
        c = UConn("localhost", timeout=10)
    else:
        h, p = rt["addr"].rsplit(":", 1)
        c = http.client.HTTPConnection(h, int(p), timeout=10)
    try:
        c.request("POST", path, body=json.dumps(body), headers=hdrs)
        r = c.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        c.close()


def read_log(path):
    """{worker_id: [seq, ...]} from a runtime's events.jsonl."""
    out = collections.defaultdict(list)
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                break             # torn by SIGKILL: never sent
            rec = json.loads(line)
            out[rec["worker_id"]].append(rec["seq"])
    return out


# ---- the run ----------------------------------------------------------------

def seq_now(b):
    """The newest sequence of b's runtime among what any browser saw."""
    return max(x.last_seq for x in b.peers)


async def wait_until(pred, limit, step=0.1):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if pred():
            return True
        await asyncio.sleep(step)
    return pred()


async def main_async(args):
    rts = {}
    for spec in args.runtime:
        # NAME=ADDR,EVENTS_FILE   (token from $SOAK_TOKEN_NAME)
        name, rest = spec.split("=", 1)
        addr, events = rest.split(",", 1)
        rts[name] = {"addr": addr, "events": events,
                     "token": os.environ.get("SOAK_TOKEN_" + name, "")}
    watched = []
    for spec in args.watch:
        rt, w = spec.split(":", 1)
        watched.append((rt, w))
    pids = {}
    for spec in args.pid:
        n, p = spec.split("=", 1)
        pids[n] = int(p)

    kinds = (["steady"] * args.steady + ["slow"] * args.slow +
             ["vanish"] * args.vanish)
    browsers = []
    for i, kind in enumerate(kinds):
        rt, w = watched[i % len(watched)]
        browsers.append(Browser(i + 1, kind, rt, w, args,
                                random.Random(args.seed * 7919 + i)))
    for b in browsers:
        b.peers = [x for x in browsers if x.rt == b.rt]
    # Phase files
    d = args.dir
    load_on = os.path.join(d, "load.on")
    calm_ok = os.path.join(d, "calm.ok")

    cpu0 = self_cpu_s()
    tasks = [asyncio.ensure_future(b.run()) for b in browsers]
    ok = await wait_until(lambda: all(b.snapshots > 0 for b in browsers), 30)
    if not ok:
        log("not every browser got its first snapshot within 30 s")
    ctl = RestCtl()
    rest = [Rest(i, args, watched, ctl) for i in range(args.rest_clients)]
    for r in rest:
        r.start()
    ctl.go.set()

    async def quiet_sample():
        """REST paused and drained, every browser connected: a sample."""
        ctl.go.clear()
        await wait_until(lambda: len(ctl.idle) == len(rest), 20)
        await wait_until(lambda: all(b.connected for b in browsers), 20)
        await asyncio.sleep(1.0)
        s = sample(pids)
        return s

    log("browsers connected; warm-up %d s" % args.warmup)
    await asyncio.sleep(args.warmup)
    start = await quiet_sample()
    samples = [(0, start)]
    cpu_procs0 = {n: proc_cpu_s(p) for n, p in pids.items()}
    tload0 = time.monotonic()
    cpu_self0 = self_cpu_s()
    req0 = sum(r.requests for r in rest)
    for b in browsers:
        b.vanish_on = b.kind == "vanish"
    open(load_on, "w").close()
    ctl.go.set()
    log("load phase: %d s" % args.duration)
    tend = tload0 + args.duration
    nexts = tload0 + args.sample
    while time.monotonic() < tend:
        await asyncio.sleep(min(1.0, max(0.0, tend - time.monotonic())))
        if time.monotonic() >= nexts and time.monotonic() < tend - 1:
            samples.append((round(time.monotonic() - tload0), sample(pids)))
            nexts += args.sample
    cpu_self1 = self_cpu_s()
    cpu_procs1 = {}
    for n, p in pids.items():
        try:
            cpu_procs1[n] = proc_cpu_s(p)
        except OSError:
            cpu_procs1[n] = cpu_procs0[n]
    tload1 = time.monotonic()
    req1 = sum(r.requests for r in rest)
    os.unlink(load_on)
    log("load phase over; waiting for calm")
    calm = await wait_until(lambda: os.path.exists(calm_ok), 60)
    if not calm:
        log("the chaos loop did not report calm within 60 s")
    ctl.go.clear()
    for b in browsers:
        b.vanish_on = False
        if b.slow_on:
            b.lag = seq_now(b) - b.last_seq
        b.slow_on = False
    await wait_until(lambda: len(ctl.idle) == len(rest), 20)
    await wait_until(lambda: all(b.connected for b in browsers), 20)

    log("calm; browsers connected: %d of %d"
        % (sum(b.connected for b in browsers), len(browsers)))
    # Markers: one event per watched worker, then everyone must see it.
    final = {}
    for rt, w in watched:
        try:
            st, obj = ctl_post(rts[rt], "/_control/emit",
                               {"worker_id": w, "count": 1})
            final[(rt, w)] = obj["last_event_id"] if st == 200 else 0
        except (OSError, ValueError, KeyError, TypeError) as e:
            log("marker on %s/%s failed: %s" % (rt, w, e))
            final[(rt, w)] = 0
    reached = await wait_until(
        lambda: all(b.last_seq >= final[(b.rt, b.worker)] for b in browsers),
        args.settle)
    stalled = [b.name for b in browsers
               if b.last_seq < final[(b.rt, b.worker)]]
    for b in browsers:
        if b.name in stalled:
            log("%s stalled: %s, last event %d, marker %d, last frame %.1f s "
                "ago, %d connections" % (
                    b.name, "connected" if b.connected else "not connected",
                    b.last_seq, final[(b.rt, b.worker)],
                    time.monotonic() - b.last_rx, b.connects))
    log("markers %s" % ("reached" if reached else "NOT reached"))
    await asyncio.sleep(0.5)
    end = await quiet_sample()
    samples.append((round(time.monotonic() - tload0), end))
    ctl.stop.set()
    for b in browsers:
        b.stop = True
    await asyncio.wait(tasks, timeout=10)
    for r in rest:
        r.join(5)
    cpu_self_total = self_cpu_s() - cpu0

    # ---- accounting ------------------------------------------------------
    logs = {n: read_log(r["events"]) for n, r in rts.items()}
    fails = []
    if not reached:
        fails.append("stalled browsers: %s" % " ".join(stalled))
    print("SOAK browsers (events of the watched worker, from the first "
          "snapshot to the marker)")
    print("%-4s %-7s %-24s %5s %5s %8s %5s %4s %4s %4s %5s %5s  %s" % (
        "", "kind", "worker", "conns", "snaps", "expected", "deliv",
        "lost", "dup", "ooo", "gap", "stray", "diagnostics / connection ends"))
    tot = collections.Counter()
    for b in browsers:
        emitted = logs[b.rt].get(b.worker, [])
        exp, dl, lost, dup, gap, stray = b.account(
            emitted, final[(b.rt, b.worker)])
        tot.update({"expected": exp, "delivered": dl, "lost": lost,
                    "dup": dup, "gap": gap, "stray": stray,
                    "ooo": b.disorder, "foreign": b.foreign,
                    "leaks": b.leaks, "vanishes": b.vanishes,
                    "conns": b.connects})
        notes = ", ".join("%s %d" % (k.replace("backend.", ""), v)
                          for k, v in sorted(b.diags.items()))
        ends = ", ".join("%s %d" % kv for kv in sorted(b.ends.items()))
        if b.lag is not None:
            ends += "%sbehind by %d runtime events at calm" % (
                "; " if ends else "", b.lag)
        print("%-4s %-7s %-24s %5d %5d %8d %5d %4d %4d %4d %5d %5d  %s" % (
            b.name, b.kind, "%s/%s" % (b.rt, b.worker), b.connects,
            b.snapshots, exp, dl, lost, dup, b.disorder, gap, stray,
            "; ".join(x for x in (notes, ends) if x) or "-"))
        for code in b.diags:
            if code not in ("backend.upstream_reconnecting",
                            "backend.resynced", "backend.slow_consumer"):
                fails.append("%s got %s" % (b.name, code))
    print("SOAK events: expected %(expected)d delivered %(delivered)d "
          "lost %(lost)d duplicated %(dup)d out-of-order %(ooo)d "
          "declared-gap %(gap)d stray %(stray)d foreign %(foreign)d "
          "(connections %(conns)d, vanishes %(vanishes)d)" % tot)
    for k in ("lost", "dup", "ooo", "stray", "foreign"):
        if tot[k]:
            fails.append("events %s: %d" % (k, tot[k]))

    counts = collections.Counter()
    unexpected = collections.Counter()
    diag = collections.Counter()
    leaks = tot["leaks"]
    nreq = 0
    created = stopped_left = 0
    for r in rest:
        counts.update(r.counts)
        unexpected.update(r.unexpected)
        diag.update(r.diag)
        leaks += r.leaks
        nreq += r.requests
        created += r.created_total
        stopped_left += len(r.created)
    secs = tload1 - tload0
    by_code = collections.Counter()
    for (label, st, code), n in counts.items():
        by_code[(st, code)] += n
    print("SOAK rest: %d requests (%.0f/s in the load phase); %d workers "
          "created, %d of them not yet stopped" % (
              nreq, (req1 - req0) / secs, created, stopped_left))
    print("SOAK rest by status/code: " + ", ".join(
        "%s %s %d" % (st, code, n) for (st, code), n in
        sorted(by_code.items(), key=lambda kv: str(kv[0]))))
    for (label, st, code), n in sorted(counts.items(), key=str):
        print("SOAK rest   %-12s %-9s %-26s %6d%s" % (
            label, st, code, n,
            "  UNEXPECTED" if (label, st, code) in unexpected else ""))
    if diag:
        print("SOAK rest: /api/workers diagnostics: " + ", ".join(
            "%s %d" % kv for kv in sorted(diag.items())))
    if unexpected:
        fails.append("unexpected REST answers: %d" % sum(unexpected.values()))
    if leaks:
        fails.append("secrets in browser-visible bytes: %d" % leaks)

    print("SOAK rss/fds (VmRSS kB / open fds; t=0 after %d s warm-up, "
          "REST paused, every browser connected)" % args.warmup)
    names = list(pids)
    print("SOAK   t(s) " + " ".join("%18s" % n for n in names))
    for t, s in samples:
        print("SOAK %6d " % t + " ".join(
            "%11d / %4d" % s[n] for n in names))
    for n in names:
        r0, f0 = start[n]
        r1, f1 = end[n]
        tol = args.rss_tol.get(n, max(args.rss_tol_kb,
                                      r0 * args.rss_tol_pct / 100))
        ftol = args.fd_tol.get(n, 0)
        verdict = "ok"
        if r1 < 0 or r0 < 0:
            verdict = "GONE"
            fails.append("%s is gone" % n)
        else:
            if r1 - r0 > tol:
                verdict = "RSS GREW"
                fails.append("%s RSS %d -> %d kB (tolerance %d kB)" % (
                    n, r0, r1, tol))
            if f1 - f0 > ftol:
                verdict = "FDS GREW"
                fails.append("%s fds %d -> %d (tolerance %d)" % (
                    n, f0, f1, ftol))
        print("SOAK %s: start %d kB %d fds, end %d kB %d fds "
              "(RSS %+d kB, tolerance %d kB; fds %+d, tolerance %d): %s" % (
                  n, r0, f0, r1, f1, r1 - r0, tol, f1 - f0, ftol, verdict))
    cpu = ", ".join("%s %.0f%%" % (n, 100 * (cpu_procs1[n] - cpu_procs0[n])
                                    / secs) for n in names)
    print("SOAK cpu during load (%% of one core): %s, this client %.0f%% "
          "(%.0f s CPU over the whole run)" % (
              cpu, 100 * (cpu_self1 - cpu_self0) / secs, cpu_self_total))
    for f in fails:
        print("SOAK FAIL: %s" % f)
    print("SOAK result: %s" % ("PASS" if not fails else "FAIL"))
    return 0 if not fails else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True, help="web server port")
    p.add_argument("--api", default="/api")
    p.add_argument("--dir", required=True, help="phase files live here")
    p.add_argument("--duration", type=int, default=180)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--settle", type=int, default=30)
    p.add_argument("--sample", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--steady", type=int, default=4)
    p.add_argument("--slow", type=int, default=4)
    p.add_argument("--vanish", type=int, default=4)
    p.add_argument("--slow-ms", type=int, default=40)
    p.add_argument("--rest-clients", type=int, default=4)
    p.add_argument("--rest-rate", type=float, default=25)
    p.add_argument("--create-every", type=float, default=10)
    p.add_argument("--max-creates", type=int, default=5)
    p.add_argument("--runtime", action="append", default=[],
                   help="NAME=ADDR,EVENTS_FILE (ADDR host:port or unix:path)")
    p.add_argument("--watch", action="append", default=[],
                   help="RUNTIME:WORKER_ID")
    p.add_argument("--pid", action="append", default=[], help="NAME=PID")
    p.add_argument("--rss-tol-kb", type=int, default=4096)
    p.add_argument("--rss-tol-pct", type=float, default=10)
    p.add_argument("--fd-tol", action="append", default=[], help="NAME=N")
    p.add_argument("--rss-tol", action="append", default=[],
                   help="NAME=KB, instead of the general rule")
    args = p.parse_args()
    args.fd_tol = {k: int(v) for k, v in
                   (s.split("=", 1) for s in args.fd_tol)}
    args.rss_tol = {k: int(v) for k, v in
                    (s.split("=", 1) for s in args.rss_tol)}
    # Secrets (tokens, runtime addresses, socket paths) come through the
    # environment, one per line, so they are not on a command line.
    args.secrets = [s for s in os.environ.get("SOAK_SECRETS", "").split("\n")
                    if s]
    if not args.watch or not args.runtime:
        p.error("need --runtime and --watch")
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
