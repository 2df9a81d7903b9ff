#!/bin/bash
# fcgi-probe.sh — `wrg.fcgi --probe [--json]` (issue 14): one call per
# registry runtime with its token and TLS settings. Up: a sample runtime
# over TCP with its token, one on a Unix socket, one behind TLS (a
# certificate valid 30 days: tls_days_left 29 or 30). Down, each typed:
# a wrong token (unauthorized), a closed port (unreachable), a socket that
# accepts and never answers (timeout), a TLS runtime without its CA (tls),
# an answer that is not a RuntimeSummary (bad_response). Exit status 1
# while any is down, 0 when all are up; the token never printed; control
# bytes from a runtime never reach the terminal.
. "${top_srcdir:?}/tests/lib.sh"

t_need_built "$T_FCGI_BIN" "$T_RT_BIN"
FCGI=$T_FCGI_BIN
PY=${PYTHON3_SYS:-/usr/bin/python3}
RELAY="$top_srcdir/tests/integration/wsproxy_tls_relay.py"
command -v openssl >/dev/null || t_skip "openssl not installed"
TOK="tok-probe-$$-$RANDOM"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 30 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T_DIR/key.pem" -out "$T_DIR/cert.pem" \
    >"$T_DIR/openssl.log" 2>&1 ||
	t_skip "openssl cannot make a test certificate"

t_start_runtime rt --token "$TOK" || exit 1
RPORT=$rt_PORT
"$T_RT_BIN" --listen "unix:$T_DIR/rt.sock" --log-level warn \
    >"$T_DIR/rt-u.log" 2>&1 &
t_track $!
t_wait_unix "$T_DIR/rt.sock" || exit 1
TPORT=$(t_free_port)
"$PY" "$RELAY" "$T_DIR/cert.pem" "$T_DIR/key.pem" "$TPORT" "$RPORT" \
    >"$T_DIR/relay.log" 2>&1 &
t_track $!
t_wait_port "$TPORT" || exit 1
# A peer that accepts and stays silent, and one answering 200 with a
# body that is no RuntimeSummary and holds terminal escapes.
"$PY" - "$T_DIR/peers.ports" <<'PY_END' >"$T_DIR/peers.log" 2>&1 &
import socket, sys, threading, time
silent = socket.socket(); silent.bind(("127.0.0.1", 0)); silent.listen(16)
odd = socket.socket(); odd.bind(("127.0.0.1", 0)); odd.listen(16)
open(sys.argv[1], "w").write("%d %d\n" % (silent.getsockname()[1],
                                          odd.getsockname()[1]))
held = []
def hold():
    while True:
        c, _ = silent.accept(); held.append(c)
def answer():
    while True:
        c, _ = odd.accept()
        c.recv(65536)
        body = b'{"runtime": "\x1b[31mred\x1b[0m"}'
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                  % (len(body), body))
        c.close()
threading.Thread(target=hold, daemon=True).start()
threading.Thread(target=answer, daemon=True).start()
time.sleep(120)
PY_END
t_track $!
for i in $(seq 1 50); do [ -s "$T_DIR/peers.ports" ] && break; sleep 0.1; done
read -r SILENT_PORT ODD_PORT <"$T_DIR/peers.ports"
DEAD_PORT=$(t_free_port)

cat >"$T_DIR/all.conf" <<CONF_END
{"runtimes": [
  {"id": "alpha", "base_url": "http://127.0.0.1:$RPORT", "token": "$TOK"},
  {"id": "local", "base_url": "unix:$T_DIR/rt.sock"},
  {"id": "tls-ok", "base_url": "https://127.0.0.1:$TPORT", "token": "$TOK",
   "tls": {"ca_file": "$T_DIR/cert.pem"}},
  {"id": "badtoken", "base_url": "http://127.0.0.1:$RPORT",
   "token": "not-$TOK"},
  {"id": "dead", "base_url": "http://127.0.0.1:$DEAD_PORT",
   "connect_timeout_ms": 500},
  {"id": "silent", "base_url": "http://127.0.0.1:$SILENT_PORT",
   "connect_timeout_ms": 500, "request_timeout_ms": 700},
  {"id": "tls-noca", "base_url": "https://127.0.0.1:$TPORT", "token": "$TOK"},
  {"id": "odd", "base_url": "http://127.0.0.1:$ODD_PORT"}
]}
CONF_END
cat >"$T_DIR/up.conf" <<CONF_END
{"runtimes": [
  {"id": "alpha", "base_url": "http://127.0.0.1:$RPORT", "token": "$TOK"},
  {"id": "local", "base_url": "unix:$T_DIR/rt.sock"},
  {"id": "tls-ok", "base_url": "https://127.0.0.1:$TPORT", "token": "$TOK",
   "tls": {"ca_file": "$T_DIR/cert.pem"}}
]}
CONF_END

