#!/bin/bash
# fcgi-wakeups.sh — a request costs no hand-off between wrg.fcgi's threads
# (issue 11, docs/fcgi.md "One epoll set, no hand-off"). nginx runs the
# shipped site (keep-conn) in front of wrg.fcgi and one runtime; one
# client (a single curl, kept alive to nginx) makes 300 requests one after
# another. wrg.fcgi's voluntary context switches (summed over its threads
# from /proc) per request must stay at most 3: a request waits for the
# web server and for the runtime, nothing else. With the event thread +
# worker pool (main before this change) it was 4.0: the event thread woke
# a worker and the worker woke the event thread back. The count does not
# depend on the speed of the box, only on how often a thread sleeps.
. "${top_srcdir:?}/tests/lib.sh"

FCGI=$top_builddir/src/wrg.fcgi
t_need_built "$FCGI" "$T_RT_BIN"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
	t_skip "nginx not installed"

TOK="wakeups-$$-$RANDOM"
t_start_runtime rt --token "$TOK" || exit 1
RT_PID=${T_PIDS##* }
W=$(t_create_worker "$rt_PORT" "$TOK")
[ -n "$W" ] || { echo "no worker" >&2; exit 1; }
# "byname": a runtime addressed by a host name, so curl's resolver (its
# thread and socket pair) runs inside wrg.fcgi's event loop too. Not
# "localhost" (curl answers that itself): this machine's name, when
# /etc/hosts maps it to a loopback address (no DNS query is made).
HN=$(hostname)
HADDR=$(awk -v h="$HN" '$1 ~ /^127\./ { for (i = 2; i <= NF; i++)
	if ($i == h) { print $1; exit } }' /etc/hosts)
BYNAME=
if [ -n "$HADDR" ]; then
	"$T_RT_BIN" --listen "$HADDR:0" --ready-file "$T_DIR/byname.ready" \
	    --log-level warn --token "$TOK" >"$T_DIR/byname.log" 2>&1 &
	t_track $!
	for i in $(seq 1 100); do
		[ -s "$T_DIR/byname.ready" ] && break
		sleep 0.1
	done
	[ -s "$T_DIR/byname.ready" ] &&
	    BYNAME=",
  {\"id\": \"byname\", \"base_url\": \"http://$HN:$(cat "$T_DIR/byname.ready")\", \"token\": \"$TOK\"}"
fi
printf '{"runtimes": [{"id": "rt", "base_url": "http://127.0.0.1:%s", "token": "%s"}%s]}\n' \
    "$rt_PORT" "$TOK" "$BYNAME" >"$T_DIR/wrg.conf"
SOCK=$T_DIR/fcgi.sock
t_start_fcgi "$T_DIR/wrg.conf" "$SOCK" || exit 1
FPID=$T_FCGI_PID

. "$top_srcdir/tests/webserver.sh"
WEB=$(t_free_port)
t_webserver_front nginx "$WEB" "$SOCK" 127.0.0.1:9

switches() {
	cat "/proc/$FPID/task/"*/status 2>/dev/null |
	    awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'
}
URL=http://127.0.0.1:$WEB/api/runtimes/rt/workers/$W
N=300
urls=()
for i in $(seq 1 "$N"); do urls+=("$URL"); done
# Warm up: nginx's kept connection, wrg.fcgi's connection to the runtime.
curl -s -m 5 -o /dev/null -o /dev/null -o /dev/null "$URL" "$URL" "$URL"
s0=$(switches)
codes=$(curl -s -m 60 -w '%{http_code}\n' "${urls[@]}" 2>/dev/null |
    grep -o '}200$' | wc -l)
s1=$(switches)
t_check "$N sequential requests answered 200 ($codes)" [ "$codes" -eq "$N" ]
per=$(awk -v a="$s0" -v b="$s1" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / n }')
echo "voluntary context switches per request: $per ($s0 -> $s1)"
t_check "at most 3 thread wake-ups per request ($per)" \
    awk -v p="$per" 'BEGIN { exit !(p <= 3) }'

# An idle kept runtime connection stays in wrg.fcgi's epoll set between
# calls (docs/fcgi.md, "Closing"). When the runtime closes it (here: the
# runtime stops), wrg.fcgi must take it out rather than be woken for it
# again and again (level-triggered: a busy loop), and the next call must
# reconnect to the runtime back on its port.
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$FPID/stat"; }
t_stop_pid "$RT_PID"
sleep 1
c0=$(ticks)
sleep 2
c1=$(ticks)
hz=$(getconf CLK_TCK)
echo "wrg.fcgi CPU in 2 s after its runtime closed the kept connections: $((c1 - c0)) ticks of $((2 * hz))"
t_check "no busy loop on a runtime connection closed while idle ($((c1 - c0)) ticks)" \
    [ $((c1 - c0)) -le $((hz / 10)) ]
"$T_RT_BIN" --listen "127.0.0.1:$rt_PORT" --ready-file "$T_DIR/rt2.ready" \
    --log-level warn --token "$TOK" >"$T_DIR/rt2.log" 2>&1 &
t_track $!
for i in $(seq 1 100); do [ -s "$T_DIR/rt2.ready" ] && break; sleep 0.1; done
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$WEB/api/runtimes/rt/workers")
t_check "the next call reconnects to the restarted runtime ($code)" \
    [ "$code" = 200 ]
if [ -n "$BYNAME" ]; then
	codes=$(for i in 1 2 3 4 5; do
		curl -s -m 10 -o /dev/null -w '%{http_code}\n' \
		    "http://127.0.0.1:$WEB/api/runtimes/byname/workers"
	done | grep -c '^200$')
	t_check "a runtime named by host name ($HN) answers (5 calls: $codes x 200)" \
	    [ "$codes" -eq 5 ]
else
	echo "# $HN is not a loopback name in /etc/hosts: host name check skipped"
fi
t_done
