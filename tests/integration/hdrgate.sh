#!/bin/bash
# hdrgate.sh — request heads that libwebsockets 4.1 would misread or
# could not hold, sent to the real wrg-wsproxy and wrg-sample-runtime
# (lib/hdrgate.c in front of both; docs/wsproxy.md "Request heads"):
#  - every header name that is a proper prefix of one lws knows (from
#    this lws build's list, tests/integration/lws_names), right before
#    the header that matters (Authorization; Connection for an upgrade)
#    and as the last header: each answered within 1 s by a 400 with a
#    JSON body, or served correctly (REST 200, WS 101);
#  - a head that stalls is answered 408 within the gate's deadline (and
#    a connection that sends nothing is closed), not left hanging;
#  - big heads: a 4096-byte bearer token (wrg.conf's maximum) with the
#    longest escaped worker id works over REST and the WS upgrade at the
#    sample runtime; an 8 KiB Cookie passes wrg-wsproxy to a live stream;
#    a 20 KiB header gets a clean 431 from both.
. "${top_srcdir:?}/tests/lib.sh"

t_need_py_ws
RT_BIN=$T_RT_BIN
PX_BIN=$T_PX_BIN
NAMES_BIN=$top_builddir/tests/integration/lws_names
t_need_built "$RT_BIN" "$PX_BIN" "$NAMES_BIN"
probe() { "$PY" "$top_srcdir/tests/integration/hdrgate_probe.py" "$@"; }
"$NAMES_BIN" >"$T_DIR/names.txt"

