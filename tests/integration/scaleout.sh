#!/bin/bash
# tests/integration/scaleout.sh — wrg-wsproxy and wrg.fcgi are stateless,
# so any instance serves any browser and a cursor taken on one wrg-wsproxy
# resumes on another (docs/deploy.md, "Scaling out"):
#  1. two wrg-wsproxy instances, A and B, on configs that differ only in
#     wsproxy.listen; a stream on A is read up to a known tick and closed,
#     more events happen while disconnected, and a resume on B with the
#     last cursor gets exactly the following events (backlog, then live):
#     no gap, no duplicate; then back from B to A the same way;
#  2. behind nginx (the shipped snippet, its wrg_wsproxy upstream listing A
#     and B, wrg_fcgi listing two wrg.fcgi processes): with A and one
#     wrg.fcgi stopped, the browser resumes through nginx on B and the API
#     keeps answering;
#  3. behind Apache (the shipped snippet with the docs/deploy.md balancer
#     recipe, A restarted): streams are spread over A and B; with A
#     stopped, the browser resumes through Apache on B.
# Events come from the sample runtime's /_control/emit, so counts are exact.
. "$top_srcdir/tests/lib.sh"

t_need_py_ws
RT_BIN=$T_RT_BIN
PX_BIN=$T_PX_BIN
FCGI_BIN=$T_FCGI_BIN
for b in "$RT_BIN" "$PX_BIN" "$FCGI_BIN"; do
	[ -x "$b" ] || { echo "not built: $b" >&2; exit 1; }
done

TOKEN="scaleout-token-$$"
CAP="$T_DIR/capture.bin"	# every browser-visible byte
: >"$CAP"

# ---- the runtime ----------------------------------------------------------
"$RT_BIN" --listen 127.0.0.1:0 --token "$TOKEN" --runtime-id sample-rt \
    --ready-file "$T_DIR/rt.ready" >"$T_DIR/rt.log" 2>&1 &
t_track $!
for i in $(seq 1 100); do [ -s "$T_DIR/rt.ready" ] && break; sleep 0.05; done
RT_PORT=$(cat "$T_DIR/rt.ready" 2>/dev/null)
[ -n "$RT_PORT" ] || { echo "runtime did not start" >&2; exit 1; }
rt() {	# rt METHOD PATH [BODY]
	curl -sS -m 5 -X "$1" -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' ${3:+-d "$3"} \
	    "http://127.0.0.1:$RT_PORT$2"
}
W=$(rt POST /v1/workers '{"intent":{"kind":"task","objective":"scale"},"profile":{"kind":"runtime_default"}}' |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["worker"]["worker_id"])')
t_check "worker created" test -n "$W"
emit() { rt POST /_control/emit "{\"worker_id\":\"$W\",\"count\":$1}" >/dev/null; }
# The same as a command line for the client's --on-snapshot.
emit_cmd() {
	echo "curl -sS -m 5 -o /dev/null -X POST -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' -d '{\"worker_id\":\"$W\",\"count\":$1}' http://127.0.0.1:$RT_PORT/_control/emit"
}

# ---- two wrg-wsproxy instances ---------------------------------------------
PORT_A=$(t_free_port)
PORT_B=$(t_free_port)
cat >"$T_DIR/a.conf" <<CONF
// instance A; instance B's config is this file with another listen
{
  "wsproxy": { "listen": "127.0.0.1:$PORT_A", "ping_interval_s": 5 },
  "runtimes": [
    { "id": "rt-a", "base_url": "http://127.0.0.1:$RT_PORT",
      "token": "$TOKEN", "connect_timeout_ms": 1000 }
  ]
}
CONF
sed -e "s|\"127.0.0.1:$PORT_A\"|\"127.0.0.1:$PORT_B\"|" "$T_DIR/a.conf" \
    | sed -e 's|// instance A;|// instance B;|' >"$T_DIR/b.conf"
only_listen_differs() {
	diff "$T_DIR/a.conf" "$T_DIR/b.conf" | grep '^[<>]' |
	    grep -v -e '"listen"' -e '// instance' && return 1
	[ "$(diff "$T_DIR/a.conf" "$T_DIR/b.conf" | grep -c '"listen"')" = 2 ]
}
t_check "configs A and B differ only in wsproxy.listen" only_listen_differs

