# tests/lib.sh — shell helpers shared by the integration tests (sourced).
# Every server a test starts listens on 127.0.0.1 or a Unix socket in the
# test's scratch dir, is recorded with its pid, and is stopped by that pid
# on exit. Every wait is bounded.

set -u

# make distcheck runs units only (integration ran in the main builds).
if [ -n "${WRG_SKIP_INTEGRATION:-}" ]; then
	echo "SKIP: WRG_SKIP_INTEGRATION set"
	exit 77
fi

# Tests CI runs by hand, outside make check (debian-package.sh,
# install-check.sh), set T_STANDALONE=1: from a configured build dir the
# trees are that build and its source; elsewhere the source tree is the
# one this file is in and the build is the current directory.
if [ -n "${T_STANDALONE:-}" ]; then
	if [ -z "${top_srcdir:-}" ]; then
		if [ -f Makefile ]; then
			top_srcdir=$(sed -n 's/^abs_top_srcdir = //p' Makefile)
		else
			top_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." &&
			    pwd)
		fi
	fi
	top_builddir=${top_builddir:-$(pwd)}
	export top_srcdir top_builddir
fi

: "${top_srcdir:?top_srcdir not set (run through make check)}"
: "${top_builddir:?top_builddir not set (run through make check)}"

T_NAME=$(basename "$0" .sh)
T_DIR="$top_builddir/tests/tmp/$T_NAME.$$"
mkdir -p "$T_DIR"
T_PIDS=""
T_FAILS=0
T_PASSES=0

# Remember a pid to stop at exit.
t_track() { T_PIDS="$T_PIDS $1"; }

# t_gone PID — true when process PID no longer runs (PID 1 may not reap:
# a zombie counts as gone).
t_gone() {
	case "$(ps -o stat= -p "$1" 2>/dev/null)" in
	""|Z*) return 0 ;;
	esac
	return 1
}

# t_wait_gone PID [TENTHS] — wait (at most TENTHS/10 s, default 50) until
# t_gone PID; returns 1 if it still runs.
t_wait_gone() {
	local i
	for i in $(seq 1 "${2:-50}"); do
		t_gone "$1" && return 0
		sleep 0.1
	done
	return 1
}

t_stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	t_wait_gone "$pid" 50 || kill -KILL "$pid" 2>/dev/null || true
}

t_cleanup() {
	local pid
	for pid in $T_PIDS; do t_stop_pid "$pid"; done
	if [ "$T_FAILS" -eq 0 ] && [ -z "${T_KEEP:-}" ]; then
		rm -rf "$T_DIR"
	else
		echo "scratch dir kept: $T_DIR"
	fi
}
trap t_cleanup EXIT

# The programs under test, as built.
T_RT_BIN=$top_builddir/tests/sample-runtime/wrg-sample-runtime
T_PX_BIN=$top_builddir/wsproxy/wrg-wsproxy
T_FCGI_BIN=$top_builddir/src/wrg.fcgi

# t_need_built FILE... — skip the test unless each program is built.
t_need_built() {
	local b
	for b in "$@"; do
		[ -x "$b" ] || t_skip "$b not built"
	done
}

# t_need_py MODULE DEB — Debian's python3 in $PY, able to import MODULE
# (from the Debian package DEB), or skip the test.
t_need_py() {
	PY=${PYTHON3_SYS:-/usr/bin/python3}
	[ -x "$PY" ] || PY=/usr/bin/python3
	"$PY" -c "import $1" 2>/dev/null || t_skip "$2 not installed"
}

# t_need_py_ws — t_need_py for python3-websockets (the WS test clients).
t_need_py_ws() { t_need_py websockets python3-websockets; }

