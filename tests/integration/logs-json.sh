#!/bin/bash
# logs-json.sh — "log_format": "json" (issue 14): wrg.fcgi and
# wrg-wsproxy, behind lighttpd, each write one JSON object per line
# (time, level, program, pid, request_id, runtime_id, message); the
# request id of a browser's answer finds its line; a browser-chosen id
# and a hostile worker id cannot break a line or forge another; tokens
# stay out, as in text logs.
. "${top_srcdir:?}/tests/lib.sh"
. "$top_srcdir/tests/webserver.sh"

t_need_py_ws
t_need_built "$T_RT_BIN" "$T_PX_BIN" "$T_FCGI_BIN"
CLIENT="$top_srcdir/tests/integration/wsproxy_client.py"
TOKEN="json-log-token-$RANDOM$RANDOM"

t_start_runtime rt --token "$TOKEN" --state-dir "$T_DIR/rt-state" || exit 1
RT_PORT=$rt_PORT
DEAD_PORT=$(t_free_port)	# nothing listens: connect refused

PX_PORT=$(t_free_port)
cat >"$T_DIR/wrg.conf" <<CONF_END
{
  "log_format": "json",
  "wsproxy": {"listen": "127.0.0.1:$PX_PORT", "reconnect_initial_ms": 50,
              "reconnect_max_ms": 200},
  "runtimes": [
    {"id": "alpha", "base_url": "http://127.0.0.1:$RT_PORT",
     "token": "$TOKEN"},
    {"id": "dead", "base_url": "http://127.0.0.1:$DEAD_PORT",
     "token": "$TOKEN", "connect_timeout_ms": 500}
  ]
}
CONF_END
t_start_wsproxy wsproxy "$T_DIR/wrg.conf" "$PX_PORT" --log-level debug || exit 1
FSOCK="$T_DIR/fcgi.sock"
t_start_fcgi "$T_DIR/wrg.conf" "$FSOCK" --log-level debug || exit 1
WPORT=$(t_free_port)
t_webserver_front lighttpd "$WPORT" "$FSOCK" "127.0.0.1:$PX_PORT" \
    '<!doctype html><title>panel</title>'

# rest METHOD PATH [curl args] — sets STATUS and RID (X-Request-Id).
rest() {
	local m=$1 p=$2 line
	shift 2
	STATUS=$(curl -s -m 10 --path-as-is -g -X "$m" -o "$T_DIR/body" \
	    -D "$T_DIR/hdrs" -w '%{http_code}' "$@" "$BASE$p") || true
	RID=
	while IFS= read -r line; do
		line=${line%$'\r'}
		case ${line,,} in x-request-id:*) RID=${line#*: } ;; esac
	done <"$T_DIR/hdrs"
}

rest GET /api/runtimes/alpha/workers
t_check "list: 200" is "$STATUS" 200
rest POST /api/runtimes/alpha/workers -H 'Content-Type: application/json' \
    --data '{"intent":{"kind":"assistant"},"profile":{"kind":"runtime_default"}}'
