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
