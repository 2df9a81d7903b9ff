#!/bin/bash
# fcgi-metrics.sh through Apache (conf/apache2/wrg.conf.in).
WRG_TEST_SERVER=apache
. "${top_srcdir:?}/tests/integration/fcgi-metrics.sh"
