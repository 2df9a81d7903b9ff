#!/bin/bash
# scripts/soak.sh — wrg soak run: minutes of mixed REST and WebSocket load
# through lighttpd while runtimes die and come back (issue 12 item 7).
#
# Usage: scripts/soak.sh [--duration SECONDS] [--seed N] [--keep] [BUILD_DIR]
#   --duration  load phase in seconds (default 180; 20 is a quick check)
#   --seed      seeds the chaos schedule and the clients (default: random,
#               printed so a run can be repeated)
#   --keep      keep the scratch dir (logs, runtime state)
#   BUILD_DIR   a tree where `make` has run (default: ./build-test, then
#               ./build, then the source tree)
#
# Builds nothing. Starts on 127.0.0.1 / Unix sockets in a scratch dir:
#   alpha  wrg-sample-runtime, TCP + bearer token   } --state-dir, a tick
#   beta   wrg-sample-runtime, Unix socket          } every 200 ms per worker
#   wrg.fcgi (-s unix:...) and wrg-wsproxy behind lighttpd (tests/webserver.sh,
#   the shipped conf/lighttpd snippets).
# Three workers per runtime are watched by browser sockets
# (tests/soak/soak_client.py, one asyncio process): steady readers, slow
# readers (10 ms per frame, stalls of 1-4 s), and browsers that vanish
# mid-stream (TCP abort or close) and come back with their last cursor.
# REST clients (threads, keep-alive, 25 req/s each) mix list, get,
# transcript, input, create, stop/cancel and bad requests.
# Meanwhile a chaos loop, every 0.5-2.5 s, does one of: SIGKILL a runtime
# and restart it on the same address and state dir; /_control/drop-ws (every
# upstream leg cut); SIGHUP wrg-wsproxy (config reload); SIGHUP wrg.fcgi
# (it has no reload: logged and ignored, it must not die); a burst of
# 20-600 events on one worker.
# Then: calm (every runtime up), one marker event per worker that each
# browser must receive, and the summary: requests by status and error
# code, events delivered / lost / duplicated per browser (against the
# runtimes' event logs: exactly once, except what `backend.resynced`
# declares), VmRSS and open fds of wrg.fcgi and wrg-wsproxy after warm-up,
# during the run and at the end, CPU of each (and of the client itself).
# Exit 0 only if nothing was lost or duplicated, every REST answer was a
# typed one the call may get, no secret leaked, and RSS / fds stayed
# within the tolerance below. docs/soak.md has the figures of a real run.
# Environment: SOAK_CLIENT_ARGS, extra options for tests/soak/soak_client.py
# (experiments: --create-every, --rest-rate, --steady/--slow/--vanish, ...).
# Not part of `make check` (minutes long, box-dependent): `make soak`.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)

DURATION=180
SEED=
KEEP=
build=
while [ $# -gt 0 ]; do
	case $1 in
	-h|--help)
		sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'
		exit 0 ;;
	--duration) DURATION=${2:?}; shift 2 ;;
	--duration=*) DURATION=${1#*=}; shift ;;
	--seed) SEED=${2:?}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-*) echo "soak: unknown option $1" >&2; exit 2 ;;
	*) build=$1; shift ;;
	esac
done
case $DURATION in ''|*[!0-9]*) echo "soak: --duration takes seconds" >&2; exit 2 ;; esac
[ -n "$SEED" ] || SEED=$(( $$ % 10000 ))

# shellcheck source=lib-stack.sh
. "$here/lib-stack.sh"
build=$(stack_find_build soak "$srcdir" "$build") || exit 2

stack_bins soak "$build" || exit 2
CLIENT=$srcdir/tests/soak/soak_client.py
command -v curl >/dev/null || { echo "soak: curl not installed" >&2; exit 2; }
"$PY" -c 'import websockets' 2>/dev/null ||
	{ echo "soak: $PY lacks websockets (apt-get install python3-websockets)" >&2; exit 2; }

WARMUP=10
SETTLE=60
THREADS=4
# The whole run is bounded: load + warm-up + calm + settle + start/stop.
MAXT=$(( DURATION + WARMUP + SETTLE + 150 ))

stack_use_tests "$build"
T_NAME=soak
RANDOM=$SEED

WD_PID=
CHAOS_PID=
CLIENT_PID=
soak_cleanup() {
	local pid rc=$? f
	[ -n "$WD_PID" ] && kill -TERM "$WD_PID" 2>/dev/null
	[ -n "$CLIENT_PID" ] && t_stop_pid "$CLIENT_PID"
	if [ -n "$CHAOS_PID" ]; then
		kill -TERM "$CHAOS_PID" 2>/dev/null
		wait "$CHAOS_PID" 2>/dev/null
	fi
	# The runtimes' current pids (the chaos loop restarts them).
	for f in "$T_DIR"/rt-*.pid; do
		[ -s "$f" ] && t_stop_pid "$(cat "$f")"
	done
	for pid in $T_PIDS; do t_stop_pid "$pid"; done
	stack_end_scratch "$rc" "$([ -n "$KEEP" ] && echo always || echo failed)"
}
trap soak_cleanup EXIT
trap 'echo "soak: interrupted (time limit ${MAXT}s?)" >&2; exit 124' TERM INT
stack_watchdog "$MAXT"

