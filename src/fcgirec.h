/*
 * fcgirec — wrg.fcgi's FastCGI record layer (FastCGI 1.0), without any
 * socket: bytes from a web server go in, complete requests (params and
 * body in memory) and the management replies come out; a response is
 * framed into STDOUT and END_REQUEST records as iovecs over the caller's
 * buffers. The event loop (fcgiloop.c) does the I/O.
 *
 * Why not libfcgi: FCGX_Accept_r binds a thread to a connection until the
 * web server closes it, so kept connections (nginx fastcgi_keep_conn)
 * starve the process (docs/fcgi.md). This is the small piece of the
 * protocol wrg needs, and only that: the RESPONDER role, one request at a
 * time per connection (another request id on a busy connection gets
 * FCGI_CANT_MPX_CONN, as FCGI_MPXS_CONNS=0 announces).
 *
 * Every buffer is capped when the parser is made: params at
 * limits.max_params_bytes (an error past it), the body at
 * limits.max_body_bytes + 1 (bytes past that are dropped and the request
 * is marked truncated, so the handler answers 413 having seen cap + 1
 * bytes), management records at FCGIREC_SMALL_MAX, queued replies at
 * FCGIREC_REPLY_MAX.
 */
#ifndef WRG_FCGIREC_H
#define WRG_FCGIREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define FCGIREC_HEADER_LEN 8
#define FCGIREC_SMALL_MAX 1024		/* BEGIN, GET_VALUES contents */
#define FCGIREC_REPLY_MAX 65536		/* management replies queued */
#define FCGIREC_CHUNK 65528		/* data bytes per STDOUT record */
#define FCGIREC_OUT_IOV 12		/* iovecs fcgirec_out_iov fills */

enum fcgirec_type {
	FCGIREC_BEGIN_REQUEST = 1,
	FCGIREC_ABORT_REQUEST = 2,
	FCGIREC_END_REQUEST = 3,
	FCGIREC_PARAMS = 4,
	FCGIREC_STDIN = 5,
	FCGIREC_STDOUT = 6,
	FCGIREC_STDERR = 7,
	FCGIREC_DATA = 8,
	FCGIREC_GET_VALUES = 9,
	FCGIREC_GET_VALUES_RESULT = 10,
	FCGIREC_UNKNOWN_TYPE = 11
};

/* END_REQUEST protocolStatus values. */
enum fcgirec_status {
	FCGIREC_REQUEST_COMPLETE = 0,
	FCGIREC_CANT_MPX_CONN = 1,
	FCGIREC_OVERLOADED = 2,
	FCGIREC_UNKNOWN_ROLE = 3
};

/* Errors of fcgirec_feed: each means "close this connection". */
enum fcgirec_err {
	FCGIREC_OK = 0,
	FCGIREC_BAD_VERSION,		/* version byte is not 1 */
	FCGIREC_BAD_RECORD,		/* a record the protocol forbids */
	FCGIREC_BAD_PARAMS,		/* malformed name-value pairs */
	FCGIREC_PARAMS_TOO_LARGE,	/* over limits.max_params_bytes */
	FCGIREC_REPLY_FULL		/* peer never reads our replies */
};

struct fcgirec_limits {
	size_t max_params_bytes;	/* raw PARAMS stream of a request */
	size_t max_body_bytes;		/* registry max_request_body_bytes */
	unsigned max_conns;		/* announced as FCGI_MAX_CONNS/REQS */
};

/* A complete request, owned by whoever took it (fcgirec_take). */
struct fcgirec_req {
	uint16_t id;
	bool keep_conn;			/* FCGI_KEEP_CONN was set */
	size_t nparams;
	char **names, **values;		/* NUL-terminated, in strs */
	char *strs;
	char *raw;			/* the PARAMS stream while it arrives */
	size_t raw_len;
	char *body;			/* at most max_body_bytes + 1 bytes */
	size_t body_len, body_alloc;
	bool body_truncated;		/* more came than was kept */
};

