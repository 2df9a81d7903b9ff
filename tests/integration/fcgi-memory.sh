#!/bin/bash
# tests/integration/fcgi-memory.sh — what a hostile runtime answer costs
# wrg.fcgi in memory. A loopback runtime (hostile_runtime.py) answers
# GET /v1/workers with bodies built to blow up a JSON tree: tiny values,
# empty objects/arrays, deep nesting, many keys, long strings, minimal
# valid workers, valid workers with long strings (the largest answer passed
# on), and a 404 with a JSON error body. Each shape comes in two
# sizes: the full limits.max_upstream_body_bytes ("cap"), and the largest
# body whose estimated parse cost still fits wrg's parse budget ("fit", the
# worst case wrg accepts). Each case runs against a freshly started
# wrg.fcgi (one FastCGI thread, so warm-up and measurement share a thread
# and no earlier request's freed memory hides the cost), through lighttpd,
# once as a single-runtime GET and once as the GET /api/workers aggregate
# over three such runtimes. The peak RSS increase (VmHWM after the request
# minus VmHWM after warm-up) must stay within 16 MiB.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/webserver.sh"

FCGI="$top_builddir/src/wrg.fcgi"
PY=${PYTHON3_SYS:-/usr/bin/python3}
# limits.max_upstream_body_bytes in this test (WRG_MEMTEST_CAP to try
# another; the bound scales with it: 16 MiB per MiB of cap).
CAP=${WRG_MEMTEST_CAP:-1048576}
BUDGET=$((CAP * 8 * 98 / 100))	# "fit": just under the 8 x cap budget
LIMIT_KB=$((CAP / 64))		# the documented bound: 16 x cap
[ -x "$FCGI" ] || t_skip "wrg.fcgi not built"
command -v curl >/dev/null || t_skip "curl not installed"
[ -r /proc/self/status ] || t_skip "no /proc"

"$PY" "$top_srcdir/tests/integration/hostile_runtime.py" "$T_DIR/hostile.ready" \
    2>"$T_DIR/hostile.log" &
t_track $!
t_wait_file "$T_DIR/hostile.ready" ||
    { echo "hostile runtime did not start" >&2; exit 1; }
HPORT=$(cat "$T_DIR/hostile.ready")

FSOCK="$T_DIR/fcgi.sock"
WPORT=$(t_free_port)
t_webserver_front lighttpd "$WPORT" "$FSOCK" "127.0.0.1:$(t_free_port)" ok

matches() { [[ $1 =~ $2 ]]; }
# Under ASan the allocator's quarantine and shadow memory are what RSS
# shows: the cases still run (answers, sanitizer reports), the bound not.
ASAN=
if grep -aq __asan_init "$FCGI" 2>/dev/null; then
	ASAN=1
	echo "# peak RSS bound not checked under ASan (quarantine)"
