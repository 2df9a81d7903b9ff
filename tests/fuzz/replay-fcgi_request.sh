# Replays the fcgi_request fuzz corpus.
FUZZ_NAME=fcgi_request
. "$top_srcdir/tests/fuzz/replay.sh"
