# Replays the wsproxy_upgrade fuzz corpus.
FUZZ_NAME=wsproxy_upgrade
. "$top_srcdir/tests/fuzz/replay.sh"
