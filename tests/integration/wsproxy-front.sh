#!/bin/bash
# wsproxy-front.sh — wrg-wsproxy's front door and upstream handshake
# against odd inputs (issue 9), through lighttpd and directly:
#
#  - REST and WebSocket address the same worker for every id: '+', space,
#    %2B, %20, ';', '&', non-ASCII (a recording runtime logs the request
#    lines both legs send);
#  - a runtime token of the documented maximum (4096 bytes) and the
#    longest worker id work over REST and WebSocket (lws 4.1 could not
#    build that handshake and crashed the proxy);
#  - a runtime that resets every connection at once (lws frees the client
#    wsi in paths that call back no CONNECTION_ERROR) never crashes it;
#  - header names lws' lexer misreads, bad heads and huge heads get a
#    clear 4xx within a second;
#  - the same-origin fallback compares the scheme (X-Forwarded-Proto).
# Run under ASan+UBSan by `scripts/test.sh --sanitizers`.

. "${top_srcdir:?}/tests/lib.sh"
. "$top_srcdir/tests/webserver.sh"

t_need_py_ws
t_need_built "$T_RT_BIN" "$T_PX_BIN" "$T_FCGI_BIN"
CLIENT="$top_srcdir/tests/integration/wsproxy_client.py"
CAP="$T_DIR/capture.bin"
: >"$CAP"

# A 4096-byte printable token (the registry's maximum).
BIG_TOKEN=$("$PY" -c 'import random, string
r = random.Random(9); a = string.ascii_letters + string.digits + "-._~+/"
print("big-" + "".join(r.choice(a) for _ in range(4092)))')

# ---- peers -------------------------------------------------------------

# The recording runtime: logs each request line, answers 404 (a plain
# router miss), closes. "rst": resets every connection at once.
cat >"$T_DIR/peer.py" <<'EOF'
import socket, struct, sys, threading, time
mode, port_file, log = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
s.settimeout(1)
open(port_file, "w").write(str(s.getsockname()[1]))
end = time.time() + 240
def serve(c):
    try:
        c.settimeout(3)
        buf = b""
        while b"\r\n\r\n" not in buf and len(buf) < 65536:
            d = c.recv(65536)
            if not d:
                break
            buf += d
        with open(log, "ab") as f:
            f.write(buf.split(b"\r\n", 1)[0] + b"\n")
        c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                  b"Connection: close\r\n\r\n")
    except OSError:
        pass
    c.close()
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    if mode == "rst":
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        c.close()
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
peer_start() {	# peer_start NAME MODE; the port lands in $T_DIR/NAME.port
	"$PY" "$T_DIR/peer.py" "$2" "$T_DIR/$1.port" "$T_DIR/$1.log" \
	    >"$T_DIR/$1.out" 2>&1 &
	t_track $!
}
peer_port() {	# peer_port NAME — waits for and prints its port
	local i
	for i in $(seq 1 50); do
		[ -s "$T_DIR/$1.port" ] && break
		sleep 0.1
	done
	cat "$T_DIR/$1.port"
}
peer_start rec log
peer_start rst rst
REC_PORT=$(peer_port rec)
RST_PORT=$(peer_port rst)
: >"$T_DIR/rec.log"

t_start_runtime rt --token "$BIG_TOKEN" --state-dir "$T_DIR/rt-state" || exit 1
RT_PORT=$rt_PORT

PX_PORT=$(t_free_port)
cat >"$T_DIR/wrg.conf" <<EOF
{
  "api_prefix": "/api",
  "wsproxy": {"listen": "127.0.0.1:$PX_PORT", "reconnect_initial_ms": 50,
              "reconnect_max_ms": 200},
  "runtimes": [
    {"id": "rec", "base_url": "http://127.0.0.1:$REC_PORT",
     "token": "rec-token", "connect_timeout_ms": 1000},
    {"id": "rst", "base_url": "http://127.0.0.1:$RST_PORT",
     "connect_timeout_ms": 1000},
    {"id": "big", "base_url": "http://127.0.0.1:$RT_PORT",
     "token": "$BIG_TOKEN", "connect_timeout_ms": 2000},
    {"id": "gone", "base_url": "unix:$T_DIR/gone.sock"}
  ]
}
EOF
t_start_wsproxy wsproxy "$T_DIR/wrg.conf" "$PX_PORT" || exit 1
FSOCK="$T_DIR/fcgi.sock"
t_start_fcgi "$T_DIR/wrg.conf" "$FSOCK" || exit 1
WPORT=$(t_free_port)
t_webserver_front lighttpd "$WPORT" "$FSOCK" "127.0.0.1:$PX_PORT" \
    '<!doctype html><title>panel</title>'

