#!/bin/bash
# wsproxy-metrics.sh — wrg-wsproxy's Prometheus metrics
# (wsproxy.metrics_listen), with real event streams through lighttpd
# (conf/lighttpd/wrg-wsproxy.conf) from a wrg-sample-runtime, parsed by
# Debian's python3-prometheus-client (tests/integration/prom.py). Checks:
# GET /metrics only (else 404), a stream opened and closed (streams and
# upstream legs per runtime), frames and bytes relayed, refused upgrades
# by reason, an upstream connect failure by type, a resync (expired
# cursor) and its reconnect, the send queue seen filling, a slow consumer
# cut (on a second proxy with small queues and a Unix socket listener),
# fds and RSS, and no token or address.
. "${top_srcdir:?}/tests/lib.sh"
. "$top_srcdir/tests/webserver.sh"

t_need_py_ws
t_need_py prometheus_client.parser python3-prometheus-client
t_need_built "$T_PX_BIN" "$T_RT_BIN"
CLIENT="$top_srcdir/tests/integration/wsproxy_client.py"
PROM="$top_srcdir/tests/integration/prom.py"
CAP="$T_DIR/capture.bin"
: >"$CAP"
TOKEN="wsm-secret-$$"
ORIGIN="http://good.example"

mkdir -p "$T_DIR/rt-state"
t_start_runtime RTA --token "$TOKEN" --state-dir "$T_DIR/rt-state" \
    --tick-ms 20 || exit 1
DOWN_PORT=$(t_free_port)
PX_PORT=$(t_free_port)
M_PORT=$(t_free_port)
# ping_interval_s 30: the readers below stop reading for 6 s, pongs
# included; with 5 s pings the proxy may rightly hang up on them as dead
# (close 1006) before their cut is sent.
write_conf() {	# write_conf FILE LISTEN METRICS_LISTEN QUEUE_BYTES [REPLAY_BYTES]
	cat >"$1" <<EOF
{
  "allowed_origins": ["$ORIGIN"],
  "wsproxy": {"listen": "$2", "metrics_listen": "$3",
              "send_queue_max_bytes": $4, "ping_interval_s": 30,
              "feed_replay_bytes": ${5:-1048576},
              "reconnect_initial_ms": 20, "reconnect_max_ms": 400},
  "runtimes": [
    {"id": "rt-a", "base_url": "http://127.0.0.1:$RTA_PORT",
     "token": "$TOKEN"},
    {"id": "rt-down", "base_url": "http://127.0.0.1:$DOWN_PORT",
     "connect_timeout_ms": 300}
  ]
}
EOF
}
write_conf "$T_DIR/wrg.conf" "127.0.0.1:$PX_PORT" "127.0.0.1:$M_PORT" 262144
"$T_PX_BIN" -c "$T_DIR/wrg.conf" >"$T_DIR/px.log" 2>&1 &
PX_PID=$!
t_track "$PX_PID"
t_wait_port "$PX_PORT" && t_wait_port "$M_PORT" || exit 1

WEB_PORT=$(t_free_port)
t_webserver_front lighttpd "$WEB_PORT" "$T_DIR/fcgi.sock" \
    "127.0.0.1:$PX_PORT"
url() { echo "ws://127.0.0.1:$WEB_PORT/api/runtimes/$1/workers/$2/events/ws${3:+?cursor=$3}"; }
read_ws() {	# read_ws OUT URL [client args]
	local out=$1 u=$2
	shift 2
	"$PY" "$CLIENT" read "$u" --origin "$ORIGIN" --out "$out" \
	    --capture "$CAP" "$@"
}
rt_api() {
	curl -s -m 5 -X "$1" -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' ${3:+-d "$3"} \
	    "http://127.0.0.1:$RTA_PORT$2"
}
MURL="http://127.0.0.1:$M_PORT/metrics"
m() { "$PY" "$PROM" "$MURL" "$@"; }
wait_metric() {	# wait_metric VALUE NAME [LABEL=V...]: at most ~10 s
	local want=$1 i
	shift
	for i in $(seq 1 100); do
		[ "$(m "$@")" = "$want" ] && return 0
		sleep 0.1
	done
	echo "  $* never became $want (is $(m "$@"))" >&2
	return 1
}
W1=$(t_create_worker "$RTA_PORT" "$TOKEN")
W2=$(t_create_worker "$RTA_PORT" "$TOKEN")
W3=$(t_create_worker "$RTA_PORT" "$TOKEN")

