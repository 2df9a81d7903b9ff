#!/bin/bash
# wrg-wsproxy integration test through nginx's WebSocket forwarding
# (conf/ snippets, started by tests/webserver.sh); in TESTS via
# conf/Makefile.inc.
WRG_TEST_SERVER=nginx
. "${top_srcdir:?}/tests/integration/wsproxy.sh"
