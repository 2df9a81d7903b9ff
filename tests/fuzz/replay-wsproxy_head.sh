# Replays the wsproxy_head fuzz corpus.
FUZZ_NAME=wsproxy_head
. "$top_srcdir/tests/fuzz/replay.sh"
