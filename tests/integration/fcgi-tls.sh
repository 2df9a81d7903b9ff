#!/bin/bash
# tests/integration/fcgi-tls.sh — wrg.fcgi talking https to a runtime:
# a real wrg-sample-runtime behind a TLS-terminating relay (the wsproxy
# tests' wsproxy_tls_relay.py) with a throwaway self-signed certificate for
# IP 127.0.0.1, through lighttpd. Checks that tls.ca_file makes it work,
# that verification is on by default (no CA: runtime_tls_failed; a name
# the certificate does not carry: runtime_tls_failed), that verify=false
# turns it off, and that nothing about the remote leaks. A second relay
# requires a client certificate from its own CA (mutual TLS): reached with
# tls.client_cert + client_key (or a cert+key PEM), refused with
# runtime_tls_failed without one or with a certificate from another CA.
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
# Mutual TLS: a client CA, a client certificate it issued (key apart and
# in one PEM with the certificate), and a self-signed impostor.
{ t_make_client_certs "$T_DIR" &&
  openssl req -x509 $T_EC_KEY -days 2 -subj /CN=wrg-test-impostor \
    -keyout "$T_DIR/rogue.key" -out "$T_DIR/rogue.pem"
} >>"$T_DIR/openssl.log" 2>&1 || t_skip "openssl cannot make client certificates"

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
MPORT=$(t_free_port)
"$PY" "$RELAY" "$T_DIR/cert.pem" "$T_DIR/key.pem" "$MPORT" "$RPORT" \
    "$T_DIR/cca.pem" >"$T_DIR/mrelay.log" 2>&1 &
t_track $!
t_wait_port "$MPORT" || exit 1

cat >"$T_DIR/wrg.conf" <<EOF
{"runtimes": [
  {"id": "tls-ok", "base_url": "https://127.0.0.1:$TPORT", "token": "$TOK",
   "tls": {"ca_file": "$T_DIR/cert.pem"}},
  {"id": "tls-noca", "base_url": "https://127.0.0.1:$TPORT", "token": "$TOK"},
  {"id": "tls-wrongname", "base_url": "https://localhost:$TPORT",
   "token": "$TOK", "tls": {"ca_file": "$T_DIR/cert.pem"}},
  {"id": "tls-noverify", "base_url": "https://127.0.0.1:$TPORT",
   "token": "$TOK", "tls": {"verify": false}},
  {"id": "mtls-ok", "base_url": "https://127.0.0.1:$MPORT", "token": "$TOK",
   "tls": {"ca_file": "$T_DIR/cert.pem", "client_cert": "$T_DIR/client.pem",
           "client_key": "$T_DIR/client.key"}},
  {"id": "mtls-onepem", "base_url": "https://127.0.0.1:$MPORT",
   "token": "$TOK", "tls": {"ca_file": "$T_DIR/cert.pem",
                            "client_cert": "$T_DIR/client-both.pem"}},
  {"id": "mtls-nocert", "base_url": "https://127.0.0.1:$MPORT",
   "token": "$TOK", "tls": {"ca_file": "$T_DIR/cert.pem"}},
  {"id": "mtls-rogue", "base_url": "https://127.0.0.1:$MPORT",
   "token": "$TOK", "tls": {"ca_file": "$T_DIR/cert.pem",
   "client_cert": "$T_DIR/rogue.pem", "client_key": "$T_DIR/rogue.key"}}
]}
EOF
"$FCGI" -c "$T_DIR/wrg.conf" -s "unix:$T_DIR/fcgi.sock" --socket-mode 0666 \
    2>"$T_DIR/fcgi.log" &
t_track $!
t_wait_unix "$T_DIR/fcgi.sock" || exit 1
WPORT=$(t_free_port)
t_webserver_front lighttpd "$WPORT" "$T_DIR/fcgi.sock" \
    "127.0.0.1:$(t_free_port)"

req() {	# req METHOD PATH [curl args] -> STATUS, body in $T_DIR/body
	local m=$1 p=$2
	shift 2
	STATUS=$(curl -s -m 15 -X "$m" -o "$T_DIR/body" -D "$T_DIR/hdrs" \
	    -w '%{http_code}' "$@" "http://127.0.0.1:$WPORT$p")
	cat "$T_DIR/hdrs" "$T_DIR/body" >>"$CAPTURE"
}
jget() { jq -r "$1" "$T_DIR/body"; }

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

# Mutual TLS. Without an acceptable client certificate the relay aborts
# the handshake with a certificate_required / unknown_ca alert, which
# under TLS 1.3 curl reads only after sending its request (CURLE_RECV_ERROR,
# not an SSL code): wrg.fcgi still calls it a TLS failure, not an
# unreachable runtime, and nothing reaches the runtime.
req GET /api/runtimes/mtls-ok/workers
t_check "mTLS: client_cert + client_key accepted" \
    is "$STATUS $(jget '.items | type')" "200 array"
t_check "mTLS: the relay saw our client certificate" \
    grep -q '^client CN=wrg-test-client$' "$T_DIR/mrelay.log"
req POST /api/runtimes/mtls-ok/workers -H 'Content-Type: application/json' \
    --data '{"intent":{"kind":"assistant"},"profile":{"kind":"runtime_default"}}'
t_check "mTLS: POST" is "$STATUS $(jget .worker.runtime_id)" "201 mtls-ok"
req GET /api/runtimes/mtls-onepem/workers
t_check "mTLS: certificate and key in one PEM accepted" is "$STATUS" 200
req GET /api/runtimes/mtls-nocert/workers
t_check "mTLS: no client certificate -> runtime_tls_failed" \
    is "$STATUS $(jget .error.code)" "502 runtime_tls_failed"
req GET /api/runtimes/mtls-rogue/workers
t_check "mTLS: certificate of another CA -> runtime_tls_failed" \
    is "$STATUS $(jget .error.code)" "502 runtime_tls_failed"
t_check "mTLS: refusals logged as TLS failures, with the alert" sh -c \
    "grep -q 'rt=mtls-nocert:.*tls failure.*alert certificate required' '$T_DIR/fcgi.log' &&
     grep -q 'rt=mtls-rogue:.*tls failure.*alert unknown ca' '$T_DIR/fcgi.log'"
# Accepted handshakes: one per connection, and a worker thread reuses its
# kept connection when it serves the next request to that runtime (which
# thread serves which request is up to the kernel), so at least one.
t_check "mTLS: the relay refused both, nothing else" sh -c \
    "[ \$(grep -c '^refused:' '$T_DIR/mrelay.log') = 2 ] &&
     [ \$(grep -c '^client CN=wrg-test-client\$' '$T_DIR/mrelay.log') -ge 1 ] &&
     [ \$(grep -vc '^refused:\|^client CN=wrg-test-client\$' '$T_DIR/mrelay.log') = 0 ]"

req GET /api/runtimes
t_check "runtimes statuses" is "$(jget '[.items[].status] | join(",")')" \
    "available,error,error,available,available,available,error,error"
t_check "transport https" is "$(jget '[.items[].source.transport] | unique | join(",")')" https
t_check "TLS detail only in the log" grep -q 'tls failure' "$T_DIR/fcgi.log"
t_check "leak scan" t_leak_scan "$CAPTURE" "$TOK" ":$TPORT" ":$RPORT" \
    "127.0.0.1:" "$T_DIR" "cert.pem" "localhost:" "certificate" "OpenSSL" \
    ":$MPORT" "client.pem" "client.key" "rogue.pem" "wrg-test-client" "alert"

t_done
