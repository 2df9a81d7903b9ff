#!/bin/bash
# tests/integration/install-check.sh — `./configure --prefix=…` +
# `make install DESTDIR=…` + `make uninstall`: the installed layout and
# modes, that the installed units, snippets, man pages and the binaries'
# compiled-in config path name the configured prefix, that an operator's
# wrg.conf survives a reinstall and an uninstall, and that uninstall
# leaves nothing else behind.
#
# It configures and builds its own tree (in its scratch dir, with
# --prefix=/opt/wrg-test) and runs `make` there, so it is NOT in TESTS
# (make inside make check is fragile): CI runs it as its own step,
#     bash SRCDIR/tests/integration/install-check.sh
# from any directory (or from a configured build dir, whose source dir is
# then used). Needs the build dependencies, nothing installed.
set -u
T_STANDALONE=1
. "$(dirname "$0")/../lib.sh"

MAKE=${MAKE:-make}
B="$T_DIR/build"
D="$T_DIR/root"
P=/opt/wrg-test
unset MAKEFLAGS MFLAGS MAKELEVEL
mkdir -p "$B"

run_make() {
	(cd "$B" && $MAKE "$@") >>"$T_DIR/make.log" 2>&1 || {
		tail -n 30 "$T_DIR/make.log"; return 1; }
}
configure() {
	(cd "$B" && "$top_srcdir/configure" --prefix=$P --sysconfdir=$P/etc) \
	    >"$T_DIR/configure.log" 2>&1 || {
		tail -n 20 "$T_DIR/configure.log"; return 1; }
}
t_check "configure --prefix=$P --sysconfdir=$P/etc" configure
t_check "make" run_make -j2 all
t_check "make install DESTDIR=…" run_make install DESTDIR="$D"

mode() { stat -c '%a' "$1" 2>/dev/null; }
has_mode() {
	local f="$D$1" want=$2
	[ -e "$f" ] || { echo "missing: $1" >&2; return 1; }
	[ "$(mode "$f")" = "$want" ] || {
		echo "$1: mode $(mode "$f"), want $want" >&2; return 1; }
}
t_check "sbin/wrg.fcgi 0755" has_mode "$P/sbin/wrg.fcgi" 755
t_check "sbin/wrg-wsproxy 0755" has_mode "$P/sbin/wrg-wsproxy" 755
t_check "etc/wrg/wrg.conf.example 0640" has_mode "$P/etc/wrg/wrg.conf.example" 640
t_check "etc/wrg/wrg.conf 0640 (first install)" has_mode "$P/etc/wrg/wrg.conf" 640
for u in wrg-fcgi.socket wrg-fcgi.service wrg-wsproxy.service \
    wrg-wsproxy@.service; do
	t_check "unit $u 0644" has_mode "$P/lib/systemd/system/$u" 644
done
t_check "man8/wrg.fcgi.8" has_mode "$P/share/man/man8/wrg.fcgi.8" 644
t_check "man8/wrg-wsproxy.8" has_mode "$P/share/man/man8/wrg-wsproxy.8" 644
t_check "man5/wrg.conf.5" has_mode "$P/share/man/man5/wrg.conf.5" 644
t_check "nginx snippet" has_mode "$P/share/doc/wrg/examples/nginx/wrg.conf" 644
t_check "Apache snippet" has_mode "$P/share/doc/wrg/examples/apache2/wrg.conf" 644
for f in wrg-fcgi.conf wrg-fcgi-binpath.conf wrg-wsproxy.conf; do
	t_check "lighttpd snippet $f" \
	    has_mode "$P/share/doc/wrg/examples/lighttpd/$f" 644
done
t_check "lighttpd bin-path names $P/sbin/wrg.fcgi" grep -q \
    "\"bin-path\" => \"$P/sbin/wrg.fcgi\"" \
    "$D$P/share/doc/wrg/examples/lighttpd/wrg-fcgi-binpath.conf"