# ---- the listener -----------------------------------------------------------
t_check_metrics_page "GET /metrics" "$MURL"
t_check "another path: 404" is "$(curl -s -m 10 -o /dev/null \
    -w '%{http_code}' "http://127.0.0.1:$M_PORT/other")" 404
t_check "POST /metrics: 404" is "$(curl -s -m 10 -o /dev/null -d x \
    -w '%{http_code}' "$MURL")" 404
t_check "no streams yet" is "$(m wrg_wsproxy_streams_open)" 0
t_check "open fds reported" ge "$(m process_open_fds)" 3
t_check "RSS reported" ge "$(m process_resident_memory_bytes)" 100000

# ---- a stream opens and closes ----------------------------------------------
f0=$(m wrg_wsproxy_frames_relayed_total)
b0=$(m wrg_wsproxy_bytes_relayed_total)
c0=$(m wrg_wsproxy_upstream_connects_total runtime=rt-a)
F="$T_DIR/stream.txt"
read_ws "$F" "$(url rt-a "$W1")" --until-ticks 1000000 --timeout 10 &
RD=$!
t_track "$RD"
t_check "stream open: counted" wait_metric 1 wrg_wsproxy_streams_open
t_check "stream open: one upstream leg of rt-a" \
    wait_metric 1 wrg_wsproxy_upstream_legs_open runtime=rt-a
t_check "stream open: an upstream connect of rt-a" \
    is "$(m wrg_wsproxy_upstream_connects_total runtime=rt-a)" $((c0 + 1))
wait "$RD"
t_check "stream closed: none open" wait_metric 0 wrg_wsproxy_streams_open
t_check "stream closed: no leg open" \
    wait_metric 0 wrg_wsproxy_upstream_legs_open runtime=rt-a
# The browser hangs up at its timeout: a frame or two may be written and
# never read.
nframes=$(grep -vc '^#' "$F")
t_check "frames relayed: the frames the browser got ($nframes), +2 at most" \
    sh -c "f=\$('$PY' '$PROM' '$MURL' wrg_wsproxy_frames_relayed_total);
	[ \$f -ge $((f0 + nframes)) ] && [ \$f -le $((f0 + nframes + 2)) ]"
t_check "bytes relayed: at least a byte a frame" \
    ge "$(m wrg_wsproxy_bytes_relayed_total)" $((b0 + nframes))
t_check "streams opened: +1" is "$(m wrg_wsproxy_streams_opened_total)" 1

# ---- refused upgrades by reason ------------------------------------------------
o0=$(m wrg_wsproxy_upgrades_refused_total reason=origin)
"$PY" "$CLIENT" read "$(url rt-a "$W1")" --origin http://evil.example \
    --out "$T_DIR/evil.txt" --capture "$CAP" --timeout 5
t_check "bad origin refused: reason origin +1" \
    is "$(m wrg_wsproxy_upgrades_refused_total reason=origin)" $((o0 + 1))
n0=$(m wrg_wsproxy_upgrades_refused_total reason=not_upgrade)
curl -s -m 5 -o /dev/null "http://127.0.0.1:$PX_PORT/api/health"
t_check "plain HTTP refused: reason not_upgrade +1" \
    is "$(m wrg_wsproxy_upgrades_refused_total reason=not_upgrade)" $((n0 + 1))
u0=$(m wrg_wsproxy_upgrades_refused_total reason=runtime_not_found)
read_ws "$T_DIR/unknown.txt" "$(url rt-nope "$W1")" --timeout 5
t_check "unknown runtime: reason runtime_not_found +1" \
    is "$(m wrg_wsproxy_upgrades_refused_total reason=runtime_not_found)" $((u0 + 1))

# ---- an upstream connect failure by type ----------------------------------------
read_ws "$T_DIR/down.txt" "$(url rt-down "$W1")" --timeout 2
t_check "runtime down: failures of type unreachable" \
    ge "$(m wrg_wsproxy_upstream_connect_failures_total runtime=rt-down type=unreachable)" 1
t_check "runtime down: reconnects counted" \
    ge "$(m wrg_wsproxy_upstream_reconnects_total)" 1
t_check "runtime down: no leg left open" \
    wait_metric 0 wrg_wsproxy_upstream_legs_open runtime=rt-down

# ---- resync: an expired cursor ------------------------------------------------
r0=$(m wrg_wsproxy_resyncs_total)
rt_api POST /_control/emit "{\"worker_id\":\"$W2\",\"count\":1500}" >/dev/null
read_ws "$T_DIR/expired.txt" "$(url rt-a "$W1" wo_0000000000000001)" \
    --max-events 4 --timeout 10
