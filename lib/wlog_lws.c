/*
 * wlog_lws — lws log lines into wlog (see wlog_lws.h).
 */
#include "wlog_lws.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>

#include "wlog.h"

/* lws hands over a line ending in a newline; wlog adds its own. */
static void
wlog_lws_emit(int lws_level, const char *line)
{
	enum wlog_level level = WLOG_DEBUG;
	char buf[1024];
	size_t len;

	if (lws_level & LLL_ERR)
		level = WLOG_ERR;
	else if (lws_level & LLL_WARN)
		level = WLOG_WARN;
	else if (lws_level & (LLL_NOTICE | LLL_USER))
		level = WLOG_INFO;
	snprintf(buf, sizeof(buf), "%s", line);
	len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	wlog(level, NULL, NULL, "lws: %s", buf);
}

void
wlog_lws_route(void)
{
	int levels = LLL_ERR | LLL_WARN;

	if (wlog_level_max() >= WLOG_DEBUG)
		levels |= LLL_NOTICE | LLL_INFO | LLL_USER;
	lws_set_log_level(levels, wlog_lws_emit);
}
