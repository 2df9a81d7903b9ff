#!/bin/bash
# tests/integration/debian-package.sh — the Debian package, end to end:
# `dpkg-buildpackage -us -uc -b` in a copy of the tree (the source tree
# stays clean), lintian without errors, `apt-get install` of the .deb, the
# installed layout (binaries, units, man pages, panel, /etc/wrg/wrg.conf a
# conffile 0640 root:wrg, the system user wrg, no unit enabled and no wrg
# daemon running), then the installed wrg.fcgi run as user wrg with its
# default config path: `--check-config` and `--probe` against a sample
# runtime on 127.0.0.1 (and `--probe` failing once the runtime is stopped),
# and finally `apt-get purge`, after which no file of the package, no
# /etc/wrg and no user or group wrg remain.
#
# It installs and purges a system package, so it is NOT in TESTS: CI runs
# it as its own step (.ci/run, a fresh Debian 12 machine, as root):
#     bash SRCDIR/tests/integration/debian-package.sh
# from a configured build dir or any directory. Skips (77) when not root,
# without dpkg-buildpackage/debhelper/lintian, or when a wrg package or a
# user wrg already exists (it would remove them). The package is purged on
# every exit path. The unit tests are not rerun in the package build
# (DEB_BUILD_OPTIONS=nocheck; CI ran them already); WRG_DEB_CHECK=1 runs
# them there too.
set -u
T_STANDALONE=1
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" -eq 0 ] || t_skip "needs root (installs and purges the wrg package)"
for c in dpkg-buildpackage dh lintian apt-get runuser; do
	command -v "$c" >/dev/null 2>&1 || t_skip "$c not installed"
done
case "$(dpkg-query -W -f='${Status}' wrg 2>/dev/null)" in
""|*not-installed) ;;
*) t_skip "a wrg package is on this machine already; not touching it" ;;
esac
getent passwd wrg >/dev/null && t_skip "a user wrg exists; purge would remove it"
getent group wrg >/dev/null && t_skip "a group wrg exists; purge would remove it"

unset MAKEFLAGS MFLAGS MAKELEVEL
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -y -q -o DPkg::Lock::Timeout=120"
PKG="$T_DIR/pkg"
SRC="$PKG/wrg"
UNITS="wrg-fcgi.socket wrg-fcgi.service wrg-wsproxy.service wrg-wsproxy@.service"
INSTALLED=""

# Never leave the package installed, whatever failed.
deb_cleanup() {
	if [ -n "$INSTALLED" ]; then
		$APT purge wrg >>"$T_DIR/purge.log" 2>&1 ||
		    echo "cleanup: apt-get purge wrg failed" >&2
	fi
	t_cleanup
}
trap deb_cleanup EXIT

# The tree to package: what git tracks plus new files it does not ignore
# (build dirs, node_modules and in-tree build output stay out), or the
# whole tree when it is an unpacked tarball.
git_status() { git -C "$top_srcdir" status --porcelain 2>/dev/null; }
copy_tree() {
	mkdir -p "$SRC" || return 1
	if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$top_srcdir" && git ls-files -z -c -o --exclude-standard |
		    grep -zv '^node_modules$' | tar -cf - --null -T -) |
		    tar -xf - -C "$SRC"
	else
		tar -C "$top_srcdir" --exclude=./node_modules -cf - . |
		    tar -xf - -C "$SRC"
	fi
}
STATUS_BEFORE=$(git_status)
t_check "copy of the source tree" copy_tree

build() {
	local opts="nocheck parallel=$(nproc)"
	[ -n "${WRG_DEB_CHECK:-}" ] && opts="parallel=$(nproc)"
	(cd "$SRC" && DEB_BUILD_OPTIONS="$opts" dpkg-buildpackage -us -uc -b) \
	    >"$T_DIR/build.log" 2>&1 || { tail -n 40 "$T_DIR/build.log"; return 1; }
}
t_check "dpkg-buildpackage -us -uc -b" build
VERSION=$(cd "$SRC" && dpkg-parsechangelog -S Version)
ARCH=$(dpkg --print-architecture)
DEB="$PKG/wrg_${VERSION}_$ARCH.deb"
CHANGES="$PKG/wrg_${VERSION}_$ARCH.changes"
[ -f "$DEB" ] || { t_check "built $DEB" false; exit 1; }
t_check "the source tree is untouched" \
    eval '[ "$(git_status)" = "$STATUS_BEFORE" ]'

