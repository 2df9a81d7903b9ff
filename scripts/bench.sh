#!/bin/bash
# scripts/bench.sh — wrg benchmarks: print figures, check sanity.
#
# Usage: scripts/bench.sh [--ws|--rest] [BUILD_DIR]
#   BUILD_DIR   a configured tree where `make` has run (default:
#               ./build-test, then ./build, then the source tree itself)
#   --ws        only the WebSocket part (same as BENCH_PARTS=ws)
#   --rest      only the REST part (same as BENCH_PARTS=rest)
#
# Builds nothing. Starts on 127.0.0.1 / Unix sockets in a scratch dir:
#   alpha   wrg-sample-runtime, TCP, bearer token
#   beta    wrg-sample-runtime, Unix socket, no token
#   gamma   wrg-sample-runtime, TCP, another token (the WebSocket target)
#   wrg.fcgi (-s unix:...) behind lighttpd (tests/webserver.sh, from the
#   shipped conf/lighttpd snippets), and wrg-wsproxy.
# Then measures:
#   REST   (tests/bench/rest.sh, its own stack of eight runtimes) wrk
#          req/s, p50/p99 at -t2 -c32 (load) and -t1 -c1 (one client, no
#          queueing): the runtime direct, a hand-built nginx proxy_pass to
#          it (the anchor), nginx / lighttpd / Apache in front of wrg.fcgi
#          (shipped snippets) and of a trivial FastCGI responder (the
#          ceiling); GET one worker, GET /api/workers over 8 runtimes,
#          /api/health, POST input; CPU per request of the FastCGI app,
#          web server and wrk CPU; BENCH_REPEAT runs, medians;
#   fan-out /api/workers with the three runtimes delayed 300 ms each;
#   WS     tests/bench/ws.sh, with its own runtime, wrg-wsproxy and an
#          nginx raw relay: events/s, emit-to-browser latency, CPU, RSS
#          and runtime sockets at 1, 100, 1000, 10,000 browsers on one
#          worker and 1000 over 100 workers, driven by tests/bench/ws_load.
# Prints the table and `bench: N passed, M failed` (sanity checks: no
# errors or non-2xx in wrk, every event delivered once and in order,
# fan-out under 600 ms, ...). Exit 0 only when everything ran and passed.
#
# Environment: BENCH_DURATION (wrk seconds under load, default 4),
# BENCH_C1_DURATION (single-client seconds, default 2), BENCH_MAX (whole
# run limit in seconds, default 125 + 130 per BENCH_REPEAT for REST
# plus 600 per WS run), BENCH_KEEP=1 keeps the scratch dir, BENCH_PARTS
# ("rest ws"), BENCH_REPEAT (runs of each row, default 1: medians and
# min-max spread),
# BENCH_WS_LEVELS ("1 100 1000 10000"), BENCH_WS_SPREAD ("1000x100").
# Not part of `make check`: the figures are noisy and box-dependent.
# docs/bench.md explains the figures.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)

PARTS=${BENCH_PARTS:-rest ws}
case ${1:-} in
-h|--help)
	sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'
	exit 0 ;;
--ws) PARTS=ws; shift ;;
--rest) PARTS=rest; shift ;;
esac
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# shellcheck source=lib-stack.sh
. "$here/lib-stack.sh"
build=$(stack_find_build bench "$srcdir" "${1:-}") || exit 2

stack_bins bench "$build" || exit 2
WRKLUA=$srcdir/tests/bench/wrk-report.lua
part rest && { command -v wrk >/dev/null || { echo "bench: wrk not installed (apt-get install wrk)" >&2; exit 2; }; }
command -v curl >/dev/null || { echo "bench: curl not installed" >&2; exit 2; }

DUR=${BENCH_DURATION:-4}
DUR1=${BENCH_C1_DURATION:-2}
# One run of every REST row takes ~100 s (12 rows, 6 server starts); one
# WS run 4-8 min here (mostly opening 10,000 sockets x 3).
MAXT=${BENCH_MAX:-$(( $(part rest && echo $(( 125 + 130 * ${BENCH_REPEAT:-1} )) || echo 20) +
    $(part ws && echo $(( 600 * ${BENCH_REPEAT:-1} )) || echo 0) ))}

