#!/bin/bash
# tests/integration/fcgi-tls.sh — wrg.fcgi talking https to a runtime:
# a real wrg-sample-runtime behind a TLS-terminating relay (the wsproxy
# tests' wsproxy_tls_relay.py) with a throwaway self-signed certificate for
# IP 127.0.0.1, through lighttpd. Checks that tls.ca_file makes it work,
# that verification is on by default (no CA: runtime_tls_failed; a name
# the certificate does not carry: runtime_tls_failed), that verify=false
# turns it off, and that nothing about the remote leaks.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/webserver.sh"

FCGI="$top_builddir/src/wrg.fcgi"
RT="$top_builddir/tests/sample-runtime/wrg-sample-runtime"
PY=${PYTHON3_SYS:-/usr/bin/python3}
RELAY="$top_srcdir/tests/integration/wsproxy_tls_relay.py"
[ -x "$FCGI" ] || t_skip "wrg.fcgi not built"
[ -x "$RT" ] || t_skip "wrg-sample-runtime not built"
command -v openssl >/dev/null || t_skip "openssl not installed"
command -v jq >/dev/null || t_skip "jq not installed"
[ -f "$RELAY" ] || t_skip "TLS relay script missing"
CAPTURE="$T_DIR/capture.bin"
: >"$CAPTURE"
TOK="tok-tls-$$-$RANDOM"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T_DIR/key.pem" \
    -out "$T_DIR/cert.pem" >"$T_DIR/openssl.log" 2>&1 ||
	t_skip "openssl cannot make a test certificate"

"$RT" --listen 127.0.0.1:0 --token "$TOK" --ready-file "$T_DIR/rt.ready" \
    --log-level warn >"$T_DIR/rt.log" 2>&1 &
t_track $!
for i in $(seq 1 100); do [ -s "$T_DIR/rt.ready" ] && break; sleep 0.1; done
RPORT=$(cat "$T_DIR/rt.ready")
TPORT=$(t_free_port)
"$PY" "$RELAY" "$T_DIR/cert.pem" "$T_DIR/key.pem" "$TPORT" "$RPORT" \
    >"$T_DIR/relay.log" 2>&1 &
t_track $!
t_wait_port "$TPORT" || exit 1

cat >"$T_DIR/wrg.conf" <<EOF
{"runtimes": [
  {"id": "tls-ok", "base_url": "https://127.0.0.1:$TPORT", "token": "$TOK",
   "tls": {"ca_file": "$T_DIR/cert.pem"}},
  {"id": "tls-noca", "base_url": "https://127.0.0.1:$TPORT", "token": "$TOK"},
  {"id": "tls-wrongname", "base_url": "https://localhost:$TPORT",
   "token": "$TOK", "tls": {"ca_file": "$T_DIR/cert.pem"}},
  {"id": "tls-noverify", "base_url": "https://127.0.0.1:$TPORT",
   "token": "$TOK", "tls": {"verify": false}}
]}
EOF
"$FCGI" -c "$T_DIR/wrg.conf" -s "unix:$T_DIR/fcgi.sock" --socket-mode 0666 \
    2>"$T_DIR/fcgi.log" &
t_track $!
t_wait_unix "$T_DIR/fcgi.sock" || exit 1
mkdir -p "$T_DIR/panel"
WPORT=$(t_free_port)
t_webserver_start lighttpd "$WPORT" "$T_DIR/fcgi.sock" \
    "127.0.0.1:$(t_free_port)" "$T_DIR/panel"
rc=$?
[ "$rc" -eq 77 ] && t_skip "lighttpd not installed"
[ "$rc" -eq 0 ] || exit 1

req() {	# req METHOD PATH [curl args] -> STATUS, body in $T_DIR/body
	local m=$1 p=$2
	shift 2
	STATUS=$(curl -s -m 15 -X "$m" -o "$T_DIR/body" -D "$T_DIR/hdrs" \
	    -w '%{http_code}' "$@" "http://127.0.0.1:$WPORT$p")
	cat "$T_DIR/hdrs" "$T_DIR/body" >>"$CAPTURE"
}
jget() { jq -r "$1" "$T_DIR/body"; }
is() { [ "$1" = "$2" ] || { echo "  got '$1', want '$2'" >&2; return 1; }; }

req GET /api/runtimes/tls-ok/workers
t_check "https with ca_file works" is "$STATUS" 200
req POST /api/runtimes/tls-ok/workers -H 'Content-Type: application/json' \
    --data '{"intent":{"kind":"assistant"},"profile":{"kind":"runtime_default"}}'
t_check "POST over https" is "$STATUS $(jget .worker.runtime_id)" "201 tls-ok"
req GET /api/runtimes/tls-noca/workers
t_check "no CA: verification fails" is "$STATUS $(jget .error.code)" \
    "502 runtime_tls_failed"
req GET /api/runtimes/tls-wrongname/workers
t_check "wrong name: verification fails" is "$STATUS $(jget .error.code)" \
    "502 runtime_tls_failed"
req GET /api/runtimes/tls-noverify/workers
t_check "verify=false accepts it" is "$STATUS" 200
req GET /api/runtimes
t_check "runtimes statuses" is "$(jget '[.items[].status] | join(",")')" \
    "available,error,error,available"
t_check "transport https" is "$(jget '[.items[].source.transport] | unique | join(",")')" https
t_check "TLS detail only in the log" grep -q 'tls failure' "$T_DIR/fcgi.log"
t_check "leak scan" t_leak_scan "$CAPTURE" "$TOK" ":$TPORT" ":$RPORT" \
    "127.0.0.1:" "$T_DIR" "cert.pem" "localhost:" "certificate" "OpenSSL"

t_done
