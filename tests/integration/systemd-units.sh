#!/bin/bash
# tests/integration/systemd-units.sh — the generated systemd units
# (conf/systemd/*.in -> $(top_builddir)/conf/systemd/) are valid and do
# what docs/deploy.md says:
#  - `systemd-analyze verify` accepts them (ExecStart binaries re-rooted to
#    the build tree, MANPATH on the built man pages so every
#    Documentation=man:... is checked too); a negative control shows that
#    verify does fail on a broken unit;
#  - `systemd-analyze security --offline` rates both services at most 2.0;
#  - the directives the deployment relies on are there (socket activation
#    with the socket as stdin, unprivileged user, hardening, reload);
#  - the FastCGI socket path agrees with the shipped nginx/Apache snippets;
#  - the ExecStart/ExecStartPre command lines, run the way systemd runs
#    them (listening socket on fd 0), serve /api/health through nginx.
. "$top_srcdir/tests/lib.sh"

SA=$(command -v systemd-analyze || true)
[ -n "$SA" ] || t_skip "systemd-analyze not installed (Debian package: systemd)"

U="$top_builddir/conf/systemd"
UNITS="wrg-fcgi.socket wrg-fcgi.service wrg-wsproxy.service wrg-wsproxy@.service"
for f in $UNITS; do
	[ -f "$U/$f" ] || { echo "missing generated unit $U/$f" >&2; exit 1; }
done

# Built binaries (sbin_PROGRAMS of src/ and wsproxy/).
find_bin() {
	for p in "$top_builddir/src/$1" "$top_builddir/wsproxy/$1" \
	    "$top_builddir/$1"; do
		[ -x "$p" ] && { echo "$p"; return 0; }
	done
	echo "built $1 not found under $top_builddir" >&2
	return 1
}
FCGI=$(find_bin wrg.fcgi) || exit 1
WSPROXY=$(find_bin wrg-wsproxy) || exit 1

# Units with the ExecStart* binaries re-rooted to the build tree.
mkdir -p "$T_DIR/units" "$T_DIR/bin" "$T_DIR/man/man5" "$T_DIR/man/man8"
ln -s "$FCGI" "$T_DIR/bin/wrg.fcgi"
ln -s "$WSPROXY" "$T_DIR/bin/wrg-wsproxy"
for f in $UNITS; do
	sed -e "s#^\(Exec[A-Za-z]*=\)[^ ]*/\(wrg\.fcgi\|wrg-wsproxy\) #\1$T_DIR/bin/\2 #" \
	    "$U/$f" >"$T_DIR/units/$f"
