#!/bin/bash
# fcgi-metrics.sh — wrg.fcgi's Prometheus metrics (fcgi.metrics_path)
# through a real web server, from the shipped snippet, parsed by Debian's
# python3-prometheus-client (tests/integration/prom.py):
#
#   WRG_TEST_SERVER=lighttpd|nginx|apache   (default lighttpd)
#
# Two wrg.fcgi processes share one state file: P1 behind the web server,
# P2 on a socket of its own reached with a FastCGI client. Checks: N
# requests -> +N by route/status/runtime, totals include both processes,
# an upstream error class and the latency histogram move, a process
# killed and restarted never makes a counter go backwards, the snippet's
# allow-list refuses a client other than 127.0.0.1 (from 127.0.0.2, still
# loopback), nothing of a runtime's address or token in the metrics, and
# metrics off by default.
. "${top_srcdir:?}/tests/lib.sh"
. "$top_srcdir/tests/webserver.sh"

WRG_TEST_SERVER=${WRG_TEST_SERVER:-lighttpd}
t_need_py prometheus_client.parser python3-prometheus-client
t_need_built "$T_FCGI_BIN" "$T_RT_BIN"
FCLI="$top_srcdir/tests/integration/fcgi_client.py"
PROM="$top_srcdir/tests/integration/prom.py"

TOKEN="metrics-secret-$$"
t_start_runtime RTA --token "$TOKEN" || exit 1
DOWN_PORT=$(t_free_port)	# nothing listens there
cat >"$T_DIR/wrg.conf" <<EOF
{
  "fcgi": {"threads": 2, "metrics_path": "/wrg-metrics",
           "metrics_state": "$T_DIR/fcgi-metrics"},
  "runtimes": [
    {"id": "rt-a", "base_url": "http://127.0.0.1:$RTA_PORT",
     "token": "$TOKEN"},
    {"id": "rt-down", "base_url": "http://127.0.0.1:$DOWN_PORT",
     "connect_timeout_ms": 300}
  ]
}
EOF

