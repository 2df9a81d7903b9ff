/*
 * wlog — stderr logging with request and runtime context (see wlog.h).
 * One formatted line is written with a single write(2) so lines from
 * concurrent threads never interleave.
 */
#include "wlog.h"

#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char wlog_progname[64] = "wrg";
static enum wlog_level wlog_max = WLOG_INFO;

static const char *const wlog_names[] = { "error", "warn", "info", "debug" };

void
wlog_init(const char *progname, enum wlog_level max_level)
{
	snprintf(wlog_progname, sizeof(wlog_progname), "%s",
	    progname ? progname : "wrg");
	wlog_max = max_level;
}

int
wlog_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(wlog_names) / sizeof(wlog_names[0]); i++)
		if (strcmp(s, wlog_names[i]) == 0)
			return (int)i;
	return -1;
}

/* Copies src into dst escaping control bytes, so a value such as a
 * browser-supplied id cannot inject a newline into the log. */
static size_t
wlog_escape(char *dst, size_t cap, const char *src)
{
	size_t o = 0;

	for (; *src && o + 5 < cap; src++) {
		unsigned char c = (unsigned char)*src;

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return o;
}

void
wlog(enum wlog_level level, const char *request_id, const char *runtime_id,
    const char *fmt, ...)
{
	char msg[2048], line[4096];
	char esc[sizeof(msg) * 2];
	va_list ap;
	int n;

	if (level > wlog_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wlog_escape(esc, sizeof(esc), msg);

	n = snprintf(line, sizeof(line), "%s[%ld]: %s%s%s%s%s: %s\n",
	    wlog_progname, (long)getpid(), wlog_names[level],
	    request_id ? " req=" : "", request_id ? request_id : "",
	    runtime_id ? " rt=" : "", runtime_id ? runtime_id : "", esc);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* Nothing useful can be done if stderr is gone. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

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
wlog_route_lws(void)
{
	int levels = LLL_ERR | LLL_WARN;

	if (wlog_max >= WLOG_DEBUG)
		levels |= LLL_NOTICE | LLL_INFO | LLL_USER;
	lws_set_log_level(levels, wlog_lws_emit);
}
