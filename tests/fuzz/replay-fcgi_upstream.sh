# Replays the fcgi_upstream fuzz corpus.
FUZZ_NAME=fcgi_upstream
. "$top_srcdir/tests/fuzz/replay.sh"
