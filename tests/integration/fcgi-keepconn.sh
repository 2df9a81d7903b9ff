#!/bin/bash
# fcgi-keepconn.sh — FastCGI connection reuse never starves wrg.fcgi
# (issue 11). nginx runs the shipped site (conf/nginx/wrg.conf.in:
# `fastcgi_keep_conn on`, upstream `keepalive 32`) in front of a wrg.fcgi
# with 4 threads. 80 concurrent browsers make nginx open far more FastCGI
# connections than wrg.fcgi has threads, and its two worker processes
# keep up to 32 each open and idle afterwards. While nginx holds them,
# another client of the same socket (a direct FastCGI client, as a second
# web server or a health check would be) must be answered within 3 s, and
# nginx must keep being served on its kept connections (reused, not
# reopened). With libfcgi's thread-per-connection accept (wrg.fcgi before
# issue 11) the 4 threads sit on 4 idle kept connections: the other client
# and most of nginx's requests hang.
# Then the protocol corners a web server may use: FCGI_KEEP_CONN kept
# across requests, closed without it, GET_VALUES, a second request id on
# a busy connection refused with FCGI_CANT_MPX_CONN; and a peer that
# stalls mid-head is closed by the head deadline.
. "${top_srcdir:?}/tests/lib.sh"

FCGI=$top_builddir/src/wrg.fcgi
RT=$top_builddir/tests/sample-runtime/wrg-sample-runtime
PY=${PYTHON3_SYS:-/usr/bin/python3}
CLIENT="$top_srcdir/tests/integration/fcgi_client.py"
[ -x "$FCGI" ] || t_skip "wrg.fcgi not built"
[ -x "$RT" ] || t_skip "wrg-sample-runtime not built"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
	t_skip "nginx not installed"

# A runtime answering every call after 100 ms, so that the browsers'
# requests overlap at wrg.fcgi and nginx needs many connections at once.
t_start_runtime rt --fault-delay-ms 100 || exit 1
RT_PORT=$rt_PORT
cat >"$T_DIR/wrg.conf" <<EOF
{"fcgi": {"threads": 4},
 "runtimes": [{"id": "rt", "base_url": "http://127.0.0.1:$RT_PORT"}]}
EOF
SOCK=$T_DIR/fcgi.sock
t_start_fcgi "$T_DIR/wrg.conf" "$SOCK" || exit 1
FPID=$T_FCGI_PID

. "$top_srcdir/tests/webserver.sh"
WEB=$(t_free_port)
t_webserver_front nginx "$WEB" "$SOCK" 127.0.0.1:9 \
    '<!doctype html><title>wrg</title>'
t_check "the shipped site keeps FastCGI connections" \
    grep -q 'fastcgi_keep_conn on;' "$T_DIR/nginx/wrg-site.conf"

# Connections accepted on wrg.fcgi's socket (the server ends: their local
# address is the socket path).
kept() { ss -xn state connected 2>/dev/null | grep -cF " $SOCK "; }

# 80 browsers at once, 3 requests each, every one bounded.
cat >"$T_DIR/load.py" <<'EOF'
import sys, threading, urllib.request
url, n = sys.argv[1], int(sys.argv[2])
ok = [0]
lock = threading.Lock()
def one():
    for _ in range(3):
        try:
            with urllib.request.urlopen(url, timeout=15) as r:
                if r.status == 200:
                    with lock:
                        ok[0] += 1
        except Exception:
            pass
ts = [threading.Thread(target=one) for _ in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print(ok[0])
EOF
URL="http://127.0.0.1:$WEB/api/runtimes/rt"
OK=$(timeout 60 "$PY" "$T_DIR/load.py" "$URL" 80)
echo "# load: ${OK:-none} of 240 answered 200"
t_check "80 browsers through nginx keep-conn: all 240 answered" \
    test "${OK:-0}" = 240
sleep 0.5
K=$(kept)
echo "# kept FastCGI connections held by nginx: $K"
t_check "nginx holds more kept connections than wrg.fcgi has threads" \
    test "$K" -ge 32

# While nginx holds them idle: another client is served, promptly.
START=$(date +%s%N)
timeout 10 "$PY" "$CLIENT" "unix:$SOCK" get /api/runtimes/rt --timeout 5 \
    >"$T_DIR/other.out" 2>&1
MS=$(( ($(date +%s%N) - START) / 1000000 ))
echo "# other client: $(head -1 "$T_DIR/other.out") in $MS ms"
t_check "another client served while nginx holds $K kept connections" \
    grep -q '^Status: 200' "$T_DIR/other.out"
t_check "... within 3 s" test "$MS" -lt 3000
t_check "the connections are still held" test "$(kept)" -ge 32

# nginx goes on using its kept connections: no new ones.
OK2=$(timeout 30 "$PY" "$T_DIR/load.py" "$URL" 8)
t_check "nginx served again on its kept connections" test "${OK2:-0}" = 24
t_check "... reused, not reopened" test "$(kept)" -le "$K"

# Protocol corners. Meanwhile a peer that sends half a request head and
# stalls is closed by the head deadline (10 s, FCGILOOP_HEAD_MS).
timeout 25 "$PY" "$CLIENT" "unix:$SOCK" slowhead --timeout 20 \
    >"$T_DIR/slowhead.out" 2>&1 &
SLOW=$!
timeout 10 "$PY" "$CLIENT" "unix:$SOCK" keepconn /api/runtimes/rt 3 \
    >"$T_DIR/keep.out" 2>&1
t_check "FCGI_KEEP_CONN: three requests on one connection" \
    test "$(grep -c '^Status: 200' "$T_DIR/keep.out")" = 3
t_check "FCGI_KEEP_CONN: the connection stays open" \
    test "$(tail -1 "$T_DIR/keep.out")" = open
t_check "without FCGI_KEEP_CONN: closed after the answer" \
    eval 'timeout 10 "$PY" "$CLIENT" "unix:$SOCK" get /api/runtimes/rt >/dev/null'
timeout 10 "$PY" "$CLIENT" "unix:$SOCK" values >"$T_DIR/values.out" 2>&1
t_check "GET_VALUES: FCGI_MPXS_CONNS=0" \
    grep -qx 'FCGI_MPXS_CONNS=0' "$T_DIR/values.out"
t_check "GET_VALUES: FCGI_MAX_CONNS answered" \
    grep -qx 'FCGI_MAX_CONNS=[1-9][0-9]*' "$T_DIR/values.out"
t_check "GET_VALUES: unknown names left out" \
    test "$(wc -l <"$T_DIR/values.out")" = 3
timeout 10 "$PY" "$CLIENT" "unix:$SOCK" mpx /api/runtimes/rt \
    >"$T_DIR/mpx.out" 2>&1
t_check "first request id served" grep -qx '1 0 Status: 200 OK' \
    "$T_DIR/mpx.out"
t_check "second id on the busy connection: FCGI_CANT_MPX_CONN" \
    grep -qx '2 1' "$T_DIR/mpx.out"
wait "$SLOW"
echo "# stalled head: $(cat "$T_DIR/slowhead.out")"
t_check "a stalled request head is closed after 10..12 s" \
    grep -Eqx 'closed after 1[0-2] s' "$T_DIR/slowhead.out"
t_check "wrg.fcgi still running" kill -0 "$FPID"
t_done