done
for m in wrg.fcgi.8 wrg-wsproxy.8 wrg.conf.5; do
	sec=${m##*.}
	if [ -f "$top_builddir/man/$m" ]; then
		cp "$top_builddir/man/$m" "$T_DIR/man/man$sec/$m"
	else
		echo "man page $m not built" >&2
	fi
done

# Only the generated files: in an in-tree build the .in sources (which
# are all placeholders) sit in the same directory.
no_placeholders() {
	local f rc=0
	for f in $UNITS; do
		! grep -n '@[A-Za-z_]*@' "$U/$f" || rc=1
	done
	return $rc
}
t_check "no unfilled @placeholders@ in the generated units" no_placeholders

verify() {
	(cd "$T_DIR/units" && MANPATH="$T_DIR/man" SYSTEMD_LOG_COLOR=0 \
	    "$SA" verify "$@") >"$T_DIR/verify.log" 2>&1
	local rc=$?
	cat "$T_DIR/verify.log"
	return $rc
}
# A template is verified through an instance: a copy named for one.
cp "$T_DIR/units/wrg-wsproxy@.service" "$T_DIR/units/wrg-wsproxy@a.service"
t_check "systemd-analyze verify (units, binaries, man pages)" \
    verify ./wrg-fcgi.socket ./wrg-fcgi.service ./wrg-wsproxy.service \
    ./wrg-wsproxy@a.service

# Negative controls: verify must notice a missing binary and a missing
# man page, or the check above proves nothing.
sed -e "s|$T_DIR/bin/wrg-wsproxy |$T_DIR/bin/no-such-binary |" \
    "$T_DIR/units/wrg-wsproxy.service" >"$T_DIR/units/broken.service"
t_check "verify fails on a unit whose binary does not exist" \
    eval '! verify ./broken.service >/dev/null'
rm -f "$T_DIR/units/broken.service"
mv "$T_DIR/man/man5/wrg.conf.5" "$T_DIR/wrg.conf.5.away" 2>/dev/null
t_check "verify fails when a Documentation= man page is missing" \
    eval '! verify ./wrg-wsproxy.service >/dev/null'
mv "$T_DIR/wrg.conf.5.away" "$T_DIR/man/man5/wrg.conf.5" 2>/dev/null

security() {
	(cd "$T_DIR/units" && SYSTEMD_LOG_COLOR=0 "$SA" security \
	    --offline=yes --threshold=20 --no-pager "./$1") \
	    >"$T_DIR/security-$1.log" 2>&1
	local rc=$?
	grep 'Overall exposure' "$T_DIR/security-$1.log"
	return $rc
}
t_check "wrg-fcgi.service exposure <= 2.0" security wrg-fcgi.service
t_check "wrg-wsproxy.service exposure <= 2.0" security wrg-wsproxy.service
t_check "wrg-wsproxy@a.service exposure <= 2.0" security wrg-wsproxy@a.service

has() { grep -qx -- "$2" "$U/$1" || { echo "$1: missing '$2'" >&2; return 1; }; }
has_all() {
	local unit=$1 line rc=0; shift
	for line in "$@"; do has "$unit" "$line" || rc=1; done
	return $rc
}
t_check "socket: /run/wrg/fcgi.sock, one process, web server group" \
    has_all wrg-fcgi.socket 'ListenStream=/run/wrg/fcgi.sock' 'Accept=no' \
    'SocketGroup=www-data' 'SocketMode=0660'
HARDENING='NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
CapabilityBoundingSet=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallFilter=@system-service
User=wrg'
hardened() {
	local rc=0 line
	printf '%s\n' "$HARDENING" | {
		while IFS= read -r line; do has "$1" "$line" || rc=1; done
		return $rc
	}
}
t_check "wrg-fcgi.service: hardened, unprivileged" hardened wrg-fcgi.service
t_check "wrg-wsproxy.service: hardened, unprivileged" \
    hardened wrg-wsproxy.service
t_check "wrg-fcgi.service: listening socket as stdin" \
    has_all wrg-fcgi.service 'StandardInput=socket' 'Requires=wrg-fcgi.socket'
t_check "wrg-fcgi.service: ExecStart without -s (fd 0 is the socket)" \
    eval '! grep -q "^ExecStart=.* -s" "$U/wrg-fcgi.service"'
t_check "wrg-wsproxy.service: reload is SIGHUP" \
    grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$U/wrg-wsproxy.service"
t_check "wrg-wsproxy@.service: hardened, unprivileged" \
    hardened wrg-wsproxy@.service
t_check "wrg-wsproxy@.service: instance config wsproxy-%i.conf" \
    grep -q '^ExecStart=.* -c .*/wrg/wsproxy-%i\.conf$' "$U/wrg-wsproxy@.service"
same_but_config() {
	# The template is the plain unit but for the config path and texts.
	diff <(grep -v '^#' "$U/wrg-wsproxy.service" | grep -v '^Description=' |
	    sed 's|/wrg/wrg\.conf|/wrg/CONF|g') \
	    <(grep -v '^#' "$U/wrg-wsproxy@.service" | grep -v '^Description=' |
	    sed 's|/wrg/wsproxy-%i\.conf|/wrg/CONF|g')
}
t_check "wrg-wsproxy@.service = wrg-wsproxy.service but the config" \
    same_but_config
t_check "nginx snippet uses the unit's socket" \
    grep -q 'server unix:/run/wrg/fcgi.sock;' \
    "$top_builddir/conf/nginx/wrg.conf"
t_check "Apache snippet uses the unit's socket" \
    grep -q '"unix:/run/wrg/fcgi.sock|fcgi://localhost/api/"' \
    "$top_builddir/conf/apache2/wrg.conf"

# Run the units' command lines as systemd would: ExecStartPre, then
# ExecStart with the listening socket (created like wrg-fcgi.socket does)
# as stdin, the config path swapped for a test config. Then a request
# through nginx must reach it.
cat >"$T_DIR/wrg.conf" <<CONF
{ "runtimes": [], "wsproxy": { "listen": "127.0.0.1:1" } }
CONF
exec_line() {
	sed -n "s|^$2=||p" "$T_DIR/units/$1" | head -n 1 |
	    sed -e "s|[^ ]*/wrg/wrg\.conf|$T_DIR/wrg.conf|"
}
PRE=$(exec_line wrg-fcgi.service ExecStartPre)
START=$(exec_line wrg-fcgi.service ExecStart)
t_check "ExecStartPre (--check-config) accepts a valid config" \
    sh -c "$PRE >'$T_DIR/pre.log' 2>&1"
echo '{ "bogus": 1 }' >"$T_DIR/bad.conf"
t_check "ExecStartPre rejects a bad config" \
    sh -c "! $(echo "$PRE" | sed "s|$T_DIR/wrg.conf|$T_DIR/bad.conf|") \
    >'$T_DIR/pre-bad.log' 2>&1"
SOCK="$T_DIR/fcgi.sock"
"${PYTHON3_SYS:-/usr/bin/python3}" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o660); s.listen(64)
os.dup2(s.fileno(), 0); s.close()
args = sys.argv[2:]
os.execv(args[0], args)
' "$SOCK" $START 2>"$T_DIR/fcgi.log" &
t_track $!
t_wait_unix "$SOCK"
if [ -n "${NGINX:-}" ] || command -v nginx >/dev/null 2>&1 || \
    [ -x /usr/sbin/nginx ]; then
	. "$top_srcdir/tests/webserver-nginx.sh"
	mkdir -p "$T_DIR/panel"
	echo '<!doctype html><title>wrg</title>' >"$T_DIR/panel/index.html"
	PORT=$(t_free_port)
	t_webserver_start_nginx "$PORT" "$SOCK" 127.0.0.1:1 "$T_DIR/panel"
	health() {
		curl -sS -m 10 -o "$T_DIR/health.json" -w '%{http_code}' \
		    "http://127.0.0.1:$PORT/api/health" >"$T_DIR/health.code"
		cat "$T_DIR/health.code" "$T_DIR/health.json"; echo
		[ "$(cat "$T_DIR/health.code")" = 200 ] &&
		    grep -q '"status":"ok"' "$T_DIR/health.json"
	}
	t_check "socket-activated wrg.fcgi (fd 0) serves /api/health" health
else
	echo "nginx not installed: socket-activation request not tested"
fi

t_done
