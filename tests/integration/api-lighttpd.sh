#!/bin/bash
# tests/integration/api-lighttpd.sh — the browser API suite (api.sh)
# through lighttpd (mod_fastcgi to wrg.fcgi on a Unix socket).
WRG_TEST_SERVER=lighttpd
. "$top_srcdir/tests/integration/api.sh"
