# Replays the fcgi_rec fuzz corpus.
FUZZ_NAME=fcgi_rec
. "$top_srcdir/tests/fuzz/replay.sh"