# t_start_runtime NAME [ARG...] — a wrg-sample-runtime on 127.0.0.1 with
# ARGs (--token, --state-dir, --tick-ms ...), tracked, logging to
# $T_DIR/NAME.log; waits (~10 s at most) for it and sets ${NAME}_PORT
# and ${NAME}_PID.
# NAME must be a shell name. Returns 1 if it did not come up.
t_start_runtime() {
	local name=$1
	shift
	"$T_RT_BIN" --listen 127.0.0.1:0 --ready-file "$T_DIR/$name.ready" \
	    --log-level warn "$@" >"$T_DIR/$name.log" 2>&1 &
	printf -v "${name}_PID" '%s' "$!"
	t_track $!
	t_wait_file "$T_DIR/$name.ready" ||
	    { echo "runtime $name did not start" >&2; cat "$T_DIR/$name.log" >&2; return 1; }
	printf -v "${name}_PORT" '%s' "$(cat "$T_DIR/$name.ready")"
}

# t_start_fcgi CONF SOCKET [ARG...] — wrg.fcgi with CONF on the Unix
# socket SOCKET (mode 0666: the web server's user connects), tracked,
# stderr appended to $T_DIR/fcgi.log; waits (~10 s at most) for the
# socket and sets T_FCGI_PID. Returns 1 (log tail on stderr) if it did
# not come up.
t_start_fcgi() {
	local conf=$1 sock=$2
	shift 2
	"$T_FCGI_BIN" -c "$conf" -s "unix:$sock" --socket-mode 0666 "$@" \
	    2>>"$T_DIR/fcgi.log" &
	T_FCGI_PID=$!
	t_track "$T_FCGI_PID"
	t_wait_unix "$sock" || { tail -n 20 "$T_DIR/fcgi.log" >&2; return 1; }
}

# t_start_wsproxy NAME CONF PORT [ARG...] — wrg-wsproxy with CONF, whose
# wsproxy.listen is 127.0.0.1:PORT, tracked, output appended to
# $T_DIR/NAME.log (a restart appends); sets ${NAME}_PID and waits (~10 s
# at most) for PORT. NAME must be a shell name. Returns 1 (log tail on
# stderr) if it did not come up.
t_start_wsproxy() {
	local name=$1 conf=$2 port=$3
	shift 3
	"$T_PX_BIN" -c "$conf" "$@" >>"$T_DIR/$name.log" 2>&1 &
	printf -v "${name}_PID" '%s' $!
	t_track $!
	t_wait_port "$port" ||
	    { tail -n 20 "$T_DIR/$name.log" >&2; return 1; }
}

# t_create_worker PORT TOKEN — creates a worker on the runtime at
# 127.0.0.1:PORT directly (with its token) and prints its id, or nothing.
t_create_worker() {
	curl -s -m 5 -X POST -H "Authorization: Bearer $2" \
	    -H 'Content-Type: application/json' \
	    -d '{"intent":{"kind":"task","objective":"t"},"profile":{"kind":"runtime_default"}}' \
	    "http://127.0.0.1:$1/v1/workers" |
	    "${PYTHON3_SYS:-/usr/bin/python3}" -c 'import json, sys
print(json.load(sys.stdin)["worker"]["worker_id"])' 2>/dev/null
}

