#!/bin/sh
# README command 2: install what is needed, build with warnings as errors,
# run every test (units, integration through real web servers, the
# browser test), and print what ran.
#
#   scripts/test.sh               # build dir: build-test/
#   scripts/test.sh --sanitizers  # ASan+UBSan build in build-asan/
#
# Exit status is make check's. Test logs stay under the build dir
# (tests/**/*.log; browser screenshots in tests/browser/artifacts/).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
case $mode in
"") build="$top/build-test"; flags="--enable-werror" ;;
--sanitizers) build="$top/build-asan"
	flags="--enable-werror --enable-sanitizers" ;;
*) echo "usage: $0 [--sanitizers]" >&2; exit 2 ;;
esac

"$top/scripts/deps.sh"

cd "$top"
if [ -f package-lock.json ] && [ ! -d node_modules/playwright-core ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
[ -x configure ] || autoreconf -fi

mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
	"$top/configure" $flags >configure.out 2>&1 ||
	    { cat configure.out; exit 1; }
fi
make -j"$(nproc)" >make.out 2>&1 || { cat make.out; exit 1; }

rc=0
make -j2 check >check.out 2>&1 || rc=$?

# What ran: every test's summary line(s), then the full log of failures.
echo "== test summaries ($build)"
find tests -name '*.log' ! -name 'test-suite.log' | sort | while read -r log; do
	grep -hE '^\[  (PASSED|FAILED)  \]|^\[==========\] .* run\.|[0-9]+ passed, [0-9]+ failed|^SKIP' \
	    "$log" | sed "s|^|$(basename "$log" .log): |"
done
grep -E '^(PASS|FAIL|XFAIL|XPASS|SKIP|ERROR):' check.out || true
if [ "$rc" -ne 0 ]; then
	echo "== failed checks"
	grep -rH '^not ok' --include='*.log' tests | sed 's|^tests/||' || true
	echo "== failures"
	cat test-suite.log 2>/dev/null || cat check.out
fi
total=$(sed -n 's/^# TOTAL: *//p' check.out | tail -1)
pass=$(sed -n 's/^# PASS: *//p' check.out | tail -1)
fail=$(sed -n 's/^# FAIL: *//p' check.out | tail -1)
err=$(sed -n 's/^# ERROR: *//p' check.out | tail -1)
skip=$(sed -n 's/^# SKIP: *//p' check.out | tail -1)
echo "tests: ${pass:-0} passed, $(( ${fail:-0} + ${err:-0} )) failed, ${skip:-0} skipped (of ${total:-0} programs)"
exit "$rc"
