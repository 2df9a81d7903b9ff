#!/bin/bash
# wrg-wsproxy integration test through apache's WebSocket forwarding, the site
# generated from the shipped snippet (tests/webserver-apache.sh,
# conf/apache2/wrg.conf.in).
WRG_TEST_SERVER=apache
. "${top_srcdir:?}/tests/integration/wsproxy.sh"
