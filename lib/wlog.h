/*
 * wlog — the one logging facade of wrg. Lines go to stderr (the web
 * server's error log for wrg.fcgi, the journal for wrg-wsproxy), one line
 * per event, prefixed with program, level, and when known the request id
 * and runtime id:
 *
 *   wrg.fcgi[123]: error req=Ab12 rt=build-farm: connect failed: ...
 *
 * or, with the config's "log_format": "json", one JSON object per line
 * (for log shippers):
 *
 *   {"time":"2026-11-30T14:50:01.123Z","level":"error","program":"wrg.fcgi",
 *    "pid":123,"request_id":"Ab12","runtime_id":"build-farm",
 *    "message":"connect failed: ..."}
 *
 * Tokens are never passed here. Upstream URLs may be (operator logs), but
 * nothing logged ever flows back to a browser.
 */
#ifndef WRG_WLOG_H
#define WRG_WLOG_H

enum wlog_level {
	WLOG_ERR = 0,
	WLOG_WARN,
	WLOG_INFO,
	WLOG_DEBUG
};

enum wlog_format {
	WLOG_TEXT = 0,
	WLOG_JSON
};

/* Sets the program name and the most verbose level printed. Thread-safe to
 * call wlog() afterwards from any thread; wlog_init itself is called once
 * from main before threads start (tests may call it again to reset). */
void wlog_init(const char *progname, enum wlog_level max_level);

/* Switches the line format (text until called). Called from main after
 * the config is loaded, before threads start, and on a reload from the
 * one thread that logs then. */
void wlog_set_format(enum wlog_format format);

/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int wlog_level_parse(const char *s);

/* Logs one line. request_id and runtime_id may be NULL. A trailing newline
 * in fmt is not needed; embedded control bytes are escaped so a hostile
 * value cannot forge log lines. */
void wlog(enum wlog_level level, const char *request_id,
    const char *runtime_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The most verbose level printed, as set by wlog_init. */
enum wlog_level wlog_level_max(void);

#endif
