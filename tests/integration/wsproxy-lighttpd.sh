#!/bin/bash
# wrg-wsproxy integration test through lighttpd's WebSocket forwarding
# (conf/lighttpd/wrg-wsproxy.conf).
WRG_TEST_SERVER=lighttpd
. "${top_srcdir:?}/tests/integration/wsproxy.sh"
