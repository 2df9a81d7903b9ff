#!/bin/bash
# wsproxy-dnshang.sh — a SIGHUP whose DNS lookups hang must not freeze
# the streams (issue 12 item 3): wrg-wsproxy resolves runtime hosts on
# reload in a background thread.
#
# The whole test runs in its own network and mount namespace (unshare -n
# -m, root): loopback only, and /etc/resolv.conf bind-mounted to one that
# names 127.0.0.1, where a UDP socket swallows every query, with
# "options timeout:4 attempts:1". A runtime host name then takes ~4 s
# (or a multiple, per search domain) to fail. A stream with a tick every
# 50 ms runs while the config gains a runtime with such a name and gets
# SIGHUP twice: the largest gap between two ticks must stay under 1 s
# (the old proxy resolved on its service thread: a gap of the whole
# lookup). Then SIGTERM during such a reload: the proxy exits at once
# (the stuck thread is not waited for), 0, and clean under ASan.
# Skipped (77) where namespaces cannot be made.

if [ -z "${WRG_DNSHANG_NS:-}" ]; then
	if ! unshare -n -m true 2>/dev/null; then
		echo "SKIP: cannot unshare network and mount namespaces"
		exit 77
	fi
	WRG_DNSHANG_NS=1 exec unshare -n -m /bin/bash "$0" "$@"
fi

. "${top_srcdir:?}/tests/lib.sh"

ip link set lo up 2>/dev/null || t_skip "cannot bring up lo in the namespace"
t_need_py_ws
t_need_built "$T_RT_BIN" "$T_PX_BIN"
PX_BIN=$T_PX_BIN
TOKEN="dnshang-secret-$$"
HANG_NAME=runtime.wrg-dnshang.test
DNS_TIMEOUT=4

# ---- a resolver that never answers -----------------------------------------

"$PY" -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
open("'"$T_DIR"'/dns.ready", "w").close()
end = time.time() + 120
while time.time() < end:
    s.settimeout(1)
    try:
        s.recvfrom(4096)      # swallowed: no answer, ever
    except socket.timeout:
        pass' 2>>"$T_DIR/dns.log" &
t_track $!
for i in $(seq 1 50); do [ -e "$T_DIR/dns.ready" ] && break; sleep 0.1; done
[ -e "$T_DIR/dns.ready" ] || t_skip "cannot bind 127.0.0.1:53 in the namespace"
printf 'nameserver 127.0.0.1\noptions timeout:%s attempts:1\n' \
    "$DNS_TIMEOUT" >"$T_DIR/resolv.conf"
mount --bind "$T_DIR/resolv.conf" /etc/resolv.conf 2>/dev/null ||
	t_skip "cannot bind-mount /etc/resolv.conf"
# The lookup must really hang here (no /etc/hosts entry, no other
# resolver in nsswitch), else the test proves nothing.
T0=$(date +%s%N)
getent ahosts "$HANG_NAME" >/dev/null 2>&1
HANG_MS=$((($(date +%s%N) - T0) / 1000000))
echo "# lookup of $HANG_NAME failed after $HANG_MS ms"
[ "$HANG_MS" -ge $((DNS_TIMEOUT * 1000 - 500)) ] ||
	t_skip "lookups do not go to /etc/resolv.conf's server here"

# ---- runtime, proxy, one stream --------------------------------------------

t_start_runtime rt --token "$TOKEN" --tick-ms 50 || t_abort "runtime starts"
RT_PORT=$rt_PORT
W=$(t_create_worker "$RT_PORT" "$TOKEN")
t_check "worker created" test -n "$W"

