#!/bin/bash
# scripts/demo.sh — README's first command. On a fresh Debian 12, as root
# or through sudo: installs the packages (scripts/deps.sh), builds wrg in
# ./build (autoreconf, configure, make), then starts the demo stack with
# scripts/stack.sh — two sample runtimes, wrg.fcgi and wrg-wsproxy behind
# lighttpd on 127.0.0.1:PORT — prints the panel's URL and runs until
# Ctrl-C, which stops everything it started. Safe to re-run: the build is
# incremental and stack.sh cleans up what an earlier run left behind.
#
# Usage: scripts/demo.sh [-p PORT] [--tick-ms N]   (default port 8080;
#        environment: WRG_BUILD_DIR, WRG_DEMO_DIR override the directories)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=${WRG_BUILD_DIR:-$top/build}
scratch=${WRG_DEMO_DIR:-$build/demo}

echo "==> dependencies"
if [ -f "$here/deps.sh" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		sh "$here/deps.sh"
	else
		sudo sh "$here/deps.sh"
	fi
else
	echo "scripts/deps.sh not found; assuming the packages are installed"
fi

echo "==> build in $build"
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi
fi
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
	"$top/configure" --enable-werror
fi
make -j"$(nproc 2>/dev/null || echo 2)"

echo "==> start"
exec "$here/stack.sh" -b "$build" -d "$scratch" "$@"
