#!/bin/bash
# wrg-wsproxy integration test through nginx's WebSocket forwarding, the site
# generated from the shipped snippet (tests/webserver-nginx.sh,
# conf/nginx/wrg.conf.in).
WRG_TEST_SERVER=nginx
. "${top_srcdir:?}/tests/integration/wsproxy.sh"
