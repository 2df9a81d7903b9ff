# Replays the registry fuzz corpus.
FUZZ_NAME=registry
. "$top_srcdir/tests/fuzz/replay.sh"
