#!/bin/bash
# tests/integration/fcgi-binpath.sh — lighttpd spawning wrg.fcgi itself
# (conf/lighttpd/wrg-fcgi-binpath.conf: bin-path, config via WRG_CONFIG,
# the socket as fd 0), in front of a sample runtime on a Unix socket.
# Checks the API answers, that wrg.fcgi runs as lighttpd's child, and
# that it goes away with lighttpd.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/webserver.sh"
. "$top_srcdir/tests/webserver-lighttpd.sh"

FCGI="$top_builddir/src/wrg.fcgi"
RT="$top_builddir/tests/sample-runtime/wrg-sample-runtime"
[ -x "$FCGI" ] || t_skip "wrg.fcgi not built"
[ -x "$RT" ] || t_skip "wrg-sample-runtime not built"
command -v jq >/dev/null || t_skip "jq not installed"
CAPTURE="$T_DIR/capture.bin"
: >"$CAPTURE"

"$RT" --listen "unix:$T_DIR/rt.sock" --runtime-id own-id --log-level warn \
    >"$T_DIR/rt.log" 2>&1 &
t_track $!
t_wait_unix "$T_DIR/rt.sock" || exit 1
echo "{\"runtimes\": [{\"id\": \"local\", \"base_url\": \"unix:$T_DIR/rt.sock\"}]}" \
    >"$T_DIR/wrg.conf"

mkdir -p "$T_DIR/panel"
echo '<h1>panel</h1>' >"$T_DIR/panel/index.html"
PORT=$(t_free_port)
t_webserver_start_lighttpd_binpath "$PORT" "$T_DIR/wrg.conf" \
    "127.0.0.1:$(t_free_port)" "$T_DIR/panel"
rc=$?
[ "$rc" -eq 77 ] && t_skip "lighttpd not installed"
[ "$rc" -eq 0 ] || exit 1
LPID=$T_WEBSERVER_PID

req() {	# req METHOD PATH [curl args] -> STATUS, body in $T_DIR/body
	local m=$1 p=$2
	shift 2
	STATUS=$(curl -s -m 10 -X "$m" -o "$T_DIR/body" -w '%{http_code}' \
	    "$@" "http://127.0.0.1:$PORT$p")
	cat "$T_DIR/body" >>"$CAPTURE"
}
jget() { jq -r "$1" "$T_DIR/body"; }

req GET /api/health
t_check "health via bin-path" is "$STATUS" 200
t_check "health body" is "$(jget .runtime_count)" 1
req POST /api/runtimes/local/workers -H 'Content-Type: application/json' \
    --data '{"intent":{"kind":"assistant"},"profile":{"kind":"runtime_default"}}'
t_check "create via bin-path" is "$STATUS" 201
t_check "registry id in answer" is "$(jget .worker.worker_ref.runtime_id)" local
req GET /api/workers
t_check "list via bin-path" is "$(jget '.items | length')" 1
req GET /api/runtimes/local
t_check "unix runtime is local" is "$(jget .runtime.source.kind)" local
req GET /api/nope
t_check "typed 404" is "$STATUS $(jget .error.code)" "404 not_found"

CHILD=$(pgrep -P "$LPID" wrg.fcgi | head -1)
t_check "wrg.fcgi is lighttpd's child" [ -n "$CHILD" ]
t_check "socket created by lighttpd" [ -S "$T_DIR/lighttpd/wrg-fcgi.sock-0" ]
t_check "leak scan" t_leak_scan "$CAPTURE" "$T_DIR" "rt.sock" "own-id"

t_stop_pid "$LPID"
gone=no
if [ -n "$CHILD" ]; then
	t_wait_gone "$CHILD" 50 && gone=yes
	[ "$gone" = yes ] || kill "$CHILD" 2>/dev/null
fi
t_check "wrg.fcgi stops with lighttpd" is "$gone" yes

t_done