# ws URL [client args] — one browser stream; output in $T_DIR/ws.out.
ws() {
	local url=$1
	shift
	"$PY" "$CLIENT" read "$url" --timeout 5 --capture "$CAP" "$@" \
	    >"$T_DIR/ws.out" 2>&1
}
# rest PATH — GET through lighttpd; sets STATUS.
rest() {
	STATUS=$(curl -s -m 10 --path-as-is -g -o "$T_DIR/body" \
	    -w '%{http_code}' "http://127.0.0.1:$WPORT$1") || true
	cat "$T_DIR/body" >>"$CAP"
}
# head_send MODE RAWHEAD — sends a head straight to wrg-wsproxy. MODE
# status: prints the status code of the answer (or "none") within 1 s.
# MODE refusal: reads to the close (within 2 s) and prints the refusal as
# "STATUS CODE|MESSAGE|body request_id|X-Request-Id".
head_send() {
	"$PY" - "$PX_PORT" "$1" "$2" <<'EOF'
import json, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(sys.argv[3].encode("latin-1").decode("unicode_escape")
          .encode("latin-1"))
status = sys.argv[2] == "status"
t = time.time(); buf = b""
try:
    while time.time() - t < (1 if status else 2):
        if status and b"\r\n" in buf:
            break
        d = s.recv(4096)
        if not d:
            break
        buf += d
except OSError:
    pass
if status:
    print(buf.split(b" ")[1].decode() if buf.startswith(b"HTTP/1.1 ")
          else "none")
    sys.exit(0)
head, _, body = buf.partition(b"\r\n\r\n")
lines = head.decode("latin-1").split("\r\n")
hdr = {k.strip().lower(): v.strip() for k, _, v in
       (l.partition(":") for l in lines[1:])}
try:
    e = json.loads(body)["error"]
    print("%s %s|%s|%s|%s" % (lines[0].split(" ")[1], e["code"],
          e["message"], e.get("request_id") or "",
          hdr.get("x-request-id") or ""))
except (ValueError, KeyError, IndexError):
    print("unparsed: %r" % buf[:200])
EOF
}
head_status() { head_send status "$1"; }
head_refusal() { head_send refusal "$1"; }
# rest_error PATH — REST's answer as "STATUS CODE|MESSAGE".
rest_error() {
	rest "$1"
	"$PY" -c 'import json,sys; e = json.load(open(sys.argv[2]))["error"]
print("%s %s|%s" % (sys.argv[1], e["code"], e["message"]))' \
	    "$STATUS" "$T_DIR/body" 2>/dev/null || echo "unparsed REST"
}
# refusal_has_id ANSWER — body request_id = X-Request-Id, well formed.
refusal_has_id() {
	local ids=${1#*|*|}
	[[ ${ids%|*} =~ ^[A-Za-z0-9._-]{1,64}$ ]] &&
	    [ "${ids%|*}" = "${ids#*|}" ]
}
# same_refusal WSPATH RESTPATH — the refused upgrade and the REST answer
# carry the same status, code and message, and the refusal a request id
# in its body and its X-Request-Id header.
same_refusal() {
	local ws rest_ans
	ws=$(head_refusal "${UP/\/api\/runtimes\/rec\/workers\/w\/events\/ws/$1}\\r\\n")
	rest_ans=$(rest_error "$2")
	echo "# WS: $ws; REST: $rest_ans"
	[ "${ws%|*|*}" = "$rest_ans" ] && refusal_has_id "$ws"
}

# ---- 1. the same worker over REST and WebSocket ---------------------------

same_worker() {	# same_worker BROWSER_ID — both legs call one segment
	local id=$1 rest_seg ws_seg
	: >"$T_DIR/rec.log"
	rest "/api/runtimes/rec/workers/$id"
	ws "ws://127.0.0.1:$WPORT/api/runtimes/rec/workers/$id/events/ws"
	for i in $(seq 1 20); do
		[ "$(wc -l <"$T_DIR/rec.log")" -ge 2 ] && break
		sleep 0.1
	done
	rest_seg=$(sed -n 's|^GET /v1/workers/\([^/ ]*\) HTTP/1.1$|\1|p' \
	    "$T_DIR/rec.log" | head -1)
	ws_seg=$(sed -n 's|^GET /v1/workers/\([^/ ]*\)/events/ws HTTP/1.1$|\1|p' \
	    "$T_DIR/rec.log" | head -1)
	echo "# $id: REST $rest_seg, WS $ws_seg"
	[ -n "$rest_seg" ] && [ "$rest_seg" = "$ws_seg" ] &&
	    [ "$rest_seg" = "$2" ]
}
t_check "'+' is a plus on both legs" same_worker 'w%201+x' 'w%201%2Bx'
t_check "%2B is a plus on both legs" same_worker 'w%201%2Bx' 'w%201%2Bx'
t_check "bare '+' id" same_worker 'a+b' 'a%2Bb'
t_check "%20 is a space on both legs" same_worker 'a%20b' 'a%20b'
t_check "';' and '&' stay in the id" same_worker 'a;b&c=d' 'a%3Bb%26c%3Dd'
t_check "non-ASCII id" same_worker '%C3%A9t%C3%A9' '%C3%A9t%C3%A9'

# ---- 2. the biggest handshake the config allows ---------------------------

WORKER=$(curl -s -m 5 -H "Authorization: Bearer $BIG_TOKEN" \
    -H 'Content-Type: application/json' \
    -d '{"intent":{"kind":"task","objective":"t"},"profile":{"kind":"runtime_default"}}' \
    "http://127.0.0.1:$RT_PORT/v1/workers" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["worker"]["worker_id"])' 2>/dev/null)
t_check "the runtime takes a 4096-byte token" test -n "$WORKER"
rest "/api/runtimes/big/workers/$WORKER"
t_check "REST with a 4096-byte token: 200" test "$STATUS" = 200
ws "ws://127.0.0.1:$WPORT/api/runtimes/big/workers/$WORKER/events/ws" \
    --max-events 1
t_check "WS with a 4096-byte token: snapshot" grep -q '"snapshot' "$T_DIR/ws.out"
LONG_ID=$("$PY" -c 'print("%C3%A9" * 128)')	# 256 bytes decoded
ws "ws://127.0.0.1:$WPORT/api/runtimes/big/workers/$LONG_ID/events/ws"
t_check "longest worker id + 4096-byte token: worker_not_found" \
    grep -q 'backend.worker_not_found' "$T_DIR/ws.out"
t_check "wrg-wsproxy alive after big handshakes" kill -0 "$wsproxy_PID"

# ---- 3. a runtime that resets every connection ----------------------------

for n in $(seq 1 8); do
	"$PY" "$CLIENT" read \
	    "ws://127.0.0.1:$PX_PORT/api/runtimes/rst/workers/w$n/events/ws" \
	    --timeout 1 --capture "$CAP" >"$T_DIR/rst$n.out" 2>&1 &
done
wait_clients() { local j; for j in $(seq 1 40); do
	[ "$(jobs -pr | wc -l)" -le 4 ] && return 0; sleep 0.1; done; }
wait_clients
sleep 1.5
t_check "resetting runtime: browsers told of the outage" \
    grep -q 'backend.upstream_reconnecting' "$T_DIR/rst1.out"
t_check "wrg-wsproxy alive after resets" kill -0 "$wsproxy_PID"

# ---- 4. request heads lws would misread --------------------------------------

UP='GET /api/runtimes/rec/workers/w/events/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'
for name in A Ho Or Co Up Origi Connectio Authorizatio X-A; do
	t_check "header '$name' then the upgrade headers: 400" \
	    test "$(head_status "GET /api/runtimes/rec/workers/w/events/ws HTTP/1.1\\r\\n$name: 1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n")" = 400
done
t_check "an ordinary upgrade: 101" test "$(head_status "$UP\\r\\n")" = 101
t_check "X-B and X-Foo pass: 101" \
    test "$(head_status "${UP}X-B: 1\\r\\nX-Foo: 2\\r\\n\\r\\n")" = 101
t_check "LF-only line ends: the upgrade is served (101)" \
    test "$(head_status "$(printf '%s' "$UP" | sed 's/\\r\\n/\\n/g')\\n")" = 101
t_check "obs-fold: 400" \
    test "$(head_status "${UP}X-B: 1\\r\\n folded\\r\\n\\r\\n")" = 400
COOKIE=$("$PY" -c 'print("c" * 20000)')
t_check "a 20 KB head: 431" \
    test "$(head_status "${UP}Cookie: $COOKIE\\r\\n\\r\\n")" = 431
COOKIE=$("$PY" -c 'print("c=" + "v" * 8000)')
t_check "8 KB of cookies: 101" \
    test "$(head_status "${UP}Cookie: $COOKIE\\r\\n\\r\\n")" = 101

# ---- 5. same-origin fallback and the scheme -----------------------------------

t_check "Origin http://host:port direct: 101" test "$(head_status \
    "${UP/127.0.0.1/127.0.0.1:$PX_PORT}Origin: http://127.0.0.1:$PX_PORT\\r\\n\\r\\n")" = 101
t_check "Origin https://host:port on plain http: 403" test "$(head_status \
    "${UP/127.0.0.1/127.0.0.1:$PX_PORT}Origin: https://127.0.0.1:$PX_PORT\\r\\n\\r\\n")" = 403
t_check "Origin https with X-Forwarded-Proto https: 101" test "$(head_status \
    "${UP/127.0.0.1/127.0.0.1:$PX_PORT}Origin: https://127.0.0.1:$PX_PORT\\r\\nX-Forwarded-Proto: https\\r\\n\\r\\n")" = 101
t_check "Origin http with X-Forwarded-Proto https: 403" test "$(head_status \
    "${UP/127.0.0.1/127.0.0.1:$PX_PORT}Origin: http://127.0.0.1:$PX_PORT\\r\\nX-Forwarded-Proto: https\\r\\n\\r\\n")" = 403
ANS=$(head_refusal \
    "${UP/127.0.0.1/127.0.0.1:$PX_PORT}Origin: https://127.0.0.1:$PX_PORT\\r\\n\\r\\n")
echo "# refused Origin: $ANS"
t_check "refused Origin: origin_not_allowed from the error table" \
    test "${ANS%|*|*}" = "403 origin_not_allowed|this origin may not open event streams"
t_check "refused Origin: request_id in body and X-Request-Id" \
    refusal_has_id "$ANS"
t_check "refused path: the REST not_found answer" same_refusal \
    /api/runtimes/rec/workers/w/nope /api/runtimes/rec/workers/w/nope
t_check "refused id: the REST invalid_request answer" same_refusal \
    /api/runtimes/rec/workers/%2E%2E/events/ws /api/runtimes/rec/workers/%2E%2E
ws "ws://127.0.0.1:$WPORT/api/runtimes/rec/workers/w/events/ws" \
    --origin "http://127.0.0.1:$WPORT"
t_check "through lighttpd: same-origin http accepted" \
    grep -q 'backend.runtime_unavailable' "$T_DIR/ws.out"
ws "ws://127.0.0.1:$WPORT/api/runtimes/rec/workers/w/events/ws" \
    --origin "https://127.0.0.1:$WPORT"
t_check "through lighttpd: https Origin on http refused" \
    grep -q '^#http 403' "$T_DIR/ws.out"

t_check "wrg-wsproxy alive at the end" kill -0 "$wsproxy_PID"
t_check "no token, host or port in browser bytes" t_leak_scan "$CAP" \
    "$BIG_TOKEN" "${BIG_TOKEN:100:40}" rec-token "127.0.0.1:$REC_PORT" \
    "127.0.0.1:$RST_PORT" "127.0.0.1:$RT_PORT" "$REC_PORT" "$RST_PORT"
# ---- 6. a Unix-socket runtime that is not there --------------------------
# Each attempt fails before the handshake (lws frees the client wsi with
# no CONNECTION_ERROR); the outage is logged once at warn, its later
# attempts at debug, as for TCP runtimes (was: a warning per attempt).
ws "ws://127.0.0.1:$PX_PORT/api/runtimes/gone/workers/w/events/ws" \
    --timeout 3
t_check "missing Unix socket: the browser hears of reconnecting" \
    grep -q 'backend.upstream_reconnecting' "$T_DIR/ws.out"
gone_warns() { grep -c 'warn.*rt=gone' "$T_DIR/wsproxy.log"; }
t_check "missing Unix socket: one warning for the outage ($(gone_warns))" \
    test "$(gone_warns)" -le 1
t_done
