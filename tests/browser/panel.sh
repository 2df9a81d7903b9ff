#!/bin/bash
# tests/browser/panel.sh — the panel in a real browser. Starts the whole
# stack the way the demo does (scripts/stack.sh: two sample runtimes,
# wrg.fcgi, wrg-wsproxy, lighttpd on a free loopback port), then drives
# Debian's chromium with npm playwright-core (panel.test.mjs): runtimes,
# create, input + live echo, history on reopening, stop, a runtime frozen
# (SIGSTOP; --ping-s 2 so wrg-wsproxy notices within ~4 s) and one killed
# and restarted, the no-leak scan of everything the browser saw, and
# screenshots under $top_builddir/tests/browser/artifacts/.
# Skips (77) only when node_modules/playwright-core (npm ci) or
# /usr/bin/chromium is missing.

. "$top_srcdir/tests/lib.sh"

[ -d "$top_srcdir/node_modules/playwright-core" ] ||
	t_skip "node_modules/playwright-core missing (run npm ci)"
[ -x /usr/bin/chromium ] || t_skip "/usr/bin/chromium missing"
command -v node >/dev/null 2>&1 || { echo "node missing"; exit 1; }

port=$(t_free_port)
art="$top_builddir/tests/browser/artifacts"
mkdir -p "$art"
rm -f "$art"/*.png
stack="$T_DIR/stack"

bash "$top_srcdir/scripts/stack.sh" -b "$top_builddir" -d "$stack" \
    -p "$port" --tick-ms 1000 --ping-s 2 --ready-file "$T_DIR/ready" \
    >"$T_DIR/stack.out" 2>&1 &
STACK_PID=$!
t_track "$STACK_PID"

up=0
for i in $(seq 1 300); do
	[ -s "$T_DIR/ready" ] && { up=1; break; }
	kill -0 "$STACK_PID" 2>/dev/null || break
	sleep 0.1
done
t_check "stack.sh starts the stack and writes its ready file" [ "$up" -eq 1 ]
if [ "$up" -ne 1 ]; then
	cat "$T_DIR/stack.out"
	t_done
	exit 1
fi

STACK_ENV="$stack/run/stack.env" ARTIFACTS="$art" \
    timeout 300 node "$top_srcdir/tests/browser/panel.test.mjs" \
    >"$T_DIR/node.out" 2>&1
rc=$?
cat "$T_DIR/node.out"
T_PASSES=$((T_PASSES + $(grep -c '^ok - ' "$T_DIR/node.out")))
T_FAILS=$((T_FAILS + $(grep -c '^not ok - ' "$T_DIR/node.out")))
t_check "browser test ran to its end (exit $rc)" [ "$rc" -eq 0 ]
t_check "screenshots saved" test -s "$art/runtimes.png" -a -s "$art/worker.png"
# stack.sh stops its five daemons one after another, each given up to
# 5 s: under ASan (LeakSanitizer's exit scan) that can take longer than
# t_cleanup's 5 s for stack.sh itself, whose KILL would orphan the
# daemons still to stop. So it is stopped here, with time to finish.
kill -TERM "$STACK_PID" 2>/dev/null
t_check "stack.sh stopped the stack" t_wait_gone "$STACK_PID" 600
stack_daemons_gone() { ! pgrep -f -- "$stack/" >/dev/null; }
t_check "no daemon of the stack left running" stack_daemons_gone
if [ "$T_FAILS" -ne 0 ]; then
	echo "--- stack.out"; cat "$T_DIR/stack.out"
	for f in "$stack"/log/*; do echo "--- $f"; tail -n 40 "$f"; done
fi
t_done
