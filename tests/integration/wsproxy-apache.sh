#!/bin/bash
# wrg-wsproxy integration test through apache's WebSocket forwarding
# (conf/ snippets, started by tests/webserver.sh). Not in TESTS by
# default; add it where the web server suites are run.
WRG_TEST_SERVER=apache
. "${top_srcdir:?}/tests/integration/wsproxy.sh"