die() { echo "soak: $*" >&2; T_FAILS=$((T_FAILS + 1)); t_done; exit 1; }

# ---- runtimes -------------------------------------------------------------
TOK_alpha="soak-a-$$-$RANDOM$RANDOM"
ADDR_alpha="127.0.0.1:$(t_free_port)"
ADDR_beta="unix:$T_DIR/beta.sock"
# Retention covers the largest burst plus every other event while a
# vanished browser is away, so a resume never finds its cursor expired;
# an expiry would still be accounted (declared gap), not lost.
RT_ARGS=(--tick-ms 200 --retention 8192 --log-level warn)

# rt_start NAME — (re)start a runtime on its fixed address and state dir;
# its pid goes to $T_DIR/rt-NAME.pid (the chaos loop runs in a subshell).
rt_start() {
	local name=$1 addr tok i pid
	eval "addr=\$ADDR_$name"
	tok=
	[ "$name" = alpha ] && tok=$TOK_alpha
	rm -f "$T_DIR/$name.ready"
	"$RT" --listen "$addr" ${tok:+--token "$tok"} --state-dir "$T_DIR/state-$name" \
	    --ready-file "$T_DIR/$name.ready" "${RT_ARGS[@]}" \
	    >>"$T_DIR/rt-$name.log" 2>&1 &
	pid=$!
	# Out of the job table: a SIGKILLed runtime is expected, not news.
	disown "$pid"
	echo "$pid" >"$T_DIR/rt-$name.pid"
	for i in $(seq 1 100); do
		[ -s "$T_DIR/$name.ready" ] && return 0
		t_gone "$pid" && break
		sleep 0.05
	done
	echo "soak: runtime $name did not start" >&2
	return 1
}
rt_kill() {
	local pid
	pid=$(cat "$T_DIR/rt-$1.pid")
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
# rt_call NAME METHOD PATH [BODY] — direct call on a runtime (stdout: body)
rt_call() {
	local name=$1 method=$2 path=$3 body=${4:-} addr
	local args=(-s -m 5 -X "$method" -H 'Content-Type: application/json')
	eval "addr=\$ADDR_$name"
	[ -n "$body" ] && args+=(--data-binary "$body")
	[ "$name" = alpha ] && args+=(-H "Authorization: Bearer $TOK_alpha")
	case $addr in
	unix:*) curl "${args[@]}" --unix-socket "${addr#unix:}" "http://localhost$path" ;;
	*) curl "${args[@]}" "http://$addr$path" ;;
	esac
}

mkdir -p "$T_DIR/state-alpha" "$T_DIR/state-beta"
rt_start alpha || die "runtime alpha did not start"
rt_start beta || die "runtime beta did not start"

CREATE='{"intent":{"kind":"task","objective":"soak"},"profile":{"kind":"runtime_default"}}'
WATCH=()
for name in alpha beta; do
	for i in 1 2 3; do
		w=$(rt_call "$name" POST /v1/workers "$CREATE" |
		    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["worker"]["worker_id"])') ||
			die "cannot create a worker on $name"
		WATCH+=(--watch "$name:$w")
	done
done

# ---- wrg.fcgi, wrg-wsproxy, lighttpd ----------------------------------------
WSPORT=$(t_free_port)
cat >"$T_DIR/wrg.conf" <<EOF
// generated by scripts/soak.sh
{
  "api_prefix": "/api",
  "fcgi": {"threads": $THREADS},
  "wsproxy": {"listen": "127.0.0.1:$WSPORT", "send_queue_max_bytes": 262144,
              "ping_interval_s": 10},
  "runtimes": [
    {"id": "alpha", "base_url": "http://$ADDR_alpha", "token": "$TOK_alpha",
     "connect_timeout_ms": 1000, "request_timeout_ms": 5000},
    {"id": "beta", "base_url": "$ADDR_beta",
     "connect_timeout_ms": 1000, "request_timeout_ms": 5000}
  ]
}
EOF
FSOCK=$T_DIR/fcgi.sock
t_start_fcgi "$T_DIR/wrg.conf" "$FSOCK" || die "wrg.fcgi did not start"
FPID=$T_FCGI_PID
t_start_wsproxy "$T_DIR/wrg.conf" "$WSPORT" --log-level warn ||
	die "wrg-wsproxy did not start"