START=$(date +%s%N)
"$FCGI" --probe --json -c "$T_DIR/all.conf" >"$T_DIR/all.json" \
    2>"$T_DIR/all.err"
RC=$?
MS=$(( ($(date +%s%N) - START) / 1000000 ))
t_check "--probe --json: exit 1 while runtimes are down" is "$RC" 1
t_check "the runtimes are probed at once (${MS} ms < 3000)" test "$MS" -lt 3000
# field ID KEY — a runtime's field in the JSON report ("None" if absent).
field() {
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["runtimes"] if x["id"] == sys.argv[2]][0]
print(r.get(sys.argv[3]))' "$T_DIR/all.json" "$1" "$2"
}
t_check "the report is JSON with 5 down, 3 up" is "$("$PY" -c 'import json, sys
d = json.load(open(sys.argv[1])); print(d["down"], d["up"], len(d["runtimes"]))' \
    "$T_DIR/all.json")" "5 3 8"
for id in alpha local tls-ok; do
	t_check "$id: up" is "$(field "$id" up)" True
	t_check "$id: status running" is "$(field "$id" status)" running
	t_check "$id: the limits it reports" \
	    is "$(field "$id" limits | grep -c max_event_batch_items)" 1
done
t_check "alpha: worker_count" is "$(field alpha worker_count)" 0
t_check "tls-ok: 29 or 30 days left" \
    sh -c 'case "$1" in 29|30) exit 0 ;; esac; echo "  got $1" >&2; exit 1' \
    - "$(field tls-ok tls_days_left)"
t_check "alpha (plain http): no tls_days_left" \
    is "$(field alpha tls_days_left)" None
t_check "badtoken: unauthorized" is "$(field badtoken error)" unauthorized
t_check "badtoken: HTTP 401" is "$(field badtoken http_status)" 401
t_check "dead: unreachable" is "$(field dead error)" unreachable
t_check "silent: timeout" is "$(field silent error)" timeout
t_check "tls-noca: tls" is "$(field tls-noca error)" tls
t_check "odd: bad_response" is "$(field odd error)" bad_response
t_check "every down runtime has a detail" "$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(any(not r["up"] and not r.get("detail") for r in d["runtimes"]))' \
    "$T_DIR/all.json"

"$FCGI" --probe -c "$T_DIR/all.conf" >"$T_DIR/all.txt" 2>&1
t_check "--probe (table): exit 1" is "$?" 1
t_check "table: a line per runtime and a header" \
    is "$(wc -l <"$T_DIR/all.txt")" 9
t_check "table: alpha up" grep -qE '^alpha +up ' "$T_DIR/all.txt"
t_check "table: dead DOWN unreachable" \
    grep -qE '^dead +DOWN .*unreachable' "$T_DIR/all.txt"
t_check "table: tls-ok days left" grep -qE '^tls-ok .*tls_days_left=(29|30)' \
    "$T_DIR/all.txt"
t_check "table: no control byte from a runtime" \
    sh -c '! LC_ALL=C grep -q "$(printf "\033")" "$1"' - "$T_DIR/all.txt"
t_check "the token is never printed" \
    t_leak_scan "$T_DIR/all.txt" "$TOK"
t_check "the token is never printed (json, stderr)" \
    t_leak_scan "$T_DIR/all.json" "$TOK"
t_check "nor on stderr" t_leak_scan "$T_DIR/all.err" "$TOK"

"$FCGI" --probe -c "$T_DIR/up.conf" >"$T_DIR/up.txt" 2>&1
t_check "--probe: exit 0 when every runtime is up" is "$?" 0
"$FCGI" --probe --check-config -c "$T_DIR/up.conf" >/dev/null 2>&1
t_check "--probe with --check-config: usage error" is "$?" 2
"$FCGI" --json -c "$T_DIR/up.conf" >/dev/null 2>&1
t_check "--json without --probe: usage error" is "$?" 2
t_done
