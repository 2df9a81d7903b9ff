# Replays the wsproxy_frame fuzz corpus.
FUZZ_NAME=wsproxy_frame
. "$top_srcdir/tests/fuzz/replay.sh"