WSPID=$T_WSPROXY_PID
mkdir -p "$T_DIR/www"
echo '<!doctype html><title>soak</title>' >"$T_DIR/www/index.html"
WPORT=$(t_free_port)
t_webserver_start lighttpd "$WPORT" "$FSOCK" "127.0.0.1:$WSPORT" "$T_DIR/www" ||
	die "lighttpd did not start"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WPORT/api/workers")
t_check "stack up: GET /api/workers through lighttpd -> 200" [ "$code" = 200 ]
echo "# soak: seed $SEED, load ${DURATION}s after ${WARMUP}s warm-up;" \
    "runtimes alpha (tcp+token) and beta (unix), wrg.fcgi ($THREADS threads)," \
    "wrg-wsproxy, lighttpd :$WPORT; build $build"

# ---- chaos ------------------------------------------------------------------
# Runs in a subshell while $T_DIR/load.on exists (the client creates it
# after warm-up and removes it when the load phase ends); then makes sure
# every runtime is up and writes calm.ok. One line per action in chaos.log.
chaos() {
	local i n rt pid w burst watched=("$@")
	trap 'exit 0' TERM
	for i in $(seq 1 $(( (WARMUP + 60) * 10 ))); do
		[ -e "$T_DIR/load.on" ] && break
		sleep 0.1
	done
	while [ -e "$T_DIR/load.on" ]; do
		n=$(( RANDOM % 100 ))
		rt=alpha
		[ $(( RANDOM % 2 )) = 1 ] && rt=beta
		if [ "$n" -lt 25 ]; then
			rt_kill "$rt"
			sleep "0.$(( RANDOM % 10 ))$(( RANDOM % 10 ))"
			[ $(( RANDOM % 3 )) = 0 ] && sleep 1
			for i in 1 2 3 4 5; do rt_start "$rt" && break; sleep 0.5; done
			echo "kill+restart $rt" >>"$T_DIR/chaos.log"
		elif [ "$n" -lt 45 ]; then
			rt_call "$rt" POST /_control/drop-ws >/dev/null
			echo "drop-ws $rt" >>"$T_DIR/chaos.log"
		elif [ "$n" -lt 60 ]; then
			kill -HUP "$WSPID"
			echo "SIGHUP wrg-wsproxy" >>"$T_DIR/chaos.log"
		elif [ "$n" -lt 70 ]; then
			kill -HUP "$FPID"
			echo "SIGHUP wrg.fcgi" >>"$T_DIR/chaos.log"
		elif [ "$n" -lt 85 ]; then
			w=${watched[$(( RANDOM % ${#watched[@]} ))]}
			burst=$(( 20 + RANDOM % 581 ))
			rt_call "${w%%:*}" POST /_control/emit \
			    "{\"worker_id\":\"${w#*:}\",\"count\":$burst}" >/dev/null
			echo "burst ${w%%:*}" >>"$T_DIR/chaos.log"
		else
			echo "pause" >>"$T_DIR/chaos.log"
		fi
		sleep "$(( RANDOM % 2 )).$(( RANDOM % 10 ))"
		sleep 0.5
	done
	for rt in alpha beta; do
		pid=$(cat "$T_DIR/rt-$rt.pid")
		t_gone "$pid" && rt_start "$rt"
	done
	touch "$T_DIR/calm.ok"
}
W_ARGS=()
for ((i = 1; i < ${#WATCH[@]}; i += 2)); do W_ARGS+=("${WATCH[$i]}"); done
: >"$T_DIR/chaos.log"
chaos "${W_ARGS[@]}" &
CHAOS_PID=$!

# ---- load + accounting --------------------------------------------------------
# Tolerances (checked by the client between the sample after warm-up and
# the one at the end, both taken with REST paused and every browser
# connected):
#  RSS: 4 MiB or 10 %, whichever is more. glibc keeps freed memory in
#   per-thread arenas and the /api/workers answers grow with the workers
#   the run creates; a leak of one allocation per request (thousands of
#   requests, tens of thousands of events) exceeds that.
#  lighttpd is sampled too, for the record (it buffers what slow
#   browsers have not read yet), but not judged.
#  fds: wrg-wsproxy 0 — every browser socket and its upstream leg is back
#   to one each. wrg.fcgi: one kept-alive curl connection per thread and
#   runtime may or may not be open at a given moment (a SIGKILLed runtime
#   takes it away until that thread's next call): $THREADS x 2.
# Under --enable-sanitizers RSS says nothing (ASan's quarantine keeps
# freed memory, ~250 MiB): it is printed but not judged; the leak check
# is LeakSanitizer's at exit (below).
RSS_TOL=(--rss-tol-kb 4096 --rss-tol-pct 10)
if ldd "$FCGI" 2>/dev/null | grep -q libasan; then
	echo "# sanitizer build: RSS not judged, LeakSanitizer checks at exit"
	RSS_TOL=(--rss-tol-kb 100000000 --rss-tol-pct 0)
fi
SOAK_SECRETS=$(printf '%s\n' "$TOK_alpha" "$ADDR_alpha" "${ADDR_beta#unix:}" "$T_DIR")
export SOAK_SECRETS SOAK_TOKEN_alpha=$TOK_alpha
"$PY" "$CLIENT" --port "$WPORT" --dir "$T_DIR" --duration "$DURATION" \
    --warmup "$WARMUP" --settle "$SETTLE" --seed "$SEED" \
    --runtime "alpha=$ADDR_alpha,$T_DIR/state-alpha/events.jsonl" \
    --runtime "beta=$ADDR_beta,$T_DIR/state-beta/events.jsonl" \
    "${WATCH[@]}" --pid "wrg.fcgi=$FPID" --pid "wrg-wsproxy=$WSPID" \
    --pid "lighttpd=$T_WEBSERVER_PID" \
    --rss-tol "lighttpd=100000000" --fd-tol "lighttpd=100000" \
    "${RSS_TOL[@]}" \
    --fd-tol "wrg.fcgi=$(( THREADS * 2 ))" --fd-tol "wrg-wsproxy=0" \
    ${SOAK_CLIENT_ARGS:-} \
    >"$T_DIR/client.out" 2>"$T_DIR/client.log" &
CLIENT_PID=$!
wait "$CLIENT_PID"
crc=$?
CLIENT_PID=
cat "$T_DIR/client.out"
t_check "client accounting passed (exactly once, typed answers, RSS/fds flat; rc $crc)" \
    [ "$crc" -eq 0 ]
wait "$CHAOS_PID" 2>/dev/null
CHAOS_PID=
echo "SOAK chaos: $(sort "$T_DIR/chaos.log" | uniq -c |
    awk '{ n = $1; $1 = ""; printf "%s%s %d", sep, substr($0, 2), n; sep = ", " }')"
t_check "wrg.fcgi still running, same pid (SIGHUPs ignored)" kill -0 "$FPID"
t_check "wrg-wsproxy still running, same pid" kill -0 "$WSPID"
t_check "lighttpd still running" kill -0 "$T_WEBSERVER_PID"
hups=$(grep -c 'SIGHUP ignored' "$T_DIR/fcgi.log")
t_check "wrg.fcgi logged each SIGHUP ($hups of $(grep -c 'SIGHUP wrg.fcgi' "$T_DIR/chaos.log"))" \
    [ "$hups" = "$(grep -c 'SIGHUP wrg.fcgi' "$T_DIR/chaos.log")" ]

# Both daemons end on SIGTERM with status 0 (under --enable-sanitizers
# that is also where LeakSanitizer reports).
stop_daemon() {	# stop_daemon NAME PID LOG
	local rc=
	kill -TERM "$2" 2>/dev/null
	t_wait_gone "$2" 100
	wait "$2"
	rc=$?
	t_check "$1 exits 0 on SIGTERM (rc $rc)" [ "$rc" -eq 0 ]
	t_check "$1: no sanitizer report in its log" no_sanitizer_report "$3"
}
no_sanitizer_report() {
	! grep -q -e 'ERROR: AddressSanitizer' -e 'ERROR: LeakSanitizer' \
	    -e 'runtime error:' "$1"
}
stop_daemon wrg.fcgi "$FPID" "$T_DIR/fcgi.log"
stop_daemon wrg-wsproxy "$WSPID" "$T_DIR/wsproxy.log"
# What the logs said, by kind (ids, numbers and addresses folded).
log_kinds() {
	sed -E -e 's/^[^ ]+ (error|warn|info|debug) (req=[^ ]+ )?/\1 /' \
	    -e 's/\((https?|unix):[^)]*\)/(URL)/g' -e 's/(https?|unix):[^ ]*/URL/g' \
	    -e 's|/v1/workers/[^ ]*|/v1/workers/W|g' -e 's/[0-9]+/N/g' "$1" |
	    cut -c1-110 | sort | uniq -c | sort -rn | head -n "$2"
}
echo "SOAK logs: wrg.fcgi $(wc -l <"$T_DIR/fcgi.log") lines (at info)," \
    "wrg-wsproxy $(wc -l <"$T_DIR/wsproxy.log") lines (at warn)," \
    "lighttpd error.log $(wc -l <"$T_DIR/lighttpd/error.log") lines; most frequent:"
log_kinds "$T_DIR/fcgi.log" 6 | sed 's/^/SOAK   wrg.fcgi    /'
log_kinds "$T_DIR/wsproxy.log" 6 | sed 's/^/SOAK   wrg-wsproxy /'
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores; other work skews the figures)"
echo "elapsed $(( $(date +%s) - START )) s"
t_done
