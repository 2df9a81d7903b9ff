#!/bin/sh
# Installs every Debian 12 package wrg needs to build, test and run its
# demo. Idempotent; needs root (or sudo). Used by scripts/demo.sh,
# scripts/test.sh and CI, so there is one list.
set -eu

PACKAGES="build-essential autoconf automake libtool pkg-config
autoconf-archive libcurl4-openssl-dev libjson-c-dev
libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libcmocka-dev lighttpd nginx apache2 spawn-fcgi wrk
python3 python3-websockets python3-prometheus-client curl chromium nodejs npm
systemd man-db
procps iproute2 openssl groff-base
dpkg-dev debhelper fakeroot lintian"

if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi

missing=""
for p in $PACKAGES; do
	# nodejs/npm may come from elsewhere on a developer box: accept
	# whatever provides the commands.
	case $p in
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
# Postinst may have started the distro's web servers: wrg's tests and demo
# start their own on loopback ports, and need nothing of these.
for svc in lighttpd nginx apache2; do
	if command -v systemctl >/dev/null 2>&1 &&
	    systemctl is-active --quiet "$svc" 2>/dev/null; then
		systemctl stop "$svc" >/dev/null 2>&1 || true
	fi
done
echo "deps: all packages present"
