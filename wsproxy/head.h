/*
 * head — what wrg-wsproxy reads itself from a browser's HTTP request head
 * (request line and field lines), as the header gate (lib/hdrgate.h)
 * passes it, before lws parses it (docs/wsproxy.md, "The request head"):
 *
 *  - the raw request-target. lws percent-decodes the path before any
 *    callback sees it, and lossily: an unescaped '+' becomes a space (as
 *    "%20" does), ';' and '&' split it, "//" and dot-segments fold. The
 *    raw target is routed exactly as wrg.fcgi routes REQUEST_URI, so both
 *    address the same worker for every id;
 *  - the scheme the browser used, as the web server in front forwards it
 *    (X-Forwarded-Proto, else Forwarded: proto=), for the same-origin
 *    rule.
 *
 * Pure functions over a buffer; no I/O, no allocation. Strict on purpose:
 * what a web server in front never sends (obs-fold, a bare CR, a
 * non-origin-form target) is refused; lines may end in LF alone. The lws-specific traps (header
 * names its lexer misreads, too many fields) are lib/hdrscan.h's.
 */
#ifndef WRG_WSPROXY_HEAD_H
#define WRG_WSPROXY_HEAD_H

#include <stdbool.h>
#include <stddef.h>

/* The largest head accepted (request line and all fields). Browsers send
 * a few KiB; cookies can add more. Bigger: 431. */
#define HEAD_MAX (16 * 1024)

enum head_err {
	HEAD_OK = 0,
	HEAD_INCOMPLETE,	/* no empty line yet: read more */
	HEAD_TOO_LARGE,		/* over HEAD_MAX */
	HEAD_MALFORMED		/* request line or a field line */
};

struct head {
	size_t len;		/* bytes of the head, up to the empty line */
	const char *target;	/* raw request-target, in the buffer */
	size_t target_len;
	size_t path_len;	/* target bytes before '?' */
	/* The scheme the browser used, as the web server in front says
	 * (X-Forwarded-Proto, else Forwarded: proto=): "http", "https",
	 * or "" when no such field was sent. */
	char proto[6];
};

/* Parses the head at buf[0..len). HEAD_INCOMPLETE while no empty line
 * was seen within HEAD_MAX bytes. On HEAD_OK, *out points into buf. */
enum head_err head_parse(const char *buf, size_t len, struct head *out);

#endif
