#!/bin/bash
# tests/integration/fcgi-cli.sh — wrg.fcgi's command line and process
# behaviour: --check-config (good and bad configs), usage errors, the -s
# unix socket (mode, removal at exit, SIGTERM while idle), -s HOST:PORT
# and fd-0 mode under spawn-fcgi, each answering through lighttpd.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/webserver.sh"
. "$top_srcdir/tests/webserver-lighttpd.sh"

FCGI="$top_builddir/src/wrg.fcgi"
[ -x "$FCGI" ] || t_skip "wrg.fcgi not built"
command -v jq >/dev/null || t_skip "jq not installed"
TOK="tok-cli-$$"
printf '%s\n' '// comments are allowed in the config' \
    "{\"runtimes\": [{\"id\": \"rt1\", \"base_url\": \"http://127.0.0.1:9\", \"token\": \"$TOK\"}]}" \
    >"$T_DIR/good.conf"
printf '%s\n' \
    '{"runtimes": [{"id": "rt1", "base_url": "http://127.0.0.1:9", "tokn": "x"}]}' \
    >"$T_DIR/bad.conf"
not() { ! "$@"; }

out=$("$FCGI" -c "$T_DIR/good.conf" --check-config 2>&1); rc=$?
t_check "check-config good: exit 0" is "$rc" 0
t_check "check-config prints the registry" grep -q '"rt1"' <<<"$out"
echo "$out" >"$T_DIR/check.out"
t_check "check-config hides the token" t_leak_scan "$T_DIR/check.out" "$TOK"
out=$("$FCGI" -c "$T_DIR/bad.conf" --check-config 2>&1 >/dev/null); rc=$?
t_check "check-config bad: exit 1" is "$rc" 1
t_check "bad config names file and key ($out)" grep -q "bad.conf: .*tokn" <<<"$out"
"$FCGI" -c "$T_DIR/missing.conf" --check-config >/dev/null 2>&1; rc=$?
t_check "missing config: exit 1" is "$rc" 1
WRG_CONFIG="$T_DIR/good.conf" "$FCGI" --check-config >/dev/null 2>&1; rc=$?
t_check "WRG_CONFIG is used" is "$rc" 0
"$FCGI" --bogus >/dev/null 2>&1; rc=$?
t_check "unknown option: exit 2" is "$rc" 2
"$FCGI" -c "$T_DIR/good.conf" --log-level loud >/dev/null 2>&1; rc=$?
t_check "bad log level: exit 2" is "$rc" 2
"$FCGI" -c "$T_DIR/good.conf" </dev/null >/dev/null 2>"$T_DIR/nosock.err"
rc=$?
t_check "no socket on fd 0: exit 1" is "$rc" 1
t_check "no socket: says why" grep -q 'not a listening socket' "$T_DIR/nosock.err"

# wrg.fcgi needs no libwebsockets: lws-bound shared code is in libwrg_lws.
if command -v readelf >/dev/null 2>&1; then
	readelf -d "$FCGI" >"$T_DIR/dynamic.txt" 2>&1
	t_check "readelf reads wrg.fcgi" grep -q NEEDED "$T_DIR/dynamic.txt"
	t_check "wrg.fcgi does not link libwebsockets" \
	    not grep -q 'NEEDED.*libwebsockets' "$T_DIR/dynamic.txt"
fi

# -s unix: default mode 0660, removed at SIGTERM, idle exit is prompt.
S="$T_DIR/f.sock"
"$FCGI" -c "$T_DIR/good.conf" -s "unix:$S" 2>"$T_DIR/unix.log" &
P=$!
t_track "$P"
t_wait_unix "$S"
t_check "unix socket mode 0660" is "$(stat -c %a "$S")" 660
kill -TERM "$P"
stopped=no
t_wait_gone "$P" 30 && stopped=yes
t_check "idle SIGTERM stops within 3 s" is "$stopped" yes
wait "$P"; rc=$?
t_check "SIGTERM exit status 0" is "$rc" 0
t_check "socket removed at exit" [ ! -e "$S" ]

# -s takes the registry's listen syntax (lib/listenspec.h): a bad string is
# refused at once, with the reason wsproxy.listen would get.
bad_listen() {	# bad_listen SPEC REASON
	local rc
	(cd "$T_DIR" && timeout 5 "$FCGI" -c "$T_DIR/good.conf" -s "$1") \
	    >/dev/null 2>"$T_DIR/badlisten.err"; rc=$?
	[ "$rc" = 1 ] && grep -qF -- "-s $1: $2" "$T_DIR/badlisten.err" ||
	    { echo "  rc $rc: $(cat "$T_DIR/badlisten.err")" >&2; return 1; }
}
t_check "-s 9000: refused" bad_listen 9000 "must be HOST:PORT or unix:/path"
t_check "-s 127.0.0.1:0: refused" bad_listen 127.0.0.1:0 \
    "port must be 1 to 65535"
t_check "-s unix:relative: refused" bad_listen unix:rel.sock \
    "unix: needs an absolute path"
t_check "-s with a host name: refused" bad_listen example.invalid:9000 \
    "host must be a numeric address or localhost"

# Through lighttpd: -s HOST:PORT (a hand-written host/port fastcgi.server,
# not a shipped snippet) ...
LB=$(t_lighttpd_bin) || t_skip "lighttpd not installed"
FP=$(t_free_port)
"$FCGI" -c "$T_DIR/good.conf" -s "127.0.0.1:$FP" 2>"$T_DIR/tcp.log" &
t_track $!
t_wait_port "$FP"
WP=$(t_free_port)
mkdir -p "$T_DIR/tcp" "$T_DIR/panel"
printf '%s\n' 'server.modules = ( "mod_fastcgi" )' \
    'server.bind = "127.0.0.1"' "server.port = $WP" \
    "server.document-root = \"$T_DIR/panel\"" \
    "server.errorlog = \"$T_DIR/tcp/error.log\"" \
    "fastcgi.server = ( \"/api/\" => (( \"host\" => \"127.0.0.1\", \"port\" => $FP, \"check-local\" => \"disable\" )) )" \
    >"$T_DIR/tcp/lighttpd.conf"
"$LB" -D -f "$T_DIR/tcp/lighttpd.conf" >/dev/null 2>&1 &
t_track $!
t_wait_port "$WP"
body=$(curl -s -m 10 "http://127.0.0.1:$WP/api/health")
t_check "-s HOST:PORT serves" is "$(jq -r .status <<<"$body")" ok

# ... and fd 0 under spawn-fcgi, behind the shipped snippet.
SPAWN=$(command -v spawn-fcgi || true)
if [ -n "$SPAWN" ]; then
	"$SPAWN" -n -s "$T_DIR/spawn.sock" -M 0666 -- "$FCGI" \
	    -c "$T_DIR/good.conf" 2>"$T_DIR/spawn.log" &
	t_track $!
	t_wait_unix "$T_DIR/spawn.sock"
	WP2=$(t_free_port)
	t_webserver_start lighttpd "$WP2" "$T_DIR/spawn.sock" \
	    "127.0.0.1:$(t_free_port)" "$T_DIR/panel"
	curl -s -m 10 "http://127.0.0.1:$WP2/api/runtimes/rt1/workers" \
	    >"$T_DIR/spawn.body"
	t_check "fd 0 under spawn-fcgi serves" \
	    is "$(jq -r .error.code "$T_DIR/spawn.body")" runtime_unreachable
	t_check "no leak in the error" t_leak_scan "$T_DIR/spawn.body" \
	    "$TOK" ":9" "127.0.0.1"
else
	echo "spawn-fcgi not installed: fd-0 check skipped"
fi

t_done
