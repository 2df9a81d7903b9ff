#!/bin/bash
# The browser API integration test through nginx (FastCGI to wrg.fcgi), the
# site generated from the shipped snippet (tests/webserver-nginx.sh,
# conf/nginx/wrg.conf.in).
WRG_TEST_SERVER=nginx
. "${top_srcdir:?}/tests/integration/api.sh"
