#!/bin/bash
# wrg-wsproxy integration test through apache's WebSocket forwarding
# (conf/ snippets, started by tests/webserver.sh); in TESTS via
# conf/Makefile.inc.
WRG_TEST_SERVER=apache
. "${top_srcdir:?}/tests/integration/wsproxy.sh"