# A 4096-byte token for the big-token runtime, a short one for the one
# behind the proxy (the proxy's own upstream leg is not under test).
"$PY" -c 'import secrets, string
a = string.ascii_letters + string.digits + "-._~+/"
print("".join(secrets.choice(a) for _ in range(4096)))' >"$T_DIR/big.token"
echo "short-token-$$" >"$T_DIR/short.token"
chmod 600 "$T_DIR"/*.token

# rt_start NAME TOKENFILE: a runtime on a free port; sets ${NAME}_PORT.
rt_start() {
	"$RT_BIN" --listen 127.0.0.1:0 --token-file "$2" --tick-ms 50 \
	    --log-level info \
	    --ready-file "$T_DIR/$1.ready" >"$T_DIR/$1.log" 2>&1 &
	t_track $!
	t_wait_file "$T_DIR/$1.ready" || return 1
	printf -v "${1}_PORT" '%s' "$(cat "$T_DIR/$1.ready")"
}
rt_start big "$T_DIR/big.token" || t_abort "runtime starts"
rt_start short "$T_DIR/short.token" || t_abort "runtime starts"
W=$(curl -s -m 5 -X POST -H "Authorization: Bearer $(cat "$T_DIR/short.token")" \
    -H 'Content-Type: application/json' \
    -d '{"intent":{"kind":"task","objective":"t"},"profile":{"kind":"runtime_default"}}' \
    "http://127.0.0.1:$short_PORT/v1/workers" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["worker"]["worker_id"])')
t_check "worker created" test -n "$W"

PX_PORT=$(t_free_port)
cat >"$T_DIR/wrg.conf" <<EOF
{
  "api_prefix": "/api",
  "allowed_origins": ["http://good.example"],
  "wsproxy": {"listen": "127.0.0.1:$PX_PORT", "ping_interval_s": 0},
  "runtimes": [
    {"id": "rt-a", "base_url": "http://127.0.0.1:$short_PORT",
     "token_file": "$T_DIR/short.token", "connect_timeout_ms": 1000}
  ]
}
EOF
"$PX_BIN" -c "$T_DIR/wrg.conf" --log-level info >"$T_DIR/px.log" 2>&1 &
t_track $!
t_wait_port "$PX_PORT" || t_abort "proxy starts"

# ---- header names lws 4.1's lexer misreads ------------------------------

# The sweep stops at 10 failures (each may wait 1 s).
t_check "runtime REST: odd header names answered 400 or served, < 1 s" \
    probe sweep --port "$big_PORT" --kind rest --path /v1/runtime \
    --token-file "$T_DIR/big.token" --names "$T_DIR/names.txt" \
    --key Authorization
t_check "runtime WS upgrade: odd header names answered 400 or served" \
    probe sweep --port "$short_PORT" --kind ws \
    --path "/v1/workers/$W/events/ws" --token-file "$T_DIR/short.token" \
    --names "$T_DIR/names.txt" --key Authorization
# No runtime named rt-none: an accepted upgrade is answered 101 and then
# closed with a diagnostic, no upstream connection per probe.
t_check "wsproxy upgrade: odd header names answered 400 or served" \
    probe sweep --port "$PX_PORT" --kind ws \
    --path /api/runtimes/rt-none/workers/w1/events/ws \
    --origin http://good.example --names "$T_DIR/names.txt" \
    --key Connection
t_check "wsproxy logs the refused name" \
    grep -q "request refused (400): header name 'Ho'" "$T_DIR/px.log"
t_check "runtime logs the refused name" \
    grep -q "request refused (400): header name 'Ho'" "$T_DIR/big.log"

# Malformed lines lws would merge with the next one.
for bad in 'Junk' ' folded' 'Host : x'; do
	t_check "runtime: header line '$bad' before Authorization -> 400" \
	    probe one --port "$big_PORT" --kind rest --path /v1/runtime \
	    --header "$bad" --header "Authorization: x" --expect 400
done

# ---- stalls -------------------------------------------------------------

stall_408() {	# stall_408 PORT: a half-sent head gets 408 in time
	local out
	out=$(probe stall --port "$1" --send 'GET / HTTP/1.1\r\nHost: x\r\n' \
	    --within 5)
	echo "$out"
	case $out in "HTTP/1.1 408 "*request_timeout*) return 0 ;; esac
	return 1
}
silent_close() {	# silent_close PORT: nothing sent, nothing answered
	local out
	out=$(probe stall --port "$1" --within 5)
	echo "$out"
	case $out in "closed "*) return 0 ;; esac
	return 1
}
# The four at once (each waits up to 5 s); results checked after.
stall_408 "$big_PORT" >"$T_DIR/stall-rt.out" 2>&1 & s1=$!
stall_408 "$PX_PORT" >"$T_DIR/stall-px.out" 2>&1 & s2=$!
silent_close "$big_PORT" >"$T_DIR/silent-rt.out" 2>&1 & s3=$!
silent_close "$PX_PORT" >"$T_DIR/silent-px.out" 2>&1 & s4=$!
waited() { local rc=0; wait "$1" || rc=$?; cat "$2"; return $rc; }
t_check "runtime: a stalled head gets 408 within 5 s" \
    waited $s1 "$T_DIR/stall-rt.out"
t_check "wsproxy: a stalled head gets 408 within 5 s" \
    waited $s2 "$T_DIR/stall-px.out"
t_check "runtime: a silent connection is closed within 5 s" \
    waited $s3 "$T_DIR/silent-rt.out"
t_check "wsproxy: a silent connection is closed within 5 s" \
    waited $s4 "$T_DIR/silent-px.out"

# At most 1024 connections wait for their head (the descriptor limit
# allowing); more are closed at once, and it recovers when they go.
flood() {
	local out
	out=$(probe flood --port "$short_PORT" --count 1030 --path /v1/runtime \
	    --token "$(cat "$T_DIR/short.token")")
	echo "$out"
	echo "$out" | grep -Eq '^while 1030 wait: (closed|reset)' &&
	    echo "$out" | grep -q '^after: HTTP/1.1 200'
}
t_check "runtime: over 1024 waiting heads, new connections are closed" flood
t_check "runtime: that is logged" \
    grep -q "1024 connections wait for their request head" "$T_DIR/short.log"

# ---- big heads ----------------------------------------------------------

BIGTOK=$(cat "$T_DIR/big.token")
# The longest worker id (256 bytes), every byte escaped: 768 bytes.
LONG_ID=$("$PY" -c 'print("%41" * 256)')
rest_big() {
	local code
	code=$(curl -s -m 5 -o "$T_DIR/rest.json" -w '%{http_code}' \
	    -H "Authorization: Bearer $BIGTOK" "http://127.0.0.1:$big_PORT$1")
	echo "$code $(head -c 200 "$T_DIR/rest.json")"
	[ "$code" = "$2" ] && grep -q "$3" "$T_DIR/rest.json"
}
t_check "runtime REST, 4096-byte token: 200" \
    rest_big /v1/runtime 200 '"runtime"'
t_check "runtime REST, 4096-byte token, 768-byte id: 404 worker_not_found" \
    rest_big "/v1/workers/$LONG_ID" 404 worker_not_found
BW=$(curl -s -m 5 -X POST -H "Authorization: Bearer $BIGTOK" \
    -H 'Content-Type: application/json' \
    -d '{"intent":{"kind":"task","objective":"t"},"profile":{"kind":"runtime_default"}}' \
    "http://127.0.0.1:$big_PORT/v1/workers" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["worker"]["worker_id"])')
t_check "runtime REST, 4096-byte token: worker created" test -n "$BW"
ws_first() {	# ws_first WANT ARGS...: first frame's kind
	local want=$1 out; shift
	out=$(probe ws "$@")
	echo "$out"
	[ "$out" = "$want" ]
}
t_check "runtime WS, 4096-byte token: snapshot" \
    ws_first event:snapshot --url "ws://127.0.0.1:$big_PORT/v1/workers/$BW/events/ws" \
    --token-file "$T_DIR/big.token"
t_check "runtime WS, 4096-byte token, 768-byte id: worker_not_found" \
    ws_first diagnostic:runtime.worker_not_found \
    --url "ws://127.0.0.1:$big_PORT/v1/workers/$LONG_ID/events/ws" \
    --token-file "$T_DIR/big.token"
t_check "wsproxy, 8 KiB Cookie: live stream (snapshot)" \
    ws_first event:snapshot --url "ws://127.0.0.1:$PX_PORT/api/runtimes/rt-a/workers/$W/events/ws" \
    --origin http://good.example --cookie-bytes 8192
HUGE="X-Big: $("$PY" -c 'print("h" * 20480)')"
t_check "runtime: a 20 KiB header gets 431 within 1 s" \
    probe one --port "$big_PORT" --kind rest --path /v1/runtime \
    --header "$HUGE" --expect 431
t_check "wsproxy: a 20 KiB header gets 431 within 1 s" \
    probe one --port "$PX_PORT" --kind ws \
    --path "/api/runtimes/rt-a/workers/$W/events/ws" \
    --origin http://good.example --header "$HUGE" --expect 431

t_check "no token in the logs" \
    eval '! grep -qF -- "${BIGTOK:0:64}" "$T_DIR"/*.log'
t_done