S1="$T_DIR/f1.sock"
S2="$T_DIR/f2.sock"
P1= P2=
start_fcgi() {	# start_fcgi N: process N on socket fN.sock, sets PN
	local s="$T_DIR/f$1.sock" pid
	"$T_FCGI_BIN" -c "$T_DIR/wrg.conf" -s "unix:$s" --socket-mode 0666 \
	    >>"$T_DIR/fcgi$1.log" 2>&1 &
	pid=$!
	t_track "$pid"
	printf -v "P$1" '%s' "$pid"
	t_wait_unix "$s"
}
kill9() {
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
start_fcgi 1 || exit 1
start_fcgi 2 || exit 1

WEB_PORT=$(t_free_port)
t_webserver_front "$WRG_TEST_SERVER" "$WEB_PORT" "$S1" \
    "127.0.0.1:$(t_free_port)"
MURL="$BASE/wrg-metrics"

m() { "$PY" "$PROM" "$MURL" "$@"; }
api() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$BASE$1"; }
direct() {	# direct N URI: N requests straight to P2's socket
	"$PY" "$FCLI" "unix:$S2" keepconn "$2" "$1" >/dev/null
}

HEALTH=(wrg_fcgi_requests_total route=health status=200)
RTA=(wrg_fcgi_requests_total route=runtime status=200 runtime=rt-a)

# ---- the page, its format -------------------------------------------------
t_check_metrics_page metrics "$MURL"
t_check "both processes on the state file" is "$(m wrg_fcgi_processes)" 2
t_check "nothing in flight" is "$(m wrg_fcgi_requests_in_flight)" 0
t_check "POST to the metrics: 405" \
    is "$(curl -s -m 10 -o /dev/null -w '%{http_code}' -d '' "$MURL")" 405

# ---- counters move with traffic ------------------------------------------
h0=$(m "${HEALTH[@]}")
r0=$(m "${RTA[@]}")
for i in 1 2 3 4 5; do api /api/health >/dev/null; done
for i in 1 2 3; do api /api/runtimes/rt-a >/dev/null; done
t_check "5 health requests -> +5" is "$(m "${HEALTH[@]}")" $((h0 + 5))
t_check "3 runtime requests -> +3, labelled rt-a" \
    is "$(m "${RTA[@]}")" $((r0 + 3))
t_check "latency histogram counts rt-a's calls" \
    ge "$(m wrg_fcgi_upstream_duration_seconds_count runtime=rt-a)" 3
t_check "histogram +Inf bucket equals its count" \
    is "$(m wrg_fcgi_upstream_duration_seconds_bucket runtime=rt-a le=+Inf)" \
    "$(m wrg_fcgi_upstream_duration_seconds_count runtime=rt-a)"
t_check "an unknown runtime: 404" is "$(api /api/runtimes/nope)" 404
t_check "counted under route runtime, status 404" \
    is "$(m wrg_fcgi_requests_total route=runtime status=404)" 1
e0=$(m wrg_fcgi_upstream_errors_total runtime=rt-down type=runtime_unreachable)
t_check "a request to a down runtime: 502" \
    is "$(api /api/runtimes/rt-down/workers)" 502
t_check "upstream error class counted: runtime_unreachable +1" \
    is "$(m wrg_fcgi_upstream_errors_total runtime=rt-down type=runtime_unreachable)" \
    $((e0 + 1))
t_check "request counted with its status and runtime" \
    is "$(m wrg_fcgi_requests_total route=runtime_workers status=502 runtime=rt-down)" 1

# ---- totals across processes ---------------------------------------------
h1=$(m "${HEALTH[@]}")
direct 4 /api/health
t_check "4 requests to the other process appear in the total" \
    is "$(m "${HEALTH[@]}")" $((h1 + 4))

# ---- kill and restart: never backwards ------------------------------------
h2=$(m "${HEALTH[@]}")
kill9 "$P2"
t_check "P2 killed: its counts stay" is "$(m "${HEALTH[@]}")" "$h2"
t_check "P2 killed: one process left" is "$(m wrg_fcgi_processes)" 1
rm -f "$S2"
start_fcgi 2 || exit 1
t_check "P2 restarted: two processes" is "$(m wrg_fcgi_processes)" 2
direct 2 /api/health
t_check "P2 restarted: counts go on from where they were" \
    is "$(m "${HEALTH[@]}")" $((h2 + 2))
# The process behind the web server too.
kill9 "$P1"
rm -f "$S1"
start_fcgi 1 || exit 1
for i in $(seq 1 50); do
	[ "$(api /api/health)" = 200 ] && break
	sleep 0.1
done
t_check "P1 restarted: counts never went backwards" \
    ge "$(m "${HEALTH[@]}")" $((h2 + 3))

# ---- the allow-list of the snippet ----------------------------------------
code=$(curl -s -m 10 --interface 127.0.0.2 -o "$T_DIR/denied.txt" \
    -w '%{http_code}' "$MURL")
t_check "metrics from 127.0.0.2: refused by the web server (403)" \
    is "$code" 403
t_check "refused: no metrics in the answer" \
    sh -c "! grep -q wrg_fcgi '$T_DIR/denied.txt'"
t_check "the API from 127.0.0.2 still answers" \
    is "$(curl -s -m 10 --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$BASE/api/health")" 200

# ---- redaction -------------------------------------------------------------
curl -s -m 10 -o "$T_DIR/m-last.txt" "$MURL"
t_check "no runtime address or token in the metrics" \
    t_leak_scan "$T_DIR/m-last.txt" "$TOKEN" "127.0.0.1" "$T_DIR"

# ---- off by default; unusable state file -----------------------------------
echo '{"runtimes": []}' >"$T_DIR/off.conf"
"$T_FCGI_BIN" -c "$T_DIR/off.conf" -s "unix:$T_DIR/off.sock" \
    >"$T_DIR/off.log" 2>&1 &
t_track $!
t_wait_unix "$T_DIR/off.sock"
t_check "metrics off by default: the path is an ordinary 404" \
    sh -c "'$PY' '$FCLI' 'unix:$T_DIR/off.sock' get /wrg-metrics | grep -q 'Status: 404'"
echo "{\"fcgi\": {\"metrics_path\": \"/m\", \"metrics_state\": \"$T_DIR/no/such/m\"}}" \
    >"$T_DIR/bad.conf"
t_check "an unusable state file stops startup" sh -c "
	! timeout 10 '$T_FCGI_BIN' -c '$T_DIR/bad.conf' -s 'unix:$T_DIR/bad.sock' 2>'$T_DIR/bad.log' &&
	grep -q 'metrics state' '$T_DIR/bad.log'"

t_done
