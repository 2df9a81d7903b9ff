# scripts/lib-stack.sh — sourced by the scripts that run a wrg stack from
# a build tree without `make check` around them (soak.sh; bench.sh can
# take the same two steps). Once the build is known they set
# top_srcdir/top_builddir and source tests/lib.sh for the rest.

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
