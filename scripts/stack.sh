#!/bin/bash
# scripts/stack.sh — start a complete wrg stack on loopback from a build
# tree, for the demo (scripts/demo.sh) and the browser test
# (tests/browser/panel.sh):
#
#   two sample runtimes   "alpha" over TCP with a generated bearer token
#                         (token_file), "beta" over a Unix socket; both
#                         keep their state in a state dir
#   wrg.fcgi              on a Unix socket (-s unix:...)
#   wrg-wsproxy           on a free loopback port
#   lighttpd              on 127.0.0.1:PORT: the panel at /, the API at
#                         /api/, the event socket forwarded to wrg-wsproxy
#                         (from the shipped snippets in conf/lighttpd/)
#
# Everything it writes lives under the scratch dir: the generated wrg.conf
# and lighttpd.conf, the token, sockets (run/), state (state/), logs (log/)
# and one pid file per process (pids/NAME.pid). It prints the panel URL,
# then runs until SIGINT/SIGTERM and stops, by pid, everything whose pid
# file is in pids/ (so a runtime a test restarted is stopped too).
# Re-running with the same scratch dir first stops what an earlier run left
# behind (only processes whose command line names this scratch dir).
#
# For tests: --ready-file FILE is written (atomically) once the API answers;
# run/stack.env holds the facts a test needs (URL, ports, socket paths,
# token file); bin/run-NAME.sh (alpha, beta, fcgi, wsproxy) starts that
# piece again with exactly the same arguments (it execs, so its pid is the
# program's; it rewrites pids/NAME.pid itself).
#
# --ping-s N sets wsproxy.ping_interval_s (default 5): a frozen runtime
# is noticed after twice that; the browser test uses a short one.
#
# Usage: scripts/stack.sh [-b BUILD_DIR] [-d SCRATCH_DIR] [-p PORT]
#            [--tick-ms N] [--ping-s N] [--ready-file FILE]
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
build=$srcdir/build
scratch=
port=8080
tick_ms=
ping_s=5
ready_file=

usage() {
	sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case $1 in
	-b|--build) build=$2; shift 2 ;;
	-d|--dir) scratch=$2; shift 2 ;;
	-p|--port) port=$2; shift 2 ;;
	--tick-ms) tick_ms=$2; shift 2 ;;
	--ping-s) ping_s=$2; shift 2 ;;
	--ready-file) ready_file=$2; shift 2 ;;
	-h|--help) usage 0 ;;
	*) echo "stack.sh: unknown argument: $1" >&2; usage 2 ;;
	esac
done

die() { echo "stack.sh: $*" >&2; exit 1; }

case $port in
''|*[!0-9]*) die "port must be a number: $port" ;;
esac
[ "$port" -ge 1024 ] && [ "$port" -le 65535 ] ||
    die "port must be an unprivileged port (1024-65535): $port"
case $ping_s in
''|*[!0-9]*) die "--ping-s must be a number of seconds: $ping_s" ;;
esac
build=$(cd "$build" 2>/dev/null && pwd) || die "no build dir: $build"
[ -n "$scratch" ] || scratch=$build/demo
mkdir -p "$scratch" || die "cannot create $scratch"
scratch=$(cd "$scratch" && pwd)

rt_bin=$build/tests/sample-runtime/wrg-sample-runtime
fcgi_bin=$build/src/wrg.fcgi
ws_bin=$build/wsproxy/wrg-wsproxy
lighttpd_bin=${LIGHTTPD:-}
[ -n "$lighttpd_bin" ] || lighttpd_bin=$(command -v lighttpd ||
    echo /usr/sbin/lighttpd)
for b in "$rt_bin" "$fcgi_bin" "$ws_bin" "$lighttpd_bin"; do
	[ -x "$b" ] || die "missing program: $b (build first: make -C $build)"
done
command -v curl >/dev/null 2>&1 || die "curl is needed (apt-get install curl)"
panel=$srcdir/panel
[ -f "$panel/index.html" ] || die "no panel in $panel"