fi
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# measure SHAPE BUDGET MODE — starts wrg.fcgi with three runtimes of this
# shape (BUDGET 0: bodies of the full cap), warms it up, makes one request
# (MODE single or aggregate) and prints "STATUS CODE DELTA_KB"; CODE is
# the error code, or "items=N" and the codes of the diagnostics.
measure() {
	local shape=$1 budget=$2 mode=$3 pid h0 h1 path out code n
	{
		echo "{\"limits\": {\"max_upstream_body_bytes\": $CAP},"
		echo " \"fcgi\": {\"threads\": 1}, \"runtimes\": ["
		for n in 1 2 3; do
			[ "$n" = 1 ] || echo ","
			echo "{\"id\": \"r$n\", \"base_url\":" \
			    "\"http://127.0.0.1:$HPORT/$shape/$CAP/$budget\"}"
		done
		echo "]}"
	} >"$T_DIR/wrg.conf"
	"$FCGI" -c "$T_DIR/wrg.conf" -s "unix:$FSOCK" --socket-mode 0666 \
	    --log-level error 2>>"$T_DIR/fcgi.log" &
	pid=$!
	t_track "$pid"
	t_wait_unix "$FSOCK" || return 1
	# Warm-up: every runtime's connection and easy handle exist.
	curl -s -m 10 -o /dev/null "$BASE/api/runtimes"
	curl -s -m 10 -o /dev/null "$BASE/api/runtimes"
	h0=$(hwm "$pid")
	if [ "$mode" = single ]; then
		path=/api/runtimes/r1/workers
	else
		path=/api/workers
	fi
	out=$(curl -s -m 120 -o "$T_DIR/body" -w '%{http_code}' "$BASE$path")
	h1=$(hwm "$pid")
	code=$("$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
if "error" in d:
    print(d["error"]["code"])
else:
    print(",".join(["items=%d" % len(d["items"])] +
                   [x["code"] for x in d.get("diagnostics", [])]))' \
	    "$T_DIR/body" 2>/dev/null)
	t_stop_pid "$pid"
	# The next wrg.fcgi binds the same path once this one removed it.
	for n in $(seq 1 50); do [ -S "$FSOCK" ] || break; sleep 0.1; done
	echo "$out ${code:-?} $((h1 - h0))"
}

printf '%-8s %-4s %-9s %6s %-40s %s\n' shape size mode status code \
    "peak RSS increase (KiB)"
for shape in zeros objs arrs nest keys strs workers bigwork e404; do
	for size in cap fit; do
		budget=0
		[ "$size" = fit ] && budget=$BUDGET
		for mode in single aggregate; do
			set -- $(measure "$shape" "$budget" "$mode")
			printf '%-8s %-4s %-9s %6s %-40s %s\n' "$shape" "$size" \
			    "$mode" "$1" "${2:0:40}" "$3"
			[ -n "$ASAN" ] ||
			    t_check "$shape/$size/$mode: peak +$3 KiB <= $LIMIT_KB KiB" \
			    [ "${3:-999999}" -le "$LIMIT_KB" ]
			t_check "$shape/$size/$mode: answered ($1)" \
			    matches "$1" '^(200|502)$'
			# What fits the budget is served in full: every
			# worker of every runtime, as one JSON body.
			if [ "$shape/$size" = workers/fit ] ||
			    [ "$shape" = bigwork ]; then
				t_check "$shape/$size/$mode: all workers served" \
				    matches "$2" '^items=[0-9]{2,}$'
			fi
		done
	done
done

# conf_one SHAPE — wrg.conf with one runtime r1 of the hostile runtime's
# SHAPE, bodies of the full cap, one FastCGI thread.
conf_one() {
	{
		echo "{\"limits\": {\"max_upstream_body_bytes\": $CAP},"
		echo " \"fcgi\": {\"threads\": 1}, \"runtimes\": ["
		echo "{\"id\": \"r1\", \"base_url\":" \
		    "\"http://127.0.0.1:$HPORT/$1/$CAP/0\"}]}"
	} >"$T_DIR/wrg.conf"
}

# fcgi_start LEVEL LOG — wrg.fcgi on $T_DIR/wrg.conf and $FSOCK, logging
# at LEVEL to LOG; sets pid; fails if its socket does not come up.
fcgi_start() {
	"$FCGI" -c "$T_DIR/wrg.conf" -s "unix:$FSOCK" --socket-mode 0666 \
	    --log-level "$1" 2>>"$2" &
	pid=$!
	t_track "$pid"
	t_wait_unix "$FSOCK"
}

# fire N NAME PATH — N GETs of PATH at once in the background, the i-th
# writing its status to $T_DIR/NAME.i.code and its body to NAME.i.json;
# their pids in FIRED.
fire() {
	local i
	FIRED=
	for i in $(seq 1 "$1"); do
		curl -s -m 60 -o "$T_DIR/$2.$i.json" -w '%{http_code}\n' \
		    "$BASE$3" >"$T_DIR/$2.$i.code" &
		FIRED="$FIRED $!"
	done
}

# Many requests at once: wrg.fcgi holds a runtime's answer while it
# arrives, and one thread has many requests waiting for runtimes, so
# what bounds memory is the thread's budget for answer bytes
# (UPSTREAM_BUDGET_ANSWERS x cap, 24 x cap: past it transfers pause, the
# oldest request's excepted): 80 requests whose answers (1 x cap each)
# are all held by the runtime for 2 s must cost at most (32 + 16) x cap —
# without the budget they cost 80 x cap (tried: +75 MiB).
MANY=80
LIMIT_MANY_KB=$((CAP * 48 / 1024))
conf_one zeros-hold
if fcgi_start error "$T_DIR/fcgi.log"; then
	curl -s -m 10 -o /dev/null "$BASE/api/runtimes"
	h0=$(hwm "$pid")
	start=$(date +%s)
	fire "$MANY" many /api/runtimes/r1/workers
	for p in $FIRED; do wait "$p"; done
	h1=$(hwm "$pid")
	answered=$(cat "$T_DIR"/many.*.code | grep -cE '^(200|502)$')
	echo "# $MANY requests at once: peak +$((h1 - h0)) KiB, $answered answered in $(( $(date +%s) - start )) s"
	t_check "$MANY requests at once: all answered ($answered)" \
	    [ "$answered" -eq "$MANY" ]
	[ -n "$ASAN" ] ||
	    t_check "$MANY requests at once: peak +$((h1 - h0)) KiB <= $LIMIT_MANY_KB KiB" \
	    [ "$((h1 - h0))" -le "$LIMIT_MANY_KB" ]
	t_stop_pid "$pid"
else
	t_check "wrg.fcgi (many at once) started" false
fi

# Answers that wait for the budget arrive whole: 48 requests at once
# (twice the 24 answers the budget holds) for the same valid answer
# of about one cap (workers carrying 16 KiB notes, held 2 s) must all be
# 200 with identical bodies, and the budget must have made some wait.
BIG=48
conf_one bigwork-hold
: >"$T_DIR/fcgi-big.log"
if fcgi_start debug "$T_DIR/fcgi-big.log"; then
	fire "$BIG" big /api/runtimes/r1/workers
	for p in $FIRED; do wait "$p"; done
	t_check "$BIG big answers at once: all 200" \
	    [ "$(cat "$T_DIR"/big.*.code | grep -c '^200$')" -eq "$BIG" ]
	t_check "$BIG big answers at once: identical bodies" \
	    [ "$(md5sum "$T_DIR"/big.*.json | cut -d' ' -f1 | sort -u | wc -l)" -eq 1 ]
	t_check "$BIG big answers at once: whole ($(wc -c <"$T_DIR/big.1.json") bytes)" \
	    "$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
notes = [w["note"] for w in d["items"]]
sys.exit(not (len(notes) > 10 and all(n == "y" * 16384 for n in notes)))' \
	    "$T_DIR/big.1.json"
	t_check "$BIG big answers at once: some waited for the budget" \
	    grep -q 'answer budget full' "$T_DIR/fcgi-big.log"
	t_stop_pid "$pid"
else
	t_check "wrg.fcgi (big answers) started" false
fi

# A runtime that never answers holds no answer bytes, so it must not
# hold up calls to the others: more requests wait for it than the 32
# calls in flight a thread used to allow (then a request to a healthy
# runtime waited until the silent calls timed out), and one to a
# healthy runtime is answered at once.
"$PY" - "$T_DIR/silent.port" <<'PY_END' >"$T_DIR/silent.log" 2>&1 &
import socket, sys, time
silent = socket.socket(); silent.bind(("127.0.0.1", 0)); silent.listen(128)
open(sys.argv[1], "w").write("%d\n" % silent.getsockname()[1])
held = []
end = time.monotonic() + 90
silent.settimeout(1)
while time.monotonic() < end:
    try:
        held.append(silent.accept()[0])
    except socket.timeout:
        pass
PY_END
t_track $!
t_wait_file "$T_DIR/silent.port" || t_abort "silent runtime starts"
SILENT_PORT=$(cat "$T_DIR/silent.port")
cat >"$T_DIR/wrg.conf" <<EOC
{"fcgi": {"threads": 1}, "runtimes": [
 {"id": "silent", "base_url": "http://127.0.0.1:$SILENT_PORT",
  "request_timeout_ms": 20000},
 {"id": "ok", "base_url": "http://127.0.0.1:$HPORT/zeros/1024/0"}]}
EOC
HUNG=40
if fcgi_start error "$T_DIR/fcgi.log"; then
	fire "$HUNG" hung /api/runtimes/silent/workers/w
	# Every one of them in flight: the silent runtime accepted them
	# (never more than 32 with the old limit: then this waits 10 s).
	for i in $(seq 1 100); do
		[ "$(ss -Htn state established "( sport = :$SILENT_PORT )" |
		    wc -l)" -ge "$HUNG" ] && break
		sleep 0.1
	done
	echo "# calls held by the silent runtime: $(ss -Htn state established \
	    "( sport = :$SILENT_PORT )" | wc -l)"
	ok=$(curl -s -m 40 -o /dev/null -w '%{http_code} %{time_total}' \
	    "$BASE/api/runtimes/ok")
	echo "# healthy runtime behind $HUNG hung calls: $ok (status, seconds)"
	t_check "a healthy runtime is answered behind $HUNG hung calls ($ok)" \
	    matches "$ok" '^200 [01]\.'
	for p in $FIRED; do wait "$p"; done
	t_check "the hung calls end as timeouts ($(sort "$T_DIR"/hung.*.code | uniq -c | tr -s ' \n' ' '))" \
	    [ "$(cat "$T_DIR"/hung.*.code | grep -c '^504$')" -eq "$HUNG" ]
	t_stop_pid "$pid"
else
	t_check "wrg.fcgi (hung runtime) started" false
fi

t_check "no sanitizer reports in the wrg.fcgi log" \
    sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'LeakSanitizer' '$T_DIR/fcgi.log'"
t_done
