#!/usr/bin/python3
"""A hostile worker runtime for tests/integration/fcgi-memory.sh.

Answers GET .../v1/workers with a JSON body built to make a JSON parser
spend memory: many tiny values, empty objects or arrays, deep nesting,
many distinct keys, long strings, minimal valid workers, or valid workers
carrying long strings. The shape and
the size come from the runtime's base_url path, so one server serves every
case and wrg's registry picks one per runtime:

    http://127.0.0.1:PORT/SHAPE/CAP/BUDGET  ->  GET /SHAPE/CAP/BUDGET/v1/workers

The body is at most CAP bytes. With BUDGET > 0 it also stops before its
estimated json-c cost passes BUDGET, using the model documented in
docs/fcgi.md (lib/wjson.c wjson_cost): the largest body wrg still parses,
i.e. the worst case under the budget. GET .../v1/runtime answers a small
valid RuntimeSummary (for warm-up requests). Shape e404 answers 404 with an
error object plus the padding (the "unsupported or not?" path).
SHAPE-hold (say zeros-hold) sends all of SHAPE's 200 answer but its last
16 bytes, then the rest HOLD_S seconds later, so many answers can be
held in wrg.fcgi at once.

Usage: hostile_runtime.py READY_FILE   (writes the port there, then serves
on 127.0.0.1 until killed).
"""
import http.server
import os
import sys
import time

HOLD_S = 2.0

# The cost model of lib/wjson.c, per token outside strings.
COST_OBJECT, COST_ARRAY, COST_MEMBER = 800, 288, 64
COST_STRING, COST_SCALAR = 96, 112


def cost(text):
    c, i, n, prev = 0, 0, len(text), ""
    while i < n:
        ch = text[i]
        if ch == '"':
            c += COST_STRING
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
                c += 1
        elif ch == "{":
            c += COST_OBJECT
        elif ch == "[":
            c += COST_ARRAY
        elif ch == ":":
            c += COST_MEMBER
        elif ch in "-0123456789tfn" and prev in ("", ",", "[", ":"):
            c += COST_SCALAR
        if ch not in " \t\r\n":
            prev = ch
        i += 1
    return c


def nested(depth):
    return "[" * depth + "]" * depth


WORKER = ('{"worker_id":"w","status":"s",'
          '"worker_ref":{"worker_id":"w"}}')
# shape: (head, item(k) -> text, tail)
SHAPES = {
    "zeros": ('{"workers":[', lambda k: "0", "]}"),
    "objs": ('{"workers":[', lambda k: "{}", "]}"),
    "arrs": ('{"workers":[', lambda k: "[]", "]}"),
    # {"workers":[ is two levels; wrg parses at most 64.
    "nest": ('{"workers":[', lambda k: nested(60), "]}"),
    # Distinct keys (json-c keeps only the last of duplicates).
    "keys": ('{"workers":[],', lambda k: '"k%x":0' % k, "}"),
    "strs": ('{"workers":[],"s":[', lambda k: '"' + "x" * 16384 + '"', "]}"),
    "workers": ('{"workers":[', lambda k: WORKER, "]}"),
    # Valid workers carrying 16 KiB of text each: the largest answer
    # that is passed on (output side, multi-MiB aggregate body).
    "bigwork": ('{"workers":[', lambda k: WORKER[:-1] + ',"note":"' +
                "y" * 16384 + '"}', "]}"),
    "e404": ('{"error":{"code":"nope","message":"no"},"pad":[',
             lambda k: "{}", "]}"),
}

CACHE = {}


def body(shape, cap, budget):
    key = (shape, cap, budget)
    if key in CACHE:
        return CACHE[key]
    head, item, tail = SHAPES[shape]
    parts, size = [head], len(head) + len(tail)
    spent = cost(head) + cost(tail)
    k = 0
    while True:
        it = item(k)
        sep = "," if k else ""
        c = cost(it)
        if size + len(sep) + len(it) > cap:
            break
        if budget and spent + c > budget:
            break
        parts.append(sep + it)
        size += len(sep) + len(it)
        spent += c
        k += 1
    parts.append(tail)
    data = "".join(parts).encode()
    CACHE[key] = data
    return data


RUNTIME = (b'{"runtime":{"runtime_id":"hostile","display_name":null,'
           b'"backend":"memory","status":"running","worker_count":0,'
           b'"active_worker_count":0,"stopped_worker_count":0,'
           b'"cancelled_worker_count":0,"diagnostic_count":0,'
           b'"limits":{"max_transcript_projection_items":256}}}')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, data):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def answer_held(self, data):
        """All but the last bytes at once, the rest HOLD_S later: the
        answer sits in wrg.fcgi's buffer meanwhile."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:-16])
        self.wfile.flush()
        time.sleep(HOLD_S)
        self.wfile.write(data[-16:])

    def do_GET(self):
        parts = self.path.split("/")
        # ['', SHAPE[-hold], CAP, BUDGET, 'v1', ROUTE]
        held = len(parts) > 1 and parts[1].endswith("-hold")
        if held:
            parts[1] = parts[1][:-len("-hold")]
        if len(parts) != 6 or parts[4] != "v1" or parts[1] not in SHAPES:
            self.answer(404, b"")
            return
        if parts[5] == "runtime":
            self.answer(200, RUNTIME)
            return
        if parts[5] != "workers":
            self.answer(404, b"")
            return
        data = body(parts[1], int(parts[2]), int(parts[3]))
        if held:
            self.answer_held(data)
            return
        self.answer(404 if parts[1] == "e404" else 200, data)


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
