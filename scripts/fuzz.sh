#!/bin/sh
# Coverage-guided fuzzing of wrg's parsers with clang's libFuzzer:
#   scripts/fuzz.sh [TARGET] [SECONDS]     (TARGET: route|wjson|registry)
# Builds lib/ and the target with -fsanitize=fuzzer,address,undefined in
# build-fuzz/, runs it for SECONDS (default 60) on a copy of the seed
# corpus, and leaves any crash file in build-fuzz/. Add crashers to
# tests/fuzz/corpus/TARGET/ so `make check` replays them forever.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-route}
secs=${2:-60}
out="$top/build-fuzz"
mkdir -p "$out/corpus-$target"
cp -n "$top/tests/fuzz/corpus/$target/"* "$out/corpus-$target/" 2>/dev/null || true
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE"
# shellcheck disable=SC2046
clang $CFLAGS -I"$top/lib" -DWRG_SYSCONFDIR='"/etc"' \
    $(pkg-config --cflags json-c libcurl libwebsockets) \
    "$top/tests/fuzz/fuzz_$target.c" "$top"/lib/*.c \
    $(pkg-config --libs json-c libcurl libwebsockets) \
    -o "$out/fuzz_$target"
cd "$out"
exec "./fuzz_$target" -max_total_time="$secs" -max_len=4096 "corpus-$target"
