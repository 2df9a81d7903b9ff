#!/bin/bash
# fcgi-metrics.sh through nginx (conf/nginx/wrg.conf.in).
WRG_TEST_SERVER=nginx
. "${top_srcdir:?}/tests/integration/fcgi-metrics.sh"
