#!/bin/sh
# Coverage-guided fuzzing of wrg's parsers with clang's libFuzzer:
#   scripts/fuzz.sh [TARGET] [SECONDS] [LIBFUZZER-OPTION...]
#   scripts/fuzz.sh --list
# TARGET is one of tests/fuzz/fuzz_TARGET.c:
#   route, wjson, registry          lib/ only
#   fcgi_request                    wrg.fcgi's handler + the unit tests'
#                                   fake upstream (no network)
#   fcgi_upstream                   rewrite.c + apierr_upstream.c on
#                                   runtime bodies
#   wsproxy_frame                   wsproxy/frame.c on runtime WS frames
#   wsproxy_upgrade                 wsproxy/upgrade.c on browser upgrades
#   wsproxy_head                    wsproxy/head.c on raw request heads
#   hdrscan                         lib/hdrscan.c on raw request heads
#   fcgi_rec                        src/fcgirec.c on web server bytes
# Builds lib/, the sources the target needs and the target with
# -fsanitize=fuzzer,address,undefined (UBSan fatal) in build-fuzz/ (or
# $WRG_FUZZ_OUT), runs it for SECONDS (default 60) on a copy of the seed
# corpus (with tests/fuzz/dict/TARGET.dict if present), and leaves any
# crash file there. Extra arguments go to libFuzzer
# (e.g. -jobs=2, -only_ascii=1). A crasher of a FIXED bug goes into
# tests/fuzz/corpus/TARGET/ so `make check` replays it forever; one of a
# bug not fixed yet goes into tests/fuzz/crashers-pending/ (see the
# README there).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
targets="route wjson registry fcgi_request fcgi_upstream wsproxy_frame
    wsproxy_upgrade wsproxy_head hdrscan fcgi_rec"
if [ "${1:-}" = --list ]; then
	for t in $targets; do
		echo "$t"
	done
	exit 0
fi
target=${1:-route}
secs=${2:-60}
if [ $# -gt 2 ]; then
	shift 2
else
	set --
fi
out=${WRG_FUZZ_OUT:-"$top/build-fuzz"}
CC=${CC_FUZZ:-clang}

# What each target compiles besides lib/*.c. lib/ itself needs json-c,
# libcurl and libwebsockets (wlog routes lws logs). The handler is
# socket-free; FastCGI records are src/fcgirec.c's (pure, no socket).
extra=
incs=
pkgs="json-c libcurl libwebsockets"
case $target in
route|wjson|registry|hdrscan)
	;;
fcgi_request)
	# src/Makefile.inc's WRG_FCGI_CORE (its .c files).
	extra="src/apierr_upstream.c src/fcgim.c src/fcgim_render.c
	    src/handler.c src/handler_call.c src/handler_fanout.c
	    src/resp.c src/rewrite.c src/rtstate.c src/upstream_call.c
	    tests/unit/test_fcgi_fake_upstream.c"
	incs="-I$top/src -I$top/tests/unit"
	;;
fcgi_upstream)
	extra="src/apierr_upstream.c src/resp.c src/rewrite.c
	    src/upstream_call.c tests/unit/test_fcgi_fake_upstream.c"
	incs="-I$top/src -I$top/tests/unit"
	;;
fcgi_rec)
	extra="src/fcgirec.c src/fcgirec_out.c"
	incs="-I$top/src"
	;;
wsproxy_frame)
	extra="wsproxy/frame.c"
	incs="-I$top/wsproxy"
	;;
wsproxy_upgrade)
	extra="wsproxy/frame.c wsproxy/upgrade.c"
	incs="-I$top/wsproxy"
	;;
wsproxy_head)
	extra="wsproxy/head.c"
	incs="-I$top/wsproxy"
	;;
*)
	echo "fuzz.sh: unknown target '$target' (one of: $targets)" >&2
	exit 2
	;;
esac

mkdir -p "$out/corpus-$target"
cp -n "$top/tests/fuzz/corpus/$target/"* "$out/corpus-$target/" \
    2>/dev/null || true
# handler.c takes PACKAGE_VERSION from the configure-generated config.h;
# the fuzz build has no configure run, so it gets the version alone.
version=$(sed -n 's/^AC_INIT(\[wrg\], \[\([^]]*\)\].*/\1/p' \
    "$top/configure.ac")
printf '#define PACKAGE_VERSION "%s"\n' "${version:-fuzz}" >"$out/config.h"

CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
    -std=c11 -D_GNU_SOURCE"
srcs=
for f in $extra; do
	srcs="$srcs $top/$f"
done
# shellcheck disable=SC2046,SC2086
$CC $CFLAGS -I"$out" -I"$top/lib" $incs -DWRG_SYSCONFDIR='"/etc"' \
    $(pkg-config --cflags $pkgs) \
    "$top/tests/fuzz/fuzz_$target.c" "$top/tests/fuzz/fuzz_check.c" \
    "$top"/lib/*.c $srcs \
    $(pkg-config --libs $pkgs) -pthread \
    -o "$out/fuzz_$target"
# A dictionary of the target's tokens (JSON keys, route pieces, codes)
# when there is one.
dict="$top/tests/fuzz/dict/$target.dict"
if [ -f "$dict" ]; then
	set -- -dict="$dict" "$@"
fi
cd "$out"
exec "./fuzz_$target" -max_total_time="$secs" -max_len=4096 \
    -print_final_stats=1 "$@" "corpus-$target"