lint() {
	lintian --fail-on error "$CHANGES" >"$T_DIR/lintian.log" 2>&1
	local rc=$?
	grep -v '^running with root' "$T_DIR/lintian.log" | sed 's/^/  lintian: /'
	[ $rc -eq 0 ] && ! grep -q '^E: ' "$T_DIR/lintian.log"
}
t_check "lintian: no errors" lint

install_deb() {
	INSTALLED=1
	$APT install --no-install-recommends "$DEB" >"$T_DIR/install.log" 2>&1 ||
	    { tail -n 30 "$T_DIR/install.log"; return 1; }
}
t_check "apt-get install ./$(basename "$DEB")" install_deb
t_check "dpkg: wrg installed" sh -c \
    "dpkg-query -W -f='\${Status}' wrg | grep -qx 'install ok installed'"

for f in /usr/sbin/wrg.fcgi /usr/sbin/wrg-wsproxy; do
	t_check "$f executable" test -x "$f"
done
for u in $UNITS; do
	t_check "unit /lib/systemd/system/$u" test -f "/lib/systemd/system/$u"
done
t_check "wrg-fcgi.service runs /usr/sbin/wrg.fcgi -c /etc/wrg/wrg.conf" \
    grep -qx 'ExecStart=/usr/sbin/wrg.fcgi -c /etc/wrg/wrg.conf' \
    /lib/systemd/system/wrg-fcgi.service
for m in "8 wrg.fcgi" "8 wrg-wsproxy" "5 wrg.conf"; do
	set -- $m
	t_check "man page $2($1)" test -f "/usr/share/man/man$1/$2.$1.gz"
done
t_check "panel /usr/share/wrg/panel/index.html" \
    test -f /usr/share/wrg/panel/index.html
t_check "nginx snippet (uncompressed)" \
    grep -q 'root /usr/share/wrg/panel;' /usr/share/doc/wrg/examples/nginx/wrg.conf
t_check "deploy.md uncompressed (the man pages name it)" \
    test -f /usr/share/doc/wrg/deploy.md
t_check "/etc/wrg/wrg.conf is a conffile" sh -c \
    "dpkg-query -W -f='\${Conffiles}' wrg | grep -q '^ /etc/wrg/wrg.conf '"
t_check "/etc/wrg/wrg.conf 0640 root:wrg" \
    eval '[ "$(stat -c "%a %U %G" /etc/wrg/wrg.conf)" = "640 root wrg" ]'
t_check "/etc/wrg/tokens 0750 root:wrg" \
    eval '[ "$(stat -c "%a %U %G" /etc/wrg/tokens)" = "750 root wrg" ]'
sys_user() {
	local ent uid
	ent=$(getent passwd wrg) || { echo "no user wrg" >&2; return 1; }
	uid=$(echo "$ent" | cut -d: -f3)
	[ "$uid" -lt 1000 ] && getent group wrg >/dev/null &&
	    [ "$(echo "$ent" | cut -d: -f6)" = /nonexistent ] ||
	    { echo "not a system user with group wrg: $ent" >&2; return 1; }
}
t_check "system user and group wrg" sys_user

# "No service started": nothing enabled, nothing running from /usr/sbin.
no_enable_links() {
	local l
	l=$(find /etc/systemd/system -name 'wrg*' 2>/dev/null)
	[ -z "$l" ] || { echo "enabled: $l" >&2; return 1; }
}
t_check "no wrg unit enabled" no_enable_links
installed_daemons() {
	local p
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/exe" 2>/dev/null)" in
		/usr/sbin/wrg.fcgi|/usr/sbin/wrg-wsproxy) echo "${p#/proc/}" ;;
		esac
	done
}
t_check "no installed wrg daemon running" eval '[ -z "$(installed_daemons)" ]'
if [ -d /run/systemd/system ]; then
	t_check "systemd: wrg-fcgi.socket and wrg-wsproxy inactive" sh -c \
	    '! systemctl is-active --quiet wrg-fcgi.socket wrg-fcgi.service wrg-wsproxy.service'
fi

# A runtime for the installed binaries: the sample runtime of the package
# build, with a token the config names by token_file.
RT="$SRC/tests/sample-runtime/wrg-sample-runtime"
TOK="tok-deb-$$-$RANDOM"
"$RT" --listen 127.0.0.1:0 --token "$TOK" --ready-file "$T_DIR/rt.ready" \
    --log-level warn >"$T_DIR/rt.log" 2>&1 &