run=$scratch/run
pids=$scratch/pids
logs=$scratch/log
state=$scratch/state

# ---- process bookkeeping -------------------------------------------------

# True when pid is alive (not a zombie) and its command line names the
# scratch dir: never signal a stranger that reused an old pid.
ours() {
	local pid=$1 st
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	st=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
	case $st in ""|Z*) return 1 ;; esac
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$scratch"
}

stop_pid() {
	local pid=$1 i
	ours "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		ours "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# Stop in reverse start order: web server first, runtimes last.
stop_all() {
	local name f
	for name in lighttpd wsproxy fcgi alpha beta; do
		f=$pids/$name.pid
		[ -f "$f" ] || continue
		stop_pid "$(cat "$f" 2>/dev/null)"
		rm -f "$f"
	done
	for f in "$pids"/*.pid; do
		[ -f "$f" ] || continue
		stop_pid "$(cat "$f" 2>/dev/null)"
		rm -f "$f"
	done
}

stopping=0
on_exit() {
	[ "$stopping" -eq 1 ] && return
	stopping=1
	stop_all
	rm -f "$run"/*.sock "$run/stack.env"
	[ -n "$ready_file" ] && rm -f "$ready_file"
	echo "stack.sh: stopped"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- a clean slate -------------------------------------------------------

stop_all
rm -rf "$run" "$scratch/bin"
mkdir -p "$run" "$pids" "$logs" "$state/alpha" "$state/beta" \
    "$scratch/bin" "$scratch/tmp" || die "cannot prepare $scratch"
[ -n "$ready_file" ] && rm -f "$ready_file"

# Before starting anything: the web server's port must be free (what an
# earlier run here left is stopped above).
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	die "port $port is already in use; choose another with -p PORT"
fi

# A loopback port nothing listens on (bounded tries).
free_port() {
	local i p
	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		[ "$p" = "$port" ] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_test OP PATH: until `test OP PATH` holds (-s a written file, -S a
# socket), ~15 s at most.
wait_test() {
	local i
	for i in $(seq 1 150); do
		test "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}

alive() { ours "$(cat "$pids/$1.pid" 2>/dev/null)"; }

# wait_listen NAME PORT: until PORT accepts, or NAME has exited (bounded).
wait_listen() {
	local name=$1 p=$2 i
	for i in $(seq 1 150); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
		if [ "$i" -gt 3 ] && ! alive "$name"; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

fail_start() {
	echo "stack.sh: $1 did not start; last lines of $logs/$2.log:" >&2
	tail -n 20 "$logs/$2.log" >&2 2>/dev/null
	exit 1
}

# ---- the runtimes --------------------------------------------------------

token_file=$scratch/alpha.token
if [ ! -s "$token_file" ]; then
	(umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' \
	    >"$token_file") || die "cannot write $token_file"
fi
chmod 600 "$token_file"

tick_arg=
[ -n "$tick_ms" ] && tick_arg="--tick-ms $tick_ms"

# write_runner NAME PROGRAM ARGS...: bin/run-NAME.sh execs PROGRAM with
# these arguments, output appended to log/NAME.log, and records its own pid
# (exec keeps it), so a test can stop one piece and start it again alike.
write_runner() {
	local name=$1 f=$scratch/bin/run-$1.sh a
	shift
	{
		echo '#!/bin/bash'
		echo "# generated by scripts/stack.sh: (re)start $name"
		printf 'echo $$ >%q\n' "$pids/$name.pid"
		printf 'exec'
		for a in "$@"; do printf ' %q' "$a"; done
		printf ' >>%q 2>&1\n' "$logs/$name.log"
	} >"$f"
	chmod 755 "$f"
}

# alpha: TCP. The first start asks for port 0 and reads the port from the
# ready file; the runner pins that port so a restart comes back on it.
alpha_common=(--token-file "$token_file" --runtime-id sample-alpha
    --display-name "Sample runtime alpha" --state-dir "$state/alpha"
    --ready-file "$run/alpha.ready" --log-level info)
# shellcheck disable=SC2206
[ -n "$tick_arg" ] && alpha_common+=($tick_arg)
write_runner alpha "$rt_bin" --listen 127.0.0.1:0 "${alpha_common[@]}"
rm -f "$run/alpha.ready"
"$scratch/bin/run-alpha.sh" &
disown $!
wait_test -s "$run/alpha.ready" || fail_start "runtime alpha" alpha
alpha_port=$(cat "$run/alpha.ready")
case $alpha_port in ''|0|*[!0-9]*) fail_start "runtime alpha" alpha ;; esac
write_runner alpha "$rt_bin" --listen "127.0.0.1:$alpha_port" \
    "${alpha_common[@]}"

beta_sock=$run/beta.sock
beta_args=(--runtime-id sample-beta --display-name "Sample runtime beta"
    --state-dir "$state/beta" --ready-file "$run/beta.ready"
    --log-level info)
# shellcheck disable=SC2206
[ -n "$tick_arg" ] && beta_args+=($tick_arg)
write_runner beta "$rt_bin" --listen "unix:$beta_sock" "${beta_args[@]}"
rm -f "$run/beta.ready"
"$scratch/bin/run-beta.sh" &
disown $!
wait_test -s "$run/beta.ready" && wait_test -S "$beta_sock" ||
    fail_start "runtime beta" beta

# ---- the registry config -------------------------------------------------

conf=$scratch/wrg.conf
write_conf() {
cat >"$conf" <<EOF
// generated by scripts/stack.sh — regenerated on every start
{
  "api_prefix": "/api",
  "allowed_origins": ["http://127.0.0.1:$port", "http://localhost:$port"],
  "fcgi": {"threads": 4},
  "wsproxy": {
    "listen": "127.0.0.1:$ws_port",
    "ping_interval_s": $ping_s,
    "reconnect_initial_ms": 200,
    "reconnect_max_ms": 2000
  },
  "runtimes": [
    {
      "id": "alpha",
      "display_name": "Alpha — TCP with token",
      "base_url": "http://127.0.0.1:$alpha_port",
      "token_file": "$token_file",
      "connect_timeout_ms": 1000,
      "request_timeout_ms": 5000
    },
    {
      "id": "beta",
      "display_name": "Beta — Unix socket",
      "base_url": "unix:$beta_sock",
      "connect_timeout_ms": 1000,
      "request_timeout_ms": 5000
    }
  ]
}
EOF
}

# ---- wrg-wsproxy and wrg.fcgi --------------------------------------------

# wrg-wsproxy first: its port is picked here, and another program may grab
# it between the pick and the bind, so a lost race is retried on a new
# port (the config is rewritten before wrg.fcgi reads it).
write_runner wsproxy "$ws_bin" -c "$conf"
ws_ok=0
for attempt in 1 2 3 4 5; do
	ws_port=$(free_port) || die "no free port for wrg-wsproxy"
	write_conf
	"$scratch/bin/run-wsproxy.sh" &
	disown $!
	if wait_listen wsproxy "$ws_port" && sleep 0.3 && alive wsproxy; then
		ws_ok=1
		break
	fi
	stop_pid "$(cat "$pids/wsproxy.pid" 2>/dev/null)"
	echo "stack.sh: wrg-wsproxy could not listen on $ws_port; retrying" >&2
done
[ "$ws_ok" -eq 1 ] || fail_start wrg-wsproxy wsproxy

fcgi_sock=$run/fcgi.sock
write_runner fcgi "$fcgi_bin" -c "$conf" -s "unix:$fcgi_sock"
"$scratch/bin/run-fcgi.sh" &
disown $!
wait_test -S "$fcgi_sock" || fail_start wrg.fcgi fcgi

# ---- lighttpd ------------------------------------------------------------

# The /api/ and events parts are the shipped snippets from conf/lighttpd/
# with their @PLACEHOLDERS@ filled in, so the demo runs what ships.
subst() {
	local in=$1 out=$2 kv
	shift 2
	[ -s "$in" ] || die "missing $in"
	cp "$in" "$out.tmp" || die "cannot write $out"
	for kv in "$@"; do
		sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out.tmp"
	done
	if grep -n '@[A-Za-z_]*@' "$out.tmp" >&2; then
		die "unfilled placeholder in $in"
	fi
	mv "$out.tmp" "$out"
}
subst "$srcdir/conf/lighttpd/wrg-wsproxy.conf" "$scratch/lighttpd-wsproxy.conf" \
    WRG_API_PREFIX=/api WRG_WSPROXY_HOST=127.0.0.1 \
    "WRG_WSPROXY_PORT=$ws_port" "WRG_WSPROXY=127.0.0.1:$ws_port"
subst "$srcdir/conf/lighttpd/wrg-fcgi.conf" "$scratch/lighttpd-api.conf" \
    "WRG_FCGI_SOCKET=$fcgi_sock"

lconf=$scratch/lighttpd.conf
cat >"$lconf" <<EOF
# generated by scripts/stack.sh — regenerated on every start
server.modules = ("mod_access")
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$panel"
server.errorlog = "$logs/lighttpd.error.log"
server.upload-dirs = ("$scratch/tmp")
server.max-request-size = 2048
# Event streams are long and may be quiet between wrg-wsproxy's pings.
server.max-read-idle = 3600
server.max-write-idle = 3600
index-file.names = ("index.html")
mimetype.assign = (
  ".html" => "text/html; charset=utf-8",
  ".js" => "text/javascript; charset=utf-8",
  ".css" => "text/css; charset=utf-8",
  ".svg" => "image/svg+xml",
  ".png" => "image/png",
  ".json" => "application/json"
)
include "$scratch/lighttpd-wsproxy.conf"
include "$scratch/lighttpd-api.conf"
EOF
"$lighttpd_bin" -tt -f "$lconf" >"$logs/lighttpd.log" 2>&1 ||
    fail_start "lighttpd (config test)" lighttpd
"$lighttpd_bin" -D -f "$lconf" >>"$logs/lighttpd.log" 2>&1 &
echo $! >"$pids/lighttpd.pid"
disown $!
wait_listen lighttpd "$port" || fail_start lighttpd lighttpd

# ---- ready ---------------------------------------------------------------

url="http://127.0.0.1:$port/"
ok=0
for i in $(seq 1 50); do
	code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "${url}api/health")
	[ "$code" = 200 ] && { ok=1; break; }
	sleep 0.2
done
[ "$ok" -eq 1 ] || fail_start "the API (GET /api/health: $code)" fcgi

cat >"$run/stack.env" <<EOF
STACK_URL=$url
STACK_PORT=$port
STACK_DIR=$scratch
STACK_ALPHA_PORT=$alpha_port
STACK_BETA_SOCK=$beta_sock
STACK_WSPROXY_PORT=$ws_port
STACK_FCGI_SOCK=$fcgi_sock
STACK_TOKEN_FILE=$token_file
STACK_CONF=$conf
EOF
if [ -n "$ready_file" ]; then
	echo "$url" >"$ready_file.tmp" && mv "$ready_file.tmp" "$ready_file"
fi

cat <<EOF

  wrg is running.  Open the panel:  $url

  runtimes: alpha (TCP, token) and beta (Unix socket)
  config:   $conf
  logs:     $logs/
  Stop with Ctrl-C.

EOF

# Run until a signal. A runtime may come and go (that is what the panel
# shows); wrg.fcgi, wrg-wsproxy or lighttpd gone for 10 s (not restarted
# through bin/run-NAME.sh) ends the stack.
declare -A down=([fcgi]=0 [wsproxy]=0 [lighttpd]=0)
while :; do
	for name in fcgi wsproxy lighttpd; do
		if alive "$name"; then
			down[$name]=0
			continue
		fi
		down[$name]=$((down[$name] + 1))
		if [ "${down[$name]}" -ge 10 ]; then
			echo "stack.sh: $name exited; see $logs/$name.log" >&2
			tail -n 20 "$logs/$name.log" >&2 2>/dev/null
			exit 1
		fi
	done
	sleep 1 &
	wait $!
done