# A free TCP port on 127.0.0.1 (bind to 0, read it back, release it).
t_free_port() {
	"${PYTHON3_SYS:-/usr/bin/python3}" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Wait (at most ~10 s) until a TCP port accepts connections.
t_wait_port() {
	local port=$1 i
	for i in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "timeout waiting for port $port" >&2
	return 1
}

# t_wait_file FILE — wait (at most ~10 s) until FILE exists and is not
# empty (a --ready-file); returns 1 if it never does.
t_wait_file() {
	local i
	for i in $(seq 1 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# t_wait_grep TENTHS PATTERN FILE — wait (at most TENTHS/10 s) until
# grep finds PATTERN in FILE (a FILE not there yet is no match); returns
# 1 if it never does.
t_wait_grep() {
	local i
	for i in $(seq 1 "$1"); do
		grep -q -- "$2" "$3" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Wait (at most ~10 s) until a Unix socket file exists.
t_wait_unix() {
	local path=$1 i
	for i in $(seq 1 100); do
		[ -S "$path" ] && return 0
		sleep 0.1
	done
	echo "timeout waiting for socket $path" >&2
	return 1
}

# t_make_client_certs DIR — for mutual TLS: a client CA (DIR/cca.pem,
# DIR/cca.key) and a client certificate it issued for clientAuth
# (DIR/client.pem, its key apart in DIR/client.key, and both in one PEM,
# DIR/client-both.pem); EC P-256, valid 2 days. openssl's output goes to
# stdout/stderr; non-zero when openssl fails.
T_EC_KEY="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
t_make_client_certs() {
	local d=$1
	# shellcheck disable=SC2086 # T_EC_KEY is several words
	openssl req -x509 $T_EC_KEY -days 2 -subj /CN=wrg-test-client-ca \
	    -keyout "$d/cca.key" -out "$d/cca.pem" &&
	openssl req -new $T_EC_KEY -subj /CN=wrg-test-client \
	    -keyout "$d/client.key" -out "$d/client.csr" &&
	printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext" &&
	openssl x509 -req -days 2 -in "$d/client.csr" -CA "$d/cca.pem" \
	    -CAkey "$d/cca.key" -CAcreateserial -extfile "$d/client.ext" \
	    -out "$d/client.pem" &&
	cat "$d/client.pem" "$d/client.key" >"$d/client-both.pem"
}

# Record one check: t_check "name" command...
t_check() {
	local name=$1; shift
	if "$@"; then
		T_PASSES=$((T_PASSES + 1)); echo "ok - $name"
	else
		T_FAILS=$((T_FAILS + 1)); echo "not ok - $name"
	fi
}

# Checks for t_check: "is GOT WANT" (equal strings), "ge GOT MIN"
# (integer at least MIN); on failure they say what was got.
is() { [ "$1" = "$2" ] || { echo "  got '$1', want '$2'" >&2; return 1; }; }
ge() { [ "$1" -ge "$2" ] || { echo "  got '$1', want >= '$2'" >&2; return 1; }; }

# t_check_metrics_page NAME URL — a Prometheus page: GET URL answers 200
# in text format 0.0.4 and parses (tests/integration/prom.py, with $PY);
# three t_checks named "NAME: ...". The page is left in $T_DIR/m0.txt.
t_check_metrics_page() {
	local name=$1 url=$2 code
	code=$(curl -s -m 10 -o "$T_DIR/m0.txt" -D "$T_DIR/m0.head" \
	    -w '%{http_code}' "$url")
	t_check "$name: 200" is "$code" 200
	t_check "$name: text format 0.0.4" \
	    grep -qi '^content-type: text/plain; version=0.0.4' "$T_DIR/m0.head"
	t_check "$name: parses" "$PY" "$top_srcdir/tests/integration/prom.py" \
	    - --check <"$T_DIR/m0.txt"
}

# t_abort NAME — a step the rest of the test cannot do without failed:
# records the failed check NAME, prints the final line and exits 1.
t_abort() { t_check "$1" false; t_done; exit 1; }

# Final line in the plain "N passed, N failed" form; exit status follows.
t_done() {
	echo "$T_NAME: $T_PASSES passed, $T_FAILS failed"
	[ "$T_FAILS" -eq 0 ]
}

# Skip the whole test (automake: exit 77) with a reason.
t_skip() { echo "SKIP: $*"; exit 77; }

# Leak check: fail if any of the given secrets (runtime hosts:ports, ports,
# socket paths, tokens) occurs anywhere in the captured browser-visible
# bytes. Usage: t_leak_scan CAPTURE_FILE SECRET...
t_leak_scan() {
	local file=$1 s hits=0; shift
	for s in "$@"; do
		[ -n "$s" ] || continue
		if grep -aF -q -- "$s" "$file"; then
			echo "LEAK: '$s' found in browser-visible bytes ($file)" >&2
			hits=$((hits + 1))
		fi
	done
	[ "$hits" -eq 0 ]
}