RT_PID=$!
t_track $RT_PID
for i in $(seq 1 100); do [ -s "$T_DIR/rt.ready" ] && break; sleep 0.1; done
RPORT=$(cat "$T_DIR/rt.ready" 2>/dev/null)
t_check "sample runtime on 127.0.0.1:$RPORT" t_wait_port "${RPORT:-0}"

write_config() {
	(umask 077 && printf '%s\n' "$TOK" >/etc/wrg/tokens/sample.token) &&
	chown wrg:wrg /etc/wrg/tokens/sample.token &&
	cat >/etc/wrg/wrg.conf <<CONF_END
{"runtimes": [
  {"id": "sample", "display_name": "Sample runtime",
   "base_url": "http://127.0.0.1:$RPORT",
   "token_file": "/etc/wrg/tokens/sample.token"}
]}
CONF_END
}
t_check "config with the sample runtime in /etc/wrg/wrg.conf" write_config
t_check "wrg.conf still 0640 root:wrg after the edit" \
    eval '[ "$(stat -c "%a %U %G" /etc/wrg/wrg.conf)" = "640 root wrg" ]'

as_wrg() { (cd / && env -u WRG_CONFIG runuser -u wrg -- "$@"); }
check_config() {
	as_wrg /usr/sbin/wrg.fcgi --check-config >"$T_DIR/check.out" 2>&1 ||
	    { cat "$T_DIR/check.out"; return 1; }
	grep -q '"sample"' "$T_DIR/check.out" &&
	    ! grep -qF "$TOK" "$T_DIR/check.out" ||
	    { cat "$T_DIR/check.out"; return 1; }
}
t_check "as wrg: wrg.fcgi --check-config (default /etc/wrg/wrg.conf)" check_config
probe_up() {
	as_wrg /usr/sbin/wrg.fcgi --probe >"$T_DIR/probe.out" 2>&1 ||
	    { cat "$T_DIR/probe.out"; return 1; }
	grep -q '^sample  *up ' "$T_DIR/probe.out" &&
	    ! grep -qF "$TOK" "$T_DIR/probe.out" ||
	    { cat "$T_DIR/probe.out"; return 1; }
}
t_check "as wrg: wrg.fcgi --probe: sample up, exit 0" probe_up
t_check "as wrg: wrg-wsproxy --check-config" \
    sh -c "cd / && runuser -u wrg -- /usr/sbin/wrg-wsproxy --check-config >/dev/null 2>&1"
t_stop_pid "$RT_PID"
probe_down() {
	as_wrg /usr/sbin/wrg.fcgi --probe >"$T_DIR/probe-down.out" 2>&1
	local rc=$?
	[ $rc -eq 1 ] && grep -q '^sample  *DOWN ' "$T_DIR/probe-down.out" ||
	    { echo "rc $rc"; cat "$T_DIR/probe-down.out"; return 1; }
}
t_check "as wrg: wrg.fcgi --probe with the runtime stopped: DOWN, exit 1" probe_down

# Purge. The token file is the operator's, not the package's: remove it
# first, as an operator would, so that /etc/wrg can go.
dpkg -L wrg >"$T_DIR/files.list" 2>/dev/null
rm -f /etc/wrg/tokens/sample.token
purge() {
	$APT purge wrg >"$T_DIR/purge.log" 2>&1 ||
	    { tail -n 30 "$T_DIR/purge.log"; return 1; }
	INSTALLED=""
}
t_check "apt-get purge wrg" purge
t_check "dpkg: wrg gone" sh -c \
    "! dpkg-query -W -f='\${Status}' wrg 2>/dev/null | grep -q installed"
leftovers() {
	local f
	while read -r f; do
		case "$f" in
		*wrg*) [ -e "$f" ] && echo "$f" ;;
		esac
	done <"$T_DIR/files.list"
	[ -e /etc/wrg ] && echo /etc/wrg
	return 0
}
t_check "purge leaves no file of the package, no /etc/wrg" \
    eval '[ -z "$(leftovers)" ] || { leftovers >&2; false; }'
t_check "purge removes the user and group wrg" \
    sh -c '! getent passwd wrg && ! getent group wrg'

t_done