t_check "docs/deploy.md" has_mode "$P/share/doc/wrg/deploy.md" 644
panel_ok() {
	[ -f "$D$P/share/wrg/panel/index.html" ] || {
		echo "no panel at $P/share/wrg/panel/index.html" >&2; return 1; }
}
t_check "panel in share/wrg/panel" panel_ok
# The browser test serves the panel from the source tree, so a module left
# out of dist_paneljs_DATA (panel/Makefile.inc) only shows here.
panel_js_ok() {
	local js="$D$P/share/wrg/panel/js" f m rc=0
	for f in "$top_srcdir"/panel/js/*.js; do
		[ -f "$js/${f##*/}" ] || {
			echo "not installed: panel/js/${f##*/}" >&2; rc=1; }
	done
	for f in "$js"/*.js; do
		for m in $(sed -n "s/.* from '\.\/\([^']*\)';$/\1/p" "$f"); do
			[ -f "$js/$m" ] || {
				echo "${f##*/} imports missing $m" >&2; rc=1; }
		done
	done
	return $rc
}
t_check "every panel module installed, every import resolves" panel_js_ok
t_check "nothing installed outside DESTDIR$P" \
    eval "[ -z \"\$(cd '$D' && find . -mindepth 1 -maxdepth 1 ! -name opt)\" ]"

# The installed files name the installed paths.
t_check "wrg-fcgi.service runs $P/sbin/wrg.fcgi -c $P/etc/wrg/wrg.conf" \
    grep -qx "ExecStart=$P/sbin/wrg.fcgi -c $P/etc/wrg/wrg.conf" \
    "$D$P/lib/systemd/system/wrg-fcgi.service"
t_check "nginx snippet serves $P/share/wrg/panel" \
    grep -q "root $P/share/wrg/panel;" "$D$P/share/doc/wrg/examples/nginx/wrg.conf"
t_check "wrg.conf(5) names $P/etc/wrg/wrg.conf" \
    grep -q "$P/etc/wrg/wrg.conf" "$D$P/share/man/man5/wrg.conf.5"
t_check "installed wrg.fcgi accepts the installed config" \
    sh -c "'$D$P/sbin/wrg.fcgi' --check-config -c '$D$P/etc/wrg/wrg.conf' >/dev/null"
default_path() {
	# Without -c and $WRG_CONFIG the binary looks in $P/etc/wrg/wrg.conf,
	# which does not exist outside DESTDIR: the error names it.
	env -u WRG_CONFIG "$D$P/sbin/$1" --check-config >"$T_DIR/default.out" 2>&1
	local rc=$?
	[ $rc -ne 0 ] && grep -q "$P/etc/wrg/wrg.conf" "$T_DIR/default.out" || {
		cat "$T_DIR/default.out"; return 1; }
}
t_check "wrg.fcgi's default config is $P/etc/wrg/wrg.conf" default_path wrg.fcgi
t_check "wrg-wsproxy's default config is $P/etc/wrg/wrg.conf" default_path wrg-wsproxy
if command -v man >/dev/null 2>&1; then
	t_check "man -M finds wrg.conf(5)" \
	    sh -c "man -M '$D$P/share/man' -w 5 wrg.conf >/dev/null"
fi

# An operator's config is never overwritten nor removed.
echo '// operator edit' >>"$D$P/etc/wrg/wrg.conf"
cp "$D$P/etc/wrg/wrg.conf" "$T_DIR/operator.conf"
t_check "reinstall" run_make install DESTDIR="$D"
t_check "reinstall keeps the operator's wrg.conf" \
    cmp -s "$T_DIR/operator.conf" "$D$P/etc/wrg/wrg.conf"
t_check "make uninstall" run_make uninstall DESTDIR="$D"
t_check "uninstall keeps the modified wrg.conf" \
    cmp -s "$T_DIR/operator.conf" "$D$P/etc/wrg/wrg.conf"
leftover() {
	(cd "$D" && find . -type f ! -path "./opt/wrg-test/etc/wrg/wrg.conf")
}
t_check "uninstall removes everything else" eval '[ -z "$(leftover)" ]'
rm -f "$D$P/etc/wrg/wrg.conf"
t_check "install + uninstall on a clean root leaves no file" sh -c "
	cd '$B' && $MAKE install DESTDIR='$D' >/dev/null 2>&1 &&
	$MAKE uninstall DESTDIR='$D' >/dev/null 2>&1 &&
	[ -z \"\$(find '$D' -type f)\" ]"

t_done
