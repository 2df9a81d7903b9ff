# tests/webserver.sh — start a web server in front of wrg (sourced after
# tests/lib.sh).
#
#   t_webserver_start SERVER PORT FCGI_SOCKET WSPROXY_ADDR PANEL_DIR
#
# starts SERVER (lighttpd | nginx | apache) on 127.0.0.1:PORT: PANEL_DIR
# statically at /, /api/ to wrg.fcgi on the Unix socket FCGI_SOCKET, and
# the events WebSocket (/api/runtimes/*/workers/*/events/ws) to
# wrg-wsproxy at WSPROXY_ADDR (127.0.0.1:PORT). The config is generated
# from the shipped snippets in conf/. Each server lives in
# tests/webserver-SERVER.sh as t_webserver_start_SERVER; its pid is tracked
# (stopped at exit) and kept in T_WEBSERVER_PID. Returns once the port
# answers; 77 when the server is not installed (callers t_skip).

# t_webserver_subst IN OUT NAME=VALUE... — OUT is the shipped snippet IN
# with each @NAME@ replaced by VALUE; returns 1 (the lines on stderr) if
# any @PLACEHOLDER@ is left over.
t_webserver_subst() {
	local in=$1 out=$2 kv
	shift 2
	cp "$in" "$out.tmp"
	for kv in "$@"; do
		sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out.tmp"
	done
	if grep -n '@[A-Za-z_]*@' "$out.tmp" >&2; then
		echo "unfilled placeholder in $in" >&2
		return 1
	fi
	mv "$out.tmp" "$out"
}

t_webserver_start() {
	local server=$1 f
	shift
	f="$top_srcdir/tests/webserver-$server.sh"
	if [ ! -f "$f" ]; then
		echo "t_webserver_start: no $f" >&2
		return 1
	fi
	. "$f"
	"t_webserver_start_$server" "$@"
}

# t_webserver_front SERVER PORT FCGI_SOCKET WSPROXY_ADDR [PANEL_HTML] —
# t_webserver_start with the panel in $T_DIR/panel (index.html holding
# PANEL_HTML when given), for tests that need the server: skips the test
# (exit 77) when SERVER is not installed, exits 1 when it does not start.
# Sets BASE=http://127.0.0.1:PORT.
t_webserver_front() {
	local server=$1 port=$2 sock=$3 wsaddr=$4 html=${5:-} rc=0
	mkdir -p "$T_DIR/panel"
	[ -n "$html" ] && printf '%s\n' "$html" >"$T_DIR/panel/index.html"
	t_webserver_start "$server" "$port" "$sock" "$wsaddr" "$T_DIR/panel" ||
	    rc=$?
	[ "$rc" -eq 77 ] && t_skip "$server not installed"
	[ "$rc" -eq 0 ] || { echo "$server did not start" >&2; exit 1; }
	BASE="http://127.0.0.1:$port"
}
