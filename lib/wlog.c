/*
 * wlog — stderr logging with request and runtime context (see wlog.h).
 * One formatted line is written with a single write(2) so lines from
 * concurrent threads never interleave.
 */
#include "wlog.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ids.h"

static char wlog_progname[64] = "wrg";
static enum wlog_level wlog_max = WLOG_INFO;
/* Atomic: wrg-wsproxy may switch it on a reload while a helper thread
 * logs. */
static atomic_int wlog_format = WLOG_TEXT;

static const char *const wlog_names[] = { "error", "warn", "info", "debug" };

void
wlog_init(const char *progname, enum wlog_level max_level)
{
	snprintf(wlog_progname, sizeof(wlog_progname), "%s",
	    progname != NULL ? progname : "wrg");
	wlog_max = max_level;
	atomic_store(&wlog_format, WLOG_TEXT);
}

enum wlog_level
wlog_level_max(void)
{
	return wlog_max;
}

void
wlog_set_format(enum wlog_format format)
{
	atomic_store(&wlog_format, (int)format);
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

/* Copies src into dst for a JSON string: valid UTF-8 passes; control
 * bytes and every byte that is not part of a valid sequence become the
 * text \xNN (as in text lines), so a line stays valid JSON whatever a
 * runtime or browser put in the message. */
static void
wlog_utf8_clean(char *dst, size_t cap, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src), i = 0, o = 0, len;

	while (i < n && o + 5 < cap) {
		len = p[i] < 0x20 || p[i] == 0x7f ? 0 : ids_utf8_len(p + i, n - i);
		if (len == 0) {
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", p[i]);
			i++;
			continue;
		}
		if (o + len >= cap)
			break;
		memcpy(dst + o, p + i, len);
		o += len;
		i += len;
	}
	dst[o] = '\0';
}

static void
wlog_add_string(struct json_object *o, const char *key, const char *val)
{
	char clean[4096];

	wlog_utf8_clean(clean, sizeof(clean), val);
	json_object_object_add(o, key, json_object_new_string(clean));
}

/* One JSON object and a newline into line; returns its length or -1. */
static int
wlog_json_line(char *line, size_t cap, enum wlog_level level,
    const char *request_id, const char *runtime_id, const char *msg)
{
	struct json_object *o = json_object_new_object();
	struct timespec ts;
	struct tm tm;
	char when[40];
	const char *s;
	size_t len;
	int n = -1;

	if (o == NULL)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + len, sizeof(when) - len, ".%03ldZ",
	    ts.tv_nsec / 1000000);
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "level",
	    json_object_new_string(wlog_names[level]));
	wlog_add_string(o, "program", wlog_progname);
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	if (request_id != NULL)
		wlog_add_string(o, "request_id", request_id);
	if (runtime_id != NULL)
		wlog_add_string(o, "runtime_id", runtime_id);
	wlog_add_string(o, "message", msg);
	s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = s != NULL ? strlen(s) : 0;
	/* Each string is cut to 4 KiB before json-c escapes it (at most
	 * doubling it), so a line fits cap; a line that did not would be
	 * dropped rather than written in part. */
	if (s != NULL && len + 2 <= cap) {
		memcpy(line, s, len);
		line[len] = '\n';
		n = (int)len + 1;
	}
	json_object_put(o);
	return n;
}

static int
wlog_text_line(char *line, size_t cap, enum wlog_level level,
    const char *request_id, const char *runtime_id, const char *msg)
{
	char esc[4096];
	int n;

	wlog_escape(esc, sizeof(esc), msg);
	n = snprintf(line, cap, "%s[%ld]: %s%s%s%s%s: %s\n",
	    wlog_progname, (long)getpid(), wlog_names[level],
	    request_id != NULL ? " req=" : "",
	    request_id != NULL ? request_id : "",
	    runtime_id != NULL ? " rt=" : "",
	    runtime_id != NULL ? runtime_id : "", esc);
	if (n < 0)
		return -1;
	if ((size_t)n >= cap) {
		n = (int)cap - 1;
		line[n - 1] = '\n';
	}
	return n;
}

void
wlog(enum wlog_level level, const char *request_id, const char *runtime_id,
    const char *fmt, ...)
{
	char msg[2048], line[16384];
	va_list ap;
	int n;

	if (level > wlog_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (atomic_load(&wlog_format) == WLOG_JSON)
		n = wlog_json_line(line, sizeof(line), level, request_id,
		    runtime_id, msg);
	else
		n = wlog_text_line(line, sizeof(line), level, request_id,
		    runtime_id, msg);
	/* Nothing useful can be done if stderr is gone. */
	if (n <= 0 || write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
