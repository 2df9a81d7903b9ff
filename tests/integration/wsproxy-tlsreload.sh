#!/bin/bash
# wsproxy-tlsreload.sh — SIGHUP makes wrg-wsproxy read TLS files rotated
# in place (issue 12 item 2): a CA file and a client certificate + key
# overwritten with new contents under the same paths, then SIGHUP.
#
# rt-one and rt-two name the same ca_file but sit behind TLS relays with
# different server certificates (one.pem, two.pem). The file first holds
# one.pem: a stream of rt-one runs, rt-two's stream cannot connect. The
# file is overwritten with two.pem and the proxy gets SIGHUP while
# rt-one's leg is still up on the old client vhost: rt-two's next connect
# must use the new CA (lws 4.1 shares one SSL_CTX between client vhosts
# whose file *paths* hash alike; a new vhost with the old paths got the
# old CA), rt-one's established leg keeps flowing, and once it ends the
# old vhost is retired (logged). A runtime requiring a client certificate
# gets one from a new issuer the same way.

. "${top_srcdir:?}/tests/lib.sh"

t_need_py_ws
command -v openssl >/dev/null 2>&1 || t_skip "no openssl CLI"
t_need_built "$T_RT_BIN" "$T_PX_BIN"
PX_BIN=$T_PX_BIN
CLIENT="$top_srcdir/tests/integration/wsproxy_client.py"
RELAY="$top_srcdir/tests/integration/wsproxy_tls_relay.py"
client() { "$PY" "$CLIENT" "$@"; }
TOKEN="tlsreload-secret-$$"
TLS=$T_DIR/tls
mkdir -p "$TLS"

# ---- certificates ---------------------------------------------------------

# Two self-signed server certificates for 127.0.0.1, each its own CA.
for n in one two; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -subj "/CN=127.0.0.1" \
	    -addext "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1" \
	    -keyout "$TLS/$n.key" -out "$TLS/$n.pem" >/dev/null 2>&1 ||
	    t_skip "openssl cannot make certificates"
done
# Two client CAs, each issuing one client certificate (c1, c2).
EC="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
printf 'extendedKeyUsage=clientAuth\n' >"$TLS/client.ext"
for n in 1 2; do
	{ openssl req -x509 $EC -days 2 -subj "/CN=wrg-test-cca$n" \
	    -keyout "$TLS/cca$n.key" -out "$TLS/cca$n.pem" &&
	  openssl req -new $EC -subj "/CN=wrg-test-client-$n" \
	    -keyout "$TLS/c$n.key" -out "$TLS/c$n.csr" &&
	  openssl x509 -req -days 2 -in "$TLS/c$n.csr" \
	    -CA "$TLS/cca$n.pem" -CAkey "$TLS/cca$n.key" -CAcreateserial \
	    -extfile "$TLS/client.ext" -out "$TLS/c$n.pem"
	} >/dev/null 2>&1 || t_skip "openssl cannot make certificates"
done
# The files the config names, rotated in place below.
cp "$TLS/one.pem" "$TLS/ca.pem"
cp "$TLS/c1.pem" "$TLS/client.pem"
cp "$TLS/c1.key" "$TLS/client.key"

# ---- runtime, relays, proxy -----------------------------------------------

t_start_runtime rt --token "$TOKEN" --tick-ms 50 || t_abort "runtime starts"
RT_PORT=$rt_PORT
W=$(t_create_worker "$RT_PORT" "$TOKEN")
t_check "worker created" test -n "$W"

ONE_PORT=$(t_free_port)
TWO_PORT=$(t_free_port)
MTLS_PORT=$(t_free_port)
"$PY" "$RELAY" "$TLS/one.pem" "$TLS/one.key" "$ONE_PORT" "$RT_PORT" \
    >>"$T_DIR/relay-one.log" 2>&1 &
t_track $!
"$PY" "$RELAY" "$TLS/two.pem" "$TLS/two.key" "$TWO_PORT" "$RT_PORT" \
    >>"$T_DIR/relay-two.log" 2>&1 &