# The test helpers (scratch dir, ports, pid tracking, t_check), reused.
stack_use_tests "$build"
T_NAME=bench
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# 1000 browser sockets + 1000 upstream sockets in wrg-wsproxy.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WD_PID=
bench_cleanup() {
	local pid rc=$?
	[ -n "$WD_PID" ] && kill -TERM "$WD_PID" 2>/dev/null
	for pid in $T_PIDS; do t_stop_pid "$pid"; done
	stack_end_scratch "$rc" "${BENCH_KEEP:+always}"
}
trap bench_cleanup EXIT
trap 'echo "bench: interrupted (time limit ${MAXT}s?)" >&2; exit 124' TERM INT
# Watchdog: the whole run is bounded.
stack_watchdog "$MAXT"

die() { echo "bench: $*" >&2; T_FAILS=$((T_FAILS + 1)); t_done; exit 1; }

# The WebSocket part lives in its own file (its own stack, table).
# shellcheck source=../tests/bench/ws.sh
. "$srcdir/tests/bench/ws.sh"
# The REST part too (its own stack, table).
# shellcheck source=../tests/bench/rest.sh
. "$srcdir/tests/bench/rest.sh"
if ! part ws; then
	bench_rest
	echo
	bench_rest_table
	echo "load average at start: $LOAD0; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "elapsed $(( $(date +%s) - START )) s"
	t_done
	exit
fi
if ! part rest; then
	part ws || die "BENCH_PARTS names no part (rest, ws): $PARTS"
	ws_run
	ws_report
	echo "elapsed $(( $(date +%s) - START )) s"
	t_done
	exit
fi

# ---- start everything ---------------------------------------------------
TOK_A="bench-a-$$-$RANDOM"
TOK_G="bench-g-$$-$RANDOM"

# start_runtime NAME ARGS... — sets PORT_NAME (0 = unix) and PID_NAME
start_runtime() {
	local name=$1 pid
	shift
	"$RT" --ready-file "$T_DIR/$name.ready" --log-level warn "$@" \
	    >"$T_DIR/rt-$name.log" 2>&1 &
	pid=$!
	t_track "$pid"
	t_wait_file "$T_DIR/$name.ready" || die "runtime $name did not start"
	eval "PORT_$name=\$(cat \"\$T_DIR/\$name.ready\")"
	eval "PID_$name=$pid"
}
start_runtime alpha --listen 127.0.0.1:0 --token "$TOK_A"
start_runtime beta --listen "unix:$T_DIR/beta.sock"
# gamma serves the WebSocket benchmark: a large retention so a burst never
# overflows its per-socket send queue (retention + 4096 messages).
start_runtime gamma --listen 127.0.0.1:0 --token "$TOK_G" --retention 60000

WSPORT=$(t_free_port)
cat >"$T_DIR/wrg.conf" <<EOF
// generated by scripts/bench.sh — defaults except the listen address
{
  "api_prefix": "/api",
  "wsproxy": {"listen": "127.0.0.1:$WSPORT"},
  "runtimes": [
    {"id": "alpha", "base_url": "http://127.0.0.1:$PORT_alpha", "token": "$TOK_A"},
    {"id": "beta", "base_url": "unix:$T_DIR/beta.sock"},
    {"id": "gamma", "base_url": "http://127.0.0.1:$PORT_gamma", "token": "$TOK_G"}
  ]
}
EOF

FSOCK=$T_DIR/fcgi.sock
t_start_fcgi "$T_DIR/wrg.conf" "$FSOCK" || die "wrg.fcgi did not start"
FPID=$T_FCGI_PID

"$WSP" -c "$T_DIR/wrg.conf" --log-level warn >"$T_DIR/wsproxy.log" 2>&1 &
WSPID=$!
t_track "$WSPID"
t_wait_port "$WSPORT" || die "wrg-wsproxy did not start"

mkdir -p "$T_DIR/www"
echo '<!doctype html><title>bench</title>' >"$T_DIR/www/index.html"
WPORT=$(t_free_port)
t_webserver_start lighttpd "$WPORT" "$FSOCK" "127.0.0.1:$WSPORT" "$T_DIR/www" ||
	die "lighttpd did not start"
WEB=http://127.0.0.1:$WPORT
DA=http://127.0.0.1:$PORT_alpha
DG=http://127.0.0.1:$PORT_gamma