PX_PORT=$(t_free_port)
# write_conf WITH_HANGING_RUNTIME
write_conf() {
	local extra=
	[ -n "$1" ] && extra=",
    {\"id\": \"rt-hang\", \"base_url\": \"http://$HANG_NAME:$RT_PORT\",
     \"token\": \"$TOKEN\"}"
	cat >"$T_DIR/wrg.conf" <<EOF
{
  "api_prefix": "/api",
  "allowed_origins": [],
  "wsproxy": {"listen": "127.0.0.1:$PX_PORT", "ping_interval_s": 5},
  "runtimes": [
    {"id": "rt-a", "base_url": "http://127.0.0.1:$RT_PORT",
     "token": "$TOKEN"}$extra
  ]
}
EOF
}
write_conf ""
"$PX_BIN" -c "$T_DIR/wrg.conf" >>"$T_DIR/px.log" 2>&1 &
PX_PID=$!
t_track "$PX_PID"
t_wait_port "$PX_PORT" || t_abort "proxy starts"

# gapmeter URL SECONDS OUT: reads the stream for SECONDS, then writes
# "ticks N maxgap_ms G" (G: the longest wait between two ticks).
gapmeter() {
	"$PY" - "$@" <<'EOF'
import asyncio, sys, time, websockets
url, secs, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
async def main():
    ticks, last, gap = 0, None, 0.0
    async with websockets.connect(url, open_timeout=5) as ws:
        end = time.monotonic() + secs
        while (left := end - time.monotonic()) > 0:
            try:
                m = await asyncio.wait_for(ws.recv(), left)
            except asyncio.TimeoutError:
                break
            now = time.monotonic()
            if '"event":"tick"' not in m:
                continue
            if last is not None:
                gap = max(gap, now - last)
            else:
                open(out + ".live", "w").close()
            last, ticks = now, ticks + 1
    if last is not None:
        gap = max(gap, end - last)   # silence until the end counts
    with open(out, "w") as f:
        f.write("ticks %d maxgap_ms %d\n" % (ticks, gap * 1000))
asyncio.run(main())
EOF
}
URL="ws://127.0.0.1:$PX_PORT/api/runtimes/rt-a/workers/$W/events/ws"
GAP=$T_DIR/gap.txt
gapmeter "$URL" $((DNS_TIMEOUT + 3)) "$GAP" 2>>"$T_DIR/gap.log" &
GAP_CLIENT=$!
t_track "$GAP_CLIENT"
for i in $(seq 1 100); do [ -e "$GAP.live" ] && break; sleep 0.1; done
t_check "stream live before the reload" test -e "$GAP.live"

# ---- SIGHUP with a hanging lookup, twice ------------------------------------

write_conf hang
kill -HUP "$PX_PID"
sleep 1
kill -HUP "$PX_PID"	# while the first one resolves: coalesced
wait "$GAP_CLIENT"
echo "# $(cat "$GAP" 2>/dev/null)"
t_check "during a reload whose DNS hangs: ticks keep coming" \
    test "$(awk '{print $2}' "$GAP" 2>/dev/null)" -ge 20
t_check "during a reload whose DNS hangs: no gap over 1 s" \
    test "$(awk '{print $4}' "$GAP" 2>/dev/null || echo 99999)" -lt 1000
t_check "second SIGHUP during the first: coalesced" \
    grep -q 'reload requested while one is running' "$T_DIR/px.log"
for i in $(seq 1 $((DNS_TIMEOUT * 40))); do
	grep -q 'config reloaded' "$T_DIR/px.log" && break
	sleep 0.1
done
t_check "the reload is applied once its lookups gave up" \
    grep -q 'config reloaded from .* (2 runtimes)' "$T_DIR/px.log"
t_check "coalesced: the config was applied once" \
    test "$(grep -c 'config reloaded' "$T_DIR/px.log")" = 1
t_check "the hanging name is logged as unresolved" \
    grep -q "rt=rt-hang: cannot resolve $HANG_NAME" "$T_DIR/px.log"

# ---- SIGTERM while a reload hangs -------------------------------------------

kill -HUP "$PX_PID"
sleep 0.5
T0=$(date +%s%N)
kill -TERM "$PX_PID"
t_wait_gone "$PX_PID" 50
wait "$PX_PID"
PX_RC=$?
STOP_MS=$((($(date +%s%N) - T0) / 1000000))
echo "# exit ${STOP_MS} ms after SIGTERM, status $PX_RC"
t_check "SIGTERM during a hanging reload: exits within 2 s" \
    test "$STOP_MS" -lt 2000
t_check "SIGTERM during a hanging reload: exit status 0" test "$PX_RC" = 0
t_check "no sanitizer reports in the proxy log" \
    sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'LeakSanitizer' '$T_DIR/px.log'"

t_done