t_check "expired cursor: the browser got backend.resynced" \
    grep -q backend.resynced "$T_DIR/expired.txt"
t_check "expired cursor: resyncs +1" \
    is "$(m wrg_wsproxy_resyncs_total)" $((r0 + 1))

# ---- send queues; a slow consumer ---------------------------------------------
# Straight to the proxy: a web server in between would hold the backlog
# in its own buffers instead of the proxy's send queue. Here (256 KiB
# queues) a reader that sleeps while bursts arrive shows its queue
# filling; the cut itself is counted on a second proxy with 16 KiB
# queues (the Unix socket one below), where it comes fast and surely.
wsurl() { echo "ws://127.0.0.1:$1/api/runtimes/rt-a/workers/$W3/events/ws"; }
bursts() {	# 20 bursts below the runtime's retention (1024): ~4 MB
	local i
	for i in $(seq 1 20); do
		rt_api POST /_control/emit \
		    "{\"worker_id\":\"$W3\",\"count\":1000}" >/dev/null
		sleep 0.1
	done
}
read_ws "$T_DIR/paused.txt" "$(wsurl "$PX_PORT")" --pause-after 1 \
    --pause 6 --rcvbuf 4096 --timeout 30 &
SLOW=$!
t_track "$SLOW"
sleep 1
"$PY" "$PROM" "$MURL" --max wrg_wsproxy_send_queue_bytes_max 5 \
    >"$T_DIR/qmax.txt" &
QPOLL=$!
t_track "$QPOLL"
bursts
wait "$QPOLL"
wait "$SLOW"
qmax=$(cat "$T_DIR/qmax.txt")
t_check "send queue seen filling (max $qmax bytes), within the cap" \
    sh -c "[ $qmax -gt 0 ] && [ $qmax -le 262144 ]"
t_check "send queues empty once the streams are gone" \
    wait_metric 0 wrg_wsproxy_send_queue_bytes

PX2_PORT=$(t_free_port)
# No replay ring there: a reader that fell behind the shared upstream
# catches up from the runtime, which keeps 1024 events, so after ~20,000
# its position is gone and it is cut (a slow consumer is cut only when it
# cannot catch up, docs/wsproxy.md).
write_conf "$T_DIR/wrg-unix.conf" "127.0.0.1:$PX2_PORT" \
    "unix:$T_DIR/m.sock" 16384 0
"$T_PX_BIN" -c "$T_DIR/wrg-unix.conf" >"$T_DIR/px2.log" 2>&1 &
t_track $!
t_wait_port "$PX2_PORT" && t_wait_unix "$T_DIR/m.sock" || exit 1
m2() { "$PY" "$PROM" "unix:$T_DIR/m.sock" "$@"; }
t_check "metrics_listen unix:/path serves /metrics" \
    is "$(m2 wrg_wsproxy_streams_open)" 0
t_check "the Unix socket is 0660" \
    is "$(stat -c %a "$T_DIR/m.sock")" 660
F="$T_DIR/slow.txt"
read_ws "$F" "$(wsurl "$PX2_PORT")" --pause-after 1 --pause 6 \
    --rcvbuf 4096 --timeout 60 &
SLOW=$!
t_track "$SLOW"
sleep 1
bursts
wait "$SLOW"
t_check "slow consumer: the browser got backend.slow_consumer" \
    grep -q backend.slow_consumer "$F"
grep -q backend.slow_consumer "$F" || {	# what it got instead, and why
	echo "# $(grep -c '"kind":"event"' "$F") events, then: $(tail -n 2 "$F" | cut -c1-200)"
	grep -v ' info' "$T_DIR/px2.log" | tail -n 5 | sed 's/^/# px2: /'
}
t_check "slow consumer: cuts +1" \
    is "$(m2 wrg_wsproxy_slow_consumer_cuts_total)" 1

# ---- redaction ---------------------------------------------------------------------
curl -s -m 10 -o "$T_DIR/m-last.txt" "$MURL"
t_check "no token or runtime address in the metrics" \
    t_leak_scan "$T_DIR/m-last.txt" "$TOKEN" "127.0.0.1" "$T_DIR"
t_check "nothing of it reached a browser" t_leak_scan "$CAP" "$TOKEN" \
    "wrg_wsproxy" "127.0.0.1:$RTA_PORT"

t_done