# rt NAME METHOD PATH [BODY] — a direct call on a runtime (stdout: body)
rt() {
	local name=$1 method=$2 path=$3 body=${4:-} port tok args
	eval "port=\$PORT_$name"
	case $name in alpha) tok=$TOK_A ;; gamma) tok=$TOK_G ;; *) tok= ;; esac
	args=(-s -m 5 -X "$method" -H 'Content-Type: application/json')
	[ -n "$body" ] && args+=(--data-binary "$body")
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	if [ "$port" = 0 ]; then
		curl "${args[@]}" --unix-socket "$T_DIR/$name.sock" "http://localhost$path"
	else
		curl "${args[@]}" "http://127.0.0.1:$port$path"
	fi
}
CREATE='{"intent":{"kind":"task","objective":"bench"},"profile":{"kind":"runtime_default"}}'
new_worker() {
	rt "$1" POST /v1/workers "$CREATE" |
	    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["worker"]["worker_id"])'
}
WA=$(new_worker alpha) || die "cannot create a worker on alpha"
WA_IN=$(new_worker alpha) || die "cannot create a worker on alpha"
WB=$(new_worker beta) || die "cannot create a worker on beta"
WG=$(new_worker gamma) || die "cannot create a worker on gamma"

code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$WEB/api/runtimes/alpha/workers/$WA")
t_check "stack up: GET a worker through lighttpd -> 200" [ "$code" = 200 ]
echo "# stack: 3 runtimes (alpha tcp+token, beta unix, gamma tcp+token)," \
    "wrg.fcgi on $FSOCK, lighttpd :$WPORT, wrg-wsproxy :$WSPORT; build $build"

# ---- REST (tests/bench/rest.sh) ------------------------------------------
bench_rest

# ---- parallel fan-out with three slow runtimes --------------------------
echo "# fan-out: every runtime delays each answer by 300 ms"
for n in alpha beta gamma; do
	rt "$n" POST /_control/fault '{"delay_ms": 300}' >/dev/null
done
FAN=()
fan_ok=0
for i in 1 2 3 4 5; do
	out=$(curl -s -m 5 -o "$T_DIR/fan.json" -w '%{http_code} %{time_total}' "$WEB/api/workers")
	FAN+=("${out#* }")
	items=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len({w["runtime_id"] for w in d["items"]}), len(d["diagnostics"]))' "$T_DIR/fan.json" 2>/dev/null)
	[ "${out%% *}" = 200 ] && [ "$items" = "3 0" ] && fan_ok=$((fan_ok + 1))
done
single=$(curl -s -m 5 -o /dev/null -w '%{time_total}' "$WEB/api/runtimes/alpha/workers/$WA")
for n in alpha beta gamma; do
	rt "$n" POST /_control/fault '{"delay_ms": 0}' >/dev/null
done
read -r fmin fmed fmax <<<"$(printf '%s\n' "${FAN[@]}" | sort -n |
    awk '{ v[NR] = $1 } END { printf "%.0f %.0f %.0f", v[1]*1000, v[3]*1000, v[NR]*1000 }')"
single_ms=$(awk -v t="$single" 'BEGIN { printf "%.0f", t * 1000 }')
t_check "fan-out: 5/5 answers 200 with all 3 runtimes, no diagnostics" [ "$fan_ok" -eq 5 ]
t_check "fan-out: slowest of 5 under 600 ms (${fmax} ms)" [ "$fmax" -lt 600 ]
t_check "fan-out: at least the delay (${fmin} ms >= 300)" [ "$fmin" -ge 300 ]
t_check "single delayed call >= 300 ms (${single_ms} ms)" [ "$single_ms" -ge 300 ]

# ---- WebSocket relay (tests/bench/ws.sh) -------------------------------
part ws && ws_run
t_check "wrg-wsproxy still running" kill -0 "$WSPID"
t_check "wrg.fcgi still running" kill -0 "$FPID"

# ---- the table ----------------------------------------------------------
echo
bench_rest_table
echo
echo "== fan-out: GET /api/workers, 3 runtimes each delayed 300 ms (5 runs) =="
echo "min ${fmin} ms, median ${fmed} ms, max ${fmax} ms (one delayed runtime alone: ${single_ms} ms; serial would be ~900 ms)"
part ws && ws_report
echo
echo "load average at start: $LOAD0; at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the box skews every figure)"
echo "elapsed $(( $(date +%s) - START )) s"
t_done
