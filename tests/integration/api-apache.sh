#!/bin/bash
# The browser API integration test through apache (FastCGI to wrg.fcgi), the
# site generated from the shipped snippet (tests/webserver-apache.sh,
# conf/apache2/wrg.conf.in).
WRG_TEST_SERVER=apache
. "${top_srcdir:?}/tests/integration/api.sh"
