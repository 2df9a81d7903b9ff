#!/bin/bash
# fcgi-shutdown.sh — SIGTERM lets in-flight requests finish (issue 12
# item 4). A small FastCGI client (Python, the protocol's records by hand:
# no web server buffers the body for us) sends a create-worker POST whose
# body trickles in over ~1.5 s; wrg.fcgi gets SIGTERM after the first
# piece. The request must complete with the runtime's 201 and the whole
# body (before: the shutdown loop sent SIGUSR1 to busy threads every
# 20 ms, libfcgi's read failed with EINTR and the body ended short). A
# read error on the connection must be an error, never a short body: a
# client that dies mid-body gets no worker created.
. "${top_srcdir:?}/tests/lib.sh"

FCGI=$top_builddir/src/wrg.fcgi
RT=$top_builddir/tests/sample-runtime/wrg-sample-runtime
PY=${PYTHON3_SYS:-/usr/bin/python3}
[ -x "$FCGI" ] || t_skip "wrg.fcgi not built"
[ -x "$RT" ] || t_skip "wrg-sample-runtime not built"

t_start_runtime rt --state-dir "$T_DIR/rt-state" || exit 1
RT_PORT=$rt_PORT
cat >"$T_DIR/wrg.conf" <<EOF
{"fcgi": {"threads": 2},
 "runtimes": [{"id": "rt", "base_url": "http://127.0.0.1:$RT_PORT"}]}
EOF

cat >"$T_DIR/client.py" <<'EOF'
import json, os, socket, struct, sys, time
sock_path, mode, flag = sys.argv[1], sys.argv[2], sys.argv[3]
body = json.dumps({"intent": {"kind": "task", "objective": "shutdown"},
                   "profile": {"kind": "runtime_default"}}).encode()
body += b" " * (4000 - len(body))          # trickled in 10 pieces
def rec(t, content):
    return struct.pack(">BBHHBx", 1, t, 1, len(content), 0) + content
def nv(k, v):
    k, v = k.encode(), v.encode()
    return bytes([len(k)]) + bytes([len(v)]) + k + v if len(v) < 128 \
        else bytes([len(k)]) + struct.pack(">I", len(v) | 1 << 31) + k + v
params = b"".join(nv(k, v) for k, v in [
    ("REQUEST_METHOD", "POST"), ("REQUEST_URI", "/api/runtimes/rt/workers"),
    ("CONTENT_TYPE", "application/json"),
    ("CONTENT_LENGTH", str(len(body)))])
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sock_path)
s.sendall(rec(1, struct.pack(">HB5x", 1, 0)) + rec(4, params) + rec(4, b""))
step = len(body) // 10
for i in range(10):
    s.sendall(rec(5, body[i * step:(i + 1) * step]))
    if i == 0:
        open(flag, "w").close()          # the test sends SIGTERM now
    if mode == "die" and i == 4:
        s.close()                        # gone mid-body
        sys.exit(0)
    time.sleep(0.15)
s.sendall(rec(5, b""))
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
stdout = b""
while len(out) >= 8:
    _, t, _, n, pad = struct.unpack(">BBHHBx", out[:8])
    if t == 6:
        stdout += out[8:8 + n]
    out = out[8 + n + pad:]
print(stdout.split(b"\r\n", 1)[0].decode())
print(stdout.split(b"\r\n\r\n", 1)[-1].decode())
EOF

start_fcgi() {
	rm -f "$T_DIR/fcgi.sock"
	"$FCGI" -c "$T_DIR/wrg.conf" -s "unix:$T_DIR/fcgi.sock" \
	    2>>"$T_DIR/fcgi.log" &
	FPID=$!
	t_track "$FPID"
	t_wait_unix "$T_DIR/fcgi.sock"
}
workers() {
	curl -s -m 5 "http://127.0.0.1:$RT_PORT/v1/workers" |
	    "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["workers"]))'
}

# A slow upload across SIGTERM: finished, with the whole body.
start_fcgi
rm -f "$T_DIR/flag"
"$PY" "$T_DIR/client.py" "$T_DIR/fcgi.sock" slow "$T_DIR/flag" \
    >"$T_DIR/slow.out" 2>&1 &
CLIENT=$!
for i in $(seq 1 50); do [ -e "$T_DIR/flag" ] && break; sleep 0.05; done
kill -TERM "$FPID"
wait "$CLIENT"
echo "# $(head -1 "$T_DIR/slow.out")"
t_check "slow upload across SIGTERM: 201" \
    grep -q '^Status: 201' "$T_DIR/slow.out"
t_check "slow upload across SIGTERM: the worker exists" \
    test "$(workers)" = 1
t_wait_gone "$FPID" 50
t_check "wrg.fcgi exited after the request" \
    eval '! ps -o stat= -p "$FPID" | grep -qv Z'

# A client gone mid-body: an error, no worker made of half a body.
start_fcgi
rm -f "$T_DIR/flag"
"$PY" "$T_DIR/client.py" "$T_DIR/fcgi.sock" die "$T_DIR/flag" \
    >"$T_DIR/die.out" 2>&1
sleep 0.5
t_check "client gone mid-body: no worker created" test "$(workers)" = 1
t_check "wrg.fcgi still serving" kill -0 "$FPID"
t_done