t_track $!
# Requires a client certificate issued by cca2 (the rotated-in one).
"$PY" "$RELAY" "$TLS/one.pem" "$TLS/one.key" "$MTLS_PORT" "$RT_PORT" \
    "$TLS/cca2.pem" >>"$T_DIR/relay-mtls.log" 2>&1 &
t_track $!
t_wait_port "$ONE_PORT" && t_wait_port "$TWO_PORT" &&
    t_wait_port "$MTLS_PORT" || t_abort "relays start"

PX_PORT=$(t_free_port)
cat >"$T_DIR/wrg.conf" <<EOF
{
  "api_prefix": "/api",
  "allowed_origins": [],
  "wsproxy": {"listen": "127.0.0.1:$PX_PORT", "ping_interval_s": 5,
    "reconnect_initial_ms": 50, "reconnect_max_ms": 300},
  "runtimes": [
    {"id": "rt-one", "base_url": "https://127.0.0.1:$ONE_PORT",
     "token": "$TOKEN", "connect_timeout_ms": 1000,
     "tls": {"ca_file": "$TLS/ca.pem"}},
    {"id": "rt-two", "base_url": "https://127.0.0.1:$TWO_PORT",
     "token": "$TOKEN", "connect_timeout_ms": 1000,
     "tls": {"ca_file": "$TLS/ca.pem"}},
    {"id": "rt-mtls", "base_url": "https://127.0.0.1:$MTLS_PORT",
     "token": "$TOKEN", "connect_timeout_ms": 1000,
     "tls": {"ca_file": "$TLS/one.pem", "client_cert": "$TLS/client.pem",
             "client_key": "$TLS/client.key"}}
  ]
}
EOF
"$PX_BIN" -c "$T_DIR/wrg.conf" --log-level debug >>"$T_DIR/px.log" 2>&1 &
PX_PID=$!
t_track "$PX_PID"
t_wait_port "$PX_PORT" || t_abort "proxy starts"
url() { echo "ws://127.0.0.1:$PX_PORT/api/runtimes/$1/workers/$W/events/ws"; }
ticks_in() { grep -c '"event":"tick"' "$1" 2>/dev/null; }
reloads() { grep -c 'config reloaded' "$T_DIR/px.log"; }
hup() {	# SIGHUP and wait until that reload was applied
	local n
	n=$(reloads)
	kill -HUP "$PX_PID"
	for i in $(seq 1 100); do
		[ "$(reloads)" -gt "$n" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- before the rotation --------------------------------------------------

# rt-one first, so its vhost (ca.pem) is client-0.
ONE=$T_DIR/one.txt
"$PY" "$CLIENT" read "$(url rt-one)" --out "$ONE" --timeout 60 &
ONE_CLIENT=$!
t_track "$ONE_CLIENT"
t_check "before: rt-one (CA file holds one.pem) streams ticks" \
    t_wait_grep 100 '"event":"tick"' "$ONE"
TWO=$T_DIR/two.txt
"$PY" "$CLIENT" read "$(url rt-two)" --out "$TWO" --until-ticks 5 --timeout 30 &
TWO_CLIENT=$!
t_track "$TWO_CLIENT"
MT=$T_DIR/mtls.txt
"$PY" "$CLIENT" read "$(url rt-mtls)" --out "$MT" --until-ticks 5 --timeout 30 &
MT_CLIENT=$!
t_track "$MT_CLIENT"
t_wait_grep 100 backend.upstream_reconnecting "$TWO"
t_wait_grep 100 backend.upstream_reconnecting "$MT"
sleep 1
t_check "before: rt-two (server two.pem) gets no event" \
    sh -c "! grep -q '\"kind\":\"event\"' '$TWO'"
t_check "before: rt-mtls (client cert from the wrong CA) gets no event" \
    sh -c "! grep -q '\"kind\":\"event\"' '$MT'"
t_check "before: rt-mtls refused by the runtime's TLS front" \
    grep -q '^refused' "$T_DIR/relay-mtls.log"

# A SIGHUP that changes no file makes no new client vhost.
t_check "reload without changes: applied" hup
sleep 0.5
t_check "reload without changes: no TLS files changed" \
    sh -c "! grep -q 'TLS files of client vhost .* changed' '$T_DIR/px.log'"

# ---- rotation in place, SIGHUP --------------------------------------------

cat "$TLS/two.pem" >"$TLS/ca.pem"
cat "$TLS/c2.pem" >"$TLS/client.pem"
cat "$TLS/c2.key" >"$TLS/client.key"
N1=$(ticks_in "$ONE")
t_check "rotation: reload applied" hup
wait "$TWO_CLIENT"
t_check "rotated CA: rt-two connects with the new CA, ticks arrive" \
    client ticks "$TWO" --min 5
wait "$MT_CLIENT"
t_check "rotated client cert + key: rt-mtls connects, ticks arrive" \
    client ticks "$MT" --min 5
t_check "rotated client cert: the runtime saw the new certificate" \
    grep -q '^client CN=wrg-test-client-2$' "$T_DIR/relay-mtls.log"
t_check "rotation: both client vhosts' files logged as changed" \
    test "$(grep -c 'TLS files of client vhost .* changed' "$T_DIR/px.log")" = 2

# rt-one's leg, established before the rotation, keeps going on the old
# vhost; it is retired only when that leg ends.
sleep 1
t_check "old leg: still streaming after the rotation" \
    test "$(ticks_in "$ONE")" -gt "$((N1 + 5))"
t_check "old leg: never interrupted (no reconnect notice)" \
    sh -c "! grep -q backend.upstream_reconnecting '$ONE'"
t_check "old vhost of rt-one's leg: not retired while the leg is up" \
    test "$(grep -c 'retired: no upstream leg left' "$T_DIR/px.log")" = 1
kill "$ONE_CLIENT" 2>/dev/null
wait "$ONE_CLIENT" 2>/dev/null
t_check "old leg: ticks in order throughout" client ticks "$ONE" --min 10
for i in $(seq 1 50); do
	[ "$(grep -c 'retired: no upstream leg left' "$T_DIR/px.log")" -ge 2 ] &&
	    break
	sleep 0.1
done
t_check "old vhost retired once its last leg ended" \
    test "$(grep -c 'retired: no upstream leg left' "$T_DIR/px.log")" = 2
t_wait_grep 30 'client vhost client-0 freed' "$T_DIR/px.log"
t_check "old vhost freed by lws (SSL_CTX reference dropped)" \
    grep -q 'client vhost client-0 freed' "$T_DIR/px.log"

# New legs of rt-one use the new CA file: one.pem's server is no longer
# trusted.
ONE2=$T_DIR/one2.txt
client read "$(url rt-one)" --out "$ONE2" --timeout 2
t_check "new leg of rt-one: the new CA no longer trusts one.pem" \
    sh -c "grep -q backend.upstream_reconnecting '$ONE2' && ! grep -q '\"kind\":\"event\"' '$ONE2'"

t_check "rotation: the new vhost for ca.pem spelled its paths anew" \
    grep -q 'made (generation 1)' "$T_DIR/px.log"

# Rotating back while rt-two streams on the generation-1 vhost: rt-one's
# new vhost takes generation 0 again, free since client-0 was freed.
TWO2=$T_DIR/two2.txt
"$PY" "$CLIENT" read "$(url rt-two)" --out "$TWO2" --timeout 60 &
TWO2_CLIENT=$!
t_track "$TWO2_CLIENT"
t_wait_grep 100 '"event":"tick"' "$TWO2"
cat "$TLS/one.pem" >"$TLS/ca.pem"
t_check "rotation back: reload applied" hup
ONE3=$T_DIR/one3.txt
client read "$(url rt-one)" --out "$ONE3" --until-ticks 3 --timeout 20
t_check "rotation back: rt-one trusted again" client ticks "$ONE3" --min 3
N2=$(ticks_in "$TWO2")
sleep 0.5
t_check "rotation back: rt-two's leg on the older vhost still streams" \
    test "$(ticks_in "$TWO2")" -gt "$N2"
kill "$TWO2_CLIENT" 2>/dev/null
wait "$TWO2_CLIENT" 2>/dev/null

kill -TERM "$PX_PID"
wait "$PX_PID"
t_check "SIGTERM: proxy exits 0" test "$?" = 0
t_check "no sanitizer reports in the proxy log" \
    sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'LeakSanitizer' '$T_DIR/px.log'"

t_done
