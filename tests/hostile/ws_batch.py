#!/usr/bin/python3
"""ws_batch.py — many WebSocket browsers at once, in one process.

tests/integration/hostile.sh runs a dozen browser connections per group of
hostile modes; one Python process each costs seconds of start-up on a busy
machine, so this runs them concurrently in one event loop with the reader
of tests/integration/wsproxy_client.py (same output files and format:
one line per text frame, "#binary", and a final "#close CODE REASON",
"#http STATUS", "#done", "#timeout" or "#error"), then judges them.

    ws_batch.py DIR SPECFILE

SPECFILE has one case per line, fields separated by TABs:
    NAME  URL  TIMEOUT  OPTIONS  EXPR...
OPTIONS is "-" or comma-separated key=value of wsproxy_client's read
options (max_events, until_ticks). Frames go to DIR/ws-NAME.txt, every
browser-visible byte to DIR/ws-NAME.cap. Afterwards each EXPR (Python) is
evaluated over the case's frames with these names: events (the event
envelopes), diags (the diagnostic codes), status (the last '#' line),
mode (NAME). Prints one line per case: NAME and a 1 or 0 per EXPR; a case
with a 0 also gets a summary line on stderr. Run with /usr/bin/python3.
"""
import argparse
import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import wsproxy_client  # noqa: E402


def judge(path, name, exprs):
    frames, status = [], "#none"
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        if line == "#binary":
            frames.append({"kind": "binary"})
        elif line.startswith("#"):
            status = line
        elif line:
            try:
                frames.append(json.loads(line))
            except ValueError:
                frames.append({"kind": "unparsable"})
    env = {
        "events": [f.get("envelope", {}) for f in frames
                   if isinstance(f, dict) and f.get("kind") == "event"],
        "diags": [f.get("diagnostic", {}).get("code") for f in frames
                  if isinstance(f, dict) and f.get("kind") == "diagnostic"],
        "status": status, "mode": name, "frames": frames}
    out = []
    for e in exprs:
        try:
            out.append("1" if eval(e, dict(env)) else "0")
        except Exception:
            out.append("0")
    if "0" in out:
        print("  %s: %d events, diagnostics %s, end %r"
              % (name, len(env["events"]), env["diags"][:6], status),
              file=sys.stderr)
    return out


async def run(cases):
    await asyncio.gather(*(wsproxy_client._read(a) for _, a, _ in cases))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("spec")
    a = ap.parse_args()
    cases = []
    with open(a.spec) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            name, url, timeout, opts, *exprs = line.split("\t")
            o = dict(url=url, origin=None, max_events=0, until_ticks=0,
                     timeout=float(timeout), pause_after=0, pause=0,
                     read_delay=0, send=None, rcvbuf=0, unix=None,
                     out=os.path.join(a.dir, "ws-%s.txt" % name),
                     capture=os.path.join(a.dir, "ws-%s.cap" % name))
            if opts != "-":
                for kv in opts.split(","):
                    k, v = kv.split("=", 1)
                    o[k] = int(v)
            for p in (o["out"], o["capture"]):
                open(p, "w").close()
            cases.append((name, argparse.Namespace(**o), exprs))
    asyncio.run(run(cases))
    for name, args, exprs in cases:
        print(" ".join([name] + judge(args.out, name, exprs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
