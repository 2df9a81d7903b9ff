# Replays the hdrscan fuzz corpus.
FUZZ_NAME=hdrscan
. "$top_srcdir/tests/fuzz/replay.sh"