"$PX_BIN" -c "$T_DIR/a.conf" >"$T_DIR/px-a.log" 2>&1 &
PID_A=$!; t_track $PID_A
"$PX_BIN" -c "$T_DIR/b.conf" >"$T_DIR/px-b.log" 2>&1 &
PID_B=$!; t_track $PID_B
t_wait_port "$PORT_A" && t_wait_port "$PORT_B" ||
	t_abort "both instances listen"

# The client: reads a stream until it has seen tick number --until, runs
# --live-cmd when tick --live-after arrives and --on-snapshot when the
# stream's snapshot arrives (so events emitted then are live, however
# slowly the stream was set up), writes every frame to --out, prints the
# last event cursor.
cat >"$T_DIR/client.py" <<'PY'
import argparse, asyncio, json, subprocess, sys
import websockets
ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("--until", type=int, required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--capture", required=True)
ap.add_argument("--live-cmd", default="")
ap.add_argument("--live-after", type=int, default=-1)
ap.add_argument("--on-snapshot", default="")
ap.add_argument("--origin", default=None)
a = ap.parse_args()
async def main():
    last = None
    with open(a.out, "w") as out, open(a.capture, "ab") as cap:
        async with websockets.connect(a.url, origin=a.origin,
                                      open_timeout=10) as ws:
            while True:
                msg = await asyncio.wait_for(ws.recv(), 10)
                cap.write(msg.encode() + b"\n")
                out.write(msg + "\n")
                f = json.loads(msg)
                if f.get("kind") != "event":
                    continue
                env = f["envelope"]
                if not env["event_id"].startswith("snapshot:"):
                    last = env["cursor"]
                elif a.on_snapshot:
                    # The stream is live: whatever happens now arrives.
                    subprocess.run(a.on_snapshot, shell=True, check=True)
                    a.on_snapshot = ""
                p = env.get("payload", {})
                if p.get("event") != "tick":
                    continue
                n = p["data"]["n"]
                if n == a.live_after and a.live_cmd:
                    subprocess.run(a.live_cmd, shell=True, check=True)
                if n >= a.until:
                    break
    print(last)
asyncio.run(main())
PY
client() { timeout 30 "$PY" "$T_DIR/client.py" "$@" --capture "$CAP"; }
ws_url() { echo "ws://127.0.0.1:$1/api/runtimes/rt-a/workers/$W/events/ws${2:+?cursor=$2}"; }

# ticks FILE FIRST LAST: the tick events in FILE are exactly FIRST..LAST,
# once each, in order; the first frame is the snapshot.
ticks() {
	"$PY" - "$@" <<'PY'
import json, sys
path, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
frames = [json.loads(l) for l in open(path) if l.strip()]
ns = [f["envelope"]["payload"]["data"]["n"] for f in frames
      if f.get("kind") == "event"
      and f["envelope"].get("payload", {}).get("event") == "tick"]
ok = ns == list(range(first, last + 1))
snap = frames and frames[0].get("kind") == "event" and \
    frames[0]["envelope"]["event_id"].startswith("snapshot:")
diags = [f for f in frames if f.get("kind") == "diagnostic"]
print("ticks %s (want %d..%d), snapshot first: %s, diagnostics: %s" %
      (ns[:3] + ["..."] + ns[-3:] if len(ns) > 6 else ns, first, last,
       bool(snap), [d["diagnostic"]["code"] for d in diags]))
sys.exit(0 if ok and snap and not diags else 1)
PY
}

# A: ticks 1..5 live, then disconnect.
F1=$T_DIR/a1.txt
C1=$(client "$(ws_url "$PORT_A")" --until 5 --out "$F1" \
    --on-snapshot "$(emit_cmd 5)")
t_check "instance A streams ticks 1..5" ticks "$F1" 1 5
t_check "A gave a cursor" eval "[ -n '$C1' ] && [ '$C1' != None ]"

# Meanwhile 7 more events happen (6..12); resume on B with A's cursor:
# backlog 6..12, then live 13..15 (emitted once 12 has arrived).
emit 7
F2=$T_DIR/b1.txt
C2=$(client "$(ws_url "$PORT_B" "$C1")" --until 15 --out "$F2" \
    --live-after 12 --live-cmd "curl -sS -m 5 -o /dev/null -X POST \
    -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' \
    -d '{\"worker_id\":\"$W\",\"count\":3}' \
    http://127.0.0.1:$RT_PORT/_control/emit")
t_check "B resumes A's cursor: exactly 6..15 (backlog + live)" \
    ticks "$F2" 6 15

# And back: B's cursor resumes on A.
emit 4
F3=$T_DIR/a2.txt
C3=$(client "$(ws_url "$PORT_A" "$C2")" --until 19 --out "$F3")
t_check "A resumes B's cursor: exactly 16..19" ticks "$F3" 16 19

# ---- behind nginx: upstreams with both instances ----------------------
NGINX_BIN=${NGINX:-}
[ -n "$NGINX_BIN" ] || NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
if [ -x "$NGINX_BIN" ]; then
	NGINX=$NGINX_BIN
	cat >"$T_DIR/fcgi.conf" <<CONF
{ "runtimes": [ { "id": "rt-a", "base_url": "http://127.0.0.1:$RT_PORT",
                  "token": "$TOKEN" } ] }
CONF
	"$FCGI_BIN" -c "$T_DIR/fcgi.conf" -s "unix:$T_DIR/fcgi-1.sock" \
	    >"$T_DIR/fcgi-1.log" 2>&1 &
	FCGI1=$!; t_track $FCGI1
	"$FCGI_BIN" -c "$T_DIR/fcgi.conf" -s "unix:$T_DIR/fcgi-2.sock" \
	    >"$T_DIR/fcgi-2.log" 2>&1 &
	FCGI2=$!; t_track $FCGI2
	t_wait_unix "$T_DIR/fcgi-1.sock" && t_wait_unix "$T_DIR/fcgi-2.sock"
	. "$top_srcdir/tests/webserver-nginx.sh"
	mkdir -p "$T_DIR/www"
	echo '<!doctype html><title>wrg</title>' >"$T_DIR/www/index.html"
	WEB=$(t_free_port)
	t_webserver_start_nginx "$WEB" "$T_DIR/fcgi-1.sock" \
	    "127.0.0.1:$PORT_A" "$T_DIR/www"
	# The deploy.md recipe: one more server line per instance, in the
	# generated site, then reload.
	SITE="$T_DIR/nginx/wrg-site.conf"
	sed -i -e "s|^\(\tserver 127.0.0.1:$PORT_A;\)$|\1\n\tserver 127.0.0.1:$PORT_B;|" \
	    -e "s|^\(\tserver unix:$T_DIR/fcgi-1.sock;\)$|\1\n\tserver unix:$T_DIR/fcgi-2.sock;|" \
	    "$SITE"
	t_check "site lists both wsproxy instances and both wrg.fcgi" \
	    test "$(grep -c -e "server 127.0.0.1:$PORT_A;" \
	    -e "server 127.0.0.1:$PORT_B;" -e "server unix:$T_DIR/fcgi-1.sock;" \
	    -e "server unix:$T_DIR/fcgi-2.sock;" "$SITE")" = 4
	"$NGINX" -p "$T_DIR/nginx" -c "$T_DIR/nginx/nginx.conf" \
	    -e "$T_DIR/nginx/logs/startup.log" -s reload
	sleep 1
	api_ok() {
		local code
		code=$(curl -sS -m 5 -o "$T_DIR/api.json" -w '%{http_code}' \
		    "http://127.0.0.1:$WEB/api/runtimes/rt-a/workers/$W")
		[ "$code" = 200 ] && grep -q "\"worker_id\":\"$W\"" "$T_DIR/api.json"
	}
	api_all() { local i; for i in 1 2 3 4 5 6; do api_ok || return 1; done; }
	t_check "API through nginx, two wrg.fcgi" api_all
	F4=$T_DIR/nginx1.txt
	C4=$(client "$(ws_url "$WEB")" --until 21 --out "$F4" \
	    --on-snapshot "$(emit_cmd 2)")
	t_check "stream through nginx: ticks 20..21" ticks "$F4" 20 21

	# Stop instance A and one wrg.fcgi: nginx fails over.
	t_stop_pid "$PID_A"
	t_stop_pid "$FCGI1"
	emit 3
	t_check "A is down" eval "! (exec 3<>/dev/tcp/127.0.0.1/$PORT_A) 2>/dev/null"
	F5=$T_DIR/nginx2.txt
	C5=$(client "$(ws_url "$WEB" "$C4")" --until 24 --out "$F5")
	t_check "resume through nginx with A down: exactly 22..24 (from B)" \
	    ticks "$F5" 22 24
	t_check "API through nginx with one wrg.fcgi down" api_all
else
	echo "# nginx not installed: the nginx part is not run"
fi

# ---- behind Apache: a balancer over both instances ---------------------
APACHE_BIN=${APACHE2:-}
[ -n "$APACHE_BIN" ] || APACHE_BIN=$(command -v apache2 || echo /usr/sbin/apache2)
if [ -x "$APACHE_BIN" ] && [ -n "${FCGI2:-}" ]; then
	# A comes back (same config): instances come and go freely.
	"$PX_BIN" -c "$T_DIR/a.conf" >>"$T_DIR/px-a.log" 2>&1 &
	PID_A=$!; t_track $PID_A
	t_wait_port "$PORT_A"
	WRG_APACHE_EXTRA_MODULES="proxy_balancer lbmethod_byrequests slotmem_shm"
	. "$top_srcdir/tests/webserver-apache.sh"
	WEB2=$(t_free_port)
	t_webserver_start_apache "$WEB2" "$T_DIR/fcgi-2.sock" \
	    "127.0.0.1:$PORT_A" "$T_DIR/www"
	t_stop_pid "$T_WEBSERVER_PID"
	# The deploy.md recipe: a balancer with one member per instance,
	# the WebSocket ProxyPassMatch pointed at it.
	SITE="$T_DIR/apache2/wrg-site.conf"
	sed -i -e "s|\"http://127.0.0.1:$PORT_A\" mapping=encoded nocanon upgrade=websocket timeout=3600|\"balancer://wrgws\" mapping=encoded nocanon|" \
	    -e "s|^\tProxyPassMatch|\t<Proxy \"balancer://wrgws\">\n\t\tBalancerMember \"http://127.0.0.1:$PORT_A\" upgrade=websocket timeout=3600\n\t\tBalancerMember \"http://127.0.0.1:$PORT_B\" upgrade=websocket timeout=3600\n\t</Proxy>\n\tProxyPassMatch|" \
	    "$SITE"
	t_check "Apache site has the balancer over A and B" \
	    test "$(grep -c -e "BalancerMember \"http://127.0.0.1:$PORT_A\"" \
	    -e "BalancerMember \"http://127.0.0.1:$PORT_B\"" \
	    -e '^	ProxyPassMatch .* "balancer://wrgws" mapping=encoded nocanon$' \
	    "$SITE")" = 3
	"$APACHE_BIN" -f "$T_DIR/apache2/apache2.conf" -DFOREGROUND \
	    >>"$T_DIR/apache2/logs/stderr.log" 2>&1 &
	t_track $!
	t_wait_port "$WEB2"
	opened() { grep -c 'stream opened' "$1"; }
	A0=$(opened "$T_DIR/px-a.log"); B0=$(opened "$T_DIR/px-b.log")
	spread() {
		local i
		for i in 1 2 3 4; do
			client "$(ws_url "$WEB2")" --until 0 \
			    --on-snapshot "$(emit_cmd 1)" \
			    --out "$T_DIR/apache-spread.txt" >/dev/null || return 1
		done
		[ "$(opened "$T_DIR/px-a.log")" -gt "$A0" ] &&
		    [ "$(opened "$T_DIR/px-b.log")" -gt "$B0" ]
	}
	t_check "Apache balancer spreads streams over A and B" spread
	LAST=$(grep -o '"n":[0-9]*' "$T_DIR/apache-spread.txt" | tail -n 1 | cut -d: -f2)
	F6=$T_DIR/apache1.txt
	C6=$(client "$(ws_url "$WEB2")" --until $((LAST + 2)) --out "$F6" \
	    --on-snapshot "$(emit_cmd 2)")
	t_check "stream through Apache" ticks "$F6" $((LAST + 1)) $((LAST + 2))
	t_stop_pid "$PID_A"
	emit 3
	F7=$T_DIR/apache2.txt
	client "$(ws_url "$WEB2" "$C6")" --until $((LAST + 5)) --out "$F7" >/dev/null
	t_check "resume through Apache with A down: exactly the next 3 (from B)" \
	    ticks "$F7" $((LAST + 3)) $((LAST + 5))
else
	echo "# apache2 (or the nginx part) not available: the Apache part is not run"
fi

t_check "no runtime address or token in browser-visible bytes" \
    t_leak_scan "$CAP" "$TOKEN" "127.0.0.1:$RT_PORT" ":$RT_PORT" \
    "$T_DIR/fcgi-1.sock" "$T_DIR/fcgi-2.sock"
t_done
