# scripts/lib-stack.sh — sourced by the scripts that run a wrg stack from
# a build tree without `make check` around them (soak.sh, bench.sh). Once
# the build is known they set top_srcdir/top_builddir and source
# tests/lib.sh for the rest; the watchdog and the log tails on failure
# are shared too.

# stack_find_build NAME SRCDIR [DIR] — prints the absolute build dir: DIR,
# or else the first of ./build-test, ./build, SRCDIR/build-test,
# SRCDIR/build and SRCDIR that holds a built src/wrg.fcgi. Returns 1 with
# "NAME: ..." on stderr when there is none.
stack_find_build() {
	local name=$1 src=$2 build=${3:-} d
	if [ -z "$build" ]; then
		for d in ./build-test ./build "$src/build-test" "$src/build" \
		    "$src"; do
			if [ -x "$d/src/wrg.fcgi" ]; then build=$d; break; fi
		done
	fi
	if [ -z "$build" ]; then
		echo "$name: no build dir (give one; run make first)" >&2
		return 1
	fi
	(cd "$build" 2>/dev/null && pwd) ||
	    { echo "$name: no build dir: $build" >&2; return 1; }
}

# stack_need_built NAME BUILD PROGRAM... — returns 1 with "NAME: missing
# PROGRAM" on stderr unless every PROGRAM is an executable.
stack_need_built() {
	local name=$1 build=$2 b
	shift 2
	for b in "$@"; do
		[ -x "$b" ] && continue
		echo "$name: missing $b (run make in $build)" >&2
		return 1
	done
}

# stack_bins NAME BUILD — sets FCGI, WSP and RT to the three programs of
# BUILD (stack_need_built: 1 unless all are built) and PY to Debian's
# python3.
stack_bins() {
	FCGI=$2/src/wrg.fcgi
	WSP=$2/wsproxy/wrg-wsproxy
	RT=$2/tests/sample-runtime/wrg-sample-runtime
	PY=${PYTHON3_SYS:-/usr/bin/python3}
	stack_need_built "$1" "$2" "$FCGI" "$WSP" "$RT"
}

# stack_use_tests BUILD — the test helpers for the rest of the run, with
# $srcdir the source tree: top_srcdir/top_builddir exported, tests/lib.sh
# (scratch dir, ports, pid tracking, t_check) and tests/webserver.sh
# sourced. Sets START (epoch seconds).
stack_use_tests() {
	export top_srcdir=$srcdir top_builddir=$1
	unset WRG_SKIP_INTEGRATION
	# shellcheck source=../tests/lib.sh
	. "$srcdir/tests/lib.sh"
	# shellcheck source=../tests/webserver.sh
	. "$srcdir/tests/webserver.sh"
	START=$(date +%s)
}

# stack_watchdog SECONDS — bounds the whole run: after SECONDS the script
# ($$) gets SIGTERM (its TERM trap says why). Sets WD_PID; killing it with
# SIGTERM ends the watchdog quietly.
stack_watchdog() {
	( trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	  sleep "$1" & sp=$!; wait "$sp"; kill -TERM $$ ) 2>/dev/null &
	WD_PID=$!
}

# stack_end_scratch RC KEEP — the end of a run whose exit status is RC:
# when it failed (RC or T_FAILS non-zero), the last 15 lines of every
# non-empty log in $T_DIR (and lighttpd's error log) on stderr; then
# $T_DIR is removed (with $build/tests/tmp if empty) unless KEEP is
# "always", or "failed" and the run failed.
stack_end_scratch() {
	local rc=$1 keep=$2 f failed=
	{ [ "$T_FAILS" -ne 0 ] || [ "$rc" -ne 0 ]; } && failed=1
	if [ -n "$failed" ]; then
		for f in "$T_DIR"/*.log "$T_DIR"/lighttpd/error.log; do
			[ -s "$f" ] || continue
			echo "--- tail of $(basename "$f")" >&2
			tail -n 15 "$f" >&2
		done
	fi
	if [ "$keep" = always ] || { [ "$keep" = failed ] && [ -n "$failed" ]; }; then
		echo "scratch dir kept: $T_DIR"
	else
		rm -rf "$T_DIR"
		rmdir "$build/tests/tmp" 2>/dev/null
	fi
}
