#!/bin/bash
# wrg-wsproxy integration test, browsers connecting directly.
WRG_TEST_SERVER=none
. "${top_srcdir:?}/tests/integration/wsproxy.sh"
