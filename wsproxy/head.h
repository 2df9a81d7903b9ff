/*
 * head — a browser's HTTP request head (request line and field lines),
 * read by wrg-wsproxy before libwebsockets parses it (see
 * docs/wsproxy.md, "The request head"). Two lws 4.1 behaviours make that
 * necessary:
 *
 *  - lws percent-decodes the path before any callback sees it, and lossily:
 *    an unescaped '+' becomes a space (as "%20" does), ';' and '&' split
 *    it, "//" and dot-segments fold. The raw request-target kept here is
 *    routed exactly as wrg.fcgi routes REQUEST_URI, so both address the
 *    same worker for every id.
 *  - lws' header lexer drops every field after one whose name is a proper
 *    prefix of a name it knows ("Ho", "Authorizatio", "X-A"): the upgrade
 *    then fails or hangs. Such a head is refused here with a clear 400.
 *
 * Pure functions over a buffer; no I/O, no allocation. Strict on purpose:
 * what lws would misread, or what a web server in front never sends
 * (obs-fold, bare CR or LF, a non-origin-form target), is refused.
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
	HEAD_TOO_LARGE,		/* over HEAD_MAX: 431 */
	HEAD_MALFORMED,		/* request line or a field line: 400 */
	HEAD_FIELD_NAME	/* a field name lws would misparse: 400 */
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

/* A name lws knows (from lws_token_to_string), lower case, without the
 * ':' or ' ' that ends it in lws' table. */
struct head_names {
	const char *const *names;
	size_t count;
};

/* Parses the head at buf[0..len). HEAD_INCOMPLETE while no empty line
 * was seen within HEAD_MAX bytes. On HEAD_OK, *out points into buf. A
 * field whose name is a proper prefix of one of known->names (case
 * insensitive) and not itself one of them is HEAD_FIELD_NAME; known may
 * be NULL (no such check). */
enum head_err head_parse(const char *buf, size_t len,
    const struct head_names *known, struct head *out);

/* The HTTP status for an error (400 or 431), and a short reason. */
unsigned head_http_status(enum head_err e);
const char *head_strerror(enum head_err e);

#endif
