#!/bin/bash
# wrg-wsproxy: one shared upstream per watched worker (issue 10).
# Real wrg-wsproxy, real wrg-sample-runtimes on loopback, Python
# websockets browsers (tests/integration/wsproxy_shared.py):
#  - N browsers on a worker hold one runtime socket; a burst reaches each
#    once, in order;
#  - browsers joining under load, with and without cursors (behind the
#    live position, inside and outside the replay ring, and with no ring
#    at all: their own leg hands over to the shared one), see every tick
#    once;
#  - a dropped upstream: one backend.upstream_reconnecting per browser,
#    no gap;
#  - a slow but steady browser gets all of a multi-MiB burst without
#    holding up the others; one that stops reading is cut
#    (backend.slow_consumer) once the runtime no longer has its position;
#  - the shared upstream closes a linger after the last browser left;
#  - a reload that changes nothing about a runtime keeps its shared
#    upstreams (browsers after it join them: no second runtime socket).
. "${top_srcdir:?}/tests/lib.sh"

t_need_built "$T_RT_BIN" "$T_PX_BIN"
t_need_py_ws
command -v ss >/dev/null || t_skip "ss (iproute2) not installed"
CLIENT=$top_srcdir/tests/integration/wsproxy_shared.py
TOKEN=shared-token-$$

t_start_runtime quiet --token "$TOKEN" --retention 60000 ||
    t_abort "runtime quiet starts"
t_start_runtime tick --token "$TOKEN" --tick-ms 10 ||
    t_abort "runtime tick starts"
t_start_runtime small --token "$TOKEN" --retention 2000 ||
    t_abort "runtime small starts"
W1=$(t_create_worker "$quiet_PORT" "$TOKEN")
W2=$(t_create_worker "$quiet_PORT" "$TOKEN")
W3=$(t_create_worker "$tick_PORT" "$TOKEN")
W4=$(t_create_worker "$small_PORT" "$TOKEN")
W5=$(t_create_worker "$small_PORT" "$TOKEN")
t_check "workers created" test -n "$W1" -a -n "$W2" -a -n "$W3" -a -n "$W4"

# start_proxy NAME REPLAY_BYTES: a wrg-wsproxy for the three runtimes;
# sets ${NAME}_PORT and ${NAME}_PID.
# A 10 s connect timeout: on a loaded CI box under ASan a browser's own
# connection to a runtime busy with a 20,000-event burst took over the
# default 2 s, and a reconnect notice is not what these checks are about.
start_proxy() {
	local name=$1 replay=$2 port
	port=$(t_free_port)
	cat >"$T_DIR/$name.conf" <<EOC
{
  "api_prefix": "/api",
  "allowed_origins": [],
  "wsproxy": {"listen": "127.0.0.1:$port", "ping_interval_s": 60,
              "send_queue_max_bytes": 65536, "feed_linger_ms": 1000,
              "feed_replay_bytes": $replay,
              "reconnect_initial_ms": 20, "reconnect_max_ms": 500},
  "runtimes": [
    {"id": "quiet", "base_url": "http://127.0.0.1:$quiet_PORT", "token": "$TOKEN",
     "connect_timeout_ms": 10000},
    {"id": "tick", "base_url": "http://127.0.0.1:$tick_PORT", "token": "$TOKEN",
     "connect_timeout_ms": 10000},
    {"id": "small", "base_url": "http://127.0.0.1:$small_PORT", "token": "$TOKEN",
     "connect_timeout_ms": 10000}
  ]
}
EOC
	"$T_PX_BIN" -c "$T_DIR/$name.conf" --log-level "${PX_LOG_LEVEL:-info}" \
	    >>"$T_DIR/$name.log" 2>&1 &
	t_track $!
	printf -v "${name}_PID" '%s' "$!"
	printf -v "${name}_PORT" '%s' "$port"
	t_wait_port "$port"
}
start_proxy px 262144 || t_abort "proxy starts"
start_proxy px0 0 || t_abort "proxy without ring starts"

# scenario NAME PROXY RUNTIME_ID RUNTIME_PORT ARGS...: runs one scenario
# of the client and counts its ok / not ok lines.
scenario() {
	local sc=$1 px=$2 rid=$3 rport=$4 out line
	shift 4
	# SHARED_ONLY="SCENARIO..." runs just those (while working on them).
	case " ${SHARED_ONLY:-$sc} " in *" $sc "*) ;; *) return 0 ;; esac
	local pport pid
	pport=${px}_PORT; pid=${px}_PID
	out=$("$PY" "$CLIENT" "$sc" --px "ws://127.0.0.1:${!pport}" \
	    --rt "127.0.0.1:$rport" --token "$TOKEN" --px-pid "${!pid}" \
	    --runtime-id "$rid" "$@" 2>&1)
	echo "$out" | grep -v '^ok - \|^not ok - '
	while IFS= read -r line; do
		case $line in
		"ok - "*) t_check "${line#ok - }" true ;;
		"not ok - "*) t_check "${line#not ok - }" false ;;
		esac
	done <<<"$out"
	echo "$out" | grep -q '^\(not \)\{0,1\}ok - ' ||
	    t_check "scenario $sc ran" false
}

scenario fanout px quiet "$quiet_PORT" --worker "$W1" --worker "$W2" \
    --conns 25 --count 500
# 300 browsers arriving together: more than the 256 own legs allowed at
# once (session.c), so some wait their turn for a snapshot.
scenario fanout px quiet "$quiet_PORT" --worker "$W1" --worker "$W2" \
    --conns 150 --count 50
scenario join px tick "$tick_PORT" --worker "$W3" --conns 24
scenario join px0 tick "$tick_PORT" --worker "$W3" --conns 12
scenario drop px tick "$tick_PORT" --worker "$W3" --conns 8
# The slow reader takes at least 20000 * 0.0008 = 16 s; the fast ones
# ~9 s on a CI box under ASan (the client's own CPU is their limit).
scenario slow px quiet "$quiet_PORT" --worker "$W1" --count 20000 \
    --slow-delay 0.0008
scenario cut px small "$small_PORT" --worker "$W4" --count 1000 --rounds 40
# Alone on its worker: the feed closes while it is stuck (linger 1 s).
scenario cut px small "$small_PORT" --worker "$W5" --count 1000 --rounds 40 \
    --fast 0 --linger 1.0
scenario linger px quiet "$quiet_PORT" --worker "$W2" --linger 1.0
# Last: it reloads px (the same file, so nothing about the runtimes
# changes).
scenario reload px quiet "$quiet_PORT" --worker "$W1" --count 200 \
    --px-log "$T_DIR/px.log"

t_check "proxy still running" kill -0 "$px_PID"
for f in "$T_DIR"/px.log "$T_DIR"/px0.log; do
	t_check "no sanitizer reports in $(basename "$f")" \
	    sh -c "! grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$f'"
done
t_check "the token is never in the proxy logs" \
    sh -c "! grep -q -F '$TOKEN' '$T_DIR/px.log' '$T_DIR/px0.log'"
t_done