t_check "create: 201" is "$STATUS" 201
W=$("$PY" -c 'import json, sys
print(json.load(open(sys.argv[1]))["worker"]["worker_ref"]["worker_id"])' \
    "$T_DIR/body")
rest GET /api/runtimes/dead/workers
t_check "dead runtime: 502" is "$STATUS" 502
DEAD_RID=$RID
# A browser-chosen id with a forged JSON line in it (refused, logged as
# offered), and a worker id with a quote and a backslash (lighttpd
# itself refuses control bytes in the path; test_wlog covers those).
rest GET '/api/runtimes/alpha/workers/q%22b%5Cc' \
    -H 'X-Request-Id: x"}{"level":"error"'
t_check "odd worker id: a typed answer" test -n "$RID"
ODD_RID=$RID
"$PY" "$CLIENT" read \
    "ws://127.0.0.1:$WPORT/api/runtimes/alpha/workers/$W/events/ws" \
    --max-events 1 --timeout 5 --out "$T_DIR/ws.out" >/dev/null 2>&1 || true
t_check "a stream through wrg-wsproxy" \
    test "$(tail -n 1 "$T_DIR/ws.out")" = "#done"
"$PY" "$CLIENT" read \
    "ws://127.0.0.1:$WPORT/api/runtimes/dead/workers/$W/events/ws" \
    --timeout 2 --out "$T_DIR/ws-dead.out" >/dev/null 2>&1 || true
kill -HUP "$wsproxy_PID"
t_wait_grep 50 reloaded "$T_DIR/wsproxy.log"

# check_log FILE PROGRAM — every line one JSON object with the
# documented fields and nothing else.
check_log() {
	"$PY" - "$1" "$2" <<'PY_END'
import json, sys
path, prog = sys.argv[1], sys.argv[2]
n = 0
for i, raw in enumerate(open(path, "rb").read().split(b"\n")[:-1], 1):
    try:
        o = json.loads(raw.decode("utf-8"))
    except Exception as e:
        sys.exit("line %d is not JSON (%s): %r" % (i, e, raw[:200]))
    if not isinstance(o, dict):
        sys.exit("line %d: not an object" % i)
    for k in ("time", "level", "program", "pid", "message"):
        if k not in o:
            sys.exit("line %d: no %s: %r" % (i, k, o))
    if o["level"] not in ("error", "warn", "info", "debug") or \
            o["program"] != prog or not isinstance(o["pid"], int):
        sys.exit("line %d: level/program/pid %r" % (i, o))
    if len(o["time"]) != 24 or not o["time"].endswith("Z"):
        sys.exit("line %d: time %r" % (i, o["time"]))
    extra = set(o) - {"time", "level", "program", "pid", "message",
                      "request_id", "runtime_id"}
    if extra:
        sys.exit("line %d: unknown fields %r" % (i, extra))
    n += 1
if n < 3:
    sys.exit("only %d lines" % n)
PY_END
}
t_check "wrg.fcgi: every line is one JSON object" \
    check_log "$T_DIR/fcgi.log" wrg.fcgi
t_check "wrg-wsproxy: every line is one JSON object" \
    check_log "$T_DIR/wsproxy.log" wrg-wsproxy
# jfind FILE EXPR — some line's object o makes the Python EXPR true.
jfind() {
	"$PY" - "$1" "$2" <<'PY_END'
import json, sys
for raw in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
    o = json.loads(raw)
    if eval(sys.argv[2]):
        sys.exit(0)
sys.exit("no line with " + sys.argv[2])
PY_END
}
t_check "the dead runtime's failure: its request id and runtime id" \
    jfind "$T_DIR/fcgi.log" "o.get('request_id') == '$DEAD_RID' and \
o.get('runtime_id') == 'dead' and o['level'] in ('warn', 'error')"
t_check "the forged id is refused: logged as invalid, never its text" \
    jfind "$T_DIR/fcgi.log" "o.get('request_id') == '$ODD_RID' and \
'offered_req=(invalid' in o['message']"
t_check "the forged text is nowhere in the log" \
    sh -c '! grep -qF "$1" "$2"' - '"}{"level"' "$T_DIR/fcgi.log"
t_check "wrg-wsproxy: the dead runtime's stream under its runtime id" \
    jfind "$T_DIR/wsproxy.log" "o.get('runtime_id') == 'dead'"
t_check "wrg-wsproxy: the reload" \
    jfind "$T_DIR/wsproxy.log" "'reloaded' in o['message']"
# A reload switches the format: back to text lines.
sed -i 's/"log_format": "json"/"log_format": "text"/' "$T_DIR/wrg.conf"
kill -HUP "$wsproxy_PID"
t_wait_grep 50 '^wrg-wsproxy\[[0-9]*\]: info: config reloaded' \
    "$T_DIR/wsproxy.log"
t_check "wrg-wsproxy: a reload to \"text\" writes text lines" \
    grep -q '^wrg-wsproxy\[[0-9]*\]: info: config reloaded' "$T_DIR/wsproxy.log"
t_check "no token in wrg.fcgi's log" t_leak_scan "$T_DIR/fcgi.log" "$TOKEN"
t_check "no token in wrg-wsproxy's log" t_leak_scan "$T_DIR/wsproxy.log" "$TOKEN"
t_done
