# Sourced by replay-NAME.sh: replays corpus NAME through its fuzz target.
: "${top_srcdir:?}" "${top_builddir:?}"
exec "$top_builddir/tests/fuzz/fuzz_$FUZZ_NAME" "$top_srcdir/tests/fuzz/corpus/$FUZZ_NAME"
