# Replays the route fuzz corpus.
FUZZ_NAME=route
. "$top_srcdir/tests/fuzz/replay.sh"
