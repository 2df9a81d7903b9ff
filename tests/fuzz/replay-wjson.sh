# Replays the wjson fuzz corpus.
FUZZ_NAME=wjson
. "$top_srcdir/tests/fuzz/replay.sh"