enum fcgirec_event_kind {
	FCGIREC_EV_NONE = 0,		/* all bytes taken, nothing to do */
	FCGIREC_EV_REQUEST,		/* a request is complete: take it */
	FCGIREC_EV_ABORT		/* ABORT_REQUEST for our request */
};

struct fcgirec_event {
	enum fcgirec_event_kind kind;
	uint16_t id;
	/* EV_ABORT: true when the request had been taken (the caller
	 * answers with END_REQUEST when its work returns); false when it
	 * was still arriving (dropped here, END_REQUEST already queued). */
	bool taken;
	bool keep_conn;			/* EV_ABORT of an untaken request */
};

struct fcgirec_parser;

/* A parser for one connection, with the caps in *lim (copied). Freed
 * with fcgirec_parser_free (NULL is a no-op). Aborts on OOM (xalloc). */
struct fcgirec_parser *fcgirec_parser_new(const struct fcgirec_limits *lim);
void fcgirec_parser_free(struct fcgirec_parser *p);

/* Feeds len bytes. Stops after the first event: *used is the count of
 * bytes taken (the caller feeds the rest after handling *ev). Returns
 * FCGIREC_OK or an error after which the connection must be closed. */
enum fcgirec_err fcgirec_feed(struct fcgirec_parser *p, const uint8_t *buf,
    size_t len, size_t *used, struct fcgirec_event *ev);

/* After FCGIREC_EV_REQUEST: the request, now the caller's (free it with
 * fcgirec_req_free). The parser counts it as in service until
 * fcgirec_done: meanwhile other request ids are refused. */
struct fcgirec_req *fcgirec_take(struct fcgirec_parser *p);

/* The taken request was answered (its END_REQUEST is queued): the
 * connection may carry the next one. */
void fcgirec_done(struct fcgirec_parser *p);

/* True when no request is arriving or in service and no record is half
 * read: the connection is idle (a kept connection between requests). */
bool fcgirec_idle(const struct fcgirec_parser *p);

/* True while a request's params are still arriving (or a record header
 * is half read with no request yet): the head deadline applies. */
bool fcgirec_in_head(const struct fcgirec_parser *p);

/* Management replies waiting to be sent (whole records): pointer and
 * length, then fcgirec_reply_consume(n) for the bytes written. */
const uint8_t *fcgirec_reply(const struct fcgirec_parser *p, size_t *len);
void fcgirec_reply_consume(struct fcgirec_parser *p, size_t n);

/* Value of param name in r, or NULL. */
const char *fcgirec_req_param(const struct fcgirec_req *r, const char *name);
void fcgirec_req_free(struct fcgirec_req *r);

/* The framing of one response: a STDOUT stream made of up to two
 * borrowed buffers (header block and body, either may be empty), then an
 * empty STDOUT and END_REQUEST(REQUEST_COMPLETE). No copy of the data is
 * made; the buffers must outlive the writing. */
struct fcgirec_out {
	uint16_t id;
	const char *seg[2];
	size_t seg_len[2];
	unsigned cur_seg;		/* 2: the tail; 3: done */
	size_t cur_off;			/* in seg[cur_seg] */
	size_t cur_done;		/* bytes of the current record sent */
	uint8_t hdrs[FCGIREC_OUT_IOV / 3][FCGIREC_HEADER_LEN];
	uint8_t tail[24];
};

void fcgirec_out_init(struct fcgirec_out *o, uint16_t id, const char *a,
    size_t alen, const char *b, size_t blen);

/* Fills iov with the next unwritten bytes (up to FCGIREC_OUT_IOV
 * entries, whole records after the first); returns the entry count, 0
 * when everything was written. */
int fcgirec_out_iov(struct fcgirec_out *o, struct iovec *iov);

/* n bytes of what fcgirec_out_iov offered were written. */
void fcgirec_out_advance(struct fcgirec_out *o, size_t n);

bool fcgirec_out_done(const struct fcgirec_out *o);

const char *fcgirec_strerror(enum fcgirec_err e);

#endif
